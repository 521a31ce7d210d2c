//! What the Lambda service needs from a function's execution role, end to end on a snapshot folder
//! written here: a function with a VPC config, active tracing, an SQS event source mapping, a
//! dead-letter SNS topic, an on-failure SQS destination, an EFS access point, a custom log group and
//! an environment KMS key.
//!
//! Every expectation is written by hand from the Lambda Developer Guide (each block cites its page),
//! never produced by the code under test; the generated policy is checked with iamfit's evaluator.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::string_slice)]

use std::path::Path;

use serde_json::{json, Value};

use iamfit_catalog::Catalog;
use iamfit_core::account::{snapshot, Account, Function, Subject};
use iamfit_core::analyze::audit::audit_function;
use iamfit_core::analyze::generate::{generate, Options};
use iamfit_core::analyze::service_needs::{service_needs, ServiceNeeds};
use iamfit_core::analyze::usage::coverage_report;
use iamfit_core::source::Replay;
use iamfit_policy::context::RequestContext;
use iamfit_policy::eval::{authorize, NamedPolicy, PolicySet, Request, Verdict};
use iamfit_policy::Policy;
use iamfit_trail::usage::{ActionUse, Usage};
use iamfit_trail::TimeWindow;

const FUNCTION: &str = "arn:aws:lambda:eu-west-1:444455556666:function:orders-api";
const ROLE: &str = "arn:aws:iam::444455556666:role/orders-api-role";
const QUEUE: &str = "arn:aws:sqs:eu-west-1:444455556666:order-requests";
const FAILURES: &str = "arn:aws:sqs:eu-west-1:444455556666:order-failures";
const TOPIC: &str = "arn:aws:sns:eu-west-1:444455556666:orders-dead-letters";
const ACCESS_POINT: &str =
    "arn:aws:elasticfilesystem:eu-west-1:444455556666:access-point/fsap-0123456789abcdef0";
const KEY: &str = "arn:aws:kms:eu-west-1:444455556666:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789";
const LOG_GROUP: &str = "arn:aws:logs:eu-west-1:444455556666:log-group:/custom/orders-api:*";
const TABLE: &str = "arn:aws:dynamodb:eu-west-1:444455556666:table/orders";

/// `aws lambda get-function-configuration` of the function (the fields as the AWS CLI prints them).
fn function_configuration() -> Value {
    json!({
        "FunctionName": "orders-api",
        "FunctionArn": FUNCTION,
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "app.handler",
        "CodeSize": 1024,
        "Timeout": 30,
        "MemorySize": 512,
        "LastModified": "2026-10-01T08:00:00.000+0000",
        "Version": "$LATEST",
        "VpcConfig": {
            "SubnetIds": ["subnet-0aaa1111bbbb2222c", "subnet-0ddd3333eeee4444f"],
            "SecurityGroupIds": ["sg-0123456789abcdef0"],
            "VpcId": "vpc-0fedcba9876543210",
            "Ipv6AllowedForDualStack": false
        },
        "DeadLetterConfig": {"TargetArn": TOPIC},
        "Environment": {"Variables": {"TABLE_NAME": "orders"}},
        "KMSKeyArn": KEY,
        "TracingConfig": {"Mode": "Active"},
        "FileSystemConfigs": [{"Arn": ACCESS_POINT, "LocalMountPath": "/mnt/orders"}],
        "PackageType": "Zip",
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": {"LogFormat": "JSON", "ApplicationLogLevel": "INFO", "SystemLogLevel": "WARN", "LogGroup": "/custom/orders-api"}
    })
}

/// `aws lambda list-event-source-mappings --function-name orders-api`, as AWS CLI v1 prints it
/// (`LastModified` in epoch seconds).
fn event_source_mappings() -> Value {
    json!({"EventSourceMappings": [{
        "UUID": "6d9a2b1c-1111-4a2b-9c3d-000000000001",
        "BatchSize": 10,
        "MaximumBatchingWindowInSeconds": 0,
        "EventSourceArn": QUEUE,
        "FunctionArn": FUNCTION,
        "LastModified": 1790000000.5,
        "State": "Enabled",
        "StateTransitionReason": "USER_INITIATED"
    }]})
}

