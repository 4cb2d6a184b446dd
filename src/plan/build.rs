//! Building the plan from the settings and the current state. Pure: the same inputs give the same
//! plan, and building again on the applied result gives an empty plan.

use std::path::{Path, PathBuf};

use super::current::Current;
use super::{
    DirChange, FileChange, GroupChange, KeyCreation, Owner, Part, PermChange, Perms, Plan,
    RotationNeeded,
};
use super::{KEY_DIR_MODE, KEY_DIR_OWNER, KEY_MODE, KEY_OWNER};
use super::{Service, ServiceAction, Verb};
use super::{
    ed25519_files, opendkim_files, opendmarc_files, postfix_files, spf_policy_files, tls_files,
};
use crate::error::{Error, Result};
use crate::keys::KeyKind;
use crate::paths::{self as system, FileState};
use crate::settings::Settings;
use crate::values::{MilterSocket, Signer};

/// Compute the plan: every [`Part`].
///
/// Errors: a managed file that must exist is missing (Postfix or OpenDKIM not installed or not
/// configured), a table entry that conflicts with an operator's entry, a system user that is missing.
pub fn build(settings: &Settings, cur: &Current) -> Result<Plan> {
    build_parts(settings, cur, Part::ALL)
}

/// The plan of some parts only (the wizard's steps, one at a time). Applying the plans of
/// every part one after another, each built on the state the previous one left, ends where
/// [`build`]'s plan does. Errors: as [`build`].
pub fn build_parts(settings: &Settings, cur: &Current, parts: &[Part]) -> Result<Plan> {
    let mut plan = Plan::default();
    let amavis_signs = settings.signer == Signer::AmavisdNew;
    // amavisd-new signs: OpenDKIM is not wired in, so its parts plan nothing (the Milter
    // part only takes OpenDKIM out of main.cf)
    let has = |p: Part| {
        parts.contains(&p)
            && !(amavis_signs && matches!(p, Part::Opendkim | Part::Tables | Part::Keys))
    };
    // inbound DMARC off: its part plans nothing (what an operator set up stays). With
    // amavisd-new as the signer it is not wired either: OpenDMARC follows OpenDKIM in
    // smtpd_milters, and there is no OpenDKIM entry to follow
    let dmarc = has(Part::InboundDmarc) && settings.inbound_dmarc && !amavis_signs;
    if has(Part::InboundDmarc) && settings.inbound_dmarc && amavis_signs {
        plan.notes.push(
            "inbound_dmarc with signer = \"amavisd-new\": mailsetup wires OpenDMARC after \
             OpenDKIM only, so it changes nothing here; add OpenDMARC to smtpd_milters by hand"
                .into(),
        );
    }
    if !amavis_signs {
        require_users(settings, cur, dmarc)?;
    }
    if has(Part::Signer) {
        signer(settings, cur, &mut plan);
    }

    let (identity, milter) = (has(Part::Identity), has(Part::Milter));
    if identity || milter || dmarc {
        let (main_cf, notes) = if amavis_signs {
            postfix_files::edit_main_cf_unwired(cur, identity.then_some(settings), milter)?
        } else {
            postfix_files::edit_main_cf(settings, cur, identity, milter, dmarc)?
        };
        let postfix_restart = main_cf
            .as_ref()
            .is_some_and(|c| postfix_files::needs_restart(&cur.main_cf, &c.after));
        if milter
            && settings.ed25519.is_none()
            && let Some(c) = &main_cf
            && postfix_files::names_ed25519(settings, c.before.as_deref())
            && !postfix_files::names_ed25519(settings, Some(&c.after))
        {
            plan.services.push(ServiceAction::new(
                Service::OpendkimEd25519,
                Verb::Stop,
                "algorithms leaves ed25519-sha256 out: the second OpenDKIM instance is taken \
                 out of Postfix's milters",
            ));
        }
        plan.files.extend(main_cf);
        plan.notes.extend(notes);
        plan.notes.extend(postfix_files::master_cf_notes(cur));
        if postfix_restart {
            plan.services.push(ServiceAction::new(
                Service::Postfix,
                Verb::Restart,
                "inet_protocols changed, which a reload ignores",
            ));
        }
    }
    if has(Part::InboundSpf) && settings.inbound_spf {
        spf_policy_files::plan(cur, &mut plan)?;
    }
    let tls_key = if has(Part::Tls) {
        tls_files::plan(settings, cur, &mut plan)?
    } else {
        None
    };
    if !amavis_signs {
        dirs(settings, cur, parts, &mut plan);
    }
    if has(Part::Opendkim) {
        plan.files
            .extend(opendkim_files::edit_opendkim_conf(settings, cur)?);
        plan.files
            .extend(opendkim_files::edit_default_file(settings, cur)?);
        if settings.ed25519.is_some() {
            plan.files.extend(ed25519_files::edit_conf(settings, cur)?);
            plan.files.extend(ed25519_files::unit(cur));
        }
    }
    let rotating = rotations(settings, cur);
    if has(Part::Tables) {
        plan.files
            .extend(opendkim_files::edit_tables(settings, cur, &rotating)?);
        if let Some(ed) = &settings.ed25519 {
            plan.files
                .extend(ed25519_files::edit_tables(settings, cur, ed)?);
        }
    }
    if has(Part::Keys) {
        keys(settings, cur, &rotating, &mut plan)?;
        plan.rotations = rotating;
    }
    if dmarc {
        plan.files
            .extend(opendmarc_files::edit_opendmarc_conf(settings, cur)?);
        plan.files.extend(opendmarc_files::edit_default_file(cur)?);
        if !cur.accounts.in_group("postfix", "opendmarc") {
            plan.groups.push(GroupChange {
                user: "postfix",
                group: "opendmarc",
                why: "Postfix must open the OpenDMARC socket, which is srwxrwx--- \
                      opendmarc:opendmarc"
                    .into(),
            });
        }
    }
    if milter
        && !amavis_signs
        && settings.socket == MilterSocket::Local
        && !cur.accounts.in_group("postfix", "opendkim")
    {
        plan.groups.push(GroupChange {
            user: "postfix",
            group: "opendkim",
            why: "Postfix must open the OpenDKIM socket, which is srwxrwx--- opendkim:opendkim"
                .into(),
        });
    }
    services(&mut plan, cur);
    if let Some(perm) = tls_key {
        plan.perms.push(perm);
        if !plan.services.iter().any(|s| s.service == Service::Postfix) {
            plan.services.push(ServiceAction::new(
                Service::Postfix,
                Verb::Reload,
                "its configuration or groups changed",
            ));
        }
    }
    Ok(plan)
}

