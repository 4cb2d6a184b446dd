//! Building the plan from the settings and the current state. Pure: the same inputs give the same
//! plan, and building again on the applied result gives an empty plan.

use std::path::{Path, PathBuf};

use super::current::Current;
use super::{DirChange, FileChange, GroupChange, KeyCreation, Owner, PermChange, Perms, Plan};
use crate::error::{Error, Result};
use crate::milter;
use crate::opendkim::{DefaultFile, Ensure, KeyTable, OpendkimConf, SigningTable, TrustedHosts};
use crate::postfix::{MainCf, split_list};
use crate::services::{Service, ServiceAction, Verb};
use crate::settings::Settings;
use crate::system::{self, FileState};
use crate::values::MilterSocket;

const OPENDKIM_BLOCK: &str = include_str!("../../templates/opendkim-block.txt");
const KEY_TABLE_HEADER: &str = include_str!("../../templates/key-table-header.txt");
const SIGNING_TABLE_HEADER: &str = include_str!("../../templates/signing-table-header.txt");
const TRUSTED_HOSTS_HEADER: &str = include_str!("../../templates/trusted-hosts-header.txt");

/// Compute the plan.
///
/// Errors: a managed file that must exist is missing (Postfix or OpenDKIM not installed or not
/// configured), a table entry that conflicts with an operator's entry, a system user that is missing.
pub fn build(settings: &Settings, cur: &Current) -> Result<Plan> {
    let mut plan = Plan::default();
    require_users(settings, cur)?;

    let main_cf = edit_main_cf(settings, cur)?;
    let postfix_restart = main_cf
        .as_ref()
        .is_some_and(|c| needs_restart(&cur.main_cf, &c.after));
    plan.files.extend(main_cf);
    plan.notes.extend(master_cf_notes(cur));

    dirs(settings, cur, &mut plan);
    plan.files.extend(edit_opendkim_conf(settings, cur)?);
    plan.files.extend(edit_default_file(settings, cur)?);
    plan.files.extend(edit_tables(settings, cur)?);
    keys(settings, cur, &mut plan);

    if settings.socket == MilterSocket::Local && !cur.accounts.in_group("postfix", "opendkim") {
        plan.groups.push(GroupChange {
            user: "postfix",
            group: "opendkim",
            why: "Postfix must open the OpenDKIM socket, which is srwxrwx--- opendkim:opendkim"
                .into(),
        });
    }
    services(&mut plan, postfix_restart);
    Ok(plan)
}

fn require_users(settings: &Settings, cur: &Current) -> Result<()> {
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

fn existing<'a>(file: &'a FileState, package: &str) -> Result<&'a str> {
    file.text.as_deref().ok_or_else(|| Error::Invalid {
        what: file.path.display().to_string(),
        reason: format!("the file does not exist; is {package} installed and configured? (apt-get install {package})"),
    })
}

/// A file change when `after` differs from the file's text.
fn change(file: &FileState, after: String, perms: Perms, why: &str) -> Option<FileChange> {
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

fn edit_err(file: &Path) -> impl Fn(crate::postfix::EditError) -> Error + '_ {
    move |e| Error::Invalid {
        what: file.display().to_string(),
        reason: e.to_string(),
    }
}

fn odk_err(file: &Path) -> impl Fn(crate::opendkim::EditError) -> Error + '_ {
    move |e| Error::Invalid {
        what: file.display().to_string(),
        reason: e.to_string(),
    }
}

/// main.cf: myhostname, inet_protocols, OpenDKIM in smtpd_milters and non_smtpd_milters (other
/// milters kept), milter_default_action = accept, milter_protocol = 6 (postconf(5)).
fn edit_main_cf(settings: &Settings, cur: &Current) -> Result<Option<FileChange>> {
    let text = existing(&cur.main_cf, "postfix")?;
    let mut cf = MainCf::parse(text);
    let err = edit_err(&cur.main_cf.path);
    let ours = milter::postfix_milter(settings.socket);
    let odk_socket = cur
        .opendkim_conf
        .text
        .as_deref()
        .and_then(|t| OpendkimConf::parse(t).get("Socket").map(str::to_string));
    let smtpd = with_milter(
        cf.get("smtpd_milters").as_deref(),
        &ours,
        odk_socket.as_deref(),
    );
    cf.set("myhostname", settings.hostname.as_str())
        .map_err(&err)?;
    cf.set("inet_protocols", settings.inet_protocols.as_str())
        .map_err(&err)?;
    cf.set("smtpd_milters", &smtpd).map_err(&err)?;
    let non_smtpd = cf.get("non_smtpd_milters");
    // `$smtpd_milters` already carries OpenDKIM now: keep the operator's reference.
    if !non_smtpd
        .as_deref()
        .is_some_and(|v| refers_to(v, "smtpd_milters"))
    {
        let v = with_milter(non_smtpd.as_deref(), &ours, odk_socket.as_deref());
        cf.set("non_smtpd_milters", &v).map_err(&err)?;
    }
    cf.set("milter_default_action", "accept").map_err(&err)?;
    cf.set("milter_protocol", "6").map_err(&err)?;
    Ok(change(
        &cur.main_cf,
        cf.to_string(),
        Perms::Keep,
        "wire OpenDKIM into Postfix as a milter",
    ))
}

