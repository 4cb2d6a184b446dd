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
use super::op::{Expect, Op, Put};
use super::record::{RunRecord, sha256};
use super::state::{PRIVATE_DIR, PRIVATE_FILE};
use crate::error::{Error, Result};
use crate::host::system::STATE_DIR;

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

/// What the runs of a session did, put together: the oldest run's entry for each path
/// decides where it goes back to.
#[derive(Default)]
struct Session {
    /// Each file the runs wrote, with the oldest run's backup (None: created by them).
    first: BTreeMap<PathBuf, Option<PathBuf>>,
    /// What the newest run wrote into each file (SHA-256), to notice hand edits.
    written: BTreeMap<PathBuf, String>,
    /// Backups of the later runs: useless once the oldest backup is back.
    later_backups: Vec<PathBuf>,
    keys: BTreeSet<PathBuf>,
    dirs: BTreeSet<PathBuf>,
    /// Each path's owner and mode before the oldest run changed them.
    metas: BTreeMap<PathBuf, crate::host::system::Meta>,
    group: Option<(String, String)>,
    services: Vec<String>,
}

impl Session {
    /// `runs` newest first.
    fn of(runs: &[RunRecord]) -> Session {
        let mut s = Session::default();
        for run in runs.iter().rev() {
            for f in &run.files {
                if s.first.contains_key(&f.path) {
                    s.later_backups.extend(f.backup.clone());
                } else {
                    s.first.insert(f.path.clone(), f.backup.clone());
                }
                s.written.insert(f.path.clone(), f.sha256.clone());
            }
            for k in &run.keys_created {
                match k.extension().and_then(|x| x.to_str()) {
                    Some("private") => {
                        s.keys.insert(k.clone());
                    }
                    // records of older versions listed the key's .txt with the keys
                    Some("txt") => {
                        s.first.entry(k.clone()).or_insert(None);
                    }
                    _ => {}
                }
            }
            s.dirs.extend(run.dirs_created.iter().cloned());
            for m in &run.metas_changed {
                s.metas.entry(m.path.clone()).or_insert(m.before.into());
            }
            if s.group.is_none() {
                s.group.clone_from(&run.group_added);
            }
            s.services.extend(run.services.iter().cloned());
        }
        s.services.sort();
        s.services.dedup();
        s
    }

    /// What goes: the files and keys the runs created.
    fn going(&self) -> BTreeSet<PathBuf> {
        let mut going: BTreeSet<PathBuf> = self
            .first
            .iter()
            .filter(|(_, b)| b.is_none())
            .map(|(p, _)| p.clone())
            .collect();
        going.extend(self.keys.iter().cloned());
        going
    }
}

/// Compute the rollback of `runs` (newest first) with the stamp `txid`, reading the files
/// as they are now. With `force`, files edited since are restored anyway.
///
/// Errors: a link on the way, a key that cannot be read.
pub fn build(fence: &Fence, runs: &[RunRecord], txid: &str, force: bool) -> Result<Rollback> {
    let session = Session::of(runs);
    let mut rb = Rollback {
        stamps: runs.iter().rev().map(|r| r.stamp.clone()).collect(),
        services: session.services.clone(),
        ..Rollback::default()
    };
    // a created directory goes whole when it holds nothing but what goes
    let pruned = prunable(fence, &session.dirs, &session.going())?;
    let inside = |p: &Path| pruned.iter().any(|d| p.starts_with(d) && p != d);
    files(fence, &session, force, &inside, &mut rb)?;
    rb.ops.extend(
        session
            .later_backups
            .iter()
            .map(|b| Op::Discard { path: b.clone() }),
    );
    for key in &session.keys {
        retire(fence, key, txid, inside(key), &mut rb)?;
    }
    metas(fence, &session, &pruned, &inside, &mut rb)?;
    for d in pruned.iter().filter(|d| !inside(d)) {
        rb.lines.push(format!(
            "remove the directory {} (created by mailsetup)",
            d.display()
        ));
        rb.ops.push(Op::RemoveDir { path: d.clone() });
    }
    if let Some((user, group)) = session.group
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

/// Each file back from its oldest backup, or removed when the runs created it; files edited
/// since are listed in `rb.edited` (and restored anyway with `force`).
fn files(
    fence: &Fence,
    session: &Session,
    force: bool,
    inside: &dyn Fn(&Path) -> bool,
    rb: &mut Rollback,
) -> Result<()> {
    for (path, backup) in &session.first {
        let now = fence.read(path)?;
        let expect = match (&now, session.written.get(path)) {
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
    Ok(())
}

/// A key the runs created: copied (with its record file) to the retired keys, then removed
/// (unless its directory goes whole, `inside`).
pub(crate) fn retire(
    fence: &Fence,
    key: &Path,
    txid: &str,
    inside: bool,
    rb: &mut Rollback,
) -> Result<()> {
    let Some((pem, _)) = fence.read(key)? else {
        return Ok(());
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
    if let Some((record, _)) = fence.read(&key.with_extension("txt"))? {
        rb.ops.push(new_private(to.with_extension("txt"), record));
    }
    rb.ops.push(new_private(to.clone(), pem));
    if !inside {
        rb.ops.push(Op::Remove {
            path: key.to_path_buf(),
            expect: Expect::Any,
        });
    }
    rb.lines.push(format!(
        "retire the key {} to {} (kept: a later apply can bring it back)",
        key.display(),
        to.display()
    ));
    rb.retired.push(to);
    Ok(())
}

/// A new root-only file (0600) at `path`.
fn new_private(path: PathBuf, bytes: Vec<u8>) -> Op {
    Op::Put(Put {
        path,
        bytes: Zeroizing::new(bytes),
        meta: Some(PRIVATE_FILE),
        expect: Expect::Absent,
        key: false,
        backup: false,
    })
}

/// Owners and modes back as they were before the oldest run changed them.
fn metas(
    fence: &Fence,
    session: &Session,
    pruned: &BTreeSet<PathBuf>,
    inside: &dyn Fn(&Path) -> bool,
    rb: &mut Rollback,
) -> Result<()> {
    for (path, before) in &session.metas {
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
    Ok(())
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
