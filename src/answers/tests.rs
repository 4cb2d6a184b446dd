//! Tests for `answers::parse`: valid values of every field, defaults, and the structural
//! errors (unknown key, wrong type, missing key, TOML syntax). Shared helpers live here.
use std::net::{Ipv4Addr, Ipv6Addr};

use super::*;
use crate::settings::Settings;

pub(super) const MINIMAL: &str = "hostname = \"mail.example.org\"\ndomains = [\"example.org\"]\n";

pub(super) const FULL: &str = r#"hostname = "mail.example.org"          # FQDN of this server (Postfix myhostname)
ipv4 = "192.0.2.10"                    # public IPv4; an IPv6-only server omits it and gives ipv6
ipv6 = "2001:db8::10"                  # optional
allow_private_ip = true                # the addresses above are documentation ones
inet_protocols = "ipv4"                # ipv4 | ipv6 | all
domains = ["example.org", "example.net"]
selector = "mail"
key_bits = 2048                        # 1024 | 2048 | 3072 | 4096
socket = "local"                       # local = unix socket inside Postfix's chroot; or "inet:8891"
trusted_hosts = ["127.0.0.1", "::1", "localhost"]
spf_all = "~all"                       # ~all | -all
dmarc_policy = "none"                  # none | quarantine | reject
dmarc_rua = "mailto:postmaster@example.org"   # optional
"#;

pub(super) fn domain(s: &str) -> Domain {
    Domain::parse(s).unwrap_or_else(|r| panic!("{s:?}: {r}"))
}

/// A TOML string literal for `s` (escapes control characters).
pub(super) fn lit(s: &str) -> String {
    toml_edit::Value::from(s).to_string().trim().to_string()
}

/// MINIMAL with `key = value_toml` appended (or replacing hostname/domains).
pub(super) fn with(key: &str, value_toml: &str) -> String {
    let mut doc: toml_edit::DocumentMut = MINIMAL.parse().expect("valid");
    doc.remove(key);
    format!("{doc}{key} = {value_toml}\n")
}

/// `text` with `allow_private_ip = true` appended (for the documentation addresses).
pub(super) fn private(text: &str) -> String {
    format!("{text}allow_private_ip = true\n")
}

pub(super) fn err(text: &str) -> AnswerError {
    match parse(text) {
        Ok(s) => panic!("accepted {text:?} as {s:?}"),
        Err(e) => e,
    }
}

#[test]
fn minimal_gets_defaults() {
    let s = parse(MINIMAL).expect("valid");
    let want = Settings::new(domain("mail.example.org"), vec![domain("example.org")]);
    assert_eq!(s, want);
    assert_eq!(s.inet_protocols, InetProtocols::Ipv4);
    assert_eq!(s.selector.as_str(), "mail");
    assert_eq!(s.key_bits, KeyBits::B2048);
    assert_eq!(s.socket, MilterSocket::Local);
    let hosts: Vec<String> = s.trusted_hosts.iter().map(ToString::to_string).collect();
    assert_eq!(hosts, ["127.0.0.1", "::1", "localhost"]);
    assert_eq!(
        (s.spf_all, s.dmarc_policy),
        (SpfAll::SoftFail, DmarcPolicy::None)
    );
    assert_eq!((s.ipv4, s.ipv6, s.dmarc_rua), (None, None, None));
    assert_eq!(s.provider, None);
}

#[test]
fn full_example_parses() {
    let s = parse(FULL).expect("valid");
    assert_eq!(s.hostname.as_str(), "mail.example.org");
    assert_eq!(s.ipv4, Some(Ipv4Addr::new(192, 0, 2, 10)));
    assert_eq!(
        s.ipv6,
        Some("2001:db8::10".parse::<Ipv6Addr>().expect("literal"))
    );
    assert_eq!(s.inet_protocols, InetProtocols::Ipv4);
    assert_eq!(s.domains, [domain("example.org"), domain("example.net")]);
    assert_eq!(
        s.dmarc_rua.map(|m| m.to_string()),
        Some("mailto:postmaster@example.org".to_string())
    );
}

/// Reads one field of parsed settings as text.
type Getter = fn(&Settings) -> String;

