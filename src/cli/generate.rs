//! `iamfit generate`: the minimal policy from CloudTrail usage, proven against the current grant.
//! The policy alone goes on stdout; notes on stderr; `--report FILE` writes them as JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use iamfit_core::analyze::generate::{generate, render, report, Generated, Options};
use iamfit_core::analyze::service_needs::{service_needs, ServiceNeeds};
use iamfit_core::resolve::Target;
use iamfit_core::source::Replay;

use super::choices::{FormatArg, GranularityArg};
use iamfit_catalog::Catalog;

use super::output::emit;
use super::source::{load_principal, replay_target, PrincipalArgs};
use super::trail::{replay, TrailArgs};
use super::{CliError, CliResult, GlobalArgs, Style, EXIT_PARTIAL};

/// Arguments of `iamfit generate`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "The policy alone is printed on stdout; what was proven, missing permissions, splits and actions CloudTrail cannot show go to stderr (and to --report FILE as JSON).\n\nWith --function, what the Lambda service itself needs for the function's configuration (logs, tracing, VPC, triggers, dead-letter queue, destinations, file systems) is added as statements of its own (Sids LambdaLogs, LambdaSqsTrigger, ...), proven against the current grant; --no-service-needs leaves them out.\n\nExamples:\n  iamfit generate --function orders --snapshot policy-fixtures/demo\n  iamfit generate --function orders --trail s3://my-trail-bucket --since 30d --format sam\n  iamfit generate --principal arn:aws:iam::111122223333:role/app --trail ./logs --format terraform --report notes.json"
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
    /// Leave out what the Lambda service itself needs for the function's configuration (logs,
    /// tracing, VPC, triggers, destinations, file systems); by default they are their own statements.
    #[arg(long)]
    pub no_service_needs: bool,
}

