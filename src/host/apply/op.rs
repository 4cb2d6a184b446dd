//! The changes a transaction is made of, as its callers describe them: an apply turns a
//! [`crate::plan::Plan`] into these (`super::from_plan`), a rollback turns run records into
//! them ([`mod@super::rollback`]). Paths are system paths. Every op says what it expects to find,
//! so a file changed since the plan was shown stops the run before anything is written.

use std::path::PathBuf;

use zeroize::Zeroizing;

use super::record::sha256;
use crate::host::system::Meta;

/// What a path must hold when the run starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Nothing (the file is new).
    Absent,
    /// A regular file whose content has this SHA-256 (hex).
    Sha256(String),
    /// Whatever is there (a forced rollback).
    Any,
}

impl Expect {
    /// The expectation for a file whose text was `before` when the plan was made.
    pub fn text(before: Option<&str>) -> Expect {
        match before {
            None => Expect::Absent,
            Some(t) => Expect::Sha256(sha256(t.as_bytes())),
        }
    }
}

/// Write `bytes` at `path` with `meta` (None: the owner and mode the file has now, or 0644
/// root for a new file). An existing file is replaced; with `backup` it is kept beside it as
/// the run's backup (`<name>.mailsetup-<stamp>`). Missing parent directories are created
/// (0755 root unless an [`Op::Dir`] says otherwise). `key`: a private key (recorded as one: a
/// rollback retires it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Put {
    pub path: PathBuf,
    pub bytes: Zeroizing<Vec<u8>>,
    pub meta: Option<Meta>,
    pub expect: Expect,
    pub key: bool,
    pub backup: bool,
}

/// One change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Write a file (see [`Put`]).
    Put(Put),
    /// Put the backup `from` (a name in the same directory) back in place of `path`.
    Restore {
        path: PathBuf,
        from: PathBuf,
        expect: Expect,
    },
    /// Remove the file `path`.
    Remove { path: PathBuf, expect: Expect },
    /// `path` is a directory with exactly `meta`: created (whole, in one rename) when
    /// missing, its owner and mode set when they differ.
    Dir { path: PathBuf, meta: Meta },
    /// Remove the directory `path` with everything in it (a directory the session created,
    /// holding only what it created).
    RemoveDir { path: PathBuf },
    /// Owner and mode of the existing `path` (a regular file with one link, or a directory).
    Meta {
        path: PathBuf,
        meta: Meta,
        dir: bool,
    },
    /// On the host: add `user` to the supplementary group `group` (or remove it).
    Group {
        user: String,
        group: String,
        add: bool,
    },
    /// Remove `path` once the run succeeded (a backup a rollback makes useless).
    Discard { path: PathBuf },
}

impl Op {
    /// The path the op is about (the group ops have none).
    pub fn path(&self) -> Option<&PathBuf> {
        match self {
            Op::Put(Put { path, .. })
            | Op::Restore { path, .. }
            | Op::Remove { path, .. }
            | Op::Dir { path, .. }
            | Op::RemoveDir { path }
            | Op::Meta { path, .. }
            | Op::Discard { path } => Some(path),
            Op::Group { .. } => None,
        }
    }
}
