//! [`judge`] of the `spf` check over hand-built gathered values: no DNS server.

use super::super::fixtures::{assert_unverifiable, ids_of, served, unasked};
use super::super::{ExpectedRecords, Status, status};
use super::*;
use crate::values::{Domain, Selector};

const SPF: &str = "v=spf1 ip4:192.0.2.25 -all";

fn input() -> DomainInput {
    DomainInput {
        domain: Domain::parse("example.org").unwrap(),
        selector: Selector::parse("mail").unwrap(),
        local_p: None,
        ed25519: None,
        expected: ExpectedRecords {
            spf: SPF.into(),
            ..ExpectedRecords::default()
        },
    }
}

fn v4() -> IpAddr {
    "192.0.2.25".parse().unwrap()
}

fn v6() -> IpAddr {
    "2001:db8::25".parse().unwrap()
}

/// These TXT records at example.org, evaluated with this tree and these results.
fn gathered(records: &[&str], evaluation: Option<(SpfTree, &[(IpAddr, SpfOutcome)])>) -> Gathered {
    let records: Vec<String> = records.iter().map(|r| r.to_string()).collect();
    Gathered {
        record: served("example.org", &records),
        evaluation: evaluation.map(|(tree, outcomes)| Evaluation {
            tree,
            outcomes: outcomes.to_vec(),
            mx_hosts: false,
        }),
    }
}

/// `record` evaluated with a tree of one lookup and these results.
fn evaluated(record: &str, outcomes: &[(IpAddr, SpfOutcome)]) -> Vec<Finding> {
    judge(
        &gathered(&[record], Some((SpfTree::default(), outcomes))),
        &input(),
    )
}

fn tree(lookups: usize, void_lookups: usize, loops: &[&str]) -> SpfTree {
    SpfTree {
        lookups,
        void_lookups,
        trail: vec!["include:_spf.example.net (+3)".into()],
        unverifiable: vec![],
        loops: loops.iter().map(|l| l.to_string()).collect(),
    }
}

#[test]
fn one_record_that_passes_every_address_passes() {
    let ok = [(v4(), SpfOutcome::Pass), (v6(), SpfOutcome::Pass)];
    let g = gathered(
        &["google-site-verification=abc", SPF],
        Some((tree(1, 0, &[]), &ok)),
    );
    assert_eq!(judge(&g, &input()), []);
}

#[test]
fn no_spf_record_is_missing_with_the_record_to_publish() {
    let findings = judge(&gathered(&["google-site-verification=abc"], None), &input());
    assert_eq!(ids_of(&findings), [ids::SPF_MISSING]);
    assert_eq!(findings[0].expected.as_deref(), Some(SPF));
    assert!(
        findings[0].fix.as_deref().unwrap().starts_with(
            "example.org. IN TXT \"v=spf1 ip4:192.0.2.25 -all\"\nor in a web form: name @,"
        ),
        "{:?}",
        findings[0].fix
    );
}

#[test]
fn two_spf_records_are_multiple() {
    let findings = judge(&gathered(&[SPF, "v=spf1 -all"], None), &input());
    assert_eq!(ids_of(&findings), [ids::SPF_MULTIPLE]);
    assert_eq!(
        findings[0].found.as_deref(),
        Some("v=spf1 ip4:192.0.2.25 -all\nv=spf1 -all")
    );
}

#[test]
fn an_ungrammatical_record_is_a_syntax_error() {
    let findings = judge(&gathered(&["v=spf1 foo:bar -all"], None), &input());
    assert_eq!(ids_of(&findings), [ids::SPF_SYNTAX]);
    assert!(
        findings[0].message.contains("`foo:bar`"),
        "{}",
        findings[0].message
    );
    assert_eq!(findings[0].found.as_deref(), Some("v=spf1 foo:bar -all"));
}

