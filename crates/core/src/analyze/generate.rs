//! The minimal policy from observed usage, proven against the current grant.
//!
//! Input: what a principal did ([`Usage`], from a CloudTrail replay), the principal's current
//! policies ([`Subject`], when known) and the action [`Catalog`]. Output: a [`Generated`] set of
//! identity-policy documents and the notes that explain them.
//!
//! How it works, per used action:
//!
//! 1. **Resources.** Actions without resource-level permissions get `*`. Otherwise the ARNs named by
//!    the events are summarised by [`Granularity`]: `exact` keeps every ARN, `prefix` (the default)
//!    folds at least [`PREFIX_THRESHOLD`] siblings under one path into `parent/*` (repeatedly, so
//!    many months of keys fold into a year), `wildcard` folds everything under a bucket or parent
//!    path. Every summary remembers what it covers, so it can be undone. Calls whose resource the
//!    events do not name use the resources the current role grants for the action.
//! 2. **Proof (intersection with today's grant).** Every generated (action, resource) is checked
//!    with iamfit's authorizer against the current policy set (identity policies and boundary,
//!    [`ConditionMode::Optimistic`]). An exact ARN is one evaluation. A pattern is proven for *every*
//!    resource it matches: no Deny statement of the current set may overlap it, and the authorizer
//!    must allow witness ARNs in which each wildcard is replaced by 0..=N copies of a character that
//!    no policy contains (a statement that matches such a witness matches every ARN of the pattern,
//!    because the fresh character can only have been consumed by the statement's own wildcards;
//!    allowing statements with `NotResource` must not overlap the pattern at all). A summary that
//!    cannot be proven falls back to what it covers; an ARN that cannot be proven is `missing`.
//! 3. **Statements.** Per service, actions with the same resource list share a statement; actions and
//!    resources are sorted, statements are sorted, Sids are derived from the service and the first
//!    resource (`DynamodbOrders`), so two runs give the same bytes and diffs read well.
//! 4. **Size.** A document over IAM's managed-policy limit (6,144 characters without white space) is
//!    split by service; a service that alone is too large is coarsened (prefix folds of two, then
//!    wildcards), each coarser pattern proven again.
//! 5. **The Lambda service's own needs.** For a function's role, what the service needs for the
//!    function's configuration ([`crate::analyze::service_needs`]: logs, traces, VPC, triggers,
//!    destinations, file systems) is added as statements of its own (`LambdaLogs`,
//!    `LambdaSqsTrigger`, ...), each proven against the current grant the same way (narrowed to the
//!    role's own resources where the role grants only part of it, left out and said where it grants
//!    none), and listed apart in the notes and the report ([`Generated::service_needs`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::account::Subject;
use crate::analyze::service_needs::{Advisory, NeedCondition, ServiceNeed, ServiceNeeds};
use iamfit_catalog::Catalog;
use iamfit_policy::context::RequestContext;
use iamfit_policy::document::Effect;
use iamfit_policy::eval::{
    authorize, authorize_with, ConditionMode, NamedPolicy, PolicySet, Request, Verdict,
};
use iamfit_policy::pattern::variables_as_wildcards;
use iamfit_policy::wildcard;
use iamfit_trail::map::{coverage, Coverage};
use iamfit_trail::usage::Usage;

/// IAM's limit for a managed policy, in characters without white space.
pub const MANAGED_POLICY_LIMIT: usize = 6144;
/// Siblings under one path that `prefix` folds into `path/*`.
pub const PREFIX_THRESHOLD: usize = 3;
/// Wildcards in one pattern beyond which iamfit does not try to prove it (the proof enumerates
/// witness lengths per wildcard).
const MAX_PROVABLE_WILDCARDS: usize = 2;

/// How resource sets are summarised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Granularity {
    /// Every ARN seen, one by one.
    Exact,
    /// Object keys and other paths under a common prefix become `prefix/*` (default).
    #[default]
    Prefix,
    /// Everything under a bucket (or parent path) becomes `bucket/*`.
    Wildcard,
}

/// Options of [`generate`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Resource summarisation.
    pub granularity: Granularity,
    /// Size limit per document (characters without white space).
    pub size_limit: usize,
    /// The principal is a Lambda function's role: the runtime's own actions (CloudWatch Logs, X-Ray)
    /// are listed as unobservable when granted.
    pub lambda_runtime: bool,
    /// What the Lambda service needs for the function's configuration
    /// ([`crate::analyze::service_needs`]): added as their own statements, proven like the rest.
    /// `None` leaves them out (`--no-service-needs`, or a principal that is not a function's role).
    pub service_needs: Option<ServiceNeeds>,
}

/// Actions the Lambda runtime performs with the execution role, outside the function's code.
pub const LAMBDA_RUNTIME_ACTIONS: &[&str] = &[
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
];

impl Default for Options {
    fn default() -> Self {
        Options {
            granularity: Granularity::Prefix,
            size_limit: MANAGED_POLICY_LIMIT,
            lambda_runtime: false,
            service_needs: None,
        }
    }
}

/// One statement of a generated document (always `Allow`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenStatement {
    /// Deterministic Sid (`DynamodbOrders`).
    pub sid: String,
    /// The IAM service prefix.
    pub service: String,
    /// Sorted actions.
    pub actions: Vec<String>,
    /// Sorted resources, as written in the policy (literal `*`, `?` escaped as `${*}`, `${?}`).
    pub resources: Vec<String>,
    /// Conditions (only the Lambda service's statements carry one, such as the EFS access point).
    pub conditions: Vec<NeedCondition>,
}

impl GenStatement {
    /// The `Condition` block: `{operator: {key: [values]}}`, or `None` without conditions.
    pub fn condition_json(&self) -> Option<Value> {
        if self.conditions.is_empty() {
            return None;
        }
        let mut block = serde_json::Map::new();
        for c in &self.conditions {
            let entry = block.entry(c.operator.clone()).or_insert_with(|| json!({}));
            if let Some(map) = entry.as_object_mut() {
                let values = map.entry(c.key.clone()).or_insert_with(|| json!([]));
                if let Some(list) = values.as_array_mut() {
                    list.push(json!(c.value));
                }
            }
        }
        Some(Value::Object(block))
    }

    /// The request context of the statement's conditions (each key with its value).
    fn context(&self) -> RequestContext {
        let mut ctx = RequestContext::new();
        for c in &self.conditions {
            ctx.set(&c.key, c.value.clone());
        }
        ctx
    }
}

/// One generated policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenDocument {
    /// Services it covers (for names of split policies).
    pub services: Vec<String>,
    /// The statements.
    pub statements: Vec<GenStatement>,
}

impl GenDocument {
    /// The IAM JSON value (`Version` 2012-10-17; `Action` and `Resource` always lists).
    pub fn to_json(&self) -> Value {
        let statements: Vec<Value> = self
            .statements
            .iter()
            .map(|s| {
                let mut v =
                    json!({"Sid": s.sid, "Effect": "Allow", "Action": s.actions, "Resource": s.resources});
                if let Some(c) = s.condition_json() {
                    v["Condition"] = c;
                }
                v
            })
            .collect();
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    /// Size as IAM counts it: characters of the JSON without white space.
    pub fn size(&self) -> usize {
        policy_size(&serde_json::to_string(&self.to_json()).unwrap_or_default())
    }
}

/// Characters of a policy text without white space (IAM's size measure).
pub fn policy_size(text: &str) -> usize {
    text.chars().filter(|c| !c.is_whitespace()).count()
}

/// A used call the generated policy leaves out.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Missing {
    /// The action.
    pub action: String,
    /// The resource (ARN, `*`, or empty when the events did not name it).
    pub resource: String,
    /// Why it is missing.
    pub reason: String,
}

