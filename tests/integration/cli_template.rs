//! `--template`: a SAM template as the function side (snapshot, audit, check with template positions
//! and SARIF, drift against a deployed snapshot). Expectations by hand: the role names follow SAM's
//! (`<FunctionLogicalId>Role`, AWS SAM Developer Guide, "AWS::Serverless::Function"), the actions of
//! DynamoDBReadPolicy and DynamoDBCrudPolicy are those of the AWS SAM policy template list.

use serde_json::Value;

use crate::support::iamfit;

const APP: &str = "tests/fixtures/template/app.yaml";

#[test]
fn snapshot_from_a_template_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let (code, _, err) = iamfit(&[
        "snapshot",
        "--template",
        APP,
        "--out",
        out,
        "--account",
        "111122223333",
        "--region",
        "eu-west-1",
    ]);
    assert_eq!(code, 0, "{err}");
    let account: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("account.json")).unwrap()).unwrap();
    let role = &account["RoleDetailList"][0];
    assert_eq!(role["RoleName"], "OrdersRole");
    assert_eq!(role["Arn"], "arn:aws:iam::111122223333:role/OrdersRole");
    let names: Vec<&str> = role["RolePolicyList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["PolicyName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["OrdersRolePolicy0", "OrdersRolePolicy1"]);
    let function: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("functions/orders-dev.json")).unwrap())
            .unwrap();
    assert_eq!(function["Role"], "arn:aws:iam::111122223333:role/OrdersRole");
    assert!(err.contains("logical ids stand for"), "{err}");

    let (code, stdout, err) = iamfit(&["audit", "--snapshot", out, "--function", "orders-dev", "-o", "json"]);
    assert!(code == 0 || code == 3, "{err}");
    assert!(stdout.contains("OrdersRole"), "{stdout}");
}

