//! `--trail athena://WORKGROUP/DATABASE.TABLE` against moto's Athena and Glue: the query iamfit sends
//! filters by principal and window and aggregates (asserted on the SQL text moto received), the table
//! is checked through the Glue Data Catalog, and the usage from the result rows equals the usage from
//! the same events read as log files.

use std::collections::BTreeMap;
use std::process::Command;

use aws_sdk_glue::types::{Column, StorageDescriptor, TableInput};
use iamfit_trail::read::{find_log_files, read_files, Collector, ReadOptions};
use iamfit_trail::{Event, PrincipalFilter, TimeWindow};
use serde_json::{json, Value};

use crate::support::{self, Moto};

const ROLE: &str = "arn:aws:iam::111122223333:role/service-role/orders-fn-role";
const SINCE: &str = "2026-10-01T00:00:00Z";
const UNTIL: &str = "2026-12-01T00:00:00Z";

fn filter() -> PrincipalFilter {
    PrincipalFilter::Role { arn: ROLE.into(), name: "orders-fn-role".into(), session: None }
}

/// Keeps the raw text of each record of the principal.
#[derive(Default)]
struct Raw(Vec<String>);

impl Collector for Raw {
    fn record(&mut self, _event: &Event<'_>, raw: &str) {
        self.0.push(raw.to_string());
    }
    fn merge(&mut self, other: Self) {
        self.0.extend(other.0);
    }
}

/// The demo function's records, grouped as the query groups them: one row per call shape with the
/// documented columns (what Athena would return for this data).
fn rows_for_demo() -> Vec<Vec<Option<String>>> {
    let files = find_log_files(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/policy-fixtures/demo/cloudtrail"
    )))
    .unwrap();
    let window = TimeWindow { since: Some(SINCE.into()), until: Some(UNTIL.into()) };
    let f = filter();
    let (raw, _): (Raw, _) =
        read_files(&files, &ReadOptions { filter: &f, window: &window, threads: 1, progress: None });
    let mut shapes: BTreeMap<Vec<Option<String>>, (u64, String, String)> = BTreeMap::new();
    for text in raw.0 {
        let r: Value = serde_json::from_str(&text).unwrap();
        let s = |k: &str| r[k].as_str().map(str::to_string);
        let resources: Vec<&str> = r["resources"]
            .as_array()
            .map(|a| a.iter().filter_map(|x| x["ARN"].as_str()).collect())
            .unwrap_or_default();
        let key = vec![
            s("eventSource"),
            s("eventName"),
            s("errorCode"),
            s("awsRegion"),
            s("recipientAccountId"),
            (!resources.is_empty()).then(|| json!(resources).to_string()),
            (!r["requestParameters"].is_null()).then(|| r["requestParameters"].to_string()),
        ];
        let time = s("eventTime").unwrap();
        let e = shapes.entry(key).or_insert((0, time.clone(), time.clone()));
        e.0 += 1;
        e.1 = e.1.clone().min(time.clone());
        e.2 = e.2.clone().max(time);
    }
    shapes
        .into_iter()
        .map(|(mut k, (calls, first, last))| {
            k.extend([Some(calls.to_string()), Some(first), Some(last)]);
            k
        })
        .collect()
}

fn athena_rows_json(rows: &[Vec<Option<String>>]) -> Value {
    let header: Vec<Value> =
        iamfit_trail::athena::RESULT_COLUMNS.iter().map(|c| json!({"VarCharValue": c})).collect();
    let mut out = vec![json!({"Data": header})];
    for row in rows {
        let data: Vec<Value> =
            row.iter().map(|v| v.as_ref().map_or(json!({}), |v| json!({"VarCharValue": v}))).collect();
        out.push(json!({"Data": data}));
    }
    json!({"account_id": "123456789012", "region": "us-east-1", "results": [{"rows": out, "column_info": []}]})
}

