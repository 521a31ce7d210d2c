//! Effective permissions of one principal: for every catalog action its policies mention, the
//! resources it may act on, those it may act on only under conditions, and those an explicit deny
//! removes.

use crate::account::Subject;
use iamfit_catalog::Catalog;
use iamfit_policy::context::RequestContext;
use iamfit_policy::eval::Verdict;
use iamfit_policy::wildcard;

use super::diff::{evaluate, mentions};
use iamfit_policy::pattern::variables_as_wildcards;

/// What a principal may do with one action.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct EffectiveAction {
    /// The catalog action.
    pub action: String,
    /// Resources (ARNs or patterns from the policies, or `*`) allowed without conditions.
    pub allowed: Vec<String>,
    /// Resources allowed only when conditions hold.
    pub conditional: Vec<String>,
    /// Resources an explicit deny removes.
    pub denied: Vec<String>,
}

/// `iamfit graph --effective`'s report: the principal and its effective permissions.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EffectiveReport {
    /// The principal's ARN.
    pub principal: String,
    /// Every action its policies mention, with its resources.
    pub actions: Vec<EffectiveAction>,
    /// The organization levels above the principal with their SCPs and RCPs, root first (absent
    /// when none are known).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub organization: Vec<crate::graph::OrgLevelView>,
}

/// The effective permissions of a subject over the catalog (actions no statement mentions are left out).
pub fn effective_permissions(subject: &Subject, catalog: &Catalog) -> Vec<EffectiveAction> {
    let empty = RequestContext::new();
    let mut out = Vec::new();
    for action in catalog.actions() {
        let name = action.full_name();
        let lower = name.to_ascii_lowercase();
        let service = action.service().to_ascii_lowercase();
        let Some(resources) = mentions(subject, &lower, &service) else { continue };
        let formats: Vec<String> = action
            .resource_types()
            .iter()
            .flat_map(|t| t.resource_type.arn_formats.iter().map(|f| variables_as_wildcards(f)))
            .collect();
        let mut candidates: Vec<String> = vec!["*".to_string()];
        for r in resources {
            if r != "*"
                && !candidates.contains(&r)
                && (formats.is_empty() || formats.iter().any(|f| wildcard::overlap(&r, f)))
            {
                candidates.push(r);
            }
        }
        let mut entry = EffectiveAction { action: name.clone(), ..Default::default() };
        for c in candidates {
            let (high, low, conditional) = evaluate(subject, &name, &c, &empty);
            match (high.verdict, conditional) {
                (Verdict::Allow, false) => entry.allowed.push(c),
                (Verdict::Allow, true) => entry.conditional.push(c),
                (Verdict::ExplicitDeny, _) => entry.denied.push(c),
                _ if low == Verdict::ExplicitDeny => entry.denied.push(c),
                _ => {}
            }
        }
        if !(entry.allowed.is_empty() && entry.conditional.is_empty() && entry.denied.is_empty()) {
            out.push(entry);
        }
    }
    out
}
