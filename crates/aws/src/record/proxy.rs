//! One request through the recorder: check who signed it, recognise and map the call, sign it anew for
//! the upstream endpoint, forward it, record the outcome, and hand the answer back unchanged.
//!
//! Bodies stream in both directions: a request that declares its payload hash (`x-amz-content-sha256`,
//! as S3 requests do) is forwarded as it arrives (signed chunks signed anew on the way, see
//! [`super::chunks`]); only the bodies of the other services' requests (API
//! parameters, at most [`MAX_BUFFERED_BODY`]) are read first, since their signature covers the body's
//! hash and their parameters name the resources. Answers stream back; only error answers (small) are
//! read to find their error code.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;

use iamfit_catalog::Catalog;
use iamfit_trail::call::{self, ApiCall, Caller, Scope};
use iamfit_trail::recording::{self, RecordedCall, Status};

use super::chunks::{self, BoxError, ChunkSigner, Resigned, SIGNED_CHUNKS};
use super::log::Log;
use super::sign::{self, Payload, Received, ToSign, PRESIGN_PARAMS};

/// The largest request body read before forwarding (requests that do not declare their hash).
pub const MAX_BUFFERED_BODY: usize = 64 * 1024 * 1024;
/// The largest error answer read for its error code.
const MAX_ERROR_BODY: usize = 1024 * 1024;

/// The body type of forwarded requests and answers.
pub type ProxyBody = BoxBody<Bytes, BoxError>;

/// The HTTP client the recorder forwards with.
pub type HttpClient = Client<HttpsConnector<HttpConnector>, ProxyBody>;

/// Where calls are forwarded.
#[derive(Debug, Clone)]
pub enum Upstream {
    /// Each service's regional endpoint, over HTTPS.
    Aws,
    /// One endpoint for everything (`--endpoint-url`, an emulator).
    Endpoint {
        /// `http` or `https`.
        scheme: String,
        /// `host[:port]`.
        authority: String,
    },
}

/// What every request needs.
pub struct State {
    /// The forwarding client.
    pub client: HttpClient,
    /// The credentials the child signs with, which the forwarded requests are signed with too.
    pub credentials: Credentials,
    /// Where to forward.
    pub upstream: Upstream,
    /// Who the calls are made as.
    pub principal: String,
    /// Its account.
    pub account: String,
    /// The function, when the run is for one.
    pub function: Option<String>,
    /// The recording.
    pub log: Arc<Log>,
    /// Requests being handled now.
    pub in_flight: AtomicUsize,
}

fn full(bytes: impl Into<Bytes>) -> ProxyBody {
    Full::new(bytes.into()).map_err(|never: Infallible| -> BoxError { match never {} }).boxed()
}

/// Headers a proxy must not forward (RFC 9110, 7.6.1).
pub fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

fn now_utc() -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::now_utc().format(&format).unwrap_or_default()
}

/// An answer made by the recorder itself (the request was not forwarded), in the error shape the
/// client's protocol reads.
fn local_error(status: StatusCode, code: &str, message: &str, json: bool) -> Response<ProxyBody> {
    let (body, content_type) = if json {
        (serde_json::json!({"__type": code, "message": message}).to_string(), "application/x-amz-json-1.1")
    } else {
        let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        (
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{}</Message></Error>", esc(message)),
            "application/xml",
        )
    };
    let mut r = Response::new(full(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert("content-type", HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(code) {
        h.insert("x-amzn-errortype", v);
    }
    r
}

/// The request's signature as the client made it.
struct ClientAuth {
    scope: Scope,
    signed_headers: String,
    signature: String,
    amz_date: String,
    /// `X-Amz-Expires` of a presigned request.
    presigned_expires: Option<u64>,
}

fn client_auth(headers: &HeaderMap, query: &str) -> Option<ClientAuth> {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    if let Some(auth) = header("authorization") {
        let f = call::auth_fields(auth);
        return Some(ClientAuth {
            scope: Scope::parse(f.credential?)?,
            signed_headers: f.signed_headers?.to_string(),
            signature: f.signature?.to_string(),
            amz_date: header("x-amz-date")?.to_string(),
            presigned_expires: None,
        });
    }
    let pairs: Vec<(String, String)> = form_pairs(query);
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    Some(ClientAuth {
        scope: Scope::parse(&get("X-Amz-Credential")?)?,
        signed_headers: get("X-Amz-SignedHeaders")?,
        signature: get("X-Amz-Signature")?,
        amz_date: get("X-Amz-Date")?,
        presigned_expires: get("X-Amz-Expires").and_then(|e| e.parse().ok()),
    })
}

fn form_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let d = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
            (d(k), d(v))
        })
        .collect()
}

