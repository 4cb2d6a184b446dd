//! The wizard's screen: [`render`] draws a [`Wizard`] into a ratatui frame. Pure: it reads the
//! state and writes cells, nothing else.
//!
//! Layout, top to bottom: the title line (`mailsetup — step N/M: <title>`, `(dry run)`, a
//! spinner and what is running), the step's purpose, the `mailsetup fix` box when the wizard
//! was opened for a finding, the step's body, the status line, and the key hints (always
//! visible). The help and the quit confirmation are boxes drawn over it. Made for 80x24 over
//! SSH without colour: meaning is carried by text (`>`, `+`/`-`, `✓ ✗ ! ?`), styles only
//! repeat it. Every row is cut to the width with `…`; any size down to 1x1 renders.

mod body;
mod diff;
mod overlay;
mod text;
mod verify;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph};

use self::text::{Rows, fit, spans_line, wrap};
use super::theme::Theme;
use crate::wizard::{Outcome, Step, Wizard};

/// Spinner frames, one per tick (ASCII: every SSH terminal has them).
const SPINNER: [&str; 4] = ["|", "/", "-", "\\"];

/// Draw the wizard's current screen over the whole frame.
pub fn render(w: &Wizard, theme: &Theme, frame: &mut Frame) {
    let area = frame.area();
    if area.width == 0 || area.height == 0 {
        return;
    }
    let width = usize::from(area.width);
    let row = |y: u16| Rect::new(area.x, y, area.width, 1);
    let mut top = area.y;
    let mut bottom = area.y + area.height;

    frame.render_widget(
        Paragraph::new(title(w, theme, width)).style(theme.bar),
        row(top),
    );
    top += 1;
    if bottom > top {
        bottom -= 1;
        frame.render_widget(Paragraph::new(hints(w, theme, width)), row(bottom));
    }
    if bottom > top + 1 {
        bottom -= 1;
        if let Some(status) = &w.status {
            let line = spans_line(&[(&text::clean(status), theme.heading)], width);
            frame.render_widget(Paragraph::new(line), row(bottom));
        }
    }
    top += purpose(
        w,
        theme,
        frame,
        Rect::new(area.x, top, area.width, bottom - top),
    );
    if let Some(f) = &w.fixing {
        top += overlay::fixing_box(
            f,
            theme,
            frame,
            Rect::new(area.x, top, area.width, bottom - top),
        );
    }
    let body = Rect::new(area.x, top, area.width, bottom - top);
    step_body(w, theme, width).show(frame, body, w.scroll, theme);

    // Boxes go over the body only: the title and the hints stay visible.
    let over = Rect::new(
        area.x,
        area.y + 1,
        area.width,
        area.height.saturating_sub(2),
    );
    if w.help && over.height > 2 {
        frame.render_widget(Clear, over);
        overlay::help(theme, frame, over);
    }
    if w.confirm_quit && over.height > 2 {
        overlay::confirm_quit(&w.command("rollback"), theme, frame, over);
    }
}

/// The step's purpose at the top of `area`: up to two rows (the second ends in `…` when
/// cut), none on a screen under 4 rows of room, and a blank row after it when there are 16.
/// Returns the rows it took.
fn purpose(w: &Wizard, theme: &Theme, frame: &mut Frame, area: Rect) -> u16 {
    let width = usize::from(area.width);
    let room = area.height;
    let purpose = wrap(w.step.purpose(), width);
    let shown = purpose.len().min(2).min(usize::from(room / 4));
    let mut rows = Rows::new(width);
    for (i, line) in purpose.iter().take(shown).enumerate() {
        let cut = i + 1 == shown && purpose.len() > shown;
        let line = if cut {
            format!("{line}…")
        } else {
            line.clone()
        };
        rows.row(&line, theme.dim);
    }
    let shown = shown as u16;
    if shown == 0 {
        return 0;
    }
    frame.render_widget(
        Paragraph::new(rows.lines),
        Rect::new(area.x, area.y, area.width, shown),
    );
    if room >= 16 { shown + 1 } else { shown }
}

