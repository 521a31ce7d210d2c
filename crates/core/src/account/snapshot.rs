//! The snapshot folder (see docs/reference.md): the exact JSON of the AWS CLI's
//! `iam get-account-authorization-details` (`account.json`), `lambda get-function-configuration`
//! (`functions/NAME.json`) and `sts get-caller-identity` (`identities/PROFILE.json`), so a snapshot
//! made by hand with the AWS CLI reads exactly like one written by `iamfit snapshot`.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::function_config::cli_time;
use super::{
    Account, CallerIdentity, EventInvokeConfig, EventSourceMapping, FileSystemMount, Function,
    FunctionConfig, Group, InlinePolicy, ManagedPolicy, PolicyDocument, Role, SourceAccess, User, VpcConfig,
};

/// The file of a function's event source mappings: `functions/NAME.event-source-mappings.json`.
pub const EVENT_SOURCE_MAPPINGS_SUFFIX: &str = ".event-source-mappings.json";
/// The file of a function's asynchronous invocation configuration:
/// `functions/NAME.event-invoke-config.json`.
pub const EVENT_INVOKE_CONFIG_SUFFIX: &str = ".event-invoke-config.json";

/// A snapshot that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The folder or a file cannot be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not valid JSON.
    #[error("{path}:{line}:{column}: invalid JSON: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A file is JSON but not of the expected shape.
    #[error("{path}: {message}")]
    Shape {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the JSON path.
        message: String,
    },
}

pub(crate) fn read_json(path: &Path) -> Result<Value, SnapshotError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| SnapshotError::Io { path: path.to_path_buf(), source })?;
    serde_json::from_str(&text).map_err(|e| SnapshotError::Json {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

struct Reader<'a> {
    path: &'a Path,
}

impl Reader<'_> {
    fn shape(&self, message: String) -> SnapshotError {
        SnapshotError::Shape { path: self.path.to_path_buf(), message }
    }

    fn str(&self, v: &Value, key: &str, at: &str) -> Result<String, SnapshotError> {
        v.get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| self.shape(format!("{at}: missing string {key:?}")))
    }

    fn list<'v>(&self, v: &'v Value, key: &str) -> &'v [Value] {
        v.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
    }

    fn document(&self, v: &Value, at: &str) -> Result<PolicyDocument, SnapshotError> {
        PolicyDocument::from_value(v)
            .map_err(|e| self.shape(format!("{at}: the policy document is not valid: {e}")))
    }

    fn inline(&self, v: &Value, key: &str, at: &str) -> Result<Vec<InlinePolicy>, SnapshotError> {
        self.list(v, key)
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let here = format!("{at}.{key}[{i}]");
                Ok(InlinePolicy {
                    name: self.str(p, "PolicyName", &here)?,
                    document: self.document(
                        p.get("PolicyDocument").unwrap_or(&Value::Null),
                        &format!("{here}.PolicyDocument"),
                    )?,
                })
            })
            .collect()
    }

    fn attached(&self, v: &Value) -> Vec<String> {
        self.list(v, "AttachedManagedPolicies")
            .iter()
            .filter_map(|p| p.get("PolicyArn").and_then(Value::as_str).map(str::to_string))
            .collect()
    }

    fn boundary(&self, v: &Value) -> Option<String> {
        v.get("PermissionsBoundary")
            .and_then(|b| b.get("PermissionsBoundaryArn"))
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    fn tags(&self, v: &Value) -> Vec<(String, String)> {
        self.list(v, "Tags")
            .iter()
            .filter_map(|t| {
                Some((t.get("Key")?.as_str()?.to_string(), t.get("Value")?.as_str()?.to_string()))
            })
            .collect()
    }
}

