//! [`judge`] of the `dkim` check over hand-built gathered values: no DNS server.

use super::super::fixtures::{assert_unverifiable, ids_of, served, unasked};
use super::super::{ExpectedRecords, Status, status};
use super::*;
use crate::values::{Domain, Selector};

const NAME: &str = "mail._domainkey.example.org";
/// A 2048-bit RSA SubjectPublicKeyInfo, base64: the local key.
const P: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEArzhylgs+LXsdpXPoVa9i6A6XqyaZCFSVNe1uL/yXixz8+JeXmyAhr/bcKDs/AUPvMg3lIGA8iVQjHvlojzgj3Zd4W/6x3CPDnrpm/CTvN+oegxMzjW0DfbM2oqiIzD9s5tGUTOtUjHRajSh8j2Yq5m4k3ADjo2IeF5Ib9WQdmB5oeIjifk2kmOBdHhthtg+A5oWVZL4g6i7VExRFQpy+rR7TzvzzZyAHpN1ylt7N71ZvcbuL4uY7g7H51sOr/YTZbnE0LIJ4eecrvIQa/WIjiCzfu5OFOU35AKVNPGWPY7UoVUXCFFsbppFCn1eIG1ltCCc+0hlBr+q0J9Y4zhp9rwIDAQAB";
/// A 1024-bit one.
const P1024: &str = "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDm/2Nzb/EQhDvw8D5y2HoPmVch3q35hrgsK+mfOyz4wnyuMf8ltahDrrMO5DINR9NHFLNnNmGWlITave50sIiSq7veCf4AyYKSQ4iJo2UfbC+QhYWL0mhFwHQVzXfyxnbiK6ZUAsahZK4AVpdOp5+a43bwpgi4CARVj4BkOfv2MwIDAQAB";

fn input(local_p: Option<&str>) -> DomainInput {
    DomainInput {
        domain: Domain::parse("example.org").unwrap(),
        selector: Selector::parse("mail").unwrap(),
        local_p: local_p.map(str::to_string),
        expected: ExpectedRecords {
            dkim: format!("v=DKIM1; k=rsa; p={P}"),
            ..ExpectedRecords::default()
        },
    }
}

/// These TXT records at the selector, nothing asked at the doubled name.
fn published(records: &[&str]) -> Gathered {
    let records: Vec<String> = records.iter().map(|r| r.to_string()).collect();
    Gathered {
        record: served(NAME, &records),
        doubled: None,
    }
}

fn judge_local(records: &[&str]) -> Vec<Finding> {
    judge(&published(records), &input(Some(P)))
}

#[test]
fn the_local_key_published_passes() {
    let record = format!("v=DKIM1; k=rsa; p={P}");
    assert_eq!(judge_local(&[&record]), []);
    // without a local key only the record is checked
    assert_eq!(judge(&published(&[&record]), &input(None)), []);
}

#[test]
fn no_record_is_missing_with_the_record_to_publish() {
    let findings = judge_local(&[]);
    assert_eq!(ids_of(&findings), [ids::DKIM_MISSING]);
    let f = &findings[0];
    assert_eq!(f.severity, Severity::Error);
    assert!(
        f.message.contains("(the name does not exist)"),
        "{}",
        f.message
    );
    assert!(
        f.fix
            .as_deref()
            .unwrap()
            .starts_with("mail._domainkey.example.org. IN TXT \"v=DKIM1; k=rsa; p=MIIB"),
        "{:?}",
        f.fix
    );
}

#[test]
fn a_record_under_the_doubled_zone_is_a_paste_error() {
    let doubled = "mail._domainkey.example.org.example.org";
    let mut g = published(&[]);
    g.doubled = Some(served(doubled, &[format!("v=DKIM1; k=rsa; p={P}")]));
    let findings = judge(&g, &input(Some(P)));
    assert_eq!(ids_of(&findings), [ids::DKIM_PASTE_ERROR]);
    let f = &findings[0];
    assert!(f.message.starts_with(&format!(
        "the DKIM record is published at {doubled}, not at {NAME}"
    )));
    assert!(
        f.fix
            .as_deref()
            .unwrap()
            .starts_with(&format!("delete the record at {doubled}"))
    );
}

