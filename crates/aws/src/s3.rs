//! CloudTrail log files read from S3 (`--trail s3://BUCKET[/PREFIX]`), narrowed by account and by the
//! dates of the time window in the delivery layout `AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/`.

use std::sync::Arc;

use crate::live::LiveError;

/// A bucket and key prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    /// The bucket.
    pub bucket: String,
    /// The key prefix (empty, or ending in `/`).
    pub prefix: String,
}

impl S3Location {
    /// Parses `s3://bucket[/prefix]`.
    pub fn parse(url: &str) -> Option<S3Location> {
        let rest = url.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return None;
        }
        let mut prefix = prefix.to_string();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        Some(S3Location { bucket: bucket.to_string(), prefix })
    }
}

/// How to narrow the listing.
#[derive(Debug, Clone, Default)]
pub struct Narrowing {
    /// Only these accounts (empty: all).
    pub accounts: Vec<String>,
    /// Only these days (`YYYY/MM/DD`), from the time window (empty: all).
    pub days: Vec<String>,
}

/// The days (`YYYY/MM/DD`) between two RFC 3339 times, inclusive; at most `limit` days.
pub fn days_between(since: &str, until: &str, limit: usize) -> Vec<String> {
    use time::format_description::well_known::Rfc3339;
    let (Ok(start), Ok(end)) =
        (time::OffsetDateTime::parse(since, &Rfc3339), time::OffsetDateTime::parse(until, &Rfc3339))
    else {
        return Vec::new();
    };
    let mut day = start.date();
    let mut out = Vec::new();
    while day <= end.date() && out.len() < limit {
        out.push(format!("{:04}/{:02}/{:02}", day.year(), u8::from(day.month()), day.day()));
        match day.next_day() {
            Some(d) => day = d,
            None => break,
        }
    }
    out
}

fn s3_error<E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    err: aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    call: &'static str,
    target: &str,
) -> LiveError {
    crate::error::classify(&err, crate::error::Call { call, permission: call, what: "bucket", target })
}

/// One level of a delimited listing: sub-prefixes and object keys.
async fn list_level(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    delimiter: bool,
) -> Result<(Vec<String>, Vec<(String, i64)>), LiveError> {
    let mut prefixes = Vec::new();
    let mut keys = Vec::new();
    let mut req = client.list_objects_v2().bucket(bucket).prefix(prefix);
    if delimiter {
        req = req.delimiter("/");
    }
    let mut pages = req.into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| s3_error(e, "s3:ListBucket", &format!("s3://{bucket}/{prefix}")))?;
        prefixes.extend(page.common_prefixes().iter().filter_map(|p| p.prefix().map(str::to_string)));
        keys.extend(
            page.contents().iter().filter_map(|o| Some((o.key()?.to_string(), o.size().unwrap_or(0)))),
        );
    }
    Ok((prefixes, keys))
}

fn is_log_key(key: &str) -> bool {
    (key.ends_with(".json.gz") || key.ends_with(".json"))
        && !key.contains("CloudTrail-Digest")
        && !key.contains("CloudTrail-Insight")
}

/// Lists the log file keys under the location, descending the delivery layout and skipping
/// accounts and days outside the narrowing. Returns (key, size) pairs, sorted.
pub async fn list_log_keys(
    client: &aws_sdk_s3::Client,
    loc: &S3Location,
    narrow: &Narrowing,
) -> Result<Vec<(String, i64)>, LiveError> {
    let mut found = Vec::new();
    let mut queue = vec![(loc.prefix.clone(), 0usize)];
    while let Some((prefix, depth)) = queue.pop() {
        let last = prefix.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        // At a region folder: jump straight to the days of the window.
        let parent = prefix.trim_end_matches('/').rsplit('/').nth(1).unwrap_or("");
        if parent == "CloudTrail" && !narrow.days.is_empty() {
            for day in &narrow.days {
                let (_, keys) = list_level(client, &loc.bucket, &format!("{prefix}{day}/"), false).await?;
                found.extend(keys.into_iter().filter(|(k, _)| is_log_key(k)));
            }
            continue;
        }
        if depth > 10 {
            let (_, keys) = list_level(client, &loc.bucket, &prefix, false).await?;
            found.extend(keys.into_iter().filter(|(k, _)| is_log_key(k)));
            continue;
        }
        let (children, keys) = list_level(client, &loc.bucket, &prefix, true).await?;
        found.extend(keys.into_iter().filter(|(k, _)| is_log_key(k)));
        for child in children {
            let name = child.trim_end_matches('/').rsplit('/').next().unwrap_or("");
            if name.starts_with("CloudTrail-Digest") || name.starts_with("CloudTrail-Insight") {
                continue;
            }
            let is_account = name.len() == 12 && name.bytes().all(|b| b.is_ascii_digit());
            if is_account
                && (last == "AWSLogs" || last.starts_with("o-"))
                && !narrow.accounts.is_empty()
                && !narrow.accounts.iter().any(|a| a == name)
            {
                continue;
            }
            queue.push((child, depth + 1));
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

/// Downloads objects concurrently (at most `parallel` at a time) and hands each to `consume`
/// (called from blocking threads). Failed downloads are reported through `failed`.
pub async fn fetch_all<F>(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    keys: Vec<String>,
    parallel: usize,
    consume: Arc<F>,
) -> Vec<(String, String)>
where
    F: Fn(&str, &[u8]) + Send + Sync + 'static,
{
    let semaphore = Arc::new(tokio::sync::Semaphore::new(parallel.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for key in keys {
        let client = client.clone();
        let bucket = bucket.to_string();
        let consume = consume.clone();
        let permit = semaphore.clone().acquire_owned().await;
        tasks.spawn(async move {
            let _permit = permit;
            let got = client.get_object().bucket(&bucket).key(&key).send().await;
            let body = match got {
                Ok(out) => out.body.collect().await.map(|b| b.into_bytes()).map_err(|e| e.to_string()),
                Err(e) => Err(s3_error(e, "s3:GetObject", &format!("s3://{bucket}/{key}")).to_string()),
            };
            match body {
                Ok(bytes) => {
                    let name = format!("s3://{bucket}/{key}");
                    tokio::task::spawn_blocking(move || consume(&name, &bytes))
                        .await
                        .map_err(|e| (key.clone(), e.to_string()))
                        .err()
                }
                Err(e) => Some((key, e)),
            }
        });
    }
    let mut failed = Vec::new();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(Some(f)) => failed.push(f),
            Ok(None) => {}
            Err(e) => failed.push((String::new(), e.to_string())),
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            S3Location::parse("s3://logs/AWSLogs"),
            Some(S3Location { bucket: "logs".into(), prefix: "AWSLogs/".into() })
        );
        assert_eq!(
            S3Location::parse("s3://logs"),
            Some(S3Location { bucket: "logs".into(), prefix: String::new() })
        );
        assert_eq!(S3Location::parse("s3:///x"), None);
        assert_eq!(S3Location::parse("/tmp"), None);
    }

    #[test]
    fn days() {
        assert_eq!(
            days_between("2026-02-27T10:00:00Z", "2026-03-01T00:00:00Z", 100),
            vec!["2026/02/27", "2026/02/28", "2026/03/01"]
        );
        assert_eq!(days_between("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", 5).len(), 5);
    }
}
