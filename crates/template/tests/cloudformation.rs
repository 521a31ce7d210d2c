//! CloudFormation and Terraform fixtures with hand-written expectations, and template errors with
//! positions. Expected ARNs follow the formats of the Service Authorization Reference and the return
//! values of the CloudFormation resource type reference (AWS::IAM::Role `Arn`, AWS::SQS::Queue `Arn`,
//! AWS::DynamoDB::Table `Arn`; `Ref` of AWS::IAM::Role is the role name).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use iamfit_template::{expand, Settings};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)).unwrap()
}

fn settings(params: &[(&str, &str)]) -> Settings {
    Settings {
        account: "111122223333".into(),
        region: "eu-west-1".into(),
        stack: "orders".into(),
        parameters: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        physical_ids: Default::default(),
    }
}

/// The deployed stack's physical ids stand for generated names: `Ref` of an `AWS::IAM::Role` is its
/// name, of an `AWS::SQS::Queue` its URL, of an `AWS::SNS::Topic` its ARN (CloudFormation User Guide,
/// each resource's "Return values"); a resource with a name property keeps it.
#[test]
fn physical_ids_name_what_the_template_leaves_unnamed() {
    let text = r#"{"Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyName": "p", "PolicyDocument":
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["sqs:SendMessage", "sns:Publish"],
             "Resource": [{"Fn::GetAtt": ["Queue", "Arn"]}, {"Ref": "Topic"}]}]}}]}},
        "Named": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "named-role"}},
        "Queue": {"Type": "AWS::SQS::Queue"},
        "Topic": {"Type": "AWS::SNS::Topic"}}}"#;
    let mut s = settings(&[]);
    for (logical, physical) in [
        ("Role", "orders-Role-1A2B3C"),
        ("Named", "named-role"),
        ("Queue", "https://sqs.eu-west-1.amazonaws.com/111122223333/orders-Queue-9Z8Y"),
        ("Topic", "arn:aws:sns:eu-west-1:111122223333:orders-Topic-7X6W"),
    ] {
        s.physical_ids.insert(logical.into(), physical.into());
    }
    let e = expand(text, "stack.json", &s).unwrap();
    let role = e.account.role("orders-Role-1A2B3C").expect("the physical name");
    assert_eq!(role.arn, "arn:aws:iam::111122223333:role/orders-Role-1A2B3C");
    assert!(e.account.role("named-role").is_some());
    assert_eq!(
        role.inline[0].document.json["Statement"][0]["Resource"],
        serde_json::json!([
            "arn:aws:sqs:eu-west-1:111122223333:orders-Queue-9Z8Y",
            "arn:aws:sns:eu-west-1:111122223333:orders-Topic-7X6W"
        ])
    );
    assert!(e.logical_names.is_empty(), "{:?}", e.logical_names);
}

