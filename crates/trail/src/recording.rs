//! The recording format of `iamfit exec --record`: one JSON object per line and per call, written as
//! the calls happen, and read back as usage evidence (`--trail calls.jsonl`).
//!
//! ```text
//! {"time":"2026-05-01T10:00:00Z","principal":"arn:aws:sts::111122223333:assumed-role/orders-role/iamfit-dev",
//!  "service":"dynamodb","operation":"GetItem","actions":["dynamodb:GetItem"],
//!  "resources":["arn:aws:dynamodb:us-east-1:111122223333:table/orders"],
//!  "status":"allowed","error_code":null,"http_status":200,"region":"us-east-1","function":"orders"}
//! ```
//!
//! `service` is the signing name of the request's credential scope; `actions` and `resources` come from
//! the replay's mapping ([`crate::map::map_event`]). An action whose resource the request does not name
//! (KMS `Decrypt` without `KeyId`) is listed in `unknown_resources`, never as `*`; `*` appears only for
//! actions that support no resource type. When a call needs several actions on different resources
//! (`CopyObject`), `resources_by_action` says which. A request iamfit could not recognise or map has
//! `"unmapped": REASON`; a call that needs no permission (`GetCallerIdentity`) has `"permissionless": true`.
//! No credential, signature or payload is ever written.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::event::{is_access_denied_code, Event, PrincipalFilter, UserIdentity};
use crate::map::{Mapping, ResourceKnowledge};
use crate::usage::{CallContext, Origin, Usage};

/// The outcome of a recorded call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The service answered with success (HTTP 1xx–3xx).
    Allowed,
    /// The service refused the call for lack of permission.
    Denied,
    /// Any other failure: an error answer, or no answer at all (`http_status` null).
    Error,
}

/// One recorded call (one line of a recording).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedCall {
    /// When the call was made (RFC 3339 UTC).
    pub time: String,
    /// The identity the call was made as (an assumed-role session, a user).
    pub principal: String,
    /// The signing name of the service.
    pub service: String,
    /// The API operation, when the request was recognised.
    pub operation: Option<String>,
    /// The IAM actions the call needed.
    pub actions: Vec<String>,
    /// The resources the call named (ARNs; `*` for actions without resource types).
    pub resources: Vec<String>,
    /// The outcome.
    pub status: Status,
    /// The service's error code, or iamfit's when the call could not be forwarded.
    pub error_code: Option<String>,
    /// The HTTP status the service answered (null when it could not be reached).
    pub http_status: Option<u16>,
    /// Actions whose resource the request does not name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown_resources: Vec<String>,
    /// The resources of each action, when the call needed several actions on different resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources_by_action: Option<BTreeMap<String, Vec<String>>>,
    /// Why the call could not be mapped to IAM actions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unmapped: Option<String>,
    /// The call needs no permission.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub permissionless: bool,
    /// The region of the credential scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The function whose role (or, with `--as-caller`, whose code) made the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
}

/// Error codes that say the credentials or the signature were refused: no evidence of a permission.
pub fn is_authentication_failure(code: &str) -> bool {
    matches!(
        code,
        "InvalidClientTokenId"
            | "UnrecognizedClientException"
            | "InvalidAccessKeyId"
            | "SignatureDoesNotMatch"
            | "InvalidSignatureException"
            | "IncompleteSignature"
            | "IncompleteSignatureException"
            | "MissingAuthenticationToken"
            | "MissingAuthenticationTokenException"
            | "ExpiredToken"
            | "ExpiredTokenException"
            | "AuthFailure"
            | "InvalidToken"
    ) || code.starts_with("Iamfit")
}

/// The status of an answer: allowed below 400, denied for an access-denied error code (or a 403 without
/// one, as HEAD requests answer), else error.
pub fn status_of(http_status: Option<u16>, error_code: Option<&str>) -> Status {
    match (http_status, error_code) {
        (Some(s), _) if s < 400 => Status::Allowed,
        (Some(_), Some(code)) if is_access_denied_code(code) => Status::Denied,
        (Some(403), None) => Status::Denied,
        _ => Status::Error,
    }
}

