//! The authorizer: AWS's policy evaluation logic over every policy layer.
//!
//! Following the IAM User Guide ("Policy evaluation logic", "Cross-account policy evaluation logic",
//! "Permissions boundaries", "Session policies"):
//!
//! 1. An explicit `Deny` in any applicable policy (identity, boundary, session, resource, SCP, RCP)
//!    decides: `explicit-deny`.
//! 2. Every SCP level (root, OUs, account) must have an `Allow`, and so must every RCP level.
//! 3. Same account: a resource-based policy that names the IAM user, the role *session*, or everyone
//!    (`*`) allows on its own. A grant to the role ARN joins the identity-based allows, so the
//!    boundary and the session policy still limit it. A grant to the account delegates to IAM and
//!    allows nothing by itself.
//! 4. The identity side allows when an identity-based policy allows and the permissions boundary
//!    (if any) and the session policy (if any) allow too.
//! 5. Across accounts, both the identity side and the resource-based policy must allow.
//!
//! A [`Decision`] carries the statements that decided it, so every report can explain itself.

pub mod batch;
pub mod principal;
pub mod rules;

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::context::{Layered, RequestContext};
use crate::document::{Effect, Policy, PrincipalSpec, PrincipalType, Statement};

pub use principal::{Principal, PrincipalKind};
pub use rules::WriteActions;

use rules::Required;

/// A policy with the name reports use for it (policy name, ARN, or file).
#[derive(Debug, Clone, PartialEq)]
pub struct NamedPolicy {
    /// The name shown in reports.
    pub name: Arc<str>,
    /// The policy.
    pub policy: Arc<Policy>,
}

impl NamedPolicy {
    /// Names a policy.
    pub fn new(name: impl Into<String>, policy: Policy) -> Self {
        NamedPolicy { name: Arc::from(name.into()), policy: Arc::new(policy) }
    }
}

/// Every policy that applies to a request, by layer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicySet {
    /// Identity-based policies: inline, attached managed, and group policies.
    pub identity: Vec<NamedPolicy>,
    /// The permissions boundary.
    pub boundary: Option<NamedPolicy>,
    /// Session policies (inline and managed, passed at AssumeRole); empty when there is no session policy.
    pub session: Vec<NamedPolicy>,
    /// The resource-based policy of the resource (bucket policy, key policy, trust policy, ...).
    pub resource: Option<NamedPolicy>,
    /// Service control policies by level, root first; each level must allow.
    pub scp: Vec<Vec<NamedPolicy>>,
    /// Resource control policies by level, root first; each level must allow.
    pub rcp: Vec<Vec<NamedPolicy>>,
    /// The organization's management account, when known: SCPs do not apply to its principals, nor
    /// RCPs to its resources.
    pub management_account: Option<String>,
    /// Which actions write (the catalog's Write, Permissions management and Tagging levels). With
    /// it, writes on what AWS owns are denied whatever the policies say; without it that rule is not
    /// applied.
    pub write_actions: Option<WriteActions>,
    /// The resource is owned by AWS although its ARN does not say so (an AWS managed KMS key, known
    /// from its `KeyManager`).
    pub resource_owned_by_aws: bool,
}

/// One request to decide.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Who asks (needed for resource-based policies and principal condition keys).
    pub principal: Option<&'a Principal>,
    /// The action, e.g. `s3:GetObject` (any case).
    pub action: &'a str,
    /// The resource ARN, or `*` for actions without resource-level permissions.
    pub resource: &'a str,
    /// Caller-supplied condition keys (they win over keys derived from the principal).
    pub context: &'a RequestContext,
    /// The account owning the resource, when the resource ARN does not say (S3 buckets).
    pub resource_account: Option<&'a str>,
}

/// How conditions on keys the request context does not have are treated.
///
/// `Exact` is AWS's rule for a real request: an absent key is absent. The other two serve analysis,
/// where the context is not known in advance (`aws:SourceIp`, `aws:CurrentTime`, ...): such a
/// condition is *unknown*, and the decision is computed at its most permissive (`Optimistic`: unknown
/// conditions hold for Allow statements and fail for Deny statements) or its most restrictive
/// (`Pessimistic`). Keys derived from the principal (`aws:Principal*`, `aws:username`, `aws:userid`)
/// are always known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConditionMode {
    /// Absent keys are absent (a real request).
    #[default]
    Exact,
    /// Unknown conditions resolve towards allowing.
    Optimistic,
    /// Unknown conditions resolve towards denying.
    Pessimistic,
}

