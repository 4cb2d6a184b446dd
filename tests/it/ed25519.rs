//! Ed25519 dual signing (RFC 8463, answers `algorithms`) on a `--root` tree. With the
//! OpenDKIM installed here (Debian 12's 2.11.0~beta2, which signs every key with one
//! algorithm) `plan` and `apply` refuse, naming `algorithms`, and write nothing. Given an
//! OpenDKIM that signs with both (the plan's input [`Current::dual_signing`]), the plan
//! adds the key, the KeyTable line with its algorithm, the second SigningTable entry and
//! `MultipleSignatures` as a normal change, the key is PKCS#8 v1 that OpenSSL loads, and a
//! second plan is empty; `records` prints both DKIM records, which pasted into a real
//! (in-process) authoritative server make `check` pass, and a missing, mis-typed or foreign
//! Ed25519 record is found, naming it; the selftest verifies a message signed with both
//! keys (in-process, as a capable OpenDKIM would sign it), each against its own key.
//!
//! [`Current::dual_signing`]: mailsetup::plan::Current

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::path::Path;
use std::process::Command;

use crate::support::dns_server::{TestDns, zone};
use crate::support::{self, Tree};

const ANSWERS_2048: &str = r#"hostname = "mail.example.org"
ipv4 = "192.0.2.10"
allow_private_ip = true
domains = ["example.org", "example.net"]
key_bits = 2048
dmarc_rua = "mailto:postmaster@example.org"
"#;
const ED: &str = "algorithms = [\"rsa-sha256\", \"ed25519-sha256\"]\n";
const ED_KEY: &str = "/etc/opendkim/keys/example.org/ed25519.private";

/// A Debian 12 tree after `apply` with RSA only, and the answers with Ed25519 on (written
/// beside the tree, not applied yet).
fn tree_rsa_applied() -> (Tree, String) {
    let tree = Tree::debian12();
    tree.write("/answers.toml", ANSWERS_2048);
    let rsa = tree.path("/answers.toml").display().to_string();
    tree.run(&["apply", "--yes", "--answers", &rsa])
        .expect_code(0);
    tree.write("/answers-ed.toml", &format!("{ANSWERS_2048}{ED}"));
    let ed = tree.path("/answers-ed.toml").display().to_string();
    (tree, ed)
}

#[test]
fn the_installed_opendkim_cannot_sign_twice_so_plan_and_apply_refuse() {
    let (tree, ed) = tree_rsa_applied();
    if mailsetup::host::probe::dual_signing::opendkim_signs_both().is_ok() {
        eprintln!("note: the OpenDKIM here signs with both keys; nothing to refuse");
        return;
    }
    let before = tree.snapshot();
    for args in [
        &["plan", "--answers", &ed][..],
        &["apply", "--yes", "--answers", &ed],
        &["apply", "--dry-run", "--answers", &ed],
    ] {
        let run = tree.run(args);
        run.expect_code(2);
        assert!(
            run.stderr.contains("answers: `algorithms`")
                && run
                    .stderr
                    .contains("cannot sign a message with an RSA and an Ed25519 key")
                && run
                    .stderr
                    .contains("leave ed25519-sha256 out of algorithms"),
            "{args:?}: {}",
            run.stderr
        );
    }
    assert_eq!(tree.snapshot(), before, "nothing written");
}

/// The tree's state for `answers`, read as `plan` reads it, with an OpenDKIM that signs
/// with both keys.
fn current_dual(
    tree: &Tree,
    answers: &str,
) -> (
    mailsetup::host::system::Root,
    mailsetup::settings::Settings,
    mailsetup::plan::Current,
) {
    let settings = mailsetup::answers::parse(&std::fs::read_to_string(answers).unwrap()).unwrap();
    let root = mailsetup::host::system::Root::new(tree.root());
    let mut current = mailsetup::plan::Current::read(&root, &settings).unwrap();
    assert!(current.dual_signing.is_some(), "asked, as Ed25519 is on");
    current.dual_signing = Some(Ok(()));
    (root, settings, current)
}

/// [`current_dual`]'s plan applied through the library, as `apply --yes` does; the plan.
fn apply_dual(tree: &Tree, answers: &str) -> mailsetup::plan::Plan {
    let (root, settings, current) = current_dual(tree, answers);
    let plan = mailsetup::plan::build(&settings, &current).unwrap();
    let options = mailsetup::host::apply::Options::now("apply");
    mailsetup::host::apply::apply(&root, &plan, &current.accounts, &options).unwrap();
    plan
}