/// Reads the IAM part: the JSON of `aws iam get-account-authorization-details`.
pub fn read_authorization_details(
    value: &Value,
    path: &Path,
    account: &mut Account,
) -> Result<(), SnapshotError> {
    let r = Reader { path };
    if !value.is_object() || !(value.get("UserDetailList").is_some() || value.get("RoleDetailList").is_some())
    {
        return Err(r.shape("not the output of `aws iam get-account-authorization-details` (no UserDetailList or RoleDetailList)".into()));
    }
    for (i, u) in r.list(value, "UserDetailList").iter().enumerate() {
        let at = format!("UserDetailList[{i}]");
        account.users.push(User {
            name: r.str(u, "UserName", &at)?,
            arn: r.str(u, "Arn", &at)?,
            id: u.get("UserId").and_then(Value::as_str).unwrap_or_default().to_string(),
            inline: r.inline(u, "UserPolicyList", &at)?,
            attached: r.attached(u),
            groups: r.list(u, "GroupList").iter().filter_map(|g| g.as_str().map(str::to_string)).collect(),
            boundary: r.boundary(u),
            tags: r.tags(u),
        });
    }
    for (i, g) in r.list(value, "GroupDetailList").iter().enumerate() {
        let at = format!("GroupDetailList[{i}]");
        account.groups.push(Group {
            name: r.str(g, "GroupName", &at)?,
            arn: r.str(g, "Arn", &at)?,
            inline: r.inline(g, "GroupPolicyList", &at)?,
            attached: r.attached(g),
        });
    }
    for (i, role) in r.list(value, "RoleDetailList").iter().enumerate() {
        let at = format!("RoleDetailList[{i}]");
        let trust = match role.get("AssumeRolePolicyDocument") {
            Some(v) if !v.is_null() => Some(r.document(v, &format!("{at}.AssumeRolePolicyDocument"))?),
            _ => None,
        };
        account.roles.push(Role {
            name: r.str(role, "RoleName", &at)?,
            arn: r.str(role, "Arn", &at)?,
            id: role.get("RoleId").and_then(Value::as_str).unwrap_or_default().to_string(),
            inline: r.inline(role, "RolePolicyList", &at)?,
            attached: r.attached(role),
            boundary: r.boundary(role),
            trust,
            tags: r.tags(role),
        });
    }
    for (i, p) in r.list(value, "Policies").iter().enumerate() {
        let at = format!("Policies[{i}]");
        let arn = r.str(p, "Arn", &at)?;
        // Some sources omit PolicyName: it is the last part of the ARN.
        let name = p
            .get("PolicyName")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| arn.rsplit('/').next().unwrap_or(&arn).to_string());
        let versions = r.list(p, "PolicyVersionList");
        let default_id = p.get("DefaultVersionId").and_then(Value::as_str);
        let default = versions
            .iter()
            .enumerate()
            .find(|(_, v)| v.get("IsDefaultVersion").and_then(Value::as_bool) == Some(true))
            .or_else(|| {
                versions
                    .iter()
                    .enumerate()
                    .find(|(_, v)| v.get("VersionId").and_then(Value::as_str) == default_id)
            });
        let Some((vi, version)) = default else {
            return Err(r.shape(format!("{at} ({name}): no default version in PolicyVersionList")));
        };
        account.policies.push(ManagedPolicy {
            name,
            arn,
            version: version.get("VersionId").and_then(Value::as_str).unwrap_or("").to_string(),
            document: r.document(
                version.get("Document").unwrap_or(&Value::Null),
                &format!("{at}.PolicyVersionList[{vi}].Document"),
            )?,
        });
    }
    Ok(())
}

/// Reads `aws lambda get-function-configuration` output.
pub fn read_function(value: &Value, path: &Path) -> Result<Function, SnapshotError> {
    let r = Reader { path };
    let environment = value
        .get("Environment")
        .and_then(|e| e.get("Variables"))
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
        .unwrap_or_default();
    Ok(Function {
        name: r.str(value, "FunctionName", "function")?,
        arn: r.str(value, "FunctionArn", "function")?,
        role: r.str(value, "Role", "function")?,
        runtime: value.get("Runtime").and_then(Value::as_str).map(str::to_string),
        handler: value.get("Handler").and_then(Value::as_str).map(str::to_string),
        environment,
        config: read_function_config(value),
    })
}

/// A non-empty string at a JSON path.
fn text_at(v: &Value, path: &[&str]) -> Option<String> {
    let mut at = v;
    for key in path {
        at = at.get(*key)?;
    }
    at.as_str().filter(|s| !s.is_empty()).map(str::to_string)
}

