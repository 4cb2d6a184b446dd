//! Rendering a [`Report`]: human text ([`to_human`]) and JSON ([`to_json`]).
//!
//! Human form, one group per subject in check order, groups separated by a blank line:
//! ```text
//! ✓ dkim  example.org
//! ✗ spf   example.org
//!   error spf.ip-not-permitted: SPF of example.org gives fail for …
//!     found:    v=spf1 ip4:192.0.2.99 -all
//!     expected: v=spf1 ip4:192.0.2.25 ~all
//!     fix:      example.org. IN TXT "v=spf1 ip4:192.0.2.25 ~all"
//! ```
//! Marks: `✓` pass, `✗` fail, `!` warn, `?` unknown (a lookup failed). Every field is
//! sanitized again here, so no DNS-supplied escape sequence reaches the terminal.

use std::fmt::Write as _;

use super::{Finding, Report, Severity, Status};
use crate::dns::sanitize;

/// The report as compact JSON:
/// `{"findings":[{"id","severity","subject","message","found","expected","fix"}],
///   "checked":[{"check","subject","status"}]}`.
pub fn to_json(report: &Report) -> String {
    // Serializing strings and unit enums cannot fail; keep the output JSON if it ever does.
    serde_json::to_string(report).unwrap_or_else(|e| {
        serde_json::json!({ "error": format!("cannot serialize report: {e}") }).to_string()
    })
}

/// The report as text for a terminal, ending with a summary line and a newline.
pub fn to_human(report: &Report) -> String {
    let mut out = String::new();
    let mut subjects: Vec<&str> = Vec::new();
    for c in &report.checked {
        if !subjects.contains(&c.subject.as_str()) {
            subjects.push(&c.subject);
        }
    }
    for f in &report.findings {
        if !subjects.contains(&f.subject.as_str()) {
            subjects.push(&f.subject);
        }
    }
    let width = report
        .checked
        .iter()
        .map(|c| c.check.len())
        .max()
        .unwrap_or(0);
    for (i, subject) in subjects.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        for c in report.checked.iter().filter(|c| c.subject == *subject) {
            let _ = writeln!(
                out,
                "{} {:<width$} {}",
                mark(c.status),
                c.check,
                sanitize(&c.subject)
            );
        }
        for f in report.findings.iter().filter(|f| f.subject == *subject) {
            finding(&mut out, f);
        }
    }
    if !subjects.is_empty() {
        out.push('\n');
    }
    out.push_str(&summary(report));
    out.push('\n');
    out
}

fn mark(status: Status) -> char {
    match status {
        Status::Pass => '✓',
        Status::Fail => '✗',
        Status::Warn => '!',
        Status::Unknown => '?',
    }
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

fn finding(out: &mut String, f: &Finding) {
    let _ = writeln!(
        out,
        "  {} {}: {}",
        severity(f.severity),
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
}

/// `9 checks passed, no problems.` or `2 errors, 1 warning (9 checks).`
fn summary(report: &Report) -> String {
    let count = |s| report.findings.iter().filter(|f| f.severity == s).count();
    let (errors, warnings) = (count(Severity::Error), count(Severity::Warning));
    let checks = plural(report.checked.len(), "check");
    if errors == 0 && warnings == 0 {
        return format!("{checks} passed, no problems.");
    }
    format!(
        "{}, {} ({checks}).",
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
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
                },
                Checked {
                    check: "dkim",
                    subject: "example.org".into(),
                    status: Status::Pass,
                },
                Checked {
                    check: "spf",
                    subject: "example.org".into(),
                    status: Status::Fail,
                },
                Checked {
                    check: "mx",
                    subject: "example.org".into(),
                    status: Status::Warn,
                },
                Checked {
                    check: "ptr",
                    subject: "192.0.2.25".into(),
                    status: Status::Unknown,
                },
            ],
        }
    }

    #[test]
    fn human_groups_by_subject_with_marks_and_sanitized_values() {
        let want = "\
✓ a    mail.example.org

✓ dkim example.org
✗ spf  example.org
! mx   example.org
  error spf.ip-not-permitted: SPF of example.org gives fail for 192.0.2.25
    found:    v=spf1 ip4:192.0.2.99 -all
              v=spf1 -all
    expected: v=spf1 ip4:192.0.2.25 ~all

? ptr  192.0.2.25

1 error, 0 warnings (5 checks).
";
        assert_eq!(to_human(&report()), want);
    }

    #[test]
    fn human_summary_when_clean() {
        let r = Report {
            findings: vec![],
            checked: vec![Checked {
                check: "a",
                subject: "h".into(),
                status: Status::Pass,
            }],
        };
        assert_eq!(to_human(&r), "✓ a h\n\n1 check passed, no problems.\n");
    }

    #[test]
    fn json_shape_is_the_contract() {
        let v: serde_json::Value = serde_json::from_str(&to_json(&report())).unwrap();
        let keys = |o: &serde_json::Value| -> Vec<String> {
            o.as_object().unwrap().keys().cloned().collect()
        };
        assert_eq!(keys(&v), ["checked", "findings"]); // serde_json sorts; order checked below
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
