//! The answers file (TOML, one flat table): [`parse`] turns it into [`Settings`], every
//! value parsed once into its typed form; [`write()`] renders [`Settings`] back, editing an
//! existing file in place with toml_edit so the operator's comments and ordering survive.
//!
//! ```toml
//! hostname = "mail.example.org"          # required
//! domains = ["example.org"]              # required, non-empty, no duplicates
//! ipv4 = "192.0.2.10"                    # optional: one of ipv4/ipv6 is enough
//! ipv6 = "2001:db8::10"                  # optional
//! allow_private_ip = true                # default false: see below
//! inet_protocols = "ipv4"                # default: "all" with both, "ipv6" with ipv6 only, else "ipv4"
//! selector = "mail"                      # default
//! key_bits = 2048                        # default
//! algorithms = ["rsa-sha256"]            # default; add "ed25519-sha256" to sign twice (RFC 8463)
//! ed25519_selector = "ed25519"           # default; only with "ed25519-sha256"
//! socket = "local"                       # default; or "inet:8891"
//! trusted_hosts = ["127.0.0.1", "::1", "localhost"]   # default
//! spf_all = "~all"                       # default
//! dmarc_policy = "none"                  # default
//! dmarc_rua = "mailto:postmaster@example.org"   # optional
//! provider = "ovh"                       # optional: the hosting provider (its PTR steps)
//! inbound_spf = false                    # default; true: SPF-check incoming mail (policyd-spf)
//! signer = "opendkim"                   # default; or "amavisd-new"
//! inbound_dmarc = false                  # default; true: OpenDMARC judges incoming mail
//! dmarc_reject_failures = false          # default; true (with inbound_dmarc): reject p=reject failures
//! tls_cert = "/etc/letsencrypt/live/mail.example.org/fullchain.pem"   # optional, with tls_key
//! tls_key = "/etc/letsencrypt/live/mail.example.org/privkey.pem"      # optional, with tls_cert
//! mta_sts = "testing"                    # optional: "testing" | "enforce" | "none" (RFC 8461)
//! mta_sts_max_age = 604800               # default one week; 0..=31557600 s; only with mta_sts
//! tls_rpt_rua = "mailto:tlsrpt@example.org"   # optional: mailto: or https: (RFC 8460 §3)
//! ```
//!
//! `ipv4`/`ipv6` in a private, carrier-grade NAT, documentation or benchmarking range
//! ([`private_range`]: RFC 1918, RFC 6598, RFC 5737, RFC 2544, RFC 4193, RFC 3849, …) are
//! refused unless `allow_private_ip = true`: receivers see the server's public address, and
//! that is what SPF and PTR must name. The example addresses above are documentation ones,
//! so the example needs the flag. Loopback, link-local, multicast and the other addresses
//! `parse_public_ipv4`/`parse_public_ipv6` refuse stay refused with it.
//!
//! The server may have either family alone or both: an IPv6-only server gives `ipv6` only.
//! With neither, an IPv4 is detected from the interfaces when the records are computed
//! (`flows::records::server_addrs`); with one given, nothing is detected.
use std::collections::HashMap;
use std::net::IpAddr;

use toml_edit::{DocumentMut, Item, Table};

use crate::settings::Settings;
use crate::values::*;

mod error;
#[cfg(test)]
mod reject_tests;
#[cfg(test)]
mod tests;
mod write;
#[cfg(test)]
mod write_tests;

pub use error::AnswerError;
pub use write::write;

/// Every key the answers file may contain, in the order [`write()`] renders them.
pub const KNOWN_KEYS: [&str; 25] = [
    "hostname",
    "ipv4",
    "ipv6",
    "allow_private_ip",
    "inet_protocols",
    "domains",
    "selector",
    "key_bits",
    "algorithms",
    "ed25519_selector",
    "socket",
    "trusted_hosts",
    "spf_all",
    "dmarc_policy",
    "dmarc_rua",
    "provider",
    "inbound_spf",
    "signer",
    "inbound_dmarc",
    "dmarc_reject_failures",
    "tls_cert",
    "tls_key",
    "mta_sts",
    "mta_sts_max_age",
    "tls_rpt_rua",
];

