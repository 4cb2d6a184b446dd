//! The check jobs: one [`Job`] per (check, subject), in report order, and how each runs:
//! its module's `gather` (the DNS lookups), then its `judge` (pure).

use std::net::{IpAddr, Ipv6Addr};

use super::{CheckInput, DomainInput, Finding, dkim, dmarc, host, mx, ns, ptr, rbl, spf};
use crate::dns::Authority;

/// One check: its name, its subject, and how to run it.
pub(super) enum Job<'a> {
    A,
    Aaaa(Ipv6Addr),
    Ptr(IpAddr),
    Rbl(IpAddr),
    Ns(&'a DomainInput),
    Dkim(&'a DomainInput),
    Spf(&'a DomainInput),
    Dmarc(&'a DomainInput),
    Mx(&'a DomainInput),
}

/// The checks for `input`, in report order: this server first, then each domain. The PTR
/// of the IPv6 address is checked only when Postfix may send over IPv6.
pub(super) fn jobs(input: &CheckInput) -> Vec<Job<'_>> {
    let v4 = IpAddr::V4(input.ipv4);
    let v6 = input.ipv6.map(IpAddr::V6);
    let mut jobs = vec![Job::A];
    jobs.extend(input.ipv6.map(Job::Aaaa));
    jobs.push(Job::Ptr(v4));
    jobs.extend(v6.filter(|_| input.ipv6_enabled).map(Job::Ptr));
    jobs.push(Job::Rbl(v4));
    jobs.extend(v6.map(Job::Rbl));
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

impl Job<'_> {
    pub(super) fn check(&self) -> &'static str {
        match self {
            Job::A => "a",
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
            Job::A | Job::Aaaa(_) => input.hostname.to_string(),
            Job::Ptr(ip) | Job::Rbl(ip) => ip.to_string(),
            Job::Ns(d) | Job::Dkim(d) | Job::Spf(d) | Job::Dmarc(d) | Job::Mx(d) => {
                d.domain.to_string()
            }
        }
    }

    /// The heading: the hostname for this server's checks, else the domain.
    pub(super) fn group(&self, input: &CheckInput) -> String {
        match self {
            Job::A | Job::Aaaa(_) | Job::Ptr(_) | Job::Rbl(_) => input.hostname.to_string(),
            _ => self.subject(input),
        }
    }

    /// Gather what the check needs from DNS, then judge it. `points`: the blocklists' test
    /// entries, shared by every job of one run.
    pub(super) async fn run(
        &self,
        input: &CheckInput,
        auth: &Authority,
        points: &rbl::TestPoints,
    ) -> Vec<Finding> {
        let host = &input.hostname;
        match self {
            Job::A => {
                let ip = IpAddr::V4(input.ipv4);
                host::judge(&host::gather(auth, host, ip).await, host, ip)
            }
            Job::Aaaa(ip) => {
                let ip = IpAddr::V6(*ip);
                host::judge(&host::gather(auth, host, ip).await, host, ip)
            }
            Job::Ptr(ip) => ptr::judge(&ptr::gather(auth, host, *ip).await, host, *ip),
            Job::Rbl(ip) => rbl::judge(&rbl::gather(auth.first_hop(), points, *ip).await, *ip),
            Job::Ns(d) => ns::judge(&ns::gather(auth, &d.domain).await, &d.domain),
            Job::Dkim(d) => dkim::judge(&dkim::gather(auth, d).await, d),
            Job::Spf(d) => spf::judge(&spf::gather(auth, input, d).await, d),
            Job::Dmarc(d) => dmarc::judge(&dmarc::gather(auth, d).await, d),
            Job::Mx(d) => mx::judge(&mx::gather(auth, &d.domain).await, host, &d.domain),
        }
    }
}
