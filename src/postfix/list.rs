//! Postfix list values and the brace-aware tokenizer behind them (Postfix `mystrtokq()`,
//! `src/util/mystrtok.c`), shared by [`split_list`] and the master.cf field splitter.

use std::ops::Range;

/// Separators of list values: postconf(5) "separated by comma or whitespace"
/// (Postfix `CHARS_COMMA_SP`).
pub(crate) const LIST_SEPARATORS: &[u8] = b", \t\r\n";

/// Splits a Postfix list value (postconf(5): "separated by comma or whitespace") into its
/// elements, keeping `{ ... }` groups whole, as Postfix's `mystrtokq()` does.
///
/// Elements are returned as written, braces included: `"{ inet:h:8891, connect_timeout=10s },
/// local:x"` gives `["{ inet:h:8891, connect_timeout=10s }", "local:x"]`. An unclosed `{`
/// extends its element to the end of the value; a `}` outside any group is an ordinary
/// character. Empty elements (`a,,b`) are skipped. This is how `smtpd_milters` and
/// `non_smtpd_milters` are read (postconf(5), MILTER_README "Advanced configuration").
pub fn split_list(value: &str) -> Vec<String> {
    tokenize(value, LIST_SEPARATORS)
        .into_iter()
        .map(|r| value[r].to_string())
        .collect()
}

/// Byte ranges of the tokens of `text`, split at any of `separators` (ASCII) outside `{ }`.
/// Mirrors `mystrtokq(&cp, separators, "{}")`: leading separators are skipped; inside a
/// group, separators are part of the token; only a `}` closes a group.
pub(crate) fn tokenize(text: &str, separators: &[u8]) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut pos = 0;
    loop {
        while pos < bytes.len() && separators.contains(&bytes[pos]) {
            pos += 1;
        }
        if pos == bytes.len() {
            return tokens;
        }
        let start = pos;
        let mut level = 0usize;
        while pos < bytes.len() {
            match bytes[pos] {
                b'{' => level += 1,
                b'}' if level > 0 => level -= 1,
                b if level == 0 && separators.contains(&b) => break,
                _ => {}
            }
            pos += 1;
        }
        // Separators and braces are ASCII, so `start` and `pos` are char boundaries.
        tokens.push(start..pos);
    }
}

/// Whether `{` and `}` in `text` pair up (every `}` closes an open `{`, none stays open).
pub(crate) fn braces_balanced(text: &str) -> bool {
    let mut level = 0usize;
    for b in text.bytes() {
        match b {
            b'{' => level += 1,
            b'}' if level == 0 => return false,
            b'}' => level -= 1,
            _ => {}
        }
    }
    level == 0
}
