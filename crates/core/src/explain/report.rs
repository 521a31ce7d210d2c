//! The explanation as a typed report (its `Serialize` impl is `iamfit explain -o json`), and how it
//! is compared with what the message says.

use serde::Serialize;
use serde_json::Value;

use iamfit_policy::eval::{Decision, DenyReason, Layer, Matched, Verdict};

use super::message::{DeniedMessage, StatedDenial, StatedLayer, StatedReason};
use super::ExplainRequest;
use crate::account::Subject;
use crate::analyze::diff::proposals::{statement_json, Proposal};

/// The layer that decides, as the contract names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExplainLayer {
    /// Identity-based policies.
    Identity,
    /// The permissions boundary.
    Boundary,
    /// The session policy.
    Session,
    /// A service control policy.
    Scp,
    /// A resource control policy.
    Rcp,
    /// The resource's own policy (bucket, key, queue, ... policy).
    Resource,
    /// The role's trust policy (`sts:AssumeRole` and its kin).
    Trust,
}

impl ExplainLayer {
    /// The contract's word.
    pub fn as_str(self) -> &'static str {
        match self {
            ExplainLayer::Identity => "identity",
            ExplainLayer::Boundary => "boundary",
            ExplainLayer::Session => "session",
            ExplainLayer::Scp => "scp",
            ExplainLayer::Rcp => "rcp",
            ExplainLayer::Resource => "resource",
            ExplainLayer::Trust => "trust",
        }
    }

    /// The layer of an evaluator layer; the resource layer is the trust policy for `sts:AssumeRole`.
    pub fn of(layer: Layer, is_trust: bool) -> ExplainLayer {
        match layer {
            Layer::Identity => ExplainLayer::Identity,
            Layer::Boundary => ExplainLayer::Boundary,
            Layer::Session => ExplainLayer::Session,
            Layer::Resource if is_trust => ExplainLayer::Trust,
            Layer::Resource => ExplainLayer::Resource,
            Layer::Scp(_) => ExplainLayer::Scp,
            Layer::Rcp(_) => ExplainLayer::Rcp,
        }
    }

    /// The layer that lacks an `Allow` for an implicit deny.
    fn of_reason(reason: DenyReason, is_trust: bool) -> ExplainLayer {
        match reason {
            DenyReason::NoAllow => ExplainLayer::Identity,
            DenyReason::Boundary => ExplainLayer::Boundary,
            DenyReason::Session => ExplainLayer::Session,
            DenyReason::Scp(_) => ExplainLayer::Scp,
            DenyReason::Rcp(_) => ExplainLayer::Rcp,
            DenyReason::Trust => ExplainLayer::Trust,
            DenyReason::ResourcePolicy if is_trust => ExplainLayer::Trust,
            DenyReason::ResourcePolicy | DenyReason::KeyPolicy | DenyReason::AwsOwned => {
                ExplainLayer::Resource
            }
        }
    }

    /// The layer a message names, when iamfit has it.
    fn of_stated(layer: StatedLayer) -> Option<ExplainLayer> {
        Some(match layer {
            StatedLayer::Identity => ExplainLayer::Identity,
            StatedLayer::Boundary => ExplainLayer::Boundary,
            StatedLayer::Session => ExplainLayer::Session,
            StatedLayer::Scp => ExplainLayer::Scp,
            StatedLayer::Rcp => ExplainLayer::Rcp,
            StatedLayer::Resource => ExplainLayer::Resource,
            StatedLayer::Trust => ExplainLayer::Trust,
            StatedLayer::VpcEndpoint | StatedLayer::Other => return None,
        })
    }
}

/// A statement that took part in the decision.
#[derive(Debug, Clone, Serialize)]
pub struct StatementRef {
    /// Its layer.
    pub layer: ExplainLayer,
    /// The policy, as reports name it.
    pub policy: String,
    /// The statement's Sid, or `#index`.
    pub sid: String,
    /// `Allow` or `Deny`.
    pub effect: String,
    /// The statement as policy JSON.
    pub statement: Value,
}

impl StatementRef {
    fn of(m: &Matched, is_trust: bool) -> StatementRef {
        StatementRef {
            layer: ExplainLayer::of(m.layer, is_trust),
            policy: m.policy_name().to_string(),
            sid: m.label(),
            effect: m.effect().to_string(),
            statement: statement_json(m.statement()),
        }
    }
}

