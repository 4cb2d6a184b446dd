//! A DNS lab for `check`: authoritative servers on loopback addresses that share one port
//! (127.0.0.1, 127.0.0.2, …), and the [`AuthOptions`] that reach them: the first server is
//! also the first hop, and `--authoritative-port` is the shared port.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::net::SocketAddr;
use std::time::Duration;

use mailsetup::dns::{AuthOptions, Nameserver};

use super::dns_server::TestDns;

pub struct Lab {
    pub servers: Vec<TestDns>,
}

impl Lab {
    /// One server on 127.0.0.1 serving `zones`.
    pub async fn start(zones: &[&str]) -> Lab {
        Lab {
            servers: vec![TestDns::start(zones).await],
        }
    }

    /// Server `i` on 127.0.0.`i+1`, all on one port, serving `zones[i]`.
    pub async fn several(zones: &[Vec<String>]) -> Lab {
        'attempt: for _ in 0..20 {
            let first: Vec<&str> = zones[0].iter().map(String::as_str).collect();
            let mut servers = vec![TestDns::start(&first).await];
            let port = servers[0].addr().port();
            for (i, set) in zones.iter().enumerate().skip(1) {
                let addr: SocketAddr = format!("127.0.0.{}:{port}", i + 1).parse().unwrap();
                let set: Vec<&str> = set.iter().map(String::as_str).collect();
                match TestDns::try_start_at(addr, &set).await {
                    Some(s) => servers.push(s),
                    None => continue 'attempt,
                }
            }
            return Lab { servers };
        }
        panic!("no port free on every loopback address");
    }

    pub fn port(&self) -> u16 {
        self.servers[0].addr().port()
    }

    /// First hop: the first server; authoritative servers asked on the lab's port.
    pub fn options(&self) -> AuthOptions {
        let mut o = AuthOptions::new(Nameserver::At(self.servers[0].addr()));
        o.port = self.port();
        o.timeout = Duration::from_millis(1500);
        o
    }

    /// `--nameserver 127.0.0.1:P --authoritative-port P` for the binary.
    pub fn args(&self) -> Vec<String> {
        vec![
            "--nameserver".into(),
            self.servers[0].addr().to_string(),
            "--authoritative-port".into(),
            self.port().to_string(),
        ]
    }
}
