//! `mailsetup demo`: the whole flow in a sandbox. A temporary tree made from Debian 12's stock
//! files (embedded in the binary: `assets/debian12/`), answers for two example domains, and an
//! in-process authoritative DNS server ([`dns::DemoDns`]: two nameservers for every zone) that
//! the records can be "published" into, as an operator pastes them into a provider's panel.
//!
//! Everything the demo writes is beneath the sandbox directory; with a root other than `/`
//! mailsetup touches no service, package, user or group of the host (only says what it would
//! do), and its DNS servers listen on loopback only.
//!
//! [`zones`] (pure) renders the zones the servers serve; [`dns`] serves and updates them.

pub mod dns;
pub mod zones;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::host::system::Root;

/// Debian 12's stock files as installed (the same as `tests/fixtures/debian12`), with the
/// accounts the packages create: `(path beneath the root, contents, mode)`.
pub const STOCK_FILES: &[(&str, &str, u32)] = &[
    (
        "etc/postfix/main.cf",
        include_str!("../../assets/debian12/etc/postfix/main.cf"),
        0o644,
    ),
    (
        "etc/postfix/master.cf",
        include_str!("../../assets/debian12/etc/postfix/master.cf"),
        0o644,
    ),
    (
        "etc/opendkim.conf",
        include_str!("../../assets/debian12/etc/opendkim.conf"),
        0o644,
    ),
    (
        "etc/default/opendkim",
        include_str!("../../assets/debian12/etc/default/opendkim"),
        0o644,
    ),
    (
        "etc/os-release",
        include_str!("../../assets/debian12/etc/os-release"),
        0o644,
    ),
    (
        "etc/passwd",
        include_str!("../../assets/debian12/etc/passwd"),
        0o644,
    ),
    (
        "etc/group",
        include_str!("../../assets/debian12/etc/group"),
        0o644,
    ),
    // the snake-oil pair package ssl-cert makes (postfix depends on it); the key is
    // root:ssl-cert 0640 on Debian, the caller's 0640 here
    (
        "etc/ssl/certs/ssl-cert-snakeoil.pem",
        include_str!("../../assets/debian12/etc/ssl/certs/ssl-cert-snakeoil.pem"),
        0o644,
    ),
    (
        "etc/ssl/private/ssl-cert-snakeoil.key",
        include_str!("../../assets/debian12/etc/ssl/private/ssl-cert-snakeoil.key"),
        0o640,
    ),
];

/// The demo's answers: mail.example.org at a documentation address, signing for example.org
/// and example.net, reports to postmaster@example.org (so example.net needs the RFC 7489 §7.1
/// authorization record too).
pub const ANSWERS: &str = r#"# mailsetup demo: the answers of a sandbox (nothing outside it is touched)
hostname = "mail.example.org"
ipv4 = "192.0.2.10"
allow_private_ip = true                # 192.0.2.10 is a documentation address (RFC 5737)
inet_protocols = "ipv4"
domains = ["example.org", "example.net"]
selector = "mail"
key_bits = 2048
dmarc_policy = "quarantine"
dmarc_rua = "mailto:postmaster@example.org"
"#;

/// How much later the second nameserver serves what the wizard's `p` published (the first
/// serves it at once): Verify shows them disagree, then agree.
pub const SECOND_NAMESERVER_LAG: std::time::Duration = std::time::Duration::from_secs(4);

/// A running demo, for the wizard's runtime: its DNS (where `p` publishes) and its sandbox
/// (removed when this is dropped, unless kept; the servers stop first).
#[derive(Debug)]
pub struct Demo {
    pub dns: dns::DemoDns,
    pub sandbox: Sandbox,
}

impl Drop for Demo {
    fn drop(&mut self) {
        if self.sandbox.kept() {
            warnln!(
                "mailsetup demo: the sandbox is kept in {}; look at it with `mailsetup --root {} \
                 --answers {} plan` (or `records`)",
                self.sandbox.dir().display(),
                self.sandbox.dir().display(),
                self.sandbox.answers().display()
            );
        }
    }
}

/// The sandbox: a directory that is the `--root` of the demo, removed when dropped unless
/// it was asked to be kept.
#[derive(Debug)]
pub struct Sandbox {
    dir: PathBuf,
    keep: bool,
}

impl Sandbox {
    /// A new sandbox: `keep` (`--keep DIR`: created, or an empty directory) or a fresh
    /// temporary directory, filled with [`STOCK_FILES`], the queue directory, and the
    /// answers at [`crate::flows::SAVED_ANSWERS`]. Errors: `keep` exists and is not an empty
    /// directory (nothing is written then); a file cannot be written.
    pub fn create(keep: Option<&Path>) -> Result<Sandbox> {
        let sandbox = match keep {
            Some(dir) => {
                let empty = match std::fs::read_dir(dir) {
                    Ok(mut entries) => entries.next().is_none(),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
                    Err(e) => return Err(Error::io("read the directory", dir, e)),
                };
                if !empty {
                    return Err(Error::Invalid {
                        what: format!("--keep {}", dir.display()),
                        reason: "is not empty: the demo only writes into a new or empty \
                                 directory; name another one"
                            .into(),
                    });
                }
                std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
                let dir = std::path::absolute(dir).map_err(|e| Error::io("resolve", dir, e))?;
                Sandbox { dir, keep: true }
            }
            None => {
                let template = std::env::temp_dir().join("mailsetup-demo.XXXXXX");
                let dir = nix::unistd::mkdtemp(&template).map_err(|e| {
                    Error::io(
                        "create",
                        &template,
                        std::io::Error::from_raw_os_error(e as i32),
                    )
                })?;
                Sandbox { dir, keep: false }
            }
        };
        sandbox.fill()?;
        Ok(sandbox)
    }

