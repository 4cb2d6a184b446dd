//! Local health checks: what on this server keeps mail from being signed, found before the
//! mail goes out. [`read`] reads the state (files beneath the root, key path walks, running
//! daemons on the host); [`checks`] judges it, purely, into the same check lines and
//! findings as the DNS checks (`crate::check`), under this server's heading.
//!
//! Checks: `milter` (main.cf names OpenDKIM in both milter lists, on the socket OpenDKIM
//! listens on), `opendkim` (SigningTable read as `refile:` when it has wildcards, an entry
//! per domain), `keys` (every domain's KeyTable key exists and passes OpenDKIM's own path
//! check), and `running` (postfix and opendkim, with `--root /` only).

pub mod listeners;
pub mod securefile;
pub mod socket;
pub mod startup;

use std::path::PathBuf;

use crate::accounts::Accounts;
use crate::check::{Checked, Finding, JobResult, Severity, ids, status};
use crate::milter;
use crate::opendkim::{KeyTable, OpendkimConf, SigningTable};
use crate::postfix::{MainCf, split_list};
use crate::settings::Settings;
use crate::system::{self, Root};

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
}

/// Read the state beneath `root`.
pub fn read(root: &Root) -> LocalState {
    let text = |p: &str| std::fs::read_to_string(root.path(p)).ok();
    let key_table = text(system::KEY_TABLE);
    let keys = key_table
        .as_deref()
        .map(key_paths)
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            let walk = securefile::read(root, &p);
            (p, walk)
        })
        .collect();
    let mut state = LocalState {
        main_cf: text(system::MAIN_CF),
        master_cf: text(system::MASTER_CF),
        socket: None,
        smtp_listeners: root.is_host().then(listeners::read),
        other_signers: other_signers(root),
        opendkim_conf: text(system::OPENDKIM_CONF),
        default_file: text(system::DEFAULT_OPENDKIM),
        startup: startup::read(root),
        signing_table: text(system::SIGNING_TABLE),
        key_table,
        keys,
        accounts: Accounts::parse(
            &text("/etc/passwd").unwrap_or_default(),
            &text("/etc/group").unwrap_or_default(),
        ),
        running: root.is_host().then(|| {
            (
                crate::services::is_running(crate::services::Service::Postfix),
                crate::services::is_running(crate::services::Service::Opendkim),
            )
        }),
        postconf_warnings: std::path::Path::new("/usr/sbin/postconf")
            .exists()
            .then(|| crate::apply::validate::warnings(&root.path("/etc/postfix")).ok())
            .flatten()
            .map(|w| w.iter().map(|l| l.replace("DIR", "/etc/postfix")).collect()),
        opendkim_n: (root.is_host() && std::path::Path::new("/usr/sbin/opendkim").exists())
            .then(opendkim_n),
    };
    if root.is_host()
        && let Some(path) = postfix_entry(&state).as_deref().and_then(socket::unix_path)
    {
        state.socket = Some(socket::probe(root, &path));
    }
    state
}

/// amavisd-new's configuration snippets and rspamd's DKIM signing configuration.
fn other_signers(root: &Root) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(root.path("/etc/amavis/conf.d"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = format!("/etc/amavis/conf.d/{}", e.file_name().to_string_lossy());
            std::fs::read_to_string(e.path()).ok().map(|t| (name, t))
        })
        .collect();
    out.sort();
    let rspamd = "/etc/rspamd/local.d/dkim_signing.conf";
    if let Ok(t) = std::fs::read_to_string(root.path(rspamd)) {
        out.push((rspamd.to_string(), t));
    }
    out
}

