//! A [`Plan`] as the transaction's [`Op`]s: owners resolved to ids, keys generated (or
//! brought back from where a rollback retired them), and, beneath a test root, the group
//! change made in the tree's own `/etc/group` as an ordinary file edit (journaled and backed
//! up like the rest); on the host it is `gpasswd`.

use std::path::PathBuf;

use zeroize::Zeroizing;

use super::fence::Fence;
use super::op::{Expect, Op, Put};
use crate::error::{Error, Result};
use crate::host::accounts::{self, Accounts};
use crate::host::system::Meta;
use crate::keys::PrivateKey;
use crate::plan::{Owner, Perms, Plan};
use crate::records::render::txt_strings;
use crate::records::{dkim_name, dkim_value_k};

/// Owner and mode by name, as ids of `accounts`. Errors: [`Error::MissingUser`].
pub fn resolve(accounts: &Accounts, owner: Owner, mode: u32) -> Result<Meta> {
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

/// The ops of `plan`, and the lines to report for what is not done beneath a test root.
/// Without `keys`, new keys are left empty (for a check of the targets only).
///
/// Errors: an owner that does not exist, a key that cannot be generated or a retired key
/// that cannot be read, a link on the way to /etc/group.
pub fn ops(
    fence: &Fence,
    plan: &Plan,
    accounts: &Accounts,
    keys: bool,
) -> Result<(Vec<Op>, Vec<String>)> {
    let mut ops = Vec::new();
    let mut reported = Vec::new();
    for d in &plan.dirs {
        ops.push(Op::Dir {
            path: d.path.clone(),
            meta: resolve(accounts, d.owner, d.mode)?,
        });
    }
    for f in &plan.files {
        ops.push(Op::Put(Put {
            path: f.path.clone(),
            bytes: Zeroizing::new(f.after.as_bytes().to_vec()),
            meta: match f.perms {
                Perms::Keep => None,
                Perms::New(owner, mode) => Some(resolve(accounts, owner, mode)?),
            },
            expect: Expect::text(f.before.as_deref()),
            key: false,
            backup: true,
        }));
    }
    for k in &plan.keys {
        ops.extend(key_ops(fence, k, accounts, keys)?);
    }
    for p in &plan.perms {
        ops.push(Op::Meta {
            path: p.path.clone(),
            meta: resolve(accounts, p.owner, p.mode)?,
            dir: false,
        });
    }
    let (group_ops, lines) = group_ops(fence, &plan.groups)?;
    ops.extend(group_ops);
    reported.extend(lines);
    Ok((ops, reported))
}

/// The private key (generated, brought back from where a rollback retired it, or, without
/// `keys`, left empty) and its record file `<selector>.txt` beside it.
fn key_ops(
    fence: &Fence,
    k: &crate::plan::KeyCreation,
    accounts: &Accounts,
    keys: bool,
) -> Result<Vec<Op>> {
    let (pem, public) = match &k.restore_from {
        _ if !keys => (
            Zeroizing::new(String::new()),
            crate::keys::PublicKey {
                p: String::new(),
                bits: 0,
            },
        ),
        Some(retired) => retired_key(fence, retired, k.kind)?,
        None => {
            let key = PrivateKey::generate_kind(k.kind).map_err(|reason| Error::Key {
                path: fence.real(&k.path),
                reason,
                fix: "run mailsetup again".into(),
            })?;
            (Zeroizing::new(key.pem().to_string()), key.public().clone())
        }
    };
    let txt: PathBuf = k.path.with_extension("txt");
    let line = format!(
        "{}\tIN\tTXT\t{}  ; DKIM key {} for {}\n",
        dkim_name(&k.selector),
        txt_strings(&dkim_value_k(k.kind.k(), &public.p)),
        k.selector,
        k.domain
    );
    let before = fence.read(&txt)?.map(|(b, _)| b);
    Ok(vec![
        Op::Put(Put {
            path: k.path.clone(),
            bytes: Zeroizing::new(pem.as_bytes().to_vec()),
            meta: Some(resolve(
                accounts,
                crate::plan::KEY_OWNER,
                crate::plan::KEY_MODE,
            )?),
            expect: Expect::Absent,
            key: true,
            backup: false,
        }),
        Op::Put(Put {
            path: txt,
            bytes: Zeroizing::new(line.into_bytes()),
            meta: Some(Meta {
                uid: 0,
                gid: 0,
                mode: 0o644,
            }),
            expect: match before {
                None => Expect::Absent,
                Some(b) => Expect::Sha256(super::record::sha256(&b)),
            },
            key: false,
            backup: true,
        }),
    ])
}

/// A key a rollback retired, read back with its public half. Errors: it is gone or is not
/// a usable key.
fn retired_key(
    fence: &Fence,
    retired: &std::path::Path,
    kind: crate::keys::KeyKind,
) -> Result<(Zeroizing<String>, crate::keys::PublicKey)> {
    let bad = |reason: String| Error::Key {
        path: fence.real(retired),
        reason,
        fix: "move it away and run mailsetup again: a new key is made".into(),
    };
    let (bytes, _) = fence
        .read(retired)?
        .ok_or_else(|| bad("the retired key is gone".into()))?;
    let text = String::from_utf8(bytes).map_err(|_| bad("the retired key is not text".into()))?;
    let public = crate::keys::public_from_pem_kind(kind, &text).map_err(bad)?;
    Ok((Zeroizing::new(text), public))
}

/// Adding `postfix` to groups `opendkim`, `opendmarc`: `gpasswd` on the host; beneath a test
/// root, one edit of the tree's own `/etc/group` for them all (none when each is there
/// already) and a line reporting each.
fn group_ops(fence: &Fence, groups: &[crate::plan::GroupChange]) -> Result<(Vec<Op>, Vec<String>)> {
    if fence.root().is_host() {
        let ops = groups
            .iter()
            .map(|g| Op::Group {
                user: g.user.into(),
                group: g.group.into(),
                add: true,
            })
            .collect();
        return Ok((ops, Vec::new()));
    }
    if groups.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let path = PathBuf::from("/etc/group");
    let bytes = fence.read(&path)?.map(|(b, _)| b).unwrap_or_default();
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    let mut lines = Vec::new();
    for g in groups {
        if let Some(new) = accounts::add_member(&text, g.group, g.user) {
            text = new;
            lines.push(format!(
                "would add user {} to group {} (done in the tree's /etc/group only)",
                g.user, g.group
            ));
        }
    }
    if lines.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let op = Op::Put(Put {
        path,
        bytes: Zeroizing::new(text.into_bytes()),
        meta: None,
        expect: Expect::Sha256(super::record::sha256(&bytes)),
        key: false,
        backup: true,
    });
    Ok((vec![op], lines))
}
