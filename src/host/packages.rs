//! What is on the system before anything is set up (the wizard's first screen): the
//! distribution, the packages mailsetup needs and which are missing, what main.cf and
//! opendkim.conf already say, the keys that exist; and installing the missing packages with
//! `apt-get` (on the host only; beneath a test root the command is reported).

use std::path::Path;

use crate::host::system::{self, Root};
use crate::wizard::Scan;

/// What is on the system now.
pub fn scan(root: &Root) -> Scan {
    let read = |p: &str| std::fs::read_to_string(root.path(p)).ok();
    let distribution = read("/etc/os-release")
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix("PRETTY_NAME=")
                    .map(|v| v.trim_matches('"').to_string())
            })
        })
        .unwrap_or_else(|| "unknown distribution".into());
    let mut found = Vec::new();
    if let Some(text) = read(system::MAIN_CF) {
        let cf = crate::postfix::MainCf::parse(&text);
        for p in [
            "myhostname",
            "inet_protocols",
            "smtpd_milters",
            "non_smtpd_milters",
        ] {
            if let Some(v) = cf.get(p) {
                found.push((format!("main.cf {p}"), v));
            }
        }
    }
    if let Some(text) = read(system::OPENDKIM_CONF) {
        let conf = crate::opendkim::OpendkimConf::parse(&text);
        for o in [
            "Socket",
            "KeyTable",
            "SigningTable",
            "Domain",
            "Selector",
            "KeyFile",
        ] {
            if let Some(v) = conf.get(o) {
                found.push((format!("opendkim.conf {o}"), v.to_string()));
            }
        }
    }
    Scan {
        distribution,
        is_root: nix::unistd::geteuid().is_root(),
        missing_packages: missing_packages(root),
        found,
        keys: keys(&root.path(system::KEYS_DIR)),
        amavis: root.path(crate::amavis::CONF_D).is_dir(),
        hostname: read("/etc/mailname")
            .or_else(|| read("/etc/hostname"))
            .map(|h| h.trim().to_string())
            .filter(|h| h.contains('.')),
        ipv4: root.is_host().then(system::detect_public_ipv4).flatten(),
        ipv6: None,
        provider_guess: None,
    }
}

/// postfix, opendkim, opendkim-tools: from dpkg's status file when there is one, else
/// from their configuration files.
fn missing_packages(root: &Root) -> Vec<String> {
    let wanted = ["postfix", "opendkim", "opendkim-tools"];
    if let Ok(status) = std::fs::read_to_string(root.path("/var/lib/dpkg/status")) {
        return wanted
            .iter()
            .filter(|p| {
                !status.split("\n\n").any(|stanza| {
                    stanza.lines().any(|l| l == format!("Package: {p}"))
                        && stanza.lines().any(|l| l == "Status: install ok installed")
                })
            })
            .map(|p| p.to_string())
            .collect();
    }
    let mut missing = Vec::new();
    if !root.path(system::MAIN_CF).exists() {
        missing.push("postfix".to_string());
    }
    if !root.path(system::OPENDKIM_CONF).exists() {
        missing.push("opendkim".to_string());
    }
    missing
}

/// `*.private` files one level below the keys directory.
fn keys(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "private"))
        .filter_map(|p| {
            p.strip_prefix(dir)
                .ok()
                .map(|rel| format!("{}/{}", system::KEYS_DIR, rel.display()))
        })
        .collect();
    out.sort();
    out
}

pub fn install(root: &Root, packages: &[String]) -> Result<String, String> {
    let command = format!("apt-get install -y {}", packages.join(" "));
    if !root.is_host() {
        return Ok(format!("--root is not /: would run {command}"));
    }
    let mut c = crate::host::services::command("/usr/bin/apt-get");
    c.args(["install", "-y"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(std::process::Stdio::null());
    let out =
        crate::host::services::output(&mut c).map_err(|e| format!("cannot run {command}: {e}"))?;
    if out.status.success() {
        Ok(format!("installed {}", packages.join(" ")))
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        Err(format!(
            "{command} failed: {}",
            err.lines().last().unwrap_or("")
        ))
    }
}
