//! The transaction under a hostile world, through the real binary on Debian 12 trees: a
//! SIGKILL at every file-system change of `apply` and of `rollback`, an injected ENOSPC and
//! EIO at every change, a real full disk (a small tmpfs in a private mount namespace), a
//! symlink or a second hard link at every managed file and every directory on the way, two
//! applies at once, a broken pipe, SIGINT/SIGTERM/SIGHUP in the middle of the commit, and
//! `--dry-run` of every command. After each, and the next command, the tree holds the
//! original set of files or the final one as a whole, with no temporary names, no staging
//! directories, no journal, no extra hard links, and every owner and mode right.
//!
//! The failpoints (`MAILSETUP_FAILPOINT`, src/host/apply/failpoint.rs) are compiled in for the
//! tests only (the `failpoints` feature, turned on by the dev-dependency on this crate).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::support::{self, ANSWERS, Tree};

/// What every file of a tree must share with another set-up from the same answers: path →
/// (content, mode, uid, gid), without mailsetup's state, backups, saved answers, and with the
/// keys' bytes left out (keys are random).
type Comparable = BTreeMap<PathBuf, (String, u32, u32, u32)>;

fn comparable(tree: &Tree) -> Comparable {
    tree.snapshot_comparable()
}

/// The original tree and the final one (after a clean apply), computed once.
fn references() -> &'static (Comparable, Comparable) {
    static REFS: OnceLock<(Comparable, Comparable)> = OnceLock::new();
    REFS.get_or_init(|| {
        let tree = Tree::debian12_fast();
        let original = comparable(&tree);
        tree.run(&["apply", "--yes", "--answers", ANSWERS])
            .expect_code(0);
        (original, comparable(&tree))
    })
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Which {
    Original,
    Final,
}

/// Is the tree all-original or all-final? Panics (with `context`) when it is neither, or
/// when it is not clean ([`assert_clean`]).
fn which(tree: &Tree, context: &str) -> Which {
    let (original, fin) = references();
    let now = comparable(tree);
    assert_clean(tree, context);
    let backups = backups(tree);
    if &now == original {
        assert!(
            backups.is_empty(),
            "{context}: original files, but backups left: {backups:?}"
        );
        Which::Original
    } else if &now == fin {
        Which::Final
    } else {
        let diff: Vec<String> = now
            .iter()
            .filter(|(p, v)| original.get(*p) != Some(v) && fin.get(*p) != Some(v))
            .map(|(p, v)| format!("{} {v:?}", p.display()))
            .chain(
                fin.keys()
                    .filter(|p| !now.contains_key(*p))
                    .map(|p| format!("{} missing", p.display())),
            )
            .collect();
        panic!(
            "{context}: the tree is neither the original nor the final set; paths that match \
             neither:\n{}",
            diff.join("\n")
        );
    }
}

/// The backups beside the managed files (`NAME.mailsetup-STAMP`).
fn backups(tree: &Tree) -> Vec<PathBuf> {
    all_entries(tree.root())
        .into_iter()
        .filter(|(p, _)| {
            let name = p.file_name().unwrap().to_string_lossy();
            !name.starts_with('.') && name.contains(".mailsetup-") && !p.starts_with("var/lib")
        })
        .map(|(p, _)| p)
        .collect()
}

fn all_entries(root: &Path) -> Vec<(PathBuf, fs::Metadata)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap().flatten() {
            let md = fs::symlink_metadata(e.path()).unwrap();
            if md.is_dir() {
                stack.push(e.path());
            }
            out.push((e.path().strip_prefix(root).unwrap().to_path_buf(), md));
        }
    }
    out
}

