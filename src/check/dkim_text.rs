//! Pure text analysis of a published DKIM key record for `check`: the recognisable ways an
//! operator mis-pastes the record into a DNS web form ([`paste_errors`], finding
//! `dkim.paste-error`), and the RSA key size of its `p=` ([`rsa_bits`]). No DNS, no files.
//!
//! The typical source is `opendkim-genkey`'s `<selector>.txt`, a zone-file record:
//! `mail._domainkey\tIN\tTXT\t( "v=DKIM1; h=sha256; k=rsa; "\n\t  "p=MIIB…"\n\t  "…AQAB" )  ; ----- DKIM key mail for example.org`.
//! Only the text inside the quotes, joined, belongs in a web form's value field.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rsa::pkcs1::der::Decode as _;
use rsa::pkcs8::SubjectPublicKeyInfoRef;

use super::txt::strip_ws;

/// A recognisable mis-paste of the DKIM key record (finding id `dkim.paste-error`). Display:
/// one sentence saying what is wrong and how to paste it right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PasteError {
    /// `"` in the record text: the zone-file quotes were pasted into a web form, e.g.
    /// `p="MIIB…"` or `…" "…` between the quoted parts.
    Quotes,
    /// `(` or `)`: a multi-line zone-file record was pasted whole.
    Parentheses,
    /// Spaces, tabs or line breaks inside `p=`, other than between quoted parts (that is
    /// [`PasteError::Quotes`]). RFC 6376 §3.6.1 allows FWS there, but many web forms and some
    /// verifiers break on it.
    Whitespace,
    /// `h=` does not list `sha256`, e.g. `h=rsa-sha256`: `h=` lists hash algorithms, while
    /// `rsa-sha256` is a signature's `a=` value (RFC 6376 §3.6.1, §3.5). Verifiers then
    /// refuse the key for sha256 signatures.
    HashAlgorithm,
    /// A `;` is missing before this tag, e.g. `k=rsa p=MIIB…`: tags are separated by `;`
    /// (RFC 6376 §3.2), so the record has no `p=` of its own and `k=` reads `rsa p=MIIB…`.
    /// The other checks then read the record with the `;` put back.
    MissingSemicolon(&'static str),
    /// `k=` is neither `rsa` (RFC 6376 §3.6.1) nor `ed25519` (RFC 8463), e.g. `k=rsa-sha256`.
    KeyType,
    /// `p=` is cut short: a strict prefix of the local key's `p=` (e.g. a web form cut the value
    /// at 255 characters), or, with no local key, shorter than its DER header says.
    /// `published` and `expected` count base64 characters.
    Truncated { published: usize, expected: usize },
    /// The record text includes the owner name or the type, e.g.
    /// `mail._domainkey IN TXT "v=DKIM1…`, or starts with `TXT`.
    Prefix,
}

impl fmt::Display for PasteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasteError::Quotes => f.write_str(
                "the record contains double quotes, which belong to the zone-file syntax: paste \
                 only the text inside the quotes, joining the quoted parts with nothing between them",
            ),
            PasteError::Parentheses => f.write_str(
                "the record contains parentheses from a multi-line zone-file record: paste only \
                 the text inside the quotes, as one line",
            ),
            PasteError::Whitespace => f.write_str(
                "the key (p=) contains spaces or line breaks, which many DNS panels and some \
                 verifiers mangle: paste it as one unbroken line",
            ),
            PasteError::HashAlgorithm => f.write_str(
                "h= must list hash algorithms such as sha256, not a signature algorithm such as \
                 rsa-sha256 (RFC 6376 §3.6.1): write h=sha256 or leave h= out",
            ),
            PasteError::MissingSemicolon(tag) => write!(
                f,
                "a `;` is missing before {tag}= (tags are separated by `;`, RFC 6376 §3.2), so \
                 the record has no {tag}= of its own: write `; {tag}=` between the tags"
            ),
            PasteError::KeyType => f.write_str(
                "k= must be rsa or ed25519 (RFC 6376 §3.6.1, RFC 8463): write k=rsa for an RSA key",
            ),
            PasteError::Truncated {
                published,
                expected,
            } => write!(
                f,
                "the key (p=) is cut short, {published} of {expected} characters: paste the \
                 whole key; if the DNS panel cuts values at 255 characters, ask the provider how \
                 to publish a longer TXT value (it is sent as several strings)"
            ),
            PasteError::Prefix => f.write_str(
                "the value includes the record's name or type (such as `mail._domainkey IN TXT`): \
                 put the name in the name field and paste only the value, starting at v=DKIM1",
            ),
        }
    }
}

