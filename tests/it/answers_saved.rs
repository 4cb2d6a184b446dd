//! Issue 13 item 4: every command works from the answers the wizard saved
//! (`/etc/mailsetup/answers.toml` beneath the root) when `--answers` is absent, and says on
//! stderr which file it read; with neither, the error names both ways.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crate::support::{ANSWERS, Tree, fixture_text};

const SAID: &str = "mailsetup: answers: [ROOT]/etc/mailsetup/answers.toml";

/// A fixture tree with the fixture answers saved where the wizard saves them.
fn saved() -> Tree {
    let tree = Tree::debian12();
    tree.write("/etc/mailsetup/answers.toml", fixture_text!("answers.toml"));
    tree
}

#[test]
fn every_command_reads_the_saved_answers_and_says_so() {
    let tree = saved();
    let said = |args: &[&str], code: i32| {
        let run = tree.run(args);
        run.expect_code(code);
        assert!(run.stderr.contains(SAID), "{args:?}: {}", run.stderr);
        assert!(
            !run.stdout.contains("answers:"),
            "stdout stays clean: {}",
            run.stdout
        );
        run
    };
    let records = said(&["records"], 0);
    assert!(records.stdout.contains("_dmarc"), "{}", records.stdout);
    said(&["records", "--format", "json"], 0);
    said(&["plan"], 1);
    said(&["apply", "--yes"], 0);
    said(&["plan"], 0);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dead = rt
        .block_on(crate::support::dns_server::dead_addr())
        .to_string();
    let check = tree.run(&["check", "--nameserver", &dead, "--json"]);
    assert!(check.stderr.contains(SAID), "{}", check.stderr);
    let _: serde_json::Value = serde_json::from_str(&check.stdout).unwrap();
    let fix = tree.run(&[
        "fix",
        "milter.not-configured",
        "--yes",
        "--nameserver",
        &dead,
    ]);
    assert!(fix.stderr.contains(SAID), "{}{}", fix.stdout, fix.stderr);
    assert!(fix.stdout.contains("not failing now"), "{}", fix.stdout);
    let selftest = tree.run(&["selftest", "--nameserver", &dead]);
    assert!(selftest.stderr.contains(SAID), "{}", selftest.stderr);
    // rollback needs no answers: it undoes what the run records say
    let rollback = tree.run(&["rollback", "--yes"]);
    rollback.expect_code(0);
    assert!(!rollback.stderr.contains("answers:"), "{}", rollback.stderr);
}

#[test]
fn given_answers_win_and_are_named() {
    let tree = saved();
    tree.write("/etc/mailsetup/answers.toml", "not = [valid");
    let run = tree.run(&["records", "--answers", ANSWERS]);
    run.expect_code(0);
    assert!(
        run.stderr
            .contains(&format!("mailsetup: answers: {ANSWERS}")),
        "{}",
        run.stderr
    );
    let q = tree.run(&["records", "--answers", ANSWERS, "-q"]);
    q.expect_code(0);
    assert!(!q.stderr.contains("answers:"), "-q: {}", q.stderr);
}

#[test]
fn without_any_answers_the_error_names_both_ways() {
    let tree = Tree::debian12();
    for cmd in ["plan", "apply", "records", "check", "selftest"] {
        let run = tree.run(&[cmd, "--yes"]);
        run.expect_code(2);
        assert!(
            run.stderr.contains("--answers FILE")
                && run.stderr.contains("/etc/mailsetup/answers.toml"),
            "{cmd}: {}",
            run.stderr
        );
    }
}