#[test]
fn cloudformation_roles_policies_and_functions() {
    let e = expand(&fixture("stack.yaml"), "stack.yaml", &settings(&[("Stage", "dev")])).unwrap();
    let a = &e.account;
    let role = a.role("orders-dev-role").unwrap();
    assert_eq!(role.arn, "arn:aws:iam::111122223333:role/service/orders-dev-role");
    assert_eq!(role.boundary.as_deref(), Some("arn:aws:iam::111122223333:policy/boundary"));
    assert_eq!(
        role.attached,
        vec![
            "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
            "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
            "arn:aws:iam::111122223333:policy/Shared",
        ]
    );
    let names: Vec<&str> = role.inline.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["table", "extra"], "More has Condition IsProd, false for dev");
    assert_eq!(
        role.inline[0].document.json["Statement"][0]["Resource"],
        serde_json::json!([
            "arn:aws:dynamodb:eu-west-1:111122223333:table/orders-dev",
            "arn:aws:dynamodb:eu-west-1:111122223333:table/orders-dev/index/*"
        ])
    );
    assert_eq!(role.inline[1].document.json["Statement"]["Resource"], "arn:aws:s3:::Bucket/*");
    let shared = a.managed_policy("arn:aws:iam::111122223333:policy/Shared").unwrap();
    assert_eq!(
        shared.document.json["Statement"][0]["Resource"],
        "arn:aws:sqs:eu-west-1:111122223333:orders-in"
    );
    assert_eq!(
        shared.document.json["Statement"][1]["Resource"],
        "unresolved:Fn::ImportValue(shared-parameter-arn)"
    );
    assert!(
        e.issues
            .iter()
            .any(|i| i.message.contains("Fn::ImportValue(shared-parameter-arn)") && i.pos.line == 44),
        "{:?}",
        e.issues
    );
    assert!(a.managed_policy("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole").is_some());

    let f = a.function("orders-dev").unwrap();
    assert_eq!(f.arn, "arn:aws:lambda:eu-west-1:111122223333:function:orders-dev");
    assert_eq!(f.role, role.arn);
    assert_eq!(
        f.environment,
        vec![("TABLE".to_string(), "orders-dev".to_string()), ("RETENTION".to_string(), "7".to_string())]
    );
    assert_eq!(e.event_source_mappings.len(), 1);
    assert_eq!(e.event_source_mappings[0].function, "orders-dev");
    assert_eq!(
        e.event_source_mappings[0].mapping["EventSourceArn"],
        "arn:aws:sqs:eu-west-1:111122223333:orders-in"
    );
    assert!(e.logical_names.is_empty(), "the role and the function have names: {:?}", e.logical_names);
    // The configuration the Lambda service uses the role for, from the resource's properties
    // (AWS::Lambda::Function TracingConfig, KmsKeyArn, Layers; AWS::Lambda::EventInvokeConfig
    // DestinationConfig: CloudFormation User Guide, resource reference), with the trigger.
    let c = &f.config;
    assert_eq!(c.tracing_mode.as_deref(), Some("Active"));
    assert_eq!(c.kms_key_arn.as_deref(), Some("arn:aws:kms:eu-west-1:111122223333:key/env-key"));
    assert_eq!(c.layers, ["arn:aws:lambda:eu-west-1:111122223333:layer:deps:3"]);
    let mappings = c.event_source_mappings.as_ref().expect("the template's mappings");
    assert_eq!(mappings[0].event_source_arn.as_deref(), Some("arn:aws:sqs:eu-west-1:111122223333:orders-in"));
    let invoke = c.event_invoke.as_ref().expect("the EventInvokeConfig");
    assert_eq!(invoke.on_failure.as_deref(), Some("arn:aws:sqs:eu-west-1:111122223333:orders-in"));
    assert_eq!(invoke.maximum_retry_attempts, Some(0));
}

#[test]
fn conditions_follow_the_parameters() {
    let e = expand(&fixture("stack.yaml"), "stack.yaml", &settings(&[("Stage", "prod")])).unwrap();
    let role = e.account.role("orders-prod-role").unwrap();
    assert_eq!(role.attached.len(), 2, "no X-Ray in prod: {:?}", role.attached);
    assert!(role.inline.iter().any(|p| p.name == "more"));
}

#[test]
fn a_missing_parameter_names_its_reference() {
    let err = expand(&fixture("stack.yaml"), "stack.yaml", &settings(&[])).unwrap_err();
    let text = err.to_string();
    // The first reference to Stage the expansion meets: `!Ref Stage` in the condition IsProd.
    assert!(text.starts_with("stack.yaml:7:20:"), "{text}");
    assert!(text.contains("parameter Stage has no value"), "{text}");
    assert_eq!(err.help().as_deref(), Some("pass --parameter Stage=VALUE"));
}

#[test]
fn bad_yaml_has_a_position() {
    let err = expand("Resources:\n  A: {Type: X\n  B: 1\n", "bad.yaml", &Settings::default()).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("bad.yaml:") && text.contains("invalid YAML/JSON"), "{text}");
}

