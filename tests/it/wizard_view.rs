//! The wizard's view at 80x24: one snapshot per screen, states built by driving the state
//! machine with messages (as the runtime would). Also: the monochrome theme carries the same
//! text with no colour, and every screen renders at 40x10 and smaller without panicking.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use mailsetup::check::{Checked, Finding, Report, Severity, Status, ids};
use mailsetup::host::services::{Service, ServiceAction, Verb};
use mailsetup::plan::{FileChange, GroupChange, KeyCreation, Owner, Perms, Plan};
use mailsetup::settings::Settings;
use mailsetup::tui::theme::Theme;
use mailsetup::tui::view::render;
use mailsetup::values::{Domain, KeyBits, Selector};
use mailsetup::wizard::{Effect, Key, Msg, Options, Outcome, Scan, Step, Wizard};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

use crate::support::fixture_text;

const MAIN_CF: &str = fixture_text!("debian12/etc/postfix/main.cf");

fn draw(w: &Wizard, theme: &Theme, cols: u16, rows: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(cols, rows)).unwrap();
    t.draw(|f| render(w, theme, f)).unwrap();
    t
}

fn screen(w: &Wizard) -> Terminal<TestBackend> {
    draw(w, &Theme::color(), 80, 24)
}

fn key(w: &mut Wizard, k: Key) {
    w.update(Msg::Key(k));
}

fn type_text(w: &mut Wizard, text: &str) {
    for c in text.chars() {
        key(w, Key::Char(c));
    }
}

fn scan() -> Scan {
    Scan {
        distribution: "Debian GNU/Linux 12 (bookworm)".into(),
        is_root: true,
        hostname: Some("mail.example.org".into()),
        ipv4: Some("192.0.2.25".parse().unwrap()),
        found: vec![
            ("main.cf myhostname".into(), "vm".into()),
            ("main.cf inet_protocols".into(), "all".into()),
            ("main.cf smtpd_milters".into(), "(not set)".into()),
            (
                "opendkim.conf Socket".into(),
                "local:/run/opendkim/opendkim.sock".into(),
            ),
        ],
        ..Scan::default()
    }
}

/// The answers the wizard starts from: documentation addresses, so `allow_private_ip` (the
/// identity form refuses them otherwise).
fn lab_answers() -> Settings {
    let mut s = Settings::new(
        Domain::parse("mail.example.org").unwrap(),
        vec![Domain::parse("example.org").unwrap()],
    );
    s.ipv4 = Some("192.0.2.25".parse().unwrap());
    s.allow_private_ip = true;
    s
}

/// Past the scan and the identity form (IPv6 typed in when given), on inet_protocols.
fn at_inet_protocols(dry_run: bool, ipv6: Option<&str>) -> Wizard {
    let (mut w, _) = Wizard::new(Options {
        dry_run,
        answers: Some(lab_answers()),
        ..Options::default()
    });
    w.update(Msg::Scanned(scan()));
    key(&mut w, Key::Enter);
    if let Some(ip) = ipv6 {
        w.form.focus = 2;
        type_text(&mut w, ip);
    }
    key(&mut w, Key::Enter);
    assert_eq!(w.step, Step::InetProtocols);
    w
}

fn file(path: &str, before: Option<&str>, after: &str, why: &str) -> FileChange {
    FileChange {
        path: path.into(),
        before: before.map(str::to_string),
        after: after.into(),
        perms: Perms::Keep,
        why: why.into(),
    }
}

fn inet_plan() -> Plan {
    let after = MAIN_CF.replace("myhostname = vm", "myhostname = mail.example.org");
    let mut p = Plan::default();
    p.files.push(file(
        "/etc/postfix/main.cf",
        Some(MAIN_CF),
        &after,
        "the server's name in HELO and in Received:",
    ));
    p.services.push(ServiceAction::new(
        Service::Postfix,
        Verb::Restart,
        "myhostname and inet_protocols are read at start",
    ));
    p
}

