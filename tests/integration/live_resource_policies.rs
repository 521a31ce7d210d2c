//! Resource-based policies read live from the moto emulator (KMS key policy, bucket policy, queue
//! policy, secret policy, function policy): the local principal is blocked by a key policy and a
//! bucket policy and the function's role is not; the live diff equals the diff of the snapshot that
//! `iamfit snapshot` writes from the same account; the snapshot's files have the AWS CLI's output
//! shapes (checked against the AWS CLI of the test venv); an unreadable key policy is a note.
//! Expectations written by hand from the AWS documentation cited at each assertion.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support::*;

const ACCOUNT: &str = "123456789012";
const ROLE: &str = "arn:aws:iam::123456789012:role/orders-role";
const FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:orders";

/// The resources, made with boto3 (the tests carry no KMS, SQS or Secrets Manager SDK).
struct Resources {
    key: String,
    queue: String,
    queue_url: String,
    secret: String,
    topic: String,
    table: String,
    bus: String,
    repo: String,
}

fn python() -> PathBuf {
    moto_server_path().with_file_name("python")
}

fn venv_aws() -> PathBuf {
    let path = moto_server_path().with_file_name("aws");
    assert!(
        path.is_file(),
        "{} is missing: run scripts/test (it installs the AWS CLI into .venv)",
        path.display()
    );
    path
}

/// A key whose policy names only the role, a bucket whose policy denies everyone but the role, a
/// queue and a secret whose policies allow the role.
fn seed_resources(endpoint: &str) -> Resources {
    let script = r#"
import json, sys, boto3
ep, role = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url=ep, region_name='us-east-1', aws_access_key_id='AKIAIOSFODNN7EXAMPLE', aws_secret_access_key='secret')
doc = lambda *st: json.dumps({'Version': '2012-10-17', 'Statement': list(st)})
kms = boto3.client('kms', **kw)
key = kms.create_key(Policy=doc({'Sid': 'RoleOnly', 'Effect': 'Allow', 'Principal': {'AWS': role}, 'Action': 'kms:*', 'Resource': '*'}))['KeyMetadata']['Arn']
s3 = boto3.client('s3', **kw)
s3.create_bucket(Bucket='orders-data')
s3.put_bucket_policy(Bucket='orders-data', Policy=doc({'Sid': 'OnlyTheFunction', 'Effect': 'Deny', 'Principal': '*', 'Action': 's3:*',
    'Resource': ['arn:aws:s3:::orders-data', 'arn:aws:s3:::orders-data/*'], 'Condition': {'ArnNotEquals': {'aws:PrincipalArn': role}}}))
sqs = boto3.client('sqs', **kw)
url = sqs.create_queue(QueueName='jobs')['QueueUrl']
qarn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=['QueueArn'])['Attributes']['QueueArn']
sqs.set_queue_attributes(QueueUrl=url, Attributes={'Policy': doc({'Sid': 'Role', 'Effect': 'Allow', 'Principal': {'AWS': role}, 'Action': 'sqs:SendMessage', 'Resource': qarn})})
sm = boto3.client('secretsmanager', **kw)
sarn = sm.create_secret(Name='db', SecretString='not-a-real-secret')['ARN']
sm.put_resource_policy(SecretId='db', ResourcePolicy=doc({'Sid': 'Role', 'Effect': 'Allow', 'Principal': {'AWS': role}, 'Action': 'secretsmanager:GetSecretValue', 'Resource': '*'}))
sns = boto3.client('sns', **kw)
topic = sns.create_topic(Name='order-events')['TopicArn']
sns.set_topic_attributes(TopicArn=topic, AttributeName='Policy', AttributeValue=doc({'Sid': 'Role', 'Effect': 'Allow', 'Principal': {'AWS': role}, 'Action': 'sns:Publish', 'Resource': topic}))
ddb = boto3.client('dynamodb', **kw)
table = ddb.create_table(TableName='orders', KeySchema=[{'AttributeName': 'id', 'KeyType': 'HASH'}],
    AttributeDefinitions=[{'AttributeName': 'id', 'AttributeType': 'S'}], BillingMode='PAY_PER_REQUEST')['TableDescription']['TableArn']
