//! The wizard's styles, with colour or without. Colour only ever repeats what the text already
//! says (`+`/`-` diff lines, `✓ ✗ ! ?` marks, `>` selection): the monochrome theme keeps the
//! modifiers (bold, reverse video) and drops every colour, as <https://no-color.org> asks.

use std::ffi::OsStr;

use ratatui::style::{Color, Modifier, Style};

/// The styles the view paints with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// The top line (step and title).
    pub bar: Style,
    /// Headings and labels.
    pub heading: Style,
    /// Secondary text: context lines, explanations, the scroll position.
    pub dim: Style,
    /// `+` lines of a diff.
    pub added: Style,
    /// `-` lines of a diff.
    pub removed: Style,
    /// `@@` hunk lines and `---`/`+++` file lines of a diff.
    pub hunk: Style,
    /// `✓` and what passed.
    pub ok: Style,
    /// `✗`, errors, failures.
    pub bad: Style,
    /// `!`, warnings, dry-run notices.
    pub warn: Style,
    /// The focused field or selected finding (reverse video).
    pub selected: Style,
    /// Key names in hints.
    pub key: Style,
}

impl Theme {
    /// Colours plus modifiers.
    pub fn color() -> Theme {
        let bold = Style::new().add_modifier(Modifier::BOLD);
        Theme {
            bar: Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
            heading: bold,
            dim: Style::new().fg(Color::DarkGray),
            added: Style::new().fg(Color::Green),
            removed: Style::new().fg(Color::Red),
            hunk: Style::new().fg(Color::Cyan),
            ok: bold.fg(Color::Green),
            bad: bold.fg(Color::Red),
            warn: bold.fg(Color::Yellow),
            selected: Style::new().add_modifier(Modifier::REVERSED),
            key: bold.fg(Color::Cyan),
        }
    }

    /// No colour at all: bold, dim and reverse video only.
    pub fn mono() -> Theme {
        let bold = Style::new().add_modifier(Modifier::BOLD);
        Theme {
            bar: Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
            heading: bold,
            dim: Style::new(),
            added: bold,
            removed: Style::new().add_modifier(Modifier::DIM),
            hunk: Style::new().add_modifier(Modifier::DIM),
            ok: bold,
            bad: bold,
            warn: bold,
            selected: Style::new().add_modifier(Modifier::REVERSED),
            key: bold,
        }
    }

    /// [`Theme::mono`] when the `NO_COLOR` environment variable is set and not empty
    /// (<https://no-color.org>), else [`Theme::color`].
    pub fn from_env() -> Theme {
        Theme::for_no_color(std::env::var_os("NO_COLOR").as_deref())
    }

    /// The theme for this value of `NO_COLOR` (`None`: unset).
    pub fn for_no_color(value: Option<&OsStr>) -> Theme {
        match value {
            Some(v) if !v.is_empty() => Theme::mono(),
            _ => Theme::color(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_set_and_not_empty_means_mono() {
        assert_eq!(Theme::for_no_color(None), Theme::color());
        assert_eq!(Theme::for_no_color(Some(OsStr::new(""))), Theme::color());
        assert_eq!(Theme::for_no_color(Some(OsStr::new("1"))), Theme::mono());
    }

    #[test]
    fn mono_has_no_colour() {
        let t = Theme::mono();
        for s in [
            t.bar, t.heading, t.dim, t.added, t.removed, t.hunk, t.ok, t.bad, t.warn, t.selected,
            t.key,
        ] {
            assert_eq!((s.fg, s.bg), (None, None), "{s:?}");
        }
        assert_ne!(t.added, t.removed, "+ and - lines still differ");
    }
}
