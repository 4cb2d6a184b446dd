//! The check jobs: one [`Job`] per (check, subject), in report order, and how each runs:
//! its module's `gather` (the DNS lookups), then its `judge` (pure).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{CheckInput, DomainInput, Finding, dkim, dmarc, host, mx, ns, ptr, rbl, spf, sts};
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
    MtaSts(&'a DomainInput),
    TlsRpt(&'a DomainInput),
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
            Job::MtaSts(d),
            Job::TlsRpt(d),
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
            Job::MtaSts(_) => "mta-sts",
            Job::TlsRpt(_) => "tls-rpt",
        }
    }

    pub(super) fn subject(&self, input: &CheckInput) -> String {
        match self {
            Job::A(_) | Job::Aaaa(_) => input.hostname.to_string(),
            Job::Ptr(ip) | Job::Rbl(ip) => ip.to_string(),
            Job::Ns(d)
            | Job::Dkim(d)
            | Job::Spf(d)
            | Job::Dmarc(d)
            | Job::Mx(d)
            | Job::MtaSts(d)
            | Job::TlsRpt(d) => d.domain.to_string(),
        }
    }

    /// The heading: the hostname for this server's checks, else the domain.
    pub(super) fn group(&self, input: &CheckInput) -> String {
        match self {
            Job::A(_) | Job::Aaaa(_) | Job::Ptr(_) | Job::Rbl(_) => input.hostname.to_string(),
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
                ptr::judge(&g, host, *ip, input.ipv4.is_some(), input.provider)
            }
            Job::Rbl(ip) => rbl::judge(&rbl::gather(auth.first_hop(), points, *ip).await, *ip),
            Job::Ns(d) => ns::judge(&ns::gather(auth, &d.domain).await, &d.domain),
            Job::Dkim(d) => {
                let mut findings = dkim::judge(&dkim::gather(auth, d).await, d);
                if let Some(ed) = &d.ed25519 {
                    let g = dkim::gather_ed25519(auth, d, ed).await;
                    findings.extend(dkim::judge_ed25519(&g, d, ed));
                }
                findings
            }
            Job::Spf(d) => spf::judge(&spf::gather(auth, input, d).await, d),
            Job::Dmarc(d) => dmarc::judge(&dmarc::gather(auth, d).await, d),
            Job::Mx(d) => mx::judge(&mx::gather(auth, &d.domain).await, host, &d.domain),
            Job::MtaSts(d) => {
                sts::judge_mta_sts(&sts::gather(auth, &sts::mta_sts_name(d)).await, d)
            }
            Job::TlsRpt(d) => {
                sts::judge_tls_rpt(&sts::gather(auth, &sts::tls_rpt_name(d)).await, d)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::super::fixtures::{FIRST_HOP, answer, could_not_ask, unasked};
    use super::super::{ExpectedRecords, Status, ids, status};
    use super::*;
    use crate::dns::reverse_name;
    use crate::values::{Domain, Selector};

    /// An input for which every kind of job is made: IPv6 too, and sent over.
    fn input() -> CheckInput {
        CheckInput {
            hostname: Domain::parse("mail.example.org").unwrap(),
            ipv4: Some("192.0.2.25".parse().unwrap()),
            ipv6: Some("2001:db8::25".parse().unwrap()),
            ipv6_enabled: true,
            provider: None,
            domains: vec![DomainInput {
                domain: Domain::parse("example.org").unwrap(),
                selector: Selector::parse("mail").unwrap(),
                local_p: None,
                ed25519: None,
                expected: ExpectedRecords::default(),
            }],
        }
    }

    /// What `job`'s judge says when its DNS could not be asked: one result per way of
    /// failing (a timeout, SERVFAIL, REFUSED; the zone not found or its server failing; for
    /// the blocklists also a resolver that answers NXDOMAIN for every name). The match has
    /// no catch-all: a new kind of job does not compile until it has its case here.
    fn judged_unasked(job: &Job<'_>, input: &CheckInput) -> Vec<Vec<Finding>> {
        let host = &input.hostname;
        match job {
            Job::A(ip) => unasked(host.as_str())
                .iter()
                .map(|seen| host::judge(seen, host, IpAddr::V4(*ip)))
                .collect(),
            Job::Aaaa(ip) => unasked(host.as_str())
                .iter()
                .map(|seen| host::judge(seen, host, IpAddr::V6(*ip)))
                .collect(),
            Job::Ptr(ip) => unasked(&reverse_name(*ip))
                .into_iter()
                .map(|ptr| {
                    let g = ptr::Gathered {
                        ptr,
                        forward: vec![],
                    };
                    ptr::judge(&g, host, *ip, input.ipv4.is_some(), None)
                })
                .collect(),
            Job::Rbl(ip) => {
                let lists = || rbl::BLOCKLISTS.iter().filter(|l| ip.is_ipv4() || l.ipv6);
                let mut out: Vec<Vec<Finding>> = could_not_ask()
                    .into_iter()
                    .map(|e| rbl::Gathered {
                        answers: lists()
                            .map(|list| rbl::ListAnswer {
                                list,
                                answer: Err(e.clone()),
                                test: rbl::TestPoint {
                                    listed: Err(e.clone()),
                                    unlisted: Err(e.clone()),
                                },
                            })
                            .collect(),
                    })
                    .map(|g| rbl::judge(&g, *ip))
                    .collect();
                let nxdomain = rbl::Gathered {
                    answers: lists()
                        .map(|list| rbl::ListAnswer {
                            list,
                            answer: Ok(answer(&[])),
                            test: rbl::TestPoint {
                                listed: Ok(answer(&[])),
                                unlisted: Ok(answer(&[])),
                            },
                        })
                        .collect(),
                };
                out.push(rbl::judge(&nxdomain, *ip));
                out
            }
            Job::Ns(d) => could_not_ask()
                .into_iter()
                .map(|e| {
                    let g = ns::Gathered {
                        zone: Err(e),
                        first_hop: FIRST_HOP,
                    };
                    ns::judge(&g, &d.domain)
                })
                .collect(),
            Job::Dkim(d) => unasked(&format!("{}._domainkey.{}", d.selector, d.domain))
                .into_iter()
                .map(|record| {
                    let g = dkim::Gathered {
                        record,
                        doubled: None,
                    };
                    dkim::judge(&g, d)
                })
                .collect(),
            Job::Spf(d) => unasked(d.domain.as_str())
                .into_iter()
                .map(|record| {
                    let g = spf::Gathered {
                        record,
                        evaluation: None,
                    };
                    spf::judge(&g, d)
                })
                .collect(),
            Job::Dmarc(d) => unasked(&format!("_dmarc.{}", d.domain))
                .into_iter()
                .map(|record| {
                    let g = dmarc::Gathered {
                        record,
                        authorizations: vec![],
                    };
                    dmarc::judge(&g, d)
                })
                .collect(),
            Job::Mx(d) => unasked(d.domain.as_str())
                .iter()
                .map(|seen| mx::judge(seen, host, &d.domain))
                .collect(),
            Job::MtaSts(d) => unasked(&sts::mta_sts_name(d))
                .iter()
                .map(|seen| sts::judge_mta_sts(seen, d))
                .collect(),
            Job::TlsRpt(d) => unasked(&sts::tls_rpt_name(d))
                .iter()
                .map(|seen| sts::judge_tls_rpt(seen, d))
                .collect(),
        }
    }

    /// The rule of every DNS check: pass only on positive evidence. When nothing could be
    /// asked, the check is unknown, with only the findings that say why.
    #[test]
    fn could_not_ask_is_unknown_for_every_check() {
        let input = input();
        let all = jobs(&input);
        let kinds: BTreeSet<&str> = all.iter().map(Job::check).collect();
        let every = [
            "a", "aaaa", "dkim", "dmarc", "mta-sts", "mx", "ns", "ptr", "rbl", "spf", "tls-rpt",
        ];
        assert_eq!(
            kinds,
            every.into_iter().collect(),
            "a new check needs its case in judged_unasked"
        );
        for job in &all {
            let subject = format!("{} {}", job.check(), job.subject(&input));
            let results = judged_unasked(job, &input);
            assert!(results.len() >= 3, "{subject}");
            for findings in results {
                assert_eq!(
                    status(&findings),
                    Status::Unknown,
                    "{subject}: {findings:#?}"
                );
                assert!(
                    findings
                        .iter()
                        .all(|f| f.id == ids::DNS_UNVERIFIABLE || f.id == ids::RBL_UNKNOWN),
                    "{subject}: {findings:#?}"
                );
            }
        }
    }
}
