//! The one classifier of AWS SDK errors: every call of the adapter goes through [`classify`], so
//! throttling, access denied, not found, missing credentials and an unreachable endpoint are told
//! apart the same way for IAM, Lambda, STS, S3 and CloudTrail, and no `Debug` dump of an SDK error
//! reaches the user.

use aws_sdk_iam::config::http::HttpResponse;
use aws_sdk_iam::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use iamfit_core::source::SourceError;

use crate::live::LiveError;

/// What a failed call was, for the message.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// The API call as an IAM action (`iam:GetRole`).
    pub call: &'static str,
    /// The permission the caller needs for it.
    pub permission: &'static str,
    /// What kind of thing it was about ("role", "function", "bucket").
    pub what: &'static str,
    /// Its name.
    pub target: &'a str,
}

/// Error codes AWS uses for throttling.
fn is_throttle_code(code: &str) -> bool {
    code.contains("Throttl")
        || code == "TooManyRequestsException"
        || code == "RequestLimitExceeded"
        || code == "SlowDown"
}

/// Whether an SDK error is a throttle (HTTP 429 or a throttling error code).
pub fn is_throttle<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    let status = err.raw_response().map(|r| r.status().as_u16());
    status == Some(429) || err.code().is_some_and(is_throttle_code)
}

/// Classifies a failed SDK call.
pub fn classify<E>(err: &SdkError<E, HttpResponse>, call: Call<'_>) -> LiveError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let target = call.target.to_string();
    match err {
        SdkError::DispatchFailure(d) => {
            let reason = if d.is_timeout() {
                "the connection timed out"
            } else if d.is_io() {
                "the connection failed"
            } else {
                "the request could not be sent"
            };
            return LiveError::Unreachable {
                reason: reason.into(),
                detail: DisplayErrorContext(err).to_string(),
            };
        }
        SdkError::TimeoutError(_) => {
            return LiveError::Unreachable {
                reason: "the request timed out".into(),
                detail: DisplayErrorContext(err).to_string(),
            }
        }
        SdkError::ConstructionFailure(_) => {
            let detail = DisplayErrorContext(err).to_string();
            if detail.contains("credentials") {
                return LiveError::NoCredentials { profile: None, detail };
            }
            return LiveError::Other { call: call.call, target, detail };
        }
        _ => {}
    }
    let status = err.raw_response().map(|r| r.status().as_u16());
    let code = err.code().unwrap_or_default().to_string();
    let message = err.message().map(str::to_string).unwrap_or_default();
    if is_throttle_code(&code) || status == Some(429) {
        return LiveError::Throttled { call: call.call };
    }
    if status == Some(403)
        || code.contains("AccessDenied")
        || code == "UnauthorizedOperation"
        || code == "AuthorizationError"
    {
        return LiveError::AccessDenied {
            call: call.call,
            target,
            permission: call.permission,
            detail: message,
        };
    }
    if code.contains("InvalidClientTokenId")
        || code.contains("ExpiredToken")
        || code == "UnrecognizedClientException"
        || code == "InvalidAccessKeyId"
        || code == "SignatureDoesNotMatch"
    {
        return LiveError::Setup(format!("the credentials were refused by AWS ({code}): {message}"));
    }
    if status == Some(404)
        || code == "NoSuchEntity"
        || code == "ResourceNotFoundException"
        || code == "NotFoundException"
        || code == "RepositoryNotFoundException"
        || code == "QueueDoesNotExist"
        || code == "AWS.SimpleQueueService.NonExistentQueue"
        || code == "NoSuchBucket"
        || code == "NoSuchKey"
    {
        return LiveError::NotFound { what: call.what, target };
    }
    let detail = match (code.is_empty(), message.is_empty()) {
        (false, false) => format!("{code}: {message}"),
        (false, true) => code,
        (true, false) => message,
        (true, true) => match status {
            Some(s) => format!("HTTP {s}"),
            None => "no answer".into(),
        },
    };
    LiveError::Other { call: call.call, target, detail }
}

impl From<LiveError> for SourceError {
    fn from(e: LiveError) -> Self {
        match e {
            LiveError::AccessDenied { call, target, permission, detail } => SourceError::AccessDenied {
                call: call.to_string(),
                target,
                permission: permission.to_string(),
                detail,
            },
            LiveError::NotFound { what, target } => SourceError::NotFound { what: what.to_string(), target },
            LiveError::NoCredentials { profile, detail } => SourceError::NoCredentials { profile, detail },
            LiveError::Profile { profile, reason, detail } => SourceError::Profile { profile, reason, detail },
            LiveError::NoRegion => SourceError::NoRegion,
            LiveError::Throttled { call } => SourceError::Throttled { call: call.to_string(), attempts: crate::live::MAX_ATTEMPTS },
            LiveError::Unreachable { reason, detail } => {
                SourceError::Unreachable { endpoint: None, reason, detail }
            }
            LiveError::Setup(message) => SourceError::Input { message, help: Some("check --profile, --region and your AWS configuration (`aws sts get-caller-identity --profile NAME`)".into()) },
            LiveError::Other { call, target, detail } => SourceError::Aws { call: call.to_string(), target, message: detail },
            LiveError::Document(message) => SourceError::Input { message, help: None },
        }
    }
}
