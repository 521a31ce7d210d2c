//! `iamfit diff`'s report: its `Serialize` form is the JSON of `iamfit diff` (the contract's keys
//! `function`, `local`, `mismatches`, `calls`, `proposals`, `summary`, plus documented extras).

use std::collections::BTreeMap;

use serde::Serialize;

use iamfit_catalog::Catalog;
use iamfit_policy::eval::{DenyReason, Verdict};
use iamfit_trail::usage::Usage;

use super::calls::{evaluate_calls, Call};
use super::proposals::{least_change, Proposal, Target};
use super::{compare, Direction, Mismatch, Normalization, Observed, SideDecision, WitnessSource};
use crate::account::{Role, Subject};
use crate::analyze::service_needs::{set_aside_mismatches, ConfigurationMismatch, ServiceNeeds};
use crate::trust::analyze_trust;

/// What the diff compares, and what it knows of the function's calls.
#[derive(Debug, Clone)]
pub struct DiffInput<'a> {
    /// The local principal (`--profile`).
    pub local: &'a Subject,
    /// The function's execution role.
    pub prod: &'a Subject,
    /// How resources of the two accounts correspond.
    pub norm: &'a Normalization,
    /// The function's usage, when a trail was read.
    pub usage: Option<&'a Usage>,
    /// The function.
    pub function: FunctionRef,
    /// The local profile's name.
    pub profile: String,
    /// The execution role (for whether the local principal may run as it with `iamfit exec`).
    pub role: Option<&'a Role>,
    /// What the Lambda service itself needs for the function's configuration: mismatches these
    /// explain are set aside (no surprise for the code).
    pub needs: Option<&'a ServiceNeeds>,
    /// Notes gathered before the analysis (sources, trail).
    pub notes: Vec<String>,
    /// Whether the inputs are partial (policies or log files not read).
    pub partial: bool,
}

/// The function compared.
#[derive(Debug, Clone, Serialize)]
pub struct FunctionRef {
    /// Its name.
    pub name: String,
    /// Its ARN.
    pub arn: Option<String>,
    /// Its execution role's ARN.
    pub role_arn: Option<String>,
}

/// The local principal.
#[derive(Debug, Clone, Serialize)]
pub struct LocalRef {
    /// The profile.
    pub profile: String,
    /// Its principal's ARN.
    pub principal_arn: String,
}

/// A statement that took part in a decision.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StatementRef {
    /// `identity`, `boundary`, ...
    pub layer: String,
    /// The policy's name.
    pub policy: String,
    /// The Sid, or `#index`.
    pub statement: String,
    /// `Allow` or `Deny`.
    pub effect: String,
}

/// One side's decision, explained.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Side {
    /// DECISION.
    pub decision: &'static str,
    /// Whether it depends on conditions whose keys are unknown.
    pub conditional: bool,
    /// The resource evaluated, as this side names it.
    pub resource: String,
    /// The deciding statements.
    pub statements: Vec<StatementRef>,
    /// For implicit denies: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Side {
    fn of(side: &SideDecision) -> Side {
        let d = &side.decision;
        Side {
            decision: d.verdict.as_str(),
            conditional: side.conditional,
            resource: side.resource.clone(),
            statements: d
                .matched
                .iter()
                .map(|m| StatementRef {
                    layer: m.layer.to_string(),
                    policy: m.policy_name().to_string(),
                    statement: m.label(),
                    effect: m.effect().to_string(),
                })
                .collect(),
            reason: d.reason.map(|r| r.to_string()),
        }
    }

    /// The decision in words: `allow by POLICY:SID`, `explicit-deny by ...`, `implicit-deny: REASON`.
    pub fn why(&self) -> String {
        let names: Vec<String> =
            self.statements.iter().map(|s| format!("{}:{}", s.policy, s.statement)).collect();
        let mut text = match self.decision {
            "allow" => format!("allow by {}", names.first().cloned().unwrap_or_default()),
            "explicit-deny" => format!("explicit-deny by {}", names.join(", ")),
            _ => match &self.reason {
                Some(r) => format!("implicit-deny: {r}"),
                None => "implicit-deny".to_string(),
            },
        };
        if self.conditional {
            text.push_str(" (depends on conditions)");
        }
        text
    }
}

/// Both sides' decisions.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Details {
    /// The local principal.
    pub local: Side,
    /// The function role.
    pub prod: Side,
}

