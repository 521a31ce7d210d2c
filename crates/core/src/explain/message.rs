//! AccessDenied messages as AWS writes them, read into the request they were about.
//!
//! Following the IAM User Guide, "Troubleshoot access denied error messages"
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html>): most messages
//! read `User: ARN is not authorized to perform: ACTION on resource: RESOURCE because CONTEXT`, where
//! the context is `with an explicit deny in a TYPE policy` or `because no TYPE policy allows the
//! ACTION action`; the `on resource` part is missing for actions without resources, and the context
//! for services that do not support it. The text may be wrapped, quoted (`on resource: "ARN"`, as S3
//! writes it) and surrounded by the SDK's or the AWS CLI's own words (`An error occurred
//! (AccessDeniedException) when calling the Scan operation: ...`).
//!
//! Some services (EC2 among them) answer `UnauthorizedOperation: You are not authorized to perform
//! this operation. Encoded authorization failure message: ...` instead; only
//! `sts:DecodeAuthorizationMessage` reads that message
//! (<https://docs.aws.amazon.com/STS/latest/APIReference/API_DecodeAuthorizationMessage.html>): the
//! encoded text is kept ([`DeniedMessage::encoded`]) for a front end that may call it, and its
//! output (`{"DecodedMessage": "..."}`, or the decoded JSON itself) is read here too.

use serde::Serialize;
use serde_json::Value;

use iamfit_policy::context::{ContextValue, RequestContext};

/// Whether the message says the denial was explicit (a `Deny` statement) or implicit (no `Allow`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StatedDenial {
    /// `with an explicit deny in ...`.
    Explicit,
    /// `because no ... allows ...`.
    Implicit,
}

/// The policy type a message names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StatedLayer {
    /// `identity-based policy`.
    Identity,
    /// `permissions boundary`.
    Boundary,
    /// `session policy` (AWS's own examples also write `sessions policy`).
    Session,
    /// `service control policy`.
    Scp,
    /// `resource control policy`.
    Rcp,
    /// `resource-based policy`.
    Resource,
    /// `role trust policy`.
    Trust,
    /// `VPC endpoint policy` (iamfit does not read VPC endpoint policies).
    VpcEndpoint,
    /// A policy type iamfit does not know, or no type at all.
    Other,
}

impl StatedLayer {
    /// The name iamfit's reports use (`identity`, `boundary`, `session`, `scp`, `rcp`, `resource`,
    /// `trust`, `vpc-endpoint`, `other`).
    pub fn as_str(self) -> &'static str {
        match self {
            StatedLayer::Identity => "identity",
            StatedLayer::Boundary => "boundary",
            StatedLayer::Session => "session",
            StatedLayer::Scp => "scp",
            StatedLayer::Rcp => "rcp",
            StatedLayer::Resource => "resource",
            StatedLayer::Trust => "trust",
            StatedLayer::VpcEndpoint => "vpc-endpoint",
            StatedLayer::Other => "other",
        }
    }

    /// Reads the policy type of a message's context (`service control policy`, `an identity-based
    /// policy`, ...).
    fn of(text: &str) -> StatedLayer {
        let t = text.to_ascii_lowercase();
        // Checked most specific first: "VPC endpoint policy transitively through a service control
        // policy" names the VPC endpoint policy.
        let table: [(&str, StatedLayer); 9] = [
            ("vpc endpoint policy", StatedLayer::VpcEndpoint),
            ("service control polic", StatedLayer::Scp),
            ("resource control polic", StatedLayer::Rcp),
            ("permissions boundar", StatedLayer::Boundary),
            ("session polic", StatedLayer::Session),
            ("sessions polic", StatedLayer::Session),
            ("identity-based polic", StatedLayer::Identity),
            ("resource-based polic", StatedLayer::Resource),
            ("trust polic", StatedLayer::Trust),
        ];
        table.into_iter().find(|(needle, _)| t.contains(needle)).map_or(StatedLayer::Other, |(_, l)| l)
    }
}

/// The reason a message gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatedReason {
    /// Explicit or implicit.
    pub denial: StatedDenial,
    /// The policy type named.
    pub layer: StatedLayer,
    /// The denying policy's ARN, when the message names it (`... in a service control policy, with
    /// policy ARN: arn:aws:organizations::...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_arn: Option<String>,
    /// The reason as the message words it.
    pub text: String,
}

