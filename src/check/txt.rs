//! Pure helpers over TXT record text: which records are SPF or DMARC records, the DKIM key
//! record's tags, and the zone-file line for a TXT record (the `fix`).

use crate::records::render::chunks;

/// Is `record` an SPF record? It begins with `v=spf1` followed by a space or the end
/// (RFC 7208 §4.5; ABNF literals are case-insensitive, RFC 5234 §2.3).
pub(super) fn is_spf(record: &str) -> bool {
    let b = record.as_bytes();
    b.len() >= 6 && b[..6].eq_ignore_ascii_case(b"v=spf1") && (b.len() == 6 || b[6] == b' ')
}

/// Is `record` meant as a DMARC record? Its first tag is `v` with a value starting with
/// `DMARC` (RFC 7489 §6.4 tag syntax, whitespace allowed around `=`). `v=DMARC1` itself is
/// then checked by the parser, so a typo like `v=DMARC2` is a syntax finding, not "missing".
pub(super) fn is_dmarc_attempt(record: &str) -> bool {
    let first = record.split(';').next().unwrap_or("");
    match first.split_once('=') {
        Some((name, value)) => {
            name.trim().eq_ignore_ascii_case("v")
                && value
                    .trim_start()
                    .get(..5)
                    .is_some_and(|v| v.eq_ignore_ascii_case("dmarc"))
        }
        None => false,
    }
}

/// The `p=` of a DKIM key record with all whitespace removed, or why the record is invalid
/// (RFC 6376 §3.6.1: `v=`, if present, is first and exactly `DKIM1`; `p=` is required;
/// `p=` is base64, FWS allowed). An empty `p=` (a revoked key) is returned as `""`.
pub(crate) fn dkim_p(record: &str) -> Result<String, String> {
    let tags = tag_list(record)?;
    if let Some(pos) = tags.iter().position(|(n, _)| n == "v") {
        let v = &tags[pos].1;
        if v != "DKIM1" {
            return Err(format!("v={v} is not v=DKIM1"));
        }
        if pos != 0 {
            return Err("v=DKIM1 must be the first tag".into());
        }
    }
    let Some((_, p)) = tags.iter().find(|(n, _)| n == "p") else {
        return Err("there is no p= tag (the public key)".into());
    };
    let p = strip_ws(p);
    if let Some(c) = p
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')))
    {
        return Err(format!("p= contains {c:?}, which is not base64"));
    }
    Ok(p)
}

/// Whitespace removed (FWS inside base64, RFC 6376 §3.6.1 `p=` / §2.8).
pub(super) fn strip_ws(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// A DKIM tag-list (RFC 6376 §3.2) as `(name, value)` pairs, values trimmed. Empty
/// elements (`;;`, a trailing `;`) are skipped; a duplicate tag name invalidates the list.
fn tag_list(record: &str) -> Result<Vec<(String, String)>, String> {
    let mut tags: Vec<(String, String)> = Vec::new();
    for spec in record.split(';') {
        if spec.trim().is_empty() {
            continue;
        }
        let Some((name, value)) = spec.split_once('=') else {
            return Err(format!("{:?} is not a tag=value pair", spec.trim()));
        };
        let name = name.trim();
        let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!("{name:?} is not a tag name"));
        }
        if tags.iter().any(|(n, _)| n == name) {
            return Err(format!("the tag {name}= occurs twice"));
        }
        tags.push((name.to_string(), value.trim().to_string()));
    }
    Ok(tags)
}

