//! `iamfit diff` on the bundled demo account, against the mismatches designed by hand in
//! `policy-fixtures/README.md` (not computed with iamfit's evaluator).

use crate::support;

use serde_json::Value;
use support::iamfit;

fn demo_json() -> Value {
    let (code, out, err) = iamfit(&[
        "diff",
        "--function",
        "orders",
        "--profile",
        "dev",
        "--snapshot",
        "policy-fixtures/demo",
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).expect("JSON output")
}

fn find<'a>(json: &'a Value, direction: &str, action: &str) -> Option<&'a Value> {
    json["mismatches"].as_array()?.iter().find(|m| m["direction"] == direction && m["action"] == action)
}

#[test]
fn designed_local_only_mismatches_are_found() {
    let json = demo_json();
    // (action, prod decision) from policy-fixtures/README.md, L1..L8.
    let expected = [
        ("dynamodb:Scan", "explicit-deny"),
        ("dynamodb:GetItem", "explicit-deny"),
        ("dynamodb:Query", "explicit-deny"),
        ("sqs:SendMessage", "implicit-deny"),
        ("events:PutEvents", "implicit-deny"),
        ("cloudwatch:PutMetricData", "implicit-deny"),
        ("lambda:InvokeFunction", "implicit-deny"),
        ("logs:FilterLogEvents", "implicit-deny"),
    ];
    for (action, prod) in expected {
        let m = find(&json, "local-only", action).unwrap_or_else(|| panic!("missing local-only {action}"));
        assert_eq!(m["local"], "allow", "{action}");
        assert_eq!(m["prod"], prod, "{action}: {m}");
    }
    let scan = find(&json, "local-only", "dynamodb:Scan").unwrap();
    assert!(scan["resource"].as_str().unwrap().contains(":table/orders"), "{scan}");
    assert!(scan["details"]["prod"]["statements"].to_string().contains("DenyTableScans"), "{scan}");
    let payments = find(&json, "local-only", "dynamodb:GetItem").unwrap();
    assert!(payments["resource"].as_str().unwrap().contains("table/payments"), "{payments}");
    let metrics = find(&json, "local-only", "cloudwatch:PutMetricData").unwrap();
    assert!(
        metrics["details"]["prod"]["reason"].as_str().unwrap().contains("boundary"),
        "the boundary removes it: {metrics}"
    );
    let queue = find(&json, "local-only", "sqs:SendMessage").unwrap();
    assert!(queue["resource"].as_str().unwrap().contains(":dev-"), "{queue}");
}

#[test]
fn what_the_lambda_service_needs_is_set_aside() {
    let json = demo_json();
    let aside = json["configuration"].as_array().expect("the configuration list");
    let of = |direction: &str, action: &str| {
        aside.iter().find(|m| m["direction"] == direction && m["action"] == action).cloned()
    };
    // L6: tracing is Active, the role has no X-Ray grant: the Lambda service's own permission
    // (Visualize Lambda function invocations using AWS X-Ray), not a surprise for the code.
    for action in ["xray:PutTraceSegments", "xray:PutTelemetryRecords"] {
        let m = of("local-only", action).unwrap_or_else(|| panic!("{action} set aside"));
        assert_eq!(
            (m["local"].as_str(), m["prod"].as_str(), m["sid"].as_str()),
            (Some("allow"), Some("implicit-deny"), Some("LambdaTracing"))
        );
        assert!(find(&json, "local-only", action).is_none(), "{action} is not counted as a mismatch");
    }
    // The SQS trigger on order-requests: the role polls it, dev cannot (Creating and configuring an
    // Amazon SQS event source mapping: sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes).
    for action in ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"] {
        let m = of("prod-only", action).unwrap_or_else(|| panic!("{action} set aside"));
        assert_eq!(m["resource"], "arn:aws:sqs:us-east-1:111122223333:order-requests");
        assert_eq!(m["sid"], "LambdaSqsTrigger");
        assert!(find(&json, "prod-only", action).is_none());
    }
    // The dead-letter topic: Lambda publishes discarded asynchronous events to it (Retaining records
    // of asynchronous invocations: the execution role needs sns:Publish on the topic). Every witness
    // is compared, so the role's grant on that topic is a witness of its own, and it is set aside.
    let dlq = of("prod-only", "sns:Publish").expect("the dead-letter topic set aside");
    assert_eq!(dlq["resource"], "arn:aws:sns:us-east-1:111122223333:orders-dead-letters");
    assert_eq!(dlq["sid"], "LambdaDeadLetter");
    assert_eq!(aside.len(), 6, "{aside:?}");
    assert_eq!(json["summary"]["needed_by_configuration"], 6);
    // The code's own sns:Publish (order-events) stays a mismatch: the need is the dead-letter topic.
    let events = find(&json, "prod-only", "sns:Publish").expect("the code's sns:Publish");
    assert!(events["resource"].as_str().unwrap().ends_with(":order-events"), "{events}");
}

