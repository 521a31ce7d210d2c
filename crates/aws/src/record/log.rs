//! The recording file (one line per call, written whole and unbuffered as each call completes, so a
//! killed run keeps every call recorded so far) and the run's summary.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use iamfit_trail::recording::{RecordedCall, Status};

/// What a run recorded, for the summary on stderr.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Calls recorded.
    pub calls: u64,
    /// Distinct IAM actions of the successful calls.
    pub actions: BTreeSet<String>,
    /// Denied calls by (action, error code).
    pub denied: BTreeMap<(String, String), u64>,
    /// Failed calls (not denials) by error code.
    pub errors: BTreeMap<String, u64>,
    /// Calls that could not be mapped to IAM actions.
    pub unmapped: u64,
    /// Lines that could not be written (the file became unwritable).
    pub write_failures: u64,
}

impl Summary {
    fn add(&mut self, call: &RecordedCall) {
        self.calls += 1;
        if call.unmapped.is_some() {
            self.unmapped += 1;
        }
        let code = call.error_code.clone().unwrap_or_else(|| "Forbidden".to_string());
        match call.status {
            Status::Allowed => self.actions.extend(call.actions.iter().cloned()),
            Status::Denied if call.actions.is_empty() => {
                *self.denied.entry((format!("{}:{}", call.service, op(call)), code)).or_default() += 1;
            }
            Status::Denied => {
                for a in &call.actions {
                    *self.denied.entry((a.clone(), code.clone())).or_default() += 1;
                }
            }
            Status::Error => *self.errors.entry(code).or_default() += 1,
        }
    }
}

impl Summary {
    /// The summary for people: calls, actions, denied calls with their error codes, failures, and a
    /// hint when nothing reached the recorder.
    pub fn describe(&self, file: &str) -> Vec<String> {
        let mut out = vec![format!(
            "recorded {} call(s) in {file}: {} action(s) used{}",
            self.calls,
            self.actions.len(),
            if self.actions.is_empty() {
                String::new()
            } else {
                format!(" ({})", self.actions.iter().cloned().collect::<Vec<_>>().join(", "))
            }
        )];
        if !self.denied.is_empty() {
            let list: Vec<String> =
                self.denied.iter().map(|((a, code), n)| format!("{a} ({code}, {n}x)")).collect();
            out.push(format!("denied: {}", list.join(", ")));
        }
        if !self.errors.is_empty() {
            let list: Vec<String> = self.errors.iter().map(|(code, n)| format!("{code} ({n}x)")).collect();
            out.push(format!("failed: {}", list.join(", ")));
        }
        if self.unmapped > 0 {
            out.push(format!(
                "{} call(s) could not be mapped to IAM actions (\"unmapped\" in the file)",
                self.unmapped
            ));
        }
        if self.calls == 0 {
            out.push("no call reached the recorder: if the command calls AWS, its SDK ignores AWS_ENDPOINT_URL (it needs the AWS CLI >= 1.29.0 / 2.13.0, boto3 >= 1.28.0, or another SDK with service-specific endpoint support; see docs/reference.md)".to_string());
        }
        out
    }
}

fn op(call: &RecordedCall) -> &str {
    call.operation.as_deref().unwrap_or("?")
}

/// The recording being written.
pub struct Log {
    file: Mutex<File>,
    summary: Mutex<Summary>,
}

impl Log {
    /// Creates (or truncates) the recording file.
    pub fn create(path: &Path) -> std::io::Result<Log> {
        Ok(Log { file: Mutex::new(File::create(path)?), summary: Mutex::new(Summary::default()) })
    }

    /// Writes one call as one line (a single write, flushed at once) and counts it.
    pub fn write(&self, call: &RecordedCall) {
        let mut line = call.to_line();
        line.push('\n');
        let written = match self.file.lock() {
            Ok(mut f) => f.write_all(line.as_bytes()).and_then(|()| f.flush()).is_ok(),
            Err(_) => false,
        };
        if let Ok(mut s) = self.summary.lock() {
            s.add(call);
            if !written {
                s.write_failures += 1;
            }
        }
    }

    /// The summary so far.
    pub fn summary(&self) -> Summary {
        self.summary.lock().map(|s| s.clone()).unwrap_or_default()
    }
}
