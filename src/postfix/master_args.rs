//! The arguments after a master.cf service's command, read the way the Postfix daemon that
//! receives them reads them, while remembering where each piece came from so it can be edited
//! in place.
//!
//! master(8) splits the entry at whitespace, keeping `{ … }` groups whole and unwrapping them
//! (`extpar()`, `src/master/master_ent.c`, Postfix ≥ 3.0). Postfix daemons then parse their
//! options with getopt(3) and the option string `+cdDi:lm:n:o:s:St:uvVz` (`single_server.c`,
//! `multi_server.c`, `event_server.c`, `trigger_server.c`; `+`: no reordering): options end
//! at the first argument that does not start with `-`, at `--`, or at a lone `-`; `i m n o s t`
//! take a value, attached (`-oname=value`) or as the next argument (`-o name=value`,
//! `-o { name = value }`), and letters combine (`-vo name=value`). Each `-o` value is
//! `name=value` (`split_nameval()`); the last one of a name wins. Arguments after the options
//! (pipe(8)'s `flags=… argv=…`) go to the command and are not daemon options.
//!
//! `postconf -P` reads the same except for odd spellings: it only knows that `o` takes a value,
//! and it splits an attached `-oname=value` again at any later `o`. Both agree on the
//! `-o name=value` form, which is the only one written here.

use std::ops::Range;

use super::lines::{is_space, split_nameval};

/// Option letters that take a value (the `x:` letters of `cdDi:lm:n:o:s:St:uvVz`).
const TAKES_VALUE: &[u8] = b"imnost";

/// Where one `-o` value is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OptionAt {
    /// Offsets in the logical line of the value text (the whole `{ … }` group if braced).
    pub span: Range<usize>,
    /// The value is attached to its option letter (`-oname=value`), not a token of its own.
    pub attached: bool,
}

/// What the arguments of one service say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Parsed {
    /// The arguments as master(8) passes them: whitespace-separated, `{ }` groups unwrapped.
    pub args: Vec<String>,
    /// Every `-o name=value`, in order.
    pub options: Vec<(String, String)>,
    /// For each option, where its value is written.
    pub option_at: Vec<OptionAt>,
    /// Offset in the logical line of the token a new `-o` must precede: the first argument
    /// after the options (or `--`), or a trailing option that lacks its value. `None`: a new
    /// `-o` goes after the last argument.
    pub insert_at: Option<usize>,
}

/// Reads the arguments in `tokens` (ranges of `text`, the logical line, after the command).
pub(crate) fn parse(text: &str, tokens: &[Range<usize>]) -> Parsed {
    let args: Vec<String> = tokens
        .iter()
        .map(|r| unwrap_braces(&text[r.clone()]))
        .collect();
    let mut parsed = Parsed::default();
    let mut i = 0;
    while i < tokens.len() {
        let token = &text[tokens[i].clone()];
        if !token.starts_with('-') || token == "-" || token == "--" {
            parsed.insert_at = Some(tokens[i].start);
            break;
        }
        let letters = token.as_bytes();
        if let Some(k) = (1..letters.len()).find(|&k| TAKES_VALUE.contains(&letters[k])) {
            let (value, at) = if k + 1 < letters.len() {
                let span = tokens[i].start + k + 1..tokens[i].end;
                (
                    &token[k + 1..],
                    OptionAt {
                        span,
                        attached: true,
                    },
                )
            } else if i + 1 < tokens.len() {
                i += 1;
                let span = tokens[i].clone();
                (
                    args[i].as_str(),
                    OptionAt {
                        span,
                        attached: false,
                    },
                )
            } else {
                // A trailing "-o" would take a new "-o" as its value: add new ones before it.
                parsed.insert_at = Some(tokens[i].start);
                break;
            };
            if letters[k] == b'o'
                && let Some((name, val)) = split_nameval(value)
            {
                parsed.options.push((name.to_string(), val.to_string()));
                parsed.option_at.push(at);
            }
        }
        i += 1;
    }
    parsed.args = args;
    parsed
}

/// An argument as master(8) passes it: a token starting with `{` is replaced by the text
/// inside the group (to the end if never closed), without surrounding whitespace
/// (`extpar(…, "{}", EXTPAR_FLAG_STRIP)`).
fn unwrap_braces(token: &str) -> String {
    if !token.starts_with('{') {
        return token.to_string();
    }
    let mut level = 0usize;
    let mut close = token.len();
    for (i, b) in token.bytes().enumerate() {
        match b {
            b'{' => level += 1,
            b'}' => {
                level -= 1;
                if level == 0 {
                    close = i;
                    break;
                }
            }
            _ => {}
        }
    }
    token[1..close].trim_matches(is_space).to_string()
}
