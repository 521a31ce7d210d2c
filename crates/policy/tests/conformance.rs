//! The conformance suite: cases written from the AWS IAM User Guide's examples and evaluation-logic
//! pages (each case cites its page in `source`), run through iamfit's authorizer.
//!
//! Case files live in `tests/conformance/*.json`; see `tests/conformance/README.md` for the format.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::string_slice, missing_docs)]

use std::path::Path;

use iamfit_policy::eval::batch::BatchEvaluator;
use serde_json::Value;

fn load_cases() -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/conformance exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable case file");
        let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let name = file.file_name().unwrap_or_default().to_string_lossy().to_string();
        for case in doc["cases"].as_array().unwrap_or_else(|| panic!("{name}: no \"cases\" array")) {
            cases.push((name.clone(), case.clone()));
        }
    }
    cases
}

#[test]
fn conformance_cases_match_aws_documented_decisions() {
    let cases = load_cases();
    assert!(cases.len() >= 150, "the suite must hold at least 150 cases, found {}", cases.len());
    let mut evaluator = BatchEvaluator::with_write_actions(iamfit_catalog::WRITE_ACTIONS);
    let mut failures = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for (file, case) in &cases {
        let id = case["id"].as_str().unwrap_or("?");
        assert!(ids.insert(id.to_string()), "duplicate case id {id}");
        let source = case["source"].as_str().unwrap_or("");
        assert!(
            source.starts_with("https://docs.aws.amazon.com/"),
            "{file} {id}: every case cites an AWS documentation page, found {source:?}"
        );
        let expect = case["expect"].as_str().unwrap_or_else(|| panic!("{file} {id}: no expect"));
        match evaluator.evaluate(case) {
            Ok(decision) if decision.verdict.as_str() == expect => {}
            Ok(decision) => failures.push(format!(
                "{file} {id}: expected {expect}, got {} ({:?}; matched {:?})\n    {}\n    {source}",
                decision.verdict,
                decision.reason,
                decision
                    .matched
                    .iter()
                    .map(|m| format!("{}:{}", m.policy_name(), m.label()))
                    .collect::<Vec<_>>(),
                case["description"].as_str().unwrap_or("")
            )),
            Err(e) => failures.push(format!("{file} {id}: could not evaluate: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
