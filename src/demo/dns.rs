//! The demo's authoritative DNS (hickory-server): one server per nameserver of
//! [`zones::NAMESERVERS`] (127.0.0.1 and 127.0.0.2, one port, UDP and TCP), each serving
//! every zone of [`zones::origins`]. The first is also the first hop `check` finds zones
//! through (`--nameserver 127.0.0.1:PORT --authoritative-port PORT`).
//!
//! [`DemoDns::publish`] replaces each zone's records by the published ones with the next SOA
//! serial, at one server now and at the other after a lag, as a provider's secondaries catch
//! up, so `check` sees the servers disagree and then agree.
//!
//! The servers run on a runtime of their own, so that they answer whatever runtime the
//! caller's checks run on; it stops when the [`DemoDns`] is dropped.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use hickory_proto::rr::Name;
use hickory_proto::serialize::txt::Parser;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_server::Server;
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneHandler, ZoneType};
use tokio::net::{TcpListener, UdpSocket};

use super::zones;
use crate::dns::{AuthOptions, Nameserver};
use crate::error::{Error, Result};
use crate::records::RecordSet;
use crate::settings::Settings;

type Handler = InMemoryZoneHandler<TokioRuntimeProvider>;

/// One nameserver: its address and its zones' handlers, by origin.
struct NsServer {
    addr: SocketAddr,
    zones: BTreeMap<String, Arc<Handler>>,
    _server: Server<Catalog>,
}

/// The running servers; stopped when dropped.
pub struct DemoDns {
    servers: Vec<NsServer>,
    origins: Vec<String>,
    serial: AtomicU32,
    runtime: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for DemoDns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let addrs: Vec<SocketAddr> = self.servers.iter().map(|s| s.addr).collect();
        f.debug_struct("DemoDns").field("servers", &addrs).finish()
    }
}

impl DemoDns {
    /// Start the servers with the zones of `settings`, before anything is published, on a
    /// port free at every nameserver address. Errors: no runtime, a zone that does not load,
    /// or no port free on both loopback addresses.
    pub fn start(settings: &Settings) -> Result<DemoDns> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| Error::io("start the async runtime", "-", e))?;
        let origins = zones::origins(settings);
        let servers = runtime.block_on(bind_all(&origins))?;
        Ok(DemoDns {
            servers,
            origins,
            serial: AtomicU32::new(1),
            runtime: Some(runtime),
        })
    }

    /// The port every nameserver listens on.
    pub fn port(&self) -> u16 {
        self.servers[0].addr.port()
    }

    /// The first nameserver's address: the first hop.
    pub fn first_hop(&self) -> SocketAddr {
        self.servers[0].addr
    }

    /// How `check` reaches these servers.
    pub fn options(&self) -> AuthOptions {
        let mut o = AuthOptions::new(Nameserver::At(self.first_hop()));
        o.port = self.port();
        o.timeout = Duration::from_millis(1500);
        o
    }

    /// `--nameserver 127.0.0.1:PORT --authoritative-port PORT`.
    pub fn args(&self) -> String {
        format!(
            "--nameserver {} --authoritative-port {}",
            self.first_hop(),
            self.port()
        )
    }

    /// The zones' origins.
    pub fn origins(&self) -> &[String] {
        &self.origins
    }

    /// Publish `set` into every zone with the next serial: at the first nameserver at once,
    /// at the others after `lag` (in the background; `Duration::ZERO`: at once too). Returns
    /// the serial and the zones' text as published. Errors: a zone does not load.
    pub fn publish(&self, set: &RecordSet, lag: Duration) -> Result<(u32, Vec<(String, String)>)> {
        let serial = self.serial.fetch_add(1, Ordering::SeqCst) + 1;
        let texts: Vec<(String, String)> = self
            .origins
            .iter()
            .map(|o| (o.clone(), zones::render(o, serial, Some(set))))
            .collect();
        let runtime = self.runtime.as_ref().expect("running until dropped");
        for (i, server) in self.servers.iter().enumerate() {
            let mut loaded = Vec::new();
            for (origin, text) in &texts {
                let (_, fresh) = handler(text)?;
                loaded.push((server.zones[origin].clone(), fresh));
            }
            let job = async move {
                for (live, mut fresh) in loaded {
                    *live.records_mut().await = std::mem::take(fresh.records_get_mut());
                }
            };
            if i == 0 || lag.is_zero() {
                runtime.block_on(job);
            } else {
                runtime.spawn(async move {
                    tokio::time::sleep(lag).await;
                    job.await;
                });
            }
        }
        Ok((serial, texts))
    }

    /// The addresses of the nameservers, for messages.
    pub fn addresses(&self) -> Vec<IpAddr> {
        self.servers.iter().map(|s| s.addr.ip()).collect()
    }
}