/// The outcome of an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Allowed.
    Allow,
    /// Denied by a `Deny` statement.
    ExplicitDeny,
    /// Denied because nothing allows it (or a required layer does not).
    ImplicitDeny,
}

impl Verdict {
    /// The contract's word: `allow`, `explicit-deny`, `implicit-deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::ExplicitDeny => "explicit-deny",
            Verdict::ImplicitDeny => "implicit-deny",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The policy layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layer {
    /// Identity-based policies.
    Identity,
    /// The permissions boundary.
    Boundary,
    /// The session policy.
    Session,
    /// The resource-based policy.
    Resource,
    /// An SCP level (0 = root).
    Scp(usize),
    /// An RCP level (0 = root).
    Rcp(usize),
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Layer::Identity => f.write_str("identity"),
            Layer::Boundary => f.write_str("boundary"),
            Layer::Session => f.write_str("session"),
            Layer::Resource => f.write_str("resource"),
            Layer::Scp(l) => write!(f, "scp[{l}]"),
            Layer::Rcp(l) => write!(f, "rcp[{l}]"),
        }
    }
}

/// A statement that took part in a decision. Cheap to make (no text is copied); the labels are
/// computed when shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Matched {
    /// Which layer it belongs to.
    pub layer: Layer,
    /// The policy it belongs to.
    pub policy: NamedPolicy,
    position: usize,
}

impl Matched {
    /// The statement itself.
    pub fn statement(&self) -> &Statement {
        &self.policy.policy.statements[self.position]
    }

    /// The statement's label: its Sid, or `#index`.
    pub fn label(&self) -> String {
        self.statement().label()
    }

    /// The statement's effect.
    pub fn effect(&self) -> Effect {
        self.statement().effect
    }

    /// The policy's name.
    pub fn policy_name(&self) -> &str {
        &self.policy.name
    }
}

impl Serialize for Matched {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = serializer.serialize_struct("Matched", 5)?;
        st.serialize_field("layer", &self.layer.to_string())?;
        st.serialize_field("policy", &*self.policy.name)?;
        st.serialize_field("statement", &self.label())?;
        st.serialize_field("index", &self.statement().index)?;
        st.serialize_field("effect", &self.effect().to_string())?;
        st.end()
    }
}

/// Why a request is implicitly denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DenyReason {
    /// No identity-based policy (nor same-account resource policy) allows it.
    NoAllow,
    /// The permissions boundary does not allow it.
    Boundary,
    /// The session policy does not allow it.
    Session,
    /// An SCP level has no Allow for it.
    Scp(usize),
    /// An RCP level has no Allow for it.
    Rcp(usize),
    /// Cross-account: the resource's account does not allow it in a resource-based policy.
    ResourcePolicy,
    /// A KMS key: the key policy neither allows the principal nor lets the account's IAM policies
    /// allow it.
    KeyPolicy,
    /// `sts:AssumeRole` and its kin: the role's trust policy does not allow it.
    Trust,
    /// A write on a resource AWS owns (an AWS managed policy, a service-linked role, an AWS managed
    /// key): nobody may change it.
    AwsOwned,
}

impl fmt::Display for DenyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DenyReason::NoAllow => f.write_str("no policy allows it"),
            DenyReason::Boundary => f.write_str("the permissions boundary does not allow it"),
            DenyReason::Session => f.write_str("the session policy does not allow it"),
            DenyReason::Scp(l) => write!(f, "no SCP at level {l} allows it"),
            DenyReason::Rcp(l) => write!(f, "no RCP at level {l} allows it"),
            DenyReason::ResourcePolicy => {
                f.write_str("cross-account: the resource's resource-based policy does not allow it")
            }
            DenyReason::KeyPolicy => f.write_str(
                "the KMS key policy neither allows it nor lets the account's IAM policies allow it",
            ),
            DenyReason::Trust => f.write_str("the role's trust policy does not allow it"),
            DenyReason::AwsOwned => f.write_str("the resource is owned by AWS: nobody can change it"),
        }
    }
}

