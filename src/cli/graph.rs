//! `iamfit graph`: a principal's permission graph in Graphviz DOT.

use std::process::ExitCode;

use iamfit_catalog::Catalog;
use iamfit_core::account::function_name;
use iamfit_core::analyze::effective::{effective_permissions, EffectiveReport};

use super::output::emit;
use super::render::Table;
use super::report::{print, Report};

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
    if args.effective {
        let report = EffectiveReport {
            principal: subject.principal.arn.clone(),
            actions: effective_permissions(&subject, Catalog::get()),
            organization: subject.graph.org_levels(),
        };
        print(&report, global.output, style)?;
    } else {
        emit(&subject.graph.to_dot())?;
    }
    Ok(ExitCode::SUCCESS)
}

impl Report for EffectiveReport {
    fn table(&self, _style: &Style) -> String {
        let mut out = String::new();
        if !self.organization.is_empty() {
            let mut o = Table::new(["organization level", "SCPs", "RCPs"]);
            for l in &self.organization {
                o.row([l.level.clone(), l.scp.join(", "), l.rcp.join(", ")]);
            }
            out = o.render() + "\n";
        }
        let mut t = Table::new(["action", "allowed", "only under conditions", "explicitly denied"]);
        for e in &self.actions {
            t.row([e.action.clone(), e.allowed.join(" "), e.conditional.join(" "), e.denied.join(" ")]);
        }
        out + &t.render()
    }

    fn markdown(&self) -> String {
        let cell = |v: &[String]| v.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(" ");
        let mut s = format!("### Effective permissions of `{}`\n\n", self.principal);
        if !self.organization.is_empty() {
            s += "| organization level | SCPs | RCPs |\n|---|---|---|\n";
            for l in &self.organization {
                s += &format!("| {} | {} | {} |\n", l.level, cell(&l.scp), cell(&l.rcp));
            }
            s += "\n";
        }
        s += "| action | allowed | only under conditions | explicitly denied |\n|---|---|---|---|\n";
        for e in &self.actions {
            s += &format!(
                "| `{}` | {} | {} | {} |\n",
                e.action,
                cell(&e.allowed),
                cell(&e.conditional),
                cell(&e.denied)
            );
        }
        s
    }
}
