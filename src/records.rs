//! The DNS records an operator publishes for each signing domain, computed as values from the
//! settings and the public keys, then rendered as BIND zone lines, a table for web DNS panels, or
//! JSON. Pure: no DNS, no files.
//!
//! Record forms: SPF RFC 7208 §4.5 / §5; DKIM key record RFC 6376 §3.6.1; DMARC RFC 7489 §6.3, with
//! the external report authorization of §7.1; MX RFC 5321 §5.1; PTR RFC 1035 §3.5; MTA-STS
//! RFC 8461 §3.1 (the record) and §3.2 (the policy file, [`sts`]); TLS-RPT RFC 8460 §3.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;

use crate::settings::Settings;
use crate::values::{Domain, Selector, ServerAddrs, needs_report_authorization};

/// A DNS resource record type we ask the operator to publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rtype {
    A,
    AAAA,
    MX,
    TXT,
}

impl Rtype {
    pub fn as_str(self) -> &'static str {
        match self {
            Rtype::A => "A",
            Rtype::AAAA => "AAAA",
            Rtype::MX => "MX",
            Rtype::TXT => "TXT",
        }
    }

    /// The type named as [`Rtype::as_str`] writes it; `None` for any other.
    pub fn parse(s: &str) -> Option<Rtype> {
        [Rtype::A, Rtype::AAAA, Rtype::MX, Rtype::TXT]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// One record to publish in `zone`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The zone it belongs in (the signing domain, or the zone of the hostname / rua domain).
    pub zone: Domain,
    /// Owner name relative to the zone (`@` for the apex).
    pub name: String,
    /// Fully qualified owner name with the trailing dot.
    pub fqdn: String,
    pub rtype: Rtype,
    /// The value as one string, as a web DNS panel wants it (TXT without quotes).
    pub value: String,
    /// What the record is for, one line.
    pub why: Cow<'static, str>,
    /// The servers whose answers ask for it (their hostnames): one for [`build`], several
    /// when [`fleet::merge`] joins hosts' records.
    pub hosts: Vec<Domain>,
}

/// One server the records are for: its hostname and public addresses (IPv4 first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub hostname: Domain,
    pub addrs: Vec<IpAddr>,
}

/// A DKIM record of a fleet that cannot be known from what was given: `host` signs `domain`
/// but its key was not among its inputs ([`fleet::merge`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingDkim {
    pub domain: Domain,
    pub host: Domain,
    /// The selector it will be published at, when known (from the host's answers).
    pub selector: Option<Selector>,
    /// What to run to get it, one line.
    pub fix: String,
}

/// The reverse-DNS entry to ask the hosting provider for (only the owner of the IP can set it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PtrRequest {
    pub ip: IpAddr,
    /// The reverse name, e.g. `10.2.0.192.in-addr.arpa.`.
    pub name: String,
    /// The hostname it must point to, with the trailing dot.
    pub value: String,
    /// The answers' hosting provider (`provider`), whose procedure the renderings print
    /// ([`crate::provider::ptr_steps`]); `None`: the generic request only.
    pub provider: Option<crate::provider::Provider>,
}

impl PtrRequest {
    /// Where and how to have this PTR set at the answers' provider, if one is named.
    pub fn steps(&self) -> Option<String> {
        let host = self.value.trim_end_matches('.');
        self.provider
            .map(|p| crate::provider::ptr_steps(p, &self.ip.to_string(), host))
    }
}

/// Everything to publish, in a stable order: by zone as the domains are listed, then SPF, DKIM,
/// DMARC, MX, MTA-STS and TLS-RPT (when the answers manage them), hostname addresses (A,
/// AAAA: one per family the server has).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSet {
    pub records: Vec<Record>,
    /// One per address of the server, the IPv4 first.
    pub ptr: Vec<PtrRequest>,
    /// Signing domains with no key yet: their DKIM record is known only after `mailsetup apply`.
    pub missing_keys: Vec<Domain>,
    /// The MTA-STS policy file of each domain, when the answers set `mta_sts`: to be served
    /// over HTTPS at its URL ([`sts::serving_notes`]).
    pub policies: Vec<sts::StsPolicy>,
    /// The servers the records are for: the one of the answers for [`build`], every host for
    /// [`fleet::merge`].
    pub servers: Vec<Server>,
    /// Per host, the DKIM records a fleet's inputs did not give (empty for [`build`], whose
    /// `missing_keys` says it).
    pub missing_dkim: Vec<MissingDkim>,
}

