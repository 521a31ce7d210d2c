//! SARIF 2.1.0 output, as GitHub code scanning accepts it, as typed structs (the OASIS schema's
//! names, camelCase on the wire). Regions carry start and end positions.

use serde::Serialize;

/// The SARIF schema this output follows.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Where the rules are documented.
const HELP_URI: &str = "https://github.com/iamfit/iamfit/blob/main/docs/reference.md#finding-codes";

/// One result to report, before it becomes a SARIF [`Result`].
#[derive(Debug, Clone)]
pub struct Finding<'a> {
    /// Stable rule id (the finding code or kind).
    pub rule: &'a str,
    /// `error`, `warning` or `note`.
    pub level: &'static str,
    /// The message.
    pub message: String,
    /// File the result is in (relative path), if any.
    pub path: Option<&'a str>,
    /// 1-based start and end (line, column), if known.
    pub region: Option<((usize, usize), (usize, usize))>,
}

/// A SARIF log: one run of iamfit.
#[derive(Debug, Clone, Serialize)]
pub struct Log {
    /// The schema URI.
    #[serde(rename = "$schema")]
    pub schema: &'static str,
    /// `2.1.0`.
    pub version: &'static str,
    /// The runs (one).
    pub runs: Vec<Run>,
}

/// One run of a tool.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    /// The tool that ran.
    pub tool: Tool,
    /// What it found.
    pub results: Vec<Result>,
}

/// The tool of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    /// Its driver.
    pub driver: Driver,
}

/// The tool's driver component.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Driver {
    /// `iamfit`.
    pub name: &'static str,
    /// The version.
    pub version: &'static str,
    /// The project's address.
    pub information_uri: &'static str,
    /// The rules the results refer to.
    pub rules: Vec<Rule>,
}

/// A rule (finding code).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// The code.
    pub id: String,
    /// The code again (SARIF's human name).
    pub name: String,
    /// A one-line description.
    pub short_description: Message,
    /// Where it is documented.
    pub help_uri: &'static str,
}

/// A text message.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    /// The text.
    pub text: String,
}

/// One result.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Result {
    /// The rule's id.
    pub rule_id: String,
    /// The rule's index in the driver's rules.
    pub rule_index: usize,
    /// `error`, `warning` or `note`.
    pub level: &'static str,
    /// What was found.
    pub message: Message,
    /// Where, when in a file.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Location>,
}

/// A location of a result.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    /// The file and region.
    pub physical_location: PhysicalLocation,
}

/// A file and a region in it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhysicalLocation {
    /// The file.
    pub artifact_location: ArtifactLocation,
    /// The region, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
}

/// A file.
#[derive(Debug, Clone, Serialize)]
pub struct ArtifactLocation {
    /// Its relative path.
    pub uri: String,
}

/// A region of a file, 1-based.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    /// First line.
    pub start_line: usize,
    /// First column.
    pub start_column: usize,
    /// Last line.
    pub end_line: usize,
    /// Column after the last character.
    pub end_column: usize,
}

/// Maps iamfit severities to SARIF levels.
pub fn level(severity: &str) -> &'static str {
    match severity {
        "error" | "critical" | "high" => "error",
        "warning" | "medium" => "warning",
        _ => "note",
    }
}

/// Builds a SARIF log with one run of iamfit.
pub fn log(findings: &[Finding<'_>]) -> Log {
    let mut ids: Vec<&str> = findings.iter().map(|r| r.rule).collect();
    ids.sort_unstable();
    ids.dedup();
    let rules = ids
        .iter()
        .map(|id| Rule {
            id: id.to_string(),
            name: id.to_string(),
            short_description: Message { text: id.replace('-', " ") },
            help_uri: HELP_URI,
        })
        .collect();
    let results = findings
        .iter()
        .map(|f| Result {
            rule_id: f.rule.to_string(),
            rule_index: ids.iter().position(|x| *x == f.rule).unwrap_or(0),
            level: f.level,
            message: Message { text: f.message.clone() },
            locations: f.path.map(|path| location(path, f.region)).into_iter().collect(),
        })
        .collect();
    Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "iamfit",
                    version: env!("CARGO_PKG_VERSION"),
                    information_uri: "https://github.com/iamfit/iamfit",
                    rules,
                },
            },
            results,
        }],
    }
}

fn location(path: &str, region: Option<((usize, usize), (usize, usize))>) -> Location {
    let region = region.map(|((sl, sc), (el, ec))| {
        let (start_line, start_column) = (sl.max(1), sc.max(1));
        let end_line = el.max(start_line);
        let end_column = if end_line == start_line { ec.max(start_column) } else { ec.max(1) };
        Region { start_line, start_column, end_line, end_column }
    });
    Location {
        physical_location: PhysicalLocation {
            artifact_location: ArtifactLocation { uri: path.trim_start_matches("./").to_string() },
            region,
        },
    }
}

/// A rule's description and documentation address, for [`log_documented`].
#[derive(Debug, Clone, Copy)]
pub struct RuleDoc {
    /// What the rule means, in one line.
    pub help: &'static str,
    /// Where it is documented.
    pub help_uri: &'static str,
}

/// Like [`log`], with each rule's description and address from `doc` (the finding-code registry:
/// [`registry_doc`]).
pub fn log_documented(findings: &[Finding<'_>], doc: impl Fn(&str) -> Option<RuleDoc>) -> Log {
    let mut log = log(findings);
    for rule in log.runs.iter_mut().flat_map(|run| run.tool.driver.rules.iter_mut()) {
        if let Some(d) = doc(&rule.id) {
            rule.short_description = Message { text: d.help.to_string() };
            rule.help_uri = d.help_uri;
        }
    }
    log
}

/// A finding code's help text and documentation address, from the registry.
pub fn registry_doc(id: &str) -> Option<RuleDoc> {
    iamfit_core::lint::Code::from_name(id).map(|c| RuleDoc { help: c.info().help, help_uri: c.info().url })
}
