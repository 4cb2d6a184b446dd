//! The plan: everything an apply would do, as a value. File changes (path, before, after, owner,
//! mode, why), key creations (never the secret), directories, group changes and service actions.
//! Its `Display` is what the operator reviews: unified diffs plus one line per other action.
//! [`build`] computes it from the settings and the current state; [`crate::host::apply`] carries it out.

use std::fmt;
use std::path::PathBuf;

use crate::values::{Domain, Selector};

mod build;
mod current;
mod ed25519_files;
mod json;
mod needs;
mod opendkim_files;
mod opendmarc_files;
mod postfix_files;
mod service;
mod spf_policy_files;
mod tls_files;

pub use build::{build, build_parts};
pub use current::{ACCOUNTS, AmavisKey, AmavisState, Current, Ed25519Files, KeyState, root_ids};
pub use json::to_json;
pub use needs::{check_selection, with_earlier_prerequisites, with_prerequisites};
pub use service::{Service, ServiceAction, Verb};

/// Who owns a file or directory, by name (resolved to ids when applying).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pub user: &'static str,
    pub group: &'static str,
}

impl Owner {
    pub const ROOT: Owner = Owner {
        user: "root",
        group: "root",
    };
    pub const OPENDKIM: Owner = Owner {
        user: "opendkim",
        group: "opendkim",
    };
    pub const ROOT_OPENDKIM: Owner = Owner {
        user: "root",
        group: "opendkim",
    };
    pub const OPENDMARC: Owner = Owner {
        user: "opendmarc",
        group: "opendmarc",
    };
}

/// How the Keys step leaves a private key: owned by OpenDKIM, mode 0600 (OpenDKIM refuses a
/// key that others may read, postfix-opendkim.md §2.5).
pub const KEY_OWNER: Owner = Owner::OPENDKIM;
pub const KEY_MODE: u32 = 0o600;
/// How the Keys step leaves the key directories: root:opendkim 0750.
pub const KEY_DIR_OWNER: Owner = Owner::ROOT_OPENDKIM;
pub const KEY_DIR_MODE: u32 = 0o750;

/// What the Keys step does to a key and its directories, in words, for the checks' fix
/// lines: `the Keys step sets opendkim:opendkim 0600 on the key and root:opendkim 0750 on
/// its directories`.
pub fn key_layout() -> String {
    format!(
        "the Keys step sets {KEY_OWNER} {KEY_MODE:04o} on the key and {KEY_DIR_OWNER} \
         {KEY_DIR_MODE:04o} on its directories"
    )
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.user, self.group)
    }
}

/// Owner and mode a file gets: those it already has, or the given ones for a new file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Perms {
    /// Keep the file's current owner and mode (an edit of an existing file).
    Keep,
    /// A new file: this owner and mode.
    New(Owner, u32),
}

/// One text file to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// Absolute system path (resolved beneath the root when applying).
    pub path: PathBuf,
    /// The text now; None when the file does not exist yet.
    pub before: Option<String>,
    pub after: String,
    pub perms: Perms,
    pub why: String,
}

/// A new DKIM key to generate at `path` (owner opendkim:opendkim, mode 0600 from the first byte),
/// with a `<selector>.txt` record file beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCreation {
    pub domain: Domain,
    pub selector: Selector,
    pub path: PathBuf,
    /// RSA of a size (the answers' `key_bits`), or Ed25519 (`algorithms`, RFC 8463).
    pub kind: crate::keys::KeyKind,
    /// The key a rollback retired for this domain and selector, brought back instead of a
    /// new one (so the record published for it stays valid).
    pub restore_from: Option<PathBuf>,
}

/// A directory that must exist with this owner and mode (created, or its owner/mode corrected).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirChange {
    pub path: PathBuf,
    pub owner: Owner,
    pub mode: u32,
    /// True when it exists already and only owner/mode change.
    pub exists: bool,
    pub why: String,
}

/// An existing file whose owner or mode must change (e.g. a key OpenDKIM cannot read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermChange {
    pub path: PathBuf,
    pub owner: Owner,
    pub mode: u32,
    pub why: String,
}

/// A domain whose key must change by a rotation (`mailsetup rotate`), not by an edit: the
/// answers ask for another selector or key size than the key signing now. Nothing an apply
/// writes; shown as pending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationNeeded {
    pub domain: Domain,
    pub why: String,
}

/// Add `user` to the supplementary group `group`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupChange {
    pub user: &'static str,
    pub group: &'static str,
    pub why: String,
}

