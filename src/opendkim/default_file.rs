//! `/etc/default/opendkim`: the legacy shell fragment Debian's init script and
//! `/lib/opendkim/opendkim.service.generate` source as root. Only the `SOCKET=` assignment is ever
//! read or written here; every other byte is kept. `/etc/default/opendmarc`, which
//! `/etc/init.d/opendmarc` sources and uses the same way, is edited with it too.
//!
//! The init script uses `SOCKET` only when opendkim.conf has no `Socket` line
//! (postfix-opendkim.md §2.1), and mailsetup prefers `Socket` in opendkim.conf (reliability.md G4.8).
//! Because the file is executed by a shell, written values are limited to `[A-Za-z0-9:/._@-]+`, which
//! needs no quoting, and edits are refused when the file's quoting cannot be followed line by line.
//!
//! Shell reading here is a small subset of POSIX sh (XCU 2.2 quoting, 2.3 comments): single and
//! double quotes, backslash escapes and continuations, `#` comments at the start of a word. A
//! trailing `\r` (CRLF file) is treated as part of the line ending.

use std::fmt;
use std::ops::Range;

use super::{Applied, EditError, RawLine, push_line, split_lines, write_lines};

/// Lexer state at the start of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Clean,
    Single,
    Double,
    /// The previous line ended with a backslash outside quotes, between words: the next
    /// line starts a word (a `#` there is a comment).
    Continued,
    /// The previous line ended with a backslash outside quotes inside a word (`$RUNDIR\`):
    /// the next line goes on with that word, so a `#` at its start is part of it, not a
    /// comment (POSIX sh: a line continuation is removed before words are split).
    ContinuedInWord,
}

/// An assignment's value word: its byte range in the line, its text with quotes removed, split
/// into pieces that undergo `$` expansion (unquoted / double-quoted) or not (single-quoted, escaped).
#[derive(Debug, Clone)]
struct Word {
    range: Range<usize>,
    pieces: Vec<(String, bool)>,
    /// Quotes are closed and the line holds nothing after the word but blanks or a comment.
    simple: bool,
}

impl Word {
    fn text(&self) -> String {
        self.pieces.iter().map(|(s, _)| s.as_str()).collect()
    }
}

/// A parsed /etc/default/opendkim. `Display` reproduces the parsed text byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DefaultFile {
    lines: Vec<RawLine>,
    socket: Option<String>,
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn ends_word(c: char) -> bool {
    matches!(c, ' ' | '\t' | ';' | '&' | '|' | '<' | '>' | '(' | ')')
}

/// The line's text without a trailing `\r`.
fn text(body: &str) -> &str {
    body.strip_suffix('\r').unwrap_or(body)
}

/// Follows quoting through one line; returns the state the next line starts in. A backslash
/// consumes the character after it (in the guards below); at the end of a line it continues it.
fn scan_line(start: Ctx, line: &str) -> Ctx {
    let (mut st, mut word_start) = match start {
        Ctx::Continued => (Ctx::Clean, true),
        Ctx::ContinuedInWord => (Ctx::Clean, false),
        other => (other, true),
    };
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        let mut next_word_start = false;
        match (st, c) {
            (Ctx::Single, '\'') | (Ctx::Double, '"') => st = Ctx::Clean,
            (Ctx::Double, '\\') if chars.next().is_none() => return Ctx::Double,
            (Ctx::Clean, '\\') if chars.next().is_none() => {
                return if word_start {
                    Ctx::Continued
                } else {
                    Ctx::ContinuedInWord
                };
            }
            (Ctx::Clean, '\'') => st = Ctx::Single,
            (Ctx::Clean, '"') => st = Ctx::Double,
            (Ctx::Clean, '#') if word_start => return Ctx::Clean,
            (Ctx::Clean, c) => next_word_start = ends_word(c),
            _ => {}
        }
        word_start = next_word_start;
    }
    st
}

/// If `line` (starting in a clean state) assigns `name`, the value word that follows `name=`.
fn assignment(line: &str, name: &str) -> Option<Word> {
    let rest = line.trim_start_matches(is_blank);
    let rest = match rest.strip_prefix("export") {
        Some(r) if r.starts_with(is_blank) => r.trim_start_matches(is_blank),
        _ => rest,
    };
    let start = line.len() - rest.strip_prefix(name)?.strip_prefix('=')?.len();
    Some(parse_word(line, start))
}

