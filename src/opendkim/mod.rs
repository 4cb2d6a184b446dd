//! Lossless editors for OpenDKIM's files: `/etc/opendkim.conf` ([`conf`]), the legacy shell fragment
//! `/etc/default/opendkim` ([`default_file`]) and the KeyTable / SigningTable / TrustedHosts data sets
//! ([`tables`]). OpenDMARC's `/etc/opendmarc.conf` and `/etc/default/opendmarc` have the same
//! formats and are edited by the same two editors ([`OpendmarcConf`], [`DefaultFile`]).
//!
//! Every editor follows the same shape: `parse(&str)` is total (any text parses), `Display` gives the
//! input back byte for byte, and edits touch only the lines they must. Values, not I/O: reading and
//! writing the files is the caller's job. This module owns the shared line model, the value checks
//! (reliability.md G4.7) and [`EditError`].

pub mod conf;
pub mod default_file;
pub mod tables;

pub use conf::{Applied, OpendkimConf, OpendmarcConf};
pub use default_file::DefaultFile;
pub use tables::{Ensure, KeyTable, SigningTable, TrustedHosts};

use std::fmt;

/// Why an edit was refused. Nothing is changed when an edit returns an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditError {
    /// An opendkim.conf option name that is not `[A-Za-z][A-Za-z0-9]*`.
    BadKey { key: String },
    /// A value (or table key / TrustedHosts entry) that may not be written; `reason` says which rule.
    BadValue { value: String, reason: &'static str },
    /// A header comment that is not a single `#` line of printable text.
    BadHeader {
        header: String,
        reason: &'static str,
    },
    /// A table line longer than OpenDKIM reads as one line (`fgets(line, 1024)` in opendkim-db.c:
    /// 1022 bytes plus the newline).
    LineTooLong { len: usize, max: usize },
    /// /etc/default/opendkim cannot be edited safely (open quote, line continuation, complex word).
    UnsafeShell { reason: &'static str },
}

impl fmt::Display for EditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EditError::BadKey { key } => {
                write!(
                    f,
                    "invalid option name {key:?}: must match [A-Za-z][A-Za-z0-9]*"
                )
            }
            EditError::BadValue { value, reason } => write!(f, "invalid value {value:?}: {reason}"),
            EditError::BadHeader { header, reason } => {
                write!(f, "invalid header comment {header:?}: {reason}")
            }
            EditError::LineTooLong { len, max } => {
                write!(
                    f,
                    "table line of {len} bytes exceeds OpenDKIM's limit of {max} bytes"
                )
            }
            EditError::UnsafeShell { reason } => {
                write!(f, "refusing to edit this shell defaults file: {reason}")
            }
        }
    }
}

impl std::error::Error for EditError {}

/// One physical line: its text without the `\n` (a CRLF file keeps the `\r` in `body`), and
/// whether a `\n` followed it. `body + "\n"?` over all lines is the file, exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawLine {
    pub(crate) body: String,
    pub(crate) newline: bool,
}

/// Splits `text` into lines; joining them back with [`write_lines`] gives `text` unchanged.
pub(crate) fn split_lines(text: &str) -> Vec<RawLine> {
    text.split_inclusive('\n')
        .map(|piece| match piece.strip_suffix('\n') {
            Some(body) => RawLine {
                body: body.to_string(),
                newline: true,
            },
            None => RawLine {
                body: piece.to_string(),
                newline: false,
            },
        })
        .collect()
}

/// Writes the lines back exactly as [`split_lines`] found them.
pub(crate) fn write_lines(lines: &[RawLine], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for line in lines {
        f.write_str(&line.body)?;
        if line.newline {
            f.write_str("\n")?;
        }
    }
    Ok(())
}

/// The line ending new lines should use: CRLF if the first terminated line uses it, else LF.
/// Returned as the suffix to put on `body` (`"\r"` or `""`); the `\n` is `RawLine::newline`.
pub(crate) fn cr_suffix(lines: &[RawLine]) -> &'static str {
    match lines.iter().find(|l| l.newline) {
        Some(l) if l.body.ends_with('\r') => "\r",
        _ => "",
    }
}

/// Gives the last line its missing final newline (CRLF in a CRLF file), so text appended after it
/// starts on a new line (the `postconf -e` glue bug in postfix-opendkim.md §1.3 is the failure
/// this prevents).
pub(crate) fn ensure_final_newline(lines: &mut [RawLine]) {
    let cr = cr_suffix(lines);
    if let Some(last) = lines.last_mut()
        && !last.newline
    {
        if !last.body.ends_with('\r') {
            last.body.push_str(cr);
        }
        last.newline = true;
    }
}

/// Appends a new terminated line, first giving the file a final newline.
pub(crate) fn push_line(lines: &mut Vec<RawLine>, text: &str) {
    let cr = cr_suffix(lines);
    ensure_final_newline(lines);
    lines.push(RawLine {
        body: format!("{text}{cr}"),
        newline: true,
    });
}

/// Characters no value written by mailsetup may contain (reliability.md G4.7): C0 and C1 controls,
/// DEL (all covered by `char::is_control`, including U+0085), and U+2028 / U+2029.
pub(crate) fn is_forbidden_char(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

/// The common value rule (G4.7): non-empty, no forbidden character, no `#` (OpenDKIM truncates
/// every line at `#`, opendkim.conf(5) and opendkim-db.c), no leading or trailing whitespace.
pub(crate) fn check_value(value: &str) -> Result<(), EditError> {
    let bad = |reason| {
        Err(EditError::BadValue {
            value: value.to_string(),
            reason,
        })
    };
    if value.is_empty() {
        return bad("empty");
    }
    if value.chars().any(is_forbidden_char) {
        return bad("contains a control or line-separator character");
    }
    if value.contains('#') {
        return bad("contains '#', which starts a comment in OpenDKIM files");
    }
    if value.starts_with(char::is_whitespace) || value.ends_with(char::is_whitespace) {
        return bad("has leading or trailing whitespace");
    }
    Ok(())
}

/// A header comment: one line that starts with `#` and holds no forbidden character.
pub(crate) fn check_header(header: &str) -> Result<(), EditError> {
    let bad = |reason| {
        Err(EditError::BadHeader {
            header: header.to_string(),
            reason,
        })
    };
    if !header.starts_with('#') {
        return bad("must start with '#'");
    }
    if header.chars().any(is_forbidden_char) {
        return bad("must be a single line without control characters");
    }
    if header.ends_with(char::is_whitespace) {
        return bad("has trailing whitespace");
    }
    Ok(())
}