/// The strings of a list at `key` (non-strings skipped).
fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// The configuration fields of `get-function-configuration` the Lambda service uses the role for
/// (`PackageType`, `LoggingConfig`, `TracingConfig`, `VpcConfig`, `DeadLetterConfig`, `KMSKeyArn`,
/// `FileSystemConfigs`, `SnapStart`, `Layers[].Arn`); other sources (templates) build that shape.
pub fn read_function_config(value: &Value) -> FunctionConfig {
    let vpc = value.get("VpcConfig").map(|v| VpcConfig {
        subnet_ids: strings(v, "SubnetIds"),
        security_group_ids: strings(v, "SecurityGroupIds"),
        vpc_id: text_at(v, &["VpcId"]),
    });
    let file_systems = value
        .get("FileSystemConfigs")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|f| {
                    Some(FileSystemMount {
                        access_point_arn: text_at(f, &["Arn"])?,
                        local_mount_path: text_at(f, &["LocalMountPath"]).unwrap_or_default(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let layers = value
        .get("Layers")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(|x| text_at(x, &["Arn"])).collect())
        .unwrap_or_default();
    FunctionConfig {
        package_type: text_at(value, &["PackageType"]),
        log_group: text_at(value, &["LoggingConfig", "LogGroup"]),
        tracing_mode: text_at(value, &["TracingConfig", "Mode"]),
        vpc: vpc.filter(|v| !v.subnet_ids.is_empty()),
        dead_letter_target: text_at(value, &["DeadLetterConfig", "TargetArn"]),
        kms_key_arn: text_at(value, &["KMSKeyArn"]),
        file_systems,
        snap_start: text_at(value, &["SnapStart", "ApplyOn"]),
        layers,
        ..FunctionConfig::default()
    }
}

/// A time the AWS CLI printed (epoch seconds or ISO 8601), as RFC 3339 UTC; a value that is neither
/// is an error naming the key.
fn time_at(r: &Reader<'_>, v: &Value, key: &str, at: &str) -> Result<Option<String>, SnapshotError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(t) => cli_time(t).map(Some).ok_or_else(|| {
            r.shape(format!(
                "{at}.{key}: {t} is not a time (expected epoch seconds, as AWS CLI v1 prints, or ISO 8601 text, as v2 prints)"
            ))
        }),
    }
}

/// Reads `aws lambda list-event-source-mappings --function-name NAME` output.
pub fn read_event_source_mappings(
    value: &Value,
    path: &Path,
) -> Result<Vec<EventSourceMapping>, SnapshotError> {
    let r = Reader { path };
    let Some(list) = value.get("EventSourceMappings").and_then(Value::as_array) else {
        return Err(r.shape(
            "not the output of `aws lambda list-event-source-mappings` (no EventSourceMappings list)".into(),
        ));
    };
    list.iter()
        .enumerate()
        .map(|(i, m)| {
            let at = format!("EventSourceMappings[{i}]");
            let source_access = m
                .get("SourceAccessConfigurations")
                .and_then(Value::as_array)
                .map(|l| {
                    l.iter()
                        .filter_map(|a| {
                            Some(SourceAccess { kind: text_at(a, &["Type"])?, uri: text_at(a, &["URI"])? })
                        })
                        .collect()
                })
                .unwrap_or_default();
            let kafka_bootstrap_servers = m
                .get("SelfManagedEventSource")
                .and_then(|s| s.get("Endpoints"))
                .map(|e| strings(e, "KAFKA_BOOTSTRAP_SERVERS"))
                .unwrap_or_default();
            Ok(EventSourceMapping {
                uuid: r.str(m, "UUID", &at)?,
                event_source_arn: text_at(m, &["EventSourceArn"]),
                state: text_at(m, &["State"]),
                last_modified: time_at(&r, m, "LastModified", &at)?,
                on_failure: text_at(m, &["DestinationConfig", "OnFailure", "Destination"]),
                topics: strings(m, "Topics"),
                queues: strings(m, "Queues"),
                source_access,
                kafka_bootstrap_servers,
                consumer_group_id: text_at(m, &["AmazonManagedKafkaEventSourceConfig", "ConsumerGroupId"])
                    .or_else(|| text_at(m, &["SelfManagedKafkaEventSourceConfig", "ConsumerGroupId"])),
            })
        })
        .collect()
}

