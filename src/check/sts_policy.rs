//! The `mta-sts-policy` check: the MTA-STS policy fetched as senders fetch it (RFC 8461 §3.3):
//! `mta-sts.<domain>` resolved through the authoritative servers the DNS checks ask, then
//! `GET /.well-known/mta-sts.txt` over HTTPS (hyper's HTTP/1.1 client over tokio-rustls,
//! rustls with the ring provider), the certificate verified for `mta-sts.<domain>` against
//! the Mozilla roots (webpki-roots) plus any `--tls-ca` roots; status 200 and no redirect
//! followed, `text/plain`, at most 64 KiB. Then the policy is judged against the answers'
//! (the mode) and the domain's MX hosts (each matched by an `mx:` pattern, §4.1).
//!
//! Not a DNS check: it connects to a web server, so the caller runs it only when the answers
//! manage MTA-STS and not with `--offline`. [`gather`] does the I/O; [`judge`] is pure.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;

use super::observe::{Seen, best_answer, seen};
use super::sts_text::{mx_matches, parse_policy};
use super::{Checked, Finding, JobResult, Severity, ids, status};
use crate::dns::auth::ask;
use crate::dns::{Authority, Mx, sanitize};
use crate::records::sts::{StsPolicy, serving_notes};

/// The largest policy read (RFC 8461 §3.3: senders may limit it to 64 KiB).
const MAX_POLICY: usize = 64 * 1024;

/// How the policy is fetched.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// The HTTPS port: 443 (RFC 8461 §3.3); another for a lab or a test.
    pub port: u16,
    /// Roots trusted besides the Mozilla set (`--tls-ca`, a PEM bundle).
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// Per connection attempt (connect, TLS, request, body).
    pub timeout: Duration,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            port: 443,
            extra_roots: Vec::new(),
            timeout: Duration::from_secs(10),
        }
    }
}

/// The certificates of a PEM bundle (`--tls-ca`). Errors: the file cannot be read, or holds
/// no certificate or a broken one (the message names neither the path nor the option: the
/// caller does).
pub fn read_roots(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>, String> {
    use rustls_pki_types::pem::PemObject;
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| e.to_string())?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    if certs.is_empty() {
        return Err("it holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into());
    }
    Ok(certs)
}

/// What a fetch returned: the `Content-Type` and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub content_type: String,
    pub body: String,
}

/// What the check found.
#[derive(Debug, Clone)]
pub(super) struct Gathered {
    /// `mta-sts.<domain>`'s A and AAAA records.
    pub a: Seen<IpAddr>,
    pub aaaa: Seen<IpAddr>,
    /// The policy, or why it could not be fetched (`None`: no address to fetch it from).
    pub fetched: Option<Result<Fetched, String>>,
    /// The domain's MX records.
    pub mx: Seen<Mx>,
}

/// Resolve `mta-sts.<domain>`, fetch the policy from its first address that answers, read
/// the domain's MX records.
pub(super) async fn gather(
    auth: &Authority,
    policy: &StsPolicy,
    options: &FetchOptions,
) -> Gathered {
    let host = format!("mta-sts.{}", policy.domain);
    let a = seen(auth, &host, ask::a).await;
    let aaaa = seen(auth, &host, ask::aaaa).await;
    let mx = seen(auth, policy.domain.as_str(), ask::mx).await;
    let addrs: Vec<IpAddr> = [&a, &aaaa]
        .iter()
        .filter_map(|s| s.best())
        .flat_map(|answer| answer.records.clone())
        .collect();
    let fetched = if addrs.is_empty() {
        None
    } else {
        Some(fetch(&host, &addrs, options).await)
    };
    Gathered {
        a,
        aaaa,
        fetched,
        mx,
    }
}

/// `GET https://<host>/.well-known/mta-sts.txt` from each of `addrs` in turn until one
/// answers. Errors: why the last one failed.
pub async fn fetch(
    host: &str,
    addrs: &[IpAddr],
    options: &FetchOptions,
) -> Result<Fetched, String> {
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config(options)?));
    let mut why = String::from("no address");
    for ip in addrs {
        let once = fetch_from(&connector, host, *ip, options.port);
        match tokio::time::timeout(options.timeout, once).await {
            Ok(Ok(fetched)) => return Ok(fetched),
            Ok(Err(e)) => why = format!("{ip} port {}: {e}", options.port),
            Err(_) => {
                why = format!(
                    "{ip} port {}: no answer within {} s",
                    options.port,
                    options.timeout.as_secs()
                )
            }
        }
    }
    Err(why)
}

/// rustls with the ring provider, the Mozilla roots and the extra ones.
fn client_config(options: &FetchOptions) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for cert in &options.extra_roots {
        roots
            .add(cert.clone())
            .map_err(|e| format!("a --tls-ca certificate is not usable as a root: {e}"))?;
    }
    // rustls 0.23.48 deprecates the ring provider for lacking post-quantum key exchange;
    // ring is the project's choice (no aws-lc-rs), and a policy fetch needs no secrecy
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

