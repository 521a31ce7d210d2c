//! `iamfit usage`: what a principal actually did, from CloudTrail.

use std::io::Write;
use std::process::ExitCode;

use serde_json::{json, Value};

use iamfit_catalog::Catalog;
use iamfit_core::analyze::effective::effective_permissions;
use iamfit_trail::map::{coverage, Coverage};

use super::render::Table;
use iamfit_core::resolve;

use super::source::{account_source, source_error};
use super::trail::{replay, Replay, TrailArgs};
use super::{CliError, CliResult, GlobalArgs, OutputFormat, Style, EXIT_PARTIAL};

/// Arguments of `iamfit usage`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  iamfit usage --function orders --snapshot policy-fixtures/demo\n  iamfit usage --principal arn:aws:iam::111122223333:role/app --trail s3://my-trail-bucket --since 30d\n  iamfit usage --function orders --trail lookup"
)]
pub struct UsageArgs {
    #[command(flatten)]
    pub who: PrincipalArgs,
    #[command(flatten)]
    pub trail: TrailArgs,
}

/// `--function F` or `--principal ARN`: whose CloudTrail usage a command replays (usage, generate).
#[derive(Debug, Clone, clap::Args)]
pub struct PrincipalArgs {
    /// The Lambda function (its execution role's sessions named after the function).
    #[arg(long, value_name = "F", conflicts_with = "principal", required_unless_present = "principal")]
    pub function: Option<String>,
    /// A role ARN (any session), an assumed-role session ARN, or an IAM user ARN.
    #[arg(long, value_name = "ARN")]
    pub principal: Option<String>,
}

pub use iamfit_core::resolve::Target;

/// The replay target for `--function` (with its role's current grant) or `--principal` (the ARN
/// alone; the grant is read only where a command needs it).
pub fn principal_filter(
    function: Option<&str>,
    principal: Option<&str>,
    global: &GlobalArgs,
) -> Result<Target, CliError> {
    match function {
        Some(f) => resolve::function_target(account_source(global).as_ref(), f).map_err(source_error),
        None => resolve::principal_target(principal.unwrap_or_default()).map_err(source_error),
    }
}

/// The current grant of a `--principal` (role, role session or user): from the snapshot, or read
/// live from IAM.
pub fn principal_subject(arn: &str, global: &GlobalArgs) -> Result<iamfit_core::account::Subject, CliError> {
    resolve::principal_subject(account_source(global).as_ref(), arn).map_err(source_error)
}

/// For every action the principal is granted: used, unused, or unobservable (CloudTrail does not
/// record it, or records it only as a data event the trail may not log).
pub fn coverage_json(subject: &iamfit_core::account::Subject, r: &Replay) -> Value {
    let catalog = Catalog::get();
    let mut counts = [0usize; 3];
    let mut actions = Vec::new();
    for e in effective_permissions(subject, catalog) {
        if e.allowed.is_empty() && e.conditional.is_empty() {
            continue;
        }
        let status = if r.usage.used(&e.action) {
            counts[0] += 1;
            "used"
        } else {
            match catalog.action(&e.action).map(coverage) {
                Some(Coverage::Logged) | None => {
                    counts[1] += 1;
                    "unused"
                }
                Some(Coverage::DataEvent)
                    if r.usage.data_event_services.contains(e.action.split(':').next().unwrap_or("")) =>
                {
                    // The trail records this service's data events: not seen means not used.
                    counts[1] += 1;
                    "unused"
                }
                Some(Coverage::DataEvent) => {
                    counts[2] += 1;
                    "unobservable: a data event, recorded only when the trail logs data events"
                }
                Some(Coverage::NotLogged) => {
                    counts[2] += 1;
                    "unobservable: CloudTrail does not record it"
                }
            }
        };
        actions.push(json!({"action": e.action, "status": status}));
    }
    json!({"granted": actions.len(), "used": counts[0], "unused": counts[1], "unobservable": counts[2], "actions": actions})
}

/// The contract's `usage` JSON.
pub fn usage_json(principal: &str, r: &Replay) -> Value {
    let u = &r.usage;
    let actions: Vec<Value> = u
        .actions
        .iter()
        .map(|(name, a)| {
            let mut v = json!({"action": name, "count": a.count, "resources": a.resources.set, "first_seen": a.first_seen, "last_seen": a.last_seen});
            if a.resources.truncated {
                v["resources_truncated"] = json!(true);
            }
            if a.resources.unknown > 0 {
                v["calls_without_known_resource"] = json!(a.resources.unknown);
            }
            v
        })
        .collect();
    let denied: Vec<Value> = u
        .denied
        .iter()
        .map(|((action, code), d)| {
            let mut v = json!({"action": action, "count": d.count, "resources": d.resources.set, "error_code": code, "last_seen": d.last_seen});
            if d.resources.truncated {
                v["resources_truncated"] = json!(true);
            }
            v
        })
        .collect();
    let unmapped: Vec<Value> = u
        .unmapped
        .iter()
        .map(|((source, name), count)| json!({"event_source": source, "event_name": name, "count": count}))
        .collect();
    let failed: Vec<Value> = r.failed.iter().map(|(p, why)| json!({"path": p, "error": why})).collect();
    json!({
        "principal": principal,
        "events": {"read": r.records, "matched": u.matched, "malformed": r.malformed},
        "actions": actions,
        "denied": denied,
        "unmapped": unmapped,
        "permissionless_calls": u.permissionless,
        "non_api_events": u.non_api,
        "files_failed": failed,
        "partial": r.partial(),
        "window": {"since": r.window.since, "until": r.window.until},
        "notes": r.notes,
    })
}

