//! Pure parsers for MTA-STS and TLS-RPT text: the `_mta-sts` TXT record (RFC 8461 §3.1), the
//! `_smtp._tls` TXT record (RFC 8460 §3) and the policy file (RFC 8461 §3.2), and the MX
//! pattern match of §4.1. Errors are one phrase saying what is wrong.

/// Does `record` begin with `v=STSv1` (case-sensitive, `%s"v=STSv1"`, RFC 8461 §3.1)? Senders
/// ignore TXT records at `_mta-sts` that do not.
pub(super) fn is_sts(record: &str) -> bool {
    record.starts_with("v=STSv1")
}

/// Does `record` begin with `v=TLSRPTv1` (RFC 8460 §3)?
pub(super) fn is_tlsrpt(record: &str) -> bool {
    record.starts_with("v=TLSRPTv1")
}

/// The `name=value` fields of a `;`-separated record after its version field, whitespace
/// around `;` allowed (`field-delim = *WSP ";" *WSP`), a trailing `;` allowed.
fn fields<'a>(record: &'a str, version: &str) -> Result<Vec<(&'a str, &'a str)>, String> {
    let mut parts = record.split(';').map(|p| p.trim_matches([' ', '\t']));
    if parts.next() != Some(version) {
        return Err(format!("it does not begin with \"{version};\""));
    }
    let parts: Vec<&str> = parts.collect();
    let mut out = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() && i + 1 == parts.len() {
            continue;
        }
        let Some((name, value)) = part.split_once('=') else {
            return Err(format!("{part:?} is not a name=value field"));
        };
        if out.iter().any(|(n, _)| *n == name) {
            return Err(format!("the field {name}= occurs twice"));
        }
        out.push((name, value));
    }
    Ok(out)
}

/// The `id` of an MTA-STS record, or why the record is invalid (RFC 8461 §3.1: `v=STSv1`
/// first, then `id=` of 1–32 `A-Z a-z 0-9`, required).
pub(super) fn sts_id(record: &str) -> Result<&str, String> {
    let fields = fields(record, "v=STSv1")?;
    let Some((_, id)) = fields.iter().find(|(n, _)| *n == "id") else {
        return Err("there is no id= field, which RFC 8461 §3.1 requires".into());
    };
    if id.is_empty() || id.len() > 32 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!(
            "id={id:?} is not 1 to 32 letters and digits (RFC 8461 §3.1)"
        ));
    }
    Ok(id)
}

/// The `rua` URIs of a TLS-RPT record, or why the record is invalid (RFC 8460 §3:
/// `v=TLSRPTv1` first, `rua=` required, each URI `mailto:` or `https:`, comma-separated).
pub(super) fn tlsrpt_ruas(record: &str) -> Result<Vec<&str>, String> {
    let fields = fields(record, "v=TLSRPTv1")?;
    let Some((_, rua)) = fields.iter().find(|(n, _)| *n == "rua") else {
        return Err("there is no rua= field, which RFC 8460 §3 requires".into());
    };
    let uris: Vec<&str> = rua
        .split(',')
        .map(|u| u.trim_matches([' ', '\t']))
        .collect();
    for uri in &uris {
        let scheme_ok = uri
            .strip_prefix("mailto:")
            .map(|a| a.contains('@'))
            .or_else(|| uri.strip_prefix("https://").map(|h| !h.is_empty()))
            .unwrap_or(false);
        if !scheme_ok || uri.contains(' ') {
            return Err(format!(
                "rua URI {uri:?} is not a mailto: address or an https: URL (RFC 8460 §3)"
            ));
        }
    }
    Ok(uris)
}

/// An MTA-STS policy file, parsed (RFC 8461 §3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Policy {
    /// `testing`, `enforce` or `none`.
    pub mode: String,
    /// The `mx:` patterns, as written (a host name, or `*.` + a domain).
    pub mx: Vec<String>,
    pub max_age: u32,
}

