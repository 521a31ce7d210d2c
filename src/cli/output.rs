//! The one stdout writer of the command line. Every report goes through [`emit`]; a closed pipe
//! (`iamfit ... | head -1`) becomes [`CliError::closed_pipe`], which `main` turns into a quiet exit with
//! status 0, as ripgrep does. Nothing in the command line uses `print!`, which panics on a closed pipe.

use std::io::Write;

use super::CliError;

/// Writes `text` to stdout and flushes it.
pub fn emit(text: &str) -> Result<(), CliError> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(CliError::write)
}

/// Writes `text` and a newline to stdout.
pub fn emit_line(text: &str) -> Result<(), CliError> {
    let mut line = String::with_capacity(text.len() + 1);
    line.push_str(text);
    line.push('\n');
    emit(&line)
}

/// Writes a value as pretty JSON and a newline.
pub fn emit_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::other(format!("cannot write the JSON report: {e}")))?;
    emit_line(&text)
}