pub fn run(args: &UsageArgs, global: &GlobalArgs, style: &Style) -> CliResult {
    let target = principal_filter(args.who.function.as_deref(), args.who.principal.as_deref(), global)?;
    let label = target.label.clone();
    let Some(r) = replay(&args.trail, global, &target.filter, target.account.as_deref(), style)? else {
        return Err(CliError::usage("no CloudTrail to read: usage needs --trail")
            .with_hint("use --trail lookup (management events, last 90 days), --trail s3://BUCKET/PREFIX, or --trail PATH to log files"));
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let text = match global.output {
        OutputFormat::Json | OutputFormat::Sarif => {
            let mut v = usage_json(&label, &r);
            if let Some(subject) = &target.subject {
                v["coverage"] = coverage_json(subject, &r);
            }
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
        }
        OutputFormat::Markdown => {
            let mut s = format!("### CloudTrail usage of `{label}`\n\n{} events read, {} matched.\n\n| action | calls | resources | last seen |\n|---|---|---|---|\n", r.records, r.usage.matched);
            for (name, a) in &r.usage.actions {
                s += &format!("| `{name}` | {} | {} | {} |\n", a.count, a.resources.set.len(), a.last_seen);
            }
            for ((name, code), d) in &r.usage.denied {
                s += &format!(
                    "| `{name}` (denied: {code}) | {} | {} | {} |\n",
                    d.count,
                    d.resources.set.len(),
                    d.last_seen
                );
            }
            s
        }
        OutputFormat::Table => {
            let u = &r.usage;
            let mut s = format!(
                "{} {label}\n{} events read, {} matched, {} malformed\n",
                style.bold("usage of"),
                r.records,
                u.matched,
                r.malformed
            );
            if u.permissionless > 0 || u.non_api > 0 {
                s += &format!(
                    "{} permissionless calls, {} non-API events (console sign-ins, AWS service events): no IAM action\n",
                    u.permissionless, u.non_api
                );
            }
            s += "\n";
            let mut t = Table::new(["action", "calls", "resources", "first seen", "last seen"]);
            for (name, a) in &u.actions {
                let res = match a.resources.set.len() {
                    0 if a.resources.unknown > 0 => "(not named in the events)".to_string(),
                    1 => a.resources.set.iter().next().cloned().unwrap_or_default(),
                    n => format!("{n} resources{}", if a.resources.truncated { "+" } else { "" }),
                };
                t.row([name.clone(), a.count.to_string(), res, a.first_seen.clone(), a.last_seen.clone()]);
            }
            s += &t.render();
            if !u.denied.is_empty() {
                s += &format!(
                    "\n{}\n",
                    style.bold("DENIED (evidence of a missing permission; never counted as used)")
                );
                let mut t = Table::new(["action", "calls", "error", "resource"]);
                for ((name, code), d) in &u.denied {
                    t.row([
                        name.clone(),
                        d.count.to_string(),
                        code.clone(),
                        d.resources.set.iter().next().cloned().unwrap_or_default(),
                    ]);
                }
                s += &t.render();
            }
            if !u.unmapped.is_empty() {
                s += &format!("\n{}\n", style.bold("UNMAPPED (events iamfit cannot map to IAM actions)"));
                let mut t = Table::new(["event source", "event name", "count"]);
                for ((src, name), c) in &u.unmapped {
                    t.row([src.clone(), name.clone(), c.to_string()]);
                }
                s += &t.render();
            }
            if let Some(subject) = &target.subject {
                let c = coverage_json(subject, &r);
                s += &format!(
                    "\n{} {} actions granted: {} used, {} unused, {} unobservable by CloudTrail (see -o json)\n",
                    style.bold("COVERAGE"),
                    c["granted"],
                    c["used"],
                    c["unused"],
                    c["unobservable"]
                );
            }
            for n in &r.notes {
                s += &format!("{} {n}\n", style.dim("note:"));
            }
            s
        }
    };
    out.write_all(text.as_bytes()).map_err(CliError::write)?;
    if r.partial() {
        style.warn(&format!(
            "the result is partial: {} file(s) could not be read and {} record(s) were malformed (exit status {EXIT_PARTIAL})",
            r.failed.len(),
            r.malformed
        ));
        return Ok(ExitCode::from(EXIT_PARTIAL));
    }
    Ok(ExitCode::SUCCESS)
}
