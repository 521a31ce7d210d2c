//! The usage report: what a principal did (from a [`Replay`]) and, when its grant is known, how each
//! granted action is covered: used, needed by the function's configuration (the Lambda service's own
//! calls), unused, or unobservable by CloudTrail. Its `Serialize` form is the JSON of `iamfit usage`.

use serde::Serialize;

use iamfit_catalog::Catalog;
use iamfit_trail::map::{coverage, Coverage};

use crate::account::Subject;
use crate::analyze::effective::effective_permissions;
use crate::analyze::service_needs::ServiceNeeds;
use crate::source::Replay;
use iamfit_policy::eval::{DenyReason, Verdict};

/// `iamfit usage`'s report.
#[derive(Debug, Clone, Serialize)]
pub struct UsageReport {
    /// The principal, as the user named it.
    pub principal: String,
    /// Records read and matched.
    pub events: Events,
    /// Actions used successfully.
    pub actions: Vec<UsedAction>,
    /// Calls denied (evidence of a missing permission, never counted as used).
    pub denied: Vec<DeniedAction>,
    /// Events iamfit cannot map to IAM actions.
    pub unmapped: Vec<Unmapped>,
    /// Calls that need no permission (`sts:GetCallerIdentity`).
    pub permissionless_calls: u64,
    /// Records that are not API calls (console sign-ins, AWS service events): no IAM action.
    pub non_api_events: u64,
    /// Log files that could not be read.
    pub files_failed: Vec<FileFailed>,
    /// Whether something could not be read (exit status 3).
    pub partial: bool,
    /// The window read.
    pub window: Window,
    /// What the user should know.
    pub notes: Vec<String>,
    /// Coverage of the current grant, when it is known (`--function`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<CoverageReport>,
}

/// Records read and matched.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Events {
    /// Records read.
    pub read: u64,
    /// Records of the principal in the window.
    pub matched: u64,
    /// Records that could not be parsed.
    pub malformed: u64,
}

/// One used action.
#[derive(Debug, Clone, Serialize)]
pub struct UsedAction {
    /// The action.
    pub action: String,
    /// Calls.
    pub count: u64,
    /// Every distinct resource (up to 1,000).
    pub resources: Vec<String>,
    /// Earliest call.
    pub first_seen: String,
    /// Latest call.
    pub last_seen: String,
    /// More resources were seen than listed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub resources_truncated: bool,
    /// Calls whose resource the events do not name.
    #[serde(skip_serializing_if = "is_zero")]
    pub calls_without_known_resource: u64,
    /// Where the calls were seen: `cloudtrail`, `recording`.
    pub seen_in: Vec<&'static str>,
}

/// One denied action with one error code.
#[derive(Debug, Clone, Serialize)]
pub struct DeniedAction {
    /// The action.
    pub action: String,
    /// Calls.
    pub count: u64,
    /// Resources named.
    pub resources: Vec<String>,
    /// The error code (`AccessDenied`, ...).
    pub error_code: String,
    /// Latest call.
    pub last_seen: String,
    /// More resources were seen than listed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub resources_truncated: bool,
    /// Where the calls were seen: `cloudtrail`, `recording`.
    pub seen_in: Vec<&'static str>,
}

/// Events that map to no IAM action.
#[derive(Debug, Clone, Serialize)]
pub struct Unmapped {
    /// `eventSource`.
    pub event_source: String,
    /// `eventName`.
    pub event_name: String,
    /// How many.
    pub count: u64,
}

/// A log file that could not be read.
#[derive(Debug, Clone, Serialize)]
pub struct FileFailed {
    /// Its path or URL.
    pub path: String,
    /// Why.
    pub error: String,
}

/// The window read.
#[derive(Debug, Clone, Serialize)]
pub struct Window {
    /// Start (RFC 3339), or none.
    pub since: Option<String>,
    /// End (RFC 3339), or none (now).
    pub until: Option<String>,
}

