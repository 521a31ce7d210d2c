//! `iamfit diff`: the local principal (`--profile`) against the function's execution role.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::{json, Value};

use iamfit_catalog::Catalog;
use iamfit_core::account::{function_name, Account, Subject};
use iamfit_core::analyze::diff::{diff, DiffReport, Direction, Mismatch, Normalization, SideDecision};
use iamfit_core::analyze::service_needs::service_needs;

use super::sarif;
use super::source::{load_accounts, Loaded};
use super::trail::{replay, TrailArgs};
use super::{exit_status, CliError, CliResult, GlobalArgs, OutputFormat, Style, EXIT_PARTIAL};
use iamfit_trail::PrincipalFilter;

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
    /// Exit with status 1 when mismatches exist: `any`, or only mismatches on `used` actions.
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// How many actions per service the table shows (JSON always lists every mismatch).
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub per_service: usize,
    #[command(flatten)]
    pub trail: TrailArgs,
}

/// When `diff` fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Any mismatch.
    Any,
    /// A mismatch on an action the function was seen using.
    Used,
}

pub fn run(args: &DiffArgs, global: &GlobalArgs, style: &Style) -> CliResult {
    super::report::check_format("diff", super::report::FINDING_FORMATS, global.output)?;
    let profile = global.profile.clone().unwrap_or_else(|| "default".to_string());
    let loaded =
        load_accounts(global, Some(&profile), Some(&args.function), args.function_profile.as_deref())?;
    let Loaded { local_account, function_account, notes: load_notes } = &loaded;
    let function = function_account.function(&args.function).map_err(|e| {
        CliError::usage(e.to_string()).with_hint(
            "check the function name, or pass --function-profile for a function in another account",
        )
    })?;
    let prod = function_account
        .role_subject(&function.role, function_name(&function.name))
        .map_err(|e| CliError::usage(format!("function {}: {e}", function.name)))?;
    let identity = local_account.identity(&profile).map_err(|e| {
        CliError::usage(e.to_string()).with_hint(
            "the snapshot's identities/ folder needs PROFILE.json from `aws sts get-caller-identity`",
        )
    })?;
    let local = local_account
        .identity_subject(identity)
        .map_err(|e| CliError::usage(format!("profile {profile}: {e}")))?;

    let mut norm = Normalization::default();
    if let (Some(prod_acct), Some(local_acct)) = (function.account(), local.principal.account.as_deref()) {
        if prod_acct != local_acct {
            norm.accounts = Some((prod_acct.to_string(), local_acct.to_string()));
        }
    }
    for m in &args.map {
        let (p, d) =
            m.split_once('=').ok_or_else(|| CliError::usage(format!("--map {m:?}: expected PROD=DEV")))?;
        if p.is_empty() || d.is_empty() {
            return Err(CliError::usage(format!("--map {m:?}: both sides must be non-empty")));
        }
        norm.names.push((p.to_string(), d.to_string()));
    }

    let catalog = Catalog::get();
    let mut report = diff(&local, &prod, catalog, &norm);
    // What the Lambda service needs for the function's configuration is no surprise for the code.
    let needs = service_needs(function, catalog);
    report.set_aside_service_needs(&needs);

    // What the function really did: mismatches on actions it called come first.
    let filter = PrincipalFilter::Role {
        arn: function.role.clone(),
        name: function.role.rsplit('/').next().unwrap_or(&function.role).to_string(),
        session: Some(function_name(&function.name).to_string()),
    };
    let replayed = replay(&args.trail, global, &filter, function.account(), style)?;
    let mut trail_notes = Vec::new();
    let mut trail_partial = false;
    match &replayed {
        Some(r) => {
            for m in &mut report.mismatches {
                m.used = r.usage.used(&m.action) || r.usage.denied.keys().any(|(a, _)| a.eq_ignore_ascii_case(&m.action));
            }
            report.mismatches.sort_by_key(|m| !m.used);
            trail_notes.extend(r.notes.iter().cloned());
            trail_notes.push(format!("CloudTrail: {} events read, {} by the function", r.records, r.usage.matched));
            trail_partial = r.partial();
        }
        None => trail_notes.push(
            "usage is unknown: no CloudTrail was read, so `used` is false everywhere (add --trail lookup, --trail s3://BUCKET/PREFIX or --trail PATH)".into(),
        ),
    }

    let mut notes: Vec<String> = load_notes.clone();
    notes.extend(local.notes.iter().cloned());
    notes.extend(prod.notes.iter().cloned());
    notes.extend(norm.describe());
    notes.extend(trail_notes);
    notes.extend(needs.notes.iter().cloned());
    if !report.configuration.is_empty() {
        let lacking =
            report.configuration.iter().filter(|c| c.mismatch.direction == Direction::LocalOnly).count();
        notes.push(format!(
            "{} mismatch(es) are permissions the Lambda service itself needs for the function's configuration ({}), not the code's: set aside and not counted (JSON: configuration){}",
            report.configuration.len(),
            configuration_sids(&report),
            if lacking > 0 {
                format!("; {lacking} of them local-only: the role lacks what the Lambda service needs (iamfit audit --function reports it)")
            } else {
                String::new()
            }
        ));
    }

    let ctx = Context {
        function_account,
        function_name: &function.name,
        profile: &profile,
        local: &local,
        prod: &prod,
        notes: &notes,
        norm: &norm,
        trail_partial,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let text = match global.output {
        OutputFormat::Json => {
            serde_json::to_string_pretty(&to_json(&ctx, &report)).unwrap_or_default() + "\n"
        }
        OutputFormat::Sarif => {
            serde_json::to_string_pretty(&to_sarif(&ctx, &report)).unwrap_or_default() + "\n"
        }
        OutputFormat::Markdown => to_markdown(&ctx, &report),
        OutputFormat::Table => to_table(&ctx, &report, style, args.per_service),
    };
    out.write_all(text.as_bytes()).map_err(CliError::write)?;
    if !global.quiet && global.output != OutputFormat::Table {
        for n in &notes {
            style.note(n);
        }
    }
    let partial = local.partial || prod.partial || trail_partial;
    if partial {
        style.warn(&format!(
            "the result is partial: some policies or log files could not be read (see the notes; exit status {EXIT_PARTIAL})"
        ));
    }
    let failing = match args.fail_on {
        Some(FailOn::Any) => !report.mismatches.is_empty(),
        Some(FailOn::Used) => report.mismatches.iter().any(|m| m.used),
        None => false,
    };
    Ok(exit_status(failing, partial))
}

struct Context<'a> {
    function_account: &'a Account,
    function_name: &'a str,
    profile: &'a str,
    local: &'a Subject,
    prod: &'a Subject,
    notes: &'a [String],
    norm: &'a Normalization,
    trail_partial: bool,
}

