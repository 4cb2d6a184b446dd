//! Fenced access beneath the root: every path is opened from a descriptor of the root,
//! component by component, never following a symbolic link (`openat2` with
//! `RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH` where the kernel has it, else `O_NOFOLLOW |
//! O_DIRECTORY` per component), and every change is made relative to the descriptor of the
//! directory that holds it (`openat`, `mkdirat`, `linkat`, `renameat2`, `unlinkat`). Owner and
//! mode are changed only through a descriptor (`fchown`, `fchmod`) of a file with exactly one
//! link. A symlink anywhere on the way is refused with its path. Every change passes through
//! [`failpoint::hit`] first.
//!
//! Paths given here are *system* paths (absolute, e.g. `/etc/postfix/main.cf`), resolved
//! beneath the root; messages show the real path. Source: reliability.md G1.4, G3.4.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::{FileStat, Mode, SFlag};

use crate::error::{Error, Result};
use crate::host::system::{Meta, Root};

/// What kind of file a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    Socket,
    Other,
}

/// The facts of one name, as `fstatat(AT_SYMLINK_NOFOLLOW)` gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub kind: Kind,
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
    pub size: u64,
    pub meta: Meta,
}

impl Stat {
    fn of(st: &FileStat) -> Stat {
        let fmt = SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits());
        let kind = match fmt {
            SFlag::S_IFREG => Kind::File,
            SFlag::S_IFDIR => Kind::Dir,
            SFlag::S_IFLNK => Kind::Symlink,
            SFlag::S_IFSOCK => Kind::Socket,
            _ => Kind::Other,
        };
        Stat {
            kind,
            dev: st.st_dev,
            ino: st.st_ino,
            nlink: st.st_nlink,
            size: st.st_size as u64,
            meta: Meta {
                uid: st.st_uid,
                gid: st.st_gid,
                mode: st.st_mode & 0o7777,
            },
        }
    }
}

/// The root, open. Cheap to keep for a whole run.
#[derive(Debug)]
pub struct Fence {
    root: Root,
    fd: OwnedFd,
}

/// An open directory beneath the root.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    /// The system path of this directory (`/etc/postfix`).
    system: PathBuf,
    /// The real path, for messages.
    real: PathBuf,
}

/// The components of an absolute system path. Errors: `..`, `.` or a relative path (system
/// paths come from constants and validated names, so this is a bug guard).
fn components(system: &Path) -> Result<Vec<&OsStr>> {
    let mut out = Vec::new();
    for (i, c) in system.components().enumerate() {
        match c {
            Component::RootDir if i == 0 => {}
            Component::Normal(n) => out.push(n),
            _ => {
                return Err(Error::Invalid {
                    what: system.display().to_string(),
                    reason: "is not a plain absolute path (no `.` or `..`)".into(),
                });
            }
        }
    }
    if !system.is_absolute() {
        return Err(Error::Invalid {
            what: system.display().to_string(),
            reason: "is not an absolute path".into(),
        });
    }
    Ok(out)
}

fn io_err(e: Errno) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

/// `O_NOFOLLOW | O_CLOEXEC` and the rest: every open here refuses a final symlink.
fn flags(extra: OFlag) -> OFlag {
    OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | extra
}

impl Fence {
    /// Open the root directory (the root itself may be reached through links: it is the
    /// operator's choice; everything beneath it is fenced). Errors: it cannot be opened.
    pub fn new(root: &Root) -> Result<Fence> {
        let fd = nix::fcntl::open(
            root.dir(),
            OFlag::O_DIRECTORY | OFlag::O_CLOEXEC | OFlag::O_RDONLY,
            Mode::empty(),
        )
        .map_err(|e| Error::io("open the root", root.dir(), io_err(e)))?;
        Ok(Fence {
            root: root.clone(),
            fd,
        })
    }

    pub fn root(&self) -> &Root {
        &self.root
    }

    /// The real location of a system path (for messages).
    pub fn real(&self, system: &Path) -> PathBuf {
        self.root.path(system)
    }

