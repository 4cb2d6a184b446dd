//! The `tls` line on states built as values: what the TLS step leaves passes; each id comes
//! from its cause.

use super::*;
use crate::check::Status;
use crate::local::LocalState;
use crate::paths::Meta;
use crate::values::Domain;

/// main.cf's TLS lines as the TLS step leaves them, with an operator's certificate.
pub(in crate::local) const HEALTHY: &str = "smtpd_tls_cert_file = /etc/ssl/mail.pem\n\
smtpd_tls_key_file = /etc/ssl/private/mail.key\nsmtpd_tls_security_level = may\n\
smtp_tls_CApath = /etc/ssl/certs\nsmtp_tls_security_level = may\nsmtp_tls_loglevel = 1\n\
smtpd_tls_protocols = >=TLSv1.2\nsmtpd_tls_mandatory_protocols = >=TLSv1.2\n\
smtp_tls_protocols = >=TLSv1.2\nsmtp_tls_mandatory_protocols = >=TLSv1.2\n";

fn file(uid: u32, gid: u32, mode: u32) -> Option<tls::FileInfo> {
    Some(tls::FileInfo {
        kind: Kind::File,
        meta: Meta { uid, gid, mode },
    })
}

/// The certificate and key of [`HEALTHY`], present, the key root's 0600.
pub(in crate::local) fn healthy() -> TlsState {
    TlsState {
        files: [
            ("/etc/ssl/mail.pem".into(), file(0, 0, 0o644)),
            ("/etc/ssl/private/mail.key".into(), file(0, 0, 0o600)),
        ]
        .into_iter()
        .collect(),
        root_ids: Some(tls::RootIds::ROOT),
        snakeoil_self_signed: None,
    }
}

fn settings() -> Settings {
    Settings::new(
        Domain::parse("mail.example.org").unwrap(),
        vec![Domain::parse("example.org").unwrap()],
    )
}

fn state(main_cf: &str, tls: TlsState) -> LocalState {
    LocalState {
        main_cf: Some(main_cf.to_string()),
        accounts: crate::host::accounts::Accounts::parse(
            "root:x:0:0::/:/bin/sh\n",
            "root:x:0:\nssl-cert:x:109:\n",
        ),
        tls,
        ..LocalState::default()
    }
}

fn ids(s: &LocalState) -> Vec<&'static str> {
    findings(s, &settings()).iter().map(|f| f.id).collect()
}

#[test]
fn what_the_step_leaves_passes() {
    let s = state(HEALTHY, healthy());
    assert_eq!(ids(&s), Vec::<&str>::new());
    let line = crate::local::checks(&s, &settings()).pop().unwrap();
    assert_eq!(
        (line.checked.check, line.checked.status),
        ("tls", Status::Pass)
    );
}

#[test]
fn each_cause_gives_its_id() {
    let with = |extra: &str| state(&format!("{HEALTHY}{extra}"), healthy());
    assert_eq!(
        ids(&with("smtp_tls_security_level = none\n")),
        ["tls.outbound-off"]
    );
    assert_eq!(
        ids(&with("smtp_tls_security_level =\n")),
        ["tls.outbound-off"]
    );
    assert_eq!(
        ids(&with("smtpd_tls_security_level = none\n")),
        ["tls.inbound-off"]
    );
    assert_eq!(
        ids(&with("smtp_use_tls = yes\n")),
        ["tls.deprecated-parameter"]
    );
    let weak = findings(&with("smtpd_tls_protocols = !SSLv2, !SSLv3\n"), &settings());
    assert_eq!(weak.len(), 1);
    assert_eq!(weak[0].id, "tls.weak-protocol");
    assert_eq!(
        weak[0].found.as_deref(),
        Some("smtpd_tls_protocols = !SSLv2, !SSLv3 enables TLSv1, TLSv1.1")
    );
    // not set: Postfix's default (>=TLSv1), which OpenSSL 3 narrows to TLS 1.2+: not judged
    let stock = HEALTHY.replace("smtp_tls_protocols = >=TLSv1.2\n", "");
    assert_eq!(ids(&state(&stock, healthy())), Vec::<&str>::new());
    assert_eq!(
        ids(&with("smtp_tls_mandatory_protocols =\n")),
        ["tls.weak-protocol"],
        "empty: every protocol"
    );
    // the deprecated switch alone keeps outbound TLS on
    let legacy = HEALTHY.replace("smtp_tls_security_level = may\n", "smtp_use_tls = yes\n");
    assert_eq!(
        ids(&state(&legacy, healthy())),
        ["tls.deprecated-parameter"]
    );
}

