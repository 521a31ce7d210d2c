//! One finding about a policy document, as both `check` and `audit` build them, and where a finding
//! stands in its file.

use serde::Serialize;

use iamfit_policy::json::{Location, Span};
use iamfit_policy::parse::Document;

use super::codes::{Code, Command, Severity};

/// One finding: a registered code, a severity on the one scale, a message, and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The registered code.
    pub code: Code,
    /// How serious.
    pub severity: Severity,
    /// What is wrong and what to do.
    pub message: String,
    /// Where in the (decoded) document text.
    pub span: Span,
    /// JSON pointer to the element, e.g. `/Statement/0/Action/1`.
    pub pointer: String,
    /// The element concerned as written (an action pattern, a resource), when there is one.
    pub element: Option<String>,
}

impl Finding {
    /// A finding at `at`, with the code's default severity in `command`.
    pub fn new(code: Code, command: Command, message: impl Into<String>, at: &Location) -> Finding {
        Finding {
            code,
            severity: code.severity_in(command),
            message: message.into(),
            span: at.span,
            pointer: at.pointer.clone(),
            element: None,
        }
    }

    /// The same finding with another severity.
    pub fn with_severity(mut self, severity: Severity) -> Finding {
        self.severity = severity;
        self
    }

    /// The same finding, naming the element it is about.
    pub fn with_element(mut self, element: impl Into<String>) -> Finding {
        self.element = Some(element.into());
        self
    }

    /// A parser finding in the one model: its code from the registry, its severity on the one scale.
    /// `None` for a code the registry does not know (a unit test keeps every parser code registered).
    pub fn from_parser(f: &iamfit_policy::finding::Finding) -> Option<Finding> {
        Some(Finding {
            code: Code::from_name(f.code)?,
            severity: Severity::from_check_level(f.severity),
            message: f.message.clone(),
            span: f.span,
            pointer: f.pointer.clone(),
            element: None,
        })
    }
}

/// Where a finding stands in its (decoded) document text: 1-based start line and column, and the
/// line and column just past its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Region {
    /// First line.
    pub line: usize,
    /// First column (in characters).
    pub column: usize,
    /// The line of the end.
    #[serde(skip)]
    pub end_line: usize,
    /// The column just past the last character.
    #[serde(skip)]
    pub end_column: usize,
}

impl Region {
    /// The region of `span` in `doc`.
    pub fn of(doc: &Document, span: Span) -> Region {
        let (line, column) = doc.position(span);
        let (end_line, end_column) = doc.position(Span { start: span.end, end: span.end });
        Region { line, column, end_line: end_line.max(line), end_column }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_spans_the_element() {
        let doc = Document::parse("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": []\n}");
        // "2012-10-17" with its quotes: line 2, columns 14 to 26.
        let start = doc.text.find("\"2012").unwrap();
        let region = Region::of(&doc, Span { start, end: start + 12 });
        assert_eq!(region, Region { line: 2, column: 14, end_line: 2, end_column: 26 });
        // The whole document: from 1:1 to just past the closing brace on line 4.
        let all = Region::of(&doc, Span { start: 0, end: doc.text.len() });
        assert_eq!((all.line, all.column, all.end_line, all.end_column), (1, 1, 4, 2));
    }

    #[test]
    fn parser_findings_join_the_registry() {
        let doc = Document::parse("{\"Version\": \"2012-10-17\", \"Statement\": {\"Effect\": \"allow\"}}");
        let findings: Vec<Finding> = doc.findings.iter().filter_map(Finding::from_parser).collect();
        assert_eq!(findings.len(), doc.findings.len(), "every parser code is registered");
        let effect = findings.iter().find(|f| f.code == Code::InvalidEffect).unwrap();
        assert_eq!(effect.severity, Severity::High, "a parser error is high on the one scale");
    }
}
