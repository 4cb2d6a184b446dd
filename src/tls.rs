//! TLS for Postfix, as values (pure): which certificate the server presents (discovery), what
//! main.cf must say for opportunistic TLS both ways (postconf(5), TLS_README), and Postfix's
//! protocol-list syntax, read as Postfix reads it (`tls_protocol_mask()`, Postfix 3.6+).
//!
//! - [`choose`]: the answers' `tls_cert`/`tls_key`, else Let's Encrypt's
//!   `/etc/letsencrypt/live/<hostname>/fullchain.pem` + `privkey.pem`, else the certificate
//!   main.cf already names (when it exists), else Debian's snake-oil pair, with
//!   [`certbot_advice`] saying how to get a real one.
//! - [`edit`]: the main.cf edits of the TLS step on a [`MainCf`].
//! - [`enabled_protocols`] / [`weak_protocols`]: what a `*_tls_protocols` value enables.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::host::apply::fence::Kind;
use crate::paths::Meta;
use crate::postfix::{EditError, MainCf, split_list};
use crate::values::{Domain, Rule};

#[cfg(test)]
mod tests;

/// Debian's self-signed certificate (package ssl-cert, made at its installation).
pub const SNAKEOIL_CERT: &str = "/etc/ssl/certs/ssl-cert-snakeoil.pem";
/// Its key, root:ssl-cert 0640 as Debian installs it.
pub const SNAKEOIL_KEY: &str = "/etc/ssl/private/ssl-cert-snakeoil.key";

/// Is this PEM text's first certificate self-signed (issuer = subject, RFC 5280 §4.1.2.4):
/// `None` when it holds no certificate that parses. Debian's snake-oil certificate is; a
/// certificate an operator (or a test lab) wrote over the snake-oil file is not, and is then
/// judged like any other.
pub fn first_is_self_signed(pem: &[u8]) -> Option<bool> {
    let (_, block) = x509_parser::pem::parse_x509_pem(pem).ok()?;
    let cert = block.parse_x509().ok()?;
    Some(cert.issuer() == cert.subject())
}
/// Where certbot keeps the current certificate of each name.
pub const LETSENCRYPT_LIVE: &str = "/etc/letsencrypt/live";
/// The CA directory the SMTP client verifies servers against (Debian's ca-certificates).
pub const CA_PATH: &str = "/etc/ssl/certs";
/// The group Debian gives read access to private keys (ssl-cert).
pub const SSL_CERT_GROUP: &str = "ssl-cert";
/// What the protocol parameters are set to: TLS 1.2 and newer.
pub const PROTOCOLS: &str = ">=TLSv1.2";
/// The four protocol parameters, both directions, opportunistic and mandatory (postconf(5)).
pub const PROTOCOL_PARAMETERS: [&str; 4] = [
    "smtpd_tls_protocols",
    "smtpd_tls_mandatory_protocols",
    "smtp_tls_protocols",
    "smtp_tls_mandatory_protocols",
];
/// The deprecated switches (postconf(5): "use smtp[d]_tls_security_level instead").
pub const DEPRECATED: [(&str, &str); 4] = [
    ("smtp_use_tls", "smtp_tls_security_level"),
    ("smtp_enforce_tls", "smtp_tls_security_level"),
    ("smtpd_use_tls", "smtpd_tls_security_level"),
    ("smtpd_enforce_tls", "smtpd_tls_security_level"),
];

/// Where the certificate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The answers' `tls_cert` and `tls_key`.
    Answers,
    /// certbot's `/etc/letsencrypt/live/<hostname>/`.
    LetsEncrypt,
    /// The pair main.cf already names (the operator's), which exists.
    Configured,
    /// Debian's self-signed snake-oil pair.
    SnakeOil,
}

/// The certificate and key the server presents on port 25, and where they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub source: Source,
}

/// A file as the TLS checks and plan see it: what it is (never followed) and its owner/mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileInfo {
    pub kind: Kind,
    pub meta: Meta,
}

