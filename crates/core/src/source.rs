//! The two ports of iamfit: where the account comes from ([`AccountSource`]) and where usage comes
//! from ([`UsageSource`]).
//!
//! Every command asks a port, never a concrete source: the snapshot folder ([`SnapshotSource`]) and
//! local CloudTrail files ([`LogFiles`]) live here; the live AWS account, S3 and LookupEvents live in
//! the AWS adapter crate; templates, organization data, recordings and Athena plug in the same way.
//!
//! ```
//! use iamfit_core::source::{AccountNeeds, AccountSource, SnapshotSource};
//!
//! let source = SnapshotSource::new("../../policy-fixtures/demo");
//! let loaded = source.load(&AccountNeeds { functions: vec!["orders".into()], ..Default::default() })?;
//! assert!(loaded.account.function("orders").is_ok());
//! # Ok::<(), iamfit_core::source::SourceError>(())
//! ```

use std::path::{Path, PathBuf};

use iamfit_catalog::Catalog;
use iamfit_trail::read::{self, Collector, Progress, ReadOptions, ReadStats};
use iamfit_trail::recording;
use iamfit_trail::usage::Usage;
use iamfit_trail::{Event, PrincipalFilter, TimeWindow};

use crate::account::snapshot::{self, SnapshotError};
use crate::account::{Account, AccountError};

/// Why a source could not deliver, classified so that every front end can say what to do.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// No credentials were found anywhere the AWS CLI looks.
    #[error("no AWS credentials found{}", profile_part(.profile))]
    NoCredentials {
        /// The profile asked for, if any.
        profile: Option<String>,
        /// What the credential chain said (shown with `-v`).
        detail: String,
    },
    /// A named profile that does not exist or gives no credentials.
    #[error("profile {profile:?} gives no credentials: {reason}")]
    Profile {
        /// The profile.
        profile: String,
        /// Why, for people.
        reason: String,
        /// What the credential chain said (shown with `-v`).
        detail: String,
    },
    /// No region is configured.
    #[error("no AWS region configured")]
    NoRegion,
    /// The caller lacks a permission.
    #[error("access denied: {call} on {target}: the caller lacks {permission}")]
    AccessDenied {
        /// The API call.
        call: String,
        /// What it was about.
        target: String,
        /// The IAM action needed.
        permission: String,
        /// AWS's message (shown with `-v`).
        detail: String,
    },
    /// The thing asked for does not exist.
    #[error("{what} not found: {target}")]
    NotFound {
        /// "function", "role", ...
        what: String,
        /// Its name.
        target: String,
    },
    /// AWS kept throttling the calls after every retry.
    #[error("{call} was throttled by AWS after {attempts} attempts")]
    Throttled {
        /// The API call.
        call: String,
        /// How many attempts were made.
        attempts: u32,
    },
    /// The endpoint could not be reached (network, DNS, TLS, an emulator that is not running).
    #[error("cannot reach AWS{}: {reason}", endpoint_part(.endpoint))]
    Unreachable {
        /// The endpoint, when one was configured.
        endpoint: Option<String>,
        /// Why, for people.
        reason: String,
        /// The transport's own words (shown with `-v`).
        detail: String,
    },
    /// Anything else AWS answered.
    #[error("{call} on {target} failed: {message}")]
    Aws {
        /// The API call.
        call: String,
        /// What it was about.
        target: String,
        /// AWS's error code and message.
        message: String,
    },
    /// The snapshot folder could not be read.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    /// The principal or function is not in the account data.
    #[error(transparent)]
    Account(#[from] AccountError),
    /// An input (a trail path, a principal ARN, a time) that cannot be used.
    #[error("{message}")]
    Input {
        /// What is wrong.
        message: String,
        /// What to do.
        help: Option<String>,
    },
}

fn profile_part(profile: &Option<String>) -> String {
    profile.as_ref().map(|p| format!(" for profile {p:?}")).unwrap_or_default()
}

fn endpoint_part(endpoint: &Option<String>) -> String {
    endpoint.as_ref().map(|e| format!(" at {e}")).unwrap_or_default()
}

