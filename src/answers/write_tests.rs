//! Tests for `answers::write`: fresh files, in-place edits that keep comments and
//! formatting, and the `parse(write(s, x)) == s` round trip.
use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use super::tests::{FULL, MINIMAL, domain};
use super::*;
use crate::settings::Settings;

fn full_settings() -> Settings {
    parse(FULL).expect("valid")
}

#[test]
fn fresh_write_round_trips_and_lists_everything() {
    for s in [parse(MINIMAL).expect("valid"), full_settings()] {
        let text = write(&s, None);
        assert_eq!(parse(&text), Ok(s.clone()), "{text}");
        assert!(text.starts_with("# mailsetup answers"), "{text}");
        for key in [
            "hostname",
            "inet_protocols",
            "domains",
            "selector",
            "key_bits",
            "socket",
            "trusted_hosts",
            "spf_all",
            "dmarc_policy",
        ] {
            assert!(
                text.contains(&format!("\n{key} = ")),
                "{key} missing in {text}"
            );
        }
        assert_eq!(text.contains("\nipv4 = "), s.ipv4.is_some());
        assert_eq!(
            text.contains("\nallow_private_ip = "),
            s.allow_private_ip,
            "{text}"
        );
    }
    let text = write(&full_settings(), None);
    assert!(
        text.contains("hostname = \"mail.example.org\"          # FQDN of this server"),
        "{text}"
    );
}

#[test]
fn write_without_changes_is_byte_identical() {
    let texts = [
        MINIMAL.to_string(),
        FULL.to_string(),
        // Odd but equivalent spellings are left alone: they parse to the same values.
        "# top\n\nhostname = 'Mail.Example.org'   # mine\n\n# the list\ndomains = [\n  \"Example.org\", # main\n  \"bücher.example\",\n]\nipv6 = \"2001:DB8:0:0::10\"\nallow_private_ip = true\nkey_bits = 0x800\ntrusted_hosts = [ \"0:0:0:0:0:0:0:1\" ]\n".to_string(),
    ];
    for text in texts {
        let s = parse(&text).expect("valid");
        assert_eq!(write(&s, Some(&text)), text);
    }
}

#[test]
fn write_keeps_comments_order_and_formatting() {
    let text = "# Answers for mail.example.org\n\ndomains = [\"example.org\"]   # who we sign for\nhostname = \"Mail.Example.ORG\" # the MTA\n\n# keys\nselector = \"mail\"  # rotated yearly\nkey_bits = 2048\n";
    let mut s = parse(text).expect("valid");
    s.selector = Selector::parse("mail2025").expect("valid");
    s.key_bits = KeyBits::B4096;
    s.dmarc_policy = DmarcPolicy::Quarantine;
    let out = write(&s, Some(text));
    assert_eq!(
        out,
        "# Answers for mail.example.org\n\ndomains = [\"example.org\"]   # who we sign for\nhostname = \"Mail.Example.ORG\" # the MTA\n\n# keys\nselector = \"mail2025\"  # rotated yearly\nkey_bits = 4096\ndmarc_policy = \"quarantine\"            # none | quarantine | reject\n"
    );
    assert_eq!(parse(&out), Ok(s));
}

#[test]
fn write_edits_arrays_keeping_element_comments() {
    let text = "hostname = \"mail.example.org\"\ndomains = [ # signing domains\n  # the main one\n  \"example.org\", # since 2019\n  \"old.example\", # legacy\n  \"example.net\",\n  # end of list\n]\n";
    let mut s = parse(text).expect("valid");
    s.domains = vec![
        domain("example.net"),
        domain("example.org"),
        domain("new.example"),
    ];
    let out = write(&s, Some(text));
    assert_eq!(
        out,
        "hostname = \"mail.example.org\"\ndomains = [ # signing domains\n  \"example.net\",\n  # the main one\n  \"example.org\", # since 2019\n  \"new.example\",\n  # end of list\n]\n"
    );
    assert_eq!(parse(&out), Ok(s.clone()));

    // No trailing comma: the last element's comment still travels with it.
    let text = "hostname = \"mail.example.org\"\ndomains = [\n  \"example.org\" # main\n]\n";
    let mut s = parse(text).expect("valid");
    s.domains.push(domain("example.net"));
    let out = write(&s, Some(text));
    assert_eq!(
        out,
        "hostname = \"mail.example.org\"\ndomains = [\n  \"example.org\", # main\n  \"example.net\"\n]\n"
    );
    assert_eq!(parse(&out), Ok(s));

    // One-line arrays stay one line.
    let text = "hostname = \"mail.example.org\"\ndomains = [\"a.example\", \"b.example\"]  # two\n";
    let mut s = parse(text).expect("valid");
    s.domains = vec![domain("b.example"), domain("c.example")];
    assert_eq!(
        write(&s, Some(text)),
        "hostname = \"mail.example.org\"\ndomains = [\"b.example\", \"c.example\"]  # two\n"
    );
}

