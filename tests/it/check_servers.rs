//! `check` with more than one server: a lagging secondary, a lame server, a resolver with a
//! stale cache, an answer that needs TCP, blocklists, and `--watch` seeing a record appear.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::time::{Duration, Instant};

use mailsetup::check::report::to_human;
use mailsetup::check::watch::{Event, WatchOptions, watch};
use mailsetup::check::{Report, Severity, Status, ids, run};
use mailsetup::dns::{AuthOptions, Nameserver};

use crate::support::dns_server::{TestDns, zone, zone_with};
use crate::support::lab::Lab;
use crate::support::scenario::*;

const TWO_NS: &[(&str, &str)] = &[("ns1", "127.0.0.1"), ("ns2", "127.0.0.2")];

/// `example.org` at `serial` with both servers listed, the healthy records minus `drop`.
fn forward_two(serial: u32, drop: &[&str]) -> String {
    let records: Vec<String> = healthy_records()
        .into_iter()
        .filter(|(k, _)| !drop.contains(k))
        .map(|(_, r)| r)
        .collect();
    let refs: Vec<&str> = records.iter().map(String::as_str).collect();
    zone_with("example.org", serial, TWO_NS, &refs)
}

/// Everything but example.org, served by the first server only.
fn others() -> Vec<String> {
    let mut z = vec![healthy_reverse()];
    z.extend(blocklists());
    z
}

#[tokio::test]
async fn lagging_secondary_is_ns_disagree_with_serials() {
    let mut primary = vec![forward_two(2, &[])];
    primary.extend(others());
    // the secondary still serves serial 1, from before the DKIM record was added
    let lab = Lab::several(&[primary, vec![forward_two(1, &["dkim"])]]).await;
    let r = run(&input(), &lab.options()).await;
    let failing = [("ns", Status::Warn), ("dkim", Status::Warn)];
    assert_findings(&r, &[ids::DNS_NS_DISAGREE, ids::DNS_NS_DISAGREE], &failing);
    let zone_level = r
        .findings
        .iter()
        .find(|f| f.message.contains("versions"))
        .unwrap();
    let found = zone_level.found.as_deref().unwrap();
    assert!(found.contains("ns1.example.org (127.0.0.1"), "{found}");
    assert!(
        found.contains("serial 2") && found.contains("serial 1"),
        "{found}"
    );
    assert!(
        zone_level.message.contains("ns2.example.org"),
        "{}",
        zone_level.message
    );
    let record = r
        .findings
        .iter()
        .find(|f| f.message.contains("DKIM"))
        .unwrap();
    let found = record.found.as_deref().unwrap();
    assert!(
        found.starts_with("ns2.example.org (127.0.0.2") && found.contains("serial 1: nothing"),
        "{found}"
    );
    assert!(record.expected.as_deref().unwrap().contains("v=DKIM1"));
    assert_eq!(record.severity, Severity::Warning);
}

#[tokio::test]
async fn secondary_in_step_passes() {
    let mut primary = vec![forward_two(2, &[])];
    primary.extend(others());
    let lab = Lab::several(&[primary, vec![forward_two(2, &[])]]).await;
    let r = run(&input(), &lab.options()).await;
    assert_eq!(r.findings, [], "{}", to_human(&r, false));
}

#[tokio::test]
async fn refusing_server_is_lame_and_the_other_still_answers() {
    let mut primary = vec![forward_two(1, &[])];
    primary.extend(others());
    // 127.0.0.2 is listed as ns2 but serves nothing: REFUSED
    let lab = Lab::several(&[primary, vec![]]).await;
    let r = run(&input(), &lab.options()).await;
    assert_findings(&r, &[ids::DNS_NS_LAME], &[("ns", Status::Warn)]);
    let f = &r.findings[0];
    assert!(
        f.message.contains("ns2.example.org (127.0.0.2"),
        "{}",
        f.message
    );
    assert!(f.message.contains("REFUSED"), "{}", f.message);
    assert!(
        f.fix
            .as_deref()
            .unwrap()
            .contains("remove it from the NS records")
    );
}