impl SourceError {
    /// What the user can do about it.
    pub fn help(&self) -> Option<String> {
        let text = match self {
            SourceError::NoCredentials { .. } => "iamfit looked where the AWS CLI looks: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws/config and ~/.aws/credentials (SSO and credential_process included), web identity, and the container and instance metadata endpoints. Pass --profile NAME, run `aws configure sso`, or work offline with --snapshot DIR",
            SourceError::Profile { .. } => "check the profile's name in ~/.aws/config (`aws configure list-profiles`); for SSO profiles run `aws sso login --profile NAME`; or work offline with --snapshot DIR",
            SourceError::NoRegion => "pass --region, set AWS_REGION, or set region in the profile",
            SourceError::AccessDenied { .. } => "iamfit reads with iam:Get*/iam:List* (role, user, group and policy reads), lambda:GetFunctionConfiguration and sts:GetCallerIdentity; the AWS managed policy IAMReadOnlyAccess covers the IAM part; or work offline with --snapshot DIR",
            SourceError::NotFound { what, .. } if what == "function" => "check the function name and the region (--region)",
            SourceError::Throttled { .. } => "try again later, or narrow the request (--since, a smaller trail)",
            SourceError::Unreachable { endpoint: Some(_), .. } => "check that the endpoint (--endpoint-url, AWS_ENDPOINT_URL) is running and reachable",
            SourceError::Unreachable { .. } => "check the network and the region (--region), or work offline with --snapshot DIR",
            SourceError::Snapshot(_) => "a snapshot holds account.json, functions/NAME.json and identities/PROFILE.json (see docs/reference.md)",
            SourceError::Input { help, .. } => return help.clone(),
            _ => return None,
        };
        Some(text.to_string())
    }

    /// The underlying detail (AWS's message, the credential chain's report), for `-v`.
    pub fn detail(&self) -> Option<&str> {
        match self {
            SourceError::NoCredentials { detail, .. }
            | SourceError::Profile { detail, .. }
            | SourceError::AccessDenied { detail, .. }
            | SourceError::Unreachable { detail, .. } => {
                Some(detail).filter(|d| !d.is_empty()).map(|d| d.as_str())
            }
            _ => None,
        }
    }

    /// Whether the error is the user's input (exit status 2) rather than the environment's.
    pub fn is_input(&self) -> bool {
        matches!(self, SourceError::Snapshot(_) | SourceError::Account(_) | SourceError::Input { .. })
    }
}

// ---------------------------------------------------------------------------------------------------
// Account sources

/// What a command needs from the account, so that a live source reads only that.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountNeeds {
    /// The caller identity of this profile (the local principal), with its policies.
    pub identity: Option<String>,
    /// Functions (names or ARNs), with their execution roles.
    pub functions: Vec<String>,
    /// Roles (ARNs), with their policies.
    pub roles: Vec<String>,
    /// Users (ARNs), with their groups and policies.
    pub users: Vec<String>,
}

/// An account as a source delivered it.
#[derive(Debug, Clone, Default)]
pub struct LoadedAccount {
    /// The account model.
    pub account: Account,
    /// What the user should know about how it was read.
    pub notes: Vec<String>,
}

/// Resource policies read on request ([`AccountSource::resource_policies`]).
#[derive(Debug, Clone, Default)]
pub struct ResourceRead {
    /// The policies of the resources that have one.
    pub policies: Vec<crate::account::resources::ResourcePolicy>,
    /// The resources whose policy could not be read.
    pub unread: Vec<crate::account::resources::Unread>,
    /// What the user should know (the number of calls and their wall time; each unread policy is
    /// a note of the subjects it is added to).
    pub notes: Vec<String>,
}

/// The port for account state: a live account, a snapshot folder, a template, organization data.
pub trait AccountSource {
    /// Loads at least what `needs` names (a source may deliver more, as a snapshot does). The
    /// resource policies of the resources the loaded principals' policies name are part of it.
    fn load(&self, needs: &AccountNeeds) -> Result<LoadedAccount, SourceError>;

    /// Reads the resource policies of more resources in play (those a trail shows). The default
    /// reads nothing: a source such as a snapshot delivers every policy it holds in [`Self::load`].
    fn resource_policies(
        &self,
        resources: &[crate::account::resources::InPlay],
    ) -> Result<ResourceRead, SourceError> {
        let _ = resources;
        Ok(ResourceRead::default())
    }
}

