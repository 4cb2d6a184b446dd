//! OpenDKIM's flat-file data sets: KeyTable, SigningTable and TrustedHosts (used for
//! `InternalHosts` / `ExternalIgnoreList`), with lossless parsing and merge-style edits that keep
//! every operator entry, add what is missing, never duplicate a key and report conflicts.
//!
//! Line syntax follows `dkimf_db_open` in opendkim/opendkim-db.c (OpenDKIM 2.11) and opendkim(8)
//! "DATA SETS": a line is cut at the first `#` (anywhere) and read with `fgets` into 1024 bytes;
//! whitespace is C `isspace`.
//! - `file:` (plain path; how mailsetup names the KeyTable): the line is trimmed, the key is the
//!   first word, the value is the rest, trimmed.
//! - `refile:` (how mailsetup names the SigningTable and TrustedHosts): the key runs from the start
//!   of the line to the first whitespace, so an indented line has an empty key and is ignored; keys
//!   are patterns in which `*` is a wildcard and other regex characters stay live
//!   (`dkimf_mkregexp`, reliability.md §4), so keys with `| ( ) [ ] { } ? ^ $ \` are refused.
//!
//! The first matching line wins in both forms, so [`KeyTable::get`] returns the first definition.
//! Keys compare ASCII-case-insensitively (domain names); values compare after collapsing
//! whitespace runs.

use std::fmt;

use super::{EditError, RawLine, check_header, check_value, push_line, split_lines, write_lines};

/// Longest line (bytes before the `\n`) OpenDKIM reads whole: `fgets(line, BUFRSZ = 1024)` keeps
/// 1023 bytes including the newline.
pub const MAX_LINE: usize = 1022;

/// Outcome of an `ensure` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ensure {
    /// The key (or TrustedHosts entry) is already there with the same value; nothing changed.
    Present,
    /// A `key value` (or `entry`) line was appended.
    Added,
    /// The key is there with a different value (`""` if it has none); nothing changed. The operator's
    /// entry wins in OpenDKIM (first match), so the caller must report this.
    Conflict { existing: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    File,
    Refile,
}

/// C `isspace` in the "C" locale: space, \t, \n, \v, \f, \r.
fn c_isspace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// Reads one line as `dkimf_db_open` does: `(key, value)`, or `None` for lines it skips.
fn entry(body: &str, dialect: Dialect) -> Option<(&str, Option<&str>)> {
    let active = &body[..body.find(['#', '\0']).unwrap_or(body.len())];
    let line = match dialect {
        Dialect::File => active.trim_matches(c_isspace),
        Dialect::Refile => active,
    };
    let key_end = line.find(c_isspace).unwrap_or(line.len());
    let key = &line[..key_end];
    if key.is_empty() {
        return None;
    }
    let value = line[key_end..].trim_matches(c_isspace);
    Some((key, (!value.is_empty()).then_some(value)))
}

