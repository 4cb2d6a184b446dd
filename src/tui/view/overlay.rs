//! Boxes: the finding `mailsetup fix` opened the wizard for, the help, and the quit
//! confirmation.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::widgets::{Block, Clear, Padding, Paragraph};

use super::text::{self, Rows};
use crate::check::Finding;
use crate::tui::theme::Theme;

/// The finding `mailsetup fix <id>` opened the wizard for, boxed; returns the rows used.
pub fn fixing_box(f: &Finding, theme: &Theme, frame: &mut Frame, area: Rect) -> u16 {
    if area.height < 5 || area.width < 8 {
        return 0;
    }
    let inner = usize::from(area.width - 4);
    let mut rows = Rows::new(inner);
    rows.lead(
        &[
            ("✗ ", theme.bad),
            (f.id, theme.heading),
            (" ", Style::new()),
        ],
        &format!("{}: {}", text::clean(&f.subject), text::clean(&f.message)),
        Style::new(),
    );
    if let Some(fix) = &f.fix {
        let first = fix.lines().next().unwrap_or_default();
        rows.spans(&[
            ("fix: ", theme.heading),
            (&text::clean(first), Style::new()),
        ]);
    }
    let max = (area.height / 3).max(1);
    let height = (rows.len() as u16).min(max) + 2;
    let block = Block::bordered()
        .title(" fixing (mailsetup fix) ")
        .padding(Padding::horizontal(1));
    frame.render_widget(
        Paragraph::new(rows.lines).block(block),
        Rect::new(area.x, area.y, area.width, height),
    );
    height
}

/// Every key of the wizard (the contract in `crate::wizard`'s doc comment).
const HELP: &[(&str, &str)] = &[
    ("Enter", "accept, go to the next step"),
    ("Esc", "back one step · to Verify after a jump"),
    ("Tab", "next field · change inet_protocols"),
    ("Shift-Tab", "previous field"),
    ("← →", "change a choice (key size, SPF, DMARC)"),
    ("↑ ↓", "scroll · select a finding (Verify)"),
    ("PgUp PgDn", "scroll ten lines"),
    ("y", "apply the change shown · install packages"),
    ("n", "skip the change shown"),
    ("c", "copy the records (OSC 52, works over SSH)"),
    ("s", "save the records to a file"),
    ("p", "publish the records (mailsetup demo)"),
    ("r", "re-check (Verify) · rotate the key (Keys)"),
    ("?", "this help"),
    ("q", "quit (asks first if half applied)"),
    ("Ctrl-C", "quit at once"),
];

pub fn help(theme: &Theme, frame: &mut Frame, area: Rect) {
    let width = area.width.min(60);
    let inner = usize::from(width.saturating_sub(4));
    let mut rows = Rows::new(inner);
    for (key, what) in HELP {
        rows.lead(&[(&format!("{key:<10} "), theme.key)], what, Style::new());
    }
    rows.blank();
    rows.row("Any key closes this help.", theme.dim);
    boxed(" keys ", rows, frame, area, width);
}

/// Quit with some steps applied and others not? `rollback` is the undo command to show.
pub fn confirm_quit(rollback: &str, theme: &Theme, frame: &mut Frame, area: Rect) {
    let width = area.width.min(52);
    let mut rows = Rows::new(usize::from(width.saturating_sub(4)));
    rows.para(
        "Some steps are applied, others not, and the services are restarted only at the \
         summary.",
        Style::new(),
    );
    rows.spans(&[
        ("Quit anyway? ", theme.heading),
        ("y", theme.key),
        ("/", Style::new()),
        ("n", theme.key),
    ]);
    rows.para(&format!("Undo what was applied: {rollback}"), theme.dim);
    boxed(" quit? ", rows, frame, area, width);
}

/// `rows` in a bordered box of `width`, centred in `area` (cut to fit).
fn boxed(title: &str, rows: Rows, frame: &mut Frame, area: Rect, width: u16) {
    let height = (rows.len() as u16 + 2).min(area.height);
    let x = area.x + (area.width - width) / 2;
    let y = area.y + (area.height - height) / 2;
    let rect = Rect::new(x, y, width, height);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(rows.lines).block(
            Block::bordered()
                .title(title.to_string())
                .padding(Padding::horizontal(1)),
        ),
        rect,
    );
}
