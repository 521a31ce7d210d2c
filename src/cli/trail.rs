//! The trail options shared by `usage`, `diff`, `audit` and `generate` (`--trail`, `--since`,
//! `--until`), and the replay that turns them into a [`Usage`].

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use iamfit::catalog::Catalog;
use iamfit::trail::read::{self, Collector, ReadOptions, ReadStats};
use iamfit::trail::s3::{self, Narrowing, S3Location};
use iamfit::trail::usage::Usage;
use iamfit::trail::{lookup, Event, PrincipalFilter, TimeWindow};

use super::source::{live_error, live_options, runtime};
use super::{CliError, GlobalArgs, Style};

/// `--trail`, `--since`, `--until`.
#[derive(Debug, Clone, clap::Args)]
pub struct TrailArgs {
    /// CloudTrail source (repeatable): a file or folder, s3://BUCKET[/PREFIX], or `lookup`.
    #[arg(long = "trail", value_name = "SRC")]
    pub trails: Vec<String>,
    /// Start of the window: RFC 3339 time or a duration back from now (90d, 12h). Default: 90d.
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// End of the window: RFC 3339 time or a duration back from now. Default: now.
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
}

/// Collects usage from parsed records on reader threads.
#[derive(Default)]
struct UsageCollector(Usage);

impl Collector for UsageCollector {
    fn record(&mut self, event: &Event<'_>, _raw: &str) {
        self.0.record(event, Catalog::get());
    }
    fn merge(&mut self, other: Self) {
        self.0.merge(other.0);
    }
}

/// The result of replaying the trails.
pub struct Replay {
    /// What the principal did.
    pub usage: Usage,
    /// Records read in all (`events.read`).
    pub records: u64,
    /// Records that could not be parsed.
    pub malformed: u64,
    /// Files that could not be read, with the reason.
    pub failed: Vec<(String, String)>,
    /// Notes for the user (sources, management-events-only, ...).
    pub notes: Vec<String>,
    /// The window used.
    pub window: TimeWindow,
}

impl Replay {
    /// Whether something could not be read.
    pub fn partial(&self) -> bool {
        !self.failed.is_empty() || self.malformed > 0
    }
}

/// Parses WHEN: an RFC 3339 time, or a duration back from now (`90d`, `12h`, `30m`, `2w`).
pub fn parse_when(text: &str, now: time::OffsetDateTime) -> Result<String, CliError> {
    use time::format_description::well_known::Rfc3339;
    let t = text.trim();
    let unit = t.chars().last().unwrap_or(' ');
    if let (Some(n), true) = (t[..t.len().saturating_sub(1)].parse::<i64>().ok(), "smhdw".contains(unit)) {
        let secs = n * match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => 604_800,
        };
        return Ok(format_utc(now - time::Duration::seconds(secs)));
    }
    time::OffsetDateTime::parse(t, &Rfc3339).map(format_utc).map_err(|_| {
        CliError::usage(format!(
            "{text:?} is not a time: use RFC 3339 (2026-11-01T00:00:00Z) or a duration such as 90d or 12h"
        ))
    })
}

