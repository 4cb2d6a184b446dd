//! The current state the plan is built from: the managed files' text and metadata, the keys that
//! exist, the directories, and the accounts. [`Current::read`] is the only I/O here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::host::accounts::Accounts;
use crate::host::apply::fence::Kind;
use crate::host::system::{self, FileState, Meta, Root};
use crate::keys::{KeyKind, PublicKey, public_from_pem};
use crate::opendkim::tables::KeyTable;
use crate::settings::Settings;
use crate::values::Domain;

/// An existing (or absent) private key at `path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyState {
    pub path: PathBuf,
    /// Owner/mode when the file exists.
    pub meta: Option<Meta>,
    /// The public half when the file exists and is a readable key of its kind (RSA, or
    /// Ed25519 for [`Current::ed_keys`]).
    pub public: Option<PublicKey>,
    /// When the key is missing: the newest key a rollback retired for this path (under
    /// `/var/lib/mailsetup/retired-keys/`), which an apply brings back.
    pub retired: Option<PathBuf>,
    /// This user may not look at the key (a directory on its way is 0750 root:opendkim and
    /// the user is not root): nothing is known about it; a plan refuses, `check` leaves the
    /// DKIM record's key unchecked.
    pub denied: bool,
}

/// What the system looks like now, as far as the plan cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    pub main_cf: FileState,
    pub master_cf: FileState,
    pub opendkim_conf: FileState,
    pub default_opendkim: FileState,
    /// /etc/opendmarc.conf and /etc/default/opendmarc (inbound DMARC).
    pub opendmarc_conf: FileState,
    pub default_opendmarc: FileState,
    pub key_table: FileState,
    pub signing_table: FileState,
    pub trusted_hosts: FileState,
    /// The key each signing domain will use: the one the KeyTable already names for
    /// `<selector>._domainkey.<domain>`, else `/etc/opendkim/keys/<domain>/<selector>.private`.
    pub keys: BTreeMap<Domain, KeyState>,
    /// With `ed25519-sha256` in the answers' `algorithms`: the Ed25519 key of each signing
    /// domain, found as [`Current::keys`] for the `ed25519_selector`; empty otherwise.
    pub ed_keys: BTreeMap<Domain, KeyState>,
    /// Metadata of the directories the plan manages (None = absent).
    pub dirs: BTreeMap<PathBuf, Option<Meta>>,
    pub accounts: Accounts,
    /// Whether the SPF policy agent's program ([`crate::inbound_spf::PROGRAM`]) exists
    /// beneath the root (package postfix-policyd-spf-python).
    pub policyd_spf: bool,
    /// amavisd-new's configuration snippets and the keys they declare.
    pub amavis: AmavisState,
    /// The certificates and keys the TLS part may name ([`crate::tls::candidates`]), each
    /// looked at without following a link; absent (or not ours to look at) is `None`.
    pub tls_files: crate::tls::Files,
    /// Who stands for root here ([`crate::tls::RootIds`]).
    pub root_ids: crate::tls::RootIds,
    /// Per signing domain with a `*@domain` SigningTable entry whose key name the KeyTable
    /// defines: the selector OpenDKIM signs with now, and the size of the key the KeyTable
    /// names for it (None: unreadable).
    pub signing: BTreeMap<Domain, (String, Option<usize>)>,
    /// The second OpenDKIM instance (Ed25519 dual signing): its configuration, KeyTable,
    /// SigningTable and systemd unit ([`system::ED25519_CONF`] and the rest).
    pub ed25519: Ed25519Files,
    /// Whether systemd runs beneath the root ([`system::has_systemd`]): the second
    /// instance then gets a unit of its own.
    pub systemd: bool,
}

/// The files of the second OpenDKIM instance, as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ed25519Files {
    pub conf: FileState,
    pub key_table: FileState,
    pub signing_table: FileState,
    pub unit: FileState,
}

