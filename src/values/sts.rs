//! The MTA-STS and TLS-RPT answers: the policy mode ([`StsMode`], answers `mta_sts`), its
//! lifetime ([`StsMaxAge`], `mta_sts_max_age`) and the TLS report address ([`TlsRptUri`],
//! `tls_rpt_rua`).
//!
//! Rule sources: RFC 8461 §3.2 (policy `mode`, `max_age`), RFC 8460 §3 (`rua`: a `mailto:` or
//! `https:` URI), reliability.md G4.6 (refuse characters receivers decode differently).
use std::fmt;

use super::{Domain, MailtoUri, Rule, check_text};

/// The MTA-STS policy mode (RFC 8461 §5): `testing` (report failures, deliver anyway),
/// `enforce` (refuse to deliver without a valid TLS connection to a listed MX) or `none`
/// (no active policy: the way to withdraw one, §8.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StsMode {
    Testing,
    Enforce,
    None,
}

impl StsMode {
    /// The policy file's `mode:` value and the answers value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Testing => "testing",
            Self::Enforce => "enforce",
            Self::None => "none",
        }
    }

    /// Exactly `testing`, `enforce` or `none` (lowercase, RFC 8461 §3.2 `sts-policy-mode`).
    pub fn parse(s: &str) -> Result<StsMode, Rule> {
        check_text(s)?;
        match s {
            "testing" => Ok(Self::Testing),
            "enforce" => Ok(Self::Enforce),
            "none" => Ok(Self::None),
            _ => Err(Rule::new(
                "must be \"testing\", \"enforce\" or \"none\" (RFC 8461 §5); start with \
                 \"testing\"",
            )),
        }
    }
}

/// The MTA-STS policy's `max_age`, seconds (RFC 8461 §3.2: a non-negative integer, at most
/// 31557600, one year). The default, [`StsMaxAge::DEFAULT`], is one week: §3.2 expects
/// "weeks or greater" against attacks at refresh time, and a week keeps a mistake made in
/// `testing` short-lived; raise it (e.g. to 31557600) once in `enforce`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StsMaxAge(u32);

impl StsMaxAge {
    /// 604800 s, one week.
    pub const DEFAULT: StsMaxAge = StsMaxAge(604_800);
    /// 31557600 s, RFC 8461 §3.2's maximum.
    pub const MAX: u32 = 31_557_600;

    /// `n` seconds when `0 <= n <= 31557600` (RFC 8461 §3.2).
    pub fn from_secs(n: i64) -> Result<StsMaxAge, Rule> {
        u32::try_from(n)
            .ok()
            .filter(|n| *n <= Self::MAX)
            .map(StsMaxAge)
            .ok_or_else(|| {
                Rule::new(
                    "must be a number of seconds from 0 to 31557600 (one year, RFC 8461 §3.2), \
                     e.g. 604800 for one week",
                )
            })
    }

    pub fn secs(self) -> u32 {
        self.0
    }
}

impl Default for StsMaxAge {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Where TLS reports go (RFC 8460 §3 `rua=`): one `mailto:` address (the same rules as
/// DMARC's, [`MailtoUri`]) or one `https:` URL to POST them to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsRptUri {
    Mailto(MailtoUri),
    /// `https://` + host + optional path, kept as typed (the host canonical).
    Https {
        host: Domain,
        path: String,
    },
}

impl TlsRptUri {
    /// `mailto:local@domain` ([`MailtoUri::parse`]) or `https://host[/path]` where host is a
    /// [`Domain`] and path is `/` followed by `A-Z a-z 0-9 - . _ ~ / % =  &  ?` only (no `,`
    /// or `;`: they separate URIs and tags, RFC 8460 §3; no spaces). No port, no user info.
    pub fn parse(s: &str) -> Result<TlsRptUri, Rule> {
        check_text(s)?;
        if s.starts_with("mailto:") {
            return MailtoUri::parse(s).map(TlsRptUri::Mailto);
        }
        let Some(rest) = s.strip_prefix("https://") else {
            return Err(Rule::new(
                "must start with \"mailto:\" or \"https://\", e.g. \
                 \"mailto:tlsrpt@example.org\" (RFC 8460 §3 rua)",
            ));
        };
        let (host, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if host.contains(':') || host.contains('@') {
            return Err(Rule::new(
                "the https: URI must name a host only, no port or user (\"https://host/path\")",
            ));
        }
        let host = Domain::parse(host)
            .map_err(|r| Rule(format!("the host after \"https://\" is not valid: {r}")))?;
        if let Some(c) = path.chars().find(|c| {
            !(c.is_ascii_alphanumeric()
                || matches!(c, '-' | '.' | '_' | '~' | '/' | '%' | '=' | '&' | '?'))
        }) {
            return Err(Rule(format!(
                "the path may contain only A-Z, a-z, 0-9 and - . _ ~ / % = & ?, found {c:?}; \
                 ',' and ';' separate report URIs and tags (RFC 8460 §3)"
            )));
        }
        Ok(TlsRptUri::Https {
            host,
            path: path.to_string(),
        })
    }
}

impl fmt::Display for TlsRptUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsRptUri::Mailto(m) => m.fmt(f),
            TlsRptUri::Https { host, path } => write!(f, "https://{host}{path}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        for m in ["testing", "enforce", "none"] {
            assert_eq!(StsMode::parse(m).unwrap().as_str(), m);
        }
        for bad in ["Testing", "enforced", "", " none"] {
            assert!(StsMode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn max_age_range() {
        assert_eq!(StsMaxAge::from_secs(0).unwrap().secs(), 0);
        assert_eq!(StsMaxAge::from_secs(31_557_600).unwrap().secs(), 31_557_600);
        assert!(StsMaxAge::from_secs(31_557_601).is_err());
        assert!(StsMaxAge::from_secs(-1).is_err());
        assert_eq!(StsMaxAge::default().secs(), 604_800);
    }

    #[test]
    fn rua_uris() {
        for ok in [
            "mailto:tlsrpt@example.org",
            "https://reports.example.org/tlsrpt",
            "https://reports.example.org",
        ] {
            assert_eq!(TlsRptUri::parse(ok).unwrap().to_string(), ok);
        }
        assert_eq!(
            TlsRptUri::parse("https://Reports.Example.org/x")
                .unwrap()
                .to_string(),
            "https://reports.example.org/x"
        );
        for (bad, why) in [
            ("tlsrpt@example.org", "must start with"),
            ("http://example.org/r", "must start with"),
            ("mailto:a,b@example.org", "','"),
            ("https://example.org:8443/r", "no port"),
            ("https://example.org/a;b", "found ';'"),
            ("https://exa mple.org", "not valid"),
        ] {
            let err = TlsRptUri::parse(bad).expect_err(bad).to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
