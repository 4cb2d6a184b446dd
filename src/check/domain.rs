//! Per-domain checks: DKIM key record, SPF record and result, DMARC record, MX.

use std::net::IpAddr;

use mail_auth::common::parse::TxtRecordParser;
use mail_auth::dmarc::{Dmarc, Policy};

use super::txt::{bind_txt, dkim_p, is_dmarc_attempt, is_spf, strip_ws};
use super::{CheckInput, DomainInput, Finding, Severity, ids, join_all};
use crate::dns::{Answer, Dns, SpfOutcome, sanitize};
use crate::values::Domain;

/// `<selector>._domainkey.<domain>` must hold exactly one valid key record whose `p=`
/// equals the local key's (RFC 6376 §3.6.1, §3.6.2.2).
pub(super) async fn dkim(dns: &Dns, d: &DomainInput) -> Vec<Finding> {
    let subject = d.domain.as_str();
    let name = format!("{}._domainkey.{}", d.selector, d.domain);
    let answer = match dns.txt(&name).await {
        Ok(a) => a,
        Err(e) => {
            let what = format!("the DKIM record {name} (TXT)");
            return vec![Finding::unverifiable(subject, &what, &e, dns)];
        }
    };
    let fix = bind_txt(&name, &d.expected.dkim);
    let expected = d.expected.dkim.as_str();
    let finding = |id, message| {
        Finding::new(id, Severity::Error, subject, message)
            .expected(expected)
            .fix(fix.clone())
    };
    if answer.is_empty() {
        let why = absence(&answer);
        let msg = format!("there is no DKIM key record at {name} ({why})");
        return vec![finding(ids::DKIM_MISSING, msg)];
    }
    if answer.records.len() > 1 {
        let msg = format!(
            "{} TXT records at {name}; publish exactly one DKIM key record there",
            answer.records.len()
        );
        return vec![finding(ids::DKIM_SYNTAX, msg).found(found_list(&answer.records))];
    }
    let record = &answer.records[0];
    let published = match dkim_p(record) {
        Ok(p) => p,
        Err(why) => {
            let msg = format!(
                "the DKIM record at {name} is not a valid key record: {} (RFC 6376 §3.6.1)",
                sanitize(&why)
            );
            return vec![finding(ids::DKIM_SYNTAX, msg).found(sanitize(record))];
        }
    };
    let Some(local) = d.local_p.as_deref().map(strip_ws) else {
        return Vec::new();
    };
    if published == local {
        return Vec::new();
    }
    let msg = if published.is_empty() {
        format!("the DKIM key at {name} is revoked (empty p=)")
    } else {
        format!("the DKIM key published at {name} is not the key this server signs with")
    };
    vec![finding(ids::DKIM_KEY_MISMATCH, msg).found(sanitize(record))]
}

/// Exactly one `v=spf1` record at the domain (RFC 7208 §4.5), and mail-auth's `check_host()`
/// gives `pass` for the server's IPv4 and, if given, IPv6 (RFC 7208 §2.6).
pub(super) async fn spf(dns: &Dns, input: &CheckInput, d: &DomainInput) -> Vec<Finding> {
    let subject = d.domain.as_str();
    let mut ips = vec![IpAddr::V4(input.ipv4)];
    ips.extend(input.ipv6.map(IpAddr::V6));
    let helo = input.hostname.as_str();
    let evaluations = ips
        .iter()
        .map(|ip| dns.spf_result(*ip, subject, helo))
        .collect();
    let (answer, outcomes) = tokio::join!(dns.txt(subject), join_all(evaluations));
    let answer = match answer {
        Ok(a) => a,
        Err(e) => {
            let what = format!("the SPF record of {subject} (TXT)");
            return vec![Finding::unverifiable(subject, &what, &e, dns)];
        }
    };
    let fix = bind_txt(subject, &d.expected.spf);
    let expected = d.expected.spf.as_str();
    let finding = |id, message| {
        Finding::new(id, Severity::Error, subject, message)
            .expected(expected)
            .fix(fix.clone())
    };
    let records: Vec<&String> = answer.records.iter().filter(|r| is_spf(r)).collect();
    match records.as_slice() {
        [] => {
            let msg = format!("{subject} publishes no SPF record (a TXT record starting v=spf1)");
            vec![finding(ids::SPF_MISSING, msg)]
        }
        [record] => ips
            .iter()
            .zip(outcomes)
            .filter_map(|(ip, outcome)| match outcome {
                SpfOutcome::Pass => None,
                SpfOutcome::TempError => Some(Finding::unverifiable(
                    subject,
                    &format!("whether SPF of {subject} permits {ip}"),
                    &"a DNS lookup during SPF evaluation failed (temperror)",
                    dns,
                )),
                other => {
                    let msg = format!(
                        "SPF of {subject} gives {other} for this server's address {ip}, \
                         not pass (RFC 7208 §2.6)"
                    );
                    let f = finding(ids::SPF_IP_NOT_PERMITTED, msg);
                    Some(f.found(sanitize(record)))
                }
            })
            .collect(),
        many => {
            let msg = format!(
                "{subject} has {} SPF records; receivers treat that as permerror \
                 (RFC 7208 §4.5); keep exactly one",
                many.len()
            );
            vec![finding(ids::SPF_MULTIPLE, msg).found(found_list(many))]
        }
    }
}

