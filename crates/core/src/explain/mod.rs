//! `iamfit explain`: why an AccessDenied happened. The message is read ([`message`]), the request it
//! names is evaluated against the account with every layer iamfit knows (identity policies, the
//! boundary, the resource's policy or the role's trust policy, SCPs and RCPs when the subject carries
//! them), and the report names the deciding layer, its statements and the least fix for that layer,
//! proven by evaluating the request again with the fix applied
//! ([`crate::analyze::diff::proposals::least_change_in`]).
//!
//! When AWS denied what iamfit allows, the report says what iamfit could not see: an SCP or RCP it
//! could not read, a resource policy it does not know, a session policy, a condition key whose
//! value the message does not give.

pub mod message;
mod report;

use iamfit_policy::context::RequestContext;
use iamfit_policy::eval::{
    authorize_with, ConditionMode, Decision, PolicySet, PrincipalKind, Request, Verdict,
};

use crate::account::Subject;
use crate::analyze::diff::proposals::{least_change_in, Reach, Target};
use crate::resolve;
use crate::source::{AccountSource, SourceError};

pub use message::{
    parse_message, DeniedMessage, MessageError, MessageForm, StatedDenial, StatedLayer, StatedReason,
};
pub use report::{Agreement, ExplainLayer, Explanation, FixStep, StatementRef};

/// The STS actions that a role's trust policy governs
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_update-role-trust-policy.html>).
const TRUST_ACTIONS: &[&str] = &[
    "sts:assumerole",
    "sts:assumerolewithwebidentity",
    "sts:assumerolewithsaml",
    "sts:tagsession",
    "sts:setsourceidentity",
];

/// What the command line gives besides (or instead of) a message: `--principal`, `--action`,
/// `--resource`, `--context`. Each wins over what the message says.
#[derive(Debug, Clone, Default)]
pub struct Given {
    /// The principal ARN.
    pub principal: Option<String>,
    /// The action.
    pub action: Option<String>,
    /// The resource ARN.
    pub resource: Option<String>,
    /// Condition keys of the request.
    pub context: RequestContext,
}

/// The request to explain: the message read and completed.
#[derive(Debug, Clone)]
pub struct ExplainRequest {
    /// Who was denied (a role, role-session or user ARN).
    pub principal: String,
    /// The action.
    pub action: String,
    /// The resource ARN, `*` when neither the message nor the flags name one.
    pub resource: String,
    /// The request's condition keys (a decoded message's, then `--context`).
    pub context: RequestContext,
    /// The message, when one was given.
    pub message: Option<DeniedMessage>,
    /// What was assumed in reading it.
    pub notes: Vec<String>,
}

/// Why there is no request to explain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExplainError {
    /// The message could not be read at all.
    #[error(transparent)]
    Message(#[from] MessageError),
    /// An encoded authorization failure message: only STS can decode it.
    #[error("the message is an encoded authorization failure message: iamfit needs it decoded (the decoded message names the {})", missing.join(" and the "))]
    Encoded {
        /// What the encoded message hides.
        missing: Vec<&'static str>,
        /// The encoded message itself (for `sts:DecodeAuthorizationMessage`).
        encoded: Option<String>,
    },
    /// The message (and the flags) do not name everything a request needs.
    #[error("{}", missing_text(.missing, *.message_given))]
    Missing {
        /// What is missing: `principal`, `action`.
        missing: Vec<&'static str>,
        /// Whether a message was given.
        message_given: bool,
    },
    /// An action that is not one concrete `service:Action`.
    #[error("{0:?} is not one action: give a concrete action such as s3:GetObject")]
    BadAction(String),
}

fn missing_text(missing: &[&str], message_given: bool) -> String {
    let what = missing.iter().map(|m| format!("no {m}")).collect::<Vec<_>>().join(" and ");
    if message_given {
        format!("cannot read the message as an AccessDenied message: it names {what}")
    } else {
        format!("nothing to explain: {what} given")
    }
}

impl ExplainError {
    /// What to do about it.
    pub fn help(&self) -> String {
        match self {
            ExplainError::Message(e) => e.help().to_string(),
            ExplainError::Encoded { .. } => "decode it with `aws sts decode-authorization-message --encoded-message MESSAGE` (the caller needs sts:DecodeAuthorizationMessage; emulators such as moto do not implement it) and pass the output to iamfit explain (or `-` for stdin); or give --principal, --action and --resource".to_string(),
            ExplainError::Missing { missing, .. } => {
                let flags: Vec<String> = missing.iter().map(|m| format!("--{m}")).collect();
                format!(
                    "expected `User: ARN is not authorized to perform: ACTION on resource: ARN because ...`; or give {}",
                    flags.join(" and ")
                )
            }
            ExplainError::BadAction(_) => "`iamfit catalog expand PATTERN` lists the actions a pattern covers".into(),
        }
    }
}

