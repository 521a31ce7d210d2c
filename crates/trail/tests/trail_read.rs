//! The CloudTrail log reader on real files: discovery in the S3 layouts, plain, gzip and lookup-events
//! input, damaged input of every kind next to good files, and the splitter against serde_json.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::string_slice, missing_docs)]

use std::fs;
use std::io::Write;
use std::path::Path;

use iamfit_trail::read::{
    find_log_files, read_bytes, read_files, Collector, LogFile, ReadOptions, ReadStats,
};
use iamfit_trail::split::{split_array, Element, SplitError};
use iamfit_trail::{Event, PrincipalFilter, TimeWindow};
use proptest::prelude::*;
use serde_json::{json, Value};

const ROLE_ARN: &str = "arn:aws:iam::111122223333:role/orders-fn-role";

/// Remembers `source:name@time` of each record it is given.
#[derive(Default, Debug)]
struct Names(Vec<String>);

impl Collector for Names {
    fn record(&mut self, e: &Event<'_>, raw: &str) {
        assert!(raw.starts_with('{') && raw.ends_with('}'), "{raw}");
        serde_json::from_str::<Value>(raw).expect("raw is the record's JSON");
        self.0.push(format!(
            "{}:{}@{}",
            e.source_prefix(),
            e.event_name.as_deref().unwrap(),
            e.event_time.as_deref().unwrap_or("")
        ));
    }
    fn merge(&mut self, other: Self) {
        self.0.extend(other.0);
    }
}

fn role_filter() -> PrincipalFilter {
    PrincipalFilter::Role { arn: ROLE_ARN.into(), name: "orders-fn-role".into(), session: None }
}

fn role_record(role: &str, session: &str, source: &str, name: &str, time: &str) -> Value {
    json!({
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:orders",
            "arn": format!("arn:aws:sts::111122223333:assumed-role/{role}/{session}"),
            "accountId": "111122223333",
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": format!("arn:aws:iam::111122223333:role/{role}"), "userName": role}}
        },
        "eventTime": time,
        "eventSource": format!("{source}.amazonaws.com"),
        "eventName": name,
        "awsRegion": "us-east-1",
        "requestParameters": {"note": "quotes \" and braces {[ inside", "key": "a\\b"},
        "responseElements": null
    })
}

fn target(name: &str, time: &str) -> Value {
    role_record("orders-fn-role", "orders", "dynamodb", name, time)
}

fn other(name: &str) -> Value {
    role_record("payments-fn-role", "payments", "s3", name, "2026-10-01T10:00:00Z")
}

fn log(records: &[Value]) -> Vec<u8> {
    serde_json::to_vec(&json!({ "Records": records })).unwrap()
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn put(root: &Path, rel: &str, bytes: &[u8]) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, bytes).unwrap();
}

fn read(
    files: &[LogFile],
    filter: &PrincipalFilter,
    window: &TimeWindow,
    threads: usize,
) -> (Names, ReadStats) {
    let opts = ReadOptions { filter, window, threads, progress: None };
    let (mut names, stats): (Names, ReadStats) = read_files(files, &opts);
    names.0.sort();
    (names, stats)
}

fn reasons(stats: &ReadStats) -> Vec<(String, String)> {
    stats
        .failed
        .iter()
        .map(|p| (Path::new(&p.path).file_name().unwrap().to_string_lossy().into_owned(), p.reason.clone()))
        .collect()
}

const DAY1: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/10/01";