/// Which form of message was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MessageForm {
    /// The text form: `User: ARN is not authorized to perform: ACTION ...`.
    Text,
    /// A decoded authorization failure message (the output of `aws sts decode-authorization-message`).
    Decoded,
    /// An encoded authorization failure message that was not decoded.
    Encoded,
}

/// What an AccessDenied message says: who was denied what on which resource, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeniedMessage {
    /// The form read.
    pub form: MessageForm,
    /// The principal ARN (`User: ARN`).
    pub principal: Option<String>,
    /// The action (`service:Action`, as written).
    pub action: Option<String>,
    /// The resource ARN; none when the message names no resource.
    pub resource: Option<String>,
    /// The reason, when the message gives one.
    pub reason: Option<StatedReason>,
    /// The error code around the message (`AccessDeniedException`, `UnauthorizedOperation`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// The API operation around the message (`Scan`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// The condition keys of a decoded message (its `context.conditions`).
    #[serde(skip)]
    pub context: RequestContext,
    /// Whether a decoded message says the denial was explicit (`explicitDeny`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explicit_deny: Option<bool>,
    /// The encoded authorization failure message, for [`MessageForm::Encoded`].
    #[serde(skip)]
    pub encoded: Option<String>,
}

/// Why a message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// Nothing was given.
    #[error("the message is empty")]
    Empty,
    /// A decoded authorization message that is not the JSON STS returns.
    #[error("the decoded authorization message cannot be read: {0}")]
    Decoded(String),
}

impl MessageError {
    /// What to do about it.
    pub fn help(&self) -> &'static str {
        match self {
            MessageError::Empty => {
                "paste the AccessDenied message (quoted), pass - to read it from stdin, or give --principal and --action"
            }
            MessageError::Decoded(_) => {
                "pass the output of `aws sts decode-authorization-message --encoded-message MESSAGE` as it is"
            }
        }
    }
}

const NOT_AUTHORIZED: &str = "is not authorized to perform";
const ENCODED: &str = "encoded authorization failure message";

/// Reads an AccessDenied message. What the message does not say stays `None`; only an empty message
/// or an unreadable decoded message is an error (a front end then asks for what is missing).
pub fn parse_message(text: &str) -> Result<DeniedMessage, MessageError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(MessageError::Empty);
    }
    if let Some(decoded) = decoded_json(text) {
        return parse_decoded(&decoded?);
    }
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    // An SDK's JSON error body: {"__type": "...", "message": "..."}.
    if let Some(inner) = json_message(&flat) {
        let mut m = parse_message(&inner)?;
        m.error_code = m.error_code.or_else(|| json_error_code(&flat));
        return Ok(m);
    }
    // A query or REST-XML error body: <Error><Code>AccessDenied</Code><Message>...</Message></Error>.
    if let Some(inner) = xml_element(&flat, "Message") {
        let mut m = parse_message(inner)?;
        m.error_code = m.error_code.or_else(|| xml_element(&flat, "Code").map(str::to_string));
        return Ok(m);
    }
    let (error_code, operation) = surrounding(&flat);
    // The AWS SDK for Java appends "(Service: S, Status Code: N, Request ID: ID)".
    let flat = flat.split_once(" (Service: ").map_or(flat.as_str(), |(message, _)| message).to_string();
    let mut m = DeniedMessage {
        form: MessageForm::Text,
        principal: None,
        action: None,
        resource: None,
        reason: None,
        error_code,
        operation,
        context: RequestContext::new(),
        explicit_deny: None,
        encoded: None,
    };
    if let Some((_, after)) = split_ascii_case(&flat, ENCODED) {
        m.form = MessageForm::Encoded;
        m.encoded =
            first_token(after.trim_start_matches(':')).0.filter(|t| !t.is_empty()).map(str::to_string);
        return Ok(m);
    }
    let Some((before, after)) = split_ascii_case(&flat, NOT_AUTHORIZED) else {
        return Ok(m);
    };
    m.principal = principal_before(before);
    let after = after.trim_start_matches(':').trim_start();
    let (action, rest) = first_token(after);
    m.action = action.filter(|a| is_action(a)).map(str::to_string);
    let rest = if m.action.is_some() { rest } else { after };
    let (resource, rest) = resource_part(rest);
    m.resource = resource;
    m.reason = reason(rest);
    Ok(m)
}

