//! Apply: the only writer. Every run (an `apply`, a wizard step, a `fix`, a `rollback`) is one
//! transaction ([`txn`]): the lock, recovery of an interrupted run, every target checked and
//! every file staged before the first live change, a write-ahead journal ([`journal`]) on disk
//! before each change, then the live changes, the services, and the run record. Any failure,
//! or SIGINT/SIGTERM/SIGHUP, undoes the whole run; a kill leaves the journal, and the next
//! command undoes it ([`undo::recover`]). Every path beneath the root is opened through the
//! [`fence`] (never following a link). Rollback ([`mod@rollback`]) is a transaction too, and
//! retires keys instead of deleting them.

pub mod failpoint;
pub mod fence;
mod from_plan;
pub mod journal;
mod layout;
pub mod lock;
pub mod op;
pub mod record;
pub mod rollback;
pub mod signals;
mod stage;
pub mod state;
pub mod txn;
pub mod undo;
pub(crate) mod validate;

use std::path::PathBuf;
use std::time::SystemTime;

pub use record::{RunRecord, Status};
pub use txn::{Restart, Txn};
pub use undo::{Recovered, pending};

use crate::error::{Error, Result};
use crate::host::accounts::Accounts;
use crate::host::system::Root;
use crate::plan::Plan;
use crate::plan::{Service, ServiceAction, Verb};
use record::Kind;
use txn::RunOptions;

/// How an apply runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// What the run is, for the journal and messages (`apply`, `wizard step 4/12 (Milter)`).
    pub what: String,
    /// Names the backups and the run record.
    pub now: SystemTime,
    /// Runs that share a session are rolled back together.
    pub session: Option<String>,
    pub restart: Restart,
}

impl Options {
    /// An `apply` of the whole plan now, restarting and checking the services.
    pub fn now(what: &str) -> Options {
        Options {
            what: what.into(),
            now: SystemTime::now(),
            session: None,
            restart: Restart::NowAndCheck,
        }
    }
}

/// What an apply did, for the summary.
#[derive(Debug)]
pub struct Receipt {
    pub record: RunRecord,
    /// One line per service action (done, deferred, or what would be done beneath a test root).
    pub services: Vec<String>,
    /// Actions reported but not performed beneath a test root.
    pub reported: Vec<String>,
    /// An interrupted earlier run, recovered first.
    pub recovered: Option<Recovered>,
}

/// Carry out the plan beneath `root` as one transaction.
///
/// Errors: the lock is held; a target is a symlink, hard-linked or changed since the plan;
/// the staged files fail validation (nothing written in these cases); an I/O error, a signal
/// or a service failure (every change undone first; see [`txn::Txn::run`]).
pub fn apply(root: &Root, plan: &Plan, accounts: &Accounts, opts: &Options) -> Result<Receipt> {
    let (ops, reported) = from_plan::ops(&fence::Fence::new(root)?, plan, accounts, true)?;
    txn::check(&fence::Fence::new(root)?, &ops)?;
    let mut txn = Txn::begin(root, opts.now)?;
    let mut receipt = apply_ops(&txn, ops, reported, plan, opts)?;
    receipt.recovered = txn.recovered.take();
    Ok(receipt)
}

/// What a run carries beside its plan: mailsetup's own files (a key rotation's state) and
/// keys to retire (as a rollback does: copied to `retired-keys/<stamp>/`, then removed).
#[derive(Debug, Default)]
pub struct Extra {
    /// Own files to write: (system path, bytes); a new one gets 0600 root, no backup (as
    /// [`save`]).
    pub own: Vec<(PathBuf, Vec<u8>)>,
    /// Own files to remove (when they exist).
    pub remove: Vec<PathBuf>,
    /// Private keys to retire.
    pub retire: Vec<PathBuf>,
}

