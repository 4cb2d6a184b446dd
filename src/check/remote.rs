//! `mailsetup check DOMAIN…`: the remote check of any domain, without answers or a local
//! key, as people use checkdmarc. Per domain, every record read from every authoritative
//! server as in the server check: `ns`; `mx` (there is one) and each MX host's addresses
//! (an `a` line per host: it has an A or AAAA record); `spf` evaluated for the MX hosts'
//! addresses; `dmarc`; `dkim` for each asked selector, or the [`COMMON_SELECTORS`] found;
//! `rbl` for each MX host address. The same ids as the server check; no expected record is
//! known, so no finding offers a record to publish in its place.

use std::net::IpAddr;

use super::observe::{Seen, absence, best_answer, seen};
use super::{
    Checked, DomainInput, ExpectedRecords, Finding, JobResult, Report, Severity, Status, dkim,
    dmarc, ids, ns, rbl, spf, status,
};
use crate::dns::auth::ask;
use crate::dns::{AuthOptions, Authority, Mx, join_all, sanitize};
use crate::values::{Domain, Selector};

/// The selectors asked when none is given: common defaults of mail providers and signers.
/// Selectors cannot be listed from DNS, so finding none proves nothing.
pub const COMMON_SELECTORS: [&str; 9] = [
    "default",
    "selector1",
    "selector2",
    "google",
    "k1",
    "mail",
    "dkim",
    "s1",
    "s2",
];

/// What to check remotely: these domains, and these DKIM selectors (none: the
/// [`COMMON_SELECTORS`], reporting those found).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteInput {
    pub domains: Vec<Domain>,
    pub selectors: Vec<Selector>,
}

/// Run the remote check of every domain, concurrently. Never fails: lookups that fail
/// become `dns.unverifiable` findings.
pub async fn run(input: &RemoteInput, options: &AuthOptions) -> Report {
    let auth = match Authority::new(*options) {
        Ok(auth) => auth,
        Err(e) => {
            let findings = input
                .domains
                .iter()
                .map(|d| {
                    super::observe::unverifiable(
                        d.as_str(),
                        &format!("the records of {d}"),
                        &e.to_string(),
                        &options.first_hop,
                    )
                })
                .collect();
            let checked = input
                .domains
                .iter()
                .map(|d| line("ns", d.as_str(), d, Status::Unknown))
                .collect();
            return Report { findings, checked };
        }
    };
    let points = rbl::TestPoints::default();
    let per_domain = join_all(
        input
            .domains
            .iter()
            .map(|d| domain(&auth, &points, d, &input.selectors))
            .collect(),
    )
    .await;
    let results: Vec<JobResult> = per_domain.into_iter().flatten().collect();
    Report::from_results(&results)
}

fn line(check: &'static str, subject: &str, domain: &Domain, status: Status) -> Checked {
    Checked {
        check,
        subject: subject.to_string(),
        status,
        group: domain.to_string(),
    }
}

fn result(
    check: &'static str,
    subject: &str,
    domain: &Domain,
    findings: Vec<Finding>,
) -> JobResult {
    JobResult {
        checked: line(check, subject, domain, status(&findings)),
        findings,
    }
}

/// The input of the shared judges for `domain`: no local key, no expected records.
fn domain_input(domain: &Domain, selector: Selector) -> DomainInput {
    DomainInput {
        domain: domain.clone(),
        selector,
        local_p: None,
        ed25519: None,
        expected: ExpectedRecords::default(),
    }
}

