//! Per-domain checks that need no record parsing: the zone's nameservers (`ns`) and MX.

use super::observe::{absence, lookup, show, unverifiable};
use super::{DomainInput, Finding, Severity, ids};
use crate::dns::Authority;
use crate::dns::auth::ask;
use crate::dns::auth::is_lame;
use crate::values::Domain;

/// The zone of the domain and its authoritative servers: every listed server serves the
/// zone (no lame delegation, RFC 1912 §2.8), and they all serve the same serial.
pub(super) async fn ns(auth: &Authority, d: &DomainInput) -> Vec<Finding> {
    let subject = d.domain.as_str();
    let what = format!("the nameservers of {subject}");
    let zone = match auth.zone_of(subject).await {
        Ok(zone) => zone,
        Err(e) => {
            return vec![unverifiable(
                subject,
                &what,
                &e.to_string(),
                &auth.options().first_hop,
            )];
        }
    };
    let apex = &zone.apex;
    let mut findings = Vec::new();
    if zone.servers.is_empty() && zone.unresolved.is_empty() {
        let why = format!("the zone {apex} lists no nameserver (NS)");
        return vec![unverifiable(
            subject,
            &what,
            &why,
            &auth.options().first_hop,
        )];
    }
    for (name, e) in &zone.unresolved {
        let why = e.as_ref().map(|e| format!(" ({e})")).unwrap_or_default();
        findings.push(
            Finding::new(
                ids::DNS_NS_LAME,
                Severity::Warning,
                subject,
                format!("the nameserver {name} of {apex} has no address{why}"),
            )
            .fix(Some(format!(
                "publish the address (A) of {name}, or remove {name} from the NS records of \
                 {apex} (in the zone and at the registrar)"
            ))),
        );
    }
    let served = auth.serials(&zone).await;
    let mut serials = Vec::new();
    for (server, serial) in zone.servers.iter().zip(served.iter()) {
        match serial {
            Ok(serial) => serials.push((server, *serial)),
            Err(e) if is_lame(serial) => findings.push(
                Finding::new(
                    ids::DNS_NS_LAME,
                    Severity::Warning,
                    subject,
                    format!(
                        "{server} is listed as a nameserver of {apex} but does not serve it \
                         ({e}): a lame delegation; resolvers that ask it get no answer"
                    ),
                )
                .fix(Some(format!(
                    "make {} serve the zone {apex}, or remove it from the NS records (in the \
                     zone and at the registrar)",
                    server.name
                ))),
            ),
            Err(e) => findings.push(unverifiable(
                subject,
                &format!("the zone {apex} at {server}"),
                &e.to_string(),
                &auth.options().first_hop,
            )),
        }
    }
    let newest = serials.iter().map(|(_, s)| *s).max();
    if serials.iter().any(|(_, s)| Some(*s) != newest) {
        let found: Vec<String> = serials
            .iter()
            .map(|(server, s)| format!("{server}: serial {s}"))
            .collect();
        let behind: Vec<String> = serials
            .iter()
            .filter(|(_, s)| Some(*s) != newest)
            .map(|(server, _)| server.name.clone())
            .collect();
        findings.push(
            Finding::new(
                ids::DNS_NS_DISAGREE,
                Severity::Warning,
                subject,
                format!(
                    "the authoritative servers of {apex} serve different versions of the \
                     zone: {} lags behind",
                    behind.join(", ")
                ),
            )
            .found(found.join("\n"))
            .expected(format!(
                "every server at serial {}",
                newest.unwrap_or_default()
            ))
            .fix(Some(format!(
                "wait until {} has transferred the zone from its primary (after NOTIFY, or \
                 at the SOA refresh interval); if it stays behind, repair the zone transfer",
                behind.join(", ")
            ))),
        );
    }
    findings
}

/// The domain has an MX record (RFC 5321 §5.1) and one of its targets is this host.
pub(super) async fn mx(auth: &Authority, hostname: &Domain, d: &DomainInput) -> Vec<Finding> {
    let subject = d.domain.as_str();
    let what = format!("the MX records of {subject}");
    let (answer, mut findings) = match lookup(auth, subject, &what, subject, ask::mx).await {
        Ok(found) => found,
        Err(findings) => return findings,
    };
    let record = format!("{subject}. IN MX 10 {hostname}.");
    let finding = |id, message| {
        Finding::new(id, Severity::Warning, subject, message)
            .expected(format!("10 {hostname}."))
            .fix(Some(record.clone()))
    };
    if answer.is_empty() {
        let msg = format!(
            "{subject} has no MX record ({}); mail to it is delivered to its A record \
             or not at all (RFC 5321 §5.1)",
            absence(&answer)
        );
        findings.push(finding(ids::MX_MISSING, msg));
        return findings;
    }
    if answer
        .records
        .iter()
        .any(|mx| mx.exchange == hostname.as_str())
    {
        return findings;
    }
    let null = answer.records.iter().any(|mx| mx.exchange == ".");
    let msg = format!(
        "no MX record of {subject} points to {hostname}{}; ignore this if another server \
         receives mail for {subject}",
        if null {
            " (a null MX: the domain accepts no mail, RFC 7505)"
        } else {
            ""
        }
    );
    findings.push(finding(ids::MX_NOT_THIS_HOST, msg).found(show(&answer)));
    findings
}
