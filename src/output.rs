//! How much the command line says, and where: `-q` (only errors and the final result), `-v`
//! (also each command run and each DNS query), and the JSON mode of `plan` and `apply`, in
//! which every line for people goes to stderr so that stdout holds the JSON alone. Set once
//! by [`crate::commands::dispatch`] before anything is said; read by the `say!`, `notln!` and
//! `traceln!` macros (src/lib.rs). [`captured`] gathers what a command says into a string
//! instead, for the wizard, which runs a command's core under its own screen.

use std::cell::RefCell;
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

thread_local! {
    /// The text said on this thread while [`captured`] runs, stdout's and stderr's in order.
    static CAPTURE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Run `f`, gathering every line the `say!` family writes on this thread (stdout's and
/// stderr's, in the order said) instead of printing it; `f`'s result and the text. For the
/// wizard, whose screen owns the terminal while a command's core runs (`r` on the Keys step
/// runs `rotate`). A nested call gathers into its own string.
pub fn captured<R>(f: impl FnOnce() -> R) -> (R, String) {
    /// Puts the outer capture back, also when `f` panics: the thread's later output is
    /// never swallowed.
    struct Restore(Option<Option<String>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(outer) = self.0.take() {
                CAPTURE.with(|c| *c.borrow_mut() = outer);
            }
        }
    }
    let restore = Restore(Some(
        CAPTURE.with(|c| c.borrow_mut().replace(String::new())),
    ));
    let result = f();
    let text = CAPTURE.with(|c| c.borrow_mut().take());
    drop(restore);
    (result, text.unwrap_or_default())
}

/// Write for the `say!` family: into the text [`captured`] gathers, else on stderr
/// (`stderr`) or stdout. Output to a closed pipe or a vanished terminal is dropped.
pub fn emit(stderr: bool, args: std::fmt::Arguments) {
    use std::io::Write as _;
    let gathered = CAPTURE.with(|c| match c.borrow_mut().as_mut() {
        Some(text) => {
            use std::fmt::Write as _;
            let _ = text.write_fmt(args);
            true
        }
        None => false,
    });
    if gathered {
        return;
    }
    if stderr {
        let _ = std::io::stderr().lock().write_fmt(args);
    } else {
        let _ = std::io::stdout().lock().write_fmt(args);
    }
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

#[cfg(test)]
mod tests {
    /// What the `say!` family writes while [`super::captured`] runs is gathered in order,
    /// stdout's and stderr's together; a nested capture keeps its own; afterwards nothing is
    /// gathered any more.
    #[test]
    fn captured_gathers_what_is_said_in_order() {
        let ((inner, ()), outer) = super::captured(|| {
            sayln!("one");
            warnln!("two");
            let inner = super::captured(|| sayln!("nested"));
            say!("three {}", 3);
            (inner, ())
        });
        assert_eq!(outer, "one\ntwo\nthree 3");
        assert_eq!(inner.1, "nested\n");
        let ((), after) = super::captured(|| ());
        assert_eq!(after, "");
    }

    /// A panic inside a capture ends it: what the thread says afterwards is not gathered.
    #[test]
    fn a_panic_inside_a_capture_ends_it() {
        let caught = std::panic::catch_unwind(|| super::captured(|| panic!("inside")));
        assert!(caught.is_err());
        assert!(super::CAPTURE.with(|c| c.borrow().is_none()));
    }
}
