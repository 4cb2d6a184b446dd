//! DNS access for `mailsetup check`: which nameserver to ask ([`Nameserver`]), the resolver
//! ([`Dns`]), typed lookups that separate *absence* from *failure*, SPF evaluation through
//! mail-auth, and [`sanitize`] for DNS text before it is displayed.
//!
//! This is the only module that uses hickory. Every answer is untrusted input: record text is
//! capped at [`MAX_RECORD_BYTES`] per record and [`MAX_RECORDS`] per answer, and must go
//! through [`sanitize`] before it reaches a terminal.
//!
//! Absence vs failure: NXDOMAIN and NODATA (RFC 2308 §2.1, §2.2) are answers, returned as
//! `Ok` with no records and the [`Absence`] kind. A timeout, SERVFAIL, REFUSED or a network
//! error is a [`LookupError`]; callers must report it as "could not verify", never as "fail".

pub mod auth;
mod nameserver;
mod seed;
mod text;
mod types;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, RecordType};
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::{Resolver, TokioResolver};
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{MessageAuthenticator, Parameters, SpfResult};
use tokio::sync::Semaphore;

pub use auth::{AuthOptions, Authority, Observed, Zone, ZoneServer, join_all};
pub use nameserver::Nameserver;
pub use text::{MAX_RECORD_BYTES, MAX_RECORDS, sanitize};
pub use types::{Absence, Answer, LookupError, Mx, Soa, SpfOutcome};

/// Per-try timeout of a query (hickory `ResolverOpts::timeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
/// Retries after a failed try (hickory `ResolverOpts::attempts`): a query to a dead server
/// gives up after about `timeout × (1 + attempts)` = 4 s.
pub const DEFAULT_ATTEMPTS: usize = 1;
/// The DNS port (RFC 1035 §4.2).
pub const DNS_PORT: u16 = 53;

/// A resolver bound to one [`Nameserver`]: no cache (a re-check must see the zone as it is
/// now), never /etc/hosts, [`DEFAULT_TIMEOUT`] per try, [`DEFAULT_ATTEMPTS`] retries.
/// Cheap to clone (the connection pool is shared). With [`Dns::limited`], every query
/// first takes a permit from a shared semaphore (bounded concurrency).
#[derive(Clone)]
pub struct Dns {
    resolver: TokioResolver,
    ns: Nameserver,
    limit: Option<Arc<Semaphore>>,
}

impl Dns {
    /// Build the resolver with the default timeout. Must be called inside a tokio runtime.
    ///
    /// Errors: [`LookupError::Config`] when /etc/resolv.conf cannot be read (`System`).
    pub fn new(ns: &Nameserver) -> Result<Dns, LookupError> {
        Dns::with_timeout(ns, DEFAULT_TIMEOUT, DEFAULT_ATTEMPTS)
    }

    /// As [`Dns::new`] with `timeout` per try and `attempts` retries; the worst case per
    /// query is about `timeout × (1 + attempts)`.
    pub fn with_timeout(
        ns: &Nameserver,
        timeout: Duration,
        attempts: usize,
    ) -> Result<Dns, LookupError> {
        Dns::build(ns, timeout, attempts, true)
    }

    /// A resolver that asks the server at `addr` itself, with recursion off (RD=0, RFC 1035
    /// §4.1.1): for an authoritative server, whose own zone data is then the answer. Over
    /// UDP, retried over TCP when the answer is truncated (RFC 7766 §5).
    pub fn direct(
        addr: SocketAddr,
        timeout: Duration,
        attempts: usize,
    ) -> Result<Dns, LookupError> {
        Dns::build(&Nameserver::At(addr), timeout, attempts, false)
    }

    /// This resolver, with every query first taking a permit of `limit`.
    /// One query through the resolver; with `-v`, a line on stderr: the name and type, the
    /// server asked, the outcome and the time it took.
    async fn lookup(
        &self,
        name: Name,
        rtype: RecordType,
    ) -> Result<hickory_resolver::lookup::Lookup, NetError> {
        if !crate::output::verbose() {
            return self.resolver.lookup(name, rtype).await;
        }
        let start = std::time::Instant::now();
        let shown = name.to_ascii();
        let answer = self.resolver.lookup(name, rtype).await;
        let outcome = match &answer {
            Ok(l) => format!("{} record(s)", l.answers().len()),
            Err(NetError::Dns(DnsError::NoRecordsFound(no))) => format!("{:?}", no.response_code),
            Err(e) => e.to_string(),
        };
        traceln!(
            "mailsetup: dns: {shown} {rtype} at {}: {outcome} in {} ms",
            self.ns,
            start.elapsed().as_millis()
        );
        answer
    }