#[test]
fn adding_ed25519_is_a_normal_change_and_a_second_plan_is_empty() {
    let (tree, ed) = tree_rsa_applied();
    let rsa_key = tree.read("/etc/opendkim/keys/example.org/mail.private");
    let plan = apply_dual(&tree, &ed).to_string();
    for line in [
        "+MultipleSignatures\tyes\n",
        "+ed25519._domainkey.example.org example.org:ed25519:/etc/opendkim/keys/example.org/ed25519.private:ed25519-sha256\n",
        "+*@example.org ed25519._domainkey.example.org\n",
        "+*@example.net ed25519._domainkey.example.net\n",
        "new key /etc/opendkim/keys/example.net/ed25519.private (Ed25519, opendkim:opendkim 0600)",
    ] {
        assert!(plan.contains(line), "{line} missing:\n{plan}");
    }
    assert!(
        !plan.contains("mail.private (") && !plan.contains("rotate"),
        "the RSA keys stay as they are:\n{plan}"
    );
    assert_eq!(
        tree.read("/etc/opendkim/keys/example.org/mail.private"),
        rsa_key,
        "the RSA key is kept"
    );
    // the RSA entry stays first (the one a rotation switches), the Ed25519 one follows
    let st = tree.read("/etc/opendkim/SigningTable");
    let rsa_at = st
        .find("*@example.org mail._domainkey.example.org\n")
        .unwrap();
    let ed_at = st
        .find("*@example.org ed25519._domainkey.example.org\n")
        .unwrap();
    assert!(rsa_at < ed_at, "{st}");
    assert!(
        tree.read("/etc/opendkim.conf")
            .contains("\nMultipleSignatures\tyes\n")
    );
    let pem = tree.read(ED_KEY);
    let public = mailsetup::keys::ed25519_public_from_pem(&pem).unwrap();
    assert_eq!(public.p.len(), 44);
    let txt = tree.read("/etc/opendkim/keys/example.org/ed25519.txt");
    assert!(
        txt.starts_with("ed25519._domainkey\tIN\tTXT\t")
            && txt.contains(&format!("\"v=DKIM1; k=ed25519; p={}\"", public.p)),
        "{txt}"
    );
    openssl_loads(&tree.path(ED_KEY), &public.p);

    let (_, settings, current) = current_dual(&tree, &ed);
    assert_eq!(
        current.ed_keys[&mailsetup::values::Domain::parse("example.org").unwrap()].path,
        Path::new(ED_KEY),
        "the KeyTable's line with its fourth field names the key"
    );
    let again = mailsetup::plan::build(&settings, &current).unwrap();
    assert!(!again.pending(), "{again}");
}

