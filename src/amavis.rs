//! amavisd-new as a DKIM signer, read from its configuration and from `amavisd showkeys`.
//! Pure: the texts come from [`crate::plan::Current`] and [`crate::host::probe`].
//!
//! Sources: amavisd-new's README.dkim and amavisd.conf-default (`$enable_dkim_signing`,
//! `dkim_key($domain, $selector, $key_file, ...)`); amavisd(8) `showkeys`, which prints each
//! declared key's public half as a zone-file TXT record; Debian reads
//! /etc/amavis/conf.d/* in name order, each a Perl file, a later assignment winning.

use std::path::PathBuf;

/// Debian's configuration snippets, read in name order.
pub const CONF_D: &str = "/etc/amavis/conf.d";
/// The daemon (Debian 12 names it `amavisd`; older releases `amavisd-new`).
pub const AMAVISD: &str = "/usr/sbin/amavisd";
/// The Perl variable that turns DKIM signing on (amavisd.conf-default).
pub const SIGNING_VAR: &str = "$enable_dkim_signing";

/// Whether amavisd-new reads a conf.d file of this name: Debian's amavisd-new lists the
/// directory with `run-parts --list` (Amavis::Util::find_config_files), which takes only
/// names of ASCII letters, digits, `_` and `-` (run-parts(8)); `50-user.dpkg-old` or a
/// backup `50-user.mailsetup-…` is not read.
pub fn is_read(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// One live assignment `$enable_dkim_signing = VALUE;` in a line: the byte range of VALUE
/// within the line, and whether Perl takes it as true.
fn assignment(line: &str) -> Option<(std::ops::Range<usize>, bool)> {
    let code = code_part(line);
    let at = code.find(SIGNING_VAR)?;
    let after = at + SIGNING_VAR.len();
    let rest = &code[after..];
    // `$enable_dkim_signing_x` is another variable; `==` is a comparison
    if rest.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
        return None;
    }
    let eq = rest.find(|c: char| !c.is_whitespace())?;
    if !rest[eq..].starts_with('=') || rest[eq..].starts_with("==") {
        return None;
    }
    let value_from = after + eq + 1;
    let tail = &code[value_from..];
    let lead = tail.len() - tail.trim_start().len();
    let end = tail.find(';').unwrap_or(tail.len());
    let value = tail[..end].trim();
    let start = value_from + lead;
    Some((start..start + value.len(), perl_true(value)))
}

/// The line before a `#` comment (a `#` inside a quoted string is not looked for: the
/// assignments this reads are plain numbers).
fn code_part(line: &str) -> &str {
    line.split('#').next().unwrap_or("")
}

/// Perl truth of a literal: false for `0`, `''`, `""`, `'0'`, `"0"`, `undef` and nothing.
fn perl_true(value: &str) -> bool {
    !matches!(
        value,
        "" | "0" | "''" | "\"\"" | "'0'" | "\"0\"" | "undef" | "0.0"
    )
}

/// Whether the files, read in order as amavisd-new reads them, leave
/// `$enable_dkim_signing` true (the last live assignment wins; unset is off).
pub fn signs<'a>(files: impl IntoIterator<Item = &'a str>) -> bool {
    files
        .into_iter()
        .flat_map(str::lines)
        .filter_map(assignment)
        .last()
        .is_some_and(|(_, on)| on)
}

