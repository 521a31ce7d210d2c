//! The least change that would allow one call: which layer blocks it, and what to change there, proven
//! by evaluating the call again with the change applied.
//!
//! Following AWS's evaluation logic ("Policy evaluation logic", IAM User Guide): an explicit `Deny`
//! wins over every `Allow`, so the only change that lifts it is to the denying statement (no added
//! statement can); an implicit deny is lifted by an `Allow` in the layer that lacks one: an
//! identity-based policy, the permissions boundary (which must allow too), or the session policy.
//! SCPs, RCPs and resource-based policies are outside the principal's own policies: `diff` names
//! them without changing them; `explain` ([`Reach::Everywhere`]) changes them too, so that the fix of
//! every layer is proven the same way.
//!
//! Each change is a proposal: a denial may be intended (a guardrail), and the report says so.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{json, Map, Value};

use iamfit_policy::context::{Layered, Lookup, RequestContext};
use iamfit_policy::eval::{
    authorize_with, ConditionMode, Decision, DenyReason, Layer, Matched, NamedPolicy, PolicySet, Request,
    Verdict,
};
use iamfit_policy::{Effect, Policy, Statement};

use crate::account::Subject;

/// One step of the least change that would allow a call.
#[derive(Debug, Clone, Serialize)]
pub struct Proposal {
    /// The action of the call.
    pub action: String,
    /// The resource of the call (its real ARN).
    pub resource: String,
    /// The layer to change: `identity`, `boundary`, `session`, `scp`, `rcp` or `resource`.
    pub layer: String,
    /// What blocks the call there: `explicit-deny`, `no-allow`, `boundary`, `session`, `scp`, `rcp`,
    /// `resource-policy`, `key-policy` or `trust`.
    pub blocked_by: &'static str,
    /// The policy to change, as reports name it (none when a new policy is proposed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// `add-statement`, `remove-resource`, `remove-action`, `remove-statement`, or `outside` (a layer
    /// iamfit does not change).
    pub change: &'static str,
    /// The statement to add, the denying statement as it reads after the change, or the statement
    /// to remove; none for `outside`.
    pub statement: Option<Value>,
    /// Whether evaluating the call again with this change (and the steps before it) allows it.
    pub verified: bool,
    /// What the change also allows, or why nothing is proposed.
    pub note: String,
}

/// The call to allow.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The action.
    pub action: &'a str,
    /// The concrete resource.
    pub resource: &'a str,
    /// The request context the call had.
    pub context: &'a RequestContext,
}

/// Which layers a least change may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// The principal's own policies (identity, boundary, session); the others are named only.
    OwnPolicies,
    /// Every layer, the resource policy, SCPs and RCPs included.
    Everywhere,
}

/// The steps that would let `subject` make the call (empty when it already may), with unknown
/// conditions read optimistically and only the principal's own policies changed.
pub fn least_change(subject: &Subject, target: Target<'_>) -> Vec<Proposal> {
    least_change_in(subject, target, ConditionMode::Optimistic, Reach::OwnPolicies)
}

/// [`least_change`] with the conditions read by `mode` and the layers `reach` may change.
pub fn least_change_in(
    subject: &Subject,
    target: Target<'_>,
    mode: ConditionMode,
    reach: Reach,
) -> Vec<Proposal> {
    // The resource's own policy (when known) is a layer the proposal names, and changes only when
    // `reach` says so.
    let mut set = subject.policies_for(target.resource).into_owned();
    let mut steps: Vec<Proposal> = Vec::new();
    for _ in 0..8 {
        let decision = decide(&set, subject, target, mode);
        if decision.verdict == Verdict::Allow {
            steps.iter_mut().for_each(|s| s.verified = true);
            return steps;
        }
        let next = match decision.verdict {
            Verdict::ExplicitDeny => lift_denies(&mut set, subject, &decision, target, reach),
            _ if reach == Reach::Everywhere => {
                add_allow_everywhere(&mut set, subject, decision.reason, target)
            }
            _ => add_allow(&mut set, subject, decision.reason, target),
        };
        let stop = next.iter().any(|s| s.change == "outside") || next.is_empty();
        steps.extend(next);
        if stop {
            break;
        }
    }
    steps
}

fn decide(set: &PolicySet, subject: &Subject, target: Target<'_>, mode: ConditionMode) -> Decision {
    let request = Request {
        principal: Some(&subject.principal),
        action: target.action,
        resource: target.resource,
        context: target.context,
        resource_account: None,
    };
    authorize_with(set, &request, mode)
}

