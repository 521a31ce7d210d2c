//! From a CloudTrail record to the IAM actions (and resources) the call needed.
//!
//! # Actions
//!
//! The event source names the service (`s3.amazonaws.com`); [`service_prefix`] turns it into the IAM
//! prefix: a source that is itself an IAM prefix of the catalog maps to itself, the others come from the
//! generated table `src/data/events.tsv` (Boto3 client names of AWS's Service Reference, such as
//! `stepfunctions` -> `states`, and a reviewed hand list such as `monitoring` -> `cloudwatch`,
//! `email` -> `ses`, `tagging` -> `tag`). The event name is normalised ([`normalize_event_name`]: Lambda's
//! `GetFunction20150331v2`, CloudFront's `CreateDistribution2020_05_31`) and looked up in the Service
//! Reference (`Catalog::operation`), which lists the actions AWS authorizes for the operation:
//!
//! 1. the authorized action of the event's own service whose name is the operation's name, alone (the
//!    Service Reference lists every action an operation *may* need, such as `s3:GetObjectLegalHold` for
//!    `GetObject`; the others depend on parameters a CloudTrail record mostly does not show);
//! 2. else every authorized action of the event's own service without a context (`CompleteMultipartUpload`
//!    -> `s3:PutObject`, `Invoke` -> `lambda:InvokeFunction`, `ReEncrypt` -> `kms:ReEncryptFrom` +
//!    `kms:ReEncryptTo`), else every authorized action without a context;
//! 3. `iam:PassRole` on the role ARNs of the request when the operation lists it (`CreateFunction`);
//! 4. operations the Service Reference does not list, when the catalog has an action of that name;
//! 5. reviewed exceptions: S3's renamed operations (`ListObjectsV2`/`ListObjects`/`HeadBucket` ->
//!    `s3:ListBucket`, `HeadObject` -> `s3:GetObject`, a `versionId` -> `s3:GetObjectVersion`/
//!    `s3:DeleteObjectVersion`, `CopyObject` -> `s3:PutObject` on the target and `s3:GetObject` on the
//!    source), DynamoDB transactions (only the item actions the request uses).
//!
//! Permissionless operations (`sts:GetCallerIdentity`) give [`Mapping::Permissionless`].
//!
//! # Who made the call
//!
//! CloudTrail writes `userIdentity.invokedBy` when an AWS service made the request for the principal
//! (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html>).
//! Such calls are mapped like the principal's own: with forward access sessions the downstream call is
//! authorized with the principal's own permissions
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/access_forward_access_sessions.html>; e.g. KMS
//! `Decrypt` with `invokedBy: s3.amazonaws.com` for an SSE-KMS object needs `kms:Decrypt` in the caller's
//! policy, `kms:ViaService` exists to scope it), and CloudFormation without a service role calls with
//! the caller's credentials. Records that are not calls with the principal's permissions are
//! [`Mapping::Unmapped`]: `eventType` `AwsServiceEvent` (the service acted on its own) and
//! `AwsConsoleSignIn`, and `userIdentity.type` `AWSService` (a service principal with its own
//! permissions).
//!
//! # Resources
//!
//! In this order, the first that gives ARNs wins (an action without resource types gives
//! [`ResourceKnowledge::NotScoped`]; nothing known gives [`ResourceKnowledge::Unknown`], never `*`):
//!
//! 1. service rules (S3 bucket + key, DynamoDB index and batch tables, SQS queue URL, KMS key/alias,
//!    Secrets Manager secret, SSM parameter names, Lambda function name/ARN/qualifier, EventBridge buses);
//! 2. the record's `resources[]`, keeping the ARNs that match one of the action's resource types;
//! 3. request parameters that are ARNs of one of the action's resource types (`topicArn`, `roleArn`);
//! 4. the catalog's ARN formats filled from request parameters: the generated hints (from iamlive's
//!    resource mappings), service aliases (`s3` `ObjectName` = `key`), or a parameter named like the
//!    variable (`${TableName}` = `tableName`). When several resource types fill, the less specific ARNs
//!    (prefixes of others, such as a table of its index) are dropped.
//!
//! Partition from the region (`cn-*` -> `aws-cn`, `us-gov-*` -> `aws-us-gov`), account from
//! `recipientAccountId`, else `userIdentity.accountId`.
//!
//! A Secrets Manager secret named without its ARN becomes `arn:...:secret:NAME-??????`: a secret's ARN
//! ends in `-` and six random characters that the record does not show, and `??????` (exactly six
//! characters) is the form AWS recommends in policies. An IAM role, user or group named without its ARN
//! is assumed to have no path.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use serde_json::Value;

use super::event::Event;
use iamfit_catalog::{ActionRef, AuthorizedAction, Catalog, Operation};

/// The generated table (see `tools/gen_event_map.py`).
const TABLE_TEXT: &str = include_str!("data/events.tsv");

/// What is known of the resources an action was used on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceKnowledge {
    /// `resources` lists them.
    Known,
    /// The action supports no resource types: policies must grant it on `"*"`.
    NotScoped,
    /// The record does not say.
    Unknown(&'static str),
}

/// One action a call needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needed {
    /// The real-cased action (`s3:GetObject`), always an action of the catalog.
    pub action: String,
    /// The resource ARNs (empty unless `resource` is [`ResourceKnowledge::Known`]).
    pub resources: Vec<String>,
    /// What is known of the resources.
    pub resource: ResourceKnowledge,
}

/// The result of [`map_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapping {
    /// The actions the call needed (all of them).
    Actions(Vec<Needed>),
    /// The call needs no permission (`sts:GetCallerIdentity`).
    Permissionless,
    /// No action could be determined.
    Unmapped {
        /// Why.
        reason: &'static str,
    },
}

