use std::collections::BTreeMap;

use serde_json::Value;

use super::*;
use crate::records::render;
use crate::settings::Settings;
use crate::values::ServerAddrs;

/// Answers for host `host` (a short name under example.org) at `ip`, signing `domains` with
/// `selector`, plus `extra` lines.
fn answers(host: &str, ip: &str, domains: &[&str], selector: &str, extra: &str) -> Settings {
    let domains: Vec<String> = domains.iter().map(|d| format!("{d:?}")).collect();
    let text = format!(
        "hostname = \"{host}.example.org\"\nipv4 = \"{ip}\"\nallow_private_ip = true\n\
         domains = [{}]\nselector = \"{selector}\"\n{extra}",
        domains.join(", ")
    );
    crate::answers::parse(&text).unwrap()
}

/// A host as its `records --json` gives it: the records of `s` with key `p` for every domain,
/// rendered and read back.
fn host_json(s: &Settings, p: &str) -> HostRecords {
    let keys: BTreeMap<Domain, String> = s.domains.iter().map(|d| (d.clone(), p.into())).collect();
    let addrs = ServerAddrs::new(s.ipv4, s.ipv6).unwrap();
    let set = super::super::build(s, addrs, &keys);
    let file = format!("{}.json", short_name(&s.hostname));
    read(&file, &render::json(&set)).unwrap()
}

fn values<'a>(set: &'a RecordSet, zone: &str, name: &str, t: Rtype) -> Vec<&'a str> {
    set.records
        .iter()
        .filter(|r| r.zone.as_str() == zone && r.name == name && r.rtype == t)
        .map(|r| r.value.as_str())
        .collect()
}

fn err(hosts: &[HostRecords]) -> String {
    merge(hosts).unwrap_err().to_string()
}

#[test]
fn the_json_of_one_host_reads_back_as_its_records() {
    let s = answers("mx1", "192.0.2.10", &["example.org"], "mx1", "");
    let addrs = ServerAddrs::new(s.ipv4, s.ipv6).unwrap();
    let keys = BTreeMap::from([(Domain::parse("example.org").unwrap(), "AAAA".to_string())]);
    let set = super::super::build(&s, addrs, &keys);
    let back = read("mx1.json", &render::json(&set)).unwrap();
    assert_eq!(back.source, Source::Records);
    assert_eq!(back.hostname().as_str(), "mx1.example.org");
    assert_eq!(back.set, set);
}

#[test]
fn merged_spf_holds_every_hosts_address_once() {
    let h1 = host_json(
        &answers(
            "mx1",
            "192.0.2.10",
            &["example.org"],
            "mx1",
            "ipv6 = \"2001:db8::10\"\ninet_protocols = \"all\"",
        ),
        "K1",
    );
    let h2 = host_json(
        &answers("mx2", "192.0.2.20", &["example.org"], "mx2", ""),
        "K2",
    );
    let h3 = host_json(
        &answers("mx3", "192.0.2.30", &["example.org"], "mx3", ""),
        "K3",
    );
    let set = merge(&[h1, h2, h3]).unwrap();
    assert_eq!(
        values(&set, "example.org", "@", Rtype::TXT),
        ["v=spf1 a mx ip4:192.0.2.10 ip6:2001:db8::10 ip4:192.0.2.20 ip4:192.0.2.30 ~all"]
    );
    let spf = set
        .records
        .iter()
        .find(|r| r.name == "@" && r.rtype == Rtype::TXT)
        .unwrap();
    let hosts: Vec<&str> = spf.hosts.iter().map(|h| h.as_str()).collect();
    assert_eq!(
        hosts,
        ["mx1.example.org", "mx2.example.org", "mx3.example.org"]
    );
    // one DKIM record per host's selector, each from its host
    for (sel, p, host) in [
        ("mx1", "K1", "mx1"),
        ("mx2", "K2", "mx2"),
        ("mx3", "K3", "mx3"),
    ] {
        let name = format!("{sel}._domainkey");
        assert_eq!(
            values(&set, "example.org", &name, Rtype::TXT),
            [format!("v=DKIM1; k=rsa; p={p}")]
        );
        let r = set.records.iter().find(|r| r.name == name).unwrap();
        assert_eq!(
            r.hosts,
            [Domain::parse(&format!("{host}.example.org")).unwrap()]
        );
    }
    // one MX per host, A/AAAA per hostname, PTR per address
    assert_eq!(
        values(&set, "example.org", "@", Rtype::MX),
        [
            "10 mx1.example.org.",
            "10 mx2.example.org.",
            "10 mx3.example.org."
        ]
    );
    assert_eq!(
        values(&set, "example.org", "mx1", Rtype::AAAA),
        ["2001:db8::10"]
    );
    assert_eq!(values(&set, "example.org", "mx3", Rtype::A), ["192.0.2.30"]);
    assert_eq!(set.ptr.len(), 4);
    assert_eq!(set.servers.len(), 3);
    // one DMARC record, asked for by all three
    assert_eq!(values(&set, "example.org", "_dmarc", Rtype::TXT).len(), 1);
    assert!(set.missing_keys.is_empty() && set.missing_dkim.is_empty());
}