fn milter_plan() -> Plan {
    let after = format!(
        "{MAIN_CF}\n# OpenDKIM signs every message (mailsetup)\n\
         milter_default_action = accept\nmilter_protocol = 6\n\
         smtpd_milters = unix:opendkim/opendkim.sock\nnon_smtpd_milters = $smtpd_milters\n"
    );
    let mut p = Plan::default();
    p.files.push(file(
        "/etc/postfix/main.cf",
        Some(MAIN_CF),
        &after,
        "hand every message to OpenDKIM to be signed",
    ));
    p.groups.push(GroupChange {
        user: "postfix",
        group: "opendkim",
        why: "so Postfix can open OpenDKIM's socket".into(),
    });
    p.services.push(ServiceAction::new(
        Service::Postfix,
        Verb::Reload,
        "the milter settings",
    ));
    p
}

fn tables_plan() -> Plan {
    let mut p = Plan::default();
    p.files.push(FileChange {
        path: "/etc/opendkim/KeyTable".into(),
        before: None,
        after:
            "mail._domainkey.example.org example.org:mail:/etc/dkimkeys/example.org/mail.private\n"
                .into(),
        perms: Perms::New(Owner::ROOT_OPENDKIM, 0o640),
        why: "which key signs for which domain".into(),
    });
    p
}

fn keys_plan() -> Plan {
    let mut p = Plan::default();
    p.keys.push(KeyCreation {
        domain: Domain::parse("example.org").unwrap(),
        selector: Selector::default(),
        path: "/etc/dkimkeys/example.org/mail.private".into(),
        kind: mailsetup::keys::KeyKind::Rsa(KeyBits::B2048),
        restore_from: None,
    });
    p
}

fn planned(w: &mut Wizard, step: Step, plan: Plan) {
    assert_eq!(w.step, step);
    w.update(Msg::Planned(step, Ok(plan)));
}

/// inet_protocols and OpenDKIM already done; on the Milter step with its diff pending.
fn at_milter_pending() -> Wizard {
    let mut w = at_inet_protocols(false, None);
    planned(&mut w, Step::InetProtocols, Plan::default());
    key(&mut w, Key::Enter);
    planned(&mut w, Step::Opendkim, Plan::default());
    key(&mut w, Key::Enter);
    planned(&mut w, Step::Milter, milter_plan());
    w
}

/// Applies the step's pending diff and verifies it (the re-plan is empty).
fn apply(w: &mut Wizard, step: Step, lines: &[&str]) {
    key(w, Key::Char('y'));
    let lines = lines.iter().map(|l| l.to_string()).collect();
    w.update(Msg::Applied(step, Ok(lines)));
    w.update(Msg::Planned(step, Ok(Plan::default())));
}

const RECORDS: &str = "; records for example.org (mailsetup)
$ORIGIN example.org.
; SPF: the hosts allowed to send mail for the domain
@\tIN\tTXT\t\"v=spf1 a mx ip4:192.0.2.25 ~all\"
; DKIM: the public key receivers verify signatures with
mail._domainkey\tIN\tTXT\t\"v=DKIM1; k=rsa; \" \"p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwq3K1ZbQx7nE0p9yVv4o2m7d8Lr5UuT4cB1hYkqPzW3fJ6sXnD0gA9eR2tHvM5iLbC8oKjNqS7wXyZ1aF3uE4dG6hT0pV9rQ2sL8mN5bC7xY1zW3kJ4fH6gD8eS0aR2tU9vI5oP7lK3jM1nB\" \"AQAB\"
; DMARC: what receivers do when SPF and DKIM fail, and where they report
_dmarc\tIN\tTXT\t\"v=DMARC1; p=none\"
; MX: this server receives mail for the domain (skip it if another provider receives your mail)
@\tIN\tMX\t10 mail.example.org.
; the hostname's address, which the MX and the PTR point at
mail\tIN\tA\t192.0.2.25

; PTR: ask the provider of 192.0.2.25 to set its reverse DNS (not part of your zone):
;   25.2.0.192.in-addr.arpa.\tIN\tPTR\tmail.example.org.
";

fn checked(check: &'static str, subject: &str, status: Status, group: &str) -> Checked {
    Checked {
        check,
        subject: subject.into(),
        status,
        group: group.into(),
    }
}

