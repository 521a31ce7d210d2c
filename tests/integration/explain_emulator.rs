//! `iamfit explain` against the moto emulator: a real AccessDenied message, produced by moto's IAM
//! authorization checks (EMULATOR.md), explained with the live account source. Expectations written
//! by hand from the IAM User Guide, "Policy evaluation logic" (an action no identity-based policy
//! allows is implicitly denied):
//! https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html

use serde_json::{json, Value};

use crate::support::*;

const ACCOUNT: &str = "123456789012";

#[tokio::test]
async fn a_message_from_the_emulator_is_explained_live() {
    let moto = Moto::start();
    let endpoint = moto.endpoint();
    let iam = iam_client(&sdk_config(&endpoint, None));
    let grant = r#"{"Version":"2012-10-17","Statement":[{"Sid":"ListUsers","Effect":"Allow","Action":["iam:ListUsers","sts:GetCallerIdentity"],"Resource":"*"}]}"#;
    let dev = create_user(&iam, "dev", &[("dev", grant)], &[]).await;
    assert_eq!(dev, format!("arn:aws:iam::{ACCOUNT}:user/dev"));
    let key = create_access_key(&iam, "dev").await;

    // The developer's own call, refused by moto's authorization checks.
    moto.set_auth(true);
    let as_dev = iam_client(&sdk_config(&endpoint, Some(&key)));
    let refused = as_dev.list_roles().send().await.expect_err("ListRoles is not granted");
    // moto answers with an XML body the SDK does not parse (`<Errors><Error>`): the body itself is
    // the message, as a developer would paste it.
    let body =
        refused.raw_response().and_then(|r| r.body().bytes()).map(|b| String::from_utf8_lossy(b).to_string());
    moto.set_auth(false);
    let body = body.expect("moto's error body");
    assert!(body.contains("is not authorized to perform: iam:ListRoles"), "{body}");

    let dir = tempfile::tempdir().unwrap();
    write_profile(dir.path(), "dev", &key.access_key_id, &key.secret_access_key, REGION);
    let out = run_iamfit(dir.path(), &endpoint, &["explain", &body, "--profile", "dev", "-o", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((&v["principal"], &v["action"]), (&json!(dev), &json!("iam:ListRoles")));
    assert_eq!((&v["decision"], &v["layer"]), (&json!("implicit-deny"), &json!("identity")));
    // Nothing allows it: the least fix is an identity statement of exactly that call, proven.
    let fix = v["fix"].as_array().unwrap();
    assert_eq!(fix.len(), 1, "{v:#}");
    assert_eq!(
        (&fix[0]["layer"], &fix[0]["change"], &fix[0]["verified"]),
        (&json!("identity"), &json!("add-statement"), &json!(true))
    );
    assert_eq!(fix[0]["statement"]["Action"], "iam:ListRoles");

    // The granted call is allowed: a message claiming otherwise is about what iamfit cannot see.
    let claim = format!("User: {dev} is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::{ACCOUNT}:user/ with an explicit deny in a service control policy");
    let out = run_iamfit(dir.path(), &endpoint, &["explain", &claim, "--profile", "dev", "-o", "json"]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((&v["decision"], &v["agreement"]), (&json!("allow"), &json!("iamfit-allows")));
    assert!(v["statements"].as_array().unwrap().iter().any(|s| s["sid"] == "ListUsers"), "{v:#}");
}

/// Live, an encoded authorization failure message is decoded with `sts:DecodeAuthorizationMessage`
/// (AWS STS API Reference: https://docs.aws.amazon.com/STS/latest/APIReference/API_DecodeAuthorizationMessage.html).
/// moto does not implement that call (EMULATOR.md: calls moto lacks answer HTTP 500): the error says
/// that decoding failed and how to decode the message by other means.
#[tokio::test]
async fn an_encoded_message_is_decoded_by_sts_or_says_why_not() {
    let moto = Moto::start();
    let endpoint = moto.endpoint();
    let iam = iam_client(&sdk_config(&endpoint, None));
    create_user(&iam, "dev", &[], &[]).await;
    let key = create_access_key(&iam, "dev").await;
    let dir = tempfile::tempdir().unwrap();
    write_profile(dir.path(), "dev", &key.access_key_id, &key.secret_access_key, REGION);
    let message = "An error occurred (UnauthorizedOperation) when calling the RunInstances operation: You are not authorized to perform this operation. Encoded authorization failure message: 4GIOHlTkIaWHQD0Q0m6XSnuUMCm";
    let out = run_iamfit(dir.path(), &endpoint, &["explain", message, "--profile", "dev"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("encoded authorization failure message"), "{stderr}");
    assert!(stderr.contains("decoding it failed"), "{stderr}");
    assert!(stderr.contains("aws sts decode-authorization-message"), "{stderr}");
}