/// Whether CloudTrail records the use of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// Management events: logged by every trail by default.
    Logged,
    /// Data events: logged only when the trail selects them (S3 objects, DynamoDB items, Lambda
    /// `Invoke`, SNS `Publish`, SQS messages, ...).
    DataEvent,
    /// No API operation authorizes the action (a permission-only action), or CloudTrail does not log it.
    NotLogged,
}

// ---------------------------------------------------------------------------------------------------
// The generated table

#[derive(Debug, Clone, Copy)]
enum Spec {
    /// `${var}` is the parameter at `path`; `name_only` keeps the name part of an ARN or URL.
    Var { var: &'static str, path: &'static str, name_only: bool },
    /// The parameter at `path` is an ARN of resource type `rtype` (any of the action's types when None).
    Arn { rtype: Option<&'static str>, path: &'static str },
}

#[derive(Debug, Default)]
struct Table {
    sources: HashMap<&'static str, &'static str>,
    permissionless: HashSet<String>,
    aliases: HashMap<String, Vec<Spec>>,
    /// `prefix\toperation` (lower case) -> (action, specs).
    hints: HashMap<String, Vec<(&'static str, Vec<Spec>)>>,
}

fn parse_specs(raw: &'static str) -> Vec<Spec> {
    raw.split(';')
        .filter(|s| !s.is_empty())
        .filter_map(|s| {
            let (lhs, rhs) = s.split_once('=')?;
            if let Some(rtype) = lhs.strip_prefix('@') {
                Some(Spec::Arn { rtype: (!rtype.is_empty()).then_some(rtype), path: rhs })
            } else {
                let (path, name_only) = match rhs.strip_suffix('~') {
                    Some(p) => (p, true),
                    None => (rhs, false),
                };
                Some(Spec::Var { var: lhs, path, name_only })
            }
        })
        .collect()
}

fn key(prefix: &str, op: &str) -> String {
    let mut k = String::with_capacity(prefix.len() + op.len() + 1);
    k.push_str(prefix);
    k.push('\t');
    k.push_str(op);
    k.make_ascii_lowercase();
    k
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| parse_table(TABLE_TEXT))
}

fn parse_table(text: &'static str) -> Table {
    let mut t = Table::default();
    for line in text.lines().skip(1) {
        let f: Vec<&'static str> = line.split('\t').collect();
        match f.as_slice() {
            ["S", source, prefix, ..] => {
                t.sources.insert(source, prefix);
            }
            ["N", prefix, op, ..] => {
                t.permissionless.insert(key(prefix, op));
            }
            ["A", prefix, spec] => {
                t.aliases.entry(prefix.to_ascii_lowercase()).or_default().extend(parse_specs(spec));
            }
            ["H", prefix, op, action, specs] => {
                t.hints.entry(key(prefix, op)).or_default().push((action, parse_specs(specs)));
            }
            _ => {}
        }
    }
    t
}

/// The number of lines of each kind of the embedded table (`S`, `N`, `A`, `H`): for tests and reports.
pub fn table_counts() -> [usize; 4] {
    let t = table();
    [
        t.sources.len(),
        t.permissionless.len(),
        t.aliases.values().map(Vec::len).sum(),
        t.hints.values().map(Vec::len).sum(),
    ]
}

// ---------------------------------------------------------------------------------------------------
// Names

/// The IAM service prefix of a CloudTrail `eventSource` (`monitoring.amazonaws.com` -> `cloudwatch`);
/// `None` for an unknown source.
pub fn service_prefix(event_source: &str) -> Option<&'static str> {
    let s = event_source.trim();
    let s = s.strip_suffix(".amazonaws.com.cn").or_else(|| s.strip_suffix(".amazonaws.com")).unwrap_or(s);
    if s.is_empty() {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    if let Some(p) = table().sources.get(lower.as_str()) {
        return Some(p);
    }
    Catalog::get().service(&lower).map(|svc| svc.prefix())
}

/// The API operation name of an event name: strips the API-version date some services append
/// (Lambda's `GetFunction20150331v2`, `ListFunctions20150331`; CloudFront's
/// `CreateDistribution2020_05_31`). Names that merely end in digits or `V2` (`ListObjectsV2`,
/// `RestoreDBInstanceFromS3`, `ListClustersV2`) are returned unchanged.
pub fn normalize_event_name<'a>(source_prefix: &str, name: &'a str) -> Cow<'a, str> {
    let _ = source_prefix; // the date shapes are unambiguous: applied to every service
    let b = name.as_bytes();
    // `YYYY_MM_DD` at the end.
    if b.len() > 10 {
        let tail = &b[b.len() - 10..];
        let shape =
            tail.iter()
                .enumerate()
                .all(|(i, c)| if i == 4 || i == 7 { *c == b'_' } else { c.is_ascii_digit() });
        if shape && b[b.len() - 11].is_ascii_alphabetic() {
            // The cut is between ASCII bytes, so `get` always succeeds.
            return Cow::Borrowed(name.get(..name.len() - 10).unwrap_or(name));
        }
    }
    // `YYYYMMDD` optionally followed by `v` and digits, at the end.
    let mut end = b.len();
    if let Some(v) = b.iter().rposition(|c| !c.is_ascii_digit()) {
        if v + 1 < b.len() && (b[v] == b'v' || b[v] == b'V') && v >= 8 {
            end = v;
        }
    }
    if end >= 9 && b[end - 8..end].iter().all(u8::is_ascii_digit) && b[end - 9].is_ascii_alphabetic() {
        let date = &b[end - 8..end];
        if date.starts_with(b"19") || date.starts_with(b"20") {
            // The cut is between ASCII bytes, so `get` always succeeds.
            return Cow::Borrowed(name.get(..end - 8).unwrap_or(name));
        }
    }
    Cow::Borrowed(name)
}

// ---------------------------------------------------------------------------------------------------
// Mapping

