//! Validation of the staged files with the real tools before any live file changes
//! (reliability.md G2.1): `postconf -c STAGE -n` must add no warning to those the current files
//! already give, and `opendkim -n` must accept the staged opendkim.conf with its tables. A tool that
//! is not installed is skipped.

use std::path::Path;

use crate::error::{Error, Result};
use crate::opendkim::OpendkimConf;
use crate::plan::Plan;
use crate::services::command;
use crate::system::{self, Root};

const POSTCONF: &str = "/usr/sbin/postconf";
const OPENDKIM: &str = "/usr/sbin/opendkim";

/// Validate what the plan would write. `stage` is an empty private directory.
pub fn staged(root: &Root, plan: &Plan, stage: &Path) -> Result<()> {
    let after = |p: &str| {
        plan.files
            .iter()
            .find(|f| f.path == Path::new(p))
            .map(|f| f.after.clone())
    };
    let read = |p: &str| std::fs::read_to_string(root.path(p)).ok();
    if Path::new(POSTCONF).exists()
        && (after(system::MAIN_CF).is_some() || after(system::MASTER_CF).is_some())
    {
        let now = warnings(&root.path("/etc/postfix"))?;
        for name in [system::MAIN_CF, system::MASTER_CF] {
            let text = after(name).or_else(|| read(name)).unwrap_or_default();
            let file = stage.join(Path::new(name).file_name().unwrap_or_default());
            std::fs::write(&file, text).map_err(|e| Error::io("stage", &file, e))?;
        }
        let new = crate::postfix::warnings::added(&now, &warnings(stage)?);
        if !new.is_empty() {
            return Err(Error::Validation {
                what: "main.cf/master.cf",
                tool: "postconf -n".into(),
                output: new.join("\n"),
            });
        }
    }
    if Path::new(OPENDKIM).exists() && root.is_host() {
        opendkim_check(root, plan, stage)?;
    }
    Ok(())
}

/// `postconf -c DIR -n` warnings, with the directory name removed so that runs compare.
pub(crate) fn warnings(dir: &Path) -> Result<Vec<String>> {
    let mut c = command(POSTCONF);
    c.arg("-c").arg(dir).arg("-n");
    let out = c.output().map_err(|e| Error::io("run", POSTCONF, e))?;
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

/// `opendkim -n` on the staged opendkim.conf whose table paths point at staged copies.
fn opendkim_check(root: &Root, plan: &Plan, stage: &Path) -> Result<()> {
    let text_of = |p: &str| {
        plan.files
            .iter()
            .find(|f| f.path == Path::new(p))
            .map(|f| f.after.clone())
            .or_else(|| std::fs::read_to_string(root.path(p)).ok())
    };
    let Some(conf_text) = text_of(system::OPENDKIM_CONF) else {
        return Ok(());
    };
    let mut conf = OpendkimConf::parse(&conf_text);
    for (key, table) in [
        ("KeyTable", system::KEY_TABLE),
        ("SigningTable", system::SIGNING_TABLE),
        ("InternalHosts", system::TRUSTED_HOSTS),
        ("ExternalIgnoreList", system::TRUSTED_HOSTS),
    ] {
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
        let staged = stage.join(Path::new(table).file_name().unwrap_or_default());
        std::fs::write(&staged, text_of(table).unwrap_or_default())
            .map_err(|e| Error::io("stage", &staged, e))?;
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
    let file = stage.join("opendkim.conf");
    std::fs::write(&file, conf.to_string()).map_err(|e| Error::io("stage", &file, e))?;
    let mut c = command(OPENDKIM);
    c.arg("-n").arg("-x").arg(&file);
    let out = c.output().map_err(|e| Error::io("run", OPENDKIM, e))?;
    if !out.status.success() {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        return Err(Error::Validation {
            what: "opendkim.conf",
            tool: "opendkim -n".into(),
            output: text.trim().to_string(),
        });
    }
    Ok(())
}