/// `aws lambda get-function-event-invoke-config --function-name orders-api`, as AWS CLI v2 prints it
/// (`LastModified` in ISO 8601).
fn event_invoke_config() -> Value {
    json!({
        "LastModified": "2026-10-01T10:00:00.250000+02:00",
        "FunctionArn": format!("{FUNCTION}:$LATEST"),
        "MaximumRetryAttempts": 1,
        "MaximumEventAgeInSeconds": 3600,
        "DestinationConfig": {"OnSuccess": {}, "OnFailure": {"Destination": FAILURES}}
    })
}

fn statement(sid: &str, actions: &[&str], resources: &[&str]) -> Value {
    json!({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources})
}

/// The current role: the code's table, and broader grants than the service needs (logs and EFS on
/// every resource, SQS on every queue of the account), so that the generated policy is narrower.
fn role_statements(with_poller: bool) -> Vec<Value> {
    let mut statements = vec![
        statement("Table", &["dynamodb:GetItem", "dynamodb:PutItem"], &[TABLE]),
        statement(
            "Logs",
            &["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            &["arn:aws:logs:eu-west-1:444455556666:*"],
        ),
        statement("Traces", &["xray:PutTraceSegments", "xray:PutTelemetryRecords"], &["*"]),
        statement(
            "Network",
            &[
                "ec2:CreateNetworkInterface",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeSubnets",
                "ec2:DeleteNetworkInterface",
                "ec2:AssignPrivateIpAddresses",
                "ec2:UnassignPrivateIpAddresses",
            ],
            &["*"],
        ),
        statement("Publish", &["sns:Publish"], &["arn:aws:sns:eu-west-1:444455556666:*"]),
        statement("Send", &["sqs:SendMessage"], &["arn:aws:sqs:eu-west-1:444455556666:*"]),
        statement("Files", &["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"], &["*"]),
    ];
    if with_poller {
        statements.push(statement(
            "Poll",
            &[
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:ChangeMessageVisibility",
            ],
            &["arn:aws:sqs:eu-west-1:444455556666:*"],
        ));
    }
    statements
}

fn account_json(with_poller: bool) -> Value {
    json!({
        "UserDetailList": [],
        "GroupDetailList": [],
        "RoleDetailList": [{
            "Path": "/", "RoleName": "orders-api-role", "RoleId": "AROAEXAMPLEORDERSAPI", "Arn": ROLE,
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "RolePolicyList": [{"PolicyName": "orders-api", "PolicyDocument": {"Version": "2012-10-17", "Statement": role_statements(with_poller)}}],
            "AttachedManagedPolicies": []
        }],
        "Policies": []
    })
}

fn write(dir: &Path, name: &str, value: &Value) {
    std::fs::create_dir_all(dir.join(name).parent().unwrap()).unwrap();
    std::fs::write(dir.join(name), serde_json::to_string_pretty(value).unwrap()).unwrap();
}

/// The snapshot folder, loaded through the snapshot reader.
fn load(with_poller: bool) -> Account {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "account.json", &account_json(with_poller));
    write(dir.path(), "functions/orders-api.json", &function_configuration());
    write(dir.path(), "functions/orders-api.event-source-mappings.json", &event_source_mappings());
    write(dir.path(), "functions/orders-api.event-invoke-config.json", &event_invoke_config());
    snapshot::load(dir.path()).unwrap()
}

fn subject(account: &Account) -> Subject {
    account.role_subject(ROLE, "orders-api").unwrap()
}

fn needs_of(account: &Account) -> (Function, ServiceNeeds) {
    let f = account.function("orders-api").unwrap().clone();
    let needs = service_needs(&f, Catalog::get());
    (f, needs)
}