pub fn run(args: &GenerateArgs, global: &GlobalArgs, style: &Style) -> CliResult {
    let (mut target, loading_note) = target_with_grant(args, global)?;
    let Some(r) = replay(&args.trail, global, &target.filter, target.account.as_deref(), style)? else {
        return Err(CliError::usage("no CloudTrail to read: generate needs --trail").with_hint(
            "use --trail lookup (management events, last 90 days), --trail s3://BUCKET/PREFIX, or --trail PATH to log files",
        ));
    };
    let mut resource_notes = Vec::new();
    if let Some(s) = target.subject.as_mut() {
        resource_notes = super::source::trail_resource_policies(global, &mut [s], &r.usage)?;
    }
    ensure_successful_calls(&r, &target.label)?;
    let needs = configuration_needs(args, &target);
    let options = Options {
        granularity: args.granularity.into(),
        lambda_runtime: args.who.function.is_some(),
        service_needs: needs.clone(),
        ..Options::default()
    };
    let mut g = generate(&r.usage, target.subject.as_ref(), Catalog::get(), &options);
    g.notes.splice(0..0, loading_note);
    g.notes.extend(needs.iter().flat_map(|n| n.notes.iter().cloned()));
    g.notes.extend(r.notes.iter().cloned());
    g.notes.extend(resource_notes);
    if !r.usage.unmapped.is_empty() {
        let list: Vec<String> = r.usage.unmapped.keys().map(|(s, n)| format!("{s} {n}")).collect();
        g.notes.push(format!(
            "{} event kind(s) could not be mapped to IAM actions and are not in the policy: {}",
            list.len(),
            list.join(", ")
        ));
    }
    if g.has_code_statements() {
        let mut text = render(&g, args.format.into(), &policy_name(args));
        // With --template, SAM and CloudFormation output is a patch to the template, Terraform output a
        // patch to the .tf files next to the `terraform show -json` document (the policies replaced).
        if let (Some(_), Some(f)) = (&global.template, args.who.function.as_deref()) {
            let docs: Vec<serde_json::Value> = g.documents.iter().map(|d| d.to_json()).collect();
            if matches!(args.format, FormatArg::Sam | FormatArg::Cloudformation) {
                text = super::source::template_patch(global, f, args.format == FormatArg::Sam, &docs, style)?;
            } else if args.format == FormatArg::Terraform {
                text = super::source::terraform_patch(global, f, &docs, style)?;
            }
        }
        emit(&text)?;
    }
    if let Some(path) = &args.report {
        let text = serde_json::to_string_pretty(&report(&g, &target.label)).unwrap_or_default() + "\n";
        std::fs::write(path, text)
            .map_err(|e| CliError::usage(format!("cannot write the report {}: {e}", path.display())))?;
    }
    if !global.quiet {
        print_notes(&g, options.size_limit, global.verbose, style);
    }
    if !g.has_code_statements() {
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

/// What the Lambda service needs for the function's configuration (`--function` only, unless
/// `--no-service-needs`).
fn configuration_needs(args: &GenerateArgs, target: &Target) -> Option<ServiceNeeds> {
    if args.no_service_needs {
        return None;
    }
    target.function.as_ref().map(|f| service_needs(f, Catalog::get()))
}

/// The replay target and its current grant; a note when the grant could not be read.
fn target_with_grant(args: &GenerateArgs, global: &GlobalArgs) -> Result<(Target, Option<String>), CliError> {
    let mut target = replay_target(&args.who, &args.trail, global)?;
    if target.subject.is_some() {
        return Ok((target, None));
    }
    let note = match &args.who.principal {
        Some(arn) => match load_principal(global, arn) {
            Ok(s) => {
                target.subject = Some(s);
                None
            }
            Err(e) => Some(format!("cannot read the current policies of {arn}: {}", e.message)),
        },
        None if args.who.function.is_some() => {
            Some("cannot read the current policies of the function's role".to_string())
        }
        None => Some("no principal named: the policy is what the recorded calls needed, not proven against a current grant".to_string()),
    };
    Ok((target, note))
}

/// Nothing to generate without a successful call.
fn ensure_successful_calls(r: &Replay, label: &str) -> Result<(), CliError> {
    if !r.usage.actions.is_empty() {
        return Ok(());
    }
    let hint = if r.usage.denied.is_empty() {
        "check --principal/--function and the window (--since, --until)".to_string()
    } else {
        format!("{} denied call(s) were seen: see iamfit usage", r.usage.denied.len())
    };
    Err(CliError::usage(format!(
        "no successful calls of {label} in the trail ({} events read): nothing to generate",
        r.records
    ))
    .with_hint(hint))
}

/// The name the generated policy's resources are named after.
fn policy_name(args: &GenerateArgs) -> String {
    args.who
        .function
        .as_deref()
        .map(|f| iamfit_core::account::function_name(f).to_string())
        .or_else(|| args.who.principal.as_deref().and_then(|p| p.rsplit('/').next()).map(str::to_string))
        .unwrap_or_else(|| "generated".into())
}

/// Sizes, notes, missing calls and unobservable grants, on stderr.
fn print_notes(g: &Generated, size_limit: usize, verbose: bool, style: &Style) {
    let sizes: Vec<String> = g.documents.iter().map(|d| d.size().to_string()).collect();
    style.note(&format!(
        "{} statement(s) in {} document(s), {} characters (limit {size_limit})",
        g.statement_count(),
        g.documents.len(),
        sizes.join(" + "),
    ));
    for n in &g.notes {
        style.note(n);
    }
    print_service_needs(g, style);
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
    for m in &g.missing_in_resource_policies {
        let deny = m
            .denied_by
            .as_ref()
            .map(|d| format!("; its statement {d} must stop matching"))
            .unwrap_or_default();
        eprintln!(
            "  missing in the {}: {} on {}: {}{deny}; it needs {}",
            m.policy, m.action, m.resource, m.reason, m.statement
        );
    }
    if g.unobservable.is_empty() {
        return;
    }
    style.note(&format!(
        "{} granted action(s) cannot be seen in this trail and are kept out of the policy; add back those the function needs:",
        g.unobservable.len()
    ));
    let shown = if verbose { g.unobservable.len() } else { 15 };
    for u in g.unobservable.iter().take(shown) {
        eprintln!("  unobservable: {} ({})", u.action, u.reason);
    }
    if g.unobservable.len() > shown {
        eprintln!("  ... and {} more (-v or --report FILE lists them all)", g.unobservable.len() - shown);
    }
}

/// The Lambda service's own permissions, apart from the evidence of CloudTrail: one line per Sid,
/// resource and reason.
fn print_service_needs(g: &Generated, style: &Style) {
    if g.service_needs.is_empty() {
        return;
    }
    style.note("needed by the function's configuration (the Lambda service's own calls, not in CloudTrail):");
    let mut lines: Vec<(String, &str, String, &str, Vec<&str>)> = Vec::new();
    for n in &g.service_needs {
        let statement = if n.sid.is_empty() { "NOT in the policy".to_string() } else { n.sid.clone() };
        let key = (statement, n.status, n.resource.clone(), n.reason.as_str());
        match lines.iter_mut().find(|l| (&l.0, l.1, &l.2, l.3) == (&key.0, key.1, &key.2, key.3)) {
            Some(line) => line.4.push(&n.action),
            None => lines.push((key.0, key.1, key.2, key.3, vec![&n.action])),
        }
    }
    for (statement, status, resource, reason, actions) in lines {
        eprintln!("  {statement}: {} on {resource} ({status}): {reason}", actions.join(", "));
    }
}