fn good_layout(root: &Path) {
    put(
        root,
        &format!("{DAY1}/111122223333_CloudTrail_us-east-1_20261001T1005Z_a.json.gz"),
        &gz(&log(&[
            target("GetItem", "2026-10-01T10:00:00Z"),
            other("GetObject"),
            target("PutItem", "2026-10-01T10:01:00Z"),
        ])),
    );
    put(
        root,
        "AWSLogs/o-abc123def4/111122223333/CloudTrail/eu-west-1/2026/10/02/111122223333_CloudTrail_eu-west-1_20261002T0000Z_b.json",
        &log(&[other("PutObject"), target("Query", "2026-10-02T00:00:00Z")]),
    );
    put(
        root,
        "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/10/01/111122223333_CloudTrail-Digest_us-east-1_x.json.gz",
        &gz(br#"{"awsAccountId":"111122223333"}"#),
    );
    put(root, "AWSLogs/111122223333/CloudTrail/us-east-1/README.txt", b"not a log");
    // What `aws cloudtrail lookup-events` prints: each record is a JSON string.
    let lookup = json!({
        "Events": [
            {"EventId": "1", "EventName": "Decrypt", "ReadOnly": "true", "CloudTrailEvent": role_record("orders-fn-role", "orders", "kms", "Decrypt", "2026-10-03T00:00:00Z").to_string()},
            {"EventId": "2", "EventName": "GetObject", "CloudTrailEvent": other("GetObject").to_string()},
        ],
        "NextToken": "abc"
    });
    put(root, "lookup/events.json", lookup.to_string().as_bytes());
}

#[test]
fn reads_the_s3_layouts_plain_gzip_and_lookup_events() {
    let dir = tempfile::tempdir().unwrap();
    good_layout(dir.path());
    let files = find_log_files(dir.path()).unwrap();
    let listed: Vec<(String, Option<&str>)> = files
        .iter()
        .map(|f| (f.path.strip_prefix(dir.path()).unwrap().to_string_lossy().into_owned(), f.skip))
        .collect();
    assert_eq!(listed.len(), 5, "{listed:?}");
    assert_eq!(listed.iter().filter(|(_, s)| *s == Some("CloudTrail digest file")).count(), 1);
    assert_eq!(listed.iter().filter(|(_, s)| *s == Some("not a .json or .json.gz file")).count(), 1);
    assert!(listed.windows(2).all(|w| Path::new(&w[0].0) < Path::new(&w[1].0)), "sorted: {listed:?}");
    assert_eq!(files.iter().find(|f| f.path.ends_with("events.json")).unwrap().date, None);
    assert!(files.iter().any(|f| f.date == Some((2026, 10, 2))));

    for threads in [1, 2, 8] {
        let (names, stats) = read(&files, &role_filter(), &TimeWindow::default(), threads);
        assert_eq!(
            names.0,
            vec![
                "dynamodb:GetItem@2026-10-01T10:00:00Z",
                "dynamodb:PutItem@2026-10-01T10:01:00Z",
                "dynamodb:Query@2026-10-02T00:00:00Z",
                "kms:Decrypt@2026-10-03T00:00:00Z"
            ]
        );
        assert_eq!((stats.files_read, stats.files_skipped, stats.failed.len()), (3, 2, 0), "{stats:?}");
        assert_eq!((stats.records, stats.matched, stats.malformed), (7, 4, 0));
        assert!(stats.bytes_decompressed > stats.bytes_in);
    }

    // Every record, and a time window.
    let (names, stats) = read(&files, &PrincipalFilter::Any, &TimeWindow::default(), 2);
    assert_eq!((stats.records, stats.matched, names.0.len()), (7, 7, 7));
    let window =
        TimeWindow { since: Some("2026-10-01T10:00:30Z".into()), until: Some("2026-10-03T00:00:00Z".into()) };
    let (names, stats) = read(&files, &role_filter(), &window, 2);
    assert_eq!(names.0, vec!["dynamodb:PutItem@2026-10-01T10:01:00Z", "dynamodb:Query@2026-10-02T00:00:00Z"]);
    assert_eq!((stats.records, stats.matched), (7, 2));

    // A window far from the files' dates skips the dated files without reading them.
    let window = TimeWindow { since: Some("2026-10-20T00:00:00Z".into()), until: None };
    let (_, stats) = read(&files, &role_filter(), &window, 2);
    assert_eq!((stats.files_read, stats.files_skipped, stats.records, stats.matched), (1, 4, 2, 0));

    // A single file, named directly, whatever its name.
    put(dir.path(), "single.log", &gz(&log(&[target("GetItem", "2026-10-01T10:00:00Z")])));
    let files = find_log_files(&dir.path().join("single.log")).unwrap();
    assert_eq!(files.len(), 1);
    let (names, stats) = read(&files, &role_filter(), &TimeWindow::default(), 0);
    assert_eq!((names.0.len(), stats.records, stats.files_read), (1, 1, 1));
}

#[test]
fn session_filter_uses_the_marker_and_matches_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let records = [
        target("GetItem", "2026-10-01T10:00:00Z"),
        role_record("orders-fn-role", "orders-2", "s3", "GetObject", "2026-10-01T10:00:00Z"),
        role_record("orders-fn-role-canary", "orders", "s3", "PutObject", "2026-10-01T10:00:00Z"),
    ];
    put(dir.path(), "a.json", &log(&records));
    let files = find_log_files(dir.path()).unwrap();
    let filter = PrincipalFilter::Role {
        arn: ROLE_ARN.into(),
        name: "orders-fn-role".into(),
        session: Some("orders".into()),
    };
    let (names, stats) = read(&files, &filter, &TimeWindow::default(), 1);
    assert_eq!(names.0, vec!["dynamodb:GetItem@2026-10-01T10:00:00Z"]);
    assert_eq!((stats.records, stats.matched, stats.malformed), (3, 1, 0));
}