/// What the evaluator assumed or which of AWS's own rules applied, beyond the policies it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Note {
    /// A KMS key without a known key policy: AWS's default key policy, which lets the account's IAM
    /// policies grant access, was assumed.
    DefaultKeyPolicyAssumed,
    /// `sts:GetCallerIdentity`: always allowed, no policy can deny it.
    AlwaysAllowed,
    /// The principal belongs to the organization's management account: SCPs do not apply.
    ScpExemptManagementAccount,
    /// The resource belongs to the organization's management account: RCPs do not apply.
    RcpExemptManagementAccount,
    /// The principal is a service-linked role: SCPs and RCPs do not apply.
    OrganizationExemptServiceLinkedRole,
    /// An anonymous request: only a resource policy naming everyone (`*`) can allow it.
    Anonymous,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Note::DefaultKeyPolicyAssumed => {
                "no key policy given: AWS's default key policy (which lets the account's IAM policies grant access) was assumed"
            }
            Note::AlwaysAllowed => "sts:GetCallerIdentity is always allowed: no policy can deny it",
            Note::ScpExemptManagementAccount => {
                "SCPs do not apply: the principal is in the organization's management account"
            }
            Note::RcpExemptManagementAccount => {
                "RCPs do not apply: the resource is in the organization's management account"
            }
            Note::OrganizationExemptServiceLinkedRole => {
                "SCPs and RCPs do not apply to service-linked roles"
            }
            Note::Anonymous => {
                "anonymous request: only a resource-based policy naming everyone (\"*\") can allow it"
            }
        })
    }
}

/// A decision and the statements that decided it.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Allow, explicit deny or implicit deny.
    pub verdict: Verdict,
    /// For `explicit-deny`: the denying statements. For `allow`: the allowing statements of each
    /// required layer. For `implicit-deny`: the allows that were not enough (may be empty).
    pub matched: Vec<Matched>,
    /// For `implicit-deny`: the first layer that did not allow.
    pub reason: Option<DenyReason>,
    /// Whether a condition whose keys were unknown took part (only outside [`ConditionMode::Exact`]).
    pub conditional: bool,
    /// What was assumed, and which of AWS's own rules applied.
    pub notes: Vec<Note>,
}

/// How a resource-based policy statement names the requesting principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Named {
    /// Through its account: delegation to the account's IAM policies.
    Account,
    /// Through the role ARN (the principal is a session of that role).
    Role,
    /// Directly: the user, the session, the service, or everyone.
    Direct,
}

/// The statements of one layer that apply to the request.
#[derive(Default)]
struct Hits<'p> {
    allows: Vec<(&'p NamedPolicy, usize, Named)>,
    denies: Vec<(&'p NamedPolicy, usize)>,
}

struct Evaluation<'a> {
    action_lc: String,
    service_lc: String,
    request: Request<'a>,
    has_boundary: bool,
    mode: ConditionMode,
    unknown_seen: std::cell::Cell<bool>,
}

