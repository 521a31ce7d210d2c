//! `iamfit generate`: the minimal policy from CloudTrail usage, proven against the current grant.
//! The policy alone goes on stdout; notes on stderr; `--report FILE` writes them as JSON.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use iamfit_core::analyze::generate::{generate, render, report_json, Options};

use super::choices::{FormatArg, GranularityArg};
use iamfit_catalog::Catalog;

use super::trail::{replay, TrailArgs};
use super::usage::{principal_filter, principal_subject, PrincipalArgs};
use super::{CliError, CliResult, GlobalArgs, Style, EXIT_PARTIAL};

/// Arguments of `iamfit generate`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "The policy alone is printed on stdout; what was proven, missing permissions, splits and actions CloudTrail cannot show go to stderr (and to --report FILE as JSON).\n\nExamples:\n  iamfit generate --function orders --snapshot policy-fixtures/demo\n  iamfit generate --function orders --trail s3://my-trail-bucket --since 30d --format sam\n  iamfit generate --principal arn:aws:iam::111122223333:role/app --trail ./logs --format terraform --report notes.json"
)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub who: PrincipalArgs,
    #[command(flatten)]
    pub trail: TrailArgs,
    /// Output format of the policy.
    #[arg(long, value_enum, default_value_t = FormatArg::Iam)]
    pub format: FormatArg,
    /// How resource sets are summarised: every ARN, common prefixes (`prefix/*`), or bucket-wide.
    #[arg(long, value_enum, default_value_t = GranularityArg::Prefix)]
    pub granularity: GranularityArg,
    /// Also write the notes as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

pub fn run(args: &GenerateArgs, global: &GlobalArgs, style: &Style) -> CliResult {
    let mut target = principal_filter(args.who.function.as_deref(), args.who.principal.as_deref(), global)?;
    let mut loading_note = None;
    if target.subject.is_none() {
        if let Some(arn) = &args.who.principal {
            match principal_subject(arn, global) {
                Ok(s) => target.subject = Some(s),
                Err(e) => {
                    loading_note = Some(format!("cannot read the current policies of {arn}: {}", e.message))
                }
            }
        } else {
            loading_note = Some("cannot read the current policies of the function's role".to_string());
        }
    }
    let Some(r) = replay(&args.trail, global, &target.filter, target.account.as_deref(), style)? else {
        return Err(CliError::usage("no CloudTrail to read: generate needs --trail").with_hint(
            "use --trail lookup (management events, last 90 days), --trail s3://BUCKET/PREFIX, or --trail PATH to log files",
        ));
    };
    if r.usage.actions.is_empty() {
        let hint = if r.usage.denied.is_empty() {
            "check --principal/--function and the window (--since, --until)".to_string()
        } else {
            format!("{} denied call(s) were seen: see iamfit usage", r.usage.denied.len())
        };
        return Err(CliError::usage(format!(
            "no successful calls of {} in the trail ({} events read): nothing to generate",
            target.label, r.records
        ))
        .with_hint(hint));
    }
    let options = Options {
        granularity: args.granularity.into(),
        lambda_runtime: args.who.function.is_some(),
        ..Options::default()
    };
    let mut g = generate(&r.usage, target.subject.as_ref(), Catalog::get(), &options);
    if let Some(n) = loading_note {
        g.notes.insert(0, n);
    }
    g.notes.extend(r.notes.iter().cloned());
    if !r.usage.unmapped.is_empty() {
        let list: Vec<String> = r.usage.unmapped.keys().map(|(s, n)| format!("{s} {n}")).collect();
        g.notes.push(format!(
            "{} event kind(s) could not be mapped to IAM actions and are not in the policy: {}",
            list.len(),
            list.join(", ")
        ));
    }
    let name = args
        .who
        .function
        .as_deref()
        .map(|f| iamfit_core::account::function_name(f).to_string())
        .or_else(|| args.who.principal.as_deref().and_then(|p| p.rsplit('/').next()).map(str::to_string))
        .unwrap_or_else(|| "generated".into());
    let empty = g.documents.is_empty();
    let mut text = if empty { String::new() } else { render(&g, args.format.into(), &name) };
    // With --template, SAM and CloudFormation output is a patch to the template (the policies replaced).
    if let (Some(_), Some(f), false) = (&global.template, args.who.function.as_deref(), empty) {
        if matches!(args.format, FormatArg::Sam | FormatArg::Cloudformation) {
            let docs: Vec<serde_json::Value> = g.documents.iter().map(|d| d.to_json()).collect();
            text = super::source::template_patch(global, f, args.format == FormatArg::Sam, &docs, style)?;
        }
    }
    std::io::stdout().lock().write_all(text.as_bytes()).map_err(CliError::write)?;

    if let Some(path) = &args.report {
        let v = report_json(&g, &target.label);
        std::fs::write(path, serde_json::to_string_pretty(&v).unwrap_or_default() + "\n")
            .map_err(|e| CliError::usage(format!("cannot write the report {}: {e}", path.display())))?;
    }
    if !global.quiet {
        let sizes: Vec<String> = g.documents.iter().map(|d| d.size().to_string()).collect();
        style.note(&format!(
            "{} statement(s) in {} document(s), {} characters (limit {})",
            g.statement_count(),
            g.documents.len(),
            sizes.join(" + "),
            options.size_limit
        ));
        for n in &g.notes {
            style.note(n);
        }
        if !g.missing.is_empty() {
            style.warn(&format!(
                "{} used call(s) are NOT in the policy (the current role does not grant them, or they were denied):",
                g.missing.len()
            ));
            for m in &g.missing {
                let res = if m.resource.is_empty() { String::new() } else { format!(" on {}", m.resource) };
                eprintln!("  missing: {}{res}: {}", m.action, m.reason);
            }
        }
        if !g.unobservable.is_empty() {
            style.note(&format!(
                "{} granted action(s) cannot be seen in this trail and are kept out of the policy; add back those the function needs:",
                g.unobservable.len()
            ));
            let shown = if global.verbose { g.unobservable.len() } else { 15 };
            for u in g.unobservable.iter().take(shown) {
                eprintln!("  unobservable: {} ({})", u.action, u.reason);
            }
            if g.unobservable.len() > shown {
                eprintln!(
                    "  ... and {} more (-v or --report FILE lists them all)",
                    g.unobservable.len() - shown
                );
            }
        }
    }
    if empty {
        return Err(CliError::usage(format!(
            "none of the {} used call(s) is granted by the current policies of {}: there is no policy to print",
            g.proof.used_calls, target.label
        ))
        .with_hint("the calls are listed above as missing; grant what is needed, then run generate again"));
    }
    if r.partial() {
        style.warn(&format!(
            "the usage is partial: {} file(s) could not be read and {} record(s) were malformed (exit status {EXIT_PARTIAL})",
            r.failed.len(),
            r.malformed
        ));
        return Ok(ExitCode::from(EXIT_PARTIAL));
    }
    Ok(ExitCode::SUCCESS)
}
