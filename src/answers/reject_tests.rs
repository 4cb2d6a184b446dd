//! Tests for `answers::parse` rejecting values: message format, every field's rules,
//! duplicates, and the reliability.md T4.3 injection corpus.
use std::net::{IpAddr, Ipv4Addr};

use super::tests::{err, lit, private, with};
use super::*;

#[test]
fn message_format_matches_the_brief() {
    let e = err(&with("domains", "[\"example.org\", \"a..com\"]"));
    assert_eq!(
        e.to_string(),
        "answers: `domains[1]` = \"a..com\" is not a valid domain: a label must not be empty: \
         no leading dot and no two dots in a row (RFC 1035 §2.3.1)"
    );
}

#[test]
fn invalid_values_name_field_value_and_rule() {
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "hostname",
            "\"localhost\"",
            "hostname",
            "at least two labels",
        ),
        (
            "hostname",
            "\"mail.example.org.\"",
            "hostname",
            "write \"mail.example.org\"",
        ),
        ("ipv4", "\"127.0.0.1\"", "ipv4", "loopback"),
        ("ipv4", "\"2001:db8::1\"", "ipv4", "is an IPv6 address"),
        ("ipv6", "\"fe80::1\"", "ipv6", "link-local"),
        ("ipv6", "\"::FFFF:1.2.3.4\"", "ipv6", "IPv4-mapped"),
        (
            "inet_protocols",
            "\"IPv4\"",
            "inet_protocols",
            "must be \"ipv4\", \"ipv6\" or \"all\"",
        ),
        (
            "domains",
            "[\"example.org\", \"-a.com\"]",
            "domains[1]",
            "must not start or end with '-'",
        ),
        ("selector", "\"a.b\"", "selector", "without dots"),
        (
            "key_bits",
            "2000",
            "key_bits",
            "one of 1024, 2048, 3072, 4096",
        ),
        ("socket", "\"inet:0\"", "socket", "1 to 65535"),
        (
            "trusted_hosts",
            "[\"10.0.0.1/8\"]",
            "trusted_hosts[0]",
            "host bits must be zero, did you mean 10.0.0.0/8?",
        ),
        ("spf_all", "\"+all\"", "spf_all", "\"~all\""),
        ("dmarc_policy", "\"Reject\"", "dmarc_policy", "\"reject\""),
        (
            "dmarc_rua",
            "\"postmaster@example.org\"",
            "dmarc_rua",
            "must start with \"mailto:\"",
        ),
        (
            "provider",
            "\"ovhcloud\"",
            "provider",
            "the known ones are: ovh, hetzner, ionos, aws, gcp, azure, digitalocean, linode",
        ),
        (
            "mta_sts",
            "\"Enforce\"",
            "mta_sts",
            "\"testing\", \"enforce\" or \"none\"",
        ),
        (
            "tls_rpt_rua",
            "\"tlsrpt@example.org\"",
            "tls_rpt_rua",
            "\"mailto:\" or \"https://\"",
        ),
        (
            "tls_rpt_rua",
            "\"https://example.org/a;b\"",
            "tls_rpt_rua",
            "RFC 8460 §3",
        ),
        (
            "mta_sts_max_age",
            "31557601",
            "mta_sts_max_age",
            "from 0 to 31557600",
        ),
    ];
    for (key, value, field, needle) in cases {
        let e = err(&with(key, value));
        let msg = e.to_string();
        let shown = match key {
            &"domains" | &"trusted_hosts" => {
                let v: toml_edit::Value = value.parse().expect("toml");
                let i: usize = field[field.len() - 2..field.len() - 1]
                    .parse()
                    .expect("index");
                format!(
                    "{:?}",
                    v.as_array()
                        .and_then(|a| a.get(i))
                        .and_then(|x| x.as_str())
                        .expect("str")
                )
            }
            &"key_bits" => value.to_string(),
            _ => value.to_string(),
        };
        assert!(
            msg.starts_with(&format!("answers: `{field}` = {shown} is not a valid ")),
            "{msg}"
        );
        assert!(msg.contains(needle), "{msg}");
    }
}

