//! Rollback as a transaction of its own: the runs of a session (newest first) turned into
//! the [`Op`]s that bring every path back to where it was before the session's first run.
//! A file the session changed gets its oldest backup back (the original inode: bytes, owner,
//! mode, extended attributes); the later backups go. A file it created is removed. A private
//! key it created is never deleted: it is copied to `/var/lib/mailsetup/retired-keys/<stamp>/`
//! (0700 root) first, with its record file, so that a later apply can bring it back and a
//! published record stays valid. A directory it created goes when it holds nothing else (a
//! socket aside); owners and modes it changed are set back; the group it added is taken back.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::fence::{Fence, Kind};
use super::op::{Expect, Op};
use super::record::{RunRecord, sha256};
use super::state::{PRIVATE_DIR, PRIVATE_FILE};
use crate::error::{Error, Result};
use crate::system::STATE_DIR;

/// The rollback of some runs, before it is carried out.
#[derive(Debug, Default)]
pub struct Rollback {
    pub ops: Vec<Op>,
    /// Files edited since the runs wrote them (their edits would be lost).
    pub edited: Vec<PathBuf>,
    /// One line per thing the rollback does, for the operator.
    pub lines: Vec<String>,
    /// Where the keys go.
    pub retired: Vec<PathBuf>,
    /// Services the runs touched (restarted after the rollback).
    pub services: Vec<String>,
    /// The runs, oldest first.
    pub stamps: Vec<String>,
}

/// Where a rollback with this stamp puts a retired key.
pub fn retired_path(stamp: &str, key: &Path) -> PathBuf {
    let domain = key
        .parent()
        .and_then(Path::file_name)
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_else(|| "key".into());
    let file = key
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| "key.private".into());
    Path::new(STATE_DIR)
        .join("retired-keys")
        .join(stamp)
        .join(domain)
        .join(file)
}