impl Evaluation<'_> {
    fn scan<'p>(
        &self,
        policies: impl IntoIterator<Item = &'p NamedPolicy>,
        resource_based: bool,
        hits: &mut Hits<'p>,
    ) {
        let implicit = self.request.principal.map(Principal::implicit_context);
        let empty = RequestContext::new();
        let scope = Layered { first: self.request.context, second: implicit.unwrap_or(&empty) };
        for named in policies {
            for (position, st) in named.policy.statements.iter().enumerate() {
                if !st.action.matches_lowercase(&self.action_lc, &self.service_lc) {
                    continue;
                }
                if let Some(res) = &st.resource {
                    if !res.matches(self.request.resource, &scope) {
                        continue;
                    }
                }
                let named_as = if resource_based {
                    match st.principal.as_ref().and_then(|spec| self.principal_named(spec, st.effect)) {
                        Some(n) => n,
                        None => continue,
                    }
                } else {
                    Named::Direct
                };
                if !self.conditions_hold(st, &scope) {
                    continue;
                }
                match st.effect {
                    Effect::Allow => hits.allows.push((named, position, named_as)),
                    Effect::Deny => hits.denies.push((named, position)),
                }
            }
        }
    }

    /// Whether a statement's conditions hold, treating unknown keys by the evaluation's mode.
    fn conditions_hold(&self, st: &Statement, scope: &dyn crate::context::Lookup) -> bool {
        if self.mode == ConditionMode::Exact {
            return st.conditions_hold(scope);
        }
        let mut unknown = false;
        for c in &st.conditions {
            let key = c.key_lowercase();
            if scope.get(key).is_none() && !is_principal_key(key) && !scope.is_absent(key) {
                unknown = true;
            } else if !c.evaluate(scope) {
                return false;
            }
        }
        if !unknown {
            return true;
        }
        self.unknown_seen.set(true);
        matches!(
            (self.mode, st.effect),
            (ConditionMode::Optimistic, Effect::Allow) | (ConditionMode::Pessimistic, Effect::Deny)
        )
    }

    /// Whether (and how) a `Principal`/`NotPrincipal` element covers the requesting principal.
    fn principal_named(&self, spec: &PrincipalSpec, effect: Effect) -> Option<Named> {
        let p = self.request.principal;
        if spec.negated {
            // NotPrincipal: everyone except the listed identifiers. AWS documents that with Deny it
            // always applies to principals that have a permissions boundary.
            if spec.everyone {
                return None;
            }
            if effect == Effect::Deny && self.has_boundary {
                return Some(Named::Direct);
            }
            let excluded =
                p.is_some_and(|p| spec.entries.iter().any(|(kind, id)| identifies_exactly(*kind, id, p)));
            return (!excluded).then_some(Named::Direct);
        }
        if spec.everyone {
            return Some(Named::Direct);
        }
        let p = p?;
        spec.entries.iter().filter_map(|(kind, id)| names(*kind, id, p)).max()
    }
}

/// Keys whose absence is known when the principal is known (its tags, ARN, account, names).
fn is_principal_key(key: &str) -> bool {
    key.starts_with("aws:principal") || key == "aws:username" || key == "aws:userid"
}

/// Whether an identifier names exactly this principal (used by NotPrincipal).
fn identifies_exactly(kind: PrincipalType, id: &str, p: &Principal) -> bool {
    match kind {
        PrincipalType::Aws => {
            id == p.arn || (p.kind == PrincipalKind::Root && p.account.as_deref() == Some(id))
        }
        _ => id == p.arn,
    }
}

/// How an identifier of a `Principal` element names the principal, if it does.
fn names(kind: PrincipalType, id: &str, p: &Principal) -> Option<Named> {
    if kind != PrincipalType::Aws {
        return (id == p.arn).then_some(Named::Direct);
    }
    if id == "*" || id == p.arn {
        return Some(Named::Direct);
    }
    let account = p.account.as_deref()?;
    let root = format!("arn:{}:iam::{account}:root", p.partition.as_deref().unwrap_or("aws"));
    if id == account || id == root {
        return Some(if p.kind == PrincipalKind::Root { Named::Direct } else { Named::Account });
    }
    if let (Some(role_arn), Some(role_name)) = (&p.role_arn, &p.name) {
        // Role ARNs in policies may carry a path that session ARNs lack: compare account and name.
        if id == role_arn {
            return Some(Named::Role);
        }
        if let Some(rest) =
            id.strip_prefix(&format!("arn:{}:iam::{account}:role/", p.partition.as_deref().unwrap_or("aws")))
        {
            if rest.rsplit('/').next() == Some(role_name.as_str()) {
                return Some(Named::Role);
            }
        }
    }
    None
}

fn matched(layer: Layer, named: &NamedPolicy, position: &usize) -> Matched {
    Matched { layer, policy: named.clone(), position: *position }
}

/// The account that owns the resource: given, or read from the ARN's account segment.
fn resource_account<'a>(request: &Request<'a>) -> Option<&'a str> {
    if let Some(acct) = request.resource_account {
        return Some(acct);
    }
    let acct = request.resource.split(':').nth(4)?;
    // A pattern (`arn:aws:logs:*:*:*`, an analysis's witness) names no account of its own: it is
    // not a cross-account request.
    (!acct.is_empty() && acct != "aws" && !acct.contains(['*', '?'])).then_some(acct)
}

/// Decides one request against a set of policies, as AWS would for a real request.
pub fn authorize(set: &PolicySet, request: &Request<'_>) -> Decision {
    authorize_with(set, request, ConditionMode::Exact)
}

