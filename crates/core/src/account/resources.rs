//! Resource-based policies of the resources in play (KMS key policies, bucket, queue, topic, secret,
//! function, table, event bus and repository policies), and their snapshot folder:
//! `resource-policies/<service>/<file>.json`, each file the exact AWS CLI output of that service's get
//! call (see docs/reference.md, "Snapshot folder").

use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Value};

use super::snapshot::SnapshotError;
use super::PolicyDocument;
use iamfit_policy::eval::NamedPolicy;

/// The services whose resource policies iamfit reads, with their snapshot folder and get call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceService {
    /// `aws kms get-key-policy --key-id KEY --policy-name default`: `{"Policy": TEXT}` (newer AWS CLIs
    /// add `"PolicyName"`).
    Kms,
    /// `aws s3api get-bucket-policy --bucket B`: `{"Policy": TEXT}`.
    S3,
    /// `aws sqs get-queue-attributes --queue-url U --attribute-names Policy`: `{"Attributes": {"Policy": TEXT}}`.
    Sqs,
    /// `aws sns get-topic-attributes --topic-arn T`: `{"Attributes": {"Policy": TEXT, ...}}`.
    Sns,
    /// `aws secretsmanager get-resource-policy --secret-id S`: `{"ARN", "Name", "ResourcePolicy": TEXT}`.
    SecretsManager,
    /// `aws lambda get-policy --function-name F`: `{"Policy": TEXT, "RevisionId"}`.
    Lambda,
    /// `aws dynamodb get-resource-policy --resource-arn T`: `{"Policy": TEXT, "RevisionId"}`.
    DynamoDb,
    /// `aws events describe-event-bus --name B`: `{"Name", "Arn", "Policy": TEXT}`.
    Events,
    /// `aws ecr get-repository-policy --repository-name R`: `{"registryId", "repositoryName", "policyText": TEXT}`.
    Ecr,
}

impl ResourceService {
    /// Every service, in folder order.
    pub const ALL: [ResourceService; 9] = [
        ResourceService::Kms,
        ResourceService::S3,
        ResourceService::Sqs,
        ResourceService::Sns,
        ResourceService::SecretsManager,
        ResourceService::Lambda,
        ResourceService::DynamoDb,
        ResourceService::Events,
        ResourceService::Ecr,
    ];

    /// The folder under `resource-policies/` (the service's ARN prefix).
    pub fn folder(self) -> &'static str {
        match self {
            ResourceService::Kms => "kms",
            ResourceService::S3 => "s3",
            ResourceService::Sqs => "sqs",
            ResourceService::Sns => "sns",
            ResourceService::SecretsManager => "secretsmanager",
            ResourceService::Lambda => "lambda",
            ResourceService::DynamoDb => "dynamodb",
            ResourceService::Events => "events",
            ResourceService::Ecr => "ecr",
        }
    }

    /// The service of a resource ARN, if iamfit reads its resource policies.
    pub fn of_arn(arn: &str) -> Option<ResourceService> {
        let service = arn.split(':').nth(2)?;
        ResourceService::ALL.into_iter().find(|s| s.folder() == service)
    }

    /// The policy text in the get call's output.
    fn policy_text(self, output: &Value) -> Option<&str> {
        let v = match self {
            ResourceService::Sqs | ResourceService::Sns => output.get("Attributes")?.get("Policy"),
            ResourceService::SecretsManager => output.get("ResourcePolicy"),
            ResourceService::Ecr => output.get("policyText"),
            _ => output.get("Policy"),
        };
        v?.as_str()
    }

    /// The get call's output for a policy text, as the AWS CLI prints it.
    fn output(self, arn: &str, text: &str) -> Value {
        let name = resource_name(arn);
        match self {
            ResourceService::Sqs => json!({"Attributes": {"Policy": text}}),
            ResourceService::Sns => json!({"Attributes": {"Policy": text, "TopicArn": arn}}),
            ResourceService::SecretsManager => {
                // The name without the random suffix the service adds to the ARN (`db-AbCdEf`).
                let name = name
                    .rsplit_once('-')
                    .filter(|(_, x)| x.len() == 6 && x.chars().all(|c| c.is_ascii_alphanumeric()))
                    .map_or(name, |(n, _)| n);
                json!({"ARN": arn, "Name": name, "ResourcePolicy": text})
            }
            ResourceService::Events => json!({"Name": name, "Arn": arn, "Policy": text}),
            ResourceService::Ecr => json!({
                "registryId": arn.split(':').nth(4).unwrap_or_default(),
                "repositoryName": name,
                "policyText": text
            }),
            _ => json!({"Policy": text}),
        }
    }
}

