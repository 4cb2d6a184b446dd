//! `check`'s certificate checks through the real binary, on a tree `apply` set up: main.cf
//! pointed at certificates made here (rcgen) by a throw-away CA given with `--tls-ca`; the
//! lab's DNS gives example.net a second MX, `mx.example.net`, at this server's address, so
//! the certificate must name it too. A valid chain passes; a wrong name, an expired
//! certificate, another CA and a key that is not the certificate's each give exactly their
//! id. The live STARTTLS probe (`--starttls-target`) against a loopback SMTP listener that
//! offers no STARTTLS is `tls.starttls-missing`; beneath a --root tree without the option no
//! probe runs. Postfix itself serving the certificates is the e2e's (tests/e2e/tls_checks.sh).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, date_time_ymd,
};

use crate::check_cli::answers_2048;
use crate::support::lab::Lab;
use crate::support::scenario::fixture_zones_keys;
use crate::support::{Run, Tree};

const HOST: &str = "mail.example.org";
const MX: &str = "mx.example.net";

/// A tree `apply` set up with the 2048-bit fixture answers, and a lab publishing its records
/// with `mx.example.net` (→ 192.0.2.10, the server) as a second MX of example.net.
async fn applied() -> (Tree, Lab) {
    let (tree, _) = crate::check_cli::applied(true).await;
    let p = |d: &str| {
        let pem = tree.read(&format!("/etc/opendkim/keys/{d}/mail.private"));
        mailsetup::keys::public_from_pem(&pem).unwrap().p
    };
    let (org, net) = (p("example.org"), p("example.net"));
    let mut z = fixture_zones_keys(&org, Some(net.as_str()));
    assert!(z[1].starts_with("$ORIGIN example.net."));
    z[1].push_str(&format!("@ IN MX 20 {MX}.\nmx IN A 192.0.2.10\n"));
    let refs: Vec<&str> = z.iter().map(String::as_str).collect();
    (tree, Lab::start(&refs).await)
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(2050, 1, 1);
    CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap()
}

/// A certificate by `ca` for `names`, valid from `from` to `until` (years): PEM, and its
/// key's PEM.
fn leaf(
    ca: &CertifiedIssuer<'static, KeyPair>,
    names: &[&str],
    from: i32,
    until: i32,
) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut p =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    p.distinguished_name.push(DnType::CommonName, names[0]);
    p.not_before = date_time_ymd(from, 1, 1);
    p.not_after = date_time_ymd(until, 1, 1);
    (p.signed_by(&key, ca).unwrap().pem(), key.serialize_pem())
}

/// Point the tree's main.cf at this certificate and key (written beneath the tree).
fn install(tree: &Tree, cert: &str, key: &str) {
    tree.write("/etc/ssl/lab/fullchain.pem", cert);
    tree.write("/etc/ssl/lab/privkey.pem", key);
    // root's only, as the TLS step makes it (else tls.key-permissions)
    let key_path = tree.path("/etc/ssl/lab/privkey.pem");
    std::fs::set_permissions(
        &key_path,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let main_cf = tree.read("/etc/postfix/main.cf");
    let main_cf = main_cf
        .lines()
        .filter(|l| !l.starts_with("smtpd_tls_cert_file") && !l.starts_with("smtpd_tls_key_file"))
        .collect::<Vec<_>>()
        .join("\n");
    tree.write(
        "/etc/postfix/main.cf",
        &format!(
            "{main_cf}\nsmtpd_tls_cert_file = /etc/ssl/lab/fullchain.pem\n\
             smtpd_tls_key_file = /etc/ssl/lab/privkey.pem\n"
        ),
    );
}

/// The `tls` line's subject for what [`install`] configures.
fn subject_of_install() -> String {
    "smtpd_tls_cert_file /etc/ssl/lab/fullchain.pem".to_string()
}

fn check(tree: &Tree, lab: &Lab, extra: &[&str]) -> Run {
    crate::check_cli::command(tree, lab, "check", &answers_2048(tree), extra)
}

/// The ids of `check --json`'s findings, and its certificate and STARTTLS `tls` lines
/// (status, subject): the TLS step's configuration line (subject main.cf) left out.
fn judged(run: &Run) -> (Vec<String>, Vec<(String, String)>) {
    let v: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", run.stdout, run.stderr));
    let ids = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    let lines = v["checked"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == "tls" && c["subject"] != "/etc/postfix/main.cf")
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap().to_string();
            (s("status"), s("subject"))
        })
        .collect();
    (ids, lines)
}