/// Everything about the record that resource building needs.
struct Ctx {
    partition: &'static str,
    region: String,
    account: String,
    params: Value,
    record_arns: Vec<String>,
}

fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else {
        "aws"
    }
}

/// Maps one record to the IAM actions it needed. Denied calls are mapped all the same (the caller
/// separates them by `errorCode`).
pub fn map_event(event: &Event<'_>, catalog: &Catalog) -> Mapping {
    match event.event_type.as_deref() {
        Some("AwsServiceEvent") => {
            return Mapping::Unmapped {
                reason: "an AWS service event, not a call made with the principal's permissions",
            }
        }
        Some("AwsConsoleSignIn") => {
            return Mapping::Unmapped { reason: "a console sign-in, not an IAM-authorized API call" }
        }
        _ => {}
    }
    if event.user_identity.as_ref().and_then(|u| u.kind.as_deref()) == Some("AWSService") {
        return Mapping::Unmapped { reason: "made by an AWS service principal with its own permissions" };
    }
    let Some(raw_name) = event.event_name.as_deref().filter(|n| !n.is_empty()) else {
        return Mapping::Unmapped { reason: "the record has no eventName" };
    };
    let Some(prefix) = service_prefix(event.event_source.as_deref().unwrap_or("")) else {
        return Mapping::Unmapped { reason: "unknown event source" };
    };
    let name = normalize_event_name(event.source_prefix(), raw_name);
    if table().permissionless.contains(&key(prefix, &name)) {
        return Mapping::Permissionless;
    }
    let region = event.aws_region.as_deref().unwrap_or("").to_string();
    let account = event
        .recipient_account_id
        .as_deref()
        .or_else(|| event.user_identity.as_ref().and_then(|u| u.account_id.as_deref()))
        .unwrap_or("")
        .to_string();
    let ctx = Ctx {
        partition: partition_of(&region),
        region,
        account,
        params: event.parameters(),
        record_arns: event
            .resources
            .iter()
            .flatten()
            .filter_map(|r| r.arn.as_deref())
            .filter(|a| a.starts_with("arn:"))
            .map(str::to_string)
            .collect(),
    };
    let op = catalog.operation(prefix, &name);
    let op_name: &str = op.map_or(&name, |o| o.name);

    let mut out: Vec<Needed> = Vec::new();
    if let Some(special) = special_actions(&ctx, catalog, prefix, op_name) {
        out = special;
    } else {
        let actions: Vec<ActionRef<'_>> = match op {
            Some(op) => select_actions(op, prefix, catalog),
            None => catalog.service(prefix).and_then(|s| s.action(&name)).into_iter().collect(),
        };
        for a in actions {
            let (resources, resource) = resolve(&ctx, prefix, op_name, a);
            out.push(Needed { action: a.full_name(), resources, resource });
        }
    }
    if out.is_empty() {
        return Mapping::Unmapped { reason: "no IAM action is known for this API operation" };
    }
    if let Some(op) = op {
        add_pass_role(&ctx, catalog, op, &mut out);
    }
    Mapping::Actions(out)
}

/// Rule 1 and 2 of the module documentation.
fn select_actions<'c>(op: &Operation, prefix: &str, catalog: &'c Catalog) -> Vec<ActionRef<'c>> {
    let auth: Vec<AuthorizedAction> = op.authorized_actions().collect();
    let no_context = |a: &AuthorizedAction| a.context().next().is_none();
    let chosen: Vec<&AuthorizedAction> = match auth
        .iter()
        .find(|a| a.service().eq_ignore_ascii_case(prefix) && a.name().eq_ignore_ascii_case(op.name))
    {
        Some(a) => vec![a],
        None => {
            let own: Vec<&AuthorizedAction> =
                auth.iter().filter(|a| a.service().eq_ignore_ascii_case(prefix) && no_context(a)).collect();
            if !own.is_empty() {
                own
            } else {
                let plain: Vec<&AuthorizedAction> = auth.iter().filter(|a| no_context(a)).collect();
                if plain.is_empty() {
                    auth.iter().collect()
                } else {
                    plain
                }
            }
        }
    };
    let mut seen = HashSet::new();
    chosen
        .into_iter()
        .filter_map(|a| catalog.action(a.action))
        .filter(|a| seen.insert(a.full_name()))
        .collect()
}

/// Rule 3: `iam:PassRole` for the role ARNs in the request, when the operation lists it.
fn add_pass_role(ctx: &Ctx, catalog: &Catalog, op: &Operation, out: &mut Vec<Needed>) {
    if !op.authorized_actions().any(|a| a.action.eq_ignore_ascii_case("iam:PassRole")) {
        return;
    }
    if out.iter().any(|n| n.action == "iam:PassRole") {
        return;
    }
    let Some(action) = catalog.action("iam:PassRole") else { return };
    let mut roles = Vec::new();
    collect_role_arns(&ctx.params, None, &mut roles);
    roles.sort();
    roles.dedup();
    if !roles.is_empty() {
        out.push(Needed { action: action.full_name(), resources: roles, resource: ResourceKnowledge::Known });
    }
}