/// Reads `aws lambda get-function-event-invoke-config --function-name NAME` output.
pub fn read_event_invoke_config(value: &Value, path: &Path) -> Result<EventInvokeConfig, SnapshotError> {
    let r = Reader { path };
    if !value.is_object() || value.get("EventSourceMappings").is_some() {
        return Err(r.shape("not the output of `aws lambda get-function-event-invoke-config`".into()));
    }
    Ok(EventInvokeConfig {
        last_modified: time_at(&r, value, "LastModified", "config")?,
        on_success: text_at(value, &["DestinationConfig", "OnSuccess", "Destination"]),
        on_failure: text_at(value, &["DestinationConfig", "OnFailure", "Destination"]),
        maximum_retry_attempts: value.get("MaximumRetryAttempts").and_then(Value::as_i64),
        maximum_event_age_in_seconds: value.get("MaximumEventAgeInSeconds").and_then(Value::as_i64),
    })
}

/// Reads `aws sts get-caller-identity` output.
pub fn read_identity(value: &Value, path: &Path) -> Result<CallerIdentity, SnapshotError> {
    let r = Reader { path };
    Ok(CallerIdentity {
        account: r.str(value, "Account", "identity")?,
        arn: r.str(value, "Arn", "identity")?,
        user_id: value.get("UserId").and_then(Value::as_str).unwrap_or_default().to_string(),
    })
}

pub(crate) fn json_files(dir: &Path) -> Result<Vec<PathBuf>, SnapshotError> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let entries =
        std::fs::read_dir(dir).map_err(|source| SnapshotError::Io { path: dir.to_path_buf(), source })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    Ok(files)
}

/// Whether a file in `functions/` is a companion of a function file (its event source mappings or
/// its asynchronous invocation configuration), not a function configuration.
fn is_companion(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    name.ends_with(EVENT_SOURCE_MAPPINGS_SUFFIX) || name.ends_with(EVENT_INVOKE_CONFIG_SUFFIX)
}

/// The companion file `functions/BASE{suffix}` of a function, by the function's name first, then by
/// the stem of its file (a snapshot made by hand may name the files either way).
fn companion(dir: &Path, function: &Function, file: &Path, suffix: &str) -> Option<PathBuf> {
    let stem = file.file_stem().map(|s| s.to_string_lossy().to_string());
    [Some(function.name.clone()), stem]
        .into_iter()
        .flatten()
        .map(|base| dir.join(format!("{base}{suffix}")))
        .find(|p| p.is_file())
}

/// A function with its companion files: the event source mappings and the asynchronous invocation
/// configuration, when present.
fn read_function_with_companions(dir: &Path, path: &Path) -> Result<Function, SnapshotError> {
    let mut function = read_function(&read_json(path)?, path)?;
    if let Some(p) = companion(dir, &function, path, EVENT_SOURCE_MAPPINGS_SUFFIX) {
        function.config.event_source_mappings = Some(read_event_source_mappings(&read_json(&p)?, &p)?);
    } else {
        function.config.notes.push(format!(
            "the snapshot has no functions/{}{EVENT_SOURCE_MAPPINGS_SUFFIX}: the function's event source mappings are unknown, and what its triggers need from the role is not derived",
            function.name
        ));
    }
    // `get-function-event-invoke-config` fails when the function has none: no file means none.
    function.config.event_invoke_read = true;
    if let Some(p) = companion(dir, &function, path, EVENT_INVOKE_CONFIG_SUFFIX) {
        function.config.event_invoke = Some(read_event_invoke_config(&read_json(&p)?, &p)?);
    }
    Ok(function)
}

/// Loads a snapshot folder.
pub fn load(dir: &Path) -> Result<Account, SnapshotError> {
    if !dir.is_dir() {
        return Err(SnapshotError::Io {
            path: dir.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such snapshot folder"),
        });
    }
    let mut account = Account::default();
    let details = dir.join("account.json");
    read_authorization_details(&read_json(&details)?, &details, &mut account)?;
    let functions = dir.join("functions");
    for path in json_files(&functions)?.iter().filter(|p| !is_companion(p)) {
        account.functions.push(read_function_with_companions(&functions, path)?);
    }
    for path in json_files(&dir.join("identities"))? {
        let profile = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
        account.identities.push((profile, read_identity(&read_json(&path)?, &path)?));
    }
    account.resource_policies = super::resources::read(dir)?;
    Ok(account)
}

fn inline_json(list: &[InlinePolicy]) -> Vec<Value> {
    list.iter().map(|p| json!({"PolicyName": p.name, "PolicyDocument": p.document.json})).collect()
}

