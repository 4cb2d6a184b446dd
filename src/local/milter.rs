//! The `milter` check line, judged from a [`LocalState`]: main.cf names OpenDKIM in both
//! milter lists, on the socket OpenDKIM listens on; Postfix's smtpd can reach that socket
//! (inside its chroot, answering, writable by the postfix user); no other DKIM signer
//! (amavisd-new, rspamd) signs too; and `postconf -n` has no warnings. Pure.

use super::{LocalState, effective_socket, error, socket, startup};
use crate::check::{Finding, Severity, ids};
use crate::host::system;
use crate::milter::{is_opendkim_entry, opendkim_socket, postfix_form_of, postfix_milter};
use crate::postfix::{MainCf, split_list};
use crate::settings::Settings;
use crate::values::MilterSocket;

/// The findings of the `milter` line, in report order.
///
/// Every `expected:` names what the OpenDKIM and Milter steps write for `settings`
/// ([`postfix_milter`], [`opendkim_socket`]), so following it by hand does what `fix` does.
pub(super) fn findings(state: &LocalState, settings: &Settings) -> Vec<Finding> {
    let mut findings = if settings.signer == crate::values::Signer::AmavisdNew {
        // amavisd-new signs: OpenDKIM is not wired in on purpose
        Vec::new()
    } else {
        milter_findings(state, settings.socket)
    };
    findings.extend(super::ed25519::findings(state, settings));
    findings.extend(double_signer(state));
    findings.extend(postconf_findings(state));
    findings
}

/// The OpenDKIM entry of main.cf `smtpd_milters` (the one Postfix uses), if any.
pub(crate) fn postfix_entry(state: &LocalState) -> Option<String> {
    let cf = MainCf::parse(state.main_cf.as_deref()?);
    let listens = effective_socket(state);
    split_list(&cf.get("smtpd_milters").unwrap_or_default())
        .into_iter()
        .find(|e| is_opendkim_entry(e, listens.as_deref()))
}

/// Both milter lists name OpenDKIM, on the socket OpenDKIM listens on, and Postfix can
/// reach it.
fn milter_findings(state: &LocalState, writes: MilterSocket) -> Vec<Finding> {
    let subject = system::MAIN_CF;
    let Some(main_cf) = state.main_cf.as_deref() else {
        return vec![
            error(
                ids::MILTER_NOT_CONFIGURED,
                subject,
                "there is no /etc/postfix/main.cf: is postfix installed?".into(),
            )
            .fix(Some("apt-get install postfix, then mailsetup".into())),
        ];
    };
    let cf = MainCf::parse(main_cf);
    let listens = effective_socket(state);
    let listened = listens.as_deref().and_then(postfix_form_of);
    let is_ours = |entry: &str| is_opendkim_entry(entry, listens.as_deref());
    let smtpd = cf.get("smtpd_milters").unwrap_or_default();
    let smtpd_items = split_list(&smtpd);
    let mut findings = Vec::new();
    let ours: Vec<&String> = smtpd_items.iter().filter(|e| is_ours(e)).collect();
    if ours.is_empty() {
        findings.push(not_named(
            ids::MILTER_NOT_CONFIGURED,
            "smtpd_milters does not name OpenDKIM: mail that arrives by SMTP (and submission) \
             is not signed",
            format!("smtpd_milters = {smtpd}"),
            writes,
        ));
    }
    let non = cf.get("non_smtpd_milters").unwrap_or_default();
    let through_smtpd = non.contains("$smtpd_milters") || non.contains("${smtpd_milters}");
    let signed_via_smtpd = through_smtpd && !ours.is_empty();
    if !signed_via_smtpd && !split_list(&non).iter().any(|e| is_ours(e)) {
        findings.push(not_named(
            ids::MILTER_NON_SMTPD_MISSING,
            "non_smtpd_milters does not name OpenDKIM: mail from cron, sendmail or PHP goes out \
             unsigned",
            format!("non_smtpd_milters = {non}"),
            writes,
        ));
    }
    if let Some(named) = ours.first() {
        findings.extend(reachability(state, named, writes));
        if let Some(listened) = &listened {
            findings.extend(mismatch(state, named, listened, writes));
        }
    }
    findings
}

