//! The DKIM key record check (RFC 6376 §3.6): `<selector>._domainkey.<domain>` holds
//! exactly one valid key record, pasted right, whose `p=` is the local key's public half
//! and at least 2048 bits long (RFC 8301 §3.2).

use super::dkim_text::{PasteError, paste_errors, rsa_bits};
use super::observe::{absence, txt_record};
use super::txt::{dkim_p, strip_ws};
use super::{DomainInput, Finding, Severity, ids};
use crate::dns::auth::ask;
use crate::dns::{Authority, sanitize};

/// Smallest RSA key not reported as weak (RFC 8301 §3.2: verifiers must accept 1024–4096,
/// signers should use at least 2048).
pub(super) const MIN_RSA_BITS: usize = 2048;

pub(super) async fn check(auth: &Authority, d: &DomainInput) -> Vec<Finding> {
    let subject = d.domain.as_str();
    let name = format!("{}._domainkey.{}", d.selector, d.domain);
    let what = format!("the DKIM record {name} (TXT)");
    let (answer, mut findings, expect) =
        match txt_record(auth, subject, &what, &name, &d.expected.dkim).await {
            Ok(found) => found,
            Err(findings) => return findings,
        };
    let finding = |id, severity, message: String| expect.finding(id, severity, message);
    if answer.is_empty() {
        let apex = auth.zone_of(&name).await.ok().map(|z| z.apex.clone());
        if let Some(doubled) = doubled_zone(auth, &name, apex.as_deref()).await {
            let msg = format!(
                "the DKIM record is published at {doubled}, not at {name}: the zone name was \
                 typed into a form that appends it again"
            );
            let f = finding(ids::DKIM_PASTE_ERROR, Severity::Error, msg).fix(Some(format!(
                "delete the record at {doubled}, then publish it again with the name given \
                 below\n{}",
                expect.fix.clone().unwrap_or_default()
            )));
            findings.push(f);
        } else {
            let msg = format!(
                "there is no DKIM key record at {name} ({})",
                absence(&answer)
            );
            findings.push(finding(ids::DKIM_MISSING, Severity::Error, msg));
        }
        return findings;
    }
    if answer.records.len() > 1 {
        let msg = format!(
            "{} TXT records at {name}; publish exactly one DKIM key record there",
            answer.records.len()
        );
        let found = answer
            .records
            .iter()
            .map(|r| sanitize(r))
            .collect::<Vec<_>>();
        findings.push(finding(ids::DKIM_SYNTAX, Severity::Error, msg).found(found.join("\n")));
        return findings;
    }
    let record = &answer.records[0];
    let local = d.local_p.as_deref().map(strip_ws);
    let pasted = paste_errors(record, local.as_deref());
    if !pasted.is_empty() {
        let severity = if pasted.iter().all(|p| matches!(p, PasteError::Whitespace)) {
            Severity::Warning
        } else {
            Severity::Error
        };
        let why: Vec<String> = pasted.iter().map(ToString::to_string).collect();
        let msg = format!(
            "the DKIM record at {name} was pasted wrongly: {}",
            why.join("; ")
        );
        findings.push(finding(ids::DKIM_PASTE_ERROR, severity, msg).found(sanitize(record)));
        if severity == Severity::Error {
            return findings;
        }
    }
    let published = match dkim_p(record) {
        Ok(p) => p,
        Err(why) => {
            let msg = format!(
                "the DKIM record at {name} is not a valid key record: {} (RFC 6376 §3.6.1)",
                sanitize(&why)
            );
            findings.push(finding(ids::DKIM_SYNTAX, Severity::Error, msg).found(sanitize(record)));
            return findings;
        }
    };
    if let Some(local) = &local
        && &published != local
    {
        let msg = if published.is_empty() {
            format!("the DKIM key at {name} is revoked (empty p=)")
        } else {
            format!("the DKIM key published at {name} is not the key this server signs with")
        };
        findings
            .push(finding(ids::DKIM_KEY_MISMATCH, Severity::Error, msg).found(sanitize(record)));
        return findings;
    }
    if let Ok(bits) = rsa_bits(&published)
        && bits < MIN_RSA_BITS
    {
        let msg = format!(
            "the DKIM key at {name} is {bits}-bit RSA; keys under {MIN_RSA_BITS} bits can be \
             factored and some receivers ignore them (RFC 8301 §3.2)"
        );
        findings.push(
            Finding::new(ids::DKIM_WEAK_KEY, Severity::Warning, subject, msg)
                .found(format!("{bits}-bit RSA"))
                .expected(format!("at least {MIN_RSA_BITS}-bit RSA"))
                .fix(Some(format!(
                    "create a {MIN_RSA_BITS}-bit key under a new selector (answers: \
                     key_bits = {MIN_RSA_BITS} and a new selector, then mailsetup apply), \
                     publish its record, and remove {name} a few days later"
                ))),
        );
    }
    findings
}

/// The name with the zone doubled (`mail._domainkey.example.org.example.org`), if a TXT
/// record is published there.
async fn doubled_zone(auth: &Authority, name: &str, apex: Option<&str>) -> Option<String> {
    let doubled = format!("{name}.{}", apex?);
    let observed = auth.observe(&doubled, ask::txt).await.ok()?;
    let best = observed.best().ok()?;
    (!best.is_empty()).then_some(doubled)
}
