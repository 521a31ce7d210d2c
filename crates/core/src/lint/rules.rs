//! The statement rules `check` and `audit` share, each written once: wildcard actions, service
//! wildcards, unknown services and actions, patterns that match nothing, `NotAction`/`NotResource`
//! with Allow, and `Resource: "*"` for actions that could be scoped.
//!
//! Each rule returns findings at the element concerned, graded with the code's default severity in
//! the calling command; `audit` then grades them as they take effect (see
//! [`crate::analyze::audit`]).

use iamfit_catalog::{ActionRef, Catalog, Lookup};
use iamfit_policy::document::{ActionPattern, Effect, Statement};
use iamfit_policy::json::Location;

use super::codes::{Code, Command};
use super::finding::Finding;

/// The catalog actions the statement's `Action` (or `NotAction`) element matches, in catalog order.
/// When every pattern names its service, only those services are scanned.
pub fn granted_actions<'c>(st: &Statement, catalog: &'c Catalog) -> Vec<ActionRef<'c>> {
    let matches = |a: &ActionRef<'_>| {
        let lower = a.full_name().to_ascii_lowercase();
        st.action.matches_lowercase(&lower, &a.service().to_ascii_lowercase())
    };
    let prefixes: Option<Vec<String>> = if st.action.negated {
        None
    } else {
        st.action
            .patterns
            .iter()
            .map(|p| match p.raw.split_once(':') {
                Some((service, _)) if !service.contains(['*', '?']) => Some(service.to_ascii_lowercase()),
                _ => None,
            })
            .collect()
    };
    match prefixes {
        Some(prefixes) => catalog
            .services()
            .filter(|s| prefixes.iter().any(|p| p.eq_ignore_ascii_case(s.prefix())))
            .flat_map(|s| s.actions())
            .filter(matches)
            .collect(),
        None => catalog.actions().filter(matches).collect(),
    }
}

/// Whether the statement's `Resource` (not `NotResource`) lists `"*"`.
pub fn names_every_resource(st: &Statement) -> bool {
    st.resource.as_ref().is_some_and(|r| !r.negated && r.entries.iter().any(|e| e.raw == "*"))
}

/// Whether the statement's `Action` (not `NotAction`) lists `"*"`.
pub fn names_every_action(st: &Statement) -> bool {
    !st.action.negated && st.action.patterns.iter().any(|p| p.raw == "*")
}

/// Where the statement stands, with its JSON pointer (`/Statement/2`).
pub fn statement_location(st: &Statement) -> Location {
    let pointer = &st.sid_location.pointer;
    Location {
        span: st.span,
        pointer: pointer.rsplit_once("/Sid").map_or(pointer.clone(), |(p, _)| p.to_string()),
    }
}

/// `not-action-allow` and `not-resource-allow`: an Allow with a negated element grants everything
/// not listed. `granted` is how many catalog actions the `NotAction` element matches.
///
/// IAM User Guide, "IAM JSON policy elements: NotAction" and "...: NotResource": with Allow, they
/// grant every action (resource) not listed, including those of services added later.
pub fn negated_elements(st: &Statement, granted: usize, command: Command) -> Vec<Finding> {
    let mut out = Vec::new();
    if st.effect != Effect::Allow {
        return out;
    }
    let at = statement_location(st);
    if st.action.negated {
        out.push(Finding::new(
            Code::NotActionAllow,
            command,
            format!(
                "Allow with NotAction grants {granted} actions (every action not listed, and future ones)"
            ),
            &at,
        ));
    }
    if st.resource.as_ref().is_some_and(|r| r.negated) {
        out.push(Finding::new(
            Code::NotResourceAllow,
            command,
            "Allow with NotResource grants every resource not listed, in every account",
            &at,
        ));
    }
    out
}

/// Every action pattern of the statement against the catalog: `wildcard-action`,
/// `service-wildcard`, `unknown-service`, `unknown-action`, `action-matches-nothing`.
pub fn action_patterns(st: &Statement, catalog: &Catalog, command: Command) -> Vec<Finding> {
    let grants = st.effect == Effect::Allow && !st.action.negated;
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    // Entries that are not action names were already reported by the grammar (invalid-action).
    for p in st.action.patterns.iter().filter(|p| p.is_valid()) {
        // A pattern listed twice is judged once (check reports the repeat as `redundant-action`).
        let lower = p.raw.to_ascii_lowercase();
        if seen.contains(&lower) {
            continue;
        }
        seen.push(lower);
        out.extend(action_pattern(p, grants, catalog, command));
    }
    out
}

