//! The authoritative view of a name ([`Authority`]): the zone it is in (SOA), the zone's
//! nameservers (NS, then their addresses) and the answer of every one of them, asked
//! directly with recursion off, next to what the first hop (a recursive resolver) answers.
//!
//! The first hop ([`Nameserver::System`] or `--nameserver`) is only used to find zones and
//! nameserver addresses, and for the recursive view. Zones and server addresses are
//! looked up once per [`Authority`] and shared by every check; every query takes a permit
//! of one semaphore, so any number of domains runs with bounded concurrency.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OnceCell, Semaphore};

use super::{Answer, DNS_PORT, Dns, LookupError, Nameserver, Soa};

/// How to reach the authoritative servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthOptions {
    /// Finds zones and nameserver addresses; gives the recursive view.
    pub first_hop: Nameserver,
    /// The port the authoritative servers are asked on: 53 (RFC 1035 §4.2); another port
    /// only for a lab whose nameservers listen elsewhere (`--authoritative-port`).
    pub port: u16,
    /// Per-try timeout and retries of every query (see [`Dns::with_timeout`]).
    pub timeout: Duration,
    pub attempts: usize,
    /// Queries in flight at most, over all checks.
    pub max_in_flight: usize,
}

impl AuthOptions {
    /// Port 53, [`super::DEFAULT_TIMEOUT`], [`super::DEFAULT_ATTEMPTS`], 64 queries in flight.
    pub fn new(first_hop: Nameserver) -> AuthOptions {
        AuthOptions {
            first_hop,
            port: DNS_PORT,
            timeout: super::DEFAULT_TIMEOUT,
            attempts: super::DEFAULT_ATTEMPTS,
            max_in_flight: 64,
        }
    }
}

/// One authoritative server of a zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneServer {
    /// Its NS name, lowercase, no trailing dot.
    pub name: String,
    pub addr: SocketAddr,
}

/// The zone's serial as one server serves it (RFC 1035 §3.3.13), or why it could not be read.
pub type Serial = Result<u32, LookupError>;

/// Whether a server's serial answer shows it does not serve the zone it is listed for (a
/// lame delegation, RFC 1912 §2.8): REFUSED, NOTAUTH, or an answer without the zone's SOA.
pub fn is_lame(serial: &Serial) -> bool {
    match serial {
        Err(LookupError::Server(code)) => code == "REFUSED" || code == "NOTAUTH",
        Err(LookupError::NotAuthoritative(_)) => true,
        _ => false,
    }
}

/// `ns1.example.org (192.0.2.53)`, with the port when it is not 53.
impl fmt::Display for ZoneServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.addr.port() == DNS_PORT {
            write!(f, "{} ({})", self.name, self.addr.ip())
        } else {
            write!(f, "{} ({})", self.name, self.addr)
        }
    }
}

/// A zone and its authoritative servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    /// Lowercase, no trailing dot.
    pub apex: String,
    /// Negative-caching TTL in seconds (RFC 2308 §5), from the first hop's SOA.
    pub negative_ttl: u32,
    /// Every address of every NS name, in NS order.
    pub servers: Vec<ZoneServer>,
    /// NS names that have no address, with the lookup error if there was one.
    pub unresolved: Vec<(String, Option<LookupError>)>,
}

/// One name and type as every authoritative server of its zone answers it.
#[derive(Debug, Clone)]
pub struct Observed<T> {
    /// The name asked, lowercase, no trailing dot.
    pub name: String,
    pub zone: Arc<Zone>,
    /// Each server's zone serial, in `zone.servers` order.
    pub serials: Arc<Vec<Serial>>,
    /// One answer per server, in `zone.servers` order.
    pub answers: Vec<Result<Answer<T>, LookupError>>,
    /// What the first hop (a recursive resolver, with its cache) answers now.
    pub first_hop: Result<Answer<T>, LookupError>,
}