fn collect_role_arns(v: &Value, key: Option<&str>, out: &mut Vec<String>) {
    match v {
        Value::String(s)
            if key.is_some_and(|k| k.to_ascii_lowercase().contains("role"))
                && s.starts_with("arn:")
                && s.contains(":role/") =>
        {
            out.push(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|i| collect_role_arns(i, key, out)),
        Value::Object(m) => m.iter().for_each(|(k, v)| collect_role_arns(v, Some(k), out)),
        _ => {}
    }
}

fn needed(catalog: &Catalog, action: &str, resources: Vec<String>, unknown: &'static str) -> Option<Needed> {
    let a = catalog.action(action)?;
    let resource =
        if resources.is_empty() { ResourceKnowledge::Unknown(unknown) } else { ResourceKnowledge::Known };
    Some(Needed { action: a.full_name(), resources, resource })
}

/// Rule 5: operations whose actions depend on the request in ways the Service Reference does not say.
fn special_actions(ctx: &Ctx, catalog: &Catalog, prefix: &str, op: &str) -> Option<Vec<Needed>> {
    match prefix {
        "s3" => s3_actions(ctx, catalog, op),
        "dynamodb" if op == "TransactWriteItems" || op == "TransactGetItems" => {
            dynamodb_transaction(ctx, catalog, op)
        }
        _ => None,
    }
}

fn param<'v>(params: &'v Value, name: &str) -> Option<&'v Value> {
    let obj = params.as_object()?;
    obj.get(name).or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

fn param_str<'v>(params: &'v Value, name: &str) -> Option<&'v str> {
    param(params, name).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn s3_actions(ctx: &Ctx, catalog: &Catalog, op: &str) -> Option<Vec<Needed>> {
    let p = &ctx.params;
    let bucket = param_str(p, "bucketName");
    let key = param_str(p, "key");
    let versioned = param_str(p, "versionId").is_some();
    let part = ctx.partition;
    let bucket_arn = || bucket.map(|b| format!("arn:{part}:s3:::{b}")).into_iter().collect::<Vec<_>>();
    let object_arn = || match (bucket, key) {
        (Some(b), Some(k)) => vec![format!("arn:{part}:s3:::{b}/{k}")],
        _ => ctx.record_arns.iter().filter(|a| is_s3_object_arn(a)).cloned().collect(),
    };
    const NO_BUCKET: &str = "the record names no bucket";
    const NO_OBJECT: &str = "the record names no object";
    let one = |action: &str, res: Vec<String>, why: &'static str| {
        needed(catalog, action, res, why).map(|n| vec![n])
    };
    match op {
        "ListObjects" | "ListObjectsV2" | "HeadBucket" => one("s3:ListBucket", bucket_arn(), NO_BUCKET),
        "ListObjectVersions" => one("s3:ListBucketVersions", bucket_arn(), NO_BUCKET),
        "ListMultipartUploads" => one("s3:ListBucketMultipartUploads", bucket_arn(), NO_BUCKET),
        "ListParts" => one("s3:ListMultipartUploadParts", object_arn(), NO_OBJECT),
        "GetObject" | "HeadObject" | "GetObjectVersion" => one(
            if versioned || op == "GetObjectVersion" { "s3:GetObjectVersion" } else { "s3:GetObject" },
            object_arn(),
            NO_OBJECT,
        ),
        "DeleteObject" => {
            one(if versioned { "s3:DeleteObjectVersion" } else { "s3:DeleteObject" }, object_arn(), NO_OBJECT)
        }
        "DeleteObjects" => one("s3:DeleteObject", object_arn(), "DeleteObjects records do not list the keys"),
        "PutObject" | "CreateMultipartUpload" | "UploadPart" | "CompleteMultipartUpload" => {
            one("s3:PutObject", object_arn(), NO_OBJECT)
        }
        "CopyObject" | "UploadPartCopy" => {
            let target = match (bucket, key) {
                (Some(b), Some(k)) => vec![format!("arn:{part}:s3:::{b}/{k}")],
                _ => Vec::new(),
            };
            let source =
                ["x-amz-copy-source", "copySource", "CopySource"].iter().find_map(|n| param_str(p, n));
            let (source_arn, source_versioned) = match source.map(parse_copy_source) {
                Some(Some((path, v))) => (vec![format!("arn:{part}:s3:::{path}")], v),
                _ => (Vec::new(), false),
            };
            let mut out = Vec::new();
            out.extend(needed(catalog, "s3:PutObject", target, NO_OBJECT));
            out.extend(needed(
                catalog,
                if source_versioned { "s3:GetObjectVersion" } else { "s3:GetObject" },
                source_arn,
                "the record does not show the copy source",
            ));
            Some(out)
        }
        _ => None,
    }
}

fn is_s3_object_arn(arn: &str) -> bool {
    arn.split_once(":s3:::").is_some_and(|(_, rest)| rest.contains('/'))
}

/// `bucket/key`, `/bucket/key`, URL-encoded, optionally `?versionId=...` -> (`bucket/key`, versioned).
fn parse_copy_source(raw: &str) -> Option<(String, bool)> {
    let (path, query) = raw.split_once('?').unwrap_or((raw, ""));
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy().into_owned();
    let path = decoded.trim_start_matches('/');
    let (b, k) = path.split_once('/')?;
    if b.is_empty() || k.is_empty() {
        return None;
    }
    Some((path.to_string(), query.contains("versionId=")))
}

fn dynamodb_transaction(ctx: &Ctx, catalog: &Catalog, op: &str) -> Option<Vec<Needed>> {
    let items = param(&ctx.params, "transactItems")?.as_array()?;
    let kinds: &[(&str, &str)] = if op == "TransactGetItems" {
        &[("get", "dynamodb:GetItem")]
    } else {
        &[
            ("conditionCheck", "dynamodb:ConditionCheckItem"),
            ("delete", "dynamodb:DeleteItem"),
            ("put", "dynamodb:PutItem"),
            ("update", "dynamodb:UpdateItem"),
        ]
    };
    let mut out = Vec::new();
    for (kind, action) in kinds {
        let mut tables: Vec<String> = Vec::new();
        let mut used = false;
        for item in items {
            if let Some(body) = param(item, kind) {
                used = true;
                if let Some(t) = param_str(body, "tableName") {
                    tables.push(dynamodb_table_arn(ctx, t));
                }
            }
        }
        if used {
            tables.sort();
            tables.dedup();
            out.extend(needed(catalog, action, tables, "the transaction's items name no table"));
        }
    }
    (!out.is_empty()).then_some(out)
}

