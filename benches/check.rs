//! `cargo bench --bench check`: how long `mailsetup check` takes when every DNS query costs
//! 50 ms, and how soon `check --watch` sees a record published while a resolver still has
//! the name negatively cached. Prints figures; asserts nothing (targets are in the issue
//! and the figures go in the note).
//!
//! Set-up: one in-process hickory server holds every zone; a loopback proxy in front of it
//! adds [`DELAY`] to every query. The proxy is both the first hop and, through
//! `--authoritative-port`, every zone's authoritative server (each NS is 127.0.0.1).
//!
//! Critical path of one domain: the longest chain of queries that depend on each other.
//! For a record: SOA at the name (its zone) → NS of the zone → A of the nameserver → the
//! record at that server = 4. The PTR check then follows the PTR name forward (its zone is
//! known by then) = 5. So 5 × 50 ms = 250 ms. A `--watch` round after publishing costs
//! the same chain again (zones are looked up afresh each round).

#[path = "../tests/it/support/dns_server.rs"]
#[allow(dead_code)]
mod dns_server;
#[path = "support/proxy.rs"]
mod proxy;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use dns_server::{TestDns, zone};
use mailsetup::check::watch::{Event, WatchOptions, watch};
use mailsetup::check::{CheckInput, DomainInput, ExpectedRecords, run};
use mailsetup::dns::{AuthOptions, Dns, Nameserver};
use mailsetup::keys::PrivateKey;
use mailsetup::values::{Domain, KeyBits, Selector};
use proxy::Proxy;

const DELAY: Duration = Duration::from_millis(50);
/// The chain described in the module comment.
const CRITICAL_QUERIES: u32 = 5;

fn domain(i: usize) -> String {
    format!("d{i}.example")
}

/// The zones of `n` healthy domains, the host, its reverse zone and the blocklists. With
/// `without_dkim`, domain 0 lacks its DKIM record.
fn zones(n: usize, p: &str, without_dkim: bool) -> Vec<String> {
    let dkim_value = format!("v=DKIM1; k=rsa; p={p}");
    let dkim_strings: Vec<String> = dkim_value
        .as_bytes()
        .chunks(250)
        .map(|c| format!("\"{}\"", String::from_utf8_lossy(c)))
        .collect();
    let dkim = format!("mail._domainkey IN TXT {}", dkim_strings.join(" "));
    let mut z: Vec<String> = (0..n)
        .map(|i| {
            let d = domain(i);
            let mut records = vec![
                "@ IN MX 10 mail.host.example.".to_string(),
                "@ IN TXT \"v=spf1 ip4:192.0.2.25 -all\"".to_string(),
                format!("_dmarc IN TXT \"v=DMARC1; p=quarantine; rua=mailto:dmarc@{d}\""),
            ];
            if !(without_dkim && i == 0) {
                records.push(dkim.clone());
            }
            let refs: Vec<&str> = records.iter().map(String::as_str).collect();
            zone(&d, &refs)
        })
        .collect();
    z.push(zone("host.example", &["mail IN A 192.0.2.25"]));
    z.push(zone(
        "2.0.192.in-addr.arpa",
        &["25 IN PTR mail.host.example."],
    ));
    for list in [
        "zen.spamhaus.org",
        "bl.spamcop.net",
        "b.barracudacentral.org",
    ] {
        // the RFC 5782 §5 test entry: without it, a list's "not listed" is unknown
        z.push(zone(list, &["2.0.0.127 IN A 127.0.0.2"]));
    }
    z
}

fn input(n: usize, p: &str) -> CheckInput {
    CheckInput {
        hostname: Domain::parse("mail.host.example").expect("hostname"),
        ipv4: Some("192.0.2.25".parse().expect("ip")),
        ipv6: None,
        ipv6_enabled: false,
        provider: None,
        domains: (0..n)
            .map(|i| DomainInput {
                domain: Domain::parse(&domain(i)).expect("domain"),
                selector: Selector::parse("mail").expect("selector"),
                local_p: Some(p.to_string()),
                ed25519: None,
                expected: ExpectedRecords::default(),
            })
            .collect(),
    }
}