fn step(target: Target<'_>, layer: &str, blocked_by: &'static str, change: &'static str) -> Proposal {
    Proposal {
        action: target.action.to_string(),
        resource: target.resource.to_string(),
        layer: layer.to_string(),
        blocked_by,
        policy: None,
        change,
        statement: None,
        verified: false,
        note: String::new(),
    }
}

/// An `Allow` of exactly the call, added where the decision says one is missing.
fn add_allow(
    set: &mut PolicySet,
    subject: &Subject,
    reason: Option<DenyReason>,
    target: Target<'_>,
) -> Vec<Proposal> {
    let statement = json!({"Sid": "IamfitProposal", "Effect": "Allow", "Action": target.action, "Resource": target.resource});
    let Some(compiled) = compile(&statement) else { return Vec::new() };
    let mut s = match reason {
        Some(DenyReason::NoAllow) => {
            let mut s = step(target, "identity", "no-allow", "add-statement");
            s.note = format!(
                "no identity-based policy of {} allows it: add the statement to one of them",
                subject.label
            );
            set.identity.push(NamedPolicy::new(
                "iamfit-proposal",
                Policy { version: iamfit_policy::Version::V2012_10_17, id: None, statements: vec![compiled] },
            ));
            s
        }
        Some(DenyReason::Boundary) => {
            let Some(boundary) = set.boundary.as_mut() else { return Vec::new() };
            let mut s = step(target, "boundary", "boundary", "add-statement");
            s.policy = Some(boundary.name.to_string());
            s.note = "the permissions boundary does not allow it: the boundary must allow it too".into();
            append(boundary, compiled);
            s
        }
        Some(DenyReason::Session) => {
            let Some(session) = set.session.first_mut() else { return Vec::new() };
            let mut s = step(target, "session", "session", "add-statement");
            s.policy = Some(session.name.to_string());
            s.note = "the session policy does not allow it".into();
            append(session, compiled);
            s
        }
        other => return vec![outside(target, other)],
    };
    s.statement = Some(statement);
    vec![s]
}

/// [`add_allow`] for every layer: an `Allow` of exactly the call in the SCP or RCP level, or the
/// resource policy (key policy, trust policy), that lacks one.
fn add_allow_everywhere(
    set: &mut PolicySet,
    subject: &Subject,
    reason: Option<DenyReason>,
    target: Target<'_>,
) -> Vec<Proposal> {
    // A resource policy names a role by its ARN with its path (`aws:PrincipalArn` of the session).
    let who = subject
        .principal
        .implicit_context()
        .get("aws:principalarn")
        .and_then(|v| v.single())
        .map_or_else(|| crate::trust::trust_principal_arn(&subject.principal), str::to_string);
    let (layer, blocked_by, statement, note) = match reason {
        Some(DenyReason::Scp(l)) => (
            "scp",
            "scp",
            json!({"Sid": "IamfitProposal", "Effect": "Allow", "Action": target.action, "Resource": target.resource}),
            format!("no SCP at level {l} allows it: add the statement to an SCP attached at that level (AWS Organizations)"),
        ),
        Some(DenyReason::Rcp(l)) => (
            "rcp",
            "rcp",
            json!({"Sid": "IamfitProposal", "Effect": "Allow", "Principal": "*", "Action": target.action, "Resource": target.resource}),
            format!("no RCP at level {l} allows it: add the statement to an RCP attached at that level (AWS Organizations)"),
        ),
        Some(DenyReason::Trust) => (
            "resource",
            "trust",
            json!({"Sid": "IamfitProposal", "Effect": "Allow", "Principal": {"AWS": who}, "Action": target.action}),
            "the role's trust policy does not allow it: add the statement to the trust policy".to_string(),
        ),
        Some(DenyReason::KeyPolicy) => (
            "resource",
            "key-policy",
            json!({"Sid": "IamfitProposal", "Effect": "Allow", "Principal": {"AWS": who}, "Action": target.action, "Resource": "*"}),
            "the key policy neither allows it nor lets IAM policies allow it: add the statement to the key policy".to_string(),
        ),
        Some(DenyReason::ResourcePolicy) => (
            "resource",
            "resource-policy",
            json!({"Sid": "IamfitProposal", "Effect": "Allow", "Principal": {"AWS": who}, "Action": target.action, "Resource": target.resource}),
            "the resource's policy does not allow it: add the statement to the resource's policy".to_string(),
        ),
        other => return add_allow(set, subject, other, target),
    };
    let Some(compiled) = compile(&statement) else { return Vec::new() };
    let proposal = || {
        NamedPolicy::new(
            "iamfit-proposal",
            Policy {
                version: iamfit_policy::Version::V2012_10_17,
                id: None,
                statements: vec![compiled.clone()],
            },
        )
    };
    let mut s = step(target, layer, blocked_by, "add-statement");
    match reason {
        Some(DenyReason::Scp(l)) => match set.scp.get_mut(l) {
            Some(level) => level.push(proposal()),
            None => return vec![outside(target, reason)],
        },
        Some(DenyReason::Rcp(l)) => match set.rcp.get_mut(l) {
            Some(level) => level.push(proposal()),
            None => return vec![outside(target, reason)],
        },
        _ => match set.resource.as_mut() {
            Some(named) => {
                s.policy = Some(named.name.to_string());
                append(named, compiled.clone());
            }
            None => set.resource = Some(proposal()),
        },
    }
    s.statement = Some(statement);
    s.note = note;
    vec![s]
}

