//! The `keys` check line, judged from a [`LocalState`]: the KeyTable names a key (no key is
//! no signing, not health), every KeyTable key exists, the opendkim user can read it, and it
//! passes OpenDKIM's own path check ([`super::securefile::judge`]). Also which key files a
//! KeyTable names, for the reading. Pure.

use std::path::PathBuf;

use super::{LocalState, error, securefile};
use crate::check::{Finding, ids};
use crate::host::accounts::Accounts;
use crate::host::system;
use crate::opendkim::{KeyTable, OpendkimConf};
use crate::plan::{KEY_MODE, KEY_OWNER, key_layout};

/// The KeyTable names a key, and every KeyTable key exists and passes OpenDKIM's path check.
pub(super) fn findings(state: &LocalState) -> Vec<Finding> {
    let opendkim_uid = state.accounts.user("opendkim").map(|u| u.uid);
    let mut findings: Vec<Finding> = no_key(state).into_iter().collect();
    let subject = system::KEYS_DIR;
    for (path, walk) in &state.keys {
        let shown = path.display().to_string();
        match walk {
            Err(why) => findings.push(
                error(
                    ids::OPENDKIM_KEY_MISSING,
                    subject,
                    format!("the KeyTable names {shown}, which cannot be read ({why})"),
                )
                .fix(Some("the Keys step creates it".into())),
            ),
            Ok(nodes) => {
                if let (Some(uid), Some(key)) = (opendkim_uid, nodes.last())
                    && !readable_by_opendkim(key, uid, &state.accounts)
                {
                    findings.push(
                        error(
                            ids::OPENDKIM_KEY_MISSING,
                            subject,
                            format!(
                                "the opendkim user cannot read {shown} (uid {} gid {} mode \
                                 {:04o}): OpenDKIM signs nothing with it",
                                key.uid, key.gid, key.mode
                            ),
                        )
                        .fix(Some(format!(
                            "chown {KEY_OWNER} {shown} && chmod {KEY_MODE:04o} {shown} (the Keys \
                             step does this)"
                        ))),
                    );
                    continue;
                }
                if let Some(uid) = opendkim_uid
                    && let Some(why) = securefile::judge(nodes, uid, &state.accounts)
                {
                    findings.push(
                        error(
                            ids::OPENDKIM_KEY_INSECURE,
                            subject,
                            format!(
                                "OpenDKIM will refuse {shown} (\"key data is not secure\"): {why}"
                            ),
                        )
                        .fix(Some(key_layout())),
                    );
                }
            }
        }
    }
    findings
}

/// `opendkim.key-missing` when no KeyTable entry names a key (a key file or inline key
/// data): there is no KeyTable, or it has no entry. The opendkim line says nothing about the
/// KeyTable, so this is the one finding about it.
fn no_key(state: &LocalState) -> Option<Finding> {
    let names_a_key = state.key_table.as_deref().is_some_and(|text| {
        KeyTable::parse(text).entries().any(|(_, value)| {
            value
                .and_then(|v| v.splitn(3, ':').nth(2))
                .is_some_and(|key| !key.trim().is_empty())
        })
    });
    if names_a_key {
        return None;
    }
    let found = match state.key_table {
        None => format!("no {}", system::KEY_TABLE),
        Some(_) => format!("{} without an entry", system::KEY_TABLE),
    };
    let key_file = state
        .opendkim_conf
        .as_deref()
        .map(OpendkimConf::parse)
        .and_then(|c| c.get("KeyFile").map(|k| k.trim().to_string()))
        .filter(|k| !k.is_empty());
    let message = match key_file {
        None => "no KeyTable names a key: OpenDKIM has nothing to sign with".to_string(),
        Some(k) => format!(
            "no KeyTable names a key: OpenDKIM signs only with opendkim.conf's KeyFile {k}, \
             which mailsetup does not check (it signs through the KeyTable)"
        ),
    };
    Some(
        error(ids::OPENDKIM_KEY_MISSING, system::KEYS_DIR, message)
            .found(found)
            .fix(Some(
                "mailsetup's Tables and Keys steps write the KeyTable and create the keys".into(),
            )),
    )
}

/// Whether the opendkim user (uid `uid`) may read the key file (owner, group or other
/// read bit).
fn readable_by_opendkim(key: &securefile::Node, uid: u32, accounts: &Accounts) -> bool {
    let gid = accounts.user("opendkim").map(|u| u.gid);
    let member = accounts
        .groups
        .values()
        .any(|g| g.gid == key.gid && g.members.iter().any(|m| m == "opendkim"));
    if key.uid == uid {
        key.mode & 0o400 != 0
    } else if gid == Some(key.gid) || member {
        key.mode & 0o040 != 0
    } else {
        key.mode & 0o004 != 0
    }
}

/// The key file paths of a KeyTable (`name  domain:selector:/path[:algorithm]`; inline keys
/// skipped).
pub(crate) fn key_paths(table: &str) -> Vec<PathBuf> {
    KeyTable::parse(table)
        .entries()
        .filter_map(|(_, v)| v?.split(':').nth(2).map(str::trim).map(PathBuf::from))
        .filter(|p| p.is_absolute())
        .collect()
}
