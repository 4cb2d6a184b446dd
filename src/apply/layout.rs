//! Before anything is written: every target of a run checked, and every name the run will
//! use chosen. [`Layout::new`] looks at each op's path through the fence (no symlink on the
//! way or at the end, one hard link, the content the plan saw), decides where each new file
//! is staged (a temporary name beside its target, or inside a new directory tree built under
//! a temporary name), and names the backups. It writes nothing; [`super::txn`] stages and
//! commits what it decided.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::fence::{Dir, Fence, Kind, Stat};
use super::op::{Expect, Op};
use super::record::{FileEntry, MetaEntry, sha256};
use crate::error::{Error, Result};
use crate::system::Meta;

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

/// An [`Op::Put`], unpacked.
struct Put {
    path: PathBuf,
    bytes: Zeroizing<Vec<u8>>,
    meta: Option<Meta>,
    expect: Expect,
    key: bool,
    backup: bool,
}

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

fn name_of(path: &Path) -> Result<String> {
    path.file_name()
        .and_then(OsStr::to_str)
        .map(str::to_string)
        .ok_or_else(|| Error::Invalid {
            what: path.display().to_string(),
            reason: "has no file name mailsetup can handle (UTF-8)".into(),
        })
}

/// `base`, or `base-2`, `base-3`, … : the first name not present in `dir`.
fn free_name(dir: &Dir, base: &str) -> Result<String> {
    let mut candidate = base.to_string();
    let mut n = 1;
    while dir.stat(OsStr::new(&candidate))?.is_some() {
        n += 1;
        candidate = format!("{base}-{n}");
    }
    Ok(candidate)
}

/// The file at `name` in `dir`, checked: a regular file with one link, not a symlink.
fn existing_file(dir: &Dir, name: &str) -> Result<Option<Stat>> {
    let st = dir.stat(OsStr::new(name))?;
    match st {
        None => Ok(None),
        Some(s) if s.kind == Kind::Symlink => Err(Error::Symlink {
            path: dir.real(OsStr::new(name)),
        }),
        Some(s) if s.kind != Kind::File => Err(Error::Invalid {
            what: dir.real(OsStr::new(name)).display().to_string(),
            reason: "is not a regular file".into(),
        }),
        Some(s) if s.nlink > 1 => Err(Error::HardLinked {
            path: dir.real(OsStr::new(name)),
            links: s.nlink,
        }),
        Some(s) => Ok(Some(s)),
    }
}

