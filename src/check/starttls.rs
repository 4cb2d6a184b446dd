//! The live STARTTLS probe of this server's port 25 (RFC 3207): connect, read the greeting,
//! `EHLO`, look for `STARTTLS` in the reply, send it, and make the TLS handshake (rustls,
//! ring provider). The handshake accepts any certificate and keeps the chain the server
//! sent: the chain is judged afterwards, like a configured one, by [`super::tls_cert`].
//! [`gather`] does the talking (at most [`TIMEOUT`] in all); [`judge`] is pure and says
//! `tls.starttls-missing` or `tls.handshake-failed`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::{Finding, Severity, ids};
use crate::dns::sanitize;

/// How long the whole conversation may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The default target on this host: the Postfix listener on loopback.
pub const DEFAULT_TARGET: &str = "127.0.0.1:25";

/// How the conversation went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// No connection, no greeting, or the EHLO was refused; why, as text.
    NoSmtp(String),
    /// The EHLO reply (its keywords, one per line) has no STARTTLS.
    NoStarttls { ehlo: Vec<String> },
    /// STARTTLS offered, but the command was answered with something other than 220.
    Refused(String),
    /// STARTTLS accepted, the TLS handshake failed: the TLS error.
    HandshakeFailed(String),
    /// The handshake succeeded: the chain the server sent (its certificate first) and the
    /// protocol version agreed (`TLSv1_3`).
    Served {
        chain: Vec<CertificateDer<'static>>,
        version: String,
    },
}

/// Talk to `addr`: EHLO as `helo`, STARTTLS, a handshake with SNI `sni` (when it is a DNS
/// name). Never fails: every failure is an [`Outcome`].
pub async fn gather(addr: SocketAddr, helo: &str, sni: &str) -> Outcome {
    traceln!("starttls: connecting to {addr}");
    match tokio::time::timeout(TIMEOUT, talk(addr, helo, sni)).await {
        Ok(outcome) => outcome,
        Err(_) => Outcome::NoSmtp(format!("no complete answer within {} s", TIMEOUT.as_secs())),
    }
}

async fn talk(addr: SocketAddr, helo: &str, sni: &str) -> Outcome {
    let stream = match TcpStream::connect(addr).await {
        Ok(s) => s,
        Err(e) => return Outcome::NoSmtp(format!("cannot connect to {addr}: {e}")),
    };
    let mut io = BufReader::new(stream);
    let step = async {
        let greeting = reply(&mut io).await?;
        if greeting.0 != 220 {
            return Err(format!("greeting {}", greeting.1.join(" / ")));
        }
        io.get_mut()
            .write_all(format!("EHLO {helo}\r\n").as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let ehlo = reply(&mut io).await?;
        if ehlo.0 != 250 {
            return Err(format!("EHLO answered {} {}", ehlo.0, ehlo.1.join(" / ")));
        }
        Ok(ehlo.1)
    };
    let ehlo = match step.await {
        Ok(lines) => lines,
        Err(e) => return Outcome::NoSmtp(format!("{addr}: {e}")),
    };
    let offered = ehlo
        .iter()
        .skip(1)
        .any(|l| l.split_whitespace().next() == Some("STARTTLS"));
    if !offered {
        let _ = io.get_mut().write_all(b"QUIT\r\n").await;
        return Outcome::NoStarttls {
            ehlo: ehlo.into_iter().skip(1).collect(),
        };
    }
    if let Err(e) = io.get_mut().write_all(b"STARTTLS\r\n").await {
        return Outcome::Refused(e.to_string());
    }
    match reply(&mut io).await {
        Ok((220, _)) => {}
        Ok((code, text)) => return Outcome::Refused(format!("{code} {}", text.join(" / "))),
        Err(e) => return Outcome::Refused(e),
    }
    handshake(io.into_inner(), sni).await
}

/// The TLS handshake on `stream`, keeping the chain the server sends.
async fn handshake(stream: TcpStream, sni: &str) -> Outcome {
    let provider = Arc::new(super::tls_cert::provider());
    let keep = Arc::new(Keep {
        provider: provider.clone(),
        chain: Mutex::new(Vec::new()),
    });
    let config = match rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
    {
        Ok(b) => b
            .dangerous()
            .with_custom_certificate_verifier(keep.clone())
            .with_no_client_auth(),
        Err(e) => return Outcome::HandshakeFailed(e.to_string()),
    };
    // without a DNS name, an IP address: no SNI is sent for it
    let name = ServerName::try_from(sni.to_string())
        .unwrap_or_else(|_| ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    match connector.connect(name, stream).await {
        Ok(mut tls) => {
            let version = tls
                .get_ref()
                .1
                .protocol_version()
                .map(|v| format!("{v:?}"))
                .unwrap_or_default();
            let _ = tls.write_all(b"QUIT\r\n").await;
            let _ = tls.shutdown().await;
            let chain = keep.chain.lock().map(|c| c.clone()).unwrap_or_default();
            Outcome::Served { chain, version }
        }
        Err(e) => Outcome::HandshakeFailed(e.to_string()),
    }
}

/// One SMTP reply (RFC 5321 §4.2): its code and its lines' texts. At most 100 lines.
async fn reply(io: &mut BufReader<TcpStream>) -> Result<(u16, Vec<String>), String> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        let n = io.read_line(&mut line).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
        let line = line.trim_end();
        let code = line
            .get(..3)
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or_else(|| format!("not an SMTP reply: {:?}", sanitize(line)))?;
        lines.push(sanitize(line.get(4..).unwrap_or("")));
        if line.as_bytes().get(3) != Some(&b'-') || lines.len() >= 100 {
            return Ok((code, lines));
        }
    }
}