    pub fn limited(mut self, limit: Arc<Semaphore>) -> Dns {
        self.limit = Some(limit);
        self
    }

    fn build(
        ns: &Nameserver,
        timeout: Duration,
        attempts: usize,
        recursion: bool,
    ) -> Result<Dns, LookupError> {
        let builder = match ns {
            Nameserver::System => {
                TokioResolver::builder_tokio().map_err(|e| LookupError::Config(e.to_string()))?
            }
            Nameserver::At(addr) => {
                let mut udp = ConnectionConfig::udp();
                udp.port = addr.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = addr.port();
                let server = NameServerConfig::new(addr.ip(), true, vec![udp, tcp]);
                Resolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![server]),
                    TokioRuntimeProvider::default(),
                )
            }
        };
        let mut builder = builder;
        let opts: &mut ResolverOpts = builder.options_mut();
        opts.timeout = timeout;
        opts.attempts = attempts;
        opts.cache_size = 0;
        opts.use_hosts_file = ResolveHosts::Never;
        opts.recursion_desired = recursion;
        let resolver = builder
            .build()
            .map_err(|e| LookupError::Config(e.to_string()))?;
        Ok(Dns {
            resolver,
            ns: *ns,
            limit: None,
        })
    }

    /// The nameserver this resolver asks.
    pub fn nameserver(&self) -> &Nameserver {
        &self.ns
    }

    /// TXT records at `name`, one `String` per RR: its character-strings joined with no
    /// separator (RFC 7208 §3.3, RFC 6376 §3.6.2.2), invalid UTF-8 replaced by U+FFFD,
    /// capped at [`MAX_RECORD_BYTES`]. Not sanitized: sanitize before display.
    pub async fn txt(&self, name: &str) -> Result<Answer<String>, LookupError> {
        self.typed(name, RecordType::TXT, |data| match data {
            RData::TXT(txt) => {
                let mut bytes = Vec::new();
                for s in txt.txt_data.iter() {
                    bytes.extend_from_slice(s);
                }
                Some(text::capped_lossy(&bytes))
            }
            _ => None,
        })
        .await
    }

    /// A records at `name` (RFC 1035 §3.4.1).
    pub async fn a(&self, name: &str) -> Result<Answer<Ipv4Addr>, LookupError> {
        self.typed(name, RecordType::A, |data| match data {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .await
    }

    /// AAAA records at `name` (RFC 3596 §2.2).
    pub async fn aaaa(&self, name: &str) -> Result<Answer<Ipv6Addr>, LookupError> {
        self.typed(name, RecordType::AAAA, |data| match data {
            RData::AAAA(a) => Some(a.0),
            _ => None,
        })
        .await
    }

    /// MX records at `name` (RFC 1035 §3.3.9).
    pub async fn mx(&self, name: &str) -> Result<Answer<Mx>, LookupError> {
        self.typed(name, RecordType::MX, |data| match data {
            RData::MX(mx) => Some(Mx {
                preference: mx.preference,
                exchange: text::host_name(&mx.exchange.to_ascii()),
            }),
            _ => None,
        })
        .await
    }

    /// PTR records of `ip` (RFC 1035 §3.5 in-addr.arpa, RFC 3596 §2.5 ip6.arpa): the names,
    /// lowercase ASCII without the trailing dot.
    pub async fn ptr(&self, ip: IpAddr) -> Result<Answer<String>, LookupError> {
        self.ptr_at(&reverse_name(ip)).await
    }

    /// PTR records at a reverse name such as `25.2.0.192.in-addr.arpa` (see [`Dns::ptr`]).
    pub async fn ptr_at(&self, name: &str) -> Result<Answer<String>, LookupError> {
        self.typed(name, RecordType::PTR, |data| match data {
            RData::PTR(p) => Some(text::host_name(&p.0.to_ascii())),
            _ => None,
        })
        .await
    }

    /// NS records at `name` (RFC 1035 §3.3.11): the nameserver names, lowercase ASCII
    /// without the trailing dot.
    pub async fn ns(&self, name: &str) -> Result<Answer<String>, LookupError> {
        self.typed(name, RecordType::NS, |data| match data {
            RData::NS(ns) => Some(text::host_name(&ns.0.to_ascii())),
            _ => None,
        })
        .await
    }

    /// The SOA of the zone `name` is in: from the answer when `name` is the apex, else from
    /// the authority section of the NODATA / NXDOMAIN answer (RFC 2308 §3). `Ok(None)` when
    /// the server sent no SOA at all (then ask again at the parent name).
    pub async fn soa(&self, name: &str) -> Result<Option<Soa>, LookupError> {
        let name = fqdn(name)?;
        let _permit = self.permit().await;
        let soa = |owner: &Name, ttl: u32, data: &hickory_proto::rr::rdata::SOA| Soa {
            apex: text::host_name(&owner.to_ascii()),
            serial: data.serial,
            negative_ttl: ttl.min(data.minimum),
        };
        match self.lookup(name, RecordType::SOA).await {
            Ok(lookup) => Ok(lookup.answers().iter().find_map(|r| match &r.data {
                RData::SOA(data) => Some(soa(&r.name, r.ttl, data)),
                _ => None,
            })),
            Err(NetError::Dns(DnsError::NoRecordsFound(no))) => {
                Ok(no.soa.map(|r| soa(&r.name, r.ttl, &r.data)))
            }
            Err(e) => Err(classify(e)
                .err()
                .unwrap_or(LookupError::Other("no SOA in a negative answer".into()))),
        }
    }

    /// Evaluate SPF for a message from `ip` with MAIL FROM `postmaster@<domain>` and HELO
    /// `helo` (RFC 7208 §4 `check_host()`, via mail-auth's evaluator with this resolver).
    /// DNS failures during evaluation come back as [`SpfOutcome::TempError`].
    ///
    /// `record`, when given, is used as the domain's own SPF record instead of looking it up
    /// (the text the authoritative servers serve); includes and the rest are looked up.
    pub async fn spf_result(
        &self,
        ip: IpAddr,
        domain: &str,
        helo: &str,
        record: Option<&str>,
    ) -> SpfOutcome {
        let auth = MessageAuthenticator(self.resolver.clone());
        let sender = format!("postmaster@{domain}");
        let params = SpfParameters::verify_mail_from(ip, helo, helo, &sender);
        let _permit = self.permit().await;
        let seed = seed::SeedTxt::spf(domain, record);
        let out = auth
            .verify_spf(Parameters::new(params).with_txt_cache(&seed))
            .await;
        match out.result() {
            SpfResult::Pass => SpfOutcome::Pass,
            SpfResult::Fail => SpfOutcome::Fail,
            SpfResult::SoftFail => SpfOutcome::SoftFail,
            SpfResult::Neutral => SpfOutcome::Neutral,
            SpfResult::TempError => SpfOutcome::TempError,
            SpfResult::PermError => SpfOutcome::PermError,
            SpfResult::None => SpfOutcome::None,
        }
    }

    /// Verify the DKIM signatures of `message` (RFC 5322 text, CRLF) against the key record
    /// `record` for `<s>._domainkey.<d>` = `key_name`, not against DNS (RFC 6376 §6.1). Only
    /// signatures whose `s=` and `d=` name `key_name` count: another signer's signature on
    /// the same message proves nothing about this key. `Ok((d, s, a))` of the first that
    /// passes (`a` as in RFC 6376 §3.5: `rsa-sha256`), else why none did.
    pub async fn dkim_verify(
        &self,
        message: &[u8],
        key_name: &str,
        record: &str,
    ) -> Result<(String, String, String), String> {
        let parsed = mail_auth::AuthenticatedMessage::parse(message)
            .ok_or("the signed message does not parse")?;
        let auth = MessageAuthenticator(self.resolver.clone());
        let seed = seed::SeedTxt::dkim(key_name, record);
        let outputs = auth
            .verify_dkim(Parameters::new(&parsed).with_txt_cache(&seed))
            .await;
        let mut why = format!("there is no DKIM-Signature for {key_name}");
        let ours = |sig: &mail_auth::dkim::Signature| {
            format!("{}._domainkey.{}", sig.s, sig.d)
                .trim_end_matches('.')
                .eq_ignore_ascii_case(key_name.trim_end_matches('.'))
        };
        for out in outputs.iter().filter(|o| o.signature().is_some_and(ours)) {
            match (out.result(), out.signature()) {
                (mail_auth::DkimResult::Pass, Some(sig)) => {
                    let a = match sig.a {
                        mail_auth::common::crypto::Algorithm::RsaSha256 => "rsa-sha256",
                        mail_auth::common::crypto::Algorithm::RsaSha1 => "rsa-sha1",
                        mail_auth::common::crypto::Algorithm::Ed25519Sha256 => "ed25519-sha256",
                    };
                    return Ok((sig.d.clone(), sig.s.clone(), a.to_string()));
                }
                (result, _) => why = format!("{result:?}"),
            }
        }
        Err(why)
    }

    async fn typed<T>(
        &self,
        name: &str,
        rtype: RecordType,
        pick: impl Fn(&RData) -> Option<T>,
    ) -> Result<Answer<T>, LookupError> {
        let name = fqdn(name)?;
        self.typed_name(name, rtype, pick).await
    }

    async fn typed_name<T>(
        &self,
        name: Name,
        rtype: RecordType,
        pick: impl Fn(&RData) -> Option<T>,
    ) -> Result<Answer<T>, LookupError> {
        let _permit = self.permit().await;
        match self.lookup(name, rtype).await {
            Ok(lookup) => {
                // CNAMEs on the way are in the answer too; keep only the asked type.
                let picked: Vec<(T, u32)> = lookup
                    .answers()
                    .iter()
                    .filter_map(|r| pick(&r.data).map(|v| (v, r.ttl)))
                    .take(MAX_RECORDS)
                    .collect();
                let ttl = picked.iter().map(|(_, t)| *t).min().unwrap_or(0);
                if picked.is_empty() {
                    Ok(Answer::absent(Absence::NoData, 0))
                } else {
                    Ok(Answer {
                        records: picked.into_iter().map(|(v, _)| v).collect(),
                        absent: None,
                        ttl,
                    })
                }
            }
            Err(e) => {
                let ttl = negative_ttl(&e);
                classify(e).map(|why| Answer::absent(why, ttl))
            }
        }
    }

    /// A permit of the concurrency limit, if there is one (held until dropped).
    async fn permit(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        match &self.limit {
            Some(limit) => limit.acquire().await.ok(),
            None => None,
        }
    }
}

/// The negative TTL of a NODATA / NXDOMAIN answer (RFC 2308 §5), 0 without an SOA.
fn negative_ttl(e: &NetError) -> u32 {
    match e {
        NetError::Dns(DnsError::NoRecordsFound(no)) => no.negative_ttl.unwrap_or(0),
        _ => 0,
    }
}

/// The reverse-lookup name of `ip` without the trailing dot: `25.2.0.192.in-addr.arpa`
/// (RFC 1035 §3.5), nibble form under `ip6.arpa` for IPv6 (RFC 3596 §2.5).
pub fn reverse_name(ip: IpAddr) -> String {
    text::host_name(&Name::from(ip).to_ascii())
}

/// `name` as an absolute DNS name, so no search domain is ever appended.
fn fqdn(name: &str) -> Result<Name, LookupError> {
    let absolute = if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    };
    Name::from_ascii(&absolute).map_err(|e| LookupError::InvalidName(format!("{name}: {e}")))
}

/// NXDOMAIN / NODATA are absence; everything else is a failure.
fn classify(e: NetError) -> Result<Absence, LookupError> {
    if e.is_nx_domain() {
        return Ok(Absence::NxDomain);
    }
    if e.is_no_records_found() {
        return Ok(Absence::NoData);
    }
    Err(match e {
        NetError::Timeout => LookupError::Timeout,
        NetError::Dns(DnsError::ResponseCode(code)) => LookupError::Server(rcode_name(code)),
        other => LookupError::Other(other.to_string()),
    })
}

/// The RFC 1035 §4.1.1 / IANA mnemonic of a response code: `SERVFAIL`, `REFUSED`, ….
fn rcode_name(code: ResponseCode) -> String {
    match code {
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        ResponseCode::Refused => "REFUSED".into(),
        ResponseCode::NotAuth => "NOTAUTH".into(),
        other => format!("rcode {} ({other})", u16::from(other)),
    }
}

#[cfg(test)]
mod tests;
