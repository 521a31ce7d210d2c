//! Validation and lint: everything `iamfit check` reports beyond the grammar, with stable codes.
//!
//! The grammar findings come from the parser ([`Document`]); this module adds what needs meaning:
//! the action catalog (unknown services and actions, resource types, condition key types), IAM's
//! limits (sizes, Sid rules), and risky constructs (wildcards, NotAction/NotResource with Allow).

use std::collections::HashMap;

use iamfit_catalog::{Catalog, ConditionType, Lookup};

use iamfit_policy::condition::{SetQualifier, ValueType};
use iamfit_policy::document::{Effect, Policy, Statement, Version};
use iamfit_policy::finding::{Finding, Severity};
use iamfit_policy::json::{Location, Span};
use iamfit_policy::parse::Document;
use iamfit_policy::pattern::variables_as_wildcards;
use iamfit_policy::wildcard;

/// What a document is for; decides size limits and which elements are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// Decide from the content: statements with `Principal` make a resource-based policy.
    Auto,
    /// An identity-based policy (managed or inline).
    Identity,
    /// A resource-based policy (bucket, key, queue, function policy).
    Resource,
    /// A role trust policy.
    Trust,
    /// A service control policy.
    Scp,
    /// A resource control policy.
    Rcp,
    /// A permissions boundary.
    Boundary,
    /// A session policy.
    Session,
}

impl PolicyKind {
    /// The kind, resolving `Auto` from the policy's content.
    pub fn resolve(self, policy: &Policy) -> PolicyKind {
        if self != PolicyKind::Auto {
            return self;
        }
        let with_principal = policy.statements.iter().any(|s| s.principal.is_some());
        if !with_principal {
            return PolicyKind::Identity;
        }
        let trust = policy.statements.iter().all(|s| {
            !s.action.negated
                && s.action.patterns.iter().all(|p| {
                    p.raw.to_ascii_lowercase().starts_with("sts:assumerole")
                        || p.raw.eq_ignore_ascii_case("sts:TagSession")
                        || p.raw.eq_ignore_ascii_case("sts:SetSourceIdentity")
                })
        });
        if trust {
            PolicyKind::Trust
        } else {
            PolicyKind::Resource
        }
    }

    /// IAM's size limit in characters (white space not counted), and what the limit is.
    fn size_limit(self) -> (usize, &'static str) {
        match self {
            PolicyKind::Trust => (2048, "role trust policies (adjustable up to 4,096 by quota)"),
            PolicyKind::Scp | PolicyKind::Rcp => (5120, "organization policies"),
            PolicyKind::Session => (2048, "inline session policies"),
            PolicyKind::Resource => (20480, "most resource-based policies (S3, SQS, SNS, Lambda)"),
            _ => (6144, "managed policies"),
        }
    }

    fn takes_principal(self) -> bool {
        matches!(self, PolicyKind::Resource | PolicyKind::Trust)
    }
}

/// Every finding for a parsed document: the parser's and the lints'. Sorted by position.
pub fn validate(doc: &Document, kind: PolicyKind, catalog: &Catalog) -> Vec<Finding> {
    let mut findings = doc.findings.clone();
    if let Some(policy) = &doc.policy {
        let kind = kind.resolve(policy);
        let mut lint = Lint { findings: &mut findings, catalog, kind };
        lint.document(doc, policy);
    }
    findings.sort_by(|a, b| a.span.start.cmp(&b.span.start).then(a.severity.cmp(&b.severity)));
    findings
}

struct Lint<'a> {
    findings: &'a mut Vec<Finding>,
    catalog: &'a Catalog,
    kind: PolicyKind,
}

