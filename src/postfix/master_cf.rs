//! `master.cf` as a lossless document (master(5)): the services, and the `-o name=value`
//! overrides of one service, edited in place.
//!
//! A service entry is a logical line (see `lines.rs`: a line starting in column 0, plus
//! the following lines that start with whitespace, comment and blank lines in between skipped)
//! with at least 8 whitespace-separated fields: service, type, private, unpriv, chroot, wakeup,
//! maxproc, command, then the command's arguments. `{ … }` groups one argument that contains
//! whitespace (Postfix ≥ 3.0). Other logical lines (Postfix would reject them with
//! "bad field count") are kept as they are and are not services.
//!
//! Editing (compare `postconf -P`, `src/postconf/postconf_master.c`): `postconf` re-formats the
//! whole entry and moves it below the comment block that follows it; here only the `-o`
//! argument itself is rewritten, or one `-o name=value` line is added, and nothing else moves.

use std::fmt;

use super::lines::{self, Line, Logical, is_space};
use super::list;
use super::master_args;
use super::{Change, EditError, ValueProblem, check_name, invalid_value};

/// Field separators of master.cf (`PCF_MASTER_BLANKS`, `src/postconf/postconf.h`).
const BLANKS: &[u8] = b" \t\r\n";
/// Fixed fields before the command's arguments (service … command).
const FIXED_FIELDS: usize = 8;
/// Indentation of a new `-o` line when the entry has no continuation line to copy it from.
/// Two spaces, as in the commented `#  -o …` examples of Debian's master.cf, so an example
/// uncommented later lines up (`postconf -P` would use four).
pub const DEFAULT_INDENT: &str = "  ";

/// A parsed master.cf. `MasterCf::parse(s).to_string() == s` for every `s`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterCf {
    lines: Vec<Line>,
    /// The service entries, in file order (derived from `lines`).
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    service: Service,
    logical: Logical,
    /// For each of `service.options`, where its value is written in `logical.text`.
    option_at: Vec<master_args::OptionAt>,
    /// See [`master_args::Parsed::insert_at`].
    insert_at: Option<usize>,
}

/// One service entry of master.cf, as read (master(5) "SERVICE DEFINITIONS").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    fields: [String; FIXED_FIELDS],
    args: Vec<String>,
    options: Vec<(String, String)>,
    line: usize,
}

impl Service {
    /// Service name, e.g. `smtp`, `127.0.0.1:submission`.
    pub fn name(&self) -> &str {
        &self.fields[0]
    }

    /// Service type (master(5) "type"): `inet`, `unix`, `unix-dgram`, `fifo` or `pass`.
    pub fn kind(&self) -> &str {
        &self.fields[1]
    }

    /// Private service (`y`/`n`); `None` for `-` (the default, y) or an unknown word.
    pub fn private(&self) -> Option<bool> {
        yes_no(&self.fields[2])
    }

    /// Runs unprivileged (`y`/`n`); `None` for `-` (the default, y) or an unknown word.
    pub fn unpriv(&self) -> Option<bool> {
        yes_no(&self.fields[3])
    }

    /// Runs chrooted to the queue directory (`y`/`n`); `None` for `-`, which means the
    /// built-in default (`n` since Postfix 3.0, master(5)), or an unknown word.
    pub fn chroot(&self) -> Option<bool> {
        yes_no(&self.fields[4])
    }

    /// Wakeup time field as written (`-`, `60`, `1000?`).
    pub fn wakeup(&self) -> &str {
        &self.fields[5]
    }

    /// Process limit field as written (`-`, `0`, `100`).
    pub fn maxproc(&self) -> &str {
        &self.fields[6]
    }

    /// The command name, e.g. `smtpd`, `pipe`.
    pub fn command(&self) -> &str {
        &self.fields[7]
    }

    /// The command's arguments as master(8) passes them: split at whitespace, each `{ … }`
    /// group one argument with the braces and surrounding blanks removed.
    pub fn args(&self) -> &[String] {
        &self.args
    }

    /// Every `-o name=value` daemon option, in order (a name may repeat; the last one wins),
    /// read as the daemon's getopt(3) reads them (see `master_args.rs`). Values are as
    /// Postfix receives them (the brace form may contain spaces).
    pub fn options(&self) -> impl Iterator<Item = (&str, &str)> {
        self.options.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The value of `-o name=…` in effect for this service (the last one), if any.
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// 1-based number of the line where the entry starts.
    pub fn line(&self) -> usize {
        self.line
    }
}

fn yes_no(field: &str) -> Option<bool> {
    match field {
        "y" => Some(true),
        "n" => Some(false),
        _ => None,
    }
}

impl MasterCf {
    /// Parses master.cf text. Never fails: what is not a service entry is kept as it is.
    pub fn parse(text: &str) -> MasterCf {
        let lines = lines::split(text);
        let entries = index(&lines);
        MasterCf { lines, entries }
    }

