//! `audit`: what a principal's policies grant that it should not: wildcards, negated elements,
//! unknown actions, privilege-escalation, data-exfiltration and credentials-exposure grants, and —
//! with a trail — grants never used in the window, at the granularity that is actionable (whole
//! unused statements, then unused services, then actions), with actions CloudTrail cannot observe
//! reported apart.
//!
//! Grants are judged as they take effect: a statement the permissions boundary or an explicit deny
//! neutralises is still reported (it is one edit away from being live) but at a lower severity and
//! with that said; a grant that holds only under conditions is reported as conditional.
//!
//! The rules `check` applies too (wildcards, negated elements, unknown actions) are the shared ones
//! of [`crate::lint::rules`]; audit grades their findings by effect. Every code is registered in
//! [`crate::lint::codes`], and severities are the one scale there. [`AuditReport`]'s `Serialize`
//! form is the JSON of `iamfit audit`.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::account::Subject;
use crate::graph::{Attachment, PermissionGraph};
use crate::lint::codes::{Code, Command};
use crate::lint::finding::{Finding as LintFinding, Region};
use crate::lint::rules;
use crate::source::Replay;
use iamfit_catalog::{ActionRef, Catalog};
use iamfit_policy::document::{Effect, Policy, Statement};
use iamfit_policy::eval::principal::PrincipalError;
use iamfit_policy::eval::{NamedPolicy, Principal};
use iamfit_policy::json::Span;
use iamfit_policy::parse::Document;
use iamfit_trail::map::{coverage, Coverage};
use iamfit_trail::usage::Usage;

use super::effective::{effective_permissions, EffectiveAction};

pub use crate::lint::codes::Severity;

/// One finding of an audit. Its `Serialize` form is one entry of `findings` in `audit`'s JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The registered code (`wildcard-action`, `privilege-escalation`, `over-grant`, ...).
    pub kind: Code,
    /// How serious, on the one scale.
    pub severity: Severity,
    /// The policy's name.
    pub policy: String,
    /// The statement's Sid or `#index`.
    pub statement: String,
    /// Byte span of the statement in its document (for positions when the document is a file).
    #[serde(skip)]
    pub span: Span,
    /// The action concerned (a catalog action or the pattern as written).
    pub action: Option<String>,
    /// The resource concerned.
    pub resource: Option<String>,
    /// Every action the finding covers, when it groups several.
    #[serde(skip)]
    pub actions: Vec<String>,
    /// What is wrong and what to do.
    pub message: String,
    /// Where the statement stands, when its policy is a file (`line`, `column` in JSON).
    #[serde(flatten)]
    pub place: Option<Place>,
}

/// Where a finding stands in a policy file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Place {
    /// The file.
    #[serde(skip)]
    pub file: String,
    /// The statement's region in it.
    #[serde(flatten)]
    pub region: Region,
}

/// The report of one audit; its `Serialize` form is the JSON of `iamfit audit`.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    /// The audited principal (for policy files, their names).
    pub principal: String,
    /// The findings, most serious first.
    pub findings: Vec<Finding>,
    /// What the user should know (sources, missing policies, no trail).
    pub notes: Vec<String>,
    /// Some policies or log files could not be read.
    pub partial: bool,
}

/// A policy file audited with `--policy`: its name and parsed document.
#[derive(Debug, Clone)]
pub struct PolicyFile {
    /// The name findings carry (the path as given).
    pub name: String,
    /// The document, for positions.
    pub document: Document,
}

impl AuditReport {
    /// The report of `findings` about `subject`: its notes, the trail's (or that there is none,
    /// when `trail_possible`: the principal could be looked up in CloudTrail), and whether it is
    /// partial.
    pub fn new(
        principal: &str,
        subject: &Subject,
        findings: Vec<Finding>,
        replay: Option<&Replay>,
        trail_possible: bool,
    ) -> AuditReport {
        let mut notes = subject.notes.clone();
        match replay {
            Some(r) => {
                notes.extend(r.notes.iter().cloned());
                notes.push(format!(
                    "over-grants from CloudTrail: {} events read, {} by the principal",
                    r.records, r.usage.matched
                ));
            }
            None if trail_possible => notes.push(
                "no trail: over-grants (granted, never used) are not reported; add --trail lookup, --trail s3://... or --trail PATH".into(),
            ),
            None => {}
        }
        AuditReport {
            principal: principal.to_string(),
            findings,
            notes,
            partial: subject.partial || replay.is_some_and(Replay::partial),
        }
    }

    /// Places the findings of policy files in them (the statement's region).
    pub fn locate(mut self, files: &[PolicyFile]) -> AuditReport {
        for f in &mut self.findings {
            if let Some(file) = files.iter().find(|p| p.name == f.policy) {
                f.place = Some(Place { file: file.name.clone(), region: Region::of(&file.document, f.span) });
            }
        }
        self
    }

    /// Whether a finding of `lowest` or worse exists (`--fail-on`).
    pub fn has_at_least(&self, lowest: Severity) -> bool {
        self.findings.iter().any(|f| f.severity <= lowest)
    }
}