#[tokio::test]
async fn stale_resolver_cache_is_reported_with_a_time() {
    // the first hop (a resolver) still has the zone from before DKIM was published
    let stale = forward(&[("dkim", None)]);
    let mut stale_zones = vec![stale];
    stale_zones.extend(others());
    let stale_refs: Vec<&str> = stale_zones.iter().map(String::as_str).collect();
    let resolver = TestDns::start(&stale_refs).await;
    let mut fresh = vec![forward(&[])];
    fresh.extend(others());
    let lab = Lab::several(&[fresh]).await;
    let mut options = lab.options();
    options.first_hop = Nameserver::At(resolver.addr());
    let r = run(&input(), &options).await;
    assert_eq!(
        r.findings.iter().map(|f| f.id).collect::<Vec<_>>(),
        [ids::DNS_PROPAGATING],
        "{}",
        to_human(&r, false)
    );
    let f = &r.findings[0];
    assert_eq!(f.severity, Severity::Info);
    assert!(f.message.contains("up to 300 s"), "{}", f.message);
    assert!(
        f.message.contains("visible everywhere by about "),
        "{}",
        f.message
    );
    assert!(f.message.ends_with(" UTC"), "{}", f.message);
    assert!(r.checked.iter().all(|c| c.status == Status::Pass));
    assert_eq!(r.exit_code(), 0);
}

/// Six 250-byte TXT strings at the apex: an answer over 1232 bytes, truncated over UDP.
fn big_apex() -> String {
    let filler: Vec<(&str, String)> = (0..6)
        .map(|i| {
            (
                "filler",
                format!("@ IN TXT \"filler-{i}-{}\"", "x".repeat(240)),
            )
        })
        .collect();
    let mut records: Vec<String> = healthy_records().into_iter().map(|(_, r)| r).collect();
    records.extend(filler.into_iter().map(|(_, r)| r));
    let refs: Vec<&str> = records.iter().map(String::as_str).collect();
    zone("example.org", &refs)
}

#[tokio::test]
async fn an_answer_that_needs_tcp_is_fetched_over_tcp() {
    let mut zones = vec![big_apex()];
    zones.extend(others());
    let refs: Vec<&str> = zones.iter().map(String::as_str).collect();
    let lab = Lab::start(&refs).await;
    let r = run(&input(), &lab.options()).await;
    assert_eq!(r.findings, [], "{}", to_human(&r, false));

    // the same zones without TCP: the SPF record cannot be read at all
    let udp = TestDns::start_udp_only(&refs).await;
    let mut options = AuthOptions::new(Nameserver::At(udp.addr()));
    options.port = udp.addr().port();
    options.timeout = Duration::from_millis(500);
    options.attempts = 0;
    let r = run(&input(), &options).await;
    let spf = r.checked.iter().find(|c| c.check == "spf").unwrap();
    assert_eq!(spf.status, Status::Unknown, "{}", to_human(&r, false));
}

fn with_blocklist(records: &[&str]) -> Vec<String> {
    let mut z = vec![forward(&[]), healthy_reverse()];
    z.push(blocklist("zen.spamhaus.org", records));
    z.push(blocklist("bl.spamcop.net", &[]));
    z.push(blocklist("b.barracudacentral.org", &[]));
    z
}

#[tokio::test]
async fn listed_address_is_rbl_listed() {
    let zones = with_blocklist(&["25.2.0.192 IN A 127.0.0.2", "25.2.0.192 IN A 127.0.0.11"]);
    let refs: Vec<&str> = zones.iter().map(String::as_str).collect();
    let lab = Lab::start(&refs).await;
    let r = run(&input(), &lab.options()).await;
    assert_findings(&r, &[ids::RBL_LISTED], &[("rbl", Status::Fail)]);
    let found = r.findings[0].found.as_deref().unwrap();
    assert!(found.contains("127.0.0.2 (SBL"), "{found}");
    assert!(found.contains("127.0.0.11 (PBL"), "{found}");
    assert!(
        r.findings[0]
            .message
            .starts_with("zen.spamhaus.org lists 192.0.2.25")
    );
}

