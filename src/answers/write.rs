//! Rendering [`Settings`] as an answers file, in place when one exists.
use toml_edit::{Array, DocumentMut, Item, Table, Value};

use crate::settings::Settings;
use crate::values::*;

use super::KNOWN_KEYS;

/// Top of a freshly rendered file.
const HEADER: &str = "\
# mailsetup answers (TOML). Required: hostname, domains; everything else has a default.
# Optional, written only when set: ipv4, ipv6, allow_private_ip, dmarc_rua (\"mailto:…\"),
# provider (\"ovh\", \"hetzner\", \"aws\", …),
# inbound_spf, algorithms (with \"ed25519-sha256\": ed25519_selector), tls_cert and tls_key (both or neither),
# mta_sts (\"testing\" | \"enforce\" | \"none\"), tls_rpt_rua.
";

/// Column at which [`write`] starts the comment of a line it adds.
const COMMENT_COLUMN: usize = 39;

/// What one key should hold.
enum Want {
    Str(String),
    Int(i64),
    Bool(bool),
    List(Vec<String>),
}

impl Want {
    fn value(&self) -> Value {
        match self {
            Want::Str(s) => Value::from(s.as_str()),
            Want::Int(n) => Value::from(*n),
            Want::Bool(b) => Value::from(*b),
            Want::List(v) => Value::Array(v.iter().map(String::as_str).collect()),
        }
    }
}

/// One key: what it should hold, whether that equals what [`super::parse`] would assume if
/// the key were absent, and how to read an existing string (element) into canonical form.
struct Field {
    key: &'static str,
    want: Option<Want>,
    is_default: bool,
    canon: fn(&str) -> Option<String>,
    comment: &'static str,
    /// Not added to a fresh file while it holds the default (still kept, and changed, where
    /// the key already is): `allow_private_ip = false` says nothing a reader needs.
    quiet_default: bool,
}

/// Renders `settings` as an answers file such that `parse(&write(s, x)) == Ok(s)` for every
/// `s` that `parse` can produce (non-empty `domains`, no duplicates) and every `x`.
///
/// - `existing == None` (or not valid TOML, which is then ignored): a fresh file with a
///   header comment and every key that has a value, defaults included, each with a comment.
/// - `existing == Some(text)`: `text` is edited in place with toml_edit. A key whose current
///   value already parses to the wanted value is left byte-for-byte alone (so
///   `ipv6 = "2001:DB8::10"` keeps its spelling); a changed scalar gets the new value with the
///   old value's trailing comment; a changed array keeps the elements (with their comments)
///   that are still wanted, in the wanted order, and adds new ones in the array's layout; a
///   key whose value became `None` is removed (with any comment lines above it); a missing
///   key is appended only when its value differs from the default. Unknown keys and tables
///   are removed (the result must parse).
/// - `allow_private_ip` and `inbound_spf` are written only when `true` or already present
///   (then set to the wanted value, `false` included), in a fresh file as in an existing one.
pub fn write(settings: &Settings, existing: Option<&str>) -> String {
    let parsed = existing.and_then(|text| text.parse::<DocumentMut>().ok());
    let fresh = parsed.is_none();
    let mut doc = parsed.unwrap_or_default();
    let table = doc.as_table_mut();
    table.retain(|key, _| KNOWN_KEYS.contains(&key));
    for field in fields(settings) {
        put(table, &field, fresh);
    }
    if fresh {
        format!("{HEADER}{doc}")
    } else {
        doc.to_string()
    }
}

fn str_field(
    key: &'static str,
    want: Option<String>,
    default: Option<String>,
    canon: fn(&str) -> Option<String>,
    comment: &'static str,
) -> Field {
    Field {
        key,
        is_default: want == default,
        want: want.map(Want::Str),
        canon,
        comment,
        quiet_default: false,
    }
}

