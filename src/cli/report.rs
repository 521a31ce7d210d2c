//! Reports and their renderers: every command builds a typed report (its `Serialize` impl is the JSON
//! surface) and renders it through [`print`], with one renderer per format. Which formats a command
//! supports is checked once, before any work, by [`check_format`].

use serde::Serialize;

use super::output;
use super::{CliError, OutputFormat, Style};

/// A command's report.
pub trait Report: Serialize {
    /// The table (`-o table`).
    fn table(&self, style: &Style) -> String;
    /// Markdown (`-o markdown`), for pull-request comments.
    fn markdown(&self) -> String;
    /// SARIF (`-o sarif`), for reports of findings; `None` where the command has none.
    fn sarif(&self) -> Option<super::sarif::Log> {
        None
    }
}

/// The formats every command supports.
pub const TEXT_FORMATS: &[OutputFormat] = &[OutputFormat::Table, OutputFormat::Json, OutputFormat::Markdown];

/// The formats of commands that report findings.
pub const FINDING_FORMATS: &[OutputFormat] =
    &[OutputFormat::Table, OutputFormat::Json, OutputFormat::Markdown, OutputFormat::Sarif];

/// Refuses a format the command does not support (exit status 2), before the command does any work.
pub fn check_format(command: &str, supported: &[OutputFormat], format: OutputFormat) -> Result<(), CliError> {
    if supported.contains(&format) {
        return Ok(());
    }
    let names: Vec<&str> = supported.iter().map(|f| f.name()).collect();
    Err(CliError::usage(format!("`{command}` has no {} output", format.name())).with_hint(format!(
        "use --output {} (SARIF is for the commands that report findings: audit, check, diff)",
        names.join(", ")
    )))
}

/// Renders the report in `format` and writes it to stdout.
pub fn print<R: Report>(report: &R, format: OutputFormat, style: &Style) -> Result<(), CliError> {
    match format {
        OutputFormat::Json => output::emit_json(report),
        OutputFormat::Table => output::emit(&report.table(style)),
        OutputFormat::Markdown => output::emit(&report.markdown()),
        OutputFormat::Sarif => match report.sarif() {
            Some(log) => output::emit_json(&log),
            None => Err(CliError::usage("this report has no SARIF form")),
        },
    }
}