impl Lint<'_> {
    fn add(&mut self, severity: Severity, code: &'static str, message: String, at: &Location) {
        self.findings.push(Finding::new(severity, code, message, at.span, &at.pointer));
    }

    fn document(&mut self, doc: &Document, policy: &Policy) {
        let top = Location { span: Span { start: 0, end: 0 }, pointer: String::new() };
        match policy.version {
            Version::Absent => self.add(
                Severity::Warning,
                "missing-version",
                "no Version: IAM reads the policy as 2008-10-17, where policy variables do not work; add \"Version\": \"2012-10-17\"".into(),
                &top,
            ),
            Version::V2008_10_17 => self.add(
                Severity::Warning,
                "old-version",
                "Version 2008-10-17 is the old policy language (no policy variables); use 2012-10-17".into(),
                &top,
            ),
            Version::V2012_10_17 => {}
        }
        let size = doc.text.chars().filter(|c| !c.is_whitespace()).count();
        let (limit, what) = self.kind.size_limit();
        if size > limit {
            self.add(
                Severity::Error,
                "policy-too-large",
                format!("the policy has {size} characters without white space; IAM allows {limit} for {what}: split it or narrow it"),
                &top,
            );
        }
        let mut sids: HashMap<&str, usize> = HashMap::new();
        for st in &policy.statements {
            if let Some(sid) = &st.sid {
                if let Some(first) = sids.insert(sid, st.index) {
                    self.add(
                        Severity::Error,
                        "duplicate-sid",
                        format!("Sid {sid:?} is used by statement #{first} too; Sids must be unique within a policy"),
                        &st.sid_location,
                    );
                }
                if matches!(
                    self.kind,
                    PolicyKind::Identity | PolicyKind::Boundary | PolicyKind::Scp | PolicyKind::Rcp
                ) && !sid.chars().all(|c| c.is_ascii_alphanumeric())
                {
                    self.add(
                        Severity::Error,
                        "invalid-sid",
                        format!("Sid {sid:?}: in identity-based and organization policies a Sid may only contain A-Z, a-z and 0-9"),
                        &st.sid_location,
                    );
                }
            }
            self.statement(st);
        }
    }

    fn statement(&mut self, st: &Statement) {
        let at = Location {
            span: st.span,
            pointer: st
                .sid_location
                .pointer
                .rsplit_once("/Sid")
                .map_or(st.sid_location.pointer.clone(), |(p, _)| p.to_string()),
        };
        match (&st.principal, self.kind.takes_principal()) {
            (Some(_), false) => self.add(
                Severity::Error,
                "principal-not-allowed",
                format!("a {:?} policy cannot have Principal or NotPrincipal: the principal is whoever the policy is attached to", self.kind).to_lowercase(),
                &at,
            ),
            (None, true) => self.add(
                Severity::Error,
                "missing-principal",
                "statements of resource-based and trust policies need a Principal".into(),
                &at,
            ),
            _ => {}
        }
        if let Some(p) = &st.principal {
            if p.negated {
                self.add(
                    Severity::Warning,
                    "not-principal",
                    "NotPrincipal is easy to get wrong (sessions, boundaries, account ARNs); AWS recommends a condition on aws:PrincipalArn instead".into(),
                    &at,
                );
            }
        }
        if st.effect == Effect::Allow && st.action.negated {
            self.add(
                Severity::Warning,
                "not-action-allow",
                "Allow with NotAction grants every action not listed, including actions of services added in the future".into(),
                &at,
            );
        }
        if let Some(res) = &st.resource {
            if st.effect == Effect::Allow && res.negated {
                self.add(
                    Severity::Warning,
                    "not-resource-allow",
                    "Allow with NotResource grants every resource not listed, in every account".into(),
                    &at,
                );
            }
        }
        self.actions(st);
        self.resources(st);
        self.conditions(st);
    }

    fn actions(&mut self, st: &Statement) {
        let mut seen: Vec<String> = Vec::new();
        // Entries that are not action names were already reported by the grammar (invalid-action).
        for pattern in st.action.patterns.iter().filter(|p| p.is_valid()) {
            let raw = pattern.raw.as_str();
            let lower = raw.to_ascii_lowercase();
            if seen.contains(&lower) {
                self.add(
                    Severity::Info,
                    "redundant-action",
                    format!("{raw:?} is listed twice"),
                    &pattern.location,
                );
                continue;
            }
            if let Some(other) = seen.iter().find(|o| o.as_str() != lower && wildcard::matches(o, &lower)) {
                self.add(
                    Severity::Info,
                    "redundant-action",
                    format!("{raw:?} is already covered by {other:?}"),
                    &pattern.location,
                );
            }
            seen.push(lower);
            if raw == "*" {
                if st.effect == Effect::Allow && !st.action.negated {
                    self.add(
                        Severity::Warning,
                        "wildcard-action",
                        "Action \"*\" grants every action of every service".into(),
                        &pattern.location,
                    );
                }
                continue;
            }
            let Some((service, name)) = raw.split_once(':') else { continue };
            if service.contains(['*', '?']) {
                if self.catalog.expand(raw).is_empty() {
                    self.add(
                        Severity::Error,
                        "action-matches-nothing",
                        format!("{raw:?} matches no action of any service"),
                        &pattern.location,
                    );
                }
                continue;
            }
            let Some(svc) = self.catalog.service(service) else {
                let hint = self
                    .catalog
                    .suggest_service(service)
                    .map(|s| format!(" (did you mean {s:?}?)"))
                    .unwrap_or_default();
                self.add(
                    Severity::Error,
                    "unknown-service",
                    format!("{service:?} is not an IAM service prefix{hint}"),
                    &pattern.location,
                );
                continue;
            };
            if name == "*" {
                if st.effect == Effect::Allow && !st.action.negated {
                    self.add(
                        Severity::Warning,
                        "service-wildcard",
                        format!("{raw:?} grants all {} actions of {}", svc.action_count(), svc.name()),
                        &pattern.location,
                    );
                }
                continue;
            }
            if name.contains(['*', '?']) {
                if self.catalog.expand(raw).is_empty() {
                    self.add(
                        Severity::Error,
                        "action-matches-nothing",
                        format!("{raw:?} matches no {service} action"),
                        &pattern.location,
                    );
                }
                continue;
            }
            match self.catalog.lookup(raw) {
                Lookup::Found(_) => {}
                Lookup::UnknownAction { suggestion, .. } => {
                    let hint =
                        suggestion.map(|a| format!(" (did you mean {}?)", a.full_name())).unwrap_or_default();
                    self.add(
                        Severity::Error,
                        "unknown-action",
                        format!("{raw:?} is not an action of {service}{hint}"),
                        &pattern.location,
                    );
                }
                _ => {}
            }
        }
    }

    fn resources(&mut self, st: &Statement) {
        let Some(res) = &st.resource else { return };
        for entry in &res.entries {
            let raw = entry.raw.as_str();
            if raw == "*" {
                continue;
            }
            if raw.starts_with("arn:") {
                let parts: Vec<&str> = raw.splitn(6, ':').collect();
                if parts.len() < 6 {
                    self.add(
                        Severity::Error,
                        "malformed-arn",
                        format!("{raw:?} is not a complete ARN: expected arn:partition:service:region:account:resource"),
                        &entry.location,
                    );
                    continue;
                }
                let partition = parts[1];
                if !partition.contains(['*', '?', '$'])
                    && !matches!(
                        partition,
                        "aws"
                            | "aws-cn"
                            | "aws-us-gov"
                            | "aws-iso"
                            | "aws-iso-b"
                            | "aws-iso-e"
                            | "aws-iso-f"
                            | "aws-eusc"
                    )
                {
                    self.add(
                        Severity::Error,
                        "malformed-arn",
                        format!("{raw:?}: unknown partition {partition:?}"),
                        &entry.location,
                    );
                }
                let account = parts[4];
                let account_ok = account.is_empty()
                    || account.contains(['*', '?', '$'])
                    || account == "aws"
                    || (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()));
                if !account_ok {
                    self.add(
                        Severity::Warning,
                        "malformed-arn",
                        format!("{raw:?}: the account segment {account:?} is not a 12-digit account id"),
                        &entry.location,
                    );
                }
                if parts[..5].iter().any(|p| p.contains("${")) {
                    self.add(
                        Severity::Warning,
                        "variable-outside-resource",
                        format!("{raw:?}: policy variables are only allowed in the resource part of an ARN (after the fifth colon)"),
                        &entry.location,
                    );
                }
            } else {
                self.add(
                    Severity::Error,
                    "malformed-arn",
                    format!("{raw:?} is neither an ARN nor \"*\""),
                    &entry.location,
                );
            }
        }
        if res.negated || st.action.negated {
            return;
        }
        // Per action: does any listed resource fit a resource type the action acts on?
        let resources: Vec<String> = res.entries.iter().map(|e| variables_as_wildcards(&e.raw)).collect();
        let any_star = res.entries.iter().any(|e| e.raw == "*");
        let mut resource_level = Vec::new();
        for pattern in st.action.patterns.iter().filter(|p| p.is_valid()) {
            if pattern.has_wildcards() {
                let expanded = self.catalog.expand(&pattern.raw);
                let with_resources =
                    expanded.iter().filter(|a| a.supports_resource_level_permissions()).count();
                if with_resources > 0 {
                    resource_level.push(format!("{} ({with_resources} such actions)", pattern.raw));
                }
                continue;
            }
            let actions: Vec<_> = self.catalog.action(&pattern.raw).into_iter().collect();
            for action in actions {
                let types = action.resource_types();
                if types.is_empty() {
                    if !any_star {
                        self.add(
                            Severity::Warning,
                            "no-resource-level-permissions",
                            format!("{} does not support resource-level permissions: only Resource \"*\" applies to it, so this statement never covers it", action.full_name()),
                            &pattern.location,
                        );
                    }
                    continue;
                }
                resource_level.push(action.full_name());
                if any_star {
                    continue;
                }
                let formats: Vec<String> = types
                    .iter()
                    .flat_map(|t| t.resource_type.arn_formats.iter().map(|f| variables_as_wildcards(f)))
                    .collect();
                let fits = resources.iter().any(|r| formats.iter().any(|f| wildcard::overlap(r, f)));
                if !fits {
                    let shown: Vec<&str> = types.iter().map(|t| t.resource_type.name).collect();
                    let example = types
                        .first()
                        .and_then(|t| t.resource_type.arn_formats.first())
                        .copied()
                        .unwrap_or("");
                    self.add(
                        Severity::Warning,
                        "resource-type-mismatch",
                        format!("{} acts on {} resources ({example}); none of this statement's resources has that form, so the statement never grants it", action.full_name(), shown.join(", ")),
                        &pattern.location,
                    );
                }
            }
        }
        if any_star && st.effect == Effect::Allow && !resource_level.is_empty() {
            let star =
                res.entries.iter().find(|e| e.raw == "*").map(|e| e.location.clone()).unwrap_or_default();
            let shown = if resource_level.len() > 3 {
                format!("{} and {} more", resource_level[..3].join(", "), resource_level.len() - 3)
            } else {
                resource_level.join(", ")
            };
            self.add(
                Severity::Warning,
                "wildcard-resource",
                format!("Resource \"*\" with actions that support resource-level permissions ({shown}): name the resources"),
                &star,
            );
        }
        let passes_role = st.effect == Effect::Allow
            && any_star
            && st.action.patterns.iter().any(|p| wildcard::matches_ignore_ascii_case(&p.raw, "iam:PassRole"));
        if passes_role {
            self.add(
                Severity::Warning,
                "pass-role-wildcard",
                "iam:PassRole on \"*\" lets the holder hand any role (an admin role included) to a service: a privilege escalation path".into(),
                &Location { span: st.span, pointer: String::new() },
            );
        }
    }

    fn conditions(&mut self, st: &Statement) {
        for cond in &st.conditions {
            let op = cond.operator;
            let Some(def) = self.catalog.condition_key(&cond.key) else {
                let service = cond.key.split_once(':').map(|(s, _)| s).unwrap_or("");
                if service == "aws" || self.catalog.is_known_service(service) {
                    self.add(
                        Severity::Warning,
                        "unknown-condition-key",
                        format!("{:?} is not a documented condition key: a misspelt key is never present, so the condition is always {}", cond.key, if op.kind.is_negated() || op.if_exists { "true" } else { "false" }),
                        &cond.location,
                    );
                }
                continue;
            };
            let key_type = def.value_type;
            let multivalued = is_array(key_type);
            let expected = base_type(key_type);
            let fits = match (op.kind.value_type(), expected) {
                (ValueType::Null, _) | (_, None) => true,
                (ValueType::String, Some(ValueType::String | ValueType::Arn)) => true,
                (ValueType::Arn, Some(ValueType::Arn | ValueType::String)) => {
                    expected == Some(ValueType::Arn)
                }
                (a, Some(b)) => a == b,
            };
            if !fits {
                self.add(
                    Severity::Warning,
                    "condition-type-mismatch",
                    format!(
                        "{} compares {:?} values, but {} is of type {:?}",
                        op,
                        op.kind.value_type(),
                        def.name,
                        key_type
                    ),
                    &cond.location,
                );
            }
            match (op.qualifier, multivalued) {
                (None, true) if op.kind.value_type() != ValueType::Null => self.add(
                    Severity::Warning,
                    "missing-set-operator",
                    format!("{} is multivalued: use ForAllValues: or ForAnyValue: with {} to say which values must match", def.name, op),
                    &cond.location,
                ),
                (Some(q), false) => self.add(
                    if q == SetQualifier::ForAllValues && st.effect == Effect::Allow { Severity::Warning } else { Severity::Info },
                    "set-operator-on-single-value",
                    format!("{} is single-valued: {} is meant for multivalued keys{}", def.name, op, if q == SetQualifier::ForAllValues { " (ForAllValues is also true when the key is missing)" } else { "" }),
                    &cond.location,
                ),
                _ => {}
            }
        }
    }
}

fn is_array(t: ConditionType) -> bool {
    matches!(
        t,
        ConditionType::ArrayOfString
            | ConditionType::ArrayOfArn
            | ConditionType::ArrayOfBool
            | ConditionType::ArrayOfDate
            | ConditionType::ArrayOfIpAddress
            | ConditionType::ArrayOfNumeric
            | ConditionType::ArrayOfBinary
    )
}

fn base_type(t: ConditionType) -> Option<ValueType> {
    Some(match t {
        ConditionType::String | ConditionType::ArrayOfString => ValueType::String,
        ConditionType::Arn | ConditionType::ArrayOfArn => ValueType::Arn,
        ConditionType::Bool | ConditionType::ArrayOfBool => ValueType::Bool,
        ConditionType::Date | ConditionType::ArrayOfDate => ValueType::Date,
        ConditionType::IpAddress | ConditionType::ArrayOfIpAddress => ValueType::Ip,
        ConditionType::Numeric | ConditionType::ArrayOfNumeric => ValueType::Numeric,
        ConditionType::Binary | ConditionType::ArrayOfBinary => ValueType::Binary,
        _ => return None,
    })
}
