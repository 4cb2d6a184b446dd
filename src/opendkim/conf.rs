//! `/etc/opendkim.conf`: a lossless line model with in-place edits.
//!
//! Syntax, as OpenDKIM 2.11's `config_load_level` (opendkim/config.c) reads it and opendkim.conf(5)
//! describes it: each line is cut at the first `#` (so a trailing `# comment` after a value is a
//! comment, unlike main.cf), at a carriage return and at a NUL byte; the first run of spaces/tabs
//! ends the option name (leading spaces/tabs are skipped, so indented lines are active); the value
//! is the rest with spaces/tabs trimmed on both sides. Names match case-insensitively (`strcasecmp`),
//! and for a repeated name the last definition wins (verified, postfix-opendkim.md §2.3).
//! Debian's init script reads `Socket` with `awk '$1 == "Socket"'`, case-sensitively, so this module
//! writes the caller's (canonical) spelling of a name whenever it writes a line.

use std::fmt;
use std::ops::Range;

use super::{
    EditError, RawLine, check_header, check_value, cr_suffix, ensure_final_newline, push_line,
    split_lines, write_lines,
};

/// Values of new lines start at this column (tab stops every 8), as in Debian's stock file.
const VALUE_COLUMN: usize = 24;
const TAB_WIDTH: usize = 8;

/// `/etc/opendmarc.conf`, read and edited by the same rules: OpenDMARC 1.4's
/// `opendmarc/config.c` is OpenDKIM's `config.c` (the same `config_load_level`: a line cut at
/// `#`, CR and NUL; the name up to the first space/tab; case-insensitive names, the last
/// definition wins; opendmarc.conf(5)), and Debian's `/etc/init.d/opendmarc` reads `Socket` with
/// the same case-sensitive `awk '$1 == "Socket"'`.
pub type OpendmarcConf = OpendkimConf;

/// What an edit did to one option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The effective definition already had this value and spelling; no byte changed.
    Unchanged,
    /// The last active definition was rewritten in place.
    Rewritten,
    /// The option was not defined; a new line was added.
    Appended,
}

/// A parsed opendkim.conf. `Display` reproduces the parsed text byte for byte until an edit is made,
/// and after an edit changes only the edited lines.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpendkimConf {
    lines: Vec<RawLine>,
}

/// Byte ranges of an active line: `body = lead + key + sep + value + post`, where `post` holds
/// trailing spaces/tabs, the comment and anything after a CR or NUL.
struct Directive {
    key: Range<usize>,
    value: Range<usize>,
}

fn is_sep(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Reads one line the way `config_load_level` does; `None` for blank and comment-only lines.
fn directive(body: &str) -> Option<Directive> {
    let cut = body.find(['#', '\r', '\0']).unwrap_or(body.len());
    let active = &body[..cut];
    let key_start = active.find(|c| !is_sep(c))?;
    let key_end = active[key_start..]
        .find(is_sep)
        .map_or(cut, |i| key_start + i);
    let value_start = active[key_end..]
        .find(|c| !is_sep(c))
        .map_or(cut, |i| key_end + i);
    let value_end = active.trim_end_matches(is_sep).len().max(value_start);
    Some(Directive {
        key: key_start..key_end,
        value: value_start..value_end,
    })
}

/// Tabs that bring a name of `len` characters to [`VALUE_COLUMN`]; one tab for longer names.
fn align_tabs(len: usize) -> String {
    let tabs = if len < VALUE_COLUMN {
        VALUE_COLUMN / TAB_WIDTH - len / TAB_WIDTH
    } else {
        1
    };
    "\t".repeat(tabs)
}

/// `Key<TABs>Value`, aligned like Debian's stock file.
fn format_line(key: &str, value: &str) -> String {
    format!("{key}{}{value}", align_tabs(key.len()))
}

/// Option names are `[A-Za-z][A-Za-z0-9]*`: every opendkim.conf(5) parameter has that shape.
fn check_key(key: &str) -> Result<(), EditError> {
    let mut chars = key.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(EditError::BadKey {
            key: key.to_string(),
        })
    }
}

fn strip_cr(body: &str) -> &str {
    body.strip_suffix('\r').unwrap_or(body)
}

impl OpendkimConf {
    /// Parses any text; never fails. Lines OpenDKIM would reject are kept as they are.
    pub fn parse(text: &str) -> OpendkimConf {
        OpendkimConf {
            lines: split_lines(text),
        }
    }

