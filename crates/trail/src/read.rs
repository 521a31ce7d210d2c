//! Reading CloudTrail log files fast: discovery of the files in a folder (the S3 delivery layout),
//! then a parallel, memory-bounded pass over them.
//!
//! Each worker takes the next file from a shared queue, reads it into a reused buffer, inflates it
//! (zlib-rs) into a second reused buffer, and hands the text to the structural splitter
//! ([`super::split`]), which finds the records of the `Records` array without parsing them. Every
//! record is counted; only the records whose text contains the principal's marker
//! ([`PrincipalFilter::marker`]) are parsed with serde and, when they match the principal and the
//! time window, given to the worker's [`Collector`]. Collectors are merged when every file is done.
//!
//! Damaged input never stops the run: a file that cannot be read, inflated or recognised is listed in
//! [`ReadStats::failed`] with the reason (the complete records before the damage still count), and a
//! record that cannot be parsed counts in [`ReadStats::malformed`].

use std::borrow::Cow;
use std::collections::HashSet;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use memchr::memmem;
use serde::Deserialize;

use super::event::{Event, PrincipalFilter, TimeWindow};
use super::split::{self, Element, Shape, ShapeError, SplitError};

/// The most text held at once: a gzip file larger than this, a record longer than this, or this much
/// text before a `Records` array is reported as failed rather than allowed to exhaust memory.
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// How often [`ReadOptions::progress`] is called.
pub const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// Receives the matching records of a run. Each worker has its own (from `Default`); they are merged
/// at the end in a fixed order.
pub trait Collector: Send + Default {
    /// One record that matched the principal and the time window, parsed and as raw JSON text.
    fn record(&mut self, event: &Event<'_>, raw: &str);
    /// Adds another worker's collector to this one.
    fn merge(&mut self, other: Self);
}

/// A collector that only counts (benchmarks, `--dry-run` style checks).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Count(pub u64);

impl Collector for Count {
    fn record(&mut self, _: &Event<'_>, _: &str) {
        self.0 += 1;
    }
    fn merge(&mut self, other: Self) {
        self.0 += other.0;
    }
}

/// What to read and how.
#[derive(Clone, Copy)]
pub struct ReadOptions<'a> {
    /// Whose records to collect.
    pub filter: &'a PrincipalFilter,
    /// Which event times to collect.
    pub window: &'a TimeWindow,
    /// Worker threads; 0 means one per available core.
    pub threads: usize,
    /// Called about every [`PROGRESS_INTERVAL`] while reading, and once at the end.
    pub progress: Option<&'a (dyn Fn(&Progress) + Sync)>,
}

/// A progress report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// Files finished (read, failed or skipped).
    pub files_done: usize,
    /// Files in the run.
    pub files_total: usize,
    /// Records read so far.
    pub records: u64,
    /// Bytes of input read so far (compressed where the files are).
    pub bytes_in: u64,
    /// Time since the run started.
    pub elapsed: Duration,
}

/// A file that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem {
    /// The path (or S3 URL, or name given to [`read_bytes`]).
    pub path: String,
    /// Why, for people.
    pub reason: String,
}

/// What a run read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Files read (including those that failed part-way).
    pub files_read: usize,
    /// Files not read: digests, other kinds of files, files dated outside the time window.
    pub files_skipped: usize,
    /// Files that could not be read, inflated or recognised, sorted by path.
    pub failed: Vec<FileProblem>,
    /// Records read (`events.read`).
    pub records: u64,
    /// Records of the principal inside the time window (`events.matched`).
    pub matched: u64,
    /// Records that could not be parsed or lack `eventSource`/`eventName` (`events.malformed`). Only
    /// records that contain the principal's marker are parsed, so damage elsewhere goes unseen.
    pub malformed: u64,
    /// Bytes read from the files.
    pub bytes_in: u64,
    /// Bytes of JSON text after decompression.
    pub bytes_decompressed: u64,
}

impl ReadStats {
    /// Adds another run's figures to these.
    pub fn merge(&mut self, other: ReadStats) {
        self.files_read += other.files_read;
        self.files_skipped += other.files_skipped;
        self.failed.extend(other.failed);
        self.failed.sort_by(|a, b| a.path.cmp(&b.path));
        self.records += other.records;
        self.matched += other.matched;
        self.malformed += other.malformed;
        self.bytes_in += other.bytes_in;
        self.bytes_decompressed += other.bytes_decompressed;
    }

