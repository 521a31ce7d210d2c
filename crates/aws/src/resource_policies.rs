//! Live reads of the resource-based policies of the resources in play (listed by
//! [`iamfit_core::account::resources::in_play`]), concurrently on the adapter's runtime: KMS
//! `GetKeyPolicy` (policy `default`), S3 `GetBucketPolicy`, SQS `GetQueueUrl` + `GetQueueAttributes`
//! (`Policy`), SNS `GetTopicAttributes`, Secrets Manager `GetResourcePolicy`, Lambda `GetPolicy`,
//! DynamoDB `GetResourcePolicy`, EventBridge `DescribeEventBus` and ECR `GetRepositoryPolicy`.
//!
//! A resource without a policy has no resource-based layer (not an error); a refused or failed read
//! is an [`Unread`] whose note says what the decisions on that resource assume.

use std::time::{Duration, Instant};

use aws_config::{Region, SdkConfig};
use aws_sdk_iam::config::http::HttpResponse;
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};

use iamfit_core::account::resources::{InPlay, ResourcePolicy, ResourceService, Unread};
use iamfit_core::account::PolicyDocument;

use crate::error::{classify, Call};
use crate::live::LiveError;

/// Reads in flight at once.
const CONCURRENCY: usize = 32;

/// What the reads found.
#[derive(Debug, Clone, Default)]
pub struct Read {
    /// The policies of the resources that have one.
    pub policies: Vec<ResourcePolicy>,
    /// The resources whose policy could not be read.
    pub unread: Vec<Unread>,
    /// Resources read that have no resource-based policy.
    pub without_policy: usize,
    /// Resources that do not exist (no policy governs a request on them; the request itself fails).
    pub not_found: Vec<InPlay>,
    /// API calls made.
    pub calls: usize,
    /// Wall time of the concurrent reads.
    pub wall: Duration,
}

impl Read {
    /// The figures of the reads, for the user (each unread policy has its own note on the subjects,
    /// [`Unread::note`]).
    pub fn figures(&self) -> Option<String> {
        if self.calls == 0 {
            return None;
        }
        let missing = match self.not_found.len() {
            0 => String::new(),
            n => format!(", {n} not found"),
        };
        Some(format!(
            "live: read the resource policies of {} resources in play ({} with a policy, {} without{missing}, {} unreadable): {} calls in {} ms, concurrently",
            self.policies.len() + self.without_policy + self.not_found.len() + self.unread.len(),
            self.policies.len(),
            self.without_policy,
            self.unread.len(),
            self.calls,
            self.wall.as_millis()
        ))
    }
}

/// What one resource's read gave.
enum Outcome {
    /// The policy text (and, for Secrets Manager, the secret's full ARN).
    Policy(String, Option<String>),
    /// The resource has no resource-based policy.
    NoPolicy,
    /// The resource does not exist.
    NotFound,
    /// The read failed: why.
    Unread(String),
}

/// Reads the policies of `wanted`, concurrently (at most [`CONCURRENCY`] at once). Never fails:
/// what cannot be read is in [`Read::unread`].
pub async fn read(config: &SdkConfig, wanted: &[InPlay]) -> Read {
    let start = Instant::now();
    let done = read_all(config, wanted).await;
    tally(wanted, done, start.elapsed())
}

/// One finished read: the resource's index in `wanted`, the outcome, the calls made.
type Done = (usize, Outcome, usize);

/// Runs the reads with at most [`CONCURRENCY`] in flight (a trail can name hundreds of resources).
async fn read_all(config: &SdkConfig, wanted: &[InPlay]) -> Vec<Done> {
    let mut tasks = tokio::task::JoinSet::new();
    let mut pending = wanted.iter().enumerate();
    let mut done = Vec::new();
    loop {
        while tasks.len() < CONCURRENCY {
            let Some((i, r)) = pending.next() else { break };
            let config = regional(config, r);
            let r = r.clone();
            tasks.spawn(async move {
                let (outcome, calls) = read_one(&config, &r).await;
                (i, outcome, calls)
            });
        }
        match tasks.join_next().await {
            Some(Ok(item)) => done.push(item),
            Some(Err(_)) => {}
            None => break,
        }
    }
    done
}

/// Sorts the outcomes into the [`Read`]; a resource whose task did not finish is unread.
fn tally(wanted: &[InPlay], mut done: Vec<Done>, wall: Duration) -> Read {
    let mut out = Read { wall, ..Read::default() };
    for (i, resource) in wanted.iter().enumerate() {
        let Some(pos) = done.iter().position(|(j, _, _)| *j == i) else {
            out.unread.push(Unread { resource: resource.clone(), why: "the read did not finish".into() });
            continue;
        };
        let (_, outcome, calls) = done.swap_remove(pos);
        out.calls += calls;
        match outcome {
            Outcome::Policy(text, arn) => match PolicyDocument::from_api_text(&text) {
                Ok(document) => out.policies.push(ResourcePolicy {
                    service: resource.service,
                    arn: arn.unwrap_or_else(|| resource.arn.clone()),
                    document,
                }),
                Err(e) => out.unread.push(Unread {
                    resource: resource.clone(),
                    why: format!("the policy is not valid: {e}"),
                }),
            },
            Outcome::NoPolicy => out.without_policy += 1,
            Outcome::NotFound => out.not_found.push(resource.clone()),
            Outcome::Unread(why) => out.unread.push(Unread { resource: resource.clone(), why }),
        }
    }
    out
}

