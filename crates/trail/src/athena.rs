//! CloudTrail through Amazon Athena: the SQL iamfit pushes down to the trail's table, and the way
//! its result rows become usage through the same mapping as log files.
//!
//! The query filters by the principal (user ARN, or the role by `sessionissuer.arn` and the session
//! name for a function), by the time window (and the partition columns, so that Athena prunes the
//! scan), groups, and returns one row per distinct call shape. Its result columns, in order, are
//! fixed ([`RESULT_COLUMNS`]). The table is the one AWS documents for CloudTrail logs ("Create the
//! table for CloudTrail logs in Athena using partition projection" and "... using manual
//! partitioning", Amazon Athena User Guide); [`ddl`] prints the projection variant.
//!
//! ```
//! use iamfit_trail::athena::{build_query, AthenaTable, Partitioning};
//! use iamfit_trail::{PrincipalFilter, TimeWindow};
//!
//! let table = AthenaTable::parse("athena://primary/trails.cloudtrail_logs")?;
//! let filter = PrincipalFilter::User { arn: "arn:aws:iam::111122223333:user/o'brien".into() };
//! let window = TimeWindow { since: Some("2026-11-01T00:00:00Z".into()), until: None };
//! let sql = build_query(&table, &filter, &window, &Partitioning::Projection("timestamp".into()), "2026-12-04");
//! assert!(sql.contains("useridentity.arn = 'arn:aws:iam::111122223333:user/o''brien'"));
//! assert!(sql.contains(r#""timestamp" >= '2026/11/01'"#));
//! # Ok::<(), iamfit_trail::athena::AthenaError>(())
//! ```

use std::collections::BTreeMap;

use iamfit_catalog::Catalog;

use crate::map::{coverage, Coverage};
use crate::usage::Usage;
use crate::{Event, PrincipalFilter, TimeWindow};

/// The result columns of iamfit's query, in order (documented and stable).
pub const RESULT_COLUMNS: [&str; 10] = [
    "eventsource",
    "eventname",
    "errorcode",
    "awsregion",
    "recipientaccountid",
    "resources",
    "requestparameters",
    "calls",
    "first_seen",
    "last_seen",
];

/// The columns of the CloudTrail table the query reads (AWS's documented schema).
pub const TABLE_COLUMNS: [&str; 9] = [
    "useridentity",
    "eventtime",
    "eventsource",
    "eventname",
    "errorcode",
    "awsregion",
    "recipientaccountid",
    "resources",
    "requestparameters",
];

/// Past this many distinct request-parameter sets for one S3 operation, the query keeps only the
/// bucket and the key's folder (`folder/*`), so that heavy object traffic does not explode the rows.
pub const MAX_DISTINCT_PARAMETERS: u64 = 10_000;

/// A problem with an `athena://` source or a result row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AthenaError {
    /// The URL does not have the documented form.
    #[error("{0:?} is not an Athena source: use athena://WORKGROUP/DATABASE.TABLE[?output=s3://BUCKET/PREFIX][&partition=timestamp|region-year-month-day|none]")]
    BadUrl(String),
    /// A result row does not have the documented columns.
    #[error("result row {row}: {reason}")]
    BadRow {
        /// The row's number (1-based, after the header).
        row: usize,
        /// What is wrong.
        reason: String,
    },
}

/// How the table is partitioned, which decides the partition predicate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Partitioning {
    /// Partition projection on one date column in `yyyy/MM/dd` form (AWS's documented `timestamp`).
    Projection(String),
    /// Manual partitions `region`, `year`, `month`, `day` (AWS's documented manual layout).
    RegionYearMonthDay,
    /// No partitions: the whole table is scanned.
    None,
}

/// An `athena://WORKGROUP/DATABASE.TABLE` source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AthenaTable {
    /// The workgroup.
    pub workgroup: String,
    /// The Glue database.
    pub database: String,
    /// The table.
    pub table: String,
    /// The query results location, when given (`?output=s3://...`); else the workgroup's.
    pub output: Option<String>,
    /// The partitioning, when given (`&partition=...`); else read from the Glue Data Catalog.
    pub partitioning: Option<Partitioning>,
}

