//! The `tls` check line, judged from a [`LocalState`] (pure): main.cf's TLS configuration as
//! Postfix reads it (postconf(5), TLS_README) — outbound TLS on, STARTTLS offered with a
//! certificate that exists, no deprecated switch, no protocol older than TLS 1.2, the
//! snake-oil certificate named (info), the server key readable by root only.

use std::path::PathBuf;

use super::{LocalState, error};
use crate::check::{Finding, Severity, ids};
use crate::host::apply::fence::Kind;
use crate::host::system;
use crate::postfix::MainCf;
use crate::settings::Settings;
use crate::tls::{self, PROTOCOL_PARAMETERS};

const SUBJECT: &str = system::MAIN_CF;

/// What the checks read for TLS: the files main.cf names as the server's certificate and key
/// ([`tls::configured_files`]), looked at without following a link, and who stands for root.
#[derive(Debug, Clone, Default)]
pub struct TlsState {
    pub files: tls::Files,
    pub root_ids: Option<tls::RootIds>,
    /// Whether the certificate in the snake-oil file ([`tls::SNAKEOIL_CERT`]) is self-signed,
    /// when main.cf names it and it was read; `None` (not read) counts as the snake-oil one.
    pub snakeoil_self_signed: Option<bool>,
}

/// What the TLS step does about `id` (`check` adds the `mailsetup fix <id>` line).
fn by_step(id: &str) -> String {
    match id {
        ids::TLS_OUTBOUND_OFF => "the TLS step sets smtp_tls_security_level = may".into(),
        ids::TLS_INBOUND_OFF => "the TLS step sets smtpd_tls_security_level = may and names a \
            certificate that exists (tls_cert/tls_key, Let's Encrypt's, or Debian's snake-oil)"
            .into(),
        ids::TLS_DEPRECATED_PARAMETER => "the TLS step comments them out; the security level \
            parameters say what they said"
            .into(),
        ids::TLS_WEAK_PROTOCOL => format!("the TLS step sets each to {}", tls::PROTOCOLS),
        _ => "the TLS step sets root:root 0600 (root:ssl-cert 0640 for a key in group \
            ssl-cert, as Debian's snake-oil key)"
            .into(),
    }
}