/// A milter list that does not name OpenDKIM: `message`, with the list as `found` and, as
/// `expected`, the entry the Milter step writes (with the socket the OpenDKIM step makes
/// OpenDKIM listen on).
fn not_named(id: &'static str, message: &str, found: String, writes: MilterSocket) -> Finding {
    error(id, system::MAIN_CF, message.into())
        .found(found)
        .expected(both_sides(writes))
        .fix(Some(
            "the Milter step adds it (with the OpenDKIM step when OpenDKIM does not listen \
             there yet)"
                .into(),
        ))
}

/// What the OpenDKIM and Milter steps write for `s`: Postfix's entry, and OpenDKIM's
/// `Socket` that listens on it.
fn both_sides(s: MilterSocket) -> String {
    format!(
        "{} (with opendkim.conf Socket {})",
        postfix_milter(s),
        opendkim_socket(s)
    )
}

/// `milter.socket-mismatch`: Postfix names `named`, but OpenDKIM listens on what Postfix
/// would write as `listened`; expected is what the steps write for `writes`.
fn mismatch(
    state: &LocalState,
    named: &str,
    listened: &str,
    writes: MilterSocket,
) -> Option<Finding> {
    // `unix:` and `local:` name the same kind of socket (postconf(5) smtpd_milters)
    let norm = |s: &str| s.trim().replacen("unix:", "local:", 1);
    if norm(named) == norm(listened) {
        return None;
    }
    let (listens, source) = startup::socket_and_source(
        &state.startup,
        state.opendkim_conf.as_deref(),
        state.default_file.as_deref(),
    )
    .unwrap_or_default();
    Some(
        error(
            ids::MILTER_SOCKET_MISMATCH,
            system::MAIN_CF,
            format!(
                "Postfix talks to OpenDKIM at {named}, but OpenDKIM listens on {listens} \
                 ({source})"
            ),
        )
        .found(named.to_string())
        .expected(both_sides(writes))
        .fix(Some(
            "the OpenDKIM and Milter steps name one socket on both sides".into(),
        )),
    )
}

/// `milter.socket-unreachable` / `milter.socket-permission` for the entry Postfix uses.
fn reachability(state: &LocalState, entry: &str, writes: MilterSocket) -> Vec<Finding> {
    let subject = system::MAIN_CF;
    let Some(path) = socket::unix_path(entry) else {
        return Vec::new(); // inet: nothing about chroots or file permissions
    };
    let chrooted = chrooted_smtpd(state);
    if !path.starts_with(system::QUEUE_DIR) && !chrooted.is_empty() {
        return vec![
            error(
                ids::MILTER_SOCKET_UNREACHABLE,
                subject,
                format!(
                    "Postfix names the socket {}, outside {}, but smtpd runs chrooted there \
                     (master.cf: {}): it cannot reach the socket",
                    path.display(),
                    system::QUEUE_DIR,
                    chrooted.join(", ")
                ),
            )
            .expected(both_sides(writes))
            .fix(Some(
                "the OpenDKIM and Milter steps put the socket inside the chroot".into(),
            )),
        ];
    }
    let Some(probe) = &state.socket else {
        return Vec::new();
    };
    if let Err(why) = &probe.connect {
        return vec![
            error(
                ids::MILTER_SOCKET_UNREACHABLE,
                subject,
                format!(
                    "nothing answers on the socket {} ({why}): is OpenDKIM running, with this \
                     socket?",
                    probe.path.display()
                ),
            )
            .fix(Some(
                "start OpenDKIM (/etc/init.d/opendkim start); mailsetup check names a socket \
                 mismatch as milter.socket-mismatch"
                    .into(),
            )),
        ];
    }
    socket::denied(probe, &state.accounts, "postfix")
        .map(|why| {
            vec![
                error(ids::MILTER_SOCKET_PERMISSION, subject, why).fix(Some(
                    "the Milter step adds postfix to group opendkim; OpenDKIM's UMask 007 \
                     (the OpenDKIM step) keeps the socket group-writable"
                        .into(),
                )),
            ]
        })
        .unwrap_or_default()
}