fn normalise(value: &str) -> String {
    value
        .split(c_isspace)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A table key: a value (G4.7) without whitespace; in `refile:` tables also no live regex syntax.
fn check_key(key: &str, dialect: Dialect) -> Result<(), EditError> {
    check_value(key)?;
    let bad = |reason| {
        Err(EditError::BadValue {
            value: key.to_string(),
            reason,
        })
    };
    if key.contains(char::is_whitespace) {
        return bad("table keys may not contain whitespace");
    }
    if dialect == Dialect::Refile
        && key.contains(['|', '(', ')', '[', ']', '{', '}', '?', '^', '$', '\\'])
    {
        return bad("refile: patterns may not contain regex syntax other than '*'");
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Table {
    lines: Vec<RawLine>,
    dialect: Dialect,
}

impl Table {
    fn parse(text: &str, dialect: Dialect) -> Table {
        Table {
            lines: split_lines(text),
            dialect,
        }
    }

    fn with_header(header: &str, dialect: Dialect) -> Result<Table, EditError> {
        check_header(header)?;
        Ok(Table {
            lines: vec![RawLine {
                body: header.to_string(),
                newline: true,
            }],
            dialect,
        })
    }

    fn parse_or_new(text: &str, header: &str, dialect: Dialect) -> Result<Table, EditError> {
        if text.is_empty() {
            Table::with_header(header, dialect)
        } else {
            Ok(Table::parse(text, dialect))
        }
    }

    fn entries(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.lines
            .iter()
            .filter_map(|l| entry(&l.body, self.dialect))
    }

    fn find(&self, key: &str) -> Option<(&str, Option<&str>)> {
        self.entries().find(|(k, _)| k.eq_ignore_ascii_case(key))
    }

    /// Appends `line` after checking OpenDKIM can read it as one line.
    fn append(&mut self, line: &str) -> Result<(), EditError> {
        if line.len() > MAX_LINE {
            return Err(EditError::LineTooLong {
                len: line.len(),
                max: MAX_LINE,
            });
        }
        push_line(&mut self.lines, line);
        Ok(())
    }

    /// Replaces the value of the first entry for `key` (the one OpenDKIM uses), keeping the
    /// line's key as written and its line ending; Ok(false) when there is no such entry.
    fn replace_value(&mut self, key: &str, value: &str) -> Result<bool, EditError> {
        check_value(value)?;
        let dialect = self.dialect;
        let Some(line) = self
            .lines
            .iter_mut()
            .find(|l| entry(&l.body, dialect).is_some_and(|(k, _)| k.eq_ignore_ascii_case(key)))
        else {
            return Ok(false);
        };
        let cr = if line.body.ends_with('\r') { "\r" } else { "" };
        let written_key = entry(&line.body, dialect)
            .map(|(k, _)| k.to_string())
            .unwrap_or_default();
        let new = format!("{written_key} {}", normalise(value));
        if new.len() > MAX_LINE {
            return Err(EditError::LineTooLong {
                len: new.len(),
                max: MAX_LINE,
            });
        }
        line.body = format!("{new}{cr}");
        Ok(true)
    }

    /// Removes every entry for `key`; how many lines went.
    fn remove_key(&mut self, key: &str) -> usize {
        let dialect = self.dialect;
        let before = self.lines.len();
        self.lines
            .retain(|l| !entry(&l.body, dialect).is_some_and(|(k, _)| k.eq_ignore_ascii_case(key)));
        before - self.lines.len()
    }

    fn ensure_pair(&mut self, key: &str, value: &str) -> Result<Ensure, EditError> {
        check_key(key, self.dialect)?;
        check_value(value)?;
        let wanted = normalise(value);
        if let Some((_, existing)) = self.find(key) {
            let existing = existing.unwrap_or("");
            return Ok(if normalise(existing) == wanted {
                Ensure::Present
            } else {
                Ensure::Conflict {
                    existing: existing.to_string(),
                }
            });
        }
        self.append(&format!("{key} {wanted}"))?;
        Ok(Ensure::Added)
    }
}

macro_rules! table_type {
    ($(#[$doc:meta])* $name:ident, $dialect:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(Table);

        impl $name {
            /// Parses any text; never fails. `Display` gives it back byte for byte.
            pub fn parse(text: &str) -> $name {
                $name(Table::parse(text, $dialect))
            }

            /// A new table file holding only `header` (one `#` line), e.g.
            /// `# KeyTable: managed by mailsetup; operator entries are kept`.
            /// Errors: [`EditError::BadHeader`].
            pub fn new_with_header(header: &str) -> Result<$name, EditError> {
                Table::with_header(header, $dialect).map($name)
            }

            /// [`Self::new_with_header`] if `text` is empty (a missing or empty file), else
            /// [`Self::parse`] (the header is checked either way).
            pub fn parse_or_new(text: &str, header: &str) -> Result<$name, EditError> {
                check_header(header)?;
                Table::parse_or_new(text, header, $dialect).map($name)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_lines(&self.0.lines, f)
            }
        }
    };
}

macro_rules! key_value_api {
    ($name:ident) => {
        impl $name {
            /// The value of the first entry whose key equals `key` (ASCII case-insensitive), as
            /// OpenDKIM would use it; `Some("")` for a key with no value.
            pub fn get(&self, key: &str) -> Option<&str> {
                self.0.find(key).map(|(_, v)| v.unwrap_or(""))
            }

            /// Every entry `(key, value)` in file order, as OpenDKIM reads them.
            pub fn entries(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
                self.0.entries()
            }
        }
    };
}

table_type!(
    /// The KeyTable (opendkim.conf(5) KeyTable), read as a plain file: lines
    /// `<selector>._domainkey.<domain> <domain>:<selector>:<keypath>`.
    KeyTable,
    Dialect::File
);
key_value_api!(KeyTable);

impl KeyTable {
    /// Makes sure `key` maps to `value`: [`Ensure::Present`], [`Ensure::Added`] (line `key value`
    /// appended) or [`Ensure::Conflict`] (nothing changed). `value` must be
    /// `domain:selector:/absolute/keypath`: a third field not starting with `/` would be read as
    /// inline key data (opendkim.conf(5) KeyTable; reliability.md G3.5).
    ///
    /// Errors: [`EditError::BadValue`] (empty, control characters, `#`, whitespace in the key,
    /// leading/trailing whitespace, bad value shape), [`EditError::LineTooLong`].
    pub fn ensure(&mut self, key: &str, value: &str) -> Result<Ensure, EditError> {
        let mut fields = value.splitn(3, ':');
        let shaped = matches!(
            (fields.next(), fields.next(), fields.next()),
            (Some(d), Some(s), Some(p)) if !d.is_empty() && !s.is_empty() && p.starts_with('/')
        );
        if !shaped {
            return Err(EditError::BadValue {
                value: value.to_string(),
                reason: "KeyTable values must be domain:selector:/absolute/key/path",
            });
        }
        self.0.ensure_pair(key, value)
    }

    /// Removes every line for `key` (a key rotation retiring a selector); how many went.
    pub fn remove(&mut self, key: &str) -> usize {
        self.0.remove_key(key)
    }

    /// [`KeyTable::ensure`] for the entry mailsetup writes:
    /// `<selector>._domainkey.<domain> <domain>:<selector>:<key_path>`.
    pub fn ensure_key(
        &mut self,
        domain: &str,
        selector: &str,
        key_path: &str,
    ) -> Result<Ensure, EditError> {
        self.ensure(
            &format!("{selector}._domainkey.{domain}"),
            &format!("{domain}:{selector}:{key_path}"),
        )
    }
}

table_type!(
    /// The SigningTable, read as a `refile:` table (opendkim.conf(5) SigningTable; `*@domain` keys
    /// need `refile:`, postfix-opendkim.md §2.6): lines `*@<domain> <selector>._domainkey.<domain>`.
    /// Order matters: the first matching pattern wins, so an earlier broader operator pattern
    /// shadows an appended entry.
    SigningTable,
    Dialect::Refile
);
key_value_api!(SigningTable);

impl SigningTable {
    /// Makes sure the pattern `key` maps to `value`; see [`Ensure`]. Errors:
    /// [`EditError::BadValue`] (as for [`KeyTable::ensure`], plus regex syntax in the key),
    /// [`EditError::LineTooLong`].
    pub fn ensure(&mut self, key: &str, value: &str) -> Result<Ensure, EditError> {
        self.0.ensure_pair(key, value)
    }

    /// Points the first entry for the pattern `key` (the one OpenDKIM uses) at `value` in
    /// place (a key rotation's switch): the rest of the file stays byte for byte. Ok(false)
    /// when the pattern has no entry. Errors: as [`SigningTable::ensure`].
    pub fn set(&mut self, key: &str, value: &str) -> Result<bool, EditError> {
        check_key(key, Dialect::Refile)?;
        self.0.replace_value(key, value)
    }

    /// [`SigningTable::ensure`] for `*@<domain> <selector>._domainkey.<domain>`.
    pub fn ensure_domain(&mut self, domain: &str, selector: &str) -> Result<Ensure, EditError> {
        self.ensure(
            &format!("*@{domain}"),
            &format!("{selector}._domainkey.{domain}"),
        )
    }
}

table_type!(
    /// TrustedHosts, the file mailsetup names in `InternalHosts` and `ExternalIgnoreList` as a
    /// `refile:` table: one entry per line (IP, CIDR or host name; opendkim.conf(5) PeerList form).
    /// Anything after an entry's first whitespace is ignored by OpenDKIM here.
    TrustedHosts,
    Dialect::Refile
);

impl TrustedHosts {
    /// Whether `entry` is listed (ASCII case-insensitive).
    pub fn contains(&self, entry: &str) -> bool {
        self.0.find(entry).is_some()
    }

    /// Every entry in file order.
    pub fn entries(&self) -> impl Iterator<Item = &str> {
        self.0.entries().map(|(k, _)| k)
    }

    /// Appends `entry` unless listed: [`Ensure::Present`] or [`Ensure::Added`]. Errors:
    /// [`EditError::BadValue`] (empty, whitespace, control characters, `#`, regex syntax),
    /// [`EditError::LineTooLong`].
    pub fn ensure(&mut self, entry: &str) -> Result<Ensure, EditError> {
        check_key(entry, Dialect::Refile)?;
        if self.contains(entry) {
            return Ok(Ensure::Present);
        }
        self.0.append(entry)?;
        Ok(Ensure::Added)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_replaces_the_first_entry_in_place_and_remove_drops_lines() {
        let text = "# head\n*@example.org  mail._domainkey.example.org # old\r\n*@b.example x\n";
        let mut st = SigningTable::parse(text);
        assert!(
            st.set("*@EXAMPLE.org", "s2._domainkey.example.org")
                .unwrap()
        );
        assert_eq!(
            st.to_string(),
            "# head\n*@example.org s2._domainkey.example.org\r\n*@b.example x\n"
        );
        assert!(!st.set("*@c.example", "y").unwrap());
        let mut kt = KeyTable::parse("a k:a:/x\nb k:b:/y\n# a\n");
        assert_eq!(kt.remove("A"), 1);
        assert_eq!(kt.to_string(), "b k:b:/y\n# a\n");
    }

    #[test]
    fn refile_ignores_indented_lines_file_does_not() {
        assert_eq!(entry("  a.example b", Dialect::Refile), None);
        assert_eq!(
            entry("  a.example b", Dialect::File),
            Some(("a.example", Some("b")))
        );
        assert_eq!(
            entry("k\tv  w \r", Dialect::Refile),
            Some(("k", Some("v  w")))
        );
        assert_eq!(entry("k#v", Dialect::File), Some(("k", None)));
        assert_eq!(entry("#k v", Dialect::File), None);
        assert_eq!(entry("k\x0bv", Dialect::Refile), Some(("k", Some("v"))));
    }
}
