//! Unit tests of the sender-requirements verdict: each rule met, not met with its blocking
//! ids, and not verifiable, on reports built by hand.

use super::*;
use crate::check::{Checked, Severity};
use crate::check::{Finding, Report, Status, ids};

const HOST: &str = "mail.example.org";
const IP: &str = "192.0.2.25";

fn line(check: &'static str, subject: &str, group: &str, status: Status) -> Checked {
    Checked {
        check,
        subject: subject.into(),
        status,
        group: group.into(),
    }
}

fn finding(id: &'static str, severity: Severity, subject: &str) -> Finding {
    Finding::new(id, severity, subject, format!("{id} about {subject}"))
}

/// Every line of a passing `check` of this host with `--root /` (and the TLS step's line),
/// for these domains.
fn passing(domains: &[&str]) -> Report {
    let mut checked = vec![
        line("milter", "/etc/postfix/main.cf", HOST, Status::Pass),
        line("opendkim", "/etc/opendkim/SigningTable", HOST, Status::Pass),
        line("keys", "/etc/opendkim/keys", HOST, Status::Pass),
        line("running", "postfix, opendkim", HOST, Status::Pass),
        line("tls", "/etc/postfix/main.cf", HOST, Status::Pass),
        line("a", HOST, HOST, Status::Pass),
        line("ptr", IP, HOST, Status::Pass),
        line("rbl", IP, HOST, Status::Pass),
    ];
    for d in domains {
        for check in ["ns", "dkim", "spf", "dmarc", "mx"] {
            checked.push(line(check, d, d, Status::Pass));
        }
    }
    Report {
        findings: Vec::new(),
        checked,
    }
}

/// `report` with `id` (an error) about `subject`, and the line `check` of `subject` failing.
fn failing(mut report: Report, check: &str, id: &'static str, subject: &str) -> Report {
    report.findings.push(finding(id, Severity::Error, subject));
    for c in &mut report.checked {
        if c.check == check && c.subject == subject {
            c.status = Status::Fail;
        }
    }
    report
}

/// `report` with the line `check` of `subject` unknown, for the finding `id` (a warning).
fn unknown(mut report: Report, check: &str, id: &'static str, subject: &str) -> Report {
    report
        .findings
        .push(finding(id, Severity::Warning, subject));
    for c in &mut report.checked {
        if c.check == check && c.subject == subject {
            c.status = Status::Unknown;
        }
    }
    report
}

fn set(v: &Verdict, receiver: Receiver, senders: Senders) -> &RuleSet {
    v.sets
        .iter()
        .find(|s| s.receiver == receiver && s.senders == senders)
        .unwrap()
}

fn rule(set: &RuleSet, rule: Rule) -> &RuleResult {
    set.rules.iter().find(|r| r.rule == rule).unwrap()
}

fn statuses(v: &Verdict) -> Vec<Outcome> {
    v.sets.iter().map(|s| s.status).collect()
}

fn blocking_ids(r: &RuleResult) -> Vec<&str> {
    r.blocking.iter().map(|b| b.id).collect()
}

use Outcome::{Met, NotMet, NotVerifiable};
use Receiver::{Gmail, Yahoo};
use Senders::{All, Bulk};

#[test]
fn a_passing_server_meets_every_set_and_says_what_it_cannot_see() {
    let v = verdict(&passing(&["example.org"]), Scope::Server);
    assert_eq!(statuses(&v), [Met, Met, Met, Met]);
    let want = "\
Sender requirements (Gmail, Yahoo; February 2024):
  gmail (all senders): met
  gmail (bulk senders): met
  yahoo (all senders): met
  yahoo (bulk senders): met
  not verifiable by check, yours to keep: rfc5322, spam-rate, unsubscribe (RFC 5322 format of each message; spam rate below 0.3 %; bulk: one-click unsubscribe)
";
    assert_eq!(v.to_string(), want);
    // the message rules are listed, never met
    let gmail_bulk = set(&v, Gmail, Bulk);
    for r in [Rule::Rfc5322, Rule::SpamRate, Rule::Unsubscribe] {
        assert_eq!(rule(gmail_bulk, r).status, NotVerifiable);
        assert_eq!(rule(gmail_bulk, r).about, About::Messages);
    }
    assert!(
        set(&v, Gmail, All)
            .rules
            .iter()
            .all(|r| r.rule != Rule::Unsubscribe)
    );
}