/// The candidate files beneath the root ([`candidates`]), `None` when absent (or when this
/// user may not look at them).
pub type Files = BTreeMap<PathBuf, Option<FileInfo>>;

/// Whether `path` exists in `files` as a file or a link (certbot's `live/` names are links).
pub fn exists(files: &Files, path: &Path) -> bool {
    files
        .get(path)
        .copied()
        .flatten()
        .is_some_and(|f| matches!(f.kind, Kind::File | Kind::Symlink))
}

/// `tls_cert` / `tls_key` of the answers: an absolute path, without whitespace, `,`, `$` or a
/// control character (main.cf would split, expand or break it, postconf(5)).
pub fn parse_path(raw: &str) -> Result<PathBuf, Rule> {
    if !raw.starts_with('/') {
        return Err(Rule::new(
            "give an absolute path (starting with /), e.g. \
             \"/etc/letsencrypt/live/mail.example.org/fullchain.pem\"",
        ));
    }
    if raw
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == ',' || c == '$')
    {
        return Err(Rule::new(
            "a path in main.cf cannot hold whitespace, `,`, `$` or a control character \
             (Postfix would split or expand it)",
        ));
    }
    if raw.ends_with('/') {
        return Err(Rule::new("name a file, not a directory"));
    }
    Ok(PathBuf::from(raw))
}

/// certbot's live pair for `hostname`: `(fullchain.pem, privkey.pem)`.
pub fn letsencrypt(hostname: &Domain) -> (PathBuf, PathBuf) {
    let dir = Path::new(LETSENCRYPT_LIVE).join(hostname.as_str());
    (dir.join("fullchain.pem"), dir.join("privkey.pem"))
}

/// The files [`configured`] names, certificate first.
pub fn configured_files(main_cf: &str) -> Vec<PathBuf> {
    let (c, k) = configured(&MainCf::parse(main_cf));
    c.into_iter().chain(k).collect()
}

/// The certificate and key main.cf names for the SMTP server: `smtpd_tls_chain_files` when
/// set (the key first, as Postfix requires; the last file is taken as the certificate), else
/// `smtpd_tls_cert_file` and `smtpd_tls_key_file` (the key defaulting to the certificate's
/// file, postconf(5)). `None` for a name that is empty or holds a `$` expansion.
pub fn configured(cf: &MainCf) -> (Option<PathBuf>, Option<PathBuf>) {
    let path = |v: &str| (!v.is_empty() && !v.contains('$')).then(|| PathBuf::from(v));
    if let Some(chain) = cf.get("smtpd_tls_chain_files").filter(|v| !v.is_empty()) {
        let files = split_list(&chain);
        let key = files.first().and_then(|f| path(f));
        let cert = files.last().and_then(|f| path(f));
        return (cert, key);
    }
    let cert = cf.get("smtpd_tls_cert_file").and_then(|v| path(&v));
    let key = cf
        .get("smtpd_tls_key_file")
        .and_then(|v| path(&v))
        .or_else(|| cert.clone());
    (cert, key)
}

/// Every file [`choose`] and the checks may look at: the answers' pair, certbot's pair, the
/// snake-oil pair, and what main.cf names.
pub fn candidates(
    hostname: &Domain,
    answers: Option<(&Path, &Path)>,
    main_cf: Option<&str>,
) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    if let Some((c, k)) = answers {
        out.extend([c.to_path_buf(), k.to_path_buf()]);
    }
    let (c, k) = letsencrypt(hostname);
    out.extend([c, k, SNAKEOIL_CERT.into(), SNAKEOIL_KEY.into()]);
    if let Some(text) = main_cf {
        let (c, k) = configured(&MainCf::parse(text));
        out.extend(c);
        out.extend(k);
    }
    out.sort();
    out.dedup();
    out
}

