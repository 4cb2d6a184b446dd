//! The `ptr` check: forward-confirmed reverse DNS of one of this server's addresses. The
//! PTR records of the address name the hostname (RFC 1912 §2.1), and that name resolves
//! back to the address, because a receiver follows it forward exactly so (RFC 8601 §3
//! "iprev"): `ptr.missing`, `ptr.mismatch`. For the IPv6 address of a server that also has
//! an IPv4, which only matters when Postfix sends over IPv6, the PTR problems are
//! `ipv6.no-ptr`, whose fix offers both ways out; on an IPv6-only server there is no way out
//! but the PTR, so they are `ptr.missing`/`ptr.mismatch`. [`gather`] asks the reverse zone's
//! servers and, when the PTR names the hostname, follows each PTR name forward; [`judge`] is
//! pure.

use std::net::IpAddr;

use super::observe::{Seen, absence, best_answer, seen, show, unverifiable};
use super::{Finding, Severity, ids};
use crate::dns::auth::ask;
use crate::dns::{Answer, Authority, LookupError, join_all, reverse_name, sanitize};
use crate::provider::{self, Provider};
use crate::values::Domain;

/// PTR names followed forward, at most.
const MAX_PTR_NAMES: usize = 4;

/// What the `ptr` check found in DNS.
#[derive(Debug, Clone)]
pub(super) struct Gathered {
    /// The PTR records of the address (at its reverse name) at every authoritative server.
    pub ptr: Seen<String>,
    /// Only when the PTR names the hostname: each PTR name (the first [`MAX_PTR_NAMES`])
    /// with its A (for an IPv4 address) or AAAA records as the newest zone serves them, or
    /// why they could not be read.
    pub forward: Vec<(String, Result<Answer<IpAddr>, LookupError>)>,
}

/// Whether the PTR records name `hostname`.
fn names_host(answer: &Answer<String>, hostname: &Domain) -> bool {
    answer.records.iter().any(|n| n == hostname.as_str())
}

/// The PTR records of `ip`, and when they name `hostname`, the PTR names followed forward.
pub(super) async fn gather(auth: &Authority, hostname: &Domain, ip: IpAddr) -> Gathered {
    let ptr = seen(auth, &reverse_name(ip), ask::ptr).await;
    let names: Vec<String> = match ptr.best() {
        Some(answer) if names_host(answer, hostname) => {
            answer.records.iter().take(MAX_PTR_NAMES).cloned().collect()
        }
        _ => Vec::new(),
    };
    let ask = if ip.is_ipv4() { ask::a } else { ask::aaaa };
    let answers = join_all(names.iter().map(|n| auth.observe(n, ask)).collect()).await;
    let forward = names
        .into_iter()
        .zip(answers)
        .map(|(name, observed)| (name, observed.and_then(|o| o.best().cloned())))
        .collect();
    Gathered { ptr, forward }
}

/// The findings about the reverse DNS of `ip`: none when a PTR names `hostname` and one
/// PTR name resolves back to `ip`; else one error (see the module comment), or
/// `dns.unverifiable` when no server of the reverse zone answered. The reverse zone belongs
/// to whoever holds the address block, so the fix is a request to the provider, unless the
/// PTR is right and the hostname's A/AAAA is what to change. `has_ipv4`: the server has an
/// IPv4 to send over instead, which an IPv6 `ip`'s finding (`ipv6.no-ptr`) offers.
///
/// `provider`: the one the answers name; a request to the provider then carries its
/// procedure ([`crate::provider::ptr_steps`]); without one, that of the provider guessed from
/// the PTR name the address has now, if obvious ([`crate::provider::guess`]).
pub(super) fn judge(
    g: &Gathered,
    hostname: &Domain,
    ip: IpAddr,
    has_ipv4: bool,
    provider: Option<Provider>,
) -> Vec<Finding> {
    let subject = ip.to_string();
    let what = format!("the PTR record of {ip}");
    let (answer, mut findings) = match best_answer(&subject, &what, &g.ptr) {
        Ok(found) => found,
        Err(findings) => return findings,
    };
    if let Some(why) = forward_unknown(answer, &g.forward, hostname, ip) {
        let what = format!("that {hostname} resolves back to {ip}");
        findings.push(unverifiable(&subject, &what, &why, &g.ptr.first_hop));
        return findings;
    }
    if let Some(problem) = problem(answer, &g.forward, hostname, ip) {
        let request = request(answer, hostname, ip, provider);
        findings.push(finding(answer, problem, hostname, ip, has_ipv4, request));
    }
    findings
}

