//! `iamfit trust`: may the `--profile` principal assume the function's role? Evaluated with iamfit's
//! own evaluator (trust policy as the resource-based policy); when not, which side denies and the
//! least trust statement that would allow exactly that principal.

use std::process::ExitCode;

use iamfit_core::trust;

use super::exec::analyze;
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
    let a = analyze(global, &args.function)?;
    if global.output == OutputFormat::Json {
        println!("{}", serde_json::to_string_pretty(&trust::trust_json(&a)).unwrap_or_default());
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
    print!("{}", t.render());
    if a.allowed {
        println!("{} may assume {}", a.principal, a.role);
    } else {
        println!("{} may not assume {}", a.principal, a.role);
    }
    if let Some(s) = &a.fix_statement {
        println!("\nLeast trust statement that would allow exactly this principal:");
        println!("{}", serde_json::to_string_pretty(s).unwrap_or_default());
        style.warn(trust::TRUST_WARNING);
    }
    if let Some(s) = &a.fix_identity {
        println!("\nIdentity policy statement the principal needs:");
        println!("{}", serde_json::to_string_pretty(s).unwrap_or_default());
    }
    Ok(ExitCode::SUCCESS)
}