/// One mismatch: an action and a witness on which the two principals decide differently.
#[derive(Debug, Clone, Serialize)]
pub struct MismatchEntry {
    /// `local-only` or `prod-only`.
    pub direction: &'static str,
    /// The catalog action.
    pub action: String,
    /// The witness.
    pub resource: String,
    /// The local DECISION.
    pub local: &'static str,
    /// The function role's DECISION.
    pub prod: &'static str,
    /// Whether the trail shows the function calling the action on a resource the witness covers.
    pub used: bool,
    /// Whether the difference depends on conditions.
    pub conditional: bool,
    /// The resource type whose form the witness has (null for actions without resource types).
    pub resource_type: Option<&'static str>,
    /// `policy`, `any` (`*` shaped to the type) or `trail`.
    pub witness: WitnessSource,
    /// The deciding statements on each side.
    pub details: Details,
}

impl MismatchEntry {
    fn of(m: &Mismatch) -> MismatchEntry {
        MismatchEntry {
            direction: m.direction.as_str(),
            action: m.action.clone(),
            resource: m.resource.clone(),
            local: m.local.decision.verdict.as_str(),
            prod: m.prod.decision.verdict.as_str(),
            used: m.used,
            conditional: m.conditional(),
            resource_type: m.resource_type,
            witness: m.source,
            details: Details { local: Side::of(&m.local), prod: Side::of(&m.prod) },
        }
    }
}

/// A mismatch the function's configuration explains: the Lambda service, not the code, uses the
/// permission (set aside from `mismatches`, not counted).
#[derive(Debug, Clone, Serialize)]
pub struct ConfigurationEntry {
    /// `local-only` or `prod-only`.
    pub direction: &'static str,
    /// The catalog action.
    pub action: String,
    /// The witness.
    pub resource: String,
    /// The local DECISION.
    pub local: &'static str,
    /// The function role's DECISION.
    pub prod: &'static str,
    /// The Sid of the need (as `generate` names its statement).
    pub sid: String,
    /// Why the Lambda service needs it.
    pub reason: String,
    /// The AWS page that says so.
    pub citation: String,
}

impl ConfigurationEntry {
    fn of(c: &ConfigurationMismatch) -> ConfigurationEntry {
        let m = &c.mismatch;
        ConfigurationEntry {
            direction: m.direction.as_str(),
            action: m.action.clone(),
            resource: m.resource.clone(),
            local: m.local.decision.verdict.as_str(),
            prod: m.prod.decision.verdict.as_str(),
            sid: c.sid.clone(),
            reason: c.reason.clone(),
            citation: c.citation.clone(),
        }
    }
}

/// One observed call, evaluated as both principals.
#[derive(Debug, Clone, Serialize)]
pub struct CallEntry {
    /// The action.
    pub action: String,
    /// The concrete resource (`*` for actions without resource types).
    pub resource: String,
    /// Calls in the trail.
    pub count: u64,
    /// Of which denied.
    pub denied: u64,
    /// The local DECISION.
    pub local: &'static str,
    /// The function role's DECISION.
    pub prod: &'static str,
    /// Whether the two decide differently.
    pub differs: bool,
    /// Whether the role's evaluation agrees with what CloudTrail shows (allowed calls allowed, denied
    /// calls denied); false for calls seen both allowed and denied.
    pub trail_agrees: bool,
    /// Whether the decisions differ between the request contexts seen.
    pub varies: bool,
    /// The condition keys the policies test, as the events give them (production side).
    pub context: BTreeMap<String, String>,
    /// The keys iamfit assumed or could not know.
    pub assumed: Vec<String>,
    /// The deciding statements on each side.
    pub details: Details,
}

impl CallEntry {
    fn of(c: &Call) -> CallEntry {
        let prod_allows = c.prod.decision.verdict == Verdict::Allow;
        let trail_agrees = match (c.denied, prod_allows) {
            (0, allows) => allows,
            (d, allows) if d == c.count => !allows,
            _ => false,
        };
        CallEntry {
            action: c.action.clone(),
            resource: c.resource.clone(),
            count: c.count,
            denied: c.denied,
            local: c.local.decision.verdict.as_str(),
            prod: c.prod.decision.verdict.as_str(),
            differs: (c.local.decision.verdict == Verdict::Allow) != prod_allows,
            trail_agrees,
            varies: c.varies,
            context: c.context.clone(),
            assumed: c.assumed.clone(),
            details: Details { local: Side::of(&c.local), prod: Side::of(&c.prod) },
        }
    }
}

/// How to reproduce locally what only the function may do.
#[derive(Debug, Clone, Serialize)]
pub struct Reproduce {
    /// The command that runs code with the function role's credentials.
    pub exec: String,
    /// Whether the local principal may assume the role (what `iamfit exec` needs); null when the role
    /// is not known.
    pub may_assume: Option<bool>,
    /// For each call only the role may make: what the local principal would need.
    pub needs: Vec<Proposal>,
}

