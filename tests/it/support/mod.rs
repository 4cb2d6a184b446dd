//! Test support: an in-process DNS server ([`dns_server`]), a temporary `--root` tree built from the Debian 12 stock files, a runner for the
//! real binary, and a snapshot of a tree (every file's bytes and mode) to prove what changed;
//! zone-file text as data ([`zonefile`]), a DNS world of several servers to edit and serve
//! ([`world`]), and a finding's printed fix followed on them ([`follow`]).

pub mod dns_server;
pub mod follow;
pub mod https;
pub mod lab;
pub mod scenario;
pub mod tmux;
pub mod world;
pub mod zonefile;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The absolute path of a file or directory beneath `tests/fixtures/`, as a `&'static str`.
/// Every fixture is named through this macro or [`fixture_text!`], so that they are found
/// wherever the test that uses them lives.
macro_rules! fixture_path {
    ($path:literal) => {
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/", $path)
    };
}

/// The text of a file beneath `tests/fixtures/`, compiled in (`include_str!`).
macro_rules! fixture_text {
    ($path:literal) => {
        include_str!($crate::support::fixture_path!($path))
    };
}

pub(crate) use {fixture_path, fixture_text};

/// The Debian 12 tree a [`Tree`] starts from.
pub const FIXTURE: &str = fixture_path!("debian12");
/// The answers the set-up tests apply (mail.example.org at 192.0.2.10, example.org and
/// example.net, 1024-bit keys).
pub const ANSWERS: &str = fixture_path!("answers.toml");

/// A temporary root holding a copy of the Debian 12 fixture tree.
pub struct Tree {
    pub dir: tempfile::TempDir,
}

impl Tree {
    pub fn debian12() -> Tree {
        Tree::debian12_in(&std::env::temp_dir())
    }

    /// [`Tree::debian12`] in `/dev/shm` when there is one (a tmpfs: fsync costs nothing, so
    /// the crash sweeps that run mailsetup hundreds of times stay fast), else in the temp dir.
    pub fn debian12_fast() -> Tree {
        Tree::debian12_in(&fast_base())
    }

    fn debian12_in(base: &Path) -> Tree {
        let dir = tempfile::tempdir_in(base).expect("tempdir");
        copy_dir(Path::new(FIXTURE), dir.path());
        fs::create_dir_all(dir.path().join("var/spool/postfix")).expect("queue dir");
        snakeoil_as_debian(dir.path());
        Tree { dir }
    }

    /// A copy of this tree (`cp -a`: owners, modes and times kept) beside it.
    pub fn copy(&self) -> Tree {
        let dir = tempfile::tempdir_in(self.root().parent().expect("parent")).expect("tempdir");
        let ok = Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", self.root().display()))
            .arg(dir.path())
            .status()
            .expect("cp")
            .success();
        assert!(ok, "cp -a failed");
        Tree { dir }
    }

    /// Run the binary with `--root <tree>`, these arguments and these environment variables.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_mailsetup"))
            .arg("--root")
            .arg(self.root())
            .args(args)
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run mailsetup");
        Run::from(out, self.root())
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, system: &str) -> PathBuf {
        self.dir.path().join(system.trim_start_matches('/'))
    }

    pub fn read(&self, system: &str) -> String {
        fs::read_to_string(self.path(system)).unwrap_or_else(|e| panic!("read {system}: {e}"))
    }

    pub fn write(&self, system: &str, text: &str) {
        let p = self.path(system);
        fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        fs::write(p, text).expect("write");
    }

    /// Run the binary with `--root <tree>` and the given arguments.
    pub fn run(&self, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_mailsetup"))
            .arg("--root")
            .arg(self.root())
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .expect("run mailsetup");
        Run::from(out, self.root())
    }

    /// Every file and directory beneath the root: relative path → (content digest, mode, uid, gid).
    pub fn snapshot(&self) -> BTreeMap<PathBuf, (String, u32, u32, u32)> {
        let mut out = BTreeMap::new();
        walk(self.root(), self.root(), &mut out);
        out
    }
}

