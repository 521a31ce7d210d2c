//! From one live AWS API request to the IAM actions it needs, with the mapping CloudTrail replay uses
//! (`iamfit exec --record`).
//!
//! A request says who signed it and for which service and region in its SigV4 credential scope
//! ([`Scope::of_request`]). Its operation is read from the request itself ([`identify`]): the
//! `X-Amz-Target` header for the JSON protocols, the `Action` parameter for the query protocols, the path
//! `/service/S/operation/OP` for Smithy RPC v2 CBOR, and for REST protocols (S3, Lambda, API Gateway, ...)
//! the method and path matched against the routes generated from botocore's service models
//! ([`routes`]). The request's parameters (the JSON or form body, the path labels, the query parameters
//! and headers bound to input members) become the `requestParameters` of a CloudTrail-shaped record
//! ([`ApiCall::mapping`]), which [`crate::map::map_event`] maps exactly as it maps a record of a trail.
//!
//! CloudTrail names S3's bucket `bucketName` (the model's `Bucket`); the other services' parameters are
//! the model's member names, which the mapping compares without regard to case (CloudTrail writes them
//! in lower camel case: `tableName` for `TableName`).

pub mod routes;

use std::borrow::Cow;

use iamfit_catalog::Catalog;
use serde_json::{Map, Value};

use crate::event::Event;
use crate::map::{map_event, Mapping};
use routes::{Location, Route, Service};

/// What a SigV4 credential scope says: `AKID/20260101/us-east-1/s3/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The access key id that signed.
    pub access_key: String,
    /// The date (`YYYYMMDD`).
    pub date: String,
    /// The region.
    pub region: String,
    /// The signing name of the service.
    pub service: String,
}

impl Scope {
    /// Parses a credential (`AKID/DATE/REGION/SERVICE/aws4_request`).
    pub fn parse(credential: &str) -> Option<Scope> {
        let mut parts = credential.trim().split('/');
        let (access_key, date, region, service) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next() != Some("aws4_request") || access_key.is_empty() || service.is_empty() {
            return None;
        }
        Some(Scope {
            access_key: access_key.to_string(),
            date: date.to_string(),
            region: region.to_string(),
            service: service.to_string(),
        })
    }

    /// The scope of a request: its `Authorization` header (`AWS4-HMAC-SHA256 Credential=...`), else the
    /// `X-Amz-Credential` query parameter of a presigned request.
    pub fn of_request(authorization: Option<&str>, query: &str) -> Option<Scope> {
        if let Some(auth) = authorization {
            return auth_fields(auth).credential.and_then(Scope::parse);
        }
        query_pairs(query)
            .into_iter()
            .find(|(k, _)| k == "X-Amz-Credential")
            .and_then(|(_, v)| Scope::parse(&v))
    }
}

/// The fields of an `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthFields<'a> {
    /// The algorithm (`AWS4-HMAC-SHA256`).
    pub algorithm: &'a str,
    /// `Credential`.
    pub credential: Option<&'a str>,
    /// `SignedHeaders` (`host;x-amz-date`).
    pub signed_headers: Option<&'a str>,
    /// `Signature`.
    pub signature: Option<&'a str>,
}

/// Splits an `Authorization` header into its fields.
pub fn auth_fields(header: &str) -> AuthFields<'_> {
    let (algorithm, rest) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
    let mut f = AuthFields { algorithm, ..AuthFields::default() };
    for part in rest.split(',') {
        let Some((k, v)) = part.trim().split_once('=') else { continue };
        match k.trim() {
            "Credential" => f.credential = Some(v.trim()),
            "SignedHeaders" => f.signed_headers = Some(v.trim()),
            "Signature" => f.signature = Some(v.trim()),
            _ => {}
        }
    }
    f
}

/// Header lookup of a request (case-insensitive names), implemented by the HTTP layer.
pub trait Headers {
    /// The first value of the header, when it is valid text.
    fn header(&self, name: &str) -> Option<&str>;
}

impl Headers for Vec<(&str, &str)> {
    fn header(&self, name: &str) -> Option<&str> {
        self.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
    }
}

