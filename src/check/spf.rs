//! The `spf` check (RFC 7208): exactly one `v=spf1` record at the domain, grammatical, not
//! permissive, within the lookup limits (counted over every include and redirect), and
//! giving `pass` for each of this server's addresses in a real evaluation. [`gather`] asks
//! the authoritative servers, then walks the include tree ([`walk`]) and runs mail-auth's
//! `check_host()` fed the record the servers serve; [`judge`] is pure.

use std::net::IpAddr;

use super::observe::{Expect, Seen, best_answer, seen, unverifiable};
use super::spf_tree::{MAX_LOOKUPS, MAX_VOID_LOOKUPS, SpfTree, permissive_all, syntax, walk};
use super::txt::is_spf;
use super::{CheckInput, DomainInput, Finding, Severity, ids};
use crate::dns::auth::ask;
use crate::dns::{Answer, Authority, Dns, Nameserver, SpfOutcome, join_all, sanitize};

/// What the `spf` check found in DNS.
#[derive(Debug, Clone)]
pub(super) struct Gathered {
    /// The TXT records at the domain at every authoritative server.
    pub record: Seen<String>,
    /// Only when the servers serve exactly one grammatical SPF record: that record
    /// evaluated through the first hop.
    pub evaluation: Option<Evaluation>,
}

/// One SPF record evaluated as receivers would.
#[derive(Debug, Clone)]
pub(super) struct Evaluation {
    /// The DNS lookups of its whole include / redirect tree (RFC 7208 §4.6.4).
    pub tree: SpfTree,
    /// The `check_host()` result (§2.6) for each address evaluated: this server's IPv4
    /// address, then its IPv6 address when Postfix sends over IPv6; or (`mx_hosts`) the
    /// addresses of the domain's MX hosts.
    pub outcomes: Vec<(IpAddr, SpfOutcome)>,
    /// Whether the addresses are the MX hosts' (the remote check), not this server's.
    pub mx_hosts: bool,
}

/// Why the TXT records at a domain hold no one SPF record to evaluate.
enum NotOne<'a> {
    /// No record starts with `v=spf1` (RFC 7208 §4.5).
    Missing,
    /// Several do: permerror (§4.5).
    Multiple(Vec<&'a String>),
    /// The one there is not grammatical (§4.6, [`syntax()`]): the record and why.
    Syntax(&'a str, String),
}

/// The one grammatical SPF record among the TXT records of `answer`.
fn one_record(answer: &Answer<String>) -> Result<&str, NotOne<'_>> {
    let records: Vec<&String> = answer.records.iter().filter(|r| is_spf(r)).collect();
    match records.as_slice() {
        [] => Err(NotOne::Missing),
        [record] => match syntax(record) {
            Ok(()) => Ok(record.as_str()),
            Err(why) => Err(NotOne::Syntax(record, why)),
        },
        _ => Err(NotOne::Multiple(records)),
    }
}

/// The SPF record of `d` and, when there is one to evaluate, its evaluation for the
/// addresses this server sends from ([`super::jobs::sending`]: one family or both) with
/// HELO the hostname.
pub(super) async fn gather(auth: &Authority, input: &CheckInput, d: &DomainInput) -> Gathered {
    let helo = input.hostname.to_string();
    let senders: Vec<(IpAddr, String)> = super::jobs::sending(input)
        .into_iter()
        .map(|ip| (ip, helo.clone()))
        .collect();
    gather_for(auth, d, &senders, false).await
}

/// [`gather`] for these senders (each address with its HELO name); `mx_hosts`: they are
/// the domain's MX hosts (the remote check), which the findings then name.
pub(super) async fn gather_for(
    auth: &Authority,
    d: &DomainInput,
    senders: &[(IpAddr, String)],
    mx_hosts: bool,
) -> Gathered {
    let domain = d.domain.as_str();
    let record = seen(auth, domain, ask::txt).await;
    let evaluation = match record.best().map(one_record) {
        Some(Ok(text)) => Some(evaluate(auth.first_hop(), senders, domain, text, mx_hosts).await),
        _ => None,
    };
    Gathered { record, evaluation }
}

