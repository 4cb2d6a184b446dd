//! The `mx` check: the mail domain has an MX record (RFC 5321 §5.1) and one of its targets
//! is this host. [`gather`] asks the authoritative servers; [`judge`] is pure.

use super::observe::{Seen, absence, best_answer, seen, show};
use super::{Finding, Severity, ids};
use crate::dns::auth::ask;
use crate::dns::{Authority, Mx};
use crate::values::Domain;

/// The MX records of `domain` at every authoritative server.
pub(super) async fn gather(auth: &Authority, domain: &Domain) -> Seen<Mx> {
    seen(auth, domain.as_str(), ask::mx).await
}

/// The findings about the MX records of `domain`, as `seen`: none when one names
/// `hostname`; else the warning `mx.missing` (no MX) or `mx.not-this-host` (a null MX,
/// RFC 7505, or other hosts only), whose fix is `10 <hostname>.`; `dns.unverifiable` when
/// no server answered.
pub(super) fn judge(seen: &Seen<Mx>, hostname: &Domain, domain: &Domain) -> Vec<Finding> {
    let subject = domain.as_str();
    let what = format!("the MX records of {subject}");
    let (answer, mut findings) = match best_answer(subject, &what, seen) {
        Ok(found) => found,
        Err(findings) => return findings,
    };
    let record = format!("{subject}. IN MX 10 {hostname}.");
    let finding = |id, message| {
        Finding::new(id, Severity::Warning, subject, message)
            .expected(format!("10 {hostname}."))
            .fix(Some(record.clone()))
    };
    if answer.is_empty() {
        let msg = format!(
            "{subject} has no MX record ({}); mail to it is delivered to its A record \
             or not at all (RFC 5321 §5.1)",
            absence(answer)
        );
        findings.push(finding(ids::MX_MISSING, msg));
        return findings;
    }
    if answer
        .records
        .iter()
        .any(|mx| mx.exchange == hostname.as_str())
    {
        return findings;
    }
    let null = answer.records.iter().any(|mx| mx.exchange == ".");
    let msg = format!(
        "no MX record of {subject} points to {hostname}{}; ignore this if another server \
         receives mail for {subject}",
        if null {
            " (a null MX: the domain accepts no mail, RFC 7505)"
        } else {
            ""
        }
    );
    findings.push(finding(ids::MX_NOT_THIS_HOST, msg).found(show(answer)));
    findings
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{assert_unverifiable, ids_of, served, unasked};
    use super::*;

    fn d(s: &str) -> Domain {
        Domain::parse(s).unwrap()
    }

    fn mx(preference: u16, exchange: &str) -> Mx {
        Mx {
            preference,
            exchange: exchange.into(),
        }
    }

    fn judge_mx(records: &[Mx]) -> Vec<Finding> {
        let seen = served("example.org", records);
        judge(&seen, &d("mail.example.org"), &d("example.org"))
    }

    #[test]
    fn an_mx_naming_this_host_passes() {
        assert_eq!(
            judge_mx(&[mx(20, "backup.example.net"), mx(10, "mail.example.org")]),
            []
        );
    }

    #[test]
    fn no_mx_is_missing_with_the_record_to_publish() {
        let findings = judge_mx(&[]);
        assert_eq!(ids_of(&findings), [ids::MX_MISSING]);
        let f = &findings[0];
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(f.found, None);
        assert_eq!(f.expected.as_deref(), Some("10 mail.example.org."));
        assert_eq!(
            f.fix.as_deref(),
            Some("example.org. IN MX 10 mail.example.org.")
        );
    }

    #[test]
    fn other_hosts_or_a_null_mx_are_not_this_host() {
        let findings = judge_mx(&[mx(10, "mx.provider.example")]);
        assert_eq!(ids_of(&findings), [ids::MX_NOT_THIS_HOST]);
        assert_eq!(
            findings[0].found.as_deref(),
            Some("10 mx.provider.example.")
        );
        assert!(!findings[0].message.contains("null MX"));
        let null = judge_mx(&[mx(0, ".")]);
        assert_eq!(ids_of(&null), [ids::MX_NOT_THIS_HOST]);
        assert!(null[0].message.contains("a null MX"), "{}", null[0].message);
    }

    #[test]
    fn could_not_ask_is_unverifiable_never_a_pass() {
        for seen in unasked::<Mx>("example.org") {
            assert_unverifiable(&judge(&seen, &d("mail.example.org"), &d("example.org")));
        }
    }
}
