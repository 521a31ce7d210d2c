//! The request context: the condition keys and values that describe one request.
//!
//! Condition key names are case-insensitive in IAM, so keys are stored lower-cased. Values keep their
//! case. A key is single-valued or multivalued (such as `aws:TagKeys`).

use std::fmt;

/// The value of one context key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextValue {
    /// A single-valued key.
    Single(String),
    /// A multivalued key (a set of values, possibly empty).
    Multi(Vec<String>),
}

impl ContextValue {
    /// All values as a slice (one element for a single-valued key).
    pub fn values(&self) -> &[String] {
        match self {
            ContextValue::Single(v) => std::slice::from_ref(v),
            ContextValue::Multi(v) => v,
        }
    }

    /// The value when there is exactly one (used by policy variables).
    pub fn single(&self) -> Option<&str> {
        match self.values() {
            [one] => Some(one),
            _ => None,
        }
    }

    /// Converts a JSON value: strings, booleans and numbers become one value, arrays of them a set.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, String> {
        fn scalar(v: &serde_json::Value) -> Option<String> {
            match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Bool(b) => Some(b.to_string()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            }
        }
        match value {
            serde_json::Value::Array(items) => items
                .iter()
                .map(|v| scalar(v).ok_or_else(|| format!("unsupported value in a multivalued key: {v}")))
                .collect::<Result<_, _>>()
                .map(ContextValue::Multi),
            other => scalar(other).map(ContextValue::Single).ok_or_else(|| {
                format!("unsupported context value {other}: use a string, boolean, number or array")
            }),
        }
    }
}

/// Looks up context keys (lower-cased names). Implemented by [`RequestContext`] and by layered scopes.
pub trait Lookup {
    /// The value of `key`, which must already be lower-case.
    fn get(&self, key: &str) -> Option<&ContextValue>;

    /// Whether `key` (lower-case) is known to be absent from the request, as opposed to merely not
    /// given. Analysis modes treat a missing key as unknown unless it is known to be absent.
    fn is_absent(&self, _key: &str) -> bool {
        false
    }
}

/// A set of context keys and values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    entries: Vec<(String, ContextValue)>,
    /// Keys known to be absent (lower-cased).
    absent: Vec<String>,
}