/// The counts.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Local-only mismatches listed.
    pub local_only: usize,
    /// Prod-only mismatches listed.
    pub prod_only: usize,
    /// Used mismatches listed.
    pub used_mismatches: usize,
    /// Catalog actions compared.
    pub actions_compared: usize,
    /// Conditional mismatches.
    pub conditional: usize,
    /// Distinct calls listed.
    pub calls: usize,
    /// Calls the two principals decide differently.
    pub calls_differing: usize,
    /// Mismatches set aside as the Lambda service's own needs (`configuration`).
    pub needed_by_configuration: usize,
}

/// The principals as the table names them.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    /// The local principal (`user dev (ARN)`).
    pub local: String,
    /// The function role's session.
    pub prod: String,
}

/// `iamfit diff`'s report.
#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    /// The function.
    pub function: FunctionRef,
    /// The local principal.
    pub local: LocalRef,
    /// Every mismatch on every witness: used ones first.
    pub mismatches: Vec<MismatchEntry>,
    /// Mismatches the function's configuration explains, set aside from `mismatches`.
    pub configuration: Vec<ConfigurationEntry>,
    /// Every distinct call the function made (empty when usage is unknown).
    pub calls: Vec<CallEntry>,
    /// For each used call that works locally and not in production: the least change, step by step.
    pub proposals: Vec<Proposal>,
    /// For calls only production may make: how to reproduce them locally.
    pub reproduce: Reproduce,
    /// The counts.
    pub summary: Summary,
    /// The normalisations applied, as sentences.
    pub normalization: Vec<String>,
    /// Whether a trail was read.
    pub usage_known: bool,
    /// Whether something could not be read.
    pub partial: bool,
    /// What the user should know.
    pub notes: Vec<String>,
    /// The principals in words (for the table).
    #[serde(skip)]
    pub labels: Labels,
}

/// Builds the report: the comparison, the calls, the proposals.
pub fn diff_report(input: DiffInput<'_>, catalog: &Catalog) -> DiffReport {
    let observed = input.usage.map(Observed::from_usage).unwrap_or_default();
    let mut comparison = compare(input.local, input.prod, catalog, input.norm, &observed);
    let configuration =
        input.needs.map(|n| set_aside_mismatches(&mut comparison.mismatches, n)).unwrap_or_default();
    let mut calls =
        input.usage.map(|u| evaluate_calls(input.local, input.prod, u, input.norm)).unwrap_or_default();
    // Calls that differ first, then by action and resource.
    calls.sort_by(|a, b| {
        let differs = |c: &Call| {
            (c.local.decision.verdict == Verdict::Allow) != (c.prod.decision.verdict == Verdict::Allow)
        };
        (!differs(a), &a.action, &a.resource).cmp(&(!differs(b), &b.action, &b.resource))
    });
    let proposals = calls.iter().filter(|c| allows(&c.local) && !allows(&c.prod)).flat_map(|c| {
        least_change(
            input.prod,
            Target { action: &c.action, resource: &c.resource, context: &c.prod_context },
        )
    });
    let proposals: Vec<Proposal> = proposals.collect();
    let needs = calls.iter().filter(|c| allows(&c.prod) && !allows(&c.local)).flat_map(|c| {
        least_change(
            input.local,
            Target { action: &c.action, resource: &c.local.resource, context: &c.local_context },
        )
    });
    let reproduce = Reproduce {
        exec: format!("iamfit exec --function {} -- CMD", input.function.name),
        may_assume: input.role.map(|r| analyze_trust(input.local, r).allowed),
        needs: needs.collect(),
    };
    let mut notes = input.notes.clone();
    let levels = (input.local.graph.org_levels(), input.prod.graph.org_levels());
    notes.extend(usage_notes(input.usage, &calls, !levels.1.is_empty()));
    notes.extend(input.needs.iter().flat_map(|n| n.notes.iter().cloned()));
    notes.extend(configuration_note(&configuration));
    let mut mismatches: Vec<MismatchEntry> = comparison.mismatches.iter().map(MismatchEntry::of).collect();
    let mut calls: Vec<CallEntry> = calls.iter().map(CallEntry::of).collect();
    for details in
        mismatches.iter_mut().map(|m| &mut m.details).chain(calls.iter_mut().map(|c| &mut c.details))
    {
        name_org_level(&mut details.local, &levels.0);
        name_org_level(&mut details.prod, &levels.1);
    }
    let mut summary = summarize(&comparison.mismatches, &calls, comparison.actions_compared);
    summary.needed_by_configuration = configuration.len();
    DiffReport {
        local: LocalRef { profile: input.profile.clone(), principal_arn: input.local.principal.arn.clone() },
        function: input.function.clone(),
        mismatches,
        configuration: configuration.iter().map(ConfigurationEntry::of).collect(),
        calls,
        proposals,
        reproduce,
        summary,
        normalization: input.norm.describe(),
        usage_known: input.usage.is_some(),
        partial: input.partial,
        notes,
        labels: Labels { local: input.local.to_string(), prod: input.prod.to_string() },
    }
}

