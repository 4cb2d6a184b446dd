//! Tests of [`super::dkim_text`]: each paste error on a realistic pasted record built from a
//! real key, no error on correct records, the RSA key size, and the real `opendkim-genkey`
//! output when it is installed.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rsa::RsaPublicKey;
use rsa::pkcs1::EncodeRsaPublicKey as _;
use rsa::pkcs8::DecodePublicKey as _;

use super::dkim_text::{PasteError, paste_errors, rsa_bits};
use crate::keys::{PrivateKey, PublicKey, public_from_pem};
use crate::values::KeyBits;

const GENKEY: &str = "/usr/sbin/opendkim-genkey";

fn key(bits: KeyBits) -> PublicKey {
    PrivateKey::generate(bits).expect("keygen").public().clone()
}

/// A 2048-bit key's `p=` (392 characters), generated once.
fn p2048() -> &'static str {
    static KEY: OnceLock<PublicKey> = OnceLock::new();
    &KEY.get_or_init(|| key(KeyBits::B2048)).p
}

/// A 1024-bit key's `p=` (216 characters), generated once.
fn p1024() -> &'static str {
    static KEY: OnceLock<PublicKey> = OnceLock::new();
    &KEY.get_or_init(|| key(KeyBits::B1024)).p
}

/// `p` as a bare PKCS#1 RSAPublicKey in base64.
fn pkcs1(p: &str) -> String {
    let der = STANDARD.decode(p).expect("base64");
    let key = RsaPublicKey::from_public_key_der(&der).expect("spki");
    STANDARD.encode(key.to_pkcs1_der().expect("pkcs1").as_bytes())
}

/// What `opendkim-genkey -s mail -d example.org` writes to `mail.txt` for key `p` (Debian 12,
/// OpenDKIM 2.11: `p=` plus 250 characters in the first string).
fn genkey_txt(p: &str) -> String {
    format!(
        "mail._domainkey\tIN\tTXT\t( \"v=DKIM1; h=sha256; k=rsa; \"\n\t  \"p={}\"\n\t  \"{}\" )  \
         ; ----- DKIM key mail for example.org\n",
        &p[..250],
        &p[250..]
    )
}

/// `p` wrapped at 64 characters, as in the body of `openssl rsa -pubout`.
fn pem_wrapped(p: &str) -> String {
    let lines: Vec<&str> = p
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect();
    lines.join("\n")
}

/// Asserts the errors both with the local key and without one.
fn assert_errors(record: &str, local: &str, expected: &[PasteError]) {
    assert_eq!(
        paste_errors(record, Some(local)),
        expected,
        "with key: {record:?}"
    );
    assert_eq!(
        paste_errors(record, None),
        expected,
        "without key: {record:?}"
    );
}

#[test]
fn quotes() {
    let p = p2048();
    for record in [
        format!("v=DKIM1; k=rsa; p=\"{p}\""),
        format!("\"v=DKIM1; k=rsa; p={p}\""),
        // The quoted strings of mail.txt, copied without the parentheses, on one line.
        format!(
            "\"v=DKIM1; h=sha256; k=rsa; \" \"p={}\" \"{}\"",
            &p[..250],
            &p[250..]
        ),
        // … or with their line breaks.
        format!(
            "\"v=DKIM1; h=sha256; k=rsa; \"\n\t  \"p={}\"\n\t  \"{}\"",
            &p[..250],
            &p[250..]
        ),
    ] {
        assert_errors(&record, p, &[PasteError::Quotes]);
    }
}

#[test]
fn parentheses() {
    let p = p2048();
    // A form that strips the quotes but keeps the rest of the zone-file record's value.
    let record = format!("( v=DKIM1; h=sha256; k=rsa; p={p} )");
    assert_errors(&record, p, &[PasteError::Parentheses]);
}

#[test]
fn whitespace_in_p() {
    let p = p2048();
    for record in [
        format!("v=DKIM1; k=rsa; p={}", pem_wrapped(p)),
        // mail.txt's parts with the quotes stripped by the form, the indentation kept.
        format!(
            "v=DKIM1; h=sha256; k=rsa; p={}\n\t  {}",
            &p[..250],
            &p[250..]
        ),
        format!("v=DKIM1; k=rsa; p={} {}", &p[..100], &p[100..]),
    ] {
        assert_errors(&record, p, &[PasteError::Whitespace]);
    }
}

