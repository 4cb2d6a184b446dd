//! Records for a fleet (issue #17 item 2): three servers signing example.org, each its own
//! `--root` tree with its own answers and selector, applied; each one's `records --json`
//! merged by `records --fleet`; the merged zone served by the in-process DNS server, where
//! `check` on one host finds nothing wrong with SPF or DKIM (other hosts' addresses in SPF,
//! other hosts' selectors). And the errors: one selector on two hosts with different keys.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crate::check_cli::command;
use crate::support::dns_server::zone;
use crate::support::lab::Lab;
use crate::support::scenario::blocklists;
use crate::support::{Run, Tree};

/// One applied host: its tree, its answers file, its `records --json` file.
struct Host {
    tree: Tree,
    answers: String,
    json: String,
}

/// Host `mxN.example.org` at 192.0.2.1N signing example.org with selector `selector` and
/// `bits`-bit keys, applied beneath its own root; its `records --json` saved in the tree.
fn host(n: u8, selector: &str, bits: u32) -> Host {
    let tree = Tree::debian12();
    let answers = tree.root().join("answers.toml").display().to_string();
    std::fs::write(
        &answers,
        format!(
            "hostname = \"mx{n}.example.org\"\nipv4 = \"192.0.2.1{n}\"\nallow_private_ip = true\n\
             domains = [\"example.org\"]\nselector = \"{selector}\"\nkey_bits = {bits}\n\
             spf_all = \"-all\"\ndmarc_policy = \"quarantine\"\n\
             dmarc_rua = \"mailto:postmaster@example.org\"\n"
        ),
    )
    .unwrap();
    tree.run(&["apply", "--yes", "--answers", &answers])
        .expect_code(0);
    let run = tree.run(&["records", "--json", "--answers", &answers]);
    run.expect_code(0);
    let json = tree
        .root()
        .join(format!("mx{n}.json"))
        .display()
        .to_string();
    std::fs::write(&json, &run.stdout).unwrap();
    Host {
        tree,
        answers,
        json,
    }
}

fn fleet(hosts: &[&Host], extra: &[&str]) -> Run {
    let mut args = vec!["records", "--fleet"];
    args.extend(hosts.iter().map(|h| h.json.as_str()));
    args.extend(extra);
    hosts[0].tree.run(&args)
}