/// `allow_private_ip` is written only when true or already there; a value already there is
/// kept (with its comment) or changed in place, `false` included.
#[test]
fn allow_private_ip_is_written_when_true_or_present() {
    let mut s = parse(MINIMAL).expect("valid");
    assert!(!write(&s, None).contains("\nallow_private_ip ="));
    assert_eq!(write(&s, Some(MINIMAL)), MINIMAL);
    s.allow_private_ip = true;
    let fresh = write(&s, None);
    assert!(fresh.contains("\nallow_private_ip = true "), "{fresh}");
    assert_eq!(parse(&fresh), Ok(s.clone()));
    let edited = write(&s, Some(MINIMAL));
    assert_eq!(
        edited,
        format!(
            "{MINIMAL}allow_private_ip = true                # ipv4/ipv6 may be private or documentation addresses (lab, NAT)\n"
        )
    );
    assert_eq!(parse(&edited), Ok(s.clone()));
    let present = format!("{MINIMAL}allow_private_ip = true  # my lab\n");
    assert_eq!(write(&s, Some(&present)), present);
    s.allow_private_ip = false;
    let off = write(&s, Some(&present));
    assert_eq!(
        off,
        format!("{MINIMAL}allow_private_ip = false  # my lab\n")
    );
    assert_eq!(parse(&off), Ok(s.clone()));
    assert_eq!(write(&s, Some(&off)), off);
}

#[test]
fn write_removes_none_and_unknown_and_adds_non_defaults() {
    let text = "hostname = \"mail.example.org\"\nipv4 = \"192.0.2.1\" # old address\ndomains = [\"example.org\"]\nselecter = \"x\"\n[extra]\na = 1\n";
    let mut s = Settings::new(domain("mail.example.org"), vec![domain("example.org")]);
    s.ipv6 = Some("2001:db8::1".parse().expect("literal"));
    s.allow_private_ip = true; // a documentation address
    s.inet_protocols = InetProtocols::All; // differs from the IPv6-only default "ipv6"
    let out = write(&s, Some(text));
    assert!(
        !out.contains("\nipv4 =")
            && !out.contains("old address")
            && !out.contains("selecter")
            && !out.contains("extra"),
        "{out}"
    );
    assert!(out.contains("\nipv6 = \"2001:db8::1\""), "{out}");
    assert!(out.contains("\nallow_private_ip = true "), "{out}");
    assert!(out.contains("\ninet_protocols = \"all\""), "{out}");
    assert!(
        !out.contains("selector") && !out.contains("key_bits"),
        "defaults not added: {out}"
    );
    assert_eq!(parse(&out), Ok(s.clone()));
    // With the default restored, inet_protocols need not be written.
    s.inet_protocols = InetProtocols::Ipv6;
    let out = write(&s, Some(text));
    assert!(!out.contains("inet_protocols"), "{out}");
    assert_eq!(parse(&out), Ok(s));
}

#[test]
fn write_replaces_wrong_types_and_ignores_broken_toml() {
    let text = "hostname = 5 # fix me\ndomains = \"example.org\"\nkey_bits = \"4096\"\n";
    let s = full_settings();
    let out = write(&s, Some(text));
    assert!(
        out.starts_with("hostname = \"mail.example.org\" # fix me\n"),
        "{out}"
    );
    assert_eq!(parse(&out), Ok(s.clone()));
    let out = write(&s, Some("hostname = \"unterminated\n"));
    assert_eq!(out, write(&s, None));
}