/// The Signer part: with `signer = "opendkim"`, every conf.d line that turns amavisd-new's
/// signing on is set to `$enable_dkim_signing = 0;` ([`crate::amavis::turn_signing_off`],
/// owner and mode kept), when amavisd-new signs now; with `signer = "amavisd-new"` nothing
/// changes here, and a note says so when amavisd-new does not sign (or declares no key for
/// a signing domain): its configuration is the operator's (amavisd-new's README.dkim).
fn signer(settings: &Settings, cur: &Current, plan: &mut Plan) {
    let amavis = &cur.amavis;
    match settings.signer {
        Signer::Opendkim => {
            if !amavis.signs() {
                return;
            }
            for file in &amavis.conf {
                let Some(text) = file.text.as_deref() else {
                    continue;
                };
                plan.files.extend(change(
                    file,
                    crate::amavis::turn_signing_off(text),
                    Perms::Keep,
                    "OpenDKIM signs (answers signer = \"opendkim\"): amavisd-new's DKIM \
                     signing is turned off, so that every message carries one signature",
                ));
            }
        }
        Signer::AmavisdNew => {
            if !amavis.installed() {
                plan.notes.push(
                    "signer = \"amavisd-new\", but amavisd-new is not installed (no \
                     /etc/amavis/conf.d): nothing signs outgoing mail"
                        .into(),
                );
            } else if !amavis.signs() {
                plan.notes.push(
                    "signer = \"amavisd-new\", but its configuration does not turn signing on: \
                     set $enable_dkim_signing = 1; and a dkim_key(...) per domain in \
                     /etc/amavis/conf.d/50-user (amavisd-new's README.dkim)"
                        .into(),
                );
            }
            for d in settings
                .domains
                .iter()
                .filter(|d| !amavis.keys.contains_key(*d))
            {
                plan.notes.push(format!(
                    "amavisd-new declares no key for {d}: add dkim_key('{d}', 'SELECTOR', \
                     '/var/lib/amavis/dkim/{d}.pem'); (amavisd genrsa makes the key)"
                ));
            }
        }
    }
}

