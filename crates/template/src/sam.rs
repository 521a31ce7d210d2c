//! The SAM transform (`Transform: AWS::Serverless-2016-10-31`), as far as permissions go: each
//! `AWS::Serverless::Function` becomes an `AWS::Lambda::Function` and, without `Role`, the role SAM
//! generates (`<FunctionLogicalId>Role`) with the policies SAM puts on it, following the
//! aws-sam-translator: `AWSLambdaBasicExecutionRole`, X-Ray for `Tracing`, VPC access for `VpcConfig`,
//! `Policies` in every form (policy templates from the embedded table), `DeadLetterQueue`,
//! `EventInvokeConfig` destinations, the pull event sources, `Globals`, `RolePath`,
//! `PermissionsBoundary` and `AssumeRolePolicyDocument`; `AWS::Serverless::Connector` and `Connectors`
//! become managed policies on the source function's role (see [`crate::connector`]).
//!
//! The output is a CloudFormation template (nodes keep the positions of what they came from), read
//! afterwards like any other.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{json, Value as J};

use crate::error::TemplateError;
use crate::intrinsic::Resolver;
use crate::managed::ManagedPolicies;
use crate::node::{Key, Node, Pos, Value};

/// The SAM transform's name.
pub const TRANSFORM: &str = "AWS::Serverless-2016-10-31";

const TABLE: &str = include_str!("../data/sam_policy_templates.json");

/// The SAM policy templates of the embedded table (from aws-sam-translator's policy_templates.json).
pub struct PolicyTemplates {
    /// `aws-sam-translator VERSION`.
    pub source: String,
    templates: HashMap<String, (Vec<String>, J)>,
}