fn failing_report() -> Report {
    Report {
        checked: vec![
            checked("a", "mail.example.org", Status::Pass, "mail.example.org"),
            checked("ptr", "192.0.2.25", Status::Unknown, "mail.example.org"),
            checked("dkim", "example.org", Status::Fail, "example.org"),
            checked("spf", "example.org", Status::Fail, "example.org"),
            checked("dmarc", "example.org", Status::Pass, "example.org"),
            checked("mx", "example.org", Status::Pass, "example.org"),
        ],
        findings: vec![
            Finding {
                id: ids::SPF_IP_NOT_PERMITTED,
                severity: Severity::Error,
                subject: "example.org".into(),
                message: "SPF of example.org gives fail for 192.0.2.25: mail from this server \
                          would be rejected"
                    .into(),
                found: Some("v=spf1 ip4:192.0.2.99 -all".into()),
                expected: Some("v=spf1 a mx ip4:192.0.2.25 ~all".into()),
                fix: Some("example.org. IN TXT \"v=spf1 a mx ip4:192.0.2.25 ~all\"".into()),
            },
            Finding {
                id: ids::DKIM_KEY_MISMATCH,
                severity: Severity::Error,
                subject: "example.org".into(),
                message: "the DKIM record of mail._domainkey.example.org is not the key \
                          this server signs with"
                    .into(),
                found: Some("v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo9z+40RQzuVaE8AkAFmxZzow3x+VJYKdx".into()),
                expected: Some("v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwq3K1ZbQx7nE0p9yVv4o2m7d8Lr5UuT4cB1hYkqPzW3fJ6sXnD0gA9eR2tHvM5iLbC8oKjNqS7wXyZ1aF3uE4dG6hT0pV9rQ2sL8mN5bC7xY1zW3kJ4fH6gD8eS0aR2tU9vI5oP7lK3jM1nB".into()),
                fix: None,
            },
            Finding {
                id: ids::DMARC_MONITOR_ONLY,
                severity: Severity::Info,
                subject: "example.org".into(),
                message: "DMARC p=none only monitors; raise it once the reports look clean".into(),
                found: None,
                expected: None,
                fix: None,
            },
        ],
    }
}

/// On Verify with the failing report shown and the second finding selected.
fn at_verify() -> Wizard {
    let mut w = at_milter_pending();
    w.goto(Step::Records);
    w.update(Msg::Records(Ok(RECORDS.into())));
    key(&mut w, Key::Enter);
    assert_eq!(w.step, Step::Verify);
    w.update(Msg::Checked(failing_report()));
    key(&mut w, Key::Down);
    key(&mut w, Key::Down);
    for _ in 0..3 {
        w.update(Msg::Tick);
    }
    assert_eq!(w.selected, Some(1));
    w
}

/// Walks every step: applied, already done, applied, skipped, applied (or, in a dry run,
/// would apply instead of applied), then records, a clean check, and the summary.
fn at_summary(dry_run: bool) -> Wizard {
    let mut w = at_inet_protocols(dry_run, None);
    planned(&mut w, Step::InetProtocols, inet_plan());
    if dry_run {
        key(&mut w, Key::Char('y'));
    } else {
        apply(&mut w, Step::InetProtocols, &["wrote /etc/postfix/main.cf"]);
        key(&mut w, Key::Enter);
    }
    planned(&mut w, Step::Opendkim, Plan::default());
    key(&mut w, Key::Enter);
    planned(&mut w, Step::Milter, milter_plan());
    if dry_run {
        key(&mut w, Key::Char('y'));
    } else {
        apply(&mut w, Step::Milter, &["wrote /etc/postfix/main.cf"]);
        key(&mut w, Key::Enter);
    }
    planned(&mut w, Step::Tables, tables_plan());
    key(&mut w, Key::Char('n'));
    planned(&mut w, Step::Keys, keys_plan());
    if dry_run {
        key(&mut w, Key::Char('y'));
    } else {
        apply(
            &mut w,
            Step::Keys,
            &["new key /etc/dkimkeys/example.org/mail.private"],
        );
        key(&mut w, Key::Enter);
    }
    // inbound_spf off: nothing to do, Enter passes it
    planned(&mut w, Step::InboundSpf, Plan::default());
    key(&mut w, Key::Enter);
    // inbound DMARC off: its step has nothing to do
    planned(&mut w, Step::InboundDmarc, Plan::default());
    key(&mut w, Key::Enter);
    // TLS: main.cf already says it
    planned(&mut w, Step::Tls, Plan::default());
    key(&mut w, Key::Enter);
    assert_eq!(w.step, Step::Records);
    w.update(Msg::Records(Ok(RECORDS.into())));
    key(&mut w, Key::Enter);
    let mut clean = failing_report();
    clean.findings.clear();
    for c in &mut clean.checked {
        c.status = Status::Pass;
    }
    w.update(Msg::Checked(clean));
    let effects = w.update(Msg::Key(Key::Enter));
    assert_eq!(w.step, Step::Summary);
    if !dry_run {
        // the services the applied steps need are restarted once, here
        assert!(
            matches!(effects.as_slice(), [Effect::Restart(_)]),
            "{effects:?}"
        );
        let effects = w.update(Msg::Restarted(Ok(vec![
            "restarted opendkim: its keys changed".into(),
            "stopped and started postfix: inet_protocols changed".into(),
        ])));
        assert!(
            matches!(effects.as_slice(), [Effect::Selftest(_)]),
            "{effects:?}"
        );
        w.update(Msg::SelfTested(Report {
            findings: vec![Finding {
                id: ids::SELFTEST_SIGNED,
                severity: Severity::Info,
                subject: "example.org".into(),
                message: "d=example.org, s=mail, rsa-sha256: verified against the published key"
                    .into(),
                found: None,
                expected: None,
                fix: None,
            }],
            checked: vec![],
        }));
    }
    w
}