fn side_json(side: &SideDecision) -> Value {
    let statements: Vec<Value> = side
        .decision
        .matched
        .iter()
        .map(|m| json!({"layer": m.layer.to_string(), "policy": m.policy_name(), "statement": m.label(), "effect": m.effect().to_string()}))
        .collect();
    let mut v = json!({"decision": side.decision.verdict.as_str(), "conditional": side.conditional, "resource": side.resource, "statements": statements});
    if let Some(r) = side.decision.reason {
        v["reason"] = json!(r.to_string());
    }
    v
}

/// The Sids of the set-aside mismatches, in order, once each.
fn configuration_sids(report: &DiffReport) -> String {
    let mut sids: Vec<&str> = Vec::new();
    for c in &report.configuration {
        if !sids.contains(&c.sid.as_str()) {
            sids.push(&c.sid);
        }
    }
    sids.join(", ")
}

fn to_json(ctx: &Context<'_>, report: &DiffReport) -> Value {
    let function = ctx.function_account.function(ctx.function_name).ok();
    let mismatches: Vec<Value> = report
        .mismatches
        .iter()
        .map(|m| {
            json!({
                "direction": m.direction.as_str(),
                "action": m.action,
                "resource": m.resource,
                "local": m.local.decision.verdict.as_str(),
                "prod": m.prod.decision.verdict.as_str(),
                "used": m.used,
                "conditional": m.conditional(),
                "details": {"local": side_json(&m.local), "prod": side_json(&m.prod)}
            })
        })
        .collect();
    let configuration: Vec<Value> = report
        .configuration
        .iter()
        .map(|c| {
            let m = &c.mismatch;
            json!({
                "direction": m.direction.as_str(),
                "action": m.action,
                "resource": m.resource,
                "local": m.local.decision.verdict.as_str(),
                "prod": m.prod.decision.verdict.as_str(),
                "sid": c.sid,
                "reason": c.reason,
                "citation": c.citation,
            })
        })
        .collect();
    let count = |d: Direction| report.mismatches.iter().filter(|m| m.direction == d).count();
    json!({
        "function": {"name": ctx.function_name, "arn": function.map(|f| f.arn.clone()), "role_arn": function.map(|f| f.role.clone())},
        "local": {"profile": ctx.profile, "principal_arn": ctx.local.principal.arn},
        "mismatches": mismatches,
        "summary": {
            "local_only": count(Direction::LocalOnly),
            "prod_only": count(Direction::ProdOnly),
            "used_mismatches": report.mismatches.iter().filter(|m| m.used).count(),
            "actions_compared": report.actions_compared,
            "conditional": report.mismatches.iter().filter(|m| m.conditional()).count(),
            "needed_by_configuration": report.configuration.len()
        },
        "configuration": configuration,
        "normalization": ctx.norm.describe(),
        "partial": ctx.local.partial || ctx.prod.partial || ctx.trail_partial,
        "notes": ctx.notes,
    })
}

