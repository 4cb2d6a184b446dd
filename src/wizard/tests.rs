//! Pure wizard tests: messages in, state and effects out. No terminal, no runtime, no I/O.

use super::*;
use crate::check::{Checked, Severity, Status, ids};
use crate::plan::FileChange;
use crate::values::Domain;

/// The answers these tests start from: a documentation address, so `allow_private_ip`.
fn settings() -> Settings {
    let mut s = Settings::new(
        Domain::parse("mail.example.org").unwrap(),
        vec![Domain::parse("example.org").unwrap()],
    );
    s.ipv4 = Some("192.0.2.25".parse().unwrap());
    s.allow_private_ip = true;
    s
}

fn plan() -> Plan {
    let mut p = Plan::default();
    p.files.push(FileChange {
        path: "/etc/opendkim.conf".into(),
        before: Some("a\n".into()),
        after: "b\n".into(),
        perms: crate::plan::Perms::Keep,
        why: "test".into(),
    });
    p
}

fn scan() -> Scan {
    Scan {
        distribution: "Debian GNU/Linux 12 (bookworm)".into(),
        is_root: true,
        hostname: Some("mail.example.org".into()),
        ipv4: Some("192.0.2.25".parse().unwrap()),
        ..Scan::default()
    }
}

fn key(w: &mut Wizard, k: Key) -> Vec<Effect> {
    w.update(Msg::Key(k))
}

/// A wizard past the scan and the identity form, on the inet_protocols step. It starts from
/// answers (`settings()`): the scan of a test has a documentation address, which the form
/// takes only with the answers' `allow_private_ip`.
fn at_inet_protocols(dry_run: bool) -> Wizard {
    let (mut w, effects) = Wizard::new(Options {
        dry_run,
        answers: Some(settings()),
        ..Options::default()
    });
    assert_eq!(effects, [Effect::Scan]);
    w.update(Msg::Scanned(scan()));
    assert!(key(&mut w, Key::Enter).is_empty());
    assert_eq!(w.step, Step::Identity);
    assert_eq!(
        w.form.fields[0].value, "mail.example.org",
        "hostname from the answers"
    );
    assert_eq!(w.form.fields[3].value, "example.org");
    let effects = key(&mut w, Key::Enter);
    assert_eq!(w.step, Step::InetProtocols);
    assert_eq!(effects, [Effect::Plan(Step::InetProtocols, settings())]);
    w
}

#[test]
fn scan_then_identity_then_the_first_diff() {
    let mut w = at_inet_protocols(false);
    assert!(w.busy.is_some());
    w.update(Msg::Planned(Step::InetProtocols, Ok(plan())));
    assert_eq!(w.busy, None);
    assert_eq!(w.plans[&Step::InetProtocols].outcome, Outcome::Pending);
}

#[test]
fn identity_errors_stay_on_the_form_and_name_the_field() {
    let (mut w, _) = Wizard::new(Options::default());
    w.update(Msg::Scanned(scan()));
    key(&mut w, Key::Enter);
    let effects = key(&mut w, Key::Enter); // domains empty
    assert!(effects.is_empty());
    assert_eq!(w.step, Step::Identity);
    let err = w.form.fields[3].error.as_deref().unwrap();
    assert!(err.starts_with("domains: "), "{err}");
    // Without answers that allow it, the scan's documentation address is refused too, and
    // the focus goes to the first bad field.
    assert_eq!(w.form.focus, 1);
    let err = w.form.fields[1].error.as_deref().unwrap();
    assert!(
        err.starts_with("ipv4: 192.0.2.0/24 is a documentation range (RFC 5737)"),
        "{err}"
    );
    // q types into the form instead of quitting
    w.form.focus = 3;
    key(&mut w, Key::Char('q'));
    assert!(!w.done);
    assert_eq!(w.form.fields[3].value, "q");
}

/// The answers after the identity are on the form too: ← → changes a choice, and Enter
/// plans with it.
#[test]
fn the_form_asks_every_answer_and_left_right_change_a_choice() {
    let (mut w, _) = Wizard::new(Options {
        answers: Some(settings()),
        ..Options::default()
    });
    w.update(Msg::Scanned(scan()));
    key(&mut w, Key::Enter);
    while w.form.fields[w.form.focus].key != "dmarc_policy" {
        key(&mut w, Key::Tab);
    }
    assert_eq!(w.form.fields[w.form.focus].value, "none");
    key(&mut w, Key::Right);
    key(&mut w, Key::Right);
    assert_eq!(w.form.fields[w.form.focus].value, "reject");
    key(&mut w, Key::Left);
    let effects = key(&mut w, Key::Enter);
    let mut want = settings();
    want.dmarc_policy = crate::values::DmarcPolicy::Quarantine;
    assert_eq!(effects, [Effect::Plan(Step::InetProtocols, want.clone())]);
    assert_eq!(w.settings, Some(want));
    // elsewhere the arrows do nothing
    assert!(key(&mut w, Key::Left).is_empty());
    assert_eq!(w.step, Step::InetProtocols);
}

