//! Table-driven tests for the value parsers other than `Domain`/`Selector`, and the G4.7
//! text rules for all of them.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;

/// Asserts `result` is an error whose rule contains `needle`.
pub(super) fn rejects<T: std::fmt::Debug>(input: &str, result: Result<T, Rule>, needle: &str) {
    match result {
        Ok(v) => panic!("{input:?} was accepted as {v:?}; expected a rule containing {needle:?}"),
        Err(rule) => assert!(
            rule.0.contains(needle),
            "{input:?}: rule {:?} does not contain {needle:?}",
            rule.0
        ),
    }
}

#[test]
fn ipv4_cases() {
    for ok in [
        "192.0.2.10",
        "198.51.100.1",
        "203.0.113.255",
        "10.1.2.3",
        "8.8.8.8",
    ] {
        assert_eq!(parse_public_ipv4(ok), Ok(ok.parse().expect("literal")));
    }
    let cases: &[(&str, &str)] = &[
        ("", "must be an IPv4 address"),
        ("192.0.2", "must be an IPv4 address"),
        ("192.0.2.256", "must be an IPv4 address"),
        ("192.000.2.1", "must be an IPv4 address"),
        ("192.0.2.1/24", "must be an IPv4 address"),
        ("2001:db8::1", "is an IPv6 address"),
        ("0.0.0.0", "0.0.0.0/8"),
        ("0.1.2.3", "0.0.0.0/8"),
        ("127.0.0.1", "loopback"),
        ("127.1.2.3", "loopback"),
        ("169.254.1.1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.255", "multicast"),
        ("255.255.255.255", "broadcast"),
        ("240.0.0.1", "reserved"),
        ("192.0.2.1\n", "control characters"),
        (" 192.0.2.1", "whitespace"),
    ];
    for (input, needle) in cases {
        rejects(input, parse_public_ipv4(input), needle);
    }
}

#[test]
fn ipv6_cases() {
    for (input, canon) in [
        ("2001:db8::10", "2001:db8::10"),
        ("2001:DB8:0:0:0:0:0:10", "2001:db8::10"),
        ("fd00::1", "fd00::1"),
    ] {
        assert_eq!(
            parse_public_ipv6(input).map(|ip| ip.to_string()),
            Ok(canon.to_string())
        );
    }
    let cases: &[(&str, &str)] = &[
        ("::", "unspecified"),
        ("::1", "loopback"),
        ("ff02::1", "multicast"),
        ("fe80::1", "link-local"),
        ("febf::1", "link-local"),
        ("::ffff:192.0.2.1", "IPv4-mapped"),
        ("::FFFF:1.2.3.4", "IPv4-mapped"),
        ("::192.0.2.1", "IPv4-compatible"),
        ("192.0.2.1", "is an IPv4 address"),
        ("fe80::1%eth0", "must be an IPv6 address"),
        ("2001:db8::/32", "must be an IPv6 address"),
        ("[2001:db8::1]", "must be an IPv6 address"),
        ("2001:db8::1\u{2028}", "separator"),
    ];
    for (input, needle) in cases {
        rejects(input, parse_public_ipv6(input), needle);
    }
}