/// The milter list with OpenDKIM's entry replaced by (or added as) `ours`; other milters stay.
fn with_milter(current: Option<&str>, ours: &str, odk_socket: Option<&str>) -> String {
    let items = current.map(split_list).unwrap_or_default();
    if items.iter().any(|i| i == ours) {
        return current.unwrap_or(ours).trim().to_string();
    }
    let mut out: Vec<String> = Vec::new();
    let mut placed = false;
    for item in items {
        if milter::is_opendkim_entry(&item, odk_socket) {
            if !placed {
                out.push(ours.to_string());
                placed = true;
            }
        } else {
            out.push(item);
        }
    }
    if !placed {
        out.push(ours.to_string());
    }
    out.join(", ")
}

fn refers_to(value: &str, name: &str) -> bool {
    value.contains(&format!("${name}")) || value.contains(&format!("${{{name}}}"))
}

/// inet_protocols and inet_interfaces are read only when the master starts: `postfix reload`
/// logs "ignoring inet_protocols parameter value change" (postfix-opendkim.md §1.5).
fn needs_restart(before: &FileState, after: &str) -> bool {
    let old = MainCf::parse(before.text.as_deref().unwrap_or(""));
    let new = MainCf::parse(after);
    ["inet_protocols", "inet_interfaces"]
        .iter()
        .any(|p| old.get(p) != new.get(p))
}

/// master.cf is not edited; an override that leaves OpenDKIM out is worth knowing about.
fn master_cf_notes(cur: &Current) -> Vec<String> {
    let Some(text) = cur.master_cf.text.as_deref() else {
        return Vec::new();
    };
    let cf = crate::postfix::master_cf::MasterCf::parse(text);
    let mut notes = Vec::new();
    for svc in cf.services() {
        for (name, value) in svc.options() {
            if (name == "smtpd_milters" || name == "non_smtpd_milters")
                && !value.contains("opendkim")
                && !refers_to(value, name)
            {
                notes.push(format!(
                    "master.cf service `{} {}` overrides {name}={value}: mail through it is not signed by OpenDKIM",
                    svc.name(),
                    svc.kind()
                ));
            }
        }
    }
    notes
}

/// The OpenDKIM settings mailsetup manages, in the order they are written (opendkim.conf(5)).
fn opendkim_settings(settings: &Settings) -> Vec<(&'static str, String)> {
    let peers = format!("refile:{}", system::TRUSTED_HOSTS);
    vec![
        ("Syslog", "yes".into()),
        ("LogWhy", "yes".into()),
        ("Mode", "sv".into()),
        ("Canonicalization", "relaxed/simple".into()),
        ("SignatureAlgorithm", "rsa-sha256".into()),
        ("UserID", "opendkim".into()),
        // 007: the socket is srwxrwx--- so group opendkim (postfix) may connect, others not.
        ("UMask", "007".into()),
        ("Socket", milter::opendkim_socket(settings.socket)),
        ("KeyTable", system::KEY_TABLE.into()),
        ("SigningTable", format!("refile:{}", system::SIGNING_TABLE)),
        ("InternalHosts", peers.clone()),
        ("ExternalIgnoreList", peers),
        ("AutoRestart", "yes".into()),
        ("AutoRestartRate", "10/1h".into()),
    ]
}

