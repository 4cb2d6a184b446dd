//! Before anything is written: every target of a run checked, and every name the run will
//! use chosen. [`Layout::new`] looks at each op's path through the fence (no symlink on the
//! way or at the end, one hard link, the content the plan saw), decides where each new file
//! is staged (a temporary name beside its target, or inside a new directory tree built under
//! a temporary name), and names the backups. It writes nothing; [`super::txn`] stages and
//! commits what it decided.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::PathBuf;

use zeroize::Zeroizing;

use super::fence::{Dir, Fence, Stat};
use super::op::{Expect, Op};
use super::record::{FileEntry, MetaEntry};
use crate::error::{Error, Result};
use crate::host::system::Meta;

/// A new directory's owner and mode when no op names it: 0755 root.
const PARENT: Meta = Meta {
    uid: 0,
    gid: 0,
    mode: 0o755,
};
/// A new file's owner and mode when its op leaves it open: 0644 root.
const NEW_FILE: Meta = Meta {
    uid: 0,
    gid: 0,
    mode: 0o644,
};

mod checks;
mod ops;

pub use checks::check_expect;

/// What comes into a name.
pub enum Incoming {
    /// A new file, staged under a temporary name beside the target.
    Temp {
        name: String,
        bytes: Zeroizing<Vec<u8>>,
        meta: Meta,
    },
    /// A backup beside the target, put back (rollback).
    Backup { name: String, ino: u64 },
    /// Nothing: the name is removed.
    Nothing,
}

/// One name changed in an existing directory.
pub struct Swap {
    pub dir: Dir,
    pub name: String,
    pub incoming: Incoming,
    /// The file there now.
    pub old: Option<Stat>,
    /// Where the old file is kept, and whether it stays after the run (a backup).
    pub aside: Option<(String, bool)>,
    /// The content the old file must still have at the moment it is replaced.
    pub expect: Expect,
}

/// A new directory and what goes in it.
#[derive(Default)]
pub struct Node {
    pub meta: Option<Meta>,
    pub dirs: BTreeMap<String, Node>,
    pub files: BTreeMap<String, (Zeroizing<Vec<u8>>, Meta)>,
}

/// A new directory tree, built as `staged` in `parent` and renamed to `name`.
pub struct Graft {
    pub parent: Dir,
    pub name: String,
    pub staged: String,
    pub tree: Node,
}

/// An existing directory moved aside as `aside` and removed when the run succeeds.
pub struct Prune {
    pub parent: Dir,
    pub name: String,
    pub aside: String,
    pub ino: u64,
}

/// Owner and mode of an existing file or directory.
pub struct MetaChange {
    pub path: PathBuf,
    pub dir: bool,
    pub before: Meta,
    pub after: Meta,
}

/// Everything a run will do, checked and named.
#[derive(Default)]
pub struct Layout {
    pub grafts: Vec<Graft>,
    pub swaps: Vec<Swap>,
    pub metas: Vec<MetaChange>,
    pub groups: Vec<(String, String, bool)>,
    pub prunes: Vec<Prune>,
    /// Removed when the run succeeds.
    pub discard: Vec<PathBuf>,
    /// The texts of every file written, by system path (for validation with the real tools).
    pub texts: BTreeMap<PathBuf, Zeroizing<Vec<u8>>>,
    /// For the run record.
    pub files: Vec<FileEntry>,
    pub dirs_created: Vec<PathBuf>,
    pub metas_changed: Vec<MetaEntry>,
    pub keys_created: Vec<PathBuf>,
}

impl Layout {
    /// Check every op's target and choose every name. Writes nothing.
    ///
    /// Errors: a symlink on the way or at a target, a target with several hard links or of
    /// the wrong kind, a file that no longer holds what the plan saw, a missing backup.
    pub fn new(fence: &Fence, ops: Vec<Op>, txid: &str) -> Result<Layout> {
        let mut layout = Layout::default();
        // new directories' owner and mode, by system path
        let dir_meta: BTreeMap<PathBuf, Meta> = ops
            .iter()
            .filter_map(|op| match op {
                Op::Dir { path, meta } => Some((path.clone(), *meta)),
                _ => None,
            })
            .collect();
        let mut grafts: BTreeMap<PathBuf, Graft> = BTreeMap::new();
        let mut seen = std::collections::BTreeSet::new();
        for op in ops {
            if let Some(p) = op.path()
                && !matches!(op, Op::Dir { .. } | Op::Discard { .. })
                && !seen.insert(p.clone())
            {
                return Err(Error::Invalid {
                    what: p.display().to_string(),
                    reason: "is changed twice in one run (a bug in mailsetup)".into(),
                });
            }
            match op {
                Op::Put(put) => layout.put(fence, &mut grafts, &dir_meta, txid, put)?,
                Op::Restore { path, from, expect } => {
                    layout.restore(fence, txid, path, from, expect)?
                }
                Op::Remove { path, expect } => layout.remove(fence, txid, path, expect)?,
                Op::Dir { path, meta } => {
                    layout.dir(fence, &mut grafts, &dir_meta, txid, path, meta)?
                }
                Op::RemoveDir { path } => layout.remove_dir(fence, txid, path)?,
                Op::Meta { path, meta, dir } => layout.meta(fence, path, meta, dir)?,
                Op::Group { user, group, add } => layout.groups.push((user, group, add)),
                Op::Discard { path } => layout.discard.push(path),
            }
        }
        layout.grafts = grafts.into_values().collect();
        Ok(layout)
    }

    /// Every name the run creates before its first live change (system paths).
    pub fn staged(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = self
            .swaps
            .iter()
            .filter_map(|s| match &s.incoming {
                Incoming::Temp { name, .. } => Some(s.dir.system(OsStr::new(name))),
                _ => None,
            })
            .collect();
        out.extend(
            self.grafts
                .iter()
                .map(|g| g.parent.system(OsStr::new(&g.staged))),
        );
        out
    }
}