// ---- one snapshot per screen ----

#[test]
fn before_the_scan() {
    let (mut w, _) = Wizard::new(Options::default());
    w.update(Msg::Tick);
    insta::assert_snapshot!(screen(&w).backend());
}

#[test]
fn scan_after_an_interrupted_step_offers_to_undo_the_earlier_ones() {
    let (mut w, _) = Wizard::new(Options {
        interrupted: Some(mailsetup::wizard::Interrupted {
            notice: "an interrupted run was found: `wizard step 6/12 (Keys)` (pid 4242, started \
                     2026-12-05 23:10:01 UTC) stopped while changing the live files.\n  It was \
                     undone: every file is as it was before that run."
                .into(),
            session: Some("20261205T230000Z-4242".into()),
            earlier: 3,
        }),
        ..Options::default()
    });
    w.update(Msg::Scanned(scan()));
    insta::assert_snapshot!(screen(&w).backend());
    // u undoes the earlier steps of that run; once done, the offer is gone
    assert_eq!(
        w.update(Msg::Key(Key::Char('u'))),
        [Effect::UndoSession("20261205T230000Z-4242".into())]
    );
    w.update(Msg::SessionUndone(Ok(
        "undone: the 3 steps applied from A to C".into(),
    )));
    assert_eq!(w.update(Msg::Key(Key::Char('u'))), []);
    assert_eq!(
        w.status.as_deref(),
        Some("undone: the 3 steps applied from A to C")
    );
}

#[test]
fn a_dry_run_never_undoes_the_earlier_steps() {
    let (mut w, _) = Wizard::new(Options {
        dry_run: true,
        interrupted: Some(mailsetup::wizard::Interrupted {
            notice: "an interrupted run was found".into(),
            session: Some("s".into()),
            earlier: 1,
        }),
        ..Options::default()
    });
    w.update(Msg::Scanned(scan()));
    assert_eq!(w.update(Msg::Key(Key::Char('u'))), []);
    assert_eq!(w.status.as_deref(), Some("dry run: nothing is undone"));
}

#[test]
fn scan_with_missing_packages() {
    let (mut w, _) = Wizard::new(Options::default());
    let mut s = scan();
    s.missing_packages = vec!["opendkim".into(), "opendkim-tools".into()];
    s.keys = vec!["/etc/dkimkeys/example.net/mail.private".into()];
    w.update(Msg::Scanned(s));
    insta::assert_snapshot!(screen(&w).backend());
}

#[test]
fn identity_with_an_error() {
    let (mut w, _) = Wizard::new(Options::default());
    w.update(Msg::Scanned(scan()));
    key(&mut w, Key::Enter);
    w.form.focus = 1;
    for _ in 0.."192.0.2.25".len() {
        key(&mut w, Key::Backspace);
    }
    type_text(&mut w, "127.0.0.1");
    w.form.focus = 3;
    type_text(&mut w, "example.org");
    key(&mut w, Key::Enter);
    assert_eq!(w.step, Step::Identity);
    assert!(w.form.fields[1].error.is_some());
    insta::assert_snapshot!(screen(&w).backend());
}

