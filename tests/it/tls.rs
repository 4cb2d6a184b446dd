//! TLS (issue #15 items 1-2) on `--root` trees: the TLS step's main.cf parameters and the
//! certificate it finds (the answers' `tls_cert`/`tls_key`, certbot's for the hostname,
//! Debian's snake-oil), a second plan that is empty, rollback, bad answers refused; and the
//! `tls.*` sweep: each finding produced on an applied tree, then cleared by `fix <id> --yes`.
//! A certificate served by the real Postfix and verified by `openssl s_client` is the e2e's
//! (`tests/e2e/tls.sh`).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::check_cli::{answers_2048, applied, command, field_of};
use crate::support::lab::Lab;
use crate::support::{ANSWERS, Tree};

const MAIN_CF: &str = "/etc/postfix/main.cf";
const LE: &str = "/etc/letsencrypt/live/mail.example.org";

/// The value of main.cf parameter `name` in the tree, as Postfix reads it.
fn param(tree: &Tree, name: &str) -> Option<String> {
    let cf = mailsetup::postfix::MainCf::parse(&tree.read(MAIN_CF));
    cf.get(name)
}

/// A certificate and key made with the openssl CLI beneath the tree, at `cert` and `key`.
fn make_cert(tree: &Tree, cert: &str, key: &str, mode: u32) {
    let (c, k) = (tree.path(cert), tree.path(key));
    std::fs::create_dir_all(c.parent().unwrap()).unwrap();
    std::fs::create_dir_all(k.parent().unwrap()).unwrap();
    let ok = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "30"])
        .args(["-subj", "/CN=mail.example.org", "-keyout"])
        .arg(&k)
        .arg("-out")
        .arg(&c)
        .output()
        .unwrap()
        .status
        .success();
    assert!(ok, "openssl req");
    std::fs::set_permissions(&k, PermissionsExt::from_mode(mode)).unwrap();
}

/// The fixture answers plus `extra` lines, beside the tree; its path.
fn answers_with(tree: &Tree, extra: &str) -> String {
    let text = std::fs::read_to_string(ANSWERS).unwrap();
    let path = tree.root().join("answers-tls.toml");
    std::fs::write(&path, format!("{text}{extra}")).unwrap();
    path.display().to_string()
}

#[test]
fn apply_sets_the_baseline_with_certbots_certificate_and_rollback_restores() {
    let tree = Tree::debian12();
    let before = tree.snapshot();
    let plan = tree.run(&["plan", "--answers", ANSWERS]);
    plan.expect_code(1);
    assert!(
        plan.stdout.contains(&format!(
            "+smtpd_tls_cert_file = {LE}/fullchain.pem\n+smtpd_tls_key_file = {LE}/privkey.pem\n"
        )),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("--deploy-hook \"postfix reload\""),
        "{}",
        plan.stdout
    );
    tree.run(&["apply", "--yes", "--answers", ANSWERS])
        .expect_code(0);
    for (name, value) in [
        ("smtp_tls_security_level", "may"),
        ("smtp_tls_loglevel", "1"),
        ("smtp_tls_CApath", "/etc/ssl/certs"),
        ("smtpd_tls_security_level", "may"),
        ("smtpd_tls_cert_file", &format!("{LE}/fullchain.pem")),
        ("smtpd_tls_key_file", &format!("{LE}/privkey.pem")),
        ("smtpd_tls_protocols", ">=TLSv1.2"),
        ("smtpd_tls_mandatory_protocols", ">=TLSv1.2"),
        ("smtp_tls_protocols", ">=TLSv1.2"),
        ("smtp_tls_mandatory_protocols", ">=TLSv1.2"),
    ] {
        assert_eq!(param(&tree, name).as_deref(), Some(value), "{name}");
    }
    let main = tree.read(MAIN_CF);
    assert!(!main.contains("smtp_use_tls") && !main.contains("smtpd_use_tls"));
    if std::path::Path::new("/usr/sbin/postconf").exists() {
        let out = Command::new("/usr/sbin/postconf")
            .arg("-c")
            .arg(tree.path("/etc/postfix"))
            .args(["-h", "smtpd_tls_protocols", "smtp_tls_loglevel"])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), ">=TLSv1.2\n1\n");
    }
    let again = tree.run(&["plan", "--answers", ANSWERS]);
    again.expect_code(0);
    assert!(
        again.stdout.contains("nothing to change"),
        "{}",
        again.stdout
    );
    tree.run(&["rollback", "--yes"]).expect_code(0);
    assert_eq!(tree.snapshot_without_state(), before, "rollback restores");
}

