//! `iamfit check`'s report: per file, its findings at their positions. Its `Serialize` form is the
//! JSON of `check` (`{"files": [{"path", "findings": [{"severity", "code", "message", "line",
//! "column", "pointer"}], "error"}]}`), severities in `check`'s words.

use serde::Serialize;

use iamfit_catalog::Catalog;
use iamfit_policy::parse::{Document, Encoding};

use super::codes::{serialize_check_level, CheckLevel, Code, Severity};
use super::finding::{Finding, Region};
use super::validate::{validate, PolicyKind};

/// The report of one `check` run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CheckReport {
    /// The files, in the order given.
    pub files: Vec<CheckedFile>,
}

/// One checked file.
#[derive(Debug, Clone, Serialize)]
pub struct CheckedFile {
    /// The file as given (`-` for standard input).
    pub path: String,
    /// Its findings, by position.
    pub findings: Vec<CheckFinding>,
    /// Why the file could not be read, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How the document was wrapped (`None` when it could not be read).
    #[serde(skip)]
    pub encoding: Option<Encoding>,
    /// The (decoded) document text the positions refer to.
    #[serde(skip)]
    pub text: String,
}

/// One finding of a checked file.
#[derive(Debug, Clone, Serialize)]
pub struct CheckFinding {
    /// How serious, on the one scale; `error`, `warning` or `info` in JSON.
    #[serde(serialize_with = "serialize_check_level")]
    pub severity: Severity,
    /// The registered code.
    pub code: Code,
    /// What is wrong and what to do.
    pub message: String,
    /// Where it stands (`line`, `column` in JSON; the end for SARIF).
    #[serde(flatten)]
    pub region: Region,
    /// JSON pointer to the element.
    pub pointer: String,
}

impl CheckFinding {
    /// A finding of `doc`, placed in it.
    pub fn of(doc: &Document, finding: Finding) -> CheckFinding {
        CheckFinding {
            severity: finding.severity,
            code: finding.code,
            region: Region::of(doc, finding.span),
            message: finding.message,
            pointer: finding.pointer,
        }
    }

    /// The word `check` shows.
    pub fn level(&self) -> CheckLevel {
        self.severity.check_level()
    }
}

impl CheckedFile {
    /// Parses and lints one document read from `path`.
    pub fn check(path: &str, text: &str, kind: PolicyKind, catalog: &Catalog) -> CheckedFile {
        let doc = Document::parse(text);
        let findings = validate(&doc, kind, catalog).into_iter().map(|f| CheckFinding::of(&doc, f)).collect();
        CheckedFile {
            path: path.to_string(),
            findings,
            error: None,
            encoding: Some(doc.encoding),
            text: doc.text,
        }
    }

    /// Lints one policy document embedded in a larger file (a template): `document` is its JSON
    /// text, `place` gives the file's (line, column) for a finding's JSON pointer in the document,
    /// and `owner` (the resource that holds the document) starts every message. The source lines
    /// shown are the file's (`file_text`).
    pub fn check_embedded(
        path: &str,
        file_text: &str,
        document: &str,
        owner: &str,
        kind: PolicyKind,
        catalog: &Catalog,
        place: impl Fn(&str) -> (usize, usize),
    ) -> CheckedFile {
        let doc = Document::parse(document);
        let findings = validate(&doc, kind, catalog)
            .into_iter()
            .map(|f| {
                let (line, column) = place(&f.pointer);
                CheckFinding {
                    severity: f.severity,
                    code: f.code,
                    message: format!("{owner}: {}", f.message),
                    region: Region { line, column, end_line: line, end_column: column + 1 },
                    pointer: f.pointer,
                }
            })
            .collect();
        CheckedFile {
            path: path.to_string(),
            findings,
            error: None,
            encoding: Some(Encoding::Json),
            text: file_text.to_string(),
        }
    }

    /// A file that could not be read.
    pub fn unreadable(path: &str, error: impl Into<String>) -> CheckedFile {
        CheckedFile {
            path: path.to_string(),
            findings: Vec::new(),
            error: Some(error.into()),
            encoding: None,
            text: String::new(),
        }
    }

    /// The text of a 1-based line of the (decoded) document, without its line break.
    pub fn source_line(&self, line: usize) -> Option<&str> {
        let index = line.checked_sub(1)?;
        self.text.split('\n').nth(index).map(|l| l.strip_suffix('\r').unwrap_or(l))
    }

    /// Read, and without findings.
    pub fn is_clean(&self) -> bool {
        self.error.is_none() && self.findings.is_empty()
    }
}

impl CheckReport {
    /// How many findings `check` shows at `level`.
    pub fn count(&self, level: CheckLevel) -> usize {
        self.findings().filter(|f| f.level() == level).count()
    }

    /// How many findings are at `lowest` or worse (`--fail-on`).
    pub fn at_least(&self, lowest: CheckLevel) -> usize {
        self.findings().filter(|f| f.level() <= lowest).count()
    }

    /// Files read and without findings.
    pub fn clean(&self) -> usize {
        self.files.iter().filter(|f| f.is_clean()).count()
    }

    /// The files that could not be read.
    pub fn unreadable(&self) -> Vec<&CheckedFile> {
        self.files.iter().filter(|f| f.error.is_some()).collect()
    }

    fn findings(&self) -> impl Iterator<Item = &CheckFinding> {
        self.files.iter().flat_map(|f| &f.findings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPO: &str = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Action\": \"s3:GetObjects\", \"Resource\": \"arn:aws:s3:::b/*\"}\n  ]\n}\n";

    #[test]
    fn the_json_is_checks_surface() {
        let file = CheckedFile::check("typo.json", TYPO, PolicyKind::Auto, Catalog::embedded());
        let report = CheckReport { files: vec![file, CheckedFile::unreadable("gone.json", "not found")] };
        let json = serde_json::to_value(&report).unwrap();
        let finding = &json["files"][0]["findings"][0];
        let keys: Vec<&str> = finding.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["severity", "code", "message", "line", "column", "pointer"]);
        assert_eq!(finding["severity"], "error", "unknown-action is an error in check");
        assert_eq!(finding["code"], "unknown-action");
        // The pattern's opening quote: line 4, column 35 (after `    {"Effect": "Allow", "Action": `).
        assert_eq!((finding["line"].as_u64(), finding["column"].as_u64()), (Some(4), Some(35)));
        assert_eq!(finding["pointer"], "/Statement/0/Action");
        assert!(json["files"][0].get("error").is_none());
        assert_eq!(json["files"][1]["error"], "not found");
        assert_eq!(report.count(CheckLevel::Error), 1);
        assert_eq!(report.at_least(CheckLevel::Info), 1);
        assert_eq!(report.clean(), 0);
        assert_eq!(report.unreadable().len(), 1);
    }

    #[test]
    fn regions_end_where_the_element_ends_and_lines_are_at_hand() {
        let file = CheckedFile::check("typo.json", TYPO, PolicyKind::Auto, Catalog::embedded());
        let region = file.findings[0].region;
        // "s3:GetObjects" with its quotes is 15 characters: columns 35 to 50.
        assert_eq!((region.end_line, region.end_column), (4, 50));
        let line = file.source_line(region.line).unwrap();
        assert!(line.starts_with("    {\"Effect\""), "{line}");
        assert_eq!(line.chars().skip(region.column - 1).take(15).collect::<String>(), "\"s3:GetObjects\"");
        assert_eq!(file.source_line(0), None);
        assert_eq!(file.source_line(99), None);
    }
}
