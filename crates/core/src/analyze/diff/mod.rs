//! The semantic diff of two principals: over every action of the catalog, every witness resource on
//! which the local principal (the developer's credentials) and the function's execution role decide
//! differently, with the statements that decided on each side; and, when usage is known, every call
//! the function made, evaluated exactly as each principal, with the least change that would let a
//! call that works locally work in production.
//!
//! For each action the witnesses are the `Resource` entries of both principals' statements that
//! mention the action (policy variables resolved for that principal), `*`, and the resources the
//! trail shows, each shaped to the form of one of the action's resource types ([`witness`]).
//! Both principals are evaluated on each witness, once at their most permissive and once at their
//! most restrictive reading of conditions whose keys are only known at request time
//! ([`ConditionMode`]): when the two readings differ, the mismatch depends on a condition and is
//! reported as conditional instead of guessed.
//!
//! Modules: [`witness`] (resource forms and witnesses), [`calls`] (the observed calls and their
//! request context), [`proposals`] (blocking layers and least changes), [`report`] (the JSON report).

pub mod calls;
mod normalize;
pub mod proposals;
pub mod report;
pub mod witness;

use std::collections::{BTreeMap, HashMap};

use crate::account::Subject;
use iamfit_catalog::{ActionRef, Catalog};
use iamfit_policy::context::{Layered, RequestContext};
use iamfit_policy::eval::{authorize_with, ConditionMode, Decision, Request, Verdict};
use iamfit_policy::pattern::{variables_as_wildcards, Pattern, Syntax};
use iamfit_trail::usage::Usage;

pub use normalize::Normalization;
pub use report::{diff_report, DiffInput, DiffReport};
use witness::{action_forms, covers, ResourceForm, Shaper, Signatures};

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

/// Where a witness came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WitnessSource {
    /// A `Resource` entry of a policy.
    Policy,
    /// `*`, shaped to a resource type (any resource of the type).
    Any,
    /// A resource the trail shows.
    Trail,
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
    /// The witness resource (a shaped ARN pattern from the policies, a resource of the trail, or `*`).
    pub resource: String,
    /// The resource type whose form the witness has (none for actions without resource types).
    pub resource_type: Option<&'static str>,
    /// Where the witness came from.
    pub source: WitnessSource,
    /// The local principal's decision.
    pub local: SideDecision,
    /// The function role's decision.
    pub prod: SideDecision,
    /// Whether the function was seen calling the action on a resource the witness covers.
    pub used: bool,
}

impl Mismatch {
    /// Whether the difference holds only under some conditions.
    pub fn conditional(&self) -> bool {
        self.local.conditional || self.prod.conditional
    }
}

/// What the trail shows the function calling, for witnesses and `used`.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// Per action (lower-case): every resource it was called on, allowed or denied (`*` for
    /// actions without resource types).
    pub called: HashMap<String, Vec<String>>,
    /// Per service prefix (lower-case): every resource the trail shows, calls of this action first
    /// when a witness is picked.
    pub resources: HashMap<String, Vec<String>>,
}

impl Observed {
    /// What a replay's usage shows.
    pub fn from_usage(usage: &Usage) -> Observed {
        let mut o = Observed::default();
        for (action, resource) in usage.calls.keys() {
            let lc = action.to_ascii_lowercase();
            let service = lc.split(':').next().unwrap_or("").to_string();
            o.called.entry(lc).or_default().push(resource.clone());
            if resource != "*" {
                let list = o.resources.entry(service).or_default();
                if !list.contains(resource) {
                    list.push(resource.clone());
                }
            }
        }
        o
    }
}

/// The mismatches of a comparison.
#[derive(Debug, Clone, Default)]
pub struct Comparison {
    /// Every mismatch: used ones first, then by direction, action and resource.
    pub mismatches: Vec<Mismatch>,
    /// How many catalog actions were compared.
    pub actions_compared: usize,
}

/// Compares two principals over every catalog action (no usage: `used` is false everywhere).
pub fn diff(local: &Subject, prod: &Subject, catalog: &Catalog, norm: &Normalization) -> Comparison {
    compare(local, prod, catalog, norm, &Observed::default())
}

