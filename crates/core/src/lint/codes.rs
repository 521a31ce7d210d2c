//! The finding-code registry: every code `iamfit check` and `iamfit audit` report, with its stable
//! name, its default severity in each command, a one-line help text and where it is documented.
//!
//! The table in docs/reference.md ("Finding codes") is this registry written out; a unit test keeps
//! the two identical (codes, default severities and help texts).
//!
//! # One severity scale
//!
//! Both commands grade findings on one scale, [`Severity`]: `critical`, `high`, `medium`, `low`,
//! `info`. Each JSON surface shows it in its own fixed words:
//!
//! | scale | `audit` JSON | `check` JSON ([`CheckLevel`]) | SARIF `level` |
//! | --- | --- | --- | --- |
//! | critical | `critical` | `error` | `error` |
//! | high | `high` | `error` | `error` |
//! | medium | `medium` | `warning` | `warning` |
//! | low | `low` | `warning` | `note` |
//! | info | `info` | `info` | `note` |
//!
//! `check`'s own defaults use only high (its errors), medium (its warnings) and info, so its JSON and
//! its SARIF always agree.

use std::fmt;

use serde::{Serialize, Serializer};

/// The three words of `iamfit check`'s JSON (`error`, `warning`, `info`): the parser's severity type.
pub use iamfit_policy::finding::Severity as CheckLevel;

/// How serious a finding is: one scale for `check` and `audit` (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Exploitable now for account takeover or mass data access.
    Critical,
    /// A serious over-grant; in `check`, an invalid document (IAM rejects it, or it cannot mean
    /// what was intended).
    High,
    /// Broader than needed; in `check`, valid but likely wrong or dangerous.
    Medium,
    /// Worth cleaning up.
    Low,
    /// For information.
    Info,
}

impl Severity {
    /// Every severity, most serious first.
    pub const ALL: [Severity; 5] =
        [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Info];

    /// The word used in `audit` reports and `--fail-on`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }

    /// The word `check` shows: critical and high are errors, medium and low warnings.
    pub fn check_level(self) -> CheckLevel {
        match self {
            Severity::Critical | Severity::High => CheckLevel::Error,
            Severity::Medium | Severity::Low => CheckLevel::Warning,
            Severity::Info => CheckLevel::Info,
        }
    }

    /// The severity of a `check` word: errors are high, warnings medium.
    pub fn from_check_level(level: CheckLevel) -> Severity {
        match level {
            CheckLevel::Error => Severity::High,
            CheckLevel::Warning => Severity::Medium,
            CheckLevel::Info => Severity::Info,
        }
    }

    /// One step less serious (info stays info): how `audit` grades a grant that does not take effect
    /// today, or holds only under conditions.
    pub fn lower(self) -> Severity {
        match self {
            Severity::Critical => Severity::High,
            Severity::High => Severity::Medium,
            Severity::Medium => Severity::Low,
            Severity::Low | Severity::Info => Severity::Info,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compares at `check`'s level: `Severity::High == CheckLevel::Error` (as `check` would show it).
impl PartialEq<CheckLevel> for Severity {
    fn eq(&self, other: &CheckLevel) -> bool {
        self.check_level() == *other
    }
}

/// Serializes a [`Severity`] in `check`'s words (`error`, `warning`, `info`).
pub fn serialize_check_level<S: Serializer>(severity: &Severity, serializer: S) -> Result<S::Ok, S::Error> {
    severity.check_level().serialize(serializer)
}

/// The commands that report findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    /// `iamfit check`: policy documents, judged as written.
    Check,
    /// `iamfit audit`: a principal's grant, judged as it takes effect.
    Audit,
}

/// One entry of the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeInfo {
    /// The code.
    pub code: Code,
    /// Its stable kebab-case name, as the JSON, SARIF and tables show it.
    pub name: &'static str,
    /// Its default severity in `iamfit check`; `None` when `check` never reports it.
    pub check: Option<Severity>,
    /// Its default severity in `iamfit audit`; `None` when `audit` never reports it.
    pub audit: Option<Severity>,
    /// What it means, in one line (the docs' table and SARIF's rule description).
    pub help: &'static str,
    /// Its anchor in docs/reference.md (the name itself).
    pub anchor: &'static str,
    /// The address of its documentation.
    pub url: &'static str,
}

impl CodeInfo {
    /// Its default severity in `command` (when that command does not report it, the other's).
    pub fn severity_in(&self, command: Command) -> Severity {
        let (first, second) = match command {
            Command::Check => (self.check, self.audit),
            Command::Audit => (self.audit, self.check),
        };
        first.or(second).unwrap_or(Severity::Info)
    }
}

/// Declares [`Code`], its registry and its lookups from one table.
macro_rules! registry {
    ($( $(#[$meta:meta])* $variant:ident = $name:literal, check: $check:expr, audit: $audit:expr, help: $help:literal; )+) => {
        /// A finding code. Its entry in the registry: [`Code::info`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $( $(#[$meta])* $variant, )+
        }

        impl Code {
            /// Every code, in the registry's order.
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )+ ];

            /// The code's registry entry.
            pub fn info(self) -> &'static CodeInfo {
                match self {
                    $( Code::$variant => &CodeInfo {
                        code: Code::$variant,
                        name: $name,
                        check: $check,
                        audit: $audit,
                        help: $help,
                        anchor: $name,
                        url: concat!("https://github.com/iamfit/iamfit/blob/main/docs/reference.md#", $name),
                    }, )+
                }
            }

            /// The code with this name, if it is registered.
            pub fn from_name(name: &str) -> Option<Code> {
                match name {
                    $( $name => Some(Code::$variant), )+
                    _ => None,
                }
            }
        }
    };
}

