//! The recorder against a local upstream: signed requests are checked, re-signed for the upstream,
//! forwarded and recorded; other keys and bad signatures are refused without forwarding; an
//! unreachable upstream is answered and recorded; bodies of many megabytes pass both ways unchanged.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use iamfit_aws::record::{RecordOptions, Recorder, RunIdentity};
use serde_json::Value;

const KEY: &str = "ASIAEXAMPLERECORDER1";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "session-token-example";
const PRINCIPAL: &str = "arn:aws:sts::111122223333:assumed-role/orders-role/iamfit-dev";

/// What the upstream saw: method, path, host, authorization and body length of each request.
type Seen = Arc<Mutex<Vec<(String, String, String, String, usize)>>>;

/// An upstream that answers every request with 200 and `answer_size` bytes, or with a DynamoDB-style
/// refusal for `DeleteItem`.
async fn upstream(answer_size: usize) -> (SocketAddr, Seen) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Seen = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let log = log.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let log = log.clone();
                    async move {
                        let h = |n: &str| {
                            req.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
                        };
                        let (method, path, host, auth, target) = (
                            req.method().to_string(),
                            req.uri().path().to_string(),
                            h("host"),
                            h("authorization"),
                            h("x-amz-target"),
                        );
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        log.lock().unwrap().push((method, path, host, auth, body.len()));
                        let response = if target.ends_with("DeleteItem") {
                            hyper::Response::builder()
                                .status(400)
                                .body(Full::new(Bytes::from(r#"{"__type":"com.amazonaws.dynamodb.v20120810#AccessDeniedException","message":"no"}"#)))
                        } else {
                            hyper::Response::builder()
                                .status(200)
                                .body(Full::new(Bytes::from(vec![b'x'; answer_size])))
                        };
                        Ok::<_, Infallible>(response.unwrap())
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, seen)
}

fn identity() -> RunIdentity {
    RunIdentity {
        principal: PRINCIPAL.into(),
        account: "111122223333".into(),
        access_key_id: KEY.into(),
        secret_access_key: SECRET.into(),
        session_token: Some(TOKEN.into()),
        expiration: None,
    }
}

fn start(dir: &std::path::Path, upstream: &str) -> Recorder {
    Recorder::start(&RecordOptions {
        out: dir.join("calls.jsonl"),
        identity: identity(),
        function: Some("orders".into()),
        endpoint_url: Some(upstream.to_string()),
    })
    .unwrap()
}

/// A request signed as an SDK signs it (the official signer), for `endpoint`.
fn signed(
    endpoint: &str,
    method: &str,
    path: &str,
    service: &str,
    headers: &[(&str, &str)],
    body: Bytes,
    key: &str,
) -> hyper::Request<Full<Bytes>> {
    let uri = format!("{endpoint}{path}");
    let creds: Identity = Credentials::new(key, SECRET, Some(TOKEN.into()), None, "test").into();
    let mut settings = SigningSettings::default();
    let s3 = service == "s3";
    if s3 {
        settings.percent_encoding_mode = aws_sigv4::http_request::PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = aws_sigv4::http_request::UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = aws_sigv4::http_request::PayloadChecksumKind::XAmzSha256;
    }
    let params = v4::SigningParams::builder()
        .identity(&creds)
        .region("us-east-1")
        .name(service)
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let payload = if s3 { SignableBody::UnsignedPayload } else { SignableBody::Bytes(&body) };
    let signable = SignableRequest::new(method, uri.clone(), headers.iter().copied(), payload).unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut req = hyper::Request::builder().method(method).uri(&uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut req = req.body(Full::new(body)).unwrap();
    instructions.apply_to_request_http1x(&mut req);
    req
}

async fn send(req: hyper::Request<Full<Bytes>>) -> (u16, Bytes, Option<String>) {
    let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http();
    let resp = client.request(req).await.unwrap();
    let status = resp.status().as_u16();
    let code = resp.headers().get("x-amzn-errortype").and_then(|v| v.to_str().ok()).map(str::to_string);
    (status, resp.into_body().collect().await.unwrap().to_bytes(), code)
}

fn lines(dir: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("calls.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const GET_ITEM: &[(&str, &str)] =
    &[("x-amz-target", "DynamoDB_20120810.GetItem"), ("content-type", "application/x-amz-json-1.0")];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_calls_are_resigned_forwarded_and_recorded() {
    let (addr, seen) = upstream(3).await;
    let dir = tempfile::tempdir().unwrap();
    let upstream_url = format!("http://{addr}");
    let recorder = tokio::task::spawn_blocking({
        let dir = dir.path().to_path_buf();
        move || start(&dir, &upstream_url)
    })
    .await
    .unwrap();
    let endpoint = recorder.endpoint_url();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "loopback only: {endpoint}");

    let body = Bytes::from(r#"{"TableName":"orders","Key":{"id":{"S":"1"}}}"#);
    let (status, answer, _) = send(signed(&endpoint, "POST", "/", "dynamodb", GET_ITEM, body, KEY)).await;
    assert_eq!((status, answer.as_ref()), (200, b"xxx".as_ref()));
    let delete =
        [("x-amz-target", "DynamoDB_20120810.DeleteItem"), ("content-type", "application/x-amz-json-1.0")];
    let body = Bytes::from(r#"{"TableName":"orders","Key":{"id":{"S":"1"}}}"#);
    let (status, _, _) = send(signed(&endpoint, "POST", "/", "dynamodb", &delete, body, KEY)).await;
    assert_eq!(status, 400);

    let summary = tokio::task::spawn_blocking(move || recorder.finish(Duration::from_secs(1))).await.unwrap();
    assert_eq!(summary.calls, 2);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    // Re-signed for the upstream's host, with the run's key, scope and signed host.
    assert_eq!(seen[0].2, addr.to_string());
    assert!(seen[0].3.starts_with(&format!("AWS4-HMAC-SHA256 Credential={KEY}/")), "{}", seen[0].3);
    assert!(
        seen[0].3.contains("/us-east-1/dynamodb/aws4_request") && seen[0].3.contains("host;"),
        "{}",
        seen[0].3
    );

    let l = lines(dir.path());
    assert_eq!(l.len(), 2);
    assert_eq!(l[0]["principal"], PRINCIPAL);
    assert_eq!(l[0]["operation"], "GetItem");
    assert_eq!(l[0]["actions"], serde_json::json!(["dynamodb:GetItem"]));
    assert_eq!(
        l[0]["resources"],
        serde_json::json!(["arn:aws:dynamodb:us-east-1:111122223333:table/orders"])
    );
    assert_eq!((l[0]["status"].as_str(), l[0]["http_status"].as_u64()), (Some("allowed"), Some(200)));
    assert_eq!(l[1]["status"], "denied");
    assert_eq!(l[1]["error_code"], "AccessDeniedException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_keys_and_bad_signatures_are_refused_without_forwarding() {
    let (addr, seen) = upstream(0).await;
    let dir = tempfile::tempdir().unwrap();
    let upstream_url = format!("http://{addr}");
    let recorder = tokio::task::spawn_blocking({
        let dir = dir.path().to_path_buf();
        move || start(&dir, &upstream_url)
    })
    .await
    .unwrap();
    let endpoint = recorder.endpoint_url();
    let body = || Bytes::from(r#"{"TableName":"orders"}"#);

    let (status, _, code) =
        send(signed(&endpoint, "POST", "/", "dynamodb", GET_ITEM, body(), "AKIAOTHERKEY00000000")).await;
    assert_eq!((status, code.as_deref()), (403, Some("IamfitUnknownAccessKey")));
    // The body changed after signing: the signature no longer matches.
    let mut req = signed(&endpoint, "POST", "/", "dynamodb", GET_ITEM, body(), KEY);
    *req.body_mut() = Full::new(Bytes::from(r#"{"TableName":"secrets"}"#));
    let (status, _, code) = send(req).await;
    assert_eq!((status, code.as_deref()), (403, Some("IamfitSignatureMismatch")));
    let unsigned = hyper::Request::builder()
        .method("GET")
        .uri(format!("{endpoint}/"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let (status, _, code) = send(unsigned).await;
    assert_eq!((status, code.as_deref()), (403, Some("IamfitUnsignedRequest")));

    tokio::task::spawn_blocking(move || recorder.finish(Duration::from_secs(1))).await.unwrap();
    assert!(seen.lock().unwrap().is_empty(), "nothing may be forwarded");
    let l = lines(dir.path());
    assert_eq!(l.len(), 3);
    assert!(l.iter().all(|x| x["status"] == "error" && x["http_status"].is_null()), "{l:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_upstream_is_answered_and_recorded() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let recorder = tokio::task::spawn_blocking({
        let dir = dir.path().to_path_buf();
        move || start(&dir, &format!("http://127.0.0.1:{port}"))
    })
    .await
    .unwrap();
    let endpoint = recorder.endpoint_url();
    let body = Bytes::from(r#"{"TableName":"orders","Key":{"id":{"S":"1"}}}"#);
    let (status, answer, code) = send(signed(&endpoint, "POST", "/", "dynamodb", GET_ITEM, body, KEY)).await;
    assert_eq!((status, code.as_deref()), (502, Some("IamfitUpstreamUnreachable")));
    assert!(String::from_utf8_lossy(&answer).contains("could not reach"), "{answer:?}");
    tokio::task::spawn_blocking(move || recorder.finish(Duration::from_secs(1))).await.unwrap();
    let l = lines(dir.path());
    assert_eq!(l[0]["error_code"], "IamfitUpstreamUnreachable");
    assert_eq!(l[0]["operation"], "GetItem");
    assert!(l[0]["http_status"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_objects_pass_both_ways_unchanged() {
    let size = 24 * 1024 * 1024 + 5;
    let (addr, seen) = upstream(size).await;
    let dir = tempfile::tempdir().unwrap();
    let upstream_url = format!("http://{addr}");
    let recorder = tokio::task::spawn_blocking({
        let dir = dir.path().to_path_buf();
        move || start(&dir, &upstream_url)
    })
    .await
    .unwrap();
    let endpoint = recorder.endpoint_url();
    let body = Bytes::from(vec![7u8; size]);
    let (status, answer, _) =
        send(signed(&endpoint, "PUT", "/orders-bucket/big.bin", "s3", &[], body, KEY)).await;
    assert_eq!(status, 200);
    assert_eq!(answer.len(), size);
    tokio::task::spawn_blocking(move || recorder.finish(Duration::from_secs(1))).await.unwrap();
    assert_eq!(seen.lock().unwrap()[0].4, size);
    let l = lines(dir.path());
    assert_eq!(l[0]["operation"], "PutObject");
    assert_eq!(l[0]["resources"], serde_json::json!(["arn:aws:s3:::orders-bucket/big.bin"]));
}

/// What the chunk-checking upstream found: all signatures valid, the decoded data, Content-Length.
type Verdict = Arc<Mutex<Option<(bool, Vec<u8>, String)>>>;

/// Signs `data` as aws-chunked chunks of `chunk` bytes chained from `seed` ("Transferring Payload in
/// Multiple Chunks", Amazon S3 API Reference), with the official signer.
fn chunked(data: &[u8], chunk: usize, seed: &str, time: SystemTime, key: &str) -> Vec<u8> {
    let creds: Identity = Credentials::new(key, SECRET, Some(TOKEN.into()), None, "test").into();
    let params = v4::SigningParams::<()>::builder()
        .identity(&creds)
        .region("us-east-1")
        .name("s3")
        .time(time)
        .settings(())
        .build()
        .unwrap();
    let mut out = Vec::new();
    let mut previous = seed.to_string();
    let mut pieces: Vec<&[u8]> = data.chunks(chunk).collect();
    pieces.push(&[]);
    for piece in pieces {
        let sig = v4::sign_chunk(&Bytes::copy_from_slice(piece), &previous, &params)
            .unwrap()
            .signature()
            .to_string();
        out.extend_from_slice(format!("{:x};chunk-signature={sig}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
        previous = sig;
    }
    out
}

/// Checks an aws-chunked body's chunk signatures against the request's own signature and time.
fn chunks_valid(authorization: &str, amz_date: &str, body: &[u8]) -> (bool, Vec<u8>) {
    let seed = authorization.rsplit("Signature=").next().unwrap();
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let time = SystemTime::from(time::PrimitiveDateTime::parse(amz_date, &format).unwrap().assume_utc());
    let creds: Identity = Credentials::new(KEY, SECRET, Some(TOKEN.into()), None, "test").into();
    let params = v4::SigningParams::<()>::builder()
        .identity(&creds)
        .region("us-east-1")
        .name("s3")
        .time(time)
        .settings(())
        .build()
        .unwrap();
    let (mut rest, mut previous, mut decoded, mut ok) = (body, seed.to_string(), Vec::new(), true);
    loop {
        let end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
        let header = std::str::from_utf8(&rest[..end]).unwrap();
        let (size, sig) = header.split_once(";chunk-signature=").unwrap();
        let size = usize::from_str_radix(size, 16).unwrap();
        let data = &rest[end + 2..end + 2 + size];
        let want = v4::sign_chunk(&Bytes::copy_from_slice(data), &previous, &params)
            .unwrap()
            .signature()
            .to_string();
        ok &= want == sig;
        decoded.extend_from_slice(data);
        previous = sig.to_string();
        rest = &rest[end + 2 + size + 2..];
        if size == 0 {
            return (ok && rest.is_empty(), decoded);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_chunks_are_signed_anew_for_the_upstream() {
    // An upstream that checks every chunk signature against the forwarded request's own signature.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let verdict: Verdict = Arc::default();
    let record = verdict.clone();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
            let record = record.clone();
            async move {
                let h =
                    |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                let (auth, date, length) = (h("authorization"), h("x-amz-date"), h("content-length"));
                let body = req.into_body().collect().await.unwrap().to_bytes();
                let (ok, decoded) = chunks_valid(&auth, &date, &body);
                *record.lock().unwrap() = Some((ok, decoded, length));
                Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::new())))
            }
        });
        let _ =
            hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
    });
    let dir = tempfile::tempdir().unwrap();
    let upstream_url = format!("http://{addr}");
    let recorder = tokio::task::spawn_blocking({
        let dir = dir.path().to_path_buf();
        move || start(&dir, &upstream_url)
    })
    .await
    .unwrap();
    let endpoint = recorder.endpoint_url();

    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let time = SystemTime::now();
    // The encoded length: three chunks of 65536 bytes, one of 3392, the final empty one.
    let probe = chunked(&data, 65536, &"0".repeat(64), time, KEY);
    let decoded_len = data.len().to_string();
    let encoded_len = probe.len().to_string();
    let headers = [
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", decoded_len.as_str()),
        ("content-length", encoded_len.as_str()),
        ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
    ];
    let uri = format!("{endpoint}/orders-bucket/chunked.bin");
    let creds: Identity = Credentials::new(KEY, SECRET, Some(TOKEN.into()), None, "test").into();
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = aws_sigv4::http_request::PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = aws_sigv4::http_request::UriPathNormalizationMode::Disabled;
    let params = v4::SigningParams::builder()
        .identity(&creds)
        .region("us-east-1")
        .name("s3")
        .time(time)
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        "PUT",
        uri.clone(),
        headers.iter().copied(),
        SignableBody::Precomputed("STREAMING-AWS4-HMAC-SHA256-PAYLOAD".into()),
    )
    .unwrap();
    let (instructions, seed) = sign(signable, &params).unwrap().into_parts();
    let body = chunked(&data, 65536, &seed, time, KEY);
    let mut req = hyper::Request::builder().method("PUT").uri(&uri);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let mut req = req.body(Full::new(Bytes::from(body))).unwrap();
    instructions.apply_to_request_http1x(&mut req);
    let (status, _, code) = send(req).await;
    assert_eq!((status, code), (200, None));
    tokio::task::spawn_blocking(move || recorder.finish(Duration::from_secs(1))).await.unwrap();
    let (ok, decoded, length) = verdict.lock().unwrap().clone().expect("the upstream got the upload");
    assert!(ok, "every chunk signature must chain from the forwarded request's signature");
    assert_eq!(decoded, data);
    assert_eq!(length, encoded_len);
    assert_eq!(lines(dir.path())[0]["operation"], "PutObject");
}
