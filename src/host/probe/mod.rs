//! The reading of the system for the local checks (`crate::local` does no I/O): the files
//! beneath the root, the key path walks, the milter socket, the SMTP listeners, the daemons,
//! `postconf -n` and `opendkim -n`, gathered into a [`LocalState`] that the local judges
//! (`milter`, `tables`, `keys`, `running`) read without touching the system.
//! Beneath a test root only files are read: sockets, listeners, daemons and `opendkim -n`
//! are looked at on the host only. [`serving`], the after-restart probe, lives here too.

mod startup;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::host::accounts::Accounts;
use crate::host::services::{self, Service};
use crate::host::system::{self, Root};
use crate::local::listeners::{self, Listeners};
use crate::local::opendmarc::{self, DmarcState};
use crate::local::securefile::Node;
use crate::local::socket::{self, Probe};
use crate::local::{LocalState, key_paths, postfix_entry};

/// Read the state beneath `root`. Never fails: what cannot be read is `None` (or empty, or
/// an `Err` with the reason, for a key walk) in the state, for the judges to name.
pub fn read(root: &Root) -> LocalState {
    // what exists but cannot be read as it is (this user may not, or it is a link, which is
    // never followed beneath the root): the judges say so instead of judging
    let unread = std::cell::RefCell::new(Vec::new());
    let text = |p: &str| match system::read_file(root, p) {
        Ok(file) => file.text,
        Err(e) => {
            let why = match &e {
                crate::error::Error::Io { source, .. }
                    if source.kind() == std::io::ErrorKind::PermissionDenied =>
                {
                    DENIED.to_string()
                }
                crate::error::Error::Io { source, .. }
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    return None;
                }
                other => other.to_string(),
            };
            unread.borrow_mut().push((PathBuf::from(p), why));
            None
        }
    };
    let key_table = text(system::KEY_TABLE);
    let keys = key_table
        .as_deref()
        .map(key_paths)
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            let walk = key_walk(root, &p);
            if walk.is_err() && denied_on_the_way(root, &p) {
                unread.borrow_mut().push((p.clone(), DENIED.to_string()));
            }
            (p, walk)
        })
        .collect();
    let mut state = LocalState {
        main_cf: text(system::MAIN_CF),
        master_cf: text(system::MASTER_CF),
        socket: None,
        smtp_listeners: root.is_host().then(smtp_listeners),
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
                services::is_running(Service::Postfix),
                services::is_running(Service::Opendkim),
            )
        }),
        postconf_warnings: postconf_warnings(root),
        opendkim_n: (root.is_host() && Path::new("/usr/sbin/opendkim").exists()).then(opendkim_n),
        unread: Vec::new(),
        policyd_spf: system::lstat(root, crate::inbound_spf::PROGRAM)
            .ok()
            .flatten()
            .is_some_and(|s| {
                use crate::host::apply::fence::Kind;
                matches!(s.kind, Kind::File | Kind::Symlink)
            }),
        opendmarc: DmarcState {
            conf: text(system::OPENDMARC_CONF),
            default_file: text(system::DEFAULT_OPENDMARC),
            running: root
                .is_host()
                .then(|| services::is_running(Service::Opendmarc)),
            socket: None,
        },
        tls: Default::default(),
        ed25519: Default::default(),
    };
    state.tls = tls_state(root, state.main_cf.as_deref(), &unread);
    if root.is_host() {
        state.ed25519 = ed25519_state(root, &state);
    }
    state.unread = unread.into_inner();
    if root.is_host()
        && let Some(path) = postfix_entry(&state).as_deref().and_then(socket::unix_path)
    {
        state.socket = Some(socket_probe(root, &path));
    }
    if root.is_host()
        && let Some(path) = opendmarc::postfix_entry(&state)
            .as_deref()
            .and_then(socket::unix_path)
    {
        state.opendmarc.socket = Some(socket_probe(root, &path));
    }
    state
}

