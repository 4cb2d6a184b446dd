//! `main.cf` as a lossless document (postconf(5)): read parameters the way Postfix does, and set
//! them with the smallest edit.
//!
//! Reading rules (Postfix 3.7 `readllines()` + `split_nameval()`, checked with `postconf -n`):
//! a logical line starts at a line whose first character is neither whitespace nor `#`, and
//! continues over following lines that start with whitespace; comment lines (first
//! non-whitespace character `#`, even indented) and blank lines between them are skipped without
//! ending it. Its text is `name = value` (blanks optional); a `#` after the value is part of the
//! value. The last definition of a name wins.
//!
//! Editing rules (modelled on `postconf -e`, `src/postconf/postconf_edit.c`, minus its faults):
//! an existing parameter's **last** definition is rewritten in place as `name = value`; its
//! continuation lines are removed, comment and blank lines inside it are kept; earlier duplicates
//! are left alone. A new parameter is appended at the end of the file, the first one under a
//! `# Added by mailsetup` line. Unlike `postconf -e`, a file without a final newline gets one
//! before anything is appended, and new lines use the file's dominant line ending.

use std::collections::BTreeMap;
use std::fmt;

use super::lines::{self, Line, Logical};
use super::{Change, EditError, ValueProblem, check_name, invalid_value};

/// The comment line written above the first parameter mailsetup appends to a file.
pub const ADDED_HEADER: &str = "# Added by mailsetup";

/// A parsed main.cf. `MainCf::parse(s).to_string() == s` for every `s`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MainCf {
    lines: Vec<Line>,
    /// Every valid `name = value` logical line, in file order (derived from `lines`).
    defs: Vec<Definition>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Definition {
    name: String,
    /// The value exactly as Postfix stores it (continuation text joined without separator).
    raw: String,
    logical: Logical,
}

impl MainCf {
    /// Parses main.cf text. Never fails: text Postfix would reject (a logical line without `=`)
    /// defines nothing here and is kept as it is.
    pub fn parse(text: &str) -> MainCf {
        let lines = lines::split(text);
        let defs = index(&lines);
        MainCf { lines, defs }
    }

    /// The effective value of `name` (its last definition) as `postconf -h name` prints it:
    /// trimmed, with runs of whitespace (continuation line breaks included) shown as one space.
    /// `None` if the file does not define `name` (Postfix would use its default).
    pub fn get(&self, name: &str) -> Option<String> {
        self.effective(name).map(|d| display_value(&d.raw))
    }

    /// The effective value of `name` exactly as Postfix's daemons receive it: continuation lines
    /// are joined with no separator, so their leading whitespace is kept (`postconf` itself
    /// shows the [`get`](Self::get) form). `set(name, v)` is a no-op iff this equals `v`.
    pub fn get_raw(&self, name: &str) -> Option<&str> {
        self.effective(name).map(|d| d.raw.as_str())
    }

    /// Whether the file defines `name`.
    pub fn defined(&self, name: &str) -> bool {
        self.effective(name).is_some()
    }

    /// 1-based line number of the definition of `name` that is in effect (the last one).
    pub fn line_of(&self, name: &str) -> Option<usize> {
        self.effective(name).map(|d| d.logical.first() + 1)
    }

    /// Names of the parameters the file defines, sorted and without repeats (as `postconf -n`).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.effective_map().into_keys()
    }

    /// `(name, value)` of every parameter the file defines, sorted by name, each with its
    /// effective value in the [`get`](Self::get) form: the pairs `postconf -n` would list
    /// (`postconf` omits names it does not know; this does not).
    pub fn iter(&self) -> impl Iterator<Item = (&str, String)> {
        self.effective_map()
            .into_iter()
            .map(|(name, d)| (name, display_value(&d.raw)))
    }

    /// Sets `name` to `value`.
    ///
    /// - Defined: the last definition is rewritten in place as `name = value` (its line ending
    ///   kept), its continuation lines removed, comment/blank lines inside it kept; every other
    ///   byte stays. Earlier duplicates are not touched (the last one wins in Postfix).
    /// - Not defined: `name = value` is appended at the end of the file. If the file has no
    ///   [`ADDED_HEADER`] line yet, that line goes first, after a blank line unless the file is
    ///   empty or already ends with a blank line. A missing final newline is added first.
    ///   New lines end with the file's dominant line ending (CRLF if most lines use it).
    /// - Already `value` ([`get_raw`](Self::get_raw) equals it): nothing changes.
    ///
    /// # Errors
    /// [`EditError::InvalidName`] unless `name` is `[A-Za-z0-9_]+`;
    /// [`EditError::InvalidValue`] if `value` contains a control character (line breaks would
    /// inject lines, postconf(5)) or starts/ends with whitespace (Postfix trims it). An empty
    /// value is allowed (`relayhost = `).
    pub fn set(&mut self, name: &str, value: &str) -> Result<Change, EditError> {
        check_name(name)?;
        check_value(name, value)?;
        let change = match self.effective(name) {
            Some(def) if def.raw == value => return Ok(Change::Unchanged),
            Some(def) => {
                let (first, drop) = (def.logical.first(), def.logical.continuations().to_vec());
                let line = &mut self.lines[first];
                line.text = format!("{name} = {value}{}", line.cr());
                for &i in drop.iter().rev() {
                    self.lines.remove(i);
                }
                Change::Rewritten
            }
            None => {
                self.append(&format!("{name} = {value}"));
                Change::Added
            }
        };
        self.defs = index(&self.lines);
        Ok(change)
    }

    fn append(&mut self, content: &str) {
        let ending = lines::dominant_ending(&self.lines);
        if let Some(last) = self.lines.last_mut() {
            last.terminate(ending);
        }
        let has_header = self
            .lines
            .iter()
            .any(|l| l.text.trim_end_matches(lines::is_space) == ADDED_HEADER);
        if !has_header {
            let ends_blank = self
                .lines
                .last()
                .is_none_or(|l| l.text.chars().all(lines::is_space));
            if !ends_blank {
                self.lines.push(Line::ended("", ending));
            }
            self.lines.push(Line::ended(ADDED_HEADER, ending));
        }
        self.lines.push(Line::ended(content, ending));
    }

    fn effective(&self, name: &str) -> Option<&Definition> {
        self.defs.iter().rev().find(|d| d.name == name)
    }

    fn effective_map(&self) -> BTreeMap<&str, &Definition> {
        self.defs.iter().map(|d| (d.name.as_str(), d)).collect()
    }
}

impl fmt::Display for MainCf {
    /// The file's text: the input, byte for byte, plus the edits made.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        lines::write_lines(&self.lines, f)
    }
}

/// The valid definitions among the logical lines.
fn index(lines: &[Line]) -> Vec<Definition> {
    lines::logical_lines(lines)
        .into_iter()
        .filter_map(|logical| {
            let (name, raw) = lines::split_nameval(&logical.text)?;
            let (name, raw) = (name.to_string(), raw.to_string());
            Some(Definition { name, raw, logical })
        })
        .collect()
}

/// A value as `postconf` prints it: words split at space, tab, CR, LF (`PCF_SEPARATORS`,
/// `src/postconf/postconf.h`) and joined with one space.
fn display_value(raw: &str) -> String {
    raw.split([' ', '\t', '\r', '\n'])
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn check_value(name: &str, value: &str) -> Result<(), EditError> {
    if value.chars().any(char::is_control) {
        Err(invalid_value(name, value, ValueProblem::ControlCharacter))
    } else if value.trim() != value {
        Err(invalid_value(
            name,
            value,
            ValueProblem::SurroundingWhitespace,
        ))
    } else {
        Ok(())
    }
}
