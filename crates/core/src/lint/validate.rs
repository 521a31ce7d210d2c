//! Validation and lint: everything `iamfit check` reports beyond the grammar, with stable codes.
//!
//! The grammar findings come from the parser ([`Document`]); this module adds what needs meaning:
//! the action catalog (unknown services and actions, resource types, condition key types), IAM's
//! limits (sizes, Sid rules), and risky constructs (wildcards, NotAction/NotResource with Allow).
//! The rules `audit` applies too are written once, in [`super::rules`]; every code is registered in
//! [`super::codes`].

use std::collections::HashMap;

use iamfit_catalog::{Catalog, ConditionType};

use iamfit_policy::condition::{Condition, SetQualifier, ValueType};
use iamfit_policy::document::{Effect, Policy, ResourceEntry, Statement, Version};
use iamfit_policy::json::{Location, Span};
use iamfit_policy::parse::Document;
use iamfit_policy::pattern::variables_as_wildcards;
use iamfit_policy::wildcard;

use super::codes::{Code, Command, Severity};
use super::finding::Finding;
use super::rules::{
    action_patterns, granted_actions, names_every_resource, negated_elements, statement_location,
    wildcard_resource,
};

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

/// Every finding for a parsed document, the parser's and the lints', in the one findings model
/// (graded as `check` grades them). Sorted by position, then severity.
pub fn validate(doc: &Document, kind: PolicyKind, catalog: &Catalog) -> Vec<Finding> {
    let mut lint =
        Lint { findings: doc.findings.iter().filter_map(Finding::from_parser).collect(), catalog, kind };
    if let Some(policy) = &doc.policy {
        lint.kind = kind.resolve(policy);
        lint.document(doc, policy);
    }
    let mut findings = lint.findings;
    findings.sort_by(|a, b| a.span.start.cmp(&b.span.start).then(a.severity.cmp(&b.severity)));
    findings
}

struct Lint<'a> {
    findings: Vec<Finding>,
    catalog: &'a Catalog,
    kind: PolicyKind,
}

/// The document as a whole (no element): position 0.
fn document_location() -> Location {
    Location { span: Span { start: 0, end: 0 }, pointer: String::new() }
}