/// The body of the step shown, `width` columns wide.
fn step_body(w: &Wizard, theme: &Theme, width: usize) -> Body {
    match w.step {
        Step::Scan => body::scan(w, theme, width),
        Step::Identity => body::identity(w, theme, width),
        Step::Records => body::records(w, theme, width),
        Step::Verify => verify::verify(w, theme, width),
        Step::Summary => body::summary(w, theme, width),
        step => diff::part(w, step, theme, width),
    }
}

/// A step's body: rows that stay put, then rows that scroll (by `Wizard::scroll`, or to keep
/// the `focus` rows in view).
pub(super) struct Body {
    pub fixed: Rows,
    pub scrolled: Rows,
    /// Rows of `scrolled` that must be visible (the focused field, the selected finding);
    /// when set, `Wizard::scroll` is not used.
    pub focus: Option<(usize, usize)>,
}

impl Body {
    pub fn new(width: usize) -> Body {
        Body {
            fixed: Rows::new(width),
            scrolled: Rows::new(width),
            focus: None,
        }
    }

    fn show(mut self, frame: &mut Frame, area: Rect, scroll: u16, theme: &Theme) {
        if area.height == 0 {
            return;
        }
        // On a small screen the fixed rows would crowd out the rest: they scroll too.
        if self.fixed.len() > usize::from(area.height / 2) {
            let n = self.fixed.len();
            self.fixed.lines.append(&mut self.scrolled.lines);
            self.scrolled.lines = std::mem::take(&mut self.fixed.lines);
            self.focus = self.focus.map(|(from, to)| (from + n, to + n));
        }
        let fixed = (self.fixed.len() as u16).min(area.height);
        frame.render_widget(
            Paragraph::new(self.fixed.lines),
            Rect::new(area.x, area.y, area.width, fixed),
        );
        let room = usize::from(area.height - fixed);
        let total = self.scrolled.len();
        if room == 0 || total == 0 {
            return;
        }
        let (visible, start) = if total <= room {
            (total, 0)
        } else {
            let visible = room.saturating_sub(1).max(1);
            let last = total - visible;
            let start = match self.focus {
                // the least scrolling that shows the focus (its top when it is too tall)
                Some((from, to)) if to.saturating_sub(from) >= visible => from,
                Some((_, to)) => to.saturating_sub(visible),
                None => usize::from(scroll),
            };
            (visible, start.min(last))
        };
        let mut lines: Vec<Line<'static>> = self
            .scrolled
            .lines
            .into_iter()
            .skip(start)
            .take(visible)
            .collect();
        if visible < total && room > 1 {
            let more = format!("── lines {}–{} of {total} ──", start + 1, start + visible);
            lines.push(spans_line(&[(&more, theme.dim)], usize::from(area.width)));
        }
        frame.render_widget(
            Paragraph::new(lines),
            Rect::new(area.x, area.y + fixed, area.width, room as u16),
        );
    }
}

/// `mailsetup — step 3/10: Milter wiring (dry run)` and, right-aligned, `| planning: …`;
/// on a narrow screen `step 3/10: …` without the program name.
fn title(w: &Wizard, theme: &Theme, width: usize) -> Line<'static> {
    let dry = match (w.dry_run, w.demo.is_some()) {
        (true, _) => " (dry run)",
        (false, true) => " (demo)",
        (false, false) => "",
    };
    let short = format!("step {}: {}{dry}", w.numbered(w.step), w.step.title());
    let full = format!("mailsetup — {short}");
    let right = match &w.busy {
        Some(busy) => {
            let spin = SPINNER[(w.ticks % SPINNER.len() as u64) as usize];
            format!("{spin} {busy}…")
        }
        None => String::new(),
    };
    let rw = text::width(&right);
    let fits = |left: &str| text::width(left) + 1 + rw <= width;
    let (left, right) = if fits(&full) {
        (full, right)
    } else if fits(&short) {
        (short, right)
    } else {
        // both cut: the title keeps at least half the row
        let keep = (width / 2).max(width.saturating_sub(rw + 1));
        let left = fit(&short, keep);
        let room = width.saturating_sub(text::width(&left) + 1);
        (left, fit(&right, room))
    };
    let gap = width.saturating_sub(text::width(&left) + text::width(&right));
    spans_line(
        &[
            (&left, theme.bar),
            (&" ".repeat(gap), theme.bar),
            (&right, theme.bar),
        ],
        width,
    )
}