#[test]
fn damaged_input_is_reported_and_good_files_are_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    good_layout(root);
    let three = log(&[
        target("GetItem", "2026-10-01T10:00:00Z"),
        other("GetObject"),
        target("PutItem", "2026-10-01T10:01:00Z"),
    ]);
    let three_gz = gz(&three);
    put(
        root,
        "bad/corrupt.json.gz",
        &[&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3][..], b"this is not deflate data at all"].concat(),
    );
    // Cut in the trailer: every record inflates, but the gzip check fails.
    put(root, "bad/trailer-cut.json.gz", &three_gz[..three_gz.len() - 3]);
    // Cut right after the header: nothing usable.
    put(root, "bad/early-cut.json.gz", &three_gz[..15]);
    // Cut inside the second record.
    let cut = three.windows(8).rposition(|w| w == b"GetObjec").unwrap();
    put(root, "bad/truncated.json", &three[..cut]);
    put(root, "bad/other.json", br#"{"Items": [1, 2, 3], "Count": 3}"#);
    put(root, "bad/array.json", b"[1, 2]");
    put(root, "bad/empty.json", b"");
    let mut missing = target("GetItem", "2026-10-01T10:00:00Z");
    missing.as_object_mut().unwrap().remove("eventName");
    let mut text = String::from_utf8(log(&[missing, target("Scan", "2026-10-01T11:00:00Z")])).unwrap();
    // A scalar where a record should be, and a record of the principal that is not valid JSON inside.
    text = text.replacen("[", "[42, {\"userIdentity\":{\"arn\":\"arn:aws:sts::111122223333:assumed-role/orders-fn-role/orders\"}, \"eventName\": },", 1);
    put(root, "bad/malformed.json", text.as_bytes());
    #[cfg(unix)]
    std::os::unix::fs::symlink(root.join("nowhere.json"), root.join("bad/dangling.json")).unwrap();
    put(root, "bad/locked.json", &three);
    #[cfg(unix)]
    let locked_readable = {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(root.join("bad/locked.json"), fs::Permissions::from_mode(0o000)).unwrap();
        put(root, "bad/locked-folder/x.json", &three);
        fs::set_permissions(root.join("bad/locked-folder"), fs::Permissions::from_mode(0o000)).unwrap();
        // Root reads it anyway: then only the other unreadable paths are checked.
        fs::File::open(root.join("bad/locked.json")).is_ok()
    };
    #[cfg(not(unix))]
    let locked_readable = true;

    let mut files = find_log_files(root).unwrap();
    // A folder listed as a file (as a caller could pass one) cannot be read either.
    fs::create_dir_all(root.join("bad/folder.json")).unwrap();
    files.push(LogFile::new(root.join("bad/folder.json")));
    let (names, stats) = read(&files, &role_filter(), &TimeWindow::default(), 2);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Let the temporary folder be removed.
        fs::set_permissions(root.join("bad/locked-folder"), fs::Permissions::from_mode(0o755)).unwrap();
    }

    let mut expected = vec![
        ("array.json", "not a CloudTrail log file: not a JSON object".to_string()),
        ("corrupt.json.gz", "corrupt gzip".to_string()),
        ("dangling.json", "cannot read: no such file (a dangling link?)".to_string()),
        ("early-cut.json.gz", "truncated gzip".to_string()),
        ("empty.json", "empty file".to_string()),
        ("folder.json", "cannot read: Is a directory".to_string()),
        ("other.json", "not a CloudTrail log file: no Records array".to_string()),
        ("trailer-cut.json.gz", "truncated gzip".to_string()),
        (
            "truncated.json",
            "truncated JSON: the file ends inside its Records array (after 1 complete records)".to_string(),
        ),
    ];
    if !locked_readable {
        expected.push(("locked.json", "cannot read: permission denied".to_string()));
        expected.push(("locked-folder", "cannot read: permission denied".to_string()));
        expected.sort();
    }
    let got = reasons(&stats);
    assert_eq!(got.len(), expected.len(), "{got:#?}");
    for ((name, reason), (want_name, want)) in got.iter().zip(&expected) {
        assert_eq!(name, want_name);
        assert!(reason.starts_with(want.as_str()), "{name}: {reason:?} should start with {want:?}");
    }

    // Good files: 7 records, 4 of the principal. trailer-cut: 3 records, 2 matched. truncated.json: 1
    // complete record (the principal's). malformed.json: 4 records (the scalar and the broken record
    // are malformed, the record without eventName too), 1 matched. locked.json and locked-folder/x.json (when root): 6, 4.
    let (locked_records, locked_matched) = if locked_readable { (6, 4) } else { (0, 0) };
    assert_eq!(stats.records, 7 + 3 + 1 + 4 + locked_records, "{stats:#?}");
    assert_eq!(stats.matched, 4 + 2 + 1 + 1 + locked_matched);
    assert_eq!(stats.malformed, 3);
    assert_eq!(stats.files_skipped, 2);
    assert_eq!(stats.files_read, files.len() - 2);
    assert!(names.0.contains(&"dynamodb:Scan@2026-10-01T11:00:00Z".to_string()));
    assert!(names.0.contains(&"kms:Decrypt@2026-10-03T00:00:00Z".to_string()));
}

