//! One lock per run: an exclusive `flock` on `/var/lib/mailsetup/lock`, taken before
//! anything else is created (the state directory itself appears whole, see
//! [`super::state::ensure_dir`]). The holder writes its pid and start time into it (`PID
//! YYYY-MM-DD HH:MM:SS UTC`), which a second run names when it is refused. The kernel releases the lock when the process dies, so it
//! cannot go stale; the file is never deleted.

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::time::SystemTime;

use super::fence::{Dir, Fence};
use super::{failpoint, state};
use crate::error::{Error, Result};

/// Held for the life of the value.
#[derive(Debug)]
pub struct Lock {
    _file: File,
    /// The state directory, open.
    pub state: Dir,
}

impl Lock {
    /// Take the lock without waiting; then remove what killed runs left in the state
    /// directory.
    ///
    /// Errors: [`Error::Locked`] naming the holder's pid and start when another run holds
    /// it; a link or I/O error on the way.
    pub fn take(fence: &Fence, now: SystemTime) -> Result<Lock> {
        let state = state::create(fence)?;
        let name = std::ffi::OsStr::new("lock");
        let path = state.real(name);
        let mut file = state.open_lock(name)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                // the holder writes its pid just after it locks: give it a moment
                let mut holder = String::new();
                for _ in 0..50 {
                    holder.clear();
                    let _ = file.rewind();
                    let _ = file.read_to_string(&mut holder);
                    if holder.ends_with('\n') {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                let (pid, since) = match holder.trim().split_once(' ') {
                    Some((pid, since)) => (Some(pid.to_string()), Some(since.to_string())),
                    None if holder.trim().is_empty() => (None, None),
                    None => (Some(holder.trim().to_string()), None),
                };
                return Err(Error::Locked { path, pid, since });
            }
            Err(TryLockError::Error(e)) => return Err(Error::io("lock", &path, e)),
        }
        failpoint::hit("write", &path).map_err(|e| Error::io("write", &path, e))?;
        let _ = file.set_len(0);
        let _ = file.rewind();
        let _ = writeln!(
            file,
            "{} {}",
            std::process::id(),
            super::record::utc_human(now)
        );
        state::sweep(fence)?;
        Ok(Lock { _file: file, state })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::system::Root;

    #[test]
    fn a_second_lock_is_refused_naming_the_holder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fence = Fence::new(&Root::new(dir.path())).expect("fence");
        let now = SystemTime::UNIX_EPOCH;
        let held = Lock::take(&fence, now).expect("first");
        match Lock::take(&fence, now) {
            Err(e @ Error::Locked { .. }) => assert!(
                e.to_string().starts_with(&format!(
                    "another mailsetup (pid {}) is running since 1970-01-01 00:00:00 UTC",
                    std::process::id()
                )),
                "{e}"
            ),
            other => panic!("expected Locked, got {other:?}"),
        }
        drop(held);
        Lock::take(&fence, now).expect("free again after drop");
    }
}