#[test]
fn the_sets_hold_their_sources_rules() {
    let v = verdict(&passing(&["example.org"]), Scope::Server);
    let rules = |s: &RuleSet| s.rules.iter().map(|r| r.rule.id()).collect::<Vec<_>>();
    assert_eq!(
        rules(set(&v, Gmail, All)),
        ["spf-or-dkim", "ptr", "tls", "rfc5322", "spam-rate"]
    );
    assert_eq!(
        rules(set(&v, Gmail, Bulk)),
        [
            "spf-and-dkim",
            "dmarc",
            "alignment",
            "ptr",
            "tls",
            "rfc5322",
            "spam-rate",
            "unsubscribe"
        ]
    );
    // Yahoo's list has no TLS rule
    assert_eq!(
        rules(set(&v, Yahoo, All)),
        ["spf-or-dkim", "ptr", "rfc5322", "spam-rate"]
    );
}

#[test]
fn spf_failing_alone_leaves_all_senders_met_and_bulk_not_met() {
    let r = failing(
        passing(&["example.org"]),
        "spf",
        ids::SPF_IP_NOT_PERMITTED,
        "example.org",
    );
    let v = verdict(&r, Scope::Server);
    assert_eq!(statuses(&v), [Met, NotMet, Met, NotMet]);
    let bulk = set(&v, Yahoo, Bulk);
    assert_eq!(
        blocking_ids(rule(bulk, Rule::SpfAndDkim)),
        ["spf.ip-not-permitted"]
    );
    assert_eq!(rule(bulk, Rule::Alignment).status, Met, "DKIM is aligned");
    assert_eq!(
        set(&v, Yahoo, Bulk).to_string(),
        "yahoo (bulk senders): not met — spf-and-dkim: spf.ip-not-permitted (example.org)"
    );
}

#[test]
fn spf_and_dkim_both_failing_is_not_met_for_everyone_with_both_ids() {
    let r = failing(
        passing(&["example.org"]),
        "spf",
        ids::SPF_MISSING,
        "example.org",
    );
    let r = failing(r, "dkim", ids::DKIM_KEY_MISMATCH, "example.org");
    let v = verdict(&r, Scope::Server);
    assert_eq!(statuses(&v), [NotMet, NotMet, NotMet, NotMet]);
    let all = set(&v, Gmail, All);
    assert_eq!(
        blocking_ids(rule(all, Rule::SpfOrDkim)),
        ["dkim.key-mismatch", "spf.missing"]
    );
    let bulk = set(&v, Gmail, Bulk);
    assert_eq!(
        blocking_ids(rule(bulk, Rule::Alignment)),
        ["dkim.key-mismatch", "spf.missing"]
    );
    assert_eq!(rule(bulk, Rule::Dmarc).status, Met);
}

#[test]
fn unsigned_mail_blocks_dkim_whatever_the_record() {
    let mut r = passing(&["example.org"]);
    r.findings
        .push(finding(ids::OPENDKIM_NOT_RUNNING, Severity::Error, HOST));
    r.checked[3].status = Status::Fail;
    let v = verdict(&r, Scope::Server);
    assert_eq!(statuses(&v), [Met, NotMet, Met, NotMet]);
    assert_eq!(
        blocking_ids(rule(set(&v, Gmail, Bulk), Rule::SpfAndDkim)),
        ["opendkim.not-running"]
    );
}

#[test]
fn a_missing_dmarc_record_blocks_bulk_only_and_p_none_is_enough() {
    let mut ok = passing(&["example.org"]);
    ok.findings.push(finding(
        ids::DMARC_MONITOR_ONLY,
        Severity::Info,
        "example.org",
    ));
    assert_eq!(statuses(&verdict(&ok, Scope::Server)), [Met, Met, Met, Met]);
    let r = failing(
        passing(&["example.org", "example.net"]),
        "dmarc",
        ids::DMARC_MISSING,
        "example.net",
    );
    let v = verdict(&r, Scope::Server);
    assert_eq!(statuses(&v), [Met, NotMet, Met, NotMet]);
    let dmarc = rule(set(&v, Gmail, Bulk), Rule::Dmarc);
    assert_eq!(
        dmarc.blocking,
        [Blocker {
            id: ids::DMARC_MISSING,
            subject: "example.net".into()
        }]
    );
}

