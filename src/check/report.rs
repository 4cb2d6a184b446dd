//! Rendering a [`Report`]: human text ([`to_human`]) and JSON ([`to_json`]).
//!
//! Human form: one group per heading (this server, then each mail domain), each with one
//! line per check and then the group's findings; groups separated by a blank line:
//! ```text
//! example.org
//!   ✓ dkim  example.org
//!   ✗ spf   example.org
//!   error spf.ip-not-permitted: SPF of example.org gives fail for …
//!     found:    v=spf1 ip4:192.0.2.99 -all
//!     expected: v=spf1 ip4:192.0.2.25 ~all
//!     fix:      example.org. IN TXT "v=spf1 ip4:192.0.2.25 ~all"
//! ```
//! Marks: `✓` pass, `✗` fail, `!` warn, `?` unknown (a lookup failed). With colour, marks
//! and severities are coloured (ANSI SGR); without, the text is identical minus the escapes.
//! Every field is sanitized again here, so no DNS-supplied escape sequence reaches the
//! terminal.

use std::fmt::Write as _;

use super::{Finding, Report, Severity, Status};
use crate::dns::sanitize;

/// The report as compact JSON:
/// `{"findings":[{"id","severity","subject","message","found","expected","fix"}],
///   "checked":[{"check","subject","status"}],"verdict":"pass|fail|unverifiable"}`.
pub fn to_json(report: &Report) -> String {
    json(report, None)
}

/// [`to_json`] with one more field after `verdict`: `requirements`, the sender-requirements
/// verdict ([`super::requirements::Verdict`], an array of rule sets). `check --json`.
pub fn to_json_with(report: &Report, requirements: &super::requirements::Verdict) -> String {
    json(report, Some(requirements))
}

fn json(report: &Report, requirements: Option<&super::requirements::Verdict>) -> String {
    // Serializing strings and unit enums cannot fail; keep the output JSON if it ever does.
    #[derive(serde::Serialize)]
    struct Json<'a> {
        findings: &'a [super::Finding],
        checked: &'a [super::Checked],
        verdict: super::Verdict,
        #[serde(skip_serializing_if = "Option::is_none")]
        requirements: Option<&'a super::requirements::Verdict>,
    }
    let json = Json {
        findings: &report.findings,
        checked: &report.checked,
        verdict: report.verdict(),
        requirements,
    };
    serde_json::to_string(&json).unwrap_or_else(|e| {
        serde_json::json!({ "error": format!("cannot serialize report: {e}") }).to_string()
    })
}

/// The report as text for a terminal, ending with a summary line and a newline; `color`
/// adds ANSI colours (use it only on a terminal and when `NO_COLOR` is unset).
pub fn to_human(report: &Report, color: bool) -> String {
    to_human_with(report, color, &|_| None)
}

/// [`to_human`], with `repair(id)` giving a command that repairs a finding locally (e.g.
/// `mailsetup fix ipv6.no-ptr`), printed as one more `fix:` line under the finding.
pub fn to_human_with(
    report: &Report,
    color: bool,
    repair: &dyn Fn(&str) -> Option<String>,
) -> String {
    let paint = |code: &str, text: &str| {
        if color {
            format!("\u{1b}[{code}m{text}\u{1b}[0m")
        } else {
            text.to_string()
        }
    };
    let mut out = String::new();
    let mut groups: Vec<&str> = Vec::new();
    for c in &report.checked {
        if !groups.contains(&c.group.as_str()) {
            groups.push(&c.group);
        }
    }
    let group_of = |subject: &str| {
        report
            .checked
            .iter()
            .find(|c| c.subject == subject)
            .map(|c| c.group.as_str())
    };
    let orphans: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| group_of(&f.subject).is_none())
        .collect();
    let width = report
        .checked
        .iter()
        .map(|c| c.check.len())
        .max()
        .unwrap_or(0);
    for (i, group) in groups.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "{}", paint("1", &sanitize(group)));
        for c in report.checked.iter().filter(|c| c.group == *group) {
            let (code, mark) = mark(c.status);
            let _ = writeln!(
                out,
                "  {} {:<width$} {}",
                paint(code, mark),
                c.check,
                sanitize(&c.subject)
            );
        }
        for f in report
            .findings
            .iter()
            .filter(|f| group_of(&f.subject) == Some(group))
        {
            finding(&mut out, f, &paint, repair);
        }
    }
    if !orphans.is_empty() {
        out.push('\n');
        for f in orphans {
            finding(&mut out, f, &paint, repair);
        }
    }
    if !report.checked.is_empty() {
        out.push('\n');
    }
    out.push_str(&summary(report));
    out.push('\n');
    out
}

