//! A Lambda function's configuration as the Lambda service needs it: what it does with the execution
//! role outside the function's code (logs, traces, network interfaces, event source polling,
//! dead-letter and destination delivery, file system mounts, environment decryption).
//!
//! Read from the output of `aws lambda get-function-configuration` (the function's own fields),
//! `aws lambda list-event-source-mappings --function-name NAME` and
//! `aws lambda get-function-event-invoke-config --function-name NAME`; see
//! [`super::snapshot`]. The analysis of what the role must allow for it is
//! [`crate::analyze::service_needs`].

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// What the Lambda service needs to know about a function to use its role on its behalf.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FunctionConfig {
    /// `PackageType`: `Zip` or `Image`.
    pub package_type: Option<String>,
    /// `LoggingConfig.LogGroup`: the log group Lambda writes to (`/aws/lambda/NAME` when absent).
    pub log_group: Option<String>,
    /// `TracingConfig.Mode`: `Active` or `PassThrough`.
    pub tracing_mode: Option<String>,
    /// `VpcConfig`, when the function is attached to subnets.
    pub vpc: Option<VpcConfig>,
    /// `DeadLetterConfig.TargetArn`: the SQS queue or SNS topic for discarded asynchronous events.
    pub dead_letter_target: Option<String>,
    /// `KMSKeyArn`: the customer managed key that encrypts the environment variables.
    pub kms_key_arn: Option<String>,
    /// `FileSystemConfigs`: the EFS access points the function mounts.
    pub file_systems: Vec<FileSystemMount>,
    /// `SnapStart.ApplyOn`: `PublishedVersions` or `None`.
    pub snap_start: Option<String>,
    /// `Layers[].Arn`.
    pub layers: Vec<String>,
    /// The event source mappings (`list-event-source-mappings`); `None` when they were not read.
    pub event_source_mappings: Option<Vec<EventSourceMapping>>,
    /// The asynchronous invocation configuration (`get-function-event-invoke-config`); `None` when
    /// the function has none or it was not read (see [`FunctionConfig::event_invoke_read`]).
    pub event_invoke: Option<EventInvokeConfig>,
    /// Whether the asynchronous invocation configuration was read (so `None` means "none").
    pub event_invoke_read: bool,
    /// What the user should know about how the configuration was read (a refused read, ...).
    pub notes: Vec<String>,
}

impl FunctionConfig {
    /// Whether tracing is `Active` (Lambda then sends traces to X-Ray with the role).
    pub fn active_tracing(&self) -> bool {
        self.tracing_mode.as_deref().is_some_and(|m| m.eq_ignore_ascii_case("Active"))
    }
}

/// `VpcConfig` of a function.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VpcConfig {
    /// `SubnetIds`.
    pub subnet_ids: Vec<String>,
    /// `SecurityGroupIds`.
    pub security_group_ids: Vec<String>,
    /// `VpcId`.
    pub vpc_id: Option<String>,
}

/// One entry of `FileSystemConfigs`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileSystemMount {
    /// `Arn`: the EFS access point (`arn:aws:elasticfilesystem:REGION:ACCOUNT:access-point/fsap-...`).
    pub access_point_arn: String,
    /// `LocalMountPath` (`/mnt/...`).
    pub local_mount_path: String,
}

/// One entry of `SourceAccessConfigurations` of an event source mapping.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceAccess {
    /// `Type`: `BASIC_AUTH`, `VPC_SUBNET`, `VPC_SECURITY_GROUP`, `SASL_SCRAM_512_AUTH`, ...
    pub kind: String,
    /// `URI`: a Secrets Manager secret ARN, `subnet:subnet-...`, `security_group:sg-...`, ...
    pub uri: String,
}

impl SourceAccess {
    /// Whether the URI names a Secrets Manager secret Lambda reads (authentication and certificates).
    pub fn is_secret(&self) -> bool {
        matches!(
            self.kind.as_str(),
            "BASIC_AUTH"
                | "SASL_SCRAM_256_AUTH"
                | "SASL_SCRAM_512_AUTH"
                | "CLIENT_CERTIFICATE_TLS_AUTH"
                | "SERVER_ROOT_CA_CERTIFICATE"
        ) && self.uri.starts_with("arn:")
    }
}