/// (action, resource, Sid), written by hand from the Lambda Developer Guide.
fn expected_needs() -> Vec<(&'static str, &'static str, &'static str)> {
    let mut v = Vec::new();
    // Configuring CloudWatch log groups / Sending Lambda function logs to CloudWatch Logs: the
    // execution role needs logs:CreateLogGroup, logs:CreateLogStream and logs:PutLogEvents; the
    // custom group is LoggingConfig.LogGroup.
    for a in ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"] {
        v.push((a, LOG_GROUP, "LambdaLogs"));
    }
    // Visualize Lambda function invocations using AWS X-Ray: xray:PutTraceSegments and
    // xray:PutTelemetryRecords (actions without resource-level permissions: "*").
    for a in ["xray:PutTraceSegments", "xray:PutTelemetryRecords"] {
        v.push((a, "*", "LambdaTracing"));
    }
    // Giving Lambda functions access to resources in an Amazon VPC: the network-interface actions of
    // AWSLambdaVPCAccessExecutionRole, on "*".
    for a in [
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
    ] {
        v.push((a, "*", "LambdaVpc"));
    }
    // Capturing records of Lambda asynchronous invocations: a dead-letter SNS topic needs
    // sns:Publish; an SQS destination needs sqs:SendMessage.
    v.push(("sns:Publish", TOPIC, "LambdaDeadLetter"));
    v.push(("sqs:SendMessage", FAILURES, "LambdaDestination"));
    // Creating and configuring an Amazon SQS event source mapping: sqs:ReceiveMessage,
    // sqs:DeleteMessage, sqs:GetQueueAttributes on the queue.
    for a in ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"] {
        v.push((a, QUEUE, "LambdaSqsTrigger"));
    }
    // Configuring file system access for Lambda functions: elasticfilesystem:ClientMount and
    // ClientWrite; the file system is named by the access point only, so: every file system of the
    // account and region, under the condition elasticfilesystem:AccessPointArn.
    for a in ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"] {
        v.push((a, "arn:aws:elasticfilesystem:eu-west-1:444455556666:file-system/*", "LambdaFileSystem"));
    }
    v
}

#[test]
fn the_snapshot_reads_the_configuration_and_both_cli_time_formats() {
    let account = load(true);
    // The two companion files are not functions (the reader used to take every functions/*.json).
    assert_eq!(
        account.functions.len(),
        1,
        "{:?}",
        account.functions.iter().map(|f| &f.name).collect::<Vec<_>>()
    );
    let c = &account.functions[0].config;
    assert_eq!(c.log_group.as_deref(), Some("/custom/orders-api"));
    assert!(c.active_tracing());
    assert_eq!(c.vpc.as_ref().unwrap().subnet_ids.len(), 2);
    assert_eq!(c.dead_letter_target.as_deref(), Some(TOPIC));
    assert_eq!(c.kms_key_arn.as_deref(), Some(KEY));
    assert_eq!(c.file_systems[0].access_point_arn, ACCESS_POINT);
    assert_eq!(c.file_systems[0].local_mount_path, "/mnt/orders");
    let mappings = c.event_source_mappings.as_ref().unwrap();
    assert_eq!(mappings[0].event_source_arn.as_deref(), Some(QUEUE));
    // 1790000000 s after the epoch is 2026-09-21 14:13:20 UTC (AWS CLI v1 prints epoch seconds).
    assert_eq!(mappings[0].last_modified.as_deref(), Some("2026-09-21T14:13:20Z"));
    let invoke = c.event_invoke.as_ref().unwrap();
    assert_eq!(invoke.on_failure.as_deref(), Some(FAILURES));
    assert_eq!(invoke.on_success, None, "an empty OnSuccess is no destination");
    // 10:00:00.25 at +02:00 is 08:00:00.25 UTC (AWS CLI v2 prints ISO 8601 with the offset).
    assert_eq!(invoke.last_modified.as_deref(), Some("2026-10-01T08:00:00Z"));
}

#[test]
fn a_companion_file_with_a_bad_time_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "account.json", &account_json(true));
    write(dir.path(), "functions/orders-api.json", &function_configuration());
    let mut bad = event_source_mappings();
    bad["EventSourceMappings"][0]["LastModified"] = json!("last tuesday");
    write(dir.path(), "functions/orders-api.event-source-mappings.json", &bad);
    let err = snapshot::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("orders-api.event-source-mappings.json"), "{err}");
    assert!(err.contains("EventSourceMappings[0].LastModified"), "{err}");
}

#[test]
fn written_snapshots_read_back_the_same_configuration() {
    let account = load(true);
    let dir = tempfile::tempdir().unwrap();
    snapshot::write(dir.path(), &account).unwrap();
    assert!(dir.path().join("functions/orders-api.event-source-mappings.json").is_file());
    assert!(dir.path().join("functions/orders-api.event-invoke-config.json").is_file());
    let again = snapshot::load(dir.path()).unwrap();
    assert_eq!(
        again.functions[0].config.event_source_mappings,
        account.functions[0].config.event_source_mappings
    );
    assert_eq!(again.functions[0].config.event_invoke, account.functions[0].config.event_invoke);
    assert_eq!(again.functions[0].config.vpc, account.functions[0].config.vpc);
    assert_eq!(again.functions[0].config.file_systems, account.functions[0].config.file_systems);
    assert_eq!(again.functions[0].config.log_group, account.functions[0].config.log_group);
}

