//! `iamfit snapshot`: collect account state once, for offline use with `--snapshot`.

use std::path::PathBuf;
use std::process::ExitCode;

use iamfit_core::account::snapshot;

use super::source::{live_options, source_error};
use super::{CliError, CliResult, GlobalArgs, Style};

/// Arguments of `iamfit snapshot`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Writes DIR/account.json (as `aws iam get-account-authorization-details`), DIR/functions/NAME.json\n(as `aws lambda get-function-configuration`), DIR/functions/NAME.event-source-mappings.json (as `aws lambda\nlist-event-source-mappings --function-name NAME`), DIR/functions/NAME.event-invoke-config.json (as `aws lambda\nget-function-event-invoke-config --function-name NAME`, when the function has one) and DIR/identities/PROFILE.json\n(as `aws sts get-caller-identity`)."
)]
pub struct SnapshotArgs {
    /// The folder to write (created if needed).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Functions to include (repeatable).
    #[arg(long, value_name = "F")]
    pub function: Vec<String>,
}

pub fn run(args: &SnapshotArgs, global: &GlobalArgs, style: &Style) -> CliResult {
    if global.snapshot.is_some() {
        return Err(CliError::usage("`iamfit snapshot` reads from AWS: drop --snapshot"));
    }
    let profile = global.profile.clone().unwrap_or_else(|| "default".to_string());
    let account = iamfit_aws::sources::collect_snapshot(&live_options(global), &profile, &args.function)
        .map_err(source_error)?;
    snapshot::write(&args.out, &account).map_err(|e| CliError::other(e.to_string()))?;
    if !global.quiet {
        for f in &account.functions {
            for n in &f.config.notes {
                style.note(n);
            }
        }
        style.note(&format!(
            "wrote {}: {} users, {} groups, {} roles, {} managed policies, {} functions, profile {profile}",
            args.out.display(),
            account.users.len(),
            account.groups.len(),
            account.roles.len(),
            account.policies.len(),
            account.functions.len()
        ));
    }
    Ok(ExitCode::SUCCESS)
}
