use super::*;

fn names(v: &[Protocol]) -> Vec<&'static str> {
    v.iter().map(|p| p.name()).collect()
}

#[test]
fn protocol_lists_read_as_postfix_reads_them() {
    // the range form (Postfix 3.6+) and its default
    assert_eq!(
        names(&enabled_protocols(">=TLSv1.2")),
        ["TLSv1.2", "TLSv1.3"]
    );
    assert_eq!(
        names(&weak_protocols(None)),
        ["TLSv1", "TLSv1.1"],
        "the default >=TLSv1"
    );
    assert_eq!(
        names(&enabled_protocols(">=0x0303")),
        ["TLSv1.2", "TLSv1.3"]
    );
    assert_eq!(names(&enabled_protocols(">=303 <=TLSv1.2")), ["TLSv1.2"]);
    // the exclusion form, any separators, any case
    assert_eq!(
        names(&weak_protocols(Some("!SSLv2, !SSLv3"))),
        ["TLSv1", "TLSv1.1"]
    );
    assert_eq!(
        names(&weak_protocols(Some("!SSLv2"))),
        ["SSLv3", "TLSv1", "TLSv1.1"]
    );
    assert!(weak_protocols(Some("!SSLv2:!sslv3 !TLSv1,!TLSv1.1")).is_empty());
    // inclusion: only those listed
    assert_eq!(
        names(&enabled_protocols("TLSv1.2 TLSv1.3")),
        ["TLSv1.2", "TLSv1.3"]
    );
    assert_eq!(names(&weak_protocols(Some("TLSv1 TLSv1.3"))), ["TLSv1"]);
    // empty: every protocol
    assert_eq!(
        names(&weak_protocols(Some(""))),
        ["SSLv2", "SSLv3", "TLSv1", "TLSv1.1"]
    );
    assert!(weak_protocols(Some(PROTOCOLS)).is_empty());
    assert!(weak_protocols(Some(">=TLSv1.3")).is_empty());
}

#[test]
fn paths_in_the_answers_are_absolute_file_names_main_cf_can_hold() {
    assert_eq!(
        parse_path("/etc/ssl/x.pem").unwrap(),
        PathBuf::from("/etc/ssl/x.pem")
    );
    for bad in [
        "x.pem",
        "",
        "/etc/ssl/a b.pem",
        "/a,b",
        "$config_directory/x",
        "/etc/ssl/",
        "/a\nb",
    ] {
        assert!(parse_path(bad).is_err(), "{bad:?}");
    }
}

fn host() -> Domain {
    Domain::parse("mail.example.org").unwrap()
}

fn present(paths: &[&str]) -> Files {
    let info = FileInfo {
        kind: Kind::File,
        meta: Meta {
            uid: 0,
            gid: 0,
            mode: 0o600,
        },
    };
    paths
        .iter()
        .map(|p| (PathBuf::from(p), Some(info)))
        .collect()
}

const STOCK: &str = "smtpd_tls_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem\n\
smtpd_tls_key_file=/etc/ssl/private/ssl-cert-snakeoil.key\n\
smtpd_tls_security_level=may\n\
smtp_tls_CApath=/etc/ssl/certs\n\
smtp_tls_security_level=may\n";

#[test]
fn the_certificate_is_the_answers_then_lets_encrypt_then_the_operators_then_snake_oil() {
    let cf = MainCf::parse(STOCK);
    let le = [
        "/etc/letsencrypt/live/mail.example.org/fullchain.pem",
        "/etc/letsencrypt/live/mail.example.org/privkey.pem",
    ];
    let answers = (Path::new("/etc/x/c.pem"), Path::new("/etc/x/k.pem"));
    let c = choose(&host(), Some(answers), &cf, &present(&le));
    assert_eq!(c.source, Source::Answers);
    assert_eq!(c.cert, PathBuf::from("/etc/x/c.pem"));
    let c = choose(&host(), None, &cf, &present(&le));
    assert_eq!(
        (c.source, c.cert.to_str()),
        (Source::LetsEncrypt, Some(le[0]))
    );
    // only one of the pair: not taken
    let c = choose(&host(), None, &cf, &present(&le[..1]));
    assert_eq!(c.source, Source::SnakeOil);
    let own = MainCf::parse("smtpd_tls_cert_file = /etc/own.pem\n");
    let c = choose(&host(), None, &own, &present(&["/etc/own.pem"]));
    assert_eq!(
        (c.source, c.key.to_str()),
        (Source::Configured, Some("/etc/own.pem"))
    );
    let c = choose(&host(), None, &own, &present(&[]));
    assert_eq!(c.source, Source::SnakeOil);
    let advice = certbot_advice(&host());
    assert!(
        advice.contains(
            "certbot certonly --standalone -d mail.example.org --deploy-hook \"postfix reload\""
        ),
        "{advice}"
    );
    assert!(advice.contains("--webroot"), "{advice}");
}