#[test]
fn duplicates_are_refused_after_canonicalisation() {
    let e = err(&with(
        "domains",
        "[\"example.org\", \"b.example\", \"Example.ORG\"]",
    ));
    assert!(
        e.to_string().contains("`domains[2]` = \"Example.ORG\" is not a valid domain: it is the same as `domains[0]` (example.org)"),
        "{e}"
    );
    let e = err(&with(
        "domains",
        "[\"bücher.example\", \"xn--bcher-kva.example\"]",
    ));
    assert!(e.to_string().contains("same as `domains[0]`"), "{e}");
    let e = err(&with("trusted_hosts", "[\"1.2.3.4\", \"::ffff:1.2.3.4\"]"));
    assert!(
        e.to_string().contains("`trusted_hosts[1]`") && e.to_string().contains("(1.2.3.4)"),
        "{e}"
    );
    let e = err(&with("trusted_hosts", "[\"::1\", \"0:0:0:0:0:0:0:1\"]"));
    assert!(
        e.to_string().contains("same as `trusted_hosts[0]` (::1)"),
        "{e}"
    );
}

/// reliability.md T4.3: every entry is rejected, and the message names the field and shows
/// the value escaped (so a newline is visible as `\n`).
#[test]
fn injection_corpus_is_rejected() {
    let domains = [
        "a.com\nsmtpd_milters=x",
        "a.com #",
        "a.com|.*",
        "../../etc",
        "a..com",
        "-a.com",
        "a.com.",
        "xn--",
        "xn--abc.com",
        "xn--zz-zzz.com",
        "ＡＢＣ.com",
        "a.com\u{2028}",
        "a.com\u{85}",
        "a.com\r\nx",
        "a.com\u{0}",
        "*.a.com",
        "a.com/../../etc",
    ];
    for d in domains {
        for (key, toml, field) in [
            ("hostname", lit(d), "hostname"),
            (
                "domains",
                format!("[\"example.org\", {}]", lit(d)),
                "domains[1]",
            ),
            ("trusted_hosts", format!("[{}]", lit(d)), "trusted_hosts[0]"),
        ] {
            let e = err(&with(key, &toml));
            let msg = e.to_string();
            assert!(
                matches!(&e, AnswerError::Invalid { field: f, .. } if f == field),
                "{msg}"
            );
            assert!(
                msg.starts_with(&format!("answers: `{field}` = {d:?} ")),
                "{msg}"
            );
            assert!(!msg.contains('\n') && !msg.contains('\u{2028}'), "{msg:?}");
        }
    }
    let selectors = [
        "mail\nx",
        "../k",
        "a.b",
        "mail #",
        "m/x",
        "*",
        "mail\u{2029}",
    ];
    for s in selectors {
        let e = err(&with("selector", &lit(s)));
        assert!(
            e.to_string()
                .starts_with(&format!("answers: `selector` = {s:?} ")),
            "{e}"
        );
    }
    for t in [
        "10.0.0.1/8",
        "!10.0.0.0/8",
        "!127.0.0.1",
        "10.0.0.0/8 #",
        "10.0.0.0/8\n!1.2.3.4",
    ] {
        let e = err(&with("trusted_hosts", &format!("[{}]", lit(t))));
        assert!(
            e.to_string()
                .starts_with(&format!("answers: `trusted_hosts[0]` = {t:?} ")),
            "{e}"
        );
    }
    // Canonicalised, not rejected (documented in TrustedHost::parse).
    let s = parse(&with("trusted_hosts", "[\"::FFFF:1.2.3.4\"]")).expect("valid");
    assert_eq!(
        s.trusted_hosts,
        [TrustedHost::Ip(IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4)))]
    );
    assert!(write(&s, None).contains("trusted_hosts = [\"1.2.3.4\"]"));
    for r in [
        "mailto:a,b@x.com",
        "mailto:a+b@x.com",
        "mailto:a@x.com,mailto:evil@y.com",
        "mailto:a@x.com!10m",
        "mailto:a;b@x.com",
        "mailto:a%2c@x.com",
        "mailto:a b@x.com",
        "mailto:a@x.com\n",
        "mailto:a@x.com; p=none",
    ] {
        let e = err(&with("dmarc_rua", &lit(r)));
        assert!(
            e.to_string()
                .starts_with(&format!("answers: `dmarc_rua` = {r:?} ")),
            "{e}"
        );
    }
    for (key, v) in [
        ("ipv4", "192.0.2.1\n"),
        ("socket", "local\nx"),
        ("spf_all", "~all #"),
        ("dmarc_policy", "none;"),
        ("inet_protocols", "all\u{2028}"),
    ] {
        let e = err(&with(key, &lit(v)));
        assert!(
            e.to_string()
                .starts_with(&format!("answers: `{key}` = {v:?} ")),
            "{e}"
        );
    }
}