fn parse_word(line: &str, start: usize) -> Word {
    let mut pieces: Vec<(String, bool)> = Vec::new();
    let mut push = |c: char, expands: bool| match pieces.last_mut() {
        Some((s, e)) if *e == expands => s.push(c),
        _ => pieces.push((c.to_string(), expands)),
    };
    let mut it = line[start..]
        .char_indices()
        .map(|(i, c)| (start + i, c))
        .peekable();
    let mut complete = true;
    let mut end = line.len();
    while let Some((i, c)) = it.next() {
        match c {
            c if ends_word(c) => {
                end = i;
                break;
            }
            '\\' => match it.next() {
                Some((_, n)) => push(n, false),
                None => complete = false,
            },
            '\'' => {
                complete = false;
                for (_, n) in it.by_ref() {
                    if n == '\'' {
                        complete = true;
                        break;
                    }
                    push(n, false);
                }
            }
            '"' => {
                complete = false;
                while let Some((_, n)) = it.next() {
                    match n {
                        '"' => {
                            complete = true;
                            break;
                        }
                        '\\' => match it.next() {
                            Some((_, e)) if matches!(e, '$' | '`' | '"' | '\\') => push(e, false),
                            Some((_, e)) => {
                                push('\\', true);
                                push(e, true);
                            }
                            None => break,
                        },
                        n => push(n, true),
                    }
                }
            }
            c => push(c, true),
        }
    }
    let after = line[end..].trim_start_matches(is_blank);
    let simple = complete && (after.is_empty() || after.starts_with('#'));
    Word {
        range: start..end,
        pieces,
        simple,
    }
}

/// Replaces `$name` and `${name}` in `s` by `with` (`$nameX` is another variable and is kept).
fn expand_var(s: &str, name: &str, with: &str) -> String {
    let braced = format!("${{{name}}}");
    let plain = format!("${name}");
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(r) = tail.strip_prefix(&braced) {
            out.push_str(with);
            rest = r;
        } else if let Some(r) = tail
            .strip_prefix(&plain)
            .filter(|r| !r.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
        {
            out.push_str(with);
            rest = r;
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// Values `set_socket` accepts: they need no shell quoting.
fn check_socket(value: &str) -> Result<(), EditError> {
    let ok = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ":/._@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(EditError::BadValue {
            value: value.to_string(),
            reason: "SOCKET values must match ^[A-Za-z0-9:/._@-]+$ (the file is run by a shell)",
        })
    }
}

impl DefaultFile {
    /// Parses any text; never fails.
    pub fn parse(text: &str) -> DefaultFile {
        let mut file = DefaultFile {
            lines: split_lines(text),
            socket: None,
        };
        file.socket = file
            .last_assignment("SOCKET", file.lines.len())
            .map(|(_, w)| w.text());
        file
    }

    /// The value of the last active `SOCKET=` assignment with its quotes removed, as written
    /// (`local:$RUNDIR/opendkim.sock` in the stock file); `None` when there is none.
    pub fn socket(&self) -> Option<&str> {
        self.socket.as_deref()
    }

    /// [`DefaultFile::socket`] with `$RUNDIR` / `${RUNDIR}` (outside single quotes) replaced by the
    /// value of the last `RUNDIR=` assignment above the `SOCKET=` line, or by nothing when there is
    /// none (as the shell would). Other variables are left as written. Good enough for checks, not
    /// a shell.
    pub fn socket_expanded(&self) -> Option<String> {
        let (at, word) = self.last_assignment("SOCKET", self.lines.len())?;
        let rundir = self
            .last_assignment("RUNDIR", at)
            .map(|(_, w)| w.text())
            .unwrap_or_default();
        Some(
            word.pieces
                .iter()
                .map(|(s, expands)| {
                    if *expands {
                        expand_var(s, "RUNDIR", &rundir)
                    } else {
                        s.clone()
                    }
                })
                .collect(),
        )
    }