/// No temporary, staged or aside names; no journal, validation copy or half-made state
/// directory; no regular file with a second hard link.
fn assert_clean(tree: &Tree, context: &str) {
    for (path, md) in all_entries(tree.root()) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let hidden_ours = name.starts_with('.') && name.contains("mailsetup");
        assert!(!hidden_ours, "{context}: left behind: {}", path.display());
        assert!(
            !(path.starts_with("var/lib/mailsetup")
                && (name == "journal.json"
                    || name.starts_with("validate-")
                    || name.ends_with(".tmp"))),
            "{context}: left behind: {}",
            path.display()
        );
        if md.is_file() {
            assert_eq!(
                md.nlink(),
                1,
                "{context}: {} has {} hard links",
                path.display(),
                md.nlink()
            );
        }
    }
    // the parents mailsetup may create are 0755, its own directory 0700
    for (dir, mode) in [
        ("var", 0o755),
        ("var/lib", 0o755),
        ("var/lib/mailsetup", 0o700),
    ] {
        if let Ok(md) = fs::symlink_metadata(tree.root().join(dir)) {
            assert_eq!(md.mode() & 0o7777, mode, "{context}: {dir}");
        }
    }
}

/// The number of file-system changes a run of `args` makes on a tree like `tree`.
fn points(tree: &Tree, args: &[&str]) -> usize {
    let log = tree.root().join("../").join(format!(
        "points-{}.log",
        tree.root().file_name().unwrap().to_string_lossy()
    ));
    let probe = tree.copy();
    let run = probe.run_env(args, &[("MAILSETUP_FAILPOINT_LOG", log.to_str().unwrap())]);
    assert!(run.code == 0, "the counting run failed:\n{}", run.stderr);
    let n = fs::read_to_string(&log).unwrap().lines().count();
    let _ = fs::remove_file(&log);
    n
}

/// The number of the first change of kind `op` (`link`, `rename`, …) a run of `args` makes
/// on a copy of `tree`.
fn first_point(tree: &Tree, args: &[&str], op: &str) -> usize {
    let log = tree.root().parent().unwrap().join(format!(
        "first-{}.log",
        tree.root().file_name().unwrap().to_string_lossy()
    ));
    let probe = tree.copy();
    probe
        .run_env(args, &[("MAILSETUP_FAILPOINT_LOG", log.to_str().unwrap())])
        .expect_code(0);
    let lines = fs::read_to_string(&log).unwrap();
    let _ = fs::remove_file(&log);
    lines
        .lines()
        .find(|l| l.split(' ').nth(1) == Some(op))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap()
}

const APPLY: &[&str] = &["apply", "--yes", "--answers", ANSWERS];
const NEXT: &[&str] = &["records", "--answers", ANSWERS];

#[test]
fn a_kill_at_any_change_of_apply_leaves_all_or_nothing_after_the_next_command() {
    let stock = Tree::debian12_fast();
    let n = points(&stock, APPLY);
    assert!(n > 50, "an apply makes many changes ({n})");
    let (mut original, mut fin) = (0, 0);
    for at in 1..=n {
        let tree = stock.copy();
        let spec = format!("{at}:kill");
        let run = tree.run_env(APPLY, &[("MAILSETUP_FAILPOINT", &spec)]);
        assert_eq!(
            run.signal,
            Some(9),
            "change {at} of {n} was reached:\n{}",
            run.stderr
        );
        let journal = tree.path("/var/lib/mailsetup/journal.json").exists();
        // the next command, whatever it is, recovers first and says so
        let next = tree.run(NEXT);
        next.expect_code(0);
        assert_eq!(
            next.stderr
                .contains("an interrupted run was found: `apply`"),
            journal,
            "change {at}: {}",
            next.stderr
        );
        match which(&tree, &format!("killed at change {at} of {n}")) {
            Which::Original => original += 1,
            Which::Final => fin += 1,
        }
        if at % 10 == 0 {
            // and the tree works on: apply reaches the final set, rollback the original
            tree.run(APPLY).expect_code(0);
            assert_eq!(which(&tree, "apply after recovery"), Which::Final);
            tree.run(&["rollback", "--yes"]).expect_code(0);
            assert_eq!(which(&tree, "rollback after recovery"), Which::Original);
        }
    }
    eprintln!(
        "apply killed at each of its {n} changes: {original} recovered to the original set, \
         {fin} to the final set, 0 neither"
    );
}

