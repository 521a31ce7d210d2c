//! Speed of `iamfit snapshot --template`: a SAM template with N functions (default 100; each with
//! a managed policy name, a policy template, an inline statement, an SQS event source, Globals and
//! Tracing) expanded and written as a snapshot folder, timed over several runs.
//!
//! `cargo run --release -p iamfit-template --example snapshot_bench [N] [OUT_TEMPLATE]`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::time::Instant;

fn template(n: usize) -> String {
    let mut t = String::from(
        "Transform: AWS::Serverless-2016-10-31\nParameters:\n  Stage: {Type: String, Default: dev}\nGlobals:\n  Function:\n    Runtime: python3.12\n    Handler: app.handler\n    Tracing: Active\n    CodeUri: s3://bucket/code.zip\nResources:\n",
    );
    for i in 0..n {
        write!(
            t,
            "  Fn{i}:\n    Type: AWS::Serverless::Function\n    Properties:\n      Environment: {{Variables: {{TABLE: !Ref Table{i}}}}}\n      Events:\n        Queue: {{Type: SQS, Properties: {{Queue: !GetAtt Queue{i}.Arn}}}}\n      Policies:\n        - AWSLambdaExecute\n        - DynamoDBCrudPolicy: {{TableName: !Ref Table{i}}}\n        - Statement:\n            - Effect: Allow\n              Action: [s3:GetObject]\n              Resource: !Sub \"arn:${{AWS::Partition}}:s3:::assets-${{Stage}}/fn{i}/*\"\n  Table{i}:\n    Type: AWS::DynamoDB::Table\n    Properties: {{TableName: !Sub \"table{i}-${{Stage}}\"}}\n  Queue{i}: {{Type: AWS::SQS::Queue}}\n"
        )
        .unwrap();
    }
    t
}

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100);
    let text = template(n);
    if let Some(path) = std::env::args().nth(2) {
        std::fs::write(&path, &text).unwrap();
    }
    let dir = std::env::temp_dir().join("iamfit-snapshot-bench");
    let settings = iamfit_template::Settings::default();
    let mut times = Vec::new();
    if std::env::var_os("BENCH_VERBOSE").is_some() {
        let t = Instant::now();
        let _ = iamfit_catalog::Catalog::get();
        eprintln!("catalog load {:?}", t.elapsed());
        let t = Instant::now();
        let _ = iamfit_template::managed::ManagedPolicies::get();
        eprintln!("managed policies load {:?}", t.elapsed());
        let t = Instant::now();
        let _ = iamfit_template::sam::PolicyTemplates::get();
        eprintln!("policy templates load {:?}", t.elapsed());
    }
    for _ in 0..10 {
        let start = Instant::now();
        let e = iamfit_template::expand(&text, "bench.yaml", &settings).unwrap();
        let expanded = start.elapsed();
        iamfit_core::account::snapshot::write(&dir, &e.account).unwrap();
        times.push(start.elapsed());
        if std::env::var_os("BENCH_VERBOSE").is_some() {
            eprintln!("expand {:?}, total {:?}", expanded, start.elapsed());
        }
        assert_eq!(e.account.functions.len(), n);
    }
    times.sort();
    println!(
        "{n} functions, {} bytes of template: min {:.1} ms, median {:.1} ms, max {:.1} ms (expand + write snapshot, first run includes loading the embedded tables)",
        text.len(),
        times[0].as_secs_f64() * 1e3,
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3
    );
}
