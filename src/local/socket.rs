//! The milter socket as Postfix sees it: the path main.cf names (relative to the queue
//! directory, which is smtpd's chroot), whether a chrooted service can reach it at all, and
//! on the host whether it exists, answers, and lets Postfix's user in (a Unix socket needs
//! write permission on it, and search permission on every directory above it; unix(7)).
//! Pure: the [`Probe`] of the socket is taken by `host::probe`.

use std::path::{Path, PathBuf};

use crate::host::accounts::Accounts;
use crate::host::system::QUEUE_DIR;

/// `(uid, gid, mode)` of a path.
pub type Owner = (u32, u32, u32);

/// What was found at the socket's path (host only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The system path.
    pub path: PathBuf,
    /// `(uid, gid, mode)` of the socket and of each directory above it, `/` first; `None`
    /// where a component does not exist.
    pub nodes: Vec<(PathBuf, Option<Owner>)>,
    /// Whether a connection was accepted, or why not.
    pub connect: Result<(), String>,
}

/// Where a main.cf milter entry points (postconf(5) `smtpd_milters`, MILTER_README).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// A Unix socket, by its system path: `local:x` / `unix:x` relative to the queue
    /// directory (smtpd's chroot), or absolute.
    Unix(PathBuf),
    /// `inet:host:port` with an IP address (`localhost` taken as 127.0.0.1).
    Tcp(std::net::SocketAddr),
}

/// The address of a milter entry. Errors: not `kind:rest`, an unknown kind, no port, or a
/// host given by name (resolving it would need DNS, which the check must not trust).
pub fn address(entry: &str) -> Result<Address, String> {
    let entry = entry.trim();
    let (kind, rest) = entry
        .split_once(':')
        .ok_or_else(|| format!("{entry} is not a milter address"))?;
    match kind {
        "unix" | "local" => Ok(Address::Unix(if rest.starts_with('/') {
            PathBuf::from(rest)
        } else {
            Path::new(QUEUE_DIR).join(rest)
        })),
        "inet" => {
            let (host, port) = rest
                .rsplit_once(':')
                .ok_or_else(|| format!("{entry} has no port"))?;
            let host = if host == "localhost" {
                "127.0.0.1"
            } else {
                host
            };
            format!("{host}:{port}")
                .parse()
                .map(Address::Tcp)
                .map_err(|_| format!("{entry}: give an IP address, not a host name"))
        }
        other => Err(format!("{entry}: unknown milter socket type {other}")),
    }
}

/// The Unix socket path a main.cf milter entry names, or `None` for any other entry.
pub fn unix_path(entry: &str) -> Option<PathBuf> {
    match address(entry) {
        Ok(Address::Unix(path)) => Some(path),
        _ => None,
    }
}

/// Why `user` cannot open the socket, or `None` when it can (root always can).
pub fn denied(probe: &Probe, accounts: &Accounts, user: &str) -> Option<String> {
    let u = accounts.user(user)?;
    if u.uid == 0 {
        return None;
    }
    let in_group = |gid: u32| {
        u.gid == gid
            || accounts
                .groups
                .iter()
                .any(|(_, g)| g.gid == gid && g.members.iter().any(|m| m == user))
    };
    // the permission bits that apply to `user`: owner, else group, else other
    let bits = |uid: u32, gid: u32, mode: u32| {
        if uid == u.uid {
            (mode >> 6) & 7
        } else if in_group(gid) {
            (mode >> 3) & 7
        } else {
            mode & 7
        }
    };
    let (dirs, last) = probe.nodes.split_at(probe.nodes.len().saturating_sub(1));
    for (path, m) in dirs {
        let (uid, gid, mode) = (*m)?;
        if bits(uid, gid, mode) & 1 == 0 {
            return Some(format!(
                "{user} cannot enter {} ({}:{} {mode:04o})",
                path.display(),
                name_of(accounts, uid, true),
                name_of(accounts, gid, false)
            ));
        }
    }
    let (path, m) = last.first()?;
    let (uid, gid, mode) = (*m)?;
    (bits(uid, gid, mode) & 2 == 0).then(|| {
        format!(
            "{user} may not write to the socket {} ({}:{} {mode:04o}); it must be in group {} \
             and the milter's UMask must leave the group write bit (UMask 007)",
            path.display(),
            name_of(accounts, uid, true),
            name_of(accounts, gid, false),
            name_of(accounts, gid, false)
        )
    })
}

fn name_of(accounts: &Accounts, id: u32, user: bool) -> String {
    let found = if user {
        accounts
            .users
            .iter()
            .find(|(_, u)| u.uid == id)
            .map(|(n, _)| n.clone())
    } else {
        accounts
            .groups
            .iter()
            .find(|(_, g)| g.gid == id)
            .map(|(n, _)| n.clone())
    };
    found.unwrap_or_else(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accounts(postfix_in_opendkim: bool) -> Accounts {
        Accounts::parse(
            "root:x:0:0::/:/bin/sh\nopendkim:x:110:117::/:/bin/false\npostfix:x:105:112::/:/bin/false\n",
            &format!(
                "root:x:0:\nopendkim:x:117:{}\npostfix:x:112:\n",
                if postfix_in_opendkim { "postfix" } else { "" }
            ),
        )
    }

    fn probe(sock_mode: u32, dir_mode: u32) -> Probe {
        Probe {
            path: "/var/spool/postfix/opendkim/opendkim.sock".into(),
            nodes: vec![
                ("/".into(), Some((0, 0, 0o755))),
                ("/var".into(), Some((0, 0, 0o755))),
                ("/var/spool".into(), Some((0, 0, 0o755))),
                ("/var/spool/postfix".into(), Some((0, 0, 0o755))),
                (
                    "/var/spool/postfix/opendkim".into(),
                    Some((110, 117, dir_mode)),
                ),
                (
                    "/var/spool/postfix/opendkim/opendkim.sock".into(),
                    Some((110, 117, sock_mode)),
                ),
            ],
            connect: Ok(()),
        }
    }

    #[test]
    fn unix_paths_are_relative_to_the_queue_directory() {
        assert_eq!(
            unix_path("local:opendkim/opendkim.sock"),
            Some("/var/spool/postfix/opendkim/opendkim.sock".into())
        );
        assert_eq!(
            unix_path("unix:/run/opendkim/opendkim.sock"),
            Some("/run/opendkim/opendkim.sock".into())
        );
        assert_eq!(unix_path("inet:127.0.0.1:8891"), None);
        assert_eq!(
            address("inet:localhost:8891"),
            Ok(Address::Tcp("127.0.0.1:8891".parse().unwrap()))
        );
        assert!(address("inet:milter.example:8891").is_err());
        assert!(address("inet:127.0.0.1").is_err());
        assert!(address("smtp:x").is_err());
    }

    #[test]
    fn postfix_needs_the_group_and_the_group_write_bit() {
        assert_eq!(
            denied(&probe(0o770, 0o750), &accounts(true), "postfix"),
            None
        );
        let why = denied(&probe(0o770, 0o750), &accounts(false), "postfix").unwrap();
        assert!(
            why.starts_with("postfix cannot enter /var/spool/postfix/opendkim"),
            "{why}"
        );
        let why = denied(&probe(0o750, 0o750), &accounts(true), "postfix").unwrap();
        assert!(
            why.contains("may not write to the socket") && why.contains("UMask 007"),
            "{why}"
        );
        assert_eq!(denied(&probe(0o750, 0o750), &accounts(true), "root"), None);
    }
}
