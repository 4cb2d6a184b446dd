//! The `keys` check line, judged from a [`LocalState`]: every KeyTable key exists, the
//! opendkim user can read it, and it passes OpenDKIM's own path check
//! ([`super::securefile::judge`]). Also which key files a KeyTable names, for the reading.
//! Pure.

use std::path::PathBuf;

use super::{LocalState, error, securefile};
use crate::check::{Finding, ids};
use crate::host::accounts::Accounts;
use crate::host::system;
use crate::opendkim::KeyTable;

/// Every KeyTable key exists and passes OpenDKIM's path check.
pub(super) fn findings(state: &LocalState) -> Vec<Finding> {
    let opendkim_uid = state.accounts.user("opendkim").map(|u| u.uid);
    let mut findings = Vec::new();
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
                            "chown opendkim:opendkim {shown} (the Keys step does this)"
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
                        .fix(Some(
                            "the Keys step sets opendkim:opendkim 0600 and root:opendkim 0750 \
                             directories"
                                .into(),
                        )),
                    );
                }
            }
        }
    }
    findings
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

/// The key file paths of a KeyTable (`name  domain:selector:/path`; inline keys skipped).
pub(crate) fn key_paths(table: &str) -> Vec<PathBuf> {
    KeyTable::parse(table)
        .entries()
        .filter_map(|(_, v)| v?.splitn(3, ':').nth(2).map(str::trim).map(PathBuf::from))
        .filter(|p| p.is_absolute())
        .collect()
}
