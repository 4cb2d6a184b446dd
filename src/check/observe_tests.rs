//! [`best_answer`] over hand-built gathered values: no DNS server.

use super::super::fixtures::{
    FIRST_HOP, answer, assert_unverifiable, at_servers, ids_of, served, unasked,
};
use super::*;

const NAME: &str = "mail._domainkey.example.org";
const WHAT: &str = "the DKIM record";

fn judge(seen: &Seen<String>) -> Result<(Answer<String>, Vec<Finding>), Vec<Finding>> {
    best_answer("example.org", WHAT, seen).map(|(a, f)| (a.clone(), f))
}

fn s(v: &str) -> String {
    v.to_string()
}

#[test]
fn clock_rounds_up_to_the_minute() {
    assert_eq!(clock(0), "00:00 UTC");
    assert_eq!(clock(1), "00:01 UTC");
    assert_eq!(clock(86_400 + 3_600 * 13 + 60 * 7), "13:07 UTC");
    assert_eq!(clock(3_600 * 23 + 60 * 59 + 30), "00:00 UTC");
}

#[test]
fn servers_in_step_give_their_answer_and_no_finding() {
    let (a, findings) = judge(&served(NAME, &[s("v=DKIM1; p=QUJD")])).unwrap();
    assert_eq!(a.records, ["v=DKIM1; p=QUJD"]);
    assert_eq!(findings, []);
}

#[test]
fn nothing_answered_is_one_unverifiable_never_an_answer() {
    for seen in unasked::<String>(NAME) {
        let findings = judge(&seen).expect_err("no answer to judge by");
        assert_unverifiable(&findings);
        assert_eq!(ids_of(&findings), [ids::DNS_UNVERIFIABLE]);
        let f = &findings[0];
        assert!(f.message.starts_with("could not verify the DKIM record: "));
        assert_eq!(f.severity, Severity::Warning);
        assert!(f.fix.as_deref().unwrap().contains(&FIRST_HOP.to_string()));
    }
}

#[test]
fn a_server_that_failed_is_unverifiable_and_the_other_is_judged() {
    let ok = answer(&[s("v")]);
    let seen = at_servers(
        NAME,
        vec![Ok(1), Ok(1)],
        vec![Ok(ok.clone()), Err(LookupError::Timeout)],
        Ok(ok),
    );
    let (a, findings) = judge(&seen).unwrap();
    assert_eq!(a.records, ["v"]);
    assert_eq!(ids_of(&findings), [ids::DNS_UNVERIFIABLE]);
    assert!(
        findings[0]
            .message
            .contains("ns2.example.org (127.0.0.2) did not answer (no answer (timed out))"),
        "{}",
        findings[0].message
    );
}

#[test]
fn a_lame_server_is_left_to_the_ns_check() {
    let refused = LookupError::Server("REFUSED".into());
    let ok = answer(&[s("v")]);
    let seen = at_servers(
        NAME,
        vec![Err(refused.clone()), Ok(1)],
        vec![Err(refused), Ok(ok.clone())],
        Ok(ok),
    );
    let (a, findings) = judge(&seen).unwrap();
    assert_eq!(a.records, ["v"]);
    assert_eq!(findings, []);
}

#[test]
fn a_lagging_server_is_ns_disagree_and_the_newest_is_judged() {
    let new = answer(&[s("new")]);
    let seen = at_servers(
        NAME,
        vec![Ok(1), Ok(2)],
        vec![Ok(answer(&[])), Ok(new.clone())],
        Ok(new),
    );
    let (a, findings) = judge(&seen).unwrap();
    assert_eq!(a.records, ["new"]);
    assert_eq!(ids_of(&findings), [ids::DNS_NS_DISAGREE]);
    let f = &findings[0];
    assert_eq!(
        f.found.as_deref(),
        Some("ns1.example.org (127.0.0.1), serial 1: nothing (the name does not exist)")
    );
    assert_eq!(
        f.expected.as_deref(),
        Some("ns2.example.org (127.0.0.2), serial 2: new")
    );
    assert!(f.message.contains("1 of 2"), "{}", f.message);
}

#[test]
fn a_stale_first_hop_is_propagating_with_the_time() {
    let old = answer(&[s("old")]);
    let new = answer(&[s("new")]);
    let seen = at_servers(NAME, vec![Ok(1)], vec![Ok(new)], Ok(old));
    let (a, findings) = judge(&seen).unwrap();
    assert_eq!(a.records, ["new"]);
    assert_eq!(ids_of(&findings), [ids::DNS_PROPAGATING]);
    let f = &findings[0];
    assert_eq!(f.severity, Severity::Info);
    // NOW is 08:00 UTC; the TTL 300 s
    assert!(f.message.contains("by about 08:05 UTC"), "{}", f.message);
    assert!(f.message.contains("up to 300 s (its TTL)"), "{}", f.message);
}

#[test]
fn a_cached_absence_counts_the_negative_ttl() {
    let mut cached = answer::<String>(&[]);
    cached.ttl = 0;
    let seen = at_servers(NAME, vec![Ok(1)], vec![Ok(answer(&[s("new")]))], Ok(cached));
    let (_, findings) = judge(&seen).unwrap();
    assert_eq!(ids_of(&findings), [ids::DNS_PROPAGATING]);
    // the first hop reports no TTL: the zone's negative TTL (300 s) counts
    assert!(
        findings[0]
            .message
            .contains("for up to 300 s (the zone's negative TTL, RFC 2308 §5)"),
        "{}",
        findings[0].message
    );
}

#[test]
fn expect_gives_the_fix_relative_to_the_zone() {
    let seen = served::<String>(NAME, &[]);
    let e = Expect::txt("example.org", NAME, "v=DKIM1; p=QUJD", seen.apex());
    let f = e.finding(ids::DKIM_MISSING, Severity::Error, "m".into());
    assert_eq!(f.expected.as_deref(), Some("v=DKIM1; p=QUJD"));
    assert!(
        f.fix
            .as_deref()
            .unwrap()
            .contains("name mail._domainkey, type TXT"),
        "{:?}",
        f.fix
    );
}
