//! Local health checks: what on this server keeps mail from being signed, found before the
//! mail goes out. [`read`] reads the state (files beneath the root, key path walks, running
//! daemons on the host) into a [`LocalState`]; it lives in [`crate::host::probe`], the only module
//! that does I/O. [`checks`] judges the state, purely, into the same check lines and
//! findings as the DNS checks (`crate::check`), under this server's heading: one judge per
//! subject, in report order:
//!
//! - `milter` (module `milter`): main.cf names OpenDKIM in both milter lists, on the socket
//!   OpenDKIM listens on ([`startup`]), reachable by Postfix ([`socket`]); no second signer;
//!   no `postconf -n` warnings;
//! - `opendkim` (module `tables`): the SigningTable is read as `refile:` when it has
//!   wildcards and has an entry per domain; `opendkim -n` accepts opendkim.conf;
//! - `keys` (module `keys`): every KeyTable key exists and passes OpenDKIM's own path check
//!   ([`securefile`]);
//! - `running` (module `running`, with `--root /` only): postfix and opendkim run, listening
//!   as main.cf asks ([`listeners`]);
//! - `spf-policy` (module `spf_policy`, with `inbound_spf = true` only): the SPF policy agent
//!   is installed, has its master.cf service and is asked after the relay control.
//! - `opendmarc` (module [`opendmarc`], with `inbound_dmarc` only): OpenDMARC installed,
//!   after OpenDKIM in `smtpd_milters`, on its socket, reachable, running.
//! - `tls` (module [`tls`]): outbound TLS on, STARTTLS with a certificate that exists, no
//!   deprecated switch or protocol older than TLS 1.2, the server key for root only.

pub mod ed25519;
mod keys;
pub mod listeners;
mod milter;
pub mod opendmarc;
mod running;
pub mod securefile;
pub mod socket;
mod spf_policy;
pub mod startup;
mod tables;
pub mod tls;

use std::path::PathBuf;

use crate::check::{Checked, Finding, JobResult, Severity, status};
use crate::host::accounts::Accounts;
use crate::host::system;
use crate::settings::Settings;

// pure helpers the reading needs: the key files to walk, the milter entry whose socket to probe
pub use crate::host::probe::{read, serving};
pub(crate) use keys::key_paths;
pub(crate) use milter::postfix_entry;

use crate::check::ids;

/// What the local checks look at.
#[derive(Debug, Clone, Default)]
pub struct LocalState {
    pub main_cf: Option<String>,
    pub opendkim_conf: Option<String>,
    pub default_file: Option<String>,
    /// How OpenDKIM is started (systemd's ExecStart, or the init script).
    pub startup: startup::Startup,
    pub key_table: Option<String>,
    pub signing_table: Option<String>,
    /// Each KeyTable key path with its path walk (or why it could not be walked).
    pub keys: Vec<(PathBuf, Result<Vec<securefile::Node>, String>)>,
    /// Every user and group (/etc/passwd, /etc/group beneath the root).
    pub accounts: Accounts,
    /// `(postfix, opendkim)` running, on the host only.
    pub running: Option<(bool, bool)>,
    pub master_cf: Option<String>,
    /// The Unix socket Postfix names for OpenDKIM, looked at (on the host only).
    pub socket: Option<socket::Probe>,
    /// Other signers' configuration: `(file, text)` of /etc/amavis/conf.d/* and rspamd's
    /// /etc/rspamd/local.d/dkim_signing.conf when present.
    pub other_signers: Vec<(String, String)>,
    /// Who listens on the SMTP port (25) now; host only.
    pub smtp_listeners: Option<listeners::Listeners>,
    /// `postconf -n` warnings about the root's /etc/postfix; `None` without postconf.
    pub postconf_warnings: Option<Vec<String>>,
    /// `opendkim -n`'s complaint about /etc/opendkim.conf (`Some(Ok(()))` when it accepts
    /// it); on the host only, where the paths in the configuration are the real ones.
    pub opendkim_n: Option<Result<(), String>>,
    /// Files above (system paths, key paths included) that exist but were not read, and
    /// why: this user may not read them (EACCES), or they are symbolic links, which are never
    /// followed beneath the root. A line that needs one is `local.unreadable`, not judged.
    pub unread: Vec<(PathBuf, String)>,
    /// Whether the SPF policy agent's program, [`crate::inbound_spf::PROGRAM`], exists.
    pub policyd_spf: bool,
    /// OpenDMARC's files, process and socket (judged with `inbound_dmarc` only).
    pub opendmarc: opendmarc::DmarcState,
    /// The certificate and key main.cf names, looked at (judged by the `tls` line).
    pub tls: tls::TlsState,
    /// The second OpenDKIM instance (Ed25519 dual signing), looked at on the host only.
    pub ed25519: ed25519::Ed25519State,
}

