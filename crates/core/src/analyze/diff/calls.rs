//! The calls the function made, each evaluated exactly as both principals on its concrete resource,
//! with the request context the events show.
//!
//! Which keys an event gives (CloudTrail record contents, "CloudTrail record contents for management,
//! data, and network activity events", AWS CloudTrail User Guide; "AWS global condition context keys",
//! IAM User Guide):
//!
//! - `aws:RequestedRegion` from `awsRegion`.
//! - A call a service made with the principal's credentials (forward access sessions) has
//!   `userIdentity.invokedBy` and the service as `sourceIPAddress`: `aws:ViaAWSService` is `true`,
//!   `aws:CalledVia`/`aws:CalledViaFirst`/`aws:CalledViaLast` name the service when it is one of those
//!   that set the key (Athena, CloudFormation, DynamoDB, KMS), and `kms:ViaService` is
//!   `SERVICE.REGION.amazonaws.com` for KMS actions ("kms:ViaService", AWS KMS Developer Guide). The
//!   original caller's `aws:SourceIp` is not in such a record.
//! - A direct call: `aws:ViaAWSService` is `false`, the `CalledVia` keys and `kms:ViaService` are
//!   absent; `sourceIPAddress` is `aws:SourceIp`, unless the call came through a VPC endpoint
//!   (`vpcEndpointId`): then `aws:SourceVpce` is the endpoint, `aws:VpcSourceIp` the address, and
//!   `aws:SourceIp` is absent. `tlsDetails` means `aws:SecureTransport` is `true`.
//!
//! The local side is the same call made from the developer's machine: the same region and the same
//! service chain, `aws:SecureTransport` `true` (the AWS SDKs and CLI use HTTPS), no VPC endpoint, and
//! an `aws:SourceIp` the trail cannot know. Keys iamfit assumes are listed with each call, but only
//! keys that a condition of either principal's policies tests: the others cannot change a decision.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use iamfit_policy::context::{ContextValue, RequestContext};
use iamfit_policy::eval::Verdict;
use iamfit_trail::usage::{CallContext, CallUse, Usage};

use super::{evaluate, Normalization, SideDecision};
use crate::account::Subject;

/// Services that set `aws:CalledVia` when they call on a principal's behalf ("aws:CalledVia", AWS
/// global condition context keys, IAM User Guide).
pub const CALLED_VIA_SERVICES: &[&str] =
    &["athena.amazonaws.com", "cloudformation.amazonaws.com", "dynamodb.amazonaws.com", "kms.amazonaws.com"];

/// One observed call, evaluated as both principals.
#[derive(Debug, Clone)]
pub struct Call {
    /// The action.
    pub action: String,
    /// The concrete resource (`*` for actions without resource types), as production names it.
    pub resource: String,
    /// Calls in the trail.
    pub count: u64,
    /// Of which denied.
    pub denied: u64,
    /// The local principal's decision (the least permissive over the contexts seen).
    pub local: SideDecision,
    /// The function role's decision.
    pub prod: SideDecision,
    /// Whether the decisions differ between the request contexts seen.
    pub varies: bool,
    /// The tested keys the events gave (production side), with their values (several contexts:
    /// `a | b`); `absent` for keys known to be missing.
    pub context: BTreeMap<String, String>,
    /// Keys iamfit assumed or could not know, in words.
    pub assumed: Vec<String>,
    /// The request context of the production call that decided, to evaluate changes against.
    pub prod_context: RequestContext,
    /// The request context of the local call that decided.
    pub local_context: RequestContext,
}

/// The condition keys (lower-case) that any statement of either principal tests.
pub fn tested_keys(subjects: &[&Subject]) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for s in subjects {
        let set = &s.policies;
        for named in set.identity.iter().chain(set.boundary.iter()).chain(set.session.iter()) {
            for st in &named.policy.statements {
                keys.extend(st.conditions.iter().map(|c| c.key.to_ascii_lowercase()));
            }
        }
    }
    keys
}