/// Every paste error found in `record` (the TXT record's strings joined), in the order of the
/// [`PasteError`] variants, each at most once; empty when none. `local_p`: the base64 `p=` of
/// the local key (whitespace is ignored), if known.
///
/// Lenient on purpose: the record need not be a valid tag-list (RFC 6376 §3.2). Tags are split
/// at `;`, a tag name is the last word before `=` without quotes and parentheses. Quotes and
/// parentheses in an `n=` (notes) value are legal (dkim-quoted-printable, RFC 6376 §2.11) and
/// ignored. A revoked key (empty `p=`) is not truncated.
pub(super) fn paste_errors(record: &str, local_p: Option<&str>) -> Vec<PasteError> {
    let (repaired, missing) = missing_semicolons(record);
    let record = repaired.as_str();
    let tags = loose_tags(record);
    let outside_notes = || tags.iter().filter(|t| t.name != "n").map(|t| t.spec);
    let tag = |name: &str| tags.iter().find(|t| t.name == name).map(|t| t.value);
    let mut out = Vec::new();
    if outside_notes().any(|s| s.contains('"')) {
        out.push(PasteError::Quotes);
    }
    if outside_notes().any(|s| s.contains(['(', ')'])) {
        out.push(PasteError::Parentheses);
    }
    let p = tag("p").map(p_core);
    if p.as_ref().is_some_and(|p| p.contains(char::is_whitespace)) {
        out.push(PasteError::Whitespace);
    }
    if tag("h").is_some_and(|h| {
        !h.split(':')
            .any(|alg| unwrap(alg).eq_ignore_ascii_case("sha256"))
    }) {
        out.push(PasteError::HashAlgorithm);
    }
    out.extend(missing.into_iter().map(PasteError::MissingSemicolon));
    let k = tag("k").map(unwrap);
    if k.is_some_and(|k| !k.eq_ignore_ascii_case("rsa") && !k.eq_ignore_ascii_case("ed25519")) {
        out.push(PasteError::KeyType);
    }
    let rsa = k.is_none_or(|k| k.eq_ignore_ascii_case("rsa"));
    if let Some(p) = p.map(|p| strip_ws(&p)) {
        out.extend(truncated(&p, local_p, rsa));
    }
    if tags
        .first()
        .is_some_and(|t| t.head.iter().any(|w| is_owner_or_type(w)))
    {
        out.push(PasteError::Prefix);
    }
    out
}

/// The tags of a DKIM key record (RFC 6376 §3.6.1).
const KEY_TAGS: [&str; 7] = ["v", "h", "k", "n", "p", "s", "t"];

/// `record` with a `;` put back before each key-record tag that follows another tag's value
/// after whitespace (`k=rsa p=…` → `k=rsa; p=…`), and the tags it was missing before (sorted,
/// once each). Text inside an `n=` note is left alone (a note may say anything).
fn missing_semicolons(record: &str) -> (String, Vec<&'static str>) {
    let mut out = String::with_capacity(record.len() + 4);
    let mut missing = Vec::new();
    for (i, part) in record.split(';').enumerate() {
        if i > 0 {
            out.push(';');
        }
        let Some((first, _)) = part.split_once('=').filter(|(n, _)| unwrap(n) != "n") else {
            out.push_str(part);
            continue;
        };
        // after the first tag's `=`, the earliest whitespace-separated `x=`, x a key tag
        let (head, mut value) = part.split_at(first.len() + 1);
        out.push_str(head);
        loop {
            let hit = KEY_TAGS
                .iter()
                .filter_map(|t| {
                    value
                        .match_indices(&format!("{t}="))
                        .find(|(at, _)| *at > 0 && value[..*at].ends_with(char::is_whitespace))
                        .map(|(at, _)| (at, *t))
                })
                .min();
            let Some((at, tag)) = hit else {
                out.push_str(value);
                break;
            };
            out.push_str(value[..at].trim_end());
            out.push_str("; ");
            missing.push(tag);
            value = &value[at..];
        }
    }
    missing.sort();
    missing.dedup();
    (out, missing)
}