#[test]
fn y_applies_then_the_step_is_planned_again_to_verify() {
    let mut w = at_inet_protocols(false);
    w.update(Msg::Planned(Step::InetProtocols, Ok(plan())));
    let effects = key(&mut w, Key::Char('y'));
    assert_eq!(effects, [Effect::Apply(Step::InetProtocols, plan())]);
    assert_eq!(w.plans[&Step::InetProtocols].outcome, Outcome::Applying);
    let effects = w.update(Msg::Applied(Step::InetProtocols, Ok(vec!["wrote".into()])));
    assert_eq!(effects, [Effect::Plan(Step::InetProtocols, settings())]);
    w.update(Msg::Planned(Step::InetProtocols, Ok(Plan::default())));
    assert_eq!(
        w.plans[&Step::InetProtocols].outcome,
        Outcome::Applied {
            lines: vec![
                "wrote".into(),
                "undo every step of this run: mailsetup rollback".into()
            ],
            verified: Some(true)
        }
    );
    assert!(w.status.as_deref().unwrap().contains("done"));
    let effects = key(&mut w, Key::Enter);
    assert_eq!(w.step, Step::Opendkim);
    assert_eq!(effects, [Effect::Plan(Step::Opendkim, settings())]);
}

#[test]
fn dry_run_never_applies_and_records_what_would_change() {
    let mut w = at_inet_protocols(true);
    w.update(Msg::Planned(Step::InetProtocols, Ok(plan())));
    let effects = key(&mut w, Key::Char('y'));
    assert_eq!(effects, [Effect::Plan(Step::Opendkim, settings())]);
    assert_eq!(w.plans[&Step::InetProtocols].outcome, Outcome::WouldApply);
    assert_eq!(w.step, Step::Opendkim);
    // quitting saves nothing either
    let effects = key(&mut w, Key::Char('q'));
    assert_eq!(effects, [Effect::Quit]);
}

#[test]
fn n_skips_and_enter_on_a_pending_diff_asks() {
    let mut w = at_inet_protocols(false);
    w.update(Msg::Planned(Step::InetProtocols, Ok(plan())));
    assert!(key(&mut w, Key::Enter).is_empty());
    assert!(w.status.as_deref().unwrap().contains("press y"));
    key(&mut w, Key::Char('n'));
    assert_eq!(w.plans[&Step::InetProtocols].outcome, Outcome::Skipped);
    assert_eq!(w.step, Step::Opendkim);
}

#[test]
fn an_empty_plan_is_already_done() {
    let mut w = at_inet_protocols(false);
    w.update(Msg::Planned(Step::InetProtocols, Ok(Plan::default())));
    assert_eq!(w.plans[&Step::InetProtocols].outcome, Outcome::AlreadyDone);
    assert!(key(&mut w, Key::Char('y')).is_empty(), "nothing to apply");
    key(&mut w, Key::Enter);
    assert_eq!(w.step, Step::Opendkim);
}

#[test]
fn a_failed_apply_stays_on_the_step_and_can_be_retried() {
    let mut w = at_inet_protocols(false);
    w.update(Msg::Planned(Step::InetProtocols, Ok(plan())));
    key(&mut w, Key::Char('y'));
    let effects = w.update(Msg::Applied(Step::InetProtocols, Err("locked".into())));
    assert!(effects.is_empty());
    assert_eq!(w.step, Step::InetProtocols);
    assert!(w.status.as_deref().unwrap().contains("locked"));
    let retry = key(&mut w, Key::Char('y'));
    assert_eq!(retry, [Effect::Apply(Step::InetProtocols, plan())]);
}

#[test]
fn tab_on_inet_protocols_cycles_the_value_and_plans_again() {
    let mut w = at_inet_protocols(false);
    w.update(Msg::Planned(Step::InetProtocols, Ok(plan())));
    let effects = key(&mut w, Key::Tab);
    let mut all = settings();
    all.inet_protocols = InetProtocols::All;
    assert_eq!(effects, [Effect::Plan(Step::InetProtocols, all.clone())]);
    // without an IPv6 address, "ipv6" (IPv6 only) is not offered: all goes back to ipv4
    if all.ipv6.is_none() {
        w.update(Msg::Planned(Step::InetProtocols, Ok(plan())));
        let effects = key(&mut w, Key::Tab);
        assert_eq!(effects, [Effect::Plan(Step::InetProtocols, settings())]);
    }
}

