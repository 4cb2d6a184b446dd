//! `check::run` against real authoritative servers on loopback: a healthy setup passes
//! everything, and each zone that breaks one thing yields exactly that finding id.
//! Scenarios that need two servers, a stale resolver or `--watch` are in `check_servers.rs`.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::net::Ipv6Addr;
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use mailsetup::check::report::{to_human, to_json};
use mailsetup::check::{Report, Severity, Status, ids, run};
use mailsetup::dns::{AuthOptions, Nameserver};
use mailsetup::values::Domain;

use crate::support::dns_server::{RcodeServer, dead_addr, zone};
use crate::support::scenario::*;

#[tokio::test]
async fn healthy_setup_has_no_findings() {
    let r = check(forward(&[]), healthy_reverse()).await;
    assert_eq!(r.findings, [], "{}", to_human(&r, false));
    let checked: Vec<(&str, &str, Status)> = r
        .checked
        .iter()
        .map(|c| (c.check, c.subject.as_str(), c.status))
        .collect();
    assert_eq!(
        checked,
        [
            ("a", "mail.example.org", Status::Pass),
            ("ptr", "192.0.2.25", Status::Pass),
            ("rbl", "192.0.2.25", Status::Pass),
            ("ns", "example.org", Status::Pass),
            ("dkim", "example.org", Status::Pass),
            ("spf", "example.org", Status::Pass),
            ("dmarc", "example.org", Status::Pass),
            ("mx", "example.org", Status::Pass),
            ("mta-sts", "example.org", Status::Pass),
            ("tls-rpt", "example.org", Status::Pass),
        ]
    );
    assert_eq!(r.exit_code(), 0);
}

#[tokio::test]
async fn healthy_dual_stack_setup_has_no_findings() {
    let fwd = forward(&[
        ("aaaa", Some("mail IN AAAA 2001:db8::25")),
        (
            "spf",
            Some("@ IN TXT \"v=spf1 ip4:192.0.2.25 ip6:2001:db8::/64 -all\""),
        ),
    ]);
    let rev6 = zone(
        "8.b.d.0.1.0.0.2.ip6.arpa",
        &["5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 IN PTR mail.example.org."],
    );
    let mut input = input();
    input.ipv6 = Some("2001:db8::25".parse::<Ipv6Addr>().unwrap());
    input.ipv6_enabled = true;
    let r = check_zones(&[fwd, healthy_reverse(), rev6], &input).await;
    assert_eq!(r.findings, [], "{}", to_human(&r, false));
    let checked: Vec<(&str, &str)> = r
        .checked
        .iter()
        .map(|c| (c.check, c.subject.as_str()))
        .collect();
    assert_eq!(
        &checked[..4],
        [
            ("a", "mail.example.org"),
            ("aaaa", "mail.example.org"),
            ("ptr", "192.0.2.25"),
            ("ptr", "2001:db8::25"),
        ]
    );
    assert!(r.checked.iter().all(|c| c.status == Status::Pass));
}

#[tokio::test]
async fn dkim_missing() {
    let r = check(forward(&[("dkim", None)]), healthy_reverse()).await;
    assert_only(&r, ids::DKIM_MISSING, "dkim", Status::Fail);
    let f = &r.findings[0];
    assert_eq!(f.severity, Severity::Error);
    assert!(
        f.message.contains("mail._domainkey.example.org"),
        "{}",
        f.message
    );
    let fix = f.fix.as_deref().unwrap();
    assert!(
        fix.starts_with("mail._domainkey.example.org. IN TXT \"v=DKIM1; k=rsa; p=MIIB"),
        "{fix}"
    );
    // 2048-bit key: more than 255 bytes, so the fix splits it into two strings
    assert_eq!(fix.matches('"').count(), 4, "{fix}");
}

#[tokio::test]
async fn dkim_key_mismatch() {
    let mut input = input();
    input.domains[0].local_p = Some(OTHER_P.into());
    let r = check_with(forward(&[]), healthy_reverse(), &input).await;
    assert_only(&r, ids::DKIM_KEY_MISMATCH, "dkim", Status::Fail);
    assert!(r.findings[0].found.as_deref().unwrap().contains(&P[200..]));
}