    /// The service entries, in file order.
    pub fn services(&self) -> impl Iterator<Item = &Service> {
        self.entries.iter().map(|e| &e.service)
    }

    /// The entry for `service`/`kind` (e.g. `"smtp"`, `"inet"`); the last one if repeated.
    pub fn service(&self, service: &str, kind: &str) -> Option<&Service> {
        self.find(service, kind).map(|i| &self.entries[i].service)
    }

    /// The `-o name=…` value in effect for `service`/`kind`: what the daemon uses (and what
    /// `postconf -P` shows, but for odd spellings such as `-osyslog_name=x`).
    pub fn option(&self, service: &str, kind: &str, name: &str) -> Option<&str> {
        self.service(service, kind)?.option(name)
    }

    /// Sets `-o name=value` for the `service`/`kind` entry (the last one if repeated).
    ///
    /// - The option exists: its last occurrence's value text is replaced in place by
    ///   `name=value` (a `{ name = value }` group too; `-oname=old` becomes `-o name=value`);
    ///   nothing else changes. (Should that value span several lines, a new `-o` that
    ///   overrides it is added as below.)
    /// - It does not: `-o name=value` is added where daemon options end. Normally that is a new
    ///   line after the entry's last line, indented like the entry's last continuation line
    ///   (or [`DEFAULT_INDENT`]); if the entry has non-option arguments (pipe(8)'s
    ///   `flags=… argv=…`) or `--`, it goes before them: on its own line when they start a
    ///   line, else inline before them. New lines use the file's dominant line ending; a
    ///   missing final newline is added first.
    /// - Already `value`: nothing changes.
    ///
    /// # Errors
    /// [`EditError::InvalidName`] unless `name` is `[A-Za-z0-9_]+`;
    /// [`EditError::InvalidValue`] if `value` has whitespace or control characters (fields are
    /// split at whitespace) or unpaired `{`/`}`; [`EditError::NoSuchService`] if there is no
    /// such entry; [`EditError::MalformedEntry`] if the entry is broken so that the new option
    /// would not read back (e.g. an unclosed `{`); the document is then left unchanged.
    pub fn set_option(
        &mut self,
        service: &str,
        kind: &str,
        name: &str,
        value: &str,
    ) -> Result<Change, EditError> {
        check_name(name)?;
        check_value(name, value)?;
        let idx = self
            .find(service, kind)
            .ok_or_else(|| EditError::NoSuchService {
                service: service.to_string(),
                kind: kind.to_string(),
            })?;
        let entry = &self.entries[idx];
        let setting = format!("{name}={value}");
        let last = entry.service.options.iter().rposition(|(n, _)| n == name);
        if last.is_some_and(|k| entry.service.options[k].1 == value) {
            return Ok(Change::Unchanged);
        }
        let before = self.clone();
        let in_place = last.and_then(|k| {
            let at = &entry.option_at[k];
            let (line, start, end) = entry.logical.locate_span(at.span.start, at.span.end)?;
            // `-oname=old` becomes `-o name=new`: the form every reader agrees on.
            let text = if at.attached {
                format!(" {setting}")
            } else {
                setting.clone()
            };
            Some((line, start..end, text))
        });
        match in_place {
            Some((line, range, text)) => self.lines[line].text.replace_range(range, &text),
            None => self.insert_option(idx, &setting),
        }
        self.entries = index(&self.lines);
        if !self.edit_reads_back(&before, idx, name, value) {
            let line = before.entries[idx].service.line;
            *self = before;
            return Err(EditError::MalformedEntry {
                service: service.to_string(),
                kind: kind.to_string(),
                line,
            });
        }
        Ok(if last.is_some() {
            Change::Rewritten
        } else {
            Change::Added
        })
    }

