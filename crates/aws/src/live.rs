//! The live account source: reads what two principals need through the official AWS SDK.
//!
//! Credentials and region resolve as the AWS CLI resolves them (`--profile` first, then the
//! environment, `~/.aws/config` and `~/.aws/credentials`, SSO, `credential_process`); every call
//! goes to `--endpoint-url` / `AWS_ENDPOINT_URL` when given; throttled calls are retried with the
//! SDK's standard backoff. Only targeted reads are made (the function, the two principals and the
//! policies attached to them), concurrently.

use std::collections::BTreeSet;
use std::path::Path;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_iam::error::ProvideErrorMetadata;

use iamfit_core::account::snapshot;
use iamfit_core::account::{
    Account, CallerIdentity, Function, Group, InlinePolicy, ManagedPolicy, PolicyDocument, Role, User,
};
use serde_json::{json, Value};

/// Where and as whom to call AWS.
#[derive(Debug, Clone, Default)]
pub struct LiveOptions {
    /// The profile (`--profile`); `None` uses the default chain.
    pub profile: Option<String>,
    /// The region (`--region`).
    pub region: Option<String>,
    /// The endpoint (`--endpoint-url`).
    pub endpoint_url: Option<String>,
    /// The profile that reads AWS Organizations (`--org-profile`); `None` reads it with `profile`.
    pub org_profile: Option<String>,
}

/// A failed AWS read, classified for the user.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LiveError {
    /// The caller lacks a permission.
    #[error("access denied: {call} on {target} ({detail}); grant the caller {permission} or use --snapshot")]
    AccessDenied {
        /// The API call.
        call: &'static str,
        /// What it was about.
        target: String,
        /// The IAM action needed.
        permission: &'static str,
        /// AWS's message.
        detail: String,
    },
    /// The thing does not exist.
    #[error("{what} not found: {target}")]
    NotFound {
        /// "function", "role", ...
        what: &'static str,
        /// Its name.
        target: String,
    },
    /// No credentials anywhere the AWS CLI looks.
    #[error("no AWS credentials found")]
    NoCredentials {
        /// The profile asked for, if any.
        profile: Option<String>,
        /// What the credential chain said (for `-v`).
        detail: String,
    },
    /// A named profile that does not exist or gives no credentials.
    #[error("profile {profile:?} gives no credentials: {reason}")]
    Profile {
        /// The profile.
        profile: String,
        /// Why, for people.
        reason: String,
        /// What the credential chain said (for `-v`).
        detail: String,
    },
    /// No region configured.
    #[error("no AWS region configured")]
    NoRegion,
    /// Throttled after every retry.
    #[error("{call} was throttled by AWS after every retry")]
    Throttled {
        /// The API call.
        call: &'static str,
    },
    /// The endpoint could not be reached.
    #[error("cannot reach AWS: {reason}")]
    Unreachable {
        /// Why, for people.
        reason: String,
        /// The transport's words (for `-v`).
        detail: String,
    },
    /// Credentials refused, a bad setting: said in one line.
    #[error("{0}")]
    Setup(String),
    /// Anything else AWS answered.
    #[error("{call} on {target} failed: {detail}")]
    Other {
        /// The API call.
        call: &'static str,
        /// What it was about.
        target: String,
        /// What happened.
        detail: String,
    },
    /// A policy document that cannot be read.
    #[error("{0}")]
    Document(String),
}

/// Attempts of one call (the first and the retries) under the SDK's standard retry mode.
pub const MAX_ATTEMPTS: u32 = 5;