/// One `;`-separated part of a pasted record.
struct LooseTag<'a> {
    /// The whole part, for the quote and parenthesis checks.
    spec: &'a str,
    /// Words before the tag name, quotes and parentheses removed, empty ones dropped
    /// (`mail._domainkey`, `IN`, `TXT` in a record pasted with its owner and type).
    head: Vec<&'a str>,
    /// The tag name, or `""` for a part without `=` (such as a pasted zone-file comment).
    name: &'a str,
    /// The raw value after the first `=`.
    value: &'a str,
}

fn loose_tags(record: &str) -> Vec<LooseTag<'_>> {
    record
        .split(';')
        .map(|spec| {
            let (before, name, value) = match spec.split_once('=') {
                Some((before, value)) => match before.trim_end().rsplit_once(char::is_whitespace) {
                    Some((head, name)) => (head, unwrap(name), value),
                    None => ("", unwrap(before), value),
                },
                None => (spec, "", ""),
            };
            let head = before
                .split_whitespace()
                .map(unwrap)
                .filter(|w| !w.is_empty())
                .collect();
            LooseTag {
                spec,
                head,
                name,
                value,
            }
        })
        .collect()
}

/// `s` without surrounding whitespace, quotes and parentheses.
fn unwrap(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || matches!(c, '"' | '(' | ')'))
}

/// The `p=` value as the operator meant it: unwrapped, the joins between quoted parts
/// (`"` whitespace `"`) and any other quotes removed. Whitespace inside is kept.
fn p_core(value: &str) -> String {
    let pieces: Vec<&str> = unwrap(value).split('"').collect();
    let last = pieces.len() - 1;
    pieces
        .iter()
        .enumerate()
        .filter(|&(i, piece)| !(i > 0 && i < last && piece.trim().is_empty()))
        .map(|(_, piece)| *piece)
        .collect()
}

/// Is a word before the first tag the owner name (`mail._domainkey[.example.org.]`) or the
/// type `TXT`? (A class `IN` or a TTL comes only together with one of them.)
fn is_owner_or_type(word: &str) -> bool {
    word.to_ascii_lowercase().contains("_domainkey") || word.eq_ignore_ascii_case("TXT")
}

/// `p` (whitespace-free) is cut short: a strict, non-empty prefix of the local key, or, with no
/// local key and an RSA key type, shorter than the DER SEQUENCE its first bytes announce.
fn truncated(p: &str, local_p: Option<&str>, rsa: bool) -> Option<PasteError> {
    if p.is_empty() {
        return None;
    }
    let expected = match local_p {
        Some(local) => {
            let local = strip_ws(local);
            (p.len() < local.len() && local.starts_with(p)).then_some(local.len())?
        }
        None if rsa => {
            let der_len = der_length(p)?;
            (p.len() * 3 / 4 < der_len).then_some(der_len.div_ceil(3) * 4)?
        }
        None => return None,
    };
    Some(PasteError::Truncated {
        published: p.len(),
        expected,
    })
}

/// Total length in bytes (header included) of the DER SEQUENCE that base64 `p` starts with,
/// read from its first 8 characters (6 bytes: tag, length of up to 2 bytes; X.690 §8.1.3).
/// `None` when `p` does not start with a SEQUENCE (SubjectPublicKeyInfo and PKCS#1 both do).
fn der_length(p: &str) -> Option<usize> {
    let head = STANDARD.decode(p.get(..8)?).ok()?;
    match head.as_slice() {
        [0x30, len, ..] if *len < 0x80 => Some(2 + usize::from(*len)),
        [0x30, 0x81, len, ..] => Some(3 + usize::from(*len)),
        [0x30, 0x82, hi, lo, ..] => Some(4 + (usize::from(*hi) << 8 | usize::from(*lo))),
        _ => None,
    }
}