impl ExplainRequest {
    /// Reads `message` (when given) and completes it with `given`.
    pub fn new(message: Option<&str>, given: Given) -> Result<ExplainRequest, ExplainError> {
        let parsed = message.map(parse_message).transpose()?;
        let from = |f: fn(&DeniedMessage) -> Option<String>| parsed.as_ref().and_then(f);
        let principal = given.principal.or_else(|| from(|m| m.principal.clone()));
        let action = given.action.or_else(|| from(|m| m.action.clone()));
        let mut missing = Vec::new();
        if principal.is_none() {
            missing.push("principal");
        }
        if action.is_none() {
            missing.push("action");
        }
        let (Some(principal), Some(action)) = (principal, action) else {
            if let Some(m) = parsed.as_ref().filter(|m| m.form == MessageForm::Encoded) {
                return Err(ExplainError::Encoded { missing, encoded: m.encoded.clone() });
            }
            return Err(ExplainError::Missing { missing, message_given: parsed.is_some() });
        };
        if !action.contains(':') || action.contains(['*', '?', ' ']) {
            return Err(ExplainError::BadAction(action));
        }
        let mut notes = Vec::new();
        let resource = given.resource.or_else(|| from(|m| m.resource.clone())).unwrap_or_else(|| {
            notes.push("no resource is named: evaluated on `*` (give --resource ARN)".to_string());
            "*".to_string()
        });
        let mut context = parsed.as_ref().map(|m| m.context.clone()).unwrap_or_default();
        for (key, value) in given.context.iter() {
            context.insert(key, value.clone());
        }
        Ok(ExplainRequest { principal, action, resource, context, message: parsed, notes })
    }

    /// Whether the request is decided by a role's trust policy (`sts:AssumeRole` on a role).
    fn needs_trust(&self) -> bool {
        TRUST_ACTIONS.contains(&self.action.to_ascii_lowercase().as_str()) && self.resource.contains(":role/")
    }
}

/// Resolves the principal through `source` (a role session to its role, a user with its groups),
/// reads the role's trust policy for `sts:AssumeRole` and its kin, and explains the request.
pub fn explain_in(source: &dyn AccountSource, request: &ExplainRequest) -> Result<Explanation, SourceError> {
    let subject = resolve::principal_subject(source, &request.principal)?;
    let mut notes = Vec::new();
    let trust = if request.needs_trust() {
        match resolve::role_trust_policy(source, &request.resource) {
            Ok(Some(t)) => Some(t),
            Ok(None) => {
                notes.push(format!("the trust policy of {} is not known", request.resource));
                None
            }
            Err(e) => {
                notes.push(format!("the trust policy of {} could not be read: {e}", request.resource));
                None
            }
        }
    } else {
        None
    };
    let mut explanation = explain(&subject, trust, request);
    explanation.unseen.extend(notes);
    Ok(explanation)
}

/// The three readings of the request: exact (absent keys are absent, as for a real request), and
/// with unknown conditions resolved towards allowing and towards denying.
struct Readings {
    exact: Decision,
    optimistic: Decision,
    pessimistic: Decision,
}

fn evaluate(set: &PolicySet, subject: &Subject, request: &ExplainRequest) -> Readings {
    let r = Request {
        principal: Some(&subject.principal),
        action: &request.action,
        resource: &request.resource,
        context: &request.context,
        resource_account: None,
    };
    Readings {
        exact: authorize_with(set, &r, ConditionMode::Exact),
        optimistic: authorize_with(set, &r, ConditionMode::Optimistic),
        pessimistic: authorize_with(set, &r, ConditionMode::Pessimistic),
    }
}