/// Loads the SDK configuration exactly as the AWS CLI would.
pub async fn sdk_config(opts: &LiveOptions) -> Result<SdkConfig, LiveError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS));
    if let Some(profile) = &opts.profile {
        // An explicit profile beats credentials in the environment, as in the AWS CLI.
        loader = loader.profile_name(profile).credentials_provider(
            aws_config::profile::ProfileFileCredentialsProvider::builder().profile_name(profile).build(),
        );
    }
    if let Some(region) = &opts.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(endpoint) = &opts.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    let config = loader.load().await;
    if let Some(provider) = config.credentials_provider() {
        // Resolve once now so that missing credentials or a broken profile are named clearly, not
        // reported as a failure of the first AWS call.
        use aws_credential_types::provider::ProvideCredentials;
        if let Err(e) = provider.provide_credentials().await {
            let detail = aws_sdk_iam::error::DisplayErrorContext(&e).to_string();
            return Err(match &opts.profile {
                Some(p) if matches!(e, CredentialsError::CredentialsNotLoaded(_)) => LiveError::Profile {
                    profile: p.clone(),
                    reason: "it is not defined in the AWS config files (~/.aws/config, ~/.aws/credentials, or AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE), or it defines none".into(),
                    detail,
                },
                Some(p) => LiveError::Profile { profile: p.clone(), reason: "its credentials could not be obtained".into(), detail },
                None => LiveError::NoCredentials { profile: None, detail },
            });
        }
    }
    if config.region().is_none() {
        return Err(LiveError::NoRegion);
    }
    if config.credentials_provider().is_none() {
        return Err(LiveError::NoCredentials { profile: opts.profile.clone(), detail: String::new() });
    }
    Ok(config)
}

fn fail<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    err: aws_sdk_iam::error::SdkError<E, aws_sdk_iam::config::http::HttpResponse>,
    call: &'static str,
    permission: &'static str,
    what: &'static str,
    target: &str,
) -> LiveError {
    crate::error::classify(&err, crate::error::Call { call, permission, what, target })
}

fn document(text: &str, what: &str) -> Result<PolicyDocument, LiveError> {
    PolicyDocument::from_api_text(text)
        .map_err(|e| LiveError::Document(format!("{what}: the policy document is not valid: {e}")))
}

/// The caller identity of the configured credentials.
pub async fn caller_identity(config: &SdkConfig) -> Result<CallerIdentity, LiveError> {
    let sts = aws_sdk_sts::Client::new(config);
    let out = sts.get_caller_identity().send().await.map_err(|e| {
        match fail(e, "sts:GetCallerIdentity", "sts:GetCallerIdentity", "identity", "the caller") {
            // GetCallerIdentity needs no permission: a refusal means the credentials are not valid.
            LiveError::AccessDenied { detail, .. } => {
                LiveError::Setup(format!("the credentials were refused by STS: {detail}"))
            }
            other => other,
        }
    })?;
    Ok(CallerIdentity {
        account: out.account().unwrap_or_default().to_string(),
        arn: out.arn().unwrap_or_default().to_string(),
        user_id: out.user_id().unwrap_or_default().to_string(),
    })
}

/// A function's configuration with its event source mappings and asynchronous invocation
/// configuration, read through the same reader as a snapshot's `functions/NAME.json` and its
/// companion files, so both paths agree. A refused or missing read of the mappings or of the
/// invocation configuration is a note on the function, not an error.
pub async fn function(config: &SdkConfig, name: &str) -> Result<Function, LiveError> {
    let lambda = aws_sdk_lambda::Client::new(config);
    let out = lambda.get_function_configuration().function_name(name).send().await.map_err(|e| {
        fail(e, "lambda:GetFunctionConfiguration", "lambda:GetFunctionConfiguration", "function", name)
    })?;
    let value = function_configuration_json(&out, name);
    let mut f = snapshot::read_function(&value, Path::new("GetFunctionConfiguration"))
        .map_err(|e| LiveError::Document(e.to_string()))?;
    f.environment.sort();
    let (mappings, invoke) =
        tokio::join!(event_source_mappings(&lambda, &f.name), event_invoke_config(&lambda, &f.name));
    match mappings? {
        Ok(m) => f.config.event_source_mappings = Some(m),
        Err(note) => f.config.notes.push(note),
    }
    match invoke? {
        Ok(c) => {
            f.config.event_invoke = c;
            f.config.event_invoke_read = true;
        }
        Err(note) => f.config.notes.push(note),
    }
    Ok(f)
}

