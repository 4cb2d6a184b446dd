//! Network values: the server's public addresses, the milter socket and OpenDKIM
//! TrustedHosts entries.
//!
//! Rule sources: RFC 1122 §3.2.1.3 (0/8, 127/8), RFC 3927 (169.254/16), RFC 5771 (224/4),
//! RFC 1112 §4 (240/4), RFC 919 (255.255.255.255), RFC 4291 §2.5 / §2.7 (IPv6 special
//! addresses), RFC 1918, RFC 6598, RFC 5737, RFC 2544, RFC 4193, RFC 3849, RFC 9637,
//! RFC 5180, RFC 3879 (ranges no receiver on the Internet sees, [`private_range`]), RFC 6890
//! (the special-purpose address registries), RFC 5952 (canonical IPv6 text), RFC 4632 §3.1
//! (CIDR), opendkim.conf(5) ("Socket", and the PeerList format of TrustedHosts/InternalHosts).
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{Domain, Rule, check_text};

/// The server's public IPv4 address (`ipv4` answer), in dotted-quad form.
///
/// Rejected here, always: not an IPv4 address (Rust's parser: four decimal octets, no leading
/// zeros), 0.0.0.0/8 ("this network", RFC 1122 §3.2.1.3), loopback 127/8 (never leaves the
/// host, RFC 1122 §3.2.1.3), link-local 169.254/16 (routers must not forward it, RFC 3927
/// §2.7), multicast 224/4 (RFC 5771), reserved 240/4 (RFC 1112 §4) and broadcast (RFC 919).
/// None of these can be a server's address on any network that mail crosses, so no setting
/// lets them through.
///
/// Accepted here but not public: the ranges [`private_range`] names (RFC 1918, CGNAT,
/// documentation, benchmarking). A lab or a NAT set-up may use them, so refusing them is the
/// caller's decision (the answers file refuses them unless `allow_private_ip = true`).
pub fn parse_public_ipv4(s: &str) -> Result<Ipv4Addr, Rule> {
    check_text(s)?;
    let ip: Ipv4Addr = s.parse().map_err(|_| {
        if s.parse::<Ipv6Addr>().is_ok() {
            Rule::new("is an IPv6 address; an IPv4 address is required here")
        } else {
            Rule::new(
                "must be an IPv4 address: four numbers 0-255 separated by dots, without \
                 leading zeros, e.g. 192.0.2.10",
            )
        }
    })?;
    let o = ip.octets();
    let why = if o[0] == 0 {
        "must not be in 0.0.0.0/8, \"this network\" (RFC 1122 §3.2.1.3)"
    } else if ip.is_loopback() {
        "must not be a loopback address 127.0.0.0/8 (RFC 1122 §3.2.1.3); give the server's \
         public address"
    } else if ip.is_link_local() {
        "must not be a link-local address 169.254.0.0/16 (RFC 3927)"
    } else if ip.is_multicast() {
        "must not be a multicast address 224.0.0.0/4 (RFC 5771)"
    } else if ip.is_broadcast() {
        "must not be the broadcast address 255.255.255.255 (RFC 919)"
    } else if o[0] >= 240 {
        "must not be in the reserved range 240.0.0.0/4 (RFC 1112 §4)"
    } else {
        return Ok(ip);
    };
    Err(Rule::new(why))
}

