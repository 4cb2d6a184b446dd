//! The records mailsetup prints work the first time: the zone output of `records`, pasted unchanged
//! into a real (in-process) authoritative server, makes `check` pass for every domain.

use crate::support::dns_server::{TestDns, zone};
use crate::support::{self, Tree};

const ANSWERS_2048: &str = r#"hostname = "mail.example.org"
ipv4 = "192.0.2.10"
allow_private_ip = true
domains = ["example.org", "example.net"]
key_bits = 2048
dmarc_rua = "mailto:postmaster@example.org"
"#;

/// A Debian 12 tree after `apply` with 2048-bit keys, and the answers file's path.
fn applied_tree() -> (Tree, String) {
    let tree = Tree::debian12();
    tree.write("/answers.toml", ANSWERS_2048);
    let a = tree.path("/answers.toml").display().to_string();
    tree.run(&["apply", "--yes", "--answers", &a])
        .expect_code(0);
    (tree, a)
}

/// `mailsetup records --format zone --domain D`, which must succeed.
fn records_zone(tree: &Tree, answers: &str, domain: &str) -> support::Run {
    let out = tree.run(&[
        "records",
        "--answers",
        answers,
        "--format",
        "zone",
        "--domain",
        domain,
    ]);
    out.expect_code(0);
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn pasted_zone_output_makes_check_pass() {
    let (tree, a) = applied_tree();
    let mut zones = Vec::new();
    for d in ["example.org", "example.net"] {
        let out = records_zone(&tree, &a, d);
        assert!(
            out.stdout.contains(&format!("$ORIGIN {d}.")),
            "{}",
            out.stdout
        );
        for s in out.stdout.split('"').skip(1).step_by(2) {
            assert!(s.len() <= 255, "a TXT string over 255 bytes: {s}");
        }
        zones.push(format!("{}{}", zone(d, &[]), out.stdout));
    }
    zones.push(zone(
        "2.0.192.in-addr.arpa",
        &["10 IN PTR mail.example.org."],
    ));
    zones.extend(support::scenario::blocklists());
    let refs: Vec<&str> = zones.iter().map(String::as_str).collect();
    let dns = TestDns::start(&refs).await;
    let ns = dns.addr().to_string();
    let port = dns.addr().port().to_string();

    let lab = ["--nameserver", &ns, "--authoritative-port", &port];
    let run = tree.run(&[&["check", "--answers", &a][..], &lab].concat());
    assert_eq!(
        run.code, 0,
        "check must pass on the pasted records:\n{}{}",
        run.stdout, run.stderr
    );
    let json = tree.run(&[&["check", "--answers", &a, "--json"][..], &lab].concat());
    json.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    // the answers ask for p=none: only the monitor-only note, as info
    let ids: Vec<(&str, &str)> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap_or(""),
                f["severity"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        ids,
        [
            ("dmarc.monitor-only", "info"),
            ("dmarc.monitor-only", "info")
        ],
        "{}",
        json.stdout
    );
    let checked = v["checked"].as_array().expect("checked");
    for check in ["dkim", "spf", "dmarc", "mx", "a", "ptr"] {
        assert!(
            checked
                .iter()
                .any(|c| c["check"] == check && c["status"] == "pass"),
            "{check} not passed: {}",
            json.stdout
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_from_another_key_is_a_key_mismatch() {
    let (tree, a) = applied_tree();
    let org = records_zone(&tree, &a, "example.org");
    let other =
        mailsetup::keys::PrivateKey::generate(mailsetup::values::KeyBits::B1024).expect("key");
    let dkim = format!(
        "mail._domainkey IN TXT \"v=DKIM1; k=rsa; p={}\"",
        other.public().p
    );
    let net = zone(
        "example.net",
        &[
            "@ IN MX 10 mail.example.org.",
            "@ IN TXT \"v=spf1 a mx ip4:192.0.2.10 ~all\"",
            &dkim,
            "_dmarc IN TXT \"v=DMARC1; p=none; rua=mailto:postmaster@example.org\"",
        ],
    );
    let mut zones = vec![
        format!("{}{}", zone("example.org", &[]), org.stdout),
        net,
        zone("2.0.192.in-addr.arpa", &["10 IN PTR mail.example.org."]),
    ];
    zones.extend(support::scenario::blocklists());
    let refs: Vec<&str> = zones.iter().map(String::as_str).collect();
    let dns = TestDns::start(&refs).await;
    let run = tree.run(&[
        "check",
        "--answers",
        &a,
        "--nameserver",
        &dns.addr().to_string(),
        "--authoritative-port",
        &dns.addr().port().to_string(),
        "--json",
    ]);
    run.expect_code(1);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let ids: Vec<(&str, &str)> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["severity"] != "info")
        .map(|f| {
            (
                f["id"].as_str().unwrap_or(""),
                f["subject"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        ids,
        vec![("dkim.key-mismatch", "example.net")],
        "{}",
        run.stdout
    );
}

#[test]
fn records_formats_agree() {
    let (tree, a) = applied_tree();
    let json = tree.run(&["records", "--answers", &a, "--format", "json"]);
    json.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    let table = tree.run(&["records", "--answers", &a, "--format", "table"]);
    table.expect_code(0);
    for r in v["records"].as_array().expect("records") {
        let value = r["value"].as_str().expect("value");
        assert!(
            table.stdout.contains(value),
            "table lacks the one-string value {value}"
        );
    }
    let dkim = v["records"]
        .as_array()
        .expect("records")
        .iter()
        .find(|r| r["fqdn"] == "mail._domainkey.example.org.")
        .expect("dkim record");
    let p = dkim["value"]
        .as_str()
        .expect("v")
        .split("p=")
        .nth(1)
        .expect("p=");
    assert_eq!(p.len(), 392, "2048-bit SPKI in base64");
    let key = std::fs::read_to_string(tree.path("/etc/opendkim/keys/example.org/mail.private"))
        .expect("key");
    assert_eq!(
        mailsetup::keys::public_from_pem(&key).expect("pem").p,
        p,
        "p= is the key on disk"
    );
    let auth = v["records"].as_array().expect("records").iter().any(|r| {
        r["fqdn"] == "example.net._report._dmarc.example.org." && r["value"] == "v=DMARC1"
    });
    assert!(
        auth,
        "reports for example.net go to example.org: RFC 7489 §7.1 record\n{}",
        json.stdout
    );
    assert_eq!(v["ptr"][0]["name"], "10.2.0.192.in-addr.arpa.");
}