#[test]
fn a_certificate_that_is_not_there_turns_starttls_off() {
    let mut t = healthy();
    t.files.insert("/etc/ssl/mail.pem".into(), None);
    let f = findings(&state(HEALTHY, t), &settings());
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].id, "tls.inbound-off");
    assert!(
        f[0].message.contains("/etc/ssl/mail.pem"),
        "{}",
        f[0].message
    );
    let none = HEALTHY
        .replace("smtpd_tls_cert_file = /etc/ssl/mail.pem\n", "")
        .replace("smtpd_tls_key_file = /etc/ssl/private/mail.key\n", "");
    assert_eq!(ids(&state(&none, healthy())), ["tls.inbound-off"]);
}

#[test]
fn the_snakeoil_certificate_is_an_info_with_the_certbot_command() {
    let snake = HEALTHY
        .replace("/etc/ssl/mail.pem", tls::SNAKEOIL_CERT)
        .replace("/etc/ssl/private/mail.key", tls::SNAKEOIL_KEY);
    let t = TlsState {
        files: [
            (tls::SNAKEOIL_CERT.into(), file(0, 0, 0o644)),
            (tls::SNAKEOIL_KEY.into(), file(0, 109, 0o640)),
        ]
        .into_iter()
        .collect(),
        root_ids: Some(tls::RootIds::ROOT),
        snakeoil_self_signed: Some(true),
    };
    let f = findings(&state(&snake, t.clone()), &settings());
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!((f[0].id, f[0].severity), ("tls.snakeoil", Severity::Info));
    let fix = f[0].fix.as_deref().unwrap();
    assert!(
        fix.contains(
            "certbot certonly --standalone -d mail.example.org --deploy-hook \"postfix reload\""
        ),
        "{fix}"
    );
    // a CA-issued certificate written over the snake-oil file is no snake-oil
    let issued = TlsState {
        snakeoil_self_signed: Some(false),
        ..t
    };
    assert_eq!(findings(&state(&snake, issued), &settings()), vec![]);
}

#[test]
fn the_snakeoil_test_reads_the_certificate() {
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["mail.example.org".into()]).unwrap();
    let self_signed = params.self_signed(&key).unwrap().pem();
    assert_eq!(
        tls::first_is_self_signed(self_signed.as_bytes()),
        Some(true)
    );
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "a test CA");
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let issuer = rcgen::CertifiedIssuer::self_signed(ca, ca_key).unwrap();
    let leaf = params.signed_by(&key, &issuer).unwrap().pem();
    assert_eq!(tls::first_is_self_signed(leaf.as_bytes()), Some(false));
    assert_eq!(tls::first_is_self_signed(b"no certificate"), None);
}

#[test]
fn a_key_others_may_read_is_reported() {
    for (uid, gid, mode) in [(0, 0, 0o644), (0, 105, 0o640), (104, 0, 0o600)] {
        let mut t = healthy();
        t.files
            .insert("/etc/ssl/private/mail.key".into(), file(uid, gid, mode));
        assert_eq!(
            ids(&state(HEALTHY, t)),
            ["tls.key-permissions"],
            "{uid} {gid} {mode:o}"
        );
    }
    // a link (certbot's live/) is not followed, so not judged
    let mut t = healthy();
    t.files.insert(
        "/etc/ssl/private/mail.key".into(),
        Some(tls::FileInfo {
            kind: Kind::Symlink,
            meta: Meta {
                uid: 0,
                gid: 0,
                mode: 0o777,
            },
        }),
    );
    assert_eq!(ids(&state(HEALTHY, t)), Vec::<&str>::new());
}