/// An example line for `key` (array indices ignored), used in error messages.
fn example(field: &str) -> Option<&'static str> {
    let key = field.split('[').next().unwrap_or(field);
    Some(match key {
        "hostname" => "hostname = \"mail.example.org\"",
        "ipv4" => "ipv4 = \"192.0.2.10\"",
        "ipv6" => "ipv6 = \"2001:db8::10\"",
        "allow_private_ip" => "allow_private_ip = true",
        "inet_protocols" => "inet_protocols = \"ipv4\"",
        "domains" => "domains = [\"example.org\", \"example.net\"]",
        "selector" => "selector = \"mail\"",
        "key_bits" => "key_bits = 2048",
        "algorithms" => "algorithms = [\"rsa-sha256\", \"ed25519-sha256\"]",
        "ed25519_selector" => "ed25519_selector = \"ed25519\"",
        "socket" => "socket = \"local\"",
        "trusted_hosts" => "trusted_hosts = [\"127.0.0.1\", \"::1\", \"localhost\"]",
        "spf_all" => "spf_all = \"~all\"",
        "dmarc_policy" => "dmarc_policy = \"none\"",
        "dmarc_rua" => "dmarc_rua = \"mailto:postmaster@example.org\"",
        "provider" => "provider = \"ovh\"",
        "inbound_spf" => "inbound_spf = true",
        "signer" => "signer = \"opendkim\"",
        "inbound_dmarc" => "inbound_dmarc = true",
        "dmarc_reject_failures" => "dmarc_reject_failures = false",
        "tls_cert" => "tls_cert = \"/etc/letsencrypt/live/mail.example.org/fullchain.pem\"",
        "tls_key" => "tls_key = \"/etc/letsencrypt/live/mail.example.org/privkey.pem\"",
        "mta_sts" => "mta_sts = \"testing\"",
        "mta_sts_max_age" => "mta_sts_max_age = 604800",
        "tls_rpt_rua" => "tls_rpt_rua = \"mailto:tlsrpt@example.org\"",
        _ => return None,
    })
}

