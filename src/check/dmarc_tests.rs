//! [`judge`] of the `dmarc` check over hand-built gathered values: no DNS server.

use super::super::fixtures::{assert_unverifiable, ids_of, served, unasked};
use super::super::{ExpectedRecords, Status, status};
use super::*;
use crate::values::{Domain, Selector};

const NAME: &str = "_dmarc.example.org";
const DMARC: &str = "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.org";
const EXTERNAL: &str = "v=DMARC1; p=quarantine; rua=mailto:d@reports.example";
const AUTH_NAME: &str = "example.org._report._dmarc.reports.example";

fn input() -> DomainInput {
    DomainInput {
        domain: Domain::parse("example.org").unwrap(),
        selector: Selector::parse("mail").unwrap(),
        local_p: None,
        ed25519: None,
        expected: ExpectedRecords {
            dmarc: DMARC.into(),
            ..ExpectedRecords::default()
        },
    }
}

fn strings(records: &[&str]) -> Vec<String> {
    records.iter().map(|r| r.to_string()).collect()
}

/// These TXT records at `_dmarc.example.org`, no authorization asked.
fn judge_records(records: &[&str]) -> Vec<Finding> {
    let g = Gathered {
        record: served(NAME, &strings(records)),
        authorizations: vec![],
    };
    judge(&g, &input())
}

/// [`EXTERNAL`], with the authorization of reports.example as `seen`.
fn judge_external(seen: Option<Seen<String>>) -> Vec<Finding> {
    let g = Gathered {
        record: served(NAME, &strings(&[EXTERNAL])),
        authorizations: seen
            .map(|s| ("reports.example".to_string(), s))
            .into_iter()
            .collect(),
    };
    judge(&g, &input())
}

#[test]
fn one_record_with_a_policy_and_own_reports_passes() {
    assert_eq!(judge_records(&["v=spf1 -all", DMARC]), []);
}

#[test]
fn no_record_is_missing_showing_what_is_there() {
    let none = judge_records(&[]);
    assert_eq!(ids_of(&none), [ids::DMARC_MISSING]);
    assert_eq!(none[0].severity, Severity::Warning);
    assert_eq!(none[0].found, None);
    assert_eq!(none[0].expected.as_deref(), Some(DMARC));
    let other = judge_records(&["p=none; v=DMARC1"]);
    assert_eq!(ids_of(&other), [ids::DMARC_MISSING]);
    assert_eq!(other[0].found.as_deref(), Some("p=none; v=DMARC1"));
}

#[test]
fn two_records_are_multiple() {
    let findings = judge_records(&[DMARC, "v=DMARC1; p=none"]);
    assert_eq!(ids_of(&findings), [ids::DMARC_MULTIPLE]);
    assert_eq!(findings[0].severity, Severity::Error);
}

#[test]
fn a_record_that_does_not_parse_is_a_syntax_error() {
    let findings = judge_records(&["v=DMARC1; p=bogus"]);
    assert_eq!(ids_of(&findings), [ids::DMARC_SYNTAX]);
    assert_eq!(findings[0].severity, Severity::Error);
    assert!(
        findings[0].message.contains("does not parse"),
        "{}",
        findings[0].message
    );
}

#[test]
fn a_record_without_p_is_a_syntax_warning() {
    let findings = judge_records(&["v=DMARC1; rua=mailto:dmarc@example.org"]);
    assert_eq!(ids_of(&findings), [ids::DMARC_SYNTAX]);
    assert_eq!(findings[0].severity, Severity::Warning);
    assert!(
        findings[0].message.contains("no p= tag"),
        "{}",
        findings[0].message
    );
}

#[test]
fn p_none_is_monitor_only_info() {
    let findings = judge_records(&["v=DMARC1; p=none"]);
    assert_eq!(ids_of(&findings), [ids::DMARC_MONITOR_ONLY]);
    assert_eq!(status(&findings), Status::Pass);
}

#[test]
fn an_external_rua_without_authorization_is_unauthorized() {
    let findings = judge_external(Some(served(AUTH_NAME, &strings(&["v=spf1 -all"]))));
    assert_eq!(ids_of(&findings), [ids::DMARC_RUA_UNAUTHORIZED]);
    let f = &findings[0];
    assert_eq!(f.found.as_deref(), Some("v=spf1 -all"));
    assert_eq!(
        f.expected.as_deref(),
        Some(&*format!("{AUTH_NAME}. IN TXT \"v=DMARC1\""))
    );
    assert_eq!(
        f.fix.as_deref(),
        Some(&*format!(
            "publish in the zone of reports.example:\n{AUTH_NAME}. IN TXT \"v=DMARC1\"\n\
             or in a web form: name example.org._report._dmarc, type TXT, value v=DMARC1"
        ))
    );
}

#[test]
fn an_external_rua_with_authorization_passes() {
    assert_eq!(
        judge_external(Some(served(AUTH_NAME, &strings(&["v=DMARC1"])))),
        []
    );
}

#[test]
fn an_authorization_not_read_is_unverifiable_never_a_pass() {
    for seen in unasked::<String>(AUTH_NAME) {
        assert_unverifiable(&judge_external(Some(seen)));
    }
    let findings = judge_external(None);
    assert_unverifiable(&findings);
    assert!(
        findings[0].message.ends_with("(TXT): it was not asked"),
        "{}",
        findings[0].message
    );
}

#[test]
fn could_not_ask_is_unverifiable_never_a_pass() {
    for seen in unasked::<String>(NAME) {
        let g = Gathered {
            record: seen,
            authorizations: vec![],
        };
        assert_unverifiable(&judge(&g, &input()));
    }
}
