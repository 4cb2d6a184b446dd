//! `Domain` (a DNS name in canonical A-label form) and `Selector` (a DKIM selector, one label).
//!
//! Rule sources: RFC 1035 §2.3.1 (preferred name syntax: LDH labels) and §2.3.4 (63-octet
//! labels, 255-octet names = 253 characters in text form), RFC 1123 §2.1 (labels may start
//! with a digit), RFC 3696 §2 (a TLD is not all-numeric), RFC 5890/5891 (IDNA2008 A-labels),
//! RFC 5892 §2 (IDNA2008 disallows symbols and punctuation), UTS #46 (mapping, non-transitional,
//! UseSTD3ASCIIRules), UTS #39 §5.1–§5.2 (mixed-script detection, restriction levels),
//! RFC 6376 §3.1 (selectors), RFC 5321 §4.1.2 (sub-domain syntax).
use std::fmt;
use std::net::IpAddr;

use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};

use super::{Rule, check_text};

mod scripts;
use scripts::check_scripts;

/// RFC 1035 §2.3.4: a label is at most 63 octets.
const MAX_LABEL: usize = 63;
/// RFC 1035 §2.3.4: a name is at most 255 octets on the wire, i.e. 253 characters as text.
const MAX_NAME: usize = 253;

/// A DNS domain name in A-label form, lowercase, no trailing dot (RFC 5890, UTS #46).
///
/// Invariant: matches `^[a-z0-9-]+(\.[a-z0-9-]+)+$`, every label 1–63 characters and not
/// starting or ending with `-`, at most 253 characters, TLD not all digits, every `xn--` label
/// valid punycode. This is the form for every file, path and DNS query; [`Domain::unicode`]
/// is for display only (reliability.md G4.2).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Domain(String);

impl Domain {
    /// Parses what an operator typed. Accepts ASCII names in any case (lowercased) and
    /// internationalized names given either as U-labels (`bücher.example`) or A-labels
    /// (`xn--bcher-kva.example`); the result is always the lowercase A-label form.
    ///
    /// Rejected, each with its own [`Rule`]: [`check_text`] failures; empty input; a trailing
    /// dot; an IP address; empty labels; characters outside `a-z 0-9 -` in ASCII labels; a label
    /// starting or ending with `-`; labels over 63 or names over 253 characters (measured on
    /// the A-label form); fewer than two labels; an all-digit TLD; `xn--` labels that are not
    /// valid punycode or decode to an invalid U-label.
    ///
    /// Unicode policy (decided here): the input must already be in its UTS #46-mapped form up
    /// to letter case. `Bücher.example` is accepted (case only), but full-width `ＡＢＣ.com`,
    /// compatibility characters, ideographic full stops and invisible characters (soft hyphen)
    /// are refused with "type it as …", so the name in the files is visibly the name typed.
    /// U-labels may contain only letters, combining marks and digits (plus ZWJ/ZWNJ where
    /// UTS #46 allows them and U+00B7 between two `l`, RFC 5892 Appendix A.3): UTS #46 would
    /// accept symbols such as U+298C (`xn--zz-zzz`) that IDNA2008 (RFC 5892 §2) disallows
    /// and no registry would hand out.
    ///
    /// Mixed scripts (UTS #39 §5.2): every internationalized label, typed as a U-label or
    /// decoded from an `xn--` A-label, must be at most "moderately restrictive": one script
    /// (Cyrillic `пример`, Japanese `日本語とカタカナ`), Latin with Han, Hiragana, Katakana or
    /// Hangul, or Latin with one other recommended script that is not Cyrillic or Greek.
    /// `exаmple` with a Cyrillic `а` (`xn--exmple-4nf`) or `exαmple` with a Greek `α` is
    /// refused, naming the scripts: it is a look-alike of another name. Whole-script
    /// confusables (an all-Cyrillic label that reads as Latin, §4) are not detected.
    pub fn parse(s: &str) -> Result<Domain, Rule> {
        check_text(s)?;
        if s.is_empty() {
            return Err(Rule::new(
                "must not be empty; write a domain such as example.org",
            ));
        }
        if s.ends_with('.') {
            let bare = s.trim_end_matches('.');
            return Err(if bare.is_empty() || bare.ends_with('.') {
                Rule::new("must not end with a dot (RFC 1035 §2.3.1)")
            } else {
                Rule(format!(
                    "must not end with a dot; write {bare:?} (names here are always fully \
                     qualified, so the root dot is left out)"
                ))
            });
        }
        if s.parse::<IpAddr>().is_ok() {
            return Err(Rule::new(
                "is an IP address; a domain name is required here",
            ));
        }
        for label in s.split('.') {
            check_label_shape(label)?;
        }
        // Punycode decoding is sensitive to letter case (RFC 3492 §5 mixed-case annotation), so
        // lowercase ASCII first: the name must read the same when parsed again.
        let lower = s.to_ascii_lowercase();
        let ascii = if lower.is_ascii() && !lower.split('.').any(is_xn) {
            lower
        } else {
            idn_to_ascii(&lower)?
        };
        check_name(&ascii)?;
        Ok(Domain(ascii))
    }

