//! The `dkim` check, of the key record (RFC 6376 §3.6): `<selector>._domainkey.<domain>`
//! holds exactly one valid key record, pasted right, whose `p=` is the local key's public
//! half and at least 2048 bits long (RFC 8301 §3.2). [`gather`] asks the authoritative
//! servers (and, when there is no record, the name with the zone doubled); [`judge`] is
//! pure, its text analysis in [`super::dkim_text`] and [`super::txt`].

use super::dkim_text::{PasteError, paste_errors, rsa_bits};
use super::observe::{Expect, Seen, absence, best_answer, seen};
use super::txt::{dkim_p, strip_ws};
use super::{DomainInput, Finding, Severity, ids};
use crate::dns::auth::ask;
use crate::dns::{Answer, Authority, sanitize};

/// Smallest RSA key not reported as weak (RFC 8301 §3.2: verifiers must accept 1024–4096,
/// signers should use at least 2048).
pub(super) const MIN_RSA_BITS: usize = 2048;

/// What the `dkim` check found in DNS.
#[derive(Debug, Clone)]
pub(super) struct Gathered {
    /// The TXT records at `<selector>._domainkey.<domain>` at every authoritative server.
    pub record: Seen<String>,
    /// Only when the servers answered that there is none: the TXT records at that name
    /// with its zone appended again (`mail._domainkey.example.org.example.org`, where a web
    /// form that appends the zone puts a pasted full name).
    pub doubled: Option<Seen<String>>,
}

/// `<selector>._domainkey.<domain>`.
fn key_name(d: &DomainInput) -> String {
    format!("{}._domainkey.{}", d.selector, d.domain)
}

/// The key record of `d`, and the doubled name when there is none.
pub(super) async fn gather(auth: &Authority, d: &DomainInput) -> Gathered {
    let name = key_name(d);
    let record = seen(auth, &name, ask::txt).await;
    let doubled = match (record.best(), record.apex()) {
        (Some(answer), Some(apex)) if answer.is_empty() => {
            Some(seen(auth, &format!("{name}.{apex}"), ask::txt).await)
        }
        _ => None,
    };
    Gathered { record, doubled }
}

/// The findings about the DKIM key record of `d`, in the order the rules apply; the first
/// error ends the judgement: `dkim.missing`, or `dkim.paste-error` when the record is
/// under the doubled name; `dkim.syntax` for several TXT records; `dkim.paste-error`
/// ([`paste_errors`]: a warning when it is only whitespace in `p=`); `dkim.syntax` (RFC
/// 6376 §3.6.1); `dkim.key-mismatch` when `p=` is not `d.local_p` (with a local key);
/// `dkim.weak-key` under [`MIN_RSA_BITS`]. `dns.unverifiable` when no server answered.
pub(super) fn judge(g: &Gathered, d: &DomainInput) -> Vec<Finding> {
    let subject = d.domain.as_str();
    let name = key_name(d);
    let what = format!("the DKIM record {name} (TXT)");
    let (answer, mut findings) = match best_answer(subject, &what, &g.record) {
        Ok(found) => found,
        Err(findings) => return findings,
    };
    let expect = Expect::txt(subject, &name, &d.expected.dkim, g.record.apex());
    findings.extend(match answer.records.as_slice() {
        [] => vec![absent(g, answer, &name, &expect)],
        [record] => key(record, d, &name, &expect),
        many => {
            let msg = format!(
                "{} TXT records at {name}; publish exactly one DKIM key record there",
                many.len()
            );
            let found: Vec<String> = many.iter().map(|r| sanitize(r)).collect();
            vec![
                expect
                    .finding(ids::DKIM_SYNTAX, Severity::Error, msg)
                    .found(found.join("\n")),
            ]
        }
    });
    findings
}