#[tokio::test(flavor = "multi_thread")]
async fn each_certificate_fault_gives_exactly_its_id() {
    let (tree, lab) = applied().await;
    let ca_dir = tempfile::tempdir().unwrap();
    let test_ca = ca("mailsetup test CA");
    let ca_file = ca_dir.path().join("ca.pem");
    std::fs::write(&ca_file, test_ca.pem()).unwrap();
    let ca_arg = ca_file.to_str().unwrap();
    let subject = subject_of_install();
    let run = |cert: &str, key: &str| {
        install(&tree, cert, key);
        check(&tree, &lab, &["--tls-ca", ca_arg, "--json"])
    };

    let (cert, key) = leaf(&test_ca, &[HOST, MX], 2020, 2049);
    let ok = run(&cert, &key);
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    assert_eq!(
        judged(&ok),
        (vec![], vec![("pass".into(), subject.clone())])
    );

    let other_ca = ca("another CA");
    let (cert_other, key_other) = leaf(&other_ca, &[HOST, MX], 2020, 2049);
    let (hostname_only, key_hostname_only) = leaf(&test_ca, &[HOST], 2020, 2049);
    let (expired, key_expired) = leaf(&test_ca, &[HOST, MX], 2020, 2021);
    let cases = [
        // the MX name pointing here is missing
        (hostname_only, key_hostname_only, "tls.cert-name-mismatch"),
        (expired, key_expired, "tls.cert-expired"),
        (cert_other, key_other, "tls.cert-untrusted"),
        (
            cert.clone(),
            KeyPair::generate().unwrap().serialize_pem(),
            "tls.key-mismatch",
        ),
    ];
    for (cert, key, id) in cases {
        let r = run(&cert, &key);
        assert_eq!(r.code, 1, "{id}: {}{}", r.stdout, r.stderr);
        let (ids, lines) = judged(&r);
        assert_eq!(ids, [id], "{}", r.stdout);
        assert_eq!(lines, [("fail".into(), subject.clone())]);
    }
    let mismatch = {
        let (c, k) = leaf(&test_ca, &[HOST], 2020, 2049);
        run(&c, &k)
    };
    assert!(
        mismatch
            .stdout
            .contains("not valid for mx.example.net (MX of example.net)"),
        "{}",
        mismatch.stdout
    );

    // without --tls-ca the tree's system store is used: the fixture's bundle holds only the
    // fixture CA (tests/fixtures/debian12/etc/ssl/certs), not this test CA
    install(&tree, &cert, &key);
    let r = check(&tree, &lab, &["--json"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(judged(&r).0, ["tls.cert-untrusted"]);
    assert!(
        r.stdout.contains("/etc/ssl/certs/ca-certificates.crt"),
        "{}",
        r.stdout
    );
    // with no system store beneath the root the chain is not judged (could not verify),
    // the rest is
    std::fs::remove_file(tree.path("/etc/ssl/certs/ca-certificates.crt")).unwrap();
    let r = check(&tree, &lab, &["--json"]);
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert_eq!(judged(&r).0, ["local.unreadable"]);
    // a --tls-ca that is no PEM bundle is a usage error
    let bad = check(&tree, &lab, &["--tls-ca", "/dev/null"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("--tls-ca"), "{}", bad.stderr);
}

/// A loopback SMTP server that answers EHLO without STARTTLS, for one connection.
fn plain_smtp() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        let mut w = s.try_clone().unwrap();
        let mut r = BufReader::new(s);
        w.write_all(b"220 lab ESMTP\r\n").unwrap();
        let mut line = String::new();
        while r.read_line(&mut line).unwrap_or(0) > 0 {
            let reply: &[u8] = if line.starts_with("EHLO") {
                b"250-lab\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
            } else {
                b"221 bye\r\n"
            };
            let _ = w.write_all(reply);
            line.clear();
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread")]
async fn the_live_probe_needs_starttls_in_the_ehlo_reply() {
    let (tree, lab) = applied().await;
    // a certificate valid for both names this server answers for, so that only the
    // listener is wrong
    let test_ca = ca("mailsetup test CA");
    let ca_dir = tempfile::tempdir().unwrap();
    let ca_file = ca_dir.path().join("ca.pem");
    std::fs::write(&ca_file, test_ca.pem()).unwrap();
    let (cert, key) = leaf(&test_ca, &[HOST, MX], 2020, 2049);
    install(&tree, &cert, &key);
    let ca_arg = ca_file.to_str().unwrap();
    let target = format!("127.0.0.1:{}", plain_smtp());
    // --offline keeps a loopback probe
    let r = check(
        &tree,
        &lab,
        &[
            "--starttls-target",
            &target,
            "--tls-ca",
            ca_arg,
            "--offline",
            "--json",
        ],
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let (ids, lines) = judged(&r);
    assert_eq!(ids, ["tls.starttls-missing"]);
    assert_eq!(
        lines,
        [
            ("pass".into(), subject_of_install()),
            ("fail".into(), format!("STARTTLS on {target}"))
        ]
    );
    assert!(r.stdout.contains("PIPELINING 8BITMIME"), "{}", r.stdout);
    // beneath a --root tree without the option: no probe, and a note says so
    let r = check(&tree, &lab, &["--tls-ca", ca_arg]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(!r.stdout.contains("STARTTLS on"), "{}", r.stdout);
    assert!(
        r.stderr.contains("note: the STARTTLS probe"),
        "{}",
        r.stderr
    );
}