/// The query without a presigned request's signature parameters.
fn strip_presign(query: &str) -> String {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            let k = p.split_once('=').map_or(*p, |(k, _)| k);
            !PRESIGN_PARAMS.contains(&k)
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The request body: streamed on when its hash is declared, else read whole.
enum Body {
    Streamed(Incoming, String),
    Read(Bytes),
}

/// Signed-chunk uploads other than [`SIGNED_CHUNKS`] (with signed trailers, or SigV4a): not re-signed.
fn is_unsupported_streaming(declared: &str) -> bool {
    declared != SIGNED_CHUNKS
        && (declared.starts_with("STREAMING-AWS4-") || declared.starts_with("STREAMING-ECDSA-"))
}

/// A call's line, filled as the request goes through.
fn line(state: &State, scope: Option<&Scope>, time: String) -> RecordedCall {
    RecordedCall {
        time,
        principal: state.principal.clone(),
        service: scope.map(|s| s.service.clone()).unwrap_or_default(),
        operation: None,
        actions: Vec::new(),
        resources: Vec::new(),
        status: Status::Error,
        error_code: None,
        http_status: None,
        unknown_resources: Vec::new(),
        resources_by_action: None,
        unmapped: None,
        permissionless: false,
        region: scope.map(|s| s.region.clone()),
        function: state.function.clone(),
    }
}

/// Records a request the recorder answered itself.
fn refuse(
    state: &State,
    mut rec: RecordedCall,
    status: StatusCode,
    code: &str,
    message: &str,
    json: bool,
) -> Response<ProxyBody> {
    rec.status = Status::Error;
    rec.error_code = Some(code.to_string());
    if rec.operation.is_none() && rec.unmapped.is_none() {
        rec.unmapped = Some(message.to_string());
    }
    state.log.write(&rec);
    local_error(status, code, message, json)
}

/// Handles one request (never fails: every problem becomes an answer and a line).
pub async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Response<ProxyBody>, Infallible> {
    state.in_flight.fetch_add(1, Ordering::SeqCst);
    let answer = forward(&state, req).await;
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    Ok(answer)
}

async fn forward(state: &State, req: Request<Incoming>) -> Response<ProxyBody> {
    let time = now_utc();
    let (parts, incoming) = req.into_parts();
    let query = parts.uri.query().unwrap_or("").to_string();
    let json = parts.headers.contains_key("x-amz-target");
    let Some(auth) = client_auth(&parts.headers, &query) else {
        let rec = line(state, None, time);
        return refuse(state, rec, StatusCode::FORBIDDEN, "IamfitUnsignedRequest", "iamfit's recorder forwards only requests signed with SigV4 (it reads the service and region from the signature)", json);
    };
    let mut rec = line(state, Some(&auth.scope), time);
    if auth.scope.access_key != state.credentials.access_key_id() {
        return refuse(state, rec, StatusCode::FORBIDDEN, "IamfitUnknownAccessKey", "the request was signed with an access key iamfit did not give this run; the child must use the credentials in its environment", json);
    }
    let declared =
        parts.headers.get("x-amz-content-sha256").and_then(|v| v.to_str().ok()).map(str::to_string);
    if declared.as_deref().is_some_and(is_unsupported_streaming) {
        return refuse(state, rec, StatusCode::NOT_IMPLEMENTED, "IamfitSignedChunksUnsupported", "iamfit's recorder cannot re-sign uploads with signed trailers or SigV4a chunks; configure the SDK for unsigned trailers, signed chunks without trailers, or whole-payload signing", json);
    }
    let body = match declared {
        Some(d) => Body::Streamed(incoming, d),
        None => match Limited::new(incoming, MAX_BUFFERED_BODY).collect().await {
            Ok(c) => Body::Read(c.to_bytes()),
            Err(e) => {
                return refuse(state, rec, StatusCode::PAYLOAD_TOO_LARGE, "IamfitRequestUnreadable", &format!("the request body could not be read whole ({e}); at most {MAX_BUFFERED_BODY} bytes are read for requests without x-amz-content-sha256"), json);
            }
        },
    };
    let payload = match &body {
        Body::Streamed(_, d) => Payload::Declared(d.clone()),
        Body::Read(b) => Payload::Bytes(b),
    };
    if !client_signature_ok(&parts, &query, &auth, payload.clone(), &state.credentials) {
        return refuse(
            state,
            rec,
            StatusCode::FORBIDDEN,
            "IamfitSignatureMismatch",
            "the request's signature does not match the credentials iamfit gave this run",
            json,
        );
    }
    let api_call = identify(
        &parts,
        &query,
        &auth.scope,
        match &body {
            Body::Read(b) => Some(b.as_ref()),
            Body::Streamed(..) => None,
        },
    );
    map_into(&mut rec, &api_call, state);
    let endpoint_prefix = match &api_call {
        Ok(c) => c.endpoint_prefix.clone(),
        Err(_) => call::endpoint_prefix(&auth.scope.service).unwrap_or(&auth.scope.service).to_string(),
    };
    let (outgoing, seed, time) =
        match upstream_request(state, &parts, &query, &auth.scope, &endpoint_prefix, payload) {
            Ok(r) => r,
            Err(e) => return refuse(state, rec, StatusCode::BAD_GATEWAY, "IamfitSigningFailed", &e, json),
        };
    let outgoing = outgoing.map(|()| match body {
        Body::Streamed(b, declared) if declared == SIGNED_CHUNKS => {
            let signer =
                ChunkSigner::new(&state.credentials, time, &auth.scope.region, &auth.scope.service, seed);
            chunks::boxed(Resigned::new(b, signer))
        }
        Body::Streamed(b, _) => b.map_err(BoxError::from).boxed(),
        Body::Read(b) => full(b),
    });
    match state.client.request(outgoing).await {
        Ok(resp) => answer(state, rec, resp).await,
        Err(e) => {
            let message =
                format!("iamfit's recorder could not reach the upstream endpoint for {endpoint_prefix}: {e}");
            refuse(state, rec, StatusCode::BAD_GATEWAY, "IamfitUpstreamUnreachable", &message, json)
        }
    }
}

fn client_signature_ok(
    parts: &http::request::Parts,
    query: &str,
    auth: &ClientAuth,
    payload: Payload<'_>,
    creds: &Credentials,
) -> bool {
    let host = parts.headers.get("host").and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    let query = if auth.presigned_expires.is_some() { strip_presign(query) } else { query.to_string() };
    let uri = if query.is_empty() {
        format!("http://{host}{}", parts.uri.path())
    } else {
        format!("http://{host}{}?{query}", parts.uri.path())
    };
    let payload = match (auth.presigned_expires, sign::is_s3(&auth.scope.service)) {
        (Some(_), true) => Payload::Declared("UNSIGNED-PAYLOAD".into()),
        _ => payload,
    };
    let received = Received {
        method: parts.method.as_str(),
        uri: &uri,
        headers: &parts.headers,
        signed_headers: &auth.signed_headers,
        amz_date: &auth.amz_date,
        payload,
        service: &auth.scope.service,
        region: &auth.scope.region,
        presigned_expires: auth.presigned_expires,
        presigned_token: query_has(&parts.uri, "X-Amz-Security-Token"),
    };
    sign::expected_signature(&received, creds).is_ok_and(|s| sign::same_signature(&s, &auth.signature))
}

fn query_has(uri: &http::Uri, key: &str) -> bool {
    uri.query().unwrap_or("").split('&').any(|p| p.split_once('=').map_or(p, |(k, _)| k) == key)
}

struct HeaderView<'a>(&'a HeaderMap);