#[test]
fn hash_algorithm() {
    let p = p2048();
    for h in ["rsa-sha256", "RSA-SHA256", "sha1", "ed25519-sha256", ""] {
        let record = format!("v=DKIM1; h={h}; k=rsa; p={p}");
        assert_errors(&record, p, &[PasteError::HashAlgorithm]);
    }
}

#[test]
fn key_type() {
    let p = p2048();
    for k in ["rsa-sha256", "RSA-SHA256", "sha256", "dkim", ""] {
        let record = format!("v=DKIM1; k={k}; p={p}");
        assert_errors(&record, p, &[PasteError::KeyType]);
    }
}

#[test]
fn a_missing_semicolon_is_named_not_taken_for_a_bad_key_type() {
    let p = p2048();
    // the case: `k=rsa p=…` reads as k = "rsa p=…", and the record has no p= at all
    let record = format!("v=DKIM1; k=rsa p={p}");
    assert_errors(&record, p, &[PasteError::MissingSemicolon("p")]);
    assert_eq!(
        PasteError::MissingSemicolon("p").to_string(),
        "a `;` is missing before p= (tags are separated by `;`, RFC 6376 §3.2), so the record \
         has no p= of its own: write `; p=` between the tags"
    );
    // two of them, and one after v=
    let record = format!("v=DKIM1 k=rsa p={p}");
    assert_errors(
        &record,
        p,
        &[
            PasteError::MissingSemicolon("k"),
            PasteError::MissingSemicolon("p"),
        ],
    );
    // a note may say anything; base64 and well-separated tags are not touched
    let record = format!("v=DKIM1; n=use k=rsa p=... as shown; k=rsa; p={p}");
    assert_errors(&record, p, &[]);
    assert_errors(&format!("v=DKIM1; k=rsa; p={p}"), p, &[]);
}

#[test]
fn truncated_at_255_characters() {
    let p = p2048();
    // A web form that keeps the first 255 characters of the value.
    let record = &format!("v=DKIM1; k=rsa; p={p}")[..255];
    let cut = PasteError::Truncated {
        published: 237,
        expected: 392,
    };
    assert_errors(record, p, &[cut]);
    // Only the first line of mail.txt's key.
    let record = format!("v=DKIM1; h=sha256; k=rsa; p={}", &p[..250]);
    let cut = PasteError::Truncated {
        published: 250,
        expected: 392,
    };
    assert_errors(&record, p, &[cut]);
    // A 1024-bit key, and a PKCS#1 key without a local key (length from the DER header).
    let record = format!("v=DKIM1; k=rsa; p={}", &p1024()[..200]);
    let cut = PasteError::Truncated {
        published: 200,
        expected: 216,
    };
    assert_errors(&record, p1024(), &[cut]);
    let bare = pkcs1(p);
    let record = format!("v=DKIM1; k=rsa; p={}", &bare[..255]);
    let expected = PasteError::Truncated {
        published: 255,
        expected: bare.len(),
    };
    assert_eq!(paste_errors(&record, None), [expected]);
}

#[test]
fn truncation_needs_a_prefix_of_the_local_key() {
    // A different key cut short is a key mismatch, not this paste error, when the local key is
    // known; without one, the DER length still shows the cut.
    let record = format!("v=DKIM1; k=rsa; p={}", &p1024()[..200]);
    assert_eq!(paste_errors(&record, Some(p2048())), []);
    assert_eq!(paste_errors(&record, None).len(), 1);
}

#[test]
fn prefix() {
    let p = p2048();
    for record in [
        format!("mail._domainkey IN TXT v=DKIM1; k=rsa; p={p}"),
        format!("mail._domainkey.example.org. 3600 IN TXT v=DKIM1; k=rsa; p={p}"),
        format!("TXT v=DKIM1; k=rsa; p={p}"),
        format!("mail._domainkey\tTXT\tk=rsa; p={p}"),
    ] {
        assert_errors(&record, p, &[PasteError::Prefix]);
    }
}

