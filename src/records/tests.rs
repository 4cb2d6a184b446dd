//! [`build`] for a server with an IPv4 only, an IPv6 only, and both: the SPF `ip4:`/`ip6:`,
//! the hostname's A/AAAA and the PTR requests name exactly the addresses it has.

use std::collections::BTreeMap;

use super::*;
use crate::values::{DmarcPolicy, MailtoUri, SpfAll};

const V4: &str = "192.0.2.10";
const V6: &str = "2001:db8::10";

fn domain(s: &str) -> Domain {
    Domain::parse(s).expect("valid domain")
}

fn settings() -> Settings {
    let mut s = Settings::new(
        domain("mail.example.org"),
        vec![domain("example.org"), domain("example.net")],
    );
    s.spf_all = SpfAll::Fail;
    s.dmarc_policy = DmarcPolicy::Quarantine;
    s.dmarc_rua = Some(MailtoUri::parse("mailto:reports@example.org").expect("valid"));
    s
}

/// A key for example.org only: example.net's DKIM record waits for `apply`.
fn keys() -> BTreeMap<Domain, String> {
    let p = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA".repeat(9);
    BTreeMap::from([(domain("example.org"), p)])
}

fn addrs(v4: Option<&str>, v6: Option<&str>) -> ServerAddrs {
    ServerAddrs::new(
        v4.map(|s| s.parse().expect("IPv4")),
        v6.map(|s| s.parse().expect("IPv6")),
    )
    .expect("at least one address")
}

/// The SPF values, the hostname's (type, value) records and the PTR names of `set`.
fn parts(set: &RecordSet) -> (Vec<&str>, Vec<(&str, &str)>, Vec<&str>) {
    let spf = set
        .records
        .iter()
        .filter(|r| r.name == "@" && r.rtype == Rtype::TXT)
        .map(|r| r.value.as_str())
        .collect();
    let host = set
        .records
        .iter()
        .filter(|r| r.fqdn == "mail.example.org.")
        .map(|r| (r.rtype.as_str(), r.value.as_str()))
        .collect();
    let ptr = set.ptr.iter().map(|p| p.name.as_str()).collect();
    (spf, host, ptr)
}

#[test]
fn every_record_for_every_domain_in_zone_form() {
    let set = build(&settings(), addrs(Some(V4), Some(V6)), &keys());
    insta::assert_snapshot!(render::zone(&set));
}

#[test]
fn ipv4_only_has_ip4_a_and_an_in_addr_ptr() {
    let set = build(&settings(), addrs(Some(V4), None), &keys());
    let (spf, host, ptr) = parts(&set);
    assert_eq!(spf, ["v=spf1 a mx ip4:192.0.2.10 -all"; 2]);
    assert_eq!(host, [("A", V4)]);
    assert_eq!(ptr, ["10.2.0.192.in-addr.arpa."]);
    assert_eq!(set.ptr[0].value, "mail.example.org.");
}

#[test]
fn ipv6_only_has_ip6_aaaa_and_an_ip6_arpa_ptr() {
    let set = build(&settings(), addrs(None, Some(V6)), &keys());
    let (spf, host, ptr) = parts(&set);
    assert_eq!(spf, ["v=spf1 a mx ip6:2001:db8::10 -all"; 2]);
    assert_eq!(host, [("AAAA", V6)]);
    assert_eq!(
        ptr,
        ["0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."]
    );
    let zone = render::zone(&set);
    assert!(!zone.contains("ip4:") && !zone.contains("\tA\t"), "{zone}");
    assert!(!zone.contains("in-addr.arpa"), "{zone}");
}

#[test]
fn both_families_have_both_of_everything_ipv4_first() {
    let set = build(&settings(), addrs(Some(V4), Some(V6)), &keys());
    let (spf, host, ptr) = parts(&set);
    assert_eq!(spf, ["v=spf1 a mx ip4:192.0.2.10 ip6:2001:db8::10 -all"; 2]);
    assert_eq!(host, [("A", V4), ("AAAA", V6)]);
    assert_eq!(ptr.len(), 2);
    assert!(ptr[0].ends_with(".in-addr.arpa.") && ptr[1].ends_with(".ip6.arpa."));
}

/// The addresses come from `addrs`, not from the settings: an IPv4 detected from the
/// interfaces (answers with neither `ipv4` nor `ipv6`) is named like a given one.
#[test]
fn a_detected_address_is_named_like_a_given_one() {
    let s = settings();
    assert_eq!((s.ipv4, s.ipv6), (None, None));
    let set = build(&s, addrs(Some("198.51.100.7"), None), &keys());
    let (spf, host, _) = parts(&set);
    assert_eq!(spf[0], "v=spf1 a mx ip4:198.51.100.7 -all");
    assert_eq!(host, [("A", "198.51.100.7")]);
}

#[test]
fn the_answers_provider_s_procedure_follows_each_ptr_request() {
    let mut s = settings();
    let plain = build(&s, addrs(Some(V4), None), &keys());
    assert_eq!(plain.ptr[0].steps(), None);
    assert!(!render::zone(&plain).contains("at DigitalOcean"));
    s.provider = Some(crate::provider::Provider::DigitalOcean);
    let set = build(&s, addrs(Some(V4), Some(V6)), &keys());
    let zone = render::zone(&set);
    assert!(
        zone.contains(";   at DigitalOcean: the PTR follows the Droplet's name: rename the Droplet to mail.example.org"),
        "{zone}"
    );
    let table = render::table(&set);
    assert!(table.contains("\n  at DigitalOcean: "), "{table}");
    let json: serde_json::Value = serde_json::from_str(&render::json(&set)).expect("JSON");
    assert_eq!(json["ptr"][1]["provider"], "digitalocean");
    assert!(
        json["ptr"][1]["steps"]
            .as_str()
            .is_some_and(|s| s.contains("mail.example.org")),
        "{json}"
    );
}