/// A verifier that accepts every chain and keeps it: the chain is judged afterwards. The
/// handshake's signatures are still verified, with the provider's algorithms.
#[derive(Debug)]
struct Keep {
    provider: Arc<CryptoProvider>,
    chain: Mutex<Vec<CertificateDer<'static>>>,
}

impl ServerCertVerifier for Keep {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.clone().into_owned())
            .collect();
        if let Ok(mut kept) = self.chain.lock() {
            *kept = chain;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The findings about the conversation with `target` (e.g. `127.0.0.1:25`), under `subject`
/// (the hostname): none when the handshake succeeded (the chain is judged apart);
/// `tls.starttls-missing` when STARTTLS is not offered or nothing answers as SMTP;
/// `tls.handshake-failed` when STARTTLS is refused or the handshake fails.
pub fn judge(outcome: &Outcome, target: &str, subject: &str) -> Vec<Finding> {
    let enable = "give Postfix a certificate and key and offer STARTTLS: main.cf \
                  smtpd_tls_cert_file, smtpd_tls_key_file, smtpd_tls_security_level = may \
                  (not encrypt on port 25), then: postfix reload; its log (mail.log, or \
                  journalctl -u postfix) says why TLS is off";
    match outcome {
        Outcome::Served { .. } => Vec::new(),
        Outcome::NoSmtp(why) => vec![
            Finding::new(
                ids::TLS_STARTTLS_MISSING,
                Severity::Error,
                subject,
                format!("no SMTP server answered on {target}, so no STARTTLS: {why}"),
            )
            .fix(Some(
                "start Postfix (postfix start, or systemctl start postfix) and make it \
                 listen on port 25 (master.cf smtp inet)"
                    .into(),
            )),
        ],
        Outcome::NoStarttls { ehlo } => vec![
            Finding::new(
                ids::TLS_STARTTLS_MISSING,
                Severity::Error,
                subject,
                format!(
                    "the SMTP server on {target} does not offer STARTTLS: mail to this \
                     server travels in clear text, and Gmail marks it as not encrypted"
                ),
            )
            .found(ehlo.join(" "))
            .expected("STARTTLS in the EHLO reply")
            .fix(Some(enable.into())),
        ],
        Outcome::Refused(why) | Outcome::HandshakeFailed(why) => vec![
            Finding::new(
                ids::TLS_HANDSHAKE_FAILED,
                Severity::Error,
                subject,
                format!(
                    "the SMTP server on {target} offers STARTTLS but the TLS handshake \
                     fails: {why}; senders then deliver in clear text or not at all"
                ),
            )
            .found(why.clone())
            .fix(Some(format!(
                "{enable}; check that the key matches the certificate and that \
                 smtpd_tls_protocols allows TLSv1.2 and TLSv1.3"
            ))),
        ],
    }
}

#[cfg(test)]
#[path = "starttls_tests.rs"]
mod tests;