#[test]
fn the_answers_certificate_is_named_and_its_key_made_root_only() {
    let tree = Tree::debian12();
    make_cert(
        &tree,
        "/etc/ssl/mail/cert.pem",
        "/etc/ssl/mail/key.pem",
        0o644,
    );
    let answers = answers_with(
        &tree,
        "tls_cert = \"/etc/ssl/mail/cert.pem\"\ntls_key = \"/etc/ssl/mail/key.pem\"\n",
    );
    let plan = tree.run(&["plan", "--answers", &answers]);
    plan.expect_code(1);
    assert!(
        plan.stdout.contains(
            "fix owner/mode of /etc/ssl/mail/key.pem to root:root 0600: the server's private \
             key must be readable by root only"
        ),
        "{}",
        plan.stdout
    );
    tree.run(&["apply", "--yes", "--answers", &answers])
        .expect_code(0);
    assert_eq!(
        param(&tree, "smtpd_tls_cert_file").as_deref(),
        Some("/etc/ssl/mail/cert.pem")
    );
    assert_eq!(
        param(&tree, "smtpd_tls_key_file").as_deref(),
        Some("/etc/ssl/mail/key.pem")
    );
    let mode = std::fs::metadata(tree.path("/etc/ssl/mail/key.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o7777, 0o600);
    tree.run(&["plan", "--answers", &answers]).expect_code(0);
    // rollback gives the key its mode back with the rest
    tree.run(&["rollback", "--yes"]).expect_code(0);
    let mode = std::fs::metadata(tree.path("/etc/ssl/mail/key.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o7777, 0o644);
}

#[test]
fn without_a_certificate_the_snakeoil_one_stays_and_a_missing_one_is_never_named() {
    // another hostname: no certbot certificate for it; Debian's snake-oil pair stays
    let tree = Tree::debian12();
    let answers = answers_with(&tree, "");
    let text = std::fs::read_to_string(&answers).unwrap().replace(
        "hostname = \"mail.example.org\"",
        "hostname = \"mx.example.org\"",
    );
    std::fs::write(&answers, text).unwrap();
    let plan = tree.run(&["plan", "--answers", &answers]);
    assert!(
        plan.stdout.contains(
            "note: Postfix presents Debian's self-signed snake-oil certificate, which other \
             servers cannot verify"
        ) && plan.stdout.contains(
            "certbot certonly --standalone -d mx.example.org --deploy-hook \"postfix reload\""
        ),
        "{}",
        plan.stdout
    );
    assert!(
        !plan.stdout.contains("+smtpd_tls_cert_file"),
        "{}",
        plan.stdout
    );
    // the snake-oil pair gone too: main.cf is not pointed anywhere new, and the plan says so
    std::fs::remove_file(tree.path("/etc/ssl/certs/ssl-cert-snakeoil.pem")).unwrap();
    let plan = tree.run(&["plan", "--answers", &answers]);
    assert!(
        plan.stdout
            .contains("note: there is no certificate to present"),
        "{}",
        plan.stdout
    );
    assert!(
        !plan.stdout.contains("+smtpd_tls_cert_file"),
        "{}",
        plan.stdout
    );
}

#[test]
fn bad_tls_answers_are_refused_naming_the_field_and_nothing_is_written() {
    let tree = Tree::debian12();
    let before = tree.snapshot();
    for (extra, field, rule) in [
        (
            "tls_cert = \"cert.pem\"\ntls_key = \"/etc/k.pem\"\n",
            "`tls_cert` = \"cert.pem\"",
            "absolute path",
        ),
        (
            "tls_cert = \"/etc/c.pem\"\n",
            "`tls_cert`",
            "tls_cert needs tls_key",
        ),
        (
            "tls_key = \"/etc/k.pem\"\n",
            "`tls_key`",
            "tls_key needs tls_cert",
        ),
        (
            "tls_cert = \"/etc/a b.pem\"\ntls_key = \"/etc/k.pem\"\n",
            "`tls_cert`",
            "whitespace",
        ),
        (
            "tls_cert = \"/etc/none.pem\"\ntls_key = \"/etc/none.key\"\n",
            "answers: `tls_cert`",
            "/etc/none.pem does not exist",
        ),
    ] {
        let answers = answers_with(&tree, extra);
        let run = tree.run(&["apply", "--yes", "--answers", &answers]);
        assert_eq!(run.code, 2, "{extra}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains(field) && run.stderr.contains(rule),
            "{extra}: {}",
            run.stderr
        );
    }
    std::fs::remove_file(tree.root().join("answers-tls.toml")).unwrap();
    assert_eq!(tree.snapshot(), before, "nothing written");
}

/// `check --json` findings `(id, severity)` with `answers`, and the exit code.
fn findings(tree: &Tree, lab: &Lab, answers: &str) -> (Vec<(String, String)>, i32) {
    let run = command(tree, lab, "check", answers, &["--json"]);
    let ids = field_of(&run.stdout, "findings", "id");
    let severities = field_of(&run.stdout, "findings", "severity");
    (ids.into_iter().zip(severities).collect(), run.code)
}

fn replace(t: &Tree, file: &str, from: &str, to: &str) {
    let text = t.read(file);
    assert!(text.contains(from), "{file} has no {from:?}");
    t.write(file, &text.replacen(from, to, 1));
}

fn append(t: &Tree, line: &str) {
    let text = t.read(MAIN_CF);
    t.write(MAIN_CF, &format!("{text}{line}"));
}

/// The ids this module produces and follows the fix of: the sweep's cases, and the
/// snake-oil note (`the_snakeoil_certificate_is_a_note_with_the_certbot_command`).
pub(crate) const SWEPT: &[&str] = &[
    "tls.outbound-off",
    "tls.inbound-off",
    "tls.deprecated-parameter",
    "tls.weak-protocol",
    "tls.key-permissions",
    "tls.snakeoil",
];

/// A way to break an applied tree, and the id `check` must then name.
struct Case {
    id: &'static str,
    break_it: fn(&Tree),
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            id: "tls.outbound-off",
            break_it: |t| {
                replace(
                    t,
                    MAIN_CF,
                    "smtp_tls_security_level=may",
                    "smtp_tls_security_level=none",
                )
            },
        },
        Case {
            id: "tls.inbound-off",
            break_it: |t| {
                replace(
                    t,
                    MAIN_CF,
                    "smtpd_tls_security_level=may",
                    "smtpd_tls_security_level=",
                )
            },
        },
        Case {
            id: "tls.deprecated-parameter",
            break_it: |t| append(t, "smtp_use_tls = yes\n"),
        },
        Case {
            id: "tls.weak-protocol",
            break_it: |t| {
                replace(
                    t,
                    MAIN_CF,
                    "smtpd_tls_protocols = >=TLSv1.2",
                    "smtpd_tls_protocols = !SSLv2",
                )
            },
        },
        Case {
            id: "tls.key-permissions",
            break_it: |t| {
                let key = t.path(&format!("{LE}/privkey.pem"));
                std::fs::set_permissions(key, PermissionsExt::from_mode(0o644)).unwrap();
            },
        },
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn every_tls_finding_is_cleared_by_its_fix() {
    let (base, lab) = applied(true).await;
    let answers = answers_2048(&base);
    assert_eq!(findings(&base, &lab, &answers), (vec![], 0));
    let mut failures = Vec::new();
    let ids: Vec<&str> = cases().iter().map(|c| c.id).collect();
    assert_eq!(ids, SWEPT[..5], "every case is in SWEPT");
    for case in cases() {
        let tree = base.copy();
        let answers = answers_2048(&tree);
        (case.break_it)(&tree);
        let human = command(&tree, &lab, "check", &answers, &[]);
        let (broken, code) = findings(&tree, &lab, &answers);
        assert_eq!(code, 1, "{}: check fails: {broken:?}", case.id);
        assert_eq!(
            broken.iter().map(|(i, _)| i.as_str()).collect::<Vec<_>>(),
            [case.id],
            "{}: produced",
            case.id
        );
        assert!(
            human.stdout.contains(&format!(" fix {}\n", case.id)),
            "{}: {}",
            case.id,
            human.stdout
        );
        let run = command(&tree, &lab, "fix", &answers, &[case.id, "--yes"]);
        if run.code != 0 {
            failures.push(format!(
                "{}: fix exit {}:\n{}{}",
                case.id, run.code, run.stdout, run.stderr
            ));
            continue;
        }
        let after = findings(&tree, &lab, &answers);
        if after != (vec![], 0) {
            failures.push(format!("{}: after the fix: {after:?}", case.id));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_snakeoil_certificate_is_a_note_with_the_certbot_command() {
    let (tree, lab) = applied(true).await;
    let answers = answers_2048(&tree);
    // the operator points Postfix back at Debian's pair
    replace(
        &tree,
        MAIN_CF,
        &format!("smtpd_tls_cert_file = {LE}/fullchain.pem"),
        "smtpd_tls_cert_file = /etc/ssl/certs/ssl-cert-snakeoil.pem",
    );
    replace(
        &tree,
        MAIN_CF,
        &format!("smtpd_tls_key_file = {LE}/privkey.pem"),
        "smtpd_tls_key_file = /etc/ssl/private/ssl-cert-snakeoil.key",
    );
    assert_eq!(
        findings(&tree, &lab, &answers),
        (vec![("tls.snakeoil".into(), "info".into())], 0),
        "a note, not a failure"
    );
    let human = command(&tree, &lab, "check", &answers, &[]);
    assert!(
        human.stdout.contains(
            "certbot certonly --standalone -d mail.example.org --deploy-hook \"postfix reload\""
        ),
        "{}",
        human.stdout
    );
    // the fix: the TLS step points Postfix at certbot's certificate again
    command(&tree, &lab, "fix", &answers, &["tls.snakeoil", "--yes"]).expect_code(0);
    assert_eq!(findings(&tree, &lab, &answers), (vec![], 0));
}
