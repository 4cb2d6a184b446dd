//! Lossless editors for Postfix's `main.cf` (postconf(5)) and `master.cf` (master(5)).
//!
//! Each file is parsed into a document that keeps every byte: rendering an unedited document
//! (`Display`) gives back the input exactly, whatever it was. Reading follows Postfix's own
//! parser (`readllines()`, `split_nameval()`, `mystrtokq()`; see `lines.rs`), so a value read
//! here is the value Postfix uses. Edits touch only the lines they must, write new lines in the
//! file's own style, and refuse input that could change the file's structure.
//!
//! - [`MainCf`]: `get` / `set` of `name = value` parameters.
//! - [`MasterCf`]: the services, and `-o name=value` overrides of one service.
//! - [`split_list`]: the elements of a list value such as `smtpd_milters`.
//! - [`warnings`]: postconf's warnings compared by parameter and message, not by line.

mod lines;
pub mod list;
pub mod main_cf;
mod master_args;
pub mod master_cf;
pub mod warnings;

#[cfg(test)]
mod tests;

use std::fmt;

pub use list::split_list;
pub use main_cf::{MainCf, Shadowed};
pub use master_cf::{MasterCf, Service};

/// What an edit did to the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The setting already had the requested value; not a byte changed.
    Unchanged,
    /// An existing setting was rewritten in place, or (main.cf) its earlier definitions were
    /// commented out, or both.
    Rewritten,
    /// The setting was new and was added.
    Added,
}

impl Change {
    /// Whether the document's text changed.
    pub fn is_change(self) -> bool {
        self != Change::Unchanged
    }
}

/// Why an edit was refused. The document is left untouched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditError {
    /// A parameter name that is not `[A-Za-z0-9_]+` (a `-` allowed after the first character).
    InvalidName { name: String },
    /// A value that would break the file's structure or not read back as given.
    InvalidValue {
        name: String,
        value: String,
        problem: ValueProblem,
    },
    /// master.cf has no service with this name and type.
    NoSuchService { service: String, kind: String },
    /// The master.cf entry is broken (e.g. an unclosed `{`) so that an added option would not
    /// read back; `line` is where the entry starts (1-based).
    MalformedEntry {
        service: String,
        kind: String,
        line: usize,
    },
}

/// What is wrong with a value given to an edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueProblem {
    /// A control character: line break, tab, NUL, DEL, ...
    ControlCharacter,
    /// Whitespace at the start or end (main.cf trims it, so it would not read back).
    SurroundingWhitespace,
    /// Whitespace anywhere (master.cf splits `-o name=value` at whitespace).
    Whitespace,
    /// `{` and `}` that do not pair up (master.cf groups arguments with braces).
    UnbalancedBraces,
}

impl fmt::Display for ValueProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValueProblem::ControlCharacter => {
                "it contains a control character (line break, tab, ...)"
            }
            ValueProblem::SurroundingWhitespace => "it starts or ends with whitespace",
            ValueProblem::Whitespace => "master.cf `-o` values cannot contain whitespace",
            ValueProblem::UnbalancedBraces => "its `{` and `}` do not pair up",
        })
    }
}

impl fmt::Display for EditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EditError::InvalidName { name } => write!(
                f,
                "invalid parameter name `{}`: use only letters, digits and `_` (and `-` after \
                 the first character)",
                name.escape_debug()
            ),
            EditError::InvalidValue {
                name,
                value,
                problem,
            } => write!(
                f,
                "invalid value `{}` for `{name}`: {problem}",
                value.escape_debug()
            ),
            EditError::NoSuchService { service, kind } => {
                write!(f, "master.cf has no `{service}/{kind}` service")
            }
            EditError::MalformedEntry {
                service,
                kind,
                line,
            } => write!(
                f,
                "the `{service}/{kind}` entry at master.cf line {line} is malformed \
                 (an unclosed `{{`?); fix it by hand, then try again"
            ),
        }
    }
}

impl std::error::Error for EditError {}

/// Parameter names we write: `[A-Za-z0-9_]+` (every name in postconf(5) has this form), or
/// with a `-` after the first character, for the parameters Postfix derives from a master.cf
/// service name, whose `-` they keep (`policyd-spf_time_limit`: postconf(5)
/// "transport_time_limit", master(5) service names).
fn check_name(name: &str) -> Result<(), EditError> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    if name.bytes().next().is_some_and(word) && name.bytes().all(|b| word(b) || b == b'-') {
        Ok(())
    } else {
        Err(EditError::InvalidName {
            name: name.to_string(),
        })
    }
}

/// Builds the `InvalidValue` error for `problem`.
fn invalid_value(name: &str, value: &str, problem: ValueProblem) -> EditError {
    EditError::InvalidValue {
        name: name.to_string(),
        value: value.to_string(),
        problem,
    }
}
