//! `iamfit snapshot`: collect account state once, for offline use with `--snapshot`.

use std::path::PathBuf;
use std::process::ExitCode;

use iamfit::account::{live, snapshot};

use super::source::{live_error, live_options, runtime};
use super::{CliError, CliResult, GlobalArgs, Style};

/// Arguments of `iamfit snapshot`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Writes DIR/account.json (as `aws iam get-account-authorization-details`), DIR/functions/NAME.json\n(as `aws lambda get-function-configuration`) and DIR/identities/PROFILE.json (as `aws sts get-caller-identity`)."
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
    let rt = runtime()?;
    let account = rt.block_on(async {
        let opts = live_options(global);
        let config = live::sdk_config(&opts).await?;
        let identity = live::caller_identity(&config).await?;
        let mut account = live::authorization_details(&config).await?;
        account.identities.push((profile.clone(), identity));
        for f in &args.function {
            account.functions.push(live::function(&config, f).await?);
        }
        Ok::<_, live::LiveError>(account)
    });
    let account = account.map_err(live_error)?;
    snapshot::write(&args.out, &account).map_err(|e| CliError::other(e.to_string()))?;
    if !global.quiet {
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
