//! [`judge`] on certificates made here with rcgen: a test CA, server certificates for a
//! name, with a chosen validity, and keys.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, date_time_ymd,
};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use super::*;

const HOST: &str = "mail.example.org";

/// 2026-06-01 00:00 UTC.
fn now() -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(1_780_272_000))
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(2040, 1, 1);
    CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap()
}

fn trust(ca: &CertifiedIssuer<'static, KeyPair>) -> Trust {
    let mut roots = RootCertStore::empty();
    roots.add(ca.der().clone()).unwrap();
    Trust {
        roots,
        source: "--tls-ca ca.pem".into(),
    }
}

/// A server certificate for `names`, valid from `from` to `until` (y, m, d), by `ca`, with
/// its key.
fn leaf(
    ca: &CertifiedIssuer<'static, KeyPair>,
    names: &[&str],
    from: (i32, u8, u8),
    until: (i32, u8, u8),
) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let key = KeyPair::generate().unwrap();
    let mut p =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    p.distinguished_name.push(DnType::CommonName, names[0]);
    p.not_before = date_time_ymd(from.0, from.1, from.2);
    p.not_after = date_time_ymd(until.0, until.1, until.2);
    let cert = p.signed_by(&key, ca).unwrap();
    let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    (cert.der().clone(), der)
}

fn wanted(names: &[&str]) -> Vec<WantedName> {
    names
        .iter()
        .map(|n| WantedName {
            name: n.to_string(),
            why: "myhostname".into(),
        })
        .collect()
}

fn ids_of(
    cert: &CertificateDer<'static>,
    key: Option<&PrivateKeyDer<'static>>,
    t: &Trust,
) -> Vec<&'static str> {
    findings(cert, key, t, &[HOST])
        .iter()
        .map(|f| f.id)
        .collect()
}

fn findings(
    cert: &CertificateDer<'static>,
    key: Option<&PrivateKeyDer<'static>>,
    t: &Trust,
    names: &[&str],
) -> Vec<Finding> {
    let chain = [cert.clone()];
    let p = Presented {
        chain: &chain,
        key,
        origin: "smtpd_tls_cert_file /etc/ssl/mail.pem",
    };
    judge(&p, &wanted(names), Some(t), now(), HOST)
}

#[test]
fn a_valid_certificate_from_the_trusted_ca_passes() {
    let ca = ca("Test CA");
    let (cert, key) = leaf(&ca, &[HOST, "mx.example.net"], (2026, 1, 1), (2026, 12, 1));
    let f = findings(&cert, Some(&key), &trust(&ca), &[HOST, "mx.example.net"]);
    assert_eq!(f, []);
}

#[test]
fn each_fault_gives_exactly_its_id() {
    let other = ca("Other CA");
    let ca = ca("Test CA");
    let t = trust(&ca);
    let (wrong, key) = leaf(&ca, &["other.example.org"], (2026, 1, 1), (2026, 12, 1));
    assert_eq!(
        ids_of(&wrong, Some(&key), &t),
        [ids::TLS_CERT_NAME_MISMATCH]
    );
    let (expired, key) = leaf(&ca, &[HOST], (2025, 1, 1), (2026, 3, 1));
    assert_eq!(ids_of(&expired, Some(&key), &t), [ids::TLS_CERT_EXPIRED]);
    let (future, key) = leaf(&ca, &[HOST], (2026, 9, 1), (2027, 3, 1));
    assert_eq!(ids_of(&future, Some(&key), &t), [ids::TLS_CERT_EXPIRED]);
    let (soon, key) = leaf(&ca, &[HOST], (2026, 3, 1), (2026, 6, 15));
    assert_eq!(ids_of(&soon, Some(&key), &t), [ids::TLS_CERT_EXPIRING]);
    let (foreign, key) = leaf(&other, &[HOST], (2026, 1, 1), (2026, 12, 1));
    assert_eq!(ids_of(&foreign, Some(&key), &t), [ids::TLS_CERT_UNTRUSTED]);
    let (good, _) = leaf(&ca, &[HOST], (2026, 1, 1), (2026, 12, 1));
    let (_, other_key) = leaf(&ca, &[HOST], (2026, 1, 1), (2026, 12, 1));
    assert_eq!(ids_of(&good, Some(&other_key), &t), [ids::TLS_KEY_MISMATCH]);
    // a live chain has no key to compare
    assert_eq!(ids_of(&good, None, &t), Vec::<&str>::new());
}

