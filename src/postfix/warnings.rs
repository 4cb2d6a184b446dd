//! postconf's diagnostics compared by what they say, not by where they were printed from: which
//! warnings a staged main.cf/master.cf adds to those the live files already give.
//!
//! postconf (Postfix 3.7, `msg_warn()`/`msg_fatal()`, program name = its `argv[0]`) prints:
//!
//! ```text
//! /usr/sbin/postconf: warning: /etc/postfix/main.cf, line 45: overriding earlier entry: smtpd_milters=inet:localhost:8891
//! /usr/sbin/postconf: warning: /etc/postfix/main.cf: unused parameter: foo_custom=x
//! /usr/sbin/postconf: warning: /etc/postfix/main.cf: undefined parameter: undefined_x
//! /usr/sbin/postconf: fatal: file /etc/postfix/master.cf: line 139: bad field count
//! /usr/sbin/postconf: fatal: unknown inet_protocols value "ipv5" in "ipv5"
//! ```
//!
//! The same problem does not print the same text in two runs:
//! - the directory differs (the staged copy is not in /etc/postfix);
//! - line numbers shift as soon as an edit adds, removes or comments a line above;
//! - `overriding earlier entry: name=value` names the value being replaced, and postconf reads
//!   main.cf more than once: `dict_load_file_xt()` reads a file modified within the last second
//!   again (every 300 ms, up to 5 times here), and each new read "overrides" the previous
//!   read's final value at the line of the *first* definition. A freshly written staged copy
//!   therefore reports `line 36: overriding earlier entry: name=<last value>` on top of what the
//!   live file (older) reports, and repeats every warning. When the values are equal, no
//!   warning is printed at all (`biff = no` twice is silent).
//!
//! So a diagnostic is compared in its [`Diagnostic`] form — severity, file base name, parameter,
//! message without the value — and as a set: how many times a warning appears says how often
//! postconf read the file, not how many problems there are.

use std::collections::BTreeSet;

/// Messages of the form `<kind>: name=value` or `<kind>: name` that are about one parameter.
const ABOUT_A_PARAMETER: &[&str] = &[
    "overriding earlier entry",
    "unused parameter",
    "undefined parameter",
];

/// One postconf diagnostic line without its location.
///
/// `"/usr/sbin/postconf: warning: DIR/main.cf, line 45: overriding earlier entry: smtpd_milters=x"`
/// becomes `{ severity: "warning", file: Some("main.cf"), parameter: Some("smtpd_milters"),
/// message: "overriding earlier entry" }`. A line in another shape keeps its text after the
/// severity as the message (the whole line if there is no severity).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Diagnostic {
    /// `warning`, `fatal`, `panic` or `error`; empty when the line names none.
    pub severity: String,
    /// Base name of the file it is about (`main.cf`, `master.cf`), when it names one.
    pub file: Option<String>,
    /// The parameter it is about, for `overriding earlier entry`, `unused parameter` and
    /// `undefined parameter`.
    pub parameter: Option<String>,
    /// The message: for a parameter's message its kind only (`overriding earlier entry`), else
    /// the text after the location.
    pub message: String,
}

impl Diagnostic {
    /// Reads one line of postconf's stderr. Never fails: an unknown shape is kept as text.
    pub fn parse(line: &str) -> Diagnostic {
        let line = line.trim_end();
        let (severity, mut rest) = split_severity(line);
        let mut file = None;
        while let Some((head, tail)) = rest.split_once(": ") {
            match location(head) {
                Some(Some(name)) => file = Some(name),
                Some(None) => {}
                None => break,
            }
            rest = tail;
        }
        let (parameter, message) = about_a_parameter(rest)
            .map(|(kind, name)| (Some(name.to_string()), kind.to_string()))
            .unwrap_or((None, rest.to_string()));
        Diagnostic {
            severity: severity.to_string(),
            file,
            parameter,
            message,
        }
    }
}

/// The lines of `staged` whose [`Diagnostic`] is not among those of `now`: what a staged file
/// adds to the warnings the live files already give. Each line is returned once, in the order
/// given, as printed (its line number refers to the staged file).
///
/// Compared as sets (see the module documentation): a problem postconf already reports on the
/// live files — a duplicate of any parameter, an unused parameter — never counts as added,
/// whichever line it moved to and however often postconf repeats it.
pub fn added(now: &[String], staged: &[String]) -> Vec<String> {
    let known: BTreeSet<Diagnostic> = now.iter().map(|l| Diagnostic::parse(l)).collect();
    let mut shown = BTreeSet::new();
    staged
        .iter()
        .filter(|l| !known.contains(&Diagnostic::parse(l)) && shown.insert(l.as_str()))
        .cloned()
        .collect()
}

/// `("warning", rest)` for `prog: warning: rest`; `("", line)` when no severity is named.
fn split_severity(line: &str) -> (&str, &str) {
    let mut best: Option<(usize, &str, &str)> = None;
    for severity in ["warning", "fatal", "panic", "error"] {
        let marker = format!("{severity}: ");
        let mut from = 0;
        while let Some(i) = line[from..].find(&marker).map(|i| i + from) {
            if (i == 0 || line[..i].ends_with(": ")) && best.is_none_or(|(b, _, _)| i < b) {
                best = Some((i, severity, &line[i + marker.len()..]));
                break;
            }
            from = i + 1;
        }
    }
    best.map_or(("", line), |(_, severity, rest)| (severity, rest))
}

/// Whether `head` (the text before a `: `) is a location: `Some(Some(base name))` for
/// `PATH`, `file PATH` or `PATH, line N`; `Some(None)` for `line N`; `None` otherwise.
fn location(head: &str) -> Option<Option<String>> {
    if is_line_number(head) {
        return Some(None);
    }
    let path = head
        .rsplit_once(", ")
        .filter(|(_, l)| is_line_number(l))
        .map_or(head, |(p, _)| p);
    let path = path.strip_prefix("file ").unwrap_or(path);
    let is_path = path.contains('/') && !path.contains(char::is_whitespace);
    is_path.then(|| path.rsplit('/').next().map(str::to_string))
}

fn is_line_number(s: &str) -> bool {
    s.strip_prefix("line ")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// `(kind, name)` for `kind: name=value` / `kind: name` with `kind` in [`ABOUT_A_PARAMETER`].
fn about_a_parameter(message: &str) -> Option<(&'static str, &str)> {
    ABOUT_A_PARAMETER.iter().find_map(|kind| {
        let rest = message.strip_prefix(kind)?.strip_prefix(": ")?;
        let name = rest.split_once('=').map_or(rest, |(n, _)| n);
        let valid =
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        valid.then_some((*kind, name))
    })
}
