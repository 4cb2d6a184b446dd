//! Failpoints for the crash and fault tests: every change the transaction makes to the file
//! system (create, write, fsync, link, rename, unlink, mkdir, chown/chmod) passes through
//! [`hit`] first. Built without the `failpoints` feature (every release build), `hit` is an
//! empty inline function. With it (the test builds enable it), `MAILSETUP_FAILPOINT=N[:ACTION]`
//! makes the N-th change (counted from 1 in this process) kill the process with SIGKILL
//! (`kill`, the default), stop it with SIGSTOP until a test sends signals and SIGCONT
//! (`stop`), or fail with an injected error (`enospc`, `eio`, `eperm`), and
//! `MAILSETUP_FAILPOINT_LOG=FILE` appends one line per change (`N OP PATH`) so a test can
//! count the points of a run.

use std::io;
use std::path::Path;

/// Called before each file-system change `op` of `path`. Errors: the injected error, when this
/// is the chosen point and the action is an error.
#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub fn hit(_op: &'static str, _path: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(feature = "failpoints")]
pub fn hit(op: &'static str, path: &Path) -> io::Result<()> {
    use std::io::Write;
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};

    static COUNT: AtomicU64 = AtomicU64::new(0);
    static CHOSEN: OnceLock<Option<(u64, String)>> = OnceLock::new();
    let n = COUNT.fetch_add(1, Ordering::SeqCst) + 1;
    if let Some(log) = std::env::var_os("MAILSETUP_FAILPOINT_LOG")
        && let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
    {
        let _ = writeln!(f, "{n} {op} {}", path.display());
    }
    let chosen = CHOSEN.get_or_init(|| {
        let spec = std::env::var("MAILSETUP_FAILPOINT").ok()?;
        let (at, action) = spec.split_once(':').unwrap_or((spec.as_str(), "kill"));
        Some((at.parse().ok()?, action.to_string()))
    });
    match chosen {
        Some((at, action)) if *at == n => match action.as_str() {
            "enospc" => Err(io::Error::from_raw_os_error(nix::libc::ENOSPC)),
            "eio" => Err(io::Error::from_raw_os_error(nix::libc::EIO)),
            "eperm" => Err(io::Error::from_raw_os_error(nix::libc::EPERM)),
            "stop" => {
                let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGSTOP);
                Ok(())
            }
            _ => {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::this(),
                    nix::sys::signal::Signal::SIGKILL,
                );
                // SIGKILL cannot be caught; this is never reached
                std::process::abort()
            }
        },
        _ => Ok(()),
    }
}