/// The last name of a resource ARN (`key/ID` -> `ID`, `secret:NAME` -> `NAME`).
fn resource_name(arn: &str) -> &str {
    let tail = arn.splitn(6, ':').nth(5).unwrap_or(arn);
    tail.rsplit(['/', ':']).next().unwrap_or(tail)
}

/// The resource-based policy of one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourcePolicy {
    /// Which service the resource belongs to.
    pub service: ResourceService,
    /// The resource's ARN (a bucket's ARN for S3, the table's for DynamoDB, the unqualified function's
    /// for Lambda).
    pub arn: String,
    /// The policy.
    pub document: PolicyDocument,
}

impl ResourcePolicy {
    /// Whether the policy governs a request on `resource`: the resource itself, and for S3 the
    /// bucket's objects, for DynamoDB the table's indexes and streams, for Lambda the function's
    /// versions and aliases.
    pub fn governs(&self, resource: &str) -> bool {
        if self.service == ResourceService::SecretsManager {
            return secret_governs(&self.arn, resource);
        }
        let Some(rest) = resource.strip_prefix(self.arn.as_str()) else { return false };
        rest.is_empty()
            || match self.service {
                ResourceService::S3 | ResourceService::DynamoDb => rest.starts_with('/'),
                ResourceService::Lambda => rest.starts_with(':'),
                // Secrets Manager ARNs end with a random suffix that policies may omit.
                ResourceService::SecretsManager => rest.starts_with('-'),
                _ => false,
            }
    }
}

/// Whether `suffix` is the `-` and six characters Secrets Manager appends to a secret's name (or
/// the `-??????` a policy writes for them).
fn is_secret_suffix(suffix: &str) -> bool {
    suffix
        .strip_prefix('-')
        .is_some_and(|s| s.chars().count() == 6 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '?'))
}

/// Whether the policy of the secret `policy_arn` (with or without its random suffix) governs a
/// request on `resource` (the secret's ARN with its suffix, without it, or with `-??????`).
fn secret_governs(policy_arn: &str, resource: &str) -> bool {
    let base = |arn: &str| -> String {
        match arn.char_indices().rev().nth(6) {
            Some((i, '-')) if arn.get(i..).is_some_and(is_secret_suffix) => {
                arn.get(..i).unwrap_or(arn).to_string()
            }
            _ => arn.to_string(),
        }
    };
    policy_arn == resource || base(policy_arn) == base(resource)
}

/// The resource policies known for an account, shared by its subjects.
#[derive(Debug, Clone, Default)]
pub struct ResourcePolicies(Arc<Vec<(ResourcePolicy, NamedPolicy)>>);

impl ResourcePolicies {
    /// Indexes the resource policies of an account.
    pub fn new(policies: &[ResourcePolicy]) -> Self {
        let items = policies
            .iter()
            .map(|p| {
                let named = NamedPolicy {
                    name: format!("{} policy of {}", p.service.folder(), p.arn).into(),
                    policy: p.document.policy.clone(),
                };
                (p.clone(), named)
            })
            .collect();
        ResourcePolicies(Arc::new(items))
    }

    /// The policy that governs a request on `resource`, if known.
    pub fn for_resource(&self, resource: &str) -> Option<&NamedPolicy> {
        self.0.iter().find(|(p, _)| p.governs(resource)).map(|(_, n)| n)
    }