    fn fail(&mut self, path: &str, reason: impl Into<String>) {
        self.failed.push(FileProblem { path: path.to_string(), reason: reason.into() });
    }
}

/// A file found by [`find_log_files`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its size in bytes (0 when unknown).
    pub size: u64,
    /// The delivery date from the S3 layout's `YYYY/MM/DD` folders, when the path has them.
    pub date: Option<(u16, u8, u8)>,
    /// Why the file will not be read (a digest file, not JSON), or `None` for a log file.
    pub skip: Option<&'static str>,
}

impl LogFile {
    /// A log file at `path`, with the date taken from the path.
    pub fn new(path: impl Into<PathBuf>) -> LogFile {
        let path = path.into();
        let date = path_date(&path);
        LogFile { path, size: 0, date, skip: None }
    }

    /// Whether the date from the path puts every record of the file more than a day outside the
    /// window (CloudTrail files hold events of the minutes before delivery).
    pub fn outside(&self, window: &TimeWindow) -> bool {
        let Some((y, m, d)) = self.date else { return false };
        let day = days_from_civil(y as i64, m as i64, d as i64);
        let bound = |t: &Option<String>| t.as_deref().and_then(text_day);
        bound(&window.since).is_some_and(|s| day < s - 1) || bound(&window.until).is_some_and(|u| day > u + 1)
    }
}

/// Why discovery failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The path does not exist.
    #[error("{0}: no such file or folder")]
    NotFound(PathBuf),
    /// The path (or a folder under it) cannot be read.
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// The CloudTrail log files at `path`: the file itself (whatever its name), or the `.json` and
/// `.json.gz` files of a folder searched recursively (following symbolic links, once each). Digest
/// files and other files are listed with [`LogFile::skip`] set, so that a run counts them as
/// skipped. Sorted by path.
pub fn find_log_files(path: &Path) -> Result<Vec<LogFile>, ReadError> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ReadError::NotFound(path.to_path_buf()))
        }
        Err(e) => return Err(ReadError::Io(path.to_path_buf(), e)),
    };
    if !meta.is_dir() {
        let mut f = LogFile::new(path);
        f.size = meta.len();
        return Ok(vec![f]);
    }
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    walk(path, false, &mut seen, &mut out)?;
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn walk(
    dir: &Path,
    digest: bool,
    seen: &mut HashSet<PathBuf>,
    out: &mut Vec<LogFile>,
) -> Result<(), ReadError> {
    let top = seen.is_empty();
    let listed = fs::canonicalize(dir).and_then(|c| Ok((c, fs::read_dir(dir)?)));
    let entries = match listed {
        Ok((canonical, entries)) => {
            if !seen.insert(canonical) {
                return Ok(());
            }
            entries
        }
        Err(e) if top => return Err(ReadError::Io(dir.to_path_buf(), e)),
        Err(_) => {
            // An unreadable folder inside the trail: listed, so that the run reports it as failed.
            out.push(LogFile::new(dir));
            return Ok(());
        }
    };
    for entry in entries {
        let Ok(entry) = entry else { continue };
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // Follow symbolic links; a dangling one is listed as a file (reading it will fail and say so).
        let meta = fs::metadata(&path).ok();
        if meta.as_ref().is_some_and(|m| m.is_dir()) {
            walk(&path, digest || name == "CloudTrail-Digest", seen, out)?;
            continue;
        }
        let mut f = LogFile::new(path);
        f.size = meta.map_or(0, |m| m.len());
        f.skip = if digest || name.contains("CloudTrail-Digest") {
            Some("CloudTrail digest file")
        } else if !(name.ends_with(".json") || name.ends_with(".json.gz")) {
            Some("not a .json or .json.gz file")
        } else {
            None
        };
        out.push(f);
    }
    Ok(())
}

/// `YYYY/MM/DD` from the folders of a path (the last such run of components).
fn path_date(path: &Path) -> Option<(u16, u8, u8)> {
    let parts: Vec<&str> = path.parent()?.iter().filter_map(|c| c.to_str()).collect();
    parts.windows(3).rev().find_map(|w| {
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        if !(digits(w[0], 4) && digits(w[1], 2) && digits(w[2], 2)) {
            return None;
        }
        let (y, m, d) = (w[0].parse().ok()?, w[1].parse().ok()?, w[2].parse().ok()?);
        ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some((y, m, d))
    })
}