/// Compute the rollback of `runs` (newest first) with the stamp `txid`, reading the files
/// as they are now. With `force`, files edited since are restored anyway.
///
/// Errors: a link on the way, a key that cannot be read.
pub fn build(fence: &Fence, runs: &[RunRecord], txid: &str, force: bool) -> Result<Rollback> {
    let mut rb = Rollback {
        stamps: runs.iter().rev().map(|r| r.stamp.clone()).collect(),
        ..Rollback::default()
    };
    // the oldest run's entry for each path decides where it goes back to
    let mut first: BTreeMap<PathBuf, Option<PathBuf>> = BTreeMap::new();
    let mut written: BTreeMap<PathBuf, String> = BTreeMap::new();
    let mut later_backups = Vec::new();
    let mut keys: BTreeSet<PathBuf> = BTreeSet::new();
    let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
    let mut metas: BTreeMap<PathBuf, crate::system::Meta> = BTreeMap::new();
    let mut group = None;
    for run in runs.iter().rev() {
        for f in &run.files {
            if first.contains_key(&f.path) {
                later_backups.extend(f.backup.clone());
            } else {
                first.insert(f.path.clone(), f.backup.clone());
            }
            written.insert(f.path.clone(), f.sha256.clone());
        }
        keys.extend(
            run.keys_created
                .iter()
                .filter(|k| k.extension().is_some_and(|x| x == "private"))
                .cloned(),
        );
        // records of older versions listed the key's .txt with the keys
        for k in run
            .keys_created
            .iter()
            .filter(|k| k.extension().is_some_and(|x| x == "txt"))
        {
            first.entry(k.clone()).or_insert(None);
        }
        dirs.extend(run.dirs_created.iter().cloned());
        for m in &run.metas_changed {
            metas.entry(m.path.clone()).or_insert(m.before.into());
        }
        if group.is_none() {
            group.clone_from(&run.group_added);
        }
        rb.services.extend(run.services.iter().cloned());
    }
    rb.services.sort();
    rb.services.dedup();

    // what goes: created files and keys; a created directory goes when that is all it holds
    let mut going: BTreeSet<PathBuf> = first
        .iter()
        .filter(|(_, b)| b.is_none())
        .map(|(p, _)| p.clone())
        .collect();
    going.extend(keys.iter().cloned());
    let pruned = prunable(fence, &dirs, &going)?;
    let inside = |p: &Path| pruned.iter().any(|d| p.starts_with(d) && p != d);

    for (path, backup) in &first {
        let now = fence.read(path)?;
        let expect = match (&now, written.get(path)) {
            (Some((bytes, _)), Some(sha)) if &sha256(bytes) != sha => {
                rb.edited.push(path.clone());
                if force {
                    Expect::Any
                } else {
                    Expect::Sha256(sha.clone())
                }
            }
            (Some((bytes, _)), _) => Expect::Sha256(sha256(bytes)),
            (None, _) => Expect::Absent,
        };
        match backup {
            Some(b) => {
                rb.lines
                    .push(format!("restore {} (from {})", path.display(), b.display()));
                rb.ops.push(Op::Restore {
                    path: path.clone(),
                    from: b.clone(),
                    expect,
                });
            }
            None if now.is_none() || inside(path) => {}
            None => {
                rb.lines
                    .push(format!("remove {} (created by mailsetup)", path.display()));
                rb.ops.push(Op::Remove {
                    path: path.clone(),
                    expect,
                });
            }
        }
    }
    for b in later_backups {
        rb.ops.push(Op::Discard { path: b });
    }
    for key in &keys {
        let Some((pem, _)) = fence.read(key)? else {
            continue;
        };
        let to = retired_path(txid, key);
        for d in to.ancestors().skip(1).take(3) {
            if !rb
                .ops
                .iter()
                .any(|o| matches!(o, Op::Dir { path, .. } if path == d))
            {
                rb.ops.push(Op::Dir {
                    path: d.to_path_buf(),
                    meta: PRIVATE_DIR,
                });
            }
        }
        let txt = key.with_extension("txt");
        if let Some((record, _)) = fence.read(&txt)? {
            rb.ops.push(Op::Put {
                path: to.with_extension("txt"),
                bytes: Zeroizing::new(record),
                meta: Some(PRIVATE_FILE),
                expect: Expect::Absent,
                key: false,
                backup: false,
            });
        }
        rb.ops.push(Op::Put {
            path: to.clone(),
            bytes: Zeroizing::new(pem),
            meta: Some(PRIVATE_FILE),
            expect: Expect::Absent,
            key: false,
            backup: false,
        });
        if !inside(key) {
            rb.ops.push(Op::Remove {
                path: key.clone(),
                expect: Expect::Any,
            });
        }
        rb.lines.push(format!(
            "retire the key {} to {} (kept: a later apply can bring it back)",
            key.display(),
            to.display()
        ));
        rb.retired.push(to);
    }
    for (path, before) in &metas {
        if inside(path) || pruned.contains(path) {
            continue;
        }
        let Some(st) = fence.stat(path)? else {
            continue;
        };
        rb.lines.push(format!(
            "set owner and mode of {} back to {}:{} {:04o}",
            path.display(),
            before.uid,
            before.gid,
            before.mode
        ));
        rb.ops.push(Op::Meta {
            path: path.clone(),
            meta: *before,
            dir: st.kind == Kind::Dir,
        });
    }
    for d in pruned.iter().filter(|d| !inside(d)) {
        rb.lines.push(format!(
            "remove the directory {} (created by mailsetup)",
            d.display()
        ));
        rb.ops.push(Op::RemoveDir { path: d.clone() });
    }
    if let Some((user, group)) = group
        && fence.root().is_host()
    {
        rb.lines
            .push(format!("remove user {user} from group {group}"));
        rb.ops.push(Op::Group {
            user,
            group,
            add: false,
        });
    }
    Ok(rb)
}

/// The created directories that hold nothing but what goes (and sockets, which a daemon
/// made and which mean nothing once the directory is gone), and directories that are
/// prunable themselves.
fn prunable(
    fence: &Fence,
    dirs: &BTreeSet<PathBuf>,
    going: &BTreeSet<PathBuf>,
) -> Result<BTreeSet<PathBuf>> {
    let mut out = BTreeSet::new();
    // deepest first, so a parent can count its prunable children
    let mut order: Vec<&PathBuf> = dirs.iter().collect();
    order.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    for d in order {
        let Some(dir) = fence.dir(d)? else { continue };
        let mut only_ours = true;
        for (name, st) in dir.entries()? {
            let p = d.join(&name);
            let ours = match st.kind {
                Kind::Socket => true,
                Kind::Dir => out.contains(&p),
                _ => going.contains(&p),
            };
            only_ours &= ours;
        }
        if only_ours {
            out.insert(d.clone());
        }
    }
    Ok(out)
}

/// The error for files edited since the runs wrote them, without `--force`.
pub fn edited_error(edited: &[PathBuf], what: &str) -> Error {
    let list: Vec<String> = edited
        .iter()
        .map(|p| format!("  {}", p.display()))
        .collect();
    Error::Refused(format!(
        "these files were edited after {what}:\n{}\n  fix: rollback --force restores them anyway (the edits are lost)",
        list.join("\n")
    ))
}