impl AthenaTable {
    /// Parses `athena://WORKGROUP/DATABASE.TABLE[?output=s3://...][&partition=...]`.
    pub fn parse(url: &str) -> Result<AthenaTable, AthenaError> {
        let bad = || AthenaError::BadUrl(url.to_string());
        let rest = url.strip_prefix("athena://").ok_or_else(bad)?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (workgroup, qualified) = path.split_once('/').ok_or_else(bad)?;
        let (database, table) = qualified.split_once('.').ok_or_else(bad)?;
        let valid =
            |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "_-".contains(c));
        if !valid(workgroup) || !valid(database) || !valid(table) {
            return Err(bad());
        }
        let mut parsed = AthenaTable {
            workgroup: workgroup.to_string(),
            database: database.to_string(),
            table: table.to_string(),
            output: None,
            partitioning: None,
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("output", v)) if v.starts_with("s3://") => parsed.output = Some(v.to_string()),
                Some(("partition", "timestamp")) => {
                    parsed.partitioning = Some(Partitioning::Projection("timestamp".into()))
                }
                Some(("partition", "region-year-month-day")) => {
                    parsed.partitioning = Some(Partitioning::RegionYearMonthDay)
                }
                Some(("partition", "none")) => parsed.partitioning = Some(Partitioning::None),
                _ => return Err(bad()),
            }
        }
        Ok(parsed)
    }
}