/// Decides one request, treating conditions on unknown keys by `mode` (see [`ConditionMode`]).
pub fn authorize_with(set: &PolicySet, request: &Request<'_>, mode: ConditionMode) -> Decision {
    let action_lc = request.action.to_ascii_lowercase();
    let service_lc = action_lc.split_once(':').map(|(s, _)| s.to_string()).unwrap_or_default();
    let ev = Evaluation {
        action_lc,
        service_lc,
        request: *request,
        has_boundary: set.boundary.is_some(),
        mode,
        unknown_seen: std::cell::Cell::new(false),
    };
    let mut decision = decide(set, request, &ev);
    decision.conditional = ev.unknown_seen.get();
    decision
}

/// Which layers reach the request, by AWS's rules on who they apply to.
struct Reach {
    /// Identity-based policies, boundary and session policy: not for anonymous requests.
    identity: bool,
    /// SCPs: principals of member accounts, except service-linked roles.
    scp: bool,
    /// RCPs: resources of member accounts, except for service-linked roles.
    rcp: bool,
    notes: Vec<Note>,
}

impl Reach {
    fn of(set: &PolicySet, request: &Request<'_>) -> Reach {
        let mut notes = Vec::new();
        let principal = request.principal;
        let anonymous = principal.is_some_and(|p| p.kind == PrincipalKind::Anonymous);
        if anonymous {
            notes.push(Note::Anonymous);
        }
        let management = set.management_account.as_deref();
        let in_management =
            management.is_some() && principal.and_then(|p| p.account.as_deref()) == management;
        let resource_in_management = management.is_some() && resource_account(request) == management;
        let linked = principal.is_some_and(rules::service_linked);
        let mut scp = !anonymous && !set.scp.is_empty();
        let mut rcp = !set.rcp.is_empty();
        if scp && in_management {
            notes.push(Note::ScpExemptManagementAccount);
            scp = false;
        }
        if rcp && resource_in_management {
            notes.push(Note::RcpExemptManagementAccount);
            rcp = false;
        }
        if (scp || rcp) && linked {
            notes.push(Note::OrganizationExemptServiceLinkedRole);
            scp = false;
            rcp = false;
        }
        Reach { identity: !anonymous, scp, rcp, notes }
    }
}

/// The statements of every layer that apply to the request.
struct LayerHits<'p> {
    identity: Hits<'p>,
    boundary: Hits<'p>,
    session: Hits<'p>,
    resource: Hits<'p>,
    scp: Vec<Hits<'p>>,
    rcp: Vec<Hits<'p>>,
}

impl<'p> LayerHits<'p> {
    fn scan(set: &'p PolicySet, ev: &Evaluation<'_>, reach: &Reach) -> LayerHits<'p> {
        let one = |policies: &'p [NamedPolicy], resource_based: bool, applies: bool| {
            let mut h = Hits::default();
            if applies {
                ev.scan(policies, resource_based, &mut h);
            }
            h
        };
        LayerHits {
            identity: one(&set.identity, false, reach.identity),
            boundary: one(set.boundary.as_slice(), false, reach.identity),
            session: one(&set.session, false, reach.identity),
            resource: one(set.resource.as_slice(), true, true),
            scp: if reach.scp { set.scp.iter().map(|l| one(l, false, true)).collect() } else { Vec::new() },
            rcp: if reach.rcp { set.rcp.iter().map(|l| one(l, false, true)).collect() } else { Vec::new() },
        }
    }

    /// Every applicable `Deny` statement.
    fn denies(&self) -> Vec<Matched> {
        let mut denies = Vec::new();
        let layers: [(Layer, &Hits); 4] = [
            (Layer::Identity, &self.identity),
            (Layer::Boundary, &self.boundary),
            (Layer::Session, &self.session),
            (Layer::Resource, &self.resource),
        ];
        for (layer, hits) in layers {
            denies.extend(hits.denies.iter().map(|(n, s)| matched(layer, n, s)));
        }
        for (i, hits) in self.scp.iter().enumerate() {
            denies.extend(hits.denies.iter().map(|(n, s)| matched(Layer::Scp(i), n, s)));
        }
        for (i, hits) in self.rcp.iter().enumerate() {
            denies.extend(hits.denies.iter().map(|(n, s)| matched(Layer::Rcp(i), n, s)));
        }
        denies
    }

    /// The organization guardrails: every level must allow. The allows, or the first silent level.
    fn guardrails(&self) -> Result<Vec<Matched>, DenyReason> {
        let mut guard = Vec::new();
        for (i, hits) in self.rcp.iter().enumerate() {
            if hits.allows.is_empty() {
                return Err(DenyReason::Rcp(i));
            }
            guard.extend(hits.allows.iter().map(|(n, s, _)| matched(Layer::Rcp(i), n, s)));
        }
        for (i, hits) in self.scp.iter().enumerate() {
            if hits.allows.is_empty() {
                return Err(DenyReason::Scp(i));
            }
            guard.extend(hits.allows.iter().map(|(n, s, _)| matched(Layer::Scp(i), n, s)));
        }
        Ok(guard)
    }

    /// The resource policy's allows that name the principal at least as `min`.
    fn resource_allows(&self, min: Named) -> Vec<Matched> {
        self.resource
            .allows
            .iter()
            .filter(|(_, _, n)| *n >= min)
            .map(|(p, s, _)| matched(Layer::Resource, p, s))
            .collect()
    }
}

