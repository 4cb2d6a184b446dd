//! `MailtoUri`: the DMARC aggregate-report address (`rua=`).
//!
//! Rule sources: RFC 7489 §6.4 (`dmarc-uri`: commas and `!` must be encoded, `!size` suffix),
//! RFC 6068 (mailto), RFC 5322 §3.2.3 (dot-atom), RFC 5321 §4.5.3.1.1 (64-octet local part),
//! reliability.md G4.6 (refuse `+ , ! ; %` and spaces rather than rely on encodings that
//! receivers decode differently).
use std::fmt;

use super::{Domain, Rule, check_text};

/// A DMARC report URI `mailto:local@domain` (RFC 7489 §6.4), local part `[A-Za-z0-9._-]+`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailtoUri {
    local: String,
    domain: Domain,
}

impl MailtoUri {
    /// Exactly `mailto:` (lowercase) + local part + `@` + [`Domain`]; one address, no
    /// `!size` limit. The local part is a dot-atom of `A-Z a-z 0-9 . _ -`, at most 64
    /// characters, kept as typed (local parts may be case-sensitive); the domain is canonical.
    pub fn parse(s: &str) -> Result<MailtoUri, Rule> {
        check_text(s)?;
        let Some(rest) = s.strip_prefix("mailto:") else {
            return Err(Rule::new(
                "must start with \"mailto:\", e.g. \"mailto:postmaster@example.org\" \
                 (RFC 7489 §6.4)",
            ));
        };
        if rest.contains(',') {
            return Err(Rule::new(
                "must be one address without ',': a comma separates report URIs and must not \
                 appear inside one (RFC 7489 §6.4)",
            ));
        }
        if rest.contains('!') {
            return Err(Rule::new(
                "must not contain '!': a size limit such as \"!10m\" is not supported \
                 (RFC 7489 §6.4); remove it",
            ));
        }
        let Some((local, domain)) = rest.split_once('@') else {
            return Err(Rule::new(
                "must contain '@' between the local part and the domain",
            ));
        };
        if local.is_empty() {
            return Err(Rule::new("the local part before '@' must not be empty"));
        }
        if let Some(c) = local
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(Rule(format!(
                "the local part may contain only A-Z, a-z, 0-9, '.', '_' and '-', found {c:?}; \
                 '+', ',', '!', ';', '%' and spaces are refused because DMARC receivers \
                 decode them differently (RFC 7489 §6.4)"
            )));
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(Rule::new(
                "the local part must not start or end with '.' or contain \"..\" \
                 (RFC 5322 §3.2.3 dot-atom)",
            ));
        }
        if local.len() > 64 {
            return Err(Rule::new(
                "the local part must be at most 64 characters (RFC 5321 §4.5.3.1.1)",
            ));
        }
        let domain = Domain::parse(domain)
            .map_err(|r| Rule(format!("the domain after '@' is not valid: {r}")))?;
        Ok(MailtoUri {
            local: local.to_string(),
            domain,
        })
    }

    /// The local part, as typed.
    pub fn local(&self) -> &str {
        &self.local
    }

    /// The domain reports go to (for the RFC 7489 §7.1 external-destination check).
    pub fn domain(&self) -> &Domain {
        &self.domain
    }
}

impl fmt::Display for MailtoUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mailto:{}@{}", self.local, self.domain)
    }
}

/// Do aggregate reports for `policy_domain` sent to an address at `rua_domain` need the
/// external-destination authorization record `<policy_domain>._report._dmarc.<rua_domain>`
/// (RFC 7489 §7.1)? Yes unless one name equals the other or lies below it. Names compare
/// ASCII-case-insensitively, a trailing root dot ignored.
///
/// §7.1 compares Organizational Domains, which needs the Public Suffix List; this rule asks
/// for the record in every case where the two names are not in one subtree, so it may ask
/// for a record a receiver would not look up (`a.example.org` → `b.example.org`), never
/// the reverse for registrable names. The one rule for `records` and `check`.
pub fn needs_report_authorization(policy_domain: &str, rua_domain: &str) -> bool {
    let policy = canonical(policy_domain);
    let rua = canonical(rua_domain);
    !within(&policy, &rua) && !within(&rua, &policy)
}

/// Lowercase, without a trailing root dot.
fn canonical(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Is `name` equal to `zone` or below it?
fn within(name: &str, zone: &str) -> bool {
    name == zone
        || name
            .strip_suffix(zone)
            .is_some_and(|head| head.ends_with('.'))
}
