//! `dns::Dns` against a real authoritative server on loopback: typed answers, absence vs
//! failure, TXT joining, no cache, SPF evaluation through mail-auth.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use hickory_proto::op::ResponseCode;
use mailsetup::dns::{Absence, Dns, LookupError, Nameserver, SpfOutcome};

use crate::support::dns_server::{RcodeServer, TestDns, dead_addr, zone};

fn forward() -> String {
    zone(
        "example.org",
        &[
            "@ IN MX 10 mail",
            "@ IN MX 20 Backup.Example.NET.",
            "mail IN A 192.0.2.25",
            "mail IN AAAA 2001:db8::25",
            r#"@ IN TXT "v=spf1 ip4:192.0.2.25 " "include:_spf.example.org -all""#,
            r#"@ IN TXT "other=1""#,
            r#"_spf IN TXT "v=spf1 ip4:198.51.100.0/24 -all""#,
            r#"s1._domainkey IN TXT "v=DKIM1; k=rsa; " "p=MIIBIjANBgkqh" "kiG9w0BAQEFAAOCAQ8A""#,
            "esc IN TXT \"a\u{1b}[31mred\"",
        ],
    )
}

fn reverse() -> String {
    zone("2.0.192.in-addr.arpa", &["25 IN PTR mail.example.org."])
}

async fn server() -> (TestDns, Dns) {
    let srv = TestDns::start(&[&forward(), &reverse()]).await;
    let dns = Dns::new(&Nameserver::At(srv.addr())).unwrap();
    (srv, dns)
}

#[tokio::test]
async fn txt_joins_character_strings_without_separator() {
    let (_srv, dns) = server().await;
    let mut apex = dns.txt("example.org").await.unwrap().records;
    apex.sort();
    assert_eq!(
        apex,
        [
            "other=1",
            "v=spf1 ip4:192.0.2.25 include:_spf.example.org -all"
        ]
    );
    let dkim = dns.txt("s1._domainkey.example.org.").await.unwrap();
    assert_eq!(
        dkim.records,
        ["v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A"]
    );
    assert_eq!(dkim.absent, None);
}

#[tokio::test]
async fn txt_keeps_raw_bytes_for_comparison() {
    let (_srv, dns) = server().await;
    let esc = dns.txt("esc.example.org").await.unwrap();
    assert_eq!(esc.records, ["a\u{1b}[31mred"]);
    assert_eq!(mailsetup::dns::sanitize(&esc.records[0]), "ared");
}

#[tokio::test]
async fn nxdomain_and_nodata_are_answers() {
    let (_srv, dns) = server().await;
    let nx = dns.txt("nope.example.org").await.unwrap();
    assert!(nx.is_empty());
    assert_eq!(nx.absent, Some(Absence::NxDomain));
    let nodata = dns.txt("mail.example.org").await.unwrap();
    assert_eq!(nodata.absent, Some(Absence::NoData));
    let no_mx = dns.mx("mail.example.org").await.unwrap();
    assert_eq!(no_mx.absent, Some(Absence::NoData));
}

#[tokio::test]
async fn refused_and_servfail_are_errors() {
    let (_srv, dns) = server().await;
    // not in any served zone: the server refuses
    let refused = dns.txt("example.com").await.unwrap_err();
    assert_eq!(refused, LookupError::Server("REFUSED".into()));
    assert_eq!(refused.to_string(), "the server answered REFUSED");
    let servfail = RcodeServer::start(ResponseCode::ServFail).await;
    let dns = Dns::new(&Nameserver::At(servfail.addr())).unwrap();
    let err = dns.txt("example.org").await.unwrap_err();
    assert_eq!(err, LookupError::Server("SERVFAIL".into()));
    assert_eq!(
        dns.ptr("192.0.2.25".parse().unwrap()).await.unwrap_err(),
        err
    );
}

#[tokio::test]
async fn dead_server_is_an_error_within_the_timeout() {
    let dns = Dns::with_timeout(
        &Nameserver::At(dead_addr().await),
        Duration::from_millis(200),
        0,
    )
    .unwrap();
    let start = Instant::now();
    let err = dns.a("mail.example.org").await.unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert!(!err.to_string().is_empty());
}

