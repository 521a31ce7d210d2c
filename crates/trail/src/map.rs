//! From a CloudTrail record to the IAM actions (and resources) the call needed.
//!
//! # Which records are calls
//!
//! Records that are not API calls need no IAM action and give [`Mapping::NonApi`]: `eventType`
//! `AwsConsoleSignIn` (`ConsoleLogin`, `CheckMfa`, `SwitchRole` and the other sign-in events of
//! `signin.amazonaws.com`, also when the type is missing), `AwsServiceEvent` (the service acted on its
//! own, such as KMS's automatic `RotateKey`), `AwsCloudTrailInsight`, and network activity events
//! (`AwsVpceEvent`, the VPC endpoint's copy of a call). Records of a service principal
//! (`userIdentity.type` `AWSService`) are calls, made with the service's own permissions:
//! [`Mapping::Unmapped`].
//!
//! # Actions
//!
//! The event source names the service (`s3.amazonaws.com`); [`service_prefix`] turns it into the IAM
//! prefix: a source that is itself an IAM prefix of the catalog maps to itself, the others come from the
//! generated table `src/data/events.tsv` (Boto3 client names of AWS's Service Reference, such as
//! `stepfunctions` -> `states`, and a reviewed hand list such as `monitoring` -> `cloudwatch`,
//! `email` -> `ses`, `tagging` -> `tag`). The event name is normalised ([`normalize_event_name`]: Lambda's
//! `GetFunction20150331v2`, CloudFront's `CreateDistribution2020_05_31`). Then, in this order:
//!
//! 1. a permissionless operation (`sts:GetCallerIdentity`, the bearer-token APIs of IAM Identity Center
//!    and CodeCatalyst) gives [`Mapping::Permissionless`]; an operation the reviewed list says no IAM
//!    action authorizes (a retired API) gives [`Mapping::Unmapped`] with the reason;
//! 2. the table's action rules for the operation, when it has some: each action with the condition the
//!    request must show (always; tags in the request; a role passed; a parameter present, absent, equal
//!    to or starting with a value). They are written by `tools/gen_event_map.py` from the Service
//!    Reference's authorized actions (the action named like the operation; `iam:PassRole` when a role is
//!    passed; the tagging action when the request carries tags; S3's version variants when a `versionId`
//!    is given) and a reviewed rules file (`tools/event_rules.tsv`: `sts:SetSourceIdentity` for a source
//!    identity, `rds:CreateDBSnapshot` for a final snapshot, PartiQL statements by verb, DynamoDB
//!    transactions by item kind, CloudTrail's renamed S3 events such as `DeleteBucketPublicAccessBlock`);
//! 3. else the Service Reference's authorized actions (`Catalog::operation`): the action of the event's
//!    own service named like the operation, alone; else every own-service action without a context,
//!    else every action without a context; plus `iam:PassRole` when the operation lists it and the
//!    request passes a role;
//! 4. else (the reference lists no authorized action, or not the operation) the catalog action named
//!    like the operation (`s3:PutBucketNotification`, `ses:SendEmail`).
//!
//! `iam:PassRole` is on the roles the request passes: role ARNs in any parameter, `roleName`
//! (`AddRoleToInstanceProfile`); an instance profile (`RunInstances`, `AssociateIamInstanceProfile`)
//! passes its role, which the record does not name ([`ResourceKnowledge::Unknown`]).
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
//! the caller's credentials.
//!
//! # Resources
//!
//! In this order, the first that gives ARNs wins (an action without resource types gives
//! [`ResourceKnowledge::NotScoped`]; nothing known gives [`ResourceKnowledge::Unknown`], never `*`):
//!
//! 1. service rules: S3 (the object of object actions, the copy source of `CopyObject`'s reads, the
//!    bucket the call configures for bucket actions, never a destination bucket among the parameters),
//!    DynamoDB (table and index; batch tables; the tables of a transaction's items of the action's kind;
//!    the tables of PartiQL statements), SQS queue URL, KMS key/alias, Secrets Manager secret, SSM
//!    parameter names, Lambda function name/ARN/qualifier, EventBridge buses;
//! 2. the record's `resources[]`, keeping the ARNs that match one of the action's resource types;
//! 3. request parameters that are ARNs of one of the action's resource types (`topicArn`, `roleArn`);
//! 4. the catalog's ARN formats filled from request parameters: the generated hints (from iamlive's
//!    resource mappings and the reviewed rules), service aliases (`s3` `ObjectName` = `key`), or a
//!    parameter named like the variable (`${TableName}` = `tableName`). When several resource types
//!    fill, the less specific ARNs (prefixes of others, such as a table of its index) are dropped.
//!
//! Partition from the region (`cn-*` -> `aws-cn`, `us-gov-*` -> `aws-us-gov`), account from
//! `recipientAccountId`, else `userIdentity.accountId`.
//!
//! A Secrets Manager secret named without its ARN becomes `arn:...:secret:NAME-??????`: a secret's ARN
//! ends in `-` and six random characters that the record does not show, and `??????` (exactly six
//! characters) is the form AWS recommends in policies. An IAM role, user or group named without its ARN
//! is assumed to have no path.