    /// Whether no resource policy is known.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The known policies.
    pub fn iter(&self) -> impl Iterator<Item = &ResourcePolicy> {
        self.0.iter().map(|(p, _)| p)
    }

    /// These policies and `more` (a policy already known for the same resource is kept).
    pub fn with(&self, more: &[ResourcePolicy]) -> ResourcePolicies {
        let mut all: Vec<ResourcePolicy> = self.iter().cloned().collect();
        for p in more {
            if !all.iter().any(|q| q.service == p.service && q.arn == p.arn) {
                all.push(p.clone());
            }
        }
        ResourcePolicies::new(&all)
    }
}

/// A resource whose resource-based policy is in play: its service and the ARN its policy is read for
/// (a bucket's ARN for its objects, a table's for its indexes, the unqualified function's).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InPlay {
    /// The service.
    pub service: ResourceService,
    /// The ARN of the resource that carries the policy.
    pub arn: String,
}

impl InPlay {
    /// The resource carrying the policy that governs requests on `arn`, when `arn` names one resource
    /// of a service iamfit reads resource policies of (`None` for patterns and other services).
    pub fn of_arn(arn: &str) -> Option<InPlay> {
        let service = ResourceService::of_arn(arn)?;
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [_, partition, _, region, account, tail] = parts.as_slice() else { return None };
        let concrete = |t: &str| !t.is_empty() && !t.contains(['*', '?', '$']);
        let arn = match service {
            ResourceService::S3 => {
                let bucket = tail.split('/').next().unwrap_or_default();
                concrete(bucket).then(|| format!("arn:{}:s3:::{bucket}", partition))?
            }
            ResourceService::DynamoDb => {
                let mut t = tail.split('/');
                let (kind, table) = (t.next().unwrap_or_default(), t.next().unwrap_or_default());
                (kind == "table" && concrete(table))
                    .then(|| format!("arn:{}:dynamodb:{region}:{account}:table/{table}", partition))?
            }
            ResourceService::Lambda => {
                let mut t = tail.split(':');
                let (kind, name) = (t.next().unwrap_or_default(), t.next().unwrap_or_default());
                (kind == "function" && concrete(name))
                    .then(|| format!("arn:{}:lambda:{region}:{account}:function:{name}", partition))?
            }
            ResourceService::SecretsManager => {
                // A policy's `secret:NAME-??????` stands for the one secret NAME.
                let name = tail.strip_prefix("secret:")?;
                let name = name.strip_suffix("-??????").or_else(|| name.strip_suffix('*')).unwrap_or(name);
                concrete(name)
                    .then(|| format!("arn:{}:secretsmanager:{region}:{account}:secret:{name}", partition))?
            }
            ResourceService::Kms => {
                let id = tail.strip_prefix("key/")?;
                concrete(id).then(|| arn.to_string())?
            }
            ResourceService::Events => {
                let bus = tail.strip_prefix("event-bus/")?;
                concrete(bus).then(|| arn.to_string())?
            }
            ResourceService::Ecr => {
                let repo = tail.strip_prefix("repository/")?;
                concrete(repo).then(|| arn.to_string())?
            }
            ResourceService::Sqs | ResourceService::Sns => concrete(tail).then(|| arn.to_string())?,
        };
        let concrete_scope = [region, account].iter().all(|p| !p.contains(['*', '?', '$']));
        concrete_scope.then_some(InPlay { service, arn })
    }

    /// The region of the resource (empty for S3).
    pub fn region(&self) -> &str {
        self.arn.split(':').nth(3).unwrap_or_default()
    }

    /// The account of the resource (empty for S3).
    pub fn account(&self) -> &str {
        self.arn.split(':').nth(4).unwrap_or_default()
    }

    /// The resource's last name (`key/ID` -> `ID`, `function:F` -> `F`, a bucket's name).
    pub fn name(&self) -> &str {
        resource_name(&self.arn)
    }
}