ddb.put_resource_policy(ResourceArn=table, Policy=doc({'Sid': 'Role', 'Effect': 'Allow', 'Principal': {'AWS': role}, 'Action': 'dynamodb:GetItem', 'Resource': table}))
ev = boto3.client('events', **kw)
bus = ev.create_event_bus(Name='orders-bus')['EventBusArn']
ev.put_permission(EventBusName='orders-bus', Policy=doc({'Sid': 'Role', 'Effect': 'Allow', 'Principal': {'AWS': role}, 'Action': 'events:PutEvents', 'Resource': bus}))
ecr = boto3.client('ecr', **kw)
repo = ecr.create_repository(repositoryName='app')['repository']['repositoryArn']
ecr.set_repository_policy(repositoryName='app', policyText=doc({'Sid': 'Role', 'Effect': 'Allow', 'Principal': {'AWS': role}, 'Action': 'ecr:BatchGetImage'}))
print(json.dumps({'key': key, 'queue': qarn, 'queue_url': url, 'secret': sarn, 'topic': topic, 'table': table, 'bus': bus, 'repo': repo}))
"#;
    let out = Command::new(python())
        .args(["-c", script, endpoint, ROLE])
        .env_clear()
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", python().display()));
    assert!(out.status.success(), "seed: {}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = |k: &str| v[k].as_str().unwrap().to_string();
    Resources {
        key: s("key"),
        queue: s("queue"),
        queue_url: s("queue_url"),
        secret: s("secret"),
        topic: s("topic"),
        table: s("table"),
        bus: s("bus"),
        repo: s("repo"),
    }
}

fn doc(statements: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#)
}