/// The fields of `GetFunctionConfiguration` iamfit reads, as the AWS CLI prints them.
fn function_configuration_json(
    out: &aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationOutput,
    name: &str,
) -> Value {
    let mut o = serde_json::Map::new();
    let mut put = |key: &str, value: Value| {
        if !value.is_null() {
            o.insert(key.to_string(), value);
        }
    };
    put("FunctionName", json!(out.function_name().unwrap_or(name)));
    put("FunctionArn", json!(out.function_arn().unwrap_or_default()));
    put("Runtime", json!(out.runtime().map(|r| r.as_str())));
    put("Role", json!(out.role().unwrap_or_default()));
    put("Handler", json!(out.handler()));
    if let Some(vars) = out.environment().and_then(|e| e.variables()) {
        put("Environment", json!({"Variables": vars}));
    }
    if let Some(v) = out.vpc_config() {
        put(
            "VpcConfig",
            json!({"SubnetIds": v.subnet_ids(), "SecurityGroupIds": v.security_group_ids(), "VpcId": v.vpc_id()}),
        );
    }
    if let Some(d) = out.dead_letter_config() {
        put("DeadLetterConfig", json!({"TargetArn": d.target_arn()}));
    }
    put("KMSKeyArn", json!(out.kms_key_arn()));
    if let Some(t) = out.tracing_config() {
        put("TracingConfig", json!({"Mode": t.mode().map(|m| m.as_str())}));
    }
    let layers: Vec<Value> = out.layers().iter().map(|l| json!({"Arn": l.arn()})).collect();
    put("Layers", json!(layers));
    let fs: Vec<Value> = out
        .file_system_configs()
        .iter()
        .map(|f| json!({"Arn": f.arn(), "LocalMountPath": f.local_mount_path()}))
        .collect();
    put("FileSystemConfigs", json!(fs));
    put("PackageType", json!(out.package_type().map(|p| p.as_str())));
    if let Some(s) = out.snap_start() {
        put("SnapStart", json!({"ApplyOn": s.apply_on().map(|a| a.as_str())}));
    }
    if let Some(l) = out.logging_config() {
        put("LoggingConfig", json!({"LogGroup": l.log_group()}));
    }
    Value::Object(o)
}

/// Epoch seconds, as AWS CLI v1 prints times (the reader takes both CLI formats).
fn epoch(t: Option<&aws_sdk_lambda::primitives::DateTime>) -> Value {
    t.and_then(|t| serde_json::Number::from_f64(t.as_secs_f64())).map_or(Value::Null, Value::Number)
}

/// A note for a read that the caller may not make or that found nothing, else the error.
fn note_or_error(e: LiveError, what: &str, function: &str) -> Result<String, LiveError> {
    match e {
        LiveError::AccessDenied { call, permission, .. } => Ok(format!(
            "cannot read the {what} of {function}: access denied ({call}; the caller lacks {permission}): what they need from the role is not derived"
        )),
        LiveError::NotFound { .. } => {
            Ok(format!("the {what} of {function} were not found: what they need from the role is not derived"))
        }
        other => Err(other),
    }
}

