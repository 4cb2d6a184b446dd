//! Blocklists (DNSBL, RFC 5782): is one of this server's addresses listed?
//!
//! Asked through the first hop (a recursive resolver), as receivers do. An answer in
//! 127.0.0.0/8 means listed (RFC 5782 §2.1), except 127.255.255.x, which the lists use to
//! refuse a query (Spamhaus: 254 = through a public or open resolver, 255 = too many
//! queries, 252 = malformed): that, a failed lookup, or an answer outside 127.0.0.0/8
//! (a resolver that rewrites NXDOMAIN) is `rbl.unknown`, never "listed".

use std::net::{IpAddr, Ipv4Addr};

use super::{Finding, Severity, ids};
use crate::dns::{Answer, Dns, LookupError, join_all, reverse_name};

/// One blocklist: its zone, whether it lists IPv6 addresses, and where to ask for removal.
#[derive(Debug)]
pub(super) struct Blocklist {
    pub zone: &'static str,
    pub ipv6: bool,
    pub removal: &'static str,
}

/// The lists asked: Spamhaus ZEN (SBL, CSS, XBL, PBL; IPv4 and IPv6), SpamCop, Barracuda.
pub(super) const BLOCKLISTS: &[Blocklist] = &[
    Blocklist {
        zone: "zen.spamhaus.org",
        ipv6: true,
        removal: "https://check.spamhaus.org/",
    },
    Blocklist {
        zone: "bl.spamcop.net",
        ipv6: false,
        removal: "https://www.spamcop.net/bl.shtml",
    },
    Blocklist {
        zone: "b.barracudacentral.org",
        ipv6: false,
        removal: "https://www.barracudacentral.org/rbl/removal-request",
    },
];

/// The DNSBL query name of `ip` in `zone`: reversed octets (IPv4) or nibbles (IPv6) under
/// the list's zone (RFC 5782 §2.1, §2.4).
pub(super) fn query_name(ip: IpAddr, zone: &str) -> String {
    let reverse = reverse_name(ip);
    let labels = reverse
        .strip_suffix(".in-addr.arpa")
        .or_else(|| reverse.strip_suffix(".ip6.arpa"))
        .unwrap_or(&reverse);
    format!("{labels}.{zone}")
}

/// What an A answer of a DNSBL means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Listing {
    NotListed,
    Listed(Vec<Ipv4Addr>),
    /// The list refused (127.255.255.x) or the answer is not a DNSBL code.
    Refused(Ipv4Addr),
}

/// Classify the A records of a DNSBL answer (RFC 5782 §2.1, §5).
pub(super) fn classify(codes: &[Ipv4Addr]) -> Listing {
    if codes.is_empty() {
        return Listing::NotListed;
    }
    if let Some(bad) = codes
        .iter()
        .find(|c| c.octets()[0] != 127 || c.octets()[..3] == [127, 255, 255])
    {
        return Listing::Refused(*bad);
    }
    Listing::Listed(codes.to_vec())
}

/// Spamhaus ZEN return codes (https://docs.spamhaus.com/datasets/docs/source/40-real-world-usage/PublicMirrors/MTAs/020-Postfix.html).
fn meaning(zone: &str, code: Ipv4Addr) -> &'static str {
    if zone != "zen.spamhaus.org" {
        return "listed";
    }
    match code.octets()[3] {
        2 => "SBL: a known spam source",
        3 => "CSS: recently sent low-reputation mail",
        4..=7 => "XBL: an infected or hijacked host",
        9 => "DROP: a hijacked network",
        10 | 11 => "PBL: an address range that should not send mail directly",
        _ => "listed",
    }
}

