//! `check --state FILE` through the real binary, against the in-process DNS server: the
//! baseline, a served record changed between two runs and exactly that change reported
//! (then cleared), `--mail-to` handing the message to a sendmail stand-in (a script that
//! records its arguments and stdin), a failing sendmail, `--dry-run`; and the systemd units
//! of the daily check, whose ExecStart must stay a valid `check` command line.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::check_cli::{answers_2048, applied, command};
use crate::support::lab::Lab;
use crate::support::scenario::fixture_zones_keys;
use crate::support::{Run, Tree};

/// example.net's SPF record in the fixture zones.
const NET_SPF: &str = "@ IN TXT \"v=spf1 ip4:192.0.2.10 -all\"\n";

/// The lab for an applied tree (its keys published), example.net's SPF record served only
/// with `net_spf`.
async fn lab(tree: &Tree, net_spf: bool) -> Lab {
    let p = |d: &str| {
        let pem = tree.read(&format!("/etc/opendkim/keys/{d}/mail.private"));
        mailsetup::keys::public_from_pem(&pem).unwrap().p
    };
    let (org, net) = (p("example.org"), p("example.net"));
    let mut z = fixture_zones_keys(&org, Some(&net));
    assert!(z[1].starts_with("$ORIGIN example.net.") && z[1].contains(NET_SPF));
    if !net_spf {
        z[1] = z[1].replace(NET_SPF, "");
    }
    let refs: Vec<&str> = z.iter().map(String::as_str).collect();
    Lab::start(&refs).await
}

/// `check --state STATE` with the tree's answers, the lab's DNS and `extra`.
fn check(tree: &Tree, lab: &Lab, state: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["--state", state.to_str().unwrap()];
    args.extend(extra);
    command(tree, lab, "check", &answers_2048(tree), &args)
}