    /// The A-label form, e.g. `xn--bcher-kva.example`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The U-label form for display only, e.g. `bücher.example` (UTS #46 ToUnicode).
    pub fn unicode(&self) -> String {
        let (uni, ok) = Uts46::new().to_unicode(
            self.0.as_bytes(),
            AsciiDenyList::STD3,
            Hyphens::CheckFirstLast,
        );
        match ok {
            Ok(()) => uni.into_owned(),
            Err(_) => self.0.clone(),
        }
    }

    /// Is `self` equal to `zone` or below it? ("mail.example.org" is within "example.org")
    pub fn is_within(&self, zone: &Domain) -> bool {
        self.0 == zone.0 || self.0.ends_with(&format!(".{}", zone.0))
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Does the label start with the ACE prefix `xn--` (any case)? (RFC 5890 §2.3.1)
fn is_xn(label: &str) -> bool {
    label
        .as_bytes()
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"xn--"))
}

/// Checks one label as typed, before any IDNA processing, so the error names the precise rule.
/// Non-ASCII labels are left to UTS #46; `xn--` labels only get the character check here.
fn check_label_shape(label: &str) -> Result<(), Rule> {
    if label.is_empty() {
        return Err(Rule::new(
            "a label must not be empty: no leading dot and no two dots in a row (RFC 1035 §2.3.1)",
        ));
    }
    if !label.is_ascii() {
        return Ok(());
    }
    if let Some(c) = label
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Err(Rule(format!(
            "a label may contain only letters a-z, digits 0-9 and '-', found {c:?} \
             (RFC 1035 §2.3.1, RFC 1123 §2.1)"
        )));
    }
    if is_xn(label) {
        return Ok(());
    }
    check_ldh_label(label)
}

/// Hyphen position and length of one ASCII label (RFC 1035 §2.3.1, §2.3.4).
fn check_ldh_label(label: &str) -> Result<(), Rule> {
    if label.starts_with('-') || label.ends_with('-') {
        return Err(Rule::new(
            "a label must not start or end with '-' (RFC 1035 §2.3.1)",
        ));
    }
    if label.len() > MAX_LABEL {
        return Err(Rule(format!(
            "a label must be at most {MAX_LABEL} characters, found {} (RFC 1035 §2.3.4)",
            label.len()
        )));
    }
    Ok(())
}

