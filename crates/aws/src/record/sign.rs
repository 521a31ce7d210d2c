//! SigV4 for the recorder, with the official `aws-sigv4` signer: checking that a request was signed
//! with the credentials iamfit handed to the child, and signing the forwarded request anew for the
//! upstream endpoint.
//!
//! S3 signs the path as sent (no second percent-encoding, no normalisation) and always signs
//! `x-amz-content-sha256`; the other services encode the path twice and normalise it ("Create a
//! canonical request", AWS Signature Version 4 documentation). The payload hash is the client's own
//! (`x-amz-content-sha256`, so large bodies stream through unread) or computed from the buffered body.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SessionTokenMode, SignableBody, SignableRequest,
    SignatureLocation, SigningSettings, UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use http::HeaderMap;

/// Query parameters of a presigned request's signature.
pub const PRESIGN_PARAMS: &[&str] = &[
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
];

/// Headers the signer adds itself (they must not be passed in).
const SIGNER_HEADERS: &[&str] =
    &["authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"];

/// The payload as it is signed.
#[derive(Debug, Clone)]
pub enum Payload<'a> {
    /// The buffered body.
    Bytes(&'a [u8]),
    /// The client's `x-amz-content-sha256` value (a hash, `UNSIGNED-PAYLOAD`, a streaming marker).
    Declared(String),
}

impl Payload<'_> {
    fn signable(&self) -> SignableBody<'_> {
        match self {
            Payload::Bytes(b) => SignableBody::Bytes(b),
            Payload::Declared(v) if v == "UNSIGNED-PAYLOAD" => SignableBody::UnsignedPayload,
            Payload::Declared(v) if v == "STREAMING-UNSIGNED-PAYLOAD-TRAILER" => {
                SignableBody::StreamingUnsignedPayloadTrailer
            }
            Payload::Declared(v) => SignableBody::Precomputed(v.clone()),
        }
    }
}

/// Whether a signing name is S3's way of signing (single encoding, no normalisation).
pub fn is_s3(service: &str) -> bool {
    matches!(service, "s3" | "s3-object-lambda" | "s3express" | "s3-outposts")
}

fn settings(service: &str, sha256_header: bool, token: bool) -> SigningSettings {
    let mut s = SigningSettings::default();
    if is_s3(service) {
        s.percent_encoding_mode = PercentEncodingMode::Single;
        s.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    }
    if sha256_header || is_s3(service) {
        s.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    if !token {
        s.session_token_mode = SessionTokenMode::Exclude;
    }
    s.signature_location = SignatureLocation::Headers;
    s
}

/// What the signer needs to know about one request.
pub struct ToSign<'a> {
    /// The method.
    pub method: &'a str,
    /// The full URI (`https://host/path?query`).
    pub uri: &'a str,
    /// The headers to sign (without the signer's own).
    pub headers: Vec<(&'a str, &'a str)>,
    /// The payload.
    pub payload: Payload<'a>,
    /// The signing name and region.
    pub service: &'a str,
    /// The region.
    pub region: &'a str,
    /// The signing time.
    pub time: SystemTime,
    /// Whether `x-amz-content-sha256` is signed.
    pub sha256_header: bool,
    /// Whether the session token is signed.
    pub token: bool,
}

/// Signs; returns the headers to set (`authorization`, `x-amz-date`, ...) and the signature.
pub fn signature(req: &ToSign<'_>, creds: &Credentials) -> Result<(Vec<(String, String)>, String), String> {
    let identity: Identity = creds.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(req.region)
        .name(req.service)
        .time(req.time)
        .settings(settings(req.service, req.sha256_header, req.token))
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let signable =
        SignableRequest::new(req.method, req.uri, req.headers.iter().copied(), req.payload.signable())
            .map_err(|e| e.to_string())?;
    let (instructions, signature) = sign(signable, &params).map_err(|e| e.to_string())?.into_parts();
    let (headers, _) = instructions.into_parts();
    Ok((headers.into_iter().map(|h| (h.name().to_string(), h.value().to_string())).collect(), signature))
}

/// The headers of a request to sign anew: all but the signer's own, `host` (the upstream's comes from
/// the URI) and those a proxy must not forward.
pub fn forwardable(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| {
            let n = name.as_str();
            !SIGNER_HEADERS.contains(&n) && !super::proxy::is_hop_by_hop(n) && n != "host" && n != "expect"
        })
        .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect()
}