#[test]
fn a_kill_at_any_change_of_rollback_leaves_all_or_nothing_after_the_next_command() {
    let applied = Tree::debian12_fast();
    applied.run(APPLY).expect_code(0);
    let n = points(&applied, &["rollback", "--yes"]);
    let (mut original, mut fin) = (0, 0);
    for at in 1..=n {
        let tree = applied.copy();
        let spec = format!("{at}:kill");
        let run = tree.run_env(&["rollback", "--yes"], &[("MAILSETUP_FAILPOINT", &spec)]);
        assert_eq!(run.signal, Some(9), "change {at} of {n}:\n{}", run.stderr);
        tree.run(NEXT).expect_code(0);
        match which(&tree, &format!("rollback killed at change {at} of {n}")) {
            Which::Original => original += 1,
            Which::Final => fin += 1,
        }
        // one more rollback always ends at the original set
        tree.run(&["rollback", "--yes"]).expect_code(0);
        assert_eq!(which(&tree, "rollback after recovery"), Which::Original);
    }
    eprintln!(
        "rollback killed at each of its {n} changes: {original} recovered to the original \
         set, {fin} to the applied set, 0 neither"
    );
}

#[test]
fn an_error_at_any_change_undoes_the_whole_run() {
    let stock = Tree::debian12_fast();
    let n = points(&stock, APPLY);
    let (mut undone, mut finished) = (0, 0);
    for errno in ["enospc", "eio"] {
        for at in 1..=n {
            let tree = stock.copy();
            let spec = format!("{at}:{errno}");
            let run = tree.run_env(APPLY, &[("MAILSETUP_FAILPOINT", &spec)]);
            let context = format!("{errno} at change {at} of {n}");
            assert!(
                !run.stderr.contains("panicked"),
                "{context}: {}",
                run.stderr
            );
            let said = if errno == "enospc" {
                "No space left on device"
            } else {
                "Input/output error"
            };
            if run.code == 2 {
                assert!(run.stderr.contains(said), "{context}: {}", run.stderr);
            } else {
                // only a failure in the last clean-up of a run that succeeded
                run.expect_code(0);
            }
            tree.run(NEXT).expect_code(0);
            let w = which(&tree, &context);
            assert!(
                w == Which::Original || run.code == 0 || run.stderr.contains("finish"),
                "{context}: a failed run must leave the original files"
            );
            match w {
                Which::Original => undone += 1,
                Which::Final => finished += 1,
            }
        }
    }
    eprintln!(
        "ENOSPC and EIO at each of the {n} changes of apply: {undone} runs undone whole, \
         {finished} that had succeeded and failed only while finishing (finished by the next \
         command), 0 neither"
    );
}