/// The server's public IPv6 address (`ipv6` answer); any RFC 4291 §2.2 text form, stored as
/// `Ipv6Addr` (whose Display is the RFC 5952 canonical lowercase form).
///
/// Rejected here, always: not an IPv6 address (zone ids `%eth0` included), the unspecified
/// `::` (RFC 4291 §2.5.2), loopback `::1` (§2.5.3), multicast ff00::/8 (§2.7), link-local
/// fe80::/10 (routers must not forward it, §2.5.6), IPv4-mapped ::ffff:0:0/96 (§2.5.5.2: the
/// IPv4 address belongs in `ipv4`) and deprecated IPv4-compatible ::/96 (§2.5.5.1).
///
/// Accepted here but not public: the ranges [`private_range`] names (unique local fc00::/7,
/// documentation 2001:db8::/32 and 3fff::/20, benchmarking 2001:2::/48, site-local
/// fec0::/10); refusing them is the caller's decision, as for [`parse_public_ipv4`].
pub fn parse_public_ipv6(s: &str) -> Result<Ipv6Addr, Rule> {
    check_text(s)?;
    let ip: Ipv6Addr = s.parse().map_err(|_| {
        if s.parse::<Ipv4Addr>().is_ok() {
            Rule::new("is an IPv4 address; an IPv6 address is required here")
        } else {
            Rule::new("must be an IPv6 address (RFC 4291 §2.2), e.g. 2001:db8::10")
        }
    })?;
    let seg = ip.segments();
    let why = if ip.is_unspecified() {
        "must not be the unspecified address :: (RFC 4291 §2.5.2)"
    } else if ip.is_loopback() {
        "must not be the loopback address ::1 (RFC 4291 §2.5.3); give the server's public address"
    } else if ip.is_multicast() {
        "must not be a multicast address ff00::/8 (RFC 4291 §2.7)"
    } else if seg[0] & 0xffc0 == 0xfe80 {
        "must not be a link-local address fe80::/10 (RFC 4291 §2.5.6)"
    } else if ip.to_ipv4_mapped().is_some() {
        "must not be an IPv4-mapped address ::ffff:a.b.c.d (RFC 4291 §2.5.5.2); put the IPv4 \
         address in `ipv4`"
    } else if seg[..6].iter().all(|&s| s == 0) {
        "must not be an IPv4-compatible address ::a.b.c.d (deprecated, RFC 4291 §2.5.5.1)"
    } else {
        return Ok(ip);
    };
    Err(Rule::new(why))
}

/// Why an address refused by default would mislead receivers: said after the range in every
/// message about [`private_range`].
pub const PUBLIC_ADDRESS_WHY: &str =
    "receivers see your server's public address, and that is what SPF and PTR must name";

/// The server's public addresses, one family or both: what the SPF `ip4:`/`ip6:`, the
/// hostname's A/AAAA and the PTR records name. Built from the answers' `ipv4`/`ipv6` (or an
/// IPv4 detected from the interfaces when neither is given), so there is always at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerAddrs {
    /// IPv4 only.
    V4(Ipv4Addr),
    /// IPv6 only.
    V6(Ipv6Addr),
    Both(Ipv4Addr, Ipv6Addr),
}

impl ServerAddrs {
    /// The addresses given; `None` when neither is.
    pub fn new(ipv4: Option<Ipv4Addr>, ipv6: Option<Ipv6Addr>) -> Option<ServerAddrs> {
        match (ipv4, ipv6) {
            (Some(v4), Some(v6)) => Some(ServerAddrs::Both(v4, v6)),
            (Some(v4), None) => Some(ServerAddrs::V4(v4)),
            (None, Some(v6)) => Some(ServerAddrs::V6(v6)),
            (None, None) => None,
        }
    }

    pub fn ipv4(self) -> Option<Ipv4Addr> {
        match self {
            ServerAddrs::V4(v4) | ServerAddrs::Both(v4, _) => Some(v4),
            ServerAddrs::V6(_) => None,
        }
    }

    pub fn ipv6(self) -> Option<Ipv6Addr> {
        match self {
            ServerAddrs::V6(v6) | ServerAddrs::Both(_, v6) => Some(v6),
            ServerAddrs::V4(_) => None,
        }
    }

    /// Every address, the IPv4 first.
    pub fn all(self) -> Vec<IpAddr> {
        let v4 = self.ipv4().map(IpAddr::V4);
        v4.into_iter().chain(self.ipv6().map(IpAddr::V6)).collect()
    }
}

