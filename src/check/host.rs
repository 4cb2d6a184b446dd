//! Host checks: the hostname's A/AAAA records and the PTR of the server's addresses.
//!
//! Receivers check forward-confirmed reverse DNS: PTR(ip) = hostname and hostname → ip.
//! The PTR half is [`ptr`]; the forward half is exactly the A/AAAA check of the hostname,
//! so a hostname that does not resolve back to the IP is reported once, as
//! `host.a-missing` / `host.a-mismatch` (whose fix is the record to change), not again as
//! `ptr.mismatch`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{Finding, Severity, ids};
use crate::dns::{Answer, Dns, LookupError, reverse_name, sanitize};
use crate::values::Domain;

/// The hostname's A records include `ipv4`.
pub(super) async fn a(dns: &Dns, hostname: &Domain, ipv4: Ipv4Addr) -> Vec<Finding> {
    let answer = dns.a(hostname.as_str()).await;
    forward(
        dns,
        hostname,
        "A",
        IpAddr::V4(ipv4),
        answer.map(|a| map(a, IpAddr::V4)),
    )
}

/// The hostname's AAAA records include `ipv6`.
pub(super) async fn aaaa(dns: &Dns, hostname: &Domain, ipv6: Ipv6Addr) -> Vec<Finding> {
    let answer = dns.aaaa(hostname.as_str()).await;
    forward(
        dns,
        hostname,
        "AAAA",
        IpAddr::V6(ipv6),
        answer.map(|a| map(a, IpAddr::V6)),
    )
}

fn map<T, U>(a: Answer<T>, f: impl Fn(T) -> U) -> Answer<U> {
    Answer {
        records: a.records.into_iter().map(f).collect(),
        absent: a.absent,
    }
}

fn forward(
    dns: &Dns,
    hostname: &Domain,
    rtype: &str,
    ip: IpAddr,
    answer: Result<Answer<IpAddr>, LookupError>,
) -> Vec<Finding> {
    let subject = hostname.as_str();
    let answer = match answer {
        Ok(a) => a,
        Err(e) => {
            let what = format!("the {rtype} record of {hostname}");
            return vec![Finding::unverifiable(subject, &what, &e, dns)];
        }
    };
    if answer.records.contains(&ip) {
        return Vec::new();
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
        let found: Vec<String> = answer.records.iter().map(IpAddr::to_string).collect();
        f = f.found(found.join("\n"));
    }
    vec![f]
}

/// The PTR records of `ip` include the hostname (RFC 1912 §2.1; the reverse zone belongs
/// to whoever holds the address block, so the fix is a request to the provider).
pub(super) async fn ptr(dns: &Dns, hostname: &Domain, ip: IpAddr) -> Vec<Finding> {
    let subject = ip.to_string();
    let answer = match dns.ptr(ip).await {
        Ok(a) => a,
        Err(e) => {
            let what = format!("the PTR record of {ip}");
            return vec![Finding::unverifiable(&subject, &what, &e, dns)];
        }
    };
    if answer.records.iter().any(|name| name == hostname.as_str()) {
        return Vec::new();
    }
    let fix = Some(format!(
        "ask the provider of {ip} (hosting company or ISP) to set its reverse DNS to \
         {hostname}: {}. IN PTR {hostname}.",
        reverse_name(ip)
    ));
    let (id, message) = match answer.absent {
        Some(why) => (
            ids::PTR_MISSING,
            format!("{ip} has no PTR record ({why}); many receivers reject mail from it"),
        ),
        None => (
            ids::PTR_MISMATCH,
            format!("the PTR record of {ip} does not name {hostname}"),
        ),
    };
    let mut f = Finding::new(id, Severity::Error, &subject, message)
        .expected(hostname.to_string())
        .fix(fix);
    if !answer.is_empty() {
        let found: Vec<String> = answer.records.iter().map(|n| sanitize(n)).collect();
        f = f.found(found.join("\n"));
    }
    vec![f]
}