fn column(name: &str, kind: &str) -> Column {
    Column::builder().name(name).r#type(kind).build().unwrap()
}

/// The Glue table of AWS's documented CloudTrail schema (the columns the query reads), partitioned
/// by `timestamp`; `without` leaves one column out.
async fn create_table(glue: &aws_sdk_glue::Client, name: &str, without: Option<&str>) {
    let columns: Vec<Column> = iamfit_trail::athena::TABLE_COLUMNS
        .iter()
        .filter(|c| Some(**c) != without)
        .map(|c| column(c, "string"))
        .collect();
    glue.create_table()
        .database_name("trails")
        .table_input(
            TableInput::builder()
                .name(name)
                .storage_descriptor(StorageDescriptor::builder().set_columns(Some(columns)).build())
                .partition_keys(column("timestamp", "string"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

fn iamfit(endpoint: &str, args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_iamfit"));
    support::clear_aws_env(&mut cmd)
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .env("NO_COLOR", "1")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["--endpoint-url", endpoint]);
    let out = cmd.args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[tokio::test]
async fn athena_usage_equals_log_file_usage_and_the_query_filters_and_groups() {
    let moto = Moto::start();
    let endpoint = moto.endpoint();
    let cfg = support::sdk_config(&endpoint, None);
    let s3 =
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&cfg).force_path_style(true).build());
    s3.create_bucket().bucket("athena-results").send().await.unwrap();
    let athena = aws_sdk_athena::Client::new(&cfg);
    athena
        .create_work_group()
        .name("iamfit")
        .configuration(
            aws_sdk_athena::types::WorkGroupConfiguration::builder()
                .result_configuration(
                    aws_sdk_athena::types::ResultConfiguration::builder()
                        .output_location("s3://athena-results/q/")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let glue = aws_sdk_glue::Client::new(&cfg);
    glue.create_database()
        .database_input(aws_sdk_glue::types::DatabaseInput::builder().name("trails").build().unwrap())
        .send()
        .await
        .unwrap();
    create_table(&glue, "cloudtrail_logs", None).await;
    let rows = rows_for_demo();
    assert!(rows.len() > 20, "the demo function makes many kinds of calls");
    let (status, body) = support::http(
        moto.port(),
        "POST",
        "/moto-api/static/athena/query-results",
        Some(&athena_rows_json(&rows).to_string()),
    )
    .unwrap();
    assert_eq!(status, 201, "{body}");

    let window = ["--since", SINCE, "--until", UNTIL, "-o", "json"];
    let (code, out, err) = iamfit(
        &endpoint,
        &[&["usage", "--principal", ROLE, "--trail", "athena://iamfit/trails.cloudtrail_logs"][..], &window]
            .concat(),
    );
    assert_eq!(code, 0, "{err}");
    let via_athena: Value = serde_json::from_str(&out).unwrap();
    let (code, out, err) = iamfit(
        &endpoint,
        &[&["usage", "--principal", ROLE, "--trail", "policy-fixtures/demo/cloudtrail"][..], &window]
            .concat(),
    );
    assert_eq!(code, 0, "{err}");
    let via_files: Value = serde_json::from_str(&out).unwrap();
    assert!(via_files["actions"].as_array().is_some_and(|a| a.len() > 5), "{via_files}");
    for key in ["actions", "denied", "unmapped", "permissionless_calls"] {
        assert_eq!(via_athena[key], via_files[key], "{key} differs between Athena and log files");
    }
    assert_eq!(via_athena["events"]["matched"], via_files["events"]["matched"]);
    assert!(via_athena["notes"].to_string().contains("scanned"), "{}", via_athena["notes"]);

    // The SQL moto received: one query, filtered by the role and the session, the window and the
    // partitions, grouped by call shape.
    let ids = athena.list_query_executions().work_group("iamfit").send().await.unwrap();
    let ids = ids.query_execution_ids();
    assert_eq!(ids.len(), 1, "one Athena query per trail source and run");
    let q = athena.get_query_execution().query_execution_id(&ids[0]).send().await.unwrap();
    let sql = q.query_execution().and_then(|e| e.query()).unwrap().to_string();
    assert!(sql.contains("FROM \"trails\".\"cloudtrail_logs\""), "{sql}");
    assert!(sql.contains(&format!("sessionissuer.arn = '{ROLE}'")), "{sql}");
    assert!(sql.contains("= 'orders-fn-role'"), "records without a session issuer match by role name: {sql}");
    assert!(
        sql.contains("eventtime >= '2026-10-01T00:00:00Z'")
            && sql.contains("eventtime < '2026-12-01T00:00:00Z'"),
        "{sql}"
    );
    assert!(sql.contains("\"timestamp\" >= '2026/10/01' AND \"timestamp\" <= '2026/12/02'"), "{sql}");
    assert!(sql.contains("GROUP BY 1, 2, 3, 4, 5, 6, 7"), "{sql}");
}

#[tokio::test]
async fn athena_errors_name_the_missing_table_or_column() {
    let moto = Moto::start();
    let endpoint = moto.endpoint();
    let cfg = support::sdk_config(&endpoint, None);
    let glue = aws_sdk_glue::Client::new(&cfg);
    glue.create_database()
        .database_input(aws_sdk_glue::types::DatabaseInput::builder().name("trails").build().unwrap())
        .send()
        .await
        .unwrap();
    create_table(&glue, "no_params", Some("requestparameters")).await;
    let base = ["usage", "--principal", "arn:aws:iam::111122223333:user/dev", "--since", "30d"];
    let (code, _, err) = iamfit(
        &endpoint,
        &[&base[..], &["--trail", "athena://primary/trails.no_params?output=s3://x/y/"]].concat(),
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("lacks the column(s) requestparameters"), "{err}");
    let (code, _, err) = iamfit(
        &endpoint,
        &[&base[..], &["--trail", "athena://primary/trails.nothing?output=s3://x/y/"]].concat(),
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not found") && err.contains("trails.nothing"), "{err}");
    let (code, _, err) = iamfit(&endpoint, &[&base[..], &["--trail", "athena://primary/bad"]].concat());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is not an Athena source"), "{err}");
}

#[test]
fn print_sql_prints_the_query_without_calling_aws() {
    // No endpoint and no credentials: --print-sql must not call AWS.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_iamfit"));
    support::clear_aws_env(&mut cmd)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent");
    let out = cmd
        .args([
            "usage",
            "--principal",
            "arn:aws:iam::111122223333:user/o'brien",
            "--trail",
            "athena://primary/trails.logs",
            "--since",
            "2026-11-01T00:00:00Z",
            "--until",
            "2026-11-02T00:00:00Z",
            "--print-sql",
        ])
        .output()
        .unwrap();
    let sql = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(sql.contains("useridentity.arn = 'arn:aws:iam::111122223333:user/o''brien'"), "{sql}");
    assert!(sql.contains("\"timestamp\" >= '2026/11/01' AND \"timestamp\" <= '2026/11/03'"), "{sql}");
    assert!(sql.trim_start().starts_with("-- iamfit"), "plain SQL on stdout: {sql}");
}

#[test]
fn ddl_prints_aws_documented_table() {
    let (code, out, err) = support::iamfit(&[
        "athena",
        "ddl",
        "--location",
        "s3://trail-bucket/AWSLogs/111122223333/CloudTrail/us-east-1",
        "--start",
        "2026/01/01",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("CREATE EXTERNAL TABLE cloudtrail_logs ("));
    assert!(out.contains("'projection.timestamp.range'='2026/01/01,NOW'"));
    let (code, _, err) = support::iamfit(&["athena", "ddl", "--location", "s3://bucket/other"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a CloudTrail log location"), "{err}");
}
