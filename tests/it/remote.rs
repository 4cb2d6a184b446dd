//! `mailsetup check DOMAIN…`: the remote check of any domain, without answers, through the
//! binary against the in-process DNS lab: a healthy domain passes every line; broken SPF,
//! no DMARC, an MX host without address and a listed MX address give their ids; DKIM at a
//! given selector or at a common one; `--json`; answers present or not; exit 3 for a domain
//! no server answers for.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use serde_json::Value;

use crate::support::dns_server::zone;
use crate::support::lab::Lab;
use crate::support::scenario::{LISTS, blocklist, blocklists, forward};
use crate::support::{ANSWERS, Run, Tree};

/// A lab serving example.org with `edits` ([`forward`]), and the blocklists, the first
/// listing `listed` (reversed-octet names).
async fn lab(edits: &[(&str, Option<&str>)], listed: &[&str]) -> Lab {
    let mut zones = vec![forward(edits)];
    zones.extend(blocklists().into_iter().skip(1));
    zones.push(blocklist(LISTS[0], listed));
    // an MX host in another zone
    zones.push(zone("example.net", &["mx IN A 192.0.2.26"]));
    let refs: Vec<&str> = zones.iter().map(String::as_str).collect();
    Lab::start(&refs).await
}

/// `mailsetup check ARGS…` with the lab's DNS options, in an empty tree (no answers file).
fn check(lab: &Lab, args: &[&str]) -> Run {
    let tree = Tree::debian12();
    let mut all: Vec<String> = lab.args();
    all.push("check".into());
    all.extend(args.iter().map(|a| a.to_string()));
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    tree.run(&refs)
}

fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

/// The `(check, subject, status)` of every line.
fn lines(v: &Value) -> Vec<(String, String, String)> {
    v["checked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap().to_string();
            (s("check"), s("subject"), s("status"))
        })
        .collect()
}

fn ids(v: &Value) -> Vec<String> {
    let mut ids: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread")]
async fn remote_healthy_domain_passes_every_line() {
    let lab = lab(&[], &[]).await;
    let run = check(&lab, &["example.org", "--selector", "mail", "--json"]);
    let v = json(&run);
    assert_eq!(ids(&v), Vec::<String>::new(), "{}", run.stdout);
    let want = [
        ("ns", "example.org"),
        ("mx", "example.org"),
        ("a", "mail.example.org"),
        ("spf", "example.org"),
        ("dmarc", "example.org"),
        ("dkim", "mail._domainkey.example.org"),
        ("rbl", "192.0.2.25"),
    ];
    let got = lines(&v);
    assert_eq!(
        got.iter()
            .map(|(c, s, _)| (c.as_str(), s.as_str()))
            .collect::<Vec<_>>(),
        want,
        "{got:?}"
    );
    assert!(got.iter().all(|(_, _, st)| st == "pass"), "{got:?}");
    assert_eq!(v["verdict"], "pass");
    run.expect_code(0);

    // the same in plain text, the common selectors finding `mail`, no `mailsetup fix` line
    let human = check(&lab, &["example.org"]);
    human.expect_code(0);
    assert!(
        human.stdout.starts_with("example.org\n"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("mail._domainkey.example.org"),
        "{}",
        human.stdout
    );
    assert!(!human.stdout.contains("fix "), "{}", human.stdout);

    // with answers too, a domain argument means the remote check: no line of this server
    let with = check(&lab, &["--answers", ANSWERS, "example.org", "--json"]);
    assert_eq!(lines(&json(&with)), got);
    with.expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn remote_domain_the_servers_do_not_know_is_unverifiable() {
    let lab = lab(&[], &[]).await;
    let run = check(&lab, &["example.com", "--json"]);
    let v = json(&run);
    assert_eq!(v["verdict"], "unverifiable", "{}", run.stdout);
    run.expect_code(3);
}

#[tokio::test(flavor = "multi_thread")]
async fn remote_broken_domain_reports_the_ids() {
    let lab = lab(
        &[
            ("spf", Some("@ IN TXT \"v=spf1 ip4:198.51.100.1 -all\"")),
            ("dmarc", None),
            ("mx2", Some("@ IN MX 20 nowhere")),
            ("mx3", Some("@ IN MX 30 mx.example.net.")),
        ],
        &["25.2.0.192 IN A 127.0.0.2"],
    )
    .await;
    let run = check(&lab, &["example.org", "--json"]);
    let v = json(&run);
    let mut want = vec![
        "dmarc.missing",
        "host.a-missing",
        "rbl.listed",
        "spf.ip-not-permitted",
        "spf.ip-not-permitted",
    ];
    want.sort();
    assert_eq!(ids(&v), want, "{}", run.stdout);
    let findings = v["findings"].as_array().unwrap();
    let host = findings
        .iter()
        .find(|f| f["id"] == "host.a-missing")
        .unwrap();
    assert_eq!(host["subject"], "nowhere.example.org");
    let spf: Vec<&str> = findings
        .iter()
        .filter(|f| f["id"] == "spf.ip-not-permitted")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(spf.iter().any(|m| m.contains("192.0.2.25")), "{spf:?}");
    assert!(spf.iter().any(|m| m.contains("192.0.2.26")), "{spf:?}");
    assert!(spf.iter().all(|m| m.contains("MX hosts")), "{spf:?}");
    let listed = findings.iter().find(|f| f["id"] == "rbl.listed").unwrap();
    assert_eq!(listed["subject"], "192.0.2.25");
    assert_eq!(v["verdict"], "fail");
    run.expect_code(1);
    let got = lines(&v);
    for (check, subject) in [
        ("a", "nowhere.example.org"),
        ("a", "mx.example.net"),
        ("rbl", "192.0.2.26"),
    ] {
        assert!(
            got.iter().any(|(c, s, _)| c == check && s == subject),
            "{check} {subject}: {got:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn remote_dkim_at_a_selector_or_none_found() {
    let p = crate::support::scenario::P;
    // a character-string holds at most 255 bytes: the key in two
    let other = format!(
        "k9._domainkey IN TXT \"v=DKIM1; k=rsa; p={}\" \"{}\"",
        &p[..200],
        &p[200..]
    );
    let lab = lab(&[("dkim", Some(other.as_str()))], &[]).await;
    // no common selector has a key: info, the check passes
    let run = check(&lab, &["example.org", "--json"]);
    let v = json(&run);
    assert_eq!(ids(&v), ["dkim.no-selector"], "{}", run.stdout);
    let f = &v["findings"][0];
    assert_eq!(f["severity"], "info");
    run.expect_code(0);
    // the selector named finds the key; another named one is missing
    let run = check(
        &lab,
        &[
            "example.org",
            "--selector",
            "k9",
            "--selector",
            "mail",
            "--json",
        ],
    );
    let v = json(&run);
    assert_eq!(ids(&v), ["dkim.missing"], "{}", run.stdout);
    let got = lines(&v);
    assert!(got.contains(&(
        "dkim".into(),
        "k9._domainkey.example.org".into(),
        "pass".into()
    )));
    assert!(got.contains(&(
        "dkim".into(),
        "mail._domainkey.example.org".into(),
        "fail".into()
    )));
    run.expect_code(1);
}

#[tokio::test(flavor = "multi_thread")]
async fn remote_options_that_do_not_apply_exit_2() {
    let lab = lab(&[], &[]).await;
    check(&lab, &["example.org", "--watch"]).expect_code(2);
    check(&lab, &["--selector", "mail"]).expect_code(2);
    check(&lab, &["not a domain"]).expect_code(2);
}