#[test]
fn the_needs_are_what_the_guide_documents() {
    let (_, needs) = needs_of(&load(true));
    let mut got: Vec<(&str, &str, &str)> =
        needs.needs.iter().map(|n| (n.action.as_str(), n.resource.as_str(), n.sid.as_str())).collect();
    let mut want = expected_needs();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    for n in &needs.needs {
        assert!(n.citation.starts_with("https://docs.aws.amazon.com/lambda/latest/dg/"), "{n:?}");
        assert!(!n.reason.is_empty());
    }
    let efs = needs.needs.iter().find(|n| n.action == "elasticfilesystem:ClientMount").unwrap();
    let c = efs.condition.as_ref().unwrap();
    assert_eq!(
        (c.operator.as_str(), c.key.as_str(), c.value.as_str()),
        ("ArnEquals", "elasticfilesystem:AccessPointArn", ACCESS_POINT)
    );
    // The environment key: Lambda decrypts through a grant (Securing Lambda environment variables):
    // no statement of the role, an advisory about the key policy.
    assert!(needs.needs.iter().all(|n| !n.action.starts_with("kms:")), "no kms statement is invented");
    let kms = needs.advisories.iter().find(|a| a.topic == "kms-key").expect("a KMS advisory");
    assert!(
        kms.message.contains(KEY) && kms.message.contains("key policy") && kms.message.contains("grant"),
        "{kms:?}"
    );
}

fn allows(set: &PolicySet, action: &str, resource: &str, context: &RequestContext) -> bool {
    let req = Request { principal: None, action, resource, context, resource_account: None };
    authorize(set, &req).verdict == Verdict::Allow
}

fn generated_set(texts: &[String]) -> PolicySet {
    let identity = texts
        .iter()
        .enumerate()
        .map(|(i, t)| NamedPolicy::new(format!("generated-{i}"), Policy::parse(t).unwrap()))
        .collect();
    PolicySet { identity, ..Default::default() }
}

/// The code read the table; the trail logs SQS and DynamoDB data events (so a data event not seen is
/// unused, not unobservable).
fn code_usage() -> Usage {
    let mut usage = Usage::default();
    usage.data_event_services.insert("sqs".into());
    usage.data_event_services.insert("dynamodb".into());
    let mut get = ActionUse { count: 4, ..Default::default() };
    get.resources.set.insert(TABLE.to_string());
    usage.actions.insert("dynamodb:GetItem".into(), get);
    usage
}