    /// The effective value of `key` (case-insensitive): the last active definition's value, with
    /// any trailing comment and surrounding spaces/tabs removed. `Some("")` for a name with no
    /// value (OpenDKIM rejects that line: "required value missing"). `Include` is not followed.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.find_last(key)
            .map(|(i, d)| &self.lines[i].body[d.value])
    }

    /// Every active definition in file order as `(name as written, value)`, duplicates included.
    pub fn definitions(&self) -> impl Iterator<Item = (&str, &str)> {
        self.lines.iter().filter_map(|l| {
            let d = directive(&l.body)?;
            Some((&l.body[d.key], &l.body[d.value]))
        })
    }

    /// Sets `key` to `value`. If `key` is defined, its last active definition is rewritten in place:
    /// leading whitespace, separator whitespace and trailing comment are kept, and the name is
    /// written with the caller's spelling (see the module note on Debian's init script). Otherwise
    /// `Key<TABs>Value` is appended at the end of the file (use [`OpendkimConf::set_all`] to append
    /// under a header).
    ///
    /// Errors: [`EditError::BadKey`] unless `key` is `[A-Za-z][A-Za-z0-9]*`;
    /// [`EditError::BadValue`] for an empty value, control characters, `#`, or leading/trailing
    /// whitespace (reliability.md G4.7).
    pub fn set(&mut self, key: &str, value: &str) -> Result<Applied, EditError> {
        check_key(key)?;
        check_value(value)?;
        if let Some(applied) = self.rewrite(key, value) {
            return Ok(applied);
        }
        push_line(&mut self.lines, &format_line(key, value));
        Ok(Applied::Appended)
    }

    /// Sets every `(key, value)` in order, as [`OpendkimConf::set`] does for existing options.
    /// Options not yet defined are added in the caller's order as one block under `header` (a
    /// single `#` comment line): if a line equal to `header` already exists, new options go right
    /// after it and the active lines that follow it; otherwise a blank line (unless the file is
    /// empty or already ends with one), `header` and the options are appended. A run that adds
    /// nothing adds no header. Returns what happened to each entry, in order.
    ///
    /// All entries and the header are checked before anything changes; errors are those of
    /// [`OpendkimConf::set`] plus [`EditError::BadHeader`].
    pub fn set_all(
        &mut self,
        header: &str,
        entries: &[(&str, &str)],
    ) -> Result<Vec<Applied>, EditError> {
        check_header(header)?;
        for (key, value) in entries {
            check_key(key)?;
            check_value(value)?;
        }
        let mut applied = Vec::with_capacity(entries.len());
        let mut pending: Vec<(&str, &str)> = Vec::new();
        for &(key, value) in entries {
            if let Some(a) = self.rewrite(key, value) {
                applied.push(a);
            } else if let Some(p) = pending.iter_mut().find(|p| p.0.eq_ignore_ascii_case(key)) {
                *p = (key, value);
                applied.push(Applied::Appended);
            } else {
                pending.push((key, value));
                applied.push(Applied::Appended);
            }
        }
        if !pending.is_empty() {
            self.insert_block(header, &pending);
        }
        Ok(applied)
    }

    fn insert_block(&mut self, header: &str, pending: &[(&str, &str)]) {
        let cr = cr_suffix(&self.lines);
        let new_lines = pending.iter().map(|(k, v)| RawLine {
            body: format!("{}{cr}", format_line(k, v)),
            newline: true,
        });
        let header_at = self.lines.iter().rposition(|l| strip_cr(&l.body) == header);
        if let Some(h) = header_at {
            let mut at = h + 1;
            while at < self.lines.len() && directive(&self.lines[at].body).is_some() {
                at += 1;
            }
            if at == self.lines.len() {
                ensure_final_newline(&mut self.lines);
            }
            self.lines.splice(at..at, new_lines);
        } else {
            let ends_blank = self
                .lines
                .last()
                .is_none_or(|l| l.body.trim_matches([' ', '\t', '\r']).is_empty());
            if !ends_blank {
                push_line(&mut self.lines, "");
            }
            push_line(&mut self.lines, header);
            self.lines.extend(new_lines);
        }
    }

    fn find_last(&self, key: &str) -> Option<(usize, Directive)> {
        self.lines.iter().enumerate().rev().find_map(|(i, l)| {
            let d = directive(&l.body)?;
            l.body[d.key.clone()]
                .eq_ignore_ascii_case(key)
                .then_some((i, d))
        })
    }

    /// Rewrites the last active definition of `key`; `None` if there is none.
    fn rewrite(&mut self, key: &str, value: &str) -> Option<Applied> {
        let (i, d) = self.find_last(key)?;
        let body = &self.lines[i].body;
        let lead = &body[..d.key.start];
        let sep = match &body[d.key.end..d.value.start] {
            "" => align_tabs(key.len()),
            s => s.to_string(),
        };
        let post = &body[d.value.end..];
        let glue = if d.value.is_empty() && post.starts_with('#') {
            " "
        } else {
            ""
        };
        let new = format!("{lead}{key}{sep}{value}{glue}{post}");
        if new == *body {
            return Some(Applied::Unchanged);
        }
        self.lines[i].body = new;
        Some(Applied::Rewritten)
    }
}

impl fmt::Display for OpendkimConf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_lines(&self.lines, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment_matches_stock_file() {
        // Stock lines: "Syslog\t\t\t", "SyslogSuccess\t\t", "Canonicalization\t", "OversignHeaders\t\t".
        assert_eq!(align_tabs("Syslog".len()), "\t\t\t");
        assert_eq!(align_tabs("SyslogSuccess".len()), "\t\t");
        assert_eq!(align_tabs("Canonicalization".len()), "\t");
        assert_eq!(align_tabs("OversignHeaders".len()), "\t\t");
        assert_eq!(align_tabs("TrustAnchorFile".len()), "\t\t");
        assert_eq!(align_tabs("SignatureAlgorithmXXXXXXXX".len()), "\t");
    }

    #[test]
    fn directive_ranges() {
        let body = "  Socket \t local:/x  # c\r";
        let d = directive(body).expect("active line");
        assert_eq!(&body[d.key.clone()], "Socket");
        assert_eq!(&body[d.value.clone()], "local:/x");
        assert!(directive("   # only a comment").is_none());
        assert!(directive(" \t ").is_none());
        assert!(directive("\r").is_none());
    }
}