/// Why `record` (a valid tag-list) with the whitespace-free `p` is not an Ed25519 key record
/// (RFC 8463 §4.2): its `k=` is not `ed25519` (absent means `rsa`, RFC 6376 §3.6.1), or `p=`
/// is not 32 raw bytes in base64 (44 characters). `None` when it is one, or is revoked
/// (empty `p=`).
pub(super) fn ed25519_key_error(record: &str, p: &str) -> Option<String> {
    let k = record
        .split(';')
        .filter_map(|spec| spec.split_once('='))
        .find(|(name, _)| name.trim() == "k")
        .map(|(_, v)| v.trim());
    if !k.is_some_and(|k| k.eq_ignore_ascii_case("ed25519")) {
        let said = k.map_or("no k= (which means k=rsa)".to_string(), |k| {
            format!("k={k}")
        });
        return Some(format!(
            "the record has {said}, but this selector's key is Ed25519: write k=ed25519"
        ));
    }
    if p.is_empty() {
        return None;
    }
    match STANDARD.decode(p) {
        Ok(raw) if raw.len() == 32 && p.len() == 44 => None,
        Ok(raw) => Some(format!(
            "p= holds {} bytes, but an Ed25519 key is its 32 raw bytes in base64 (44 \
             characters, not a SubjectPublicKeyInfo)",
            raw.len()
        )),
        Err(e) => Some(format!("p= is not valid base64: {e}")),
    }
}

/// RSA modulus size in bits of a DKIM `p=` value: base64 (whitespace ignored) of a DER
/// SubjectPublicKeyInfo with the rsaEncryption algorithm (RFC 6376 §3.6.1, RFC 3279 §2.3.1),
/// or of a bare PKCS#1 RSAPublicKey (RFC 8017 §A.1.1), which some tools publish.
///
/// The size is read from the DER, so keys above the rsa crate's 4096-bit limit
/// (`RsaPublicKey::MAX_SIZE`), which verifiers accept, are measured too.
///
/// Errors, one line each: empty (a revoked key), not base64, an Ed25519 key (RFC 8463), not an
/// RSA key in either form.
pub(super) fn rsa_bits(p: &str) -> Result<usize, String> {
    let p = strip_ws(p);
    if p.is_empty() {
        return Err("p= is empty: the key is revoked (RFC 6376 §3.6.1)".into());
    }
    let der = STANDARD
        .decode(&p)
        .map_err(|e| format!("p= is not valid base64: {e}"))?;
    if der.len() == 32 {
        return Err("p= is a 32-byte Ed25519 key (RFC 8463), not an RSA key".into());
    }
    let pkcs1 = match SubjectPublicKeyInfoRef::try_from(der.as_slice()) {
        Ok(spki) if spki.algorithm.oid == rsa::pkcs1::ALGORITHM_OID => spki
            .subject_public_key
            .as_bytes()
            .ok_or("p= holds an RSA SubjectPublicKeyInfo with a malformed key")?,
        Ok(spki) => {
            return Err(format!(
                "p= holds a public key of algorithm {}, not RSA (1.2.840.113549.1.1.1)",
                spki.algorithm.oid
            ));
        }
        Err(_) => der.as_slice(),
    };
    let key = rsa::pkcs1::RsaPublicKey::from_der(pkcs1).map_err(|e| {
        format!("p= is neither an RSA SubjectPublicKeyInfo nor a PKCS#1 RSA public key: {e}")
    })?;
    let n = key.modulus.as_bytes();
    match n.first() {
        Some(&top) => Ok(n.len() * 8 - top.leading_zeros() as usize),
        None => Err("p= holds an RSA key with an empty modulus".into()),
    }
}