/// The zone-file line publishing `value` as TXT at `owner`:
/// `owner. IN TXT "…" "…"`, split into character-strings of at most 255 bytes
/// (RFC 1035 §3.3.14, §5.1: `"` and `\` escaped). `None` when `value` is empty.
pub(super) fn bind_txt(owner: &str, value: &str) -> Option<String> {
    if value.is_empty() {
        return None;
    }
    let strings: Vec<String> = chunks(value, 255)
        .into_iter()
        .map(|c| format!("\"{}\"", c.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    Some(format!("{owner}. IN TXT {}", strings.join(" ")))
}

/// The fix for a TXT record, in both forms an operator may need: the zone-file line
/// ([`bind_txt`]) and, for a provider's web form, the name relative to the zone `apex`
/// (`@` for the apex itself) with the value as one string. `None` when `value` is empty.
pub(super) fn txt_fix(owner: &str, value: &str, apex: Option<&str>) -> Option<String> {
    let line = bind_txt(owner, value)?;
    let relative = match apex {
        Some(apex) if owner == apex => "@".to_string(),
        Some(apex) => owner
            .strip_suffix(&format!(".{apex}"))
            .unwrap_or(owner)
            .to_string(),
        None => owner.to_string(),
    };
    Some(format!(
        "{line}\nor in a web form: name {relative}, type TXT, value {value}"
    ))
}

/// Records for display: sanitized, one per line.
pub(crate) fn list<S: AsRef<str>>(records: &[S]) -> String {
    records
        .iter()
        .map(|r| crate::dns::sanitize(r.as_ref()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spf_version_section() {
        assert!(is_spf("v=spf1 ip4:192.0.2.25 -all"));
        assert!(is_spf("v=spf1"));
        assert!(is_spf("V=SPF1 -all"));
        assert!(!is_spf("v=spf10 -all"));
        assert!(!is_spf("v=spf1-all"));
        assert!(!is_spf(" v=spf1 -all"));
        assert!(!is_spf("spf2.0/pra -all"));
        assert!(!is_spf("google-site-verification=abc"));
    }

    #[test]
    fn dmarc_attempts() {
        assert!(is_dmarc_attempt("v=DMARC1; p=none"));
        assert!(is_dmarc_attempt(" v = dmarc1 ;p=none"));
        assert!(is_dmarc_attempt("v=DMARC2; p=none"));
        assert!(is_dmarc_attempt("v=DMARC1 p=none"));
        assert!(!is_dmarc_attempt("p=none; v=DMARC1"));
        assert!(!is_dmarc_attempt("v=spf1 -all"));
        assert!(!is_dmarc_attempt("v=DMA"));
    }

    #[test]
    fn dkim_p_extracts_key_without_whitespace() {
        assert_eq!(
            dkim_p("v=DKIM1; k=rsa; p=MIIB IjAN\tBgkq;").as_deref(),
            Ok("MIIBIjANBgkq")
        );
        assert_eq!(dkim_p("k=rsa; p=QUJD").as_deref(), Ok("QUJD"));
        assert_eq!(dkim_p("v=DKIM1; p=").as_deref(), Ok(""));
        assert_eq!(
            dkim_p("v=DKIM1;; h=sha256 ; p = QUJD ; ").as_deref(),
            Ok("QUJD")
        );
    }

    #[test]
    fn dkim_p_rejects_invalid_records() {
        for (record, why) in [
            ("v=DKIM1; k=rsa", "no p="),
            ("v=DKIM2; p=QUJD", "v=DKIM2"),
            ("k=rsa; v=DKIM1; p=QUJD", "first tag"),
            ("v=DKIM1; p=QUJD; p=QUJD", "twice"),
            ("v=DKIM1; garbage; p=QUJD", "tag=value"),
            ("v=DKIM1; 1x=2; p=QUJD", "tag name"),
            ("v=DKIM1; p=QU*D", "base64"),
        ] {
            let err = dkim_p(record).expect_err(record);
            assert!(err.contains(why), "{record}: {err}");
        }
    }

    #[test]
    fn bind_txt_splits_and_escapes() {
        assert_eq!(bind_txt("x.example.org", ""), None);
        assert_eq!(
            bind_txt("_dmarc.example.org", "v=DMARC1; p=none").as_deref(),
            Some("_dmarc.example.org. IN TXT \"v=DMARC1; p=none\"")
        );
        assert_eq!(
            bind_txt("a", "say \"hi\" \\o/").as_deref(),
            Some("a. IN TXT \"say \\\"hi\\\" \\\\o/\"")
        );
        let long = format!("v=DKIM1; k=rsa; p={}", "A".repeat(400));
        let line = bind_txt("s._domainkey.example.org", &long).unwrap();
        let strings: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
        assert_eq!(strings.len(), 2);
        assert_eq!(strings[0].len(), 255);
        assert_eq!(strings.concat(), long);
    }

    #[test]
    fn txt_fix_gives_both_forms() {
        let fix = txt_fix(
            "_dmarc.example.org",
            "v=DMARC1; p=none",
            Some("example.org"),
        );
        assert_eq!(
            fix.as_deref(),
            Some(
                "_dmarc.example.org. IN TXT \"v=DMARC1; p=none\"\n\
                 or in a web form: name _dmarc, type TXT, value v=DMARC1; p=none"
            )
        );
        let apex = txt_fix("example.org", "v=spf1 -all", Some("example.org")).unwrap();
        assert!(
            apex.ends_with("name @, type TXT, value v=spf1 -all"),
            "{apex}"
        );
        let unknown = txt_fix("x.example.net", "v", None).unwrap();
        assert!(unknown.contains("name x.example.net,"), "{unknown}");
        assert_eq!(txt_fix("x", "", None), None);
    }

    #[test]
    fn chunks_respect_char_boundaries() {
        let s = "é".repeat(200); // 400 bytes
        let parts = chunks(&s, 255);
        assert!(parts.iter().all(|p| p.len() <= 255));
        assert_eq!(parts.concat(), s);
    }
}
