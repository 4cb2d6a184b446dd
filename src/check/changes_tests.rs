//! [`diff`], the text, the state file and the mail of `check --state`, on hand-built findings.

use super::*;

fn seen(id: &str, severity: Severity, subject: &str, message: &str) -> Seen {
    Seen {
        id: id.into(),
        severity,
        subject: subject.into(),
        message: message.into(),
        found: None,
        expected: None,
        fix: None,
    }
}

fn dmarc_missing() -> Seen {
    let mut f = seen(
        "dmarc.missing",
        Severity::Error,
        "example.net",
        "example.net has no DMARC record",
    );
    f.fix = Some("_dmarc.example.net. IN TXT \"v=DMARC1; p=quarantine\"".into());
    f
}

fn weak() -> Seen {
    seen(
        "dkim.weak-key",
        Severity::Warning,
        "example.org",
        "the key of example.org is 1024 bits",
    )
}

fn ids(list: &[Seen]) -> Vec<(&str, &str)> {
    list.iter().map(Seen::key).collect()
}

#[test]
fn the_same_findings_are_no_change_even_with_another_message() {
    let mut later = weak();
    later.message = "the key of example.org is 1024 bits (say it differently)".into();
    let c = diff(&[weak(), dmarc_missing()], &[dmarc_missing(), later]);
    assert!(c.is_empty(), "{c:?}");
    assert_eq!(c.exit_code(), 0);
    assert_eq!(c.headline(), "0 new, 0 cleared");
}

#[test]
fn a_new_error_is_new_and_exits_1_a_gone_one_is_cleared() {
    let c = diff(&[weak()], &[weak(), dmarc_missing()]);
    assert_eq!(ids(&c.new), [("dmarc.missing", "example.net")]);
    assert!(c.cleared.is_empty() && c.changed.is_empty());
    assert!(c.new_error());
    assert_eq!(c.exit_code(), 1);
    let back = diff(&[weak(), dmarc_missing()], &[weak()]);
    assert_eq!(ids(&back.cleared), [("dmarc.missing", "example.net")]);
    assert!(back.new.is_empty());
    assert_eq!(back.exit_code(), 0, "a cleared error is good news");
    assert_eq!(back.headline(), "0 new, 1 cleared");
}

#[test]
fn a_new_warning_is_a_change_without_exit_1() {
    let c = diff(&[], &[weak()]);
    assert_eq!(ids(&c.new), [("dkim.weak-key", "example.org")]);
    assert!(!c.new_error());
    assert_eq!(c.exit_code(), 0);
}

#[test]
fn the_same_id_at_another_subject_is_another_finding() {
    let mut org = dmarc_missing();
    org.subject = "example.org".into();
    org.message = "example.org has no DMARC record".into();
    let c = diff(&[dmarc_missing()], &[org]);
    assert_eq!(ids(&c.new), [("dmarc.missing", "example.org")]);
    assert_eq!(ids(&c.cleared), [("dmarc.missing", "example.net")]);
}

#[test]
fn another_severity_is_changed_and_an_error_now_exits_1() {
    let mut worse = weak();
    worse.severity = Severity::Error;
    let c = diff(&[weak()], &[worse.clone()]);
    assert!(c.new.is_empty() && c.cleared.is_empty());
    assert_eq!(
        c.changed,
        [Changed {
            was: Severity::Warning,
            finding: worse.clone()
        }]
    );
    assert_eq!(c.exit_code(), 1);
    assert_eq!(c.headline(), "0 new, 0 cleared, 1 changed");
    let better = diff(&[worse], &[weak()]);
    assert_eq!(better.changed.len(), 1);
    assert_eq!(better.exit_code(), 0);
}

#[test]
fn a_repeated_key_pairs_same_message_first_and_counts_the_rest() {
    let a = seen(
        "dns.ns-disagree",
        Severity::Warning,
        "example.org",
        "SPF differs",
    );
    let b = seen(
        "dns.ns-disagree",
        Severity::Warning,
        "example.org",
        "DMARC differs",
    );
    let (a, b) = (&[a.clone()][..], &[b.clone()][..]);
    let ab = [a[0].clone(), b[0].clone()];
    let ba = [b[0].clone(), a[0].clone()];
    // one of two gone: the one whose message is no longer there is cleared
    let c = diff(&ab, b);
    assert!(c.new.is_empty());
    assert_eq!(c.cleared, a);
    // one more: the one with the other message is new
    let c = diff(a, &ba);
    assert_eq!(c.new, b);
    assert!(c.cleared.is_empty());
    // the same two in another order: no change
    assert!(diff(&ab, &ba).is_empty());
    // both messages reworded: paired in order, no change
    let mut reworded = ab.clone();
    reworded[0].message = "SPF differs at ns2".into();
    reworded[1].message = "DMARC differs at ns2".into();
    assert!(diff(&ab, &reworded).is_empty());
}

