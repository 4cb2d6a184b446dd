//! The `mta-sts` and `tls-rpt` checks: the TXT records at `_mta-sts.<domain>` (RFC 8461 §3.1)
//! and `_smtp._tls.<domain>` (RFC 8460 §3), read from every authoritative server. A record
//! that is there is always judged (a broken one misleads senders whoever published it); its
//! absence is a finding only when the answers manage it (`mta_sts`, `tls_rpt_rua`: the
//! expected value is then non-empty). [`gather`] asks; [`judge_mta_sts`] and
//! [`judge_tls_rpt`] are pure, their text analysis in [`super::sts_text`].

use super::observe::{Expect, Seen, best_answer, seen};
use super::sts_text::{is_sts, is_tlsrpt, sts_id, tlsrpt_ruas};
use super::txt::list;
use super::{DomainInput, Finding, Severity, ids};
use crate::dns::auth::ask;
use crate::dns::{Authority, sanitize};

/// `_mta-sts.<domain>`.
pub(super) fn mta_sts_name(d: &DomainInput) -> String {
    format!("_mta-sts.{}", d.domain)
}

/// `_smtp._tls.<domain>`.
pub(super) fn tls_rpt_name(d: &DomainInput) -> String {
    format!("_smtp._tls.{}", d.domain)
}

/// The TXT records at `name` at every authoritative server.
pub(super) async fn gather(auth: &Authority, name: &str) -> Seen<String> {
    seen(auth, name, ask::txt).await
}

/// The findings about `_mta-sts.<domain>`: `mta-sts.multiple` (several `v=STSv1` records:
/// senders then apply no policy, RFC 8461 §3.1), `mta-sts.syntax` (TXT records there, none
/// beginning with `v=STSv1`, or the one that does has no valid `id`), `mta-sts.id-stale` (a
/// valid id other than the one of the policy `records` prints; only when the answers manage
/// MTA-STS), `mta-sts.missing` (nothing there, only when managed); `dns.unverifiable` when
/// no server answered.
pub(super) fn judge_mta_sts(g: &Seen<String>, d: &DomainInput) -> Vec<Finding> {
    let subject = d.domain.as_str();
    let name = mta_sts_name(d);
    let what = format!("the MTA-STS record {name} (TXT)");
    let (answer, mut findings) = match best_answer(subject, &what, g) {
        Ok(found) => found,
        Err(findings) => return findings,
    };
    let expected = d.expected.mta_sts.as_str();
    let mut expect = Expect::txt(subject, &name, expected, g.apex());
    unmanaged_fix(
        &mut expect,
        &name,
        "v=STSv1; id=<1 to 32 letters and digits>",
        "mta_sts",
    );
    let sts: Vec<&String> = answer.records.iter().filter(|r| is_sts(r)).collect();
    let f = match sts.as_slice() {
        [] if answer.records.is_empty() => (!expected.is_empty()).then(|| {
            let msg = format!(
                "there is no MTA-STS record at {name}: senders do not look for the policy \
                 (RFC 8461 §3.1)"
            );
            expect.finding(ids::MTA_STS_MISSING, Severity::Warning, msg)
        }),
        [] => Some(
            expect
                .finding(
                    ids::MTA_STS_SYNTAX,
                    Severity::Error,
                    format!(
                        "no TXT record at {name} begins with \"v=STSv1\", so senders ignore \
                         them (RFC 8461 §3.1)"
                    ),
                )
                .found(list(&answer.records)),
        ),
        [one] => match sts_id(one) {
            Err(why) => Some(
                expect
                    .finding(
                        ids::MTA_STS_SYNTAX,
                        Severity::Error,
                        format!("the MTA-STS record at {name} is not valid: {why}"),
                    )
                    .found(sanitize(one)),
            ),
            Ok(id) => stale(id, one, &name, &expect, expected),
        },
        many => Some(
            expect
                .finding(
                    ids::MTA_STS_MULTIPLE,
                    Severity::Error,
                    format!(
                        "{name} has {} MTA-STS records; senders then apply no policy \
                         (RFC 8461 §3.1); keep exactly one",
                        many.len()
                    ),
                )
                .found(list(many)),
        ),
    };
    findings.extend(f);
    findings
}

