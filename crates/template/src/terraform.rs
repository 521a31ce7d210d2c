//! `terraform show -json` documents: a plan (`planned_values`, `resource_changes`, `configuration`) or
//! a state (`values`). Read: `aws_iam_role` (with `inline_policy` and `managed_policy_arns`),
//! `aws_iam_role_policy`, `aws_iam_policy`, `aws_iam_role_policy_attachment`,
//! `aws_iam_policy_attachment`, `aws_lambda_function`, `aws_lambda_event_source_mapping`, and the
//! rendered `aws_iam_policy_document` data sources.
//!
//! A value known only after apply (`after_unknown` in the plan) is reported. A reference the plan's
//! `configuration` names (`role = aws_iam_role.app.arn`) is followed to the resource, whose ARN is
//! built from its name, the account and the region (`--account`, `--region`).

use std::collections::HashMap;

use serde_json::{json, Value as J};

use iamfit_core::account::{Function, InlinePolicy, ManagedPolicy, PolicyDocument, Role};

use crate::error::{Issue, TemplateError};
use crate::node::{Node, Pos};
use crate::{DocumentKind, EventSourceMapping, Expansion, LocatedDocument, Settings, TemplateFunction};

/// Whether the document is the JSON of `terraform show -json`.
pub fn is_terraform(root: &Node) -> bool {
    root.get("format_version").is_some()
        && (root.get("planned_values").is_some()
            || root.get("values").is_some()
            || root.get("terraform_version").is_some())
}

/// One resource of the plan or state.
struct Resource {
    address: String,
    kind: String,
    mode: String,
    values: J,
}

fn collect(module: &J, out: &mut Vec<Resource>) {
    for r in module.get("resources").and_then(J::as_array).into_iter().flatten() {
        out.push(Resource {
            address: r.get("address").and_then(J::as_str).unwrap_or_default().to_string(),
            kind: r.get("type").and_then(J::as_str).unwrap_or_default().to_string(),
            mode: r.get("mode").and_then(J::as_str).unwrap_or("managed").to_string(),
            values: r.get("values").cloned().unwrap_or(J::Null),
        });
    }
    for child in module.get("child_modules").and_then(J::as_array).into_iter().flatten() {
        collect(child, out);
    }
}

/// The configuration's references of each resource attribute (`address` -> `attribute` -> refs).
fn references(config: &J, prefix: &str, out: &mut HashMap<String, HashMap<String, Vec<String>>>) {
    for r in config.get("resources").and_then(J::as_array).into_iter().flatten() {
        let address = format!("{prefix}{}", r.get("address").and_then(J::as_str).unwrap_or_default());
        let mut attrs = HashMap::new();
        if let Some(J::Object(exprs)) = r.get("expressions") {
            for (attr, e) in exprs {
                let refs: Vec<String> = e
                    .get("references")
                    .and_then(J::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(J::as_str)
                    .map(|s| format!("{prefix}{s}"))
                    .collect();
                attrs.insert(attr.clone(), refs);
            }
        }
        out.insert(address, attrs);
    }
    if let Some(J::Object(calls)) = config.get("module_calls") {
        for (name, call) in calls {
            if let Some(module) = call.get("module") {
                references(module, &format!("{prefix}module.{name}."), out);
            }
        }
    }
}

struct Reader<'a> {
    path: &'a str,
    settings: &'a Settings,
    pos: Pos,
    resources: Vec<Resource>,
    unknown: HashMap<String, J>,
    refs: HashMap<String, HashMap<String, Vec<String>>>,
    role_names: HashMap<String, String>,
    policy_arns: HashMap<String, String>,
    out: Expansion,
}

