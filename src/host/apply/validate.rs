//! Validation of the staged files with the real tools before any live file changes
//! (reliability.md G2.1): `postconf -c STAGE -n` must add no warning to those the current files
//! already give, `opendkim -n` must accept the staged opendkim.conf with its tables, and
//! `opendmarc -n` (opendmarc(8): test the configuration and exit) the staged opendmarc.conf. A tool that
//! is not installed is skipped. The copies are written into the run's own directory in the
//! state directory (`validate-<stamp>`), which the journal lists and the run removes.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::fence::{Dir, Fence};
use super::state::PRIVATE_FILE;
use crate::error::{Error, Result};
use crate::host::services::command;
use crate::host::system;
use crate::opendkim::OpendkimConf;

const POSTCONF: &str = "/usr/sbin/postconf";
const OPENDKIM: &str = "/usr/sbin/opendkim";
const OPENDMARC: &str = "/usr/sbin/opendmarc";

/// Validate the files a run writes (`texts`, by system path). `stage` is an empty private
/// directory. Errors: [`Error::Validation`] with the tool's complaint; I/O errors.
pub fn staged(
    fence: &Fence,
    texts: &BTreeMap<PathBuf, Zeroizing<Vec<u8>>>,
    stage: &Dir,
) -> Result<()> {
    let text_of = |p: &str| -> Result<Option<Vec<u8>>> {
        if let Some(t) = texts.get(Path::new(p)) {
            return Ok(Some(t.to_vec()));
        }
        Ok(fence.read(Path::new(p))?.map(|(b, _)| b))
    };
    let root = fence.root();
    let touches = |p: &str| texts.contains_key(Path::new(p));
    if Path::new(POSTCONF).exists() && (touches(system::MAIN_CF) || touches(system::MASTER_CF)) {
        // the live pair and the staged pair, each in a directory of its own, both backdated:
        // postconf reads a file changed within the last second again and again for about
        // 1.5 s (waiting for a writer to finish), and warns again each time
        let live = stage.mkdir(OsStr::new("live"), super::state::PRIVATE_DIR)?;
        for name in [system::MAIN_CF, system::MASTER_CF] {
            let file = Path::new(name).file_name().unwrap_or_default();
            let now = fence
                .read(Path::new(name))?
                .map(|(b, _)| b)
                .unwrap_or_default();
            live.create(file, PRIVATE_FILE, &now)?;
            live.backdate(file)?;
            stage.create(file, PRIVATE_FILE, &text_of(name)?.unwrap_or_default())?;
            stage.backdate(file)?;
        }
        let now = warnings(&fence.real(live.path()))?;
        let real = fence.real(stage.path());
        let new = crate::postfix::warnings::added(&now, &warnings(&real)?);
        if !new.is_empty() {
            return Err(Error::Validation {
                what: "main.cf/master.cf",
                tool: "postconf -n".into(),
                output: new.join("\n"),
            });
        }
    }
    let opendkim_files = [
        system::OPENDKIM_CONF,
        system::KEY_TABLE,
        system::SIGNING_TABLE,
        system::TRUSTED_HOSTS,
    ];
    if Path::new(OPENDKIM).exists() && root.is_host() && opendkim_files.iter().any(|f| touches(f)) {
        opendkim_check(
            fence,
            stage,
            &text_of,
            system::OPENDKIM_CONF,
            &FIRST_TABLES,
            "opendkim.conf",
        )?;
    }
    // the second (Ed25519) instance: its own configuration and tables, in a directory of
    // their own (the tables have the first instance's names)
    let ed25519_files = [
        system::ED25519_CONF,
        system::ED25519_KEY_TABLE,
        system::ED25519_SIGNING_TABLE,
        system::TRUSTED_HOSTS,
    ];
    if Path::new(OPENDKIM).exists() && root.is_host() && ed25519_files.iter().any(|f| touches(f)) {
        let dir = stage.mkdir(OsStr::new("ed25519"), super::state::PRIVATE_DIR)?;
        let what = "opendkim-ed25519.conf";
        opendkim_check(
            fence,
            &dir,
            &text_of,
            system::ED25519_CONF,
            &ED25519_TABLES,
            what,
        )?;
    }
    if Path::new(OPENDMARC).exists() && root.is_host() && touches(system::OPENDMARC_CONF) {
        let text = text_of(system::OPENDMARC_CONF)?.unwrap_or_default();
        stage.create(OsStr::new("opendmarc.conf"), PRIVATE_FILE, &text)?;
        let mut c = command(OPENDMARC);
        c.arg("-n")
            .arg("-c")
            .arg(fence.real(stage.path()).join("opendmarc.conf"));
        run_validator(c, OPENDMARC, "opendmarc.conf")?;
    }
    Ok(())
}

