//! Condition operators and their evaluation, as documented in the IAM User Guide ("IAM JSON policy
//! elements: Condition operators", "Single-valued vs. multivalued context keys").
//!
//! Rules implemented here:
//! - Several operators in one `Condition` block, and several keys under one operator, are ANDed.
//! - Several values for one key are ORed; for negated operators (`StringNotEquals`, `ArnNotLike`, ...)
//!   the key must match none of them.
//! - A key missing from the request: the condition is false, except for negated operators (true),
//!   `...IfExists` (true) and `Null`.
//! - `ForAllValues:` is true when every request value matches (true for a missing or empty key);
//!   `ForAnyValue:` is true when at least one does (false for a missing or empty key).
//! - Key names are case-insensitive; values compare case-sensitively unless the operator says otherwise.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use base64::Engine as _;

use super::context::{ContextValue, Lookup};
use super::pattern::{Pattern, ResourcePattern, Syntax};

/// The operator families, without `IfExists` or set qualifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum OperatorKind {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

/// Every operator family, for validation and suggestions.
pub const OPERATOR_KINDS: &[OperatorKind] = &[
    OperatorKind::StringEquals,
    OperatorKind::StringNotEquals,
    OperatorKind::StringEqualsIgnoreCase,
    OperatorKind::StringNotEqualsIgnoreCase,
    OperatorKind::StringLike,
    OperatorKind::StringNotLike,
    OperatorKind::NumericEquals,
    OperatorKind::NumericNotEquals,
    OperatorKind::NumericLessThan,
    OperatorKind::NumericLessThanEquals,
    OperatorKind::NumericGreaterThan,
    OperatorKind::NumericGreaterThanEquals,
    OperatorKind::DateEquals,
    OperatorKind::DateNotEquals,
    OperatorKind::DateLessThan,
    OperatorKind::DateLessThanEquals,
    OperatorKind::DateGreaterThan,
    OperatorKind::DateGreaterThanEquals,
    OperatorKind::Bool,
    OperatorKind::BinaryEquals,
    OperatorKind::IpAddress,
    OperatorKind::NotIpAddress,
    OperatorKind::ArnEquals,
    OperatorKind::ArnLike,
    OperatorKind::ArnNotEquals,
    OperatorKind::ArnNotLike,
    OperatorKind::Null,
];

impl OperatorKind {
    /// The name as written in policies.
    pub fn name(self) -> &'static str {
        use OperatorKind::*;
        match self {
            StringEquals => "StringEquals",
            StringNotEquals => "StringNotEquals",
            StringEqualsIgnoreCase => "StringEqualsIgnoreCase",
            StringNotEqualsIgnoreCase => "StringNotEqualsIgnoreCase",
            StringLike => "StringLike",
            StringNotLike => "StringNotLike",
            NumericEquals => "NumericEquals",
            NumericNotEquals => "NumericNotEquals",
            NumericLessThan => "NumericLessThan",
            NumericLessThanEquals => "NumericLessThanEquals",
            NumericGreaterThan => "NumericGreaterThan",
            NumericGreaterThanEquals => "NumericGreaterThanEquals",
            DateEquals => "DateEquals",
            DateNotEquals => "DateNotEquals",
            DateLessThan => "DateLessThan",
            DateLessThanEquals => "DateLessThanEquals",
            DateGreaterThan => "DateGreaterThan",
            DateGreaterThanEquals => "DateGreaterThanEquals",
            Bool => "Bool",
            BinaryEquals => "BinaryEquals",
            IpAddress => "IpAddress",
            NotIpAddress => "NotIpAddress",
            ArnEquals => "ArnEquals",
            ArnLike => "ArnLike",
            ArnNotEquals => "ArnNotEquals",
            ArnNotLike => "ArnNotLike",
            Null => "Null",
        }
    }

    /// Whether the operator is a negation ("not equal to any of the values").
    pub fn is_negated(self) -> bool {
        use OperatorKind::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }

    /// The positive operator a negated one negates (itself when not negated).
    fn positive(self) -> OperatorKind {
        use OperatorKind::*;
        match self {
            StringNotEquals => StringEquals,
            StringNotEqualsIgnoreCase => StringEqualsIgnoreCase,
            StringNotLike => StringLike,
            NumericNotEquals => NumericEquals,
            DateNotEquals => DateEquals,
            NotIpAddress => IpAddress,
            ArnNotEquals => ArnEquals,
            ArnNotLike => ArnLike,
            other => other,
        }
    }

    /// The kind of value the operator compares (for key type checks).
    pub fn value_type(self) -> ValueType {
        use OperatorKind::*;
        match self.positive() {
            StringEquals | StringEqualsIgnoreCase | StringLike => ValueType::String,
            NumericEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => ValueType::Numeric,
            DateEquals | DateLessThan | DateLessThanEquals | DateGreaterThan | DateGreaterThanEquals => {
                ValueType::Date
            }
            Bool => ValueType::Bool,
            BinaryEquals => ValueType::Binary,
            IpAddress => ValueType::Ip,
            ArnEquals | ArnLike => ValueType::Arn,
            _ => ValueType::Null,
        }
    }
}

