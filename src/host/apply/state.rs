//! mailsetup's own state beneath the root: `/var/lib/mailsetup` (0700 root) holds the lock,
//! the journal of the run in progress (`journal.json`), the records of finished runs
//! (`runs/`) and the keys a rollback retired (`retired-keys/`). Directories are created with
//! their final owner and mode in one step: built under a temporary name, then renamed into
//! place (`RENAME_NOREPLACE`), so two runs starting together never see a half-made one.
//! Files are written whole: a temporary file (0600, fsynced), renamed over the name, and the
//! directory fsynced.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use super::fence::{Dir, Fence, Kind};
use crate::error::{Error, Result};
use crate::host::system::{Meta, STATE_DIR};

/// Owner root, mode 0700: the state directory and everything in it.
pub const PRIVATE_DIR: Meta = Meta {
    uid: 0,
    gid: 0,
    mode: 0o700,
};
/// Owner root, mode 0600: state files.
pub const PRIVATE_FILE: Meta = Meta {
    uid: 0,
    gid: 0,
    mode: 0o600,
};
/// Owner root, mode 0755: a parent directory created on the way (`/var/lib` in a bare tree).
pub const PUBLIC_DIR: Meta = Meta {
    uid: 0,
    gid: 0,
    mode: 0o755,
};

/// The marker in the temporary names of directories being created here.
const NEW_DIR: &str = ".mailsetup-new-";
/// The suffix of a state file being written (only the lock holder writes them).
const TMP: &str = ".tmp";

/// Open the directory `system`, creating it and its missing parents when needed: the
/// parents get `parents`, the directory itself `meta`. An existing directory is left as it
/// is. Errors: a link or a non-directory on the way, or an I/O error.
pub fn ensure_dir(fence: &Fence, system: &Path, meta: Meta, parents: Meta) -> Result<Dir> {
    for _ in 0..3 {
        let (at, missing) = fence.find(system)?;
        let Some((first, rest)) = missing.split_first() else {
            return Ok(at);
        };
        let tmp = OsString::from(format!(
            ".{}{NEW_DIR}{}",
            first.to_string_lossy(),
            std::process::id()
        ));
        at.remove_tree(&tmp)?;
        let meta_at = |i: usize| {
            if i == missing.len() - 1 {
                meta
            } else {
                parents
            }
        };
        let mut dir = at.mkdir(&tmp, meta_at(0))?;
        for (i, name) in rest.iter().enumerate() {
            dir = dir.mkdir(name, meta_at(i + 1))?;
        }
        dir.sync()?;
        match at.rename_new(&tmp, first) {
            Ok(()) => at.sync()?,
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::AlreadyExists => {
                // another run made it first: ours goes, theirs is used
                at.remove_tree(&tmp)?;
            }
            Err(e) => {
                let _ = at.remove_tree(&tmp);
                return Err(e);
            }
        }
    }
    fence.dir(system)?.ok_or_else(|| Error::Invalid {
        what: fence.real(system).display().to_string(),
        reason: "could not be created (it keeps disappearing)".into(),
    })
}

/// What a killed run left here, as (directory, name): `.NAME.mailsetup-new-PID` directories
/// of [`ensure_dir`] whose process is gone, in every existing directory on the way to the
/// state directory, and `.NAME.tmp` files of [`write_file`] in the state directory and
/// `runs/`. Read only.
fn leftovers(fence: &Fence) -> Result<Vec<(PathBuf, OsString)>> {
    let mut out = Vec::new();
    for sub in [PathBuf::from(STATE_DIR), Path::new(STATE_DIR).join("runs")] {
        let Some(dir) = fence.dir(&sub)? else {
            continue;
        };
        for (name, st) in dir.entries()? {
            let text = name.to_string_lossy();
            if st.kind == Kind::File && text.starts_with('.') && text.ends_with(TMP) {
                out.push((sub.clone(), name));
            }
        }
    }
    let mut system = PathBuf::from("/");
    let mut dirs = vec![system.clone()];
    for c in Path::new(STATE_DIR).components().skip(1) {
        system.push(c);
        dirs.push(system.clone());
    }
    for d in dirs {
        let Some(dir) = fence.dir(&d)? else { break };
        for (name, st) in dir.entries()? {
            let text = name.to_string_lossy();
            let Some(pid) = text
                .rsplit_once(NEW_DIR)
                .and_then(|(_, p)| p.parse::<i32>().ok())
            else {
                continue;
            };
            let gone = pid != std::process::id() as i32
                && nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None)
                    == Err(nix::errno::Errno::ESRCH);
            if st.kind == Kind::Dir && text.starts_with('.') && gone {
                out.push((d.clone(), name));
            }
        }
    }
    Ok(out)
}

/// Is there anything a killed run left here (see `leftovers`)? Read only, without the lock.
pub fn has_leftovers(fence: &Fence) -> bool {
    leftovers(fence).is_ok_and(|l| !l.is_empty())
}

/// Remove what killed runs left here (see `leftovers`). Called with the lock held.
pub fn sweep(fence: &Fence) -> Result<()> {
    for (dir, name) in leftovers(fence)? {
        if let Some(dir) = fence.dir(&dir)? {
            dir.remove_tree(&name)?;
            dir.sync()?;
        }
    }
    Ok(())
}

/// Write `bytes` as the file `name` in `dir` (0600 root), whole or not at all: a temporary
/// file fsynced, renamed over the name, the directory fsynced.
pub fn write_file(dir: &Dir, name: &str, bytes: &[u8]) -> Result<()> {
    let tmp = OsString::from(format!(".{name}{TMP}"));
    dir.unlink(&tmp)?;
    dir.create(&tmp, PRIVATE_FILE, bytes)?;
    if let Err(e) = dir.rename(&tmp, OsStr::new(name)) {
        let _ = dir.unlink(&tmp);
        return Err(e);
    }
    dir.sync()
}

/// The state directory, created when needed (0700 root).
pub fn create(fence: &Fence) -> Result<Dir> {
    ensure_dir(fence, Path::new(STATE_DIR), PRIVATE_DIR, PUBLIC_DIR)
}

/// A subdirectory of the state directory (`runs`, `retired-keys`), created when needed.
pub fn create_sub(fence: &Fence, name: &str) -> Result<Dir> {
    ensure_dir(
        fence,
        &Path::new(STATE_DIR).join(name),
        PRIVATE_DIR,
        PRIVATE_DIR,
    )
}