/// `ListEventSourceMappings` for a function (every page), through the snapshot reader; `Ok(Err(note))`
/// when the read is refused.
async fn event_source_mappings(
    lambda: &aws_sdk_lambda::Client,
    function: &str,
) -> Result<Result<Vec<iamfit_core::account::EventSourceMapping>, String>, LiveError> {
    let listed = lambda
        .list_event_source_mappings()
        .function_name(function)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await;
    let items = match listed {
        Ok(items) => items,
        Err(e) => {
            let e = fail(
                e,
                "lambda:ListEventSourceMappings",
                "lambda:ListEventSourceMappings",
                "function",
                function,
            );
            return note_or_error(e, "event source mappings", function).map(Err);
        }
    };
    let list: Vec<Value> = items
        .iter()
        .map(|m| {
            let access: Vec<Value> = m
                .source_access_configurations()
                .iter()
                .map(|a| json!({"Type": a.r#type().map(|t| t.as_str()), "URI": a.uri()}))
                .collect();
            let mut o = json!({
                "UUID": m.uuid(),
                "EventSourceArn": m.event_source_arn(),
                "LastModified": epoch(m.last_modified()),
                "State": m.state(),
                "DestinationConfig": {"OnFailure": {"Destination": m.destination_config().and_then(|d| d.on_failure()).and_then(|f| f.destination())}},
                "Topics": m.topics(),
                "Queues": m.queues(),
                "SourceAccessConfigurations": access,
            });
            if let Some(endpoints) = m.self_managed_event_source().and_then(|s| s.endpoints()) {
                let servers: Vec<&String> = endpoints
                    .iter()
                    .filter(|(k, _)| k.as_str() == "KAFKA_BOOTSTRAP_SERVERS")
                    .flat_map(|(_, v)| v.iter())
                    .collect();
                o["SelfManagedEventSource"] = json!({"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": servers}});
            }
            if let Some(g) = m.amazon_managed_kafka_event_source_config().and_then(|c| c.consumer_group_id()) {
                o["AmazonManagedKafkaEventSourceConfig"] = json!({"ConsumerGroupId": g});
            }
            if let Some(g) = m.self_managed_kafka_event_source_config().and_then(|c| c.consumer_group_id()) {
                o["SelfManagedKafkaEventSourceConfig"] = json!({"ConsumerGroupId": g});
            }
            o
        })
        .collect();
    snapshot::read_event_source_mappings(
        &json!({"EventSourceMappings": list}),
        Path::new("ListEventSourceMappings"),
    )
    .map(Ok)
    .map_err(|e| LiveError::Document(e.to_string()))
}

/// `GetFunctionEventInvokeConfig`: `Ok(Ok(None))` when the function has none (ResourceNotFound),
/// `Ok(Err(note))` when the read is refused.
async fn event_invoke_config(
    lambda: &aws_sdk_lambda::Client,
    function: &str,
) -> Result<Result<Option<iamfit_core::account::EventInvokeConfig>, String>, LiveError> {
    let out = match lambda.get_function_event_invoke_config().function_name(function).send().await {
        Ok(out) => out,
        Err(e) => {
            return match fail(
                e,
                "lambda:GetFunctionEventInvokeConfig",
                "lambda:GetFunctionEventInvokeConfig",
                "asynchronous invocation configuration",
                function,
            ) {
                // "The function doesn't have an event invoke config": none is configured.
                LiveError::NotFound { .. } => Ok(Ok(None)),
                e => note_or_error(e, "asynchronous invocation configuration", function).map(Err),
            };
        }
    };
    let destinations = out.destination_config();
    let value = json!({
        "LastModified": epoch(out.last_modified()),
        "FunctionArn": out.function_arn(),
        "MaximumRetryAttempts": out.maximum_retry_attempts(),
        "MaximumEventAgeInSeconds": out.maximum_event_age_in_seconds(),
        "DestinationConfig": {
            "OnSuccess": {"Destination": destinations.and_then(|d| d.on_success()).and_then(|s| s.destination())},
            "OnFailure": {"Destination": destinations.and_then(|d| d.on_failure()).and_then(|s| s.destination())},
        },
    });
    snapshot::read_event_invoke_config(&value, Path::new("GetFunctionEventInvokeConfig"))
        .map(|c| Ok(Some(c)))
        .map_err(|e| LiveError::Document(e.to_string()))
}

/// Reads a role with its inline policies and the names of its attached policies.
pub async fn role(iam: &aws_sdk_iam::Client, role_arn_or_name: &str) -> Result<Role, LiveError> {
    let name = role_arn_or_name.rsplit('/').next().unwrap_or(role_arn_or_name).to_string();
    let (got, names, attached) = tokio::join!(
        iam.get_role().role_name(&name).send(),
        iam.list_role_policies()
            .role_name(&name)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>(),
        iam.list_attached_role_policies()
            .role_name(&name)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>(),
    );
    let got = got.map_err(|e| fail(e, "iam:GetRole", "iam:GetRole", "role", &name))?;
    let r = got.role().ok_or_else(|| LiveError::NotFound { what: "role", target: name.clone() })?;
    let names = names.map_err(|e| fail(e, "iam:ListRolePolicies", "iam:ListRolePolicies", "role", &name))?;
    let attached = attached.map_err(|e| {
        fail(e, "iam:ListAttachedRolePolicies", "iam:ListAttachedRolePolicies", "role", &name)
    })?;
    let mut inline = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, policy_name) in names.into_iter().enumerate() {
        let iam = iam.clone();
        let role_name = name.clone();
        tasks.spawn(async move {
            let out =
                iam.get_role_policy().role_name(&role_name).policy_name(&policy_name).send().await.map_err(
                    |e| {
                        fail(
                            e,
                            "iam:GetRolePolicy",
                            "iam:GetRolePolicy",
                            "role policy",
                            &format!("{role_name}/{policy_name}"),
                        )
                    },
                )?;
            let doc =
                document(out.policy_document(), &format!("inline policy {policy_name} of role {role_name}"))?;
            Ok::<_, LiveError>((i, InlinePolicy { name: policy_name, document: doc }))
        });
    }
    while let Some(done) = tasks.join_next().await {
        inline.push(done.map_err(|e| LiveError::Setup(format!("internal task failed: {e}")))??);
    }
    inline.sort_by_key(|(i, _)| *i);
    let trust = match r.assume_role_policy_document() {
        Some(text) => Some(document(text, &format!("trust policy of role {name}"))?),
        None => None,
    };
    Ok(Role {
        name: r.role_name().to_string(),
        arn: r.arn().to_string(),
        id: r.role_id().to_string(),
        inline: inline.into_iter().map(|(_, p)| p).collect(),
        attached: attached.iter().filter_map(|a| a.policy_arn().map(str::to_string)).collect(),
        boundary: r.permissions_boundary().and_then(|b| b.permissions_boundary_arn()).map(str::to_string),
        trust,
        tags: r.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect(),
    })
}

/// Reads a user with inline policies, attached policy names, groups and their policies.
pub async fn user(
    iam: &aws_sdk_iam::Client,
    user_arn_or_name: &str,
) -> Result<(User, Vec<Group>), LiveError> {
    let name = user_arn_or_name.rsplit('/').next().unwrap_or(user_arn_or_name).to_string();
    let (got, names, attached, groups) = tokio::join!(
        iam.get_user().user_name(&name).send(),
        iam.list_user_policies()
            .user_name(&name)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>(),
        iam.list_attached_user_policies()
            .user_name(&name)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>(),
        iam.list_groups_for_user()
            .user_name(&name)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>(),
    );
    let got = got.map_err(|e| fail(e, "iam:GetUser", "iam:GetUser", "user", &name))?;
    let u = got.user().ok_or_else(|| LiveError::NotFound { what: "user", target: name.clone() })?;
    let names = names.map_err(|e| fail(e, "iam:ListUserPolicies", "iam:ListUserPolicies", "user", &name))?;
    let attached = attached.map_err(|e| {
        fail(e, "iam:ListAttachedUserPolicies", "iam:ListAttachedUserPolicies", "user", &name)
    })?;
    let groups =
        groups.map_err(|e| fail(e, "iam:ListGroupsForUser", "iam:ListGroupsForUser", "user", &name))?;
    let mut inline = Vec::new();
    for policy_name in names {
        let out =
            iam.get_user_policy().user_name(&name).policy_name(&policy_name).send().await.map_err(|e| {
                fail(
                    e,
                    "iam:GetUserPolicy",
                    "iam:GetUserPolicy",
                    "user policy",
                    &format!("{name}/{policy_name}"),
                )
            })?;
        let doc = document(out.policy_document(), &format!("inline policy {policy_name} of user {name}"))?;
        inline.push(InlinePolicy { name: policy_name, document: doc });
    }
    let mut group_tasks = tokio::task::JoinSet::new();
    for (i, g) in groups.iter().enumerate() {
        let iam = iam.clone();
        let group_name = g.group_name().to_string();
        let arn = g.arn().to_string();
        group_tasks.spawn(async move { group(&iam, &group_name, &arn).await.map(|g| (i, g)) });
    }
    let mut loaded = Vec::new();
    while let Some(done) = group_tasks.join_next().await {
        loaded.push(done.map_err(|e| LiveError::Setup(format!("internal task failed: {e}")))??);
    }
    loaded.sort_by_key(|(i, _)| *i);
    let user = User {
        name: u.user_name().to_string(),
        arn: u.arn().to_string(),
        id: u.user_id().to_string(),
        inline,
        attached: attached.iter().filter_map(|a| a.policy_arn().map(str::to_string)).collect(),
        groups: groups.iter().map(|g| g.group_name().to_string()).collect(),
        boundary: u.permissions_boundary().and_then(|b| b.permissions_boundary_arn()).map(str::to_string),
        tags: u.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect(),
    };
    Ok((user, loaded.into_iter().map(|(_, g)| g).collect()))
}

async fn group(iam: &aws_sdk_iam::Client, name: &str, arn: &str) -> Result<Group, LiveError> {
    let (names, attached) = tokio::join!(
        iam.list_group_policies()
            .group_name(name)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>(),
        iam.list_attached_group_policies()
            .group_name(name)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>(),
    );
    let names =
        names.map_err(|e| fail(e, "iam:ListGroupPolicies", "iam:ListGroupPolicies", "group", name))?;
    let attached = attached.map_err(|e| {
        fail(e, "iam:ListAttachedGroupPolicies", "iam:ListAttachedGroupPolicies", "group", name)
    })?;
    let mut inline = Vec::new();
    for policy_name in names {
        let out =
            iam.get_group_policy().group_name(name).policy_name(&policy_name).send().await.map_err(|e| {
                fail(
                    e,
                    "iam:GetGroupPolicy",
                    "iam:GetGroupPolicy",
                    "group policy",
                    &format!("{name}/{policy_name}"),
                )
            })?;
        let doc = document(out.policy_document(), &format!("inline policy {policy_name} of group {name}"))?;
        inline.push(InlinePolicy { name: policy_name, document: doc });
    }
    Ok(Group {
        name: name.to_string(),
        arn: arn.to_string(),
        inline,
        attached: attached.iter().filter_map(|a| a.policy_arn().map(str::to_string)).collect(),
    })
}

/// Reads managed policies (default versions), concurrently.
pub async fn managed_policies(
    iam: &aws_sdk_iam::Client,
    arns: &BTreeSet<String>,
) -> Result<Vec<ManagedPolicy>, LiveError> {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, arn) in arns.iter().enumerate() {
        let iam = iam.clone();
        let arn = arn.clone();
        tasks.spawn(async move {
            let p = iam
                .get_policy()
                .policy_arn(&arn)
                .send()
                .await
                .map_err(|e| fail(e, "iam:GetPolicy", "iam:GetPolicy", "managed policy", &arn))?;
            let p = p
                .policy()
                .ok_or_else(|| LiveError::NotFound { what: "managed policy", target: arn.clone() })?;
            let version = p.default_version_id().unwrap_or("v1").to_string();
            let v =
                iam.get_policy_version().policy_arn(&arn).version_id(&version).send().await.map_err(|e| {
                    fail(e, "iam:GetPolicyVersion", "iam:GetPolicyVersion", "managed policy", &arn)
                })?;
            let text = v.policy_version().and_then(|v| v.document()).unwrap_or_default();
            let document = document(text, &format!("managed policy {arn} ({version})"))?;
            let name = p
                .policy_name()
                .map(str::to_string)
                .unwrap_or_else(|| arn.rsplit('/').next().unwrap_or(&arn).to_string());
            Ok::<_, LiveError>((i, ManagedPolicy { name, arn, version, document }))
        });
    }
    let mut out = Vec::new();
    while let Some(done) = tasks.join_next().await {
        out.push(done.map_err(|e| LiveError::Setup(format!("internal task failed: {e}")))??);
    }
    out.sort_by_key(|(i, _)| *i);
    Ok(out.into_iter().map(|(_, p)| p).collect())
}

