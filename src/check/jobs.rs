//! The check jobs: one [`Job`] per (check, subject), in report order, and how each runs:
//! its module's `gather` (the DNS lookups), then its `judge` (pure).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{CheckInput, DomainInput, Finding, dkim, dmarc, host, mx, ns, ptr, rbl, spf};
use crate::dns::Authority;

/// One check: its name, its subject, and how to run it.
pub(super) enum Job<'a> {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Ptr(IpAddr),
    Rbl(IpAddr),
    Ns(&'a DomainInput),
    Dkim(&'a DomainInput),
    Spf(&'a DomainInput),
    Dmarc(&'a DomainInput),
    Mx(&'a DomainInput),
}

/// The checks for `input`, in report order: this server first (for each address it has),
/// then each domain. The PTR is checked for the addresses mail is sent from ([`sending`]).
pub(super) fn jobs(input: &CheckInput) -> Vec<Job<'_>> {
    let mut jobs: Vec<Job<'_>> = input.ipv4.map(Job::A).into_iter().collect();
    jobs.extend(input.ipv6.map(Job::Aaaa));
    jobs.extend(sending(input).into_iter().map(Job::Ptr));
    jobs.extend(input.ipv4.map(|ip| Job::Rbl(ip.into())));
    jobs.extend(input.ipv6.map(|ip| Job::Rbl(ip.into())));
    for d in &input.domains {
        jobs.extend([
            Job::Ns(d),
            Job::Dkim(d),
            Job::Spf(d),
            Job::Dmarc(d),
            Job::Mx(d),
        ]);
    }
    jobs
}

/// The addresses mail is sent from, the IPv4 first: the IPv4; the IPv6 when Postfix may send
/// over IPv6, or when it is the only address. Their PTR and SPF are checked.
pub(super) fn sending(input: &CheckInput) -> Vec<IpAddr> {
    let v6 = input
        .ipv6
        .filter(|_| input.ipv6_enabled || input.ipv4.is_none());
    let v4 = input.ipv4.map(IpAddr::V4);
    v4.into_iter().chain(v6.map(IpAddr::V6)).collect()
}

impl Job<'_> {
    pub(super) fn check(&self) -> &'static str {
        match self {
            Job::A(_) => "a",
            Job::Aaaa(_) => "aaaa",
            Job::Ptr(_) => "ptr",
            Job::Rbl(_) => "rbl",
            Job::Ns(_) => "ns",
            Job::Dkim(_) => "dkim",
            Job::Spf(_) => "spf",
            Job::Dmarc(_) => "dmarc",
            Job::Mx(_) => "mx",
        }
    }

    pub(super) fn subject(&self, input: &CheckInput) -> String {
        match self {
            Job::A(_) | Job::Aaaa(_) => input.hostname.to_string(),
            Job::Ptr(ip) | Job::Rbl(ip) => ip.to_string(),
            Job::Ns(d) | Job::Dkim(d) | Job::Spf(d) | Job::Dmarc(d) | Job::Mx(d) => {
                d.domain.to_string()
            }
        }
    }

    /// The heading: the hostname for this server's checks, else the domain.
    pub(super) fn group(&self, input: &CheckInput) -> String {
        match self {
            Job::A(_) | Job::Aaaa(_) | Job::Ptr(_) | Job::Rbl(_) => input.hostname.to_string(),
            _ => self.subject(input),
        }
    }

    /// Gather what the check needs from DNS, then judge it.
    pub(super) async fn run(&self, input: &CheckInput, auth: &Authority) -> Vec<Finding> {
        let host = &input.hostname;
        match self {
            Job::A(ip) => {
                let ip = IpAddr::V4(*ip);
                host::judge(&host::gather(auth, host, ip).await, host, ip)
            }
            Job::Aaaa(ip) => {
                let ip = IpAddr::V6(*ip);
                host::judge(&host::gather(auth, host, ip).await, host, ip)
            }
            Job::Ptr(ip) => {
                let g = ptr::gather(auth, host, *ip).await;
                ptr::judge(&g, host, *ip, input.ipv4.is_some())
            }
            Job::Rbl(ip) => rbl::judge(&rbl::gather(auth.first_hop(), *ip).await, *ip),
            Job::Ns(d) => ns::judge(&ns::gather(auth, &d.domain).await, &d.domain),
            Job::Dkim(d) => dkim::judge(&dkim::gather(auth, d).await, d),
            Job::Spf(d) => spf::judge(&spf::gather(auth, input, d).await, d),
            Job::Dmarc(d) => dmarc::judge(&dmarc::gather(auth, d).await, d),
            Job::Mx(d) => mx::judge(&mx::gather(auth, &d.domain).await, host, &d.domain),
        }
    }
}