#[test]
fn designed_prod_only_mismatches_are_found() {
    let json = demo_json();
    let expected = [
        ("kms:Decrypt", "explicit-deny"),
        ("secretsmanager:GetSecretValue", "explicit-deny"),
        ("sqs:SendMessage", "implicit-deny"),
        ("sns:Publish", "implicit-deny"),
        ("dynamodb:UpdateItem", "implicit-deny"),
        ("dynamodb:DeleteItem", "implicit-deny"),
        ("s3:DeleteObject", "implicit-deny"),
    ];
    for (action, local) in expected {
        let m = find(&json, "prod-only", action).unwrap_or_else(|| panic!("missing prod-only {action}"));
        assert_eq!(m["prod"], "allow", "{action}");
        assert_eq!(m["local"], local, "{action}: {m}");
    }
    let kms = find(&json, "prod-only", "kms:Decrypt").unwrap();
    assert_eq!(kms["conditional"], true, "kms:Decrypt is allowed only via SQS or Secrets Manager: {kms}");
    let queue = find(&json, "prod-only", "sqs:SendMessage").unwrap();
    assert!(queue["resource"].as_str().unwrap().ends_with(":orders-queue"), "{queue}");
}

#[test]
fn mismatches_the_function_used_are_marked_and_listed_first() {
    let json = demo_json();
    // From policy-fixtures/demo/cloudtrail-truth.json: the function called these (P1-P5 succeed,
    // Scan and PutEvents were denied) and never called lambda:InvokeFunction or logs:FilterLogEvents.
    for (direction, action) in [
        ("prod-only", "kms:Decrypt"),
        ("prod-only", "secretsmanager:GetSecretValue"),
        ("prod-only", "sqs:SendMessage"),
        ("prod-only", "sns:Publish"),
        ("prod-only", "dynamodb:UpdateItem"),
        ("local-only", "dynamodb:Scan"),
        ("local-only", "events:PutEvents"),
    ] {
        assert_eq!(find(&json, direction, action).unwrap()["used"], true, "{direction} {action}");
    }
    for action in ["lambda:InvokeFunction", "logs:FilterLogEvents"] {
        assert_eq!(find(&json, "local-only", action).unwrap()["used"], false, "{action}");
    }
    let list = json["mismatches"].as_array().unwrap();
    let first_unused = list.iter().position(|m| m["used"] == false).unwrap();
    assert!(list[first_unused..].iter().all(|m| m["used"] == false), "used mismatches come first");
}

#[test]
fn shared_permissions_are_not_mismatches() {
    let json = demo_json();
    for action in [
        "dynamodb:PutItem",
        "s3:GetObject",
        "s3:PutObject",
        "logs:PutLogEvents",
        "logs:CreateLogStream",
        "iam:PassRole",
        "dynamodb:DeleteTable",
        "s3:DeleteBucket",
    ] {
        for direction in ["local-only", "prod-only"] {
            let found = find(&json, direction, action);
            // PutItem/GetObject/PutObject are allowed on both sides on the shared resources; a
            // difference may only show on resources one side does not name at all.
            if let Some(m) = found {
                let r = m["resource"].as_str().unwrap_or("");
                assert!(
                    (!r.contains("table/orders") || r.contains('*'))
                        && !r.contains("orders-invoices-111122223333/*"),
                    "{direction} {action} on a shared resource: {m}"
                );
                assert!(
                    !matches!(action, "iam:PassRole" | "dynamodb:DeleteTable" | "s3:DeleteBucket"),
                    "{action} is denied on both sides: {m}"
                );
            }
        }
    }
}

#[test]
fn contract_keys_and_summary_counts() {
    let json = demo_json();
    assert_eq!(json["function"]["name"], "orders");
    assert_eq!(json["function"]["arn"], "arn:aws:lambda:us-east-1:111122223333:function:orders");
    assert_eq!(json["function"]["role_arn"], "arn:aws:iam::111122223333:role/service-role/orders-fn-role");
    assert_eq!(json["local"]["profile"], "dev");
    assert_eq!(json["local"]["principal_arn"], "arn:aws:iam::111122223333:user/developers/dev");
    let mismatches = json["mismatches"].as_array().unwrap();
    let local_only = mismatches.iter().filter(|m| m["direction"] == "local-only").count();
    let prod_only = mismatches.iter().filter(|m| m["direction"] == "prod-only").count();
    assert_eq!(json["summary"]["local_only"], local_only);
    assert_eq!(json["summary"]["prod_only"], prod_only);
    let used = mismatches.iter().filter(|m| m["used"] == true).count();
    assert_eq!(json["summary"]["used_mismatches"], used);
    for m in mismatches {
        let action = m["action"].as_str().unwrap();
        assert!(!action.contains('*'), "actions are concrete: {action}");
        for k in ["direction", "action", "resource", "local", "prod", "used"] {
            assert!(m.get(k).is_some(), "missing {k} in {m}");
        }
    }
}