#[test]
fn whole_genkey_file_pasted() {
    let p = p2048();
    let expected = [
        PasteError::Quotes,
        PasteError::Parentheses,
        PasteError::Prefix,
    ];
    let txt = genkey_txt(p);
    assert_errors(&txt, p, &expected);
    // A form that turns line breaks into spaces.
    assert_errors(&txt.replace(['\n', '\t'], " "), p, &expected);
}

#[test]
fn several_errors_in_variant_order() {
    let p = p2048();
    let record = format!(
        "mail._domainkey IN TXT ( \"v=DKIM1; h=rsa-sha256; k=rsa-sha256; p={} {}\" )",
        &p[..100],
        &p[100..200]
    );
    assert_eq!(
        paste_errors(&record, Some(p)),
        [
            PasteError::Quotes,
            PasteError::Parentheses,
            PasteError::Whitespace,
            PasteError::HashAlgorithm,
            PasteError::KeyType,
            PasteError::Truncated {
                published: 200,
                expected: 392
            },
            PasteError::Prefix,
        ]
    );
}

#[test]
fn correct_records_have_no_paste_error() {
    let p = p2048();
    let ed25519 = STANDARD.encode([0x30u8; 32]);
    let bare = pkcs1(p);
    let correct = [
        format!("v=DKIM1; k=rsa; p={p}"),
        format!("v=DKIM1; h=sha256; k=rsa; p={p}"),
        format!("v=DKIM1; h=sha256; k=rsa; s=email; t=s; p={p}"),
        format!("v=DKIM1; k=rsa; t=s; s=email; p={p}"),
        format!("v=DKIM1;k=rsa;p={p};"),
        format!("v=DKIM1; p={p}"),
        format!("v=DKIM1; h=sha1:sha256; k=RSA; p={p}"),
        format!("v=DKIM1; k=rsa; n=key=20(2048)=20\"mail\"; p={p}"),
        format!("v=DKIM1 ; k = rsa ; p = {p} "),
        format!("k=rsa; p={p}"),
        format!("v=DKIM1; k=rsa; p={}", p1024()),
        format!("v=DKIM1; k=rsa; p={bare}"),
        format!("v=DKIM1; k=ed25519; p={ed25519}"),
        "v=DKIM1; k=rsa; p=".to_string(),
    ];
    for record in &correct {
        assert_eq!(paste_errors(record, None), [], "without key: {record}");
    }
    for record in &correct[..10] {
        assert_eq!(paste_errors(record, Some(p)), [], "with key: {record}");
    }
}

#[test]
fn every_error_has_a_sentence() {
    let all = [
        PasteError::Quotes,
        PasteError::Parentheses,
        PasteError::Whitespace,
        PasteError::HashAlgorithm,
        PasteError::KeyType,
        PasteError::Truncated {
            published: 237,
            expected: 392,
        },
        PasteError::Prefix,
    ];
    let texts: Vec<String> = all.iter().map(ToString::to_string).collect();
    for text in &texts {
        assert!(!text.contains('\n') && text.len() > 40, "{text}");
    }
    assert!(texts[5].contains("237 of 392"), "{}", texts[5]);
    assert!(texts[3].contains("h=sha256"), "{}", texts[3]);
    let mut unique = texts.clone();
    unique.dedup();
    assert_eq!(unique.len(), texts.len());
}

#[test]
fn rsa_bits_of_spki_and_pkcs1() {
    assert_eq!(rsa_bits(p2048()), Ok(2048));
    assert_eq!(rsa_bits(p1024()), Ok(1024));
    assert_eq!(rsa_bits(&pkcs1(p2048())), Ok(2048));
    assert_eq!(rsa_bits(&pkcs1(p1024())), Ok(1024));
    assert_eq!(rsa_bits(&pem_wrapped(p2048())), Ok(2048), "FWS is ignored");
}