/// Parses and validates an answers file.
///
/// Errors ([`AnswerError`], the first problem found): TOML syntax (with line and column, and
/// the key when that line assigns one); an unknown key (top-level tables count as keys); a
/// value of the wrong TOML type; a missing `hostname` or `domains`; a value breaking its
/// type's rule (see `values`), an empty `domains`, or a duplicate in `domains` /
/// `trusted_hosts` (compared after canonicalisation, so `::ffff:1.2.3.4` duplicates
/// `1.2.3.4`); an `ipv4` / `ipv6` in a [`private_range`] without `allow_private_ip = true`
/// ([`AnswerError::NotPublic`]); an `inet_protocols` for a family the addresses given lack
/// (`"ipv6"` without `ipv6`, `"ipv4"` with an `ipv6` and no `ipv4`); `dmarc_reject_failures = true`
/// without `inbound_dmarc = true`; `mta_sts_max_age` without `mta_sts`, or outside
/// 0..=31557600 (RFC 8461 §3.2). Duplicates are refused rather than dropped, so a copy-paste
/// slip is shown to the operator.
pub fn parse(text: &str) -> Result<Settings, AnswerError> {
    let doc: DocumentMut = text.parse().map_err(|e| error::syntax(text, &e))?;
    let t = doc.as_table();
    for (key, _) in t.iter() {
        if !KNOWN_KEYS.contains(&key) {
            return Err(AnswerError::UnknownKey {
                key: key.to_string(),
                suggestion: error::suggest(key),
            });
        }
    }
    let hostname = string(t, "hostname")?.ok_or(AnswerError::Missing { field: "hostname" })?;
    let hostname = typed("hostname", "host name (FQDN)", hostname, Domain::parse)?;
    let allow_private_ip = boolean(t, "allow_private_ip")?;
    let ipv4 = opt(t, "ipv4", "IPv4 address", parse_public_ipv4)?;
    public(t, "ipv4", ipv4.map(IpAddr::V4), allow_private_ip)?;
    let ipv6 = opt(t, "ipv6", "IPv6 address", parse_public_ipv6)?;
    public(t, "ipv6", ipv6.map(IpAddr::V6), allow_private_ip)?;
    let inet_protocols = opt(
        t,
        "inet_protocols",
        "inet_protocols value",
        InetProtocols::parse,
    )?
    .unwrap_or(Settings::default_inet_protocols(ipv4, ipv6));
    if inet_protocols == InetProtocols::Ipv6 && ipv6.is_none() {
        return Err(AnswerError::Invalid {
            field: "inet_protocols".to_string(),
            value: "\"ipv6\"".to_string(),
            kind: "inet_protocols value",
            rule: Rule::new(
                "asks for IPv6 only, but no `ipv6` address is given: the SPF, AAAA and PTR \
                 records need it (postconf(5) inet_protocols); add ipv6 = \"…\", or use \
                 \"ipv4\" or \"all\"",
            ),
        });
    }
    if inet_protocols == InetProtocols::Ipv4 && ipv4.is_none() && ipv6.is_some() {
        return Err(AnswerError::Invalid {
            field: "inet_protocols".to_string(),
            value: "\"ipv4\"".to_string(),
            kind: "inet_protocols value",
            rule: Rule::new(
                "asks for IPv4 only, but only an `ipv6` address is given: Postfix would not \
                 send from it, and the SPF, A and PTR records need an IPv4 (postconf(5) \
                 inet_protocols); add ipv4 = \"…\", or use \"ipv6\" or \"all\"",
            ),
        });
    }
    let domains = strings(t, "domains")?.ok_or(AnswerError::Missing { field: "domains" })?;
    if domains.is_empty() {
        return Err(AnswerError::Invalid {
            field: "domains".to_string(),
            value: "[]".to_string(),
            kind: "domain list",
            rule: Rule::new("at least one signing domain is required"),
        });
    }
    let domains = list("domains", "domain", &domains, Domain::parse)?;
    let selector = opt(t, "selector", "DKIM selector", Selector::parse)?.unwrap_or_default();
    let key_bits = key_bits(t)?;
    let ed25519 = ed25519(t, &selector)?;
    let socket =
        opt(t, "socket", "milter socket", MilterSocket::parse)?.unwrap_or(MilterSocket::Local);
    let trusted_hosts = match strings(t, "trusted_hosts")? {
        None => Settings::default_trusted_hosts(),
        Some(v) => list("trusted_hosts", "trusted host", &v, TrustedHost::parse)?,
    };
    let spf_all =
        opt(t, "spf_all", "SPF all qualifier", SpfAll::parse)?.unwrap_or(SpfAll::SoftFail);
    let dmarc_policy =
        opt(t, "dmarc_policy", "DMARC policy", DmarcPolicy::parse)?.unwrap_or(DmarcPolicy::None);
    let dmarc_rua = opt(t, "dmarc_rua", "DMARC report address", MailtoUri::parse)?;
    let provider = opt(
        t,
        "provider",
        "hosting provider",
        crate::provider::Provider::parse,
    )?;
    let inbound_spf = boolean(t, "inbound_spf")?;
    let signer = opt(t, "signer", "DKIM signer", Signer::parse)?.unwrap_or_default();
    if ed25519.is_some() && signer == Signer::AmavisdNew {
        return Err(AnswerError::Invalid {
            field: "algorithms".to_string(),
            value: "[\"rsa-sha256\", \"ed25519-sha256\"]".to_string(),
            kind: "DKIM signing algorithms",
            rule: Rule::new(
                "ed25519-sha256 is signed by OpenDKIM only, and signer = \"amavisd-new\" \
                 takes OpenDKIM out: use signer = \"opendkim\", or algorithms = \
                 [\"rsa-sha256\"]",
            ),
        });
    }
    let inbound_dmarc = boolean(t, "inbound_dmarc")?;
    let dmarc_reject_failures = boolean(t, "dmarc_reject_failures")?;
    if dmarc_reject_failures && !inbound_dmarc {
        return Err(AnswerError::Invalid {
            field: "dmarc_reject_failures".to_string(),
            value: "true".to_string(),
            kind: "boolean",
            rule: Rule::new(
                "rejecting DMARC failures needs OpenDMARC to judge incoming mail: set \
                 inbound_dmarc = true as well, or leave dmarc_reject_failures out",
            ),
        });
    }
    let tls = tls_pair(t)?;
    let mta_sts = opt(t, "mta_sts", "MTA-STS mode", StsMode::parse)?;
    let mta_sts_max_age = mta_sts_max_age(t, mta_sts.is_some())?;
    let tls_rpt_rua = opt(t, "tls_rpt_rua", "TLS-RPT report URI", TlsRptUri::parse)?;
    Ok(Settings {
        hostname,
        ipv4,
        ipv6,
        allow_private_ip,
        inet_protocols,
        domains,
        selector,
        key_bits,
        ed25519,
        socket,
        trusted_hosts,
        spf_all,
        dmarc_policy,
        dmarc_rua,
        provider,
        inbound_spf,
        signer,
        inbound_dmarc,
        dmarc_reject_failures,
        tls,
        mta_sts,
        mta_sts_max_age,
        tls_rpt_rua,
    })
}