/// The resources in play for the given subjects: every concrete resource their policies name (in
/// `Resource`, not `NotResource`; after the principal's policy variables are resolved) and every
/// resource the usage shows (`usage`: the calls of a trail or recording), of the services whose
/// resource policies iamfit reads. Patterns name no resource: there is nothing to read for them.
pub fn in_play(subjects: &[&super::Subject], usage: Option<&iamfit_trail::usage::Usage>) -> Vec<InPlay> {
    let mut out = std::collections::BTreeSet::new();
    for subject in subjects {
        let set = &subject.policies;
        let policies = set.identity.iter().chain(set.boundary.iter()).chain(set.session.iter());
        for named in policies {
            for st in &named.policy.statements {
                let Some(res) = st.resource.as_ref().filter(|r| !r.negated) else { continue };
                out.extend(res.entries.iter().filter_map(|e| InPlay::of_arn(&e.raw)));
            }
        }
    }
    if let Some(usage) = usage {
        out.extend(usage.calls.keys().filter_map(|(_, resource)| InPlay::of_arn(resource)));
        for a in usage.actions.values() {
            out.extend(a.resources.set.iter().filter_map(|r| InPlay::of_arn(r)));
        }
    }
    out.into_iter().collect()
}

/// A resource policy that could not be read: what it means for the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unread {
    /// The resource.
    pub resource: InPlay,
    /// The call that failed and why (`kms:GetKeyPolicy denied`).
    pub why: String,
}

impl Unread {
    /// The note for the user: what decisions on the resource assume.
    pub fn note(&self) -> String {
        let what = match self.resource.service {
            ResourceService::Kms => "key policy",
            ResourceService::S3 => "bucket policy",
            ResourceService::Sqs => "queue policy",
            ResourceService::Sns => "topic policy",
            ResourceService::SecretsManager => "secret's resource policy",
            ResourceService::Lambda => "function policy",
            ResourceService::DynamoDb => "table's resource policy",
            ResourceService::Events => "event bus policy",
            ResourceService::Ecr => "repository policy",
        };
        let assumption = match self.resource.service {
            ResourceService::Kms => {
                "assume AWS's default key policy (which lets the account's IAM policies allow)"
            }
            _ => "cover the identity side only",
        };
        format!(
            "the {what} of {} could not be read ({}): decisions on {} {assumption}",
            self.resource.arn, self.why, self.resource.arn
        )
    }
}

/// The file name (without `.json`) of a resource's policy: the ARN with `%`, `/` and `:` written
/// `%25`, `%2F` and `%3A`; for S3 the bucket name alone.
pub fn file_stem(service: ResourceService, arn: &str) -> String {
    if service == ResourceService::S3 {
        if let Some(bucket) = arn.strip_prefix("arn:aws:s3:::") {
            return bucket.to_string();
        }
    }
    arn.replace('%', "%25").replace('/', "%2F").replace(':', "%3A")
}