#[test]
fn plus_all_is_an_error_and_question_all_a_warning() {
    let pass = [(v4(), SpfOutcome::Pass)];
    let plus = evaluated("v=spf1 ip4:192.0.2.25 +all", &pass);
    assert_eq!(ids_of(&plus), [ids::SPF_PERMISSIVE_ALL]);
    assert_eq!(plus[0].severity, Severity::Error);
    assert!(plus[0].message.contains("(pass)"), "{}", plus[0].message);
    let neutral = evaluated("v=spf1 ip4:192.0.2.25 ?all", &pass);
    assert_eq!(ids_of(&neutral), [ids::SPF_PERMISSIVE_ALL]);
    assert_eq!(neutral[0].severity, Severity::Warning);
}

#[test]
fn eleven_lookups_are_too_many_and_their_permerror_is_not_repeated() {
    let permerror = [(v4(), SpfOutcome::PermError)];
    let g = gathered(&[SPF], Some((tree(11, 0, &[]), &permerror)));
    let findings = judge(&g, &input());
    assert_eq!(ids_of(&findings), [ids::SPF_TOO_MANY_LOOKUPS]);
    assert!(
        findings[0].message.contains("needs 11 DNS lookups"),
        "{}",
        findings[0].message
    );
    assert_eq!(
        findings[0].found.as_deref(),
        Some("include:_spf.example.net (+3)")
    );
    assert_eq!(findings[0].expected.as_deref(), Some("at most 10 lookups"));
}

#[test]
fn an_include_loop_is_too_many_lookups() {
    let permerror = [(v4(), SpfOutcome::PermError)];
    let g = gathered(
        &[SPF],
        Some((tree(3, 0, &["loop1.example.org"]), &permerror)),
    );
    let findings = judge(&g, &input());
    assert_eq!(ids_of(&findings), [ids::SPF_TOO_MANY_LOOKUPS]);
    assert!(
        findings[0]
            .message
            .contains("includes loop1.example.org again"),
        "{}",
        findings[0].message
    );
}

#[test]
fn three_void_lookups_are_too_many() {
    let permerror = [(v4(), SpfOutcome::PermError)];
    let g = gathered(&[SPF], Some((tree(3, 3, &[]), &permerror)));
    let findings = judge(&g, &input());
    assert_eq!(ids_of(&findings), [ids::SPF_TOO_MANY_VOID_LOOKUPS]);
    assert_eq!(
        findings[0].expected.as_deref(),
        Some("at most 2 void lookups")
    );
}

#[test]
fn each_address_not_given_pass_is_not_permitted() {
    let findings = evaluated(
        SPF,
        &[(v4(), SpfOutcome::Fail), (v6(), SpfOutcome::SoftFail)],
    );
    assert_eq!(
        ids_of(&findings),
        [ids::SPF_IP_NOT_PERMITTED, ids::SPF_IP_NOT_PERMITTED]
    );
    assert_eq!(
        findings[1].message,
        "SPF of example.org gives softfail for this server's address 2001:db8::25, not pass \
         (RFC 7208 §2.6)"
    );
    assert_eq!(findings[0].found.as_deref(), Some(SPF));
    // a permerror within the limits is not a pass either
    let permerror = evaluated(SPF, &[(v4(), SpfOutcome::PermError)]);
    assert_eq!(ids_of(&permerror), [ids::SPF_IP_NOT_PERMITTED]);
}

#[test]
fn a_temperror_is_unverifiable_never_a_pass() {
    let findings = evaluated(SPF, &[(v4(), SpfOutcome::TempError)]);
    assert_unverifiable(&findings);
    assert!(
        findings[0]
            .message
            .starts_with("could not verify whether SPF of example.org permits 192.0.2.25"),
        "{}",
        findings[0].message
    );
}

#[test]
fn a_record_not_evaluated_is_unverifiable_never_a_pass() {
    assert_unverifiable(&judge(&gathered(&[SPF], None), &input()));
}

#[test]
fn could_not_ask_is_unverifiable_never_a_pass() {
    for seen in unasked::<String>("example.org") {
        let g = Gathered {
            record: seen,
            evaluation: None,
        };
        let findings = judge(&g, &input());
        assert_unverifiable(&findings);
        assert_eq!(status(&findings), Status::Unknown);
    }
}
