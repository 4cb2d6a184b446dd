//! The `dmarc` check (RFC 7489): exactly one record at `_dmarc.<domain>` that parses and
//! has `p=`; `p=none` noted with the next step; and every `rua=` address in another domain
//! authorised by `<domain>._report._dmarc.<rua-domain>` (§7.1). [`gather`] asks the
//! authoritative servers of each name; [`judge`] is pure, its text analysis in
//! [`super::dmarc_text`].

use super::txt::list;
use mail_auth::common::parse::TxtRecordParser;
use mail_auth::dmarc::{Dmarc, Policy};

use super::dmarc_text::{
    is_monitor_only, is_report_authorization, needs_report_authorization,
    report_authorization_name, rua_domains,
};
use super::observe::{Expect, Seen, best_answer, seen, unverifiable};
use super::txt::{is_dmarc_attempt, txt_fix};
use super::{DomainInput, Finding, Severity, ids};
use crate::dns::auth::ask;
use crate::dns::{Answer, Authority, Nameserver, join_all, sanitize};

/// What the `dmarc` check found in DNS.
#[derive(Debug, Clone)]
pub(super) struct Gathered {
    /// The TXT records at `_dmarc.<domain>` at every authoritative server.
    pub record: Seen<String>,
    /// Only when that is one DMARC record with a policy: for each `rua=` domain that needs
    /// to authorise the reports ([`external_ruas`]), in order, the TXT records at its
    /// report authorization name.
    pub authorizations: Vec<(String, Seen<String>)>,
}