/// Expands a `terraform show -json` document.
pub fn expand(root: &Node, path: &str, settings: &Settings) -> Result<Expansion, TemplateError> {
    let doc = root.to_json();
    let plan = doc.get("planned_values").is_some();
    let values = doc.get("planned_values").or_else(|| doc.get("values")).and_then(|v| v.get("root_module"));
    let mut resources = Vec::new();
    if let Some(m) = values {
        collect(m, &mut resources);
    }
    // Data sources are read at plan time and appear in prior_state.
    if let Some(m) = doc.get("prior_state").and_then(|s| s.get("values")).and_then(|v| v.get("root_module")) {
        let mut prior = Vec::new();
        collect(m, &mut prior);
        resources.extend(prior.into_iter().filter(|r| r.mode == "data"));
    }
    let mut unknown = HashMap::new();
    for rc in doc.get("resource_changes").and_then(J::as_array).into_iter().flatten() {
        if let (Some(a), Some(u)) =
            (rc.get("address").and_then(J::as_str), rc.get("change").and_then(|c| c.get("after_unknown")))
        {
            unknown.insert(a.to_string(), u.clone());
        }
    }
    let mut refs = HashMap::new();
    if let Some(c) = doc.get("configuration").and_then(|c| c.get("root_module")) {
        references(c, "", &mut refs);
    }
    let mut reader = Reader {
        path,
        settings,
        pos: root.pos,
        resources,
        unknown,
        refs,
        role_names: HashMap::new(),
        policy_arns: HashMap::new(),
        out: Expansion::default(),
    };
    reader.out.notes.push(format!("{path}: terraform {} read", if plan { "plan" } else { "state" }));
    reader.read()?;
    crate::attach_function_config(&mut reader.out, path);
    Ok(reader.out)
}

/// The first block of a Terraform nested block attribute (`tracing_config = [{...}]`).
fn block<'v>(values: &'v J, name: &str) -> Option<&'v J> {
    values.get(name).and_then(J::as_array).and_then(|a| a.first())
}

/// The string at `name` of a block.
fn text(values: &J, name: &str) -> Option<J> {
    values.get(name).and_then(J::as_str).filter(|s| !s.is_empty()).map(|s| json!(s))
}

/// An `aws_lambda_function`'s attributes that the Lambda service uses the role for, in the shape of
/// `aws lambda get-function-configuration` (Terraform AWS provider, resource `aws_lambda_function`:
/// `package_type`, `logging_config`, `tracing_config`, `vpc_config`, `dead_letter_config`,
/// `kms_key_arn`, `file_system_config`, `snap_start`, `layers`).
fn function_config_json(v: &J) -> J {
    let mut c = serde_json::Map::new();
    if let Some(t) = text(v, "package_type") {
        c.insert("PackageType".into(), t);
    }
    if let Some(g) = block(v, "logging_config").and_then(|b| text(b, "log_group")) {
        c.insert("LoggingConfig".into(), json!({ "LogGroup": g }));
    }
    if let Some(m) = block(v, "tracing_config").and_then(|b| text(b, "mode")) {
        c.insert("TracingConfig".into(), json!({ "Mode": m }));
    }
    if let Some(b) = block(v, "vpc_config") {
        c.insert(
            "VpcConfig".into(),
            json!({"SubnetIds": b.get("subnet_ids"), "SecurityGroupIds": b.get("security_group_ids"), "VpcId": b.get("vpc_id")}),
        );
    }
    if let Some(t) = block(v, "dead_letter_config").and_then(|b| text(b, "target_arn")) {
        c.insert("DeadLetterConfig".into(), json!({ "TargetArn": t }));
    }
    if let Some(k) = text(v, "kms_key_arn") {
        c.insert("KMSKeyArn".into(), k);
    }
    if let Some(f) = block(v, "file_system_config") {
        c.insert(
            "FileSystemConfigs".into(),
            json!([{"Arn": f.get("arn"), "LocalMountPath": f.get("local_mount_path")}]),
        );
    }
    if let Some(a) = block(v, "snap_start").and_then(|b| text(b, "apply_on")) {
        c.insert("SnapStart".into(), json!({ "ApplyOn": a }));
    }
    if let Some(layers) = v.get("layers").and_then(J::as_array) {
        let list: Vec<J> = layers.iter().filter_map(J::as_str).map(|a| json!({ "Arn": a })).collect();
        c.insert("Layers".into(), J::Array(list));
    }
    J::Object(c)
}

