//! Which nameserver `check` asks: [`Nameserver`] and its CLI form `IP[:PORT]`.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use super::{DNS_PORT, sanitize};
use crate::values::Rule;

/// Which nameserver answers the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nameserver {
    /// The resolvers in /etc/resolv.conf.
    System,
    /// Only this server, UDP and TCP on the given port. It may be a recursive resolver or an
    /// authoritative server (queries keep RD=1, which an authoritative server ignores).
    At(SocketAddr),
}

impl Nameserver {
    /// Parse the CLI form `IP[:PORT]`: `192.0.2.53`, `192.0.2.53:5353`, `::1`, `[::1]`,
    /// `[::1]:5353`. The port defaults to 53 and must be 1..=65535. An IPv6 address with a
    /// port must be bracketed (RFC 3986 §3.2.2), since `::1:53` is itself an IPv6 address.
    /// Host names are not accepted: resolving one would need a nameserver first.
    ///
    /// Errors: a [`Rule`] naming the expected form.
    pub fn parse(s: &str) -> Result<Nameserver, Rule> {
        let s = s.trim();
        let addr = if let Ok(sa) = SocketAddr::from_str(s) {
            sa
        } else if let Ok(ip) = IpAddr::from_str(s) {
            SocketAddr::new(ip, DNS_PORT)
        } else if let Some(ip) = s
            .strip_prefix('[')
            .and_then(|r| r.strip_suffix(']'))
            .and_then(|r| Ipv6Addr::from_str(r).ok())
        {
            SocketAddr::new(IpAddr::V6(ip), DNS_PORT)
        } else {
            return Err(Rule(format!(
                "a nameserver is an IP address with an optional port: 192.0.2.53, \
                 192.0.2.53:5353, ::1 or [::1]:5353 (got {:?})",
                sanitize(s)
            )));
        };
        if addr.port() == 0 {
            return Err(Rule("a nameserver port must be 1 to 65535".into()));
        }
        Ok(Nameserver::At(addr))
    }
}

impl FromStr for Nameserver {
    type Err = Rule;
    fn from_str(s: &str) -> Result<Self, Rule> {
        Nameserver::parse(s)
    }
}

/// `the system resolver (/etc/resolv.conf)` or the socket address (`192.0.2.53:53`,
/// `[::1]:5353`), for messages.
impl fmt::Display for Nameserver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Nameserver::System => f.write_str("the system resolver (/etc/resolv.conf)"),
            Nameserver::At(addr) => write!(f, "{addr}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn nameserver_forms() {
        let ok = [
            ("192.0.2.53", at("192.0.2.53:53")),
            ("192.0.2.53:5353", at("192.0.2.53:5353")),
            (" 127.0.0.1:1 ", at("127.0.0.1:1")),
            ("::1", at("[::1]:53")),
            ("[::1]", at("[::1]:53")),
            ("[::1]:5353", at("[::1]:5353")),
            ("2001:db8::35", at("[2001:db8::35]:53")),
        ];
        for (input, want) in ok {
            assert_eq!(
                Nameserver::parse(input),
                Ok(Nameserver::At(want)),
                "{input}"
            );
        }
    }

    #[test]
    fn nameserver_rejects() {
        for bad in [
            "",
            "ns1.example.org",
            "192.0.2.53:0",
            "192.0.2.53:65536",
            "192.0.2.300",
            "[::1]:",
            "::1]:53",
            "1.2.3.4:53:53",
        ] {
            assert!(Nameserver::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn nameserver_from_str_and_display() {
        let ns: Nameserver = "[2001:db8::1]:5353".parse().unwrap();
        assert_eq!(ns.to_string(), "[2001:db8::1]:5353");
        assert!(Nameserver::System.to_string().contains("resolv.conf"));
    }
}
