//! Decisions per second on a realistic 20-statement Lambda role policy with conditions.
//!
//! Run: `cargo bench --bench evaluate`. The figure to read is the throughput in elements/s
//! (one element = one decision).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::string_slice, missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use iamfit_policy::context::RequestContext;
use iamfit_policy::eval::{authorize, NamedPolicy, PolicySet, Principal, Request};
use iamfit_policy::Policy;

/// A role policy as a Lambda team writes it: per-service statements, ARNs with wildcards, and
/// conditions on region, tags, TLS and source.
const ROLE_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/orders:*"},
    {"Sid": "LogGroup", "Effect": "Allow", "Action": "logs:CreateLogGroup", "Resource": "arn:aws:logs:us-east-1:111122223333:*"},
    {"Sid": "OrdersTable", "Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"], "Resource": ["arn:aws:dynamodb:us-east-1:111122223333:table/orders", "arn:aws:dynamodb:us-east-1:111122223333:table/orders/index/*"]},
    {"Sid": "CustomersRead", "Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:BatchGetItem"], "Resource": "arn:aws:dynamodb:us-east-1:111122223333:table/customers", "Condition": {"ForAllValues:StringEquals": {"dynamodb:Attributes": ["id", "name", "email"]}}},
    {"Sid": "Invoices", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::orders-invoices/${aws:PrincipalTag/tenant}/*"},
    {"Sid": "InvoicesList", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::orders-invoices", "Condition": {"StringLike": {"s3:prefix": ["invoices/*", "archive/*"]}}},
    {"Sid": "Queue", "Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:GetQueueUrl"], "Resource": "arn:aws:sqs:us-east-1:111122223333:orders-*"},
    {"Sid": "Events", "Effect": "Allow", "Action": "events:PutEvents", "Resource": "arn:aws:events:us-east-1:111122223333:event-bus/orders"},
    {"Sid": "Secrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "arn:aws:secretsmanager:us-east-1:111122223333:secret:orders/*", "Condition": {"StringEquals": {"aws:ResourceTag/app": "orders"}}},
    {"Sid": "Params", "Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:GetParameters"], "Resource": "arn:aws:ssm:us-east-1:111122223333:parameter/orders/*"},
    {"Sid": "Kms", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "arn:aws:kms:us-east-1:111122223333:key/*", "Condition": {"StringEquals": {"kms:ViaService": ["s3.us-east-1.amazonaws.com", "dynamodb.us-east-1.amazonaws.com"]}}},
    {"Sid": "Xray", "Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "Resource": "*"},
    {"Sid": "Metrics", "Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*", "Condition": {"StringEquals": {"cloudwatch:namespace": "Orders"}}},
    {"Sid": "Sns", "Effect": "Allow", "Action": "sns:Publish", "Resource": "arn:aws:sns:us-east-1:111122223333:order-events"},
    {"Sid": "InvokePayments", "Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": ["arn:aws:lambda:us-east-1:111122223333:function:payments", "arn:aws:lambda:us-east-1:111122223333:function:payments:*"]},
    {"Sid": "Regions", "Effect": "Deny", "NotAction": ["iam:*", "sts:*", "cloudfront:*"], "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "us-west-2"]}}},
    {"Sid": "Tls", "Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    {"Sid": "NoDeletes", "Effect": "Deny", "Action": ["dynamodb:DeleteTable", "s3:DeleteBucket"], "Resource": "*"},
    {"Sid": "Network", "Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "172.16.0.0/12"]}, "Bool": {"aws:ViaAWSService": "false"}}},
    {"Sid": "Dates", "Effect": "Allow", "Action": "s3:GetObjectVersion", "Resource": "arn:aws:s3:::orders-invoices/*", "Condition": {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}}
  ]
}"#;

fn requests() -> Vec<(&'static str, &'static str)> {
    vec![
        ("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:111122223333:table/orders"),
        ("dynamodb:Query", "arn:aws:dynamodb:us-east-1:111122223333:table/orders/index/by-customer"),
        ("s3:GetObject", "arn:aws:s3:::orders-invoices/acme/2024/01.pdf"),
        ("s3:PutObject", "arn:aws:s3:::orders-invoices/other/2024/01.pdf"),
        (
            "logs:PutLogEvents",
            "arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/orders:log-stream:x",
        ),
        ("sqs:SendMessage", "arn:aws:sqs:us-east-1:111122223333:orders-dlq"),
        ("kms:Decrypt", "arn:aws:kms:us-east-1:111122223333:key/1234abcd"),
        (
            "secretsmanager:GetSecretValue",
            "arn:aws:secretsmanager:us-east-1:111122223333:secret:orders/db-AbCd",
        ),
        ("dynamodb:DeleteTable", "arn:aws:dynamodb:us-east-1:111122223333:table/orders"),
        ("ec2:RunInstances", "arn:aws:ec2:us-east-1:111122223333:instance/*"),
        ("iam:PassRole", "arn:aws:iam::111122223333:role/admin"),
        ("xray:PutTraceSegments", "*"),
        ("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:111122223333:function:payments"),
        ("sns:Publish", "arn:aws:sns:us-east-1:111122223333:order-events"),
        ("s3:ListBucket", "arn:aws:s3:::orders-invoices"),
        ("ssm:GetParameter", "arn:aws:ssm:us-east-1:111122223333:parameter/orders/db-host"),
    ]
}

fn bench(c: &mut Criterion) {
    let set = PolicySet {
        identity: vec![NamedPolicy::new(
            "orders-fn-policy",
            Policy::parse(ROLE_POLICY).expect("valid policy"),
        )],
        ..Default::default()
    };
    let mut principal =
        Principal::parse("arn:aws:sts::111122223333:assumed-role/orders-fn/orders").expect("valid ARN");
    principal.add_tag("tenant", "acme");
    let mut ctx = RequestContext::new();
    ctx.set("aws:RequestedRegion", "us-east-1");
    ctx.set("aws:SecureTransport", "true");
    ctx.set("aws:SourceIp", "10.1.2.3");
    ctx.set("aws:ViaAWSService", "false");
    ctx.set("aws:CurrentTime", "2026-11-28T12:00:00Z");
    ctx.set("kms:ViaService", "dynamodb.us-east-1.amazonaws.com");
    ctx.set("s3:prefix", "invoices/2024/");
    ctx.set("aws:ResourceTag/app", "orders");
    let reqs = requests();
    let mut group = c.benchmark_group("authorize");
    group.throughput(Throughput::Elements(reqs.len() as u64));
    group.bench_function("role-policy-20-statements", |b| {
        b.iter(|| {
            let mut allowed = 0;
            for (action, resource) in &reqs {
                let d = authorize(
                    &set,
                    &Request {
                        principal: Some(&principal),
                        action,
                        resource,
                        context: &ctx,
                        resource_account: None,
                    },
                );
                allowed += usize::from(d.verdict == iamfit_policy::eval::Verdict::Allow);
            }
            std::hint::black_box(allowed)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