/// Parses a policy file: `key: value` lines ended by LF or CRLF; `version: STSv1`, `mode`
/// (testing | enforce | none), `max_age` (0..=31557600) each exactly once, `mx` at least once
/// unless the mode is `none`; unknown keys ignored (§3.2: extension fields). Errors: the
/// first rule broken.
pub(crate) fn parse_policy(text: &str) -> Result<Policy, String> {
    let mut version = None;
    let mut mode = None;
    let mut max_age = None;
    let mut mx = Vec::new();
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(format!("the line {line:?} is not \"key: value\""));
        };
        let value = value.trim_matches([' ', '\t']);
        let once = |slot: &mut Option<String>| match slot {
            Some(_) => Err(format!("{key}: occurs twice")),
            None => {
                *slot = Some(value.to_string());
                Ok(())
            }
        };
        match key {
            "version" => once(&mut version)?,
            "mode" => once(&mut mode)?,
            "max_age" => once(&mut max_age)?,
            "mx" => mx.push(value.to_string()),
            _ => {}
        }
    }
    if version.as_deref() != Some("STSv1") {
        return Err("there is no \"version: STSv1\" line".into());
    }
    let mode = mode.ok_or("there is no mode: line")?;
    if !matches!(mode.as_str(), "testing" | "enforce" | "none") {
        return Err(format!("mode: {mode} is not testing, enforce or none"));
    }
    let max_age = max_age
        .ok_or("there is no max_age: line")?
        .parse::<u32>()
        .ok()
        .filter(|n| *n <= 31_557_600)
        .ok_or("max_age: is not a number of seconds from 0 to 31557600")?;
    if mx.is_empty() && mode != "none" {
        return Err("there is no mx: line".into());
    }
    Ok(Policy { mode, mx, max_age })
}

/// Does the `mx:` pattern `pattern` match the MX host `host` (RFC 8461 §4.1: exact, or a
/// leading `*.` matching exactly one leftmost label; case-insensitive, trailing dots ignored)?
pub(crate) fn mx_matches(pattern: &str, host: &str) -> bool {
    let p = pattern.trim_end_matches('.').to_ascii_lowercase();
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    match p.strip_prefix("*.") {
        Some(suffix) => h
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
        None => p == h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sts_records() {
        assert_eq!(sts_id("v=STSv1; id=20240101T000000"), Ok("20240101T000000"));
        assert_eq!(sts_id("v=STSv1;id=abc;"), Ok("abc"));
        assert_eq!(sts_id("v=STSv1; x=1; id=abc"), Ok("abc"));
        for (bad, why) in [
            ("id=abc", "does not begin"),
            ("v=STSv2; id=abc", "does not begin"),
            ("V=STSv1; id=abc", "does not begin"),
            ("v=STSv1", "no id="),
            ("v=STSv1; id=abc def", "not 1 to 32"),
            ("v=STSv1; id=", "not 1 to 32"),
            ("v=STSv1; id=a-b", "not 1 to 32"),
            (&format!("v=STSv1; id={}", "a".repeat(33)), "not 1 to 32"),
            ("v=STSv1; id=a; id=b", "twice"),
            ("v=STSv1; garbage", "name=value"),
        ] {
            let err = sts_id(bad).expect_err(bad);
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn tlsrpt_records() {
        assert_eq!(
            tlsrpt_ruas("v=TLSRPTv1; rua=mailto:a@example.org, https://r.example/x"),
            Ok(vec!["mailto:a@example.org", "https://r.example/x"])
        );
        for (bad, why) in [
            ("rua=mailto:a@example.org", "does not begin"),
            ("v=TLSRPTv1", "no rua="),
            ("v=TLSRPTv1; rua=a@example.org", "not a mailto:"),
            ("v=TLSRPTv1; rua=http://r.example", "not a mailto:"),
        ] {
            let err = tlsrpt_ruas(bad).expect_err(bad);
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn policies() {
        let p = parse_policy(
            "version: STSv1\r\nmode: enforce\r\nmx: mail.example.org\r\nmx: *.example.net\r\nmax_age: 86400\r\n",
        )
        .unwrap();
        assert_eq!(p.mode, "enforce");
        assert_eq!(p.mx, vec!["mail.example.org", "*.example.net"]);
        assert_eq!(p.max_age, 86400);
        for (bad, why) in [
            (
                "mode: testing\nmx: a.example\nmax_age: 1\n",
                "version: STSv1",
            ),
            (
                "version: STSv1\nmode: strict\nmx: a.example\nmax_age: 1\n",
                "not testing",
            ),
            ("version: STSv1\nmode: testing\nmax_age: 1\n", "no mx:"),
            (
                "version: STSv1\nmode: testing\nmx: a.example\n",
                "no max_age:",
            ),
            (
                "version: STSv1\nmode: testing\nmx: a.example\nmax_age: 1y\n",
                "max_age:",
            ),
            (
                "version: STSv1\nmode: testing\nmode: enforce\nmx: a\nmax_age: 1\n",
                "twice",
            ),
            ("<html>", "not \"key: value\""),
        ] {
            let err = parse_policy(bad).expect_err(bad);
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn mx_patterns() {
        assert!(mx_matches("mail.example.org", "MAIL.example.org."));
        assert!(mx_matches("*.example.org", "mx1.example.org"));
        assert!(!mx_matches("*.example.org", "a.b.example.org"));
        assert!(!mx_matches("*.example.org", "example.org"));
        assert!(!mx_matches("mail.example.org", "mx.example.org"));
    }
}