/// A real full disk: the tree on a tmpfs just too small, in a private mount namespace (root
/// only; skipped with the reason where mount is not permitted).
#[test]
fn a_full_disk_at_any_size_leaves_all_or_nothing() {
    let probe = std::process::Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c"])
        .arg("mount -t tmpfs -o size=64k tmpfs /mnt && umount /mnt")
        .output();
    match probe {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            eprintln!(
                "skipped: cannot mount a tmpfs in a private mount namespace here: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return;
        }
        Err(e) => {
            eprintln!("skipped: unshare is not available: {e}");
            return;
        }
    }
    let stock = Tree::debian12_fast();
    // tmpfs counts whole pages: from the stock tree's size up to well past the final one
    let (mut refused, mut applied) = (0, 0);
    for kib in (48..=256).step_by(8) {
        let out_tree = Tree::debian12_fast();
        let script = format!(
            "set -e; d=$(mktemp -d); mount -t tmpfs -o size={kib}k tmpfs \"$d\"; \
             cp -a '{stock}/.' \"$d/\"; \
             '{bin}' --root \"$d\" apply --yes --answers '{answers}' > \"$d.out\" 2> \"$d.err\" \
               && echo applied || echo \"refused $?\"; \
             '{bin}' --root \"$d\" records --answers '{answers}' > /dev/null 2>> \"$d.err\" || true; \
             rm -rf '{out}'/*; cp -a \"$d/.\" '{out}/'; cat \"$d.err\" >&2; umount \"$d\"; \
             rm -f \"$d.out\" \"$d.err\"; rmdir \"$d\"",
            stock = stock.root().display(),
            bin = env!("CARGO_BIN_EXE_mailsetup"),
            answers = ANSWERS,
            out = out_tree.root().display(),
        );
        let out = std::process::Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c", &script])
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        let err = String::from_utf8_lossy(&out.stderr);
        let context = format!("a {kib} KiB disk");
        if said.contains("copy failed") || !out.status.success() {
            continue; // too small even for the stock tree
        }
        assert!(!err.contains("panicked"), "{context}: {err}");
        match which(&out_tree, &context) {
            Which::Original => {
                assert!(said.contains("refused 2"), "{context}: {said} {err}");
                assert!(err.contains("No space left on device"), "{context}: {err}");
                refused += 1;
            }
            Which::Final => applied += 1,
        }
    }
    assert!(
        refused > 0 && applied > 0,
        "sizes on both sides ({refused} refused, {applied} applied)"
    );
    eprintln!("full disk: {refused} sizes refused with every file as it was, {applied} applied");
}

/// Every managed file and every directory on the way, replaced by a symlink to a copy
/// outside the tree: refused before any write, nothing written inside or outside.
#[test]
fn a_symlink_anywhere_on_the_way_is_refused_and_nothing_is_written_anywhere() {
    let dirs = [
        "/etc",
        "/etc/postfix",
        "/etc/default",
        "/etc/opendkim",
        "/etc/opendkim/keys",
        "/etc/opendkim/keys/example.org",
        "/var",
        "/var/lib",
        "/var/lib/mailsetup",
        "/var/spool",
        "/var/spool/postfix",
        "/var/spool/postfix/opendkim",
    ];
    let files = [
        "/etc/postfix/main.cf",
        "/etc/postfix/master.cf",
        "/etc/opendkim.conf",
        "/etc/default/opendkim",
        "/etc/group",
        "/etc/passwd",
        "/etc/opendkim/KeyTable",
        "/etc/opendkim/SigningTable",
        "/etc/opendkim/TrustedHosts",
        "/etc/opendkim/keys/example.org/mail.private",
    ];
    let mut cases = 0;
    for target in dirs.iter().chain(files.iter()) {
        let tree = Tree::debian12_fast();
        let outside = tempfile::tempdir_in(support::fast_base()).unwrap();
        let path = tree.path(target);
        // the thing the link points to: the original moved outside, or an empty one
        let moved = outside.path().join("target");
        if path.exists() {
            fs::rename(&path, &moved).unwrap();
        } else if dirs.contains(target) {
            fs::create_dir_all(&moved).unwrap();
        } else {
            fs::write(&moved, "").unwrap();
        }
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&moved, &path).unwrap();
        assert_refused(&tree, outside.path(), target, "symbolic link");
        cases += 1;
    }
    eprintln!("symlink matrix: {cases} paths, 0 writes inside or outside the tree");
}

