//! `mailsetup check` through the real binary: `--domain`, `--watch` with its timeout and
//! progress on stderr, plain text when not on a terminal, and bad options (exit 2).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use support::dns_server::zone;
use support::lab::Lab;
use support::scenario::blocklists;
use support::{ANSWERS, Tree};

/// A 2048-bit key record: the tree has no local key, so only its syntax and size count.
fn dkim() -> String {
    let value = format!("v=DKIM1; k=rsa; p={}", support::scenario::P);
    let (a, b) = value.split_at(200);
    format!("mail._domainkey IN TXT \"{a}\" \"{b}\"")
}

/// Zones for the fixture answers (mail.example.org at 192.0.2.10, example.org and
/// example.net); example.net without its DKIM record when `net_dkim` is false.
fn zones(net_dkim: bool) -> Vec<String> {
    let common = [
        "@ IN MX 10 mail.example.org.",
        "@ IN TXT \"v=spf1 ip4:192.0.2.10 -all\"",
        "_dmarc IN TXT \"v=DMARC1; p=quarantine; rua=mailto:postmaster@example.org\"",
    ];
    let dkim = dkim();
    let mut org: Vec<&str> = common.to_vec();
    org.extend(["mail IN A 192.0.2.10", &dkim]);
    org.push("example.net._report._dmarc IN TXT \"v=DMARC1\"");
    let mut net: Vec<&str> = common.to_vec();
    if net_dkim {
        net.push(&dkim);
    }
    let mut z = vec![
        zone("example.org", &org),
        zone("example.net", &net),
        zone("2.0.192.in-addr.arpa", &["10 IN PTR mail.example.org."]),
    ];
    z.extend(blocklists());
    z
}

async fn lab(net_dkim: bool) -> Lab {
    let z = zones(net_dkim);
    let refs: Vec<&str> = z.iter().map(String::as_str).collect();
    Lab::start(&refs).await
}

fn check(tree: &Tree, lab: &Lab, extra: &[&str]) -> support::Run {
    let args = lab.args();
    let mut all: Vec<&str> = vec!["check", "--answers", ANSWERS];
    all.extend(args.iter().map(String::as_str));
    all.extend(extra);
    tree.run(&all)
}

#[tokio::test(flavor = "multi_thread")]
async fn healthy_zones_pass_in_plain_text() {
    let tree = Tree::debian12();
    let lab = lab(true).await;
    let run = check(&tree, &lab, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with("mail.example.org\n  ✓ a "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("\nexample.net\n  ✓ ns "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.ends_with("checks passed, no problems.\n"),
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
    let tree = Tree::debian12();
    let lab = lab(false).await;
    let run = check(&tree, &lab, &["--domain", "example.org", "--json"]);
    assert_eq!(
        run.code, 0,
        "example.net is broken but not checked: {}",
        run.stdout
    );
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let subjects: Vec<&str> = v["checked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["subject"].as_str().unwrap())
        .collect();
    assert!(subjects.contains(&"example.org"));
    assert!(!subjects.contains(&"example.net"), "{subjects:?}");
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
        run.stderr
            .starts_with("round 1: 1 check(s) still failing\n"),
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
    let tree = Tree::debian12();
    let lab = lab(true).await;
    let run = check(&tree, &lab, &["--watch", "--timeout", "30"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stderr, "round 1: every check passes\n");
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
