//! Undoing a run from its record, newest action first: files back from their hard-link backups
//! (byte-identical, owner and mode included: the backup is the old inode), created files and keys
//! removed, owner/mode restored, created directories removed when empty, the group membership
//! taken back, the services restarted. Used by `mailsetup rollback` and by a failed apply.

use std::path::PathBuf;

use super::record::{RunRecord, Status, sha256};
use super::{edit_tree_group, fsops, within};
use crate::error::{Error, Result};
use crate::services::{self, Service, ServiceAction, Verb, command};
use crate::system::Root;

/// Undo the run. With `restart_services`, the services the run touched are restarted afterwards.
/// Files changed by hand since the run are refused unless `force` is set in the record's caller
/// (see [`hand_edited`]). Returns one line per action taken.
pub fn undo(root: &Root, rec: &mut RunRecord, restart_services: bool) -> Result<Vec<String>> {
    let mut done = Vec::new();
    for f in rec.files.iter().rev() {
        if !within(root, &f.path) {
            continue;
        }
        match &f.backup {
            Some(b) if b.exists() => {
                fsops::restore(b, &f.path)?;
                done.push(format!(
                    "restored {} (moved back from {})",
                    f.path.display(),
                    b.display()
                ));
            }
            Some(_) => {} // the run stopped before this file was touched
            None => {
                if f.path.exists() && file_sha(&f.path).as_deref() == Some(f.sha256.as_str()) {
                    std::fs::remove_file(&f.path).map_err(|e| Error::io("remove", &f.path, e))?;
                    done.push(format!("removed {} (created by the run)", f.path.display()));
                }
            }
        }
    }
    for k in rec.keys_created.iter().rev() {
        if k.exists() && within(root, k) {
            std::fs::remove_file(k).map_err(|e| Error::io("remove", k, e))?;
            done.push(format!("removed {} (created by the run)", k.display()));
        }
    }
    for m in rec.metas_changed.iter().rev() {
        if m.path.is_dir() {
            fsops::set_dir_meta(&m.path, m.before.into())?;
        } else if m.path.exists() {
            fsops::set_file_meta(&m.path, m.before.into())?;
        }
        done.push(format!("restored owner and mode of {}", m.path.display()));
    }
    for d in rec.dirs_created.iter().rev() {
        if within(root, d) && std::fs::remove_dir(d).is_ok() {
            done.push(format!("removed directory {}", d.display()));
        }
    }
    if let Some((user, group)) = rec.group_added.clone() {
        if root.is_host() {
            let mut c = command("/usr/bin/gpasswd");
            c.args(["-d", &user, &group]);
            services::run(c)?;
        } else {
            edit_tree_group(root, &user, &group, false)?;
        }
        done.push(format!("removed user {user} from group {group}"));
    }
    rec.status = Status::RolledBack;
    rec.save(root)?;
    if restart_services {
        done.extend(restart(root, &rec.services)?);
    }
    Ok(done)
}

/// Restart the named services (`postfix`, `opendkim`; each once, OpenDKIM first) after
/// their files were restored. Used once after undoing every run of a session.
pub fn restart(root: &Root, names: &[String]) -> Result<Vec<String>> {
    let mut names: Vec<&str> = names.iter().map(String::as_str).collect();
    names.sort_by_key(|n| *n != "opendkim");
    names.dedup();
    let actions: Vec<ServiceAction> = names
        .iter()
        .filter_map(|s| match *s {
            "postfix" => Some(ServiceAction::new(
                Service::Postfix,
                Verb::Restart,
                "its files were restored",
            )),
            "opendkim" => Some(ServiceAction::new(
                Service::Opendkim,
                Verb::Restart,
                "its files were restored",
            )),
            _ => None,
        })
        .collect();
    services::perform(root, &actions)
}

/// Files of the run whose content is no longer what the run wrote (edited by hand since).
pub fn hand_edited(rec: &RunRecord) -> Vec<PathBuf> {
    rec.files
        .iter()
        .filter(|f| f.path.exists() && file_sha(&f.path).as_deref() != Some(f.sha256.as_str()))
        .map(|f| f.path.clone())
        .collect()
}

fn file_sha(path: &std::path::Path) -> Option<String> {
    std::fs::read(path).ok().map(|b| sha256(&b))
}