fn edit_opendkim_conf(settings: &Settings, cur: &Current) -> Result<Option<FileChange>> {
    let text = existing(&cur.opendkim_conf, "opendkim")?;
    let mut conf = OpendkimConf::parse(text);
    let entries = opendkim_settings(settings);
    let pairs: Vec<(&str, &str)> = entries.iter().map(|(k, v)| (*k, v.as_str())).collect();
    conf.set_all(OPENDKIM_BLOCK.trim_end(), &pairs)
        .map_err(odk_err(&cur.opendkim_conf.path))?;
    Ok(change(
        &cur.opendkim_conf,
        conf.to_string(),
        Perms::Keep,
        "sign with the KeyTable and SigningTable, on the socket Postfix uses",
    ))
}

/// /etc/default/opendkim: only its `SOCKET=`, and only where the file exists (Debian's init script
/// uses it when opendkim.conf has no `Socket`; keeping both equal avoids surprises).
fn edit_default_file(settings: &Settings, cur: &Current) -> Result<Option<FileChange>> {
    let Some(text) = cur.default_opendkim.text.as_deref() else {
        return Ok(None);
    };
    let mut file = DefaultFile::parse(text);
    file.set_socket(&milter::opendkim_socket(settings.socket))
        .map_err(odk_err(&cur.default_opendkim.path))?;
    Ok(change(
        &cur.default_opendkim,
        file.to_string(),
        Perms::Keep,
        "name the same socket as opendkim.conf",
    ))
}

fn edit_tables(settings: &Settings, cur: &Current) -> Result<Vec<FileChange>> {
    let table_perms = Perms::New(Owner::ROOT, 0o644);
    let mut out = Vec::new();

    let kt_path = &cur.key_table.path;
    let mut kt = match cur.key_table.text.as_deref() {
        Some(t) => KeyTable::parse(t),
        None => KeyTable::new_with_header(KEY_TABLE_HEADER.trim_end()).map_err(odk_err(kt_path))?,
    };
    let mut st = match cur.signing_table.text.as_deref() {
        Some(t) => SigningTable::parse(t),
        None => SigningTable::new_with_header(SIGNING_TABLE_HEADER.trim_end())
            .map_err(odk_err(&cur.signing_table.path))?,
    };
    for domain in &settings.domains {
        let key_name = format!("{}._domainkey.{domain}", settings.selector);
        let key_path = cur
            .keys
            .get(domain)
            .map(|k| k.path.clone())
            .unwrap_or_else(|| super::current::default_key_path(domain, settings));
        let entry = format!("{domain}:{}:{}", settings.selector, key_path.display());
        if let Ensure::Conflict { existing } =
            kt.ensure(&key_name, &entry).map_err(odk_err(kt_path))?
        {
            return Err(conflict(
                kt_path,
                &key_name,
                existing,
                entry,
                "remove or correct that KeyTable line, or choose another selector",
            ));
        }
        let pattern = format!("*@{domain}");
        if let Ensure::Conflict { existing } = st
            .ensure(&pattern, &key_name)
            .map_err(odk_err(&cur.signing_table.path))?
        {
            return Err(conflict(
                &cur.signing_table.path,
                &pattern,
                existing,
                key_name,
                "remove or correct that SigningTable line",
            ));
        }
    }
    out.extend(change(
        &cur.key_table,
        kt.to_string(),
        table_perms,
        "the key OpenDKIM signs each domain with",
    ));
    out.extend(change(
        &cur.signing_table,
        st.to_string(),
        table_perms,
        "which senders are signed with which key",
    ));

    let mut th = match cur.trusted_hosts.text.as_deref() {
        Some(t) => TrustedHosts::parse(t),
        None => TrustedHosts::new_with_header(TRUSTED_HOSTS_HEADER.trim_end())
            .map_err(odk_err(&cur.trusted_hosts.path))?,
    };
    for host in &settings.trusted_hosts {
        th.ensure(&host.to_string())
            .map_err(odk_err(&cur.trusted_hosts.path))?;
    }
    out.extend(change(
        &cur.trusted_hosts,
        th.to_string(),
        table_perms,
        "the hosts whose mail OpenDKIM signs",
    ));
    Ok(out)
}

fn conflict(file: &Path, key: &str, existing: String, wanted: String, fix: &str) -> Error {
    Error::Conflict {
        file: file.to_path_buf(),
        key: key.into(),
        existing,
        wanted,
        fix: fix.into(),
    }
}

