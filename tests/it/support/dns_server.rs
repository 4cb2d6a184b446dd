//! An in-process authoritative DNS server for tests (hickory-server 0.26): real UDP and TCP
//! on 127.0.0.1, zones given as master-file text (RFC 1035 §5), one server per test.
//!
//! Use from the integration tests (`tests/it/`) as `crate::support::dns_server::TestDns`.
//! It only needs hickory-server (a dev-dependency) and tokio, and does not name the crate
//! under test, so a unit test or a bench can include the same file with
//! `#[path = "…/tests/it/support/dns_server.rs"] #[allow(dead_code)] mod dns_server;`
//! (`src/check/spf_tree/tests.rs` and `benches/check.rs` do).
//!
//! Behaviour worth knowing: a name in no served zone gets REFUSED (tested in `tests/it/dns.rs`).
//! A TXT character-string over 255 bytes loads but is answered with a SERVFAIL that has no
//! question section (seen with dig), which hickory's client drops, so it looks like a timeout;
//! for a real SERVFAIL use [`RcodeServer`]. In zone text, hickory's parser mangles `\DDD`
//! escapes; put a raw control byte in the string instead.
//!
//! [`RcodeServer`] answers every UDP query with one response code and no records (real
//! DNS messages on the wire: same id and question, QR set), for SERVFAIL / REFUSED paths.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::serialize::txt::Parser;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_server::Server;
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};
use tokio::net::{TcpListener, UdpSocket};

/// A running server; it stops when dropped (or with [`TestDns::stop`]).
pub struct TestDns {
    addr: SocketAddr,
    server: Server<Catalog>,
}

impl TestDns {
    /// Serve `zones` (each a master file with `$ORIGIN` and an SOA) on 127.0.0.1:<random>.
    /// Panics on a zone that does not parse: the test is wrong.
    pub async fn start(zones: &[&str]) -> TestDns {
        TestDns::start_at("127.0.0.1:0".parse().unwrap(), zones).await
    }

    /// As [`TestDns::start`] on a given address (e.g. the port of a stopped server, or
    /// 127.0.0.2 on the port of another server: a second authoritative server).
    pub async fn start_at(addr: SocketAddr, zones: &[&str]) -> TestDns {
        TestDns::serve(addr, zones, true).await
    }

    /// As [`TestDns::start`] without TCP: an answer too large for UDP cannot be fetched.
    pub async fn start_udp_only(zones: &[&str]) -> TestDns {
        TestDns::serve("127.0.0.1:0".parse().unwrap(), zones, false).await
    }

    /// Try binding `addr`; `None` when it is taken.
    pub async fn try_start_at(addr: SocketAddr, zones: &[&str]) -> Option<TestDns> {
        let probe = UdpSocket::bind(addr).await.ok()?;
        let tcp = TcpListener::bind(addr).await.ok()?;
        drop((probe, tcp));
        Some(TestDns::start_at(addr, zones).await)
    }

    async fn serve(addr: SocketAddr, zones: &[&str], with_tcp: bool) -> TestDns {
        let mut catalog = Catalog::new();
        for text in zones {
            let (origin, records) = Parser::new(*text, None, None)
                .parse()
                .unwrap_or_else(|e| panic!("zone does not parse: {e}\n{text}"));
            let handler = InMemoryZoneHandler::<TokioRuntimeProvider>::new(
                origin.clone(),
                records,
                ZoneType::Primary,
                AxfrPolicy::Deny,
            )
            .expect("zone handler");
            catalog.upsert(origin.into(), vec![Arc::new(handler)]);
        }
        let mut server = Server::new(catalog);
        let udp = UdpSocket::bind(addr).await.expect("bind UDP");
        let addr = udp.local_addr().expect("local addr");
        server.register_socket(udp);
        if with_tcp {
            let tcp = TcpListener::bind(addr)
                .await
                .expect("bind TCP on the UDP port");
            server.register_listener(tcp, Duration::from_secs(5), 64);
        }
        TestDns { addr, server }
    }

    /// Where the server listens (UDP and TCP on the same port).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop and wait until the sockets are closed, so the port can be bound again.
    pub async fn stop(mut self) {
        let _ = self.server.shutdown_gracefully().await;
    }
}

/// A UDP responder that answers every query with `rcode`; stops when dropped.
pub struct RcodeServer {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl RcodeServer {
    pub async fn start(rcode: ResponseCode) -> RcodeServer {
        let udp = UdpSocket::bind("127.0.0.1:0").await.expect("bind UDP");
        let addr = udp.local_addr().expect("local addr");
        let task = tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok((n, peer)) = udp.recv_from(&mut buf).await {
                let Ok(query) = Message::from_vec(&buf[..n]) else {
                    continue;
                };
                let mut reply =
                    Message::error_msg(query.metadata.id, query.metadata.op_code, rcode);
                reply.metadata.recursion_desired = query.metadata.recursion_desired;
                reply.add_queries(query.queries);
                if let Ok(bytes) = reply.to_vec() {
                    let _ = udp.send_to(&bytes, peer).await;
                }
            }
        });
        RcodeServer { addr, task }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for RcodeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An address where nothing listens (UDP nor TCP): a port just released on 127.0.0.1.
pub async fn dead_addr() -> SocketAddr {
    let udp = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    udp.local_addr().expect("local addr")
}

/// A zone: `$ORIGIN origin.`, `$TTL 300`, SOA (serial 1) and one nameserver `ns1.<origin>`
/// at 127.0.0.1, then `records` (one master-file line each, names relative to the origin).
pub fn zone(origin: &str, records: &[&str]) -> String {
    zone_with(origin, 1, &[("ns1", "127.0.0.1")], records)
}

/// As [`zone`] with this SOA serial and these nameservers: `(label, IPv4)` pairs, each an
/// NS record `<label>.<origin>.` with its A record.
pub fn zone_with(origin: &str, serial: u32, ns: &[(&str, &str)], records: &[&str]) -> String {
    let mut z = format!(
        "$ORIGIN {origin}.\n$TTL 300\n\
         @ IN SOA ns1.{origin}. hostmaster.{origin}. {serial} 3600 600 86400 300\n"
    );
    for (label, ip) in ns {
        z.push_str(&format!("@ IN NS {label}.{origin}.\n{label} IN A {ip}\n"));
    }
    for r in records {
        z.push_str(r);
        z.push('\n');
    }
    z
}
