//! CloudTrail through Amazon Athena (`--trail athena://WORKGROUP/DATABASE.TABLE`): one query per
//! source and run, pushed down to the trail's table; only the aggregate comes back.
//!
//! Before the query, the table's columns are checked through the Glue Data Catalog (`GetTable`) —
//! never with extra queries — and its partition keys decide the partition predicate. While the query
//! runs, its state and the data scanned are reported; `--max-scan-gb` stops a query that scans more,
//! and so does Ctrl-C (both make the result partial). Every page of `GetQueryResults` is read.

use std::io::IsTerminal;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_athena::types::{QueryExecutionContext, QueryExecutionState, ResultConfiguration};
use iamfit_catalog::Catalog;
use iamfit_core::source::{Evidence, SourceError, UsageQuery, UsageSource};
use iamfit_trail::athena::{self, AthenaTable, Partitioning, Row, TABLE_COLUMNS};
use iamfit_trail::read::FileProblem;
use iamfit_trail::usage::Usage;

use crate::error::{classify, Call};
use crate::live::{self, LiveError, LiveOptions};

/// The published Athena price per TB of data scanned (SQL queries, most regions), in US dollars.
pub const PRICE_PER_TB: f64 = 5.0;

/// How often the query's state is read while it runs.
const POLL: Duration = Duration::from_millis(500);

/// CloudTrail in an Athena table.
#[derive(Debug, Clone)]
pub struct AthenaTrail {
    table: AthenaTable,
    opts: LiveOptions,
    max_scan_bytes: Option<u64>,
}

impl AthenaTrail {
    /// A source reading `table` with the credentials of `opts`; a query that would scan more than
    /// `max_scan_gb` GB is stopped.
    pub fn new(table: AthenaTable, opts: LiveOptions, max_scan_gb: Option<f64>) -> Self {
        let max_scan_bytes = max_scan_gb.map(|gb| (gb.max(0.0) * 1e9) as u64);
        AthenaTrail { table, opts, max_scan_bytes }
    }
}

/// How a query ended.
enum Ending {
    /// It succeeded; the data scanned.
    Succeeded(u64),
    /// It was stopped (by iamfit or by someone else), and why.
    Stopped(String, u64),
}

fn athena_call<'a>(call: &'static str, target: &'a str) -> Call<'a> {
    Call { call, permission: call, what: "Athena resource", target }
}

/// The partitioning and the checked columns of the table, from the Glue Data Catalog.
async fn table_layout(config: &SdkConfig, t: &AthenaTable) -> Result<Partitioning, LiveError> {
    let glue = aws_sdk_glue::Client::new(config);
    let target = format!("{}.{}", t.database, t.table);
    let out =
        glue.get_table().database_name(&t.database).name(&t.table).send().await.map_err(
            |e| match classify(
                &e,
                Call { call: "glue:GetTable", permission: "glue:GetTable", what: "table", target: &target },
            ) {
                LiveError::NotFound { .. } => {
                    LiveError::NotFound { what: "Athena table (database.table)", target: target.clone() }
                }
                other => other,
            },
        )?;
    let table = out.table();
    let columns: Vec<String> = table
        .and_then(|t| t.storage_descriptor())
        .map(|sd| sd.columns().iter().map(|c| c.name().to_ascii_lowercase()).collect())
        .unwrap_or_default();
    let partitions: Vec<String> = table
        .map(|t| t.partition_keys().iter().map(|c| c.name().to_ascii_lowercase()).collect())
        .unwrap_or_default();
    let missing: Vec<&str> =
        TABLE_COLUMNS.iter().copied().filter(|c| !columns.iter().any(|x| x == c)).collect();
    if !missing.is_empty() {
        return Err(LiveError::Setup(format!(
            "the table {target} does not have the CloudTrail schema: it lacks the column(s) {} (create it with `iamfit athena ddl`, AWS's documented CloudTrail table)",
            missing.join(", ")
        )));
    }
    let has = |c: &str| partitions.iter().any(|p| p == c);
    Ok(if has("timestamp") {
        Partitioning::Projection("timestamp".into())
    } else if has("year") && has("month") && has("day") {
        Partitioning::RegionYearMonthDay
    } else {
        Partitioning::None
    })
}