/// The subject `audit --policy` audits: one role whose inline policies are the files. The role
/// lives in the account the files' resource ARNs name most (`000000000000` when none does), so
/// that their named resources are judged in the same account, as the files are meant to be used.
pub fn policy_files_subject(files: &[(String, Policy)]) -> Result<Subject, PrincipalError> {
    let account = named_account(files.iter().map(|(_, p)| p)).unwrap_or_else(|| "000000000000".into());
    let principal = Principal::parse(&format!("arn:aws:iam::{account}:role/audited-policy"))?;
    let mut graph = PermissionGraph::new("policy files", &principal.arn);
    let root = graph.root();
    for (name, policy) in files {
        graph.add_policy(
            root,
            Attachment::Inline,
            name,
            Some(NamedPolicy::new(name.clone(), policy.clone())),
        );
    }
    Ok(Subject {
        principal,
        label: "policy files".into(),
        policies: graph.policy_set(),
        graph,
        notes: Vec::new(),
        partial: false,
        resources: Default::default(),
    })
}

/// Actions that let a principal raise its own privileges (alone, or with `iam:PassRole`).
const ESCALATION: &[(&str, &str)] = &[
    ("iam:PassRole", "hands a role to a service, which then acts with the role's permissions"),
    ("iam:CreatePolicyVersion", "rewrites a managed policy, including the caller's own"),
    ("iam:SetDefaultPolicyVersion", "switches a managed policy to another (possibly broader) version"),
    ("iam:PutUserPolicy", "writes any inline policy on a user"),
    ("iam:PutRolePolicy", "writes any inline policy on a role"),
    ("iam:PutGroupPolicy", "writes any inline policy on a group"),
    ("iam:AttachUserPolicy", "attaches any managed policy (AdministratorAccess too) to a user"),
    ("iam:AttachRolePolicy", "attaches any managed policy to a role"),
    ("iam:AttachGroupPolicy", "attaches any managed policy to a group"),
    ("iam:AddUserToGroup", "joins a more privileged group"),
    ("iam:CreateAccessKey", "creates long-lived keys for another user"),
    ("iam:CreateLoginProfile", "sets a console password for another user"),
    ("iam:UpdateLoginProfile", "resets another user's console password"),
    ("iam:UpdateAssumeRolePolicy", "lets the caller assume a more privileged role"),
    ("iam:DeleteRolePermissionsBoundary", "removes the boundary that limits a role"),
    ("iam:DeleteUserPermissionsBoundary", "removes the boundary that limits a user"),
    ("iam:PutRolePermissionsBoundary", "replaces the boundary that limits a role"),
    ("iam:PutUserPermissionsBoundary", "replaces the boundary that limits a user"),
    ("sts:AssumeRole", "assumes other roles (on \"*\": every role that trusts the account)"),
    ("lambda:UpdateFunctionCode", "replaces the code of functions that run with other roles"),
    ("lambda:UpdateFunctionConfiguration", "changes layers and environment of functions with other roles"),
    ("lambda:CreateFunction", "with iam:PassRole, runs code as any passable role"),
    ("lambda:AddPermission", "lets other principals invoke functions"),
    ("glue:UpdateDevEndpoint", "gets a shell with a Glue endpoint's role"),
    ("cloudformation:CreateStack", "with iam:PassRole, creates anything a passable role can"),
    ("ec2:RunInstances", "with iam:PassRole, starts instances with a passable role"),
    ("ssm:SendCommand", "runs commands on instances (and their roles)"),
    ("ssm:StartSession", "opens a shell on instances (and their roles)"),
    ("codebuild:CreateProject", "with iam:PassRole, runs builds as a passable role"),
];

/// Actions that read data stores: on `*`, every table, bucket and key of the account.
const EXFILTRATION: &[&str] = &[
    "s3:GetObject",
    "s3:GetObjectVersion",
    "dynamodb:Scan",
    "dynamodb:Query",
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:ExportTableToPointInTime",
    "kms:Decrypt",
    "rds:CreateDBSnapshot",
    "rds:CopyDBSnapshot",
    "ec2:CreateSnapshot",
    "ec2:ModifySnapshotAttribute",
    "sqs:ReceiveMessage",
    "kinesis:GetRecords",
    "logs:GetLogEvents",
    "logs:FilterLogEvents",
];

/// Actions that return or create credentials.
const CREDENTIALS: &[&str] = &[
    "secretsmanager:GetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "iam:CreateAccessKey",
    "iam:UpdateAccessKey",
    "iam:CreateServiceSpecificCredential",
    "iam:ResetServiceSpecificCredential",
    "sts:GetFederationToken",
    "sts:GetSessionToken",
    "ecr:GetAuthorizationToken",
    "ec2:GetPasswordData",
    "redshift:GetClusterCredentials",
    "rds-db:connect",
    "lambda:GetFunction",
    "lambda:GetFunctionConfiguration",
    "sso:GetRoleCredentials",
    "lightsail:GetInstanceAccessDetails",
    "codeartifact:GetAuthorizationToken",
];

/// The 12-digit account the policies' resource ARNs name most often (the first such on a tie).
fn named_account<'p>(policies: impl Iterator<Item = &'p Policy>) -> Option<String> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    let entries =
        policies.flat_map(|p| &p.statements).filter_map(|st| st.resource.as_ref()).flat_map(|r| &r.entries);
    for entry in entries {
        let Some(account) = entry.raw.split(':').nth(4) else { continue };
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        match counts.iter_mut().find(|(a, _)| a == account) {
            Some((_, n)) => *n += 1,
            None => counts.push((account.to_string(), 1)),
        }
    }
    let most = counts.iter().map(|(_, n)| *n).max()?;
    counts.into_iter().find(|(_, n)| *n == most).map(|(a, _)| a)
}