/// Where the documents of managed policies come from when a source names only their ARNs (a
/// template attaching AWS managed policies): the live account (`GetPolicy`/`GetPolicyVersion`),
/// implemented by the AWS adapter.
pub trait ManagedPolicySource: Send + Sync {
    /// The default version of each policy ARN, in the order given.
    fn managed_policies(&self, arns: &[String]) -> Result<Vec<crate::account::ManagedPolicy>, SourceError>;
}

/// A snapshot folder (`--snapshot DIR`): the exact AWS CLI outputs, read offline.
#[derive(Debug, Clone)]
pub struct SnapshotSource {
    dir: PathBuf,
}

impl SnapshotSource {
    /// A source reading the folder `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        SnapshotSource { dir: dir.into() }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The snapshot's own CloudTrail folder, when it has one (the default trail offline).
    pub fn cloudtrail(&self) -> Option<PathBuf> {
        Some(self.dir.join("cloudtrail")).filter(|p| p.is_dir())
    }
}

impl AccountSource for SnapshotSource {
    fn load(&self, _needs: &AccountNeeds) -> Result<LoadedAccount, SourceError> {
        let account = snapshot::load(&self.dir)?;
        Ok(LoadedAccount {
            account,
            notes: vec![format!("offline: account state read from the snapshot {}", self.dir.display())],
        })
    }
}

// ---------------------------------------------------------------------------------------------------
// Usage sources

/// What to read from a usage source.
#[derive(Clone, Copy)]
pub struct UsageQuery<'a> {
    /// Whose calls.
    pub filter: &'a PrincipalFilter,
    /// Which times.
    pub window: &'a TimeWindow,
    /// The principal's account, when known (narrows S3 listings).
    pub account: Option<&'a str>,
    /// Reader threads (0: one per core).
    pub threads: usize,
    /// Progress callback for long reads.
    pub progress: Option<&'a (dyn Fn(&Progress) + Sync)>,
}

/// What one usage source delivered.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// What the principal did.
    pub usage: Usage,
    /// What was read: records, malformed records, files that failed.
    pub stats: ReadStats,
    /// What the user should know about the source (management events only, ...).
    pub notes: Vec<String>,
}

impl Evidence {
    /// Adds another source's evidence to this one.
    pub fn merge(&mut self, other: Evidence) {
        self.usage.merge(other.usage);
        self.stats.merge(other.stats);
        self.notes.extend(other.notes);
    }
}

/// The port for usage: CloudTrail files, S3, LookupEvents, recordings ([`Recording`]), Athena.
pub trait UsageSource {
    /// How the source is named to the user (`s3://bucket/prefix`, a path, `lookup`).
    fn name(&self) -> String;
    /// Reads the principal's calls in the window.
    fn read(&self, query: &UsageQuery<'_>) -> Result<Evidence, SourceError>;
}

/// A collector that aggregates matching records into a [`Usage`] (reader threads each have one).
#[derive(Default)]
pub struct UsageCollector(pub Usage);

impl Collector for UsageCollector {
    fn record(&mut self, event: &Event<'_>, _raw: &str) {
        self.0.record(event, Catalog::get());
    }
    fn merge(&mut self, other: Self) {
        self.0.merge(other.0);
    }
}

/// Local CloudTrail log files: a file or a folder searched recursively.
#[derive(Debug, Clone)]
pub struct LogFiles {
    path: PathBuf,
}

impl LogFiles {
    /// A source reading `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        LogFiles { path: path.into() }
    }
}

impl UsageSource for LogFiles {
    fn name(&self) -> String {
        self.path.display().to_string()
    }

    fn read(&self, query: &UsageQuery<'_>) -> Result<Evidence, SourceError> {
        let files = read::find_log_files(&self.path).map_err(|e| SourceError::Input {
            message: format!("--trail {}: {e}", self.path.display()),
            help: Some("give a CloudTrail log file, a folder of them, s3://BUCKET/PREFIX, or lookup".into()),
        })?;
        let opts = ReadOptions {
            filter: query.filter,
            window: query.window,
            threads: query.threads,
            progress: query.progress,
        };
        let (collected, stats): (UsageCollector, ReadStats) = read::read_files(&files, &opts);
        Ok(Evidence { usage: collected.0, stats, notes: Vec::new() })
    }
}