impl Ed25519Files {
    fn read(root: &Root) -> Result<Ed25519Files> {
        Ok(Ed25519Files {
            conf: system::read_file(root, system::ED25519_CONF)?,
            key_table: system::read_file(root, system::ED25519_KEY_TABLE)?,
            signing_table: system::read_file(root, system::ED25519_SIGNING_TABLE)?,
            unit: system::read_file(root, system::ED25519_UNIT)?,
        })
    }
}

/// amavisd-new as this root has it: /etc/amavis/conf.d/* (each read through the fence; a
/// file that cannot be read as text is left out: mailsetup edits none it cannot show) and,
/// per signing domain, the key its `dkim_key(...)` calls declare.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AmavisState {
    /// The snippets in the order amavisd-new reads them (by name).
    pub conf: Vec<FileState>,
    /// Per signing domain, the first key declared for it: its selector and public half
    /// (None when the PEM file cannot be read or is not an RSA key), with the reason.
    pub keys: BTreeMap<Domain, AmavisKey>,
}

/// A key amavisd-new's configuration declares for a signing domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmavisKey {
    pub selector: String,
    pub path: PathBuf,
    pub public: std::result::Result<PublicKey, String>,
}

impl AmavisState {
    /// Is amavisd-new installed here (its conf.d exists)?
    pub fn installed(&self) -> bool {
        !self.conf.is_empty()
    }

    /// Does the configuration turn DKIM signing on ([`crate::amavis::signs`])?
    pub fn signs(&self) -> bool {
        crate::amavis::signs(self.conf.iter().filter_map(|f| f.text.as_deref()))
    }

    /// Read conf.d beneath the root (the files amavisd-new reads: [`crate::amavis::is_read`];
    /// so not the backups an apply leaves beside them), and the keys declared for `domains`.
    pub fn read(root: &Root, domains: &[Domain]) -> AmavisState {
        let mut names: Vec<String> = std::fs::read_dir(root.path(crate::amavis::CONF_D))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| crate::amavis::is_read(n))
            .collect();
        names.sort();
        let conf: Vec<FileState> = names
            .iter()
            .filter_map(|n| system::read_file(root, &format!("{}/{n}", crate::amavis::CONF_D)).ok())
            .filter(|f| f.text.is_some())
            .collect();
        let mut keys = BTreeMap::new();
        for decl in conf
            .iter()
            .filter_map(|f| f.text.as_deref())
            .flat_map(crate::amavis::key_decls)
        {
            let Some(domain) = domains
                .iter()
                .find(|d| d.as_str().eq_ignore_ascii_case(&decl.domain))
            else {
                continue;
            };
            if keys.contains_key(domain) {
                continue;
            }
            let public = system::read_file(root, &decl.path.to_string_lossy())
                .map_err(|e| e.to_string())
                .and_then(|f| {
                    f.text
                        .ok_or_else(|| format!("{} does not exist", decl.path.display()))
                })
                .and_then(|pem| public_from_pem(&pem));
            keys.insert(
                domain.clone(),
                AmavisKey {
                    selector: decl.selector,
                    path: decl.path,
                    public,
                },
            );
        }
        AmavisState { conf, keys }
    }
}

