//! The core's ports, implemented over AWS: the live account ([`LiveAccount`]), CloudTrail log files in
//! S3 ([`S3Trail`]) and the LookupEvents API ([`LookupTrail`]). Each runs its async SDK calls on the
//! adapter's one runtime ([`crate::runtime::block_on`]).

use std::sync::{Arc, Mutex};

use iamfit_core::account::resources::{in_play, InPlay};
use iamfit_core::account::Account;
use iamfit_core::source::{
    AccountNeeds, AccountSource, Evidence, LoadedAccount, ResourceRead, SourceError, UsageCollector,
    UsageQuery, UsageSource,
};
use iamfit_trail::read::{self, Collector, ReadOptions, ReadStats};
use iamfit_trail::{Event, PrincipalFilter};

use crate::live::{self, LiveError, LiveOptions};
use crate::resource_policies;
use crate::runtime::block_on;
use crate::s3::{self, Narrowing, S3Location};

/// Adds the endpoint to an unreachable-endpoint error.
fn with_endpoint(e: LiveError, opts: &LiveOptions) -> SourceError {
    match SourceError::from(e) {
        SourceError::Unreachable { reason, detail, .. } => {
            SourceError::Unreachable { endpoint: opts.endpoint_url.clone(), reason, detail }
        }
        SourceError::NoCredentials { detail, .. } => {
            SourceError::NoCredentials { profile: opts.profile.clone(), detail }
        }
        other => other,
    }
}

/// A live AWS account, read through the SDK with the credentials of [`LiveOptions`].
#[derive(Debug, Clone)]
pub struct LiveAccount {
    opts: LiveOptions,
}

impl LiveAccount {
    /// A source calling AWS as `opts` says.
    pub fn new(opts: LiveOptions) -> Self {
        LiveAccount { opts }
    }

    /// The options.
    pub fn options(&self) -> &LiveOptions {
        &self.opts
    }

    async fn load_async(&self, needs: &AccountNeeds) -> Result<LoadedAccount, LiveError> {
        let mut opts = self.opts.clone();
        opts.region = opts.region.or_else(|| needs.functions.iter().find_map(|f| region_of(f)));
        let config = live::sdk_config(&opts).await?;
        let mut notes = Vec::new();
        let identity = match &needs.identity {
            Some(_) => {
                let id = live::caller_identity(&config).await?;
                notes.push(format!("live: read from AWS as {}", id.arn));
                Some(id)
            }
            None => None,
        };
        let mut account = Account::default();
        let targeted = async {
            if let (Some(profile), Some(id)) = (&needs.identity, &identity) {
                live::add_identity(&config, &mut account, profile, id.clone()).await?;
            }
            for f in &needs.functions {
                live::add_function(&config, &mut account, f).await?;
            }
            for r in &needs.roles {
                live::add_role(&config, &mut account, r).await?;
            }
            for u in &needs.users {
                let id = iamfit_core::account::CallerIdentity { arn: u.clone(), ..Default::default() };
                live::add_identity(&config, &mut account, "principal", id).await?;
            }
            Ok::<_, LiveError>(())
        };
        match targeted.await {
            Ok(()) => {
                if notes.is_empty() {
                    notes.push("live: read from AWS".into());
                }
                notes.extend(add_resource_policies(&config, &mut account, needs).await);
                Ok(LoadedAccount { account, notes })
            }
            Err(e @ LiveError::AccessDenied { .. }) => {
                // Targeted reads refused: GetAccountAuthorizationDetails may still be allowed.
                let mut whole = live::authorization_details(&config).await.map_err(|_| e.clone())?;
                notes.push(format!(
                    "targeted IAM reads were refused ({e}); read the account with GetAccountAuthorizationDetails instead"
                ));
                if let (Some(profile), Some(id)) = (&needs.identity, identity) {
                    whole.identities.push((profile.clone(), id));
                }
                for f in &needs.functions {
                    whole.functions.push(live::function(&config, f).await?);
                }
                notes.extend(add_resource_policies(&config, &mut whole, needs).await);
                Ok(LoadedAccount { account: whole, notes })
            }
            Err(e) => Err(e),
        }
    }
}