/// Every managed file that exists, given a second hard link to a file outside the tree (the
/// /etc/shadow case): refused, and the other file keeps its bytes, owner and mode.
#[test]
fn a_second_hard_link_at_a_managed_file_is_refused_and_the_other_file_is_untouched() {
    let mut cases = 0;
    for target in [
        "/etc/postfix/main.cf",
        "/etc/opendkim.conf",
        "/etc/default/opendkim",
        "/etc/group",
        "/etc/opendkim/keys/example.org/mail.private",
    ] {
        let tree = Tree::debian12_fast();
        let outside = tempfile::tempdir_in(support::fast_base()).unwrap();
        let shadow = outside.path().join("shadow");
        if target.ends_with(".private") {
            let key =
                mailsetup::keys::PrivateKey::generate(mailsetup::values::KeyBits::B1024).unwrap();
            tree.write(target, key.pem());
            // 0640: the plan wants to fix its owner and mode, which must not reach `shadow`
            fs::set_permissions(
                tree.path(target),
                std::os::unix::fs::PermissionsExt::from_mode(0o640),
            )
            .unwrap();
        }
        fs::hard_link(tree.path(target), &shadow).unwrap();
        assert_refused(&tree, outside.path(), target, "hard links");
        cases += 1;
    }
    eprintln!("hard-link matrix: {cases} files refused, 0 changed outside the tree");
}

/// `apply` on `tree` is refused (exit 2, the error saying `said`, about `target`), and
/// nothing changed inside the tree or in `outside` (every fingerprint, ctime included).
fn assert_refused(tree: &Tree, outside: &Path, target: &str, said: &str) {
    let inside = tree.snapshot();
    let outside_before = snapshot_with_times(outside);
    let run = tree.run(APPLY);
    run.expect_code(2);
    assert!(run.stderr.contains(said), "{target}: {}", run.stderr);
    assert_eq!(tree.snapshot(), inside, "{target}: written inside the tree");
    assert_eq!(
        snapshot_with_times(outside),
        outside_before,
        "{target}: written outside the tree"
    );
}

/// Bytes, mode, uid, gid, inode, links, mtime and ctime (ns) of an entry.
type Fingerprint = (Vec<u8>, u32, u32, u32, u64, u64, i64, i64);

/// Path → [`Fingerprint`] of every entry beneath `dir`.
fn snapshot_with_times(dir: &Path) -> BTreeMap<PathBuf, Fingerprint> {
    all_entries(dir)
        .into_iter()
        .map(|(p, md)| {
            let bytes = if md.is_file() {
                fs::read(dir.join(&p)).unwrap()
            } else {
                Vec::new()
            };
            let fp = (
                bytes,
                md.mode(),
                md.uid(),
                md.gid(),
                md.ino(),
                md.nlink(),
                md.mtime_nsec() + md.mtime() * 1_000_000_000,
                md.ctime_nsec() + md.ctime() * 1_000_000_000,
            );
            (p, fp)
        })
        .collect()
}