/// The directories and their owner/mode. Keys: directories root:opendkim 0750 so that OpenDKIM's
/// key-permission walk passes and the opendkim user cannot plant links (reliability.md G3.3).
/// Socket: opendkim:opendkim 0750 inside Postfix's chroot (postfix-opendkim.md §2.2).
fn dirs(settings: &Settings, cur: &Current, plan: &mut Plan) {
    let mut want: Vec<(PathBuf, Owner, u32, bool, &str)> = vec![(
        system::OPENDKIM_DIR.into(),
        Owner::ROOT,
        0o755,
        false,
        "holds the OpenDKIM tables",
    )];
    let key_dirs: Vec<PathBuf> = cur
        .keys
        .values()
        .filter_map(|k| k.path.parent().map(Path::to_path_buf))
        .collect();
    if key_dirs.iter().any(|d| d.starts_with(system::KEYS_DIR)) {
        want.push((
            system::KEYS_DIR.into(),
            Owner::ROOT_OPENDKIM,
            0o750,
            true,
            "private keys: readable by OpenDKIM only",
        ));
    }
    for d in key_dirs.iter().filter(|d| d.starts_with(system::KEYS_DIR)) {
        if !want.iter().any(|w| &w.0 == d) {
            want.push((
                d.clone(),
                Owner::ROOT_OPENDKIM,
                0o750,
                true,
                "private keys: readable by OpenDKIM only",
            ));
        }
    }
    if settings.socket == MilterSocket::Local {
        want.push((
            system::SOCKET_DIR.into(),
            Owner::OPENDKIM,
            0o750,
            true,
            "the OpenDKIM socket, inside Postfix's chroot",
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
                why: why.into(),
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

/// New keys where none exists; an existing key is reused and never overwritten, but its owner and
/// mode are corrected when OpenDKIM would refuse it (postfix-opendkim.md §2.5).
fn keys(settings: &Settings, cur: &Current, plan: &mut Plan) {
    for domain in &settings.domains {
        let Some(key) = cur.keys.get(domain) else {
            continue;
        };
        match key.meta {
            None => plan.keys.push(KeyCreation {
                domain: domain.clone(),
                selector: settings.selector.clone(),
                path: key.path.clone(),
                bits: settings.key_bits,
            }),
            Some(m) if m.mode != 0o600 || !owner_matches(cur, Owner::OPENDKIM, m.uid, m.gid) => {
                plan.perms.push(PermChange {
                    path: key.path.clone(),
                    owner: Owner::OPENDKIM,
                    mode: 0o600,
                    why: format!(
                        "OpenDKIM refuses a key that is not its own with mode 0600 (found {:04o})",
                        m.mode
                    ),
                });
            }
            Some(_) => {}
        }
    }
}

/// What each change needs: inet_protocols/inet_interfaces → Postfix stop and start; other Postfix
/// changes → reload; any OpenDKIM change → restart (a reload with a bad config is only logged).
fn services(plan: &mut Plan, postfix_restart: bool) {
    let postfix_files = plan
        .files
        .iter()
        .any(|f| f.path.starts_with("/etc/postfix"));
    let opendkim = plan
        .files
        .iter()
        .any(|f| !f.path.starts_with("/etc/postfix"))
        || !plan.keys.is_empty()
        || !plan.perms.is_empty()
        || !plan.dirs.is_empty();
    if opendkim {
        plan.services.push(ServiceAction::new(
            Service::Opendkim,
            Verb::Restart,
            "its configuration, keys or socket changed",
        ));
    }
    if postfix_restart {
        plan.services.push(ServiceAction::new(
            Service::Postfix,
            Verb::Restart,
            "inet_protocols changed, which a reload ignores",
        ));
    } else if postfix_files || !plan.groups.is_empty() {
        plan.services.push(ServiceAction::new(
            Service::Postfix,
            Verb::Reload,
            "its configuration or groups changed",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milter_lists_keep_other_milters_and_replace_old_opendkim() {
        let ours = "local:opendkim/opendkim.sock";
        assert_eq!(with_milter(None, ours, None), ours);
        assert_eq!(
            with_milter(Some("inet:localhost:11332"), ours, None),
            "inet:localhost:11332, local:opendkim/opendkim.sock"
        );
        assert_eq!(
            with_milter(
                Some("inet:localhost:8891, inet:localhost:11332"),
                ours,
                None
            ),
            "local:opendkim/opendkim.sock, inet:localhost:11332"
        );
        assert_eq!(
            with_milter(Some(ours), ours, None),
            ours,
            "already there: unchanged"
        );
    }
}