/// The keys of the current screen, e.g. `Enter next · Esc back · y apply · …`. When they do
/// not fit, the scroll hint goes first, then the others from the end, keeping the first
/// (the step's own key) and the last (quit).
fn hints(w: &Wizard, theme: &Theme, width: usize) -> Line<'static> {
    let mut keys: Vec<(&str, &str)> = if w.confirm_quit {
        vec![("y", "quit"), ("any other key", "stay")]
    } else if w.help {
        vec![("any key", "close the help")]
    } else {
        step_hints(w)
    };
    let len = |keys: &[(&str, &str)]| -> usize {
        keys.iter()
            .map(|(k, what)| text::width(k) + 1 + text::width(what))
            .sum::<usize>()
            + 3 * keys.len().saturating_sub(1)
    };
    while len(&keys) > width && keys.len() > 2 {
        let drop = keys
            .iter()
            .position(|(_, what)| *what == "scroll")
            .unwrap_or(keys.len() - 2);
        keys.remove(drop);
    }
    let mut parts: Vec<(&str, Style)> = Vec::new();
    for (i, (key, what)) in keys.iter().enumerate() {
        if i > 0 {
            parts.push((" · ", theme.dim));
        }
        parts.push((key, theme.key));
        parts.push((" ", Style::new()));
        parts.push((what, Style::new()));
    }
    spans_line(&parts, width)
}

fn step_hints(w: &Wizard) -> Vec<(&'static str, &'static str)> {
    const SCROLL: (&str, &str) = ("↑↓ PgUp/PgDn", "scroll");
    const BACK: (&str, &str) = ("Esc", "back");
    const HELP: (&str, &str) = ("?", "help");
    const QUIT: (&str, &str) = ("q", "quit");
    // on a step Enter on a Verify finding jumped to, Esc and finishing it go back there
    let detour = w.returns_to_verify();
    let back = if detour {
        ("Esc", "back to Verify")
    } else {
        BACK
    };
    match w.step {
        Step::Scan => {
            let missing = w
                .scan
                .as_ref()
                .is_some_and(|s| !s.missing_packages.is_empty());
            let mut keys = vec![("Enter", "next")];
            if missing {
                keys.push(("y", "install"));
            }
            if w.undo_offered().is_some() {
                keys.push(("u", "undo earlier steps"));
            }
            keys.extend([SCROLL, HELP, QUIT]);
            keys
        }
        Step::Identity => {
            let mut keys = vec![("Tab/Shift-Tab", "field")];
            let focused = w.form.fields.get(w.form.focus);
            if focused.is_some_and(|f| !f.choices.is_empty()) {
                keys.push(("←→", "choose"));
            }
            keys.extend([("Enter", "check"), BACK, ("Ctrl-C", "quit")]);
            keys
        }
        Step::Records => {
            let mut keys = vec![("Enter", "next")];
            if w.demo.is_some() {
                keys.push(("p", "publish"));
            }
            keys.extend([("c", "copy"), ("s", "save"), back, SCROLL, HELP, QUIT]);
            keys
        }
        Step::Verify => vec![
            ("↑↓", "select"),
            ("Enter", "go / next"),
            ("r", "re-check"),
            BACK,
            HELP,
            QUIT,
        ],
        Step::Summary => vec![("Enter", "finish"), BACK, SCROLL, HELP, QUIT],
        step => {
            let outcome = w.plans.get(&step).map(|p| &p.outcome);
            let mut keys = match outcome {
                Some(Outcome::Pending | Outcome::Failed(_)) => {
                    vec![("y", "apply"), ("n", "skip"), back]
                }
                Some(Outcome::Applying) | None => vec![back],
                Some(_) if detour => vec![("Enter/Esc", "back to Verify")],
                Some(_) => vec![("Enter", "next"), BACK],
            };
            if step == Step::InetProtocols || step == Step::Opendkim {
                keys.push(("Tab", "change"));
            }
            if step == Step::Keys && w.rotation_offered() {
                keys.push(("r", "rotate"));
            }
            keys.extend([SCROLL, HELP, QUIT]);
            keys
        }
    }
}
