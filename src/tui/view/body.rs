//! The bodies of the steps without a diff: Scan, Identity, Records and Summary.

use ratatui::style::Style;

use super::Body;
use super::text::{Rows, clean, fit, fit_tail, width};
use crate::check::report::deliverability;
use crate::check::{Report, Severity};
use crate::flows::SAVED_ANSWERS;
use crate::tui::theme::Theme;
use crate::values::DmarcPolicy;
use crate::wizard::{Interrupted, Outcome, Scan, Step, Wizard};

/// What is installed, what is configured, which keys exist (after the interrupted run
/// undone before the wizard opened, if any).
pub fn scan(w: &Wizard, theme: &Theme, cols: usize) -> Body {
    let mut b = Body::new(cols);
    let Some(scan) = &w.scan else {
        b.fixed.row("reading the system…", theme.dim);
        return b;
    };
    let r = &mut b.scrolled;
    if let Some(notice) = &w.demo {
        r.lead(&[("Demo: ", theme.heading)], &clean(notice), Style::new());
        r.lead(
            &[("  ", Style::new())],
            "packages, services and the selftest are only said, never done; on the DNS \
             records step, p publishes the records into the sandbox's DNS",
            theme.dim,
        );
        r.blank();
    }
    if let Some(i) = &w.interrupted {
        interrupted(r, i, theme);
    }
    r.lead(
        &[("System:   ", theme.heading)],
        &clean(&scan.distribution),
        Style::new(),
    );
    if scan.is_root {
        r.spans(&[("✓ ", theme.ok), ("running as root", Style::new())]);
    } else {
        r.lead(
            &[("! ", theme.warn), ("not root: ", theme.warn)],
            "applying needs root; run mailsetup with sudo",
            Style::new(),
        );
    }
    r.blank();
    packages(r, scan, w.dry_run, theme);
    r.blank();
    found(r, scan, theme);
    b
}

/// The interrupted run's notice, and the undo offered for the earlier steps of its wizard
/// run; a blank row after.
fn interrupted(r: &mut Rows, i: &Interrupted, theme: &Theme) {
    for (n, line) in i.notice.lines().enumerate() {
        let mark = if n == 0 { "! " } else { "  " };
        r.lead(&[(mark, theme.warn)], &clean(line.trim()), Style::new());
    }
    if i.earlier > 0 {
        r.lead(
            &[("  ", Style::new())],
            &format!(
                "{} earlier step(s) of that wizard run stay applied: Enter goes on with \
                 them, u undoes them too (as mailsetup rollback would)",
                i.earlier
            ),
            Style::new(),
        );
    }
    r.blank();
}

/// Every package needed is installed, or which are missing, the command that installs
/// them and `y` to run it (only shown in a dry run).
fn packages(r: &mut Rows, scan: &Scan, dry_run: bool, theme: &Theme) {
    if scan.missing_packages.is_empty() {
        r.spans(&[
            ("✓ ", theme.ok),
            ("every package needed is installed", Style::new()),
        ]);
        return;
    }
    let names = scan
        .missing_packages
        .iter()
        .map(|p| clean(p))
        .collect::<Vec<_>>()
        .join(" ");
    r.lead(
        &[("✗ ", theme.bad), ("missing packages: ", theme.heading)],
        &names,
        Style::new(),
    );
    r.indented(
        "    ",
        &format!("apt-get install -y {names}"),
        theme.heading,
    );
    if dry_run {
        r.row("  dry run: only shown, not run", theme.warn);
    } else {
        r.spans(&[
            ("  press ", Style::new()),
            ("y", theme.key),
            (" to run it", Style::new()),
        ]);
    }
}

/// The settings found (names aligned, up to 28 columns) and the existing keys.
fn found(r: &mut Rows, scan: &Scan, theme: &Theme) {
    r.row("Found:", theme.heading);
    if scan.found.is_empty() {
        r.row("  nothing configured yet", theme.dim);
    }
    let key_w = scan
        .found
        .iter()
        .map(|(k, _)| width(&clean(k)))
        .max()
        .unwrap_or(0)
        .min(28);
    for (key, value) in &scan.found {
        let key = format!("  {:<key_w$}  ", fit(&clean(key), key_w));
        r.lead(&[(&key, theme.dim)], &clean(value), Style::new());
    }
    r.blank();
    r.row("Keys:", theme.heading);
    if scan.keys.is_empty() {
        r.row("  none yet (the Keys step creates them)", theme.dim);
    }
    for key in &scan.keys {
        r.indented("  ", &clean(key), Style::new());
    }
}

