//! `check --state FILE`: what changed between the report stored by the last run and this
//! one, as values. A finding is known by its id and subject ([`Seen::key`]); its message may
//! change from run to run (a certificate's days left) without it counting as a change. The
//! state file ([`State`]), the text of the changes ([`Changes::to_text`]) and the message
//! mailed about them ([`mail`]) are built here; reading, writing and sending are the
//! caller's (`src/commands/check_state.rs`).
//!
//! Changes: `new` (a finding not there before), `cleared` (gone since), `changed` (the same
//! id and subject at another severity). A key may be found more than once in one report;
//! then the findings are paired in order, same message first, and the rest are new or
//! cleared.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::{Finding, Severity};
use crate::dns::sanitize;

/// The state file's `version`; a file with another is refused (never misread).
pub const STATE_VERSION: u32 = 1;

/// One finding as stored and compared: [`Finding`] with an owned id (a stored file may
/// come from another mailsetup). JSON: the finding's shape in `check --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    pub id: String,
    pub severity: Severity,
    pub subject: String,
    pub message: String,
    #[serde(default)]
    pub found: Option<String>,
    #[serde(default)]
    pub expected: Option<String>,
    #[serde(default)]
    pub fix: Option<String>,
}

impl Seen {
    /// What identifies a finding across runs: (id, subject).
    pub fn key(&self) -> (&str, &str) {
        (&self.id, &self.subject)
    }
}

impl From<&Finding> for Seen {
    fn from(f: &Finding) -> Seen {
        Seen {
            id: f.id.to_string(),
            severity: f.severity,
            subject: f.subject.clone(),
            message: f.message.clone(),
            found: f.found.clone(),
            expected: f.expected.clone(),
            fix: f.fix.clone(),
        }
    }
}

/// A finding found again at another severity: `was` before, `finding.severity` now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Changed {
    pub was: Severity,
    #[serde(flatten)]
    pub finding: Seen,
}

/// What changed since the last run. JSON (in `check --state F --json`):
/// `{"new":[finding],"cleared":[finding],"changed":[finding + "was"]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Changes {
    pub new: Vec<Seen>,
    pub cleared: Vec<Seen>,
    pub changed: Vec<Changed>,
}

/// The changes from `before` to `now`, each list in the order of the report it comes from
/// (`new` and `changed`: `now`'s; `cleared`: `before`'s).
pub fn diff(before: &[Seen], now: &[Seen]) -> Changes {
    let mut left: Vec<Option<&Seen>> = before.iter().map(Some).collect();
    let mut pair: Vec<Option<&Seen>> = vec![None; now.len()];
    // same key and message first, then same key: a repeated key pairs with its own message
    for exact in [true, false] {
        for (i, n) in now.iter().enumerate() {
            if pair[i].is_some() {
                continue;
            }
            let hit = left.iter_mut().find(|b| {
                b.is_some_and(|b| b.key() == n.key() && (!exact || b.message == n.message))
            });
            if let Some(slot) = hit {
                pair[i] = slot.take();
            }
        }
    }
    let mut changes = Changes::default();
    for (n, b) in now.iter().zip(pair) {
        match b {
            None => changes.new.push(n.clone()),
            Some(b) if b.severity != n.severity => changes.changed.push(Changed {
                was: b.severity,
                finding: n.clone(),
            }),
            Some(_) => {}
        }
    }
    changes.cleared = left.into_iter().flatten().cloned().collect();
    changes
}

impl Changes {
    /// Nothing new, cleared or changed.
    pub fn is_empty(&self) -> bool {
        self.new.is_empty() && self.cleared.is_empty() && self.changed.is_empty()
    }

    /// A new finding is an error, or a finding became one: the run's exit code is 1.
    pub fn new_error(&self) -> bool {
        self.new.iter().any(|f| f.severity == Severity::Error)
            || self
                .changed
                .iter()
                .any(|c| c.finding.severity == Severity::Error)
    }

    /// `check --state`'s exit code: 1 on a [`Changes::new_error`], else 0.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.new_error())
    }

    /// `2 new, 1 cleared`, and `, 1 changed` when a severity changed: the mail's subject.
    pub fn headline(&self) -> String {
        let mut out = format!("{} new, {} cleared", self.new.len(), self.cleared.len());
        if !self.changed.is_empty() {
            let _ = write!(out, ", {} changed", self.changed.len());
        }
        out
    }

    /// The changes for people, ending with a newline: a first line (the baseline, no
    /// change, or the [`Changes::headline`] since `since`), then `new:` (each finding with
    /// its found/expected/fix lines, as the report shows them), `cleared:` and `severity
    /// changed:` (one line each), then `now: <summary>` (the report's summary line).
    /// Every DNS-derived field is sanitized. `since`: when the state was stored (RFC 5322
    /// date); `None` on the baseline run (no state yet).
    pub fn to_text(&self, since: Option<&str>, summary: &str) -> String {
        let mut out = match since {
            None => "baseline: no earlier state; this report is stored for the next run to \
                     compare with\n"
                .to_string(),
            Some(since) if self.is_empty() => format!("no change since the last check ({since})\n"),
            Some(since) => format!("{} since the last check ({since})\n", self.headline()),
        };
        if !self.new.is_empty() {
            out.push_str("new:\n");
            for f in &self.new {
                line(&mut out, &severity(f.severity), f);
                for (label, value) in [
                    ("found:", &f.found),
                    ("expected:", &f.expected),
                    ("fix:", &f.fix),
                ] {
                    for (i, text) in value.iter().flat_map(|v| v.split('\n')).enumerate() {
                        let label = if i == 0 { label } else { "" };
                        let _ = writeln!(out, "    {label:<9} {}", sanitize(text));
                    }
                }
            }
        }
        if !self.cleared.is_empty() {
            out.push_str("cleared:\n");
            for f in &self.cleared {
                line(&mut out, &severity(f.severity), f);
            }
        }
        if !self.changed.is_empty() {
            out.push_str("severity changed:\n");
            for c in &self.changed {
                let was = format!("{} (was {})", severity(c.finding.severity), severity(c.was));
                line(&mut out, &was, &c.finding);
            }
        }
        let _ = writeln!(out, "now: {summary}");
        out
    }
}

