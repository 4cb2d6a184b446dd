//! [`judge_mta_sts`] and [`judge_tls_rpt`] over hand-built gathered values: no DNS server.

use super::super::fixtures::{assert_unverifiable, ids_of, served, unasked};
use super::super::{ExpectedRecords, Status, status};
use super::*;
use crate::values::{Domain, Selector};

const ID: &str = "c0581b88c9caadd31f93f5700d145a84";
const RPT: &str = "v=TLSRPTv1; rua=mailto:tlsrpt@example.org";

/// example.org; with `managed`, the answers manage both records.
fn input(managed: bool) -> DomainInput {
    let (mta_sts, tls_rpt) = if managed {
        (format!("v=STSv1; id={ID}"), RPT.to_string())
    } else {
        (String::new(), String::new())
    };
    DomainInput {
        domain: Domain::parse("example.org").unwrap(),
        selector: Selector::parse("mail").unwrap(),
        local_p: None,
        ed25519: None,
        expected: ExpectedRecords {
            mta_sts,
            tls_rpt,
            ..ExpectedRecords::default()
        },
    }
}

fn sts(records: &[&str], managed: bool) -> Vec<Finding> {
    let r: Vec<String> = records.iter().map(|s| s.to_string()).collect();
    judge_mta_sts(&served("_mta-sts.example.org", &r), &input(managed))
}

fn rpt(records: &[&str], managed: bool) -> Vec<Finding> {
    let r: Vec<String> = records.iter().map(|s| s.to_string()).collect();
    judge_tls_rpt(&served("_smtp._tls.example.org", &r), &input(managed))
}

#[test]
fn mta_sts_findings() {
    let right = format!("v=STSv1; id={ID}");
    assert_eq!(ids_of(&sts(&[&right], true)), Vec::<&str>::new());
    assert_eq!(ids_of(&sts(&[], true)), [ids::MTA_STS_MISSING]);
    assert_eq!(ids_of(&sts(&[], false)), Vec::<&str>::new());
    for managed in [true, false] {
        for broken in ["id=abc", "v=STSv1; id=abc def", "v=STSv1"] {
            let f = sts(&[broken], managed);
            assert_eq!(ids_of(&f), [ids::MTA_STS_SYNTAX], "{broken}");
            assert_eq!(status(&f), Status::Fail);
        }
        let two = sts(&["v=STSv1; id=a", "v=STSv1; id=b"], managed);
        assert_eq!(ids_of(&two), [ids::MTA_STS_MULTIPLE]);
    }
    // an operator's own id is legal; stale only against the policy mailsetup prints
    let own = sts(&["v=STSv1; id=20240101"], true);
    assert_eq!(ids_of(&own), [ids::MTA_STS_ID_STALE]);
    assert_eq!(own[0].expected.as_deref(), Some(right.as_str()));
    assert!(
        own[0]
            .fix
            .as_deref()
            .unwrap()
            .contains("_mta-sts.example.org. IN TXT")
    );
    assert_eq!(
        ids_of(&sts(&["v=STSv1; id=20240101"], false)),
        Vec::<&str>::new()
    );
}

#[test]
fn tls_rpt_findings() {
    assert_eq!(ids_of(&rpt(&[RPT], true)), Vec::<&str>::new());
    assert_eq!(ids_of(&rpt(&[], true)), [ids::TLS_RPT_MISSING]);
    assert_eq!(ids_of(&rpt(&[], false)), Vec::<&str>::new());
    // another rua than the answers' is the operator's business
    let other = "v=TLSRPTv1; rua=https://reports.example.net/tls";
    assert_eq!(ids_of(&rpt(&[other], true)), Vec::<&str>::new());
    for managed in [true, false] {
        for broken in [
            "rua=mailto:a@example.org",
            "v=TLSRPTv1",
            "v=TLSRPTv1; rua=a@b",
        ] {
            assert_eq!(
                ids_of(&rpt(&[broken], managed)),
                [ids::TLS_RPT_SYNTAX],
                "{broken}"
            );
        }
        assert_eq!(
            ids_of(&rpt(&[RPT, other], managed)),
            [ids::TLS_RPT_MULTIPLE]
        );
    }
}

#[test]
fn unverifiable_when_no_server_answered() {
    for seen in unasked("_mta-sts.example.org") {
        assert_unverifiable(&judge_mta_sts(&seen, &input(true)));
    }
    for seen in unasked("_smtp._tls.example.org") {
        assert_unverifiable(&judge_tls_rpt(&seen, &input(false)));
    }
}

#[test]
fn a_broken_record_the_answers_do_not_manage_says_how_to_repair_it() {
    let f = sts(&["v=STSv1; id=abc def"], false);
    let fix = f[0].fix.as_deref().unwrap();
    assert!(
        fix.contains("correct the TXT record at _mta-sts.example.org"),
        "{fix}"
    );
    assert!(fix.contains("set mta_sts"), "{fix}");
    let f = rpt(&["v=TLSRPTv1"], false);
    assert!(f[0].fix.as_deref().unwrap().contains("tls_rpt_rua"));
}