impl Drop for DemoDns {
    fn drop(&mut self) {
        // may be dropped inside another runtime (the wizard's): never block there
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// A zone handler loaded from master-file text. Errors: the text does not parse.
fn handler(text: &str) -> Result<(Name, Handler)> {
    let invalid = |reason: String| Error::Invalid {
        what: "a demo zone".into(),
        reason,
    };
    let (origin, records): (Name, _) = Parser::new(text, None, None)
        .parse()
        .map_err(|e| invalid(format!("does not parse: {e}\n{text}")))?;
    let h = Handler::new(origin.clone(), records, ZoneType::Primary, AxfrPolicy::Deny)
        .map_err(invalid)?;
    Ok((origin, h))
}

/// Every nameserver on one port (tried a few times: the port the first gets may be taken
/// at another address).
async fn bind_all(origins: &[String]) -> Result<Vec<NsServer>> {
    let mut last = None;
    'attempt: for _ in 0..20 {
        let mut servers = Vec::new();
        let mut port = 0;
        for (_, ip) in zones::NAMESERVERS {
            let addr = SocketAddr::new(IpAddr::V4(ip), port);
            match serve(addr, origins).await {
                Ok(s) => {
                    port = s.addr.port();
                    servers.push(s);
                }
                Err(e) => {
                    last = Some(e);
                    continue 'attempt;
                }
            }
        }
        return Ok(servers);
    }
    Err(Error::io(
        "bind a DNS server on",
        "127.0.0.1 and 127.0.0.2",
        last.unwrap_or_else(|| std::io::Error::other("no port free on both")),
    ))
}

async fn serve(addr: SocketAddr, origins: &[String]) -> std::io::Result<NsServer> {
    let udp = UdpSocket::bind(addr).await?;
    let addr = udp.local_addr()?;
    let tcp = TcpListener::bind(addr).await?;
    let mut catalog = Catalog::new();
    let mut zones = BTreeMap::new();
    for origin in origins {
        let text = zones::render(origin, 1, None);
        let (name, h) = handler(&text).map_err(|e| std::io::Error::other(e.to_string()))?;
        let h = Arc::new(h);
        catalog.upsert(name.into(), vec![h.clone() as Arc<dyn ZoneHandler>]);
        zones.insert(origin.clone(), h);
    }
    let mut server = Server::new(catalog);
    server.register_socket(udp);
    server.register_listener(tcp, Duration::from_secs(5), 64);
    Ok(NsServer {
        addr,
        zones,
        _server: server,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::Dns;

    fn spf_at(dns: &DemoDns, i: usize) -> Vec<String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let addr = dns.servers[i].addr;
        rt.block_on(async {
            let d = Dns::direct(addr, Duration::from_secs(1), 1).unwrap();
            d.txt("example.net").await.unwrap().records
        })
    }

    #[test]
    fn publishing_reaches_the_second_nameserver_after_the_lag() {
        let settings = crate::answers::parse(super::super::ANSWERS).unwrap();
        let dns = DemoDns::start(&settings).unwrap();
        assert_eq!(dns.addresses().len(), 2);
        assert!(spf_at(&dns, 0).is_empty(), "nothing before publishing");
        let addrs = crate::values::ServerAddrs::new(settings.ipv4, None).unwrap();
        let set = crate::records::build(&settings, addrs, &BTreeMap::new());
        let (serial, _) = dns.publish(&set, Duration::from_millis(800)).unwrap();
        assert_eq!(serial, 2);
        let spf = vec!["v=spf1 a mx ip4:192.0.2.10 ~all".to_string()];
        assert_eq!(spf_at(&dns, 0), spf, "the first at once");
        assert!(spf_at(&dns, 1).is_empty(), "the second not yet");
        std::thread::sleep(Duration::from_millis(1500));
        assert_eq!(spf_at(&dns, 1), spf, "the second after the lag");
    }
}