#[test]
fn every_field_valid_values() {
    let cases: &[(&str, &str, Getter, &str)] = &[
        (
            "hostname",
            "\"Mail.Bücher.example\"",
            |s| s.hostname.to_string(),
            "mail.xn--bcher-kva.example",
        ),
        (
            "ipv4",
            "\"198.51.100.7\"",
            |s| format!("{:?}", s.ipv4),
            "Some(198.51.100.7)",
        ),
        (
            "ipv6",
            "\"2001:DB8:0::1\"",
            |s| format!("{:?}", s.ipv6),
            "Some(2001:db8::1)",
        ),
        (
            "inet_protocols",
            "\"all\"",
            |s| s.inet_protocols.as_str().into(),
            "all",
        ),
        (
            "domains",
            "[\"example.org\", \"bücher.example\"]",
            |s| {
                format!(
                    "{:?}",
                    s.domains.iter().map(Domain::as_str).collect::<Vec<_>>()
                )
            },
            "[\"example.org\", \"xn--bcher-kva.example\"]",
        ),
        (
            "selector",
            "\"DKIM2024\"",
            |s| s.selector.to_string(),
            "dkim2024",
        ),
        (
            "key_bits",
            "1024",
            |s| s.key_bits.bits().to_string(),
            "1024",
        ),
        (
            "key_bits",
            "3072",
            |s| s.key_bits.bits().to_string(),
            "3072",
        ),
        (
            "key_bits",
            "4096",
            |s| s.key_bits.bits().to_string(),
            "4096",
        ),
        (
            "key_bits",
            "0x800",
            |s| s.key_bits.bits().to_string(),
            "2048",
        ),
        (
            "socket",
            "\"inet:8891\"",
            |s| s.socket.as_answer(),
            "inet:8891",
        ),
        (
            "trusted_hosts",
            "[\"10.0.0.0/8\", \"::FFFF:1.2.3.4\", \"relay.example.org\"]",
            |s| {
                s.trusted_hosts
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" ")
            },
            "10.0.0.0/8 1.2.3.4 relay.example.org",
        ),
        (
            "trusted_hosts",
            "[]",
            |s| s.trusted_hosts.len().to_string(),
            "0",
        ),
        ("spf_all", "\"-all\"", |s| s.spf_all.as_str().into(), "-all"),
        (
            "dmarc_policy",
            "\"quarantine\"",
            |s| s.dmarc_policy.as_str().into(),
            "quarantine",
        ),
        (
            "dmarc_policy",
            "\"reject\"",
            |s| s.dmarc_policy.as_str().into(),
            "reject",
        ),
        (
            "dmarc_rua",
            "\"mailto:dmarc@Example.NET\"",
            |s| format!("{:?}", s.dmarc_rua.as_ref().map(ToString::to_string)),
            "Some(\"mailto:dmarc@example.net\")",
        ),
        (
            "dmarc_rua",
            "\"mailto:dmarc@\u{43f}\u{440}\u{438}\u{43c}\u{435}\u{440}.\u{440}\u{444}\"",
            |s| format!("{:?}", s.dmarc_rua.as_ref().map(ToString::to_string)),
            "Some(\"mailto:dmarc@xn--e1afmkfd.xn--p1ai\")",
        ),
        (
            "provider",
            "\"Hetzner\"",
            |s| format!("{:?}", s.provider.map(|p| p.key())),
            "Some(\"hetzner\")",
        ),
    ];
    for (key, value, get, want) in cases {
        // The addresses are documentation ones.
        let text = private(&with(key, value));
        let s = parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(get(&s), *want, "{key} = {value}");
    }
}

#[test]
fn inet_protocols_default_follows_the_addresses() {
    let v4 = "ipv4 = \"192.0.2.1\"\n";
    let v6 = "ipv6 = \"2001:db8::10\"\n";
    for (addresses, want) in [
        (format!("{v4}{v6}"), InetProtocols::All),
        (v6.to_string(), InetProtocols::Ipv6),
        (v4.to_string(), InetProtocols::Ipv4),
        // neither: an IPv4 is detected from the interfaces later
        (String::new(), InetProtocols::Ipv4),
    ] {
        let text = private(&format!("{MINIMAL}{addresses}"));
        let s = parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(s.inet_protocols, want, "{text}");
        assert_eq!(
            Settings::default_inet_protocols(s.ipv4, s.ipv6),
            want,
            "{text}"
        );
    }
    // "ipv6" without an address is refused (reject_tests), with one it is kept
    let text = private(&with("ipv6", "\"2001:db8::10\""))
        .replace("hostname", "inet_protocols = \"ipv6\"\nhostname");
    let s = parse(&text).expect("valid");
    assert_eq!(s.inet_protocols, InetProtocols::Ipv6);
}

