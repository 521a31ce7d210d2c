//! The recorder's overhead (`scripts/bench-record`): added latency per call (p50, p99) against a local
//! upstream, calls per second with concurrent clients, and the process's memory over many calls.
//!
//! ```text
//! cargo run --release -p iamfit-aws --example record_bench -- [CALLS] [CONCURRENCY]
//! ```
//!
//! The upstream (an HTTP server answering `{}`), the recorder and the clients share this process, so
//! the figures are a pessimistic bound on one machine. Each call is a signed DynamoDB `GetItem`: the
//! recorder checks its signature, recognises and maps it, signs it anew, forwards it and writes a line.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use iamfit_aws::record::{RecordOptions, Recorder, RunIdentity};

const KEY: &str = "ASIAEXAMPLEBENCH0001";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const BODY: &str = r#"{"TableName":"orders","Key":{"id":{"S":"1"}}}"#;

async fn upstream() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                    let _ = req.into_body().collect().await;
                    Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(b"{}"))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

/// The headers of one signed GetItem for `endpoint` (signed once: the recorder checks the signature,
/// the local upstream does not check the time).
fn signed_headers(endpoint: &str) -> Vec<(String, String)> {
    let creds: Identity = Credentials::new(KEY, SECRET, Some("token".into()), None, "bench").into();
    let params = v4::SigningParams::builder()
        .identity(&creds)
        .region("us-east-1")
        .name("dynamodb")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let headers =
        [("x-amz-target", "DynamoDB_20120810.GetItem"), ("content-type", "application/x-amz-json-1.0")];
    let signable = SignableRequest::new(
        "POST",
        format!("{endpoint}/"),
        headers.iter().copied(),
        SignableBody::Bytes(BODY.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut out: Vec<(String, String)> =
        headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    out.extend(instructions.headers().map(|(k, v)| (k.to_string(), v.to_string())));
    out
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

async fn call(client: &HttpClient, endpoint: &str, headers: &[(String, String)]) -> Duration {
    let mut req = hyper::Request::builder().method("POST").uri(format!("{endpoint}/"));
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let started = Instant::now();
    let resp =
        client.request(req.body(Full::new(Bytes::from_static(BODY.as_bytes()))).unwrap()).await.unwrap();
    assert_eq!(resp.status(), 200, "the call failed");
    let _ = resp.into_body().collect().await.unwrap();
    started.elapsed()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

async fn latencies(
    client: &HttpClient,
    endpoint: &str,
    headers: &[(String, String)],
    n: usize,
) -> Vec<Duration> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(call(client, endpoint, headers).await);
    }
    out.sort();
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let total: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let concurrency: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(16);
    let rt = iamfit_aws::runtime::runtime().unwrap();
    let upstream_url = rt.block_on(upstream());
    let dir = std::env::temp_dir().join(format!("iamfit-record-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("calls.jsonl");
    let recorder = Recorder::start(&RecordOptions {
        out: out.clone(),
        identity: RunIdentity {
            principal: "arn:aws:sts::111122223333:assumed-role/orders-role/iamfit-bench".into(),
            account: "111122223333".into(),
            access_key_id: KEY.into(),
            secret_access_key: SECRET.into(),
            session_token: Some("token".into()),
            expiration: None,
        },
        function: Some("orders".into()),
        endpoint_url: Some(upstream_url.clone()),
    })
    .unwrap();
    let endpoint = recorder.endpoint_url();
    let headers = signed_headers(&endpoint);
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();

    rt.block_on(async {
        // Warm-up, then sequential latency: straight to the upstream, and through the recorder.
        latencies(&client, &upstream_url, &headers, 500).await;
        latencies(&client, &endpoint, &headers, 500).await;
        let direct = latencies(&client, &upstream_url, &headers, 5000).await;
        let recorded = latencies(&client, &endpoint, &headers, 5000).await;
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        println!(
            "latency direct:   p50 {:.0} us, p99 {:.0} us",
            us(percentile(&direct, 0.5)),
            us(percentile(&direct, 0.99))
        );
        println!(
            "latency recorded: p50 {:.0} us, p99 {:.0} us",
            us(percentile(&recorded, 0.5)),
            us(percentile(&recorded, 0.99))
        );
        println!(
            "added per call:   p50 {:.0} us, p99 {:.0} us",
            us(percentile(&recorded, 0.5)) - us(percentile(&direct, 0.5)),
            us(percentile(&recorded, 0.99)) - us(percentile(&direct, 0.99))
        );

        // Throughput and memory: `total` calls from `concurrency` clients through the recorder.
        let done = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let (client, endpoint, headers, done) =
                (client.clone(), endpoint.clone(), headers.clone(), done.clone());
            tasks.push(tokio::spawn(async move {
                while done.fetch_add(1, Ordering::SeqCst) < total {
                    call(&client, &endpoint, &headers).await;
                }
            }));
        }
        let mut samples = vec![(0u64, rss_kib())];
        while !tasks.iter().all(|t| t.is_finished()) {
            tokio::time::sleep(Duration::from_millis(250)).await;
            samples.push((done.load(Ordering::SeqCst).min(total), rss_kib()));
        }
        let elapsed = started.elapsed().as_secs_f64();
        println!(
            "throughput:       {total} calls from {concurrency} clients in {elapsed:.1} s = {:.0} calls/s",
            total as f64 / elapsed
        );
        let step = (samples.len() / 8).max(1);
        let shown: Vec<String> =
            samples.iter().step_by(step).map(|(n, kib)| format!("{n}: {} MiB", kib / 1024)).collect();
        println!("memory (RSS after N calls): {}", shown.join(", "));
        let max = samples.iter().map(|(_, k)| *k).max().unwrap_or(0);
        println!(
            "memory max {} MiB, at the end {} MiB",
            max / 1024,
            samples.last().map_or(0, |s| s.1) / 1024
        );
    });
    let summary = recorder.finish(Duration::from_secs(2));
    let lines = std::fs::read_to_string(&out).map(|t| t.lines().count()).unwrap_or(0);
    println!("recorded {} calls, {lines} lines in {}", summary.calls, out.display());
    let _ = std::fs::remove_dir_all(&dir);
}