/// UTS #39 §5.2 through the answers file: a mixed-script look-alike is refused in every field
/// that holds a domain, the message naming the field and the scripts.
#[test]
fn mixed_script_look_alikes_name_the_field() {
    let look_alike = "ex\u{430}mple.org"; // Cyrillic а
    for (key, toml, field) in [
        ("domains", format!("[{}]", lit(look_alike)), "domains[0]"),
        (
            "domains",
            "[\"example.org\", \"xn--exmple-4nf.org\"]".to_string(),
            "domains[1]",
        ),
        ("hostname", lit(&format!("mail.{look_alike}")), "hostname"),
        (
            "dmarc_rua",
            lit(&format!("mailto:dmarc@{look_alike}")),
            "dmarc_rua",
        ),
        (
            "trusted_hosts",
            "[\"relay.ex\u{3b1}mple.org\"]".to_string(),
            "trusted_hosts[0]",
        ),
    ] {
        let e = err(&with(key, &toml));
        let msg = e.to_string();
        assert!(
            matches!(&e, AnswerError::Invalid { field: f, .. } if f == field),
            "{msg}"
        );
        assert!(msg.starts_with(&format!("answers: `{field}` = ")), "{msg}");
        let scripts = if key == "trusted_hosts" {
            "mixes scripts (Latin, Greek)"
        } else {
            "mixes scripts (Latin, Cyrillic)"
        };
        assert!(msg.contains(scripts), "{msg}");
        assert!(
            msg.contains("look-alike") && msg.contains("UTS #39"),
            "{msg}"
        );
    }
    // Single-script internationalized names are not look-alikes.
    let ok = with(
        "domains",
        "[\"\u{43f}\u{440}\u{438}\u{43c}\u{435}\u{440}.\u{440}\u{444}\", \"\u{65e5}\u{672c}.jp\", \"example.org\"]",
    );
    let s = parse(&ok).unwrap_or_else(|e| panic!("{e}"));
    let domains: Vec<&str> = s.domains.iter().map(Domain::as_str).collect();
    assert_eq!(
        domains,
        ["xn--e1afmkfd.xn--p1ai", "xn--wgv71a.jp", "example.org"]
    );
}