fn require_users(settings: &Settings, cur: &Current, dmarc: bool) -> Result<()> {
    if dmarc && cur.accounts.user("opendmarc").is_none() {
        return Err(Error::MissingUser {
            user: "opendmarc",
            package: "opendmarc",
        });
    }
    if cur.accounts.user("opendkim").is_none() {
        return Err(Error::MissingUser {
            user: "opendkim",
            package: "opendkim",
        });
    }
    if settings.socket == MilterSocket::Local && cur.accounts.user("postfix").is_none() {
        return Err(Error::MissingUser {
            user: "postfix",
            package: "postfix",
        });
    }
    Ok(())
}

pub(super) fn existing<'a>(file: &'a FileState, package: &str) -> Result<&'a str> {
    file.text.as_deref().ok_or_else(|| Error::Invalid {
        what: file.path.display().to_string(),
        reason: format!("the file does not exist; is {package} installed and configured? (apt-get install {package})"),
    })
}

/// A file change when `after` differs from the file's text.
pub(super) fn change(
    file: &FileState,
    after: String,
    perms: Perms,
    why: &str,
) -> Option<FileChange> {
    (file.text.as_deref() != Some(after.as_str())).then(|| FileChange {
        path: file.path.clone(),
        before: file.text.clone(),
        after,
        perms: if file.text.is_some() {
            Perms::Keep
        } else {
            perms
        },
        why: why.into(),
    })
}

/// Why `/etc/opendkim` (owner and mode `m`) keeps OpenDKIM from its tables and keys, if it
/// does: OpenDKIM must be able to pass through it (others, or its group, may search it), and
/// its key walk refuses a directory above a key that someone other than root may write
/// (postfix-opendkim.md §2.5, `dkimf_securefile`). An operator's 0750 root:opendkim is fine.
fn opendkim_dir_drift(cur: &Current, m: crate::host::system::Meta) -> Option<String> {
    let opendkim_in_group = cur.accounts.groups.iter().any(|(name, g)| {
        g.gid == m.gid
            && (g.members.iter().any(|u| u == "opendkim")
                || cur.accounts.in_group("opendkim", name))
    });
    let passable = m.mode & 0o001 != 0 || (m.mode & 0o010 != 0 && opendkim_in_group);
    let found = format!("found uid {} gid {} mode {:04o}", m.uid, m.gid, m.mode);
    if m.uid != 0 || m.mode & 0o022 != 0 {
        Some(format!(
            "someone other than root may write it, and OpenDKIM refuses keys beneath such a \
             directory ({found})"
        ))
    } else if !passable {
        Some(format!(
            "OpenDKIM cannot pass through it to its tables and keys ({found})"
        ))
    } else {
        None
    }
}

/// The directories and their owner/mode. Keys: directories root:opendkim 0750 so that OpenDKIM's
/// key-permission walk passes and the opendkim user cannot plant links (reliability.md G3.3).
/// Socket: opendkim:opendkim 0750 inside Postfix's chroot (postfix-opendkim.md §2.2).
/// `/etc/opendkim`: created 0755 root, and set so again when OpenDKIM could not use it
/// ([`opendkim_dir_drift`]); an operator's other safe choice stays.
fn dirs(settings: &Settings, cur: &Current, parts: &[Part], plan: &mut Plan) {
    let mut want: Vec<(PathBuf, Owner, u32, bool, String)> = Vec::new();
    let keys_here = cur
        .keys
        .values()
        .chain(cur.ed_keys.values())
        .any(|k| k.path.starts_with(system::KEYS_DIR));
    if parts.contains(&Part::Tables) || (parts.contains(&Part::Keys) && keys_here) {
        let now = cur
            .dirs
            .get(Path::new(system::OPENDKIM_DIR))
            .copied()
            .flatten();
        let drift = now.and_then(|m| opendkim_dir_drift(cur, m));
        want.push((
            system::OPENDKIM_DIR.into(),
            Owner::ROOT,
            0o755,
            drift.is_some(),
            drift.unwrap_or_else(|| "holds the OpenDKIM tables".into()),
        ));
    }
    let key_dirs: Vec<PathBuf> = cur
        .keys
        .values()
        .chain(cur.ed_keys.values())
        .filter_map(|k| k.path.parent().map(Path::to_path_buf))
        .collect();
    let keys = parts.contains(&Part::Keys);
    if keys && key_dirs.iter().any(|d| d.starts_with(system::KEYS_DIR)) {
        want.push((
            system::KEYS_DIR.into(),
            KEY_DIR_OWNER,
            KEY_DIR_MODE,
            true,
            "private keys: readable by OpenDKIM only".into(),
        ));
    }
    for d in key_dirs
        .iter()
        .filter(|d| keys && d.starts_with(system::KEYS_DIR))
    {
        if !want.iter().any(|w| &w.0 == d) {
            want.push((
                d.clone(),
                KEY_DIR_OWNER,
                KEY_DIR_MODE,
                true,
                "private keys: readable by OpenDKIM only".into(),
            ));
        }
    }
    if parts.contains(&Part::Tables) && settings.ed25519.is_some() {
        want.push((
            system::ED25519_DIR.into(),
            Owner::ROOT,
            0o755,
            false,
            "holds the Ed25519 instance's tables".into(),
        ));
    }
    if parts.contains(&Part::Opendkim) && settings.socket == MilterSocket::Local {
        want.push((
            system::SOCKET_DIR.into(),
            Owner::OPENDKIM,
            0o750,
            true,
            "the OpenDKIM socket, inside Postfix's chroot".into(),
        ));
    }
    if parts.contains(&Part::InboundDmarc) && settings.inbound_dmarc {
        want.push((
            system::OPENDMARC_SOCKET_DIR.into(),
            Owner::OPENDMARC,
            0o750,
            true,
            "the OpenDMARC socket, inside Postfix's chroot".into(),
        ));
    }
    for (path, owner, mode, enforce, why) in want {
        let now = cur.dirs.get(&path).copied().flatten();
        let fix = match now {
            None => true,
            Some(m) => enforce && (m.mode != mode || !owner_matches(cur, owner, m.uid, m.gid)),
        };
        if fix {
            plan.dirs.push(DirChange {
                path,
                owner,
                mode,
                exists: now.is_some(),
                why,
            });
        }
    }
}

