//! `iamfit graph`: a principal's permission graph in Graphviz DOT.

use std::io::Write;
use std::process::ExitCode;

use serde_json::json;

use iamfit_catalog::Catalog;
use iamfit_core::account::function_name;
use iamfit_core::analyze::effective::effective_permissions;

use super::render::Table;

use super::source::load_accounts;
use super::{CliError, CliResult, GlobalArgs, OutputFormat, Style};

/// Arguments of `iamfit graph`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  iamfit graph --function orders --snapshot policy-fixtures/demo | dot -Tsvg > orders.svg\n  iamfit graph --profile dev --snapshot policy-fixtures/demo"
)]
pub struct GraphArgs {
    /// The function whose execution role to draw; without it, the --profile principal is drawn.
    #[arg(long, value_name = "F")]
    pub function: Option<String>,
    /// Instead of the graph, list the effective permissions: per action, the resources allowed,
    /// allowed only under conditions, and removed by an explicit deny (table or -o json).
    #[arg(long)]
    pub effective: bool,
}

pub fn run(args: &GraphArgs, global: &GlobalArgs, style: &Style) -> CliResult {
    super::report::check_format("graph", super::report::TEXT_FORMATS, global.output)?;
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
    let text = if args.effective {
        let list = effective_permissions(&subject, Catalog::get());
        match global.output {
            OutputFormat::Json => {
                let items: Vec<_> = list
                    .iter()
                    .map(|e| json!({"action": e.action, "allowed": e.allowed, "conditional": e.conditional, "denied": e.denied}))
                    .collect();
                serde_json::to_string_pretty(&json!({"principal": subject.principal.arn, "actions": items}))
                    .unwrap_or_default()
                    + "\n"
            }
            _ => {
                let mut t = Table::new(["action", "allowed", "only under conditions", "explicitly denied"]);
                for e in &list {
                    t.row([
                        e.action.clone(),
                        e.allowed.join(" "),
                        e.conditional.join(" "),
                        e.denied.join(" "),
                    ]);
                }
                t.render()
            }
        }
    } else {
        subject.graph.to_dot()
    };
    std::io::stdout().lock().write_all(text.as_bytes()).map_err(CliError::write)?;
    Ok(ExitCode::SUCCESS)
}
