//! The reading side of the certificate checks: which certificate and key main.cf names
//! (`smtpd_tls_chain_files`, else `smtpd_tls_cert_file` and `smtpd_tls_key_file`,
//! postconf(5)), their PEM contents, and the trust anchors (the system store beneath the
//! root, or a `--tls-ca` bundle). Files are read beneath the root; symbolic links are
//! followed inside the root only (Let's Encrypt's `live/` files are links into `archive/`),
//! an absolute link target being taken beneath the root too.

use std::io;
use std::path::{Component, Path, PathBuf};

use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::tls_cert::Trust;
use crate::host::system::Root;
use crate::postfix::main_cf::MainCf;

/// Debian's bundle of the system's trusted roots (package ca-certificates).
pub const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The certificate and key main.cf configures for smtpd, as read.
#[derive(Debug)]
pub struct Configured {
    /// For the messages: `smtpd_tls_cert_file /etc/ssl/certs/mail.pem`.
    pub origin: String,
    /// The certificates, in file order (the server's first).
    pub chain: Vec<CertificateDer<'static>>,
    /// The private key: `Ok(None)` when the key file holds none, `Err` when it cannot be read.
    pub key: Result<Option<PrivateKeyDer<'static>>, String>,
    /// Debian's self-signed snake-oil certificate (the file [`crate::tls::SNAKEOIL_CERT`],
    /// self-signed: a CA-issued one written over it is judged like any other): its trust
    /// and names are not judged (the TLS step's `tls.snakeoil` note covers it; opportunistic
    /// TLS between MTAs does not verify certificates).
    pub snakeoil: bool,
}

/// What main.cf configures and what the files hold.
#[derive(Debug)]
pub enum Read {
    /// main.cf names no server certificate (or there is no main.cf).
    NotConfigured,
    /// The certificate file named does not exist beneath the root.
    Missing {
        origin: String,
    },
    /// The certificate file exists but cannot be read (permissions): why.
    Unreadable {
        origin: String,
        why: String,
    },
    Read(Configured),
}

/// The server certificate main.cf (`main_cf`, its text) configures, read beneath `root`.
pub fn configured(root: &Root, main_cf: &str) -> Read {
    let cf = MainCf::parse(main_cf);
    let value = |name: &str| expand(&cf, name, 0);
    let chain_files = value("smtpd_tls_chain_files");
    let (param, cert_paths, key_paths) = if !chain_files.trim().is_empty() {
        let files = list(&chain_files);
        ("smtpd_tls_chain_files", files.clone(), files)
    } else {
        let cert = value("smtpd_tls_cert_file");
        if cert.trim().is_empty() {
            return Read::NotConfigured;
        }
        let key = match cf.get("smtpd_tls_key_file") {
            Some(_) => value("smtpd_tls_key_file"),
            None => cert.clone(), // postconf(5): default $smtpd_tls_cert_file
        };
        ("smtpd_tls_cert_file", list(&cert), list(&key))
    };
    let origin = format!("{param} {}", cert_paths.join(", "));
    let mut chain = Vec::new();
    for path in &cert_paths {
        match read_beneath(root, path) {
            Ok(Some(bytes)) => chain.extend(
                CertificateDer::pem_slice_iter(&bytes)
                    .filter_map(Result::ok)
                    .map(|c| c.into_owned()),
            ),
            Ok(None) => return Read::Missing { origin },
            Err(e) => {
                let why = format!("{path}: {e}");
                return Read::Unreadable { origin, why };
            }
        }
    }
    let mut key = Ok(None);
    for path in &key_paths {
        key = match read_beneath(root, path) {
            Ok(Some(bytes)) => Ok(PrivateKeyDer::from_pem_slice(&bytes).ok()),
            Ok(None) => Err(format!("{path} does not exist")),
            Err(e) => Err(format!("{path}: {e}")),
        };
        if matches!(key, Ok(Some(_)) | Err(_)) {
            break;
        }
    }
    let snakeoil = cert_paths.iter().any(|p| p == crate::tls::SNAKEOIL_CERT)
        && chain.first().is_some_and(|c| {
            x509_parser::parse_x509_certificate(c).is_ok_and(|(_, x)| x.issuer() == x.subject())
        });
    Read::Read(Configured {
        origin,
        chain,
        key,
        snakeoil,
    })
}