/// The whole form with four bad answers does not fit in 80x24: it scrolls to keep the
/// focused field, its error and its hint in view, and says which rows are shown.
#[test]
fn identity_scrolls_to_the_focused_field() {
    let (mut w, _) = Wizard::new(Options::default());
    w.update(Msg::Scanned(scan()));
    key(&mut w, Key::Enter);
    let focus = |w: &mut Wizard, field: &str| {
        w.form.focus = w.form.fields.iter().position(|f| f.key == field).unwrap();
    };
    focus(&mut w, "domains");
    type_text(&mut w, "example.org");
    focus(&mut w, "key_bits");
    type_text(&mut w, "0"); // 20480
    key(&mut w, Key::Tab);
    key(&mut w, Key::Right); // spf_all -all
    focus(&mut w, "dmarc_rua");
    type_text(&mut w, "dmarc@example.org");
    focus(&mut w, "trusted_hosts");
    type_text(&mut w, ", 10.0.0.1/8");
    key(&mut w, Key::Enter);
    assert_eq!(w.step, Step::Identity);
    assert_eq!(
        w.form.focus, 1,
        "the first bad field: the documentation IPv4"
    );
    for _ in 0..8 {
        key(&mut w, Key::Tab);
    }
    assert_eq!(w.form.fields[w.form.focus].key, "trusted_hosts");
    let text = screen(&w).backend().to_string();
    assert!(text.contains("── lines "), "{text}");
    assert!(text.contains("> Trusted hosts"), "{text}");
    assert!(text.contains("host bits must be"), "{text}");
    assert!(
        text.contains("IPs, networks (CIDR), names"),
        "the hint: {text}"
    );
    insta::assert_snapshot!(screen(&w).backend());
    // on a field with choices, the hints offer ← →
    key(&mut w, Key::BackTab);
    key(&mut w, Key::BackTab);
    assert_eq!(w.form.fields[w.form.focus].key, "dmarc_policy");
    let text = screen(&w).backend().to_string();
    assert!(text.contains("←→ choose"), "{text}");
    assert!(text.contains("none · quarantine · reject"), "{text}");
}

#[test]
fn inet_protocols_with_ipv6_pending() {
    let mut w = at_inet_protocols(false, Some("2001:db8::25"));
    planned(&mut w, Step::InetProtocols, inet_plan());
    // the AAAA is there, the PTR is not: ipv4 is recommended
    let check = |check: &'static str, subject: &str, status| Checked {
        check,
        subject: subject.into(),
        status,
        group: "mail.example.org".into(),
    };
    w.update(Msg::Readiness(Report {
        findings: vec![Finding {
            id: "ipv6.no-ptr",
            severity: Severity::Error,
            subject: "2001:db8::25".into(),
            message: "2001:db8::25 has no PTR record (the name does not exist)".into(),
            found: None,
            expected: Some("mail.example.org".into()),
            fix: None,
        }],
        checked: vec![
            check("aaaa", "mail.example.org", Status::Pass),
            check("ptr", "2001:db8::25", Status::Fail),
        ],
    }));
    insta::assert_snapshot!(screen(&w).backend());
}

#[test]
fn inet_protocols_without_ipv6_recommends_ipv4() {
    let mut w = at_inet_protocols(false, None);
    planned(&mut w, Step::InetProtocols, Plan::default());
    let text = screen(&w).backend().to_string();
    assert!(text.contains("inet_protocols = ipv4"), "{text}");
    assert!(
        text.contains("recommended: ipv4 — no IPv6 address given"),
        "{text}"
    );
    assert!(!text.contains("needs a PTR"), "{text}");
}

/// An IPv6-only server: the IPv4 cleared on the form, the IPv6 typed in. IPv6 only is the
/// value, IPv4 only is not offered, and a ready PTR says ipv6 or all.
#[test]
fn inet_protocols_for_an_ipv6_only_server() {
    let (mut w, _) = Wizard::new(Options {
        answers: Some(lab_answers()),
        ..Options::default()
    });
    w.update(Msg::Scanned(scan()));
    key(&mut w, Key::Enter);
    w.form.focus = 1;
    while !w.form.fields[1].value.is_empty() {
        key(&mut w, Key::Backspace);
    }
    w.form.focus = 2;
    type_text(&mut w, "2001:db8::25");
    key(&mut w, Key::Enter);
    assert_eq!(w.step, Step::InetProtocols, "{:?}", w.form.fields);
    planned(&mut w, Step::InetProtocols, inet_plan());
    let check = |check: &'static str, subject: &str| Checked {
        check,
        subject: subject.into(),
        status: Status::Pass,
        group: "mail.example.org".into(),
    };
    w.update(Msg::Readiness(Report {
        findings: vec![],
        checked: vec![
            check("aaaa", "mail.example.org"),
            check("ptr", "2001:db8::25"),
        ],
    }));
    let text = screen(&w).backend().to_string();
    assert!(text.contains("inet_protocols = ipv6"), "{text}");
    assert!(text.contains("change (all / ipv6)"), "{text}");
    assert!(
        text.contains("IPv6 is ready: ipv6 or all both work."),
        "{text}"
    );
}

