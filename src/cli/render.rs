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

    /// Renders the table. Width is measured on the text without ANSI colour codes.
    pub fn render(&self) -> String {
        let n = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| visible_width(h)).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().take(n).enumerate() {
                widths[i] = widths[i].max(visible_width(cell));
            }
        }
        let mut out = String::new();
        let line = |cells: &[String], out: &mut String| {
            let mut text = String::new();
            for (i, width) in widths.iter().enumerate() {
                let cell = cells.get(i).map(String::as_str).unwrap_or("");
                text.push_str(cell);
                if i + 1 < n {
                    text.push_str(&" ".repeat(width - visible_width(cell) + 2));
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
