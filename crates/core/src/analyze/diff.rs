//! The semantic diff of two principals: over every action of the catalog, where the local principal
//! (the developer's credentials) and the function's execution role decide differently, with a witness
//! resource taken from the policies and the statements that decided on each side.
//!
//! For each action the candidate resources are the `Resource` entries of both principals' statements
//! that mention the action (policy variables resolved for that principal, entries that cannot name a
//! resource of the action's types dropped), plus `*`. Both principals are evaluated on each
//! candidate, once at their most permissive and once at their most restrictive reading of conditions
//! whose keys are only known at request time ([`ConditionMode`]): when the two readings differ, the
//! mismatch depends on a condition and is reported as conditional instead of guessed.

use std::collections::BTreeMap;

use crate::account::Subject;
use iamfit_catalog::{ActionRef, Catalog};
use iamfit_policy::context::{Layered, RequestContext};
use iamfit_policy::eval::{authorize_with, ConditionMode, Decision, Request, Verdict};
use iamfit_policy::pattern::{variables_as_wildcards, Pattern, Syntax};
use iamfit_policy::wildcard;

/// Which side may and the other may not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// The local principal may, the function role may not: works locally, fails in production.
    LocalOnly,
    /// The role may, the local principal may not: cannot be reproduced locally.
    ProdOnly,
}

impl Direction {
    /// The contract's word.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::LocalOnly => "local-only",
            Direction::ProdOnly => "prod-only",
        }
    }
}

/// How resources of one account are mapped onto the other's when the two principals live in
/// different accounts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Normalization {
    /// `(prod account, local account)`: ARNs that differ only by these account ids are the same resource.
    pub accounts: Option<(String, String)>,
    /// `(prod text, local text)` replacements in resource names (`--map prod=dev`).
    pub names: Vec<(String, String)>,
}

impl Normalization {
    /// Whether any mapping applies.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_none() && self.names.is_empty()
    }

    /// A production resource as the local account names it.
    pub fn to_local(&self, resource: &str) -> String {
        let mut out = resource.to_string();
        if let Some((prod, local)) = &self.accounts {
            out = replace_account(&out, prod, local);
        }
        for (prod, local) in &self.names {
            out = replace_in_name(&out, prod, local);
        }
        out
    }

    /// A local resource as the production account names it.
    pub fn to_prod(&self, resource: &str) -> String {
        let mut out = resource.to_string();
        if let Some((prod, local)) = &self.accounts {
            out = replace_account(&out, local, prod);
        }
        for (prod, local) in &self.names {
            out = replace_in_name(&out, local, prod);
        }
        out
    }

    /// Human-readable lines saying what was applied.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if let Some((prod, local)) = &self.accounts {
            lines.push(format!("resources in account {prod} (function) are compared with the same resources in account {local} (local)"));
        }
        for (prod, local) in &self.names {
            lines.push(format!(
                "resource names containing {prod:?} are compared with the same names containing {local:?}"
            ));
        }
        lines
    }
}

fn replace_account(arn: &str, from: &str, to: &str) -> String {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() == 6 && parts[4] == from {
        format!("{}:{}:{}:{}:{to}:{}", parts[0], parts[1], parts[2], parts[3], parts[5])
    } else {
        // S3 bucket names often embed the account id.
        arn.replace(from, to)
    }
}

fn replace_in_name(arn: &str, from: &str, to: &str) -> String {
    match arn.splitn(6, ':').collect::<Vec<_>>().as_slice() {
        [a, b, c, d, e, rest] => format!("{a}:{b}:{c}:{d}:{e}:{}", rest.replace(from, to)),
        _ => arn.replace(from, to),
    }
}

/// One side's decision on a witness.
#[derive(Debug, Clone)]
pub struct SideDecision {
    /// The decision at the most permissive reading of unknown conditions.
    pub decision: Decision,
    /// Whether the decision depends on conditions only known at request time.
    pub conditional: bool,
    /// The resource evaluated, as this side names it.
    pub resource: String,
}

/// One difference.
#[derive(Debug, Clone)]
pub struct Mismatch {
    /// Which side may.
    pub direction: Direction,
    /// The catalog action (never a pattern).
    pub action: String,
    /// The witness resource (an ARN or ARN pattern from the policies, or `*`).
    pub resource: String,
    /// The local principal's decision.
    pub local: SideDecision,
    /// The function role's decision.
    pub prod: SideDecision,
    /// Whether the function was seen using the action (CloudTrail); false until usage is known.
    pub used: bool,
}

impl Mismatch {
    /// Whether the difference holds only under some conditions.
    pub fn conditional(&self) -> bool {
        self.local.conditional || self.prod.conditional
    }
}

/// The result of a diff.
#[derive(Debug, Clone, Default)]
pub struct DiffReport {
    /// Every mismatch, ordered by direction, service and action.
    pub mismatches: Vec<Mismatch>,
    /// How many catalog actions were compared.
    pub actions_compared: usize,
    /// Mismatches the function's configuration explains (the Lambda service's own permissions), set
    /// aside by [`DiffReport::set_aside_service_needs`]: no surprise for the code.
    pub configuration: Vec<super::service_needs::ConfigurationMismatch>,
}

