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
    /// `aws kms get-key-policy --key-id KEY --policy-name default`: `{"Policy": TEXT, ...}`.
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
            ResourceService::SecretsManager => json!({"ARN": arn, "Name": name, "ResourcePolicy": text}),
            ResourceService::Events => json!({"Name": name, "Arn": arn, "Policy": text}),
            ResourceService::Ecr => json!({
                "registryId": arn.split(':').nth(4).unwrap_or_default(),
                "repositoryName": name,
                "policyText": text
            }),
            ResourceService::Kms => json!({"Policy": text, "PolicyName": "default"}),
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