#[tokio::test]
async fn dkim_revoked_key_is_a_mismatch() {
    let fwd = forward(&[(
        "dkim",
        Some("mail._domainkey IN TXT \"v=DKIM1; k=rsa; p=\""),
    )]);
    let r = check(fwd, healthy_reverse()).await;
    assert_only(&r, ids::DKIM_KEY_MISMATCH, "dkim", Status::Fail);
    assert!(r.findings[0].message.contains("revoked"));
}

#[tokio::test]
async fn dkim_without_local_key_checks_syntax_only() {
    let mut input = input();
    input.domains[0].local_p = None;
    let r = check_with(forward(&[]), healthy_reverse(), &input).await;
    assert_eq!(r.findings, []);
}

#[tokio::test]
async fn dkim_syntax() {
    for record in [
        "mail._domainkey IN TXT \"v=DKIM1; k=rsa\"",
        "mail._domainkey IN TXT \"v=DKIM2; k=rsa; p=QUJD\"",
    ] {
        let r = check(forward(&[("dkim", Some(record))]), healthy_reverse()).await;
        assert_only(&r, ids::DKIM_SYNTAX, "dkim", Status::Fail);
    }
}

#[tokio::test]
async fn dkim_two_records_is_syntax() {
    let second = "mail._domainkey IN TXT \"v=DKIM1; k=rsa; p=QUJD\"";
    let r = check(forward(&[("dkim2", Some(second))]), healthy_reverse()).await;
    assert_only(&r, ids::DKIM_SYNTAX, "dkim", Status::Fail);
    assert_eq!(r.findings[0].found.as_deref().unwrap().lines().count(), 2);
}

#[tokio::test]
async fn spf_missing() {
    // the apex keeps another TXT record: only v=spf1 records count
    let r = check(forward(&[("spf", None)]), healthy_reverse()).await;
    assert_only(&r, ids::SPF_MISSING, "spf", Status::Fail);
    assert_eq!(
        r.findings[0].fix.as_deref(),
        Some(
            "example.org. IN TXT \"v=spf1 ip4:192.0.2.25 -all\"\n\
             or in a web form: name @, type TXT, value v=spf1 ip4:192.0.2.25 -all"
        )
    );
}

#[tokio::test]
async fn spf_multiple() {
    let r = check(
        forward(&[("spf2", Some("@ IN TXT \"v=spf1 mx -all\""))]),
        healthy_reverse(),
    )
    .await;
    assert_only(&r, ids::SPF_MULTIPLE, "spf", Status::Fail);
}

#[tokio::test]
async fn spf_ip_not_permitted() {
    let fwd = forward(&[("spf", Some("@ IN TXT \"v=spf1 ip4:192.0.2.99 -all\""))]);
    let r = check(fwd, healthy_reverse()).await;
    assert_only(&r, ids::SPF_IP_NOT_PERMITTED, "spf", Status::Fail);
    let f = &r.findings[0];
    assert!(
        f.message.contains("fail") && f.message.contains("192.0.2.25"),
        "{}",
        f.message
    );
    assert_eq!(f.found.as_deref(), Some("v=spf1 ip4:192.0.2.99 -all"));
    assert_eq!(f.expected.as_deref(), Some(SPF));
}

#[tokio::test]
async fn spf_ip_not_permitted_for_ipv6() {
    let fwd = forward(&[("aaaa", Some("mail IN AAAA 2001:db8::25"))]);
    let rev6 = zone(
        "8.b.d.0.1.0.0.2.ip6.arpa",
        &["5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 IN PTR mail.example.org."],
    );
    let mut input = input();
    input.ipv6 = Some("2001:db8::25".parse().unwrap());
    input.ipv6_enabled = true;
    let r = check_zones(&[fwd, healthy_reverse(), rev6], &input).await;
    assert_only(&r, ids::SPF_IP_NOT_PERMITTED, "spf", Status::Fail);
    assert!(r.findings[0].message.contains("2001:db8::25"));
}

#[tokio::test]
async fn spf_temperror_is_unverifiable_not_fail() {
    // the include target is in no served zone: REFUSED during evaluation -> temperror
    let fwd = forward(&[(
        "spf",
        Some("@ IN TXT \"v=spf1 include:_spf.example.com -all\""),
    )]);
    let r = check(fwd, healthy_reverse()).await;
    assert_only(&r, ids::DNS_UNVERIFIABLE, "spf", Status::Unknown);
    assert!(
        r.findings[0].message.contains("temperror"),
        "{}",
        r.findings[0].message
    );
}

