//! `mailsetup demo --yes` through the real binary: every check passes against the demo's own
//! DNS, in under 30 s, the host's /etc and /var/lib are as they were, and the sandbox is
//! removed (or, with `--keep DIR`, left there and named). The host's options are refused.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Every path beneath `dir` (symbolic links not followed) → (size, mtime in ns); an
/// unreadable directory is a leaf.
fn fingerprint(dir: &Path, out: &mut BTreeMap<PathBuf, (u64, i128)>) {
    let Ok(meta) = std::fs::symlink_metadata(dir) else {
        return;
    };
    out.insert(
        dir.to_path_buf(),
        (
            meta.size(),
            i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
        ),
    );
    if !meta.is_dir() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        fingerprint(&e.path(), out);
    }
}

fn host() -> BTreeMap<PathBuf, (u64, i128)> {
    let mut out = BTreeMap::new();
    fingerprint(Path::new("/etc"), &mut out);
    fingerprint(Path::new("/var/lib"), &mut out);
    out
}

struct Demo {
    code: i32,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// `mailsetup demo ARGS` with its temporary directory in `tmp`, no terminal.
fn demo(args: &[&str], tmp: &Path) -> Demo {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_mailsetup"))
        .arg("demo")
        .args(args)
        .env("NO_COLOR", "1")
        .env("TMPDIR", tmp)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Demo {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
        took: start.elapsed(),
    }
}

/// The check lines of the report (`  ✓ dkim     example.org`).
fn check_lines(stdout: &str) -> Vec<&str> {
    let report = stdout
        .split("── check (as `mailsetup check`) ──\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no check section:\n{stdout}"));
    report
        .lines()
        // the check lines, not the notes (the snake-oil certificate's `info tls.snakeoil`)
        .filter(|l| l.starts_with("  ") && !l.starts_with("   ") && !l.starts_with("  info "))
        .collect()
}

#[test]
fn yes_passes_every_check_and_leaves_the_host_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let before = host();
    let run = demo(&["--yes"], tmp.path());
    let after = host();
    assert_eq!(run.code, 0, "{}\n--- stderr\n{}", run.stdout, run.stderr);
    assert!(run.took < Duration::from_secs(30), "took {:?}", run.took);
    let lines = check_lines(&run.stdout);
    // the local checks, the hostname's and both domains' DNS checks
    assert!(lines.len() >= 16, "{lines:?}");
    for l in &lines {
        assert!(
            l.starts_with("  ✓ "),
            "a check that does not pass: {l}\n{}",
            run.stdout
        );
    }
    // the demo keeps Debian's snake-oil certificate: a note with the certbot command
    assert!(
        run.stdout.contains("checks passed, no problems (1 note)."),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("info tls.snakeoil"), "{}", run.stdout);
    assert!(run.stdout.contains("\ndemo: every check passes ("));
    assert!(
        run.stdout.contains("(not done: --root is not /)"),
        "services are only reported"
    );
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "the sandbox is removed at exit"
    );
    let changed: Vec<_> = before
        .iter()
        .filter(|(p, v)| after.get(*p) != Some(v))
        .map(|(p, _)| p)
        .chain(after.keys().filter(|p| !before.contains_key(*p)))
        .collect();
    assert!(changed.is_empty(), "the host changed: {changed:?}");
}

#[test]
fn keep_leaves_the_tree_and_says_how_to_look_at_it() {
    let tmp = tempfile::tempdir().unwrap();
    let keep = tmp.path().join("kept");
    let run = demo(&["--yes", "--keep", keep.to_str().unwrap()], tmp.path());
    assert_eq!(run.code, 0, "{}\n--- stderr\n{}", run.stdout, run.stderr);
    assert!(
        keep.join("etc/opendkim/keys/example.org/mail.private")
            .is_file()
    );
    assert!(keep.join("demo-zones/example.org.zone").is_file());
    let plan = format!(
        "mailsetup --root {} --answers {}/etc/mailsetup/answers.toml plan",
        keep.display(),
        keep.display()
    );
    assert!(run.stdout.contains(&plan), "{}", run.stdout);
    // the kept tree is what apply made: nothing pending
    let out = Command::new(env!("CARGO_BIN_EXE_mailsetup"))
        .args(plan.split(' ').skip(1))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // a second run into the same directory is refused, and writes nothing
    let again = demo(&["--yes", "--keep", keep.to_str().unwrap()], tmp.path());
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("is not empty"), "{}", again.stderr);
}

