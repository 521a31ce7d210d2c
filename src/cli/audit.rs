//! `iamfit audit`: wildcard, risky, unknown and (with a trail) unused grants.

use std::io::Write;
use std::path::PathBuf;

use serde_json::{json, Value};

use iamfit_catalog::Catalog;
use iamfit_core::analyze::audit::{audit, audit_function, Finding, Severity};
use iamfit_core::analyze::service_needs::{service_needs, ServiceNeeds};
use iamfit_core::graph::{Attachment, PermissionGraph};
use iamfit_policy::eval::{NamedPolicy, PolicySet, Principal};
use iamfit_policy::Document;
use iamfit_trail::PrincipalFilter;

use super::render::Table;
use super::sarif;
use super::source::load_principal;
use super::trail::{replay, TrailArgs};
use super::usage::principal_filter;
use super::{exit_status, CliError, CliResult, GlobalArgs, OutputFormat, Style, EXIT_PARTIAL};

/// Arguments of `iamfit audit`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  iamfit audit --function orders --snapshot policy-fixtures/demo\n  iamfit audit --policy infra/role-policy.json -o sarif > iamfit.sarif\n  iamfit audit --function orders --trail s3://trail-bucket --fail-on high"
)]
pub struct AuditArgs {
    /// The Lambda function whose execution role to audit.
    #[arg(long, value_name = "F", conflicts_with_all = ["principal", "policy"])]
    pub function: Option<String>,
    /// A role, role-session or user ARN.
    #[arg(long, value_name = "ARN", conflicts_with = "policy")]
    pub principal: Option<String>,
    /// Policy files to audit as one principal's identity policies (findings carry file and line).
    #[arg(long, value_name = "FILE")]
    pub policy: Vec<PathBuf>,
    /// Exit with status 1 when a finding of this severity or worse exists.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
    #[command(flatten)]
    pub trail: TrailArgs,
}

/// `--fail-on` thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Critical findings.
    Critical,
    /// High or worse.
    High,
    /// Medium or worse.
    Medium,
    /// Low or worse.
    Low,
    /// Any finding.
    Info,
}

impl FailOn {
    fn severity(self) -> Severity {
        match self {
            FailOn::Critical => Severity::Critical,
            FailOn::High => Severity::High,
            FailOn::Medium => Severity::Medium,
            FailOn::Low => Severity::Low,
            FailOn::Info => Severity::Info,
        }
    }
}

/// Where a policy's text came from, for line numbers.
struct Source {
    name: String,
    doc: Document,
}