/// The resource ARN a file stands for: its decoded name, an S3 bucket name, or (when the name is not
/// an ARN) the ARN inside the output (`ARN` of Secrets Manager, `Arn` of EventBridge, `TopicArn` of SNS).
fn arn_of(service: ResourceService, stem: &str, output: &Value) -> Option<String> {
    let decoded = percent_encoding::percent_decode_str(stem).decode_utf8().ok()?.into_owned();
    if decoded.starts_with("arn:") {
        return Some(decoded);
    }
    if service == ResourceService::S3 {
        return Some(format!("arn:aws:s3:::{decoded}"));
    }
    ["ARN", "Arn"]
        .iter()
        .find_map(|k| output.get(*k))
        .or_else(|| output.get("Attributes").and_then(|a| a.get("TopicArn")))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Reads `DIR/resource-policies/`: every `<service>/<file>.json` of a known service.
pub fn read(dir: &Path) -> Result<Vec<ResourcePolicy>, SnapshotError> {
    let mut out = Vec::new();
    let root = dir.join("resource-policies");
    for service in ResourceService::ALL {
        for path in super::snapshot::json_files(&root.join(service.folder()))? {
            let output = super::snapshot::read_json(&path)?;
            let shape = |message: String| SnapshotError::Shape { path: path.clone(), message };
            let stem = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
            let arn = arn_of(service, &stem, &output).ok_or_else(|| {
                shape("the file name is not the resource's ARN (with / and : written %2F and %3A)".into())
            })?;
            let text = service
                .policy_text(&output)
                .ok_or_else(|| shape(format!("no policy text where `{}` puts it", get_call(service))))?;
            let document = PolicyDocument::from_api_text(text)
                .map_err(|e| shape(format!("the policy is not valid: {e}")))?;
            out.push(ResourcePolicy { service, arn, document });
        }
    }
    Ok(out)
}

/// The AWS CLI call whose output a file holds.
pub fn get_call(service: ResourceService) -> &'static str {
    match service {
        ResourceService::Kms => "aws kms get-key-policy",
        ResourceService::S3 => "aws s3api get-bucket-policy",
        ResourceService::Sqs => "aws sqs get-queue-attributes --attribute-names Policy",
        ResourceService::Sns => "aws sns get-topic-attributes",
        ResourceService::SecretsManager => "aws secretsmanager get-resource-policy",
        ResourceService::Lambda => "aws lambda get-policy",
        ResourceService::DynamoDb => "aws dynamodb get-resource-policy",
        ResourceService::Events => "aws events describe-event-bus",
        ResourceService::Ecr => "aws ecr get-repository-policy",
    }
}

