//! The certificate and STARTTLS checks of this server, as `tls` lines under the hostname:
//!
//! - `tls` `smtpd_tls_cert_file …`: the certificate main.cf configures (read beneath the
//!   root, [`super::tls_files`]), judged by [`super::tls_cert`] with its key;
//! - `tls` `STARTTLS on 127.0.0.1:25`: the live listener ([`super::starttls`]), with `--root
//!   /` or `--starttls-target`; the chain it serves is judged too when it is not the
//!   configured one (Postfix not reloaded, another server).
//!
//! The names the certificate must be valid for: `myhostname`, and every MX host of a domain
//! whose address is this server's (asked at the authoritative servers, as the `mx` check
//! does; a failed lookup adds no name: the `mx` line reports it).

use std::net::{IpAddr, SocketAddr};

use rustls_pki_types::UnixTime;

use super::tls_cert::{Presented, Trust, WantedName};
use super::tls_files::{self, Configured, Read};
use super::{CheckInput, Checked, Finding, JobResult, Severity, ids, starttls, status, tls_cert};
use crate::dns::Authority;
use crate::dns::auth::ask;
use crate::host::system::{self, Root};

/// The ids these checks report (the `tls` lines; `local.unreadable` aside).
pub const IDS: &[&str] = &[
    ids::TLS_STARTTLS_MISSING,
    ids::TLS_HANDSHAKE_FAILED,
    ids::TLS_CERT_UNTRUSTED,
    ids::TLS_CERT_NAME_MISMATCH,
    ids::TLS_CERT_EXPIRING,
    ids::TLS_CERT_EXPIRED,
    ids::TLS_KEY_MISMATCH,
];

/// What the TLS checks are given: what was read at the edges.
#[derive(Debug)]
pub struct Given<'a> {
    /// main.cf's certificate, as [`super::tls_files::configured`] read it.
    pub configured: &'a Read,
    /// The trust anchors, or why none could be read.
    pub trust: &'a Result<Trust, String>,
    /// The names the certificate must be valid for.
    pub wanted: &'a [WantedName],
    /// The live probe's target and what it found, when it ran.
    pub live: Option<(SocketAddr, &'a starttls::Outcome)>,
    pub now: UnixTime,
}

/// The `tls` lines for `given`, under `hostname`: the configured certificate's (none when
/// main.cf names no certificate or its file does not exist: Postfix then offers no
/// STARTTLS, which the live line says), then the live listener's.
pub fn results(given: &Given<'_>, hostname: &str) -> Vec<JobResult> {
    let trust = given.trust.as_ref().ok();
    let no_trust = |subject: &str| {
        given.trust.as_ref().err().map(|why| {
            Finding::new(
                ids::LOCAL_UNREADABLE,
                Severity::Warning,
                subject,
                format!("the certificate chain could not be judged: no trust anchors: {why}"),
            )
        })
    };
    let mut out = Vec::new();
    let line = |subject: String, findings: Vec<Finding>| JobResult {
        checked: Checked {
            check: "tls",
            subject,
            status: status(&findings),
            group: hostname.to_string(),
        },
        findings,
    };
    let mut configured_leaf = None;
    match given.configured {
        Read::NotConfigured | Read::Missing { .. } => {}
        Read::Unreadable { origin, why } => {
            let f = Finding::new(
                ids::LOCAL_UNREADABLE,
                Severity::Warning,
                hostname,
                format!("the certificate of {origin} cannot be read: {why}"),
            )
            .fix(Some("run the check as root".into()));
            out.push(line(origin.clone(), vec![f]));
        }
        Read::Read(c) => {
            configured_leaf = c.chain.first().cloned();
            let mut findings = configured(c, given, trust, hostname);
            if !c.snakeoil {
                findings.extend(no_trust(hostname));
            }
            out.push(line(c.origin.clone(), findings));
        }
    }
    if let Some((addr, outcome)) = given.live {
        let target = addr.to_string();
        let mut findings = starttls::judge(outcome, &target, hostname);
        if let starttls::Outcome::Served { chain, .. } = outcome
            && chain.first() != configured_leaf.as_ref()
        {
            let origin = format!("the listener on {target}");
            let p = Presented {
                chain,
                key: None,
                origin: &origin,
            };
            findings.extend(tls_cert::judge(
                &p,
                given.wanted,
                trust,
                given.now,
                hostname,
            ));
            findings.extend(no_trust(hostname));
        }
        out.push(line(format!("STARTTLS on {target}"), findings));
    }
    out
}

