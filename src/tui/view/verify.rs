//! The Verify body: `check`'s report made compact — the checks as a grid of `✓ dkim
//! example.org`, a count, then the findings with the selected one marked `>`.

use ratatui::style::Style;

use super::Body;
use super::text::{Rows, clean, width};
use crate::check::{Finding, Report, Severity, Status};
use crate::tui::theme::Theme;
use crate::wizard::{Step, Wizard};

/// Value lines shown per `found` / `expected` / `fix`.
const VALUE_LINES: usize = 2;

pub fn verify(w: &Wizard, theme: &Theme, cols: usize) -> Body {
    let mut b = Body::new(cols);
    let Some(report) = &w.report else {
        b.fixed.row("checking…", theme.dim);
        return b;
    };
    checks(report, theme, &mut b.fixed);
    let f = &mut b.fixed;
    let mut count = count(report);
    match (w.recheck_in, &w.busy) {
        (_, Some(_)) => count.push_str(" · checking again…"),
        (Some(n), None) => count.push_str(&format!(" · re-checking in {n}s")),
        (None, None) => {}
    }
    f.row(&count, theme.heading);
    if report.findings.is_empty() {
        f.spans(&[
            ("✓ ", theme.ok),
            ("every check passes · ", Style::new()),
            ("Enter", theme.key),
            (": summary", Style::new()),
        ]);
        return b;
    }
    let target = w
        .selected
        .and_then(|i| report.findings.get(i))
        .and_then(|f| Step::for_finding(f.id));
    let go = match target {
        Some(step) => format!(
            ": go to step {}/{} {}, which fixes it",
            step.index(),
            crate::wizard::Step::LAST,
            step.title()
        ),
        None => " on a finding: go to the step that fixes it".into(),
    };
    f.spans(&[
        ("↑↓", theme.key),
        (" select · ", Style::new()),
        ("Enter", theme.key),
        (&go, Style::new()),
    ]);
    f.blank();
    for (i, finding) in report.findings.iter().enumerate() {
        let start = b.scrolled.len();
        let selected = w.selected == Some(i);
        one(finding, selected, theme, &mut b.scrolled);
        if selected {
            b.focus = Some((start, b.scrolled.len()));
        }
    }
    b
}

/// The checks in as many columns as fit.
fn checks(report: &Report, theme: &Theme, r: &mut Rows) {
    let items: Vec<(&str, Style, String)> = report
        .checked
        .iter()
        .map(|c| {
            let (mark, style) = match c.status {
                Status::Pass => ("✓", theme.ok),
                Status::Fail => ("✗", theme.bad),
                Status::Warn => ("!", theme.warn),
                Status::Unknown => ("?", theme.dim),
            };
            (mark, style, format!(" {} {}", c.check, clean(&c.subject)))
        })
        .collect();
    let item_w = items
        .iter()
        .map(|(_, _, t)| 1 + width(t))
        .max()
        .unwrap_or(0)
        + 3;
    let per_row = (r.width / item_w.max(1)).max(1);
    for chunk in items.chunks(per_row) {
        let mut parts: Vec<(&str, Style)> = Vec::new();
        let pads: Vec<String> = chunk
            .iter()
            .map(|(_, _, t)| " ".repeat(item_w.saturating_sub(1 + width(t))))
            .collect();
        for (j, (mark, style, text)) in chunk.iter().enumerate() {
            parts.push((mark, *style));
            parts.push((text, Style::new()));
            if j + 1 < chunk.len() {
                parts.push((&pads[j], Style::new()));
            }
        }
        r.spans(&parts);
    }
}

/// `6 of 8 checks passed; 1 error, 1 warning`.
fn count(report: &Report) -> String {
    let all = report.checked.len();
    let passed = report
        .checked
        .iter()
        .filter(|c| c.status == Status::Pass)
        .count();
    let sev = |s| report.findings.iter().filter(|f| f.severity == s).count();
    let (errors, warnings) = (sev(Severity::Error), sev(Severity::Warning));
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("1 {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    format!(
        "{passed} of {} passed; {}, {}",
        plural(all, "check"),
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}

/// One finding: `> ✗ error dkim.key-mismatch example.org`, its message, then found /
/// expected / fix cut to the width.
fn one(f: &Finding, selected: bool, theme: &Theme, r: &mut Rows) {
    let (mark, word, style) = match f.severity {
        Severity::Error => ("✗", "error", theme.bad),
        Severity::Warning => ("!", "warning", theme.warn),
        Severity::Info => ("i", "note", theme.dim),
    };
    let head = if selected {
        theme.selected
    } else {
        Style::new()
    };
    let subject = format!(" {}", clean(&f.subject));
    r.spans(&[
        (if selected { "> " } else { "  " }, theme.heading),
        (mark, style.patch(head)),
        (" ", head),
        (word, style.patch(head)),
        (" ", head),
        (f.id, theme.heading.patch(head)),
        (&subject, head),
    ]);
    r.indented("    ", &clean(&f.message), Style::new());
    for (label, value) in [
        ("found:    ", &f.found),
        ("expected: ", &f.expected),
        ("fix:      ", &f.fix),
    ] {
        let Some(value) = value else { continue };
        let lines: Vec<&str> = value.lines().collect();
        for (k, line) in lines.iter().take(VALUE_LINES).enumerate() {
            let label = if k == 0 { label } else { "          " };
            let mut line = clean(line);
            if k + 1 == VALUE_LINES && lines.len() > VALUE_LINES {
                line.push_str(&format!(" (+{} lines)", lines.len() - VALUE_LINES));
            }
            r.spans(&[
                ("    ", Style::new()),
                (label, theme.dim),
                (&line, Style::new()),
            ]);
        }
    }
}
