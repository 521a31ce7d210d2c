//! `iamfit audit` on hand-written policies with hand-written expectations, on the demo function with
//! its trail, and its SARIF validated against the SARIF 2.1.0 schema.

use crate::support;

use std::process::Command;

use serde_json::Value;
use support::iamfit;

fn findings(json: &Value) -> Vec<Value> {
    json["findings"].as_array().cloned().unwrap_or_default()
}

fn find<'a>(list: &'a [Value], kind: &str, statement: &str) -> Vec<&'a Value> {
    list.iter().filter(|f| f["kind"] == kind && f["statement"] == statement).collect()
}

#[test]
fn hand_written_policy_findings() {
    let (code, out, err) =
        iamfit(&["audit", "--policy", "tests/fixtures/audit/risky-role.json", "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    let list = findings(&json);
    let admin = find(&list, "wildcard-action", "Admin");
    assert_eq!(admin.len(), 1);
    assert_eq!(admin[0]["severity"], "critical", "Action * on Resource * without conditions");
    assert_eq!(admin[0]["line"], 4, "the statement's line in the file");
    assert_eq!(find(&list, "not-action-allow", "AllButIam")[0]["severity"], "high");
    let typo = find(&list, "unknown-action", "Typo");
    assert!(typo[0]["message"].as_str().unwrap().contains("did you mean dynamodb:GetItem?"), "{}", typo[0]);
    // A conditional PassRole is reported as conditional, not ignored and not as unconditional.
    let pass = find(&list, "privilege-escalation", "PassToLambdaOnly");
    assert_eq!(pass.len(), 1);
    assert!(pass[0]["message"].as_str().unwrap().contains("(conditional"), "{}", pass[0]);
    assert_eq!(pass[0]["severity"], "high", "one notch below an unconditional PassRole on *");
    assert!(!find(&list, "data-exfiltration", "ReadAllObjects").is_empty());
    assert!(!find(&list, "credentials-exposure", "ReadAllObjects").is_empty());
    assert!(!find(&list, "wildcard-resource", "ReadAllObjects").is_empty());
    // The NotAction statement grants every non-IAM action on S3 ARNs only: it is not "Resource *".
    assert!(find(&list, "wildcard-resource", "AllButIam").is_empty());
}

#[test]
fn fail_on_severity_sets_the_exit_status() {
    let (code, _, _) = iamfit(&[
        "audit",
        "--policy",
        "tests/fixtures/audit/risky-role.json",
        "-o",
        "json",
        "--fail-on",
        "critical",
    ]);
    assert_eq!(code, 1);
    let (code, _, _) = iamfit(&[
        "audit",
        "--policy",
        "tests/fixtures/check/valid-role.json",
        "-o",
        "json",
        "--fail-on",
        "high",
    ]);
    assert_eq!(code, 0, "a narrow role has no high findings");
}

#[test]
fn demo_function_with_trail() {
    let (code, out, err) =
        iamfit(&["audit", "--function", "orders", "--snapshot", "policy-fixtures/demo", "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    let list = findings(&json);
    // PassAnyRole: iam:PassRole on *, removed by the boundary: still reported, lower, and said so.
    let pass = find(&list, "privilege-escalation", "PassAnyRole");
    assert_eq!(pass.len(), 1);
    assert_eq!(pass[0]["severity"], "medium");
    assert!(pass[0]["message"].as_str().unwrap().contains("not effective today"), "{}", pass[0]);
    assert!(!find(&list, "data-exfiltration", "LegacyDynamoDb").is_empty());
    assert!(!find(&list, "service-wildcard", "InvoiceBucketAll").is_empty());
    // Over-grants never name an action the function used (from the trail's ground truth).
    let used = [
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "s3:GetObject",
        "s3:PutObject",
        "sns:Publish",
    ];
    let over: Vec<&Value> = list.iter().filter(|f| f["kind"] == "over-grant").collect();
    assert!(!over.is_empty());
    for f in &over {
        let text = f.to_string();
        for u in used {
            assert!(!text.contains(&format!("\"{u}\"")), "{u} was used but reported unused: {f}");
        }
    }
    // sns:* was used only for Publish: the rest of it is reported, grouped.
    let sns = over.iter().find(|f| f["statement"] == "OrderEvents").expect("sns over-grant");
    assert!(sns["message"].as_str().unwrap().contains("used: sns:Publish"), "{sns}");
    // Actions CloudTrail cannot see are reported apart, not as unused.
    let unobservable: Vec<&Value> = list.iter().filter(|f| f["kind"] == "unobservable").collect();
    assert!(!unobservable.is_empty());
    // What the Lambda service needs for the function's configuration (policy-fixtures/README.md: the
    // logs of AWSLambdaBasicExecutionRole, the SQS trigger on order-requests, the dead-letter topic) is
    // neither unused nor unobservable: it is needed by the configuration.
    for needed in ["logs:PutLogEvents", "logs:CreateLogStream", "sqs:ReceiveMessage", "sqs:DeleteMessage"] {
        let quoted = format!("\"{needed}\"");
        assert!(over.iter().all(|f| !f.to_string().contains(&quoted)), "{needed} reported unused");
        assert!(unobservable.iter().all(|f| !f["message"].as_str().unwrap().contains(needed)), "{needed}");
    }
    assert!(over.iter().all(|f| f["statement"] != "PollOrderRequests" && f["statement"] != "DeadLetters"));
    // Tracing is Active and the role has no X-Ray grant (the designed bug L6): a missing permission of
    // the Lambda service (Visualize Lambda function invocations using AWS X-Ray: xray:PutTraceSegments,
    // xray:PutTelemetryRecords).
    let missing = find(&list, "missing-service-permission", "LambdaTracing");
    let mut actions: Vec<&str> = missing.iter().map(|f| f["action"].as_str().unwrap()).collect();
    actions.sort();
    assert_eq!(actions, ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]);
    assert!(
        missing[0]["message"].as_str().unwrap().starts_with(
            "active tracing (TracingConfig.Mode = Active) cannot send traces to X-Ray: the role lacks xray:"
        ),
        "{}",
        missing[0]
    );
    assert_eq!(list.iter().filter(|f| f["kind"] == "missing-service-permission").count(), 2);
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let (_, out, _) = iamfit(&["audit", "--policy", "tests/fixtures/audit/risky-role.json", "-o", "sarif"]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("audit.sarif");
    std::fs::write(&file, &out).unwrap();
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(python.exists(), "run scripts/test: it installs the venv whose jsonschema validates SARIF");
    let schema =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sarif/sarif-schema-2.1.0.json");
    let check = Command::new(python)
        .args(["-c", "import json,sys,jsonschema; s=json.load(open(sys.argv[1])); d=json.load(open(sys.argv[2])); jsonschema.Draft7Validator(s).validate(d); print(len(d['runs'][0]['results']))"])
        .arg(&schema)
        .arg(&file)
        .output()
        .unwrap();
    assert!(check.status.success(), "SARIF invalid: {}", String::from_utf8_lossy(&check.stderr));
    let results: usize = String::from_utf8_lossy(&check.stdout).trim().parse().unwrap();
    assert!(results >= 6, "{results} results");
    let sarif: Value = serde_json::from_str(&out).unwrap();
    let region = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert_eq!(region["artifactLocation"]["uri"], "tests/fixtures/audit/risky-role.json");
    assert!(region["region"]["startLine"].as_u64().unwrap() >= 4);
}