/// The certificate to present: the answers' pair (whether it exists or not: a missing one is
/// an error of the plan), else certbot's pair for the hostname when both exist, else the pair
/// main.cf names when both exist and are not the snake-oil ones, else the snake-oil pair.
pub fn choose(
    hostname: &Domain,
    answers: Option<(&Path, &Path)>,
    main_cf: &MainCf,
    files: &Files,
) -> Choice {
    if let Some((cert, key)) = answers {
        return Choice {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            source: Source::Answers,
        };
    }
    let (cert, key) = letsencrypt(hostname);
    if exists(files, &cert) && exists(files, &key) {
        return Choice {
            cert,
            key,
            source: Source::LetsEncrypt,
        };
    }
    if let (Some(cert), Some(key)) = configured(main_cf)
        && cert != Path::new(SNAKEOIL_CERT)
        && exists(files, &cert)
        && exists(files, &key)
    {
        return Choice {
            cert,
            key,
            source: Source::Configured,
        };
    }
    Choice {
        cert: SNAKEOIL_CERT.into(),
        key: SNAKEOIL_KEY.into(),
        source: Source::SnakeOil,
    }
}

/// How to get a certificate for `hostname` that other servers can verify, in words: certbot,
/// standalone or webroot, with the deploy hook that reloads Postfix after each renewal.
pub fn certbot_advice(hostname: &Domain) -> String {
    let (cert, _) = letsencrypt(hostname);
    let dir = cert.parent().map(Path::display);
    format!(
        "get a certificate for {hostname} from Let's Encrypt (apt-get install certbot): \
         `certbot certonly --standalone -d {hostname} --deploy-hook \"postfix reload\"` \
         (port 80 free and reachable from the Internet), or, with a web server on port 80, \
         `certbot certonly --webroot -w /var/www/html -d {hostname} --deploy-hook \"postfix \
         reload\"`; certbot's timer renews it and the hook reloads Postfix. Then run mailsetup \
         again: it finds {} and points Postfix at it",
        dir.map(|d| d.to_string()).unwrap_or_default()
    )
}

/// A TLS protocol version Postfix knows, lowest first (postconf(5) `smtp_tls_protocols`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Protocol {
    SslV2,
    SslV3,
    TlsV1,
    TlsV1_1,
    TlsV1_2,
    TlsV1_3,
}

impl Protocol {
    pub const ALL: [Protocol; 6] = [
        Protocol::SslV2,
        Protocol::SslV3,
        Protocol::TlsV1,
        Protocol::TlsV1_1,
        Protocol::TlsV1_2,
        Protocol::TlsV1_3,
    ];

    /// Its name in Postfix's syntax.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::SslV2 => "SSLv2",
            Protocol::SslV3 => "SSLv3",
            Protocol::TlsV1 => "TLSv1",
            Protocol::TlsV1_1 => "TLSv1.1",
            Protocol::TlsV1_2 => "TLSv1.2",
            Protocol::TlsV1_3 => "TLSv1.3",
        }
    }

    /// The wire version (0x0301 = TLS 1.0; SSL 2 is 0x0002).
    fn number(self) -> u32 {
        match self {
            Protocol::SslV2 => 0x0002,
            Protocol::SslV3 => 0x0300,
            Protocol::TlsV1 => 0x0301,
            Protocol::TlsV1_1 => 0x0302,
            Protocol::TlsV1_2 => 0x0303,
            Protocol::TlsV1_3 => 0x0304,
        }
    }

    /// Weak: anything older than TLS 1.2 (RFC 8996 deprecates TLS 1.0 and 1.1).
    pub fn weak(self) -> bool {
        self < Protocol::TlsV1_2
    }

    fn by_name(name: &str) -> Option<Protocol> {
        Protocol::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }

    /// A bound: a name, or a hexadecimal version with optional `0`/`0x` prefixes
    /// ("301", "0301", "0x0301" = TLSv1), as Postfix 3.6+ accepts after `>=`/`<=`.
    fn bound(text: &str) -> Option<u32> {
        if let Some(p) = Protocol::by_name(text) {
            return Some(p.number());
        }
        let hex = text
            .strip_prefix("0x")
            .or_else(|| text.strip_prefix("0X"))
            .unwrap_or(text);
        u32::from_str_radix(hex, 16).ok()
    }
}

