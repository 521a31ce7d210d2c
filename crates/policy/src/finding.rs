//! Validation findings: a stable code, a severity, a message, and where in the document.

use std::fmt;

use serde::Serialize;

use super::json::Span;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The document is invalid: IAM would reject it, or it cannot mean what was intended.
    Error,
    /// Valid, but likely wrong or dangerous.
    Warning,
    /// Worth knowing.
    Info,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        })
    }
}

/// One finding about a policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How serious.
    pub severity: Severity,
    /// Stable kebab-case code, e.g. `unknown-action` (documented in the README).
    pub code: &'static str,
    /// What is wrong and what to do.
    pub message: String,
    /// Where in the (decoded) document text.
    pub span: Span,
    /// JSON pointer to the element, e.g. `/Statement/0/Action/1`.
    pub pointer: String,
}

impl Finding {
    /// A finding.
    pub fn new(
        severity: Severity,
        code: &'static str,
        message: impl Into<String>,
        span: Span,
        pointer: &str,
    ) -> Self {
        Finding { severity, code, message: message.into(), span, pointer: pointer.to_string() }
    }
}
