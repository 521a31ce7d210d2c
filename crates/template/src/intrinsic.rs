//! Intrinsic functions and parameters: `Ref`, `Fn::Sub`, `Fn::GetAtt`, `Fn::Join`, `Fn::Select`,
//! `Fn::Split`, `Fn::If` (with `Conditions`), `Fn::FindInMap`, pseudo parameters and `AWS::NoValue`.
//!
//! Resources stand for their names: a name property (`RoleName`, `TableName`, ...) when the template
//! sets one, otherwise the logical id (the physical name CloudFormation would generate is unknown).
//! What cannot be resolved (`Fn::ImportValue`, an attribute known only after deploy) becomes the text
//! `unresolved:WHAT` (which matches nothing) and an [`Issue`]: never a wildcard.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use serde_json::Value as J;

use crate::error::{Issue, TemplateError};
use crate::node::{number_json, Node, Pos, Value};

/// The deployment settings a template is expanded for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `AWS::AccountId`.
    pub account: String,
    /// `AWS::Region`.
    pub region: String,
    /// `AWS::StackName`.
    pub stack: String,
    /// Parameter values (`--parameter KEY=VALUE`), before the template's defaults.
    pub parameters: Vec<(String, String)>,
    /// The deployed stack's physical ids by logical id (`--stack NAME` read live: what `Ref`
    /// returns for each resource); they stand for the names CloudFormation generated.
    pub physical_ids: std::collections::BTreeMap<String, String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            account: "123456789012".into(),
            region: "us-east-1".into(),
            stack: "stack".into(),
            parameters: Vec::new(),
            physical_ids: Default::default(),
        }
    }
}

impl Settings {
    /// The partition of the region (`aws`, `aws-cn`, `aws-us-gov`).
    pub fn partition(&self) -> &'static str {
        if self.region.starts_with("cn-") {
            "aws-cn"
        } else if self.region.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        }
    }

    fn url_suffix(&self) -> &'static str {
        if self.region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        }
    }
}

/// What a resource of the template stands for when referenced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceInfo {
    /// `AWS::IAM::Role`, ...
    pub kind: String,
    /// Its name (a name property or the logical id).
    pub name: String,
    /// Whether the name is the logical id standing for the physical name.
    pub logical_name: bool,
    /// What `Ref` returns.
    pub reference: String,
    /// What `Fn::GetAtt X.Arn` returns, when the catalog knows the ARN format.
    pub arn: Option<String>,
}

/// The name property of the resource types whose `Ref` or ARN iamfit builds.
const NAME_PROPERTIES: &[(&str, &str)] = &[
    ("AWS::IAM::Role", "RoleName"),
    ("AWS::IAM::ManagedPolicy", "ManagedPolicyName"),
    ("AWS::IAM::User", "UserName"),
    ("AWS::IAM::Group", "GroupName"),
    ("AWS::Lambda::Function", "FunctionName"),
    ("AWS::Serverless::Function", "FunctionName"),
    ("AWS::DynamoDB::Table", "TableName"),
    ("AWS::Serverless::SimpleTable", "TableName"),
    ("AWS::SQS::Queue", "QueueName"),
    ("AWS::SNS::Topic", "TopicName"),
    ("AWS::S3::Bucket", "BucketName"),
    ("AWS::Kinesis::Stream", "Name"),
    ("AWS::StepFunctions::StateMachine", "StateMachineName"),
    ("AWS::Serverless::StateMachine", "Name"),
    ("AWS::Events::EventBus", "Name"),
    ("AWS::Logs::LogGroup", "LogGroupName"),
    ("AWS::SecretsManager::Secret", "Name"),
    ("AWS::SSM::Parameter", "Name"),
    ("AWS::ECR::Repository", "RepositoryName"),
    ("AWS::KMS::Alias", "AliasName"),
];

/// The resource types whose `Ref` is the ARN (CloudFormation's "Return values" of each type).
const REF_IS_ARN: &[&str] = &[
    "AWS::IAM::ManagedPolicy",
    "AWS::SNS::Topic",
    "AWS::StepFunctions::StateMachine",
    "AWS::Serverless::StateMachine",
    "AWS::SecretsManager::Secret",
];

