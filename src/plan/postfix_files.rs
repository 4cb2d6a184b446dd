//! The Postfix side of the plan: main.cf edits (postconf(5)) and what master.cf tells us.

use super::build::{change, existing};
use super::current::Current;
use super::{FileChange, Perms};
use crate::error::{Error, Result};
use crate::milter;
use crate::opendkim::OpendkimConf;
use crate::paths::FileState;
use crate::postfix::{MainCf, split_list};
use crate::settings::Settings;
use std::path::Path;

fn edit_err(file: &Path) -> impl Fn(crate::postfix::EditError) -> Error + '_ {
    move |e| Error::Invalid {
        what: file.display().to_string(),
        reason: e.to_string(),
    }
}

/// main.cf: with `identity`, myhostname and inet_protocols; with `milter`, OpenDKIM in
/// smtpd_milters and non_smtpd_milters (other milters kept), milter_default_action = accept,
/// milter_protocol = 6 (postconf(5)); with `dmarc`, OpenDMARC in smtpd_milters after OpenDKIM
/// and out of non_smtpd_milters ([`with_dmarc`], [`without_dmarc`]).
///
/// Returns the change (None when main.cf already says all this) and the notes that go with it:
/// one per parameter set here that main.cf defined more than once, whose earlier definitions
/// the edit comments out ([`MainCf::set`]).
pub(super) fn edit_main_cf(
    settings: &Settings,
    cur: &Current,
    identity: bool,
    milter: bool,
    dmarc: bool,
) -> Result<(Option<FileChange>, Vec<String>)> {
    let text = existing(&cur.main_cf, "postfix")?;
    let mut cf = MainCf::parse(text);
    let err = edit_err(&cur.main_cf.path);
    if identity {
        cf.set("myhostname", settings.hostname.as_str())
            .map_err(&err)?;
        cf.set("inet_protocols", settings.inet_protocols.as_str())
            .map_err(&err)?;
    }
    let ours = milter::postfix_milter(settings.socket);
    let odk_socket = cur
        .opendkim_conf
        .text
        .as_deref()
        .and_then(|t| OpendkimConf::parse(t).get("Socket").map(str::to_string));
    let ed = milter::postfix_ed25519_milter(settings.socket);
    if milter {
        edit_milters(&mut cf, &ours, odk_socket.as_deref(), &err)?;
        edit_ed25519_milters(&mut cf, &ours, &ed, settings.ed25519.is_some(), &err)?;
    }
    let mut notes = Vec::new();
    if dmarc {
        let dmarc_socket = cur
            .opendmarc_conf
            .text
            .as_deref()
            .and_then(|t| OpendkimConf::parse(t).get("Socket").map(str::to_string));
        let is_dkim = |e: &str| {
            e == ours
                || milter::is_opendkim_entry(e, odk_socket.as_deref())
                || milter::is_ed25519_entry(e, &ed)
        };
        let is_dmarc = |e: &str| milter::is_opendmarc_entry(e, dmarc_socket.as_deref());
        let dmarc_entry = milter::postfix_dmarc_milter();
        let smtpd = cf.get("smtpd_milters");
        let v = with_dmarc(smtpd.as_deref(), &dmarc_entry, is_dkim, is_dmarc);
        if smtpd.as_deref().map(str::trim) != Some(v.as_str()) {
            cf.set("smtpd_milters", &v).map_err(&err)?;
        }
        if let Some(non) = cf.get("non_smtpd_milters")
            && let Some(v) = without_dmarc(&non, &split_list(&v), is_dmarc)
        {
            if refers_to(&non, "smtpd_milters") {
                notes.push(
                    "non_smtpd_milters named $smtpd_milters, which now holds OpenDMARC: it \
                     lists the milters instead, without OpenDMARC (locally submitted mail is \
                     not judged by DMARC)"
                        .to_string(),
                );
            }
            cf.set("non_smtpd_milters", &v).map_err(&err)?;
        }
    }
    let why = match (milter, dmarc) {
        (_, true) => "wire OpenDMARC into Postfix after OpenDKIM",
        (true, false) => "wire OpenDKIM into Postfix as a milter",
        (false, false) => "the server's name and the IP versions Postfix uses",
    };
    notes.extend(shadowed_notes(&cf));
    Ok((
        change(&cur.main_cf, cf.to_string(), Perms::Keep, why),
        notes,
    ))
}