/// What the blocklists said about one address: each list that covers it (IPv6 only the
/// lists with `ipv6`), in [`BLOCKLISTS`] order, with its A answer at the query name, or why
/// there is none.
#[derive(Debug, Clone)]
pub(super) struct Gathered {
    pub answers: Vec<(&'static Blocklist, Result<Answer<Ipv4Addr>, LookupError>)>,
}

/// Ask every list that covers `ip`, concurrently, through the first hop `dns`.
pub(super) async fn gather(dns: &Dns, ip: IpAddr) -> Gathered {
    let lists: Vec<&'static Blocklist> = BLOCKLISTS
        .iter()
        .filter(|l| ip.is_ipv4() || l.ipv6)
        .collect();
    let names: Vec<String> = lists.iter().map(|l| query_name(ip, l.zone)).collect();
    let answers = join_all(names.iter().map(|n| dns.a(n)).collect()).await;
    Gathered {
        answers: lists.into_iter().zip(answers).collect(),
    }
}

/// The findings about `ip`: an `rbl.listed` error per list that lists it, and one
/// `rbl.unknown` (info; the check's status is then unknown) naming every list that could
/// not say: no answer, a refusal code, or an answer that is no DNSBL code ([`classify`]).
pub(super) fn judge(g: &Gathered, ip: IpAddr) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut unknown: Vec<(&Blocklist, String)> = Vec::new();
    for (list, answer) in &g.answers {
        let codes = match answer {
            Ok(a) => &a.records,
            Err(e) => {
                unknown.push((list, e.to_string()));
                continue;
            }
        };
        match classify(codes) {
            Listing::NotListed => {}
            Listing::Refused(code) => unknown.push((
                list,
                format!("it answered {code}: the query was refused (e.g. sent through a public resolver), which does not mean listed"),
            )),
            Listing::Listed(codes) => findings.push(listed(list, &codes, ip)),
        }
    }
    if !unknown.is_empty() {
        findings.push(not_known(&unknown, ip));
    }
    findings
}

/// `rbl.listed`: `list` lists `ip` with these codes.
fn listed(list: &Blocklist, codes: &[Ipv4Addr], ip: IpAddr) -> Finding {
    let found: Vec<String> = codes
        .iter()
        .map(|c| format!("{c} ({})", meaning(list.zone, *c)))
        .collect();
    Finding::new(
        ids::RBL_LISTED,
        Severity::Error,
        &ip.to_string(),
        format!(
            "{} lists {ip}; many receivers reject or junk its mail",
            list.zone
        ),
    )
    .found(found.join("\n"))
    .expected("not listed (NXDOMAIN)")
    .fix(Some(format!(
        "find out why at {} and request removal there; for a PBL listing of a server \
         address, ask the provider or remove it at the same page",
        list.removal
    )))
}