/// The findings of the `tls` line, in report order.
pub(super) fn findings(state: &LocalState, settings: &Settings) -> Vec<Finding> {
    let Some(text) = state.main_cf.as_deref() else {
        return Vec::new();
    };
    let cf = MainCf::parse(text);
    let mut out = Vec::new();
    let outbound = cf.get("smtp_tls_security_level");
    if tls::level_off(outbound.as_deref())
        && !tls::switch_on(&cf, "smtp_use_tls")
        && !tls::switch_on(&cf, "smtp_enforce_tls")
    {
        out.push(
            error(
                ids::TLS_OUTBOUND_OFF,
                SUBJECT,
                "Postfix sends mail without TLS: smtp_tls_security_level is not may (Gmail and \
                 Yahoo require TLS from senders)"
                    .into(),
            )
            .found(format!(
                "smtp_tls_security_level = {}",
                outbound.as_deref().unwrap_or("(not set: none)")
            ))
            .expected("smtp_tls_security_level = may")
            .fix(Some(by_step(ids::TLS_OUTBOUND_OFF))),
        );
    }
    out.extend(inbound(state, &cf));
    let deprecated: Vec<String> = tls::DEPRECATED
        .iter()
        .filter_map(|(name, _)| cf.get(name).map(|v| format!("{name} = {v}")))
        .collect();
    if !deprecated.is_empty() {
        out.push(
            Finding::new(
                ids::TLS_DEPRECATED_PARAMETER,
                Severity::Warning,
                SUBJECT,
                "main.cf uses TLS switches deprecated since Postfix 2.3; the \
                 smtp_tls_security_level and smtpd_tls_security_level parameters replace them"
                    .into(),
            )
            .found(deprecated.join("\n"))
            .expected("smtp_tls_security_level = may\nsmtpd_tls_security_level = may")
            .fix(Some(by_step(ids::TLS_DEPRECATED_PARAMETER))),
        );
    }
    let weak: Vec<String> = PROTOCOL_PARAMETERS
        .iter()
        .filter_map(|name| {
            // not set: Postfix's default, >=TLSv1, which Debian 12's OpenSSL 3 narrows to
            // TLS 1.2 and newer (security level 1 and up disables TLS 1.0 and 1.1); the TLS
            // step still writes >=TLSv1.2, but only a value main.cf sets is judged
            let value = cf.get(name)?;
            let weak = tls::weak_protocols(Some(&value));
            (!weak.is_empty()).then(|| {
                let names: Vec<&str> = weak.iter().map(|p| p.name()).collect();
                format!("{name} = {value} enables {}", names.join(", "))
            })
        })
        .collect();
    if !weak.is_empty() {
        out.push(
            Finding::new(
                ids::TLS_WEAK_PROTOCOL,
                Severity::Warning,
                SUBJECT,
                "Postfix allows TLS versions older than 1.2, deprecated by RFC 8996".into(),
            )
            .found(weak.join("\n"))
            .expected(
                PROTOCOL_PARAMETERS
                    .iter()
                    .map(|n| format!("{n} = {}", tls::PROTOCOLS))
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
            .fix(Some(by_step(ids::TLS_WEAK_PROTOCOL))),
        );
    }
    let (cert, key) = tls::configured(&cf);
    if cert.as_deref() == Some(std::path::Path::new(tls::SNAKEOIL_CERT))
        && state.tls.snakeoil_self_signed != Some(false)
    {
        out.push(
            Finding::new(
                ids::TLS_SNAKEOIL,
                Severity::Info,
                tls::SNAKEOIL_CERT,
                "Postfix presents Debian's self-signed snake-oil certificate: TLS works, but \
                 no one can verify it (MTA-STS, DANE)"
                    .into(),
            )
            .fix(Some(tls::certbot_advice(&settings.hostname))),
        );
    }
    if let Some(key) = key {
        out.extend(key_permissions(state, key));
    }
    out
}

/// `tls.inbound-off`: STARTTLS is not offered (level off, no certificate, or a named
/// certificate or key that is not there).
fn inbound(state: &LocalState, cf: &MainCf) -> Option<Finding> {
    let level = cf.get("smtpd_tls_security_level");
    let on = !tls::level_off(level.as_deref())
        || tls::switch_on(cf, "smtpd_use_tls")
        || tls::switch_on(cf, "smtpd_enforce_tls");
    let (cert, key) = tls::configured(cf);
    let missing: Vec<PathBuf> = [cert.clone(), key]
        .into_iter()
        .flatten()
        .filter(|p| !tls::exists(&state.tls.files, p))
        .collect();
    let (why, found) = if !on {
        (
            "the SMTP server offers no STARTTLS: smtpd_tls_security_level is not may".to_string(),
            format!(
                "smtpd_tls_security_level = {}",
                level.as_deref().unwrap_or("(not set: none)")
            ),
        )
    } else if cert.is_none()
        && !cf
            .get("smtpd_tls_cert_file")
            .is_some_and(|v| v.contains('$'))
    {
        (
            "the SMTP server has no certificate (smtpd_tls_cert_file or smtpd_tls_chain_files), \
             so it offers no STARTTLS"
                .to_string(),
            "no smtpd_tls_cert_file".to_string(),
        )
    } else if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(|p| p.display().to_string()).collect();
        (
            format!(
                "the certificate or key main.cf names does not exist ({}): Postfix offers no \
                 STARTTLS",
                names.join(", ")
            ),
            format!("missing: {}", names.join(", ")),
        )
    } else {
        return None;
    };
    Some(
        error(ids::TLS_INBOUND_OFF, SUBJECT, why)
            .found(found)
            .expected("smtpd_tls_security_level = may, with a certificate and key that exist")
            .fix(Some(by_step(ids::TLS_INBOUND_OFF))),
    )
}

/// `tls.key-permissions` for the key main.cf names, when it is a file (a link, such as
/// certbot's `live/` names, is not followed: certbot makes its keys 0600 root).
fn key_permissions(state: &LocalState, key: PathBuf) -> Option<Finding> {
    let info = state.tls.files.get(&key).copied().flatten()?;
    if info.kind != Kind::File {
        return None;
    }
    let ssl_cert = state.accounts.group(tls::SSL_CERT_GROUP).map(|g| g.gid);
    let root = state.tls.root_ids.unwrap_or(tls::RootIds::ROOT);
    let why = tls::key_exposed(info.meta, ssl_cert, root)?;
    let shown = key.display().to_string();
    Some(
        error(
            ids::TLS_KEY_PERMISSIONS,
            &shown,
            format!("the server's private key {shown} is not for root only: {why}"),
        )
        .found(format!("mode {:04o}", info.meta.mode))
        .expected("root:root 0600, or root:ssl-cert 0640 (Debian's snake-oil key)")
        .fix(Some(by_step(ids::TLS_KEY_PERMISSIONS))),
    )
}

#[cfg(test)]
pub(super) mod tests;
