//! Undoing and finishing runs from their journal, judged from what is on disk: each undo
//! looks at which name holds which inode and does only what is still to be done, so it can be
//! repeated after a kill at any instant. [`recover`] is what every command does first when it
//! finds the journal of a run that did not end.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};

use super::fence::{Dir, Fence, Stat};
use super::journal::{Entry, Journal, Named, Phase};
use super::record::RunRecord;
use super::txn::gpasswd;
use crate::error::{Error, Result};
use crate::host::services;
use crate::host::system::Root;
use crate::plan::{Service, ServiceAction, Verb};

/// The inode at `name`, if any.
fn ino(dir: &Dir, name: &str) -> Result<Option<u64>> {
    Ok(dir.stat(OsStr::new(name))?.map(|s: Stat| s.ino))
}

/// Make the change of a Meta, Prune or Group entry (the forward direction).
pub fn redo(fence: &Fence, entry: &Entry) -> Result<()> {
    match entry {
        Entry::Meta {
            path, dir, after, ..
        } => set_meta(fence, path, *dir, (*after).into()),
        Entry::Prune {
            dir, name, aside, ..
        } => {
            let Some(d) = fence.dir(dir)? else {
                return Ok(());
            };
            d.rename_new(OsStr::new(name), OsStr::new(aside))?;
            d.sync()
        }
        Entry::Group { user, group, add } => gpasswd(user, group, *add),
        Entry::Swap { .. } | Entry::Graft { .. } => Ok(()),
    }
}

fn set_meta(fence: &Fence, path: &Path, dir: bool, meta: crate::host::system::Meta) -> Result<()> {
    match fence.parent(path)? {
        (Some(parent), name) if parent.stat(&name)?.is_some() => parent.set_meta(&name, meta, dir),
        _ => Ok(()),
    }
}

/// Undo one entry, whatever part of it was made.
fn undo_one(fence: &Fence, entry: &Entry) -> Result<()> {
    match entry {
        Entry::Swap {
            dir,
            name,
            incoming,
            aside,
            relink,
            ..
        } => match fence.dir(dir)? {
            Some(d) => undo_swap(&d, name, incoming.as_ref(), aside.as_ref(), *relink),
            None => Ok(()),
        },
        Entry::Graft {
            dir,
            name,
            staged,
            ino: i,
        } => move_back(fence, dir, name, staged, *i, true),
        Entry::Prune {
            dir,
            name,
            aside,
            ino: i,
        } => move_back(fence, dir, aside, name, *i, false),
        Entry::Meta {
            path, dir, before, ..
        } => set_meta(fence, path, *dir, (*before).into()),
        Entry::Group { user, group, add } => {
            let member = nix::unistd::Group::from_name(group)
                .ok()
                .flatten()
                .is_some_and(|g| g.mem.iter().any(|m| m == user));
            if member == *add {
                gpasswd(user, group, !add)?;
            }
            Ok(())
        }
    }
}

/// Undo a swap in `d`: when the incoming file holds the name (or, for a removal, the name
/// is gone and the aside holds the old file), the old file goes back (the incoming one is
/// linked back to its own name first when `relink`); when only the backup link was made, it
/// is dropped.
fn undo_swap(
    d: &Dir,
    name: &str,
    incoming: Option<&Named>,
    aside: Option<&Named>,
    relink: bool,
) -> Result<()> {
    let now = ino(d, name)?;
    let swapped = match (incoming, aside) {
        (Some(inc), _) => now == Some(inc.ino),
        (None, Some(a)) => now.is_none() && ino(d, &a.name)? == Some(a.ino),
        (None, None) => false,
    };
    if swapped {
        if let Some(inc) = incoming
            && relink
            && ino(d, &inc.name)?.is_none()
        {
            d.link(OsStr::new(name), OsStr::new(&inc.name))?;
        }
        match aside {
            Some(a) => d.rename(OsStr::new(&a.name), OsStr::new(name))?,
            None => d.unlink(OsStr::new(name))?,
        }
    } else if let Some(a) = aside
        && ino(d, &a.name)? == Some(a.ino)
        && now == Some(a.ino)
    {
        // the backup link was made, the swap not: drop the second name
        d.unlink(OsStr::new(&a.name))?;
    }
    d.sync()
}

/// Rename `from` back to `to` in `dir` when `from` holds the inode `i` (and, unless
/// `whatever`, `to` is free): a graft taken back to its staged name, a pruned directory put
/// back.
fn move_back(
    fence: &Fence,
    dir: &Path,
    from: &str,
    to: &str,
    i: u64,
    whatever: bool,
) -> Result<()> {
    let Some(d) = fence.dir(dir)? else {
        return Ok(());
    };
    if ino(&d, from)? == Some(i) && (whatever || ino(&d, to)?.is_none()) {
        d.rename_new(OsStr::new(from), OsStr::new(to))?;
        d.sync()?;
    }
    Ok(())
}