/// Every answers key with what `s` wants in it, in [`super::KNOWN_KEYS`] order. Longer than
/// 80 lines on purpose: it is a table, one entry per key, read best whole.
fn fields(s: &Settings) -> Vec<Field> {
    let trusted: Vec<String> = s.trusted_hosts.iter().map(ToString::to_string).collect();
    let default_trusted: Vec<String> = Settings::default_trusted_hosts()
        .iter()
        .map(ToString::to_string)
        .collect();
    let default_proto = Settings::default_inet_protocols(s.ipv4, s.ipv6);
    vec![
        str_field(
            "hostname",
            Some(s.hostname.to_string()),
            None,
            |r| Domain::parse(r).ok().map(|v| v.to_string()),
            "FQDN of this server (Postfix myhostname)",
        ),
        str_field(
            "ipv4",
            s.ipv4.map(|ip| ip.to_string()),
            None,
            |r| parse_public_ipv4(r).ok().map(|v| v.to_string()),
            "public IPv4; detected from interfaces when neither ipv4 nor ipv6 is given",
        ),
        str_field(
            "ipv6",
            s.ipv6.map(|ip| ip.to_string()),
            None,
            |r| parse_public_ipv6(r).ok().map(|v| v.to_string()),
            "public IPv6; either address alone is enough",
        ),
        Field {
            key: "allow_private_ip",
            want: Some(Want::Bool(s.allow_private_ip)),
            is_default: !s.allow_private_ip,
            canon: |_| None,
            comment: "ipv4/ipv6 may be private or documentation addresses (lab, NAT)",
            quiet_default: true,
        },
        str_field(
            "inet_protocols",
            Some(s.inet_protocols.as_str().to_string()),
            Some(default_proto.as_str().to_string()),
            |r| InetProtocols::parse(r).ok().map(|v| v.as_str().to_string()),
            "ipv4 | ipv6 | all",
        ),
        Field {
            key: "domains",
            want: Some(Want::List(
                s.domains.iter().map(ToString::to_string).collect(),
            )),
            is_default: false,
            canon: |r| Domain::parse(r).ok().map(|v| v.to_string()),
            comment: "domains to sign for",
            quiet_default: false,
        },
        str_field(
            "selector",
            Some(s.selector.to_string()),
            Some(Selector::default().to_string()),
            |r| Selector::parse(r).ok().map(|v| v.to_string()),
            "DKIM selector: one label",
        ),
        Field {
            key: "key_bits",
            want: Some(Want::Int(
                i64::try_from(s.key_bits.bits()).unwrap_or(i64::MAX),
            )),
            is_default: s.key_bits == KeyBits::B2048,
            canon: |_| None,
            comment: "1024 | 2048 | 3072 | 4096",
            quiet_default: false,
        },
        Field {
            key: "algorithms",
            want: Some(Want::List(
                s.algorithms().iter().map(ToString::to_string).collect(),
            )),
            is_default: s.ed25519.is_none(),
            canon: |r| matches!(r, "rsa-sha256" | "ed25519-sha256").then(|| r.to_string()),
            comment: "DKIM signatures: rsa-sha256, and ed25519-sha256 to sign twice (RFC 8463)",
            quiet_default: true,
        },
        str_field(
            "ed25519_selector",
            s.ed25519.as_ref().map(ToString::to_string),
            s.ed25519
                .as_ref()
                .map(|_| Settings::DEFAULT_ED25519_SELECTOR.to_string()),
            |r| Selector::parse(r).ok().map(|v| v.to_string()),
            "selector of the Ed25519 key: one label, not selector",
        ),
        str_field(
            "socket",
            Some(s.socket.as_answer()),
            Some(MilterSocket::Local.as_answer()),
            |r| MilterSocket::parse(r).ok().map(|v| v.as_answer()),
            "local = unix socket in Postfix's chroot; or \"inet:8891\"",
        ),
        Field {
            key: "trusted_hosts",
            is_default: trusted == default_trusted,
            want: Some(Want::List(trusted)),
            canon: |r| TrustedHost::parse(r).ok().map(|v| v.to_string()),
            comment: "IPs, networks (CIDR) or host names OpenDKIM signs for",
            quiet_default: false,
        },
        str_field(
            "spf_all",
            Some(s.spf_all.as_str().to_string()),
            Some(SpfAll::SoftFail.as_str().to_string()),
            |r| SpfAll::parse(r).ok().map(|v| v.as_str().to_string()),
            "~all | -all",
        ),
        str_field(
            "dmarc_policy",
            Some(s.dmarc_policy.as_str().to_string()),
            Some(DmarcPolicy::None.as_str().to_string()),
            |r| DmarcPolicy::parse(r).ok().map(|v| v.as_str().to_string()),
            "none | quarantine | reject",
        ),
        str_field(
            "dmarc_rua",
            s.dmarc_rua.as_ref().map(ToString::to_string),
            None,
            |r| MailtoUri::parse(r).ok().map(|v| v.to_string()),
            "where DMARC aggregate reports go; optional",
        ),
        str_field(
            "provider",
            s.provider.map(|p| p.key().to_string()),
            None,
            |r| {
                crate::provider::Provider::parse(r)
                    .ok()
                    .map(|p| p.key().to_string())
            },
            "hosting provider: its reverse-DNS and port-25 steps; optional",
        ),
        Field {
            key: "inbound_spf",
            want: Some(Want::Bool(s.inbound_spf)),
            is_default: !s.inbound_spf,
            canon: |_| None,
            comment: "SPF-check incoming mail with policyd-spf (postfix-policyd-spf-python)",
            quiet_default: true,
        },
        Field {
            key: "signer",
            want: Some(Want::Str(s.signer.as_str().to_string())),
            is_default: s.signer == Signer::Opendkim,
            canon: |r| Signer::parse(r).ok().map(|v| v.as_str().to_string()),
            comment: "opendkim | amavisd-new: the one program that signs",
            quiet_default: true,
        },
        Field {
            key: "inbound_dmarc",
            want: Some(Want::Bool(s.inbound_dmarc)),
            is_default: !s.inbound_dmarc,
            canon: |_| None,
            comment: "OpenDMARC judges incoming mail (Authentication-Results: dmarc=)",
            quiet_default: true,
        },
        Field {
            key: "dmarc_reject_failures",
            want: Some(Want::Bool(s.dmarc_reject_failures)),
            is_default: !s.dmarc_reject_failures,
            canon: |_| None,
            comment: "reject incoming mail failing a p=reject policy (needs inbound_dmarc)",
            quiet_default: true,
        },
        str_field(
            "tls_cert",
            s.tls.as_ref().map(|(c, _)| c.display().to_string()),
            None,
            |r| {
                crate::tls::parse_path(r)
                    .ok()
                    .map(|p| p.display().to_string())
            },
            "the certificate (chain) Postfix presents; optional, with tls_key",
        ),
        str_field(
            "tls_key",
            s.tls.as_ref().map(|(_, k)| k.display().to_string()),
            None,
            |r| {
                crate::tls::parse_path(r)
                    .ok()
                    .map(|p| p.display().to_string())
            },
            "its private key; optional, with tls_cert",
        ),
        str_field(
            "mta_sts",
            s.mta_sts.map(|m| m.as_str().to_string()),
            None,
            |r| StsMode::parse(r).ok().map(|v| v.as_str().to_string()),
            "MTA-STS policy mode: testing | enforce | none (RFC 8461); optional",
        ),
        Field {
            key: "mta_sts_max_age",
            want: s
                .mta_sts
                .map(|_| Want::Int(i64::from(s.mta_sts_max_age.secs()))),
            is_default: s.mta_sts_max_age == StsMaxAge::DEFAULT,
            canon: |_| None,
            comment: "seconds senders cache the MTA-STS policy (RFC 8461 §3.2)",
            quiet_default: true,
        },
        str_field(
            "tls_rpt_rua",
            s.tls_rpt_rua.as_ref().map(ToString::to_string),
            None,
            |r| TlsRptUri::parse(r).ok().map(|v| v.to_string()),
            "where TLS reports go: mailto: or https: (RFC 8460); optional",
        ),
    ]
}