/// One action pattern; `grants` is true in an Allow with `Action` (wildcards only matter there).
///
/// Service Authorization Reference: the service prefixes and their actions; IAM User Guide, "IAM
/// JSON policy elements: Action": `*` matches every action, `service:*` every action of the service.
fn action_pattern(p: &ActionPattern, grants: bool, catalog: &Catalog, command: Command) -> Option<Finding> {
    let raw = p.raw.as_str();
    let found =
        |code: Code, message: String| Finding::new(code, command, message, &p.location).with_element(raw);
    if raw == "*" {
        return grants.then(|| {
            found(Code::WildcardAction, "Action \"*\" grants every action of every service".into())
        });
    }
    // A pattern without a colon is the parser's `invalid-action`.
    let (service, name) = raw.split_once(':')?;
    let matches_nothing = || catalog.expand(raw).is_empty();
    if service.contains(['*', '?']) {
        return matches_nothing()
            .then(|| found(Code::ActionMatchesNothing, format!("{raw:?} matches no action of any service")));
    }
    let Some(svc) = catalog.service(service) else {
        let hint =
            catalog.suggest_service(service).map(|s| format!(" (did you mean {s:?}?)")).unwrap_or_default();
        return Some(found(Code::UnknownService, format!("{service:?} is not an IAM service prefix{hint}")));
    };
    if name == "*" {
        let message = format!("{raw} grants all {} actions of {service}", svc.action_count());
        return grants.then(|| found(Code::ServiceWildcard, message));
    }
    if name.contains(['*', '?']) {
        return matches_nothing()
            .then(|| found(Code::ActionMatchesNothing, format!("{raw:?} matches no {service} action")));
    }
    match catalog.lookup(raw) {
        Lookup::UnknownAction { suggestion, .. } => {
            let hint = suggestion.map(|a| format!(" (did you mean {}?)", a.full_name())).unwrap_or_default();
            Some(found(Code::UnknownAction, format!("{raw:?} is not an action of {service}{hint}")))
        }
        _ => None,
    }
}