impl<T: Ord + Clone> Observed<T> {
    /// The index of the answer to judge by: among servers that answered, the one with the
    /// newest serial (RFC 1982 serial arithmetic), the first on a tie. `None` when no server
    /// answered.
    pub fn best_index(&self) -> Option<usize> {
        let mut best: Option<(usize, Option<u32>)> = None;
        for (i, answer) in self.answers.iter().enumerate() {
            if answer.is_err() {
                continue;
            }
            let serial = self.serials[i].as_ref().ok().copied();
            best = match best {
                None => Some((i, serial)),
                Some((_, Some(b))) if serial.is_some_and(|s| newer(s, b)) => Some((i, serial)),
                Some((_, None)) if serial.is_some() => Some((i, serial)),
                keep => keep,
            };
        }
        best.map(|(i, _)| i)
    }

    /// The answer to judge the record by (see [`Observed::best_index`]). Errors: no
    /// server answered; the first server's error (or, with no servers, why).
    pub fn best(&self) -> Result<&Answer<T>, LookupError> {
        match self.best_index() {
            Some(i) => self.answers[i].as_ref().map_err(Clone::clone),
            None => Err(self
                .answers
                .iter()
                .find_map(|a| a.as_ref().err())
                .cloned()
                .unwrap_or_else(|| {
                    LookupError::Other(format!(
                        "no nameserver of {} could be found",
                        self.zone.apex
                    ))
                })),
        }
    }

    /// Servers whose answer differs from the best one (records compared as sets).
    pub fn disagreeing(&self) -> Vec<(&ZoneServer, &Answer<T>)> {
        let Ok(best) = self.best() else {
            return Vec::new();
        };
        let want = sorted(&best.records);
        self.answers
            .iter()
            .zip(&self.zone.servers)
            .filter_map(|(a, s)| a.as_ref().ok().map(|a| (s, a)))
            .filter(|(_, a)| sorted(&a.records) != want)
            .collect()
    }

    /// Servers that answer the zone but failed on this query (lame servers excluded: the
    /// zone's own check reports them).
    pub fn failed(&self) -> Vec<(&ZoneServer, &LookupError)> {
        self.answers
            .iter()
            .zip(&self.zone.servers)
            .zip(self.serials.iter())
            .filter(|(_, serial)| !is_lame(serial))
            .filter_map(|((a, s), _)| a.as_ref().err().map(|e| (s, e)))
            .collect()
    }

    /// Whether the first hop answers differently from the best answer (it has an older
    /// answer cached), and if so its answer.
    pub fn first_hop_differs(&self) -> Option<&Answer<T>> {
        let best = self.best().ok()?;
        let seen = self.first_hop.as_ref().ok()?;
        (sorted(&seen.records) != sorted(&best.records)).then_some(seen)
    }
}

fn sorted<T: Ord + Clone>(v: &[T]) -> Vec<T> {
    let mut v = v.to_vec();
    v.sort();
    v
}

/// `a` is newer than `b` in RFC 1982 serial number arithmetic.
fn newer(a: u32, b: u32) -> bool {
    a != b && a.wrapping_sub(b) < 0x8000_0000
}

type AskFuture<'a, T> = Pin<Box<dyn Future<Output = Result<Answer<T>, LookupError>> + Send + 'a>>;
/// A typed lookup of one name at one resolver (`Dns::txt`, `Dns::a`, …).
pub type Ask<T> = for<'a> fn(&'a Dns, &'a str) -> AskFuture<'a, T>;

type Shared<T> = Arc<OnceCell<Result<T, LookupError>>>;
type SerialsCell = Arc<OnceCell<Arc<Vec<Serial>>>>;

/// Asks every authoritative server; see the module comment. Cheap to share by reference
/// across all checks of one run.
pub struct Authority {
    first_hop: Dns,
    options: AuthOptions,
    limit: Arc<Semaphore>,
    soas: Mutex<HashMap<String, Shared<Soa>>>,
    zones: Mutex<HashMap<String, Shared<Arc<Zone>>>>,
    serials: Mutex<HashMap<String, SerialsCell>>,
    direct: Mutex<HashMap<SocketAddr, Dns>>,
}