/// The service prefix and catalog resource type of a CloudFormation type, where the names differ.
const ARN_TYPES: &[(&str, &str, &str)] = &[
    ("AWS::Serverless::Function", "lambda", "function"),
    ("AWS::Serverless::SimpleTable", "dynamodb", "table"),
    ("AWS::Serverless::StateMachine", "states", "stateMachine"),
    ("AWS::StepFunctions::StateMachine", "states", "stateMachine"),
    ("AWS::Events::EventBus", "events", "event-bus"),
    ("AWS::Logs::LogGroup", "logs", "log-group"),
    ("AWS::IAM::ManagedPolicy", "iam", "policy"),
    ("AWS::Kinesis::Stream", "kinesis", "stream"),
    ("AWS::KMS::Key", "kms", "key"),
];

/// Expands intrinsic functions over the nodes of one template.
pub struct Resolver<'t> {
    path: &'t str,
    settings: &'t Settings,
    parameters: HashMap<String, Option<J>>,
    mappings: Option<&'t Node>,
    condition_nodes: Option<&'t Node>,
    conditions: RefCell<HashMap<String, bool>>,
    resources: HashMap<String, &'t Node>,
    infos: RefCell<HashMap<String, ResourceInfo>>,
    busy: RefCell<HashSet<String>>,
    issues: RefCell<Vec<Issue>>,
}

/// The text standing for a value iamfit cannot know.
pub fn unresolved(what: &str) -> J {
    J::String(format!("unresolved:{what}"))
}

impl<'t> Resolver<'t> {
    /// A resolver for the template `root` (read from `path`).
    pub fn new(root: &'t Node, path: &'t str, settings: &'t Settings) -> Resolver<'t> {
        let resources =
            root.get("Resources").map(|r| r.entries().iter().map(|(k, v)| (k.name.clone(), v)).collect());
        Resolver {
            path,
            settings,
            parameters: parameter_values(root, settings),
            mappings: root.get("Mappings"),
            condition_nodes: root.get("Conditions"),
            conditions: RefCell::new(HashMap::new()),
            resources: resources.unwrap_or_default(),
            infos: RefCell::new(HashMap::new()),
            busy: RefCell::new(HashSet::new()),
            issues: RefCell::new(Vec::new()),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        self.settings
    }

    /// The file's name, for errors.
    pub fn path(&self) -> &str {
        self.path
    }

    /// Everything left open so far.
    pub fn take_issues(&self) -> Vec<Issue> {
        std::mem::take(&mut *self.issues.borrow_mut())
    }

    /// Records an open point.
    pub fn issue(&self, pos: Pos, message: String) {
        let mut issues = self.issues.borrow_mut();
        if !issues.iter().any(|i| i.pos == pos && i.message == message) {
            issues.push(Issue { pos, message });
        }
    }

    /// An error at a node.
    pub fn error(&self, pos: Pos, message: impl Into<String>) -> TemplateError {
        TemplateError::at(self.path, pos, message.into(), None)
    }

    fn unresolved_at(&self, pos: Pos, what: &str, why: &str) -> J {
        self.issue(
            pos,
            format!("{what} cannot be resolved ({why}): kept as `unresolved:{what}`, which matches nothing"),
        );
        unresolved(what)
    }

    /// Resolves a node to JSON; `None` for `AWS::NoValue` (the property is dropped).
    pub fn resolve(&self, node: &Node) -> Result<Option<J>, TemplateError> {
        if let Some((name, arg)) = node.intrinsic() {
            if name != "Condition" {
                return self.function(name, arg, node.pos);
            }
        }
        Ok(Some(match &node.value {
            Value::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    if let Some(v) = self.resolve(item)? {
                        out.push(v);
                    }
                }
                J::Array(out)
            }
            Value::Map(entries) => {
                let mut out = serde_json::Map::new();
                for (k, v) in entries {
                    if let Some(v) = self.resolve(v)? {
                        out.insert(k.name.clone(), v);
                    }
                }
                J::Object(out)
            }
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Number(n) => number_json(n),
            Value::String(s) => J::String(s.clone()),
        }))
    }

