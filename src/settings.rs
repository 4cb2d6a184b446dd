//! `Settings`: the validated answers, every field a typed value from `values`.
//! Produced by `answers::parse`, rendered back by `answers::write`.
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::values::*;

/// The validated answers. Field names are the contract; the defaults are those of the
/// answers file (see [`Settings::new`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Postfix `myhostname`; an FQDN (at least two labels).
    pub hostname: Domain,
    /// The server's public IPv4, `None` when not given. One of `ipv4`/`ipv6` is enough;
    /// when neither is given, an IPv4 is detected from the interfaces at the edge
    /// (`flows::records::server_addrs`, which builds the [`ServerAddrs`]).
    pub ipv4: Option<Ipv4Addr>,
    /// The server's public IPv6, `None` when not given.
    pub ipv6: Option<Ipv6Addr>,
    /// `allow_private_ip`: `ipv4`/`ipv6` may lie in a [`private_range`] (RFC 1918, CGNAT,
    /// documentation, …), for a lab or a NAT set-up the operator publishes. Default `false`:
    /// receivers see the public address, so SPF and PTR must name that one.
    pub allow_private_ip: bool,
    pub inet_protocols: InetProtocols,
    /// Signing domains, non-empty, no duplicates, in the order given.
    pub domains: Vec<Domain>,
    pub selector: Selector,
    pub key_bits: KeyBits,
    /// `algorithms` with `ed25519-sha256` (RFC 8463): the selector of the second, Ed25519 key
    /// every message is signed with as well (`ed25519_selector`, default
    /// [`Settings::DEFAULT_ED25519_SELECTOR`]). `None` (default, `algorithms =
    /// ["rsa-sha256"]`): RSA only. RSA always signs: many receivers ignore Ed25519.
    pub ed25519: Option<Selector>,
    pub socket: MilterSocket,
    pub trusted_hosts: Vec<TrustedHost>,
    pub spf_all: SpfAll,
    pub dmarc_policy: DmarcPolicy,
    pub dmarc_rua: Option<MailtoUri>,
    /// `provider`: the hosting provider of the server's address, whose reverse-DNS and
    /// port-25 procedures the PTR findings and `records` print; `None`: not said (then
    /// guessed from the PTR name where obvious, [`crate::provider::guess`]).
    pub provider: Option<crate::provider::Provider>,
    /// `inbound_spf`: check the SPF of incoming mail with Debian's policy agent
    /// (postfix-policyd-spf-python: a `spawn` service in master.cf, `check_policy_service`
    /// in `smtpd_recipient_restrictions`, policyd-spf(1)). Default `false`: nothing is
    /// planned, and an operator's existing policy service is left alone.
    pub inbound_spf: bool,
    /// Who signs outgoing mail: OpenDKIM (default) or amavisd-new (then OpenDKIM is not
    /// wired in and the DKIM records come from amavisd-new's keys).
    pub signer: Signer,
    /// `inbound_dmarc`: judge incoming mail by its From domain's DMARC policy with OpenDMARC
    /// (a second milter after OpenDKIM; RFC 7489 §6.6). Default `false`: nothing planned.
    pub inbound_dmarc: bool,
    /// `dmarc_reject_failures`: OpenDMARC's `RejectFailures` (opendmarc.conf(5)): refuse mail
    /// that fails DMARC under `p=reject` (550 at the end of DATA). Default `false`: only an
    /// `Authentication-Results` header is added. Only with `inbound_dmarc`.
    pub dmarc_reject_failures: bool,
    /// `tls_cert` and `tls_key`: the certificate (chain) and private key the SMTP server
    /// presents (absolute paths, both or neither). `None`: Let's Encrypt's for the hostname
    /// when present, else what main.cf names, else Debian's snake-oil pair ([`crate::tls::choose`]).
    pub tls: Option<(std::path::PathBuf, std::path::PathBuf)>,
    /// `mta_sts`: the MTA-STS policy mode `records` publishes for every domain (RFC 8461);
    /// `None` (absent): MTA-STS is not managed: no record or policy is asked for, and its
    /// absence is no finding.
    pub mta_sts: Option<StsMode>,
    /// `mta_sts_max_age`: the policy's `max_age` (RFC 8461 §3.2), only with `mta_sts`;
    /// default one week ([`StsMaxAge::DEFAULT`]).
    pub mta_sts_max_age: StsMaxAge,
    /// `tls_rpt_rua`: where TLS reports go (RFC 8460 §3), published as `_smtp._tls` TXT for
    /// every domain; `None` (absent): TLS-RPT is not managed.
    pub tls_rpt_rua: Option<TlsRptUri>,
}

