//! One CloudTrail record, as much of it as iamfit needs, borrowed from the decompressed text where
//! possible (`Cow`), with `requestParameters` kept raw until a mapping needs it.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

/// A CloudTrail record (`Records[]` of a log file, or `CloudTrailEvent` of LookupEvents).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Event<'a> {
    /// `eventTime`, RFC 3339 in UTC (`2024-05-01T12:00:00Z`).
    #[serde(borrow, default)]
    pub event_time: Option<Cow<'a, str>>,
    /// `eventSource`, e.g. `s3.amazonaws.com`.
    #[serde(borrow, default)]
    pub event_source: Option<Cow<'a, str>>,
    /// `eventName`, e.g. `GetObject`.
    #[serde(borrow, default)]
    pub event_name: Option<Cow<'a, str>>,
    /// `awsRegion`.
    #[serde(borrow, default)]
    pub aws_region: Option<Cow<'a, str>>,
    /// `errorCode` of a failed call (`AccessDenied`, ...).
    #[serde(borrow, default)]
    pub error_code: Option<Cow<'a, str>>,
    /// `errorMessage`.
    #[serde(borrow, default)]
    pub error_message: Option<Cow<'a, str>>,
    /// `userIdentity`.
    #[serde(borrow, default)]
    pub user_identity: Option<UserIdentity<'a>>,
    /// `requestParameters`, unparsed.
    #[serde(borrow, default)]
    pub request_parameters: Option<&'a RawValue>,
    /// `resources[]`.
    #[serde(borrow, default)]
    pub resources: Option<Vec<ResourceRef<'a>>>,
    /// `recipientAccountId`.
    #[serde(borrow, default)]
    pub recipient_account_id: Option<Cow<'a, str>>,
    /// `eventType` (`AwsApiCall`, `AwsServiceEvent`, ...).
    #[serde(borrow, default)]
    pub event_type: Option<Cow<'a, str>>,
    /// `eventCategory` (`Management`, `Data`, ...).
    #[serde(borrow, default)]
    pub event_category: Option<Cow<'a, str>>,
    /// `managementEvent`.
    #[serde(default)]
    pub management_event: Option<bool>,
    /// `sourceIPAddress`: the caller's IP address, or the AWS service that made the call on the
    /// principal's behalf (`sqs.amazonaws.com`).
    #[serde(borrow, default, rename = "sourceIPAddress")]
    pub source_ip_address: Option<Cow<'a, str>>,
    /// `tlsDetails`, unparsed: present when the call came over TLS and the service records it.
    #[serde(borrow, default)]
    pub tls_details: Option<&'a RawValue>,
    /// `vpcEndpointId`: the VPC endpoint the call came through.
    #[serde(borrow, default)]
    pub vpc_endpoint_id: Option<Cow<'a, str>>,
}

/// `userIdentity`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity<'a> {
    /// `type`: `IAMUser`, `AssumedRole`, `Root`, `AWSService`, `FederatedUser`, ...
    #[serde(borrow, default, rename = "type")]
    pub kind: Option<Cow<'a, str>>,
    /// `arn`: the caller (for roles, the session ARN).
    #[serde(borrow, default)]
    pub arn: Option<Cow<'a, str>>,
    /// `accountId`.
    #[serde(borrow, default)]
    pub account_id: Option<Cow<'a, str>>,
    /// `invokedBy`: the AWS service that made the call on the principal's behalf.
    #[serde(borrow, default)]
    pub invoked_by: Option<Cow<'a, str>>,
    /// `sessionContext`.
    #[serde(borrow, default)]
    pub session_context: Option<SessionContext<'a>>,
}

/// `userIdentity.sessionContext`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext<'a> {
    /// `sessionIssuer`: the role (or user) whose credentials the session uses.
    #[serde(borrow, default)]
    pub session_issuer: Option<SessionIssuer<'a>>,
}

/// `userIdentity.sessionContext.sessionIssuer`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SessionIssuer<'a> {
    /// `type` (`Role`).
    #[serde(borrow, default, rename = "type")]
    pub kind: Option<Cow<'a, str>>,
    /// The role's ARN (with path).
    #[serde(borrow, default)]
    pub arn: Option<Cow<'a, str>>,
    /// The role's name.
    #[serde(borrow, default)]
    pub user_name: Option<Cow<'a, str>>,
}

/// One entry of `resources[]`.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct ResourceRef<'a> {
    /// `ARN`.
    #[serde(borrow, default, rename = "ARN")]
    pub arn: Option<Cow<'a, str>>,
    /// `type`, e.g. `AWS::S3::Object`.
    #[serde(borrow, default, rename = "type")]
    pub kind: Option<Cow<'a, str>>,
}

impl Event<'_> {
    /// The event source without `.amazonaws.com`.
    pub fn source_prefix(&self) -> &str {
        let s = self.event_source.as_deref().unwrap_or("");
        s.strip_suffix(".amazonaws.com").unwrap_or(s)
    }

    /// Whether the call failed for lack of permission.
    pub fn is_access_denied(&self) -> bool {
        self.error_code.as_deref().is_some_and(is_access_denied_code)
    }

    /// `requestParameters` parsed (null when absent or unreadable).
    pub fn parameters(&self) -> serde_json::Value {
        self.request_parameters
            .and_then(|r| serde_json::from_str(r.get()).ok())
            .unwrap_or(serde_json::Value::Null)
    }
}