/// One step of the least fix.
#[derive(Debug, Clone, Serialize)]
pub struct FixStep {
    /// The layer to change (the contract's words; `trust` for a role's trust policy).
    pub layer: String,
    /// The statement to add, the denying statement as it reads after the change, or the statement
    /// to remove.
    pub statement: Option<Value>,
    /// `add-statement`, `remove-resource`, `remove-action`, `remove-statement`, or `outside` (no
    /// change iamfit can prove).
    pub change: &'static str,
    /// The policy to change (`policy:Sid` for an edited statement), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// What blocks the request there.
    pub blocked_by: &'static str,
    /// Whether the request is allowed once every step is applied (evaluated again).
    pub verified: bool,
    /// What the change also does, or why it is needed.
    pub note: String,
}

impl FixStep {
    /// A proposal of the least change, with the trust policy named as such.
    pub fn of(p: Proposal, is_trust: bool) -> FixStep {
        let layer = if is_trust && p.layer == "resource" { "trust".to_string() } else { p.layer };
        FixStep {
            layer,
            statement: p.statement,
            change: p.change,
            policy: p.policy,
            blocked_by: p.blocked_by,
            verified: p.verified,
            note: p.note,
        }
    }
}

/// How iamfit's answer compares with the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Agreement {
    /// iamfit denies in the layer (and the way) the message states.
    Agrees,
    /// Both deny, but iamfit's deciding layer (or kind of denial) is not the message's.
    Differs,
    /// The message says denied, iamfit allows: something iamfit does not see decided.
    IamfitAllows,
    /// The message states no layer (or there is no message): nothing to compare.
    #[default]
    NotStated,
}

/// The explanation of one AccessDenied.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// The principal ARN denied.
    pub principal: String,
    /// The action.
    pub action: String,
    /// The resource (`*` when none is named).
    pub resource: String,
    /// iamfit's decision: `allow`, `explicit-deny`, `implicit-deny`.
    pub decision: Verdict,
    /// The deciding layer; `null` when iamfit allows.
    pub layer: Option<ExplainLayer>,
    /// The deciding statements: the denying ones, or (implicit deny) the allows that were not enough,
    /// or (allow) the allowing ones.
    pub statements: Vec<StatementRef>,
    /// The least fix for the deciding layer, proven with the evaluator.
    pub fix: Vec<FixStep>,
    /// How iamfit names the principal it evaluated (`role orders-fn-role`).
    pub subject: String,
    /// Why iamfit denies, in words.
    pub reason: Option<String>,
    /// What the message states, when it states a reason.
    pub stated: Option<StatedReason>,
    /// How iamfit's answer compares with the message.
    pub agreement: Agreement,
    /// The comparison in words (none without a message).
    pub comparison: Option<String>,
    /// What iamfit could not see (when it allows what AWS denied, or names another layer).
    pub unseen: Vec<String>,
    /// What was assumed.
    pub notes: Vec<String>,
    /// True when some of the principal's policies could not be read.
    pub partial: bool,
}

impl Explanation {
    /// The decision, its layer and its statements (fix, agreement and what was unseen come after).
    pub fn new(
        subject: &Subject,
        request: &ExplainRequest,
        decision: &Decision,
        is_trust: bool,
    ) -> Explanation {
        let layer = match decision.verdict {
            Verdict::Allow => None,
            Verdict::ExplicitDeny => decision.matched.first().map(|m| ExplainLayer::of(m.layer, is_trust)),
            Verdict::ImplicitDeny => decision.reason.map(|r| ExplainLayer::of_reason(r, is_trust)),
        };
        let reason = match decision.verdict {
            Verdict::ExplicitDeny => Some("an explicit Deny statement applies".to_string()),
            _ => decision.reason.map(|r| r.to_string()),
        };
        Explanation {
            principal: request.principal.clone(),
            action: request.action.clone(),
            resource: request.resource.clone(),
            decision: decision.verdict,
            layer,
            statements: decision.matched.iter().map(|m| StatementRef::of(m, is_trust)).collect(),
            fix: Vec::new(),
            subject: subject.label.clone(),
            reason,
            stated: request.message.as_ref().and_then(|m| m.reason.clone()),
            agreement: Agreement::NotStated,
            comparison: None,
            unseen: Vec::new(),
            notes: Vec::new(),
            partial: subject.partial,
        }
    }

    /// Whether the answer is incomplete: iamfit allows what AWS denied, or policies were not read.
    pub fn is_partial(&self) -> bool {
        self.partial || self.agreement == Agreement::IamfitAllows
    }
}

/// The layer a message states, if any.
pub fn stated_layer(message: Option<&DeniedMessage>) -> Option<StatedLayer> {
    message.and_then(|m| m.reason.as_ref()).map(|r| r.layer)
}

