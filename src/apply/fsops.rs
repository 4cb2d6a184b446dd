//! The file-system operations apply and rollback are made of, each safe on its own: an atomic
//! replace that keeps (or sets) owner and mode before the rename, a hard-link backup, a private key
//! created 0600 with its final owner before its first byte, directories with exact owner and mode.
//! Sources: reliability.md G1.1–G1.5 (temp file in the same directory, fsync, rename, fsync of the
//! directory; refuse symlinks; hard-link backups) and G3.1 (key creation sequence).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, fchown};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::system::Meta;

/// Refuse targets we must not replace: a symlink (we would write outside the expected place) or a
/// file with several hard links (replacing it would split them).
pub fn check_target(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(md) if md.file_type().is_symlink() => Err(Error::Symlink { path: path.into() }),
        Ok(md) if std::os::unix::fs::MetadataExt::nlink(&md) > 1 => Err(Error::HardLinked {
            path: path.into(),
            links: std::os::unix::fs::MetadataExt::nlink(&md),
        }),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("inspect", path, e)),
    }
}

/// A temporary name beside `path` that nothing globs for.
pub fn temp_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.mailsetup-tmp-{}", std::process::id()))
}

/// Create a new file exclusively (never following a link), mode 0600, then give it `meta`'s owner and
/// mode before anything is written. `chown` is skipped when not running as root.
fn create_exclusive(path: &Path, meta: Meta) -> Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| Error::io("create", path, e))?;
    set_meta(&file, path, meta)?;
    Ok(file)
}

/// fchown (as root) and fchmod an open file.
pub fn set_meta(file: &File, path: &Path, meta: Meta) -> Result<()> {
    if nix::unistd::geteuid().is_root() {
        fchown(file, Some(meta.uid), Some(meta.gid))
            .map_err(|e| Error::io("set the owner of", path, e))?;
    }
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(fs::Permissions::from_mode(meta.mode))
        .map_err(|e| Error::io("set the mode of", path, e))
}

/// Write `text` to a temp file beside `path` with its final owner and mode, fsync it. Returns the
/// temp path; [`commit`] renames it into place.
pub fn stage(path: &Path, text: &str, meta: Meta) -> Result<PathBuf> {
    let tmp = temp_beside(path);
    let _ = fs::remove_file(&tmp); // a leftover of a crashed run of ours (same pid is impossible)
    let mut f = create_exclusive(&tmp, meta)?;
    let written = f.write_all(text.as_bytes()).and_then(|()| f.sync_all());
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io("write", &tmp, e));
    }
    Ok(tmp)
}

/// Rename the staged temp over `path` and fsync the directory.
pub fn commit(tmp: &Path, path: &Path) -> Result<()> {
    fs::rename(tmp, path).map_err(|e| Error::io("replace", path, e))?;
    sync_dir(path)
}

/// fsync the directory holding `path`, so a rename or link survives a crash.
pub fn sync_dir(path: &Path) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("sync the directory", dir, e))
}

/// Hard-link `path` to `backup` (an exact snapshot: same bytes, owner, mode; no copy window).
pub fn backup(path: &Path, backup: &Path) -> Result<()> {
    fs::hard_link(path, backup).map_err(|e| Error::io("back up (hard link)", path, e))
}

/// The first free `<file>.mailsetup-<stamp>[-N]` name.
pub fn backup_name(path: &Path, stamp: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut candidate = path.with_file_name(format!("{name}.mailsetup-{stamp}"));
    let mut n = 1;
    while fs::symlink_metadata(&candidate).is_ok() {
        candidate = path.with_file_name(format!("{name}.mailsetup-{stamp}-{n}"));
        n += 1;
    }
    candidate
}

/// Restore `path` from its hard-link backup by renaming the backup over it: the file becomes the
/// original inode again (bytes, owner and mode as they were) with a single link, so a later apply
/// can replace it. The backup name is used up.
pub fn restore(backup_path: &Path, path: &Path) -> Result<()> {
    commit(backup_path, path)
}

/// Create a private key file at `path`: 0600 with its final owner from the first byte, written and
/// fsynced under a temp name, then published with `link` (which never replaces an existing file).
pub fn create_secret(path: &Path, text: &str, meta: Meta) -> Result<()> {
    let tmp = stage(path, text, meta)?;
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => sync_dir(path),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(Error::Key {
            path: path.into(),
            reason: "a key appeared at this path while mailsetup was running".into(),
            fix: "run mailsetup again; it reuses the existing key".into(),
        }),
        Err(e) => Err(Error::io("create the key", path, e)),
    }
}

