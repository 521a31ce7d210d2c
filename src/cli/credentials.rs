//! `iamfit credentials`: the function role's credentials as `credential_process` JSON, cached in the
//! user's cache folder (owner-only, written atomically) and reused until five minutes before expiry.
//! The secrets go to stdout only.

use std::process::ExitCode;

use iamfit_core::trust;

use super::exec::{assume_for, session_policy, RoleArgs};
use super::{CliResult, GlobalArgs, Style};

/// Arguments of `iamfit credentials`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example ~/.aws/config profile:\n  [profile orders-role]\n  credential_process = iamfit credentials --function orders --profile dev"
)]
pub struct CredentialsArgs {
    #[command(flatten)]
    pub role: RoleArgs,
}

pub fn run(args: &CredentialsArgs, global: &GlobalArgs, style: &Style) -> CliResult {
    let policy = session_policy(global, &args.role, style)?;
    let key = trust::cache_key(&[
        args.role.function()?,
        global.profile.as_deref().unwrap_or(""),
        global.region.as_deref().unwrap_or(""),
        global.endpoint_url.as_deref().unwrap_or(""),
        policy.as_deref().unwrap_or(""),
        &args.role.duration_seconds.map(|d| d.to_string()).unwrap_or_default(),
    ]);
    let path = trust::cache_dir().map(|d| d.join(key));
    if let Some(creds) = path.as_deref().and_then(trust::cache_read) {
        super::output::emit_line(&creds.to_process_json().to_string())?;
        return Ok(ExitCode::SUCCESS);
    }
    let assumed = assume_for(global, &args.role, policy)?;
    match &path {
        Some(p) => {
            if let Err(e) = trust::cache_write(p, &assumed.credentials) {
                style.warn(&format!("cannot cache the credentials in {}: {e}", p.display()));
            }
        }
        None => style.warn("no cache folder (set IAMFIT_CACHE_DIR): the credentials are not cached"),
    }
    super::output::emit_line(&assumed.credentials.to_process_json().to_string())?;
    Ok(ExitCode::SUCCESS)
}