fn decision(
    verdict: Verdict,
    matched: Vec<Matched>,
    reason: Option<DenyReason>,
    notes: Vec<Note>,
) -> Decision {
    Decision { verdict, matched, reason, conditional: false, notes }
}

fn decide(set: &PolicySet, request: &Request<'_>, ev: &Evaluation<'_>) -> Decision {
    // AWS's own rules first: what is always allowed, and what AWS owns.
    if rules::always_allowed(&ev.action_lc) {
        return decision(Verdict::Allow, Vec::new(), None, vec![Note::AlwaysAllowed]);
    }
    let owned = set.resource_owned_by_aws || rules::owned_by_aws(request.resource);
    if owned
        && rules::changes_resource(&ev.action_lc)
        && set.write_actions.is_some_and(|w| w.is_write(request.action))
    {
        return decision(Verdict::ImplicitDeny, Vec::new(), Some(DenyReason::AwsOwned), Vec::new());
    }
    let reach = Reach::of(set, request);
    let hits = LayerHits::scan(set, ev, &reach);
    let mut notes = reach.notes.clone();
    let required = rules::required(&ev.action_lc, request.resource);
    if required == Some(Required::KeyPolicy) && set.resource.is_none() {
        notes.push(Note::DefaultKeyPolicyAssumed);
    }

    // 1. Explicit deny anywhere.
    let denies = hits.denies();
    if !denies.is_empty() {
        return decision(Verdict::ExplicitDeny, denies, None, notes);
    }
    // 2. Organization guardrails: every level must allow.
    let guard = match hits.guardrails() {
        Ok(guard) => guard,
        Err(reason) => return decision(Verdict::ImplicitDeny, Vec::new(), Some(reason), notes),
    };
    match identity_side(set, request, &hits, required, reach.identity) {
        Ok(mut m) => {
            m.extend(guard);
            decision(Verdict::Allow, m, None, notes)
        }
        Err((reason, m)) => decision(Verdict::ImplicitDeny, m, Some(reason), notes),
    }
}