/// The example.org section of a `records --format zone` text as zone-file lines (comments
/// and `$ORIGIN` left out), and the PTR lines it prints as comments.
fn zone_lines(text: &str) -> (Vec<String>, Vec<String>) {
    let section = text
        .split("\n\n")
        .find(|s| s.contains("$ORIGIN example.org."))
        .unwrap();
    let records = section
        .lines()
        .filter(|l| !l.starts_with(';') && !l.starts_with('$') && !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    let ptr = text
        .lines()
        .filter_map(|l| l.strip_prefix(";   "))
        .filter(|l| l.contains("\tIN\tPTR\t"))
        .map(str::to_string)
        .collect();
    (records, ptr)
}

/// A lab serving example.org as `records` (zone lines), the reverse zone with `ptr`, and the
/// blocklists.
async fn serve(records: &[String], ptr: &[String]) -> Lab {
    let org: Vec<&str> = records.iter().map(String::as_str).collect();
    let rev: Vec<&str> = ptr.iter().map(String::as_str).collect();
    let mut zones = vec![
        zone("example.org", &org),
        zone("2.0.192.in-addr.arpa", &rev),
    ];
    zones.extend(blocklists());
    let refs: Vec<&str> = zones.iter().map(String::as_str).collect();
    Lab::start(&refs).await
}

/// `check --json` on `h` against `lab`: the ids of its findings and its `checked` lines.
fn check(h: &Host, lab: &Lab) -> (Vec<String>, serde_json::Value) {
    let run = command(&h.tree, lab, "check", &h.answers, &["--json"]);
    let v: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", run.stdout, run.stderr));
    let ids = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    (ids, v)
}

fn status(v: &serde_json::Value, check: &str) -> String {
    v["checked"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == check && c["subject"] == "example.org")
        .map(|c| c["status"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no {check} line: {v:#}"))
}

fn about_spf_or_dkim(ids: &[String]) -> Vec<&String> {
    ids.iter()
        .filter(|i| i.starts_with("spf.") || i.starts_with("dkim."))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn three_hosts_merge_into_one_spf_and_check_passes_on_each() {
    let hosts = [
        host(1, "mx1", 2048),
        host(2, "mx2", 2048),
        host(3, "mx3", 2048),
    ];
    let all: Vec<&Host> = hosts.iter().collect();

    let run = fleet(&all, &["--json"]);
    run.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let records = v["records"].as_array().unwrap();
    let spf: Vec<&str> = records
        .iter()
        .filter(|r| r["type"] == "TXT" && r["value"].as_str().unwrap().starts_with("v=spf1"))
        .map(|r| r["value"].as_str().unwrap())
        .collect();
    assert_eq!(
        spf,
        ["v=spf1 a mx ip4:192.0.2.11 ip4:192.0.2.12 ip4:192.0.2.13 -all"]
    );
    let selectors: Vec<&str> = records
        .iter()
        .filter_map(|r| r["selector"].as_str())
        .collect();
    assert_eq!(selectors, ["mx1", "mx2", "mx3"]);
    let mx = records.iter().filter(|r| r["type"] == "MX").count();
    assert_eq!(mx, 3, "{}", run.stdout);
    assert_eq!(v["ptr"].as_array().unwrap().len(), 3);
    assert_eq!(v["missing_dkim"].as_array().unwrap().len(), 0);

    let zone_text = fleet(&all, &["--format", "zone"]).stdout.clone();
    let (records, ptr) = zone_lines(&zone_text);
    let lab = serve(&records, &ptr).await;
    for h in &hosts {
        let (ids, v) = check(h, &lab);
        assert!(about_spf_or_dkim(&ids).is_empty(), "{ids:?}");
        assert_eq!(status(&v, "spf"), "pass", "{v:#}");
        assert_eq!(status(&v, "dkim"), "pass", "{v:#}");
    }
}

/// Without the merge the same hosts do fail: mx1's own records published alone leave mx2's
/// address out of SPF and its selector unpublished. (What the fleet test above proves is
/// not a check that cannot fail.)
#[tokio::test(flavor = "multi_thread")]
async fn one_hosts_records_alone_fail_the_other_hosts_check() {
    let (h1, h2) = (host(1, "mx1", 2048), host(2, "mx2", 2048));
    let own = h1
        .tree
        .run(&["records", "--format", "zone", "--answers", &h1.answers]);
    let (records, ptr) = zone_lines(&own.stdout);
    let lab = serve(&records, &ptr).await;
    let (ids, _) = check(&h2, &lab);
    assert!(ids.contains(&"spf.ip-not-permitted".to_string()), "{ids:?}");
    assert!(ids.contains(&"dkim.missing".to_string()), "{ids:?}");
    let (ids, _) = check(&h1, &lab);
    assert!(about_spf_or_dkim(&ids).is_empty(), "{ids:?}");
}

/// Two hosts on one selector with different keys: `records --fleet` refuses, naming both
/// hosts, the domain, the selector and the fix; and the host whose key is not the one
/// published is told by `check` that another host may sign with its selector.
#[tokio::test(flavor = "multi_thread")]
async fn one_selector_on_two_hosts_is_refused_and_check_says_why() {
    let (h1, h2) = (host(1, "mail", 1024), host(2, "mail", 1024));
    let run = fleet(&[&h1, &h2], &[]);
    run.expect_code(2);
    for part in [
        "mx1.example.org",
        "mx2.example.org",
        "example.org",
        "`mail`",
        "own selector",
        "mailsetup rotate --selector mx2",
    ] {
        assert!(run.stderr.contains(part), "{part:?}: {}", run.stderr);
    }
    assert!(run.stdout.is_empty(), "{}", run.stdout);

    // mx1's records are published; mx2 signs with another key under the same selector
    let own = h1
        .tree
        .run(&["records", "--format", "zone", "--answers", &h1.answers]);
    let (records, ptr) = zone_lines(&own.stdout);
    let lab = serve(&records, &ptr).await;
    let run = command(&h2.tree, &lab, "check", &h2.answers, &["--json"]);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let mismatch = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "dkim.key-mismatch")
        .unwrap_or_else(|| panic!("{v:#}"));
    let msg = mismatch["message"].as_str().unwrap();
    assert!(
        msg.contains("another server may sign example.org with the same selector `mail`")
            && msg.contains("--selector"),
        "{msg}"
    );
}

/// An answers file stands for a host whose records were not gathered: everything but its
/// DKIM record, which is listed with what to run on it.
#[test]
fn an_answers_file_stands_for_a_host_without_its_dkim_record() {
    let h1 = host(1, "mx1", 1024);
    let other = h1.tree.root().join("mx2.toml").display().to_string();
    std::fs::write(
        &other,
        "hostname = \"mx2.example.org\"\nipv4 = \"192.0.2.12\"\nallow_private_ip = true\n\
         domains = [\"example.org\"]\nselector = \"mx2\"\nspf_all = \"-all\"\n\
         dmarc_policy = \"quarantine\"\ndmarc_rua = \"mailto:postmaster@example.org\"\n",
    )
    .unwrap();
    let run = h1.tree.run(&["records", "--fleet", &h1.json, &other]);
    run.expect_code(0);
    assert!(
        run.stdout
            .contains("@\tIN\tTXT\t\"v=spf1 a mx ip4:192.0.2.11 ip4:192.0.2.12 -all\""),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("mx1._domainkey\tIN\tTXT"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "; DKIM of mx2.example.org: not known; run `mailsetup records --json` on \
             mx2.example.org and pass its output instead of [ROOT]/mx2.toml"
        ),
        "{}",
        run.stdout
    );
    // --domain keeps to the fleet's zones
    let bad = h1.tree.run(&[
        "records",
        "--fleet",
        &h1.json,
        &other,
        "--domain",
        "example.com",
    ]);
    bad.expect_code(2);
    assert!(
        bad.stderr.contains("--domain example.com"),
        "{}",
        bad.stderr
    );
}