/// Error codes that mean "not authorized" across AWS services.
pub fn is_access_denied_code(code: &str) -> bool {
    matches!(
        code,
        "AccessDenied"
            | "AccessDeniedException"
            | "Client.UnauthorizedOperation"
            | "UnauthorizedOperation"
            | "AuthorizationError"
            | "AuthorizationErrorException"
            | "UnauthorizedException"
            | "Client.AccessDenied"
            | "Forbidden"
            | "NotAuthorized"
            | "AccessDeniedFault"
            | "KMSAccessDeniedException"
    ) || code.ends_with("AccessDenied")
        || code.ends_with("AccessDeniedException")
}

/// Which records belong to the principal being analysed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalFilter {
    /// Any session of a role (`sessionIssuer.arn`), optionally only one session name (a Lambda
    /// function's sessions are named after the function).
    Role {
        /// The role ARN (with path).
        arn: String,
        /// The role name.
        name: String,
        /// Only this session name.
        session: Option<String>,
    },
    /// An IAM user.
    User {
        /// The user ARN.
        arn: String,
    },
    /// Every record.
    Any,
}

impl PrincipalFilter {
    /// Bytes that every matching record's text contains: a cheap pre-filter before parsing.
    pub fn marker(&self) -> Option<String> {
        match self {
            PrincipalFilter::Role { name, session: Some(s), .. } => {
                Some(format!(":assumed-role/{name}/{s}\""))
            }
            PrincipalFilter::Role { name, .. } => Some(format!(":assumed-role/{name}/")),
            PrincipalFilter::User { arn } => Some(format!("\"{arn}\"")),
            PrincipalFilter::Any => None,
        }
    }

    /// Whether a parsed record belongs to the principal.
    pub fn matches(&self, e: &Event<'_>) -> bool {
        let Some(id) = &e.user_identity else { return matches!(self, PrincipalFilter::Any) };
        match self {
            PrincipalFilter::Any => true,
            PrincipalFilter::User { arn } => id.arn.as_deref() == Some(arn.as_str()),
            PrincipalFilter::Role { arn, name, session } => {
                let issuer = id
                    .session_context
                    .as_ref()
                    .and_then(|c| c.session_issuer.as_ref())
                    .and_then(|i| i.arn.as_deref());
                let session_arn = id.arn.as_deref().unwrap_or("");
                let by_issuer = issuer == Some(arn.as_str());
                let by_session = session_arn
                    .split_once(":assumed-role/")
                    .is_some_and(|(_, rest)| rest.split('/').next() == Some(name.as_str()));
                if !(by_issuer || (issuer.is_none() && by_session)) {
                    return false;
                }
                match session {
                    Some(s) => session_arn.rsplit('/').next() == Some(s.as_str()),
                    None => true,
                }
            }
        }
    }
}

/// A time window on `eventTime` (inclusive start, exclusive end), as RFC 3339 UTC text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimeWindow {
    /// Earliest time (`--since`).
    pub since: Option<String>,
    /// Latest time (`--until`).
    pub until: Option<String>,
}

impl TimeWindow {
    /// Whether an event time (`2024-05-01T12:00:00Z`) is inside the window. CloudTrail writes UTC with
    /// `Z`, so text order is time order.
    pub fn contains(&self, event_time: &str) -> bool {
        self.since.as_deref().is_none_or(|s| event_time >= s)
            && self.until.as_deref().is_none_or(|u| event_time < u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORD: &str = r#"{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:orders","arn":"arn:aws:sts::111122223333:assumed-role/orders-fn-role/orders","accountId":"111122223333","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLE","arn":"arn:aws:iam::111122223333:role/service-role/orders-fn-role","accountId":"111122223333","userName":"orders-fn-role"}}},"eventTime":"2026-11-01T10:00:00Z","eventSource":"dynamodb.amazonaws.com","eventName":"GetItem","awsRegion":"us-east-1","requestParameters":{"tableName":"orders","key":{"id":{"S":"1"}}},"responseElements":null,"resources":[{"accountId":"111122223333","type":"AWS::DynamoDB::Table","ARN":"arn:aws:dynamodb:us-east-1:111122223333:table/orders"}],"managementEvent":false,"eventCategory":"Data"}"#;

    #[test]
    fn parses_and_filters() {
        let e: Event = serde_json::from_str(RECORD).unwrap();
        assert_eq!(e.source_prefix(), "dynamodb");
        assert_eq!(e.parameters()["tableName"], "orders");
        let role = PrincipalFilter::Role {
            arn: "arn:aws:iam::111122223333:role/service-role/orders-fn-role".into(),
            name: "orders-fn-role".into(),
            session: Some("orders".into()),
        };
        assert!(role.matches(&e));
        assert!(RECORD.contains(&role.marker().unwrap()));
        let other = PrincipalFilter::Role {
            arn: "arn:aws:iam::111122223333:role/x".into(),
            name: "x".into(),
            session: None,
        };
        assert!(!other.matches(&e));
    }

    #[test]
    fn access_denied_codes() {
        for code in
            ["AccessDenied", "AccessDeniedException", "Client.UnauthorizedOperation", "AuthorizationError"]
        {
            assert!(is_access_denied_code(code), "{code}");
        }
        assert!(!is_access_denied_code("ThrottlingException"));
        assert!(!is_access_denied_code("NoSuchKey"));
    }

    #[test]
    fn time_windows() {
        let w = TimeWindow {
            since: Some("2026-01-01T00:00:00Z".into()),
            until: Some("2026-02-01T00:00:00Z".into()),
        };
        assert!(w.contains("2026-01-15T10:00:00Z"));
        assert!(!w.contains("2025-12-31T23:59:59Z"));
        assert!(!w.contains("2026-02-01T00:00:00Z"));
    }
}
