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
//! continuation lines are removed, comment and blank lines inside it are kept. Earlier
//! definitions of the same name (which Postfix reads and then overrides, warning
//! `overriding earlier entry: name=value` for each that has another value) are commented out,
//! also when the last one already has the value, every physical line
//! of them, the first as `# mailsetup: shadowed by line N: <its text>` (N: the definition in
//! effect), so that the file states one value and postconf stops warning. `postconf -e` instead
//! rewrites every occurrence and warns `multiple entries`. A new parameter is appended at the
//! end of the file, the first one under a `# Added by mailsetup` line. Unlike `postconf -e`, a
//! file without a final newline gets one before anything is appended, and new lines use the
//! file's dominant line ending.

use std::collections::BTreeMap;
use std::fmt;

use super::lines::{self, Line, Logical};
use super::{Change, EditError, ValueProblem, check_name, invalid_value};

/// The comment line written above the first parameter mailsetup appends to a file.
pub const ADDED_HEADER: &str = "# Added by mailsetup";

/// How the first line of a definition commented out by [`MainCf::set`] starts; the line number
/// of the definition in effect, `: ` and the original text follow.
pub const SHADOWED_PREFIX: &str = "# mailsetup: shadowed by line ";

/// A parsed main.cf. `MainCf::parse(s).to_string() == s` for every `s`.
///
/// Two documents are equal when their texts are (what [`MainCf::shadowed`] reports of the
/// edits made is not compared).
#[derive(Debug, Clone)]
pub struct MainCf {
    lines: Vec<Line>,
    /// Every valid `name = value` logical line, in file order (derived from `lines`).
    defs: Vec<Definition>,
    /// The definitions commented out by this document's edits, in the order they were.
    shadows: Vec<Shadow>,
}

/// A definition commented out by `set`: where its first line is now, and what it said.
#[derive(Debug, Clone)]
struct Shadow {
    /// Index of its first physical line (kept up to date as lines are removed).
    line: usize,
    name: String,
    /// The first line's original text (with its `\r`, if any).
    original: String,
}

/// Definitions of one parameter that [`MainCf::set`] or [`MainCf::comment_out_earlier`]
/// commented out, because a later definition of it is the one Postfix uses (the last
/// definition wins, postconf(5)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shadowed {
    pub name: String,
    /// 1-based first line of each definition commented out, in the edited file.
    pub lines: Vec<usize>,
    /// 1-based line of the definition in effect (the one edited), in the edited file.
    pub effective: usize,
}

impl PartialEq for MainCf {
    fn eq(&self, other: &MainCf) -> bool {
        self.lines == other.lines
    }
}