/// The signature a request should carry if it was signed with `creds`: the client's signed headers, its
/// time and payload hash, the rules of its service.
pub struct Received<'a> {
    /// The method.
    pub method: &'a str,
    /// `http://HOST/path?query` as received (presign parameters removed from the query).
    pub uri: &'a str,
    /// All received headers.
    pub headers: &'a HeaderMap,
    /// The client's `SignedHeaders`.
    pub signed_headers: &'a str,
    /// The client's `X-Amz-Date` (`20260501T100000Z`).
    pub amz_date: &'a str,
    /// The payload.
    pub payload: Payload<'a>,
    /// The scope's service and region.
    pub service: &'a str,
    /// The region.
    pub region: &'a str,
    /// `X-Amz-Expires` of a presigned request (signed in the query).
    pub presigned_expires: Option<u64>,
    /// Whether a presigned request carries `X-Amz-Security-Token` in its query.
    pub presigned_token: bool,
}

/// The signature `creds` give the received request, to compare with the client's.
pub fn expected_signature(r: &Received<'_>, creds: &Credentials) -> Result<String, String> {
    let time = parse_amz_date(r.amz_date).ok_or_else(|| format!("bad X-Amz-Date {:?}", r.amz_date))?;
    let signed: Vec<&str> = r.signed_headers.split(';').collect();
    let headers: Vec<(&str, &str)> = r
        .headers
        .iter()
        .filter(|(n, _)| signed.contains(&n.as_str()) && !SIGNER_HEADERS.contains(&n.as_str()))
        .filter_map(|(n, v)| Some((n.as_str(), v.to_str().ok()?)))
        .collect();
    let req = ToSign {
        method: r.method,
        uri: r.uri,
        headers,
        payload: r.payload.clone(),
        service: r.service,
        region: r.region,
        time,
        sha256_header: signed.contains(&"x-amz-content-sha256"),
        token: signed.contains(&"x-amz-security-token") || r.presigned_token,
    };
    let identity: Identity = creds.clone().into();
    let mut settings = settings(req.service, req.sha256_header, req.token);
    // Only the client's signed headers are passed in, so nothing more is to be excluded; S3 without a
    // signed x-amz-content-sha256 (presigned) must not add it.
    settings.excluded_headers = None;
    if !req.sha256_header {
        settings.payload_checksum_kind = PayloadChecksumKind::NoHeader;
    }
    if let Some(expires) = r.presigned_expires {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(std::time::Duration::from_secs(expires));
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(req.region)
        .name(req.service)
        .time(req.time)
        .settings(settings)
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let signable =
        SignableRequest::new(req.method, req.uri, req.headers.iter().copied(), req.payload.signable())
            .map_err(|e| e.to_string())?;
    let out = sign(signable, &params).map_err(|e| e.to_string())?;
    Ok(out.signature().to_string())
}

/// `20260501T100000Z` -> a time.
pub fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let t = time::PrimitiveDateTime::parse(s, &format).ok()?.assume_utc();
    Some(SystemTime::from(t))
}

/// Compares two signatures without stopping at the first difference.
pub fn same_signature(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The GET Object example of "Signature Calculations for the Authorization Header: Transferring
    /// Payload in a Single Chunk", Amazon S3 API Reference: its published signature.
    #[test]
    fn the_s3_documentation_example_is_reproduced() {
        let creds = Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            None,
            None,
            "test",
        );
        let mut headers = HeaderMap::new();
        headers.insert("host", "examplebucket.s3.amazonaws.com".parse().unwrap());
        headers.insert("range", "bytes=0-9".parse().unwrap());
        headers.insert(
            "x-amz-content-sha256",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".parse().unwrap(),
        );
        headers.insert("x-amz-date", "20130524T000000Z".parse().unwrap());
        let received = Received {
            method: "GET",
            uri: "https://examplebucket.s3.amazonaws.com/test.txt",
            headers: &headers,
            signed_headers: "host;range;x-amz-content-sha256;x-amz-date",
            amz_date: "20130524T000000Z",
            payload: Payload::Declared(
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".into(),
            ),
            service: "s3",
            region: "us-east-1",
            presigned_expires: None,
            presigned_token: false,
        };
        assert_eq!(
            expected_signature(&received, &creds).unwrap(),
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    #[test]
    fn signatures_compare_whole() {
        assert!(same_signature("abcd", "abcd"));
        assert!(!same_signature("abcd", "abce"));
        assert!(!same_signature("abc", "abcd"));
    }
}
