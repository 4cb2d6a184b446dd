//! The wizard end to end: the real binary in tmux (80x24) on a `--root` tree of the Debian 12
//! stock files, with a loopback DNS server for the Verify step. Once in `--dry-run` (the tree
//! stays byte-identical), once for real (the files equal what `apply --answers` makes from the
//! same answers), and `mailsetup fix <id>` for a failing check.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crate::support::lab::Lab;
use crate::support::scenario::fixture_zones;
use crate::support::tmux::{self, Tmux};
use crate::support::{ANSWERS, Tree};

const BIN: &str = env!("CARGO_BIN_EXE_mailsetup");
const WAIT: u64 = 60;

/// The lab's DNS server on a runtime of its own (the test thread blocks on tmux).
fn lab() -> (tokio::runtime::Runtime, Lab) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let zones = fixture_zones(true);
    let refs: Vec<&str> = zones.iter().map(String::as_str).collect();
    let lab = rt.block_on(Lab::start(&refs));
    (rt, lab)
}

fn args(tree: &Tree, lab: &Lab, extra: &[&str]) -> Vec<String> {
    let mut a = vec!["--root".to_string(), tree.root().display().to_string()];
    a.extend(extra.iter().map(|s| s.to_string()));
    a.extend(lab.args());
    a
}

/// Walk every step from the scan to the summary; `y` on each diff. In a real run, wait
/// for each step's re-check before going on.
fn walk(t: &Tmux, dry_run: bool) -> String {
    t.wait_for("step 0/12", WAIT);
    t.wait_for("Debian GNU/Linux 12", WAIT);
    t.send(&["Enter"]);
    t.wait_for("step 1/12", WAIT);
    t.send(&["Enter"]);
    for (n, title) in [
        (2, "inet_protocols"),
        (3, "OpenDKIM configuration"),
        (4, "Milter wiring"),
        (5, "Tables"),
        (6, "Keys"),
    ] {
        t.wait_for(&format!("step {n}/12: {title}"), WAIT);
        t.wait_for("n skip", WAIT);
        t.send(&["y"]);
        if !dry_run {
            t.wait_for("done, the files now match", WAIT);
            t.send(&["Enter"]);
        }
    }
    // inbound_spf is off in these answers: the step has nothing to do and Enter passes it
    let spf = t.wait_for("step 7/12: Inbound SPF", WAIT);
    t.wait_for("already done: the files match", WAIT);
    assert!(spf.contains("Inbound SPF check off"), "{spf}");
    t.send(&["Enter"]);
    // inbound DMARC is off in these answers: its step has nothing to do
    t.wait_for("step 8/12: Inbound DMARC", WAIT);
    t.wait_for("already done", WAIT);
    t.send(&["Enter"]);
    // TLS: the baseline protocols and log level, Let's Encrypt's certificate found
    t.wait_for("step 9/12: TLS", WAIT);
    t.wait_for(
        "+smtpd_tls_cert_file = /etc/letsencrypt/live/mail.example.org/",
        WAIT,
    );
    t.wait_for("n skip", WAIT);
    t.send(&["y"]);
    if !dry_run {
        t.wait_for("done, the files now match", WAIT);
        t.send(&["Enter"]);
    }
    t.wait_for("step 10/12: DNS records", WAIT);
    t.wait_for("$ORIGIN example.org.", WAIT);
    t.send(&["Enter"]);
    t.wait_for("step 11/12: Verify", WAIT);
    let verify = if dry_run {
        // nothing was written: the local checks say so
        let verify = t.wait_for("milter.not-configured", WAIT);
        jump_and_back(t);
        verify
    } else {
        // the lab publishes another key than the one just generated
        t.wait_for("dkim.key-mismatch", WAIT)
    };
    t.send(&["Enter"]);
    t.wait_for("step 12/12: Summary", WAIT);
    t.send(&["Enter"]);
    verify
}