/// The configuration for the resource's region (S3 and resources in the configured region keep it).
fn regional(config: &SdkConfig, r: &InPlay) -> SdkConfig {
    let region = r.region();
    if region.is_empty() || config.region().is_some_and(|c| c.as_ref() == region) {
        return config.clone();
    }
    config.to_builder().region(Region::new(region.to_string())).build()
}

/// The outcome of a failed call: `no_policy` lists the error codes that mean "no policy".
fn failed<E>(err: SdkError<E, HttpResponse>, no_policy: &[&str], call: &'static str, r: &InPlay) -> Outcome
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if err.code().is_some_and(|c| no_policy.contains(&c)) {
        return Outcome::NoPolicy;
    }
    let why = match classify(&err, Call { call, permission: call, what: "resource", target: &r.arn }) {
        LiveError::AccessDenied { .. } => format!("{call} denied"),
        LiveError::NotFound { .. } => return Outcome::NotFound,
        LiveError::Throttled { .. } => format!("{call} was throttled after every retry"),
        LiveError::Other { detail, .. } => format!("{call} failed: {detail}"),
        other => format!("{call} failed: {other}"),
    };
    Outcome::Unread(why)
}

/// The policy text of a successful call, or "no policy" when the answer holds none.
fn policy(text: Option<&str>, arn: Option<&str>) -> Outcome {
    match text.filter(|t| !t.trim().is_empty()) {
        Some(t) => Outcome::Policy(t.to_string(), arn.map(str::to_string)),
        None => Outcome::NoPolicy,
    }
}

/// Reads one resource's policy: the outcome and the number of calls made.
async fn read_one(config: &SdkConfig, r: &InPlay) -> (Outcome, usize) {
    match r.service {
        ResourceService::Kms => (kms(config, r).await, 1),
        ResourceService::S3 => s3(config, r).await,
        ResourceService::Sqs => sqs(config, r).await,
        ResourceService::Sns => (sns(config, r).await, 1),
        ResourceService::SecretsManager => (secret(config, r).await, 1),
        ResourceService::Lambda => (lambda(config, r).await, 1),
        ResourceService::DynamoDb => (dynamodb(config, r).await, 1),
        ResourceService::Events => (events(config, r).await, 1),
        ResourceService::Ecr => (ecr(config, r).await, 1),
    }
}

async fn kms(config: &SdkConfig, r: &InPlay) -> Outcome {
    let client = aws_sdk_kms::Client::new(config);
    match client.get_key_policy().key_id(&r.arn).policy_name("default").send().await {
        Ok(out) => policy(out.policy(), None),
        Err(e) => failed(e, &[], "kms:GetKeyPolicy", r),
    }
}

/// `GetBucketPolicy`; a bucket of another region answers with its region (`x-amz-bucket-region`),
/// where the call is made again.
async fn s3(config: &SdkConfig, r: &InPlay) -> (Outcome, usize) {
    let get = |config: SdkConfig| async move {
        let conf = aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build();
        aws_sdk_s3::Client::from_conf(conf).get_bucket_policy().bucket(r.name()).send().await
    };
    let first = get(config.clone()).await;
    let err = match first {
        Ok(out) => return (policy(out.policy(), None), 1),
        Err(e) => e,
    };
    let region = err
        .raw_response()
        .and_then(|resp| resp.headers().get("x-amz-bucket-region"))
        .map(str::to_string)
        .filter(|region| config.region().is_none_or(|c| c.as_ref() != region.as_str()));
    let Some(region) = region else {
        return (failed(err, &["NoSuchBucketPolicy"], "s3:GetBucketPolicy", r), 1);
    };
    let again = get(config.to_builder().region(Region::new(region)).build()).await;
    match again {
        Ok(out) => (policy(out.policy(), None), 2),
        Err(e) => (failed(e, &["NoSuchBucketPolicy"], "s3:GetBucketPolicy", r), 2),
    }
}

/// `GetQueueUrl` (the queue's name and owner) then `GetQueueAttributes --attribute-names Policy`.
async fn sqs(config: &SdkConfig, r: &InPlay) -> (Outcome, usize) {
    let client = aws_sdk_sqs::Client::new(config);
    let url = match client
        .get_queue_url()
        .queue_name(r.name())
        .queue_owner_aws_account_id(r.account())
        .send()
        .await
    {
        Ok(out) => out.queue_url().unwrap_or_default().to_string(),
        Err(e) => return (failed(e, &[], "sqs:GetQueueUrl", r), 1),
    };
    let got = client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::Policy)
        .send()
        .await;
    let outcome = match got {
        Ok(out) => {
            let text = out.attributes().and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::Policy));
            policy(text.map(String::as_str), None)
        }
        Err(e) => failed(e, &[], "sqs:GetQueueAttributes", r),
    };
    (outcome, 2)
}

