//! `iamfit audit`: wildcard, risky, unknown and (with a trail) unused grants. The arguments name a
//! target; the core audits it and builds the report ([`AuditReport`]); this file renders it.

use std::path::{Path, PathBuf};

use iamfit_catalog::Catalog;
use iamfit_core::account::Subject;
use iamfit_core::analyze::audit::{
    audit, audit_function, policy_files_subject, AuditReport, PolicyFile, Severity,
};
use iamfit_core::analyze::service_needs::{service_needs, ServiceNeeds};
use iamfit_policy::{Document, Policy};
use iamfit_trail::PrincipalFilter;

use super::render::Table;
use super::report::{check_format, print, Report, FINDING_FORMATS};
use super::sarif;
use super::source::load_principal;
use super::source::replay_target_of;
use super::trail::{replay, Replay, TrailArgs};
use super::{exit_status, CliError, CliResult, GlobalArgs, Style, EXIT_PARTIAL};

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

pub fn run(args: &AuditArgs, global: &GlobalArgs, style: &Style) -> CliResult {
    check_format("audit", FINDING_FORMATS, global.output)?;
    let target = audit_target(args, global)?;
    let replayed = replay_target(args, global, &target, style)?;
    let catalog = Catalog::get();
    let usage = replayed.as_ref().map(|r| &r.usage);
    let findings = match &target.needs {
        Some(n) => audit_function(&target.subject, usage, n, catalog),
        None => audit(&target.subject, usage, catalog),
    };
    let mut report = AuditReport::new(
        &target.label,
        &target.subject,
        findings,
        replayed.as_ref(),
        target.filter.is_some(),
    )
    .locate(&target.files);
    if let Some(n) = &target.needs {
        report.notes.extend(service_needs_notes(n));
    }
    print(&report, global.output, style)?;
    let failing = args.fail_on.is_some_and(|t| report.has_at_least(t.severity()));
    if report.partial {
        style.warn(&format!(
            "the result is partial: some policies or log files could not be read (exit status {EXIT_PARTIAL})"
        ));
    }
    Ok(exit_status(failing, report.partial))
}

/// What to audit: the subject, how to name it, and (for a function or principal) whom to look
/// for in CloudTrail; for `--policy`, the files for positions.
struct AuditTarget {
    subject: Subject,
    label: String,
    filter: Option<PrincipalFilter>,
    account: Option<String>,
    files: Vec<PolicyFile>,
    /// For `--function`: what the Lambda service needs for the function's configuration.
    needs: Option<ServiceNeeds>,
}

/// What `audit --function` says of the Lambda service's needs.
fn service_needs_notes(needs: &ServiceNeeds) -> Vec<String> {
    let mut notes = needs.notes.clone();
    notes.push(format!(
        "{} permission(s) the Lambda service needs for the function's configuration ({}) are never reported as over-grants; those the role lacks are missing-service-permission findings",
        needs.needs.len(),
        needs.sids().join(", ")
    ));
    notes.extend(needs.advisories.iter().map(|a| format!("{} ({})", a.message, a.citation)));
    notes
}

/// The target `--policy`, `--function` or `--principal` names.
fn audit_target(args: &AuditArgs, global: &GlobalArgs) -> Result<AuditTarget, CliError> {
    if !args.policy.is_empty() {
        return policy_files_target(&args.policy);
    }
    if let Some(f) = &args.function {
        let target = replay_target_of(Some(f), None, global)?;
        let needs = target.function.as_ref().map(|f| service_needs(f, Catalog::get()));
        let subject = target
            .subject
            .ok_or_else(|| CliError::usage(format!("function {f}: its role's policies could not be read")))?;
        return Ok(AuditTarget {
            subject,
            label: target.label,
            filter: Some(target.filter),
            account: target.account,
            files: Vec::new(),
            needs,
        });
    }
    if let Some(arn) = &args.principal {
        let subject = load_principal(global, arn)?;
        let target = replay_target_of(None, Some(arn), global)?;
        return Ok(AuditTarget {
            subject,
            label: arn.clone(),
            filter: Some(target.filter),
            account: target.account,
            files: Vec::new(),
            needs: None,
        });
    }
    Err(CliError::usage("audit needs --function F, --principal ARN or --policy FILE"))
}

