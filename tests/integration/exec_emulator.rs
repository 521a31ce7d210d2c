//! `iamfit exec`, `iamfit credentials` and `iamfit trust` against the moto AWS emulator: the child
//! runs as the function's role with the function's environment, exit statuses pass through, the role's
//! limits hold for the child, oversized session policies are refused locally, credentials are cached
//! owner-only, and the trust analysis names the denying side and the least fix.

use crate::support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::Value;
use support::*;

const ACCOUNT: &str = "123456789012";

/// Role `orders-role` (may iam:ListRoles only; its inline policy `app`), function `orders`
/// (TABLE=orders-table), user `dev` (may sts:AssumeRole anywhere) with a profile `dev` in `dir`.
async fn seed(endpoint: &str, dir: &Path) {
    let list = r#"{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*"}"#;
    seed_developer_and_function(endpoint, dir, list, true, &[("TABLE", "orders-table")]).await;
}

fn exec(dir: &Path, endpoint: &str, extra: &[&str], script: &str) -> std::process::Output {
    let mut args = vec!["exec", "--function", "orders", "--profile", "dev"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--", "sh", "-c", script]);
    run_iamfit(dir, endpoint, &args)
}

fn key_from(lines: &[&str]) -> TestKey {
    TestKey {
        access_key_id: lines[0].to_string(),
        secret_access_key: lines[1].to_string(),
        session_token: Some(lines[2].to_string()),
    }
}

const PRINT_CREDS: &str = "echo $AWS_ACCESS_KEY_ID; echo $AWS_SECRET_ACCESS_KEY; echo $AWS_SESSION_TOKEN";

#[tokio::test]
async fn the_child_runs_as_the_role_with_the_function_environment() {
    let moto = Moto::start();
    let endpoint = moto.endpoint();
    let dir = tempfile::tempdir().unwrap();
    seed(&endpoint, dir.path()).await;

    let script = format!(
        "{PRINT_CREDS}; echo $AWS_LAMBDA_FUNCTION_NAME; echo $TABLE; echo $AWS_REGION; echo $AWS_ENDPOINT_URL; echo \"profile=$AWS_PROFILE\"; echo $AWS_LAMBDA_FUNCTION_VERSION; echo $AWS_EXECUTION_ENV; echo $AWS_LAMBDA_FUNCTION_MEMORY_SIZE"
    );
    let out = exec(dir.path(), &endpoint, &[], &script);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("ASIA") || lines[0].starts_with("FSIA"), "access key {}", lines[0]);
    assert_eq!(
        &lines[3..],
        [
            "orders",
            "orders-table",
            "us-east-1",
            endpoint.as_str(),
            "profile=",
            "$LATEST",
            "AWS_Lambda_python3.12",
            "128"
        ]
    );
    // Secrets never reach stderr.
    assert!(!stderr.contains(lines[1]) && !stderr.contains(lines[2]), "{stderr}");

    let cfg = sdk_config(&endpoint, Some(&key_from(&lines)));
    let who = sts_client(&cfg).get_caller_identity().send().await.expect("GetCallerIdentity");
    assert_eq!(
        who.arn(),
        Some(format!("arn:aws:sts::{ACCOUNT}:assumed-role/orders-role/iamfit-dev").as_str())
    );

    // --no-function-env leaves the function's variables out.
    let out = exec(dir.path(), &endpoint, &["--no-function-env"], "echo \"table=$TABLE\"");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "table=");

    // The exit status passes through.
    let out = exec(dir.path(), &endpoint, &[], "exit 7");
    assert_eq!(out.status.code(), Some(7), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn the_roles_limits_hold_and_oversized_session_policies_are_refused_locally() {
    let moto = Moto::start();
    let endpoint = moto.endpoint();
    let dir = tempfile::tempdir().unwrap();
    seed(&endpoint, dir.path()).await;

    let out = exec(dir.path(), &endpoint, &[], PRINT_CREDS);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    // Moto checks Lambda GETs with a signing bug, so authorization goes on once the role is assumed.
    moto.set_auth(true);
    let iam = iam_client(&sdk_config(&endpoint, Some(&key_from(&lines))));
    iam.list_roles().send().await.expect("the role may iam:ListRoles");
    let refused = iam.list_users().send().await.expect_err("iam:ListUsers is outside the role's policy");
    assert_eq!(refused.raw_response().map(|r| r.status().as_u16()), Some(403), "{refused:?}");
    moto.set_auth(false);

    let actions: Vec<String> = (0..150).map(|i| format!("s3:GetObjectVersion{i}")).collect();
    let big = serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":actions,"Resource":"*"}]});
    let policy = dir.path().join("big.json");
    std::fs::write(&policy, serde_json::to_string_pretty(&big).unwrap()).unwrap();
    let out = exec(dir.path(), &endpoint, &["--session-policy", policy.to_str().unwrap()], "echo ran");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("ran"));
    assert!(stderr.contains("too large") && stderr.contains("2048"), "{stderr}");
}