/// [`apply`] with `extra` in the same transaction: all of it or none. Returns the receipt
/// and where the retired keys went. Errors: as [`apply`].
pub fn apply_with(
    root: &Root,
    plan: &Plan,
    accounts: &Accounts,
    opts: &Options,
    extra: &Extra,
) -> Result<(Receipt, Vec<PathBuf>)> {
    let mut txn = Txn::begin(root, opts.now)?;
    let fence = txn.fence();
    let (mut ops, reported) = from_plan::ops(fence, plan, accounts, true)?;
    for (path, bytes) in &extra.own {
        let existing = fence.read(path)?;
        ops.push(op::Op::Put(op::Put {
            path: path.clone(),
            bytes: zeroize::Zeroizing::new(bytes.clone()),
            meta: existing.is_none().then_some(state::PRIVATE_FILE),
            expect: match &existing {
                Some((b, _)) => op::Expect::Sha256(record::sha256(b)),
                None => op::Expect::Absent,
            },
            key: false,
            backup: false,
        }));
    }
    for path in &extra.remove {
        if fence.stat(path)?.is_some() {
            ops.push(op::Op::Remove {
                path: path.clone(),
                expect: op::Expect::Any,
            });
        }
    }
    let txid = RunRecord::free_stamp(fence, &record::utc_stamp(opts.now))?;
    let mut rb = rollback::Rollback::default();
    for key in &extra.retire {
        rollback::retire(fence, key, &txid, false, &mut rb)?;
    }
    ops.extend(rb.ops);
    txn::check(fence, &ops)?;
    let outcome = txn.run(ops, run_options(plan, opts, rb.retired.clone(), Some(txid)))?;
    let receipt = Receipt {
        record: outcome.record,
        services: outcome.services,
        reported,
        recovered: txn.recovered.take(),
    };
    Ok((receipt, rb.retired))
}

/// [`apply`] within a transaction the caller began (holding the lock since before it read
/// the state the plan was built from, as `mailsetup apply` does while it asks).
pub fn apply_in(txn: &Txn, plan: &Plan, accounts: &Accounts, opts: &Options) -> Result<Receipt> {
    let (ops, reported) = from_plan::ops(txn.fence(), plan, accounts, true)?;
    apply_ops(txn, ops, reported, plan, opts)
}

/// Check every target of `plan` as a run would, without the lock and without writing
/// anything: a plan refused for a link, a second hard link or a changed file leaves no
/// trace, not even mailsetup's state directory. Errors: as [`apply`] refuses.
pub fn check(root: &Root, plan: &Plan, accounts: &Accounts) -> Result<()> {
    let fence = fence::Fence::new(root)?;
    let (ops, _) = from_plan::ops(&fence, plan, accounts, false)?;
    txn::check(&fence, &ops)
}

fn apply_ops(
    txn: &Txn,
    ops: Vec<op::Op>,
    reported: Vec<String>,
    plan: &Plan,
    opts: &Options,
) -> Result<Receipt> {
    let outcome = txn.run(ops, run_options(plan, opts, Vec::new(), None))?;
    Ok(Receipt {
        record: outcome.record,
        services: outcome.services,
        reported,
        recovered: None,
    })
}

/// How an apply run goes: `opts`, the plan's services, validated; `keys_retired` in its
/// record; `txid` when the caller chose the run's id already (None: the transaction picks it).
fn run_options(
    plan: &Plan,
    opts: &Options,
    keys_retired: Vec<PathBuf>,
    txid: Option<String>,
) -> RunOptions {
    RunOptions {
        what: opts.what.clone(),
        now: opts.now,
        session: opts.session.clone(),
        kind: Kind::Apply,
        services: plan.services.clone(),
        restart: opts.restart,
        rolled_back: Vec::new(),
        keys_retired,
        validate: true,
        txid,
    }
}

/// Which runs a rollback undoes.
#[derive(Debug, Clone)]
pub struct RollbackOptions {
    /// Restore files edited by hand since (their edits are lost).
    pub force: bool,
    /// Only the runs of this session (the wizard undoing its own steps); else the newest
    /// session.
    pub session: Option<String>,
    pub now: SystemTime,
    /// Restart the services the runs touched.
    pub restart: bool,
}