#[tokio::test]
async fn dmarc_missing() {
    let r = check(forward(&[("dmarc", None)]), healthy_reverse()).await;
    assert_only(&r, ids::DMARC_MISSING, "dmarc", Status::Warn);
    assert_eq!(r.findings[0].severity, Severity::Warning);
}

#[tokio::test]
async fn dmarc_multiple() {
    let r = check(
        forward(&[("dmarc2", Some("_dmarc IN TXT \"v=DMARC1; p=none\""))]),
        healthy_reverse(),
    )
    .await;
    assert_only(&r, ids::DMARC_MULTIPLE, "dmarc", Status::Fail);
}

#[tokio::test]
async fn dmarc_syntax() {
    let r = check(
        forward(&[("dmarc", Some("_dmarc IN TXT \"v=DMARC1; p=bogus\""))]),
        healthy_reverse(),
    )
    .await;
    assert_only(&r, ids::DMARC_SYNTAX, "dmarc", Status::Fail);
}

#[tokio::test]
async fn mx_missing() {
    let r = check(forward(&[("mx", None)]), healthy_reverse()).await;
    assert_only(&r, ids::MX_MISSING, "mx", Status::Warn);
    assert_eq!(
        r.findings[0].fix.as_deref(),
        Some("example.org. IN MX 10 mail.example.org.")
    );
}

#[tokio::test]
async fn mx_not_this_host() {
    let r = check(
        forward(&[("mx", Some("@ IN MX 10 mx1.example.net."))]),
        healthy_reverse(),
    )
    .await;
    assert_only(&r, ids::MX_NOT_THIS_HOST, "mx", Status::Warn);
    assert_eq!(r.findings[0].found.as_deref(), Some("10 mx1.example.net."));
}

#[tokio::test]
async fn host_a_missing() {
    let r = check(forward(&[("a", None)]), healthy_reverse()).await;
    // the PTR names the host, which does not resolve back: not forward-confirmed
    let failing = [("a", Status::Fail), ("ptr", Status::Fail)];
    assert_findings(&r, &[ids::HOST_A_MISSING, ids::PTR_MISMATCH], &failing);
    assert_eq!(
        r.findings[0].fix.as_deref(),
        Some("mail.example.org. IN A 192.0.2.25")
    );
}

#[tokio::test]
async fn host_a_mismatch() {
    let r = check(
        forward(&[("a", Some("mail IN A 192.0.2.99"))]),
        healthy_reverse(),
    )
    .await;
    let failing = [("a", Status::Fail), ("ptr", Status::Fail)];
    assert_findings(&r, &[ids::HOST_A_MISMATCH, ids::PTR_MISMATCH], &failing);
    assert_eq!(r.findings[0].found.as_deref(), Some("192.0.2.99"));
    let ptr = &r.findings[1];
    assert!(
        ptr.message.contains("does not resolve back") && ptr.message.contains("192.0.2.99"),
        "{}",
        ptr.message
    );
    assert_eq!(
        ptr.fix.as_deref(),
        Some("mail.example.org. IN A 192.0.2.25")
    );
}

#[tokio::test]
async fn host_aaaa_mismatch() {
    let fwd = forward(&[
        ("aaaa", Some("mail IN AAAA 2001:db8::99")),
        (
            "spf",
            Some("@ IN TXT \"v=spf1 ip4:192.0.2.25 ip6:2001:db8::/64 -all\""),
        ),
    ]);
    let rev6 = zone(
        "8.b.d.0.1.0.0.2.ip6.arpa",
        &["5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 IN PTR mail.example.org."],
    );
    let mut input = input();
    input.ipv6 = Some("2001:db8::25".parse().unwrap());
    input.ipv6_enabled = true;
    let r = check_zones(&[fwd, healthy_reverse(), rev6], &input).await;
    let failing = [("aaaa", Status::Fail), ("ptr 2001:db8::25", Status::Fail)];
    assert_findings(&r, &[ids::HOST_A_MISMATCH, ids::PTR_MISMATCH], &failing);
}

