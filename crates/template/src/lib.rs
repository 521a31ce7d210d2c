//! Templates as an account source: a SAM or CloudFormation template (YAML with the short-form tags,
//! or JSON) or the JSON of `terraform show -json` becomes iamfit's [`Account`] model, so every command
//! answers about a template as about a deployed account.
//!
//! - [`node`]: YAML/JSON with positions (line and column of every value);
//! - [`intrinsic`]: intrinsic functions, parameters, conditions, pseudo parameters;
//! - [`sam`] and [`connector`]: the SAM transform, as far as permissions go;
//! - [`cfn`]: CloudFormation IAM and Lambda resources into the model;
//! - [`terraform`]: `terraform show -json` plans and states;
//! - [`managed`]: the embedded copy of the AWS managed policies;
//! - [`source`]: [`TemplateSource`], the core's `AccountSource` port.
//!
//! No AWS SDK: physical names are the template's names, or the logical ids standing for them.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::string_slice))]
pub mod cfn;
pub mod connector;
pub mod error;
pub mod intrinsic;
pub mod managed;
pub mod node;
pub mod patch;
pub mod sam;
pub mod source;
pub mod terraform;
pub mod tf_patch;

use std::path::Path;

use iamfit_core::account::Account;

pub use error::{Issue, TemplateError};
pub use intrinsic::Settings;
pub use node::Pos;
pub use source::{TemplateOverlay, TemplateSource};

/// What a policy document is, for lint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    /// An identity-based policy (inline or managed).
    Identity,
    /// A role's trust policy.
    Trust,
}

/// A policy document of the template, with where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct LocatedDocument {
    /// Whose it is ("role OrdersRole inline OrdersRolePolicy0").
    pub owner: String,
    /// What it is.
    pub kind: DocumentKind,
    /// Where it is (for SAM additions: the function).
    pub pos: Pos,
    /// The document, intrinsic functions resolved.
    pub json: serde_json::Value,
    /// The document's nodes as written (for positions inside it).
    pub source: node::Node,
}

impl LocatedDocument {
    /// Where the element at a JSON pointer of the resolved document (`/Statement/0/Action/1`) is in
    /// the template: the deepest node the pointer reaches (an intrinsic function stops it).
    pub fn position(&self, pointer: &str) -> Pos {
        let mut node = &self.source;
        for part in pointer.split('/').skip(1) {
            let next = match &node.value {
                node::Value::Map(_) if node.intrinsic().is_none() => node.get(part),
                node::Value::Seq(items) => part.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            };
            match next {
                Some(n) => node = n,
                // A single statement or value written without a list: index 0 is the value itself.
                None if part == "0" && !matches!(node.value, node::Value::Seq(_)) => {}
                None => break,
            }
        }
        node.pos
    }
}

/// Whether a file's text looks like a template (CloudFormation, SAM, `terraform show -json`) rather
/// than a policy document.
pub fn looks_like_template(text: &str) -> bool {
    match node::parse(text, "") {
        Ok(root) => {
            terraform::is_terraform(&root)
                || root.get("Resources").is_some()
                || root.get("AWSTemplateFormatVersion").is_some()
                || root.get("Transform").is_some()
        }
        Err(_) => false,
    }
}

/// A function of the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateFunction {
    /// Its logical id.
    pub logical_id: String,
    /// Its name (`FunctionName`, or the logical id).
    pub name: String,
    /// The logical id of its role, when the role is in the template.
    pub role_logical_id: Option<String>,
    /// Where it is.
    pub pos: Pos,
}

/// An event source mapping of the template (`aws lambda list-event-source-mappings` shape).
#[derive(Debug, Clone, PartialEq)]
pub struct EventSourceMapping {
    /// The function (name) it invokes.
    pub function: String,
    /// The mapping as `list-event-source-mappings` prints one.
    pub mapping: serde_json::Value,
    /// Where it is.
    pub pos: Pos,
}

/// An asynchronous invocation configuration of the template (`AWS::Lambda::EventInvokeConfig`,
/// SAM's `EventInvokeConfig`), in the shape of `aws lambda get-function-event-invoke-config`.
#[derive(Debug, Clone, PartialEq)]
pub struct EventInvokeConfig {
    /// The function (name) it configures.
    pub function: String,
    /// The configuration as `get-function-event-invoke-config` prints it.
    pub config: serde_json::Value,
    /// Where it is.
    pub pos: Pos,
}

