//! CloudFormation resources into the account model: `AWS::IAM::Role`, `AWS::IAM::Policy`,
//! `AWS::IAM::ManagedPolicy`, `AWS::IAM::RolePolicy`, `AWS::Lambda::Function` and
//! `AWS::Lambda::EventSourceMapping`.

use serde_json::{json, Value as J};

use iamfit_core::account::{Function, InlinePolicy, ManagedPolicy, PolicyDocument, Role};

use crate::error::TemplateError;
use crate::intrinsic::{scalar_text, Resolver};
use crate::managed::ManagedPolicies;
use crate::node::Node;
use crate::{DocumentKind, EventSourceMapping, Expansion, LocatedDocument, TemplateFunction};

/// Reads every supported resource of an expanded (CloudFormation) template into `out`.
pub fn read_resources(root: &Node, r: &Resolver<'_>, out: &mut Expansion) -> Result<(), TemplateError> {
    let resources: Vec<(&str, &Node)> = root
        .get("Resources")
        .map(|n| n.entries().iter().map(|(k, v)| (k.name.as_str(), v)).collect())
        .unwrap_or_default();
    let mut enabled = Vec::with_capacity(resources.len());
    for (id, node) in resources {
        if r.resource_enabled(node)? {
            enabled.push((id, node, node.get("Type").and_then(Node::as_str).unwrap_or_default()));
        }
    }
    let order = [
        "AWS::IAM::Role",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::Policy",
        "AWS::IAM::RolePolicy",
        "AWS::Lambda::Function",
        "AWS::Lambda::EventSourceMapping",
        "AWS::Lambda::EventInvokeConfig",
    ];
    for kind in order {
        for (id, node, _) in enabled.iter().filter(|(_, _, t)| *t == kind) {
            let props = node.get("Properties");
            let empty = Node::synthetic(crate::node::Value::Map(Vec::new()), node.pos);
            let props = props.unwrap_or(&empty);
            match kind {
                "AWS::IAM::Role" => role(id, props, r, out)?,
                "AWS::IAM::ManagedPolicy" => managed_policy(id, props, r, out)?,
                "AWS::IAM::Policy" | "AWS::IAM::RolePolicy" => inline_policy(id, kind, props, r, out)?,
                "AWS::Lambda::Function" => function(id, node, props, r, out)?,
                "AWS::Lambda::EventInvokeConfig" => event_invoke_config(props, r, out)?,
                _ => event_source_mapping(id, props, r, out)?,
            }
        }
    }
    attach_aws_managed(out);
    Ok(())
}

/// Reads a policy document node: resolves it and parses it, as an error at its position when invalid.
fn document(
    node: &Node,
    owner: String,
    kind: DocumentKind,
    r: &Resolver<'_>,
    out: &mut Expansion,
) -> Result<PolicyDocument, TemplateError> {
    let json = r.value(node)?;
    let doc = PolicyDocument::from_value(&json)
        .map_err(|e| r.error(node.pos, format!("{owner}: the policy document is not valid: {e}")))?;
    out.documents.push(LocatedDocument {
        owner,
        kind,
        pos: node.pos,
        json: doc.json.clone(),
        source: node.clone(),
    });
    Ok(doc)
}

fn strings(node: Option<&Node>, r: &Resolver<'_>) -> Result<Vec<String>, TemplateError> {
    match node {
        None => Ok(Vec::new()),
        Some(n) => Ok(r.list(n)?.iter().map(scalar_text).collect()),
    }
}

fn tags(node: Option<&Node>, r: &Resolver<'_>) -> Result<Vec<(String, String)>, TemplateError> {
    let Some(n) = node else { return Ok(Vec::new()) };
    Ok(r.list(n)?
        .iter()
        .filter_map(|t| Some((scalar_text(t.get("Key")?), scalar_text(t.get("Value")?))))
        .collect())
}

fn role(id: &str, props: &Node, r: &Resolver<'_>, out: &mut Expansion) -> Result<(), TemplateError> {
    let info = r.resource_info(id, props.pos)?;
    let (name, arn) = match info {
        Some(i) => {
            if i.logical_name {
                out.logical_names.push(id.to_string());
            }
            (i.name.clone(), i.arn.unwrap_or_default())
        }
        None => (id.to_string(), String::new()),
    };
    let trust = match props.get("AssumeRolePolicyDocument") {
        Some(n) => Some(document(n, format!("role {name} trust policy"), DocumentKind::Trust, r, out)?),
        None => None,
    };
    let mut inline = Vec::new();
    if let Some(list) = props.get("Policies") {
        for item in list.items() {
            let Some(item) = resolve_if(item, r)? else { continue };
            let policy_name = item.get("PolicyName").map(|n| r.string(n)).transpose()?.unwrap_or_default();
            let Some(doc_node) = item.get("PolicyDocument") else {
                return Err(
                    r.error(item.pos, format!("role {name}: policy {policy_name} has no PolicyDocument"))
                );
            };
            let doc = document(
                doc_node,
                format!("role {name} inline {policy_name}"),
                DocumentKind::Identity,
                r,
                out,
            )?;
            inline.push(InlinePolicy { name: policy_name, document: doc });
        }
    }
    let boundary = props.get("PermissionsBoundary").map(|n| r.string(n)).transpose()?;
    out.account.roles.push(Role {
        name,
        arn,
        id: String::new(),
        inline,
        attached: strings(props.get("ManagedPolicyArns"), r)?,
        boundary,
        trust,
        tags: tags(props.get("Tags"), r)?,
    });
    Ok(())
}