#[tokio::test]
async fn ptr_missing() {
    let r = check(forward(&[]), reverse(&["26 IN PTR other.example.org."])).await;
    assert_only(&r, ids::PTR_MISSING, "ptr", Status::Fail);
    let fix = r.findings[0].fix.as_deref().unwrap();
    assert!(fix.contains("ask the provider of 192.0.2.25"), "{fix}");
    assert!(
        fix.contains("25.2.0.192.in-addr.arpa. IN PTR mail.example.org."),
        "{fix}"
    );
}

#[tokio::test]
async fn ptr_mismatch() {
    let r = check(
        forward(&[]),
        reverse(&["25 IN PTR host-25.provider.example."]),
    )
    .await;
    assert_only(&r, ids::PTR_MISMATCH, "ptr", Status::Fail);
    assert_eq!(
        r.findings[0].found.as_deref(),
        Some("host-25.provider.example")
    );
    assert_eq!(r.findings[0].expected.as_deref(), Some("mail.example.org"));
}

#[tokio::test]
async fn dead_server_is_unverifiable_not_fail() {
    let mut options = AuthOptions::new(Nameserver::At(dead_addr().await));
    options.timeout = Duration::from_millis(150);
    options.attempts = 0;
    let start = std::time::Instant::now();
    let r = run(&input(), &options).await;
    // 10 checks, each a few lookups of 150 ms: concurrent, not one after another
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_millis(1200), "{elapsed:?}");
    assert_eq!(r.checked.len(), 10);
    assert!(
        r.checked.iter().all(|c| c.status == Status::Unknown),
        "{:?}",
        r.checked
    );
    for f in &r.findings {
        if f.id == ids::RBL_UNKNOWN {
            assert_eq!(f.severity, Severity::Info);
            continue;
        }
        assert_eq!(f.id, ids::DNS_UNVERIFIABLE);
        assert_eq!(f.severity, Severity::Warning);
        assert!(f.message.starts_with("could not verify "), "{}", f.message);
    }
    let unverifiable = r.findings.iter().filter(|f| f.id == ids::DNS_UNVERIFIABLE);
    assert_eq!(unverifiable.count(), 9, "{}", to_human(&r, false));
    assert_eq!(r.exit_code(), 3, "could not verify, not failing");
}

#[tokio::test]
async fn servfail_is_unverifiable_not_fail() {
    let srv = RcodeServer::start(ResponseCode::ServFail).await;
    let r = run(&input(), &AuthOptions::new(Nameserver::At(srv.addr()))).await;
    assert!(
        r.checked.iter().all(|c| c.status == Status::Unknown),
        "{:?}",
        r.checked
    );
    assert!(
        r.findings
            .iter()
            .all(|f| f.id == ids::DNS_UNVERIFIABLE || f.id == ids::RBL_UNKNOWN)
    );
    let dkim = r
        .findings
        .iter()
        .find(|f| f.message.contains("DKIM"))
        .unwrap();
    assert!(
        dkim.message.starts_with(
            "could not verify the DKIM record mail._domainkey.example.org (TXT): \
             the server answered SERVFAIL"
        ),
        "{}",
        dkim.message
    );
}

#[tokio::test]
async fn one_unanswerable_domain_does_not_affect_the_others() {
    // example.net is not served: every lookup for it is REFUSED
    let mut input = input();
    let mut other = input.domains[0].clone();
    other.domain = Domain::parse("example.net").unwrap();
    input.domains.push(other);
    let r = check_with(forward(&[]), healthy_reverse(), &input).await;
    for c in &r.checked {
        let want = if c.subject == "example.net" {
            Status::Unknown
        } else {
            Status::Pass
        };
        assert_eq!(c.status, want, "{} {}", c.check, c.subject);
    }
    assert_eq!(r.findings.len(), 7, "{}", to_human(&r, false));
    assert!(
        r.findings
            .iter()
            .all(|f| f.id == ids::DNS_UNVERIFIABLE && f.subject == "example.net")
    );
}