#[tokio::test]
async fn credentials_are_process_json_cached_owner_only() {
    let moto = Moto::start();
    let endpoint = moto.endpoint();
    let dir = tempfile::tempdir().unwrap();
    seed(&endpoint, dir.path()).await;
    let cache = dir.path().join("cache");

    let run = || {
        iamfit_command(dir.path(), &endpoint)
            .env("IAMFIT_CACHE_DIR", &cache)
            .args(["credentials", "--function", "orders", "--profile", "dev"])
            .output()
            .unwrap()
    };
    let first = run();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let json: Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(json["Version"], 1);
    for k in ["AccessKeyId", "SecretAccessKey", "SessionToken"] {
        assert!(json[k].as_str().is_some_and(|s| !s.is_empty()), "{k}: {json}");
    }
    let exp = json["Expiration"].as_str().unwrap();
    time::OffsetDateTime::parse(exp, &time::format_description::well_known::Rfc3339).expect("RFC 3339");
    assert!(exp.ends_with('Z') || exp.contains('+'), "{exp}");

    let folder = cache.join("credentials");
    assert_eq!(std::fs::metadata(&folder).unwrap().permissions().mode() & 0o777, 0o700);
    let files: Vec<_> = std::fs::read_dir(&folder).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777, 0o600);

    // Served from the cache: after a reset moto knows no function, so a fresh AssumeRole would fail.
    moto.reset();
    let second = run();
    assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
    let again: Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(again["AccessKeyId"], json["AccessKeyId"]);
}