/// The parts of the set-up, in the order the wizard walks them; each is one step with its
/// own diff. [`Part::ALL`] is the whole plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// main.cf `myhostname` and `inet_protocols`.
    Identity,
    /// opendkim.conf, /etc/default/opendkim `SOCKET=`, and the socket directory.
    Opendkim,
    /// main.cf milter parameters, and `postfix` in group `opendkim` for the socket.
    Milter,
    /// KeyTable, SigningTable, TrustedHosts, and /etc/opendkim.
    Tables,
    /// The key directories, the keys, and their owner and mode.
    Keys,
    /// Inbound SPF (answers `inbound_spf`): the policyd-spf service in master.cf, and
    /// `check_policy_service` in main.cf `smtpd_recipient_restrictions` ([`crate::inbound_spf`]).
    /// Nothing when `inbound_spf` is false.
    InboundSpf,
    /// One DKIM signer: amavisd-new's signing turned off in /etc/amavis/conf.d when OpenDKIM
    /// signs (answers `signer`); nothing when amavisd-new signs.
    Signer,
    /// Inbound DMARC (answers `inbound_dmarc`): opendmarc.conf, /etc/default/opendmarc
    /// `SOCKET=`, its socket directory, OpenDMARC after OpenDKIM in `smtpd_milters`, and
    /// `postfix` in group `opendmarc`. Nothing when `inbound_dmarc` is off.
    InboundDmarc,
    /// TLS both ways ([`crate::tls`]): main.cf's `smtp_tls_*` and `smtpd_tls_*` parameters
    /// (opportunistic TLS, TLS 1.2 or newer, the server's certificate: the answers'
    /// `tls_cert`/`tls_key`, else Let's Encrypt's, else Debian's snake-oil), and the server
    /// key readable by root only. Always planned.
    Tls,
}

impl Part {
    pub const ALL: &'static [Part] = &[
        Part::Identity,
        Part::Signer,
        Part::Opendkim,
        Part::Milter,
        Part::Tables,
        Part::Keys,
        Part::InboundSpf,
        Part::InboundDmarc,
        Part::Tls,
    ];
}

/// Everything one apply does, in the order it does it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub dirs: Vec<DirChange>,
    pub files: Vec<FileChange>,
    pub keys: Vec<KeyCreation>,
    pub perms: Vec<PermChange>,
    pub groups: Vec<GroupChange>,
    pub services: Vec<ServiceAction>,
    /// Things the operator should know that change nothing (e.g. a master.cf override).
    pub notes: Vec<String>,
    /// Domains whose key changes by `mailsetup rotate` (the Keys part).
    pub rotations: Vec<RotationNeeded>,
}

impl Plan {
    /// Nothing to write, create, or restart.
    pub fn is_empty(&self) -> bool {
        self.dirs.is_empty()
            && self.files.is_empty()
            && self.keys.is_empty()
            && self.perms.is_empty()
            && self.groups.is_empty()
            && self.services.is_empty()
    }

    /// Something is pending: a change to apply, or a rotation to run.
    pub fn pending(&self) -> bool {
        !self.is_empty() || !self.rotations.is_empty()
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.pending() {
            writeln!(
                f,
                "nothing to change: the system already matches the answers"
            )?;
        }
        for d in &self.dirs {
            let verb = if d.exists {
                "fix directory"
            } else {
                "new directory"
            };
            writeln!(
                f,
                "{verb} {} ({} {:04o}): {}",
                d.path.display(),
                d.owner,
                d.mode,
                d.why
            )?;
        }
        for c in &self.files {
            write!(f, "{c}")?;
        }
        for k in &self.keys {
            match &k.restore_from {
                Some(retired) => writeln!(
                    f,
                    "bring back key {} (opendkim:opendkim 0600) from {}, where a rollback \
                     retired it, and its record file {}.txt, for d={} s={}: the record you \
                     published for it stays valid (to make a new key instead, move that file away)",
                    k.path.display(),
                    retired.display(),
                    k.selector,
                    k.domain,
                    k.selector
                )?,
                None => writeln!(
                    f,
                    "new key {} ({}, {KEY_OWNER} {KEY_MODE:04o}) and its record file {}.txt, for d={} s={}",
                    k.path.display(),
                    k.kind,
                    k.selector,
                    k.domain,
                    k.selector
                )?,
            }
        }
        for p in &self.perms {
            writeln!(
                f,
                "fix owner/mode of {} to {} {:04o}: {}",
                p.path.display(),
                p.owner,
                p.mode,
                p.why
            )?;
        }
        for g in &self.groups {
            writeln!(f, "add user {} to group {}: {}", g.user, g.group, g.why)?;
        }
        for s in &self.services {
            writeln!(f, "then {s}")?;
        }
        for r in &self.rotations {
            writeln!(
                f,
                "rotate the DKIM key of {}: {}; a rotation makes a new key under a new \
                 selector and switches OpenDKIM to it once every nameserver serves its record \
                 (mailsetup rotate --domain {})",
                r.domain, r.why, r.domain
            )?;
        }
        for n in &self.notes {
            writeln!(f, "note: {n}")?;
        }
        Ok(())
    }
}

impl FileChange {
    /// The unified diff with 3 lines of context (`--- old`, `+++ new`, hunks); a new file's
    /// old side is `/dev/null` and all its lines are added.
    pub fn diff(&self) -> String {
        let path = self.path.display();
        let before = self.before.as_deref().unwrap_or("");
        let old = if self.before.is_some() {
            format!("{path}")
        } else {
            "/dev/null".into()
        };
        let diff = similar::TextDiff::from_lines(before, &self.after);
        diff.unified_diff()
            .context_radius(3)
            .header(&old, &format!("{path}"))
            .to_string()
    }
}

impl fmt::Display for FileChange {
    /// `# path: why`, then [`FileChange::diff`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "# {}: {}", self.path.display(), self.why)?;
        write!(f, "{}", self.diff())
    }
}