/// `text` with every live assignment that turns signing on changed to
/// `$enable_dkim_signing = 0;`: only the value's bytes change; comments, other lines and
/// line endings stay byte for byte. Idempotent.
pub fn turn_signing_off(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        match assignment(line) {
            Some((range, true)) => {
                out.push_str(&line[..range.start]);
                out.push('0');
                out.push_str(&line[range.end..]);
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// A `dkim_key('example.org', 'dkim', '/var/lib/amavis/dkim/example.org.pem');` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDecl {
    pub domain: String,
    pub selector: String,
    pub path: PathBuf,
}

/// Every live `dkim_key(...)` call of `text` whose first three arguments are quoted
/// strings (the form README.dkim shows); others are skipped.
pub fn key_decls(text: &str) -> Vec<KeyDecl> {
    let mut out = Vec::new();
    for line in text.lines() {
        let code = code_part(line);
        let Some(at) = code.find("dkim_key") else {
            continue;
        };
        let Some(open) = code[at..].find('(') else {
            continue;
        };
        let args = quoted_strings(&code[at + open + 1..]);
        if let [domain, selector, path, ..] = args.as_slice() {
            out.push(KeyDecl {
                domain: domain.to_ascii_lowercase(),
                selector: selector.clone(),
                path: PathBuf::from(path),
            });
        }
    }
    out
}

/// The `'…'` or `"…"` strings of `s` in order, up to the first `)` outside one.
fn quoted_strings(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => out.push(chars.by_ref().take_while(|&d| d != c).collect()),
            ')' => break,
            _ => {}
        }
    }
    out
}

/// One key as `amavisd showkeys` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownKey {
    pub domain: String,
    pub selector: String,
    /// The `p=` value: base64 of the DER SubjectPublicKeyInfo.
    pub p: String,
    pub bits: Option<usize>,
}

/// Parse `amavisd showkeys`: per key, a comment `; key#1 2048 bits, s=dkim, d=example.org,
/// /path` and then `dkim._domainkey.example.org. 3600 TXT ( "v=DKIM1; p=" "MIIB…" … )`, the
/// quoted strings joined. Keys without a `p=` are left out.
pub fn parse_showkeys(text: &str) -> Vec<ShownKey> {
    let mut out = Vec::new();
    let mut current: Option<(String, String, Option<usize>, String)> = None;
    let mut finish = |cur: Option<(String, String, Option<usize>, String)>| {
        if let Some((domain, selector, bits, txt)) = cur {
            let p = txt
                .split(';')
                .filter_map(|tag| tag.trim().strip_prefix("p="))
                .next()
                .map(|p| p.split_whitespace().collect::<String>());
            if let Some(p) = p.filter(|p| !p.is_empty()) {
                out.push(ShownKey {
                    domain,
                    selector,
                    p,
                    bits,
                });
            }
        }
    };
    for line in text.lines() {
        if let Some(comment) = line.trim_start().strip_prefix(';') {
            if comment.trim_start().starts_with("key#") {
                finish(current.take());
                let tag = |name: &str| {
                    comment
                        .split(',')
                        .find_map(|f| f.trim().strip_prefix(name).map(str::to_string))
                };
                let bits = comment
                    .split_whitespace()
                    .nth(1)
                    .and_then(|b| b.parse().ok());
                if let (Some(s), Some(d)) = (tag("s="), tag("d=")) {
                    current = Some((d.to_ascii_lowercase(), s, bits, String::new()));
                }
            }
            continue;
        }
        if let Some((_, _, _, txt)) = current.as_mut() {
            for piece in quoted_strings_all(line) {
                txt.push_str(&piece);
            }
        }
    }
    finish(current.take());
    out
}

