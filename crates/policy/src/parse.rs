//! From text to [`Policy`]: accepts a JSON object, a JSON string holding one, or a URL-encoded
//! document (as IAM APIs return them), checks the grammar element by element, and reports every
//! problem with its position and JSON pointer instead of stopping at the first.

use std::fmt;

use super::condition::{Condition, Operator};
use super::document::{
    ActionPattern, ActionSpec, Effect, Policy, PrincipalSpec, PrincipalType, ResourceEntry, ResourceSpec,
    Statement, Version,
};
use super::finding::{Finding, Severity};
use super::json::{self, Json, LineIndex, Location, Member, Span, Value};
use super::pattern::{variable_problems, ResourcePattern, Syntax};

/// How the document text was wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// A plain JSON object.
    Json,
    /// A JSON string whose content is the document.
    JsonString,
    /// A URL-encoded document (`%7B%22Version%22...`), as IAM's APIs return them.
    UrlEncoded,
}

/// A parsed document: the policy (when its structure could be read) and every finding.
#[derive(Debug, Clone)]
pub struct Document {
    /// The JSON text that positions refer to (decoded when the input was wrapped).
    pub text: String,
    /// How the input was wrapped.
    pub encoding: Encoding,
    /// The policy, built from every statement that could be read.
    pub policy: Option<Policy>,
    /// Grammar findings (errors make the document invalid).
    pub findings: Vec<Finding>,
    lines: LineIndex,
}

/// A document that is not a valid policy: the first error, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// Stable finding code.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// 1-based line in the (decoded) document.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// JSON pointer to the element.
    pub pointer: String,
    /// How many errors the document has in all.
    pub error_count: usize,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.column, self.message)?;
        if !self.pointer.is_empty() {
            write!(f, " (at {})", self.pointer)?;
        }
        if self.error_count > 1 {
            write!(f, " and {} more error(s)", self.error_count - 1)?;
        }
        Ok(())
    }
}

impl std::error::Error for PolicyError {}

impl Document {
    /// Parses a policy document from any of the accepted encodings.
    pub fn parse(input: &str) -> Document {
        let trimmed = input.trim_start_matches('\u{feff}').trim();
        let (text, encoding) = if trimmed.starts_with('"') {
            match json::parse(trimmed) {
                Ok(Json { value: Value::String(inner), .. }) => (inner, Encoding::JsonString),
                _ => (input.to_string(), Encoding::Json),
            }
        } else if trimmed.starts_with('%') {
            match percent_encoding::percent_decode_str(trimmed).decode_utf8() {
                Ok(decoded) => (decoded.into_owned(), Encoding::UrlEncoded),
                Err(_) => (input.to_string(), Encoding::Json),
            }
        } else {
            (input.to_string(), Encoding::Json)
        };
        let lines = LineIndex::new(&text);
        let mut doc = Document { policy: None, findings: Vec::new(), encoding, lines, text };
        match json::parse(&doc.text) {
            Ok(root) => {
                let mut parser = Parser { findings: Vec::new() };
                doc.policy = parser.policy(&root);
                doc.findings = parser.findings;
            }
            Err(e) => doc.findings.push(Finding::new(
                Severity::Error,
                "json-syntax",
                format!("invalid JSON: {}", e.message),
                Span { start: e.offset, end: e.offset },
                "",
            )),
        }
        doc
    }

    /// Parses a document given as a JSON value (an object, or a string holding one).
    pub fn from_value(value: &serde_json::Value) -> Document {
        match value {
            serde_json::Value::String(s) => Document::parse(s),
            other => Document::parse(&serde_json::to_string_pretty(other).unwrap_or_default()),
        }
    }