/// Writes `DIR/resource-policies/` in the layout [`read`] reads.
pub fn write(dir: &Path, policies: &[ResourcePolicy]) -> Result<(), SnapshotError> {
    for p in policies {
        let folder = dir.join("resource-policies").join(p.service.folder());
        std::fs::create_dir_all(&folder)
            .map_err(|source| SnapshotError::Io { path: folder.clone(), source })?;
        let text = serde_json::to_string(&p.document.json).unwrap_or_default();
        let path = folder.join(format!("{}.json", file_stem(p.service, &p.arn)));
        let body = serde_json::to_string_pretty(&p.service.output(&p.arn, &text)).unwrap_or_default() + "\n";
        std::fs::write(&path, body).map_err(|source| SnapshotError::Io { path, source })?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn file_names_round_trip_to_arns() {
        let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        let stem = file_stem(ResourceService::Kms, key);
        assert_eq!(
            stem,
            "arn%3Aaws%3Akms%3Aus-east-1%3A111122223333%3Akey%2F1234abcd-12ab-34cd-56ef-1234567890ab"
        );
        assert_eq!(arn_of(ResourceService::Kms, &stem, &Value::Null).as_deref(), Some(key));
        assert_eq!(file_stem(ResourceService::S3, "arn:aws:s3:::orders"), "orders");
        assert_eq!(
            arn_of(ResourceService::S3, "orders", &Value::Null).as_deref(),
            Some("arn:aws:s3:::orders")
        );
        let secret =
            json!({"ARN": "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf", "Name": "db"});
        assert_eq!(
            arn_of(ResourceService::SecretsManager, "db", &secret).as_deref(),
            Some("arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf")
        );
    }

    /// Every service's file is written as that service's CLI output and read back to the same policy.
    #[test]
    fn written_files_read_back_for_every_service() {
        let dir = tempfile::tempdir().unwrap();
        let doc = PolicyDocument::from_value(&json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "S", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "*", "Resource": "*"}]}))
        .unwrap();
        let arns = [
            "arn:aws:kms:us-east-1:111122223333:key/k1",
            "arn:aws:s3:::orders",
            "arn:aws:sqs:us-east-1:111122223333:jobs",
            "arn:aws:sns:us-east-1:111122223333:events",
            "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf",
            "arn:aws:lambda:us-east-1:111122223333:function:orders",
            "arn:aws:dynamodb:us-east-1:111122223333:table/orders",
            "arn:aws:events:us-east-1:111122223333:event-bus/default",
            "arn:aws:ecr:us-east-1:111122223333:repository/app",
        ];
        let policies: Vec<ResourcePolicy> = arns
            .iter()
            .map(|arn| ResourcePolicy {
                service: ResourceService::of_arn(arn).unwrap(),
                arn: arn.to_string(),
                document: doc.clone(),
            })
            .collect();
        write(dir.path(), &policies).unwrap();
        // `aws sqs get-queue-attributes --attribute-names Policy` nests the policy text in Attributes.
        let sqs: Value = serde_json::from_str(
            &std::fs::read_to_string(
                dir.path()
                    .join("resource-policies/sqs/arn%3Aaws%3Asqs%3Aus-east-1%3A111122223333%3Ajobs.json"),
            )
            .unwrap(),
        )
        .unwrap();
        assert!(sqs["Attributes"]["Policy"].is_string());
        let key = |p: &ResourcePolicy| (p.service, p.arn.clone(), p.document.json.to_string());
        let mut back: Vec<_> = read(dir.path()).unwrap().iter().map(key).collect();
        back.sort();
        let mut want: Vec<_> = policies.iter().map(key).collect();
        want.sort();
        assert_eq!(back, want);
    }

    /// The resource whose policy governs each ARN a policy may name; patterns name none. Which
    /// policy governs what: S3 bucket policies cover the bucket's objects
    /// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html), DynamoDB
    /// table policies the table's indexes and streams
    /// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/access-control-resource-based.html),
    /// Lambda function policies the function's versions and aliases
    /// (https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html).
    #[test]
    fn in_play_names_the_resource_that_carries_the_policy() {
        let of = |arn: &str| InPlay::of_arn(arn).map(|r| (r.service, r.arn));
        let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        assert_eq!(of(key), Some((ResourceService::Kms, key.to_string())));
        assert_eq!(of("arn:aws:kms:us-east-1:111122223333:key/*"), None);
        assert_eq!(of("arn:aws:kms:us-east-1:111122223333:alias/orders"), None, "a key policy is on the key");
        assert_eq!(
            of("arn:aws:s3:::orders-data/*"),
            Some((ResourceService::S3, "arn:aws:s3:::orders-data".into()))
        );
        assert_eq!(of("arn:aws:s3:::orders-*/*"), None);
        assert_eq!(
            of("arn:aws:dynamodb:us-east-1:111122223333:table/orders/index/*"),
            Some((ResourceService::DynamoDb, "arn:aws:dynamodb:us-east-1:111122223333:table/orders".into()))
        );
        assert_eq!(
            of("arn:aws:lambda:us-east-1:111122223333:function:orders:*"),
            Some((ResourceService::Lambda, "arn:aws:lambda:us-east-1:111122223333:function:orders".into()))
        );
        assert_eq!(
            of("arn:aws:secretsmanager:us-east-1:111122223333:secret:db-??????"),
            Some((
                ResourceService::SecretsManager,
                "arn:aws:secretsmanager:us-east-1:111122223333:secret:db".into()
            ))
        );
        assert_eq!(of("arn:aws:sqs:*:111122223333:jobs"), None);
        assert_eq!(of("arn:aws:sqs:us-east-1:111122223333:${aws:username}"), None);
        assert_eq!(of("arn:aws:logs:us-east-1:111122223333:log-group:x"), None, "no resource policy read");
        assert_eq!(of("*"), None);
    }

    #[test]
    fn in_play_lists_the_subjects_and_the_usage_resources() {
        let mut account = super::super::Account::default();
        let doc = PolicyDocument::from_value(&json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::orders/*", "arn:aws:s3:::orders/a"]},
            {"Effect": "Allow", "Action": "sqs:*", "NotResource": "arn:aws:sqs:us-east-1:111122223333:never"},
            {"Effect": "Deny", "Action": "kms:*", "Resource": "arn:aws:kms:us-east-1:111122223333:key/k1"}]}))
        .unwrap();
        account.roles.push(super::super::Role {
            name: "r".into(),
            arn: "arn:aws:iam::111122223333:role/r".into(),
            inline: vec![super::super::InlinePolicy { name: "p".into(), document: doc }],
            ..Default::default()
        });
        let subject = account.role_subject("arn:aws:iam::111122223333:role/r", "s").unwrap();
        let arns = |v: Vec<InPlay>| v.into_iter().map(|r| r.arn).collect::<Vec<_>>();
        assert_eq!(
            arns(in_play(&[&subject], None)),
            ["arn:aws:kms:us-east-1:111122223333:key/k1", "arn:aws:s3:::orders"]
        );
        let mut usage = iamfit_trail::usage::Usage::default();
        usage.calls.insert(
            ("sqs:SendMessage".into(), "arn:aws:sqs:us-east-1:111122223333:jobs".into()),
            Default::default(),
        );
        assert_eq!(
            arns(in_play(&[&subject], Some(&usage))),
            [
                "arn:aws:kms:us-east-1:111122223333:key/k1",
                "arn:aws:s3:::orders",
                "arn:aws:sqs:us-east-1:111122223333:jobs"
            ]
        );
    }

    #[test]
    fn an_unread_policy_says_what_the_decisions_assume() {
        let key = InPlay::of_arn("arn:aws:kms:us-east-1:111122223333:key/k1").unwrap();
        let note = Unread { resource: key, why: "kms:GetKeyPolicy denied".into() }.note();
        assert!(note.starts_with("the key policy of arn:aws:kms:us-east-1:111122223333:key/k1 could not be read (kms:GetKeyPolicy denied): decisions on arn:aws:kms:us-east-1:111122223333:key/k1 assume AWS's default key policy"), "{note}");
        let bucket = InPlay::of_arn("arn:aws:s3:::orders").unwrap();
        let note = Unread { resource: bucket, why: "s3:GetBucketPolicy denied".into() }.note();
        assert!(note.ends_with("cover the identity side only"), "{note}");
    }

    /// Secrets Manager appends `-` and six random characters to a secret's name in its ARN; policies
    /// write them `-??????` (https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_iam-policies.html).
    #[test]
    fn a_secret_policy_governs_its_secret_with_or_without_the_suffix() {
        let doc = PolicyDocument::from_value(&json!({"Version": "2012-10-17", "Statement": []})).unwrap();
        let arn = "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf";
        let p = ResourcePolicy { service: ResourceService::SecretsManager, arn: arn.into(), document: doc };
        assert!(p.governs(arn));
        assert!(p.governs("arn:aws:secretsmanager:us-east-1:111122223333:secret:db-??????"));
        assert!(p.governs("arn:aws:secretsmanager:us-east-1:111122223333:secret:db"));
        assert!(!p.governs("arn:aws:secretsmanager:us-east-1:111122223333:secret:db-prod-XyZ123"));
        assert!(!p.governs("arn:aws:secretsmanager:us-east-1:111122223333:secret:dbx-AbCdEf"));
        let by_name =
            ResourcePolicy { arn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:db".into(), ..p };
        assert!(by_name.governs(arn));
    }

    #[test]
    fn a_bucket_policy_governs_its_objects_only() {
        let doc = PolicyDocument::from_value(&json!({"Version": "2012-10-17", "Statement": []})).unwrap();
        let p =
            ResourcePolicy { service: ResourceService::S3, arn: "arn:aws:s3:::orders".into(), document: doc };
        assert!(p.governs("arn:aws:s3:::orders"));
        assert!(p.governs("arn:aws:s3:::orders/2024/a.json"));
        assert!(!p.governs("arn:aws:s3:::orders-archive/a.json"));
    }
}
