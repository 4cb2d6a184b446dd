//! `mailsetup check` through the real binary: `--domain`, `--watch` with its timeout and
//! progress on stderr, plain text when not on a terminal, and bad options (exit 2).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use support::lab::Lab;
use support::scenario::{fixture_zones, fixture_zones_with};
use support::{ANSWERS, Tree};

async fn lab(net_dkim: bool) -> Lab {
    let z = fixture_zones(net_dkim);
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
    assert!(
        run.stdout
            .contains("    fix:      mailsetup fix dkim.weak-key\n"),
        "{}",
        run.stdout
    );
    // a finding fixed at the DNS provider has no such line
    assert!(!run.stdout.contains("mailsetup fix dkim.missing"));
}