/// `  <severity> <id>: <message> [<subject>]`: the subject is said when the message does
/// not name it (two findings of one id differ by it).
fn line(out: &mut String, severity: &str, f: &Seen) {
    let subject = if f.message.contains(&f.subject) {
        String::new()
    } else {
        format!(" [{}]", sanitize(&f.subject))
    };
    let _ = writeln!(
        out,
        "  {severity} {}: {}{subject}",
        sanitize(&f.id),
        sanitize(&f.message)
    );
}

fn severity(s: Severity) -> String {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
    .to_string()
}

/// The state file (JSON, written by `check --state FILE`): `{"version":1,"time":"<RFC 5322
/// date>","host":"<hostname>","report":<the report as check --json prints it>}`. Reading
/// needs only `version`, `time` and `report.findings`; other fields are kept for people.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct State {
    pub version: u32,
    pub time: String,
    pub report: StoredReport,
}

/// The part of a stored report that is compared.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StoredReport {
    pub findings: Vec<Seen>,
}

/// Parse a state file. Errors: not JSON of [`State`]'s shape, or another `version`
/// (the reason, for a message naming the file).
pub fn parse_state(text: &str) -> Result<State, String> {
    let state: State = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if state.version != STATE_VERSION {
        return Err(format!(
            "version {} (this mailsetup reads version {STATE_VERSION})",
            state.version
        ));
    }
    Ok(state)
}

/// The state file's text for a report whose `check --json` text is `report_json`, stored
/// at `time` (RFC 5322 date) for `host`. Errors: `report_json` is not JSON (the reason).
pub fn state_text(time: &str, host: &str, report_json: &str) -> Result<String, String> {
    let report: serde_json::Value = serde_json::from_str(report_json).map_err(|e| e.to_string())?;
    let state = serde_json::json!({
        "version": STATE_VERSION,
        "time": time,
        "host": host,
        "report": report,
    });
    Ok(format!("{state}\n"))
}

/// What is mailed about changes (RFC 5322 §3.6, LF line ends for sendmail(1)):
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail<'a> {
    /// `To:`, as the user gave it (`root`, `admin@example.org`).
    pub to: &'a str,
    /// The mail server the check is about (the answers' hostname): in `Subject:`, and
    /// `From: mailsetup <root@host>`.
    pub host: &'a str,
    /// RFC 5322 §3.3 date.
    pub date: &'a str,
    /// Unique to this run; the `Message-ID` is `<mailsetup-check.TOKEN@host>`.
    pub token: &'a str,
}

/// The message about `changes`: `Subject: mailsetup check: <headline> on <host>` (with
/// `baseline, ` before the headline on the baseline run), the body `text` (from
/// [`Changes::to_text`]) and a line saying how to see the whole report. UTF-8, 8bit.
pub fn mail(m: &Mail<'_>, changes: &Changes, baseline: bool, text: &str) -> String {
    let what = if baseline { "baseline, " } else { "" };
    let mut out = String::new();
    for (name, value) in [
        ("From", format!("mailsetup <root@{}>", m.host)),
        ("To", m.to.to_string()),
        (
            "Subject",
            format!(
                "mailsetup check: {what}{} on {}",
                changes.headline(),
                m.host
            ),
        ),
        ("Date", m.date.to_string()),
        (
            "Message-ID",
            format!("<mailsetup-check.{}@{}>", m.token, m.host),
        ),
        ("MIME-Version", "1.0".into()),
        ("Content-Type", "text/plain; charset=utf-8".into()),
        ("Content-Transfer-Encoding", "8bit".into()),
        ("Auto-Submitted", "auto-generated".into()),
    ] {
        let _ = writeln!(out, "{name}: {value}");
    }
    out.push('\n');
    out.push_str(text);
    let _ = write!(
        out,
        "\n-- \nmailsetup check --state on {}; `mailsetup check` there shows the whole report.\n",
        m.host
    );
    out
}

/// Whether `to` can go in `To:` as given: `local` or `local@domain`, printable ASCII
/// without spaces, quotes, brackets, commas or semicolons (one recipient, no header
/// injection). Errors: the rule broken.
pub fn mail_to_ok(to: &str) -> Result<(), &'static str> {
    if to.is_empty() {
        return Err("is empty");
    }
    if !to.chars().all(|c| c.is_ascii_graphic()) {
        return Err("must be printable ASCII without spaces (one address: local or local@domain)");
    }
    if to.contains([',', ';', '<', '>', '(', ')', '"', '\\', '[', ']', ':']) {
        return Err("must be one plain address (local or local@domain), no name or list");
    }
    if to.matches('@').count() > 1 || to.starts_with('@') || to.ends_with('@') {
        return Err("must be local or local@domain");
    }
    Ok(())
}

#[cfg(test)]
#[path = "changes_tests.rs"]
mod tests;
