//! The command line a printed command repeats: `mailsetup` and the global options that chose
//! what this run acts on (`--root`, `--answers`, and for the commands that ask DNS
//! `--nameserver` and `--authoritative-port`), so that a `mailsetup fix …` or `mailsetup
//! rollback` pasted from the output acts on the same tree, with the same answers, through the
//! same DNS. Pure: the paths arrive absolute (`crate::cli` makes them so); this module renders
//! them, quoted for a POSIX shell when they need it.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// The program name printed commands start with (what `install.sh` puts on the `PATH`).
pub const PROGRAM: &str = "mailsetup";

/// The commands that ask DNS, and so take `--nameserver` and `--authoritative-port` (`""`:
/// the wizard itself, whose Verify step checks).
const ASKING_DNS: [&str; 6] = ["", "check", "fix", "apply", "selftest", "rotate"];

/// The commands that never read the answers (`rollback` undoes what the journal says).
const WITHOUT_ANSWERS: [&str; 1] = ["rollback"];

/// The options of this run that a printed command must repeat. The default is a plain
/// `mailsetup` on the host's `/` with no answers file named.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invocation {
    /// `--root DIR`, absolute; `None` for `/`.
    pub root: Option<PathBuf>,
    /// `--answers FILE`, absolute; `None` when not given.
    pub answers: Option<PathBuf>,
    /// `--nameserver IP[:PORT]`, when given.
    pub nameserver: Option<String>,
    /// `--authoritative-port PORT`, when not the default 53.
    pub authoritative_port: Option<u16>,
}

impl Invocation {
    /// `mailsetup [--root DIR] [--answers FILE] [--nameserver …] [--authoritative-port …]
    /// ARGS`: `args` is the subcommand and its own arguments as they are to be typed (a
    /// finding id, a subcommand name: never quoted); the options are those that subcommand
    /// takes. `command("")` is the wizard.
    pub fn command(&self, args: &str) -> String {
        let sub = args.split_whitespace().next().unwrap_or("");
        let mut words = vec![PROGRAM.to_string()];
        words.extend(self.options(sub).iter().map(|w| quote(w)));
        if !args.is_empty() {
            words.push(args.to_string());
        }
        words.join(" ")
    }

    /// The same command as [`Invocation::command`], as the words a parser takes (`argv`,
    /// unquoted): `args` are the subcommand and its own arguments, one word each. The
    /// wizard runs a command's core with them (`r` on the Keys step: `rotate`).
    pub fn argv(&self, args: &[&str]) -> Vec<OsString> {
        let sub = args.first().copied().unwrap_or("");
        let mut words = vec![OsString::from(PROGRAM)];
        words.extend(self.options(sub));
        words.extend(args.iter().map(OsString::from));
        words
    }

    /// The global options subcommand `sub` repeats, one word each.
    fn options(&self, sub: &str) -> Vec<OsString> {
        let mut words = Vec::new();
        if let Some(root) = &self.root {
            words.extend([OsString::from("--root"), root.clone().into_os_string()]);
        }
        if let (Some(answers), false) = (&self.answers, WITHOUT_ANSWERS.contains(&sub)) {
            words.extend([
                OsString::from("--answers"),
                answers.clone().into_os_string(),
            ]);
        }
        if ASKING_DNS.contains(&sub) {
            if let Some(ns) = &self.nameserver {
                words.extend([OsString::from("--nameserver"), OsString::from(ns)]);
            }
            if let Some(port) = self.authoritative_port {
                words.extend([
                    OsString::from("--authoritative-port"),
                    OsString::from(port.to_string()),
                ]);
            }
        }
        words
    }

    /// Where the system path `system` (`/etc/…`) is beneath this run's root.
    pub fn beneath_root(&self, system: &str) -> PathBuf {
        let rel = system.trim_start_matches('/');
        match &self.root {
            Some(root) => root.join(rel),
            None => PathBuf::from("/").join(rel),
        }
    }

    /// The same run, naming `answers` when no answers file was given: the wizard saves its
    /// answers there, and `check` needs them named.
    pub fn or_answers(&self, answers: PathBuf) -> Invocation {
        Invocation {
            answers: Some(self.answers.clone().unwrap_or(answers)),
            ..self.clone()
        }
    }
}

