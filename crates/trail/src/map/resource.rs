//! The resources an action was used on: service rules, the record's `resources[]`, ARNs among the
//! request parameters, and the catalog's ARN formats filled from the request (see the module
//! documentation of `map`).

use serde_json::Value;

use iamfit_catalog::ActionRef;

use super::arn::{arn_matches, fill_from_params, name_part};
use super::request::{param, param_str, values_at};
use super::{Ctx, ResourceKnowledge};

/// ARNs and what is known of them.
pub(super) type Resolved = (Vec<String>, ResourceKnowledge);

/// Sorted, distinct ARNs as known resources; `None` when there are none.
pub(super) fn known(mut arns: Vec<String>) -> Option<Resolved> {
    if arns.is_empty() {
        return None;
    }
    arns.sort();
    arns.dedup();
    Some((arns, ResourceKnowledge::Known))
}

/// The resources `action` was used on in the call `op` of service `prefix`.
pub(super) fn resolve(ctx: &Ctx, prefix: &str, op: &str, action: ActionRef<'_>) -> Resolved {
    let rts = action.resource_types();
    if rts.is_empty() {
        return (Vec::new(), ResourceKnowledge::NotScoped);
    }
    let formats: Vec<(&str, &str)> = rts
        .iter()
        .flat_map(|r| r.resource_type.arn_formats.iter().map(move |f| (r.resource_type.name, *f)))
        .collect();
    if let Some(r) = service_resources(ctx, prefix, op, action, &formats) {
        return r;
    }
    let matching = |arns: &mut dyn Iterator<Item = &String>| -> Vec<String> {
        arns.filter(|a| formats.iter().any(|(_, f)| arn_matches(f, a))).cloned().collect()
    };
    if let Some(r) = known(matching(&mut ctx.record_arns.iter())) {
        return r;
    }
    let mut values = Vec::new();
    collect_strings(&ctx.params, &mut values);
    if let Some(r) = known(matching(&mut values.iter().filter(|v| v.starts_with("arn:")))) {
        return r;
    }
    if let Some(r) = fill_from_params(ctx, prefix, op, action, &formats) {
        return r;
    }
    (Vec::new(), ResourceKnowledge::Unknown("no request parameter names the resource"))
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| collect_strings(i, out)),
        Value::Object(m) => m.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

/// Rule 1 of the resource rules: what the services' own parameters say.
fn service_resources(
    ctx: &Ctx,
    prefix: &str,
    op: &str,
    action: ActionRef<'_>,
    formats: &[(&str, &str)],
) -> Option<Resolved> {
    let p = &ctx.params;
    let (part, region, acct) = (ctx.partition, ctx.region.as_str(), ctx.account.as_str());
    let has_type = |t: &str| formats.iter().any(|(rt, _)| rt.eq_ignore_ascii_case(t));
    match prefix {
        "dynamodb" => super::dynamodb::resources(ctx, op, action, &has_type),
        "s3" => super::s3::resources(ctx, op, action, &has_type),
        "sqs" => {
            let url = param_str(p, "queueUrl")?;
            sqs_queue_arn(url, part, region).and_then(|a| known(vec![a]))
        }
        "kms" => kms_resources(ctx, action, has_type("alias")),
        "secretsmanager" => secret_resources(ctx, op, action),
        "ssm" if has_type("parameter") => {
            let mut names: Vec<String> = Vec::new();
            for n in ["name", "names", "path"] {
                names.extend(values_at(p, n));
            }
            known(
                names
                    .into_iter()
                    .map(|n| {
                        if n.starts_with("arn:") {
                            n
                        } else {
                            // A selector (`name:3`, `name:label`) is not part of the ARN.
                            let n = n.split(':').next().unwrap_or(&n);
                            format!("arn:{part}:ssm:{region}:{acct}:parameter/{}", n.trim_start_matches('/'))
                        }
                    })
                    .collect(),
            )
        }
        "lambda" if has_type("function") => {
            let f = param_str(p, "functionName")?;
            let qualifier = param_str(p, "qualifier");
            lambda_function_arn(f, qualifier, part, region, acct).and_then(|a| known(vec![a]))
        }
        "events" => {
            if op == "PutEvents" && has_type("event-bus") {
                let mut buses = values_at(p, "entries[].eventBusName");
                let entries = param(p, "entries").and_then(Value::as_array).map_or(0, Vec::len);
                if buses.len() < entries || entries == 0 {
                    buses.push("default".into());
                }
                return known(
                    buses
                        .into_iter()
                        .map(|b| {
                            if b.starts_with("arn:") {
                                b
                            } else {
                                format!("arn:{part}:events:{region}:{acct}:event-bus/{b}")
                            }
                        })
                        .collect(),
                );
            }
            if has_type("rule-on-default-event-bus") {
                let rule = param_str(p, "name").or_else(|| param_str(p, "rule"))?;
                if rule.starts_with("arn:") {
                    return known(vec![rule.to_string()]);
                }
                return match param_str(p, "eventBusName").map(name_part).filter(|b| *b != "default") {
                    Some(bus) => known(vec![format!("arn:{part}:events:{region}:{acct}:rule/{bus}/{rule}")]),
                    None => known(vec![format!("arn:{part}:events:{region}:{acct}:rule/{rule}")]),
                };
            }
            None
        }
        _ => None,
    }
}

