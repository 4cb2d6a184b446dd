//! The SPF check (RFC 7208): exactly one `v=spf1` record at the domain, grammatical, not
//! permissive, within the lookup limits (counted over every include and redirect), and
//! giving `pass` for each of this server's addresses in a real evaluation (mail-auth's
//! `check_host()`, fed the record the authoritative servers serve).

use std::net::IpAddr;

use super::observe::txt_record;
use super::spf_tree::{MAX_LOOKUPS, MAX_VOID_LOOKUPS, permissive_all, syntax, walk};
use super::txt::is_spf;
use super::{CheckInput, DomainInput, Finding, Severity, ids};
use crate::dns::{Authority, SpfOutcome, join_all, sanitize};

pub(super) async fn check(auth: &Authority, input: &CheckInput, d: &DomainInput) -> Vec<Finding> {
    let subject = d.domain.as_str();
    let what = format!("the SPF record of {subject} (TXT)");
    let (answer, mut findings, expect) =
        match txt_record(auth, subject, &what, subject, &d.expected.spf).await {
            Ok(found) => found,
            Err(findings) => return findings,
        };
    let finding = |id, severity, message: String| expect.finding(id, severity, message);
    let records: Vec<&String> = answer.records.iter().filter(|r| is_spf(r)).collect();
    let record = match records.as_slice() {
        [] => {
            let msg = format!("{subject} publishes no SPF record (a TXT record starting v=spf1)");
            findings.push(finding(ids::SPF_MISSING, Severity::Error, msg));
            return findings;
        }
        [record] => record.as_str(),
        many => {
            let msg = format!(
                "{subject} has {} SPF records; receivers treat that as permerror \
                 (RFC 7208 §4.5); keep exactly one",
                many.len()
            );
            let found: Vec<String> = many.iter().map(|r| sanitize(r)).collect();
            findings.push(finding(ids::SPF_MULTIPLE, Severity::Error, msg).found(found.join("\n")));
            return findings;
        }
    };
    if let Err(why) = syntax(record) {
        let msg = format!(
            "the SPF record of {subject} is not valid: {}; receivers treat it as permerror \
             (RFC 7208 §4.6)",
            sanitize(&why)
        );
        findings.push(finding(ids::SPF_SYNTAX, Severity::Error, msg).found(sanitize(record)));
        return findings;
    }
    if let Some(all) = permissive_all(record) {
        let severity = if all == "?all" {
            Severity::Warning
        } else {
            Severity::Error
        };
        let msg = format!(
            "the SPF record of {subject} ends in {all}: every server on the Internet may send \
             as {subject} ({}), so SPF protects nothing",
            if all == "?all" { "neutral" } else { "pass" }
        );
        findings.push(finding(ids::SPF_PERMISSIVE_ALL, severity, msg).found(sanitize(record)));
    }
    let mut ips = vec![IpAddr::V4(input.ipv4)];
    ips.extend(input.ipv6.filter(|_| input.ipv6_enabled).map(IpAddr::V6));
    let helo = input.hostname.as_str();
    let dns = auth.first_hop();
    let evaluations = ips
        .iter()
        .map(|ip| dns.spf_result(*ip, subject, helo, Some(record)))
        .collect();
    let (tree, outcomes) = tokio::join!(walk(dns, subject, record), join_all(evaluations));
    let trail = tree.trail.join("\n");
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
    let over_limit = looping || tree.lookups > MAX_LOOKUPS || tree.void_lookups > MAX_VOID_LOOKUPS;
    for (ip, outcome) in ips.iter().zip(outcomes) {
        match outcome {
            SpfOutcome::Pass => {}
            // the limit findings above already say why
            SpfOutcome::PermError if over_limit => {}
            SpfOutcome::TempError => findings.push(super::observe::unverifiable(
                subject,
                &format!("whether SPF of {subject} permits {ip}"),
                "a DNS lookup during SPF evaluation failed (temperror)",
                &auth.options().first_hop,
            )),
            other => {
                let msg = format!(
                    "SPF of {subject} gives {other} for this server's address {ip}, \
                     not pass (RFC 7208 §2.6)"
                );
                let f = finding(ids::SPF_IP_NOT_PERMITTED, Severity::Error, msg);
                findings.push(f.found(sanitize(record)));
            }
        }
    }
    findings
}