/// The query results location: the URL's, else the workgroup's.
async fn output_location(config: &SdkConfig, t: &AthenaTable) -> Result<String, LiveError> {
    if let Some(o) = &t.output {
        return Ok(o.clone());
    }
    let client = aws_sdk_athena::Client::new(config);
    let out = client.get_work_group().work_group(&t.workgroup).send().await.map_err(|e| {
        match classify(&e, athena_call("athena:GetWorkGroup", &t.workgroup)) {
            LiveError::Other { detail, .. }
                if detail.contains("InvalidRequest") || detail.contains("not found") =>
            {
                LiveError::NotFound { what: "Athena workgroup", target: t.workgroup.clone() }
            }
            other => other,
        }
    })?;
    out.work_group()
        .and_then(|w| w.configuration())
        .and_then(|c| c.result_configuration())
        .and_then(|r| r.output_location())
        .map(str::to_string)
        .ok_or_else(|| {
            LiveError::Setup(format!(
                "the Athena workgroup {} has no query results location: add ?output=s3://BUCKET/PREFIX to the --trail URL",
                t.workgroup
            ))
        })
}

/// Waits for the query, stopping it past the scan limit or on Ctrl-C.
async fn wait(client: &aws_sdk_athena::Client, id: &str, max_scan: Option<u64>) -> Result<Ending, LiveError> {
    let show = std::io::stderr().is_terminal();
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut last_state = String::new();
    loop {
        let out = client
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .map_err(|e| classify(&e, athena_call("athena:GetQueryExecution", id)))?;
        let execution = out.query_execution();
        let scanned = execution
            .and_then(|q| q.statistics())
            .and_then(|s| s.data_scanned_in_bytes())
            .map_or(0, |b| u64::try_from(b).unwrap_or(0));
        let status = execution.and_then(|q| q.status());
        let state = status.and_then(|s| s.state()).cloned();
        let label = state.as_ref().map(|s| s.as_str().to_string()).unwrap_or_else(|| "UNKNOWN".into());
        if show && label != last_state {
            eprintln!("athena: query {id} {label}, {} scanned", human_bytes(scanned));
            last_state = label.clone();
        }
        match state {
            Some(QueryExecutionState::Succeeded) => return Ok(Ending::Succeeded(scanned)),
            Some(QueryExecutionState::Failed) => {
                let reason = status.and_then(|s| s.state_change_reason()).unwrap_or("no reason given");
                return Err(LiveError::Other {
                    call: "athena:StartQueryExecution",
                    target: id.to_string(),
                    detail: format!("the query failed: {reason}"),
                });
            }
            Some(QueryExecutionState::Cancelled) => {
                return Ok(Ending::Stopped("the query was cancelled in Athena".into(), scanned))
            }
            _ => {}
        }
        if let Some(max) = max_scan.filter(|m| scanned > *m) {
            stop(client, id).await?;
            return Ok(Ending::Stopped(
                format!(
                    "stopped: it scanned {} (more than --max-scan-gb {})",
                    human_bytes(scanned),
                    human_bytes(max)
                ),
                scanned,
            ));
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = &mut ctrl_c => {
                stop(client, id).await?;
                return Ok(Ending::Stopped("stopped by Ctrl-C".into(), scanned));
            }
        }
    }
}

async fn stop(client: &aws_sdk_athena::Client, id: &str) -> Result<(), LiveError> {
    client
        .stop_query_execution()
        .query_execution_id(id)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| classify(&e, athena_call("athena:StopQueryExecution", id)))
}

/// Every row of the results, all pages, without the header row.
async fn results(client: &aws_sdk_athena::Client, id: &str) -> Result<Vec<Row>, LiveError> {
    let mut rows = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = client
            .get_query_results()
            .query_execution_id(id)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| classify(&e, athena_call("athena:GetQueryResults", id)))?;
        for row in out.result_set().map(|r| r.rows()).unwrap_or_default() {
            let values: Row = row.data().iter().map(|d| d.var_char_value().map(str::to_string)).collect();
            if rows.is_empty() && token.is_none() && athena::is_header(&values) {
                continue;
            }
            rows.push(values);
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(rows),
        }
    }
}

