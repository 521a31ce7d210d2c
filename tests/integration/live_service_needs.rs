//! What the Lambda service needs, read live from the moto emulator: the function's event source
//! mapping (`ListEventSourceMappings`) and asynchronous invocation configuration
//! (`GetFunctionEventInvokeConfig`) are read through the SDK, written by `iamfit snapshot` as the AWS
//! CLI prints them, and audited the same way live and offline.

use crate::support;

use aws_sdk_lambda::types::{DestinationConfig, OnFailure};
use serde_json::Value;
use support::*;

/// Role `trigger-role` for function `worker`: it may write the function's logs and send to the
/// on-failure queue, but it lacks the SQS poller permissions of the trigger on `jobs`.
async fn seed(endpoint: &str) -> (String, String) {
    let cfg = sdk_config(endpoint, None);
    let iam = iam_client(&cfg);
    let failures = create_sqs_queue(endpoint, "job-failures");
    let jobs = create_sqs_queue(endpoint, "jobs");
    iam.create_role()
        .role_name("trigger-role")
        .assume_role_policy_document(LAMBDA_TRUST)
        .send()
        .await
        .expect("CreateRole");
    let logs = r#"{"Sid":"Logs","Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/worker:*"}"#;
    let send = format!(
        r#"{{"Sid":"Failures","Effect":"Allow","Action":"sqs:SendMessage","Resource":"{failures}"}}"#
    );
    iam.put_role_policy()
        .role_name("trigger-role")
        .policy_name("worker")
        .policy_document(doc(&format!("{logs},{send}")))
        .send()
        .await
        .expect("PutRolePolicy");
    let lambda = lambda_client(&cfg);
    create_function(&lambda, "worker", "arn:aws:iam::123456789012:role/trigger-role", &[]).await;
    lambda
        .create_event_source_mapping()
        .function_name("worker")
        .event_source_arn(&jobs)
        .batch_size(10)
        .send()
        .await
        .unwrap_or_else(|e| fail("CreateEventSourceMapping", e));
    lambda
        .put_function_event_invoke_config()
        .function_name("worker")
        .maximum_retry_attempts(1)
        .destination_config(
            DestinationConfig::builder()
                .on_failure(OnFailure::builder().destination(&failures).build())
                .build(),
        )
        .send()
        .await
        .unwrap_or_else(|e| fail("PutFunctionEventInvokeConfig", e));
    (jobs, failures)
}

fn json_of(out: &std::process::Output, what: &str) -> Value {
    assert!(out.status.success(), "{what} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{what}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn missing(audit: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = audit["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "missing-service-permission")
        .map(|f| (f["action"].as_str().unwrap().to_string(), f["message"].as_str().unwrap().to_string()))
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn the_trigger_and_the_invoke_config_are_read_live_and_written_as_the_cli_prints_them() {
    let moto = Moto::start();
    let (jobs, failures) = seed(&moto.endpoint()).await;
    let dir = tempfile::tempdir().unwrap();
    write_profile(dir.path(), "default", "AKIAIOSFODNN7EXAMPLE", "secret", REGION);

    // Live: the SQS trigger is read through ListEventSourceMappings; the role lacks its poller
    // permissions (Creating and configuring an Amazon SQS event source mapping: sqs:ReceiveMessage,
    // sqs:DeleteMessage, sqs:GetQueueAttributes).
    let live = json_of(
        &run_iamfit(dir.path(), &moto.endpoint(), &["audit", "--function", "worker", "-o", "json"]),
        "audit",
    );
    let found = missing(&live);
    let actions: Vec<&str> = found.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(actions, ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"], "{live}");
    let receive = &found[2].1;
    assert!(
        receive.starts_with("the SQS trigger on queue jobs cannot poll: the role lacks sqs:ReceiveMessage"),
        "{receive}"
    );
    // The on-failure destination (GetFunctionEventInvokeConfig) needs sqs:SendMessage, which the role
    // has: no finding for it.
    assert!(found.iter().all(|(a, _)| a != "sqs:SendMessage"));

    // The snapshot holds both files, as the AWS CLI prints them.
    let snap = dir.path().join("snap");
    let out = run_iamfit(
        dir.path(),
        &moto.endpoint(),
        &["snapshot", "--out", snap.to_str().unwrap(), "--function", "worker"],
    );
    assert!(out.status.success(), "snapshot: {}", String::from_utf8_lossy(&out.stderr));
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(snap.join("functions").join(name)).unwrap()).unwrap()
    };
    let mappings = read("worker.event-source-mappings.json");
    let list = mappings["EventSourceMappings"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{mappings}");
    assert_eq!(list[0]["EventSourceArn"], jobs.as_str());
    assert!(list[0]["UUID"].as_str().is_some_and(|u| !u.is_empty()), "{mappings}");
    assert!(list[0]["LastModified"].as_str().is_some_and(|t| t.ends_with('Z')), "an ISO time: {mappings}");
    let invoke = read("worker.event-invoke-config.json");
    assert_eq!(invoke["DestinationConfig"]["OnFailure"]["Destination"], failures.as_str());
    assert_eq!(invoke["MaximumRetryAttempts"], 1);

    // Offline, the same findings.
    let offline = json_of(
        &run_iamfit(
            dir.path(),
            &moto.endpoint(),
            &["audit", "--function", "worker", "--snapshot", snap.to_str().unwrap(), "-o", "json"],
        ),
        "offline audit",
    );
    assert_eq!(missing(&offline), found);
}

#[tokio::test]
async fn a_function_without_an_invoke_config_reads_as_none() {
    let moto = Moto::start();
    let cfg = sdk_config(&moto.endpoint(), None);
    iam_client(&cfg)
        .create_role()
        .role_name("plain-role")
        .assume_role_policy_document(LAMBDA_TRUST)
        .send()
        .await
        .expect("CreateRole");
    create_function(&lambda_client(&cfg), "plain", "arn:aws:iam::123456789012:role/plain-role", &[]).await;
    let dir = tempfile::tempdir().unwrap();
    write_profile(dir.path(), "default", "AKIAIOSFODNN7EXAMPLE", "secret", REGION);
    let snap = dir.path().join("snap");
    let out = run_iamfit(
        dir.path(),
        &moto.endpoint(),
        &["snapshot", "--out", snap.to_str().unwrap(), "--function", "plain"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "snapshot: {stderr}");
    // GetFunctionEventInvokeConfig answers ResourceNotFoundException: none is configured, not an error.
    assert!(!snap.join("functions/plain.event-invoke-config.json").exists());
    assert!(!stderr.contains("asynchronous invocation configuration"), "{stderr}");
    let mappings: Value = serde_json::from_str(
        &std::fs::read_to_string(snap.join("functions/plain.event-source-mappings.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(mappings, serde_json::json!({"EventSourceMappings": []}));
}
