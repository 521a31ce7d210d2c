//! `iamfit explain` on the bundled demo account (`policy-fixtures/demo`, see
//! `policy-fixtures/README.md`). Expectations written by hand from the IAM User Guide: the message
//! forms from "Troubleshoot access denied error messages"
//! (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html), the decisions
//! from "Policy evaluation logic"
//! (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::support::iamfit;

const DEMO: &str = "policy-fixtures/demo";
const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/orders-fn-role/orders";
const DEV: &str = "arn:aws:iam::111122223333:user/developers/dev";
const ORDERS: &str = "arn:aws:dynamodb:us-east-1:111122223333:table/orders";
const BUCKET: &str = "orders-invoices-111122223333";

fn explain_json(snapshot: &str, args: &[&str], expected_status: i32) -> Value {
    let mut all = vec!["explain", "--snapshot", snapshot, "-o", "json"];
    all.extend(args);
    let (code, out, err) = iamfit(&all);
    assert_eq!(code, expected_status, "iamfit {}: {err}", all.join(" "));
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// Runs `iamfit explain -` with `stdin` and returns (status, stdout, stderr).
fn explain_stdin(stdin: &str, args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_iamfit"));
    crate::support::clear_aws_env(&mut cmd);
    let mut child = cmd
        .args(["explain", "-", "--snapshot", DEMO, "--no-color"])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn sids(v: &Value) -> Vec<(String, String)> {
    v["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["layer"].as_str().unwrap().into(), s["sid"].as_str().unwrap().into()))
        .collect()
}

/// Designed mismatch L1 (policy-fixtures/README.md): the function's role is denied `dynamodb:Scan`
/// on `table/orders` by `orders-guardrails/DenyTableScans`; AWS's message for an explicit deny in an
/// identity-based policy names that layer.
#[test]
fn explicit_deny_of_the_function_role() {
    let message = format!(
        "An error occurred (AccessDeniedException) when calling the Scan operation: User: {SESSION} is not authorized to perform: dynamodb:Scan on resource: {ORDERS} with an explicit deny in an identity-based policy"
    );
    let v = explain_json(DEMO, &[&message], 0);
    // The contract's keys.
    for key in ["principal", "action", "resource", "decision", "layer", "statements", "fix"] {
        assert!(v.get(key).is_some(), "{key} missing: {v:#}");
    }
    assert_eq!(
        (&v["principal"], &v["action"], &v["resource"]),
        (&json!(SESSION), &json!("dynamodb:Scan"), &json!(ORDERS))
    );
    assert_eq!((&v["decision"], &v["layer"]), (&json!("explicit-deny"), &json!("identity")));
    assert_eq!(sids(&v), vec![("identity".into(), "DenyTableScans".into())]);
    assert_eq!(v["statements"][0]["effect"], "Deny");
    assert_eq!(v["agreement"], "agrees");
    // The least fix: the deny names only dynamodb:Scan and covers table/* (not this table alone), so
    // removing it is the only edit that lifts it; the role's `dynamodb:*` then allows the scan.
    let fix = &v["fix"][0];
    assert_eq!(
        (&fix["layer"], &fix["change"], &fix["verified"]),
        (&json!("identity"), &json!("remove-statement"), &json!(true))
    );
    assert_eq!(fix["statement"]["Sid"], "DenyTableScans");
    assert_eq!(v["fix"].as_array().unwrap().len(), 1);
}

/// Designed mismatch L5: `orders-runtime/CustomMetrics` allows `cloudwatch:PutMetricData`, the
/// permissions boundary does not ("Permissions boundaries for IAM entities":
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html). The message
/// form without `on resource` (an action without resources).
#[test]
fn implicit_deny_by_the_boundary() {
    let message = format!(
        "User: {SESSION} is not authorized to perform: cloudwatch:PutMetricData because no permissions boundary allows the cloudwatch:PutMetricData action"
    );
    let v = explain_json(DEMO, &[&message], 0);
    assert_eq!(
        (&v["decision"], &v["layer"], &v["resource"]),
        (&json!("implicit-deny"), &json!("boundary"), &json!("*"))
    );
    assert_eq!(v["agreement"], "agrees");
    assert!(sids(&v).contains(&("identity".into(), "CustomMetrics".into())), "{v:#}");
    let fix = v["fix"].as_array().unwrap();
    assert_eq!(fix.len(), 1, "{v:#}");
    assert_eq!(
        (&fix[0]["layer"], &fix[0]["change"], &fix[0]["verified"]),
        (&json!("boundary"), &json!("add-statement"), &json!(true))
    );
    assert_eq!(fix[0]["statement"]["Action"], "cloudwatch:PutMetricData");
}

/// Copies the demo's account state (not its trail) to `dir`, with a bucket policy in
/// `resource-policies/s3/` (the output of `aws s3api get-bucket-policy`) that denies object reads to
/// everyone but the invoice renderer.
fn demo_with_bucket_policy(dir: &Path) {
    for sub in ["functions", "identities"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        for entry in std::fs::read_dir(Path::new(DEMO).join(sub)).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), dir.join(sub).join(entry.file_name())).unwrap();
        }
    }
    std::fs::copy(Path::new(DEMO).join("account.json"), dir.join("account.json")).unwrap();
    let policy = json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "OnlyTheRenderer", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
        "Resource": format!("arn:aws:s3:::{BUCKET}/*"),
        "Condition": {"ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/service-role/invoice-renderer-role"}}}]});
    let folder = dir.join("resource-policies/s3");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join(format!("{BUCKET}.json")), json!({"Policy": policy.to_string()}).to_string())
        .unwrap();
}

