//! This server's checks: the hostname's A/AAAA records and forward-confirmed reverse DNS
//! (PTR of each address names the hostname, and that name resolves back to the address).
//!
//! The hostname → IP half is the A/AAAA check (`host.a-*`, whose fix is the record to
//! change); the PTR check also follows each PTR name forward, because a receiver does
//! exactly that (RFC 8601 §3 "iprev"), and reports `ptr.mismatch` when none comes back.
//! For the IPv6 address, which only matters when Postfix sends over IPv6, the PTR problems
//! are `ipv6.no-ptr`, whose fix offers both ways out.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::observe::{absence, lookup, show};
use super::{CheckInput, Finding, Severity, ids};
use crate::dns::auth::ask;
use crate::dns::{Authority, join_all, reverse_name, sanitize};
use crate::values::Domain;

/// The hostname's A records include `ipv4`.
pub(super) async fn a(auth: &Authority, hostname: &Domain, ipv4: Ipv4Addr) -> Vec<Finding> {
    forward(auth, hostname, "A", IpAddr::V4(ipv4)).await
}

/// The hostname's AAAA records include `ipv6`.
pub(super) async fn aaaa(auth: &Authority, hostname: &Domain, ipv6: Ipv6Addr) -> Vec<Finding> {
    forward(auth, hostname, "AAAA", IpAddr::V6(ipv6)).await
}

async fn forward(auth: &Authority, hostname: &Domain, rtype: &str, ip: IpAddr) -> Vec<Finding> {
    let subject = hostname.as_str();
    let what = format!("the {rtype} record of {hostname}");
    let ask = if ip.is_ipv4() { ask::a } else { ask::aaaa };
    let (answer, mut findings) = match lookup(auth, subject, &what, subject, ask).await {
        Ok(found) => found,
        Err(findings) => return findings,
    };
    if answer.records.contains(&ip) {
        return findings;
    }
    let fix = Some(format!("{hostname}. IN {rtype} {ip}"));
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
        .fix(fix);
    if !answer.is_empty() {
        f = f.found(show(&answer));
    }
    findings.push(f);
    findings
}

/// PTR names followed forward, at most.
const MAX_PTR_NAMES: usize = 4;

/// The PTR records of `ip` include the hostname (RFC 1912 §2.1), and that name resolves
/// back to `ip`. The reverse zone belongs to whoever holds the address block, so the fix
/// is a request to the provider.
pub(super) async fn ptr(auth: &Authority, input: &CheckInput, ip: IpAddr) -> Vec<Finding> {
    let hostname = &input.hostname;
    let subject = ip.to_string();
    let what = format!("the PTR record of {ip}");
    let name = reverse_name(ip);
    let (answer, mut findings) = match lookup(auth, &subject, &what, &name, ask::ptr).await {
        Ok(found) => found,
        Err(findings) => return findings,
    };
    let problem = if answer.is_empty() {
        Some((
            ids::PTR_MISSING,
            format!(
                "{ip} has no PTR record ({}); many receivers reject mail from it",
                absence(&answer)
            ),
        ))
    } else if !answer.records.iter().any(|n| n == hostname.as_str()) {
        Some((
            ids::PTR_MISMATCH,
            format!("the PTR record of {ip} does not name {hostname}"),
        ))
    } else {
        let back = confirmed(auth, &answer.records, ip).await;
        (!back.confirmed).then(|| {
            (
                ids::PTR_MISMATCH,
                format!(
                    "the PTR of {ip} names {hostname}, but {hostname} does not resolve back \
                     to {ip} ({}); receivers then treat the PTR as unverified",
                    back.seen
                ),
            )
        })
    };
    let Some((id, message)) = problem else {
        return findings;
    };
    let request = format!(
        "ask the provider of {ip} (hosting company or ISP) to set its reverse DNS to \
         {hostname}: {name}. IN PTR {hostname}."
    );
    let forward_only = answer.records.iter().any(|n| n == hostname.as_str());
    let (id, message, fix) = if forward_only {
        // the PTR is right; the hostname's A/AAAA is what to change
        let rtype = if ip.is_ipv4() { "A" } else { "AAAA" };
        (id, message, format!("{hostname}. IN {rtype} {ip}"))
    } else if ip.is_ipv6() {
        (
            ids::IPV6_NO_PTR,
            format!(
                "{message}. Postfix may send over IPv6 (inet_protocols), and receivers such \
                 as Gmail reject IPv6 mail without a matching PTR"
            ),
            format!(
                "either {request}\nor send over IPv4 only: set inet_protocols = ipv4 \
                 (answers: inet_protocols = \"ipv4\", then mailsetup apply)"
            ),
        )
    } else {
        (id, message, request)
    };
    let mut f = Finding::new(id, Severity::Error, &subject, message)
        .expected(hostname.to_string())
        .fix(Some(fix));
    if !answer.is_empty() {
        f = f.found(show(&answer));
    }
    findings.push(f);
    findings
}

/// Whether one of `names` resolves back to `ip`, and what they resolve to.
struct Confirmation {
    confirmed: bool,
    seen: String,
}

async fn confirmed(auth: &Authority, names: &[String], ip: IpAddr) -> Confirmation {
    let ask = if ip.is_ipv4() { ask::a } else { ask::aaaa };
    let names: Vec<&String> = names.iter().take(MAX_PTR_NAMES).collect();
    let answers = join_all(names.iter().map(|n| auth.observe(n, ask)).collect()).await;
    let mut seen = Vec::new();
    for (name, observed) in names.iter().zip(answers) {
        let best = observed.and_then(|o| o.best().cloned());
        let shown = match best {
            Ok(answer) if answer.records.contains(&ip) => {
                return Confirmation {
                    confirmed: true,
                    seen: String::new(),
                };
            }
            Ok(answer) => show(&answer).replace('\n', ", "),
            Err(e) => format!("could not be resolved: {e}"),
        };
        seen.push(format!("{} → {shown}", sanitize(name)));
    }
    Confirmation {
        confirmed: false,
        seen: seen.join("; "),
    }
}