#[tokio::test]
async fn typed_records() {
    let (_srv, dns) = server().await;
    assert_eq!(
        dns.a("mail.example.org").await.unwrap().records,
        [Ipv4Addr::new(192, 0, 2, 25)]
    );
    let v6: Ipv6Addr = "2001:db8::25".parse().unwrap();
    assert_eq!(dns.aaaa("mail.example.org").await.unwrap().records, [v6]);
    let mut mx = dns.mx("example.org").await.unwrap().records;
    mx.sort();
    let mx: Vec<String> = mx.iter().map(ToString::to_string).collect();
    assert_eq!(mx, ["10 mail.example.org.", "20 backup.example.net."]);
    let ip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 25));
    assert_eq!(dns.ptr(ip).await.unwrap().records, ["mail.example.org"]);
    let none = dns
        .ptr(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 26)))
        .await
        .unwrap();
    assert_eq!(none.absent, Some(Absence::NxDomain));
}

#[tokio::test]
async fn no_cache_between_lookups() {
    let srv = TestDns::start(&[&zone("example.org", &["@ IN TXT \"first\""])]).await;
    let addr = srv.addr();
    let dns = Dns::new(&Nameserver::At(addr)).unwrap();
    assert_eq!(dns.txt("example.org").await.unwrap().records, ["first"]);
    srv.stop().await;
    let _srv = TestDns::start_at(addr, &[&zone("example.org", &["@ IN TXT \"second\""])]).await;
    assert_eq!(dns.txt("example.org").await.unwrap().records, ["second"]);
}

#[tokio::test]
async fn spf_evaluation_follows_includes() {
    let (_srv, dns) = server().await;
    let spf = |ip: &str| {
        let dns = dns.clone();
        let ip: IpAddr = ip.parse().unwrap();
        async move {
            dns.spf_result(ip, "example.org", "mail.example.org", None)
                .await
        }
    };
    assert_eq!(spf("192.0.2.25").await, SpfOutcome::Pass);
    assert_eq!(spf("198.51.100.7").await, SpfOutcome::Pass);
    assert_eq!(spf("192.0.2.99").await, SpfOutcome::Fail);
    let none = dns
        .spf_result(
            "192.0.2.25".parse().unwrap(),
            "nope.example.org",
            "mail.example.org",
            None,
        )
        .await;
    assert_eq!(none, SpfOutcome::None);
    let refused = dns
        .spf_result(
            "192.0.2.25".parse().unwrap(),
            "example.com",
            "mail.example.org",
            None,
        )
        .await;
    assert_eq!(refused, SpfOutcome::TempError);
}

#[tokio::test]
async fn spf_evaluation_uses_the_given_record_over_the_resolvers() {
    let (_srv, dns) = server().await;
    let ip: IpAddr = "192.0.2.99".parse().unwrap();
    let given = Some("v=spf1 ip4:192.0.2.99 -all");
    let outcome = dns
        .spf_result(ip, "example.org", "mail.example.org", given)
        .await;
    assert_eq!(outcome, SpfOutcome::Pass);
    let broken = dns
        .spf_result(
            ip,
            "example.org",
            "mail.example.org",
            Some("v=spf1 ip4:bogus -all"),
        )
        .await;
    assert_eq!(broken, SpfOutcome::PermError);
}

#[tokio::test]
async fn soa_finds_the_zone_of_any_name() {
    let (_srv, dns) = server().await;
    let below = dns.soa("no.such.name.example.org").await.unwrap().unwrap();
    assert_eq!(below.apex, "example.org");
    assert_eq!(below.serial, 1);
    assert_eq!(below.negative_ttl, 300);
    let apex = dns.soa("example.org").await.unwrap().unwrap();
    assert_eq!(apex.apex, "example.org");
    let ns = dns.ns("example.org").await.unwrap();
    assert_eq!(ns.records, ["ns1.example.org"]);
    let nx = dns.txt("no.such.name.example.org").await.unwrap();
    assert_eq!(nx.ttl, 300, "the negative TTL of RFC 2308 §5");
}

#[tokio::test]
async fn system_resolver_builds_from_resolv_conf() {
    if !std::path::Path::new("/etc/resolv.conf").exists() {
        eprintln!("skipped: no /etc/resolv.conf");
        return;
    }
    let dns = Dns::new(&Nameserver::System).unwrap();
    assert_eq!(dns.nameserver(), &Nameserver::System);
}