/// What the template expands to.
#[derive(Debug, Clone, Default)]
pub struct Expansion {
    /// The account model.
    pub account: Account,
    /// Every policy document, with its position (for `check`).
    pub documents: Vec<LocatedDocument>,
    /// The functions.
    pub functions: Vec<TemplateFunction>,
    /// The event source mappings.
    pub event_source_mappings: Vec<EventSourceMapping>,
    /// The asynchronous invocation configurations.
    pub event_invoke_configs: Vec<EventInvokeConfig>,
    /// Logical ids that stand for physical names.
    pub logical_names: Vec<String>,
    /// Values left open (`Fn::ImportValue`, attributes known after deploy), with positions.
    pub issues: Vec<Issue>,
    /// Notes for the user.
    pub notes: Vec<String>,
}

impl Expansion {
    /// The function of the template named `name`: its logical id or its name.
    pub fn function(&self, name: &str) -> Option<&TemplateFunction> {
        self.functions.iter().find(|f| f.logical_id == name || f.name == name)
    }

    /// Every note, the open values with their positions included.
    pub fn all_notes(&self, path: &str) -> Vec<String> {
        let mut notes = self.notes.clone();
        if !self.logical_names.is_empty() {
            notes.push(format!(
                "{path}: logical ids stand for the physical names CloudFormation would generate at deploy ({}): set the name properties (RoleName, FunctionName, ...) for real names",
                self.logical_names.join(", ")
            ));
        }
        for issue in &self.issues {
            notes.push(format!("{path}:{}:{}: {}", issue.pos.line, issue.pos.column, issue.message));
        }
        notes
    }
}

/// Expands a template's text (`path` names it in errors and notes).
pub fn expand(text: &str, path: &str, settings: &Settings) -> Result<Expansion, TemplateError> {
    let root = node::parse(text, path)?;
    if terraform::is_terraform(&root) {
        return terraform::expand(&root, path, settings);
    }
    if root.get("Resources").is_none() {
        return Err(TemplateError::at(
            path,
            root.pos,
            "not a template: no Resources (CloudFormation, SAM) and no planned_values or values (terraform show -json)".into(),
            None,
        ));
    }
    let mut out = Expansion::default();
    let cfn_root = if sam::is_sam(&root) {
        let original = intrinsic::Resolver::new(&root, path, settings);
        let expanded = sam::transform(&root, &original)?;
        out.issues.extend(original.take_issues());
        out.notes.push(format!(
            "SAM transform expanded by iamfit (policy templates of {})",
            sam::PolicyTemplates::get().source
        ));
        expanded
    } else {
        root
    };
    let resolver = intrinsic::Resolver::new(&cfn_root, path, settings);
    cfn::read_resources(&cfn_root, &resolver, &mut out)?;
    attach_function_config(&mut out, path);
    for issue in resolver.take_issues() {
        if !out.issues.contains(&issue) {
            out.issues.push(issue);
        }
    }
    Ok(out)
}

/// Gives each function of the template its event source mappings and asynchronous invocation
/// configuration: the template is the whole truth for its own functions (none means none).
pub(crate) fn attach_function_config(out: &mut Expansion, path: &str) {
    let file = Path::new(path);
    for f in &mut out.account.functions {
        let own = |name: &str| name == f.name || name == f.arn;
        let mappings: Vec<&serde_json::Value> =
            out.event_source_mappings.iter().filter(|m| own(&m.function)).map(|m| &m.mapping).collect();
        let list = serde_json::json!({ "EventSourceMappings": mappings });
        match iamfit_core::account::snapshot::read_event_source_mappings(&list, file) {
            Ok(m) => f.config.event_source_mappings = Some(m),
            Err(e) => out.notes.push(format!("function {}: its event source mappings: {e}", f.name)),
        }
        f.config.event_invoke_read = true;
        if let Some(c) = out.event_invoke_configs.iter().find(|c| own(&c.function)) {
            match iamfit_core::account::snapshot::read_event_invoke_config(&c.config, file) {
                Ok(config) => f.config.event_invoke = Some(config),
                Err(e) => out.notes.push(format!("function {}: its EventInvokeConfig: {e}", f.name)),
            }
        }
    }
}

/// Reads and expands a template file.
pub fn expand_file(path: &Path, settings: &Settings) -> Result<Expansion, TemplateError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| TemplateError::Io { path: name.clone(), message: e.to_string() })?;
    expand(&text, &name, settings)
}