/// `record`, the SPF record of `domain`, walked and evaluated for each sender's address
/// with its HELO name, concurrently.
async fn evaluate(
    dns: &Dns,
    senders: &[(IpAddr, String)],
    domain: &str,
    record: &str,
    mx_hosts: bool,
) -> Evaluation {
    let evaluations = senders
        .iter()
        .map(|(ip, helo)| dns.spf_result(*ip, domain, helo, Some(record)))
        .collect();
    let (tree, outcomes) = tokio::join!(walk(dns, domain, record), join_all(evaluations));
    Evaluation {
        tree,
        outcomes: senders.iter().map(|(ip, _)| *ip).zip(outcomes).collect(),
        mx_hosts,
    }
}

/// The findings about the SPF record of `d`, in the order the rules apply: `spf.missing`,
/// `spf.multiple` or `spf.syntax` end the judgement (errors); then `spf.permissive-all`
/// (`+all` an error, `?all` a warning); `spf.too-many-lookups` (includes a loop) and
/// `spf.too-many-void-lookups`; `spf.ip-not-permitted` per address not given `pass`
/// (a permerror is left to the limit findings when there are any), and `dns.unverifiable`
/// for a temperror, for a record not evaluated, and when no server answered.
pub(super) fn judge(g: &Gathered, d: &DomainInput) -> Vec<Finding> {
    let subject = d.domain.as_str();
    let what = format!("the SPF record of {subject} (TXT)");
    let (answer, mut findings) = match best_answer(subject, &what, &g.record) {
        Ok(found) => found,
        Err(findings) => return findings,
    };
    let expect = Expect::txt(subject, subject, &d.expected.spf, g.record.apex());
    let record = match one_record(answer) {
        Ok(record) => record,
        Err(not_one) => {
            findings.push(not_one_finding(not_one, subject, &expect));
            return findings;
        }
    };
    findings.extend(permissive(record, subject, &expect));
    let Some(evaluation) = &g.evaluation else {
        let what = format!("whether SPF of {subject} permits this server's addresses");
        let why = "the record was not evaluated";
        findings.push(unverifiable(subject, &what, why, &g.record.first_hop));
        return findings;
    };
    findings.extend(limits(&evaluation.tree, subject));
    let first_hop = &g.record.first_hop;
    findings.extend(outcomes(evaluation, record, &expect, subject, first_hop));
    findings
}

/// `spf.missing`, `spf.multiple` or `spf.syntax`.
fn not_one_finding(not_one: NotOne, subject: &str, expect: &Expect) -> Finding {
    match not_one {
        NotOne::Missing => {
            let msg = format!("{subject} publishes no SPF record (a TXT record starting v=spf1)");
            expect.finding(ids::SPF_MISSING, Severity::Error, msg)
        }
        NotOne::Multiple(many) => {
            let msg = format!(
                "{subject} has {} SPF records; receivers treat that as permerror \
                 (RFC 7208 §4.5); keep exactly one",
                many.len()
            );
            let found: Vec<String> = many.iter().map(|r| sanitize(r)).collect();
            expect
                .finding(ids::SPF_MULTIPLE, Severity::Error, msg)
                .found(found.join("\n"))
        }
        NotOne::Syntax(record, why) => {
            let msg = format!(
                "the SPF record of {subject} is not valid: {}; receivers treat it as \
                 permerror (RFC 7208 §4.6)",
                sanitize(&why)
            );
            expect
                .finding(ids::SPF_SYNTAX, Severity::Error, msg)
                .found(sanitize(record))
        }
    }
}

/// `spf.permissive-all` when `record` ends in `+all` (an error) or `?all` (a warning).
fn permissive(record: &str, subject: &str, expect: &Expect) -> Option<Finding> {
    let all = permissive_all(record)?;
    let (severity, result) = if all == "?all" {
        (Severity::Warning, "neutral")
    } else {
        (Severity::Error, "pass")
    };
    let msg = format!(
        "the SPF record of {subject} ends in {all}: every server on the Internet may send \
         as {subject} ({result}), so SPF protects nothing"
    );
    Some(
        expect
            .finding(ids::SPF_PERMISSIVE_ALL, severity, msg)
            .found(sanitize(record)),
    )
}