#[test]
fn diff_pending() {
    let mut w = at_milter_pending();
    key(&mut w, Key::Down);
    insta::assert_snapshot!(screen(&w).backend());
}

#[test]
fn diff_already_done() {
    let mut w = at_inet_protocols(false, None);
    planned(&mut w, Step::InetProtocols, Plan::default());
    key(&mut w, Key::Enter);
    planned(&mut w, Step::Opendkim, Plan::default());
    assert_eq!(w.plans[&Step::Opendkim].outcome, Outcome::AlreadyDone);
    insta::assert_snapshot!(screen(&w).backend());
}

#[test]
fn diff_applied_and_verified() {
    let mut w = at_milter_pending();
    key(&mut w, Key::Char('n'));
    planned(&mut w, Step::Tables, tables_plan());
    apply(
        &mut w,
        Step::Tables,
        &[
            "new /etc/opendkim/KeyTable (root:opendkim 0640)",
            "restarted opendkim",
        ],
    );
    assert!(matches!(
        w.plans[&Step::Tables].outcome,
        Outcome::Applied {
            verified: Some(true),
            ..
        }
    ));
    insta::assert_snapshot!(screen(&w).backend());
}

#[test]
fn diff_failed() {
    let mut w = at_milter_pending();
    key(&mut w, Key::Char('n'));
    planned(&mut w, Step::Tables, Plan::default());
    key(&mut w, Key::Enter);
    planned(&mut w, Step::Keys, keys_plan());
    key(&mut w, Key::Char('y'));
    w.update(Msg::Applied(
        Step::Keys,
        Err("cannot create /etc/dkimkeys/example.org: Permission denied (os error 13)".into()),
    ));
    insta::assert_snapshot!(screen(&w).backend());
}

#[test]
fn records() {
    let mut w = at_milter_pending();
    w.goto(Step::Records);
    w.update(Msg::Records(Ok(RECORDS.into())));
    insta::assert_snapshot!(screen(&w).backend());
}

#[test]
fn verify_with_findings_and_a_selection() {
    insta::assert_snapshot!(screen(&at_verify()).backend());
}

/// On the step Enter on a finding jumped to, the screen says the way back: Esc (and Enter
/// once the step is decided) goes back to Verify.
#[test]
fn a_step_jumped_to_from_verify_says_the_way_back() {
    let mut w = at_verify();
    key(&mut w, Key::Enter);
    planned(&mut w, Step::Keys, keys_plan());
    let text = screen(&w).backend().to_string();
    let bottom: Vec<&str> = text.lines().rev().take(2).collect();
    assert!(bottom[0].contains("Esc back to Verify"), "{text}");
    assert!(
        bottom[1].contains("from Verify, for dkim.key-mismatch: Enter or Esc goes back"),
        "{text}"
    );
    apply(
        &mut w,
        Step::Keys,
        &["new key /etc/dkimkeys/example.org/mail.private"],
    );
    let text = screen(&w).backend().to_string();
    assert!(
        text.lines()
            .last()
            .unwrap()
            .contains("Enter/Esc back to Verify"),
        "{text}"
    );
}

#[test]
fn summary() {
    insta::assert_snapshot!(screen(&at_summary(false)).backend());
}

