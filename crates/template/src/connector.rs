//! SAM connectors (`AWS::Serverless::Connector` and the `Connectors` property) whose source is a
//! function: a managed policy `<ConnectorId>Policy` (or `<ConnectorId>PolicyDestination<N>` for
//! several destinations) on the function's role, with the statements of the connector profile of
//! the destination's type (embedded with the policy templates, from aws-sam-translator).

use std::sync::OnceLock;

use serde_json::{json, Value as J};

use crate::error::TemplateError;
use crate::intrinsic::Resolver;
use crate::node::{Key, Node, Value};

struct Profiles {
    connectors: J,
    outputs: J,
}

fn profiles() -> &'static Profiles {
    static CELL: OnceLock<Profiles> = OnceLock::new();
    CELL.get_or_init(|| {
        let v: J = serde_json::from_str(include_str!("../data/sam_policy_templates.json")).unwrap_or(J::Null);
        Profiles {
            connectors: v.get("connectors").cloned().unwrap_or(J::Null),
            outputs: v.get("connector_outputs").cloned().unwrap_or(J::Null),
        }
    })
}

/// The CloudFormation type a SAM resource becomes, as connectors see it.
fn cfn_type(sam_type: &str) -> &str {
    match sam_type {
        "AWS::Serverless::Function" => "AWS::Lambda::Function",
        "AWS::Serverless::SimpleTable" => "AWS::DynamoDB::Table",
        "AWS::Serverless::StateMachine" => "AWS::StepFunctions::StateMachine",
        "AWS::Serverless::Api" => "AWS::ApiGateway::RestApi",
        "AWS::Serverless::HttpApi" => "AWS::ApiGatewayV2::Api",
        other => other,
    }
}

/// The resources (managed policies) a connector adds. `id` is the connector's logical id; `source`
/// the resource it is embedded in (empty for `AWS::Serverless::Connector`), `node` its definition.
pub fn expand(
    id: &str,
    source: &str,
    node: &Node,
    r: &Resolver<'_>,
) -> Result<Vec<(Key, Node)>, TemplateError> {
    let Some(props) = node.get("Properties") else { return Ok(Vec::new()) };
    let source_id = match source {
        "" => props
            .get("Source")
            .and_then(|s| s.get("Id"))
            .and_then(Node::as_str)
            .unwrap_or_default()
            .to_string(),
        s => s.to_string(),
    };
    let Some(source_type) = resource_type(r, &source_id) else { return Ok(Vec::new()) };
    if source_type != "AWS::Serverless::Function" {
        return Ok(Vec::new());
    }
    let destinations: Vec<&Node> = match props.get("Destination") {
        Some(d) if matches!(d.value, Value::Seq(_)) => d.items().iter().collect(),
        Some(d) => vec![d],
        None => return Err(r.error(props.pos, format!("connector {id} has no Destination"))),
    };
    let permissions: Vec<String> = props
        .get("Permissions")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(Node::as_str)
        .map(str::to_string)
        .collect();
    let multi = destinations.len() > 1;
    let mut out = Vec::new();
    for (index, dest) in destinations.iter().enumerate() {
        let Some(statements) = statements(dest, &permissions, r, id)? else { continue };
        let name = if multi { format!("{id}PolicyDestination{index}") } else { format!("{id}Policy") };
        let policy = json!({
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                "Roles": [{"Ref": format!("{source_id}Role")}]
            }
        });
        out.push((Key { name, pos: dest.pos }, Node::from_json(&policy, dest.pos)));
    }
    Ok(out)
}

fn resource_type(r: &Resolver<'_>, id: &str) -> Option<String> {
    r.resource_info(id, Default::default()).ok().flatten().map(|i| i.kind)
}

fn statements(
    dest: &Node,
    permissions: &[String],
    r: &Resolver<'_>,
    id: &str,
) -> Result<Option<Vec<J>>, TemplateError> {
    let (dest_type, arn, name) = match dest.get("Id").and_then(Node::as_str) {
        Some(dest_id) => {
            let t = cfn_type(
                &resource_type(r, dest_id)
                    .ok_or_else(|| r.error(dest.pos, format!("connector {id}: no resource {dest_id}")))?,
            )
            .to_string();
            let outputs = &profiles().outputs[&t];
            let fill =
                |v: &J| serde_json::from_str::<J>(&v.to_string().replace("%{logicalId}", dest_id)).ok();
            (t, outputs.get("Arn").and_then(fill), outputs.get("Name").and_then(fill))
        }
        None => (
            dest.get("Type").and_then(Node::as_str).unwrap_or_default().to_string(),
            dest.get("Arn").map(Node::to_json),
            dest.get("Name").map(Node::to_json),
        ),
    };
    let Some(profile) = profiles().connectors.get(&dest_type) else { return Ok(None) };
    let mut out = Vec::new();
    if let J::Object(categories) = profile {
        for (category, doc) in categories {
            if !permissions.contains(category) {
                continue;
            }
            for statement in doc.get("Statement").and_then(J::as_array).into_iter().flatten() {
                out.push(replace(statement, arn.as_ref(), name.as_ref()));
            }
        }
    }
    Ok(Some(out))
}

/// Replaces `%{Destination.Arn}` and `%{Destination.Name}` as the translator does: a whole string
/// becomes the value, a part of a string an `Fn::Sub` variable.
fn replace(v: &J, arn: Option<&J>, name: Option<&J>) -> J {
    match v {
        J::Array(items) => J::Array(items.iter().map(|i| replace(i, arn, name)).collect()),
        J::Object(map) => J::Object(map.iter().map(|(k, v)| (k.clone(), replace(v, arn, name))).collect()),
        J::String(s) => {
            let mut text = s.clone();
            let mut vars = serde_json::Map::new();
            for (pattern, var, value) in [
                ("%{Destination.Arn}", "DestinationArn", arn),
                ("%{Destination.Name}", "DestinationName", name),
            ] {
                let Some(value) = value else { continue };
                if text == pattern {
                    return value.clone();
                }
                if text.contains(pattern) {
                    text = text.replace(pattern, &format!("${{{var}}}"));
                    vars.insert(var.into(), value.clone());
                }
            }
            if vars.is_empty() {
                J::String(text)
            } else {
                json!({"Fn::Sub": [text, vars]})
            }
        }
        other => other.clone(),
    }
}
