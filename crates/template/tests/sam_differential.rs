//! Differential tests against the official SAM translator (aws-sam-translator, pinned in scripts/test):
//! each template in tests/sam/ is translated by the translator into CloudFormation, and iamfit's
//! expansion of the SAM template must give the same roles, policies and functions as iamfit's reading
//! of the translator's CloudFormation (intrinsic functions resolved the same way for both).
//!
//! The translator runs from the test venv: `IAMFIT_SAM_PYTHON`, or `.venv/bin/python` at the workspace
//! root (scripts/test installs it).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use iamfit_core::account::Account;
use iamfit_template::{expand, Settings};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> PathBuf {
    match std::env::var_os("IAMFIT_SAM_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => root().join(".venv/bin/python"),
    }
}

/// The translator's CloudFormation for a SAM template.
fn translate(template: &Path, params: &[(&str, &str)]) -> String {
    let py = python();
    assert!(
        py.exists(),
        "{} is missing: run scripts/test (it installs aws-sam-translator into .venv) or set IAMFIT_SAM_PYTHON",
        py.display()
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sam/translate.py");
    let out = Command::new(&py)
        .arg(&script)
        .arg(template)
        .args(params.iter().map(|(k, v)| format!("{k}={v}")))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "translator failed on {}: {}",
        template.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The account as a comparable summary: roles with sorted attachments and inline policies by name,
/// managed policies by ARN, functions with their roles.
fn summary(account: &Account) -> BTreeMap<String, serde_json::Value> {
    let mut out = BTreeMap::new();
    for r in &account.roles {
        let mut attached = r.attached.clone();
        attached.sort();
        let inline: BTreeMap<String, serde_json::Value> =
            r.inline.iter().map(|p| (p.name.clone(), p.document.json.clone())).collect();
        out.insert(
            format!("role {}", r.name),
            serde_json::json!({"arn": r.arn, "attached": attached, "inline": inline, "boundary": r.boundary,
                "trust": r.trust.as_ref().map(|t| t.json.clone())}),
        );
    }
    for p in &account.policies {
        out.insert(format!("policy {}", p.arn), p.document.json.clone());
    }
    for f in &account.functions {
        // The configuration the Lambda service uses the role for (its mappings in any order).
        let mut config = f.config.clone();
        if let Some(m) = config.event_source_mappings.as_mut() {
            m.sort_by(|a, b| a.uuid.cmp(&b.uuid));
        }
        out.insert(
            format!("function {}", f.name),
            serde_json::json!({"arn": f.arn, "role": f.role, "env": f.environment,
                "config": format!("{config:?}")}),
        );
    }
    out
}

fn check(name: &str, params: &[(&str, &str)]) -> BTreeMap<String, serde_json::Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sam").join(name);
    let settings = Settings {
        parameters: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..Settings::default()
    };
    let sam = expand(&std::fs::read_to_string(&path).unwrap(), name, &settings).unwrap();
    let cfn_text = translate(&path, params);
    let cfn = expand(&cfn_text, "translated.json", &settings).unwrap();
    let (ours, theirs) = (summary(&sam.account), summary(&cfn.account));
    for key in ours.keys().chain(theirs.keys()) {
        assert_eq!(
            ours.get(key),
            theirs.get(key),
            "{name}: {key} differs (left: iamfit, right: aws-sam-translator)"
        );
    }
    ours
}

#[test]
fn policies_in_every_form_globals_boundaries_destinations() {
    let s = check("basic.yaml", &[]);
    let role = &s["role OrdersRole"];
    assert_eq!(role["arn"], "arn:aws:iam::123456789012:role/app/OrdersRole");
    assert!(role["inline"].get("OrdersRolePolicy3").is_some(), "{role}");
    assert!(s.contains_key("role PlainRole"));
}

#[test]
fn conditions_follow_the_parameters() {
    let s = check("basic.yaml", &[("UseExtra", "no")]);
    let attached = s["role OrdersRole"]["attached"].as_array().unwrap().clone();
    assert!(
        attached.contains(&serde_json::json!("arn:aws:iam::aws:policy/AWSLambdaExecute")),
        "{attached:?}"
    );
}

#[test]
fn every_policy_template() {
    let s = check("policy_templates.yaml", &[]);
    let inline = s["role AllRole"]["inline"].as_object().unwrap();
    // 81 templates in aws-sam-translator 1.115.0's policy_templates.json, each one inline policy.
    assert_eq!(inline.len(), 81, "{:?}", inline.keys());
    assert!(inline.contains_key("AllRolePolicy80"));
}

#[test]
fn event_sources_connectors_and_conditions() {
    let s = check("events.yaml", &[]);
    let consumer = &s["role ConsumerRole"];
    let attached = consumer["attached"].as_array().unwrap();
    // AWS SAM Developer Guide, event source types SQS, Kinesis, DynamoDB and MSK: SAM attaches the
    // AWS managed execution role policy of each.
    for name in [
        "AWSLambdaSQSQueueExecutionRole",
        "AWSLambdaKinesisExecutionRole",
        "AWSLambdaDynamoDBExecutionRole",
        "AWSLambdaMSKExecutionRole",
    ] {
        assert!(
            attached.contains(&serde_json::json!(format!("arn:aws:iam::aws:policy/service-role/{name}"))),
            "{name}"
        );
    }
    for name in [
        "SamAutoGeneratedAMQPolicy",
        "SamAutoGeneratedDocumentDBPolicy",
        "SelfManagedKafkaExecutionRolePolicy",
        "MSKExecutionRolePolicy",
    ] {
        assert!(consumer["inline"].get(name).is_some(), "{name}: {consumer}");
    }
    assert!(
        attached.contains(&serde_json::json!("arn:aws:iam::123456789012:policy/ConsumerToBucketPolicy")),
        "{attached:?}"
    );
    assert!(s.contains_key("policy arn:aws:iam::123456789012:policy/WriterToQueuesPolicyDestination1"));
    assert!(!s.contains_key("role ExternalRole"), "a function with Role gets no generated role");
    assert_eq!(s["function External"]["role"], "arn:aws:iam::123456789012:role/OwnRole");
}

#[test]
fn a_false_condition_drops_the_function_and_its_role() {
    let s = check("events.yaml", &[("Deploy", "false")]);
    assert!(!s.contains_key("role WriterRole"));
    assert!(!s.contains_key("function Writer"));
}

#[test]
fn single_item_forms_trust_policies_and_more_destinations() {
    for prod in ["true", "false"] {
        let s = check("more.yaml", &[("Prod", prod)]);
        let single = &s["role SingleRole"];
        assert!(single["inline"].get("SingleRolePolicy0").is_some(), "{single}");
        assert!(single["trust"].to_string().contains("edgelambda.amazonaws.com"), "{single}");
        assert_eq!(
            s["function single-fn"]["env"],
            serde_json::json!([["A", "1"], ["B", "2"]]),
            "Globals variables merge"
        );
        let template = &s["role TemplateRole"]["inline"];
        for name in [
            "TemplateRolePolicy0",
            "DeadLetterQueuePolicy",
            "TemplateEventInvokeConfigOnSuccessEventBridgePolicy",
            "TemplateEventInvokeConfigOnFailureLambdaPolicy",
        ] {
            assert!(template.get(name).is_some(), "{name}: {template}");
        }
    }
}

/// What the Lambda service uses the role for comes through the SAM transform: `Tracing` as
/// `TracingConfig.Mode`, `VpcConfig`, `DeadLetterQueue.TargetArn` as `DeadLetterConfig.TargetArn`, and
/// `EventInvokeConfig` as an `AWS::Lambda::EventInvokeConfig` whose `OnFailure` without `Destination`
/// names the queue SAM creates (AWS SAM Developer Guide, AWS::Serverless::Function, properties
/// Tracing, DeadLetterQueue and EventInvokeConfig:
/// https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-resource-function.html).
/// The translator agrees (the summaries above compare the configuration too).
#[test]
fn the_function_configuration_comes_through_the_transform() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sam/basic.yaml");
    let x = expand(&std::fs::read_to_string(&path).unwrap(), "basic.yaml", &Settings::default()).unwrap();
    let orders = x.account.functions.iter().find(|f| f.name == "Orders").unwrap();
    let c = &orders.config;
    assert_eq!(c.tracing_mode.as_deref(), Some("Active"), "from Globals");
    assert_eq!(c.vpc.as_ref().unwrap().subnet_ids, ["subnet-1"]);
    assert_eq!(c.dead_letter_target.as_deref(), Some("arn:aws:sqs:us-east-1:123456789012:Dlq"));
    let invoke = c.event_invoke.as_ref().expect("the EventInvokeConfig");
    assert_eq!(invoke.on_success.as_deref(), Some("arn:aws:sns:us-east-1:123456789012:Topic"));
    assert_eq!(
        invoke.on_failure.as_deref(),
        Some("arn:aws:sqs:us-east-1:123456789012:OrdersEventInvokeConfigOnFailureQueue")
    );
    assert!(c.event_invoke_read);
    assert_eq!(c.event_source_mappings.as_deref(), Some(&[][..]), "no triggers: none, not unknown");
    let plain = x.account.functions.iter().find(|f| f.name == "Plain").unwrap();
    assert_eq!(plain.config.tracing_mode, None, "Tracing: Disabled writes no TracingConfig");
}