/// The parts of a request the identification reads.
pub struct Request<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// The path, as sent (percent-encoded).
    pub path: &'a str,
    /// The query string, as sent (without `?`).
    pub query: &'a str,
    /// The headers.
    pub headers: &'a dyn Headers,
    /// The body, when it was read (JSON and query protocols; small REST bodies).
    pub body: Option<&'a [u8]>,
}

/// The protocol a request was recognised by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `X-Amz-Target` and a JSON body.
    Json,
    /// `Action=` in a form body or the query string.
    Query,
    /// Smithy RPC v2 CBOR: `/service/S/operation/OP`.
    Cbor,
    /// A REST route of the table.
    Rest,
}

/// One recognised API call.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiCall {
    /// The signing name of the service (from the credential scope).
    pub service: String,
    /// The endpoint prefix (the CloudTrail event source without `.amazonaws.com`).
    pub endpoint_prefix: String,
    /// The region (from the credential scope).
    pub region: String,
    /// The API operation (`GetItem`).
    pub operation: String,
    /// The request's parameters (never written anywhere: they only feed the mapping).
    pub params: Value,
    /// How it was recognised.
    pub protocol: Protocol,
}

/// Why a request could not be recognised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unrecognised {
    /// The signing name is not a service of the route table.
    #[error("unknown service {0:?} in the request's credential scope")]
    UnknownService(String),
    /// No protocol rule recognised the request.
    #[error("no operation of {service} matches {method} {path}")]
    NoRoute {
        /// The signing name.
        service: String,
        /// The method.
        method: String,
        /// The path.
        path: String,
    },
}

/// Recognises a request's operation and parameters.
pub fn identify(req: &Request<'_>, scope: &Scope) -> Result<ApiCall, Unrecognised> {
    let t = routes::table();
    let services: Vec<&Service> = t
        .by_signing
        .get(scope.service.as_str())
        .into_iter()
        .flatten()
        .filter_map(|i| t.services.get(*i))
        .collect();
    if services.is_empty() {
        return Err(Unrecognised::UnknownService(scope.service.clone()));
    }
    let call = |service: &Service, operation: String, params: Value, protocol| ApiCall {
        service: scope.service.clone(),
        endpoint_prefix: service.prefix.to_string(),
        region: scope.region.clone(),
        operation,
        params,
        protocol,
    };
    if let Some(target) = req.headers.header("x-amz-target") {
        let (prefix, op) = target.rsplit_once('.').unwrap_or(("", target));
        let service = services.iter().find(|s| s.target == Some(prefix)).unwrap_or(&services[0]);
        return Ok(call(service, op.to_string(), json_params(req.body), Protocol::Json));
    }
    if let Some(op) = cbor_operation(req.path) {
        return Ok(call(services[0], op.to_string(), Value::Object(Map::new()), Protocol::Cbor));
    }
    let mut form = form_params(req);
    if let Some(action) = form.get("Action").and_then(Value::as_str).map(str::to_string) {
        let service = services.iter().find(|s| s.routes.is_empty()).unwrap_or(&services[0]);
        // SQS's query protocol sends the queue as the path (`/ACCOUNT/NAME`), not as `QueueUrl`.
        if service.prefix == "sqs" && !form.contains_key("QueueUrl") && req.path.matches('/').count() == 2 {
            let url = format!("https://sqs.{}.amazonaws.com{}", scope.region, req.path);
            form.insert("QueueUrl".into(), Value::String(url));
        }
        return Ok(call(service, action, Value::Object(form), Protocol::Query));
    }
    let best = services
        .iter()
        .flat_map(|s| s.routes.iter().map(move |r| (*s, r)))
        .filter(|(_, r)| r.method.eq_ignore_ascii_case(req.method))
        .filter_map(|(s, r)| route_score(r, req).map(|(score, labels)| (score, s, r, labels)))
        // The first of equally good routes: the model's order (`ListBuckets` before `ListDirectoryBuckets`).
        .fold(None, |best: Option<(Score, &Service, &Route, _)>, c| match &best {
            Some(b) if b.0 >= c.0 => best,
            _ => Some(c),
        });
    match best {
        Some((_, service, route, labels)) => {
            let params = rest_params(service, route, labels, req);
            Ok(call(service, route.operation.to_string(), params, Protocol::Rest))
        }
        None => Err(Unrecognised::NoRoute {
            service: scope.service.clone(),
            method: req.method.to_string(),
            path: req.path.to_string(),
        }),
    }
}

