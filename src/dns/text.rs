//! DNS text as untrusted input: length caps and [`sanitize`] for display.
//!
//! A TXT RR can carry up to ~64 KiB and any bytes, including terminal escape sequences
//! (ECMA-48 CSI/OSC/DCS) and Unicode bidirectional controls (CVE-2021-42574, "Trojan Source").
//! Record text is capped when read; everything shown to a user goes through [`sanitize`].

/// Bytes kept of one record (a 4096-bit RSA DKIM record is about 750 bytes).
pub const MAX_RECORD_BYTES: usize = 4096;
/// Records kept of one answer.
pub const MAX_RECORDS: usize = 64;

/// The first [`MAX_RECORD_BYTES`] of `bytes` as text; invalid UTF-8 becomes U+FFFD.
pub(super) fn capped_lossy(bytes: &[u8]) -> String {
    let end = bytes.len().min(MAX_RECORD_BYTES);
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// A DNS name as we compare host names: lowercase, no trailing dot; the root stays ".".
pub(super) fn host_name(ascii: &str) -> String {
    let lower = ascii.to_ascii_lowercase();
    match lower.strip_suffix('.') {
        Some("") | None => lower,
        Some(rest) => rest.to_string(),
    }
}

/// Text safe to print on a terminal: escape sequences (ESC or C1 introduced: CSI, OSC, DCS,
/// SOS, PM, APC, and two-byte ESC sequences) are removed, other C0/C1 controls and DEL are
/// removed (TAB, LF and CR become a space), bidirectional formatting characters are removed,
/// and a result longer than [`MAX_RECORD_BYTES`] bytes is cut to that length, ending in `…`.
/// Idempotent: `sanitize(&sanitize(s)) == sanitize(s)`.
pub fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(MAX_RECORD_BYTES));
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                Some('[') => skip_csi(&mut chars),
                Some(']' | 'P' | 'X' | '^' | '_') => skip_string(&mut chars),
                _ => {} // two-byte sequence (or a lone ESC at the end): both dropped
            },
            '\u{9b}' => skip_csi(&mut chars),
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            '\t' | '\n' | '\r' => out.push(' '),
            c if c.is_control() || is_bidi(c) => {}
            c => out.push(c),
        }
        if out.len() > MAX_RECORD_BYTES {
            break;
        }
    }
    if out.len() > MAX_RECORD_BYTES {
        let mut end = MAX_RECORD_BYTES - '…'.len_utf8();
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
        out.push('…');
    }
    out
}

/// CSI: parameter and intermediate bytes up to a final byte 0x40..=0x7E (ECMA-48 §5.4).
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            return;
        }
    }
}

/// A control string (OSC, DCS, …) up to BEL, ST (ESC `\`) or C1 ST (ECMA-48 §5.6).
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => return,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                return;
            }
            _ => {}
        }
    }
}

/// Unicode bidirectional formatting characters (UAX #9 §2): LRM, RLM, ALM, the embeddings,
/// overrides and isolates.
fn is_bidi(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_escape_sequences_and_controls() {
        let cases = [
            ("v=spf1 \u{1b}[31mred\u{1b}[0m -all", "v=spf1 red -all"),
            ("a\u{1b}]0;owned\u{7}b", "ab"),
            (
                "a\u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\b",
                "alinkb",
            ),
            ("a\u{1b}Pdcs\u{1b}\\b", "ab"),
            ("a\u{9b}2Jb", "ab"),
            ("a\u{1b}cb", "ab"),
            ("a\u{0}\u{7}\u{8}\u{7f}b", "ab"),
            ("a\tb\nc\rd", "a b c d"),
            ("p=\u{202e}cba\u{2069}", "p=cba"),
            ("trailing esc\u{1b}", "trailing esc"),
            ("unterminated \u{1b}[31", "unterminated "),
            ("ünïcödé ✓", "ünïcödé ✓"),
        ];
        for (input, want) in cases {
            assert_eq!(sanitize(input), want, "{input:?}");
        }
    }

    #[test]
    fn caps_length_on_a_char_boundary() {
        let long = "é".repeat(MAX_RECORD_BYTES);
        let s = sanitize(&long);
        assert!(s.ends_with('…'));
        assert!(s.len() <= MAX_RECORD_BYTES);
        assert!(s.len() > MAX_RECORD_BYTES - 8);
        assert_eq!(sanitize("short"), "short");
    }

    #[test]
    fn sanitize_is_idempotent() {
        for s in [
            "x\u{1b}[1;31my",
            "a\u{9b}b",
            &"z".repeat(MAX_RECORD_BYTES + 10),
        ] {
            let once = sanitize(s);
            assert_eq!(sanitize(&once), once);
        }
    }

    #[test]
    fn capped_lossy_cuts_and_replaces() {
        assert_eq!(capped_lossy(b"ok\xff"), "ok\u{fffd}");
        assert_eq!(
            capped_lossy(&[b'a'; MAX_RECORD_BYTES + 5]).len(),
            MAX_RECORD_BYTES
        );
    }

    #[test]
    fn host_names_compare_lowercase_without_dot() {
        assert_eq!(host_name("Mail.Example.ORG."), "mail.example.org");
        assert_eq!(host_name("."), ".");
        assert_eq!(host_name("x"), "x");
    }
}