/// A SQL string literal: single quotes doubled.
pub fn sql_string(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A SQL identifier: double quotes doubled.
pub fn sql_identifier(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// The predicate that selects the principal's records, as [`PrincipalFilter::matches`] does.
pub fn principal_predicate(filter: &PrincipalFilter) -> String {
    match filter {
        PrincipalFilter::Any => "TRUE".into(),
        PrincipalFilter::User { arn } => format!("useridentity.arn = {}", sql_string(arn)),
        PrincipalFilter::Role { arn, name, session } => {
            let issuer = "useridentity.sessioncontext.sessionissuer.arn";
            let role = format!(
                "({issuer} = {} OR ({issuer} IS NULL AND split_part(split_part(useridentity.arn, ':assumed-role/', 2), '/', 1) = {}))",
                sql_string(arn),
                sql_string(name)
            );
            match session {
                Some(s) => {
                    format!("{role} AND element_at(split(useridentity.arn, '/'), -1) = {}", sql_string(s))
                }
                None => role,
            }
        }
    }
}

/// `YYYY/MM/DD` of an RFC 3339 time (`2026-11-01T...` → `2026/11/01`).
fn day_of(time: &str) -> Option<String> {
    let date = time.get(..10)?;
    let mut parts = date.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    Some(format!("{y}/{m}/{d}"))
}

/// The day after `YYYY/MM/DD` (log files of a day's last minutes are delivered the next day).
fn next_day(day: &str) -> String {
    let parse = || -> Option<time::Date> {
        let mut it = day.split('/').map(|p| p.parse::<i32>().ok());
        let (y, m, d) = (it.next()??, it.next()??, it.next()??);
        let month = time::Month::try_from(u8::try_from(m).ok()?).ok()?;
        time::Date::from_calendar_date(y, month, u8::try_from(d).ok()?).ok()?.next_day()
    };
    parse()
        .map(|d| format!("{:04}/{:02}/{:02}", d.year(), u8::from(d.month()), d.day()))
        .unwrap_or_else(|| day.to_string())
}

/// The partition predicate for the window's days (inclusive, plus one day after the end).
pub fn partition_predicate(partitioning: &Partitioning, window: &TimeWindow, today: &str) -> Option<String> {
    let first = window.since.as_deref().and_then(day_of);
    let last = next_day(&window.until.as_deref().and_then(day_of).unwrap_or_else(|| today.replace('-', "/")));
    match partitioning {
        Partitioning::None => None,
        Partitioning::Projection(column) => {
            let col = sql_identifier(column);
            Some(match first {
                Some(f) => format!("{col} >= {} AND {col} <= {}", sql_string(&f), sql_string(&last)),
                None => format!("{col} <= {}", sql_string(&last)),
            })
        }
        Partitioning::RegionYearMonthDay => {
            let day = "concat(year, '/', month, '/', day)";
            Some(match first {
                Some(f) => format!("{day} >= {} AND {day} <= {}", sql_string(&f), sql_string(&last)),
                None => format!("{day} <= {}", sql_string(&last)),
            })
        }
    }
}

/// The one query for a principal and window: filtered, grouped by call shape, with the documented
/// result columns. `today` (`YYYY-MM-DD` or `YYYY/MM/DD`) bounds an open window's partitions.
pub fn build_query(
    table: &AthenaTable,
    filter: &PrincipalFilter,
    window: &TimeWindow,
    partitioning: &Partitioning,
    today: &str,
) -> String {
    let mut conditions = vec![principal_predicate(filter)];
    if let Some(s) = &window.since {
        conditions.push(format!("eventtime >= {}", sql_string(s)));
    }
    if let Some(u) = &window.until {
        conditions.push(format!("eventtime < {}", sql_string(u)));
    }
    conditions.extend(partition_predicate(partitioning, window, today));
    let from = format!("{}.{}", sql_identifier(&table.database), sql_identifier(&table.table));
    let reduced = "json_format(CAST(MAP(ARRAY['bucketName', 'key'], ARRAY[json_extract_scalar(c.requestparameters, '$.bucketName'), regexp_replace(coalesce(json_extract_scalar(c.requestparameters, '$.key'), ''), '[^/]*$', '*')]) AS JSON))";
    format!(
        "-- iamfit: CloudTrail usage, one row per call shape (columns: {columns})
WITH calls AS (
  SELECT eventsource, eventname, errorcode, awsregion, recipientaccountid,
         CASE WHEN cardinality(resources) > 0 THEN json_format(CAST(transform(resources, r -> r.arn) AS JSON)) END AS resources,
         requestparameters, eventtime
  FROM {from}
  WHERE {conditions}
),
heavy AS (
  SELECT eventsource, eventname
  FROM calls
  WHERE eventsource = 's3.amazonaws.com'
  GROUP BY eventsource, eventname
  HAVING count(DISTINCT requestparameters) > {max}
)
SELECT c.eventsource, c.eventname, c.errorcode, c.awsregion, c.recipientaccountid, c.resources,
       CASE WHEN h.eventname IS NULL THEN c.requestparameters ELSE {reduced} END AS requestparameters,
       count(*) AS calls,
       min(c.eventtime) AS first_seen,
       max(c.eventtime) AS last_seen
FROM calls c
LEFT JOIN heavy h ON c.eventsource = h.eventsource AND c.eventname = h.eventname
GROUP BY 1, 2, 3, 4, 5, 6, 7
ORDER BY 1, 2, 3, 4, 5, 6, 7
",
        columns = RESULT_COLUMNS.join(", "),
        conditions = conditions.join("\n    AND "),
        max = MAX_DISTINCT_PARAMETERS,
    )
}

/// One result row, as Athena returns it (every value text or null).
pub type Row = Vec<Option<String>>;

/// Whether a row is the header row Athena puts first in the results of a `SELECT`.
pub fn is_header(row: &Row) -> bool {
    row.len() == RESULT_COLUMNS.len()
        && row
            .iter()
            .zip(RESULT_COLUMNS)
            .all(|(v, c)| v.as_deref().is_some_and(|v| v.eq_ignore_ascii_case(c)))
}

/// A result row as a call shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallShape {
    /// The record the row stands for (CloudTrail's JSON field names), at its first time.
    pub record: String,
    /// How many calls had this shape.
    pub calls: u64,
    /// The first call.
    pub first_seen: String,
    /// The last call.
    pub last_seen: String,
}

/// Turns a result row into a call shape; `number` names the row in errors.
pub fn call_shape(row: &Row, number: usize) -> Result<CallShape, AthenaError> {
    let bad = |reason: String| AthenaError::BadRow { row: number, reason };
    if row.len() != RESULT_COLUMNS.len() {
        return Err(bad(format!("{} columns, expected {}", row.len(), RESULT_COLUMNS.len())));
    }
    let col = |i: usize| row.get(i).cloned().flatten();
    let required = |i: usize| {
        col(i).filter(|v| !v.is_empty()).ok_or_else(|| bad(format!("{} is empty", RESULT_COLUMNS[i])))
    };
    let calls: u64 = required(7)?.parse().map_err(|_| bad("calls is not a whole number".into()))?;
    let parameters: serde_json::Value = match col(6) {
        Some(text) if !text.is_empty() => {
            serde_json::from_str(&text).map_err(|e| bad(format!("requestparameters is not JSON: {e}")))?
        }
        _ => serde_json::Value::Null,
    };
    let resources: Vec<serde_json::Value> = match col(5) {
        Some(text) if !text.is_empty() => serde_json::from_str::<Vec<Option<String>>>(&text)
            .map_err(|e| bad(format!("resources is not a JSON array of ARNs: {e}")))?
            .into_iter()
            .flatten()
            .map(|arn| serde_json::json!({ "ARN": arn }))
            .collect(),
        _ => Vec::new(),
    };
    let first_seen = required(8)?;
    let last_seen = required(9)?;
    let record = serde_json::json!({
        "eventSource": required(0)?,
        "eventName": required(1)?,
        "errorCode": col(2).filter(|c| !c.is_empty()),
        "awsRegion": col(3),
        "recipientAccountId": col(4),
        "eventTime": first_seen,
        "requestParameters": parameters,
        "resources": resources,
    });
    Ok(CallShape { record: record.to_string(), calls, first_seen, last_seen })
}

/// Adds a call shape to `usage`: the same mapping as one log record, counted `calls` times, with the
/// shape's first and last times. A data-event action seen this way shows that the trail logs that
/// service's data events.
pub fn record_shape(usage: &mut Usage, shape: &CallShape, catalog: &Catalog) -> Result<(), String> {
    let event: Event<'_> = serde_json::from_str(&shape.record).map_err(|e| e.to_string())?;
    let mut one = Usage::default();
    one.record(&event, catalog);
    let n = shape.calls.max(1);
    one.matched = n;
    one.permissionless *= n;
    for a in one.actions.values_mut() {
        a.count *= n;
        a.resources.unknown *= n;
        a.first_seen.clone_from(&shape.first_seen);
        a.last_seen.clone_from(&shape.last_seen);
    }
    for d in one.denied.values_mut() {
        d.count *= n;
        d.resources.unknown *= n;
        d.last_seen.clone_from(&shape.last_seen);
    }
    for count in one.unmapped.values_mut() {
        *count *= n;
    }
    let data_services: BTreeMap<String, ()> = one
        .actions
        .keys()
        .filter(|a| catalog.action(a).map(coverage) == Some(Coverage::DataEvent))
        .filter_map(|a| a.split(':').next().map(|s| (s.to_string(), ())))
        .collect();
    one.data_event_services.extend(data_services.into_keys());
    usage.merge(one);
    Ok(())
}

/// AWS's documented `CREATE EXTERNAL TABLE` for CloudTrail logs with partition projection on
/// `timestamp` (Amazon Athena User Guide, "Create the table for CloudTrail logs in Athena using
/// partition projection"), for the logs of one account and region under `location`
/// (`s3://BUCKET/[PREFIX/]AWSLogs/[ORG/]ACCOUNT/CloudTrail/REGION`).
pub fn ddl(table: &str, location: &str, start_day: &str) -> String {
    let location = location.trim_end_matches('/');
    format!(
        "CREATE EXTERNAL TABLE {table} (
    eventversion STRING,
    useridentity STRUCT<
        type: STRING,
        principalid: STRING,
        arn: STRING,
        accountid: STRING,
        invokedby: STRING,
        accesskeyid: STRING,
        username: STRING,
        onbehalfof: STRUCT<
             userid: STRING,
             identitystorearn: STRING>,
        sessioncontext: STRUCT<
            attributes: STRUCT<
                mfaauthenticated: STRING,
                creationdate: STRING>,
            sessionissuer: STRUCT<
                type: STRING,
                principalid: STRING,
                arn: STRING,
                accountid: STRING,
                username: STRING>,
            ec2roledelivery: STRING,
            webidfederationdata: STRUCT<
                federatedprovider: STRING,
                attributes: map<string,string>>
        >
    >,
    eventtime STRING,
    eventsource STRING,
    eventname STRING,
    awsregion STRING,
    sourceipaddress STRING,
    useragent STRING,
    errorcode STRING,
    errormessage STRING,
    requestparameters STRING,
    responseelements STRING,
    additionaleventdata STRING,
    requestid STRING,
    eventid STRING,
    readonly STRING,
    resources ARRAY<STRUCT<
        arn: STRING,
        accountid: STRING,
        type: STRING>>,
    eventtype STRING,
    apiversion STRING,
    recipientaccountid STRING,
    serviceeventdetails STRING,
    sharedeventid STRING,
    vpcendpointid STRING,
    vpcendpointaccountid STRING,
    eventcategory STRING,
    addendum STRUCT<
      reason:STRING,
      updatedfields:STRING,
      originalrequestid:STRING,
      originaleventid:STRING>,
    sessioncredentialfromconsole STRING,
    edgedevicedetails STRING,
    tlsdetails STRUCT<
      tlsversion:STRING,
      ciphersuite:STRING,
      clientprovidedhostheader:STRING>
  )
PARTITIONED BY (
   `timestamp` string)
ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION
  '{location}'
TBLPROPERTIES (
  'projection.enabled'='true',
  'projection.timestamp.format'='yyyy/MM/dd',
  'projection.timestamp.interval'='1',
  'projection.timestamp.interval.unit'='DAYS',
  'projection.timestamp.range'='{start_day},NOW',
  'projection.timestamp.type'='date',
  'storage.location.template'='{location}/${{timestamp}}')
"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> AthenaTable {
        AthenaTable::parse("athena://primary/trails.cloudtrail_logs").unwrap()
    }

    #[test]
    fn urls() {
        let t = AthenaTable::parse("athena://wg-1/db_x.logs?output=s3://out/prefix/&partition=none").unwrap();
        assert_eq!((t.workgroup.as_str(), t.database.as_str(), t.table.as_str()), ("wg-1", "db_x", "logs"));
        assert_eq!(t.output.as_deref(), Some("s3://out/prefix/"));
        assert_eq!(t.partitioning, Some(Partitioning::None));
        for bad in [
            "athena://wg/db",
            "athena://wg",
            "athena:///db.t",
            "athena://wg/db.t?output=/tmp",
            "athena://wg/db.t;drop",
            "athena://wg/db.t?partition=month",
            "s3://b/x",
        ] {
            assert!(AthenaTable::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_are_quoted() {
        assert_eq!(sql_string("o'brien"), "'o''brien'");
        assert_eq!(sql_identifier("a\"b"), "\"a\"\"b\"");
        let filter = PrincipalFilter::Role {
            arn: "arn:aws:iam::111122223333:role/service-role/orders-fn-role".into(),
            name: "orders-fn-role".into(),
            session: Some("it's".into()),
        };
        let p = principal_predicate(&filter);
        assert!(
            p.contains("sessionissuer.arn = 'arn:aws:iam::111122223333:role/service-role/orders-fn-role'"),
            "{p}"
        );
        assert!(p.contains("= 'orders-fn-role'"), "{p}");
        assert!(p.ends_with("element_at(split(useridentity.arn, '/'), -1) = 'it''s'"), "{p}");
    }

    #[test]
    fn window_to_partitions() {
        let w = TimeWindow {
            since: Some("2026-02-27T10:00:00Z".into()),
            until: Some("2026-02-28T12:00:00Z".into()),
        };
        let p = partition_predicate(&Partitioning::Projection("timestamp".into()), &w, "2026-12-04").unwrap();
        // The day after the end is included: a day's last records are delivered the next day.
        assert_eq!(p, "\"timestamp\" >= '2026/02/27' AND \"timestamp\" <= '2026/03/01'");
        let open = TimeWindow { since: Some("2026-12-31T00:00:00Z".into()), until: None };
        let p = partition_predicate(&Partitioning::RegionYearMonthDay, &open, "2026-12-31").unwrap();
        assert_eq!(
            p,
            "concat(year, '/', month, '/', day) >= '2026/12/31' AND concat(year, '/', month, '/', day) <= '2027/01/01'"
        );
        assert_eq!(partition_predicate(&Partitioning::None, &w, "2026-12-04"), None);
    }

    #[test]
    fn the_query_filters_groups_and_has_the_documented_columns() {
        let filter = PrincipalFilter::User { arn: "arn:aws:iam::111122223333:user/dev".into() };
        let w = TimeWindow {
            since: Some("2026-11-01T00:00:00Z".into()),
            until: Some("2026-11-02T00:00:00Z".into()),
        };
        let sql =
            build_query(&table(), &filter, &w, &Partitioning::Projection("timestamp".into()), "2026-12-04");
        assert!(sql.contains("FROM \"trails\".\"cloudtrail_logs\""));
        assert!(sql.contains("useridentity.arn = 'arn:aws:iam::111122223333:user/dev'"));
        assert!(
            sql.contains("eventtime >= '2026-11-01T00:00:00Z'")
                && sql.contains("eventtime < '2026-11-02T00:00:00Z'")
        );
        assert!(sql.contains("\"timestamp\" >= '2026/11/01' AND \"timestamp\" <= '2026/11/03'"));
        assert!(sql.contains("GROUP BY 1, 2, 3, 4, 5, 6, 7"));
        let select = sql.rsplit("SELECT c.").next().unwrap();
        let order: Vec<usize> = RESULT_COLUMNS.iter().map(|c| select.find(*c).unwrap()).collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "columns in the documented order: {select}");
    }

    #[test]
    fn rows_become_call_shapes() {
        let row: Row = vec![
            Some("s3.amazonaws.com".into()),
            Some("GetObject".into()),
            None,
            Some("us-east-1".into()),
            Some("111122223333".into()),
            Some(r#"["arn:aws:s3:::orders/a.json"]"#.into()),
            Some(r#"{"bucketName":"orders","key":"a.json"}"#.into()),
            Some("42".into()),
            Some("2026-11-01T10:00:00Z".into()),
            Some("2026-11-03T10:00:00Z".into()),
        ];
        let shape = call_shape(&row, 1).unwrap();
        assert_eq!(shape.calls, 42);
        let mut usage = Usage::default();
        record_shape(&mut usage, &shape, Catalog::get()).unwrap();
        let a = &usage.actions["s3:GetObject"];
        assert_eq!(a.count, 42);
        assert_eq!(
            (a.first_seen.as_str(), a.last_seen.as_str()),
            ("2026-11-01T10:00:00Z", "2026-11-03T10:00:00Z")
        );
        assert!(a.resources.set.contains("arn:aws:s3:::orders/a.json"));
        assert_eq!(usage.matched, 42);
        assert!(usage.data_event_services.contains("s3"), "S3 object reads are data events");
        let mut short = row.clone();
        short.pop();
        assert!(call_shape(&short, 2).is_err());
        let mut bad_calls = row;
        bad_calls[7] = Some("many".into());
        assert!(matches!(call_shape(&bad_calls, 3), Err(AthenaError::BadRow { row: 3, .. })));
    }

    #[test]
    fn header_rows_are_recognised() {
        let header: Row = RESULT_COLUMNS.iter().map(|c| Some(c.to_string())).collect();
        assert!(is_header(&header));
        let mut data = header.clone();
        data[7] = Some("3".into());
        assert!(!is_header(&data));
    }

    #[test]
    fn ddl_is_aws_documented_projection_table() {
        let text = ddl(
            "cloudtrail_logs_pp",
            "s3://trail-bucket/AWSLogs/111122223333/CloudTrail/us-east-1/",
            "2026/01/01",
        );
        assert!(text.starts_with("CREATE EXTERNAL TABLE cloudtrail_logs_pp ("));
        assert!(text.contains("'projection.timestamp.range'='2026/01/01,NOW'"));
        assert!(text.contains(
            "'storage.location.template'='s3://trail-bucket/AWSLogs/111122223333/CloudTrail/us-east-1/${timestamp}'"
        ));
        for column in TABLE_COLUMNS {
            assert!(text.contains(&format!("    {column} ")), "{column}");
        }
    }
}
