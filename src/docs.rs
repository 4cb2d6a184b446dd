//! The installed documentation, generated from the clap definitions in [`crate::cli`] so it
//! never drifts from the parser: the man page `mailsetup(8)` (clap_mangen for NAME, SYNOPSIS,
//! DESCRIPTION and the global OPTIONS; a COMMANDS section with every subcommand's options;
//! the hand-written EXIT STATUS, FILES, EXAMPLES and SEE ALSO from
//! `templates/mailsetup.8.sections`) and the bash, zsh and fish completions (clap_complete).
//!
//! Pure: bytes out. [`write_to`] is the one writer, used by the hidden
//! `mailsetup generate DIR` that `install.sh` runs before `cargo deb` (the package's assets).

use std::io;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
pub use clap_complete::Shell;

use crate::cli::Cli;

/// The hand-written sections, in roff, appended after the generated ones.
const SECTIONS: &str = include_str!("../templates/mailsetup.8.sections");

/// The shells a completion is installed for, with the file name Debian's paths expect
/// (`/usr/share/bash-completion/completions/mailsetup`, `/usr/share/zsh/vendor-completions/_mailsetup`,
/// `/usr/share/fish/vendor_completions.d/mailsetup.fish`).
pub const SHELLS: [(Shell, &str); 3] = [
    (Shell::Bash, "mailsetup.bash"),
    (Shell::Zsh, "_mailsetup"),
    (Shell::Fish, "mailsetup.fish"),
];

/// The file name of the man page [`write_to`] writes (cargo-deb compresses it).
pub const MAN_PAGE: &str = "mailsetup.8";

/// The command line as clap sees it, without its hidden subcommands (`generate`: clap_complete
/// would offer them), built (bin name set, global options propagated to every subcommand).
fn command() -> clap::Command {
    let cli = Cli::command();
    let subcommands: Vec<clap::Command> = cli
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .cloned()
        .collect();
    // `Command` cannot drop a subcommand: start from one with none (and no settings beyond
    // these, which is all Cli has) and add the visible ones.
    let mut cmd = clap::Command::new("mailsetup")
        .version(env!("CARGO_PKG_VERSION"))
        .args(cli.get_arguments().cloned())
        .groups(cli.get_groups().cloned())
        .subcommands(subcommands);
    if let Some(about) = cli.get_about() {
        cmd = cmd.about(about.clone());
    }
    if let Some(about) = cli.get_long_about() {
        cmd = cmd.long_about(about.clone());
    }
    cmd.build();
    cmd
}

/// The man page `mailsetup(8)`, as roff source.
pub fn man_page() -> Vec<u8> {
    let cmd = command();
    let man = clap_mangen::Man::new(cmd.clone())
        .section("8")
        .manual("System Administration")
        .source(format!("mailsetup {}", env!("CARGO_PKG_VERSION")));
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = man.render_title(&mut out);
    let _ = man.render_name_section(&mut out);
    let _ = man.render_synopsis_section(&mut out);
    let _ = man.render_description_section(&mut out);
    let _ = man.render_options_section(&mut out);
    out.extend_from_slice(commands_section(&cmd).as_bytes());
    out.extend_from_slice(SECTIONS.as_bytes());
    ascii(&String::from_utf8_lossy(&out)).into_bytes()
}

/// Every non-ASCII character as a groff escape (`…` as `\[u2026]`): man-db hands troff
/// the page without preconv in some paths, and troff rejects raw UTF-8 there.
fn ascii(roff: &str) -> String {
    let mut out = String::with_capacity(roff.len());
    for c in roff.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            out.push_str(&format!("\\[u{:04X}]", u32::from(c)));
        }
    }
    out
}

