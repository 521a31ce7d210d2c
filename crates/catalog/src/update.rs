//! `iamfit catalog update`: downloads AWS's Service Reference Information, merges it into the
//! embedded catalog (rule: [`super::model`]), and stores the result in the cache folder, where
//! [`super::Catalog::get`] finds it.
//!
//! The update always starts from the embedded catalog (not from an earlier update), so repeated updates
//! do not accumulate entries AWS has removed. Nothing is half-written: the new file is written into a
//! temporary folder inside the cache folder, parsed back to check it, and renamed into place.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

use super::model::{MergeStats, Model};
use super::{Catalog, CatalogError, CACHE_FILE};

/// AWS's Service Reference endpoint (the index of services).
pub const DEFAULT_URL: &str = "https://servicereference.us-east-1.amazonaws.com/";

/// Environment variable overriding [`DEFAULT_URL`].
pub const URL_ENV: &str = "IAMFIT_SERVICE_REFERENCE_URL";

/// Options of [`update`].
#[derive(Debug, Clone)]
pub struct UpdateOptions {
    /// The base URL: its root is the JSON index `[{"service", "url"}]`.
    pub url: String,
    /// The folder to write `catalog.txt` into.
    pub cache_dir: PathBuf,
    /// Concurrent downloads.
    pub threads: usize,
    /// Attempts per document (retries with exponential backoff on 5xx, 429 and transport errors).
    pub attempts: u32,
    /// Delay before the first retry (doubles each time).
    pub backoff: Duration,
    /// Timeout of each request.
    pub timeout: Duration,
}

impl UpdateOptions {
    /// Defaults: the URL from `IAMFIT_SERVICE_REFERENCE_URL` or AWS's, the cache folder of
    /// [`super::cache_dir`], 6 threads, 4 attempts from 250 ms, 60 s timeout.
    pub fn from_env() -> Result<Self, CatalogError> {
        Ok(UpdateOptions {
            url: std::env::var(URL_ENV).ok().filter(|u| !u.is_empty()).unwrap_or_else(|| DEFAULT_URL.into()),
            cache_dir: super::cache_dir().ok_or(CatalogError::NoCacheDir)?,
            threads: 6,
            attempts: 4,
            backoff: Duration::from_millis(250),
            timeout: Duration::from_secs(60),
        })
    }
}

/// What an update did.
#[derive(Debug)]
pub struct UpdateSummary {
    /// The file written.
    pub path: PathBuf,
    /// Service documents downloaded.
    pub services_downloaded: usize,
    /// Services and actions (and counts) that the embedded catalog did not have.
    pub added: MergeStats,
    /// Services in the updated catalog.
    pub service_count: usize,
    /// Actions in the updated catalog.
    pub action_count: usize,
    /// The updated catalog, parsed.
    pub catalog: Catalog,
}

/// Progress events of [`update`].
#[derive(Debug, Clone, Copy)]
pub enum Progress<'a> {
    /// The index lists this many services.
    Index(usize),
    /// A service document was downloaded (done so far, total, service).
    Service(usize, usize, &'a str),
    /// A request is retried after an error.
    Retry(&'a str, &'a str),
}