/// On Verify: select `milter.not-configured`, Enter jumps to the Milter step, Esc there comes
/// back to Verify (not to the step before), which checks again and says the finding still
/// fails (a dry run changes nothing); then the arrows take the selection off, for Enter to
/// go on to the summary.
fn jump_and_back(t: &Tmux) {
    let selected = "> ✗ error milter.not-configured";
    for _ in 0..30 {
        if t.screen().contains(selected) {
            break;
        }
        t.send(&["Down"]);
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    t.wait_for(selected, WAIT);
    t.send(&["Enter"]);
    t.wait_for("step 4/12: Milter wiring", WAIT);
    t.wait_for("Esc back to Verify", WAIT);
    t.send(&["Escape"]);
    t.wait_for("step 11/12: Verify", WAIT);
    let screen = t.wait_for(") still fails", WAIT);
    assert!(screen.contains("milter.not-configured ("), "{screen}");
    assert!(
        !screen.contains(selected),
        "the selection moved on:\n{screen}"
    );
    for _ in 0..30 {
        t.send(&["Up"]);
    }
    t.wait_for("on a finding: go to the step that fixes it", WAIT);
}

#[test]
fn dry_run_walks_every_step_and_writes_nothing() {
    if !tmux::available() {
        eprintln!("skipped: tmux is not installed");
        return;
    }
    let (_rt, lab) = lab();
    let tree = Tree::debian12();
    let before = tree.snapshot();
    let t = Tmux::start(
        BIN,
        &args(&tree, &lab, &["--answers", ANSWERS, "--dry-run"]),
    );
    walk(&t, true);
    assert_eq!(t.exit_code(WAIT), 0);
    assert_eq!(tree.snapshot(), before, "a dry run writes nothing");
}

#[test]
fn a_real_run_ends_where_apply_does_and_fix_opens_the_step() {
    if !tmux::available() {
        eprintln!("skipped: tmux is not installed");
        return;
    }
    let (_rt, lab) = lab();
    let tree = Tree::debian12();
    let t = Tmux::start(BIN, &args(&tree, &lab, &["--answers", ANSWERS]));
    walk(&t, false);
    assert_eq!(t.exit_code(WAIT), 0);
    drop(t);

    let applied = Tree::debian12();
    applied
        .run(&["apply", "--yes", "--answers", ANSWERS])
        .expect_code(0);
    assert_eq!(tree.snapshot_comparable(), applied.snapshot_comparable());
    let saved = tree.read("/etc/mailsetup/answers.toml");
    let settings = mailsetup::answers::parse(&saved).expect("saved answers parse");
    let given = mailsetup::answers::parse(&std::fs::read_to_string(ANSWERS).unwrap()).unwrap();
    assert_eq!(settings, given, "the saved answers are the answers used");

    // the published key is not the one generated: fix opens the Keys step with the finding,
    // pre-filled from the saved answers
    let t = Tmux::start(BIN, &args(&tree, &lab, &["fix", "dkim.key-mismatch"]));
    let screen = t.wait_for("step 6/12: Keys", WAIT);
    assert!(screen.contains("dkim.key-mismatch"), "{screen}");
    t.wait_for("already done", WAIT);
    t.send(&["q"]);
    assert_eq!(t.exit_code(WAIT), 0);
    drop(t);

    // a local finding: the key made group-readable; fix shows the Keys step's diff, `y` applies it
    use std::os::unix::fs::PermissionsExt;
    let key = tree.path("/etc/opendkim/keys/example.org/mail.private");
    std::fs::set_permissions(&key, PermissionsExt::from_mode(0o640)).unwrap();
    let t = Tmux::start(BIN, &args(&tree, &lab, &["fix", "opendkim.key-insecure"]));
    let screen = t.wait_for("step 6/12: Keys", WAIT);
    assert!(screen.contains("opendkim.key-insecure"), "{screen}");
    t.wait_for("n skip", WAIT);
    t.send(&["y"]);
    t.wait_for("done, the files now match", WAIT);
    t.send(&["q"]);
    t.wait_for("Quit anyway?", WAIT); // applied, and the services not yet restarted
    t.send(&["y"]);
    assert_eq!(t.exit_code(WAIT), 0);
    let mode = std::fs::metadata(&key).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "the key is private again: {mode:o}");
}

/// Whether the pane shows the alternate screen (the wizard's) now.
fn alternate_on(t: &Tmux) -> bool {
    t.format("#{alternate_on}") == "1"
}

#[test]
fn the_terminal_is_restored_on_ctrl_c_sigterm_and_sighup() {
    if !tmux::available() {
        eprintln!("skipped: tmux is not installed");
        return;
    }
    let (_rt, lab) = lab();
    for (how, code) in [("C-c", 0), ("TERM", 143), ("HUP", 129)] {
        let tree = Tree::debian12();
        let t = Tmux::start(
            BIN,
            &args(&tree, &lab, &["--answers", ANSWERS, "--dry-run"]),
        );
        t.wait_for("step 0/12", WAIT);
        assert!(
            alternate_on(&t),
            "{how}: the wizard uses the alternate screen"
        );
        if how == "C-c" {
            t.send(&["C-c"]);
        } else {
            let shell = t.format("#{pane_pid}");
            let status = std::process::Command::new("pkill")
                .args([&format!("-{how}"), "-P", &shell, "mailsetup"])
                .status()
                .unwrap();
            assert!(status.success(), "{how}: pkill found the wizard");
        }
        assert_eq!(t.exit_code(WAIT), code, "{how}");
        assert!(
            !alternate_on(&t),
            "{how}: the terminal is back to the normal screen"
        );
    }
}