/// `--policy FILE...`: the files as one principal's inline policies.
fn policy_files_target(paths: &[PathBuf]) -> Result<AuditTarget, CliError> {
    let mut files = Vec::new();
    let mut policies = Vec::new();
    for path in paths {
        let (file, policy) = read_policy_file(path)?;
        policies.push((file.name.clone(), policy));
        files.push(file);
    }
    let subject = policy_files_subject(&policies).map_err(|e| CliError::other(e.to_string()))?;
    let label = paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
    Ok(AuditTarget { subject, label, filter: None, account: None, files, needs: None })
}

/// Reads and parses one policy file; a document with errors is an input error naming its first.
fn read_policy_file(path: &Path) -> Result<(PolicyFile, Policy), CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
    let document = Document::parse(&text);
    let policy = document.clone().into_policy().map_err(|e| {
        CliError::usage(format!("{}:{}:{}: {}", path.display(), e.line, e.column, e.message))
            .with_hint(format!("run `iamfit check {}`", path.display()))
    })?;
    Ok((PolicyFile { name: path.display().to_string(), document }, policy))
}

/// The trail replay for the target's principal (`None` without a trail); policy files have no
/// principal in CloudTrail.
fn replay_target(
    args: &AuditArgs,
    global: &GlobalArgs,
    target: &AuditTarget,
    style: &Style,
) -> Result<Option<Replay>, CliError> {
    match &target.filter {
        Some(f) => replay(&args.trail, global, f, target.account.as_deref(), style),
        None if !args.trail.trails.is_empty() => Err(CliError::usage(
            "--trail needs --function or --principal: policy files have no principal in CloudTrail",
        )),
        None => Ok(None),
    }
}

impl Report for AuditReport {
    fn table(&self, style: &Style) -> String {
        let mut s = format!(
            "{} {}: {} finding(s)\n\n",
            style.bold("iamfit audit"),
            self.principal,
            self.findings.len()
        );
        let mut t = Table::new(["severity", "kind", "where", "finding"]);
        for f in &self.findings {
            let place = match &f.place {
                Some(p) => format!("{}:{} {}", p.file, p.region.line, f.statement),
                None => format!("{} {}", f.policy, f.statement),
            };
            t.row([style.verdict(f.severity.as_str()), f.kind.to_string(), place, f.message.clone()]);
        }
        s += &t.render();
        for n in &self.notes {
            s += &format!("{} {n}\n", style.dim("note:"));
        }
        s
    }

    fn markdown(&self) -> String {
        let mut s = format!(
            "### iamfit audit: {}\n\n| severity | kind | policy | statement | finding |\n|---|---|---|---|---|\n",
            self.principal
        );
        for f in &self.findings {
            s += &format!(
                "| {} | `{}` | {} | {} | {} |\n",
                f.severity,
                f.kind,
                f.policy,
                f.statement,
                f.message.replace('|', "\\|")
            );
        }
        if self.findings.is_empty() {
            s += "\nNo findings.\n";
        }
        for n in &self.notes {
            s += &format!("\n> {n}\n");
        }
        s
    }

    fn sarif(&self) -> Option<sarif::Log> {
        let results: Vec<sarif::Finding<'_>> = self
            .findings
            .iter()
            .map(|f| sarif::Finding {
                rule: f.kind.name(),
                level: sarif::level(f.severity.as_str()),
                message: format!("{} ({} {})", f.message, f.policy, f.statement),
                path: f.place.as_ref().map(|p| p.file.as_str()),
                region: f.place.as_ref().map(|p| {
                    let r = p.region;
                    ((r.line, r.column), (r.end_line, r.end_column))
                }),
            })
            .collect();
        Some(sarif::log_documented(&results, sarif::registry_doc))
    }
}