fn attached_json(account: &Account, arns: &[String]) -> Vec<Value> {
    arns.iter()
        .map(|arn| {
            let name = account
                .managed_policy(arn)
                .map(|m| m.name.clone())
                .unwrap_or_else(|| arn.rsplit('/').next().unwrap_or(arn).to_string());
            json!({"PolicyName": name, "PolicyArn": arn})
        })
        .collect()
}

fn arn_path(arn: &str, kind: &str) -> String {
    // arn:aws:iam::ACCT:role/path/name -> /path/
    let resource = arn.splitn(6, ':').nth(5).unwrap_or("");
    let rest = resource.strip_prefix(kind).and_then(|r| r.strip_prefix('/')).unwrap_or("");
    match rest.rsplit_once('/') {
        Some((path, _)) => format!("/{path}/"),
        None => "/".to_string(),
    }
}

fn tags_json(tags: &[(String, String)]) -> Vec<Value> {
    tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect()
}

fn boundary_json(obj: &mut Map<String, Value>, boundary: &Option<String>) {
    if let Some(arn) = boundary {
        obj.insert(
            "PermissionsBoundary".into(),
            json!({"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn}),
        );
    }
}

/// The account's IAM part as `aws iam get-account-authorization-details` prints it.
pub fn authorization_details_json(account: &Account) -> Value {
    let users: Vec<Value> = account
        .users
        .iter()
        .map(|u| {
            let mut o = Map::new();
            o.insert("Path".into(), json!(arn_path(&u.arn, "user")));
            o.insert("UserName".into(), json!(u.name));
            o.insert("UserId".into(), json!(u.id));
            o.insert("Arn".into(), json!(u.arn));
            o.insert("UserPolicyList".into(), json!(inline_json(&u.inline)));
            o.insert("GroupList".into(), json!(u.groups));
            o.insert("AttachedManagedPolicies".into(), json!(attached_json(account, &u.attached)));
            boundary_json(&mut o, &u.boundary);
            o.insert("Tags".into(), json!(tags_json(&u.tags)));
            Value::Object(o)
        })
        .collect();
    let groups: Vec<Value> = account
        .groups
        .iter()
        .map(|g| {
            json!({"Path": arn_path(&g.arn, "group"), "GroupName": g.name, "Arn": g.arn,
                   "GroupPolicyList": inline_json(&g.inline), "AttachedManagedPolicies": attached_json(account, &g.attached)})
        })
        .collect();
    let roles: Vec<Value> = account
        .roles
        .iter()
        .map(|r| {
            let mut o = Map::new();
            o.insert("Path".into(), json!(arn_path(&r.arn, "role")));
            o.insert("RoleName".into(), json!(r.name));
            o.insert("RoleId".into(), json!(r.id));
            o.insert("Arn".into(), json!(r.arn));
            o.insert(
                "AssumeRolePolicyDocument".into(),
                r.trust.as_ref().map_or(Value::Null, |t| t.json.clone()),
            );
            o.insert("InstanceProfileList".into(), json!([]));
            o.insert("RolePolicyList".into(), json!(inline_json(&r.inline)));
            o.insert("AttachedManagedPolicies".into(), json!(attached_json(account, &r.attached)));
            boundary_json(&mut o, &r.boundary);
            o.insert("Tags".into(), json!(tags_json(&r.tags)));
            Value::Object(o)
        })
        .collect();
    let policies: Vec<Value> = account
        .policies
        .iter()
        .map(|p| {
            json!({"PolicyName": p.name, "Arn": p.arn, "Path": arn_path(&p.arn, "policy"), "DefaultVersionId": p.version,
                   "IsAttachable": true,
                   "PolicyVersionList": [{"Document": p.document.json, "VersionId": p.version, "IsDefaultVersion": true}]})
        })
        .collect();
    json!({"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": roles, "Policies": policies, "IsTruncated": false})
}

/// A function as `aws lambda get-function-configuration` prints it (the fields iamfit reads).
pub fn function_json(f: &Function) -> Value {
    let mut o = Map::new();
    o.insert("FunctionName".into(), json!(f.name));
    o.insert("FunctionArn".into(), json!(f.arn));
    if let Some(r) = &f.runtime {
        o.insert("Runtime".into(), json!(r));
    }
    o.insert("Role".into(), json!(f.role));
    if let Some(h) = &f.handler {
        o.insert("Handler".into(), json!(h));
    }
    let c = &f.config;
    if let Some(v) = &c.vpc {
        o.insert(
            "VpcConfig".into(),
            json!({"SubnetIds": v.subnet_ids, "SecurityGroupIds": v.security_group_ids, "VpcId": v.vpc_id.clone().unwrap_or_default()}),
        );
    }
    if let Some(t) = &c.dead_letter_target {
        o.insert("DeadLetterConfig".into(), json!({"TargetArn": t}));
    }
    if !f.environment.is_empty() {
        let vars: Map<String, Value> = f.environment.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        o.insert("Environment".into(), json!({"Variables": vars}));
    }
    if let Some(k) = &c.kms_key_arn {
        o.insert("KMSKeyArn".into(), json!(k));
    }
    if let Some(m) = &c.tracing_mode {
        o.insert("TracingConfig".into(), json!({"Mode": m}));
    }
    if !c.layers.is_empty() {
        let layers: Vec<Value> = c.layers.iter().map(|a| json!({"Arn": a})).collect();
        o.insert("Layers".into(), json!(layers));
    }
    if !c.file_systems.is_empty() {
        let fs: Vec<Value> = c
            .file_systems
            .iter()
            .map(|m| json!({"Arn": m.access_point_arn, "LocalMountPath": m.local_mount_path}))
            .collect();
        o.insert("FileSystemConfigs".into(), json!(fs));
    }
    if let Some(p) = &c.package_type {
        o.insert("PackageType".into(), json!(p));
    }
    if let Some(a) = &c.snap_start {
        o.insert("SnapStart".into(), json!({"ApplyOn": a}));
    }
    if let Some(g) = &c.log_group {
        o.insert("LoggingConfig".into(), json!({"LogGroup": g}));
    }
    Value::Object(o)
}

/// Event source mappings as `aws lambda list-event-source-mappings` prints them (AWS CLI v2 times).
pub fn event_source_mappings_json(mappings: &[EventSourceMapping]) -> Value {
    let list: Vec<Value> = mappings
        .iter()
        .map(|m| {
            let mut o = Map::new();
            o.insert("UUID".into(), json!(m.uuid));
            if let Some(a) = &m.event_source_arn {
                o.insert("EventSourceArn".into(), json!(a));
            }
            if let Some(t) = &m.last_modified {
                o.insert("LastModified".into(), json!(t));
            }
            if let Some(s) = &m.state {
                o.insert("State".into(), json!(s));
            }
            if let Some(d) = &m.on_failure {
                o.insert("DestinationConfig".into(), json!({"OnFailure": {"Destination": d}}));
            }
            if !m.topics.is_empty() {
                o.insert("Topics".into(), json!(m.topics));
            }
            if !m.queues.is_empty() {
                o.insert("Queues".into(), json!(m.queues));
            }
            if !m.source_access.is_empty() {
                let list: Vec<Value> =
                    m.source_access.iter().map(|a| json!({"Type": a.kind, "URI": a.uri})).collect();
                o.insert("SourceAccessConfigurations".into(), json!(list));
            }
            if !m.kafka_bootstrap_servers.is_empty() {
                o.insert(
                    "SelfManagedEventSource".into(),
                    json!({"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": m.kafka_bootstrap_servers}}),
                );
            }
            if let Some(g) = &m.consumer_group_id {
                let key = if m.is_self_managed_kafka() {
                    "SelfManagedKafkaEventSourceConfig"
                } else {
                    "AmazonManagedKafkaEventSourceConfig"
                };
                o.insert(key.into(), json!({"ConsumerGroupId": g}));
            }
            Value::Object(o)
        })
        .collect();
    json!({"EventSourceMappings": list})
}

/// An asynchronous invocation configuration as `aws lambda get-function-event-invoke-config` prints it.
pub fn event_invoke_config_json(f: &Function, c: &EventInvokeConfig) -> Value {
    let mut o = Map::new();
    if let Some(t) = &c.last_modified {
        o.insert("LastModified".into(), json!(t));
    }
    o.insert("FunctionArn".into(), json!(format!("{}:$LATEST", f.arn)));
    if let Some(n) = c.maximum_retry_attempts {
        o.insert("MaximumRetryAttempts".into(), json!(n));
    }
    if let Some(n) = c.maximum_event_age_in_seconds {
        o.insert("MaximumEventAgeInSeconds".into(), json!(n));
    }
    let mut dest = Map::new();
    if let Some(d) = &c.on_success {
        dest.insert("OnSuccess".into(), json!({"Destination": d}));
    }
    if let Some(d) = &c.on_failure {
        dest.insert("OnFailure".into(), json!({"Destination": d}));
    }
    o.insert("DestinationConfig".into(), Value::Object(dest));
    Value::Object(o)
}

/// Writes an account as a snapshot folder (creating it). Existing files of the same names are replaced.
pub fn write(dir: &Path, account: &Account) -> Result<(), SnapshotError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SnapshotError::Io { path, source }
    };
    std::fs::create_dir_all(dir.join("functions")).map_err(io(dir))?;
    std::fs::create_dir_all(dir.join("identities")).map_err(io(dir))?;
    let put = |path: PathBuf, value: &Value| -> Result<(), SnapshotError> {
        let text = serde_json::to_string_pretty(value).unwrap_or_default() + "\n";
        std::fs::write(&path, text).map_err(io(&path))
    };
    put(dir.join("account.json"), &authorization_details_json(account))?;
    for f in &account.functions {
        let dir = dir.join("functions");
        put(dir.join(format!("{}.json", f.name)), &function_json(f))?;
        if let Some(mappings) = &f.config.event_source_mappings {
            put(
                dir.join(format!("{}{EVENT_SOURCE_MAPPINGS_SUFFIX}", f.name)),
                &event_source_mappings_json(mappings),
            )?;
        }
        if let Some(invoke) = &f.config.event_invoke {
            put(
                dir.join(format!("{}{EVENT_INVOKE_CONFIG_SUFFIX}", f.name)),
                &event_invoke_config_json(f, invoke),
            )?;
        }
    }
    for (profile, id) in &account.identities {
        put(
            dir.join("identities").join(format!("{profile}.json")),
            &json!({"UserId": id.user_id, "Account": id.account, "Arn": id.arn}),
        )?;
    }
    super::resources::write(dir, &account.resource_policies)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_paths() {
        assert_eq!(arn_path("arn:aws:iam::111122223333:role/service-role/orders", "role"), "/service-role/");
        assert_eq!(arn_path("arn:aws:iam::111122223333:user/dev", "user"), "/");
        assert_eq!(
            arn_path("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", "policy"),
            "/service-role/"
        );
    }

    #[test]
    fn documents_in_both_encodings() {
        let details = json!({
            "UserDetailList": [],
            "RoleDetailList": [{
                "RoleName": "r", "Arn": "arn:aws:iam::111122223333:role/r", "RoleId": "AROAEXAMPLE",
                "AssumeRolePolicyDocument": "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22lambda.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D",
                "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}],
                "AttachedManagedPolicies": [{"PolicyName": "m", "PolicyArn": "arn:aws:iam::111122223333:policy/m"}]
            }],
            "Policies": [{"Arn": "arn:aws:iam::111122223333:policy/m", "DefaultVersionId": "v2", "PolicyVersionList": [
                {"VersionId": "v1", "IsDefaultVersion": false, "Document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}},
                {"VersionId": "v2", "IsDefaultVersion": true, "Document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]}}
            ]}]
        });
        let mut account = Account::default();
        read_authorization_details(&details, Path::new("account.json"), &mut account).unwrap();
        let role = &account.roles[0];
        assert!(role.trust.is_some());
        assert_eq!(account.policies[0].name, "m", "the name comes from the ARN when PolicyName is missing");
        assert_eq!(account.policies[0].version, "v2");
        assert_eq!(
            account.policies[0].document.policy.statements[0].action.patterns[0].raw,
            "sqs:SendMessage"
        );
    }

    #[test]
    fn bad_documents_name_where_they_are() {
        let details = json!({"RoleDetailList": [{"RoleName": "r", "Arn": "arn:aws:iam::111122223333:role/r",
            "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": {"Statement": [{"Effect": "Permit", "Action": "s3:*", "Resource": "*"}]}}]}]});
        let err = read_authorization_details(&details, Path::new("account.json"), &mut Account::default())
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("RoleDetailList[0].RolePolicyList[0].PolicyDocument"), "{text}");
        assert!(text.contains("Effect"), "{text}");
    }
}