/// A used call the generated identity policy allows but a resource-based policy would still block
/// (a KMS key policy without root delegation, a bucket policy's Deny, ...): missing on that layer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ResourceLayerMissing {
    /// The action.
    pub action: String,
    /// The resource called.
    pub resource: String,
    /// The layer that blocks: always `resource`.
    pub layer: &'static str,
    /// The resource policy that blocks (`kms policy of ARN`, `s3 policy of ARN`).
    pub policy: String,
    /// Why, in words.
    pub reason: String,
    /// The statement the resource policy would need (an Allow naming the principal).
    pub statement: Value,
    /// For an explicit Deny: the denying statement (its Sid or `#index`), which must stop matching
    /// the principal; the Allow alone does not help.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denied_by: Option<String>,
}

/// A granted action CloudTrail cannot show in use: kept out of the policy, listed for review.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unobservable {
    /// The action.
    pub action: String,
    /// What the current role grants it on.
    pub resources: Vec<String>,
    /// Why CloudTrail cannot show it.
    pub reason: String,
}

/// What was proven.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Proof {
    /// Whether the current grant was known (otherwise nothing was checked against it).
    pub current_known: bool,
    /// Distinct successful (action, resource) calls observed.
    pub used_calls: usize,
    /// Of those, how many the generated policy allows (evaluated with iamfit's authorizer).
    pub used_calls_allowed: usize,
    /// Generated (action, resource) pairs proven to be allowed by the current grant.
    pub checked_against_current: usize,
    /// Generated (action, resource) pairs the current grant does not cover (0 by construction).
    pub broader_than_current: usize,
    /// Generated pairs whose current grant depends on conditions (`action on resource`).
    pub conditional: Vec<String>,
}

/// The result of [`generate`].
#[derive(Debug, Clone, Default)]
pub struct Generated {
    /// The documents: one, or several when the policy had to be split.
    pub documents: Vec<GenDocument>,
    /// The proof figures.
    pub proof: Proof,
    /// Used calls left out (not granted today, denied, unknown action).
    pub missing: Vec<Missing>,
    /// Used calls the generated policy allows that a resource-based policy would still block.
    pub missing_in_resource_policies: Vec<ResourceLayerMissing>,
    /// Granted actions CloudTrail cannot show in use.
    pub unobservable: Vec<Unobservable>,
    /// Whether the policy was split into several documents.
    pub split: bool,
    /// Notes for the user.
    pub notes: Vec<String>,
    /// What the Lambda service needs for the function's configuration, and what became of each.
    pub service_needs: Vec<NeedOutcome>,
    /// What the configuration needs outside the role (key and repository policies).
    pub advisories: Vec<Advisory>,
}

/// What became of one permission the Lambda service needs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NeedOutcome {
    /// The action.
    pub action: String,
    /// The resource the configuration names.
    pub resource: String,
    /// The condition of its statement, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<NeedCondition>,
    /// The Sid of the statement that holds it (empty when it is not in the policy).
    pub sid: String,
    /// Why the Lambda service needs it.
    pub reason: String,
    /// The AWS page that documents it.
    pub citation: String,
    /// `included` (proven against the current grant), `included-unproven` (the current grant is
    /// unknown), `narrowed` (the current grant covers only part of it: its own resources are used) or
    /// `not-granted` (the current role does not allow it: left out).
    pub status: &'static str,
    /// The resources the policy grants it on.
    pub granted_as: Vec<String>,
}

impl Generated {
    /// Statements over all documents.
    pub fn statement_count(&self) -> usize {
        self.documents.iter().map(|d| d.statements.len()).sum()
    }

    /// Whether some statement comes from the evidence of the code's calls (not only from what the
    /// Lambda service needs for the function's configuration).
    pub fn has_code_statements(&self) -> bool {
        let service: BTreeSet<&str> = self.service_needs.iter().map(|n| n.sid.as_str()).collect();
        self.documents.iter().flat_map(|d| d.statements.iter()).any(|s| !service.contains(s.sid.as_str()))
    }
}

// ---------------------------------------------------------------------------------------------------
// Resource patterns

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Tok {
    Lit(String),
    Star,
    One,
}

/// A resource pattern as tokens, so that literal `*` in an ARN and the wildcard `*` stay apart.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Pat(Vec<Tok>);

impl Pat {
    #[cfg(test)]
    fn exact(text: &str) -> Pat {
        Pat(vec![Tok::Lit(text.to_string())])
    }
    fn prefix(text: &str) -> Pat {
        if text.is_empty() {
            Pat(vec![Tok::Star])
        } else {
            Pat(vec![Tok::Lit(text.to_string()), Tok::Star])
        }
    }
    /// A pattern from policy text (`*`, `?` are wildcards; `${*}`, `${?}`, `${$}` escapes).
    fn from_policy(text: &str) -> Pat {
        let mut toks = Vec::new();
        let mut lit = String::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            let esc = ["${*}", "${?}", "${$}"].iter().find(|e| rest.starts_with(**e));
            if let Some(e) = esc {
                // `${*}` stands for a literal `*` (and so on): the third character of the escape.
                lit.extend(e.chars().nth(2));
                rest = rest.get(e.len()..).unwrap_or_default();
                continue;
            }
            match c {
                '*' | '?' => {
                    if !lit.is_empty() {
                        toks.push(Tok::Lit(std::mem::take(&mut lit)));
                    }
                    toks.push(if c == '*' { Tok::Star } else { Tok::One });
                }
                _ => lit.push(c),
            }
            rest = rest.get(c.len_utf8()..).unwrap_or_default();
        }
        if !lit.is_empty() || toks.is_empty() {
            toks.push(Tok::Lit(lit));
        }
        Pat(toks)
    }
    fn is_exact(&self) -> bool {
        self.0.iter().all(|t| matches!(t, Tok::Lit(_)))
    }
    fn literal(&self) -> String {
        self.0.iter().map(|t| if let Tok::Lit(s) = t { s.as_str() } else { "" }).collect()
    }
    fn stars(&self) -> usize {
        self.0.iter().filter(|t| matches!(t, Tok::Star)).count()
    }
    /// The text for a policy: literal wildcard characters escaped.
    fn render(&self) -> String {
        let mut out = String::new();
        for t in &self.0 {
            match t {
                Tok::Star => out.push('*'),
                Tok::One => out.push('?'),
                Tok::Lit(s) => {
                    let mut chars = s.chars().peekable();
                    while let Some(c) = chars.next() {
                        match c {
                            '*' => out.push_str("${*}"),
                            '?' => out.push_str("${?}"),
                            '$' if chars.peek() == Some(&'{') => out.push_str("${$}"),
                            _ => out.push(c),
                        }
                    }
                }
            }
        }
        out
    }
    /// The pattern for wildcard overlap tests (literal wildcard characters read as wildcards: an
    /// over-approximation, which is the safe side for deny overlap).
    fn glob(&self) -> String {
        self.0
            .iter()
            .map(|t| match t {
                Tok::Lit(s) => s.clone(),
                Tok::Star => "*".into(),
                Tok::One => "?".into(),
            })
            .collect()
    }
    /// The pattern with each `*` replaced by `fresh` repeated `lens[i]` times and `?` by `fresh`.
    fn witness(&self, lens: &[usize], fresh: char) -> String {
        let mut out = String::new();
        let mut star = 0;
        for t in &self.0 {
            match t {
                Tok::Lit(s) => out.push_str(s),
                Tok::One => out.push(fresh),
                Tok::Star => {
                    out.extend(std::iter::repeat_n(fresh, lens.get(star).copied().unwrap_or(0)));
                    star += 1;
                }
            }
        }
        out
    }
    /// Whether every text of `other` (an exact ARN) is matched.
    fn covers_exact(&self, text: &str) -> bool {
        if self.is_exact() {
            return self.literal() == text;
        }
        let mut pieces = Vec::new();
        for t in &self.0 {
            pieces.push(match t {
                Tok::Lit(s) => wildcard::Piece::Literal(s.as_str()),
                Tok::Star => wildcard::Piece::Star,
                Tok::One => wildcard::Piece::One,
            });
        }
        wildcard::matches_pieces(&pieces, text)
    }
}

// ---------------------------------------------------------------------------------------------------
// The prover

