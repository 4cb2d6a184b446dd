//! Signals during a transaction: while a [`Guard`] lives, SIGINT, SIGTERM and SIGHUP only
//! set a flag ([`caught`]); the transaction looks at it between its steps and undoes (or,
//! once past the point of no return, finishes) before it stops with
//! [`crate::error::Error::Interrupted`]
//! (exit 130, 143 or 129). The previous dispositions come back when the guard is dropped.
//! SIGPIPE needs nothing here: Rust starts programs with it ignored, so a closed pipe is an
//! `EPIPE` error on write, which the front ends ignore (see `commands::out`).

use std::sync::atomic::{AtomicI32, Ordering};

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

static CAUGHT: AtomicI32 = AtomicI32::new(0);

const SIGNALS: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

extern "C" fn note(signal: nix::libc::c_int) {
    // async-signal-safe: one atomic store
    CAUGHT.store(signal, Ordering::SeqCst);
}

/// Catches SIGINT, SIGTERM and SIGHUP for its lifetime.
pub struct Guard {
    previous: Vec<(Signal, SigAction)>,
}

impl Guard {
    /// Install the handlers. A failure to install one leaves that signal as it was (the
    /// journal still makes the next command recover).
    pub fn install() -> Guard {
        CAUGHT.store(0, Ordering::SeqCst);
        let action = SigAction::new(SigHandler::Handler(note), SaFlags::empty(), SigSet::empty());
        let previous = SIGNALS
            .iter()
            // SAFETY: the handler only stores into an atomic, which is async-signal-safe
            .filter_map(|s| unsafe { sigaction(*s, &action) }.ok().map(|old| (*s, old)))
            .collect();
        Guard { previous }
    }

    /// The signal that arrived since the guard was installed, if any.
    pub fn caught(&self) -> Option<i32> {
        caught()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        for (signal, old) in &self.previous {
            // SAFETY: restoring the disposition that was there before
            let _ = unsafe { sigaction(*signal, old) };
        }
    }
}

/// The signal caught while a guard was installed, if any.
pub fn caught() -> Option<i32> {
    match CAUGHT.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}