/// `tls_cert` and `tls_key`: both absolute paths ([`crate::tls::parse_path`]), or neither.
fn tls_pair(t: &Table) -> Result<Option<(std::path::PathBuf, std::path::PathBuf)>, AnswerError> {
    let cert = opt(t, "tls_cert", "certificate path", crate::tls::parse_path)?;
    let key = opt(t, "tls_key", "private key path", crate::tls::parse_path)?;
    match (cert, key) {
        (Some(c), Some(k)) => Ok(Some((c, k))),
        (None, None) => Ok(None),
        (Some(c), None) => Err(AnswerError::Invalid {
            field: "tls_cert".to_string(),
            value: format!("{:?}", c.display().to_string()),
            kind: "certificate path",
            rule: Rule::new(
                "tls_cert needs tls_key, the private key of that certificate: give both, \
                 or neither (then Let's Encrypt's certificate for the hostname is found, or \
                 Debian's snake-oil one kept)",
            ),
        }),
        (None, Some(k)) => Err(AnswerError::Invalid {
            field: "tls_key".to_string(),
            value: format!("{:?}", k.display().to_string()),
            kind: "private key path",
            rule: Rule::new(
                "tls_key needs tls_cert, the certificate (chain) it belongs to: give both, \
                 or neither",
            ),
        }),
    }
}

/// `mta_sts_max_age`: one week when absent. Errors: not an integer, outside 0..=31557600
/// (RFC 8461 §3.2), or given without `mta_sts` (`managed == false`).
fn mta_sts_max_age(t: &Table, managed: bool) -> Result<StsMaxAge, AnswerError> {
    let Some(item) = t.get("mta_sts_max_age") else {
        return Ok(StsMaxAge::DEFAULT);
    };
    let n = item
        .as_integer()
        .ok_or_else(|| wrong_type("mta_sts_max_age", "an integer", item))?;
    let invalid = |rule| AnswerError::Invalid {
        field: "mta_sts_max_age".to_string(),
        value: n.to_string(),
        kind: "MTA-STS max_age",
        rule,
    };
    let age = StsMaxAge::from_secs(n).map_err(invalid)?;
    if !managed {
        return Err(invalid(Rule::new(
            "is the lifetime of the MTA-STS policy, which only exists with mta_sts: set \
             mta_sts = \"testing\" as well, or leave mta_sts_max_age out",
        )));
    }
    Ok(age)
}

/// The boolean at `key`, `false` when absent; any other TOML type is an error.
fn boolean(t: &Table, key: &str) -> Result<bool, AnswerError> {
    match t.get(key) {
        None => Ok(false),
        Some(item) => item
            .as_bool()
            .ok_or_else(|| wrong_type(key, "a boolean", item)),
    }
}

/// `algorithms` and `ed25519_selector`: the Ed25519 selector when `algorithms` lists
/// `ed25519-sha256` (RFC 8463), else `None`. Errors: an element other than `rsa-sha256` or
/// `ed25519-sha256`, one listed twice, no `rsa-sha256` (RSA always signs: many receivers
/// ignore Ed25519); `ed25519_selector` without `ed25519-sha256`, or equal to `selector`.
fn ed25519(t: &Table, selector: &Selector) -> Result<Option<Selector>, AnswerError> {
    const RULE: &str = "must be \"rsa-sha256\" or \"ed25519-sha256\" (RFC 6376 §3.3, RFC 8463)";
    let algorithms = match strings(t, "algorithms")? {
        None => vec!["rsa-sha256"],
        Some(v) => list(
            "algorithms",
            "DKIM signing algorithm",
            &v,
            |a: &str| match a {
                "rsa-sha256" => Ok("rsa-sha256"),
                "ed25519-sha256" => Ok("ed25519-sha256"),
                _ => Err(Rule::new(RULE)),
            },
        )?,
    };
    if !algorithms.contains(&"rsa-sha256") {
        return Err(AnswerError::Invalid {
            field: "algorithms".to_string(),
            value: format!("{algorithms:?}"),
            kind: "DKIM signing algorithms",
            rule: Rule::new(
                "must contain \"rsa-sha256\": many receivers ignore Ed25519 signatures, so \
                 an Ed25519 signature is only ever added to the RSA one; write algorithms = \
                 [\"rsa-sha256\", \"ed25519-sha256\"]",
            ),
        });
    }
    let on = algorithms.contains(&"ed25519-sha256");
    let given = opt(t, "ed25519_selector", "DKIM selector", Selector::parse)?;
    let invalid = |s: &Selector, rule| AnswerError::Invalid {
        field: "ed25519_selector".to_string(),
        value: format!("{:?}", s.to_string()),
        kind: "DKIM selector",
        rule: Rule::new(rule),
    };
    match (on, given) {
        (false, None) => Ok(None),
        (false, Some(s)) => Err(invalid(
            &s,
            "names the Ed25519 key, which is only made with \"ed25519-sha256\" in \
             algorithms: add it there, or leave ed25519_selector out",
        )),
        (true, given) => {
            let s = match given {
                Some(s) => s,
                None => Selector::parse(Settings::DEFAULT_ED25519_SELECTOR)
                    .expect("the default selector is valid"),
            };
            if s.as_str().eq_ignore_ascii_case(selector.as_str()) {
                return Err(invalid(
                    &s,
                    "must differ from selector: the RSA and the Ed25519 key each need a \
                     record of their own",
                ));
            }
            Ok(Some(s))
        }
    }
}

