//! `iamfit graph`: a principal's permission graph in Graphviz DOT.

use std::io::Write;
use std::process::ExitCode;

use iamfit::account::function_name;

use super::source::load_accounts;
use super::{CliError, CliResult, GlobalArgs, Style};

/// Arguments of `iamfit graph`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  iamfit graph --function orders --snapshot policy-fixtures/demo | dot -Tsvg > orders.svg\n  iamfit graph --profile dev --snapshot policy-fixtures/demo"
)]
pub struct GraphArgs {
    /// The function whose execution role to draw; without it, the --profile principal is drawn.
    #[arg(long, value_name = "F")]
    pub function: Option<String>,
}

pub fn run(args: &GraphArgs, global: &GlobalArgs, style: &Style) -> CliResult {
    let profile = global.profile.clone().unwrap_or_else(|| "default".to_string());
    let subject = match &args.function {
        Some(f) => {
            let loaded = load_accounts(global, None, Some(f), None)?;
            let function = loaded.function_account.function(f).map_err(|e| CliError::usage(e.to_string()))?;
            loaded
                .function_account
                .role_subject(&function.role, function_name(&function.name))
                .map_err(|e| CliError::usage(e.to_string()))?
        }
        None => {
            let loaded = load_accounts(global, Some(&profile), None, None)?;
            let identity =
                loaded.local_account.identity(&profile).map_err(|e| CliError::usage(e.to_string()))?;
            loaded.local_account.identity_subject(identity).map_err(|e| CliError::usage(e.to_string()))?
        }
    };
    let (policies, statements) = subject.graph.counts();
    if !global.quiet {
        style.note(&format!("{subject}: {policies} policies, {statements} statements"));
        for n in &subject.notes {
            style.note(n);
        }
    }
    std::io::stdout()
        .lock()
        .write_all(subject.graph.to_dot().as_bytes())
        .map_err(|e| CliError::other(format!("cannot write output: {e}")))?;
    Ok(ExitCode::SUCCESS)
}