#[test]
fn the_messages_give_the_date_and_what_to_do() {
    let ca = ca("Test CA");
    let t = trust(&ca);
    let (expired, _) = leaf(&ca, &[HOST], (2025, 1, 1), (2026, 3, 1));
    let f = &findings(&expired, None, &t, &[HOST])[0];
    assert!(
        f.message.contains("expired on 2026-03-01 00:00 UTC"),
        "{}",
        f.message
    );
    assert!(f.fix.as_deref().unwrap().contains("certbot"), "{:?}", f.fix);
    let (soon, _) = leaf(&ca, &[HOST], (2026, 3, 1), (2026, 6, 15));
    let f = &findings(&soon, None, &t, &[HOST])[0];
    assert_eq!(f.severity, Severity::Warning);
    assert!(
        f.message.contains("2026-06-15") && f.message.contains("in 14 day(s)"),
        "{}",
        f.message
    );
    let (wrong, _) = leaf(&ca, &["other.example.org"], (2026, 1, 1), (2026, 12, 1));
    let f = &findings(&wrong, None, &t, &[HOST, "mx.example.net"])[0];
    assert!(
        f.message
            .contains("not valid for mail.example.org (myhostname), mx.example.net"),
        "{}",
        f.message
    );
    assert!(
        f.message.contains("it names other.example.org"),
        "{}",
        f.message
    );
    assert!(
        f.fix
            .as_deref()
            .unwrap()
            .contains("-d mail.example.org -d mx.example.net")
    );
}

#[test]
fn a_name_the_certificate_covers_by_wildcard_passes() {
    let ca = ca("Test CA");
    let (cert, _) = leaf(&ca, &["*.example.org"], (2026, 1, 1), (2026, 12, 1));
    assert_eq!(findings(&cert, None, &trust(&ca), &[HOST]), []);
    let f = findings(&cert, None, &trust(&ca), &["a.b.example.org"]);
    assert_eq!(
        f.iter().map(|f| f.id).collect::<Vec<_>>(),
        [ids::TLS_CERT_NAME_MISMATCH]
    );
}

#[test]
fn self_signed_is_untrusted_with_the_certbot_hint() {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(vec![HOST.to_string()]).unwrap();
    p.distinguished_name.push(DnType::CommonName, HOST);
    p.not_before = date_time_ymd(2026, 1, 1);
    p.not_after = date_time_ymd(2036, 1, 1);
    let cert = p.self_signed(&key).unwrap();
    let t = trust(&ca("Test CA"));
    let f = findings(cert.der(), None, &t, &[HOST]);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].id, ids::TLS_CERT_UNTRUSTED);
    assert!(f[0].message.contains("self-signed"), "{}", f[0].message);
    assert!(f[0].fix.as_deref().unwrap().contains("certbot certonly"));
}

#[test]
fn a_chain_through_an_intermediate_verifies_only_when_served_whole() {
    let root = ca("Test Root");
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name
        .push(DnType::CommonName, "Test Intermediate");
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(2040, 1, 1);
    let inter = CertifiedIssuer::signed_by(p, KeyPair::generate().unwrap(), &root).unwrap();
    let (cert, _) = leaf(&inter, &[HOST], (2026, 1, 1), (2026, 12, 1));
    let t = trust(&root);
    let whole = [cert.clone(), inter.der().clone()];
    let p = |chain| Presented {
        chain,
        key: None,
        origin: "smtpd_tls_cert_file /etc/ssl/mail.pem",
    };
    assert_eq!(
        judge(&p(&whole), &wanted(&[HOST]), Some(&t), now(), HOST),
        []
    );
    let alone = [cert];
    let f = judge(&p(&alone), &wanted(&[HOST]), Some(&t), now(), HOST);
    assert_eq!(
        f.iter().map(|f| f.id).collect::<Vec<_>>(),
        [ids::TLS_CERT_UNTRUSTED]
    );
    assert!(
        f[0].fix.as_deref().unwrap().contains("fullchain.pem"),
        "{:?}",
        f[0].fix
    );
}

#[test]
fn no_certificate_or_garbage_is_untrusted() {
    let t = trust(&ca("Test CA"));
    let p = Presented {
        chain: &[],
        key: None,
        origin: "smtpd_tls_cert_file /etc/ssl/empty.pem",
    };
    let f = judge(&p, &wanted(&[HOST]), Some(&t), now(), HOST);
    assert_eq!(
        f.iter().map(|f| f.id).collect::<Vec<_>>(),
        [ids::TLS_CERT_UNTRUSTED]
    );
    let junk = [CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x00])];
    let p = Presented { chain: &junk, ..p };
    let f = judge(&p, &wanted(&[HOST]), Some(&t), now(), HOST);
    assert_eq!(
        f.iter().map(|f| f.id).collect::<Vec<_>>(),
        [ids::TLS_CERT_UNTRUSTED]
    );
}