#[test]
fn apply_on_a_terminal_asks_per_step_and_a_declined_step_stays_pending() {
    if !tmux::available() {
        eprintln!("skipped: tmux is not installed");
        return;
    }
    let (_rt, lab) = lab();
    let tree = Tree::debian12();
    let t = Tmux::start(BIN, &args(&tree, &lab, &["apply", "--answers", ANSWERS]));
    t.wait_for("apply this step? [y/N]", WAIT);
    // n to the first step (inet_protocols), y to the other five (TLS last); the lines queue
    // on the tty
    for answer in ["n", "y", "y", "y", "y", "y"] {
        t.send(&[answer, "Enter"]);
    }
    assert_eq!(t.exit_code(WAIT), 1, "{}", t.screen());
    let screen = t.screen();
    assert!(
        screen.contains("1 step(s) skipped: their changes are still pending"),
        "{screen}"
    );
    assert!(screen.contains("applied 5 step(s)"), "{screen}");
    let plan = tree.run(&["plan", "--answers", ANSWERS]);
    assert_eq!(plan.code, 1, "the declined step is still pending");
    assert!(plan.stdout.contains("inet_protocols"), "{}", plan.stdout);
}

#[test]
fn apply_refuses_to_apply_a_step_whose_prerequisite_was_declined() {
    if !tmux::available() {
        eprintln!("skipped: tmux is not installed");
        return;
    }
    let (_rt, lab) = lab();
    let tree = Tree::debian12();
    let before = tree.snapshot_without_state();
    let t = Tmux::start(BIN, &args(&tree, &lab, &["apply", "--answers", ANSWERS]));
    t.wait_for("apply this step? [y/N]", WAIT);
    // y to inet_protocols, n to the OpenDKIM configuration, y to the milter wiring and the
    // rest (TLS last)
    for answer in ["y", "n", "y", "y", "y", "y"] {
        t.send(&[answer, "Enter"]);
    }
    assert_eq!(t.exit_code(WAIT), 2, "{}", t.screen());
    let screen = t.screen();
    assert!(
        screen.contains("the Milter wiring step needs the OpenDKIM configuration step"),
        "{screen}"
    );
    assert_eq!(
        tree.snapshot_without_state(),
        before,
        "nothing was changed (the lock file aside)"
    );
}

/// Inbound SPF through the wizard: on a tree the fixture answers set up, with the policy
/// agent's package and `inbound_spf = true`, `mailsetup fix spf-policy.not-wired` opens the
/// Inbound SPF step with the finding and its diff; `y` applies it, and the files are what
/// `apply` writes from the same answers.
#[test]
fn fix_opens_the_inbound_spf_step_and_y_wires_the_agent() {
    if !tmux::available() {
        eprintln!("skipped: tmux is not installed");
        return;
    }
    let (_rt, lab) = lab();
    let tree = Tree::debian12();
    tree.run(&["apply", "--yes", "--answers", ANSWERS])
        .expect_code(0);
    let passwd = tree.read("/etc/passwd");
    tree.write(
        "/etc/passwd",
        &format!("{passwd}policyd-spf:x:105:109::/home/policyd-spf:/usr/sbin/nologin\n"),
    );
    tree.write("/usr/bin/policyd-spf", "#!/usr/bin/python3\n");
    let answers = tree.root().join("answers-spf.toml");
    let text = std::fs::read_to_string(ANSWERS).unwrap();
    std::fs::write(&answers, format!("{text}inbound_spf = true\n")).unwrap();
    let answers = answers.display().to_string();
    let expected = tree.copy();
    expected
        .run(&["apply", "--yes", "--answers", &answers])
        .expect_code(0);

    let t = Tmux::start(
        BIN,
        &args(
            &tree,
            &lab,
            &["--answers", &answers, "fix", "spf-policy.not-wired"],
        ),
    );
    let screen = t.wait_for("step 7/12: Inbound SPF", WAIT);
    assert!(screen.contains("spf-policy.not-wired"), "{screen}");
    assert!(screen.contains("Inbound SPF check on"), "{screen}");
    t.wait_for("n skip", WAIT);
    t.send(&["y"]);
    t.wait_for("done, the files now match", WAIT);
    t.send(&["q"]);
    t.wait_for("Quit anyway?", WAIT);
    t.send(&["y"]);
    assert_eq!(t.exit_code(WAIT), 0);
    for file in ["/etc/postfix/main.cf", "/etc/postfix/master.cf"] {
        assert_eq!(tree.read(file), expected.read(file), "{file}");
    }
}
