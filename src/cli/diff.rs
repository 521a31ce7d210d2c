//! `iamfit diff`: the local principal (`--profile`) against the function's execution role. Arguments
//! become a [`DiffInput`], the core builds the [`iamfit_core::analyze::diff::DiffReport`], and
//! [`render`] prints it.

mod markdown;
mod render;

use iamfit_catalog::Catalog;
use iamfit_core::account::{function_name, Function, Subject};
use iamfit_core::analyze::diff::report::FunctionRef;
use iamfit_core::analyze::diff::{diff_report, DiffInput, Normalization};
use iamfit_core::analyze::service_needs::service_needs;
use iamfit_trail::PrincipalFilter;

use super::report::{check_format, print, FINDING_FORMATS};
use super::source::{load_accounts, Loaded};
use super::trail::{replay, TrailArgs};
use super::{exit_status, CliError, CliResult, GlobalArgs, OutputFormat, Style, EXIT_PARTIAL};
use render::DiffView;

/// Arguments of `iamfit diff`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  iamfit diff --function orders --profile dev\n  iamfit diff --function orders --profile dev --snapshot policy-fixtures/demo -o json\n  iamfit diff --function orders --profile dev --function-profile prod --map prod=dev --fail-on any"
)]
pub struct DiffArgs {
    /// Lambda function name or ARN.
    #[arg(long, value_name = "F")]
    pub function: String,
    /// Read the function (and its role) with this profile's credentials (another account).
    #[arg(long, value_name = "P2")]
    pub function_profile: Option<String>,
    /// Treat resource names containing PROD as the same as names containing DEV (repeatable).
    #[arg(long = "map", value_name = "PROD=DEV")]
    pub map: Vec<String>,
    /// Exit with status 1 when mismatches exist: `any`, or only `used` mismatches.
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// How many actions (and witnesses) a table line names before "and N more".
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub per_service: usize,
    /// List every mismatch on its own line in the table and Markdown (JSON always lists every one).
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub trail: TrailArgs,
}

/// When `diff` fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Any mismatch.
    Any,
    /// A mismatch on a resource the function was seen calling.
    Used,
}

pub fn run(args: &DiffArgs, global: &GlobalArgs, style: &Style) -> CliResult {
    check_format("diff", FINDING_FORMATS, global.output)?;
    let profile = global.profile.clone().unwrap_or_else(|| "default".to_string());
    let loaded =
        load_accounts(global, Some(&profile), Some(&args.function), args.function_profile.as_deref())?;
    let (function, mut local, mut prod) = subjects(&loaded, &args.function, &profile)?;
    let norm = normalization(&args.map, function, &local)?;

    let filter = PrincipalFilter::Role {
        arn: function.role.clone(),
        name: function.role.rsplit('/').next().unwrap_or(&function.role).to_string(),
        session: Some(function_name(&function.name).to_string()),
    };
    let replayed = replay(&args.trail, global, &filter, function.account(), style)?;
    let mut notes: Vec<String> = loaded.notes.clone();
    if let Some(r) = &replayed {
        notes.extend(super::source::trail_resource_policies(global, &mut [&mut local, &mut prod], &r.usage)?);
    }
    // The two sides of one account share notes (its organization policies, its resource
    // policies): say each once.
    for n in local.notes.iter().chain(&prod.notes) {
        if !notes.contains(n) {
            notes.push(n.clone());
        }
    }
    notes.extend(norm.describe());
    match &replayed {
        Some(r) => {
            notes.extend(r.notes.iter().cloned());
            notes.push(format!("CloudTrail: {} events read, {} by the function", r.records, r.usage.matched));
        }
        None => notes.push(
            "usage is unknown: no CloudTrail was read, so there are no calls and `used` is false everywhere (add --trail lookup, --trail s3://BUCKET/PREFIX or --trail PATH)".into(),
        ),
    }
    let trail_partial = replayed.as_ref().is_some_and(|r| r.partial());
    let partial = local.partial || prod.partial || trail_partial;
    // What the Lambda service needs for the function's configuration is no surprise for the code.
    let catalog = Catalog::get();
    let needs = service_needs(function, catalog);
    let input = DiffInput {
        local: &local,
        prod: &prod,
        norm: &norm,
        usage: replayed.as_ref().map(|r| &r.usage),
        function: FunctionRef {
            name: function.name.clone(),
            arn: Some(function.arn.clone()),
            role_arn: Some(function.role.clone()),
        },
        profile: profile.clone(),
        role: loaded.function_account.role(&function.role),
        needs: Some(&needs),
        notes,
        partial,
    };
    let report = diff_report(input, catalog);
    print(&DiffView { report: &report, all: args.all, per_service: args.per_service }, global.output, style)?;
    if !global.quiet && global.output != OutputFormat::Table {
        report.notes.iter().for_each(|n| style.note(n));
    }
    if partial {
        style.warn(&format!(
            "the result is partial: some policies or log files could not be read (see the notes; exit status {EXIT_PARTIAL})"
        ));
    }
    let failing = match args.fail_on {
        Some(FailOn::Any) => !report.mismatches.is_empty(),
        Some(FailOn::Used) => report.summary.used_mismatches > 0,
        None => false,
    };
    Ok(exit_status(failing, partial))
}

/// The function, the local principal and the function's role.
fn subjects<'a>(
    loaded: &'a Loaded,
    function: &str,
    profile: &str,
) -> Result<(&'a Function, Subject, Subject), CliError> {
    let Loaded { local_account, function_account, .. } = loaded;
    let function = function_account.function(function).map_err(|e| {
        CliError::usage(e.to_string()).with_hint(
            "check the function name, or pass --function-profile for a function in another account",
        )
    })?;
    let prod = function_account
        .role_subject(&function.role, function_name(&function.name))
        .map_err(|e| CliError::usage(format!("function {}: {e}", function.name)))?;
    let identity = local_account.identity(profile).map_err(|e| {
        CliError::usage(e.to_string()).with_hint(
            "the snapshot's identities/ folder needs PROFILE.json from `aws sts get-caller-identity`",
        )
    })?;
    let local = local_account
        .identity_subject(identity)
        .map_err(|e| CliError::usage(format!("profile {profile}: {e}")))?;
    Ok((function, local, prod))
}

/// The account-id mapping (when the two accounts differ) and the `--map PROD=DEV` names.
fn normalization(maps: &[String], function: &Function, local: &Subject) -> Result<Normalization, CliError> {
    let mut norm = Normalization::default();
    if let (Some(prod_acct), Some(local_acct)) = (function.account(), local.principal.account.as_deref()) {
        if prod_acct != local_acct {
            norm.accounts = Some((prod_acct.to_string(), local_acct.to_string()));
        }
    }
    for m in maps {
        let (p, d) =
            m.split_once('=').ok_or_else(|| CliError::usage(format!("--map {m:?}: expected PROD=DEV")))?;
        if p.is_empty() || d.is_empty() {
            return Err(CliError::usage(format!("--map {m:?}: both sides must be non-empty")));
        }
        norm.names.push((p.to_string(), d.to_string()));
    }
    Ok(norm)
}