#[test]
fn generate_allows_each_need_and_nothing_broader_than_the_role() {
    let account = load(true);
    let (_, needs) = needs_of(&account);
    let current = subject(&account);
    let options = Options { lambda_runtime: true, service_needs: Some(needs), ..Options::default() };
    let g = generate(&code_usage(), Some(&current), Catalog::get(), &options);
    let texts: Vec<String> =
        g.documents.iter().map(|d| serde_json::to_string(&d.to_json()).unwrap()).collect();
    let set = generated_set(&texts);
    let access_point = {
        let mut c = RequestContext::new();
        c.set("elasticfilesystem:AccessPointArn", ACCESS_POINT);
        c
    };
    let empty = RequestContext::new();
    // Concrete requests the Lambda service makes, inside each need (hand-written ARNs).
    let requests: Vec<(&str, &str, &RequestContext)> = vec![
        ("logs:CreateLogGroup", "arn:aws:logs:eu-west-1:444455556666:log-group:/custom/orders-api:log-stream:", &empty),
        (
            "logs:PutLogEvents",
            "arn:aws:logs:eu-west-1:444455556666:log-group:/custom/orders-api:log-stream:2026/10/01/orders-api[$LATEST]0a1b",
            &empty,
        ),
        ("xray:PutTraceSegments", "*", &empty),
        ("ec2:CreateNetworkInterface", "arn:aws:ec2:eu-west-1:444455556666:network-interface/eni-0123", &empty),
        ("ec2:DescribeNetworkInterfaces", "*", &empty),
        ("sns:Publish", TOPIC, &empty),
        ("sqs:SendMessage", FAILURES, &empty),
        ("sqs:ReceiveMessage", QUEUE, &empty),
        ("sqs:DeleteMessage", QUEUE, &empty),
        ("sqs:GetQueueAttributes", QUEUE, &empty),
        ("elasticfilesystem:ClientMount", "arn:aws:elasticfilesystem:eu-west-1:444455556666:file-system/fs-0123456789abcdef0", &access_point),
        ("elasticfilesystem:ClientWrite", "arn:aws:elasticfilesystem:eu-west-1:444455556666:file-system/fs-0123456789abcdef0", &access_point),
        ("dynamodb:GetItem", TABLE, &empty),
    ];
    for (action, resource, context) in &requests {
        assert!(
            allows(&set, action, resource, context),
            "{action} on {resource} is not allowed by\n{}",
            texts.join("\n")
        );
        assert!(
            allows(&current.policies, action, resource, context),
            "the hand-written request {action} on {resource} is not allowed by the current role"
        );
    }
    // Narrower than the current role: what the role allows beyond the needs is left out.
    let other_ap = {
        let mut c = RequestContext::new();
        c.set(
            "elasticfilesystem:AccessPointArn",
            "arn:aws:elasticfilesystem:eu-west-1:444455556666:access-point/fsap-0ffffffffffffffff",
        );
        c
    };
    let refused: Vec<(&str, &str, &RequestContext)> = vec![
        ("sqs:ReceiveMessage", FAILURES, &empty),
        ("sqs:ChangeMessageVisibility", QUEUE, &empty),
        ("sqs:SendMessage", QUEUE, &empty),
        ("sns:Publish", "arn:aws:sns:eu-west-1:444455556666:other-topic", &empty),
        (
            "logs:PutLogEvents",
            "arn:aws:logs:eu-west-1:444455556666:log-group:/aws/lambda/other:log-stream:x",
            &empty,
        ),
        (
            "elasticfilesystem:ClientMount",
            "arn:aws:elasticfilesystem:eu-west-1:444455556666:file-system/fs-0123456789abcdef0",
            &other_ap,
        ),
        ("dynamodb:PutItem", TABLE, &empty),
    ];
    for (action, resource, context) in &refused {
        assert!(
            allows(&current.policies, action, resource, context),
            "{action} on {resource}: the role allows it"
        );
        assert!(
            !allows(&set, action, resource, context),
            "{action} on {resource} is broader than needed:\n{}",
            texts.join("\n")
        );
    }
    assert_eq!(g.proof.broader_than_current, 0);
    // Their own statements, with Sids that say why, listed apart in the report.
    let doc: Value = serde_json::from_str(&texts[0]).unwrap();
    let sids: Vec<&str> =
        doc["Statement"].as_array().unwrap().iter().map(|s| s["Sid"].as_str().unwrap()).collect();
    for sid in [
        "LambdaLogs",
        "LambdaTracing",
        "LambdaVpc",
        "LambdaDeadLetter",
        "LambdaDestination",
        "LambdaSqsTrigger",
        "LambdaFileSystem",
    ] {
        assert!(sids.contains(&sid), "{sid} in {sids:?}");
    }
    let efs = doc["Statement"].as_array().unwrap().iter().find(|s| s["Sid"] == "LambdaFileSystem").unwrap();
    assert_eq!(efs["Condition"]["ArnEquals"]["elasticfilesystem:AccessPointArn"], json!([ACCESS_POINT]));
    assert_eq!(g.service_needs.len(), expected_needs().len());
    assert!(g.service_needs.iter().all(|n| n.status == "included"), "{:?}", g.service_needs);
    assert!(g.notes.iter().any(|n| n.contains("LambdaSqsTrigger")), "{:?}", g.notes);
}

#[test]
fn without_service_needs_the_policy_is_the_code_alone() {
    let account = load(true);
    let g = generate(&code_usage(), Some(&subject(&account)), Catalog::get(), &Options::default());
    let text = serde_json::to_string(&g.documents[0].to_json()).unwrap();
    assert!(!text.contains("Lambda"), "{text}");
    assert!(g.service_needs.is_empty());
}

#[test]
fn a_need_the_role_does_not_grant_is_left_out_and_said() {
    let account = load(false);
    let (_, needs) = needs_of(&account);
    let options = Options { service_needs: Some(needs), ..Options::default() };
    let g = generate(&code_usage(), Some(&subject(&account)), Catalog::get(), &options);
    let text = serde_json::to_string(&g.documents[0].to_json()).unwrap();
    assert!(!text.contains("sqs:ReceiveMessage"), "{text}");
    let receive = g.service_needs.iter().find(|n| n.action == "sqs:ReceiveMessage").unwrap();
    assert_eq!(receive.status, "not-granted");
    assert!(
        g.notes.iter().any(|n| n.contains("NOT granted") && n.contains("sqs:ReceiveMessage")),
        "{:?}",
        g.notes
    );
    assert_eq!(g.proof.broader_than_current, 0);
}

