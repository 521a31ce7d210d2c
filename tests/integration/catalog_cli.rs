//! `iamfit catalog expand|show` run as a binary against the embedded catalog.

use std::process::{Command, Output};

fn iamfit(args: &[&str]) -> Output {
    let empty_cache = std::env::temp_dir().join("iamfit-catalog-cli-test-no-cache");
    Command::new(env!("CARGO_BIN_EXE_iamfit"))
        .args(args)
        .env("IAMFIT_CACHE_DIR", empty_cache)
        .env("NO_COLOR", "1")
        .output()
        .expect("run iamfit")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn expand_lists_matching_actions_only() {
    let out = iamfit(&["catalog", "expand", "s3:Get*"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Into a pipe: one action per line and nothing else (for `| xargs`, `| wc -l`).
    let text = stdout(&out);
    let actions: Vec<&str> = text.lines().collect();
    assert!(actions.contains(&"s3:GetObject"));
    assert!(!actions.contains(&"s3:PutObject"));
    assert!(actions.iter().all(|a| a.starts_with("s3:Get") && !a.contains(' ')), "{actions:?}");
    assert!(stderr(&out).contains("actions match"), "the count goes to stderr");
}

#[test]
fn expand_markdown_is_a_table_with_access_levels() {
    let out = iamfit(&["catalog", "expand", "s3:Get*", "-o", "markdown"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.lines().next().is_some_and(|l| l.starts_with('|')), "{text}");
    // The S3 service authorization reference lists GetObject at the Read access level.
    assert!(text.lines().any(|l| l.contains("s3:GetObject") && l.contains("Read")), "{text}");
}

#[test]
fn expand_json_is_an_array_of_objects() {
    let out = iamfit(&["catalog", "expand", "S3:?ETOBJECT", "-o", "json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let items = v.as_array().expect("array");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["action"], "s3:GetObject");
    assert_eq!(items[0]["access_level"], "Read");
    assert!(items[0]["resource_types"].as_array().is_some_and(|r| r.iter().any(|x| x["name"] == "object")));

    let all = iamfit(&["catalog", "expand", "*:Describe*", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&all.stdout).expect("json");
    assert!(v
        .as_array()
        .is_some_and(|a| a.len() > 500 && a.iter().any(|x| x["action"] == "ec2:DescribeInstances")));
}

#[test]
fn expand_errors_exit_2_with_hints() {
    let out = iamfit(&["catalog", "expand", "lamda:*"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("did you mean `lambda`"), "{}", stderr(&out));
    assert!(out.stdout.is_empty());

    let out = iamfit(&["catalog", "expand", "s3:NoSuchThing*"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("matches no action"));
    assert!(stderr(&out).contains("hint:"));

    let out = iamfit(&["catalog", "expand", "s3"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("s3:*"));
}

#[test]
fn show_prints_access_level_resources_and_operations() {
    let out = iamfit(&["catalog", "show", "lambda:invokefunction"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("lambda:InvokeFunction"), "{text}");
    assert!(text.contains("Access level: Write"), "{text}");
    assert!(text.contains("arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}"));
    assert!(text.contains("lambda:Invoke "), "operations listed: {text}");

    let out = iamfit(&["catalog", "show", "s3:GetObject", "--output", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["access_level"], "Read");
    assert!(v["description"].as_str().is_some_and(|d| d.contains("retrieve objects")));
    let object =
        v["resource_types"].as_array().and_then(|r| r.iter().find(|x| x["name"] == "object")).cloned();
    assert!(object.is_some_and(|o| o["arn_formats"][0].as_str().is_some_and(|a| a.contains("${ObjectName}"))));
    assert!(v["condition_keys"]
        .as_array()
        .is_some_and(|k| k.iter().any(|x| x["name"] == "s3:ExistingObjectTag/<key>")));
    assert!(v["operations"].as_array().is_some_and(|o| o.iter().any(|x| x["name"] == "GetObject")));

    let md = iamfit(&["catalog", "show", "iam:PassRole", "-o", "markdown"]);
    assert!(stdout(&md).contains("| role | yes |"), "{}", stdout(&md));
}

#[test]
fn show_unknown_actions_exit_2_with_a_suggestion() {
    let out = iamfit(&["catalog", "show", "s3:GetObjekt"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("did you mean `s3:GetObject`"), "{}", stderr(&out));
    assert!(out.stdout.is_empty());

    let out = iamfit(&["catalog", "show", "dynamodbb:GetItem"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown service prefix `dynamodbb`"));
    assert!(stderr(&out).contains("did you mean `dynamodb`"));

    let out = iamfit(&["catalog", "show", "s3:Get*"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("catalog expand"));
}
