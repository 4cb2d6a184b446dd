//! Strict syntax of one SPF record (RFC 7208 §4.5, §12 ABNF) and the permissive-`all`
//! check (§5.1). Pure functions over the record text; no DNS.
//!
//! A record is bad if any of three checks rejects it: our own term shape (§12 names, §5.6
//! CIDR lengths, §7.1 `domain-end`), mail-auth's parser (the evaluator receivers like
//! Stalwart use; lenient about IP addresses), and decon-spf's parser and validation
//! (strict about IP addresses, but wrong about some valid terms and stricter than the RFC
//! in places: it is asked only what it judges reliably, see [`decon_judges`] and
//! [`decon_whole`]).

use std::str::FromStr;

use decon_spf::SpfError;
use mail_auth::common::parse::TxtRecordParser;
use mail_auth::spf::{Mechanism, Qualifier, Spf};

use crate::check::txt::is_spf;
use crate::dns::sanitize;

/// Mechanism names (RFC 7208 §12 `mechanism`), lowercase; matched case-insensitively.
const MECHANISMS: [&str; 8] = ["all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"];

/// Strict syntax check of one SPF record text: `Ok(())`, or a one-line reason naming the
/// offending term (record text in the reason is sanitized for display).
///
/// Rules, each an error:
/// - the record does not start with `v=spf1` and a space or its end (RFC 7208 §4.5);
/// - a character other than SP and `%x21-7E` (§12: terms are separated by `1*SP`,
///   macro-strings are visible ASCII);
/// - a term that is neither `[qualifier] mechanism` with a known mechanism name nor
///   `name=value` with a valid name and no qualifier (§12 `directive` / `modifier`);
/// - a literal domain-spec that does not end in `.toplabel` (§7.1 `domain-end`), or has
///   an empty or over-long label (§4.3);
/// - a CIDR length out of range or with a leading zero, or on a mechanism that takes none
///   (§5.6);
/// - a term that mail-auth's or decon-spf's parser rejects (bad IP address, bad macro, a
///   mechanism without its required `:domain`);
/// - `redirect=` or `exp=` given twice (§6: each MUST NOT appear more than once);
/// - `redirect=` together with `all` (§6.1: the redirect is then ignored; decon-spf flags it).
pub(in crate::check) fn syntax(record: &str) -> Result<(), String> {
    if !is_spf(record) {
        return Err("the record does not start with \"v=spf1\" (RFC 7208 §4.5)".into());
    }
    if let Some(c) = record.chars().find(|c| *c != ' ' && !c.is_ascii_graphic()) {
        return Err(format!(
            "the record contains {}; terms are separated by plain spaces and use visible \
             ASCII only (RFC 7208 §12)",
            describe_char(c)
        ));
    }
    let terms: Vec<&str> = record
        .split(' ')
        .skip(1)
        .filter(|t| !t.is_empty())
        .collect();
    for term in &terms {
        check_term(term).map_err(|why| format!("`{}` {why}", sanitize(term)))?;
    }
    for modifier in ["redirect", "exp"] {
        let n = terms
            .iter()
            .filter(|t| modifier_name(t) == Some(modifier))
            .count();
        if n > 1 {
            return Err(format!(
                "`{modifier}=` appears {n} times; it may appear at most once (RFC 7208 §6)"
            ));
        }
    }
    if Spf::parse(record.as_bytes()).is_err() {
        return Err("mail-auth's SPF parser rejects the record (RFC 7208 §12)".into());
    }
    decon_whole(&terms)
}