/// `/service/S/operation/OP` (Smithy RPC v2 CBOR).
fn cbor_operation(path: &str) -> Option<&str> {
    let rest = path.strip_prefix('/')?;
    let mut parts = rest.split('/');
    match (parts.next(), parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("service"), Some(_), Some("operation"), Some(op), None) if !op.is_empty() => Some(op),
        _ => None,
    }
}

fn json_params(body: Option<&[u8]>) -> Value {
    body.filter(|b| !b.is_empty())
        .and_then(|b| serde_json::from_slice::<Value>(b).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| Value::Object(Map::new()))
}

/// Percent-decoded `k=v` pairs (`+` is a space, as in forms).
fn query_pairs(query: &str) -> Vec<(String, String)> {
    let decode =
        |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// The query string and, for form bodies, the body's pairs, as one flat object.
fn form_params(req: &Request<'_>) -> Map<String, Value> {
    let mut out = Map::new();
    let mut add = |text: &str| {
        for (k, v) in query_pairs(text) {
            out.entry(k).or_insert(Value::String(v));
        }
    };
    add(req.query);
    let is_form = req
        .headers
        .header("content-type")
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    if is_form {
        if let Some(text) = req.body.and_then(|b| std::str::from_utf8(b).ok()) {
            add(text);
        }
    }
    out
}

/// Literals and requirements met, literal path length.
type Score = (usize, usize);

/// How well a route fits: `None` when it does not; more literals and requirements met is better.
fn route_score(route: &Route, req: &Request<'_>) -> Option<(Score, Vec<(&'static str, String)>)> {
    let labels = routes::match_path(&route.path, req.path)?;
    let pairs = query_pairs(req.query);
    let has_query = |name: &str| pairs.iter().any(|(k, _)| k == name);
    for (name, value) in &route.literals {
        let ok = match value {
            Some(v) => pairs.iter().any(|(k, x)| k == name && x == v),
            None => has_query(name),
        };
        if !ok {
            return None;
        }
    }
    // Some SDKs name S3 operations in `x-id` (`?x-id=GetObject`): it must agree, and it settles ties.
    let x_id = pairs.iter().find(|(k, _)| k == "x-id").map(|(_, v)| v.as_str());
    if x_id.is_some_and(|op| op != route.operation) {
        return None;
    }
    for (loc, name) in &route.required {
        let ok = match loc {
            Location::Query => has_query(name),
            Location::Header => req.headers.header(name).is_some(),
        };
        if !ok {
            return None;
        }
    }
    let literal_len: usize =
        route.path.iter().map(|p| if let routes::Piece::Lit(l) = p { l.len() } else { 0 }).sum();
    let met = route.literals.len() + route.required.len() + usize::from(x_id.is_some());
    Some(((met, literal_len), labels))
}

fn rest_params(
    service: &Service,
    route: &Route,
    labels: Vec<(&'static str, String)>,
    req: &Request<'_>,
) -> Value {
    let mut out = match json_params(req.body) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let s3 = service.prefix == "s3";
    for (name, raw) in labels {
        let value = percent_encoding::percent_decode_str(&raw).decode_utf8_lossy().into_owned();
        // CloudTrail's name for S3's bucket.
        let name = if s3 && name == "Bucket" { "bucketName" } else { name };
        out.insert(name.to_string(), Value::String(value));
    }
    for (k, v) in query_pairs(req.query) {
        let member = route
            .bindings
            .iter()
            .find(|(loc, name, _)| *loc == Location::Query && *name == k)
            .map_or(Cow::Owned(k), |(_, _, m)| Cow::Borrowed(*m));
        out.entry(member.into_owned()).or_insert(Value::String(v));
    }
    for (loc, header, member) in &route.bindings {
        if *loc == Location::Header {
            if let Some(v) = req.headers.header(header) {
                out.entry(member.to_string()).or_insert(Value::String(v.to_string()));
            }
        }
    }
    Value::Object(out)
}

/// Who made a call and when, for the CloudTrail-shaped record.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    /// The principal ARN (an assumed-role session, a user).
    pub principal: &'a str,
    /// Its account.
    pub account: &'a str,
    /// The time (RFC 3339 UTC).
    pub time: &'a str,
}

