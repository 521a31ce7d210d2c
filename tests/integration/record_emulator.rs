//! `iamfit exec --record` against the moto AWS emulator with its IAM enforcement on: a Python (boto3)
//! child and the AWS CLI call DynamoDB, S3 (a 5 MiB object both ways), SQS, Secrets Manager, KMS and
//! STS through the recorder; the recording lists exactly the calls below (written by hand from the
//! Service Authorization Reference), the call the role lacks is denied with its error code, moto
//! accepts every re-signed request, and `generate --trail calls.jsonl` allows every successful call
//! and not the denied one.

use crate::support;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use support::*;

const ACCOUNT: &str = "123456789012";

/// The role's grant: everything the child does but dynamodb:DeleteItem. Moto checks DynamoDB, SQS,
/// KMS and Secrets Manager against `*` (see EMULATOR.md), S3 against the bucket and object ARNs.
const ROLE_POLICY: &str = r#"{"Effect":"Allow","Action":["dynamodb:PutItem","dynamodb:GetItem","sqs:SendMessage","sqs:ReceiveMessage","secretsmanager:GetSecretValue","kms:Encrypt","kms:Decrypt"],"Resource":"*"},
{"Effect":"Allow","Action":["s3:PutObject","s3:GetObject"],"Resource":"arn:aws:s3:::orders-bucket/*"},
{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::orders-bucket"}"#;

/// User `dev` (may assume any role, profile `dev` in `dir`), role `orders-role`, function `orders`.
async fn seed(endpoint: &str, dir: &Path) {
    seed_developer_and_function(endpoint, dir, ROLE_POLICY, false, &[]).await;
}

/// The child: creates the resources straight at moto (not recorded), turns moto's IAM enforcement on,
/// then makes the recorded calls through AWS_ENDPOINT_URL with the role's credentials.
const CHILD: &str = r#"
import json, os, subprocess, urllib.request
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

moto = os.environ["MOTO_URL"]
admin = boto3.session.Session(aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="x", aws_session_token=None, region_name="us-east-1")
a = lambda name: admin.client(name, endpoint_url=moto)
a("dynamodb").create_table(TableName="orders", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
a("s3").create_bucket(Bucket="orders-bucket")
queue = a("sqs").create_queue(QueueName="orders-queue")["QueueUrl"]
a("secretsmanager").create_secret(Name="orders/db", SecretString="s3cr3t")
key = a("kms").create_key()["KeyMetadata"]["KeyId"]
urllib.request.urlopen(urllib.request.Request(moto + "/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"}))
print(json.dumps({"key": key}), flush=True)

cfg = Config(retries={"max_attempts": 1, "mode": "standard"})
c = lambda name: boto3.client(name, config=cfg)
d = c("dynamodb")
d.put_item(TableName="orders", Item={"id": {"S": "1"}})
assert d.get_item(TableName="orders", Key={"id": {"S": "1"}})["Item"]["id"]["S"] == "1"
try:
    d.delete_item(TableName="orders", Key={"id": {"S": "1"}})
    print("delete allowed", flush=True)
except ClientError as e:
    print("delete denied " + e.response["Error"]["Code"], flush=True)
s3 = c("s3")
big = os.urandom(5 * 1024 * 1024 + 17)
s3.put_object(Bucket="orders-bucket", Key="in/big.bin", Body=big)
assert s3.get_object(Bucket="orders-bucket", Key="in/big.bin")["Body"].read() == big
assert s3.list_objects_v2(Bucket="orders-bucket", Prefix="in/")["KeyCount"] == 1
sqs = c("sqs")
sqs.send_message(QueueUrl=queue, MessageBody="hi")
assert sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"] == "hi"
assert c("secretsmanager").get_secret_value(SecretId="orders/db")["SecretString"] == "s3cr3t"
k = c("kms")
blob = k.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
assert k.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
c("sts").get_caller_identity()
out = subprocess.run([os.environ["AWS_CLI"], "dynamodb", "get-item", "--table-name", "orders", "--key", '{"id": {"S": "1"}}'], capture_output=True, text=True)
assert out.returncode == 0, out.stderr
print("cli " + json.loads(out.stdout)["Item"]["id"]["S"], flush=True)
"#;

/// A tool installed next to moto in the test venv (`scripts/test` installs boto3 and the AWS CLI).
fn venv_tool(name: &str) -> PathBuf {
    let path = moto_server_path().parent().expect("the venv's bin folder").join(name);
    assert!(
        path.is_file(),
        "{} is missing: run scripts/test (it installs the AWS CLI into .venv)",
        path.display()
    );
    path
}

/// One line as the test compares it.
fn projection(line: &Value) -> Value {
    json!({
        "service": line["service"], "operation": line["operation"], "actions": line["actions"],
        "resources": line["resources"], "status": line["status"], "error_code": line["error_code"],
        "unknown_resources": line.get("unknown_resources").cloned().unwrap_or(json!([])),
        "permissionless": line.get("permissionless").cloned().unwrap_or(json!(false)),
    })
}

fn expected(key_arn: &str) -> Vec<Value> {
    let table = format!("arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders");
    let object = "arn:aws:s3:::orders-bucket/in/big.bin";
    let queue = format!("arn:aws:sqs:us-east-1:{ACCOUNT}:orders-queue");
    // Secrets Manager: a secret named without its ARN ends in six unknown characters.
    let secret = format!("arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:orders/db-??????");
    let call =
        |service: &str, op: &str, action: Option<&str>, resources: &[&str], status: &str, code: Value| {
            json!({"service": service, "operation": op, "actions": action.map_or(json!([]), |a| json!([a])),
               "resources": resources, "status": status, "error_code": code,
               "unknown_resources": [], "permissionless": action.is_none()})
        };
    let mut decrypt = call("kms", "Decrypt", Some("kms:Decrypt"), &[], "allowed", Value::Null);
    // Decrypt without KeyId: the key is in the ciphertext, not the request.
    decrypt["unknown_resources"] = json!(["kms:Decrypt"]);
    vec![
        call("dynamodb", "PutItem", Some("dynamodb:PutItem"), &[&table], "allowed", Value::Null),
        call("dynamodb", "GetItem", Some("dynamodb:GetItem"), &[&table], "allowed", Value::Null),
        call(
            "dynamodb",
            "DeleteItem",
            Some("dynamodb:DeleteItem"),
            &[&table],
            "denied",
            json!("AccessDenied"),
        ),
        call("s3", "PutObject", Some("s3:PutObject"), &[object], "allowed", Value::Null),
        call("s3", "GetObject", Some("s3:GetObject"), &[object], "allowed", Value::Null),
        call(
            "s3",
            "ListObjectsV2",
            Some("s3:ListBucket"),
            &["arn:aws:s3:::orders-bucket"],
            "allowed",
            Value::Null,
        ),
        call("sqs", "SendMessage", Some("sqs:SendMessage"), &[&queue], "allowed", Value::Null),
        call("sqs", "ReceiveMessage", Some("sqs:ReceiveMessage"), &[&queue], "allowed", Value::Null),
        call(
            "secretsmanager",
            "GetSecretValue",
            Some("secretsmanager:GetSecretValue"),
            &[&secret],
            "allowed",
            Value::Null,
        ),
        call("kms", "Encrypt", Some("kms:Encrypt"), &[key_arn], "allowed", Value::Null),
        decrypt,
        call("sts", "GetCallerIdentity", None, &[], "allowed", Value::Null),
        // The AWS CLI, a second client.
        call("dynamodb", "GetItem", Some("dynamodb:GetItem"), &[&table], "allowed", Value::Null),
    ]
}

/// Evaluates (action, resource) pairs against a policy with `iamfit simulate --requests`.
fn decisions(dir: &Path, policy: &Value, pairs: &[(&str, &str)]) -> Vec<String> {
    let lines: Vec<String> = pairs
        .iter()
        .enumerate()
        .map(|(i, (action, resource))| {
            json!({"id": i.to_string(), "action": action, "resource": resource, "policies": {"identity": [policy]}})
                .to_string()
        })
        .collect();
    let file = dir.join("requests.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let (code, stdout, stderr) = iamfit(&["simulate", "--requests", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["decision"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_recorded_run_lists_every_call_and_generate_allows_exactly_the_successful_ones() {
    let moto = Moto::start();
    let endpoint = moto.endpoint();
    let dir = tempfile::tempdir().unwrap();
    seed(&endpoint, dir.path()).await;
    let script = dir.path().join("child.py");
    std::fs::write(&script, CHILD).unwrap();
    let calls = dir.path().join("calls.jsonl");

    let out = iamfit_command(dir.path(), &endpoint)
        .env("MOTO_URL", &endpoint)
        .env("AWS_CLI", venv_tool("aws"))
        .args(["exec", "--function", "orders", "--profile", "dev", "--record", calls.to_str().unwrap(), "--"])
        .arg(venv_tool("python"))
        .arg(&script)
        .output()
        .unwrap();
    moto.set_auth(false);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}\nmoto:\n{}", moto.log_tail(30));
    let text = std::fs::read_to_string(&calls).unwrap();
    let mut printed = stdout.lines();
    let key: Value = serde_json::from_str(printed.next().unwrap()).unwrap();
    // DynamoDB answers a refusal with HTTP 400 `AccessDeniedException` ("Error handling with DynamoDB");
    // moto answers HTTP 403 with an XML `<Code>AccessDenied</Code>` that boto3 cannot parse for a JSON
    // service. The recorder records what the service sent.
    assert_eq!(printed.next(), Some("delete denied 403"), "{stdout}\n{text}");
    assert_eq!(printed.next(), Some("cli 1"), "{stdout}");

    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let key_arn = format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{}", key["key"].as_str().unwrap());
    let got: Vec<Value> = lines.iter().map(projection).collect();
    assert_eq!(got, expected(&key_arn), "recording:\n{text}");
    for l in &lines {
        assert_eq!(l["principal"], format!("arn:aws:sts::{ACCOUNT}:assumed-role/orders-role/iamfit-dev"));
        assert_eq!(l["function"], "orders");
        assert!(l["time"].as_str().unwrap().ends_with('Z'), "{l}");
    }
    // Moto checked every re-signed request: all answered as a service answers, none refused the signature.
    let statuses: Vec<u64> = lines.iter().map(|l| l["http_status"].as_u64().unwrap()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 12, "{statuses:?}");
    assert_eq!(lines[2]["http_status"], 403);
    // Nothing secret is written: not the secret value, not the role's keys.
    assert!(!text.contains("s3cr3t") && !text.contains("Signature") && !text.contains("ASIA"), "{text}");
    assert!(stderr.contains("recorded 13 call(s)"), "{stderr}");
    assert!(stderr.contains("dynamodb:DeleteItem (AccessDenied, 1x)"), "{stderr}");

    // generate from the recording alone (offline): every successful call allowed, the denied one not.
    let (code, policy_text, err) = iamfit(&["generate", "--trail", calls.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let policy: Value = serde_json::from_str(&policy_text).unwrap();
    let table = format!("arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders");
    let queue = format!("arn:aws:sqs:us-east-1:{ACCOUNT}:orders-queue");
    let secret = format!("arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:orders/db-AbCdEf");
    let allowed = [
        ("dynamodb:PutItem", table.as_str()),
        ("dynamodb:GetItem", table.as_str()),
        ("s3:PutObject", "arn:aws:s3:::orders-bucket/in/big.bin"),
        ("s3:GetObject", "arn:aws:s3:::orders-bucket/in/big.bin"),
        ("s3:ListBucket", "arn:aws:s3:::orders-bucket"),
        ("sqs:SendMessage", queue.as_str()),
        ("sqs:ReceiveMessage", queue.as_str()),
        ("secretsmanager:GetSecretValue", secret.as_str()),
        ("kms:Encrypt", key_arn.as_str()),
        ("kms:Decrypt", key_arn.as_str()),
    ];
    let mut pairs = allowed.to_vec();
    pairs.push(("dynamodb:DeleteItem", table.as_str()));
    let got = decisions(dir.path(), &policy, &pairs);
    let mut want = vec!["allow".to_string(); allowed.len()];
    want.push("implicit-deny".into());
    assert_eq!(got, want, "policy:\n{policy_text}");

    // The function's own view: the recording counts for --function orders (live account read from moto).
    let out = run_iamfit(
        dir.path(),
        &endpoint,
        &[
            "usage",
            "--function",
            "orders",
            "--profile",
            "dev",
            "--trail",
            calls.to_str().unwrap(),
            "-o",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let usage: Value = serde_json::from_slice(&out.stdout).unwrap();
    let actions: Vec<&str> =
        usage["actions"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(actions.len(), 10, "{usage}");
    assert!(
        usage["actions"].as_array().unwrap().iter().all(|a| a["seen_in"] == json!(["recording"])),
        "{usage}"
    );
    assert_eq!(usage["denied"][0]["action"], "dynamodb:DeleteItem");
    assert_eq!(usage["denied"][0]["error_code"], "AccessDenied");
    assert_eq!(usage["permissionless_calls"], 1);
}

/// One call, then wait to be interrupted.
const WAITING_CHILD: &str = r#"
import time, boto3
boto3.client("sts").get_caller_identity()
print("ready", flush=True)
time.sleep(60)
"#;

#[tokio::test]
async fn ctrl_c_stops_the_child_and_keeps_the_recording_complete() {
    let moto = Moto::start();
    let endpoint = moto.endpoint();
    let dir = tempfile::tempdir().unwrap();
    seed(&endpoint, dir.path()).await;
    let script = dir.path().join("wait.py");
    std::fs::write(&script, WAITING_CHILD).unwrap();
    let calls = dir.path().join("calls.jsonl");
    let mut child = iamfit_command(dir.path(), &endpoint)
        .args(["exec", "--function", "orders", "--profile", "dev", "--record", calls.to_str().unwrap(), "--"])
        .arg(venv_tool("python"))
        .arg(&script)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut ready = String::new();
    std::io::BufRead::read_line(&mut reader, &mut ready).unwrap();
    assert_eq!(ready.trim(), "ready");
    std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Python dies of the forwarded SIGINT: 128 + 2.
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    let text = std::fs::read_to_string(&calls).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert_eq!(lines[0]["operation"], "GetCallerIdentity");
    assert_eq!(lines[0]["permissionless"], true);
    assert!(stderr.contains("recorded 1 call(s)"), "{stderr}");
}

/// As the developer: no role is assumed; the calls are made and recorded with the caller's own key.
const CALLER_CHILD: &str = r#"
import os, boto3
moto = os.environ["MOTO_URL"]
boto3.client("s3", endpoint_url=moto, aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="x").create_bucket(Bucket="new-code-bucket")
print(os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "-"), os.environ["AWS_ACCESS_KEY_ID"][:4], flush=True)
boto3.client("s3").list_objects_v2(Bucket="new-code-bucket")
"#;

#[tokio::test]
async fn as_caller_records_the_developers_own_calls_before_a_role_exists() {
    let moto = Moto::start();
    let endpoint = moto.endpoint();
    let dir = tempfile::tempdir().unwrap();
    seed(&endpoint, dir.path()).await;
    let script = dir.path().join("caller.py");
    std::fs::write(&script, CALLER_CHILD).unwrap();
    let calls = dir.path().join("calls.jsonl");
    // No --function: the function and its role need not exist yet.
    let out = iamfit_command(dir.path(), &endpoint)
        .env("MOTO_URL", &endpoint)
        .args(["exec", "--as-caller", "--profile", "dev", "--record", calls.to_str().unwrap(), "--"])
        .arg(venv_tool("python"))
        .arg(&script)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}\n{}", String::from_utf8_lossy(&out.stdout));
    // The caller's long-term key (AKIA...), not a role session (ASIA...); no Lambda environment.
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "- AKIA");
    let text = std::fs::read_to_string(&calls).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert_eq!(lines[0]["principal"], format!("arn:aws:iam::{ACCOUNT}:user/dev"));
    assert_eq!(lines[0]["operation"], "ListObjectsV2");
    assert_eq!(lines[0]["actions"], json!(["s3:ListBucket"]));
    assert_eq!(lines[0]["resources"], json!(["arn:aws:s3:::new-code-bucket"]));
    assert_eq!(lines[0]["status"], "allowed");
    assert!(lines[0].get("function").is_none(), "{text}");

    // The policy the new code's role needs, from the recording alone.
    let (code, policy, err) = iamfit(&["generate", "--trail", calls.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let policy: Value = serde_json::from_str(&policy).unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    assert!(
        statements.iter().any(|s| s["Action"].to_string().contains("s3:ListBucket")
            && s["Resource"].to_string().contains("arn:aws:s3:::new-code-bucket")),
        "{policy}"
    );
}
