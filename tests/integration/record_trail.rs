//! Recordings of `exec --record` as `--trail` sources, offline: detected by content and merged with
//! CloudTrail evidence (`usage` says where each action was seen), read alone by `generate`, damaged
//! lines make the result partial.

use crate::support::*;

use serde_json::{json, Value};

const ACCOUNT: &str = "111122223333";
const ROLE: &str = "arn:aws:iam::111122223333:role/orders-role";

fn line(operation: &str, action: &str, resource: &str, status: &str, code: Value) -> String {
    json!({"time": "2026-11-02T10:00:00Z",
           "principal": format!("arn:aws:sts::{ACCOUNT}:assumed-role/orders-role/iamfit-dev"),
           "service": action.split(':').next().unwrap(), "operation": operation,
           "actions": [action], "resources": [resource], "status": status, "error_code": code,
           "http_status": if status == "allowed" { 200 } else { 400 }, "function": "orders"})
    .to_string()
}

/// A CloudTrail record of the role's session `orders` (the function's own session in Lambda).
fn cloudtrail_get_item() -> String {
    format!(
        r#"{{"Records":[{{"eventVersion":"1.09","userIdentity":{{"type":"AssumedRole","arn":"arn:aws:sts::{ACCOUNT}:assumed-role/orders-role/orders","accountId":"{ACCOUNT}","sessionContext":{{"sessionIssuer":{{"type":"Role","arn":"{ROLE}","accountId":"{ACCOUNT}","userName":"orders-role"}}}}}},"eventTime":"2026-11-01T10:00:00Z","eventSource":"dynamodb.amazonaws.com","eventName":"GetItem","awsRegion":"us-east-1","requestParameters":{{"tableName":"orders","key":{{"id":{{"S":"1"}}}}}},"recipientAccountId":"{ACCOUNT}","eventCategory":"Data"}}]}}"#
    )
}

#[test]
fn a_recording_merges_with_cloudtrail_and_usage_says_where_each_action_was_seen() {
    let dir = tempfile::tempdir().unwrap();
    let table = format!("arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders");
    let recording = dir.path().join("calls.jsonl");
    std::fs::write(
        &recording,
        [
            line("GetItem", "dynamodb:GetItem", &table, "allowed", Value::Null),
            line("PutItem", "dynamodb:PutItem", &table, "allowed", Value::Null),
            line("DeleteItem", "dynamodb:DeleteItem", &table, "denied", json!("AccessDeniedException")),
        ]
        .join("\n")
            + "\n",
    )
    .unwrap();
    let trail = dir.path().join("trail.json");
    std::fs::write(&trail, cloudtrail_get_item()).unwrap();

    let (code, out, err) = iamfit(&[
        "usage",
        "--principal",
        ROLE,
        "--trail",
        recording.to_str().unwrap(),
        "--trail",
        trail.to_str().unwrap(),
        "--since",
        "2026-10-01T00:00:00Z",
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let usage: Value = serde_json::from_str(&out).unwrap();
    let seen = |action: &str| {
        usage["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["action"] == action)
            .map(|a| a["seen_in"].clone())
    };
    assert_eq!(seen("dynamodb:GetItem"), Some(json!(["cloudtrail", "recording"])), "{usage}");
    assert_eq!(seen("dynamodb:PutItem"), Some(json!(["recording"])));
    let get =
        usage["actions"].as_array().unwrap().iter().find(|a| a["action"] == "dynamodb:GetItem").unwrap();
    assert_eq!(get["count"], 2);
    assert_eq!(get["first_seen"], "2026-11-01T10:00:00Z");
    assert_eq!(get["last_seen"], "2026-11-02T10:00:00Z");
    assert_eq!(usage["denied"][0]["action"], "dynamodb:DeleteItem");
    assert_eq!(usage["denied"][0]["seen_in"], json!(["recording"]));
    assert_eq!(usage["events"]["read"], 4);

    // The same recording under another name is still a recording (detected by content).
    let renamed = dir.path().join("run.log");
    std::fs::copy(&recording, &renamed).unwrap();
    let (code, out, err) = iamfit(&["generate", "--trail", renamed.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let policy: Value = serde_json::from_str(&out).unwrap();
    let text = policy.to_string();
    assert!(text.contains("dynamodb:GetItem") && text.contains("dynamodb:PutItem"), "{text}");
    assert!(!text.contains("dynamodb:DeleteItem"), "a denied call is never granted: {text}");
    assert!(text.contains(&table), "{text}");
}

#[test]
fn without_a_principal_only_recordings_can_be_read_and_damaged_lines_make_it_partial() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail.json");
    std::fs::write(&trail, cloudtrail_get_item()).unwrap();
    let (code, _, err) = iamfit(&["usage", "--trail", trail.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--function") && err.contains("recordings"), "{err}");

    let recording = dir.path().join("calls.jsonl");
    let table = format!("arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders");
    // A killed run may leave a line cut short.
    std::fs::write(
        &recording,
        line("GetItem", "dynamodb:GetItem", &table, "allowed", Value::Null) + "\n{\"time\":\"2026-11",
    )
    .unwrap();
    let (code, out, err) = iamfit(&["usage", "--trail", recording.to_str().unwrap(), "-o", "json"]);
    assert_eq!(code, 3, "{err}");
    let usage: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(usage["events"]["malformed"], 1);
    assert_eq!(usage["actions"][0]["action"], "dynamodb:GetItem");
}

/// A recording is usage for `diff` too: each recorded call is evaluated as both principals. On the
/// demo (policy-fixtures/README.md), the role's `DenyTableScans` denies `dynamodb:Scan` on
/// `table/orders`, which the developer may scan; both may `GetItem` on it.
#[test]
fn diff_evaluates_the_recorded_calls() {
    let dir = tempfile::tempdir().unwrap();
    let table = "arn:aws:dynamodb:us-east-1:111122223333:table/orders";
    let principal = "arn:aws:sts::111122223333:assumed-role/orders-fn-role/iamfit-dev";
    let line = |op: &str, status: &str| {
        json!({"time": "2026-11-02T10:00:00Z", "principal": principal, "service": "dynamodb",
               "operation": op, "actions": [format!("dynamodb:{op}")], "resources": [table],
               "status": status, "error_code": if status == "denied" { json!("AccessDeniedException") } else { Value::Null },
               "http_status": if status == "denied" { 400 } else { 200 }, "function": "orders"})
        .to_string()
    };
    let recording = dir.path().join("calls.jsonl");
    std::fs::write(&recording, format!("{}\n{}\n", line("Scan", "denied"), line("GetItem", "allowed")))
        .unwrap();
    let (code, out, err) = iamfit(&[
        "diff",
        "--function",
        "orders",
        "--profile",
        "dev",
        "--snapshot",
        "policy-fixtures/demo",
        "--trail",
        recording.to_str().unwrap(),
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let calls: Vec<(String, String, String, u64)> = v["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["action"].as_str().unwrap().to_string(),
                c["local"].as_str().unwrap().to_string(),
                c["prod"].as_str().unwrap().to_string(),
                c["denied"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        calls,
        [
            ("dynamodb:Scan".to_string(), "allow".to_string(), "explicit-deny".to_string(), 1),
            ("dynamodb:GetItem".to_string(), "allow".to_string(), "allow".to_string(), 0),
        ]
    );
    assert!(v["calls"][0]["resource"] == table && v["summary"]["calls_differing"] == 1, "{}", v["summary"]);
}