/// Does the existing item already hold what `field` wants (compared in canonical form)?
fn holds(item: &Item, field: &Field, want: &Want) -> bool {
    match want {
        Want::Str(w) => item.as_str().and_then(field.canon).as_ref() == Some(w),
        Want::Int(n) => item.as_integer() == Some(*n),
        Want::Bool(b) => item.as_bool() == Some(*b),
        Want::List(w) => item.as_array().is_some_and(|a| {
            a.len() == w.len()
                && a.iter()
                    .zip(w)
                    .all(|(v, w)| v.as_str().and_then(field.canon).as_ref() == Some(w))
        }),
    }
}

fn put(table: &mut Table, field: &Field, fresh: bool) {
    let Some(want) = &field.want else {
        table.remove(field.key);
        return;
    };
    let Some(item) = table.get_mut(field.key) else {
        if (fresh && !field.quiet_default) || !field.is_default {
            let value = want.value();
            let used = field.key.len() + " = ".len() + value.to_string().trim().len();
            let pad = COMMENT_COLUMN.saturating_sub(used).max(2);
            let suffix = format!("{}# {}", " ".repeat(pad), field.comment);
            table.insert(field.key, Item::Value(value.decorated(" ", suffix)));
        }
        return;
    };
    if holds(item, field, want) {
        return;
    }
    match (item.as_value_mut(), want) {
        (Some(Value::Array(old)), Want::List(w)) => update_array(old, w, field.canon),
        (Some(old), _) => {
            let decor = old.decor().clone();
            let mut value = want.value();
            *value.decor_mut() = decor;
            *old = value;
        }
        (None, _) => *item = Item::Value(want.value()),
    }
}