#[test]
fn empty_and_missing_paths() {
    let dir = tempfile::tempdir().unwrap();
    let files = find_log_files(dir.path()).unwrap();
    assert!(files.is_empty());
    let (names, stats) = read(&files, &role_filter(), &TimeWindow::default(), 0);
    assert!(names.0.is_empty());
    assert_eq!(stats, ReadStats::default());
    let err = find_log_files(&dir.path().join("nope")).unwrap_err();
    assert!(err.to_string().ends_with("nope: no such file or folder"), "{err}");
}

#[test]
fn read_bytes_detects_gzip_by_content_and_reports_progress() {
    let filter = role_filter();
    let window = TimeWindow::default();
    let opts = ReadOptions { filter: &filter, window: &window, threads: 1, progress: None };
    let mut names = Names::default();
    let mut stats = ReadStats::default();
    let plain = log(&[target("GetItem", "2026-10-01T10:00:00Z"), other("GetObject")]);
    read_bytes("s3://b/k1.json", &gz(&plain), &opts, &mut names, &mut stats);
    read_bytes("s3://b/k2.json.gz", &plain, &opts, &mut names, &mut stats);
    read_bytes("s3://b/k3.json.gz", b"{}", &opts, &mut names, &mut stats);
    assert_eq!((stats.files_read, stats.records, stats.matched, names.0.len()), (3, 4, 2, 2));
    assert_eq!(stats.failed.len(), 1);
    assert_eq!(stats.failed[0].path, "s3://b/k3.json.gz");
    assert_eq!(stats.failed[0].reason, "not a CloudTrail log file: no Records array");

    let dir = tempfile::tempdir().unwrap();
    for i in 0..5 {
        put(dir.path(), &format!("f{i}.json"), &plain);
    }
    let files = find_log_files(dir.path()).unwrap();
    let seen = std::sync::Mutex::new(Vec::new());
    let progress = |p: &iamfit_trail::read::Progress| seen.lock().unwrap().push(p.clone());
    let opts = ReadOptions { filter: &filter, window: &window, threads: 2, progress: Some(&progress) };
    let (_, stats): (Names, _) = read_files(&files, &opts);
    let seen = seen.into_inner().unwrap();
    let last = seen.last().expect("a final progress report");
    assert_eq!((last.files_done, last.files_total, last.records), (5, 5, 10));
    assert_eq!(last.bytes_in, stats.bytes_in);
}

// The splitter against serde_json: random JSON values, with strings full of quotes, backslashes and
// brackets, nested objects and arrays, and random whitespace between elements.
fn text() -> impl Strategy<Value = String> {
    proptest::string::string_regex(r#"[a-z"\\{}\[\],: é\n\t]{0,12}"#).unwrap()
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((text(), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn element() -> impl Strategy<Value = Value> {
    prop_oneof![
        8 => prop::collection::vec(("[a-z\"{}\\\\]{0,6}", json_value()), 0..6)
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        1 => json_value(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn splitter_finds_exactly_the_elements_serde_finds(
        elements in prop::collection::vec((element(), any::<bool>(), 0usize..3), 0..12),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut text = String::from("{\"Records\": [");
        for (i, (v, pretty, ws)) in elements.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push_str([" ", "\n  ", ""][*ws]);
            text.push_str(&if *pretty { serde_json::to_string_pretty(v).unwrap() } else { v.to_string() });
        }
        text.push_str("]}");
        let expected: Value = serde_json::from_str(&text).unwrap();
        let expected = expected["Records"].as_array().unwrap().clone();

        let open = text.find('[').unwrap();
        let mut found = Vec::new();
        let end = split_array(text.as_bytes(), open, true, |e| {
            let (s, e) = match e { Element::Container(s, e) | Element::Other(s, e) => (s, e) };
            found.push(serde_json::from_str::<Value>(&text[s..e]).unwrap());
        });
        prop_assert_eq!(end, Ok(text.len() - 1));
        prop_assert_eq!(&found, &expected);

        // Cut anywhere: no panic, and what is handed out is the elements before the cut, whole.
        let at = cut.index(text.len());
        let short = &text.as_bytes()[..at];
        let mut got = 0usize;
        if at > open {
            let r = split_array(short, open, true, |e| {
                if let Element::Container(s, e) = e {
                    let v: Value = serde_json::from_slice(&short[s..e]).unwrap();
                    assert!(expected.contains(&v));
                }
                got += 1;
            });
            if let Err(SplitError::Truncated { at: last }) = r {
                prop_assert!(last <= at);
            }
            prop_assert!(got <= expected.len() + 1);
        }
    }
}
