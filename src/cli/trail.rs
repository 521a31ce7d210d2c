//! The trail options shared by `usage`, `diff`, `audit` and `generate` (`--trail`, `--since`,
//! `--until`), and the replay that turns them into a [`Usage`].

use std::io::IsTerminal;

use iamfit_aws::athena::AthenaTrail;
use iamfit_aws::sources::{LookupTrail, S3Trail};
use iamfit_core::source::{replay as replay_sources, LogFiles, Recording, UsageQuery, UsageSource};
use iamfit_trail::athena::{build_query, AthenaTable, Partitioning};
use iamfit_trail::read;
use iamfit_trail::{PrincipalFilter, TimeWindow};

pub use iamfit_core::source::Replay;

use super::output::emit;
use super::source::{live_options, source_error};
use super::{CliError, GlobalArgs, Style};

/// `--trail`, `--since`, `--until`.
#[derive(Debug, Clone, clap::Args)]
pub struct TrailArgs {
    /// CloudTrail source (repeatable): a file or folder, s3://BUCKET[/PREFIX], `lookup`,
    /// athena://WORKGROUP/DATABASE.TABLE[?output=s3://BUCKET/PREFIX], or a recording of
    /// `iamfit exec --record` (detected by content).
    #[arg(long = "trail", value_name = "SRC")]
    pub trails: Vec<String>,
    /// Print the SQL of the `athena://` sources on stdout instead of running it.
    #[arg(long)]
    pub print_sql: bool,
    /// Stop an Athena query that scans more than this many GB (the result is then partial).
    #[arg(long, value_name = "N")]
    pub max_scan_gb: Option<f64>,
    /// Start of the window: RFC 3339 time or a duration back from now (90d, 12h). Default: 90d.
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// End of the window: RFC 3339 time or a duration back from now. Default: now.
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
}

/// The window from `--since`/`--until` (`--since` defaults to 90 days unless `unbounded_default`).
pub fn window(args: &TrailArgs, unbounded_default: bool) -> Result<TimeWindow, CliError> {
    let default_since = if unbounded_default { None } else { Some("90d") };
    iamfit_trail::window::window(
        args.since.as_deref(),
        args.until.as_deref(),
        default_since,
        time::OffsetDateTime::now_utc(),
    )
    .map_err(|e| CliError::usage(e.to_string()))
}

/// Whether a `--trail` is a recording of `exec --record` (by the file's content).
pub fn is_recording(src: &str) -> bool {
    src != "lookup"
        && !src.starts_with("s3://")
        && !src.starts_with("athena://")
        && Recording::detect(std::path::Path::new(src))
}

/// The usage sources `--trail` names (a path, `s3://...`, `lookup`, `athena://...`, or a recording).
fn usage_sources(
    args: &TrailArgs,
    trails: &[String],
    global: &GlobalArgs,
) -> Result<Vec<Box<dyn UsageSource>>, CliError> {
    trails
        .iter()
        .map(|src| -> Result<Box<dyn UsageSource>, CliError> {
            Ok(if src == "lookup" {
                Box::new(LookupTrail::new(live_options(global)))
            } else if src.starts_with("athena://") {
                let table = AthenaTable::parse(src).map_err(|e| CliError::usage(e.to_string()))?;
                Box::new(AthenaTrail::new(table, live_options(global), args.max_scan_gb))
            } else if let Some(s3) = S3Trail::parse(src, live_options(global)) {
                Box::new(s3)
            } else if is_recording(src) {
                Box::new(Recording::new(src))
            } else {
                Box::new(LogFiles::new(src))
            })
        })
        .collect()
}

/// `--print-sql`: the query of every `athena://` source, on stdout, instead of running it. The
/// partitioning is the URL's `partition=` (default `timestamp`, AWS's documented projection table).
fn print_sql(trails: &[String], filter: &PrincipalFilter, window: &TimeWindow) -> Result<(), CliError> {
    let today = iamfit_trail::window::format_utc(time::OffsetDateTime::now_utc());
    let mut printed = false;
    for src in trails.iter().filter(|s| s.starts_with("athena://")) {
        let table = AthenaTable::parse(src).map_err(|e| CliError::usage(e.to_string()))?;
        let partitioning = table.partitioning.clone().unwrap_or(Partitioning::Projection("timestamp".into()));
        emit(&build_query(&table, filter, window, &partitioning, today.get(..10).unwrap_or_default()))?;
        printed = true;
    }
    if printed {
        Ok(())
    } else {
        Err(CliError::usage(
            "--print-sql prints the query of an Athena source: add --trail athena://WORKGROUP/DATABASE.TABLE",
        ))
    }
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
            _ => {
                // No trail to read; a bad --since/--until is still an error, not silently ignored.
                window(args, false)?;
                return Ok(None);
            }
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
    if args.print_sql {
        print_sql(&sources, filter, &window)?;
        return Err(CliError::done());
    }
    let query = UsageQuery { filter, window: &window, account, threads, progress: Some(&progress) };
    let sources = usage_sources(args, &sources, global)?;
    let mut replayed = replay_sources(&sources, &query).map_err(source_error)?;
    if show_progress {
        eprintln!();
    }
    if default_snapshot_trail {
        replayed.notes.insert(
            0,
            format!(
                "usage from the snapshot's CloudTrail ({}), whole (pass --since to narrow)",
                sources.first().map(|s| s.name()).unwrap_or_default()
            ),
        );
    }
    let failed = &replayed.failed;
    for (path, reason) in failed.iter().take(20) {
        style.warn(&format!("{path}: {reason}"));
    }
    if failed.len() > 20 {
        style.warn(&format!("... and {} more files could not be read", failed.len() - 20));
    }
    Ok(Some(replayed))
}