/// The day number of the `YYYY-MM-DD` that starts an RFC 3339 time.
fn text_day(t: &str) -> Option<i64> {
    let b = t.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (t.get(0..4)?.parse().ok()?, t.get(5..7)?.parse().ok()?, t.get(8..10)?.parse().ok()?);
    Some(days_from_civil(y, m, d))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// What every worker shares: the filter, the window and the marker searcher.
struct Matcher<'a> {
    filter: &'a PrincipalFilter,
    window: &'a TimeWindow,
    marker: Option<memmem::Finder<'static>>,
}

impl<'a> Matcher<'a> {
    fn new(opts: &ReadOptions<'a>) -> Matcher<'a> {
        let marker = opts.filter.marker().map(|m| memmem::Finder::new(m.as_bytes()).into_owned());
        Matcher { filter: opts.filter, window: opts.window, marker }
    }

    /// Parses one candidate record and hands it to the collector when it matches.
    #[inline]
    fn parse<C: Collector>(&self, raw: &[u8], collector: &mut C, stats: &mut ReadStats) {
        let Ok(text) = std::str::from_utf8(raw) else {
            stats.malformed += 1;
            return;
        };
        match serde_json::from_str::<Event>(text) {
            Ok(e) if e.event_source.is_some() && e.event_name.is_some() => {
                if self.filter.matches(&e) && self.window.contains(e.event_time.as_deref().unwrap_or("")) {
                    stats.matched += 1;
                    collector.record(&e, text);
                }
            }
            _ => stats.malformed += 1,
        }
    }

    /// Reads the records of one decompressed file.
    fn text<C: Collector>(
        &self,
        text: &[u8],
        collector: &mut C,
        stats: &mut ReadStats,
    ) -> Result<(), String> {
        let before = stats.records;
        match split::shape(text) {
            Ok(Shape::Records(open)) => self
                .records(text, open, collector, stats)
                .map_err(|_| truncated_records(stats.records - before)),
            Ok(Shape::LookupEvents(open)) => self.lookup_events(text, open, collector, stats),
            Err(ShapeError::Empty) => Err("empty file".into()),
            Err(ShapeError::Truncated) => {
                Err("truncated JSON: the file ends before its Records array".into())
            }
            Err(ShapeError::Not(reason)) => Err(reason.into()),
        }
    }

    /// Reads the records of the array that opens at `text[open]`. When the text ends inside it, the
    /// complete records are read and the offset where the first incomplete one starts is returned.
    fn records<C: Collector>(
        &self,
        text: &[u8],
        open: usize,
        collector: &mut C,
        stats: &mut ReadStats,
    ) -> Result<(), usize> {
        // The next place the marker occurs at or after the current record (searching once per hit,
        // not once per record); usize::MAX when there is none left.
        // Records start after the array's `[`, so 0 means "not searched yet".
        let mut next_hit = 0usize;
        let result = split::split_array(text, open, true, |el| match el {
            Element::Container(s, e) => {
                stats.records += 1;
                let candidate = match &self.marker {
                    None => true,
                    Some(finder) => {
                        if next_hit < s {
                            next_hit = finder.find(&text[s..]).map_or(usize::MAX, |i| s + i);
                        }
                        next_hit != usize::MAX && next_hit + finder.needle().len() <= e
                    }
                };
                if candidate {
                    self.parse(&text[s..e], collector, stats);
                }
            }
            Element::Other(..) => {
                stats.records += 1;
                stats.malformed += 1;
            }
        });
        match result {
            Ok(_) => Ok(()),
            Err(SplitError::Truncated { at }) => Err(at),
        }
    }

    fn lookup_events<C: Collector>(
        &self,
        text: &[u8],
        open: usize,
        collector: &mut C,
        stats: &mut ReadStats,
    ) -> Result<(), String> {
        #[derive(Deserialize)]
        struct Entry<'a> {
            #[serde(borrow, default, rename = "CloudTrailEvent")]
            event: Option<Cow<'a, str>>,
        }
        let result = split::split_array(text, open, true, |el| {
            stats.records += 1;
            let Element::Container(s, e) = el else {
                stats.malformed += 1;
                return;
            };
            let entry =
                std::str::from_utf8(&text[s..e]).ok().and_then(|t| serde_json::from_str::<Entry>(t).ok());
            let Some(inner) = entry.and_then(|e| e.event) else {
                stats.malformed += 1;
                return;
            };
            let candidate = self.marker.as_ref().is_none_or(|f| f.find(inner.as_bytes()).is_some());
            if candidate {
                self.parse(inner.as_bytes(), collector, stats);
            }
        });
        result.map(|_| ()).map_err(|_| "truncated JSON: the file ends inside its Events array".to_string())
    }
}