fn dynamodb_table_arn(ctx: &Ctx, table: &str) -> String {
    if table.starts_with("arn:") {
        table.to_string()
    } else {
        format!("arn:{}:dynamodb:{}:{}:table/{table}", ctx.partition, ctx.region, ctx.account)
    }
}

// ---------------------------------------------------------------------------------------------------
// Resources

type Resolved = (Vec<String>, ResourceKnowledge);

fn known(mut arns: Vec<String>) -> Option<Resolved> {
    if arns.is_empty() {
        return None;
    }
    arns.sort();
    arns.dedup();
    Some((arns, ResourceKnowledge::Known))
}

fn resolve(ctx: &Ctx, prefix: &str, op: &str, action: ActionRef<'_>) -> Resolved {
    let rts = action.resource_types();
    if rts.is_empty() {
        return (Vec::new(), ResourceKnowledge::NotScoped);
    }
    let formats: Vec<(&str, &str)> = rts
        .iter()
        .flat_map(|r| r.resource_type.arn_formats.iter().map(move |f| (r.resource_type.name, *f)))
        .collect();
    if let Some(r) = service_resources(ctx, prefix, op, action, &formats) {
        return r;
    }
    let matching = |arns: &mut dyn Iterator<Item = &String>| -> Vec<String> {
        arns.filter(|a| formats.iter().any(|(_, f)| arn_matches(f, a))).cloned().collect()
    };
    if let Some(r) = known(matching(&mut ctx.record_arns.iter())) {
        return r;
    }
    let mut values = Vec::new();
    collect_strings(&ctx.params, &mut values);
    if let Some(r) = known(matching(&mut values.iter().filter(|v| v.starts_with("arn:")))) {
        return r;
    }
    if let Some(r) = fill_from_params(ctx, prefix, op, action, &formats) {
        return r;
    }
    (Vec::new(), ResourceKnowledge::Unknown("no request parameter names the resource"))
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| collect_strings(i, out)),
        Value::Object(m) => m.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

/// Rule 4 of the resource rules: the catalog's ARN formats filled from the request.
fn fill_from_params(
    ctx: &Ctx,
    prefix: &str,
    op: &str,
    action: ActionRef<'_>,
    formats: &[(&str, &str)],
) -> Option<Resolved> {
    let t = table();
    let full = action.full_name();
    let hints: Vec<Spec> = t
        .hints
        .get(&key(prefix, op))
        .into_iter()
        .flatten()
        .filter(|(a, _)| a.eq_ignore_ascii_case(&full))
        .flat_map(|(_, s)| s.iter().copied())
        .collect();
    // ARN-valued hints.
    let mut arns = Vec::new();
    for spec in &hints {
        if let Spec::Arn { rtype, path } = spec {
            for v in values_at(&ctx.params, path) {
                let ok = formats.iter().any(|(rt, f)| {
                    rtype.is_none_or(|want| want.eq_ignore_ascii_case(rt)) && arn_matches(f, &v)
                });
                if ok {
                    arns.push(v);
                }
            }
        }
    }
    if let Some(r) = known(arns) {
        return Some(r);
    }
    let aliases = t.aliases.get(&prefix.to_ascii_lowercase());
    let lookup = |var: &str| -> Vec<String> {
        let specs = hints.iter().chain(aliases.into_iter().flatten());
        for spec in specs {
            if let Spec::Var { var: v, path, name_only } = spec {
                if v.eq_ignore_ascii_case(var) {
                    let vals: Vec<String> = values_at(&ctx.params, path)
                        .into_iter()
                        .map(|s| if *name_only { name_part(&s).to_string() } else { s })
                        .collect();
                    if !vals.is_empty() {
                        return vals;
                    }
                }
            }
        }
        values_at(&ctx.params, var)
    };
    let mut filled: Vec<String> = Vec::new();
    for (_, f) in formats {
        filled.extend(fill(ctx, f, &lookup));
    }
    known(drop_less_specific(filled))
}

/// Removes ARNs that are a prefix of another (a table of its index, a function of its alias).
fn drop_less_specific(arns: Vec<String>) -> Vec<String> {
    arns.iter()
        .filter(|a| {
            !arns.iter().any(|b| {
                b.len() > a.len() && b.starts_with(a.as_str()) && matches!(b.as_bytes()[a.len()], b'/' | b':')
            })
        })
        .cloned()
        .collect()
}

/// The name part of an ARN, URL or path: after the last `/`; for `arn:...:type:name[:qualifier]`, the
/// name.
fn name_part(v: &str) -> &str {
    if let Some((_, last)) = v.rsplit_once('/') {
        return last;
    }
    if v.starts_with("arn:") {
        return v.split(':').nth(6).unwrap_or(v);
    }
    v
}

