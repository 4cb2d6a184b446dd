//! Files the operator names on the command line, outside the root mailsetup manages
//! (`--answers FILE`, `check --state FILE`): replaced whole and atomically, keeping the owner
//! and mode of the file they replace. A new file beside the old one (created exclusively, never
//! through a symbolic link), written and fsynced, then renamed over it: a reader, or the next
//! command after a kill or a full disk, sees the old file or the new one, never half of one.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Replace `path` by `bytes`. The new file takes the mode and owner of the regular file it
/// replaces, else `mode`; a missing directory is made (0700). A symbolic link at `path` is
/// replaced, not followed. Errors: `what` (e.g. "write the check state") and the path, with
/// the system's reason; the temporary file is removed and `path` is left as it was.
pub fn replace(path: &Path, bytes: &[u8], mode: u32, what: &'static str) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Some(name) = path.file_name() else {
        return Err(Error::Invalid {
            what: path.display().to_string(),
            reason: "names no file".into(),
        });
    };
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|e| Error::io("create the directory", &dir, e))?;
    // the file it replaces: its mode and owner carry over (a link is not a file to copy from)
    let old = fs::symlink_metadata(path).ok().filter(|m| m.is_file());
    let tmp = dir.join(format!(
        ".{}.{}.mailsetup-new",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(&tmp)?;
        if let Some(m) = &old
            && nix::unistd::Uid::effective().is_root()
        {
            std::os::unix::fs::fchown(&f, Some(m.uid()), Some(m.gid()))?;
        }
        let mode = old.as_ref().map_or(mode, |m| m.mode() & 0o7777);
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        fs::File::open(&dir)?.sync_all()
    })();
    written.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io(what, path, e)
    })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_new_file_gets_the_mode_given_and_its_directory_is_made() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/check.json");
        replace(&path, b"one", 0o600, "write").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"one");
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
    }

    #[test]
    fn a_replaced_file_keeps_its_mode_and_a_link_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("answers.toml");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        replace(&path, b"new", 0o600, "write").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o7777,
            0o640
        );

        let target = dir.path().join("elsewhere");
        fs::write(&target, "keep").unwrap();
        let link = dir.path().join("link.toml");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        replace(&link, b"new", 0o600, "write").unwrap();
        assert_eq!(
            fs::read(&target).unwrap(),
            b"keep",
            "not written through the link"
        );
        assert!(fs::symlink_metadata(&link).unwrap().is_file());
        let left: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left.len(), 3, "no temporary file left: {left:?}");
    }
}
