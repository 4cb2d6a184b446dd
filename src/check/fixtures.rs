//! Gathered values for the judges' unit tests, built by hand: what the authoritative
//! servers of a zone said (one per server), what the first hop said, or why nothing could
//! be asked. No DNS server.

use std::net::SocketAddr;
use std::sync::Arc;

use super::observe::Seen;
use super::{Finding, Status, ids, status};
use crate::dns::auth::Serial;
use crate::dns::{Absence, Answer, LookupError, Nameserver, Observed, Zone, ZoneServer};

/// The first hop named in `dns.unverifiable` fixes.
pub(super) const FIRST_HOP: Nameserver = Nameserver::At(SocketAddr::new(
    std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
    53,
));
/// When the gathered values were asked: 2027-01-15 08:00 UTC.
pub(super) const NOW: u64 = 1_800_000_000;

/// The authoritative server `ns<n>.<apex>` at 127.0.0.`n`.
pub(super) fn server(apex: &str, n: u8) -> ZoneServer {
    ZoneServer {
        name: format!("ns{n}.{apex}"),
        addr: SocketAddr::from(([127, 0, 0, n], 53)),
    }
}

/// An answer with these records (TTL 300); none: NXDOMAIN.
pub(super) fn answer<T: Clone>(records: &[T]) -> Answer<T> {
    Answer {
        records: records.to_vec(),
        absent: records.is_empty().then_some(Absence::NxDomain),
        ttl: 300,
    }
}

/// The last two labels of `name`: the zone in these tests.
fn apex_of(name: &str) -> String {
    let labels: Vec<&str> = name.split('.').collect();
    labels[labels.len().saturating_sub(2)..].join(".")
}

/// `name` as servers ns1, ns2, … of its zone answered it, with these serials; the first hop
/// answered `first_hop`.
pub(super) fn at_servers<T>(
    name: &str,
    serials: Vec<Serial>,
    answers: Vec<Result<Answer<T>, LookupError>>,
    first_hop: Result<Answer<T>, LookupError>,
) -> Seen<T> {
    let apex = apex_of(name);
    let servers = (1..=answers.len() as u8)
        .map(|n| server(&apex, n))
        .collect();
    Seen {
        observed: Ok(Observed {
            name: name.to_string(),
            zone: Arc::new(Zone {
                apex,
                negative_ttl: 300,
                servers,
                unresolved: vec![],
            }),
            serials: Arc::new(serials),
            answers,
            first_hop,
        }),
        first_hop: FIRST_HOP,
        at: NOW,
    }
}

/// `records` at `name`, as its one server and the first hop answer it (none: NXDOMAIN).
pub(super) fn served<T: Clone>(name: &str, records: &[T]) -> Seen<T> {
    let a = answer(records);
    at_servers(name, vec![Ok(1)], vec![Ok(a.clone())], Ok(a))
}

/// A timeout, SERVFAIL and REFUSED: the ways a server can fail to answer.
pub(super) fn could_not_ask() -> [LookupError; 3] {
    [
        LookupError::Timeout,
        LookupError::Server("SERVFAIL".into()),
        LookupError::Server("REFUSED".into()),
    ]
}

/// Every way nothing is known about `name`: for each error of [`could_not_ask`], the zone
/// could not be found, and its only server failed (its serial too).
pub(super) fn unasked<T>(name: &str) -> Vec<Seen<T>> {
    let mut out = Vec::new();
    for e in could_not_ask() {
        out.push(Seen {
            observed: Err(e.clone()),
            first_hop: FIRST_HOP,
            at: NOW,
        });
        out.push(at_servers(
            name,
            vec![Err(e.clone())],
            vec![Err(e.clone())],
            Err(e),
        ));
    }
    out
}

/// The judge of a record nothing is known about says so and nothing else: only
/// `dns.unverifiable` findings, and the check is unknown, never a pass.
pub(super) fn assert_unverifiable(findings: &[Finding]) {
    assert!(!findings.is_empty(), "no finding");
    assert!(
        findings.iter().all(|f| f.id == ids::DNS_UNVERIFIABLE),
        "{findings:#?}"
    );
    assert_eq!(status(findings), Status::Unknown, "{findings:#?}");
}

/// The finding ids, in order.
pub(super) fn ids_of(findings: &[Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.id).collect()
}