/// What one side's context says of a key, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Known {
    Value(ContextValue),
    Absent,
    Unknown(&'static str),
    Assumed(ContextValue, &'static str),
}

/// The keys of one side's request context, and what is known of each.
type Keys = Vec<(&'static str, Known)>;

/// The request context of one call as production made it and as the local run would make it.
fn side_keys(call: &CallContext, action: &str) -> (Keys, Keys) {
    let single = |v: &str| ContextValue::Single(v.to_string());
    let mut prod = Vec::new();
    let mut local = Vec::new();
    if let Some(region) = &call.region {
        prod.push(("aws:RequestedRegion", Known::Value(single(region))));
        local.push(("aws:RequestedRegion", Known::Value(single(region))));
    }
    let via = call.invoked_by.as_deref().filter(|s| s.ends_with(".amazonaws.com"));
    let mut both = |key: &'static str, k: Known| {
        prod.push((key, k.clone()));
        local.push((key, k));
    };
    both("aws:ViaAWSService", Known::Value(single(if via.is_some() { "true" } else { "false" })));
    match via {
        Some(service) if CALLED_VIA_SERVICES.contains(&service) => {
            both("aws:CalledVia", Known::Value(ContextValue::Multi(vec![service.to_string()])));
            both("aws:CalledViaFirst", Known::Value(single(service)));
            both("aws:CalledViaLast", Known::Value(single(service)));
        }
        _ => {
            for key in ["aws:CalledVia", "aws:CalledViaFirst", "aws:CalledViaLast"] {
                both(key, Known::Absent);
            }
        }
    }
    if action.to_ascii_lowercase().starts_with("kms:") {
        match (via, &call.region) {
            (Some(service), Some(region)) => {
                let name = service.strip_suffix(".amazonaws.com").unwrap_or(service);
                both("kms:ViaService", Known::Value(single(&format!("{name}.{region}.amazonaws.com"))));
            }
            (Some(_), None) => both("kms:ViaService", Known::Unknown("the event names no region")),
            (None, _) => both("kms:ViaService", Known::Absent),
        }
    }
    if via.is_some() {
        let why = "a call made by a service on the principal's behalf does not show the caller's address";
        prod.push(("aws:SourceIp", Known::Unknown(why)));
        local.push(("aws:SourceIp", Known::Unknown(why)));
        let tls = "AWS services call each other over TLS";
        prod.push(("aws:SecureTransport", Known::Assumed(single("true"), tls)));
        local.push(("aws:SecureTransport", Known::Assumed(single("true"), tls)));
        return (prod, local);
    }
    direct_network_keys(call, &mut prod);
    local.push(("aws:SourceIp", Known::Unknown("the developer's address is not in the trail")));
    local.push(("aws:SourceVpce", Known::Absent));
    local.push(("aws:VpcSourceIp", Known::Absent));
    local.push(("aws:SecureTransport", Known::Assumed(single("true"), "the AWS SDKs and CLI use HTTPS")));
    (prod, local)
}

/// The network keys of a direct call, from `sourceIPAddress`, `vpcEndpointId` and `tlsDetails`.
fn direct_network_keys(call: &CallContext, prod: &mut Vec<(&'static str, Known)>) {
    let single = |v: &str| ContextValue::Single(v.to_string());
    let ip = call.source.as_deref().filter(|s| s.parse::<IpAddr>().is_ok());
    match (ip, &call.vpc_endpoint) {
        (Some(ip), Some(vpce)) => {
            prod.push(("aws:SourceIp", Known::Absent));
            prod.push(("aws:SourceVpce", Known::Value(single(vpce))));
            prod.push(("aws:VpcSourceIp", Known::Value(single(ip))));
        }
        (Some(ip), None) => {
            prod.push(("aws:SourceIp", Known::Value(single(ip))));
            prod.push(("aws:SourceVpce", Known::Absent));
            prod.push(("aws:VpcSourceIp", Known::Absent));
        }
        (None, _) => {
            prod.push(("aws:SourceIp", Known::Unknown("the event's sourceIPAddress is not an address")))
        }
    }
    let secure = if call.tls {
        Known::Value(single("true"))
    } else {
        Known::Assumed(single("true"), "the event has no tlsDetails; the AWS SDKs use HTTPS")
    };
    prod.push(("aws:SecureTransport", secure));
}

/// A context from the keys that matter, and a key describing it (to evaluate each distinct one once).
fn build(keys: &[(&'static str, Known)], tested: &BTreeSet<String>) -> (RequestContext, String) {
    let mut ctx = RequestContext::new();
    let mut id = String::new();
    for (key, known) in keys.iter().filter(|(k, _)| tested.contains(&k.to_ascii_lowercase())) {
        match known {
            Known::Value(v) | Known::Assumed(v, _) => {
                ctx.insert(key, v.clone());
                id.push_str(&format!("{key}={v};"));
            }
            Known::Absent => {
                ctx.mark_absent(key);
                id.push_str(&format!("{key}!;"));
            }
            Known::Unknown(_) => id.push_str(&format!("{key}?;")),
        }
    }
    (ctx, id)
}

/// The report's view of the tested keys: values given by the events, and what was assumed.
fn describe(
    prod: &[(&'static str, Known)],
    local: &[(&'static str, Known)],
    tested: &BTreeSet<String>,
) -> (BTreeMap<String, String>, Vec<String>) {
    let is_tested = |k: &&str| tested.contains(&k.to_ascii_lowercase());
    let mut context = BTreeMap::new();
    let mut assumed = Vec::new();
    for (side, keys) in [("prod", prod), ("local", local)] {
        for (key, known) in keys.iter().filter(|(k, _)| is_tested(k)) {
            match known {
                Known::Value(v) if side == "prod" => {
                    context.insert(key.to_string(), v.to_string());
                }
                Known::Absent if side == "prod" => {
                    context.insert(key.to_string(), "absent".to_string());
                }
                Known::Assumed(v, why) => assumed.push(format!("{side} {key} = {v} (assumed: {why})")),
                Known::Unknown(why) => assumed.push(format!("{side} {key} unknown ({why})")),
                _ => {}
            }
        }
    }
    (context, assumed)
}

/// Evaluates every observed call as both principals.
pub fn evaluate_calls(local: &Subject, prod: &Subject, usage: &Usage, norm: &Normalization) -> Vec<Call> {
    let tested = tested_keys(&[local, prod]);
    usage
        .calls
        .iter()
        .map(|((action, resource), call)| evaluate_call(local, prod, action, resource, call, norm, &tested))
        .collect()
}

fn rank(v: Verdict) -> u8 {
    match v {
        Verdict::Allow => 0,
        Verdict::ImplicitDeny => 1,
        Verdict::ExplicitDeny => 2,
    }
}

fn evaluate_call(
    local: &Subject,
    prod: &Subject,
    action: &str,
    resource: &str,
    call: &CallUse,
    norm: &Normalization,
    tested: &BTreeSet<String>,
) -> Call {
    let local_resource = if resource == "*" { resource.to_string() } else { norm.to_local(resource) };
    let mut seen = BTreeSet::new();
    let mut decided: Option<Call> = None;
    let mut outcomes = BTreeSet::new();
    let mut values_seen: BTreeMap<String, String> = BTreeMap::new();
    let empty = CallContext::default();
    let contexts: Vec<&CallContext> =
        if call.contexts.is_empty() { vec![&empty] } else { call.contexts.iter().collect() };
    for context in contexts {
        let (prod_keys, local_keys) = side_keys(context, action);
        let (prod_ctx, prod_id) = build(&prod_keys, tested);
        let (local_ctx, local_id) = build(&local_keys, tested);
        if !seen.insert((prod_id, local_id)) {
            continue;
        }
        for (key, value) in describe(&prod_keys, &local_keys, tested).0 {
            let values = values_seen.entry(key).or_default();
            if !values.split(" | ").any(|v| v == value) {
                if !values.is_empty() {
                    values.push_str(" | ");
                }
                values.push_str(&value);
            }
        }
        let l = evaluate(local, action, &local_resource, &local_ctx);
        let p = evaluate(prod, action, resource, &prod_ctx);
        outcomes.insert((l.0.verdict, p.0.verdict));
        let worse = decided.as_ref().is_none_or(|d| {
            (rank(p.0.verdict), rank(l.0.verdict))
                > (rank(d.prod.decision.verdict), rank(d.local.decision.verdict))
        });
        if worse {
            let (context, assumed) = describe(&prod_keys, &local_keys, tested);
            decided = Some(Call {
                action: action.to_string(),
                resource: resource.to_string(),
                count: call.count,
                denied: call.denied,
                local: SideDecision { decision: l.0, conditional: l.2, resource: local_resource.clone() },
                prod: SideDecision { decision: p.0, conditional: p.2, resource: resource.to_string() },
                varies: false,
                context,
                assumed,
                prod_context: prod_ctx,
                local_context: local_ctx,
            });
        }
    }
    let mut out = decided.unwrap_or_else(|| unreachable_call(action, resource, call));
    out.varies = outcomes.len() > 1;
    out.context = values_seen;
    if call.contexts_truncated {
        out.assumed.push(
            "more request contexts were seen than iamfit keeps (16): the others were not evaluated".into(),
        );
    }
    out
}

/// A call with no context at all cannot happen (one empty context is always evaluated); this keeps
/// the code free of panics.
fn unreachable_call(action: &str, resource: &str, call: &CallUse) -> Call {
    let decision = iamfit_policy::eval::Decision {
        verdict: Verdict::ImplicitDeny,
        matched: Vec::new(),
        reason: None,
        conditional: false,
        notes: Vec::new(),
    };
    let side = SideDecision { decision, conditional: false, resource: resource.to_string() };
    Call {
        action: action.to_string(),
        resource: resource.to_string(),
        count: call.count,
        denied: call.denied,
        local: side.clone(),
        prod: side,
        varies: false,
        context: BTreeMap::new(),
        assumed: Vec::new(),
        prod_context: RequestContext::new(),
        local_context: RequestContext::new(),
    }
}
