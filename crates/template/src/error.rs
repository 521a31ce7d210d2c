//! Template errors: each names the file, line and column.

use crate::node::Pos;

/// A template that cannot be read or expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The file cannot be read.
    #[error("cannot read {path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        message: String,
    },
    /// Not valid YAML or JSON.
    #[error("{path}:{line}:{column}: invalid YAML/JSON: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's words.
        message: String,
    },
    /// Valid YAML or JSON that is not a template iamfit can expand.
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
        /// What to do.
        help: Option<String>,
    },
}

impl TemplateError {
    /// An error at a position of the file.
    pub fn at(path: &str, pos: Pos, message: String, help: Option<String>) -> TemplateError {
        TemplateError::Invalid {
            path: path.to_string(),
            line: pos.line.max(1),
            column: pos.column.max(1),
            message,
            help,
        }
    }

    /// What the user can do about it.
    pub fn help(&self) -> Option<String> {
        match self {
            TemplateError::Invalid { help, .. } => help.clone(),
            TemplateError::Syntax { .. } => Some(
                "a template is YAML or JSON: check the indentation and the brackets at that position".into(),
            ),
            TemplateError::Io { .. } => None,
        }
    }
}

/// Something the template leaves open: an unresolvable value, a logical id standing for a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Where.
    pub pos: Pos,
    /// What.
    pub message: String,
}