/// The configured certificate's findings, with its key's.
fn configured(
    c: &Configured,
    given: &Given<'_>,
    trust: Option<&Trust>,
    hostname: &str,
) -> Vec<Finding> {
    let (key, mut findings) = match &c.key {
        Ok(Some(k)) => (Some(k), Vec::new()),
        Ok(None) => (
            None,
            vec![
                Finding::new(
                    ids::TLS_KEY_MISMATCH,
                    Severity::Error,
                    hostname,
                    format!(
                        "the key file configured for {} holds no private key",
                        c.origin
                    ),
                )
                .fix(Some(
                    "set smtpd_tls_key_file to the certificate's key (Let's Encrypt: \
                     privkey.pem), then: postfix reload"
                        .into(),
                )),
            ],
        ),
        Err(why) => (
            None,
            vec![
                Finding::new(
                    ids::LOCAL_UNREADABLE,
                    Severity::Warning,
                    hostname,
                    format!("the key configured for {} cannot be read: {why}", c.origin),
                )
                .fix(Some("run the check as root".into())),
            ],
        ),
    };
    let p = Presented {
        chain: &c.chain,
        key,
        origin: &c.origin,
    };
    // the snake-oil pair: only its dates and its key (trust and names: `tls.snakeoil`)
    let (wanted, trust) = match c.snakeoil {
        true => (&[][..], None),
        false => (given.wanted, trust),
    };
    findings.extend(tls_cert::judge(&p, wanted, trust, given.now, hostname));
    findings
}

/// How the TLS checks run: the trust anchors and the live probe's target.
#[derive(Debug, Clone)]
pub struct Options {
    /// The anchors the chains must lead to (`--tls-ca`, else the system's), or why none
    /// could be read.
    pub trust: Result<Trust, String>,
    /// The listener to probe (`127.0.0.1:25` on this host, `--starttls-target`); `None`:
    /// no live probe.
    pub probe: Option<SocketAddr>,
}

/// Read main.cf's certificate beneath `root`, ask DNS for the MX names (through `auth`, when
/// there is one), probe the listener, and judge: the `tls` lines ([`results`]).
pub async fn run(
    root: &Root,
    input: &CheckInput,
    auth: Option<&Authority>,
    options: &Options,
) -> Vec<JobResult> {
    let main_cf = system::read_file(root, system::MAIN_CF)
        .ok()
        .and_then(|f| f.text)
        .unwrap_or_default();
    let configured = tls_files::configured(root, &main_cf);
    let hostname = input.hostname.as_str();
    let (wanted, outcome) = match options.probe {
        Some(addr) => tokio::join!(
            wanted_names(auth, input),
            starttls::gather(addr, hostname, hostname)
        ),
        None => (
            wanted_names(auth, input).await,
            starttls::Outcome::NoSmtp(String::new()),
        ),
    };
    let given = Given {
        configured: &configured,
        trust: &options.trust,
        wanted: &wanted,
        live: options.probe.map(|addr| (addr, &outcome)),
        now: UnixTime::now(),
    };
    results(&given, hostname)
}