/// Compute the records. `addrs` are the server's public addresses (from the answers or
/// detected; one family or both): the SPF record, the hostname's A/AAAA and the PTR requests
/// name exactly these. `dkim_p` maps each signing domain with a key to its `p=` value.
pub fn build(
    settings: &Settings,
    addrs: ServerAddrs,
    dkim_p: &BTreeMap<Domain, String>,
) -> RecordSet {
    build_with_selectors(settings, addrs, dkim_p, &BTreeMap::new())
}

/// [`build`], with the DKIM record of a domain in `selectors` named for that selector
/// instead of the answers' `selector` (amavisd-new's keys, which declare their own).
pub fn build_with_selectors(
    settings: &Settings,
    addrs: ServerAddrs,
    dkim_p: &BTreeMap<Domain, String>,
    selectors: &BTreeMap<Domain, Selector>,
) -> RecordSet {
    let mut records = Vec::new();
    let mut missing_keys = Vec::new();
    let mut policies = Vec::new();
    let host = &settings.hostname;
    for domain in &settings.domains {
        let rec = |name: String, rtype, value: String, why: &'static str| Record {
            zone: domain.clone(),
            fqdn: fqdn(&name, domain),
            name,
            rtype,
            value,
            why: why.into(),
            hosts: vec![host.clone()],
        };
        records.push(rec(
            "@".into(),
            Rtype::TXT,
            spf_value(settings, addrs),
            "SPF: the hosts allowed to send mail for the domain",
        ));
        match dkim_p.get(domain) {
            Some(p) => records.push(rec(
                dkim_name(selectors.get(domain).unwrap_or(&settings.selector)),
                Rtype::TXT,
                dkim_value(p),
                "DKIM: the public key receivers verify signatures with",
            )),
            None => missing_keys.push(domain.clone()),
        }
        records.push(rec(
            "_dmarc".into(),
            Rtype::TXT,
            dmarc_value(settings),
            "DMARC: what receivers do when SPF and DKIM fail, and where they report",
        ));
        records.push(rec("@".into(), Rtype::MX, format!("10 {host}."), "MX: this server receives mail for the domain (skip it if another provider receives your mail)"));
        if let Some(policy) = sts::policy(settings, domain) {
            records.push(rec(
                "_mta-sts".into(),
                Rtype::TXT,
                sts::mta_sts_value(&policy.id),
                "MTA-STS: senders must use TLS to the MX; the id changes with the policy file",
            ));
            policies.push(policy);
        }
        if let Some(rua) = &settings.tls_rpt_rua {
            records.push(rec(
                "_smtp._tls".into(),
                Rtype::TXT,
                sts::tls_rpt_value(rua),
                "TLS-RPT: where senders report TLS failures delivering to the domain",
            ));
        }
    }
    let host_zone = zone_of(host, &settings.domains);
    let rel = relative(host, &host_zone);
    let addr = |rtype, value: String| Record {
        zone: host_zone.clone(),
        fqdn: format!("{host}."),
        name: rel.clone(),
        rtype,
        value,
        why: "the hostname's address, which the MX and the PTR point at".into(),
        hosts: vec![host.clone()],
    };
    for ip in addrs.all() {
        let rtype = if ip.is_ipv4() { Rtype::A } else { Rtype::AAAA };
        records.push(addr(rtype, ip.to_string()));
    }
    records.extend(report_authorizations(settings));
    let ptr = addrs
        .all()
        .into_iter()
        .map(|ip| ptr_request(ip, host, settings.provider))
        .collect();
    RecordSet {
        records,
        ptr,
        missing_keys,
        policies,
        servers: vec![Server {
            hostname: host.clone(),
            addrs: addrs.all(),
        }],
        missing_dkim: Vec::new(),
    }
}

/// `v=spf1 a mx [ip4:…] [ip6:…] ~all` (RFC 7208 §5): `ip4:`/`ip6:` for each address the
/// server has.
pub fn spf_value(s: &Settings, addrs: ServerAddrs) -> String {
    let ips: String = addrs
        .all()
        .iter()
        .map(|ip| match ip {
            IpAddr::V4(v4) => format!(" ip4:{v4}"),
            IpAddr::V6(v6) => format!(" ip6:{v6}"),
        })
        .collect();
    format!("v=spf1 a mx{ips} {}", s.spf_all.as_str())
}

/// `v=DKIM1; k=rsa; p=…` (RFC 6376 §3.6.1).
pub fn dkim_value(p: &str) -> String {
    format!("v=DKIM1; k=rsa; p={p}")
}

/// `<selector>._domainkey` (RFC 6376 §3.6.2.1).
pub fn dkim_name(selector: &Selector) -> String {
    format!("{selector}._domainkey")
}

