//! Where the system's files are: the `--root` that every system path is resolved beneath, the
//! well-known paths mailsetup reads and writes, and the reading of the current state of those files
//! (through [`crate::host::apply::fence`], never following a link). This module only reads;
//! [`crate::host::apply`] is the only writer.

use std::path::{Path, PathBuf};

pub use crate::paths::*;

use crate::error::{Error, Result};

/// The tree that system paths are resolved beneath: `/` on a real server, a temporary directory in
/// tests. With any root other than `/`, nothing outside the tree is changed: services, users and
/// groups of the host are left alone and those actions are only reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root(PathBuf);

impl Root {
    pub fn new(dir: impl Into<PathBuf>) -> Root {
        Root(dir.into())
    }

    /// True when the root is the host's `/`.
    pub fn is_host(&self) -> bool {
        self.0 == Path::new("/")
    }

    /// The real location of the absolute system path `system` (e.g. `/etc/postfix/main.cf`).
    pub fn path(&self, system: impl AsRef<Path>) -> PathBuf {
        let rel = system.as_ref().strip_prefix("/").unwrap_or(system.as_ref());
        self.0.join(rel)
    }

    pub fn dir(&self) -> &Path {
        &self.0
    }
}

/// Read a text file beneath the root, never following a symbolic link (the file or a
/// directory on the way: see [`crate::host::apply::fence`]). A missing file is `text: None`; a file
/// that is not UTF-8 is an error (mailsetup does not edit what it cannot show as a diff).
///
/// Errors: a symlink on the way ([`Error::Symlink`]), not a regular file, unreadable, not UTF-8.
pub fn read_file(root: &Root, system: &str) -> Result<FileState> {
    let fence = crate::host::apply::fence::Fence::new(root)?;
    match fence.read(Path::new(system))? {
        Some((bytes, st)) => {
            let text = String::from_utf8(bytes).map_err(|_| Error::Invalid {
                what: root.path(system).display().to_string(),
                reason: "the file is not UTF-8 text; mailsetup will not edit it".into(),
            })?;
            Ok(FileState {
                path: system.into(),
                text: Some(text),
                meta: Some(st.meta),
            })
        }
        None => Ok(FileState {
            path: system.into(),
            text: None,
            meta: None,
        }),
    }
}

/// The facts of a path beneath the root, without following a link (the path or a directory
/// on the way); None if absent. Errors: a symlinked directory on the way.
pub fn lstat(
    root: &Root,
    system: impl AsRef<Path>,
) -> Result<Option<crate::host::apply::fence::Stat>> {
    crate::host::apply::fence::Fence::new(root)?.stat(system.as_ref())
}

/// Is systemd the init system of this root? (`/run/systemd/system` exists, as sd_booted(3) checks.)
pub fn has_systemd(root: &Root) -> bool {
    root.path("/run/systemd/system").is_dir()
}

/// The first public (globally routable) IPv4 address on this machine's interfaces, if any.
/// Private (RFC 1918), shared (RFC 6598), loopback, link-local and documentation ranges are skipped:
/// the SPF and A records need the address the world sees.
pub fn detect_public_ipv4() -> Option<std::net::Ipv4Addr> {
    let addrs = nix::ifaddrs::getifaddrs().ok()?;
    addrs
        .filter_map(|a| a.address.and_then(|s| s.as_sockaddr_in().map(|v4| v4.ip())))
        .find(|ip| is_public_v4(*ip))
}

/// Is this IPv4 globally routable? (RFC 6890 special-purpose ranges are not.)
pub fn is_public_v4(ip: std::net::Ipv4Addr) -> bool {
    let o = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || o[0] == 100 && (o[1] & 0xc0) == 64
        || o[0] >= 240)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_beneath_the_root() {
        let r = Root::new("/tmp/t");
        assert_eq!(
            r.path("/etc/postfix/main.cf"),
            PathBuf::from("/tmp/t/etc/postfix/main.cf")
        );
        assert!(!r.is_host());
        assert!(Root::new("/").is_host());
        assert_eq!(Root::new("/").path(MAIN_CF), PathBuf::from(MAIN_CF));
    }

    #[test]
    fn only_globally_routable_ipv4_counts_as_public() {
        let public = |s: &str| is_public_v4(s.parse().expect("ip"));
        assert!(public("203.0.114.7"));
        assert!(public("8.8.8.8"));
        for s in [
            "10.1.2.3",
            "192.168.1.1",
            "172.16.0.1",
            "100.64.0.1",
            "127.0.0.1",
            "169.254.1.1",
            "192.0.2.10",
            "0.0.0.0",
        ] {
            assert!(!public(s), "{s}");
        }
    }
}