/// The type of value an operator works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum ValueType {
    String,
    Numeric,
    Date,
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

/// The set qualifier of an operator on multivalued keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    /// `ForAllValues:`: every request value must match.
    ForAllValues,
    /// `ForAnyValue:`: at least one request value must match.
    ForAnyValue,
}

/// A full condition operator: family, optional set qualifier, optional `IfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator {
    /// The family.
    pub kind: OperatorKind,
    /// `ForAllValues:` or `ForAnyValue:`.
    pub qualifier: Option<SetQualifier>,
    /// The `IfExists` suffix.
    pub if_exists: bool,
}

/// Why an operator name is not valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorError {
    /// What is wrong, with a suggestion where one exists.
    pub message: String,
}

impl FromStr for Operator {
    type Err = OperatorError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let (qualifier, rest) = if let Some(rest) = raw.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), rest)
        } else if let Some(rest) = raw.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), rest)
        } else {
            (None, raw)
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(base) => (base, true),
            None => (rest, false),
        };
        let kind = OPERATOR_KINDS.iter().copied().find(|k| k.name() == base);
        match kind {
            Some(OperatorKind::Null) if if_exists => Err(OperatorError {
                message: "NullIfExists is not an operator: Null already tests whether the key exists".into(),
            }),
            Some(kind) => Ok(Operator { kind, qualifier, if_exists }),
            None => {
                let lower = base.to_lowercase();
                let hint = OPERATOR_KINDS
                    .iter()
                    .find(|k| k.name().to_lowercase() == lower)
                    .map(|k| format!(" (operator names are case-sensitive: did you mean {}?)", k.name()))
                    .unwrap_or_default();
                Err(OperatorError { message: format!("unknown condition operator {raw:?}{hint}") })
            }
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.qualifier {
            Some(SetQualifier::ForAllValues) => f.write_str("ForAllValues:")?,
            Some(SetQualifier::ForAnyValue) => f.write_str("ForAnyValue:")?,
            None => {}
        }
        f.write_str(self.kind.name())?;
        if self.if_exists {
            f.write_str("IfExists")?;
        }
        Ok(())
    }
}

/// Policy values compiled for their operator.
#[derive(Debug, Clone, PartialEq)]
enum Values {
    Strings(Vec<Pattern>),
    Numbers(Vec<f64>),
    Dates(Vec<i128>),
    Bools(Vec<String>),
    Binary(Vec<Vec<u8>>),
    Networks(Vec<Network>),
    Arns(Vec<ResourcePattern>),
    Null(Vec<bool>),
}

/// One condition: an operator, a key and the policy's values for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The operator.
    pub operator: Operator,
    /// The key as written (`aws:SourceIp`).
    pub key: String,
    key_lc: String,
    /// The values as written.
    pub values: Vec<String>,
    /// Where the key stands in the document.
    pub location: super::json::Location,
    compiled: Values,
}

/// A value that does not fit its operator (a number that is not a number, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    /// Index of the value in the list.
    pub index: usize,
    /// What is wrong.
    pub message: String,
}

