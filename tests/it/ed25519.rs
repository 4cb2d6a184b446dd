//! Ed25519 dual signing (RFC 8463, answers `algorithms`) on a `--root` tree, with a second
//! OpenDKIM instance (Debian 12's OpenDKIM signs with one algorithm per instance): turning it
//! on in an applied set-up is a normal change that writes /etc/opendkim-ed25519.conf, its
//! own KeyTable and SigningTable, the Ed25519 keys (PKCS#8 v1, which OpenSSL loads), the
//! unit where systemd runs and the second milter in main.cf, leaves the first instance's
//! files alone, and a second plan is empty; `--dry-run` writes nothing; turning it off takes
//! the milter out and stops the instance. `records` prints both DKIM records, which pasted
//! into a real (in-process) authoritative server make `check` pass, and a missing,
//! mis-typed or foreign Ed25519 record is found, naming it; the selftest verifies a message
//! signed with both keys (in-process, as the two instances sign it), each against its own key.

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

/// `apply --yes` with `answers`, which must succeed.
fn apply(tree: &Tree, answers: &str) {
    tree.run(&["apply", "--yes", "--answers", answers])
        .expect_code(0);
}

/// `plan` with `answers`: its output, which must say something is pending (exit 1).
fn pending_plan(tree: &Tree, answers: &str) -> String {
    let run = tree.run(&["plan", "--answers", answers]);
    run.expect_code(1);
    run.stdout
}

const SOCKET: &str = "local:/var/spool/postfix/opendkim/opendkim-ed25519.sock";
const MILTERS: &str = "local:opendkim/opendkim.sock, local:opendkim/opendkim-ed25519.sock";

