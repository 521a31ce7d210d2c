//! Unit tests of the diff engine on hand-written policies. Expectations follow the IAM User Guide,
//! "Policy evaluation logic" (an explicit deny wins; a boundary must allow too), worked out by hand.

use super::*;

pub(super) fn subject(account: &str, kind: &str, statements: &str) -> Subject {
    let doc = format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#);
    let document = crate::account::PolicyDocument::from_value(&serde_json::Value::String(doc)).unwrap();
    let mut acct = crate::account::Account::default();
    let inline = vec![crate::account::InlinePolicy { name: "p".into(), document }];
    if kind == "role" {
        acct.roles.push(crate::account::Role {
            name: "r".into(),
            arn: format!("arn:aws:iam::{account}:role/r"),
            inline,
            ..Default::default()
        });
        acct.role_subject(&format!("arn:aws:iam::{account}:role/r"), "fn").unwrap()
    } else {
        acct.users.push(crate::account::User {
            name: "dev".into(),
            arn: format!("arn:aws:iam::{account}:user/dev"),
            inline,
            ..Default::default()
        });
        let id = crate::account::CallerIdentity {
            account: account.into(),
            arn: format!("arn:aws:iam::{account}:user/dev"),
            user_id: String::new(),
        };
        acct.identity_subject(&id).unwrap()
    }
}

#[test]
fn resources_differing_only_by_account_are_the_same_resource() {
    let prod = subject(
        "999988887777",
        "role",
        r#"{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"arn:aws:dynamodb:us-east-1:999988887777:table/orders-prod"}"#,
    );
    let local = subject(
        "111122223333",
        "user",
        r#"{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"arn:aws:dynamodb:us-east-1:111122223333:table/orders-dev"}"#,
    );
    let catalog = Catalog::embedded();
    let listed = |c: &Comparison| {
        c.mismatches.iter().map(|m| (m.action.clone(), m.resource.clone())).collect::<Vec<_>>()
    };
    let none = diff(&local, &prod, catalog, &Normalization::default());
    assert_eq!(none.mismatches.len(), 2, "without normalisation both tables differ: {:?}", listed(&none));
    let accounts_only =
        Normalization { accounts: Some(("999988887777".into(), "111122223333".into())), names: vec![] };
    assert_eq!(diff(&local, &prod, catalog, &accounts_only).mismatches.len(), 2, "the names still differ");
    let both = Normalization {
        accounts: accounts_only.accounts.clone(),
        names: vec![("prod".into(), "dev".into())],
    };
    let d = diff(&local, &prod, catalog, &both);
    assert!(d.mismatches.is_empty(), "{:?}", listed(&d));
}

const ACCOUNT: &str = "111122223333";
const ORDERS: &str = "arn:aws:dynamodb:us-east-1:111122223333:table/orders";