impl Condition {
    /// Compiles a condition. `variables` is whether policy variables apply (policy version
    /// 2012-10-17). Values that cannot be read for the operator are errors.
    pub fn new(
        operator: Operator,
        key: &str,
        values: Vec<String>,
        variables: bool,
    ) -> Result<Self, ValueError> {
        use OperatorKind::*;
        let bad = |index: usize, message: String| ValueError { index, message };
        let compiled = match operator.kind.positive() {
            StringEquals | StringEqualsIgnoreCase => Values::Strings(
                values.iter().map(|v| Pattern::new(v, Syntax { wildcards: false, variables })).collect(),
            ),
            StringLike => Values::Strings(
                values.iter().map(|v| Pattern::new(v, Syntax { wildcards: true, variables })).collect(),
            ),
            NumericEquals | NumericLessThan | NumericLessThanEquals | NumericGreaterThan
            | NumericGreaterThanEquals => Values::Numbers(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| parse_number(v).ok_or_else(|| bad(i, format!("{v:?} is not a number"))))
                    .collect::<Result<_, _>>()?,
            ),
            DateEquals | DateLessThan | DateLessThanEquals | DateGreaterThan | DateGreaterThanEquals => {
                Values::Dates(
                    values
                        .iter()
                        .enumerate()
                        .map(|(i, v)| {
                            parse_date(v).ok_or_else(|| {
                                bad(i, format!("{v:?} is not a date (use ISO 8601 such as 2024-06-30T00:00:00Z, or epoch seconds)"))
                            })
                        })
                        .collect::<Result<_, _>>()?,
                )
            }
            Bool => Values::Bools(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match v.to_ascii_lowercase().as_str() {
                        "true" | "false" => Ok(v.to_ascii_lowercase()),
                        _ => Err(bad(i, format!("{v:?} is not a boolean (true or false)"))),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            BinaryEquals => Values::Binary(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        base64::engine::general_purpose::STANDARD
                            .decode(v)
                            .map_err(|_| bad(i, format!("{v:?} is not base64")))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            IpAddress => Values::Networks(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        Network::parse(v).ok_or_else(|| bad(i, format!("{v:?} is not an IP address or CIDR block")))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            ArnEquals | ArnLike => Values::Arns(
                values
                    .iter()
                    .map(|v| ResourcePattern::new(v, Syntax { wildcards: true, variables }))
                    .collect(),
            ),
            _ => Values::Null(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match v.to_ascii_lowercase().as_str() {
                        "true" => Ok(true),
                        "false" => Ok(false),
                        _ => Err(bad(i, format!("Null takes true or false, not {v:?}"))),
                    })
                    .collect::<Result<_, _>>()?,
            ),
        };
        Ok(Condition {
            operator,
            key: key.to_string(),
            key_lc: key.to_lowercase(),
            values,
            location: Default::default(),
            compiled,
        })
    }

    /// The key, lower-cased.
    pub fn key_lowercase(&self) -> &str {
        &self.key_lc
    }

    /// The string patterns of string and ARN operators (for analysis).
    pub fn string_values(&self) -> Vec<&str> {
        self.values.iter().map(String::as_str).collect()
    }

    /// Evaluates the condition against the request context.
    pub fn evaluate(&self, ctx: &dyn Lookup) -> bool {
        let op = self.operator;
        let present = ctx.get(&self.key_lc);
        if let Values::Null(expect) = &self.compiled {
            let exists = present.is_some_and(|v| !v.values().is_empty());
            return expect.iter().any(|want_null| *want_null != exists);
        }
        let negated = op.kind.is_negated();
        let values: &[String] = match present {
            Some(v) => v.values(),
            None => &[],
        };
        match op.qualifier {
            None => {
                if present.is_none() {
                    return op.if_exists || negated;
                }
                if let ContextValue::Multi(v) = present.unwrap_or(&ContextValue::Multi(Vec::new())) {
                    if v.is_empty() {
                        return op.if_exists || negated;
                    }
                }
                // Without a qualifier, a multivalued key behaves as "any request value matches".
                let any = values.iter().any(|v| self.matches_any(v, ctx));
                any != negated
            }
            Some(SetQualifier::ForAllValues) => values.iter().all(|v| self.matches_any(v, ctx) != negated),
            Some(SetQualifier::ForAnyValue) => {
                if values.is_empty() {
                    return op.if_exists && present.is_none();
                }
                values.iter().any(|v| self.matches_any(v, ctx) != negated)
            }
        }
    }

    /// Whether one request value matches at least one policy value under the positive operator.
    fn matches_any(&self, value: &str, ctx: &dyn Lookup) -> bool {
        use OperatorKind::*;
        let kind = self.operator.kind.positive();
        match &self.compiled {
            Values::Strings(patterns) => match kind {
                StringEqualsIgnoreCase => {
                    let lower = value.to_lowercase();
                    patterns.iter().any(|p| p.resolve(ctx).is_some_and(|s| s.to_lowercase() == lower))
                }
                _ => patterns.iter().any(|p| p.matches(value, ctx)),
            },
            Values::Numbers(numbers) => parse_number(value).is_some_and(|x| {
                numbers.iter().any(|n| match kind {
                    NumericEquals => x == *n,
                    NumericLessThan => x < *n,
                    NumericLessThanEquals => x <= *n,
                    NumericGreaterThan => x > *n,
                    _ => x >= *n,
                })
            }),
            Values::Dates(dates) => parse_date(value).is_some_and(|x| {
                dates.iter().any(|d| match kind {
                    DateEquals => x == *d,
                    DateLessThan => x < *d,
                    DateLessThanEquals => x <= *d,
                    DateGreaterThan => x > *d,
                    _ => x >= *d,
                })
            }),
            Values::Bools(bools) => bools.iter().any(|b| b.eq_ignore_ascii_case(value)),
            Values::Binary(blobs) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(value)
                    .unwrap_or_else(|_| value.as_bytes().to_vec());
                blobs.contains(&bytes)
            }
            Values::Networks(nets) => {
                IpAddr::from_str(value.trim()).is_ok_and(|ip| nets.iter().any(|n| n.contains(ip)))
            }
            Values::Arns(patterns) => {
                patterns.iter().any(|p| !p.is_any_non_arn(value) && p.matches(value, ctx))
            }
            Values::Null(_) => false,
        }
    }
}

impl ResourcePattern {
    /// ARN operators never match a value that is not an ARN, except through a bare `*`.
    fn is_any_non_arn(&self, value: &str) -> bool {
        !self.is_any() && !value.starts_with("arn:")
    }
}

/// Reads a number as IAM does (integers and decimals).
fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() || t.contains(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E') {
        return None;
    }
    t.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Reads a date: ISO 8601 / RFC 3339 date-time, a plain date, or epoch seconds. Returns Unix time
/// in nanoseconds.
pub fn parse_date(text: &str) -> Option<i128> {
    use time::format_description::well_known::{Iso8601, Rfc3339};
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse::<i64>().ok().map(|s| i128::from(s) * 1_000_000_000);
    }
    if let Ok(dt) = time::OffsetDateTime::parse(t, &Rfc3339) {
        return Some(dt.unix_timestamp_nanos());
    }
    if let Ok(dt) = time::OffsetDateTime::parse(t, &Iso8601::DEFAULT) {
        return Some(dt.unix_timestamp_nanos());
    }
    if let Ok(dt) = time::PrimitiveDateTime::parse(t, &Iso8601::DEFAULT) {
        return Some(dt.assume_utc().unix_timestamp_nanos());
    }
    if let Ok(d) = time::Date::parse(t, &Iso8601::DEFAULT) {
        return Some(d.midnight().assume_utc().unix_timestamp_nanos());
    }
    None
}

