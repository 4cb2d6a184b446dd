//! The DMARC check (RFC 7489): exactly one record at `_dmarc.<domain>` that parses and has
//! `p=`; `p=none` noted with the next step; and every `rua=` address in another domain
//! authorised by `<domain>._report._dmarc.<rua-domain>` (§7.1).

use mail_auth::common::parse::TxtRecordParser;
use mail_auth::dmarc::{Dmarc, Policy};

use super::dmarc_text::{
    is_monitor_only, is_report_authorization, needs_report_authorization,
    report_authorization_name, rua_domains,
};
use super::observe::{lookup, txt_record};
use super::txt::{is_dmarc_attempt, txt_fix};
use super::{DomainInput, Finding, Severity, ids};
use crate::dns::auth::ask;
use crate::dns::{Authority, join_all, sanitize};

pub(super) async fn check(auth: &Authority, d: &DomainInput) -> Vec<Finding> {
    let subject = d.domain.as_str();
    let name = format!("_dmarc.{}", d.domain);
    let what = format!("the DMARC record {name} (TXT)");
    let (answer, mut findings, expect) =
        match txt_record(auth, subject, &what, &name, &d.expected.dmarc).await {
            Ok(found) => found,
            Err(findings) => return findings,
        };
    let finding = |id, severity, message: String| expect.finding(id, severity, message);
    let records: Vec<&String> = answer
        .records
        .iter()
        .filter(|r| is_dmarc_attempt(r))
        .collect();
    let record = match records.as_slice() {
        [] => {
            let msg = format!("there is no DMARC record at {name}");
            let f = finding(ids::DMARC_MISSING, Severity::Warning, msg);
            findings.push(if answer.is_empty() {
                f
            } else {
                f.found(list(&answer.records))
            });
            return findings;
        }
        [record] => record.as_str(),
        many => {
            let msg = format!(
                "{name} has {} DMARC records; receivers then apply no DMARC policy \
                 (RFC 7489 §6.6.3); keep exactly one",
                many.len()
            );
            findings.push(finding(ids::DMARC_MULTIPLE, Severity::Error, msg).found(list(many)));
            return findings;
        }
    };
    match Dmarc::parse(record.as_bytes()) {
        Err(e) => {
            let msg = format!("the DMARC record at {name} does not parse ({e})");
            findings.push(finding(ids::DMARC_SYNTAX, Severity::Error, msg).found(sanitize(record)));
            return findings;
        }
        Ok(parsed) if parsed.p == Policy::Unspecified => {
            let msg =
                format!("the DMARC record at {name} has no p= tag, which RFC 7489 §6.3 requires");
            findings
                .push(finding(ids::DMARC_SYNTAX, Severity::Warning, msg).found(sanitize(record)));
            return findings;
        }
        Ok(_) => {}
    }
    if is_monitor_only(record) {
        findings.push(
            Finding::new(
                ids::DMARC_MONITOR_ONLY,
                Severity::Info,
                subject,
                format!(
                    "the DMARC policy of {subject} is p=none: receivers report, but deliver \
                     mail that fails DMARC as if there were no policy"
                ),
            )
            .found(sanitize(record))
            .fix(Some(
                "once the aggregate reports (rua) show all your own mail passing SPF or DKIM \
                 for a few weeks, raise the policy: dmarc_policy = \"quarantine\" in the \
                 answers, mailsetup apply, and publish the DMARC record it prints"
                    .into(),
            )),
        );
    }
    findings.extend(rua_authorizations(auth, subject, record).await);
    findings
}

/// `dmarc.rua-unauthorized` for each external `rua=` domain without the RFC 7489 §7.1
/// record, or `dns.unverifiable` when it could not be read.
async fn rua_authorizations(auth: &Authority, subject: &str, record: &str) -> Vec<Finding> {
    let external: Vec<String> = rua_domains(record)
        .into_iter()
        .filter(|r| needs_report_authorization(subject, r))
        .collect();
    let names: Vec<String> = external
        .iter()
        .map(|r| report_authorization_name(subject, r))
        .collect();
    let whats: Vec<String> = names
        .iter()
        .map(|n| format!("the DMARC report authorization {n} (TXT)"))
        .collect();
    let seen = join_all(
        names
            .iter()
            .zip(&whats)
            .map(|(n, w)| lookup(auth, subject, w, n, ask::txt))
            .collect(),
    )
    .await;
    let mut findings = Vec::new();
    for ((rua, name), seen) in external.iter().zip(&names).zip(seen) {
        let (answer, extra) = match seen {
            Ok(found) => found,
            Err(unverifiable) => {
                findings.extend(unverifiable);
                continue;
            }
        };
        findings.extend(extra);
        if answer.records.iter().any(|r| is_report_authorization(r)) {
            continue;
        }
        let apex = auth.zone_of(name).await.ok().map(|z| z.apex.clone());
        let mut f = Finding::new(
            ids::DMARC_RUA_UNAUTHORIZED,
            Severity::Warning,
            subject,
            format!(
                "aggregate reports for {subject} go to {rua}, which has not published \
                 {name}; receivers send no reports there (RFC 7489 §7.1)"
            ),
        )
        .expected(format!("{name}. IN TXT \"v=DMARC1\""))
        .fix(
            txt_fix(name, "v=DMARC1", apex.as_deref())
                .map(|f| format!("publish in the zone of {rua}:\n{f}")),
        );
        if !answer.is_empty() {
            f = f.found(list(&answer.records));
        }
        findings.push(f);
    }
    findings
}

fn list<S: AsRef<str>>(records: &[S]) -> String {
    records
        .iter()
        .map(|r| sanitize(r.as_ref()))
        .collect::<Vec<_>>()
        .join("\n")
}