/// Length and a 64-bit hash of the content: enough to tell any change, short enough to read in a
/// failed assertion.
fn digest(bytes: &[u8]) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    format!("{}B:{:016x}", bytes.len(), h.finish())
}

impl Tree {
    /// [`Tree::snapshot`] without mailsetup's own state (`var/lib`) and `*.mailsetup-*` backups.
    pub fn snapshot_without_state(&self) -> BTreeMap<PathBuf, (String, u32, u32, u32)> {
        let mut snap = self.snapshot();
        snap.retain(|p, _| {
            let s = p.to_string_lossy();
            !s.starts_with("var/lib") && !s.contains(".mailsetup-")
        });
        snap
    }

    /// [`Tree::snapshot_without_state`] without the saved answers (/etc/mailsetup) and with
    /// the keys' bytes replaced by `key` (keys are random; their owner and mode still count):
    /// what two set-ups made from the same answers must share.
    pub fn snapshot_comparable(&self) -> BTreeMap<PathBuf, (String, u32, u32, u32)> {
        let mut snap = self.snapshot_without_state();
        snap.retain(|p, _| !p.starts_with("etc/mailsetup"));
        for (path, entry) in snap.iter_mut() {
            if path.starts_with("etc/opendkim/keys") && entry.0 != "dir" {
                entry.0 = "key".into();
            }
        }
        snap
    }
}

/// Where fast trees go: `/dev/shm` when it is a writable directory, else the temp dir.
pub fn fast_base() -> PathBuf {
    let shm = Path::new("/dev/shm");
    let usable = shm.is_dir() && tempfile::tempdir_in(shm).is_ok();
    if usable {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, (String, u32, u32, u32)>) {
    for e in fs::read_dir(dir).expect("readdir").flatten() {
        let p = e.path();
        let md = fs::symlink_metadata(&p).expect("lstat");
        let rel = p.strip_prefix(base).expect("rel").to_path_buf();
        if md.is_dir() {
            out.insert(rel, ("dir".into(), md.mode(), md.uid(), md.gid()));
            walk(base, &p, out);
        } else {
            out.insert(
                rel,
                (
                    digest(&fs::read(&p).unwrap_or_default()),
                    md.mode(),
                    md.uid(),
                    md.gid(),
                ),
            );
        }
    }
}

/// Debian's snake-oil key is root:ssl-cert 0640 (git keeps no mode): so here, the group when
/// root runs the tests (ssl-cert is gid 109 in the fixture's /etc/group). The fixture's
/// certbot key for mail.example.org is 0600, as certbot makes it (a file here, not certbot's
/// link into `archive/`).
pub fn snakeoil_as_debian(root: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let key = root.join("etc/ssl/private/ssl-cert-snakeoil.key");
    fs::set_permissions(&key, fs::Permissions::from_mode(0o640)).expect("chmod key");
    if nix::unistd::geteuid().is_root() {
        std::os::unix::fs::chown(&key, Some(0), Some(109)).expect("chown key");
    }
    let le = root.join("etc/letsencrypt/live/mail.example.org/privkey.pem");
    fs::set_permissions(&le, fs::Permissions::from_mode(0o600)).expect("chmod certbot key");
}

fn copy_dir(from: &Path, to: &Path) {
    for e in fs::read_dir(from).expect("readdir").flatten() {
        let dst = to.join(e.file_name());
        if e.path().is_dir() {
            fs::create_dir_all(&dst).expect("mkdir");
            copy_dir(&e.path(), &dst);
        } else {
            fs::copy(e.path(), &dst).expect("copy");
        }
    }
}

/// The outcome of one run, with the temporary root's path replaced by `[ROOT]`.
pub struct Run {
    /// The exit code; -1 when a signal ended the process.
    pub code: i32,
    /// The signal that ended the process, if one did.
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(out: Output, root: &Path) -> Run {
        let clean =
            |b: &[u8]| String::from_utf8_lossy(b).replace(&root.display().to_string(), "[ROOT]");
        Run {
            code: out.status.code().unwrap_or(-1),
            signal: std::os::unix::process::ExitStatusExt::signal(&out.status),
            stdout: clean(&out.stdout),
            stderr: clean(&out.stderr),
        }
    }

    pub fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }
}