#[test]
fn text_lists_new_with_fix_cleared_and_changed_then_the_summary() {
    let mut worse = seen(
        "spf.ip-not-permitted",
        Severity::Warning,
        "example.org",
        "softfail",
    );
    let before = [weak(), worse.clone()];
    worse.severity = Severity::Error;
    let c = diff(&before, &[dmarc_missing(), worse]);
    let text = c.to_text(
        Some("Sat, 05 Dec 2026 08:00:00 +0000"),
        "5 of 7 checks passed; 2 errors, 0 warnings.",
    );
    let want = "\
1 new, 1 cleared, 1 changed since the last check (Sat, 05 Dec 2026 08:00:00 +0000)
new:
  error dmarc.missing: example.net has no DMARC record
    fix:      _dmarc.example.net. IN TXT \"v=DMARC1; p=quarantine\"
cleared:
  warning dkim.weak-key: the key of example.org is 1024 bits
severity changed:
  error (was warning) spf.ip-not-permitted: softfail [example.org]
now: 5 of 7 checks passed; 2 errors, 0 warnings.
";
    assert_eq!(text, want);
}

#[test]
fn text_of_no_change_and_of_the_baseline() {
    let none = diff(&[weak()], &[weak()]);
    assert_eq!(
        none.to_text(Some("D"), "S."),
        "no change since the last check (D)\nnow: S.\n"
    );
    let first = diff(&[], &[weak()]);
    let text = first.to_text(None, "S.");
    assert!(text.starts_with("baseline: no earlier state; "), "{text}");
    assert!(text.contains("\nnew:\n  warning dkim.weak-key: "), "{text}");
}

#[test]
fn text_sanitizes_what_came_from_dns() {
    let mut f = dmarc_missing();
    f.found = Some("v=DMARC1\u{1b}[31m; p=none".into());
    let text = diff(&[], &[f]).to_text(None, "S.");
    assert!(!text.contains('\u{1b}'), "{text:?}");
}

#[test]
fn state_round_trips_through_its_text_and_refuses_another_version() {
    let report = super::super::Report {
        findings: vec![super::super::Finding::new(
            super::super::ids::DKIM_WEAK_KEY,
            Severity::Warning,
            "example.org",
            "1024 bits".into(),
        )],
        checked: vec![],
    };
    let json = super::super::report::to_json(&report);
    let text = state_text("Sat, 05 Dec 2026 08:00:00 +0000", "mail.example.org", &json).unwrap();
    let state = parse_state(&text).unwrap();
    assert_eq!(state.time, "Sat, 05 Dec 2026 08:00:00 +0000");
    assert_eq!(state.report.findings, [Seen::from(&report.findings[0])]);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["host"], "mail.example.org");
    assert_eq!(v["report"]["verdict"], "fail", "the whole report is kept");
    let other = text.replace("\"version\":1", "\"version\":2");
    assert!(parse_state(&other).unwrap_err().contains("version 2"));
    assert!(parse_state("{}").is_err());
    assert!(parse_state("not json").is_err());
}

#[test]
fn mail_is_one_rfc5322_message_about_the_changes() {
    let c = diff(&[], &[dmarc_missing()]);
    let m = Mail {
        to: "root",
        host: "mail.example.org",
        date: "Sun, 06 Dec 2026 08:00:00 +0000",
        token: "20261206T080000Z.42",
    };
    let text = c.to_text(Some("D"), "S.");
    let msg = mail(&m, &c, false, &text);
    let (head, body) = msg.split_once("\n\n").unwrap();
    assert_eq!(
        head,
        "From: mailsetup <root@mail.example.org>\n\
         To: root\n\
         Subject: mailsetup check: 1 new, 0 cleared on mail.example.org\n\
         Date: Sun, 06 Dec 2026 08:00:00 +0000\n\
         Message-ID: <mailsetup-check.20261206T080000Z.42@mail.example.org>\n\
         MIME-Version: 1.0\n\
         Content-Type: text/plain; charset=utf-8\n\
         Content-Transfer-Encoding: 8bit\n\
         Auto-Submitted: auto-generated"
    );
    assert!(body.starts_with(&text), "{body}");
    assert!(body.ends_with("shows the whole report.\n"), "{body}");
    assert!(!msg.contains('\r'));
    let first = mail(&m, &c, true, &text);
    assert!(first.contains("\nSubject: mailsetup check: baseline, 1 new, 0 cleared on "));
}

#[test]
fn mail_to_is_one_plain_address() {
    for ok in ["root", "admin@example.org", "a.b+c@mail.example.org"] {
        assert_eq!(mail_to_ok(ok), Ok(()), "{ok}");
    }
    for bad in [
        "",
        "root\nBcc: x@example.org",
        "a b",
        "a@example.org, b@example.org",
        "Admin <a@example.org>",
        "a@@b",
        "@example.org",
        "root@",
        "rööt",
    ] {
        assert!(mail_to_ok(bad).is_err(), "{bad:?}");
    }
}
