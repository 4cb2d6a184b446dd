//! The judgement of a server certificate, purely: given the chain (DER, the server's
//! certificate first), the private key when it is known (the configured one), the names the
//! certificate must be valid for, the trust anchors and the time, [`judge`] says what is
//! wrong: `tls.cert-expired`, `tls.cert-expiring`, `tls.cert-untrusted`,
//! `tls.cert-name-mismatch`, `tls.key-mismatch`. No I/O: the caller reads the files or
//! serves the chain from a live handshake ([`super::starttls`]).
//!
//! Chain and name are verified by rustls-webpki (through rustls, ring provider): the chain to
//! a trust anchor (RFC 5280 §6 path validation, as webpki does it), the names as RFC 6125
//! §6.4 (subjectAltName dNSName, wildcards in the leftmost label). Dates and names for the
//! messages come from x509-parser. The chain is verified at a time inside the server
//! certificate's validity, so that an expired certificate is reported as expired, not also
//! as untrusted.

use std::time::Duration;

use rustls::RootCertStore;
use rustls::client::{verify_server_cert_signed_by_trust_anchor, verify_server_name};
use rustls::server::ParsedCertificate;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use super::{Finding, Severity, ids};

/// A certificate expiring within this many days is `tls.cert-expiring` (Let's Encrypt's
/// certificates last 90 days and certbot renews them 30 days before the end: a certificate
/// this close to its end was not renewed).
pub const EXPIRY_WARNING_DAYS: u64 = 21;

/// The trust anchors the chain must lead to, and where they came from (for the messages).
#[derive(Debug, Clone)]
pub struct Trust {
    pub roots: RootCertStore,
    /// E.g. `the system store (/etc/ssl/certs/ca-certificates.crt)` or `--tls-ca ca.pem`.
    pub source: String,
}

/// A certificate chain to judge.
#[derive(Debug)]
pub struct Presented<'a> {
    /// The server's certificate first, then the intermediates, as served or as in the file.
    pub chain: &'a [CertificateDer<'static>],
    /// The configured private key; `None` for a live handshake (the key is the server's).
    pub key: Option<&'a PrivateKeyDer<'static>>,
    /// Where the chain comes from, for the messages: `smtpd_tls_cert_file /etc/…` or
    /// `the listener on 127.0.0.1:25`.
    pub origin: &'a str,
}

/// A name the certificate must be valid for, and why (`myhostname`, `MX of example.org`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WantedName {
    pub name: String,
    pub why: String,
}

/// The findings about `cert` for the names `wanted` at time `now`, under `subject` (the
/// hostname): none when the chain verifies to `trust`, is valid now and for more than
/// [`EXPIRY_WARNING_DAYS`], covers every wanted name and matches its key. An empty chain or
/// one whose first certificate does not parse is `tls.cert-untrusted`. Without `trust` (no
/// trust anchors could be read) the chain is not judged, the rest is.
pub fn judge(
    cert: &Presented<'_>,
    wanted: &[WantedName],
    trust: Option<&Trust>,
    now: UnixTime,
    subject: &str,
) -> Vec<Finding> {
    let origin = cert.origin;
    let Some(leaf_der) = cert.chain.first() else {
        return vec![untrusted(
            subject,
            format!("{origin} holds no certificate"),
            None,
        )];
    };
    let leaf = match X509Certificate::from_der(leaf_der) {
        Ok((_, leaf)) => leaf,
        Err(e) => {
            let msg = format!("the certificate of {origin} cannot be parsed: {e}");
            return vec![untrusted(subject, msg, None)];
        }
    };
    let mut findings = dates(&leaf, origin, now, subject);
    if let Some(trust) = trust {
        findings.extend(chain(cert, &leaf, trust, now, subject));
    }
    findings.extend(names(leaf_der, &leaf, wanted, origin, subject));
    findings.extend(key(cert, &leaf, subject));
    findings
}