#[test]
fn rsa_bits_above_the_rsa_crate_limit() {
    // A PKCS#1 RSAPublicKey with an 8192-bit modulus, built by hand: the rsa crate refuses
    // moduli above 4096 bits, verifiers do not.
    let mut modulus = vec![0x00, 0xC5];
    modulus.extend([0x5A; 1023]);
    let mut der = vec![0x30, 0x82, 0x04, 0x0A, 0x02, 0x82, 0x04, 0x01];
    der.extend(&modulus);
    der.extend([0x02, 0x03, 0x01, 0x00, 0x01]);
    assert_eq!(der.len(), 4 + 0x040A);
    assert_eq!(rsa_bits(&STANDARD.encode(&der)), Ok(8192));
}

#[test]
fn rsa_bits_errors() {
    let p = p2048();
    let hello = STANDARD.encode("hello, world");
    let ed25519 = STANDARD.encode([7u8; 32]);
    // An EC P-256 SubjectPublicKeyInfo.
    let ec = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEwvathEiVdXNf2UzsFVGfXEJm4uXl\
              NyZZGMwDm89yRlrHHIQpFEFYzKJ/S1qguQe53OSP1hVpHzu2NNL5HR7Jbw==";
    for (p, why) in [
        ("", "revoked"),
        ("  ", "revoked"),
        ("not*base64", "base64"),
        (&p[..255], "base64"),
        (&p[..256], "neither"),
        (&hello, "neither"),
        (&ed25519, "Ed25519"),
        (ec, "1.2.840.10045.2.1"),
    ] {
        let err = rsa_bits(p).expect_err(p);
        assert!(err.contains(why), "{p}: {err}");
        assert!(!err.contains('\n'), "{err}");
    }
}

/// The real `opendkim-genkey`: its whole `mail.txt` pasted shows the three errors, the quoted
/// strings joined are a correct record of its key, and its key size reads back.
#[test]
fn real_opendkim_genkey_output() {
    if !Path::new(GENKEY).exists() {
        eprintln!("note: {GENKEY} is not installed; skipping the opendkim-genkey check");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let status = Command::new(GENKEY)
        .args(["-s", "mail", "-d", "example.org", "-D"])
        .arg(dir.path())
        .status()
        .expect("run opendkim-genkey");
    assert!(status.success());
    let txt = std::fs::read_to_string(dir.path().join("mail.txt")).expect("mail.txt");
    let pem = std::fs::read_to_string(dir.path().join("mail.private")).expect("mail.private");
    let local = public_from_pem(&pem).expect("key");
    assert_eq!(
        genkey_txt(&local.p),
        txt,
        "genkey_txt mirrors the real tool"
    );
    let expected = [
        PasteError::Quotes,
        PasteError::Parentheses,
        PasteError::Prefix,
    ];
    assert_eq!(paste_errors(&txt, Some(&local.p)), expected);
    let value: String = txt.split('"').skip(1).step_by(2).collect();
    assert_eq!(value, format!("v=DKIM1; h=sha256; k=rsa; p={}", local.p));
    assert_eq!(paste_errors(&value, Some(&local.p)), []);
    let p = value.split_once("p=").expect("p=").1;
    assert_eq!(rsa_bits(p), Ok(local.bits));
}

#[test]
fn an_ed25519_record_says_k_ed25519_and_holds_32_bytes() {
    use super::dkim_text::ed25519_key_error;
    let p = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
    assert_eq!(
        ed25519_key_error(&format!("v=DKIM1; k=ed25519; p={p}"), p),
        None
    );
    assert_eq!(
        ed25519_key_error("v=DKIM1; k=ED25519; p=", ""),
        None,
        "revoked"
    );
    for (record, p, why) in [
        (format!("v=DKIM1; k=rsa; p={p}"), p, "k=rsa"),
        (format!("v=DKIM1; p={p}"), p, "no k= (which means k=rsa)"),
        (
            "v=DKIM1; k=ed25519; p=QUJD".to_string(),
            "QUJD",
            "holds 3 bytes",
        ),
        (
            "v=DKIM1; k=ed25519; p=Q".to_string(),
            "Q",
            "not valid base64",
        ),
    ] {
        let got = ed25519_key_error(&record, p).expect(&record);
        assert!(got.contains(why), "{record}: {got}");
    }
}