/// The value of `name` with `$name` / `${name}` references to other parameters expanded
/// (those main.cf defines; others are left as they are).
fn expand(cf: &MainCf, name: &str, depth: usize) -> String {
    let value = cf.get(name).unwrap_or_default();
    if depth > 8 || !value.contains('$') {
        return value;
    }
    let mut out = String::new();
    let mut rest = value.as_str();
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (var, len) = match after.strip_prefix('{') {
            Some(b) => match b.find('}') {
                Some(j) => (&b[..j], j + 2),
                None => (b, b.len() + 1),
            },
            None => {
                let j = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (&after[..j], j)
            }
        };
        if cf.defined(var) {
            out.push_str(&expand(cf, var, depth + 1));
        } else {
            out.push_str(&rest[i..i + 1 + len]);
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

/// A Postfix list: separated by commas and/or whitespace.
fn list(value: &str) -> Vec<String> {
    value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The bytes of the absolute system path `system` beneath `root`, following symbolic links
/// inside the root (at most 40); `None` when it does not exist. Errors: unreadable, a link
/// loop, a link leading above the root.
pub fn read_beneath(root: &Root, system: &str) -> io::Result<Option<Vec<u8>>> {
    match resolve(root, Path::new(system))? {
        Some(real) => match std::fs::read(&real) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        },
        None => Ok(None),
    }
}

/// The real path of `system` beneath the root, its links resolved inside the root.
fn resolve(root: &Root, system: &Path) -> io::Result<Option<PathBuf>> {
    let mut todo: Vec<PathBuf> = components(system);
    todo.reverse();
    let mut done = PathBuf::from("/");
    let mut links = 0;
    while let Some(part) = todo.pop() {
        if part.as_os_str() == ".." {
            done.pop();
            continue;
        }
        let next = done.join(&part);
        let real = root.path(&next);
        let meta = match std::fs::symlink_metadata(&real) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        if !meta.file_type().is_symlink() {
            done = next;
            continue;
        }
        links += 1;
        if links > 40 {
            return Err(io::Error::other("too many levels of symbolic links"));
        }
        let target = std::fs::read_link(&real)?;
        if target.is_absolute() {
            done = PathBuf::from("/");
        }
        let mut parts = components(&target);
        parts.reverse();
        todo.extend(parts);
    }
    Ok(Some(root.path(&done)))
}

/// The normal and `..` components of a path (`.` and the root dropped).
fn components(p: &Path) -> Vec<PathBuf> {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(PathBuf::from(s)),
            Component::ParentDir => Some(PathBuf::from("..")),
            _ => None,
        })
        .collect()
}

/// The system's trusted roots: [`SYSTEM_BUNDLE`] beneath the root. Errors: it does not exist
/// or holds no certificate (the ca-certificates package is missing).
pub fn system_trust(root: &Root) -> Result<Trust, String> {
    let bytes = read_beneath(root, SYSTEM_BUNDLE)
        .map_err(|e| format!("{SYSTEM_BUNDLE}: {e}"))?
        .ok_or_else(|| format!("{SYSTEM_BUNDLE} does not exist (install ca-certificates)"))?;
    trust_from(
        &bytes,
        format!("the system's trusted roots ({SYSTEM_BUNDLE})"),
    )
    .map_err(|e| format!("{SYSTEM_BUNDLE}: {e}"))
}

/// The roots in the PEM bundle `path` (`--tls-ca`, a path on this machine). Errors: it
/// cannot be read or holds no certificate.
pub fn file_trust(path: &Path) -> Result<Trust, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    trust_from(&bytes, format!("--tls-ca {}", path.display()))
}

fn trust_from(pem: &[u8], source: String) -> Result<Trust, String> {
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(
        CertificateDer::pem_slice_iter(pem)
            .filter_map(Result::ok)
            .map(|c| c.into_owned()),
    );
    if added == 0 {
        return Err("holds no usable PEM certificate".into());
    }
    Ok(Trust { roots, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_expand_and_lists_split() {
        let cf = MainCf::parse("d = /etc/ssl\nsmtpd_tls_cert_file = ${d}/a.pem, $d/b.pem $x\n");
        assert_eq!(
            list(&expand(&cf, "smtpd_tls_cert_file", 0)),
            ["/etc/ssl/a.pem", "/etc/ssl/b.pem", "$x"]
        );
    }

    #[test]
    fn links_are_followed_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = Root::new(dir.path());
        let live = dir.path().join("etc/letsencrypt/live/mail.example.org");
        let archive = dir.path().join("etc/letsencrypt/archive/mail.example.org");
        std::fs::create_dir_all(&live).unwrap();
        std::fs::create_dir_all(&archive).unwrap();
        std::fs::write(archive.join("fullchain1.pem"), "chain").unwrap();
        std::os::unix::fs::symlink(
            "../../archive/mail.example.org/fullchain1.pem",
            live.join("fullchain.pem"),
        )
        .unwrap();
        std::os::unix::fs::symlink("/etc/letsencrypt/live", dir.path().join("etc/le")).unwrap();
        let read = |p| read_beneath(&root, p).unwrap();
        let want = Some(b"chain".to_vec());
        assert_eq!(
            read("/etc/letsencrypt/live/mail.example.org/fullchain.pem"),
            want
        );
        assert_eq!(read("/etc/le/mail.example.org/fullchain.pem"), want);
        assert_eq!(read("/etc/le/mail.example.org/privkey.pem"), None);
    }

    #[test]
    fn no_certificate_configured_or_missing() {
        let dir = tempfile::tempdir().unwrap();
        let root = Root::new(dir.path());
        assert!(matches!(
            configured(&root, "myhostname = x\n"),
            Read::NotConfigured
        ));
        let text = "smtpd_tls_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem\n";
        match configured(&root, text) {
            Read::Missing { origin } => assert_eq!(
                origin,
                "smtpd_tls_cert_file /etc/ssl/certs/ssl-cert-snakeoil.pem"
            ),
            other => panic!("{other:?}"),
        }
    }
}