    /// Resolves a node that must give a value (not `AWS::NoValue`).
    pub fn value(&self, node: &Node) -> Result<J, TemplateError> {
        self.resolve(node)?.ok_or_else(|| self.error(node.pos, "AWS::NoValue where a value is required"))
    }

    /// Resolves a node to a string (numbers and booleans as text).
    pub fn string(&self, node: &Node) -> Result<String, TemplateError> {
        match self.value(node)? {
            J::String(s) => Ok(s),
            J::Number(n) => Ok(n.to_string()),
            J::Bool(b) => Ok(b.to_string()),
            other => Err(self.error(node.pos, format!("expected a string, found {other}"))),
        }
    }

    fn function(&self, name: &str, arg: &Node, pos: Pos) -> Result<Option<J>, TemplateError> {
        match name {
            "Ref" => self.reference(arg),
            "Fn::Sub" => self.sub(arg).map(Some),
            "Fn::GetAtt" => self.get_att(arg).map(Some),
            "Fn::Join" => self.join(arg).map(Some),
            "Fn::Select" => self.select(arg),
            "Fn::Split" => self.split(arg).map(Some),
            "Fn::If" => self.if_(arg),
            "Fn::FindInMap" => self.find_in_map(arg).map(Some),
            "Fn::ToJsonString" => {
                let v = self.value(arg)?;
                Ok(Some(J::String(serde_json::to_string(&v).unwrap_or_default())))
            }
            "Fn::Length" => Ok(Some(J::from(self.list(arg)?.len()))),
            "Fn::ImportValue" => {
                let what = self.string(arg).unwrap_or_else(|_| "?".into());
                Ok(Some(self.unresolved_at(
                    pos,
                    &format!("Fn::ImportValue({what})"),
                    "another stack's export; deploy-time only",
                )))
            }
            other => Ok(Some(self.unresolved_at(pos, other, "not evaluated by iamfit"))),
        }
    }

    /// `Ref`: a parameter, a pseudo parameter or a resource.
    fn reference(&self, arg: &Node) -> Result<Option<J>, TemplateError> {
        let name = arg.as_str().ok_or_else(|| self.error(arg.pos, "Ref takes a name"))?;
        if let Some(value) = self.parameters.get(name) {
            return value.clone().map(Some).ok_or_else(|| {
                TemplateError::at(
                    self.path,
                    arg.pos,
                    format!("parameter {name} has no value: it has no Default"),
                    Some(format!("pass --parameter {name}=VALUE")),
                )
            });
        }
        if let Some(v) = self.pseudo(name) {
            return Ok(v);
        }
        match self.resource_info(name, arg.pos)? {
            Some(info) => Ok(Some(J::String(info.reference))),
            None => Err(TemplateError::at(
                self.path,
                arg.pos,
                format!("Ref {name}: no parameter, pseudo parameter or resource of that name"),
                None,
            )),
        }
    }

    fn pseudo(&self, name: &str) -> Option<Option<J>> {
        let s = self.settings;
        let v = match name {
            "AWS::AccountId" => J::String(s.account.clone()),
            "AWS::Region" => J::String(s.region.clone()),
            "AWS::Partition" => J::String(s.partition().into()),
            "AWS::StackName" => J::String(s.stack.clone()),
            "AWS::StackId" => J::String(format!(
                "arn:{}:cloudformation:{}:{}:stack/{}/unresolved",
                s.partition(),
                s.region,
                s.account,
                s.stack
            )),
            "AWS::URLSuffix" => J::String(s.url_suffix().into()),
            "AWS::NotificationARNs" => J::Array(Vec::new()),
            "AWS::NoValue" => return Some(None),
            _ => return None,
        };
        Some(Some(v))
    }