/// The Milter step's main.cf edit: OpenDKIM's entry `ours` in both milter lists,
/// milter_default_action and milter_protocol.
fn edit_milters(
    cf: &mut MainCf,
    ours: &str,
    odk_socket: Option<&str>,
    err: &impl Fn(crate::postfix::EditError) -> Error,
) -> Result<()> {
    let smtpd = with_milter(cf.get("smtpd_milters").as_deref(), ours, odk_socket);
    cf.set("smtpd_milters", &smtpd).map_err(err)?;
    let non_smtpd = cf.get("non_smtpd_milters");
    // `$smtpd_milters` already carries OpenDKIM now: keep the operator's reference (and
    // only it, should non_smtpd_milters be defined more than once).
    if non_smtpd
        .as_deref()
        .is_some_and(|v| refers_to(v, "smtpd_milters"))
    {
        cf.comment_out_earlier("non_smtpd_milters");
    } else {
        let v = with_milter(non_smtpd.as_deref(), ours, odk_socket);
        cf.set("non_smtpd_milters", &v).map_err(err)?;
    }
    cf.set("milter_default_action", "accept").map_err(err)?;
    cf.set("milter_protocol", "6").map_err(err)?;
    Ok(())
}

/// The second (Ed25519) OpenDKIM instance's entry `ed` in both milter lists right after the
/// first instance's `ours` (`on`), or out of them (`!on`); a `non_smtpd_milters` that names
/// `$smtpd_milters` is left to it. A list already right is not rewritten.
fn edit_ed25519_milters(
    cf: &mut MainCf,
    ours: &str,
    ed: &str,
    on: bool,
    err: &impl Fn(crate::postfix::EditError) -> Error,
) -> Result<()> {
    for name in ["smtpd_milters", "non_smtpd_milters"] {
        let Some(value) = cf.get(name) else {
            continue;
        };
        if refers_to(&value, "smtpd_milters") {
            continue;
        }
        if let Some(v) = with_ed25519(&value, ours, ed, on) {
            cf.set(name, &v).map_err(err)?;
        }
    }
    Ok(())
}

/// A milter list with `ed` right after `ours` (`on`), or without any Ed25519 instance entry
/// ([`milter::is_ed25519_entry`]); None when the list is so already.
fn with_ed25519(value: &str, ours: &str, ed: &str, on: bool) -> Option<String> {
    let items = split_list(value);
    let mut out: Vec<String> = items
        .iter()
        .filter(|i| !milter::is_ed25519_entry(i, ed))
        .cloned()
        .collect();
    if on {
        let at = out
            .iter()
            .position(|i| i == ours)
            .map_or(out.len(), |p| p + 1);
        out.insert(at, ed.to_string());
    }
    (out != items).then(|| out.join(", "))
}

/// Whether main.cf `text` names the second (Ed25519) OpenDKIM instance in a milter list.
pub(super) fn names_ed25519(settings: &Settings, text: Option<&str>) -> bool {
    let ed = milter::postfix_ed25519_milter(settings.socket);
    let cf = MainCf::parse(text.unwrap_or(""));
    ["smtpd_milters", "non_smtpd_milters"].iter().any(|n| {
        cf.get(n).is_some_and(|v| {
            split_list(&v)
                .iter()
                .any(|e| milter::is_ed25519_entry(e, &ed))
        })
    })
}

/// smtpd_milters with OpenDMARC's entry `ours` after the last OpenDKIM entry (`is_dkim`),
/// or last when there is none: OpenDMARC judges the DKIM result OpenDKIM adds, so it must
/// see the message after OpenDKIM. A list that already has one OpenDMARC entry after
/// OpenDKIM's is kept as it is (with its spelling); other OpenDMARC entries (`is_dmarc`)
/// are replaced; other milters stay in their order.
fn with_dmarc(
    current: Option<&str>,
    ours: &str,
    is_dkim: impl Fn(&str) -> bool,
    is_dmarc: impl Fn(&str) -> bool,
) -> String {
    let items = current.map(split_list).unwrap_or_default();
    let last_dkim = items.iter().rposition(|i| is_dkim(i));
    let dmarcs: Vec<usize> = (0..items.len())
        .filter(|&i| is_dmarc(&items[i]) || items[i] == ours)
        .collect();
    if let [only] = dmarcs[..]
        && items[only] == ours
        && last_dkim.is_none_or(|d| d < only)
    {
        return current.unwrap_or(ours).trim().to_string();
    }
    let mut out: Vec<String> = items
        .iter()
        .filter(|i| !(is_dmarc(i) || *i == ours))
        .cloned()
        .collect();
    let at = out
        .iter()
        .rposition(|i| is_dkim(i))
        .map_or(out.len(), |d| d + 1);
    out.insert(at, ours.to_string());
    out.join(", ")
}