/// The branch an `Fn::If` item picks (`None` for `AWS::NoValue`), or the item itself.
pub fn resolve_if<'n>(item: &'n Node, r: &Resolver<'_>) -> Result<Option<&'n Node>, TemplateError> {
    match item.intrinsic() {
        Some(("Fn::If", arg)) => {
            let branch = r.if_branch(arg)?;
            if let Some(("Ref", name)) = branch.intrinsic() {
                if name.as_str() == Some("AWS::NoValue") {
                    return Ok(None);
                }
            }
            resolve_if(branch, r)
        }
        _ => Ok(Some(item)),
    }
}

fn role_index(out: &Expansion, name: &str) -> Option<usize> {
    out.account.roles.iter().position(|role| role.name == name || role.arn == name)
}

fn attach(out: &mut Expansion, roles: &[String], owner: &str, f: impl Fn(&mut Role)) {
    for role_name in roles {
        match role_index(out, role_name) {
            Some(i) => f(&mut out.account.roles[i]),
            None => out.notes.push(format!(
                "{owner} applies to role {role_name}, which is not in the template: iamfit does not follow it"
            )),
        }
    }
}

fn managed_policy(
    id: &str,
    props: &Node,
    r: &Resolver<'_>,
    out: &mut Expansion,
) -> Result<(), TemplateError> {
    let info = r.resource_info(id, props.pos)?;
    let (name, arn) = info.map(|i| (i.name, i.arn.unwrap_or_default())).unwrap_or_default();
    let doc_node =
        props.get("PolicyDocument").ok_or_else(|| r.error(props.pos, format!("{id}: no PolicyDocument")))?;
    let doc = document(doc_node, format!("managed policy {name}"), DocumentKind::Identity, r, out)?;
    out.account.policies.push(ManagedPolicy {
        name: name.clone(),
        arn: arn.clone(),
        version: "v1".into(),
        document: doc,
    });
    let roles = strings(props.get("Roles"), r)?;
    attach(out, &roles, &format!("managed policy {name}"), |role| {
        if !role.attached.contains(&arn) {
            role.attached.push(arn.clone());
        }
    });
    Ok(())
}

fn inline_policy(
    id: &str,
    kind: &str,
    props: &Node,
    r: &Resolver<'_>,
    out: &mut Expansion,
) -> Result<(), TemplateError> {
    let name = match props.get("PolicyName") {
        Some(n) => r.string(n)?,
        None => id.to_string(),
    };
    let doc_node =
        props.get("PolicyDocument").ok_or_else(|| r.error(props.pos, format!("{id}: no PolicyDocument")))?;
    let roles = if kind == "AWS::IAM::RolePolicy" {
        props.get("RoleName").map(|n| r.string(n)).transpose()?.into_iter().collect()
    } else {
        strings(props.get("Roles"), r)?
    };
    let doc = document(doc_node, format!("policy {name}"), DocumentKind::Identity, r, out)?;
    attach(out, &roles, &format!("policy {name}"), |role| {
        role.inline.retain(|p| p.name != name);
        role.inline.push(InlinePolicy { name: name.clone(), document: doc.clone() });
    });
    Ok(())
}

fn function(
    id: &str,
    node: &Node,
    props: &Node,
    r: &Resolver<'_>,
    out: &mut Expansion,
) -> Result<(), TemplateError> {
    let info = r.resource_info(id, props.pos)?;
    let (name, arn, logical) =
        info.map(|i| (i.name, i.arn.unwrap_or_default(), i.logical_name)).unwrap_or_default();
    if logical {
        out.logical_names.push(id.to_string());
    }
    let role = match props.get("Role") {
        Some(n) => r.string(n)?,
        None => return Err(r.error(props.pos, format!("function {id} has no Role"))),
    };
    let optional = |key: &str| props.get(key).map(|n| r.string(n)).transpose();
    let mut environment = Vec::new();
    if let Some(vars) = props.get("Environment").and_then(|e| e.get("Variables")) {
        if let J::Object(map) = r.value(vars)? {
            environment = map.iter().map(|(k, v)| (k.clone(), scalar_text(v))).collect();
        }
    }
    out.functions.push(TemplateFunction {
        logical_id: id.to_string(),
        name: name.clone(),
        role_logical_id: role_logical_id(props.get("Role")),
        pos: node.pos,
    });
    out.account.functions.push(Function {
        name,
        arn,
        role,
        runtime: optional("Runtime")?,
        handler: optional("Handler")?,
        environment,
        config: iamfit_core::account::snapshot::read_function_config(&function_config_json(props, r)?),
    });
    Ok(())
}