use std::borrow::Cow;
use std::collections::HashSet;

use serde_json::Value;

use super::event::Event;
use iamfit_catalog::{ActionRef, AuthorizedAction, Catalog, Operation};

mod arn;
mod coverage;
mod dynamodb;
mod request;
mod resource;
mod s3;
mod table;

pub use coverage::coverage;
pub use resource::{lambda_function_arn, sqs_queue_arn};
pub use table::{table_counts, TableCounts};

use request::{holds, passed_roles};
use resource::resolve;
use table::{key, table};
#[cfg(test)]
use {arn::arn_matches, arn::drop_less_specific, s3::parse_copy_source};

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
    /// The record is not an API call (a console sign-in, an AWS service event): no IAM action.
    NonApi {
        /// What kind of record it is.
        kind: &'static str,
    },
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

/// The sign-in events of `signin.amazonaws.com` ("AWS Management Console sign-in events",
/// <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html>),
/// recognised by name when a record lacks its `eventType`.
const SIGN_IN_EVENTS: &[&str] = &[
    "ConsoleLogin",
    "ConsoleLogout",
    "CheckMfa",
    "SwitchRole",
    "ExitRole",
    "RenewRole",
    "GetSigninToken",
    "CredentialChallenge",
    "CredentialVerification",
    "UserAuthentication",
    "PasswordUpdated",
];

/// What kind of non-API record this is, if it is one (see the module documentation).
fn non_api_kind(event: &Event<'_>) -> Option<&'static str> {
    match event.event_type.as_deref() {
        Some("AwsConsoleSignIn") => return Some("a console sign-in event"),
        Some("AwsServiceEvent") => return Some("an AWS service event"),
        Some("AwsCloudTrailInsight") => return Some("a CloudTrail Insights event"),
        Some("AwsVpceEvent") => return Some("a network activity event"),
        _ => {}
    }
    match event.event_category.as_deref() {
        Some("Insight") => return Some("a CloudTrail Insights event"),
        Some("NetworkActivity") => return Some("a network activity event"),
        _ => {}
    }
    let name = event.event_name.as_deref().unwrap_or("");
    (event.source_prefix() == "signin" && SIGN_IN_EVENTS.contains(&name)).then_some("a console sign-in event")
}

/// The reviewed reason why no IAM action authorizes an operation, for the operations on that list (a
/// retired API, an operation AWS publishes no action for).
pub fn no_action_reason(prefix: &str, operation: &str) -> Option<&'static str> {
    table().no_action.get(&key(prefix, operation)).copied()
}

/// Whether the reviewed list says the operation needs no permission (`sts:GetCallerIdentity`).
pub fn is_permissionless(prefix: &str, operation: &str) -> bool {
    table().permissionless.contains(&key(prefix, operation))
}