/// A JSON document in the text: the whole text, or from `{"DecodedMessage"` / `{"allowed"` on.
fn decoded_json(text: &str) -> Option<Result<Value, MessageError>> {
    // The `{` that opens the object holding "DecodedMessage" (or a decoded message's "allowed").
    let key = ["\"DecodedMessage\"", "\"allowed\""].iter().filter_map(|needle| text.find(needle)).min();
    let start =
        key.and_then(|at| text.get(..at)?.rfind('{')).or_else(|| text.starts_with('{').then_some(0))?;
    let tail = text.get(start..)?;
    let mut stream = serde_json::Deserializer::from_str(tail).into_iter::<Value>();
    let value = match stream.next()? {
        Ok(v) => v,
        Err(_) if start == 0 && !text.contains("DecodedMessage") => return None,
        Err(e) => return Some(Err(MessageError::Decoded(e.to_string()))),
    };
    let value = match value.get("DecodedMessage") {
        Some(Value::String(inner)) => match serde_json::from_str::<Value>(inner) {
            Ok(v) => v,
            Err(e) => return Some(Err(MessageError::Decoded(format!("DecodedMessage: {e}")))),
        },
        _ => value,
    };
    // Only a decoded authorization message is read here; other JSON (an SDK's error body) is not.
    value.get("context").is_some().then_some(Ok(value))
}

/// The `message` of an SDK's JSON error body.
fn json_message(text: &str) -> Option<String> {
    let v: Value = serde_json::from_str(text).ok()?;
    ["message", "Message", "errorMessage"].iter().find_map(|k| v.get(*k)?.as_str().map(str::to_string))
}

/// The text of the first `<name>...</name>` element.
fn xml_element<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let (_, rest) = text.split_once(&format!("<{name}>"))?;
    let (inner, _) = rest.split_once(&format!("</{name}>"))?;
    Some(inner.trim())
}

fn json_error_code(text: &str) -> Option<String> {
    let v: Value = serde_json::from_str(text).ok()?;
    let code = v.get("__type").or_else(|| v.get("code"))?.as_str()?;
    Some(code.rsplit('#').next().unwrap_or(code).to_string())
}

/// Reads the JSON STS decodes: `context.principal.arn`, `context.action`, `context.resource`,
/// `context.conditions.items[] {key, values.items[].value}`, `explicitDeny`.
fn parse_decoded(v: &Value) -> Result<DeniedMessage, MessageError> {
    let context = v.get("context").ok_or_else(|| MessageError::Decoded("it has no \"context\"".into()))?;
    let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_string);
    let explicit = v.get("explicitDeny").and_then(Value::as_bool);
    let mut keys = RequestContext::new();
    let items = context.pointer("/conditions/items").and_then(Value::as_array).cloned().unwrap_or_default();
    for item in &items {
        let Some(key) = item.get("key").and_then(Value::as_str) else { continue };
        let values: Vec<String> = item
            .pointer("/values/items")
            .and_then(Value::as_array)
            .map(|vs| vs.iter().filter_map(|x| x.get("value")?.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        match values.as_slice() {
            [one] => keys.set(key, one.clone()),
            _ => keys.insert(key, ContextValue::Multi(values)),
        }
    }
    let reason = explicit.map(|explicit| StatedReason {
        denial: if explicit { StatedDenial::Explicit } else { StatedDenial::Implicit },
        layer: StatedLayer::Other,
        policy_arn: None,
        text: if explicit { "explicitDeny: true" } else { "explicitDeny: false" }.to_string(),
    });
    Ok(DeniedMessage {
        form: MessageForm::Decoded,
        principal: text(context.pointer("/principal/arn")),
        action: text(context.get("action")),
        resource: text(context.get("resource")).filter(|r| !r.is_empty()),
        reason,
        error_code: None,
        operation: None,
        context: keys,
        explicit_deny: explicit,
        encoded: None,
    })
}

/// `An error occurred (CODE) when calling the OP operation: ...` (the AWS CLI, boto3), `operation
/// error SERVICE: OP, ... api error CODE: ...` (the AWS SDK for Go v2), `Error Code: CODE` (the AWS
/// SDK for Java), or a leading `CODE:`.
fn surrounding(text: &str) -> (Option<String>, Option<String>) {
    let code = text
        .split_once("An error occurred (")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(code, _)| code.to_string())
        .or_else(|| {
            let (_, rest) = text.split_once("api error ").or_else(|| text.split_once("Error Code: "))?;
            let code = rest.split([':', ',', ')', ' ']).next()?;
            (!code.is_empty()).then(|| code.to_string())
        })
        .or_else(|| {
            let (first, _) = text.split_once(':')?;
            let word = first.trim();
            let known = word.contains("AccessDenied") || word.contains("UnauthorizedOperation");
            (known && !word.contains(' ')).then(|| word.to_string())
        });
    let operation = text
        .split_once("when calling the ")
        .and_then(|(_, rest)| rest.split_once(" operation"))
        .map(|(op, _)| op.trim().to_string())
        .or_else(|| {
            let (_, rest) = text.split_once("operation error ")?;
            let (_, rest) = rest.split_once(": ")?;
            rest.split(',').next().map(|op| op.trim().to_string())
        });
    (code, operation)
}

