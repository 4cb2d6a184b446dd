//! Apply: the only writer. Carries out a [`Plan`] as one transaction: lock, check every target,
//! validate the staged files with the real tools, write the run record, then directories, files
//! (hard-link backup, temp file with final owner and mode, fsync, rename, fsync of the directory),
//! keys, permissions, groups, and finally the services. Any failure undoes what was done so far
//! (see [`undo`]) and restarts the services again.

pub mod fsops;
pub mod lock;
pub mod record;
mod undo;
pub(crate) mod validate;

use std::path::Path;
use std::time::SystemTime;

pub use record::{RunRecord, Status};
pub use undo::{hand_edited, restart, undo};

use crate::accounts::{self, Accounts};
use crate::error::{Error, Result};
use crate::keys::PrivateKey;
use crate::plan::{Owner, Perms, Plan};
use crate::records::render::txt_strings;
use crate::records::{dkim_name, dkim_value};
use crate::services::{self, command};
use crate::system::{Meta, Root, STATE_DIR};

/// What an apply did, for the summary.
#[derive(Debug)]
pub struct Receipt {
    pub record: RunRecord,
    /// One line per service action (done, or what would be done beneath a test root).
    pub services: Vec<String>,
    /// Actions reported but not performed beneath a test root.
    pub reported: Vec<String>,
}

/// Carry out the plan beneath `root`. `now` names the backups and the run record.
///
/// Errors: the lock is held, a target is a symlink or hard-linked or changed since the plan, the
/// staged files fail validation (nothing written in all these cases), or an I/O or service failure
/// (what was done is undone first).
pub fn apply(root: &Root, plan: &Plan, accounts: &Accounts, now: SystemTime) -> Result<Receipt> {
    apply_in_session(root, plan, accounts, now, None, false)
}

/// [`apply`], recording the run as part of `session` (the wizard's steps, one `apply`):
/// `rollback` then undoes the whole session. With `defer_services`, the plan's service
/// actions are recorded (rollback restarts them) but not performed: the caller restarts once
/// when every step is written (a step alone may leave OpenDKIM naming tables that the next
/// step creates).
pub fn apply_in_session(
    root: &Root,
    plan: &Plan,
    accounts: &Accounts,
    now: SystemTime,
    session: Option<&str>,
    defer_services: bool,
) -> Result<Receipt> {
    // Checked before the lock too, so that a refused run leaves no trace at all.
    preflight(root, plan)?;
    let _lock = lock::Lock::take(root)?;
    preflight(root, plan)?;
    let stamp = RunRecord::free_stamp(root, &record::utc_stamp(now));
    let stage = root.path(format!("{STATE_DIR}/stage-{stamp}"));
    fsops::ensure_dir(
        &stage,
        Meta {
            uid: 0,
            gid: 0,
            mode: 0o700,
        },
    )?;
    let validated = validate::staged(root, plan, &stage);
    let _ = std::fs::remove_dir_all(&stage);
    validated?;

    let mut rec = RunRecord::new(&stamp);
    rec.session = session.map(str::to_string);
    rec.save(root)?;
    let mut reported = Vec::new();
    if let Err(e) = write_all(root, plan, accounts, &mut rec, &mut reported) {
        let _ = undo(root, &mut rec, false);
        return Err(e);
    }
    rec.status = Status::Applied;
    rec.services = plan
        .services
        .iter()
        .map(|s| s.service.name().to_string())
        .collect();
    rec.save(root)?;
    if defer_services {
        return Ok(Receipt {
            record: rec,
            services: plan
                .services
                .iter()
                .map(|s| format!("at the end: {s}"))
                .collect(),
            reported,
        });
    }
    let performed = services::perform(root, &plan.services).and_then(|lines| {
        // restarted is not enough: OpenDKIM must answer Postfix on its socket
        crate::local::serving(root)
            .map(|()| lines)
            .map_err(Error::Refused)
    });
    match performed {
        Ok(lines) => Ok(Receipt {
            record: rec,
            services: lines,
            reported,
        }),
        Err(e) => {
            let undone = undo(root, &mut rec, true);
            let how = match undone {
                Ok(_) => "every change was rolled back and the services restarted".to_string(),
                Err(u) => format!("rolling back also failed: {u}"),
            };
            Err(Error::Refused(format!("{e}\n  {how}")))
        }
    }
}

/// Nothing is written unless every target can be replaced safely and still holds what the plan saw.
fn preflight(root: &Root, plan: &Plan) -> Result<()> {
    for f in &plan.files {
        let real = root.path(&f.path);
        fsops::check_target(&real)?;
        let now = match std::fs::read(&real) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io("read", real, e)),
        };
        if now.as_deref() != f.before.as_deref().map(str::as_bytes) {
            return Err(Error::ChangedSincePlan { path: real });
        }
    }
    for k in &plan.keys {
        fsops::check_target(&root.path(&k.path))?;
    }
    Ok(())
}