async fn fetch_from(
    connector: &tokio_rustls::TlsConnector,
    host: &str,
    ip: IpAddr,
    port: u16,
) -> Result<Fetched, String> {
    let tcp = TcpStream::connect((ip, port))
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    let name = ServerName::try_from(host.to_string()).map_err(|e| e.to_string())?;
    let tls = connector
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS failed (a certificate valid for {host} is needed): {e}"))?;
    let io = hyper_util::rt::TokioIo::new(tls);
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| format!("HTTP failed: {e}"))?;
    let conn = tokio::spawn(conn);
    let request = hyper::Request::get("/.well-known/mta-sts.txt")
        .header(hyper::header::HOST, host)
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("HTTP failed: {e}"))?;
    let code = response.status();
    if code != hyper::StatusCode::OK {
        conn.abort();
        return Err(format!(
            "the server answered HTTP {code}; senders need 200 and follow no redirect \
             (RFC 8461 §3.3)"
        ));
    }
    let content_type = response
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = Limited::new(response.into_body(), MAX_POLICY)
        .collect()
        .await
        .map_err(|e| format!("reading the policy failed (at most 64 KiB is read): {e}"))?
        .to_bytes();
    conn.abort();
    let body =
        String::from_utf8(body.to_vec()).map_err(|_| "the policy is not UTF-8 text".to_string())?;
    Ok(Fetched { content_type, body })
}

/// The findings: `mta-sts.policy-unreachable` (no address for `mta-sts.<domain>`, or the
/// fetch failed), `mta-sts.policy-syntax` (not `text/plain`, or not a policy, §3.2),
/// `mta-sts.policy-mismatch` (an MX host no `mx:` pattern matches: an error; a mode other
/// than the answers': a warning); `dns.unverifiable` when the name or the MX could not be
/// looked up.
pub(super) fn judge(g: &Gathered, policy: &StsPolicy) -> Vec<Finding> {
    let subject = policy.domain.as_str();
    let host = format!("mta-sts.{subject}");
    let serve = format!(
        "{}\nThe file:\n{}",
        serving_notes(policy),
        policy.text.trim_end()
    );
    let finding = |id, severity, msg: String| {
        Finding::new(id, severity, subject, msg)
            .expected(policy.text.trim_end())
            .fix(Some(serve.clone()))
    };
    let mut findings = Vec::new();
    let Some(fetched) = &g.fetched else {
        let a = best_answer(subject, &format!("the A record of {host}"), &g.a);
        let aaaa = best_answer(subject, &format!("the AAAA record of {host}"), &g.aaaa);
        if let (Err(mut a), Err(aaaa)) = (a, aaaa) {
            a.extend(aaaa);
            return a;
        }
        let msg = format!(
            "{host} has no A or AAAA record, so senders cannot fetch the MTA-STS policy \
             from {}",
            policy.url
        );
        return vec![finding(
            ids::MTA_STS_POLICY_UNREACHABLE,
            Severity::Error,
            msg,
        )];
    };
    let fetched = match fetched {
        Ok(f) => f,
        Err(why) => {
            let msg = format!(
                "the MTA-STS policy {} could not be fetched: {}",
                policy.url,
                sanitize(why)
            );
            return vec![finding(
                ids::MTA_STS_POLICY_UNREACHABLE,
                Severity::Error,
                msg,
            )];
        }
    };
    let media = fetched.content_type.split(';').next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("text/plain") {
        let msg = format!(
            "{} is served as {:?}, not text/plain (RFC 8461 §3.2)",
            policy.url,
            sanitize(&fetched.content_type)
        );
        findings.push(finding(ids::MTA_STS_POLICY_SYNTAX, Severity::Error, msg));
        return findings;
    }
    let served = match parse_policy(&fetched.body) {
        Ok(p) => p,
        Err(why) => {
            let msg = format!(
                "the MTA-STS policy at {} is not valid: {why} (RFC 8461 §3.2)",
                policy.url
            );
            findings.push(
                finding(ids::MTA_STS_POLICY_SYNTAX, Severity::Error, msg)
                    .found(sanitize(fetched.body.trim_end())),
            );
            return findings;
        }
    };
    if served.mode != policy.mode.as_str() {
        let msg = format!(
            "the MTA-STS policy at {} has mode: {}, the answers say mta_sts = \"{}\"",
            policy.url,
            sanitize(&served.mode),
            policy.mode.as_str()
        );
        findings.push(
            finding(ids::MTA_STS_POLICY_MISMATCH, Severity::Warning, msg)
                .found(sanitize(fetched.body.trim_end())),
        );
    }
    match best_answer(subject, &format!("the MX records of {subject}"), &g.mx) {
        Err(unverifiable) => findings.extend(unverifiable),
        Ok((answer, _)) => {
            let uncovered: Vec<&str> = answer
                .records
                .iter()
                .map(|mx| mx.exchange.as_str())
                .filter(|host| *host != "." && !served.mx.iter().any(|p| mx_matches(p, host)))
                .collect();
            if !uncovered.is_empty() && served.mode != "none" {
                let msg = format!(
                    "no mx: line of the MTA-STS policy at {} matches the MX host(s) {} of \
                     {subject}: in mode enforce senders refuse to deliver there (RFC 8461 §4.1)",
                    policy.url,
                    uncovered.join(", ")
                );
                findings.push(
                    finding(ids::MTA_STS_POLICY_MISMATCH, Severity::Error, msg)
                        .found(sanitize(fetched.body.trim_end())),
                );
            }
        }
    }
    findings
}

/// The check of each policy, concurrently: one `mta-sts-policy` line per domain.
pub async fn run(
    auth: &Authority,
    policies: &[StsPolicy],
    options: &FetchOptions,
) -> Vec<JobResult> {
    let runs = policies.iter().map(|p| async move {
        let findings = judge(&gather(auth, p, options).await, p);
        JobResult {
            checked: Checked {
                check: "mta-sts-policy",
                subject: p.domain.to_string(),
                status: status(&findings),
                group: p.domain.to_string(),
            },
            findings,
        }
    });
    crate::dns::join_all(runs.collect()).await
}

#[cfg(test)]
#[path = "sts_policy_tests.rs"]
mod tests;