/// The certificate and key main.cf names, each looked at without following a link; one this
/// user may not look at (the 0710 /etc/ssl/private, when not root) is unread, not absent.
fn tls_state(
    root: &Root,
    main_cf: Option<&str>,
    unread: &std::cell::RefCell<Vec<(PathBuf, String)>>,
) -> crate::local::tls::TlsState {
    let files = main_cf
        .map(crate::tls::configured_files)
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            let info = match system::lstat(root, &p) {
                Ok(stat) => stat.map(|s| crate::tls::FileInfo {
                    kind: s.kind,
                    meta: s.meta,
                }),
                Err(e) => {
                    let why = match &e {
                        crate::error::Error::Io { source, .. }
                            if source.kind() == std::io::ErrorKind::PermissionDenied =>
                        {
                            DENIED.to_string()
                        }
                        other => other.to_string(),
                    };
                    unread.borrow_mut().push((p.clone(), why));
                    None
                }
            };
            (p, info)
        })
        .collect();
    let files: crate::tls::Files = files;
    let names_snakeoil = files.contains_key(Path::new(crate::tls::SNAKEOIL_CERT));
    let snakeoil_self_signed = names_snakeoil
        .then(|| {
            system::read_file(root, crate::tls::SNAKEOIL_CERT)
                .ok()?
                .text
        })
        .flatten()
        .and_then(|pem| crate::tls::first_is_self_signed(pem.as_bytes()));
    crate::local::tls::TlsState {
        files,
        root_ids: Some(crate::plan::root_ids(root)),
        snakeoil_self_signed,
    }
}

/// After a restart: does OpenDKIM answer on the socket Postfix uses, and may Postfix's user
/// open it? (Nothing to ask when main.cf names no OpenDKIM milter and amavisd-new signs.) Retries for up to 10 s while the daemon creates its socket. Ok beneath a test
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
            // OpenDKIM left out of Postfix on purpose: amavisd-new signs (signer =
            // "amavisd-new"), and Postfix needs nothing from OpenDKIM
            (None, None) if amavis_signs(&state) => Ok(()),
            (None, None) => Err("main.cf names no OpenDKIM milter".into()),
        };
        // the second (Ed25519) instance, when Postfix names it, must answer too
        let verdict = verdict.and_then(|()| match ed25519_entry(root, &state) {
            None => Ok(()),
            Some(entry) => match socket::unix_path(&entry) {
                Some(path) => socket_probe(root, &path).connect.map_err(|e| {
                    format!(
                        "OpenDKIM's Ed25519 instance does not answer on {} ({e})",
                        path.display()
                    )
                }),
                None => inet_answers(&entry),
            },
        });
        if verdict.is_ok() || std::time::Instant::now() > until {
            return verdict;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}

/// The second OpenDKIM instance (on the host): whether it runs, and its Unix socket as
/// main.cf names it, looked at. Nothing when main.cf does not name it.
fn ed25519_state(root: &Root, state: &LocalState) -> crate::local::ed25519::Ed25519State {
    let Some(entry) = ed25519_entry(root, state) else {
        return Default::default();
    };
    crate::local::ed25519::Ed25519State {
        running: Some(services::is_running(Service::OpendkimEd25519)),
        socket: socket::unix_path(&entry).map(|p| socket_probe(root, &p)),
    }
}