/// Compares iamfit's decision with what the message states.
pub fn agreement(message: Option<&DeniedMessage>, e: &Explanation, decision: &Decision) -> Agreement {
    let Some(stated) = message.and_then(|m| m.reason.as_ref()) else {
        // A message without a reason still says "denied".
        return match (message, decision.verdict) {
            (Some(_), Verdict::Allow) => Agreement::IamfitAllows,
            _ => Agreement::NotStated,
        };
    };
    if decision.verdict == Verdict::Allow {
        return Agreement::IamfitAllows;
    }
    let explicit = decision.verdict == Verdict::ExplicitDeny;
    // "When an SCP denies access, the error message always includes the phrase ... explicit deny
    // ..., even if the denial is implicit" (IAM User Guide, troubleshoot_access-denied, older
    // editions): an SCP message is read as either.
    let kind_agrees = match stated.denial {
        StatedDenial::Explicit => explicit || stated.layer == StatedLayer::Scp,
        StatedDenial::Implicit => !explicit,
    };
    let Some(layer) = ExplainLayer::of_stated(stated.layer) else {
        return match (stated.layer, kind_agrees) {
            (StatedLayer::Other, true) => Agreement::NotStated,
            _ => Agreement::Differs,
        };
    };
    let layer_agrees = if explicit {
        e.statements.iter().any(|s| s.layer == layer && s.effect == "Deny")
    } else {
        e.layer == Some(layer)
    };
    if kind_agrees && layer_agrees {
        Agreement::Agrees
    } else {
        Agreement::Differs
    }
}

/// The condition keys of `matched` statements that neither the request nor the principal gives.
pub fn unknown_keys(matched: &[Matched], request: &ExplainRequest, subject: &Subject) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for m in matched {
        for c in &m.statement().conditions {
            let key = c.key.clone();
            let known = request.context.contains(&key) || subject.principal.implicit_context().contains(&key);
            if !known && !keys.iter().any(|k| k.eq_ignore_ascii_case(&key)) {
                keys.push(key);
            }
        }
    }
    keys
}

/// A note when conditions on keys the request does not give could change the decision: the
/// statements and keys, the decision with those keys absent, and the other one they allow.
pub fn condition_notes(readings: [&Decision; 3], request: &ExplainRequest, subject: &Subject) -> Vec<String> {
    let [exact, optimistic, pessimistic] = readings;
    let other = [optimistic.verdict, pessimistic.verdict].into_iter().find(|v| *v != exact.verdict);
    let Some(other) = other else { return Vec::new() };
    let mut keyed: Vec<Matched> = Vec::new();
    for m in exact.matched.iter().chain(&optimistic.matched).chain(&pessimistic.matched) {
        let unknown = !unknown_keys(std::slice::from_ref(m), request, subject).is_empty();
        let seen = keyed.iter().any(|k| k.policy_name() == m.policy_name() && k.label() == m.label());
        if unknown && !seen {
            keyed.push(m.clone());
        }
    }
    if keyed.is_empty() {
        return Vec::new();
    }
    let names: Vec<String> = keyed.iter().map(|m| format!("{}/{}", m.policy_name(), m.label())).collect();
    let keys = unknown_keys(&keyed, request, subject);
    vec![format!(
        "{} depend on keys the request does not give ({}): with them absent the decision is {}, with other values it can be {other} (give them with --context KEY=VALUE)",
        names.join(", "),
        keys.join(", "),
        exact.verdict
    )]
}

/// The comparison of the message's reason with iamfit's decision, in words.
pub fn comparison(message: Option<&DeniedMessage>, e: &Explanation, stated_unseen: bool) -> Option<String> {
    let message = message?;
    let stated = match &message.reason {
        Some(r) => {
            let kind = match r.denial {
                StatedDenial::Explicit => "an explicit deny",
                StatedDenial::Implicit => "an implicit deny",
            };
            format!("the message states {kind} in the {} layer (\"{}\")", r.layer.as_str(), r.text)
        }
        None => "the message says denied, without a reason".to_string(),
    };
    let iamfit = match (e.decision, e.layer) {
        (Verdict::Allow, _) => "iamfit allows the request".to_string(),
        (verdict, Some(layer)) => format!("iamfit finds {verdict} in the {} layer", layer.as_str()),
        (verdict, None) => format!("iamfit finds {verdict}"),
    };
    let verdict = match e.agreement {
        Agreement::Agrees => "they agree",
        Agreement::Differs if stated_unseen => {
            "they differ: the message names a layer iamfit cannot see (listed below), and AWS names only one of the layers that deny"
        }
        Agreement::Differs => {
            "they differ: the account iamfit read is not the one AWS decided on (a stale snapshot, another account or region), or AWS named one of several denying layers"
        }
        Agreement::IamfitAllows => "what decided is something iamfit cannot see (listed below)",
        Agreement::NotStated => "the message names no layer to compare",
    };
    Some(format!("{stated}; {iamfit}: {verdict}"))
}