/// `--dry-run` is a contract of every command: on a stock tree and on an applied one, the
/// fingerprint of every entry (bytes, mode, owner, inode, links, mtime, ctime) is unchanged.
#[test]
fn dry_run_writes_nothing_whatever_the_command() {
    let stock = Tree::debian12_fast();
    let applied = Tree::debian12_fast();
    applied.run(APPLY).expect_code(0);
    let commands: [&[&str]; 13] = [
        &["plan", "--answers", ANSWERS],
        &["plan", "--json", "--answers", ANSWERS],
        &["apply", "--yes", "--answers", ANSWERS],
        &["apply", "--yes", "--json", "--answers", ANSWERS],
        &["records", "--json", "--answers", ANSWERS],
        &["check", "example.org", "--nameserver", "127.0.0.1:9"],
        &["records", "--answers", ANSWERS],
        &["check", "--answers", ANSWERS, "--nameserver", "127.0.0.1:9"],
        &[
            "fix",
            "milter.not-configured",
            "--yes",
            "--answers",
            ANSWERS,
            "--nameserver",
            "127.0.0.1:9",
        ],
        &[
            "selftest",
            "--answers",
            ANSWERS,
            "--nameserver",
            "127.0.0.1:9",
        ],
        &["rollback", "--yes"],
        &["rollback", "--yes", "--force"],
        &["--answers", ANSWERS],
    ];
    for tree in [&stock, &applied] {
        for args in commands {
            let before = snapshot_with_times(tree.root());
            let mut with: Vec<&str> = vec!["--dry-run"];
            with.extend_from_slice(args);
            let run = tree.run(&with);
            // 3: check and fix could not verify (no DNS at 127.0.0.1:9)
            assert!([0, 1, 2, 3].contains(&run.code), "{args:?}: {}", run.stderr);
            assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
            assert_eq!(
                snapshot_with_times(tree.root()),
                before,
                "--dry-run {args:?} changed the tree:\n{}\n{}",
                run.stdout,
                run.stderr
            );
        }
    }
    eprintln!(
        "--dry-run: {} commands on a stock and an applied tree, 0 entries changed (bytes, \
         mode, owner, inode, links, mtime, ctime)",
        commands.len()
    );
    // and the rollback a dry run describes is not carried out
    let run = applied.run(&["--dry-run", "rollback", "--yes"]);
    run.expect_code(1);
    assert!(
        run.stdout.contains("dry run: nothing was changed"),
        "{}",
        run.stdout
    );
    assert!(
        applied
            .path("/etc/opendkim/keys/example.org/mail.private")
            .exists()
    );
}

/// Two applies started together: one runs, the other is refused naming it (or, when it
/// starts after the first ended, finds nothing to do); never a half-made state directory.
#[test]
fn two_applies_at_once_one_runs_and_the_other_names_it() {
    let mut refused = 0;
    for round in 0..20 {
        let tree = Tree::debian12_fast();
        let spawn = || {
            std::process::Command::new(env!("CARGO_BIN_EXE_mailsetup"))
                .arg("--root")
                .arg(tree.root())
                .args(APPLY)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
        let codes: Vec<i32> = outs.iter().map(|o| o.status.code().unwrap_or(-1)).collect();
        for (o, code) in outs.iter().zip(&codes) {
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(
                *code == 0 || (*code == 2 && err.contains("another mailsetup (pid ")),
                "round {round}: exit {code}: {err}"
            );
            if *code == 2 {
                assert!(err.contains(") is running since "), "round {round}: {err}");
                refused += 1;
            }
        }
        assert!(codes.contains(&0), "round {round}: one of them ran");
        assert_eq!(which(&tree, &format!("round {round}")), Which::Final);
    }
    eprintln!("two applies at once, 20 rounds: {refused} refused by the lock, 0 failures");
}

/// `apply --yes | head -1`: the pipe closes after one line; the run goes on to the end, and
/// exits without a panic.
#[test]
fn a_broken_pipe_never_stops_a_run_half_way() {
    use std::io::BufRead;
    let tree = Tree::debian12_fast();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mailsetup"))
        .arg("--root")
        .arg(tree.root())
        .args(APPLY)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut first = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut first)
        .unwrap();
    // the reader is gone (`head -1` exits): every later write gets EPIPE
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(which(&tree, "after a broken pipe"), Which::Final);
}

