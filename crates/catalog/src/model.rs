//! An owned, editable form of the catalog, used by `iamfit catalog update`: built from a parsed
//! catalog, merged with AWS Service Reference documents, and written back in the text format.
//!
//! Merge rule (see [`Model::merge_service_reference`]): the embedded catalog's data is richer
//! (descriptions, required flags, dependent actions, per-resource condition keys), so for services,
//! actions, resource types and condition keys it already has, it is kept unchanged; what the
//! Service Reference adds is appended (source `u`). Operations come only from the Service
//! Reference, so a downloaded service's operations replace the embedded ones.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use super::format;
use super::{AccessLevel, Catalog, Source};

#[derive(Debug, Clone)]
struct KeyM {
    name: String,
    typ: String,
    desc: String,
}

#[derive(Debug, Clone)]
struct RtM {
    name: String,
    arns: Vec<String>,
    keys: Vec<String>,
}

#[derive(Debug, Clone)]
struct ResM {
    rt: String,
    required: bool,
    keys: Vec<String>,
    deps: Vec<String>,
}

#[derive(Debug, Clone)]
struct ActM {
    name: String,
    level: AccessLevel,
    source: Source,
    resources: Vec<ResM>,
    keys: Vec<String>,
    deps: Vec<String>,
    desc: String,
}

#[derive(Debug, Clone)]
struct OpM {
    name: String,
    auth: Vec<String>,
    sdk: Vec<String>,
}

#[derive(Debug, Clone)]
struct ServiceM {
    prefix: String,
    name: String,
    source: Source,
    rts: BTreeMap<String, RtM>,
    actions: BTreeMap<String, ActM>,
    ops: BTreeMap<String, OpM>,
}

/// The owned catalog. Maps are keyed by lower-case names, so iteration is in the format's order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Model {
    keys: BTreeMap<String, KeyM>,
    services: BTreeMap<String, ServiceM>,
}

/// What a merge added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeStats {
    /// Services that were not in the catalog.
    pub services_added: Vec<String>,
    /// Actions (`service:Name`) that were not in the catalog.
    pub actions_added: Vec<String>,
    /// Number of resource types added.
    pub resource_types_added: usize,
    /// Number of condition keys added.
    pub condition_keys_added: usize,
    /// Number of operations read.
    pub operations: usize,
}