    fn fill(&self) -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let answers = crate::flows::SAVED_ANSWERS.trim_start_matches('/');
        let files = STOCK_FILES
            .iter()
            .copied()
            .chain([(answers, ANSWERS, 0o600)]);
        for (path, text, mode) in files {
            let file = self.dir.join(path);
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
            }
            let text = match path {
                "etc/passwd" | "etc/group" => accounts(text, Caller::now()),
                _ => text.to_string(),
            };
            std::fs::write(&file, text).map_err(|e| Error::io("write", &file, e))?;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode))
                .map_err(|e| Error::io("set the mode of", &file, e))?;
        }
        let queue = self.dir.join("var/spool/postfix");
        std::fs::create_dir_all(&queue).map_err(|e| Error::io("create", &queue, e))?;
        // others may look at a kept tree (mkdtemp makes it 0700)
        std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| Error::io("set the mode of", &self.dir, e))
    }

    /// The sandbox as the root of the run.
    pub fn root(&self) -> Root {
        Root::new(&self.dir)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether it stays after the run (`--keep`).
    pub fn kept(&self) -> bool {
        self.keep
    }

    /// A kept sandbox: the zones as published, in `demo-zones/<origin>.zone` (the DNS
    /// servers stop with the demo). Nothing when the sandbox is removed at exit.
    pub fn keep_zones(&self, zones: &[(String, String)]) -> Result<()> {
        if !self.keep {
            return Ok(());
        }
        let dir = self.dir.join("demo-zones");
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
        for (origin, text) in zones {
            let file = dir.join(format!("{origin}.zone"));
            std::fs::write(&file, text).map_err(|e| Error::io("write", &file, e))?;
        }
        Ok(())
    }

    /// The answers file inside the sandbox.
    pub fn answers(&self) -> PathBuf {
        self.root().path(crate::flows::SAVED_ANSWERS)
    }
}

/// Who runs the demo: root, or a user's ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    Root,
    User { uid: u32, gid: u32 },
}

impl Caller {
    pub fn now() -> Caller {
        if nix::unistd::geteuid().is_root() {
            Caller::Root
        } else {
            Caller::User {
                uid: nix::unistd::geteuid().as_raw(),
                gid: nix::unistd::getegid().as_raw(),
            }
        }
    }
}

/// The sandbox's `/etc/passwd` or `/etc/group` for `caller`: Debian's as they are for root;
/// for a user, the `opendkim` and `postfix` users and the `opendkim` group are that user's
/// ids, since only root can give a file to another user (OpenDKIM must own its keys). The
/// directories root must own stay the user's: `apply` says so (changes that remain).
pub fn accounts(text: &str, caller: Caller) -> String {
    let Caller::User { uid, gid } = caller else {
        return text.to_string();
    };
    text.lines()
        .map(|line| {
            let mut fields: Vec<String> = line.split(':').map(str::to_string).collect();
            match (fields[0].as_str(), fields.len()) {
                ("opendkim" | "postfix", 7) => {
                    fields[2] = uid.to_string();
                    fields[3] = gid.to_string();
                }
                ("opendkim", 4) => fields[2] = gid.to_string(),
                _ => {}
            }
            fields.join(":") + "\n"
        })
        .collect()
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_files_are_the_fixture_tree() {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/debian12");
        for (path, text, _) in STOCK_FILES {
            let want = std::fs::read_to_string(fixture.join(path)).unwrap();
            assert_eq!(
                *text, want,
                "{path}: assets/debian12 and the fixture differ"
            );
        }
    }

    #[test]
    fn a_user_is_the_sandbox_opendkim_and_postfix() {
        let passwd = STOCK_FILES[5].1;
        let group = STOCK_FILES[6].1;
        assert_eq!(accounts(passwd, Caller::Root), passwd);
        let me = Caller::User {
            uid: 1000,
            gid: 1001,
        };
        let p = accounts(passwd, me);
        assert!(p.contains("\nopendkim:x:1000:1001::/run/opendkim:"), "{p}");
        assert!(p.contains("\npostfix:x:1000:1001::"), "{p}");
        assert!(p.starts_with("root:x:0:0:"), "{p}");
        let g = accounts(group, me);
        assert!(g.contains("\nopendkim:x:1001:"), "{g}");
        assert!(g.contains("\npostfix:x:105:"), "{g}");
    }

    #[test]
    fn the_answers_parse() {
        let s = crate::answers::parse(ANSWERS).unwrap();
        assert_eq!(s.domains.len(), 2);
    }

    #[test]
    fn a_sandbox_is_removed_unless_kept_and_a_full_keep_dir_is_refused() {
        let s = Sandbox::create(None).unwrap();
        let dir = s.dir().to_path_buf();
        assert!(dir.join("etc/postfix/main.cf").is_file());
        assert!(s.answers().is_file());
        drop(s);
        assert!(!dir.exists());

        let base = tempfile::tempdir().unwrap();
        let keep = base.path().join("demo");
        let s = Sandbox::create(Some(&keep)).unwrap();
        drop(s);
        assert!(keep.join("etc/opendkim.conf").is_file());
        assert!(Sandbox::create(Some(&keep)).is_err(), "not empty");
    }
}