impl Lint<'_> {
    /// Adds a finding with the code's default severity in `check`.
    fn add(&mut self, code: Code, message: String, at: &Location) {
        self.findings.push(Finding::new(code, Command::Check, message, at));
    }

    /// Adds a finding with another severity than the code's default.
    fn add_graded(&mut self, code: Code, severity: Severity, message: String, at: &Location) {
        self.findings.push(Finding::new(code, Command::Check, message, at).with_severity(severity));
    }

    fn document(&mut self, doc: &Document, policy: &Policy) {
        self.version(policy.version);
        self.size(doc);
        self.sids(policy);
        for st in &policy.statements {
            self.statement(st);
        }
    }

    /// IAM User Guide, "IAM JSON policy elements: Version": without it, IAM uses 2008-10-17.
    fn version(&mut self, version: Version) {
        match version {
            Version::Absent => self.add(
                Code::MissingVersion,
                "no Version: IAM reads the policy as 2008-10-17, where policy variables do not work; add \"Version\": \"2012-10-17\"".into(),
                &document_location(),
            ),
            Version::V2008_10_17 => self.add(
                Code::OldVersion,
                "Version 2008-10-17 is the old policy language (no policy variables); use 2012-10-17".into(),
                &document_location(),
            ),
            Version::V2012_10_17 => {}
        }
    }

    /// IAM User Guide, "IAM and AWS STS quotas": policy sizes without white space.
    fn size(&mut self, doc: &Document) {
        let size = doc.text.chars().filter(|c| !c.is_whitespace()).count();
        let (limit, what) = self.kind.size_limit();
        if size > limit {
            self.add(
                Code::PolicyTooLarge,
                format!("the policy has {size} characters without white space; IAM allows {limit} for {what}: split it or narrow it"),
                &document_location(),
            );
        }
    }

    /// IAM User Guide, "IAM JSON policy elements: Sid": unique within a policy; in identity-based
    /// policies only ASCII letters and digits.
    fn sids(&mut self, policy: &Policy) {
        let mut sids: HashMap<&str, usize> = HashMap::new();
        let alphanumeric_only = matches!(
            self.kind,
            PolicyKind::Identity | PolicyKind::Boundary | PolicyKind::Scp | PolicyKind::Rcp
        );
        for st in &policy.statements {
            let Some(sid) = &st.sid else { continue };
            if let Some(first) = sids.insert(sid, st.index) {
                self.add(
                    Code::DuplicateSid,
                    format!(
                        "Sid {sid:?} is used by statement #{first} too; Sids must be unique within a policy"
                    ),
                    &st.sid_location,
                );
            }
            if alphanumeric_only && !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
                self.add(
                    Code::InvalidSid,
                    format!("Sid {sid:?}: in identity-based and organization policies a Sid may only contain A-Z, a-z and 0-9"),
                    &st.sid_location,
                );
            }
        }
    }

    fn statement(&mut self, st: &Statement) {
        self.principal(st);
        let granted = if st.effect == Effect::Allow && (st.action.negated || names_every_resource(st)) {
            granted_actions(st, self.catalog)
        } else {
            Vec::new()
        };
        self.findings.extend(negated_elements(st, granted.len(), Command::Check));
        self.redundant_actions(st);
        self.findings.extend(action_patterns(st, self.catalog, Command::Check));
        if let Some(res) = &st.resource {
            for entry in &res.entries {
                self.arn(entry);
            }
        }
        self.resource_types(st);
        self.findings.extend(wildcard_resource(st, &granted, Command::Check));
        self.pass_role_wildcard(st);
        for cond in &st.conditions {
            self.condition(st, cond);
        }
    }

    /// IAM User Guide, "IAM JSON policy elements: Principal": only resource-based (and trust)
    /// policies name a principal, and there every statement must.
    fn principal(&mut self, st: &Statement) {
        let at = statement_location(st);
        match (&st.principal, self.kind.takes_principal()) {
            (Some(_), false) => self.add(
                Code::PrincipalNotAllowed,
                format!("a {:?} policy cannot have Principal or NotPrincipal: the principal is whoever the policy is attached to", self.kind).to_lowercase(),
                &at,
            ),
            (None, true) => self.add(
                Code::MissingPrincipal,
                "statements of resource-based and trust policies need a Principal".into(),
                &at,
            ),
            _ => {}
        }
        if st.principal.as_ref().is_some_and(|p| p.negated) {
            self.add(
                Code::NotPrincipal,
                "NotPrincipal is easy to get wrong (sessions, boundaries, account ARNs); AWS recommends a condition on aws:PrincipalArn instead".into(),
                &at,
            );
        }
    }

    /// An action listed twice, or covered by an earlier pattern (case-insensitive, with wildcards).
    fn redundant_actions(&mut self, st: &Statement) {
        let mut seen: Vec<String> = Vec::new();
        for pattern in st.action.patterns.iter().filter(|p| p.is_valid()) {
            let raw = pattern.raw.as_str();
            let lower = raw.to_ascii_lowercase();
            if seen.contains(&lower) {
                self.add(Code::RedundantAction, format!("{raw:?} is listed twice"), &pattern.location);
                continue;
            }
            if let Some(other) = seen.iter().find(|o| wildcard::matches(o, &lower)) {
                self.add(
                    Code::RedundantAction,
                    format!("{raw:?} is already covered by {other:?}"),
                    &pattern.location,
                );
            }
            seen.push(lower);
        }
    }

    /// IAM User Guide, "IAM identifiers" (ARN format `arn:partition:service:region:account:resource`)
    /// and "IAM policy elements: Variables" (variables only in the resource part).
    fn arn(&mut self, entry: &ResourceEntry) {
        let raw = entry.raw.as_str();
        let at = &entry.location;
        if raw == "*" {
            return;
        }
        if !raw.starts_with("arn:") {
            self.add(Code::MalformedArn, format!("{raw:?} is neither an ARN nor \"*\""), at);
            return;
        }
        let parts: Vec<&str> = raw.splitn(6, ':').collect();
        let [_, partition, _, _, account, _] = parts.as_slice() else {
            self.add(
                Code::MalformedArn,
                format!(
                    "{raw:?} is not a complete ARN: expected arn:partition:service:region:account:resource"
                ),
                at,
            );
            return;
        };
        if !partition.contains(['*', '?', '$']) && !PARTITIONS.contains(partition) {
            self.add(Code::MalformedArn, format!("{raw:?}: unknown partition {partition:?}"), at);
        }
        let account_ok = account.is_empty()
            || account.contains(['*', '?', '$'])
            || *account == "aws"
            || (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()));
        if !account_ok {
            self.add_graded(
                Code::MalformedArn,
                Severity::Medium,
                format!("{raw:?}: the account segment {account:?} is not a 12-digit account id"),
                at,
            );
        }
        if parts.iter().take(5).any(|p| p.contains("${")) {
            self.add(
                Code::VariableOutsideResource,
                format!("{raw:?}: policy variables are only allowed in the resource part of an ARN (after the fifth colon)"),
                at,
            );
        }
    }

    /// Per named action: does any listed resource fit a resource type the action acts on
    /// (Service Authorization Reference, "Resource types" of each action)?
    fn resource_types(&mut self, st: &Statement) {
        let Some(res) = &st.resource else { return };
        if res.negated || st.action.negated {
            return;
        }
        let resources: Vec<String> = res.entries.iter().map(|e| variables_as_wildcards(&e.raw)).collect();
        let any_star = res.entries.iter().any(|e| e.raw == "*");
        for pattern in st.action.patterns.iter().filter(|p| p.is_valid() && !p.has_wildcards()) {
            let Some(action) = self.catalog.action(&pattern.raw) else { continue };
            let types = action.resource_types();
            if types.is_empty() {
                if !any_star {
                    self.add(
                        Code::NoResourceLevelPermissions,
                        format!("{} does not support resource-level permissions: only Resource \"*\" applies to it, so this statement never covers it", action.full_name()),
                        &pattern.location,
                    );
                }
                continue;
            }
            if any_star {
                continue;
            }
            let formats: Vec<String> = types
                .iter()
                .flat_map(|t| t.resource_type.arn_formats.iter().map(|f| variables_as_wildcards(f)))
                .collect();
            if !resources.iter().any(|r| formats.iter().any(|f| wildcard::overlap(r, f))) {
                let shown: Vec<&str> = types.iter().map(|t| t.resource_type.name).collect();
                let example =
                    types.first().and_then(|t| t.resource_type.arn_formats.first()).copied().unwrap_or("");
                self.add(
                    Code::ResourceTypeMismatch,
                    format!("{} acts on {} resources ({example}); none of this statement's resources has that form, so the statement never grants it", action.full_name(), shown.join(", ")),
                    &pattern.location,
                );
            }
        }
    }

    /// IAM User Guide, "Grant a user permissions to pass a role to an AWS service": `iam:PassRole`
    /// on `*` hands any role to a service.
    fn pass_role_wildcard(&mut self, st: &Statement) {
        let passes_role = st.effect == Effect::Allow
            && names_every_resource(st)
            && !st.action.negated
            && st.action.patterns.iter().any(|p| wildcard::matches_ignore_ascii_case(&p.raw, "iam:PassRole"));
        if passes_role {
            self.add(
                Code::PassRoleWildcard,
                "iam:PassRole on \"*\" lets the holder hand any role (an admin role included) to a service: a privilege escalation path".into(),
                &statement_location(st),
            );
        }
    }

    /// IAM User Guide, "IAM JSON policy elements: Condition operators" and "Single-valued vs.
    /// multivalued context keys"; the key types from the Service Authorization Reference.
    fn condition(&mut self, st: &Statement, cond: &Condition) {
        let op = cond.operator;
        let Some(def) = self.catalog.condition_key(&cond.key) else {
            let service = cond.key.split_once(':').map(|(s, _)| s).unwrap_or("");
            if service == "aws" || self.catalog.is_known_service(service) {
                self.add(
                    Code::UnknownConditionKey,
                    format!("{:?} is not a documented condition key: a misspelt key is never present, so the condition is always {}", cond.key, if op.kind.is_negated() || op.if_exists { "true" } else { "false" }),
                    &cond.location,
                );
            }
            return;
        };
        let key_type = def.value_type;
        let expected = base_type(key_type);
        let fits = match (op.kind.value_type(), expected) {
            (ValueType::Null, _) | (_, None) => true,
            (ValueType::String, Some(ValueType::String | ValueType::Arn)) => true,
            (ValueType::Arn, Some(ValueType::Arn | ValueType::String)) => expected == Some(ValueType::Arn),
            (a, Some(b)) => a == b,
        };
        if !fits {
            self.add(
                Code::ConditionTypeMismatch,
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
        match (op.qualifier, is_array(key_type)) {
            (None, true) if op.kind.value_type() != ValueType::Null => self.add(
                Code::MissingSetOperator,
                format!("{} is multivalued: use ForAllValues: or ForAnyValue: with {} to say which values must match", def.name, op),
                &cond.location,
            ),
            (Some(q), false) => {
                let for_all = q == SetQualifier::ForAllValues;
                let severity = if for_all && st.effect == Effect::Allow { Severity::Medium } else { Severity::Info };
                self.add_graded(
                    Code::SetOperatorOnSingleValue,
                    severity,
                    format!("{} is single-valued: {} is meant for multivalued keys{}", def.name, op, if for_all { " (ForAllValues is also true when the key is missing)" } else { "" }),
                    &cond.location,
                );
            }
            _ => {}
        }
    }
}

/// The AWS partitions (IAM User Guide, "IAM identifiers").
const PARTITIONS: &[&str] =
    &["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"];

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::codes::CheckLevel;

    fn lint(statements: &str, kind: PolicyKind) -> Vec<Finding> {
        let text = format!(r#"{{"Version": "2012-10-17", "Statement": [{statements}]}}"#);
        validate(&Document::parse(&text), kind, Catalog::embedded())
    }

    fn found(findings: &[Finding], code: Code) -> Vec<&Finding> {
        findings.iter().filter(|f| f.code == code).collect()
    }

    // IAM User Guide, "IAM JSON policy elements: Version"
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html):
    // without Version IAM uses 2008-10-17, which has no policy variables.
    #[test]
    fn missing_and_old_versions_are_warnings() {
        let cat = Catalog::embedded();
        let st = r#"{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}"#;
        let missing =
            validate(&Document::parse(&format!(r#"{{"Statement": [{st}]}}"#)), PolicyKind::Identity, cat);
        assert_eq!(
            missing.iter().map(|f| (f.code, f.severity)).collect::<Vec<_>>(),
            [(Code::MissingVersion, Severity::Medium)]
        );
        let old = validate(
            &Document::parse(&format!(r#"{{"Version": "2008-10-17", "Statement": [{st}]}}"#)),
            PolicyKind::Identity,
            cat,
        );
        assert_eq!(old.iter().map(|f| f.code).collect::<Vec<_>>(), [Code::OldVersion]);
        assert!(lint(st, PolicyKind::Identity).is_empty());
    }

    // IAM User Guide, "IAM and AWS STS quotas"
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html): managed policies
    // 6,144 characters, role trust policies 2,048; white space is not counted.
    #[test]
    fn size_limits_depend_on_the_kind_and_ignore_white_space() {
        let actions = |n: usize| (0..n).map(|_| "\"s3:GetObject\"").collect::<Vec<_>>().join(", ");
        // Each entry is 14 characters and a comma: 15 per action, so 420 make 6,300 (over 6,144).
        let big = format!(r#"{{"Effect": "Allow", "Action": [{}], "Resource": "*"}}"#, actions(420));
        let f = lint(&big, PolicyKind::Identity);
        assert_eq!(found(&f, Code::PolicyTooLarge).len(), 1);
        assert_eq!(found(&f, Code::PolicyTooLarge)[0].severity, Severity::High);
        let small = format!(r#"{{"Effect": "Allow", "Action": [{}], "Resource": "*"}}"#, actions(300));
        assert!(
            found(&lint(&small, PolicyKind::Identity), Code::PolicyTooLarge).is_empty(),
            "about 4,600 characters"
        );
        let spaced = format!(
            r#"{{"Effect": "Allow", "Action": [{}], "Resource": "*"}}"#,
            actions(300).replace(", ", ",          ")
        );
        assert!(
            found(&lint(&spaced, PolicyKind::Identity), Code::PolicyTooLarge).is_empty(),
            "white space is free"
        );
        let trust = format!(
            r#"{{"Effect": "Allow", "Principal": {{"Service": "lambda.amazonaws.com"}}, "Action": "sts:AssumeRole", "Condition": {{"StringEquals": {{"aws:SourceAccount": [{}]}}}}}}"#,
            (0..200).map(|_| "\"111122223333\"").collect::<Vec<_>>().join(", ")
        );
        assert_eq!(
            found(&lint(&trust, PolicyKind::Trust), Code::PolicyTooLarge).len(),
            1,
            "over 2,048 for a trust policy"
        );
    }

    // IAM User Guide, "IAM JSON policy elements: Sid"
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_sid.html): unique
    // within a policy; IAM accepts only A-Z, a-z and 0-9 (resource-based policies are freer).
    #[test]
    fn sids_are_unique_and_alphanumeric_in_identity_policies() {
        let st = |sid: &str| {
            format!(
                r#"{{"Sid": "{sid}", "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}}"#
            )
        };
        let f = lint(&format!("{}, {}", st("Read"), st("Read")), PolicyKind::Identity);
        assert_eq!(found(&f, Code::DuplicateSid).len(), 1);
        assert!(found(&f, Code::DuplicateSid)[0].message.contains("statement #0"));
        assert_eq!(found(&lint(&st("read-all"), PolicyKind::Identity), Code::InvalidSid).len(), 1);
        let bucket = r#"{"Sid": "read all", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}"#;
        assert!(found(&lint(bucket, PolicyKind::Resource), Code::InvalidSid).is_empty());
    }

    // IAM User Guide, "AWS JSON policy elements: Principal"
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html):
    // not in identity-based policies, required in resource-based ones; "AWS JSON policy elements:
    // NotPrincipal" recommends aws:PrincipalArn conditions instead.
    #[test]
    fn principals_where_they_belong() {
        let with = r#"{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}"#;
        assert_eq!(found(&lint(with, PolicyKind::Identity), Code::PrincipalNotAllowed).len(), 1);
        assert!(found(&lint(with, PolicyKind::Resource), Code::PrincipalNotAllowed).is_empty());
        let without = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}"#;
        assert_eq!(found(&lint(without, PolicyKind::Resource), Code::MissingPrincipal).len(), 1);
        let not = r#"{"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}"#;
        let f = lint(not, PolicyKind::Resource);
        assert_eq!(found(&f, Code::NotPrincipal)[0].severity, Severity::Medium);
        // Auto: a Principal makes a resource-based policy; sts:AssumeRole alone makes a trust policy.
        let trust = r#"{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}"#;
        assert!(lint(trust, PolicyKind::Auto).is_empty(), "a trust policy needs no Resource");
        assert!(found(&lint(with, PolicyKind::Auto), Code::PrincipalNotAllowed).is_empty());
    }

    #[test]
    fn repeated_and_covered_actions_are_redundant() {
        let f = lint(
            r#"{"Effect": "Allow", "Action": ["s3:Get*", "s3:GetObject", "S3:GET*"], "Resource": "arn:aws:s3:::b/*"}"#,
            PolicyKind::Identity,
        );
        let r = found(&f, Code::RedundantAction);
        assert_eq!(r.len(), 2, "{f:?}");
        assert!(
            r[0].message.contains("\"s3:GetObject\" is already covered by \"s3:get*\""),
            "{}",
            r[0].message
        );
        assert!(r[1].message.contains("\"S3:GET*\" is listed twice"), "{}", r[1].message);
        assert!(r.iter().all(|f| f.severity == Severity::Info));
    }

    // IAM User Guide, "IAM identifiers", section ARNs
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns):
    // arn:partition:service:region:account-id:resource, partition aws, aws-cn, aws-us-gov, ...
    #[test]
    fn resources_must_be_arns() {
        let res = |r: &str| {
            let f = lint(
                &format!(r#"{{"Effect": "Deny", "Action": "s3:GetObject", "Resource": "{r}"}}"#),
                PolicyKind::Identity,
            );
            found(&f, Code::MalformedArn).iter().map(|f| f.severity).collect::<Vec<_>>()
        };
        assert_eq!(res("orders-bucket"), [Severity::High], "neither an ARN nor *");
        assert_eq!(res("arn:aws:s3"), [Severity::High], "incomplete");
        assert_eq!(res("arn:aws-moon:s3:::b/*"), [Severity::High], "unknown partition");
        assert_eq!(res("arn:aws:dynamodb:us-east-1:1111:table/t"), [Severity::Medium], "account of 4 digits");
        assert!(res("arn:aws-cn:s3:::b/*").is_empty());
        assert!(res("arn:aws:dynamodb:us-east-1:111122223333:table/t").is_empty());
        assert!(res("arn:aws:dynamodb:*:*:table/t").is_empty(), "wildcards anywhere");
    }

    // IAM User Guide, "IAM policy elements: Variables and tags"
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html): in an
    // ARN, variables only in the resource part, after the fifth colon.
    #[test]
    fn variables_only_in_the_resource_part() {
        let f = lint(
            r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::home/${aws:username}/*", "arn:${aws:PrincipalTag/p}:s3:::b/*"]}"#,
            PolicyKind::Identity,
        );
        let v = found(&f, Code::VariableOutsideResource);
        assert_eq!(v.len(), 1);
        assert!(v[0].message.starts_with("\"arn:${aws:PrincipalTag/p}"), "{}", v[0].message);
    }

    // Service Authorization Reference, "Actions defined by Amazon S3"
    // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html):
    // ListAllMyBuckets has no resource type; GetObject acts on "object"
    // (arn:${Partition}:s3:::${BucketName}/${ObjectName}).
    #[test]
    fn resources_that_do_not_fit_the_action() {
        let f = lint(
            r#"{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "arn:aws:s3:::b"}"#,
            PolicyKind::Identity,
        );
        assert_eq!(found(&f, Code::NoResourceLevelPermissions).len(), 1);
        let f = lint(
            r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::orders"}"#,
            PolicyKind::Identity,
        );
        let m = found(&f, Code::ResourceTypeMismatch);
        assert_eq!(m.len(), 1);
        assert!(m[0].message.starts_with("s3:GetObject acts on "), "{}", m[0].message);
        assert!(lint(
            r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::orders/*"}"#,
            PolicyKind::Identity
        )
        .is_empty());
    }

    // IAM User Guide, "Grant a user permissions to pass a role to an AWS service"
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html).
    #[test]
    fn pass_role_on_every_role() {
        let f =
            lint(r#"{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}"#, PolicyKind::Identity);
        let p = found(&f, Code::PassRoleWildcard);
        assert_eq!((p.len(), p[0].severity, p[0].pointer.as_str()), (1, Severity::Medium, "/Statement/0"));
        let named = lint(
            r#"{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::111122223333:role/worker"}"#,
            PolicyKind::Identity,
        );
        assert!(found(&named, Code::PassRoleWildcard).is_empty());
    }

    // IAM User Guide, "IAM JSON policy elements: Condition operators"
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html):
    // a key missing from the request does not match, so the condition is false; a negated operator
    // (StringNotEquals) is then true. "AWS global condition context keys": aws:SourceIp is an IP
    // address.
    #[test]
    fn unknown_condition_keys_and_types() {
        let cond = |c: &str| {
            lint(
                &format!(
                    r#"{{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Condition": {c}}}"#
                ),
                PolicyKind::Identity,
            )
        };
        let f = cond(r#"{"StringEquals": {"aws:SourceIpp": "203.0.113.7"}}"#);
        assert!(found(&f, Code::UnknownConditionKey)[0].message.ends_with("always false"));
        let f = cond(r#"{"StringNotEquals": {"aws:SourceIpp": "203.0.113.7"}}"#);
        assert!(found(&f, Code::UnknownConditionKey)[0].message.ends_with("always true"));
        assert!(
            cond(r#"{"StringEquals": {"mycorp:team": "a"}}"#).is_empty(),
            "keys of unknown services are not judged"
        );
        assert_eq!(
            found(&cond(r#"{"StringEquals": {"aws:SourceIp": "203.0.113.7"}}"#), Code::ConditionTypeMismatch)
                .len(),
            1
        );
        assert_eq!(
            found(&cond(r#"{"NumericLessThan": {"aws:SourceIp": "5"}}"#), Code::ConditionTypeMismatch).len(),
            1
        );
        assert!(cond(r#"{"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}"#).is_empty());
    }

    // IAM User Guide, "Single-valued vs. multivalued context keys"
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html):
    // aws:TagKeys is multivalued and needs ForAllValues/ForAnyValue; set operators are for
    // multivalued keys, and ForAllValues is also true when the key is missing.
    #[test]
    fn set_operators_fit_the_keys_cardinality() {
        let cond = |effect: &str, c: &str| {
            lint(
                &format!(
                    r#"{{"Effect": "{effect}", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Condition": {c}}}"#
                ),
                PolicyKind::Identity,
            )
        };
        let f = cond("Allow", r#"{"StringEquals": {"aws:TagKeys": "env"}}"#);
        assert_eq!(found(&f, Code::MissingSetOperator)[0].severity, Severity::Medium);
        assert!(cond("Allow", r#"{"ForAnyValue:StringEquals": {"aws:TagKeys": "env"}}"#).is_empty());
        assert!(cond("Allow", r#"{"Null": {"aws:TagKeys": "false"}}"#).is_empty());
        let any = cond("Allow", r#"{"ForAnyValue:StringEquals": {"aws:SourceVpc": "vpc-1"}}"#);
        assert_eq!(found(&any, Code::SetOperatorOnSingleValue)[0].severity, Severity::Info);
        let all = cond("Allow", r#"{"ForAllValues:StringEquals": {"aws:SourceVpc": "vpc-1"}}"#);
        let s = found(&all, Code::SetOperatorOnSingleValue);
        assert_eq!(s[0].severity, Severity::Medium, "ForAllValues in an Allow also holds without the key");
        assert!(s[0].message.contains("also true when the key is missing"));
        let deny = cond("Deny", r#"{"ForAllValues:StringEquals": {"aws:SourceVpc": "vpc-1"}}"#);
        assert_eq!(found(&deny, Code::SetOperatorOnSingleValue)[0].severity, Severity::Info);
    }

    #[test]
    fn findings_come_sorted_by_position_with_the_parsers() {
        let text = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "allow", "Action": ["s3:GetObjects"], "Resource": "*"}]}"#;
        let f = validate(&Document::parse(text), PolicyKind::Identity, Catalog::embedded());
        assert!(f.windows(2).all(|w| w[0].span.start <= w[1].span.start), "{f:?}");
        assert_eq!(f[0].code, Code::InvalidEffect, "the parser's finding, in the one model");
        assert!(f[0].severity == CheckLevel::Error);
    }
}