/// How the granted actions are covered by the evidence.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageReport {
    /// Granted actions.
    pub granted: usize,
    /// Of which used.
    pub used: usize,
    /// Of which not used in the window.
    pub unused: usize,
    /// Of which CloudTrail cannot show.
    pub unobservable: usize,
    /// Of which the Lambda service needs for the function's configuration (not the code: no trail
    /// shows them as the function's calls).
    pub needed_by_configuration: usize,
    /// Each granted action and its status.
    pub actions: Vec<CoveredAction>,
    /// Distinct calls of the evidence (with a named resource) that the current policies allow,
    /// decided against the whole stack the account model holds: the identity side, the boundary and
    /// the resource's own policy (`Subject::policies_for`).
    pub calls_allowed: usize,
    /// Of those calls, how many the current policies deny.
    pub calls_denied: usize,
    /// The calls denied today, and those a resource-based policy took part in, with their decision.
    pub calls: Vec<CoveredCall>,
}

/// One call of the evidence, decided against the current policies.
#[derive(Debug, Clone, Serialize)]
pub struct CoveredCall {
    /// The action.
    pub action: String,
    /// The resource.
    pub resource: String,
    /// `allow`, `explicit-deny` or `implicit-deny` (conditions with unknown keys read as met).
    pub decision: &'static str,
    /// For a deny: the layer that decides (`identity`, `boundary`, `resource`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// For a deny: why, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Whether the call's resource has a known resource-based policy that took part.
    pub resource_policy: bool,
}

/// Decides every distinct call of the evidence (with a named resource) against `subject`.
fn covered_calls(subject: &Subject, replay: &Replay) -> Vec<CoveredCall> {
    let empty = iamfit_policy::context::RequestContext::new();
    replay
        .usage
        .calls
        .keys()
        .filter(|(_, resource)| resource.starts_with("arn:"))
        .map(|(action, resource)| {
            let (decision, _, _) = crate::analyze::diff::evaluate(subject, action, resource, &empty);
            let (layer, reason) = match decision.verdict {
                Verdict::Allow => (None, None),
                Verdict::ExplicitDeny => (
                    decision.matched.first().map(|m| m.layer.to_string()),
                    decision
                        .matched
                        .first()
                        .map(|m| format!("explicit deny in {} ({})", m.policy.name, m.label())),
                ),
                Verdict::ImplicitDeny => (
                    decision.reason.map(|r| deny_layer(r).to_string()),
                    decision.reason.map(|r| r.to_string()),
                ),
            };
            CoveredCall {
                action: action.clone(),
                resource: resource.clone(),
                decision: decision.verdict.as_str(),
                layer,
                reason,
                resource_policy: subject.resources.for_resource(resource).is_some(),
            }
        })
        .collect()
}

/// The layer an implicit deny's reason names.
fn deny_layer(reason: DenyReason) -> &'static str {
    match reason {
        DenyReason::NoAllow => "identity",
        DenyReason::Boundary => "boundary",
        DenyReason::Session => "session",
        DenyReason::Scp(_) => "scp",
        DenyReason::Rcp(_) => "rcp",
        DenyReason::ResourcePolicy | DenyReason::KeyPolicy | DenyReason::AwsOwned => "resource",
        DenyReason::Trust => "trust",
    }
}

/// One granted action and its status.
#[derive(Debug, Clone, Serialize)]
pub struct CoveredAction {
    /// The action.
    pub action: String,
    /// `used`, `needed-by-configuration`, `unused`, or `unobservable: ...` with the reason.
    pub status: &'static str,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The status of a granted action given the replay and what the function's configuration needs.
fn status_of(action: &str, replay: &Replay, needs: &ServiceNeeds, catalog: &Catalog) -> &'static str {
    if replay.usage.used(action) {
        return "used";
    }
    if needs.needs_action(action) {
        return "needed-by-configuration";
    }
    let service = action.split(':').next().unwrap_or("");
    match catalog.action(action).map(coverage) {
        Some(Coverage::Logged) | None => "unused",
        // The trail records this service's data events: not seen means not used.
        Some(Coverage::DataEvent) if replay.usage.data_event_services.contains(service) => "unused",
        Some(Coverage::DataEvent) => {
            "unobservable: a data event, recorded only when the trail logs data events"
        }
        Some(Coverage::NotLogged) => "unobservable: CloudTrail does not record it",
    }
}