#[test]
fn records_of_a_zone_are_in_kind_order() {
    let h1 = host_json(
        &answers("mx1", "192.0.2.10", &["example.org"], "mx1", ""),
        "K1",
    );
    let h2 = host_json(
        &answers("mx2", "192.0.2.20", &["example.org"], "mx2", ""),
        "K2",
    );
    let set = merge(&[h1, h2]).unwrap();
    let kinds: Vec<Kind> = set.records.iter().map(kind).collect();
    let mut sorted = kinds.clone();
    sorted.sort();
    assert_eq!(kinds, sorted);
}

#[test]
fn a_domain_only_some_hosts_sign_gets_those_hosts_records() {
    let h1 = host_json(
        &answers(
            "mx1",
            "192.0.2.10",
            &["example.org", "example.net"],
            "mx1",
            "",
        ),
        "K1",
    );
    let h2 = host_json(
        &answers("mx2", "192.0.2.20", &["example.org"], "mx2", ""),
        "K2",
    );
    let set = merge(&[h1, h2]).unwrap();
    assert_eq!(
        values(&set, "example.net", "@", Rtype::TXT),
        ["v=spf1 a mx ip4:192.0.2.10 ~all"]
    );
    assert_eq!(
        values(&set, "example.net", "@", Rtype::MX),
        ["10 mx1.example.org."]
    );
    assert!(values(&set, "example.net", "mx2._domainkey", Rtype::TXT).is_empty());
    assert_eq!(
        values(&set, "example.org", "@", Rtype::TXT),
        ["v=spf1 a mx ip4:192.0.2.10 ip4:192.0.2.20 ~all"]
    );
}

#[test]
fn the_same_selector_with_the_same_key_is_one_record_of_both_hosts() {
    let h1 = host_json(
        &answers("mx1", "192.0.2.10", &["example.org"], "mail", ""),
        "SAME",
    );
    let h2 = host_json(
        &answers("mx2", "192.0.2.20", &["example.org"], "mail", ""),
        "SAME",
    );
    let set = merge(&[h1, h2]).unwrap();
    let dkim: Vec<&Record> = set
        .records
        .iter()
        .filter(|r| r.name == "mail._domainkey")
        .collect();
    assert_eq!(dkim.len(), 1);
    assert_eq!(dkim[0].hosts.len(), 2);
}

#[test]
fn the_same_selector_with_different_keys_is_an_error_naming_both_hosts_and_the_fix() {
    let h1 = host_json(
        &answers("mx1", "192.0.2.10", &["example.org"], "mail", ""),
        "K1",
    );
    let h2 = host_json(
        &answers("mx2", "192.0.2.20", &["example.org"], "mail", ""),
        "K2",
    );
    let e = err(&[h1, h2]);
    for part in [
        "mx1.example.org (mx1.json)",
        "mx2.example.org (mx2.json)",
        "example.org",
        "`mail`",
        "own selector",
        "mailsetup rotate --selector mx2",
    ] {
        assert!(e.contains(part), "{part:?} missing from: {e}");
    }
}

#[test]
fn hosts_disagreeing_on_spf_all_is_an_error_naming_them() {
    let h1 = host_json(
        &answers("mx1", "192.0.2.10", &["example.org"], "mx1", ""),
        "K1",
    );
    let h2 = host_json(
        &answers(
            "mx2",
            "192.0.2.20",
            &["example.org"],
            "mx2",
            "spf_all = \"-all\"",
        ),
        "K2",
    );
    let e = err(&[h1, h2]);
    for part in [
        "`~all`",
        "`-all`",
        "mx1.example.org",
        "mx2.example.org",
        "spf_all",
    ] {
        assert!(e.contains(part), "{part:?} missing from: {e}");
    }
}

#[test]
fn hosts_disagreeing_on_dmarc_is_an_error_naming_the_field_and_hosts() {
    let h1 = host_json(
        &answers("mx1", "192.0.2.10", &["example.org"], "mx1", ""),
        "K1",
    );
    let h2 = host_json(
        &answers(
            "mx2",
            "192.0.2.20",
            &["example.org"],
            "mx2",
            "dmarc_policy = \"reject\"",
        ),
        "K2",
    );
    let e = err(&[h1, h2]);
    for part in [
        "_dmarc.example.org.",
        "dmarc_policy",
        "p=reject",
        "mx1.json",
        "mx2.json",
    ] {
        assert!(e.contains(part), "{part:?} missing from: {e}");
    }
}

