//! One run, one transaction. [`Txn::begin`] opens the root through the fence, takes the lock,
//! catches SIGINT/SIGTERM/SIGHUP, and recovers an interrupted run (see [`super::undo`]).
//! [`Txn::run`] then carries out a list of [`Op`]s all or nothing:
//!
//! 1. every target checked and every name chosen (`Layout::new`): nothing written yet;
//! 2. the journal on disk (phase `staging`, with every temporary name it will create);
//! 3. every new file and directory staged beside its target with its final owner and mode,
//!    fsynced; the staged configuration validated with the real tools;
//! 4. the journal again (phase `committing`, every change with how to undo it);
//! 5. the live changes, each a link, rename or fchown/fchmod followed by an fsync of its
//!    directory, the target checked again just before;
//! 6. the services restarted and checked (phase `committed`), when asked;
//! 7. phase `finishing`: the run record saved, what is no longer needed removed, the journal
//!    removed.
//!
//! A failure or a signal before step 7 undoes every change and removes every staged name
//! (and restarts the services again after step 6); a kill leaves the journal, and the next
//! command does the same. Sources: reliability.md §5 (the apply protocol, G5.1–G5.6), dpkg's
//! journal, Postfix's and git's lock files.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::time::SystemTime;

use super::fence::Fence;
use super::journal::{Entry, Journal, Phase};
use super::layout::{Incoming, Layout, check_expect};
use super::lock::Lock;
use super::op::Op;
use super::record::{Kind, RunRecord, utc_human, utc_stamp};
use super::signals::Guard;
use super::stage::{self, Step};
use super::undo::{self, Recovered};
use super::{state, validate};
use crate::error::{Error, Result};
use crate::host::services::{self, command};
use crate::host::system::Root;
use crate::plan::ServiceAction;

/// What to do with the services once the files are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    /// Record them; the caller restarts once at the end (the wizard's steps).
    Defer,
    /// Restart (or reload) them now.
    Now,
    /// Restart them now, then check that OpenDKIM answers Postfix on its socket.
    NowAndCheck,
}

/// How a run is described and what follows it.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// What the run is, for the journal and the operator (`apply`, `rollback`, …).
    pub what: String,
    pub now: SystemTime,
    pub session: Option<String>,
    pub kind: Kind,
    pub services: Vec<ServiceAction>,
    pub restart: Restart,
    /// Records (stamps) to mark rolled back when the run succeeds.
    pub rolled_back: Vec<String>,
    /// Keys this run retires (for its record).
    pub keys_retired: Vec<PathBuf>,
    /// Validate the staged Postfix and OpenDKIM files with `postconf` and `opendkim -n`.
    pub validate: bool,
    /// The run's stamp, when the caller chose it already (a rollback names the retired keys'
    /// directory with it); else the first free stamp of `now`.
    pub txid: Option<String>,
}

/// What a run did.
#[derive(Debug)]
pub struct Outcome {
    pub record: RunRecord,
    /// One line per service action (done, deferred, or what would be done beneath a test root).
    pub services: Vec<String>,
}

/// A transaction about to run: the root open, the lock held, signals caught.
pub struct Txn {
    fence: Fence,
    lock: Lock,
    signals: Guard,
    /// The interrupted run [`Txn::begin`] found and recovered, if any.
    pub recovered: Option<Recovered>,
}

/// Check every target of `ops` without the lock and without writing anything (not even the
/// state directory), so that a run refused for a symlink, a second hard link or a file
/// changed since the plan leaves no trace. [`Txn::run`] checks again under the lock.
pub fn check(fence: &Fence, ops: &[Op]) -> Result<()> {
    Layout::new(fence, ops.to_vec(), "check").map(|_| ())
}

impl Txn {
    /// Open the root, take the lock, and recover an interrupted run first.
    ///
    /// Errors: the lock is held (naming the holder), a link on the way to the state
    /// directory, or a recovery that failed (the journal stays for the next try).
    pub fn begin(root: &Root, now: SystemTime) -> Result<Txn> {
        let fence = Fence::new(root)?;
        let lock = Lock::take(&fence, now)?;
        let signals = Guard::install();
        let recovered = undo::recover(&fence, &lock.state)?;
        Ok(Txn {
            fence,
            lock,
            signals,
            recovered,
        })
    }

    pub fn fence(&self) -> &Fence {
        &self.fence
    }

    /// The signal caught since [`Txn::begin`], if any.
    pub fn interrupted(&self) -> Option<i32> {
        self.signals.caught()
    }

