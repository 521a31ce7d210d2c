//! `iamfit snapshot`: collect account state once, for offline use with `--snapshot`.

use std::path::PathBuf;
use std::process::ExitCode;

use iamfit_core::account::snapshot;

use super::source::{live_options, source_error};
use super::{CliError, CliResult, GlobalArgs, Style};

/// Arguments of `iamfit snapshot`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Writes DIR/account.json (as `aws iam get-account-authorization-details`), DIR/functions/NAME.json\n(as `aws lambda get-function-configuration`), DIR/functions/NAME.event-source-mappings.json (as `aws lambda\nlist-event-source-mappings --function-name NAME`), DIR/functions/NAME.event-invoke-config.json (as `aws lambda\nget-function-event-invoke-config --function-name NAME`, when the function has one), DIR/identities/PROFILE.json\n(as `aws sts get-caller-identity`), DIR/resource-policies/SERVICE/FILE.json for the resources in play (as `aws kms\nget-key-policy`, `aws s3api get-bucket-policy`, ...: see docs/reference.md).\nWith --org, also DIR/organization/organization.json (as `aws organizations\ndescribe-organization`) and DIR/organization/accounts/ACCOUNT_ID.json (the levels root to\naccount, each with its SCPs and RCPs as `aws organizations describe-policy` prints them)."
)]
pub struct SnapshotArgs {
    /// The folder to write (created if needed).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Functions to include (repeatable).
    #[arg(long, value_name = "F")]
    pub function: Vec<String>,
    /// Also write organization/: the SCPs and RCPs of the account's levels (root, OUs, account),
    /// read from AWS Organizations (with --org-profile's credentials when given).
    #[arg(long)]
    pub org: bool,
}

pub fn run(args: &SnapshotArgs, global: &GlobalArgs, style: &Style) -> CliResult {
    if global.template.is_some() {
        if args.org {
            return Err(CliError::usage(
                "--org reads AWS Organizations: it cannot be combined with --template",
            ));
        }
        return from_template(args, global, style);
    }
    if global.snapshot.is_some() {
        return Err(CliError::usage("`iamfit snapshot` reads from AWS: drop --snapshot"));
    }
    let profile = global.profile.clone().unwrap_or_else(|| "default".to_string());
    let (mut account, notes) =
        iamfit_aws::sources::collect_snapshot(&live_options(global), &profile, &args.function)
            .map_err(source_error)?;
    if args.org {
        let org = iamfit_aws::sources::collect_organization(&live_options(global), &account)
            .map_err(source_error)?;
        account.organization = Some(org);
    }
    snapshot::write(&args.out, &account).map_err(|e| CliError::other(e.to_string()))?;
    if let (false, Some(org)) = (global.quiet, &account.organization) {
        org.notes.iter().for_each(|n| style.note(n));
        let ids: Vec<&str> = org.accounts.iter().map(|a| a.account.as_str()).collect();
        style.note(&format!(
            "wrote {}/organization/: the SCPs and RCPs of account {}",
            args.out.display(),
            ids.join(", ")
        ));
    }
    if !global.quiet {
        for f in &account.functions {
            for n in &f.config.notes {
                style.note(n);
            }
        }
        for n in &notes {
            style.note(n);
        }
        style.note(&format!(
            "wrote {}: {} users, {} groups, {} roles, {} managed policies, {} functions, {} resource policies, profile {profile}",
            args.out.display(),
            account.users.len(),
            account.groups.len(),
            account.roles.len(),
            account.policies.len(),
            account.functions.len(),
            account.resource_policies.len()
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// `iamfit snapshot --template FILE --out DIR`: the template expanded into a snapshot folder (each
/// function with its configuration, event source mappings and invoke configuration).
fn from_template(args: &SnapshotArgs, global: &GlobalArgs, style: &Style) -> CliResult {
    let Some(source) = super::source::template_source(global) else {
        return Err(CliError::usage("--template needs a file"));
    };
    let source = source?;
    let expansion = source.expand().map_err(source_error)?;
    let mut account = expansion.account.clone();
    if !args.function.is_empty() {
        account.functions.retain(|f| {
            args.function
                .iter()
                .any(|w| *w == f.name || expansion.function(w).is_some_and(|t| t.name == f.name))
        });
    }
    snapshot::write(&args.out, &account).map_err(|e| CliError::other(e.to_string()))?;
    if !global.quiet {
        for note in expansion.all_notes(&source.path().display().to_string()) {
            style.note(&note);
        }
        style.note(&format!(
            "wrote {} from {}: {} roles, {} managed policies, {} functions",
            args.out.display(),
            source.path().display(),
            account.roles.len(),
            account.policies.len(),
            account.functions.len()
        ));
    }
    Ok(ExitCode::SUCCESS)
}