    /// What a resource of the template stands for (cached); `None` when there is no such resource.
    pub fn resource_info(&self, logical_id: &str, pos: Pos) -> Result<Option<ResourceInfo>, TemplateError> {
        if let Some(info) = self.infos.borrow().get(logical_id) {
            return Ok(Some(info.clone()));
        }
        let Some(resource) = self.resources.get(logical_id) else { return Ok(None) };
        if !self.busy.borrow_mut().insert(logical_id.to_string()) {
            return Err(self.error(pos, format!("{logical_id}: its name refers to itself")));
        }
        let info = self.build_info(logical_id, resource);
        self.busy.borrow_mut().remove(logical_id);
        let info = info?;
        self.infos.borrow_mut().insert(logical_id.to_string(), info.clone());
        Ok(Some(info))
    }

    fn build_info(&self, logical_id: &str, resource: &Node) -> Result<ResourceInfo, TemplateError> {
        let kind = resource.get("Type").and_then(Node::as_str).unwrap_or_default().to_string();
        let property = NAME_PROPERTIES.iter().find(|(t, _)| *t == kind).map(|(_, p)| *p);
        let named = match property.and_then(|p| resource.get("Properties").and_then(|props| props.get(p))) {
            Some(node) => Some(self.string(node)?),
            None => None,
        };
        // Without a name property, the deployed stack's physical id (when read) is the name.
        let physical = if named.is_none() { self.settings.physical_ids.get(logical_id) } else { None };
        let named = named.or_else(|| physical.map(|p| physical_name(&kind, p)));
        let logical_name = named.is_none();
        let name = named.unwrap_or_else(|| logical_id.to_string());
        let arn = match physical.filter(|p| p.starts_with("arn:")) {
            Some(p) => Some(p.clone()),
            None => self.arn_of(&kind, &name, resource)?,
        };
        let reference = if REF_IS_ARN.contains(&kind.as_str()) {
            arn.clone().unwrap_or_else(|| name.clone())
        } else if kind == "AWS::SQS::Queue" {
            format!(
                "https://sqs.{}.{}/{}/{name}",
                self.settings.region,
                self.settings.url_suffix(),
                self.settings.account
            )
        } else {
            name.clone()
        };
        Ok(ResourceInfo { kind, name, logical_name, reference, arn })
    }

    fn arn_of(&self, kind: &str, name: &str, resource: &Node) -> Result<Option<String>, TemplateError> {
        let s = self.settings;
        let path = match resource.get("Properties").and_then(|p| p.get("Path")) {
            Some(p) => self.string(p)?,
            None => "/".into(),
        };
        let arn = match kind {
            "AWS::IAM::Role" | "AWS::IAM::User" | "AWS::IAM::ManagedPolicy" => {
                let what = match kind {
                    "AWS::IAM::Role" => "role",
                    "AWS::IAM::User" => "user",
                    _ => "policy",
                };
                Some(format!("arn:{}:iam::{}:{what}{path}{name}", s.partition(), s.account))
            }
            "AWS::SecretsManager::Secret" => Some(format!(
                "arn:{}:secretsmanager:{}:{}:secret:{name}-??????",
                s.partition(),
                s.region,
                s.account
            )),
            "AWS::Logs::LogGroup" => {
                Some(format!("arn:{}:logs:{}:{}:log-group:{name}:*", s.partition(), s.region, s.account))
            }
            _ => catalog_arn(kind, name, s),
        };
        Ok(arn)
    }

    fn get_att(&self, arg: &Node) -> Result<J, TemplateError> {
        let (resource, attribute) = match &arg.value {
            Value::Seq(items) if items.len() == 2 => (self.string(&items[0])?, self.string(&items[1])?),
            Value::String(s) => {
                let (r, a) = s.split_once('.').unwrap_or((s, ""));
                (r.to_string(), a.to_string())
            }
            _ => return Err(self.error(arg.pos, "Fn::GetAtt takes [LogicalId, Attribute]")),
        };
        let info = self.resource_info(&resource, arg.pos)?.ok_or_else(|| {
            self.error(arg.pos, format!("Fn::GetAtt {resource}.{attribute}: no resource {resource}"))
        })?;
        let what = format!("{resource}.{attribute}");
        let known = match attribute.as_str() {
            "Arn" => info.arn.clone(),
            "QueueName" | "Name" | "TopicName" if info.kind != "AWS::SecretsManager::Secret" => {
                Some(info.name.clone())
            }
            "QueueUrl" if info.kind == "AWS::SQS::Queue" => Some(info.reference.clone()),
            "TopicArn" if info.kind == "AWS::SNS::Topic" => info.arn.clone(),
            _ => None,
        };
        Ok(match known {
            Some(v) => J::String(v),
            None => self.unresolved_at(arg.pos, &what, "the value is known only after deploy"),
        })
    }