fn settings_strategy() -> impl Strategy<Value = Settings> {
    let host = prop::sample::select(vec![
        "mail.example.org",
        "mx1.bücher.example",
        "smtp.example.net",
    ]);
    let doms = prop::sample::subsequence(
        vec![
            "example.org",
            "example.net",
            "bücher.example",
            "a-b.example",
        ],
        1..=4,
    )
    .prop_shuffle();
    let v4 = prop::option::of(prop::sample::select(vec!["192.0.2.10", "203.0.113.5"]));
    let v6 = prop::option::of(prop::sample::select(vec!["2001:db8::10", "fd00::5"]));
    let proto = prop::option::of(prop::sample::select(vec![
        InetProtocols::Ipv4,
        InetProtocols::Ipv6,
        InetProtocols::All,
    ]));
    let sel = prop::sample::select(vec!["mail", "dkim2025", "s1"]);
    let bits = prop::sample::select(vec![
        KeyBits::B1024,
        KeyBits::B2048,
        KeyBits::B3072,
        KeyBits::B4096,
    ]);
    let sock = prop::option::of(1u16..=65535);
    let trusted = prop::sample::subsequence(
        vec![
            "127.0.0.1",
            "::1",
            "localhost",
            "10.0.0.0/8",
            "2001:db8::/32",
            "relay.example.org",
        ],
        0..=6,
    )
    .prop_shuffle();
    let spf = prop::sample::select(vec![SpfAll::SoftFail, SpfAll::Fail]);
    let dmarc = prop::sample::select(vec![
        DmarcPolicy::None,
        DmarcPolicy::Quarantine,
        DmarcPolicy::Reject,
    ]);
    let rua = prop::option::of(prop::sample::select(vec![
        "mailto:dmarc@example.org",
        "mailto:r.x_y-z@reports.example",
    ]));
    let allow = any::<bool>();
    let provider = prop::option::of(prop::sample::select(
        crate::provider::TABLE
            .iter()
            .map(|i| i.provider)
            .collect::<Vec<_>>(),
    ));
    let inbound_spf = any::<bool>();
    let signer = prop::sample::select(vec![Signer::Opendkim, Signer::AmavisdNew]);
    // (inbound_dmarc, dmarc_reject_failures): rejecting needs inbound DMARC
    let inbound = prop::sample::select(vec![(false, false), (true, false), (true, true)]);
    let tls = prop::option::of(prop::sample::select(vec![
        (
            "/etc/letsencrypt/live/mail.example.org/fullchain.pem",
            "/etc/letsencrypt/live/mail.example.org/privkey.pem",
        ),
        ("/etc/ssl/mail.pem", "/etc/ssl/private/mail.key"),
    ]));
    let sts = prop::option::of(prop::sample::select(vec![
        StsMode::Testing,
        StsMode::Enforce,
        StsMode::None,
    ]));
    let max_age = prop::sample::select(vec![604_800_i64, 0, 86_400, 31_557_600]);
    let tls_rua = prop::option::of(prop::sample::select(vec![
        "mailto:tlsrpt@example.org",
        "https://reports.example.net/tls",
    ]));
    // Ed25519 off, on with the default selector, or with one of its own (never `sel`'s)
    let ed = prop::option::of(prop::sample::select(vec!["ed25519", "ed2026"]));
    (
        (host, doms, v4, v6, proto, sel, allow),
        (bits, sock, trusted, spf, dmarc, rua, provider, inbound_spf),
        (signer, inbound, tls, sts, max_age, tls_rua, ed),
    )
        .prop_map(
            |(
                (host, doms, v4, v6, proto, sel, allow),
                (bits, sock, trusted, spf, dmarc, rua, provider, inbound_spf),
                (signer, inbound, tls, sts, max_age, tls_rua, ed),
            )| {
                let ipv4: Option<Ipv4Addr> = v4.map(|s| s.parse().expect("literal"));
                let ipv6: Option<Ipv6Addr> = v6.map(|s| s.parse().expect("literal"));
                // parse() gives private addresses only with the flag; every address offered
                // here is a documentation or unique local one.
                let private = ipv4.is_some() || ipv6.is_some();
                Settings {
                    hostname: domain(host),
                    ipv4,
                    ipv6,
                    allow_private_ip: allow || private,
                    // IPv6 only needs an IPv6 address, IPv4 only is refused with an IPv6
                    // and no IPv4 (parse refuses both)
                    inet_protocols: proto
                        .filter(|p| *p != InetProtocols::Ipv6 || ipv6.is_some())
                        .filter(|p| *p != InetProtocols::Ipv4 || ipv4.is_some() || ipv6.is_none())
                        .unwrap_or(Settings::default_inet_protocols(ipv4, ipv6)),
                    domains: doms.into_iter().map(domain).collect(),
                    selector: Selector::parse(sel).expect("valid"),
                    key_bits: bits,
                    // parse() refuses Ed25519 with amavisd-new as the signer
                    ed25519: ed
                        .filter(|_| signer == Signer::Opendkim)
                        .map(|e| Selector::parse(e).expect("valid")),
                    socket: sock.map_or(MilterSocket::Local, |p| {
                        MilterSocket::Inet(Port::new(p).expect("1.."))
                    }),
                    trusted_hosts: trusted
                        .into_iter()
                        .map(|t| TrustedHost::parse(t).expect("valid"))
                        .collect(),
                    spf_all: spf,
                    dmarc_policy: dmarc,
                    dmarc_rua: rua.map(|r| MailtoUri::parse(r).expect("valid")),
                    provider,
                    inbound_spf,
                    signer,
                    inbound_dmarc: inbound.0,
                    dmarc_reject_failures: inbound.1,
                    tls: tls.map(|(c, k)| (c.into(), k.into())),
                    mta_sts: sts,
                    // parse() takes a max_age only with mta_sts
                    mta_sts_max_age: match sts {
                        Some(_) => StsMaxAge::from_secs(max_age).expect("in range"),
                        None => StsMaxAge::DEFAULT,
                    },
                    tls_rpt_rua: tls_rua.map(|r| TlsRptUri::parse(r).expect("valid")),
                }
            },
        )
}

proptest! {
    /// parse(write(s, x)) == s for fresh files and for several existing files, and a second
    /// write over the result changes nothing.
    #[test]
    fn write_round_trips(s in settings_strategy(), existing in prop::sample::select(vec![
        None,
        Some(MINIMAL),
        Some(FULL),
        Some("# comment only\n"),
        Some("domains = [\n  \"example.org\", # main\n  # more\n  \"x.example\",\n]\ntrusted_hosts = [\"::1\"] # local\nselecter = 1\n"),
        Some("not = [valid"),
    ])) {
        let out = write(&s, existing);
        prop_assert_eq!(parse(&out), Ok(s.clone()), "{}", out);
        prop_assert_eq!(write(&s, Some(&out)), out);
    }
}