fn why(side: &SideDecision) -> String {
    let d = &side.decision;
    let statements: Vec<String> =
        d.matched.iter().map(|m| format!("{}:{}", m.policy_name(), m.label())).collect();
    let mut text = match d.verdict {
        iamfit_policy::eval::Verdict::Allow => {
            format!("allow by {}", statements.first().cloned().unwrap_or_default())
        }
        iamfit_policy::eval::Verdict::ExplicitDeny => format!("explicit-deny by {}", statements.join(", ")),
        iamfit_policy::eval::Verdict::ImplicitDeny => match d.reason {
            Some(r) => format!("implicit-deny: {r}"),
            None => "implicit-deny".to_string(),
        },
    };
    if side.conditional {
        text.push_str(" (depends on conditions)");
    }
    text
}

fn by_service(report: &DiffReport, direction: Direction) -> BTreeMap<String, Vec<&Mismatch>> {
    let mut map: BTreeMap<String, Vec<&Mismatch>> = BTreeMap::new();
    for m in report.mismatches.iter().filter(|m| m.direction == direction) {
        let svc = m.action.split(':').next().unwrap_or("").to_string();
        map.entry(svc).or_default().push(m);
    }
    map
}

/// A witness and the two sides' explanations: mismatches that share them read as one line.
type Reasons = (String, String, String);

