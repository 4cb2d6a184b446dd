//! How each op of a run is checked and laid out: where its new file is staged, where the
//! old one goes, which new directories it needs.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::checks::{check_expect, existing_file, free_name, name_of};
use super::{Graft, Incoming, Layout, MetaChange, NEW_FILE, Node, PARENT, Prune, Swap};
use crate::error::{Error, Result};
use crate::host::apply::fence::{Fence, Kind};
use crate::host::apply::op::{Expect, Put};
use crate::host::apply::record::{FileEntry, MetaEntry, sha256};
use crate::host::system::Meta;

impl Layout {
    pub(super) fn put(
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

    pub(super) fn record_put(
        &mut self,
        path: PathBuf,
        backup: Option<PathBuf>,
        sha256: String,
        key: bool,
    ) {
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
    pub(super) fn node_for<'g>(
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

    pub(super) fn restore(
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

    pub(super) fn remove(
        &mut self,
        fence: &Fence,
        txid: &str,
        path: PathBuf,
        expect: Expect,
    ) -> Result<()> {
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

    pub(super) fn dir(
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

    pub(super) fn remove_dir(&mut self, fence: &Fence, txid: &str, path: PathBuf) -> Result<()> {
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

    pub(super) fn meta(
        &mut self,
        fence: &Fence,
        path: PathBuf,
        meta: Meta,
        dir: bool,
    ) -> Result<()> {
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
}
