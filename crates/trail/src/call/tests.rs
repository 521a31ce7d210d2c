//! Requests as the AWS SDKs send them, recognised and mapped; expectations written from the AWS API
//! references and the Service Authorization Reference.

use super::*;
use crate::map::{Needed, ResourceKnowledge};

const ACCOUNT: &str = "111122223333";
const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/orders-role/iamfit-dev";

fn scope(service: &str) -> Scope {
    Scope {
        access_key: "ASIAEXAMPLE".into(),
        date: "20260501".into(),
        region: "us-east-1".into(),
        service: service.into(),
    }
}

fn map(
    service: &str,
    method: &str,
    path: &str,
    query: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (ApiCall, Mapping) {
    let headers = headers.to_vec();
    let req = Request { method, path, query, headers: &headers, body: Some(body.as_bytes()) };
    let call = identify(&req, &scope(service)).unwrap();
    let caller = Caller { principal: SESSION, account: ACCOUNT, time: "2026-05-01T10:00:00Z" };
    let mapping = call.mapping(&caller, Catalog::get());
    (call, mapping)
}

fn known(action: &str, resources: &[&str]) -> Needed {
    Needed {
        action: action.into(),
        resources: resources.iter().map(|r| r.to_string()).collect(),
        resource: ResourceKnowledge::Known,
    }
}

/// The example of "Signature Calculations for the Authorization Header: Transferring Payload in a
/// Single Chunk (AWS Signature Version 4)", Amazon S3 API Reference.
#[test]
fn the_scope_is_read_from_the_authorization_header_or_a_presigned_query() {
    let auth = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024";
    let s = Scope::of_request(Some(auth), "").unwrap();
    assert_eq!((s.access_key.as_str(), s.date.as_str()), ("AKIAIOSFODNN7EXAMPLE", "20130524"));
    assert_eq!((s.region.as_str(), s.service.as_str()), ("us-east-1", "s3"));
    let f = auth_fields(auth);
    assert_eq!(f.signed_headers, Some("host;range;x-amz-content-sha256;x-amz-date"));
    assert_eq!(f.algorithm, "AWS4-HMAC-SHA256");
    // "Authenticating Requests: Using Query Parameters": the credential is URL-encoded.
    let q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z";
    assert_eq!(Scope::of_request(None, q).unwrap().service, "s3");
    assert_eq!(Scope::of_request(None, ""), None);
    assert_eq!(Scope::parse("AKID/20130524/us-east-1/s3"), None);
}

/// DynamoDB GetItem: `X-Amz-Target: DynamoDB_20120810.GetItem` (DynamoDB Developer Guide, "Low-level
/// API"); `dynamodb:GetItem` on the table.
#[test]
fn json_protocol_calls_are_named_by_their_target() {
    let (call, mapping) = map(
        "dynamodb",
        "POST",
        "/",
        "",
        &[("X-Amz-Target", "DynamoDB_20120810.GetItem"), ("Content-Type", "application/x-amz-json-1.0")],
        r#"{"TableName":"orders","Key":{"id":{"S":"1"}}}"#,
    );
    assert_eq!((call.operation.as_str(), call.protocol), ("GetItem", Protocol::Json));
    assert_eq!(call.event_source(), "dynamodb.amazonaws.com");
    assert_eq!(
        mapping,
        Mapping::Actions(vec![known(
            "dynamodb:GetItem",
            &["arn:aws:dynamodb:us-east-1:111122223333:table/orders"]
        )])
    );
}

/// KMS Decrypt may omit KeyId for symmetric keys (AWS KMS API Reference, Decrypt): the key is unknown.
#[test]
fn a_resource_the_request_does_not_name_is_unknown() {
    let (_, mapping) = map(
        "kms",
        "POST",
        "/",
        "",
        &[("X-Amz-Target", "TrentService.Decrypt")],
        r#"{"CiphertextBlob":"AQIDAHh="}"#,
    );
    let Mapping::Actions(needed) = mapping else { panic!("{mapping:?}") };
    assert_eq!(needed.len(), 1);
    assert_eq!(needed[0].action, "kms:Decrypt");
    assert!(matches!(needed[0].resource, ResourceKnowledge::Unknown(_)), "{needed:?}");
}

/// S3 ListObjectsV2 is `GET /{Bucket}?list-type=2` and needs `s3:ListBucket` on the bucket (S3 API
/// Reference, ListObjectsV2: "you must have READ access to the bucket ... s3:ListBucket").
#[test]
fn rest_routes_pick_the_most_specific_operation() {
    let (call, mapping) = map("s3", "GET", "/orders-bucket", "list-type=2&prefix=2026%2F", &[], "");
    assert_eq!((call.operation.as_str(), call.protocol), ("ListObjectsV2", Protocol::Rest));
    assert_eq!(mapping, Mapping::Actions(vec![known("s3:ListBucket", &["arn:aws:s3:::orders-bucket"])]));

    let (call, _) = map("s3", "GET", "/orders-bucket", "acl", &[], "");
    assert_eq!(call.operation, "GetBucketAcl");
    let (call, _) = map("s3", "GET", "/", "", &[], "");
    assert_eq!(call.operation, "ListBuckets");
}

/// The object key is percent-decoded as IAM sees it (`a b.json`), and CopyObject needs s3:PutObject on
/// the target and s3:GetObject on the source (S3 API Reference, CopyObject, "Permissions").
#[test]
fn s3_objects_and_copies() {
    let (call, mapping) = map("s3", "PUT", "/orders-bucket/in/a%20b.json", "", &[], "{}");
    assert_eq!(call.operation, "PutObject");
    assert_eq!(
        mapping,
        Mapping::Actions(vec![known("s3:PutObject", &["arn:aws:s3:::orders-bucket/in/a b.json"])])
    );

    let (call, mapping) =
        map("s3", "PUT", "/orders-bucket/copy.json", "", &[("x-amz-copy-source", "src-bucket/old.json")], "");
    assert_eq!(call.operation, "CopyObject");
    assert_eq!(
        mapping,
        Mapping::Actions(vec![
            known("s3:PutObject", &["arn:aws:s3:::orders-bucket/copy.json"]),
            known("s3:GetObject", &["arn:aws:s3:::src-bucket/old.json"]),
        ])
    );

    let (call, _) = map("s3", "PUT", "/orders-bucket/big", "partNumber=1&uploadId=abc", &[], "");
    assert_eq!(call.operation, "UploadPart");
    let (call, _) = map("s3", "HEAD", "/orders-bucket/big", "", &[], "");
    assert_eq!(call.operation, "HeadObject");
}

/// Lambda Invoke is `POST /2015-03-31/functions/{FunctionName}/invocations` with `Qualifier` in the
/// query; a qualified invoke is authorized on the qualified ARN (Lambda Developer Guide, "Resources and
/// conditions for Lambda actions").
#[test]
fn lambda_invoke_with_a_qualifier() {
    let (call, mapping) = map(
        "lambda",
        "POST",
        "/2015-03-31/functions/orders/invocations",
        "Qualifier=live",
        &[],
        r#"{"id":1}"#,
    );
    assert_eq!(call.operation, "Invoke");
    assert_eq!(
        mapping,
        Mapping::Actions(vec![known(
            "lambda:InvokeFunction",
            &["arn:aws:lambda:us-east-1:111122223333:function:orders:live"]
        )])
    );
}

/// Query protocol: `Action=SendMessage&QueueUrl=...` (SQS API Reference, "Making query API requests");
/// the queue may also be the path (`/ACCOUNT/NAME`).
#[test]
fn query_protocol_calls_are_named_by_their_action() {
    let form = [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")];
    let (call, mapping) = map(
        "sqs",
        "POST",
        "/",
        "",
        &form,
        "Action=SendMessage&Version=2012-11-05&QueueUrl=https%3A%2F%2Fsqs.us-east-1.amazonaws.com%2F111122223333%2Forders&MessageBody=hi",
    );
    assert_eq!((call.operation.as_str(), call.protocol), ("SendMessage", Protocol::Query));
    assert_eq!(
        mapping,
        Mapping::Actions(vec![known("sqs:SendMessage", &["arn:aws:sqs:us-east-1:111122223333:orders"])])
    );
    let (_, mapping) = map("sqs", "POST", "/111122223333/orders", "", &form, "Action=ReceiveMessage");
    assert_eq!(
        mapping,
        Mapping::Actions(vec![known("sqs:ReceiveMessage", &["arn:aws:sqs:us-east-1:111122223333:orders"])])
    );

    // sts:GetCallerIdentity needs no permission (STS API Reference, GetCallerIdentity).
    let (_, mapping) = map("sts", "POST", "/", "", &form, "Action=GetCallerIdentity&Version=2011-06-15");
    assert_eq!(mapping, Mapping::Permissionless);
}

/// Smithy RPC v2 CBOR names the operation in the path (Smithy, "RPC v2 CBOR protocol").
#[test]
fn cbor_calls_are_named_by_their_path() {
    let (call, _) = map(
        "monitoring",
        "POST",
        "/service/GraniteServiceVersion20100801/operation/PutMetricData",
        "",
        &[],
        "",
    );
    assert_eq!((call.operation.as_str(), call.protocol), ("PutMetricData", Protocol::Cbor));
    assert_eq!(call.event_source(), "monitoring.amazonaws.com");
}

#[test]
fn unrecognised_requests_say_why() {
    let none: Vec<(&str, &str)> = Vec::new();
    let req = Request { method: "GET", path: "/", query: "", headers: &none, body: None };
    assert_eq!(
        identify(&req, &scope("no-such-service")),
        Err(Unrecognised::UnknownService("no-such-service".into()))
    );
    let req = Request { method: "PATCH", path: "/x/y/z", query: "", headers: &none, body: None };
    assert!(matches!(identify(&req, &scope("lambda")), Err(Unrecognised::NoRoute { .. })));
}

/// Error shapes: JSON `__type` (DynamoDB, "Error handling with DynamoDB"), `x-amzn-ErrorType` (REST-JSON
/// services), and the XML `<Code>` of S3 and the query protocols.
#[test]
fn error_codes_are_read_from_every_protocol() {
    let json = br#"{"__type":"com.amazonaws.dynamodb.v20120810#AccessDeniedException","message":"no"}"#;
    assert_eq!(error_code(None, json).as_deref(), Some("AccessDeniedException"));
    let header = "AccessDeniedException:http://internal.amazon.com/coral/com.amazon.coral.service/";
    assert_eq!(error_code(Some(header), b"").as_deref(), Some("AccessDeniedException"));
    let xml = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>";
    assert_eq!(error_code(None, xml).as_deref(), Some("NoSuchKey"));
    let query = b"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code></Error></ErrorResponse>";
    assert_eq!(error_code(None, query).as_deref(), Some("AccessDenied"));
    assert_eq!(error_code(None, b""), None);
}

/// Regional endpoints are `{prefix}.{region}.amazonaws.com`; IAM has one global endpoint (AWS General
/// Reference, "Service endpoints").
#[test]
fn upstream_hosts() {
    assert_eq!(upstream_host("dynamodb", "eu-west-1"), "dynamodb.eu-west-1.amazonaws.com");
    assert_eq!(upstream_host("iam", "us-east-1"), "iam.amazonaws.com");
    assert_eq!(upstream_host("s3", "cn-north-1"), "s3.cn-north-1.amazonaws.com.cn");
    assert_eq!(endpoint_prefix("monitoring"), Some("monitoring"));
}