/// Compares two principals over every catalog action, with witnesses and `used` from the trail.
pub fn compare(
    local: &Subject,
    prod: &Subject,
    catalog: &Catalog,
    norm: &Normalization,
    observed: &Observed,
) -> Comparison {
    let actions: Vec<ActionRef<'_>> = catalog.actions().collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    let chunk = actions.len().div_ceil(threads).max(1);
    let sides = Sides { local, prod, norm, observed, partition: partition_of(prod) };
    let sides = &sides;
    let mut mismatches: Vec<Mismatch> = std::thread::scope(|scope| {
        let handles: Vec<_> = actions
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let mut work = Work::new(sides);
                    part.iter().flat_map(|a| work.compare_action(*a)).collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    });
    mismatches.sort_by(|a, b| {
        (!a.used, a.direction, &a.action, &a.resource).cmp(&(!b.used, b.direction, &b.action, &b.resource))
    });
    Comparison { mismatches, actions_compared: actions.len() }
}

fn partition_of(subject: &Subject) -> String {
    subject.principal.partition.clone().unwrap_or_else(|| "aws".to_string())
}

/// The two principals and what is known of the function's calls.
struct Sides<'a> {
    local: &'a Subject,
    prod: &'a Subject,
    norm: &'a Normalization,
    observed: &'a Observed,
    partition: String,
}

/// Which side a candidate resource came from (it is named in that side's account).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum From {
    Local,
    Prod,
    Both,
}

/// One witness to evaluate.
#[derive(Debug, Clone)]
struct Candidate {
    from: From,
    form: Option<usize>,
    source: WitnessSource,
}

/// One worker's state: the shaping, signature and trail-witness caches.
struct Work<'a> {
    sides: &'a Sides<'a>,
    shaper: Shaper,
    signatures: Signatures<'a>,
    /// Witness text -> signature id.
    signature_ids: HashMap<String, usize>,
    /// Signature -> id.
    interned: HashMap<(Vec<bool>, String), usize>,
    /// The trail witnesses chosen for a service, forms, policy witnesses and calls (many actions of a
    /// service share them all).
    trail_cache: HashMap<String, Vec<(String, usize)>>,
}

impl<'a> Work<'a> {
    fn new(sides: &'a Sides<'a>) -> Self {
        Work {
            sides,
            shaper: Shaper::default(),
            signatures: Signatures::new(sides.local, sides.prod),
            signature_ids: HashMap::new(),
            interned: HashMap::new(),
            trail_cache: HashMap::new(),
        }
    }

    fn compare_action(&mut self, action: ActionRef<'_>) -> Vec<Mismatch> {
        let name = action.full_name();
        let lower = name.to_ascii_lowercase();
        let service = action.service().to_ascii_lowercase();
        let (local, prod) = (self.sides.local, self.sides.prod);
        let local_mentions = mentions(local, &lower, &service);
        let prod_mentions = mentions(prod, &lower, &service);
        // Nothing on either side names the action (and neither is root): both deny it alike.
        let root = |s: &Subject| s.principal.kind == iamfit_policy::eval::PrincipalKind::Root;
        if local_mentions.is_none() && prod_mentions.is_none() && !root(local) && !root(prod) {
            return Vec::new();
        }
        let forms = action_forms(action, &self.sides.partition);
        let mut candidates = self.policy_candidates(&forms, &local_mentions, &prod_mentions);
        self.add_trail_candidates(&forms, &lower, &service, &mut candidates);
        let called = self.sides.observed.called.get(&lower).map(Vec::as_slice).unwrap_or_default();
        let mut call_outcomes: HashMap<&str, Option<Outcome>> = HashMap::new();
        let mut out = Vec::new();
        for (witness, c) in candidates {
            let form = c.form.and_then(|k| forms.get(k));
            let Some(mut m) = self.evaluate_candidate(&name, &witness, &c, form) else { continue };
            // Used: the function called the action on a resource the witness covers, and that call
            // is decided as the witness is (the same verdicts by the same statements): a call on
            // which both sides agree, or that differs for another reason, is no use of this mismatch.
            let outcome = Outcome::of(&m.local.decision, &m.prod.decision);
            m.used = called.iter().filter(|r| covers(&m.prod.resource, form, r)).any(|r| {
                let call = call_outcomes.entry(r.as_str()).or_insert_with(|| self.call_outcome(&name, r));
                call.as_ref() == Some(&outcome)
            });
            out.push(m);
        }
        out
    }