    fn sub(&self, arg: &Node) -> Result<J, TemplateError> {
        let (template, vars) = match &arg.value {
            Value::String(s) => (s.clone(), HashMap::new()),
            Value::Seq(items) if items.len() == 2 => {
                let template = items[0]
                    .as_str()
                    .ok_or_else(|| self.error(items[0].pos, "Fn::Sub: the first item is the string"))?
                    .to_string();
                let mut vars = HashMap::new();
                for (k, v) in items[1].entries() {
                    vars.insert(k.name.clone(), self.value(v)?);
                }
                (template, vars)
            }
            _ => return Err(self.error(arg.pos, "Fn::Sub takes a string or [string, {variables}]")),
        };
        let mut out = String::with_capacity(template.len());
        let mut rest = template.as_str();
        while let Some(start) = rest.find("${") {
            out.push_str(rest.get(..start).unwrap_or_default());
            let after = rest.get(start + 2..).unwrap_or_default();
            let Some(end) = after.find('}') else {
                out.push_str(rest.get(start..).unwrap_or_default());
                rest = "";
                break;
            };
            let var = after.get(..end).unwrap_or_default();
            rest = after.get(end + 1..).unwrap_or_default();
            if let Some(literal) = var.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
                continue;
            }
            let value = match vars.get(var) {
                Some(v) => v.clone(),
                None => self.sub_variable(var.trim(), arg.pos)?,
            };
            out.push_str(&scalar_text(&value));
        }
        out.push_str(rest);
        Ok(J::String(out))
    }

    fn sub_variable(&self, var: &str, pos: Pos) -> Result<J, TemplateError> {
        let node = |v: Value| Node { value: v, pos };
        match var.split_once('.') {
            Some((r, a)) if self.resources.contains_key(r) => self.get_att(&node(Value::Seq(vec![
                node(Value::String(r.to_string())),
                node(Value::String(a.to_string())),
            ]))),
            _ => {
                Ok(self.reference(&node(Value::String(var.to_string())))?.unwrap_or(J::String(String::new())))
            }
        }
    }

    /// Resolves a node that must be a list (a sequence, or a function returning one).
    pub fn list(&self, node: &Node) -> Result<Vec<J>, TemplateError> {
        match self.value(node)? {
            J::Array(items) => Ok(items),
            other => Err(self.error(node.pos, format!("expected a list, found {other}"))),
        }
    }

    fn args<'n>(&self, arg: &'n Node, name: &str, n: usize) -> Result<&'n [Node], TemplateError> {
        match &arg.value {
            Value::Seq(items) if items.len() >= n => Ok(items),
            _ => Err(self.error(arg.pos, format!("{name} takes a list of {n} items"))),
        }
    }

    fn join(&self, arg: &Node) -> Result<J, TemplateError> {
        let items = self.args(arg, "Fn::Join", 2)?;
        let delimiter = self.string(&items[0])?;
        let parts: Vec<String> = self.list(&items[1])?.iter().map(scalar_text).collect();
        Ok(J::String(parts.join(&delimiter)))
    }

    fn select(&self, arg: &Node) -> Result<Option<J>, TemplateError> {
        let items = self.args(arg, "Fn::Select", 2)?;
        let index: usize = self
            .string(&items[0])?
            .parse()
            .map_err(|_| self.error(items[0].pos, "Fn::Select: the index is a number"))?;
        let list = self.list(&items[1])?;
        list.get(index).cloned().map(Some).ok_or_else(|| {
            self.error(arg.pos, format!("Fn::Select: index {index} is past the list's {} items", list.len()))
        })
    }

    fn split(&self, arg: &Node) -> Result<J, TemplateError> {
        let items = self.args(arg, "Fn::Split", 2)?;
        let delimiter = self.string(&items[0])?;
        let text = self.string(&items[1])?;
        if delimiter.is_empty() {
            return Err(self.error(items[0].pos, "Fn::Split: the delimiter is empty"));
        }
        Ok(J::Array(text.split(delimiter.as_str()).map(|s| J::String(s.to_string())).collect()))
    }

    /// `Fn::If`: the branch its condition picks (a branch may be `AWS::NoValue`).
    fn if_(&self, arg: &Node) -> Result<Option<J>, TemplateError> {
        let branch = self.if_branch(arg)?;
        self.resolve(branch)
    }

    /// The branch of an `Fn::If` argument that its condition picks.
    pub fn if_branch<'n>(&self, arg: &'n Node) -> Result<&'n Node, TemplateError> {
        let items = self.args(arg, "Fn::If", 3)?;
        let name = items[0]
            .as_str()
            .ok_or_else(|| self.error(items[0].pos, "Fn::If: the first item names a condition"))?;
        Ok(if self.condition(name, items[0].pos)? { &items[1] } else { &items[2] })
    }

    fn find_in_map(&self, arg: &Node) -> Result<J, TemplateError> {
        let items = self.args(arg, "Fn::FindInMap", 3)?;
        let (map, top, second) = (self.string(&items[0])?, self.string(&items[1])?, self.string(&items[2])?);
        let found =
            self.mappings.and_then(|m| m.get(&map)).and_then(|m| m.get(&top)).and_then(|m| m.get(&second));
        match found {
            Some(node) => self.value(node),
            None => match items.get(3).and_then(|d| d.get("DefaultValue")) {
                Some(default) => self.value(default),
                None => {
                    Err(self.error(arg.pos, format!("Fn::FindInMap: no {map}.{top}.{second} in Mappings")))
                }
            },
        }
    }

    /// Evaluates a named condition of the template (cached).
    pub fn condition(&self, name: &str, pos: Pos) -> Result<bool, TemplateError> {
        if let Some(v) = self.conditions.borrow().get(name) {
            return Ok(*v);
        }
        let node = self
            .condition_nodes
            .and_then(|c| c.get(name))
            .ok_or_else(|| self.error(pos, format!("condition {name} is not in Conditions")))?;
        let key = format!("condition {name}");
        if !self.busy.borrow_mut().insert(key.clone()) {
            return Err(self.error(pos, format!("condition {name} refers to itself")));
        }
        let value = self.condition_value(node);
        self.busy.borrow_mut().remove(&key);
        let value = value?;
        self.conditions.borrow_mut().insert(name.to_string(), value);
        Ok(value)
    }

    fn condition_value(&self, node: &Node) -> Result<bool, TemplateError> {
        let Some((name, arg)) = node.intrinsic() else {
            return match self.value(node)? {
                J::Bool(b) => Ok(b),
                J::String(s) if s == "true" || s == "false" => Ok(s == "true"),
                other => {
                    Err(self
                        .error(node.pos, format!("a condition is a function or a boolean, found {other}")))
                }
            };
        };
        match name {
            "Condition" => {
                let n = arg.as_str().ok_or_else(|| self.error(arg.pos, "Condition takes a name"))?;
                self.condition(n, arg.pos)
            }
            "Fn::Equals" => {
                let items = self.args(arg, "Fn::Equals", 2)?;
                Ok(scalar_text(&self.value(&items[0])?) == scalar_text(&self.value(&items[1])?))
            }
            "Fn::Not" => Ok(!self.condition_value(self.args(arg, "Fn::Not", 1)?.first().unwrap_or(arg))?),
            "Fn::And" | "Fn::Or" => {
                let items = self.args(arg, name, 1)?;
                let mut all = true;
                let mut any = false;
                for item in items {
                    let v = self.condition_value(item)?;
                    all &= v;
                    any |= v;
                }
                Ok(if name == "Fn::And" { all } else { any })
            }
            _ => match self.value(node)? {
                J::Bool(b) => Ok(b),
                other => {
                    Err(self.error(node.pos, format!("{name} does not give a condition's value ({other})")))
                }
            },
        }
    }

    /// Whether a resource's `Condition` (if any) holds.
    pub fn resource_enabled(&self, resource: &Node) -> Result<bool, TemplateError> {
        match resource.get("Condition") {
            Some(c) => {
                let name = c.as_str().ok_or_else(|| self.error(c.pos, "Condition names a condition"))?;
                self.condition(name, c.pos)
            }
            None => Ok(true),
        }
    }
}