/// `myhostname`, then the MX hosts of `input`'s domains whose A or AAAA is one of this
/// server's addresses (other than the hostname), each once.
pub async fn wanted_names(auth: Option<&Authority>, input: &CheckInput) -> Vec<WantedName> {
    let hostname = input.hostname.to_string();
    let mut out = vec![WantedName {
        name: hostname.clone(),
        why: "myhostname".into(),
    }];
    let Some(auth) = auth else { return out };
    let ours: Vec<IpAddr> = input
        .ipv4
        .map(IpAddr::V4)
        .into_iter()
        .chain(input.ipv6.map(IpAddr::V6))
        .collect();
    for d in &input.domains {
        let Ok(mx) = auth
            .observe(d.domain.as_str(), ask::mx)
            .await
            .and_then(|o| o.best().cloned())
        else {
            continue;
        };
        for m in &mx.records {
            let name = m.exchange.trim_end_matches('.').to_ascii_lowercase();
            if name.is_empty() || out.iter().any(|w| w.name == name) {
                continue;
            }
            let mut here = false;
            for ask in [ask::a, ask::aaaa] {
                if let Ok(a) = auth
                    .observe(&name, ask)
                    .await
                    .and_then(|o| o.best().cloned())
                {
                    here |= a.records.iter().any(|ip| ours.contains(ip));
                }
            }
            if here {
                out.push(WantedName {
                    name,
                    why: format!("MX of {}", d.domain),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given<'a>(
        configured: &'a Read,
        trust: &'a Result<Trust, String>,
        live: Option<(SocketAddr, &'a starttls::Outcome)>,
    ) -> Given<'a> {
        Given {
            configured,
            trust,
            wanted: &[],
            live,
            now: UnixTime::now(),
        }
    }

    #[test]
    fn nothing_configured_and_no_probe_is_no_line() {
        let trust = Err("none".to_string());
        assert_eq!(results(&given(&Read::NotConfigured, &trust, None), "h"), []);
        let missing = Read::Missing {
            origin: "smtpd_tls_cert_file /x.pem".into(),
        };
        assert_eq!(results(&given(&missing, &trust, None), "h"), []);
    }

    /// A self-signed certificate for mail.example.org, as DER.
    fn self_signed() -> rustls_pki_types::CertificateDer<'static> {
        let key = rcgen::KeyPair::generate().unwrap();
        let p = rcgen::CertificateParams::new(vec!["mail.example.org".to_string()]).unwrap();
        p.self_signed(&key).unwrap().der().clone()
    }

    #[test]
    fn the_served_chain_is_judged_only_when_it_is_not_the_configured_one() {
        let configured_cert = self_signed();
        let configured = Read::Read(Configured {
            snakeoil: false,
            origin: "smtpd_tls_cert_file /etc/ssl/mail.pem".into(),
            chain: vec![configured_cert.clone()],
            key: Err("not read here".into()),
        });
        let trust = Ok(Trust {
            roots: rustls::RootCertStore::empty(),
            source: "--tls-ca ca.pem".into(),
        });
        let addr: SocketAddr = "127.0.0.1:25".parse().unwrap();
        let ids = |r: &JobResult| r.findings.iter().map(|f| f.id).collect::<Vec<_>>();
        let same = starttls::Outcome::Served {
            chain: vec![configured_cert],
            version: "TLSv1_3".into(),
        };
        let r = results(
            &given(&configured, &trust, Some((addr, &same))),
            "mail.example.org",
        );
        assert_eq!(r.len(), 2);
        assert_eq!(ids(&r[0]), [ids::LOCAL_UNREADABLE, ids::TLS_CERT_UNTRUSTED]);
        assert_eq!(
            ids(&r[1]),
            Vec::<&str>::new(),
            "said once, on the configured line"
        );
        let other = starttls::Outcome::Served {
            chain: vec![self_signed()],
            version: "TLSv1_3".into(),
        };
        let r = results(
            &given(&configured, &trust, Some((addr, &other))),
            "mail.example.org",
        );
        assert_eq!(ids(&r[1]), [ids::TLS_CERT_UNTRUSTED]);
        assert!(
            r[1].findings[0]
                .message
                .contains("the listener on 127.0.0.1:25")
        );
    }

    #[test]
    fn the_live_line_says_starttls_missing() {
        let trust = Err("none".to_string());
        let outcome = starttls::Outcome::NoStarttls {
            ehlo: vec!["PIPELINING".into(), "8BITMIME".into()],
        };
        let addr: SocketAddr = "127.0.0.1:25".parse().unwrap();
        let r = results(
            &given(&Read::NotConfigured, &trust, Some((addr, &outcome))),
            "h",
        );
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].checked.check, "tls");
        assert_eq!(r[0].checked.subject, "STARTTLS on 127.0.0.1:25");
        let got: Vec<_> = r[0].findings.iter().map(|f| f.id).collect();
        assert_eq!(got, [ids::TLS_STARTTLS_MISSING]);
        assert_eq!(
            r[0].findings[0].found.as_deref(),
            Some("PIPELINING 8BITMIME")
        );
    }
}