/// With `--root` and `--answers`, the summary and the quit confirmation print the commands
/// with them (quoted for the shell).
#[test]
fn the_commands_shown_carry_the_runs_options() {
    let invocation = mailsetup::invocation::Invocation {
        root: Some("/srv/lab tree".into()),
        answers: Some("/srv/a.toml".into()),
        ..Default::default()
    };
    let mut w = at_summary(false);
    w.invocation = invocation.clone();
    // the rows of the screen as one line (a command may wrap)
    let flat = |text: &str| {
        let rows: Vec<&str> = text
            .lines()
            .map(|l| l.trim_matches(|c| c == '"' || c == ' ' || c == '│'))
            .collect();
        rows.join(" ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    // a taller screen: the summary's steps, then the commands, all on it
    let text = draw(&w, &Theme::color(), 80, 30).backend().to_string();
    assert!(
        flat(&text).contains("Undo: mailsetup --root '/srv/lab tree' rollback (undoes every step"),
        "{text}"
    );
    assert!(
        flat(&text)
            .contains("`mailsetup --root '/srv/lab tree' --answers /srv/a.toml check` verifies"),
        "{text}"
    );
    let mut w = at_inet_protocols(false, None);
    w.invocation = invocation;
    planned(&mut w, Step::InetProtocols, inet_plan());
    apply(&mut w, Step::InetProtocols, &["wrote /etc/postfix/main.cf"]);
    key(&mut w, Key::Char('q'));
    let text = screen(&w).backend().to_string();
    assert!(
        flat(&text).contains("Undo what was applied: mailsetup --root '/srv/lab tree' rollback"),
        "{text}"
    );
}

#[test]
fn summary_dry_run() {
    insta::assert_snapshot!(screen(&at_summary(true)).backend());
}

#[test]
fn help_overlay() {
    let mut w = at_milter_pending();
    key(&mut w, Key::Char('?'));
    assert!(w.help);
    insta::assert_snapshot!(screen(&w).backend());
}

#[test]
fn quit_confirmation() {
    let mut w = at_inet_protocols(false, None);
    planned(&mut w, Step::InetProtocols, inet_plan());
    apply(&mut w, Step::InetProtocols, &["wrote /etc/postfix/main.cf"]);
    key(&mut w, Key::Char('q'));
    assert!(w.confirm_quit);
    insta::assert_snapshot!(screen(&w).backend());
}

#[test]
fn fix_opens_with_the_finding_boxed() {
    let finding = failing_report().findings.remove(1);
    let (mut w, _) = Wizard::new(Options {
        answers: Some(lab_answers()),
        fix: Some((Step::Keys, finding)),
        ..Options::default()
    });
    w.update(Msg::Scanned(scan()));
    planned(&mut w, Step::Keys, keys_plan());
    insta::assert_snapshot!(screen(&w).backend());
}

/// NO_COLOR: the same text as with colour, and not one coloured cell.
#[test]
fn mono_theme_carries_the_meaning_in_text() {
    let w = at_verify();
    let mono = draw(&w, &Theme::mono(), 80, 24);
    let color = draw(&w, &Theme::color(), 80, 24);
    assert_eq!(mono.backend().to_string(), color.backend().to_string());
    let colours = |t: &Terminal<TestBackend>| {
        t.backend()
            .buffer()
            .content()
            .iter()
            .filter(|c| c.fg != Color::Reset || c.bg != Color::Reset)
            .count()
    };
    assert_eq!(colours(&mono), 0);
    assert!(colours(&color) > 0, "the colour theme does colour");
    let text = mono.backend().to_string();
    for marker in [
        "✓ a",
        "✗ dkim",
        "? ptr",
        "> ✗ error dkim.key-mismatch",
        "  i note",
    ] {
        assert!(text.contains(marker), "{marker} missing:\n{text}");
    }
    insta::assert_snapshot!(mono.backend());
}

// ---- every screen, at every size ----

fn every_screen() -> Vec<(&'static str, Wizard)> {
    let mut help = at_milter_pending();
    key(&mut help, Key::Char('?'));
    let mut quit = at_inet_protocols(false, None);
    planned(&mut quit, Step::InetProtocols, inet_plan());
    apply(&mut quit, Step::InetProtocols, &["wrote"]);
    key(&mut quit, Key::Char('q'));
    let mut scanned = Wizard::new(Options::default()).0;
    let mut s = scan();
    s.missing_packages = vec!["opendkim".into()];
    scanned.update(Msg::Scanned(s));
    let mut identity = scanned.clone();
    key(&mut identity, Key::Enter);
    key(&mut identity, Key::Enter);
    let mut records = at_milter_pending();
    records.goto(Step::Records);
    records.update(Msg::Records(Ok(RECORDS.into())));
    let mut scrolled = records.clone();
    for _ in 0..30 {
        key(&mut scrolled, Key::PageDown);
    }
    let mut inet6 = at_inet_protocols(true, Some("2001:db8::25"));
    planned(&mut inet6, Step::InetProtocols, inet_plan());
    let mut fixing = at_verify();
    fixing.fixing = Some(failing_report().findings.remove(0));
    vec![
        ("start", Wizard::new(Options::default()).0),
        ("scan", scanned),
        ("identity", identity),
        ("inet6", inet6),
        ("planning", at_inet_protocols(false, None)),
        ("pending", at_milter_pending()),
        ("records", records),
        ("records scrolled past the end", scrolled),
        ("verify", at_verify()),
        ("verify with fixing", fixing),
        ("summary", at_summary(false)),
        ("summary dry run", at_summary(true)),
        ("help", help),
        ("quit", quit),
    ]
}

#[test]
fn every_screen_renders_at_40x10_and_smaller() {
    for (name, w) in every_screen() {
        for (cols, rows) in [(40, 10), (20, 5), (80, 3), (1, 1), (0, 0)] {
            let t = draw(&w, &Theme::color(), cols, rows);
            if cols >= 40 && rows >= 10 {
                // (TestBackend cannot print a 0-wide buffer: only the draw is checked there)
                let text = t.backend().to_string();
                let lines: Vec<&str> = text.lines().collect();
                assert!(lines[0].contains("step"), "{name}: {text}");
                assert!(
                    lines[9].contains("quit") || lines[9].contains("any key"),
                    "{name}: the hints are always on the last row:\n{text}"
                );
            }
        }
    }
}

#[test]
fn the_hints_are_on_the_last_row_of_every_screen_at_80x24() {
    for (name, w) in every_screen() {
        let text = screen(&w).backend().to_string();
        let last = text.lines().last().unwrap_or_default();
        assert!(
            last.contains("quit") || last.contains("any key"),
            "{name}: {last}"
        );
        assert!(
            text.lines().next().unwrap_or_default().contains("step"),
            "{name}"
        );
    }
}

/// Once Verify passes, the summary names the independent testers and the command that sends
/// to them, with this run's options; while Verify fails, it does not.
#[test]
fn the_summary_gives_the_deliverability_step_only_after_a_passing_verify() {
    let mut w = at_summary(false);
    w.invocation = mailsetup::invocation::Invocation {
        root: Some("/srv/lab".into()),
        ..Default::default()
    };
    // a tall screen: the whole summary
    let text = draw(&w, &Theme::color(), 100, 60).backend().to_string();
    let flat: String = text
        .lines()
        .map(|l| l.trim_matches(|c| c == '"' || c == ' '))
        .collect::<Vec<_>>()
        .join(" ");
    for needle in [
        "Test deliverability",
        "mailsetup --root /srv/lab --answers /srv/lab/etc/mailsetup/answers.toml selftest --via-postfix --to ADDRESS",
        "mail-tester.com",
        "checktls.com",
        "Show original",
        "spf=pass, dkim=pass and dmarc=pass",
    ] {
        assert!(flat.contains(needle), "{needle}: {text}");
    }
    w.report = Some(failing_report());
    let text = draw(&w, &Theme::color(), 100, 60).backend().to_string();
    assert!(!text.contains("Test deliverability"), "{text}");
}

/// The Keys step when its keys exist offers `r`; after a preview it says the next `r` does
/// what is shown, and shows what `rotate` said.
#[test]
fn keys_step_offers_the_rotation_and_shows_its_preview() {
    let mut w = at_inet_protocols(false, None);
    w.goto(Step::Keys);
    planned(&mut w, Step::Keys, Plan::default());
    let text = screen(&w).backend().to_string();
    assert!(text.contains("r: rotate the DKIM key"), "{text}");
    assert!(text.contains("r rotate"), "the hint line: {text}");
    key(&mut w, Key::Char('r'));
    w.update(Msg::Rotated(mailsetup::wizard::Rotated {
        preview: true,
        text: "  example.org: selector mail -> s202612 (2048-bit RSA)\n".into(),
        result: Ok(1),
        selector: None,
    }));
    let text = screen(&w).backend().to_string();
    assert!(text.contains("r again: do what is shown below"), "{text}");
    assert!(text.contains("rotate (preview: nothing written)"), "{text}");
    assert!(text.contains("selector mail -> s202612"), "{text}");
}
