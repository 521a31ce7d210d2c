//! Resource-based policies read from the snapshot's `resource-policies/` folder and used by `diff`:
//! a local principal blocked by a KMS key policy and a bucket policy, while the function's role is not.
//! Expectations written by hand from the AWS documentation cited at each assertion.

use std::path::Path;

use serde_json::{json, Value};

use crate::support::iamfit;

const ACCOUNT: &str = "111122223333";
const ROLE: &str = "arn:aws:iam::111122223333:role/service-role/orders-fn-role";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn put(path: &Path, value: &Value) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
}

/// The same identity grant for the developer and the role: kms:Decrypt on the key, s3:GetObject on
/// the bucket. Only the resource policies tell them apart.
fn snapshot(dir: &Path, with_resource_policies: bool) {
    let grant = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Key", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY},
        {"Sid": "Data", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::orders-data/*"}
    ]});
    let trust = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    put(
        &dir.join("account.json"),
        &json!({
            "UserDetailList": [{"Path": "/", "UserName": "dev", "UserId": "AIDAEXAMPLEDEV", "Arn": format!("arn:aws:iam::{ACCOUNT}:user/dev"),
                "UserPolicyList": [{"PolicyName": "dev", "PolicyDocument": grant}], "GroupList": [], "AttachedManagedPolicies": []}],
            "GroupDetailList": [],
            "RoleDetailList": [{"Path": "/service-role/", "RoleName": "orders-fn-role", "RoleId": "AROAEXAMPLEROLE", "Arn": ROLE,
                "AssumeRolePolicyDocument": trust, "RolePolicyList": [{"PolicyName": "fn", "PolicyDocument": grant}],
                "AttachedManagedPolicies": []}],
            "Policies": []
        }),
    );
    put(
        &dir.join("functions/orders.json"),
        &json!({"FunctionName": "orders", "FunctionArn": format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:orders"), "Role": ROLE}),
    );
    put(
        &dir.join("identities/dev.json"),
        &json!({"UserId": "AIDAEXAMPLEDEV", "Account": ACCOUNT, "Arn": format!("arn:aws:iam::{ACCOUNT}:user/dev")}),
    );
    if !with_resource_policies {
        return;
    }
    // `aws kms get-key-policy` output: a key policy that names only the role (no root delegation).
    let key_policy = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "RoleOnly", "Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "kms:Decrypt", "Resource": "*"}]});
    let key_file = KEY.replace('/', "%2F").replace(':', "%3A");
    put(
        &dir.join(format!("resource-policies/kms/{key_file}.json")),
        &json!({"Policy": key_policy.to_string(), "PolicyName": "default"}),
    );
    // `aws s3api get-bucket-policy` output: deny everyone but the role.
    let bucket_policy = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "OnlyTheFunction", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": ["arn:aws:s3:::orders-data", "arn:aws:s3:::orders-data/*"],
         "Condition": {"ArnNotEquals": {"aws:PrincipalArn": ROLE}}}]});
    put(&dir.join("resource-policies/s3/orders-data.json"), &json!({"Policy": bucket_policy.to_string()}));
}

fn diff(dir: &Path) -> Value {
    let (code, out, err) = iamfit(&[
        "diff",
        "--function",
        "orders",
        "--profile",
        "dev",
        "--snapshot",
        dir.to_str().unwrap(),
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

fn mismatch<'a>(json: &'a Value, action: &str) -> Option<&'a Value> {
    json["mismatches"].as_array()?.iter().find(|m| m["action"] == action)
}

#[test]
fn key_and_bucket_policies_block_the_developer_and_not_the_role() {
    let dir = tempfile::tempdir().unwrap();
    snapshot(dir.path(), false);
    let without = diff(dir.path());
    // Identical identity grants: nothing differs while only the identity side is known.
    assert_eq!(without["mismatches"].as_array().unwrap().len(), 0, "{without:#}");

    snapshot(dir.path(), true);
    let with = diff(dir.path());
    // AWS KMS Developer Guide, "Key policies": an identity allow counts only when the key policy
    // enables IAM policies (root delegation); this key policy names the role alone.
    // https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html
    let kms = mismatch(&with, "kms:Decrypt").expect("kms:Decrypt differs");
    assert_eq!(kms["direction"], "prod-only");
    assert_eq!(kms["local"], "implicit-deny");
    assert_eq!(kms["prod"], "allow");
    // IAM User Guide, "Policy evaluation logic": an explicit deny in a resource-based policy wins.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
    let s3 = mismatch(&with, "s3:GetObject").expect("s3:GetObject differs");
    assert_eq!(s3["direction"], "prod-only");
    assert_eq!(s3["local"], "explicit-deny");
    assert_eq!(s3["prod"], "allow");
    let layers: Vec<&Value> =
        s3["details"]["local"]["statements"].as_array().unwrap().iter().map(|s| &s["layer"]).collect();
    assert_eq!(layers, vec!["resource"], "{s3:#}");
}
