//! The write-ahead journal of the run in progress: `/var/lib/mailsetup/journal.json`. It is on
//! disk (fsynced, its directory too) before the run creates its first temporary file, and again
//! before the first live change, and it says for every change how to undo it. Each undo is
//! judged from what is on disk (which name holds which inode), so undoing twice, or undoing a
//! change that was never made, is harmless: recovery after a kill at any instant is "undo
//! every entry, newest first, then remove every staged name".
//!
//! The phases, and what recovery does in each:
//! - `staging`: temporary files and directories are being written beside their targets:
//!   remove them.
//! - `committing`: the live names are being changed: undo every entry, remove the staged
//!   names.
//! - `committed`: every change is made and the services are being restarted and checked:
//!   undo as above, then restart the services again (on the host).
//! - `finishing`: the run succeeded: finish it (remove the names it no longer needs, save
//!   its run record). Past this point nothing is undone.

use std::ffi::OsStr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::fence::{Dir, Fence};
use super::record::{RunRecord, SavedMeta};
use super::state;
use crate::error::{Error, Result};

/// The journal's file name in the state directory.
pub const FILE: &str = "journal.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Staging,
    Committing,
    Committed,
    Finishing,
}

impl Phase {
    /// What the run was doing, for the operator.
    pub fn doing(self) -> &'static str {
        match self {
            Phase::Staging => "writing its temporary files (no live file was changed yet)",
            Phase::Committing => "changing the live files",
            Phase::Committed => "restarting and checking the services",
            Phase::Finishing => "finishing (every change was made and checked)",
        }
    }
}

/// A name in a directory and the inode it had when the journal was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Named {
    pub name: String,
    pub ino: u64,
}

/// One live change and how to undo it. `dir` is a system path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum Entry {
    /// `dir/name` gets the file `incoming` (a staged temporary file, or a backup put back)
    /// or, without one, is removed; the file that was there is kept as `aside` first (a
    /// hard link, so the name never disappears). Undo: `aside` back over `name` (or `name`
    /// removed when there was no file), `incoming` linked back to its name when `relink`.
    Swap {
        dir: PathBuf,
        name: String,
        incoming: Option<Named>,
        aside: Option<Named>,
        /// The aside is the run's backup and stays (apply); else it goes when the run
        /// succeeds (rollback).
        keep_aside: bool,
        /// The incoming name must exist again after an undo (a backup a rollback used).
        relink: bool,
    },
    /// A directory built under the name `staged` (with everything in it) renamed into place
    /// as `dir/name`. Undo: renamed back (then removed with the other staged names).
    Graft {
        dir: PathBuf,
        name: String,
        staged: String,
        ino: u64,
    },
    /// The directory `dir/name` (and what is in it) moved aside as `aside`, removed when the
    /// run succeeds. Undo: moved back.
    Prune {
        dir: PathBuf,
        name: String,
        aside: String,
        ino: u64,
    },
    /// Owner and mode of `path` set from `before` to `after`. Undo: `before` again.
    Meta {
        path: PathBuf,
        dir: bool,
        before: SavedMeta,
        after: SavedMeta,
    },
    /// On the host: `user` added to (or removed from) the supplementary group `group`.
    Group {
        user: String,
        group: String,
        add: bool,
    },
}

impl Entry {
    /// The system path the entry changes.
    pub fn path(&self) -> PathBuf {
        match self {
            Entry::Swap { dir, name, .. }
            | Entry::Graft { dir, name, .. }
            | Entry::Prune { dir, name, .. } => dir.join(name),
            Entry::Meta { path, .. } => path.clone(),
            Entry::Group { user, group, .. } => PathBuf::from(format!("(group {group}: {user})")),
        }
    }
}

/// The run in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    pub txid: String,
    pub pid: u32,
    /// When the run started, `YYYY-MM-DD HH:MM:SS UTC`.
    pub started: String,
    /// What the run is, for the operator: `apply`, `rollback`, `wizard step 4/12 (Milter)`.
    pub what: String,
    pub phase: Phase,
    /// Temporary names (files and directory trees, system paths) the run creates before its
    /// first live change: removed by an undo, and when the run ends.
    pub staged: Vec<PathBuf>,
    /// The live changes, in the order they are made.
    pub entries: Vec<Entry>,
    /// Names removed once the run succeeded (asides a rollback no longer needs).
    pub discard: Vec<PathBuf>,
    /// Services restarted after the changes; recovery restarts them again after undoing.
    pub services: Vec<String>,
    /// The record saved when the run succeeds.
    pub record: RunRecord,
    /// Records (stamps) marked rolled back when the run succeeds.
    pub rolled_back: Vec<String>,
}

impl Journal {
    /// Write the journal whole and fsynced (with its directory).
    pub fn save(&self, state: &Dir) -> Result<()> {
        let json = serde_json::to_vec_pretty(self).map_err(|e| Error::RunRecord {
            path: state.real(OsStr::new(FILE)),
            reason: e.to_string(),
        })?;
        state::write_file(state, FILE, &json)
    }

    /// The journal of an unfinished run, if there is one.
    ///
    /// Errors: it cannot be read or parsed (the error says how to recover by hand).
    pub fn load(fence: &Fence) -> Result<Option<Journal>> {
        let Some(dir) = fence.dir(std::path::Path::new(crate::host::system::STATE_DIR))? else {
            return Ok(None);
        };
        let Some((bytes, _)) = dir.read(OsStr::new(FILE))? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::RunRecord {
                path: dir.real(OsStr::new(FILE)),
                reason: e.to_string(),
            })
    }

    /// Remove the journal: the run is over.
    pub fn remove(state: &Dir) -> Result<()> {
        state.unlink(OsStr::new(FILE))?;
        state.sync()
    }

    /// One line per changed path, for the operator.
    pub fn paths(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = self.entries.iter().map(Entry::path).collect();
        out.dedup();
        out
    }
}