/// Explains the request for `subject`; `trust` is the role's trust policy when the request is
/// `sts:AssumeRole` (or its kin) on a role.
pub fn explain(
    subject: &Subject,
    trust: Option<iamfit_policy::eval::NamedPolicy>,
    request: &ExplainRequest,
) -> Explanation {
    let is_trust = request.needs_trust();
    let mut set = subject.policies_for(&request.resource).into_owned();
    if is_trust {
        set.resource = trust;
    }
    let readings = evaluate(&set, subject, request);
    let decision = &readings.exact;
    let mut e = Explanation::new(subject, request, decision, is_trust);
    e.fix = fix(subject, &set, request, decision, is_trust);
    if e.fix.iter().any(|s| s.layer == "trust") {
        e.notes.push(crate::trust::TRUST_WARNING.to_string());
    }
    e.notes.extend(request.notes.iter().cloned());
    let all = [&readings.exact, &readings.optimistic, &readings.pessimistic];
    e.notes.extend(report::condition_notes(all, request, subject));
    e.notes.extend(decision.notes.iter().map(ToString::to_string));
    e.agreement = report::agreement(request.message.as_ref(), &e, decision);
    let blind = stated_unseen(report::stated_layer(request.message.as_ref()), &set, subject, is_trust);
    e.comparison = report::comparison(request.message.as_ref(), &e, blind);
    if matches!(e.agreement, Agreement::IamfitAllows | Agreement::Differs) {
        e.unseen = unseen(subject, &set, request, &readings, is_trust);
    }
    e
}

/// Whether the layer a message states is one iamfit has no policy of.
fn stated_unseen(stated: Option<StatedLayer>, set: &PolicySet, subject: &Subject, is_trust: bool) -> bool {
    match stated {
        Some(StatedLayer::Scp) => set.scp.is_empty(),
        Some(StatedLayer::Rcp) => set.rcp.is_empty(),
        Some(StatedLayer::Resource) => set.resource.is_none() || is_trust,
        Some(StatedLayer::Trust) => set.resource.is_none() || !is_trust,
        Some(StatedLayer::Session) => {
            set.session.is_empty() && subject.principal.kind == PrincipalKind::AssumedRole
        }
        Some(StatedLayer::Boundary) => set.boundary.is_none(),
        Some(StatedLayer::VpcEndpoint) => true,
        _ => false,
    }
}

/// The least fix of the deciding layer, proven: the request evaluated again with every step applied.
fn fix(
    subject: &Subject,
    set: &PolicySet,
    request: &ExplainRequest,
    decision: &Decision,
    is_trust: bool,
) -> Vec<FixStep> {
    if decision.verdict == Verdict::Allow
        || decision.reason == Some(iamfit_policy::eval::DenyReason::AwsOwned)
    {
        return Vec::new();
    }
    let mut with_set = subject.clone();
    with_set.policies = set.clone();
    let target = Target { action: &request.action, resource: &request.resource, context: &request.context };
    least_change_in(&with_set, target, ConditionMode::Exact, Reach::Everywhere)
        .into_iter()
        .map(|p| FixStep::of(p, is_trust))
        .collect()
}

/// What iamfit could not see that could have decided the request.
fn unseen(
    subject: &Subject,
    set: &PolicySet,
    request: &ExplainRequest,
    readings: &Readings,
    is_trust: bool,
) -> Vec<String> {
    let mut out = Vec::new();
    let account = subject.principal.account.clone().unwrap_or_else(|| "the principal's account".into());
    if set.scp.is_empty() {
        out.push(format!("SCPs: none known for account {account} (iamfit read IAM only): an SCP attached to the account or an OU above it may deny the request"));
    }
    if set.rcp.is_empty() && request.resource != "*" {
        out.push(
            "RCPs: none known for the resource's account: a resource control policy may deny the request"
                .into(),
        );
    }
    if set.resource.is_none() && !is_trust {
        if let Some(service) = crate::account::resources::ResourceService::of_arn(&request.resource) {
            out.push(format!(
                "the resource policy of {} is not known (snapshot: resource-policies/{}/, the output of `{}`)",
                request.resource,
                service.folder(),
                crate::account::resources::get_call(service)
            ));
        }
    }
    if subject.principal.kind == PrincipalKind::AssumedRole {
        out.push("a session policy passed when the session was created is not visible to iamfit: it may narrow the session".into());
    }
    if readings.pessimistic.verdict != Verdict::Allow && readings.exact.verdict == Verdict::Allow {
        let keys = report::unknown_keys(&readings.pessimistic.matched, request, subject);
        out.push(format!(
            "conditions on keys the message does not give decide: {} (give them with --context KEY=VALUE)",
            keys.join(", ")
        ));
    }
    if report::stated_layer(request.message.as_ref()) == Some(StatedLayer::VpcEndpoint) {
        out.push("VPC endpoint policies: iamfit does not read them".into());
    }
    out.extend(subject.notes.iter().cloned());
    out
}

#[cfg(test)]
mod tests;