/// One finding as the human report shows it (severity, id, message, found, expected, fix),
/// without colour: for `mailsetup fix <id>` without the screen.
pub fn finding_text(f: &Finding) -> String {
    let mut out = String::new();
    finding(&mut out, f, &|_, text| text.to_string(), &|_| None);
    out
}

/// The SGR colour code and mark of a status.
fn mark(status: Status) -> (&'static str, &'static str) {
    match status {
        Status::Pass => ("32", "✓"),
        Status::Fail => ("31", "✗"),
        Status::Warn => ("33", "!"),
        Status::Unknown => ("90", "?"),
    }
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

fn finding(
    out: &mut String,
    f: &Finding,
    paint: &dyn Fn(&str, &str) -> String,
    repair: &dyn Fn(&str) -> Option<String>,
) {
    let code = match f.severity {
        Severity::Error => "31",
        Severity::Warning => "33",
        Severity::Info => "36",
    };
    let _ = writeln!(
        out,
        "  {} {}: {}",
        paint(code, severity(f.severity)),
        f.id,
        sanitize(&f.message)
    );
    for (label, value) in [
        ("found:", &f.found),
        ("expected:", &f.expected),
        ("fix:", &f.fix),
    ] {
        if let Some(value) = value {
            for (i, line) in value.split('\n').enumerate() {
                let label = if i == 0 { label } else { "" };
                let _ = writeln!(out, "    {label:<9} {}", sanitize(line));
            }
        }
    }
    if let Some(command) = repair(f.id) {
        let _ = writeln!(out, "    {:<9} {command}", "fix:");
    }
}

/// `13 checks passed, no problems.`, `12 of 13 checks passed, 1 could not be verified;
/// no problems (2 notes).` or `6 of 8 checks passed; 1 error, 1 warning.`
pub fn summary(report: &Report) -> String {
    let count = |s| report.findings.iter().filter(|f| f.severity == s).count();
    let (errors, warnings, notes) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
    );
    let status = |s| report.checked.iter().filter(|c| c.status == s).count();
    let (all, passed, unknown) = (
        report.checked.len(),
        status(Status::Pass),
        status(Status::Unknown),
    );
    let mut out = if passed == all {
        format!("{} passed", plural(all, "check"))
    } else {
        format!("{passed} of {} passed", plural(all, "check"))
    };
    if unknown > 0 {
        out.push_str(&format!(", {unknown} could not be verified"));
    }
    let sep = if passed == all && unknown == 0 {
        ", "
    } else {
        "; "
    };
    if errors == 0 && warnings == 0 {
        out.push_str(&format!("{sep}no problems"));
    } else {
        out.push_str(&format!(
            "{sep}{}, {}",
            plural(errors, "error"),
            plural(warnings, "warning")
        ));
    }
    if notes > 0 {
        out.push_str(&format!(" ({})", plural(notes, "note")));
    }
    out.push('.');
    out
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// What to do once everything passes: send a message through Postfix to independent
/// testers and read their verdict (`check` prints it after a pass, the wizard's Summary
/// once Verify passes). `invocation`: the options the printed command repeats (`--root`,
/// `--answers`, DNS).
pub fn deliverability(invocation: &crate::invocation::Invocation) -> String {
    let send = invocation.command("selftest --via-postfix --to ADDRESS");
    format!(
        "Test deliverability: send a message through Postfix to an independent receiver:\n  \
         {send}\nwith ADDRESS one of:\n  \
         - mail-tester.com: the one-time address its page shows; the page then scores the \
         message\n  \
         - checktls.com: the address of its test that receives a message (see its site); it \
         reports what it received\n  \
         - Gmail: an address of yours there; open the message, then ⋮ → \"Show \
         original\"\n\
         In the headers it received (Authentication-Results, or the summary at the top of \
         Gmail's \"Show original\") look for spf=pass, dkim=pass and dmarc=pass.\n"
    )
}

#[cfg(test)]
mod tests {
    use super::super::{Checked, ids};
    use super::*;

    fn report() -> Report {
        Report {
            findings: vec![Finding {
                id: ids::SPF_IP_NOT_PERMITTED,
                severity: Severity::Error,
                subject: "example.org".into(),
                message: "SPF of example.org gives fail for 192.0.2.25".into(),
                found: Some("v=spf1 \u{1b}[31mip4:192.0.2.99 -all\nv=spf1 -all".into()),
                expected: Some("v=spf1 ip4:192.0.2.25 ~all".into()),
                fix: None,
            }],
            checked: vec![
                Checked {
                    check: "a",
                    subject: "mail.example.org".into(),
                    status: Status::Pass,
                    group: "mail.example.org".into(),
                },
                Checked {
                    check: "dkim",
                    subject: "example.org".into(),
                    status: Status::Pass,
                    group: "example.org".into(),
                },
                Checked {
                    check: "spf",
                    subject: "example.org".into(),
                    status: Status::Fail,
                    group: "example.org".into(),
                },
                Checked {
                    check: "mx",
                    subject: "example.org".into(),
                    status: Status::Warn,
                    group: "example.org".into(),
                },
                Checked {
                    check: "ptr",
                    subject: "192.0.2.25".into(),
                    status: Status::Unknown,
                    group: "mail.example.org".into(),
                },
            ],
        }
    }

    #[test]
    fn human_groups_by_heading_with_marks_and_sanitized_values() {
        let want = "\
mail.example.org
  ✓ a    mail.example.org
  ? ptr  192.0.2.25

example.org
  ✓ dkim example.org
  ✗ spf  example.org
  ! mx   example.org
  error spf.ip-not-permitted: SPF of example.org gives fail for 192.0.2.25
    found:    v=spf1 ip4:192.0.2.99 -all
              v=spf1 -all
    expected: v=spf1 ip4:192.0.2.25 ~all

2 of 5 checks passed, 1 could not be verified; 1 error, 0 warnings.
";
        assert_eq!(to_human(&report(), false), want);
    }

    #[test]
    fn colour_only_adds_escapes() {
        let plain = to_human(&report(), false);
        let colored = to_human(&report(), true);
        assert!(colored.contains("\u{1b}[32m✓\u{1b}[0m"), "{colored}");
        assert!(colored.contains("\u{1b}[31merror\u{1b}[0m"), "{colored}");
        assert_eq!(
            crate::dns::sanitize(&colored).replace(' ', ""),
            crate::dns::sanitize(&plain).replace(' ', "")
        );
        assert!(!plain.contains('\u{1b}'));
    }

    #[test]
    fn summary_counts_unknown_checks_and_notes() {
        let mut r = report();
        r.findings = vec![Finding::new(
            ids::DMARC_MONITOR_ONLY,
            Severity::Info,
            "example.org",
            "p=none".into(),
        )];
        for c in &mut r.checked {
            if c.status != Status::Unknown {
                c.status = Status::Pass;
            }
        }
        assert_eq!(
            summary(&r),
            "4 of 5 checks passed, 1 could not be verified; no problems (1 note)."
        );
        r.checked.retain(|c| c.status == Status::Pass);
        assert_eq!(summary(&r), "4 checks passed, no problems (1 note).");
    }

    #[test]
    fn human_summary_when_clean() {
        let r = Report {
            findings: vec![],
            checked: vec![Checked {
                check: "a",
                subject: "h".into(),
                status: Status::Pass,
                group: "h".into(),
            }],
        };
        assert_eq!(
            to_human(&r, false),
            "h\n  ✓ a h\n\n1 check passed, no problems.\n"
        );
    }

    #[test]
    fn json_shape_is_the_contract() {
        let v: serde_json::Value = serde_json::from_str(&to_json(&report())).unwrap();
        let keys = |o: &serde_json::Value| -> Vec<String> {
            o.as_object().unwrap().keys().cloned().collect()
        };
        assert_eq!(keys(&v), ["checked", "findings", "verdict"]); // serde_json sorts; order checked below
        assert_eq!(v["verdict"], "fail");
        let f = &v["findings"][0];
        let mut fk = keys(f);
        fk.sort();
        assert_eq!(
            fk,
            [
                "expected", "fix", "found", "id", "message", "severity", "subject"
            ]
        );
        assert_eq!(f["id"], "spf.ip-not-permitted");
        assert_eq!(f["severity"], "error");
        assert_eq!(f["fix"], serde_json::Value::Null);
        assert_eq!(v["checked"][2]["status"], "fail");
        assert_eq!(v["checked"][3]["status"], "warn");
        assert_eq!(v["checked"][4]["status"], "unknown");
        assert_eq!(v["checked"][0]["check"], "a");
        let text = to_json(&report());
        assert!(text.starts_with("{\"findings\":[{\"id\":\"spf.ip-not-permitted\",\"severity\""));
        assert!(text.contains("\"fix\":null}],\"checked\":[{\"check\":\"a\",\"subject\""));
        assert!(!text.contains('\u{1b}'), "raw ESC in JSON");
    }
}
