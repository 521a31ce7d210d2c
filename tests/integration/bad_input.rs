//! Bad input never panics: every command, run with bad times, missing and unreadable files, folders,
//! binary data and a closed stdout, ends with a clear message and a status other than 101 (Rust's
//! panic status).

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::{self, iamfit};

/// Runs iamfit offline with no AWS configuration at all (no profile files, no metadata endpoint).
fn offline(args: &[&str], home: &Path) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_iamfit"));
    support::clear_aws_env(&mut cmd)
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .env("NO_COLOR", "1");
    let out = cmd.args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

const DEMO: &str = "policy-fixtures/demo";

#[test]
fn bad_arguments_and_files_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("binary.json");
    std::fs::write(&binary, [0u8, 159, 146, 150, 0xff, 0xfe, b'{', 0]).unwrap();
    let unreadable = dir.path().join("unreadable.json");
    std::fs::write(&unreadable, "{\"Version\": ").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&unreadable, std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder).unwrap();
    let (b, u, f) = (binary.to_str().unwrap(), unreadable.to_str().unwrap(), folder.to_str().unwrap());
    let missing = "/nonexistent/iamfit/file.json";
    let trail_cmds: [&[&str]; 3] = [
        &["usage", "--function", "orders", "--snapshot", DEMO],
        &["audit", "--function", "orders", "--snapshot", DEMO],
        &["generate", "--function", "orders", "--snapshot", DEMO],
    ];
    let mut cases: Vec<Vec<&str>> = Vec::new();
    for cmd in trail_cmds {
        for bad in [
            &["--since", "5é"][..],
            &["--since", "é"],
            &["--since", "99999999999999d"],
            &["--since", "9223372036854775807s"],
            &["--since", "yesterday"],
            &["--until", "-3d"],
            &["--since", "2026-12-01T00:00:00Z", "--until", "2026-11-01T00:00:00Z"],
            &["--trail", missing],
        ] {
            cases.push([cmd, bad].concat());
        }
    }
    let diff = ["diff", "--function", "orders", "--profile", "dev", "--snapshot", DEMO];
    cases.push([&diff[..], &["--since", "5é"]].concat());
    cases.push([&diff[..], &["--since", "1d", "--until", "3d"]].concat());
    cases.push([&diff[..], &["--trail", missing]].concat());
    cases.push(vec!["diff", "--function", "orders", "--profile", "dev", "--snapshot", missing]);
    cases.push(vec!["diff", "--function", "orders", "--profile", "dev", "--snapshot", b]);
    cases.push(vec!["diff", "--function", "orders", "--profile", "dev", "--snapshot", f]);
    cases.push(vec!["diff", "--function", "nope", "--profile", "dev", "--snapshot", DEMO]);
    cases.push(vec!["usage", "--principal", "not-an-arn", "--trail", f]);
    cases.push(vec!["usage", "--principal", "arn:aws:s3:::bucket", "--trail", f]);
    for file in [missing, b, u, f] {
        cases.push(vec!["check", file]);
        cases.push(vec!["audit", "--policy", file]);
        cases.push(vec!["simulate", "--requests", file]);
        cases.push(vec!["simulate", "--policy", file, "--action", "s3:GetObject", "--resource", "*"]);
    }
    cases.push(vec!["simulate", "--policy", DEMO, "--action", "s3:GetObject", "--resource", "*"]);
    cases.push(vec!["catalog", "expand", ""]);
    cases.push(vec!["catalog", "expand", "é:*"]);
    cases.push(vec!["catalog", "expand", "s3:Get\u{1F600}*"]);
    cases.push(vec!["catalog", "show", "nope:Nothing"]);
    cases.push(vec!["catalog", "show", "é"]);
    cases.push(vec!["graph", "--function", "orders", "--snapshot", b]);
    cases.push(vec!["trust", "--function", "orders", "--profile", "dev", "--snapshot", missing]);
    cases.push(vec!["snapshot", "--out", f, "--snapshot", DEMO]);
    cases.push(vec!["exec", "--function", "orders", "--snapshot", DEMO, "--", "true"]);
    cases.push(vec!["credentials", "--function", "orders", "--snapshot", DEMO]);
    cases.push(vec!["diff", "--function", "orders", "-o", "nonsense"]);
    cases.push(vec!["nonsense-command"]);

    let home = tempfile::tempdir().unwrap();
    let mut problems = Vec::new();
    for case in &cases {
        let (code, stdout, stderr) = offline(case, home.path());
        // A batch goes on past a line it cannot evaluate and reports it in that line's "error".
        let batch_reported = case.contains(&"--requests") && code == 0 && stdout.contains("\"error\"");
        let failed_clearly = code != 0 && !stderr.trim().is_empty();
        if code == 101 || stderr.contains("panicked") || !(failed_clearly || batch_reported) {
            problems.push(format!("iamfit {}: status {code}, stderr: {stderr}", case.join(" ")));
        }
    }
    assert!(problems.is_empty(), "{} of {} cases:\n{}", problems.len(), cases.len(), problems.join("\n"));
}

