//! Blocklists (DNSBL, RFC 5782): is one of this server's addresses listed?
//!
//! Asked through the first hop (a recursive resolver), as receivers do. An answer in
//! 127.0.0.0/8 means listed (RFC 5782 §2.1), except 127.255.255.x, which the lists use to
//! refuse a query (Spamhaus: 254 = through a public or open resolver, 255 = too many
//! queries, 252 = malformed): that, a failed lookup, or an answer outside 127.0.0.0/8
//! (a resolver that rewrites NXDOMAIN) is `rbl.unknown`, never "listed".
//!
//! "Not listed" is an absence, and a resolver can fake an absence: one that answers
//! NXDOMAIN for every name would clear every address. So a list's answers count only when
//! its test entries behave (RFC 5782 §5): `2.0.0.127.<zone>` (127.0.0.2) is listed and
//! `1.0.0.127.<zone>` (127.0.0.1) is not. Otherwise its answer, listed or not, is
//! `rbl.unknown` with the reason: a resolver that answers 127.0.0.2 for everything would
//! list every address. The test entries are asked once per zone per run ([`TestPoints`],
//! shared by the IPv4 and IPv6 jobs); `gather` returns them with the answers, and `judge`
//! stays pure.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use tokio::sync::OnceCell;

use super::{Finding, Severity, ids};
use crate::dns::{Answer, Dns, LookupError, join_all, reverse_name};

/// One blocklist: its zone, whether it lists IPv6 addresses, and where to ask for removal.
#[derive(Debug)]
pub(super) struct Blocklist {
    pub zone: &'static str,
    pub ipv6: bool,
    pub removal: &'static str,
}

/// The lists asked: Spamhaus ZEN (SBL, CSS, XBL, PBL; IPv4 and IPv6), SpamCop, Barracuda.
pub(super) const BLOCKLISTS: &[Blocklist] = &[
    Blocklist {
        zone: "zen.spamhaus.org",
        ipv6: true,
        removal: "https://check.spamhaus.org/",
    },
    Blocklist {
        zone: "bl.spamcop.net",
        ipv6: false,
        removal: "https://www.spamcop.net/bl.shtml",
    },
    Blocklist {
        zone: "b.barracudacentral.org",
        ipv6: false,
        removal: "https://www.barracudacentral.org/rbl/removal-request",
    },
];

/// The DNSBL query name of `ip` in `zone`: reversed octets (IPv4) or nibbles (IPv6) under
/// the list's zone (RFC 5782 §2.1, §2.4).
pub(super) fn query_name(ip: IpAddr, zone: &str) -> String {
    let reverse = reverse_name(ip);
    let labels = reverse
        .strip_suffix(".in-addr.arpa")
        .or_else(|| reverse.strip_suffix(".ip6.arpa"))
        .unwrap_or(&reverse);
    format!("{labels}.{zone}")
}

/// What an A answer of a DNSBL means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Listing {
    NotListed,
    Listed(Vec<Ipv4Addr>),
    /// The list refused (127.255.255.x) or the answer is not a DNSBL code.
    Refused(Ipv4Addr),
}

/// Classify the A records of a DNSBL answer (RFC 5782 §2.1, §5).
pub(super) fn classify(codes: &[Ipv4Addr]) -> Listing {
    if codes.is_empty() {
        return Listing::NotListed;
    }
    if let Some(bad) = codes
        .iter()
        .find(|c| c.octets()[0] != 127 || c.octets()[..3] == [127, 255, 255])
    {
        return Listing::Refused(*bad);
    }
    Listing::Listed(codes.to_vec())
}

/// Spamhaus ZEN return codes (https://docs.spamhaus.com/datasets/docs/source/40-real-world-usage/PublicMirrors/MTAs/020-Postfix.html).
fn meaning(zone: &str, code: Ipv4Addr) -> &'static str {
    if zone != "zen.spamhaus.org" {
        return "listed";
    }
    match code.octets()[3] {
        2 => "SBL: a known spam source",
        3 => "CSS: recently sent low-reputation mail",
        4..=7 => "XBL: an infected or hijacked host",
        9 => "DROP: a hijacked network",
        10 | 11 => "PBL: an address range that should not send mail directly",
        _ => "listed",
    }
}

