//! `check --state FILE [--mail-to ADDRESS]`, the I/O of watching over time: read the state
//! the last run stored, print what changed ([`crate::check::changes`] computes it), mail it
//! through sendmail(1) when something did, and store this report, atomically.
//!
//! Order: print, mail, store. A mail that fails stops the run (exit 2) before the state is
//! stored, so the next run reports the same changes again rather than losing them.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

use crate::check::changes::{self, Changes, Mail, Seen};
use crate::check::{Report, report, requirements};
use crate::cli::{CheckArgs, Cli};
use crate::error::{Error, Result};
use crate::host::apply::record::{mail_date, utc_stamp};
use crate::values::Domain;

/// A `check --state` run between its start (the options checked, the stored state read,
/// before any check runs) and its [`finish`].
pub(super) struct Stored {
    path: PathBuf,
    before: Option<changes::State>,
}

/// With `--state`, the stored state (None: the baseline run); checked before the checks
/// run, so a bad option costs no DNS round. Errors: `--mail-to` is not one address; the
/// state file cannot be read or is not one.
pub(super) fn start(args: &CheckArgs) -> Result<Option<Stored>> {
    let Some(path) = &args.state else {
        return Ok(None);
    };
    if let Some(to) = &args.mail_to {
        changes::mail_to_ok(to).map_err(|rule| Error::Invalid {
            what: format!("--mail-to {to:?}"),
            reason: rule.to_string(),
        })?;
    }
    let before = read(path)?;
    Ok(Some(Stored {
        path: path.clone(),
        before,
    }))
}

/// Compare `report` with the stored state, say and mail the changes, store the report.
/// Ok(exit code): 1 when something new is an error ([`Changes::exit_code`]), else 0.
/// Errors: sendmail cannot run or fails; the state cannot be written.
pub(super) fn finish(
    stored: Stored,
    report: &Report,
    requirements: &requirements::Verdict,
    host: &Domain,
    cli: &Cli,
    args: &CheckArgs,
) -> Result<u8> {
    let Stored { path, before } = stored;
    let path = path.as_path();
    let now: Vec<Seen> = report.findings.iter().map(Seen::from).collect();
    let changes = changes::diff(
        before.as_ref().map_or(&[][..], |s| &s.report.findings),
        &now,
    );
    let since = before.as_ref().map(|s| s.time.as_str());
    let text = changes.to_text(since, &report::summary(report));
    let report_json = report::to_json_with(report, requirements);
    if args.json {
        jsonln!(json(&changes, since, &report_json));
    } else {
        say!("{text}");
    }
    let time = SystemTime::now();
    if let (Some(to), false) = (&args.mail_to, changes.is_empty()) {
        let token = format!("{}.{}", utc_stamp(time), std::process::id());
        let date = mail_date(time);
        let mail = Mail {
            to,
            host: host.as_str(),
            date: &date,
            token: &token,
        };
        let message = changes::mail(&mail, &changes, before.is_none(), &text);
        if cli.dry_run {
            notln!("(dry run: nothing mailed to {to}; without --dry-run the changes go to it)");
        } else {
            sendmail(&args.sendmail, &message)?;
            notln!("mailed the changes to {to}");
        }
    }
    let state = changes::state_text(&mail_date(time), host.as_str(), &report_json)
        .map_err(|e| Error::io("compose", path, std::io::Error::other(e)))?;
    if cli.dry_run {
        notln!("(dry run: {} not written)", path.display());
    } else {
        crate::host::operator_file::replace(
            path,
            state.as_bytes(),
            0o600,
            "write the check state",
        )?;
    }
    Ok(changes.exit_code())
}

/// `check --state --json`: `{"baseline":bool,"since":date|null,"new":[…],"cleared":[…],
/// "changed":[…],"report":<check --json>}`.
fn json(changes: &Changes, since: Option<&str>, report_json: &str) -> serde_json::Value {
    let mut out = serde_json::json!({
        "baseline": since.is_none(),
        "since": since,
    });
    if let (Some(map), Ok(serde_json::Value::Object(c))) =
        (out.as_object_mut(), serde_json::to_value(changes))
    {
        map.extend(c);
        let report = serde_json::from_str(report_json).unwrap_or(serde_json::Value::Null);
        map.insert("report".into(), report);
    }
    out
}

/// The stored state, None when `path` does not exist (the baseline run). Errors: it cannot
/// be read, or is not a state file.
fn read(path: &Path) -> Result<Option<changes::State>> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read the check state", path, e)),
    };
    changes::parse_state(&text)
        .map(Some)
        .map_err(|reason| Error::Invalid {
            what: format!("--state {}", path.display()),
            reason: format!(
                "is not a state file of `mailsetup check --state` ({reason})\n  fix: name \
                 another file, or remove this one: the next run then starts a new baseline"
            ),
        })
}

/// Hand `message` to `sendmail -oi -t` (recipients from `To:`; a lone `.` line is no end).
/// Errors: it cannot start, or exits with a failure (its stderr in the message).
fn sendmail(program: &Path, message: &str) -> Result<()> {
    let command = format!("{} -oi -t", program.display());
    traceln!("run: {command}");
    let failed = |status: String, output: String| Error::Command {
        command: command.clone(),
        status,
        output,
    };
    let mut child = Command::new(program)
        .args(["-oi", "-t"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            failed(
                format!("did not start: {e}"),
                "  fix: install Postfix (its sendmail(1) is /usr/sbin/sendmail), or name the \
                 program with --sendmail PATH; the state was not stored, so the next run \
                 reports these changes again"
                    .into(),
            )
        })?;
    let wrote = child
        .stdin
        .take()
        .map(|mut stdin| stdin.write_all(message.as_bytes()));
    let out = child
        .wait_with_output()
        .map_err(|e| failed(format!("did not finish: {e}"), String::new()))?;
    if !out.status.success() || matches!(wrote, Some(Err(_))) {
        let mut output = String::from_utf8_lossy(&out.stderr).trim_end().to_string();
        output.push_str("\n  the state was not stored: the next run reports these changes again");
        return Err(failed(out.status.to_string(), output));
    }
    Ok(())
}
