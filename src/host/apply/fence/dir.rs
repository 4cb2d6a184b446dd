//! The operations on an open directory beneath the root: each one relative to its
//! descriptor, never following a link, each change through [`crate::host::apply::failpoint::hit`] first.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, RenameFlags};
use nix::sys::stat::Mode;
use nix::unistd::UnlinkatFlags;

use super::{Dir, Kind, Stat, flags, io_err};
use crate::error::{Error, Result};
use crate::host::apply::failpoint;
use crate::host::system::Meta;

impl Dir {
    /// The system path of this directory.
    pub fn path(&self) -> &Path {
        &self.system
    }

    /// The real path of `name` in this directory, for messages.
    pub fn real(&self, name: &OsStr) -> PathBuf {
        self.real.join(name)
    }

    /// The system path of `name` in this directory.
    pub fn system(&self, name: &OsStr) -> PathBuf {
        self.system.join(name)
    }

    /// The facts of this directory itself.
    pub fn own_stat(&self) -> Result<Stat> {
        nix::sys::stat::fstat(self.fd.as_fd())
            .map(|st| Stat::of(&st))
            .map_err(|e| Error::io("inspect", &self.real, io_err(e)))
    }

    /// The facts of `name` (not following a link); None when absent.
    pub fn stat(&self, name: &OsStr) -> Result<Option<Stat>> {
        match nix::sys::stat::fstatat(self.fd.as_fd(), name, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(Some(Stat::of(&st))),
            Err(Errno::ENOENT) => Ok(None),
            Err(e) => Err(Error::io("inspect", self.real(name), io_err(e))),
        }
    }

    /// Open the subdirectory `name`; None when absent. Errors: it is a link or not a directory.
    pub fn open_dir(&self, name: &OsStr) -> Result<Option<Dir>> {
        let system = self.system(name);
        match nix::fcntl::openat(
            self.fd.as_fd(),
            name,
            flags(OFlag::O_DIRECTORY | OFlag::O_RDONLY),
            Mode::empty(),
        ) {
            Ok(fd) => Ok(Some(Dir {
                fd,
                real: self.real(name),
                system,
            })),
            Err(Errno::ENOENT) => Ok(None),
            Err(Errno::ELOOP) | Err(Errno::ENOTDIR) => Err(self.refuse(name)),
            Err(e) => Err(Error::io("open the directory", self.real(name), io_err(e))),
        }
    }

    /// The error for a name that is in the way: a symbolic link, or not a directory.
    fn refuse(&self, name: &OsStr) -> Error {
        match self.stat(name) {
            Ok(Some(st)) if st.kind == Kind::Symlink => Error::Symlink {
                path: self.real(name),
            },
            _ => Error::Invalid {
                what: self.real(name).display().to_string(),
                reason: "is not a directory where mailsetup needs one".into(),
            },
        }
    }

    /// Read the regular file `name`; None when absent.
    ///
    /// Errors: a symbolic link, not a regular file, unreadable.
    pub fn read(&self, name: &OsStr) -> Result<Option<(Vec<u8>, Stat)>> {
        let fd = match nix::fcntl::openat(
            self.fd.as_fd(),
            name,
            flags(OFlag::O_RDONLY | OFlag::O_NONBLOCK),
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => return Ok(None),
            Err(Errno::ELOOP) => {
                return Err(Error::Symlink {
                    path: self.real(name),
                });
            }
            Err(e) => return Err(Error::io("read", self.real(name), io_err(e))),
        };
        let mut file = File::from(fd);
        let st = nix::sys::stat::fstat(file.as_fd())
            .map(|st| Stat::of(&st))
            .map_err(|e| Error::io("inspect", self.real(name), io_err(e)))?;
        if st.kind != Kind::File {
            return Err(Error::Invalid {
                what: self.real(name).display().to_string(),
                reason: "is not a regular file".into(),
            });
        }
        let mut bytes = Vec::with_capacity(st.size as usize);
        file.read_to_end(&mut bytes)
            .map_err(|e| Error::io("read", self.real(name), e))?;
        Ok(Some((bytes, st)))
    }

    /// Create the new file `name` (`O_CREAT | O_EXCL | O_NOFOLLOW`, mode 0600), give it
    /// `meta`'s owner and mode before its first byte, write `bytes`, fsync it. Returns its
    /// facts. Errors: it exists, or any I/O error (the partial file is removed).
    pub fn create(&self, name: &OsStr, meta: Meta, bytes: &[u8]) -> Result<Stat> {
        let real = self.real(name);
        failpoint::hit("create", &real).map_err(|e| Error::io("create", &real, e))?;
        let fd = nix::fcntl::openat(
            self.fd.as_fd(),
            name,
            flags(OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY),
            Mode::from_bits_truncate(0o600),
        )
        .map_err(|e| Error::io("create", &real, io_err(e)))?;
        let mut file = File::from(fd);
        let written = (|| -> Result<Stat> {
            set_meta_fd(file.as_fd(), &real, meta)?;
            failpoint::hit("write", &real).map_err(|e| Error::io("write", &real, e))?;
            file.write_all(bytes)
                .map_err(|e| Error::io("write", &real, e))?;
            failpoint::hit("fsync", &real).map_err(|e| Error::io("sync", &real, e))?;
            file.sync_all().map_err(|e| Error::io("sync", &real, e))?;
            nix::sys::stat::fstat(file.as_fd())
                .map(|st| Stat::of(&st))
                .map_err(|e| Error::io("inspect", &real, io_err(e)))
        })();
        if written.is_err() {
            let _ = nix::unistd::unlinkat(self.fd.as_fd(), name, UnlinkatFlags::NoRemoveDir);
        }
        written
    }