/// `2026-11-01T10:00:00Z`: the form CloudTrail writes, so that text order is time order.
fn format_utc(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The window from `--since`/`--until` (`--since` defaults to 90 days unless `unbounded_default`).
pub fn window(args: &TrailArgs, unbounded_default: bool) -> Result<TimeWindow, CliError> {
    let now = time::OffsetDateTime::now_utc();
    let since = match &args.since {
        Some(s) => Some(parse_when(s, now)?),
        None if unbounded_default => None,
        None => Some(parse_when("90d", now)?),
    };
    let until = args.until.as_deref().map(|u| parse_when(u, now)).transpose()?;
    Ok(TimeWindow { since, until })
}

/// Replays the trails for a principal. `None` when there is no trail to read (live without `--trail`).
pub fn replay(
    args: &TrailArgs,
    global: &GlobalArgs,
    filter: &PrincipalFilter,
    account: Option<&str>,
    style: &Style,
) -> Result<Option<Replay>, CliError> {
    let mut sources = args.trails.clone();
    let mut default_snapshot_trail = false;
    if sources.is_empty() {
        match &global.snapshot {
            Some(dir) if dir.join("cloudtrail").is_dir() => {
                sources.push(dir.join("cloudtrail").display().to_string());
                default_snapshot_trail = true;
            }
            _ => return Ok(None),
        }
    }
    // A snapshot's own trail is a frozen record: without --since it is read whole.
    let window = window(args, default_snapshot_trail)?;
    // IAMFIT_THREADS caps the reader threads (benchmarks); the default is one per core.
    let threads = std::env::var("IAMFIT_THREADS")
        .ok()
        .and_then(|t| t.parse::<usize>().ok())
        .filter(|t| *t > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let show_progress = std::io::stderr().is_terminal() && !global.quiet;
    let progress = |p: &read::Progress| {
        if show_progress {
            let rate = p.records as f64 / p.elapsed.as_secs_f64().max(0.001);
            let left = if p.files_done > 0 && p.files_total > p.files_done {
                let per_file = p.elapsed.as_secs_f64() / p.files_done as f64;
                format!(", about {:.0} s left", per_file * (p.files_total - p.files_done) as f64)
            } else {
                String::new()
            };
            eprint!(
                "\r\x1b[2Kreading CloudTrail: {}/{} files, {} events ({:.0} events/s{left})",
                p.files_done, p.files_total, p.records, rate
            );
        }
    };
    let opts = ReadOptions { filter, window: &window, threads, progress: Some(&progress) };
    let mut usage = Usage::default();
    let mut stats = ReadStats::default();
    let mut notes = Vec::new();
    let mut failed: Vec<(String, String)> = Vec::new();
    for src in &sources {
        if src == "lookup" {
            notes.push("the lookup source (CloudTrail LookupEvents) holds management events only: data events (S3 objects, DynamoDB items, Lambda invokes, ...) are not in it".into());
            let username = match filter {
                PrincipalFilter::Role { session: Some(s), .. } => Some(s.clone()),
                PrincipalFilter::User { arn } => arn.rsplit('/').next().map(str::to_string),
                _ => None,
            };
            let rt = runtime()?;
            let collected = Mutex::new(UsageCollector::default());
            let counts = Mutex::new((0u64, 0u64, 0u64));
            let result = rt.block_on(async {
                let opts_live = live_options(global);
                let config = iamfit::account::live::sdk_config(&opts_live).await?;
                lookup::lookup_events(
                    &config,
                    window.since.as_deref(),
                    window.until.as_deref(),
                    username.as_deref(),
                    |json| {
                        let mut c = counts.lock().unwrap_or_else(|e| e.into_inner());
                        c.0 += 1;
                        match serde_json::from_str::<Event>(json) {
                            Ok(e) if e.event_source.is_some() && e.event_name.is_some() => {
                                if filter.matches(&e)
                                    && e.event_time.as_deref().is_none_or(|t| window.contains(t))
                                {
                                    c.1 += 1;
                                    collected.lock().unwrap_or_else(|e| e.into_inner()).record(&e, json);
                                }
                            }
                            _ => c.2 += 1,
                        }
                    },
                )
                .await
            });
            result.map_err(live_error)?;
            let (read, _matched, malformed) = *counts.lock().unwrap_or_else(|e| e.into_inner());
            stats.records += read;
            stats.malformed += malformed;
            usage.merge(collected.into_inner().unwrap_or_else(|e| e.into_inner()).0);
        } else if let Some(loc) = S3Location::parse(src) {
            let rt = runtime()?;
            let days = match (&window.since, &window.until) {
                (Some(s), u) => s3::days_between(
                    s,
                    u.as_deref().unwrap_or(&format_utc(time::OffsetDateTime::now_utc())),
                    400,
                ),
                _ => Vec::new(),
            };
            let narrowing =
                Narrowing { accounts: account.map(|a| vec![a.to_string()]).unwrap_or_default(), days };
            let shared = Arc::new(Mutex::new((UsageCollector::default(), ReadStats::default())));
            let sink = shared.clone();
            let filter_owned = filter.clone();
            let window_owned = window.clone();
            let result = rt.block_on(async {
                let opts_live = live_options(global);
                let config = iamfit::account::live::sdk_config(&opts_live).await?;
                let s3conf = aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build();
                let client = aws_sdk_s3::Client::from_conf(s3conf);
                let keys = s3::list_log_keys(&client, &loc, &narrowing).await?;
                let consume = Arc::new(move |name: &str, bytes: &[u8]| {
                    let opts = ReadOptions {
                        filter: &filter_owned,
                        window: &window_owned,
                        threads: 1,
                        progress: None,
                    };
                    let mut local = UsageCollector::default();
                    let mut local_stats = ReadStats::default();
                    read::read_bytes(name, bytes, &opts, &mut local, &mut local_stats);
                    let mut guard = sink.lock().unwrap_or_else(|e| e.into_inner());
                    guard.0.merge(local);
                    guard.1.merge(local_stats);
                });
                let failures = s3::fetch_all(
                    &client,
                    &loc.bucket,
                    keys.into_iter().map(|(k, _)| k).collect(),
                    16,
                    consume,
                )
                .await;
                Ok::<_, iamfit::account::live::LiveError>(failures)
            });
            let failures = result.map_err(live_error)?;
            failed.extend(failures);
            let (collected, s3_stats) = Arc::try_unwrap(shared)
                .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
                .unwrap_or_default();
            usage.merge(collected.0);
            stats.merge(s3_stats);
            notes.push(format!("read {src}"));
        } else {
            let path = PathBuf::from(src);
            let files = read::find_log_files(&path).map_err(|e| {
                CliError::usage(format!("--trail {src}: {e}"))
                    .with_hint("give a CloudTrail log file, a folder of them, s3://BUCKET/PREFIX, or lookup")
            })?;
            let (collected, file_stats): (UsageCollector, ReadStats) = read::read_files(&files, &opts);
            if show_progress {
                eprintln!();
            }
            usage.merge(collected.0);
            stats.merge(file_stats);
        }
    }
    failed.extend(stats.failed.iter().map(|f| (f.path.clone(), f.reason.clone())));
    if default_snapshot_trail {
        notes.push(format!(
            "usage from the snapshot's CloudTrail ({}), whole (pass --since to narrow)",
            sources[0]
        ));
    }
    if let Some(s) = &window.since {
        notes.push(format!("window: {} to {}", s, window.until.as_deref().unwrap_or("now")));
    }
    for (path, reason) in failed.iter().take(20) {
        style.warn(&format!("{path}: {reason}"));
    }
    if failed.len() > 20 {
        style.warn(&format!("... and {} more files could not be read", failed.len() - 20));
    }
    Ok(Some(Replay { usage, records: stats.records, malformed: stats.malformed, failed, notes, window }))
}