fn truncated_records(complete: u64) -> String {
    format!("truncated JSON: the file ends inside its Records array (after {complete} complete records)")
}

/// Decompressed text is handled in windows of this size: a usual CloudTrail file (a few MB) is one
/// window; a larger file is read a window at a time, its complete records handed out and the rest
/// carried over, so that memory stays bounded whatever the file's size.
pub const WINDOW_BYTES: usize = 64 << 20;

/// A source of text that is read a window at a time.
trait Fill {
    /// Appends text to `out` until it holds at least `limit` bytes (`Ok(true)`: more may follow) or
    /// the source ends (`Ok(false)`).
    fn fill(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<bool, String>;
}

/// Gzip members inflated as raw deflate straight into the spare capacity of the output (no zeroing,
/// no copy). Each member's length is checked against its trailer; its CRC-32 is not computed (a
/// second pass over every byte, 10% of the run time): damaged deflate data fails the inflate itself,
/// and the records are parsed as JSON afterwards.
struct Inflater<'a> {
    bytes: &'a [u8],
    pos: usize,
    z: flate2::Decompress,
    in_member: bool,
    produced: u64,
}

impl<'a> Inflater<'a> {
    fn new(bytes: &'a [u8]) -> Inflater<'a> {
        Inflater { bytes, pos: 0, z: flate2::Decompress::new(false), in_member: false, produced: 0 }
    }

    /// The size of the last member from the gzip trailer (mod 4 GiB): the size of a usual file.
    fn size_hint(&self) -> usize {
        match self.bytes.last_chunk::<4>() {
            Some(&size) if self.bytes.len() >= 18 => u32::from_le_bytes(size) as usize,
            _ => 0,
        }
    }

    fn truncated(&self) -> String {
        format!("truncated gzip: the data ends early ({} bytes decompressed)", self.produced)
    }
}

impl Fill for Inflater<'_> {
    fn fill(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<bool, String> {
        loop {
            if !self.in_member {
                // Like gzip, ignore anything after the last member (usually zero padding).
                if !self.bytes[self.pos..].starts_with(&[0x1f, 0x8b]) {
                    return Ok(false);
                }
                self.pos += gzip_header(&self.bytes[self.pos..])
                    .map_err(|e| format!("{e} ({} bytes decompressed)", self.produced))?;
                self.z.reset(false);
                self.in_member = true;
            }
            if out.len() >= limit {
                return Ok(true);
            }
            if out.len() == out.capacity() {
                out.reserve((limit - out.len()).min(out.capacity().max(1 << 20)));
            }
            let (in0, out0) = (self.z.total_in(), out.len());
            let status = self
                .z
                .decompress_vec(&self.bytes[self.pos..], out, flate2::FlushDecompress::None)
                .map_err(|e| format!("corrupt gzip: {e} ({} bytes decompressed)", self.produced))?;
            self.pos += (self.z.total_in() - in0) as usize;
            self.produced += (out.len() - out0) as u64;
            match status {
                flate2::Status::StreamEnd => {
                    let &[_, _, _, _, s0, s1, s2, s3] = self
                        .bytes
                        .get(self.pos..)
                        .and_then(<[u8]>::first_chunk::<8>)
                        .ok_or_else(|| self.truncated())?;
                    if u32::from_le_bytes([s0, s1, s2, s3]) != self.z.total_out() as u32 {
                        return Err(format!(
                            "corrupt gzip: length check failed ({} bytes decompressed)",
                            self.produced
                        ));
                    }
                    self.pos += 8;
                    self.in_member = false;
                }
                _ if self.pos >= self.bytes.len() && out.len() < out.capacity() => {
                    return Err(self.truncated())
                }
                _ if self.z.total_in() == in0 && out.len() == out0 => return Err(self.truncated()),
                _ => {}
            }
        }
    }
}

/// A plain file too large to read whole.
struct FileFill(fs::File);

impl Fill for FileFill {
    fn fill(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<bool, String> {
        let want = limit.saturating_sub(out.len()) as u64;
        (&mut self.0).take(want).read_to_end(out).map_err(|e| format!("cannot read: {e}"))?;
        Ok(out.len() >= limit)
    }
}

/// Reads a source window by window (see [`WINDOW_BYTES`]).
fn stream<C: Collector>(
    matcher: &Matcher<'_>,
    name: &str,
    src: &mut dyn Fill,
    out: &mut Vec<u8>,
    collector: &mut C,
    stats: &mut ReadStats,
    window: usize,
) {
    let before = stats.records;
    out.clear();
    let mut open: Option<usize> = None; // where the Records array opens, once a window was handed out
    let mut closed = false; // the Records array ended before the source did
    let mut limit = window;
    loop {
        let len0 = out.len();
        let filled = src.fill(out, limit);
        stats.bytes_decompressed += (out.len() - len0) as u64;
        let more = match filled {
            Ok(more) => more,
            Err(reason) => {
                // Keep what came out before the damage: its complete records are real records.
                if !closed && !out.is_empty() {
                    let _ = match open {
                        None => matcher.text(out, collector, stats),
                        Some(o) => matcher.records(out, o, collector, stats).map_err(|_| String::new()),
                    };
                }
                stats.fail(name, reason);
                return;
            }
        };
        if closed {
            out.clear();
            if more {
                continue;
            }
            return;
        }
        if !more {
            let result = match open {
                None => matcher.text(out, collector, stats),
                Some(o) => matcher
                    .records(out, o, collector, stats)
                    .map_err(|_| truncated_records(stats.records - before)),
            };
            if let Err(reason) = result {
                stats.fail(name, reason);
            }
            return;
        }
        // A full window and more to come: hand out the complete records, keep the rest.
        let o = match open {
            Some(o) => o,
            None => match split::shape(out) {
                Ok(Shape::Records(o)) => o,
                Err(ShapeError::Truncated | ShapeError::Empty) if (out.len() as u64) < MAX_FILE_BYTES => {
                    limit = out.len() + window;
                    continue;
                }
                _ => {
                    stats.fail(
                        name,
                        format!("too large: only a Records file may be larger than {} MB", window >> 20),
                    );
                    return;
                }
            },
        };
        let records0 = stats.records;
        let rest = match matcher.records(out, o, collector, stats) {
            Ok(()) => {
                closed = true;
                out.clear();
                continue;
            }
            Err(at) => at,
        };
        if stats.records == records0 && out.len() as u64 >= MAX_FILE_BYTES {
            stats.fail(name, format!("too large: a record longer than {} MB", MAX_FILE_BYTES >> 20));
            return;
        }
        // Carry the incomplete record over, behind a `[` that stands for the array's.
        let mut rest = split::skip_ws(out, rest);
        if out.get(rest) == Some(&b',') {
            rest = split::skip_ws(out, rest + 1);
        }
        if rest > o + 1 {
            out[rest - 1] = b'[';
            out.drain(..rest - 1);
            open = Some(0);
        } else {
            open = Some(o);
        }
        // Always room for more: a record longer than a window makes the window grow.
        limit = out.len() + window;
    }
}

/// The length of the gzip member header at the start of `b`.
fn gzip_header(b: &[u8]) -> Result<usize, &'static str> {
    const TRUNCATED: &str = "truncated gzip: the header ends early";
    if b.len() < 10 {
        return Err(TRUNCATED);
    }
    if b[2] != 8 || b[3] & 0xE0 != 0 {
        return Err("corrupt gzip: invalid header");
    }
    let flags = b[3];
    let mut pos = 10;
    if flags & 4 != 0 {
        let n = b.get(pos..pos + 2).ok_or(TRUNCATED)?;
        pos += 2 + u16::from_le_bytes([n[0], n[1]]) as usize;
    }
    for bit in [8, 16] {
        if flags & bit != 0 {
            pos += memchr::memchr(0, b.get(pos..).ok_or(TRUNCATED)?).ok_or(TRUNCATED)? + 1;
        }
    }
    if flags & 2 != 0 {
        pos += 2;
    }
    if pos > b.len() {
        return Err(TRUNCATED);
    }
    Ok(pos)
}

/// Reads one in-memory file (plain or gzip JSON, detected by content), adding its records to
/// `collector` and its figures to `stats`. `name` is used in [`ReadStats::failed`].
pub fn read_bytes<C: Collector>(
    name: &str,
    bytes: &[u8],
    opts: &ReadOptions<'_>,
    collector: &mut C,
    stats: &mut ReadStats,
) {
    let matcher = Matcher::new(opts);
    let mut out = Vec::new();
    read_one(&matcher, name, bytes, &mut out, collector, stats);
}

fn read_one<C: Collector>(
    matcher: &Matcher<'_>,
    name: &str,
    bytes: &[u8],
    out: &mut Vec<u8>,
    collector: &mut C,
    stats: &mut ReadStats,
) {
    stats.files_read += 1;
    stats.bytes_in += bytes.len() as u64;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut src = Inflater::new(bytes);
        out.clear();
        out.reserve(src.size_hint().clamp(bytes.len(), WINDOW_BYTES) + 64);
        stream(matcher, name, &mut src, out, collector, stats, WINDOW_BYTES);
        return;
    }
    stats.bytes_decompressed += bytes.len() as u64;
    if let Err(reason) = matcher.text(bytes, collector, stats) {
        stats.fail(name, reason);
    }
}