#[tokio::test]
async fn dns_text_is_sanitized_before_display() {
    let evil = "mail._domainkey IN TXT \"v=DKIM1; k=rsa; p=\u{1b}]0;pwned\u{7}\u{1b}[2JQUJD\"";
    let r = check(forward(&[("dkim", Some(evil))]), healthy_reverse()).await;
    // the raw record is compared (and fails), but nothing displayed carries the escapes
    assert_only(&r, ids::DKIM_SYNTAX, "dkim", Status::Fail);
    let found = r.findings[0].found.as_deref().unwrap();
    assert_eq!(found, "v=DKIM1; k=rsa; p=QUJD");
    assert!(!to_human(&r, false).contains('\u{1b}'));
    assert!(!to_human(&r, true).contains("\u{1b}]"));
    assert!(!to_json(&r).contains("\\u001b"));
}

#[tokio::test]
async fn json_output_has_the_contract_shape() {
    let r = check(forward(&[("mx", None)]), healthy_reverse()).await;
    let v: serde_json::Value = serde_json::from_str(&to_json(&r)).unwrap();
    let f = &v["findings"][0];
    assert_eq!(f["id"], "mx.missing");
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["subject"], "example.org");
    assert_eq!(f["found"], serde_json::Value::Null);
    assert_eq!(f["expected"], "10 mail.example.org.");
    assert_eq!(
        v["checked"][7],
        serde_json::json!({"check":"mx","subject":"example.org","status":"warn"})
    );
}

/// The DKIM record `value` published at `mail._domainkey`.
fn dkim_record(value: &str) -> String {
    txt_line("mail._domainkey", value)
}

/// A zone-file TXT line: `value` split into strings of at most 250 bytes, `\` and `"`
/// escaped (RFC 1035 §5.1).
fn txt_line(owner: &str, value: &str) -> String {
    let strings: Vec<String> = value
        .as_bytes()
        .chunks(250)
        .map(|c| {
            let c = String::from_utf8_lossy(c);
            format!("\"{}\"", c.replace('\\', "\\\\").replace('"', "\\\""))
        })
        .collect();
    format!("{owner} IN TXT {}", strings.join(" "))
}

async fn paste_error(value: &str) -> Report {
    let line = dkim_record(value);
    check(forward(&[("dkim", Some(&line))]), healthy_reverse()).await
}

#[tokio::test]
async fn dkim_paste_errors_say_which() {
    let cases = [
        (format!("v=DKIM1; k=rsa; p=\"{P}\""), "quot"),
        (format!("( v=DKIM1; k=rsa; p={P} )"), "parenthes"),
        (format!("v=DKIM1; h=rsa-sha256; k=rsa; p={P}"), "h="),
        (format!("v=DKIM1; k=rsa; p={}", &P[..250]), "cut short"),
        (
            format!("mail._domainkey IN TXT v=DKIM1; k=rsa; p={P}"),
            "mail._domainkey",
        ),
    ];
    for (value, says) in cases {
        let r = paste_error(&value).await;
        assert_only(&r, ids::DKIM_PASTE_ERROR, "dkim", Status::Fail);
        let f = &r.findings[0];
        assert_eq!(f.severity, Severity::Error);
        assert!(
            f.message.to_lowercase().contains(says),
            "{value}: {}",
            f.message
        );
        assert!(
            f.fix
                .as_deref()
                .unwrap()
                .contains("or in a web form: name mail._domainkey,")
        );
    }
}

#[tokio::test]
async fn dkim_whitespace_inside_p_is_a_paste_warning() {
    let r = paste_error(&format!("v=DKIM1; k=rsa; p={} {}", &P[..200], &P[200..])).await;
    assert_only(&r, ids::DKIM_PASTE_ERROR, "dkim", Status::Warn);
    assert_eq!(r.findings[0].severity, Severity::Warning);
}

#[tokio::test]
async fn dkim_record_under_a_doubled_zone_name_is_a_paste_error() {
    // typed the full name into a form that appends the zone again
    let doubled = txt_line(
        "mail._domainkey.example.org",
        &format!("v=DKIM1; k=rsa; p={P}"),
    );
    let r = check(
        forward(&[("dkim", None), ("doubled", Some(&doubled))]),
        healthy_reverse(),
    )
    .await;
    assert_only(&r, ids::DKIM_PASTE_ERROR, "dkim", Status::Fail);
    let f = &r.findings[0];
    assert!(
        f.message
            .contains("published at mail._domainkey.example.org.example.org"),
        "{}",
        f.message
    );
    assert!(
        f.fix
            .as_deref()
            .unwrap()
            .starts_with("delete the record at ")
    );
}

