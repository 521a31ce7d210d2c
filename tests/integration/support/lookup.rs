//! A protocol-faithful CloudTrail `LookupEvents` server for tests (moto lacks the API).
//!
//! It speaks what the AWS SDK sends and expects: HTTP/1.1 with keep-alive, `POST /` with
//! `Content-Type: application/x-amz-json-1.1` and `X-Amz-Target: CloudTrail_20131101.LookupEvents`
//! (or its long form), a JSON body with epoch-second
//! `StartTime`/`EndTime`, `MaxResults` (at most 50), `NextToken` and `LookupAttributes`; it answers
//! pages of `Events` (with `CloudTrailEvent` as a JSON string) and a `NextToken`, and, like AWS, throttles
//! a client that exceeds 2 requests per second with HTTP 400 `ThrottlingException`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// What the server saw.
#[derive(Debug, Default, Clone)]
pub struct LookupLog {
    /// Requests answered with a page.
    pub pages: usize,
    /// Requests refused with ThrottlingException.
    pub throttled: usize,
    /// The `X-Amz-Target` of every request.
    pub targets: Vec<String>,
    /// The request bodies.
    pub bodies: Vec<Value>,
}

struct State {
    events: Vec<Value>,
    last: Option<Instant>,
    force_throttle: usize,
    log: LookupLog,
}

/// A running LookupEvents server on a free loopback port.
pub struct LookupServer {
    port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl LookupServer {
    /// Serves these CloudTrail records (JSON objects). The first `force_throttle` requests are
    /// throttled whatever their rate (AWS under load).
    pub fn start(records: Vec<Value>, force_throttle: usize) -> LookupServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        let state = Arc::new(Mutex::new(State {
            events: records,
            last: None,
            force_throttle,
            log: LookupLog::default(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let st = st.clone();
                std::thread::spawn(move || serve_connection(conn, st));
            }
        });
        LookupServer { port, state, stop }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What the server saw so far.
    pub fn log(&self) -> LookupLog {
        self.state.lock().unwrap().log.clone()
    }
}

impl Drop for LookupServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve_connection(conn: TcpStream, state: Arc<Mutex<State>>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(conn.try_clone().expect("clone the stream"));
    let mut writer = conn;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end().to_string();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let length: usize = header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let (status, payload, error_type) = respond(
            &request_line,
            &header("x-amz-target").unwrap_or_default(),
            header("content-type"),
            &body,
            &state,
        );
        let mut response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-RequestId: 8c3a9a3e-0000-4000-8000-{:012}\r\nContent-Length: {}\r\n",
            rand_id(&state),
            payload.len()
        );
        if let Some(t) = error_type {
            response.push_str(&format!("x-amzn-ErrorType: {t}\r\n"));
        }
        response.push_str("\r\n");
        if writer.write_all(response.as_bytes()).and_then(|_| writer.write_all(payload.as_bytes())).is_err() {
            return;
        }
    }
}

fn rand_id(state: &Arc<Mutex<State>>) -> usize {
    let s = state.lock().unwrap();
    s.log.pages + s.log.throttled
}

fn error(
    status: &'static str,
    kind: &'static str,
    message: &str,
) -> (&'static str, String, Option<&'static str>) {
    (status, json!({"__type": kind, "message": message}).to_string(), Some(kind))
}

fn respond(
    request_line: &str,
    target: &str,
    content_type: Option<String>,
    body: &[u8],
    state: &Arc<Mutex<State>>,
) -> (&'static str, String, Option<&'static str>) {
    if !request_line.starts_with("POST / ") {
        return error("400 Bad Request", "UnknownOperationException", "expected POST /");
    }
    if content_type.as_deref() != Some("application/x-amz-json-1.1") {
        return error("400 Bad Request", "SerializationException", "expected application/x-amz-json-1.1");
    }
    let mut s = state.lock().unwrap();
    s.log.targets.push(target.to_string());
    // The SDK sends the short target; AWS's API reference shows the long one. AWS accepts both.
    if target != "CloudTrail_20131101.LookupEvents"
        && target != "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"
    {
        return error("400 Bad Request", "UnknownOperationException", "only LookupEvents is served");
    }
    let req: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => return error("400 Bad Request", "SerializationException", "body is not JSON"),
    };
    s.log.bodies.push(req.clone());
    let now = Instant::now();
    let too_fast = s.last.is_some_and(|t| now.duration_since(t) < Duration::from_millis(450));
    if s.force_throttle > 0 || too_fast {
        s.force_throttle = s.force_throttle.saturating_sub(1);
        s.log.throttled += 1;
        s.last = Some(now);
        return error("400 Bad Request", "ThrottlingException", "Rate exceeded");
    }
    s.last = Some(now);
    let max = req["MaxResults"].as_u64().unwrap_or(50).clamp(1, 50) as usize;
    if req["MaxResults"].as_u64().is_some_and(|m| m > 50) {
        return error("400 Bad Request", "InvalidMaxResultsException", "MaxResults must be at most 50");
    }
    let start = req["StartTime"].as_f64();
    let end = req["EndTime"].as_f64();
    let user = req["LookupAttributes"].as_array().and_then(|a| {
        a.iter()
            .find(|x| x["AttributeKey"] == "Username")
            .and_then(|x| x["AttributeValue"].as_str().map(str::to_string))
    });
    let epoch = |v: &Value| -> f64 {
        v["eventTime"]
            .as_str()
            .and_then(|t| time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok())
            .map(|t| t.unix_timestamp() as f64)
            .unwrap_or(0.0)
    };
    let username = |v: &Value| -> String {
        let arn = v["userIdentity"]["arn"].as_str().unwrap_or("");
        arn.rsplit('/').next().unwrap_or("").to_string()
    };
    // Newest first, as LookupEvents returns them.
    let mut selected: Vec<&Value> = s
        .events
        .iter()
        .filter(|v| start.is_none_or(|st| epoch(v) >= st) && end.is_none_or(|en| epoch(v) <= en))
        .filter(|v| user.as_ref().is_none_or(|u| &username(v) == u))
        .collect();
    selected.sort_by(|a, b| epoch(b).partial_cmp(&epoch(a)).unwrap_or(std::cmp::Ordering::Equal));
    let offset: usize = match req["NextToken"].as_str() {
        Some(t) => match t.strip_prefix("page-").and_then(|n| n.parse().ok()) {
            Some(n) => n,
            None => return error("400 Bad Request", "InvalidNextTokenException", "bad NextToken"),
        },
        None => 0,
    };
    let page: Vec<Value> = selected
        .iter()
        .skip(offset)
        .take(max)
        .map(|v| {
            json!({
                "EventId": v["eventID"],
                "EventName": v["eventName"],
                "ReadOnly": v["readOnly"].to_string(),
                "AccessKeyId": v["userIdentity"]["accessKeyId"],
                "EventTime": epoch(v),
                "EventSource": v["eventSource"],
                "Username": username(v),
                "Resources": [],
                "CloudTrailEvent": v.to_string(),
            })
        })
        .collect();
    let mut out = json!({"Events": page});
    if offset + max < selected.len() {
        out["NextToken"] = json!(format!("page-{}", offset + max));
    }
    s.log.pages += 1;
    ("200 OK", out.to_string(), None)
}
