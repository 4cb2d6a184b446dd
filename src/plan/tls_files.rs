//! The TLS part of the plan ([`crate::tls`]): main.cf's TLS parameters through the lossless
//! editor, on top of a main.cf change the plan already holds (one change per file), and the
//! server key's owner and mode. Always planned: opportunistic TLS is outbound mail's baseline.

use std::path::Path;

use super::build::existing;
use super::current::Current;
use super::{Owner, PermChange, Perms, Plan};
use crate::error::{Error, Result};
use crate::postfix::MainCf;
use crate::settings::Settings;
use crate::tls::{self, Source};

/// The owner and mode a server key gets when someone but root (and Debian's ssl-cert group)
/// may read it: root:ssl-cert 0640 when its group is ssl-cert now (Debian's snake-oil key,
/// which other daemons read through that group), else root:root 0600. Postfix reads the key
/// as root, before it drops privileges (TLS_README).
pub const KEY_OWNER_SSL_CERT: Owner = Owner {
    user: "root",
    group: tls::SSL_CERT_GROUP,
};

/// Adds the TLS step's main.cf change and notes to `plan`; returns the server key's owner and
/// mode change, if any, for the caller to add after the services are planned (it needs a
/// Postfix reload, not an OpenDKIM restart). Errors: the answers name a certificate or key that
/// does not exist beneath the root (nothing is pointed at a missing file), main.cf missing,
/// an edit refused.
pub(super) fn plan(
    settings: &Settings,
    cur: &Current,
    plan: &mut Plan,
) -> Result<Option<PermChange>> {
    let planned = plan.files.iter().position(|f| f.path == cur.main_cf.path);
    let text = match planned {
        Some(i) => plan.files[i].after.clone(),
        None => existing(&cur.main_cf, "postfix")?.to_string(),
    };
    let mut cf = MainCf::parse(&text);
    let answers = settings
        .tls
        .as_ref()
        .map(|(c, k)| (c.as_path(), k.as_path()));
    let choice = tls::choose(&settings.hostname, answers, &cf, &cur.tls_files);
    let cert_ok = tls::exists(&cur.tls_files, &choice.cert);
    let key_ok = tls::exists(&cur.tls_files, &choice.key);
    if choice.source == Source::Answers && !(cert_ok && key_ok) {
        let (field, missing) = if cert_ok {
            ("tls_key", &choice.key)
        } else {
            ("tls_cert", &choice.cert)
        };
        return Err(Error::Invalid {
            what: format!("answers: `{field}`"),
            reason: format!(
                "{} does not exist (beneath the root); Postfix would offer no STARTTLS with \
                 it\n  fix: correct the path, or leave tls_cert and tls_key out",
                missing.display()
            ),
        });
    }
    let exists = cert_ok && key_ok;
    let edited = tls::edit(&mut cf, &choice, exists).map_err(|e| Error::Invalid {
        what: cur.main_cf.path.display().to_string(),
        reason: e.to_string(),
    })?;
    let host = &settings.hostname;
    match (choice.source, exists) {
        (Source::SnakeOil, true) => plan.notes.push(format!(
            "Postfix presents Debian's self-signed snake-oil certificate, which other servers \
             cannot verify (fine for opportunistic TLS, not for MTA-STS or DANE): {}",
            tls::certbot_advice(host)
        )),
        (_, false) => plan.notes.push(format!(
            "there is no certificate to present ({} or {} missing): Postfix is not pointed at \
             it and offers no STARTTLS until there is one (`mailsetup check` reports \
             tls.inbound-off); {}",
            choice.cert.display(),
            choice.key.display(),
            tls::certbot_advice(host)
        )),
        (Source::LetsEncrypt, true) => plan.notes.push(format!(
            "Postfix presents Let's Encrypt's certificate for {host} ({}); make sure certbot \
             reloads Postfix after each renewal: `--deploy-hook \"postfix reload\"` (or a \
             script in /etc/letsencrypt/renewal-hooks/deploy/)",
            choice.cert.display()
        )),
        _ => {}
    }
    for (name, line) in &edited.retired {
        plan.notes.push(format!(
            "main.cf line {line} sets {name}, deprecated since Postfix 2.3: it is commented \
             out, and the security level parameter says what it said"
        ));
    }
    let after = cf.to_string();
    let why = "opportunistic TLS both ways, TLS 1.2 or newer, and the server's certificate";
    match planned {
        Some(i) => {
            plan.files[i].after = after;
            plan.files[i].why = format!("{}; {why}", plan.files[i].why);
        }
        None => plan
            .files
            .extend(super::build::change(&cur.main_cf, after, Perms::Keep, why)),
    }
    Ok(if exists {
        key_perms(cur, &choice.key)
    } else {
        None
    })
}

/// A PermChange for the server key when someone other than root (or the ssl-cert group) may
/// read it ([`tls::key_exposed`]). A link (certbot's `live/` names) is not followed: its
/// target is certbot's, 0600 root.
fn key_perms(cur: &Current, key: &Path) -> Option<PermChange> {
    let info = cur.tls_files.get(key).copied().flatten()?;
    if info.kind != crate::host::apply::fence::Kind::File {
        return None;
    }
    let ssl_cert = cur.accounts.group(tls::SSL_CERT_GROUP).map(|g| g.gid);
    let why = tls::key_exposed(info.meta, ssl_cert, cur.root_ids)?;
    let (owner, mode) = if ssl_cert.is_some() && ssl_cert == Some(info.meta.gid) {
        (KEY_OWNER_SSL_CERT, 0o640)
    } else {
        (Owner::ROOT, 0o600)
    };
    Some(PermChange {
        path: key.to_path_buf(),
        owner,
        mode,
        why: format!("the server's private key must be readable by root only: {why}"),
    })
}