    /// The root directory itself.
    pub fn top(&self) -> Result<Dir> {
        let fd = self
            .fd
            .try_clone()
            .map_err(|e| Error::io("open the root", self.root.dir(), e))?;
        Ok(Dir {
            fd,
            system: PathBuf::from("/"),
            real: self.root.dir().to_path_buf(),
        })
    }

    /// Open the directory at `system`: Ok(None) when it (or a directory above it) is missing.
    ///
    /// Errors: a symbolic link or a non-directory on the way ([`Error::Symlink`] names it).
    pub fn dir(&self, system: &Path) -> Result<Option<Dir>> {
        let (found, missing) = self.find(system)?;
        Ok(missing.is_empty().then_some(found))
    }

    /// The deepest existing directory on the way to `system` (the directory itself when it
    /// exists) and the components below it that are missing, outermost first.
    ///
    /// Errors: a symbolic link or a non-directory on the way.
    pub fn find(&self, system: &Path) -> Result<(Dir, Vec<OsString>)> {
        let parts = components(system)?;
        // fast path: the whole way at once, with the kernel refusing links
        if let Some(fd) = self.openat2_dir(system) {
            return Ok((
                Dir {
                    fd,
                    system: system.to_path_buf(),
                    real: self.real(system),
                },
                Vec::new(),
            ));
        }
        let mut dir = self.top()?;
        for (i, name) in parts.iter().enumerate() {
            match dir.open_dir(name)? {
                Some(next) => dir = next,
                None => {
                    let missing = parts[i..].iter().map(|p| p.to_os_string()).collect();
                    return Ok((dir, missing));
                }
            }
        }
        Ok((dir, Vec::new()))
    }

    /// `openat2(RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH)`; None on any failure (missing, a link,
    /// an old kernel), after which the walk per component gives the precise answer.
    fn openat2_dir(&self, system: &Path) -> Option<OwnedFd> {
        use nix::fcntl::{OpenHow, ResolveFlag};
        let rel = system.strip_prefix("/").ok()?;
        if rel.as_os_str().is_empty() {
            return self.fd.try_clone().ok();
        }
        let how = OpenHow::new()
            .flags(OFlag::O_DIRECTORY | OFlag::O_CLOEXEC | OFlag::O_RDONLY | OFlag::O_NOFOLLOW)
            .resolve(
                ResolveFlag::RESOLVE_NO_SYMLINKS
                    | ResolveFlag::RESOLVE_BENEATH
                    | ResolveFlag::RESOLVE_NO_MAGICLINKS,
            );
        nix::fcntl::openat2(self.fd.as_fd(), rel, how).ok()
    }

    /// The directory holding the file `system` (None when it is missing) and the file's name.
    ///
    /// Errors: as [`Fence::find`].
    pub fn parent(&self, system: &Path) -> Result<(Option<Dir>, OsString)> {
        let name = system
            .file_name()
            .ok_or_else(|| Error::Invalid {
                what: system.display().to_string(),
                reason: "has no file name".into(),
            })?
            .to_os_string();
        let parent = system.parent().unwrap_or(Path::new("/"));
        Ok((self.dir(parent)?, name))
    }

    /// The facts of `system`, without following a link; None when it (or its directory) is
    /// missing. Errors: a link on the way.
    pub fn stat(&self, system: &Path) -> Result<Option<Stat>> {
        match self.parent(system)? {
            (Some(dir), name) => dir.stat(&name),
            (None, _) => Ok(None),
        }
    }

    /// Read the regular file `system`: None when it is missing.
    ///
    /// Errors: a symbolic link (the file or on the way), not a regular file, unreadable.
    pub fn read(&self, system: &Path) -> Result<Option<(Vec<u8>, Stat)>> {
        match self.parent(system)? {
            (Some(dir), name) => dir.read(&name),
            (None, _) => Ok(None),
        }
    }
}

mod dir;
#[cfg(test)]
mod tests;