#[test]
fn check_places_findings_in_the_template() {
    let (code, stdout, err) = iamfit(&["check", APP, "-o", "json"]);
    assert_eq!(code, 1, "an unknown action is an error: {err}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let finding = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["findings"].as_array().unwrap().iter())
        .find(|f| f["code"] == "unknown-action")
        .unwrap_or_else(|| panic!("{}", stdout));
    // `Action: [sqs:SendMesage]` is on line 17; the list's item starts at column 24.
    assert_eq!((finding["line"].as_u64(), finding["column"].as_u64()), (Some(17), Some(24)), "{finding}");
    assert!(finding["message"].as_str().unwrap().contains("OrdersRolePolicy1"), "{finding}");

    let (_, sarif, _) = iamfit(&["check", APP, "-o", "sarif"]);
    let s: Value = serde_json::from_str(&sarif).unwrap();
    let location = &s["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "unknown-action")
        .unwrap()["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], APP);
    assert_eq!(location["region"]["startLine"], 17);
}

#[test]
fn audit_reads_the_function_from_the_template_offline() {
    let (code, stdout, err) = iamfit(&["audit", "--template", APP, "--function", "Orders", "-o", "json"]);
    assert!(code == 0 || code == 3, "{err}");
    assert!(stdout.contains("OrdersRole"), "{stdout}");
}

#[test]
fn drift_compares_the_template_role_with_the_deployed_role() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let (code, _, err) =
        iamfit(&["snapshot", "--template", "tests/fixtures/template/app-deployed.yaml", "--out", out]);
    assert_eq!(code, 0, "{err}");
    let (code, stdout, err) =
        iamfit(&["diff", "--template", APP, "--function", "Orders", "--snapshot", out, "-o", "json"]);
    assert!(code == 0 || code == 3, "{err}");
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|_| panic!("{}\n{}", stdout, err));
    // The deployed role has DynamoDBCrudPolicy (PutItem and more) that the template's role lacks.
    let put = v["mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["action"] == "dynamodb:PutItem")
        .unwrap_or_else(|| panic!("{}", stdout));
    assert_eq!(put["local"], "implicit-deny", "{put}");
    assert_eq!(put["prod"], "allow", "{put}");
    assert!(err.contains("drift"), "{err}");
}

#[test]
fn before_deploy_diff_takes_the_function_from_the_template_and_the_profile_from_the_snapshot() {
    let (code, stdout, err) = iamfit(&[
        "diff",
        "--template",
        APP,
        "--function",
        "Orders",
        "--profile",
        "dev",
        "--snapshot",
        "policy-fixtures/demo",
        "-o",
        "json",
    ]);
    assert!(code == 0 || code == 3, "{err}");
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|_| panic!("{}\n{}", stdout, err));
    assert_eq!(v["function"]["role_arn"], "arn:aws:iam::123456789012:role/OrdersRole");
    assert_eq!(v["function"]["arn"], "arn:aws:lambda:us-east-1:123456789012:function:orders-dev");
    // DynamoDBReadPolicy (AWS SAM policy templates) grants reads, not dynamodb:PutItem.
    let put = v["mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["action"] == "dynamodb:PutItem")
        .unwrap_or_else(|| panic!("{}", stdout));
    assert_eq!(put["prod"], "implicit-deny", "{put}");
}

#[test]
fn check_with_template_needs_no_file_argument() {
    let (code, stdout, err) = iamfit(&["check", "--template", APP, "-o", "json"]);
    assert_eq!(code, 1, "{err}");
    assert!(stdout.contains("unknown-action"), "{stdout}");
    let (code, _, err) = iamfit(&["check"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--template FILE"), "{err}");
}

#[test]
fn template_errors_name_the_position() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "Transform: AWS::Serverless-2016-10-31\nResources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Policies:\n        - NoSuchPolicyTemplate: {}\n").unwrap();
    let (code, _, err) = iamfit(&["audit", "--template", bad.to_str().unwrap(), "--function", "F"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("bad.yaml:7:11: function F: unknown SAM policy template NoSuchPolicyTemplate"),
        "{err}"
    );
    let (code, _, err) = iamfit(&[
        "snapshot",
        "--template",
        APP,
        "--out",
        dir.path().to_str().unwrap(),
        "--parameter",
        "Stage",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("expected KEY=VALUE"), "{err}");
}

/// Terraform: the patch goes to the `.tf` files next to the `terraform show -json` document; the
/// role's `aws_iam_role_policy` value is replaced and nothing else changes. The usage is the demo's
/// trail (the role has the demo's path `/service-role/`), so the policy names the calls
/// policy-fixtures/README.md lists, among them `sns:Publish` on `order-events`.
#[test]
fn generate_writes_back_a_patch_to_the_terraform_source() {
    let (code, stdout, err) = iamfit(&[
        "generate",
        "--template",
        "tests/fixtures/template/terraform/plan.json",
        "--function",
        "orders",
        "--snapshot",
        "policy-fixtures/demo",
        "--account",
        "111122223333",
        "--format",
        "terraform",
    ]);
    assert!(code == 0 || code == 3, "{err}");
    assert!(
        stdout.starts_with("--- a/tests/fixtures/template/terraform/main.tf\n+++ b/tests/fixtures/template/terraform/main.tf\n@@ "),
        "{stdout}\n{err}"
    );
    assert!(stdout.contains("-    Statement = [{ Effect = \"Allow\", Action = [\"dynamodb:*\""), "{stdout}");
    assert!(stdout.contains("+          \"arn:aws:sns:us-east-1:111122223333:order-events\",\n"), "{stdout}");
    assert!(stdout.contains("+          \"sns:Publish\",\n"), "{stdout}");
    assert!(err.contains("177 of the 177 successful calls"), "the demo's trail is the usage: {err}");
    // Nothing outside the policy's value changes: the function and the role's other lines are not
    // in the patch.
    assert!(!stdout.contains("function_name") && !stdout.contains("assume_role_policy"), "{stdout}");
}

#[test]
fn generate_writes_back_a_patch_to_the_template() {
    let (code, stdout, err) = iamfit(&[
        "generate",
        "--template",
        "tests/fixtures/template/orders-cfn.yaml",
        "--function",
        "Orders",
        "--snapshot",
        "policy-fixtures/demo",
        "--account",
        "111122223333",
        "--format",
        "cloudformation",
    ]);
    assert!(code == 0 || code == 3, "{err}");
    assert!(stdout.starts_with("--- a/tests/fixtures/template/orders-cfn.yaml\n+++ b/tests/fixtures/template/orders-cfn.yaml\n@@ "), "{stdout}\n{err}");
    assert!(stdout.contains("-        - PolicyName: everything\n"), "{stdout}");
    assert!(stdout.contains("+        [{\"PolicyName\":\"OrdersMinimalPolicy0\""), "{stdout}");
    // Nothing outside the role's Policies changes: the function's lines are not in the patch.
    assert!(!stdout.contains("FunctionName"), "{stdout}");
}

/// The template's function configuration reaches the analyses: with its own role (`Role:` given,
/// SAM adds no policy to it), Active tracing needs `xray:PutTraceSegments` and
/// `xray:PutTelemetryRecords` (Lambda Developer Guide, "Visualize Lambda function invocations using
/// AWS X-Ray": https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html) and the SQS trigger
/// needs `sqs:ReceiveMessage`, `sqs:DeleteMessage` and `sqs:GetQueueAttributes` on the queue
/// ("Creating and configuring an Amazon SQS event source mapping":
/// https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html). The role grants only
/// logs, so `audit` reports each as missing-service-permission.
#[test]
fn audit_of_a_template_function_knows_its_configuration() {
    let t = "tests/fixtures/template/own-role.yaml";
    let (code, stdout, err) = iamfit(&[
        "audit",
        "--template",
        t,
        "--function",
        "worker",
        "--account",
        "111122223333",
        "--region",
        "eu-west-1",
        "-o",
        "json",
    ]);
    assert!(code == 0 || code == 3, "{err}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let missing: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "missing-service-permission")
        .map(|f| format!("{} {}", f["action"].as_str().unwrap(), f["resource"].as_str().unwrap()))
        .collect();
    for expected in [
        "xray:PutTraceSegments *",
        "xray:PutTelemetryRecords *",
        "sqs:ReceiveMessage arn:aws:sqs:eu-west-1:111122223333:jobs",
        "sqs:DeleteMessage arn:aws:sqs:eu-west-1:111122223333:jobs",
        "sqs:GetQueueAttributes arn:aws:sqs:eu-west-1:111122223333:jobs",
    ] {
        assert!(missing.iter().any(|m| m == expected), "{expected} missing from {missing:?}");
    }
    assert_eq!(missing.len(), 5, "{missing:?}");
}