/// A layer outside the principal's policies: named, not changed.
fn outside(target: Target<'_>, reason: Option<DenyReason>) -> Proposal {
    let (layer, blocked_by, note) = match reason {
        Some(DenyReason::Scp(l)) => (
            "scp".to_string(),
            "scp",
            format!("no SCP at level {l} allows it: a change in AWS Organizations"),
        ),
        Some(DenyReason::Rcp(l)) => (
            "rcp".to_string(),
            "rcp",
            format!("no RCP at level {l} allows it: a change in AWS Organizations"),
        ),
        _ => (
            "resource".to_string(),
            "resource-policy",
            "the resource's own policy does not allow it (cross-account)".to_string(),
        ),
    };
    let mut s = step(target, &layer, blocked_by, "outside");
    s.note = note;
    s
}

fn append(named: &mut NamedPolicy, mut statement: Statement) {
    let mut policy = (*named.policy).clone();
    statement.index = policy.statements.len();
    policy.statements.push(statement);
    named.policy = Arc::new(policy);
}

fn compile(statement: &Value) -> Option<Statement> {
    let text = json!({"Version": "2012-10-17", "Statement": [statement]}).to_string();
    Policy::parse(&text).ok()?.statements.into_iter().next()
}

/// Edits each denying statement so that it no longer covers the call.
fn lift_denies(
    set: &mut PolicySet,
    subject: &Subject,
    decision: &Decision,
    target: Target<'_>,
    reach: Reach,
) -> Vec<Proposal> {
    let empty = RequestContext::new();
    let scope = Layered { first: &empty, second: subject.principal.implicit_context() };
    let mut out = Vec::new();
    for m in decision.matched.iter().filter(|m| m.effect() == Effect::Deny) {
        let st = m.statement();
        let (change, after, note) = deny_edit(st, target, &scope);
        let mut s = step(target, layer_kind(m.layer), "explicit-deny", change);
        s.policy = Some(format!("{}:{}", m.policy_name(), m.label()));
        s.statement = Some(statement_json(after.as_ref().unwrap_or(st)));
        s.note = note;
        if !apply(set, m, after, reach) {
            s.change = "outside";
            s.note = match m.layer {
                Layer::Scp(_) | Layer::Rcp(_) => format!(
                    "{} is an organization policy: a change in AWS Organizations, by the organization's administrators",
                    m.policy_name()
                ),
                _ => format!("{} is not one of the principal's own policies", m.policy_name()),
            };
        }
        out.push(s);
    }
    out
}

/// The contract's name of a layer: `identity`, `boundary`, `session`, `resource`, `scp`, `rcp` (the
/// level of an organization policy is in its name).
fn layer_kind(layer: Layer) -> &'static str {
    match layer {
        Layer::Identity => "identity",
        Layer::Boundary => "boundary",
        Layer::Session => "session",
        Layer::Resource => "resource",
        Layer::Scp(_) => "scp",
        Layer::Rcp(_) => "rcp",
    }
}