#[tokio::test]
async fn refused_blocklist_query_is_unknown_not_listed() {
    let zones = with_blocklist(&["25.2.0.192 IN A 127.255.255.254"]);
    let refs: Vec<&str> = zones.iter().map(String::as_str).collect();
    let lab = Lab::start(&refs).await;
    let r = run(&input(), &lab.options()).await;
    assert_findings(&r, &[ids::RBL_UNKNOWN], &[("rbl", Status::Unknown)]);
    assert_eq!(r.findings[0].severity, Severity::Info);
    let found = r.findings[0].found.as_deref().unwrap();
    assert!(
        found.starts_with("zen.spamhaus.org answered 127.255.255.254"),
        "{found}"
    );
    assert!(
        r.findings[0]
            .message
            .starts_with("could not tell whether zen.spamhaus.org list 192.0.2.25")
    );
    assert_eq!(
        r.exit_code(),
        0,
        "a refused query is not a finding against the server"
    );
}

/// The healthy zones with `spamcop` for bl.spamcop.net, the other lists as they should be.
fn with_spamcop(spamcop: String) -> Vec<String> {
    vec![
        forward(&[]),
        healthy_reverse(),
        blocklist("zen.spamhaus.org", &[]),
        spamcop,
        blocklist("b.barracudacentral.org", &[]),
    ]
}

async fn check_lists(zones: &[String], input: &mailsetup::check::CheckInput) -> Report {
    let refs: Vec<&str> = zones.iter().map(String::as_str).collect();
    let lab = Lab::start(&refs).await;
    run(input, &lab.options()).await
}

#[tokio::test]
async fn a_list_without_its_test_entry_is_unknown_not_clean() {
    // the zone answers NXDOMAIN for every name, 127.0.0.2 included
    let r = check_lists(&with_spamcop(zone("bl.spamcop.net", &[])), &input()).await;
    assert_findings(&r, &[ids::RBL_UNKNOWN], &[("rbl", Status::Unknown)]);
    let f = &r.findings[0];
    assert_eq!(
        f.message,
        "could not tell whether bl.spamcop.net list 192.0.2.25"
    );
    assert_eq!(
        f.found.as_deref(),
        Some(
            "bl.spamcop.net did not list its test entry 127.0.0.2 (RFC 5782 §5): its answers \
             cannot be trusted"
        )
    );
    assert_eq!(r.exit_code(), 0, "info: nothing against the server");
}

#[tokio::test]
async fn a_list_that_lists_everything_is_unknown_not_listed() {
    // 127.0.0.1 listed too, as a resolver that answers 127.0.0.2 for every name would
    let spamcop = blocklist(
        "bl.spamcop.net",
        &["1.0.0.127 IN A 127.0.0.2", "25.2.0.192 IN A 127.0.0.2"],
    );
    let r = check_lists(&with_spamcop(spamcop), &input()).await;
    assert_findings(&r, &[ids::RBL_UNKNOWN], &[("rbl", Status::Unknown)]);
    let found = r.findings[0].found.as_deref().unwrap();
    assert_eq!(
        found,
        "bl.spamcop.net answered 127.0.0.2 for its test entry 127.0.0.1, which no list lists \
         (RFC 5782 §5): its answers cannot be trusted; for 192.0.2.25 it answered 127.0.0.2"
    );
}

