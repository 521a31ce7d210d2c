//! `iamfit trust`: may the `--profile` principal assume the function's role? Evaluated with iamfit's
//! own evaluator (trust policy as the resource-based policy); when not, which side denies and the
//! least trust statement that would allow exactly that principal.

use std::process::ExitCode;

use iamfit_core::trust::{self, TrustReport};

use super::exec::analyze;
use super::render::Table;
use super::report::{print, Report};
use super::{CliResult, GlobalArgs, OutputFormat, Style};

/// Arguments of `iamfit trust`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  iamfit trust --function orders --profile dev")]
pub struct TrustArgs {
    /// The function whose execution role to check.
    #[arg(long, value_name = "F")]
    pub function: String,
}

pub fn run(args: &TrustArgs, global: &GlobalArgs, style: &Style) -> CliResult {
    super::report::check_format("trust", super::report::TEXT_FORMATS, global.output)?;
    let report = TrustReport::from(&analyze(global, &args.function)?);
    print(&report, global.output, style)?;
    if report.warning.is_some() && global.output != OutputFormat::Json {
        style.warn(trust::TRUST_WARNING);
    }
    Ok(ExitCode::SUCCESS)
}

fn denied_by_text(side: &str) -> &'static str {
    match side {
        "trust" => "the role's trust policy",
        "identity" => "the principal's identity policies",
        _ => "both the trust policy and the identity policies",
    }
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

impl Report for TrustReport {
    fn table(&self, style: &Style) -> String {
        let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
        let mut t = Table::new(["", ""]);
        t.row(["principal".to_string(), self.principal.clone()]);
        t.row(["role".to_string(), self.role.clone()]);
        t.row([
            "may assume".to_string(),
            style.verdict(if self.allowed { "allow" } else { "implicit-deny" }),
        ]);
        t.row(["trust policy allows".to_string(), yes_no(self.trust_policy_allows)]);
        t.row(["identity policies allow".to_string(), yes_no(self.identity_policy_allows)]);
        if let Some(side) = self.denied_by {
            t.row(["denied by".to_string(), denied_by_text(side).to_string()]);
        }
        let mut text = t.render();
        let verb = if self.allowed { "may" } else { "may not" };
        text.push_str(&format!("{} {verb} assume {}\n", self.principal, self.role));
        if let Some(s) = &self.fix.trust_statement {
            text.push_str(&format!(
                "\nLeast trust statement that would allow exactly this principal:\n{}\n",
                pretty(s)
            ));
        }
        if let Some(s) = &self.fix.identity_statement {
            text.push_str(&format!("\nIdentity policy statement the principal needs:\n{}\n", pretty(s)));
        }
        text
    }

    fn markdown(&self) -> String {
        let verb = if self.allowed { "may" } else { "may not" };
        let mut text = format!("### `{}` {verb} assume `{}`\n\n", self.principal, self.role);
        text.push_str(&format!(
            "| trust policy allows | identity policies allow |\n|---|---|\n| {} | {} |\n",
            self.trust_policy_allows, self.identity_policy_allows
        ));
        if let Some(side) = self.denied_by {
            text.push_str(&format!("\nDenied by {}.\n", denied_by_text(side)));
        }
        for (title, s) in [
            ("Least trust statement that would allow exactly this principal", &self.fix.trust_statement),
            ("Identity policy statement the principal needs", &self.fix.identity_statement),
        ] {
            if let Some(s) = s {
                text.push_str(&format!("\n{title}:\n\n```json\n{}\n```\n", pretty(s)));
            }
        }
        if let Some(w) = self.warning {
            text.push_str(&format!("\n> **Warning:** {w}\n"));
        }
        text
    }
}