/// The role (function `orders`) and the user `dev` get the same identity grant; returns dev's key.
async fn seed(endpoint: &str, r: &Resources, extra_user_actions: &str, dev_grant: Option<&str>) -> TestKey {
    let cfg = sdk_config(endpoint, None);
    let iam = iam_client(&cfg);
    let grant = doc(&format!(
        r#"{{"Sid":"Key","Effect":"Allow","Action":"kms:Decrypt","Resource":"{}"}},
           {{"Sid":"Data","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::orders-data/*"}},
           {{"Sid":"Queue","Effect":"Allow","Action":"sqs:SendMessage","Resource":"{}"}},
           {{"Sid":"Secret","Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"{}"}},
           {{"Sid":"Topic","Effect":"Allow","Action":"sns:Publish","Resource":"{}"}},
           {{"Sid":"Table","Effect":"Allow","Action":"dynamodb:GetItem","Resource":"{}"}},
           {{"Sid":"Bus","Effect":"Allow","Action":"events:PutEvents","Resource":"{}"}},
           {{"Sid":"Repo","Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"{}"}},
           {{"Sid":"Invoke","Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"{FUNCTION}"}}"#,
        r.key, r.queue, r.secret, r.topic, r.table, r.bus, r.repo
    ));
    iam.create_role()
        .role_name("orders-role")
        .assume_role_policy_document(LAMBDA_TRUST)
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name("orders-role")
        .policy_name("fn")
        .policy_document(&grant)
        .send()
        .await
        .unwrap();
    let lambda = lambda_client(&cfg);
    create_function(&lambda, "orders", ROLE, &[]).await;
    lambda
        .add_permission()
        .function_name("orders")
        .statement_id("Role")
        .action("lambda:InvokeFunction")
        // The account: moto writes a role ARN as a bare string Principal, which AWS never returns.
        .principal(format!("arn:aws:iam::{ACCOUNT}:root"))
        .send()
        .await
        .unwrap();
    let dev = dev_grant.map_or_else(|| grant.clone(), doc);
    let mut policies = vec![("dev", dev)];
    if !extra_user_actions.is_empty() {
        policies.push((
            "read",
            doc(&format!(r#"{{"Effect":"Allow","Action":[{extra_user_actions}],"Resource":"*"}}"#)),
        ));
    }
    let refs: Vec<(&str, &str)> = policies.iter().map(|(n, d)| (*n, d.as_str())).collect();
    create_user(&iam, "dev", &refs, &[]).await;
    create_access_key(&iam, "dev").await
}

fn run_json(dir: &Path, endpoint: &str, args: &[&str]) -> (Value, String) {
    let out = run_iamfit(dir, endpoint, args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.code().is_some_and(|c| c == 0 || c == 3), "iamfit {args:?} failed: {stderr}");
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (json, stderr)
}

fn mismatches(json: &Value) -> Vec<(String, String, String, String, String)> {
    let mut out: Vec<_> = json["mismatches"]
        .as_array()
        .expect("mismatches")
        .iter()
        .map(|m| {
            let s = |k: &str| m[k].as_str().unwrap_or_default().to_string();
            (s("direction"), s("action"), s("resource"), s("local"), s("prod"))
        })
        .collect();
    out.sort();
    out
}

/// The AWS CLI's output of a get call against the emulator.
fn aws_cli(endpoint: &str, args: &[&str]) -> Value {
    let out = Command::new(venv_aws())
        .args(["--endpoint-url", endpoint, "--region", REGION, "--output", "json"])
        .args(args)
        .env_clear()
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .output()
        .unwrap_or_else(|e| panic!("run the AWS CLI: {e}"));
    assert!(out.status.success(), "aws {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .unwrap()
}

fn stem(arn: &str) -> String {
    arn.replace('%', "%25").replace('/', "%2F").replace(':', "%3A")
}

/// The file iamfit wrote has the keys of the AWS CLI's output (a subset: iamfit writes the fields it
/// reads) and the same policy.
fn same_shape(written: &Value, cli: &Value, policy_at: &[&str]) {
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    for k in keys(written) {
        assert!(cli.get(&k).is_some(), "key {k} of {written} is not in the AWS CLI's output {cli}");
    }
    let at = |v: &Value| {
        let text = policy_at.iter().fold(v, |v, k| &v[*k]).as_str().unwrap().to_string();
        serde_json::from_str::<Value>(&text).unwrap()
    };
    assert_eq!(at(written), at(cli));
}

#[tokio::test]
async fn key_and_bucket_policies_read_live_block_the_developer_and_the_snapshot_agrees() {
    let moto = Moto::start();
    let r = seed_resources(&moto.endpoint());
    let key = seed(&moto.endpoint(), &r, "", None).await;
    let dir = tempfile::tempdir().unwrap();
    write_profile(dir.path(), "dev", &key.access_key_id, &key.secret_access_key, REGION);

    let args = ["diff", "--function", "orders", "--profile", "dev", "-o", "json", "-v"];
    let (live, stderr) = run_json(dir.path(), &moto.endpoint(), &args);
    // The measure asked for by issue 11: calls and wall time of the concurrent reads.
    let figures = stderr.lines().find(|l| l.contains("resource policies of")).unwrap_or_default();
    eprintln!("{figures}");
    assert!(figures.contains("9 with a policy") && figures.contains("10 calls"), "{stderr}");
    // AWS KMS Developer Guide, "Key policies": an identity allow counts only when the key policy
    // enables IAM policies (root delegation); this key policy names the role alone.
    // https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html
    // IAM User Guide, "Policy evaluation logic": an explicit deny in a resource-based policy wins.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
    // Same account: the queue and secret policies allow the role and the identity policies allow
    // both, so neither differs ("Cross-account policy evaluation logic" applies only across accounts).
    let expected: Vec<(String, String, String, String, String)> = [
        ("prod-only", "kms:Decrypt", r.key.as_str(), "implicit-deny", "allow"),
        ("prod-only", "s3:GetObject", "arn:aws:s3:::orders-data/*", "explicit-deny", "allow"),
    ]
    .into_iter()
    .map(|(a, b, c, d, e)| (a.into(), b.into(), c.into(), d.into(), e.into()))
    .collect();
    assert_eq!(mismatches(&live), expected, "{live:#}");

    let snap = dir.path().join("snap");
    let out = run_iamfit(
        dir.path(),
        &moto.endpoint(),
        &["snapshot", "--out", snap.to_str().unwrap(), "--function", "orders", "--profile", "dev"],
    );
    assert!(out.status.success(), "snapshot failed: {}", String::from_utf8_lossy(&out.stderr));
    let kms_file = snap.join(format!("resource-policies/kms/{}.json", stem(&r.key)));
    let s3_file = snap.join("resource-policies/s3/orders-data.json");
    let sqs_file = snap.join(format!("resource-policies/sqs/{}.json", stem(&r.queue)));
    let secret_file = snap.join(format!("resource-policies/secretsmanager/{}.json", stem(&r.secret)));
    let endpoint = moto.endpoint();
    same_shape(
        &read(&kms_file),
        &aws_cli(&endpoint, &["kms", "get-key-policy", "--key-id", &r.key, "--policy-name", "default"]),
        &["Policy"],
    );
    same_shape(
        &read(&s3_file),
        &aws_cli(&endpoint, &["s3api", "get-bucket-policy", "--bucket", "orders-data"]),
        &["Policy"],
    );
    same_shape(
        &read(&sqs_file),
        &aws_cli(
            &endpoint,
            &["sqs", "get-queue-attributes", "--queue-url", &r.queue_url, "--attribute-names", "Policy"],
        ),
        &["Attributes", "Policy"],
    );
    same_shape(
        &read(&secret_file),
        &aws_cli(&endpoint, &["secretsmanager", "get-resource-policy", "--secret-id", "db"]),
        &["ResourcePolicy"],
    );

    let topic_file = snap.join(format!("resource-policies/sns/{}.json", stem(&r.topic)));
    same_shape(
        &read(&topic_file),
        &aws_cli(&endpoint, &["sns", "get-topic-attributes", "--topic-arn", &r.topic]),
        &["Attributes", "Policy"],
    );
    let table_file = snap.join(format!("resource-policies/dynamodb/{}.json", stem(&r.table)));
    same_shape(
        &read(&table_file),
        &aws_cli(&endpoint, &["dynamodb", "get-resource-policy", "--resource-arn", &r.table]),
        &["Policy"],
    );
    let bus_file = snap.join(format!("resource-policies/events/{}.json", stem(&r.bus)));
    same_shape(
        &read(&bus_file),
        &aws_cli(&endpoint, &["events", "describe-event-bus", "--name", "orders-bus"]),
        &["Policy"],
    );
    let repo_file = snap.join(format!("resource-policies/ecr/{}.json", stem(&r.repo)));
    same_shape(
        &read(&repo_file),
        &aws_cli(&endpoint, &["ecr", "get-repository-policy", "--repository-name", "app"]),
        &["policyText"],
    );
    let function_file = snap.join(format!("resource-policies/lambda/{}.json", stem(FUNCTION)));
    same_shape(
        &read(&function_file),
        &aws_cli(&endpoint, &["lambda", "get-policy", "--function-name", "orders"]),
        &["Policy"],
    );
    let secret = read(&secret_file);
    assert_eq!(secret["Name"], "db", "{secret}");

    let offline_args = [
        "diff",
        "--function",
        "orders",
        "--profile",
        "dev",
        "--snapshot",
        snap.to_str().unwrap(),
        "-o",
        "json",
    ];
    let (offline, _) = run_json(dir.path(), &moto.endpoint(), &offline_args);
    assert_eq!(mismatches(&offline), mismatches(&live), "live and snapshot diffs agree");

    // A snapshot made by hand with the AWS CLI works the same: its files replace iamfit's.
    std::fs::write(
        &kms_file,
        aws_cli(&endpoint, &["kms", "get-key-policy", "--key-id", &r.key, "--policy-name", "default"])
            .to_string(),
    )
    .unwrap();
    std::fs::write(
        &s3_file,
        aws_cli(&endpoint, &["s3api", "get-bucket-policy", "--bucket", "orders-data"]).to_string(),
    )
    .unwrap();
    let (by_hand, _) = run_json(dir.path(), &moto.endpoint(), &offline_args);
    assert_eq!(mismatches(&by_hand), mismatches(&live), "the AWS CLI's files give the same diff");
}

#[tokio::test]
async fn an_unreadable_key_policy_is_a_note() {
    let moto = Moto::start();
    let r = seed_resources(&moto.endpoint());
    // dev may read IAM and the bucket, queue and secret policies, not the key policy.
    let reads = r#""iam:Get*","iam:List*","sts:GetCallerIdentity","s3:GetBucketPolicy","sqs:GetQueueUrl","sqs:GetQueueAttributes","secretsmanager:GetResourcePolicy""#;
    let key = seed(&moto.endpoint(), &r, reads, None).await;
    let dir = tempfile::tempdir().unwrap();
    write_profile(dir.path(), "dev", &key.access_key_id, &key.secret_access_key, REGION);
    // moto's authorization checks: GetKeyPolicy is refused with AccessDenied. (moto cannot check the
    // signatures of Lambda's REST calls then, so the principal's side alone is read: `graph`.)
    moto.set_auth(true);
    let out =
        run_iamfit(dir.path(), &moto.endpoint(), &["graph", "--profile", "dev", "--effective", "-o", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let note = format!(
        "the key policy of {} could not be read (kms:GetKeyPolicy denied): decisions on {} assume AWS's default key policy",
        r.key, r.key
    );
    assert!(stderr.contains(&note), "{stderr}");
    // AWS KMS Developer Guide, "Default key policy": it lets the account's IAM policies allow, so
    // with the key policy unknown the identity allow decides.
    // https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
    let effective: Value = serde_json::from_slice(&out.stdout).unwrap();
    let decrypt =
        effective["actions"].as_array().unwrap().iter().find(|a| a["action"] == "kms:Decrypt").unwrap();
    assert_eq!(decrypt["allowed"], serde_json::json!([r.key]), "{decrypt}");
    // The bucket policy was read: its Deny takes the objects away from dev.
    let get =
        effective["actions"].as_array().unwrap().iter().find(|a| a["action"] == "s3:GetObject").unwrap();
    assert_eq!(get["denied"], serde_json::json!(["arn:aws:s3:::orders-data/*"]), "{get}");

    // The snapshot writes what it could read and says what it could not.
    let snap = dir.path().join("snap");
    let out = run_iamfit(
        dir.path(),
        &moto.endpoint(),
        &["snapshot", "--out", snap.to_str().unwrap(), "--profile", "dev"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{note} (which lets the account's IAM policies allow); the snapshot holds no file for it"
        )),
        "{stderr}"
    );
    assert!(snap.join("resource-policies/s3/orders-data.json").is_file(), "{stderr}");
    assert!(!snap.join("resource-policies/kms").exists(), "{stderr}");
}

/// A CloudTrail record of `dev` (an IAM user).
fn dev_record(source: &str, event: &str, params: Value, resource: (&str, &str), time: &str) -> Value {
    serde_json::json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": format!("arn:aws:iam::{ACCOUNT}:user/dev"),
                         "accountId": ACCOUNT, "userName": "dev"},
        "eventTime": time,
        "eventSource": source,
        "eventName": event,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.10",
        "requestParameters": params,
        "resources": [{"accountId": ACCOUNT, "type": resource.0, "ARN": resource.1}],
        "eventType": "AwsApiCall",
        "eventCategory": "Data",
        "managementEvent": false,
        "recipientAccountId": ACCOUNT
    })
}

#[tokio::test]
async fn the_trail_resources_are_read_and_generate_reports_what_their_policies_still_block() {
    let moto = Moto::start();
    let r = seed_resources(&moto.endpoint());
    // dev's policy names no resource (`*`): only the trail tells which key and bucket are in play.
    let grant = r#"{"Effect":"Allow","Action":["kms:Decrypt","s3:GetObject"],"Resource":"*"}"#;
    let key = seed(&moto.endpoint(), &r, "", Some(grant)).await;
    let dir = tempfile::tempdir().unwrap();
    write_profile(dir.path(), "dev", &key.access_key_id, &key.secret_access_key, REGION);
    let object = "arn:aws:s3:::orders-data/2026/a.json";
    let records = vec![
        dev_record(
            "kms.amazonaws.com",
            "Decrypt",
            serde_json::json!({"keyId": r.key}),
            ("AWS::KMS::Key", &r.key),
            "2026-11-02T10:00:00Z",
        ),
        dev_record(
            "s3.amazonaws.com",
            "GetObject",
            serde_json::json!({"bucketName": "orders-data", "key": "2026/a.json"}),
            ("AWS::S3::Object", object),
            "2026-11-02T10:01:00Z",
        ),
    ];
    let trail = dir.path().join("trail.json");
    std::fs::write(&trail, serde_json::json!({ "Records": records }).to_string()).unwrap();
    let report = dir.path().join("report.json");
    let principal = format!("arn:aws:iam::{ACCOUNT}:user/dev");
    let out = run_iamfit(
        dir.path(),
        &moto.endpoint(),
        &[
            "generate",
            "--principal",
            &principal,
            "--profile",
            "dev",
            "--trail",
            trail.to_str().unwrap(),
            "--since",
            "2026-11-01T00:00:00Z",
            "--report",
            report.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("resource policies of 2 resources in play (2 with a policy"), "{stderr}");
    assert!(
        stderr.contains(&format!("missing in the kms policy of {}: kms:Decrypt on {}", r.key, r.key)),
        "{stderr}"
    );
    let report = read(&report);
    let mut found: Vec<(String, String, String)> = report["missing_in_resource_policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let s = |k: &str| m[k].as_str().unwrap_or_default().to_string();
            (s("action"), s("resource"), s("denied_by"))
        })
        .collect();
    found.sort();
    // AWS KMS Developer Guide, "Key policies": the key policy names the role only, without root
    // delegation, so dev's identity allow is not enough; the statement dev needs is in the key policy.
    // https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html
    // IAM User Guide, "Policy evaluation logic": the bucket policy's Deny (statement OnlyTheFunction)
    // wins whatever the identity policy says.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
    assert_eq!(
        found,
        vec![
            ("kms:Decrypt".to_string(), r.key.clone(), String::new()),
            ("s3:GetObject".to_string(), object.to_string(), "OnlyTheFunction".to_string()),
        ],
        "{report:#}"
    );
    let kms = report["missing_in_resource_policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["action"] == "kms:Decrypt")
        .unwrap();
    assert_eq!(kms["statement"]["Principal"]["AWS"], principal);
    assert_eq!(kms["statement"]["Resource"], "*");
    assert_eq!(kms["layer"], "resource");
}