/// The test entries every list has (RFC 5782 §5): 127.0.0.2 must be listed, 127.0.0.1 must
/// not. RFC 5782 §5 also gives IPv6 lists ::FFFF:7F00:2 and ::FFFF:7F00:1; the IPv4 entries
/// are asked for every list, IPv6 ones included: what is tested is the path from this
/// server to the list's zone (a resolver that answers every name, or a list that refuses
/// us), and that path is the same for both families.
pub(super) const TEST_LISTED: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
pub(super) const TEST_UNLISTED: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);

/// What a list answered for its two test entries.
#[derive(Debug, Clone)]
pub(super) struct TestPoint {
    /// The A answer at `2.0.0.127.<zone>`: must be a listing.
    pub listed: Result<Answer<Ipv4Addr>, LookupError>,
    /// The A answer at `1.0.0.127.<zone>`: must be NXDOMAIN (or NODATA).
    pub unlisted: Result<Answer<Ipv4Addr>, LookupError>,
}

impl TestPoint {
    /// Ask both test entries of `zone`, concurrently.
    async fn ask(dns: &Dns, zone: &str) -> TestPoint {
        let listed = query_name(IpAddr::V4(TEST_LISTED), zone);
        let unlisted = query_name(IpAddr::V4(TEST_UNLISTED), zone);
        let (listed, unlisted) = tokio::join!(dns.a(&listed), dns.a(&unlisted));
        TestPoint { listed, unlisted }
    }

    /// `None` when the list passes its test; else why its answers cannot be trusted, a
    /// phrase that follows the zone's name ("bl.spamcop.net did not list …").
    pub(super) fn distrust(&self) -> Option<String> {
        const RFC: &str = "(RFC 5782 §5)";
        const UNTRUSTED: &str = "its answers cannot be trusted";
        let listed = match &self.listed {
            Err(e) => {
                return Some(format!(
                    "could not be asked for its test entry {TEST_LISTED} {RFC} ({e})"
                ));
            }
            Ok(a) => classify(&a.records),
        };
        match listed {
            Listing::Listed(_) => {}
            Listing::NotListed => {
                return Some(format!(
                    "did not list its test entry {TEST_LISTED} {RFC}: {UNTRUSTED}"
                ));
            }
            Listing::Refused(code) => {
                return Some(format!(
                    "answered {code} for its test entry {TEST_LISTED} {RFC}: the query was \
                     refused (e.g. sent through a public resolver), {UNTRUSTED}"
                ));
            }
        }
        match &self.unlisted {
            Err(e) => Some(format!(
                "could not be asked for its test entry {TEST_UNLISTED} {RFC} ({e})"
            )),
            Ok(a) if a.is_empty() => None,
            Ok(a) => Some(format!(
                "answered {} for its test entry {TEST_UNLISTED}, which no list lists {RFC}: \
                 {UNTRUSTED}",
                codes(&a.records)
            )),
        }
    }
}

/// The test entries of every list, asked at most once per zone however many addresses are
/// checked: one per run of the checks, shared by its jobs (they run concurrently; the first
/// to ask a zone asks, the others wait for its answer).
#[derive(Debug)]
pub(super) struct TestPoints {
    cells: HashMap<&'static str, OnceCell<TestPoint>>,
}

impl Default for TestPoints {
    fn default() -> TestPoints {
        TestPoints {
            cells: BLOCKLISTS
                .iter()
                .map(|l| (l.zone, OnceCell::new()))
                .collect(),
        }
    }
}

impl TestPoints {
    /// The test entries of `list`, asked through `dns` the first time.
    async fn of(&self, dns: &Dns, list: &Blocklist) -> TestPoint {
        match self.cells.get(list.zone) {
            Some(cell) => cell
                .get_or_init(|| TestPoint::ask(dns, list.zone))
                .await
                .clone(),
            // a list outside BLOCKLISTS (none is): asked, not cached
            None => TestPoint::ask(dns, list.zone).await,
        }
    }
}

/// What one list said about one address: its A answer at the query name, or why there is
/// none, and its test entries.
#[derive(Debug, Clone)]
pub(super) struct ListAnswer {
    pub list: &'static Blocklist,
    pub answer: Result<Answer<Ipv4Addr>, LookupError>,
    pub test: TestPoint,
}

/// What the blocklists said about one address: each list that covers it (IPv6 only the
/// lists with `ipv6`), in [`BLOCKLISTS`] order.
#[derive(Debug, Clone)]
pub(super) struct Gathered {
    pub answers: Vec<ListAnswer>,
}