/// An IPv6-only server: "ipv4" (IPv4 only) is not offered, Tab goes between all and ipv6.
#[test]
fn tab_on_inet_protocols_skips_ipv4_without_an_ipv4() {
    let mut w = at_inet_protocols(false);
    let mut v6 = settings();
    v6.ipv4 = None;
    v6.ipv6 = Some("2001:db8::25".parse().unwrap());
    v6.inet_protocols = InetProtocols::Ipv6;
    w.settings = Some(v6.clone());
    let mut seen = Vec::new();
    for _ in 0..3 {
        w.update(Msg::Planned(Step::InetProtocols, Ok(plan())));
        let effects = key(&mut w, Key::Tab);
        let planned = effects.iter().find_map(|e| match e {
            Effect::Plan(Step::InetProtocols, s) => Some(s.inet_protocols),
            _ => None,
        });
        seen.push(planned.unwrap_or_else(|| panic!("{effects:?}")));
    }
    use InetProtocols::{All, Ipv6};
    assert_eq!(seen, [All, Ipv6, All]);
}

#[test]
fn quitting_half_applied_asks_first() {
    let mut w = at_inet_protocols(false);
    w.update(Msg::Planned(Step::InetProtocols, Ok(plan())));
    key(&mut w, Key::Char('y'));
    w.update(Msg::Applied(Step::InetProtocols, Ok(vec![])));
    assert!(w.half_applied());
    assert!(key(&mut w, Key::Char('q')).is_empty());
    assert!(w.confirm_quit);
    key(&mut w, Key::Char('n'));
    assert!(!w.confirm_quit && !w.done);
    key(&mut w, Key::Char('q'));
    let effects = key(&mut w, Key::Char('y'));
    assert_eq!(effects, [Effect::SaveAnswers(settings()), Effect::Quit]);
    assert!(w.done);
}

#[test]
fn esc_goes_back_and_help_toggles() {
    let mut w = at_inet_protocols(false);
    key(&mut w, Key::Esc);
    assert_eq!(w.step, Step::Identity);
    key(&mut w, Key::Esc);
    assert_eq!(w.step, Step::Scan);
    key(&mut w, Key::Char('?'));
    assert!(w.help);
    key(&mut w, Key::Char('x'));
    assert!(!w.help, "any key closes the help");
}

fn report(failing: bool) -> Report {
    let findings = if failing {
        vec![Finding {
            id: ids::DKIM_KEY_MISMATCH,
            severity: Severity::Error,
            subject: "example.org".into(),
            message: "not the key".into(),
            found: None,
            expected: None,
            fix: None,
        }]
    } else {
        vec![]
    };
    Report {
        findings,
        checked: vec![Checked {
            check: "dkim",
            subject: "example.org".into(),
            status: if failing { Status::Fail } else { Status::Pass },
            group: "example.org".into(),
        }],
    }
}

/// At the Verify step with `report` shown.
fn at_verify(failing: bool) -> Wizard {
    let mut w = at_inet_protocols(false);
    let effects = w.goto(Step::Records);
    assert_eq!(effects, [Effect::Records(settings())]);
    w.update(Msg::Records(Ok(
        "example.org. IN TXT \"v=spf1 -all\"".into()
    )));
    assert_eq!(
        key(&mut w, Key::Char('c')),
        [Effect::Copy("example.org. IN TXT \"v=spf1 -all\"".into())]
    );
    let effects = key(&mut w, Key::Enter);
    assert_eq!(w.step, Step::Verify);
    assert_eq!(effects, [Effect::Check(settings())]);
    w.update(Msg::Checked(report(failing)));
    w
}

#[test]
fn verify_counts_down_and_checks_again_while_something_fails() {
    let mut w = at_verify(true);
    assert_eq!(w.recheck_in, Some(RECHECK_SECONDS));
    for _ in 0..RECHECK_SECONDS - 1 {
        assert!(w.update(Msg::Tick).is_empty());
    }
    assert_eq!(w.update(Msg::Tick), [Effect::Check(settings())]);
    w.update(Msg::Checked(report(false)));
    assert_eq!(w.recheck_in, None);
    assert!(w.update(Msg::Tick).is_empty(), "no more polling once green");
}

#[test]
fn enter_on_a_finding_jumps_to_the_step_that_fixes_it() {
    let mut w = at_verify(true);
    key(&mut w, Key::Down);
    assert_eq!(w.selected, Some(0));
    let effects = key(&mut w, Key::Enter);
    assert_eq!(w.step, Step::Keys);
    assert_eq!(effects, [Effect::Plan(Step::Keys, settings())]);
}

#[test]
fn enter_without_a_selection_goes_to_the_summary_and_enter_there_quits() {
    let mut w = at_verify(false);
    key(&mut w, Key::Enter);
    assert_eq!(w.step, Step::Summary);
    let effects = key(&mut w, Key::Enter);
    assert_eq!(effects, [Effect::SaveAnswers(settings()), Effect::Quit]);
}

