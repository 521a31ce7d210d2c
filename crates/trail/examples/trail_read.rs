//! Reads a CloudTrail trail with iamfit's reader and prints what it read: the benchmark's stand-in
//! for `iamfit usage` (see `scripts/bench-trail`).
//!
//! ```text
//! cargo run --release --example trail_read -- PATH [--role ARN[/SESSION]] [--since T] [--until T] [--threads N] [--map]
//! ```
//!
//! With `--map`, every matching record is also mapped to its IAM actions (`iamfit usage`'s aggregate)
//! instead of only counted: the cost of the mapping.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::string_slice, missing_docs)]

use std::path::PathBuf;
use std::time::Instant;

use iamfit_catalog::Catalog;
use iamfit_trail::read::{find_log_files, read_files, Collector, Count, ReadOptions};
use iamfit_trail::usage::Usage;
use iamfit_trail::{Event, PrincipalFilter, TimeWindow};

/// Maps every record, as `iamfit usage` does.
#[derive(Default)]
struct Mapped(Usage);

impl Collector for Mapped {
    fn record(&mut self, event: &Event<'_>, _: &str) {
        self.0.record(event, Catalog::get());
    }
    fn merge(&mut self, other: Self) {
        self.0.merge(other.0);
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut path = None;
    let mut filter = PrincipalFilter::Any;
    let mut window = TimeWindow::default();
    let mut threads = 0;
    let mut map = false;
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| fail(&format!("{a} needs a value")));
        match a.as_str() {
            "--role" => {
                // arn:aws:iam::ACCOUNT:role[/path]/NAME, optionally followed by #SESSION
                let v = value();
                let (arn, session) = match v.split_once('#') {
                    Some((a, s)) => (a.to_string(), Some(s.to_string())),
                    None => (v, None),
                };
                let name = arn.rsplit('/').next().unwrap_or_default().to_string();
                filter = PrincipalFilter::Role { arn, name, session };
            }
            "--since" => window.since = Some(value()),
            "--until" => window.until = Some(value()),
            "--threads" => threads = value().parse().unwrap_or_else(|_| fail("--threads takes a number")),
            "--map" => map = true,
            _ if path.is_none() => path = Some(PathBuf::from(a)),
            _ => fail(&format!("unexpected argument {a}")),
        }
    }
    let path = path.unwrap_or_else(|| {
        fail("usage: trail_read PATH [--role ARN[#SESSION]] [--since T] [--until T] [--threads N] [--map]")
    });
    let start = Instant::now();
    let files = find_log_files(&path).unwrap_or_else(|e| fail(&e.to_string()));
    let opts = ReadOptions { filter: &filter, window: &window, threads, progress: None };
    let (collected, mapped, stats) = if map {
        let (m, stats): (Mapped, _) = read_files(&files, &opts);
        let u = m.0;
        let unmapped: Vec<String> = u.unmapped.iter().map(|((s, n), c)| format!("{s} {n} x{c}")).collect();
        let summary = format!(
            "mapped: {} actions, {} permissionless, {} non-API; unmapped: {unmapped:?}",
            u.actions.len(),
            u.permissionless,
            u.non_api
        );
        (u.matched, Some(summary), stats)
    } else {
        let (count, stats): (Count, _) = read_files(&files, &opts);
        (count.0, None, stats)
    };
    let secs = start.elapsed().as_secs_f64();
    println!(
        "files read {} skipped {} failed {}; records {} matched {} (collected {}) malformed {}; {:.1} MB in, {:.1} MB decompressed; {:.3} s, {:.0} MB/s decompressed",
        stats.files_read,
        stats.files_skipped,
        stats.failed.len(),
        stats.records,
        stats.matched,
        collected,
        stats.malformed,
        stats.bytes_in as f64 / 1e6,
        stats.bytes_decompressed as f64 / 1e6,
        secs,
        stats.bytes_decompressed as f64 / 1e6 / secs,
    );
    if let Some(m) = mapped {
        println!("{m}");
    }
    for p in &stats.failed {
        eprintln!("failed: {}: {}", p.path, p.reason);
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("trail_read: {msg}");
    std::process::exit(2)
}