registry! {
    // The grammar: reported by the parser (iamfit-policy), in `check` only.
    /// `json-syntax`.
    JsonSyntax = "json-syntax", check: Some(Severity::High), audit: None,
        help: "the file is not valid JSON";
    /// `not-an-object`.
    NotAnObject = "not-an-object", check: Some(Severity::High), audit: None,
        help: "the document is not a JSON object";
    /// `invalid-type`.
    InvalidType = "invalid-type", check: Some(Severity::High), audit: None,
        help: "an element has the wrong JSON type (a number for a string, an object for a list)";
    /// `empty-value`.
    EmptyValue = "empty-value", check: Some(Severity::High), audit: None,
        help: "an empty string or list where IAM needs a value";
    /// `missing-statement`.
    MissingStatement = "missing-statement", check: Some(Severity::High), audit: None,
        help: "the policy has no `Statement` element";
    /// `empty-statement`.
    EmptyStatement = "empty-statement", check: Some(Severity::High), audit: None,
        help: "the `Statement` list is empty";
    /// `unknown-element`.
    UnknownElement = "unknown-element", check: Some(Severity::High), audit: None,
        help: "an element IAM does not know (element names are case-sensitive)";
    /// `duplicate-key`.
    DuplicateKey = "duplicate-key", check: Some(Severity::High), audit: None,
        help: "an element, operator or condition key given twice";
    /// `invalid-version`.
    InvalidVersion = "invalid-version", check: Some(Severity::High), audit: None,
        help: "`Version` is neither `2012-10-17` nor `2008-10-17`";
    /// `missing-effect`.
    MissingEffect = "missing-effect", check: Some(Severity::High), audit: None,
        help: "a statement without `Effect`";
    /// `invalid-effect`.
    InvalidEffect = "invalid-effect", check: Some(Severity::High), audit: None,
        help: "`Effect` is not exactly `Allow` or `Deny`";
    /// `missing-action`.
    MissingAction = "missing-action", check: Some(Severity::High), audit: None,
        help: "a statement with neither `Action` nor `NotAction`";
    /// `missing-resource`.
    MissingResource = "missing-resource", check: Some(Severity::High), audit: None,
        help: "a statement with neither `Resource` nor `NotResource`";
    /// `conflicting-elements`.
    ConflictingElements = "conflicting-elements", check: Some(Severity::High), audit: None,
        help: "both `Action` and `NotAction` (or `Resource`/`NotResource`, `Principal`/`NotPrincipal`)";
    /// `invalid-action`.
    InvalidAction = "invalid-action", check: Some(Severity::High), audit: None,
        help: "an action not of the form `service:ActionName` (or `*`)";
    /// `invalid-principal`.
    InvalidPrincipal = "invalid-principal", check: Some(Severity::High), audit: None,
        help: "a malformed `Principal` (wildcards other than `*` alone)";
    /// `invalid-condition-operator`.
    InvalidConditionOperator = "invalid-condition-operator", check: Some(Severity::High), audit: None,
        help: "an unknown condition operator";
    /// `invalid-condition-value`.
    InvalidConditionValue = "invalid-condition-value", check: Some(Severity::High), audit: None,
        help: "a condition value that does not fit its operator (a date, number or IP address)";
    /// `variables-need-version`.
    VariablesNeedVersion = "variables-need-version", check: Some(Severity::Medium), audit: None,
        help: "a policy variable without `Version` `2012-10-17`: it is matched literally";
    /// `malformed-variable`.
    MalformedVariable = "malformed-variable", check: Some(Severity::Medium), audit: None,
        help: "a policy variable that is not well formed (`${...}` unclosed or empty)";

    // The document as a whole, its statements and principals: `check` only.
    /// `missing-version`.
    MissingVersion = "missing-version", check: Some(Severity::Medium), audit: None,
        help: "no `Version`: IAM reads the policy as 2008-10-17, where policy variables do not work";
    /// `old-version`.
    OldVersion = "old-version", check: Some(Severity::Medium), audit: None,
        help: "`Version` 2008-10-17, the old policy language without policy variables";
    /// `policy-too-large`.
    PolicyTooLarge = "policy-too-large", check: Some(Severity::High), audit: None,
        help: "over IAM's size limit for the kind of policy (white space not counted)";
    /// `duplicate-sid`.
    DuplicateSid = "duplicate-sid", check: Some(Severity::High), audit: None,
        help: "two statements with the same `Sid`";
    /// `invalid-sid`.
    InvalidSid = "invalid-sid", check: Some(Severity::High), audit: None,
        help: "a `Sid` with characters other than A-Z, a-z and 0-9 in an identity-based or organization policy";
    /// `principal-not-allowed`.
    PrincipalNotAllowed = "principal-not-allowed", check: Some(Severity::High), audit: None,
        help: "`Principal` in a policy that cannot have one (identity-based, boundary, SCP, session)";
    /// `missing-principal`.
    MissingPrincipal = "missing-principal", check: Some(Severity::High), audit: None,
        help: "a statement of a resource-based or trust policy without `Principal`";
    /// `not-principal`.
    NotPrincipal = "not-principal", check: Some(Severity::Medium), audit: None,
        help: "`NotPrincipal`, easy to get wrong; a condition on `aws:PrincipalArn` says the same safely";

    // Actions.
    /// `wildcard-action`.
    WildcardAction = "wildcard-action", check: Some(Severity::Medium), audit: Some(Severity::High),
        help: "`Action: \"*\"` in an Allow: every action of every service (audit: critical on `Resource: \"*\"` without conditions)";
    /// `service-wildcard`.
    ServiceWildcard = "service-wildcard", check: Some(Severity::Medium), audit: Some(Severity::Medium),
        help: "`service:*` in an Allow: every action of the service, future ones too";
    /// `not-action-allow`.
    NotActionAllow = "not-action-allow", check: Some(Severity::Medium), audit: Some(Severity::High),
        help: "Allow with `NotAction`: every action not listed, future ones too";
    /// `unknown-service`.
    UnknownService = "unknown-service", check: Some(Severity::High), audit: Some(Severity::Low),
        help: "a service prefix that is not in the IAM catalog (with a suggestion)";
    /// `unknown-action`.
    UnknownAction = "unknown-action", check: Some(Severity::High), audit: Some(Severity::Low),
        help: "an action its service does not have: it matches nothing (with a suggestion)";
    /// `action-matches-nothing`.
    ActionMatchesNothing = "action-matches-nothing", check: Some(Severity::High), audit: Some(Severity::Low),
        help: "an action pattern with wildcards that matches no action of the catalog";
    /// `redundant-action`.
    RedundantAction = "redundant-action", check: Some(Severity::Info), audit: None,
        help: "an action listed twice, or covered by another pattern of the statement";

    // Resources.
    /// `not-resource-allow`.
    NotResourceAllow = "not-resource-allow", check: Some(Severity::Medium), audit: Some(Severity::High),
        help: "Allow with `NotResource`: every resource not listed, in every account";
    /// `wildcard-resource`.
    WildcardResource = "wildcard-resource", check: Some(Severity::Medium), audit: Some(Severity::Medium),
        help: "`Resource: \"*\"` for actions that support resource-level permissions: name the resources";
    /// `malformed-arn`.
    MalformedArn = "malformed-arn", check: Some(Severity::High), audit: None,
        help: "a resource that is neither an ARN nor `*`, or has an unknown partition (a warning for an account that is not 12 digits)";
    /// `variable-outside-resource`.
    VariableOutsideResource = "variable-outside-resource", check: Some(Severity::Medium), audit: None,
        help: "a policy variable before the resource part of an ARN, where IAM does not replace it";
    /// `resource-type-mismatch`.
    ResourceTypeMismatch = "resource-type-mismatch", check: Some(Severity::Medium), audit: None,
        help: "none of the statement's resources has a form the action acts on: it is never granted";
    /// `no-resource-level-permissions`.
    NoResourceLevelPermissions = "no-resource-level-permissions", check: Some(Severity::Medium), audit: None,
        help: "the action supports only `Resource: \"*\"`, which the statement does not list";
    /// `pass-role-wildcard`.
    PassRoleWildcard = "pass-role-wildcard", check: Some(Severity::Medium), audit: None,
        help: "`iam:PassRole` on `*`: any role, an admin role included, can be handed to a service";

    // Conditions.
    /// `unknown-condition-key`.
    UnknownConditionKey = "unknown-condition-key", check: Some(Severity::Medium), audit: None,
        help: "a condition key IAM does not document: a misspelt key is never present";
    /// `condition-type-mismatch`.
    ConditionTypeMismatch = "condition-type-mismatch", check: Some(Severity::Medium), audit: None,
        help: "the operator compares another type than the key has (`StringEquals` on `aws:SourceIp`)";
    /// `missing-set-operator`.
    MissingSetOperator = "missing-set-operator", check: Some(Severity::Medium), audit: None,
        help: "a multivalued key without `ForAllValues:` or `ForAnyValue:`";
    /// `set-operator-on-single-value`.
    SetOperatorOnSingleValue = "set-operator-on-single-value", check: Some(Severity::Info), audit: None,
        help: "`ForAllValues:`/`ForAnyValue:` on a single-valued key (a warning for `ForAllValues:` in an Allow)";

    // A principal's grant, as it takes effect: `audit` only.
    /// `privilege-escalation`.
    PrivilegeEscalation = "privilege-escalation", check: None, audit: Some(Severity::High),
        help: "an action that lets the principal raise its own privileges (critical on `*`; medium when not effective today)";
    /// `data-exfiltration`.
    DataExfiltration = "data-exfiltration", check: None, audit: Some(Severity::High),
        help: "data-store reads on `Resource: \"*\"`: every table, bucket, key or queue of the account";
    /// `credentials-exposure`.
    CredentialsExposure = "credentials-exposure", check: None, audit: Some(Severity::High),
        help: "an action that returns or creates credentials (medium when scoped to named resources)";
    /// `over-grant`.
    OverGrant = "over-grant", check: None, audit: Some(Severity::Medium),
        help: "granted, never used in the window: a whole statement or service (low: the unused rest of a service)";
    /// `unobservable`.
    Unobservable = "unobservable", check: None, audit: Some(Severity::Info),
        help: "granted actions the trail cannot show (not logged, or data events it does not record): never reported as unused";
    /// `missing-service-permission`.
    MissingServicePermission = "missing-service-permission", check: None, audit: Some(Severity::High),
        help: "with `--function`: the role lacks what the Lambda service needs for the function's configuration (medium for tracing, logs and other needs that do not stop invocations)";
}