/// `key_bits`: 2048 when absent. Errors: not an integer, or not a size [`KeyBits`] allows.
fn key_bits(t: &Table) -> Result<KeyBits, AnswerError> {
    let Some(item) = t.get("key_bits") else {
        return Ok(KeyBits::B2048);
    };
    let n = item
        .as_integer()
        .ok_or_else(|| wrong_type("key_bits", "an integer", item))?;
    KeyBits::from_bits(n).map_err(|rule| AnswerError::Invalid {
        field: "key_bits".to_string(),
        value: n.to_string(),
        kind: "key size",
        rule,
    })
}

/// Refuses `ip` (the parsed value of `key`) when it lies in a [`private_range`] and
/// `allow_private_ip` is not set.
fn public(
    t: &Table,
    key: &'static str,
    ip: Option<IpAddr>,
    allow_private_ip: bool,
) -> Result<(), AnswerError> {
    let Some(range) = ip.and_then(private_range) else {
        return Ok(());
    };
    if allow_private_ip {
        return Ok(());
    }
    Err(AnswerError::NotPublic {
        field: key,
        value: format!("{:?}", string(t, key)?.unwrap_or_default()),
        range,
    })
}

fn wrong_type(field: &str, expected: &'static str, item: &Item) -> AnswerError {
    AnswerError::WrongType {
        field: field.to_string(),
        expected,
        found: item.type_name(),
    }
}

/// The string at `key`, if present; any other TOML type is an error.
fn string<'a>(t: &'a Table, key: &str) -> Result<Option<&'a str>, AnswerError> {
    match t.get(key) {
        None => Ok(None),
        Some(item) => item
            .as_str()
            .map(Some)
            .ok_or_else(|| wrong_type(key, "a string", item)),
    }
}

/// The array of strings at `key`, if present; `key` or an element of another type is an error.
fn strings<'a>(t: &'a Table, key: &str) -> Result<Option<Vec<&'a str>>, AnswerError> {
    let Some(item) = t.get(key) else {
        return Ok(None);
    };
    let array = item
        .as_array()
        .ok_or_else(|| wrong_type(key, "an array of strings", item))?;
    let mut out = Vec::with_capacity(array.len());
    for (i, v) in array.iter().enumerate() {
        let s = v.as_str().ok_or_else(|| AnswerError::WrongType {
            field: format!("{key}[{i}]"),
            expected: "a string",
            found: v.type_name(),
        })?;
        out.push(s);
    }
    Ok(Some(out))
}

/// Runs a value parser, turning its [`Rule`] into [`AnswerError::Invalid`].
fn typed<T>(
    field: &str,
    kind: &'static str,
    raw: &str,
    parse: impl FnOnce(&str) -> Result<T, Rule>,
) -> Result<T, AnswerError> {
    parse(raw).map_err(|rule| AnswerError::Invalid {
        field: field.to_string(),
        value: format!("{raw:?}"),
        kind,
        rule,
    })
}

/// An optional string key run through its value parser.
fn opt<T>(
    t: &Table,
    key: &str,
    kind: &'static str,
    parse: impl FnOnce(&str) -> Result<T, Rule>,
) -> Result<Option<T>, AnswerError> {
    string(t, key)?
        .map(|raw| typed(key, kind, raw, parse))
        .transpose()
}

/// Every element through `parse`, refusing duplicates of the canonical value (by Display).
fn list<T: std::fmt::Display>(
    key: &str,
    kind: &'static str,
    raw: &[&str],
    parse: impl Fn(&str) -> Result<T, Rule>,
) -> Result<Vec<T>, AnswerError> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::with_capacity(raw.len());
    for (i, r) in raw.iter().enumerate() {
        let field = format!("{key}[{i}]");
        let v = typed(&field, kind, r, &parse)?;
        let canon = v.to_string();
        if let Some(first) = seen.get(&canon) {
            return Err(AnswerError::Invalid {
                field,
                value: format!("{r:?}"),
                kind,
                rule: Rule(format!(
                    "it is the same as `{key}[{first}]` ({canon}); list each entry once"
                )),
            });
        }
        seen.insert(canon, i);
        out.push(v);
    }
    Ok(out)
}