fn resolve(accounts: &Accounts, owner: Owner, mode: u32) -> Result<Meta> {
    let uid = match owner.user {
        "root" => 0,
        u => accounts.user(u).map(|u| u.uid).ok_or(Error::MissingUser {
            user: owner.user,
            package: owner.user,
        })?,
    };
    let gid = match owner.group {
        "root" => 0,
        g => accounts.group(g).map(|g| g.gid).ok_or(Error::MissingUser {
            user: owner.group,
            package: owner.group,
        })?,
    };
    Ok(Meta { uid, gid, mode })
}

fn write_all(
    root: &Root,
    plan: &Plan,
    accounts: &Accounts,
    rec: &mut RunRecord,
    reported: &mut Vec<String>,
) -> Result<()> {
    for d in &plan.dirs {
        let real = root.path(&d.path);
        let meta = resolve(accounts, d.owner, d.mode)?;
        if let Ok(md) = std::fs::symlink_metadata(&real) {
            rec.metas_changed.push(record::MetaEntry {
                path: real.clone(),
                before: Meta::of(&md).into(),
            });
        }
        rec.save(root)?;
        let created = fsops::ensure_dir(&real, meta)?;
        rec.dirs_created.extend(created);
    }
    for f in &plan.files {
        let real = root.path(&f.path);
        let meta = match f.perms {
            Perms::Keep => {
                Meta::of(&std::fs::metadata(&real).map_err(|e| Error::io("inspect", &real, e))?)
            }
            Perms::New(owner, mode) => resolve(accounts, owner, mode)?,
        };
        if let Some(parent) = real.parent().filter(|p| !p.exists()) {
            rec.dirs_created.extend(fsops::ensure_dir(
                parent,
                Meta {
                    uid: 0,
                    gid: 0,
                    mode: 0o755,
                },
            )?);
        }
        let tmp = fsops::stage(&real, &f.after, meta)?;
        let backup = f
            .before
            .as_ref()
            .map(|_| fsops::backup_name(&real, &rec.stamp));
        rec.files.push(record::FileEntry {
            path: real.clone(),
            backup: backup.clone(),
            sha256: record::sha256(f.after.as_bytes()),
        });
        rec.save(root)?;
        if let Some(b) = &backup {
            fsops::backup(&real, b)?;
        }
        fsops::commit(&tmp, &real)?;
    }
    for k in &plan.keys {
        let real = root.path(&k.path);
        let key = PrivateKey::generate(k.bits).map_err(|reason| Error::Key {
            path: real.clone(),
            reason,
            fix: "run mailsetup again".into(),
        })?;
        rec.keys_created.push(real.clone());
        let txt = real.with_extension("txt");
        let txt_exists = txt.exists();
        if !txt_exists {
            rec.keys_created.push(txt.clone());
        }
        rec.save(root)?;
        fsops::create_secret(&real, key.pem(), resolve(accounts, Owner::OPENDKIM, 0o600)?)?;
        if !txt_exists {
            let line = format!(
                "{}\tIN\tTXT\t{}  ; DKIM key {} for {}\n",
                dkim_name(&k.selector),
                txt_strings(&dkim_value(&key.public().p)),
                k.selector,
                k.domain
            );
            let tmp = fsops::stage(
                &txt,
                &line,
                Meta {
                    uid: 0,
                    gid: 0,
                    mode: 0o644,
                },
            )?;
            fsops::commit(&tmp, &txt)?;
        }
    }
    for p in &plan.perms {
        let real = root.path(&p.path);
        let md = std::fs::symlink_metadata(&real).map_err(|e| Error::io("inspect", &real, e))?;
        rec.metas_changed.push(record::MetaEntry {
            path: real.clone(),
            before: Meta::of(&md).into(),
        });
        rec.save(root)?;
        fsops::set_file_meta(&real, resolve(accounts, p.owner, p.mode)?)?;
    }
    for g in &plan.groups {
        rec.group_added = Some((g.user.into(), g.group.into()));
        rec.save(root)?;
        if root.is_host() {
            let mut c = command("/usr/bin/gpasswd");
            c.args(["-a", g.user, g.group]);
            services::run(c)?;
        } else {
            edit_tree_group(root, g.user, g.group, true)?;
            reported.push(format!(
                "would add user {} to group {} (done in the tree's /etc/group only)",
                g.user, g.group
            ));
        }
    }
    Ok(())
}

/// Beneath a test root, group membership lives in the tree's own `/etc/group`.
pub(crate) fn edit_tree_group(root: &Root, user: &str, group: &str, add: bool) -> Result<()> {
    let path = root.path("/etc/group");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
    let new = if add {
        accounts::add_member(&text, group, user)
    } else {
        accounts::remove_member(&text, group, user)
    };
    if let Some(new) = new {
        let meta = Meta::of(&std::fs::metadata(&path).map_err(|e| Error::io("inspect", &path, e))?);
        let tmp = fsops::stage(&path, &new, meta)?;
        fsops::commit(&tmp, &path)?;
    }
    Ok(())
}

/// Is `path` inside the root? Used to keep undo from touching anything outside the tree.
pub(crate) fn within(root: &Root, path: &Path) -> bool {
    path.starts_with(root.dir())
}