#[test]
fn the_window_errors_name_the_problem() {
    let home = tempfile::tempdir().unwrap();
    let (code, _, err) =
        offline(&["usage", "--function", "orders", "--snapshot", DEMO, "--since", "5é"], home.path());
    assert_eq!(code, 2);
    assert!(err.contains("is not a time") && err.contains("RFC 3339"), "{err}");
    let (code, _, err) = offline(
        &["usage", "--function", "orders", "--snapshot", DEMO, "--since", "1d", "--until", "3d"],
        home.path(),
    );
    assert_eq!(code, 2);
    assert!(err.contains("ends before it starts"), "{err}");
}

#[test]
fn no_credentials_is_one_clear_line_with_what_to_do() {
    // No profile files, no environment credentials, instance metadata off: nothing to find.
    let home = tempfile::tempdir().unwrap();
    let (code, stdout, err) = offline(&["diff", "--function", "orders"], home.path());
    assert_eq!(code, 2, "{err}");
    assert!(stdout.is_empty());
    assert!(err.contains("no AWS credentials found"), "{err}");
    assert!(
        err.contains("--profile") && err.contains("aws configure sso") && err.contains("--snapshot"),
        "{err}"
    );
    assert!(!err.contains("ProviderError") && !err.contains("Response {"), "no Debug dump: {err}");
    assert!(err.contains("-v"), "the details are offered under -v: {err}");
}

/// Runs iamfit with stdout into a pipe whose reader closes after `keep` bytes.
fn closed_pipe(args: &[&str], keep: usize) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_iamfit"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut buf = vec![0u8; keep];
    let _ = stdout.read_exact(&mut buf);
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn a_closed_stdout_ends_quietly_with_status_zero() {
    for args in [
        &["catalog", "expand", "*"][..],
        &["catalog", "expand", "*", "-o", "json"],
        &["diff", "--function", "orders", "--profile", "dev", "--snapshot", DEMO, "-o", "json"],
        &["trust", "--function", "orders", "--profile", "dev", "--snapshot", DEMO],
        &["man"],
        &["completions", "bash"],
    ] {
        let (code, stderr) = closed_pipe(args, 1);
        assert_eq!(code, 0, "iamfit {}: {stderr}", args.join(" "));
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "iamfit {}: {stderr}",
            args.join(" ")
        );
    }
}

#[test]
fn catalog_expand_into_a_pipe_is_one_action_per_line() {
    let (code, stdout, _) = iamfit(&["catalog", "expand", "s3:GetObject*"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = stdout.lines().collect();
    // The S3 service authorization reference lists GetObject, GetObjectAcl and GetObjectVersion.
    for action in ["s3:GetObject", "s3:GetObjectAcl", "s3:GetObjectVersion"] {
        assert!(lines.contains(&action), "{stdout}");
    }
    assert!(
        lines.iter().all(|l| l.starts_with("s3:GetObject") && !l.contains(char::is_whitespace)),
        "{stdout}"
    );
    let (_, json, _) = iamfit(&["catalog", "expand", "s3:GetObject*", "-o", "json"]);
    let items: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(items.as_array().map(Vec::len), Some(lines.len()), "one line per action");
}