pub fn run(args: &AuditArgs, global: &GlobalArgs, style: &Style) -> CliResult {
    super::report::check_format("audit", super::report::FINDING_FORMATS, global.output)?;
    let catalog = Catalog::get();
    let mut sources: Vec<Source> = Vec::new();
    // What the Lambda service needs for the function's configuration (`--function` only).
    let mut needs: Option<ServiceNeeds> = None;
    let (subject, label, filter, account) = if !args.policy.is_empty() {
        let principal = Principal::parse("arn:aws:iam::000000000000:role/audited-policy")
            .map_err(|e| CliError::other(e.to_string()))?;
        let mut graph = PermissionGraph::new("policy files", &principal.arn);
        let root = graph.root();
        for path in &args.policy {
            let text = std::fs::read_to_string(path)
                .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
            let doc = Document::parse(&text);
            let policy = doc.clone().into_policy().map_err(|e| {
                CliError::usage(format!("{}:{}:{}: {}", path.display(), e.line, e.column, e.message))
                    .with_hint(format!("run `iamfit check {}`", path.display()))
            })?;
            let name = path.display().to_string();
            graph.add_policy(root, Attachment::Inline, &name, Some(NamedPolicy::new(name.clone(), policy)));
            sources.push(Source { name, doc });
        }
        let policies: PolicySet = graph.policy_set();
        let subject = iamfit_core::account::Subject {
            principal,
            label: "policy files".into(),
            policies,
            graph,
            notes: Vec::new(),
            partial: false,
            resources: Default::default(),
        };
        (
            subject,
            args.policy.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
            None,
            None,
        )
    } else if let Some(f) = &args.function {
        let target = principal_filter(Some(f), None, global)?;
        needs = target.function.as_ref().map(|f| service_needs(f, catalog));
        let subject = target
            .subject
            .ok_or_else(|| CliError::usage(format!("function {f}: its role's policies could not be read")))?;
        (subject, target.label, Some(target.filter), target.account)
    } else if let Some(arn) = &args.principal {
        let subject = load_principal(global, arn)?;
        let target = principal_filter(None, Some(arn), global)?;
        (subject, arn.clone(), Some(target.filter), target.account)
    } else {
        return Err(CliError::usage("audit needs --function F, --principal ARN or --policy FILE"));
    };
    let filter: Option<PrincipalFilter> = filter;
    let replayed = match &filter {
        Some(f) => replay(&args.trail, global, f, account.as_deref(), style)?,
        None if !args.trail.trails.is_empty() => {
            return Err(CliError::usage(
                "--trail needs --function or --principal: policy files have no principal in CloudTrail",
            ))
        }
        None => None,
    };
    let usage = replayed.as_ref().map(|r| &r.usage);
    let findings = match &needs {
        Some(n) => audit_function(&subject, usage, n, catalog),
        None => audit(&subject, usage, catalog),
    };
    let mut notes: Vec<String> = subject.notes.clone();
    if let Some(n) = &needs {
        notes.extend(n.notes.iter().cloned());
        notes.push(format!(
            "{} permission(s) the Lambda service needs for the function's configuration ({}) are never reported as over-grants; those the role lacks are missing-service-permission findings",
            n.needs.len(),
            n.sids().join(", ")
        ));
        notes.extend(n.advisories.iter().map(|a| format!("{} ({})", a.message, a.citation)));
    }
    match &replayed {
        Some(r) => {
            notes.extend(r.notes.iter().cloned());
            notes.push(format!("over-grants from CloudTrail: {} events read, {} by the principal", r.records, r.usage.matched));
        }
        None if filter.is_some() => notes.push("no trail: over-grants (granted, never used) are not reported; add --trail lookup, --trail s3://... or --trail PATH".into()),
        None => {}
    }
    let position = |f: &Finding| -> Option<(String, usize, usize)> {
        let src = sources.iter().find(|s| s.name == f.policy)?;
        let (line, column) = src.doc.position(f.span);
        Some((src.name.clone(), line, column))
    };

    let text = match global.output {
        OutputFormat::Json => {
            let items: Vec<Value> = findings
                .iter()
                .map(|f| {
                    let mut v = json!({"kind": f.kind, "severity": f.severity.as_str(), "policy": f.policy, "statement": f.statement,
                                       "action": f.action, "resource": f.resource, "message": f.message});
                    if let Some((_, line, column)) = position(f) {
                        v["line"] = json!(line);
                        v["column"] = json!(column);
                    }
                    v
                })
                .collect();
            serde_json::to_string_pretty(&json!({"principal": label, "findings": items, "notes": notes, "partial": subject.partial || replayed.as_ref().is_some_and(|r| r.partial())})).unwrap_or_default() + "\n"
        }
        OutputFormat::Sarif => {
            let positions: Vec<Option<(String, usize, usize)>> = findings.iter().map(position).collect();
            let results: Vec<sarif::Finding> = findings
                .iter()
                .zip(&positions)
                .map(|(f, pos)| sarif::Finding {
                    rule: f.kind,
                    level: sarif::level(f.severity.as_str()),
                    message: format!("{} ({} {})", f.message, f.policy, f.statement),
                    path: pos.as_ref().map(|p| p.0.as_str()),
                    region: pos.as_ref().map(|p| ((p.1, p.2), (p.1, p.2))),
                })
                .collect();
            serde_json::to_string_pretty(&sarif::log(&results)).unwrap_or_default() + "\n"
        }
        OutputFormat::Markdown => {
            let mut s = format!("### iamfit audit: {label}\n\n| severity | kind | policy | statement | finding |\n|---|---|---|---|---|\n");
            for f in &findings {
                s += &format!(
                    "| {} | `{}` | {} | {} | {} |\n",
                    f.severity,
                    f.kind,
                    f.policy,
                    f.statement,
                    f.message.replace('|', "\\|")
                );
            }
            if findings.is_empty() {
                s += "\nNo findings.\n";
            }
            for n in &notes {
                s += &format!("\n> {n}\n");
            }
            s
        }
        OutputFormat::Table => {
            let mut s = format!("{} {label}: {} finding(s)\n\n", style.bold("iamfit audit"), findings.len());
            let mut t = Table::new(["severity", "kind", "where", "finding"]);
            for f in &findings {
                let place = match position(f) {
                    Some((file, line, _)) => format!("{file}:{line} {}", f.statement),
                    None => format!("{} {}", f.policy, f.statement),
                };
                t.row([style.verdict(f.severity.as_str()), f.kind.to_string(), place, f.message.clone()]);
            }
            s += &t.render();
            for n in &notes {
                s += &format!("{} {n}\n", style.dim("note:"));
            }
            s
        }
    };
    std::io::stdout().lock().write_all(text.as_bytes()).map_err(CliError::write)?;
    let failing = args.fail_on.is_some_and(|t| findings.iter().any(|f| f.severity <= t.severity()));
    let partial = subject.partial || replayed.as_ref().is_some_and(|r| r.partial());
    if partial {
        style.warn(&format!(
            "the result is partial: some policies or log files could not be read (exit status {EXIT_PARTIAL})"
        ));
    }
    Ok(exit_status(failing, partial))
}