impl RequestContext {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` (any case) to `value`, replacing an earlier value.
    pub fn insert(&mut self, key: &str, value: ContextValue) {
        let key = key.to_lowercase();
        self.absent.retain(|k| *k != key);
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((key, value)),
        }
    }

    /// Sets a single-valued key.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.insert(key, ContextValue::Single(value.into()));
    }

    /// Records that `key` (any case) is absent from the request: conditions on it are then decided as
    /// AWS decides them for a missing key, even when unknown keys are read optimistically or
    /// pessimistically ([`crate::eval::ConditionMode`]).
    pub fn mark_absent(&mut self, key: &str) {
        let key = key.to_lowercase();
        self.entries.retain(|(k, _)| *k != key);
        if !self.absent.contains(&key) {
            self.absent.push(key);
        }
    }

    /// The keys known to be absent, lower-cased.
    pub fn absent_keys(&self) -> impl Iterator<Item = &str> {
        self.absent.iter().map(String::as_str)
    }

    /// Whether `key` (any case) is present.
    pub fn contains(&self, key: &str) -> bool {
        self.get(&key.to_lowercase()).is_some()
    }

    /// The keys and values, keys lower-cased.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Builds a context from a JSON object such as `{"aws:SourceIp": "203.0.113.7", "aws:TagKeys": ["a"]}`.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, String> {
        let map = value.as_object().ok_or("the context must be a JSON object of key: value")?;
        let mut ctx = RequestContext::new();
        for (key, value) in map {
            let v = ContextValue::from_json(value).map_err(|e| format!("context key {key}: {e}"))?;
            ctx.insert(key, v);
        }
        Ok(ctx)
    }

    /// Parses a `key=value` flag; `key=a,b` is not split (use `--context-multi` style JSON for sets),
    /// but `key=[a,b]` gives a multivalued key.
    pub fn parse_assignment(text: &str) -> Result<(String, ContextValue), String> {
        let (key, value) =
            text.split_once('=').ok_or_else(|| format!("expected key=value, found {text:?}"))?;
        let key = key.trim();
        if key.is_empty() {
            return Err(format!("empty context key in {text:?}"));
        }
        let value = match value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
            Some(inner) if inner.trim().is_empty() => ContextValue::Multi(Vec::new()),
            Some(inner) => ContextValue::Multi(inner.split(',').map(|s| s.trim().to_string()).collect()),
            None => ContextValue::Single(value.to_string()),
        };
        Ok((key.to_string(), value))
    }
}

impl Lookup for RequestContext {
    fn get(&self, key: &str) -> Option<&ContextValue> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn is_absent(&self, key: &str) -> bool {
        self.absent.iter().any(|k| k == key)
    }
}

/// A context with no keys at all (for patterns that cannot use variables).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoVariables;

impl Lookup for NoVariables {
    fn get(&self, _key: &str) -> Option<&ContextValue> {
        None
    }
}

/// Two contexts seen as one: keys of `first` win over keys of `second` (caller-supplied keys over the
/// keys derived from the principal).
#[derive(Debug, Clone, Copy)]
pub struct Layered<'a> {
    /// Consulted first.
    pub first: &'a RequestContext,
    /// Consulted when `first` lacks the key.
    pub second: &'a RequestContext,
}

impl Lookup for Layered<'_> {
    fn get(&self, key: &str) -> Option<&ContextValue> {
        self.first.get(key).or_else(|| self.second.get(key))
    }

    fn is_absent(&self, key: &str) -> bool {
        self.first.is_absent(key) || (self.first.get(key).is_none() && self.second.is_absent(key))
    }
}

impl fmt::Display for ContextValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContextValue::Single(v) => f.write_str(v),
            ContextValue::Multi(v) => write!(f, "[{}]", v.join(", ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_case_insensitive() {
        let mut ctx = RequestContext::new();
        ctx.set("aws:SourceIp", "203.0.113.7");
        assert_eq!(ctx.get("aws:sourceip").and_then(ContextValue::single), Some("203.0.113.7"));
        ctx.set("AWS:SOURCEIP", "198.51.100.1");
        assert_eq!(ctx.iter().count(), 1);
    }

    #[test]
    fn from_json_converts_scalars_and_sets() {
        let ctx = RequestContext::from_json(&serde_json::json!({
            "aws:MultiFactorAuthPresent": true, "s3:max-keys": 10, "aws:TagKeys": ["a", "b"]
        }))
        .unwrap();
        assert_eq!(ctx.get("aws:multifactorauthpresent"), Some(&ContextValue::Single("true".into())));
        assert_eq!(ctx.get("s3:max-keys"), Some(&ContextValue::Single("10".into())));
        assert_eq!(ctx.get("aws:tagkeys").map(|v| v.values().len()), Some(2));
        assert!(RequestContext::from_json(&serde_json::json!({"k": {"x": 1}})).is_err());
    }

    #[test]
    fn absent_keys_are_known_and_a_value_clears_them() {
        let mut ctx = RequestContext::new();
        ctx.mark_absent("aws:CalledVia");
        assert!(ctx.is_absent("aws:calledvia"));
        assert!(ctx.get("aws:calledvia").is_none());
        ctx.insert("aws:CalledVia", ContextValue::Multi(vec!["athena.amazonaws.com".into()]));
        assert!(!ctx.is_absent("aws:calledvia"));
        let empty = RequestContext::new();
        let mut absent = RequestContext::new();
        absent.mark_absent("aws:SourceVpce");
        assert!(Layered { first: &empty, second: &absent }.is_absent("aws:sourcevpce"));
        assert!(!Layered { first: &empty, second: &empty }.is_absent("aws:sourcevpce"));
    }

    #[test]
    fn assignments() {
        assert_eq!(
            RequestContext::parse_assignment("aws:TagKeys=[a, b]").unwrap().1,
            ContextValue::Multi(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            RequestContext::parse_assignment("k=v=w").unwrap(),
            ("k".to_string(), ContextValue::Single("v=w".into()))
        );
        assert!(RequestContext::parse_assignment("novalue").is_err());
    }
}