    /// 1-based line and column of a span's start.
    pub fn position(&self, span: Span) -> (usize, usize) {
        self.lines.position(&self.text, span.start)
    }

    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// The policy if the document is valid, else the first error with its position.
    pub fn into_policy(self) -> Result<Policy, PolicyError> {
        let errors: Vec<&Finding> = self.findings.iter().filter(|f| f.severity == Severity::Error).collect();
        match (errors.first(), &self.policy) {
            (None, Some(policy)) => Ok(policy.clone()),
            (first, _) => {
                let (code, message, span, pointer) = match first {
                    Some(f) => (f.code, f.message.clone(), f.span, f.pointer.clone()),
                    None => (
                        "invalid-policy",
                        "not a policy document".to_string(),
                        Span::default(),
                        String::new(),
                    ),
                };
                let (line, column) = self.position(span);
                Err(PolicyError { code, message, line, column, pointer, error_count: errors.len().max(1) })
            }
        }
    }
}

/// Error codes a document AWS stored may carry and still be evaluated: an `Action` entry that is not
/// an action name matches nothing, an empty `Statement` list grants nothing.
const TOLERATED_IN_STORED: &[&str] = &["invalid-action", "empty-statement"];

impl Document {
    /// The policy as AWS evaluates a document it has stored: errors AWS tolerates in stored policies
    /// (an `Action` entry that is not an action name, an empty `Statement` list) become warnings,
    /// returned with the policy; any other error fails as in [`Document::into_policy`]. `iamfit check`
    /// still reports them as errors.
    pub fn into_stored_policy(self) -> Result<(Policy, Vec<Finding>), PolicyError> {
        let tolerated = |f: &Finding| f.severity == Severity::Error && TOLERATED_IN_STORED.contains(&f.code);
        if self.findings.iter().any(|f| f.severity == Severity::Error && !tolerated(f))
            || self.policy.is_none()
        {
            return self.into_policy().map(|p| (p, Vec::new()));
        }
        let warnings = self
            .findings
            .iter()
            .filter(|f| tolerated(f))
            .map(|f| Finding { severity: Severity::Warning, ..f.clone() })
            .collect();
        match self.policy {
            Some(policy) => Ok((policy, warnings)),
            None => Err(PolicyError {
                code: "invalid-policy",
                message: "not a policy document".into(),
                line: 1,
                column: 1,
                pointer: String::new(),
                error_count: 1,
            }),
        }
    }
}

impl Policy {
    /// Parses a policy document (JSON, JSON string or URL-encoded); fails on any grammar error.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        Document::parse(text).into_policy()
    }
}

struct Parser {
    findings: Vec<Finding>,
}

fn child(pointer: &str, key: &str) -> String {
    format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"))
}

fn suggest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    known.iter().copied().find(|k| k.eq_ignore_ascii_case(key))
}

const TOP_KEYS: &[&str] = &["Version", "Id", "Statement"];
const STATEMENT_KEYS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

impl Parser {
    fn error(&mut self, code: &'static str, message: impl Into<String>, span: Span, pointer: &str) {
        self.findings.push(Finding::new(Severity::Error, code, message, span, pointer));
    }

    fn warn(&mut self, code: &'static str, message: impl Into<String>, span: Span, pointer: &str) {
        self.findings.push(Finding::new(Severity::Warning, code, message, span, pointer));
    }