/// One word for a POSIX shell: as it is when every byte is one a shell leaves alone, in single
/// quotes when it is printable UTF-8, else in bash's `$'…'` with `\xNN` escapes (so a control
/// character or a non-UTF-8 byte never reaches the terminal and the word stays one line).
pub fn quote(word: &OsStr) -> String {
    let bytes = word.as_bytes();
    let plain = |b: &u8| b.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(b);
    if !bytes.is_empty() && bytes.iter().all(plain) {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    match word.to_str() {
        Some(text) if !text.chars().any(char::is_control) => {
            format!("'{}'", text.replace('\'', r"'\''"))
        }
        _ => {
            let mut out = String::from("$'");
            for &b in bytes {
                match b {
                    b'\\' | b'\'' => {
                        out.push('\\');
                        out.push(char::from(b));
                    }
                    b' '..=b'~' => out.push(char::from(b)),
                    _ => out.push_str(&format!("\\x{b:02x}")),
                }
            }
            out.push('\'');
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run() -> Invocation {
        Invocation {
            root: Some("/tmp/t".into()),
            answers: Some("/tmp/a.toml".into()),
            nameserver: Some("127.0.0.1:5353".into()),
            authoritative_port: Some(5353),
        }
    }

    /// The words a parser takes are the printed command's, unquoted: a path with a space
    /// stays one word.
    #[test]
    fn argv_is_the_printed_command_as_words() {
        let mut r = run();
        r.root = Some("/tmp/my tree".into());
        assert_eq!(
            r.argv(&["rotate", "--dry-run"]),
            [
                "mailsetup",
                "--root",
                "/tmp/my tree",
                "--answers",
                "/tmp/a.toml",
                "--nameserver",
                "127.0.0.1:5353",
                "--authoritative-port",
                "5353",
                "rotate",
                "--dry-run"
            ]
            .map(OsString::from)
        );
        assert_eq!(
            r.command("rotate --dry-run"),
            "mailsetup --root '/tmp/my tree' --answers /tmp/a.toml --nameserver 127.0.0.1:5353 \
             --authoritative-port 5353 rotate --dry-run"
        );
        assert_eq!(r.argv(&["rollback"]).len(), 4, "rollback takes no answers");
    }

    #[test]
    fn a_plain_run_prints_plain_commands() {
        let plain = Invocation::default();
        assert_eq!(plain.command("rollback"), "mailsetup rollback");
        assert_eq!(
            plain.command("fix dkim.missing"),
            "mailsetup fix dkim.missing"
        );
        assert_eq!(plain.command(""), "mailsetup");
    }

    #[test]
    fn each_command_gets_the_options_it_takes() {
        let r = run();
        assert_eq!(
            r.command("fix dkim.missing"),
            "mailsetup --root /tmp/t --answers /tmp/a.toml --nameserver 127.0.0.1:5353 \
             --authoritative-port 5353 fix dkim.missing"
        );
        assert_eq!(r.command("rollback"), "mailsetup --root /tmp/t rollback");
        assert_eq!(
            r.command("records"),
            "mailsetup --root /tmp/t --answers /tmp/a.toml records"
        );
        assert_eq!(
            r.command(""),
            "mailsetup --root /tmp/t --answers /tmp/a.toml --nameserver 127.0.0.1:5353 \
             --authoritative-port 5353"
        );
    }

    #[test]
    fn given_answers_win_over_the_saved_ones() {
        let saved = run().beneath_root("/etc/mailsetup/answers.toml");
        assert_eq!(saved, PathBuf::from("/tmp/t/etc/mailsetup/answers.toml"));
        assert_eq!(
            Invocation::default().beneath_root("/etc/x"),
            PathBuf::from("/etc/x")
        );
        assert_eq!(run().or_answers(saved.clone()), run());
        let none = Invocation::default().or_answers(saved.clone());
        assert_eq!(
            none.command("check"),
            "mailsetup --answers /tmp/t/etc/mailsetup/answers.toml check"
        );
    }

    #[test]
    fn words_are_quoted_only_when_a_shell_would_change_them() {
        let q = |s: &str| quote(OsStr::new(s));
        assert_eq!(q("/srv/mail-1/a_b.toml"), "/srv/mail-1/a_b.toml");
        assert_eq!(q("127.0.0.1:53"), "127.0.0.1:53");
        assert_eq!(q("/tmp/my answers.toml"), "'/tmp/my answers.toml'");
        assert_eq!(q("/tmp/it's"), r"'/tmp/it'\''s'");
        assert_eq!(q("/tmp/$HOME;rm -rf *"), "'/tmp/$HOME;rm -rf *'");
        assert_eq!(q("~/a"), "'~/a'");
        assert_eq!(q("/tmp/école"), "'/tmp/école'");
        assert_eq!(q(""), "''");
        assert_eq!(q("/tmp/a\nb"), r"$'/tmp/a\x0ab'");
        assert_eq!(q("/tmp/\u{1b}[31m'\\"), r"$'/tmp/\x1b[31m\'\\'");
        let raw = OsStr::from_bytes(b"/tmp/\xff x");
        assert_eq!(quote(raw), r"$'/tmp/\xff x'");
    }

    /// What a shell makes of each quoted word is the word itself.
    #[test]
    fn the_shell_reads_each_quoted_word_back() {
        let Ok(bash) = which_bash() else {
            eprintln!("skipped: no bash");
            return;
        };
        let words: [&[u8]; 7] = [
            b"/tmp/my answers.toml",
            b"/tmp/it's \"x\"",
            b"/tmp/$(id)`id`;|&<>*?[]{}!#",
            b"/tmp/a\nb\tc",
            b"/tmp/\x1b[31m'\\",
            b"/tmp/\xff\xfe",
            "/tmp/école".as_bytes(),
        ];
        for word in words {
            let quoted = quote(OsStr::from_bytes(word));
            let out = std::process::Command::new(&bash)
                .args(["-c", &format!("printf %s {quoted}")])
                .output()
                .unwrap();
            assert_eq!(out.stdout, word, "{quoted}");
        }
    }

    fn which_bash() -> Result<PathBuf, ()> {
        ["/bin/bash", "/usr/bin/bash"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .ok_or(())
    }
}