#[test]
fn table_output_groups_by_service() {
    let (code, out, _) = iamfit(&[
        "diff",
        "--function",
        "orders",
        "--profile",
        "dev",
        "--snapshot",
        "policy-fixtures/demo",
        "--no-color",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("LOCAL-ONLY") && out.contains("PROD-ONLY"), "{out}");
    assert!(out.contains("  dynamodb ("), "{out}");
    assert!(
        out.contains("explicit-deny by orders-fn-role")
            || out.contains("explicit-deny by role orders-fn-role inline orders-guardrails:DenyTableScans"),
        "{out}"
    );
}

#[test]
fn fail_on_any_sets_the_exit_status() {
    let demo = [
        "diff",
        "--function",
        "orders",
        "--profile",
        "dev",
        "--snapshot",
        "policy-fixtures/demo",
        "-q",
        "-o",
        "json",
    ];
    let (code, _, _) = iamfit(&[&demo[..], &["--fail-on", "any"]].concat());
    assert_eq!(code, 1);
    let (code, _, _) = iamfit(&[&demo[..], &["--fail-on", "used"]].concat());
    assert_eq!(code, 1, "the demo trail shows the function using mismatched actions");
    let empty = tempfile::tempdir().unwrap();
    let empty_trail = empty.path().to_str().unwrap();
    let (code, _, _) = iamfit(&[&demo[..], &["--fail-on", "used", "--trail", empty_trail]].concat());
    assert_eq!(code, 0, "a trail without the function's events marks nothing used");
    // Files that are not CloudTrail logs make the result partial: exit status 3.
    let (code, _, _) =
        iamfit(&[&demo[..], &["--fail-on", "used", "--trail", "tests/fixtures/check"]].concat());
    assert_eq!(code, 3, "a trail of files that are not CloudTrail logs is a partial result");
    let (code, _, _) = iamfit(&demo);
    assert_eq!(code, 0, "without --fail-on the exit status is 0 whatever is found");
}

#[test]
fn unknown_function_and_profile_are_clear_errors() {
    let (code, _, err) =
        iamfit(&["diff", "--function", "ordres", "--profile", "dev", "--snapshot", "policy-fixtures/demo"]);
    assert_eq!(code, 2);
    assert!(err.contains("function \"ordres\" not found") && err.contains("orders"), "{err}");
    let (code, _, err) = iamfit(&[
        "diff",
        "--function",
        "orders",
        "--profile",
        "nobody",
        "--snapshot",
        "policy-fixtures/demo",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("no identity for profile \"nobody\"") && err.contains("dev"), "{err}");
    let (code, _, err) =
        iamfit(&["diff", "--function", "orders", "--profile", "dev", "--snapshot", "does/not/exist"]);
    assert_eq!(code, 2);
    assert!(err.contains("does/not/exist"), "{err}");
}

#[test]
fn graph_prints_dot_for_the_role() {
    let (code, out, _) = iamfit(&["graph", "--function", "orders", "--snapshot", "policy-fixtures/demo"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("digraph permissions {"));
    assert!(out.contains("lambda-boundary") && out.contains("(boundary)"), "{out}");
    assert!(out.contains("Deny DenyTableScans"), "{out}");
}

#[test]
fn effective_permissions_list_allowed_conditional_and_denied() {
    let (code, out, err) = iamfit(&[
        "graph",
        "--effective",
        "--function",
        "orders",
        "--snapshot",
        "policy-fixtures/demo",
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    let find = |a: &str| {
        json["actions"].as_array().unwrap().iter().find(|x| x["action"] == a).cloned().unwrap_or(Value::Null)
    };
    // OrdersKey: kms:Decrypt only via SQS or Secrets Manager.
    assert!(
        find("kms:Decrypt")["conditional"].to_string().contains("key/1234abcd"),
        "{}",
        find("kms:Decrypt")
    );
    // DenyTableScans removes Scan on the tables; the boundary removes PassRole entirely.
    assert!(find("dynamodb:Scan")["denied"].to_string().contains("table/"), "{}", find("dynamodb:Scan"));
    assert!(
        find("iam:PassRole")["allowed"].as_array().is_none_or(|a| a.is_empty()),
        "{}",
        find("iam:PassRole")
    );
    assert!(
        find("dynamodb:GetItem")["allowed"].to_string().contains("table/orders"),
        "{}",
        find("dynamodb:GetItem")
    );
}