    /// Create the directory `name` with exactly `meta` (mkdir 0700, then fchown/fchmod
    /// through its descriptor) and open it. Errors: it exists, or any I/O error.
    pub fn mkdir(&self, name: &OsStr, meta: Meta) -> Result<Dir> {
        let real = self.real(name);
        failpoint::hit("mkdir", &real).map_err(|e| Error::io("create the directory", &real, e))?;
        nix::sys::stat::mkdirat(self.fd.as_fd(), name, Mode::from_bits_truncate(0o700))
            .map_err(|e| Error::io("create the directory", &real, io_err(e)))?;
        let dir = self.open_dir(name)?.ok_or_else(|| {
            Error::io(
                "open the directory",
                &real,
                io::Error::from(io::ErrorKind::NotFound),
            )
        })?;
        set_meta_fd(dir.fd.as_fd(), &real, meta)?;
        Ok(dir)
    }

    /// A second name `to` for the file `from` (never following a link).
    pub fn link(&self, from: &OsStr, to: &OsStr) -> Result<()> {
        let real = self.real(to);
        failpoint::hit("link", &real).map_err(|e| Error::io("back up (hard link)", &real, e))?;
        nix::unistd::linkat(self.fd.as_fd(), from, self.fd.as_fd(), to, AtFlags::empty())
            .map_err(|e| Error::io("back up (hard link)", self.real(from), io_err(e)))
    }

    /// Rename `from` over `to` in this directory (replacing `to`).
    pub fn rename(&self, from: &OsStr, to: &OsStr) -> Result<()> {
        self.rename_with(from, to, RenameFlags::empty())
    }

    /// Rename `from` to `to`, failing when `to` exists (`RENAME_NOREPLACE`).
    pub fn rename_new(&self, from: &OsStr, to: &OsStr) -> Result<()> {
        self.rename_with(from, to, RenameFlags::RENAME_NOREPLACE)
    }

    fn rename_with(&self, from: &OsStr, to: &OsStr, how: RenameFlags) -> Result<()> {
        let real = self.real(to);
        failpoint::hit("rename", &real).map_err(|e| Error::io("replace", &real, e))?;
        nix::fcntl::renameat2(self.fd.as_fd(), from, self.fd.as_fd(), to, how)
            .map_err(|e| Error::io("replace", &real, io_err(e)))
    }

    /// Remove the name `name` (a file, socket or link; never followed). Absent is fine.
    pub fn unlink(&self, name: &OsStr) -> Result<()> {
        let real = self.real(name);
        failpoint::hit("unlink", &real).map_err(|e| Error::io("remove", &real, e))?;
        match nix::unistd::unlinkat(self.fd.as_fd(), name, UnlinkatFlags::NoRemoveDir) {
            Ok(()) | Err(Errno::ENOENT) => Ok(()),
            Err(e) => Err(Error::io("remove", &real, io_err(e))),
        }
    }

    /// Remove the empty directory `name`. Absent is fine.
    pub fn rmdir(&self, name: &OsStr) -> Result<()> {
        let real = self.real(name);
        failpoint::hit("rmdir", &real).map_err(|e| Error::io("remove the directory", &real, e))?;
        match nix::unistd::unlinkat(self.fd.as_fd(), name, UnlinkatFlags::RemoveDir) {
            Ok(()) | Err(Errno::ENOENT) => Ok(()),
            Err(e) => Err(Error::io("remove the directory", &real, io_err(e))),
        }
    }

    /// Remove `name` and, when it is a directory, everything beneath it, never following a
    /// link (a link is removed, not its target). Absent is fine.
    pub fn remove_tree(&self, name: &OsStr) -> Result<()> {
        match self.stat(name)? {
            None => Ok(()),
            Some(st) if st.kind == Kind::Dir => {
                if let Some(sub) = self.open_dir(name)? {
                    for (entry, _) in sub.entries()? {
                        sub.remove_tree(&entry)?;
                    }
                }
                self.rmdir(name)
            }
            Some(_) => self.unlink(name),
        }
    }