/// Which actions take effect for the principal, from its effective permissions.
struct Effective<'a>(BTreeMap<&'a str, &'a EffectiveAction>);

impl<'a> Effective<'a> {
    fn new(actions: &'a [EffectiveAction]) -> Self {
        Effective(actions.iter().map(|e| (e.action.as_str(), e)).collect())
    }

    /// Allowed on some resource, with or without conditions.
    fn live(&self, action: &str) -> bool {
        self.0.get(action).is_some_and(|e| !e.allowed.is_empty() || !e.conditional.is_empty())
    }

    /// Allowed only under conditions.
    fn conditional(&self, action: &str) -> bool {
        self.0.get(action).is_some_and(|e| e.allowed.is_empty() && !e.conditional.is_empty())
    }
}

/// One Allow statement under audit, with what it grants.
struct Grant<'a, 'c> {
    policy: &'a NamedPolicy,
    st: &'a Statement,
    /// The catalog actions the statement matches.
    granted: Vec<ActionRef<'c>>,
    /// Their full names, in catalog order.
    names: Vec<String>,
    /// The same, for lookups.
    name_set: BTreeSet<String>,
    /// Nothing it grants takes effect (the boundary or a deny removes it all).
    neutralised: bool,
    /// `Resource: "*"`.
    any_resource: bool,
    /// The statement has conditions.
    conditional: bool,
    /// The resources as written, for messages.
    resources: String,
}

impl<'a, 'c> Grant<'a, 'c> {
    fn new(
        policy: &'a NamedPolicy,
        st: &'a Statement,
        catalog: &'c Catalog,
        effective: &Effective<'_>,
    ) -> Self {
        let granted = rules::granted_actions(st, catalog);
        let names: Vec<String> = granted.iter().map(|a| a.full_name()).collect();
        let neutralised = !names.is_empty() && !names.iter().any(|a| effective.live(a));
        let resources = st
            .resource
            .as_ref()
            .map(|r| r.entries.iter().map(|e| e.raw.as_str()).collect::<Vec<_>>().join(", "))
            .unwrap_or_else(|| "*".into());
        Grant {
            policy,
            st,
            granted,
            name_set: names.iter().cloned().collect(),
            names,
            neutralised,
            any_resource: rules::names_every_resource(st),
            conditional: !st.conditions.is_empty(),
            resources,
        }
    }

    fn grants(&self, action: &str) -> bool {
        self.name_set.contains(action)
    }

    /// `Resource: "*"` or `NotResource`: the grant reaches resources nobody named.
    fn unbounded(&self) -> bool {
        self.any_resource || self.st.resource.as_ref().is_some_and(|r| r.negated)
    }

    fn cond_note(&self) -> &'static str {
        if self.conditional {
            " (conditional: only when the statement's conditions hold)"
        } else {
            ""
        }
    }

    /// One step lower, and said so, when nothing of the statement takes effect.
    fn weaken(&self, severity: Severity, message: String) -> (Severity, String) {
        if self.neutralised {
            (severity.lower(), message + " — not effective today (the permissions boundary or an explicit deny removes it), but one edit away")
        } else {
            (severity, message)
        }
    }

    fn finding(
        &self,
        kind: Code,
        severity: Severity,
        action: Option<String>,
        resource: Option<String>,
        message: String,
    ) -> Finding {
        Finding {
            kind,
            severity,
            policy: self.policy.name.to_string(),
            statement: self.st.label(),
            span: self.st.span,
            action,
            resource,
            actions: Vec::new(),
            message,
            place: None,
        }
    }

    /// A finding of a shared rule, graded as it takes effect: `Action: "*"` on `Resource: "*"`
    /// without conditions is critical; a neutralised statement is one step lower. Unknown actions
    /// grant nothing and keep their (low) grade.
    fn graded(&self, f: LintFinding) -> Finding {
        let (action, resource) = match f.code {
            Code::WildcardResource => (None, f.element),
            Code::NotActionAllow | Code::NotResourceAllow => (None, None),
            _ => (f.element, None),
        };
        if matches!(f.code, Code::UnknownAction | Code::UnknownService | Code::ActionMatchesNothing) {
            return self.finding(f.code, f.severity, action, resource, f.message);
        }
        let severity = if f.code == Code::WildcardAction && self.any_resource && !self.conditional {
            Severity::Critical
        } else {
            f.severity
        };
        let (severity, message) = self.weaken(severity, f.message + self.cond_note());
        self.finding(f.code, severity, action, resource, message)
    }
}

/// Audits a principal; `usage` (with a trail) adds over-grant findings.
pub fn audit(subject: &Subject, usage: Option<&Usage>, catalog: &Catalog) -> Vec<Finding> {
    let permissions = effective_permissions(subject, catalog);
    let effective = Effective::new(&permissions);
    let mut findings: Vec<Finding> = subject
        .policies
        .identity
        .iter()
        .flat_map(|p| p.policy.statements.iter().map(move |st| (p, st)))
        .filter(|(_, st)| st.effect == Effect::Allow)
        .flat_map(|(p, st)| {
            audit_statement(&Grant::new(p, st, catalog, &effective), &effective, usage, catalog)
        })
        .collect();
    sort_findings(&mut findings);
    findings
}

