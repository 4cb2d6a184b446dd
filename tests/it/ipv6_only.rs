//! An IPv6-only server through the binary: `records` names its IPv6 alone (AAAA, `ip6:`, an
//! ip6.arpa PTR), `apply` writes `inet_protocols = ipv6`, and `check` against an in-process
//! zone serving those records passes with no IPv4 line. The answers give the address, so
//! nothing depends on the host's interfaces (which are not looked at beneath `--root`).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crate::support::dns_server::{TestDns, zone};
use crate::support::{self, Tree};

const V6: &str = "2001:db8::10";
/// The reverse name of [`V6`], without the trailing dot.
const V6_REVERSE: &str = "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";

const ANSWERS_V6: &str = r#"hostname = "mail.example.org"
ipv6 = "2001:db8::10"
allow_private_ip = true
domains = ["example.org"]
"#;

/// A Debian 12 tree with [`ANSWERS_V6`] beside it, and the answers file's path.
fn tree_v6() -> (Tree, String) {
    let tree = Tree::debian12();
    tree.write("/answers.toml", ANSWERS_V6);
    let a = tree.path("/answers.toml").display().to_string();
    (tree, a)
}

fn json(run: &support::Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

#[test]
fn records_name_the_ipv6_alone() {
    let (tree, a) = tree_v6();
    let run = tree.run(&["records", "--answers", &a, "--format", "json"]);
    run.expect_code(0);
    let v = json(&run);
    let records = v["records"].as_array().unwrap();
    let of = |rtype: &str| -> Vec<&str> {
        records
            .iter()
            .filter(|r| r["type"] == rtype)
            .map(|r| r["value"].as_str().unwrap())
            .collect()
    };
    assert_eq!(of("AAAA"), [V6], "{}", run.stdout);
    assert!(of("A").is_empty(), "no A record: {}", run.stdout);
    let spf: Vec<&str> = of("TXT")
        .into_iter()
        .filter(|t| t.starts_with("v=spf1"))
        .collect();
    assert_eq!(spf, ["v=spf1 a mx ip6:2001:db8::10 ~all"], "{}", run.stdout);
    let ptr: Vec<&str> = v["ptr"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(ptr, [format!("{V6_REVERSE}.")]);

    let zone = tree.run(&["records", "--answers", &a, "--format", "zone"]);
    zone.expect_code(0);
    assert!(
        zone.stdout.contains(&format!("mail\tIN\tAAAA\t{V6}\n")),
        "{}",
        zone.stdout
    );
    assert!(!zone.stdout.contains("\tIN\tA\t"), "{}", zone.stdout);
    assert!(!zone.stdout.contains("ip4:"), "{}", zone.stdout);
    assert!(!zone.stdout.contains("in-addr.arpa"), "{}", zone.stdout);
}

#[test]
fn plan_and_apply_write_inet_protocols_ipv6() {
    let (tree, a) = tree_v6();
    let plan = tree.run(&["plan", "--answers", &a]);
    plan.expect_code(1);
    assert!(
        plan.stdout.contains("\n+inet_protocols = ipv6\n"),
        "{}",
        plan.stdout
    );
    tree.run(&["apply", "--yes", "--answers", &a])
        .expect_code(0);
    let main_cf = tree.read("/etc/postfix/main.cf");
    assert!(main_cf.contains("\ninet_protocols = ipv6\n"), "{main_cf}");
    tree.run(&["plan", "--answers", &a]).expect_code(0);
}

/// Neither address given, beneath a test root (whose host interfaces are not looked at):
/// exit 2, naming both fields and what to add.
#[test]
fn no_address_at_all_is_an_error_naming_both_fields() {
    let tree = Tree::debian12();
    tree.write(
        "/answers.toml",
        "hostname = \"mail.example.org\"\ndomains = [\"example.org\"]\n",
    );
    let a = tree.path("/answers.toml").display().to_string();
    for command in ["records", "check"] {
        let run = tree.run(&[command, "--answers", &a, "--nameserver", "127.0.0.1:9"]);
        run.expect_code(2);
        assert!(
            run.stderr.contains("neither `ipv4` nor `ipv6`")
                && run.stderr.contains("fix: add `ipv4 = ")
                && run.stderr.contains("`ipv6 = "),
            "{command}: {}",
            run.stderr
        );
    }
}

/// `inet_protocols = "ipv4"` on an IPv6-only server is refused before anything runs.
#[test]
fn ipv4_only_protocols_without_an_ipv4_are_refused() {
    let tree = Tree::debian12();
    tree.write(
        "/answers.toml",
        &format!("{ANSWERS_V6}inet_protocols = \"ipv4\"\n"),
    );
    let a = tree.path("/answers.toml").display().to_string();
    let before = tree.snapshot();
    let run = tree.run(&["apply", "--yes", "--answers", &a]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("`inet_protocols` = \"ipv4\""),
        "{}",
        run.stderr
    );
    assert_eq!(tree.snapshot(), before, "nothing written");
}

/// The records `records` prints, published with the PTR of the IPv6 address: every check
/// passes, and there is no line for the absent IPv4 (no `a`, no in-addr.arpa PTR).
#[tokio::test(flavor = "multi_thread")]
async fn check_passes_on_the_published_records_without_an_ipv4_line() {
    let (tree, a) = tree_v6();
    tree.run(&["apply", "--yes", "--answers", &a])
        .expect_code(0);
    let records = tree.run(&["records", "--answers", &a, "--format", "zone"]);
    records.expect_code(0);
    let mut zones = vec![
        format!("{}{}", zone("example.org", &[]), records.stdout),
        zone(
            "8.b.d.0.1.0.0.2.ip6.arpa",
            &[&format!("{V6_REVERSE}. IN PTR mail.example.org.")],
        ),
    ];
    zones.extend(support::scenario::blocklists());
    let refs: Vec<&str> = zones.iter().map(String::as_str).collect();
    let dns = TestDns::start(&refs).await;
    let (ns, port) = (dns.addr().to_string(), dns.addr().port().to_string());
    let lab = ["--nameserver", ns.as_str(), "--authoritative-port", &port];

    let run = tree.run(&[&["check", "--answers", &a, "--json"][..], &lab].concat());
    let v = json(&run);
    let checked: Vec<(&str, &str, &str)> = v["checked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["check"].as_str().unwrap(),
                c["subject"].as_str().unwrap(),
                c["status"].as_str().unwrap(),
            )
        })
        .collect();
    for want in [
        ("aaaa", "mail.example.org", "pass"),
        ("ptr", V6, "pass"),
        ("rbl", V6, "pass"),
        ("spf", "example.org", "pass"),
        ("mx", "example.org", "pass"),
        ("dkim", "example.org", "pass"),
    ] {
        assert!(checked.contains(&want), "{want:?} in {checked:?}");
    }
    let v4 = |s: &str| s.parse::<std::net::Ipv4Addr>().is_ok();
    assert!(
        !checked
            .iter()
            .any(|(check, subject, _)| *check == "a" || v4(subject)),
        "no line for the absent IPv4: {checked:?}"
    );
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["dmarc.monitor-only"], "{}", run.stdout);
    run.expect_code(0);

    let human = tree.run(&[&["check", "--answers", &a][..], &lab].concat());
    human.expect_code(0);
    let checks: Vec<&str> = human
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    assert!(checks.contains(&"aaaa"), "{}", human.stdout);
    assert!(!checks.contains(&"a"), "{}", human.stdout);
}