/// Steps 3 to 5: the resource policy's direct grants, the identity side within the boundary and the
/// session policy, and the resource side across accounts. The allowing statements, or why not (with
/// the allows that were not enough).
fn identity_side(
    set: &PolicySet,
    request: &Request<'_>,
    hits: &LayerHits<'_>,
    required: Option<Required>,
    authenticated: bool,
) -> Result<Vec<Matched>, (DenyReason, Vec<Matched>)> {
    let principal = request.principal;
    let principal_account = principal.and_then(|p| p.account.as_deref());
    let cross_account = match (principal_account, resource_account(request)) {
        (Some(p), Some(r)) => p != r,
        _ => false,
    };
    let best_resource = hits.resource.allows.iter().map(|(_, _, n)| *n).max();

    // 3. Same account: a direct grant in the resource policy is enough on its own.
    if !cross_account && best_resource == Some(Named::Direct) {
        return Ok(hits.resource_allows(Named::Direct));
    }

    // 4. The identity side: identity allows (plus same-account grants to the role ARN), within the
    //    boundary and the session policy. A KMS key policy or a trust policy must delegate to the
    //    account for the identity allows to count (AWS's default key policy does).
    if !authenticated {
        return Err((DenyReason::NoAllow, Vec::new()));
    }
    let default_key_policy = required == Some(Required::KeyPolicy) && set.resource.is_none();
    let delegated = match required {
        None => true,
        Some(_) if default_key_policy => true,
        Some(_) => hits.resource.allows.iter().any(|(_, _, n)| *n == Named::Account || cross_account),
    };
    let is_root = principal.is_some_and(|p| p.kind == PrincipalKind::Root)
        && (required.is_none() || default_key_policy);
    let role_grant = !cross_account && best_resource == Some(Named::Role);
    let mut m: Vec<Matched> = if delegated {
        hits.identity.allows.iter().map(|(n, s, _)| matched(Layer::Identity, n, s)).collect()
    } else {
        Vec::new()
    };
    if role_grant {
        m.extend(hits.resource_allows(Named::Role));
    }
    if m.is_empty() && !is_root {
        let reason = match required {
            Some(Required::KeyPolicy) if !delegated => DenyReason::KeyPolicy,
            Some(Required::Trust) if !delegated => DenyReason::Trust,
            _ => DenyReason::NoAllow,
        };
        return Err((reason, Vec::new()));
    }
    if set.boundary.is_some() && !is_root {
        if hits.boundary.allows.is_empty() {
            return Err((DenyReason::Boundary, m));
        }
        m.extend(hits.boundary.allows.iter().map(|(n, s, _)| matched(Layer::Boundary, n, s)));
    }
    if !set.session.is_empty() {
        if hits.session.allows.is_empty() {
            return Err((DenyReason::Session, m));
        }
        m.extend(hits.session.allows.iter().map(|(n, s, _)| matched(Layer::Session, n, s)));
    }

    // 5. Across accounts the resource side must allow too.
    if cross_account {
        if best_resource.is_none() {
            return Err((DenyReason::ResourcePolicy, m));
        }
        m.extend(hits.resource_allows(Named::Account));
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pol(name: &str, json: &str) -> NamedPolicy {
        NamedPolicy::new(name, Policy::parse(json).unwrap())
    }

    fn decide(set: &PolicySet, principal: &str, action: &str, resource: &str) -> Decision {
        let p = Principal::parse(principal).unwrap();
        let ctx = RequestContext::new();
        authorize(
            set,
            &Request { principal: Some(&p), action, resource, context: &ctx, resource_account: None },
        )
    }

    const ALLOW_S3: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"S3","Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
    const USER: &str = "arn:aws:iam::111122223333:user/alice";

    /// "aws:CalledVia" (AWS global condition context keys): the key is present only when a service
    /// calls on the principal's behalf. Known to be absent, a condition on it is decided as for a
    /// missing key (false for `ForAnyValue:StringEquals`), not read as unknown.
    #[test]
    fn keys_known_absent_are_not_unknown() {
        let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:CalledVia":"athena.amazonaws.com"}}}]}"#;
        let set = PolicySet { identity: vec![pol("p", doc)], ..Default::default() };
        let p = Principal::parse(USER).unwrap();
        let run = |ctx: &RequestContext| {
            let request = Request {
                principal: Some(&p),
                action: "s3:GetObject",
                resource: "arn:aws:s3:::b/k",
                context: ctx,
                resource_account: None,
            };
            authorize_with(&set, &request, ConditionMode::Optimistic)
        };
        let unknown = run(&RequestContext::new());
        assert_eq!((unknown.verdict, unknown.conditional), (Verdict::Allow, true));
        let mut direct = RequestContext::new();
        direct.mark_absent("aws:CalledVia");
        let absent = run(&direct);
        assert_eq!((absent.verdict, absent.conditional), (Verdict::ImplicitDeny, false));
    }

    #[test]
    fn identity_allow_and_implicit_deny() {
        let set = PolicySet { identity: vec![pol("p", ALLOW_S3)], ..Default::default() };
        let d = decide(&set, USER, "S3:GetObject", "arn:aws:s3:::b/k");
        assert_eq!(d.verdict, Verdict::Allow);
        assert_eq!(d.matched[0].label(), "S3");
        let d = decide(&set, USER, "ec2:RunInstances", "*");
        assert_eq!((d.verdict, d.reason), (Verdict::ImplicitDeny, Some(DenyReason::NoAllow)));
    }

    #[test]
    fn deny_wins_everywhere() {
        let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:Delete*","Resource":"*"}]}"#;
        let set = PolicySet {
            identity: vec![pol("p", ALLOW_S3)],
            boundary: Some(pol("b", deny)),
            ..Default::default()
        };
        let d = decide(&set, USER, "s3:DeleteObject", "arn:aws:s3:::b/k");
        assert_eq!(d.verdict, Verdict::ExplicitDeny);
        assert_eq!(d.matched[0].layer, Layer::Boundary);
    }

    #[test]
    fn scp_levels_must_all_allow() {
        let all = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        let ec2 =
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}"#;
        let set = PolicySet {
            identity: vec![pol("p", ALLOW_S3)],
            scp: vec![vec![pol("FullAWSAccess", all)], vec![pol("ec2-only", ec2)]],
            ..Default::default()
        };
        let d = decide(&set, USER, "s3:GetObject", "arn:aws:s3:::b/k");
        assert_eq!(d.reason, Some(DenyReason::Scp(1)));
    }

    #[test]
    fn resource_policy_grants_differ_by_principal_form() {
        let boundary =
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}"#;
        let bucket = |principal: &str| {
            pol(
                "bucket",
                &format!(
                    r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}]}}"#
                ),
            )
        };
        let session = "arn:aws:sts::111122223333:assumed-role/r/s";
        let base = PolicySet { boundary: Some(pol("b", boundary)), ..Default::default() };
        let with = |r| PolicySet { resource: Some(r), ..base.clone() };
        // Session ARN: not limited by the boundary.
        assert_eq!(
            decide(&with(bucket(session)), session, "s3:GetObject", "arn:aws:s3:::b/k").verdict,
            Verdict::Allow
        );
        // Role ARN: limited by the boundary.
        let d = decide(
            &with(bucket("arn:aws:iam::111122223333:role/r")),
            session,
            "s3:GetObject",
            "arn:aws:s3:::b/k",
        );
        assert_eq!(d.reason, Some(DenyReason::Boundary));
        // Account root: delegation, no grant by itself.
        let d = decide(
            &with(bucket("arn:aws:iam::111122223333:root")),
            session,
            "s3:GetObject",
            "arn:aws:s3:::b/k",
        );
        assert_eq!(d.reason, Some(DenyReason::NoAllow));
    }

    /// A resource pattern whose account is a wildcard (a witness of an analysis, not a request AWS
    /// would see) is judged in the principal's own account: an identity allow suffices.
    #[test]
    fn a_wildcard_account_is_not_another_account() {
        let allow_logs = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"arn:aws:logs:*:*:*"}]}"#;
        let set = PolicySet { identity: vec![pol("p", allow_logs)], ..Default::default() };
        assert_eq!(decide(&set, USER, "logs:PutLogEvents", "arn:aws:logs:*:*:*").verdict, Verdict::Allow);
        // A concrete other account still needs its resource policy.
        let other = "arn:aws:logs:us-east-1:444455556666:log-group:g:log-stream:s";
        let any = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"*"}]}"#;
        let set = PolicySet { identity: vec![pol("p", any)], ..Default::default() };
        assert_eq!(decide(&set, USER, "logs:PutLogEvents", other).reason, Some(DenyReason::ResourcePolicy));
    }

    #[test]
    fn cross_account_needs_both_sides() {
        let key = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:Decrypt","Resource":"*"}]}"#;
        let allow_kms = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}"#;
        let resource = "arn:aws:kms:us-east-1:444455556666:key/k";
        let set = PolicySet {
            identity: vec![pol("p", allow_kms)],
            resource: Some(pol("key", key)),
            ..Default::default()
        };
        assert_eq!(decide(&set, USER, "kms:Decrypt", resource).verdict, Verdict::Allow);
        let no_identity = PolicySet { identity: vec![], ..set.clone() };
        assert_eq!(decide(&no_identity, USER, "kms:Decrypt", resource).reason, Some(DenyReason::NoAllow));
        let no_resource = PolicySet { resource: None, ..set };
        assert_eq!(
            decide(&no_resource, USER, "kms:Decrypt", resource).reason,
            Some(DenyReason::ResourcePolicy)
        );
    }
}
