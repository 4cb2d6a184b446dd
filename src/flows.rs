//! The use cases every front end shares: the CLI commands (`crate::commands`) and the
//! wizard's runtime (`crate::tui`) both call these and never each other. Each one reads what
//! it needs through the edges (files beneath the root, DNS, the transaction) and returns
//! values: the settings, the records, the plan of some parts, the whole check (local and DNS,
//! merged), the selftest, a session id.

pub mod check;
pub mod plan;
pub mod records;
pub mod rotate;
pub mod settings;

use std::time::SystemTime;

use crate::dns::AuthOptions;
use crate::host::system::Root;

/// Where the answers are saved for the next run (beneath the root).
pub const SAVED_ANSWERS: &str = "/etc/mailsetup/answers.toml";
/// Where the wizard's `s` saves the records (beneath the root).
pub const SAVED_RECORDS: &str = "/etc/mailsetup/records.txt";

/// What the use cases of one run need to know.
#[derive(Debug, Clone)]
pub struct Context {
    pub root: Root,
    /// DNS: the first hop and the authoritative port (as `check`'s options).
    pub dns: AuthOptions,
    /// The run records of this run share it: one `rollback` undoes every step.
    pub session: Option<String>,
    /// `mailsetup demo`: the sandbox and its DNS servers, which the records are published
    /// into (the wizard's `p`); `None` on a server.
    pub demo: Option<std::sync::Arc<crate::demo::Demo>>,
    /// How the wizard runs `rotate` (`r` on the Keys step): the command-line front end's
    /// own, handed in by it; `None`: the wizard says rotation is not available here.
    pub rotate: Option<Rotator>,
}

/// Runs a `rotate` command line (`argv`, as [`crate::invocation::Invocation::argv`] makes
/// it) beneath `root` with these settings: Ok(its exit code: 0 switched or finished, 1 still
/// waiting or a dry run), Err(its error, said). What it says goes through `say!`, which
/// [`crate::output::captured`] gathers.
pub type Rotator =
    fn(&Root, &crate::settings::Settings, Vec<std::ffi::OsString>) -> Result<u8, String>;

/// A session id for the run records of one apply or one wizard run: `STAMP-PID`.
pub fn session() -> String {
    format!(
        "{}-{}",
        crate::host::apply::record::utc_stamp(SystemTime::now()),
        std::process::id()
    )
}