/// Every block `private_range` names, at its first and last address, with the block and
/// its RFC; the addresses just outside each block are not in it; public and hard-refused
/// addresses are in none.
#[test]
fn private_ranges() {
    let inside: &[(&str, &str, &str)] = &[
        ("10.0.0.0", "10.0.0.0/8 is a private range", "RFC 1918"),
        (
            "10.255.255.255",
            "10.0.0.0/8 is a private range",
            "RFC 1918",
        ),
        ("172.16.0.1", "172.16.0.0/12 is a private range", "RFC 1918"),
        (
            "172.31.255.255",
            "172.16.0.0/12 is a private range",
            "RFC 1918",
        ),
        (
            "192.168.0.1",
            "192.168.0.0/16 is a private range",
            "RFC 1918",
        ),
        (
            "192.168.255.254",
            "192.168.0.0/16 is a private range",
            "RFC 1918",
        ),
        (
            "100.64.0.1",
            "100.64.0.0/10 is the carrier-grade NAT range",
            "RFC 6598",
        ),
        (
            "100.127.255.254",
            "100.64.0.0/10 is the carrier-grade NAT range",
            "RFC 6598",
        ),
        (
            "192.0.2.10",
            "192.0.2.0/24 is a documentation range",
            "RFC 5737",
        ),
        (
            "198.51.100.255",
            "198.51.100.0/24 is a documentation range",
            "RFC 5737",
        ),
        (
            "203.0.113.0",
            "203.0.113.0/24 is a documentation range",
            "RFC 5737",
        ),
        (
            "198.18.0.1",
            "198.18.0.0/15 is the benchmarking range",
            "RFC 2544",
        ),
        (
            "198.19.255.255",
            "198.18.0.0/15 is the benchmarking range",
            "RFC 2544",
        ),
        ("fc00::1", "fc00::/7 is a unique local range", "RFC 4193"),
        (
            "fdff:ffff::1",
            "fc00::/7 is a unique local range",
            "RFC 4193",
        ),
        (
            "fec0::1",
            "fec0::/10 is the deprecated site-local range",
            "RFC 3879",
        ),
        (
            "feff::1",
            "fec0::/10 is the deprecated site-local range",
            "RFC 3879",
        ),
        (
            "2001:db8::10",
            "2001:db8::/32 is a documentation range",
            "RFC 3849",
        ),
        (
            "2001:db8:ffff::1",
            "2001:db8::/32 is a documentation range",
            "RFC 3849",
        ),
        ("3fff::1", "3fff::/20 is a documentation range", "RFC 9637"),
        (
            "3fff:fff::1",
            "3fff::/20 is a documentation range",
            "RFC 9637",
        ),
        (
            "2001:2::1",
            "2001:2::/48 is the benchmarking range",
            "RFC 5180",
        ),
        (
            "2001:2:0:ffff::1",
            "2001:2::/48 is the benchmarking range",
            "RFC 5180",
        ),
    ];
    for (ip, block, source) in inside {
        let addr: IpAddr = ip.parse().expect("literal");
        let range = private_range(addr).unwrap_or_else(|| panic!("{ip} is in no range"));
        assert_eq!(range.to_string(), format!("{block} ({source})"), "{ip}");
        assert_eq!(range.source, *source);
        match addr {
            IpAddr::V4(_) => assert!(parse_public_ipv4(ip).is_ok(), "{ip}: not a hard refusal"),
            IpAddr::V6(_) => assert!(parse_public_ipv6(ip).is_ok(), "{ip}: not a hard refusal"),
        }
    }
    for ip in [
        "9.255.255.255",
        "11.0.0.0",
        "172.15.255.255",
        "172.32.0.0",
        "192.167.255.255",
        "192.169.0.0",
        "100.63.255.255",
        "100.128.0.0",
        "192.0.1.255",
        "192.0.3.0",
        "198.51.99.255",
        "198.51.101.0",
        "203.0.112.255",
        "203.0.114.0",
        "198.17.255.255",
        "198.20.0.0",
        "8.8.8.8",
        "127.0.0.1",
        "169.254.1.1",
        "fbff::1",
        "fe00::1",
        "ff00::1",
        "2001:db7:ffff::1",
        "2001:db9::1",
        "3fff:1000::1",
        "2001:1::1",
        "2001:2:1::1",
        "2a00:1450::1",
        "::1",
        "fe80::1",
    ] {
        let addr: IpAddr = ip.parse().expect("literal");
        assert_eq!(private_range(addr), None, "{ip}");
    }
}