#[tokio::test]
async fn dkim_1024_bit_key_is_weak() {
    let key = mailsetup::keys::PrivateKey::generate(mailsetup::values::KeyBits::B1024).unwrap();
    let p = key.public().p.clone();
    let mut input = input();
    input.domains[0].local_p = Some(p.clone());
    let line = dkim_record(&format!("v=DKIM1; k=rsa; p={p}"));
    let r = check_with(forward(&[("dkim", Some(&line))]), healthy_reverse(), &input).await;
    assert_only(&r, ids::DKIM_WEAK_KEY, "dkim", Status::Warn);
    assert_eq!(r.findings[0].found.as_deref(), Some("1024-bit RSA"));
}

#[tokio::test]
async fn dmarc_p_none_is_monitor_only_info() {
    let r = check(
        forward(&[("dmarc", Some("_dmarc IN TXT \"v=DMARC1; p=none\""))]),
        healthy_reverse(),
    )
    .await;
    assert_eq!(ids_of(&r), [ids::DMARC_MONITOR_ONLY]);
    assert_eq!(r.findings[0].severity, Severity::Info);
    assert!(r.findings[0].fix.as_deref().unwrap().contains("quarantine"));
    assert!(r.checked.iter().all(|c| c.status == Status::Pass));
    assert_eq!(r.exit_code(), 0);
}

fn external_rua() -> String {
    forward(&[(
        "dmarc",
        Some("_dmarc IN TXT \"v=DMARC1; p=reject; rua=mailto:reports@dmarc.example.net\""),
    )])
}

#[tokio::test]
async fn dmarc_external_rua_without_authorization() {
    let net = zone("example.net", &[]);
    let r = check_zones(&[external_rua(), healthy_reverse(), net], &input()).await;
    assert_only(&r, ids::DMARC_RUA_UNAUTHORIZED, "dmarc", Status::Warn);
    let f = &r.findings[0];
    assert_eq!(
        f.expected.as_deref(),
        Some("example.org._report._dmarc.dmarc.example.net. IN TXT \"v=DMARC1\"")
    );
    let fix = f.fix.as_deref().unwrap();
    assert!(
        fix.starts_with("publish in the zone of dmarc.example.net:"),
        "{fix}"
    );
    assert!(
        fix.contains("name example.org._report._dmarc.dmarc, type TXT"),
        "{fix}"
    );
}

#[tokio::test]
async fn dmarc_external_rua_with_authorization_passes() {
    let net = zone(
        "example.net",
        &["example.org._report._dmarc.dmarc IN TXT \"v=DMARC1\""],
    );
    let r = check_zones(&[external_rua(), healthy_reverse(), net], &input()).await;
    assert_eq!(r.findings, [], "{}", to_human(&r, false));
}

fn ipv6_setup(ptr: &[&str]) -> (Vec<String>, mailsetup::check::CheckInput) {
    let fwd = forward(&[
        ("aaaa", Some("mail IN AAAA 2001:db8::25")),
        (
            "spf",
            Some("@ IN TXT \"v=spf1 ip4:192.0.2.25 ip6:2001:db8::/64 -all\""),
        ),
    ]);
    let rev6 = zone("8.b.d.0.1.0.0.2.ip6.arpa", ptr);
    let mut input = input();
    input.ipv6 = Some("2001:db8::25".parse().unwrap());
    input.ipv6_enabled = true;
    (vec![fwd, healthy_reverse(), rev6], input)
}

#[tokio::test]
async fn ipv6_enabled_without_ptr_offers_both_fixes() {
    let (zones, input) = ipv6_setup(&[]);
    let r = check_zones(&zones, &input).await;
    assert_findings(
        &r,
        &[ids::IPV6_NO_PTR],
        &[("ptr 2001:db8::25", Status::Fail)],
    );
    let fix = r.findings[0].fix.as_deref().unwrap();
    assert!(fix.contains("ask the provider of 2001:db8::25"), "{fix}");
    assert!(fix.contains("inet_protocols = ipv4"), "{fix}");
}

#[tokio::test]
async fn ipv6_ptr_is_not_checked_when_postfix_sends_over_ipv4_only() {
    let (zones, mut input) = ipv6_setup(&[]);
    input.ipv6_enabled = false;
    let r = check_zones(&zones, &input).await;
    assert_eq!(r.findings, [], "{}", to_human(&r, false));
    assert!(
        !r.checked
            .iter()
            .any(|c| c.check == "ptr" && c.subject == "2001:db8::25")
    );
}