/// Ask every list that covers `ip`, and its test entries (once per run, through `points`),
/// concurrently, through the first hop `dns`.
pub(super) async fn gather(dns: &Dns, points: &TestPoints, ip: IpAddr) -> Gathered {
    let lists: Vec<&'static Blocklist> = BLOCKLISTS
        .iter()
        .filter(|l| ip.is_ipv4() || l.ipv6)
        .collect();
    let asked = lists.iter().map(|list| async move {
        let name = query_name(ip, list.zone);
        let (answer, test) = tokio::join!(dns.a(&name), points.of(dns, list));
        ListAnswer { list, answer, test }
    });
    Gathered {
        answers: join_all(asked.collect()).await,
    }
}

/// The findings about `ip`: an `rbl.listed` error per list that lists it, and one
/// `rbl.unknown` (info; the check's status is then unknown) naming every list that could
/// not say: no answer, a refusal code, an answer that is no DNSBL code ([`classify`]), or
/// test entries that do not behave ([`TestPoint::distrust`]), which makes both its
/// "listed" and its "not listed" unknown.
pub(super) fn judge(g: &Gathered, ip: IpAddr) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut unknown: Vec<(&Blocklist, String)> = Vec::new();
    for ListAnswer { list, answer, test } in &g.answers {
        let codes = match answer {
            Ok(a) => &a.records,
            Err(e) => {
                unknown.push((list, format!("could not be asked ({e})")));
                continue;
            }
        };
        let why = match (classify(codes), test.distrust()) {
            (Listing::NotListed, None) => continue,
            (Listing::Listed(codes), None) => {
                findings.push(listed(list, &codes, ip));
                continue;
            }
            (Listing::Refused(code), _) => format!(
                "answered {code}: the query was refused (e.g. sent through a public \
                 resolver), which does not mean listed"
            ),
            (Listing::NotListed, Some(why)) => why,
            (Listing::Listed(codes), Some(why)) => {
                format!("{why}; for {ip} it answered {}", self::codes(&codes))
            }
        };
        unknown.push((list, why));
    }
    if !unknown.is_empty() {
        findings.push(not_known(&unknown, ip));
    }
    findings
}