    /// The names in this directory (without `.` and `..`) with their facts.
    pub fn entries(&self) -> Result<Vec<(OsString, Stat)>> {
        // a fresh open of `.`: its own read position
        let mut dir = nix::dir::Dir::openat(
            self.fd.as_fd(),
            ".",
            flags(OFlag::O_DIRECTORY | OFlag::O_RDONLY),
            Mode::empty(),
        )
        .map_err(|e| Error::io("list", &self.real, io_err(e)))?;
        let mut names = Vec::new();
        for entry in dir.iter() {
            let entry = entry.map_err(|e| Error::io("list", &self.real, io_err(e)))?;
            let name = OsStr::from_bytes(entry.file_name().to_bytes());
            if name == "." || name == ".." {
                continue;
            }
            names.push(name.to_os_string());
        }
        let mut out = Vec::new();
        for name in names {
            if let Some(st) = self.stat(&name)? {
                out.push((name, st));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Give the existing `name` this owner and mode through a descriptor opened without
    /// following links. `dir` says whether it must be a directory (else a regular file, with
    /// exactly one link: changing a second name's file is how /etc/shadow gets exposed).
    ///
    /// Errors: a link, the wrong kind, several hard links, or an I/O error.
    pub fn set_meta(&self, name: &OsStr, meta: Meta, dir: bool) -> Result<()> {
        let real = self.real(name);
        let extra = if dir {
            OFlag::O_DIRECTORY | OFlag::O_RDONLY
        } else {
            OFlag::O_RDONLY | OFlag::O_NONBLOCK
        };
        let fd = match nix::fcntl::openat(self.fd.as_fd(), name, flags(extra), Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::ELOOP) => return Err(Error::Symlink { path: real }),
            Err(e) => return Err(Error::io("open", &real, io_err(e))),
        };
        let st = nix::sys::stat::fstat(fd.as_fd())
            .map(|st| Stat::of(&st))
            .map_err(|e| Error::io("inspect", &real, io_err(e)))?;
        match (dir, st.kind) {
            (true, Kind::Dir) => {}
            (false, Kind::File) if st.nlink == 1 => {}
            (false, Kind::File) => {
                return Err(Error::HardLinked {
                    path: real,
                    links: st.nlink,
                });
            }
            _ => {
                return Err(Error::Invalid {
                    what: real.display().to_string(),
                    reason: if dir {
                        "is not a directory".into()
                    } else {
                        "is not a regular file".into()
                    },
                });
            }
        }
        set_meta_fd(fd.as_fd(), &real, meta)
    }

    /// Open (creating it 0600 when absent) the file `name` for reading and writing, never
    /// following a link: the lock file.
    pub fn open_lock(&self, name: &OsStr) -> Result<File> {
        let real = self.real(name);
        if self.stat(name)?.is_none() {
            failpoint::hit("create", &real).map_err(|e| Error::io("create", &real, e))?;
        }
        nix::fcntl::openat(
            self.fd.as_fd(),
            name,
            flags(OFlag::O_CREAT | OFlag::O_RDWR),
            Mode::from_bits_truncate(0o600),
        )
        .map(File::from)
        .map_err(|e| match e {
            Errno::ELOOP => Error::Symlink { path: real.clone() },
            e => Error::io("open the lock", &real, io_err(e)),
        })
    }

    /// Set the access and modification times of the regular file `name` to a minute ago
    /// (a staged copy that a tool must not take for a file being written).
    pub fn backdate(&self, name: &OsStr) -> Result<()> {
        use nix::sys::stat::UtimensatFlags;
        use nix::sys::time::TimeSpec;
        let real = self.real(name);
        failpoint::hit("utimes", &real).map_err(|e| Error::io("set the times of", &real, e))?;
        let ago = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs().saturating_sub(60))
            .unwrap_or(0);
        let t = TimeSpec::new(ago as nix::libc::time_t, 0);
        nix::sys::stat::utimensat(
            self.fd.as_fd(),
            name,
            &t,
            &t,
            UtimensatFlags::NoFollowSymlink,
        )
        .map_err(|e| Error::io("set the times of", &real, io_err(e)))
    }

    /// fsync this directory, so that the names changed in it survive a crash.
    pub fn sync(&self) -> Result<()> {
        failpoint::hit("fsync-dir", &self.real)
            .map_err(|e| Error::io("sync the directory", &self.real, e))?;
        nix::unistd::fsync(self.fd.as_fd())
            .map_err(|e| Error::io("sync the directory", &self.real, io_err(e)))
    }
}

/// fchown (as root only: a test run as a user keeps its own ids) and fchmod.
fn set_meta_fd(fd: std::os::fd::BorrowedFd<'_>, real: &Path, meta: Meta) -> Result<()> {
    failpoint::hit("chown", real).map_err(|e| Error::io("set the owner of", real, e))?;
    if nix::unistd::geteuid().is_root() {
        nix::unistd::fchown(
            fd,
            Some(nix::unistd::Uid::from_raw(meta.uid)),
            Some(nix::unistd::Gid::from_raw(meta.gid)),
        )
        .map_err(|e| Error::io("set the owner of", real, io_err(e)))?;
    }
    nix::sys::stat::fchmod(fd, Mode::from_bits_truncate(meta.mode))
        .map_err(|e| Error::io("set the mode of", real, io_err(e)))
}