/// `rbl.unknown`: these lists could not say whether they list `ip`, and why.
fn not_known(unknown: &[(&Blocklist, String)], ip: IpAddr) -> Finding {
    let zones: Vec<&str> = unknown.iter().map(|(l, _)| l.zone).collect();
    let found: Vec<String> = unknown
        .iter()
        .map(|(l, why)| format!("{}: {why}", l.zone))
        .collect();
    let pages: Vec<&str> = unknown.iter().map(|(l, _)| l.removal).collect();
    Finding::new(
        ids::RBL_UNKNOWN,
        Severity::Info,
        &ip.to_string(),
        format!("could not tell whether {} list {ip}", zones.join(", ")),
    )
    .found(found.join("\n"))
    .fix(Some(format!(
        "blocklists refuse queries from public resolvers: run the check with a resolver of \
         your own, or look {ip} up at {}",
        pages.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{answer, could_not_ask, ids_of};
    use super::super::{Status, status};
    use super::*;

    fn v4() -> IpAddr {
        "192.0.2.25".parse().unwrap()
    }

    fn code(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    /// The lists of an IPv4 address answering these, in order.
    fn said(answers: [Result<Answer<Ipv4Addr>, LookupError>; 3]) -> Gathered {
        Gathered {
            answers: BLOCKLISTS.iter().zip(answers).collect(),
        }
    }

    #[test]
    fn not_listed_anywhere_passes() {
        let g = said([Ok(answer(&[])), Ok(answer(&[])), Ok(answer(&[]))]);
        assert_eq!(judge(&g, v4()), []);
    }

    #[test]
    fn a_listing_is_an_error_with_the_meaning_of_its_code() {
        let g = said([
            Ok(answer(&[code("127.0.0.2")])),
            Ok(answer(&[])),
            Ok(answer(&[])),
        ]);
        let findings = judge(&g, v4());
        assert_eq!(ids_of(&findings), [ids::RBL_LISTED]);
        let f = &findings[0];
        assert_eq!(
            f.message,
            "zen.spamhaus.org lists 192.0.2.25; many receivers reject or junk its mail"
        );
        assert_eq!(
            f.found.as_deref(),
            Some("127.0.0.2 (SBL: a known spam source)")
        );
        assert!(
            f.fix
                .as_deref()
                .unwrap()
                .contains("https://check.spamhaus.org/")
        );
        assert_eq!(status(&findings), Status::Fail);
    }

    #[test]
    fn a_refusal_code_is_unknown_not_listed() {
        let g = said([
            Ok(answer(&[code("127.255.255.254")])),
            Ok(answer(&[])),
            Ok(answer(&[])),
        ]);
        let findings = judge(&g, v4());
        assert_eq!(ids_of(&findings), [ids::RBL_UNKNOWN]);
        assert_eq!(findings[0].severity, Severity::Info);
        assert!(
            findings[0]
                .found
                .as_deref()
                .unwrap()
                .starts_with("zen.spamhaus.org: it answered 127.255.255.254")
        );
        assert_eq!(status(&findings), Status::Unknown);
    }

    #[test]
    fn could_not_ask_is_unknown_never_a_pass() {
        for e in could_not_ask() {
            let g = said([Ok(answer(&[])), Err(e.clone()), Err(e)]);
            let findings = judge(&g, v4());
            assert_eq!(ids_of(&findings), [ids::RBL_UNKNOWN]);
            assert_eq!(
                findings[0].message,
                "could not tell whether bl.spamcop.net, b.barracudacentral.org list 192.0.2.25"
            );
            assert_eq!(status(&findings), Status::Unknown);
        }
    }

    #[test]
    fn a_listing_next_to_an_unknown_still_fails() {
        let g = said([
            Err(LookupError::Timeout),
            Ok(answer(&[code("127.0.0.2")])),
            Ok(answer(&[])),
        ]);
        let findings = judge(&g, v4());
        assert_eq!(ids_of(&findings), [ids::RBL_LISTED, ids::RBL_UNKNOWN]);
        assert_eq!(status(&findings), Status::Fail);
    }

    #[test]
    fn query_names_reverse_the_address() {
        let v4: IpAddr = "192.0.2.25".parse().unwrap();
        assert_eq!(
            query_name(v4, "zen.spamhaus.org"),
            "25.2.0.192.zen.spamhaus.org"
        );
        let v6: IpAddr = "2001:db8::25".parse().unwrap();
        let name = query_name(v6, "zen.spamhaus.org");
        assert!(name.starts_with("5.2.0.0.0.0.0.0"), "{name}");
        assert!(
            name.ends_with(".8.b.d.0.1.0.0.2.zen.spamhaus.org"),
            "{name}"
        );
        assert_eq!(name.split('.').count(), 32 + 3);
    }

    #[test]
    fn codes_are_classified() {
        let ip = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        assert_eq!(classify(&[]), Listing::NotListed);
        assert_eq!(
            classify(&[ip("127.0.0.2"), ip("127.0.0.11")]),
            Listing::Listed(vec![ip("127.0.0.2"), ip("127.0.0.11")])
        );
        for refused in ["127.255.255.254", "127.255.255.255", "127.255.255.252"] {
            assert_eq!(classify(&[ip(refused)]), Listing::Refused(ip(refused)));
        }
        // a resolver that rewrites NXDOMAIN to an ad server
        assert_eq!(
            classify(&[ip("198.51.100.7")]),
            Listing::Refused(ip("198.51.100.7"))
        );
        assert_eq!(
            meaning("zen.spamhaus.org", ip("127.0.0.10")),
            "PBL: an address range that should not send mail directly"
        );
    }
}
