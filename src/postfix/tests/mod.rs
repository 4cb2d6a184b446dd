//! Tests of the main.cf / master.cf editors: exact edits, round trips, properties, and the real
//! `postconf` reading back what was written.
#![allow(clippy::unwrap_used)]

mod list;
mod main_cf;
mod master_cf;
mod postconf;
mod props;
mod strategies;
mod warnings;

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

/// Stock Debian 12 main.cf (postfix 3.7.11, "Internet Site", hostname `vm`).
pub(super) const STOCK_MAIN: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/debian12/etc/postfix/main.cf"
));

/// Stock Debian 12 master.cf (= master.cf.proto).
pub(super) const STOCK_MASTER: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/debian12/etc/postfix/master.cf"
));

const POSTCONF: &str = "/usr/sbin/postconf";

/// What one `postconf` run printed.
pub(super) struct Output {
    pub stdout: String,
    pub stderr: String,
}

/// Runs the real `postconf -c DIR args…` (LC_ALL=C) on a directory holding `main` as main.cf and
/// `master` as master.cf. `None`, with a note, when postconf is not installed. Panics if
/// postconf fails.
pub(super) fn postconf(main: &str, master: &str, args: &[&str]) -> Option<Output> {
    run_postconf(main, master, args, true)
}

/// [`postconf`] on files just written, as apply's staged copies are: postconf reads a file
/// modified within the last second again and again (every 300 ms, `dict_load_file_xt()`), so
/// this takes about 1.5 s and repeats its warnings.
pub(super) fn postconf_fresh(main: &str, master: &str, args: &[&str]) -> Option<Output> {
    run_postconf(main, master, args, false)
}

fn run_postconf(main: &str, master: &str, args: &[&str], backdate: bool) -> Option<Output> {
    if !Path::new(POSTCONF).exists() {
        eprintln!("note: {POSTCONF} is not installed; skipping the postconf check");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    // Postfix waits (300 ms at a time) for a file modified within the last second to settle
    // (`dict_load_file_xt()`), so date the files in the past unless told otherwise.
    let past = SystemTime::now() - Duration::from_secs(60);
    for (name, text) in [("main.cf", main), ("master.cf", master)] {
        let file = std::fs::File::create(dir.path().join(name)).unwrap();
        (&file).write_all(text.as_bytes()).unwrap();
        if backdate {
            file.set_modified(past).unwrap();
        }
    }
    let out = Command::new(POSTCONF)
        .env("LC_ALL", "C")
        .arg("-c")
        .arg(dir.path().canonicalize().unwrap())
        .args(args)
        .output()
        .unwrap();
    let output = Output {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        out.status.success(),
        "postconf {args:?} failed: {}\nmain.cf:\n{main}\nmaster.cf:\n{master}",
        output.stderr
    );
    Some(output)
}