/// Does the file hold what the plan saw? Errors: [`Error::ChangedSincePlan`] when not.
pub fn check_expect(dir: &Dir, name: &str, st: Option<Stat>, expect: &Expect) -> Result<()> {
    let changed = || Error::ChangedSincePlan {
        path: dir.real(OsStr::new(name)),
    };
    match (expect, st) {
        (Expect::Any, _) | (Expect::Absent, None) => Ok(()),
        (Expect::Absent, Some(_)) | (Expect::Sha256(_), None) => Err(changed()),
        (Expect::Sha256(want), Some(_)) => {
            let (bytes, _) = dir.read(OsStr::new(name))?.ok_or_else(changed)?;
            if &sha256(&bytes) == want {
                Ok(())
            } else {
                Err(changed())
            }
        }
    }
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
                Op::Put {
                    path,
                    bytes,
                    meta,
                    expect,
                    key,
                    backup,
                } => {
                    let put = Put {
                        path,
                        bytes,
                        meta,
                        expect,
                        key,
                        backup,
                    };
                    layout.put(fence, &mut grafts, &dir_meta, txid, put)?
                }
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

    fn put(
        &mut self,
        fence: &Fence,
        grafts: &mut BTreeMap<PathBuf, Graft>,
        dir_meta: &BTreeMap<PathBuf, Meta>,
        txid: &str,
        put: Put,
    ) -> Result<()> {
        let Put {
            path,
            bytes,
            meta,
            expect,
            key,
            backup,
        } = put;
        let name = name_of(&path)?;
        let parent = path.parent().unwrap_or(Path::new("/")).to_path_buf();
        if !key {
            self.texts.insert(path.clone(), bytes.clone());
        }
        let sha = sha256(&bytes);
        if let Some(node) = self.node_for(fence, grafts, dir_meta, txid, &parent)? {
            // a new file in a new directory: written at its final name inside the tree
            if !matches!(expect, Expect::Absent | Expect::Any) {
                return Err(Error::ChangedSincePlan {
                    path: fence.real(&path),
                });
            }
            node.files.insert(name, (bytes, meta.unwrap_or(NEW_FILE)));
            self.record_put(path, None, sha, key);
            return Ok(());
        }
        let dir = fence.dir(&parent)?.ok_or_else(|| Error::ChangedSincePlan {
            path: fence.real(&parent),
        })?;
        let old = existing_file(&dir, &name)?;
        check_expect(&dir, &name, old, &expect)?;
        let meta = meta.or(old.map(|o| o.meta)).unwrap_or(NEW_FILE);
        let temp = free_name(&dir, &format!(".{name}.mailsetup-{txid}"))?;
        let aside = match old {
            Some(_) if backup => {
                Some((free_name(&dir, &format!("{name}.mailsetup-{txid}"))?, true))
            }
            Some(_) => {
                let a = free_name(&dir, &format!(".{name}.mailsetup-{txid}-old"))?;
                self.discard.push(parent.join(&a));
                Some((a, false))
            }
            None => None,
        };
        let kept = aside
            .as_ref()
            .filter(|(_, keep)| *keep)
            .map(|(a, _)| parent.join(a));
        self.record_put(path, kept, sha, key);
        self.swaps.push(Swap {
            dir,
            name,
            incoming: Incoming::Temp {
                name: temp,
                bytes,
                meta,
            },
            old,
            aside,
            expect,
        });
        Ok(())
    }

    fn record_put(&mut self, path: PathBuf, backup: Option<PathBuf>, sha256: String, key: bool) {
        if key {
            self.keys_created.push(path);
        } else {
            self.files.push(FileEntry {
                path,
                backup,
                sha256,
            });
        }
    }

    /// The node of the new directory `dir` inside a graft, creating the graft (at the
    /// outermost missing directory) and the nodes on the way; None when `dir` exists.
    fn node_for<'g>(
        &mut self,
        fence: &Fence,
        grafts: &'g mut BTreeMap<PathBuf, Graft>,
        dir_meta: &BTreeMap<PathBuf, Meta>,
        txid: &str,
        dir: &Path,
    ) -> Result<Option<&'g mut Node>> {
        let (at, missing) = fence.find(dir)?;
        let Some((first, rest)) = missing.split_first() else {
            return Ok(None);
        };
        let first = first
            .to_str()
            .map(str::to_string)
            .ok_or_else(|| Error::Invalid {
                what: dir.display().to_string(),
                reason: "has a name mailsetup cannot handle (UTF-8)".into(),
            })?;
        let graft_path = at.system(OsStr::new(&first));
        if !grafts.contains_key(&graft_path) {
            let staged = free_name(&at, &format!(".{first}.mailsetup-{txid}"))?;
            self.dirs_created.push(graft_path.clone());
            grafts.insert(
                graft_path.clone(),
                Graft {
                    parent: at,
                    name: first,
                    staged,
                    tree: Node {
                        meta: Some(dir_meta.get(&graft_path).copied().unwrap_or(PARENT)),
                        ..Node::default()
                    },
                },
            );
        }
        let graft = grafts.get_mut(&graft_path).ok_or_else(|| Error::Invalid {
            what: graft_path.display().to_string(),
            reason: "vanished from the layout (a bug in mailsetup)".into(),
        })?;
        let mut node = &mut graft.tree;
        let mut path = graft_path;
        for name in rest {
            let name = name.to_string_lossy().into_owned();
            path = path.join(&name);
            if !node.dirs.contains_key(&name) {
                self.dirs_created.push(path.clone());
            }
            node = node.dirs.entry(name).or_insert_with(|| Node {
                meta: Some(dir_meta.get(&path).copied().unwrap_or(PARENT)),
                ..Node::default()
            });
        }
        Ok(Some(node))
    }

    fn restore(
        &mut self,
        fence: &Fence,
        txid: &str,
        path: PathBuf,
        from: PathBuf,
        expect: Expect,
    ) -> Result<()> {
        let name = name_of(&path)?;
        let parent = path.parent().unwrap_or(Path::new("/"));
        if from.parent() != Some(parent) {
            return Err(Error::Invalid {
                what: from.display().to_string(),
                reason: format!("is not beside {} (a bug in mailsetup)", path.display()),
            });
        }
        let dir = fence.dir(parent)?.ok_or_else(|| Error::Invalid {
            what: fence.real(parent).display().to_string(),
            reason: "is missing: the backups in it cannot be put back".into(),
        })?;
        let from_name = name_of(&from)?;
        let backup = existing_file(&dir, &from_name)?.ok_or_else(|| Error::Invalid {
            what: fence.real(&from).display().to_string(),
            reason: format!(
                "is missing: the backup of {} cannot be put back\n  fix: restore the file by hand, or run rollback --force to leave it as it is",
                path.display()
            ),
        })?;
        let old = existing_file(&dir, &name)?;
        check_expect(&dir, &name, old, &expect)?;
        let aside = match old {
            Some(_) => Some((
                free_name(&dir, &format!(".{name}.mailsetup-{txid}-old"))?,
                false,
            )),
            None => None,
        };
        if let Some((a, _)) = &aside {
            self.discard.push(parent.join(a));
        }
        self.swaps.push(Swap {
            dir,
            name,
            incoming: Incoming::Backup {
                name: from_name,
                ino: backup.ino,
            },
            old,
            aside,
            expect,
        });
        Ok(())
    }

    fn remove(&mut self, fence: &Fence, txid: &str, path: PathBuf, expect: Expect) -> Result<()> {
        let name = name_of(&path)?;
        let parent = path.parent().unwrap_or(Path::new("/"));
        let Some(dir) = fence.dir(parent)? else {
            return Ok(()); // already gone
        };
        let Some(old) = existing_file(&dir, &name)? else {
            return Ok(());
        };
        check_expect(&dir, &name, Some(old), &expect)?;
        let aside = free_name(&dir, &format!(".{name}.mailsetup-{txid}-old"))?;
        self.discard.push(parent.join(&aside));
        self.swaps.push(Swap {
            dir,
            name,
            incoming: Incoming::Nothing,
            old: Some(old),
            aside: Some((aside, false)),
            expect,
        });
        Ok(())
    }

    fn dir(
        &mut self,
        fence: &Fence,
        grafts: &mut BTreeMap<PathBuf, Graft>,
        dir_meta: &BTreeMap<PathBuf, Meta>,
        txid: &str,
        path: PathBuf,
        meta: Meta,
    ) -> Result<()> {
        if self
            .node_for(fence, grafts, dir_meta, txid, &path)?
            .is_some()
        {
            return Ok(()); // created with its owner and mode
        }
        let dir = fence.dir(&path)?.ok_or_else(|| Error::ChangedSincePlan {
            path: fence.real(&path),
        })?;
        let now = dir.own_stat()?.meta;
        if now != meta {
            self.metas_changed.push(MetaEntry {
                path: path.clone(),
                before: now.into(),
            });
            self.metas.push(MetaChange {
                path,
                dir: true,
                before: now,
                after: meta,
            });
        }
        Ok(())
    }

    fn remove_dir(&mut self, fence: &Fence, txid: &str, path: PathBuf) -> Result<()> {
        let name = name_of(&path)?;
        let parent_path = path.parent().unwrap_or(Path::new("/"));
        let Some(parent) = fence.dir(parent_path)? else {
            return Ok(());
        };
        let Some(st) = parent.stat(OsStr::new(&name))? else {
            return Ok(());
        };
        if st.kind != Kind::Dir {
            return Err(Error::Invalid {
                what: fence.real(&path).display().to_string(),
                reason: "is no longer a directory".into(),
            });
        }
        let aside = free_name(&parent, &format!(".{name}.mailsetup-{txid}-old"))?;
        self.discard.push(parent_path.join(&aside));
        self.prunes.push(Prune {
            parent,
            name,
            aside,
            ino: st.ino,
        });
        Ok(())
    }

    fn meta(&mut self, fence: &Fence, path: PathBuf, meta: Meta, dir: bool) -> Result<()> {
        let (parent, name) = fence.parent(&path)?;
        let parent = parent.ok_or_else(|| Error::ChangedSincePlan {
            path: fence.real(&path),
        })?;
        let st = if dir {
            parent.open_dir(&name)?.map(|d| d.own_stat()).transpose()?
        } else {
            existing_file(&parent, &name.to_string_lossy())?
        };
        let st = st.ok_or_else(|| Error::ChangedSincePlan {
            path: fence.real(&path),
        })?;
        if st.meta != meta {
            self.metas_changed.push(MetaEntry {
                path: path.clone(),
                before: st.meta.into(),
            });
            self.metas.push(MetaChange {
                path,
                dir,
                before: st.meta,
                after: meta,
            });
        }
        Ok(())
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