#[test]
fn unknown_keys_are_errors() {
    let e = err(&with("selecter", "\"mail\""));
    assert_eq!(
        e,
        AnswerError::UnknownKey {
            key: "selecter".into(),
            suggestion: Some("selector")
        }
    );
    let msg = e.to_string();
    assert!(
        msg.contains("unknown key `selecter` (did you mean `selector`?)"),
        "{msg}"
    );
    for k in KNOWN_KEYS {
        assert!(msg.contains(k), "{msg} lacks {k}");
    }
    let e = err(&format!("{MINIMAL}[postfix]\nmyhostname = \"x\"\n"));
    assert_eq!(
        e,
        AnswerError::UnknownKey {
            key: "postfix".into(),
            suggestion: None
        }
    );
    let e = err(&format!("{MINIMAL}smtpd_milters = \"inet:evil:1\"\n"));
    assert!(
        e.to_string().contains("unknown key `smtpd_milters`;"),
        "{e}"
    );
}

#[test]
fn wrong_types_name_field_and_type() {
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "hostname",
            "42",
            "hostname",
            "must be a string, found integer",
        ),
        (
            "hostname",
            "[\"a.b\"]",
            "hostname",
            "must be a string, found array",
        ),
        (
            "domains",
            "\"example.org\"",
            "domains",
            "must be an array of strings, found string",
        ),
        (
            "domains",
            "[\"example.org\", 3]",
            "domains[1]",
            "must be a string, found integer",
        ),
        ("domains", "{ a = 1 }", "domains", "found inline table"),
        (
            "key_bits",
            "\"2048\"",
            "key_bits",
            "must be an integer, found string",
        ),
        (
            "key_bits",
            "2048.0",
            "key_bits",
            "must be an integer, found float",
        ),
        ("ipv4", "true", "ipv4", "must be a string, found boolean"),
        (
            "trusted_hosts",
            "[\"::1\", [\"x\"]]",
            "trusted_hosts[1]",
            "must be a string, found array",
        ),
        (
            "socket",
            "8891",
            "socket",
            "must be a string, found integer",
        ),
        (
            "dmarc_rua",
            "1979-05-27",
            "dmarc_rua",
            "must be a string, found datetime",
        ),
    ];
    for (key, value, field, needle) in cases {
        let e = err(&with(key, value));
        assert!(
            matches!(&e, AnswerError::WrongType { field: f, .. } if f == field),
            "{e:?}"
        );
        let msg = e.to_string();
        assert!(msg.starts_with(&format!("answers: `{field}` ")), "{msg}");
        assert!(msg.contains(needle), "{msg}");
        assert!(msg.contains(", e.g. "), "{msg}");
    }
    let e = err(&format!("{MINIMAL}[selector]\nx = 1\n"));
    assert!(
        e.to_string()
            .contains("`selector` must be a string, found table"),
        "{e}"
    );
    let e = err("domains = [\"example.org\"]\n[[hostname]]\n");
    assert!(e.to_string().contains("found array of tables"), "{e}");
}

#[test]
fn missing_required_keys() {
    let e = err("domains = [\"example.org\"]\n");
    assert_eq!(e, AnswerError::Missing { field: "hostname" });
    assert!(
        e.to_string()
            .contains("required key `hostname` is missing; add e.g. hostname = ")
    );
    let e = err("hostname = \"mail.example.org\"\n");
    assert_eq!(e, AnswerError::Missing { field: "domains" });
    let e = err(&with("domains", "[]"));
    assert!(
        e.to_string()
            .contains("`domains` = [] is not a valid domain list: at least one"),
        "{e}"
    );
}

