//! `iamfit diff` and `iamfit snapshot` against the moto AWS emulator: the live source reads the same
//! account as a snapshot does, finds the hand-written mismatches of a small scenario, and fails with
//! clear errors on a missing read permission, an unknown function and an unknown profile.

use crate::support;

use std::path::Path;

use serde_json::Value;
use support::*;

const ACCOUNT: &str = "123456789012";

fn doc(statements: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#)
}

/// The scenario: role `orders-role` (boundary `fn-boundary`) for function `orders`; user `dev` in
/// group `devs`. Returns the dev user's access key.
async fn seed(endpoint: &str) -> TestKey {
    let cfg = sdk_config(endpoint, None);
    let iam = iam_client(&cfg);
    let queue = create_policy(&iam, "queue-send", &doc(r#"{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:123456789012:orders-queue"}"#)).await;
    let boundary = create_policy(
        &iam,
        "fn-boundary",
        &doc(r#"{"Effect":"Allow","Action":["dynamodb:*","sqs:*","s3:*"],"Resource":"*"}"#),
    )
    .await;
    iam.create_role()
        .role_name("orders-role")
        .assume_role_policy_document(LAMBDA_TRUST)
        .permissions_boundary(&boundary)
        .send()
        .await
        .expect("CreateRole");
    iam.put_role_policy()
        .role_name("orders-role")
        .policy_name("data")
        .policy_document(doc(
            r#"{"Sid":"Orders","Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:PutItem"],"Resource":"arn:aws:dynamodb:us-east-1:123456789012:table/orders"},
               {"Sid":"Events","Effect":"Allow","Action":"sns:Publish","Resource":"arn:aws:sns:us-east-1:123456789012:order-events"}"#,
        ))
        .send()
        .await
        .expect("PutRolePolicy");
    iam.attach_role_policy()
        .role_name("orders-role")
        .policy_arn(&queue)
        .send()
        .await
        .expect("AttachRolePolicy");
    let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/orders-role");
    create_function(&lambda_client(&cfg), "orders", &role_arn, &[("TABLE", "orders")]).await;

    let dev_s3 = create_policy(
        &iam,
        "dev-s3",
        &doc(r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::orders-bucket/*"}"#),
    )
    .await;
    create_user(
        &iam,
        "dev",
        &[("dev", &doc(r#"{"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:Scan"],"Resource":"arn:aws:dynamodb:us-east-1:123456789012:table/orders"}"#))],
        &[],
    )
    .await;
    create_group(&iam, "devs", &[], &[&dev_s3], &["dev"]).await;
    create_access_key(&iam, "dev").await
}

fn mismatches(json: &Value) -> Vec<(String, String, String, String, String)> {
    let mut out: Vec<_> = json["mismatches"]
        .as_array()
        .expect("mismatches")
        .iter()
        .map(|m| {
            let s = |k: &str| m[k].as_str().unwrap_or_default().to_string();
            (s("direction"), s("action"), s("resource"), s("local"), s("prod"))
        })
        .collect();
    out.sort();
    out
}

fn run_json(dir: &Path, endpoint: &str, args: &[&str]) -> Value {
    let out = run_iamfit(dir, endpoint, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "iamfit {args:?} failed: {stderr}");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[tokio::test]
async fn live_diff_finds_the_scenario_mismatches_and_equals_the_snapshot_diff() {
    let moto = Moto::start();
    let key = seed(&moto.endpoint()).await;
    let dir = tempfile::tempdir().unwrap();
    write_profile(dir.path(), "dev", &key.access_key_id, &key.secret_access_key, REGION);

    let live = run_json(
        dir.path(),
        &moto.endpoint(),
        &["diff", "--function", "orders", "--profile", "dev", "-o", "json"],
    );
    assert_eq!(live["local"]["principal_arn"], format!("arn:aws:iam::{ACCOUNT}:user/dev"));
    assert_eq!(live["function"]["role_arn"], format!("arn:aws:iam::{ACCOUNT}:role/orders-role"));
    let expected = vec![
        (
            "local-only",
            "dynamodb:Scan",
            "arn:aws:dynamodb:us-east-1:123456789012:table/orders",
            "allow",
            "implicit-deny",
        ),
        ("local-only", "s3:GetObject", "arn:aws:s3:::orders-bucket/*", "allow", "implicit-deny"),
        (
            "prod-only",
            "dynamodb:PutItem",
            "arn:aws:dynamodb:us-east-1:123456789012:table/orders",
            "implicit-deny",
            "allow",
        ),
        (
            "prod-only",
            "sqs:SendMessage",
            "arn:aws:sqs:us-east-1:123456789012:orders-queue",
            "implicit-deny",
            "allow",
        ),
    ];
    let expected: Vec<(String, String, String, String, String)> = expected
        .into_iter()
        .map(|(a, b, c, d, e)| (a.into(), b.into(), c.into(), d.into(), e.into()))
        .collect();
    // sns:Publish is granted by the role's policy but not by its boundary: no mismatch.
    assert_eq!(mismatches(&live), expected);

    let snap = dir.path().join("snap");
    let out = run_iamfit(
        dir.path(),
        &moto.endpoint(),
        &["snapshot", "--out", snap.to_str().unwrap(), "--function", "orders", "--profile", "dev"],
    );
    assert!(out.status.success(), "snapshot failed: {}", String::from_utf8_lossy(&out.stderr));
    for file in ["account.json", "functions/orders.json", "identities/dev.json"] {
        assert!(snap.join(file).is_file(), "{file} written");
    }
    let offline = run_json(
        dir.path(),
        &moto.endpoint(),
        &[
            "diff",
            "--function",
            "orders",
            "--profile",
            "dev",
            "--snapshot",
            snap.to_str().unwrap(),
            "-o",
            "json",
        ],
    );
    assert_eq!(mismatches(&offline), mismatches(&live), "live and snapshot diffs agree");
    assert_eq!(offline["function"], live["function"]);
    assert_eq!(offline["local"], live["local"]);
}

#[tokio::test]
async fn a_missing_read_permission_is_a_clear_error() {
    let moto = Moto::start();
    seed(&moto.endpoint()).await;
    let cfg = sdk_config(&moto.endpoint(), None);
    let iam = iam_client(&cfg);
    create_user(&iam, "limited", &[("basic", &doc(r#"{"Effect":"Allow","Action":["sts:GetCallerIdentity","lambda:GetFunctionConfiguration"],"Resource":"*"}"#))], &[]).await;
    let key = create_access_key(&iam, "limited").await;
    let dir = tempfile::tempdir().unwrap();
    write_profile(dir.path(), "limited", &key.access_key_id, &key.secret_access_key, REGION);
    moto.set_auth(true);
    let out =
        run_iamfit(dir.path(), &moto.endpoint(), &["diff", "--function", "orders", "--profile", "limited"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("access denied") && stderr.contains("iam:GetUser"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
}

#[tokio::test]
async fn unknown_function_and_profile_are_clear_errors() {
    let moto = Moto::start();
    let key = seed(&moto.endpoint()).await;
    let dir = tempfile::tempdir().unwrap();
    write_profile(dir.path(), "dev", &key.access_key_id, &key.secret_access_key, REGION);

    let out = run_iamfit(dir.path(), &moto.endpoint(), &["diff", "--function", "nope", "--profile", "dev"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("function not found: nope"), "{stderr}");

    let out =
        run_iamfit(dir.path(), &moto.endpoint(), &["diff", "--function", "orders", "--profile", "ghost"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("ghost"), "the error names the profile: {stderr}");
}
