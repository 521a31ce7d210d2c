//! `iamfit simulate`, single and batch, through the binary.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

fn iamfit(args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_iamfit"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("iamfit runs");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

const ROLE: &str = "tests/fixtures/check/valid-role.json";

#[test]
fn single_request_shows_the_deciding_statement() {
    let (code, out, _) = iamfit(
        &[
            "simulate",
            "--policy",
            ROLE,
            "--action",
            "dynamodb:GetItem",
            "--resource",
            "arn:aws:dynamodb:us-east-1:111122223333:table/orders",
            "--context",
            "aws:SourceIp=10.1.2.3",
            "--context",
            "aws:ViaAWSService=false",
        ],
        None,
    );
    assert_eq!(code, 0);
    assert!(out.contains("decision: allow"), "{out}");
    assert!(out.contains("OrdersTable"), "{out}");
}

#[test]
fn single_request_json_reports_the_deny() {
    let (code, out, _) = iamfit(
        &[
            "simulate",
            "-o",
            "json",
            "--policy",
            ROLE,
            "--action",
            "dynamodb:GetItem",
            "--resource",
            "arn:aws:dynamodb:us-east-1:111122223333:table/orders",
            "--context",
            "aws:SourceIp=198.51.100.1",
            "--context",
            "aws:ViaAWSService=false",
        ],
        None,
    );
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["decision"], "explicit-deny");
    assert_eq!(v["matched"][0]["statement"], "OnlyFromVpc");
    assert_eq!(v["matched"][0]["layer"], "identity");
}

#[test]
fn policy_variables_use_principal_tags_and_usernames() {
    let (_, out, _) = iamfit(
        &[
            "simulate",
            "-o",
            "json",
            "--policy",
            ROLE,
            "--action",
            "s3:GetObject",
            "--resource",
            "arn:aws:s3:::orders-invoices/acme/1.pdf",
            "--context",
            "aws:PrincipalTag/tenant=acme",
            "--context",
            "aws:SourceIp=10.0.0.1",
        ],
        None,
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["decision"], "allow", "{out}");
}

#[test]
fn a_malformed_policy_names_file_line_and_column() {
    let (code, _, err) = iamfit(
        &["simulate", "--policy", "tests/fixtures/check/broken.json", "--action", "s3:GetObject"],
        None,
    );
    assert_eq!(code, 2);
    assert!(err.contains("tests/fixtures/check/broken.json:4:50"), "{err}");
}

#[test]
fn patterns_are_refused_as_actions() {
    let (code, _, err) = iamfit(&["simulate", "--policy", ROLE, "--action", "s3:Get*"], None);
    assert_eq!(code, 2);
    assert!(err.contains("one concrete action"), "{err}");
}

#[test]
fn batch_keeps_order_and_reports_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.jsonl");
    let allow = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::orders/*"}]}"#;
    let encoded: String = allow
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    let lines = [
        format!(
            r#"{{"id":"a","action":"s3:GetObject","resource":"arn:aws:s3:::orders/x","policies":{{"identity":[{allow}]}}}}"#
        ),
        format!(
            r#"{{"id":"b","action":"s3:PutObject","resource":"arn:aws:s3:::orders/x","policies":{{"identity":[{allow}]}}}}"#
        ),
        r#"{"id":"c","action":"s3:GetObject","policies":{}}"#.to_string(),
        "this is not json".to_string(),
        format!(
            r#"{{"id":"d","action":"s3:GetObject","resource":"arn:aws:s3:::orders/x","policies":{{"identity":["{encoded}"],"scp":[[{allow}],[{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":"*","Resource":"*"}}]}}]]}}}}"#
        ),
    ];
    std::fs::write(&path, lines.join("\n")).unwrap();
    let (code, out, err) = iamfit(&["simulate", "--requests", path.to_str().unwrap()], None);
    assert_eq!(code, 0);
    let results: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(results.len(), 5);
    assert_eq!((results[0]["id"].as_str(), results[0]["decision"].as_str()), (Some("a"), Some("allow")));
    assert_eq!(
        (results[1]["id"].as_str(), results[1]["decision"].as_str()),
        (Some("b"), Some("implicit-deny"))
    );
    assert!(results[2]["error"].as_str().unwrap().contains("identity"));
    assert!(results[3]["error"].as_str().unwrap().contains("invalid JSON"));
    assert_eq!(results[4]["decision"], "explicit-deny");
    assert_eq!(results[4]["matched"][0]["layer"], "scp[1]");
    assert!(err.contains("2 request(s) could not be evaluated"));
}

/// IAM User Guide, "AWS JSON policy elements: Principal", anonymous (public) access:
/// `"Principal": "*"` and `{"AWS": "*"}` apply to unauthenticated requests
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-anonymous);
/// identity policies never do.
#[test]
fn anonymous_requests_are_decided_by_public_resource_policies() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = dir.path().join("bucket.json");
    std::fs::write(
        &bucket,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::public-site/*"}]}"#,
    )
    .unwrap();
    let admin = dir.path().join("admin.json");
    std::fs::write(
        &admin,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    )
    .unwrap();
    let run = |action: &str| {
        let (code, out, err) = iamfit(
            &[
                "simulate",
                "-o",
                "json",
                "--principal",
                "anonymous",
                "--policy",
                admin.to_str().unwrap(),
                "--resource-policy",
                bucket.to_str().unwrap(),
                "--action",
                action,
                "--resource",
                "arn:aws:s3:::public-site/index.html",
            ],
            None,
        );
        assert_eq!(code, 0, "{err}");
        serde_json::from_str::<Value>(&out).unwrap()
    };
    assert_eq!(run("s3:GetObject")["decision"], "allow");
    // The identity policy allows everything, but it is nobody's: an anonymous write is denied.
    assert_eq!(run("s3:PutObject")["decision"], "implicit-deny");

    let line = serde_json::json!({"id": "anon", "principal": "anonymous", "action": "s3:GetObject",
        "resource": "arn:aws:s3:::public-site/a", "policies": {"identity": [], "resource": {"Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:GetObject", "Resource": "*"}]}}});
    let requests = dir.path().join("r.jsonl");
    std::fs::write(&requests, format!("{line}\n")).unwrap();
    let (code, out, _) = iamfit(&["simulate", "--requests", requests.to_str().unwrap()], None);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    // A grant to an account does not reach an unauthenticated caller.
    assert_eq!(v["decision"], "implicit-deny", "{out}");
}

/// Stored policies are evaluated as AWS evaluates them (an invalid Action entry matches nothing, with a
/// warning), while `check` still reports the entry as an error
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html).
#[test]
fn invalid_action_entries_match_nothing_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.json");
    std::fs::write(
        &policy,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get Object","s3:PutObject"],"Resource":"*"}]}"#,
    )
    .unwrap();
    let p = policy.to_str().unwrap();
    let (code, out, err) = iamfit(&["simulate", "--policy", p, "--action", "s3:PutObject"], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("decision: allow"), "{out}");
    assert!(err.contains("warning") && err.contains("s3:Get Object"), "{err}");
    let (_, out, _) = iamfit(&["simulate", "--policy", p, "--action", "s3:GetObject"], None);
    assert!(out.contains("decision: implicit-deny"), "{out}");
    let (code, _, _) = iamfit(&["check", p], None);
    assert_ne!(code, 0, "check still reports the invalid entry as an error");
}
