//! The `smtp` check: can this server open a TCP connection to port 25 of a receiving mail
//! server? Many hosting providers block outbound port 25 by default (see
//! [`crate::provider`]); then every message stays in Postfix's queue, whatever the records say.
//! The target is found through DNS, never a hard-coded address: by default the MX of a large
//! mailbox provider ([`DEFAULT_DOMAIN`], RFC 5321 §5.1: the most preferred exchange and its
//! A/AAAA records), or a host given on the command line. [`gather`] makes the lookups and
//! the connection (at most [`TIMEOUT`]); [`judge`] is pure.
//!
//! A connection that times out or is refused while DNS worked is `smtp.port25-blocked`; a
//! target that cannot be resolved is `smtp.port25-unknown`: the connection was never tried,
//! so nothing is known (never a pass, [`super::is_unknown`]).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::{Checked, Finding, JobResult, Severity, ids, status};
use crate::dns::auth::ask;
use crate::dns::{Authority, reverse_name, sanitize};
use crate::provider::{self, Provider};
use crate::values::Domain;

/// The domain whose MX the check connects to by default: a large mailbox provider whose
/// servers accept connections from anywhere.
pub const DEFAULT_DOMAIN: &str = "gmail.com";

/// How long the connection may take.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Where to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The most preferred MX host of this domain, port 25.
    MxOf(Domain),
    /// This host (a name resolved through DNS, or an IP address) and port.
    Host { host: String, port: u16 },
}

impl Default for Target {
    fn default() -> Target {
        Target::MxOf(Domain::parse(DEFAULT_DOMAIN).expect("a valid domain"))
    }
}

impl Target {
    /// `HOST[:PORT]` (`[IPv6]:PORT` for an IPv6 address with a port), port 25 by default.
    /// Errors: an empty host or a bad port.
    pub fn parse_host(s: &str) -> Result<Target, String> {
        let s = s.trim();
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (ip, after) = rest
                .split_once(']')
                .ok_or_else(|| "a [ without its ]".to_string())?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => return Err(format!("unexpected {after:?} after ]")),
            };
            (ip.to_string(), port)
        } else if s.parse::<IpAddr>().is_ok() {
            (s.to_string(), None)
        } else {
            match s.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (s.to_string(), None),
            }
        };
        if host.is_empty() {
            return Err("no host".into());
        }
        let port = match port {
            None => 25,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("{p:?} is not a port (1 to 65535)"))?,
        };
        Ok(Target::Host { host, port })
    }

    /// For the report: `MX of gmail.com`, `mx.example.net:2525`.
    pub fn describe(&self) -> String {
        match self {
            Target::MxOf(d) => format!("MX of {d}"),
            Target::Host { host, port } => format!("{host}:{port}"),
        }
    }
}

/// How the connection went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connect {
    Connected,
    Refused,
    TimedOut,
    /// Any other failure (no route, network unreachable), as text.
    Failed(String),
}

/// What [`gather`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gathered {
    pub target: Target,
    /// The host connected to (the MX exchange, or the host given) and its address and port;
    /// or why the target could not be resolved.
    pub resolved: Result<(String, SocketAddr), String>,
    /// How the connection went; `None` when it was not tried (nothing resolved).
    pub connect: Option<Connect>,
    /// The PTR names of the server's address, for the provider guess (empty when unknown).
    pub ptr_names: Vec<String>,
}

/// Resolve the target through `auth` (the most preferred MX host; its A records, else
/// AAAA), connect to the first address within `timeout`, and look up the PTR of `ip` (the
/// server's address) for the provider guess.
pub async fn gather(
    auth: &Authority,
    target: &Target,
    timeout: Duration,
    ip: Option<IpAddr>,
) -> Gathered {
    let resolved = resolve(auth, target).await;
    let connect = match &resolved {
        Ok((_, addr)) => Some(connect(*addr, timeout).await),
        Err(_) => None,
    };
    let ptr_names = match ip {
        Some(ip) => auth
            .observe(&reverse_name(ip), ask::ptr)
            .await
            .and_then(|o| o.best().cloned())
            .map(|a| a.records)
            .unwrap_or_default(),
        None => Vec::new(),
    };
    Gathered {
        target: target.clone(),
        resolved,
        connect,
        ptr_names,
    }
}