/// Proves generated (action, resource) pairs against a current policy set.
struct Prover<'a> {
    subject: &'a Subject,
    /// The identity side and boundary only: what the generated identity policy replaces and what
    /// still limits it.
    set: PolicySet,
    fresh: char,
    max_len: usize,
}

/// The result of one proof.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Proven {
    /// Allowed today; `true` when the grant depends on conditions.
    Yes(bool),
    /// Not allowed today, with the reason.
    No(String),
}

impl<'a> Prover<'a> {
    fn new(subject: &'a Subject) -> Self {
        let p = &subject.policies;
        let set = PolicySet { resource: None, rcp: Vec::new(), ..p.clone() };
        let mut text = String::new();
        let mut max_len = 0;
        for named in all_policies(&set) {
            for st in &named.policy.statements {
                for e in st.resource.iter().flat_map(|r| r.entries.iter()) {
                    text.push_str(&e.raw);
                    max_len = max_len.max(e.raw.chars().count());
                }
            }
        }
        for (_, v) in subject.principal.implicit_context().iter() {
            for s in v.values() {
                text.push_str(s);
            }
        }
        let fresh = ['\u{1}', '\u{2}', '\u{3}', '\u{4}', '\u{5}', '\u{E000}']
            .into_iter()
            .find(|c| !text.contains(*c))
            .unwrap_or('\u{E001}');
        Prover { subject, set, fresh, max_len: max_len + 2 }
    }

    fn eval(&self, action: &str, resource: &str, context: &RequestContext) -> iamfit_policy::eval::Decision {
        let request = Request {
            principal: Some(&self.subject.principal),
            action,
            resource,
            context,
            resource_account: None,
        };
        authorize_with(&self.set, &request, ConditionMode::Optimistic)
    }

    fn prove(&self, action: &str, pat: &Pat, resource_level: bool) -> Proven {
        self.prove_in(action, pat, resource_level, &RequestContext::new())
    }

    /// [`Prover::prove`] for requests that carry `context` (the condition keys of a statement).
    fn prove_in(&self, action: &str, pat: &Pat, resource_level: bool, context: &RequestContext) -> Proven {
        if !resource_level || pat.is_exact() {
            // Without resource-level permissions the request's resource is `*` itself.
            let text = if resource_level { pat.literal() } else { "*".to_string() };
            let d = self.eval(action, &text, context);
            return match d.verdict {
                Verdict::Allow => Proven::Yes(d.conditional),
                v => Proven::No(format!("the current policies give {v}")),
            };
        }
        let action_lc = action.to_ascii_lowercase();
        let service_lc = action_lc.split(':').next().unwrap_or("").to_string();
        let glob = pat.glob();
        // An explicit Deny that may touch any resource of the pattern: not provable as a pattern.
        for named in all_policies(&self.set) {
            for st in &named.policy.statements {
                if st.effect != Effect::Deny || !st.action.matches_lowercase(&action_lc, &service_lc) {
                    continue;
                }
                let overlaps = match &st.resource {
                    Some(r) if !r.negated => {
                        r.entries.iter().any(|e| wildcard::overlap(&variables_as_wildcards(&e.raw), &glob))
                    }
                    _ => true,
                };
                if overlaps {
                    return Proven::No(format!(
                        "the Deny statement {} of {} overlaps {}",
                        st.label(),
                        named.name,
                        pat.render()
                    ));
                }
            }
        }
        let stars = pat.stars();
        if stars > MAX_PROVABLE_WILDCARDS {
            return Proven::No(format!("{} has too many wildcards to prove", pat.render()));
        }
        let n = self.max_len;
        let mut lens = vec![0usize; stars];
        let mut conditional = false;
        loop {
            let witness = pat.witness(&lens, self.fresh);
            let d = self.eval(action, &witness, context);
            if d.verdict != Verdict::Allow {
                return Proven::No(format!(
                    "the current policies do not allow all of {} ({})",
                    pat.render(),
                    d.verdict
                ));
            }
            conditional |= d.conditional;
            for m in &d.matched {
                let st = m.statement();
                if st.effect != Effect::Allow {
                    continue;
                }
                if let Some(r) = &st.resource {
                    if r.negated
                        && r.entries.iter().any(|e| wildcard::overlap(&variables_as_wildcards(&e.raw), &glob))
                    {
                        return Proven::No(format!(
                            "{} is allowed through NotResource in {}, which excludes part of it",
                            pat.render(),
                            m.label()
                        ));
                    }
                }
            }
            // Next length tuple.
            let mut i = 0;
            loop {
                if i == stars {
                    return Proven::Yes(conditional);
                }
                if lens[i] < n {
                    lens[i] += 1;
                    break;
                }
                lens[i] = 0;
                i += 1;
            }
        }
    }
}

fn all_policies(set: &PolicySet) -> impl Iterator<Item = &NamedPolicy> {
    set.identity
        .iter()
        .chain(set.boundary.iter())
        .chain(set.session.iter())
        .chain(set.scp.iter().flatten())
        .chain(set.resource.iter())
        .chain(set.rcp.iter().flatten())
}

// ---------------------------------------------------------------------------------------------------
// Summarisation

/// A resource of the generated policy and what it stands for (the finer items it summarises).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Item {
    pat: Pat,
    children: Vec<Item>,
}

impl Item {
    fn leaf(pat: Pat) -> Item {
        Item { pat, children: Vec::new() }
    }
    fn count_leaves(&self) -> usize {
        if self.children.is_empty() {
            1
        } else {
            self.children.iter().map(Item::count_leaves).sum()
        }
    }
}

/// Where the resource part of an ARN starts (after the fifth colon), if it is an ARN.
fn resource_start(arn: &str) -> Option<usize> {
    if !arn.starts_with("arn:") {
        return None;
    }
    arn.char_indices().filter(|(_, c)| *c == ':').nth(4).map(|(i, _)| i + 1)
}

fn is_s3(arn: &str) -> bool {
    arn.split(':').nth(2) == Some("s3")
}

/// The enclosing path of an item (`arn:aws:s3:::b/x/y/` for `.../b/x/y/k` or `.../b/x/y/z/*`), when
/// folding into it stays inside a bucket or a named parent (`table/orders/`, not `table/`).
fn parent(text: &str) -> Option<String> {
    let start = resource_start(text)?;
    let trimmed = text.strip_suffix('/').unwrap_or(text);
    let cut = trimmed.get(start..)?.rfind('/')? + start;
    let parent = text.get(..=cut)?;
    let depth = parent.get(start..)?.matches('/').count();
    let min = if is_s3(text) { 1 } else { 2 };
    (depth >= min).then(|| parent.to_string())
}

/// The text an item folds from: the ARN, or the prefix of `prefix*`.
fn fold_text(item: &Item) -> Option<String> {
    match item.pat.0.as_slice() {
        [Tok::Lit(s)] => Some(s.clone()),
        [Tok::Lit(s), Tok::Star] if s.ends_with('/') => Some(s.trim_end_matches('/').to_string() + "/"),
        _ => None,
    }
}

fn fold(items: Vec<Item>, threshold: usize) -> Vec<Item> {
    let mut items = items;
    loop {
        let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, item) in items.iter().enumerate() {
            let Some(text) = fold_text(item) else { continue };
            let key = if text.ends_with('/') { parent(text.trim_end_matches('/')) } else { parent(&text) };
            if let Some(p) = key {
                groups.entry(p).or_default().push(i);
            }
        }
        let Some((p, members)) = groups.into_iter().find(|(_, m)| m.len() >= threshold) else {
            return items;
        };
        let mut children = Vec::new();
        let mut rest = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            if members.contains(&i) {
                children.push(item);
            } else {
                rest.push(item);
            }
        }
        rest.push(Item { pat: Pat::prefix(&p), children });
        rest.sort_by(|a, b| a.pat.cmp(&b.pat));
        items = rest;
    }
}

