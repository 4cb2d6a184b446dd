//! The well-known system paths mailsetup reads and writes (resolved beneath the `--root` by
//! [`crate::host::system::Root`]), and the values that describe a file as found: its owner and
//! mode ([`Meta`]) and its text ([`FileState`]). Pure: reading them is [`crate::host::system`]'s job.

use std::path::PathBuf;

/// Postfix's main configuration file (postconf(5)).
pub const MAIN_CF: &str = "/etc/postfix/main.cf";
/// Postfix's service table (master(5)).
pub const MASTER_CF: &str = "/etc/postfix/master.cf";
/// OpenDKIM's configuration file (opendkim.conf(5)).
pub const OPENDKIM_CONF: &str = "/etc/opendkim.conf";
/// Debian's legacy defaults file, sourced by `/etc/init.d/opendkim`.
pub const DEFAULT_OPENDKIM: &str = "/etc/default/opendkim";
/// The directory that holds the tables and keys mailsetup manages.
pub const OPENDKIM_DIR: &str = "/etc/opendkim";
pub const KEY_TABLE: &str = "/etc/opendkim/KeyTable";
pub const SIGNING_TABLE: &str = "/etc/opendkim/SigningTable";
pub const TRUSTED_HOSTS: &str = "/etc/opendkim/TrustedHosts";
/// Keys live at `KEYS_DIR/<domain>/<selector>.private`.
pub const KEYS_DIR: &str = "/etc/opendkim/keys";
/// The second OpenDKIM instance's configuration file (Ed25519 dual signing, answers
/// `algorithms`): Debian 12's OpenDKIM signs with one `SignatureAlgorithm` per instance.
pub const ED25519_CONF: &str = "/etc/opendkim-ed25519.conf";
/// The directory of the second instance's KeyTable and SigningTable.
pub const ED25519_DIR: &str = "/etc/opendkim/ed25519";
pub const ED25519_KEY_TABLE: &str = "/etc/opendkim/ed25519/KeyTable";
pub const ED25519_SIGNING_TABLE: &str = "/etc/opendkim/ed25519/SigningTable";
/// The second instance's systemd unit (written where systemd runs).
pub const ED25519_UNIT: &str = "/etc/systemd/system/opendkim-ed25519.service";
/// The second instance's PID file, beside the first one's (`/run/opendkim`, Debian's
/// tmpfiles.d makes it opendkim:opendkim 0750).
pub const ED25519_PID: &str = "/run/opendkim/opendkim-ed25519.pid";
/// Postfix's queue directory: the chroot of its daemons (postconf(5) `queue_directory`).
pub const QUEUE_DIR: &str = "/var/spool/postfix";
/// The OpenDKIM socket directory inside Postfix's chroot.
pub const SOCKET_DIR: &str = "/var/spool/postfix/opendkim";
/// OpenDMARC's configuration file (opendmarc.conf(5), OpenDMARC 1.4).
pub const OPENDMARC_CONF: &str = "/etc/opendmarc.conf";
/// Debian's legacy defaults file, sourced by `/etc/init.d/opendmarc`.
pub const DEFAULT_OPENDMARC: &str = "/etc/default/opendmarc";
/// The OpenDMARC socket directory inside Postfix's chroot.
pub const OPENDMARC_SOCKET_DIR: &str = "/var/spool/postfix/opendmarc";
/// mailsetup's own state: run records and the lock.
pub const STATE_DIR: &str = "/var/lib/mailsetup";

/// Owner and permission bits of a file or directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    pub uid: u32,
    pub gid: u32,
    /// Permission bits only (`0o7777` mask).
    pub mode: u32,
}

impl Meta {
    pub fn of(md: &std::fs::Metadata) -> Meta {
        use std::os::unix::fs::MetadataExt;
        Meta {
            uid: md.uid(),
            gid: md.gid(),
            mode: md.mode() & 0o7777,
        }
    }
}

/// A file as found on disk: its text (None when it does not exist) and metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileState {
    /// The absolute system path (not resolved beneath the root).
    pub path: PathBuf,
    pub text: Option<String>,
    pub meta: Option<Meta>,
}