impl Reader<'_> {
    fn issue(&mut self, message: String) {
        let issue = Issue { pos: self.pos, message };
        if !self.out.issues.contains(&issue) {
            self.out.issues.push(issue);
        }
    }

    fn is_unknown(&self, address: &str, attr: &str) -> bool {
        self.unknown
            .get(address)
            .and_then(|u| u.get(attr))
            .is_some_and(|v| v != &J::Bool(false) && !v.is_null())
    }

    /// A string attribute; `None` (and an issue) when it is known only after apply.
    fn string(&mut self, r: &Resource, attr: &str) -> Option<String> {
        match r.values.get(attr).and_then(J::as_str) {
            Some(s) => Some(s.to_string()),
            None if self.is_unknown(&r.address, attr) => {
                self.issue(format!("{}.{attr} is known only after apply", r.address));
                None
            }
            None => None,
        }
    }

    /// The resources of `kind` that the configuration of `r.attr` references.
    fn referenced(&self, r: &Resource, attr: &str, kind: &str) -> Option<String> {
        self.refs
            .get(&r.address)?
            .get(attr)?
            .iter()
            .map(|s| strip_attribute(s))
            .find(|a| resource_type(a) == kind)
    }

    fn role_arn(&self, name: &str, path: &str) -> String {
        format!("arn:{}:iam::{}:role{path}{name}", self.settings.partition(), self.settings.account)
    }

    fn document(
        &mut self,
        text: Option<String>,
        owner: String,
        kind: DocumentKind,
    ) -> Result<Option<PolicyDocument>, TemplateError> {
        let Some(text) = text else {
            self.issue(format!(
                "{owner}: the policy document is known only after apply: its grant is unknown"
            ));
            return Ok(None);
        };
        let doc = PolicyDocument::from_value(&J::String(text)).map_err(|e| {
            TemplateError::at(
                self.path,
                self.pos,
                format!("{owner}: the policy document is not valid: {e}"),
                None,
            )
        })?;
        self.out.documents.push(LocatedDocument {
            owner,
            kind,
            pos: self.pos,
            json: doc.json.clone(),
            source: Node::from_json(&doc.json, self.pos),
        });
        Ok(Some(doc))
    }

    fn read(&mut self) -> Result<(), TemplateError> {
        let resources = std::mem::take(&mut self.resources);
        for kind in [
            "aws_iam_role",
            "aws_iam_policy",
            "aws_iam_role_policy",
            "aws_iam_role_policy_attachment",
            "aws_iam_policy_attachment",
            "aws_lambda_function",
            "aws_lambda_event_source_mapping",
            "aws_lambda_function_event_invoke_config",
            "aws_iam_policy_document",
        ] {
            for r in resources.iter().filter(|r| r.kind == kind) {
                match kind {
                    "aws_iam_role" => self.role(r)?,
                    "aws_iam_policy" => self.policy(r)?,
                    "aws_iam_role_policy" => self.role_policy(r)?,
                    "aws_iam_role_policy_attachment" | "aws_iam_policy_attachment" => self.attachment(r),
                    "aws_lambda_function" => self.function(r),
                    "aws_lambda_event_source_mapping" => self.event_source_mapping(r),
                    "aws_lambda_function_event_invoke_config" => self.event_invoke_config(r),
                    _ => {
                        let text = self.string(r, "json");
                        self.document(text, r.address.clone(), DocumentKind::Identity)?;
                    }
                }
            }
        }
        self.resources = resources;
        crate::cfn::attach_aws_managed(&mut self.out);
        Ok(())
    }

    fn role(&mut self, r: &Resource) -> Result<(), TemplateError> {
        let name = self.string(r, "name").unwrap_or_else(|| {
            self.out.logical_names.push(r.address.clone());
            r.address.rsplit('.').next().unwrap_or_default().to_string()
        });
        let path = r.values.get("path").and_then(J::as_str).unwrap_or("/").to_string();
        let arn = r
            .values
            .get("arn")
            .and_then(J::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| self.role_arn(&name, &path));
        let trust_text = self.string(r, "assume_role_policy");
        let trust = self.document(trust_text, format!("role {name} trust policy"), DocumentKind::Trust)?;
        let mut inline = Vec::new();
        for p in r.values.get("inline_policy").and_then(J::as_array).cloned().unwrap_or_default() {
            let (Some(pname), Some(text)) =
                (p.get("name").and_then(J::as_str), p.get("policy").and_then(J::as_str))
            else {
                continue;
            };
            if let Some(doc) = self.document(
                Some(text.to_string()),
                format!("role {name} inline {pname}"),
                DocumentKind::Identity,
            )? {
                inline.push(InlinePolicy { name: pname.to_string(), document: doc });
            }
        }
        let attached = r
            .values
            .get("managed_policy_arns")
            .and_then(J::as_array)
            .map(|a| a.iter().filter_map(J::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        let boundary = r
            .values
            .get("permissions_boundary")
            .and_then(J::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let tags = r
            .values
            .get("tags")
            .and_then(J::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
            .unwrap_or_default();
        self.role_names.insert(r.address.clone(), name.clone());
        self.out.account.roles.push(Role {
            name,
            arn,
            id: String::new(),
            inline,
            attached,
            boundary,
            trust,
            tags,
        });
        Ok(())
    }

    /// The role an attribute names: its value, else the role resource the configuration references.
    fn role_name(&mut self, r: &Resource, attr: &str) -> Option<String> {
        if let Some(v) = r.values.get(attr).and_then(J::as_str) {
            return Some(v.rsplit('/').next().unwrap_or(v).to_string());
        }
        match self.referenced(r, attr, "aws_iam_role").and_then(|a| self.role_names.get(&a).cloned()) {
            Some(name) => Some(name),
            None => {
                self.issue(format!(
                    "{}.{attr} is known only after apply and names no role of the plan",
                    r.address
                ));
                None
            }
        }
    }

    fn policy(&mut self, r: &Resource) -> Result<(), TemplateError> {
        let name = self
            .string(r, "name")
            .unwrap_or_else(|| r.address.rsplit('.').next().unwrap_or_default().to_string());
        let path = r.values.get("path").and_then(J::as_str).unwrap_or("/").to_string();
        let arn = r.values.get("arn").and_then(J::as_str).map(str::to_string).unwrap_or_else(|| {
            format!("arn:{}:iam::{}:policy{path}{name}", self.settings.partition(), self.settings.account)
        });
        let text = self.string(r, "policy");
        if let Some(document) = self.document(text, format!("policy {name}"), DocumentKind::Identity)? {
            self.out.account.policies.push(ManagedPolicy {
                name,
                arn: arn.clone(),
                version: "v1".into(),
                document,
            });
        }
        self.policy_arns.insert(r.address.clone(), arn);
        Ok(())
    }

    fn role_policy(&mut self, r: &Resource) -> Result<(), TemplateError> {
        let Some(role) = self.role_name(r, "role") else { return Ok(()) };
        let name = self
            .string(r, "name")
            .unwrap_or_else(|| r.address.rsplit('.').next().unwrap_or_default().to_string());
        let text = self.string(r, "policy");
        let Some(document) =
            self.document(text, format!("role {role} inline {name}"), DocumentKind::Identity)?
        else {
            return Ok(());
        };
        match self.out.account.roles.iter_mut().find(|x| x.name == role) {
            Some(x) => x.inline.push(InlinePolicy { name, document }),
            None => {
                self.out.notes.push(format!("{} applies to role {role}, which is not in the plan", r.address))
            }
        }
        Ok(())
    }

    fn attachment(&mut self, r: &Resource) {
        let arn = match r.values.get("policy_arn").and_then(J::as_str) {
            Some(a) => Some(a.to_string()),
            None => self
                .referenced(r, "policy_arn", "aws_iam_policy")
                .and_then(|a| self.policy_arns.get(&a).cloned()),
        };
        let Some(arn) = arn else {
            self.issue(format!("{}.policy_arn is known only after apply", r.address));
            return;
        };
        let roles: Vec<String> = if r.kind == "aws_iam_policy_attachment" {
            let mut v: Vec<String> = r
                .values
                .get("roles")
                .and_then(J::as_array)
                .into_iter()
                .flatten()
                .filter_map(J::as_str)
                .map(str::to_string)
                .collect();
            if v.is_empty() {
                if let Some(role) =
                    self.referenced(r, "roles", "aws_iam_role").and_then(|a| self.role_names.get(&a).cloned())
                {
                    v.push(role);
                }
            }
            v
        } else {
            self.role_name(r, "role").into_iter().collect()
        };
        for role in roles {
            match self.out.account.roles.iter_mut().find(|x| x.name == role) {
                Some(x) if !x.attached.contains(&arn) => x.attached.push(arn.clone()),
                Some(_) => {}
                None => self
                    .out
                    .notes
                    .push(format!("{} applies to role {role}, which is not in the plan", r.address)),
            }
        }
    }

    fn function(&mut self, r: &Resource) {
        let Some(name) = self.string(r, "function_name") else { return };
        let s = self.settings;
        let arn = r.values.get("arn").and_then(J::as_str).map(str::to_string).unwrap_or_else(|| {
            format!("arn:{}:lambda:{}:{}:function:{name}", s.partition(), s.region, s.account)
        });
        let role = match r.values.get("role").and_then(J::as_str) {
            Some(a) => a.to_string(),
            None => match self
                .referenced(r, "role", "aws_iam_role")
                .and_then(|a| self.role_names.get(&a).cloned())
            {
                Some(role) => self
                    .out
                    .account
                    .roles
                    .iter()
                    .find(|x| x.name == role)
                    .map(|x| x.arn.clone())
                    .unwrap_or_default(),
                None => {
                    self.issue(format!(
                        "{}.role is known only after apply and names no role of the plan",
                        r.address
                    ));
                    String::new()
                }
            },
        };
        let environment = r
            .values
            .get("environment")
            .and_then(J::as_array)
            .and_then(|a| a.first())
            .and_then(|e| e.get("variables"))
            .and_then(J::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
            .unwrap_or_default();
        let role_logical_id = self.referenced(r, "role", "aws_iam_role");
        self.out.functions.push(TemplateFunction {
            logical_id: r.address.clone(),
            name: name.clone(),
            role_logical_id,
            pos: self.pos,
        });
        self.out.account.functions.push(Function {
            name,
            arn,
            role,
            runtime: r.values.get("runtime").and_then(J::as_str).map(str::to_string),
            handler: r.values.get("handler").and_then(J::as_str).map(str::to_string),
            environment,
            config: iamfit_core::account::snapshot::read_function_config(&function_config_json(&r.values)),
        });
    }

    /// An `aws_lambda_function_event_invoke_config`: the destinations of asynchronous invocations.
    fn event_invoke_config(&mut self, r: &Resource) {
        let Some(function) = self.function_of(r) else { return };
        let destination = |event: &str| {
            block(&r.values, "destination_config")
                .and_then(|d| block(d, event))
                .and_then(|b| text(b, "destination"))
        };
        let mut config = serde_json::Map::new();
        let mut dest = serde_json::Map::new();
        for (event, key) in [("on_success", "OnSuccess"), ("on_failure", "OnFailure")] {
            if let Some(d) = destination(event) {
                dest.insert(key.into(), json!({ "Destination": d }));
            }
        }
        if !dest.is_empty() {
            config.insert("DestinationConfig".into(), J::Object(dest));
        }
        for (attr, key) in [
            ("maximum_retry_attempts", "MaximumRetryAttempts"),
            ("maximum_event_age_in_seconds", "MaximumEventAgeInSeconds"),
        ] {
            if let Some(n) = r.values.get(attr).filter(|n| n.is_number()) {
                config.insert(key.into(), n.clone());
            }
        }
        self.out.event_invoke_configs.push(crate::EventInvokeConfig {
            function,
            config: J::Object(config),
            pos: self.pos,
        });
    }

    /// The function (name) a resource's `function_name` names: the value, or the function of the plan
    /// it refers to; an issue when it is known only after apply.
    fn function_of(&mut self, r: &Resource) -> Option<String> {
        let function = r.values.get("function_name").and_then(J::as_str).map(str::to_string).or_else(|| {
            let a = self.referenced(r, "function_name", "aws_lambda_function")?;
            self.out.functions.iter().find(|f| f.logical_id == a).map(|f| f.name.clone())
        });
        let Some(function) = function else {
            self.issue(format!("{}.function_name is known only after apply", r.address));
            return None;
        };
        Some(function.rsplit(':').next().unwrap_or(&function).to_string())
    }

    fn event_source_mapping(&mut self, r: &Resource) {
        let Some(function) = self.function_of(r) else { return };
        let mut mapping = json!({"UUID": r.address, "FunctionArn": format!("arn:{}:lambda:{}:{}:function:{function}", self.settings.partition(), self.settings.region, self.settings.account)});
        if let Some(a) = r.values.get("event_source_arn").and_then(J::as_str) {
            mapping["EventSourceArn"] = json!(a);
        } else if self.is_unknown(&r.address, "event_source_arn") {
            self.issue(format!("{}.event_source_arn is known only after apply", r.address));
        }
        self.out.event_source_mappings.push(EventSourceMapping { function, mapping, pos: self.pos });
    }
}

/// `aws_iam_role.app.arn` -> `aws_iam_role.app`.
fn strip_attribute(reference: &str) -> String {
    let parts: Vec<&str> = reference.split('.').collect();
    // module.x.aws_iam_role.app(.arn)
    let mut i = 0;
    while parts.get(i) == Some(&"module") {
        i += 2;
    }
    let end = (i + 2).min(parts.len());
    let mut out: Vec<&str> = parts.get(..end).unwrap_or_default().to_vec();
    if parts.get(i) == Some(&"data") {
        out = parts.get(..(i + 3).min(parts.len())).unwrap_or_default().to_vec();
    }
    out.join(".")
}

fn resource_type(address: &str) -> &str {
    let mut parts = address.split('.').peekable();
    while parts.peek() == Some(&"module") {
        parts.next();
        parts.next();
    }
    match parts.next() {
        Some("data") => parts.next().unwrap_or_default(),
        Some(t) => t,
        None => "",
    }
}
