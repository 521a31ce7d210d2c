//! Rendering helpers shared by the commands: colour decisions, diagnostics on stderr, and plain
//! text tables on stdout.

use std::io::IsTerminal;

/// Decides whether to colour output and writes diagnostics to stderr.
#[derive(Debug, Clone)]
pub struct Style {
    color_out: bool,
    color_err: bool,
}

const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

impl Style {
    /// Colour only on terminals, never with `--no-color` or a non-empty `NO_COLOR`.
    pub fn detect(no_color: bool) -> Self {
        let allowed = !no_color && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Style {
            color_out: allowed && std::io::stdout().is_terminal(),
            color_err: allowed && std::io::stderr().is_terminal(),
        }
    }

    fn paint(&self, on: bool, code: &str, text: &str) -> String {
        if on {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    }

    /// Text for stdout in bold.
    pub fn bold(&self, text: &str) -> String {
        self.paint(self.color_out, BOLD, text)
    }
    /// Text for stdout, dimmed.
    pub fn dim(&self, text: &str) -> String {
        self.paint(self.color_out, DIM, text)
    }
    /// Text for stdout in the colour of a decision or severity word.
    pub fn verdict(&self, word: &str) -> String {
        let code = match word {
            "allow" | "ok" | "info" => GREEN,
            "explicit-deny" | "error" | "critical" | "high" => RED,
            "implicit-deny" | "warning" | "medium" => YELLOW,
            _ => CYAN,
        };
        self.paint(self.color_out, code, word)
    }

    /// Prints `error: MESSAGE` on stderr.
    pub fn error(&self, message: &str) {
        eprintln!("{} {message}", self.paint(self.color_err, RED, "error:"));
    }
    /// Prints `warning: MESSAGE` on stderr.
    pub fn warn(&self, message: &str) {
        eprintln!("{} {message}", self.paint(self.color_err, YELLOW, "warning:"));
    }
    /// Prints `hint: MESSAGE` on stderr.
    pub fn hint(&self, message: &str) {
        eprintln!("{} {message}", self.paint(self.color_err, CYAN, "hint:"));
    }
    /// Prints `note: MESSAGE` on stderr.
    pub fn note(&self, message: &str) {
        eprintln!("{} {message}", self.paint(self.color_err, DIM, "note:"));
    }
}

/// A plain text table: left-aligned columns separated by two spaces, a header underlined by dashes.
#[derive(Debug, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(header: I) -> Self {
        Table { header: header.into_iter().map(Into::into).collect(), rows: Vec::new() }
    }

    /// Appends a row (cells beyond the header are ignored, missing cells are empty).
    pub fn row<I: IntoIterator<Item = S>, S: Into<String>>(&mut self, cells: I) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// Renders the table to fit the terminal ([`set_width`]): when the rows are wider, the last
    /// column wraps at word boundaries under itself. Width is measured without ANSI colour codes.
    pub fn render(&self) -> String {
        self.render_within(WIDTH.get().copied().flatten())
    }

    /// Renders the table; `max` is the widest a line may be (`None`: no limit).
    pub fn render_within(&self, max: Option<usize>) -> String {
        let n = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| visible_width(h)).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().take(n).enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(visible_width(cell));
                }
            }
        }
        // The last column starts after the others and their two-space gaps.
        let last_start: usize = widths.iter().take(n.saturating_sub(1)).map(|w| w + 2).sum();
        let last_room = max.map(|m| m.saturating_sub(last_start).max(MIN_LAST_COLUMN));
        let mut out = String::new();
        let line = |cells: &[String], out: &mut String| {
            let mut text = String::new();
            for (i, width) in widths.iter().enumerate() {
                let cell = cells.get(i).map(String::as_str).unwrap_or("");
                if i + 1 < n {
                    text.push_str(cell);
                    text.push_str(&" ".repeat(width.saturating_sub(visible_width(cell)) + 2));
                    continue;
                }
                let pieces = match last_room {
                    Some(room) if visible_width(cell) > room => wrap(cell, room),
                    _ => vec![cell.to_string()],
                };
                for (k, piece) in pieces.iter().enumerate() {
                    if k > 0 {
                        out.push_str(text.trim_end());
                        out.push('\n');
                        text = " ".repeat(last_start);
                    }
                    text.push_str(piece);
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        line(&self.header, &mut out);
        let dashes: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        line(&dashes, &mut out);
        for row in &self.rows {
            line(row, &mut out);
        }
        out
    }
}

/// Display width of `text`, skipping ANSI escape sequences.
fn visible_width(text: &str) -> usize {
    let mut width = 0;
    let mut in_escape = false;
    for c in text.chars() {
        if in_escape {
            if c.is_ascii_alphabetic() {
                in_escape = false;
            }
        } else if c == '\x1b' {
            in_escape = true;
        } else {
            width += 1;
        }
    }
    width
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns_ignoring_colour() {
        let mut t = Table::new(["a", "bb"]);
        t.row(["\x1b[31mxxx\x1b[0m", "y"]);
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "a    bb");
        assert_eq!(lines[1], "---  --");
        assert_eq!(lines[2], "\x1b[31mxxx\x1b[0m  y");
    }
}

/// The narrowest the last column of a table gets when wrapping for a narrow terminal.
const MIN_LAST_COLUMN: usize = 24;

static WIDTH: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();

/// Sets the width tables fit into, once per process: the terminal's width when stdout is a terminal
/// (`COLUMNS` wins), none into a pipe or with `-v` (full text).
pub fn set_width(verbose: bool) {
    let width = if verbose || !std::io::stdout().is_terminal() {
        None
    } else {
        let columns = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse::<usize>().ok());
        columns
            .or_else(|| terminal_size::terminal_size().map(|(w, _)| usize::from(w.0)))
            .filter(|w| *w >= 40)
            .or(Some(100))
    };
    let _ = WIDTH.set(width);
}

/// Splits `text` into lines of at most `room` visible characters, at spaces where possible.
fn wrap(text: &str, room: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        let mut word = word.to_string();
        loop {
            let cur = visible_width(&current);
            let w = visible_width(&word);
            let sep = usize::from(cur > 0);
            if cur + sep + w <= room {
                if sep == 1 {
                    current.push(' ');
                }
                current.push_str(&word);
                break;
            }
            if cur > 0 {
                lines.push(std::mem::take(&mut current));
                continue;
            }
            // A single word longer than the room: cut it at a character boundary.
            let cut: String = word.chars().take(room.max(1)).collect();
            let rest: String = word.chars().skip(room.max(1)).collect();
            lines.push(cut);
            word = rest;
            if word.is_empty() {
                break;
            }
        }
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

#[cfg(test)]
mod width_tests {
    use super::*;

    #[test]
    fn long_last_column_wraps_within_the_width() {
        let mut t = Table::new(["severity", "kind", "message"]);
        t.row(["high", "wildcard-action", &"grants every action on every resource ".repeat(5)]);
        let text = t.render_within(Some(80));
        assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
        assert!(text.lines().count() > 3, "{text}");
        // Continuation lines start under the message column.
        let start = "high      wildcard-action  ".len();
        assert!(text.lines().nth(3).is_some_and(|l| l.starts_with(&" ".repeat(start))), "{text}");
        // Without a limit, one line per row.
        assert_eq!(t.render_within(None).lines().count(), 3);
    }

    #[test]
    fn wrap_cuts_long_words_at_char_boundaries() {
        assert_eq!(wrap("ééééé", 2), vec!["éé", "éé", "é"]);
        assert_eq!(wrap("a b c", 3), vec!["a b", "c"]);
    }
}