/// A recording made by `iamfit exec --record` (`--trail calls.jsonl`): one recorded call per line,
/// already mapped to IAM actions when it was made (see [`iamfit_trail::recording`]).
#[derive(Debug, Clone)]
pub struct Recording {
    path: PathBuf,
}

impl Recording {
    /// A source reading the recording at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Recording { path: path.into() }
    }

    /// Whether `path` is a recording, by its content: a file whose first line is a recorded call (an
    /// empty `.jsonl` file is an empty recording: the run made no call).
    pub fn detect(path: &Path) -> bool {
        use std::io::Read;
        let Ok(file) = std::fs::File::open(path) else { return false };
        if !file.metadata().is_ok_and(|m| m.is_file()) {
            return false;
        }
        let mut head = Vec::with_capacity(8192);
        if file.take(64 * 1024).read_to_end(&mut head).is_err() {
            return false;
        }
        if head.iter().all(u8::is_ascii_whitespace) {
            return path.extension().is_some_and(|e| e == "jsonl");
        }
        recording::is_recording(&String::from_utf8_lossy(&head))
    }
}

impl UsageSource for Recording {
    fn name(&self) -> String {
        self.path.display().to_string()
    }

    fn read(&self, query: &UsageQuery<'_>) -> Result<Evidence, SourceError> {
        use std::io::BufRead;
        let name = self.path.display().to_string();
        let file = std::fs::File::open(&self.path).map_err(|e| SourceError::Input {
            message: format!("--trail {name}: cannot read the recording: {e}"),
            help: None,
        })?;
        let mut evidence = Evidence::default();
        let mut of_principal = 0u64;
        for line in std::io::BufReader::new(file).lines() {
            let line = match line {
                Ok(l) => l,
                Err(e) => {
                    evidence
                        .stats
                        .failed
                        .push(read::FileProblem { path: name.clone(), reason: e.to_string() });
                    break;
                }
            };
            if line.trim().is_empty() {
                continue;
            }
            evidence.stats.records += 1;
            let Ok(call) = serde_json::from_str::<recording::RecordedCall>(&line) else {
                evidence.stats.malformed += 1;
                continue;
            };
            if call.matches(query.filter) && query.window.contains(&call.time) {
                of_principal += 1;
                call.add_to(&mut evidence.usage);
            }
        }
        evidence.stats.files_read = 1;
        evidence.stats.matched = of_principal;
        evidence.notes.push(format!(
            "recording {name}: {} call(s), {of_principal} of the principal",
            evidence.stats.records
        ));
        Ok(evidence)
    }
}

/// Every source's evidence for one principal and window, merged.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    /// What the principal did.
    pub usage: Usage,
    /// Records read in all (`events.read`).
    pub records: u64,
    /// Records that could not be parsed.
    pub malformed: u64,
    /// Files that could not be read, with the reason.
    pub failed: Vec<(String, String)>,
    /// Notes for the user (sources, management events only, the window).
    pub notes: Vec<String>,
    /// The window used.
    pub window: TimeWindow,
}

impl Replay {
    /// Whether something could not be read: the result is partial (exit status 3).
    pub fn partial(&self) -> bool {
        !self.failed.is_empty() || self.malformed > 0
    }
}

/// Reads every source for the query and merges what they delivered.
pub fn replay(sources: &[Box<dyn UsageSource>], query: &UsageQuery<'_>) -> Result<Replay, SourceError> {
    let mut all = Evidence::default();
    for source in sources {
        all.merge(source.read(query)?);
    }
    let mut notes = all.notes;
    if let Some(s) = &query.window.since {
        notes.push(format!("window: {} to {}", s, query.window.until.as_deref().unwrap_or("now")));
    }
    Ok(Replay {
        usage: all.usage,
        records: all.stats.records,
        malformed: all.stats.malformed,
        failed: all.stats.failed.into_iter().map(|f| (f.path, f.reason)).collect(),
        notes,
        window: query.window.clone(),
    })
}
