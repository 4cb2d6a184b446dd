//! Staging: every new file written under a temporary name beside its target, and every new
//! directory tree built under a temporary name, each with its final owner and mode from the
//! start and fsynced, before the first live change. The result is the list of live changes
//! (the journal's entries) in the order the commit makes them.

use std::ffi::OsStr;

use super::fence::Dir;
use super::journal::{Entry, Named};
use super::layout::{Graft, Incoming, Layout, MetaChange, Node, Swap};
use super::state;
use crate::error::Result;

/// How the commit makes an entry: a graft or a swap of the layout (with its open
/// directory), or from the entry itself (owner and mode, a group, a pruned directory).
pub enum Step {
    Graft(usize),
    Swap(usize),
    FromEntry,
}

/// Stage everything `layout` creates; `check` stops it between files (a signal). Returns
/// the live changes in commit order: directory owners and modes, new directory trees, names
/// swapped, file owners and modes, groups, directories removed.
pub fn stage(layout: &Layout, check: &dyn Fn() -> Result<()>) -> Result<Vec<(Entry, Step)>> {
    let mut steps = Vec::new();
    for m in layout.metas.iter().filter(|m| m.dir) {
        steps.push((meta_entry(m), Step::FromEntry));
    }
    for (i, g) in layout.grafts.iter().enumerate() {
        check()?;
        let ino = stage_graft(g)?;
        let entry = Entry::Graft {
            dir: g.parent.path().to_path_buf(),
            name: g.name.clone(),
            staged: g.staged.clone(),
            ino,
        };
        steps.push((entry, Step::Graft(i)));
    }
    for (i, s) in layout.swaps.iter().enumerate() {
        check()?;
        steps.push((stage_swap(s)?, Step::Swap(i)));
    }
    for m in layout.metas.iter().filter(|m| !m.dir) {
        steps.push((meta_entry(m), Step::FromEntry));
    }
    for (user, group, add) in &layout.groups {
        let entry = Entry::Group {
            user: user.clone(),
            group: group.clone(),
            add: *add,
        };
        steps.push((entry, Step::FromEntry));
    }
    for p in &layout.prunes {
        let entry = Entry::Prune {
            dir: p.parent.path().to_path_buf(),
            name: p.name.clone(),
            aside: p.aside.clone(),
            ino: p.ino,
        };
        steps.push((entry, Step::FromEntry));
    }
    Ok(steps)
}

/// Write a swap's incoming file under its temporary name (a backup put back is already
/// there); the entry names what holds which inode.
fn stage_swap(s: &Swap) -> Result<Entry> {
    let incoming = match &s.incoming {
        Incoming::Temp { name, bytes, meta } => {
            let st = s.dir.create(OsStr::new(name), *meta, bytes)?;
            Some(Named {
                name: name.clone(),
                ino: st.ino,
            })
        }
        Incoming::Backup { name, ino } => Some(Named {
            name: name.clone(),
            ino: *ino,
        }),
        Incoming::Nothing => None,
    };
    let aside = match (&s.aside, s.old) {
        (Some((name, _)), Some(old)) => Some(Named {
            name: name.clone(),
            ino: old.ino,
        }),
        _ => None,
    };
    Ok(Entry::Swap {
        dir: s.dir.path().to_path_buf(),
        name: s.name.clone(),
        relink: matches!(s.incoming, Incoming::Backup { .. }),
        keep_aside: s.aside.as_ref().is_some_and(|(_, keep)| *keep),
        incoming,
        aside,
    })
}

fn meta_entry(m: &MetaChange) -> Entry {
    Entry::Meta {
        path: m.path.clone(),
        dir: m.dir,
        before: m.before.into(),
        after: m.after.into(),
    }
}

/// Build a graft's tree under its staged name: directories with their owner and mode,
/// files written and fsynced, every directory fsynced. Returns the staged root's inode.
fn stage_graft(g: &Graft) -> Result<u64> {
    fn build(dir: &Dir, node: &Node) -> Result<()> {
        for (name, (bytes, meta)) in &node.files {
            dir.create(OsStr::new(name), *meta, bytes)?;
        }
        for (name, sub) in &node.dirs {
            let d = dir.mkdir(OsStr::new(name), sub.meta.unwrap_or(state::PUBLIC_DIR))?;
            build(&d, sub)?;
        }
        dir.sync()
    }
    let top = g.parent.mkdir(
        OsStr::new(&g.staged),
        g.tree.meta.unwrap_or(state::PUBLIC_DIR),
    )?;
    build(&top, &g.tree)?;
    Ok(top.own_stat()?.ino)
}