/// After a restart: does OpenDKIM answer on the socket Postfix uses, and may Postfix's user
/// open it? Retries for up to 10 s while the daemon creates its socket. Ok beneath a test
/// root (nothing runs there). Errors: what failed, in one sentence.
pub fn serving(root: &Root) -> Result<(), String> {
    if !root.is_host() {
        return Ok(());
    }
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let state = read(root);
        let verdict = match (&state.socket, postfix_entry(&state)) {
            (Some(probe), _) => match &probe.connect {
                Err(e) => Err(format!(
                    "OpenDKIM does not answer on {} ({e})",
                    probe.path.display()
                )),
                Ok(()) => match socket::denied(probe, &state.accounts, "postfix") {
                    Some(why) => Err(why),
                    None => Ok(()),
                },
            },
            (None, Some(entry)) => inet_answers(&entry),
            (None, None) => Err("main.cf names no OpenDKIM milter".into()),
        };
        if verdict.is_ok() || std::time::Instant::now() > until {
            return verdict;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}

/// A TCP connection to an `inet:host:port` milter entry.
fn inet_answers(entry: &str) -> Result<(), String> {
    match socket::address(entry)? {
        socket::Address::Tcp(addr) => std::net::TcpStream::connect(addr)
            .map(|_| ())
            .map_err(|e| format!("OpenDKIM does not answer on {entry} ({e})")),
        socket::Address::Unix(_) => Err(format!("{entry} is not a TCP socket")),
    }
}

/// The OpenDKIM entry of main.cf `smtpd_milters`.
fn postfix_entry(state: &LocalState) -> Option<String> {
    let cf = MainCf::parse(state.main_cf.as_deref()?);
    let listens = effective_socket(state);
    split_list(&cf.get("smtpd_milters").unwrap_or_default())
        .into_iter()
        .find(|e| milter::is_opendkim_entry(e, listens.as_deref()))
}

/// `opendkim -n -x /etc/opendkim.conf`: Ok, or its message.
fn opendkim_n() -> Result<(), String> {
    let mut c = crate::services::command("/usr/sbin/opendkim");
    c.args(["-n", "-x", system::OPENDKIM_CONF]);
    match c.output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(String::from_utf8_lossy(&out.stderr).trim().to_string()),
        Err(e) => Err(format!("cannot run opendkim -n: {e}")),
    }
}

/// The key file paths of a KeyTable (`name  domain:selector:/path`; inline keys skipped).
fn key_paths(table: &str) -> Vec<PathBuf> {
    KeyTable::parse(table)
        .entries()
        .filter_map(|(_, v)| v?.splitn(3, ':').nth(2).map(str::trim).map(PathBuf::from))
        .filter(|p| p.is_absolute())
        .collect()
}

/// Judge the state for `settings`; one result per check, in report order.
pub fn checks(state: &LocalState, settings: &Settings) -> Vec<JobResult> {
    let host = settings.hostname.to_string();
    let mut milter = milter_findings(state);
    milter.extend(double_signer(state));
    milter.extend(postconf_findings(state));
    let mut tables = table_findings(state, settings);
    if let Some(Err(why)) = &state.opendkim_n {
        tables.push(
            error(
                ids::OPENDKIM_CONFIG_INVALID,
                system::OPENDKIM_CONF,
                format!(
                    "opendkim -n refuses /etc/opendkim.conf: {}",
                    crate::dns::sanitize(why)
                ),
            )
            .fix(Some(
                "correct or remove the line opendkim -n names in /etc/opendkim.conf, then run \
                 opendkim -n again (the OpenDKIM step rewrites only the options mailsetup \
                 manages)"
                    .into(),
            )),
        );
    }
    let mut out = vec![
        result("milter", system::MAIN_CF, &host, milter),
        result("opendkim", system::SIGNING_TABLE, &host, tables),
        result("keys", system::KEYS_DIR, &host, key_findings(state)),
    ];
    if let Some((postfix, opendkim)) = state.running {
        let mut findings = Vec::new();
        if postfix {
            findings.extend(restart_pending(state));
        }
        if !opendkim {
            findings.push(not_running(ids::OPENDKIM_NOT_RUNNING, "opendkim"));
        }
        if !postfix {
            findings.push(not_running(ids::POSTFIX_NOT_RUNNING, "postfix"));
        }
        out.push(result("running", "postfix, opendkim", &host, findings));
    }
    out
}

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

fn error(id: &'static str, subject: &str, message: String) -> Finding {
    Finding::new(id, Severity::Error, subject, message)
}

/// `postfix.restart-pending`: main.cf's inet_protocols asks for IP versions the running
/// Postfix does not listen with, or listens with versions it no longer asks for.
fn restart_pending(state: &LocalState) -> Option<Finding> {
    let cf = MainCf::parse(state.main_cf.as_deref()?);
    let value = |name| cf.get(name).unwrap_or_else(|| "all".into());
    let why = listeners::pending(
        state.smtp_listeners.as_ref()?,
        &value("inet_protocols"),
        &value("inet_interfaces"),
    )?;
    Some(
        error(
            ids::POSTFIX_RESTART_PENDING,
            "postfix, opendkim",
            format!(
                "{why}: it was changed and Postfix only reloaded, which ignores \
                 inet_protocols and inet_interfaces"
            ),
        )
        .fix(Some(
            "stop and start Postfix: postfix stop && postfix start (systemctl restart postfix \
             with systemd)"
                .into(),
        )),
    )
}