/// Every range `private_range` names is refused for `ipv4`/`ipv6` without
/// `allow_private_ip`, the message naming the field, the block and its RFC, why, and the
/// fix; with `allow_private_ip = true` each is accepted. The hard refusals stay refused
/// with the flag.
#[test]
fn private_addresses_need_allow_private_ip() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "ipv4",
            "10.0.0.5",
            "10.0.0.0/8 is a private range (RFC 1918)",
        ),
        (
            "ipv4",
            "172.20.1.1",
            "172.16.0.0/12 is a private range (RFC 1918)",
        ),
        (
            "ipv4",
            "192.168.1.10",
            "192.168.0.0/16 is a private range (RFC 1918)",
        ),
        (
            "ipv4",
            "100.64.0.1",
            "100.64.0.0/10 is the carrier-grade NAT range (RFC 6598)",
        ),
        (
            "ipv4",
            "192.0.2.10",
            "192.0.2.0/24 is a documentation range (RFC 5737)",
        ),
        (
            "ipv4",
            "198.51.100.7",
            "198.51.100.0/24 is a documentation range (RFC 5737)",
        ),
        (
            "ipv4",
            "203.0.113.9",
            "203.0.113.0/24 is a documentation range (RFC 5737)",
        ),
        (
            "ipv4",
            "198.18.0.1",
            "198.18.0.0/15 is the benchmarking range (RFC 2544)",
        ),
        (
            "ipv6",
            "fd12:3456::1",
            "fc00::/7 is a unique local range (RFC 4193)",
        ),
        (
            "ipv6",
            "fec0::1",
            "fec0::/10 is the deprecated site-local range (RFC 3879)",
        ),
        (
            "ipv6",
            "2001:DB8::10",
            "2001:db8::/32 is a documentation range (RFC 3849)",
        ),
        (
            "ipv6",
            "3fff::10",
            "3fff::/20 is a documentation range (RFC 9637)",
        ),
        (
            "ipv6",
            "2001:2::10",
            "2001:2::/48 is the benchmarking range (RFC 5180)",
        ),
    ];
    for (key, ip, range) in cases {
        let text = with(key, &lit(ip));
        let e = err(&text);
        assert!(
            matches!(&e, AnswerError::NotPublic { field, .. } if field == key),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            format!(
                "answers: `{key}` = {ip:?}: {range}; receivers see your server's public \
                 address, and that is what SPF and PTR must name\n  fix: give the public \
                 address, or set allow_private_ip = true for a lab or NAT set-up you publish \
                 yourself"
            )
        );
        let s = parse(&private(&text)).unwrap_or_else(|e| panic!("{ip}: {e}"));
        assert!(s.allow_private_ip);
        let got = match *key {
            "ipv4" => s.ipv4.map(|v| v.to_string()),
            _ => s.ipv6.map(|v| v.to_string()),
        };
        assert_eq!(got, Some(ip.to_lowercase()));
        // allow_private_ip = false says the same as leaving it out.
        let off = format!("{text}allow_private_ip = false\n");
        assert!(matches!(err(&off), AnswerError::NotPublic { .. }));
    }
    // Hard refusals: never a server's address, flag or not.
    for (key, ip, needle) in [
        ("ipv4", "127.0.0.1", "loopback"),
        ("ipv4", "0.1.2.3", "0.0.0.0/8"),
        ("ipv4", "169.254.1.1", "link-local"),
        ("ipv4", "224.0.0.1", "multicast"),
        ("ipv4", "240.0.0.1", "reserved"),
        ("ipv4", "255.255.255.255", "broadcast"),
        ("ipv6", "::1", "loopback"),
        ("ipv6", "::", "unspecified"),
        ("ipv6", "fe80::1", "link-local"),
        ("ipv6", "ff02::1", "multicast"),
        ("ipv6", "::ffff:10.0.0.5", "IPv4-mapped"),
    ] {
        let e = err(&private(&with(key, &lit(ip))));
        assert!(
            matches!(&e, AnswerError::Invalid { field, .. } if field == key),
            "{e:?}"
        );
        assert!(e.to_string().contains(needle), "{e}");
    }
    // A public address needs no flag (parse only: nothing is contacted).
    let s = parse(&with("ipv4", "\"8.8.8.8\"")).expect("valid");
    assert!(!s.allow_private_ip);
    let e = err(&private(&with("ipv4", "\"10.0.0.5\"")).replace("= true", "= \"yes\""));
    assert_eq!(
        e.to_string(),
        "answers: `allow_private_ip` must be a boolean, found string, e.g. allow_private_ip = true"
    );
}

#[test]
fn ipv6_only_without_an_ipv6_address_is_refused_naming_the_field() {
    // the base answers have an ipv4 and no ipv6
    let e = err(&with("inet_protocols", "\"ipv6\""));
    let text = e.to_string();
    assert!(
        text.starts_with("answers: `inet_protocols` = \"ipv6\""),
        "{text}"
    );
    assert!(text.contains("no `ipv6` address is given"), "{text}");
    // with the address, or with "all", it is fine
    let both = with("inet_protocols", "\"ipv6\"").replace(
        "inet_protocols",
        "allow_private_ip = true\nipv6 = \"2001:db8::10\"\ninet_protocols",
    );
    assert!(parse(&both).is_ok(), "{both}");
    assert!(parse(&with("inet_protocols", "\"all\"")).is_ok());
}