#[test]
fn small_enums() {
    for (n, b) in [
        (1024, KeyBits::B1024),
        (2048, KeyBits::B2048),
        (3072, KeyBits::B3072),
        (4096, KeyBits::B4096),
    ] {
        assert_eq!(KeyBits::from_bits(n), Ok(b));
        assert_eq!(b.bits() as i64, n);
    }
    for n in [0, 512, 1023, 2047, 8192, -2048] {
        rejects(
            &n.to_string(),
            KeyBits::from_bits(n),
            "one of 1024, 2048, 3072, 4096",
        );
    }
    for p in [InetProtocols::Ipv4, InetProtocols::Ipv6, InetProtocols::All] {
        assert_eq!(InetProtocols::parse(p.as_str()), Ok(p));
    }
    for p in [SpfAll::SoftFail, SpfAll::Fail] {
        assert_eq!(SpfAll::parse(p.as_str()), Ok(p));
    }
    for p in [
        DmarcPolicy::None,
        DmarcPolicy::Quarantine,
        DmarcPolicy::Reject,
    ] {
        assert_eq!(DmarcPolicy::parse(p.as_str()), Ok(p));
    }
    for bad in ["IPv4", "ipv4 ", "both", "", "ipv4\n"] {
        assert!(InetProtocols::parse(bad).is_err(), "{bad:?}");
    }
    for bad in ["+all", "?all", "all", "~ALL", "-all #"] {
        assert!(SpfAll::parse(bad).is_err(), "{bad:?}");
    }
    for bad in ["None", "quarantine;", "reject\n", "p=none", ""] {
        assert!(DmarcPolicy::parse(bad).is_err(), "{bad:?}");
    }
    rejects("+all", SpfAll::parse("+all"), "RFC 7208");
    rejects("x", DmarcPolicy::parse("x"), "RFC 7489");
    rejects("x", InetProtocols::parse("x"), "postconf(5)");
}

#[test]
fn socket_cases() {
    assert_eq!(MilterSocket::parse("local"), Ok(MilterSocket::Local));
    let inet = MilterSocket::parse("inet:8891").expect("valid");
    assert_eq!(inet, MilterSocket::Inet(Port::new(8891).expect("valid")));
    assert_eq!(inet.as_answer(), "inet:8891");
    assert_eq!(MilterSocket::Local.as_answer(), "local");
    assert_eq!(
        MilterSocket::parse("inet:65535").map(|s| s.as_answer()),
        Ok("inet:65535".into())
    );
    assert_eq!(
        MilterSocket::parse("inet:1").map(|s| s.as_answer()),
        Ok("inet:1".into())
    );
    let cases: &[(&str, &str)] = &[
        ("inet:0", "1 to 65535"),
        ("inet:65536", "1 to 65535"),
        ("inet:99999999999", "1 to 65535"),
        ("inet:", "1 to 65535"),
        ("inet:+8891", "1 to 65535"),
        ("inet:8891@localhost", "give only the port"),
        ("inet:127.0.0.1:8891", "give only the port"),
        ("unix:/run/x.sock", "must be \"local\""),
        ("Local", "must be \"local\""),
        ("inet:8891\n", "control characters"),
    ];
    for (input, needle) in cases {
        rejects(input, MilterSocket::parse(input), needle);
    }
    assert!(Port::new(0).is_err());
}