fn to_table(ctx: &Context<'_>, report: &DiffReport, style: &Style, per_service: usize) -> String {
    let mut out = String::new();
    let count = |d: Direction| report.mismatches.iter().filter(|m| m.direction == d).count();
    out += &format!(
        "{} function {} runs as {}\n     profile {} is {}\n",
        style.bold("iamfit diff"),
        style.bold(ctx.function_name),
        ctx.prod,
        style.bold(ctx.profile),
        ctx.local
    );
    out += &format!(
        "compared {} actions: {} local-only, {} prod-only\n",
        report.actions_compared,
        count(Direction::LocalOnly),
        count(Direction::ProdOnly)
    );
    for (direction, title, meaning) in [
        (Direction::LocalOnly, "LOCAL-ONLY", "works locally, fails in production"),
        (
            Direction::ProdOnly,
            "PROD-ONLY",
            "the function may, your profile may not: cannot be reproduced locally",
        ),
    ] {
        let groups = by_service(report, direction);
        if groups.is_empty() {
            continue;
        }
        out += &format!("\n{} {}\n", style.bold(title), style.dim(&format!("({meaning})")));
        for (svc, items) in &groups {
            out += &format!(
                "  {} ({} action{})\n",
                style.bold(svc),
                items.len(),
                if items.len() == 1 { "" } else { "s" }
            );
            // Actions that differ on the same resource for the same reasons read as one line.
            let mut same: Vec<(Reasons, Vec<&Mismatch>)> = Vec::new();
            for m in items {
                let key = (m.resource.clone(), why(&m.local), why(&m.prod));
                match same.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, list)) => list.push(m),
                    None => same.push((key, vec![m])),
                }
            }
            // Used actions first, then the smallest groups (the most specific differences).
            same.sort_by_key(|(_, list)| (!list.iter().any(|m| m.used), list.len()));
            for ((resource, local, prod), list) in same {
                let names: Vec<&str> =
                    list.iter().map(|m| m.action.split(':').nth(1).unwrap_or(&m.action)).collect();
                let shown = if names.len() > per_service {
                    format!("{} and {} more", names[..per_service].join(", "), names.len() - per_service)
                } else {
                    names.join(", ")
                };
                let used = if list.iter().any(|m| m.used) { style.verdict("USED ") } else { String::new() };
                out += &format!("    {used}{shown}\n      on {resource}\n");
                out += &format!("      local: {local}\n      prod:  {prod}\n");
            }
        }
    }
    if report.mismatches.is_empty() {
        out += "\nno mismatches: the profile and the function role allow the same actions\n";
    } else {
        out += &format!("\n{}\n", style.dim("every mismatch with its deciding statements: -o json"));
    }
    if !ctx.notes.is_empty() {
        out += "\n";
        for n in ctx.notes {
            out += &format!("{} {n}\n", style.dim("note:"));
        }
    }
    out
}

fn to_markdown(ctx: &Context<'_>, report: &DiffReport) -> String {
    let mut out = format!(
        "### iamfit diff: `{}` vs profile `{}`\n\n{} local-only, {} prod-only mismatches over {} actions.\n\n",
        ctx.function_name,
        ctx.profile,
        report.mismatches.iter().filter(|m| m.direction == Direction::LocalOnly).count(),
        report.mismatches.iter().filter(|m| m.direction == Direction::ProdOnly).count(),
        report.actions_compared
    );
    out += "| direction | action | resource | local | prod | used |\n|---|---|---|---|---|---|\n";
    for m in &report.mismatches {
        out += &format!(
            "| {} | `{}` | `{}` | {} | {} | {} |\n",
            m.direction.as_str(),
            m.action,
            m.resource,
            why(&m.local).replace('|', "\\|"),
            why(&m.prod).replace('|', "\\|"),
            if m.used { "yes" } else { "no" }
        );
    }
    for n in ctx.notes {
        out += &format!("\n> {n}\n");
    }
    out
}

fn to_sarif(_ctx: &Context<'_>, report: &DiffReport) -> sarif::Log {
    let results: Vec<sarif::Finding> = report
        .mismatches
        .iter()
        .map(|m| sarif::Finding {
            rule: m.direction.as_str(),
            level: if m.used { "error" } else { "warning" },
            message: format!(
                "{} {} on {}: local {}, prod {}",
                m.direction.as_str(),
                m.action,
                m.resource,
                why(&m.local),
                why(&m.prod)
            ),
            path: None,
            region: None,
        })
        .collect();
    sarif::log(&results)
}