/// No record at `name`: `dkim.paste-error` when one is published under the doubled name,
/// else `dkim.missing`. A doubled name that could not be asked counts as unpublished.
fn absent(g: &Gathered, answer: &Answer<String>, name: &str, expect: &Expect) -> Finding {
    let doubled = g
        .doubled
        .as_ref()
        .and_then(|s| s.observed.as_ref().ok())
        .filter(|o| o.best().is_ok_and(|best| !best.is_empty()));
    let Some(doubled) = doubled.map(|o| &o.name) else {
        let msg = format!(
            "there is no DKIM key record at {name} ({})",
            absence(answer)
        );
        return expect.finding(ids::DKIM_MISSING, Severity::Error, msg);
    };
    let msg = format!(
        "the DKIM record is published at {doubled}, not at {name}: the zone name was typed \
         into a form that appends it again"
    );
    expect
        .finding(ids::DKIM_PASTE_ERROR, Severity::Error, msg)
        .fix(Some(format!(
            "delete the record at {doubled}, then publish it again with the name given \
             below\n{}",
            expect.fix.clone().unwrap_or_default()
        )))
}

/// The findings about the one TXT `record` at `name`: paste errors, syntax, the key.
fn key(record: &str, d: &DomainInput, name: &str, expect: &Expect) -> Vec<Finding> {
    let mut findings = Vec::new();
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
        findings.push(
            expect
                .finding(ids::DKIM_PASTE_ERROR, severity, msg)
                .found(sanitize(record)),
        );
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
            findings.push(
                expect
                    .finding(ids::DKIM_SYNTAX, Severity::Error, msg)
                    .found(sanitize(record)),
            );
            return findings;
        }
    };
    if let Some(local) = &local
        && &published != local
    {
        let msg = if published.is_empty() {
            format!("the DKIM key at {name} is revoked (empty p=)")
        } else {
            format!(
                "the DKIM key published at {name} is not the key this server signs with; \
                 another server may sign {domain} with the same selector `{selector}` (a \
                 selector names one key, RFC 6376 §3.6.2.1). If that record must stay, give \
                 this server its own selector, e.g. its short hostname: `mailsetup rotate \
                 --domain {domain} --selector <short hostname>` moves it to a new key under \
                 that selector (and `mailsetup records --fleet` merges every host's records); \
                 else publish this server's record",
                domain = d.domain,
                selector = d.selector
            )
        };
        findings.push(
            expect
                .finding(ids::DKIM_KEY_MISMATCH, Severity::Error, msg)
                .found(sanitize(record)),
        );
        return findings;
    }
    findings.extend(weak(&published, name, d));
    findings
}

/// `dkim.weak-key` when `published` (a `p=`), the key at `name`, is an RSA key under
/// [`MIN_RSA_BITS`]. The fix is a rotation (`mailsetup rotate`, [`crate::rotate`]): a new key
/// under a new selector, switched to once published.
fn weak(published: &str, name: &str, d: &DomainInput) -> Option<Finding> {
    let subject = d.domain.as_str();
    let bits = rsa_bits(published).ok().filter(|b| *b < MIN_RSA_BITS)?;
    let msg = format!(
        "the DKIM key at {name} is {bits}-bit RSA; keys under {MIN_RSA_BITS} bits can be \
         factored and some receivers ignore them (RFC 8301 §3.2)"
    );
    Some(
        Finding::new(ids::DKIM_WEAK_KEY, Severity::Warning, subject, msg)
            .found(format!("{bits}-bit RSA"))
            .expected(format!("at least {MIN_RSA_BITS}-bit RSA"))
            .fix(Some(format!(
                "a {MIN_RSA_BITS}-bit key under a new selector: key_bits = {MIN_RSA_BITS} in \
                 the answers, then `mailsetup rotate --domain {}` (it prints the new record, \
                 switches OpenDKIM to it once every nameserver serves it, and says when \
                 {name} may be removed)",
                d.domain
            ))),
    )
}

#[cfg(test)]
#[path = "dkim_tests.rs"]
mod tests;
