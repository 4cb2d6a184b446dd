//! The one error type. Each variant holds facts (paths, names, values); the wording lives in the
//! `#[error]` attributes and always says what happened and what to do about it.

use std::path::PathBuf;

use crate::answers::AnswerError;

/// Everything that stops a command. Every variant maps to exit code 2 ([`Error::exit_code`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Answers(#[from] AnswerError),

    #[error(
        "cannot read the answers file `{path}`: {source}\n  fix: pass an existing TOML file with --answers FILE"
    )]
    AnswersRead {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error(
        "no answers file: pass --answers FILE (see the README for its fields), or run the wizard once, which saves them to /etc/mailsetup/answers.toml"
    )]
    AnswersMissing,

    #[error("cannot {op} `{path}`: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },

    #[error(
        "refusing `{path}`: it is a symbolic link, and mailsetup never follows links beneath the root (nothing was written)\n  fix: replace the link by the file or directory it points to, or edit the target by hand"
    )]
    Symlink { path: PathBuf },

    #[error(
        "refusing to edit `{path}`: it has {links} hard links, and replacing it would split them\n  fix: make it a single file (cp --remove-destination) and run again"
    )]
    HardLinked { path: PathBuf, links: u64 },

    #[error(
        "`{path}` changed after the plan was made (someone else edited it)\n  fix: run mailsetup again to see a fresh diff"
    )]
    ChangedSincePlan { path: PathBuf },

    #[error(
        "another mailsetup (pid {}) is running{}: it holds the lock `{path}`\n  fix: wait for it to finish; never delete the lock file by hand",
        pid.as_deref().unwrap_or("unknown"),
        since.as_ref().map(|s| format!(" since {s}")).unwrap_or_default()
    )]
    Locked {
        path: PathBuf,
        /// The holder's pid and start (`YYYY-MM-DD HH:MM:SS UTC`), as it wrote them.
        pid: Option<String>,
        since: Option<String>,
    },

    #[error(
        "stopped by signal {signal} ({}); {what}",
        signal_name(*signal)
    )]
    Interrupted {
        signal: i32,
        /// What became of the run, e.g. "every change was undone".
        what: String,
    },

    #[error("{file}: `{key}` already maps to `{existing}`, not `{wanted}`\n  fix: {fix}")]
    Conflict {
        file: PathBuf,
        key: String,
        existing: String,
        wanted: String,
        fix: String,
    },

    #[error("the staged {what} did not pass `{tool}`; nothing was changed:\n{output}")]
    Validation {
        what: &'static str,
        tool: String,
        output: String,
    },

    #[error("`{command}` failed ({status}){}", if output.is_empty() { String::new() } else { format!(":\n{output}") })]
    Command {
        command: String,
        status: String,
        output: String,
    },

    #[error("DKIM key `{path}`: {reason}\n  fix: {fix}")]
    Key {
        path: PathBuf,
        reason: String,
        fix: String,
    },

    /// Neither `ipv4` nor `ipv6` in the answers, and no public IPv4 on the interfaces.
    #[error(
        "no public address for this server: the answers file gives neither `ipv4` nor `ipv6`, and no public IPv4 was found on this machine's interfaces (looked at only with `--root /`)\n  fix: add `ipv4 = \"<your server's public IPv4>\"`, `ipv6 = \"<its public IPv6>\"` or both to the answers file (one is enough: an IPv6-only server needs only `ipv6`)"
    )]
    NoServerAddress,

    #[error(
        "the system user `{user}` does not exist; is {package} installed?\n  fix: apt-get install {package}"
    )]
    MissingUser {
        user: &'static str,
        package: &'static str,
    },

    #[error("{0}")]
    Refused(String),

    #[error(
        "run record `{path}` is unreadable: {reason}\n  fix: restore by hand from the `*.mailsetup-*` backups beside each file"
    )]
    RunRecord { path: PathBuf, reason: String },

    #[error("{what}: {reason}")]
    Invalid { what: String, reason: String },

    /// `records --fleet`: the hosts' records cannot be merged into one set
    /// ([`crate::records::fleet::merge`]).
    #[error("records --fleet: {problem}\n  fix: {fix}")]
    Fleet { problem: String, fix: String },
}

impl Error {
    /// Exit code for errors: 128 + the signal for [`Error::Interrupted`] (130 SIGINT, 143
    /// SIGTERM, 129 SIGHUP, as a shell reports a process killed by it), else 2 (0 = ok and 1 =
    /// findings or pending changes are not errors).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Interrupted { signal, .. } => 128u8.saturating_add(*signal as u8),
            _ => 2,
        }
    }

    /// Shorthand for an [`Error::Io`] with the operation named.
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The usual name of a signal number (SIGINT, SIGTERM, SIGHUP, …).
fn signal_name(signal: i32) -> &'static str {
    nix::sys::signal::Signal::try_from(signal)
        .map(|s| s.as_str())
        .unwrap_or("unknown signal")
}
