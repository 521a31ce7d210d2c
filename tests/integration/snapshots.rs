//! Snapshot tests (insta) of each command's table, JSON and Markdown output on the bundled demo
//! account, so that any change of a report is seen and reviewed. The snapshots live in
//! `tests/integration/snapshots/`; review changes with `cargo insta review` (or set
//! `INSTA_UPDATE=always` and read the diff). On CI a mismatch fails.
//!
//! Each command is run offline with no colour, so the output is the same on every machine. Lines
//! that hold the path of the repository or a time are not part of the demo's output.

use crate::support::iamfit;

const DEMO: &str = "policy-fixtures/demo";

/// Runs iamfit on the demo and returns stdout, after checking the exit status.
fn demo(args: &[&str], expected_status: i32) -> String {
    let mut all = args.to_vec();
    all.extend(["--snapshot", DEMO, "--no-color"]);
    let (code, stdout, stderr) = iamfit(&all);
    assert_eq!(code, expected_status, "iamfit {}: {stderr}", all.join(" "));
    stdout
}

macro_rules! snapshot {
    ($name:literal, $status:expr, $($arg:expr),+) => {
        insta::assert_snapshot!($name, demo(&[$($arg),+], $status));
    };
}

#[test]
fn usage_reports() {
    snapshot!("usage_table", 0, "usage", "--function", "orders");
    snapshot!("usage_json", 0, "usage", "--function", "orders", "-o", "json");
    snapshot!("usage_markdown", 0, "usage", "--function", "orders", "-o", "markdown");
}

#[test]
fn diff_reports() {
    snapshot!("diff_table", 0, "diff", "--function", "orders", "--profile", "dev");
    // The JSON lists every mismatch and every call (hundreds on the demo): the snapshot holds every
    // key but the two lists, cut to their first entries (the used mismatches, the differing calls)
    // and their lengths.
    let json = demo(&["diff", "--function", "orders", "--profile", "dev", "-o", "json"], 0);
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    for (key, keep) in [("mismatches", 25), ("calls", 12)] {
        let total = v[key].as_array().map_or(0, Vec::len);
        if let Some(list) = v[key].as_array_mut() {
            list.truncate(keep);
        }
        v[format!("{key}_listed_in_full")] = total.into();
    }
    insta::assert_snapshot!("diff_json", serde_json::to_string_pretty(&v).unwrap());
    snapshot!("diff_markdown", 0, "diff", "--function", "orders", "--profile", "dev", "-o", "markdown");
}

#[test]
fn audit_reports() {
    snapshot!("audit_table", 0, "audit", "--function", "orders");
    snapshot!("audit_json", 0, "audit", "--function", "orders", "-o", "json");
    snapshot!("audit_markdown", 0, "audit", "--function", "orders", "-o", "markdown");
}

#[test]
fn generate_reports() {
    snapshot!("generate_iam", 0, "generate", "--function", "orders");
    snapshot!("generate_sam", 0, "generate", "--function", "orders", "--format", "sam");
}

#[test]
fn trust_and_graph_reports() {
    snapshot!("trust_table", 0, "trust", "--function", "orders", "--profile", "dev");
    snapshot!("trust_json", 0, "trust", "--function", "orders", "--profile", "dev", "-o", "json");
    snapshot!("graph_dot", 0, "graph", "--function", "orders");
}

/// `explain` of designed mismatch L1 (policy-fixtures/README.md): the function's role denied
/// `dynamodb:Scan` by `orders-guardrails/DenyTableScans`.
#[test]
fn explain_reports() {
    const MESSAGE: &str = "User: arn:aws:sts::111122223333:assumed-role/orders-fn-role/orders is not authorized to perform: dynamodb:Scan on resource: arn:aws:dynamodb:us-east-1:111122223333:table/orders with an explicit deny in an identity-based policy";
    snapshot!("explain_table", 0, "explain", MESSAGE);
    snapshot!("explain_json", 0, "explain", MESSAGE, "-o", "json");
    snapshot!("explain_markdown", 0, "explain", MESSAGE, "-o", "markdown");
}

#[test]
fn sarif_is_refused_where_there_are_no_findings() {
    let (code, stdout, stderr) =
        iamfit(&["usage", "--function", "orders", "--snapshot", DEMO, "-o", "sarif"]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("`usage` has no sarif output") && stderr.contains("--output table, json, markdown"),
        "{stderr}"
    );
}
