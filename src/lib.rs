//! mailsetup: sets up Postfix + OpenDKIM signing on Debian and the DNS records that make mail pass
//! SPF, DKIM and DMARC — every change computed as a value, shown as a diff, applied with backups.
//!
//! Module map, with what each module may touch. "Pure" means no file, process, socket or
//! clock: values in, values out.
//!
//! - Model (pure): [`values`] (one type per kind of answer), [`settings`], [`answers`] (the
//!   TOML answers file, read and written losslessly), [`paths`] (the well-known system paths,
//!   a file's owner/mode and text), [`postfix`] and [`opendkim`] (the lossless editors),
//!   [`milter`] (the sockets, OpenDKIM's and OpenDMARC's, named on both sides), [`provider`] (the
//!   hosting providers' reverse-DNS and port-25 procedures, and the guess from a PTR name), [`records`] (the DNS records to publish),
//!   [`plan`] (what would change, with its service actions; its `Display` is the diff),
//!   [`rotate`] (a DKIM key rotation: its state, the new selector, the tables' switch),
//!   [`invocation`] (the options of the run a printed command repeats),
//!   [`wizard`] (the wizard's state machine: `update` returns effects), [`error`].
//! - Judges (pure over what was gathered): [`check`] (the DNS checks' rules, ids and report;
//!   its `run` drives the lookups through [`dns`]), [`local`] (this server's checks), the
//!   verdicts of [`selftest`].
//! - Edges (I/O, each named): [`dns`] (every authoritative server, over UDP/TCP), [`keys`]
//!   (key generation: the randomness), [`host`] (every other read, write, spawn and socket:
//!   `host::system` reads files beneath the root through the fence, `host::accounts` users
//!   and groups, `host::apply` is the only writer (the fenced file layer, the journaled
//!   transaction, locks, run records, rollback), `host::services` the only place a process
//!   is spawned, `host::probe` what the local checks look at), [`selftest`]'s milter client
//!   and mail.
//! - Use cases shared by the front ends: [`flows`] (settings, records, plans, the whole
//!   check, the selftest, sessions, a rotation's state and its new records at every server).
//! - The demo's sandbox ([`demo`]): an embedded Debian 12 tree and an in-process
//!   authoritative DNS server that `mailsetup demo` publishes the records into.
//! - Front ends, which import [`flows`] and the core but never each other: [`cli`] +
//!   [`commands`] (the command line), [`tui`] (the wizard's screen: a thin view over
//!   [`wizard`], running its effects).
//! - [`docs`]: the man page and the shell completions, generated from [`cli`] (for the
//!   Debian package).

/// `print!` that never panics: output to a closed pipe or a vanished terminal (EPIPE, EIO)
/// is dropped, so `mailsetup apply --yes | head -1` or a dropped SSH session never aborts a
/// run half-way (Rust ignores SIGPIPE, so the write fails instead of killing the process).
/// In JSON mode (`plan --json`, `apply --json`) it writes to stderr: stdout holds the JSON
/// alone ([`output::human_on_stderr`]).
macro_rules! say {
    ($($arg:tt)*) => {{
        $crate::output::emit($crate::output::human_on_stderr(), format_args!($($arg)*))
    }};
}

/// `println!` that never panics (see [`say!`]).
macro_rules! sayln {
    () => {{
        say!("\n")
    }};
    ($($arg:tt)*) => {{
        say!("{}\n", format_args!($($arg)*))
    }};
}

/// A JSON document on stdout, whatever the mode (see [`say!`]).
macro_rules! jsonln {
    ($value:expr) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), "{}", $value);
    }};
}

/// `eprintln!` that never panics (see [`say!`]).
macro_rules! warnln {
    ($($arg:tt)*) => {{
        $crate::output::emit(true, format_args!("{}\n", format_args!($($arg)*)))
    }};
}

/// A note on stderr that `-q` silences (which answers file was read, …).
macro_rules! notln {
    ($($arg:tt)*) => {{
        if !$crate::output::quiet() {
            warnln!($($arg)*);
        }
    }};
}

/// A line on stderr with `-v` only: each command run, each DNS query.
macro_rules! traceln {
    ($($arg:tt)*) => {{
        if $crate::output::verbose() {
            warnln!($($arg)*);
        }
    }};
}

pub mod amavis;
pub mod answers;
pub mod check;
pub mod cli;
pub mod commands;
pub mod demo;
pub mod dns;
pub mod docs;
pub mod error;
pub mod flows;
pub mod host;
pub mod inbound_spf;
pub mod invocation;
pub mod keys;
pub mod local;
pub mod milter;
pub mod opendkim;
pub mod output;
pub mod paths;
pub mod plan;
pub mod postfix;
pub mod provider;
pub mod records;
pub mod rotate;
pub mod selftest;
pub mod settings;
pub mod tls;
pub mod tui;
pub mod values;
pub mod wizard;

use std::process::ExitCode;

use clap::Parser;

/// Parse the arguments, run the command, print an error on stderr; returns the exit code
/// (0 ok, 1 findings or pending changes, 2 error, 3 `check`/`fix` could not verify).
pub fn main_with_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    // Files we create get explicit modes; the umask must not loosen or tighten them (G1.3).
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let ran = commands::dispatch(cli).and_then(|launch| match launch {
        commands::Launch::Exit(code) => Ok(code),
        commands::Launch::Wizard(options, ctx) => tui::run(*options, ctx),
    });
    match ran {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            warnln!("mailsetup: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