impl Code {
    /// The stable kebab-case name.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The default severity in `command`.
    pub fn severity_in(self, command: Command) -> Severity {
        self.info().severity_in(command)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// Every registry entry, in order.
pub fn registry() -> impl Iterator<Item = &'static CodeInfo> {
    Code::ALL.iter().map(|c| c.info())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn names_are_unique_kebab_case_and_round_trip() {
        let mut seen = BTreeSet::new();
        for info in registry() {
            assert!(seen.insert(info.name), "{} registered twice", info.name);
            assert!(
                info.name.split('-').all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase())),
                "{} is not kebab-case",
                info.name
            );
            assert_eq!(Code::from_name(info.name), Some(info.code));
            assert_eq!(info.code.info().name, info.name);
            assert!(info.url.ends_with(&format!("reference.md#{}", info.anchor)));
            assert!(info.check.is_some() || info.audit.is_some(), "{} is reported by no command", info.name);
            assert!(!info.help.contains('|') && !info.help.ends_with('.'), "{}: help text", info.name);
        }
        assert_eq!(Code::from_name("no-such-code"), None);
    }

    #[test]
    fn the_scale_maps_to_checks_words_and_back() {
        assert_eq!(Severity::Critical.check_level(), CheckLevel::Error);
        assert_eq!(Severity::High.check_level(), CheckLevel::Error);
        assert_eq!(Severity::Medium.check_level(), CheckLevel::Warning);
        assert_eq!(Severity::Low.check_level(), CheckLevel::Warning);
        assert_eq!(Severity::Info.check_level(), CheckLevel::Info);
        for level in [CheckLevel::Error, CheckLevel::Warning, CheckLevel::Info] {
            assert_eq!(Severity::from_check_level(level).check_level(), level);
        }
        assert!(Severity::High == CheckLevel::Error && Severity::Medium != CheckLevel::Error);
        assert_eq!(Severity::Critical.lower(), Severity::High);
        assert_eq!(Severity::Low.lower(), Severity::Info);
        assert_eq!(Severity::Info.lower(), Severity::Info);
        assert_eq!(serde_json::to_value(Severity::Critical).unwrap(), "critical");
    }

    #[test]
    fn check_defaults_use_only_its_three_grades() {
        // So that a check finding's JSON word and its SARIF level always agree.
        for info in registry() {
            if let Some(s) = info.check {
                assert!(
                    matches!(s, Severity::High | Severity::Medium | Severity::Info),
                    "{}: {s}",
                    info.name
                );
            }
        }
    }

    #[test]
    fn the_contracts_audit_kinds_are_registered_for_audit() {
        // /work/shared/CONTRACT.md: `kind` includes at least these.
        for kind in [
            "wildcard-action",
            "service-wildcard",
            "wildcard-resource",
            "not-action-allow",
            "not-resource-allow",
            "unknown-action",
            "privilege-escalation",
            "over-grant",
        ] {
            let code = Code::from_name(kind).unwrap();
            assert!(code.info().audit.is_some(), "{kind}");
        }
    }

    /// Every code the parser (iamfit-policy) can emit is registered: the literals passed to its
    /// `error(...)`, `warn(...)` and `Finding::new(...)` calls, read from its source.
    #[test]
    fn every_parser_code_is_registered() {
        let source = include_str!("../../../policy/src/parse.rs");
        let library = source.split("#[cfg(test)]").next().unwrap();
        let mut codes = BTreeSet::new();
        for call in ["self.error(", "self.warn(", "Finding::new("] {
            for (at, _) in library.match_indices(call) {
                let rest = &library[at + call.len()..];
                let start = rest.find('"').unwrap();
                let end = rest[start + 1..].find('"').unwrap();
                codes.insert(&rest[start + 1..start + 1 + end]);
            }
        }
        assert!(codes.len() >= 20, "{codes:?}");
        for code in codes {
            assert!(Code::from_name(code).is_some(), "the parser emits {code:?}, which is not registered");
            assert!(Code::from_name(code).unwrap().info().check.is_some(), "{code}");
        }
    }

    /// The docs' table lists exactly the registry, with the same default severities and help texts.
    #[test]
    fn docs_reference_lists_exactly_the_registry() {
        let docs = include_str!("../../../../docs/reference.md");
        let section =
            docs.split("\n## Finding codes\n").nth(1).expect("docs/reference.md has ## Finding codes");
        let section = section.split("\n## ").next().unwrap();
        let mut documented = Vec::new();
        for line in section.lines().filter(|l| l.starts_with("| <a id=\"")) {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
            assert_eq!(cells.len(), 4, "{line}");
            let anchor = cells[0].trim_start_matches("<a id=\"").split('"').next().unwrap();
            let name = cells[0].split('`').nth(1).unwrap();
            assert_eq!(anchor, name, "{line}");
            let code = Code::from_name(name).unwrap_or_else(|| panic!("docs list {name}, not registered"));
            let info = code.info();
            let word = |s: Option<Severity>, f: fn(Severity) -> String| s.map_or("—".to_string(), f);
            assert_eq!(cells[1], word(info.check, |s| s.check_level().to_string()), "{name}: check column");
            assert_eq!(cells[2], word(info.audit, |s| s.to_string()), "{name}: audit column");
            assert_eq!(cells[3], info.help, "{name}: meaning");
            documented.push(name);
        }
        let registered: Vec<&str> = registry().map(|i| i.name).collect();
        assert_eq!(documented, registered, "docs/reference.md lists the registry in its order");
    }
}