/// Adds a principal (by caller identity) and everything its policies need to `account`.
pub async fn add_identity(
    config: &SdkConfig,
    account: &mut Account,
    profile: &str,
    identity: CallerIdentity,
) -> Result<(), LiveError> {
    let iam = aws_sdk_iam::Client::new(config);
    let principal =
        iamfit_policy::eval::Principal::parse(&identity.arn).map_err(|e| LiveError::Setup(e.to_string()))?;
    match principal.kind {
        iamfit_policy::eval::PrincipalKind::User if account.user(&identity.arn).is_none() => {
            let (user, groups) = user(&iam, &identity.arn).await?;
            account.users.push(user);
            for g in groups {
                if account.group(&g.name).is_none() {
                    account.groups.push(g);
                }
            }
        }
        iamfit_policy::eval::PrincipalKind::AssumedRole => {
            let role_name = principal.name.clone().unwrap_or_default();
            if account.role(&role_name).is_none() {
                account.roles.push(role(&iam, &role_name).await?);
            }
        }
        _ => {}
    }
    account.identities.push((profile.to_string(), identity));
    add_missing_policies(&iam, account).await
}

/// Adds a role (by ARN or name) and its managed policies.
pub async fn add_role(config: &SdkConfig, account: &mut Account, role_arn: &str) -> Result<(), LiveError> {
    let iam = aws_sdk_iam::Client::new(config);
    if account.role(role_arn).is_none() {
        account.roles.push(role(&iam, role_arn).await?);
    }
    add_missing_policies(&iam, account).await
}

