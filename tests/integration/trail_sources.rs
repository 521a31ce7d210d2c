//! The remote trail sources: `--trail lookup` against the protocol-faithful LookupEvents test server
//! (pagination, pacing, throttling), and `--trail s3://...` against the moto emulator's S3 (delivery
//! layout, narrowing by account and date, digest files skipped, a corrupt object reported).

use crate::support;

use std::io::Write;
use std::process::Command;

use serde_json::{json, Value};
use support::*;

const ROLE: &str = "arn:aws:iam::123456789012:role/orders-role";

fn record(i: usize, session: &str, day: u32, event_name: &str, error: Option<&str>) -> Value {
    let mut r = json!({
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": format!("AROAEXAMPLEORDERS:{session}"),
            "arn": format!("arn:aws:sts::123456789012:assumed-role/orders-role/{session}"),
            "accountId": "123456789012",
            "accessKeyId": "ASIAEXAMPLE",
            "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEORDERS", "arn": ROLE, "accountId": "123456789012", "userName": "orders-role"}}
        },
        "eventTime": format!("2026-11-{day:02}T10:{:02}:{:02}Z", i / 60 % 60, i % 60),
        "eventSource": "dynamodb.amazonaws.com",
        "eventName": event_name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "3.3.3.3",
        "userAgent": "Boto3/1.35.0",
        "requestParameters": {"tableName": "orders", "key": {"id": {"S": i.to_string()}}},
        "responseElements": null,
        "eventID": format!("00000000-0000-4000-8000-{i:012}"),
        "readOnly": true,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": "123456789012",
        "eventCategory": "Management"
    });
    if let Some(code) = error {
        r["errorCode"] = json!(code);
        r["errorMessage"] = json!("User is not authorized");
    }
    r
}

fn env_command(endpoint: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_iamfit"));
    clear_aws_env(&mut cmd)
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .env("NO_COLOR", "1")
        .args(["--endpoint-url", endpoint]);
    cmd
}

fn action<'a>(json: &'a Value, name: &str) -> Option<&'a Value> {
    json["actions"].as_array()?.iter().find(|a| a["action"] == name)
}

#[test]
fn lookup_paginates_paces_and_retries_throttles() {
    let mut records = Vec::new();
    for i in 0..120 {
        records.push(record(i, "orders", 2, "GetItem", None));
    }
    for i in 120..125 {
        records.push(record(i, "orders", 3, "PutItem", Some("AccessDeniedException")));
    }
    for i in 125..160 {
        records.push(record(i, "alice", 2, "Scan", None)); // another session of the role: not the function
    }
    let server = LookupServer::start(records, 1);
    let started = std::time::Instant::now();
    let out = env_command(&server.endpoint())
        .args([
            "usage",
            "--principal",
            "arn:aws:sts::123456789012:assumed-role/orders-role/orders",
            "--trail",
            "lookup",
        ])
        .args(["--since", "2026-11-01T00:00:00Z", "--until", "2026-11-30T00:00:00Z", "-o", "json"])
        .output()
        .expect("iamfit runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["events"]["read"], 125, "the server filtered by the session name: {json}");
    assert_eq!(json["events"]["matched"], 125);
    assert_eq!(action(&json, "dynamodb:GetItem").expect("GetItem used")["count"], 120);
    assert!(action(&json, "dynamodb:PutItem").is_none(), "denied calls are never used actions");
    let denied = &json["denied"][0];
    assert_eq!((denied["action"].as_str(), denied["count"].as_u64()), (Some("dynamodb:PutItem"), Some(5)));
    assert!(json["notes"].to_string().contains("management events only"));

    let log = server.log();
    assert_eq!(log.pages, 3, "125 events in pages of 50");
    assert_eq!(log.throttled, 1, "only the forced throttle: the client paces itself to 2 requests/s");
    assert!(log.targets.iter().all(|t| t == "CloudTrail_20131101.LookupEvents"), "{:?}", log.targets);
    assert!(log
        .bodies
        .iter()
        .all(|b| b["LookupAttributes"][0]["AttributeValue"] == "orders" && b["StartTime"].is_number()));
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(900),
        "three pages need at least two intervals of 500 ms"
    );
}

fn gzip(records: &[Value]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(json!({"Records": records}).to_string().as_bytes()).unwrap();
    enc.finish().unwrap()
}

#[tokio::test]
async fn s3_trails_are_narrowed_by_date_and_report_corrupt_objects() {
    let moto = Moto::start();
    let cfg = sdk_config(&moto.endpoint(), None);
    let s3 =
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&cfg).force_path_style(true).build());
    s3.create_bucket().bucket("trail-bucket").send().await.expect("CreateBucket");
    let base = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11";
    let put = |key: String, body: Vec<u8>| {
        let s3 = s3.clone();
        async move {
            s3.put_object()
                .bucket("trail-bucket")
                .key(&key)
                .body(body.into())
                .send()
                .await
                .expect("PutObject");
        }
    };
    put(
        format!("{base}/01/123456789012_CloudTrail_us-east-1_20261101T1000Z_a.json.gz"),
        gzip(&(0..10).map(|i| record(i, "orders", 1, "GetItem", None)).collect::<Vec<_>>()),
    )
    .await;
    put(
        format!("{base}/02/123456789012_CloudTrail_us-east-1_20261102T1000Z_b.json.gz"),
        gzip(&(10..25).map(|i| record(i, "orders", 2, "Query", None)).collect::<Vec<_>>()),
    )
    .await;
    // Outside the window: never listed.
    put(
        "AWSLogs/123456789012/CloudTrail/us-east-1/2026/10/01/old.json.gz".into(),
        gzip(&[record(99, "orders", 1, "Scan", None)]),
    )
    .await;
    // Digest files are not logs.
    put("AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/01/digest.json.gz".into(), gzip(&[])).await;
    // A corrupt object is reported and the rest is still read.
    put(
        format!("{base}/02/123456789012_CloudTrail_us-east-1_20261102T1100Z_c.json.gz"),
        b"\x1f\x8b\x08\x00broken".to_vec(),
    )
    .await;

    let out = env_command(&moto.endpoint())
        .args([
            "usage",
            "--principal",
            ROLE,
            "--trail",
            "s3://trail-bucket",
            "--since",
            "2026-11-01T00:00:00Z",
            "--until",
            "2026-11-03T00:00:00Z",
            "-o",
            "json",
        ])
        .output()
        .expect("iamfit runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "a corrupt object makes the result partial: {stderr}");
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["events"]["read"], 25);
    assert_eq!(action(&json, "dynamodb:GetItem").expect("GetItem")["count"], 10);
    assert_eq!(action(&json, "dynamodb:Query").expect("Query")["count"], 15);
    assert!(action(&json, "dynamodb:Scan").is_none(), "October is outside the window");
    assert_eq!(json["partial"], true);
    assert!(json["files_failed"].to_string().contains("_c.json.gz"), "{}", json["files_failed"]);
    assert!(stderr.contains("partial"), "{stderr}");
    let resources = action(&json, "dynamodb:GetItem").unwrap()["resources"].to_string();
    assert!(resources.contains("arn:aws:dynamodb:us-east-1:123456789012:table/orders"), "{resources}");
}