/// A special-purpose block that [`parse_public_ipv4`] / [`parse_public_ipv6`] accept but
/// that no receiver on the Internet sees mail come from (RFC 6890: "Globally Reachable:
/// False", or reserved for documentation). Display: `10.0.0.0/8 is a private range (RFC 1918)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrivateRange {
    /// The block in CIDR notation, e.g. `10.0.0.0/8`.
    pub block: &'static str,
    /// What the block is, with its article, e.g. "a private range".
    pub what: &'static str,
    /// The document that reserves it, e.g. "RFC 1918".
    pub source: &'static str,
}

impl fmt::Display for PrivateRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is {} ({})", self.block, self.what, self.source)
    }
}

impl PrivateRange {
    const fn new(block: &'static str, what: &'static str, source: &'static str) -> PrivateRange {
        PrivateRange {
            block,
            what,
            source,
        }
    }

    /// Does the block hold `ip`? (Same family, the first prefix-length bits equal.)
    fn contains(&self, ip: IpAddr) -> bool {
        let Some((net, len)) = self.block.split_once('/') else {
            return false;
        };
        let (Ok(net), Ok(len)) = (net.parse::<IpAddr>(), len.parse::<u8>()) else {
            return false;
        };
        net.is_ipv4() == ip.is_ipv4() && mask(ip, len) == net
    }
}

/// The blocks of [`private_range`], IPv4 first.
const PRIVATE_RANGES: [PrivateRange; 13] = [
    PrivateRange::new("10.0.0.0/8", "a private range", "RFC 1918"),
    PrivateRange::new("172.16.0.0/12", "a private range", "RFC 1918"),
    PrivateRange::new("192.168.0.0/16", "a private range", "RFC 1918"),
    PrivateRange::new("100.64.0.0/10", "the carrier-grade NAT range", "RFC 6598"),
    PrivateRange::new("192.0.2.0/24", "a documentation range", "RFC 5737"),
    PrivateRange::new("198.51.100.0/24", "a documentation range", "RFC 5737"),
    PrivateRange::new("203.0.113.0/24", "a documentation range", "RFC 5737"),
    PrivateRange::new("198.18.0.0/15", "the benchmarking range", "RFC 2544"),
    PrivateRange::new("fc00::/7", "a unique local range", "RFC 4193"),
    PrivateRange::new("fec0::/10", "the deprecated site-local range", "RFC 3879"),
    PrivateRange::new("2001:db8::/32", "a documentation range", "RFC 3849"),
    PrivateRange::new("3fff::/20", "a documentation range", "RFC 9637"),
    PrivateRange::new("2001:2::/48", "the benchmarking range", "RFC 5180"),
];

/// The block `ip` lies in, when it is one that receivers on the Internet never see mail from
/// although a lab or a NAT set-up may use it:
/// - IPv4: private 10/8, 172.16/12, 192.168/16 (RFC 1918); carrier-grade NAT 100.64/10
///   (RFC 6598); documentation 192.0.2/24, 198.51.100/24, 203.0.113/24 (RFC 5737);
///   benchmarking 198.18/15 (RFC 2544).
/// - IPv6: unique local fc00::/7 (RFC 4193); deprecated site-local fec0::/10 (RFC 3879);
///   documentation 2001:db8::/32 (RFC 3849) and 3fff::/20 (RFC 9637); benchmarking
///   2001:2::/48 (RFC 5180).
///
/// `None` for every other address, including the ones [`parse_public_ipv4`] and
/// [`parse_public_ipv6`] refuse outright (loopback, link-local, …): this answers only for
/// addresses those parsers let through. Other special-purpose blocks of RFC 6890 (e.g.
/// 192.0.0.0/24, NAT64 64:ff9b::/96) are not checked.
pub fn private_range(ip: IpAddr) -> Option<PrivateRange> {
    PRIVATE_RANGES.iter().find(|r| r.contains(ip)).copied()
}

