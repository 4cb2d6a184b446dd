//! Pure text analysis of DMARC records for `check`: whether the policy only monitors, which
//! domains aggregate reports go to, and the RFC 7489 §7.1 report authorization those
//! domains must publish. No DNS: the check jobs do the lookups.

use mail_auth::common::parse::TxtRecordParser;
use mail_auth::dmarc::{Dmarc, Policy};

pub use crate::values::needs_report_authorization;

/// Does `record` parse as a DMARC record (mail-auth's parser, as used by the DMARC check) with
/// `p=none` (RFC 7489 §6.3: monitoring only, no disposition requested)? `false` for
/// `quarantine`, `reject`, a missing `p=`, and records that do not parse.
pub(super) fn is_monitor_only(record: &str) -> bool {
    Dmarc::parse(record.as_bytes()).is_ok_and(|d| d.p == Policy::None)
}

/// The domains of the `mailto:` URIs in the first `rua=` tag of `record`, lowercase, without
/// a trailing dot, deduplicated, in order of appearance. RFC 7489 §6.4: tag names are
/// case-insensitive, URIs are comma-separated with optional whitespace, each may end in a
/// `!size` limit (`!10m`); the scheme is case-insensitive (RFC 3986 §3.1). Other schemes and
/// URIs without `@` are skipped; a `?query` after the address is ignored (RFC 6068 §2).
/// Empty when there is no `rua=`.
pub(super) fn rua_domains(record: &str) -> Vec<String> {
    let rua = record.split(';').find_map(|spec| {
        let (name, value) = spec.split_once('=')?;
        name.trim().eq_ignore_ascii_case("rua").then_some(value)
    });
    let mut domains: Vec<String> = Vec::new();
    for uri in rua.unwrap_or("").split(',') {
        let uri = uri.split('!').next().unwrap_or("").trim();
        let Some(scheme) = uri.get(..7) else {
            continue;
        };
        if !scheme.eq_ignore_ascii_case("mailto:") {
            continue;
        }
        let address = uri[7..].split('?').next().unwrap_or("");
        let Some((_, domain)) = address.rsplit_once('@') else {
            continue;
        };
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        if !domain.is_empty() && !domains.contains(&domain) {
            domains.push(domain);
        }
    }
    domains
}

/// `<policy_domain>._report._dmarc.<rua_domain>`, the name a receiver queries before sending
/// reports for `policy_domain` to `rua_domain` (RFC 7489 §7.1 steps 1–3), without a trailing dot.
pub(super) fn report_authorization_name(policy_domain: &str, rua_domain: &str) -> String {
    format!(
        "{}._report._dmarc.{}",
        policy_domain.trim_end_matches('.'),
        rua_domain.trim_end_matches('.')
    )
}