// Issue 13 (kept apart so that it can be re-applied): the logic is in
// `super::service_needs::set_aside_mismatches`.
impl DiffReport {
    /// Moves the mismatches that what the Lambda service needs for the function's configuration
    /// explains out of `mismatches` into `configuration`.
    pub fn set_aside_service_needs(&mut self, needs: &super::service_needs::ServiceNeeds) {
        self.configuration = super::service_needs::set_aside_mismatches(&mut self.mismatches, needs);
    }
}

/// Compares two principals over every catalog action.
pub fn diff(local: &Subject, prod: &Subject, catalog: &Catalog, norm: &Normalization) -> DiffReport {
    let actions: Vec<ActionRef<'_>> = catalog.actions().collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    let chunk = actions.len().div_ceil(threads).max(1);
    let mut mismatches: Vec<Mismatch> = std::thread::scope(|scope| {
        let handles: Vec<_> = actions
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter().flat_map(|a| compare_action(*a, local, prod, norm)).collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    });
    mismatches
        .sort_by(|a, b| (a.direction, &a.action, &a.resource).cmp(&(b.direction, &b.action, &b.resource)));
    DiffReport { mismatches, actions_compared: actions.len(), configuration: Vec::new() }
}

/// Which side a candidate resource came from (it is named in that side's account).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum From {
    Local,
    Prod,
    Both,
}

fn compare_action(
    action: ActionRef<'_>,
    local: &Subject,
    prod: &Subject,
    norm: &Normalization,
) -> Vec<Mismatch> {
    let name = action.full_name();
    let lower = name.to_ascii_lowercase();
    let service = action.service().to_ascii_lowercase();
    let local_mentions = mentions(local, &lower, &service);
    let prod_mentions = mentions(prod, &lower, &service);
    // Nothing on either side names the action (and neither is root): both deny it alike.
    let root = |s: &Subject| s.principal.kind == iamfit_policy::eval::PrincipalKind::Root;
    if local_mentions.is_none() && prod_mentions.is_none() && !root(local) && !root(prod) {
        return Vec::new();
    }
    let formats: Vec<String> = action
        .resource_types()
        .iter()
        .flat_map(|t| t.resource_type.arn_formats.iter().map(|f| variables_as_wildcards(f)))
        .collect();
    let mut candidates: BTreeMap<String, From> = BTreeMap::new();
    candidates.insert("*".to_string(), From::Both);
    if !formats.is_empty() {
        for (resources, side) in [(&local_mentions, From::Local), (&prod_mentions, From::Prod)] {
            for r in resources.iter().flatten() {
                if r != "*" && formats.iter().any(|f| wildcard::overlap(r, f)) {
                    candidates
                        .entry(r.clone())
                        .and_modify(|s| {
                            if *s != side {
                                *s = From::Both
                            }
                        })
                        .or_insert(side);
                }
            }
        }
    }
    let empty = RequestContext::new();
    let mut best: BTreeMap<Direction, Mismatch> = BTreeMap::new();
    for (candidate, from) in candidates {
        let (local_res, prod_res) = match from {
            From::Local => (candidate.clone(), norm.to_prod(&candidate)),
            From::Prod => (norm.to_local(&candidate), candidate.clone()),
            From::Both => (candidate.clone(), candidate.clone()),
        };
        let l = evaluate(local, &name, &local_res, &empty);
        let p = evaluate(prod, &name, &prod_res, &empty);
        let Some((direction, conditional)) = classify(&l, &p) else { continue };
        let witness = match from {
            From::Prod => prod_res.clone(),
            _ => local_res.clone(),
        };
        let mismatch = Mismatch {
            direction,
            action: name.clone(),
            resource: witness,
            local: SideDecision { decision: l.0, conditional: l.2, resource: local_res },
            prod: SideDecision { decision: p.0, conditional: p.2, resource: prod_res },
            used: false,
        };
        let better = match best.get(&direction) {
            None => true,
            // Prefer an unconditional difference, then a named resource over `*`.
            Some(old) => {
                (old.conditional() && !conditional)
                    || (old.conditional() == conditional && old.resource == "*" && mismatch.resource != "*")
            }
        };
        if better {
            best.insert(direction, mismatch);
        }
    }
    best.into_values().collect()
}

/// (decision at the permissive reading, decision at the restrictive reading, conditional)
pub(crate) type Evaluated = (Decision, Verdict, bool);

pub(crate) fn evaluate(
    subject: &Subject,
    action: &str,
    resource: &str,
    context: &RequestContext,
) -> Evaluated {
    let request =
        Request { principal: Some(&subject.principal), action, resource, context, resource_account: None };
    let set = subject.policies_for(resource);
    let high = authorize_with(&set, &request, ConditionMode::Optimistic);
    if !high.conditional {
        let v = high.verdict;
        return (high, v, false);
    }
    let low = authorize_with(&set, &request, ConditionMode::Pessimistic);
    let conditional = low.verdict != high.verdict;
    (high, low.verdict, conditional)
}