fn owner_matches(cur: &Current, owner: Owner, uid: u32, gid: u32) -> bool {
    let u = if owner.user == "root" {
        Some(0)
    } else {
        cur.accounts.user(owner.user).map(|u| u.uid)
    };
    let g = if owner.group == "root" {
        Some(0)
    } else {
        cur.accounts.group(owner.group).map(|g| g.gid)
    };
    u == Some(uid) && g == Some(gid)
}

/// The domains whose key changes by a rotation ([`crate::rotate::reason`]): the
/// SigningTable signs with another selector than the answers', or with a key of another size
/// than `key_bits`. Their tables and keys are left as they are.
pub(super) fn rotations(settings: &Settings, cur: &Current) -> Vec<RotationNeeded> {
    settings
        .domains
        .iter()
        .filter_map(|d| {
            let (selector, bits) = cur.signing.get(d)?;
            crate::rotate::reason(
                &settings.selector,
                settings.key_bits.bits(),
                selector,
                *bits,
            )
            .map(|why| RotationNeeded {
                domain: d.clone(),
                why,
            })
        })
        .collect()
}

/// New keys where none exists; an existing key is reused and never overwritten, but its owner and
/// mode are corrected when OpenDKIM would refuse it (postfix-opendkim.md §2.5). A domain that
/// needs a rotation is left to `mailsetup rotate`.
fn keys(
    settings: &Settings,
    cur: &Current,
    rotating: &[RotationNeeded],
    plan: &mut Plan,
) -> Result<()> {
    for domain in &settings.domains {
        if let Some(key) = cur
            .keys
            .get(domain)
            .filter(|_| !rotating.iter().any(|r| &r.domain == domain))
        {
            let rsa = KeyKind::Rsa(settings.key_bits);
            key_state(cur, domain, &settings.selector, key, rsa, plan)?;
            if let Some(p) = key.public.as_ref().filter(|p| p.bits != rsa.bits()) {
                plan.notes.push(format!(
                    "the key for {domain} ({}) has {} bits, but key_bits asks for {}: mailsetup \
                     never replaces a key that exists, since the record published for it would \
                     stop verifying mail; a key of another size needs a new selector and key",
                    key.path.display(),
                    p.bits,
                    rsa.bits()
                ));
            }
        }
        // the Ed25519 key is its own: an RSA rotation leaves it alone
        if let (Some(selector), Some(key)) = (&settings.ed25519, cur.ed_keys.get(domain)) {
            key_state(cur, domain, selector, key, KeyKind::Ed25519, plan)?;
        }
    }
    Ok(())
}