/// Is `record` a valid report authorization: a tag list whose first tag is `v=DMARC1`
/// (RFC 7489 §7.1 step 5, tag syntax §6.4: whitespace allowed around `=` and `;`, the tag
/// name case-insensitive, the value `DMARC1` exactly, as its ABNF spells it in `%x` codes)?
/// Further tags (an `rua=` override) do not matter here.
pub(super) fn is_report_authorization(record: &str) -> bool {
    let first = record.split(';').next().unwrap_or("");
    first.split_once('=').is_some_and(|(name, value)| {
        name.trim().eq_ignore_ascii_case("v") && value.trim() == "DMARC1"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monitor_only_is_p_none() {
        for (record, expected) in [
            ("v=DMARC1; p=none", true),
            ("v=DMARC1; p=none; rua=mailto:d@example.org", true),
            ("v=DMARC1;p=NONE;", true),
            ("v=DMARC1; p=quarantine; pct=100", false),
            ("v=DMARC1; p=reject", false),
            ("v=DMARC1; sp=none", false),
            ("v=DMARC1; rua=mailto:d@example.org", false),
            ("v=spf1 -all", false),
            ("p=none", false),
            ("", false),
        ] {
            assert_eq!(is_monitor_only(record), expected, "{record}");
        }
    }

    #[test]
    fn rua_domains_table() {
        let cases: &[(&str, &[&str])] = &[
            ("v=DMARC1; p=none", &[]),
            ("v=DMARC1; p=none; rua=", &[]),
            (
                "v=DMARC1; p=none; rua=mailto:d@example.org",
                &["example.org"],
            ),
            (
                "v=DMARC1; p=none; rua=mailto:d@example.org!10m",
                &["example.org"],
            ),
            (
                "v=DMARC1; p=reject; rua=MAILTO:Reports@Example.NET!10m; ruf=mailto:f@other.example",
                &["example.net"],
            ),
            (
                "v=DMARC1; p=quarantine; rua=mailto:a@example.org, mailto:b@thirdparty.example!20k ,mailto:c@EXAMPLE.org",
                &["example.org", "thirdparty.example"],
            ),
            (
                "v=DMARC1; p=none; RUA = mailto:a@vendor.example! 2G , https://x.example/r, mailto:noat",
                &["vendor.example"],
            ),
            (
                "v=DMARC1; p=none; rua=mailto:a@reports.example.?subject=dmarc",
                &["reports.example"],
            ),
            ("v=DMARC1; p=none; ruf=mailto:f@forensic.example", &[]),
        ];
        for (record, expected) in cases {
            assert_eq!(rua_domains(record), *expected, "{record}");
        }
    }

    /// The domains agree with what mail-auth (the parser the DMARC check uses) reads.
    #[test]
    fn rua_domains_agree_with_mail_auth() {
        for record in [
            "v=DMARC1; p=none; rua=mailto:d@example.org!10m",
            "v=DMARC1; p=reject; rua=MAILTO:Reports@Example.NET!10m",
            "v=DMARC1; p=none; rua=mailto:a@example.org, mailto:b@thirdparty.example!20k",
            "v=DMARC1; p=none; rua=mailto:a@x.example!10 K , mailto:b@y.example ! 2G;",
        ] {
            let parsed = Dmarc::parse(record.as_bytes()).expect(record);
            let mut theirs: Vec<String> = Vec::new();
            for uri in parsed.rua() {
                let domain = uri.uri().rsplit_once('@').expect("@").1.to_string();
                if !theirs.contains(&domain) {
                    theirs.push(domain);
                }
            }
            assert_eq!(rua_domains(record), theirs, "{record}");
        }
    }

    #[test]
    fn report_authorization_rule() {
        for (policy, rua, needed) in [
            ("example.org", "example.org", false),
            ("example.org", "reports.example.org", false),
            ("mail.example.org", "example.org", false),
            ("Example.ORG.", "example.org", false),
            ("example.net", "example.org", true),
            ("a.example.org", "b.example.org", true),
            ("example.org", "badexample.org", true),
            ("badexample.org", "example.org", true),
            ("example.org", "thirdparty.example", true),
        ] {
            assert_eq!(
                needs_report_authorization(policy, rua),
                needed,
                "{policy} → {rua}"
            );
        }
    }

    #[test]
    fn report_authorization_names() {
        assert_eq!(
            report_authorization_name("example.net", "example.org"),
            "example.net._report._dmarc.example.org"
        );
        assert_eq!(
            report_authorization_name("example.net.", "thirdparty.example."),
            "example.net._report._dmarc.thirdparty.example"
        );
    }

    #[test]
    fn report_authorization_records() {
        for (record, valid) in [
            ("v=DMARC1", true),
            ("v=DMARC1;", true),
            ("v = DMARC1 ; rua=mailto:other@example.org", true),
            ("V=DMARC1", true),
            ("v=DMARC1; p=none", true),
            ("v=dmarc1", false),
            ("v=DMARC2", false),
            ("v=DMARC1 p=none", false),
            ("p=none; v=DMARC1", false),
            ("v=spf1 -all", false),
            ("DMARC1", false),
            ("", false),
        ] {
            assert_eq!(is_report_authorization(record), valid, "{record:?}");
        }
    }
}
