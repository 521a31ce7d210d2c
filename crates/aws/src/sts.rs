//! Assuming a function's execution role through STS (`iamfit exec`, `iamfit credentials`).
//!
//! Secrets (secret access key, session token) never reach a log line, an error message or `Debug`
//! output of this module.

use aws_config::SdkConfig;
use iamfit_core::account::Function;
use iamfit_core::source::SourceError;
use iamfit_core::trust::{session_name, TempCredentials};

use crate::live::{self, LiveError, LiveOptions};

/// Whether an AssumeRole failure was a refusal (HTTP 403 / AccessDenied).
pub fn is_denied(e: &LiveError) -> bool {
    matches!(e, LiveError::AccessDenied { .. })
}

/// Calls `sts:AssumeRole`; returns the credentials and the session's ARN (`AssumedRoleUser.Arn`).
pub async fn assume_role(
    config: &SdkConfig,
    role_arn: &str,
    session_name: &str,
    session_policy: Option<String>,
    duration: Option<i32>,
) -> Result<(TempCredentials, String), LiveError> {
    let sts = aws_sdk_sts::Client::new(config);
    let out = sts
        .assume_role()
        .role_arn(role_arn)
        .role_session_name(session_name)
        .set_policy(session_policy)
        .set_duration_seconds(duration)
        .send()
        .await
        .map_err(|e| {
            crate::error::classify(
                &e,
                crate::error::Call {
                    call: "sts:AssumeRole",
                    permission: "sts:AssumeRole",
                    what: "role",
                    target: role_arn,
                },
            )
        })?;
    let c = out.credentials().ok_or_else(|| LiveError::Other {
        call: "sts:AssumeRole",
        target: role_arn.to_string(),
        detail: "the answer holds no credentials".into(),
    })?;
    let principal = out.assumed_role_user().map(|u| u.arn().to_string()).unwrap_or_default();
    let expiration = time::OffsetDateTime::from_unix_timestamp(c.expiration().secs())
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default();
    let credentials = TempCredentials {
        access_key_id: c.access_key_id().to_string(),
        secret_access_key: c.secret_access_key().to_string(),
        session_token: c.session_token().to_string(),
        expiration,
    };
    Ok((credentials, principal))
}

/// The function's memory size in MB (`None` when it cannot be read; only for the Lambda-like environment).
pub async fn memory_size(config: &SdkConfig, function: &str) -> Option<i32> {
    let lambda = aws_sdk_lambda::Client::new(config);
    lambda.get_function_configuration().function_name(function).send().await.ok()?.memory_size()
}

/// A function's role, assumed: the function, its region, the credentials and its memory size.
#[derive(Debug, Clone)]
pub struct Assumed {
    /// The function's configuration.
    pub function: Function,
    /// The function's region.
    pub region: String,
    /// The role's temporary credentials.
    pub credentials: TempCredentials,
    /// The session's ARN (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`).
    pub session_arn: String,
    /// The function's memory size in MB, when it can be read.
    pub memory_size: Option<i32>,
}

/// Why assuming the function's role failed.
#[derive(Debug, thiserror::Error)]
pub enum AssumeError {
    /// STS refused `sts:AssumeRole` (trust policy or identity policies): the caller explains which.
    #[error("{0}")]
    Denied(SourceError),
    /// Anything else (credentials, the function, the network).
    #[error("{0}")]
    Other(SourceError),
}

/// Reads the function and its caller, then assumes the function's execution role with an optional
/// session policy and duration.
pub fn assume_function_role(
    opts: &LiveOptions,
    function: &str,
    session_policy: Option<String>,
    duration: Option<i32>,
) -> Result<Assumed, AssumeError> {
    let mut opts = opts.clone();
    if opts.region.is_none() {
        opts.region =
            function.strip_prefix("arn:").and_then(|_| function.split(':').nth(3)).map(str::to_string);
    }
    let result = crate::runtime::block_on(async {
        let config = live::sdk_config(&opts).await?;
        let (identity, f) = tokio::join!(live::caller_identity(&config), live::function(&config, function));
        let (identity, f) = (identity?, f?);
        let session = session_name(&identity.arn);
        let (credentials, session_arn) =
            assume_role(&config, &f.role, &session, session_policy, duration).await?;
        let region = f
            .region()
            .map(str::to_string)
            .or_else(|| config.region().map(|r| r.to_string()))
            .unwrap_or_default();
        let memory_size = memory_size(&config, function).await;
        Ok::<_, LiveError>(Assumed { function: f, region, credentials, session_arn, memory_size })
    })
    .map_err(AssumeError::Other)?;
    match result {
        Ok(a) => Ok(a),
        Err(e @ LiveError::AccessDenied { call: "sts:AssumeRole", .. }) => Err(AssumeError::Denied(e.into())),
        Err(e) => Err(AssumeError::Other(e.into())),
    }
}

/// Decodes an encoded authorization failure message (`iamfit explain`) with
/// `sts:DecodeAuthorizationMessage`, which the caller must be allowed; returns the decoded JSON text
/// (<https://docs.aws.amazon.com/STS/latest/APIReference/API_DecodeAuthorizationMessage.html>).
pub fn decode_authorization_message(opts: &LiveOptions, encoded: &str) -> Result<String, SourceError> {
    let result = crate::runtime::block_on(async {
        let config = live::sdk_config(opts).await?;
        let out = aws_sdk_sts::Client::new(&config)
            .decode_authorization_message()
            .encoded_message(encoded)
            .send()
            .await
            .map_err(|e| {
                crate::error::classify(
                    &e,
                    crate::error::Call {
                        call: "sts:DecodeAuthorizationMessage",
                        permission: "sts:DecodeAuthorizationMessage",
                        what: "message",
                        target: "the encoded authorization failure message",
                    },
                )
            })?;
        Ok::<_, LiveError>(out.decoded_message().unwrap_or_default().to_string())
    })?;
    result.map_err(SourceError::from)
}