/// Reads `files` with `opts.threads` workers and returns the merged collector and figures.
pub fn read_files<C: Collector>(files: &[LogFile], opts: &ReadOptions<'_>) -> (C, ReadStats) {
    let start = Instant::now();
    let matcher = Matcher::new(opts);
    let threads = match opts.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .clamp(1, files.len().max(1));
    let next = AtomicUsize::new(0);
    let files_done = AtomicUsize::new(0);
    let records = AtomicU64::new(0);
    let bytes_in = AtomicU64::new(0);
    let progress = |elapsed| Progress {
        files_done: files_done.load(Ordering::Relaxed),
        files_total: files.len(),
        records: records.load(Ordering::Relaxed),
        bytes_in: bytes_in.load(Ordering::Relaxed),
        elapsed,
    };

    let worker = || {
        let mut collector = C::default();
        let mut stats = ReadStats::default();
        let mut input = Vec::new();
        let mut output = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(file) = files.get(i) else { break };
            let (r0, b0) = (stats.records, stats.bytes_in);
            if file.skip.is_some() || file.outside(opts.window) {
                stats.files_skipped += 1;
            } else {
                let name = file.path.to_string_lossy();
                match read_file(&file.path, &mut input) {
                    Ok(Opened::Whole) => {
                        read_one(&matcher, &name, &input, &mut output, &mut collector, &mut stats)
                    }
                    Ok(Opened::Large(f, size)) => {
                        stats.files_read += 1;
                        stats.bytes_in += size;
                        stream(
                            &matcher,
                            &name,
                            &mut FileFill(f),
                            &mut output,
                            &mut collector,
                            &mut stats,
                            WINDOW_BYTES,
                        );
                    }
                    Err(reason) => {
                        stats.files_read += 1;
                        stats.fail(&name, reason);
                    }
                }
                // Do not keep the memory of one unusually large file for the rest of the run.
                for buf in [&mut input, &mut output] {
                    if buf.capacity() > 64 << 20 {
                        *buf = Vec::new();
                    }
                }
            }
            records.fetch_add(stats.records - r0, Ordering::Relaxed);
            bytes_in.fetch_add(stats.bytes_in - b0, Ordering::Relaxed);
            files_done.fetch_add(1, Ordering::Relaxed);
        }
        (collector, stats)
    };

    let mut results: Vec<Option<(C, ReadStats)>> = (0..threads).map(|_| None).collect();
    if threads == 1 && opts.progress.is_none() {
        results[0] = Some(worker());
    } else {
        std::thread::scope(|scope| {
            let (tx, rx) = mpsc::channel();
            for i in 0..threads {
                let tx = tx.clone();
                let worker = &worker;
                scope.spawn(move || {
                    let _ = tx.send((i, worker()));
                });
            }
            drop(tx);
            let mut last = Instant::now();
            loop {
                match rx.recv_timeout(PROGRESS_INTERVAL.saturating_sub(last.elapsed())) {
                    Ok((i, r)) => results[i] = Some(r),
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
                if last.elapsed() >= PROGRESS_INTERVAL {
                    if let Some(p) = opts.progress {
                        p(&progress(start.elapsed()));
                    }
                    last = Instant::now();
                }
            }
        });
    }
    let mut collector = C::default();
    let mut stats = ReadStats::default();
    for (c, s) in results.into_iter().flatten() {
        collector.merge(c);
        stats.merge(s);
    }
    if let Some(p) = opts.progress {
        p(&progress(start.elapsed()));
    }
    (collector, stats)
}