/// `Some("+all")` / `Some("?all")` when the record's first `all` mechanism has the `+`
/// (or no) qualifier or `?`: it then passes / is neutral for every sender not matched
/// before it (RFC 7208 §5.1; mechanisms after the first `all` are never evaluated, §4.6.2).
/// `None` for `-all`, `~all`, no `all`, or a record mail-auth's parser rejects (a
/// receiver's permerror; [`syntax`] reports it).
pub(in crate::check) fn permissive_all(record: &str) -> Option<&'static str> {
    let spf = Spf::parse(record.as_bytes()).ok()?;
    let all = spf
        .directives
        .iter()
        .find(|d| d.mechanism == Mechanism::All)?;
    match all.qualifier {
        Qualifier::Pass => Some("+all"),
        Qualifier::Neutral => Some("?all"),
        Qualifier::Fail | Qualifier::SoftFail => None,
    }
}

/// One term (not the version), already known to be visible ASCII: `Err(reason)`.
fn check_term(term: &str) -> Result<(), String> {
    let body = term.strip_prefix(['+', '-', '~', '?']).unwrap_or(term);
    let qualified = body.len() != term.len();
    let end = body.find([':', '/', '=']).unwrap_or(body.len());
    let (name, rest) = body.split_at(end);
    if let Some(value) = rest.strip_prefix('=') {
        // modifier = name "=" macro-string; name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
        let valid_name = name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid_name {
            return Err("is not a valid modifier (RFC 7208 §12 `name`)".into());
        }
        if qualified {
            return Err("is a modifier and cannot have a qualifier (RFC 7208 §12)".into());
        }
        if name.eq_ignore_ascii_case("redirect") {
            domain_spec_ok(value)?;
        }
    } else {
        let lower = name.to_ascii_lowercase();
        if !MECHANISMS.contains(&lower.as_str()) {
            return Err("is not an SPF mechanism or modifier (RFC 7208 §12)".into());
        }
        let (value, cidr) = match rest.split_once('/') {
            Some((value, cidr)) => (value, Some(cidr)),
            None => (rest, None),
        };
        if let Some(cidr) = cidr
            && !cidr_ok(&lower, cidr)
        {
            return Err(
                "has an invalid CIDR prefix length (IPv4 0-32, IPv6 0-128, no leading \
                        zeros; only ip4, ip6, a and mx take one; RFC 7208 §5.6)"
                    .into(),
            );
        }
        let spec = value.strip_prefix(':');
        let takes_domain = matches!(lower.as_str(), "include" | "exists" | "a" | "mx" | "ptr");
        if let Some(spec) = spec.filter(|_| takes_domain) {
            domain_spec_ok(spec)?;
        }
    }
    if Spf::parse(format!("v=spf1 {term}").as_bytes()).is_err() {
        return Err("is not a valid SPF term (mail-auth's parser rejects it, RFC 7208 §12)".into());
    }
    if !decon_judges(term) {
        return Ok(());
    }
    decon_spf::Spf::<String>::from_str(&format!("v=spf1 {}", term.to_ascii_lowercase()))
        .map(|_| ())
        .map_err(|e| format!("is not a valid SPF term: {}", one_line(&e)))
}

/// Does decon-spf 0.3.3 judge this term reliably? Yes for `ip4`, `ip6` (it parses the
/// network), `include`, `all` and `redirect=`. No for:
/// - `a`, `mx`, `ptr`, `exists` with a target or CIDR: its regexes reject valid terms
///   such as `a:%{d}`, `a:_x.example.org`, `a//64`, `ptr:mail-gw.example.org`; these are
///   judged by [`domain_spec_ok`], [`cidr_ok`] and mail-auth's macro parser;
/// - modifiers other than `redirect=`: it rejects `exp=` (§6.2) and unknown modifiers,
///   which RFC 7208 §6 allows (receivers MUST ignore them).
fn decon_judges(term: &str) -> bool {
    if let Some(name) = modifier_name(term) {
        return name == "redirect";
    }
    let body = term.strip_prefix(['+', '-', '~', '?']).unwrap_or(term);
    let name = body.split([':', '/']).next().unwrap_or(body);
    match name.to_ascii_lowercase().as_str() {
        "ip4" | "ip6" | "include" => true,
        "all" | "a" | "mx" | "ptr" => body.len() == name.len(),
        _ => false,
    }
}