/// When the PTR names `hostname` but no PTR name confirmed `ip` and some could not be
/// resolved: nothing proves a mismatch (an unresolved name might have confirmed it), so the
/// check is unknown: why, for `dns.unverifiable`.
fn forward_unknown(
    answer: &Answer<String>,
    forward: &[(String, Result<Answer<IpAddr>, LookupError>)],
    hostname: &Domain,
    ip: IpAddr,
) -> Option<String> {
    if !names_host(answer, hostname) || confirmation(forward, ip).is_ok() {
        return None;
    }
    let failed: Vec<String> = forward
        .iter()
        .filter_map(|(name, a)| a.as_ref().err().map(|e| format!("{}: {e}", sanitize(name))))
        .collect();
    (!failed.is_empty()).then(|| failed.join("; "))
}

/// The finding id and message of what is wrong with the PTR `answer`, if anything; when the
/// PTR names the hostname but does not resolve back, also what its names resolve to.
fn problem(
    answer: &Answer<String>,
    forward: &[(String, Result<Answer<IpAddr>, LookupError>)],
    hostname: &Domain,
    ip: IpAddr,
) -> Option<(&'static str, String, Option<String>)> {
    if answer.is_empty() {
        let why = absence(answer);
        return Some((
            ids::PTR_MISSING,
            format!("{ip} has no PTR record ({why}); many receivers reject mail from it"),
            None,
        ));
    }
    if !names_host(answer, hostname) {
        return Some((
            ids::PTR_MISMATCH,
            format!("the PTR record of {ip} does not name {hostname}"),
            None,
        ));
    }
    let seen = confirmation(forward, ip).err()?;
    Some((
        ids::PTR_MISMATCH,
        format!(
            "the PTR of {ip} names {hostname}, but {hostname} does not resolve back to {ip} \
             ({seen}); receivers then treat the PTR as unverified"
        ),
        Some(seen),
    ))
}

/// Ok when one of the PTR names resolves back to `ip`; else what they resolve to, for the
/// message (`name → addresses` or `name → could not be resolved: why`, `; `-separated). A
/// name whose addresses could not be read does not confirm the PTR.
fn confirmation(
    forward: &[(String, Result<Answer<IpAddr>, LookupError>)],
    ip: IpAddr,
) -> Result<(), String> {
    let mut seen = Vec::new();
    for (name, answer) in forward {
        let shown = match answer {
            Ok(answer) if answer.records.contains(&ip) => return Ok(()),
            Ok(answer) => show(answer).replace('\n', ", "),
            Err(e) => format!("could not be resolved: {e}"),
        };
        seen.push(format!("{} → {shown}", sanitize(name)));
    }
    Err(seen.join("; "))
}

/// What to ask the provider of `ip` for: the PTR record, and the procedure of the provider
/// the answers name, else of the one the PTR name it has now obviously belongs to.
fn request(
    answer: &Answer<String>,
    hostname: &Domain,
    ip: IpAddr,
    provider: Option<Provider>,
) -> String {
    let name = reverse_name(ip);
    let record = format!(
        "ask the provider of {ip} (hosting company or ISP) to set its reverse DNS to \
         {hostname}: {name}. IN PTR {hostname}."
    );
    const GUESSED: &str =
        " (guessed from its PTR name; if wrong, set provider = \"…\" in the answers)";
    let guessed =
        || provider::guess_any(answer.records.iter().map(String::as_str)).map(|p| (p, GUESSED));
    match provider.map(|p| (p, "")).or_else(guessed) {
        Some((p, note)) => format!(
            "{record}\n{}{note}",
            provider::ptr_steps(p, &ip.to_string(), hostname.as_str())
        ),
        None => record,
    }
}

/// The finding for `problem` with its fix: the A/AAAA record when the PTR is right (found:
/// what the hostname resolves to, `forward`; expected: `hostname → ip`), the `ipv6.no-ptr`
/// choice for an IPv6 address when there is an IPv4 to fall back on, else the request to the
/// provider.
fn finding(
    answer: &Answer<String>,
    (id, message, forward): (&'static str, String, Option<String>),
    hostname: &Domain,
    ip: IpAddr,
    has_ipv4: bool,
    request: String,
) -> Finding {
    let (id, message, fix) = if names_host(answer, hostname) {
        // the PTR is right; the hostname's A/AAAA is what to change
        let rtype = if ip.is_ipv4() { "A" } else { "AAAA" };
        (id, message, format!("{hostname}. IN {rtype} {ip}"))
    } else if ip.is_ipv6() && has_ipv4 {
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
    let f = Finding::new(id, Severity::Error, &ip.to_string(), message).fix(Some(fix));
    match forward {
        Some(seen) => f.found(seen).expected(format!("{hostname} → {ip}")),
        None if answer.is_empty() => f.expected(hostname.to_string()),
        None => f.expected(hostname.to_string()).found(show(answer)),
    }
}

#[cfg(test)]
#[path = "ptr_tests.rs"]
mod tests;