#[test]
fn fix_opens_at_the_step_with_the_finding() {
    let finding = report(true).findings.remove(0);
    let (w, effects) = Wizard::new(Options {
        answers: Some(settings()),
        fix: Some((Step::Keys, finding.clone())),
        ..Options::default()
    });
    assert_eq!(w.step, Step::Keys);
    assert_eq!(w.fixing, Some(finding));
    assert_eq!(
        effects,
        [Effect::Scan, Effect::Plan(Step::Keys, settings())]
    );
}

#[test]
fn missing_packages_are_installed_only_on_y_and_never_in_a_dry_run() {
    for dry_run in [false, true] {
        let (mut w, _) = Wizard::new(Options {
            dry_run,
            ..Options::default()
        });
        let mut s = scan();
        s.missing_packages = vec!["opendkim".into(), "opendkim-tools".into()];
        w.update(Msg::Scanned(s));
        let effects = key(&mut w, Key::Char('y'));
        if dry_run {
            assert!(effects.is_empty());
            assert!(
                w.status
                    .as_deref()
                    .unwrap()
                    .contains("would run apt-get install -y opendkim")
            );
        } else {
            assert_eq!(
                effects,
                [Effect::Install(vec![
                    "opendkim".into(),
                    "opendkim-tools".into()
                ])]
            );
        }
    }
}

#[test]
fn ctrl_c_always_quits() {
    let (mut w, _) = Wizard::new(Options::default());
    w.update(Msg::Scanned(scan()));
    key(&mut w, Key::Enter);
    assert_eq!(key(&mut w, Key::CtrlC), [Effect::Quit]);
}

#[test]
fn services_restart_once_at_the_summary_opendkim_first() {
    use crate::plan::{Service, ServiceAction, Verb};
    let mut w = at_inet_protocols(false);
    let with = |service, verb| {
        let mut p = plan();
        p.services = vec![ServiceAction::new(service, verb, "test")];
        p
    };
    let steps = [
        (Step::InetProtocols, with(Service::Postfix, Verb::Restart)),
        (Step::Opendkim, with(Service::Opendkim, Verb::Restart)),
        (Step::Milter, with(Service::Postfix, Verb::Reload)),
    ];
    for (step, p) in steps {
        w.goto(step);
        w.update(Msg::Planned(step, Ok(p.clone())));
        let effects = key(&mut w, Key::Char('y'));
        assert_eq!(effects, [Effect::Apply(step, p)], "written, not restarted");
        w.update(Msg::Applied(step, Ok(vec![])));
    }
    let effects = w.goto(Step::Summary);
    let [Effect::Restart(actions)] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    let order: Vec<(Service, Verb)> = actions.iter().map(|a| (a.service, a.verb)).collect();
    assert_eq!(
        order,
        [
            (Service::Opendkim, Verb::Restart),
            (Service::Postfix, Verb::Restart)
        ],
        "one action per service; a restart outranks a reload"
    );
    let effects = w.update(Msg::Restarted(Ok(vec!["restarted opendkim".into()])));
    assert_eq!(w.restarted, Some(Ok(vec!["restarted opendkim".into()])));
    assert_eq!(effects, [Effect::Selftest(settings())], "then the selftest");
    w.update(Msg::SelfTested(report(false)));
    assert_eq!(w.selftest, Some(report(false)));
    assert!(w.goto(Step::Summary).is_empty(), "nothing restarted twice");
}

#[test]
fn with_an_ipv6_address_the_inet_protocols_step_looks_up_its_readiness_once() {
    let mut s = settings();
    s.ipv6 = Some("2001:db8::25".parse().unwrap());
    let (mut w, _) = Wizard::new(Options {
        answers: Some(s.clone()),
        ..Options::default()
    });
    w.update(Msg::Scanned(scan()));
    let effects = w.goto(Step::InetProtocols);
    assert_eq!(
        effects,
        [
            Effect::Readiness(s.clone()),
            Effect::Plan(Step::InetProtocols, s.clone())
        ]
    );
    w.update(Msg::Readiness(report(false)));
    w.update(Msg::Planned(Step::InetProtocols, Ok(plan())));
    key(&mut w, Key::Char('n'));
    let back = key(&mut w, Key::Esc);
    assert!(back.is_empty(), "decided and looked up already: {back:?}");
}