/// Adds a function and its execution role.
pub async fn add_function(config: &SdkConfig, account: &mut Account, name: &str) -> Result<(), LiveError> {
    let f = function(config, name).await?;
    let iam = aws_sdk_iam::Client::new(config);
    if account.role(&f.role).is_none() {
        account.roles.push(role(&iam, &f.role).await?);
    }
    account.functions.push(f);
    add_missing_policies(&iam, account).await
}

async fn add_missing_policies(iam: &aws_sdk_iam::Client, account: &mut Account) -> Result<(), LiveError> {
    let mut wanted = BTreeSet::new();
    let attached = account
        .users
        .iter()
        .flat_map(|u| u.attached.iter().chain(u.boundary.iter()))
        .chain(account.groups.iter().flat_map(|g| g.attached.iter()))
        .chain(account.roles.iter().flat_map(|r| r.attached.iter().chain(r.boundary.iter())));
    for arn in attached {
        if account.managed_policy(arn).is_none() {
            wanted.insert(arn.clone());
        }
    }
    if !wanted.is_empty() {
        account.policies.extend(managed_policies(iam, &wanted).await?);
    }
    Ok(())
}

/// Reads the whole account's IAM state with `GetAccountAuthorizationDetails` (all pages), through the
/// same reader as a snapshot's `account.json`, so both paths agree.
pub async fn authorization_details(config: &SdkConfig) -> Result<Account, LiveError> {
    let iam = aws_sdk_iam::Client::new(config);
    let pages = iam
        .get_account_authorization_details()
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| {
            fail(
                e,
                "iam:GetAccountAuthorizationDetails",
                "iam:GetAccountAuthorizationDetails",
                "account",
                "the account",
            )
        })?;
    let inline = |list: &[aws_sdk_iam::types::PolicyDetail]| -> Value {
        list.iter()
            .map(|p| json!({"PolicyName": p.policy_name(), "PolicyDocument": p.policy_document()}))
            .collect()
    };
    let attached = |list: &[aws_sdk_iam::types::AttachedPolicy]| -> Value {
        list.iter().map(|p| json!({"PolicyName": p.policy_name(), "PolicyArn": p.policy_arn()})).collect()
    };
    let tags = |list: &[aws_sdk_iam::types::Tag]| -> Value {
        list.iter().map(|t| json!({"Key": t.key(), "Value": t.value()})).collect()
    };
    let boundary = |b: Option<&aws_sdk_iam::types::AttachedPermissionsBoundary>| -> Value {
        b.and_then(|b| b.permissions_boundary_arn()).map_or(
            Value::Null,
            |arn| json!({"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn}),
        )
    };
    let (mut users, mut groups, mut roles, mut policies) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for page in &pages {
        for u in page.user_detail_list() {
            users.push(json!({"UserName": u.user_name(), "UserId": u.user_id(), "Arn": u.arn(),
                "UserPolicyList": inline(u.user_policy_list()), "GroupList": u.group_list(),
                "AttachedManagedPolicies": attached(u.attached_managed_policies()),
                "PermissionsBoundary": boundary(u.permissions_boundary()), "Tags": tags(u.tags())}));
        }
        for g in page.group_detail_list() {
            groups.push(json!({"GroupName": g.group_name(), "Arn": g.arn(),
                "GroupPolicyList": inline(g.group_policy_list()), "AttachedManagedPolicies": attached(g.attached_managed_policies())}));
        }
        for r in page.role_detail_list() {
            roles.push(json!({"RoleName": r.role_name(), "RoleId": r.role_id(), "Arn": r.arn(),
                "AssumeRolePolicyDocument": r.assume_role_policy_document(),
                "RolePolicyList": inline(r.role_policy_list()), "AttachedManagedPolicies": attached(r.attached_managed_policies()),
                "PermissionsBoundary": boundary(r.permissions_boundary()), "Tags": tags(r.tags())}));
        }
        for p in page.policies() {
            let versions: Vec<Value> = p
                .policy_version_list()
                .iter()
                .map(|v| json!({"Document": v.document(), "VersionId": v.version_id(), "IsDefaultVersion": v.is_default_version()}))
                .collect();
            policies.push(json!({"PolicyName": p.policy_name(), "Arn": p.arn(), "DefaultVersionId": p.default_version_id(), "PolicyVersionList": versions}));
        }
    }
    let details = json!({"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": roles, "Policies": policies});
    let mut account = Account::default();
    iamfit_core::account::snapshot::read_authorization_details(
        &details,
        std::path::Path::new("GetAccountAuthorizationDetails"),
        &mut account,
    )
    .map_err(|e| LiveError::Document(e.to_string()))?;
    Ok(account)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_or_missing_read_of_the_triggers_is_a_note() {
        let denied = LiveError::AccessDenied {
            call: "lambda:ListEventSourceMappings",
            target: "orders".into(),
            permission: "lambda:ListEventSourceMappings",
            detail: "User is not authorized".into(),
        };
        let note = note_or_error(denied, "event source mappings", "orders").unwrap();
        assert!(note.contains("cannot read the event source mappings of orders"), "{note}");
        assert!(note.contains("lambda:ListEventSourceMappings"), "{note}");
        let missing = LiveError::NotFound { what: "function", target: "orders".into() };
        assert!(note_or_error(missing, "event source mappings", "orders").unwrap().contains("not found"));
        // Anything else (throttling, an unreachable endpoint) stays an error.
        let throttled = LiveError::Throttled { call: "lambda:ListEventSourceMappings" };
        assert!(matches!(
            note_or_error(throttled, "event source mappings", "orders"),
            Err(LiveError::Throttled { .. })
        ));
    }

    #[test]
    fn sdk_times_become_epoch_seconds_for_the_reader() {
        let t = aws_sdk_lambda::primitives::DateTime::from_secs(1_790_000_000);
        assert_eq!(epoch(Some(&t)), json!(1_790_000_000.0));
        assert_eq!(epoch(None), Value::Null);
    }
}