/// Maps one record to the IAM actions it needed. Denied calls are mapped all the same (the caller
/// separates them by `errorCode`).
pub fn map_event(event: &Event<'_>, catalog: &Catalog) -> Mapping {
    if let Some(kind) = non_api_kind(event) {
        return Mapping::NonApi { kind };
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
    let op = catalog.operation(prefix, &name);
    let op_name: &str = op.map_or(&name, |o| o.name);
    let op_key = key(prefix, op_name);
    if table().permissionless.contains(&op_key) {
        return Mapping::Permissionless;
    }
    if let Some(&reason) = table().no_action.get(&op_key) {
        return Mapping::Unmapped { reason };
    }
    let ctx = context(event);
    let actions = needed_actions(&ctx, catalog, prefix, (op_name, &op_key), op);
    if actions.is_empty() {
        let reason = if table().rules.contains_key(&op_key) {
            "the record shows none of the request parameters the operation's actions depend on"
        } else {
            "no IAM action is known for this API operation"
        };
        return Mapping::Unmapped { reason };
    }
    let out = actions
        .into_iter()
        .map(|a| {
            let (resources, resource) = if a.full_name() == "iam:PassRole" {
                pass_role_resources(&ctx)
            } else {
                resolve(&ctx, prefix, op_name, a)
            };
            Needed { action: a.full_name(), resources, resource }
        })
        .collect();
    Mapping::Actions(out)
}

fn context(event: &Event<'_>) -> Ctx {
    let region = event.aws_region.as_deref().unwrap_or("").to_string();
    let account = event
        .recipient_account_id
        .as_deref()
        .or_else(|| event.user_identity.as_ref().and_then(|u| u.account_id.as_deref()))
        .unwrap_or("")
        .to_string();
    Ctx {
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
    }
}

/// Steps 2 to 4 of the module documentation: the catalog actions the call needed, distinct, in order.
fn needed_actions<'c>(
    ctx: &Ctx,
    catalog: &'c Catalog,
    prefix: &str,
    (op_name, op_key): (&str, &str),
    op: Option<&Operation>,
) -> Vec<ActionRef<'c>> {
    let mut seen = HashSet::new();
    let mut keep = |a: &ActionRef<'_>| seen.insert(a.full_name());
    if let Some(rules) = table().rules.get(op_key) {
        return rules
            .iter()
            .filter(|r| holds(&r.when, &ctx.params))
            .filter_map(|r| catalog.action(r.action))
            .filter(|a| keep(a))
            .collect();
    }
    let mut out: Vec<ActionRef<'c>> = match op {
        Some(op) if op.authorized_actions().next().is_some() => select_actions(op, prefix, catalog),
        _ => catalog.service(prefix).and_then(|s| s.action(op_name)).into_iter().collect(),
    };
    out.retain(|a| keep(a));
    let lists_pass_role =
        op.is_some_and(|op| op.authorized_actions().any(|a| a.action.eq_ignore_ascii_case("iam:PassRole")));
    if lists_pass_role && !passed_roles(&ctx.params, ctx.partition, &ctx.account).is_empty() {
        out.extend(catalog.action("iam:PassRole").filter(|a| keep(a)));
    }
    out
}

/// Step 3: the authorized actions of an operation the table has no rules for.
fn select_actions<'c>(op: &Operation, prefix: &str, catalog: &'c Catalog) -> Vec<ActionRef<'c>> {
    let auth: Vec<AuthorizedAction> = op.authorized_actions().collect();
    let no_context = |a: &AuthorizedAction| a.context().next().is_none();
    let own = |a: &AuthorizedAction| a.service().eq_ignore_ascii_case(prefix);
    let chosen: Vec<&AuthorizedAction> =
        match auth.iter().find(|a| own(a) && a.name().eq_ignore_ascii_case(op.name)) {
            Some(a) => vec![a],
            None => {
                let own_plain: Vec<&AuthorizedAction> =
                    auth.iter().filter(|a| own(a) && no_context(a)).collect();
                let plain: Vec<&AuthorizedAction> = auth.iter().filter(|a| no_context(a)).collect();
                if !own_plain.is_empty() {
                    own_plain
                } else if !plain.is_empty() {
                    plain
                } else {
                    auth.iter().collect()
                }
            }
        };
    chosen.into_iter().filter_map(|a| catalog.action(a.action)).collect()
}

/// The resources of `iam:PassRole`: the roles the request passes.
fn pass_role_resources(ctx: &Ctx) -> resource::Resolved {
    let roles = passed_roles(&ctx.params, ctx.partition, &ctx.account);
    if !roles.arns.is_empty() {
        return (roles.arns, ResourceKnowledge::Known);
    }
    (Vec::new(), ResourceKnowledge::Unknown("the record names the instance profile, not the role it holds"))
}

#[cfg(test)]
mod tests;
