//! Table-driven tests for `Domain` and `Selector`, plus the T4.1 property.
use proptest::prelude::*;

use super::tests::rejects;
use super::*;

#[test]
fn domain_valid() {
    let long_label = "a".repeat(63);
    let long_name = format!("{0}.{0}.{0}.{1}.com", "a".repeat(63), "b".repeat(57));
    assert_eq!(long_name.len(), 253);
    let cases: Vec<(&str, &str)> = vec![
        ("example.org", "example.org"),
        ("Mail.Example.ORG", "mail.example.org"),
        ("1example.com", "1example.com"),
        ("a-b.example", "a-b.example"),
        ("ab--cd.com", "ab--cd.com"),
        ("example.xn--p1ai", "example.xn--p1ai"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("Bücher.example", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("XN--BCHER-KVA.Example", "xn--bcher-kva.example"),
        ("faß.de", "xn--fa-hia.de"), // non-transitional: ß kept, not mapped to ss
        ("日本.jp", "xn--wgv71a.jp"),
        ("हिन्दी.example", "xn--j2bd4cyah0f.example"), // virama (a mark) accepted
        ("ร้าน.example", "xn--q3ct9b5e.example"),      // Thai tone mark accepted
        ("col·legi.cat", "xn--collegi-xma.cat"),      // RFC 5892 A.3 middle dot
        ("مثال.example", "xn--mgbh0fb.example"),
        (&long_label, ""),
    ];
    for (input, want) in &cases[..cases.len() - 1] {
        let d = Domain::parse(input).unwrap_or_else(|r| panic!("{input:?} rejected: {r}"));
        assert_eq!(d.as_str(), *want, "{input:?}");
        assert_eq!(d.to_string(), *want);
    }
    let ok = format!("{long_label}.com");
    assert_eq!(Domain::parse(&ok).map(|d| d.as_str().len()), Ok(67));
    assert_eq!(Domain::parse(&long_name).map(|d| d.as_str().len()), Ok(253));
}

#[test]
fn domain_invalid() {
    let label64 = format!("{}.com", "a".repeat(64));
    let name254 = format!("{0}.{0}.{0}.{1}.com", "a".repeat(63), "b".repeat(58));
    let a_label_too_long = format!("{}ü.com", "a".repeat(60)); // 61 chars, A-label longer
    let cases: &[(&str, &str)] = &[
        ("", "must not be empty"),
        ("a.com\nsmtpd_milters=x", "control characters"),
        ("a.com\r", "control characters"),
        ("a.com\u{85}", "control characters"),
        ("a.com\u{7f}", "control characters"),
        ("a.com\u{2028}", "line or paragraph separator"),
        ("a.com\u{2029}", "line or paragraph separator"),
        ("a.com #", "'#'"),
        ("a.com#x", "'#'"),
        (" a.com", "whitespace"),
        ("a.com ", "whitespace"),
        ("a.com\u{a0}", "whitespace"),
        ("a.com|.*", "found '|'"),
        ("a.com.*", "found '*'"),
        ("a(b).com", "found '('"),
        ("a_b.com", "found '_'"),
        ("a b.com", "found ' '"),
        ("a/b.com", "found '/'"),
        ("../../etc", "label must not be empty"),
        ("a..com", "label must not be empty"),
        (".a.com", "label must not be empty"),
        ("-a.com", "must not start or end with '-'"),
        ("a-.com", "must not start or end with '-'"),
        ("a.-com", "must not start or end with '-'"),
        ("a.com.", "must not end with a dot; write \"a.com\""),
        ("a.com..", "must not end with a dot"),
        (".", "must not end with a dot"),
        (&label64, "at most 63 characters, found 64"),
        (&name254, "at most 253 characters in total, found 254"),
        (&a_label_too_long, "at most 63 characters"),
        ("localhost", "at least two labels"),
        ("com", "at least two labels"),
        ("1.2.3.4", "is an IP address"),
        ("::1", "is an IP address"),
        ("2001:db8::1", "is an IP address"),
        ("1.2.3.400", "top-level label must not be all digits"),
        ("example.123", "top-level label must not be all digits"),
        ("xn--", "not valid punycode"),
        ("xn--.com", "not valid punycode"),
        ("xn--abc.com", "not valid punycode"),
        ("xn--a.com", "not valid punycode"),
        ("xn--abc-.com", "not valid punycode"),
        ("xn--zz-zzz.com", "not a letter, mark or digit"),
        ("xn--ls8h.la", "not a letter, mark or digit"),
        ("💩.la", "not a letter, mark or digit"),
        ("a⦌b.com", "not a letter, mark or digit"),
        ("ＡＢＣ.com", "type it as \"abc.com\""),
        ("ａｂｃ.com", "type it as \"abc.com\""),
        ("a\u{ad}b.com", "type it as \"ab.com\""), // soft hyphen (ignored by UTS #46)
        ("a\u{200b}b.com", "UTS #46"),             // zero-width space: disallowed
        ("a。b.com", "type it as \"a.b.com\""),    // ideographic full stop
        ("a\u{301}.com", "type it as \"á.com\""),  // not NFC
        ("\u{301}a.com", "refused by UTS #46"),    // leading combining mark
        ("٣.com", "refused by UTS #46"),           // bidi rule
        ("ⅻ.com", "type it as \"xii.com\""),       // compatibility character
    ];
    for (input, needle) in cases {
        rejects(input, Domain::parse(input), needle);
    }
}

/// UTS #39 §5.2: a label that mixes scripts beyond "moderately restrictive" is refused,
/// whether typed as a U-label or as its `xn--` A-label; single-script labels (any script),
/// Latin with Han/Kana/Hangul, and Latin with one recommended script other than Cyrillic and
/// Greek pass.
#[test]
fn mixed_script_labels() {
    let refused: &[(&str, &str)] = &[
        (
            "ex\u{430}mple.org",
            "label \"ex\u{430}mple\" mixes scripts (Latin, Cyrillic); '\u{430}' (U+0430) is \
             Cyrillic: a look-alike of another name (UTS #39 §5.2",
        ),
        (
            "xn--exmple-4nf.org",
            "label \"ex\u{430}mple\" (from \"xn--exmple-4nf\") mixes scripts (Latin, Cyrillic)",
        ),
        (
            "XN--EXMPLE-4NF.org",
            "(from \"xn--exmple-4nf\") mixes scripts (Latin, Cyrillic)",
        ),
        (
            "ex\u{3b1}mple.org",
            "mixes scripts (Latin, Greek); '\u{3b1}' (U+03B1) is Greek",
        ),
        (
            "mail.ex\u{430}mple.org",
            "label \"ex\u{430}mple\" mixes scripts",
        ),
        ("example.\u{43e}rg", "mixes scripts"),
        (
            "\u{43f}\u{440}\u{438}\u{43c}\u{435}\u{440}-test.org",
            "mixes scripts (Cyrillic, Latin)",
        ),
        ("\u{3b1}\u{430}.com", "mixes scripts (Greek, Cyrillic)"),
        ("\u{570}\u{430}.com", "mixes scripts (Armenian, Cyrillic)"),
        ("a\u{30}\u{439}.com", "mixes scripts (Latin, Cyrillic)"),
    ];
    for (input, needle) in refused {
        rejects(input, Domain::parse(input), needle);
    }
    let accepted = [
        "example.org",
        "\u{43f}\u{440}\u{438}\u{43c}\u{435}\u{440}.\u{440}\u{444}", // пример.рф
        "\u{43f}\u{440}\u{438}\u{43c}\u{435}\u{440}-\u{442}\u{435}\u{441}\u{442}.\u{440}\u{444}",
        "xn--e1afmkfd.xn--p1ai", // пример.рф as A-labels
        "\u{65e5}\u{672c}\u{8a9e}\u{3068}\u{30ab}\u{30bf}\u{30ab}\u{30ca}.jp", // Han, Hiragana, Katakana
        "\u{4f8b}\u{3048}.jp",
        "\u{d55c}\u{ad6d}\u{c5b4}.kr",
        "\u{3b5}\u{3bb}\u{3bb}\u{3b7}\u{3bd}\u{3b9}\u{3ba}\u{3ac}.gr",
        "\u{65e5}\u{672c}abc.jp", // highly restrictive: Latin + Han
        "\u{d55c}\u{ad6d}abc.kr", // highly restrictive: Latin + Hangul
        "abc\u{939}\u{93f}\u{928}\u{94d}\u{926}\u{940}.example", // moderately restrictive: Latin + Devanagari
        "b\u{fc}cher.example",
        "col\u{b7}legi.cat",
    ];
    for input in accepted {
        let d = Domain::parse(input).unwrap_or_else(|r| panic!("{input:?} rejected: {r}"));
        assert_eq!(Domain::parse(&d.unicode()), Ok(d.clone()), "{input:?}");
    }
}

#[test]
fn domain_unicode_and_within() {
    let d = Domain::parse("xn--bcher-kva.example").expect("valid");
    assert_eq!(d.unicode(), "bücher.example");
    assert_eq!(
        Domain::parse("example.org").expect("valid").unicode(),
        "example.org"
    );
    let zone = Domain::parse("example.org").expect("valid");
    let host = Domain::parse("mail.example.org").expect("valid");
    let other = Domain::parse("badexample.org").expect("valid");
    assert!(host.is_within(&zone));
    assert!(zone.is_within(&zone));
    assert!(!other.is_within(&zone));
    assert!(!zone.is_within(&host));
}

proptest! {
    /// T4.1: for arbitrary Unicode, `Domain::parse` errors or yields `^[a-z0-9.-]+$`.
    #[test]
    fn domain_parse_is_ascii_ldh(s in any::<String>()) {
        if let Ok(d) = Domain::parse(&s) {
            prop_assert!(!d.as_str().is_empty());
            prop_assert!(d.as_str().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-'), "{:?}", d);
        }
    }

    /// The same, on inputs built from domain-like pieces so the success path is exercised;
    /// also: a parsed domain parses again to itself.
    #[test]
    fn domain_parse_is_idempotent(s in "([a-zA-Z0-9-]{0,8}|xn--[a-z0-9-]{0,8}|[äöüßé日本\u{ff21}\u{3002}\u{ad}.#\n ]){1,6}(\\.[a-zA-Z0-9-]{1,6}){0,3}") {
        if let Ok(d) = Domain::parse(&s) {
            prop_assert!(d.as_str().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-'), "{:?}", d);
            prop_assert_eq!(Domain::parse(d.as_str()), Ok(d.clone()));
            prop_assert_eq!(Domain::parse(&d.unicode()), Ok(d));
        }
    }
}

#[test]
fn selector_cases() {
    for (input, want) in [
        ("mail", "mail"),
        ("Mail2024", "mail2024"),
        ("2024", "2024"),
        ("s-1", "s-1"),
    ] {
        assert_eq!(
            Selector::parse(input).map(|s| s.to_string()),
            Ok(want.to_string())
        );
    }
    assert_eq!(Selector::default().as_str(), "mail");
    let long = "a".repeat(64);
    let cases: &[(&str, &str)] = &[
        ("", "must not be empty"),
        ("a.b", "single label without dots"),
        ("../x", "single label without dots"),
        ("a/b", "found '/'"),
        ("a_b", "found '_'"),
        ("mail\n", "control characters"),
        ("mail #", "'#'"),
        ("sél", "found 'é'"),
        ("-mail", "must not start or end with '-'"),
        ("mail-", "must not start or end with '-'"),
        (&long, "at most 63 characters"),
    ];
    for (input, needle) in cases {
        rejects(input, Selector::parse(input), needle);
    }
}

/// Found by the proptest: Cherokee has case pairs that UTS #46 maps to the capital letters, so a
/// name already in that form must be accepted as typed, and parse back from its display form.
/// (The proptest's `xn-----a-fbub` is `Ꭼ-Ꭼ--a`, Cherokee with a Latin `a`: now refused as a
/// mixed-script look-alike, so the Cherokee-only `Ꭼ-Ꭼ` stands in for it.)
#[test]
fn a_label_of_a_mapped_script_parses_back_from_its_display_form() {
    let d = Domain::parse("xn----q9hb.a").expect("valid");
    assert_eq!(d.unicode(), "\u{13ac}-\u{13ac}.a");
    assert_eq!(Domain::parse(&d.unicode()), Ok(d));
    rejects(
        "xn-----a-fbub.a",
        Domain::parse("xn-----a-fbub.a"),
        "mixes scripts (Cherokee, Latin)",
    );
}