impl PolicyTemplates {
    /// The embedded table (read once).
    pub fn get() -> &'static PolicyTemplates {
        static TABLE_CELL: OnceLock<PolicyTemplates> = OnceLock::new();
        TABLE_CELL.get_or_init(|| {
            let v: J = serde_json::from_str(TABLE).unwrap_or(J::Null);
            let mut templates = HashMap::new();
            if let Some(map) = v.get("templates").and_then(J::as_object) {
                for (name, t) in map {
                    let params = t
                        .get("parameters")
                        .and_then(J::as_array)
                        .map(|a| a.iter().filter_map(J::as_str).map(str::to_string).collect())
                        .unwrap_or_default();
                    templates.insert(name.clone(), (params, t.get("definition").cloned().unwrap_or(J::Null)));
                }
            }
            PolicyTemplates {
                source: v.get("source").and_then(J::as_str).unwrap_or_default().to_string(),
                templates,
            }
        })
    }

    /// Whether a template of that name exists.
    pub fn has(&self, name: &str) -> bool {
        self.templates.contains_key(name)
    }

    /// Every template's name and parameter names, sorted by name.
    pub fn names(&self) -> Vec<(&str, &[String])> {
        let mut v: Vec<(&str, &[String])> =
            self.templates.iter().map(|(k, (p, _))| (k.as_str(), p.as_slice())).collect();
        v.sort();
        v
    }

    fn suggest(&self, name: &str) -> Option<&str> {
        let lower = name.to_ascii_lowercase();
        self.templates
            .keys()
            .map(|k| (edit_distance(&k.to_ascii_lowercase(), &lower), k))
            .min()
            .filter(|(d, _)| *d <= 4)
            .map(|(_, k)| k.as_str())
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Whether the template uses the SAM transform.
pub fn is_sam(root: &Node) -> bool {
    match root.get("Transform") {
        Some(t) => t.as_str() == Some(TRANSFORM) || t.items().iter().any(|i| i.as_str() == Some(TRANSFORM)),
        None => false,
    }
}

fn key(name: &str, pos: Pos) -> Key {
    Key { name: name.to_string(), pos }
}

fn map(entries: Vec<(&str, Node)>, pos: Pos) -> Node {
    Node::synthetic(Value::Map(entries.into_iter().map(|(k, v)| (key(k, pos), v)).collect()), pos)
}

fn string(s: &str, pos: Pos) -> Node {
    Node::synthetic(Value::String(s.to_string()), pos)
}

fn json_node(v: J, pos: Pos) -> Node {
    Node::from_json(&v, pos)
}

/// Merges a `Globals` value into a resource's (SAM's rules: maps merge key by key, lists are the
/// global items then the local ones, anything else (intrinsic functions too) is the local value).
fn merge(global: &Node, local: &Node) -> Node {
    let is_map = |n: &Node| matches!(n.value, Value::Map(_)) && n.intrinsic().is_none();
    match (&global.value, &local.value) {
        (Value::Map(g), Value::Map(l)) if is_map(global) && is_map(local) => {
            let mut out = g.clone();
            for (k, v) in l {
                match out.iter_mut().find(|(gk, _)| gk.name == k.name) {
                    Some((_, gv)) => *gv = merge(gv, v),
                    None => out.push((k.clone(), v.clone())),
                }
            }
            Node { value: Value::Map(out), pos: local.pos }
        }
        (Value::Seq(g), Value::Seq(l)) => {
            Node { value: Value::Seq(g.iter().chain(l).cloned().collect()), pos: local.pos }
        }
        _ => local.clone(),
    }
}

/// The function's properties with `Globals.Function` merged in.
fn with_globals(props: &Node, globals: Option<&Node>) -> Node {
    let Some(g) = globals else { return props.clone() };
    let mut out: Vec<(Key, Node)> = Vec::new();
    for (k, gv) in g.entries() {
        match props.get(&k.name) {
            Some(lv) => out.push((k.clone(), merge(gv, lv))),
            None => out.push((k.clone(), gv.clone())),
        }
    }
    for (k, v) in props.entries() {
        if !out.iter().any(|(ok, _)| ok.name == k.name) {
            out.push((k.clone(), v.clone()));
        }
    }
    Node { value: Value::Map(out), pos: props.pos }
}

/// Expands the SAM resources of a template into CloudFormation resources.
pub fn transform(root: &Node, r: &Resolver<'_>) -> Result<Node, TemplateError> {
    let globals = root.get("Globals").and_then(|g| g.get("Function"));
    let mut resources: Vec<(Key, Node)> = Vec::new();
    let mut connectors = Vec::new();
    for (k, res) in root.get("Resources").map(Node::entries).unwrap_or_default() {
        let kind = res.get("Type").and_then(Node::as_str).unwrap_or_default();
        match kind {
            "AWS::Serverless::Function" => {
                let empty = map(Vec::new(), res.pos);
                let props = with_globals(res.get("Properties").unwrap_or(&empty), globals);
                let f = SamFunction { id: &k.name, props: &props, resource: res, r };
                resources.extend(f.expand()?);
                if let Some(c) = res.get("Connectors") {
                    for (ck, cv) in c.entries() {
                        connectors.push((format!("{}{}", k.name, ck.name), k.name.clone(), cv.clone()));
                    }
                }
            }
            "AWS::Serverless::SimpleTable" => {
                let mut out = res.clone();
                if let Value::Map(entries) = &mut out.value {
                    for (ek, ev) in entries.iter_mut() {
                        if ek.name == "Type" {
                            *ev = string("AWS::DynamoDB::Table", ev.pos);
                        }
                    }
                }
                resources.push((k.clone(), out));
            }
            "AWS::Serverless::Connector" => {
                connectors.push((k.name.clone(), String::new(), res.clone()));
                resources.push((k.clone(), res.clone()));
            }
            _ => {
                resources.push((k.clone(), res.clone()));
                if let Some(c) = res.get("Connectors") {
                    for (ck, cv) in c.entries() {
                        connectors.push((format!("{}{}", k.name, ck.name), k.name.clone(), cv.clone()));
                    }
                }
            }
        }
    }
    for (id, source, node) in connectors {
        resources.extend(crate::connector::expand(&id, &source, &node, r)?);
    }
    let mut out: Vec<(Key, Node)> = root
        .entries()
        .iter()
        .filter(|(k, _)| k.name != "Transform" && k.name != "Globals" && k.name != "Resources")
        .cloned()
        .collect();
    out.push((key("Resources", root.pos), Node::synthetic(Value::Map(resources), root.pos)));
    Ok(Node { value: Value::Map(out), pos: root.pos })
}

struct SamFunction<'a, 'r> {
    id: &'a str,
    props: &'a Node,
    resource: &'a Node,
    r: &'a Resolver<'r>,
}

/// The pull event sources and the AWS managed policy SAM attaches for each (none: SAM writes an
/// inline policy instead).
const PULL_SOURCES: &[(&str, Option<&str>)] = &[
    ("SQS", Some("service-role/AWSLambdaSQSQueueExecutionRole")),
    ("Kinesis", Some("service-role/AWSLambdaKinesisExecutionRole")),
    ("DynamoDB", Some("service-role/AWSLambdaDynamoDBExecutionRole")),
    ("MSK", Some("service-role/AWSLambdaMSKExecutionRole")),
    ("MQ", None),
    ("SelfManagedKafka", None),
    ("DocumentDB", None),
];

impl SamFunction<'_, '_> {
    fn pos(&self) -> Pos {
        self.resource.pos
    }

    fn managed_arn(&self, name: &str) -> Node {
        let partition = self.r.settings().partition();
        string(&format!("arn:{partition}:iam::aws:policy/{name}"), self.pos())
    }

    fn expand(&self) -> Result<Vec<(Key, Node)>, TemplateError> {
        let pos = self.pos();
        let role_id = format!("{}Role", self.id);
        let mut out = Vec::new();
        let mut function_props: Vec<(Key, Node)> = Vec::new();
        for name in [
            "FunctionName",
            "Runtime",
            "Handler",
            "Environment",
            "PackageType",
            "LoggingConfig",
            "VpcConfig",
            "FileSystemConfigs",
            "SnapStart",
            "Layers",
            "KmsKeyArn",
        ] {
            if let Some(v) = self.props.get(name) {
                function_props.push((key(name, v.pos), v.clone()));
            }
        }
        function_props.extend(self.configuration());
        let role_node = match self.props.get("Role") {
            Some(role) => role.clone(),
            None => {
                out.push((key(&role_id, pos), self.role()?));
                json_node(json!({"Fn::GetAtt": [role_id, "Arn"]}), pos)
            }
        };
        function_props.push((key("Role", role_node.pos), role_node));
        let mut function = vec![("Type", string("AWS::Lambda::Function", pos))];
        if let Some(c) = self.resource.get("Condition") {
            function.push(("Condition", c.clone()));
        }
        function.push(("Properties", Node::synthetic(Value::Map(function_props), self.props.pos)));
        out.insert(0, (key(self.id, pos), map(function, pos)));
        out.extend(self.event_source_mappings());
        out.extend(self.destination_resources());
        out.extend(self.event_invoke_config());
        Ok(out)
    }

    /// What SAM writes under other names on the `AWS::Lambda::Function`: `Tracing` as
    /// `TracingConfig.Mode`, `DeadLetterQueue.TargetArn` as `DeadLetterConfig.TargetArn`.
    fn configuration(&self) -> Vec<(Key, Node)> {
        let mut out = Vec::new();
        if let Some(t) = self.props.get("Tracing").filter(|t| t.as_str() != Some("Disabled")) {
            out.push((key("TracingConfig", t.pos), map(vec![("Mode", t.clone())], t.pos)));
        }
        if let Some(target) = self.props.get("DeadLetterQueue").and_then(|d| d.get("TargetArn")) {
            out.push((
                key("DeadLetterConfig", target.pos),
                map(vec![("TargetArn", target.clone())], target.pos),
            ));
        }
        out
    }

    /// `EventInvokeConfig` becomes an `AWS::Lambda::EventInvokeConfig` named `<F>EventInvokeConfig`
    /// for `$LATEST`, each destination's `Type` dropped and a missing `Destination` pointing at the
    /// queue or topic SAM creates.
    fn event_invoke_config(&self) -> Vec<(Key, Node)> {
        let Some(config) = self.props.get("EventInvokeConfig") else { return Vec::new() };
        let pos = config.pos;
        let id = format!("{}EventInvokeConfig", self.id);
        let mut props = vec![
            ("FunctionName", json_node(json!({"Ref": self.id}), pos)),
            ("Qualifier", string("$LATEST", pos)),
        ];
        for name in ["MaximumEventAgeInSeconds", "MaximumRetryAttempts"] {
            if let Some(v) = config.get(name) {
                props.push((name, v.clone()));
            }
        }
        if let Some(dest) = config.get("DestinationConfig") {
            let mut events = Vec::new();
            for event in ["OnSuccess", "OnFailure"] {
                let Some(d) = dest.get(event) else { continue };
                let target = match (d.get("Destination"), d.get("Type").and_then(Node::as_str)) {
                    (Some(t), _) => t.clone(),
                    (None, Some("SQS")) => {
                        json_node(json!({"Fn::GetAtt": [format!("{id}{event}Queue"), "Arn"]}), d.pos)
                    }
                    (None, Some("SNS")) => json_node(json!({"Ref": format!("{id}{event}Topic")}), d.pos),
                    _ => continue,
                };
                events.push((event, map(vec![("Destination", target)], d.pos)));
            }
            props.push(("DestinationConfig", map(events, dest.pos)));
        }
        let resource = map(
            vec![("Type", string("AWS::Lambda::EventInvokeConfig", pos)), ("Properties", map(props, pos))],
            pos,
        );
        vec![(key(&id, pos), resource)]
    }

    fn role(&self) -> Result<Node, TemplateError> {
        let pos = self.pos();
        let trust = self.props.get("AssumeRolePolicyDocument").cloned().unwrap_or_else(|| {
            json_node(
                json!({"Version": "2012-10-17", "Statement": [{"Action": ["sts:AssumeRole"], "Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com"]}}]}),
                pos,
            )
        });
        let basic = if self.props.get("DurableConfig").is_some() {
            "service-role/AWSLambdaBasicDurableExecutionRolePolicy"
        } else {
            "service-role/AWSLambdaBasicExecutionRole"
        };
        let mut managed = vec![self.managed_arn(basic)];
        if let Some(tracing) = self.props.get("Tracing") {
            if self.r.resolve(tracing)?.and_then(|v| v.as_str().map(str::to_string)).as_deref()
                != Some("Disabled")
            {
                let xray = if self.r.settings().partition() == "aws" {
                    "AWSXrayWriteOnlyAccess"
                } else {
                    "AWSXRayDaemonWriteAccess"
                };
                managed.push(self.managed_arn(xray));
            }
        }
        if self.props.get("VpcConfig").is_some() {
            managed.push(self.managed_arn("service-role/AWSLambdaVPCAccessExecutionRole"));
        }
        let mut documents = Vec::new();
        self.dead_letter_queue(&mut documents);
        self.event_invoke_policies(&mut documents);
        let mut inline = documents;
        self.policies(&mut managed, &mut inline)?;
        self.event_source_policies(&mut managed, &mut inline);
        let mut props = vec![
            ("AssumeRolePolicyDocument", trust),
            ("ManagedPolicyArns", Node::synthetic(Value::Seq(managed), pos)),
        ];
        if !inline.is_empty() {
            props.push(("Policies", Node::synthetic(Value::Seq(inline), pos)));
        }
        for (from, to) in [("RolePath", "Path"), ("PermissionsBoundary", "PermissionsBoundary")] {
            if let Some(v) = self.props.get(from) {
                props.push((to, v.clone()));
            }
        }
        props.push(("Tags", self.tags()));
        let mut role = vec![("Type", string("AWS::IAM::Role", pos))];
        if let Some(c) = self.resource.get("Condition") {
            role.push(("Condition", c.clone()));
        }
        role.push(("Properties", map(props, pos)));
        Ok(map(role, pos))
    }

    fn tags(&self) -> Node {
        let pos = self.pos();
        let mut tags =
            vec![map(vec![("Key", string("lambda:createdBy", pos)), ("Value", string("SAM", pos))], pos)];
        for (k, v) in self.props.get("Tags").map(Node::entries).unwrap_or_default() {
            tags.push(map(vec![("Key", string(&k.name, k.pos)), ("Value", v.clone())], v.pos));
        }
        Node::synthetic(Value::Seq(tags), pos)
    }

    /// `Policies`: managed policy names and ARNs, documents, statement lists and policy templates, each
    /// possibly inside `Fn::If`.
    fn policies(&self, managed: &mut Vec<Node>, inline: &mut Vec<Node>) -> Result<(), TemplateError> {
        let Some(policies) = self.props.get("Policies") else { return Ok(()) };
        let items: Vec<Node> = match &policies.value {
            Value::Seq(items) => items.clone(),
            Value::Null => Vec::new(),
            _ => vec![policies.clone()],
        };
        let role_id = format!("{}Role", self.id);
        for (index, item) in items.iter().enumerate() {
            let name = format!("{role_id}Policy{index}");
            match self.policy_type(item)? {
                PolicyType::Managed => {
                    let arn = self.map_branches(item, &|n| Ok(self.managed_name(n)))?;
                    if !managed.contains(&arn) {
                        managed.push(arn);
                    }
                }
                PolicyType::Statement => {
                    inline.push(self.map_branches(item, &|doc| Ok(named_policy(&name, doc.clone())))?)
                }
                PolicyType::Template => inline
                    .push(self.map_branches(item, &|t| Ok(named_policy(&name, self.policy_template(t)?)))?),
            }
        }
        Ok(())
    }

    /// Applies `f` to the item, or to both branches of an `Fn::If` (leaving `AWS::NoValue` as it is).
    fn map_branches(
        &self,
        item: &Node,
        f: &dyn Fn(&Node) -> Result<Node, TemplateError>,
    ) -> Result<Node, TemplateError> {
        if let Some(("Fn::If", arg)) = item.intrinsic() {
            if let Value::Seq(items) = &arg.value {
                if items.len() == 3 {
                    let mut out = items.clone();
                    for branch in out.iter_mut().skip(1) {
                        if !is_no_value(branch) {
                            *branch = self.map_branches(branch, f)?;
                        }
                    }
                    return Ok(json_if(out, item.pos));
                }
            }
        }
        f(item)
    }

    fn managed_name(&self, node: &Node) -> Node {
        match node.as_str() {
            Some(name) if !name.starts_with("arn:") => match ManagedPolicies::get().by_name(name) {
                Some(p) => {
                    let partition = self.r.settings().partition();
                    string(&p.arn.replacen("arn:aws:", &format!("arn:{partition}:"), 1), node.pos)
                }
                None => node.clone(),
            },
            _ => node.clone(),
        }
    }

    fn policy_type(&self, item: &Node) -> Result<PolicyType, TemplateError> {
        if let Some(("Fn::If", arg)) = item.intrinsic() {
            let items = arg.items();
            if items.len() != 3 {
                return Err(self.r.error(arg.pos, "Fn::If takes [Condition, ValueIfTrue, ValueIfFalse]"));
            }
            return match (is_no_value(&items[1]), is_no_value(&items[2])) {
                (true, true) => Ok(PolicyType::Managed),
                (true, false) => self.policy_type(&items[2]),
                (false, true) => self.policy_type(&items[1]),
                (false, false) => {
                    let (a, b) = (self.policy_type(&items[1])?, self.policy_type(&items[2])?);
                    if a == b {
                        Ok(a)
                    } else {
                        Err(self.r.error(
                            item.pos,
                            "different policy types within the same Fn::If are not supported by SAM",
                        ))
                    }
                }
            };
        }
        match &item.value {
            Value::String(_) => Ok(PolicyType::Managed),
            Value::Map(_) if item.intrinsic().is_some() => Ok(PolicyType::Managed),
            Value::Map(entries) if entries.iter().any(|(k, _)| k.name == "Statement") => Ok(PolicyType::Statement),
            Value::Map(entries) if entries.len() == 1 => {
                let (k, _) = &entries[0];
                let templates = PolicyTemplates::get();
                if templates.has(&k.name) {
                    return Ok(PolicyType::Template);
                }
                let help = templates
                    .suggest(&k.name)
                    .map(|s| format!("did you mean {s}? The SAM policy templates are listed in the AWS SAM Developer Guide, \"AWS SAM policy templates\""));
                Err(TemplateError::at(
                    self.r.path(),
                    k.pos,
                    format!("function {}: unknown SAM policy template {}", self.id, k.name),
                    help,
                ))
            }
            _ => Err(self.r.error(item.pos, format!("function {}: this Policies item is not a managed policy, a policy document or a policy template", self.id))),
        }
    }

    /// A policy template with its parameters substituted (`{"Ref": PARAMETER}` replaced by the value).
    fn policy_template(&self, item: &Node) -> Result<Node, TemplateError> {
        let Some((k, values)) = item.entries().first() else {
            return Err(self.r.error(item.pos, "empty policy template"));
        };
        let templates = PolicyTemplates::get();
        let Some((params, definition)) = templates.templates.get(&k.name) else {
            return Err(self.r.error(k.pos, format!("unknown SAM policy template {}", k.name)));
        };
        let missing: Vec<&String> = params.iter().filter(|p| values.get(p).is_none()).collect();
        if !missing.is_empty() {
            return Err(TemplateError::at(
                self.r.path(),
                k.pos,
                format!(
                    "function {}: policy template {} needs {}",
                    self.id,
                    k.name,
                    missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                ),
                Some(format!(
                    "give {} as keys under {}",
                    missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
                    k.name
                )),
            ));
        }
        Ok(substitute(&Node::from_json(definition, values.pos), params, values))
    }

    fn dead_letter_queue(&self, documents: &mut Vec<Node>) {
        let Some(dlq) = self.props.get("DeadLetterQueue") else { return };
        let action = match dlq.get("Type").and_then(Node::as_str) {
            Some("SQS") => "sqs:SendMessage",
            Some("SNS") => "sns:Publish",
            _ => return,
        };
        let Some(target) = dlq.get("TargetArn") else { return };
        let pos = dlq.pos;
        let statement = map(
            vec![
                ("Action", string(action, pos)),
                ("Resource", target.clone()),
                ("Effect", string("Allow", pos)),
            ],
            pos,
        );
        let doc = map(
            vec![
                ("Version", string("2012-10-17", pos)),
                ("Statement", Node::synthetic(Value::Seq(vec![statement]), pos)),
            ],
            pos,
        );
        documents.push(named_policy("DeadLetterQueuePolicy", doc));
    }

    /// `EventInvokeConfig.DestinationConfig`: the policy for each destination (SQS, SNS, EventBridge,
    /// Lambda, S3Bucket), named `<F>EventInvokeConfig<OnSuccess|OnFailure><Kind>Policy`.
    fn event_invoke_policies(&self, documents: &mut Vec<Node>) {
        let Some(config) = self.props.get("EventInvokeConfig").and_then(|c| c.get("DestinationConfig"))
        else {
            return;
        };
        for event in ["OnSuccess", "OnFailure"] {
            let Some(dest) = config.get(event) else { continue };
            let pos = dest.pos;
            let id = format!("{}EventInvokeConfig{event}", self.id);
            let kind = dest.get("Type").and_then(Node::as_str).unwrap_or_default();
            let arn = match dest.get("Destination") {
                Some(d) => d.clone(),
                None => match kind {
                    "SQS" => json_node(json!({"Fn::GetAtt": [format!("{id}Queue"), "Arn"]}), pos),
                    "SNS" => json_node(json!({"Ref": format!("{id}Topic")}), pos),
                    _ => continue,
                },
            };
            let statements = match kind {
                "SQS" => vec![("sqs:SendMessage", arn)],
                "SNS" => vec![("sns:publish", arn)],
                "EventBridge" => vec![("events:PutEvents", arn)],
                "Lambda" => vec![("lambda:InvokeFunction", arn)],
                "S3Bucket" => vec![
                    ("s3:PutObject", json_node(json!({"Fn::Join": ["/", [arn.to_json(), "*"]]}), pos)),
                    ("s3:ListBucket", arn),
                ],
                _ => continue,
            };
            let suffix = match kind {
                "SQS" => "SQS",
                "SNS" => "SNS",
                "EventBridge" => "EventBridge",
                "Lambda" => "Lambda",
                _ => "S3",
            };
            let statements = statements
                .into_iter()
                .map(|(action, resource)| {
                    map(
                        vec![
                            ("Action", string(action, pos)),
                            ("Effect", string("Allow", pos)),
                            ("Resource", resource),
                        ],
                        pos,
                    )
                })
                .collect();
            let doc = map(vec![("Statement", Node::synthetic(Value::Seq(statements), pos))], pos);
            documents.push(named_policy(&format!("{id}{suffix}Policy"), doc));
        }
    }

    /// The queues and topics SAM creates for destinations without `Destination`.
    fn destination_resources(&self) -> Vec<(Key, Node)> {
        let Some(config) = self.props.get("EventInvokeConfig").and_then(|c| c.get("DestinationConfig"))
        else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for event in ["OnSuccess", "OnFailure"] {
            let Some(dest) = config.get(event) else { continue };
            if dest.get("Destination").is_some() {
                continue;
            }
            let id = format!("{}EventInvokeConfig{event}", self.id);
            let (suffix, kind) = match dest.get("Type").and_then(Node::as_str) {
                Some("SQS") => ("Queue", "AWS::SQS::Queue"),
                Some("SNS") => ("Topic", "AWS::SNS::Topic"),
                _ => continue,
            };
            out.push((
                key(&format!("{id}{suffix}"), dest.pos),
                map(vec![("Type", string(kind, dest.pos))], dest.pos),
            ));
        }
        out
    }

    fn events(&self) -> Vec<(&Key, &str, &Node)> {
        self.props
            .get("Events")
            .map(Node::entries)
            .unwrap_or_default()
            .iter()
            .filter_map(|(k, e)| {
                let kind = e.get("Type").and_then(Node::as_str)?;
                let props = e.get("Properties")?;
                PULL_SOURCES.iter().any(|(t, _)| *t == kind).then_some((k, kind, props))
            })
            .collect()
    }

    /// The managed policies and inline policies the pull event sources add.
    fn event_source_policies(&self, managed: &mut Vec<Node>, inline: &mut Vec<Node>) {
        for (event_key, kind, props) in self.events() {
            if let Some(Some(name)) = PULL_SOURCES.iter().find(|(t, _)| *t == kind).map(|(_, p)| p) {
                let arn = self.managed_arn(name);
                if !managed.contains(&arn) {
                    managed.push(arn);
                }
            }
            let policy = match kind {
                "MQ" => Some(self.mq_policy(&event_key.name, props)),
                "DocumentDB" => Some(self.documentdb_policy(props)),
                "SelfManagedKafka" => self.kafka_policy(props),
                "MSK" => self.msk_policy(props),
                _ => None,
            };
            if let Some(p) = policy {
                let doc = p.get("PolicyDocument").map(Node::to_json);
                if !inline.iter().any(|i| i.get("PolicyDocument").map(Node::to_json) == doc) {
                    inline.push(p);
                }
            }
        }
    }

    fn auth_uri(&self, props: &Node, types: &[&str]) -> Option<Node> {
        props
            .get("SourceAccessConfigurations")?
            .items()
            .iter()
            .find(|c| c.get("Type").and_then(Node::as_str).is_some_and(|t| types.contains(&t)))
            .and_then(|c| c.get("URI"))
            .cloned()
    }

    fn kms_statement(&self, props: &Node, pos: Pos) -> Option<Node> {
        let key_id = props.get("SecretsManagerKmsKeyId")?.scalar_text()?;
        Some(json_node(
            json!({"Action": "kms:Decrypt", "Effect": "Allow", "Resource": {"Fn::Sub": format!("arn:${{AWS::Partition}}:kms:${{AWS::Region}}:${{AWS::AccountId}}:key/{key_id}")}}),
            pos,
        ))
    }

    fn mq_policy(&self, event_id: &str, props: &Node) -> Node {
        let pos = props.pos;
        let name = if props.get("DynamicPolicyName").and_then(|v| v.scalar_text()).as_deref() == Some("true")
        {
            format!("{event_id}AMQPolicy")
        } else {
            "SamAutoGeneratedAMQPolicy".into()
        };
        let uri = self
            .auth_uri(props, &["BASIC_AUTH", "VIRTUAL_HOST"])
            .unwrap_or_else(|| Node::synthetic(Value::Null, pos));
        let broker = props.get("Broker").cloned().unwrap_or_else(|| Node::synthetic(Value::Null, pos));
        let mut statements = vec![
            map(
                vec![
                    ("Action", json_node(json!(["secretsmanager:GetSecretValue"]), pos)),
                    ("Effect", string("Allow", pos)),
                    ("Resource", uri),
                ],
                pos,
            ),
            map(
                vec![
                    ("Action", json_node(json!(["mq:DescribeBroker"]), pos)),
                    ("Effect", string("Allow", pos)),
                    ("Resource", broker),
                ],
                pos,
            ),
        ];
        statements.extend(self.kms_statement(props, pos));
        named_policy(&name, map(vec![("Statement", Node::synthetic(Value::Seq(statements), pos))], pos))
    }

    fn documentdb_policy(&self, props: &Node) -> Node {
        let pos = props.pos;
        let uri = self.auth_uri(props, &["BASIC_AUTH"]).unwrap_or_else(|| Node::synthetic(Value::Null, pos));
        let cluster = props.get("Cluster").cloned().unwrap_or_else(|| Node::synthetic(Value::Null, pos));
        let mut statements = vec![
            map(
                vec![
                    ("Action", json_node(json!(["secretsmanager:GetSecretValue"]), pos)),
                    ("Effect", string("Allow", pos)),
                    ("Resource", uri),
                ],
                pos,
            ),
            json_node(
                json!({"Action": ["rds:DescribeDBClusterParameters"], "Effect": "Allow", "Resource": {"Fn::Sub": "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:cluster-pg:*"}}),
                pos,
            ),
            json_node(
                json!({"Action": ["rds:DescribeDBSubnetGroups"], "Effect": "Allow", "Resource": {"Fn::Sub": "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:subgrp:*"}}),
                pos,
            ),
            map(
                vec![
                    ("Action", json_node(json!(["rds:DescribeDBClusters"]), pos)),
                    ("Effect", string("Allow", pos)),
                    ("Resource", cluster),
                ],
                pos,
            ),
            json_node(vpc_statement(), pos),
        ];
        statements.extend(self.kms_statement(props, pos));
        named_policy(
            "SamAutoGeneratedDocumentDBPolicy",
            map(vec![("Statement", Node::synthetic(Value::Seq(statements), pos))], pos),
        )
    }

    fn kafka_policy(&self, props: &Node) -> Option<Node> {
        let pos = props.pos;
        let configs = props.get("SourceAccessConfigurations")?.items();
        let mut statements = Vec::new();
        const AUTH: &[&str] = &[
            "SASL_SCRAM_256_AUTH",
            "SASL_SCRAM_512_AUTH",
            "BASIC_AUTH",
            "CLIENT_CERTIFICATE_TLS_AUTH",
            "OAUTHBEARER_AUTH",
        ];
        let secret = |c: &Node| {
            c.get("URI").map(|uri| {
                map(
                    vec![
                        ("Action", json_node(json!(["secretsmanager:GetSecretValue"]), pos)),
                        ("Effect", string("Allow", pos)),
                        ("Resource", uri.clone()),
                    ],
                    pos,
                )
            })
        };
        let of_type =
            |t: &'static str| configs.iter().filter(move |c| c.get("Type").and_then(Node::as_str) == Some(t));
        for c in
            configs.iter().filter(|c| c.get("Type").and_then(Node::as_str).is_some_and(|t| AUTH.contains(&t)))
        {
            statements.extend(secret(c));
        }
        for c in of_type("SERVER_ROOT_CA_CERTIFICATE") {
            statements.extend(secret(c));
        }
        if of_type("VPC_SUBNET").next().is_some() && of_type("VPC_SECURITY_GROUP").next().is_some() {
            statements.push(json_node(vpc_statement(), pos));
        }
        statements.extend(self.kms_statement(props, pos));
        if statements.is_empty() {
            return None;
        }
        let doc = map(
            vec![
                ("Statement", Node::synthetic(Value::Seq(statements), pos)),
                ("Version", string("2012-10-17", pos)),
            ],
            pos,
        );
        Some(named_policy("SelfManagedKafkaExecutionRolePolicy", doc))
    }

    fn msk_policy(&self, props: &Node) -> Option<Node> {
        let pos = props.pos;
        let uri = self.auth_uri(props, &["CLIENT_CERTIFICATE_TLS_AUTH"])?;
        let statement = map(
            vec![
                ("Action", json_node(json!(["secretsmanager:GetSecretValue"]), pos)),
                ("Effect", string("Allow", pos)),
                ("Resource", uri),
            ],
            pos,
        );
        Some(named_policy(
            "MSKExecutionRolePolicy",
            map(vec![("Statement", Node::synthetic(Value::Seq(vec![statement]), pos))], pos),
        ))
    }

    /// An `AWS::Lambda::EventSourceMapping` for each pull event source.
    fn event_source_mappings(&self) -> Vec<(Key, Node)> {
        let mut out = Vec::new();
        for (event_key, kind, props) in self.events() {
            let pos = props.pos;
            let source = match kind {
                "SQS" => props.get("Queue"),
                "Kinesis" | "DynamoDB" | "MSK" => props.get("Stream"),
                "MQ" => props.get("Broker"),
                "DocumentDB" => props.get("Cluster"),
                _ => None,
            };
            let mut mapping = vec![("FunctionName", json_node(json!({"Ref": self.id}), pos))];
            if let Some(s) = source {
                mapping.push(("EventSourceArn", s.clone()));
            }
            for k in ["BatchSize", "StartingPosition", "Enabled", "Topics", "Queues"] {
                if let Some(v) = props.get(k) {
                    mapping.push((k, v.clone()));
                }
            }
            let id = format!("{}{}", self.id, event_key.name);
            out.push((
                key(&id, pos),
                map(
                    vec![
                        ("Type", string("AWS::Lambda::EventSourceMapping", pos)),
                        ("Properties", map(mapping, pos)),
                    ],
                    pos,
                ),
            ));
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PolicyType {
    Managed,
    Statement,
    Template,
}

fn vpc_statement() -> J {
    json!({"Action": ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface", "ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"], "Effect": "Allow", "Resource": "*"})
}

fn is_no_value(node: &Node) -> bool {
    matches!(node.intrinsic(), Some(("Ref", arg)) if arg.as_str() == Some("AWS::NoValue"))
}

fn json_if(items: Vec<Node>, pos: Pos) -> Node {
    map(vec![("Fn::If", Node::synthetic(Value::Seq(items), pos))], pos)
}

fn named_policy(name: &str, document: Node) -> Node {
    let pos = document.pos;
    map(vec![("PolicyName", string(name, pos)), ("PolicyDocument", document)], pos)
}

/// Replaces `{"Ref": P}` for the template's parameters `params` with the given values.
fn substitute(node: &Node, params: &[String], values: &Node) -> Node {
    if let Some(("Ref", arg)) = node.intrinsic() {
        if let Some(p) = arg.as_str().filter(|p| params.iter().any(|x| x == p)) {
            if let Some(v) = values.get(p) {
                return v.clone();
            }
        }
    }
    match &node.value {
        Value::Seq(items) => Node {
            value: Value::Seq(items.iter().map(|i| substitute(i, params, values)).collect()),
            pos: node.pos,
        },
        Value::Map(entries) => Node {
            value: Value::Map(
                entries.iter().map(|(k, v)| (k.clone(), substitute(v, params, values))).collect(),
            ),
            pos: node.pos,
        },
        _ => node.clone(),
    }
}
