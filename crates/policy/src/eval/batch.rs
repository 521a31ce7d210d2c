//! The batch request format of `iamfit simulate --requests` (see docs/reference.md): one JSON object per
//! request with the principal, action, resource, context and the policies of every layer.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::{authorize, Decision, NamedPolicy, PolicySet, Principal, Request, WriteActions};
use crate::context::RequestContext;
use crate::{Document, Policy};

/// Evaluates requests in the contract's batch format, parsing each distinct policy document once
/// (batches often repeat the same policies).
///
/// Documents are read as AWS evaluates stored policies: an `Action` entry that is not an action name
/// matches nothing and an empty `Statement` list grants nothing, each with a warning
/// ([`BatchEvaluator::take_warnings`]).
#[derive(Debug, Default)]
pub struct BatchEvaluator {
    parsed: HashMap<String, Arc<Policy>>,
    write_actions: Option<WriteActions>,
    warnings: Vec<String>,
}

impl BatchEvaluator {
    /// An evaluator that knows which actions write, so that writes on what AWS owns are denied.
    pub fn with_write_actions(write_actions: WriteActions) -> Self {
        BatchEvaluator { write_actions: Some(write_actions), ..Default::default() }
    }

    /// The warnings about the documents read since the last call (each distinct document once).
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    fn get(&mut self, doc: &Value, what: &str) -> Result<NamedPolicy, String> {
        let key = match doc {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let policy = match self.parsed.get(&key) {
            Some(p) => p.clone(),
            None => {
                let (p, warnings) =
                    Document::from_value(doc).into_stored_policy().map_err(|e| format!("{what}: {e}"))?;
                self.warnings
                    .extend(warnings.iter().map(|w| format!("{what}: {} (at {})", w.message, w.pointer)));
                let p = Arc::new(p);
                self.parsed.insert(key, p.clone());
                p
            }
        };
        Ok(NamedPolicy { name: what.into(), policy })
    }

    fn single(&mut self, doc: Option<&Value>, what: &str) -> Result<Option<NamedPolicy>, String> {
        match doc {
            None | Some(Value::Null) => Ok(None),
            Some(doc) => self.get(doc, what).map(Some),
        }
    }

    fn list(&mut self, docs: Option<&Value>, what: &str) -> Result<Vec<NamedPolicy>, String> {
        match docs {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => {
                items.iter().enumerate().map(|(i, d)| self.get(d, &format!("{what}[{i}]"))).collect()
            }
            Some(_) => Err(format!("policies.{what} must be a list of documents")),
        }
    }

    fn levels(&mut self, levels: Option<&Value>, what: &str) -> Result<Vec<Vec<NamedPolicy>>, String> {
        match levels {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, level)| match level {
                    Value::Array(_) => self.list(Some(level), &format!("{what}[{i}]")),
                    _ => Err(format!("policies.{what}[{i}] must be a list of documents (one level)")),
                })
                .collect(),
            Some(_) => Err(format!("policies.{what} must be a list of levels, each a list of documents")),
        }
    }

    /// Evaluates one request line (a JSON object of the contract's batch format).
    pub fn evaluate(&mut self, line: &Value) -> Result<Decision, String> {
        let obj = line.as_object().ok_or("a request must be a JSON object")?;
        let text = |k: &str| -> Result<Option<&str>, String> {
            match obj.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(_) => Err(format!("{k} must be a string")),
            }
        };
        let action = text("action")?.ok_or("missing \"action\"")?;
        let resource = text("resource")?.unwrap_or("*");
        let principal =
            text("principal")?.map(Principal::parse).transpose().map_err(|e| format!("principal: {e}"))?;
        let context = match obj.get("context") {
            None | Some(Value::Null) => RequestContext::new(),
            Some(v) => RequestContext::from_json(v)?,
        };
        let policies = obj.get("policies").and_then(Value::as_object).ok_or("missing \"policies\" object")?;
        if !policies.contains_key("identity") {
            return Err("policies.identity is required (it may be an empty list)".into());
        }
        let session = match policies.get("session") {
            Some(Value::Array(_)) => self.list(policies.get("session"), "session")?,
            _ => self.single(policies.get("session"), "session")?.into_iter().collect(),
        };
        let set = PolicySet {
            identity: self.list(policies.get("identity"), "identity")?,
            boundary: self.single(policies.get("boundary"), "boundary")?,
            session,
            resource: self.single(policies.get("resource"), "resource")?,
            scp: self.levels(policies.get("scp"), "scp")?,
            rcp: self.levels(policies.get("rcp"), "rcp")?,
            management_account: text("management_account")?.map(str::to_string),
            write_actions: self.write_actions,
            resource_owned_by_aws: match obj.get("resource_owned_by_aws") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err("resource_owned_by_aws must be true or false".into()),
            },
        };
        let resource_account = text("resource_account")?;
        Ok(authorize(
            &set,
            &Request { principal: principal.as_ref(), action, resource, context: &context, resource_account },
        ))
    }
}

/// The JSON of one decision (`iamfit simulate`): the verdict, the deciding statements, and for
/// implicit denies the reason.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DecisionReport {
    /// The request's `id` (batch input), echoed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    /// The action (requests from flags).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The resource (requests from flags).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// `allow`, `explicit-deny` or `implicit-deny`.
    pub decision: &'static str,
    /// The statements that decided.
    pub matched: Vec<super::Matched>,
    /// Why an implicit deny happened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What the decision assumed or could not see (a default key policy, an invalid action).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl DecisionReport {
    /// The report of a decision.
    pub fn new(d: &Decision) -> Self {
        DecisionReport {
            id: None,
            action: None,
            resource: None,
            decision: d.verdict.as_str(),
            matched: d.matched.clone(),
            reason: d.reason.map(|r| r.to_string()),
            notes: d.notes.iter().map(|n| n.to_string()).collect(),
        }
    }
}

/// The JSON of a batch line that could not be evaluated.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BatchError {
    /// The request's `id`, echoed (null when the line has none).
    pub id: Value,
    /// Why it could not be evaluated.
    pub error: String,
}