/// The form: one row per field (`>` and `_` on the focused one), its error under it, and
/// under the focused one what it takes (its choices, for ← →). Long forms scroll to the
/// focus.
pub fn identity(w: &Wizard, theme: &Theme, cols: usize) -> Body {
    let mut b = Body::new(cols);
    let label_w = w
        .form
        .fields
        .iter()
        .map(|f| width(f.label))
        .max()
        .unwrap_or(0)
        + 2;
    let value_w = cols.saturating_sub(2 + label_w);
    let r = &mut b.scrolled;
    for (i, f) in w.form.fields.iter().enumerate() {
        let start = r.len();
        let focused = i == w.form.focus;
        let value = clean(&f.value);
        let (marker, label_style, value) = if focused {
            ("> ", theme.heading, fit_tail(&format!("{value}_"), value_w))
        } else {
            ("  ", Style::new(), fit(&value, value_w))
        };
        let label = format!("{:<label_w$}", f.label);
        let value_style = if focused {
            theme.selected
        } else {
            Style::new()
        };
        r.spans(&[
            (marker, theme.heading),
            (&label, label_style),
            (&value, value_style),
        ]);
        if let Some(e) = &f.error {
            r.lead(&[("    ✗ ", theme.bad)], &clean(e), theme.bad);
        }
        if focused && !f.hint.is_empty() {
            r.lead(&[("    ", Style::new())], f.hint, theme.dim);
        }
        if focused {
            b.focus = Some((start, r.len()));
        }
    }
    r.blank();
    r.para(
        "Domains: one or more, separated by commas or spaces. IPv6: leave empty if the \
         server has none.",
        theme.dim,
    );
    b
}

/// The records to publish, scrolled.
pub fn records(w: &Wizard, theme: &Theme, cols: usize) -> Body {
    let mut b = Body::new(cols);
    let save = if w.dry_run {
        " save (not in a dry run)"
    } else {
        " save to a file"
    };
    let mut keys = Vec::new();
    if w.demo.is_some() {
        keys.extend([
            ("p", theme.key),
            (" publish into the demo's DNS · ", Style::new()),
        ]);
    }
    keys.extend([
        ("c", theme.key),
        (" copy (OSC 52) · ", Style::new()),
        ("s", theme.key),
        (save, Style::new()),
    ]);
    b.fixed.spans(&keys);
    match &w.records {
        None => b.fixed.row("composing…", theme.dim),
        Some(text) => {
            for line in text.lines() {
                let line = clean(line);
                let style = if line.starts_with(';') {
                    theme.dim
                } else {
                    Style::new()
                };
                b.scrolled.para(&line, style);
            }
        }
    }
    b
}

/// Each planned step's outcome, the restart and the selftest, the backups and how to undo,
/// what to do next.
pub fn summary(w: &Wizard, theme: &Theme, cols: usize) -> Body {
    let mut b = Body::new(cols);
    let r = &mut b.scrolled;
    if w.dry_run {
        r.para(
            "Dry run: everything listed as \"would apply\" would change; nothing was written.",
            theme.warn,
        );
    } else {
        r.row("What was done:", theme.heading);
    }
    let applied = outcomes(r, w, theme);
    restart(r, w, theme);
    if let Some(report) = &w.selftest {
        selftest(r, report, theme);
    }
    r.blank();
    undo(r, w, applied, theme);
    r.blank();
    next(r, w, theme);
    b
}