/// A role with an inline policy and, optionally, a managed permissions boundary.
fn role_with_boundary(statements: &str, boundary: Option<&str>) -> Subject {
    let doc = |s: &str| {
        let text = format!(r#"{{"Version":"2012-10-17","Statement":[{s}]}}"#);
        crate::account::PolicyDocument::from_value(&serde_json::Value::String(text)).unwrap()
    };
    let mut acct = crate::account::Account::default();
    let boundary_arn = format!("arn:aws:iam::{ACCOUNT}:policy/boundary");
    if let Some(b) = boundary {
        acct.policies.push(crate::account::ManagedPolicy {
            name: "boundary".into(),
            arn: boundary_arn.clone(),
            version: "v1".into(),
            document: doc(b),
        });
    }
    acct.roles.push(crate::account::Role {
        name: "fn-role".into(),
        arn: format!("arn:aws:iam::{ACCOUNT}:role/fn-role"),
        inline: vec![crate::account::InlinePolicy { name: "runtime".into(), document: doc(statements) }],
        boundary: boundary.map(|_| boundary_arn),
        ..Default::default()
    });
    acct.role_subject(&format!("arn:aws:iam::{ACCOUNT}:role/fn-role"), "fn").unwrap()
}

fn usage_of(calls: &[(&str, &str, Option<iamfit_trail::usage::CallContext>)]) -> Usage {
    let mut u = Usage::default();
    for (action, resource, context) in calls {
        let c = u.calls.entry((action.to_string(), resource.to_string())).or_default();
        c.count += 1;
        if let Some(ctx) = context {
            c.contexts.insert(ctx.clone());
        }
    }
    u
}

fn listed<'a>(c: &'a Comparison, action: &str) -> Vec<(&'a str, Direction, Verdict, Verdict, bool)> {
    let mut out: Vec<_> = c
        .mismatches
        .iter()
        .filter(|m| m.action == action)
        .map(|m| {
            (m.resource.as_str(), m.direction, m.local.decision.verdict, m.prod.decision.verdict, m.used)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(b.0));
    out
}

/// The issue's case: the role has `dynamodb:*Item` on the orders table and an explicit deny of
/// `DeleteItem` there; the developer may `DeleteItem` on the orders table and on `dev-*` tables. Both
/// witnesses differ (IAM User Guide, "Policy evaluation logic": an explicit deny overrides the
/// allow; no statement of the role names `dev-*`), and neither `table/orders/index/*` nor a bare
/// `*` is a witness of an item action (Service Authorization Reference, DynamoDB: `DeleteItem` acts
/// on the `table` resource type only).
#[test]
fn every_witness_of_an_action_is_listed() {
    let prod = subject(
        ACCOUNT,
        "role",
        r#"{"Effect":"Allow","Action":"dynamodb:*Item","Resource":["arn:aws:dynamodb:us-east-1:111122223333:table/orders","arn:aws:dynamodb:us-east-1:111122223333:table/orders/index/*"]},
           {"Effect":"Deny","Action":"dynamodb:DeleteItem","Resource":"arn:aws:dynamodb:us-east-1:111122223333:table/orders"}"#,
    );
    let local = subject(
        ACCOUNT,
        "user",
        r#"{"Effect":"Allow","Action":"dynamodb:DeleteItem","Resource":["arn:aws:dynamodb:us-east-1:111122223333:table/orders","arn:aws:dynamodb:us-east-1:111122223333:table/dev-*"]}"#,
    );
    let c = diff(&local, &prod, Catalog::embedded(), &Normalization::default());
    assert_eq!(
        listed(&c, "dynamodb:DeleteItem"),
        vec![
            (
                "arn:aws:dynamodb:us-east-1:111122223333:table/dev-*",
                Direction::LocalOnly,
                Verdict::Allow,
                Verdict::ImplicitDeny,
                false
            ),
            (ORDERS, Direction::LocalOnly, Verdict::Allow, Verdict::ExplicitDeny, false),
        ]
    );
    // The role's other item actions on the orders table are prod-only; none on an index.
    let get = listed(&c, "dynamodb:GetItem");
    assert_eq!(get, vec![(ORDERS, Direction::ProdOnly, Verdict::ImplicitDeny, Verdict::Allow, false)]);
    for item_action in ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    {
        assert!(
            listed(&c, item_action).iter().all(|m| !m.0.contains("/index/")),
            "{item_action} on an index"
        );
    }
}

/// `used` per resource: a call on a resource both sides allow is no use of a mismatch on `*`; a
/// call on the denied table is a use of the witness that covers it and of no other.
#[test]
fn used_only_for_the_witness_the_trail_shows() {
    let prod = subject(
        ACCOUNT,
        "role",
        r#"{"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:DeleteItem"],"Resource":"arn:aws:dynamodb:us-east-1:111122223333:table/orders"},
           {"Effect":"Deny","Action":"dynamodb:DeleteItem","Resource":"arn:aws:dynamodb:us-east-1:111122223333:table/orders"}"#,
    );
    let local = subject(
        ACCOUNT,
        "user",
        r#"{"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:DeleteItem"],"Resource":"*"}"#,
    );
    let usage = usage_of(&[("dynamodb:GetItem", ORDERS, None), ("dynamodb:DeleteItem", ORDERS, None)]);
    let c =
        compare(&local, &prod, Catalog::embedded(), &Normalization::default(), &Observed::from_usage(&usage));
    // GetItem: both allow on table/orders, so the mismatch on any other table is not used.
    assert_eq!(
        listed(&c, "dynamodb:GetItem"),
        vec![(
            "arn:aws:dynamodb:*:*:table/*",
            Direction::LocalOnly,
            Verdict::Allow,
            Verdict::ImplicitDeny,
            false
        )]
    );
    // DeleteItem: the explicit deny on table/orders is what the function hit.
    assert_eq!(
        listed(&c, "dynamodb:DeleteItem"),
        vec![
            (
                "arn:aws:dynamodb:*:*:table/*",
                Direction::LocalOnly,
                Verdict::Allow,
                Verdict::ImplicitDeny,
                false
            ),
            (ORDERS, Direction::LocalOnly, Verdict::Allow, Verdict::ExplicitDeny, true),
        ]
    );
}

fn via(service: Option<&str>, source: &str, tls: bool) -> iamfit_trail::usage::CallContext {
    iamfit_trail::usage::CallContext {
        source: Some(source.to_string()),
        tls,
        invoked_by: service.map(str::to_string),
        vpc_endpoint: None,
        region: Some("us-east-1".into()),
    }
}

/// The calls section: `kms:ViaService` from `invokedBy` ("kms:ViaService", AWS KMS Developer Guide:
/// `SERVICE.REGION.amazonaws.com` when a service calls KMS on the principal's behalf; absent on a
/// direct call), and `aws:SourceIp` from `sourceIPAddress` (IAM User Guide, "AWS: Denies access to
/// AWS based on the source IP": a Deny with `NotIpAddress` refuses calls from other addresses).
#[test]
fn calls_are_evaluated_with_the_context_of_their_events() {
    const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/k1";
    let prod = subject(
        ACCOUNT,
        "role",
        r#"{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:us-east-1:111122223333:key/k1","Condition":{"StringEquals":{"kms:ViaService":"secretsmanager.us-east-1.amazonaws.com"}}},
           {"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"},
           {"Effect":"Deny","Action":"sqs:SendMessage","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}"#,
    );
    let local = subject(
        ACCOUNT,
        "user",
        r#"{"Effect":"Allow","Action":["kms:Decrypt","sqs:SendMessage"],"Resource":"*"}"#,
    );
    let inside = "arn:aws:sqs:us-east-1:111122223333:inside";
    let outside = "arn:aws:sqs:us-east-1:111122223333:outside";
    let direct_key = "arn:aws:kms:us-east-1:111122223333:key/k2";
    let usage = usage_of(&[
        (
            "kms:Decrypt",
            KEY,
            Some(via(Some("secretsmanager.amazonaws.com"), "secretsmanager.amazonaws.com", false)),
        ),
        ("kms:Decrypt", direct_key, Some(via(None, "203.0.113.9", true))),
        ("sqs:SendMessage", inside, Some(via(None, "203.0.113.9", true))),
        ("sqs:SendMessage", outside, Some(via(None, "198.51.100.7", true))),
    ]);
    let calls = calls::evaluate_calls(&local, &prod, &usage, &Normalization::default());
    let find = |a: &str, r: &str| calls.iter().find(|c| c.action == a && c.resource == r).unwrap();
    let secret_decrypt = find("kms:Decrypt", KEY);
    assert_eq!(secret_decrypt.prod.decision.verdict, Verdict::Allow);
    assert!(!secret_decrypt.prod.conditional, "kms:ViaService is known from the event");
    assert_eq!(
        secret_decrypt.context.get("kms:ViaService").map(String::as_str),
        Some("secretsmanager.us-east-1.amazonaws.com")
    );
    // A direct call has no kms:ViaService and the role names no other key: implicit deny.
    assert_eq!(find("kms:Decrypt", direct_key).prod.decision.verdict, Verdict::ImplicitDeny);
    assert_eq!(find("sqs:SendMessage", inside).prod.decision.verdict, Verdict::Allow);
    let out = find("sqs:SendMessage", outside);
    assert_eq!(out.prod.decision.verdict, Verdict::ExplicitDeny);
    assert_eq!(out.context.get("aws:SourceIp").map(String::as_str), Some("198.51.100.7"));
    // Locally the address is unknown (and the local user has no such deny): said, not guessed.
    assert!(out.assumed.iter().any(|a| a.contains("local aws:SourceIp unknown")), "{:?}", out.assumed);
    assert_eq!(out.local.decision.verdict, Verdict::Allow);
}

/// A proposal for a call blocked twice (no identity grant, and a boundary without the service):
/// both steps, and the role with both applied allows exactly that call (IAM User Guide,
/// "Permissions boundaries for IAM entities": the effective permissions are the intersection).
#[test]
fn a_proposal_applied_to_the_role_allows_the_call() {
    const BUS: &str = "arn:aws:events:us-east-1:111122223333:event-bus/default";
    let boundary = r#"{"Effect":"Allow","Action":["dynamodb:*","s3:*"],"Resource":"*"}"#;
    let grants = r#"{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*"}"#;
    let prod = role_with_boundary(grants, Some(boundary));
    let ctx = RequestContext::new();
    let steps = proposals::least_change(
        &prod,
        proposals::Target { action: "events:PutEvents", resource: BUS, context: &ctx },
    );
    let layers: Vec<(&str, &str, bool)> =
        steps.iter().map(|s| (s.layer.as_str(), s.change, s.verified)).collect();
    assert_eq!(layers, vec![("identity", "add-statement", true), ("boundary", "add-statement", true)]);
    let statement = steps[0].statement.clone().unwrap();
    assert_eq!(statement["Action"], "events:PutEvents");
    assert_eq!(statement["Resource"], BUS, "the real ARN, not a pattern");
    // Apply the two statements to the role and its boundary, then evaluate the call again.
    let with = |doc: &str, st: &serde_json::Value| format!("{doc},{st}");
    let fixed = role_with_boundary(
        &with(grants, &statement),
        Some(&with(boundary, steps[1].statement.as_ref().unwrap())),
    );
    let req = |resource| Request {
        principal: Some(&fixed.principal),
        action: "events:PutEvents",
        resource,
        context: &ctx,
        resource_account: None,
    };
    assert_eq!(iamfit_policy::eval::authorize(&fixed.policies, &req(BUS)).verdict, Verdict::Allow);
    // Exactly that call: another bus stays denied.
    let other = "arn:aws:events:us-east-1:111122223333:event-bus/other";
    assert_eq!(iamfit_policy::eval::authorize(&fixed.policies, &req(other)).verdict, Verdict::ImplicitDeny);
}

/// An explicit deny that names exactly the resource: the proposal removes that resource from the
/// statement, which keeps denying the others.
#[test]
fn an_exact_deny_entry_is_removed_and_the_rest_kept() {
    let prod = subject(
        ACCOUNT,
        "role",
        r#"{"Effect":"Allow","Action":"dynamodb:DeleteItem","Resource":"*"},
           {"Sid":"Guard","Effect":"Deny","Action":"dynamodb:DeleteItem","Resource":["arn:aws:dynamodb:us-east-1:111122223333:table/orders","arn:aws:dynamodb:us-east-1:111122223333:table/payments"]}"#,
    );
    let ctx = RequestContext::new();
    let steps = proposals::least_change(
        &prod,
        proposals::Target { action: "dynamodb:DeleteItem", resource: ORDERS, context: &ctx },
    );
    assert_eq!(steps.len(), 1);
    assert_eq!(
        (steps[0].blocked_by, steps[0].change, steps[0].verified),
        ("explicit-deny", "remove-resource", true)
    );
    assert_eq!(
        steps[0].statement.as_ref().unwrap()["Resource"],
        "arn:aws:dynamodb:us-east-1:111122223333:table/payments"
    );
}