/// Reads the resource policies of the resources the needed principals' policies name into the
/// account; returns the notes (unreadable policies, calls and wall time).
async fn add_resource_policies(
    config: &aws_config::SdkConfig,
    account: &mut Account,
    needs: &AccountNeeds,
) -> Vec<String> {
    let subjects = iamfit_core::resolve::needed_subjects(account, needs);
    let wanted = in_play(&subjects.iter().collect::<Vec<_>>(), None);
    let read = resource_policies::read(config, &wanted).await;
    let notes = read.figures().into_iter().collect();
    account.resource_policies.extend(read.policies);
    account.unread_resource_policies.extend(read.unread);
    notes
}

/// The region of a function ARN (`arn:aws:lambda:REGION:...`).
fn region_of(function: &str) -> Option<String> {
    function
        .strip_prefix("arn:")
        .and_then(|_| function.split(':').nth(3))
        .filter(|r| !r.is_empty())
        .map(str::to_string)
}

impl AccountSource for LiveAccount {
    fn load(&self, needs: &AccountNeeds) -> Result<LoadedAccount, SourceError> {
        let mut loaded = block_on(self.load_async(needs))?.map_err(|e| with_endpoint(e, &self.opts))?;
        // The organization's SCPs and RCPs of the accounts read (notes say what could not be read).
        block_on(crate::organization::attach(&self.opts, &mut loaded.account))?;
        loaded.notes.extend(crate::organization::read_note(&self.opts, &loaded.account));
        Ok(loaded)
    }

    fn resource_policies(&self, resources: &[InPlay]) -> Result<ResourceRead, SourceError> {
        if resources.is_empty() {
            return Ok(ResourceRead::default());
        }
        let read = block_on(async {
            let config = live::sdk_config(&self.opts).await?;
            Ok::<_, LiveError>(resource_policies::read(&config, resources).await)
        })?
        .map_err(|e| with_endpoint(e, &self.opts))?;
        // Each unread policy becomes a note on the subjects it is added to.
        let notes = read.figures().into_iter().collect();
        Ok(ResourceRead { policies: read.policies, unread: read.unread, notes })
    }
}

/// CloudTrail log files in S3 (`--trail s3://BUCKET[/PREFIX]`), listed narrowed by account and day.
#[derive(Debug, Clone)]
pub struct S3Trail {
    location: S3Location,
    opts: LiveOptions,
}

impl S3Trail {
    /// Parses `s3://BUCKET[/PREFIX]`; `None` when `url` is not one.
    pub fn parse(url: &str, opts: LiveOptions) -> Option<Self> {
        S3Location::parse(url).map(|location| S3Trail { location, opts })
    }
}

/// Reads one downloaded log file into a shared collector.
type Shared = Arc<Mutex<(UsageCollector, ReadStats)>>;

impl UsageSource for S3Trail {
    fn name(&self) -> String {
        format!("s3://{}/{}", self.location.bucket, self.location.prefix)
    }

    fn read(&self, query: &UsageQuery<'_>) -> Result<Evidence, SourceError> {
        let days = match &query.window.since {
            Some(s) => s3::days_between(s, query.window.until.as_deref().unwrap_or(&now_rfc3339()), 400),
            None => Vec::new(),
        };
        let narrowing =
            Narrowing { accounts: query.account.map(|a| vec![a.to_string()]).unwrap_or_default(), days };
        let shared: Shared = Arc::new(Mutex::new((UsageCollector::default(), ReadStats::default())));
        let sink = shared.clone();
        let filter = query.filter.clone();
        let window = query.window.clone();
        let result = block_on(async {
            let config = live::sdk_config(&self.opts).await?;
            let s3conf = aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build();
            let client = aws_sdk_s3::Client::from_conf(s3conf);
            let keys = s3::list_log_keys(&client, &self.location, &narrowing).await?;
            let consume = Arc::new(move |name: &str, bytes: &[u8]| {
                let opts = ReadOptions { filter: &filter, window: &window, threads: 1, progress: None };
                let mut local = UsageCollector::default();
                let mut local_stats = ReadStats::default();
                read::read_bytes(name, bytes, &opts, &mut local, &mut local_stats);
                let mut guard = sink.lock().unwrap_or_else(|e| e.into_inner());
                guard.0.merge(local);
                guard.1.merge(local_stats);
            });
            let keys = keys.into_iter().map(|(k, _)| k).collect();
            Ok::<_, LiveError>(s3::fetch_all(&client, &self.location.bucket, keys, 16, consume).await)
        })?;
        let failures = result.map_err(|e| with_endpoint(e, &self.opts))?;
        let (collected, mut stats) = Arc::try_unwrap(shared)
            .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
            .unwrap_or_default();
        for (path, reason) in failures {
            stats.failed.push(read::FileProblem { path, reason });
        }
        Ok(Evidence { usage: collected.0, stats, notes: vec![format!("read {}", self.name())] })
    }
}