    /// Carry out `ops`, all or nothing (see the module comment).
    ///
    /// Errors: a target refused or changed since the plan (nothing written), the staged
    /// files refused by the real tools (nothing written), an I/O error or a signal (every
    /// change undone), a service that fails or an OpenDKIM that does not answer after the
    /// restart (every change undone and the services restarted again).
    pub fn run(&self, ops: Vec<Op>, opts: RunOptions) -> Result<Outcome> {
        let state = &self.lock.state;
        let txid = match &opts.txid {
            Some(t) => t.clone(),
            None => RunRecord::free_stamp(&self.fence, &utc_stamp(opts.now))?,
        };
        let layout = Layout::new(&self.fence, ops, &txid)?;
        if let Some(signal) = self.signals.caught() {
            return Err(interrupted(signal, "nothing was changed"));
        }
        let validate_dir = format!("validate-{txid}");
        let mut staged = layout.staged();
        if opts.validate {
            staged.push(state.system(OsStr::new(&validate_dir)));
        }
        let mut journal = journal(&layout, &opts, &txid, staged);
        journal.save(state)?;
        let check = || match self.signals.caught() {
            Some(signal) => Err(interrupted(signal, "")),
            None => Ok(()),
        };
        let staged = stage::stage(&layout, &check).and_then(|steps| {
            if opts.validate {
                check()?;
                let dir = state.mkdir(OsStr::new(&validate_dir), state::PRIVATE_DIR)?;
                validate::staged(&self.fence, &layout.texts, &dir)?;
            }
            check().map(|()| steps)
        });
        let steps = match staged {
            Ok(steps) => steps,
            Err(e) => return Err(self.abandon(&journal, false, e)),
        };
        journal.entries = steps.iter().map(|(e, _)| e.clone()).collect();
        journal.phase = Phase::Committing;
        if let Err(e) = journal.save(state) {
            return Err(self.abandon(&journal, false, e));
        }
        for (entry, step) in &steps {
            let made = self.commit(&layout, step, entry);
            let made = made.and_then(|()| match self.signals.caught() {
                Some(signal) => Err(interrupted(signal, "")),
                None => Ok(()),
            });
            if let Err(e) = made {
                return Err(self.abandon(&journal, false, e));
            }
        }
        let services = match self.services(&mut journal, &opts) {
            Ok(lines) => lines,
            Err(e) => return Err(self.abandon(&journal, true, e)),
        };
        journal.phase = Phase::Finishing;
        if let Err(e) = journal.save(state) {
            let restarted = opts.restart != Restart::Defer;
            return Err(self.abandon(&journal, restarted, e));
        }
        undo::finish(&self.fence, state, &journal).map_err(|e| {
            Error::Refused(format!(
                "every change was made, but finishing the run failed: {e}\n  the next \
                 mailsetup command finishes it ({}/journal.json says what is left)",
                crate::host::system::STATE_DIR
            ))
        })?;
        Ok(Outcome {
            record: journal.record,
            services,
        })
    }

    /// Undo what was done of the run, remove what it staged and its journal; the error
    /// says so. With `restart`, the services are restarted again.
    fn abandon(&self, journal: &Journal, restart: bool, e: Error) -> Error {
        let undone = undo::abandon(&self.fence, &self.lock.state, journal, restart);
        let how = match (&undone, journal.phase) {
            (Ok(_), Phase::Staging) => "nothing was changed".to_string(),
            (Ok(_), _) if restart => {
                "every change was undone and the services restarted".to_string()
            }
            (Ok(_), _) => "every change was undone".to_string(),
            (Err(u), _) => format!(
                "undoing it failed too ({u}); the next mailsetup command tries again (the \
                 journal {}/journal.json says what is left)",
                crate::host::system::STATE_DIR
            ),
        };
        match e {
            Error::Interrupted { signal, .. } => interrupted(signal, &how),
            Error::Symlink { .. }
            | Error::HardLinked { .. }
            | Error::ChangedSincePlan { .. }
            | Error::Validation { .. }
                if journal.phase == Phase::Staging =>
            {
                e
            }
            e => Error::Refused(format!("{e}\n  {how}")),
        }
    }