/// Remove each of `paths` (a file or a whole directory tree; never following a link).
fn remove_names(fence: &Fence, paths: &[PathBuf]) -> Result<()> {
    for p in paths {
        if let (Some(dir), name) = fence.parent(p)?
            && dir.stat(&name)?.is_some()
        {
            dir.remove_tree(&name)?;
            dir.sync()?;
        }
    }
    Ok(())
}

/// Undo every entry of the journal (newest first), remove what it staged, restart its
/// services again when `restart` (on the host), and remove the journal. Returns the service
/// lines.
pub fn abandon(
    fence: &Fence,
    state: &Dir,
    journal: &Journal,
    restart: bool,
) -> Result<Vec<String>> {
    for entry in journal.entries.iter().rev() {
        undo_one(fence, entry)?;
    }
    remove_names(fence, &journal.staged)?;
    let lines = if restart {
        restart_services(fence.root(), &journal.services)?
    } else {
        Vec::new()
    };
    Journal::remove(state)?;
    Ok(lines)
}

/// The run succeeded: remove what it no longer needs, save its record, mark the runs it
/// rolled back, remove the journal. Each part can be repeated.
pub fn finish(fence: &Fence, state: &Dir, journal: &Journal) -> Result<()> {
    remove_names(fence, &journal.discard)?;
    remove_names(fence, &journal.staged)?;
    if journal.record.kind != super::record::Kind::Own {
        journal.record.save(fence)?;
    }
    if !journal.rolled_back.is_empty() {
        for mut rec in RunRecord::load_all(fence)? {
            if journal.rolled_back.contains(&rec.stamp) {
                rec.status = super::record::Status::RolledBack;
                rec.save(fence)?;
            }
        }
    }
    Journal::remove(state)
}

/// Restart the named services (`postfix`, `opendkim`, `opendmarc`; each once, the milters first) after
/// their files were restored. Beneath a test root they are only reported.
pub fn restart_services(root: &Root, names: &[String]) -> Result<Vec<String>> {
    let mut names: Vec<&str> = names.iter().map(String::as_str).collect();
    names.sort_by_key(|n| (Service::from_name(n).map(Service::start_rank), *n));
    names.dedup();
    let actions: Vec<ServiceAction> = names
        .iter()
        .filter_map(|s| {
            let service = Service::from_name(s)?;
            Some(ServiceAction::new(
                service,
                Verb::Restart,
                "its files were restored",
            ))
        })
        .collect();
    services::perform(root, &actions)
}

/// What [`recover`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    pub what: String,
    pub txid: String,
    pub pid: u32,
    pub started: String,
    pub phase: Phase,
    pub paths: Vec<PathBuf>,
    /// True when the run was finished (it had succeeded); false when it was undone.
    pub finished: bool,
    pub services: Vec<String>,
    /// The session (wizard run, `apply`) the run belonged to.
    pub session: Option<String>,
}

impl fmt::Display for Recovered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "an interrupted run was found: `{}` (pid {}, started {}) stopped while {}",
            self.what,
            self.pid,
            self.started,
            self.phase.doing()
        )?;
        if !self.paths.is_empty() {
            let paths: Vec<String> = self.paths.iter().map(|p| p.display().to_string()).collect();
            write!(f, "; it changes {}", paths.join(", "))?;
        }
        if self.finished {
            write!(
                f,
                ".\n  It had succeeded, and was finished: its changes stay (mailsetup rollback undoes them)."
            )?;
        } else {
            write!(
                f,
                ".\n  It was undone: every file is as it was before that run."
            )?;
        }
        for line in &self.services {
            write!(f, "\n  {line}")?;
        }
        Ok(())
    }
}

/// Recover the run the journal describes, if there is one (with the lock held): undo it, or
/// finish it when it had succeeded (phase `finishing`).
///
/// Errors: the journal cannot be read, or the undo fails (the journal stays).
pub fn recover(fence: &Fence, state: &Dir) -> Result<Option<Recovered>> {
    let Some(journal) = Journal::load(fence)? else {
        return Ok(None);
    };
    let mut found = Recovered {
        what: journal.what.clone(),
        txid: journal.txid.clone(),
        pid: journal.pid,
        started: journal.started.clone(),
        phase: journal.phase,
        paths: journal.paths(),
        finished: journal.phase == Phase::Finishing,
        services: Vec::new(),
        session: journal.record.session.clone(),
    };
    let done = if found.finished {
        finish(fence, state, &journal)
    } else {
        abandon(fence, state, &journal, journal.phase == Phase::Committed).map(|lines| {
            found.services = lines;
        })
    };
    done.map_err(|e| {
        Error::Refused(format!(
            "{found}\n  recovering it failed: {e}\n  fix: mend what the error names, then run \
             mailsetup again; it tries again first"
        ))
    })?;
    Ok(Some(found))
}

/// The journal of an unfinished run, read without the lock and without changing anything
/// (for `--dry-run` and `plan`): what the next command will recover.
pub fn pending(root: &Root) -> Result<Option<Journal>> {
    Journal::load(&Fence::new(root)?)
}