impl RecordedCall {
    /// Fills `actions`, `resources`, `unknown_resources`, `resources_by_action`, `unmapped` and
    /// `permissionless` from the mapping of the call.
    pub fn set_mapping(&mut self, mapping: &Mapping) {
        match mapping {
            Mapping::Permissionless => self.permissionless = true,
            // A recorded request is always an API call; a record that is not one maps to nothing.
            Mapping::NonApi { kind } => self.unmapped = Some(format!("not an API call ({kind})")),
            Mapping::Unmapped { reason } => self.unmapped = Some((*reason).to_string()),
            Mapping::Actions(needed) => {
                let mut by_action: BTreeMap<String, Vec<String>> = BTreeMap::new();
                for n in needed {
                    if !self.actions.contains(&n.action) {
                        self.actions.push(n.action.clone());
                    }
                    let own = by_action.entry(n.action.clone()).or_default();
                    match &n.resource {
                        ResourceKnowledge::Known => own.extend(n.resources.iter().cloned()),
                        ResourceKnowledge::NotScoped => own.push("*".to_string()),
                        ResourceKnowledge::Unknown(_) => {
                            if !self.unknown_resources.contains(&n.action) {
                                self.unknown_resources.push(n.action.clone());
                            }
                        }
                    }
                }
                for r in by_action.values().flatten() {
                    if !self.resources.contains(r) {
                        self.resources.push(r.clone());
                    }
                }
                let differ = by_action.values().any(|v| v.len() != self.resources.len());
                if by_action.len() > 1 && differ {
                    self.resources_by_action = Some(by_action);
                }
            }
        }
    }

    /// The line as written to the recording (no newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The resources of one action of the call.
    pub fn resources_of(&self, action: &str) -> &[String] {
        match self.resources_by_action.as_ref().and_then(|m| m.get(action)) {
            Some(r) => r,
            None if self.resources_by_action.is_some() => &[],
            None => &self.resources,
        }
    }

    /// Whether the call belongs to the principal: the same rules as for CloudTrail records, except
    /// that a function's calls are recognised by the recording's `function` too (a recording's role
    /// sessions are named after the developer, and `--as-caller` runs as the developer).
    pub fn matches(&self, filter: &PrincipalFilter) -> bool {
        let identity = UserIdentity { arn: Some(self.principal.as_str().into()), ..UserIdentity::default() };
        let event = Event { user_identity: Some(identity), ..Event::default() };
        match filter {
            PrincipalFilter::Any | PrincipalFilter::User { .. } => filter.matches(&event),
            PrincipalFilter::Role { arn, name, session } => {
                let of_role = self
                    .principal
                    .split_once(":assumed-role/")
                    .is_some_and(|(_, rest)| rest.split('/').next() == Some(name.as_str()));
                let of_function = session.is_some() && self.function.as_deref() == session.as_deref();
                if of_function && (of_role || !self.principal.contains(":assumed-role/")) {
                    return true;
                }
                let whole_role =
                    PrincipalFilter::Role { arn: arn.clone(), name: name.clone(), session: None };
                match session {
                    None => whole_role.matches(&event),
                    Some(_) => filter.matches(&event),
                }
            }
        }
    }

    /// Adds the call to a usage aggregate (as [`Usage::record`] adds a CloudTrail record): successes and
    /// errors that are not a refusal count as use, refusals as denials; calls that never reached the
    /// service or whose credentials were refused are matched but are no evidence.
    pub fn add_to(&self, usage: &mut Usage) {
        usage.matched += 1;
        if self.permissionless {
            usage.permissionless += 1;
            return;
        }
        if self.unmapped.is_some() || self.actions.is_empty() {
            let key = (
                format!("{}.amazonaws.com", self.service),
                self.operation.clone().unwrap_or_else(|| "(unrecognised request)".to_string()),
            );
            *usage.unmapped.entry(key).or_default() += 1;
            return;
        }
        let code = self.error_code.as_deref().unwrap_or("");
        let evidence = match self.status {
            Status::Allowed | Status::Denied => true,
            Status::Error => self.http_status.is_some() && !is_authentication_failure(code),
        };
        if !evidence {
            return;
        }
        for action in &self.actions {
            let resources = if self.status == Status::Denied {
                usage.add_denial(
                    action,
                    if code.is_empty() { "Forbidden" } else { code },
                    &self.time,
                    Origin::Recording,
                )
            } else {
                usage.add_use(action, &self.time, Origin::Recording)
            };
            let unknown = self.unknown_resources.contains(action);
            if unknown {
                resources.unknown += 1;
            }
            for r in self.resources_of(action) {
                resources.add(r);
            }
            // Each call, for `diff`'s calls: a local run's context (source IP, TLS to AWS) is not
            // production's, so none is recorded.
            let denied = self.status == Status::Denied;
            let called = self.resources_of(action).to_vec();
            match (called.is_empty(), unknown) {
                (false, _) => {
                    for r in &called {
                        usage.record_call(action, r, denied, CallContext::default());
                    }
                }
                (true, false) => usage.record_call(action, "*", denied, CallContext::default()),
                (true, true) => {}
            }
        }
    }
}

