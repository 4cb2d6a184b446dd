//! `check`'s outbound port-25 probe (the `smtp` line) through the real binary, against a
//! listener on loopback whose name the lab's DNS serves: a connection passes, a closed port
//! is `smtp.port25-blocked` with the provider's procedure, a target DNS cannot resolve is
//! `smtp.port25-unknown` (exit 3), and `--offline` or a `--root DIR` without a --port25-*
//! option makes no connection at all. Nothing here connects beyond loopback.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::net::TcpListener;

use crate::check_cli::answers_2048;
use crate::support::dns_server::zone;
use crate::support::lab::Lab;
use crate::support::scenario::fixture_zones_keys;
use crate::support::{Run, Tree};

/// A tree `apply` has set up with the 2048-bit fixture answers plus `provider = "hetzner"`,
/// and a lab publishing its records and the zone `port25.test` (`smtp.port25.test` →
/// 127.0.0.1; no MX).
async fn applied() -> (Tree, Lab) {
    let (tree, _) = crate::check_cli::applied(true).await;
    let answers = std::fs::read_to_string(answers_2048(&tree)).unwrap();
    std::fs::write(
        answers_2048(&tree),
        format!("{answers}provider = \"hetzner\"\n"),
    )
    .unwrap();
    let p = |d: &str| {
        let pem = tree.read(&format!("/etc/opendkim/keys/{d}/mail.private"));
        mailsetup::keys::public_from_pem(&pem).unwrap().p
    };
    let (org, net) = (p("example.org"), p("example.net"));
    let mut z = fixture_zones_keys(&org, Some(net.as_str()));
    z.push(zone("port25.test", &["smtp IN A 127.0.0.1"]));
    let refs: Vec<&str> = z.iter().map(String::as_str).collect();
    (tree, Lab::start(&refs).await)
}

fn check(tree: &Tree, lab: &Lab, extra: &[&str]) -> Run {
    crate::check_cli::command(tree, lab, "check", &answers_2048(tree), extra)
}

/// The `smtp` entries of `check --json`: (status, subject).
fn smtp_lines(run: &Run) -> Vec<(String, String)> {
    let v: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", run.stdout, run.stderr));
    v["checked"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == "smtp")
        .map(|c| {
            (
                c["status"].as_str().unwrap().to_string(),
                c["subject"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_listening_target_passes_and_the_next_step_is_printed() {
    let (tree, lab) = applied().await;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = format!("smtp.port25.test:{}", listener.local_addr().unwrap().port());
    let run = check(&tree, &lab, &["--port25-target", &target]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains(&format!("  ✓ smtp     port 25 → {target}\n")),
        "{}",
        run.stdout
    );
    // the deliverability next step, with this run's options
    assert!(
        run.stdout.contains("Next:\nTest deliverability"),
        "{}",
        run.stdout
    );
    // (Run shows the tree's root as [ROOT])
    assert!(
        run.stdout.contains(
            "mailsetup --root [ROOT] --answers [ROOT]/answers-2048.toml --nameserver 127.0.0.1:"
        ) && run
            .stdout
            .contains(" selftest --via-postfix --to ADDRESS\n"),
        "{}",
        run.stdout
    );
    for needle in [
        "mail-tester.com",
        "checktls.com",
        "Show original",
        "dkim=pass",
    ] {
        assert!(run.stdout.contains(needle), "{needle}: {}", run.stdout);
    }
    let json = check(&tree, &lab, &["--port25-target", &target, "--json"]);
    assert_eq!(json.code, 0, "{}{}", json.stdout, json.stderr);
    assert_eq!(
        smtp_lines(&json),
        [("pass".to_string(), format!("port 25 → {target}"))]
    );
    assert!(!json.stdout.contains("Next:\nTest deliverability"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_closed_port_is_blocked_with_the_provider_s_procedure() {
    let (tree, lab) = applied().await;
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let target = format!("smtp.port25.test:{port}");
    let run = check(&tree, &lab, &["--port25-target", &target, "--json"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        smtp_lines(&run),
        [("fail".to_string(), format!("port 25 → {target}"))]
    );
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["id"], "smtp.port25-blocked");
    assert_eq!(findings[0]["found"], "the connection was refused");
    let fix = findings[0]["fix"].as_str().unwrap();
    assert!(
        fix.contains("Hetzner") && fix.contains("limit request"),
        "{fix}"
    );
    // in plain text: no deliverability step while something fails, no `fix` line (no step)
    let text = check(&tree, &lab, &["--port25-target", &target]);
    assert_eq!(text.code, 1);
    assert!(
        !text.stdout.contains("Next:\nTest deliverability"),
        "{}",
        text.stdout
    );
    assert!(!text.stdout.contains("fix smtp."), "{}", text.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_target_dns_cannot_resolve_is_unknown_never_a_pass() {
    let (tree, lab) = applied().await;
    // port25.test has no MX; nothing.port25.test no address
    for (option, value) in [
        ("--port25-domain", "port25.test"),
        ("--port25-target", "nothing.port25.test"),
    ] {
        let run = check(&tree, &lab, &[option, value, "--json"]);
        assert_eq!(run.code, 3, "{option}: {}{}", run.stdout, run.stderr);
        assert_eq!(smtp_lines(&run)[0].0, "unknown");
        assert!(
            run.stdout.contains("\"smtp.port25-unknown\""),
            "{}",
            run.stdout
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn offline_or_another_root_makes_no_probe() {
    let (tree, lab) = applied().await;
    // a listener that would see any connection
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let target = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    let run = check(
        &tree,
        &lab,
        &["--offline", "--port25-target", &target, "--json"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(smtp_lines(&run), []);
    // --root DIR without a --port25-* option: the tree is not this machine
    let run = check(&tree, &lab, &["--json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(smtp_lines(&run), []);
    assert!(listener.accept().is_err(), "no connection was made");
    // bad values are usage errors
    let bad = check(&tree, &lab, &["--port25-target", "mx.example:0"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("--port25-target"), "{}", bad.stderr);
}

/// `fix smtp.port25-blocked` beneath a --root tree: the probe is about this machine, so it
/// does not run there: "cannot tell" (exit 3), never "not failing".
#[tokio::test(flavor = "multi_thread")]
async fn fix_beneath_another_root_cannot_tell() {
    let (tree, lab) = applied().await;
    let run = crate::check_cli::command(
        &tree,
        &lab,
        "fix",
        &answers_2048(&tree),
        &["smtp.port25-blocked", "--yes"],
    );
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("cannot tell"), "{}", run.stdout);
    assert!(run.stdout.contains("--root / only"), "{}", run.stdout);
}