/// The top folder of an ARN for `wildcard` (`bucket/` for S3, the enclosing path otherwise).
fn top(arn: &str) -> Option<String> {
    let start = resource_start(arn)?;
    if is_s3(arn) {
        let slash = arn.get(start..)?.find('/')? + start;
        return arn.get(..=slash).map(str::to_string);
    }
    let slash = arn.get(start..)?.rfind('/')? + start;
    arn.get(..=slash).map(str::to_string)
}

fn summarise(resources: &BTreeSet<String>, granularity: Granularity, threshold: usize) -> Vec<Item> {
    let leaves: Vec<Item> = resources
        .iter()
        // The trail mapping writes wildcards on purpose where a record hides part of an ARN
        // (`secret:NAME-??????`): resources are read as policy patterns.
        .map(|r| Item::leaf(Pat::from_policy(r)))
        .collect();
    match granularity {
        Granularity::Exact => leaves,
        Granularity::Prefix => fold(leaves, threshold),
        Granularity::Wildcard => {
            let folded = fold(leaves, threshold);
            let mut groups: BTreeMap<Option<String>, Vec<Item>> = BTreeMap::new();
            for item in folded {
                let key = top(&item.pat.literal());
                groups.entry(key).or_default().push(item);
            }
            let mut out = Vec::new();
            for (key, items) in groups {
                match key {
                    Some(t) => {
                        if let [only] = items.as_slice() {
                            if only.pat == Pat::prefix(&t) {
                                out.push(only.clone());
                                continue;
                            }
                        }
                        out.push(Item { pat: Pat::prefix(&t), children: items })
                    }
                    None => out.extend(items),
                }
            }
            out.sort_by(|a, b| a.pat.cmp(&b.pat));
            out
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Generation

/// What was decided for one action.
#[derive(Debug, Clone, Default)]
struct ActionPlan {
    resources: BTreeSet<Pat>,
    /// (action, resource) pairs proven.
    proven: usize,
    conditional: Vec<String>,
    missing: Vec<Missing>,
    notes: Vec<String>,
}

struct Ctx<'a> {
    usage: &'a Usage,
    prover: Option<Prover<'a>>,
    granted: BTreeMap<String, Vec<String>>,
    catalog: &'a Catalog,
}

impl Ctx<'_> {
    fn plan(&self, action: &str, granularity: Granularity, threshold: usize) -> ActionPlan {
        let mut plan = ActionPlan::default();
        let Some(a) = self.usage.actions.get(action) else { return plan };
        let resource_level =
            self.catalog.action(action).is_none_or(|r| r.supports_resource_level_permissions());
        let mut items: Vec<Item> = if resource_level {
            summarise(&a.resources.set, granularity, threshold)
        } else {
            vec![Item::leaf(Pat::prefix(""))]
        };
        if resource_level && a.resources.unknown > 0 {
            match (&self.prover, self.granted.get(action)) {
                (Some(_), Some(granted)) if !granted.is_empty() => {
                    plan.notes.push(format!(
                        "{action}: {} call(s) did not name their resource; the policy uses what the current role grants for it ({})",
                        a.resources.unknown,
                        granted.join(", ")
                    ));
                    items.extend(granted.iter().map(|g| Item::leaf(Pat::from_policy(g))));
                }
                (Some(_), _) => plan.missing.push(Missing {
                    action: action.to_string(),
                    resource: String::new(),
                    reason: format!("{} call(s) did not name their resource and the current role grants the action on nothing", a.resources.unknown),
                }),
                (None, _) => {
                    plan.notes.push(format!(
                        "{action}: {} call(s) did not name their resource and the current grant is unknown: the policy uses \"*\"; narrow it by hand",
                        a.resources.unknown
                    ));
                    items.push(Item::leaf(Pat::prefix("")));
                }
            }
        }
        if a.resources.truncated {
            plan.notes.push(format!(
                "{action}: more than {} distinct resources were seen; only the first ones are listed (prefix summaries may still cover the others)",
                iamfit_trail::usage::MAX_RESOURCES
            ));
        }
        let mut stack: Vec<Item> = items.into_iter().rev().collect();
        while let Some(item) = stack.pop() {
            let verdict = match &self.prover {
                Some(p) => p.prove(action, &item.pat, resource_level),
                None => Proven::Yes(false),
            };
            match verdict {
                Proven::Yes(conditional) => {
                    if self.prover.is_some() {
                        plan.proven += 1;
                    }
                    if conditional {
                        plan.conditional.push(format!("{action} on {}", shown(&item.pat, resource_level)));
                    }
                    plan.resources.insert(if resource_level { item.pat } else { Pat::prefix("") });
                }
                Proven::No(why) if !item.children.is_empty() => {
                    plan.notes.push(format!(
                        "{action}: kept the {} resources under {} apart: {why}",
                        item.count_leaves(),
                        item.pat.render()
                    ));
                    stack.extend(item.children.into_iter().rev());
                }
                Proven::No(why) => plan.missing.push(Missing {
                    action: action.to_string(),
                    resource: shown(&item.pat, resource_level),
                    reason: format!("used, but not granted by the current role: {why}"),
                }),
            }
        }
        // An exact ARN that a kept pattern covers adds nothing.
        let patterns: Vec<Pat> = plan.resources.iter().filter(|p| !p.is_exact()).cloned().collect();
        plan.resources.retain(|p| !p.is_exact() || !patterns.iter().any(|q| q.covers_exact(&p.literal())));
        plan
    }
}

fn shown(pat: &Pat, resource_level: bool) -> String {
    if resource_level {
        pat.render()
    } else {
        "*".into()
    }
}

/// `dynamodb` -> `Dynamodb`; `orders-invoices/x` -> `OrdersInvoicesX`.
fn camel(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            cs.next().map(|c| c.to_ascii_uppercase().to_string() + cs.as_str()).unwrap_or_default()
        })
        .collect()
}

/// The name part of a resource for a Sid: the table of `table/orders/index/x`, the bucket of an S3
/// ARN, the queue of an SQS ARN; `All` for `*`.
fn resource_label(resource: &str) -> String {
    let Some(start) = resource_start(resource) else { return "All".into() };
    let part = resource.get(start..).unwrap_or_default();
    let pieces: Vec<&str> = part.split(['/', ':']).filter(|p| !p.is_empty() && !p.contains('*')).collect();
    let name = if is_s3(resource) {
        pieces.first().copied()
    } else if pieces.len() >= 2 {
        pieces.get(1).copied()
    } else {
        pieces.first().copied()
    };
    let mut label = camel(name.unwrap_or("All"));
    if label.starts_with(|c: char| c.is_ascii_digit()) {
        // Key ids and other generated names: the type and a short prefix (`KmsKey1234abcd`).
        let kind = if is_s3(resource) { "" } else { pieces.first().copied().unwrap_or("") };
        label = camel(kind) + &label.chars().take(8).collect::<String>();
    }
    let label: String = label.chars().take(40).collect();
    if label.is_empty() {
        "All".into()
    } else {
        label
    }
}

fn statements_for(plans: &BTreeMap<String, ActionPlan>) -> Vec<GenStatement> {
    // (service, resources) -> actions
    let mut groups: BTreeMap<(String, Vec<String>), Vec<String>> = BTreeMap::new();
    for (action, plan) in plans {
        if plan.resources.is_empty() {
            continue;
        }
        let service = action.split(':').next().unwrap_or("").to_string();
        let mut resources: Vec<String> = plan.resources.iter().map(Pat::render).collect();
        resources.sort();
        groups.entry((service, resources)).or_default().push(action.clone());
    }
    let mut out: Vec<GenStatement> = groups
        .into_iter()
        .map(|((service, resources), mut actions)| {
            actions.sort();
            GenStatement { sid: String::new(), service, actions, resources, conditions: Vec::new() }
        })
        .collect();
    out.sort_by(|a, b| (&a.service, &a.resources, &a.actions).cmp(&(&b.service, &b.resources, &b.actions)));
    let mut used: BTreeMap<String, usize> = BTreeMap::new();
    for s in &mut out {
        let base = format!("{}{}", camel(&s.service), resource_label(&s.resources[0]));
        let n = used.entry(base.clone()).or_default();
        *n += 1;
        s.sid = if *n == 1 { base } else { format!("{base}{n}") };
    }
    out
}