/// Why the TXT records at `_dmarc.<domain>` hold no one DMARC record to judge further.
enum NotOne<'a> {
    /// No record is meant as a DMARC record ([`is_dmarc_attempt`]).
    Missing,
    /// Several are: receivers apply no policy (RFC 7489 §6.6.3).
    Multiple(Vec<&'a String>),
    /// The one there does not parse: the record and the parser's reason.
    Syntax(&'a str, String),
    /// The one there has no `p=` (§6.3 requires it).
    NoPolicy(&'a str),
}

/// The one DMARC record with a policy among the TXT records of `answer`.
fn one_record(answer: &Answer<String>) -> Result<&str, NotOne<'_>> {
    let records: Vec<&String> = answer
        .records
        .iter()
        .filter(|r| is_dmarc_attempt(r))
        .collect();
    let record = match records.as_slice() {
        [] => return Err(NotOne::Missing),
        [record] => record.as_str(),
        _ => return Err(NotOne::Multiple(records)),
    };
    match Dmarc::parse(record.as_bytes()) {
        Err(e) => Err(NotOne::Syntax(record, e.to_string())),
        Ok(parsed) if parsed.p == Policy::Unspecified => Err(NotOne::NoPolicy(record)),
        Ok(_) => Ok(record),
    }
}

/// The `rua=` domains of `record` that must authorise reports for `domain` (RFC 7489 §7.1).
fn external_ruas(domain: &str, record: &str) -> Vec<String> {
    rua_domains(record)
        .into_iter()
        .filter(|r| needs_report_authorization(domain, r))
        .collect()
}

/// The DMARC record of `d` and, when it is one with a policy, the report authorizations.
pub(super) async fn gather(auth: &Authority, d: &DomainInput) -> Gathered {
    let domain = d.domain.as_str();
    let record = seen(auth, &format!("_dmarc.{domain}"), ask::txt).await;
    let ruas = match record.best().map(one_record) {
        Some(Ok(text)) => external_ruas(domain, text),
        _ => Vec::new(),
    };
    let names: Vec<String> = ruas
        .iter()
        .map(|r| report_authorization_name(domain, r))
        .collect();
    let seen_all = join_all(names.iter().map(|n| seen(auth, n, ask::txt)).collect()).await;
    Gathered {
        record,
        authorizations: ruas.into_iter().zip(seen_all).collect(),
    }
}

/// The findings about the DMARC record of `d`, in the order the rules apply:
/// `dmarc.missing` (a warning), `dmarc.multiple` and `dmarc.syntax` (no `p=`: a warning)
/// end the judgement; then `dmarc.monitor-only` (info) for `p=none`; then per external
/// `rua=` domain `dmarc.rua-unauthorized` (a warning), or `dns.unverifiable` when its
/// authorization could not be read. `dns.unverifiable` when no server answered.
pub(super) fn judge(g: &Gathered, d: &DomainInput) -> Vec<Finding> {
    let subject = d.domain.as_str();
    let name = format!("_dmarc.{}", d.domain);
    let what = format!("the DMARC record {name} (TXT)");
    let (answer, mut findings) = match best_answer(subject, &what, &g.record) {
        Ok(found) => found,
        Err(findings) => return findings,
    };
    let expect = Expect::txt(subject, &name, &d.expected.dmarc, g.record.apex());
    let record = match one_record(answer) {
        Ok(record) => record,
        Err(not_one) => {
            findings.push(not_one_finding(not_one, answer, &name, &expect));
            return findings;
        }
    };
    findings.extend(monitor_only(record, subject));
    for rua in external_ruas(subject, record) {
        let seen = g.authorizations.iter().find(|(r, _)| *r == rua);
        let first_hop = &g.record.first_hop;
        findings.extend(authorization(
            subject,
            &rua,
            seen.map(|(_, s)| s),
            first_hop,
        ));
    }
    findings
}

/// `dmarc.missing`, `dmarc.multiple` or `dmarc.syntax`.
fn not_one_finding(
    not_one: NotOne,
    answer: &Answer<String>,
    name: &str,
    expect: &Expect,
) -> Finding {
    match not_one {
        NotOne::Missing => {
            let msg = format!("there is no DMARC record at {name}");
            let f = expect.finding(ids::DMARC_MISSING, Severity::Warning, msg);
            if answer.is_empty() {
                f
            } else {
                f.found(list(&answer.records))
            }
        }
        NotOne::Multiple(many) => {
            let msg = format!(
                "{name} has {} DMARC records; receivers then apply no DMARC policy \
                 (RFC 7489 §6.6.3); keep exactly one",
                many.len()
            );
            expect
                .finding(ids::DMARC_MULTIPLE, Severity::Error, msg)
                .found(list(&many))
        }
        NotOne::Syntax(record, e) => {
            let msg = format!("the DMARC record at {name} does not parse ({e})");
            expect
                .finding(ids::DMARC_SYNTAX, Severity::Error, msg)
                .found(sanitize(record))
        }
        NotOne::NoPolicy(record) => {
            let msg =
                format!("the DMARC record at {name} has no p= tag, which RFC 7489 §6.3 requires");
            expect
                .finding(ids::DMARC_SYNTAX, Severity::Warning, msg)
                .found(sanitize(record))
        }
    }
}

/// `dmarc.monitor-only` (info) when the policy of `record` is `p=none`.
fn monitor_only(record: &str, subject: &str) -> Option<Finding> {
    if !is_monitor_only(record) {
        return None;
    }
    let msg = format!(
        "the DMARC policy of {subject} is p=none: receivers report, but deliver mail that \
         fails DMARC as if there were no policy"
    );
    Some(
        Finding::new(ids::DMARC_MONITOR_ONLY, Severity::Info, subject, msg)
            .found(sanitize(record))
            .fix(Some(
                "once the aggregate reports (rua) show all your own mail passing SPF or DKIM \
                 for a few weeks, raise the policy: dmarc_policy = \"quarantine\" in the \
                 answers, then publish the DMARC record `mailsetup records` prints"
                    .into(),
            )),
    )
}

/// The findings about the report authorization of `rua` for `subject`, as `seen`: none when
/// a record there is one ([`is_report_authorization`]); else `dmarc.rua-unauthorized`
/// with the record to publish in the zone of `rua`; `dns.unverifiable` when it could not be
/// read, or was not asked (`None`).
fn authorization(
    subject: &str,
    rua: &str,
    seen: Option<&Seen<String>>,
    first_hop: &Nameserver,
) -> Vec<Finding> {
    let name = report_authorization_name(subject, rua);
    let what = format!("the DMARC report authorization {name} (TXT)");
    let Some(seen) = seen else {
        return vec![unverifiable(subject, &what, "it was not asked", first_hop)];
    };
    let (answer, mut findings) = match best_answer(subject, &what, seen) {
        Ok(found) => found,
        Err(unverifiable) => return unverifiable,
    };
    if answer.records.iter().any(|r| is_report_authorization(r)) {
        return findings;
    }
    let f = Finding::new(
        ids::DMARC_RUA_UNAUTHORIZED,
        Severity::Warning,
        subject,
        format!(
            "aggregate reports for {subject} go to {rua}, which has not published {name}; \
             receivers send no reports there (RFC 7489 §7.1)"
        ),
    )
    .expected(format!("{name}. IN TXT \"v=DMARC1\""))
    .fix(
        txt_fix(&name, "v=DMARC1", seen.apex())
            .map(|f| format!("publish in the zone of {rua}:\n{f}")),
    );
    findings.push(if answer.is_empty() {
        f
    } else {
        f.found(list(&answer.records))
    });
    findings
}

#[cfg(test)]
#[path = "dmarc_tests.rs"]
mod tests;
