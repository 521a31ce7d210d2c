//! `audit`: what a principal's policies grant that it should not: wildcards, negated elements,
//! unknown actions, privilege-escalation, data-exfiltration and credentials-exposure grants, and —
//! with a trail — grants never used in the window, at the granularity that is actionable (whole
//! unused statements, then unused services, then actions), with actions CloudTrail cannot observe
//! reported apart.
//!
//! Grants are judged as they take effect: a statement the permissions boundary or an explicit deny
//! neutralises is still reported (it is one edit away from being live) but at a lower severity and
//! with that said; a grant that holds only under conditions is reported as conditional.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::account::Subject;
use iamfit_catalog::{Catalog, Lookup};
use iamfit_policy::document::{Effect, Statement};
use iamfit_policy::eval::{rules, NamedPolicy};
use iamfit_trail::map::{coverage, Coverage};
use iamfit_trail::usage::Usage;

use super::effective::{effective_permissions, EffectiveAction};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Exploitable now for account takeover or mass data access.
    Critical,
    /// A serious over-grant.
    High,
    /// Broader than needed.
    Medium,
    /// Worth cleaning up.
    Low,
    /// For information.
    Info,
}

impl Severity {
    /// The word used in reports and `--fail-on`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }

    fn lower(self) -> Severity {
        match self {
            Severity::Critical => Severity::High,
            Severity::High => Severity::Medium,
            Severity::Medium => Severity::Low,
            _ => Severity::Info,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `wildcard-action`, `service-wildcard`, `wildcard-resource`, `not-action-allow`,
    /// `not-resource-allow`, `unknown-action`, `privilege-escalation`, `data-exfiltration`,
    /// `credentials-exposure`, `over-grant`, `unobservable`.
    pub kind: &'static str,
    /// How serious.
    pub severity: Severity,
    /// The policy's name.
    pub policy: String,
    /// The statement's Sid or `#index`.
    pub statement: String,
    /// Byte span of the statement in its document (for line numbers when the document is a file).
    pub span: iamfit_policy::json::Span,
    /// The action concerned (a catalog action or the pattern as written).
    pub action: Option<String>,
    /// The resource concerned.
    pub resource: Option<String>,
    /// Every action the finding covers, when it groups several.
    pub actions: Vec<String>,
    /// What is wrong and what to do.
    pub message: String,
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

struct Located<'a> {
    policy: &'a NamedPolicy,
    statement: &'a Statement,
    boundary: bool,
}

/// Audits a principal; `usage` (with a trail) adds over-grant findings.
pub fn audit(subject: &Subject, usage: Option<&Usage>, catalog: &Catalog) -> Vec<Finding> {
    let effective = effective_permissions(subject, catalog);
    let by_action: BTreeMap<&str, &EffectiveAction> =
        effective.iter().map(|e| (e.action.as_str(), e)).collect();
    let live = |action: &str| {
        by_action.get(action).is_some_and(|e| !e.allowed.is_empty() || !e.conditional.is_empty())
    };
    let conditional = |action: &str| {
        by_action.get(action).is_some_and(|e| e.allowed.is_empty() && !e.conditional.is_empty())
    };

    let set = &subject.policies;
    let mut located = Vec::new();
    for p in &set.identity {
        for st in &p.policy.statements {
            located.push(Located { policy: p, statement: st, boundary: false });
        }
    }
    if let Some(b) = &set.boundary {
        for st in &b.policy.statements {
            located.push(Located { policy: b, statement: st, boundary: true });
        }
    }

    let mut findings = Vec::new();
    for loc in located.iter().filter(|l| !l.boundary && l.statement.effect == Effect::Allow) {
        let st = loc.statement;
        let base = |kind: &'static str,
                    severity: Severity,
                    action: Option<String>,
                    resource: Option<String>,
                    message: String| Finding {
            kind,
            severity,
            policy: loc.policy.name.to_string(),
            statement: st.label(),
            span: st.span,
            action,
            resource,
            actions: Vec::new(),
            message,
        };
        let cond_note = if st.conditions.is_empty() {
            ""
        } else {
            " (conditional: only when the statement's conditions hold)"
        };
        let any_resource =
            st.resource.as_ref().is_some_and(|r| !r.negated && r.entries.iter().any(|e| e.raw == "*"));
        // The actions this statement grants, in the catalog.
        let granted: Vec<String> = catalog
            .actions()
            .filter(|a| {
                let lower = a.full_name().to_ascii_lowercase();
                st.action.matches_lowercase(&lower, &a.service().to_ascii_lowercase())
            })
            .map(|a| a.full_name())
            .collect();
        let effective_count = granted.iter().filter(|a| live(a)).count();
        let neutralised = effective_count == 0 && !granted.is_empty();
        let weaken = |s: Severity| if neutralised { s.lower() } else { s };
        let why_weak = if neutralised {
            " — not effective today (the permissions boundary or an explicit deny removes it), but one edit away"
        } else {
            ""
        };

        if st.action.negated {
            findings.push(base("not-action-allow", weaken(Severity::High), None, None, format!("Allow with NotAction grants {} actions (every action not listed, and future ones){cond_note}{why_weak}", granted.len())));
        }
        if st.resource.as_ref().is_some_and(|r| r.negated) {
            findings.push(base("not-resource-allow", weaken(Severity::High), None, None, format!("Allow with NotResource grants every resource not listed, in every account{cond_note}{why_weak}")));
        }
        for pattern in st.action.patterns.iter().filter(|_| !st.action.negated) {
            let raw = pattern.raw.as_str();
            if raw == "*" {
                let sev = if any_resource && st.conditions.is_empty() {
                    Severity::Critical
                } else {
                    Severity::High
                };
                findings.push(base(
                    "wildcard-action",
                    weaken(sev),
                    Some(raw.into()),
                    None,
                    format!("Action \"*\" grants every action of every service{cond_note}{why_weak}"),
                ));
            } else if let Some((svc, "*")) = raw.split_once(':') {
                findings.push(base(
                    "service-wildcard",
                    weaken(Severity::Medium),
                    Some(raw.into()),
                    None,
                    format!(
                        "{raw} grants all {} actions of {svc}{cond_note}{why_weak}",
                        catalog.expand(raw).len()
                    ),
                ));
            } else if !pattern.has_wildcards() {
                match catalog.lookup(raw) {
                    Lookup::Found(_) => {}
                    Lookup::UnknownAction { suggestion, .. } => findings.push(base(
                        "unknown-action",
                        Severity::Low,
                        Some(raw.into()),
                        None,
                        format!(
                            "{raw} is not an IAM action, so it grants nothing{}",
                            suggestion
                                .map(|s| format!(" (did you mean {}?)", s.full_name()))
                                .unwrap_or_default()
                        ),
                    )),
                    Lookup::UnknownService { suggestion } => findings.push(base(
                        "unknown-action",
                        Severity::Low,
                        Some(raw.into()),
                        None,
                        format!(
                            "{raw}: unknown service{}",
                            suggestion.map(|s| format!(" (did you mean {s}?)")).unwrap_or_default()
                        ),
                    )),
                    Lookup::Malformed => {}
                }
            }
        }
        if any_resource && !st.action.negated {
            let scoped: Vec<&String> = granted
                .iter()
                .filter(|a| catalog.action(a).is_some_and(|r| r.supports_resource_level_permissions()))
                .collect();
            if !scoped.is_empty() && !st.action.patterns.iter().any(|p| p.raw == "*") {
                let shown: Vec<&str> = scoped.iter().take(4).map(|s| s.as_str()).collect();
                findings.push(base(
                    "wildcard-resource",
                    weaken(Severity::Medium),
                    None,
                    Some("*".into()),
                    format!("Resource \"*\" for {} action(s) that support resource-level permissions ({}{}): name the resources{cond_note}{why_weak}", scoped.len(), shown.join(", "), if scoped.len() > 4 { ", ..." } else { "" }),
                ));
            }
        }
        // Dangerous grants, judged per action as they take effect.
        let resources_text = st
            .resource
            .as_ref()
            .map(|r| r.entries.iter().map(|e| e.raw.clone()).collect::<Vec<_>>().join(", "))
            .unwrap_or_else(|| "*".into());
        let statement_conditional = !st.conditions.is_empty();
        for (action, what) in ESCALATION {
            if granted.iter().any(|g| g == action) && !only_aws_owned_targets(st, action, catalog) {
                let wildcard_target = any_resource || st.resource.as_ref().is_some_and(|r| r.negated);
                let mut sev = if !live(action) {
                    Severity::Medium
                } else if wildcard_target {
                    Severity::Critical
                } else {
                    Severity::High
                };
                if statement_conditional && live(action) {
                    sev = sev.lower();
                }
                let state = if !live(action) {
                    " — not effective today (removed by the permissions boundary or a deny), but one edit away".to_string()
                } else if statement_conditional {
                    " (conditional: only when the statement's conditions hold)".to_string()
                } else {
                    String::new()
                };
                findings.push(base(
                    "privilege-escalation",
                    sev,
                    Some(action.to_string()),
                    Some(resources_text.clone()),
                    format!("{action} on {resources_text}: {what}{state}"),
                ));
            }
        }
        let exfil: Vec<String> = EXFILTRATION
            .iter()
            .filter(|a| any_resource && granted.iter().any(|g| g == *a) && live(a))
            .map(|a| a.to_string())
            .collect();
        if !exfil.is_empty() {
            let any_conditional = statement_conditional || exfil.iter().any(|a| conditional(a));
            let mut f = base(
                "data-exfiltration",
                Severity::High,
                exfil.first().cloned(),
                Some("*".into()),
                format!(
                    "{} on \"*\": reads every such table, bucket, key or queue in the account{}",
                    exfil.join(", "),
                    if any_conditional { " (conditional)" } else { "" }
                ),
            );
            f.actions = exfil;
            findings.push(f);
        }
        for action in CREDENTIALS {
            if granted.iter().any(|g| g == action)
                && live(action)
                && (any_resource || action.starts_with("iam:") || action.starts_with("sts:"))
            {
                findings.push(base(
                    "credentials-exposure",
                    if any_resource { Severity::High } else { Severity::Medium },
                    Some(action.to_string()),
                    Some(resources_text.clone()),
                    format!(
                        "{action} on {resources_text} returns or creates credentials{}",
                        if statement_conditional || conditional(action) { " (conditional)" } else { "" }
                    ),
                ));
            }
        }
        if let Some(u) = usage {
            over_grants(&granted, &live, u, catalog, &mut findings, &base, cond_note);
        }
    }
    findings.sort_by(|a, b| {
        (a.severity, a.kind, &a.policy, &a.statement, &a.action).cmp(&(
            b.severity,
            b.kind,
            &b.policy,
            &b.statement,
            &b.action,
        ))
    });
    findings
}

/// Whether every resource the statement names is owned by AWS (AWS managed policies, service-linked
/// and reserved roles, AWS managed key aliases) and `action` would change it: AWS refuses that
/// whatever the policies say, so the grant cannot be used to escalate.
fn only_aws_owned_targets(st: &Statement, action: &str, catalog: &Catalog) -> bool {
    let Some(resource) = st.resource.as_ref().filter(|r| !r.negated && !r.entries.is_empty()) else {
        return false;
    };
    catalog.is_write(action)
        && rules::changes_resource(&action.to_ascii_lowercase())
        && resource.entries.iter().all(|e| rules::owned_by_aws(&e.raw))
}

/// Granted but never used: the whole statement, whole services, then single actions; actions the
/// trail cannot observe are reported apart.
fn over_grants(
    granted: &[String],
    live: &dyn Fn(&str) -> bool,
    usage: &Usage,
    catalog: &Catalog,
    findings: &mut Vec<Finding>,
    base: &dyn Fn(&'static str, Severity, Option<String>, Option<String>, String) -> Finding,
    cond_note: &str,
) {
    let effective: Vec<&String> = granted.iter().filter(|a| live(a)).collect();
    if effective.is_empty() {
        return;
    }
    let observable = |a: &str| match catalog.action(a).map(coverage) {
        Some(Coverage::Logged) | None => true,
        Some(Coverage::DataEvent) => usage.data_event_services.contains(a.split(':').next().unwrap_or("")),
        Some(Coverage::NotLogged) => false,
    };
    let used: BTreeSet<&str> = effective.iter().filter(|a| usage.used(a)).map(|a| a.as_str()).collect();
    let unobservable: Vec<&str> = effective
        .iter()
        .filter(|a| !used.contains(a.as_str()) && !observable(a))
        .map(|a| a.as_str())
        .collect();
    let unused: Vec<&str> = effective
        .iter()
        .filter(|a| !used.contains(a.as_str()) && observable(a))
        .map(|a| a.as_str())
        .collect();
    if used.is_empty() && unobservable.is_empty() {
        let mut f = base("over-grant", Severity::Medium, None, None, format!("the whole statement is unused: none of its {} effective actions was called in the window; remove it{cond_note}", unused.len()));
        f.actions = unused.iter().map(|a| a.to_string()).collect();
        findings.push(f);
        return;
    }
    // Per service: drop it when nothing of it was used, else keep only what was.
    let mut services: BTreeMap<&str, (Vec<&str>, Vec<&str>)> = BTreeMap::new();
    for a in &effective {
        let svc = a.split(':').next().unwrap_or("");
        let entry = services.entry(svc).or_default();
        if used.contains(a.as_str()) {
            entry.0.push(a);
        } else if unused.contains(&a.as_str()) {
            entry.1.push(a);
        }
    }
    for (svc, (used_here, unused_here)) in services {
        if unused_here.is_empty() {
            continue;
        }
        let shown: Vec<&str> = unused_here.iter().take(6).copied().collect();
        let more = if unused_here.len() > 6 {
            format!(" and {} more", unused_here.len() - 6)
        } else {
            String::new()
        };
        let (severity, message) = if used_here.is_empty() {
            (Severity::Medium, format!("no {svc} action of this statement was used in the window ({} granted: {}{more}): drop {svc} from it", unused_here.len(), shown.join(", ")))
        } else {
            (
                Severity::Low,
                format!("{} of {} granted {svc} actions were never used in the window ({}{more}); used: {} — grant only those", unused_here.len(), unused_here.len() + used_here.len(), shown.join(", "), used_here.join(", ")),
            )
        };
        let mut f = base(
            "over-grant",
            severity,
            Some(if unused_here.len() == 1 { unused_here[0].to_string() } else { format!("{svc}:*") }),
            None,
            message,
        );
        f.actions = unused_here.iter().map(|a| a.to_string()).collect();
        findings.push(f);
    }
    if !unobservable.is_empty() {
        let shown: Vec<&str> = unobservable.iter().take(5).copied().collect();
        findings.push(base(
            "unobservable",
            Severity::Info,
            None,
            None,
            format!(
                "{} granted action(s) cannot be seen in this trail (not logged by CloudTrail, or data events the trail does not record): {}{} — not reported as unused",
                unobservable.len(),
                shown.join(", "),
                if unobservable.len() > 5 { ", ..." } else { "" }
            ),
        ));
    }
}

// ---------------------------------------------------------------------------------------------------
// Issue 13: what the Lambda service needs for the function's configuration. Kept apart from `audit`
// above so that it can be re-applied to another version of this file: the logic is in
// `super::service_needs` (`usage_counting_needs`, `missing_findings`).

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
    findings.sort_by(|a, b| {
        (a.severity, a.kind, &a.policy, &a.statement, &a.action).cmp(&(
            b.severity,
            b.kind,
            &b.policy,
            &b.statement,
            &b.action,
        ))
    });
    findings
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
            .filter(|f| f.kind == "privilege-escalation")
            .map(|f| f.statement)
            .collect();
        assert_eq!(escalations, vec!["Customer".to_string()]);
    }
}