/// One line of text: whitespace runs (tabs, newlines) become one space.
fn clean(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A token for a separated list: no whitespace and none of the format's separators.
fn token(text: &str) -> Option<String> {
    let ok = !text.is_empty() && !text.chars().any(|c| c.is_whitespace() || ";,&=|@".contains(c));
    ok.then(|| text.to_string())
}

fn str_list(v: Option<&Value>, field: Option<&str>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|it| match field {
                    Some(f) => it.get(f).and_then(Value::as_str),
                    None => it.as_str(),
                })
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

impl Model {
    /// The owned form of a parsed catalog.
    pub fn from_catalog(cat: &Catalog) -> Model {
        let mut m = Model::default();
        for k in cat.condition_keys() {
            m.keys.insert(
                k.name.to_ascii_lowercase(),
                KeyM { name: k.name.into(), typ: k.value_type.as_str().into(), desc: k.description.into() },
            );
        }
        for svc in cat.services() {
            let mut s = ServiceM {
                prefix: svc.prefix().into(),
                name: svc.name().into(),
                source: svc.source(),
                rts: BTreeMap::new(),
                actions: BTreeMap::new(),
                ops: BTreeMap::new(),
            };
            for rt in svc.resource_types() {
                s.rts.insert(
                    rt.name.to_ascii_lowercase(),
                    RtM {
                        name: rt.name.into(),
                        arns: rt.arn_formats.iter().map(|a| a.to_string()).collect(),
                        keys: rt.condition_keys.iter().map(|k| k.to_string()).collect(),
                    },
                );
            }
            for a in svc.actions() {
                let resources = a
                    .resource_types()
                    .into_iter()
                    .map(|r| ResM {
                        rt: r.resource_type.name.into(),
                        required: r.required,
                        keys: r.condition_keys.iter().map(|k| k.to_string()).collect(),
                        deps: r.dependent_actions.iter().map(|k| k.to_string()).collect(),
                    })
                    .collect();
                s.actions.insert(
                    a.name().to_ascii_lowercase(),
                    ActM {
                        name: a.name().into(),
                        level: a.access_level(),
                        source: a.source(),
                        resources,
                        keys: a.condition_keys().iter().map(|k| k.to_string()).collect(),
                        deps: a.dependent_actions().iter().map(|k| k.to_string()).collect(),
                        desc: a.description().into(),
                    },
                );
            }
            for o in svc.operations() {
                s.ops.insert(
                    o.name.to_ascii_lowercase(),
                    OpM {
                        name: o.name.into(),
                        auth: o
                            .authorized_raw
                            .split(';')
                            .filter(|x| !x.is_empty())
                            .map(str::to_string)
                            .collect(),
                        sdk: o.sdk_services().map(str::to_string).collect(),
                    },
                );
            }
            m.services.insert(svc.prefix().to_ascii_lowercase(), s);
        }
        m
    }

    /// Number of services.
    pub fn service_count(&self) -> usize {
        self.services.len()
    }

    /// Number of actions.
    pub fn action_count(&self) -> usize {
        self.services.values().map(|s| s.actions.len()).sum()
    }

    /// Merges one Service Reference document (`{"Name", "Actions", "Resources", "ConditionKeys",
    /// "Operations"}`) for the service `prefix`. Existing services, actions, resource types and
    /// condition keys are kept unchanged; new ones are added with source [`Source::Update`]; the
    /// service's operations are replaced by the document's when it has an `Operations` list.
    pub fn merge_service_reference(&mut self, prefix: &str, doc: &Value, stats: &mut MergeStats) {
        let Some(prefix) = token(&prefix.to_ascii_lowercase()).filter(|p| !p.contains(':')) else {
            return;
        };
        self.merge_condition_keys(doc, stats);
        let svc = self.services.entry(prefix.clone()).or_insert_with(|| {
            stats.services_added.push(prefix.clone());
            ServiceM {
                prefix: prefix.clone(),
                name: prefix.clone(),
                source: Source::Update,
                rts: BTreeMap::new(),
                actions: BTreeMap::new(),
                ops: BTreeMap::new(),
            }
        });
        let mut new_keys = merge_resource_types(svc, doc, stats);
        new_keys.extend(merge_actions(svc, &prefix, doc, stats));
        if let Some(ops) = doc.get("Operations").and_then(Value::as_array) {
            merge_operations(svc, ops, stats);
        }
        for k in new_keys {
            self.keys.entry(k.to_ascii_lowercase()).or_insert_with(|| KeyM {
                name: k.clone(),
                typ: String::new(),
                desc: String::new(),
            });
        }
    }

    /// The document's condition keys the catalog does not have yet.
    fn merge_condition_keys(&mut self, doc: &Value, stats: &mut MergeStats) {
        for ck in doc.get("ConditionKeys").and_then(Value::as_array).into_iter().flatten() {
            let Some(name) = ck.get("Name").and_then(Value::as_str).and_then(token) else {
                continue;
            };
            let typ = str_list(ck.get("Types"), None).into_iter().next().unwrap_or_default();
            if let std::collections::btree_map::Entry::Vacant(e) = self.keys.entry(name.to_ascii_lowercase())
            {
                stats.condition_keys_added += 1;
                e.insert(KeyM { name, typ: clean(&typ), desc: String::new() });
            }
        }
    }

    /// Writes the catalog text with this header identifier and, for an updated catalog, the
    /// identifier of the catalog it was built from.
    pub fn write(&self, id: &str, base: Option<&str>) -> String {
        let index: BTreeMap<&str, usize> =
            self.keys.keys().enumerate().map(|(i, k)| (k.as_str(), i)).collect();
        let key_list = |keys: &[String]| -> String {
            keys.iter()
                .filter_map(|k| index.get(k.to_ascii_lowercase().as_str()))
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        let mut out = String::with_capacity(4 << 20);
        let _ = write!(out, "{}\t{}\t{}", format::MAGIC, format::VERSION, clean(id));
        if let Some(base) = base {
            let _ = write!(out, "\tbase={}", clean(base));
        }
        out.push('\n');
        for k in self.keys.values() {
            let _ = writeln!(out, "C\t{}\t{}\t{}", k.name, k.typ, clean(&k.desc));
        }
        for s in self.services.values() {
            let _ = writeln!(out, "S\t{}\t{}\t{}", s.prefix, clean(&s.name), s.source.code());
            let rt_index: BTreeMap<&str, usize> =
                s.rts.keys().enumerate().map(|(i, k)| (k.as_str(), i)).collect();
            for rt in s.rts.values() {
                let _ = writeln!(out, "R\t{}\t{}\t{}", rt.name, rt.arns.join(" "), key_list(&rt.keys));
            }
            for a in s.actions.values() {
                let mut res = Vec::new();
                for r in &a.resources {
                    let Some(i) = rt_index.get(r.rt.to_ascii_lowercase().as_str()) else {
                        continue;
                    };
                    let mut item = format!("{i}{}", if r.required { "!" } else { "" });
                    let keys = key_list(&r.keys);
                    if !keys.is_empty() {
                        item.push('/');
                        item.push_str(&keys);
                    }
                    if !r.deps.is_empty() {
                        item.push('>');
                        item.push_str(&r.deps.join(","));
                    }
                    res.push(item);
                }
                let _ = writeln!(
                    out,
                    "A\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    a.name,
                    a.level.code(),
                    a.source.code(),
                    res.join(";"),
                    key_list(&a.keys),
                    a.deps.join(","),
                    clean(&a.desc)
                );
            }
            for o in s.ops.values() {
                let _ = writeln!(out, "O\t{}\t{}\t{}", o.name, o.auth.join(";"), o.sdk.join(","));
            }
        }
        out
    }
}

fn token_arn(text: &str) -> Option<String> {
    (!text.is_empty() && !text.chars().any(char::is_whitespace)).then(|| text.to_string())
}

fn json_scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The document's resource types the service does not have yet; returns the condition keys they name.
fn merge_resource_types(svc: &mut ServiceM, doc: &Value, stats: &mut MergeStats) -> Vec<String> {
    let mut new_keys = Vec::new();
    for res in doc.get("Resources").and_then(Value::as_array).into_iter().flatten() {
        let Some(name) = res.get("Name").and_then(Value::as_str).and_then(token) else {
            continue;
        };
        if svc.rts.contains_key(&name.to_ascii_lowercase()) {
            continue;
        }
        let keys: Vec<String> =
            str_list(res.get("ConditionKeys"), None).iter().filter_map(|k| token(k)).collect();
        new_keys.extend(keys.iter().cloned());
        let arns = str_list(res.get("ARNFormats"), None).iter().filter_map(|a| token_arn(a)).collect();
        stats.resource_types_added += 1;
        svc.rts.insert(name.to_ascii_lowercase(), RtM { name, arns, keys });
    }
    new_keys
}

/// The document's actions the service does not have yet; returns the condition keys they name.
fn merge_actions(svc: &mut ServiceM, prefix: &str, doc: &Value, stats: &mut MergeStats) -> Vec<String> {
    let mut new_keys = Vec::new();
    for act in doc.get("Actions").and_then(Value::as_array).into_iter().flatten() {
        let Some(name) = act.get("Name").and_then(Value::as_str).and_then(token) else {
            continue;
        };
        if name.contains([':', '*', '?']) || svc.actions.contains_key(&name.to_ascii_lowercase()) {
            continue;
        }
        let props = act.pointer("/Annotations/Properties");
        let flag = |f: &str| props.and_then(|p| p.get(f)).and_then(Value::as_bool).unwrap_or(false);
        let level = AccessLevel::from_annotations(
            flag("IsList"),
            flag("IsWrite"),
            flag("IsPermissionManagement"),
            flag("IsTaggingOnly"),
        );
        let resources = str_list(act.get("Resources"), Some("Name"))
            .into_iter()
            .filter(|r| svc.rts.contains_key(&r.to_ascii_lowercase()))
            .map(|rt| ResM { rt, required: false, keys: Vec::new(), deps: Vec::new() })
            .collect();
        let keys: Vec<String> =
            str_list(act.get("ActionConditionKeys"), None).iter().filter_map(|k| token(k)).collect();
        new_keys.extend(keys.iter().cloned());
        stats.actions_added.push(format!("{prefix}:{name}"));
        let action = ActM {
            name,
            level,
            source: Source::Update,
            resources,
            keys,
            deps: Vec::new(),
            desc: String::new(),
        };
        svc.actions.insert(action.name.to_ascii_lowercase(), action);
    }
    new_keys
}

/// The document's operations replace the service's.
fn merge_operations(svc: &mut ServiceM, ops: &[Value], stats: &mut MergeStats) {
    svc.ops.clear();
    for op in ops {
        let Some(name) = op.get("Name").and_then(Value::as_str).and_then(token) else {
            continue;
        };
        let auth = op
            .get("AuthorizedActions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(authorized_action_text)
            .collect();
        let mut sdk: Vec<String> = Vec::new();
        for s in str_list(op.get("SDK"), Some("Name")) {
            if let Some(s) = token(&s) {
                if !sdk.contains(&s) {
                    sdk.push(s);
                }
            }
        }
        stats.operations += 1;
        svc.ops.insert(name.to_ascii_lowercase(), OpM { name, auth, sdk });
    }
}

/// `service:Action`, with `@key=v1|v2&...` for the request context in which it applies.
fn authorized_action_text(a: &Value) -> Option<String> {
    let s = a.get("Service").and_then(Value::as_str).and_then(token)?;
    let n = a.get("Name").and_then(Value::as_str).and_then(token)?;
    let mut text = format!("{s}:{n}");
    if let Some(ctx) = a.get("Context").and_then(Value::as_object) {
        let mut parts = Vec::new();
        for (k, v) in ctx {
            let vals: Vec<String> = match v {
                Value::Array(items) => items.iter().filter_map(json_scalar).collect(),
                other => json_scalar(other).into_iter().collect(),
            };
            let vals: Option<Vec<String>> = vals.iter().map(|v| token(v)).collect();
            if let (Some(k), Some(vals)) = (token(k), vals) {
                parts.push(format!("{k}={}", vals.join("|")));
            }
        }
        parts.sort();
        if !parts.is_empty() {
            text.push('@');
            text.push_str(&parts.join("&"));
        }
    }
    Some(text)
}
