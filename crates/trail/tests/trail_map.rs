//! CloudTrail records -> IAM actions and resources (src/trail/map.rs), and the generated event table
//! (`src/trail/data/events.tsv`) must be what `tools/gen_event_map.py` writes from ../shared/data.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::string_slice, missing_docs)]

use std::path::PathBuf;
use std::process::Command;

use iamfit_catalog::Catalog;
use iamfit_trail::map::{
    coverage, is_permissionless, map_event, no_action_reason, Coverage, Mapping, Needed, ResourceKnowledge,
};
use iamfit_trail::Event;
use serde_json::json;

const ACCT: &str = "111122223333";

/// A record as CloudTrail writes it, for a Lambda function's role session.
fn record(source: &str, name: &str, params: serde_json::Value) -> serde_json::Value {
    json!({
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:orders",
            "arn": format!("arn:aws:sts::{ACCT}:assumed-role/orders-fn-role/orders"),
            "accountId": ACCT,
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": format!("arn:aws:iam::{ACCT}:role/orders-fn-role"), "userName": "orders-fn-role"}}
        },
        "eventTime": "2026-11-01T10:00:00Z",
        "eventSource": format!("{source}.amazonaws.com"),
        "eventName": name,
        "awsRegion": "us-east-1",
        "requestParameters": params,
        "responseElements": null,
        "eventType": "AwsApiCall",
        "recipientAccountId": ACCT
    })
}

fn map(rec: &serde_json::Value) -> Mapping {
    let text = rec.to_string();
    let e: Event = serde_json::from_str(&text).unwrap();
    map_event(&e, Catalog::get())
}

fn actions(rec: &serde_json::Value) -> Vec<Needed> {
    match map(rec) {
        Mapping::Actions(a) => a,
        other => panic!("{other:?} for {rec}"),
    }
}

fn one(rec: &serde_json::Value) -> Needed {
    let a = actions(rec);
    assert_eq!(a.len(), 1, "{a:?}");
    a.into_iter().next().unwrap()
}

fn names(a: &[Needed]) -> Vec<&str> {
    a.iter().map(|n| n.action.as_str()).collect()
}

#[test]
fn lambda_invoke_and_versioned_names() {
    let n = one(&record(
        "lambda",
        "Invoke",
        json!({"functionName": "arn:aws:lambda:us-east-1:111122223333:function:billing", "invocationType": "RequestResponse"}),
    ));
    assert_eq!(n.action, "lambda:InvokeFunction");
    assert_eq!(n.resources, vec!["arn:aws:lambda:us-east-1:111122223333:function:billing"]);
    let n = one(&record("lambda", "Invoke", json!({"functionName": "billing", "qualifier": "live"})));
    assert_eq!(n.resources, vec!["arn:aws:lambda:us-east-1:111122223333:function:billing:live"]);
    for (event, want) in [
        ("GetFunction20150331v2", "lambda:GetFunction"),
        ("ListFunctions20150331", "lambda:ListFunctions"),
        ("UpdateFunctionCode20150331v2", "lambda:UpdateFunctionCode"),
        ("GetFunctionConfiguration20150331v2", "lambda:GetFunctionConfiguration"),
    ] {
        let n = one(&record("lambda", event, json!({"functionName": "billing"})));
        assert_eq!(n.action, want, "{event}");
    }
    let n = one(&record("lambda", "ListFunctions20150331", json!(null)));
    assert_eq!(n.resource, ResourceKnowledge::NotScoped);
    assert!(n.resources.is_empty());
}