async fn resolve(auth: &Authority, target: &Target) -> Result<(String, SocketAddr), String> {
    let (host, port) = match target {
        Target::Host { host, port } => {
            if let Ok(ip) = host.parse::<IpAddr>() {
                return Ok((host.clone(), SocketAddr::new(ip, *port)));
            }
            (host.clone(), *port)
        }
        Target::MxOf(domain) => {
            let mx = auth
                .observe(domain.as_str(), ask::mx)
                .await
                .and_then(|o| o.best().cloned())
                .map_err(|e| format!("the MX of {domain} could not be read: {e}"))?;
            let best = mx
                .records
                .iter()
                .filter(|m| m.exchange != "." && !m.exchange.is_empty())
                .min_by_key(|m| m.preference)
                .ok_or_else(|| format!("{domain} has no MX host"))?;
            (best.exchange.trim_end_matches('.').to_string(), 25)
        }
    };
    for ask in [ask::a, ask::aaaa] {
        let answer = auth
            .observe(&host, ask)
            .await
            .and_then(|o| o.best().cloned());
        match answer {
            Ok(a) if !a.records.is_empty() => {
                return Ok((host, SocketAddr::new(a.records[0], port)));
            }
            Ok(_) => {}
            Err(e) => {
                return Err(format!(
                    "the address of {} could not be read: {e}",
                    sanitize(&host)
                ));
            }
        }
    }
    Err(format!("{} has no address", sanitize(&host)))
}

async fn connect(addr: SocketAddr, timeout: Duration) -> Connect {
    traceln!(
        "smtp: connecting to {addr} (timeout {} s)",
        timeout.as_secs()
    );
    match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr)).await {
        Err(_) => Connect::TimedOut,
        Ok(Ok(_stream)) => Connect::Connected,
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => Connect::Refused,
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::TimedOut => Connect::TimedOut,
        Ok(Err(e)) => Connect::Failed(e.to_string()),
    }
}

/// The findings: none when the connection was made; `smtp.port25-blocked` (error) when it
/// timed out, was refused or failed after the target resolved, with the procedure of
/// `provider` (the answers'), else of the one guessed from the PTR names; else
/// `smtp.port25-unknown` (warning) with why the target could not be resolved. `subject`:
/// the server's hostname.
pub fn judge(g: &Gathered, subject: &str, provider: Option<Provider>) -> Vec<Finding> {
    let (host, addr) = match &g.resolved {
        Ok(found) => found,
        Err(why) => {
            return vec![
                Finding::new(
                    ids::SMTP_PORT25_UNKNOWN,
                    Severity::Warning,
                    subject,
                    format!(
                        "could not test outbound port 25 ({}): {why}",
                        g.target.describe()
                    ),
                )
                .fix(Some(
                    "make DNS work, or name a mail server this host should reach: check \
                     --port25-target HOST[:PORT] (or --port25-domain DOMAIN)"
                        .into(),
                )),
            ];
        }
    };
    let how = match &g.connect {
        Some(Connect::Connected) | None => return Vec::new(),
        Some(Connect::Refused) => "the connection was refused".to_string(),
        Some(Connect::TimedOut) => format!("no answer within {} s", TIMEOUT.as_secs()),
        Some(Connect::Failed(e)) => e.clone(),
    };
    let host = sanitize(host);
    let message = format!(
        "this server cannot connect to port 25 of {host} ({addr}, {}): {how}; outbound port \
         25 is probably blocked, and no mail can be delivered until it is opened",
        g.target.describe()
    );
    let guessed = || provider::guess_any(g.ptr_names.iter().map(String::as_str));
    let fix = match provider.or_else(guessed) {
        Some(p) => format!(
            "ask the provider to open outbound port 25: {}",
            provider::port25_steps(p)
        ),
        None => "ask the hosting provider (or ISP) to open outbound TCP port 25; many block \
                 it by default for new servers. Or, when port 25 to that host is blocked by \
                 a firewall of your own, allow it. Without port 25, send through a relay on \
                 port 587 (Postfix relayhost)"
            .to_string(),
    };
    vec![
        Finding::new(ids::SMTP_PORT25_BLOCKED, Severity::Error, subject, message)
            .found(how)
            .expected(format!("a TCP connection to {addr}"))
            .fix(Some(fix)),
    ]
}

/// The `smtp` line and its findings for `g`, under the hostname.
pub fn result(g: &Gathered, hostname: &Domain, provider: Option<Provider>) -> JobResult {
    let findings = judge(g, hostname.as_str(), provider);
    JobResult {
        checked: Checked {
            check: "smtp",
            subject: format!("port 25 → {}", g.target.describe()),
            status: status(&findings),
            group: hostname.to_string(),
        },
        findings,
    }
}