/// `1.2 GB`, `340 MB`, `12 kB`.
fn human_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.0} kB", b / 1e3)
    }
}

/// The cost of a scan at the published price (Athena bills at least 10 MB per query).
pub fn cost(scanned: u64) -> f64 {
    (scanned.max(10_000_000) as f64) / 1e12 * PRICE_PER_TB
}

impl AthenaTrail {
    async fn run(&self, query: &UsageQuery<'_>) -> Result<Evidence, LiveError> {
        let config = live::sdk_config(&self.opts).await?;
        let partitioning = match &self.table.partitioning {
            Some(p) => {
                table_layout(&config, &self.table).await?;
                p.clone()
            }
            None => table_layout(&config, &self.table).await?,
        };
        let output = output_location(&config, &self.table).await?;
        let today = iamfit_trail::window::format_utc(time::OffsetDateTime::now_utc());
        let sql = athena::build_query(
            &self.table,
            query.filter,
            query.window,
            &partitioning,
            today.get(..10).unwrap_or_default(),
        );
        let client = aws_sdk_athena::Client::new(&config);
        let started = client
            .start_query_execution()
            .query_string(sql)
            .query_execution_context(QueryExecutionContext::builder().database(&self.table.database).build())
            .work_group(&self.table.workgroup)
            .result_configuration(ResultConfiguration::builder().output_location(output).build())
            .send()
            .await
            .map_err(|e| classify(&e, athena_call("athena:StartQueryExecution", &self.table.workgroup)))?;
        let id = started.query_execution_id().unwrap_or_default().to_string();
        let mut evidence = Evidence::default();
        let (scanned, stopped) = match wait(&client, &id, self.max_scan_bytes).await? {
            Ending::Succeeded(s) => (s, None),
            Ending::Stopped(why, s) => (s, Some(why)),
        };
        evidence.notes.push(format!(
            "Athena query {id}: {} scanned, about ${:.4} at ${PRICE_PER_TB:.2} per TB",
            human_bytes(scanned),
            cost(scanned)
        ));
        if let Some(why) = stopped {
            evidence.stats.failed.push(FileProblem {
                path: self.name(),
                reason: format!("the query was {why}; the result is partial"),
            });
            return Ok(evidence);
        }
        let rows = results(&client, &id).await?;
        let mut usage = Usage::default();
        for (i, row) in rows.iter().enumerate() {
            let recorded = athena::call_shape(row, i + 1)
                .map_err(|e| e.to_string())
                .and_then(|shape| athena::record_shape(&mut usage, &shape, Catalog::get()));
            if let Err(reason) = recorded {
                evidence.stats.malformed += 1;
                evidence
                    .stats
                    .failed
                    .push(FileProblem { path: format!("{} row {}", self.name(), i + 1), reason });
            }
        }
        evidence.stats.records = usage.matched;
        evidence.stats.matched = usage.matched;
        evidence.notes.push(format!(
            "Athena: {} call shape(s), {} call(s) of the principal",
            rows.len(),
            usage.matched
        ));
        if rows.iter().any(|r| {
            r.get(6).cloned().flatten().is_some_and(|p| p.contains("\"key\":\"") && p.ends_with("*\"}"))
        }) {
            evidence.notes.push(format!(
                "S3 operations with more than {} distinct request parameter sets were reduced in SQL to bucket and key folder (folder/*)",
                athena::MAX_DISTINCT_PARAMETERS
            ));
        }
        evidence.usage = usage;
        Ok(evidence)
    }
}

impl UsageSource for AthenaTrail {
    fn name(&self) -> String {
        format!("athena://{}/{}.{}", self.table.workgroup, self.table.database, self.table.table)
    }

    fn read(&self, query: &UsageQuery<'_>) -> Result<Evidence, SourceError> {
        crate::runtime::block_on(self.run(query))?.map_err(SourceError::from)
    }
}