#[test]
fn trailscraper_regressions() {
    // RestoreDBInstanceFromS3 keeps its 3 (trailscraper stripped it).
    let a = actions(&record(
        "rds",
        "RestoreDBInstanceFromS3",
        json!({"dBInstanceIdentifier": "db1", "s3BucketName": "dumps"}),
    ));
    assert_eq!(names(&a), vec!["rds:RestoreDBInstanceFromS3"]);
    // ListClustersV2 keeps its 2 when it is a real operation; EKS's ListClusters is the catalog's action.
    let cat = Catalog::get();
    assert!(cat.action("eks:ListClusters").is_some());
    let a = actions(&record("eks", "ListClusters", json!({})));
    assert_eq!(names(&a), vec!["eks:ListClusters"]);
    // ListClustersV2 is MSK's (kafka): it keeps its 2; EKS has no such operation and is not invented.
    let a = actions(&record("kafka", "ListClustersV2", json!({})));
    assert_eq!(names(&a), vec!["kafka:ListClustersV2"]);
    assert!(cat.operation("eks", "ListClustersV2").is_none());
    assert!(matches!(map(&record("eks", "ListClustersV2", json!({}))), Mapping::Unmapped { .. }));
    // A denied call is mapped like any other: the aggregator separates it by errorCode.
    let mut rec = record("s3", "GetObject", json!({"bucketName": "b", "key": "k"}));
    rec["errorCode"] = json!("AccessDenied");
    assert_eq!(one(&rec).action, "s3:GetObject");
}