/// Generates the minimal policy. `current` is the principal's current grant (its identity policies
/// and boundary); without it nothing can be proven against today's grant, and the notes say so.
pub fn generate(usage: &Usage, current: Option<&Subject>, catalog: &Catalog, options: &Options) -> Generated {
    let mut g = Generated::default();
    let ctx =
        Ctx { usage, prover: current.map(Prover::new), granted: granted_map(current, catalog), catalog };
    g.proof.current_known = current.is_some();
    let mut plans = plan_actions(&ctx, options, &mut g);
    g.documents = documents(&ctx, &mut plans, options, &mut g);
    g.documents.retain(|d| !d.statements.is_empty());
    add_service_needs(&ctx, options, &mut g);
    for plan in plans.values() {
        g.proof.checked_against_current += plan.proven;
        g.proof.conditional.extend(plan.conditional.iter().cloned());
        g.missing.extend(plan.missing.iter().cloned());
        g.notes.extend(plan.notes.iter().cloned());
    }
    add_denied(usage, &mut g);
    g.missing.sort_by(|a, b| (&a.action, &a.resource).cmp(&(&b.action, &b.resource)));
    g.missing.dedup();
    prove_used_calls(usage, current, catalog, &mut g);
    if let Some(subject) = current {
        prove_resource_layers(usage, subject, catalog, &mut g);
    }
    prove_against_current(&ctx, &mut g);
    add_proof_notes(usage, current, catalog, options, &mut g);
    g
}

