//! `iamfit generate`: the minimal policy on the demo account (checked against the CloudTrail ground
//! truth with iamfit's own authorizer), the output formats, S3 prefix summarisation, and a property:
//! the generated policy is never broader than the current grant.

use std::collections::BTreeSet;
use std::process::Command;

use proptest::prelude::*;
use serde_json::Value;

use iamfit_catalog::Catalog;
use iamfit_core::account::{Account, InlinePolicy, PolicyDocument, Role, Subject};
use iamfit_core::analyze::generate::{
    generate, policy_size, render, Format, Generated, Granularity, Options, MANAGED_POLICY_LIMIT,
};
use iamfit_core::lint::validate::{validate, PolicyKind};
use iamfit_policy::context::RequestContext;
use iamfit_policy::eval::{authorize, NamedPolicy, PolicySet, Request, Verdict};
use iamfit_policy::{Document, Policy, Severity};
use iamfit_trail::usage::{ActionUse, Usage};

fn iamfit(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_iamfit"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("AWS_PROFILE")
        .env("NO_COLOR", "1")
        .output()
        .expect("iamfit runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn allows(set: &PolicySet, action: &str, resource: &str) -> bool {
    let ctx = RequestContext::new();
    let req = Request { principal: None, action, resource, context: &ctx, resource_account: None };
    authorize(set, &req).verdict == Verdict::Allow
}

fn set_of(texts: &[String]) -> PolicySet {
    let identity = texts
        .iter()
        .enumerate()
        .map(|(i, t)| NamedPolicy::new(format!("p{i}"), Policy::parse(t).expect("the policy parses")))
        .collect();
    PolicySet { identity, ..Default::default() }
}

fn errors(text: &str) -> Vec<String> {
    validate(&Document::parse(text), PolicyKind::Identity, Catalog::get())
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{}: {}", f.code, f.message))
        .collect()
}

#[test]
fn demo_policy_allows_what_was_used_and_nothing_denied() {
    let args = ["generate", "--function", "orders", "--snapshot", "policy-fixtures/demo"];
    let (code, out, err) = iamfit(&args);
    assert_eq!(code, 0, "{err}");
    let (_, again, _) = iamfit(&args);
    assert_eq!(out, again, "two runs give the same bytes");
    assert!(policy_size(&out) <= MANAGED_POLICY_LIMIT, "{} characters", policy_size(&out));
    assert!(errors(&out).is_empty(), "{:?}", errors(&out));
    let set = set_of(std::slice::from_ref(&out));

    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/policy-fixtures/demo/cloudtrail-truth.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let t = &truth["principals"]["function:orders"];
    let mut pairs = 0;
    for (action, used) in t["actions"].as_object().unwrap() {
        for r in used["resources"].as_array().unwrap() {
            let r = r.as_str().unwrap();
            assert!(allows(&set, action, r), "{action} on {r} is not allowed by\n{out}");
            pairs += 1;
        }
    }
    assert!(pairs > 100, "{pairs}");
    for (action, denied) in t["denied"].as_object().unwrap() {
        for r in denied["resources"].as_array().unwrap() {
            assert!(!allows(&set, action, r.as_str().unwrap()), "denied {action} is allowed");
        }
        assert!(!out.contains(action.as_str()), "{action} is in the policy");
    }
    // Every action exists in the catalog.
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["Version"], "2012-10-17");
    let mut sids = BTreeSet::new();
    for st in doc["Statement"].as_array().unwrap() {
        assert!(sids.insert(st["Sid"].as_str().unwrap().to_string()), "Sids are unique");
        let actions: Vec<&str> =
            st["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
        let mut sorted = actions.clone();
        sorted.sort();
        assert_eq!(actions, sorted, "actions are sorted");
        for a in actions {
            assert!(Catalog::get().action(a).is_some(), "{a} is not in the catalog");
        }
    }
    assert!(sids.contains("DynamodbOrders"), "{sids:?}");
    // S3 objects are summarised under their common prefix, not listed one by one.
    assert!(out.contains("arn:aws:s3:::orders-invoices-111122223333/invoices/2026/11/*"), "{out}");
    assert!(!out.contains(".pdf"), "{out}");
    // Notes on stderr: the proof, the denied calls as missing.
    assert!(err.contains("proven with iamfit's evaluator"), "{err}");
    assert!(err.contains("missing: dynamodb:Scan"), "{err}");
    assert!(err.contains("missing: events:PutEvents"), "{err}");

    // `iamfit check` on the output.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.json");
    std::fs::write(&file, &out).unwrap();
    let (code, check_out, check_err) = iamfit(&["check", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{check_out}{check_err}");
    assert!(format!("{check_out}{check_err}").contains("0 error(s)"), "{check_out}{check_err}");
}

#[test]
fn demo_report_has_the_contract_keys() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let (code, _, err) = iamfit(&[
        "generate",
        "--function",
        "orders",
        "--snapshot",
        "policy-fixtures/demo",
        "--report",
        report.to_str().unwrap(),
        "--format",
        "terraform",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    for key in ["principal", "statements", "proof", "missing", "unobservable", "split", "notes"] {
        assert!(v.get(key).is_some(), "{key} in {v}");
    }
    assert_eq!(v["proof"]["broader_than_current"], 0);
    assert_eq!(v["proof"]["used_calls_allowed"], v["proof"]["used_calls"]);
    assert!(v["proof"]["checked_against_current"].as_u64().unwrap() >= 10);
    assert_eq!(v["split"], false);
    let missing: Vec<&str> =
        v["missing"].as_array().unwrap().iter().map(|m| m["action"].as_str().unwrap()).collect();
    assert_eq!(missing, ["dynamodb:Scan", "events:PutEvents"]);
    // The Lambda service's logging is never seen in CloudTrail: it is needed by the configuration
    // (Sending Lambda function logs to CloudWatch Logs), in its own statement, not "unobservable".
    let unobservable: Vec<&str> =
        v["unobservable"].as_array().unwrap().iter().map(|m| m["action"].as_str().unwrap()).collect();
    assert!(!unobservable.contains(&"logs:PutLogEvents"), "{unobservable:?}");
    let needs = v["service_needs"].as_array().unwrap();
    let logs = needs.iter().find(|n| n["action"] == "logs:PutLogEvents").unwrap();
    assert_eq!(logs["sid"], "LambdaLogs");
    assert_eq!(logs["status"], "included");
    assert_eq!(logs["resource"], "arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/orders:*");
    assert!(logs["citation"].as_str().unwrap().starts_with("https://docs.aws.amazon.com/lambda/"));
    // The role has no X-Ray grant: the tracing need is not granted, so not in the policy.
    let xray = needs.iter().find(|n| n["action"] == "xray:PutTraceSegments").unwrap();
    assert_eq!(xray["status"], "not-granted");
    assert_eq!(xray["sid"], "");
}

#[test]
fn the_lambda_services_statements_are_in_the_demo_policy_and_can_be_left_out() {
    let args = ["generate", "--function", "orders", "--snapshot", "policy-fixtures/demo"];
    let (code, out, err) = iamfit(&args);
    assert_eq!(code, 0, "{err}");
    let set = set_of(std::slice::from_ref(&out));
    // policy-fixtures/README.md: the SQS trigger on order-requests and the dead-letter topic; the
    // function's log group is /aws/lambda/orders.
    for (action, resource) in [
        ("sqs:ReceiveMessage", "arn:aws:sqs:us-east-1:111122223333:order-requests"),
        ("sqs:DeleteMessage", "arn:aws:sqs:us-east-1:111122223333:order-requests"),
        ("sqs:GetQueueAttributes", "arn:aws:sqs:us-east-1:111122223333:order-requests"),
        ("sns:Publish", "arn:aws:sns:us-east-1:111122223333:orders-dead-letters"),
        (
            "logs:PutLogEvents",
            "arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/orders:log-stream:s",
        ),
    ] {
        assert!(allows(&set, action, resource), "{action} on {resource} in\n{out}");
    }
    let doc: Value = serde_json::from_str(&out).unwrap();
    let sids: Vec<&str> =
        doc["Statement"].as_array().unwrap().iter().map(|s| s["Sid"].as_str().unwrap()).collect();
    for sid in ["LambdaLogs", "LambdaSqsTrigger", "LambdaDeadLetter"] {
        assert!(sids.contains(&sid), "{sids:?}");
    }
    assert!(err.contains("needed by the function's configuration"), "{err}");
    assert!(err.contains("xray:PutTraceSegments"), "the tracing need the role lacks is said: {err}");

    let (code, out, _) = iamfit(&[&args[..], &["--no-service-needs"]].concat());
    assert_eq!(code, 0);
    assert!(!out.contains("\"Lambda"), "{out}");
    let set = set_of(std::slice::from_ref(&out));
    assert!(!allows(&set, "sqs:ReceiveMessage", "arn:aws:sqs:us-east-1:111122223333:order-requests"));
}

#[test]
fn without_a_trail_or_with_a_bad_principal_it_fails_clearly() {
    let (code, out, err) = iamfit(&["generate", "--function", "nope", "--snapshot", "policy-fixtures/demo"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("nope"), "{err}");
    let (code, _, err) =
        iamfit(&["generate", "--principal", "not-an-arn", "--snapshot", "policy-fixtures/demo"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn principal_role_arn_loads_the_current_grant_from_the_snapshot() {
    let (code, out, err) = iamfit(&[
        "generate",
        "--principal",
        "arn:aws:iam::111122223333:role/service-role/orders-fn-role",
        "--snapshot",
        "policy-fixtures/demo",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("proven with iamfit's evaluator"), "{err}");
    assert!(!err.contains("could NOT be proven"), "{err}");
    assert!(errors(&out).is_empty());
}

// ---------------------------------------------------------------------------------------------------
// Library-level tests on synthetic usage

fn role_subject(statements: &str) -> Subject {
    let doc = format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#);
    let document = PolicyDocument::from_value(&Value::String(doc)).unwrap();
    let mut acct = Account::default();
    acct.roles.push(Role {
        name: "fn-role".into(),
        arn: "arn:aws:iam::111122223333:role/fn-role".into(),
        inline: vec![InlinePolicy { name: "current".into(), document }],
        ..Default::default()
    });
    acct.role_subject("arn:aws:iam::111122223333:role/fn-role", "fn").unwrap()
}

fn usage_of(pairs: &[(&str, &str)]) -> Usage {
    let mut u = Usage::default();
    for (action, resource) in pairs {
        let a: &mut ActionUse = u.actions.entry(action.to_string()).or_default();
        a.count += 1;
        a.resources.set.insert(resource.to_string());
        a.first_seen = "2026-11-01T00:00:00Z".into();
        a.last_seen = "2026-11-01T00:00:00Z".into();
    }
    u
}

fn resources_of(g: &Generated) -> Vec<String> {
    g.documents.iter().flat_map(|d| d.statements.iter().flat_map(|s| s.resources.clone())).collect()
}

fn opts(granularity: Granularity) -> Options {
    Options { granularity, ..Options::default() }
}

const BUCKET_ALL: &str =
    r#"{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::bucket/*"}"#;

fn invoices() -> Vec<String> {
    (0..200).map(|i| format!("arn:aws:s3:::bucket/invoices/2026/11/inv-{i:04}.pdf")).collect()
}

#[test]
fn s3_keys_are_summarised_by_granularity_and_intersected_with_the_grant() {
    let keys = invoices();
    let pairs: Vec<(&str, &str)> = keys.iter().map(|k| ("s3:GetObject", k.as_str())).collect();
    let usage = usage_of(&pairs);
    let current = role_subject(BUCKET_ALL);
    let cat = Catalog::get();

    let g = generate(&usage, Some(&current), cat, &opts(Granularity::Prefix));
    assert_eq!(resources_of(&g), ["arn:aws:s3:::bucket/invoices/2026/11/*"]);
    assert_eq!(g.proof.used_calls_allowed, 200);
    assert_eq!(g.proof.broader_than_current, 0);

    let roomy = Options { granularity: Granularity::Exact, size_limit: 100_000, ..Options::default() };
    let g = generate(&usage, Some(&current), cat, &roomy);
    assert_eq!(resources_of(&g), keys);
    // 200 ARNs of one service do not fit a managed policy: coarsened, and said so.
    let g = generate(&usage, Some(&current), cat, &opts(Granularity::Exact));
    assert_eq!(resources_of(&g), ["arn:aws:s3:::bucket/invoices/2026/11/*"]);
    assert!(g.notes.iter().any(|n| n.contains("coarsened")), "{:?}", g.notes);

    let g = generate(&usage, Some(&current), cat, &opts(Granularity::Wildcard));
    assert_eq!(resources_of(&g), ["arn:aws:s3:::bucket/*"]);

    // A narrower grant: the bucket-wide wildcard is not proven, the prefix under it is.
    let narrow = role_subject(
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/invoices/*"}"#,
    );
    let g = generate(&usage, Some(&narrow), cat, &opts(Granularity::Wildcard));
    assert_eq!(resources_of(&g), ["arn:aws:s3:::bucket/invoices/2026/11/*"]);
    assert_eq!(g.proof.broader_than_current, 0);

    // A Deny inside the prefix: the prefix cannot be proven, the keys are kept one by one.
    let denied = role_subject(&format!(
        r#"{BUCKET_ALL},{{"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/invoices/2026/11/secret*"}}"#
    ));
    let g = generate(&usage, Some(&denied), cat, &opts(Granularity::Prefix));
    assert_eq!(resources_of(&g).len(), 200);
    assert!(g.notes.iter().any(|n| n.contains("Deny")), "{:?}", g.notes);
    // A grant of only some keys: the others are missing, never granted.
    let some = role_subject(
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/invoices/2026/11/inv-00*"}"#,
    );
    let g = generate(&usage, Some(&some), cat, &opts(Granularity::Prefix));
    assert_eq!(resources_of(&g).len(), 100);
    assert_eq!(g.missing.len(), 100);
    assert_eq!(g.proof.used_calls_allowed, 100);
}

#[test]
fn split_documents_each_fit_and_validate() {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for i in 0..4 {
        pairs
            .push(("dynamodb:GetItem".into(), format!("arn:aws:dynamodb:us-east-1:111122223333:table/t{i}")));
        pairs.push(("s3:GetObject".into(), format!("arn:aws:s3:::bucket-{i}/k.json")));
        pairs.push(("sqs:SendMessage".into(), format!("arn:aws:sqs:us-east-1:111122223333:queue-{i}")));
    }
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(a, r)| (a.as_str(), r.as_str())).collect();
    let current = role_subject(r#"{"Effect":"Allow","Action":["dynamodb:*","s3:*","sqs:*"],"Resource":"*"}"#);
    let small = Options { granularity: Granularity::Exact, size_limit: 700, ..Options::default() };
    let whole = generate(&usage_of(&pairs), Some(&current), Catalog::get(), &Options::default());
    assert!(whole.documents[0].size() > 700, "{}", whole.documents[0].size());
    let g = generate(&usage_of(&pairs), Some(&current), Catalog::get(), &small);
    assert!(g.split);
    assert!(g.documents.len() >= 2, "{:?}", g.documents);
    for d in &g.documents {
        assert!(d.size() <= 700, "{}", d.size());
        let text = serde_json::to_string_pretty(&d.to_json()).unwrap();
        assert!(errors(&text).is_empty(), "{:?}", errors(&text));
    }
    assert!(g.notes.iter().any(|n| n.contains("split by service")), "{:?}", g.notes);
    assert_eq!(g.proof.used_calls_allowed, g.proof.used_calls);
    assert_eq!(g.statement_count(), whole.statement_count());
}

#[test]
fn actions_without_resource_level_permissions_get_star_and_unknown_resources_use_the_grant() {
    let mut usage = usage_of(&[("sqs:ListQueues", "*")]);
    let a = usage.actions.entry("sqs:SendMessage".into()).or_default();
    a.count = 3;
    a.resources.unknown = 3;
    let current = role_subject(
        r#"{"Effect":"Allow","Action":["sqs:ListQueues","sqs:SendMessage"],"Resource":"arn:aws:sqs:us-east-1:111122223333:orders-*"},
           {"Effect":"Allow","Action":"sqs:ListQueues","Resource":"*"}"#,
    );
    let g = generate(&usage, Some(&current), Catalog::get(), &Options::default());
    let doc = g.documents[0].to_json();
    let sts = doc["Statement"].as_array().unwrap();
    let list = sts.iter().find(|s| s["Action"][0] == "sqs:ListQueues").unwrap();
    assert_eq!(list["Resource"], serde_json::json!(["*"]));
    let send = sts.iter().find(|s| s["Action"][0] == "sqs:SendMessage").unwrap();
    assert_eq!(send["Resource"], serde_json::json!(["arn:aws:sqs:us-east-1:111122223333:orders-*"]));
    assert!(g.notes.iter().any(|n| n.contains("did not name their resource")), "{:?}", g.notes);
}

#[test]
fn without_the_current_grant_it_says_nothing_was_proven() {
    let usage = usage_of(&[("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:111122223333:table/orders")]);
    let g = generate(&usage, None, Catalog::get(), &Options::default());
    assert!(g.notes[0].contains("could NOT be proven"), "{:?}", g.notes);
    assert_eq!(g.proof.checked_against_current, 0);
    assert_eq!(resources_of(&g), ["arn:aws:dynamodb:us-east-1:111122223333:table/orders"]);
}

fn small() -> Generated {
    let usage = usage_of(&[
        ("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:111122223333:table/orders"),
        ("dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:111122223333:table/orders"),
        ("s3:GetObject", "arn:aws:s3:::bucket/a.json"),
    ]);
    let current =
        role_subject(&format!(r#"{BUCKET_ALL},{{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}}"#));
    generate(&usage, Some(&current), Catalog::get(), &Options::default())
}

#[test]
fn iam_json_is_pretty_and_sorted() {
    let text = render(&small(), Format::Iam, "orders");
    let expected = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "DynamodbOrders",
      "Effect": "Allow",
      "Action": [
        "dynamodb:GetItem",
        "dynamodb:PutItem"
      ],
      "Resource": [
        "arn:aws:dynamodb:us-east-1:111122223333:table/orders"
      ]
    },
    {
      "Sid": "S3Bucket",
      "Effect": "Allow",
      "Action": [
        "s3:GetObject"
      ],
      "Resource": [
        "arn:aws:s3:::bucket/a.json"
      ]
    }
  ]
}
"#;
    assert_eq!(text, expected);
}

#[test]
fn sam_policies_yaml() {
    let text = render(&small(), Format::Sam, "orders");
    let expected = r#"Policies:
  - Version: "2012-10-17"
    Statement:
      - Sid: DynamodbOrders
        Effect: Allow
        Action:
          - dynamodb:GetItem
          - dynamodb:PutItem
        Resource:
          - arn:aws:dynamodb:us-east-1:111122223333:table/orders
      - Sid: S3Bucket
        Effect: Allow
        Action:
          - s3:GetObject
        Resource:
          - arn:aws:s3:::bucket/a.json
"#;
    assert_eq!(text, expected);
}

#[test]
fn cloudformation_managed_policy_yaml() {
    let text = render(&small(), Format::Cloudformation, "orders");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Resources:");
    assert_eq!(lines[1], "  OrdersMinimalPolicy:");
    assert_eq!(lines[2], "    Type: AWS::IAM::ManagedPolicy");
    assert_eq!(lines[3], "    Properties:");
    assert!(lines[4].starts_with("      Description: "), "{}", lines[4]);
    let doc_at = lines.iter().position(|l| *l == "      PolicyDocument:").unwrap();
    assert_eq!(lines[doc_at + 1], "        Version: \"2012-10-17\"");
    assert_eq!(lines[doc_at + 2], "        Statement:");
    assert_eq!(lines[doc_at + 3], "          - Sid: DynamodbOrders");
    assert_eq!(lines[doc_at + 4], "            Effect: Allow");
    assert_eq!(lines[doc_at + 5], "            Action:");
    assert_eq!(lines[doc_at + 6], "              - dynamodb:GetItem");
    // Every non-comment line of the block is indented by an even number of spaces (YAML structure).
    for l in &lines {
        let indent = l.len() - l.trim_start().len();
        assert_eq!(indent % 2, 0, "{l}");
    }
}

#[test]
fn yaml_quotes_what_must_be_quoted() {
    let usage = usage_of(&[("sqs:ListQueues", "*")]);
    let current = role_subject(r#"{"Effect":"Allow","Action":"sqs:ListQueues","Resource":"*"}"#);
    let g = generate(&usage, Some(&current), Catalog::get(), &Options::default());
    let text = render(&g, Format::Sam, "f");
    assert!(text.contains("          - \"*\"\n"), "a bare * would be a YAML alias:\n{text}");
}

#[test]
fn terraform_statement_blocks() {
    let text = render(&small(), Format::Terraform, "orders-fn");
    let expected = r#"data "aws_iam_policy_document" "orders_fn" {
  statement {
    sid       = "DynamodbOrders"
    effect    = "Allow"
    actions   = [
      "dynamodb:GetItem",
      "dynamodb:PutItem",
    ]
    resources = [
      "arn:aws:dynamodb:us-east-1:111122223333:table/orders",
    ]
  }

  statement {
    sid       = "S3Bucket"
    effect    = "Allow"
    actions   = [
      "s3:GetObject",
    ]
    resources = [
      "arn:aws:s3:::bucket/a.json",
    ]
  }
}
"#;
    assert_eq!(text, expected);
    assert_eq!(text.matches("statement {").count(), 2);
}

// ---------------------------------------------------------------------------------------------------
// Property: never broader than the current grant

const ACTIONS: &[&str] = &["s3:GetObject", "s3:PutObject", "dynamodb:GetItem", "sqs:ListQueues"];
const PATTERNS: &[&str] = &[
    "*",
    "arn:aws:s3:::b/*",
    "arn:aws:s3:::b/a/*",
    "arn:aws:s3:::b/a/x",
    "arn:aws:s3:::b/a/?",
    "arn:aws:s3:::b/c/*",
    "arn:aws:s3:::b/*/y",
    "arn:aws:dynamodb:us-east-1:1:table/t",
    "arn:aws:dynamodb:us-east-1:1:table/*",
    "arn:aws:dynamodb:*:1:table/t*",
];
const RESOURCES: &[&str] = &[
    "arn:aws:s3:::b/a/x",
    "arn:aws:s3:::b/a/y",
    "arn:aws:s3:::b/a/z",
    "arn:aws:s3:::b/a/w",
    "arn:aws:s3:::b/c/x",
    "arn:aws:s3:::b/c/y",
    "arn:aws:s3:::b/c/z",
    "arn:aws:dynamodb:us-east-1:1:table/t",
    "arn:aws:dynamodb:us-east-1:1:table/u",
];
const PROBES: &[&str] = &[
    "arn:aws:s3:::b/a/secret",
    "arn:aws:s3:::b/a/",
    "arn:aws:s3:::b/d/y",
    "arn:aws:s3:::b/c/deep/y",
    "arn:aws:s3:::other/a/x",
    "arn:aws:dynamodb:us-east-1:1:table/tt",
    "arn:aws:dynamodb:eu-west-1:1:table/t",
    "*",
];

fn statement_strategy() -> impl Strategy<Value = String> {
    (
        prop::bool::weighted(0.75),
        prop::sample::subsequence(ACTIONS.to_vec(), 1..=3),
        prop::sample::subsequence(PATTERNS.to_vec(), 1..=3),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(allow, actions, resources, not_resource)| {
            serde_json::json!({
                "Effect": if allow { "Allow" } else { "Deny" },
                "Action": actions,
                if not_resource { "NotResource" } else { "Resource" }: resources,
            })
            .to_string()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn generated_is_never_broader_than_current(
        statements in prop::collection::vec(statement_strategy(), 1..5),
        used in prop::collection::vec((0..ACTIONS.len(), 0..RESOURCES.len()), 1..12),
        granularity in prop::sample::select(vec![Granularity::Exact, Granularity::Prefix, Granularity::Wildcard]),
    ) {
        let current = role_subject(&statements.join(","));
        let pairs: Vec<(&str, &str)> = used
            .iter()
            .map(|(a, r)| (ACTIONS[*a], if ACTIONS[*a] == "sqs:ListQueues" { "*" } else { RESOURCES[*r] }))
            .collect();
        let g = generate(&usage_of(&pairs), Some(&current), Catalog::get(), &opts(granularity));
        prop_assert_eq!(g.proof.broader_than_current, 0);
        let texts: Vec<String> = g
            .documents
            .iter()
            .filter(|d| !d.statements.is_empty())
            .map(|d| serde_json::to_string(&d.to_json()).unwrap())
            .collect();
        let generated = set_of(&texts);
        let ctx = RequestContext::new();
        for action in ACTIONS {
            // Without resource-level permissions AWS always evaluates the action on `*`.
            let resource_level = Catalog::get().action(action).unwrap().supports_resource_level_permissions();
            let probes: Vec<&str> =
                if resource_level { RESOURCES.iter().chain(PROBES).copied().collect() } else { vec!["*"] };
            for probe in probes {
                let req = Request {
                    principal: Some(&current.principal),
                    action,
                    resource: probe,
                    context: &ctx,
                    resource_account: None,
                };
                let gen_allows = authorize(&generated, &req).verdict == Verdict::Allow;
                let cur_allows = authorize(&current.policies, &req).verdict == Verdict::Allow;
                prop_assert!(!gen_allows || cur_allows, "{} on {} allowed by generated {:?}, not by current {:?}", action, probe, texts, statements);
            }
        }
        // Every used call the current role allows is allowed by the generated policy.
        for (action, resource) in &pairs {
            let req = Request { principal: Some(&current.principal), action, resource, context: &ctx, resource_account: None };
            if authorize(&current.policies, &req).verdict == Verdict::Allow {
                prop_assert!(authorize(&generated, &req).verdict == Verdict::Allow, "{} on {} lost", action, resource);
            }
        }
    }
}
