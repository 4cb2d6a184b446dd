//! Who listens on the SMTP port (25) now, parsed from /proc/net/tcp and tcp6 (proc(5), read
//! by `host::probe`), and whether that is what main.cf's `inet_protocols` and
//! `inet_interfaces` ask for. The Postfix master
//! reads both only when it starts: after a change, `postfix reload` keeps the old listeners,
//! and only a stop and start applies them (postconf(5)). Pure.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The addresses with a listening socket on port 25, and whether the host has IPv6 at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listeners {
    pub addrs: Vec<IpAddr>,
    pub ipv6_available: bool,
}

/// The listening addresses on port 25 in a /proc/net/tcp or tcp6 table. Each 32-bit word
/// of an address is printed in host byte order.
pub fn parse(table: &str) -> Vec<IpAddr> {
    table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (addr, port) = f.get(1)?.split_once(':')?;
            (port == "0019" && f.get(3) == Some(&"0A")).then_some(())?;
            let words: Vec<[u8; 4]> = (0..addr.len() / 8)
                .map(|i| u32::from_str_radix(&addr[i * 8..i * 8 + 8], 16).map(u32::to_ne_bytes))
                .collect::<Result<_, _>>()
                .ok()?;
            match words.as_slice() {
                [w] => Some(IpAddr::V4(Ipv4Addr::from(*w))),
                [a, b, c, d] => {
                    let mut bytes = [0u8; 16];
                    for (i, w) in [a, b, c, d].iter().enumerate() {
                        bytes[i * 4..i * 4 + 4].copy_from_slice(*w);
                    }
                    Some(IpAddr::V6(Ipv6Addr::from(bytes)))
                }
                _ => None,
            }
        })
        .collect()
}

/// What differs between the listeners and main.cf's `inet_protocols` and `inet_interfaces`
/// (their values, defaults applied by the caller), in one sentence; `None` when they agree,
/// or when nothing listens on port 25 (another port, or Postfix stopped: nothing to compare).
/// Interfaces given by host name are not compared.
pub fn pending(l: &Listeners, inet_protocols: &str, inet_interfaces: &str) -> Option<String> {
    if l.addrs.is_empty() {
        return None;
    }
    let (v4, v6) = (
        l.addrs.iter().any(IpAddr::is_ipv4),
        l.addrs.iter().any(IpAddr::is_ipv6),
    );
    let words = |v: &str| -> Vec<String> {
        v.split([',', ' ', '\t'])
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_lowercase)
            .collect()
    };
    let protocols = words(inet_protocols);
    let all = protocols.iter().any(|w| w == "all");
    let want_v4 = all || protocols.iter().any(|w| w == "ipv4");
    let want_v6 = (all || protocols.iter().any(|w| w == "ipv6")) && l.ipv6_available;
    if want_v4 != v4 || want_v6 != v6 {
        let listening = match (v4, v6) {
            (true, true) => "IPv4 and IPv6",
            (true, false) => "IPv4 only",
            _ => "IPv6 only",
        };
        return Some(format!(
            "main.cf says inet_protocols = {inet_protocols}, but Postfix listens with {listening}"
        ));
    }
    let interfaces = words(inet_interfaces);
    let wildcard = l.addrs.iter().any(IpAddr::is_unspecified);
    let shown = l
        .addrs
        .iter()
        .map(IpAddr::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let wants_wildcard = interfaces.iter().any(|w| w == "all");
    let specific = |w: &String| {
        matches!(w.as_str(), "loopback-only" | "localhost")
            || w.trim_matches(['[', ']']).parse::<IpAddr>().is_ok()
    };
    if wants_wildcard && !wildcard {
        return Some(format!(
            "main.cf says inet_interfaces = {inet_interfaces}, but Postfix listens on {shown} only"
        ));
    }
    if !wants_wildcard && wildcard && interfaces.iter().all(specific) {
        return Some(format!(
            "main.cf says inet_interfaces = {inet_interfaces}, but Postfix listens on every \
             address ({shown})"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "  sl  local_address rem_address   st tx_queue rx_queue\n";

    fn listeners(addrs: &[&str], ipv6_available: bool) -> Listeners {
        Listeners {
            addrs: addrs.iter().map(|a| a.parse().unwrap()).collect(),
            ipv6_available,
        }
    }

    #[test]
    fn proc_tables_give_the_listening_addresses_on_port_25() {
        let tcp = format!(
            "{HEADER}   0: 00000000:0019 00000000:0000 0A 0\n   1: 0100007F:0019 00000000:0000 0A 0\n\
               2: 0100007F:0019 0100007F:A2B4 01 0\n   3: 0100007F:14EB 00000000:0000 0A 0\n"
        );
        let want: Vec<IpAddr> = vec!["0.0.0.0".parse().unwrap(), "127.0.0.1".parse().unwrap()];
        if cfg!(target_endian = "little") {
            assert_eq!(parse(&tcp), want, "LISTEN on :25 only");
            let tcp6 = format!(
                "{HEADER}   0: 00000000000000000000000001000000:0019 \
                 00000000000000000000000000000000:0000 0A 0\n"
            );
            assert_eq!(parse(&tcp6), vec!["::1".parse::<IpAddr>().unwrap()]);
        }
    }

    #[test]
    fn a_reload_that_left_the_old_listeners_is_pending() {
        let all4 = listeners(&["0.0.0.0"], true);
        assert_eq!(pending(&all4, "ipv4", "all"), None);
        let p = pending(&all4, "all", "all").unwrap();
        assert!(
            p.contains("inet_protocols = all") && p.contains("IPv4 only"),
            "{p}"
        );
        assert_eq!(pending(&listeners(&["0.0.0.0"], false), "all", "all"), None);
        assert_eq!(
            pending(&listeners(&["0.0.0.0", "::"], true), "all", "all"),
            None
        );
        // inet_interfaces: loopback-only asked, every address still listened on, and back
        let p = pending(&all4, "ipv4", "loopback-only").unwrap();
        assert!(p.contains("every address (0.0.0.0)"), "{p}");
        let lo = listeners(&["127.0.0.1"], true);
        assert_eq!(pending(&lo, "ipv4", "loopback-only"), None);
        assert_eq!(pending(&lo, "ipv4", "127.0.0.1, [::1]"), None);
        let p = pending(&lo, "ipv4", "all").unwrap();
        assert!(p.contains("listens on 127.0.0.1 only"), "{p}");
        assert_eq!(
            pending(&all4, "ipv4", "mail.example.org"),
            None,
            "names: not compared"
        );
        assert_eq!(
            pending(&listeners(&[], true), "all", "all"),
            None,
            "nothing listens"
        );
    }
}