/// For every action the subject is granted: used, needed by the function's configuration (`needs`,
/// empty for a principal that is not a function's role), unused, or unobservable.
pub fn coverage_report(
    subject: &Subject,
    replay: &Replay,
    needs: &ServiceNeeds,
    catalog: &Catalog,
) -> CoverageReport {
    let actions: Vec<CoveredAction> = effective_permissions(subject, catalog)
        .into_iter()
        .filter(|e| !(e.allowed.is_empty() && e.conditional.is_empty()))
        .map(|e| CoveredAction { status: status_of(&e.action, replay, needs, catalog), action: e.action })
        .collect();
    let count = |f: fn(&str) -> bool| actions.iter().filter(|a| f(a.status)).count();
    let calls = covered_calls(subject, replay);
    CoverageReport {
        granted: actions.len(),
        used: count(|s| s == "used"),
        unused: count(|s| s == "unused"),
        unobservable: count(|s| s.starts_with("unobservable")),
        needed_by_configuration: count(|s| s == "needed-by-configuration"),
        actions,
        calls_allowed: calls.iter().filter(|c| c.decision == "allow").count(),
        calls_denied: calls.iter().filter(|c| c.decision != "allow").count(),
        calls: calls.into_iter().filter(|c| c.decision != "allow" || c.resource_policy).collect(),
    }
}

/// Builds the usage report of `principal` from a replay (with coverage when the grant is known;
/// `needs` is what the Lambda service needs for a function's configuration, empty otherwise).
pub fn usage_report(
    principal: &str,
    replay: &Replay,
    subject: Option<&Subject>,
    needs: &ServiceNeeds,
    catalog: &Catalog,
) -> UsageReport {
    let u = &replay.usage;
    UsageReport {
        principal: principal.to_string(),
        events: Events { read: replay.records, matched: u.matched, malformed: replay.malformed },
        actions: u
            .actions
            .iter()
            .map(|(name, a)| UsedAction {
                action: name.clone(),
                count: a.count,
                resources: a.resources.set.iter().cloned().collect(),
                first_seen: a.first_seen.clone(),
                last_seen: a.last_seen.clone(),
                resources_truncated: a.resources.truncated,
                calls_without_known_resource: a.resources.unknown,
                seen_in: a.seen_in.iter().map(|o| o.as_str()).collect(),
            })
            .collect(),
        denied: u
            .denied
            .iter()
            .map(|((action, code), d)| DeniedAction {
                action: action.clone(),
                count: d.count,
                resources: d.resources.set.iter().cloned().collect(),
                error_code: code.clone(),
                last_seen: d.last_seen.clone(),
                resources_truncated: d.resources.truncated,
                seen_in: d.seen_in.iter().map(|o| o.as_str()).collect(),
            })
            .collect(),
        unmapped: u
            .unmapped
            .iter()
            .map(|((source, name), count)| Unmapped {
                event_source: source.clone(),
                event_name: name.clone(),
                count: *count,
            })
            .collect(),
        permissionless_calls: u.permissionless,
        non_api_events: u.non_api,
        files_failed: replay
            .failed
            .iter()
            .map(|(p, why)| FileFailed { path: p.clone(), error: why.clone() })
            .collect(),
        partial: replay.partial(),
        window: Window { since: replay.window.since.clone(), until: replay.window.until.clone() },
        notes: replay.notes.clone(),
        coverage: subject.map(|s| coverage_report(s, replay, needs, catalog)),
    }
}
