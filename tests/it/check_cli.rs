//! `mailsetup check` through the real binary: `--domain`, `--watch` with its timeout and
//! progress on stderr, plain text when not on a terminal, and bad options (exit 2).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crate::support::lab::Lab;
use crate::support::scenario::{fixture_zones, fixture_zones_keys, fixture_zones_with};
use crate::support::{self, ANSWERS, Tree};

async fn lab(net_dkim: bool) -> Lab {
    let z = fixture_zones(net_dkim);
    let refs: Vec<&str> = z.iter().map(String::as_str).collect();
    Lab::start(&refs).await
}

/// A tree `apply` has set up (so the local checks pass), and a lab publishing its keys;
/// example.net's DKIM record only with `net_dkim`.
/// With the fixture answers but 2048-bit keys (a 1024-bit key is a `dkim.weak-key` warning),
/// saved beside the tree as `answers-2048.toml`.
pub(crate) async fn applied(net_dkim: bool) -> (Tree, Lab) {
    let tree = Tree::debian12();
    let answers = std::fs::read_to_string(ANSWERS)
        .unwrap()
        .replace("key_bits = 1024", "key_bits = 2048");
    assert!(answers.contains("key_bits = 2048"));
    std::fs::write(answers_2048(&tree), answers).unwrap();
    tree.run(&["apply", "--yes", "--answers", &answers_2048(&tree)])
        .expect_code(0);
    let p = |d: &str| {
        let pem = tree.read(&format!("/etc/opendkim/keys/{d}/mail.private"));
        mailsetup::keys::public_from_pem(&pem).unwrap().p
    };
    let (org, net) = (p("example.org"), p("example.net"));
    let z = fixture_zones_keys(&org, net_dkim.then_some(net.as_str()));
    let refs: Vec<&str> = z.iter().map(String::as_str).collect();
    let lab = Lab::start(&refs).await;
    (tree, lab)
}

pub(crate) fn answers_2048(tree: &Tree) -> String {
    tree.root().join("answers-2048.toml").display().to_string()
}

/// `check` with the tree's 2048-bit answers when it has them, else the fixture answers.
fn check(tree: &Tree, lab: &Lab, extra: &[&str]) -> support::Run {
    let own = answers_2048(tree);
    let answers = if std::path::Path::new(&own).exists() {
        own.as_str()
    } else {
        ANSWERS
    };
    command(tree, lab, "check", answers, extra)
}

/// `mailsetup COMMAND --answers ANSWERS` with the lab's DNS options and `extra`.
pub(crate) fn command(
    tree: &Tree,
    lab: &Lab,
    name: &str,
    answers: &str,
    extra: &[&str],
) -> support::Run {
    let args = lab.args();
    let mut all: Vec<&str> = vec![name, "--answers", answers];
    all.extend(args.iter().map(String::as_str));
    all.extend(extra);
    tree.run(&all)
}