#[test]
fn trusted_host_valid() {
    let v4 = |s: &str| IpAddr::V4(s.parse::<Ipv4Addr>().expect("literal"));
    let v6 = |s: &str| IpAddr::V6(s.parse::<Ipv6Addr>().expect("literal"));
    let cases = [
        ("127.0.0.1", TrustedHost::Ip(v4("127.0.0.1")), "127.0.0.1"),
        ("::1", TrustedHost::Ip(v6("::1")), "::1"),
        ("0:0:0:0:0:0:0:1", TrustedHost::Ip(v6("::1")), "::1"),
        (
            "2001:DB8::A",
            TrustedHost::Ip(v6("2001:db8::a")),
            "2001:db8::a",
        ),
        ("::FFFF:1.2.3.4", TrustedHost::Ip(v4("1.2.3.4")), "1.2.3.4"),
        (
            "10.0.0.0/8",
            TrustedHost::Net(v4("10.0.0.0"), 8),
            "10.0.0.0/8",
        ),
        (
            "192.0.2.7/32",
            TrustedHost::Net(v4("192.0.2.7"), 32),
            "192.0.2.7/32",
        ),
        (
            "2001:DB8::/32",
            TrustedHost::Net(v6("2001:db8::"), 32),
            "2001:db8::/32",
        ),
        (
            "::ffff:10.0.0.0/104",
            TrustedHost::Net(v4("10.0.0.0"), 8),
            "10.0.0.0/8",
        ),
        (
            "localhost",
            TrustedHost::Host("localhost".into()),
            "localhost",
        ),
        (
            "LocalHost",
            TrustedHost::Host("localhost".into()),
            "localhost",
        ),
        (
            "Relay.Example.org",
            TrustedHost::Host("relay.example.org".into()),
            "relay.example.org",
        ),
        (
            "bücher.example",
            TrustedHost::Host("xn--bcher-kva.example".into()),
            "xn--bcher-kva.example",
        ),
    ];
    for (input, want, shown) in cases {
        let got = TrustedHost::parse(input).unwrap_or_else(|r| panic!("{input:?}: {r}"));
        assert_eq!(got, want, "{input:?}");
        assert_eq!(got.to_string(), shown);
    }
}

#[test]
fn trusted_host_invalid() {
    let cases: &[(&str, &str)] = &[
        (
            "10.0.0.1/8",
            "host bits must be zero, did you mean 10.0.0.0/8?",
        ),
        ("192.168.1.1/24", "did you mean 192.168.1.0/24?"),
        ("2001:db8::1/32", "did you mean 2001:db8::/32?"),
        ("!10.0.0.0/8", "must not start with '!'"),
        ("!localhost", "must not start with '!'"),
        ("0.0.0.0/0", "would trust every address"),
        ("::/0", "would trust every address"),
        ("10.0.0.0/33", "at most 32"),
        ("2001:db8::/129", "at most 128"),
        ("10.0.0.0/", "prefix length after '/' must be a number"),
        ("10.0.0.0/8/8", "prefix length after '/' must be a number"),
        ("10.0.0.0/x", "prefix length after '/' must be a number"),
        ("10.0.0.0/999", "at most 32"),
        ("example.org/24", "must be an IP address"),
        ("0.0.0.0", "unspecified or multicast"),
        ("224.0.0.1", "unspecified or multicast"),
        ("10.0.0.256", "not a valid IP address"),
        ("1.2.3", "not a valid IP address"),
        ("fe80::1%eth0", "not a valid IP address"),
        ("a..com", "label must not be empty"),
        ("mailhub", "at least two labels"),
        ("a.com|.*", "found '|'"),
        ("*.example.org", "found '*'"),
        ("127.0.0.1 #", "'#'"),
        ("127.0.0.1\n10.0.0.0/8", "control characters"),
        ("", "must not be empty"),
    ];
    for (input, needle) in cases {
        rejects(input, TrustedHost::parse(input), needle);
    }
}