impl Authority {
    /// Build the first-hop resolver. Must be called inside a tokio runtime.
    ///
    /// Errors: [`LookupError::Config`] when /etc/resolv.conf cannot be read (`System`).
    pub fn new(options: AuthOptions) -> Result<Authority, LookupError> {
        let limit = Arc::new(Semaphore::new(options.max_in_flight.max(1)));
        let first_hop = Dns::with_timeout(&options.first_hop, options.timeout, options.attempts)?
            .limited(limit.clone());
        Ok(Authority {
            first_hop,
            options,
            limit,
            soas: Mutex::default(),
            zones: Mutex::default(),
            serials: Mutex::default(),
            direct: Mutex::default(),
        })
    }

    /// The first-hop resolver (recursive view; RBL and SPF include lookups use it).
    pub fn first_hop(&self) -> &Dns {
        &self.first_hop
    }

    /// The options this authority was built with.
    pub fn options(&self) -> &AuthOptions {
        &self.options
    }

    /// `name` asked with `ask` at every authoritative server of its zone and at the first
    /// hop, all concurrently. Errors: the zone or its servers could not be found.
    pub async fn observe<T>(&self, name: &str, ask: Ask<T>) -> Result<Observed<T>, LookupError> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let (zone, first_hop) = tokio::join!(self.zone_of(&name), ask(&self.first_hop, &name));
        let zone = zone?;
        let resolvers: Vec<Dns> = zone
            .servers
            .iter()
            .map(|s| self.direct(s.addr))
            .collect::<Result<_, _>>()?;
        let (serials, answers) = tokio::join!(
            self.serials(&zone),
            join_all(resolvers.iter().map(|dns| ask(dns, &name)).collect())
        );
        Ok(Observed {
            name,
            zone,
            serials,
            answers,
            first_hop,
        })
    }

    /// Each server's serial of `zone`, asked directly, once per zone.
    pub async fn serials(&self, zone: &Zone) -> Arc<Vec<Serial>> {
        let cell = {
            let mut map = self.serials.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(zone.apex.clone()).or_default().clone()
        };
        cell.get_or_init(|| async {
            let all = zone
                .servers
                .iter()
                .map(|s| self.serial(s.addr, &zone.apex))
                .collect();
            Arc::new(join_all(all).await)
        })
        .await
        .clone()
    }

    /// The zone `name` is in, with its servers.
    pub async fn zone_of(&self, name: &str) -> Result<Arc<Zone>, LookupError> {
        let soa = self.soa_of(name).await?;
        let cell = shared(&self.zones, &soa.apex);
        cell.get_or_init(|| self.load_zone(soa)).await.clone()
    }

    /// The SOA of the zone `name` is in, walking up one label at a time when the first
    /// hop sends no SOA.
    async fn soa_of(&self, name: &str) -> Result<Soa, LookupError> {
        let cell = shared(&self.soas, name);
        cell.get_or_init(|| async {
            let mut at = name.to_string();
            loop {
                if let Some(soa) = self.first_hop.soa(&at).await? {
                    return Ok(soa);
                }
                match at.split_once('.') {
                    Some((_, parent)) if !parent.is_empty() => at = parent.to_string(),
                    _ => {
                        return Err(LookupError::Other(format!(
                            "no zone (SOA record) found for {name}"
                        )));
                    }
                }
            }
        })
        .await
        .clone()
    }

    async fn load_zone(&self, soa: Soa) -> Result<Arc<Zone>, LookupError> {
        let ns = self.first_hop.ns(&soa.apex).await?;
        let addrs = join_all(ns.records.iter().map(|n| self.addresses(n)).collect()).await;
        let mut servers = Vec::new();
        let mut unresolved = Vec::new();
        for (name, found) in ns.records.iter().zip(addrs) {
            match found {
                Ok(ips) if !ips.is_empty() => servers.extend(
                    ips.into_iter()
                        .map(|ip| (name.clone(), SocketAddr::new(ip, self.options.port))),
                ),
                Ok(_) => unresolved.push((name.clone(), None)),
                Err(e) => unresolved.push((name.clone(), Some(e))),
            }
        }
        let servers = servers
            .into_iter()
            .map(|(name, addr)| ZoneServer { name, addr })
            .collect();
        Ok(Arc::new(Zone {
            apex: soa.apex,
            negative_ttl: soa.negative_ttl,
            servers,
            unresolved,
        }))
    }

    /// The IPv4 addresses of a nameserver name, else its IPv6 addresses.
    async fn addresses(&self, name: &str) -> Result<Vec<IpAddr>, LookupError> {
        let a = self.first_hop.a(name).await?;
        if !a.is_empty() {
            return Ok(a.records.into_iter().map(IpAddr::V4).collect());
        }
        let aaaa = self.first_hop.aaaa(name).await?;
        Ok(aaaa.records.into_iter().map(IpAddr::V6).collect())
    }

    /// The zone serial `addr` serves for `apex`, asked directly.
    async fn serial(&self, addr: SocketAddr, apex: &str) -> Result<u32, LookupError> {
        match self.direct(addr)?.soa(apex).await? {
            Some(soa) if soa.apex == apex => Ok(soa.serial),
            _ => Err(LookupError::NotAuthoritative(apex.to_string())),
        }
    }

    /// The direct (RD=0) resolver for one server, built once.
    fn direct(&self, addr: SocketAddr) -> Result<Dns, LookupError> {
        let mut map = self.direct.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(dns) = map.get(&addr) {
            return Ok(dns.clone());
        }
        let dns = Dns::direct(addr, self.options.timeout, self.options.attempts)?
            .limited(self.limit.clone());
        map.insert(addr, dns.clone());
        Ok(dns)
    }
}

