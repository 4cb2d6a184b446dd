//! The values DNS lookups produce: [`Answer`] (records, or why there are none), [`Mx`],
//! [`Soa`], [`LookupError`] (no answer: "could not verify") and [`SpfOutcome`].

use std::fmt;

use super::sanitize;

/// Why a name has no records of the asked type (RFC 2308 §2.1 NXDOMAIN, §2.2 NODATA).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Absence {
    /// The name does not exist.
    NxDomain,
    /// The name exists but has no record of this type.
    NoData,
}

/// `the name does not exist` / `the name has no record of this type`.
impl fmt::Display for Absence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Absence::NxDomain => "the name does not exist",
            Absence::NoData => "the name has no record of this type",
        })
    }
}

/// The records of one type at one name. `records` is empty exactly when `absent` is `Some`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer<T> {
    pub records: Vec<T>,
    pub absent: Option<Absence>,
    /// Seconds a resolver may cache this answer: the smallest record TTL, or for an absence
    /// the negative TTL of RFC 2308 §5 (min of the SOA's TTL and MINIMUM) when the server
    /// sent its SOA; 0 when unknown. From a recursive resolver, the time left in its cache.
    pub ttl: u32,
}

impl<T> Answer<T> {
    pub(super) fn absent(why: Absence, ttl: u32) -> Self {
        Answer {
            records: Vec::new(),
            absent: Some(why),
            ttl,
        }
    }

    /// The same answer with each record mapped by `f`.
    pub fn map<U>(self, f: impl Fn(T) -> U) -> Answer<U> {
        Answer {
            records: self.records.into_iter().map(f).collect(),
            absent: self.absent,
            ttl: self.ttl,
        }
    }

    /// True when the name has no record of this type (NXDOMAIN or NODATA).
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

/// One MX record (RFC 1035 §3.3.9). `exchange` is lowercase ASCII without the trailing dot;
/// `"."` stays `"."` (the null MX of RFC 7505).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Mx {
    pub preference: u16,
    pub exchange: String,
}

/// `10 mail.example.org.`, or `0 .` for a null MX.
impl fmt::Display for Mx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.exchange.as_str() {
            "." => write!(f, "{} .", self.preference),
            host => write!(f, "{} {host}.", self.preference),
        }
    }
}

/// A lookup that did not produce an answer; the record state is unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    /// No response within the timeout, after all retries.
    Timeout,
    /// The server answered with an error code: its mnemonic (`SERVFAIL`, `REFUSED`, …).
    Server(String),
    /// The name to look up is not a valid DNS name.
    InvalidName(String),
    /// The resolver could not be built (e.g. an unreadable /etc/resolv.conf).
    Config(String),
    /// The server answered, but not for this zone (no SOA of it): it does not serve the
    /// zone it is listed for.
    NotAuthoritative(String),
    /// Any other failure (network error, malformed response), as text.
    Other(String),
}

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LookupError::Timeout => f.write_str("no answer (timed out)"),
            LookupError::Server(code) => write!(f, "the server answered {code}"),
            LookupError::InvalidName(e) => write!(f, "invalid name: {}", sanitize(e)),
            LookupError::Config(e) => write!(f, "resolver configuration: {}", sanitize(e)),
            LookupError::NotAuthoritative(zone) => {
                write!(f, "the server does not serve the zone {}", sanitize(zone))
            }
            LookupError::Other(e) => f.write_str(&sanitize(e)),
        }
    }
}

impl std::error::Error for LookupError {}

/// The SPF result for one IP (RFC 7208 §2.6), as evaluated by mail-auth's `check_host()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpfOutcome {
    None,
    Neutral,
    Pass,
    Fail,
    SoftFail,
    /// A DNS error during evaluation: the result is unknown, report "could not verify".
    TempError,
    PermError,
}

/// The RFC 7208 §2.6 result name: `pass`, `fail`, `softfail`, `neutral`, `none`,
/// `temperror`, `permerror`.
impl fmt::Display for SpfOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SpfOutcome::None => "none",
            SpfOutcome::Neutral => "neutral",
            SpfOutcome::Pass => "pass",
            SpfOutcome::Fail => "fail",
            SpfOutcome::SoftFail => "softfail",
            SpfOutcome::TempError => "temperror",
            SpfOutcome::PermError => "permerror",
        })
    }
}

/// The zone a name belongs to, from its SOA record (RFC 1035 §3.3.13, RFC 2308 §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Soa {
    /// The zone apex: lowercase, no trailing dot.
    pub apex: String,
    /// The zone's serial (RFC 1035 §3.3.13 SERIAL).
    pub serial: u32,
    /// How long a resolver may cache "this name does not exist" in seconds: the smaller of
    /// the SOA record's TTL and its MINIMUM field (RFC 2308 §5).
    pub negative_ttl: u32,
}