/// A JSON scalar as text (what `Fn::Join` and `Fn::Sub` insert).
pub fn scalar_text(v: &J) -> String {
    match v {
        J::String(s) => s.clone(),
        J::Null => String::new(),
        other => other.to_string(),
    }
}

/// The parameter values: `--parameter` first, then the template's defaults; `None` for a parameter
/// that has neither. List types (`CommaDelimitedList`, `List<...>`) become lists.
fn parameter_values(root: &Node, settings: &Settings) -> HashMap<String, Option<J>> {
    let mut values = HashMap::new();
    let Some(params) = root.get("Parameters") else { return values };
    for (key, decl) in params.entries() {
        let given = settings.parameters.iter().rev().find(|(k, _)| *k == key.name).map(|(_, v)| v.clone());
        let text = given.or_else(|| decl.get("Default").and_then(Node::scalar_text));
        let kind = decl.get("Type").and_then(Node::as_str).unwrap_or("String");
        let value = text.map(|t| {
            if kind == "CommaDelimitedList" || kind.starts_with("List<") {
                J::Array(t.split(',').map(|s| J::String(s.trim().to_string())).collect())
            } else {
                J::String(t)
            }
        });
        values.insert(key.name.clone(), value);
    }
    values
}

/// The ARN of a resource from the catalog's ARN format of its type, when the format has exactly one
/// part besides partition, region and account.
fn catalog_arn(kind: &str, name: &str, settings: &Settings) -> Option<String> {
    let (service, resource) = match ARN_TYPES.iter().find(|(t, _, _)| *t == kind) {
        Some((_, s, r)) => (s.to_string(), r.to_string()),
        None => {
            let mut parts = kind.split("::");
            let (_, svc, res) = (parts.next()?, parts.next()?, parts.next()?);
            (svc.to_ascii_lowercase(), res.to_string())
        }
    };
    let catalog = iamfit_catalog::Catalog::get();
    let rt = catalog.resource_type(&service, &resource)?;
    let format = rt.arn_formats.first()?;
    let filled = format
        .replace("${Partition}", settings.partition())
        .replace("${Region}", &settings.region)
        .replace("${Account}", &settings.account);
    let start = filled.find("${")?;
    let end = start + filled.get(start..)?.find('}')?;
    let (before, after) = (filled.get(..start)?, filled.get(end + 1..)?);
    (!after.contains("${")).then(|| format!("{before}{name}{after}"))
}