/// The MX hosts named by `mx` (the null MX `.` left out), each once, in order.
fn mx_hosts(mx: &Seen<Mx>) -> Vec<String> {
    let mut hosts: Vec<String> = Vec::new();
    for m in mx.best().map(|a| a.records.as_slice()).unwrap_or_default() {
        let host = m.exchange.trim_end_matches('.').to_string();
        if !host.is_empty() && !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    hosts
}

/// Every check of one domain, in report order.
async fn domain(
    auth: &Authority,
    points: &rbl::TestPoints,
    d: &Domain,
    selectors: &[Selector],
) -> Vec<JobResult> {
    // the SPF, DMARC and NS judges do not read the selector
    let di = domain_input(d, selectors.first().cloned().unwrap_or_default());
    let (ns_g, mx_seen, dmarc_g) = tokio::join!(
        ns::gather(auth, d),
        seen(auth, d.as_str(), ask::mx),
        dmarc::gather(auth, &di)
    );
    let hosts = mx_hosts(&mx_seen);
    let addresses = join_all(
        hosts
            .iter()
            .map(|h| async move { tokio::join!(seen(auth, h, ask::a), seen(auth, h, ask::aaaa)) })
            .collect(),
    )
    .await;
    let mut senders: Vec<(IpAddr, String)> = Vec::new();
    for (host, (a, aaaa)) in hosts.iter().zip(&addresses) {
        for answer in [a.best(), aaaa.best()].into_iter().flatten() {
            for ip in &answer.records {
                if !senders.iter().any(|(s, _)| s == ip) {
                    senders.push((*ip, host.clone()));
                }
            }
        }
    }
    let ips: Vec<IpAddr> = senders.iter().map(|(ip, _)| *ip).collect();
    let (spf_g, dkim_gs, rbl_gs) = tokio::join!(
        spf::gather_for(auth, &di, &senders, true),
        dkim_gather(auth, d, selectors),
        join_all(
            ips.iter()
                .map(|ip| rbl::gather(auth.first_hop(), points, *ip))
                .collect()
        )
    );

    let mut out = vec![
        result("ns", d.as_str(), d, ns::judge(&ns_g, d)),
        result("mx", d.as_str(), d, judge_mx(&mx_seen, d)),
    ];
    for (host, (a, aaaa)) in hosts.iter().zip(&addresses) {
        out.push(result("a", host, d, judge_host(a, aaaa, host, d)));
    }
    out.push(result("spf", d.as_str(), d, spf::judge(&spf_g, &di)));
    out.push(result("dmarc", d.as_str(), d, dmarc::judge(&dmarc_g, &di)));
    out.extend(judge_dkim(&dkim_gs, d, selectors.is_empty()));
    for (ip, g) in ips.iter().zip(&rbl_gs) {
        out.push(result("rbl", &ip.to_string(), d, rbl::judge(g, *ip)));
    }
    out
}

/// The DKIM records at the asked selectors, or at every common one.
async fn dkim_gather(
    auth: &Authority,
    d: &Domain,
    selectors: &[Selector],
) -> Vec<(DomainInput, dkim::Gathered)> {
    let asked: Vec<Selector> = if selectors.is_empty() {
        COMMON_SELECTORS
            .iter()
            .filter_map(|s| Selector::parse(s).ok())
            .collect()
    } else {
        selectors.to_vec()
    };
    let inputs: Vec<DomainInput> = asked.into_iter().map(|s| domain_input(d, s)).collect();
    let gathered = join_all(inputs.iter().map(|di| dkim::gather(auth, di)).collect()).await;
    inputs.into_iter().zip(gathered).collect()
}

/// One `dkim` line per selector, subject `<selector>._domainkey.<domain>`. For the common
/// selectors (`common`), only those with a record, or whose lookup failed; when none, one
/// line for the domain with the info `dkim.no-selector`.
fn judge_dkim(
    gathered: &[(DomainInput, dkim::Gathered)],
    d: &Domain,
    common: bool,
) -> Vec<JobResult> {
    let mut out = Vec::new();
    for (di, g) in gathered {
        let absent = g.record.best().is_some_and(|a| a.is_empty());
        if common && absent {
            continue;
        }
        let name = format!("{}._domainkey.{}", di.selector, d);
        out.push(result("dkim", &name, d, dkim::judge(g, di)));
    }
    if common && out.is_empty() {
        let msg = format!(
            "no DKIM key record at the common selectors of {d} ({}); DNS cannot list \
             selectors, so name the one the domain signs with (--selector S, the s= of a \
             DKIM-Signature header)",
            COMMON_SELECTORS.join(", ")
        );
        let f = Finding::new(ids::DKIM_NO_SELECTOR, Severity::Info, d.as_str(), msg);
        out.push(result("dkim", d.as_str(), d, vec![f]));
    }
    out
}

/// The findings about the MX records of `domain` when any host may be its MX: `mx.missing`
/// (a warning) when there is none; a null MX (RFC 7505) is the domain's choice, no finding;
/// `dns.unverifiable` when no server answered.
fn judge_mx(seen: &Seen<Mx>, domain: &Domain) -> Vec<Finding> {
    let subject = domain.as_str();
    let what = format!("the MX records of {subject}");
    let (answer, mut findings) = match best_answer(subject, &what, seen) {
        Ok(found) => found,
        Err(findings) => return findings,
    };
    if answer.is_empty() {
        let msg = format!(
            "{subject} has no MX record ({}); mail to it is delivered to its A record \
             or not at all (RFC 5321 §5.1)",
            absence(answer)
        );
        findings.push(
            Finding::new(ids::MX_MISSING, Severity::Warning, subject, msg)
                .expected("an MX record naming the host that receives mail"),
        );
    }
    findings
}

/// The findings about MX host `host` of `domain`: `host.a-missing` (an error) when it has
/// neither an A nor an AAAA record; `dns.unverifiable` when either could not be read.
fn judge_host(a: &Seen<IpAddr>, aaaa: &Seen<IpAddr>, host: &str, domain: &Domain) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut empty = Vec::new();
    for (rtype, seen) in [("A", a), ("AAAA", aaaa)] {
        match best_answer(host, &format!("the {rtype} records of {host}"), seen) {
            Ok((answer, more)) => {
                findings.extend(more);
                empty.push(answer.is_empty().then(|| absence(answer)));
            }
            Err(more) => findings.extend(more),
        }
    }
    if let [Some(why), Some(_)] = empty.as_slice() {
        let msg = format!(
            "{}, an MX host of {domain}, has no A or AAAA record ({why}): mail to {domain} \
             cannot be delivered to it",
            sanitize(host)
        );
        findings.push(
            Finding::new(ids::HOST_A_MISSING, Severity::Error, host, msg)
                .expected("an A or AAAA record"),
        );
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{assert_unverifiable, ids_of, served, unasked};
    use super::*;

    fn d() -> Domain {
        Domain::parse("example.org").unwrap()
    }

    fn mx(exchange: &str) -> Mx {
        Mx {
            preference: 10,
            exchange: exchange.into(),
        }
    }

    #[test]
    fn mx_missing_is_a_warning_any_mx_passes() {
        let none = judge_mx(&served::<Mx>("example.org", &[]), &d());
        assert_eq!(ids_of(&none), [ids::MX_MISSING]);
        assert_eq!(none[0].fix, None);
        assert_eq!(
            judge_mx(&served("example.org", &[mx("mx.other.example")]), &d()),
            []
        );
        assert_eq!(judge_mx(&served("example.org", &[mx(".")]), &d()), []);
        for seen in unasked::<Mx>("example.org") {
            assert_unverifiable(&judge_mx(&seen, &d()));
        }
    }

    #[test]
    fn mx_hosts_skip_the_null_mx_and_repeats() {
        let seen = served("example.org", &[mx("a.example"), mx("."), mx("a.example")]);
        assert_eq!(mx_hosts(&seen), ["a.example"]);
    }

    #[test]
    fn an_mx_host_needs_one_address() {
        let host = "mx.example.org";
        let v4: IpAddr = "192.0.2.25".parse().unwrap();
        let none = served::<IpAddr>(host, &[]);
        let some = served(host, &[v4]);
        assert_eq!(judge_host(&some, &none, host, &d()), []);
        assert_eq!(judge_host(&none, &some, host, &d()), []);
        let f = judge_host(&none, &none, host, &d());
        assert_eq!(ids_of(&f), [ids::HOST_A_MISSING]);
        assert_eq!(f[0].subject, host);
        for seen in unasked::<IpAddr>(host) {
            assert_unverifiable(&judge_host(&seen, &none, host, &d()));
        }
    }

    #[test]
    fn no_common_selector_found_is_info() {
        let g = dkim::Gathered {
            record: served::<String>("default._domainkey.example.org", &[]),
            doubled: None,
        };
        let di = domain_input(&d(), Selector::parse("default").unwrap());
        let out = judge_dkim(&[(di.clone(), g.clone())], &d(), true);
        assert_eq!(out.len(), 1);
        assert_eq!(ids_of(&out[0].findings), [ids::DKIM_NO_SELECTOR]);
        assert_eq!(out[0].checked.status, Status::Pass);
        // an asked selector that is absent is dkim.missing
        let asked = judge_dkim(&[(di, g)], &d(), false);
        assert_eq!(ids_of(&asked[0].findings), [ids::DKIM_MISSING]);
        assert_eq!(asked[0].checked.subject, "default._domainkey.example.org");
    }
}