/// The final checks on the lowercase A-label form; together they establish the `Domain`
/// invariant whatever path produced `ascii`.
fn check_name(ascii: &str) -> Result<(), Rule> {
    if ascii.len() > MAX_NAME {
        return Err(Rule(format!(
            "must be at most {MAX_NAME} characters in total, found {} (RFC 1035 §2.3.4)",
            ascii.len()
        )));
    }
    for label in ascii.split('.') {
        if label.is_empty() {
            return Err(Rule::new("a label must not be empty (RFC 1035 §2.3.1)"));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        {
            return Err(Rule(format!(
                "a label may contain only letters a-z, digits 0-9 and '-', found {c:?} \
                 (RFC 1035 §2.3.1)"
            )));
        }
        check_ldh_label(label)?;
    }
    let labels = ascii.split('.').count();
    if labels < 2 {
        return Err(Rule::new(
            "must have at least two labels, e.g. example.org (a fully qualified domain name)",
        ));
    }
    let tld = ascii.rsplit('.').next().unwrap_or_default();
    if tld.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Rule::new(
            "the top-level label must not be all digits (RFC 3696 §2); \
             an IP address is not a domain name",
        ));
    }
    Ok(())
}

/// UTS #46 processing (non-transitional, UseSTD3ASCIIRules, hyphens checked at the label
/// ends) plus this module's stricter policy; returns the lowercase A-label form.
fn idn_to_ascii(s: &str) -> Result<String, Rule> {
    let uts46 = Uts46::new();
    let (uni, ok) = uts46.to_unicode(s.as_bytes(), AsciiDenyList::STD3, Hyphens::CheckFirstLast);
    if ok.is_err() {
        return Err(explain_uts46_failure(&uts46, s));
    }
    let typed: Vec<&str> = s.split('.').collect();
    let mapped: Vec<&str> = uni.split('.').collect();
    let unchanged = typed.len() == mapped.len()
        && typed
            .iter()
            .zip(&mapped)
            .all(|(t, m)| is_xn(t) || *t == *m || t.to_lowercase() == *m);
    if !unchanged {
        return Err(Rule(format!(
            "is not written in its normal form; type it as {:?} (full-width, compatibility \
             and invisible characters are refused: UTS #46 §4 maps them)",
            uni.trim_end_matches('.')
        )));
    }
    for (t, m) in typed.iter().zip(&mapped) {
        // A decoded label with "--" in positions 3 and 4 is not a U-label (RFC 5891 §4.2.3.1);
        // left alone it would decode to something that does not parse back.
        // An A-label must decode to a U-label that UTS #46 leaves as it is (RFC 5891 §5.4);
        // otherwise its display form would not parse back to it.
        if is_xn(t) {
            let (again, ok) =
                uts46.to_unicode(m.as_bytes(), AsciiDenyList::STD3, Hyphens::CheckFirstLast);
            if ok.is_err() || again != *m {
                return Err(Rule(format!(
                    "label {t:?} decodes to {m:?}, which is not in normal form \
                     (RFC 5891 §5.4, UTS #46 §4)"
                )));
            }
        }
        let international = is_xn(t) || !t.is_ascii();
        if international && m.chars().nth(2) == Some('-') && m.chars().nth(3) == Some('-') {
            return Err(Rule(format!(
                "label {m:?} has \"--\" in positions 3 and 4, which an internationalized \
                 label may not have (RFC 5891 §4.2.3.1)"
            )));
        }
        check_u_label(&uts46, t, m)?;
        check_scripts(t, m)?;
    }
    let ascii = uts46
        .to_ascii(
            s.as_bytes(),
            AsciiDenyList::STD3,
            Hyphens::CheckFirstLast,
            DnsLength::Ignore,
        )
        .map_err(|_| Rule::new("is not a valid internationalized domain name (UTS #46 §4)"))?;
    Ok(ascii.to_ascii_lowercase())
}

/// Names the first label UTS #46 rejects, and why, as precisely as the idna crate allows.
fn explain_uts46_failure(uts46: &Uts46, s: &str) -> Rule {
    for label in s.split('.') {
        let (_, ok) = uts46.to_unicode(
            label.as_bytes(),
            AsciiDenyList::STD3,
            Hyphens::CheckFirstLast,
        );
        if ok.is_ok() {
            continue;
        }
        return if is_xn(label) {
            Rule(format!(
                "label {label:?} is not valid punycode or does not decode to a valid \
                 internationalized label (RFC 3492, RFC 5891 §5.4, UTS #46 §4.1)"
            ))
        } else {
            Rule(format!(
                "label {label:?} is refused by UTS #46 §4.1: a character not allowed in \
                 domain names, a combining mark at the start, or a right-to-left rule \
                 (RFC 5893)"
            ))
        };
    }
    Rule::new(
        "is not a valid internationalized domain name: the bidirectional or joiner rules \
         fail (UTS #46 §4.1, RFC 5893)",
    )
}

