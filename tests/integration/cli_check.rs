//! `iamfit check` on hand-written policies with hand-written expectations (codes and positions).

use std::process::Command;

use serde_json::Value;

fn check(args: &[&str]) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_iamfit"))
        .arg("check")
        .args(["-o", "json"])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("iamfit runs");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), json, String::from_utf8_lossy(&out.stderr).to_string())
}

/// (code, line, column) of every finding of the first file.
fn findings(json: &Value) -> Vec<(String, u64, u64)> {
    json["files"][0]["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    (
                        f["code"].as_str().unwrap_or("").to_string(),
                        f["line"].as_u64().unwrap_or(0),
                        f["column"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_clean_role_policy_has_no_findings() {
    let (code, json, _) = check(&["tests/fixtures/check/valid-role.json"]);
    assert_eq!(code, 0);
    assert_eq!(findings(&json), vec![]);
}

#[test]
fn typos_are_errors_with_positions_and_suggestions() {
    let (code, json, _) = check(&["tests/fixtures/check/typos.json"]);
    assert_eq!(code, 1, "errors make the exit status 1");
    let f = findings(&json);
    assert!(f.contains(&("unknown-action".into(), 7, 18)), "{f:?}");
    assert!(f.contains(&("unknown-service".into(), 7, 35)), "{f:?}");
    assert!(f.contains(&("invalid-effect".into(), 12, 17)), "{f:?}");
    let messages = json["files"][0]["findings"].to_string();
    assert!(messages.contains("did you mean s3:GetObject?"));
    assert!(messages.contains("did you mean \\\"s3\\\"?"));
}

#[test]
fn risky_constructs_are_warnings() {
    let (code, json, _) = check(&["tests/fixtures/check/risky.json"]);
    assert_eq!(code, 0, "warnings do not fail by default");
    let codes: Vec<String> = findings(&json).into_iter().map(|f| f.0).collect();
    for expected in [
        "wildcard-action",
        "service-wildcard",
        "wildcard-resource",
        "not-action-allow",
        "resource-type-mismatch",
        "condition-type-mismatch",
        "pass-role-wildcard",
    ] {
        assert!(codes.iter().any(|c| c == expected), "missing {expected} in {codes:?}");
    }
    let (code, _, _) = check(&["--fail-on", "warning", "tests/fixtures/check/risky.json"]);
    assert_eq!(code, 1);
}

#[test]
fn broken_json_names_line_and_column() {
    let (code, json, _) = check(&["tests/fixtures/check/broken.json"]);
    assert_eq!(code, 1);
    assert_eq!(findings(&json), vec![("json-syntax".to_string(), 4, 50)]);
}

#[test]
fn variables_without_version_are_flagged() {
    let (_, json, _) = check(&["tests/fixtures/check/no-version-variables.json"]);
    let codes: Vec<String> = findings(&json).into_iter().map(|f| f.0).collect();
    assert_eq!(codes, vec!["missing-version", "variables-need-version"]);
}

#[test]
fn an_unreadable_file_is_an_input_error_and_the_others_are_still_checked() {
    let (code, json, stderr) =
        check(&["tests/fixtures/check/typos.json", "tests/fixtures/check/does-not-exist.json"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot read tests/fixtures/check/does-not-exist.json"), "{stderr}");
    assert!(!findings(&json).is_empty(), "the readable file is still reported");
}

#[test]
fn sarif_output_has_rules_results_and_regions() {
    let out = Command::new(env!("CARGO_BIN_EXE_iamfit"))
        .args(["check", "-o", "sarif", "tests/fixtures/check/typos.json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("iamfit runs");
    let sarif: Value = serde_json::from_slice(&out.stdout).expect("SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "iamfit");
    let results = run["results"].as_array().expect("results");
    let first = results.iter().find(|r| r["ruleId"] == "unknown-action").expect("unknown-action result");
    assert_eq!(first["level"], "error");
    assert_eq!(first["locations"][0]["physicalLocation"]["region"]["startLine"], 7);
    let rules: Vec<&str> =
        run["tool"]["driver"]["rules"].as_array().unwrap().iter().filter_map(|r| r["id"].as_str()).collect();
    assert!(rules.contains(&"unknown-action"));
}

#[test]
fn url_encoded_documents_are_checked() {
    let raw =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/check/typos.json"))
            .unwrap();
    let encoded: String = raw
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("encoded.txt");
    std::fs::write(&path, encoded).unwrap();
    let (code, json, _) = check(&[path.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(findings(&json).contains(&("unknown-action".into(), 7, 18)));
}