/// `https://sqs.us-east-1.amazonaws.com/111122223333/orders` (also `queue.amazonaws.com` and
/// `us-east-1.queue.amazonaws.com` hosts) -> `arn:aws:sqs:us-east-1:111122223333:orders`.
pub fn sqs_queue_arn(url: &str, partition: &str, default_region: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let mut parts = rest.split('/');
    let host = parts.next()?;
    let account = parts.next().filter(|a| !a.is_empty())?;
    let name = parts.next().filter(|n| !n.is_empty())?;
    let labels: Vec<&str> = host.split('.').collect();
    let region = match labels.as_slice() {
        ["sqs", r, ..] if *r != "amazonaws" => (*r).to_string(),
        [r, "queue", ..] => (*r).to_string(),
        _ => default_region.to_string(),
    };
    let partition = if host.ends_with(".amazonaws.com.cn") { "aws-cn" } else { partition };
    Some(format!("arn:{partition}:sqs:{region}:{account}:{name}"))
}

/// A Lambda `FunctionName` (name, `name:qualifier`, `ACCOUNT:function:name[:qualifier]`, or a full or
/// qualified ARN) and an optional `Qualifier` -> the function ARN IAM evaluates (qualified when invoked
/// with a qualifier).
pub fn lambda_function_arn(
    f: &str,
    qualifier: Option<&str>,
    partition: &str,
    region: &str,
    account: &str,
) -> Option<String> {
    let (mut part, mut reg, mut acct) = (partition.to_string(), region.to_string(), account.to_string());
    let rest: &str = if let Some(arn) = f.strip_prefix("arn:") {
        let fields: Vec<&str> = arn.splitn(6, ':').collect();
        if fields.len() < 6 || fields[4] != "function" {
            return None;
        }
        part = fields[0].to_string();
        reg = fields[2].to_string();
        acct = fields[3].to_string();
        fields[5]
    } else if let Some((a, r)) = f.split_once(":function:") {
        acct = a.to_string();
        r
    } else {
        f
    };
    let (name, q) = match rest.split_once(':') {
        Some((n, q)) => (n, Some(q)),
        None => (rest, qualifier),
    };
    if name.is_empty() || reg.is_empty() || acct.is_empty() {
        return None;
    }
    Some(match q.filter(|q| !q.is_empty()) {
        Some(q) => format!("arn:{part}:lambda:{reg}:{acct}:function:{name}:{q}"),
        None => format!("arn:{part}:lambda:{reg}:{acct}:function:{name}"),
    })
}

fn kms_resources(ctx: &Ctx, action: ActionRef<'_>, alias_type: bool) -> Option<Resolved> {
    let p = &ctx.params;
    let (part, region, acct) = (ctx.partition, ctx.region.as_str(), ctx.account.as_str());
    let key_arn = |id: &str| -> Option<String> {
        if id.starts_with("arn:") {
            return id.contains(":key/").then(|| id.to_string());
        }
        (!id.starts_with("alias/")).then(|| format!("arn:{part}:kms:{region}:{acct}:key/{id}"))
    };
    let alias_arn = |a: &str| -> String {
        if a.starts_with("arn:") {
            a.to_string()
        } else {
            format!(
                "arn:{part}:kms:{region}:{acct}:{}",
                if a.starts_with("alias/") { a.to_string() } else { format!("alias/{a}") }
            )
        }
    };
    let record_keys: Vec<String> =
        ctx.record_arns.iter().filter(|a| a.contains(":kms:") && a.contains(":key/")).cloned().collect();
    let name = action.name();
    let param_name = match name {
        "ReEncryptTo" => "destinationKeyId",
        "ReEncryptFrom" => "sourceKeyId",
        _ => "keyId",
    };
    let mut out = Vec::new();
    if alias_type {
        if let Some(a) = param_str(p, "aliasName") {
            out.push(alias_arn(a));
        }
    }
    let id = param_str(p, param_name).or_else(|| param_str(p, "targetKeyId"));
    match id {
        Some(id) if id.starts_with("alias/") || id.contains(":alias/") => {
            if alias_type {
                out.push(alias_arn(id));
            }
            // The key behind the alias: CloudTrail lists it in resources[].
            out.extend(record_keys);
        }
        Some(id) => out.extend(key_arn(id)),
        None if name == "ReEncryptFrom" => {
            // No sourceKeyId in the request (the ciphertext names it): the record's keys other than the
            // destination.
            let dest = param_str(p, "destinationKeyId").and_then(key_arn);
            out.extend(record_keys.into_iter().filter(|k| Some(k) != dest.as_ref()));
        }
        None => out.extend(record_keys),
    }
    match known(out) {
        Some(r) => Some(r),
        None if id.is_some_and(|i| i.contains("alias/")) => Some((
            Vec::new(),
            ResourceKnowledge::Unknown("the key was named by an alias and the record does not name the key"),
        )),
        None => None,
    }
}

/// A Secrets Manager secret named by `SecretId` (`Name` for `CreateSecret`, `SecretIdList` for the
/// `GetSecretValue` of `BatchGetSecretValue`). A secret named without its ARN becomes
/// `arn:...:secret:NAME-??????` (the ARN ends in `-` and six random characters the record does not show).
fn secret_resources(ctx: &Ctx, op: &str, action: ActionRef<'_>) -> Option<Resolved> {
    let p = &ctx.params;
    let (part, region, acct) = (ctx.partition, ctx.region.as_str(), ctx.account.as_str());
    let ids: Vec<String> = if let Some(id) = param_str(p, "secretId") {
        vec![id.to_string()]
    } else if op == "CreateSecret" {
        values_at(p, "name")
    } else if op == "BatchGetSecretValue" && action.name() == "GetSecretValue" {
        values_at(p, "secretIdList")
    } else {
        Vec::new()
    };
    known(
        ids.into_iter()
            .map(|id| {
                if id.starts_with("arn:") {
                    id
                } else {
                    format!("arn:{part}:secretsmanager:{region}:{acct}:secret:{id}-??????")
                }
            })
            .collect(),
    )
}