impl ApiCall {
    /// The CloudTrail event source of the call (`dynamodb.amazonaws.com`).
    pub fn event_source(&self) -> String {
        let own = format!("{}.amazonaws.com", self.endpoint_prefix);
        if crate::map::service_prefix(&own).is_some() {
            return own;
        }
        format!("{}.amazonaws.com", self.service)
    }

    /// The CloudTrail-shaped record of the call, as JSON text.
    pub fn record(&self, caller: &Caller<'_>) -> String {
        let kind = if caller.principal.contains(":assumed-role/") {
            "AssumedRole"
        } else if caller.principal.contains(":user/") {
            "IAMUser"
        } else {
            "Unknown"
        };
        serde_json::json!({
            "eventTime": caller.time,
            "eventSource": self.event_source(),
            "eventName": self.operation,
            "awsRegion": self.region,
            "userIdentity": {"type": kind, "arn": caller.principal, "accountId": caller.account},
            "recipientAccountId": caller.account,
            "requestParameters": self.params,
            "eventType": "AwsApiCall",
        })
        .to_string()
    }

    /// The IAM actions and resources the call needs, mapped from its CloudTrail-shaped record by the
    /// replay's own mapping.
    pub fn mapping(&self, caller: &Caller<'_>, catalog: &Catalog) -> Mapping {
        let text = self.record(caller);
        match serde_json::from_str::<Event<'_>>(&text) {
            Ok(event) => map_event(&event, catalog),
            Err(_) => Mapping::Unmapped { reason: "the request could not be turned into a record" },
        }
    }
}

/// The upstream host of a service in a region (`dynamodb.eu-west-1.amazonaws.com`; global services
/// such as IAM at their one endpoint; `amazonaws.com.cn` in China).
pub fn upstream_host(endpoint_prefix: &str, region: &str) -> String {
    let china = region.starts_with("cn-");
    if !china && !region.starts_with("us-gov-") {
        if let Some(host) = routes::table().global.get(endpoint_prefix) {
            return (*host).to_string();
        }
    }
    let suffix = if china { "amazonaws.com.cn" } else { "amazonaws.com" };
    format!("{endpoint_prefix}.{region}.{suffix}")
}

/// The endpoint prefix of a signing name (the first service of the table with that name).
pub fn endpoint_prefix(signing: &str) -> Option<&'static str> {
    let t = routes::table();
    t.by_signing.get(signing).and_then(|v| v.first()).and_then(|i| t.services.get(*i)).map(|s| s.prefix)
}

/// The error code of an AWS error response: the `x-amzn-ErrorType` header, the JSON `__type` or `code`,
/// or the XML `<Code>`.
pub fn error_code(error_type_header: Option<&str>, body: &[u8]) -> Option<String> {
    let clean = |s: &str| -> Option<String> {
        let s = s.split(':').next().unwrap_or(s);
        let s = s.rsplit('#').next().unwrap_or(s).trim();
        (!s.is_empty()).then(|| s.to_string())
    };
    if let Some(code) = error_type_header.and_then(clean) {
        return Some(code);
    }
    let text = std::str::from_utf8(body).ok()?.trim_start();
    if text.starts_with('{') {
        let v: Value = serde_json::from_str(text).ok()?;
        let code = ["__type", "code", "Code"].iter().find_map(|k| v.get(*k).and_then(Value::as_str))?;
        return clean(code);
    }
    let start = text.find("<Code>")? + "<Code>".len();
    let rest = text.get(start..)?;
    let end = rest.find("</Code>")?;
    rest.get(..end).and_then(clean)
}

#[cfg(test)]
mod tests;