    /// Appends a new service entry at the end of the file: `entry` is its first line
    /// (`name type private unpriv chroot wakeup maxproc command`), `continuations` its
    /// continuation lines, each written as given (they must start with whitespace). New
    /// lines use the file's dominant line ending; a missing final newline is added first.
    /// Every other byte stays. An entry of that name and type already there is not looked
    /// for: the caller adopts it instead.
    ///
    /// # Errors
    /// [`EditError::MalformedEntry`] unless the file then reads as before plus exactly this
    /// entry (a line break or a missing field in the text given); the document is then left
    /// unchanged.
    pub fn append_entry(&mut self, entry: &str, continuations: &[&str]) -> Result<(), EditError> {
        let before = self.clone();
        let ending = lines::dominant_ending(&self.lines);
        if let Some(last) = self.lines.last_mut() {
            last.terminate(ending);
        }
        let at = self.lines.len();
        for text in std::iter::once(&entry).chain(continuations) {
            self.lines.push(Line::ended(text, ending));
        }
        self.entries = index(&self.lines);
        let n = before.entries.len();
        let reads_back = self.entries.len() == n + 1
            && self.entries[..n]
                .iter()
                .zip(&before.entries)
                .all(|(now, was)| now.service == was.service)
            && self.entries[n].service.line == at + 1
            && self.entries[n].logical.parts.len() == 1 + continuations.len()
            && !entry.contains(['\n', '\r'])
            && continuations.iter().all(|c| !c.contains(['\n', '\r']));
        if !reads_back {
            *self = before;
            let mut fields = entry.split_whitespace();
            return Err(EditError::MalformedEntry {
                service: fields.next().unwrap_or_default().to_string(),
                kind: fields.next().unwrap_or_default().to_string(),
                line: at + 1,
            });
        }
        Ok(())
    }

    /// Adds `-o setting` to entry `idx` where daemon options end (see [`Self::set_option`]).
    fn insert_option(&mut self, idx: usize, setting: &str) {
        let ending = lines::dominant_ending(&self.lines);
        let entry = &self.entries[idx];
        match entry.insert_at {
            Some(offset) => {
                let (at, col) = entry.logical.locate(offset);
                let line = &self.lines[at];
                if at != entry.logical.first() && line.text[..col].chars().all(is_space) {
                    let indent = match line.indent() {
                        Some(indent) if indent.len() == col => indent,
                        _ => DEFAULT_INDENT,
                    };
                    let new = Line::ended(&format!("{indent}-o {setting}"), ending);
                    self.lines.insert(at, new);
                } else {
                    self.lines[at]
                        .text
                        .insert_str(col, &format!("-o {setting} "));
                }
            }
            None => {
                let last = entry.logical.last();
                let indent = entry
                    .logical
                    .continuations()
                    .last()
                    .and_then(|&i| self.lines[i].indent())
                    .unwrap_or(DEFAULT_INDENT)
                    .to_string();
                self.lines[last].terminate(ending);
                let new = Line::ended(&format!("{indent}-o {setting}"), ending);
                self.lines.insert(last + 1, new);
            }
        }
    }

    /// After an edit of entry `idx`: the same services are there, only that entry's options
    /// changed, and its `-o name` now reads `value`.
    fn edit_reads_back(&self, before: &MasterCf, idx: usize, name: &str, value: &str) -> bool {
        let same_shape = self.entries.len() == before.entries.len()
            && self
                .entries
                .iter()
                .zip(&before.entries)
                .enumerate()
                .all(|(i, (now, was))| {
                    let (now, was) = (&now.service, &was.service);
                    now.fields == was.fields && (i == idx || now.options == was.options)
                });
        same_shape && self.entries[idx].service.option(name) == Some(value)
    }

    fn find(&self, service: &str, kind: &str) -> Option<usize> {
        self.entries
            .iter()
            .rposition(|e| e.service.name() == service && e.service.kind() == kind)
    }
}

impl fmt::Display for MasterCf {
    /// The file's text: the input, byte for byte, plus the edits made.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        lines::write_lines(&self.lines, f)
    }
}

/// The service entries among the logical lines.
fn index(lines: &[Line]) -> Vec<Entry> {
    lines::logical_lines(lines)
        .into_iter()
        .filter_map(|logical| {
            let tokens = list::tokenize(&logical.text, BLANKS);
            let fixed = tokens.get(..FIXED_FIELDS)?;
            let fields = std::array::from_fn(|i| logical.text[fixed[i].clone()].to_string());
            let parsed = master_args::parse(&logical.text, &tokens[FIXED_FIELDS..]);
            let service = Service {
                fields,
                args: parsed.args,
                options: parsed.options,
                line: logical.first() + 1,
            };
            Some(Entry {
                service,
                logical,
                option_at: parsed.option_at,
                insert_at: parsed.insert_at,
            })
        })
        .collect()
}

fn check_value(name: &str, value: &str) -> Result<(), EditError> {
    if value.chars().any(char::is_control) {
        Err(invalid_value(name, value, ValueProblem::ControlCharacter))
    } else if value.chars().any(char::is_whitespace) {
        Err(invalid_value(name, value, ValueProblem::Whitespace))
    } else if !list::braces_balanced(value) {
        Err(invalid_value(name, value, ValueProblem::UnbalancedBraces))
    } else {
        Ok(())
    }
}