fn not_running(id: &'static str, service: &str) -> Finding {
    error(
        id,
        "postfix, opendkim",
        format!("{service} is not running: no mail is signed (or sent) until it is"),
    )
    .fix(Some(format!(
        "start it: /etc/init.d/{service} start (systemctl start {service} with systemd)"
    )))
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
        .any(|e| milter::is_opendkim_entry(e, listens.as_deref()))
    {
        return None;
    }
    let amavis = state.other_signers.iter().find(|(file, text)| {
        file.starts_with("/etc/amavis/")
            && text.lines().any(|l| {
                let l = l.split('#').next().unwrap_or("").replace(' ', "");
                l.contains("$enable_dkim_signing=1")
            })
    });
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
            "let one signer sign: turn signing off in {file} (amavisd-new: \
             $enable_dkim_signing = 0;), or remove OpenDKIM from smtpd_milters"
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

/// Both milter lists name OpenDKIM, on the socket OpenDKIM listens on.
fn milter_findings(state: &LocalState) -> Vec<Finding> {
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
    let expected = listens.as_deref().and_then(milter::postfix_form_of);
    let is_ours = |entry: &str| milter::is_opendkim_entry(entry, listens.as_deref());
    let smtpd = cf.get("smtpd_milters").unwrap_or_default();
    let smtpd_items = split_list(&smtpd);
    let mut findings = Vec::new();
    let ours: Vec<&String> = smtpd_items.iter().filter(|e| is_ours(e)).collect();
    if ours.is_empty() {
        findings.push(
            error(
                ids::MILTER_NOT_CONFIGURED,
                subject,
                "smtpd_milters does not name OpenDKIM: mail that arrives by SMTP (and \
                 submission) is not signed"
                    .into(),
            )
            .found(format!("smtpd_milters = {smtpd}"))
            .expected(
                expected
                    .clone()
                    .unwrap_or_else(|| "the OpenDKIM socket".into()),
            )
            .fix(Some("the Milter step adds it".into())),
        );
    }
    let non = cf.get("non_smtpd_milters").unwrap_or_default();
    let through_smtpd = non.contains("$smtpd_milters") || non.contains("${smtpd_milters}");
    let signed_via_smtpd = through_smtpd && !ours.is_empty();
    if !signed_via_smtpd && !split_list(&non).iter().any(|e| is_ours(e)) {
        findings.push(
            error(
                ids::MILTER_NON_SMTPD_MISSING,
                subject,
                "non_smtpd_milters does not name OpenDKIM: mail from cron, sendmail or PHP \
                 goes out unsigned"
                    .into(),
            )
            .found(format!("non_smtpd_milters = {non}"))
            .expected(
                expected
                    .clone()
                    .unwrap_or_else(|| "the OpenDKIM socket".into()),
            )
            .fix(Some("the Milter step adds it".into())),
        );
    }
    if let Some(named) = ours.first() {
        findings.extend(reachability(state, named));
    }
    // `unix:` and `local:` name the same kind of socket (postconf(5) smtpd_milters)
    let same = |a: &str, b: &str| {
        let norm = |s: &str| s.trim().replacen("unix:", "local:", 1);
        norm(a) == norm(b)
    };
    if let (Some(want), Some(named)) = (&expected, ours.first())
        && !same(named, want)
    {
        findings.push(
            error(
                ids::MILTER_SOCKET_MISMATCH,
                subject,
                format!(
                    "Postfix talks to OpenDKIM at {named}, but OpenDKIM listens on {} ({})",
                    listens.as_deref().unwrap_or(""),
                    startup::socket_and_source(
                        &state.startup,
                        state.opendkim_conf.as_deref(),
                        state.default_file.as_deref()
                    )
                    .map_or("", |(_, source)| source)
                ),
            )
            .found(named.to_string())
            .expected(want.clone())
            .fix(Some(
                "the OpenDKIM and Milter steps name one socket on both sides".into(),
            )),
        );
    }
    findings
}

/// `milter.socket-unreachable` / `milter.socket-permission` for the entry Postfix uses.
fn reachability(state: &LocalState, entry: &str) -> Vec<Finding> {
    let subject = system::MAIN_CF;
    let Some(path) = socket::unix_path(entry) else {
        return Vec::new(); // inet: nothing about chroots or file permissions
    };
    let chrooted: Vec<String> = state
        .master_cf
        .as_deref()
        .map(crate::postfix::master_cf::MasterCf::parse)
        .map(|cf| {
            cf.services()
                .filter(|s| s.command() == "smtpd" && s.chroot() == Some(true))
                .map(|s| format!("{} {}", s.name(), s.kind()))
                .collect()
        })
        .unwrap_or_default();
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
            .expected(format!("a socket under {}", system::QUEUE_DIR))
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

/// The socket OpenDKIM listens on: see [`startup::effective_socket`].
pub(crate) fn effective_socket(state: &LocalState) -> Option<String> {
    startup::effective_socket(
        &state.startup,
        state.opendkim_conf.as_deref(),
        state.default_file.as_deref(),
    )
}

/// The SigningTable is read as `refile:` when it has wildcards, and names every domain.
fn table_findings(state: &LocalState, settings: &Settings) -> Vec<Finding> {
    let subject = system::SIGNING_TABLE;
    let conf = state.opendkim_conf.as_deref().map(OpendkimConf::parse);
    let declared = conf
        .as_ref()
        .and_then(|c| c.get("SigningTable"))
        .unwrap_or("");
    let table = SigningTable::parse(state.signing_table.as_deref().unwrap_or(""));
    let keys: Vec<String> = table
        .entries()
        .map(|(k, _)| k.to_ascii_lowercase())
        .collect();
    let mut findings = Vec::new();
    if keys.iter().any(|k| k.contains('*')) && !declared.trim_start().starts_with("refile:") {
        findings.push(
            error(
                ids::OPENDKIM_SIGNING_TABLE_NO_REFILE,
                subject,
                format!(
                    "the SigningTable has wildcard entries, but opendkim.conf reads it as \
                     `{declared}`, where `*` matches nothing: no mail is signed"
                ),
            )
            .found(format!("SigningTable {declared}"))
            .expected(format!("SigningTable refile:{}", system::SIGNING_TABLE))
            .fix(Some("the OpenDKIM step writes it with refile:".into())),
        );
    }
    for d in &settings.domains {
        let d = d.as_str();
        let covered = keys
            .iter()
            .any(|k| k == &format!("*@{d}") || k == d || k.ends_with(&format!("@{d}")));
        if !covered {
            findings.push(
                error(
                    ids::OPENDKIM_SIGNING_TABLE_MISSING_DOMAIN,
                    subject,
                    format!("the SigningTable has no entry for {d}: its mail is not signed"),
                )
                .expected(format!("*@{d} {}._domainkey.{d}", settings.selector))
                .fix(Some("the Tables step adds it".into())),
            );
        }
    }
    findings
}

/// Every KeyTable key exists and passes OpenDKIM's path check.
fn key_findings(state: &LocalState) -> Vec<Finding> {
    let opendkim_uid = state.accounts.user("opendkim").map(|u| u.uid);
    let mut findings = Vec::new();
    let subject = system::KEYS_DIR;
    for (path, walk) in &state.keys {
        let shown = path.display().to_string();
        match walk {
            Err(why) => findings.push(
                error(
                    ids::OPENDKIM_KEY_MISSING,
                    subject,
                    format!("the KeyTable names {shown}, which cannot be read ({why})"),
                )
                .fix(Some("the Keys step creates it".into())),
            ),
            Ok(nodes) => {
                if let (Some(uid), Some(key)) = (opendkim_uid, nodes.last())
                    && !readable_by_opendkim(key, uid, &state.accounts)
                {
                    findings.push(
                        error(
                            ids::OPENDKIM_KEY_MISSING,
                            subject,
                            format!(
                                "the opendkim user cannot read {shown} (uid {} gid {} mode \
                                 {:04o}): OpenDKIM signs nothing with it",
                                key.uid, key.gid, key.mode
                            ),
                        )
                        .fix(Some(format!(
                            "chown opendkim:opendkim {shown} (the Keys step does this)"
                        ))),
                    );
                    continue;
                }
                if let Some(uid) = opendkim_uid
                    && let Some(why) = securefile::judge(nodes, uid, &state.accounts)
                {
                    findings.push(
                        error(
                            ids::OPENDKIM_KEY_INSECURE,
                            subject,
                            format!(
                                "OpenDKIM will refuse {shown} (\"key data is not secure\"): {why}"
                            ),
                        )
                        .fix(Some(
                            "the Keys step sets opendkim:opendkim 0600 and root:opendkim 0750 \
                             directories"
                                .into(),
                        )),
                    );
                }
            }
        }
    }
    findings
}

/// Whether the opendkim user (uid `uid`) may read the key file (owner, group or other
/// read bit).
fn readable_by_opendkim(key: &securefile::Node, uid: u32, accounts: &Accounts) -> bool {
    let gid = accounts.user("opendkim").map(|u| u.gid);
    let member = accounts
        .groups
        .values()
        .any(|g| g.gid == key.gid && g.members.iter().any(|m| m == "opendkim"));
    if key.uid == uid {
        key.mode & 0o400 != 0
    } else if gid == Some(key.gid) || member {
        key.mode & 0o040 != 0
    } else {
        key.mode & 0o004 != 0
    }
}

#[cfg(test)]
mod tests;
