//! The resource-based layer in `generate`'s proof and in `usage` coverage: a developer whose identity
//! policy allows `kms:Decrypt` on a key and `s3:GetObject` in a bucket, while the key policy names only
//! the function's role and the bucket policy denies everyone but the role. Expectations written by hand
//! from the AWS documentation cited at each assertion.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use iamfit_catalog::Catalog;
use iamfit_core::account::resources::{ResourcePolicy, ResourceService};
use iamfit_core::account::{Account, CallerIdentity, InlinePolicy, PolicyDocument, Role, Subject, User};
use iamfit_core::analyze::generate::{generate, Options};
use iamfit_core::analyze::service_needs::ServiceNeeds;
use iamfit_core::analyze::usage::coverage_report;
use iamfit_core::source::Replay;
use iamfit_trail::usage::Usage;
use serde_json::json;

const ACCOUNT: &str = "111122223333";
const ROLE: &str = "arn:aws:iam::111122223333:role/orders-role";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const OBJECT: &str = "arn:aws:s3:::orders-data/2026/a.json";

fn doc(v: serde_json::Value) -> PolicyDocument {
    PolicyDocument::from_value(&v).unwrap()
}

fn account() -> Account {
    let grant = doc(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::orders-data/*"}]}));
    let mut a = Account::default();
    a.users.push(User {
        name: "dev".into(),
        arn: format!("arn:aws:iam::{ACCOUNT}:user/dev"),
        inline: vec![InlinePolicy { name: "dev".into(), document: grant.clone() }],
        ..Default::default()
    });
    a.roles.push(Role {
        name: "orders-role".into(),
        arn: ROLE.into(),
        inline: vec![InlinePolicy { name: "fn".into(), document: grant }],
        ..Default::default()
    });
    a.resource_policies.push(ResourcePolicy {
        service: ResourceService::Kms,
        arn: KEY.into(),
        document: doc(json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "RoleOnly", "Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "kms:*", "Resource": "*"}]})),
    });
    a.resource_policies.push(ResourcePolicy {
        service: ResourceService::S3,
        arn: "arn:aws:s3:::orders-data".into(),
        document: doc(json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "OnlyTheFunction", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": ["arn:aws:s3:::orders-data", "arn:aws:s3:::orders-data/*"],
             "Condition": {"ArnNotEquals": {"aws:PrincipalArn": ROLE}}}]})),
    });
    a
}

fn dev(a: &Account) -> Subject {
    let id = CallerIdentity {
        account: ACCOUNT.into(),
        arn: format!("arn:aws:iam::{ACCOUNT}:user/dev"),
        user_id: String::new(),
    };
    a.identity_subject(&id).unwrap()
}

fn usage() -> Usage {
    let mut u = Usage::default();
    for (action, resource) in [("kms:Decrypt", KEY), ("s3:GetObject", OBJECT)] {
        let a = u.actions.entry(action.to_string()).or_default();
        a.count = 1;
        a.resources.add(resource);
        a.first_seen = "2026-11-01T00:00:00Z".into();
        a.last_seen = "2026-11-01T00:00:00Z".into();
        u.calls.entry((action.to_string(), resource.to_string())).or_default().count = 1;
    }
    u.matched = 2;
    u
}

#[test]
fn generate_reports_what_the_key_and_bucket_policies_still_block() {
    let a = account();
    let subject = dev(&a);
    let g = generate(&usage(), Some(&subject), Catalog::embedded(), &Options::default());
    let mut found: Vec<_> = g
        .missing_in_resource_policies
        .iter()
        .map(|m| (m.action.as_str(), m.resource.as_str(), m.layer, m.denied_by.clone()))
        .collect();
    found.sort();
    // AWS KMS Developer Guide, "Key policies": without root delegation in the key policy, no
    // identity policy gives access; the key policy must name the principal.
    // https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html
    // IAM User Guide, "Policy evaluation logic": the bucket policy's explicit Deny wins over any allow.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
    assert_eq!(
        found,
        vec![
            ("kms:Decrypt", KEY, "resource", None),
            ("s3:GetObject", OBJECT, "resource", Some("OnlyTheFunction".to_string())),
        ],
        "{:#?}",
        g.missing_in_resource_policies
    );
    let key = &g.missing_in_resource_policies[0];
    assert_eq!(
        key.statement,
        json!({"Sid": "AllowKey1234abcd", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:user/dev")}, "Action": "kms:Decrypt", "Resource": "*"})
    );
    // The identity policy is still generated for both calls: the block is on the resource's side.
    assert_eq!(g.proof.used_calls_allowed, 2);
}

#[test]
fn generate_for_the_role_finds_nothing_blocked() {
    let a = account();
    let role = a.role_subject(ROLE, "orders").unwrap();
    let g = generate(&usage(), Some(&role), Catalog::embedded(), &Options::default());
    assert!(g.missing_in_resource_policies.is_empty(), "{:#?}", g.missing_in_resource_policies);
}

#[test]
fn usage_coverage_decides_each_call_with_the_resource_policy() {
    let a = account();
    let replay = Replay { usage: usage(), ..Default::default() };
    let decided = |s: &Subject| {
        let mut v: Vec<_> = coverage_report(s, &replay, &ServiceNeeds::default(), Catalog::embedded())
            .calls
            .into_iter()
            .map(|c| (c.action, c.decision, c.layer, c.resource_policy))
            .collect();
        v.sort();
        v
    };
    // Same pages as above: the key policy and the bucket policy decide for the developer.
    assert_eq!(
        decided(&dev(&a)),
        vec![
            ("kms:Decrypt".to_string(), "implicit-deny", Some("resource".to_string()), true),
            ("s3:GetObject".to_string(), "explicit-deny", Some("resource".to_string()), true),
        ]
    );
    let role = a.role_subject(ROLE, "orders").unwrap();
    assert_eq!(
        decided(&role),
        vec![
            ("kms:Decrypt".to_string(), "allow", None, true),
            ("s3:GetObject".to_string(), "allow", None, true)
        ]
    );
}

/// A policy in play that could not be read is a note on the subjects and makes them partial.
#[test]
fn an_unread_policy_makes_the_subject_partial() {
    use iamfit_core::account::resources::{InPlay, Unread};
    let mut a = account();
    a.resource_policies.clear();
    let key = InPlay::of_arn(KEY).unwrap();
    a.unread_resource_policies.push(Unread { resource: key, why: "kms:GetKeyPolicy denied".into() });
    let s = dev(&a);
    assert!(s.partial);
    assert!(
        s.notes.iter().any(|n| n.contains("could not be read (kms:GetKeyPolicy denied)")),
        "{:?}",
        s.notes
    );
}