fn options(first_hop: SocketAddr, auth_port: u16) -> AuthOptions {
    let mut o = AuthOptions::new(Nameserver::At(first_hop));
    o.port = auth_port;
    o
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Median wall time of `check` on `n` domains over `runs` runs, and the deepest query chain
/// the proxy saw in the last run.
async fn time_check(n: usize, runs: usize, p: &str) -> Duration {
    let refs_owned = zones(n, p, false);
    let refs: Vec<&str> = refs_owned.iter().map(String::as_str).collect();
    let server = TestDns::start(&refs).await;
    let proxy = Proxy::start(server.addr(), DELAY, None).await;
    let input = input(n, p);
    let opts = options(proxy.addr, proxy.addr.port());
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let report = run(&input, &opts).await;
        times.push(start.elapsed());
        assert_eq!(report.exit_code(), 0, "the bench zones must be healthy");
    }
    median(times)
}

/// Publish domain 0's DKIM record while a caching resolver holds "no such name"; return the
/// time from publishing to `--watch` ending, how many rounds ran after publishing (1: the
/// first poll saw it), and whether the resolver still answered NXDOMAIN at that moment.
async fn time_watch(p: &str, interval: Duration) -> (Duration, usize, bool) {
    let before = zones(1, p, true);
    let refs: Vec<&str> = before.iter().map(String::as_str).collect();
    let server = TestDns::start(&refs).await;
    let addr = server.addr();
    let authoritative = Proxy::start(addr, DELAY, None).await;
    let resolver = Proxy::start(addr, DELAY, Some(Duration::from_secs(300))).await;
    let opts = options(resolver.addr, authoritative.addr.port());
    let input = input(1, p);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let mut tx = Some(tx);
    let published_p = p.to_string();
    let publisher = tokio::spawn(async move {
        let _ = rx.await; // after the first round: the resolver has cached the absence
        server.stop().await;
        let after = zones(1, &published_p, false);
        let refs: Vec<&str> = after.iter().map(String::as_str).collect();
        let server = TestDns::start_at(addr, &refs).await;
        (server, Instant::now())
    });
    let w = WatchOptions {
        interval,
        timeout: Duration::from_secs(60),
    };
    let mut rounds = Vec::new();
    let report = watch(&input, &opts, &w, |e| {
        if let Event::Round { round, .. } = e {
            rounds.push(Instant::now());
            if round == 1
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(());
            }
        }
    })
    .await;
    let seen = Instant::now();
    let (_server, published) = publisher.await.expect("publisher");
    assert_eq!(
        report.exit_code(),
        0,
        "watch must end with everything passing"
    );
    let dns = Dns::new(&Nameserver::At(resolver.addr)).expect("resolver");
    let cached = dns
        .txt("mail._domainkey.d0.example")
        .await
        .map(|a| a.is_empty())
        .unwrap_or(false);
    let after = rounds.iter().filter(|t| **t > published).count();
    (seen.duration_since(published), after, cached)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let key = PrivateKey::generate(KeyBits::B2048).expect("key");
    let p = key.public().p.clone();
    let critical = DELAY * CRITICAL_QUERIES;
    println!(
        "mailsetup check, every query delayed {} ms; critical path {} queries = {:.0} ms",
        DELAY.as_millis(),
        CRITICAL_QUERIES,
        ms(critical)
    );
    println!("domains  runs  median ms  / critical path  / 1 domain");
    let mut one = Duration::ZERO;
    for (n, runs) in [(1, 9), (10, 7), (100, 5)] {
        let median = rt.block_on(time_check(n, runs, &p));
        if n == 1 {
            one = median;
        }
        println!(
            "{n:>7}  {runs:>4}  {:>9.0}  {:>15.2}  {:>10.2}",
            ms(median),
            median.as_secs_f64() / critical.as_secs_f64(),
            median.as_secs_f64() / one.as_secs_f64()
        );
    }
    let interval = Duration::from_secs(1);
    let (lag, polls, cached) = rt.block_on(time_watch(&p, interval));
    println!(
        "check --watch (poll every {} ms): record seen {:.0} ms after it was published, by \
         poll {polls} after publishing; the caching resolver still answered NXDOMAIN then: {}",
        interval.as_millis(),
        ms(lag),
        if cached { "yes" } else { "no" }
    );
}