/// main.cf's entry for the second instance: the one naming the `Socket` of
/// /etc/opendkim-ed25519.conf, or mentioning `opendkim-ed25519`.
fn ed25519_entry(root: &Root, state: &LocalState) -> Option<String> {
    let conf = system::read_file(root, system::ED25519_CONF).ok()?.text;
    let ours = conf
        .as_deref()
        .and_then(|t| {
            crate::opendkim::OpendkimConf::parse(t)
                .get("Socket")
                .map(str::to_string)
        })
        .and_then(|s| crate::milter::postfix_form_of(&s))
        .unwrap_or_else(|| {
            crate::milter::postfix_ed25519_milter(crate::values::MilterSocket::Local)
        });
    crate::local::ed25519::postfix_entry(state.main_cf.as_deref()?, &ours)
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

/// Whether amavisd-new's configuration (as [`other_signers`] read it) turns signing on.
fn amavis_signs(state: &LocalState) -> bool {
    crate::amavis::signs(
        state
            .other_signers
            .iter()
            .filter(|(f, _)| f.starts_with(crate::amavis::CONF_D))
            .map(|(_, t)| t.as_str()),
    )
}

/// `amavisd showkeys` (amavisd(8): the public half of every key the live configuration
/// declares, as zone-file records; it reads the configuration and the keys, without the
/// daemon), parsed; None when amavisd is not installed or fails.
pub fn amavis_showkeys() -> Option<Vec<crate::amavis::ShownKey>> {
    if !Path::new(crate::amavis::AMAVISD).exists() {
        return None;
    }
    let mut c = services::command(crate::amavis::AMAVISD);
    c.arg("showkeys");
    let out = services::output(&mut c).ok()?;
    out.status
        .success()
        .then(|| crate::amavis::parse_showkeys(&String::from_utf8_lossy(&out.stdout)))
}

/// amavisd-new's configuration snippets (those it reads, [`crate::amavis::is_read`]) and
/// rspamd's DKIM signing configuration.
fn other_signers(root: &Root) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(root.path("/etc/amavis/conf.d"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| crate::amavis::is_read(&e.file_name().to_string_lossy()))
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

/// `postconf -n`'s warnings about the root's /etc/postfix (the staging directory named as
/// /etc/postfix); `None` without postconf, or when it cannot be run.
fn postconf_warnings(root: &Root) -> Option<Vec<String>> {
    Path::new("/usr/sbin/postconf")
        .exists()
        .then(|| crate::host::apply::validate::warnings(&root.path("/etc/postfix")).ok())
        .flatten()
        .map(|w| w.iter().map(|l| l.replace("DIR", "/etc/postfix")).collect())
}

/// `opendkim -n -x /etc/opendkim.conf`: Ok, or its message.
fn opendkim_n() -> Result<(), String> {
    let mut c = services::command("/usr/sbin/opendkim");
    c.args(["-n", "-x", system::OPENDKIM_CONF]);
    match services::output(&mut c) {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(String::from_utf8_lossy(&out.stderr).trim().to_string()),
        Err(e) => Err(format!("cannot run opendkim -n: {e}")),
    }
}

/// Who listens on port 25, from /proc/net/tcp and tcp6 (parsed by [`listeners::parse`]),
/// and whether the host has IPv6 at all (/proc/net/if_inet6).
fn smtp_listeners() -> Listeners {
    let text = |f: &str| std::fs::read_to_string(f).unwrap_or_default();
    let mut addrs = listeners::parse(&text("/proc/net/tcp"));
    addrs.extend(listeners::parse(&text("/proc/net/tcp6")));
    Listeners {
        addrs,
        ipv6_available: !text("/proc/net/if_inet6").trim().is_empty(),
    }
}

/// Every component of the key's real path, `/` first and the key last, as they are beneath
/// the root (for [`crate::local::securefile::judge`]). Errors: the key does not exist, or its real
/// path leaves the root.
fn key_walk(root: &Root, key: &Path) -> Result<Vec<Node>, String> {
    let full = root.path(key);
    let real = std::fs::canonicalize(&full).map_err(|e| format!("{}: {e}", key.display()))?;
    let base = std::fs::canonicalize(root.path("/")).map_err(|e| e.to_string())?;
    let rel = real
        .strip_prefix(&base)
        .map_err(|_| format!("{} resolves outside the root", key.display()))?;
    let mut nodes = Vec::new();
    let mut system = PathBuf::from("/");
    let mut here = base.clone();
    let mut push = |system: &Path, here: &Path| -> Result<(), String> {
        let m = std::fs::metadata(here).map_err(|e| format!("{}: {e}", system.display()))?;
        nodes.push(Node {
            path: system.to_path_buf(),
            uid: m.uid(),
            gid: m.gid(),
            mode: m.mode() & 0o7777,
            is_dir: m.is_dir(),
        });
        Ok(())
    };
    push(&system, &here)?;
    for part in rel.components() {
        system.push(part);
        here.push(part);
        push(&system, &here)?;
    }
    Ok(nodes)
}

/// Why a file that exists was not read, when this user may not read it.
const DENIED: &str = "this user may not read it";

/// Whether the key `key` (a system path) cannot be looked at because a directory on its way
/// may not be searched by this user (EACCES), rather than because it is not there.
fn denied_on_the_way(root: &Root, key: &Path) -> bool {
    let denied = |e: std::io::Error| e.kind() == std::io::ErrorKind::PermissionDenied;
    match std::fs::symlink_metadata(root.path(key)) {
        Ok(_) => std::fs::File::open(root.path(key)).is_err_and(denied),
        Err(e) => denied(e),
    }
}

/// Look at the Unix socket `path` beneath the root (owner, group and mode of it and of each
/// directory above it) and try to connect.
fn socket_probe(root: &Root, path: &Path) -> Probe {
    let mut nodes = Vec::new();
    let mut system = PathBuf::from("/");
    let meta = |p: &Path| {
        std::fs::metadata(root.path(p))
            .ok()
            .map(|m| (m.uid(), m.gid(), m.mode() & 0o7777))
    };
    nodes.push((system.clone(), meta(&system)));
    for part in path.components().skip(1) {
        system.push(part);
        nodes.push((system.clone(), meta(&system)));
    }
    let connect = std::os::unix::net::UnixStream::connect(root.path(path))
        .map(|_| ())
        .map_err(|e| e.to_string());
    Probe {
        path: path.to_path_buf(),
        nodes,
        connect,
    }
}