/// An implicit deny by an organization level names the level (`no SCP at OU Prod (ou-...) allows
/// it`), not only its index.
fn name_org_level(side: &mut Side, levels: &[crate::graph::OrgLevelView]) {
    let Some(reason) = side.reason.as_mut() else { return };
    for (i, level) in levels.iter().enumerate() {
        for (r, kind) in [(DenyReason::Scp(i), "SCP"), (DenyReason::Rcp(i), "RCP")] {
            if *reason == r.to_string() {
                *reason = format!("no {kind} at {} allows it", level.level);
                return;
            }
        }
    }
}

fn allows(side: &SideDecision) -> bool {
    side.decision.verdict == Verdict::Allow
}

fn summarize(mismatches: &[Mismatch], calls: &[CallEntry], actions_compared: usize) -> Summary {
    let count = |d: Direction| mismatches.iter().filter(|m| m.direction == d).count();
    Summary {
        local_only: count(Direction::LocalOnly),
        prod_only: count(Direction::ProdOnly),
        used_mismatches: mismatches.iter().filter(|m| m.used).count(),
        actions_compared,
        conditional: mismatches.iter().filter(|m| m.conditional()).count(),
        calls: calls.len(),
        calls_differing: calls.iter().filter(|c| c.differs).count(),
        needed_by_configuration: 0,
    }
}

/// The note on mismatches set aside as the Lambda service's own needs.
fn configuration_note(aside: &[ConfigurationMismatch]) -> Option<String> {
    if aside.is_empty() {
        return None;
    }
    let mut sids: Vec<&str> = Vec::new();
    for c in aside {
        if !sids.contains(&c.sid.as_str()) {
            sids.push(&c.sid);
        }
    }
    let lacking = aside.iter().filter(|c| c.mismatch.direction == Direction::LocalOnly).count();
    let lacking = if lacking > 0 {
        format!("; {lacking} of them local-only: the role lacks what the Lambda service needs (iamfit audit --function reports it)")
    } else {
        String::new()
    };
    Some(format!(
        "{} mismatch(es) are permissions the Lambda service itself needs for the function's configuration ({}), not the code's: set aside and not counted (JSON: configuration){lacking}",
        aside.len(),
        sids.join(", ")
    ))
}

/// What the user should know about the calls: resources the events do not name, calls not kept,
/// and evaluations that CloudTrail contradicts.
fn usage_notes(usage: Option<&Usage>, calls: &[Call], org_known: bool) -> Vec<String> {
    let Some(usage) = usage else { return Vec::new() };
    let mut notes = Vec::new();
    for (action, a) in &usage.actions {
        if a.resources.unknown > 0 {
            notes.push(format!(
                "{} call(s) of {action} name no resource: they are not in `calls` and mark no witness used",
                a.resources.unknown
            ));
        }
    }
    if usage.calls_dropped > 0 {
        notes.push(format!(
            "{} call(s) were not kept: more than {} distinct (action, resource) calls",
            usage.calls_dropped,
            iamfit_trail::usage::MAX_CALLS
        ));
    }
    for c in calls {
        let allows = c.prod.decision.verdict == Verdict::Allow;
        if c.denied == c.count && allows {
            notes.push(format!(
                "CloudTrail shows {} on {} denied, but the role's policies allow it: something iamfit does not see denies it ({})",
                c.action,
                c.resource,
                if org_known {
                    "a resource-based policy, a session policy"
                } else {
                    "an SCP or RCP, which are not known here (a snapshot's organization/ folder, or --org-profile live, adds them), a resource-based policy, a session policy"
                }
            ));
        } else if c.denied == 0 && !allows {
            notes.push(format!(
                "CloudTrail shows {} on {} allowed, but the role's policies do not allow it: a resource-based policy or a condition iamfit cannot see allows it",
                c.action, c.resource
            ));
        }
    }
    notes
}