#[test]
fn an_unanswered_doubled_name_leaves_the_record_missing() {
    for seen in unasked::<String>("mail._domainkey.example.org.example.org") {
        let mut g = published(&[]);
        g.doubled = Some(seen);
        assert_eq!(ids_of(&judge(&g, &input(Some(P)))), [ids::DKIM_MISSING]);
    }
}

#[test]
fn several_records_are_a_syntax_error() {
    let findings = judge_local(&["v=DKIM1; p=QUJD", "v=DKIM1; p=REVG"]);
    assert_eq!(ids_of(&findings), [ids::DKIM_SYNTAX]);
    assert!(findings[0].message.starts_with("2 TXT records at"));
    assert_eq!(
        findings[0].found.as_deref(),
        Some("v=DKIM1; p=QUJD\nv=DKIM1; p=REVG")
    );
}

#[test]
fn a_paste_error_ends_the_judgement() {
    let record = format!("v=DKIM1; k=rsa; p=\"{P}\"");
    let findings = judge_local(&[&record]);
    assert_eq!(ids_of(&findings), [ids::DKIM_PASTE_ERROR]);
    assert_eq!(findings[0].severity, Severity::Error);
    assert!(
        findings[0].message.contains("double quotes"),
        "{}",
        findings[0].message
    );
}

#[test]
fn whitespace_in_p_is_a_warning_and_the_key_is_still_judged() {
    let record = format!("v=DKIM1; k=rsa; p={} {}", &P1024[..100], &P1024[100..]);
    let findings = judge(&published(&[&record]), &input(None));
    assert_eq!(
        ids_of(&findings),
        [ids::DKIM_PASTE_ERROR, ids::DKIM_WEAK_KEY]
    );
    assert_eq!(findings[0].severity, Severity::Warning);
}

#[test]
fn a_record_that_is_no_key_record_is_a_syntax_error() {
    let findings = judge_local(&["v=DKIM1; k=rsa"]);
    assert_eq!(ids_of(&findings), [ids::DKIM_SYNTAX]);
    assert!(
        findings[0].message.contains("no p= tag"),
        "{}",
        findings[0].message
    );
    assert_eq!(findings[0].found.as_deref(), Some("v=DKIM1; k=rsa"));
}

#[test]
fn another_key_or_a_revoked_one_is_a_mismatch() {
    let findings = judge_local(&[&format!("v=DKIM1; k=rsa; p={P1024}")]);
    assert_eq!(ids_of(&findings), [ids::DKIM_KEY_MISMATCH]);
    assert!(
        findings[0]
            .message
            .contains("is not the key this server signs with")
    );
    // in a fleet, the likely cause is another host on the same selector: say so, and the fix
    for part in [
        "another server may sign example.org with the same selector `mail`",
        "its own selector",
        "mailsetup rotate --domain example.org --selector",
    ] {
        assert!(
            findings[0].message.contains(part),
            "{part:?}: {}",
            findings[0].message
        );
    }
    let revoked = judge_local(&["v=DKIM1; k=rsa; p="]);
    assert_eq!(ids_of(&revoked), [ids::DKIM_KEY_MISMATCH]);
    assert!(
        revoked[0].message.contains("revoked"),
        "{}",
        revoked[0].message
    );
}

#[test]
fn a_1024_bit_key_is_weak() {
    let record = format!("v=DKIM1; k=rsa; p={P1024}");
    let findings = judge(&published(&[&record]), &input(Some(P1024)));
    assert_eq!(ids_of(&findings), [ids::DKIM_WEAK_KEY]);
    let f = &findings[0];
    assert_eq!(f.found.as_deref(), Some("1024-bit RSA"));
    assert_eq!(f.expected.as_deref(), Some("at least 2048-bit RSA"));
    // a key changes by a rotation, which switches the SigningTable once the new record
    // is published: the fix names the answer to change and the command
    let fix = f.fix.as_deref().unwrap();
    assert!(
        fix.contains(
            "key_bits = 2048 in the answers, then `mailsetup rotate --domain example.org`"
        ),
        "{fix}"
    );
    assert_eq!(status(&findings), Status::Warn);
}

#[test]
fn could_not_ask_is_unverifiable_never_a_pass() {
    for seen in unasked::<String>(NAME) {
        let g = Gathered {
            record: seen,
            doubled: None,
        };
        assert_unverifiable(&judge(&g, &input(Some(P))));
    }
}
