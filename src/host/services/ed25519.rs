//! The second OpenDKIM instance (Ed25519 dual signing, answers `algorithms`) as a service:
//! Debian ships no init script or unit for it, so where systemd runs mailsetup's own unit
//! ([`system::ED25519_UNIT`]) is reloaded, enabled and (re)started with systemctl, and
//! disabled and stopped once the instance is turned off; without systemd the daemon is
//! stopped by its PID file ([`system::ED25519_PID`]) and started directly
//! (`opendkim -x /etc/opendkim-ed25519.conf`). An action whose configuration file is gone
//! (a rollback removed it) stops the instance.

use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::{Service, ServiceAction, Verb, command, run, wait_up};
use crate::error::{Error, Result};
use crate::host::system::{self, Root};

const UNIT: &str = "opendkim-ed25519";

/// The PID of the running instance: its PID file names a live process called `opendkim`.
pub(super) fn pid() -> Option<i32> {
    let text = std::fs::read_to_string(system::ED25519_PID).ok()?;
    let pid: i32 = text.trim().parse().ok()?;
    super::alive(pid, "opendkim").then_some(pid)
}

/// Carry out `a` on the host (the caller handles a test root). Returns the line saying what
/// was done. Errors: systemctl or opendkim failed, or the instance did not come up (or go
/// down) within 15 s.
pub(super) fn perform(root: &Root, a: &ServiceAction) -> Result<String> {
    let configured = root.path(system::ED25519_CONF).exists();
    let stop = a.verb == Verb::Stop || !configured;
    let why = if configured || a.verb == Verb::Stop {
        a.why.clone()
    } else {
        format!("{} is gone ({})", system::ED25519_CONF, a.why)
    };
    if system::has_systemd(root) {
        return systemd(root, stop, &why);
    }
    let was = pid();
    if let Some(p) = was {
        terminate(p)?;
    }
    if stop {
        return Ok(match was {
            Some(_) => format!("stopped {UNIT}: {why}"),
            None => format!("{UNIT} is not running: {why}"),
        });
    }
    let mut c = command("/usr/sbin/opendkim");
    c.args(["-x", system::ED25519_CONF]);
    run(c)?;
    wait_up(Service::OpendkimEd25519)?;
    let verb = if was.is_some() {
        "restarted"
    } else {
        "started"
    };
    Ok(format!("{verb} {UNIT}: {why}"))
}

/// systemctl: `daemon-reload`, `enable`, `restart`; or `disable --now`.
fn systemd(root: &Root, stop: bool, why: &str) -> Result<String> {
    let systemctl = |args: &[&str]| {
        let mut c = command("/usr/bin/systemctl");
        c.args(args);
        run(c)
    };
    if stop {
        if root.path(system::ED25519_UNIT).exists() {
            systemctl(&["disable", "--now", UNIT])?;
        } else if let Some(p) = pid() {
            terminate(p)?;
        }
        return Ok(format!("stopped and disabled {UNIT}: {why}"));
    }
    systemctl(&["daemon-reload"])?;
    systemctl(&["enable", UNIT])?;
    systemctl(&["restart", UNIT])?;
    wait_up(Service::OpendkimEd25519)?;
    Ok(format!("enabled and restarted {UNIT}: {why}"))
}

/// SIGTERM to `pid`, then wait up to 15 s for it to exit. Errors: it did not.
fn terminate(pid: i32) -> Result<()> {
    let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(15) {
        if !super::alive(pid, "opendkim") {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(Error::Refused(format!(
        "{UNIT} (pid {pid}) did not stop within 15 s of SIGTERM; stop it by hand \
         (kill {pid}) and run mailsetup again"
    )))
}