/// A TCP port, 1..=65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Port(u16);

impl Port {
    /// Errors on 0 (not a usable port).
    pub fn new(n: u16) -> Result<Port, Rule> {
        if n == 0 {
            return Err(Rule::new("the port must be 1 to 65535"));
        }
        Ok(Port(n))
    }

    /// Decimal digits only (no sign, no spaces), value 1..=65535.
    pub fn parse(s: &str) -> Result<Port, Rule> {
        check_text(s)?;
        if s.is_empty() || s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Rule::new("the port must be a number 1 to 65535"));
        }
        let n: u32 = s
            .parse()
            .map_err(|_| Rule::new("the port must be a number 1 to 65535"))?;
        let n = u16::try_from(n).map_err(|_| Rule::new("the port must be 1 to 65535"))?;
        Port::new(n)
    }

    /// The port number.
    pub fn get(self) -> u16 {
        self.0
    }
}

/// Where OpenDKIM listens for Postfix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MilterSocket {
    /// Unix socket inside Postfix's chroot: opendkim.conf `Socket local:/var/spool/postfix/opendkim/opendkim.sock`,
    /// main.cf `local:opendkim/opendkim.sock`.
    Local,
    /// opendkim.conf `Socket inet:PORT@localhost`, main.cf `inet:127.0.0.1:PORT`.
    Inet(Port),
}

impl MilterSocket {
    /// The answers-file form: exactly `local` or `inet:PORT` (PORT 1..=65535). Host parts
    /// (`inet:8891@localhost`, `inet:127.0.0.1:8891`) are refused: OpenDKIM always listens on
    /// localhost here.
    pub fn parse(s: &str) -> Result<MilterSocket, Rule> {
        check_text(s)?;
        if s == "local" {
            return Ok(MilterSocket::Local);
        }
        let Some(port) = s.strip_prefix("inet:") else {
            return Err(Rule::new(
                "must be \"local\" (a unix socket inside Postfix's chroot) or \"inet:PORT\", \
                 e.g. \"inet:8891\" (opendkim.conf(5) Socket)",
            ));
        };
        if port.contains(['@', ':']) {
            return Err(Rule::new(
                "give only the port, e.g. \"inet:8891\": OpenDKIM listens on localhost",
            ));
        }
        Ok(MilterSocket::Inet(Port::parse(port)?))
    }

    /// The answers-file form, `local` or `inet:PORT`; [`MilterSocket::parse`] reads it back.
    pub fn as_answer(&self) -> String {
        match self {
            MilterSocket::Local => "local".to_string(),
            MilterSocket::Inet(p) => format!("inet:{}", p.get()),
        }
    }
}

/// One OpenDKIM TrustedHosts / InternalHosts entry (opendkim.conf(5) "PeerList").
/// Display is the canonical form written to the file: IPv6 lowercase RFC 5952, CIDR with host bits zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustedHost {
    Ip(IpAddr),
    Net(IpAddr, u8),
    Host(String),
}