/// The name in a physical id (what `Ref` returns: a name, an ARN, or a queue URL).
fn physical_name(kind: &str, physical: &str) -> String {
    if kind == "AWS::SQS::Queue" || physical.starts_with("https://") {
        return physical.rsplit('/').next().unwrap_or(physical).to_string();
    }
    if let Some(resource) = physical.strip_prefix("arn:").and_then(|rest| rest.splitn(5, ':').nth(4)) {
        // `policy/path/name`, `topic-name`, `secret:name-AbCdEf`: the last segment.
        return resource.rsplit(['/', ':']).next().unwrap_or(resource).to_string();
    }
    physical.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::parse;

    fn resolve(text: &str, key: &str, settings: &Settings) -> Result<Option<J>, TemplateError> {
        let root = parse(text, "t.yaml").unwrap();
        let r = Resolver::new(&root, "t.yaml", settings);
        let node = root.get("Outputs").unwrap().get(key).unwrap();
        r.resolve(node)
    }

    const TEMPLATE: &str = r#"
Parameters:
  Env: {Type: String, Default: dev}
  Names: {Type: CommaDelimitedList, Default: "a,b"}
  Needed: {Type: String}
Mappings:
  Sizes: {dev: {Queue: small}}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  NotProd: !Not [!Condition IsProd]
Resources:
  Table: {Type: AWS::DynamoDB::Table, Properties: {TableName: !Sub "orders-${Env}"}}
  Queue: {Type: AWS::SQS::Queue}
  Topic: {Type: AWS::SNS::Topic}
Outputs:
  TableArn: !GetAtt Table.Arn
  QueueArn: !GetAtt [Queue, Arn]
  QueueRef: !Ref Queue
  TopicRef: !Ref Topic
  Sub: !Sub "arn:${AWS::Partition}:s3:::${Env}-${!Literal}/${Table}"
  SubVars: !Sub ["${A}/x", {A: !Select [1, !Ref Names]}]
  Join: !Join [":", [a, !Ref "AWS::Region", !FindInMap [Sizes, !Ref Env, Queue]]]
  Split: !Select [2, !Split ["/", "a/b/c"]]
  If: !If [IsProd, prod, !If [NotProd, notprod, x]]
  NoValue: !If [IsProd, x, !Ref "AWS::NoValue"]
  Import: !ImportValue Shared
  Missing: !Ref Needed
  Stream: !GetAtt Table.StreamArn
"#;

    // Expected ARNs follow the ARN formats in the Service Authorization Reference (DynamoDB "table",
    // Amazon SQS "queue") and CloudFormation's return values: Ref of AWS::SQS::Queue is the queue URL,
    // Ref of AWS::SNS::Topic the topic ARN.
    #[test]
    fn intrinsic_functions_resolve_as_cloudformation_does() {
        let s = Settings::default();
        let get = |k: &str| resolve(TEMPLATE, k, &s).unwrap().unwrap();
        assert_eq!(get("TableArn"), "arn:aws:dynamodb:us-east-1:123456789012:table/orders-dev");
        assert_eq!(get("QueueArn"), "arn:aws:sqs:us-east-1:123456789012:Queue");
        assert_eq!(get("QueueRef"), "https://sqs.us-east-1.amazonaws.com/123456789012/Queue");
        assert_eq!(get("TopicRef"), "arn:aws:sns:us-east-1:123456789012:Topic");
        assert_eq!(get("Sub"), "arn:aws:s3:::dev-${Literal}/orders-dev");
        assert_eq!(get("SubVars"), "b/x");
        assert_eq!(get("Join"), "a:us-east-1:small");
        assert_eq!(get("Split"), "c");
        assert_eq!(get("If"), "notprod");
        assert_eq!(resolve(TEMPLATE, "NoValue", &s).unwrap(), None);
        assert_eq!(get("Import"), "unresolved:Fn::ImportValue(Shared)");
        assert_eq!(get("Stream"), "unresolved:Table.StreamArn");
    }

    #[test]
    fn parameters_from_the_command_line_win() {
        let s = Settings { parameters: vec![("Env".into(), "prod".into())], ..Settings::default() };
        assert_eq!(resolve(TEMPLATE, "If", &s).unwrap().unwrap(), "prod");
        assert_eq!(
            resolve(TEMPLATE, "TableArn", &s).unwrap().unwrap(),
            "arn:aws:dynamodb:us-east-1:123456789012:table/orders-prod"
        );
    }

    #[test]
    fn a_missing_parameter_is_an_error_at_its_reference() {
        let err = resolve(TEMPLATE, "Missing", &Settings::default()).unwrap_err();
        assert!(err.to_string().starts_with("t.yaml:27:12:"), "{err}");
        assert!(err.to_string().contains("parameter Needed has no value"), "{err}");
        assert_eq!(err.help().as_deref(), Some("pass --parameter Needed=VALUE"));
    }
}