/// COMMANDS: each visible subcommand with its synopsis, its description and its own options
/// (the global ones are under OPTIONS), on one page rather than one page per subcommand.
fn commands_section(cmd: &clap::Command) -> String {
    let mut out = String::from(".SH COMMANDS\n");
    let visible = |s: &&clap::Command| !s.is_hide_set() && s.get_name() != "help";
    for sub in cmd.get_subcommands().filter(visible) {
        let own: Vec<&clap::Arg> = sub
            .get_arguments()
            .filter(|a| !a.is_global_set() && !a.is_hide_set())
            .filter(|a| !matches!(a.get_id().as_str(), "help" | "version"))
            .collect();
        let mut synopsis = format!("\\fBmailsetup {}\\fR", sub.get_name());
        for a in &own {
            synopsis.push(' ');
            synopsis.push_str(&usage_of(a));
        }
        out.push_str(&format!(".SS \"{}\"\n", synopsis.replace('"', "\\(dq")));
        let about = sub.get_long_about().or(sub.get_about());
        if let Some(about) = about {
            out.push_str(&paragraphs(&about.to_string()));
        }
        for a in &own {
            out.push_str(&format!(".TP\n{}\n", flag_of(a)));
            let help = a.get_long_help().or(a.get_help());
            let mut text = help.map(|h| h.to_string()).unwrap_or_default();
            let values: Vec<String> = a
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| match v.get_help() {
                    Some(h) => format!("{}: {h}", v.get_name()),
                    None => v.get_name().to_string(),
                })
                .collect();
            if !values.is_empty() && a.get_action().takes_values() {
                text.push_str(&format!(" One of: {}.", values.join("; ")));
            }
            let defaults: Vec<String> = a
                .get_default_values()
                .iter()
                .map(|v| v.to_string_lossy().into_owned())
                .collect();
            if !defaults.is_empty() && a.get_action().takes_values() {
                text.push_str(&format!(" [default: {}]", defaults.join(", ")));
            }
            out.push_str(&paragraphs(text.trim()));
        }
    }
    out
}

/// An argument as the synopsis shows it: `[--format FORMAT]`, `ID`.
fn usage_of(a: &clap::Arg) -> String {
    let value = a
        .get_value_names()
        .and_then(|v| v.first())
        .map(|v| v.to_string())
        .unwrap_or_else(|| a.get_id().as_str().to_uppercase());
    match a.get_long() {
        None => format!("\\fI{}\\fR", escape(&value)),
        Some(long) if a.get_action().takes_values() => {
            format!(
                "[\\fB\\-\\-{}\\fR \\fI{}\\fR]",
                escape(long),
                escape(&value)
            )
        }
        Some(long) => format!("[\\fB\\-\\-{}\\fR]", escape(long)),
    }
}

/// An argument as an option list's tag shows it: `\fB--format\fR \fIFORMAT\fR`.
fn flag_of(a: &clap::Arg) -> String {
    usage_of(a)
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string()
}

/// Text as roff paragraphs: blank lines separate paragraphs, each line escaped.
fn paragraphs(text: &str) -> String {
    let mut out = String::new();
    for (i, para) in text.split("\n\n").enumerate() {
        if i > 0 {
            out.push_str(".IP\n");
        }
        for line in para.lines() {
            out.push_str(&escape(line.trim()));
            out.push('\n');
        }
    }
    out
}

/// Escape text for roff: backslashes, hyphens (as minus signs, so they can be searched and
/// copied), and a leading `.` or `'` that would read as a request.
fn escape(text: &str) -> String {
    let s = text.replace('\\', "\\e").replace('-', "\\-");
    if s.starts_with('.') || s.starts_with('\'') {
        format!("\\&{s}")
    } else {
        s
    }
}

/// The completion script for `shell`.
pub fn completion(shell: Shell) -> Vec<u8> {
    let mut cmd = command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "mailsetup", &mut out);
    out
}

/// The man page and the three completion scripts: `(file name, contents)`, as [`write_to`]
/// writes them.
pub fn files() -> Vec<(&'static str, Vec<u8>)> {
    let mut files = vec![(MAN_PAGE, man_page())];
    files.extend(
        SHELLS
            .into_iter()
            .map(|(shell, name)| (name, completion(shell))),
    );
    files
}

/// Write [`files`] into `dir` (created if missing); returns the paths written. These are
/// build products for the package (`target/docs`), not system files: no plan, no backup.
/// Errors: the directory or a file cannot be written.
pub fn write_to(dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (name, bytes) in files() {
        let path = dir.join(name);
        std::fs::write(&path, bytes)?;
        written.push(path);
    }
    Ok(written)
}
