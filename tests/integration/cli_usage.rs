//! `iamfit usage` on the demo account's CloudTrail, against the ground truth the trail generator
//! wrote from the records it generated (`policy-fixtures/demo/cloudtrail-truth.json`), and on bad input.

use crate::support;

use std::io::Write;

use serde_json::Value;
use support::iamfit;

fn truth(principal: &str) -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/policy-fixtures/demo/cloudtrail-truth.json"
    ))
    .unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["principals"][principal].clone()
}

/// The truth names secrets by full ARN; their records name only the secret, so iamfit gives the
/// `-??????` form AWS recommends for a secret's random suffix.
fn expected_resources(action: &str, resources: &Value) -> Vec<String> {
    let mut want: Vec<String> =
        resources.as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect();
    if action.starts_with("secretsmanager:") {
        want = want.iter().map(|w| format!("{}-??????", w.rsplit_once('-').unwrap().0)).collect();
    }
    want.sort();
    want
}

/// Compares one principal's usage with the truth.
fn assert_matches_truth(json: &Value, t: &Value) {
    assert_eq!(json["events"]["matched"], t["matched"], "matched");
    let actions = json["actions"].as_array().unwrap();
    let truth_actions = t["actions"].as_object().unwrap();
    assert_eq!(
        actions.len(),
        truth_actions.len(),
        "actions: {:?}",
        actions.iter().map(|a| &a["action"]).collect::<Vec<_>>()
    );
    for (name, expected) in truth_actions {
        let got =
            actions.iter().find(|a| a["action"] == name.as_str()).unwrap_or_else(|| panic!("missing {name}"));
        assert_eq!(got["count"], expected["count"], "{name} count");
        let have: Vec<String> =
            got["resources"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect();
        assert_eq!(have, expected_resources(name, &expected["resources"]), "{name} resources");
    }
    let denied = json["denied"].as_array().unwrap();
    for (name, expected) in t["denied"].as_object().unwrap() {
        let got = denied
            .iter()
            .find(|d| d["action"] == name.as_str())
            .unwrap_or_else(|| panic!("missing denied {name}"));
        assert_eq!(got["count"], expected["count"], "{name}");
        assert_eq!(got["error_code"], expected["error_code"], "{name}");
        let have: Vec<String> =
            got["resources"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect();
        assert_eq!(have, expected_resources(name, &expected["resources"]), "{name}");
        assert!(
            actions.iter().all(|a| a["action"] != name.as_str() || t["actions"].get(name).is_some()),
            "denied {name} is not used"
        );
    }
    assert_eq!(json["permissionless_calls"], t["permissionless"]);
    // Nothing is dropped: what the truth calls ignored (console sign-ins) is not an API call, so it is
    // counted apart (`non_api_events`), never listed as unmapped.
    let mut want: Vec<Value> = t["unmapped"].as_array().unwrap().clone();
    want.sort_by_key(|v| v.to_string());
    let mut have = json["unmapped"].as_array().unwrap().clone();
    have.sort_by_key(|v| v.to_string());
    assert_eq!(have, want);
    let ignored: u64 =
        t["ignored"].as_array().into_iter().flatten().map(|i| i["count"].as_u64().unwrap()).sum();
    assert_eq!(json["non_api_events"].as_u64(), Some(ignored));
}

#[test]
fn function_usage_equals_the_ground_truth() {
    let (code, out, err) =
        iamfit(&["usage", "--function", "orders", "--snapshot", "policy-fixtures/demo", "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["events"]["read"], 1383);
    assert_eq!(json["events"]["malformed"], 0);
    assert_matches_truth(&json, &truth("function:orders"));
}

#[test]
fn role_and_user_usage_equal_the_ground_truth() {
    let (code, out, err) = iamfit(&[
        "usage",
        "--principal",
        "arn:aws:iam::111122223333:role/service-role/orders-fn-role",
        "--snapshot",
        "policy-fixtures/demo",
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_matches_truth(&serde_json::from_str(&out).unwrap(), &truth("role:orders-fn-role"));
    let (code, out, err) = iamfit(&[
        "usage",
        "--principal",
        "arn:aws:iam::111122223333:user/developers/dev",
        "--snapshot",
        "policy-fixtures/demo",
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_matches_truth(&serde_json::from_str(&out).unwrap(), &truth("user:dev"));
}

#[test]
fn the_time_window_narrows_the_replay() {
    let (_, out, _) = iamfit(&[
        "usage",
        "--function",
        "orders",
        "--snapshot",
        "policy-fixtures/demo",
        "--since",
        "2026-11-10T00:00:00Z",
        "--until",
        "2026-11-11T00:00:00Z",
        "-o",
        "json",
    ]);
    let json: Value = serde_json::from_str(&out).unwrap();
    let matched = json["events"]["matched"].as_u64().unwrap();
    assert!(matched > 0 && matched < 200, "one day of events: {matched}");
    for a in json["actions"].as_array().unwrap() {
        assert!(
            a["first_seen"].as_str().unwrap() >= "2026-11-10"
                && a["last_seen"].as_str().unwrap() < "2026-11-11",
            "{a}"
        );
    }
}

#[test]
fn bad_files_are_counted_named_and_the_rest_is_processed() {
    let dir = tempfile::tempdir().unwrap();
    let good = r#"{"Records":[{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/dev","accountId":"111122223333"},"eventTime":"2026-11-02T10:00:00Z","eventSource":"sqs.amazonaws.com","eventName":"SendMessage","awsRegion":"us-east-1","requestParameters":{"queueUrl":"https://sqs.us-east-1.amazonaws.com/111122223333/q"}},{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/dev"}}]}"#;
    std::fs::write(dir.path().join("good.json"), good).unwrap();
    std::fs::write(dir.path().join("corrupt.json.gz"), b"\x1f\x8b\x08\x00garbage").unwrap();
    std::fs::write(dir.path().join("other.json"), r#"{"hello": "world"}"#).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&good.as_bytes()[..good.len() / 2]).unwrap();
    std::fs::write(dir.path().join("truncated.json.gz"), gz.finish().unwrap()).unwrap();
    let (code, out, err) = iamfit(&[
        "usage",
        "--principal",
        "arn:aws:iam::111122223333:user/dev",
        "--trail",
        dir.path().to_str().unwrap(),
        "--since",
        "2026-01-01T00:00:00Z",
        "-o",
        "json",
    ]);
    assert_eq!(code, 3, "partial result: {err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["partial"], true);
    let failed = json["files_failed"].to_string();
    for name in ["corrupt.json.gz", "other.json", "truncated.json.gz"] {
        assert!(failed.contains(name), "{name} reported: {failed}");
        assert!(err.contains(name), "{name} named on stderr: {err}");
    }
    assert_eq!(json["events"]["malformed"], 1, "the record without eventSource");
    let send = json["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "sqs:SendMessage")
        .expect("the good record is processed");
    assert_eq!(send["resources"][0], "arn:aws:sqs:us-east-1:111122223333:q");
}

#[test]
fn an_empty_folder_and_no_trail_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, _) = iamfit(&[
        "usage",
        "--principal",
        "arn:aws:iam::111122223333:user/dev",
        "--trail",
        dir.path().to_str().unwrap(),
        "-o",
        "json",
    ]);
    assert_eq!(code, 0);
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["events"]["read"], 0);
    let (code, _, err) =
        iamfit(&["usage", "--principal", "arn:aws:iam::111122223333:user/dev", "--region", "us-east-1"]);
    assert_eq!(code, 2);
    assert!(err.contains("--trail lookup") && err.contains("s3://"), "{err}");
}

#[test]
fn coverage_tells_used_unused_and_unobservable_grants() {
    let (_, out, _) =
        iamfit(&["usage", "--function", "orders", "--snapshot", "policy-fixtures/demo", "-o", "json"]);
    let json: Value = serde_json::from_str(&out).unwrap();
    let c = &json["coverage"];
    let status = |a: &str| {
        c["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["action"] == a)
            .map(|x| x["status"].as_str().unwrap().to_string())
    };
    assert_eq!(
        c["used"].as_u64(),
        Some(truth("function:orders")["actions"].as_object().unwrap().len() as u64)
    );
    assert_eq!(status("dynamodb:GetItem").as_deref(), Some("used"));
    // The trail records DynamoDB data events, so an unseen item action is unused, not unobservable.
    assert_eq!(status("dynamodb:DeleteItem").as_deref(), Some("unused"));
    assert!(
        status("dynamodb:DescribeReservedCapacity").unwrap().starts_with("unobservable"),
        "a permission-only action"
    );
    // Denied by the boundary: not a grant at all.
    assert_eq!(status("iam:PassRole"), None);
    // What the Lambda service needs for the function's configuration (policy-fixtures/README.md: its
    // logs and its SQS trigger on order-requests) is neither used by the code nor unused.
    for needed in ["logs:PutLogEvents", "logs:CreateLogGroup", "sqs:ReceiveMessage", "sqs:GetQueueAttributes"]
    {
        assert_eq!(status(needed).as_deref(), Some("needed-by-configuration"), "{needed}");
    }
    // sns:Publish is used by the code (order-events) and also the dead-letter topic's: used wins.
    assert_eq!(status("sns:Publish").as_deref(), Some("used"));
    let total = c["used"].as_u64().unwrap()
        + c["unused"].as_u64().unwrap()
        + c["unobservable"].as_u64().unwrap()
        + c["needed_by_configuration"].as_u64().unwrap();
    assert_eq!(total, c["granted"].as_u64().unwrap());
}
