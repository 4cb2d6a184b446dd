//! The second OpenDKIM instance's side of the plan (Ed25519 dual signing, RFC 8463, answers
//! `algorithms`): its opendkim.conf (written whole from a template when absent, else edited
//! losslessly as the first one's), its own KeyTable and SigningTable (the same `*@domain`
//! patterns, the `ed25519_selector` keys), and, where systemd runs, its unit.
//!
//! Why a second instance: OpenDKIM 2.11.0~beta2 (Debian 12) signs every SigningTable match
//! with its one `SignatureAlgorithm`, so one instance cannot make an `a=rsa-sha256` and an
//! `a=ed25519-sha256` signature; two instances, each with its own algorithm, each sign the
//! message once, as Postfix hands it to one milter after the other.

use std::path::Path;

use super::build::change;
use super::current::{Current, default_key_path};
use super::opendkim_files::odk_err;
use super::{FileChange, Owner, Perms};
use crate::error::{Error, Result};
use crate::milter;
use crate::opendkim::{Ensure, KeyTable, OpendkimConf, SigningTable};
use crate::paths as system;
use crate::settings::Settings;
use crate::values::Selector;

const CONF: &str = include_str!("../../templates/opendkim-ed25519.conf");
const BLOCK: &str = include_str!("../../templates/opendkim-ed25519-block.txt");
const UNIT: &str = include_str!("../../templates/opendkim-ed25519.service");
const KEY_TABLE_HEADER: &str = include_str!("../../templates/ed25519-key-table-header.txt");
const SIGNING_TABLE_HEADER: &str = include_str!("../../templates/ed25519-signing-table-header.txt");

/// Whether a path belongs to the second instance (its restart follows a change to it).
pub(super) fn is_ours(path: &Path) -> bool {
    path == Path::new(system::ED25519_CONF)
        || path == Path::new(system::ED25519_UNIT)
        || path.starts_with(system::ED25519_DIR)
}

/// The second instance's settings (opendkim.conf(5)), in the order they are written: it
/// signs only (`Mode s`) with `ed25519-sha256`, the hosts it trusts are the first one's
/// TrustedHosts, and it listens next to the first one ([`milter::ed25519_socket`]).
fn conf_settings(settings: &Settings) -> Vec<(&'static str, String)> {
    let peers = format!("refile:{}", system::TRUSTED_HOSTS);
    vec![
        ("Syslog", "yes".into()),
        ("LogWhy", "yes".into()),
        ("Mode", "s".into()),
        ("Canonicalization", "relaxed/simple".into()),
        ("SignatureAlgorithm", "ed25519-sha256".into()),
        ("OversignHeaders", "From".into()),
        ("UserID", "opendkim".into()),
        ("UMask", "007".into()),
        ("Socket", milter::ed25519_socket(settings.socket)),
        ("PidFile", system::ED25519_PID.into()),
        ("KeyTable", system::ED25519_KEY_TABLE.into()),
        (
            "SigningTable",
            format!("refile:{}", system::ED25519_SIGNING_TABLE),
        ),
        ("InternalHosts", peers.clone()),
        ("ExternalIgnoreList", peers),
    ]
}

/// /etc/opendkim-ed25519.conf: the template and the settings when absent; the settings
/// set in place (other lines kept byte for byte) when present.
pub(super) fn edit_conf(settings: &Settings, cur: &Current) -> Result<Option<FileChange>> {
    let file = &cur.ed25519.conf;
    let mut conf = OpendkimConf::parse(file.text.as_deref().unwrap_or(CONF));
    let entries = conf_settings(settings);
    let pairs: Vec<(&str, &str)> = entries.iter().map(|(k, v)| (*k, v.as_str())).collect();
    conf.set_all(BLOCK.trim_end(), &pairs)
        .map_err(odk_err(&file.path))?;
    Ok(change(
        file,
        conf.to_string(),
        Perms::New(Owner::ROOT, 0o644),
        "the second OpenDKIM instance, which signs ed25519-sha256 (one OpenDKIM 2.11 signs \
         with one algorithm)",
    ))
}

/// The systemd unit `opendkim-ed25519`, where systemd runs: mailsetup's own file, written
/// whole.
pub(super) fn unit(cur: &Current) -> Option<FileChange> {
    if !cur.systemd {
        return None;
    }
    change(
        &cur.ed25519.unit,
        UNIT.to_string(),
        Perms::New(Owner::ROOT, 0o644),
        "starts the second OpenDKIM instance at boot",
    )
}

/// The second instance's KeyTable (`<sel>._domainkey.<domain> <domain>:<sel>:<key>`) and
/// SigningTable (`*@<domain> <sel>._domainkey.<domain>`) for every domain, merged as the
/// first instance's are. Errors: an operator's line for the same key name or pattern that
/// says otherwise ([`Error::Conflict`]).
pub(super) fn edit_tables(
    settings: &Settings,
    cur: &Current,
    ed: &Selector,
) -> Result<Vec<FileChange>> {
    let files = &cur.ed25519;
    let perms = Perms::New(Owner::ROOT, 0o644);
    let kt_path = &files.key_table.path;
    let st_path = &files.signing_table.path;
    let mut kt = KeyTable::parse_or_new(
        files.key_table.text.as_deref().unwrap_or(""),
        KEY_TABLE_HEADER.trim_end(),
    )
    .map_err(odk_err(kt_path))?;
    let mut st = SigningTable::parse_or_new(
        files.signing_table.text.as_deref().unwrap_or(""),
        SIGNING_TABLE_HEADER.trim_end(),
    )
    .map_err(odk_err(st_path))?;
    for domain in &settings.domains {
        let key_name = format!("{ed}._domainkey.{domain}");
        let key_path = cur
            .ed_keys
            .get(domain)
            .map(|k| k.path.clone())
            .unwrap_or_else(|| default_key_path(domain, ed));
        let entry = format!("{domain}:{ed}:{}", key_path.display());
        if let Ensure::Conflict { existing } =
            kt.ensure(&key_name, &entry).map_err(odk_err(kt_path))?
        {
            return Err(conflict(
                kt_path,
                &key_name,
                existing,
                entry,
                "KeyTable line",
            ));
        }
        let pattern = format!("*@{domain}");
        if let Ensure::Conflict { existing } =
            st.ensure(&pattern, &key_name).map_err(odk_err(st_path))?
        {
            return Err(conflict(
                st_path,
                &pattern,
                existing,
                key_name,
                "SigningTable line",
            ));
        }
    }
    let mut out = Vec::new();
    out.extend(change(
        &files.key_table,
        kt.to_string(),
        perms,
        "the Ed25519 key the second OpenDKIM instance signs each domain with",
    ));
    out.extend(change(
        &files.signing_table,
        st.to_string(),
        perms,
        "which senders the second OpenDKIM instance signs with which Ed25519 key",
    ));
    Ok(out)
}

fn conflict(file: &Path, key: &str, existing: String, wanted: String, what: &str) -> Error {
    Error::Conflict {
        file: file.to_path_buf(),
        key: key.into(),
        existing,
        wanted,
        fix: format!("remove or correct that {what}, or choose another ed25519_selector"),
    }
}