#[test]
fn hosts_disagreeing_on_tls_rpt_is_an_error_naming_the_field() {
    let h1 = host_json(
        &answers(
            "mx1",
            "192.0.2.10",
            &["example.org"],
            "mx1",
            "tls_rpt_rua = \"mailto:a@example.org\"",
        ),
        "K1",
    );
    let h2 = host_json(
        &answers(
            "mx2",
            "192.0.2.20",
            &["example.org"],
            "mx2",
            "tls_rpt_rua = \"mailto:b@example.org\"",
        ),
        "K2",
    );
    assert!(err(&[h1, h2]).contains("tls_rpt_rua"));
}

#[test]
fn mta_sts_policy_names_every_mx_and_its_id_follows() {
    let extra = "mta_sts = \"testing\"";
    let h1 = host_json(
        &answers("mx1", "192.0.2.10", &["example.org"], "mx1", extra),
        "K1",
    );
    let h2 = host_json(
        &answers("mx2", "192.0.2.20", &["example.org"], "mx2", extra),
        "K2",
    );
    let set = merge(&[h1, h2]).unwrap();
    assert_eq!(set.policies.len(), 1);
    let p = &set.policies[0];
    assert_eq!(
        p.text,
        "version: STSv1\nmode: testing\nmx: mx1.example.org\nmx: mx2.example.org\nmax_age: 604800\n"
    );
    assert_eq!(p.id, sts::policy_id(&p.text));
    assert_eq!(
        values(&set, "example.org", "_mta-sts", Rtype::TXT),
        [sts::mta_sts_value(&p.id)]
    );
}

#[test]
fn hosts_disagreeing_on_the_mta_sts_mode_is_an_error() {
    let h1 = host_json(
        &answers(
            "mx1",
            "192.0.2.10",
            &["example.org"],
            "mx1",
            "mta_sts = \"testing\"",
        ),
        "K1",
    );
    let h2 = host_json(
        &answers(
            "mx2",
            "192.0.2.20",
            &["example.org"],
            "mx2",
            "mta_sts = \"enforce\"",
        ),
        "K2",
    );
    let e = err(&[h1, h2]);
    assert!(
        e.contains("`mta_sts`") && e.contains("mx2.example.org"),
        "{e}"
    );
}

#[test]
fn the_same_hostname_twice_is_an_error() {
    let s = answers("mx1", "192.0.2.10", &["example.org"], "mx1", "");
    let h1 = host_json(&s, "K1");
    let mut h2 = h1.clone();
    h2.file = "again.json".into();
    let e = err(&[h1, h2]);
    assert!(e.contains("mx1.json") && e.contains("again.json"), "{e}");
}

#[test]
fn two_hosts_with_one_address_is_an_error() {
    let h1 = host_json(
        &answers("mx1", "192.0.2.10", &["example.org"], "mx1", ""),
        "K1",
    );
    let h2 = host_json(
        &answers("mx2", "192.0.2.10", &["example.org"], "mx2", ""),
        "K2",
    );
    let e = err(&[h1, h2]);
    assert!(e.contains("192.0.2.10") && e.contains("PTR"), "{e}");
}

#[test]
fn no_host_is_an_error() {
    assert!(err(&[]).contains("no host"));
}

#[test]
fn answers_give_every_record_but_dkim_which_is_listed_missing_with_what_to_run() {
    let text = "hostname = \"mx2.example.org\"\nipv4 = \"192.0.2.20\"\nallow_private_ip = true\n\
                domains = [\"example.org\"]\nselector = \"mx2\"\n";
    let h2 = read("mx2.toml", text).unwrap();
    assert_eq!(h2.source, Source::Answers);
    let h1 = host_json(
        &answers("mx1", "192.0.2.10", &["example.org"], "mx1", ""),
        "K1",
    );
    let set = merge(&[h1, h2]).unwrap();
    assert_eq!(
        values(&set, "example.org", "@", Rtype::TXT),
        ["v=spf1 a mx ip4:192.0.2.10 ip4:192.0.2.20 ~all"]
    );
    assert_eq!(set.missing_keys, [Domain::parse("example.org").unwrap()]);
    assert_eq!(set.missing_dkim.len(), 1);
    let m = &set.missing_dkim[0];
    assert_eq!(m.host.as_str(), "mx2.example.org");
    assert!(
        m.fix.contains("mailsetup records --json") && m.fix.contains("mx2.toml"),
        "{}",
        m.fix
    );
    let zone = render::zone(&set);
    assert!(
        zone.contains("; DKIM of mx2.example.org: not known;"),
        "{zone}"
    );
    assert!(!zone.contains("run `mailsetup apply` first"), "{zone}");
}

