//! The typed values every answer is parsed into, once, before anything reaches a file
//! (reliability.md G4.1): each type has one parser that returns the canonical value or the
//! [`Rule`] it broke, and file renderers take only these types, never `&str`.
//!
//! Every string parser first applies [`check_text`] (G4.7: no control characters, no U+2028/
//! U+2029/U+0085, no `#`, no surrounding whitespace), so the rule named in an error is the
//! most basic one that was broken.
use std::fmt;

mod domain;
#[cfg(test)]
mod domain_tests;
mod mailto;
mod net;
mod sts;
#[cfg(test)]
mod tests;

pub use domain::{Domain, Selector};
pub use mailto::{MailtoUri, needs_report_authorization};
pub use net::{
    MilterSocket, PUBLIC_ADDRESS_WHY, Port, PrivateRange, ServerAddrs, TrustedHost,
    parse_public_ipv4, parse_public_ipv6, private_range,
};
pub use sts::{StsMaxAge, StsMode, TlsRptUri};

/// Why a value was rejected: one short sentence naming the rule and its source, e.g.
/// "a label must not be empty (RFC 1035 §2.3.1)". It does not repeat the whole value (the
/// caller, see `answers::AnswerError`, names the field and shows the value); it may quote the
/// offending character or label, or the corrected form to type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule(pub String);

impl Rule {
    /// Wraps a rule sentence.
    pub fn new(text: impl Into<String>) -> Rule {
        Rule(text.into())
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The text rules every string value must pass before its own syntax is looked at
/// (reliability.md G4.7). Errors, in this order:
/// - a C0/C1 control character or DEL (`char::is_control`, which includes U+0085 NEXT LINE):
///   a line break starts a new parameter in main.cf (postconf(5)) and a new entry in
///   OpenDKIM tables;
/// - U+2028 LINE SEPARATOR or U+2029 PARAGRAPH SEPARATOR (line breaks to some readers);
/// - `#`: starts a comment anywhere on an OpenDKIM table line (opendkim-db.c), and in main.cf
///   at the start of a line;
/// - leading or trailing whitespace (Unicode `White_Space`).
pub fn check_text(s: &str) -> Result<(), Rule> {
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(Rule(format!(
            "must not contain control characters such as line breaks (found U+{:04X}); \
             a line break would start a new entry in main.cf or an OpenDKIM table",
            u32::from(c)
        )));
    }
    if let Some(c) = s.chars().find(|c| matches!(c, '\u{2028}' | '\u{2029}')) {
        return Err(Rule(format!(
            "must not contain the Unicode line or paragraph separator (found U+{:04X})",
            u32::from(c)
        )));
    }
    if s.contains('#') {
        return Err(Rule::new(
            "must not contain '#': it starts a comment in OpenDKIM tables and main.cf",
        ));
    }
    if s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) {
        return Err(Rule::new(
            "must not start or end with whitespace; remove the spaces around the value",
        ));
    }
    Ok(())
}

/// RSA modulus size for DKIM keys: 1024 | 2048 | 3072 | 4096.
/// RFC 8301 §3.2: signers MUST use at least 1024 bits and SHOULD use at least 2048.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyBits {
    B1024,
    B2048,
    B3072,
    B4096,
}

impl KeyBits {
    /// The size in bits.
    pub fn bits(self) -> usize {
        match self {
            KeyBits::B1024 => 1024,
            KeyBits::B2048 => 2048,
            KeyBits::B3072 => 3072,
            KeyBits::B4096 => 4096,
        }
    }

    /// From a number of bits (a TOML integer). Errors unless one of the four sizes.
    pub fn from_bits(n: i64) -> Result<KeyBits, Rule> {
        match n {
            1024 => Ok(KeyBits::B1024),
            2048 => Ok(KeyBits::B2048),
            3072 => Ok(KeyBits::B3072),
            4096 => Ok(KeyBits::B4096),
            _ => Err(Rule::new(
                "must be one of 1024, 2048, 3072, 4096 (RFC 8301 §3.2: at least 1024, \
                 2048 recommended)",
            )),
        }
    }
}

/// Postfix `inet_protocols` (postconf(5)): ipv4 | ipv6 | all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InetProtocols {
    Ipv4,
    Ipv6,
    All,
}

impl InetProtocols {
    /// The main.cf spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ipv4 => "ipv4",
            Self::Ipv6 => "ipv6",
            Self::All => "all",
        }
    }

    /// Exactly `ipv4`, `ipv6` or `all` (lowercase, as postconf(5) documents them).
    pub fn parse(s: &str) -> Result<InetProtocols, Rule> {
        check_text(s)?;
        match s {
            "ipv4" => Ok(Self::Ipv4),
            "ipv6" => Ok(Self::Ipv6),
            "all" => Ok(Self::All),
            _ => Err(Rule::new(
                "must be \"ipv4\", \"ipv6\" or \"all\" (postconf(5) inet_protocols)",
            )),
        }
    }
}

/// SPF `all` qualifier we publish (RFC 7208 §5.1): `~all` or `-all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpfAll {
    SoftFail,
    Fail,
}

impl SpfAll {
    /// The SPF term.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SoftFail => "~all",
            Self::Fail => "-all",
        }
    }

    /// Exactly `~all` or `-all`. `+all`/`?all` are refused: they authorize or ignore everyone.
    pub fn parse(s: &str) -> Result<SpfAll, Rule> {
        check_text(s)?;
        match s {
            "~all" => Ok(Self::SoftFail),
            "-all" => Ok(Self::Fail),
            _ => Err(Rule::new(
                "must be \"~all\" (soft fail) or \"-all\" (fail) (RFC 7208 §5.1)",
            )),
        }
    }
}

/// DMARC `p=` (RFC 7489 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DmarcPolicy {
    None,
    Quarantine,
    Reject,
}

impl DmarcPolicy {
    /// The `p=` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Quarantine => "quarantine",
            Self::Reject => "reject",
        }
    }

    /// Exactly `none`, `quarantine` or `reject` (lowercase).
    pub fn parse(s: &str) -> Result<DmarcPolicy, Rule> {
        check_text(s)?;
        match s {
            "none" => Ok(Self::None),
            "quarantine" => Ok(Self::Quarantine),
            "reject" => Ok(Self::Reject),
            _ => Err(Rule::new(
                "must be \"none\", \"quarantine\" or \"reject\" (RFC 7489 §6.3 p=)",
            )),
        }
    }
}

/// Which program signs outgoing mail (answers `signer`): OpenDKIM as a Postfix milter (the
/// default), or amavisd-new (`$enable_dkim_signing`, amavisd-new's README.dkim), with
/// OpenDKIM not wired in. One signer only: two sign every message twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Signer {
    #[default]
    Opendkim,
    AmavisdNew,
}

impl Signer {
    /// The answers value: `opendkim` or `amavisd-new`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Opendkim => "opendkim",
            Self::AmavisdNew => "amavisd-new",
        }
    }

    /// Exactly `opendkim` or `amavisd-new` (lowercase).
    pub fn parse(s: &str) -> Result<Signer, Rule> {
        check_text(s)?;
        match s {
            "opendkim" => Ok(Self::Opendkim),
            "amavisd-new" => Ok(Self::AmavisdNew),
            _ => Err(Rule::new(
                "must be \"opendkim\" or \"amavisd-new\": the one program that signs outgoing mail",
            )),
        }
    }
}