#[tokio::test]
async fn both_addresses_are_judged_by_the_lists_test_entries() {
    let mut v6 = input();
    v6.ipv6 = Some("2001:db8::25".parse().unwrap());
    let mut zones = with_spamcop(blocklist("bl.spamcop.net", &[]));
    zones[0] = forward(&[("aaaa", Some("mail IN AAAA 2001:db8::25"))]);
    // healthy: both rbl lines pass, the test entries answered as they should
    let r = check_lists(&zones, &v6).await;
    let rbl: Vec<Status> = r
        .checked
        .iter()
        .filter(|c| c.check == "rbl")
        .map(|c| c.status)
        .collect();
    assert_eq!(rbl, [Status::Pass, Status::Pass], "{}", to_human(&r, false));
    // zen.spamhaus.org, the list of IPv6 addresses, loses its test entry: both lines unknown
    zones[2] = zone("zen.spamhaus.org", &[]);
    let r = check_lists(&zones, &v6).await;
    let unknown: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| f.id == ids::RBL_UNKNOWN)
        .map(|f| f.subject.as_str())
        .collect();
    assert_eq!(
        unknown,
        ["192.0.2.25", "2001:db8::25"],
        "{}",
        to_human(&r, false)
    );
    assert!(
        r.checked
            .iter()
            .filter(|c| c.check == "rbl")
            .all(|c| c.status == Status::Unknown)
    );
}

fn watch_options(interval_ms: u64, timeout_ms: u64) -> WatchOptions {
    WatchOptions {
        interval: Duration::from_millis(interval_ms),
        timeout: Duration::from_millis(timeout_ms),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_ends_as_soon_as_the_record_is_published() {
    let mut before = vec![forward(&[("dkim", None)])];
    before.extend(others());
    let refs: Vec<&str> = before.iter().map(String::as_str).collect();
    let mut lab = Lab::start(&refs).await;
    let options = lab.options();
    let addr = lab.servers[0].addr();
    let server = lab.servers.remove(0);
    let published = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        server.stop().await;
        let mut after = vec![forward(&[])];
        after.extend(others());
        let refs: Vec<&str> = after.iter().map(String::as_str).collect();
        (TestDns::start_at(addr, &refs).await, Instant::now())
    });
    let mut rounds = Vec::new();
    let mut waits = 0;
    let r = watch(
        &input(),
        &options,
        &watch_options(500, 20_000),
        |e| match e {
            Event::Round {
                pending, report, ..
            } => {
                rounds.push((pending, report.checked.len()));
            }
            Event::Waiting { .. } => waits += 1,
        },
    )
    .await;
    let seen = Instant::now();
    let (_server, at) = published.await.unwrap();
    assert!(seen > at, "watch ended only after the record was published");
    assert_eq!(r.exit_code(), 0, "{}", to_human(&r, false));
    assert_eq!(r.checked.len(), 10, "the final report covers every check");
    assert_eq!(
        rounds.first(),
        Some(&(1, 10)),
        "first round: only dkim fails"
    );
    assert_eq!(rounds.last().map(|r| r.0), Some(0));
    assert!(waits >= 1, "a countdown was shown");
    assert!(rounds.len() >= 2, "{rounds:?}");
    // how soon it is seen is measured by the benchmark (bench/check.sh), not here
}

#[tokio::test]
async fn watch_gives_up_at_the_timeout() {
    let mut zones = vec![forward(&[("dkim", None)])];
    zones.extend(others());
    let refs: Vec<&str> = zones.iter().map(String::as_str).collect();
    let lab = Lab::start(&refs).await;
    let start = Instant::now();
    let mut rounds = 0;
    let r = watch(&input(), &lab.options(), &watch_options(300, 1000), |e| {
        if let Event::Round { .. } = e {
            rounds += 1;
        }
    })
    .await;
    let elapsed = start.elapsed();
    assert_eq!(r.exit_code(), 1);
    assert!(r.findings.iter().any(|f| f.id == ids::DKIM_MISSING));
    assert!(rounds >= 3, "{rounds} rounds");
    assert!(
        elapsed >= Duration::from_millis(1000) && elapsed < Duration::from_secs(10),
        "{elapsed:?}"
    );
}