/// A bucket policy's explicit deny ("Policy evaluation logic": an explicit deny in any policy,
/// resource-based ones included, wins): the layer is `resource`, and the fix changes the bucket
/// policy, proven with the role's own `s3:*` grant.
#[test]
fn explicit_deny_in_a_bucket_policy() {
    let dir = tempfile::tempdir().unwrap();
    demo_with_bucket_policy(dir.path());
    let object = format!("arn:aws:s3:::{BUCKET}/invoices/2026/11/0001.pdf");
    let message = format!(
        "An error occurred (AccessDenied) when calling the GetObject operation: User: {SESSION} is not authorized to perform: s3:GetObject on resource: \"{object}\" with an explicit deny in a resource-based policy"
    );
    let v = explain_json(dir.path().to_str().unwrap(), &[&message], 0);
    assert_eq!(
        (&v["decision"], &v["layer"], &v["resource"]),
        (&json!("explicit-deny"), &json!("resource"), &json!(object))
    );
    assert_eq!(sids(&v), vec![("resource".into(), "OnlyTheRenderer".into())]);
    assert_eq!(v["agreement"], "agrees");
    let fix = &v["fix"][0];
    assert_eq!(
        (&fix["layer"], &fix["change"], &fix["verified"]),
        (&json!("resource"), &json!("remove-statement"), &json!(true))
    );
    // Without the bucket policy iamfit allows the read, and says the bucket's policy is unknown.
    let v = explain_json(DEMO, &[&message], 3);
    assert_eq!((&v["decision"], &v["agreement"]), (&json!("allow"), &json!("iamfit-allows")));
    let unseen: Vec<&str> = v["unseen"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(
        unseen.iter().any(|u| u.contains(&format!("resource policy of {object} is not known"))),
        "{unseen:?}"
    );
}

/// The developer may read the orders table (`developer-access/OrdersTables`): a message that says an
/// SCP denied it is about a layer iamfit does not see, and the answer is partial (status 3).
#[test]
fn a_message_iamfit_disagrees_with() {
    let message = format!(
        "User: {DEV} is not authorized to perform: dynamodb:GetItem on resource: {ORDERS} with an explicit deny in a service control policy"
    );
    let v = explain_json(DEMO, &[&message], 3);
    assert_eq!((&v["decision"], &v["layer"]), (&json!("allow"), &Value::Null));
    assert_eq!(v["agreement"], "iamfit-allows");
    assert_eq!(v["stated"]["layer"], "scp");
    assert_eq!(v["fix"], json!([]));
    let unseen = v["unseen"].as_array().unwrap();
    assert!(
        unseen.iter().any(|u| u.as_str().unwrap().starts_with("SCPs: none known for account 111122223333")),
        "{v:#}"
    );
    // The table says it too.
    let (code, out, _) = iamfit(&["explain", "--snapshot", DEMO, "--no-color", &message]);
    assert_eq!(code, 3);
    assert!(out.contains("What iamfit could not see:"), "{out}");
}

#[test]
fn an_unparsable_message_is_a_clear_error() {
    let (code, out, err) = iamfit(&["explain", "--snapshot", DEMO, "the deployment failed, please help"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains(
            "error: cannot read the message as an AccessDenied message: it names no principal and no action"
        ),
        "{err}"
    );
    assert!(err.contains("--principal and --action"), "{err}");
    // EC2's encoded form (AWS STS API Reference, DecodeAuthorizationMessage):
    // https://docs.aws.amazon.com/STS/latest/APIReference/API_DecodeAuthorizationMessage.html
    let (code, _, err) = iamfit(&[
        "explain",
        "--snapshot",
        DEMO,
        "An error occurred (UnauthorizedOperation) when calling the RunInstances operation: You are not authorized to perform this operation. Encoded authorization failure message: 4GIOHlTkIaWHQD0Q0m6XSnuUMCm",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("encoded authorization failure message"), "{err}");
    assert!(err.contains("aws sts decode-authorization-message"), "{err}");
    // Nothing at all.
    let (code, _, err) = iamfit(&["explain", "--snapshot", DEMO]);
    assert_eq!(code, 2);
    assert!(err.contains("nothing to explain"), "{err}");
}

/// `-` reads the message from stdin, wrapped as the IAM User Guide prints it.
#[test]
fn message_from_stdin() {
    let message = format!(
        "User: {SESSION} is not authorized to perform:\ndynamodb:Scan on resource: {ORDERS}\nwith an explicit deny in an identity-based policy\n"
    );
    let (code, out, err) = explain_stdin(&message, &["-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((&v["decision"], &v["layer"]), (&json!("explicit-deny"), &json!("identity")));
}

/// The output of `aws sts decode-authorization-message` on stdin (AWS CLI Command Reference,
/// decode-authorization-message: https://docs.aws.amazon.com/cli/latest/reference/sts/decode-authorization-message.html),
/// for designed case P3: the developer has no grant on the production queue.
#[test]
fn decoded_authorization_message_from_stdin() {
    let queue = "arn:aws:sqs:us-east-1:111122223333:orders-queue";
    let decoded = json!({"allowed": false, "explicitDeny": false, "matchedStatements": {"items": []}, "failures": {"items": []},
        "context": {"principal": {"id": "AIDAEXAMPLEDEV", "name": "dev", "arn": DEV}, "action": "sqs:SendMessage", "resource": queue,
            "conditions": {"items": [{"key": "aws:Region", "values": {"items": [{"value": "us-east-1"}]}}]}}});
    let output = serde_json::to_string_pretty(&json!({"DecodedMessage": decoded.to_string()})).unwrap();
    let (code, out, err) = explain_stdin(&output, &["-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (&v["principal"], &v["action"], &v["resource"]),
        (&json!(DEV), &json!("sqs:SendMessage"), &json!(queue))
    );
    assert_eq!((&v["decision"], &v["layer"]), (&json!("implicit-deny"), &json!("identity")));
    assert_eq!(v["stated"]["denial"], "implicit");
    assert_eq!(v["fix"][0]["statement"]["Resource"], queue);
    assert_eq!(v["fix"][0]["verified"], true);
}

/// `--principal`, `--action`, `--resource` instead of a message. Designed mismatch L4: nothing grants
/// `events:PutEvents` to the role; the least fix is an identity statement of exactly that call.
#[test]
fn flags_instead_of_a_message() {
    let bus = "arn:aws:events:us-east-1:111122223333:event-bus/default";
    let v =
        explain_json(DEMO, &["--principal", SESSION, "--action", "events:PutEvents", "--resource", bus], 0);
    assert_eq!((&v["decision"], &v["layer"]), (&json!("implicit-deny"), &json!("identity")));
    assert_eq!(v["agreement"], "not-stated");
    let fix = v["fix"].as_array().unwrap();
    assert_eq!(fix.len(), 1);
    assert_eq!(
        fix[0]["statement"],
        json!({"Sid": "IamfitProposal", "Effect": "Allow", "Action": "events:PutEvents", "Resource": bus})
    );
    assert_eq!(fix[0]["verified"], true);
    // --context completes the request: P1's kms:ViaService condition.
    let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let base = ["--principal", SESSION, "--action", "kms:Decrypt", "--resource", key];
    let v = explain_json(DEMO, &base, 0);
    assert_eq!(v["decision"], "implicit-deny");
    let mut with = base.to_vec();
    with.extend(["--context", "kms:ViaService=secretsmanager.us-east-1.amazonaws.com"]);
    assert_eq!(explain_json(DEMO, &with, 0)["decision"], "allow");
}

#[test]
fn sarif_is_refused() {
    let (code, out, err) = iamfit(&[
        "explain",
        "--snapshot",
        DEMO,
        "-o",
        "sarif",
        "--principal",
        DEV,
        "--action",
        "s3:GetObject",
    ]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("`explain` has no sarif output"), "{err}");
}
