//! The checks of one target before anything is written: a plain file name, a free
//! temporary name, a regular file with one link (never a link), and the content the plan saw.

use std::ffi::OsStr;
use std::path::Path;

use crate::error::{Error, Result};
use crate::host::apply::fence::{Dir, Kind, Stat};
use crate::host::apply::op::Expect;
use crate::host::apply::record::sha256;

pub(super) fn name_of(path: &Path) -> Result<String> {
    path.file_name()
        .and_then(OsStr::to_str)
        .map(str::to_string)
        .ok_or_else(|| Error::Invalid {
            what: path.display().to_string(),
            reason: "has no file name mailsetup can handle (UTF-8)".into(),
        })
}

/// `base`, or `base-2`, `base-3`, … : the first name not present in `dir`.
pub(super) fn free_name(dir: &Dir, base: &str) -> Result<String> {
    let mut candidate = base.to_string();
    let mut n = 1;
    while dir.stat(OsStr::new(&candidate))?.is_some() {
        n += 1;
        candidate = format!("{base}-{n}");
    }
    Ok(candidate)
}

/// The file at `name` in `dir`, checked: a regular file with one link, not a symlink.
pub(super) fn existing_file(dir: &Dir, name: &str) -> Result<Option<Stat>> {
    let st = dir.stat(OsStr::new(name))?;
    match st {
        None => Ok(None),
        Some(s) if s.kind == Kind::Symlink => Err(Error::Symlink {
            path: dir.real(OsStr::new(name)),
        }),
        Some(s) if s.kind != Kind::File => Err(Error::Invalid {
            what: dir.real(OsStr::new(name)).display().to_string(),
            reason: "is not a regular file".into(),
        }),
        Some(s) if s.nlink > 1 => Err(Error::HardLinked {
            path: dir.real(OsStr::new(name)),
            links: s.nlink,
        }),
        Some(s) => Ok(Some(s)),
    }
}

/// Does the file hold what the plan saw? Errors: [`Error::ChangedSincePlan`] when not.
pub fn check_expect(dir: &Dir, name: &str, st: Option<Stat>, expect: &Expect) -> Result<()> {
    let changed = || Error::ChangedSincePlan {
        path: dir.real(OsStr::new(name)),
    };
    match (expect, st) {
        (Expect::Any, _) | (Expect::Absent, None) => Ok(()),
        (Expect::Absent, Some(_)) | (Expect::Sha256(_), None) => Err(changed()),
        (Expect::Sha256(want), Some(_)) => {
            let (bytes, _) = dir.read(OsStr::new(name))?.ok_or_else(changed)?;
            if &sha256(&bytes) == want {
                Ok(())
            } else {
                Err(changed())
            }
        }
    }
}
