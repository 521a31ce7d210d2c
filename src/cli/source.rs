//! Where account state comes from: the command line picks a source behind the core's
//! [`AccountSource`] port: a snapshot folder (`--snapshot`) or AWS (live, through the adapter crate).

use iamfit_aws::live::LiveOptions;
use iamfit_aws::sources::LiveAccount;
use iamfit_core::account::{Account, Subject};
use iamfit_core::resolve;
use iamfit_core::source::{AccountSource, SnapshotSource, SourceError};

use super::{CliError, GlobalArgs};

/// The accounts of the local principal and of the function (the same account unless
/// `--function-profile` reads the function elsewhere), with notes about how they were read.
pub struct Loaded {
    /// The account holding the local principal (`--profile`).
    pub local_account: Account,
    /// The account holding the function.
    pub function_account: Account,
    /// What the user should know about the data.
    pub notes: Vec<String>,
}

/// The global options' AWS settings (`--profile`, `--region`, `--endpoint-url`).
pub fn live_options(global: &GlobalArgs) -> LiveOptions {
    LiveOptions {
        profile: global.profile.clone(),
        region: global.region.clone(),
        endpoint_url: global.endpoint_url.clone(),
    }
}

/// The account source the global options name: the snapshot folder, or the live account.
pub fn account_source(global: &GlobalArgs) -> Box<dyn AccountSource> {
    match &global.snapshot {
        Some(dir) => Box::new(SnapshotSource::new(dir)),
        None => Box::new(LiveAccount::new(live_options(global))),
    }
}

/// Turns a source failure into one clear line, its hint, and (for `-v`) the detail.
pub fn source_error(e: SourceError) -> CliError {
    let mut err = CliError::other(e.to_string());
    if let Some(h) = e.help() {
        err = err.with_hint(h);
    }
    if let Some(d) = e.detail() {
        err = err.with_detail(d);
    }
    err
}

/// Loads what `diff` needs: the profile's principal and the function with its role.
pub fn load_accounts(
    global: &GlobalArgs,
    profile: Option<&str>,
    function: Option<&str>,
    function_profile: Option<&str>,
) -> Result<Loaded, CliError> {
    let local = account_source(global);
    let other: Option<Box<dyn AccountSource>> = match (function_profile, &global.snapshot) {
        (Some(p), None) => Some(Box::new(LiveAccount::new(LiveOptions {
            profile: Some(p.to_string()),
            ..live_options(global)
        }))),
        _ => None,
    };
    let sides =
        resolve::load_sides(local.as_ref(), other.as_deref(), profile, function).map_err(source_error)?;
    Ok(Loaded { local_account: sides.local, function_account: sides.function, notes: sides.notes })
}

/// The subject for a principal ARN (role, role session, or user), from the snapshot or AWS.
pub fn load_principal(global: &GlobalArgs, arn: &str) -> Result<Subject, CliError> {
    resolve::principal_subject(account_source(global).as_ref(), arn).map_err(source_error)
}
