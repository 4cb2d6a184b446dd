//! `walk` against a real authoritative DNS server on 127.0.0.1 (hickory-server).

use std::time::{Duration, Instant};

use super::*;
use crate::dns::Nameserver;

#[path = "../../../tests/it/support/dns_server.rs"]
#[allow(dead_code)]
mod dns_server;

use dns_server::{TestDns, zone};

/// example.org: the root has A and MX; l1 → l2 → l3 are nested includes (3 + 3 + 4 terms),
/// each name with A and MX so that no lookup is void.
fn example_zone() -> String {
    zone(
        "example.org",
        &[
            "@ IN A 192.0.2.1",
            "@ IN MX 10 mail",
            "mail IN A 192.0.2.25",
            "l1 IN A 192.0.2.11",
            "l1 IN MX 10 mail",
            "l1 IN TXT \"v=spf1 a mx include:l2.example.org -all\"",
            "l2 IN A 192.0.2.12",
            "l2 IN MX 10 mail",
            "l2 IN TXT \"v=spf1 a mx include:l3.example.org ~all\"",
            "l3 IN A 192.0.2.13",
            "l3 IN MX 10 mail",
            "l3 IN TXT \"v=spf1 a mx exists:l3.example.org a:mail.example.org ?all\"",
            "_spf IN TXT \"v=spf1 a:mail.example.org -all\"",
            "loop1 IN TXT \"v=spf1 include:loop2.example.org -all\"",
            "loop2 IN TXT \"v=spf1 include:LOOP1.example.org. -all\"",
            "d1 IN TXT \"v=spf1 include:common.example.org\"",
            "d2 IN TXT \"v=spf1 include:common.example.org\"",
            "common IN TXT \"v=spf1 a:mail.example.org mx:example.org -all\"",
            "nospf IN TXT \"google-site-verification=abc\"",
            "nospf IN A 192.0.2.30",
            "two IN TXT \"v=spf1 -all\"",
            "two IN TXT \"v=spf1 mx -all\"",
            "bad IN TXT \"v=spf1 include -all\"",
            "n0 IN TXT \"v=spf1 include:n1.example.org\"",
            "n1 IN TXT \"v=spf1 include:n2.example.org\"",
            "n2 IN TXT \"v=spf1 include:n3.example.org\"",
            "n3 IN TXT \"v=spf1 include:n4.example.org\"",
            "n4 IN TXT \"v=spf1 include:n5.example.org\"",
            "n5 IN TXT \"v=spf1 include:n6.example.org\"",
            "n6 IN TXT \"v=spf1 include:n7.example.org\"",
            "n7 IN TXT \"v=spf1 include:n8.example.org\"",
            "n8 IN TXT \"v=spf1 include:n9.example.org\"",
            "n9 IN TXT \"v=spf1 include:n10.example.org\"",
            "n10 IN TXT \"v=spf1 include:n11.example.org\"",
            "n11 IN TXT \"v=spf1 -all\"",
        ],
    )
}

async fn walk_example(record: &str) -> SpfTree {
    let server = TestDns::start(&[&example_zone()]).await;
    let dns = Dns::new(&Nameserver::At(server.addr())).unwrap();
    walk(&dns, "example.org", record).await
}

