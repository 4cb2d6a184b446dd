//! Physical and logical lines of Postfix configuration files, exactly as Postfix reads them.
//!
//! main.cf (postconf(5)) and master.cf (master(5)) are both read by Postfix's `readllines()`
//! (`src/util/readlline.c`, Postfix 3.7):
//! - a physical line ends at `\n`; a `\r` before it is ordinary whitespace, so CRLF files work;
//! - an empty line, a whitespace-only line, or a line whose first non-whitespace character is
//!   `#` is ignored, and it does **not** end the logical line being read;
//! - a line that starts with whitespace continues the current logical line: its text, leading
//!   whitespace included, is appended with no separator;
//! - any other line starts a new logical line;
//! - continuation text before the first logical line is discarded (with a warning);
//! - Postfix handles the result as a C string, so a NUL byte ends the logical line's text.
//!
//! "Whitespace" is Postfix's `ISSPACE()`: ASCII `isspace()`, i.e. space, `\t`, `\n`, `\v`, `\f`,
//! `\r`. This module keeps every byte of the file ([`split`] then [`write_lines`] is the
//! identity) and derives the logical view from it.

use std::fmt;

/// Postfix `ISSPACE()` (`src/util/sys_defs.h`): ASCII `isspace()` in the C locale.
pub(crate) fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// One physical line: its text without the `\n` (a CRLF line's text ends in `\r`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    pub text: String,
    /// Whether a `\n` follows; only the file's last line can lack one.
    pub newline: bool,
}

/// What a physical line is to `readllines()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Empty, whitespace-only, or a comment (first non-whitespace character is `#`).
    Ignored,
    /// Starts with a character that is neither whitespace nor `#`: begins a logical line.
    Start,
    /// Starts with whitespace and has other text: continues the current logical line.
    Continuation,
}

impl Line {
    /// A new line holding `content` and ending with `ending` (`"\n"` or `"\r\n"`).
    pub fn ended(content: &str, ending: &str) -> Line {
        let cr = if ending == "\r\n" { "\r" } else { "" };
        Line {
            text: format!("{content}{cr}"),
            newline: true,
        }
    }

    pub fn kind(&self) -> Kind {
        match self.text.chars().find(|c| !is_space(*c)) {
            None | Some('#') => Kind::Ignored,
            Some(_) if self.text.starts_with(is_space) => Kind::Continuation,
            Some(_) => Kind::Start,
        }
    }

    /// The `\r` that ends a CRLF line's text, if any; kept when the line is rewritten.
    pub fn cr(&self) -> &'static str {
        if self.text.ends_with('\r') { "\r" } else { "" }
    }

    /// Leading spaces and tabs, if the line starts with some (used as indentation).
    pub fn indent(&self) -> Option<&str> {
        let end = self.text.len() - self.text.trim_start_matches([' ', '\t']).len();
        (end > 0).then(|| &self.text[..end])
    }

    /// Gives the line a `\n` (with `\r` first when `ending` is CRLF) if it has none.
    pub fn terminate(&mut self, ending: &str) {
        if !self.newline {
            if ending == "\r\n" && !self.text.ends_with('\r') {
                self.text.push('\r');
            }
            self.newline = true;
        }
    }
}

/// Splits `text` into physical lines; never produces an empty trailing line.
pub(crate) fn split(text: &str) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (line, newline, tail) = match rest.find('\n') {
            Some(i) => (&rest[..i], true, &rest[i + 1..]),
            None => (rest, false, ""),
        };
        lines.push(Line {
            text: line.to_string(),
            newline,
        });
        rest = tail;
    }
    lines
}

/// Writes the lines back byte for byte.
pub(crate) fn write_lines(lines: &[Line], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for line in lines {
        f.write_str(&line.text)?;
        if line.newline {
            f.write_str("\n")?;
        }
    }
    Ok(())
}