#[test]
fn mailto_cases() {
    let m = MailtoUri::parse("mailto:dmarc-reports_1.x@Example.ORG").expect("valid");
    assert_eq!(m.local(), "dmarc-reports_1.x");
    assert_eq!(m.domain().as_str(), "example.org");
    assert_eq!(m.to_string(), "mailto:dmarc-reports_1.x@example.org");
    let idn = MailtoUri::parse("mailto:a@bücher.example").expect("valid");
    assert_eq!(idn.to_string(), "mailto:a@xn--bcher-kva.example");
    let long_local = format!("mailto:{}@x.com", "a".repeat(65));
    let cases: &[(&str, &str)] = &[
        ("mailto:a,b@x.com", "one address without ','"),
        (
            "mailto:a@x.com,mailto:evil@y.com",
            "one address without ','",
        ),
        ("mailto:a+b@x.com", "found '+'"),
        ("mailto:a%2Cb@x.com", "found '%'"),
        ("mailto:a;b@x.com", "found ';'"),
        ("mailto:a b@x.com", "found ' '"),
        ("mailto:a@x.com!10m", "size limit"),
        ("mailto:a!b@x.com", "size limit"),
        ("mailto:a@x.com;ruf=mailto:b@y.com", "found ';'"),
        ("mailto:a@x.com?subject=x", "found '?'"),
        ("postmaster@example.org", "must start with \"mailto:\""),
        ("MAILTO:a@x.com", "must start with \"mailto:\""),
        ("mailto:", "must contain '@'"),
        ("mailto:a", "must contain '@'"),
        ("mailto:@x.com", "local part before '@' must not be empty"),
        ("mailto:a@b@x.com", "found '@'"),
        ("mailto:.a@x.com", "dot-atom"),
        ("mailto:a.@x.com", "dot-atom"),
        ("mailto:a..b@x.com", "dot-atom"),
        (&long_local, "at most 64"),
        (
            "mailto:a@x..com",
            "the domain after '@' is not valid: a label must not be empty",
        ),
        ("mailto:a@localhost", "the domain after '@' is not valid"),
        ("mailto:a@x.com.", "must not end with a dot"),
        ("mailto:a@x.com\n", "control characters"),
        ("mailto:a@x.com #", "'#'"),
    ];
    for (input, needle) in cases {
        rejects(input, MailtoUri::parse(input), needle);
    }
}

/// A value parser with its value dropped.
type Checker = fn(&str) -> Result<(), Rule>;

/// G4.7 is checked first by every string parser, so the rule named is the text rule.
#[test]
fn text_rules_come_first() {
    let parsers: [(&str, Checker); 10] = [
        ("domain", |s| Domain::parse(s).map(drop)),
        ("selector", |s| Selector::parse(s).map(drop)),
        ("ipv4", |s| parse_public_ipv4(s).map(drop)),
        ("ipv6", |s| parse_public_ipv6(s).map(drop)),
        ("inet", |s| InetProtocols::parse(s).map(drop)),
        ("socket", |s| MilterSocket::parse(s).map(drop)),
        ("trusted", |s| TrustedHost::parse(s).map(drop)),
        ("spf", |s| SpfAll::parse(s).map(drop)),
        ("dmarc", |s| DmarcPolicy::parse(s).map(drop)),
        ("rua", |s| MailtoUri::parse(s).map(drop)),
    ];
    for (name, parse) in parsers {
        for (input, needle) in [
            ("x\ny", "control characters"),
            ("x\u{0}", "control characters"),
            ("x\u{1b}[31m", "control characters"),
            ("x\u{2028}", "separator"),
            ("x#", "'#'"),
            ("\tx", "control characters"),
            ("x ", "whitespace"),
            ("\u{3000}x", "whitespace"),
        ] {
            match parse(input) {
                Ok(()) => panic!("{name}: {input:?} accepted"),
                Err(r) => assert!(r.0.contains(needle), "{name}: {input:?}: {r}"),
            }
        }
    }
}

/// One family or both, never neither; the IPv4 first.
#[test]
fn server_addrs_hold_at_least_one_address() {
    let v4: Ipv4Addr = "192.0.2.10".parse().unwrap();
    let v6: Ipv6Addr = "2001:db8::10".parse().unwrap();
    assert_eq!(ServerAddrs::new(None, None), None);
    let cases = [
        (Some(v4), None, ServerAddrs::V4(v4), vec![IpAddr::V4(v4)]),
        (None, Some(v6), ServerAddrs::V6(v6), vec![IpAddr::V6(v6)]),
        (
            Some(v4),
            Some(v6),
            ServerAddrs::Both(v4, v6),
            vec![IpAddr::V4(v4), IpAddr::V6(v6)],
        ),
    ];
    for (ipv4, ipv6, want, all) in cases {
        let a = ServerAddrs::new(ipv4, ipv6).unwrap();
        assert_eq!(a, want);
        assert_eq!((a.ipv4(), a.ipv6()), (ipv4, ipv6));
        assert_eq!(a.all(), all);
    }
}