/// What a rollback did (or, for [`rollback_preview`], would do).
#[derive(Debug, Default)]
pub struct RolledBack {
    /// The runs undone, oldest first (empty: nothing to roll back).
    pub stamps: Vec<String>,
    pub lines: Vec<String>,
    pub services: Vec<String>,
    pub recovered: Option<Recovered>,
}

fn runs(fence: &fence::Fence, session: Option<&str>) -> Result<Vec<RunRecord>> {
    match session {
        Some(s) => RunRecord::of_session(fence, s),
        None => RunRecord::last_session(fence),
    }
}

/// What the runs were, for messages: `the apply of STAMP` or `the N steps applied from A to B`.
pub fn describe(stamps: &[String]) -> String {
    match stamps {
        [] => "nothing".into(),
        [one] => format!("the apply of {one}"),
        many => format!(
            "the {} steps applied from {} to {}",
            many.len(),
            many[0],
            many[many.len() - 1]
        ),
    }
}

/// Undo the newest session (or `opts.session`) as one transaction.
///
/// Errors: files edited since (without `force`), a missing backup, the lock, and as
/// [`apply`].
pub fn rollback(root: &Root, opts: &RollbackOptions) -> Result<RolledBack> {
    let mut txn = Txn::begin(root, opts.now)?;
    let recovered = txn.recovered.take();
    let runs = runs(txn.fence(), opts.session.as_deref())?;
    if runs.is_empty() {
        return Ok(RolledBack {
            recovered,
            ..RolledBack::default()
        });
    }
    let txid = RunRecord::free_stamp(txn.fence(), &record::utc_stamp(opts.now))?;
    let rb = rollback::build(txn.fence(), &runs, &txid, opts.force)?;
    if !rb.edited.is_empty() && !opts.force {
        return Err(rollback::edited_error(&rb.edited, &describe(&rb.stamps)));
    }
    let services: Vec<ServiceAction> = restart_actions(&rb.services);
    let outcome = txn.run(
        rb.ops,
        RunOptions {
            what: format!("rollback of {}", describe(&rb.stamps)),
            now: opts.now,
            session: None,
            kind: Kind::Rollback,
            services: if opts.restart { services } else { Vec::new() },
            restart: Restart::Now,
            rolled_back: rb.stamps.clone(),
            keys_retired: rb.retired,
            validate: false,
            txid: Some(txid),
        },
    )?;
    Ok(RolledBack {
        stamps: rb.stamps,
        lines: rb.lines,
        services: outcome.services,
        recovered,
    })
}

/// What [`fn@rollback`] would do, computed without the lock and without writing anything
/// (`--dry-run`). Errors: files edited since (without `force`), and reading errors.
pub fn rollback_preview(root: &Root, force: bool) -> Result<RolledBack> {
    let fence = fence::Fence::new(root)?;
    let runs = runs(&fence, None)?;
    if runs.is_empty() {
        return Ok(RolledBack::default());
    }
    let txid = RunRecord::free_stamp(&fence, &record::utc_stamp(SystemTime::now()))?;
    let rb = rollback::build(&fence, &runs, &txid, force)?;
    if !rb.edited.is_empty() && !force {
        return Err(rollback::edited_error(&rb.edited, &describe(&rb.stamps)));
    }
    Ok(RolledBack {
        services: restart_actions(&rb.services)
            .iter()
            .map(|a| format!("would {a}"))
            .collect(),
        stamps: rb.stamps,
        lines: rb.lines,
        recovered: None,
    })
}

/// Restart actions for service names (`postfix`, `opendkim`, `opendmarc`), the milters first.
fn restart_actions(names: &[String]) -> Vec<ServiceAction> {
    let mut out: Vec<ServiceAction> = names
        .iter()
        .filter_map(|s| Service::from_name(s))
        .map(|s| ServiceAction::new(s, Verb::Restart, "its files were restored"))
        .collect();
    out.sort_by_key(|a| a.service.start_rank());
    out.dedup();
    out
}