/// What the current grant allows (or allows under conditions), by action.
fn granted_map(current: Option<&Subject>, catalog: &Catalog) -> BTreeMap<String, Vec<String>> {
    current
        .map(|s| {
            crate::analyze::effective::effective_permissions(s, catalog)
                .into_iter()
                .map(|e| {
                    let mut r = e.allowed;
                    r.extend(e.conditional);
                    (e.action, r)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The usage's key for an action in catalog casing.
fn usage_key(usage: &Usage, canonical: &str) -> String {
    usage.actions.keys().find(|k| k.eq_ignore_ascii_case(canonical)).cloned().unwrap_or_default()
}

/// A plan per used action, in catalog casing; unknown actions are reported, never put in the policy.
fn plan_actions(ctx: &Ctx<'_>, options: &Options, g: &mut Generated) -> BTreeMap<String, ActionPlan> {
    let mut plans = BTreeMap::new();
    for name in ctx.usage.actions.keys() {
        match ctx.catalog.action(name) {
            Some(a) => {
                let action = a.full_name();
                let plan = ctx.plan(&usage_key(ctx.usage, &action), options.granularity, PREFIX_THRESHOLD);
                plans.insert(action, plan);
            }
            None => g.missing.push(Missing {
                action: name.clone(),
                resource: String::new(),
                reason: "not in iamfit's action catalog (iamfit catalog update may know it)".into(),
            }),
        }
    }
    plans
}

/// The plans of one service.
fn service_plans(plans: &BTreeMap<String, ActionPlan>, service: &str) -> BTreeMap<String, ActionPlan> {
    plans
        .iter()
        .filter(|(a, _)| a.split(':').next() == Some(service))
        .map(|(a, p)| (a.clone(), p.clone()))
        .collect()
}

/// The documents: one when it fits IAM's size limit, else split by service (a service that alone is
/// too large coarsened, proven again).
fn documents(
    ctx: &Ctx<'_>,
    plans: &mut BTreeMap<String, ActionPlan>,
    options: &Options,
    g: &mut Generated,
) -> Vec<GenDocument> {
    let services: BTreeSet<String> =
        plans.keys().filter_map(|a| a.split(':').next()).map(str::to_string).collect();
    let whole =
        GenDocument { services: services.iter().cloned().collect(), statements: statements_for(plans) };
    if whole.size() <= options.size_limit {
        return vec![whole];
    }
    g.split = true;
    let mut parts: Vec<GenDocument> = Vec::new();
    for service in services {
        let doc = service_document(ctx, plans, &service, options, g);
        // Pack into the last part when it fits.
        match parts.last_mut() {
            Some(last) => {
                let mut merged = last.clone();
                merged.services.extend(doc.services.iter().cloned());
                merged.statements.extend(doc.statements.iter().cloned());
                if merged.size() <= options.size_limit {
                    *last = merged;
                } else {
                    parts.push(doc);
                }
            }
            None => parts.push(doc),
        }
    }
    g.notes.push(format!(
        "the policy is {} characters, over IAM's {}-character limit for a managed policy: split by service into {} managed policies",
        whole.size(),
        options.size_limit,
        parts.len()
    ));
    // Sids stay unique per document; they were derived per service.
    parts
}

/// One service's document, coarsened step by step while it is over the size limit.
fn service_document(
    ctx: &Ctx<'_>,
    plans: &mut BTreeMap<String, ActionPlan>,
    service: &str,
    options: &Options,
    g: &mut Generated,
) -> GenDocument {
    let mut sub = service_plans(plans, service);
    let mut doc = GenDocument { services: vec![service.to_string()], statements: statements_for(&sub) };
    for (granularity, threshold, what) in [
        (Granularity::Prefix, 2, "folded paths shared by two or more resources"),
        (Granularity::Wildcard, 2, "used bucket- and path-wide wildcards"),
    ] {
        if doc.size() <= options.size_limit {
            break;
        }
        for action in sub.clone().keys() {
            sub.insert(action.clone(), ctx.plan(&usage_key(ctx.usage, action), granularity, threshold));
        }
        doc = GenDocument { services: vec![service.to_string()], statements: statements_for(&sub) };
        g.notes.push(format!(
            "the {service} statements alone exceeded {} characters: coarsened them ({what}), each pattern proven again",
            options.size_limit
        ));
        for (a, p) in &sub {
            plans.insert(a.clone(), p.clone());
        }
    }
    if doc.size() > options.size_limit {
        g.notes.push(format!(
            "the {service} statements are still {} characters, over the {} limit: split them by hand or use --granularity wildcard",
            doc.size(),
            options.size_limit
        ));
    }
    doc
}

// ---------------------------------------------------------------------------------------------------
// What the Lambda service needs (the function's configuration)

/// Adds the permissions the Lambda service needs for the function's configuration as their own
/// statements (Sids that say why: `LambdaLogs`, `LambdaSqsTrigger`, ...), each proven against the
/// current grant like the rest: a need the current role allows is included as it is; one it allows
/// only in part is narrowed to the role's own resources inside it; one it does not allow is left out
/// and said. Without a current grant they are included unproven.
fn add_service_needs(ctx: &Ctx<'_>, options: &Options, g: &mut Generated) {
    let Some(needs) = &options.service_needs else { return };
    g.advisories = needs.advisories.clone();
    g.service_needs = needs.needs.iter().map(|n| need_outcome(ctx, n)).collect();
    let statements = need_statements(&mut g.service_needs, &g.documents);
    if statements.is_empty() {
        add_need_notes(g);
        return;
    }
    for st in &g.service_needs {
        if st.status == "included" || st.status == "narrowed" {
            g.proof.checked_against_current += st.granted_as.len();
        }
    }
    let services: Vec<String> = vec!["lambda-service".to_string()];
    match g.documents.last_mut() {
        Some(last) => {
            let mut merged = last.clone();
            merged.statements.extend(statements.iter().cloned());
            if merged.size() <= options.size_limit {
                merged.services.extend(services);
                *last = merged;
            } else {
                g.documents.push(GenDocument { services, statements });
                g.split = true;
                g.notes.push(format!(
                    "the Lambda service's statements do not fit in the last document ({} characters at most): they are a managed policy of their own",
                    options.size_limit
                ));
            }
        }
        None => g.documents.push(GenDocument { services, statements }),
    }
    add_need_notes(g);
}

/// One need proven against the current grant.
fn need_outcome(ctx: &Ctx<'_>, need: &ServiceNeed) -> NeedOutcome {
    let mut outcome = NeedOutcome {
        action: need.action.clone(),
        resource: need.resource.clone(),
        condition: need.condition.clone(),
        // The rule's Sid until `need_statements` makes it unique (or clears it when left out).
        sid: need.sid.clone(),
        reason: need.reason.clone(),
        citation: need.citation.clone(),
        status: "included-unproven",
        granted_as: vec![need.resource.clone()],
    };
    let Some(prover) = &ctx.prover else { return outcome };
    let rl = ctx.catalog.action(&need.action).is_none_or(|a| a.supports_resource_level_permissions());
    let context = need.context();
    if let Proven::Yes(_) = prover.prove_in(&need.action, &Pat::from_policy(&need.resource), rl, &context) {
        outcome.status = "included";
        return outcome;
    }
    // The role's own resources for the action that lie inside the need (`log-group:G:log-stream:*`
    // inside `log-group:G:*`), each proven.
    let inside: Vec<String> = ctx
        .granted
        .iter()
        .filter(|(a, _)| a.eq_ignore_ascii_case(&need.action))
        .flat_map(|(_, rs)| rs.iter())
        .filter(|r| *r != &need.resource && wildcard::matches(&need.resource, r))
        .filter(|r| {
            matches!(prover.prove_in(&need.action, &Pat::from_policy(r), rl, &context), Proven::Yes(_))
        })
        .cloned()
        .collect();
    outcome.status = if inside.is_empty() { "not-granted" } else { "narrowed" };
    outcome.granted_as = inside;
    outcome
}

/// The statements of the included needs: per Sid, condition and resource list, the actions; Sids made
/// unique against the documents' own (a repeated Sid takes its first resource's name, then a number).
fn need_statements(outcomes: &mut [NeedOutcome], documents: &[GenDocument]) -> Vec<GenStatement> {
    type Key = (String, Option<NeedCondition>, Vec<String>);
    let mut groups: Vec<(Key, Vec<usize>)> = Vec::new();
    // Grouped in derivation order (the reviewed rules' order), by the rule's Sid.
    for (i, o) in outcomes.iter_mut().enumerate() {
        if o.granted_as.is_empty() {
            o.sid.clear();
            continue;
        }
        let mut resources = o.granted_as.clone();
        resources.sort();
        let key = (o.sid.clone(), o.condition.clone(), resources);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(i),
            None => groups.push((key, vec![i])),
        }
    }
    let mut taken: BTreeSet<String> =
        documents.iter().flat_map(|d| d.statements.iter().map(|s| s.sid.clone())).collect();
    let mut out = Vec::new();
    for ((base, condition, resources), members) in groups {
        let mut actions: Vec<String> = members.iter().map(|&i| outcomes[i].action.clone()).collect();
        actions.sort();
        actions.dedup();
        let mut sid = base.clone();
        if taken.contains(&sid) {
            sid = format!("{base}{}", resource_label(resources.first().map(String::as_str).unwrap_or("*")));
        }
        let mut n = 2;
        while taken.contains(&sid) {
            sid = format!("{base}{n}");
            n += 1;
        }
        taken.insert(sid.clone());
        for &i in &members {
            outcomes[i].sid = sid.clone();
        }
        let service = actions.first().and_then(|a| a.split(':').next()).unwrap_or("").to_string();
        out.push(GenStatement {
            sid,
            service,
            actions,
            resources,
            conditions: condition.into_iter().collect(),
        });
    }
    out
}

/// The notes that list the Lambda service's statements apart, and what the role does not grant.
fn add_need_notes(g: &mut Generated) {
    let included: Vec<&NeedOutcome> = g.service_needs.iter().filter(|o| !o.granted_as.is_empty()).collect();
    if !included.is_empty() {
        let mut sids: Vec<&str> = included.iter().map(|o| o.sid.as_str()).collect();
        sids.dedup();
        let unproven = if included.iter().any(|o| o.status == "included-unproven") {
            " (unproven: the current grant is unknown)"
        } else {
            ""
        };
        g.notes.push(format!(
            "{} permission(s) the Lambda service needs for the function's configuration (logs, triggers, destinations, ...) are in their own statements: {}{unproven}; --no-service-needs leaves them out",
            included.len(),
            sids.join(", ")
        ));
    }
    for o in g.service_needs.iter().filter(|o| o.status == "narrowed") {
        g.notes.push(format!(
            "{} on {}: the current role grants only {} of it, which the policy keeps ({})",
            o.action,
            o.resource,
            o.granted_as.join(", "),
            o.reason
        ));
    }
    let refused: Vec<String> = g
        .service_needs
        .iter()
        .filter(|o| o.status == "not-granted")
        .map(|o| format!("{} on {}", o.action, o.resource))
        .collect();
    if !refused.is_empty() {
        g.notes.push(format!(
            "{} permission(s) the function's configuration needs are NOT granted by the current role, so NOT in the policy: {} (grant them, or the feature fails in production; iamfit audit --function reports them)",
            refused.len(),
            refused.join(", ")
        ));
    }
    for a in &g.advisories {
        g.notes.push(format!("{} ({})", a.message, a.citation));
    }
}

/// Denied calls: evidence of a missing permission, listed as missing.
fn add_denied(usage: &Usage, g: &mut Generated) {
    for ((action, code), d) in &usage.denied {
        let resources: Vec<String> = if d.resources.set.is_empty() {
            vec![String::new()]
        } else {
            d.resources.set.iter().cloned().collect()
        };
        for r in resources {
            g.missing.push(Missing {
                action: action.clone(),
                resource: r,
                reason: format!(
                    "denied in CloudTrail ({code}, {} call(s)): evidence of a missing permission",
                    d.count
                ),
            });
        }
    }
}

/// The generated documents as the identity policies of a policy set.
fn generated_policies(g: &Generated) -> Vec<NamedPolicy> {
    g.documents
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            let text = serde_json::to_string(&d.to_json()).ok()?;
            iamfit_policy::Policy::parse(&text).ok().map(|p| NamedPolicy::new(format!("generated-{i}"), p))
        })
        .collect()
}

/// The proof against the whole stack: each used call the generated identity policy allows is
/// evaluated again with the subject's boundary and the resource's own policy; a call a resource
/// policy blocks is missing on that layer, with the statement that policy would need.
fn prove_resource_layers(usage: &Usage, subject: &Subject, catalog: &Catalog, g: &mut Generated) {
    let identity = generated_policies(g);
    let context = RequestContext::new();
    let mut found = Vec::new();
    for (name, a) in &usage.actions {
        if !catalog.action(name).is_none_or(|r| r.supports_resource_level_permissions()) {
            continue;
        }
        for r in &a.resources.set {
            let mut set = subject.policies_for(r).into_owned();
            if set.resource.is_none() {
                continue;
            }
            set.identity = identity.clone();
            let req = Request {
                principal: Some(&subject.principal),
                action: name,
                resource: r,
                context: &context,
                resource_account: None,
            };
            let alone = PolicySet { identity: identity.clone(), ..Default::default() };
            if authorize(&alone, &req).verdict != Verdict::Allow {
                continue;
            }
            let d = authorize_with(&set, &req, ConditionMode::Optimistic);
            found.extend(resource_block(&d, subject, name, r));
        }
    }
    if !found.is_empty() {
        g.notes.push(format!(
            "{} used call(s) the policy allows would still be blocked by a resource-based policy (a key or bucket policy): each is listed with the statement that policy needs (missing_in_resource_policies in --report)",
            found.len()
        ));
    }
    g.missing_in_resource_policies = found;
}

/// The resource layer's block of a decision, with the Allow statement the resource policy needs.
fn resource_block(
    d: &iamfit_policy::eval::Decision,
    subject: &Subject,
    action: &str,
    resource: &str,
) -> Option<ResourceLayerMissing> {
    use iamfit_policy::eval::{DenyReason, Layer};
    let policy = subject.resources.for_resource(resource)?.name.to_string();
    let (reason, denied_by) = match d.verdict {
        Verdict::ExplicitDeny => {
            let m = d.matched.iter().find(|m| m.layer == Layer::Resource)?;
            (format!("explicit deny in statement {} of the {policy}", m.label()), Some(m.label()))
        }
        Verdict::ImplicitDeny => match d.reason? {
            r @ (DenyReason::KeyPolicy | DenyReason::ResourcePolicy) => (r.to_string(), None),
            _ => return None,
        },
        Verdict::Allow => return None,
    };
    let principal = subject.principal.role_arn.clone().unwrap_or_else(|| subject.principal.arn.clone());
    // A key policy's statements name the key as "*": the policy is the key's own.
    let on = if resource.starts_with("arn:aws:kms:") { "*" } else { resource };
    let statement = serde_json::json!({
        "Sid": format!("Allow{}", resource_label(resource)),
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": action,
        "Resource": on,
    });
    Some(ResourceLayerMissing {
        action: action.to_string(),
        resource: resource.to_string(),
        layer: "resource",
        policy,
        reason,
        statement,
        denied_by,
    })
}

/// Proof of the result: the generated documents allow every used call they should.
fn prove_used_calls(usage: &Usage, current: Option<&Subject>, catalog: &Catalog, g: &mut Generated) {
    let generated = PolicySet { identity: generated_policies(g), ..Default::default() };
    let context = RequestContext::new();
    for (name, a) in &usage.actions {
        let resource_level = catalog.action(name).is_none_or(|r| r.supports_resource_level_permissions());
        let resources: Vec<&str> =
            if resource_level { a.resources.set.iter().map(String::as_str).collect() } else { vec!["*"] };
        for r in resources {
            g.proof.used_calls += 1;
            let principal = current.map(|s| &s.principal);
            let req =
                Request { principal, action: name, resource: r, context: &context, resource_account: None };
            if authorize(&generated, &req).verdict == Verdict::Allow {
                g.proof.used_calls_allowed += 1;
            }
        }
    }
}

/// Each generated (action, resource) pair checked against the current grant.
fn prove_against_current(ctx: &Ctx<'_>, g: &mut Generated) {
    let Some(p) = &ctx.prover else { return };
    for doc in &g.documents {
        for st in &doc.statements {
            for action in &st.actions {
                let rl = ctx.catalog.action(action).is_none_or(|r| r.supports_resource_level_permissions());
                let context = st.context();
                for r in &st.resources {
                    if let Proven::No(_) = p.prove_in(action, &Pat::from_policy(r), rl, &context) {
                        g.proof.broader_than_current += 1;
                    }
                }
            }
        }
    }
}

/// The notes that say what was proven (or could not be), and the unobservable grants.
fn add_proof_notes(
    usage: &Usage,
    current: Option<&Subject>,
    catalog: &Catalog,
    options: &Options,
    g: &mut Generated,
) {
    let Some(subject) = current else {
        g.notes.insert(
            0,
            "the current grant is unknown: the intersection with today's policies could NOT be proven; the policy is what the trail shows, no more".into(),
        );
        return;
    };
    g.notes.insert(
        0,
        format!(
            "proven with iamfit's evaluator: the policy allows {} of the {} successful calls observed; each of its {} (action, resource) pairs is allowed by the current policies of {} ({} broader)",
            g.proof.used_calls_allowed,
            g.proof.used_calls,
            g.proof.checked_against_current,
            subject.label,
            g.proof.broader_than_current
        ),
    );
    if !g.proof.conditional.is_empty() {
        g.notes.push(format!(
            "the current grant holds only under conditions for: {}; the generated statements carry no condition, so add the role's conditions back where they matter",
            g.proof.conditional.join(", ")
        ));
    }
    if subject.partial {
        g.notes.push(
            "some of the current policies could not be read: the intersection is with a partial view".into(),
        );
    }
    g.unobservable = unobservable(usage, subject, catalog, options.lambda_runtime);
    // What the Lambda service needs is in the policy, listed apart: not "unobservable".
    let needs = &g.service_needs;
    g.unobservable.retain(|u| {
        !needs.iter().any(|n| !n.granted_as.is_empty() && n.action.eq_ignore_ascii_case(&u.action))
    });
}

/// Granted, unused actions CloudTrail cannot show in use (data events the trail does not log, and
/// actions it never records).
fn unobservable(
    usage: &Usage,
    subject: &Subject,
    catalog: &Catalog,
    lambda_runtime: bool,
) -> Vec<Unobservable> {
    let mut out = Vec::new();
    for e in crate::analyze::effective::effective_permissions(subject, catalog) {
        if (e.allowed.is_empty() && e.conditional.is_empty()) || usage.used(&e.action) {
            continue;
        }
        let Some(a) = catalog.action(&e.action) else { continue };
        if lambda_runtime && LAMBDA_RUNTIME_ACTIONS.iter().any(|x| x.eq_ignore_ascii_case(&e.action)) {
            let mut resources = e.allowed;
            resources.extend(e.conditional);
            out.push(Unobservable {
                action: e.action,
                resources,
                reason: "used by the Lambda runtime itself (logs, traces), which CloudTrail does not show"
                    .into(),
            });
            continue;
        }
        let reason = match coverage(a) {
            Coverage::DataEvent if !usage.data_event_services.contains(a.service()) => {
                "a data event, and the trail holds no data events of this service"
            }
            Coverage::NotLogged => "CloudTrail does not record it",
            _ => continue,
        };
        let mut resources = e.allowed;
        resources.extend(e.conditional);
        out.push(Unobservable { action: e.action, resources, reason: reason.into() });
    }
    out
}

// ---------------------------------------------------------------------------------------------------
// Output formats

/// Output formats of `iamfit generate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// IAM policy JSON (a list of documents when split).
    #[default]
    Iam,
    /// SAM `Policies:` for an `AWS::Serverless::Function`.
    Sam,
    /// CloudFormation `AWS::IAM::ManagedPolicy` resources.
    Cloudformation,
    /// Terraform `data "aws_iam_policy_document"` blocks.
    Terraform,
}

/// Renders the documents. `name` names resources (CloudFormation logical ids, Terraform labels).
pub fn render(g: &Generated, format: Format, name: &str) -> String {
    match format {
        Format::Iam => {
            let v = if g.documents.len() == 1 {
                g.documents[0].to_json()
            } else {
                Value::Array(g.documents.iter().map(GenDocument::to_json).collect())
            };
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
        }
        Format::Sam => {
            let mut s = String::from("Policies:\n");
            for d in &g.documents {
                s += "  - Version: \"2012-10-17\"\n    Statement:\n";
                yaml_statements(&mut s, &d.statements, 6);
            }
            s
        }
        Format::Cloudformation => {
            let mut s = String::from("Resources:\n");
            let base = camel(name);
            for (i, d) in g.documents.iter().enumerate() {
                let id = if g.documents.len() == 1 {
                    format!("{base}MinimalPolicy")
                } else {
                    format!("{base}MinimalPolicy{}", camel(&d.services.join("-")))
                };
                let _ = writeln!(s, "  {id}:");
                s += "    Type: AWS::IAM::ManagedPolicy\n    Properties:\n";
                let _ = writeln!(
                    s,
                    "      Description: {}",
                    yaml_scalar(&format!(
                        "Least privilege for {name} from CloudTrail usage (iamfit generate){}",
                        if g.documents.len() > 1 {
                            format!(", part {} of {}", i + 1, g.documents.len())
                        } else {
                            String::new()
                        }
                    ))
                );
                s += "      # Roles:\n      #   - !Ref FunctionRole\n";
                s += "      PolicyDocument:\n        Version: \"2012-10-17\"\n        Statement:\n";
                yaml_statements(&mut s, &d.statements, 10);
            }
            s
        }
        Format::Terraform => {
            let mut s = String::new();
            let base = tf_label(name);
            for (i, d) in g.documents.iter().enumerate() {
                if i > 0 {
                    s.push('\n');
                }
                let label = if g.documents.len() == 1 {
                    base.clone()
                } else {
                    format!("{base}_{}", tf_label(&d.services.join("_")))
                };
                let _ = writeln!(s, "data \"aws_iam_policy_document\" \"{label}\" {{");
                for (j, st) in d.statements.iter().enumerate() {
                    if j > 0 {
                        s.push('\n');
                    }
                    s += "  statement {\n";
                    let _ = writeln!(s, "    sid       = {}", hcl_string(&st.sid));
                    s += "    effect    = \"Allow\"\n";
                    hcl_list(&mut s, "actions  ", &st.actions);
                    hcl_list(&mut s, "resources", &st.resources);
                    for c in &st.conditions {
                        s += "\n    condition {\n";
                        let _ = writeln!(s, "      test     = {}", hcl_string(&c.operator));
                        let _ = writeln!(s, "      variable = {}", hcl_string(&c.key));
                        let _ = writeln!(s, "      values   = [{}]", hcl_string(&c.value));
                        s += "    }\n";
                    }
                    s += "  }\n";
                }
                s += "}\n";
            }
            s
        }
    }
}

fn yaml_statements(s: &mut String, statements: &[GenStatement], indent: usize) {
    let pad = " ".repeat(indent);
    for st in statements {
        let _ = writeln!(s, "{pad}- Sid: {}", yaml_scalar(&st.sid));
        let _ = writeln!(s, "{pad}  Effect: Allow");
        let _ = writeln!(s, "{pad}  Action:");
        for a in &st.actions {
            let _ = writeln!(s, "{pad}    - {}", yaml_scalar(a));
        }
        let _ = writeln!(s, "{pad}  Resource:");
        for r in &st.resources {
            let _ = writeln!(s, "{pad}    - {}", yaml_scalar(r));
        }
        if !st.conditions.is_empty() {
            let _ = writeln!(s, "{pad}  Condition:");
            let mut last_operator = None;
            for c in &st.conditions {
                if last_operator != Some(&c.operator) {
                    let _ = writeln!(s, "{pad}    {}:", yaml_scalar(&c.operator));
                    last_operator = Some(&c.operator);
                }
                let _ = writeln!(s, "{pad}      {}:", yaml_scalar(&c.key));
                let _ = writeln!(s, "{pad}        - {}", yaml_scalar(&c.value));
            }
        }
    }
}

/// A YAML scalar: plain when it cannot be read as anything but that string, double-quoted otherwise.
pub fn yaml_scalar(text: &str) -> String {
    let safe_chars = text.chars().all(|c| c.is_ascii_alphanumeric() || ":_./-*@+=,".contains(c));
    let first_ok = text.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    let reserved = matches!(
        text.to_ascii_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
    );
    let bad_sequence = text.contains(": ") || text.contains(" #") || text.ends_with(':');
    if safe_chars && first_ok && !reserved && !bad_sequence {
        text.to_string()
    } else {
        // JSON string escapes are valid YAML double-quoted escapes.
        serde_json::to_string(text).unwrap_or_default()
    }
}

/// An HCL string literal: `"`, `\` escaped; `${` and `%{` doubled so IAM variables stay literal.
pub fn hcl_string(text: &str) -> String {
    let mut out = String::from("\"");
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

fn hcl_list(s: &mut String, key: &str, items: &[String]) {
    let _ = writeln!(s, "    {key} = [");
    for i in items {
        let _ = writeln!(s, "      {},", hcl_string(i));
    }
    s.push_str("    ]\n");
}

fn tf_label(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c.to_ascii_lowercase() } else { '_' })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "p_");
    }
    out
}