/// Downloads the Service Reference, merges it into the embedded catalog and writes the cache file.
pub fn update(
    opts: &UpdateOptions,
    progress: &(dyn Fn(Progress<'_>) + Sync),
) -> Result<UpdateSummary, CatalogError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(opts.timeout))
        .http_status_as_error(false)
        .user_agent(concat!("iamfit/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let base = if opts.url.ends_with('/') { opts.url.clone() } else { format!("{}/", opts.url) };

    let index_text = fetch(&agent, &base, opts, progress)?;
    let entries = parse_index(&base, &index_text)?;
    progress(Progress::Index(entries.len()));

    // Download concurrently; stop at the first failure.
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Mutex<Vec<Option<Result<Value, CatalogError>>>> =
        Mutex::new((0..entries.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..opts.threads.clamp(1, 32) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= entries.len() || failed.load(Ordering::SeqCst) {
                    break;
                }
                let (service, url) = &entries[i];
                let result = fetch(&agent, url, opts, progress).and_then(|text| {
                    serde_json::from_str::<Value>(&text)
                        .map_err(|e| CatalogError::BadDocument { url: url.clone(), message: e.to_string() })
                        .and_then(|v| {
                            if v.is_object() {
                                Ok(v)
                            } else {
                                Err(CatalogError::BadDocument {
                                    url: url.clone(),
                                    message: "not a JSON object".into(),
                                })
                            }
                        })
                });
                if result.is_err() {
                    failed.store(true, Ordering::SeqCst);
                }
                let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                progress(Progress::Service(n, entries.len(), service));
                if let Ok(mut r) = results.lock() {
                    r[i] = Some(result);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());

    let mut model = Model::from_catalog(Catalog::embedded());
    let mut stats = MergeStats::default();
    let mut downloaded = 0;
    for ((service, _), result) in entries.iter().zip(results) {
        match result {
            Some(Ok(doc)) => {
                model.merge_service_reference(service, &doc, &mut stats);
                downloaded += 1;
            }
            Some(Err(e)) => return Err(e),
            None => {}
        }
    }
    if failed.load(Ordering::SeqCst) || downloaded != entries.len() {
        return Err(CatalogError::Download {
            url: base,
            message: "some service documents were not downloaded".into(),
        });
    }

    let id = format!("update-{}", unix_time());
    let text = model.write(&id, Some(Catalog::embedded().id()));
    let path = write_atomically(&opts.cache_dir, &text)?;
    let catalog = Catalog::parse_owned(text).map_err(|e| CatalogError::BadDocument {
        url: base.clone(),
        message: format!("the merged catalog does not parse: {e}"),
    });
    let catalog = match catalog {
        Ok(c) => c,
        Err(e) => {
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
    };
    Ok(UpdateSummary {
        path,
        services_downloaded: downloaded,
        service_count: model.service_count(),
        action_count: model.action_count(),
        added: stats,
        catalog,
    })
}

fn unix_time() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Parses the index `[{"service": "s3", "url": "..."}]` into (service, absolute URL), sorted by service.
/// URLs on AWS's host are rebased onto `base` when another base is used (mirrors, tests); relative URLs
/// are resolved against `base`.
fn parse_index(base: &str, text: &str) -> Result<Vec<(String, String)>, CatalogError> {
    let bad = |message: String| CatalogError::BadDocument { url: base.to_string(), message };
    let value: Value = serde_json::from_str(text).map_err(|e| bad(format!("the index is not JSON: {e}")))?;
    let items = value.as_array().ok_or_else(|| bad("the index is not a JSON array".into()))?;
    let mut out = Vec::new();
    for item in items {
        let (Some(service), Some(url)) =
            (item.get("service").and_then(Value::as_str), item.get("url").and_then(Value::as_str))
        else {
            return Err(bad("an index entry lacks `service` or `url`".into()));
        };
        if service.is_empty()
            || !service
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        {
            return Err(bad(format!("bad service name `{service}` in the index")));
        }
        let url = if let Some(rest) = url.strip_prefix(DEFAULT_URL) {
            format!("{base}{rest}")
        } else if url.starts_with("http://") || url.starts_with("https://") {
            url.to_string()
        } else {
            format!("{base}{}", url.trim_start_matches('/'))
        };
        out.push((service.to_string(), url));
    }
    if out.is_empty() {
        return Err(bad("the index lists no services".into()));
    }
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0);
    Ok(out)
}

/// GET with retries on 5xx, 429 and transport errors.
fn fetch(
    agent: &ureq::Agent,
    url: &str,
    opts: &UpdateOptions,
    progress: &(dyn Fn(Progress<'_>) + Sync),
) -> Result<String, CatalogError> {
    let mut delay = opts.backoff;
    let attempts = opts.attempts.max(1);
    for attempt in 1..=attempts {
        let (retryable, message) = match agent.get(url).call() {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                if resp.status().is_success() {
                    match resp.body_mut().with_config().limit(64 << 20).read_to_string() {
                        Ok(text) => return Ok(text),
                        Err(e) => (true, format!("reading the body: {e}")),
                    }
                } else {
                    (status == 429 || status >= 500, format!("HTTP status {status}"))
                }
            }
            Err(e) => (true, e.to_string()),
        };
        if !retryable || attempt == attempts {
            let message = if attempt > 1 { format!("{message} (after {attempt} attempts)") } else { message };
            return Err(CatalogError::Download { url: url.to_string(), message });
        }
        progress(Progress::Retry(url, &message));
        std::thread::sleep(delay);
        delay *= 2;
    }
    Err(CatalogError::Download { url: url.to_string(), message: "no attempt made".into() })
}

/// Writes `catalog.txt` into `dir` through a temporary folder and an atomic rename.
fn write_atomically(dir: &Path, text: &str) -> Result<PathBuf, CatalogError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CatalogError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let tmp = dir.join(format!(".update-{}-{}", std::process::id(), unix_time()));
    std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    let tmp_file = tmp.join(CACHE_FILE);
    let final_path = dir.join(CACHE_FILE);
    let result = (|| {
        std::fs::write(&tmp_file, text).map_err(io(&tmp_file))?;
        std::fs::rename(&tmp_file, &final_path).map_err(io(&final_path))
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    result.map(|()| final_path)
}
