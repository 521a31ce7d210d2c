//! `iamfit trust`: may the `--profile` principal assume the function's role? Evaluated with iamfit's
//! own evaluator (trust policy as the resource-based policy); when not, which side denies and the
//! least trust statement that would allow exactly that principal.

use std::process::ExitCode;

use iamfit_core::trust;

use super::exec::analyze;
use super::output::{emit, emit_json};
use super::render::Table;
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
    let a = analyze(global, &args.function)?;
    if global.output == OutputFormat::Json {
        emit_json(&trust::trust_json(&a))?;
        return Ok(ExitCode::SUCCESS);
    }
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let mut t = Table::new(["", ""]);
    t.row(["principal".to_string(), a.principal.clone()]);
    t.row(["role".to_string(), a.role.clone()]);
    t.row(["may assume".to_string(), style.verdict(if a.allowed { "allow" } else { "implicit-deny" })]);
    t.row(["trust policy allows".to_string(), yes_no(a.trust_allows).to_string()]);
    t.row(["identity policies allow".to_string(), yes_no(a.identity_allows).to_string()]);
    if let Some(side) = a.denying {
        let text = match side {
            trust::DenyingSide::Trust => "the role's trust policy",
            trust::DenyingSide::Identity => "the principal's identity policies",
            trust::DenyingSide::Both => "both the trust policy and the identity policies",
        };
        t.row(["denied by".to_string(), text.to_string()]);
    }
    let mut text = t.render();
    let verb = if a.allowed { "may" } else { "may not" };
    text.push_str(&format!("{} {verb} assume {}\n", a.principal, a.role));
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    if let Some(s) = &a.fix_statement {
        text.push_str(&format!(
            "\nLeast trust statement that would allow exactly this principal:\n{}\n",
            pretty(s)
        ));
    }
    if let Some(s) = &a.fix_identity {
        text.push_str(&format!("\nIdentity policy statement the principal needs:\n{}\n", pretty(s)));
    }
    emit(&text)?;
    if a.fix_statement.is_some() {
        style.warn(trust::TRUST_WARNING);
    }
    Ok(ExitCode::SUCCESS)
}