/// non_smtpd_milters without OpenDMARC (locally submitted mail has no SMTP client whose
/// SPF or DKIM DMARC could judge): a `$smtpd_milters` reference is replaced by the
/// milters of `smtpd` other than OpenDMARC. `None` when nothing changes.
fn without_dmarc(non: &str, smtpd: &[String], is_dmarc: impl Fn(&str) -> bool) -> Option<String> {
    let items = split_list(non);
    let mut out: Vec<String> = Vec::new();
    for item in &items {
        if item == "$smtpd_milters" || item == "${smtpd_milters}" {
            out.extend(smtpd.iter().filter(|e| !is_dmarc(e)).cloned());
        } else if !is_dmarc(item) {
            out.push(item.clone());
        }
    }
    (out != items && !out.is_empty()).then(|| out.join(", "))
}

/// main.cf when amavisd-new signs (answers `signer = "amavisd-new"`): with `identity`
/// (the settings), myhostname and inet_protocols; with `milter`, OpenDKIM's entry taken out
/// of smtpd_milters and non_smtpd_milters (other milters kept in order; a list left with
/// nothing is set empty), so that each message is signed once. Nothing else changes.
pub(super) fn edit_main_cf_unwired(
    cur: &Current,
    identity: Option<&Settings>,
    milter: bool,
) -> Result<(Option<FileChange>, Vec<String>)> {
    let text = existing(&cur.main_cf, "postfix")?;
    let mut cf = MainCf::parse(text);
    let err = edit_err(&cur.main_cf.path);
    if let Some(settings) = identity {
        cf.set("myhostname", settings.hostname.as_str())
            .map_err(&err)?;
        cf.set("inet_protocols", settings.inet_protocols.as_str())
            .map_err(&err)?;
    }
    if milter {
        let odk_socket = cur
            .opendkim_conf
            .text
            .as_deref()
            .and_then(|t| OpendkimConf::parse(t).get("Socket").map(str::to_string));
        for name in ["smtpd_milters", "non_smtpd_milters"] {
            let Some(value) = cf.get(name) else {
                continue;
            };
            let items = split_list(&value);
            let kept: Vec<String> = items
                .iter()
                .filter(|i| {
                    !milter::is_opendkim_entry(i, odk_socket.as_deref())
                        && !milter::is_ed25519_entry(i, "local:opendkim/opendkim-ed25519.sock")
                })
                .cloned()
                .collect();
            if kept.len() != items.len() {
                cf.set(name, &kept.join(", ")).map_err(&err)?;
            }
        }
    }
    Ok((
        change(
            &cur.main_cf,
            cf.to_string(),
            Perms::Keep,
            if milter {
                "amavisd-new signs: OpenDKIM is taken out of Postfix's milters, so that \
                 every message carries one signature"
            } else {
                "the server's name and the IP versions Postfix uses"
            },
        ),
        shadowed_notes(&cf),
    ))
}