/// Gather and judge, with `ip` the server's address (for the provider guess).
pub async fn run(
    auth: &Authority,
    target: &Target,
    timeout: Duration,
    hostname: &Domain,
    ip: Option<IpAddr>,
    provider: Option<Provider>,
) -> JobResult {
    result(&gather(auth, target, timeout, ip).await, hostname, provider)
}

#[cfg(test)]
mod tests {
    use super::super::Status;
    use super::*;

    fn gathered(resolved: Result<(&str, &str), &str>, connect: Option<Connect>) -> Gathered {
        Gathered {
            target: Target::default(),
            resolved: resolved
                .map(|(h, a)| (h.to_string(), a.parse().unwrap()))
                .map_err(str::to_string),
            connect,
            ptr_names: vec![],
        }
    }

    fn host() -> Domain {
        Domain::parse("mail.example.org").unwrap()
    }

    #[test]
    fn a_connection_passes() {
        let g = gathered(
            Ok(("mx.example.net", "192.0.2.1:25")),
            Some(Connect::Connected),
        );
        let r = result(&g, &host(), None);
        assert_eq!(r.findings, []);
        assert_eq!(r.checked.status, Status::Pass);
        assert_eq!(r.checked.check, "smtp");
        assert_eq!(r.checked.subject, "port 25 → MX of gmail.com");
    }

    #[test]
    fn refused_or_timed_out_is_blocked_with_the_provider_s_procedure() {
        for c in [
            Connect::Refused,
            Connect::TimedOut,
            Connect::Failed("Network is unreachable".into()),
        ] {
            let g = gathered(Ok(("mx.example.net", "192.0.2.1:25")), Some(c.clone()));
            let r = result(&g, &host(), Some(Provider::Hetzner));
            assert_eq!(r.checked.status, Status::Fail, "{c:?}");
            assert_eq!(r.findings.len(), 1);
            let f = &r.findings[0];
            assert_eq!(f.id, ids::SMTP_PORT25_BLOCKED);
            assert_eq!(f.subject, "mail.example.org");
            assert!(
                f.message.contains("mx.example.net (192.0.2.1:25"),
                "{}",
                f.message
            );
            assert!(f.fix.as_deref().unwrap().contains("Hetzner"), "{:?}", f.fix);
        }
        // the guess from the PTR name when the answers name none; else the generic text
        let mut g = gathered(
            Ok(("mx.example.net", "192.0.2.1:25")),
            Some(Connect::Refused),
        );
        let generic = judge(&g, "mail.example.org", None);
        assert!(generic[0].fix.as_deref().unwrap().contains("relayhost"));
        g.ptr_names = vec!["ec2-192-0-2-25.compute-1.amazonaws.com".into()];
        let guessed = judge(&g, "mail.example.org", None);
        assert!(
            guessed[0]
                .fix
                .as_deref()
                .unwrap()
                .contains("Request to remove email sending limitations")
        );
    }

    #[test]
    fn an_unresolved_target_is_unknown_never_a_pass() {
        let g = gathered(
            Err("the MX of gmail.com could not be read: timed out"),
            None,
        );
        let r = result(&g, &host(), None);
        assert_eq!(r.checked.status, Status::Unknown);
        assert_eq!(r.findings[0].id, ids::SMTP_PORT25_UNKNOWN);
        assert!(super::super::is_unknown(&r.findings[0]));
        assert!(r.findings[0].message.contains("timed out"));
    }

    #[test]
    fn targets_parse() {
        let t = |s: &str| Target::parse_host(s);
        let host = |h: &str, p| {
            Ok(Target::Host {
                host: h.into(),
                port: p,
            })
        };
        assert_eq!(t("mx.example.net"), host("mx.example.net", 25));
        assert_eq!(t("mx.example.net:2525"), host("mx.example.net", 2525));
        assert_eq!(t("127.0.0.1:2525"), host("127.0.0.1", 2525));
        assert_eq!(t("2001:db8::1"), host("2001:db8::1", 25));
        assert_eq!(t("[2001:db8::1]:587"), host("2001:db8::1", 587));
        assert!(t("mx.example.net:0").is_err());
        assert!(t("mx.example.net:x").is_err());
        assert!(t(":25").is_err());
        assert!(t("[::1").is_err());
        assert_eq!(Target::default().describe(), "MX of gmail.com");
    }
}