/// Runs a daemon's own configuration test (`opendkim -n`, `opendmarc -n`) on a staged file.
/// Errors: [`Error::Validation`] with the tool's output when it exits non-zero; `Error::Io`
/// when it cannot be run.
fn run_validator(mut c: std::process::Command, program: &str, what: &'static str) -> Result<()> {
    let out = crate::host::services::output(&mut c).map_err(|e| Error::io("run", program, e))?;
    if out.status.success() {
        return Ok(());
    }
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let name = Path::new(program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Err(Error::Validation {
        what,
        tool: format!("{name} -n"),
        output: text.trim().to_string(),
    })
}

/// `postconf -c DIR -n` warnings, with the directory name removed so that runs compare.
pub(crate) fn warnings(dir: &Path) -> Result<Vec<String>> {
    let mut c = command(POSTCONF);
    c.arg("-c").arg(dir).arg("-n");
    let out = crate::host::services::output(&mut c).map_err(|e| Error::io("run", POSTCONF, e))?;
    let stderr = String::from_utf8_lossy(&out.stderr).replace(&dir.display().to_string(), "DIR");
    let mut lines: Vec<String> = stderr
        .lines()
        .filter(|l| l.contains("warning:") || l.contains("fatal:"))
        .map(str::to_string)
        .collect();
    lines.sort();
    lines.dedup();
    if !out.status.success() && lines.is_empty() {
        lines.push(format!("postconf exited with {}", out.status));
    }
    Ok(lines)
}

/// The first OpenDKIM instance's tables, by the option that names each.
const FIRST_TABLES: [(&str, &str); 4] = [
    ("KeyTable", system::KEY_TABLE),
    ("SigningTable", system::SIGNING_TABLE),
    ("InternalHosts", system::TRUSTED_HOSTS),
    ("ExternalIgnoreList", system::TRUSTED_HOSTS),
];

/// The second (Ed25519) instance's tables, by the option that names each.
const ED25519_TABLES: [(&str, &str); 4] = [
    ("KeyTable", system::ED25519_KEY_TABLE),
    ("SigningTable", system::ED25519_SIGNING_TABLE),
    ("InternalHosts", system::TRUSTED_HOSTS),
    ("ExternalIgnoreList", system::TRUSTED_HOSTS),
];

/// `opendkim -n` on the staged configuration `conf_path` whose `tables` point at staged
/// copies in `stage`; `what` names it in the error.
fn opendkim_check(
    fence: &Fence,
    stage: &Dir,
    text_of: &dyn Fn(&str) -> Result<Option<Vec<u8>>>,
    conf_path: &str,
    tables: &[(&str, &str)],
    what: &'static str,
) -> Result<()> {
    let Some(conf_text) = text_of(conf_path)? else {
        return Ok(());
    };
    let real = fence.real(stage.path());
    let mut conf = OpendkimConf::parse(&String::from_utf8_lossy(&conf_text));
    for &(key, table) in tables {
        let Some(value) = conf.get(key).map(str::to_string) else {
            continue;
        };
        let (prefix, path) = value
            .split_once(':')
            .filter(|(p, _)| !p.starts_with('/'))
            .unwrap_or(("", value.as_str()));
        if path != table {
            continue;
        }
        let file = Path::new(table).file_name().unwrap_or_default();
        if stage.stat(file)?.is_none() {
            stage.create(file, PRIVATE_FILE, &text_of(table)?.unwrap_or_default())?;
        }
        let staged = real.join(file);
        let v = if prefix.is_empty() {
            staged.display().to_string()
        } else {
            format!("{prefix}:{}", staged.display())
        };
        conf.set(key, &v).map_err(|e| Error::Invalid {
            what: "staged opendkim.conf".into(),
            reason: e.to_string(),
        })?;
    }
    stage.create(
        OsStr::new("opendkim.conf"),
        PRIVATE_FILE,
        conf.to_string().as_bytes(),
    )?;
    let mut c = command(OPENDKIM);
    c.arg("-n").arg("-x").arg(real.join("opendkim.conf"));
    run_validator(c, OPENDKIM, what)
}