/// Strings at a path such as `entries[].eventBusName` (case-insensitive keys; lists are walked).
fn values_at(v: &Value, path: &str) -> Vec<String> {
    let mut cur: Vec<&Value> = vec![v];
    for seg in path.split('.') {
        let seg = seg.trim_end_matches("[]");
        let mut next = Vec::new();
        for c in cur {
            let items: Vec<&Value> = match c {
                Value::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            for item in items {
                if let Some(x) = param(item, seg) {
                    next.push(x);
                }
            }
        }
        cur = next;
    }
    let mut out = Vec::new();
    for c in cur {
        match c {
            Value::String(s) if !s.is_empty() => out.push(s.clone()),
            Value::Array(a) => {
                out.extend(a.iter().filter_map(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string))
            }
            _ => {}
        }
    }
    out
}

/// One piece of an ARN format.
enum Piece<'f> {
    Lit(&'f str),
    Var(&'f str),
}

fn pieces(format: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = format;
    while let Some((lit, var)) = rest.find("${").and_then(|start| rest.split_at_checked(start)) {
        if !lit.is_empty() {
            out.push(Piece::Lit(lit));
        }
        let Some((name, after)) = var.strip_prefix("${").and_then(|v| v.split_once('}')) else {
            out.push(Piece::Lit(var));
            return out;
        };
        out.push(Piece::Var(name));
        rest = after;
    }
    if !rest.is_empty() {
        out.push(Piece::Lit(rest));
    }
    out
}

/// Variables whose values may hold `/` and `:` (paths and object keys) when last in the format.
fn is_path_var(var: &str) -> bool {
    let v = var.to_ascii_lowercase();
    v.contains("path")
        || matches!(v.as_str(), "objectname" | "parameternamewithoutleadingslash" | "key" | "logstreamname")
}

fn value_ok(var: &str, value: &str, next: Option<char>) -> bool {
    if value.is_empty() || value.contains('*') {
        return false;
    }
    match next {
        // Inside the ARN: the value must not hold the delimiter that ends it.
        Some(d) => !value.contains(d),
        None => is_path_var(var) || !value.contains(['/', ':']),
    }
}

/// The first character of the literal after piece `i`, if any.
fn next_delim(ps: &[Piece<'_>], i: usize) -> Option<char> {
    match ps.get(i + 1) {
        Some(Piece::Lit(l)) => l.chars().next(),
        _ => None,
    }
}

/// Fills an ARN format; every variable must be known. Multi-valued variables multiply (capped).
fn fill(ctx: &Ctx, format: &str, lookup: &dyn Fn(&str) -> Vec<String>) -> Vec<String> {
    let ps = pieces(format);
    let mut out = vec![String::new()];
    let mut used_request_var = false;
    for (i, p) in ps.iter().enumerate() {
        match p {
            Piece::Lit(l) => out.iter_mut().for_each(|s| s.push_str(l)),
            Piece::Var(v) => {
                let vals: Vec<String> = match *v {
                    "Partition" => vec![ctx.partition.to_string()],
                    "Region" => vec![ctx.region.clone()],
                    "Account" => vec![ctx.account.clone()],
                    _ => {
                        used_request_var = true;
                        let next = next_delim(&ps, i);
                        lookup(v).into_iter().filter(|x| value_ok(v, x, next)).collect()
                    }
                };
                if vals.is_empty() || (matches!(*v, "Region" | "Account") && vals[0].is_empty()) {
                    return Vec::new();
                }
                let mut next = Vec::with_capacity(out.len() * vals.len());
                for s in &out {
                    for x in &vals {
                        if next.len() >= 1000 {
                            break;
                        }
                        next.push(format!("{s}{x}"));
                    }
                }
                out = next;
            }
        }
    }
    if used_request_var {
        out
    } else {
        Vec::new()
    }
}

/// Whether an ARN fits a catalog ARN format (variables match one segment; a path variable at the end
/// matches the rest).
fn arn_matches(format: &str, arn: &str) -> bool {
    let ps = pieces(format);
    fn go(ps: &[Piece<'_>], s: &str) -> bool {
        match ps.split_first() {
            None => s.is_empty(),
            Some((Piece::Lit(l), rest)) => s
                .split_at_checked(l.len())
                .is_some_and(|(head, tail)| head.eq_ignore_ascii_case(l) && go(rest, tail)),
            Some((Piece::Var(v), rest)) => {
                let global = matches!(*v, "Region" | "Account");
                match rest.first() {
                    None => !s.is_empty() && !s.contains('*') && (is_path_var(v) || !s.contains([':', '/'])),
                    Some(Piece::Lit(l)) => {
                        let d = l.chars().next().unwrap_or(':');
                        match s.find(d) {
                            Some(i) if global || i > 0 => s.get(i..).is_some_and(|tail| go(rest, tail)),
                            _ => false,
                        }
                    }
                    // Two variables in a row: not in AWS's formats.
                    Some(Piece::Var(_)) => false,
                }
            }
        }
    }
    go(&ps, arn)
}

// ---------------------------------------------------------------------------------------------------
// Service rules (resources)

fn service_resources(
    ctx: &Ctx,
    prefix: &str,
    op: &str,
    action: ActionRef<'_>,
    formats: &[(&str, &str)],
) -> Option<Resolved> {
    let p = &ctx.params;
    let (part, region, acct) = (ctx.partition, ctx.region.as_str(), ctx.account.as_str());
    let has_type = |t: &str| formats.iter().any(|(rt, _)| rt.eq_ignore_ascii_case(t));
    match prefix {
        "dynamodb" => {
            if let Some(items) = param(p, "requestItems").and_then(Value::as_object) {
                return known(items.keys().map(|t| dynamodb_table_arn(ctx, t)).collect());
            }
            let table = param_str(p, "tableName")?;
            let index = param_str(p, "indexName");
            match index {
                Some(i) if has_type("index") => {
                    known(vec![format!("{}/index/{i}", dynamodb_table_arn(ctx, table))])
                }
                _ if has_type("table") => known(vec![dynamodb_table_arn(ctx, table)]),
                _ => None,
            }
        }
        "sqs" => {
            let url = param_str(p, "queueUrl")?;
            sqs_queue_arn(url, part, region).and_then(|a| known(vec![a]))
        }
        "kms" => kms_resources(ctx, action, has_type("alias")),
        "secretsmanager" => {
            let id = param_str(p, "secretId").or_else(|| {
                if op == "CreateSecret" {
                    param_str(p, "name")
                } else {
                    None
                }
            })?;
            if id.starts_with("arn:") {
                return known(vec![id.to_string()]);
            }
            known(vec![format!("arn:{part}:secretsmanager:{region}:{acct}:secret:{id}-??????")])
        }
        "ssm" if has_type("parameter") => {
            let mut names: Vec<String> = Vec::new();
            for n in ["name", "names", "path"] {
                names.extend(values_at(p, n));
            }
            known(
                names
                    .into_iter()
                    .map(|n| {
                        if n.starts_with("arn:") {
                            n
                        } else {
                            // A selector (`name:3`, `name:label`) is not part of the ARN.
                            let n = n.split(':').next().unwrap_or(&n);
                            format!("arn:{part}:ssm:{region}:{acct}:parameter/{}", n.trim_start_matches('/'))
                        }
                    })
                    .collect(),
            )
        }
        "lambda" if has_type("function") => {
            let f = param_str(p, "functionName")?;
            let qualifier = param_str(p, "qualifier");
            lambda_function_arn(f, qualifier, part, region, acct).and_then(|a| known(vec![a]))
        }
        "events" => {
            if op == "PutEvents" && has_type("event-bus") {
                let mut buses = values_at(p, "entries[].eventBusName");
                let entries = param(p, "entries").and_then(Value::as_array).map_or(0, Vec::len);
                if buses.len() < entries || entries == 0 {
                    buses.push("default".into());
                }
                return known(
                    buses
                        .into_iter()
                        .map(|b| {
                            if b.starts_with("arn:") {
                                b
                            } else {
                                format!("arn:{part}:events:{region}:{acct}:event-bus/{b}")
                            }
                        })
                        .collect(),
                );
            }
            if has_type("rule-on-default-event-bus") {
                let rule = param_str(p, "name").or_else(|| param_str(p, "rule"))?;
                if rule.starts_with("arn:") {
                    return known(vec![rule.to_string()]);
                }
                return match param_str(p, "eventBusName").map(name_part).filter(|b| *b != "default") {
                    Some(bus) => known(vec![format!("arn:{part}:events:{region}:{acct}:rule/{bus}/{rule}")]),
                    None => known(vec![format!("arn:{part}:events:{region}:{acct}:rule/{rule}")]),
                };
            }
            None
        }
        _ => None,
    }
}

/// `https://sqs.us-east-1.amazonaws.com/111122223333/orders` (also `queue.amazonaws.com` and
/// `us-east-1.queue.amazonaws.com` hosts) -> `arn:aws:sqs:us-east-1:111122223333:orders`.
pub fn sqs_queue_arn(url: &str, partition: &str, default_region: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let mut parts = rest.split('/');
    let host = parts.next()?;
    let account = parts.next().filter(|a| !a.is_empty())?;
    let name = parts.next().filter(|n| !n.is_empty())?;
    let labels: Vec<&str> = host.split('.').collect();
    let region = match labels.as_slice() {
        ["sqs", r, ..] if *r != "amazonaws" => (*r).to_string(),
        [r, "queue", ..] => (*r).to_string(),
        _ => default_region.to_string(),
    };
    let partition = if host.ends_with(".amazonaws.com.cn") { "aws-cn" } else { partition };
    Some(format!("arn:{partition}:sqs:{region}:{account}:{name}"))
}

/// A Lambda `FunctionName` (name, `name:qualifier`, `ACCOUNT:function:name[:qualifier]`, or a full or
/// qualified ARN) and an optional `Qualifier` -> the function ARN IAM evaluates (qualified when invoked
/// with a qualifier).
pub fn lambda_function_arn(
    f: &str,
    qualifier: Option<&str>,
    partition: &str,
    region: &str,
    account: &str,
) -> Option<String> {
    let (mut part, mut reg, mut acct) = (partition.to_string(), region.to_string(), account.to_string());
    let rest: &str = if let Some(arn) = f.strip_prefix("arn:") {
        let fields: Vec<&str> = arn.splitn(6, ':').collect();
        if fields.len() < 6 || fields[4] != "function" {
            return None;
        }
        part = fields[0].to_string();
        reg = fields[2].to_string();
        acct = fields[3].to_string();
        fields[5]
    } else if let Some((a, r)) = f.split_once(":function:") {
        acct = a.to_string();
        r
    } else {
        f
    };
    let (name, q) = match rest.split_once(':') {
        Some((n, q)) => (n, Some(q)),
        None => (rest, qualifier),
    };
    if name.is_empty() || reg.is_empty() || acct.is_empty() {
        return None;
    }
    Some(match q.filter(|q| !q.is_empty()) {
        Some(q) => format!("arn:{part}:lambda:{reg}:{acct}:function:{name}:{q}"),
        None => format!("arn:{part}:lambda:{reg}:{acct}:function:{name}"),
    })
}

fn kms_resources(ctx: &Ctx, action: ActionRef<'_>, alias_type: bool) -> Option<Resolved> {
    let p = &ctx.params;
    let (part, region, acct) = (ctx.partition, ctx.region.as_str(), ctx.account.as_str());
    let key_arn = |id: &str| -> Option<String> {
        if id.starts_with("arn:") {
            return id.contains(":key/").then(|| id.to_string());
        }
        (!id.starts_with("alias/")).then(|| format!("arn:{part}:kms:{region}:{acct}:key/{id}"))
    };
    let alias_arn = |a: &str| -> String {
        if a.starts_with("arn:") {
            a.to_string()
        } else {
            format!(
                "arn:{part}:kms:{region}:{acct}:{}",
                if a.starts_with("alias/") { a.to_string() } else { format!("alias/{a}") }
            )
        }
    };
    let record_keys: Vec<String> =
        ctx.record_arns.iter().filter(|a| a.contains(":kms:") && a.contains(":key/")).cloned().collect();
    let name = action.name();
    let param_name = match name {
        "ReEncryptTo" => "destinationKeyId",
        "ReEncryptFrom" => "sourceKeyId",
        _ => "keyId",
    };
    let mut out = Vec::new();
    if alias_type {
        if let Some(a) = param_str(p, "aliasName") {
            out.push(alias_arn(a));
        }
    }
    let id = param_str(p, param_name).or_else(|| param_str(p, "targetKeyId"));
    match id {
        Some(id) if id.starts_with("alias/") || id.contains(":alias/") => {
            if alias_type {
                out.push(alias_arn(id));
            }
            // The key behind the alias: CloudTrail lists it in resources[].
            out.extend(record_keys);
        }
        Some(id) => out.extend(key_arn(id)),
        None if name == "ReEncryptFrom" => {
            // No sourceKeyId in the request (the ciphertext names it): the record's keys other than the
            // destination.
            let dest = param_str(p, "destinationKeyId").and_then(key_arn);
            out.extend(record_keys.into_iter().filter(|k| Some(k) != dest.as_ref()));
        }
        None => out.extend(record_keys),
    }
    match known(out) {
        Some(r) => Some(r),
        None if id.is_some_and(|i| i.contains("alias/")) => Some((
            Vec::new(),
            ResourceKnowledge::Unknown("the key was named by an alias and the record does not name the key"),
        )),
        None => None,
    }
}

// ---------------------------------------------------------------------------------------------------
// Coverage

/// Whether CloudTrail records the use of `action` (see [`Coverage`]). Sources: "Logging data events"
/// (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html>)
/// and the services' CloudTrail pages (S3:
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/cloudtrail-logging-s3-info.html>).
pub fn coverage(action: ActionRef<'_>) -> Coverage {
    let service = action.service();
    let name = action.name();
    // High-volume data-plane calls that CloudTrail documents as not logged (CloudWatch Logs event
    // ingestion and reads, X-Ray segment upload and sampling).
    const NOT_LOGGED: &[&str] = &[
        "logs:PutLogEvents",
        "logs:GetLogEvents",
        "logs:FilterLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "xray:GetSamplingStatisticSummaries",
    ];
    if NOT_LOGGED.iter().any(|n| n.eq_ignore_ascii_case(&action.full_name())) {
        return Coverage::NotLogged;
    }
    if is_data_event(service, name, &action) {
        return Coverage::DataEvent;
    }
    // A permission-only action: no operation of the catalog authorizes it (only meaningful when the
    // service's operations are known).
    if !action.service_ref().operations().is_empty()
        && !authorized_actions().contains(&action.full_name().to_ascii_lowercase())
    {
        return Coverage::NotLogged;
    }
    Coverage::Logged
}

fn authorized_actions() -> &'static HashSet<String> {
    static SET: OnceLock<HashSet<String>> = OnceLock::new();
    SET.get_or_init(|| {
        Catalog::get()
            .operations()
            .iter()
            .flat_map(|o| o.authorized_actions().map(|a| a.action.to_ascii_lowercase()))
            .collect()
    })
}

/// Data-event actions per service (CloudTrail's data event resource types: `AWS::S3::Object`,
/// `AWS::Lambda::Function`, `AWS::DynamoDB::Table`/`Stream`, `AWS::SNS::Topic`, `AWS::SQS::Queue`,
/// `AWS::Kinesis::Stream`, `AWS::S3ObjectLambda::AccessPoint`, `AWS::S3Express::Object`,
/// `AWS::EC2::Snapshot` (EBS direct APIs), `AWS::RDS::DBCluster` (Data API), `AWS::CloudTrail::Channel`,
/// `AWS::Bedrock::AgentAlias`/`KnowledgeBase`/`FlowAlias`, `AWS::SageMaker::FeatureGroup`,
/// `AWS::ServiceDiscovery::Namespace`, `AWS::VerifiedPermissions::PolicyStore`, `AWS::AppSync::GraphQL`,
/// `AWS::SSMMessages::ControlChannel`, `AWS::Cognito::IdentityPool`).
fn is_data_event(service: &str, name: &str, action: &ActionRef<'_>) -> bool {
    match service {
        "s3" => {
            matches!(
                name,
                "ListBucket"
                    | "ListBucketVersions"
                    | "ListBucketMultipartUploads"
                    | "ListMultipartUploadParts"
            ) || action.resource_types().iter().any(|r| r.resource_type.name == "object")
        }
        "s3-object-lambda" | "s3-outposts" | "ebs" | "rds-data" | "cloudtrail-data" | "ssmmessages" => true,
        "s3express" => matches!(name, "CreateSession"),
        "lambda" => name == "InvokeFunction",
        "dynamodb" => matches!(
            name,
            "GetItem"
                | "PutItem"
                | "UpdateItem"
                | "DeleteItem"
                | "BatchGetItem"
                | "BatchWriteItem"
                | "Query"
                | "Scan"
                | "ConditionCheckItem"
                | "PartiQLSelect"
                | "PartiQLInsert"
                | "PartiQLUpdate"
                | "PartiQLDelete"
                | "GetRecords"
                | "GetShardIterator"
        ),
        "sns" => name == "Publish",
        "sqs" => {
            matches!(name, "SendMessage" | "ReceiveMessage" | "DeleteMessage" | "ChangeMessageVisibility")
        }
        "kinesis" => matches!(
            name,
            "PutRecord" | "PutRecords" | "GetRecords" | "GetShardIterator" | "SubscribeToShard"
        ),
        "bedrock" => matches!(name, "InvokeAgent" | "Retrieve" | "RetrieveAndGenerate" | "InvokeFlow"),
        "sagemaker" => matches!(name, "PutRecord" | "GetRecord" | "DeleteRecord" | "BatchGetRecord"),
        "servicediscovery" => name == "DiscoverInstances",
        "verifiedpermissions" => {
            matches!(name, "IsAuthorized" | "IsAuthorizedWithToken" | "BatchIsAuthorized")
        }
        "appsync" => name == "GraphQL",
        "cognito-identity" => matches!(name, "GetId" | "GetOpenIdToken" | "GetCredentialsForIdentity"),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