#[test]
fn syntax_errors_have_position() {
    let e = err("hostname = \"mail.example.org\"\ndomains = [\"example.org\"\n");
    let AnswerError::Syntax { line, .. } = &e else {
        panic!("{e:?}")
    };
    assert!(*line >= 2, "{e}");
    let e = err("hostname = mail.example.org\n");
    assert!(
        matches!(
            e,
            AnswerError::Syntax {
                line: 1,
                column: 12,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .starts_with("answers:1:12: `hostname`: not valid TOML: "),
        "{e}"
    );
    let e = err("hostname = \"a.b\"\nhostname = \"c.d\"\n");
    assert!(matches!(e, AnswerError::Syntax { line: 2, .. }), "{e:?}");
}

/// A syntax error on a line that assigns a key names that key after the position; one on a
/// line without a key (inside a multi-line array, a table header) does not guess.
#[test]
fn syntax_errors_name_the_key_of_their_line() {
    let cases: &[(String, Option<&str>, &str)] = &[
        (
            format!("{MINIMAL}key_bits = 20 48\n"),
            Some("key_bits"),
            "answers:3:12: `key_bits`: not valid TOML: ",
        ),
        (
            "domains = [\"example.org\"]\nhostname = \"mail.example.org\n".to_string(),
            Some("hostname"),
            "answers:2:",
        ),
        (
            format!("{MINIMAL}  \"selector\" = mail\n"),
            Some("selector"),
            "answers:3:",
        ),
        (
            format!("{MINIMAL}'dmarc_rua'=mailto:a@example.org\n"),
            Some("dmarc_rua"),
            "answers:3:",
        ),
        (
            format!("{MINIMAL}selecter = \"mail\" x\n"),
            Some("selecter"),
            "answers:3:",
        ),
        (
            "hostname = \"mail.example.org\"\ndomains = [\n  \"example.org\"\n  \"example.net\",\n]\n"
                .to_string(),
            None,
            "answers:4:",
        ),
        (format!("{MINIMAL}[postfix\n"), None, "answers:3:"),
        (format!("{MINIMAL}a.b = 1 2\n"), None, "answers:3:"),
    ];
    for (text, key, start) in cases {
        let e = err(text);
        let AnswerError::Syntax { key: got, .. } = &e else {
            panic!("{text:?}: {e:?}")
        };
        assert_eq!(got.as_deref(), *key, "{text:?}: {e}");
        let msg = e.to_string();
        assert!(msg.starts_with(start), "{text:?}: {msg}");
        let (_, rest) = msg.split_once(": ").expect("a position");
        let want = match key {
            Some(k) => format!("`{k}`: not valid TOML: "),
            None => "not valid TOML: ".to_string(),
        };
        assert!(rest.starts_with(&want), "{msg}");
    }
}

/// The shipped example parses; it uses documentation addresses, so it needs (and says why it
/// has) `allow_private_ip = true`, and without that line it is refused.
#[test]
fn the_example_file_parses() {
    let text = include_str!("../../assets/answers.example.toml");
    let s = parse(text).unwrap_or_else(|e| panic!("{e}"));
    assert!(s.allow_private_ip);
    assert!(text.contains("# the example uses documentation addresses"));
    let without = text.replace("allow_private_ip = true", "");
    assert!(matches!(
        err(&without),
        AnswerError::NotPublic { field: "ipv4", .. }
    ));
}

/// `signer`: `opendkim` by default, `amavisd-new` when asked; anything else is refused with
/// the two values named.
#[test]
fn signer_is_opendkim_or_amavisd_new() {
    let base = "hostname = \"mail.example.org\"\ndomains = [\"example.org\"]\n";
    assert_eq!(parse(base).unwrap().signer, Signer::Opendkim);
    let amavis = format!("{base}signer = \"amavisd-new\"\n");
    assert_eq!(parse(&amavis).unwrap().signer, Signer::AmavisdNew);
    let e = err(&format!("{base}signer = \"amavis\"\n"));
    assert!(
        e.to_string().contains("\"opendkim\" or \"amavisd-new\""),
        "{e}"
    );
    // written back only when not the default
    let s = parse(&amavis).unwrap();
    assert!(write(&s, None).contains("signer = \"amavisd-new\""));
    assert!(!write(&parse(base).unwrap(), None).contains("signer"));
}