impl call::Headers for HeaderView<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(|v| v.to_str().ok())
    }
}

fn identify(
    parts: &http::request::Parts,
    query: &str,
    scope: &Scope,
    body: Option<&[u8]>,
) -> Result<ApiCall, call::Unrecognised> {
    let headers = HeaderView(&parts.headers);
    let query = strip_presign(query);
    let req = call::Request {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: &query,
        headers: &headers,
        body,
    };
    call::identify(&req, scope)
}

fn map_into(rec: &mut RecordedCall, api_call: &Result<ApiCall, call::Unrecognised>, state: &State) {
    match api_call {
        Ok(c) => {
            rec.operation = Some(c.operation.clone());
            let caller = Caller { principal: &state.principal, account: &state.account, time: &rec.time };
            rec.set_mapping(&c.mapping(&caller, Catalog::get()));
        }
        Err(e) => rec.unmapped = Some(e.to_string()),
    }
}

/// The request for the upstream endpoint, signed with the run's credentials; with its signature and
/// signing time (the seed of signed chunks).
fn upstream_request(
    state: &State,
    parts: &http::request::Parts,
    query: &str,
    scope: &Scope,
    endpoint_prefix: &str,
    payload: Payload<'_>,
) -> Result<(Request<()>, String, SystemTime), String> {
    let (scheme, authority) = match &state.upstream {
        Upstream::Endpoint { scheme, authority } => (scheme.clone(), authority.clone()),
        Upstream::Aws => ("https".to_string(), call::upstream_host(endpoint_prefix, &scope.region)),
    };
    let query = strip_presign(query);
    let uri = if query.is_empty() {
        format!("{scheme}://{authority}{}", parts.uri.path())
    } else {
        format!("{scheme}://{authority}{}?{query}", parts.uri.path())
    };
    let headers = sign::forwardable(&parts.headers);
    let sha256_header = parts.headers.contains_key("x-amz-content-sha256");
    let time = SystemTime::now();
    let to_sign = ToSign {
        method: parts.method.as_str(),
        uri: &uri,
        headers: headers
            .iter()
            .filter(|(n, _)| n != "user-agent")
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect(),
        payload,
        service: &scope.service,
        region: &scope.region,
        time,
        sha256_header,
        token: true,
    };
    let (auth_headers, signature) = sign::signature(&to_sign, &state.credentials)?;
    let mut builder = Request::builder().method(parts.method.clone()).uri(&uri);
    for (n, v) in headers.iter().chain(auth_headers.iter()) {
        builder = builder.header(n.as_str(), v.as_str());
    }
    let request = builder.body(()).map_err(|e| e.to_string())?;
    Ok((request, signature, time))
}

/// Records the upstream's answer and hands it back unchanged (an error answer is read first for its
/// error code).
async fn answer(state: &State, mut rec: RecordedCall, resp: Response<Incoming>) -> Response<ProxyBody> {
    let (mut parts, body) = resp.into_parts();
    for name in
        ["connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade", "transfer-encoding"]
    {
        parts.headers.remove(name);
    }
    let status = parts.status.as_u16();
    rec.http_status = Some(status);
    let body = if status >= 400 {
        let error_type =
            parts.headers.get("x-amzn-errortype").and_then(|v| v.to_str().ok()).map(str::to_string);
        match Limited::new(body, MAX_ERROR_BODY).collect().await {
            Ok(c) => {
                let bytes = c.to_bytes();
                rec.error_code = call::error_code(error_type.as_deref(), &bytes);
                full(bytes)
            }
            Err(_) => {
                rec.error_code = error_type;
                full(Bytes::new())
            }
        }
    } else {
        body.map_err(BoxError::from).boxed()
    };
    rec.status = recording::status_of(rec.http_status, rec.error_code.as_deref());
    state.log.write(&rec);
    Response::from_parts(parts, body)
}