/// One event source mapping (an entry of `list-event-source-mappings`' `EventSourceMappings`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EventSourceMapping {
    /// `UUID`.
    pub uuid: String,
    /// `EventSourceArn` (absent for self-managed Apache Kafka).
    pub event_source_arn: Option<String>,
    /// `State` (`Enabled`, `Disabled`, `Creating`, ...).
    pub state: Option<String>,
    /// `LastModified` as RFC 3339 UTC (the AWS CLI prints epoch seconds in v1, ISO 8601 in v2).
    pub last_modified: Option<String>,
    /// `DestinationConfig.OnFailure.Destination`.
    pub on_failure: Option<String>,
    /// `Topics` (Kafka).
    pub topics: Vec<String>,
    /// `Queues` (Amazon MQ).
    pub queues: Vec<String>,
    /// `SourceAccessConfigurations`.
    pub source_access: Vec<SourceAccess>,
    /// `SelfManagedEventSource.Endpoints.KAFKA_BOOTSTRAP_SERVERS`.
    pub kafka_bootstrap_servers: Vec<String>,
    /// `AmazonManagedKafkaEventSourceConfig.ConsumerGroupId` or
    /// `SelfManagedKafkaEventSourceConfig.ConsumerGroupId`.
    pub consumer_group_id: Option<String>,
}

impl EventSourceMapping {
    /// Whether this mapping reads a self-managed Apache Kafka cluster.
    pub fn is_self_managed_kafka(&self) -> bool {
        self.event_source_arn.is_none() && !self.kafka_bootstrap_servers.is_empty()
    }
}

/// `get-function-event-invoke-config`: retries and destinations of asynchronous invocations.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EventInvokeConfig {
    /// `LastModified` as RFC 3339 UTC.
    pub last_modified: Option<String>,
    /// `DestinationConfig.OnSuccess.Destination`.
    pub on_success: Option<String>,
    /// `DestinationConfig.OnFailure.Destination`.
    pub on_failure: Option<String>,
    /// `MaximumRetryAttempts`.
    pub maximum_retry_attempts: Option<i64>,
    /// `MaximumEventAgeInSeconds`.
    pub maximum_event_age_in_seconds: Option<i64>,
}

/// A time as the AWS CLI prints it: epoch seconds (a number, AWS CLI v1 and `--cli-timestamp-format
/// none`) or ISO 8601 text (AWS CLI v2: `2019-09-23T17:02:00.333000-07:00`), as RFC 3339 UTC.
pub fn cli_time(value: &serde_json::Value) -> Option<String> {
    let t = match value {
        serde_json::Value::Number(n) => {
            let seconds = n.as_f64()?;
            if !seconds.is_finite() {
                return None;
            }
            // Whole nanoseconds fit in i128 for every finite f64 the CLI can print.
            let nanos = (seconds * 1e9).round();
            if nanos.abs() > 1e30 {
                return None;
            }
            OffsetDateTime::from_unix_timestamp_nanos(nanos as i128).ok()?
        }
        serde_json::Value::String(s) => parse_iso(s.trim())?,
        _ => return None,
    };
    Some(iamfit_trail::window::format_utc(t))
}

/// RFC 3339, and the ISO 8601 variants AWS prints: `+0000` offsets (no colon), a space for the `T`.
fn parse_iso(text: &str) -> Option<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(t);
    }
    let mut fixed: String = text.replacen(' ', "T", 1);
    // `+0000` / `-0700` at the end: insert the colon RFC 3339 wants.
    let chars: Vec<char> = fixed.chars().collect();
    if let [.., sign @ ('+' | '-'), a, b, c, d] = chars.as_slice() {
        if [a, b, c, d].iter().all(|x| x.is_ascii_digit()) {
            let keep: String = chars.iter().take(chars.len() - 5).collect();
            fixed = format!("{keep}{sign}{a}{b}:{c}{d}");
        }
    }
    OffsetDateTime::parse(&fixed, &Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_cli_time_formats() {
        // AWS CLI v1 prints epoch seconds (`"LastModified": 1569284520.333`); v2 prints ISO 8601
        // with the local offset. 1569284520.333 s after the epoch is 2019-09-24 00:22:00.333 UTC,
        // which is 17:22:00.333 at UTC-7.
        assert_eq!(cli_time(&json!(1569284520.333)).as_deref(), Some("2019-09-24T00:22:00Z"));
        assert_eq!(
            cli_time(&json!("2019-09-23T17:22:00.333000-07:00")).as_deref(),
            Some("2019-09-24T00:22:00Z")
        );
        assert_eq!(cli_time(&json!(1573686021)).as_deref(), Some("2019-11-13T23:00:21Z"));
        assert_eq!(cli_time(&json!("2024-05-21T13:07:44.000+0000")).as_deref(), Some("2024-05-21T13:07:44Z"));
        assert_eq!(cli_time(&json!("yesterday")), None);
        assert_eq!(cli_time(&json!(true)), None);
    }
}