/// `tls.cert-expired` (not valid now) or `tls.cert-expiring` (within the warning days).
fn dates(leaf: &X509Certificate<'_>, origin: &str, now: UnixTime, subject: &str) -> Vec<Finding> {
    let now_s = now.as_secs() as i64;
    let validity = leaf.validity();
    let (from, until) = (validity.not_before, validity.not_after);
    let renew = renew_fix(subject);
    if now_s < from.timestamp() {
        let msg = format!(
            "the certificate of {origin} is not valid yet: valid from {} (the clock of this \
             machine or of the issuer is wrong)",
            day(&from)
        );
        return vec![
            Finding::new(ids::TLS_CERT_EXPIRED, Severity::Error, subject, msg)
                .found(format!("notBefore {}", day(&from)))
                .fix(Some(renew)),
        ];
    }
    if now_s > until.timestamp() {
        let msg = format!(
            "the certificate of {origin} expired on {}: receivers that check certificates \
             (MTA-STS, DANE) refuse to deliver",
            day(&until)
        );
        return vec![
            Finding::new(ids::TLS_CERT_EXPIRED, Severity::Error, subject, msg)
                .found(format!("notAfter {}", day(&until)))
                .fix(Some(renew)),
        ];
    }
    let left = Duration::from_secs((until.timestamp() - now_s) as u64);
    if left < Duration::from_secs(EXPIRY_WARNING_DAYS * 86_400) {
        let days = left.as_secs() / 86_400;
        let msg = format!(
            "the certificate of {origin} expires on {} (in {days} day(s)); it was not renewed \
             in time",
            day(&until)
        );
        return vec![
            Finding::new(ids::TLS_CERT_EXPIRING, Severity::Warning, subject, msg)
                .found(format!("notAfter {}", day(&until)))
                .fix(Some(format!(
                    "{renew}; make sure the renewal runs (systemctl list-timers certbot, or \
                     certbot renew --dry-run)"
                ))),
        ];
    }
    Vec::new()
}

/// `tls.cert-untrusted`: the chain does not lead to a trust anchor. Verified at `now`, or
/// inside the leaf's validity when `now` is outside it (that is [`dates`]'s finding).
fn chain(
    cert: &Presented<'_>,
    leaf: &X509Certificate<'_>,
    trust: &Trust,
    now: UnixTime,
    subject: &str,
) -> Option<Finding> {
    let origin = cert.origin;
    let validity = leaf.validity();
    let (from, until) = (
        validity.not_before.timestamp(),
        validity.not_after.timestamp(),
    );
    let at = (now.as_secs() as i64).clamp(from, until.max(from));
    let at = UnixTime::since_unix_epoch(Duration::from_secs(at.max(0) as u64));
    let parsed = match ParsedCertificate::try_from(&cert.chain[0]) {
        Ok(p) => p,
        Err(e) => return Some(untrusted(subject, format!("{origin}: {e}"), None)),
    };
    let algs = provider().signature_verification_algorithms.all;
    let err = verify_server_cert_signed_by_trust_anchor(
        &parsed,
        &trust.roots,
        &cert.chain[1..],
        at,
        algs,
    )
    .err()?;
    let self_signed = leaf.subject().as_raw() == leaf.issuer().as_raw() && cert.chain.len() == 1;
    let (msg, fix) = if self_signed {
        (
            format!(
                "the certificate of {origin} is self-signed (issued by itself: {}), like \
                 Debian's snake-oil certificate: no receiver can verify it",
                leaf.subject()
            ),
            Some(renew_fix(subject)),
        )
    } else if cert.chain.len() == 1 {
        (
            format!(
                "the certificate of {origin} does not verify against {}: {err}; the file \
                 holds the server's certificate alone, without the intermediate \
                 certificates that lead to a trusted root",
                trust.source
            ),
            Some(
                "point smtpd_tls_cert_file at the full chain (Let's Encrypt: \
                 /etc/letsencrypt/live/<hostname>/fullchain.pem, not cert.pem), then: \
                 postfix reload"
                    .to_string(),
            ),
        )
    } else {
        (
            format!(
                "the certificate chain of {origin} (issued by {}) does not verify against \
                 {}: {err}",
                leaf.issuer(),
                trust.source
            ),
            Some(format!(
                "use a certificate from a public CA for the hostname ({}), with its full \
                 chain in smtpd_tls_cert_file (Let's Encrypt: fullchain.pem)",
                renew_fix(subject)
            )),
        )
    };
    Some(untrusted(subject, msg, fix).found(format!("issuer {}", leaf.issuer())))
}

fn untrusted(subject: &str, message: String, fix: Option<String>) -> Finding {
    Finding::new(ids::TLS_CERT_UNTRUSTED, Severity::Error, subject, message).fix(fix)
}