impl Eq for MainCf {}

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
        MainCf {
            lines,
            defs,
            shadows: Vec::new(),
        }
    }

    /// The effective value of `name` (its last definition) as `postconf -h name` prints it:
    /// trimmed, with runs of whitespace (continuation line breaks included) shown as one space.
    /// `None` if the file does not define `name` (Postfix would use its default).
    pub fn get(&self, name: &str) -> Option<String> {
        self.effective(name).map(|d| display_value(&d.raw))
    }

    /// The effective value of `name` exactly as Postfix's daemons receive it: continuation lines
    /// are joined with no separator, so their leading whitespace is kept (`postconf` itself
    /// shows the [`get`](Self::get) form). `set(name, v)` is a no-op iff this equals `v` and
    /// `name` is defined once.
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
    /// - Defined: the last definition (the one Postfix uses) is rewritten in place as
    ///   `name = value` (its line ending kept), its continuation lines removed, comment/blank
    ///   lines inside it kept; it stays as it is if it already has the value. Each earlier
    ///   definition of `name` is commented out, whatever its value: its first line becomes
    ///   `# mailsetup: shadowed by line N: <original line>` and each of its continuation lines
    ///   gets a `#` in front (`#  b`), N being the 1-based line of the definition in effect
    ///   (kept right by later edits of this document). Comment and blank lines between its
    ///   lines stay. Every other byte stays. [`shadowed`](Self::shadowed) says what was
    ///   commented out. Either is [`Change::Rewritten`].
    /// - Not defined: `name = value` is appended at the end of the file. If the file has no
    ///   [`ADDED_HEADER`] line yet, that line goes first, after a blank line unless the file is
    ///   empty or already ends with a blank line. A missing final newline is added first.
    ///   New lines end with the file's dominant line ending (CRLF if most lines use it).
    /// - Already `value` ([`get_raw`](Self::get_raw) equals it) and defined once: nothing
    ///   changes.
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
            Some(def) if def.raw == value => return Ok(self.comment_out_earlier(name)),
            Some(def) => {
                let (first, drop) = (def.logical.first(), def.logical.continuations().to_vec());
                let line = &mut self.lines[first];
                line.text = format!("{name} = {value}{}", line.cr());
                for &i in drop.iter().rev() {
                    self.lines.remove(i);
                    for shadow in self.shadows.iter_mut().filter(|s| s.line > i) {
                        shadow.line -= 1;
                    }
                }
                self.comment_out_earlier(name);
                Change::Rewritten
            }
            None => {
                self.append(&format!("{name} = {value}"));
                Change::Added
            }
        };
        self.defs = index(&self.lines);
        self.renumber_shadows();
        Ok(change)
    }

    /// Inserts `item` (one element, or several separated by whitespace, such as
    /// `check_policy_service unix:private/policyd-spf`) into the list value of `name`
    /// (postconf(5): "separated by comma or whitespace") right after its last element equal to
    /// `after`; after its last element when `after` is `None` or not in the list.
    ///
    /// The smallest edit: `, item` is written right behind that element, on its physical
    /// line, so a list spread over continuation lines keeps its layout and every other byte
    /// stays. Not defined, or defined empty: as [`set`](Self::set)`(name, item)`. Earlier
    /// definitions of `name` are commented out as `set` does. The list is not searched for
    /// `item` first: the caller decides whether it belongs there.
    ///
    /// # Errors
    /// As [`set`](Self::set) for `name` and `item`; [`EditError::InvalidValue`]
    /// ([`ValueProblem::UnbalancedBraces`]) when the list would not read back as the old
    /// elements with `item`'s inserted (an unclosed `{` in the list); the document is then
    /// left unchanged.
    pub fn insert_in_list(
        &mut self,
        name: &str,
        after: Option<&str>,
        item: &str,
    ) -> Result<Change, EditError> {
        check_name(name)?;
        check_value(name, item)?;
        let Some(def) = self.effective(name) else {
            return self.set(name, item);
        };
        let logical = def.logical.clone();
        let value_at = logical.text.find('=').map_or(0, |i| i + 1);
        let tokens: Vec<std::ops::Range<usize>> =
            super::list::tokenize(&logical.text[value_at..], super::list::LIST_SEPARATORS)
                .into_iter()
                .map(|r| r.start + value_at..r.end + value_at)
                .collect();
        let words: Vec<&str> = tokens.iter().map(|r| &logical.text[r.clone()]).collect();
        let Some(k) = after
            .and_then(|a| words.iter().rposition(|w| *w == a))
            .or(words.len().checked_sub(1))
        else {
            return self.set(name, item);
        };
        let mut expected: Vec<String> = words.iter().map(|w| (*w).to_string()).collect();
        let new_words = super::list::split_list(item);
        expected.splice(k + 1..k + 1, new_words);
        let before = self.clone();
        let end = tokens[k].end;
        let (line, col) = logical.locate(end - 1);
        self.lines[line]
            .text
            .insert_str(col + 1, &format!(", {item}"));
        self.defs = index(&self.lines);
        let reads_back = self
            .get_raw(name)
            .map(super::list::split_list)
            .is_some_and(|now| now == expected);
        if !reads_back {
            *self = before;
            return Err(invalid_value(name, item, ValueProblem::UnbalancedBraces));
        }
        self.comment_out_earlier(name);
        self.renumber_shadows();
        Ok(Change::Rewritten)
    }

    /// Comments out every definition of `name` but the last, which Postfix uses and which
    /// stays as it is: what [`set`](Self::set) does to them, for a parameter whose value is
    /// kept. [`Change::Rewritten`] if there was any, else [`Change::Unchanged`] (no byte
    /// changed).
    pub fn comment_out_earlier(&mut self, name: &str) -> Change {
        let Some(last) = self.effective(name).map(|d| d.logical.first()) else {
            return Change::Unchanged;
        };
        let earlier: Vec<Logical> = self
            .defs
            .iter()
            .filter(|d| d.name == name && d.logical.first() < last)
            .map(|d| d.logical.clone())
            .collect();
        if earlier.is_empty() {
            return Change::Unchanged;
        }
        for logical in &earlier {
            self.comment_out(name, logical);
        }
        self.defs = index(&self.lines);
        self.renumber_shadows();
        Change::Rewritten
    }

    /// Comments out every definition of `name` (a parameter Postfix should no longer read):
    /// the first line of each becomes `# mailsetup: <why>: <original line>`, each
    /// continuation line gets a `#` in front; comment and blank lines stay, every other byte
    /// stays. [`Change::Unchanged`] when `name` is not defined.
    pub fn retire(&mut self, name: &str, why: &str) -> Change {
        let defs: Vec<Logical> = self
            .defs
            .iter()
            .filter(|d| d.name == name)
            .map(|d| d.logical.clone())
            .collect();
        if defs.is_empty() {
            return Change::Unchanged;
        }
        for logical in &defs {
            let first = logical.first();
            let original = std::mem::take(&mut self.lines[first].text);
            self.lines[first].text = format!("# mailsetup: {why}: {original}");
            for &i in logical.continuations() {
                self.lines[i].text.insert(0, '#');
            }
        }
        self.defs = index(&self.lines);
        self.renumber_shadows();
        Change::Rewritten
    }

    /// The definitions [`set`](Self::set) and [`comment_out_earlier`](Self::comment_out_earlier)
    /// commented out so far, by parameter, in the order they did so; line numbers refer to the
    /// text as it is now.
    pub fn shadowed(&self) -> Vec<Shadowed> {
        let mut out: Vec<Shadowed> = Vec::new();
        for shadow in &self.shadows {
            let line = shadow.line + 1;
            match out.iter_mut().find(|s| s.name == shadow.name) {
                Some(s) => s.lines.push(line),
                None => out.push(Shadowed {
                    name: shadow.name.clone(),
                    lines: vec![line],
                    effective: self.line_of(&shadow.name).unwrap_or(0),
                }),
            }
        }
        out
    }

    /// Turns the definition `logical` of `name` into comments (the first line's number is
    /// filled in by `renumber_shadows`). Only lines holding its text change.
    fn comment_out(&mut self, name: &str, logical: &Logical) {
        let first = logical.first();
        let original = std::mem::take(&mut self.lines[first].text);
        self.lines[first].text = format!("{SHADOWED_PREFIX}0: {original}");
        self.shadows.push(Shadow {
            line: first,
            name: name.to_string(),
            original,
        });
        for &i in logical.continuations() {
            self.lines[i].text.insert(0, '#');
        }
    }

    /// Writes each shadowed definition's first line with the current line of the definition
    /// in effect.
    fn renumber_shadows(&mut self) {
        for shadow in &self.shadows {
            let effective = self
                .defs
                .iter()
                .rev()
                .find(|d| d.name == shadow.name)
                .map_or(0, |d| d.logical.first() + 1);
            self.lines[shadow.line].text =
                format!("{SHADOWED_PREFIX}{effective}: {}", shadow.original);
        }
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
