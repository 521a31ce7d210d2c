//! The document model: a parsed, compiled IAM policy, ready for evaluation.
//!
//! Every element keeps its source [`Span`] so that findings and decisions can point at the text.

use std::fmt;

use super::condition::Condition;
use super::context::Lookup;
use super::json::{Location, Span};
use super::pattern::{Pattern, ResourcePattern, Syntax};

/// The policy language version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `2012-10-17`: the current language, with policy variables.
    V2012_10_17,
    /// `2008-10-17`: the old language; `${...}` is literal text.
    V2008_10_17,
    /// No `Version` element: treated as 2008-10-17 by AWS.
    Absent,
}

impl Version {
    /// Whether policy variables are substituted under this version.
    pub fn has_variables(self) -> bool {
        self == Version::V2012_10_17
    }
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// Grants the matched requests.
    Allow,
    /// Refuses the matched requests, overriding every Allow.
    Deny,
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        })
    }
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// The language version.
    pub version: Version,
    /// The optional `Id`.
    pub id: Option<String>,
    /// The statements, in document order.
    pub statements: Vec<Statement>,
}

impl Policy {
    /// The `Action`/`NotAction` entries that are not action names: they match nothing.
    pub fn invalid_actions(&self) -> impl Iterator<Item = &ActionPattern> {
        self.statements.iter().flat_map(|s| s.action.patterns.iter()).filter(|p| !p.is_valid())
    }
}

/// One statement of a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// Position in the `Statement` list (0-based).
    pub index: usize,
    /// The `Sid`, if any.
    pub sid: Option<String>,
    /// Where the `Sid` value stands (the statement's location when there is none).
    pub sid_location: Location,
    /// `Allow` or `Deny`.
    pub effect: Effect,
    /// `Principal` or `NotPrincipal`, in resource-based and trust policies.
    pub principal: Option<PrincipalSpec>,
    /// `Action` or `NotAction`.
    pub action: ActionSpec,
    /// `Resource` or `NotResource`; absent in trust policies.
    pub resource: Option<ResourceSpec>,
    /// The conditions, all of which must hold.
    pub conditions: Vec<Condition>,
    /// Where the statement stands in the source.
    pub span: Span,
}

impl Statement {
    /// A short label: the Sid, or `#index` when there is none.
    pub fn label(&self) -> String {
        match &self.sid {
            Some(sid) if !sid.is_empty() => sid.clone(),
            _ => format!("#{}", self.index),
        }
    }

    /// Whether every condition holds in the context (true when there are none).
    pub fn conditions_hold(&self, ctx: &dyn Lookup) -> bool {
        self.conditions.iter().all(|c| c.evaluate(ctx))
    }
}

/// One entry of `Action`/`NotAction`: `service:Name` with IAM wildcards, matched case-insensitively.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionPattern {
    /// As written.
    pub raw: String,
    /// Where it stands.
    pub location: Location,
    lower: Pattern,
    /// The lower-cased service prefix when it has no wildcard (a fast pre-filter).
    service: Option<String>,
    /// False for text that is not an action name (`s3:`, a comma or a space inside): it matches
    /// nothing, as AWS evaluates such stored entries.
    valid: bool,
}

impl ActionPattern {
    /// Compiles an action pattern.
    pub fn new(raw: &str) -> Self {
        let lower = raw.to_ascii_lowercase();
        let service = match lower.split_once(':') {
            Some((svc, _)) if !svc.contains(['*', '?']) => Some(svc.to_string()),
            _ => None,
        };
        ActionPattern {
            raw: raw.to_string(),
            location: Location::default(),
            lower: Pattern::new(&lower, Syntax { wildcards: true, variables: false }),
            service,
            valid: true,
        }
    }

    /// An entry that is not an action name: kept as written, it matches no action.
    pub fn invalid(raw: &str) -> Self {
        ActionPattern { valid: false, ..ActionPattern::new(raw) }
    }

    /// Whether the entry is a well-formed action name or pattern (invalid entries match nothing).
    pub fn is_valid(&self) -> bool {
        self.valid
    }

    /// Whether the lower-cased action (`s3:getobject`) matches.
    pub fn matches_lowercase(&self, action_lc: &str, service_lc: &str) -> bool {
        if !self.valid {
            return false;
        }
        if let Some(svc) = &self.service {
            if svc != service_lc {
                return false;
            }
        }
        self.lower.matches(action_lc, &super::context::NoVariables)
    }

    /// Whether this is `*` (every action).
    pub fn is_match_all(&self) -> bool {
        self.lower.is_match_all()
    }

    /// Whether the pattern has wildcards.
    pub fn has_wildcards(&self) -> bool {
        self.lower.has_wildcards()
    }
}

/// `Action` (a list of patterns) or `NotAction` (everything except them).
#[derive(Debug, Clone, PartialEq)]
pub struct ActionSpec {
    /// True for `NotAction`.
    pub negated: bool,
    /// The patterns.
    pub patterns: Vec<ActionPattern>,
}

impl ActionSpec {
    /// Whether the lower-cased action matches the element.
    pub fn matches_lowercase(&self, action_lc: &str, service_lc: &str) -> bool {
        self.patterns.iter().any(|p| p.matches_lowercase(action_lc, service_lc)) != self.negated
    }
}

/// One entry of `Resource`/`NotResource`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceEntry {
    /// As written.
    pub raw: String,
    /// Where it stands.
    pub location: Location,
    /// Compiled.
    pub pattern: ResourcePattern,
}

/// `Resource` (a list of patterns) or `NotResource` (everything except them).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceSpec {
    /// True for `NotResource`.
    pub negated: bool,
    /// The patterns.
    pub entries: Vec<ResourceEntry>,
}

impl ResourceSpec {
    /// Whether the resource matches the element.
    pub fn matches(&self, resource: &str, ctx: &dyn Lookup) -> bool {
        self.entries.iter().any(|e| e.pattern.matches(resource, ctx)) != self.negated
    }
}

/// The kinds of principal identifier in a `Principal` element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalType {
    /// `"AWS"`: accounts, users, roles, sessions.
    Aws,
    /// `"Service"`: AWS service principals such as `lambda.amazonaws.com`.
    Service,
    /// `"Federated"`: identity providers.
    Federated,
    /// `"CanonicalUser"`: S3 canonical user ids.
    CanonicalUser,
}

impl PrincipalType {
    /// The element key as written in policies.
    pub fn key(self) -> &'static str {
        match self {
            PrincipalType::Aws => "AWS",
            PrincipalType::Service => "Service",
            PrincipalType::Federated => "Federated",
            PrincipalType::CanonicalUser => "CanonicalUser",
        }
    }
}

/// `Principal` or `NotPrincipal`.
#[derive(Debug, Clone, PartialEq)]
pub struct PrincipalSpec {
    /// True for `NotPrincipal`.
    pub negated: bool,
    /// `"Principal": "*"`: everyone, including anonymous callers.
    pub everyone: bool,
    /// The identifiers, by type.
    pub entries: Vec<(PrincipalType, String)>,
}