/// Rebuilds `old` to hold `want`: elements still wanted are reused with their comments,
/// new ones follow the array's layout.
///
/// In a one-per-line array a comment after an element's comma (`"a", # main`) belongs to that
/// element, but toml_edit stores it in the *next* element's prefix (or the array's trailing
/// text). So each prefix is split at its first newline into the previous element's `tail` and
/// this element's `lead` (comment lines above it plus indentation), and the pieces are put
/// back together around the new order. A one-line array is re-spaced as `["a", "b"]`.
fn update_array(old: &mut Array, want: &[String], canon: fn(&str) -> Option<String>) {
    let canon_old: Vec<Option<String>> = old.iter().map(|v| v.as_str().and_then(canon)).collect();
    let (open_tail, leads, tails, close_lead) = pieces(old);
    let multiline = leads.iter().chain(&tails).any(|t| t.contains('\n'))
        || format!("{open_tail}{close_lead}").contains('\n');
    let indent = leads
        .last()
        .map(|l| l.rsplit('\n').next().unwrap_or_default())
        .filter(|i| i.trim().is_empty())
        .unwrap_or("  ")
        .to_string();
    let mut pool: Vec<Option<Value>> = old.iter().cloned().map(Some).collect();
    if !old.trailing_comma() {
        // pieces() moved the last element's suffix into its tail.
        if let Some(Some(last)) = pool.last_mut() {
            last.decor_mut().set_suffix("");
        }
    }
    // (lead, value, tail) in the new order.
    let mut out: Vec<(String, Value, String)> = Vec::with_capacity(want.len());
    for w in want {
        let reused = (0..pool.len())
            .find(|&i| pool[i].is_some() && canon_old[i].as_ref() == Some(w))
            .and_then(|i| {
                let v = pool[i].take()?;
                Some((leads[i].clone(), v, tails[i].clone()))
            });
        out.push(reused.unwrap_or_else(|| {
            let v = Value::from(w.as_str()).decorated("", "");
            (indent.clone(), v, "\n".to_string())
        }));
    }
    let mut new = Array::new();
    let mut carry = open_tail;
    for (i, (lead, mut value, tail)) in out.into_iter().enumerate() {
        let prefix = match (multiline, i) {
            (true, _) => format!("{carry}{lead}"),
            (false, 0) => String::new(),
            (false, _) => " ".to_string(),
        };
        value.decor_mut().set_prefix(prefix);
        new.push_formatted(value);
        carry = tail;
    }
    if multiline {
        new.set_trailing(format!("{carry}{close_lead}"));
    } else {
        new.set_trailing(old.trailing().clone());
    }
    new.set_trailing_comma(old.trailing_comma());
    *new.decor_mut() = old.decor().clone();
    *old = new;
}

/// Splits the whitespace and comments of `array` into (text after `[` up to the first line
/// end, each element's lead, each element's tail, text before `]`); see [`update_array`].
/// The pieces concatenate back to the array's text minus values, commas and brackets.
fn pieces(array: &Array) -> (String, Vec<String>, Vec<String>, String) {
    let first_line = |s: &str| match s.find('\n') {
        Some(i) => (s[..=i].to_string(), s[i + 1..].to_string()),
        None => (String::new(), s.to_string()),
    };
    let mut open_tail = String::new();
    let mut leads = Vec::new();
    let mut tails = Vec::new();
    for (i, v) in array.iter().enumerate() {
        let (tail, lead) = first_line(raw(v.decor().prefix()));
        if i == 0 {
            open_tail = tail;
        } else {
            tails.push(tail);
        }
        leads.push(lead);
    }
    // Without a trailing comma, what follows the last value is its suffix, then `trailing`.
    let last_suffix = match array.iter().last() {
        Some(v) if !array.trailing_comma() => raw(v.decor().suffix()),
        _ => "",
    };
    let (tail, close_lead) = first_line(&format!("{last_suffix}{}", raw(Some(array.trailing()))));
    if array.is_empty() {
        open_tail = tail;
    } else {
        tails.push(tail);
    }
    (open_tail, leads, tails, close_lead)
}

/// The text of a decor part (empty when unset or not held as text).
fn raw(part: Option<&toml_edit::RawString>) -> &str {
    part.and_then(|r| r.as_str()).unwrap_or("")
}