    /// How the two sides decide one called resource (as production names it), when they differ.
    fn call_outcome(&self, action: &str, resource: &str) -> Option<Outcome> {
        let empty = RequestContext::new();
        let local_resource =
            if resource == "*" { resource.to_string() } else { self.sides.norm.to_local(resource) };
        let l = evaluate(self.sides.local, action, &local_resource, &empty);
        let p = evaluate(self.sides.prod, action, resource, &empty);
        classify(&l, &p).map(|_| Outcome::of(&l.0, &p.0))
    }

    /// `*` and both sides' Resource entries, shaped to each of the action's forms.
    fn policy_candidates(
        &mut self,
        forms: &[ResourceForm],
        local_mentions: &Option<Vec<String>>,
        prod_mentions: &Option<Vec<String>>,
    ) -> BTreeMap<String, Candidate> {
        let mut candidates: BTreeMap<String, Candidate> = BTreeMap::new();
        if forms.is_empty() {
            candidates.insert(
                "*".to_string(),
                Candidate { from: From::Both, form: None, source: WitnessSource::Any },
            );
            return candidates;
        }
        for (k, form) in forms.iter().enumerate() {
            if let Some(w) = self.shaper.shape(form, "*") {
                candidates
                    .insert(w, Candidate { from: From::Both, form: Some(k), source: WitnessSource::Any });
            }
            for (resources, side) in [(local_mentions, From::Local), (prod_mentions, From::Prod)] {
                for r in resources.iter().flatten().filter(|r| *r != "*") {
                    let Some(w) = self.shaper.shape(form, r) else { continue };
                    candidates
                        .entry(w)
                        .and_modify(|c| {
                            if c.from != side {
                                c.from = From::Both
                            }
                        })
                        .or_insert(Candidate { from: side, form: Some(k), source: WitnessSource::Policy });
                }
            }
        }
        candidates
    }

    /// The trail's resources of the service that have one of the action's forms, unless a witness
    /// already there covers them with the same signature (the same decisions for every action).
    fn add_trail_candidates(
        &mut self,
        forms: &[ResourceForm],
        action_lc: &str,
        service: &str,
        candidates: &mut BTreeMap<String, Candidate>,
    ) {
        let observed = self.sides.observed;
        let Some(resources) = observed.resources.get(service) else { return };
        let called: &[String] = observed.called.get(action_lc).map(Vec::as_slice).unwrap_or_default();
        let key = trail_key(service, forms, candidates, called);
        let chosen = match self.trail_cache.get(&key) {
            Some(hit) => hit.clone(),
            None => {
                let chosen = self.choose_trail_witnesses(forms, resources, called, candidates);
                self.trail_cache.insert(key, chosen.clone());
                chosen
            }
        };
        for (r, k) in chosen {
            candidates.insert(r, Candidate { from: From::Prod, form: Some(k), source: WitnessSource::Trail });
        }
    }

    fn choose_trail_witnesses(
        &mut self,
        forms: &[ResourceForm],
        resources: &[String],
        called: &[String],
        candidates: &BTreeMap<String, Candidate>,
    ) -> Vec<(String, usize)> {
        let is_called = |r: &String| called.contains(r);
        // Resources this action was called on come first, so that they represent their signature.
        let ordered =
            resources.iter().filter(|r| is_called(r)).chain(resources.iter().filter(|r| !is_called(r)));
        let mut present: Vec<(String, usize, usize, bool)> = Vec::new();
        for (w, c) in candidates {
            if let Some(k) = c.form {
                let sig = self.signature(w);
                present.push((w.clone(), k, sig, c.source == WitnessSource::Trail));
            }
        }
        let mut chosen = Vec::new();
        for r in ordered {
            if candidates.contains_key(r) {
                continue;
            }
            let Some((k, form)) = forms.iter().enumerate().find(|(_, f)| f.fits(r)) else { continue };
            let sig = self.signature(r);
            let redundant = present
                .iter()
                .any(|(w, wk, wsig, trail)| *wk == k && *wsig == sig && (*trail || covers(w, Some(form), r)));
            if !redundant {
                present.push((r.clone(), k, sig, true));
                chosen.push((r.clone(), k));
            }
        }
        chosen
    }