/// `tls.cert-name-mismatch`: the names in `wanted` the certificate is not valid for.
fn names(
    leaf_der: &CertificateDer<'static>,
    leaf: &X509Certificate<'_>,
    wanted: &[WantedName],
    origin: &str,
    subject: &str,
) -> Option<Finding> {
    let parsed = ParsedCertificate::try_from(leaf_der).ok()?;
    let missing: Vec<&WantedName> = wanted
        .iter()
        .filter(|w| match ServerName::try_from(w.name.as_str()) {
            Ok(sn) => verify_server_name(&parsed, &sn).is_err(),
            Err(_) => true,
        })
        .collect();
    if missing.is_empty() {
        return None;
    }
    let list = |ws: &[&WantedName]| {
        ws.iter()
            .map(|w| format!("{} ({})", w.name, w.why))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let has = cert_names(leaf);
    let msg = format!(
        "the certificate of {origin} is not valid for {}; it names {}",
        list(&missing),
        if has.is_empty() {
            "no DNS name".to_string()
        } else {
            has.join(", ")
        }
    );
    let all: Vec<&str> = wanted.iter().map(|w| w.name.as_str()).collect();
    let fix = format!(
        "get a certificate for every name: certbot certonly --cert-name {subject} --expand {} \
         (standalone, or --webroot -w DIR), then point smtpd_tls_cert_file at its \
         fullchain.pem and: postfix reload",
        all.iter()
            .map(|n| format!("-d {n}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    Some(
        Finding::new(ids::TLS_CERT_NAME_MISMATCH, Severity::Error, subject, msg)
            .found(has.join(" "))
            .expected(all.join(" "))
            .fix(Some(fix)),
    )
}

/// The DNS names of the certificate: its subjectAltName dNSNames, else its subject CNs.
fn cert_names(leaf: &X509Certificate<'_>) -> Vec<String> {
    let san: Vec<String> = leaf
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|ext| {
            ext.value
                .general_names
                .iter()
                .filter_map(|g| match g {
                    GeneralName::DNSName(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    if !san.is_empty() {
        return san;
    }
    leaf.subject()
        .iter_common_name()
        .filter_map(|cn| cn.as_str().ok().map(|s| format!("CN={s}")))
        .collect()
}

/// `tls.key-mismatch`: the configured key is not the certificate's (or is no key).
fn key(cert: &Presented<'_>, leaf: &X509Certificate<'_>, subject: &str) -> Option<Finding> {
    let key = cert.key?;
    let origin = cert.origin;
    let provider = provider();
    let public = provider
        .key_provider
        .load_private_key(key.clone_key())
        .map_err(|e| e.to_string())
        .and_then(|k| {
            k.public_key()
                .map(|spki| spki.as_ref().to_vec())
                .ok_or_else(|| "its public key cannot be derived".to_string())
        });
    let fix = Some(
        "set smtpd_tls_key_file to the key the certificate was issued for (Let's Encrypt: \
         privkey.pem beside fullchain.pem in /etc/letsencrypt/live/<hostname>/), then: \
         postfix reload"
            .to_string(),
    );
    let msg = match public {
        Ok(spki) if spki == leaf.public_key().raw => return None,
        Ok(_) => format!(
            "the private key configured for {origin} does not belong to its certificate: \
             Postfix cannot use the pair and offers no STARTTLS"
        ),
        Err(e) => format!("the private key configured for {origin} cannot be used: {e}"),
    };
    Some(Finding::new(ids::TLS_KEY_MISMATCH, Severity::Error, subject, msg).fix(fix))
}

/// The crypto provider of every TLS operation here: rustls's ring provider (the project's
/// choice, shared by every TLS user in the crate). rustls 0.23.48 deprecates its constructor
/// for lacking post-quantum key exchange, which neither verifying a chain nor probing a
/// listener needs.
#[allow(deprecated)]
pub fn provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// What to do about an expired, expiring or self-signed certificate.
fn renew_fix(hostname: &str) -> String {
    format!(
        "get a certificate from Let's Encrypt: certbot certonly --standalone -d {hostname} \
         (port 80 free) or --webroot -w DIR -d {hostname}, with --deploy-hook \"postfix \
         reload\"; then smtpd_tls_cert_file = /etc/letsencrypt/live/{hostname}/fullchain.pem, \
         smtpd_tls_key_file = /etc/letsencrypt/live/{hostname}/privkey.pem, and: postfix \
         reload (an existing one: certbot renew)"
    )
}

/// `2026-12-27 12:00 UTC`.
fn day(t: &x509_parser::time::ASN1Time) -> String {
    let d = t.to_datetime();
    format!(
        "{} {:02}:{:02} UTC",
        d.date(),
        d.time().hour(),
        d.time().minute()
    )
}

#[cfg(test)]
#[path = "tls_cert_tests.rs"]
mod tests;