/// Splits at the first case-insensitive occurrence of `needle` (ASCII).
fn split_ascii_case<'a>(text: &'a str, needle: &str) -> Option<(&'a str, &'a str)> {
    let at = text.to_ascii_lowercase().find(&needle.to_ascii_lowercase())?;
    Some((text.get(..at)?, text.get(at + needle.len()..)?))
}

/// The principal: the last ARN before `is not authorized`.
fn principal_before(text: &str) -> Option<String> {
    text.split_whitespace().rev().map(clean).find(|t| t.starts_with("arn:")).map(str::to_string)
}

/// A token without the quotes, backticks and punctuation around it.
fn clean(token: &str) -> &str {
    token.trim_matches(|c: char| matches!(c, '"' | '\'' | '`' | ',' | ';' | '(' | ')')).trim_end_matches('.')
}

fn first_token(text: &str) -> (Option<&str>, &str) {
    let text = text.trim_start();
    match text.split_once(' ') {
        Some((token, rest)) => (Some(clean(token)), rest),
        None if text.is_empty() => (None, text),
        None => (Some(clean(text)), ""),
    }
}

/// `service:Action` (letters, digits and `-` in the service; letters, digits and `_` in the action).
fn is_action(token: &str) -> bool {
    let Some((service, action)) = token.split_once(':') else { return false };
    !service.is_empty()
        && !action.is_empty()
        && service.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && action.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `on resource: ARN` (or `on resource ARN`, `on resource: "ARN"`); `on this resource` names none.
fn resource_part(text: &str) -> (Option<String>, &str) {
    let trimmed = text.trim_start();
    let Some(rest) = strip_prefix_ascii_case(trimmed, "on resource") else {
        let rest = strip_prefix_ascii_case(trimmed, "on this resource").unwrap_or(trimmed);
        return (None, rest);
    };
    let rest = rest.trim_start().trim_start_matches(':');
    let (token, rest) = first_token(rest);
    (token.filter(|t| !t.is_empty()).map(str::to_string), rest)
}

fn strip_prefix_ascii_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| text.get(prefix.len()..)).flatten()
}

/// `with an explicit deny in a TYPE[: ARN]` or `because no TYPE allows the ACTION action`.
fn reason(text: &str) -> Option<StatedReason> {
    let text = text.trim().trim_end_matches(['.', '"']);
    let lower = text.to_ascii_lowercase();
    let explicit = ["with an explicit deny", "due to an explicit deny", "explicit deny"]
        .iter()
        .find_map(|needle| lower.find(needle));
    let (denial, at) = if let Some(at) = explicit {
        (StatedDenial::Explicit, at)
    } else if let Some(at) = lower.find("because") {
        (StatedDenial::Implicit, at)
    } else {
        return None;
    };
    let said = text.get(at..)?.to_string();
    let policy_arn = said.split_whitespace().map(clean).find(|t| t.starts_with("arn:")).map(str::to_string);
    Some(StatedReason { denial, layer: StatedLayer::of(&said), policy_arn, text: said })
}

#[cfg(test)]
mod tests;