/// How a file was opened by [`read_file`].
enum Opened {
    /// Read whole into the buffer.
    Whole,
    /// A plain (not gzip) file larger than a window, to be read in parts; and its size.
    Large(fs::File, u64),
}

fn read_file(path: &Path, buf: &mut Vec<u8>) -> Result<Opened, String> {
    let reason = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => "cannot read: no such file (a dangling link?)".to_string(),
        std::io::ErrorKind::PermissionDenied => "cannot read: permission denied".to_string(),
        _ => format!("cannot read: {e}"),
    };
    let mut f = fs::File::open(path).map_err(reason)?;
    let size = f.metadata().map_err(reason)?.len();
    buf.clear();
    if size > WINDOW_BYTES as u64 {
        let mut magic = [0u8; 2];
        f.read_exact(&mut magic).map_err(reason)?;
        if magic != [0x1f, 0x8b] {
            use std::io::Seek;
            f.rewind().map_err(reason)?;
            return Ok(Opened::Large(f, size));
        }
        if size > MAX_FILE_BYTES {
            return Err(format!(
                "too large: {} MB of gzip (at most {} MB)",
                size >> 20,
                MAX_FILE_BYTES >> 20
            ));
        }
        buf.extend_from_slice(&magic);
    }
    buf.reserve(size as usize + 1);
    f.read_to_end(buf).map_err(reason)?;
    Ok(Opened::Whole)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Times(Vec<String>);
    impl Collector for Times {
        fn record(&mut self, e: &Event<'_>, raw: &str) {
            assert!(raw.starts_with('{') && raw.ends_with('}'));
            self.0.push(e.event_time.as_deref().unwrap_or("").to_string());
        }
        fn merge(&mut self, other: Self) {
            self.0.extend(other.0);
        }
    }

    fn gz(b: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn windows_give_the_same_records_as_whole_files() {
        let mut text = String::from("{\"Records\": [\n");
        for i in 0..40 {
            if i > 0 {
                text.push_str(if i % 3 == 0 { " ,\n " } else { "," });
            }
            if i == 17 {
                text.push_str("42, ");
            }
            let pad = "x\\\"{[".repeat(i % 7 * 5);
            text.push_str(&format!(
                r#"{{"eventTime":"2026-10-01T00:00:{i:02}Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","p":"{pad}"}}"#
            ));
        }
        text.push_str("\n], \"x\": 1}\n");
        let window = TimeWindow::default();
        let opts = ReadOptions { filter: &PrincipalFilter::Any, window: &window, threads: 1, progress: None };
        let matcher = Matcher::new(&opts);
        let (mut whole, mut whole_stats) = (Times::default(), ReadStats::default());
        read_one(&matcher, "f", text.as_bytes(), &mut Vec::new(), &mut whole, &mut whole_stats);
        assert_eq!((whole_stats.records, whole_stats.matched, whole_stats.malformed), (41, 40, 1));
        assert!(whole_stats.failed.is_empty());
        let zipped = [gz(&text.as_bytes()[..100]), gz(&text.as_bytes()[100..])].concat(); // two members
        for size in [1, 7, 64, 100, 333, 1000, 100_000] {
            let (mut got, mut stats) = (Times::default(), ReadStats::default());
            stream(&matcher, "f", &mut Inflater::new(&zipped), &mut Vec::new(), &mut got, &mut stats, size);
            assert_eq!(got.0, whole.0, "window {size}");
            assert_eq!((stats.records, stats.matched, stats.malformed), (41, 40, 1), "window {size}");
            assert!(stats.failed.is_empty(), "{:?}", stats.failed);
            assert_eq!(stats.bytes_decompressed, text.len() as u64);
            // Cut short: the complete records before the cut, and a reason.
            let (mut got, mut stats) = (Times::default(), ReadStats::default());
            stream(
                &matcher,
                "f",
                &mut Inflater::new(&zipped[..zipped.len() - 30]),
                &mut Vec::new(),
                &mut got,
                &mut stats,
                size,
            );
            assert_eq!(stats.failed.len(), 1);
            assert!(stats.failed[0].reason.starts_with("truncated gzip"), "{:?}", stats.failed);
            assert!(got.0.len() < 40 && got.0[..] == whole.0[..got.0.len()], "window {size}");
        }
    }

    #[test]
    fn records_cut_anywhere_even_inside_a_multibyte_character_fail_cleanly() {
        let record = |i: usize| {
            format!(
                r#"{{"eventTime":"2026-10-01T00:00:{i:02}Z","eventSource":"s3.amazonaws.com","eventName":"GetObjé€{i}","requestParameters":{{"key":"ü/ß/日本/{i}"}}}}"#
            )
        };
        let text = format!("{{\"Records\":[{},{}]}}", record(1), record(2));
        let window = TimeWindow::default();
        let opts = ReadOptions { filter: &PrincipalFilter::Any, window: &window, threads: 1, progress: None };
        let (mut whole, mut stats) = (Times::default(), ReadStats::default());
        read_bytes("f", text.as_bytes(), &opts, &mut whole, &mut stats);
        assert_eq!((stats.records, stats.matched, stats.malformed), (2, 2, 0));
        let zipped = gz(text.as_bytes());
        for cut in 0..text.len() {
            // Plain text cut at every byte, so also inside `é`, `€`, `ü`, `ß` and `日本`.
            let (mut got, mut stats) = (Times::default(), ReadStats::default());
            read_bytes("f", &text.as_bytes()[..cut], &opts, &mut got, &mut stats);
            // Only text after the closed `Records` array may go missing unnoticed.
            assert!(stats.failed.len() == 1 || cut >= text.len() - 1, "cut {cut}: {stats:?}");
            assert!(got.0.len() <= 2 && got.0[..] == whole.0[..got.0.len()], "cut {cut}");
        }
        for cut in 0..zipped.len() {
            // Gzip cut at every byte: in the header, the deflate data and the trailer.
            let (mut got, mut stats) = (Times::default(), ReadStats::default());
            read_bytes("f.gz", &zipped[..cut], &opts, &mut got, &mut stats);
            assert_eq!(stats.failed.len(), 1, "cut {cut}: {stats:?}");
            assert!(got.0.len() <= 2 && got.0[..] == whole.0[..got.0.len()], "cut {cut}");
        }
        // A record with a huge multibyte value, in a text that ends inside a character.
        let huge = format!(
            r#"{{"Records":[{{"eventTime":"2026-10-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"{}"}}]}}"#,
            "日".repeat(1 << 20)
        );
        let (mut got, mut stats) = (Times::default(), ReadStats::default());
        read_bytes("f", huge.as_bytes(), &opts, &mut got, &mut stats);
        assert_eq!((stats.records, stats.matched), (1, 1));
        let (mut got, mut stats) = (Times::default(), ReadStats::default());
        let inside = huge.find('日').unwrap() + 3 * 1000 + 1;
        assert!(!huge.is_char_boundary(inside));
        read_bytes("f", &huge.as_bytes()[..inside], &opts, &mut got, &mut stats);
        assert!(got.0.is_empty() && stats.failed.len() == 1);
        // Event names whose would-be date suffix follows a multibyte character stay whole.
        for name in ["Getä20150331", "Getä20150331v2", "GetÄ2020_05_31", "日本2020_05_31", "é"] {
            assert_eq!(crate::map::normalize_event_name("lambda", name), name);
        }
        assert_eq!(crate::map::normalize_event_name("lambda", "Getä20150331x20150331"), "Getä20150331x");
    }

    #[test]
    fn dates_from_paths() {
        assert_eq!(
            path_date(Path::new("AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/x.json.gz")),
            Some((2024, 5, 1))
        );
        assert_eq!(path_date(Path::new("logs/x.json.gz")), None);
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2024, 3, 1) - days_from_civil(2024, 2, 28), 2);
        let f = LogFile::new("a/2024/05/10/x.json.gz");
        let w = |s: &str, u: &str| TimeWindow { since: Some(s.into()), until: Some(u.into()) };
        assert!(!f.outside(&w("2024-05-11T00:00:00Z", "2024-06-01T00:00:00Z")));
        assert!(f.outside(&w("2024-05-12T00:00:00Z", "2024-06-01T00:00:00Z")));
        assert!(!f.outside(&w("2024-04-01T00:00:00Z", "2024-05-09T00:00:00Z")));
        assert!(f.outside(&w("2024-04-01T00:00:00Z", "2024-05-08T23:00:00Z")));
        assert!(!LogFile::new("x.json").outside(&w("2030-01-01T00:00:00Z", "2031-01-01T00:00:00Z")));
    }
}
