//! The OpenDKIM side of the plan: opendkim.conf (opendkim.conf(5)), the `SOCKET=` of
//! /etc/default/opendkim, and the KeyTable / SigningTable / TrustedHosts merges.

use std::path::Path;

use super::build::{change, existing};
use super::current::{Current, default_key_path};
use super::{FileChange, Owner, Perms};
use crate::error::{Error, Result};
use crate::milter;
use crate::opendkim::{DefaultFile, Ensure, KeyTable, OpendkimConf, SigningTable, TrustedHosts};
use crate::paths as system;
use crate::settings::Settings;

const OPENDKIM_BLOCK: &str = include_str!("../../templates/opendkim-block.txt");
const KEY_TABLE_HEADER: &str = include_str!("../../templates/key-table-header.txt");
const SIGNING_TABLE_HEADER: &str = include_str!("../../templates/signing-table-header.txt");
const TRUSTED_HOSTS_HEADER: &str = include_str!("../../templates/trusted-hosts-header.txt");

/// An opendkim.conf-style editor's refusal, as an error naming the file.
pub(super) fn odk_err(file: &Path) -> impl Fn(crate::opendkim::EditError) -> Error + '_ {
    move |e| Error::Invalid {
        what: file.display().to_string(),
        reason: e.to_string(),
    }
}

/// The OpenDKIM settings mailsetup manages, in the order they are written (opendkim.conf(5)).
fn opendkim_settings(settings: &Settings) -> Vec<(&'static str, String)> {
    let peers = format!("refile:{}", system::TRUSTED_HOSTS);
    vec![
        ("Syslog", "yes".into()),
        ("LogWhy", "yes".into()),
        ("Mode", "sv".into()),
        ("Canonicalization", "relaxed/simple".into()),
        ("SignatureAlgorithm", "rsa-sha256".into()),
        ("UserID", "opendkim".into()),
        // 007: the socket is srwxrwx--- so group opendkim (postfix) may connect, others not.
        ("UMask", "007".into()),
        ("Socket", milter::opendkim_socket(settings.socket)),
        ("KeyTable", system::KEY_TABLE.into()),
        ("SigningTable", format!("refile:{}", system::SIGNING_TABLE)),
        ("InternalHosts", peers.clone()),
        ("ExternalIgnoreList", peers),
        ("AutoRestart", "yes".into()),
        ("AutoRestartRate", "10/1h".into()),
    ]
}

pub(super) fn edit_opendkim_conf(settings: &Settings, cur: &Current) -> Result<Option<FileChange>> {
    let text = existing(&cur.opendkim_conf, "opendkim")?;
    let mut conf = OpendkimConf::parse(text);
    let entries = opendkim_settings(settings);
    let pairs: Vec<(&str, &str)> = entries.iter().map(|(k, v)| (*k, v.as_str())).collect();
    conf.set_all(OPENDKIM_BLOCK.trim_end(), &pairs)
        .map_err(odk_err(&cur.opendkim_conf.path))?;
    Ok(change(
        &cur.opendkim_conf,
        conf.to_string(),
        Perms::Keep,
        "sign with the KeyTable and SigningTable, on the socket Postfix uses",
    ))
}

/// /etc/default/opendkim: only its `SOCKET=`, and only where the file exists (Debian's init script
/// uses it when opendkim.conf has no `Socket`; keeping both equal avoids surprises).
pub(super) fn edit_default_file(settings: &Settings, cur: &Current) -> Result<Option<FileChange>> {
    let Some(text) = cur.default_opendkim.text.as_deref() else {
        return Ok(None);
    };
    let mut file = DefaultFile::parse(text);
    file.set_socket(&milter::opendkim_socket(settings.socket))
        .map_err(odk_err(&cur.default_opendkim.path))?;
    Ok(change(
        &cur.default_opendkim,
        file.to_string(),
        Perms::Keep,
        "name the same socket as opendkim.conf",
    ))
}

/// KeyTable, SigningTable and TrustedHosts merged; the entries of a domain in `rotating`
/// are left as they are (`mailsetup rotate` switches them).
pub(super) fn edit_tables(
    settings: &Settings,
    cur: &Current,
    rotating: &[super::RotationNeeded],
) -> Result<Vec<FileChange>> {
    let table_perms = Perms::New(Owner::ROOT, 0o644);
    let mut out = Vec::new();

    let kt_path = &cur.key_table.path;
    let mut kt = match cur.key_table.text.as_deref() {
        Some(t) => KeyTable::parse(t),
        None => KeyTable::new_with_header(KEY_TABLE_HEADER.trim_end()).map_err(odk_err(kt_path))?,
    };
    let mut st = match cur.signing_table.text.as_deref() {
        Some(t) => SigningTable::parse(t),
        None => SigningTable::new_with_header(SIGNING_TABLE_HEADER.trim_end())
            .map_err(odk_err(&cur.signing_table.path))?,
    };
    for domain in settings
        .domains
        .iter()
        .filter(|d| !rotating.iter().any(|r| &r.domain == *d))
    {
        let key_name = format!("{}._domainkey.{domain}", settings.selector);
        let key_path = cur
            .keys
            .get(domain)
            .map(|k| k.path.clone())
            .unwrap_or_else(|| default_key_path(domain, &settings.selector));
        let entry = format!("{domain}:{}:{}", settings.selector, key_path.display());
        if let Ensure::Conflict { existing } =
            kt.ensure(&key_name, &entry).map_err(odk_err(kt_path))?
        {
            return Err(conflict(
                kt_path,
                &key_name,
                existing,
                entry,
                "remove or correct that KeyTable line, or choose another selector",
            ));
        }
        let pattern = format!("*@{domain}");
        if let Ensure::Conflict { existing } = st
            .ensure(&pattern, &key_name)
            .map_err(odk_err(&cur.signing_table.path))?
        {
            return Err(conflict(
                &cur.signing_table.path,
                &pattern,
                existing,
                key_name,
                "remove or correct that SigningTable line",
            ));
        }
    }
    out.extend(change(
        &cur.key_table,
        kt.to_string(),
        table_perms,
        "the key OpenDKIM signs each domain with",
    ));
    out.extend(change(
        &cur.signing_table,
        st.to_string(),
        table_perms,
        "which senders are signed with which key",
    ));

    let mut th = match cur.trusted_hosts.text.as_deref() {
        Some(t) => TrustedHosts::parse(t),
        None => TrustedHosts::new_with_header(TRUSTED_HOSTS_HEADER.trim_end())
            .map_err(odk_err(&cur.trusted_hosts.path))?,
    };
    for host in &settings.trusted_hosts {
        th.ensure(&host.to_string())
            .map_err(odk_err(&cur.trusted_hosts.path))?;
    }
    out.extend(change(
        &cur.trusted_hosts,
        th.to_string(),
        table_perms,
        "the hosts whose mail OpenDKIM signs",
    ));
    Ok(out)
}

fn conflict(file: &Path, key: &str, existing: String, wanted: String, fix: &str) -> Error {
    Error::Conflict {
        file: file.to_path_buf(),
        key: key.into(),
        existing,
        wanted,
        fix: fix.into(),
    }
}