/// SIGINT, SIGTERM or SIGHUP in the middle of the commit: the run is undone and exits with
/// 130, 143 or 129.
#[test]
fn a_signal_during_the_commit_undoes_the_run_and_exits_128_plus_the_signal() {
    use nix::sys::signal::{Signal, kill};
    let stock = Tree::debian12_fast();
    // the first backup link: the live changes begin there
    let at = first_point(&stock, APPLY, "link");
    for (signal, code) in [
        (Signal::SIGINT, 130),
        (Signal::SIGTERM, 143),
        (Signal::SIGHUP, 129),
    ] {
        let tree = stock.copy();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_mailsetup"))
            .arg("--root")
            .arg(tree.root())
            .args(APPLY)
            .env("MAILSETUP_FAILPOINT", format!("{at}:stop"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        // wait until it stops itself at that change
        let stat = format!("/proc/{}/stat", child.id());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !fs::read_to_string(&stat)
            .unwrap_or_default()
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('T'))
        {
            assert!(std::time::Instant::now() < deadline, "it never stopped");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        kill(pid, signal).unwrap();
        kill(pid, Signal::SIGCONT).unwrap();
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{signal}: {err}");
        assert!(err.contains("every change was undone"), "{signal}: {err}");
        assert_eq!(which(&tree, &format!("{signal}")), Which::Original);
    }
}

/// Rollback never deletes a private key: it is retired under /var/lib/mailsetup, and the
/// next apply brings the same key back, so the record published for it stays valid.
#[test]
fn keys_outlive_rollback_and_come_back_with_the_next_apply() {
    let tree = Tree::debian12_fast();
    tree.run(APPLY).expect_code(0);
    let key = "/etc/opendkim/keys/example.org/mail.private";
    let pem = tree.read(key);
    let run = tree.run(&["rollback", "--yes"]);
    run.expect_code(0);
    assert!(run.stdout.contains("retire the key"), "{}", run.stdout);
    assert!(!tree.path(key).exists());
    let retired: Vec<PathBuf> = all_entries(&tree.path("/var/lib/mailsetup/retired-keys"))
        .into_iter()
        .filter(|(p, _)| p.ends_with("example.org/mail.private"))
        .map(|(p, _)| tree.path("/var/lib/mailsetup/retired-keys").join(p))
        .collect();
    assert_eq!(retired.len(), 1, "{retired:?}");
    assert_eq!(fs::read_to_string(&retired[0]).unwrap(), pem);
    let md = fs::metadata(&retired[0]).unwrap();
    assert_eq!(md.mode() & 0o7777, 0o600);
    let dir = fs::metadata(retired[0].parent().unwrap()).unwrap();
    assert_eq!(dir.mode() & 0o7777, 0o700);
    let plan = tree.run(&["plan", "--answers", ANSWERS]);
    assert!(plan.stdout.contains("bring back key"), "{}", plan.stdout);
    tree.run(APPLY).expect_code(0);
    assert_eq!(tree.read(key), pem, "the same key is back");
    let md = fs::metadata(tree.path(key)).unwrap();
    assert_eq!(md.mode() & 0o7777, 0o600);
}

/// An apply killed mid-way is undone by the next command without being recorded as a run:
/// `rollback` then undoes the apply before it, not the recovery.
#[test]
fn rollback_after_a_recovery_undoes_the_last_real_run() {
    let tree = Tree::debian12_fast();
    tree.run(APPLY).expect_code(0);
    let first = comparable(&tree);
    // a second apply with another domain, killed in the middle
    let answers = fs::read_to_string(ANSWERS).unwrap().replace(
        "[\"example.org\", \"example.net\"]",
        "[\"example.org\", \"example.net\", \"example.com\"]",
    );
    let more = tree.root().parent().unwrap().join(format!(
        "{}-answers.toml",
        tree.root().file_name().unwrap().to_string_lossy()
    ));
    fs::write(&more, answers).unwrap();
    let args = ["apply", "--yes", "--answers", more.to_str().unwrap()];
    let at = format!("{}:kill", first_point(&tree, &args, "link"));
    let run = tree.run_env(&args, &[("MAILSETUP_FAILPOINT", &at)]);
    assert_eq!(run.signal, Some(9), "{}", run.stderr);
    let next = tree.run(NEXT);
    assert!(next.stderr.contains("It was undone"), "{}", next.stderr);
    assert_eq!(
        comparable(&tree),
        first,
        "the first apply's set, as a whole"
    );
    tree.run(&["rollback", "--yes"]).expect_code(0);
    assert_eq!(which(&tree, "rolled back"), Which::Original);
    let _ = fs::remove_file(&more);
}