/// Judge the state for `settings`; one result per check, in report order (`milter`,
/// `opendkim`, `keys`, `spf-policy` with `inbound_spf = true`, then `running` when the
/// daemons were looked at, then `opendmarc` with `inbound_dmarc`, then `tls`).
pub fn checks(state: &LocalState, settings: &Settings) -> Vec<JobResult> {
    let host = settings.hostname.to_string();
    let reads = |files: &[&str]| -> Vec<PathBuf> { files.iter().map(PathBuf::from).collect() };
    let mut key_files = reads(&[system::KEY_TABLE]);
    key_files.extend(state.keys.iter().map(|(p, _)| p.clone()));
    let milter_files = [
        system::MAIN_CF,
        system::MASTER_CF,
        system::OPENDKIM_CONF,
        system::DEFAULT_OPENDKIM,
    ];
    let tables_files = [
        system::OPENDKIM_CONF,
        system::SIGNING_TABLE,
        system::KEY_TABLE,
    ];
    let amavis_signs = settings.signer == crate::values::Signer::AmavisdNew;
    let mut out = vec![
        result(
            "milter",
            system::MAIN_CF,
            &host,
            unless_denied(state, &reads(&milter_files), || {
                milter::findings(state, settings)
            }),
        ),
        result(
            "opendkim",
            system::SIGNING_TABLE,
            &host,
            unless_denied(state, &reads(&tables_files), || {
                tables::findings(state, settings)
            }),
        ),
        result(
            "keys",
            system::KEYS_DIR,
            &host,
            unless_denied(state, &key_files, || keys::findings(state)),
        ),
    ];
    if amavis_signs {
        // signer = "amavisd-new": OpenDKIM's tables and keys are not used, so not judged
        out.truncate(1);
    }
    if settings.inbound_spf {
        let files = reads(&[system::MAIN_CF, system::MASTER_CF]);
        out.push(result(
            "spf-policy",
            system::MASTER_CF,
            &host,
            unless_denied(state, &files, || spf_policy::findings(state)),
        ));
    }
    if let Some(mut findings) = running::findings(state) {
        if amavis_signs {
            findings.retain(|f| !f.id.starts_with("opendkim."));
        }
        out.push(result("running", "postfix, opendkim", &host, findings));
    }
    // with amavisd-new as the signer, OpenDMARC is not wired (the plan says so)
    if settings.inbound_dmarc && !amavis_signs {
        let files = [
            system::MAIN_CF,
            system::OPENDMARC_CONF,
            system::DEFAULT_OPENDMARC,
        ];
        out.push(result(
            "opendmarc",
            system::OPENDMARC_CONF,
            &host,
            unless_denied(state, &reads(&files), || opendmarc::findings(state)),
        ));
    }
    let mut tls_files = reads(&[system::MAIN_CF]);
    tls_files.extend(state.tls.files.keys().cloned());
    // no main.cf: the milter line says so; nothing to judge TLS by
    let main_cf_unread = state.unread.iter().any(|(f, _)| f == &tls_files[0]);
    if state.main_cf.is_some() || main_cf_unread {
        out.push(result(
            "tls",
            system::MAIN_CF,
            &host,
            unless_denied(state, &tls_files, || tls::findings(state, settings)),
        ));
    }
    out
}

/// `judge()`, unless one of `files` was not read ([`LocalState::unread`]): then only a
/// `local.unreadable` warning per such file (the line is unknown: judging what could not be
/// read would report it missing).
fn unless_denied(
    state: &LocalState,
    files: &[PathBuf],
    judge: impl FnOnce() -> Vec<Finding>,
) -> Vec<Finding> {
    let unread: Vec<&(PathBuf, String)> = state
        .unread
        .iter()
        .filter(|(f, _)| files.contains(f))
        .collect();
    if unread.is_empty() {
        return judge();
    }
    unread
        .into_iter()
        .map(|(f, why)| {
            let f = f.display();
            Finding::new(
                ids::LOCAL_UNREADABLE,
                Severity::Warning,
                &f.to_string(),
                format!("{f} exists, but was not read ({why}): this check was not made"),
            )
            .fix(Some(
                "run mailsetup check as root (sudo), which may read it; a symbolic link: \
                 replace it by the file it points to"
                    .into(),
            ))
        })
        .collect()
}

/// The socket OpenDKIM listens on: see [`startup::effective_socket`].
pub(crate) fn effective_socket(state: &LocalState) -> Option<String> {
    startup::effective_socket(
        &state.startup,
        state.opendkim_conf.as_deref(),
        state.default_file.as_deref(),
    )
}

/// One check line: its findings, and the status they give it.
fn result(check: &'static str, subject: &str, group: &str, findings: Vec<Finding>) -> JobResult {
    JobResult {
        checked: Checked {
            check,
            subject: subject.to_string(),
            status: status(&findings),
            group: group.to_string(),
        },
        findings,
    }
}

/// An error finding (the judges add found, expected and fix).
fn error(id: &'static str, subject: &str, message: String) -> Finding {
    Finding::new(id, Severity::Error, subject, message)
}

#[cfg(test)]
mod tests;
