//! `iamfit catalog update` against a local HTTP server serving `tests/fixtures/service-reference/`.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Serves the fixture folder (`/` is `index.json`) or, with `fail`, answers 500 to everything.
/// Returns the base URL; the server thread lives until the test process ends.
fn serve(fail: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("local addr").port();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/service-reference");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let root = root.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    return;
                }
                // Skip the headers.
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_string();
                let file = if path == "/" {
                    root.join("index.json")
                } else {
                    root.join(path.trim_start_matches('/'))
                };
                let (status, body) = if fail {
                    ("500 Internal Server Error", b"boom".to_vec())
                } else if path.contains("..") {
                    ("404 Not Found", Vec::new())
                } else {
                    match std::fs::read(&file) {
                        Ok(body) => ("200 OK", body),
                        Err(_) => ("404 Not Found", Vec::new()),
                    }
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            });
        }
    });
    format!("http://127.0.0.1:{port}/")
}

fn iamfit(cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iamfit"))
        .args(args)
        .env("IAMFIT_CACHE_DIR", cache)
        .env_remove("IAMFIT_SERVICE_REFERENCE_URL")
        .env("NO_COLOR", "1")
        .output()
        .expect("run iamfit")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn update_adds_new_actions_that_show_then_finds() {
    let cache = tempfile::tempdir().expect("tempdir");
    let url = serve(false);

    // Before the update the fake action is unknown.
    let before = iamfit(cache.path(), &["catalog", "show", "lambda:InvokeFunctionTurbo"]);
    assert_eq!(before.status.code(), Some(2), "{}", text(&before.stderr));

    let out = iamfit(cache.path(), &["catalog", "update", "--url", &url]);
    assert!(out.status.success(), "stdout: {}\nstderr: {}", text(&out.stdout), text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("+ lambda:InvokeFunctionTurbo"), "{stdout}");
    assert!(stdout.contains("+ service iamfit-fixture"), "{stdout}");
    assert!(text(&out.stderr).contains("3 services listed"), "{}", text(&out.stderr));
    assert!(cache.path().join("catalog.txt").is_file());
    let leftovers: Vec<_> = std::fs::read_dir(cache.path()).expect("read cache").collect();
    assert_eq!(leftovers.len(), 1, "only catalog.txt remains: {leftovers:?}");

    let show = iamfit(cache.path(), &["catalog", "show", "lambda:invokefunctionturbo", "-o", "json"]);
    assert!(show.status.success(), "{}", text(&show.stderr));
    let v: serde_json::Value = serde_json::from_slice(&show.stdout).expect("json");
    assert_eq!(v["action"], "lambda:InvokeFunctionTurbo");
    assert_eq!(v["access_level"], "Write");
    assert_eq!(v["source"], "service-reference-update");
    assert_eq!(v["condition_keys"][0]["name"], "lambda:TurboLevel");
    assert_eq!(v["condition_keys"][0]["type"], "Numeric");
    assert_eq!(v["operations"][0]["name"], "InvokeTurbo");

    // Embedded data is kept for known actions (the description comes from the embedded catalog).
    let known = iamfit(cache.path(), &["catalog", "show", "lambda:InvokeFunction"]);
    assert!(text(&known.stdout).contains("Grants permission to invoke an AWS Lambda function"));
    // Services the download did not list are still there.
    let s3 = iamfit(cache.path(), &["catalog", "expand", "s3:GetObject"]);
    assert!(s3.status.success());
    assert!(text(&s3.stderr).contains("updated catalog"), "{}", text(&s3.stderr));
    let new_service = iamfit(cache.path(), &["catalog", "expand", "iamfit-fixture:*"]);
    assert!(text(&new_service.stdout).contains("iamfit-fixture:DoFixtureThing"));
}

#[test]
fn failing_server_gives_a_clear_error_and_leaves_the_cache_alone() {
    let cache = tempfile::tempdir().expect("tempdir");
    let previous = "previous catalog, untouched";
    std::fs::write(cache.path().join("catalog.txt"), previous).expect("write");
    let url = serve(true);
    let out = iamfit(cache.path(), &["catalog", "update", "--url", &url]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("catalog update failed"), "{stderr}");
    assert!(stderr.contains("HTTP status 500"), "{stderr}");
    assert!(stderr.contains("after 4 attempts"), "{stderr}");
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(cache.path().join("catalog.txt")).expect("read"), previous);
    assert_eq!(std::fs::read_dir(cache.path()).expect("read").count(), 1);
}

#[test]
fn unreachable_server_fails_cleanly() {
    let cache = tempfile::tempdir().expect("tempdir");
    // A port nobody listens on (bound, then released).
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let out =
        iamfit(cache.path(), &["catalog", "update", "-q", "--url", &format!("http://127.0.0.1:{port}/")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("catalog update failed"));
    assert!(!cache.path().join("catalog.txt").exists());
}

#[test]
fn corrupt_cache_warns_and_falls_back_to_the_embedded_catalog() {
    let cache = tempfile::tempdir().expect("tempdir");
    std::fs::write(cache.path().join("catalog.txt"), "garbage\n").expect("write");
    let out = iamfit(cache.path(), &["catalog", "show", "s3:GetObject"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("Read"));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.matches("warning: ignoring the updated IAM catalog").count(), 1, "{stderr}");
}

#[test]
fn cache_from_another_iamfit_version_is_not_used() {
    let cache = tempfile::tempdir().expect("tempdir");
    let stale = "iamfit-catalog\t1\tother\tbase=0000000000000000\nS\tonly\tOnly\tu\nA\tThing\tR\tu\t\t\t\t\n";
    std::fs::write(cache.path().join("catalog.txt"), stale).expect("write");
    let out = iamfit(cache.path(), &["catalog", "show", "s3:GetObject"]);
    assert!(out.status.success());
    assert!(text(&out.stderr).contains("made by another iamfit version"));
}