    /// The signature id of a resource or witness (as production names it).
    fn signature(&mut self, text: &str) -> usize {
        if let Some(id) = self.signature_ids.get(text) {
            return *id;
        }
        let sig = self.signatures.of(&self.sides.norm.to_local(text), text);
        let next = self.interned.len();
        let id = *self.interned.entry(sig).or_insert(next);
        self.signature_ids.insert(text.to_string(), id);
        id
    }

    fn evaluate_candidate(
        &mut self,
        action: &str,
        witness: &str,
        c: &Candidate,
        form: Option<&ResourceForm>,
    ) -> Option<Mismatch> {
        let norm = self.sides.norm;
        let (local_res, prod_res) = match c.from {
            From::Local => (witness.to_string(), norm.to_prod(witness)),
            From::Prod => (norm.to_local(witness), witness.to_string()),
            From::Both => (witness.to_string(), witness.to_string()),
        };
        let empty = RequestContext::new();
        let l = evaluate(self.sides.local, action, &local_res, &empty);
        let p = evaluate(self.sides.prod, action, &prod_res, &empty);
        let (direction, _) = classify(&l, &p)?;
        Some(Mismatch {
            direction,
            action: action.to_string(),
            resource: if c.from == From::Prod { prod_res.clone() } else { local_res.clone() },
            resource_type: form.map(|f| f.type_name),
            source: c.source,
            local: SideDecision { decision: l.0, conditional: l.2, resource: local_res },
            prod: SideDecision { decision: p.0, conditional: p.2, resource: prod_res },
            used: false,
        })
    }
}

/// What decides the trail witnesses of an action: its service, forms, policy witnesses and calls.
fn trail_key(
    service: &str,
    forms: &[ResourceForm],
    candidates: &BTreeMap<String, Candidate>,
    called: &[String],
) -> String {
    let mut key = String::from(service);
    for f in forms {
        key.push('\n');
        key.push_str(f.template);
    }
    for (w, c) in candidates {
        key.push_str(&format!("\n{w}\t{:?}\t{:?}", c.form, c.source));
    }
    for r in called {
        key.push_str("\n>");
        key.push_str(r);
    }
    key
}

/// Both sides' verdicts and deciding statements: two requests with equal outcomes differ for the
/// same reason.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome(Vec<(Verdict, Vec<(String, usize)>)>);

impl Outcome {
    fn of(local: &Decision, prod: &Decision) -> Outcome {
        let side = |d: &Decision| {
            let statements =
                d.matched.iter().map(|m| (m.policy_name().to_string(), m.statement().index)).collect();
            (d.verdict, statements)
        };
        Outcome(vec![side(local), side(prod)])
    }
}

/// (decision at the permissive reading, decision at the restrictive reading, conditional)
pub(crate) type Evaluated = (Decision, Verdict, bool);

/// Evaluates one request at both readings of conditions on unknown keys. A witness whose account
/// field is a pattern (`arn:aws:dynamodb:*:*:table/*`) stands for resources of the principal's own
/// account: other accounts' resources are decided by their resource-based policies, which a diff of
/// two principals does not see.
pub(crate) fn evaluate(
    subject: &Subject,
    action: &str,
    resource: &str,
    context: &RequestContext,
) -> Evaluated {
    let pattern_account = resource.split(':').nth(4).is_some_and(|a| a.contains(['*', '?']));
    let resource_account = if pattern_account { subject.principal.account.as_deref() } else { None };
    let request =
        Request { principal: Some(&subject.principal), action, resource, context, resource_account };
    // The resource's own policy, when the account model holds one, is the resource layer.
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
mod tests;