/// Whether receivers stop the evaluation with permerror at a limit of RFC 7208 §4.6.4.
fn over_limit(tree: &SpfTree) -> bool {
    !tree.loops.is_empty() || tree.lookups > MAX_LOOKUPS || tree.void_lookups > MAX_VOID_LOOKUPS
}

/// `spf.too-many-lookups` (over [`MAX_LOOKUPS`], or an include loop) and
/// `spf.too-many-void-lookups` (over [`MAX_VOID_LOOKUPS`]), with the tree's trail.
fn limits(tree: &SpfTree, subject: &str) -> Vec<Finding> {
    let trail = tree.trail.join("\n");
    let mut findings = Vec::new();
    let looping = !tree.loops.is_empty();
    if tree.lookups > MAX_LOOKUPS || looping {
        let msg = if looping {
            format!(
                "the SPF record of {subject} includes {} again from inside itself: receivers \
                 go round until {MAX_LOOKUPS} lookups and return permerror (RFC 7208 §4.6.4)",
                tree.loops.join(", ")
            )
        } else {
            format!(
                "the SPF record of {subject} needs {} DNS lookups across its includes; \
                 receivers stop at {MAX_LOOKUPS} with permerror (RFC 7208 §4.6.4)",
                tree.lookups
            )
        };
        findings.push(
            Finding::new(ids::SPF_TOO_MANY_LOOKUPS, Severity::Error, subject, msg)
                .found(trail.clone())
                .expected(format!("at most {MAX_LOOKUPS} lookups"))
                .fix(Some(
                    "replace include:, a and mx terms by the ip4:/ip6: ranges they stand for, \
                     or drop includes of services that no longer send for this domain"
                        .into(),
                )),
        );
    }
    if tree.void_lookups > MAX_VOID_LOOKUPS {
        let msg = format!(
            "the SPF record of {subject} has {} lookups that find nothing; receivers stop at \
             {MAX_VOID_LOOKUPS} with permerror (RFC 7208 §4.6.4)",
            tree.void_lookups
        );
        findings.push(
            Finding::new(
                ids::SPF_TOO_MANY_VOID_LOOKUPS,
                Severity::Error,
                subject,
                msg,
            )
            .found(trail)
            .expected(format!("at most {MAX_VOID_LOOKUPS} void lookups"))
            .fix(Some(
                "remove the terms whose names do not exist or have no records".into(),
            )),
        );
    }
    findings
}

/// The findings about each address's `check_host()` result: none for `pass`, nor for a
/// permerror when receivers stop at a limit (the limit findings say why);
/// `dns.unverifiable` (naming `first_hop`) for a temperror, a DNS failure during
/// evaluation, never a fail; else `spf.ip-not-permitted`.
fn outcomes(
    evaluation: &Evaluation,
    record: &str,
    expect: &Expect,
    subject: &str,
    first_hop: &Nameserver,
) -> Vec<Finding> {
    let over_limit = over_limit(&evaluation.tree);
    let mut findings = Vec::new();
    for (ip, outcome) in &evaluation.outcomes {
        match outcome {
            SpfOutcome::Pass => {}
            SpfOutcome::PermError if over_limit => {}
            SpfOutcome::TempError => findings.push(unverifiable(
                subject,
                &format!("whether SPF of {subject} permits {ip}"),
                "a DNS lookup during SPF evaluation failed (temperror)",
                first_hop,
            )),
            other => {
                let whose = if evaluation.mx_hosts {
                    "the MX hosts' address"
                } else {
                    "this server's address"
                };
                let msg = format!(
                    "SPF of {subject} gives {other} for {whose} {ip}, not pass (RFC 7208 §2.6)"
                );
                let f = expect.finding(ids::SPF_IP_NOT_PERMITTED, Severity::Error, msg);
                findings.push(f.found(sanitize(record)));
            }
        }
    }
    findings
}

#[cfg(test)]
#[path = "spf_tests.rs"]
mod tests;