/// OpenSSL 3 (what OpenDKIM loads keys with) reads the key, and its public key is `p`.
/// Skipped, with a note, without the openssl program.
fn openssl_loads(key: &Path, p: &str) {
    let Ok(out) = Command::new("openssl")
        .args(["pkey", "-pubout", "-outform", "DER", "-in"])
        .arg(key)
        .output()
    else {
        eprintln!("note: openssl not installed; the key's OpenSSL check is skipped");
        return;
    };
    assert!(
        out.status.success(),
        "openssl pkey refuses the key: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // SubjectPublicKeyInfo of Ed25519: 12 bytes of header, then the raw 32-byte key
    assert_eq!(out.stdout.len(), 44);
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD.decode(p).unwrap();
    assert_eq!(&out.stdout[12..], raw.as_slice());
}

/// `mailsetup records --format zone --domain D`, which must succeed.
fn records_zone(tree: &Tree, answers: &str, domain: &str) -> String {
    let out = tree.run(&[
        "records",
        "--answers",
        answers,
        "--format",
        "zone",
        "--domain",
        domain,
    ]);
    out.expect_code(0);
    out.stdout
}

/// The zones of `records` for both domains (the one of example.org through `edit`), the
/// reverse zone and the blocklists, served.
async fn serve(tree: &Tree, answers: &str, edit: impl Fn(String) -> String) -> TestDns {
    let mut zones = Vec::new();
    for d in ["example.org", "example.net"] {
        let mut records = records_zone(tree, answers, d);
        if d == "example.org" {
            records = edit(records);
        }
        zones.push(format!("{}{records}", zone(d, &[])));
    }
    zones.push(zone(
        "2.0.192.in-addr.arpa",
        &["10 IN PTR mail.example.org."],
    ));
    zones.extend(support::scenario::blocklists());
    let refs: Vec<&str> = zones.iter().map(String::as_str).collect();
    TestDns::start(&refs).await
}

/// `check --json` against `dns`: its exit code, and the (id, message) of every `dkim` finding.
fn dkim_findings(tree: &Tree, answers: &str, dns: &TestDns) -> (i32, Vec<(String, String)>) {
    let ns = dns.addr().to_string();
    let port = dns.addr().port().to_string();
    let run = tree.run(&[
        "check",
        "--answers",
        answers,
        "--json",
        "--nameserver",
        &ns,
        "--authoritative-port",
        &port,
    ]);
    let v: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", run.stdout, run.stderr));
    let found = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"].as_str().unwrap().starts_with("dkim."))
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (run.code, found)
}

#[tokio::test(flavor = "multi_thread")]
async fn both_records_printed_and_checked_at_the_servers() {
    let (tree, ed) = tree_rsa_applied();
    apply_dual(&tree, &ed);
    let p = mailsetup::keys::ed25519_public_from_pem(&tree.read(ED_KEY))
        .unwrap()
        .p;
    let org = records_zone(&tree, &ed, "example.org");
    let ed_line = format!("ed25519._domainkey\tIN\tTXT\t\"v=DKIM1; k=ed25519; p={p}\"");
    assert!(org.contains(&ed_line), "{ed_line} missing:\n{org}");
    assert!(
        org.contains("mail._domainkey\tIN\tTXT\t\"v=DKIM1; k=rsa; \" \"p="),
        "{org}"
    );
    let json = tree.run(&["records", "--answers", &ed, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let values: Vec<&str> = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"] == "ed25519._domainkey")
        .map(|r| r["value"].as_str().unwrap())
        .collect();
    assert_eq!(values.len(), 2, "one per domain: {}", json.stdout);

    // pasted as printed: check passes, no dkim finding
    let dns = serve(&tree, &ed, |z| z).await;
    let (code, found) = dkim_findings(&tree, &ed, &dns);
    assert_eq!((code, found.clone()), (0, vec![]), "{found:?}");

    // the Ed25519 record left out, with k=rsa, or another key: each found, naming it
    let other = mailsetup::keys::PrivateKey::generate_ed25519().unwrap();
    let cases: Vec<(&str, String)> = vec![
        ("dkim.missing", String::new()),
        (
            "dkim.syntax",
            format!("ed25519._domainkey IN TXT \"v=DKIM1; k=rsa; p={p}\""),
        ),
        (
            "dkim.syntax",
            format!("ed25519._domainkey IN TXT \"v=DKIM1; k=ed25519; p={p}AAAA\""),
        ),
        (
            "dkim.key-mismatch",
            format!(
                "ed25519._domainkey IN TXT \"v=DKIM1; k=ed25519; p={}\"",
                other.public().p
            ),
        ),
    ];
    for (id, replacement) in cases {
        let dns = serve(&tree, &ed, |z| z.replace(&ed_line, &replacement)).await;
        let (code, found) = dkim_findings(&tree, &ed, &dns);
        assert_eq!(code, 1, "{id}: {found:?}");
        assert_eq!(found.len(), 1, "{id}: {found:?}");
        assert_eq!(found[0].0, id, "{found:?}");
        assert!(
            found[0].1.contains("ed25519._domainkey.example.org"),
            "{found:?}"
        );
    }
}

/// A message signed in-process (mail-auth) with an RSA and an Ed25519 key, as OpenDKIM would
/// with both: `selftest::verify` checks each signature against its published and local key.
#[tokio::test(flavor = "multi_thread")]
async fn the_selftest_verifies_both_signatures() {
    use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256};
    use mail_auth::common::headers::HeaderWriter as _;
    use mail_auth::dkim::DkimSigner;
    use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

    let der = |pem: &str| -> Vec<u8> {
        use base64::Engine as _;
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap()
    };
    let rsa = mailsetup::keys::PrivateKey::generate(mailsetup::values::KeyBits::B1024).unwrap();
    let ed = mailsetup::keys::PrivateKey::generate_ed25519().unwrap();
    let message = "From: postmaster@example.org\r\nTo: a@example.invalid\r\nSubject: t\r\n\
                   Date: Thu, 1 Jan 2026 00:00:00 +0000\r\n\r\nt\r\n";
    let rsa_key = RsaKey::<Sha256>::from_key_der(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        der(rsa.pem()),
    )))
    .unwrap();
    let ed_key = Ed25519Key::from_pkcs8_der(&der(ed.pem())).unwrap();
    let headers = ["From", "To", "Subject", "Date"];
    let sig_rsa = DkimSigner::from_key(rsa_key)
        .domain("example.org")
        .selector("mail")
        .headers(headers)
        .sign(message.as_bytes())
        .unwrap();
    let sig_ed = DkimSigner::from_key(ed_key)
        .domain("example.org")
        .selector("ed25519")
        .headers(headers)
        .sign(message.as_bytes())
        .unwrap();
    let text = format!("{}{}{message}", sig_rsa.to_header(), sig_ed.to_header());

    let mut settings = mailsetup::answers::parse(&format!("{ANSWERS_2048}{ED}")).unwrap();
    settings.domains.truncate(1);
    let domain = settings.domains[0].clone();
    let local = mailsetup::selftest::LocalKeys {
        rsa: [(domain.clone(), rsa.public().p.clone())].into(),
        ed25519: [(domain.clone(), ed.public().p.clone())].into(),
    };
    let zone_with = |ed_p: &str| {
        let rsa_value = format!("v=DKIM1; k=rsa; p={}", rsa.public().p);
        let (a, b) = rsa_value.split_at(200);
        zone(
            "example.org",
            &[
                &format!("mail._domainkey IN TXT \"{a}\" \"{b}\""),
                &format!("ed25519._domainkey IN TXT \"v=DKIM1; k=ed25519; p={ed_p}\""),
            ],
        )
    };
    let ids = |findings: &[mailsetup::check::Finding]| -> Vec<(String, String)> {
        findings
            .iter()
            .map(|f| (f.id.to_string(), f.message.clone()))
            .collect()
    };

    let dns = crate::support::lab::Lab::start(&[&zone_with(&ed.public().p)]).await;
    let auth = mailsetup::dns::Authority::new(dns.options()).unwrap();
    let found =
        ids(
            &mailsetup::selftest::verify(&text, &settings, &domain, "example.org", &auth, &local)
                .await,
        );
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].0 == "selftest.signed"
            && found[0]
                .1
                .starts_with("d=example.org, s=mail, rsa-sha256: "),
        "{found:?}"
    );
    assert!(
        found[1].0 == "selftest.signed"
            && found[1]
                .1
                .starts_with("d=example.org, s=ed25519, ed25519-sha256: "),
        "{found:?}"
    );

    // another Ed25519 key published: that signature fails against DNS, the RSA one passes
    let other = mailsetup::keys::PrivateKey::generate_ed25519().unwrap();
    let stale = crate::support::lab::Lab::start(&[&zone_with(&other.public().p)]).await;
    let auth = mailsetup::dns::Authority::new(stale.options()).unwrap();
    let found =
        ids(
            &mailsetup::selftest::verify(&text, &settings, &domain, "example.org", &auth, &local)
                .await,
        );
    let got: Vec<&str> = found.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        got,
        ["selftest.signed", "selftest.dkim-fail-published"],
        "{found:?}"
    );
    assert!(
        found[1].1.contains("ed25519._domainkey.example.org"),
        "{found:?}"
    );

    // the local Ed25519 key is another one: dkim-fail-local for it
    let local_other = mailsetup::selftest::LocalKeys {
        ed25519: [(domain.clone(), other.public().p.clone())].into(),
        ..local.clone()
    };
    let auth = mailsetup::dns::Authority::new(dns.options()).unwrap();
    let found = ids(&mailsetup::selftest::verify(
        &text,
        &settings,
        &domain,
        "example.org",
        &auth,
        &local_other,
    )
    .await);
    let got: Vec<&str> = found.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        got,
        [
            "selftest.signed",
            "selftest.dkim-fail-local",
            "selftest.signed"
        ],
        "{found:?}"
    );
}