#[test]
fn s3_renamed_operations() {
    let get = one(&record(
        "s3",
        "GetObject",
        json!({"bucketName": "orders", "key": "2024/a.json", "Host": "orders.s3.us-east-1.amazonaws.com"}),
    ));
    assert_eq!(get.action, "s3:GetObject");
    assert_eq!(get.resources, vec!["arn:aws:s3:::orders/2024/a.json"]);
    for op in ["ListObjectsV2", "ListObjects", "HeadBucket"] {
        let n = one(&record("s3", op, json!({"bucketName": "orders", "list-type": "2", "prefix": "2024/"})));
        assert_eq!(
            (n.action.as_str(), n.resources.clone()),
            ("s3:ListBucket", vec!["arn:aws:s3:::orders".to_string()]),
            "{op}"
        );
    }
    assert_eq!(
        one(&record("s3", "HeadObject", json!({"bucketName": "orders", "key": "k"}))).action,
        "s3:GetObject"
    );
    assert_eq!(
        one(&record(
            "s3",
            "GetObject",
            json!({"bucketName": "orders", "key": "k", "versionId": "3HL4kqtJlcpXroDTDmJ"})
        ))
        .action,
        "s3:GetObjectVersion"
    );
    let n = one(&record(
        "s3",
        "CompleteMultipartUpload",
        json!({"bucketName": "orders", "key": "big.bin", "uploadId": "x"}),
    ));
    assert_eq!((n.action.as_str(), n.resources[0].as_str()), ("s3:PutObject", "arn:aws:s3:::orders/big.bin"));
    let copy = actions(&record(
        "s3",
        "CopyObject",
        json!({"bucketName": "dst", "key": "out/a.json", "x-amz-copy-source": "src/in/a.json"}),
    ));
    assert_eq!(names(&copy), vec!["s3:PutObject", "s3:GetObject"]);
    assert_eq!(copy[0].resources, vec!["arn:aws:s3:::dst/out/a.json"]);
    assert_eq!(copy[1].resources, vec!["arn:aws:s3:::src/in/a.json"]);
    // resources[] when the request does not say.
    let mut rec = record("s3", "PutObject", json!({}));
    rec["resources"] = json!([{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::orders/x"}, {"type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::orders"}]);
    assert_eq!(one(&rec).resources, vec!["arn:aws:s3:::orders/x"]);
    assert_eq!(one(&record("s3", "ListBuckets", json!({}))).action, "s3:ListAllMyBuckets");
}

#[test]
fn cloudfront_dated_names() {
    let n = one(&record("cloudfront", "GetDistribution2020_05_31", json!({"id": "E2QWRUHEXAMPLE"})));
    assert_eq!(n.action, "cloudfront:GetDistribution");
    let a = actions(&record("cloudfront", "CreateDistribution2020_05_31", json!({})));
    assert!(names(&a).contains(&"cloudfront:CreateDistribution"), "{a:?}");
}

#[test]
fn sqs_dynamodb_kms_secrets_ssm_logs() {
    let n = one(&record(
        "sqs",
        "SendMessage",
        json!({"queueUrl": "https://sqs.us-east-1.amazonaws.com/111122223333/orders-queue", "messageBody": "HIDDEN_DUE_TO_SECURITY_REASONS"}),
    ));
    assert_eq!(
        (n.action.as_str(), n.resources[0].as_str()),
        ("sqs:SendMessage", "arn:aws:sqs:us-east-1:111122223333:orders-queue")
    );
    // SendMessageBatch is authorized by sqs:SendMessage.
    assert_eq!(
        one(&record(
            "sqs",
            "SendMessageBatch",
            json!({"queueUrl": "https://sqs.us-east-1.amazonaws.com/111122223333/q"})
        ))
        .action,
        "sqs:SendMessage"
    );

    let q = one(&record(
        "dynamodb",
        "Query",
        json!({"tableName": "orders", "indexName": "by-customer", "keyConditionExpression": "c = :c"}),
    ));
    assert_eq!(q.resources, vec!["arn:aws:dynamodb:us-east-1:111122223333:table/orders/index/by-customer"]);
    let q = one(&record("dynamodb", "Query", json!({"tableName": "orders"})));
    assert_eq!(q.resources, vec!["arn:aws:dynamodb:us-east-1:111122223333:table/orders"]);
    let b = one(&record(
        "dynamodb",
        "BatchGetItem",
        json!({"requestItems": {"orders": {"keys": []}, "customers": {"keys": []}}}),
    ));
    assert_eq!(b.action, "dynamodb:BatchGetItem");
    assert_eq!(
        b.resources,
        vec![
            "arn:aws:dynamodb:us-east-1:111122223333:table/customers",
            "arn:aws:dynamodb:us-east-1:111122223333:table/orders"
        ]
    );
    assert_eq!(
        one(&record("dynamodb", "BatchWriteItem", json!({"requestItems": {"orders": []}}))).action,
        "dynamodb:BatchWriteItem"
    );
    let t = actions(&record(
        "dynamodb",
        "TransactWriteItems",
        json!({"transactItems": [{"put": {"tableName": "orders"}}, {"update": {"tableName": "stock"}}]}),
    ));
    assert_eq!(names(&t), vec!["dynamodb:PutItem", "dynamodb:UpdateItem"]);

    let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let mut rec = record(
        "kms",
        "Decrypt",
        json!({"keyId": "alias/orders", "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
    );
    rec["resources"] = json!([{"accountId": ACCT, "type": "AWS::KMS::Key", "ARN": key}]);
    assert_eq!(one(&rec).resources, vec![key]);
    let n = one(&record("kms", "GenerateDataKey", json!({"keyId": "alias/orders", "keySpec": "AES_256"})));
    assert!(matches!(n.resource, ResourceKnowledge::Unknown(_)), "{n:?}");
    let n = one(&record(
        "kms",
        "GenerateDataKeyWithoutPlaintext",
        json!({"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}),
    ));
    assert_eq!((n.action.as_str(), n.resources[0].as_str()), ("kms:GenerateDataKeyWithoutPlaintext", key));
    let r = actions(&record(
        "kms",
        "ReEncrypt",
        json!({"sourceKeyId": key, "destinationKeyId": "arn:aws:kms:us-east-1:111122223333:key/other"}),
    ));
    assert_eq!(names(&r), vec!["kms:ReEncryptFrom", "kms:ReEncryptTo"]);
    assert_eq!(r[0].resources, vec![key]);
    assert_eq!(r[1].resources, vec!["arn:aws:kms:us-east-1:111122223333:key/other"]);
    let d = one(&record("kms", "DeleteAlias", json!({"aliasName": "alias/orders"})));
    assert_eq!(d.resources, vec!["arn:aws:kms:us-east-1:111122223333:alias/orders"]);

    let s = one(&record("secretsmanager", "GetSecretValue", json!({"secretId": "prod/orders/db"})));
    assert_eq!(
        s.resources,
        vec!["arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/orders/db-??????"]
    );
    let arn = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/orders/db-AbCdEf";
    assert_eq!(
        one(&record("secretsmanager", "GetSecretValue", json!({"secretId": arn}))).resources,
        vec![arn]
    );

    let p = one(&record(
        "ssm",
        "GetParameters",
        json!({"names": ["/orders/db-host", "orders-flag"], "withDecryption": true}),
    ));
    assert_eq!(
        p.resources,
        vec![
            "arn:aws:ssm:us-east-1:111122223333:parameter/orders-flag",
            "arn:aws:ssm:us-east-1:111122223333:parameter/orders/db-host"
        ]
    );
    let l = one(&record(
        "logs",
        "CreateLogStream",
        json!({"logGroupName": "/aws/lambda/orders", "logStreamName": "2026/11/01/[$LATEST]abc"}),
    ));
    assert_eq!(l.action, "logs:CreateLogStream");
    assert!(
        l.resources[0].starts_with("arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/orders"),
        "{l:?}"
    );
}

#[test]
fn sns_events_iam_sts() {
    let n = one(&record(
        "sns",
        "Publish",
        json!({"topicArn": "arn:aws:sns:us-east-1:111122223333:orders", "message": "HIDDEN"}),
    ));
    assert_eq!(n.resources, vec!["arn:aws:sns:us-east-1:111122223333:orders"]);
    let e = one(&record(
        "events",
        "PutEvents",
        json!({"entries": [{"source": "orders", "eventBusName": "orders-bus"}]}),
    ));
    assert_eq!(e.resources, vec!["arn:aws:events:us-east-1:111122223333:event-bus/orders-bus"]);
    let e = one(&record("events", "PutEvents", json!({"entries": [{"source": "orders"}]})));
    assert_eq!(e.resources, vec!["arn:aws:events:us-east-1:111122223333:event-bus/default"]);
    let r = one(&record("iam", "GetRole", json!({"roleName": "orders-fn-role"})));
    assert_eq!(r.resources, vec!["arn:aws:iam::111122223333:role/orders-fn-role"]);
    let p = actions(&record(
        "iam",
        "AttachRolePolicy",
        json!({"roleName": "r", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
    ));
    assert_eq!(p[0].action, "iam:AttachRolePolicy");
    let mut rec = record(
        "sts",
        "AssumeRole",
        json!({"roleArn": "arn:aws:iam::444455556666:role/deploy", "roleSessionName": "s"}),
    );
    rec["resources"] = json!([{"ARN": "arn:aws:iam::444455556666:role/deploy", "type": "AWS::IAM::Role"}]);
    let a = one(&rec);
    assert_eq!(
        (a.action.as_str(), a.resources[0].as_str()),
        ("sts:AssumeRole", "arn:aws:iam::444455556666:role/deploy")
    );
    // CreateFunction passes its role.
    let c = actions(&record(
        "lambda",
        "CreateFunction20150331",
        json!({"functionName": "f", "role": "arn:aws:iam::111122223333:role/f-role", "runtime": "python3.12"}),
    ));
    assert_eq!(names(&c), vec!["lambda:CreateFunction", "iam:PassRole"]);
    assert_eq!(c[1].resources, vec!["arn:aws:iam::111122223333:role/f-role"]);
}

#[test]
fn partitions_and_accounts() {
    let mut rec = record("dynamodb", "GetItem", json!({"tableName": "t"}));
    rec["awsRegion"] = json!("cn-north-1");
    assert_eq!(one(&rec).resources, vec!["arn:aws-cn:dynamodb:cn-north-1:111122223333:table/t"]);
    rec["awsRegion"] = json!("us-gov-west-1");
    rec.as_object_mut().unwrap().remove("recipientAccountId");
    assert_eq!(one(&rec).resources, vec!["arn:aws-us-gov:dynamodb:us-gov-west-1:111122223333:table/t"]);
}

#[test]
fn permissionless_unknown_and_service_events() {
    assert_eq!(map(&record("sts", "GetCallerIdentity", json!(null))), Mapping::Permissionless);
    assert!(matches!(map(&record("nosuchservice", "DoThing", json!({}))), Mapping::Unmapped { .. }));
    assert!(matches!(map(&record("s3", "NoSuchOperationAtAll", json!({}))), Mapping::Unmapped { .. }));
    let mut rec = record("kms", "RotateKey", json!({}));
    rec["eventType"] = json!("AwsServiceEvent");
    assert!(matches!(map(&rec), Mapping::NonApi { .. }));
    let mut rec = record("sts", "AssumeRole", json!({"roleArn": "arn:aws:iam::111122223333:role/x"}));
    rec["userIdentity"] = json!({"type": "AWSService", "invokedBy": "lambda.amazonaws.com"});
    assert!(matches!(map(&rec), Mapping::Unmapped { .. }));
    // KMS called by S3 for the principal (forward access session): the principal needs kms:Decrypt.
    let mut rec =
        record("kms", "Decrypt", json!({"encryptionContext": {"aws:s3:arn": "arn:aws:s3:::orders/k"}}));
    rec["userIdentity"]["invokedBy"] = json!("s3.amazonaws.com");
    rec["resources"] = json!([{"type": "AWS::KMS::Key", "ARN": "arn:aws:kms:us-east-1:111122223333:key/k1"}]);
    let n = one(&rec);
    assert_eq!(
        (n.action.as_str(), n.resources[0].as_str()),
        ("kms:Decrypt", "arn:aws:kms:us-east-1:111122223333:key/k1")
    );
    // Event sources that are not IAM prefixes.
    assert_eq!(
        one(&record("monitoring", "PutMetricData", json!({"namespace": "orders"}))).action,
        "cloudwatch:PutMetricData"
    );
    assert_eq!(
        one(&record(
            "states",
            "StartExecution",
            json!({"stateMachineArn": "arn:aws:states:us-east-1:111122223333:stateMachine:flow"})
        ))
        .resources,
        vec!["arn:aws:states:us-east-1:111122223333:stateMachine:flow"]
    );
}

#[test]
fn coverage_classes() {
    let cat = Catalog::get();
    let c = |a: &str| coverage(cat.action(a).unwrap());
    assert_eq!(c("s3:GetObject"), Coverage::DataEvent);
    assert_eq!(c("s3:ListBucket"), Coverage::DataEvent);
    assert_eq!(c("s3:CreateBucket"), Coverage::Logged);
    assert_eq!(c("lambda:InvokeFunction"), Coverage::DataEvent);
    assert_eq!(c("dynamodb:GetItem"), Coverage::DataEvent);
    assert_eq!(c("dynamodb:CreateTable"), Coverage::Logged);
    assert_eq!(c("sns:Publish"), Coverage::DataEvent);
    assert_eq!(c("sqs:SendMessage"), Coverage::DataEvent);
    assert_eq!(c("kms:Decrypt"), Coverage::Logged);
    assert_eq!(c("secretsmanager:GetSecretValue"), Coverage::Logged);
    assert_eq!(c("iam:PassRole"), Coverage::Logged);
    // Permission-only actions: no operation authorizes them.
    let permission_only = cat
        .service("s3")
        .unwrap()
        .actions()
        .find(|a| a.operations().is_empty() && coverage(*a) != Coverage::DataEvent)
        .expect("s3 has a permission-only action");
    assert_eq!(coverage(permission_only), Coverage::NotLogged, "{permission_only}");
}

/// Every operation of the Service Reference, as a record with an empty request: it maps to catalog
/// actions only (real-cased, never on `*`), or is on a reviewed list (permissionless, or no IAM action
/// with its reason), or is one of the DynamoDB operations whose actions all depend on the request (the
/// PartiQL statements' verbs, the transaction's item kinds: trail_rules.rs maps records of each). Prints
/// the figures.
#[test]
fn sweep_every_operation() {
    let cat = Catalog::get();
    let (mut total, mut mapped, mut free, mut reviewed, mut with_resources) = (0, 0, 0, 0, 0);
    let (mut unmapped, mut conditional) = (Vec::new(), Vec::new());
    for op in cat.operations() {
        total += 1;
        let rec = json!({"eventSource": format!("{}.amazonaws.com", op.service), "eventName": op.name, "awsRegion": "us-east-1", "recipientAccountId": ACCT, "requestParameters": {}});
        let text = rec.to_string();
        let e: Event = serde_json::from_str(&text).unwrap();
        match map_event(&e, cat) {
            Mapping::Actions(a) => {
                mapped += 1;
                assert!(!a.is_empty());
                for n in &a {
                    let real = cat
                        .action(&n.action)
                        .unwrap_or_else(|| panic!("{}:{} -> invented {}", op.service, op.name, n.action));
                    assert_eq!(real.full_name(), n.action, "casing");
                    assert!(!n.resources.iter().any(|r| r == "*"));
                    if n.resource == ResourceKnowledge::Known {
                        with_resources += 1;
                    }
                }
            }
            Mapping::Permissionless => {
                assert!(is_permissionless(op.service, op.name));
                free += 1;
            }
            Mapping::Unmapped { reason } if no_action_reason(op.service, op.name) == Some(reason) => {
                reviewed += 1
            }
            Mapping::Unmapped { reason } if reason.contains("none of the request parameters") => {
                conditional.push(format!("{}:{}", op.service, op.name));
            }
            other => unmapped.push(format!("{}:{} ({other:?})", op.service, op.name)),
        }
    }
    eprintln!(
        "sweep: {total} operations: {mapped} map to actions from an empty request, {} only with \
         the request parameters their actions depend on, {free} permissionless, {reviewed} reviewed as \
         authorized by no IAM action; {with_resources} actions with resources from empty requests",
        conditional.len()
    );
    conditional.sort();
    assert_eq!(
        conditional,
        [
            "dynamodb:BatchExecuteStatement",
            "dynamodb:ExecuteStatement",
            "dynamodb:ExecuteTransaction",
            "dynamodb:TransactWriteItems"
        ]
    );
    assert!(unmapped.is_empty(), "{} operations map to nothing: {:?}", unmapped.len(), unmapped);
    assert!(mapped * 100 >= total * 95, "{mapped}/{total}");
}

#[test]
fn committed_event_table_is_up_to_date() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("src/data/events.tsv")).unwrap();
    assert!(text.starts_with("iamfit-events\t2\n"));
    assert!(text.contains("\nS\tmonitoring\tcloudwatch\t"));
    assert!(text.contains("\nN\tsts\tGetCallerIdentity\t"));
    assert!(text.lines().filter(|l| l.starts_with("H\t")).count() > 2000);
    let data = root.join("../../../shared/data");
    if !data.join("iamlive-map").is_dir() || !data.join("aws-service-reference").is_dir() {
        eprintln!("note: {} not found; skipping the generator check", data.display());
        return;
    }
    let python = if Command::new("python3").arg("--version").output().is_ok() { "python3" } else { "python" };
    let out = Command::new(python)
        .arg(root.join("../../tools/gen_event_map.py"))
        .arg(&data)
        .arg("--check")
        .output()
        .expect("run python3 tools/gen_event_map.py --check");
    assert!(
        out.status.success(),
        "the committed event table is stale; run `python3 tools/gen_event_map.py` and commit the result\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
