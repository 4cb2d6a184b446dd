//! `AnswerError`: why an answers file was refused, phrased for the operator.
use std::error::Error;
use std::fmt;

use crate::values::{PUBLIC_ADDRESS_WHY, PrivateRange, Rule};

use super::{KNOWN_KEYS, example};

/// Why `answers::parse` refused an answers file. Every message starts with `answers:` and
/// names the key (and array index) at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerError {
    /// Not TOML. `line` and `column` are 1-based (column in characters); `key` is the key
    /// that line assigns, when it has one (see `key_of_line`).
    Syntax {
        line: usize,
        column: usize,
        key: Option<String>,
        message: String,
    },
    /// A key that is not one of [`KNOWN_KEYS`] (a typo must not be silently ignored).
    UnknownKey {
        key: String,
        /// The closest known key, if one is within two edits.
        suggestion: Option<&'static str>,
    },
    /// A value of the wrong TOML type, e.g. `key_bits = "2048"`.
    WrongType {
        /// The key, with an index for array elements: `domains[1]`.
        field: String,
        /// What was expected, with article: "a string", "an integer", "an array of strings".
        expected: &'static str,
        /// The TOML type found, as toml_edit names it ("string", "integer", "table", …).
        found: &'static str,
    },
    /// A required key (`hostname`, `domains`) is absent.
    Missing { field: &'static str },
    /// A value of the right type that breaks a rule.
    Invalid {
        /// The key, with an index for array elements: `domains[1]`.
        field: String,
        /// The value as written, escaped with `{:?}` so control characters are visible.
        value: String,
        /// What kind of value was expected, e.g. "domain", "IPv4 address".
        kind: &'static str,
        rule: Rule,
    },
    /// `ipv4`/`ipv6` in a private, CGNAT, documentation or benchmarking range
    /// (`values::private_range`) while `allow_private_ip` is not `true`.
    NotPublic {
        /// `ipv4` or `ipv6`.
        field: &'static str,
        /// The value as written, escaped with `{:?}`.
        value: String,
        range: PrivateRange,
    },
}

impl fmt::Display for AnswerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnswerError::Syntax {
                line,
                column,
                key,
                message,
            } => {
                write!(f, "answers:{line}:{column}: ")?;
                if let Some(key) = key {
                    write!(f, "`{key}`: ")?;
                }
                write!(f, "not valid TOML: {message}")
            }
            AnswerError::UnknownKey { key, suggestion } => {
                write!(f, "answers: unknown key `{key}`")?;
                if let Some(s) = suggestion {
                    write!(f, " (did you mean `{s}`?)")?;
                }
                write!(f, "; known keys: {}", KNOWN_KEYS.join(", "))
            }
            AnswerError::WrongType {
                field,
                expected,
                found,
            } => {
                write!(f, "answers: `{field}` must be {expected}, found {found}")?;
                match example(field) {
                    Some(ex) => write!(f, ", e.g. {ex}"),
                    None => Ok(()),
                }
            }
            AnswerError::Missing { field } => {
                write!(f, "answers: required key `{field}` is missing")?;
                match example(field) {
                    Some(ex) => write!(f, "; add e.g. {ex}"),
                    None => Ok(()),
                }
            }
            AnswerError::Invalid {
                field,
                value,
                kind,
                rule,
            } => write!(
                f,
                "answers: `{field}` = {value} is not a valid {kind}: {rule}"
            ),
            AnswerError::NotPublic {
                field,
                value,
                range,
            } => write!(
                f,
                "answers: `{field}` = {value}: {range}; {PUBLIC_ADDRESS_WHY}\n  fix: give the \
                 public address, or set allow_private_ip = true for a lab or NAT set-up you \
                 publish yourself"
            ),
        }
    }
}

impl Error for AnswerError {}

/// A toml_edit parse error with its byte offset turned into line and column, and the key of
/// that line when [`key_of_line`] finds one (`key_bits = 20 48` → `key_bits`), so the
/// message names the key like every other answers error.
pub(super) fn syntax(text: &str, err: &toml_edit::TomlError) -> AnswerError {
    let offset = err.span().map_or(0, |s| s.start).min(text.len());
    let offset = (0..=offset)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    let line_text = text[line_start..].split('\n').next().unwrap_or_default();
    AnswerError::Syntax {
        line,
        column,
        key: key_of_line(line_text),
        message: err.message().trim().replace('\n', "; "),
    }
}

/// The key a line assigns: the text before its first `=`, trimmed, when that is one bare key
/// (`A-Za-z0-9_-`, TOML 1.0 "Keys") or one quoted key (`"…"` or `'…'`) of printable ASCII
/// other than a backslash or a backtick (so the key is shown as written). `None` for anything
/// else: a line without `=` (inside a multi-line array), a dotted key, a table header. A line
/// inside a multi-line string that looks like `name = …` would be taken for a key; TOML gives
/// no cheaper way to tell.
fn key_of_line(line: &str) -> Option<String> {
    let (before, _) = line.split_once('=')?;
    let k = before.trim();
    if !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Some(k.to_string());
    }
    let inner = ['"', '\''].into_iter().find_map(|q| {
        k.strip_prefix(q)?
            .strip_suffix(q)
            .filter(|i| !i.contains(q))
    })?;
    let printable = !inner.is_empty()
        && inner
            .bytes()
            .all(|b| (b' '..=b'~').contains(&b) && !matches!(b, b'\\' | b'`'));
    printable.then(|| inner.to_string())
}

/// The known key closest to `key` within two edits (Levenshtein), for "did you mean".
pub(super) fn suggest(key: &str) -> Option<&'static str> {
    KNOWN_KEYS
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}