/// Make `path` a directory with exactly this owner and mode (creating missing parents 0755 root).
/// Returns the directories created, outermost first.
pub fn ensure_dir(path: &Path, meta: Meta) -> Result<Vec<PathBuf>> {
    let mut created = Vec::new();
    let mut missing: Vec<&Path> = path
        .ancestors()
        .take_while(|p| fs::symlink_metadata(p).is_err())
        .collect();
    missing.reverse();
    for p in &missing {
        fs::create_dir(p).map_err(|e| Error::io("create the directory", *p, e))?;
        created.push(p.to_path_buf());
    }
    for p in missing.iter().filter(|p| **p != path) {
        set_dir_meta(
            p,
            Meta {
                uid: 0,
                gid: 0,
                mode: 0o755,
            },
        )?;
    }
    let md = fs::symlink_metadata(path).map_err(|e| Error::io("inspect", path, e))?;
    if !md.is_dir() {
        return Err(Error::Invalid {
            what: path.display().to_string(),
            reason: "exists but is not a directory".into(),
        });
    }
    set_dir_meta(path, meta)?;
    Ok(created)
}

/// fchown/fchmod a directory through a descriptor opened without following links.
pub fn set_dir_meta(path: &Path, meta: Meta) -> Result<()> {
    let dir = OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_DIRECTORY)
        .open(path)
        .map_err(|e| Error::io("open the directory", path, e))?;
    set_meta(&dir, path, meta)
}

/// fchown/fchmod an existing regular file through a descriptor opened without following links.
pub fn set_file_meta(path: &Path, meta: Meta) -> Result<()> {
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| Error::io("open", path, e))?;
    set_meta(&f, path, meta)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn me(mode: u32) -> Meta {
        Meta {
            uid: nix::unistd::geteuid().as_raw(),
            gid: nix::unistd::getegid().as_raw(),
            mode,
        }
    }

    #[test]
    fn stage_commit_backup_restore_keep_bytes_and_mode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("main.cf");
        fs::write(&f, "old\n").expect("write");
        fs::set_permissions(&f, std::os::unix::fs::PermissionsExt::from_mode(0o640))
            .expect("chmod");
        let tmp = stage(&f, "new\n", me(0o640)).expect("stage");
        let b = backup_name(&f, "20260101T000000Z");
        backup(&f, &b).expect("backup");
        commit(&tmp, &f).expect("commit");
        assert_eq!(fs::read_to_string(&f).expect("read"), "new\n");
        assert_eq!(fs::metadata(&f).expect("md").mode() & 0o7777, 0o640);
        assert_eq!(fs::read_to_string(&b).expect("read"), "old\n");
        assert!(!tmp.exists(), "no temp file left");
        assert_eq!(
            backup_name(&f, "20260101T000000Z")
                .file_name()
                .and_then(|n| n.to_str()),
            Some("main.cf.mailsetup-20260101T000000Z-1")
        );
        restore(&b, &f).expect("restore");
        assert_eq!(fs::read_to_string(&f).expect("read"), "old\n");
        assert_eq!(fs::metadata(&f).expect("md").mode() & 0o7777, 0o640);
        assert_eq!(
            fs::metadata(&f).expect("md").nlink(),
            1,
            "one link: a later apply may replace it"
        );
        assert!(!b.exists(), "the backup became the file again");
    }

    #[test]
    fn refuses_symlinks_and_hard_links() {
        let dir = tempfile::tempdir().expect("tempdir");
        let real = dir.path().join("real");
        fs::write(&real, "x").expect("write");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        assert!(matches!(check_target(&link), Err(Error::Symlink { .. })));
        let hard = dir.path().join("hard");
        fs::hard_link(&real, &hard).expect("link");
        assert!(matches!(
            check_target(&real),
            Err(Error::HardLinked { links: 2, .. })
        ));
    }

    #[test]
    fn secret_is_created_0600_and_never_replaced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let k = dir.path().join("mail.private");
        create_secret(&k, "SECRET", me(0o600)).expect("create");
        assert_eq!(fs::metadata(&k).expect("md").mode() & 0o7777, 0o600);
        let again = create_secret(&k, "OTHER", me(0o600));
        assert!(matches!(again, Err(Error::Key { .. })));
        assert_eq!(fs::read_to_string(&k).expect("read"), "SECRET");
        assert_eq!(
            fs::read_dir(dir.path()).expect("ls").count(),
            1,
            "no temp file left"
        );
    }

    #[test]
    fn ensure_dir_creates_parents_and_sets_mode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path().join("a/b/c");
        let created = ensure_dir(&d, me(0o750)).expect("dirs");
        assert_eq!(created.len(), 3);
        assert_eq!(fs::metadata(&d).expect("md").mode() & 0o7777, 0o750);
        assert!(ensure_dir(&d, me(0o750)).expect("again").is_empty());
    }
}