/// Recover an interrupted run, if the journal says there is one: take the lock, undo it (or
/// finish it when it had succeeded). Temporary names a killed run left in the state
/// directory before it wrote its journal are removed too. Ok(None) when there was no run to
/// recover. Does nothing (Ok(None)) when another mailsetup holds the lock: its journal is
/// not abandoned.
///
/// Errors: the journal cannot be read, or the recovery fails.
pub fn recover(root: &Root) -> Result<Option<Recovered>> {
    match pending(root) {
        // not ours to look at (a user's `check` beside root's 0700 state directory): a
        // command that may will recover it
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::PermissionDenied => {
            return Ok(None);
        }
        Err(e) => return Err(e),
        Ok(None) if !state::has_leftovers(&fence::Fence::new(root)?) => return Ok(None),
        Ok(_) => {}
    }
    match Txn::begin(root, SystemTime::now()) {
        Ok(mut txn) => Ok(txn.recovered.take()),
        Err(Error::Locked { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Write one of mailsetup's own files beneath the root (the saved answers, the saved
/// records): not configuration, so no diff and no backup, but the same transaction (fenced,
/// staged, journaled, whole or not at all). A new file gets root and `mode`, in a directory
/// created 0700 root; an existing one keeps its owner and mode.
///
/// Errors: the lock, a link on the way or at the file, a hard-linked file, I/O.
pub fn save(root: &Root, system: &std::path::Path, bytes: &[u8], mode: u32) -> Result<()> {
    let now = SystemTime::now();
    let txn = Txn::begin(root, now)?;
    let existing = txn.fence().read(system)?;
    let mut ops = Vec::new();
    if let Some(dir) = system.parent()
        && txn.fence().stat(dir)?.is_none()
    {
        ops.push(op::Op::Dir {
            path: dir.to_path_buf(),
            meta: state::PRIVATE_DIR,
        });
    }
    ops.push(op::Op::Put(op::Put {
        path: system.to_path_buf(),
        bytes: zeroize::Zeroizing::new(bytes.to_vec()),
        meta: match existing {
            Some(_) => None,
            None => Some(crate::host::system::Meta {
                uid: 0,
                gid: 0,
                mode,
            }),
        },
        expect: match &existing {
            Some((b, _)) => op::Expect::Sha256(record::sha256(b)),
            None => op::Expect::Absent,
        },
        key: false,
        backup: false,
    }));
    txn.run(
        ops,
        RunOptions {
            what: format!("save {}", system.display()),
            now,
            session: None,
            kind: Kind::Own,
            services: Vec::new(),
            restart: Restart::Defer,
            rolled_back: Vec::new(),
            keys_retired: Vec::new(),
            validate: false,
            txid: None,
        },
    )
    .map(|_| ())
}

/// How many applied runs of `session` are recorded (the steps a wizard run applied).
/// Errors: a record that cannot be read.
pub fn session_runs(root: &Root, session: &str) -> Result<usize> {
    Ok(RunRecord::of_session(&fence::Fence::new(root)?, session)?.len())
}

/// Keys a rollback retired for `domain`'s `selector` key, newest first: what a later apply
/// offers to bring back. Errors: a link on the way.
pub fn retired_keys(root: &Root, key: &std::path::Path) -> Result<Vec<PathBuf>> {
    let fence = fence::Fence::new(root)?;
    let base = std::path::Path::new(crate::host::system::STATE_DIR).join("retired-keys");
    let Some(dir) = fence.dir(&base)? else {
        return Ok(Vec::new());
    };
    let mut stamps: Vec<String> = dir
        .entries()?
        .into_iter()
        .filter(|(_, st)| st.kind == fence::Kind::Dir)
        .map(|(n, _)| n.to_string_lossy().into_owned())
        .collect();
    stamps.sort();
    let mut out = Vec::new();
    for stamp in stamps.iter().rev() {
        let path = rollback::retired_path(stamp, key);
        if fence
            .stat(&path)?
            .is_some_and(|s| s.kind == fence::Kind::File)
        {
            out.push(path);
        }
    }
    Ok(out)
}