#[test]
fn ipv4_only_with_only_an_ipv6_address_is_refused_naming_the_field() {
    let v6 = "allow_private_ip = true\nipv6 = \"2001:db8::10\"\n";
    let e = err(&format!("{}{v6}", with("inet_protocols", "\"ipv4\"")));
    assert!(
        matches!(&e, AnswerError::Invalid { field, .. } if field == "inet_protocols"),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(
        text.starts_with("answers: `inet_protocols` = \"ipv4\""),
        "{text}"
    );
    assert!(text.contains("only an `ipv6` address is given"), "{text}");
    assert!(text.contains("add ipv4 = "), "{text}");
    // with an IPv4 too, or with neither address (one is detected), it is fine; so are
    // "ipv6" and "all" with the IPv6 alone
    let both = format!(
        "{}{v6}ipv4 = \"192.0.2.10\"\n",
        with("inet_protocols", "\"ipv4\"")
    );
    assert!(parse(&both).is_ok(), "{both}");
    assert!(parse(&with("inet_protocols", "\"ipv4\"")).is_ok());
    for other in ["\"ipv6\"", "\"all\""] {
        let text = format!("{}{v6}", with("inet_protocols", other));
        assert!(parse(&text).is_ok(), "{text}");
    }
}

#[test]
fn mta_sts_max_age_needs_mta_sts() {
    let e = err(&with("mta_sts_max_age", "86400")).to_string();
    assert!(
        e.starts_with("answers: `mta_sts_max_age` = 86400 is not a valid MTA-STS max_age"),
        "{e}"
    );
    assert!(e.contains("set mta_sts = \"testing\""), "{e}");
    let ok = parse(&format!(
        "{}mta_sts = \"testing\"\n",
        with("mta_sts_max_age", "86400")
    ))
    .expect("valid with mta_sts");
    assert_eq!(ok.mta_sts, Some(StsMode::Testing));
    assert_eq!(ok.mta_sts_max_age.secs(), 86400);
    let e = err(&with("mta_sts_max_age", "\"1w\"")).to_string();
    assert!(e.contains("mta_sts_max_age"), "{e}");
}

#[test]
fn algorithms_must_hold_rsa_and_known_names_once() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "[\"ed25519-sha256\"]",
            "algorithms",
            "must contain \"rsa-sha256\"",
        ),
        ("[]", "algorithms", "must contain \"rsa-sha256\""),
        (
            "[\"rsa-sha256\", \"ed25519\"]",
            "algorithms[1]",
            "must be \"rsa-sha256\" or \"ed25519-sha256\"",
        ),
        ("[\"rsa-sha1\"]", "algorithms[0]", "must be \"rsa-sha256\""),
        (
            "[\"rsa-sha256\", \"rsa-sha256\"]",
            "algorithms[1]",
            "list each entry once",
        ),
    ];
    for (value, field, rule) in cases {
        let e = err(&with("algorithms", value)).to_string();
        assert!(e.contains(&format!("`{field}`")), "{value}: {e}");
        assert!(e.contains(rule), "{value}: {e}");
    }
    let e = err(&with("algorithms", "\"rsa-sha256\"")).to_string();
    assert!(e.contains("algorithms") && e.contains("array"), "{e}");
}

#[test]
fn ed25519_selector_needs_ed25519_and_its_own_name() {
    let e = err(&with("ed25519_selector", "\"ed\"")).to_string();
    assert!(
        e.contains("`ed25519_selector`") && e.contains("\"ed25519-sha256\" in algorithms"),
        "{e}"
    );
    let on = "algorithms = [\"rsa-sha256\", \"ed25519-sha256\"]\n";
    let e = err(&format!("{MINIMAL_ED}{on}ed25519_selector = \"Mail\"\n")).to_string();
    assert!(
        e.contains("`ed25519_selector`") && e.contains("must differ from selector"),
        "{e}"
    );
    let e = err(&format!("{MINIMAL_ED}{on}ed25519_selector = \"a.b\"\n")).to_string();
    assert!(
        e.contains("`ed25519_selector`") && e.contains("without dots"),
        "{e}"
    );
    let e = err(&format!("{MINIMAL_ED}{on}signer = \"amavisd-new\"\n")).to_string();
    assert!(
        e.contains("`algorithms`") && e.contains("signed by OpenDKIM only"),
        "{e}"
    );
}

const MINIMAL_ED: &str = super::tests::MINIMAL;

#[test]
fn ed25519_on_gets_its_selector() {
    let on = format!("{MINIMAL_ED}algorithms = [\"ed25519-sha256\", \"rsa-sha256\"]\n");
    let s = parse(&on).expect("valid");
    assert_eq!(s.ed25519.as_ref().map(|s| s.as_str()), Some("ed25519"));
    assert_eq!(s.algorithms(), ["rsa-sha256", "ed25519-sha256"]);
    let s = parse(&format!("{on}ed25519_selector = \"ed2026\"\n")).expect("valid");
    assert_eq!(s.ed25519.as_ref().map(|s| s.as_str()), Some("ed2026"));
    let s = parse(&format!("{MINIMAL_ED}algorithms = [\"rsa-sha256\"]\n")).expect("valid");
    assert_eq!(s.ed25519, None);
    assert_eq!(parse(MINIMAL_ED).expect("valid").ed25519, None);
}