impl Current {
    /// Read the state beneath `root` for these settings.
    ///
    /// Errors: unreadable files, a key file that is not an RSA key.
    pub fn read(root: &Root, settings: &Settings) -> Result<Current> {
        let key_table = system::read_file(root, system::KEY_TABLE)?;
        let table = KeyTable::parse(key_table.text.as_deref().unwrap_or(""));
        let ed25519 = Ed25519Files::read(root)?;
        let ed_table = KeyTable::parse(ed25519.key_table.text.as_deref().unwrap_or(""));
        let mut keys = BTreeMap::new();
        let mut ed_keys = BTreeMap::new();
        let rsa = KeyKind::Rsa(settings.key_bits);
        for domain in &settings.domains {
            let path = key_path(&table, domain, &settings.selector);
            keys.insert(domain.clone(), read_key(root, &path, rsa)?);
            if let Some(ed) = &settings.ed25519 {
                let path = key_path(&ed_table, domain, ed);
                ed_keys.insert(domain.clone(), read_key(root, &path, KeyKind::Ed25519)?);
            }
        }
        let signing_table = system::read_file(root, system::SIGNING_TABLE)?;
        let st = crate::opendkim::SigningTable::parse(signing_table.text.as_deref().unwrap_or(""));
        let mut signing = BTreeMap::new();
        for domain in &settings.domains {
            // an entry whose key name the KeyTable does not define signs nothing: that is
            // a conflict for the Tables part to report, not a key to rotate away from
            let Some(selector) = crate::rotate::signing_selector(&st, domain)
                .filter(|s| crate::rotate::key_of(&table, domain, s).is_some())
            else {
                continue;
            };
            let bits = if selector == settings.selector.as_str() {
                keys.get(domain)
                    .and_then(|k: &KeyState| k.public.as_ref().map(|p| p.bits))
            } else {
                crate::rotate::key_of(&table, domain, &selector)
                    .and_then(|path| read_key(root, &path, rsa).ok())
                    .and_then(|k| k.public.map(|p| p.bits))
            };
            signing.insert(domain.clone(), (selector, bits));
        }
        let mut dirs = BTreeMap::new();
        let mut wanted: Vec<PathBuf> = vec![
            system::OPENDKIM_DIR.into(),
            system::KEYS_DIR.into(),
            system::SOCKET_DIR.into(),
            system::OPENDMARC_SOCKET_DIR.into(),
        ];
        wanted.push(system::ED25519_DIR.into());
        wanted.extend(
            keys.values()
                .chain(ed_keys.values())
                .filter_map(|k| k.path.parent().map(Path::to_path_buf)),
        );
        for d in wanted {
            // a key directory this user may not search: unknown, and the key says so (denied)
            let meta = match system::lstat(root, &d) {
                Err(e) if is_denied(&e) => None,
                stat => stat?.filter(|m| m.kind == Kind::Dir).map(|m| m.meta),
            };
            dirs.insert(d, meta);
        }
        let main_cf = system::read_file(root, system::MAIN_CF)?;
        let tls_files = tls_files(root, settings, main_cf.text.as_deref());
        Ok(Current {
            main_cf,
            master_cf: system::read_file(root, system::MASTER_CF)?,
            opendkim_conf: system::read_file(root, system::OPENDKIM_CONF)?,
            default_opendkim: system::read_file(root, system::DEFAULT_OPENDKIM)?,
            opendmarc_conf: system::read_file(root, system::OPENDMARC_CONF)?,
            default_opendmarc: system::read_file(root, system::DEFAULT_OPENDMARC)?,
            key_table,
            signing_table,
            trusted_hosts: system::read_file(root, system::TRUSTED_HOSTS)?,
            keys,
            ed_keys,
            dirs,
            accounts: Accounts::read(
                root,
                &[ACCOUNTS, &[crate::inbound_spf::USER]].concat(),
                ACCOUNTS,
            )?,
            // a root this user may not look into (or with a link on the way) has no agent
            // here: the Inbound SPF step then says to install it, and nothing else cares
            policyd_spf: system::lstat(root, crate::inbound_spf::PROGRAM)
                .ok()
                .flatten()
                .is_some_and(|s| matches!(s.kind, Kind::File | Kind::Symlink)),
            amavis: AmavisState::read(root, &settings.domains),
            tls_files,
            root_ids: root_ids(root),
            signing,
            ed25519,
            systemd: system::has_systemd(root),
        })
    }
}

/// The users and groups the plan names (owners, group members).
pub const ACCOUNTS: &[&str] = &[
    "opendkim",
    "postfix",
    "opendmarc",
    crate::tls::SSL_CERT_GROUP,
];