/// The lowercase name of a modifier term (`name=…` with no qualifier), else `None`.
fn modifier_name(term: &str) -> Option<&'static str> {
    let (name, _) = term.split_once('=')?;
    if name.contains([':', '/']) {
        return None;
    }
    let name = name.to_ascii_lowercase();
    Some(match name.as_str() {
        "redirect" => "redirect",
        "exp" => "exp",
        _ => "other",
    })
}

/// The text after the first `/` of a term: `ip4-cidr-length` (0-32) for `ip4`,
/// `ip6-cidr-length` (0-128) for `ip6`, `dual-cidr-length` for `a` and `mx`
/// (`N`, `N//M` or `/M`); no other mechanism takes one (RFC 7208 §5.6, §12).
fn cidr_ok(mechanism: &str, cidr: &str) -> bool {
    let len_ok = |s: &str, max: u32| {
        let digits = !s.is_empty() && s.len() <= 3 && s.chars().all(|c| c.is_ascii_digit());
        digits && (s == "0" || !s.starts_with('0')) && s.parse::<u32>().is_ok_and(|n| n <= max)
    };
    match mechanism {
        "ip4" => len_ok(cidr, 32),
        "ip6" => len_ok(cidr, 128),
        "a" | "mx" => match cidr.strip_prefix('/') {
            Some(v6) => len_ok(v6, 128),
            None => match cidr.split_once("//") {
                Some((v4, v6)) => len_ok(v4, 32) && len_ok(v6, 128),
                None => len_ok(cidr, 32),
            },
        },
        _ => false,
    }
}

/// A domain-spec (the target of `include`, `a`, `mx`, `ptr`, `exists`, `redirect=`):
/// - RFC 7208 §7.1: `domain-end = ( "." toplabel [ "." ] ) / macro-expand`, where
///   `toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )`
///   (a trailing dot after a macro is tolerated);
/// - without macros, a valid name: no empty label, labels of at most 63 octets (§4.3,
///   RFC 1035 §2.3.4).
fn domain_spec_ok(spec: &str) -> Result<(), String> {
    let spec = spec.strip_suffix('.').unwrap_or(spec);
    if !spec.contains('%') && spec.split('.').any(|l| l.is_empty() || l.len() > 63) {
        return Err(
            "names an invalid domain: an empty label or one longer than 63 \
                    characters (RFC 7208 §4.3)"
                .into(),
        );
    }
    if domain_end_ok(spec) {
        Ok(())
    } else {
        Err("does not name a domain ending in a top-level label, e.g. \
             `_spf.example.org` (RFC 7208 §7.1 domain-end)"
            .into())
    }
}

/// The `domain-end` rule of [`domain_spec_ok`], on a spec without its trailing dot.
fn domain_end_ok(spec: &str) -> bool {
    if (spec.ends_with('}') && spec.contains("%{"))
        || ["%%", "%_", "%-"].iter().any(|m| spec.ends_with(m))
    {
        return true;
    }
    let Some((_, top)) = spec.rsplit_once('.') else {
        return false;
    };
    let alnum_dash = !top.is_empty() && top.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let ends_alnum = !top.starts_with('-') && !top.ends_with('-');
    let has_alpha = top.chars().any(|c| c.is_ascii_alphabetic());
    alnum_dash && ends_alnum && (has_alpha || top.contains('-'))
}