/// Most serious first, then by code, policy, statement and action.
fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.severity, a.kind.name(), &a.policy, &a.statement, &a.action).cmp(&(
            b.severity,
            b.kind.name(),
            &b.policy,
            &b.statement,
            &b.action,
        ))
    });
}

/// Every rule on one Allow statement.
fn audit_statement(
    grant: &Grant<'_, '_>,
    effective: &Effective<'_>,
    usage: Option<&Usage>,
    catalog: &Catalog,
) -> Vec<Finding> {
    let st = grant.st;
    let mut shared = rules::negated_elements(st, grant.granted.len(), Command::Audit);
    shared.extend(rules::action_patterns(st, catalog, Command::Audit));
    shared.extend(rules::wildcard_resource(st, &grant.granted, Command::Audit));
    let mut findings: Vec<Finding> = shared.into_iter().map(|f| grant.graded(f)).collect();
    findings.extend(escalation(grant, effective, catalog));
    findings.extend(exfiltration(grant, effective));
    findings.extend(credentials(grant, effective));
    if let Some(u) = usage {
        findings.extend(over_grants(grant, effective, u, catalog));
    }
    findings
}

/// `privilege-escalation`: critical on `*` (or `NotResource`), high on named resources, one step
/// lower under conditions, medium when the grant does not take effect today.
fn escalation(grant: &Grant<'_, '_>, effective: &Effective<'_>, catalog: &Catalog) -> Vec<Finding> {
    ESCALATION
        .iter()
        .filter(|(action, _)| grant.grants(action) && !only_aws_owned_targets(grant.st, action, catalog))
        .map(|(action, what)| {
            let live = effective.live(action);
            let (severity, state) = match (live, grant.conditional) {
                (false, _) => (Severity::Medium, " — not effective today (removed by the permissions boundary or a deny), but one edit away"),
                (true, conditional) => {
                    let base = if grant.unbounded() { Severity::Critical } else { Severity::High };
                    if conditional {
                        (base.lower(), " (conditional: only when the statement's conditions hold)")
                    } else {
                        (base, "")
                    }
                }
            };
            let resources = &grant.resources;
            grant.finding(
                Code::PrivilegeEscalation,
                severity,
                Some(action.to_string()),
                Some(resources.clone()),
                format!("{action} on {resources}: {what}{state}"),
            )
        })
        .collect()
}

/// Whether every resource the statement names is owned by AWS (AWS managed policies, service-linked
/// and reserved roles, AWS managed key aliases) and `action` would change it: AWS refuses that
/// whatever the policies say, so the grant cannot be used to escalate.
fn only_aws_owned_targets(st: &Statement, action: &str, catalog: &Catalog) -> bool {
    let Some(resource) = st.resource.as_ref().filter(|r| !r.negated && !r.entries.is_empty()) else {
        return false;
    };
    catalog.is_write(action)
        && iamfit_policy::eval::rules::changes_resource(&action.to_ascii_lowercase())
        && resource.entries.iter().all(|e| iamfit_policy::eval::rules::owned_by_aws(&e.raw))
}

/// `data-exfiltration`: data-store reads on `Resource: "*"` that take effect, grouped per statement.
fn exfiltration(grant: &Grant<'_, '_>, effective: &Effective<'_>) -> Option<Finding> {
    if !grant.any_resource {
        return None;
    }
    let reads: Vec<String> =
        EXFILTRATION.iter().filter(|a| grant.grants(a) && effective.live(a)).map(|a| a.to_string()).collect();
    let first = reads.first()?.clone();
    let conditional = grant.conditional || reads.iter().any(|a| effective.conditional(a));
    let mut f = grant.finding(
        Code::DataExfiltration,
        Severity::High,
        Some(first),
        Some("*".into()),
        format!(
            "{} on \"*\": reads every such table, bucket, key or queue in the account{}",
            reads.join(", "),
            if conditional { " (conditional)" } else { "" }
        ),
    );
    f.actions = reads;
    Some(f)
}

/// `credentials-exposure`: actions that return or create credentials and take effect; high on
/// `*`, medium on named resources (IAM and STS ones count on any resource).
fn credentials(grant: &Grant<'_, '_>, effective: &Effective<'_>) -> Vec<Finding> {
    CREDENTIALS
        .iter()
        .filter(|a| grant.grants(a) && effective.live(a))
        .filter(|a| grant.any_resource || a.starts_with("iam:") || a.starts_with("sts:"))
        .map(|action| {
            let resources = &grant.resources;
            let conditional = grant.conditional || effective.conditional(action);
            grant.finding(
                Code::CredentialsExposure,
                if grant.any_resource { Severity::High } else { Severity::Medium },
                Some(action.to_string()),
                Some(resources.clone()),
                format!(
                    "{action} on {resources} returns or creates credentials{}",
                    if conditional { " (conditional)" } else { "" }
                ),
            )
        })
        .collect()
}

/// A statement's effective actions split by what the trail shows.
struct Split<'g> {
    used: BTreeSet<&'g str>,
    unused: Vec<&'g str>,
    unobservable: Vec<&'g str>,
}