#[test]
fn a_host_without_a_key_yet_is_listed_with_apply() {
    let s = answers("mx2", "192.0.2.20", &["example.org"], "mx2", "");
    let set = super::super::build(
        &s,
        ServerAddrs::new(s.ipv4, None).unwrap(),
        &BTreeMap::new(),
    );
    let h2 = read("mx2.json", &render::json(&set)).unwrap();
    let h1 = host_json(
        &answers("mx1", "192.0.2.10", &["example.org"], "mx1", ""),
        "K1",
    );
    let merged = merge(&[h1, h2]).unwrap();
    assert_eq!(merged.missing_dkim.len(), 1);
    assert!(merged.missing_dkim[0].fix.contains("mailsetup apply"));
}

#[test]
fn answers_without_an_address_are_refused() {
    let text = "hostname = \"mx2.example.org\"\ndomains = [\"example.org\"]\n";
    let e = read("mx2.toml", text).unwrap_err().to_string();
    assert!(e.contains("--fleet mx2.toml") && e.contains("ipv4"), "{e}");
}

#[test]
fn unreadable_files_are_refused_naming_them() {
    let e = read("x.json", "{\"records\": [{\"type\": \"SRV\"}]}")
        .unwrap_err()
        .to_string();
    assert!(e.contains("--fleet x.json"), "{e}");
    let e = read("x.json", "not json").unwrap_err().to_string();
    assert!(e.contains("records --json"), "{e}");
    let e = read("x", "hostname = 3").unwrap_err().to_string();
    assert!(e.contains("--fleet x"), "{e}");
}

#[test]
fn a_merged_output_is_refused_as_one_host() {
    let h1 = host_json(
        &answers("mx1", "192.0.2.10", &["example.org"], "mx1", ""),
        "K1",
    );
    let h2 = host_json(
        &answers("mx2", "192.0.2.20", &["example.org"], "mx2", ""),
        "K2",
    );
    let merged = render::json(&merge(&[h1, h2]).unwrap());
    let e = read("fleet.json", &merged).unwrap_err().to_string();
    assert!(e.contains("several hosts"), "{e}");
}

#[test]
fn the_merge_renders_its_hosts_and_selectors_in_json() {
    let h1 = host_json(
        &answers("mx1", "192.0.2.10", &["example.org"], "mx1", ""),
        "K1",
    );
    let h2 = host_json(
        &answers("mx2", "192.0.2.20", &["example.org"], "mx2", ""),
        "K2",
    );
    let v: Value = serde_json::from_str(&render::json(&merge(&[h1, h2]).unwrap())).unwrap();
    let hosts: Vec<&str> = v["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["hostname"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, ["mx1.example.org", "mx2.example.org"]);
    let dkim = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "mx2._domainkey")
        .unwrap();
    assert_eq!(dkim["selector"], "mx2");
    assert_eq!(dkim["hosts"], serde_json::json!(["mx2.example.org"]));
}

#[test]
fn an_answers_host_on_another_hosts_selector_is_warned_of_the_clash() {
    let h1 = host_json(
        &answers("mx1", "192.0.2.10", &["example.org"], "mail", ""),
        "K1",
    );
    let h2 = from_answers(
        "mx2.toml",
        &answers("mx2", "192.0.2.20", &["example.org"], "mail", ""),
    )
    .unwrap();
    let set = merge(&[h1, h2]).unwrap();
    let fix = &set.missing_dkim[0].fix;
    assert!(
        fix.contains("mx1.example.org publishes a key at the same selector `mail`")
            && fix.contains("mailsetup rotate --selector mx2"),
        "{fix}"
    );
    let own = from_answers(
        "mx3.toml",
        &answers("mx3", "192.0.2.30", &["example.org"], "mx3", ""),
    )
    .unwrap();
    let h1 = host_json(
        &answers("mx1", "192.0.2.10", &["example.org"], "mail", ""),
        "K1",
    );
    let set = merge(&[h1, own]).unwrap();
    assert!(
        !set.missing_dkim[0].fix.contains("same selector"),
        "{}",
        set.missing_dkim[0].fix
    );
    assert_eq!(
        set.missing_dkim[0].selector.as_ref().map(|s| s.as_str()),
        Some("mx3")
    );
}