/// Every `"…"` string of a line.
fn quoted_strings_all(line: &str) -> Vec<String> {
    line.split('"')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBIAN_DEFAULTS: &str =
        include_str!("../tests/fixtures/amavis/conf.d/20-debian_defaults");
    const SHOWKEYS: &str = include_str!("../tests/fixtures/amavis/showkeys.out");

    #[test]
    fn only_the_names_run_parts_lists_are_read() {
        for name in ["01-debian", "50-user", "99_local"] {
            assert!(is_read(name), "{name}");
        }
        for name in [
            "50-user.mailsetup-20261206T042153Z",
            "50-user.dpkg-old",
            "x~",
            ".x",
            "",
        ] {
            assert!(!is_read(name), "{name}");
        }
    }

    #[test]
    fn debian_stock_conf_d_does_not_sign() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/amavis/conf.d");
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .expect("fixture")
            .map(|e| e.expect("entry").path())
            .collect();
        names.sort();
        let texts: Vec<String> = names
            .iter()
            .map(|p| std::fs::read_to_string(p).expect("text"))
            .collect();
        assert!(!signs(texts.iter().map(String::as_str)));
        // the stock files have nothing to edit
        for t in &texts {
            assert_eq!(&turn_signing_off(t), t);
        }
    }

    #[test]
    fn the_last_live_assignment_wins_and_comments_do_not_count() {
        assert!(signs(["$enable_dkim_signing = 1;\n"]));
        assert!(signs(["$enable_dkim_signing=1; # sign\n"]));
        assert!(!signs(["# $enable_dkim_signing = 1;\n"]));
        assert!(!signs([
            "$enable_dkim_signing = 1;\n",
            "$enable_dkim_signing = 0;\n"
        ]));
        assert!(signs([
            "$enable_dkim_signing = 0;\n",
            "$enable_dkim_signing = 1;\n"
        ]));
        assert!(!signs(["$enable_dkim_signing == 1;\n"]));
        assert!(!signs(["$enable_dkim_signing_x = 1;\n"]));
        assert!(!signs([""]));
        // the verification switch in Debian's defaults is another variable
        assert!(!signs([DEBIAN_DEFAULTS]));
    }

    #[test]
    fn turning_signing_off_changes_only_the_live_value() {
        let text = "use strict;\r\n# $enable_dkim_signing = 1;  keep this comment\n\
                    $enable_dkim_signing   =  1 ;  # on, says the operator\n\
                    $enable_dkim_verification = 1;\n\
                    dkim_key('example.org', 'dkim', '/var/lib/amavis/dkim/example.org.pem');\n\
                    1;  # ensure a defined return";
        let off = turn_signing_off(text);
        assert_eq!(
            off,
            "use strict;\r\n# $enable_dkim_signing = 1;  keep this comment\n\
             $enable_dkim_signing   =  0 ;  # on, says the operator\n\
             $enable_dkim_verification = 1;\n\
             dkim_key('example.org', 'dkim', '/var/lib/amavis/dkim/example.org.pem');\n\
             1;  # ensure a defined return"
        );
        assert!(!signs([off.as_str()]));
        assert_eq!(turn_signing_off(&off), off, "idempotent");
        // the same length: only the value's bytes differ
        let changed: Vec<usize> = text
            .bytes()
            .zip(off.bytes())
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(changed.len(), 1);
        assert_eq!(
            turn_signing_off("$enable_dkim_signing = 'yes';\n"),
            "$enable_dkim_signing = 0;\n"
        );
    }

    #[test]
    fn key_declarations_are_read_from_live_lines() {
        let text = "dkim_key('Example.org', 'dkim', '/var/lib/amavis/dkim/example.org.pem');\n\
                    # dkim_key('old.example', 's', '/x.pem');\n\
                    dkim_key(\"example.net\",\"s2\",\"/k.pem\", a => 'rsa-sha256');\n\
                    dkim_key($d, 's', '/y.pem');\n";
        assert_eq!(
            key_decls(text),
            vec![
                KeyDecl {
                    domain: "example.org".into(),
                    selector: "dkim".into(),
                    path: "/var/lib/amavis/dkim/example.org.pem".into(),
                },
                KeyDecl {
                    domain: "example.net".into(),
                    selector: "s2".into(),
                    path: "/k.pem".into(),
                },
            ]
        );
    }

    #[test]
    fn showkeys_output_of_amavisd_2_13_is_parsed() {
        let keys = parse_showkeys(SHOWKEYS);
        assert_eq!(keys.len(), 1);
        let k = &keys[0];
        assert_eq!(
            (k.domain.as_str(), k.selector.as_str()),
            ("example.org", "dkim")
        );
        assert_eq!(k.bits, Some(2048));
        assert!(k.p.starts_with("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"));
        assert!(k.p.ends_with("gQIDAQAB"));
        assert_eq!(k.p.len(), 392, "2048-bit SubjectPublicKeyInfo in base64");
        assert!(parse_showkeys("No DKIM private keys declared in a config file.\n").is_empty());
    }
}