    /// Sets `SOCKET` to `value`, unquoted: rewrites the word after `SOCKET=` on the last active
    /// assignment line (keeping any `export`, indentation and trailing comment), or appends
    /// `SOCKET=value` (after giving the file a final newline). Setting the value the line already
    /// has (even if quoted) changes nothing.
    ///
    /// Errors: [`EditError::BadValue`] unless `value` matches `^[A-Za-z0-9:/._@-]+$`;
    /// [`EditError::UnsafeShell`] if the file ends inside a quote or a line continuation, or the
    /// last assignment is not a plain `SOCKET=word [# comment]` line.
    pub fn set_socket(&mut self, value: &str) -> Result<Applied, EditError> {
        check_socket(value)?;
        if self.end_state() != Ctx::Clean {
            return Err(EditError::UnsafeShell {
                reason: "the file ends inside a quote or a line continuation",
            });
        }
        // Any other mention of `SOCKET=` (after a `;`, twice on a line, on a line that starts inside
        // a quote or a `\` continuation) could be what the shell really ends up with: refuse to guess.
        let mut ctx = Ctx::Clean;
        let mut stray = false;
        for line in &self.lines {
            let t = text(&line.body);
            let mentions = t.matches("SOCKET=").count();
            let plain = ctx == Ctx::Clean && assignment(t, "SOCKET").is_some();
            let comment = ctx == Ctx::Clean && t.trim_start().starts_with('#');
            stray |= !comment && mentions > usize::from(plain);
            ctx = scan_line(ctx, t);
        }
        if stray {
            return Err(EditError::UnsafeShell {
                reason: "SOCKET= appears where it is not a plain assignment at the start of a line",
            });
        }
        let applied = match self.last_assignment("SOCKET", self.lines.len()) {
            Some((_, word)) if !word.simple => {
                return Err(EditError::UnsafeShell {
                    reason: "the last SOCKET= line is not a plain assignment",
                });
            }
            Some((_, word)) if word.text() == value => Applied::Unchanged,
            Some((i, word)) => {
                self.lines[i].body.replace_range(word.range, value);
                Applied::Rewritten
            }
            None => {
                push_line(&mut self.lines, &format!("SOCKET={value}"));
                Applied::Appended
            }
        };
        self.socket = Some(value.to_string());
        Ok(applied)
    }

    /// The last assignment to `name` on a line before `before` that starts outside quotes.
    fn last_assignment(&self, name: &str, before: usize) -> Option<(usize, Word)> {
        let mut ctx = Ctx::Clean;
        let mut found = None;
        for (i, line) in self.lines.iter().enumerate().take(before) {
            let t = text(&line.body);
            if ctx == Ctx::Clean
                && let Some(word) = assignment(t, name)
            {
                found = Some((i, word));
            }
            ctx = scan_line(ctx, t);
        }
        found
    }

    fn end_state(&self) -> Ctx {
        self.lines
            .iter()
            .fold(Ctx::Clean, |ctx, l| scan_line(ctx, text(&l.body)))
    }
}

impl fmt::Display for DefaultFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_lines(&self.lines, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_quotes() {
        let w = parse_word("X='a b'\"c$d\"e # c", 2);
        assert_eq!(w.text(), "a bc$de");
        assert!(w.simple);
        assert_eq!(
            w.pieces,
            vec![("a b".to_string(), false), ("c$de".to_string(), true)]
        );
        assert!(!parse_word("X='open", 2).simple);
        assert!(!parse_word("X=a cmd", 2).simple);
    }

    #[test]
    fn scan_tracks_quotes_and_comments() {
        assert_eq!(scan_line(Ctx::Clean, "A='x"), Ctx::Single);
        assert_eq!(scan_line(Ctx::Single, "y' B=1"), Ctx::Clean);
        assert_eq!(scan_line(Ctx::Clean, "# it's a comment"), Ctx::Clean);
        assert_eq!(scan_line(Ctx::Clean, "A=x#notcomment'"), Ctx::Single);
        assert_eq!(scan_line(Ctx::Clean, "A=\"x\\"), Ctx::Double);
        assert_eq!(scan_line(Ctx::Clean, "A=x \\"), Ctx::Continued);
        // a continuation inside a word carries the word on: `#` there is no comment
        assert_eq!(scan_line(Ctx::Clean, "$RUNDIR\\"), Ctx::ContinuedInWord);
        assert_eq!(scan_line(Ctx::ContinuedInWord, "#\\"), Ctx::ContinuedInWord);
        assert_eq!(scan_line(Ctx::Continued, "# a comment \\"), Ctx::Clean);
    }

    #[test]
    fn expand_var_respects_names() {
        assert_eq!(
            expand_var("a$RUNDIR/b${RUNDIR}c$RUNDIRX", "RUNDIR", "/r"),
            "a/r/b/rc$RUNDIRX"
        );
    }
}