/// The properties of an `AWS::Lambda::Function` that the Lambda service uses the role for, in the
/// shape of `aws lambda get-function-configuration` (CloudFormation writes `KmsKeyArn` and `Layers`
/// as a list of ARNs; the API `KMSKeyArn` and `Layers[].Arn`).
fn function_config_json(props: &Node, r: &Resolver<'_>) -> Result<J, TemplateError> {
    let mut config = serde_json::Map::new();
    for key in [
        "PackageType",
        "LoggingConfig",
        "TracingConfig",
        "VpcConfig",
        "DeadLetterConfig",
        "FileSystemConfigs",
        "SnapStart",
    ] {
        if let Some(v) = props.get(key).map(|n| r.resolve(n)).transpose()?.flatten() {
            config.insert(key.into(), v);
        }
    }
    if let Some(v) = props.get("KmsKeyArn").map(|n| r.resolve(n)).transpose()?.flatten() {
        config.insert("KMSKeyArn".into(), v);
    }
    let layers = strings(props.get("Layers"), r)?;
    if !layers.is_empty() {
        config.insert("Layers".into(), layers.iter().map(|arn| json!({ "Arn": arn })).collect());
    }
    Ok(J::Object(config))
}

/// An `AWS::Lambda::EventInvokeConfig`: destinations and retry settings of asynchronous invocations
/// (of `$LATEST` or an alias; iamfit keeps the first one per function).
fn event_invoke_config(props: &Node, r: &Resolver<'_>, out: &mut Expansion) -> Result<(), TemplateError> {
    let function = props.get("FunctionName").map(|n| r.string(n)).transpose()?.unwrap_or_default();
    let mut config = serde_json::Map::new();
    for key in ["DestinationConfig", "MaximumRetryAttempts", "MaximumEventAgeInSeconds"] {
        if let Some(v) = props.get(key).map(|n| r.resolve(n)).transpose()?.flatten() {
            config.insert(key.into(), v);
        }
    }
    out.event_invoke_configs.push(crate::EventInvokeConfig {
        function,
        config: J::Object(config),
        pos: props.pos,
    });
    Ok(())
}

/// The logical id of the role a function names with `!GetAtt R.Arn` (or `!Ref R`).
fn role_logical_id(node: Option<&Node>) -> Option<String> {
    let (name, arg) = node?.intrinsic()?;
    match name {
        "Fn::GetAtt" => match &arg.value {
            crate::node::Value::Seq(items) => items.first().and_then(Node::as_str).map(str::to_string),
            crate::node::Value::String(s) => s.split('.').next().map(str::to_string),
            _ => None,
        },
        "Ref" => arg.as_str().map(str::to_string),
        _ => None,
    }
}

fn event_source_mapping(
    id: &str,
    props: &Node,
    r: &Resolver<'_>,
    out: &mut Expansion,
) -> Result<(), TemplateError> {
    let function = props.get("FunctionName").map(|n| r.string(n)).transpose()?.unwrap_or_default();
    let mut mapping = serde_json::Map::new();
    mapping.insert("UUID".into(), json!(id));
    for key in ["EventSourceArn", "BatchSize", "StartingPosition", "Enabled", "Topics", "Queues"] {
        if let Some(n) = props.get(key) {
            if let Some(v) = r.resolve(n)? {
                mapping.insert(key.into(), v);
            }
        }
    }
    let s = r.settings();
    let arn = if function.starts_with("arn:") {
        function.clone()
    } else {
        format!("arn:{}:lambda:{}:{}:function:{function}", s.partition(), s.region, s.account)
    };
    mapping.insert("FunctionArn".into(), json!(arn));
    out.event_source_mappings.push(EventSourceMapping {
        function,
        mapping: J::Object(mapping),
        pos: props.pos,
    });
    Ok(())
}

/// Adds the documents of the AWS managed policies the roles attach, from the embedded copy.
pub(crate) fn attach_aws_managed(out: &mut Expansion) {
    let copy = ManagedPolicies::get();
    let mut used = false;
    let arns: Vec<String> = out.account.roles.iter().flat_map(|r| r.attached.iter().cloned()).collect();
    for arn in arns {
        if out.account.policies.iter().any(|p| p.arn == arn) {
            continue;
        }
        match copy.by_arn(&arn) {
            Some(p) => {
                let Ok(document) = PolicyDocument::from_value(&p.document) else { continue };
                used = true;
                out.account.policies.push(ManagedPolicy {
                    name: p.name.clone(),
                    arn: arn.clone(),
                    version: p.version.clone(),
                    document,
                });
            }
            None if arn.contains(":iam::aws:policy/") => out.notes.push(format!(
                "{arn} is not in the embedded copy of the AWS managed policies ({}): its grant is unknown",
                copy.source
            )),
            None if !arn.starts_with("arn:") => out.notes.push(format!(
                "managed policy {arn} is neither an ARN nor an AWS managed policy name in the embedded copy: its grant is unknown"
            )),
            None => out.notes.push(format!("{arn} is not in the template: its grant is unknown")),
        }
    }
    if used {
        out.notes.push(format!(
            "AWS managed policies read from the embedded copy ({}, as of {})",
            copy.source, copy.date
        ));
    }
}