impl<'g> Split<'g> {
    /// Used when the trail shows a call; unobservable when CloudTrail does not log the action, or it
    /// is a data event of a service the trail has no data events for; unused otherwise.
    fn new(actions: &[&'g str], usage: &Usage, catalog: &Catalog) -> Self {
        let observable = |a: &str| match catalog.action(a).map(coverage) {
            Some(Coverage::Logged) | None => true,
            Some(Coverage::DataEvent) => {
                usage.data_event_services.contains(a.split(':').next().unwrap_or(""))
            }
            Some(Coverage::NotLogged) => false,
        };
        let used: BTreeSet<&str> = actions.iter().copied().filter(|a| usage.used(a)).collect();
        let (unused, unobservable) =
            actions.iter().copied().filter(|a| !used.contains(a)).partition(|a| observable(a));
        Split { used, unused, unobservable }
    }
}

/// Granted but never used: the whole statement, whole services, then single actions; actions the
/// trail cannot observe are reported apart.
fn over_grants(
    grant: &Grant<'_, '_>,
    effective: &Effective<'_>,
    usage: &Usage,
    catalog: &Catalog,
) -> Vec<Finding> {
    let live: Vec<&str> = grant.names.iter().map(String::as_str).filter(|a| effective.live(a)).collect();
    if live.is_empty() {
        return Vec::new();
    }
    let split = Split::new(&live, usage, catalog);
    if split.used.is_empty() && split.unobservable.is_empty() {
        let mut f = grant.finding(
            Code::OverGrant,
            Severity::Medium,
            None,
            None,
            format!(
                "the whole statement is unused: none of its {} effective actions was called in the window; remove it{}",
                split.unused.len(),
                grant.cond_note()
            ),
        );
        f.actions = split.unused.iter().map(|a| a.to_string()).collect();
        return vec![f];
    }
    let mut findings = unused_by_service(grant, &live, &split);
    findings.extend(unobservable(grant, &split.unobservable));
    findings
}

/// Per service: drop it when nothing of it was used (medium), else keep only what was (low).
fn unused_by_service(grant: &Grant<'_, '_>, live: &[&str], split: &Split<'_>) -> Vec<Finding> {
    let mut services: BTreeMap<&str, (Vec<&str>, Vec<&str>)> = BTreeMap::new();
    for a in live {
        let entry = services.entry(a.split(':').next().unwrap_or("")).or_default();
        if split.used.contains(a) {
            entry.0.push(a);
        } else if split.unused.contains(a) {
            entry.1.push(a);
        }
    }
    services
        .into_iter()
        .filter(|(_, (_, unused))| !unused.is_empty())
        .map(|(svc, (used, unused))| {
            let shown = unused.iter().take(6).copied().collect::<Vec<_>>().join(", ");
            let more = if unused.len() > 6 { format!(" and {} more", unused.len() - 6) } else { String::new() };
            let (severity, message) = if used.is_empty() {
                (Severity::Medium, format!("no {svc} action of this statement was used in the window ({} granted: {shown}{more}): drop {svc} from it", unused.len()))
            } else {
                (Severity::Low, format!("{} of {} granted {svc} actions were never used in the window ({shown}{more}); used: {} — grant only those", unused.len(), unused.len() + used.len(), used.join(", ")))
            };
            let action = match unused.as_slice() {
                [one] => one.to_string(),
                _ => format!("{svc}:*"),
            };
            let mut f = grant.finding(Code::OverGrant, severity, Some(action), None, message);
            f.actions = unused.iter().map(|a| a.to_string()).collect();
            f
        })
        .collect()
}

/// `unobservable`: granted actions the trail cannot show, reported apart and never as unused.
fn unobservable(grant: &Grant<'_, '_>, actions: &[&str]) -> Option<Finding> {
    if actions.is_empty() {
        return None;
    }
    let shown = actions.iter().take(5).copied().collect::<Vec<_>>().join(", ");
    Some(grant.finding(
        Code::Unobservable,
        Severity::Info,
        None,
        None,
        format!(
            "{} granted action(s) cannot be seen in this trail (not logged by CloudTrail, or data events the trail does not record): {shown}{} — not reported as unused",
            actions.len(),
            if actions.len() > 5 { ", ..." } else { "" }
        ),
    ))
}

/// [`audit`] of a Lambda function's execution role: what the Lambda service needs for the function's
/// configuration (`needs`) is never an over-grant (it counts as used), and each need the role lacks
/// is a `missing-service-permission` finding ("the SQS trigger on queue q cannot poll: the role
/// lacks sqs:ReceiveMessage").
pub fn audit_function(
    subject: &Subject,
    usage: Option<&Usage>,
    needs: &super::service_needs::ServiceNeeds,
    catalog: &Catalog,
) -> Vec<Finding> {
    let counted = usage.map(|u| super::service_needs::usage_counting_needs(u, needs));
    let mut findings = audit(subject, counted.as_ref(), catalog);
    findings.extend(super::service_needs::missing_findings(subject, needs));
    sort_findings(&mut findings);
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use iamfit_trail::usage::ActionUse;

    fn policy(statements: &str) -> Policy {
        let text = format!(r#"{{"Version": "2012-10-17", "Statement": [{statements}]}}"#);
        Document::parse(&text).into_policy().unwrap()
    }

    /// A role with one inline policy `p` and, optionally, a permissions boundary.
    fn subject(statements: &str, boundary: Option<&str>) -> Subject {
        let mut s = policy_files_subject(&[("p".into(), policy(statements))]).unwrap();
        if let Some(b) = boundary {
            let root = s.graph.root();
            s.graph.add_policy(
                root,
                Attachment::Boundary,
                "boundary",
                Some(NamedPolicy::new("boundary", policy(b))),
            );
            s.policies = s.graph.policy_set();
        }
        s
    }

    fn run(statements: &str, boundary: Option<&str>, usage: Option<&Usage>) -> Vec<Finding> {
        audit(&subject(statements, boundary), usage, Catalog::embedded())
    }

    fn of(findings: &[Finding], kind: Code) -> Vec<&Finding> {
        findings.iter().filter(|f| f.kind == kind).collect()
    }

    fn used(actions: &[&str]) -> Usage {
        let mut u = Usage::default();
        for a in actions {
            u.actions.insert(a.to_string(), ActionUse { count: 1, ..Default::default() });
        }
        u
    }

    // IAM User Guide, "IAM JSON policy elements: Action": "*" is every action; on Resource "*"
    // without conditions that is administrator access.
    #[test]
    fn wildcard_action_is_critical_only_on_every_resource_without_conditions() {
        let all = run(r#"{"Effect": "Allow", "Action": "*", "Resource": "*"}"#, None, None);
        let w = of(&all, Code::WildcardAction);
        assert_eq!((w.len(), w[0].severity, w[0].action.as_deref()), (1, Severity::Critical, Some("*")));
        assert!(of(&all, Code::WildcardResource).is_empty(), "left to wildcard-action");
        let conditional = run(
            r#"{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}"#,
            None,
            None,
        );
        let w = of(&conditional, Code::WildcardAction);
        assert_eq!(w[0].severity, Severity::High);
        assert!(
            w[0].message.contains("(conditional: only when the statement's conditions hold)"),
            "{}",
            w[0].message
        );
        let named =
            run(r#"{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::orders/*"}"#, None, None);
        assert_eq!(of(&named, Code::WildcardAction)[0].severity, Severity::High);
    }

    // IAM User Guide, "IAM JSON policy elements: NotAction" / "...: NotResource".
    #[test]
    fn negated_elements_are_high() {
        let f = run(
            r#"{"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::secret/*"}"#,
            None,
            None,
        );
        let not_action = of(&f, Code::NotActionAllow);
        assert_eq!((not_action[0].severity, not_action[0].action.clone()), (Severity::High, None));
        assert!(
            not_action[0].message.starts_with("Allow with NotAction grants "),
            "{}",
            not_action[0].message
        );
        assert_eq!(of(&f, Code::NotResourceAllow)[0].severity, Severity::High);
        // Deny statements are guardrails, not grants: nothing to report.
        assert!(run(r#"{"Effect": "Deny", "NotAction": "iam:*", "Resource": "*"}"#, None, None).is_empty());
    }

    // IAM User Guide, "Permissions boundaries for IAM entities"
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html): the
    // effective permissions are what both the identity policy and the boundary allow.
    #[test]
    fn a_statement_the_boundary_neutralises_is_one_step_lower_and_says_so() {
        let boundary = r#"{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}"#;
        let f = run(
            r#"{"Sid": "AllSqs", "Effect": "Allow", "Action": "sqs:*", "Resource": "*"}"#,
            Some(boundary),
            None,
        );
        let w = of(&f, Code::ServiceWildcard);
        assert_eq!(w[0].severity, Severity::Low, "medium, one step lower");
        assert!(w[0].message.contains("not effective today"), "{}", w[0].message);
        // Without the boundary it is medium and takes effect.
        let live =
            run(r#"{"Sid": "AllSqs", "Effect": "Allow", "Action": "sqs:*", "Resource": "*"}"#, None, None);
        let w = of(&live, Code::ServiceWildcard);
        assert_eq!(w[0].severity, Severity::Medium);
        assert!(!w[0].message.contains("not effective"));
        // The boundary's own statements are not the principal's grants.
        let own = run(
            r#"{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}"#,
            Some(r#"{"Effect": "Allow", "Action": "*", "Resource": "*"}"#),
            None,
        );
        assert!(of(&own, Code::WildcardAction).is_empty());
    }

    // IAM User Guide, "Grant a user permissions to pass a role to an AWS service"
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html), and "Policy
    // evaluation logic": an explicit deny overrides any allow.
    #[test]
    fn pass_role_is_graded_by_target_conditions_and_effect() {
        let grade = |statements: &str| {
            let f = run(statements, None, None);
            let e = of(&f, Code::PrivilegeEscalation);
            assert_eq!(e.len(), 1, "{f:?}");
            (e[0].severity, e[0].message.clone(), e[0].resource.clone())
        };
        let (s, _, r) = grade(r#"{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}"#);
        assert_eq!((s, r.as_deref()), (Severity::Critical, Some("*")));
        let (s, _, _) = grade(
            r#"{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::111122223333:role/worker"}"#,
        );
        assert_eq!(s, Severity::High);
        let (s, m, _) = grade(
            r#"{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*", "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}}"#,
        );
        assert_eq!(s, Severity::High);
        assert!(m.contains("(conditional"), "{m}");
        let (s, m, _) = grade(
            r#"{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}, {"Effect": "Deny", "Action": "iam:PassRole", "Resource": "*"}"#,
        );
        assert_eq!(s, Severity::Medium);
        assert!(m.contains("not effective today"), "{m}");
    }

    // Service Authorization Reference: s3:GetObject reads objects, dynamodb:Scan reads tables.
    #[test]
    fn data_store_reads_on_every_resource_are_grouped() {
        let f = run(
            r#"{"Effect": "Allow", "Action": ["dynamodb:Scan", "s3:GetObject"], "Resource": "*"}"#,
            None,
            None,
        );
        let e = of(&f, Code::DataExfiltration);
        assert_eq!(e.len(), 1);
        assert_eq!(
            (e[0].severity, e[0].action.as_deref(), e[0].resource.as_deref()),
            (Severity::High, Some("s3:GetObject"), Some("*"))
        );
        assert_eq!(e[0].actions, ["s3:GetObject", "dynamodb:Scan"]);
        let named = run(
            r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::orders/*"}"#,
            None,
            None,
        );
        assert!(of(&named, Code::DataExfiltration).is_empty(), "one bucket is not every bucket");
    }

    // Secrets Manager User Guide: GetSecretValue returns the secret; IAM User Guide, "Managing access
    // keys for IAM users": CreateAccessKey creates a user's long-term credentials.
    #[test]
    fn credentials_exposure_is_high_on_every_resource_medium_on_named_ones() {
        let any = run(
            r#"{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}"#,
            None,
            None,
        );
        assert_eq!(of(&any, Code::CredentialsExposure)[0].severity, Severity::High);
        let one = run(
            r#"{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf"}"#,
            None,
            None,
        );
        assert!(
            of(&one, Code::CredentialsExposure).is_empty(),
            "reading one named secret is the point of it"
        );
        let keys = run(
            r#"{"Effect": "Allow", "Action": "iam:CreateAccessKey", "Resource": "arn:aws:iam::111122223333:user/ci"}"#,
            None,
            None,
        );
        let c = of(&keys, Code::CredentialsExposure);
        assert_eq!(
            (c[0].severity, c[0].resource.as_deref()),
            (Severity::Medium, Some("arn:aws:iam::111122223333:user/ci"))
        );
    }

    // Service Authorization Reference: no "s4" service; s3 has GetObject, not GetObjects.
    #[test]
    fn unknown_actions_grant_nothing_and_stay_low() {
        let f = run(
            r#"{"Effect": "Allow", "Action": ["s3:GetObjects", "s4:GetObject"], "Resource": "arn:aws:s3:::b/*"}"#,
            None,
            None,
        );
        let unknown = of(&f, Code::UnknownAction);
        assert_eq!(
            (unknown[0].severity, unknown[0].action.as_deref()),
            (Severity::Low, Some("s3:GetObjects"))
        );
        assert!(unknown[0].message.contains("did you mean s3:GetObject?"), "{}", unknown[0].message);
        assert_eq!(of(&f, Code::UnknownService)[0].severity, Severity::Low);
    }

    // CloudTrail User Guide, "Logging management events": Lambda's and IAM's control-plane calls
    // (GetFunction, ListFunctions, ListRoles) are management events, which trails record.
    #[test]
    fn over_grants_whole_statement_then_service_then_the_rest() {
        let statement = r#"{"Effect": "Allow", "Action": ["lambda:GetFunction", "lambda:ListFunctions"], "Resource": "*"}"#;
        let none = run(statement, None, Some(&used(&[])));
        let whole = of(&none, Code::OverGrant);
        assert_eq!((whole.len(), whole[0].severity), (1, Severity::Medium));
        assert!(
            whole[0].message.starts_with("the whole statement is unused: none of its 2 effective actions"),
            "{}",
            whole[0].message
        );
        assert_eq!(whole[0].actions, ["lambda:GetFunction", "lambda:ListFunctions"]);

        let some = run(statement, None, Some(&used(&["lambda:GetFunction"])));
        let rest = of(&some, Code::OverGrant);
        assert_eq!(
            (rest.len(), rest[0].severity, rest[0].action.as_deref()),
            (1, Severity::Low, Some("lambda:ListFunctions"))
        );
        assert!(
            rest[0].message.starts_with("1 of 2 granted lambda actions were never used"),
            "{}",
            rest[0].message
        );
        assert!(rest[0].message.contains("used: lambda:GetFunction"));

        let two =
            r#"{"Effect": "Allow", "Action": ["lambda:GetFunction", "iam:ListRoles"], "Resource": "*"}"#;
        let f = run(two, None, Some(&used(&["lambda:GetFunction"])));
        let service = of(&f, Code::OverGrant);
        assert_eq!(
            (service.len(), service[0].severity, service[0].action.as_deref()),
            (1, Severity::Medium, Some("iam:ListRoles"))
        );
        assert!(
            service[0].message.starts_with("no iam action of this statement was used"),
            "{}",
            service[0].message
        );
        // Without a trail, nothing is said about use.
        assert!(of(&run(two, None, None), Code::OverGrant).is_empty());
    }

    // CloudTrail User Guide, "Logging data events"
    // (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html):
    // S3 object-level calls such as GetObject are data events, which trails do not log by default.
    #[test]
    fn actions_the_trail_cannot_show_are_unobservable_not_unused() {
        let statement = r#"{"Effect": "Allow", "Action": ["lambda:GetFunction", "lambda:ListFunctions", "s3:GetObject"], "Resource": "arn:aws:s3:::b/*"}"#;
        let f = run(statement, None, Some(&used(&["lambda:GetFunction"])));
        let unobservable = of(&f, Code::Unobservable);
        assert_eq!(unobservable.len(), 1);
        assert_eq!(unobservable[0].severity, Severity::Info);
        assert!(unobservable[0].message.contains("s3:GetObject"), "{}", unobservable[0].message);
        assert!(of(&f, Code::OverGrant).iter().all(|o| !o.actions.iter().any(|a| a == "s3:GetObject")));
        // A trail with S3 data events shows it: then it is unused like any other action.
        let mut with_data = used(&["lambda:GetFunction"]);
        with_data.data_event_services.insert("s3".into());
        let f = run(statement, None, Some(&with_data));
        assert!(of(&f, Code::Unobservable).is_empty());
        assert!(of(&f, Code::OverGrant).iter().any(|o| o.actions.iter().any(|a| a == "s3:GetObject")));
    }

    #[test]
    fn the_report_is_audits_json_and_places_file_findings() {
        let text = "{\"Version\": \"2012-10-17\",\n \"Statement\": [\n  {\"Sid\": \"All\", \"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"}]}";
        let document = Document::parse(text);
        let s = policy_files_subject(&[("p.json".into(), document.clone().into_policy().unwrap())]).unwrap();
        let findings = audit(&s, None, Catalog::embedded());
        let report = AuditReport::new("p.json", &s, findings, None, false);
        let json = serde_json::to_value(&report).unwrap();
        let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["principal", "findings", "notes", "partial"]);
        let first = json["findings"][0].as_object().unwrap();
        let keys: Vec<&str> = first.keys().map(String::as_str).collect();
        assert_eq!(keys, ["kind", "severity", "policy", "statement", "action", "resource", "message"]);
        assert_eq!(json["notes"], serde_json::json!([]), "policy files: no trail note");

        let placed = report.locate(&[PolicyFile { name: "p.json".into(), document }]);
        let w = placed.findings.iter().find(|f| f.kind == Code::WildcardAction).unwrap();
        let place = w.place.as_ref().unwrap();
        // The statement object: from line 3, column 3 to just past its closing brace.
        assert_eq!((place.region.line, place.region.column, place.region.end_line), (3, 3, 3));
        assert_eq!(
            place.region.end_column,
            3 + r#"{"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"}"#.len()
        );
        let json = serde_json::to_value(w).unwrap();
        assert_eq!(
            (json["kind"].as_str(), json["line"].as_u64(), json["column"].as_u64()),
            (Some("wildcard-action"), Some(3), Some(3))
        );
        assert!(json.get("file").is_none() && json.get("end_line").is_none());
        assert!(placed.has_at_least(Severity::Critical));
    }

    // IAM User Guide, "Cross account resource access in IAM": a resource in another account also
    // needs that account's resource-based policy, so the files' role is put in their own account.
    #[test]
    fn policy_files_are_judged_in_the_account_they_name() {
        let files = [(
            "p.json".to_string(),
            policy(
                r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
                   {"Effect": "Allow", "Action": "iam:PassRole", "Resource": ["arn:aws:iam::111122223333:role/a", "arn:aws:iam::111122223333:role/b", "arn:aws:iam::444455556666:role/c"]}"#,
            ),
        )];
        let s = policy_files_subject(&files).unwrap();
        assert_eq!(s.principal.arn, "arn:aws:iam::111122223333:role/audited-policy");
        let none = [(
            "q.json".to_string(),
            policy(r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}"#),
        )];
        assert_eq!(
            policy_files_subject(&none).unwrap().principal.arn,
            "arn:aws:iam::000000000000:role/audited-policy"
        );
    }

    #[test]
    fn without_a_trail_the_report_says_over_grants_are_unknown() {
        let s =
            subject(r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}"#, None);
        let report = AuditReport::new("role app", &s, Vec::new(), None, true);
        assert!(report.notes.iter().any(|n| n.starts_with("no trail: over-grants")), "{:?}", report.notes);
        assert!(!report.partial && !report.has_at_least(Severity::Info));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod aws_owned_tests {
    use super::*;
    use crate::account::{Account, InlinePolicy, PolicyDocument, Role};

    /// IAM User Guide: AWS managed policies cannot be changed ("You cannot change the permissions
    /// defined in AWS managed policies",
    /// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html#aws-managed-policies)
    /// and service-linked roles' permissions cannot be edited
    /// (https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html): grants
    /// that only reach those are not escalation paths.
    #[test]
    fn grants_on_what_aws_owns_are_not_escalation_paths() {
        let doc = serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "AwsManaged", "Effect": "Allow", "Action": "iam:CreatePolicyVersion", "Resource": "arn:aws:iam::aws:policy/*"},
            {"Sid": "ServiceLinked", "Effect": "Allow", "Action": "iam:PutRolePolicy", "Resource": "arn:aws:iam::*:role/aws-service-role/*"},
            {"Sid": "Customer", "Effect": "Allow", "Action": "iam:CreatePolicyVersion", "Resource": "arn:aws:iam::111122223333:policy/*"}
        ]});
        let role = Role {
            name: "ops".into(),
            arn: "arn:aws:iam::111122223333:role/ops".into(),
            inline: vec![InlinePolicy {
                name: "ops".into(),
                document: PolicyDocument::from_value(&doc).unwrap(),
            }],
            ..Default::default()
        };
        let account = Account { roles: vec![role], ..Default::default() };
        let subject = account.role_subject("arn:aws:iam::111122223333:role/ops", "s").unwrap();
        let escalations: Vec<String> = audit(&subject, None, Catalog::get())
            .into_iter()
            .filter(|f| f.kind == Code::PrivilegeEscalation)
            .map(|f| f.statement)
            .collect();
        assert_eq!(escalations, vec!["Customer".to_string()]);
    }
}
