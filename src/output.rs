//! How much the command line says, and where: `-q` (only errors and the final result), `-v`
//! (also each command run and each DNS query), and the JSON mode of `plan` and `apply`, in
//! which every line for people goes to stderr so that stdout holds the JSON alone. Set once
//! by [`crate::commands::dispatch`] before anything is said; read by the `say!`, `notln!` and
//! `traceln!` macros (src/lib.rs).

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

/// `-q`, normal, `-v`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Quiet = 0,
    Normal = 1,
    Verbose = 2,
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Normal as u8);
static HUMAN_ON_STDERR: AtomicBool = AtomicBool::new(false);

/// Set how much is said (once, from the command line).
pub fn set_level(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

/// Send every line for people to stderr (JSON mode: stdout is the JSON).
pub fn set_human_on_stderr(on: bool) {
    HUMAN_ON_STDERR.store(on, Ordering::Relaxed);
}

pub fn quiet() -> bool {
    LEVEL.load(Ordering::Relaxed) == Level::Quiet as u8
}

pub fn verbose() -> bool {
    LEVEL.load(Ordering::Relaxed) == Level::Verbose as u8
}

pub fn human_on_stderr() -> bool {
    HUMAN_ON_STDERR.load(Ordering::Relaxed)
}

/// Whether text for people on stdout (`stderr`: on stderr) gets colour: anstream's choice,
/// which honours `NO_COLOR`, `CLICOLOR_FORCE`, `CLICOLOR` and `TERM=dumb` and otherwise
/// colours a terminal only.
pub fn color(stderr: bool) -> bool {
    let choice = if stderr {
        anstream::AutoStream::choice(&std::io::stderr())
    } else {
        anstream::AutoStream::choice(&std::io::stdout())
    };
    choice != anstream::ColorChoice::Never
}
