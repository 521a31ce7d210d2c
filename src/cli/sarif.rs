//! SARIF 2.1.0 output, as GitHub code scanning accepts it.

use serde_json::{json, Value};

/// One result to report.
pub struct SarifResult<'a> {
    /// Stable rule id (the finding code or kind).
    pub rule: &'a str,
    /// `error`, `warning` or `note`.
    pub level: &'a str,
    /// The message.
    pub message: String,
    /// File the result is in (relative path), if any.
    pub path: Option<&'a str>,
    /// 1-based line and column, if known.
    pub position: Option<(usize, usize)>,
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
pub fn log(results: &[SarifResult<'_>]) -> Value {
    let mut rules: Vec<&str> = results.iter().map(|r| r.rule).collect();
    rules.sort_unstable();
    rules.dedup();
    let rule_objs: Vec<Value> = rules
        .iter()
        .map(|id| {
            json!({
                "id": id,
                "name": id,
                "shortDescription": {"text": id.replace('-', " ")},
                "helpUri": "https://github.com/iamfit/iamfit#finding-codes"
            })
        })
        .collect();
    let results: Vec<Value> = results
        .iter()
        .map(|r| {
            let mut v = json!({
                "ruleId": r.rule,
                "ruleIndex": rules.iter().position(|x| *x == r.rule).unwrap_or(0),
                "level": r.level,
                "message": {"text": r.message},
            });
            if let Some(path) = r.path {
                let mut physical = json!({"artifactLocation": {"uri": path.trim_start_matches("./")}});
                if let Some((line, column)) = r.position {
                    physical["region"] = json!({"startLine": line.max(1), "startColumn": column.max(1)});
                }
                v["locations"] = json!([{"physicalLocation": physical}]);
            }
            v
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "iamfit",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/iamfit/iamfit",
                "rules": rule_objs
            }},
            "results": results
        }]
    })
}
