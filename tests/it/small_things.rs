//! Issue 13 item 7, the small things, through the binary: `fix <typo>` names the nearest id;
//! a non-root `apply`/`fix --yes`/`rollback` beneath `--root /` says to use sudo before
//! touching anything; `-v` shows each command run and each DNS query; colour follows
//! anstream (`NO_COLOR`, `CLICOLOR_FORCE`); declining `rollback` on a terminal exits 1.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crate::support::{ANSWERS, Tree, tmux};

#[test]
fn fix_with_a_typo_names_the_nearest_id() {
    let tree = Tree::debian12();
    let run = tree.run(&["fix", "milter.not-configurd", "--answers", ANSWERS]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("did you mean milter.not-configured?"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("dkim.weak-key"),
        "no list: {}",
        run.stderr
    );
    let far = tree.run(&["fix", "banana", "--answers", ANSWERS]);
    far.expect_code(2);
    assert!(
        far.stderr.contains("the ids are: ") && far.stderr.contains("dkim.weak-key"),
        "nothing close: the list: {}",
        far.stderr
    );
}

/// As `nobody` (setpriv), `--root /`: each command that writes is refused with "sudo" and
/// exit 2 before it reads anything (the answers are not even named). Skipped when not root
/// or without setpriv.
#[test]
fn a_user_who_is_not_root_is_told_to_use_sudo() {
    let setpriv = std::path::Path::new("/usr/bin/setpriv");
    if !nix::unistd::Uid::effective().is_root() || !setpriv.exists() {
        eprintln!("skipped: needs root and setpriv to run as nobody");
        return;
    }
    let cases: [&[&str]; 3] = [
        &["apply", "--yes", "--answers", ANSWERS],
        &[
            "fix",
            "milter.not-configured",
            "--yes",
            "--answers",
            ANSWERS,
        ],
        &["rollback", "--yes"],
    ];
    for args in cases {
        let out = std::process::Command::new(setpriv)
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_mailsetup"))
            .args(["--root", "/"])
            .args(args)
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("run it with sudo"), "{args:?}: {stderr}");
        assert!(!stderr.contains("answers:"), "refused first: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn verbose_shows_commands_and_dns_queries_and_quiet_hides_notes() {
    let tree = Tree::debian12();
    let apply = tree.run(&["apply", "--yes", "-v", "--answers", ANSWERS]);
    apply.expect_code(0);
    // a command run: `postconf` when it is installed (apply validates the staged files)
    if std::path::Path::new("/usr/sbin/postconf").exists() {
        assert!(
            apply
                .stderr
                .lines()
                .any(|l| l.starts_with("mailsetup: run: /usr/sbin/postconf") && l.ends_with(" ms")),
            "{}",
            apply.stderr
        );
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dead = rt
        .block_on(crate::support::dns_server::dead_addr())
        .to_string();
    let check = tree.run(&["check", "-v", "--answers", ANSWERS, "--nameserver", &dead]);
    assert_eq!(check.code, 3, "{}{}", check.stdout, check.stderr);
    let query = check
        .stderr
        .lines()
        .find(|l| l.starts_with("mailsetup: dns: ") && l.contains(&format!(" at {dead}: ")))
        .unwrap_or_else(|| panic!("{}", check.stderr));
    assert!(query.ends_with(" ms"), "{query}");
    let quiet = tree.run(&["check", "-q", "--answers", ANSWERS, "--nameserver", &dead]);
    assert!(
        !quiet.stderr.contains("mailsetup: dns: "),
        "{}",
        quiet.stderr
    );
    assert!(!quiet.stderr.contains("answers:"), "{}", quiet.stderr);
    tree.run(&["check", "-q", "-v"]).expect_code(2);
}

#[test]
fn colour_follows_no_color_and_clicolor_force() {
    let tree = Tree::debian12();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dead = rt
        .block_on(crate::support::dns_server::dead_addr())
        .to_string();
    let args = ["check", "--answers", ANSWERS, "--nameserver", &dead];
    let plain = tree.run_env(&args, &[]);
    assert!(
        !plain.stdout.contains('\u{1b}'),
        "not a terminal: no colour"
    );
    let forced = tree.run_env(&args, &[("NO_COLOR", ""), ("CLICOLOR_FORCE", "1")]);
    assert!(
        forced.stdout.contains("\u{1b}["),
        "CLICOLOR_FORCE: {}",
        forced.stdout
    );
    let both = tree.run_env(&args, &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")]);
    assert!(!both.stdout.contains('\u{1b}'), "NO_COLOR wins");
}

/// `rollback` answered `n` on a terminal: "not rolled back", exit 1, the files as applied.
#[test]
fn declining_rollback_exits_1_and_changes_nothing() {
    if !tmux::available() {
        eprintln!("skipped: no tmux");
        return;
    }
    let tree = Tree::debian12();
    tree.run(&["apply", "--yes", "--answers", ANSWERS])
        .expect_code(0);
    let before = tree.snapshot();
    let t = tmux::Tmux::start(
        env!("CARGO_BIN_EXE_mailsetup"),
        &[
            "--root".into(),
            tree.root().display().to_string(),
            "rollback".into(),
        ],
    );
    t.wait_for("[y/N]", 20);
    t.send(&["n", "Enter"]);
    assert_eq!(t.exit_code(20), 1, "{}", t.screen());
    assert!(t.screen().contains("not rolled back"), "{}", t.screen());
    assert_eq!(tree.snapshot(), before);
}

/// `apply --yes -q`: no step diffs, backups or notes; the final result still says what was
/// applied and how to undo it.
#[test]
fn quiet_apply_says_only_the_result() {
    let tree = Tree::debian12();
    let run = tree.run(&["apply", "--yes", "-q", "--answers", ANSWERS]);
    run.expect_code(0);
    assert!(!run.stdout.contains("── step"), "{}", run.stdout);
    assert!(!run.stdout.contains("+++ "), "{}", run.stdout);
    assert!(
        run.stdout.contains("applied 6 step(s) as one run"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("undo with: "), "{}", run.stdout);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
}