fn now_rfc3339() -> String {
    iamfit_trail::window::format_utc(time::OffsetDateTime::now_utc())
}

/// CloudTrail's LookupEvents API (`--trail lookup`): management events of the last 90 days.
#[derive(Debug, Clone)]
pub struct LookupTrail {
    opts: LiveOptions,
}

impl LookupTrail {
    /// A source calling LookupEvents as `opts` says.
    pub fn new(opts: LiveOptions) -> Self {
        LookupTrail { opts }
    }
}

impl UsageSource for LookupTrail {
    fn name(&self) -> String {
        "lookup".into()
    }

    fn read(&self, query: &UsageQuery<'_>) -> Result<Evidence, SourceError> {
        let username = match query.filter {
            PrincipalFilter::Role { session: Some(s), .. } => Some(s.clone()),
            PrincipalFilter::User { arn } => arn.rsplit('/').next().map(str::to_string),
            _ => None,
        };
        let mut collected = UsageCollector::default();
        let mut stats = ReadStats::default();
        let window = query.window;
        let result = block_on(async {
            let config = live::sdk_config(&self.opts).await?;
            live_lookup(&config, window, username.as_deref(), |json| {
                stats.records += 1;
                match serde_json::from_str::<Event>(json) {
                    Ok(e) if e.event_source.is_some() && e.event_name.is_some() => {
                        if query.filter.matches(&e)
                            && e.event_time.as_deref().is_none_or(|t| window.contains(t))
                        {
                            stats.matched += 1;
                            collected.record(&e, json);
                        }
                    }
                    _ => stats.malformed += 1,
                }
            })
            .await
        })?;
        result.map_err(|e| with_endpoint(e, &self.opts))?;
        Ok(Evidence {
            usage: collected.0,
            stats,
            notes: vec!["the lookup source (CloudTrail LookupEvents) holds management events only: data events (S3 objects, DynamoDB items, Lambda invokes, ...) are not in it".into()],
        })
    }
}

async fn live_lookup(
    config: &aws_config::SdkConfig,
    window: &iamfit_trail::TimeWindow,
    username: Option<&str>,
    consume: impl FnMut(&str),
) -> Result<(), LiveError> {
    crate::lookup::lookup_events(config, window.since.as_deref(), window.until.as_deref(), username, consume)
        .await
        .map(|_| ())
}

/// Reads the organization policies of the account's principals and functions for `snapshot --org`;
/// an error when none could be read.
pub fn collect_organization(
    opts: &LiveOptions,
    account: &Account,
) -> Result<iamfit_core::account::organization::Organization, SourceError> {
    let ids = crate::organization::account_ids(account);
    let org = block_on(crate::organization::read(opts, &ids))?;
    if org.accounts.is_empty() {
        return Err(SourceError::Input {
            message: format!("cannot write organization/: {}", org.notes.join("; ")),
            help: Some("pass --org-profile with credentials of the management account or of a delegated administrator (organizations:Describe*, organizations:List*)".into()),
        });
    }
    Ok(org)
}

/// Reads the whole account for a snapshot: `GetAccountAuthorizationDetails`, the caller identity
/// (stored under `profile`), the named functions, and the resource policies of the resources in
/// play for the profile's principal and the functions' roles. Returns the account and the notes of
/// the resource-policy reads.
pub fn collect_snapshot(
    opts: &LiveOptions,
    profile: &str,
    functions: &[String],
) -> Result<(Account, Vec<String>), SourceError> {
    let result = block_on(async {
        let config = live::sdk_config(opts).await?;
        let identity = live::caller_identity(&config).await?;
        let mut account = live::authorization_details(&config).await?;
        account.identities.push((profile.to_string(), identity));
        for f in functions {
            account.functions.push(live::function(&config, f).await?);
        }
        let needs = AccountNeeds {
            identity: Some(profile.to_string()),
            functions: functions.to_vec(),
            ..Default::default()
        };
        let mut notes: Vec<String> = add_resource_policies(&config, &mut account, &needs).await;
        notes.extend(
            account
                .unread_resource_policies
                .iter()
                .map(|u| format!("{}; the snapshot holds no file for it", u.note())),
        );
        Ok::<_, LiveError>((account, notes))
    })?;
    result.map_err(|e| with_endpoint(e, opts))
}