/// Exactly one DMARC record at `_dmarc.<domain>` (RFC 7489 §6.6.3) that mail-auth's parser
/// accepts and that has a `p=` tag (RFC 7489 §6.3).
pub(super) async fn dmarc(dns: &Dns, d: &DomainInput) -> Vec<Finding> {
    let subject = d.domain.as_str();
    let name = format!("_dmarc.{}", d.domain);
    let answer = match dns.txt(&name).await {
        Ok(a) => a,
        Err(e) => {
            let what = format!("the DMARC record {name} (TXT)");
            return vec![Finding::unverifiable(subject, &what, &e, dns)];
        }
    };
    let fix = bind_txt(&name, &d.expected.dmarc);
    let expected = d.expected.dmarc.as_str();
    let finding = |id, severity, message| {
        Finding::new(id, severity, subject, message)
            .expected(expected)
            .fix(fix.clone())
    };
    let records: Vec<&String> = answer
        .records
        .iter()
        .filter(|r| is_dmarc_attempt(r))
        .collect();
    match records.as_slice() {
        [] => {
            let msg = format!("there is no DMARC record at {name}");
            let f = finding(ids::DMARC_MISSING, Severity::Warning, msg);
            if answer.is_empty() {
                vec![f]
            } else {
                vec![f.found(found_list(&answer.records))]
            }
        }
        [record] => match Dmarc::parse(record.as_bytes()) {
            Err(e) => {
                let msg = format!("the DMARC record at {name} does not parse ({e})");
                vec![finding(ids::DMARC_SYNTAX, Severity::Error, msg).found(sanitize(record))]
            }
            Ok(parsed) if parsed.p == Policy::Unspecified => {
                let msg = format!(
                    "the DMARC record at {name} has no p= tag, which RFC 7489 §6.3 requires"
                );
                vec![finding(ids::DMARC_SYNTAX, Severity::Warning, msg).found(sanitize(record))]
            }
            Ok(_) => Vec::new(),
        },
        many => {
            let msg = format!(
                "{name} has {} DMARC records; receivers then apply no DMARC policy \
                 (RFC 7489 §6.6.3); keep exactly one",
                many.len()
            );
            let f = finding(ids::DMARC_MULTIPLE, Severity::Error, msg);
            vec![f.found(found_list(many))]
        }
    }
}

/// The domain has an MX record (RFC 5321 §5.1) and one of its targets is this host.
pub(super) async fn mx(dns: &Dns, hostname: &Domain, d: &DomainInput) -> Vec<Finding> {
    let subject = d.domain.as_str();
    let answer = match dns.mx(subject).await {
        Ok(a) => a,
        Err(e) => {
            let what = format!("the MX records of {subject}");
            return vec![Finding::unverifiable(subject, &what, &e, dns)];
        }
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
            absence(&answer)
        );
        return vec![finding(ids::MX_MISSING, msg)];
    }
    if answer
        .records
        .iter()
        .any(|(_, target)| target == hostname.as_str())
    {
        return Vec::new();
    }
    let found: Vec<String> = answer
        .records
        .iter()
        .map(|(pref, target)| match target.as_str() {
            "." => format!("{pref} . (null MX: the domain accepts no mail, RFC 7505)"),
            t => format!("{pref} {t}."),
        })
        .collect();
    let msg = format!(
        "no MX record of {subject} points to {hostname}; ignore this if another server \
         receives mail for {subject}"
    );
    vec![finding(ids::MX_NOT_THIS_HOST, msg).found(found_list(&found))]
}

/// The reason an answer is empty, for messages.
fn absence<T>(answer: &Answer<T>) -> String {
    answer.absent.map(|a| a.to_string()).unwrap_or_default()
}

/// Several records for `found`: sanitized, one per line.
fn found_list<S: AsRef<str>>(records: &[S]) -> String {
    records
        .iter()
        .map(|r| sanitize(r.as_ref()))
        .collect::<Vec<_>>()
        .join("\n")
}