#[test]
fn the_edit_sets_the_baseline_and_keeps_stronger_choices() {
    let snake = Choice {
        cert: SNAKEOIL_CERT.into(),
        key: SNAKEOIL_KEY.into(),
        source: Source::SnakeOil,
    };
    let mut cf = MainCf::parse(STOCK);
    let e = edit(&mut cf, &snake, true).unwrap();
    assert!(e.pointed && e.retired.is_empty());
    let text = cf.to_string();
    assert!(text.starts_with(STOCK), "stock lines kept: {text}");
    assert_eq!(
        &text[STOCK.len()..],
        "\n# Added by mailsetup\nsmtp_tls_loglevel = 1\n\
         smtpd_tls_protocols = >=TLSv1.2\nsmtpd_tls_mandatory_protocols = >=TLSv1.2\n\
         smtp_tls_protocols = >=TLSv1.2\nsmtp_tls_mandatory_protocols = >=TLSv1.2\n"
    );
    // again: nothing
    let mut again = MainCf::parse(&text);
    edit(&mut again, &snake, true).unwrap();
    assert_eq!(again.to_string(), text);
    // stronger levels and protocols stay; the deprecated switches go
    let strong = "smtp_tls_security_level = dane\nsmtp_use_tls = yes\nsmtpd_use_tls=yes\n\
                  smtp_tls_CAfile = /etc/ca.pem\nsmtp_tls_loglevel = 2\n\
                  smtpd_tls_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1.1\n\
                  smtpd_tls_chain_files = /k.pem, /c.pem\n";
    let mut cf = MainCf::parse(strong);
    let le = Choice {
        cert: "/le/fullchain.pem".into(),
        key: "/le/privkey.pem".into(),
        source: Source::LetsEncrypt,
    };
    let e = edit(&mut cf, &le, true).unwrap();
    assert_eq!(
        e.retired,
        [
            ("smtp_use_tls".to_string(), 2),
            ("smtpd_use_tls".to_string(), 3)
        ]
    );
    assert_eq!(cf.get("smtp_tls_security_level").as_deref(), Some("dane"));
    assert_eq!(cf.get("smtp_tls_loglevel").as_deref(), Some("2"));
    assert!(!cf.defined("smtp_tls_CApath"));
    assert_eq!(
        cf.get("smtpd_tls_chain_files").as_deref(),
        Some("/le/privkey.pem, /le/fullchain.pem")
    );
    assert!(!cf.defined("smtpd_tls_cert_file"));
    assert_eq!(
        cf.get("smtpd_tls_protocols").as_deref(),
        Some("!SSLv2, !SSLv3, !TLSv1, !TLSv1.1")
    );
    assert_eq!(cf.get("smtpd_tls_security_level").as_deref(), Some("may"));
    assert!(!cf.defined("smtp_use_tls") && !cf.defined("smtpd_use_tls"));
    assert!(
        cf.to_string().contains(
            "# mailsetup: deprecated, smtp_tls_security_level says it: smtp_use_tls = yes\n"
        ),
        "{cf}"
    );
}

#[test]
fn a_missing_certificate_is_never_named() {
    let mut cf = MainCf::parse("smtp_tls_security_level = none\n");
    let snake = Choice {
        cert: SNAKEOIL_CERT.into(),
        key: SNAKEOIL_KEY.into(),
        source: Source::SnakeOil,
    };
    let e = edit(&mut cf, &snake, false).unwrap();
    assert!(!e.pointed);
    assert!(!cf.defined("smtpd_tls_cert_file"));
    assert!(
        !cf.defined("smtpd_tls_security_level"),
        "no certificate: no STARTTLS"
    );
    assert_eq!(cf.get("smtp_tls_security_level").as_deref(), Some("may"));
}

#[test]
fn a_key_is_for_root_and_the_ssl_cert_group() {
    let m = |uid, gid, mode| Meta { uid, gid, mode };
    let root = RootIds::ROOT;
    assert_eq!(key_exposed(m(0, 0, 0o600), None, root), None);
    assert_eq!(key_exposed(m(0, 109, 0o640), Some(109), root), None);
    assert!(key_exposed(m(0, 0, 0o644), None, root).is_some());
    assert!(key_exposed(m(0, 105, 0o640), Some(109), root).is_some());
    assert!(key_exposed(m(104, 0, 0o600), None, root).is_some());
    assert!(key_exposed(m(0, 0, 0o660), None, root).is_some());
    // beneath a test root run by a user, that user stands for root
    let user = RootIds {
        uid: 1000,
        gid: 1000,
    };
    assert_eq!(key_exposed(m(1000, 1000, 0o640), None, user), None);
    assert!(key_exposed(m(1000, 1000, 0o644), None, user).is_some());
}