/// The once-cell for `key`, created on first use.
fn shared<T>(map: &Mutex<HashMap<String, Shared<T>>>, key: &str) -> Shared<T> {
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    map.entry(key.to_string()).or_default().clone()
}

/// Poll all futures concurrently on this task; outputs in input order.
pub async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (fut, out) in futures.iter_mut().zip(outputs.iter_mut()) {
            if out.is_none() {
                match fut.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *out = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// [`Ask`] functions for each record type.
pub mod ask {
    use super::{AskFuture, Dns};

    /// TXT (see [`Dns::txt`]).
    pub fn txt<'a>(dns: &'a Dns, name: &'a str) -> AskFuture<'a, String> {
        Box::pin(dns.txt(name))
    }
    /// A, as `IpAddr`s.
    pub fn a<'a>(dns: &'a Dns, name: &'a str) -> AskFuture<'a, std::net::IpAddr> {
        Box::pin(async move { dns.a(name).await.map(|a| a.map(std::net::IpAddr::V4)) })
    }
    /// AAAA, as `IpAddr`s.
    pub fn aaaa<'a>(dns: &'a Dns, name: &'a str) -> AskFuture<'a, std::net::IpAddr> {
        Box::pin(async move { dns.aaaa(name).await.map(|a| a.map(std::net::IpAddr::V6)) })
    }
    /// MX.
    pub fn mx<'a>(dns: &'a Dns, name: &'a str) -> AskFuture<'a, crate::dns::Mx> {
        Box::pin(dns.mx(name))
    }
    /// PTR at a reverse name (`25.2.0.192.in-addr.arpa`).
    pub fn ptr<'a>(dns: &'a Dns, name: &'a str) -> AskFuture<'a, String> {
        Box::pin(dns.ptr_at(name))
    }
}

#[cfg(test)]
mod tests;
