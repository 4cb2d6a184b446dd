//! Text that fits the screen: display widths, cutting with `…`, wrapping, cleaning text read
//! from files and DNS, and [`Rows`], screen rows that each fit the width.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::dns::sanitize;

/// Columns `s` takes on a terminal (East Asian wide characters count 2).
pub fn width(s: &str) -> usize {
    Span::raw(s).width()
}

fn char_width(c: char) -> usize {
    let mut buf = [0u8; 4];
    width(c.encode_utf8(&mut buf))
}

/// `s` cut to at most `max` columns, ending in `…` when something was cut.
pub fn fit(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    if max == 0 {
        return out;
    }
    let mut used = 0;
    for c in s.chars() {
        let w = char_width(c);
        if used + w > max - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// The end of `s` in at most `max` columns, starting with `…` when something was cut (a text
/// field being typed in: the cursor end stays visible).
pub fn fit_tail(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut kept: Vec<char> = Vec::new();
    let mut used = 0;
    for c in s.chars().rev() {
        let w = char_width(c);
        if used + w > max - 1 {
            break;
        }
        kept.push(c);
        used += w;
    }
    std::iter::once('…').chain(kept.into_iter().rev()).collect()
}

/// One line of text read from a file or from DNS, safe and one row high: tabs expanded to
/// 8-column stops, then escape sequences and other controls removed ([`sanitize`]).
pub fn clean(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut col = 0;
    for c in line.chars() {
        if c == '\t' {
            let n = 8 - col % 8;
            out.extend(std::iter::repeat_n(' ', n));
            col += n;
        } else {
            out.push(c);
            col += char_width(c);
        }
    }
    sanitize(&out)
}

/// `s` in rows of at most `max` columns, broken at spaces (runs of spaces inside a row are
/// kept); a word longer than a row is cut by character. At least one row.
pub fn wrap(s: &str, max: usize) -> Vec<String> {
    wrap_after(s, max, max)
}

/// [`wrap`] with a first row of `first` columns and the others of `rest`.
pub fn wrap_after(s: &str, first: usize, rest: usize) -> Vec<String> {
    if rest == 0 {
        return vec![String::new()];
    }
    let mut rows: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut used = 0;
    let mut max = first;
    if first == 0 {
        rows.push(String::new());
        max = rest;
    }
    for token in tokens(s) {
        let w = width(token);
        if used + w <= max {
            cur.push_str(token);
            used += w;
        } else if token.starts_with(' ') {
            rows.push(cur.trim_end().to_string());
            cur.clear();
            (used, max) = (0, rest);
        } else if used > 0 && w <= rest {
            rows.push(cur.trim_end().to_string());
            cur = token.to_string();
            (used, max) = (w, rest);
        } else {
            for c in token.chars() {
                let cw = char_width(c);
                if used + cw > max && used > 0 {
                    rows.push(std::mem::take(&mut cur));
                    (used, max) = (0, rest);
                }
                cur.push(c);
                used += cw;
            }
        }
    }
    if !cur.is_empty() || rows.is_empty() {
        rows.push(cur);
    }
    rows
}

/// Runs of spaces and runs of other characters, in order.
fn tokens(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev_space = None;
    for (i, c) in s.char_indices() {
        let space = c == ' ';
        if prev_space.is_some_and(|p| p != space) {
            out.push(&s[start..i]);
            start = i;
        }
        prev_space = Some(space);
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// Screen rows, each already fitting `width` columns.
#[derive(Debug, Default)]
pub struct Rows {
    pub width: usize,
    pub lines: Vec<Line<'static>>,
}

impl Rows {
    pub fn new(width: usize) -> Rows {
        Rows {
            width,
            lines: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn blank(&mut self) {
        self.lines.push(Line::default());
    }

    /// One row, cut with `…` if too long.
    pub fn row(&mut self, text: &str, style: Style) {
        self.lines
            .push(Line::from(Span::styled(fit(text, self.width), style)));
    }

    /// One row of styled pieces; the piece that does not fit is cut with `…`, the rest dropped.
    pub fn spans(&mut self, parts: &[(&str, Style)]) {
        self.lines.push(spans_line(parts, self.width));
    }

    /// `text` wrapped at spaces to the width.
    pub fn para(&mut self, text: &str, style: Style) {
        self.indented("", text, style);
    }

    /// `prefix` then `text`, wrapped; following rows are indented by the prefix's width.
    pub fn indented(&mut self, prefix: &str, text: &str, style: Style) {
        self.lead(&[(prefix, style)], text, style);
    }

    /// Styled lead pieces then `text` wrapped after them; following rows are indented by
    /// the lead's width while that leaves at least half the row (and 12 columns), else
    /// they start at the left edge.
    pub fn lead(&mut self, lead: &[(&str, Style)], text: &str, style: Style) {
        let lead_w: usize = lead.iter().map(|(s, _)| width(s)).sum();
        let room = self.width.saturating_sub(lead_w);
        let indent = if room >= 12 && room * 2 >= self.width {
            lead_w
        } else {
            0
        };
        let pad = " ".repeat(indent);
        let rows = wrap_after(text, room, self.width - indent);
        for (i, row) in rows.into_iter().enumerate() {
            if i == 0 {
                let mut parts: Vec<(&str, Style)> = lead.to_vec();
                parts.push((&row, style));
                self.spans(&parts);
            } else {
                self.spans(&[(&pad, Style::new()), (&row, style)]);
            }
        }
    }
}

/// Styled pieces as one line of at most `max` columns.
pub fn spans_line(parts: &[(&str, Style)], max: usize) -> Line<'static> {
    let mut spans = Vec::new();
    let mut left = max;
    for (text, style) in parts {
        let w = width(text);
        if w <= left {
            spans.push(Span::styled(text.to_string(), *style));
            left -= w;
        } else {
            spans.push(Span::styled(fit(text, left), *style));
            break;
        }
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_cuts_with_an_ellipsis_only_when_needed() {
        assert_eq!(fit("abcdef", 6), "abcdef");
        assert_eq!(fit("abcdef", 5), "abcd…");
        assert_eq!(fit("abcdef", 1), "…");
        assert_eq!(fit("abcdef", 0), "");
        assert_eq!(fit("✓ ok", 3), "✓ …");
        assert_eq!(fit_tail("abcdef_", 4), "…ef_");
    }

    #[test]
    fn wrap_breaks_at_spaces_and_cuts_long_words() {
        assert_eq!(wrap("one two three", 7), ["one two", "three"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("a  b", 10), ["a  b"], "inner spaces kept");
        assert_eq!(wrap("", 10), [""]);
        assert_eq!(wrap_after("aa bb cc", 2, 5), ["aa", "bb cc"]);
        assert_eq!(wrap_after("aa bb", 0, 5), ["", "aa bb"]);
        for row in wrap("x = 'aaaaaaaaaaaaaaaaaaa bbb' cc d", 6) {
            assert!(width(&row) <= 6, "{row}");
        }
    }

    #[test]
    fn clean_expands_tabs_and_drops_escapes() {
        assert_eq!(clean("@\tIN\tTXT"), "@       IN      TXT");
        assert_eq!(clean("a\u{1b}[31mred\u{1b}[0m"), "ared");
    }

    #[test]
    fn lead_indents_the_following_rows() {
        let mut r = Rows::new(20);
        r.indented("  x: ", "one two three four five", Style::new());
        let text: Vec<String> = r.lines.iter().map(|l| l.to_string()).collect();
        assert_eq!(text, ["  x: one two three", "     four five"]);
        let mut r = Rows::new(20);
        r.indented("a long lead: ", "one two three", Style::new());
        let text: Vec<String> = r.lines.iter().map(|l| l.to_string()).collect();
        assert_eq!(
            text,
            ["a long lead: one two", "three"],
            "too little room to indent"
        );
    }
}