/// IDNA2008 letters/marks/digits policy for one (already UTS #46-valid) U-label `m`,
/// typed as `t`.
fn check_u_label(uts46: &Uts46, t: &str, m: &str) -> Result<(), Rule> {
    let chars: Vec<char> = m.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let catalan_middle_dot =
            c == '\u{b7}' && i > 0 && chars[i - 1] == 'l' && chars.get(i + 1) == Some(&'l');
        let ok = c.is_ascii()
            || c.is_alphanumeric()
            || matches!(c, '\u{200c}' | '\u{200d}')
            || catalan_middle_dot
            || is_mark(uts46, c);
        if !ok {
            let from = if t == m {
                String::new()
            } else {
                format!(" (from {t:?})")
            };
            return Err(Rule(format!(
                "label {m:?}{from} contains {c:?} (U+{:04X}), which is not a letter, mark \
                 or digit; IDNA2008 does not allow symbols or punctuation (RFC 5892 §2)",
                u32::from(c)
            )));
        }
    }
    Ok(())
}

/// Is `c` a combining mark (General_Category M)? std has no such query, so this asks UTS #46,
/// which refuses a label that begins with a mark (§4.1 criterion 5) but accepts it after a letter.
fn is_mark(uts46: &Uts46, c: char) -> bool {
    let ascii = |s: &str| {
        uts46
            .to_ascii(
                s.as_bytes(),
                AsciiDenyList::STD3,
                Hyphens::CheckFirstLast,
                DnsLength::Ignore,
            )
            .is_ok()
    };
    !ascii(&c.to_string()) && ascii(&format!("a{c}"))
}

/// A DKIM selector (RFC 6376 §3.1), restricted to one DNS label `[a-z0-9][a-z0-9-]{0,62}`
/// that also does not end with `-` (RFC 5321 §4.1.2 sub-domain).
///
/// Dots are legal in DKIM selectors but refused here so key file names stay one level deep
/// (reliability.md G4.3). Uppercase ASCII is accepted and lowercased (DNS is case-insensitive,
/// RFC 4343), so the file names and the DNS record always agree.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Selector(String);

impl Selector {
    /// Errors: [`check_text`] failures, empty, a dot, characters outside `a-z 0-9 -`,
    /// a leading or trailing `-`, more than 63 characters.
    pub fn parse(s: &str) -> Result<Selector, Rule> {
        check_text(s)?;
        if s.is_empty() {
            return Err(Rule::new("must not be empty; the default is \"mail\""));
        }
        if s.contains('.') {
            return Err(Rule::new(
                "must be a single label without dots (mailsetup keeps key file names one \
                 level deep), e.g. \"mail\" or \"mail2024\"",
            ));
        }
        let lower = s.to_ascii_lowercase();
        if let Some(c) = lower
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        {
            return Err(Rule(format!(
                "may contain only letters a-z, digits 0-9 and '-', found {c:?} \
                 (RFC 6376 §3.1, RFC 5321 §4.1.2)"
            )));
        }
        if lower.starts_with('-') || lower.ends_with('-') {
            return Err(Rule::new(
                "must not start or end with '-' (RFC 5321 §4.1.2)",
            ));
        }
        if lower.len() > MAX_LABEL {
            return Err(Rule(format!(
                "must be at most {MAX_LABEL} characters, found {} (RFC 1035 §2.3.4)",
                lower.len()
            )));
        }
        Ok(Selector(lower))
    }

    /// The selector, lowercase.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Selector {
    /// `mail`, the answers file default.
    fn default() -> Selector {
        Selector("mail".to_string())
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
