//! The check scenarios' zones: a healthy setup as keyed records that a test can drop or
//! replace, the blocklist zones, the input, and assertions on a report. Used by
//! `tests/it/check.rs` and `tests/it/check_servers.rs`.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::net::Ipv4Addr;

use mailsetup::check::report::to_human;
use mailsetup::check::{CheckInput, DomainInput, ExpectedRecords, Report, Status, run};
use mailsetup::values::{Domain, Selector};

use super::dns_server::zone;
use super::lab::Lab;

/// A 2048-bit RSA SubjectPublicKeyInfo, base64 (392 chars): the local key.
pub const P: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEArzhylgs+LXsdpXPoVa9i6A6XqyaZCFSVNe1uL/yXixz8+JeXmyAhr/bcKDs/AUPvMg3lIGA8iVQjHvlojzgj3Zd4W/6x3CPDnrpm/CTvN+oegxMzjW0DfbM2oqiIzD9s5tGUTOtUjHRajSh8j2Yq5m4k3ADjo2IeF5Ib9WQdmB5oeIjifk2kmOBdHhthtg+A5oWVZL4g6i7VExRFQpy+rR7TzvzzZyAHpN1ylt7N71ZvcbuL4uY7g7H51sOr/YTZbnE0LIJ4eecrvIQa/WIjiCzfu5OFOU35AKVNPGWPY7UoVUXCFFsbppFCn1eIG1ltCCc+0hlBr+q0J9Y4zhp9rwIDAQAB";
/// Some other key.
pub const OTHER_P: &str =
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz";

pub const SPF: &str = "v=spf1 ip4:192.0.2.25 -all";
pub const DMARC: &str = "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.org";

/// The healthy forward zone, one keyed line per record, so a test can drop or replace one.
pub fn healthy_records() -> Vec<(&'static str, String)> {
    vec![
        ("mx", "@ IN MX 10 mail".into()),
        ("a", "mail IN A 192.0.2.25".into()),
        ("spf", format!("@ IN TXT \"{SPF}\"")),
        (
            "verification",
            "@ IN TXT \"google-site-verification=abc\"".into(),
        ),
        // DKIM split into several character-strings, the p= itself split too
        (
            "dkim",
            format!(
                "mail._domainkey IN TXT \"v=DKIM1; k=rsa; \" \"p={}\" \"{}\"",
                &P[..200],
                &P[200..]
            ),
        ),
        ("dmarc", format!("_dmarc IN TXT \"{DMARC}\"")),
    ]
}

/// The forward zone with `edits` applied: `(key, Some(line))` replaces the keyed record (or
/// adds one under a new key), `(key, None)` removes it.
pub fn forward(edits: &[(&str, Option<&str>)]) -> String {
    let mut records = healthy_records();
    for (key, line) in edits {
        records.retain(|(k, _)| k != key);
        if let Some(line) = line {
            records.push((key, line.to_string()));
        }
    }
    let lines: Vec<&str> = records.iter().map(|(_, l)| l.as_str()).collect();
    zone("example.org", &lines)
}

pub fn reverse(records: &[&str]) -> String {
    zone("2.0.192.in-addr.arpa", records)
}

pub fn healthy_reverse() -> String {
    reverse(&["25 IN PTR mail.example.org."])
}

pub fn input() -> CheckInput {
    CheckInput {
        hostname: Domain::parse("mail.example.org").unwrap(),
        ipv4: Some(Ipv4Addr::new(192, 0, 2, 25)),
        ipv6: None,
        ipv6_enabled: false,
        provider: None,
        domains: vec![DomainInput {
            domain: Domain::parse("example.org").unwrap(),
            selector: Selector::parse("mail").unwrap(),
            local_p: Some(P.to_string()),
            ed25519: None,
            expected: ExpectedRecords {
                spf: SPF.into(),
                dkim: format!("v=DKIM1; k=rsa; p={P}"),
                dmarc: DMARC.into(),
                ..ExpectedRecords::default()
            },
        }],
    }
}

/// The blocklists mailsetup asks.
pub const LISTS: [&str; 3] = [
    "zen.spamhaus.org",
    "bl.spamcop.net",
    "b.barracudacentral.org",
];

/// The RFC 5782 §5 test entry every list serves: 127.0.0.2 listed (127.0.0.1 is not).
pub const TEST_ENTRY: &str = "2.0.0.127 IN A 127.0.0.2";