#[test]
fn the_host_options_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let run = demo(&["--yes", "--answers", "/nonexistent.toml"], tmp.path());
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("mailsetup demo --answers: the demo makes its own tree"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

/// Without a terminal (a script, the README's first line in CI) the demo runs as `--yes`.
#[test]
fn without_a_terminal_the_demo_runs_without_a_screen() {
    let tmp = tempfile::tempdir().unwrap();
    let run = demo(&[], tmp.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("running it without a screen (--yes)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("demo: every check passes"),
        "{}",
        run.stdout
    );
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

/// `mailsetup demo` in tmux at 80x24: every step applied, `p` on the records publishes
/// them (the second nameserver a few seconds later), Verify turns green, the summary says
/// the services are only reported, and quitting removes the sandbox.
#[test]
fn the_wizard_walks_to_a_green_verify() {
    use crate::support::tmux::{self, Tmux};
    const WAIT: u64 = 60;
    if !tmux::available() {
        eprintln!("tmux is not installed: skipped");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let t = Tmux::start(
        "env",
        &[
            format!("TMPDIR={}", tmp.path().display()),
            env!("CARGO_BIN_EXE_mailsetup").into(),
            "demo".into(),
        ],
    );
    let first = t.wait_for("Debian GNU/Linux 12", WAIT);
    assert!(first.contains("step 0/12: Scan (demo)"), "{first}");
    assert!(first.contains("Demo: a demo sandbox in"), "{first}");
    assert!(first.contains("Nothing"), "{first}");
    t.send(&["Enter"]);
    t.wait_for("step 1/12", WAIT);
    t.send(&["Enter"]);
    for n in 2..=6 {
        t.wait_for(&format!("step {n}/12"), WAIT);
        t.wait_for("n skip", WAIT);
        t.send(&["y"]);
        t.wait_for("done, the files now match", WAIT);
        t.send(&["Enter"]);
    }
    t.wait_for("step 7/12: Inbound SPF", WAIT);
    t.wait_for("already done: the files match", WAIT);
    t.send(&["Enter"]);
    t.wait_for("step 8/12: Inbound DMARC", WAIT);
    t.wait_for("already done", WAIT);
    t.send(&["Enter"]);
    // TLS: Debian's snake-oil certificate kept (the plan's note says how to get a real one)
    t.wait_for("step 9/12: TLS", WAIT);
    t.wait_for("n skip", WAIT);
    t.send(&["y"]);
    t.wait_for("done, the files now match", WAIT);
    t.send(&["Enter"]);
    t.wait_for("step 10/12: DNS records", WAIT);
    t.wait_for("$ORIGIN example.org.", WAIT);
    t.send(&["p"]);
    t.wait_for("published (serial 2)", WAIT);
    t.send(&["Enter"]);
    t.wait_for("step 11/12: Verify", WAIT);
    let green = t.wait_for("21 of 21 checks passed", WAIT);
    assert!(green.contains("✓ dkim example.net"), "{green}");
    t.send(&["Enter"]);
    t.wait_for("step 12/12: Summary", WAIT);
    // The services' lines come after the summary's first frame ("restarting the services…").
    let summary = t.wait_for("(not done: --root is not /)", WAIT);
    assert!(summary.contains("step 12/12: Summary"), "{summary}");
    t.wait_for("selftest: would hand a test message", WAIT);
    t.send(&["Enter"]);
    assert_eq!(t.exit_code(WAIT), 0);
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "the sandbox is removed at exit"
    );
}

/// Run by a user other than root (here `nobody`, through setpriv, when the tests run as
/// root): the sandbox's opendkim is that user, and every check passes all the same.
#[test]
fn a_user_other_than_root_passes_too() {
    use std::os::unix::fs::PermissionsExt;
    let setpriv = Path::new("/usr/bin/setpriv");
    if !nix::unistd::geteuid().is_root() || !setpriv.exists() {
        eprintln!("not root or no setpriv: skipped");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    // a copy nobody may run (the target directory may be closed to it)
    let bin = tmp.path().join("mailsetup");
    std::fs::copy(env!("CARGO_BIN_EXE_mailsetup"), &bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new(setpriv)
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&bin)
        .args(["demo", "--yes"])
        .env("NO_COLOR", "1")
        .env("TMPDIR", tmp.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("not root: the sandbox's opendkim and postfix users are you"));
    for l in check_lines(&stdout) {
        assert!(l.starts_with("  ✓ "), "{l}\n{stdout}");
    }
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n != "mailsetup")
        .collect();
    assert!(left.is_empty(), "the sandbox is removed at exit: {left:?}");
}