    /// Reports duplicate and unknown keys; returns the members by known name.
    fn members<'a>(
        &mut self,
        members: &'a [Member],
        known: &[&str],
        pointer: &str,
        what: &str,
    ) -> Vec<&'a Member> {
        let mut seen: Vec<&str> = Vec::new();
        let mut out = Vec::new();
        for m in members {
            let ptr = child(pointer, &m.key);
            if seen.contains(&m.key.as_str()) {
                self.error("duplicate-key", format!("duplicate key {:?} in {what}", m.key), m.key_span, &ptr);
                continue;
            }
            seen.push(&m.key);
            if known.contains(&m.key.as_str()) {
                out.push(m);
            } else {
                let hint = suggest(&m.key, known)
                    .map(|k| format!(": element names are case-sensitive, write {k:?}"))
                    .unwrap_or_else(|| format!(" (expected one of {})", known.join(", ")));
                self.error(
                    "unknown-element",
                    format!("unknown element {:?} in {what}{hint}", m.key),
                    m.key_span,
                    &ptr,
                );
            }
        }
        out
    }

    fn policy(&mut self, root: &Json) -> Option<Policy> {
        let Some(members) = root.as_object() else {
            self.error(
                "not-an-object",
                format!("a policy document must be a JSON object, found {}", root.type_name()),
                root.span,
                "",
            );
            return None;
        };
        let known = self.members(members, TOP_KEYS, "", "the policy");
        let get = |name: &str| known.iter().find(|m| m.key == name).copied();
        let version = match get("Version") {
            None => Version::Absent,
            Some(m) => match m.value.as_str() {
                Some("2012-10-17") => Version::V2012_10_17,
                Some("2008-10-17") => Version::V2008_10_17,
                _ => {
                    self.error(
                        "invalid-version",
                        format!(
                            "Version must be \"2012-10-17\" (or the old \"2008-10-17\"), found {}",
                            show(&m.value)
                        ),
                        m.value.span,
                        "/Version",
                    );
                    Version::V2012_10_17
                }
            },
        };
        let id = get("Id").and_then(|m| match m.value.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                self.error("invalid-type", "Id must be a string", m.value.span, "/Id");
                None
            }
        });
        let mut statements = Vec::new();
        match get("Statement") {
            None => self.error("missing-statement", "the policy has no Statement element", root.span, ""),
            Some(m) => match &m.value.value {
                Value::Object(_) => {
                    if let Some(s) = self.statement(&m.value, 0, "/Statement", version) {
                        statements.push(s);
                    }
                }
                Value::Array(items) => {
                    if items.is_empty() {
                        self.error(
                            "empty-statement",
                            "the Statement list is empty",
                            m.value.span,
                            "/Statement",
                        );
                    }
                    for (i, item) in items.iter().enumerate() {
                        if let Some(s) = self.statement(item, i, &format!("/Statement/{i}"), version) {
                            statements.push(s);
                        }
                    }
                }
                _ => self.error(
                    "invalid-type",
                    format!(
                        "Statement must be an object or an array of objects, found {}",
                        m.value.type_name()
                    ),
                    m.value.span,
                    "/Statement",
                ),
            },
        }
        Some(Policy { version, id, statements })
    }

    fn statement(&mut self, json: &Json, index: usize, pointer: &str, version: Version) -> Option<Statement> {
        let Some(members) = json.as_object() else {
            self.error(
                "invalid-type",
                format!("a statement must be an object, found {}", json.type_name()),
                json.span,
                pointer,
            );
            return None;
        };
        let known = self.members(members, STATEMENT_KEYS, pointer, "a statement");
        let get = |name: &str| known.iter().find(|m| m.key == name).copied();

        let sid_location = match get("Sid") {
            Some(m) => Location { span: m.value.span, pointer: child(pointer, "Sid") },
            None => Location { span: json.span, pointer: pointer.to_string() },
        };
        let sid = get("Sid").and_then(|m| self.sid(m, pointer));
        let effect = self.effect(get("Effect"), json, pointer);

        let (action_member, action_ok) = self.exclusive(get("Action"), get("NotAction"), "Action", pointer);
        let action = match action_member {
            Some((m, negated)) => self.actions(m, negated, pointer),
            None => {
                self.error(
                    "missing-action",
                    "the statement has neither Action nor NotAction",
                    json.span,
                    pointer,
                );
                None
            }
        };

        let (principal_member, principal_ok) =
            self.exclusive(get("Principal"), get("NotPrincipal"), "Principal", pointer);
        let principal = principal_member.and_then(|(m, negated)| self.principal(m, negated, pointer));

        let (resource_member, resource_ok) =
            self.exclusive(get("Resource"), get("NotResource"), "Resource", pointer);
        let resource = resource_member.and_then(|(m, negated)| self.resources(m, negated, pointer, version));
        let resource_ok =
            resource_ok && (resource_member.is_some() || self.resource_optional(&principal, json, pointer));

        let conditions = match get("Condition") {
            Some(m) => self.conditions(m, pointer, version),
            None => Some(Vec::new()),
        };

        let ok = action_ok && principal_ok && resource_ok;
        match (ok, effect, action, conditions) {
            (true, Some(effect), Some(action), Some(conditions)) => Some(Statement {
                index,
                sid,
                sid_location,
                effect,
                principal,
                action,
                resource,
                conditions,
                span: json.span,
            }),
            _ => None,
        }
    }

    /// The `Sid`: a string.
    fn sid(&mut self, m: &Member, pointer: &str) -> Option<String> {
        match m.value.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                self.error("invalid-type", "Sid must be a string", m.value.span, &child(pointer, "Sid"));
                None
            }
        }
    }

    /// The `Effect`: exactly `Allow` or `Deny` (`None` after an error).
    fn effect(&mut self, m: Option<&Member>, statement: &Json, pointer: &str) -> Option<Effect> {
        let Some(m) = m else {
            self.error(
                "missing-effect",
                "the statement has no Effect (write \"Allow\" or \"Deny\")",
                statement.span,
                pointer,
            );
            return None;
        };
        match m.value.as_str() {
            Some("Allow") => Some(Effect::Allow),
            Some("Deny") => Some(Effect::Deny),
            other => {
                let hint = match other.map(str::to_ascii_lowercase).as_deref() {
                    Some("allow") => " (values are case-sensitive: write \"Allow\")",
                    Some("deny") => " (values are case-sensitive: write \"Deny\")",
                    _ => "",
                };
                self.error(
                    "invalid-effect",
                    format!("Effect must be \"Allow\" or \"Deny\", found {}{hint}", show(&m.value)),
                    m.value.span,
                    &child(pointer, "Effect"),
                );
                None
            }
        }
    }

    /// An element and its `Not` form (`Action`/`NotAction`): the one given, with whether it is the
    /// negated form, and `false` when both are given (an error; the positive form is read on).
    fn exclusive<'m>(
        &mut self,
        positive: Option<&'m Member>,
        negated: Option<&'m Member>,
        element: &str,
        pointer: &str,
    ) -> (Option<(&'m Member, bool)>, bool) {
        match (positive, negated) {
            (Some(p), Some(n)) => {
                self.error(
                    "conflicting-elements",
                    format!("a statement cannot have both {element} and Not{element}"),
                    n.key_span,
                    &child(pointer, &format!("Not{element}")),
                );
                (Some((p, false)), false)
            }
            (Some(p), None) => (Some((p, false)), true),
            (None, Some(n)) => (Some((n, true)), true),
            (None, None) => (None, true),
        }
    }

    /// Whether a statement without `Resource`/`NotResource` may stand: only in resource-based
    /// policies (with a `Principal`); otherwise an error.
    fn resource_optional(
        &mut self,
        principal: &Option<PrincipalSpec>,
        statement: &Json,
        pointer: &str,
    ) -> bool {
        if principal.is_some() {
            return true;
        }
        self.error(
            "missing-resource",
            "the statement has neither Resource nor NotResource (identity-based policies need one; use \"*\" for every resource)",
            statement.span,
            pointer,
        );
        false
    }

    /// A string or an array of strings: the strings with their spans and pointers.
    fn strings(&mut self, json: &Json, pointer: &str, element: &str) -> Option<Vec<(String, Span, String)>> {
        match &json.value {
            Value::String(s) => Some(vec![(s.clone(), json.span, pointer.to_string())]),
            Value::Array(items) => {
                if items.is_empty() {
                    self.error("empty-value", format!("{element} is an empty list"), json.span, pointer);
                    return None;
                }
                let mut out = Vec::new();
                let mut ok = true;
                for (i, item) in items.iter().enumerate() {
                    let ptr = format!("{pointer}/{i}");
                    match item.as_str() {
                        Some(s) => out.push((s.to_string(), item.span, ptr)),
                        None => {
                            self.error(
                                "invalid-type",
                                format!("{element} entries must be strings, found {}", item.type_name()),
                                item.span,
                                &ptr,
                            );
                            ok = false;
                        }
                    }
                }
                ok.then_some(out)
            }
            _ => {
                self.error(
                    "invalid-type",
                    format!("{element} must be a string or an array of strings, found {}", json.type_name()),
                    json.span,
                    pointer,
                );
                None
            }
        }
    }

    fn actions(&mut self, m: &Member, negated: bool, pointer: &str) -> Option<ActionSpec> {
        let ptr = child(pointer, &m.key);
        let values = self.strings(&m.value, &ptr, &m.key)?;
        let mut patterns = Vec::new();
        for (value, span, ptr) in values {
            if value != "*" && !is_action_shape(&value) {
                self.error(
                    "invalid-action",
                    format!("{value:?} is not an action: write service:ActionName (for example s3:GetObject), or \"*\""),
                    span,
                    &ptr,
                );
                // Kept as a pattern that matches nothing: a document AWS stored is evaluated so.
                let mut pattern = ActionPattern::invalid(&value);
                pattern.location = Location { span, pointer: ptr };
                patterns.push(pattern);
                continue;
            }
            let mut pattern = ActionPattern::new(&value);
            pattern.location = Location { span, pointer: ptr };
            patterns.push(pattern);
        }
        Some(ActionSpec { negated, patterns })
    }

    fn resources(
        &mut self,
        m: &Member,
        negated: bool,
        pointer: &str,
        version: Version,
    ) -> Option<ResourceSpec> {
        let ptr = child(pointer, &m.key);
        let values = self.strings(&m.value, &ptr, &m.key)?;
        let syntax = Syntax { wildcards: true, variables: version.has_variables() };
        let mut entries = Vec::new();
        for (value, span, ptr) in values {
            if value.is_empty() {
                self.error("empty-value", format!("empty string in {}", m.key), span, &ptr);
                continue;
            }
            self.check_variables(&value, span, &ptr, version);
            entries.push(ResourceEntry {
                pattern: ResourcePattern::new(&value, syntax),
                raw: value,
                location: Location { span, pointer: ptr },
            });
        }
        (!entries.is_empty()).then_some(ResourceSpec { negated, entries })
    }

    fn check_variables(&mut self, value: &str, span: Span, ptr: &str, version: Version) {
        if !value.contains("${") {
            return;
        }
        if !version.has_variables() {
            self.warn(
                "variables-need-version",
                format!(
                    "{value:?} uses a policy variable, but variables only work with \"Version\": \"2012-10-17\"; here the text is matched literally"
                ),
                span,
                ptr,
            );
            return;
        }
        for problem in variable_problems(value) {
            self.warn("malformed-variable", problem, span, ptr);
        }
    }

    fn principal(&mut self, m: &Member, negated: bool, pointer: &str) -> Option<PrincipalSpec> {
        let ptr = child(pointer, &m.key);
        match &m.value.value {
            Value::String(s) if s == "*" => {
                Some(PrincipalSpec { negated, everyone: true, entries: Vec::new() })
            }
            Value::Object(members) => {
                let known =
                    self.members(members, &["AWS", "Service", "Federated", "CanonicalUser"], &ptr, &m.key);
                let mut entries = Vec::new();
                let mut everyone = false;
                for member in known {
                    let kind = match member.key.as_str() {
                        "AWS" => PrincipalType::Aws,
                        "Service" => PrincipalType::Service,
                        "Federated" => PrincipalType::Federated,
                        _ => PrincipalType::CanonicalUser,
                    };
                    let p = child(&ptr, &member.key);
                    for (value, span, vptr) in
                        self.strings(&member.value, &p, &member.key).unwrap_or_default()
                    {
                        if kind == PrincipalType::Aws && value == "*" {
                            everyone = true;
                        } else if value.contains('*') {
                            self.error(
                                "invalid-principal",
                                format!("{value:?}: a Principal cannot use wildcards except \"*\" alone; match with a condition on aws:PrincipalArn instead"),
                                span,
                                &vptr,
                            );
                        }
                        entries.push((kind, value));
                    }
                }
                Some(PrincipalSpec { negated, everyone, entries })
            }
            _ => {
                self.error(
                    "invalid-principal",
                    format!("{} must be \"*\" or an object such as {{\"AWS\": \"arn:aws:iam::111122223333:root\"}}", m.key),
                    m.value.span,
                    &ptr,
                );
                None
            }
        }
    }

    fn conditions(&mut self, m: &Member, pointer: &str, version: Version) -> Option<Vec<Condition>> {
        let ptr = child(pointer, "Condition");
        let Some(ops) = m.value.as_object() else {
            self.error(
                "invalid-type",
                "Condition must be an object of operator: {key: value}",
                m.value.span,
                &ptr,
            );
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        let mut seen: Vec<&str> = Vec::new();
        for op_member in ops {
            let op_ptr = child(&ptr, &op_member.key);
            if seen.contains(&op_member.key.as_str()) {
                self.error(
                    "duplicate-key",
                    format!("duplicate operator {:?} in Condition", op_member.key),
                    op_member.key_span,
                    &op_ptr,
                );
                ok = false;
                continue;
            }
            seen.push(&op_member.key);
            let operator: Operator = match op_member.key.parse() {
                Ok(op) => op,
                Err(e) => {
                    self.error("invalid-condition-operator", e.message, op_member.key_span, &op_ptr);
                    ok = false;
                    continue;
                }
            };
            let Some(keys) = op_member.value.as_object() else {
                self.error(
                    "invalid-type",
                    format!("{} must map condition keys to values", op_member.key),
                    op_member.value.span,
                    &op_ptr,
                );
                ok = false;
                continue;
            };
            let mut seen_keys: Vec<String> = Vec::new();
            for key_member in keys {
                let key_ptr = child(&op_ptr, &key_member.key);
                let lower = key_member.key.to_lowercase();
                if seen_keys.contains(&lower) {
                    self.error(
                        "duplicate-key",
                        format!("condition key {:?} appears twice under {}", key_member.key, op_member.key),
                        key_member.key_span,
                        &key_ptr,
                    );
                    ok = false;
                    continue;
                }
                seen_keys.push(lower);
                let Some(values) = self.condition_values(&key_member.value, &key_ptr) else {
                    ok = false;
                    continue;
                };
                for (v, span, vptr) in &values {
                    self.check_variables(v, *span, vptr, version);
                }
                let spans: Vec<(Span, String)> = values.iter().map(|(_, s, p)| (*s, p.clone())).collect();
                let texts: Vec<String> = values.into_iter().map(|(v, _, _)| v).collect();
                match Condition::new(operator, &key_member.key, texts, version.has_variables()) {
                    Ok(mut c) => {
                        c.location = Location { span: key_member.key_span, pointer: key_ptr.clone() };
                        out.push(c)
                    }
                    Err(e) => {
                        let (span, p) =
                            spans.get(e.index).cloned().unwrap_or((key_member.value.span, key_ptr.clone()));
                        self.error(
                            "invalid-condition-value",
                            format!("{} {}: {}", op_member.key, key_member.key, e.message),
                            span,
                            &p,
                        );
                        ok = false;
                    }
                }
            }
        }
        ok.then_some(out)
    }

    /// Condition values: strings, booleans or numbers, alone or in an array.
    fn condition_values(&mut self, json: &Json, pointer: &str) -> Option<Vec<(String, Span, String)>> {
        let scalar = |j: &Json| match &j.value {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.clone()),
            _ => None,
        };
        match &json.value {
            Value::Array(items) => {
                if items.is_empty() {
                    self.error("empty-value", "a condition key needs at least one value", json.span, pointer);
                    return None;
                }
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let p = format!("{pointer}/{i}");
                    match scalar(item) {
                        Some(v) => out.push((v, item.span, p)),
                        None => {
                            self.error(
                                "invalid-type",
                                format!(
                                    "condition values must be strings, numbers or booleans, found {}",
                                    item.type_name()
                                ),
                                item.span,
                                &p,
                            );
                            return None;
                        }
                    }
                }
                Some(out)
            }
            _ => match scalar(json) {
                Some(v) => Some(vec![(v, json.span, pointer.to_string())]),
                None => {
                    self.error(
                        "invalid-type",
                        format!(
                            "condition values must be strings, numbers or booleans, found {}",
                            json.type_name()
                        ),
                        json.span,
                        pointer,
                    );
                    None
                }
            },
        }
    }
}