/// A blocklist zone listing its test entry and `records`.
pub fn blocklist(list: &str, records: &[&str]) -> String {
    let mut all = vec![TEST_ENTRY];
    all.extend(records);
    zone(list, &all)
}

/// The blocklist zones with only their test entry: every address is not listed (NXDOMAIN).
pub fn blocklists() -> Vec<String> {
    LISTS.iter().map(|z| blocklist(z, &[])).collect()
}

/// Run the checks against one server serving `zones` plus the blocklists.
pub async fn check_zones(zones: &[String], input: &CheckInput) -> Report {
    let mut all: Vec<String> = zones.to_vec();
    all.extend(blocklists());
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    let lab = Lab::start(&refs).await;
    run(input, &lab.options()).await
}

pub async fn check_with(forward: String, reverse: String, input: &CheckInput) -> Report {
    check_zones(&[forward, reverse], input).await
}

pub async fn check(forward: String, reverse: String) -> Report {
    check_with(forward, reverse, &input()).await
}

pub fn ids_of(r: &Report) -> Vec<&'static str> {
    let mut ids: Vec<_> = r.findings.iter().map(|f| f.id).collect();
    ids.sort();
    ids
}

/// Exactly `id` was found, its check has `want`, every other check passes; the exit code is
/// 1, or 3 when `id` says the check could not run (`dns.unverifiable`, `local.unreadable`).
pub fn assert_only(r: &Report, id: &str, check: &str, want: Status) {
    assert_findings(r, &[id], &[(check, want)]);
    let code = if r.findings.iter().all(mailsetup::check::is_unknown) {
        3
    } else {
        1
    };
    assert_eq!(r.exit_code(), code);
}

/// Exactly the findings `ids` (sorted), the checks in `failing` (`check` or
/// `check subject`) have their status, every other check passes.
pub fn assert_findings(r: &Report, ids: &[&str], failing: &[(&str, Status)]) {
    assert_eq!(ids_of(r), ids, "{}", to_human(r, false));
    for c in &r.checked {
        let expect = failing
            .iter()
            .find(|(check, _)| *check == c.check || *check == format!("{} {}", c.check, c.subject))
            .map_or(Status::Pass, |(_, s)| *s);
        assert_eq!(
            c.status,
            expect,
            "{} {}\n{}",
            c.check,
            c.subject,
            to_human(r, false)
        );
    }
}

/// A 2048-bit key record: the tree has no local key, so only its syntax and size count.
pub fn fixture_dkim(p: &str) -> String {
    let value = format!("v=DKIM1; k=rsa; p={p}");
    let (a, b) = value.split_at(value.len().min(200));
    format!("mail._domainkey IN TXT \"{a}\" \"{b}\"")
}

/// Zones for `tests/fixtures/answers.toml` (mail.example.org at 192.0.2.10, example.org and
/// example.net); example.net without its DKIM record when `net_dkim` is false.
pub fn fixture_zones(net_dkim: bool) -> Vec<String> {
    fixture_zones_with(net_dkim, P)
}

/// As [`fixture_zones`], example.org's DKIM record carrying `p` (and example.net's too
/// when `net_dkim`).
pub fn fixture_zones_with(net_dkim: bool, p: &str) -> Vec<String> {
    fixture_zones_keys(p, net_dkim.then_some(p))
}

/// As [`fixture_zones`], with each domain's own DKIM key (`None`: no DKIM record).
pub fn fixture_zones_keys(p: &str, net: Option<&str>) -> Vec<String> {
    let common = [
        "@ IN MX 10 mail.example.org.",
        "@ IN TXT \"v=spf1 ip4:192.0.2.10 -all\"",
        "_dmarc IN TXT \"v=DMARC1; p=quarantine; rua=mailto:postmaster@example.org\"",
    ];
    let dkim = fixture_dkim(p);
    let net_dkim_record = net.map(fixture_dkim);
    let mut org: Vec<&str> = common.to_vec();
    org.extend(["mail IN A 192.0.2.10", &dkim]);
    org.push("example.net._report._dmarc IN TXT \"v=DMARC1\"");
    let mut net_records: Vec<&str> = common.to_vec();
    if let Some(record) = &net_dkim_record {
        net_records.push(record);
    }
    let mut z = vec![
        zone("example.org", &org),
        zone("example.net", &net_records),
        zone("2.0.192.in-addr.arpa", &["10 IN PTR mail.example.org."]),
    ];
    z.extend(blocklists());
    z
}