/// One row per planned step (but one the answers turn off): a mark, `N/M` ([`Step::numbered`]), its title and
/// what became of it. Returns whether any step was applied.
fn outcomes(r: &mut Rows, w: &Wizard, theme: &Theme) -> bool {
    if w.plans.is_empty() {
        r.row("  no step was planned", theme.dim);
    }
    // a step the answers turn off (Inbound SPF with inbound_spf = false, Inbound DMARC with
    // inbound_dmarc = false) did nothing to tell
    let off = |step: &Step| {
        let s = w.settings.as_ref();
        (*step == Step::InboundSpf && !s.is_some_and(|s| s.inbound_spf))
            || (*step == Step::InboundDmarc && !s.is_some_and(|s| s.inbound_dmarc))
    };
    let shown: Vec<(&Step, &crate::wizard::StepPlan)> =
        w.plans.iter().filter(|(s, _)| !off(s)).collect();
    let title_w = shown
        .iter()
        .map(|(s, _)| width(s.title()))
        .max()
        .unwrap_or(0);
    let mut applied = false;
    for (step, p) in shown {
        let (mark, style, what) = match &p.outcome {
            Outcome::Pending => ("?", theme.warn, "not applied (left pending)".to_string()),
            Outcome::AlreadyDone => ("✓", theme.ok, "already done".into()),
            Outcome::Applying => ("…", theme.dim, "applying".into()),
            Outcome::Applied { verified, .. } => {
                applied = true;
                match verified {
                    Some(false) => ("!", theme.warn, "applied, but changes remain".into()),
                    _ => ("✓", theme.ok, "applied".into()),
                }
            }
            Outcome::WouldApply => ("~", theme.warn, "would apply (dry run)".into()),
            Outcome::Skipped => ("-", theme.dim, "skipped".into()),
            Outcome::Failed(e) => ("✗", theme.bad, format!("failed: {}", clean(e))),
        };
        let label = format!(" {mark} {} {:<title_w$}  ", w.numbered(*step), step.title());
        r.lead(&[(&label, style)], &what, Style::new());
    }
    applied
}

/// What the restart of the services did, or that it is running.
fn restart(r: &mut Rows, w: &Wizard, theme: &Theme) {
    match &w.restarted {
        Some(Ok(lines)) => {
            for line in lines {
                r.lead(&[(" ✓ ", theme.ok)], line, Style::new());
            }
        }
        Some(Err(e)) => r.lead(
            &[(" ✗ ", theme.bad)],
            &format!("restarting the services failed: {}", clean(e)),
            Style::new(),
        ),
        None if !w.pending_services.is_empty() => r.lead(
            &[(" … ", theme.dim)],
            "restarting the services",
            Style::new(),
        ),
        None => {}
    }
}

/// One row per selftest finding: ✓ for information, ✗ otherwise.
fn selftest(r: &mut Rows, report: &Report, theme: &Theme) {
    for f in &report.findings {
        let mark = if f.severity == Severity::Info {
            (" ✓ ", theme.ok)
        } else {
            (" ✗ ", theme.bad)
        };
        r.lead(
            &[mark],
            &format!("selftest {}: {}", f.subject, clean(&f.message)),
            Style::new(),
        );
    }
}

/// Where the backups are and how to undo (the command with this run's options), or why
/// there is nothing to undo.
fn undo(r: &mut Rows, w: &Wizard, applied: bool, theme: &Theme) {
    if w.dry_run {
        r.para(
            "Nothing was written, so there is nothing to undo. Run without --dry-run to apply.",
            Style::new(),
        );
    } else if applied {
        r.lead(
            &[("Backups: ", theme.heading)],
            "each changed file is kept beside it as /etc/…/<file>.mailsetup-<stamp>",
            Style::new(),
        );
        r.lead(
            &[("Undo:    ", theme.heading)],
            &format!(
                "{} (undoes every step this run applied, as one)",
                w.command("rollback")
            ),
            Style::new(),
        );
    } else {
        r.para(
            "Nothing was applied, so there is nothing to undo.",
            Style::new(),
        );
    }
}

/// Publish the records; raise DMARC while it is p=none.
fn next(r: &mut Rows, w: &Wizard, theme: &Theme) {
    r.row("Next:", theme.heading);
    r.indented(
        "  1. ",
        &format!(
            "Publish the records of step {} at your DNS provider; `{}` verifies them.",
            w.numbered(Step::Records),
            w.check_command(SAVED_ANSWERS)
        ),
        Style::new(),
    );
    let none = w
        .settings
        .as_ref()
        .is_none_or(|s| s.dmarc_policy == DmarcPolicy::None);
    if none {
        r.indented(
            "  2. ",
            "Raise DMARC from p=none to p=quarantine, then p=reject, once the reports look clean.",
            Style::new(),
        );
    }
    // once Verify passes: the receivers' own verdict
    let verified = w
        .report
        .as_ref()
        .is_some_and(|r| r.verdict() == crate::check::Verdict::Pass);
    if verified {
        let text = deliverability(&w.saved_invocation(SAVED_ANSWERS));
        let mut lines = text.lines();
        let first = lines.next().unwrap_or_default();
        let number = if none { "  3. " } else { "  2. " };
        r.indented(number, first, Style::new());
        for line in lines {
            r.indented("     ", line, Style::new());
        }
    }
}