/// Whether text is a recording: its first non-empty line is a JSON object with the keys of a
/// recorded call (`principal`, `actions`, `status`).
pub fn is_recording(head: &str) -> bool {
    let Some(first) = head.lines().map(str::trim).find(|l| !l.is_empty()) else { return false };
    if !first.starts_with('{') {
        return false;
    }
    match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(first) {
        Ok(m) => ["principal", "actions", "status"].iter().all(|k| m.contains_key(*k)),
        // A first line cut short by the caller's read limit: look at the keys.
        Err(_) => ["\"principal\"", "\"actions\"", "\"status\""].iter().all(|k| first.contains(k)),
    }
}

/// What reading a recording gave: the calls (in file order) and the lines that could not be parsed.
#[derive(Debug, Clone, Default)]
pub struct ParsedRecording {
    /// The calls.
    pub calls: Vec<RecordedCall>,
    /// Lines that were not a recorded call (a line cut short by a killed run, edits by hand).
    pub malformed: u64,
}

/// Parses a recording's text.
pub fn parse(text: &str) -> ParsedRecording {
    let mut out = ParsedRecording::default();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match serde_json::from_str::<RecordedCall>(line) {
            Ok(call) => out.calls.push(call),
            Err(_) => out.malformed += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::map::Needed;

    fn call(principal: &str, status: Status, code: Option<&str>) -> RecordedCall {
        RecordedCall {
            time: "2026-05-01T10:00:00Z".into(),
            principal: principal.into(),
            service: "s3".into(),
            operation: Some("CopyObject".into()),
            actions: Vec::new(),
            resources: Vec::new(),
            status,
            error_code: code.map(str::to_string),
            http_status: Some(if status == Status::Allowed { 200 } else { 403 }),
            unknown_resources: Vec::new(),
            resources_by_action: None,
            unmapped: None,
            permissionless: false,
            region: Some("us-east-1".into()),
            function: Some("orders".into()),
        }
    }

    const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/orders-role/iamfit-dev";

    #[test]
    fn several_actions_on_different_resources_keep_their_own_resources() {
        let mut c = call(SESSION, Status::Allowed, None);
        c.set_mapping(&Mapping::Actions(vec![
            Needed {
                action: "s3:PutObject".into(),
                resources: vec!["arn:aws:s3:::b/new".into()],
                resource: ResourceKnowledge::Known,
            },
            Needed {
                action: "s3:GetObject".into(),
                resources: vec!["arn:aws:s3:::b/old".into()],
                resource: ResourceKnowledge::Known,
            },
        ]));
        assert_eq!(c.actions, ["s3:PutObject", "s3:GetObject"]);
        assert_eq!(c.resources, ["arn:aws:s3:::b/old", "arn:aws:s3:::b/new"]);
        assert_eq!(c.resources_of("s3:GetObject"), ["arn:aws:s3:::b/old"]);
        let line = c.to_line();
        let back: RecordedCall = serde_json::from_str(&line).unwrap();
        assert_eq!(back, c);
        assert!(is_recording(&line));
        let mut usage = Usage::default();
        back.add_to(&mut usage);
        let put = &usage.actions["s3:PutObject"];
        assert_eq!(put.resources.set.iter().collect::<Vec<_>>(), ["arn:aws:s3:::b/new"]);
        assert!(put.seen_in.contains(&Origin::Recording));
    }

    #[test]
    fn unknown_resources_are_never_a_wildcard() {
        let mut c = call(SESSION, Status::Allowed, None);
        c.set_mapping(&Mapping::Actions(vec![Needed {
            action: "kms:Decrypt".into(),
            resources: Vec::new(),
            resource: ResourceKnowledge::Unknown("no key"),
        }]));
        assert!(c.resources.is_empty());
        assert_eq!(c.unknown_resources, ["kms:Decrypt"]);
        let mut usage = Usage::default();
        c.add_to(&mut usage);
        assert_eq!(usage.actions["kms:Decrypt"].resources.unknown, 1);
        assert!(usage.actions["kms:Decrypt"].resources.set.is_empty());
    }

    #[test]
    fn denials_and_failures_are_not_use() {
        let mut denied = call(SESSION, Status::Denied, Some("AccessDeniedException"));
        denied.actions = vec!["dynamodb:DeleteItem".into()];
        let mut refused = call(SESSION, Status::Error, Some("InvalidClientTokenId"));
        refused.actions = vec!["dynamodb:GetItem".into()];
        let mut unreachable = call(SESSION, Status::Error, Some("IamfitUpstreamUnreachable"));
        unreachable.http_status = None;
        unreachable.actions = vec!["dynamodb:GetItem".into()];
        let mut usage = Usage::default();
        for c in [&denied, &refused, &unreachable] {
            c.add_to(&mut usage);
        }
        assert!(usage.actions.is_empty(), "{:?}", usage.actions);
        assert_eq!(usage.denied.len(), 1);
        assert!(usage.denied.contains_key(&("dynamodb:DeleteItem".into(), "AccessDeniedException".into())));
        assert_eq!(usage.matched, 3);
    }

    #[test]
    fn statuses_follow_the_answer() {
        assert_eq!(status_of(Some(200), None), Status::Allowed);
        assert_eq!(status_of(Some(400), Some("AccessDeniedException")), Status::Denied);
        assert_eq!(status_of(Some(403), Some("AccessDenied")), Status::Denied);
        assert_eq!(status_of(Some(403), None), Status::Denied);
        assert_eq!(status_of(Some(403), Some("SignatureDoesNotMatch")), Status::Error);
        assert_eq!(status_of(Some(404), Some("NoSuchKey")), Status::Error);
        assert_eq!(status_of(None, Some("IamfitUpstreamUnreachable")), Status::Error);
    }

    #[test]
    fn calls_match_the_function_its_role_and_its_sessions() {
        let c = call(SESSION, Status::Allowed, None);
        let function = PrincipalFilter::Role {
            arn: "arn:aws:iam::111122223333:role/orders-role".into(),
            name: "orders-role".into(),
            session: Some("orders".into()),
        };
        assert!(c.matches(&function));
        let role = PrincipalFilter::Role {
            arn: "arn:aws:iam::111122223333:role/orders-role".into(),
            name: "orders-role".into(),
            session: None,
        };
        assert!(c.matches(&role));
        let other = PrincipalFilter::Role {
            arn: "arn:aws:iam::111122223333:role/x".into(),
            name: "x".into(),
            session: Some("orders".into()),
        };
        assert!(!c.matches(&other));
        // --as-caller: the developer's calls count for the function they were recorded for.
        let caller = call("arn:aws:iam::111122223333:user/dev", Status::Allowed, None);
        assert!(caller.matches(&function));
        assert!(!caller.matches(&role));
        assert!(caller.matches(&PrincipalFilter::User { arn: "arn:aws:iam::111122223333:user/dev".into() }));
    }

    #[test]
    fn cloudtrail_files_are_not_recordings() {
        assert!(!is_recording(r#"{"Records":[{"eventName":"GetObject"}]}"#));
        assert!(!is_recording(""));
        let text = format!("{}\nnot json\n", call(SESSION, Status::Allowed, None).to_line());
        let parsed = parse(&text);
        assert_eq!((parsed.calls.len(), parsed.malformed), (1, 1));
    }
}