/// decon-spf on the whole record: its parser (duplicate modifiers) and `validate()`.
/// The record is given lowercased (decon-spf matches names case-sensitively, RFC 7208 §12
/// names are case-insensitive), single-spaced, without the modifiers it does not know.
/// Of its verdicts only these are reported; the others are not syntax errors:
/// - `DeprecatedPtrDetected`: `ptr` is SHOULD NOT (§5.5), valid syntax;
/// - `LookupLimitExceeded`: counted over the whole tree by `walk` (§4.6.4);
/// - `WhiteSpaceSyntaxError`: §12 allows `1*SP` between terms and trailing `*SP`;
/// - `RedirectNotFinalMechanism`: modifiers SHOULD come last (§6), not MUST;
/// - `SourceLengthExceeded` (512): §3.4 only advises keeping answers small.
fn decon_whole(terms: &[&str]) -> Result<(), String> {
    let known: Vec<String> = terms
        .iter()
        .filter(|t| decon_judges(t))
        .map(|t| t.to_ascii_lowercase())
        .collect();
    let text = format!("v=spf1 {}", known.join(" "));
    let parsed = match decon_spf::Spf::<String>::from_str(text.trim_end()) {
        Ok(parsed) => parsed,
        Err(e) if reportable(&e) => return Err(format!("the record is invalid: {}", one_line(&e))),
        Err(_) => return Ok(()),
    };
    let Err(errors) = parsed.validate() else {
        return Ok(());
    };
    match errors.errors().iter().find(|e| reportable(e)) {
        Some(SpfError::RedirectWithAllMechanism) => Err(
            "`redirect=` is ignored because the record has an `all` mechanism (RFC 7208 §6.1)"
                .into(),
        ),
        Some(e) => Err(format!("the record is invalid: {}", one_line(e))),
        None => Ok(()),
    }
}

/// Is this decon-spf verdict a syntax error under RFC 7208? (See [`decon_whole`].)
fn reportable(e: &SpfError) -> bool {
    !matches!(
        e,
        SpfError::DeprecatedPtrDetected
            | SpfError::LookupLimitExceeded
            | SpfError::WhiteSpaceSyntaxError
            | SpfError::RedirectNotFinalMechanism
            | SpfError::SourceLengthExceeded
    )
}

/// decon-spf's message, first line only, sanitized (it quotes record text).
fn one_line(e: &SpfError) -> String {
    let text = e.to_string();
    sanitize(text.lines().next().unwrap_or(""))
}