#[test]
fn audit_reports_a_role_that_lacks_the_poller_permissions() {
    let account = load(false);
    let (_, needs) = needs_of(&account);
    let findings = audit_function(&subject(&account), None, &needs, Catalog::get());
    let missing: Vec<&str> = findings
        .iter()
        .filter(|f| f.kind.name() == "missing-service-permission")
        .filter_map(|f| f.action.as_deref())
        .collect();
    // Creating and configuring an Amazon SQS event source mapping: the three poller actions; the
    // role grants everything else the configuration needs.
    let mut sorted = missing.clone();
    sorted.sort();
    assert_eq!(sorted, ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]);
    let receive = findings.iter().find(|f| f.action.as_deref() == Some("sqs:ReceiveMessage")).unwrap();
    assert!(
        receive.message.starts_with(
            "the SQS trigger on queue order-requests cannot poll: the role lacks sqs:ReceiveMessage"
        ),
        "{}",
        receive.message
    );
    assert_eq!(receive.statement, "LambdaSqsTrigger");
    // With the poller permissions there is nothing to report.
    let account = load(true);
    let (_, needs) = needs_of(&account);
    let findings = audit_function(&subject(&account), None, &needs, Catalog::get());
    assert!(findings.iter().all(|f| f.kind.name() != "missing-service-permission"), "{findings:?}");
}

#[test]
fn audit_never_calls_the_services_permissions_over_grants() {
    let account = load(true);
    let (_, needs) = needs_of(&account);
    let findings = audit_function(&subject(&account), Some(&code_usage()), &needs, Catalog::get());
    let over: Vec<String> =
        findings.iter().filter(|f| f.kind.name() == "over-grant").map(|f| format!("{f:?}")).collect();
    for needed in [
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "sqs:ReceiveMessage",
        "elasticfilesystem:ClientMount",
        "ec2:CreateNetworkInterface",
    ] {
        assert!(
            over.iter().all(|f| !f.contains(&format!("\"{needed}\""))),
            "{needed} reported unused: {over:?}"
        );
    }
    // The statement of the poller permissions is not "wholly unused", though the code never polls;
    // its one action the configuration does not need is still an over-grant.
    let poll: Vec<&String> = over.iter().filter(|f| f.contains("statement: \"Poll\"")).collect();
    assert_eq!(poll.len(), 1, "{over:?}");
    assert!(
        poll[0].contains("sqs:ChangeMessageVisibility") && !poll[0].contains("whole statement"),
        "{poll:?}"
    );
}

#[test]
fn usage_coverage_marks_the_services_permissions() {
    let account = load(true);
    let (_, needs) = needs_of(&account);
    let replay = Replay {
        usage: code_usage(),
        records: 4,
        malformed: 0,
        failed: Vec::new(),
        notes: Vec::new(),
        window: TimeWindow::default(),
    };
    let report = coverage_report(&subject(&account), &replay, &needs, Catalog::get());
    let status = |a: &str| report.actions.iter().find(|c| c.action == a).map(|c| c.status);
    assert_eq!(status("dynamodb:GetItem"), Some("used"));
    assert_eq!(status("sqs:ReceiveMessage"), Some("needed-by-configuration"));
    assert_eq!(status("logs:PutLogEvents"), Some("needed-by-configuration"));
    assert_eq!(status("sqs:ChangeMessageVisibility"), Some("unused"));
    // 18 distinct actions in the hand-written list, all granted by the role, none used by the code.
    assert_eq!(report.needed_by_configuration, 18);
}

#[test]
fn with_no_granted_code_call_the_policy_is_only_the_services_and_says_so() {
    let account = load(true);
    let (_, needs) = needs_of(&account);
    // The code read an object the role does not grant: nothing of the code can be in the policy.
    let mut usage = Usage::default();
    let mut get = ActionUse { count: 1, ..Default::default() };
    get.resources.set.insert("arn:aws:s3:::other-bucket/key".to_string());
    usage.actions.insert("s3:GetObject".into(), get);
    let options = Options { service_needs: Some(needs), ..Options::default() };
    let g = generate(&usage, Some(&subject(&account)), Catalog::get(), &options);
    assert!(!g.documents.is_empty(), "the service's statements are there");
    assert!(!g.has_code_statements());
    assert_eq!(g.missing.len(), 1);
    let with_code = generate(&code_usage(), Some(&subject(&account)), Catalog::get(), &options);
    assert!(with_code.has_code_statements());
}