/// `127.0.0.2, 127.0.0.4`.
fn codes(codes: &[Ipv4Addr]) -> String {
    codes
        .iter()
        .map(Ipv4Addr::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `rbl.listed`: `list` lists `ip` with these codes.
fn listed(list: &Blocklist, codes: &[Ipv4Addr], ip: IpAddr) -> Finding {
    let found: Vec<String> = codes
        .iter()
        .map(|c| format!("{c} ({})", meaning(list.zone, *c)))
        .collect();
    Finding::new(
        ids::RBL_LISTED,
        Severity::Error,
        &ip.to_string(),
        format!(
            "{} lists {ip}; many receivers reject or junk its mail",
            list.zone
        ),
    )
    .found(found.join("\n"))
    .expected("not listed (NXDOMAIN)")
    .fix(Some(format!(
        "find out why at {} and request removal there; for a PBL listing of a server \
         address, ask the provider or remove it at the same page",
        list.removal
    )))
}

/// `rbl.unknown`: these lists could not say whether they list `ip`, and why.
fn not_known(unknown: &[(&Blocklist, String)], ip: IpAddr) -> Finding {
    let zones: Vec<&str> = unknown.iter().map(|(l, _)| l.zone).collect();
    let found: Vec<String> = unknown
        .iter()
        .map(|(l, why)| format!("{} {why}", l.zone))
        .collect();
    let pages: Vec<&str> = unknown.iter().map(|(l, _)| l.removal).collect();
    Finding::new(
        ids::RBL_UNKNOWN,
        Severity::Info,
        &ip.to_string(),
        format!("could not tell whether {} list {ip}", zones.join(", ")),
    )
    .found(found.join("\n"))
    .fix(Some(format!(
        "ask the lists through a resolver of your own that queries them directly (they \
         refuse public resolvers, and a resolver that answers every name hides them): \
         --nameserver IP[:PORT], or look {ip} up at {}",
        pages.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{answer, could_not_ask, ids_of};
    use super::super::{Status, status};
    use super::*;

    fn v4() -> IpAddr {
        "192.0.2.25".parse().unwrap()
    }

    fn code(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    /// Test entries that behave: 127.0.0.2 listed, 127.0.0.1 not.
    fn sound() -> TestPoint {
        TestPoint {
            listed: Ok(answer(&[TEST_LISTED])),
            unlisted: Ok(answer(&[])),
        }
    }

    /// The lists of an IPv4 address answering these, in order, with sound test entries.
    fn said(answers: [Result<Answer<Ipv4Addr>, LookupError>; 3]) -> Gathered {
        tested(answers.map(|a| (a, sound())))
    }

    /// The lists of an IPv4 address answering these, each with its test entries.
    fn tested(answers: [(Result<Answer<Ipv4Addr>, LookupError>, TestPoint); 3]) -> Gathered {
        Gathered {
            answers: BLOCKLISTS
                .iter()
                .zip(answers)
                .map(|(list, (answer, test))| ListAnswer { list, answer, test })
                .collect(),
        }
    }

    /// Every way a list's test entries can misbehave, with the start of the reason given.
    fn unsound() -> Vec<(TestPoint, &'static str)> {
        let mut out = vec![
            // a resolver that answers NXDOMAIN for every name
            (
                TestPoint {
                    listed: Ok(answer(&[])),
                    unlisted: Ok(answer(&[])),
                },
                "did not list its test entry 127.0.0.2 (RFC 5782 §5): its answers cannot be \
                 trusted",
            ),
            // a resolver that answers 127.0.0.2 for every name
            (
                TestPoint {
                    listed: Ok(answer(&[TEST_LISTED])),
                    unlisted: Ok(answer(&[TEST_LISTED])),
                },
                "answered 127.0.0.2 for its test entry 127.0.0.1, which no list lists (RFC \
                 5782 §5): its answers cannot be trusted",
            ),
            // a list that refuses this resolver
            (
                TestPoint {
                    listed: Ok(answer(&[code("127.255.255.254")])),
                    unlisted: Ok(answer(&[code("127.255.255.254")])),
                },
                "answered 127.255.255.254 for its test entry 127.0.0.2 (RFC 5782 §5): the \
                 query was refused",
            ),
            // a resolver that rewrites NXDOMAIN to an ad server
            (
                TestPoint {
                    listed: Ok(answer(&[TEST_LISTED])),
                    unlisted: Ok(answer(&[code("198.51.100.7")])),
                },
                "answered 198.51.100.7 for its test entry 127.0.0.1",
            ),
        ];
        for e in could_not_ask() {
            out.push((
                TestPoint {
                    listed: Err(e.clone()),
                    unlisted: Ok(answer(&[])),
                },
                "could not be asked for its test entry 127.0.0.2 (RFC 5782 §5)",
            ));
            out.push((
                TestPoint {
                    listed: Ok(answer(&[TEST_LISTED])),
                    unlisted: Err(e),
                },
                "could not be asked for its test entry 127.0.0.1 (RFC 5782 §5)",
            ));
        }
        out
    }

    #[test]
    fn sound_test_entries_are_trusted() {
        assert_eq!(sound().distrust(), None);
        // Spamhaus answers its 127.0.0.2 with several codes; NODATA for 127.0.0.1 is fine
        let zen = TestPoint {
            listed: Ok(answer(&[
                TEST_LISTED,
                code("127.0.0.4"),
                code("127.0.0.10"),
            ])),
            unlisted: Ok(Answer {
                records: vec![],
                absent: Some(crate::dns::Absence::NoData),
                ttl: 0,
            }),
        };
        assert_eq!(zen.distrust(), None);
    }

    #[test]
    fn a_not_listed_from_a_list_that_fails_its_test_is_unknown() {
        for (test, why) in unsound() {
            let g = tested([
                (Ok(answer(&[])), sound()),
                (Ok(answer(&[])), test),
                (Ok(answer(&[])), sound()),
            ]);
            let findings = judge(&g, v4());
            assert_eq!(ids_of(&findings), [ids::RBL_UNKNOWN], "{why}");
            assert_eq!(status(&findings), Status::Unknown);
            let f = &findings[0];
            assert_eq!(
                f.message,
                "could not tell whether bl.spamcop.net list 192.0.2.25"
            );
            let found = f.found.as_deref().unwrap();
            assert!(
                found.starts_with(&format!("bl.spamcop.net {why}")),
                "{found}\n{why}"
            );
        }
    }

    #[test]
    fn a_listing_from_a_list_that_fails_its_test_is_unknown_not_listed() {
        for (test, why) in unsound() {
            let g = tested([
                (Ok(answer(&[code("127.0.0.2")])), test),
                (Ok(answer(&[])), sound()),
                (Ok(answer(&[])), sound()),
            ]);
            let findings = judge(&g, v4());
            assert_eq!(ids_of(&findings), [ids::RBL_UNKNOWN], "{why}");
            assert_eq!(status(&findings), Status::Unknown);
            let found = findings[0].found.as_deref().unwrap();
            assert!(
                found.starts_with(&format!("zen.spamhaus.org {why}")),
                "{found}"
            );
            assert!(
                found.ends_with("; for 192.0.2.25 it answered 127.0.0.2"),
                "{found}"
            );
        }
    }

    #[test]
    fn every_list_failing_its_test_names_each() {
        let nx = || TestPoint {
            listed: Ok(answer(&[])),
            unlisted: Ok(answer(&[])),
        };
        let g = tested([
            (Ok(answer(&[])), nx()),
            (Ok(answer(&[])), nx()),
            (Ok(answer(&[])), nx()),
        ]);
        let findings = judge(&g, v4());
        assert_eq!(ids_of(&findings), [ids::RBL_UNKNOWN]);
        assert_eq!(
            findings[0].message,
            "could not tell whether zen.spamhaus.org, bl.spamcop.net, b.barracudacentral.org \
             list 192.0.2.25"
        );
        assert_eq!(
            findings[0].found.as_deref().unwrap().lines().count(),
            3,
            "one reason per list"
        );
        assert!(
            findings[0]
                .fix
                .as_deref()
                .unwrap()
                .contains("look 192.0.2.25 up at https://check.spamhaus.org/")
        );
    }

    #[test]
    fn not_listed_anywhere_passes() {
        let g = said([Ok(answer(&[])), Ok(answer(&[])), Ok(answer(&[]))]);
        assert_eq!(judge(&g, v4()), []);
    }

    #[test]
    fn a_listing_is_an_error_with_the_meaning_of_its_code() {
        let g = said([
            Ok(answer(&[code("127.0.0.2")])),
            Ok(answer(&[])),
            Ok(answer(&[])),
        ]);
        let findings = judge(&g, v4());
        assert_eq!(ids_of(&findings), [ids::RBL_LISTED]);
        let f = &findings[0];
        assert_eq!(
            f.message,
            "zen.spamhaus.org lists 192.0.2.25; many receivers reject or junk its mail"
        );
        assert_eq!(
            f.found.as_deref(),
            Some("127.0.0.2 (SBL: a known spam source)")
        );
        assert!(
            f.fix
                .as_deref()
                .unwrap()
                .contains("https://check.spamhaus.org/")
        );
        assert_eq!(status(&findings), Status::Fail);
    }

    #[test]
    fn a_refusal_code_is_unknown_not_listed() {
        let g = said([
            Ok(answer(&[code("127.255.255.254")])),
            Ok(answer(&[])),
            Ok(answer(&[])),
        ]);
        let findings = judge(&g, v4());
        assert_eq!(ids_of(&findings), [ids::RBL_UNKNOWN]);
        assert_eq!(findings[0].severity, Severity::Info);
        assert!(
            findings[0]
                .found
                .as_deref()
                .unwrap()
                .starts_with("zen.spamhaus.org answered 127.255.255.254: the query was refused")
        );
        assert_eq!(status(&findings), Status::Unknown);
    }

    #[test]
    fn could_not_ask_is_unknown_never_a_pass() {
        for e in could_not_ask() {
            let g = said([Ok(answer(&[])), Err(e.clone()), Err(e)]);
            let findings = judge(&g, v4());
            assert_eq!(ids_of(&findings), [ids::RBL_UNKNOWN]);
            assert_eq!(
                findings[0].message,
                "could not tell whether bl.spamcop.net, b.barracudacentral.org list 192.0.2.25"
            );
            assert_eq!(status(&findings), Status::Unknown);
        }
    }

    #[test]
    fn a_listing_next_to_an_unknown_still_fails() {
        let g = said([
            Err(LookupError::Timeout),
            Ok(answer(&[code("127.0.0.2")])),
            Ok(answer(&[])),
        ]);
        let findings = judge(&g, v4());
        assert_eq!(ids_of(&findings), [ids::RBL_LISTED, ids::RBL_UNKNOWN]);
        assert_eq!(status(&findings), Status::Fail);
    }

    /// A first hop on 127.0.0.1 that answers NXDOMAIN to every query and counts the
    /// queries per name.
    async fn counting_resolver() -> (
        Dns,
        std::sync::Arc<std::sync::Mutex<HashMap<String, usize>>>,
        tokio::task::JoinHandle<()>,
    ) {
        use hickory_proto::op::{Message, ResponseCode};
        let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = udp.local_addr().unwrap();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(HashMap::new()));
        let counts = seen.clone();
        let task = tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok((n, peer)) = udp.recv_from(&mut buf).await {
                let Ok(query) = Message::from_vec(&buf[..n]) else {
                    continue;
                };
                for q in &query.queries {
                    let name = q.name().to_ascii().to_ascii_lowercase();
                    *counts.lock().unwrap().entry(name).or_insert(0) += 1;
                }
                let mut reply = Message::error_msg(
                    query.metadata.id,
                    query.metadata.op_code,
                    ResponseCode::NXDomain,
                );
                reply.metadata.recursion_desired = query.metadata.recursion_desired;
                reply.add_queries(query.queries);
                if let Ok(bytes) = reply.to_vec() {
                    let _ = udp.send_to(&bytes, peer).await;
                }
            }
        });
        let dns = Dns::with_timeout(
            &crate::dns::Nameserver::At(addr),
            std::time::Duration::from_secs(2),
            0,
        )
        .unwrap();
        (dns, seen, task)
    }

    #[tokio::test]
    async fn test_entries_are_asked_once_per_zone_per_run() {
        let (dns, seen, task) = counting_resolver().await;
        let v6: IpAddr = "2001:db8::25".parse().unwrap();
        let points = TestPoints::default();
        // the IPv4 and the IPv6 job of one run, concurrently
        let (g4, g6) = tokio::join!(gather(&dns, &points, v4()), gather(&dns, &points, v6));
        assert_eq!(g4.answers.len(), 3);
        assert_eq!(g6.answers.len(), 1, "only zen.spamhaus.org lists IPv6");
        // a resolver answering NXDOMAIN for everything: every list unknown, never a pass
        for (g, ip) in [(&g4, v4()), (&g6, v6)] {
            let findings = judge(g, ip);
            assert_eq!(ids_of(&findings), [ids::RBL_UNKNOWN]);
            assert_eq!(status(&findings), Status::Unknown);
        }
        // later in the same run (the resolver may merge identical queries in flight, so
        // only a later one shows the cache): nothing asked again
        gather(&dns, &points, v6).await;
        let counts = seen.lock().unwrap().clone();
        for list in BLOCKLISTS {
            for entry in ["2.0.0.127", "1.0.0.127"] {
                let name = format!("{entry}.{}.", list.zone);
                assert_eq!(counts.get(&name), Some(&1), "{name}: {counts:?}");
            }
        }
        // the next run asks again: a list's behaviour is not remembered across runs
        let again = TestPoints::default();
        gather(&dns, &again, v4()).await;
        let counts = seen.lock().unwrap().clone();
        assert_eq!(counts.get("2.0.0.127.bl.spamcop.net."), Some(&2));
        task.abort();
    }

    #[test]
    fn query_names_reverse_the_address() {
        let v4: IpAddr = "192.0.2.25".parse().unwrap();
        assert_eq!(
            query_name(v4, "zen.spamhaus.org"),
            "25.2.0.192.zen.spamhaus.org"
        );
        let v6: IpAddr = "2001:db8::25".parse().unwrap();
        let name = query_name(v6, "zen.spamhaus.org");
        assert!(name.starts_with("5.2.0.0.0.0.0.0"), "{name}");
        assert!(
            name.ends_with(".8.b.d.0.1.0.0.2.zen.spamhaus.org"),
            "{name}"
        );
        assert_eq!(name.split('.').count(), 32 + 3);
    }

    #[test]
    fn codes_are_classified() {
        let ip = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        assert_eq!(classify(&[]), Listing::NotListed);
        assert_eq!(
            classify(&[ip("127.0.0.2"), ip("127.0.0.11")]),
            Listing::Listed(vec![ip("127.0.0.2"), ip("127.0.0.11")])
        );
        for refused in ["127.255.255.254", "127.255.255.255", "127.255.255.252"] {
            assert_eq!(classify(&[ip(refused)]), Listing::Refused(ip(refused)));
        }
        // a resolver that rewrites NXDOMAIN to an ad server
        assert_eq!(
            classify(&[ip("198.51.100.7")]),
            Listing::Refused(ip("198.51.100.7"))
        );
        assert_eq!(
            meaning("zen.spamhaus.org", ip("127.0.0.10")),
            "PBL: an address range that should not send mail directly"
        );
    }
}