/// The least edit of a `Deny` that stops it covering the call: drop the exact resource entries, else
/// drop the action, else remove the statement.
fn deny_edit(
    st: &Statement,
    target: Target<'_>,
    scope: &dyn iamfit_policy::context::Lookup,
) -> (&'static str, Option<Statement>, String) {
    if let Some(res) = st.resource.as_ref().filter(|r| !r.negated) {
        let matching: Vec<&str> = res
            .entries
            .iter()
            .filter(|e| e.pattern.matches(target.resource, scope))
            .map(|e| e.raw.as_str())
            .collect();
        if !matching.is_empty() && matching.iter().all(|raw| *raw == target.resource) {
            let mut after = st.clone();
            if let Some(r) = after.resource.as_mut() {
                r.entries.retain(|e| e.raw != target.resource);
                if r.entries.is_empty() {
                    return ("remove-statement", None, "the statement names only this resource".into());
                }
            }
            return (
                "remove-resource",
                Some(after),
                "the statement keeps denying its other resources".into(),
            );
        }
    }
    let action_lc = target.action.to_ascii_lowercase();
    let service_lc = action_lc.split(':').next().unwrap_or("").to_string();
    if !st.action.negated && st.action.patterns.len() > 1 {
        let matching: Vec<_> =
            st.action.patterns.iter().filter(|p| p.matches_lowercase(&action_lc, &service_lc)).collect();
        if matching.len() == 1 && matching.iter().all(|p| p.raw.eq_ignore_ascii_case(target.action)) {
            let mut after = st.clone();
            after.action.patterns.retain(|p| !p.raw.eq_ignore_ascii_case(target.action));
            let note = format!(
                "this also lifts the denial of {} on every resource of the statement ({})",
                target.action,
                resources_of(st)
            );
            return ("remove-action", Some(after), note);
        }
    }
    let note = format!(
        "it denies {} on {}: removing it lifts all of that; narrowing its Resource to leave this resource out is the smaller change",
        actions_of(st),
        resources_of(st)
    );
    ("remove-statement", None, note)
}

fn resources_of(st: &Statement) -> String {
    match &st.resource {
        Some(r) => {
            let list: Vec<&str> = r.entries.iter().map(|e| e.raw.as_str()).collect();
            format!("{}{}", if r.negated { "everything but " } else { "" }, list.join(", "))
        }
        None => "*".to_string(),
    }
}

fn actions_of(st: &Statement) -> String {
    let list: Vec<&str> = st.action.patterns.iter().map(|p| p.raw.as_str()).collect();
    format!("{}{}", if st.action.negated { "every action but " } else { "" }, list.join(", "))
}

/// Applies an edit of one statement to the policy set (None: remove it). False when the statement
/// is in no layer `reach` may change.
fn apply(set: &mut PolicySet, m: &Matched, after: Option<Statement>, reach: Reach) -> bool {
    let everywhere = reach == Reach::Everywhere;
    let named: Option<&mut NamedPolicy> = match m.layer {
        Layer::Identity => set.identity.iter_mut().find(|p| p.name == m.policy.name),
        Layer::Boundary => set.boundary.as_mut().filter(|p| p.name == m.policy.name),
        Layer::Session => set.session.iter_mut().find(|p| p.name == m.policy.name),
        Layer::Resource if everywhere => set.resource.as_mut().filter(|p| p.name == m.policy.name),
        Layer::Scp(l) if everywhere => {
            set.scp.get_mut(l).and_then(|level| level.iter_mut().find(|p| p.name == m.policy.name))
        }
        Layer::Rcp(l) if everywhere => {
            set.rcp.get_mut(l).and_then(|level| level.iter_mut().find(|p| p.name == m.policy.name))
        }
        _ => None,
    };
    let Some(named) = named else { return false };
    let index = m.statement().index;
    let mut policy = (*named.policy).clone();
    match after {
        Some(st) => {
            if let Some(slot) = policy.statements.iter_mut().find(|s| s.index == index) {
                *slot = st;
            }
        }
        None => policy.statements.retain(|s| s.index != index),
    }
    named.policy = Arc::new(policy);
    true
}

/// A statement as policy JSON (the form a user pastes into a policy).
pub fn statement_json(st: &Statement) -> Value {
    let list = |items: Vec<&str>| match items.as_slice() {
        [one] => Value::from(*one),
        _ => Value::from(items),
    };
    let mut out = Map::new();
    if let Some(sid) = st.sid.as_ref().filter(|s| !s.is_empty()) {
        out.insert("Sid".into(), sid.clone().into());
    }
    out.insert("Effect".into(), st.effect.to_string().into());
    let actions: Vec<&str> = st.action.patterns.iter().map(|p| p.raw.as_str()).collect();
    out.insert(if st.action.negated { "NotAction" } else { "Action" }.into(), list(actions));
    if let Some(r) = &st.resource {
        let entries: Vec<&str> = r.entries.iter().map(|e| e.raw.as_str()).collect();
        out.insert(if r.negated { "NotResource" } else { "Resource" }.into(), list(entries));
    }
    if !st.conditions.is_empty() {
        let mut conditions = Map::new();
        for c in &st.conditions {
            let op = conditions.entry(c.operator.to_string()).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(keys) = op {
                keys.insert(c.key.clone(), list(c.values.iter().map(String::as_str).collect()));
            }
        }
        out.insert("Condition".into(), Value::Object(conditions));
    }
    Value::Object(out)
}
