//! The demo's zones as master-file text (RFC 1035 §5), pure: the signing domains' zones, the
//! reverse zone of the server's IPv4, and the blocklists' zones with their RFC 5782 §5 test
//! entries. Before publishing a zone holds its SOA and NS records only; [`render`] with a
//! [`RecordSet`] adds every record `mailsetup records` prints, and the PTR requests into the
//! reverse zone (the provider's part, which the demo plays too).

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};

use crate::records::{RecordSet, Rtype, render};
use crate::settings::Settings;

/// The nameservers of every zone: `(label, address)`, each an NS record `<label>.<zone>.`
/// with its A record. They listen on one port ([`super::dns::DemoDns`]).
pub const NAMESERVERS: [(&str, Ipv4Addr); 2] = [
    ("ns1", Ipv4Addr::new(127, 0, 0, 1)),
    ("ns2", Ipv4Addr::new(127, 0, 0, 2)),
];

/// The blocklists `check` asks (`crate::check`'s rbl module), served with their test entry
/// only: 127.0.0.2 is listed, any other address not (NXDOMAIN).
pub const BLOCKLISTS: [&str; 3] = [
    "zen.spamhaus.org",
    "bl.spamcop.net",
    "b.barracudacentral.org",
];

/// The zones the demo serves, by origin (lowercase, no trailing dot): the signing domains,
/// the zone of the hostname when it is in none of them, the reverse zone of the IPv4, the
/// blocklists.
pub fn origins(settings: &Settings) -> Vec<String> {
    let mut out: Vec<String> = settings.domains.iter().map(|d| d.to_string()).collect();
    if !settings
        .domains
        .iter()
        .any(|d| settings.hostname.is_within(d))
    {
        let host = settings.hostname.as_str();
        out.push(
            host.split_once('.')
                .map_or(host, |(_, rest)| rest)
                .to_string(),
        );
    }
    if let Some(ip) = settings.ipv4 {
        out.push(reverse_zone(ip));
    }
    out.extend(BLOCKLISTS.iter().map(|z| z.to_string()));
    out
}

/// `c.b.a.in-addr.arpa` for a.b.c.d: the /24 a provider delegates.
pub fn reverse_zone(ip: Ipv4Addr) -> String {
    let [a, b, c, _] = ip.octets();
    format!("{c}.{b}.{a}.in-addr.arpa")
}

/// The master-file text of `origin` with SOA `serial`: SOA, NS and their addresses, the test
/// entry for a blocklist, and the records of `published` that belong in it (absolute owner
/// names; long TXT values split into character-strings).
pub fn render(origin: &str, serial: u32, published: Option<&RecordSet>) -> String {
    let mut z = format!(
        "$ORIGIN {origin}.\n$TTL 60\n\
         @ IN SOA ns1.{origin}. hostmaster.{origin}. {serial} 3600 600 86400 60\n"
    );
    for (label, ip) in NAMESERVERS {
        let _ = writeln!(z, "@ IN NS {label}.{origin}.\n{label} IN A {ip}");
    }
    if BLOCKLISTS.contains(&origin) {
        z.push_str("2.0.0.127 IN A 127.0.0.2\n");
    }
    let Some(set) = published else {
        return z;
    };
    for r in set.records.iter().filter(|r| r.zone.as_str() == origin) {
        let value = match r.rtype {
            Rtype::TXT => render::txt_strings(&r.value),
            _ => r.value.clone(),
        };
        let _ = writeln!(z, "{} IN {} {value}", r.fqdn, r.rtype.as_str());
    }
    for p in &set.ptr {
        let here = match p.ip {
            IpAddr::V4(ip) => reverse_zone(ip) == origin,
            IpAddr::V6(_) => false,
        };
        if here {
            let _ = writeln!(z, "{} IN PTR {}", p.name, p.value);
        }
    }
    z
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        crate::answers::parse(super::super::ANSWERS).unwrap()
    }

    #[test]
    fn every_zone_before_publishing_has_its_soa_and_two_nameservers() {
        let s = settings();
        assert_eq!(
            origins(&s),
            [
                "example.org",
                "example.net",
                "2.0.192.in-addr.arpa",
                "zen.spamhaus.org",
                "bl.spamcop.net",
                "b.barracudacentral.org"
            ]
        );
        let z = render("example.net", 7, None);
        assert!(z.contains("@ IN SOA ns1.example.net. hostmaster.example.net. 7 "));
        assert!(z.contains("@ IN NS ns2.example.net.\nns2 IN A 127.0.0.2\n"));
        assert!(render("bl.spamcop.net", 1, None).ends_with("2.0.0.127 IN A 127.0.0.2\n"));
    }

    #[test]
    fn publishing_puts_each_record_in_its_zone() {
        let s = settings();
        let addrs = crate::values::ServerAddrs::new(s.ipv4, s.ipv6).unwrap();
        let mut keys = std::collections::BTreeMap::new();
        keys.insert(s.domains[0].clone(), "A".repeat(400));
        let set = crate::records::build(&s, addrs, &keys);
        let org = render("example.org", 2, Some(&set));
        assert!(
            org.contains("example.org. IN MX 10 mail.example.org.\n"),
            "{org}"
        );
        assert!(org.contains("mail.example.org. IN A 192.0.2.10\n"), "{org}");
        assert!(org.contains("mail._domainkey.example.org. IN TXT \"v=DKIM1; k=rsa; \" \"p="));
        assert!(org.contains("example.net._report._dmarc.example.org. IN TXT \"v=DMARC1\""));
        let net = render("example.net", 2, Some(&set));
        assert!(
            net.contains("_dmarc.example.net. IN TXT \"v=DMARC1; p=quarantine"),
            "{net}"
        );
        assert!(!net.contains("mail.example.org. IN A"));
        let rev = render("2.0.192.in-addr.arpa", 2, Some(&set));
        assert!(
            rev.contains("10.2.0.192.in-addr.arpa. IN PTR mail.example.org.\n"),
            "{rev}"
        );
    }
}