    /// Make one live change, checking its target once more just before.
    fn commit(&self, layout: &Layout, step: &Step, entry: &Entry) -> Result<()> {
        match step {
            Step::Graft(i) => {
                let g = &layout.grafts[*i];
                g.parent
                    .rename_new(OsStr::new(&g.staged), OsStr::new(&g.name))
                    .map_err(|e| changed_if_exists(e, g.parent.real(OsStr::new(&g.name))))?;
                g.parent.sync()
            }
            Step::Swap(i) => {
                let s = &layout.swaps[*i];
                let name = OsStr::new(&s.name);
                let now = s.dir.stat(name)?;
                if now.map(|n| n.ino) != s.old.map(|o| o.ino) {
                    return Err(Error::ChangedSincePlan {
                        path: s.dir.real(name),
                    });
                }
                check_expect(&s.dir, &s.name, now, &s.expect)?;
                if let Some((aside, _)) = &s.aside {
                    s.dir.link(name, OsStr::new(aside))?;
                }
                let from = match &s.incoming {
                    Incoming::Temp { name, .. } | Incoming::Backup { name, .. } => Some(name),
                    Incoming::Nothing => None,
                };
                match (from, s.old) {
                    (Some(from), Some(_)) => s.dir.rename(OsStr::new(from), name)?,
                    (Some(from), None) => s
                        .dir
                        .rename_new(OsStr::new(from), name)
                        .map_err(|e| changed_if_exists(e, s.dir.real(name)))?,
                    (None, _) => s.dir.unlink(name)?,
                }
                s.dir.sync()
            }
            Step::FromEntry => undo::redo(&self.fence, entry),
        }
    }

    /// Restart (or defer) the services after the commit.
    fn services(&self, journal: &mut Journal, opts: &RunOptions) -> Result<Vec<String>> {
        let root = self.fence.root();
        if opts.restart == Restart::Defer || opts.services.is_empty() {
            return Ok(opts
                .services
                .iter()
                .map(|s| format!("at the end: {s}"))
                .collect());
        }
        journal.phase = Phase::Committed;
        journal.save(&self.lock.state)?;
        let lines = services::perform(root, &opts.services)?;
        if let Some(signal) = self.signals.caught() {
            return Err(interrupted(signal, ""));
        }
        if opts.restart == Restart::NowAndCheck {
            // restarted is not enough: OpenDKIM must answer Postfix on its socket
            crate::local::serving(root).map_err(Error::Refused)?;
        }
        Ok(lines)
    }
}

/// The journal of a run about to stage, naming every temporary name it will create.
fn journal(
    layout: &Layout,
    opts: &RunOptions,
    txid: &str,
    staged: Vec<std::path::PathBuf>,
) -> Journal {
    Journal {
        txid: txid.to_string(),
        pid: std::process::id(),
        started: utc_human(opts.now),
        what: opts.what.clone(),
        phase: Phase::Staging,
        staged,
        entries: Vec::new(),
        discard: layout.discard.clone(),
        services: opts
            .services
            .iter()
            .map(|s| s.service.name().to_string())
            .collect(),
        record: record(layout, opts, txid),
        rolled_back: opts.rolled_back.clone(),
    }
}

/// The record the run leaves when it succeeds.
fn record(layout: &Layout, opts: &RunOptions, txid: &str) -> RunRecord {
    let mut rec = RunRecord::new(txid);
    rec.kind = opts.kind;
    rec.session = opts.session.clone();
    rec.files = layout.files.clone();
    rec.dirs_created = layout.dirs_created.clone();
    rec.metas_changed = layout.metas_changed.clone();
    rec.keys_created = layout.keys_created.clone();
    rec.group_added = layout
        .groups
        .iter()
        .find(|(_, _, add)| *add)
        .map(|(u, g, _)| (u.clone(), g.clone()));
    rec.services = opts
        .services
        .iter()
        .map(|s| s.service.name().to_string())
        .collect();
    rec.rolled_back = opts.rolled_back.clone();
    rec.keys_retired = opts.keys_retired.clone();
    rec
}

/// A name that appeared where the run creates one: someone else made it meanwhile.
fn changed_if_exists(e: Error, path: PathBuf) -> Error {
    match e {
        Error::Io { ref source, .. } if source.kind() == std::io::ErrorKind::AlreadyExists => {
            Error::ChangedSincePlan { path }
        }
        e => e,
    }
}

pub(crate) fn interrupted(signal: i32, what: &str) -> Error {
    Error::Interrupted {
        signal,
        what: what.to_string(),
    }
}

/// `gpasswd -a|-d user group` on the host; nothing when `user` already is (`add`) or is not
/// (`!add`) a member: an undo after the operator (or a later run and its own undo) changed the
/// membership already has the state it wants, and `gpasswd -d` of a non-member fails.
pub(crate) fn gpasswd(user: &str, group: &str, add: bool) -> Result<()> {
    let member = nix::unistd::Group::from_name(group)
        .ok()
        .flatten()
        .map(|g| g.mem.iter().any(|m| m == user));
    if member == Some(add) {
        return Ok(());
    }
    let mut c = command("/usr/bin/gpasswd");
    c.args([if add { "-a" } else { "-d" }, user, group]);
    services::run(c).map(|_| ())
}
