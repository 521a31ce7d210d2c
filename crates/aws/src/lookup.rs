//! The `lookup` trail source: CloudTrail's `LookupEvents` API. It holds management events only (the
//! last 90 days, one region per call), allows 2 requests per second per account and region, and
//! throttles beyond that; iamfit paces its requests and lets the SDK retry throttled ones.

use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};

use crate::live::LiveError;

/// Minimum time between two requests (AWS allows 2 per second).
pub const MIN_INTERVAL: Duration = Duration::from_millis(500);

/// Retries of a throttled request before giving up.
pub const MAX_RETRIES: u32 = 8;

/// What was read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LookupStats {
    /// Requests answered (pages).
    pub requests: u64,
    /// Requests throttled and retried.
    pub throttled: u64,
    /// Events returned.
    pub events: u64,
}

/// Pages through `LookupEvents` for the window (RFC 3339 bounds), optionally narrowed to one user
/// name (the session name of a role session, or an IAM user's name), and hands each event's
/// `CloudTrailEvent` JSON to `consume`.
pub async fn lookup_events(
    config: &SdkConfig,
    since: Option<&str>,
    until: Option<&str>,
    username: Option<&str>,
    mut consume: impl FnMut(&str),
) -> Result<LookupStats, LiveError> {
    use aws_sdk_cloudtrail::primitives::DateTime;
    use aws_sdk_cloudtrail::primitives::DateTimeFormat;
    // iamfit paces and retries itself: the SDK's jittered retries could exceed 2 requests per second.
    let conf = aws_sdk_cloudtrail::config::Builder::from(config)
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build();
    let client = aws_sdk_cloudtrail::Client::from_conf(conf);
    let parse = |t: &str| {
        DateTime::from_str(t, DateTimeFormat::DateTime)
            .map_err(|e| LiveError::Setup(format!("bad time {t:?}: {e}")))
    };
    let mut stats = LookupStats::default();
    let mut token: Option<String> = None;
    let mut last: Option<Instant> = None;
    loop {
        if let Some(at) = last {
            let wait = MIN_INTERVAL.saturating_sub(at.elapsed());
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
        }
        let mut req = client.lookup_events().max_results(50);
        if let Some(s) = since {
            req = req.start_time(parse(s)?);
        }
        if let Some(u) = until {
            req = req.end_time(parse(u)?);
        }
        if let Some(name) = username {
            req = req.lookup_attributes(
                LookupAttribute::builder()
                    .attribute_key(LookupAttributeKey::Username)
                    .attribute_value(name)
                    .build()
                    .map_err(|e| LiveError::Setup(e.to_string()))?,
            );
        }
        if let Some(t) = &token {
            req = req.next_token(t);
        }
        let mut attempt = 0u32;
        let result = loop {
            last = Some(Instant::now());
            match req.clone().send().await {
                Err(e) if crate::error::is_throttle(&e) && attempt < MAX_RETRIES => {
                    stats.throttled += 1;
                    attempt += 1;
                    tokio::time::sleep(MIN_INTERVAL * 2u32.pow(attempt.min(4))).await;
                }
                other => break other,
            }
        };
        let out = result.map_err(|e| {
            crate::error::classify(
                &e,
                crate::error::Call {
                    call: "cloudtrail:LookupEvents",
                    permission: "cloudtrail:LookupEvents",
                    what: "trail",
                    target: "the account",
                },
            )
        })?;
        stats.requests += 1;
        for event in out.events() {
            if let Some(json) = event.cloud_trail_event() {
                stats.events += 1;
                consume(json);
            }
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    Ok(stats)
}