/// Whether the two sides differ on a resource: the direction, and whether it depends on conditions.
fn classify(l: &Evaluated, p: &Evaluated) -> Option<(Direction, bool)> {
    let (l_high, l_low) = (l.0.verdict == Verdict::Allow, l.1 == Verdict::Allow);
    let (p_high, p_low) = (p.0.verdict == Verdict::Allow, p.1 == Verdict::Allow);
    match (l_high, p_high) {
        (true, false) => Some((Direction::LocalOnly, !l_low)),
        (false, true) => Some((Direction::ProdOnly, !p_low)),
        (true, true) if l_low && !p_low => Some((Direction::LocalOnly, true)),
        (true, true) if p_low && !l_low => Some((Direction::ProdOnly, true)),
        _ => None,
    }
}

/// The resources a principal's statements name for an action (variables resolved for the principal),
/// or `None` when no statement mentions the action. `NotResource` and `Resource: "*"` give `*`.
pub(crate) fn mentions(subject: &Subject, action_lc: &str, service_lc: &str) -> Option<Vec<String>> {
    let set = &subject.policies;
    let empty = RequestContext::new();
    let scope = Layered { first: &empty, second: subject.principal.implicit_context() };
    let mut out = Vec::new();
    let mut any = false;
    let policies = set.identity.iter().chain(set.boundary.iter()).chain(set.session.iter());
    for named in policies {
        for st in &named.policy.statements {
            if !st.action.matches_lowercase(action_lc, service_lc) {
                continue;
            }
            any = true;
            match &st.resource {
                Some(res) if !res.negated => {
                    for e in &res.entries {
                        let p = Pattern::new(
                            &e.raw,
                            Syntax { wildcards: false, variables: named.policy.version.has_variables() },
                        );
                        out.push(p.resolve(&scope).unwrap_or_else(|| variables_as_wildcards(&e.raw)));
                    }
                }
                _ => out.push("*".to_string()),
            }
        }
    }
    any.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization_maps_accounts_and_names() {
        let n = Normalization {
            accounts: Some(("999988887777".into(), "111122223333".into())),
            names: vec![("prod".into(), "dev".into())],
        };
        assert_eq!(
            n.to_local("arn:aws:dynamodb:us-east-1:999988887777:table/orders-prod"),
            "arn:aws:dynamodb:us-east-1:111122223333:table/orders-dev"
        );
        assert_eq!(
            n.to_prod("arn:aws:s3:::invoices-111122223333-dev/*"),
            "arn:aws:s3:::invoices-999988887777-prod/*"
        );
        assert_eq!(n.describe().len(), 2);
    }

    fn subject(account: &str, kind: &str, statements: &str) -> Subject {
        let doc = format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#);
        let document = crate::account::PolicyDocument::from_value(&serde_json::Value::String(doc)).unwrap();
        let mut acct = crate::account::Account::default();
        let inline = vec![crate::account::InlinePolicy { name: "p".into(), document }];
        if kind == "role" {
            acct.roles.push(crate::account::Role {
                name: "r".into(),
                arn: format!("arn:aws:iam::{account}:role/r"),
                inline,
                ..Default::default()
            });
            acct.role_subject(&format!("arn:aws:iam::{account}:role/r"), "fn").unwrap()
        } else {
            acct.users.push(crate::account::User {
                name: "dev".into(),
                arn: format!("arn:aws:iam::{account}:user/dev"),
                inline,
                ..Default::default()
            });
            let id = crate::account::CallerIdentity {
                account: account.into(),
                arn: format!("arn:aws:iam::{account}:user/dev"),
                user_id: String::new(),
            };
            acct.identity_subject(&id).unwrap()
        }
    }

    #[test]
    fn resources_differing_only_by_account_are_the_same_resource() {
        let prod = subject(
            "999988887777",
            "role",
            r#"{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"arn:aws:dynamodb:us-east-1:999988887777:table/orders-prod"}"#,
        );
        let local = subject(
            "111122223333",
            "user",
            r#"{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"arn:aws:dynamodb:us-east-1:111122223333:table/orders-dev"}"#,
        );
        let catalog = Catalog::embedded();
        let none = diff(&local, &prod, catalog, &Normalization::default());
        assert_eq!(
            none.mismatches.len(),
            2,
            "without normalisation both tables differ: {:?}",
            none.mismatches.iter().map(|m| (&m.action, &m.resource)).collect::<Vec<_>>()
        );
        let accounts_only =
            Normalization { accounts: Some(("999988887777".into(), "111122223333".into())), names: vec![] };
        assert_eq!(
            diff(&local, &prod, catalog, &accounts_only).mismatches.len(),
            2,
            "the names still differ"
        );
        let both = Normalization {
            accounts: accounts_only.accounts.clone(),
            names: vec![("prod".into(), "dev".into())],
        };
        let d = diff(&local, &prod, catalog, &both);
        assert!(
            d.mismatches.is_empty(),
            "{:?}",
            d.mismatches.iter().map(|m| (&m.action, &m.resource)).collect::<Vec<_>>()
        );
    }
}