/// The apex SPF record replaced by `spf`, with `extra` records added to the zone.
fn spf_zone(spf: &str, extra: &[&str]) -> String {
    let line = txt_line("@", spf);
    let mut edits: Vec<(&str, Option<&str>)> = vec![("spf", Some(line.as_str()))];
    let keys: Vec<String> = (0..extra.len()).map(|i| format!("extra{i}")).collect();
    for (k, r) in keys.iter().zip(extra) {
        edits.push((k.as_str(), Some(r)));
    }
    forward(&edits)
}

#[tokio::test]
async fn spf_with_eleven_lookups_through_nested_includes() {
    // 1 (include:l1) + 1 (include:l2) + 9 (a:) = 11 terms that query DNS
    let l2 = (1..=9)
        .map(|i| format!("a:h{i}.example.org"))
        .collect::<Vec<_>>()
        .join(" ");
    let l1 = "l1 IN TXT \"v=spf1 include:l2.example.org -all\"".to_string();
    let l2 = format!("l2 IN TXT \"v=spf1 {l2} -all\"");
    let hosts: Vec<String> = (1..=9)
        .map(|i| format!("h{i} IN A 192.0.2.{}", 100 + i))
        .collect();
    let mut extra: Vec<&str> = vec![&l1, &l2];
    extra.extend(hosts.iter().map(String::as_str));
    let fwd = spf_zone("v=spf1 ip4:192.0.2.25 include:l1.example.org -all", &extra);
    let r = check(fwd, healthy_reverse()).await;
    assert_only(&r, ids::SPF_TOO_MANY_LOOKUPS, "spf", Status::Fail);
    let f = &r.findings[0];
    assert!(f.message.contains("needs 11 DNS lookups"), "{}", f.message);
    let trail = f.found.as_deref().unwrap();
    assert!(trail.starts_with("include:l1.example.org (+10)"), "{trail}");
}

#[tokio::test]
async fn spf_with_three_void_lookups() {
    let fwd = spf_zone(
        "v=spf1 ip4:192.0.2.25 a:gone1.example.org mx:gone2.example.org a:gone3.example.org -all",
        &[],
    );
    let r = check(fwd, healthy_reverse()).await;
    assert_only(&r, ids::SPF_TOO_MANY_VOID_LOOKUPS, "spf", Status::Fail);
    assert!(
        r.findings[0]
            .message
            .contains("has 3 lookups that find nothing")
    );
}

#[tokio::test]
async fn spf_plus_all_and_question_all_are_permissive() {
    let r = check(
        spf_zone("v=spf1 ip4:192.0.2.25 +all", &[]),
        healthy_reverse(),
    )
    .await;
    assert_only(&r, ids::SPF_PERMISSIVE_ALL, "spf", Status::Fail);
    let r = check(
        spf_zone("v=spf1 ip4:192.0.2.25 ?all", &[]),
        healthy_reverse(),
    )
    .await;
    assert_only(&r, ids::SPF_PERMISSIVE_ALL, "spf", Status::Warn);
}

#[tokio::test]
async fn spf_syntax_error_is_named() {
    let r = check(
        spf_zone("v=spf1 ip4:192.0.2.300 -all", &[]),
        healthy_reverse(),
    )
    .await;
    assert_only(&r, ids::SPF_SYNTAX, "spf", Status::Fail);
    assert!(
        r.findings[0].message.contains("ip4:192.0.2.300"),
        "{}",
        r.findings[0].message
    );
}

#[test]
fn every_finding_id_is_documented_in_the_readme() {
    let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
    let start = readme.find("Finding ids are a public contract").unwrap();
    let end = start + readme[start..].find("\n## ").unwrap();
    let table = &readme[start..end];
    for id in ids::ALL {
        assert!(
            table.contains(&format!("`{id}`")),
            "{id} is not in the README table"
        );
    }
    // and the README lists no id that does not exist
    let documented: Vec<&str> = table
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| s.contains('.') && !s.contains(' '))
        .collect();
    for id in documented {
        assert!(
            ids::ALL.contains(&id),
            "README documents {id}, which is not an id"
        );
    }
}
