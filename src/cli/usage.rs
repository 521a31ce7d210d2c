//! `iamfit usage`: what a principal actually did, from CloudTrail.

use std::process::ExitCode;

use iamfit_catalog::Catalog;
use iamfit_core::analyze::service_needs::service_needs;
use iamfit_core::analyze::usage::{usage_report, UsageReport};

use super::render::Table;

use super::report::{check_format, print, Report, TEXT_FORMATS};
use super::source::{replay_target, PrincipalArgs};
use super::trail::{replay, TrailArgs};
use super::{CliError, CliResult, GlobalArgs, Style, EXIT_PARTIAL};

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

pub fn run(args: &UsageArgs, global: &GlobalArgs, style: &Style) -> CliResult {
    check_format("usage", TEXT_FORMATS, global.output)?;
    let mut target = replay_target(&args.who, &args.trail, global)?;
    let Some(r) = replay(&args.trail, global, &target.filter, target.account.as_deref(), style)? else {
        return Err(CliError::usage("no CloudTrail to read: usage needs --trail")
            .with_hint("use --trail lookup (management events, last 90 days), --trail s3://BUCKET/PREFIX, or --trail PATH to log files"));
    };
    let mut resource_notes = Vec::new();
    if let Some(s) = target.subject.as_mut() {
        resource_notes = super::source::trail_resource_policies(global, &mut [s], &r.usage)?;
    }
    let needs = target.function.as_ref().map(|f| service_needs(f, Catalog::get())).unwrap_or_default();
    let mut report = usage_report(&target.label, &r, target.subject.as_ref(), &needs, Catalog::get());
    report.notes.extend(resource_notes);
    print(&report, global.output, style)?;
    if report.partial {
        style.warn(&format!(
            "the result is partial: {} file(s) could not be read and {} record(s) were malformed (exit status {EXIT_PARTIAL})",
            r.failed.len(),
            r.malformed
        ));
        return Ok(ExitCode::from(EXIT_PARTIAL));
    }
    Ok(ExitCode::SUCCESS)
}

/// The calls of the evidence decided against today's policies (the resource's own policy included):
/// a count, and the denied ones (at most ten; every one in -o json).
fn calls_text(c: &iamfit_core::analyze::usage::CoverageReport, style: &Style) -> String {
    let mut s = String::new();
    if c.calls_allowed + c.calls_denied == 0 {
        return s;
    }
    s += &format!(
        "{} {} distinct calls with a resource, decided with today's policies: {} allowed, {} denied\n",
        style.bold("CALLS"),
        c.calls_allowed + c.calls_denied,
        c.calls_allowed,
        c.calls_denied
    );
    let denied: Vec<_> = c.calls.iter().filter(|k| k.decision != "allow").collect();
    for k in denied.iter().take(10) {
        s += &format!(
            "  {} {} on {}: {} ({})\n",
            style.verdict(k.decision),
            k.action,
            k.resource,
            k.layer.as_deref().unwrap_or("?"),
            k.reason.as_deref().unwrap_or("")
        );
    }
    if denied.len() > 10 {
        s += &format!("  ... and {} more (see -o json)\n", denied.len() - 10);
    }
    s
}

impl Report for UsageReport {
    fn table(&self, style: &Style) -> String {
        let e = &self.events;
        let mut s = format!(
            "{} {}\n{} events read, {} matched, {} malformed\n\n",
            style.bold("usage of"),
            self.principal,
            e.read,
            e.matched,
            e.malformed
        );
        // With a recording among the sources, say where each action was seen.
        let recorded = self.actions.iter().any(|a| a.seen_in.contains(&"recording"));
        let mut header = vec!["action", "calls", "resources", "first seen", "last seen"];
        if recorded {
            header.push("seen in");
        }
        let mut t = Table::new(header);
        for a in &self.actions {
            let res = match a.resources.len() {
                0 if a.calls_without_known_resource > 0 => "(not named in the events)".to_string(),
                1 => a.resources.first().cloned().unwrap_or_default(),
                n => format!("{n} resources{}", if a.resources_truncated { "+" } else { "" }),
            };
            let mut row =
                vec![a.action.clone(), a.count.to_string(), res, a.first_seen.clone(), a.last_seen.clone()];
            if recorded {
                row.push(a.seen_in.join(", "));
            }
            t.row(row);
        }
        s += &t.render();
        if !self.denied.is_empty() {
            s += &format!(
                "\n{}\n",
                style.bold("DENIED (evidence of a missing permission; never counted as used)")
            );
            let mut t = Table::new(["action", "calls", "error", "resource"]);
            for d in &self.denied {
                let first = d.resources.first().cloned().unwrap_or_default();
                t.row([d.action.clone(), d.count.to_string(), d.error_code.clone(), first]);
            }
            s += &t.render();
        }
        if !self.unmapped.is_empty() {
            s += &format!("\n{}\n", style.bold("UNMAPPED (events iamfit cannot map to IAM actions)"));
            let mut t = Table::new(["event source", "event name", "count"]);
            for u in &self.unmapped {
                t.row([u.event_source.clone(), u.event_name.clone(), u.count.to_string()]);
            }
            s += &t.render();
        }
        if self.non_api_events > 0 {
            s += &format!(
                "\n{} {} record(s) are not API calls (console sign-ins, AWS service events): no IAM action\n",
                style.bold("NOT API CALLS"),
                self.non_api_events
            );
        }
        if let Some(c) = &self.coverage {
            s += &format!(
                "\n{} {} actions granted: {} used, {} needed by the function's configuration, {} unused, {} unobservable by CloudTrail (see -o json)\n",
                style.bold("COVERAGE"),
                c.granted,
                c.used,
                c.needed_by_configuration,
                c.unused,
                c.unobservable
            );
            s += &calls_text(c, style);
        }
        for n in &self.notes {
            s += &format!("{} {n}\n", style.dim("note:"));
        }
        s
    }

    fn markdown(&self) -> String {
        let mut s = format!(
            "### CloudTrail usage of `{}`\n\n{} events read, {} matched.\n\n| action | calls | resources | last seen |\n|---|---|---|---|\n",
            self.principal, self.events.read, self.events.matched
        );
        for a in &self.actions {
            s += &format!("| `{}` | {} | {} | {} |\n", a.action, a.count, a.resources.len(), a.last_seen);
        }
        for d in &self.denied {
            s += &format!(
                "| `{}` (denied: {}) | {} | {} | {} |\n",
                d.action,
                d.error_code,
                d.count,
                d.resources.len(),
                d.last_seen
            );
        }
        s
    }
}
