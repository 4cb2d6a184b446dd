//! The `a` and `aaaa` checks: the hostname's A (AAAA) records include this server's IPv4
//! (IPv6) address, because receivers look the hostname up to confirm the PTR of the
//! address (RFC 8601 §3 "iprev"). [`gather`] asks the authoritative servers; [`judge`] is
//! pure. The reverse half is the `ptr` check ([`super::ptr`]).

use std::net::IpAddr;

use super::observe::{Seen, best_answer, seen, show};
use super::{Finding, Severity, ids};
use crate::dns::Authority;
use crate::dns::auth::ask;
use crate::values::Domain;

/// The A (for an IPv4 `ip`) or AAAA (IPv6) records of `hostname` at every authoritative
/// server.
pub(super) async fn gather(auth: &Authority, hostname: &Domain, ip: IpAddr) -> Seen<IpAddr> {
    let ask = if ip.is_ipv4() { ask::a } else { ask::aaaa };
    seen(auth, hostname.as_str(), ask).await
}

/// The record type that maps `hostname` to `ip`: `A` or `AAAA`.
fn rtype(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() { "A" } else { "AAAA" }
}

/// The findings about `hostname`'s records of `ip`'s family, as `seen`: none when they
/// include `ip`; `host.a-missing` (no such record) or `host.a-mismatch` (others only),
/// errors whose fix is the record to publish; or `dns.unverifiable` when no server answered.
pub(super) fn judge(seen: &Seen<IpAddr>, hostname: &Domain, ip: IpAddr) -> Vec<Finding> {
    let subject = hostname.as_str();
    let rtype = rtype(ip);
    let what = format!("the {rtype} record of {hostname}");
    let (answer, mut findings) = match best_answer(subject, &what, seen) {
        Ok(found) => found,
        Err(findings) => return findings,
    };
    if answer.records.contains(&ip) {
        return findings;
    }
    let (id, message) = match answer.absent {
        Some(why) => (
            ids::HOST_A_MISSING,
            format!(
                "{hostname} has no {rtype} record ({why}); receivers look it up to confirm \
                 the PTR of {ip}"
            ),
        ),
        None => (
            ids::HOST_A_MISMATCH,
            format!("the {rtype} records of {hostname} do not include this server's {ip}"),
        ),
    };
    let mut f = Finding::new(id, Severity::Error, subject, message)
        .expected(ip.to_string())
        .fix(Some(format!("{hostname}. IN {rtype} {ip}")));
    if !answer.is_empty() {
        f = f.found(show(answer));
    }
    findings.push(f);
    findings
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{assert_unverifiable, ids_of, served, unasked};
    use super::*;

    const HOST: &str = "mail.example.org";

    fn host() -> Domain {
        Domain::parse(HOST).unwrap()
    }

    fn v4() -> IpAddr {
        "192.0.2.25".parse().unwrap()
    }

    fn v6() -> IpAddr {
        "2001:db8::25".parse().unwrap()
    }

    #[test]
    fn the_address_among_the_records_passes() {
        let seen = served(HOST, &[v4(), "192.0.2.26".parse().unwrap()]);
        assert_eq!(judge(&seen, &host(), v4()), []);
    }

    #[test]
    fn no_record_is_a_missing_with_the_record_to_publish() {
        let findings = judge(&served(HOST, &[]), &host(), v6());
        assert_eq!(ids_of(&findings), [ids::HOST_A_MISSING]);
        let f = &findings[0];
        assert_eq!(f.severity, Severity::Error);
        assert!(
            f.message
                .starts_with("mail.example.org has no AAAA record (the name does not exist)")
        );
        assert_eq!(f.found, None);
        assert_eq!(f.expected.as_deref(), Some("2001:db8::25"));
        assert_eq!(
            f.fix.as_deref(),
            Some("mail.example.org. IN AAAA 2001:db8::25")
        );
    }

    #[test]
    fn other_addresses_are_a_mismatch_showing_them() {
        let other: IpAddr = "198.51.100.7".parse().unwrap();
        let findings = judge(&served(HOST, &[other]), &host(), v4());
        assert_eq!(ids_of(&findings), [ids::HOST_A_MISMATCH]);
        assert_eq!(findings[0].found.as_deref(), Some("198.51.100.7"));
        assert_eq!(
            findings[0].fix.as_deref(),
            Some("mail.example.org. IN A 192.0.2.25")
        );
    }

    #[test]
    fn could_not_ask_is_unverifiable_never_a_pass() {
        for seen in unasked::<IpAddr>(HOST) {
            assert_unverifiable(&judge(&seen, &host(), v4()));
        }
    }
}
