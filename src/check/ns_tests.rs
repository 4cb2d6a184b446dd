//! [`judge`] of the `ns` check over hand-built zones and serials: no DNS server.

use super::super::fixtures::{FIRST_HOP, assert_unverifiable, could_not_ask, ids_of, server};
use super::super::{Status, status};
use super::*;

fn domain() -> Domain {
    Domain::parse("example.org").unwrap()
}

/// example.org with servers ns1, ns2, … serving these serials.
fn zone(serials: Vec<Serial>, unresolved: Vec<(String, Option<LookupError>)>) -> Gathered {
    let servers = (1..=serials.len() as u8)
        .map(|n| server("example.org", n))
        .collect();
    let zone = Zone {
        apex: "example.org".into(),
        negative_ttl: 300,
        servers,
        unresolved,
    };
    Gathered {
        zone: Ok((Arc::new(zone), Arc::new(serials))),
        first_hop: FIRST_HOP,
    }
}

#[test]
fn servers_at_one_serial_pass() {
    assert_eq!(judge(&zone(vec![Ok(7), Ok(7)], vec![]), &domain()), []);
}

#[test]
fn a_lagging_server_is_ns_disagree_with_every_serial() {
    let findings = judge(&zone(vec![Ok(2), Ok(1)], vec![]), &domain());
    assert_eq!(ids_of(&findings), [ids::DNS_NS_DISAGREE]);
    let f = &findings[0];
    assert!(
        f.message.ends_with("the zone: ns2.example.org lags behind"),
        "{}",
        f.message
    );
    assert_eq!(
        f.found.as_deref(),
        Some("ns1.example.org (127.0.0.1): serial 2\nns2.example.org (127.0.0.2): serial 1")
    );
    assert_eq!(f.expected.as_deref(), Some("every server at serial 2"));
    assert_eq!(status(&findings), Status::Warn);
}

#[test]
fn a_server_that_does_not_serve_the_zone_is_lame() {
    for e in [
        LookupError::Server("REFUSED".into()),
        LookupError::Server("NOTAUTH".into()),
        LookupError::NotAuthoritative("example.org".into()),
    ] {
        let findings = judge(&zone(vec![Ok(1), Err(e)], vec![]), &domain());
        assert_eq!(ids_of(&findings), [ids::DNS_NS_LAME]);
        assert!(
            findings[0].message.starts_with(
                "ns2.example.org (127.0.0.2) is listed as a nameserver of example.org"
            ),
            "{}",
            findings[0].message
        );
        assert_eq!(status(&findings), Status::Warn);
    }
}

#[test]
fn a_nameserver_without_an_address_is_lame() {
    let unresolved = vec![
        ("ns3.example.net".to_string(), None),
        ("ns4.example.net".to_string(), Some(LookupError::Timeout)),
    ];
    let findings = judge(&zone(vec![Ok(1)], unresolved), &domain());
    assert_eq!(ids_of(&findings), [ids::DNS_NS_LAME, ids::DNS_NS_LAME]);
    assert_eq!(
        findings[0].message,
        "the nameserver ns3.example.net of example.org has no address"
    );
    assert_eq!(
        findings[1].message,
        "the nameserver ns4.example.net of example.org has no address (no answer (timed out))"
    );
}

#[test]
fn a_serial_that_could_not_be_read_is_unverifiable() {
    for e in [LookupError::Timeout, LookupError::Server("SERVFAIL".into())] {
        let findings = judge(&zone(vec![Ok(1), Err(e)], vec![]), &domain());
        assert_unverifiable(&findings);
        assert!(
            findings[0]
                .message
                .starts_with("could not verify the zone example.org at ns2.example.org"),
            "{}",
            findings[0].message
        );
    }
}

#[test]
fn could_not_ask_is_never_a_pass() {
    for e in could_not_ask() {
        let unfound = Gathered {
            zone: Err(e.clone()),
            first_hop: FIRST_HOP,
        };
        assert_unverifiable(&judge(&unfound, &domain()));
        // every server failing: unverifiable, or lame when it refuses
        let findings = judge(&zone(vec![Err(e.clone()), Err(e)], vec![]), &domain());
        assert_eq!(findings.len(), 2);
        assert_ne!(status(&findings), Status::Pass);
    }
    assert_unverifiable(&judge(&zone(vec![], vec![]), &domain()));
}