/// The default of every `*_tls_protocols` parameter in Postfix 3.6+ (Debian 12's 3.7),
/// postconf(5): TLS 1.0 and newer.
pub const DEFAULT_PROTOCOLS: &str = ">=TLSv1";

/// The protocols a `*_tls_protocols` value enables, as Postfix reads it: elements separated
/// by whitespace, `,` or `:`; `!name` excludes, `>=v` / `<=v` bound the range (a name or a
/// hexadecimal version), a bare name includes (with any, the others are excluded). An empty
/// value enables every protocol. Unknown names are ignored here (Postfix refuses them).
pub fn enabled_protocols(value: &str) -> Vec<Protocol> {
    let mut include: Vec<Protocol> = Vec::new();
    let mut exclude: Vec<Protocol> = Vec::new();
    let (mut floor, mut ceiling) = (0u32, u32::MAX);
    for tok in value
        .split(|c: char| c.is_whitespace() || c == ',' || c == ':')
        .filter(|t| !t.is_empty())
    {
        if let Some(name) = tok.strip_prefix('!') {
            exclude.extend(Protocol::by_name(name));
        } else if let Some(v) = tok.strip_prefix(">=") {
            floor = floor.max(Protocol::bound(v).unwrap_or(0));
        } else if let Some(v) = tok.strip_prefix("<=") {
            ceiling = ceiling.min(Protocol::bound(v).unwrap_or(u32::MAX));
        } else if let Some(p) = Protocol::by_name(tok) {
            include.push(p);
        }
    }
    Protocol::ALL
        .into_iter()
        .filter(|p| include.is_empty() || include.contains(p))
        .filter(|p| !exclude.contains(p))
        .filter(|p| (floor..=ceiling).contains(&p.number()))
        .collect()
}

/// The weak protocols (older than TLS 1.2) a value enables; `None` (the parameter not set)
/// reads as Postfix's default, [`DEFAULT_PROTOCOLS`].
pub fn weak_protocols(value: Option<&str>) -> Vec<Protocol> {
    enabled_protocols(value.unwrap_or(DEFAULT_PROTOCOLS))
        .into_iter()
        .filter(|p| p.weak())
        .collect()
}

/// Whether a `*_tls_security_level` value turns TLS off: not set, empty, or `none`.
pub fn level_off(value: Option<&str>) -> bool {
    value.is_none_or(|v| v.is_empty() || v.eq_ignore_ascii_case("none"))
}

/// Whether a deprecated `*_use_tls`/`*_enforce_tls` switch is on (`yes`).
pub fn switch_on(cf: &MainCf, name: &str) -> bool {
    cf.get(name).is_some_and(|v| v.eq_ignore_ascii_case("yes"))
}

/// What [`edit`] did besides setting parameters, for the plan's notes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Edited {
    /// The deprecated parameters commented out, with the line each was at.
    pub retired: Vec<(String, usize)>,
    /// Whether the server's certificate was pointed at `choice` (false: it does not exist
    /// beneath the root, and main.cf keeps what it names).
    pub pointed: bool,
}

