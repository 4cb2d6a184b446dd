//! The `ns` check: the zone of a mail domain and its authoritative servers. Every listed
//! nameserver has an address and serves the zone (no lame delegation, RFC 1912 §2.8), and
//! they all serve the same serial (RFC 1035 §3.3.13). [`gather`] finds the zone and asks
//! each server its serial; [`judge`] is pure.

use std::sync::Arc;

use super::observe::unverifiable;
use super::{Finding, Severity, ids};
use crate::dns::auth::{Serial, is_lame};
use crate::dns::{Authority, LookupError, Nameserver, Zone, ZoneServer};
use crate::values::Domain;

/// What the `ns` check found in DNS.
#[derive(Debug, Clone)]
pub(super) struct Gathered {
    /// The zone the domain is in, with each server's serial in `zone.servers` order; or why
    /// the zone (its SOA, its NS records) could not be found.
    pub zone: Result<(Arc<Zone>, Arc<Vec<Serial>>), LookupError>,
    /// The first hop, named in the fix of a `dns.unverifiable` finding.
    pub first_hop: Nameserver,
}

/// The zone of `domain` and the serial each of its servers serves, asked directly.
pub(super) async fn gather(auth: &Authority, domain: &Domain) -> Gathered {
    let zone = match auth.zone_of(domain.as_str()).await {
        Ok(zone) => Ok((zone.clone(), auth.serials(&zone).await)),
        Err(e) => Err(e),
    };
    Gathered {
        zone,
        first_hop: auth.options().first_hop,
    }
}

/// The findings about the zone of `domain`: `dns.ns-lame` per NS name without an address
/// and per server that does not serve the zone (REFUSED, NOTAUTH, no SOA of it: warnings),
/// `dns.unverifiable` per server whose serial could not be read (a timeout, SERVFAIL …) and
/// when the zone or its NS records could not be found, and one `dns.ns-disagree` when the
/// servers that answered serve different serials.
pub(super) fn judge(g: &Gathered, domain: &Domain) -> Vec<Finding> {
    let subject = domain.as_str();
    let what = format!("the nameservers of {subject}");
    let (zone, served) = match &g.zone {
        Ok(found) => found,
        Err(e) => return vec![unverifiable(subject, &what, &e.to_string(), &g.first_hop)],
    };
    let apex = &zone.apex;
    if zone.servers.is_empty() && zone.unresolved.is_empty() {
        let why = format!("the zone {apex} lists no nameserver (NS)");
        return vec![unverifiable(subject, &what, &why, &g.first_hop)];
    }
    let mut findings: Vec<Finding> = zone
        .unresolved
        .iter()
        .map(|(name, e)| no_address(subject, apex, name, e.as_ref()))
        .collect();
    let mut serials = Vec::new();
    for (server, serial) in zone.servers.iter().zip(served.iter()) {
        match serial {
            Ok(serial) => serials.push((server, *serial)),
            Err(e) if is_lame(serial) => findings.push(lame(subject, apex, server, e)),
            Err(e) => findings.push(unverifiable(
                subject,
                &format!("the zone {apex} at {server}"),
                &e.to_string(),
                &g.first_hop,
            )),
        }
    }
    findings.extend(different_serials(subject, apex, &serials));
    findings
}

/// `dns.ns-lame`: the NS name `name` of `apex` has no address (`e`: why the lookup failed).
fn no_address(subject: &str, apex: &str, name: &str, e: Option<&LookupError>) -> Finding {
    let why = e.map(|e| format!(" ({e})")).unwrap_or_default();
    Finding::new(
        ids::DNS_NS_LAME,
        Severity::Warning,
        subject,
        format!("the nameserver {name} of {apex} has no address{why}"),
    )
    .fix(Some(format!(
        "publish the address (A) of {name}, or remove {name} from the NS records of {apex} \
         (in the zone and at the registrar)"
    )))
}

/// `dns.ns-lame`: `server` is listed for `apex` but does not serve it (`e`).
fn lame(subject: &str, apex: &str, server: &ZoneServer, e: &LookupError) -> Finding {
    Finding::new(
        ids::DNS_NS_LAME,
        Severity::Warning,
        subject,
        format!(
            "{server} is listed as a nameserver of {apex} but does not serve it ({e}): a \
             lame delegation; resolvers that ask it get no answer"
        ),
    )
    .fix(Some(format!(
        "make {} serve the zone {apex}, or remove it from the NS records (in the zone and \
         at the registrar)",
        server.name
    )))
}

/// `dns.ns-disagree` when the servers that answered serve different serials: those below
/// the highest lag behind.
fn different_serials(subject: &str, apex: &str, serials: &[(&ZoneServer, u32)]) -> Option<Finding> {
    let newest = serials.iter().map(|(_, s)| *s).max()?;
    let behind: Vec<String> = serials
        .iter()
        .filter(|(_, s)| *s != newest)
        .map(|(server, _)| server.name.clone())
        .collect();
    if behind.is_empty() {
        return None;
    }
    let found: Vec<String> = serials
        .iter()
        .map(|(server, s)| format!("{server}: serial {s}"))
        .collect();
    Some(
        Finding::new(
            ids::DNS_NS_DISAGREE,
            Severity::Warning,
            subject,
            format!(
                "the authoritative servers of {apex} serve different versions of the zone: \
                 {} lags behind",
                behind.join(", ")
            ),
        )
        .found(found.join("\n"))
        .expected(format!("every server at serial {newest}"))
        .fix(Some(format!(
            "wait until {} has transferred the zone from its primary (after NOTIFY, or at \
             the SOA refresh interval); if it stays behind, repair the zone transfer",
            behind.join(", ")
        ))),
    )
}

#[cfg(test)]
#[path = "ns_tests.rs"]
mod tests;