/// The (id, subject) pairs of a list of `check --state --json`.
fn keys(json: &serde_json::Value, list: &str) -> Vec<(String, String)> {
    json[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} in {json}"))
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["subject"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

fn spf_net() -> Vec<(String, String)> {
    vec![("spf.missing".into(), "example.net".into())]
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_record_is_exactly_the_change_reported_then_cleared() {
    let (tree, healthy) = applied(true).await;
    let state = tree.root().join("check-state.json");

    let first = check(&tree, &healthy, &state, &[]);
    first.expect_code(0);
    assert!(
        first.stdout.starts_with("baseline: no earlier state; "),
        "{}",
        first.stdout
    );
    assert!(first.stdout.contains("\nnow: "), "{}", first.stdout);
    let mode = std::fs::metadata(&state).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the state is private");

    let same = check(&tree, &healthy, &state, &[]);
    same.expect_code(0);
    assert!(
        same.stdout.starts_with("no change since the last check ("),
        "{}",
        same.stdout
    );
    drop(healthy);

    // example.net's SPF record is no longer served: exactly that is new, exit 1
    let broken = lab(&tree, false).await;
    let text = check(&tree, &broken, &state, &[]);
    text.expect_code(1);
    assert!(
        text.stdout
            .starts_with("1 new, 0 cleared since the last check ("),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("\nnew:\n  error spf.missing: "),
        "{}",
        text.stdout
    );
    assert!(!text.stdout.contains("cleared:\n"), "{}", text.stdout);
    // the state now holds the broken report: the same again is no change
    let again = check(&tree, &broken, &state, &["--json"]);
    again.expect_code(0);
    let v = json(&again);
    assert_eq!(v["baseline"], false);
    assert!(keys(&v, "new").is_empty() && keys(&v, "cleared").is_empty());
    assert_eq!(
        v["report"]["verdict"], "fail",
        "the whole report is there too"
    );
    drop(broken);

    // served again: cleared, exit 0
    let repaired = lab(&tree, true).await;
    let back = check(&tree, &repaired, &state, &["--json"]);
    back.expect_code(0);
    let v = json(&back);
    assert_eq!(keys(&v, "cleared"), spf_net());
    assert!(keys(&v, "new").is_empty(), "{v}");
    assert!(v["changed"].as_array().unwrap().is_empty(), "{v}");
    assert!(v["since"].as_str().unwrap().ends_with(" +0000"), "{v}");
}

/// A sendmail stand-in in `dir`: records its arguments (one a line) and its stdin, then exits
/// with `code` (after saying `why` on stderr when not 0).
fn sendmail(dir: &Path, code: i32, why: &str) -> PathBuf {
    let path = dir.join(format!("sendmail-{code}"));
    let script = format!(
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{0}/args'\ncat > '{0}/message'\n\
         [ {code} = 0 ] || echo '{why}' >&2\nexit {code}\n",
        dir.display()
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_to_hands_the_changes_to_sendmail_only_when_something_changed() {
    let (tree, healthy) = applied(true).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let ok = sendmail(dir.path(), 0, "");
    let ok = ok.to_str().unwrap();
    let message = dir.path().join("message");
    let mail = ["--mail-to", "root", "--sendmail", ok];

    // a clean baseline: no finding, nothing to say, nothing mailed
    check(&tree, &healthy, &state, &mail).expect_code(0);
    assert!(!message.exists(), "mailed a baseline without findings");
    drop(healthy);

    let broken = lab(&tree, false).await;
    // --dry-run: said, nothing mailed, the state untouched
    let before = std::fs::read(&state).unwrap();
    let dry = check(
        &tree,
        &broken,
        &state,
        &["--dry-run", "--mail-to", "root", "--sendmail", ok],
    );
    dry.expect_code(1);
    assert!(dry.stderr.contains("nothing mailed"), "{}", dry.stderr);
    assert!(!message.exists());
    assert_eq!(
        std::fs::read(&state).unwrap(),
        before,
        "--dry-run wrote the state"
    );

    // a failing sendmail: exit 2 naming it and its words; the state not stored
    let bad = sendmail(
        dir.path(),
        75,
        "postdrop: warning: unable to look up public/pickup",
    );
    let failed = check(
        &tree,
        &broken,
        &state,
        &["--mail-to", "root", "--sendmail", bad.to_str().unwrap()],
    );
    failed.expect_code(2);
    assert!(
        failed
            .stderr
            .contains(&format!("`{} -oi -t` failed", bad.display()))
            && failed.stderr.contains("unable to look up public/pickup")
            && failed
                .stderr
                .contains("the next run reports these changes again"),
        "{}",
        failed.stderr
    );
    assert_eq!(
        std::fs::read(&state).unwrap(),
        before,
        "stored after a failed mail"
    );
    std::fs::remove_file(&message).unwrap();

    // the change, mailed: one message, recipients from its header
    check(&tree, &broken, &state, &mail).expect_code(1);
    let args = std::fs::read_to_string(dir.path().join("args")).unwrap();
    assert_eq!(args, "-oi\n-t\n");
    let text = std::fs::read_to_string(&message).unwrap();
    let (head, body) = text.split_once("\n\n").unwrap();
    for line in [
        "From: mailsetup <root@mail.example.org>",
        "To: root",
        "Subject: mailsetup check: 1 new, 0 cleared on mail.example.org",
    ] {
        assert!(head.lines().any(|l| l == line), "{line}\n{head}");
    }
    assert!(head.lines().any(|l| l.starts_with("Date: ")), "{head}");
    assert!(
        head.lines()
            .any(|l| l.starts_with("Message-ID: <mailsetup-check.")),
        "{head}"
    );
    assert!(
        body.starts_with("1 new, 0 cleared since the last check (")
            && body.contains("\nnew:\n  error spf.missing: "),
        "{body}"
    );
    std::fs::remove_file(&message).unwrap();

    // nothing changed since: nothing mailed
    check(&tree, &broken, &state, &mail).expect_code(0);
    assert!(!message.exists(), "mailed although nothing changed");
}

#[test]
fn a_state_file_that_is_not_one_is_refused_and_left_alone() {
    let tree = Tree::debian12();
    let state = tree.root().join("state.json");
    std::fs::write(&state, "{\"version\":7}").unwrap();
    let run = tree.run(&[
        "check",
        "--offline",
        "--answers",
        crate::support::ANSWERS,
        "--nameserver",
        "127.0.0.1:9",
        "--state",
        state.to_str().unwrap(),
    ]);
    run.expect_code(2);
    assert!(
        run.stderr
            .contains("is not a state file of `mailsetup check --state`"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(&state).unwrap(), "{\"version\":7}");
    let bad = tree.run(&[
        "check",
        "--answers",
        crate::support::ANSWERS,
        "--state",
        state.to_str().unwrap(),
        "--mail-to",
        "root\nBcc: x@example.org",
    ]);
    bad.expect_code(2);
    assert!(bad.stderr.contains("--mail-to"), "{}", bad.stderr);
    let without = tree.run(&["check", "--mail-to", "root"]);
    without.expect_code(2);
    assert!(without.stderr.contains("--state"), "{}", without.stderr);
}

const SERVICE: &str = include_str!("../../assets/systemd/mailsetup-check.service");
const TIMER: &str = include_str!("../../assets/systemd/mailsetup-check.timer");

/// The value of `key=` in a unit file (the last one).
fn unit_value<'a>(unit: &'a str, key: &str) -> Option<&'a str> {
    unit.lines()
        .filter_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .next_back()
}

#[test]
fn the_units_run_a_valid_check_daily_and_the_package_installs_them_disabled() {
    use clap::Parser;
    let exec = unit_value(SERVICE, "ExecStart").unwrap();
    let words: Vec<&str> = exec.split_whitespace().collect();
    assert_eq!(words[0], "/usr/sbin/mailsetup", "where the package puts it");
    let cli = mailsetup::cli::Cli::try_parse_from(&words).unwrap_or_else(|e| panic!("{exec}: {e}"));
    let Some(mailsetup::cli::Command::Check(args)) = cli.command else {
        panic!("not a check: {exec}");
    };
    assert_eq!(
        args.state.as_deref(),
        Some(Path::new("/var/lib/mailsetup/check-state.json"))
    );
    assert_eq!(args.mail_to.as_deref(), Some("root"));
    assert_eq!(unit_value(SERVICE, "Type"), Some("oneshot"));
    assert_eq!(unit_value(SERVICE, "StateDirectory"), Some("mailsetup"));
    assert!(!SERVICE.contains("[Install]"), "started by the timer only");
    assert_eq!(unit_value(TIMER, "OnCalendar"), Some("daily"));
    assert_eq!(unit_value(TIMER, "Persistent"), Some("true"));
    assert!(unit_value(TIMER, "RandomizedDelaySec").is_some());
    assert_eq!(unit_value(TIMER, "WantedBy"), Some("timers.target"));
    let cargo = include_str!("../../Cargo.toml");
    for unit in ["mailsetup-check.service", "mailsetup-check.timer"] {
        let asset = format!("[\"assets/systemd/{unit}\", \"lib/systemd/system/\", \"644\"]");
        assert!(
            cargo.contains(&asset),
            "{asset} not in the package's assets"
        );
    }
    assert!(
        !cargo.contains("systemd-units"),
        "cargo-deb's systemd-units would enable the timer on install"
    );
}

/// `systemd-analyze verify` (when installed) accepts both units without a word, with the
/// ExecStart program pointed at the built binary (it must exist) and no man page lookup.
#[test]
fn systemd_analyze_verifies_the_units() {
    let Ok(probe) = std::process::Command::new("systemd-analyze")
        .arg("--version")
        .output()
    else {
        eprintln!("systemd-analyze is not installed: the units are checked by the test above only");
        return;
    };
    assert!(probe.status.success());
    let dir = tempfile::tempdir().unwrap();
    let service = dir.path().join("mailsetup-check.service");
    let timer = dir.path().join("mailsetup-check.timer");
    let built = env!("CARGO_BIN_EXE_mailsetup");
    std::fs::write(&service, SERVICE.replace("/usr/sbin/mailsetup", built)).unwrap();
    std::fs::write(&timer, TIMER).unwrap();
    let out = std::process::Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&service)
        .arg(&timer)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && said.trim().is_empty(), "{said}");
}