/// The master.cf smtpd services that run chrooted (`smtp inet`, …).
pub(super) fn chrooted_smtpd(state: &LocalState) -> Vec<String> {
    state
        .master_cf
        .as_deref()
        .map(crate::postfix::master_cf::MasterCf::parse)
        .map(|cf| {
            cf.services()
                .filter(|s| s.command() == "smtpd" && s.chroot() == Some(true))
                .map(|s| format!("{} {}", s.name(), s.kind()))
                .collect()
        })
        .unwrap_or_default()
}

/// `signer.double`: amavisd-new (`$enable_dkim_signing = 1;` outside a comment) or rspamd's
/// DKIM signing (its configuration present and rspamd's milter, port 11332, in
/// smtpd_milters) signs too, while OpenDKIM is wired in.
fn double_signer(state: &LocalState) -> Option<Finding> {
    let main_cf = MainCf::parse(state.main_cf.as_deref()?);
    let milters = main_cf.get("smtpd_milters").unwrap_or_default();
    let listens = effective_socket(state);
    let items = split_list(&milters);
    if !items
        .iter()
        .any(|e| is_opendkim_entry(e, listens.as_deref()))
    {
        return None;
    }
    let amavis_files: Vec<&(String, String)> = state
        .other_signers
        .iter()
        .filter(|(file, _)| file.starts_with("/etc/amavis/"))
        .collect();
    // the file whose live assignment turns signing on, when the files (read in order, the
    // last assignment winning) leave it on
    let amavis = crate::amavis::signs(amavis_files.iter().map(|(_, t)| t.as_str()))
        .then(|| {
            amavis_files
                .iter()
                .rev()
                .find(|(_, t)| crate::amavis::turn_signing_off(t) != *t)
                .copied()
        })
        .flatten();
    let rspamd = state
        .other_signers
        .iter()
        .find(|(file, _)| file.contains("rspamd"))
        .filter(|_| items.iter().any(|e| e.ends_with(":11332")));
    let (file, who) = match (amavis, rspamd) {
        (Some((f, _)), _) => (f, "amavisd-new ($enable_dkim_signing = 1)"),
        (None, Some((f, _))) => (f, "rspamd's DKIM signing module"),
        (None, None) => return None,
    };
    Some(
        Finding::new(
            ids::SIGNER_DOUBLE,
            Severity::Warning,
            system::MAIN_CF,
            format!(
                "{who} signs outgoing mail as well as OpenDKIM ({file}): every message gets two \
                 signatures, and a key rotated in one is left behind in the other"
            ),
        )
        .found(file.clone())
        .fix(Some(format!(
            "let one signer sign: the Signer step turns signing off in {file} (amavisd-new: \
             $enable_dkim_signing = 0;) with signer = \"opendkim\", or takes OpenDKIM out of \
             smtpd_milters with signer = \"amavisd-new\""
        ))),
    )
}

/// `postfix.config-warning` with postconf's own words.
fn postconf_findings(state: &LocalState) -> Option<Finding> {
    let warnings = state.postconf_warnings.as_ref().filter(|w| !w.is_empty())?;
    Some(
        Finding::new(
            ids::POSTFIX_CONFIG_WARNING,
            Severity::Warning,
            system::MAIN_CF,
            format!(
                "postconf warns about the Postfix configuration ({} line(s)); Postfix ignores \
                 what it warns about",
                warnings.len()
            ),
        )
        .found(warnings.join("\n"))
        .fix(Some(
            "correct or remove the parameters postconf names (postconf -n shows them)".into(),
        )),
    )
}