#[tokio::test(flavor = "multi_thread")]
async fn healthy_zones_pass_in_plain_text() {
    let (tree, lab) = applied(true).await;
    let run = check(&tree, &lab, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with("mail.example.org\n  ✓ milter "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("\nexample.net\n  ✓ ns "),
        "{}",
        run.stdout
    );
    // then the sender-requirements verdict (tests/it/requirements.rs reads it) and the
    // deliverability next step (tests/it/port25.rs reads it)
    assert!(
        run.stdout
            .contains("checks passed, no problems.\n\nSender requirements (Gmail, Yahoo"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(" unsubscribe)\n\nNext:\nTest deliverability"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains('\u{1b}'),
        "colour when not on a terminal"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn domain_limits_the_run() {
    let (tree, lab) = applied(false).await;
    let run = check(&tree, &lab, &["--domain", "example.org", "--json"]);
    assert_eq!(
        run.code, 0,
        "example.net is broken but not checked: {}",
        run.stdout
    );
    let subjects = field_of(&run.stdout, "checked", "subject");
    assert!(subjects.iter().any(|s| s == "example.org"));
    assert!(!subjects.iter().any(|s| s == "example.net"), "{subjects:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_gives_up_at_the_timeout_with_exit_1() {
    let tree = Tree::debian12();
    let lab = lab(false).await;
    let run = check(
        &tree,
        &lab,
        &["--watch", "--interval", "1", "--timeout", "2"],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        without_answers_line(&run.stderr).starts_with("round 1: 1 check(s) still failing\n"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("round 2: "), "{}", run.stderr);
    assert!(
        !run.stderr.contains('\u{1b}'),
        "no countdown when not on a terminal"
    );
    assert!(run.stdout.contains("error dkim.missing"), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_ends_at_once_when_all_passes() {
    let (tree, lab) = applied(true).await;
    let run = check(&tree, &lab, &["--watch", "--timeout", "30"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    // beneath a --root tree the STARTTLS probe does not run, and a note at the end says so
    assert_eq!(
        without_answers_line(&run.stderr),
        "round 1: every check passes\nnote: the STARTTLS probe of port 25 tests this machine's \
         listener: it runs with --root / (or --starttls-target HOST:PORT)\n"
    );
}

/// stderr without its first line, `mailsetup: answers: FILE` (which answers were read).
fn without_answers_line(stderr: &str) -> &str {
    stderr
        .strip_prefix("mailsetup: answers: ")
        .and_then(|rest| rest.split_once('\n'))
        .map_or(stderr, |(_, rest)| rest)
}

#[test]
fn bad_options_exit_2_naming_the_option() {
    let tree = Tree::debian12();
    let cases: [(&[&str], &str); 4] = [
        (&["--domain", "example.com"], "--domain example.com"),
        (&["--domain=x..y"], "--domain"),
        (&["--nameserver", "ns1.example.org"], "--nameserver"),
        (&["--authoritative-port", "0"], "--authoritative-port"),
    ];
    for (args, names) in cases {
        let mut all = vec!["check", "--answers", ANSWERS];
        all.extend(args);
        let run = tree.run(&all);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(names), "{args:?}: {}", run.stderr);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_finding_the_wizard_repairs_names_its_fix_command() {
    let tree = Tree::debian12();
    let weak = mailsetup::keys::PrivateKey::generate(mailsetup::values::KeyBits::B1024).unwrap();
    let z = fixture_zones_with(true, &weak.public().p);
    let refs: Vec<&str> = z.iter().map(String::as_str).collect();
    let lab = Lab::start(&refs).await;
    let run = check(&tree, &lab, &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("warning dkim.weak-key"),
        "{}",
        run.stdout
    );
    // the command carries this run's tree, answers and DNS options, to act on the same
    let fix = format!(
        "    fix:      mailsetup --root [ROOT] --answers {ANSWERS} {} rotate\n",
        lab.args().join(" ")
    );
    assert!(run.stdout.contains(&fix), "{fix}\n{}", run.stdout);
    // a finding fixed at the DNS provider has no such line
    assert!(!run.stdout.contains("fix dkim.missing"));
}

#[tokio::test(flavor = "multi_thread")]
async fn local_problems_are_reported_with_the_step_that_fixes_them() {
    // the stock tree: nothing applied yet
    let tree = Tree::debian12();
    let lab = lab(true).await;
    let run = check(&tree, &lab, &["--json"]);
    assert_eq!(run.code, 1);
    let ids = field_of(&run.stdout, "findings", "id");
    for id in [
        "milter.not-configured",
        "milter.non-smtpd-missing",
        "opendkim.signing-table-missing-domain",
    ] {
        assert!(ids.iter().any(|i| i == id), "{id} missing from {ids:?}");
    }
    let human = check(&tree, &lab, &[]);
    let fix = format!(
        "    fix:      mailsetup --root [ROOT] --answers {ANSWERS} {} fix milter.not-configured\n",
        lab.args().join(" ")
    );
    assert!(human.stdout.contains(&fix), "{fix}\n{}", human.stdout);
    // after apply, a key made group-readable while postfix is in group opendkim
    let (tree, lab) = applied(true).await;
    let key = tree.path("/etc/opendkim/keys/example.org/mail.private");
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o640)).unwrap();
    let run = check(&tree, &lab, &["--json"]);
    let ids = field_of(&run.stdout, "findings", "id");
    assert_eq!(ids, ["opendkim.key-insecure"], "{}", run.stdout);
}

/// `mailsetup fix <id>` with the lab's DNS options and the tree's answers.
fn fix(tree: &Tree, lab: &Lab, extra: &[&str]) -> support::Run {
    command(tree, lab, "fix", &answers_2048(tree), extra)
}

#[tokio::test(flavor = "multi_thread")]
async fn fix_without_the_screen_applies_the_step_that_repairs_a_local_finding() {
    use std::os::unix::fs::PermissionsExt;
    let (tree, lab) = applied(true).await;
    let key = tree.path("/etc/opendkim/keys/example.org/mail.private");
    std::fs::set_permissions(&key, PermissionsExt::from_mode(0o640)).unwrap();
    let mode = || std::fs::metadata(&key).unwrap().permissions().mode() & 0o7777;

    // no terminal and no --yes: the finding and the step's diff, then a refusal
    let run = fix(&tree, &lab, &["opendkim.key-insecure"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("error opendkim.key-insecure"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("── step 6/12: "), "{}", run.stdout);
    assert!(
        run.stderr.contains("run again with --yes"),
        "{}",
        run.stderr
    );
    assert_eq!(mode(), 0o640, "nothing written");
    // --dry-run: the diff, exit 1, nothing written
    let run = fix(&tree, &lab, &["opendkim.key-insecure", "--dry-run"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("dry run: nothing was written"),
        "{}",
        run.stdout
    );
    assert_eq!(mode(), 0o640, "nothing written");

    // --yes: applied through the step; check passes again and the fix finds nothing to do
    let run = fix(&tree, &lab, &["opendkim.key-insecure", "--yes"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(mode() & 0o077, 0, "the key is no longer group-readable");
    assert!(
        run.stdout
            .ends_with("opendkim.key-insecure: cleared\nevery local check passes\n"),
        "{}",
        run.stdout
    );
    let ids = field_of(&check(&tree, &lab, &["--json"]).stdout, "findings", "id");
    assert!(ids.is_empty(), "{ids:?}");
    let run = fix(&tree, &lab, &["opendkim.key-insecure", "--yes"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("not failing now"), "{}", run.stdout);

    // main.cf loses non_smtpd_milters: the Milter step puts it back
    let main_cf = tree.read("/etc/postfix/main.cf");
    let broken: String = main_cf
        .lines()
        .filter(|l| !l.starts_with("non_smtpd_milters"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(broken, main_cf);
    tree.write("/etc/postfix/main.cf", &broken);
    let run = fix(&tree, &lab, &["milter.non-smtpd-missing", "--yes"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let repaired = tree.read("/etc/postfix/main.cf");
    assert!(
        repaired.contains("\nnon_smtpd_milters = local:opendkim/opendkim.sock\n"),
        "{repaired}"
    );
    assert_eq!(repaired.len(), main_cf.len(), "only that line came back");

    // Postfix pointed elsewhere: the Milter step names OpenDKIM's socket again (the OpenDKIM
    // side already matches the answers, so it is not brought along), and it clears
    let main_cf = tree.read("/etc/postfix/main.cf");
    tree.write(
        "/etc/postfix/main.cf",
        &main_cf.replace("local:opendkim/opendkim.sock", "inet:127.0.0.1:8891"),
    );
    let run = fix(&tree, &lab, &["milter.socket-mismatch", "--yes"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("milter.socket-mismatch: cleared"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("needs the"), "{}", run.stdout);
    assert_eq!(tree.read("/etc/postfix/main.cf"), main_cf);

    // a second signer: the Signer step turns amavisd-new's signing off (signer =
    // "opendkim", the default), in place
    tree.write(
        "/etc/amavis/conf.d/50-user",
        "use strict;\n$enable_dkim_signing = 1; # sign\n1;\n",
    );
    let run = fix(&tree, &lab, &["signer.double", "--yes"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("+$enable_dkim_signing = 0; # sign"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("signer.double: cleared"),
        "{}",
        run.stdout
    );
    assert_eq!(
        tree.read("/etc/amavis/conf.d/50-user"),
        "use strict;\n$enable_dkim_signing = 0; # sign\n1;\n"
    );
}

/// `field` of every element of the JSON report's `list` (`findings` or `checked`).
pub(crate) fn field_of(json: &str, list: &str, field: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[field].as_str().unwrap().to_string())
        .collect()
}

/// A stock tree: `fix milter.not-configured` brings the steps the Milter step needs (the
/// OpenDKIM configuration, the tables, the keys) into the same run, shown first; afterwards
/// no local check fails, so nothing like `milter.socket-mismatch` is left behind.
#[tokio::test(flavor = "multi_thread")]
async fn fix_brings_the_steps_a_step_needs_and_leaves_no_new_error() {
    let tree = Tree::debian12();
    let lab = lab(false).await;
    let json = check(&tree, &lab, &["--json"]).stdout;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let expected = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "milter.not-configured")
        .map(|f| f["expected"].as_str().unwrap().to_string())
        .expect("a stock tree has no milter");
    // what the steps write (inside Postfix's chroot), not the stock /run socket
    assert_eq!(
        expected,
        "local:opendkim/opendkim.sock (with opendkim.conf Socket \
         local:/var/spool/postfix/opendkim/opendkim.sock)"
    );

    let run = command(
        &tree,
        &lab,
        "fix",
        ANSWERS,
        &["milter.not-configured", "--yes"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    for step in ["OpenDKIM configuration", "Milter wiring", "Tables", "Keys"] {
        assert!(
            run.stdout.contains(&format!(": {step} ──")),
            "{step} shown: {}",
            run.stdout
        );
    }
    assert!(
        run.stdout.contains(
            "the Milter wiring step needs the OpenDKIM configuration, Tables, Keys step(s)"
        ),
        "{}",
        run.stdout
    );
    // the printed commands act on this tree, with these answers
    assert!(
        run.stdout
            .contains("\nundo with: mailsetup --root [ROOT] rollback\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!(
            "then run `mailsetup --root [ROOT] --answers {ANSWERS} --nameserver"
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .ends_with("milter.not-configured: cleared\nevery local check passes\n"),
        "{}",
        run.stdout
    );
    let main_cf = tree.read("/etc/postfix/main.cf");
    assert!(
        main_cf.contains("\nsmtpd_milters = local:opendkim/opendkim.sock\n"),
        "{main_cf}"
    );
    let json = check(&tree, &lab, &["--json"]).stdout;
    let local: Vec<String> = field_of(&json, "findings", "id")
        .into_iter()
        .filter(|id| !id.starts_with("dkim.") && !id.starts_with("dns."))
        .collect();
    assert!(
        !local
            .iter()
            .any(|id| id.starts_with("milter.") || id.starts_with("opendkim.")),
        "{local:?}"
    );
}

/// `fix` of a DNS finding when DNS cannot be asked: not "not failing now", exit 3 (as
/// `check`'s could-not-verify), never 1 (failing).
#[test]
fn fix_says_when_it_cannot_tell() {
    let tree = Tree::debian12();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dead = rt.block_on(crate::support::dns_server::dead_addr());
    let run = tree.run(&[
        "fix",
        "dkim.missing",
        "--answers",
        ANSWERS,
        "--nameserver",
        &dead.to_string(),
    ]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .starts_with("dkim.missing: cannot tell whether it fails"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("not failing now"), "{}", run.stdout);
}

/// Every command printed repeats the run's `--root`, `--answers` (absolute, quoted for the
/// shell) and DNS options, so that pasting it acts on the same tree: the `fix` line of
/// `check`, run through `sh` as printed (with `--dry-run`), shows the diff of that tree.
#[tokio::test(flavor = "multi_thread")]
async fn printed_commands_carry_the_runs_root_and_answers() {
    let tree = Tree::debian12();
    let lab = lab(true).await;
    let answers = tree.root().join("my answers.toml");
    std::fs::copy(ANSWERS, &answers).unwrap();
    // relative to the working directory: printed absolute
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mailsetup"))
        .current_dir(tree.root())
        .args(["--root", ".", "check", "--answers", "my answers.toml"])
        .args(lab.args())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let root = tree.root().display().to_string();
    let want = format!(
        "mailsetup --root {root} --answers '{root}/my answers.toml' {} fix milter.not-configured",
        lab.args().join(" ")
    );
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("    fix:      mailsetup "))
        .map(|rest| format!("mailsetup {rest}"))
        .unwrap_or_default();
    assert_eq!(line, want, "{stdout}");

    // pasted into a shell, from elsewhere: the same tree and answers
    let pasted = line.replacen("mailsetup", env!("CARGO_BIN_EXE_mailsetup"), 1);
    let out = std::process::Command::new("sh")
        .args(["-c", &format!("{pasted} --dry-run")])
        .current_dir("/")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("── step 4/12: Milter wiring"), "{stdout}");
    assert!(stdout.contains("+smtpd_milters = "), "{stdout}");

    // plan names the apply that makes its changes the same way (no DNS options: none given)
    let run = tree.run(&["plan", "--answers", &answers.display().to_string()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "`mailsetup --root [ROOT] --answers '[ROOT]/my answers.toml' apply` makes these changes"
        ),
        "{}",
        run.stdout
    );
}