fn lines(trail: &[&str]) -> Vec<String> {
    trail.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn eleven_lookups_through_nested_includes() {
    let tree = walk_example("v=spf1 include:l1.example.org -all").await;
    assert_eq!(tree.lookups, 11);
    assert_eq!(tree.void_lookups, 0);
    assert_eq!(
        tree.trail,
        lines(&[
            "include:l1.example.org (+10)",
            "  a",
            "  mx",
            "  include:l2.example.org (+7)",
            "    a",
            "    mx",
            "    include:l3.example.org (+4)",
            "      a",
            "      mx",
            "      exists:l3.example.org",
            "      a:mail.example.org",
        ])
    );
    assert!(tree.unverifiable.is_empty() && tree.loops.is_empty());
}

#[tokio::test]
async fn exactly_ten_lookups() {
    let tree = walk_example("v=spf1 a mx ip4:192.0.2.25 include:l2.example.org -all").await;
    assert_eq!(tree.lookups, 10);
    assert_eq!(tree.void_lookups, 0);
    assert_eq!(tree.trail.len(), 10);
    assert_eq!(tree.trail[2], "include:l2.example.org (+7)");
}

#[tokio::test]
async fn three_void_lookups() {
    let tree = walk_example(
        "v=spf1 a:gone1.example.org mx:gone2.example.org include:gone3.example.org \
         exists:mail.example.org -all",
    )
    .await;
    assert_eq!(tree.lookups, 4);
    assert_eq!(tree.void_lookups, 3);
    assert_eq!(
        tree.trail,
        lines(&[
            "a:gone1.example.org (void: the name does not exist)",
            "mx:gone2.example.org (void: the name does not exist)",
            "include:gone3.example.org (void: the name does not exist)",
            "exists:mail.example.org",
        ])
    );
    assert!(tree.unverifiable.is_empty());
}

#[tokio::test]
async fn void_on_the_current_domain_names_it() {
    // mail.example.org has an A but no MX: NODATA is void too (RFC 7208 §4.6.4).
    let server = TestDns::start(&[&example_zone()]).await;
    let dns = Dns::new(&Nameserver::At(server.addr())).unwrap();
    let tree = walk(&dns, "mail.example.org", "v=spf1 a mx -all").await;
    assert_eq!((tree.lookups, tree.void_lookups), (2, 1));
    assert_eq!(
        tree.trail,
        lines(&[
            "a",
            "mx (void: mail.example.org: the name has no record of this type)",
        ])
    );
}

#[tokio::test]
async fn include_cycle_terminates() {
    let tree = walk_example("v=spf1 include:loop1.example.org -all").await;
    assert_eq!(tree.lookups, 3);
    assert_eq!(tree.loops, ["LOOP1.example.org."]);
    assert_eq!(
        tree.trail,
        lines(&[
            "include:loop1.example.org (+2)",
            "  include:loop2.example.org (+1)",
            "    include:LOOP1.example.org. (loop: LOOP1.example.org. is already being \
             evaluated; receivers return permerror)",
        ])
    );
    // including itself
    let tree = walk_example("v=spf1 mx include:Example.org -all").await;
    assert_eq!(tree.lookups, 2);
    assert_eq!(tree.loops, ["Example.org"]);
}

#[tokio::test]
async fn the_same_include_on_two_paths_counts_twice() {
    let tree = walk_example("v=spf1 include:d1.example.org include:d2.example.org -all").await;
    assert_eq!(tree.lookups, 8);
    assert!(tree.loops.is_empty());
    assert_eq!(tree.trail[0], "include:d1.example.org (+3)");
    assert_eq!(tree.trail[4], "include:d2.example.org (+3)");
    assert_eq!(tree.trail[6], "    a:mail.example.org");
}

#[tokio::test]
async fn redirect_is_counted_and_followed_only_without_all() {
    let tree = walk_example("v=spf1 redirect=_spf.example.org mx").await;
    assert_eq!(tree.lookups, 3);
    assert_eq!(
        tree.trail,
        lines(&[
            "redirect=_spf.example.org (+1)",
            "  a:mail.example.org",
            "mx"
        ])
    );
    let tree = walk_example("v=spf1 mx -all redirect=_spf.example.org").await;
    assert_eq!(tree.lookups, 1);
    assert_eq!(tree.trail, lines(&["mx"]));
}

#[tokio::test]
async fn refused_include_is_unverifiable_not_void() {
    let tree = walk_example("v=spf1 include:_spf.elsewhere.net a:x.elsewhere.net -all").await;
    assert_eq!((tree.lookups, tree.void_lookups), (2, 0));
    assert_eq!(
        tree.unverifiable,
        [
            "_spf.elsewhere.net: the server answered REFUSED",
            "x.elsewhere.net: the server answered REFUSED",
        ]
    );
    assert_eq!(
        tree.trail[0],
        "include:_spf.elsewhere.net (could not look up _spf.elsewhere.net: the server answered REFUSED)"
    );
}

#[tokio::test]
async fn broken_include_targets_are_noted() {
    let tree = walk_example(
        "v=spf1 include:nospf.example.org include:two.example.org include:bad.example.org -all",
    )
    .await;
    assert_eq!((tree.lookups, tree.void_lookups), (3, 0));
    assert_eq!(
        tree.trail,
        lines(&[
            "include:nospf.example.org (no SPF record at nospf.example.org: receivers return permerror)",
            "include:two.example.org (2 SPF records at two.example.org: receivers return permerror)",
            "include:bad.example.org (+0)",
            "  (the SPF record of bad.example.org does not parse)",
        ])
    );
}

#[tokio::test]
async fn macros_and_ptr_are_counted_not_looked_up() {
    let tree =
        walk_example("v=spf1 exists:%{i}._spf.%{d} ptr include:%{d2}.example.org -all").await;
    assert_eq!((tree.lookups, tree.void_lookups), (3, 0));
    assert_eq!(
        tree.trail,
        lines(&[
            "exists:%{i}._spf.%{d} (a macro: not looked up)",
            "ptr (not looked up: it depends on the sender's address)",
            "include:%{d2}.example.org (a macro: not looked up)",
        ])
    );
}

#[tokio::test]
async fn depth_is_capped() {
    let tree = walk_example("v=spf1 include:n0.example.org").await;
    // root include + n0..n9 fetched (depths 1..10); n9's include is counted, not followed
    assert_eq!(tree.lookups, 11);
    assert_eq!(
        tree.trail.last().map(String::as_str),
        Some(
            "                    include:n10.example.org (not followed: nested deeper than 10 records)"
        )
    );
}

#[tokio::test]
async fn following_stops_after_twenty_lookups() {
    let record = format!("v=spf1 {} include:l1.example.org -all", "a ".repeat(20));
    let tree = walk_example(&record).await;
    assert_eq!(tree.lookups, 21);
    assert_eq!(
        tree.trail.last().map(String::as_str),
        Some("include:l1.example.org (not followed: already 20 lookups or more)")
    );
}

#[tokio::test]
async fn dns_text_in_the_trail_is_sanitized() {
    let z = zone(
        "example.org",
        &["evil IN TXT \"v=spf1 a:x\u{1b}[2J.example.org -all\""],
    );
    let server = TestDns::start(&[&z]).await;
    let dns = Dns::new(&Nameserver::At(server.addr())).unwrap();
    let tree = walk(&dns, "example.org", "v=spf1 include:evil.example.org -all").await;
    assert!(
        tree.trail.iter().all(|l| !l.contains('\u{1b}')),
        "{:?}",
        tree.trail
    );
    assert!(
        tree.unverifiable.iter().all(|l| !l.contains('\u{1b}')),
        "{:?}",
        tree.unverifiable
    );
    assert_eq!(tree.trail[0], "include:evil.example.org (+1)");
}

#[tokio::test]
async fn siblings_are_looked_up_concurrently() {
    // A UDP socket that never answers: every lookup times out.
    let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let ns = Nameserver::At(silent.local_addr().unwrap());
    let dns = Dns::with_timeout(&ns, Duration::from_millis(400), 0).unwrap();
    let start = Instant::now();
    let tree = walk(
        &dns,
        "example.org",
        "v=spf1 a:a.example.org mx:b.example.org include:c.example.org exists:d.example.org -all",
    )
    .await;
    let elapsed = start.elapsed();
    assert_eq!((tree.lookups, tree.void_lookups), (4, 0));
    assert_eq!(tree.unverifiable.len(), 4, "{:?}", tree.unverifiable);
    // one after another would be at least 4 × 400 ms
    assert!(elapsed < Duration::from_millis(1200), "{elapsed:?}");
    assert!(
        tree.unverifiable
            .iter()
            .all(|u| u.ends_with(": no answer (timed out)")),
        "{:?}",
        tree.unverifiable
    );
}