#[test]
fn tab_on_the_opendkim_step_switches_the_socket_until_it_is_applied() {
    let mut w = at_inet_protocols(false);
    w.update(Msg::Planned(Step::InetProtocols, Ok(plan())));
    key(&mut w, Key::Char('n'));
    assert_eq!(w.step, Step::Opendkim);
    w.update(Msg::Planned(Step::Opendkim, Ok(plan())));
    let effects = key(&mut w, Key::Tab);
    let mut inet = settings();
    inet.socket = MilterSocket::Inet(Port::new(DEFAULT_INET_PORT).unwrap());
    assert_eq!(effects, [Effect::Plan(Step::Opendkim, inet.clone())]);
    assert_eq!(w.settings, Some(inet));
    let back = key(&mut w, Key::Tab);
    assert_eq!(back, [Effect::Plan(Step::Opendkim, settings())]);
    w.update(Msg::Planned(Step::Opendkim, Ok(plan())));
    key(&mut w, Key::Char('y'));
    w.update(Msg::Applied(Step::Opendkim, Ok(vec![])));
    assert!(key(&mut w, Key::Tab).is_empty(), "the applied socket stays");
    assert_eq!(w.settings, Some(settings()));
}

#[test]
fn no_selftest_after_a_failed_restart() {
    let mut w = at_inet_protocols(false);
    let effects = w.update(Msg::Restarted(Err("opendkim did not come up".into())));
    assert!(effects.is_empty());
    assert!(w.busy.is_none());
}

#[test]
fn a_step_an_applied_step_needs_cannot_be_skipped() {
    let mut w = at_inet_protocols(true);
    w.update(Msg::Planned(Step::InetProtocols, Ok(plan())));
    key(&mut w, Key::Char('y'));
    assert_eq!(w.step, Step::Opendkim);
    w.update(Msg::Planned(Step::Opendkim, Ok(plan())));
    key(&mut w, Key::Char('y')); // the OpenDKIM configuration names the tables
    assert_eq!(w.step, Step::Milter);
    w.update(Msg::Planned(Step::Milter, Ok(plan())));
    key(&mut w, Key::Char('n')); // nothing applied needs the milter wiring
    assert_eq!(w.plans[&Step::Milter].outcome, Outcome::Skipped);
    assert_eq!(w.step, Step::Tables);
    w.update(Msg::Planned(Step::Tables, Ok(plan())));
    let effects = key(&mut w, Key::Char('n'));
    assert!(effects.is_empty());
    assert_eq!(w.step, Step::Tables, "not skipped");
    assert_eq!(w.plans[&Step::Tables].outcome, Outcome::Pending);
    let status = w.status.as_deref().unwrap();
    assert!(
        status.starts_with("the OpenDKIM configuration step, applied in this run, needs this one"),
        "{status}"
    );
    key(&mut w, Key::Char('y'));
    assert_eq!(w.plans[&Step::Tables].outcome, Outcome::WouldApply);
}

#[test]
fn a_step_needed_by_one_a_diff_brought_along_cannot_be_skipped_either() {
    let mut w = at_inet_protocols(true);
    w.update(Msg::Planned(Step::InetProtocols, Ok(plan())));
    key(&mut w, Key::Char('y'));
    w.update(Msg::Planned(Step::Opendkim, Ok(plan())));
    key(&mut w, Key::Char('n'));
    // the Milter step's diff brings the skipped OpenDKIM step back (the plan is built so)
    w.update(Msg::Planned(Step::Milter, Ok(plan())));
    assert_eq!(w.brought_along(Step::Milter), [Step::Opendkim]);
    key(&mut w, Key::Char('y'));
    assert_eq!(w.step, Step::Tables);
    w.update(Msg::Planned(Step::Tables, Ok(plan())));
    key(&mut w, Key::Char('n'));
    assert_eq!(
        w.step,
        Step::Tables,
        "the OpenDKIM configuration needs the tables"
    );
    assert!(
        w.status
            .as_deref()
            .unwrap()
            .starts_with("the Milter wiring step, applied in this run, needs this one")
    );
}

#[test]
fn a_step_only_an_already_done_step_needs_may_be_skipped() {
    let mut w = at_inet_protocols(true);
    w.update(Msg::Planned(Step::InetProtocols, Ok(plan())));
    key(&mut w, Key::Char('y'));
    w.update(Msg::Planned(Step::Opendkim, Ok(Plan::default())));
    key(&mut w, Key::Enter); // already done: nothing brought along
    w.update(Msg::Planned(Step::Milter, Ok(plan())));
    assert!(w.brought_along(Step::Milter).is_empty());
    key(&mut w, Key::Char('y'));
    w.update(Msg::Planned(Step::Tables, Ok(plan())));
    key(&mut w, Key::Char('n'));
    assert_eq!(w.plans[&Step::Tables].outcome, Outcome::Skipped);
    assert_eq!(w.step, Step::Keys);
}

fn finding(id: &'static str, severity: Severity) -> Finding {
    Finding {
        id,
        severity,
        subject: "example.org".into(),
        message: id.into(),
        found: None,
        expected: None,
        fix: None,
    }
}

