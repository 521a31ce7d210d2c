//! `iamfit diff` and `iamfit snapshot` against the moto AWS emulator: the live source reads the same
//! account as a snapshot does, finds the hand-written mismatches of a small scenario, and fails with
//! clear errors on a missing read permission, an unknown function and an unknown profile.

use crate::support;

use std::path::Path;

use serde_json::Value;
use support::*;

const ACCOUNT: &str = "123456789012";

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

// ---------------------------------------------------------------------------------------------
// Issue 10: every witness, `used` per resource, the calls section, and a proposal proven by
// applying it to the role. Expectations are worked out by hand from the policies below, with the
// IAM User Guide's "Policy evaluation logic" (an explicit deny wins; a permissions boundary must
// allow too; a managed policy applies at its default version only, "Versioning IAM policies").

const ORDERS: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/orders";
const ARCHIVE: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/archive";
const SESSIONS: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/sessions";
const DEV_TABLES: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/dev-*";

/// Role `orders-role` (function `orders`, boundary `table-boundary`):
/// - inline `data`: Allow GetItem, PutItem, DeleteItem on `orders`; DeleteItem on `sessions`;
/// - inline `guard`: Deny DeleteItem on `orders`;
/// - managed `archive-access`: v1 allowed GetItem and DeleteItem on `archive`, the default v2 only
///   GetItem;
/// - boundary: `dynamodb:*` on `orders` and `archive` (not `sessions`).
///
/// User `dev`: Allow GetItem on `orders`, DeleteItem on `orders`, `archive`, `sessions`, `dev-*`.
async fn seed_witnesses(endpoint: &str) -> TestKey {
    let cfg = sdk_config(endpoint, None);
    let iam = iam_client(&cfg);
    let boundary = create_policy(
        &iam,
        "table-boundary",
        &doc(&format!(r#"{{"Effect":"Allow","Action":"dynamodb:*","Resource":["{ORDERS}","{ARCHIVE}"]}}"#)),
    )
    .await;
    let archive = create_policy(
        &iam,
        "archive-access",
        &doc(&format!(r#"{{"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:DeleteItem"],"Resource":"{ARCHIVE}"}}"#)),
    )
    .await;
    iam.create_policy_version()
        .policy_arn(&archive)
        .policy_document(doc(&format!(
            r#"{{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"{ARCHIVE}"}}"#
        )))
        .set_as_default(true)
        .send()
        .await
        .expect("CreatePolicyVersion");
    let data = doc(&format!(
        r#"{{"Sid":"Orders","Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:PutItem","dynamodb:DeleteItem"],"Resource":"{ORDERS}"}},
           {{"Sid":"Sessions","Effect":"Allow","Action":"dynamodb:DeleteItem","Resource":"{SESSIONS}"}}"#
    ));
    let guard = doc(&format!(
        r#"{{"Sid":"KeepOrders","Effect":"Deny","Action":"dynamodb:DeleteItem","Resource":"{ORDERS}"}}"#
    ));
    iam.create_role()
        .role_name("orders-role")
        .assume_role_policy_document(LAMBDA_TRUST)
        .permissions_boundary(&boundary)
        .send()
        .await
        .expect("CreateRole");
    for (name, document) in [("data", &data), ("guard", &guard)] {
        iam.put_role_policy()
            .role_name("orders-role")
            .policy_name(name)
            .policy_document(document)
            .send()
            .await
            .expect("PutRolePolicy");
    }
    iam.attach_role_policy()
        .role_name("orders-role")
        .policy_arn(&archive)
        .send()
        .await
        .expect("AttachRolePolicy");
    let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/orders-role");
    create_function(&lambda_client(&cfg), "orders", &role_arn, &[]).await;
    let dev = doc(&format!(
        r#"{{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"{ORDERS}"}},
           {{"Effect":"Allow","Action":"dynamodb:DeleteItem","Resource":["{ORDERS}","{ARCHIVE}","{SESSIONS}","{DEV_TABLES}"]}}"#
    ));
    create_user(&iam, "dev", &[("dev", &dev)], &[]).await;
    create_access_key(&iam, "dev").await
}

/// One CloudTrail record of the function (session `orders` of `orders-role`), shaped as in "CloudTrail
/// record contents" (AWS CloudTrail User Guide).
fn record(event: &str, table: &str, denied: bool, time: &str) -> Value {
    let mut r = serde_json::json!({
        "eventVersion": "1.11",
        "userIdentity": {
            "type": "AssumedRole",
            "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/orders-role/orders"),
            "accountId": ACCOUNT,
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": format!("arn:aws:iam::{ACCOUNT}:role/orders-role"), "accountId": ACCOUNT, "userName": "orders-role"}}
        },
        "eventTime": time,
        "eventSource": "dynamodb.amazonaws.com",
        "eventName": event,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.10",
        "requestParameters": {"tableName": table.rsplit('/').next().unwrap()},
        "resources": [{"accountId": ACCOUNT, "type": "AWS::DynamoDB::Table", "ARN": table}],
        "eventType": "AwsApiCall",
        "eventCategory": "Data",
        "managementEvent": false,
        "recipientAccountId": ACCOUNT,
        "tlsDetails": {"tlsVersion": "TLSv1.3"}
    });
    if denied {
        r["errorCode"] = "AccessDeniedException".into();
        r["errorMessage"] = "not authorized".into();
    }
    r
}

/// The trail: GetItem on `orders` (3, allowed), DeleteItem on `orders` (2, denied by `guard`),
/// DeleteItem on `archive` (1, denied: no grant at the default version), GetItem on `archive` (1).
fn write_trail(dir: &Path) -> std::path::PathBuf {
    let mut records = Vec::new();
    for i in 0..3 {
        records.push(record("GetItem", ORDERS, false, &format!("2026-11-02T10:0{i}:00Z")));
    }
    for i in 0..2 {
        records.push(record("DeleteItem", ORDERS, true, &format!("2026-11-02T11:0{i}:00Z")));
    }
    records.push(record("DeleteItem", ARCHIVE, true, "2026-11-02T12:00:00Z"));
    records.push(record("GetItem", ARCHIVE, false, "2026-11-02T12:01:00Z"));
    let path = dir.join("trail.json");
    std::fs::write(&path, serde_json::json!({ "Records": records }).to_string()).unwrap();
    path
}

fn delete_item_witnesses(json: &Value) -> Vec<(String, String, String, bool)> {
    let mut out: Vec<_> = json["mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["action"] == "dynamodb:DeleteItem")
        .map(|m| {
            let s = |k: &str| m[k].as_str().unwrap_or_default().to_string();
            (s("resource"), s("direction"), s("prod"), m["used"].as_bool().unwrap())
        })
        .collect();
    out.sort();
    out
}

fn call<'a>(json: &'a Value, action: &str, resource: &str) -> &'a Value {
    json["calls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["action"] == action && c["resource"] == resource)
        .unwrap_or_else(|| panic!("no call {action} {resource} in {}", json["calls"]))
}

#[tokio::test]
async fn every_witness_is_listed_used_per_resource_and_the_proposal_works() {
    let moto = Moto::start();
    let key = seed_witnesses(&moto.endpoint()).await;
    let dir = tempfile::tempdir().unwrap();
    write_profile(dir.path(), "dev", &key.access_key_id, &key.secret_access_key, REGION);
    let trail = write_trail(dir.path());
    let trail = trail.to_str().unwrap();
    let args = [
        "diff",
        "--function",
        "orders",
        "--profile",
        "dev",
        "--trail",
        trail,
        "--since",
        "2026-11-01T00:00:00Z",
        "-o",
        "json",
    ];
    let json = run_json(dir.path(), &moto.endpoint(), &args);

    // One action, four witnesses, four reasons; used only where the trail shows the function's calls
    // (orders and archive), not on sessions or dev-*, which it never called.
    let s = |x: &str| x.to_string();
    assert_eq!(
        delete_item_witnesses(&json),
        vec![
            (s(ARCHIVE), s("local-only"), s("implicit-deny"), true), // v1 had it; the default v2 does not
            (s(DEV_TABLES), s("local-only"), s("implicit-deny"), false), // the role names no dev-* table
            (s(ORDERS), s("local-only"), s("explicit-deny"), true),  // guard:KeepOrders, called and denied
            (s(SESSIONS), s("local-only"), s("implicit-deny"), false), // granted, but not by the boundary
        ]
    );
    let reason = |resource: &str| {
        json["mismatches"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["action"] == "dynamodb:DeleteItem" && m["resource"] == resource)
            .map(|m| m["details"]["prod"]["reason"].as_str().unwrap_or_default().to_string())
            .unwrap()
    };
    assert!(reason(SESSIONS).contains("boundary"), "{}", reason(SESSIONS));
    assert!(reason(ARCHIVE).contains("no policy allows it"), "{}", reason(ARCHIVE));
    // The archive's GetItem is prod-only (dev has no grant) and the function called it: used.
    let get_archive = json["mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["action"] == "dynamodb:GetItem" && m["resource"] == ARCHIVE)
        .unwrap();
    assert_eq!(
        (get_archive["direction"].as_str(), get_archive["used"].as_bool()),
        (Some("prod-only"), Some(true))
    );
    assert_eq!(json["summary"]["used_mismatches"], 3, "{}", json["summary"]);

    // Every distinct call, evaluated on its resource as both principals.
    let calls = json["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 4, "{}", json["calls"]);
    let c = call(&json, "dynamodb:GetItem", ORDERS);
    assert_eq!(
        (c["count"].as_u64(), c["local"].as_str(), c["prod"].as_str()),
        (Some(3), Some("allow"), Some("allow"))
    );
    let c = call(&json, "dynamodb:DeleteItem", ORDERS);
    assert_eq!((c["count"].as_u64(), c["denied"].as_u64()), (Some(2), Some(2)));
    assert_eq!(
        (c["local"].as_str(), c["prod"].as_str(), c["trail_agrees"].as_bool()),
        (Some("allow"), Some("explicit-deny"), Some(true))
    );
    let c = call(&json, "dynamodb:DeleteItem", ARCHIVE);
    assert_eq!((c["local"].as_str(), c["prod"].as_str()), (Some("allow"), Some("implicit-deny")));
    let c = call(&json, "dynamodb:GetItem", ARCHIVE);
    assert_eq!((c["local"].as_str(), c["prod"].as_str()), (Some("implicit-deny"), Some("allow")));

    // Proposals for the two calls that work locally and fail in production.
    let proposals = json["proposals"].as_array().unwrap();
    let orders = proposals.iter().find(|p| p["resource"] == ORDERS).expect("a proposal for orders");
    assert_eq!(
        (orders["layer"].as_str(), orders["blocked_by"].as_str()),
        (Some("identity"), Some("explicit-deny"))
    );
    assert_eq!(orders["change"], "remove-statement", "guard names exactly this table: {orders}");
    assert!(orders["policy"].as_str().unwrap().ends_with("guard:KeepOrders"), "{orders}");
    let archive = proposals.iter().find(|p| p["resource"] == ARCHIVE).expect("a proposal for archive");
    assert_eq!(
        (archive["layer"].as_str(), archive["change"].as_str()),
        (Some("identity"), Some("add-statement"))
    );
    assert_eq!(archive["statement"]["Action"], "dynamodb:DeleteItem");
    assert_eq!(archive["statement"]["Resource"], ARCHIVE);
    assert!(proposals.iter().all(|p| p["verified"] == true), "{proposals:?}");

    // Apply both proposals to the role in the emulator and evaluate again: both calls are allowed.
    let cfg = sdk_config(&moto.endpoint(), None);
    let iam = iam_client(&cfg);
    iam.delete_role_policy()
        .role_name("orders-role")
        .policy_name("guard")
        .send()
        .await
        .expect("DeleteRolePolicy");
    let added =
        serde_json::json!({"Version": "2012-10-17", "Statement": [archive["statement"].clone()]}).to_string();
    iam.put_role_policy()
        .role_name("orders-role")
        .policy_name("iamfit-proposal")
        .policy_document(added)
        .send()
        .await
        .expect("PutRolePolicy");
    let after = run_json(dir.path(), &moto.endpoint(), &args);
    for resource in [ORDERS, ARCHIVE] {
        let c = call(&after, "dynamodb:DeleteItem", resource);
        assert_eq!(
            (c["local"].as_str(), c["prod"].as_str()),
            (Some("allow"), Some("allow")),
            "{resource}: {c}"
        );
    }
    assert!(after["proposals"].as_array().unwrap().is_empty(), "{}", after["proposals"]);
    // Exactly those calls: DeleteItem on dev-* and sessions still differs.
    let left: Vec<String> = delete_item_witnesses(&after).into_iter().map(|w| w.0).collect();
    assert_eq!(left, vec![s(DEV_TABLES), s(SESSIONS)]);
}