impl Settings {
    /// The required answers plus every default: no IPs (private ones not allowed),
    /// `inet_protocols` ipv4, selector
    /// `mail`, 2048-bit keys, local socket, trusted 127.0.0.1 ::1 localhost, `~all`,
    /// `p=none`, no rua, no inbound SPF check, no inbound DMARC, OpenDKIM signs, no MTA-STS or TLS-RPT. Does not
    /// check `domains` (non-empty, no duplicates).
    pub fn new(hostname: Domain, domains: Vec<Domain>) -> Settings {
        Settings {
            hostname,
            ipv4: None,
            ipv6: None,
            allow_private_ip: false,
            inet_protocols: Settings::default_inet_protocols(None, None),
            domains,
            selector: Selector::default(),
            key_bits: KeyBits::B2048,
            ed25519: None,
            socket: MilterSocket::Local,
            trusted_hosts: Settings::default_trusted_hosts(),
            spf_all: SpfAll::SoftFail,
            dmarc_policy: DmarcPolicy::None,
            dmarc_rua: None,
            provider: None,
            inbound_spf: false,
            signer: Signer::Opendkim,
            inbound_dmarc: false,
            dmarc_reject_failures: false,
            tls: None,
            mta_sts: None,
            mta_sts_max_age: StsMaxAge::DEFAULT,
            tls_rpt_rua: None,
        }
    }

    /// `ed25519_selector` when the answers omit it: its own name, not derived from
    /// `selector`, so that a rotation of the RSA key leaves the Ed25519 key alone.
    pub const DEFAULT_ED25519_SELECTOR: &'static str = "ed25519";

    /// The `algorithms` answers value: `rsa-sha256`, and `ed25519-sha256` when on (RFC 6376
    /// §3.3, RFC 8463 §3).
    pub fn algorithms(&self) -> Vec<&'static str> {
        let mut out = vec!["rsa-sha256"];
        if self.ed25519.is_some() {
            out.push("ed25519-sha256");
        }
        out
    }

    /// `inet_protocols` when the answers omit it, from the addresses given: `all` with both,
    /// `ipv6` with an IPv6 only, else `ipv4` (an IPv4 only, or neither: then an IPv4 is
    /// detected from the interfaces).
    pub fn default_inet_protocols(ipv4: Option<Ipv4Addr>, ipv6: Option<Ipv6Addr>) -> InetProtocols {
        match (ipv4, ipv6) {
            (Some(_), Some(_)) => InetProtocols::All,
            (None, Some(_)) => InetProtocols::Ipv6,
            (_, None) => InetProtocols::Ipv4,
        }
    }

    /// `trusted_hosts` when the answers omit it: 127.0.0.1, ::1, localhost (Debian's
    /// /etc/opendkim/TrustedHosts convention).
    pub fn default_trusted_hosts() -> Vec<TrustedHost> {
        vec![
            TrustedHost::Ip(Ipv4Addr::LOCALHOST.into()),
            TrustedHost::Ip(Ipv6Addr::LOCALHOST.into()),
            TrustedHost::Host("localhost".to_string()),
        ]
    }
}