/// The TLS step's main.cf edits (postconf(5), TLS_README):
///
/// - `smtp_tls_security_level = may` when it is not set, empty or `none` (a stronger level,
///   `encrypt`, `dane`, `verify`, …, is kept); `smtp_tls_loglevel = 1` when not set or 0;
///   `smtp_tls_CApath = /etc/ssl/certs` unless `smtp_tls_CApath` or `smtp_tls_CAfile` is set;
/// - the certificate `choice`, only when `cert_exists` (never a file that is not there):
///   `smtpd_tls_chain_files = key, cert` when main.cf uses that form, else
///   `smtpd_tls_cert_file` and `smtpd_tls_key_file`; `smtpd_tls_security_level = may` when
///   not set, empty or `none`, and a certificate is configured;
/// - `>=TLSv1.2` for each of [`PROTOCOL_PARAMETERS`] whose value enables a weak protocol;
/// - every [`DEPRECATED`] switch commented out (its `yes` is what the security level says).
///
/// Errors: an edit refused (a name or value main.cf cannot hold).
pub fn edit(cf: &mut MainCf, choice: &Choice, cert_exists: bool) -> Result<Edited, EditError> {
    let mut edited = Edited::default();
    if level_off(cf.get("smtp_tls_security_level").as_deref()) {
        let level = if switch_on(cf, "smtp_enforce_tls") {
            "encrypt"
        } else {
            "may"
        };
        cf.set("smtp_tls_security_level", level)?;
    }
    if cf
        .get("smtp_tls_loglevel")
        .is_none_or(|v| v.is_empty() || v == "0")
    {
        cf.set("smtp_tls_loglevel", "1")?;
    }
    if !cf.defined("smtp_tls_CApath") && !cf.defined("smtp_tls_CAfile") {
        cf.set("smtp_tls_CApath", CA_PATH)?;
    }
    if cert_exists {
        let (cert, key) = (choice.cert.display(), choice.key.display());
        if cf
            .get("smtpd_tls_chain_files")
            .is_some_and(|v| !v.is_empty())
        {
            cf.set("smtpd_tls_chain_files", &format!("{key}, {cert}"))?;
        } else {
            cf.set("smtpd_tls_cert_file", &cert.to_string())?;
            cf.set("smtpd_tls_key_file", &key.to_string())?;
        }
        edited.pointed = true;
    }
    let has_cert = cert_exists || configured(cf).0.is_some();
    if has_cert && level_off(cf.get("smtpd_tls_security_level").as_deref()) {
        let level = if switch_on(cf, "smtpd_enforce_tls") {
            "encrypt"
        } else {
            "may"
        };
        cf.set("smtpd_tls_security_level", level)?;
    }
    for name in PROTOCOL_PARAMETERS {
        if !weak_protocols(cf.get(name).as_deref()).is_empty() {
            cf.set(name, PROTOCOLS)?;
        }
    }
    for (name, modern) in DEPRECATED {
        if let Some(line) = cf.line_of(name) {
            cf.retire(name, &format!("deprecated, {modern} says it"));
            edited.retired.push((name.to_string(), line));
        }
    }
    Ok(edited)
}

/// Who counts as root for [`key_exposed`], besides uid and gid 0: beneath a test root run by
/// another user, that user too (only root can give a file to root).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RootIds {
    pub uid: u32,
    pub gid: u32,
}

impl RootIds {
    pub const ROOT: RootIds = RootIds { uid: 0, gid: 0 };
}

/// Who may read a private key, beyond root: `None` when only root may (owner root, nothing
/// for others, the group root or `ssl_cert_gid`, which may read but not write), else why
/// not, in words.
pub fn key_exposed(meta: Meta, ssl_cert_gid: Option<u32>, root: RootIds) -> Option<String> {
    let group_ok = meta.gid == root.gid || meta.gid == 0 || Some(meta.gid) == ssl_cert_gid;
    let found = format!("uid {} gid {} mode {:04o}", meta.uid, meta.gid, meta.mode);
    if meta.uid != root.uid && meta.uid != 0 {
        Some(format!(
            "it is owned by uid {}, not root ({found})",
            meta.uid
        ))
    } else if meta.mode & 0o007 != 0 {
        Some(format!("every user may read or write it ({found})"))
    } else if meta.mode & 0o070 != 0 && !group_ok {
        Some(format!(
            "its group, gid {}, is neither root nor {SSL_CERT_GROUP} ({found})",
            meta.gid
        ))
    } else if meta.mode & 0o020 != 0 {
        Some(format!("its group may write it ({found})"))
    } else {
        None
    }
}