/// MTA-STS and TLS-RPT only when the answers manage them: the `_mta-sts` TXT names the id of
/// the policy file, which lists the hostname as MX and changes with the mode; every
/// rendering carries the file and where it is served.
#[test]
fn mta_sts_and_tls_rpt_only_when_managed() {
    let plain = build(&settings(), addrs(Some(V4), None), &keys());
    assert!(
        plain
            .records
            .iter()
            .all(|r| r.name != "_mta-sts" && r.name != "_smtp._tls")
    );
    assert!(plain.policies.is_empty());

    let mut s = settings();
    s.mta_sts = Some(crate::values::StsMode::Testing);
    s.tls_rpt_rua = Some(crate::values::TlsRptUri::parse("https://r.example.net/tls").unwrap());
    let set = build(&s, addrs(Some(V4), None), &keys());
    let value = |zone: &str, name: &str| {
        set.records
            .iter()
            .find(|r| r.zone.as_str() == zone && r.name == name)
            .map(|r| (r.fqdn.clone(), r.value.clone()))
    };
    let policy = &set.policies[0];
    assert_eq!(
        policy.text,
        "version: STSv1\nmode: testing\nmx: mail.example.org\nmax_age: 604800\n"
    );
    assert_eq!(
        value("example.net", "_mta-sts"),
        Some((
            "_mta-sts.example.net.".into(),
            format!("v=STSv1; id={}", policy.id)
        ))
    );
    assert_eq!(
        value("example.org", "_smtp._tls").map(|v| v.1).as_deref(),
        Some("v=TLSRPTv1; rua=https://r.example.net/tls")
    );
    assert_eq!(set.policies.len(), 2);
    assert_eq!(
        set.policies[1].url,
        "https://mta-sts.example.net/.well-known/mta-sts.txt"
    );

    s.mta_sts = Some(crate::values::StsMode::Enforce);
    let enforced = build(&s, addrs(Some(V4), None), &keys());
    assert_ne!(
        enforced.policies[0].id, policy.id,
        "the id follows the file"
    );

    let zone = render::zone(&set);
    assert!(zone.contains(";   mode: testing\n"), "{zone}");
    assert!(zone.contains("https://mta-sts.example.org/.well-known/mta-sts.txt"));
    assert!(zone.contains("\"enforce\" in the answers"), "{zone}");
    let table = render::table(&set);
    assert!(
        table.contains("        | mx: mail.example.org\n"),
        "{table}"
    );
    let json: serde_json::Value = serde_json::from_str(&render::json(&set)).unwrap();
    assert_eq!(json["mta_sts_policies"][0]["text"], policy.text.as_str());
    assert_eq!(json["mta_sts_policies"][1]["domain"], "example.net");
    let only = set.filtered(&[domain("example.net")]);
    assert_eq!(only.policies.len(), 1);
}

/// Ed25519 on: each domain's second DKIM record right after its RSA one (after its SPF one
/// when it has no RSA key yet); a domain without an Ed25519 key waits for `apply`. Off:
/// nothing changes.
#[test]
fn the_ed25519_record_follows_the_rsa_one() {
    let p_ed = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
    let mut set = build(&settings(), addrs(Some(V4), None), &keys());
    let before = set.clone();
    add_ed25519(&mut set, &settings(), &BTreeMap::new());
    assert_eq!(set, before, "Ed25519 off: nothing added");

    let mut s = settings();
    s.ed25519 = Some(Selector::parse("ed25519").expect("valid"));
    let ed = BTreeMap::from([
        (domain("example.org"), p_ed.to_string()),
        (domain("example.net"), p_ed.to_string()),
    ]);
    add_ed25519(&mut set, &s, &ed);
    let names: Vec<(&str, &str)> = set
        .records
        .iter()
        .filter(|r| r.rtype == Rtype::TXT)
        .map(|r| (r.zone.as_str(), r.name.as_str()))
        .collect();
    assert_eq!(
        &names[..4],
        [
            ("example.org", "@"),
            ("example.org", "mail._domainkey"),
            ("example.org", "ed25519._domainkey"),
            ("example.org", "_dmarc"),
        ]
    );
    assert!(names.contains(&("example.net", "ed25519._domainkey")));
    let net_at = |name: &str| names.iter().position(|n| *n == ("example.net", name));
    assert_eq!(
        net_at("ed25519._domainkey"),
        net_at("@").map(|i| i + 1),
        "{names:?}"
    );
    let rec = set
        .records
        .iter()
        .find(|r| r.fqdn == "ed25519._domainkey.example.org.")
        .expect("the record");
    assert_eq!(rec.value, format!("v=DKIM1; k=ed25519; p={p_ed}"));
    assert_eq!(
        set.missing_keys,
        [domain("example.net")],
        "its RSA key only"
    );

    let mut set = build(&s, addrs(Some(V4), None), &keys());
    add_ed25519(&mut set, &s, &BTreeMap::new());
    assert_eq!(
        set.missing_keys,
        [domain("example.net"), domain("example.org")]
    );
}