/// Whether text looks like `service:Action` (service prefix of letters, digits and hyphens, or
/// wildcards).
fn is_action_shape(text: &str) -> bool {
    match text.split_once(':') {
        Some((svc, name)) => {
            !svc.is_empty()
                && !name.is_empty()
                && svc.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '*' | '?' | '_'))
                && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '*' | '?' | '-' | '_' | '.'))
        }
        None => false,
    }
}

fn show(json: &Json) -> String {
    match &json.value {
        Value::String(s) => format!("{s:?}"),
        _ => json.type_name().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_statement_object_and_array() {
        let p = Policy::parse(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#,
        )
        .unwrap();
        assert_eq!(p.statements.len(), 1);
        let p = Policy::parse(r#"{"Statement":[{"Sid":"A","Effect":"Deny","NotAction":["s3:Get*","iam:*"],"NotResource":"arn:aws:s3:::b"}]}"#).unwrap();
        assert_eq!(p.version, Version::Absent);
        assert!(p.statements[0].action.negated);
        assert!(p.statements[0].resource.as_ref().unwrap().negated);
    }

    #[test]
    fn url_encoded_and_string_wrapped() {
        let raw = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
        let encoded: String =
            percent_encoding::utf8_percent_encode(raw, percent_encoding::NON_ALPHANUMERIC).to_string();
        let doc = Document::parse(&encoded);
        assert_eq!(doc.encoding, Encoding::UrlEncoded);
        assert!(doc.into_policy().is_ok());
        let wrapped = serde_json::to_string(raw).unwrap();
        let doc = Document::parse(&wrapped);
        assert_eq!(doc.encoding, Encoding::JsonString);
        assert!(doc.into_policy().is_ok());
    }

    #[test]
    fn errors_have_positions_and_pointers() {
        let text = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\n    \"Effect\": \"allow\",\n    \"Action\": \"s3:GetObject\",\n    \"Resource\": \"*\"\n  }]\n}";
        let err = Policy::parse(text).unwrap_err();
        assert_eq!(err.code, "invalid-effect");
        assert_eq!((err.line, err.column), (4, 15));
        assert_eq!(err.pointer, "/Statement/0/Effect");
        assert!(err.message.contains("write \"Allow\""));
    }

    #[test]
    fn every_problem_is_reported() {
        let doc = Document::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3GetObject","Resource":"*","Resource":"x"},{"effect":"Deny","Action":"*","Resource":"*"},{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqual":{"a":"b"}}}]}"#,
        );
        let codes: Vec<&str> = doc.findings.iter().map(|f| f.code).collect();
        assert!(codes.contains(&"invalid-action"), "{codes:?}");
        assert!(codes.contains(&"duplicate-key"), "{codes:?}");
        assert!(codes.contains(&"unknown-element"), "{codes:?}");
        assert!(codes.contains(&"missing-effect"), "{codes:?}");
        assert!(codes.contains(&"invalid-condition-operator"), "{codes:?}");
    }

    #[test]
    fn malformed_json_is_an_error_with_position() {
        let err = Policy::parse("{\"Version\": \"2012-10-17\",\n\"Statement\": [}").unwrap_err();
        assert_eq!(err.code, "json-syntax");
        assert_eq!(err.line, 2);
    }

    #[test]
    fn trust_policy_needs_no_resource() {
        let p = Policy::parse(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#).unwrap();
        assert!(p.statements[0].resource.is_none());
        assert!(Policy::parse(r#"{"Statement":[{"Effect":"Allow","Action":"s3:*"}]}"#).is_err());
    }

    #[test]
    fn variables_without_version_warn() {
        let doc = Document::parse(
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}/*"}]}"#,
        );
        assert!(doc.findings.iter().any(|f| f.code == "variables-need-version"));
        assert!(!doc.has_errors());
    }

    #[test]
    fn condition_values_of_all_json_scalars() {
        let p = Policy::parse(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false},"NumericLessThan":{"s3:max-keys":[10, "20"]}}}]}"#).unwrap();
        assert_eq!(p.statements[0].conditions.len(), 2);
        assert!(Policy::parse(r#"{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"k":"ten"}}}]}"#).is_err());
    }
}
