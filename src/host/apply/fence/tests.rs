#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::Path;

use super::*;

fn me(mode: u32) -> Meta {
    Meta {
        uid: nix::unistd::geteuid().as_raw(),
        gid: nix::unistd::getegid().as_raw(),
        mode,
    }
}

fn tree() -> (tempfile::TempDir, Fence) {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("etc/postfix")).unwrap();
    fs::write(dir.path().join("etc/postfix/main.cf"), "a = b\n").unwrap();
    let fence = Fence::new(&Root::new(dir.path())).unwrap();
    (dir, fence)
}

#[test]
fn reads_and_finds_without_following_links() {
    let (dir, fence) = tree();
    let (bytes, st) = fence
        .read(Path::new("/etc/postfix/main.cf"))
        .unwrap()
        .unwrap();
    assert_eq!(bytes, b"a = b\n");
    assert_eq!(st.kind, Kind::File);
    assert!(
        fence
            .read(Path::new("/etc/postfix/none"))
            .unwrap()
            .is_none()
    );
    assert!(fence.read(Path::new("/etc/none/x")).unwrap().is_none());
    let (at, missing) = fence
        .find(Path::new("/etc/opendkim/keys/example.org"))
        .unwrap();
    assert_eq!(at.path(), Path::new("/etc"));
    assert_eq!(missing, ["opendkim", "keys", "example.org"]);

    // a symlinked directory on the way: refused, naming the link, even though its target exists
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("main.cf"), "outside\n").unwrap();
    fs::create_dir(dir.path().join("etc/default")).unwrap();
    fs::remove_dir(dir.path().join("etc/default")).unwrap();
    symlink(outside.path(), dir.path().join("etc/default")).unwrap();
    match fence.read(Path::new("/etc/default/main.cf")) {
        Err(Error::Symlink { path }) => assert_eq!(path, dir.path().join("etc/default")),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(matches!(
        fence.find(Path::new("/etc/default/sub")),
        Err(Error::Symlink { .. })
    ));
    // a symlinked file: refused too
    symlink("main.cf", dir.path().join("etc/postfix/link.cf")).unwrap();
    assert!(matches!(
        fence.read(Path::new("/etc/postfix/link.cf")),
        Err(Error::Symlink { .. })
    ));
    let st = fence
        .stat(Path::new("/etc/postfix/link.cf"))
        .unwrap()
        .unwrap();
    assert_eq!(st.kind, Kind::Symlink, "stat does not follow either");
}

#[test]
fn creates_with_the_final_mode_and_refuses_what_exists() {
    let (dir, fence) = tree();
    let etc = fence.dir(Path::new("/etc/postfix")).unwrap().unwrap();
    let st = etc.create(OsStr::new("new.cf"), me(0o640), b"x\n").unwrap();
    assert_eq!(st.meta.mode, 0o640);
    assert_eq!(st.nlink, 1);
    assert!(etc.create(OsStr::new("new.cf"), me(0o600), b"y").is_err());
    assert_eq!(
        fs::read(dir.path().join("etc/postfix/new.cf")).unwrap(),
        b"x\n"
    );
    let sub = etc.mkdir(OsStr::new("d"), me(0o750)).unwrap();
    assert_eq!(sub.own_stat().unwrap().meta.mode, 0o750);
    assert_eq!(sub.path(), Path::new("/etc/postfix/d"));
    // rename without replacing
    assert!(
        etc.rename_new(OsStr::new("new.cf"), OsStr::new("main.cf"))
            .is_err()
    );
    assert_eq!(
        fs::read(dir.path().join("etc/postfix/main.cf")).unwrap(),
        b"a = b\n"
    );
    etc.rename(OsStr::new("new.cf"), OsStr::new("main.cf"))
        .unwrap();
    assert_eq!(
        fs::read(dir.path().join("etc/postfix/main.cf")).unwrap(),
        b"x\n"
    );
}

#[test]
fn owner_and_mode_change_only_through_a_file_with_one_link() {
    let (dir, fence) = tree();
    let secret = dir.path().join("shadow");
    fs::write(&secret, "secret").unwrap();
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o640)).unwrap();
    fs::hard_link(&secret, dir.path().join("etc/postfix/key")).unwrap();
    let etc = fence.dir(Path::new("/etc/postfix")).unwrap().unwrap();
    assert!(matches!(
        etc.set_meta(OsStr::new("key"), me(0o600), false),
        Err(Error::HardLinked { links: 2, .. })
    ));
    assert_eq!(
        fs::metadata(&secret).unwrap().mode() & 0o7777,
        0o640,
        "untouched"
    );
    symlink(&secret, dir.path().join("etc/postfix/link")).unwrap();
    assert!(matches!(
        etc.set_meta(OsStr::new("link"), me(0o600), false),
        Err(Error::Symlink { .. })
    ));
    assert_eq!(
        fs::metadata(&secret).unwrap().mode() & 0o7777,
        0o640,
        "untouched"
    );
    etc.set_meta(OsStr::new("main.cf"), me(0o600), false)
        .unwrap();
    assert_eq!(
        fs::metadata(dir.path().join("etc/postfix/main.cf"))
            .unwrap()
            .mode()
            & 0o7777,
        0o600
    );
}

#[test]
fn remove_tree_removes_links_not_what_they_point_to() {
    let (dir, fence) = tree();
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("keep"), "keep").unwrap();
    let d = dir.path().join("etc/postfix/gone");
    fs::create_dir_all(d.join("sub")).unwrap();
    fs::write(d.join("sub/f"), "f").unwrap();
    symlink(outside.path(), d.join("link")).unwrap();
    let etc = fence.dir(Path::new("/etc/postfix")).unwrap().unwrap();
    etc.remove_tree(OsStr::new("gone")).unwrap();
    assert!(!d.exists());
    assert_eq!(
        fs::read_to_string(outside.path().join("keep")).unwrap(),
        "keep"
    );
    etc.remove_tree(OsStr::new("gone")).unwrap(); // absent: fine
    let names: Vec<_> = etc.entries().unwrap().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["main.cf"]);
}

#[test]
fn paths_with_dot_dot_are_refused() {
    let (_dir, fence) = tree();
    assert!(
        fence
            .read(Path::new("/etc/../etc/postfix/main.cf"))
            .is_err()
    );
    assert!(fence.read(Path::new("etc/postfix/main.cf")).is_err());
}