/// The file's dominant line ending: `"\r\n"` if more lines end in CRLF than in bare LF,
/// else `"\n"`.
pub(crate) fn dominant_ending(lines: &[Line]) -> &'static str {
    let (crlf, lf) = lines
        .iter()
        .filter(|l| l.newline)
        .fold((0usize, 0usize), |(crlf, lf), l| {
            if l.text.ends_with('\r') {
                (crlf + 1, lf)
            } else {
                (crlf, lf + 1)
            }
        });
    if crlf > lf { "\r\n" } else { "\n" }
}

/// One logical line: a start line plus its continuation lines, as `readllines()` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Logical {
    /// Indexes (0-based) of the physical lines that make up the text: the start line first,
    /// then the continuation lines. Ignored lines in between are not listed.
    pub parts: Vec<usize>,
    /// The parts' texts concatenated with no separator, cut at the first NUL.
    pub text: String,
    /// For each part, the offset in `text` (before the NUL cut) where its text begins.
    offsets: Vec<usize>,
}

impl Logical {
    fn new(line: usize, text: &str) -> Logical {
        Logical {
            parts: vec![line],
            text: text.to_string(),
            offsets: vec![0],
        }
    }

    fn push(&mut self, line: usize, text: &str) {
        self.parts.push(line);
        self.offsets.push(self.text.len());
        self.text.push_str(text);
    }

    fn finish(mut self) -> Logical {
        if let Some(nul) = self.text.find('\0') {
            self.text.truncate(nul);
        }
        self
    }

    /// Index of the start line.
    pub fn first(&self) -> usize {
        self.parts[0]
    }

    /// Index of the last line holding text (the start line or the last continuation line).
    pub fn last(&self) -> usize {
        self.parts[self.parts.len() - 1]
    }

    /// The continuation lines (every part but the first).
    pub fn continuations(&self) -> &[usize] {
        &self.parts[1..]
    }

    /// Physical position of byte `offset` of `text`: (line index, byte offset in that line).
    pub fn locate(&self, offset: usize) -> (usize, usize) {
        let k = self
            .offsets
            .partition_point(|&o| o <= offset)
            .saturating_sub(1);
        (self.parts[k], offset - self.offsets[k])
    }

    /// The physical position of `text[start..end]` if it lies on one line:
    /// (line index, start, end) as byte offsets in that line.
    pub fn locate_span(&self, start: usize, end: usize) -> Option<(usize, usize, usize)> {
        let k = self
            .offsets
            .partition_point(|&o| o <= start)
            .saturating_sub(1);
        let piece_end = self.offsets.get(k + 1).copied().unwrap_or(usize::MAX);
        (end <= piece_end).then(|| {
            (
                self.parts[k],
                start - self.offsets[k],
                end - self.offsets[k],
            )
        })
    }
}

/// The logical lines of a file, in order (orphan continuation text is dropped, as Postfix does).
pub(crate) fn logical_lines(lines: &[Line]) -> Vec<Logical> {
    let mut out = Vec::new();
    let mut current: Option<Logical> = None;
    for (i, line) in lines.iter().enumerate() {
        match line.kind() {
            Kind::Ignored => {}
            Kind::Start => {
                out.extend(current.take().map(Logical::finish));
                current = Some(Logical::new(i, &line.text));
            }
            Kind::Continuation => {
                if let Some(logical) = current.as_mut() {
                    logical.push(i, &line.text);
                }
            }
        }
    }
    out.extend(current.map(Logical::finish));
    out
}

/// Postfix `split_nameval()` (`src/util/split_nameval.c`): `name = value` with optional blanks,
/// value trimmed of whitespace. `None` where Postfix reports "missing attribute name" or
/// "missing '=' after attribute name".
pub(crate) fn split_nameval(text: &str) -> Option<(&str, &str)> {
    let s = text.trim_start_matches(is_space);
    let name_end = s.find(|c| is_space(c) || c == '=').unwrap_or(s.len());
    if name_end == 0 {
        return None;
    }
    let (name, rest) = s.split_at(name_end);
    let value = rest.trim_start_matches(is_space).strip_prefix('=')?;
    Some((name, value.trim_matches(is_space)))
}