#[test]
fn reverse_dns_not_met_not_verifiable_and_absent() {
    let r = failing(passing(&["example.org"]), "ptr", ids::PTR_MISMATCH, IP);
    let v = verdict(&r, Scope::Server);
    assert_eq!(statuses(&v), [NotMet, NotMet, NotMet, NotMet]);
    assert_eq!(
        set(&v, Gmail, All).to_string(),
        "gmail (all senders): not met — ptr: ptr.mismatch (192.0.2.25)"
    );
    let r = failing(passing(&["example.org"]), "a", ids::HOST_A_MISMATCH, HOST);
    let v = verdict(&r, Scope::Server);
    assert_eq!(
        blocking_ids(rule(set(&v, Yahoo, All), Rule::Ptr)),
        ["host.a-mismatch"]
    );

    let r = unknown(passing(&["example.org"]), "ptr", ids::DNS_UNVERIFIABLE, IP);
    let v = verdict(&r, Scope::Server);
    assert_eq!(statuses(&v), [NotVerifiable; 4]);
    assert_eq!(
        rule(set(&v, Yahoo, All), Rule::Ptr).unverified,
        ["dns.unverifiable (192.0.2.25)"]
    );
    assert_eq!(
        set(&v, Yahoo, All).to_string(),
        "yahoo (all senders): not verifiable — ptr: dns.unverifiable (192.0.2.25)"
    );

    let mut r = passing(&["example.org"]);
    r.checked.retain(|c| c.check != "ptr");
    let v = verdict(&r, Scope::Server);
    assert_eq!(rule(set(&v, Yahoo, All), Rule::Ptr).status, NotVerifiable);
}

#[test]
fn tls_is_gmails_and_needs_its_check() {
    let mut r = passing(&["example.org"]);
    r.checked.retain(|c| c.check != "tls");
    let v = verdict(&r, Scope::Server);
    assert_eq!(statuses(&v), [NotVerifiable, NotVerifiable, Met, Met]);
    assert!(
        set(&v, Gmail, All).to_string().starts_with(
            "gmail (all senders): not verifiable — tls: no check of Postfix's outbound TLS"
        ),
        "{v}"
    );
    let r = failing(
        passing(&["example.org"]),
        "tls",
        "tls.outbound-off",
        "/etc/postfix/main.cf",
    );
    let v = verdict(&r, Scope::Server);
    assert_eq!(statuses(&v), [NotMet, NotMet, Met, Met]);
    assert_eq!(
        blocking_ids(rule(set(&v, Gmail, All), Rule::Tls)),
        ["tls.outbound-off"]
    );
    // a line about inbound STARTTLS that could not tell says nothing about outbound TLS
    let mut r = passing(&["example.org"]);
    r.checked.push(line(
        "starttls",
        "mail.example.org:25",
        HOST,
        Status::Unknown,
    ));
    assert_eq!(statuses(&verdict(&r, Scope::Server)), [Met; 4]);
    // another TLS finding (a weak protocol enabled) does not stop TLS being used
    let mut r = passing(&["example.org"]);
    r.findings
        .push(finding("tls.weak-protocol", Severity::Warning, HOST));
    assert_eq!(statuses(&verdict(&r, Scope::Server)), [Met; 4]);
}

#[test]
fn a_dns_outage_is_not_verifiable_unless_the_other_method_passes() {
    let r = unknown(
        passing(&["example.org"]),
        "spf",
        ids::DNS_UNVERIFIABLE,
        "example.org",
    );
    let v = verdict(&r, Scope::Server);
    // SPF or DKIM: DKIM passes; SPF and DKIM: SPF could not be told
    assert_eq!(statuses(&v), [Met, NotVerifiable, Met, NotVerifiable]);
    assert_eq!(
        rule(set(&v, Gmail, Bulk), Rule::SpfAndDkim).unverified,
        ["dns.unverifiable (example.org)"]
    );
    // a real failure beside an outage is not met, and the line says both
    let r = failing(r, "dmarc", ids::DMARC_SYNTAX, "example.org");
    let v = verdict(&r, Scope::Server);
    assert_eq!(
        set(&v, Gmail, Bulk).to_string(),
        "gmail (bulk senders): not met — spf-and-dkim: not verifiable: dns.unverifiable \
         (example.org); dmarc: dmarc.syntax (example.org)"
    );
}

#[test]
fn beneath_another_root_the_daemons_are_not_seen() {
    let mut r = passing(&["example.org"]);
    r.checked.retain(|c| c.check != "running");
    let v = verdict(&r, Scope::Server);
    assert_eq!(statuses(&v), [Met, NotVerifiable, Met, NotVerifiable]);
    assert_eq!(
        rule(set(&v, Yahoo, Bulk), Rule::SpfAndDkim).unverified,
        ["whether Postfix and OpenDKIM run and sign is checked with --root / only"]
    );
    // a file not read makes signing unknown too
    let r = unknown(
        passing(&["example.org"]),
        "keys",
        ids::LOCAL_UNREADABLE,
        "/etc/opendkim/keys",
    );
    let v = verdict(&r, Scope::Server);
    assert_eq!(
        rule(set(&v, Yahoo, Bulk), Rule::SpfAndDkim).unverified,
        ["local.unreadable (/etc/opendkim/keys)"]
    );
}