impl TrustedHost {
    /// One entry: an IP address, a CIDR network `addr/len`, `localhost` or a [`Domain`].
    ///
    /// Canonicalisation (decided here): IPv6 text is stored as `IpAddr` (RFC 5952 on display,
    /// since opendkim.conf(5) says "0:0:0:0:0:0:0:1" will never match); an IPv4-mapped
    /// address `::ffff:1.2.3.4` becomes `1.2.3.4`, and `::ffff:a.b.c.d/len` with len ≥ 96
    /// becomes `a.b.c.d/(len-96)`, because the milter reports IPv4 peers in IPv4 form.
    /// Host names are stored in A-label form; `localhost` is the only single-label name.
    ///
    /// Rejected: a leading `!` (negation is never taken from input, reliability.md G4.5);
    /// host bits set (`10.0.0.1/8`, which OpenDKIM "will never match" — the error suggests
    /// `10.0.0.0/8`); prefix length 0 (trusts every address) or over 32/128; the unspecified
    /// and multicast addresses; anything that is neither an address nor a valid name.
    pub fn parse(s: &str) -> Result<TrustedHost, Rule> {
        check_text(s)?;
        if s.is_empty() {
            return Err(Rule::new("must not be empty"));
        }
        if s.starts_with('!') {
            return Err(Rule::new(
                "must not start with '!': negation (\"not\" in opendkim.conf(5) PeerList) is \
                 never taken from the answers file; list only the hosts to trust",
            ));
        }
        if let Some((addr, len)) = s.split_once('/') {
            return parse_net(addr, len);
        }
        if let Ok(ip) = s.parse::<IpAddr>() {
            let ip = canonical_ip(ip);
            if ip.is_unspecified() || ip.is_multicast() {
                return Err(Rule::new(
                    "must not be an unspecified or multicast address: no mail comes from it",
                ));
            }
            return Ok(TrustedHost::Ip(ip));
        }
        if s.eq_ignore_ascii_case("localhost") {
            return Ok(TrustedHost::Host("localhost".to_string()));
        }
        if s.contains(':') || s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(Rule::new(
                "is not a valid IP address: IPv4 is four numbers 0-255 without leading zeros, \
                 IPv6 as in RFC 4291 §2.2",
            ));
        }
        match Domain::parse(s) {
            Ok(d) => Ok(TrustedHost::Host(d.as_str().to_string())),
            Err(rule) => Err(Rule(format!(
                "is not an IP address, a network (CIDR) or a host name: {rule}"
            ))),
        }
    }
}

/// IPv4-mapped IPv6 → IPv4; everything else unchanged.
fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// `addr/len` (RFC 4632 §3.1) with host bits zero.
fn parse_net(addr: &str, len: &str) -> Result<TrustedHost, Rule> {
    let ip: IpAddr = addr.parse().map_err(|_| {
        Rule::new("the part before '/' must be an IP address (CIDR notation, RFC 4632 §3.1)")
    })?;
    if len.is_empty() || len.len() > 3 || !len.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Rule::new(
            "the prefix length after '/' must be a number, e.g. 10.0.0.0/8",
        ));
    }
    let mut len: u16 = len
        .parse()
        .map_err(|_| Rule::new("the prefix length after '/' must be a number"))?;
    let mut ip = ip;
    if let IpAddr::V6(v6) = ip
        && let (Some(v4), true) = (v6.to_ipv4_mapped(), len >= 96)
    {
        ip = IpAddr::V4(v4);
        len -= 96;
    }
    let max = if ip.is_ipv4() { 32 } else { 128 };
    if len > max {
        return Err(Rule(format!(
            "the prefix length must be at most {max} for this address family"
        )));
    }
    let len = u8::try_from(len).map_err(|_| Rule::new("the prefix length is too large"))?;
    if len == 0 {
        return Err(Rule::new(
            "a prefix length of 0 would trust every address; list your own networks",
        ));
    }
    let masked = mask(ip, len);
    if masked != ip {
        return Err(Rule(format!(
            "host bits must be zero, did you mean {masked}/{len}? (opendkim.conf(5): \
             \"10.0.0.1/8\" will never match)"
        )));
    }
    Ok(TrustedHost::Net(ip, len))
}

/// `ip` with all bits after the first `len` cleared (`1 <= len <= 32/128`).
fn mask(ip: IpAddr, len: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let m = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & m))
        }
        IpAddr::V6(v6) => {
            let m = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & m))
        }
    }
}

impl fmt::Display for TrustedHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ip(ip) => write!(f, "{ip}"),
            Self::Net(ip, p) => write!(f, "{ip}/{p}"),
            Self::Host(h) => f.write_str(h),
        }
    }
}