/// One key of `domain`: created (or brought back) when missing, its owner and mode corrected
/// when OpenDKIM would refuse it. Errors: this user may not look at it.
fn key_state(
    cur: &Current,
    domain: &crate::values::Domain,
    selector: &crate::values::Selector,
    key: &super::current::KeyState,
    kind: KeyKind,
    plan: &mut Plan,
) -> Result<()> {
    if key.denied {
        return Err(Error::Invalid {
            what: key.path.display().to_string(),
            reason: "this user may not look at it (its directory is readable by root and \
                         OpenDKIM only), so nothing can be planned for it: run mailsetup as \
                         root (sudo)"
                .into(),
        });
    }
    match key.meta {
        None => plan.keys.push(KeyCreation {
            domain: domain.clone(),
            selector: selector.clone(),
            path: key.path.clone(),
            kind,
            restore_from: key.retired.clone(),
        }),
        Some(m) if m.mode != KEY_MODE || !owner_matches(cur, KEY_OWNER, m.uid, m.gid) => {
            plan.perms.push(PermChange {
                path: key.path.clone(),
                owner: KEY_OWNER,
                mode: KEY_MODE,
                why: format!(
                    "OpenDKIM refuses a key that is not its own with mode 0600 (found {:04o})",
                    m.mode
                ),
            });
        }
        Some(_) => {}
    }
    Ok(())
}

/// What each change needs: inet_protocols/inet_interfaces → Postfix stop and start (already
/// planned by then); other Postfix changes → reload; any OpenDKIM change → restart (a reload
/// with a bad config is only logged); a change to the second (Ed25519) instance's files or
/// keys → restart it (and not the first); any OpenDMARC change → restart OpenDMARC.
fn services(plan: &mut Plan, cur: &Current) {
    let postfix_restart = plan.services.iter().any(|s| s.service == Service::Postfix);
    let (planned, stops): (Vec<_>, Vec<_>) = std::mem::take(&mut plan.services)
        .into_iter()
        .partition(|s| s.service == Service::Postfix);
    let postfix_files = plan
        .files
        .iter()
        .any(|f| f.path.starts_with("/etc/postfix"));
    let amavis = plan
        .files
        .iter()
        .any(|f| f.path.starts_with(crate::amavis::CONF_D));
    let opendmarc_path = |p: &Path| {
        [
            system::OPENDMARC_CONF,
            system::DEFAULT_OPENDMARC,
            system::OPENDMARC_SOCKET_DIR,
        ]
        .iter()
        .any(|d| p == Path::new(d))
    };
    let ed_key = |p: &Path| cur.ed_keys.values().any(|k| k.path == p);
    let ed25519 = plan.files.iter().any(|f| ed25519_files::is_ours(&f.path))
        || plan.keys.iter().any(|k| k.kind == KeyKind::Ed25519)
        || plan.perms.iter().any(|p| ed_key(&p.path))
        || plan.dirs.iter().any(|d| ed25519_files::is_ours(&d.path));
    let opendkim = plan.files.iter().any(|f| {
        !f.path.starts_with("/etc/postfix")
            && !f.path.starts_with(crate::amavis::CONF_D)
            && !opendmarc_path(&f.path)
            && !ed25519_files::is_ours(&f.path)
    }) || plan.keys.iter().any(|k| k.kind != KeyKind::Ed25519)
        || plan.perms.iter().any(|p| !ed_key(&p.path))
        || plan
            .dirs
            .iter()
            .any(|d| !opendmarc_path(&d.path) && !ed25519_files::is_ours(&d.path));
    let opendmarc = plan.files.iter().any(|f| opendmarc_path(&f.path))
        || plan.dirs.iter().any(|d| opendmarc_path(&d.path));
    if opendkim {
        plan.services.push(ServiceAction::new(
            Service::Opendkim,
            Verb::Restart,
            "its configuration, keys or socket changed",
        ));
    }
    if ed25519 {
        plan.services.push(ServiceAction::new(
            Service::OpendkimEd25519,
            Verb::Restart,
            "its configuration, tables or keys changed",
        ));
    }
    plan.services.extend(stops);
    if amavis {
        plan.services.push(ServiceAction::new(
            Service::Amavis,
            Verb::Restart,
            "its DKIM signing was turned off",
        ));
    }
    if opendmarc {
        plan.services.push(ServiceAction::new(
            Service::Opendmarc,
            Verb::Restart,
            "its configuration or socket changed",
        ));
    }
    if postfix_restart {
        plan.services.extend(planned);
    } else if postfix_files || !plan.groups.is_empty() {
        plan.services.push(ServiceAction::new(
            Service::Postfix,
            Verb::Reload,
            "its configuration or groups changed",
        ));
    }
}