#[test]
fn no_domain_checked_is_not_verifiable() {
    let mut r = passing(&[]);
    r.checked.retain(|c| c.check != "spf");
    let v = verdict(&r, Scope::Server);
    assert_eq!(
        rule(set(&v, Gmail, All), Rule::SpfOrDkim).unverified,
        ["no mail domain was checked"]
    );
}

/// The lines of `check example.org` (remote): no local lines, dkim per selector.
fn remote(dkim: &[(&str, Status)]) -> Report {
    let d = "example.org";
    let mut checked = vec![
        line("ns", d, d, Status::Pass),
        line("mx", d, d, Status::Pass),
        line("a", "mx.example.org", d, Status::Pass),
        line("spf", d, d, Status::Pass),
        line("dmarc", d, d, Status::Pass),
    ];
    for (subject, status) in dkim {
        checked.push(line("dkim", subject, d, *status));
    }
    Report {
        findings: Vec::new(),
        checked,
    }
}

#[test]
fn the_remote_check_judges_what_dns_shows() {
    let r = remote(&[("s1._domainkey.example.org", Status::Pass)]);
    let v = verdict(&r, Scope::Remote);
    let bulk = set(&v, Yahoo, Bulk);
    assert_eq!(rule(bulk, Rule::SpfAndDkim).status, Met);
    assert_eq!(rule(bulk, Rule::Dmarc).status, Met);
    // the sending addresses and Postfix's settings are not in DNS
    assert_eq!(rule(bulk, Rule::Ptr).status, NotVerifiable);
    assert_eq!(rule(set(&v, Gmail, All), Rule::Tls).status, NotVerifiable);
    assert_eq!(statuses(&v), [NotVerifiable; 4]);

    // one asked selector absent, another present: DKIM passes
    let mut r = remote(&[
        ("a._domainkey.example.org", Status::Fail),
        ("b._domainkey.example.org", Status::Pass),
    ]);
    r.findings
        .push(finding(ids::DKIM_MISSING, Severity::Error, "example.org"));
    let v = verdict(&r, Scope::Remote);
    assert_eq!(rule(set(&v, Gmail, Bulk), Rule::SpfAndDkim).status, Met);

    // the only asked selector absent: not met
    let mut r = remote(&[("a._domainkey.example.org", Status::Fail)]);
    r.findings
        .push(finding(ids::DKIM_MISSING, Severity::Error, "example.org"));
    let v = verdict(&r, Scope::Remote);
    assert_eq!(
        blocking_ids(rule(set(&v, Gmail, Bulk), Rule::SpfAndDkim)),
        ["dkim.missing"]
    );

    // no key at the common selectors: nothing known about DKIM
    let mut r = remote(&[("example.org", Status::Pass)]);
    r.findings.push(finding(
        ids::DKIM_NO_SELECTOR,
        Severity::Info,
        "example.org",
    ));
    let v = verdict(&r, Scope::Remote);
    let sad = rule(set(&v, Gmail, Bulk), Rule::SpfAndDkim);
    assert_eq!(sad.status, NotVerifiable);
    assert!(sad.unverified[0].contains("--selector"), "{sad:?}");
    assert_eq!(
        rule(set(&v, Gmail, All), Rule::SpfOrDkim).status,
        Met,
        "SPF passes"
    );
}

#[test]
fn json_shape() {
    let r = failing(
        passing(&["example.org"]),
        "dmarc",
        ids::DMARC_MISSING,
        "example.org",
    );
    let v = serde_json::to_value(verdict(&r, Scope::Server)).unwrap();
    let sets = v.as_array().unwrap();
    assert_eq!(sets.len(), 4);
    assert_eq!(sets[0]["receiver"], "gmail");
    assert_eq!(sets[0]["senders"], "all");
    assert_eq!(sets[0]["status"], "met");
    assert_eq!(sets[1]["senders"], "bulk");
    assert_eq!(sets[1]["status"], "not-met");
    assert_eq!(sets[2]["receiver"], "yahoo");
    let dmarc = &sets[1]["rules"][1];
    let mut keys: Vec<&String> = dmarc.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["about", "blocking", "rule", "status", "unverified"]);
    assert_eq!(dmarc["rule"], "dmarc");
    assert_eq!(dmarc["about"], "setup");
    assert_eq!(dmarc["status"], "not-met");
    assert_eq!(
        dmarc["blocking"],
        serde_json::json!([{"id": "dmarc.missing", "subject": "example.org"}])
    );
    let unsub = sets[1]["rules"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(unsub["rule"], "unsubscribe");
    assert_eq!(unsub["about"], "messages");
    assert_eq!(unsub["status"], "not-verifiable");
}