/// `wildcard-resource`: an Allow on `Resource: "*"` for actions that support resource-level
/// permissions, which could name their resources. A statement with `Action: "*"` is left to
/// `wildcard-action`. `granted` are the statement's catalog actions ([`granted_actions`]).
///
/// IAM User Guide, "Grant least privilege" and the Service Authorization Reference's "Resource
/// types" column: an action with a resource type can be limited to named resources.
pub fn wildcard_resource(st: &Statement, granted: &[ActionRef<'_>], command: Command) -> Option<Finding> {
    if st.effect != Effect::Allow || st.action.negated || !names_every_resource(st) || names_every_action(st)
    {
        return None;
    }
    let scoped: Vec<String> =
        granted.iter().filter(|a| a.supports_resource_level_permissions()).map(|a| a.full_name()).collect();
    if scoped.is_empty() {
        return None;
    }
    let star = st.resource.as_ref()?.entries.iter().find(|e| e.raw == "*")?;
    let shown: Vec<&str> = scoped.iter().take(4).map(String::as_str).collect();
    let message = format!(
        "Resource \"*\" for {} action(s) that support resource-level permissions ({}{}): name the resources",
        scoped.len(),
        shown.join(", "),
        if scoped.len() > 4 { ", ..." } else { "" }
    );
    Some(Finding::new(Code::WildcardResource, command, message, &star.location).with_element("*"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::codes::Severity;
    use iamfit_policy::parse::Document;

    fn statement(json: &str) -> Statement {
        let text = format!("{{\"Version\": \"2012-10-17\", \"Statement\": [{json}]}}");
        let doc = Document::parse(&text);
        assert!(!doc.has_errors(), "{:?}", doc.findings);
        doc.policy.unwrap().statements.remove(0)
    }

    fn codes(findings: &[Finding]) -> Vec<&'static str> {
        findings.iter().map(|f| f.code.name()).collect()
    }

    fn catalog() -> &'static Catalog {
        Catalog::embedded()
    }

    // IAM User Guide, "IAM JSON policy elements: Action"
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html):
    // "*" alone matches every action of every service.
    #[test]
    fn wildcard_action_only_in_an_allow() {
        let allow = statement(r#"{"Effect": "Allow", "Action": "*", "Resource": "*"}"#);
        let f = action_patterns(&allow, catalog(), Command::Check);
        assert_eq!(codes(&f), ["wildcard-action"]);
        assert_eq!(f[0].severity, Severity::Medium, "a warning in check");
        assert_eq!(f[0].element.as_deref(), Some("*"));
        assert_eq!(action_patterns(&allow, catalog(), Command::Audit)[0].severity, Severity::High);
        let deny = statement(r#"{"Effect": "Deny", "Action": "*", "Resource": "*"}"#);
        assert!(action_patterns(&deny, catalog(), Command::Check).is_empty(), "denying everything is safe");
    }

    #[test]
    fn granted_actions_scan_only_the_named_services_and_keep_catalog_order() {
        let st = statement(r#"{"Effect": "Allow", "Action": ["sts:Get*", "s3:GetObject"], "Resource": "*"}"#);
        let names: Vec<String> = granted_actions(&st, catalog()).iter().map(|a| a.full_name()).collect();
        let full: Vec<String> = catalog()
            .actions()
            .map(|a| a.full_name())
            .filter(|n| n == "s3:GetObject" || n.starts_with("sts:Get"))
            .collect();
        assert_eq!(names, full);
        assert!(
            names.contains(&"sts:GetCallerIdentity".to_string())
                && names.contains(&"sts:GetSessionToken".to_string())
        );
        let all = statement(r#"{"Effect": "Allow", "Action": "*", "Resource": "*"}"#);
        assert_eq!(granted_actions(&all, catalog()).len(), catalog().action_count());
    }

    // Service Authorization Reference, "Actions defined by AWS Security Token Service"
    // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecuritytokenservice.html).
    #[test]
    fn service_wildcard_counts_the_services_actions() {
        let st = statement(r#"{"Effect": "Allow", "Action": "sts:*", "Resource": "*"}"#);
        let f = action_patterns(&st, catalog(), Command::Audit);
        assert_eq!(codes(&f), ["service-wildcard"]);
        let count = catalog().service("sts").unwrap().action_count();
        assert!(count >= 8, "sts has AssumeRole, AssumeRoleWithSAML, ..., GetSessionToken");
        assert_eq!(f[0].message, format!("sts:* grants all {count} actions of sts"));
        let deny = statement(r#"{"Effect": "Deny", "Action": "sts:*", "Resource": "*"}"#);
        assert!(action_patterns(&deny, catalog(), Command::Check).is_empty());
    }

    // Service Authorization Reference, "Actions defined by Amazon S3": GetObject exists, GetObjects
    // does not; "s3" is the prefix of Amazon S3 and there is no "s4".
    #[test]
    fn unknown_services_and_actions_get_suggestions() {
        let st = statement(
            r#"{"Effect": "Allow", "Action": ["s3:GetObjects", "s4:ListBucket", "s3:Frobnicate*", "*:Frobnicate"], "Resource": "*"}"#,
        );
        let f = action_patterns(&st, catalog(), Command::Check);
        assert_eq!(
            codes(&f),
            ["unknown-action", "unknown-service", "action-matches-nothing", "action-matches-nothing"]
        );
        assert!(f[0].message.contains("did you mean s3:GetObject?"), "{}", f[0].message);
        assert!(f[1].message.contains("did you mean \"s3\"?"), "{}", f[1].message);
        assert!(f.iter().all(|f| f.severity == Severity::High), "errors in check");
        let audit = action_patterns(&st, catalog(), Command::Audit);
        assert!(audit.iter().all(|f| f.severity == Severity::Low), "in audit they grant nothing: low");
        // Known actions, in any case, are fine (action names are case-insensitive).
        let ok = statement(r#"{"Effect": "Allow", "Action": ["s3:getobject", "s3:Get*"], "Resource": "*"}"#);
        assert!(action_patterns(&ok, catalog(), Command::Check).is_empty());
    }

    // IAM User Guide, "IAM JSON policy elements: NotAction"
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html)
    // and "...: NotResource" (.../reference_policies_elements_notresource.html).
    #[test]
    fn negated_elements_in_an_allow() {
        let st =
            statement(r#"{"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::secret/*"}"#);
        let granted = granted_actions(&st, catalog());
        assert!(granted.iter().all(|a| a.service() != "iam"));
        assert!(granted.iter().any(|a| a.full_name() == "s3:GetObject"));
        let f = negated_elements(&st, granted.len(), Command::Audit);
        assert_eq!(codes(&f), ["not-action-allow", "not-resource-allow"]);
        assert!(f[0].message.contains(&format!("grants {} actions", granted.len())));
        assert!(f.iter().all(|f| f.severity == Severity::High));
        assert_eq!(f[0].pointer, "/Statement/0");
        let deny = statement(r#"{"Effect": "Deny", "NotAction": "iam:*", "Resource": "*"}"#);
        assert!(negated_elements(&deny, 0, Command::Check).is_empty(), "Deny with NotAction is a guardrail");
    }

    // Service Authorization Reference: s3:GetObject acts on the "object" resource type; sts:
    // GetCallerIdentity has no resource type (only "*" applies to it).
    #[test]
    fn wildcard_resource_only_for_scopable_actions() {
        let st = statement(
            r#"{"Effect": "Allow", "Action": ["s3:GetObject", "sts:GetCallerIdentity"], "Resource": "*"}"#,
        );
        let f = wildcard_resource(&st, &granted_actions(&st, catalog()), Command::Check).unwrap();
        assert_eq!(f.code, Code::WildcardResource);
        assert!(f.message.starts_with("Resource \"*\" for 1 action(s)"), "{}", f.message);
        assert!(f.message.contains("(s3:GetObject)") && !f.message.contains("GetCallerIdentity"));
        assert_eq!(f.pointer, "/Statement/0/Resource");
        let unscopable =
            statement(r#"{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}"#);
        assert!(wildcard_resource(&unscopable, &granted_actions(&unscopable, catalog()), Command::Check)
            .is_none());
        let everything = statement(r#"{"Effect": "Allow", "Action": "*", "Resource": "*"}"#);
        assert!(
            wildcard_resource(&everything, &granted_actions(&everything, catalog()), Command::Check)
                .is_none(),
            "left to wildcard-action"
        );
        let named =
            statement(r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}"#);
        assert!(wildcard_resource(&named, &granted_actions(&named, catalog()), Command::Check).is_none());
    }
}
