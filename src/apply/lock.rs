//! One lock per run: an exclusive `flock` on `/var/lib/mailsetup/lock`, holding our PID. The kernel
//! releases it when the process dies, so it cannot go stale; the file is never deleted.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;

use super::fsops;
use crate::error::{Error, Result};
use crate::system::{Meta, Root, STATE_DIR};

/// Held for the life of the value.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

impl Lock {
    /// Take the lock without waiting.
    ///
    /// Errors: [`Error::Locked`] naming the holder's PID when another run holds it.
    pub fn take(root: &Root) -> Result<Lock> {
        let dir = root.path(STATE_DIR);
        fsops::ensure_dir(
            &dir,
            Meta {
                uid: 0,
                gid: 0,
                mode: 0o700,
            },
        )?;
        let path = dir.join("lock");
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|e| Error::io("open the lock", &path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let pid = pid.trim();
                return Err(Error::Locked {
                    path,
                    holder: (!pid.is_empty()).then(|| pid.to_string()),
                });
            }
            Err(TryLockError::Error(e)) => return Err(Error::io("lock", &path, e)),
        }
        let _ = file.set_len(0);
        let _ = file.rewind();
        let _ = writeln!(file, "{}", std::process::id());
        Ok(Lock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_with_the_holders_pid() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = Root::new(dir.path());
        let held = Lock::take(&root).expect("first");
        match Lock::take(&root) {
            Err(Error::Locked { holder, .. }) => {
                assert_eq!(holder, Some(std::process::id().to_string()))
            }
            other => panic!("expected Locked, got {other:?}"),
        }
        drop(held);
        Lock::take(&root).expect("free again after drop");
    }
}