/// A character for a message: visible ones quoted, others as `U+XXXX`.
fn describe_char(c: char) -> String {
    match c {
        '\t' => "a tab".into(),
        '\r' | '\n' => "a line break".into(),
        c if c.is_control() || !c.is_ascii() => format!("the character U+{:04X}", c as u32),
        c => format!("{c:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_records() {
        for record in [
            "v=spf1",
            "v=spf1 -all",
            "V=SPF1 IP4:192.0.2.25 MX -ALL",
            "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx ~all",
            "v=spf1 a:mail.example.org/24 mx:example.org//64 a/28 mx/0//0 a//128 -all",
            "v=spf1 include:_spf.example.net ?all",
            "v=spf1 exists:%{i}._spf.%{d} -all",
            "v=spf1 include:%{d2} -all",
            "v=spf1 redirect=_spf.example.org",
            "v=spf1 mx exp=explain._spf.%{d} -all",
            "v=spf1 mx foo-bar=baz -all",
            "v=spf1  mx   -all ",
            "v=spf1 ptr -all",
            "v=spf1 include:example.org. -all",
            "v=spf1 a:host.123-456 -all",
            "v=spf1 a//128 mx//64 ptr:mail-gw.example.org a:_x.example.org -all",
            "v=spf1 a:%{d} mx:%{o} a:%{ir}.example.org exists:%{i}.%{v}._spf.example.org -all",
            "v=spf1 ip4:192.0.2.1/24 ip6:::ffff:192.0.2.1 ip6:2001:db8::1/64 -all",
            "v=spf1 redirect=%{d}._spf.example.org",
            "v=spf1 mx -all exp=x.example.org",
        ] {
            assert_eq!(syntax(record), Ok(()), "{record}");
        }
    }

    #[test]
    fn bad_records() {
        for (record, why) in [
            ("v=spf1 ip4:192.0.2.300 -all", "`ip4:192.0.2.300`"),
            ("v=spf1 ip4:192.0.2.0/33 -all", "`ip4:192.0.2.0/33`"),
            ("v=spf1 ip6:192.0.2.1 -all", "`ip6:192.0.2.1`"),
            ("v=spf1 ip4:010.0.0.1 -all", "invalid address"),
            ("v=spf1 ip4:192.0.2 -all", "`ip4:192.0.2`"),
            ("v=spf1 ip6:2001:db8:::1 -all", "invalid address"),
            ("v=spf1 include:foo..example.org -all", "empty label"),
            ("v=spf1 ip6:2001:db8::/129 -all", "CIDR"),
            ("v=spf1 a/024 -all", "CIDR"),
            ("v=spf1 mx/24//129 -all", "CIDR"),
            ("v=spf1 include:example.org/24 -all", "CIDR"),
            ("v=spf1 include -all", "`include`"),
            ("v=spf1 include: -all", "`include:`"),
            ("v=spf1 foo:bar -all", "`foo:bar` is not an SPF mechanism"),
            ("v=spf1 xinclude:example.org -all", "`xinclude:example.org`"),
            ("v=spf1 :foo -all", "`:foo`"),
            ("v=spf1 -all redirect=_spf.example.org", "ignored"),
            ("v=spf1 redirect=_spf.example.org -all", "ignored"),
            (
                "v=spf1 redirect=a.example.org redirect=b.example.org",
                "2 times",
            ),
            (
                "v=spf1 exp=a.example.org exp=b.example.org -all",
                "`exp=` appears",
            ),
            ("v=spf1 -redirect=_spf.example.org", "qualifier"),
            ("v=spf1 1x=y -all", "modifier"),
            ("v=spf1 include:_spf -all", "domain-end"),
            ("v=spf1 a:example.123 -all", "domain-end"),
            ("v=spf1 redirect=nodot", "domain-end"),
            (
                "v=spf1 exists:%{q}.example.org -all",
                "`exists:%{q}.example.org`",
            ),
            ("v=spf1 mx\t-all", "a tab"),
            ("v=spf1 a:b\u{e9}.example.org -all", "U+00E9"),
            ("v=spf10 -all", "v=spf1"),
            ("spf2.0/pra -all", "v=spf1"),
        ] {
            let err = syntax(record).expect_err(record);
            assert!(err.contains(why), "{record}: {err}");
            assert!(!err.contains('\n'), "{record}: {err}");
        }
    }

    #[test]
    fn reasons_are_sanitized() {
        let err = syntax("v=spf1 foo\u{1b}[31m:bar -all").expect_err("ESC");
        assert!(err.contains("the character U+001B"), "{err}");
        let err = syntax("v=spf1 a:x.example.org/99 -all").expect_err("cidr");
        assert!(
            err.contains("`a:x.example.org/99` has an invalid CIDR"),
            "{err}"
        );
    }

    #[test]
    fn permissive_all_table() {
        for (record, expected) in [
            ("v=spf1 +all", Some("+all")),
            ("v=spf1 all", Some("+all")),
            ("v=spf1 mx ALL", Some("+all")),
            ("v=spf1 ?all", Some("?all")),
            ("v=spf1 mx ~all", None),
            ("v=spf1 mx -all", None),
            ("v=spf1 -all +all", None),
            ("v=spf1 ?all -all", Some("?all")),
            ("v=spf1 mx redirect=_spf.example.org", None),
            ("v=spf1 include +all", None),
        ] {
            assert_eq!(permissive_all(record), expected, "{record}");
        }
    }

    proptest::proptest! {
        /// Neither parser panics on anything made of SPF-ish pieces, and the verdict is one line.
        #[test]
        fn never_panics(terms in proptest::collection::vec(
            "[-+~?]?(a|mx|ptr|all|include|exists|ip4|ip6|redirect|exp|x)([:=/][ -~]{0,12})?", 0..6)
        ) {
            let record = format!("v=spf1 {}", terms.join(" "));
            if let Err(e) = syntax(&record) {
                proptest::prop_assert!(!e.contains('\n'));
            }
            let _ = permissive_all(&record);
        }
    }
}