#[test]
fn adding_ed25519_is_a_normal_change_and_a_second_plan_is_empty() {
    let (tree, ed) = tree_rsa_applied();
    let rsa_key = tree.read("/etc/opendkim/keys/example.org/mail.private");
    let first = [
        "/etc/opendkim.conf",
        "/etc/opendkim/KeyTable",
        "/etc/opendkim/SigningTable",
    ]
    .map(|p| tree.read(p));
    let plan = pending_plan(&tree, &ed);
    for line in [
        "# /etc/opendkim-ed25519.conf: the second OpenDKIM instance",
        "+Mode\t\t\ts\n",
        "+SignatureAlgorithm\ted25519-sha256\n",
        &format!("+Socket\t\t\t{SOCKET}\n"),
        "+PidFile\t\t\t/run/opendkim/opendkim-ed25519.pid\n",
        "+KeyTable\t\t/etc/opendkim/ed25519/KeyTable\n",
        "+SigningTable\t\trefile:/etc/opendkim/ed25519/SigningTable\n",
        "+InternalHosts\t\trefile:/etc/opendkim/TrustedHosts\n",
        "new directory /etc/opendkim/ed25519 (root:root 0755)",
        "+ed25519._domainkey.example.org example.org:ed25519:/etc/opendkim/keys/example.org/ed25519.private\n",
        "+*@example.org ed25519._domainkey.example.org\n",
        "+*@example.net ed25519._domainkey.example.net\n",
        &format!("+smtpd_milters = {MILTERS}\n"),
        &format!("+non_smtpd_milters = {MILTERS}\n"),
        "new key /etc/opendkim/keys/example.net/ed25519.private (Ed25519, opendkim:opendkim 0600)",
        "then restart opendkim-ed25519: ",
        "then reload postfix: ",
    ] {
        assert!(plan.contains(line), "{line:?} missing:\n{plan}");
    }
    assert!(
        !plan.contains("then restart opendkim:") && !plan.contains("MultipleSignatures"),
        "the first instance is left as it is:\n{plan}"
    );
    assert!(
        !plan.contains("opendkim-ed25519.service"),
        "no unit without systemd:\n{plan}"
    );
    assert!(
        !plan.contains("mail.private (") && !plan.contains("rotate"),
        "the RSA keys stay as they are:\n{plan}"
    );

    let before = tree.snapshot();
    tree.run(&["apply", "--dry-run", "--answers", &ed])
        .expect_code(1);
    assert_eq!(tree.snapshot(), before, "--dry-run writes nothing");

    let run = tree.run(&["apply", "--yes", "--answers", &ed]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("would restart opendkim-ed25519")
            || run.stderr.contains("would restart opendkim-ed25519"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    let after = [
        "/etc/opendkim.conf",
        "/etc/opendkim/KeyTable",
        "/etc/opendkim/SigningTable",
    ]
    .map(|p| tree.read(p));
    assert_eq!(after, first, "the first instance's files are unchanged");
    assert_eq!(
        tree.read("/etc/opendkim/keys/example.org/mail.private"),
        rsa_key,
        "the RSA key is kept"
    );
    let conf = tree.read("/etc/opendkim-ed25519.conf");
    assert!(
        conf.starts_with("# /etc/opendkim-ed25519.conf")
            && conf.contains("\nSignatureAlgorithm\ted25519-sha256\n"),
        "{conf}"
    );
    let main_cf = tree.read("/etc/postfix/main.cf");
    assert!(
        main_cf.contains(&format!("\nsmtpd_milters = {MILTERS}\n")),
        "{main_cf}"
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
    tree.run(&["plan", "--answers", &ed]).expect_code(0);

    // an operator's line in the second instance's configuration is kept byte for byte
    let edited = conf.replace(
        "\nMode\t\t\ts\n",
        "\n# mine\nMode\t\tsv   # both ways\nSyslogSuccess yes\n",
    );
    tree.write("/etc/opendkim-ed25519.conf", &edited);
    let plan = pending_plan(&tree, &ed);
    assert!(
        plan.contains("-Mode\t\tsv   # both ways\n+Mode\t\ts   # both ways\n"),
        "{plan}"
    );
    apply(&tree, &ed);
    assert_eq!(
        tree.read("/etc/opendkim-ed25519.conf"),
        edited.replace("Mode\t\tsv", "Mode\t\ts")
    );
}

#[test]
fn with_systemd_the_instance_gets_its_unit() {
    let (tree, ed) = tree_rsa_applied();
    std::fs::create_dir_all(tree.path("/run/systemd/system")).unwrap();
    std::fs::create_dir_all(tree.path("/etc/systemd/system")).unwrap();
    let plan = pending_plan(&tree, &ed);
    assert!(
        plan.contains("# /etc/systemd/system/opendkim-ed25519.service: ")
            && plan.contains("+ExecStart=/usr/sbin/opendkim -x /etc/opendkim-ed25519.conf\n")
            && plan.contains("+PIDFile=/run/opendkim/opendkim-ed25519.pid\n")
            && plan.contains("+WantedBy=multi-user.target\n"),
        "{plan}"
    );
    apply(&tree, &ed);
    let unit = tree.read("/etc/systemd/system/opendkim-ed25519.service");
    assert!(unit.contains("Type=forking\n"), "{unit}");
    tree.run(&["plan", "--answers", &ed]).expect_code(0);
}

#[test]
fn turning_ed25519_off_takes_the_milter_out_and_stops_the_instance() {
    let (tree, ed) = tree_rsa_applied();
    apply(&tree, &ed);
    let rsa = tree.path("/answers.toml").display().to_string();
    let plan = pending_plan(&tree, &rsa);
    assert!(
        plan.contains(&format!("-smtpd_milters = {MILTERS}\n"))
            && plan.contains("+smtpd_milters = local:opendkim/opendkim.sock\n")
            && plan.contains("then stop opendkim-ed25519 (and disable it where systemd runs): "),
        "{plan}"
    );
    apply(&tree, &rsa);
    assert!(
        !tree
            .read("/etc/postfix/main.cf")
            .contains("opendkim-ed25519"),
        "out of main.cf"
    );
    assert!(
        tree.path("/etc/opendkim-ed25519.conf").exists() && tree.path(ED_KEY).exists(),
        "its files and keys stay (for the operator to remove)"
    );
    tree.run(&["plan", "--answers", &rsa]).expect_code(0);
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
    apply(&tree, &ed);
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