/// A report with these findings (and one failing check).
fn report_of(findings: &[(&'static str, Severity)]) -> Report {
    let mut r = report(true);
    r.findings = findings.iter().map(|(id, s)| finding(id, *s)).collect();
    r
}

const KEY: (&str, Severity) = (ids::DKIM_KEY_MISMATCH, Severity::Error);
const SPF: (&str, Severity) = (ids::SPF_IP_NOT_PERMITTED, Severity::Error);
const NOTE: (&str, Severity) = (ids::DMARC_MONITOR_ONLY, Severity::Info);

/// On Verify with the key, SPF and DMARC findings, the first one selected.
fn at_verify_with_two_failing() -> Wizard {
    let mut w = at_verify(true);
    w.update(Msg::Checked(report_of(&[KEY, SPF, NOTE])));
    key(&mut w, Key::Down);
    assert_eq!(w.selected, Some(0));
    w
}

/// Enter jumps to the finding's step; Esc there goes back to Verify (not the step before),
/// which checks again; the finding is cleared, so the selection moves to the next finding a
/// step repairs, and from there on to none (Enter: the summary).
#[test]
fn esc_from_a_jump_returns_to_verify_and_the_selection_moves_on() {
    let mut w = at_verify_with_two_failing();
    let effects = key(&mut w, Key::Enter);
    assert_eq!(w.step, Step::Keys);
    assert_eq!(effects, [Effect::Plan(Step::Keys, settings())]);
    assert!(w.returns_to_verify());
    let effects = key(&mut w, Key::Esc);
    assert_eq!(w.step, Step::Verify, "not Tables, the step before Keys");
    assert_eq!(effects, [Effect::Check(settings())]);
    assert_eq!(w.selected, None, "nothing selected until the check is back");
    w.update(Msg::Checked(report_of(&[SPF, NOTE])));
    assert_eq!(w.selected, Some(0), "the SPF finding");
    assert_eq!(
        w.status.as_deref(),
        Some("dkim.key-mismatch (example.org) is cleared")
    );
    assert_eq!(w.detour, None);

    key(&mut w, Key::Enter);
    assert_eq!(w.step, Step::Records);
    key(&mut w, Key::Esc);
    assert_eq!(w.step, Step::Verify);
    w.update(Msg::Checked(report_of(&[NOTE])));
    assert_eq!(w.selected, None, "a note is nothing to jump to");
    key(&mut w, Key::Enter);
    assert_eq!(w.step, Step::Summary);
    // and Esc from the summary is the plain step before again
    key(&mut w, Key::Esc);
    assert_eq!(w.step, Step::Verify);
}

/// Finishing the step (`n`, or Enter once applied) returns to Verify too; a finding that
/// still fails is said so, and the selection moves past it.
#[test]
fn finishing_the_jumped_to_step_returns_to_verify() {
    let mut w = at_verify_with_two_failing();
    key(&mut w, Key::Enter);
    w.update(Msg::Planned(Step::Keys, Ok(plan())));
    let effects = key(&mut w, Key::Char('n'));
    assert_eq!(w.step, Step::Verify, "not Records, the step after Keys");
    assert_eq!(effects, [Effect::Check(settings())]);
    w.update(Msg::Checked(report_of(&[KEY, SPF, NOTE])));
    assert_eq!(
        w.selected,
        Some(1),
        "past the key finding, which still fails"
    );
    assert_eq!(
        w.status.as_deref(),
        Some("dkim.key-mismatch (example.org) still fails")
    );

    // applied, then Enter: back to Verify
    key(&mut w, Key::Up);
    assert_eq!(w.selected, Some(0));
    let effects = key(&mut w, Key::Enter);
    assert_eq!(w.step, Step::Keys);
    assert_eq!(
        effects,
        [Effect::Plan(Step::Keys, settings())],
        "skipped before: planned and offered again"
    );
    w.update(Msg::Planned(Step::Keys, Ok(plan())));
    let effects = key(&mut w, Key::Char('y'));
    assert_eq!(effects, [Effect::Apply(Step::Keys, plan())]);
    w.update(Msg::Applied(Step::Keys, Ok(vec![])));
    w.update(Msg::Planned(Step::Keys, Ok(Plan::default())));
    assert_eq!(w.step, Step::Keys, "the result is shown first");
    key(&mut w, Key::Enter);
    assert_eq!(w.step, Step::Verify);
    w.update(Msg::Checked(report(false)));
    assert_eq!(w.selected, None);
    assert_eq!(
        w.status.as_deref(),
        Some("dkim.key-mismatch (example.org) is cleared; every check passes")
    );
}

/// Back from a step, the selection skips the other findings that step leaves failing:
/// Enter would only jump to it again.
#[test]
fn back_on_verify_the_selection_skips_what_the_visited_step_left() {
    let insecure = (ids::OPENDKIM_KEY_INSECURE, Severity::Error);
    let mut w = at_verify(true);
    w.update(Msg::Checked(report_of(&[KEY, insecure, NOTE, SPF])));
    key(&mut w, Key::Down);
    key(&mut w, Key::Enter);
    assert_eq!(w.step, Step::Keys);
    key(&mut w, Key::Esc);
    w.update(Msg::Checked(report_of(&[insecure, NOTE, SPF])));
    assert_eq!(
        w.selected,
        Some(2),
        "the SPF finding, not the other Keys one"
    );
}

/// A report that arrives while away (a re-check started before the jump) changes nothing
/// of the way back; re-checks on Verify keep the same finding selected when it moves.
#[test]
fn the_selection_follows_its_finding_and_a_late_report_keeps_the_way_back() {
    let mut w = at_verify_with_two_failing();
    key(&mut w, Key::Down);
    assert_eq!(w.selected, Some(1));
    w.update(Msg::Checked(report_of(&[SPF, NOTE])));
    assert_eq!(w.selected, Some(0), "still the SPF finding");
    w.update(Msg::Checked(report_of(&[NOTE])));
    assert_eq!(w.selected, None, "cleared: nothing selected");

    let mut w = at_verify_with_two_failing();
    key(&mut w, Key::Enter);
    w.update(Msg::Checked(report_of(&[KEY, SPF, NOTE])));
    assert!(w.returns_to_verify());
    assert_eq!(w.step, Step::Keys);
    key(&mut w, Key::Esc);
    assert_eq!(w.step, Step::Verify);
}

/// In a dry run, `y` records what would change and returns to Verify as well.
#[test]
fn a_dry_run_y_on_the_jumped_to_step_returns_to_verify() {
    let mut w = at_inet_protocols(true);
    w.goto(Step::Verify);
    w.update(Msg::Checked(report_of(&[KEY])));
    key(&mut w, Key::Down);
    key(&mut w, Key::Enter);
    w.update(Msg::Planned(Step::Keys, Ok(plan())));
    let effects = key(&mut w, Key::Char('y'));
    assert_eq!(w.plans[&Step::Keys].outcome, Outcome::WouldApply);
    assert_eq!(w.step, Step::Verify);
    assert_eq!(effects, [Effect::Check(settings())]);
}

/// The commands the wizard prints carry the run's options: the undo after a step, and on the
/// summary the check with the answers given (or those it saves; a dry run saves none).
#[test]
fn printed_commands_carry_the_runs_options() {
    let invocation = crate::invocation::Invocation {
        root: Some("/srv/lab tree".into()),
        answers: None,
        nameserver: Some("127.0.0.1:5353".into()),
        authoritative_port: None,
    };
    let (mut w, _) = Wizard::new(Options {
        answers: Some(settings()),
        invocation: invocation.clone(),
        ..Options::default()
    });
    w.goto(Step::Keys);
    w.update(Msg::Planned(Step::Keys, Ok(plan())));
    key(&mut w, Key::Char('y'));
    w.update(Msg::Applied(Step::Keys, Ok(vec![])));
    let Outcome::Applied { lines, .. } = &w.plans[&Step::Keys].outcome else {
        panic!("not applied");
    };
    assert_eq!(
        lines,
        &["undo every step of this run: mailsetup --root '/srv/lab tree' rollback"]
    );
    assert_eq!(
        w.check_command("/etc/mailsetup/answers.toml"),
        "mailsetup --root '/srv/lab tree' --answers '/srv/lab tree/etc/mailsetup/answers.toml' \
         --nameserver 127.0.0.1:5353 check"
    );
    w.invocation.answers = Some("/root/a.toml".into());
    assert!(
        w.check_command("/etc/mailsetup/answers.toml")
            .contains(" --answers /root/a.toml "),
        "the answers given"
    );
    w.invocation.answers = None;
    w.dry_run = true;
    assert_eq!(
        w.check_command("/etc/mailsetup/answers.toml"),
        "mailsetup --root '/srv/lab tree' --nameserver 127.0.0.1:5353 check",
        "a dry run saves no answers"
    );
}

#[test]
fn p_publishes_the_records_in_the_demo_only() {
    for demo in [None, Some("a demo sandbox".to_string())] {
        let (mut w, _) = Wizard::new(Options {
            answers: Some(settings()),
            demo: demo.clone(),
            ..Options::default()
        });
        w.update(Msg::Scanned(scan()));
        let effects = w.goto(Step::Records);
        assert_eq!(effects, [Effect::Records(settings())]);
        w.update(Msg::Records(Ok("$ORIGIN example.org.\n".into())));
        let effects = key(&mut w, Key::Char('p'));
        if demo.is_none() {
            assert!(effects.is_empty(), "a server has no DNS to publish into");
            continue;
        }
        assert_eq!(effects, [Effect::Publish(settings())]);
        assert_eq!(w.busy.as_deref(), Some("publishing the records"));
        w.update(Msg::Published(Ok("published (serial 2)".into())));
        assert_eq!(w.busy, None);
        assert_eq!(w.status.as_deref(), Some("published (serial 2)"));
        w.update(Msg::Published(Err("no zone".into())));
        assert_eq!(w.status.as_deref(), Some("not published: no zone"));
    }
}

#[test]
fn beneath_a_root_the_selftest_after_the_restart_is_only_said() {
    let mut w = at_inet_protocols(false);
    w.invocation.root = Some("/tmp/tree".into());
    let effects = w.update(Msg::Restarted(Ok(vec!["would restart opendkim".into()])));
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(w.busy, None, "no selftest is waited for");
    assert!(
        w.status
            .as_deref()
            .is_some_and(|s| s.starts_with("selftest: would hand a test message")),
        "{:?}",
        w.status
    );
}

/// The provider guessed from the PTR name at the scan pre-fills the form; the answers'
/// provider wins over it.
#[test]
fn the_scan_s_provider_guess_pre_fills_the_form() {
    let (mut w, _) = Wizard::new(Options::default());
    w.update(Msg::Scanned(Scan {
        provider_guess: Some(crate::provider::Provider::Contabo),
        ..scan()
    }));
    let provider = |w: &Wizard| {
        w.form
            .fields
            .iter()
            .find(|f| f.key == "provider")
            .map(|f| f.value.clone())
    };
    assert_eq!(provider(&w).as_deref(), Some("contabo"));
    let mut answers = settings();
    answers.provider = Some(crate::provider::Provider::Vultr);
    let (mut w, _) = Wizard::new(Options {
        answers: Some(answers),
        ..Options::default()
    });
    w.update(Msg::Scanned(Scan {
        provider_guess: Some(crate::provider::Provider::Contabo),
        ..scan()
    }));
    assert_eq!(provider(&w).as_deref(), Some("vultr"));
}

/// A wizard on the Keys step with its plan in (`done`: already done, else pending).
fn at_keys(dry_run: bool, done: bool) -> Wizard {
    let mut w = at_inet_protocols(dry_run);
    w.goto(Step::Keys);
    let p = if done { Plan::default() } else { plan() };
    w.update(Msg::Planned(Step::Keys, Ok(p)));
    w
}

fn rotated(preview: bool, result: Result<u8, String>, selector: Option<&str>) -> Msg {
    Msg::Rotated(Rotated {
        preview,
        text: "selector mail -> s202612".into(),
        result,
        selector: selector.map(|s| crate::values::Selector::parse(s).unwrap()),
    })
}

/// `r` on the Keys step: nothing before the keys exist; then a preview, and only the `r`
/// after a successful preview does it; a failed preview or a real run previews again.
#[test]
fn r_on_the_keys_step_previews_before_each_rotation() {
    let mut w = at_keys(false, false);
    assert!(key(&mut w, Key::Char('r')).is_empty(), "no keys yet");
    assert!(
        w.status
            .as_deref()
            .unwrap()
            .contains("apply this step first")
    );

    let mut w = at_keys(false, true);
    let preview = |e: &[Effect]| match e {
        [Effect::Rotate(r)] => r.preview,
        other => panic!("{other:?}"),
    };
    assert!(preview(&key(&mut w, Key::Char('r'))));
    assert!(
        key(&mut w, Key::Char('r')).is_empty(),
        "busy: one run at a time"
    );
    w.update(rotated(true, Err("no answers".into()), None));
    assert!(
        preview(&key(&mut w, Key::Char('r'))),
        "a failed preview is shown again"
    );
    w.update(rotated(true, Ok(1), None));
    assert!(
        !preview(&key(&mut w, Key::Char('r'))),
        "after a preview: do it"
    );
    w.update(rotated(false, Ok(1), None));
    assert_eq!(w.settings.as_ref().unwrap().selector.as_str(), "mail");
    assert!(
        preview(&key(&mut w, Key::Char('r'))),
        "waiting: the next change is shown first"
    );
    w.update(rotated(true, Ok(1), None));
    assert!(!preview(&key(&mut w, Key::Char('r'))));
    w.update(rotated(false, Ok(0), Some("s202612")));
    assert_eq!(
        w.settings.as_ref().unwrap().selector.as_str(),
        "s202612",
        "the answers saved at the end name the selector that signs"
    );
}

/// In a dry run every `r` only previews.
#[test]
fn r_in_a_dry_run_only_previews() {
    let mut w = at_keys(true, true);
    for _ in 0..2 {
        match &key(&mut w, Key::Char('r'))[..] {
            [Effect::Rotate(r)] => assert!(r.preview),
            other => panic!("{other:?}"),
        }
        w.update(rotated(true, Ok(1), None));
    }
}
