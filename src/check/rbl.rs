//! Blocklists (DNSBL, RFC 5782): is one of this server's addresses listed?
//!
//! Asked through the first hop (a recursive resolver), as receivers do. An answer in
//! 127.0.0.0/8 means listed (RFC 5782 §2.1), except 127.255.255.x, which the lists use to
//! refuse a query (Spamhaus: 254 = through a public or open resolver, 255 = too many
//! queries, 252 = malformed): that, a failed lookup, or an answer outside 127.0.0.0/8
//! (a resolver that rewrites NXDOMAIN) is `rbl.unknown`, never "listed".

use std::net::{IpAddr, Ipv4Addr};

use super::{Finding, Severity, ids};
use crate::dns::{Dns, join_all, reverse_name};

/// One blocklist: its zone, whether it lists IPv6 addresses, and where to ask for removal.
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

/// Ask every list that covers `ip`, concurrently.
pub(super) async fn check(dns: &Dns, ip: IpAddr) -> Vec<Finding> {
    let lists: Vec<&Blocklist> = BLOCKLISTS
        .iter()
        .filter(|l| ip.is_ipv4() || l.ipv6)
        .collect();
    let names: Vec<String> = lists.iter().map(|l| query_name(ip, l.zone)).collect();
    let answers = join_all(names.iter().map(|n| dns.a(n)).collect()).await;
    let subject = ip.to_string();
    let mut findings = Vec::new();
    let mut unknown: Vec<(&Blocklist, String)> = Vec::new();
    for (list, answer) in lists.iter().zip(answers) {
        let codes = match answer {
            Ok(a) => a.records,
            Err(e) => {
                unknown.push((list, e.to_string()));
                continue;
            }
        };
        match classify(&codes) {
            Listing::NotListed => {}
            Listing::Refused(code) => unknown.push((
                list,
                format!("it answered {code}: the query was refused (e.g. sent through a public resolver), which does not mean listed"),
            )),
            Listing::Listed(codes) => {
                let found: Vec<String> = codes
                    .iter()
                    .map(|c| format!("{c} ({})", meaning(list.zone, *c)))
                    .collect();
                findings.push(
                    Finding::new(
                        ids::RBL_LISTED,
                        Severity::Error,
                        &subject,
                        format!(
                            "{} lists {ip}; many receivers reject or junk its mail",
                            list.zone
                        ),
                    )
                    .found(found.join("\n"))
                    .expected("not listed (NXDOMAIN)")
                    .fix(Some(format!(
                        "find out why at {} and request removal there; for a PBL listing of \
                         a server address, ask the provider or remove it at the same page",
                        list.removal
                    ))),
                );
            }
        }
    }
    if !unknown.is_empty() {
        let zones: Vec<&str> = unknown.iter().map(|(l, _)| l.zone).collect();
        let found: Vec<String> = unknown
            .iter()
            .map(|(l, why)| format!("{}: {why}", l.zone))
            .collect();
        let pages: Vec<&str> = unknown.iter().map(|(l, _)| l.removal).collect();
        findings.push(
            Finding::new(
                ids::RBL_UNKNOWN,
                Severity::Info,
                &subject,
                format!("could not tell whether {} list {ip}", zones.join(", ")),
            )
            .found(found.join("\n"))
            .fix(Some(format!(
                "blocklists refuse queries from public resolvers: run the check with a \
                 resolver of your own, or look {ip} up at {}",
                pages.join(", ")
            ))),
        );
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

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