#[test]
fn an_unknown_policy_template_is_an_error_with_a_suggestion() {
    let text = "Transform: AWS::Serverless-2016-10-31\nResources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Policies:\n        - DynamoDBCrudPolicyy: {TableName: t}\n";
    let err = expand(text, "sam.yaml", &Settings::default()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("sam.yaml:7:11: function F: unknown SAM policy template DynamoDBCrudPolicyy"),
        "{err}"
    );
    assert!(err.help().unwrap().contains("did you mean DynamoDBCrudPolicy?"), "{:?}", err.help());
}

#[test]
fn a_policy_template_without_its_parameters_is_an_error() {
    let text = "Transform: AWS::Serverless-2016-10-31\nResources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Policies:\n        - SQSPollerPolicy: {}\n";
    let err = expand(text, "sam.yaml", &Settings::default()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("sam.yaml:7:11: function F: policy template SQSPollerPolicy needs QueueName"),
        "{err}"
    );
}

#[test]
fn json_templates_read_like_yaml() {
    let text = r#"{"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
        "Policies": [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": {"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:q"}}]}}]}}}}"#;
    let e = expand(text, "t.json", &settings(&[])).unwrap();
    let role = e.account.role("R").unwrap();
    assert_eq!(role.arn, "arn:aws:iam::111122223333:role/R");
    assert_eq!(
        role.inline[0].document.json["Statement"][0]["Resource"],
        "arn:aws:sqs:eu-west-1:111122223333:q"
    );
    assert_eq!(e.logical_names, vec!["R".to_string()], "the logical id stands for the role name");
}

// `terraform show -json` plan representation (Terraform docs, "JSON Output Format"): planned_values,
// resource_changes[].change.after_unknown, configuration expressions' references.
#[test]
fn terraform_plan() {
    let e = expand(&fixture("plan.json"), "plan.json", &settings(&[])).unwrap();
    let a = &e.account;
    let role = a.role("orders-fn-role").unwrap();
    assert_eq!(role.arn, "arn:aws:iam::111122223333:role/orders-fn-role");
    assert_eq!(role.tags, vec![("team".to_string(), "orders".to_string())]);
    let names: Vec<&str> = role.inline.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["queue", "logs"], "the secret policy is unknown until apply");
    assert_eq!(
        role.attached,
        vec![
            "arn:aws:iam::111122223333:policy/orders-table",
            "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"
        ]
    );
    assert!(a.managed_policy("arn:aws:iam::111122223333:policy/orders-table").is_some());
    let f = a.function("orders").unwrap();
    assert_eq!(f.role, role.arn, "followed through configuration references");
    assert_eq!(f.environment, vec![("TABLE".to_string(), "orders".to_string())]);
    assert!(
        e.issues
            .iter()
            .any(|i| i.message.contains("aws_iam_role_policy.secret") && i.message.contains("after apply")),
        "{:?}",
        e.issues
    );
    assert_eq!(
        e.event_source_mappings[0].mapping["EventSourceArn"],
        "arn:aws:sqs:eu-west-1:111122223333:orders-in"
    );
    // What the Lambda service uses the role for, from the provider's attributes (Terraform AWS
    // provider: aws_lambda_function `tracing_config`, `dead_letter_config`;
    // aws_lambda_function_event_invoke_config `destination_config`): the SQS trigger, Active
    // tracing, the dead-letter queue and the on-failure topic.
    let c = &f.config;
    assert_eq!(c.tracing_mode.as_deref(), Some("Active"));
    assert_eq!(c.dead_letter_target.as_deref(), Some("arn:aws:sqs:eu-west-1:111122223333:orders-dlq"));
    let mappings = c.event_source_mappings.as_ref().expect("the template's mappings");
    assert_eq!(mappings.len(), 1);
    assert_eq!(mappings[0].event_source_arn.as_deref(), Some("arn:aws:sqs:eu-west-1:111122223333:orders-in"));
    let invoke = c.event_invoke.as_ref().expect("the event invoke config");
    assert_eq!(invoke.on_failure.as_deref(), Some("arn:aws:sns:eu-west-1:111122223333:orders-failed"));
    assert_eq!((invoke.on_success.as_deref(), invoke.maximum_retry_attempts), (None, Some(1)));
}