/// The selector of a DKIM key record (`<selector>._domainkey[.<zone>]`, RFC 6376 §3.6.2.1):
/// `Some` for a TXT record whose name has that form, else `None`.
pub fn dkim_selector_of(r: &Record) -> Option<&str> {
    if r.rtype != Rtype::TXT {
        return None;
    }
    r.name
        .split_once("._domainkey")
        .map(|(s, _)| s)
        .filter(|s| !s.is_empty())
}

/// `v=DMARC1; p=…[; rua=…]` (RFC 7489 §6.3).
pub fn dmarc_value(s: &Settings) -> String {
    let rua = s
        .dmarc_rua
        .as_ref()
        .map(|r| format!("; rua={r}"))
        .unwrap_or_default();
    format!("v=DMARC1; p={}{rua}", s.dmarc_policy.as_str())
}

/// RFC 7489 §7.1: reports for domain D sent to an address in another domain R need
/// `D._report._dmarc.R TXT "v=DMARC1"` published in R's zone; which D need it is
/// [`needs_report_authorization`] (shared with `check`).
fn report_authorizations(s: &Settings) -> Vec<Record> {
    let Some(rua) = &s.dmarc_rua else {
        return Vec::new();
    };
    let target = rua.domain();
    let zone = zone_of(target, &s.domains);
    s.domains
        .iter()
        .filter(|d| needs_report_authorization(d.as_str(), target.as_str()))
        .map(|d| {
            let owner = format!("{d}._report._dmarc.{target}");
            let name = owner
                .strip_suffix(&format!(".{zone}"))
                .unwrap_or(&owner)
                .to_string();
            Record {
                zone: zone.clone(),
                name,
                fqdn: format!("{owner}."),
                rtype: Rtype::TXT,
                value: "v=DMARC1".into(),
                why:
                    "DMARC: lets this domain receive the reports of another domain (RFC 7489 §7.1)"
                        .into(),
                hosts: vec![s.hostname.clone()],
            }
        })
        .collect()
}

/// The zone a name belongs in: the longest signing domain containing it, else its parent domain.
fn zone_of(name: &Domain, domains: &[Domain]) -> Domain {
    domains
        .iter()
        .filter(|d| name.is_within(d))
        .max_by_key(|d| d.as_str().len())
        .cloned()
        .unwrap_or_else(|| parent(name))
}

fn parent(name: &Domain) -> Domain {
    match name.as_str().split_once('.') {
        Some((_, rest)) if rest.contains('.') => {
            Domain::parse(rest).unwrap_or_else(|_| name.clone())
        }
        _ => name.clone(),
    }
}

fn relative(name: &Domain, zone: &Domain) -> String {
    if name == zone {
        "@".into()
    } else {
        name.as_str()
            .strip_suffix(&format!(".{zone}"))
            .unwrap_or(name.as_str())
            .to_string()
    }
}

fn fqdn(rel: &str, zone: &Domain) -> String {
    if rel == "@" {
        format!("{zone}.")
    } else {
        format!("{rel}.{zone}.")
    }
}

fn ptr_request(
    ip: IpAddr,
    host: &Domain,
    provider: Option<crate::provider::Provider>,
) -> PtrRequest {
    let name = match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa.", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let mut s = String::new();
            for byte in v6.octets().iter().rev() {
                let _ = write!(s, "{:x}.{:x}.", byte & 0xf, byte >> 4);
            }
            format!("{s}ip6.arpa.")
        }
    };
    PtrRequest {
        ip,
        name,
        value: format!("{host}."),
        provider,
    }
}

impl RecordSet {
    /// The zones in first-appearance order.
    pub fn zones(&self) -> Vec<&Domain> {
        let mut out: Vec<&Domain> = Vec::new();
        for r in &self.records {
            if !out.contains(&&r.zone) {
                out.push(&r.zone);
            }
        }
        out
    }

    /// Keep only the records of the given zones (all when `only` is empty).
    pub fn filtered(&self, only: &[Domain]) -> RecordSet {
        if only.is_empty() {
            return self.clone();
        }
        RecordSet {
            records: self
                .records
                .iter()
                .filter(|r| only.contains(&r.zone))
                .cloned()
                .collect(),
            ptr: self.ptr.clone(),
            missing_keys: self
                .missing_keys
                .iter()
                .filter(|d| only.contains(d))
                .cloned()
                .collect(),
            policies: self
                .policies
                .iter()
                .filter(|p| only.contains(&p.domain))
                .cloned()
                .collect(),
            servers: self.servers.clone(),
            missing_dkim: self
                .missing_dkim
                .iter()
                .filter(|m| only.contains(&m.domain))
                .cloned()
                .collect(),
        }
    }
}

pub mod fleet;
pub mod render;
pub mod sts;
#[cfg(test)]
mod tests;