/// Who stands for root: uid/gid 0 on the host or when run by root; beneath a test root run
/// by another user, that user (who owns everything there).
pub fn root_ids(root: &Root) -> crate::tls::RootIds {
    let euid = nix::unistd::geteuid();
    if root.is_host() || euid.is_root() {
        crate::tls::RootIds::ROOT
    } else {
        crate::tls::RootIds {
            uid: euid.as_raw(),
            gid: nix::unistd::getegid().as_raw(),
        }
    }
}

/// The TLS candidates beneath the root, each looked at without following a link (a
/// directory this user may not search, such as certbot's 0700 `live/`, hides them: `None`).
pub fn tls_files(root: &Root, settings: &Settings, main_cf: Option<&str>) -> crate::tls::Files {
    let answers = settings
        .tls
        .as_ref()
        .map(|(c, k)| (c.as_path(), k.as_path()));
    crate::tls::candidates(&settings.hostname, answers, main_cf)
        .into_iter()
        .map(|p| {
            let info = system::lstat(root, &p)
                .ok()
                .flatten()
                .map(|s| crate::tls::FileInfo {
                    kind: s.kind,
                    meta: s.meta,
                });
            (p, info)
        })
        .collect()
}

/// The default key location for a domain and selector:
/// `/etc/opendkim/keys/<domain>/<selector>.private`.
pub fn default_key_path(domain: &Domain, selector: &crate::values::Selector) -> PathBuf {
    PathBuf::from(format!("{}/{domain}/{selector}.private", system::KEYS_DIR))
}

/// The key the KeyTable names for our key name (`domain:selector:/abs/path`), if it names one with
/// the same domain and selector and an absolute path; else the default location.
fn key_path(table: &KeyTable, domain: &Domain, selector: &crate::values::Selector) -> PathBuf {
    let name = format!("{selector}._domainkey.{domain}");
    if let Some(value) = table.get(&name) {
        let mut parts = value.splitn(3, ':');
        if let (Some(d), Some(s), Some(p)) = (parts.next(), parts.next(), parts.next())
            && d.eq_ignore_ascii_case(domain.as_str())
            && s == selector.as_str()
            && p.starts_with('/')
        {
            // a fourth field names the key's signing algorithm (`…:/path:ed25519-sha256`)
            return PathBuf::from(p.split(':').next().unwrap_or(p));
        }
    }
    default_key_path(domain, selector)
}

/// Whether the error is this user's lack of permission (EACCES), not a missing file.
fn is_denied(e: &Error) -> bool {
    matches!(e, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied)
}

fn read_key(root: &Root, path: &Path, kind: KeyKind) -> Result<KeyState> {
    let stat = match system::lstat(root, path) {
        Err(e) if is_denied(&e) => {
            return Ok(KeyState {
                path: path.to_path_buf(),
                meta: None,
                public: None,
                retired: None,
                denied: true,
            });
        }
        stat => stat?,
    };
    let Some(md) = stat else {
        // unreadable (not root) counts as none: the plan then offers a new key
        let retired = crate::host::apply::retired_keys(root, path)
            .ok()
            .and_then(|found| found.into_iter().next());
        return Ok(KeyState {
            path: path.to_path_buf(),
            meta: None,
            public: None,
            retired,
            denied: false,
        });
    };
    let real = root.path(path);
    if md.kind == Kind::Symlink {
        return Err(Error::Symlink { path: real });
    }
    let pem = system::read_file(root, &path.to_string_lossy())?
        .text
        .unwrap_or_default();
    let public = crate::keys::public_from_pem_kind(kind, &pem).map_err(|reason| Error::Key {
        path: real.clone(),
        reason,
        fix: "move the file away (mailsetup never overwrites a key) or point the KeyTable at a valid key".into(),
    })?;
    Ok(KeyState {
        path: path.to_path_buf(),
        meta: Some(md.meta),
        public: Some(public),
        retired: None,
        denied: false,
    })
}