/// One note per parameter whose earlier definitions the edit commented out.
fn shadowed_notes(cf: &MainCf) -> Vec<String> {
    cf.shadowed()
        .into_iter()
        .map(|s| {
            let lines: Vec<String> = s.lines.iter().map(usize::to_string).collect();
            let earlier = match lines.as_slice() {
                [one] => format!("the earlier definition at line {one} is"),
                more => format!("the earlier definitions at lines {} are", more.join(", ")),
            };
            format!(
                "main.cf defines {} {} times and Postfix uses only the last one (line {}); \
                 {earlier} commented out (`{}{}: …`) so that postconf stops \
                 warning \"overriding earlier entry\"",
                s.name,
                s.lines.len() + 1,
                s.effective,
                crate::postfix::main_cf::SHADOWED_PREFIX,
                s.effective,
            )
        })
        .collect()
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
pub(super) fn needs_restart(before: &FileState, after: &str) -> bool {
    let old = MainCf::parse(before.text.as_deref().unwrap_or(""));
    let new = MainCf::parse(after);
    ["inet_protocols", "inet_interfaces"]
        .iter()
        .any(|p| old.get(p) != new.get(p))
}

/// master.cf is not edited; an override that leaves OpenDKIM out is worth knowing about.
pub(super) fn master_cf_notes(cur: &Current) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_names_each_parameter_whose_earlier_definitions_are_commented_out() {
        let mut cf = MainCf::parse(
            "myhostname = a\nsmtpd_milters = x\nmyhostname = b\nsmtpd_milters = y\n\
             myhostname = c\nbiff = no\nbiff = yes\n",
        );
        assert_eq!(shadowed_notes(&cf), Vec::<String>::new());
        cf.set("smtpd_milters", "z").unwrap();
        cf.set("myhostname", "mail.example.org").unwrap();
        assert_eq!(
            shadowed_notes(&cf),
            [
                "main.cf defines smtpd_milters 2 times and Postfix uses only the last one (line 4); \
                 the earlier definition at line 2 is commented out \
                 (`# mailsetup: shadowed by line 4: …`) so that postconf stops warning \
                 \"overriding earlier entry\"",
                "main.cf defines myhostname 3 times and Postfix uses only the last one (line 5); \
                 the earlier definitions at lines 1, 3 are commented \
                 out (`# mailsetup: shadowed by line 5: …`) so that postconf stops warning \
                 \"overriding earlier entry\"",
            ]
        );
    }

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

    const DKIM: &str = "local:opendkim/opendkim.sock";
    const DMARC: &str = "local:opendmarc/opendmarc.sock";

    fn dmarc_list(current: Option<&str>) -> String {
        with_dmarc(
            current,
            DMARC,
            |e| milter::is_opendkim_entry(e, None),
            |e| milter::is_opendmarc_entry(e, None),
        )
    }

    #[test]
    fn opendmarc_goes_after_opendkim_and_other_milters_stay() {
        assert_eq!(dmarc_list(None), DMARC);
        assert_eq!(dmarc_list(Some(DKIM)), format!("{DKIM}, {DMARC}"));
        // right after OpenDKIM, before a milter that follows it
        assert_eq!(
            dmarc_list(Some(
                "inet:127.0.0.1:11332, local:opendkim/opendkim.sock, unix:/x/clamav"
            )),
            format!("inet:127.0.0.1:11332, {DKIM}, {DMARC}, unix:/x/clamav")
        );
        // before OpenDKIM: moved after it (opendmarc.order)
        assert_eq!(
            dmarc_list(Some(&format!("{DMARC}, {DKIM}"))),
            format!("{DKIM}, {DMARC}")
        );
        // an old OpenDMARC socket is replaced by ours
        assert_eq!(
            dmarc_list(Some(&format!(
                "{DKIM}, local:/run/opendmarc/opendmarc.sock"
            ))),
            format!("{DKIM}, {DMARC}")
        );
    }

    const ED: &str = "local:opendkim/opendkim-ed25519.sock";

    #[test]
    fn the_ed25519_instance_goes_right_after_opendkim_and_leaves_when_off() {
        assert_eq!(
            with_ed25519(&format!("{DKIM}, {DMARC}"), DKIM, ED, true).as_deref(),
            Some(format!("{DKIM}, {ED}, {DMARC}").as_str())
        );
        let right = format!("{DKIM},{ED}  {DMARC}");
        assert_eq!(
            with_ed25519(&right, DKIM, ED, true),
            None,
            "kept as written"
        );
        // in the wrong place: moved
        assert_eq!(
            with_ed25519(&format!("{ED}, {DKIM}"), DKIM, ED, true).as_deref(),
            Some(format!("{DKIM}, {ED}").as_str())
        );
        assert_eq!(
            with_ed25519(&right, DKIM, ED, false).as_deref(),
            Some(format!("{DKIM}, {DMARC}").as_str())
        );
        assert_eq!(with_ed25519(DKIM, DKIM, ED, false), None);
        // OpenDMARC goes after both OpenDKIM instances
        let after = with_dmarc(
            Some(&format!("{DKIM}, {ED}")),
            DMARC,
            |e| milter::is_opendkim_entry(e, None) || milter::is_ed25519_entry(e, ED),
            |e| milter::is_opendmarc_entry(e, None),
        );
        assert_eq!(after, format!("{DKIM}, {ED}, {DMARC}"));
        assert_eq!(
            with_milter(Some(&format!("{DKIM}, {ED}")), DKIM, None),
            format!("{DKIM}, {ED}"),
            "the first instance's edit leaves the second alone"
        );
    }

    #[test]
    fn a_right_list_is_kept_byte_for_byte() {
        let spelled = format!("{DKIM},{DMARC}   inet:127.0.0.1:11332");
        assert_eq!(dmarc_list(Some(&spelled)), spelled);
        let once = dmarc_list(Some(DKIM));
        assert_eq!(dmarc_list(Some(&once)), once, "idempotent");
    }

    #[test]
    fn non_smtpd_milters_never_name_opendmarc() {
        let smtpd: Vec<String> = vec![DKIM.into(), DMARC.into()];
        let is = |e: &str| milter::is_opendmarc_entry(e, None);
        assert_eq!(
            without_dmarc("$smtpd_milters", &smtpd, is).as_deref(),
            Some(DKIM)
        );
        assert_eq!(
            without_dmarc(&format!("{DKIM}, {DMARC}"), &smtpd, is).as_deref(),
            Some(DKIM)
        );
        assert_eq!(without_dmarc(DKIM, &smtpd, is), None, "nothing to change");
    }
}