/// An IP network (CIDR block); a plain address is a /32 or /128 network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    /// Parses `203.0.113.0/24`, `2001:db8::/32`, or a plain address.
    pub fn parse(text: &str) -> Option<Network> {
        let t = text.trim();
        let (addr, prefix) = match t.split_once('/') {
            Some((a, p)) => (IpAddr::from_str(a).ok()?, p.parse::<u8>().ok()?),
            None => {
                let a = IpAddr::from_str(t).ok()?;
                (a, if a.is_ipv4() { 32 } else { 128 })
            }
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Network { addr, prefix })
    }

    /// Whether `ip` is inside the network (IPv4 and IPv6 never match each other).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = if self.prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(self.prefix)) };
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = if self.prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(self.prefix)) };
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::RequestContext;

    fn cond(op: &str, key: &str, values: &[&str]) -> Condition {
        Condition::new(op.parse().unwrap(), key, values.iter().map(|s| s.to_string()).collect(), true)
            .unwrap()
    }

    fn ctx(json: serde_json::Value) -> RequestContext {
        RequestContext::from_json(&json).unwrap()
    }

    #[test]
    fn operator_names() {
        let op: Operator = "ForAnyValue:StringLikeIfExists".parse().unwrap();
        assert_eq!(op.kind, OperatorKind::StringLike);
        assert!(op.if_exists);
        assert_eq!(op.qualifier, Some(SetQualifier::ForAnyValue));
        assert_eq!(op.to_string(), "ForAnyValue:StringLikeIfExists");
        assert!("stringequals".parse::<Operator>().unwrap_err().message.contains("StringEquals"));
        assert!("NullIfExists".parse::<Operator>().is_err());
        assert!("StringMatches".parse::<Operator>().is_err());
    }

    #[test]
    fn missing_keys() {
        let empty = ctx(serde_json::json!({}));
        assert!(!cond("StringEquals", "k", &["a"]).evaluate(&empty));
        assert!(cond("StringNotEquals", "k", &["a"]).evaluate(&empty));
        assert!(cond("StringEqualsIfExists", "k", &["a"]).evaluate(&empty));
        assert!(cond("ForAllValues:StringEquals", "k", &["a"]).evaluate(&empty));
        assert!(!cond("ForAnyValue:StringEquals", "k", &["a"]).evaluate(&empty));
        assert!(cond("Null", "k", &["true"]).evaluate(&empty));
        assert!(!cond("Null", "k", &["false"]).evaluate(&empty));
    }

    #[test]
    fn negated_operators_are_nor() {
        let c = ctx(serde_json::json!({"k": "b"}));
        assert!(!cond("StringNotEquals", "K", &["a", "b"]).evaluate(&c));
        assert!(cond("StringNotEquals", "k", &["a", "c"]).evaluate(&c));
    }

    #[test]
    fn set_qualifiers() {
        let c = ctx(serde_json::json!({"aws:TagKeys": ["env", "team"]}));
        assert!(cond("ForAllValues:StringEquals", "aws:TagKeys", &["env", "team", "x"]).evaluate(&c));
        assert!(!cond("ForAllValues:StringEquals", "aws:TagKeys", &["env"]).evaluate(&c));
        assert!(cond("ForAnyValue:StringEquals", "aws:TagKeys", &["env"]).evaluate(&c));
        assert!(cond("ForAnyValue:StringNotEquals", "aws:TagKeys", &["env"]).evaluate(&c));
        assert!(!cond("ForAllValues:StringNotEquals", "aws:TagKeys", &["env"]).evaluate(&c));
        let empty = ctx(serde_json::json!({"aws:TagKeys": []}));
        assert!(cond("ForAllValues:StringEquals", "aws:TagKeys", &["env"]).evaluate(&empty));
        assert!(!cond("ForAnyValue:StringEquals", "aws:TagKeys", &["env"]).evaluate(&empty));
    }

    #[test]
    fn numbers_dates_bools() {
        let c = ctx(
            serde_json::json!({"s3:max-keys": "10", "aws:CurrentTime": "2024-06-01T12:00:00Z", "aws:SecureTransport": "TRUE"}),
        );
        assert!(cond("NumericLessThanEquals", "s3:max-keys", &["10"]).evaluate(&c));
        assert!(!cond("NumericLessThan", "s3:max-keys", &["10"]).evaluate(&c));
        assert!(cond("NumericNotEquals", "s3:max-keys", &["11"]).evaluate(&c));
        assert!(cond("DateGreaterThan", "aws:CurrentTime", &["2024-01-01"]).evaluate(&c));
        assert!(cond("DateLessThan", "aws:CurrentTime", &["1735689600"]).evaluate(&c));
        assert!(cond("Bool", "aws:SecureTransport", &["true"]).evaluate(&c));
        assert!(Condition::new("NumericEquals".parse().unwrap(), "k", vec!["ten".into()], true).is_err());
    }

    #[test]
    fn ip_networks() {
        let c = ctx(serde_json::json!({"aws:SourceIp": "203.0.113.7", "v6": "2001:db8:1234:5678::1"}));
        assert!(cond("IpAddress", "aws:SourceIp", &["203.0.113.0/24"]).evaluate(&c));
        assert!(!cond("IpAddress", "aws:SourceIp", &["198.51.100.0/24"]).evaluate(&c));
        assert!(cond("NotIpAddress", "aws:SourceIp", &["198.51.100.0/24"]).evaluate(&c));
        assert!(cond("IpAddress", "v6", &["2001:DB8:1234:5678::/64"]).evaluate(&c));
        assert!(!cond("IpAddress", "v6", &["203.0.113.0/24"]).evaluate(&c));
        assert!(cond("IpAddress", "aws:SourceIp", &["0.0.0.0/0"]).evaluate(&c));
    }

    #[test]
    fn arns_and_strings() {
        let c = ctx(
            serde_json::json!({"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:topic", "s": "Hello"}),
        );
        assert!(cond("ArnLike", "aws:SourceArn", &["arn:aws:sns:*:123456789012:*"]).evaluate(&c));
        assert!(cond("ArnEquals", "aws:SourceArn", &["arn:aws:sns:*:123456789012:*"]).evaluate(&c));
        assert!(!cond("ArnLike", "aws:SourceArn", &["arn:aws:sqs:*:*:*"]).evaluate(&c));
        assert!(cond("StringEqualsIgnoreCase", "s", &["hello"]).evaluate(&c));
        assert!(!cond("StringEquals", "s", &["hello"]).evaluate(&c));
        assert!(!cond("StringEquals", "s", &["H*"]).evaluate(&c), "no wildcards in StringEquals");
        assert!(cond("StringLike", "s", &["H?llo"]).evaluate(&c));
    }

    #[test]
    fn binary() {
        let c = ctx(serde_json::json!({"k": "QmluYXJ5VmFsdWU="}));
        assert!(cond("BinaryEquals", "k", &["QmluYXJ5VmFsdWU="]).evaluate(&c));
        assert!(!cond("BinaryEquals", "k", &["QmluYXJ5"]).evaluate(&c));
    }
}