#[tokio::test]
async fn trust_names_the_denying_side_and_the_least_statement() {
    let moto = Moto::start();
    let endpoint = moto.endpoint();
    let dir = tempfile::tempdir().unwrap();
    seed(&endpoint, dir.path()).await;
    let cfg = sdk_config(&endpoint, None);
    let iam = iam_client(&cfg);
    let lambda_only = create_role(&iam, "prod-role", LAMBDA_TRUST, &[], &[]).await;
    create_function(&lambda_client(&cfg), "prod", &lambda_only, &[]).await;
    let user_arn = format!("arn:aws:iam::{ACCOUNT}:user/dev");

    let out = run_iamfit(dir.path(), &endpoint, &["trust", "--function", "prod", "--profile", "dev"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("may not assume"), "{stdout}");
    assert!(stdout.contains("denied by") && stdout.contains("trust policy"), "{stdout}");
    assert!(stdout.contains(&user_arn) && stdout.contains("sts:AssumeRole"), "{stdout}");
    assert!(stderr.contains("dev"), "the warning about production roles: {stderr}");

    let out =
        run_iamfit(dir.path(), &endpoint, &["trust", "--function", "prod", "--profile", "dev", "-o", "json"]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["allowed"], false);
    assert_eq!(json["denied_by"], "trust-policy");
    assert_eq!(
        json["fix"]["trust_statement"],
        serde_json::json!({"Effect":"Allow","Principal":{"AWS": user_arn},"Action":"sts:AssumeRole"})
    );

    let out = run_iamfit(
        dir.path(),
        &endpoint,
        &["trust", "--function", "orders", "--profile", "dev", "-o", "json"],
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["allowed"], true, "{json}");
    assert_eq!(json["denied_by"], Value::Null);
    let out = run_iamfit(dir.path(), &endpoint, &["trust", "--function", "orders", "--profile", "dev"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("may assume"));
}

#[tokio::test]
async fn refresh_uses_credential_process_and_signals_reach_the_child() {
    let moto = Moto::start();
    let endpoint = moto.endpoint();
    let dir = tempfile::tempdir().unwrap();
    seed(&endpoint, dir.path()).await;
    let cache = dir.path().join("cache");

    // --refresh: no static keys; a temporary profile whose credential_process runs `iamfit credentials`.
    let script = "echo \"key=$AWS_ACCESS_KEY_ID\"; echo \"profile=$AWS_PROFILE\"; \
                  sh -c \"$(sed -n 's/^credential_process = //p' \"$AWS_CONFIG_FILE\")\"";
    let out = iamfit_command(dir.path(), &endpoint)
        .env("IAMFIT_CACHE_DIR", &cache)
        .args(["exec", "--function", "orders", "--profile", "dev", "--refresh", "--", "sh", "-c", script])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[..2], ["key=", "profile=iamfit-orders"]);
    let json: Value = serde_json::from_str(lines[2]).expect("credential_process JSON");
    assert_eq!(json["Version"], 1);

    // SIGTERM to iamfit reaches the child; its exit status comes back.
    let mut child = iamfit_command(dir.path(), &endpoint)
        .args(["exec", "--function", "orders", "--profile", "dev", "--", "sh", "-c"])
        .arg("trap 'exit 42' TERM; echo ready; sleep 30 & wait")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
    assert_eq!(line.trim(), "ready");
    std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(42));
}

#[tokio::test]
async fn minimal_session_policy_comes_from_the_functions_trail() {
    let moto = Moto::start();
    let endpoint = moto.endpoint();
    let dir = tempfile::tempdir().unwrap();
    seed(&endpoint, dir.path()).await;
    // The function called iam:ListRoles (the role's only grant) twice.
    let trail = dir.path().join("trail");
    std::fs::create_dir_all(&trail).unwrap();
    let record = |i: usize| {
        format!(
            r#"{{"eventVersion":"1.09","userIdentity":{{"type":"AssumedRole","arn":"arn:aws:sts::{ACCOUNT}:assumed-role/orders-role/orders","accountId":"{ACCOUNT}","sessionContext":{{"sessionIssuer":{{"type":"Role","arn":"arn:aws:iam::{ACCOUNT}:role/orders-role","accountId":"{ACCOUNT}","userName":"orders-role"}}}}}},"eventTime":"2026-11-0{i}T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"ListRoles","awsRegion":"us-east-1","requestParameters":null,"recipientAccountId":"{ACCOUNT}"}}"#
        )
    };
    std::fs::write(trail.join("log.json"), format!(r#"{{"Records":[{},{}]}}"#, record(1), record(2)))
        .unwrap();
    let trail_arg = trail.to_str().unwrap();
    let out = run_iamfit(
        dir.path(),
        &endpoint,
        &[
            "credentials",
            "--function",
            "orders",
            "--profile",
            "dev",
            "--session-policy",
            "minimal",
            "--trail",
            trail_arg,
            "--since",
            "2026-10-01T00:00:00Z",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let creds: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(creds["Version"], 1);
    assert!(stderr.contains("the minimal policy from 2 calls"), "{stderr}");

    // Without a trail there is nothing to generate from: a clear error, not a silent full session.
    let out = run_iamfit(
        dir.path(),
        &endpoint,
        &["credentials", "--function", "orders", "--profile", "dev", "--session-policy", "minimal"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--trail lookup"), "{stderr}");
}