/// `mta-sts.id-stale` when the answers manage MTA-STS (`expected` non-empty) and the served
/// `id` is not the one of the policy `records` prints: the policy changed and the record was
/// not updated (or the reverse), so senders that cached the old policy keep it.
fn stale(id: &str, record: &str, name: &str, expect: &Expect, expected: &str) -> Option<Finding> {
    let want = sts_id(expected).ok()?;
    if id == want {
        return None;
    }
    let msg = format!(
        "the MTA-STS record at {name} has id={id}, but the policy mailsetup prints has \
         id={want}: senders that cached a policy fetch no new one until the id changes \
         (RFC 8461 §3.1); serve the policy `mailsetup records` prints, then publish its record"
    );
    Some(
        expect
            .finding(ids::MTA_STS_ID_STALE, Severity::Warning, msg)
            .found(sanitize(record)),
    )
}

/// The findings about `_smtp._tls.<domain>`: `tls-rpt.multiple` (several `v=TLSRPTv1`
/// records: senders then assume no TLS-RPT, RFC 8460 §3), `tls-rpt.syntax` (TXT records
/// there, none beginning with `v=TLSRPTv1`, or the one that does has no valid `rua=`),
/// `tls-rpt.missing` (nothing there, only when managed); `dns.unverifiable` when no server
/// answered.
pub(super) fn judge_tls_rpt(g: &Seen<String>, d: &DomainInput) -> Vec<Finding> {
    let subject = d.domain.as_str();
    let name = tls_rpt_name(d);
    let what = format!("the TLS-RPT record {name} (TXT)");
    let (answer, mut findings) = match best_answer(subject, &what, g) {
        Ok(found) => found,
        Err(findings) => return findings,
    };
    let expected = d.expected.tls_rpt.as_str();
    let mut expect = Expect::txt(subject, &name, expected, g.apex());
    unmanaged_fix(
        &mut expect,
        &name,
        "v=TLSRPTv1; rua=mailto:<address>",
        "tls_rpt_rua",
    );
    let rpt: Vec<&String> = answer.records.iter().filter(|r| is_tlsrpt(r)).collect();
    let f = match rpt.as_slice() {
        [] if answer.records.is_empty() => (!expected.is_empty()).then(|| {
            let msg = format!(
                "there is no TLS-RPT record at {name}: senders send no reports of TLS \
                 failures (RFC 8460 §3)"
            );
            expect.finding(ids::TLS_RPT_MISSING, Severity::Warning, msg)
        }),
        [] => Some(
            expect
                .finding(
                    ids::TLS_RPT_SYNTAX,
                    Severity::Error,
                    format!(
                        "no TXT record at {name} begins with \"v=TLSRPTv1\", so senders \
                         ignore them (RFC 8460 §3)"
                    ),
                )
                .found(list(&answer.records)),
        ),
        [one] => tlsrpt_ruas(one).err().map(|why| {
            expect
                .finding(
                    ids::TLS_RPT_SYNTAX,
                    Severity::Error,
                    format!("the TLS-RPT record at {name} is not valid: {why}"),
                )
                .found(sanitize(one))
        }),
        many => Some(
            expect
                .finding(
                    ids::TLS_RPT_MULTIPLE,
                    Severity::Error,
                    format!(
                        "{name} has {} TLS-RPT records; senders then send no reports \
                         (RFC 8460 §3); keep exactly one",
                        many.len()
                    ),
                )
                .found(list(many)),
        ),
    };
    findings.extend(f);
    findings
}

/// When the answers do not manage the record (no expected value, so no record to offer), the
/// fix of a broken one: correct it by hand, remove it, or let mailsetup manage it (`key`).
fn unmanaged_fix(expect: &mut Expect, name: &str, form: &str, key: &str) {
    if expect.fix.is_none() {
        expect.fix = Some(format!(
            "correct the TXT record at {name} to the form \"{form}\", or remove it; or set \
             {key} in the answers and publish the record `mailsetup records` prints"
        ));
    }
}

#[cfg(test)]
#[path = "sts_tests.rs"]
mod tests;