async fn sns(config: &SdkConfig, r: &InPlay) -> Outcome {
    let client = aws_sdk_sns::Client::new(config);
    match client.get_topic_attributes().topic_arn(&r.arn).send().await {
        Ok(out) => policy(out.attributes().and_then(|a| a.get("Policy")).map(String::as_str), None),
        Err(e) => failed(e, &[], "sns:GetTopicAttributes", r),
    }
}

async fn secret(config: &SdkConfig, r: &InPlay) -> Outcome {
    let client = aws_sdk_secretsmanager::Client::new(config);
    // A full ARN ends in `-` and six random characters; a policy's `secret:NAME-??????` became
    // `secret:NAME`, which is read by the secret's name.
    let name = r.arn.split_once(":secret:").map_or(r.name(), |(_, name)| name);
    let full = name
        .rsplit_once('-')
        .is_some_and(|(_, s)| s.len() == 6 && s.chars().all(|c| c.is_ascii_alphanumeric()));
    let id = if full { r.arn.as_str() } else { name };
    match client.get_resource_policy().secret_id(id).send().await {
        Ok(out) => policy(out.resource_policy(), out.arn()),
        Err(e) => failed(e, &[], "secretsmanager:GetResourcePolicy", r),
    }
}

async fn lambda(config: &SdkConfig, r: &InPlay) -> Outcome {
    let client = aws_sdk_lambda::Client::new(config);
    match client.get_policy().function_name(&r.arn).send().await {
        Ok(out) => policy(out.policy(), None),
        // "The resource you requested does not exist": the function has no resource-based policy.
        Err(e) => failed(e, &["ResourceNotFoundException"], "lambda:GetPolicy", r),
    }
}

async fn dynamodb(config: &SdkConfig, r: &InPlay) -> Outcome {
    let client = aws_sdk_dynamodb::Client::new(config);
    match client.get_resource_policy().resource_arn(&r.arn).send().await {
        Ok(out) => policy(out.policy(), None),
        Err(e) => failed(e, &["PolicyNotFoundException"], "dynamodb:GetResourcePolicy", r),
    }
}

async fn events(config: &SdkConfig, r: &InPlay) -> Outcome {
    let client = aws_sdk_eventbridge::Client::new(config);
    // By ARN: the bus may be another account's.
    match client.describe_event_bus().name(&r.arn).send().await {
        Ok(out) => policy(out.policy(), None),
        Err(e) => failed(e, &[], "events:DescribeEventBus", r),
    }
}

async fn ecr(config: &SdkConfig, r: &InPlay) -> Outcome {
    let client = aws_sdk_ecr::Client::new(config);
    let repo = r.arn.split_once(":repository/").map_or(r.name(), |(_, name)| name);
    match client.get_repository_policy().repository_name(repo).registry_id(r.account()).send().await {
        Ok(out) => policy(out.policy_text(), None),
        Err(e) => failed(e, &["RepositoryPolicyNotFoundException"], "ecr:GetRepositoryPolicy", r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(arn: &str) -> InPlay {
        InPlay::of_arn(arn).unwrap()
    }

    #[test]
    fn outcomes_are_tallied_and_an_unfinished_read_is_unread() {
        let wanted = [
            r("arn:aws:kms:us-east-1:111122223333:key/k1"),
            r("arn:aws:s3:::orders"),
            r("arn:aws:sqs:us-east-1:111122223333:jobs"),
            r("arn:aws:sns:us-east-1:111122223333:gone"),
            r("arn:aws:lambda:us-east-1:111122223333:function:f"),
        ];
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#;
        let done = vec![
            (2, Outcome::Unread("sqs:GetQueueAttributes denied".into()), 2),
            (0, Outcome::Policy(policy.into(), None), 1),
            (1, Outcome::NoPolicy, 1),
            (3, Outcome::NotFound, 1),
        ];
        let read = tally(&wanted, done, Duration::from_millis(12));
        assert_eq!(read.calls, 5);
        assert_eq!(read.policies.len(), 1);
        assert_eq!(read.policies[0].arn, "arn:aws:kms:us-east-1:111122223333:key/k1");
        assert_eq!(read.without_policy, 1);
        assert_eq!(read.not_found.len(), 1);
        let unread: Vec<(&str, &str)> =
            read.unread.iter().map(|u| (u.resource.arn.as_str(), u.why.as_str())).collect();
        assert_eq!(
            unread,
            [
                ("arn:aws:sqs:us-east-1:111122223333:jobs", "sqs:GetQueueAttributes denied"),
                ("arn:aws:lambda:us-east-1:111122223333:function:f", "the read did not finish"),
            ]
        );
        assert_eq!(
            read.figures().unwrap(),
            "live: read the resource policies of 5 resources in play (1 with a policy, 1 without, 1 not found, 2 unreadable): 5 calls in 12 ms, concurrently"
        );
    }
}
