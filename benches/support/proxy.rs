//! A loopback DNS proxy for the benchmark: forwards every query (UDP and TCP) to an upstream
//! server after a fixed delay, so each query costs what a query over the Internet does. With
//! a negative cache it also plays a recursive resolver that remembers "no such record": a
//! NXDOMAIN or NODATA answer (over UDP) is kept for `negative_ttl` and served again
//! without asking. TCP is forwarded with the delay and never cached.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, ResponseCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

type Cache = Arc<Mutex<HashMap<(String, u16), (Vec<u8>, Instant)>>>;

pub struct Proxy {
    pub addr: SocketAddr,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn key(query: &[u8]) -> Option<(String, u16)> {
    let m = Message::from_vec(query).ok()?;
    let q = m.queries.first()?;
    Some((
        q.name().to_ascii().to_lowercase(),
        u16::from(q.query_type()),
    ))
}

fn is_negative(reply: &[u8]) -> bool {
    match Message::from_vec(reply) {
        Ok(m) => {
            m.metadata.response_code == ResponseCode::NXDomain
                || (m.metadata.response_code == ResponseCode::NoError && m.answers.is_empty())
        }
        Err(_) => false,
    }
}

impl Proxy {
    pub async fn start(
        upstream: SocketAddr,
        delay: Duration,
        negative_ttl: Option<Duration>,
    ) -> Proxy {
        let udp = Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("bind"));
        let addr = udp.local_addr().expect("addr");
        let tcp = TcpListener::bind(addr).await.expect("bind tcp");
        let cache: Cache = Arc::default();
        let u_cache = cache.clone();
        let udp_task = tokio::spawn(async move {
            let mut buf = vec![0u8; 65535];
            while let Ok((n, peer)) = udp.recv_from(&mut buf).await {
                let query = buf[..n].to_vec();
                let (udp, cache) = (udp.clone(), u_cache.clone());
                tokio::spawn(async move {
                    if let Some(reply) = answer(&query, upstream, delay, negative_ttl, &cache).await
                    {
                        let _ = udp.send_to(&reply, peer).await;
                    }
                });
            }
        });

        let tcp_task = tokio::spawn(async move {
            while let Ok((mut conn, _)) = tcp.accept().await {
                tokio::spawn(async move {
                    loop {
                        let mut len = [0u8; 2];
                        if conn.read_exact(&mut len).await.is_err() {
                            return;
                        }
                        let mut query = vec![0u8; u16::from_be_bytes(len) as usize];
                        if conn.read_exact(&mut query).await.is_err() {
                            return;
                        }
                        let Some(reply) = answer_tcp(&query, upstream, delay).await else {
                            return;
                        };
                        let mut out = (reply.len() as u16).to_be_bytes().to_vec();
                        out.extend_from_slice(&reply);
                        if conn.write_all(&out).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Proxy {
            addr,
            tasks: vec![udp_task, tcp_task],
        }
    }
}

async fn answer(
    query: &[u8],
    upstream: SocketAddr,
    delay: Duration,
    negative_ttl: Option<Duration>,
    cache: &Cache,
) -> Option<Vec<u8>> {
    let k = key(query);
    if let (Some(k), Some(_)) = (&k, negative_ttl) {
        let hit = cache.lock().ok()?.get(k).cloned();
        if let Some((mut reply, until)) = hit
            && Instant::now() < until
        {
            reply[..2].copy_from_slice(&query[..2]); // the query's id
            return Some(reply);
        }
    }
    tokio::time::sleep(delay).await;
    let up = UdpSocket::bind("127.0.0.1:0").await.ok()?;
    up.send_to(query, upstream).await.ok()?;
    let mut buf = vec![0u8; 65535];
    let n = tokio::time::timeout(Duration::from_secs(3), up.recv(&mut buf))
        .await
        .ok()?
        .ok()?;
    let reply = buf[..n].to_vec();
    if let (Some(k), Some(ttl)) = (k, negative_ttl)
        && is_negative(&reply)
    {
        cache
            .lock()
            .ok()?
            .insert(k, (reply.clone(), Instant::now() + ttl));
    }
    Some(reply)
}

async fn answer_tcp(query: &[u8], upstream: SocketAddr, delay: Duration) -> Option<Vec<u8>> {
    tokio::time::sleep(delay).await;
    let mut up = TcpStream::connect(upstream).await.ok()?;
    let mut out = (query.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(query);
    up.write_all(&out).await.ok()?;
    let mut len = [0u8; 2];
    up.read_exact(&mut len).await.ok()?;
    let mut reply = vec![0u8; u16::from_be_bytes(len) as usize];
    up.read_exact(&mut reply).await.ok()?;
    Some(reply)
}