/// `generate --report FILE`'s JSON: what was generated and proven.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GenerateReport {
    /// The principal.
    pub principal: String,
    /// Statements over all documents.
    pub statements: usize,
    /// Documents (managed policies) written.
    pub documents: usize,
    /// Each document's size in characters (minified, as IAM counts).
    pub characters: Vec<usize>,
    /// What was proven.
    pub proof: Proof,
    /// Used calls left out.
    pub missing: Vec<Missing>,
    /// Used calls the policy allows that a resource-based policy (a key or bucket policy) would still
    /// block: the layer, the policy, why, and the statement that policy would need.
    pub missing_in_resource_policies: Vec<ResourceLayerMissing>,
    /// Granted actions CloudTrail cannot show.
    pub unobservable: Vec<Unobservable>,
    /// Whether the policy was split.
    pub split: bool,
    /// Notes for the user.
    pub notes: Vec<String>,
    /// What the Lambda service needs for the function's configuration, listed apart from the
    /// evidence of CloudTrail: each (action, resource), its Sid, reason, AWS page and status.
    pub service_needs: Vec<NeedOutcome>,
    /// What the configuration needs outside the role (key and repository policies).
    pub advisories: Vec<Advisory>,
}

/// The report of a generation.
pub fn report(g: &Generated, principal: &str) -> GenerateReport {
    GenerateReport {
        principal: principal.to_string(),
        statements: g.statement_count(),
        documents: g.documents.len(),
        characters: g.documents.iter().map(GenDocument::size).collect(),
        proof: g.proof.clone(),
        missing: g.missing.clone(),
        missing_in_resource_policies: g.missing_in_resource_policies.clone(),
        unobservable: g.unobservable.clone(),
        split: g.split,
        notes: g.notes.clone(),
        service_needs: g.service_needs.clone(),
        advisories: g.advisories.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_render_and_parse_back() {
        let p = Pat::exact("arn:aws:s3:::b/a*b?c${x}");
        assert_eq!(p.render(), "arn:aws:s3:::b/a${*}b${?}c${$}{x}");
        assert_eq!(Pat::from_policy(&p.render()), p);
        assert_eq!(Pat::from_policy("arn:aws:s3:::b/*").render(), "arn:aws:s3:::b/*");
        assert!(Pat::prefix("arn:aws:s3:::b/").covers_exact("arn:aws:s3:::b/x"));
    }

    #[test]
    fn folding_keeps_buckets_and_named_parents() {
        assert_eq!(parent("arn:aws:s3:::b/x/y.pdf").as_deref(), Some("arn:aws:s3:::b/x/"));
        assert_eq!(parent("arn:aws:s3:::b/y.pdf").as_deref(), Some("arn:aws:s3:::b/"));
        assert_eq!(parent("arn:aws:s3:::b"), None);
        assert_eq!(parent("arn:aws:dynamodb:us-east-1:1:table/orders"), None);
        assert_eq!(
            parent("arn:aws:dynamodb:us-east-1:1:table/orders/index/x").as_deref(),
            Some("arn:aws:dynamodb:us-east-1:1:table/orders/index/")
        );
        let set: BTreeSet<String> =
            (0..5).map(|i| format!("arn:aws:s3:::b/2026/{:02}/k{i}", i % 2)).collect();
        let items = summarise(&set, Granularity::Prefix, 2);
        let shown: Vec<String> = items.iter().map(|i| i.pat.render()).collect();
        assert_eq!(shown, ["arn:aws:s3:::b/2026/*"], "two months fold into the year");
    }

    #[test]
    fn sids_and_scalars() {
        assert_eq!(resource_label("arn:aws:dynamodb:us-east-1:1:table/orders/index/x"), "Orders");
        assert_eq!(resource_label("arn:aws:s3:::orders-invoices/x/*"), "OrdersInvoices");
        assert_eq!(resource_label("arn:aws:sqs:us-east-1:1:orders-queue"), "OrdersQueue");
        assert_eq!(resource_label("*"), "All");
        assert_eq!(resource_label("arn:aws:kms:us-east-1:1:key/1234abcd-12ab-34cd"), "Key1234abcd");
        assert_eq!(yaml_scalar("arn:aws:s3:::b/*"), "arn:aws:s3:::b/*");
        assert_eq!(yaml_scalar("*"), "\"*\"");
        assert_eq!(yaml_scalar("2012-10-17"), "\"2012-10-17\"");
        assert_eq!(yaml_scalar("yes"), "\"yes\"");
        assert_eq!(hcl_string("arn:aws:s3:::b/${aws:username}"), "\"arn:aws:s3:::b/$${aws:username}\"");
    }
}
