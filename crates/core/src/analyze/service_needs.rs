//! What the Lambda service itself needs from a function's execution role.
//!
//! An execution role serves two callers: the function's code, and the Lambda service acting for the
//! function. The service writes the function's logs, sends its traces, creates its network interfaces,
//! polls its event sources, delivers discarded events to a dead-letter queue or a destination and
//! mounts its file systems, all with the role. None of these calls is made by the code and most never
//! appear in CloudTrail as the function's own calls, so they are a third kind of evidence next to
//! CloudTrail and recordings: *needed by the function's configuration*.
//!
//! [`RULES`] is the reviewed table: each rule names the configuration that brings it, the actions,
//! what they act on and the AWS page that documents it. [`service_needs`] applies it to a
//! [`Function`] and gives the (action, resource, reason, Sid, citation) list ([`ServiceNeed`]) and the
//! [`Advisory`] notes for what is not a statement of the role (a key policy, a repository policy).
//!
//! The analyses use the list: `generate` adds them as their own statements
//! ([`crate::analyze::generate`]), `usage` marks them `needed-by-configuration`
//! ([`crate::analyze::usage`]), `audit` never calls them over-grants and reports those the role lacks
//! ([`usage_counting_needs`], [`missing_findings`]), and `diff` sets aside the mismatches they
//! explain ([`set_aside_mismatches`]).

use std::collections::BTreeSet;

use iamfit_catalog::Catalog;
use iamfit_policy::context::RequestContext;
use iamfit_policy::eval::{authorize_with, ConditionMode, Request, Verdict};
use iamfit_policy::wildcard;
use iamfit_trail::usage::{ActionUse, Usage};

use crate::account::{EventSourceMapping, Function, Subject};
use crate::analyze::audit::{Finding, Severity};
use crate::analyze::diff::{evaluate, mentions, Mismatch};
use crate::lint::codes::Code;

/// What a rule's actions act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    /// Every resource (`*`): the actions take no resource, or the guide grants them on `*`.
    All,
    /// The function's log group: `arn:P:logs:R:A:log-group:GROUP:*`.
    LogGroup,
    /// The configured resource itself (queue, topic, stream, broker, cluster, function, event bus).
    Target,
    /// The objects of the configured S3 bucket: `arn:P:s3:::BUCKET/*`.
    BucketObjects,
    /// The secret named by the event source mapping's `SourceAccessConfigurations`.
    Secret,
    /// The stream of a Kinesis enhanced fan-out consumer (`.../stream/S` of `.../stream/S/consumer/C`).
    StreamOfConsumer,
    /// A topic of the MSK cluster: `arn:P:kafka:R:A:topic/CLUSTER/UUID/TOPIC`.
    KafkaTopic,
    /// The consumer group of the MSK cluster: `arn:P:kafka:R:A:group/CLUSTER/UUID/GROUP`.
    KafkaGroup,
    /// Every file system of the access point's account and region, with the condition
    /// `elasticfilesystem:AccessPointArn` = the access point: offline, the access point is all the
    /// configuration names.
    FileSystemOfAccessPoint,
}

/// One reviewed rule: a feature of the function's configuration, the actions the Lambda service then
/// performs with the execution role, on what, and the AWS page that documents it.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// A stable name (`sqs-trigger`).
    pub id: &'static str,
    /// The Sid of the generated statements (`LambdaSqsTrigger`).
    pub sid: &'static str,
    /// The actions, as the guide lists them.
    pub actions: &'static [&'static str],
    /// What they act on.
    pub on: On,
    /// What Lambda does with them, for the reason ("polls the queue and deletes what it processed").
    pub does: &'static str,
    /// What breaks without them, for audit ("cannot poll").
    pub cannot: &'static str,
    /// How serious a missing permission is.
    pub severity: Severity,
    /// The AWS page that documents the permissions.
    pub citation: &'static str,
}

/// The network-interface actions of `AWSLambdaVPCAccessExecutionRole` (version 3), which the guide's
/// VPC page lists for a function attached to a VPC.
const VPC_ACTIONS: &[&str] = &[
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
];

/// The network actions the guide lists for event sources Lambda reaches inside a VPC (Amazon MQ, MSK,
/// self-managed Apache Kafka, DocumentDB).
const EVENT_SOURCE_NETWORK_ACTIONS: &[&str] = &[
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
];

const LOGS_PAGE: &str =
    "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html#monitoring-cloudwatchlogs-prereqs";
const LOG_GROUPS_PAGE: &str =
    "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html";
const XRAY_PAGE: &str = "https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html";
const VPC_PAGE: &str = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html";
const ASYNC_RECORDS_PAGE: &str =
    "https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html";
const SQS_PAGE: &str = "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html";
const KINESIS_PAGE: &str = "https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-create.html";
const KINESIS_ON_FAILURE_PAGE: &str =
    "https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html";
const DYNAMODB_PAGE: &str = "https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html";
const MQ_PAGE: &str = "https://docs.aws.amazon.com/lambda/latest/dg/with-mq.html";
const MSK_PAGE: &str = "https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html";
const KAFKA_PAGE: &str = "https://docs.aws.amazon.com/lambda/latest/dg/with-kafka.html";
const KAFKA_ON_FAILURE_PAGE: &str = "https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure.html";
const DOCUMENTDB_PAGE: &str = "https://docs.aws.amazon.com/lambda/latest/dg/with-documentdb.html";
const EFS_PAGE: &str = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-filesystem.html";
const ENV_ENCRYPTION_PAGE: &str =
    "https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html";
const IMAGES_PAGE: &str = "https://docs.aws.amazon.com/lambda/latest/dg/images-create.html";

/// The reviewed rules. Each row cites the Lambda Developer Guide page that lists its permissions
/// ("Lambda needs the following permissions ... Add them to your function's execution role").
///
/// Not rows, because the guide documents no execution-role permission for them: SnapStart, function
/// URLs (a resource-based policy on the function), layers (the layer's own permissions). Not rows,
/// because they are not the role's: a customer managed key on the environment variables (Lambda
/// decrypts through a grant; see [`Advisory`]) and container images in another account's ECR (the
/// repository policy).
pub const RULES: &[Rule] = &[
    // Every function: "Your execution role needs the following permissions to upload logs to
    // CloudWatch Logs" (Sending Lambda function logs to CloudWatch Logs, "Required IAM permissions").
    Rule {
        id: "logs",
        sid: "LambdaLogs",
        actions: &["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        on: On::LogGroup,
        does: "creates the log group and its streams and writes the function's logs",
        cannot: "cannot receive the function's logs",
        severity: Severity::Medium,
        citation: LOGS_PAGE,
    },
    // `LoggingConfig.LogGroup`: a custom log group (Configuring CloudWatch log groups): Lambda creates
    // it when it does not exist, and writes to it with the same three permissions.
    Rule {
        id: "custom-log-group",
        sid: "LambdaLogs",
        actions: &["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        on: On::LogGroup,
        does: "creates the custom log group (when missing) and its streams and writes the function's logs",
        cannot: "cannot receive the function's logs",
        severity: Severity::Medium,
        citation: LOG_GROUPS_PAGE,
    },
    // `TracingConfig.Mode = Active`: "Lambda needs the following permissions to send trace data to
    // X-Ray" (Visualize Lambda function invocations using AWS X-Ray, "Execution role permissions").
    Rule {
        id: "tracing",
        sid: "LambdaTracing",
        actions: &["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
        on: On::All,
        does: "sends the function's trace segments and telemetry to X-Ray",
        cannot: "cannot send traces to X-Ray",
        severity: Severity::Medium,
        citation: XRAY_PAGE,
    },
    // `VpcConfig.SubnetIds`: "Lambda uses your function's permissions to create and manage network
    // interfaces" (Giving Lambda functions access to resources in an Amazon VPC, "Execution role and
    // user permissions"; the actions of AWSLambdaVPCAccessExecutionRole v3, on "*":
    // ec2:DescribeNetworkInterfaces "only works if it's allowed on all resources").
    Rule {
        id: "vpc",
        sid: "LambdaVpc",
        actions: VPC_ACTIONS,
        on: On::All,
        does: "creates, describes and deletes the function's network interfaces in the VPC",
        cannot: "cannot create the function's network interfaces",
        severity: Severity::High,
        citation: VPC_PAGE,
    },
    // `DeadLetterConfig.TargetArn` (Capturing records of Lambda asynchronous invocations, "Adding a
    // dead-letter queue"): "Amazon SQS – sqs:SendMessage", "Amazon SNS – sns:Publish".
    Rule {
        id: "dead-letter-sqs",
        sid: "LambdaDeadLetter",
        actions: &["sqs:SendMessage"],
        on: On::Target,
        does: "sends discarded asynchronous events to the queue",
        cannot: "cannot receive discarded events",
        severity: Severity::Medium,
        citation: ASYNC_RECORDS_PAGE,
    },
    Rule {
        id: "dead-letter-sns",
        sid: "LambdaDeadLetter",
        actions: &["sns:Publish"],
        on: On::Target,
        does: "publishes discarded asynchronous events to the topic",
        cannot: "cannot receive discarded events",
        severity: Severity::Medium,
        citation: ASYNC_RECORDS_PAGE,
    },
    // Asynchronous destinations (`get-function-event-invoke-config` DestinationConfig; Capturing
    // records of Lambda asynchronous invocations): SQS sqs:SendMessage, SNS sns:Publish, Lambda
    // lambda:InvokeFunction, EventBridge events:PutEvents, S3 (on failure only) s3:PutObject and
    // s3:ListBucket.
    Rule {
        id: "destination-sqs",
        sid: "LambdaDestination",
        actions: &["sqs:SendMessage"],
        on: On::Target,
        does: "sends invocation records to the queue",
        cannot: "cannot receive invocation records",
        severity: Severity::Medium,
        citation: ASYNC_RECORDS_PAGE,
    },
    Rule {
        id: "destination-sns",
        sid: "LambdaDestination",
        actions: &["sns:Publish"],
        on: On::Target,
        does: "publishes invocation records to the topic",
        cannot: "cannot receive invocation records",
        severity: Severity::Medium,
        citation: ASYNC_RECORDS_PAGE,
    },
    Rule {
        id: "destination-lambda",
        sid: "LambdaDestination",
        actions: &["lambda:InvokeFunction"],
        on: On::Target,
        does: "invokes the function with invocation records",
        cannot: "cannot receive invocation records",
        severity: Severity::Medium,
        citation: ASYNC_RECORDS_PAGE,
    },
    Rule {
        id: "destination-eventbridge",
        sid: "LambdaDestination",
        actions: &["events:PutEvents"],
        on: On::Target,
        does: "puts invocation records on the event bus",
        cannot: "cannot receive invocation records",
        severity: Severity::Medium,
        citation: ASYNC_RECORDS_PAGE,
    },
    Rule {
        id: "destination-s3-objects",
        sid: "LambdaDestination",
        actions: &["s3:PutObject"],
        on: On::BucketObjects,
        does: "writes invocation records into the bucket",
        cannot: "cannot receive invocation records",
        severity: Severity::Medium,
        citation: ASYNC_RECORDS_PAGE,
    },
    Rule {
        id: "destination-s3-bucket",
        sid: "LambdaDestination",
        actions: &["s3:ListBucket"],
        on: On::Target,
        does: "lists the bucket it writes invocation records to",
        cannot: "cannot receive invocation records",
        severity: Severity::Medium,
        citation: ASYNC_RECORDS_PAGE,
    },
    // Amazon SQS event source mapping: "Lambda needs the following permissions to manage messages in
    // your Amazon SQS queue": sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes.
    Rule {
        id: "sqs-trigger",
        sid: "LambdaSqsTrigger",
        actions: &["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
        on: On::Target,
        does: "polls the queue, reads its attributes and deletes the messages it processed",
        cannot: "cannot poll",
        severity: Severity::High,
        citation: SQS_PAGE,
    },
    // Kinesis event source mapping: kinesis:DescribeStream, DescribeStreamSummary, GetRecords,
    // GetShardIterator, ListShards on the stream; SubscribeToShard on an enhanced fan-out consumer.
    Rule {
        id: "kinesis-trigger",
        sid: "LambdaKinesisTrigger",
        actions: &[
            "kinesis:DescribeStream",
            "kinesis:DescribeStreamSummary",
            "kinesis:GetRecords",
            "kinesis:GetShardIterator",
            "kinesis:ListShards",
        ],
        on: On::Target,
        does: "describes the stream and reads its shards",
        cannot: "cannot read the stream",
        severity: Severity::High,
        citation: KINESIS_PAGE,
    },
    Rule {
        id: "kinesis-consumer-stream",
        sid: "LambdaKinesisTrigger",
        actions: &[
            "kinesis:DescribeStream",
            "kinesis:DescribeStreamSummary",
            "kinesis:GetRecords",
            "kinesis:GetShardIterator",
            "kinesis:ListShards",
        ],
        on: On::StreamOfConsumer,
        does: "describes the consumer's stream and reads its shards",
        cannot: "cannot read the stream",
        severity: Severity::High,
        citation: KINESIS_PAGE,
    },
    Rule {
        id: "kinesis-consumer",
        sid: "LambdaKinesisTrigger",
        actions: &["kinesis:SubscribeToShard"],
        on: On::Target,
        does: "subscribes to the shards through the enhanced fan-out consumer",
        cannot: "cannot subscribe to the shards",
        severity: Severity::High,
        citation: KINESIS_PAGE,
    },
    // DynamoDB Streams event source mapping: "Lambda needs the following permissions to manage
    // resources related to your DynamoDB stream": dynamodb:DescribeStream, GetRecords,
    // GetShardIterator, ListStreams.
    Rule {
        id: "dynamodb-trigger",
        sid: "LambdaDynamodbTrigger",
        actions: &[
            "dynamodb:DescribeStream",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
            "dynamodb:ListStreams",
        ],
        on: On::Target,
        does: "describes the stream and reads its shards",
        cannot: "cannot read the stream",
        severity: Severity::High,
        citation: DYNAMODB_PAGE,
    },
    // Amazon MQ event source mapping ("Execution role permissions"): mq:DescribeBroker,
    // secretsmanager:GetSecretValue, and the network actions.
    Rule {
        id: "mq-trigger",
        sid: "LambdaMqTrigger",
        actions: &["mq:DescribeBroker"],
        on: On::Target,
        does: "describes the broker",
        cannot: "cannot connect to the broker",
        severity: Severity::High,
        citation: MQ_PAGE,
    },
    Rule {
        id: "mq-secret",
        sid: "LambdaMqTrigger",
        actions: &["secretsmanager:GetSecretValue"],
        on: On::Secret,
        does: "reads the broker's credentials",
        cannot: "cannot authenticate to the broker",
        severity: Severity::High,
        citation: MQ_PAGE,
    },
    Rule {
        id: "mq-network",
        sid: "LambdaMqTriggerNetwork",
        actions: EVENT_SOURCE_NETWORK_ACTIONS,
        on: On::All,
        does: "creates the network interfaces that reach the broker",
        cannot: "cannot reach the broker",
        severity: Severity::High,
        citation: MQ_PAGE,
    },
    // Amazon MSK event source mapping ("Required Lambda function execution role permissions", the
    // actions of AWSLambdaMSKExecutionRole): kafka:DescribeClusterV2, kafka:GetBootstrapBrokers and the
    // network actions; with IAM access control, the kafka-cluster actions on the cluster, its topics
    // and the consumer group; with SASL/SCRAM or mTLS, the secret.
    Rule {
        id: "msk-trigger",
        sid: "LambdaMskTrigger",
        actions: &["kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers"],
        on: On::Target,
        does: "describes the cluster and reads its bootstrap brokers",
        cannot: "cannot connect to the cluster",
        severity: Severity::High,
        citation: MSK_PAGE,
    },
    Rule {
        id: "msk-network",
        sid: "LambdaMskTriggerNetwork",
        actions: EVENT_SOURCE_NETWORK_ACTIONS,
        on: On::All,
        does: "creates the network interfaces that reach the cluster",
        cannot: "cannot reach the cluster",
        severity: Severity::High,
        citation: MSK_PAGE,
    },
    Rule {
        id: "msk-iam-cluster",
        sid: "LambdaMskTriggerIamAuth",
        actions: &["kafka-cluster:Connect", "kafka-cluster:DescribeClusterDynamicConfiguration"],
        on: On::Target,
        does: "connects to the cluster with IAM access control (no SASL/SCRAM or mTLS secret is configured)",
        cannot: "cannot connect to the cluster",
        severity: Severity::High,
        citation: MSK_PAGE,
    },
    Rule {
        id: "msk-iam-topic",
        sid: "LambdaMskTriggerIamAuth",
        actions: &["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
        on: On::KafkaTopic,
        does: "describes and reads the topic with IAM access control",
        cannot: "cannot read the topic",
        severity: Severity::High,
        citation: MSK_PAGE,
    },
    Rule {
        id: "msk-iam-group",
        sid: "LambdaMskTriggerIamAuth",
        actions: &["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"],
        on: On::KafkaGroup,
        does: "joins the consumer group with IAM access control",
        cannot: "cannot join its consumer group",
        severity: Severity::High,
        citation: MSK_PAGE,
    },
    Rule {
        id: "msk-secret",
        sid: "LambdaMskTrigger",
        actions: &["secretsmanager:GetSecretValue"],
        on: On::Secret,
        does: "reads the cluster's SASL/SCRAM or mTLS credentials",
        cannot: "cannot authenticate to the cluster",
        severity: Severity::High,
        citation: MSK_PAGE,
    },
    // Self-managed Apache Kafka ("Managing API access and permissions"): secretsmanager:GetSecretValue
    // for the authentication secrets; the network actions when the cluster is reached in a VPC
    // (VPC_SUBNET in SourceAccessConfigurations).
    Rule {
        id: "kafka-secret",
        sid: "LambdaKafkaTrigger",
        actions: &["secretsmanager:GetSecretValue"],
        on: On::Secret,
        does: "reads the cluster's credentials or certificates",
        cannot: "cannot authenticate to the cluster",
        severity: Severity::High,
        citation: KAFKA_PAGE,
    },
    Rule {
        id: "kafka-network",
        sid: "LambdaKafkaTriggerNetwork",
        actions: EVENT_SOURCE_NETWORK_ACTIONS,
        on: On::All,
        does: "creates the network interfaces that reach the cluster in its VPC",
        cannot: "cannot reach the cluster",
        severity: Severity::High,
        citation: KAFKA_PAGE,
    },
    // Amazon DocumentDB change streams ("Prerequisites and permissions"): rds:DescribeDBClusters,
    // rds:DescribeDBClusterParameters, rds:DescribeDBSubnetGroups, the network actions and
    // secretsmanager:GetSecretValue for the cluster's credentials.
    Rule {
        id: "documentdb-cluster",
        sid: "LambdaDocumentdbTrigger",
        actions: &["rds:DescribeDBClusters"],
        on: On::Target,
        does: "describes the cluster",
        cannot: "cannot read the change stream",
        severity: Severity::High,
        citation: DOCUMENTDB_PAGE,
    },
    Rule {
        id: "documentdb-describe",
        sid: "LambdaDocumentdbTrigger",
        actions: &["rds:DescribeDBClusterParameters", "rds:DescribeDBSubnetGroups"],
        on: On::All,
        does: "reads the cluster's parameters and subnet groups",
        cannot: "cannot read the change stream",
        severity: Severity::High,
        citation: DOCUMENTDB_PAGE,
    },
    Rule {
        id: "documentdb-secret",
        sid: "LambdaDocumentdbTrigger",
        actions: &["secretsmanager:GetSecretValue"],
        on: On::Secret,
        does: "reads the cluster's credentials",
        cannot: "cannot authenticate to the cluster",
        severity: Severity::High,
        citation: DOCUMENTDB_PAGE,
    },
    Rule {
        id: "documentdb-network",
        sid: "LambdaDocumentdbTriggerNetwork",
        actions: EVENT_SOURCE_NETWORK_ACTIONS,
        on: On::All,
        does: "creates the network interfaces that reach the cluster",
        cannot: "cannot reach the cluster",
        severity: Severity::High,
        citation: DOCUMENTDB_PAGE,
    },
    // The on-failure destination of a stream or Kafka event source mapping ("Your execution role
    // must have permissions for the destination"): SQS sqs:SendMessage, SNS sns:Publish, S3
    // s3:PutObject and s3:ListBucket.
    Rule {
        id: "trigger-on-failure-sqs",
        sid: "LambdaTriggerOnFailure",
        actions: &["sqs:SendMessage"],
        on: On::Target,
        does: "sends records of discarded batches to the queue",
        cannot: "cannot receive discarded batches",
        severity: Severity::Medium,
        citation: KINESIS_ON_FAILURE_PAGE,
    },
    Rule {
        id: "trigger-on-failure-sns",
        sid: "LambdaTriggerOnFailure",
        actions: &["sns:Publish"],
        on: On::Target,
        does: "publishes records of discarded batches to the topic",
        cannot: "cannot receive discarded batches",
        severity: Severity::Medium,
        citation: KINESIS_ON_FAILURE_PAGE,
    },
    Rule {
        id: "trigger-on-failure-s3-objects",
        sid: "LambdaTriggerOnFailure",
        actions: &["s3:PutObject"],
        on: On::BucketObjects,
        does: "writes discarded batches into the bucket",
        cannot: "cannot receive discarded batches",
        severity: Severity::Medium,
        citation: KAFKA_ON_FAILURE_PAGE,
    },
    Rule {
        id: "trigger-on-failure-s3-bucket",
        sid: "LambdaTriggerOnFailure",
        actions: &["s3:ListBucket"],
        on: On::Target,
        does: "lists the bucket it writes discarded batches to",
        cannot: "cannot receive discarded batches",
        severity: Severity::Medium,
        citation: KAFKA_ON_FAILURE_PAGE,
    },
    // `FileSystemConfigs` (Configuring file system access for Lambda functions, "Execution role and
    // user permissions"): elasticfilesystem:ClientMount, and ClientWrite "not required for read-only
    // connections" (read-only is a property of the file system policy or access point, which the
    // function's configuration does not show, so both are derived).
    Rule {
        id: "efs-mount",
        sid: "LambdaFileSystem",
        actions: &["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
        on: On::FileSystemOfAccessPoint,
        does: "mounts the file system through the access point (ClientWrite is not needed for a read-only mount, which the configuration does not show)",
        cannot: "cannot mount the file system",
        severity: Severity::High,
        citation: EFS_PAGE,
    },
];

/// The rule of an id (every id used below is in [`RULES`]; a test checks it).
fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// A condition a need's statement carries (`ArnEquals` `elasticfilesystem:AccessPointArn`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct NeedCondition {
    /// The operator (`ArnEquals`).
    pub operator: String,
    /// The condition key.
    pub key: String,
    /// The value (the request has exactly this value).
    pub value: String,
}

/// One permission the Lambda service needs from the execution role.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ServiceNeed {
    /// The catalog action.
    pub action: String,
    /// The resource as a policy names it (an ARN, an ARN pattern, or `*`).
    pub resource: String,
    /// A condition the statement carries, when the resource alone cannot be named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<NeedCondition>,
    /// The Sid of its statement (`LambdaSqsTrigger`).
    pub sid: String,
    /// Why the service needs it ("the SQS trigger on queue q: Lambda polls the queue ...").
    pub reason: String,
    /// What breaks without it ("the SQS trigger on queue q cannot poll").
    #[serde(skip)]
    pub failure: String,
    /// How serious a missing one is.
    #[serde(skip)]
    pub severity: Severity,
    /// The AWS page that documents it.
    pub citation: String,
}

impl ServiceNeed {
    /// The request context of the service's call (the condition's key, when there is one).
    pub fn context(&self) -> RequestContext {
        let mut ctx = RequestContext::new();
        if let Some(c) = &self.condition {
            ctx.set(&c.key, c.value.clone());
        }
        ctx
    }
}

/// Something the configuration needs that is not a statement of the execution role (a key policy, a
/// repository policy), or that iamfit cannot derive.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Advisory {
    /// What it is about (`kms-key`, `container-image`, ...).
    pub topic: String,
    /// What to check or do.
    pub message: String,
    /// The AWS page that documents it.
    pub citation: String,
}

/// What a function's configuration needs from the Lambda service's side.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceNeeds {
    /// The (action, resource) pairs the role must allow.
    pub needs: Vec<ServiceNeed>,
    /// What the role cannot provide (key and repository policies) or iamfit cannot derive.
    pub advisories: Vec<Advisory>,
    /// How the configuration was read (parts unknown).
    pub notes: Vec<String>,
}

impl ServiceNeeds {
    /// Whether an action is needed (on any resource).
    pub fn needs_action(&self, action: &str) -> bool {
        self.needs.iter().any(|n| n.action.eq_ignore_ascii_case(action))
    }

    /// The distinct Sids, in order of appearance.
    pub fn sids(&self) -> Vec<String> {
        let mut seen = BTreeSet::new();
        self.needs.iter().filter(|n| seen.insert(n.sid.clone())).map(|n| n.sid.clone()).collect()
    }
}

// ---------------------------------------------------------------------------------------------------
// Derivation

/// The service, region, account and resource part of an ARN.
struct Arn<'a> {
    partition: &'a str,
    service: &'a str,
    region: &'a str,
    account: &'a str,
    resource: &'a str,
}

fn arn(text: &str) -> Option<Arn<'_>> {
    let mut parts = text.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    Some(Arn {
        partition: parts.next()?,
        service: parts.next()?,
        region: parts.next()?,
        account: parts.next()?,
        resource: parts.next()?,
    })
}

/// The last name of an ARN's resource part (`q` of `...:q`, `s` of `stream/s`).
fn short_name(text: &str) -> &str {
    arn(text).map(|a| a.resource.rsplit(['/', ':']).next().unwrap_or(a.resource)).unwrap_or(text)
}

/// Collects needs while deriving, with what each applies to.
struct Builder<'a> {
    function: &'a Function,
    catalog: &'a Catalog,
    out: ServiceNeeds,
}

impl Builder<'_> {
    /// Adds a rule's actions on `resource` for `subject` ("the SQS trigger on queue q").
    fn add(&mut self, id: &str, subject: &str, target: &str, extra: Option<&str>) {
        let Some(rule) = rule(id) else { return };
        let Some((resource, condition)) = self.resource(rule.on, target, extra) else {
            self.out.advisories.push(Advisory {
                topic: rule.id.into(),
                message: format!(
                    "{subject}: iamfit cannot name the resource of {} from {target:?}; grant what {} documents by hand",
                    rule.actions.join(", "),
                    rule.citation
                ),
                citation: rule.citation.into(),
            });
            return;
        };
        for action in rule.actions {
            let resource_level =
                self.catalog.action(action).is_none_or(|a| a.supports_resource_level_permissions());
            let resource = if resource_level { resource.clone() } else { "*".to_string() };
            let duplicate = self
                .out
                .needs
                .iter()
                .any(|n| n.action == *action && n.resource == resource && n.condition == condition);
            if duplicate {
                continue;
            }
            self.out.needs.push(ServiceNeed {
                action: (*action).to_string(),
                resource,
                condition: condition.clone(),
                sid: rule.sid.into(),
                reason: format!("{subject}: Lambda {}", rule.does),
                failure: format!("{subject} {}", rule.cannot),
                severity: rule.severity,
                citation: rule.citation.into(),
            });
        }
    }

    /// The policy resource (and condition) of a rule's actions for one target.
    fn resource(&self, on: On, target: &str, extra: Option<&str>) -> Option<(String, Option<NeedCondition>)> {
        let f = self.function;
        let region = f.region().unwrap_or("*");
        let account = f.account().unwrap_or("*");
        let partition = f.partition();
        Some(match on {
            On::All => ("*".into(), None),
            On::LogGroup => (format!("arn:{partition}:logs:{region}:{account}:log-group:{target}:*"), None),
            On::Target | On::Secret => (arn(target).map(|_| target.to_string())?, None),
            On::BucketObjects => (format!("{}/*", target.trim_end_matches('/')), None),
            On::StreamOfConsumer => {
                let (stream, _) = target.split_once("/consumer/")?;
                (stream.to_string(), None)
            }
            On::KafkaTopic | On::KafkaGroup => {
                let a = arn(target)?;
                let cluster = a.resource.strip_prefix("cluster/")?;
                let kind = if on == On::KafkaTopic { "topic" } else { "group" };
                let name = extra?;
                (
                    format!("arn:{}:kafka:{}:{}:{kind}/{cluster}/{name}", a.partition, a.region, a.account),
                    None,
                )
            }
            On::FileSystemOfAccessPoint => {
                let a = arn(target)?;
                (
                    format!("arn:{}:elasticfilesystem:{}:{}:file-system/*", a.partition, a.region, a.account),
                    Some(NeedCondition {
                        operator: "ArnEquals".into(),
                        key: "elasticfilesystem:AccessPointArn".into(),
                        value: target.to_string(),
                    }),
                )
            }
        })
    }
}

/// What the Lambda service needs from the execution role of `function`, from its configuration, its
/// event source mappings and its asynchronous invocation configuration.
pub fn service_needs(function: &Function, catalog: &Catalog) -> ServiceNeeds {
    let mut b = Builder { function, catalog, out: ServiceNeeds::default() };
    b.out.notes.extend(function.config.notes.iter().cloned());
    logs(&mut b);
    let c = &function.config;
    if c.active_tracing() {
        b.add("tracing", "active tracing (TracingConfig.Mode = Active)", "", None);
    }
    if let Some(v) = &c.vpc {
        let subject = format!("the VPC attachment (subnets {})", v.subnet_ids.join(", "));
        b.add("vpc", &subject, "", None);
    }
    if let Some(target) = &c.dead_letter_target {
        dead_letter(&mut b, target);
    }
    match (&c.event_invoke, c.event_invoke_read) {
        (Some(invoke), _) => {
            if let Some(d) = &invoke.on_success {
                destination(&mut b, d, true);
            }
            if let Some(d) = &invoke.on_failure {
                destination(&mut b, d, false);
            }
        }
        (None, false) => b.out.notes.push(format!(
            "the asynchronous invocation configuration of {} was not read: what its destinations need is not derived",
            function.name
        )),
        (None, true) => {}
    }
    for m in c.event_source_mappings.iter().flatten() {
        event_source_mapping(&mut b, m);
    }
    for fs in &c.file_systems {
        let subject = format!(
            "the file system mounted at {} (access point {})",
            if fs.local_mount_path.is_empty() { "?" } else { &fs.local_mount_path },
            short_name(&fs.access_point_arn)
        );
        b.add("efs-mount", &subject, &fs.access_point_arn, None);
    }
    advisories(&mut b);
    b.out
}

fn logs(b: &mut Builder<'_>) {
    let group = b.function.log_group();
    let custom = b
        .function
        .config
        .log_group
        .as_deref()
        .is_some_and(|g| g != format!("/aws/lambda/{}", crate::account::function_name(&b.function.name)));
    let (id, subject) = if custom {
        ("custom-log-group", format!("the function's custom log group {group} (LoggingConfig.LogGroup)"))
    } else {
        ("logs", format!("the function's log group {group}"))
    };
    b.add(id, &subject, &group, None);
}

fn dead_letter(b: &mut Builder<'_>, target: &str) {
    match arn(target).map(|a| a.service) {
        Some("sqs") => {
            b.add("dead-letter-sqs", &format!("the dead-letter queue {}", short_name(target)), target, None)
        }
        Some("sns") => {
            b.add("dead-letter-sns", &format!("the dead-letter topic {}", short_name(target)), target, None)
        }
        _ => unknown_target(b, "the dead-letter target", target, ASYNC_RECORDS_PAGE),
    }
}

fn destination(b: &mut Builder<'_>, target: &str, on_success: bool) {
    let when = if on_success { "on-success" } else { "on-failure" };
    let Some(a) = arn(target) else {
        return unknown_target(b, &format!("the {when} destination"), target, ASYNC_RECORDS_PAGE);
    };
    let name = short_name(target);
    let (id, kind) = match a.service {
        "sqs" => ("destination-sqs", "queue"),
        "sns" => ("destination-sns", "topic"),
        "lambda" => ("destination-lambda", "function"),
        "events" => ("destination-eventbridge", "event bus"),
        "s3" if !on_success => ("destination-s3-objects", "bucket"),
        "s3" => {
            b.out.advisories.push(Advisory {
                topic: "destination-s3-on-success".into(),
                message: format!("the on-success destination {target} is an S3 bucket: Lambda accepts S3 as an on-failure destination only"),
                citation: ASYNC_RECORDS_PAGE.into(),
            });
            return;
        }
        _ => return unknown_target(b, &format!("the {when} destination"), target, ASYNC_RECORDS_PAGE),
    };
    let subject = format!("the {when} destination {kind} {name}");
    b.add(id, &subject, target, None);
    if id == "destination-s3-objects" {
        b.add("destination-s3-bucket", &subject, target, None);
    }
}

fn unknown_target(b: &mut Builder<'_>, what: &str, target: &str, citation: &str) {
    b.out.advisories.push(Advisory {
        topic: "unknown-target".into(),
        message: format!(
            "{what} {target} is of a kind iamfit has no rule for: check what Lambda needs to deliver to it"
        ),
        citation: citation.into(),
    });
}

/// The needs of one event source mapping, by the service of its source.
fn event_source_mapping(b: &mut Builder<'_>, m: &EventSourceMapping) {
    let disabled = if m.state.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("Disabled")) {
        " (disabled)"
    } else {
        ""
    };
    let secrets: Vec<&str> =
        m.source_access.iter().filter(|a| a.is_secret()).map(|a| a.uri.as_str()).collect();
    if m.is_self_managed_kafka() {
        let subject = format!(
            "the self-managed Kafka trigger on {}{disabled}",
            m.kafka_bootstrap_servers.first().map(String::as_str).unwrap_or("?")
        );
        for s in &secrets {
            b.add("kafka-secret", &subject, s, None);
        }
        if m.source_access.iter().any(|a| a.kind == "VPC_SUBNET") {
            b.add("kafka-network", &subject, "", None);
        }
        on_failure(b, m, &subject, KAFKA_ON_FAILURE_PAGE);
        return;
    }
    let Some(source) = m.event_source_arn.as_deref() else { return };
    let Some(a) = arn(source) else { return };
    let name = short_name(source);
    match a.service {
        "sqs" => b.add("sqs-trigger", &format!("the SQS trigger on queue {name}{disabled}"), source, None),
        "kinesis" => {
            let subject = format!("the Kinesis trigger on {}{disabled}", a.resource);
            if source.contains("/consumer/") {
                b.add("kinesis-consumer-stream", &subject, source, None);
                b.add("kinesis-consumer", &subject, source, None);
            } else {
                b.add("kinesis-trigger", &subject, source, None);
            }
            on_failure(b, m, &subject, KINESIS_ON_FAILURE_PAGE);
        }
        "dynamodb" => {
            let table = a.resource.split('/').nth(1).unwrap_or(a.resource);
            let subject = format!("the DynamoDB stream trigger on table {table}{disabled}");
            b.add("dynamodb-trigger", &subject, source, None);
            on_failure(b, m, &subject, DYNAMODB_PAGE);
        }
        "mq" => {
            let broker = a.resource.split(':').nth(1).unwrap_or(a.resource);
            let subject = format!("the Amazon MQ trigger on broker {broker}{disabled}");
            b.add("mq-trigger", &subject, source, None);
            for s in &secrets {
                b.add("mq-secret", &subject, s, None);
            }
            b.add("mq-network", &subject, "", None);
        }
        "kafka" => msk(b, m, source, &secrets, disabled),
        "rds" => {
            let subject = format!("the DocumentDB trigger on cluster {name}{disabled}");
            b.add("documentdb-cluster", &subject, source, None);
            b.add("documentdb-describe", &subject, source, None);
            for s in &secrets {
                b.add("documentdb-secret", &subject, s, None);
            }
            b.add("documentdb-network", &subject, "", None);
        }
        other => b.out.advisories.push(Advisory {
            topic: "unknown-event-source".into(),
            message: format!("the event source mapping {} reads {source} ({other}): iamfit has no rule for this kind of source", m.uuid),
            citation: "https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html".into(),
        }),
    }
}

fn msk(b: &mut Builder<'_>, m: &EventSourceMapping, cluster: &str, secrets: &[&str], disabled: &str) {
    let name = cluster.split('/').nth(1).unwrap_or(cluster);
    let subject = format!("the MSK trigger on cluster {name}{disabled}");
    b.add("msk-trigger", &subject, cluster, None);
    b.add("msk-network", &subject, "", None);
    if secrets.is_empty() {
        b.add("msk-iam-cluster", &subject, cluster, None);
        for t in &m.topics {
            b.add("msk-iam-topic", &subject, cluster, Some(t));
        }
        // Lambda uses the mapping's UUID as the consumer group id unless one is configured.
        let group = m.consumer_group_id.clone().unwrap_or_else(|| m.uuid.clone());
        b.add("msk-iam-group", &subject, cluster, Some(&group));
    } else {
        for s in secrets {
            b.add("msk-secret", &subject, s, None);
        }
    }
    on_failure(b, m, &subject, KAFKA_ON_FAILURE_PAGE);
}

/// The on-failure destination of a stream or Kafka event source mapping.
fn on_failure(b: &mut Builder<'_>, m: &EventSourceMapping, trigger: &str, citation: &str) {
    let Some(target) = m.on_failure.as_deref() else { return };
    let name = short_name(target);
    match arn(target).map(|a| a.service) {
        Some("sqs") => b.add(
            "trigger-on-failure-sqs",
            &format!("the on-failure queue {name} of {trigger}"),
            target,
            None,
        ),
        Some("sns") => b.add(
            "trigger-on-failure-sns",
            &format!("the on-failure topic {name} of {trigger}"),
            target,
            None,
        ),
        Some("s3") => {
            let subject = format!("the on-failure bucket {name} of {trigger}");
            b.add("trigger-on-failure-s3-objects", &subject, target, None);
            b.add("trigger-on-failure-s3-bucket", &subject, target, None);
        }
        _ => unknown_target(b, &format!("the on-failure destination of {trigger}"), target, citation),
    }
}

/// What is not a statement of the role: the environment key's policy, another account's image
/// repository, encrypted targets.
fn advisories(b: &mut Builder<'_>) {
    let function = b.function;
    let c = &function.config;
    if let Some(key) = &c.kms_key_arn {
        b.out.advisories.push(Advisory {
            topic: "kms-key".into(),
            message: format!(
                "the environment variables are encrypted with the customer managed key {key}: Lambda decrypts them through a grant it creates on the key, not with a statement of the role; the key policy must let the principals that create or update the function use the key (kms:CreateGrant and kms:Encrypt, and kms:Decrypt to view the variables), and the grant must stay in place"
            ),
            citation: ENV_ENCRYPTION_PAGE.into(),
        });
    }
    if c.package_type.as_deref() == Some("Image") {
        b.out.advisories.push(Advisory {
            topic: "container-image".into(),
            message: "the function runs a container image: Lambda pulls it from Amazon ECR itself, so the role needs nothing for it; when the repository is in another account, its repository policy must allow ecr:BatchGetImage and ecr:GetDownloadUrlForLayer to the function's account (get-function-configuration does not name the image, so iamfit cannot tell its account)".into(),
            citation: IMAGES_PAGE.into(),
        });
    }
    let encrypted_targets = b
        .out
        .needs
        .iter()
        .any(|n| matches!(n.action.as_str(), "sqs:SendMessage" | "sns:Publish" | "sqs:ReceiveMessage"));
    if encrypted_targets {
        b.out.advisories.push(Advisory {
            topic: "encrypted-targets".into(),
            message: "a queue or topic the Lambda service uses that is encrypted with a customer managed key also needs that key (kms:Decrypt and kms:GenerateDataKey) through the key policy or the role; the configuration does not show the keys of queues and topics".into(),
            citation: ASYNC_RECORDS_PAGE.into(),
        });
    }
}

// ---------------------------------------------------------------------------------------------------
// Use by the analyses

/// Whether `subject` lacks a need: the role allows the action on no resource the need covers (an
/// exact resource is evaluated as it is; a pattern is matched against what the role grants).
pub fn lacks(subject: &Subject, need: &ServiceNeed) -> bool {
    let context = need.context();
    let exact = !need.resource.contains(['*', '?']);
    // An exact ARN and `*` are evaluated as they are; a pattern through the ARN its wildcards cover
    // when empty (`log-group:G:` for `log-group:G:*`).
    let witness = if exact || need.resource == "*" {
        need.resource.clone()
    } else {
        need.resource.replace(['*', '?'], "")
    };
    let request = Request {
        principal: Some(&subject.principal),
        action: &need.action,
        resource: &witness,
        context: &context,
        resource_account: None,
    };
    if authorize_with(&subject.policies, &request, ConditionMode::Optimistic).verdict == Verdict::Allow {
        return false;
    }
    exact || !granted_somewhere(subject, need, &context)
}

/// Whether some resource the role names for the need's action overlaps the need's resource and is
/// allowed there.
fn granted_somewhere(subject: &Subject, need: &ServiceNeed, context: &RequestContext) -> bool {
    let lower = need.action.to_ascii_lowercase();
    let service = lower.split(':').next().unwrap_or("").to_string();
    let Some(named) = mentions(subject, &lower, &service) else { return false };
    named.iter().filter(|r| wildcard::overlap(r, &need.resource)).any(|r| {
        let (high, _, _) = evaluate(subject, &need.action, r, context);
        high.verdict == Verdict::Allow
    })
}

/// One finding per need the role lacks: "the SQS trigger on queue q cannot poll: the role lacks
/// sqs:ReceiveMessage".
pub fn missing_findings(subject: &Subject, needs: &ServiceNeeds) -> Vec<Finding> {
    needs
        .needs
        .iter()
        .filter(|n| lacks(subject, n))
        .map(|n| Finding {
            kind: Code::MissingServicePermission,
            severity: n.severity,
            policy: subject.label.clone(),
            statement: n.sid.clone(),
            span: Default::default(),
            action: Some(n.action.clone()),
            resource: Some(n.resource.clone()),
            actions: vec![n.action.clone()],
            place: None,
            message: format!(
                "{}: the role lacks {} on {}{} (needed by the function's configuration, not by its code; see {})",
                n.failure,
                n.action,
                n.resource,
                n.condition
                    .as_ref()
                    .map(|c| format!(" where {} is {}", c.key, c.value))
                    .unwrap_or_default(),
                n.citation
            ),
        })
        .collect()
}

/// The usage as audit judges over-grants: every needed action counts as used, so that what the
/// Lambda service needs is never called unused (nor folds its statement into "unused").
pub fn usage_counting_needs(usage: &Usage, needs: &ServiceNeeds) -> Usage {
    let mut u = usage.clone();
    for n in &needs.needs {
        if !u.used(&n.action) {
            u.actions.insert(n.action.clone(), ActionUse::default());
        }
    }
    u
}

/// A mismatch of `diff` that the function's configuration explains: the Lambda service, not the
/// code, uses the permission.
#[derive(Debug, Clone)]
pub struct ConfigurationMismatch {
    /// The mismatch.
    pub mismatch: Mismatch,
    /// The Sid of the need.
    pub sid: String,
    /// Why the service needs it.
    pub reason: String,
    /// The AWS page.
    pub citation: String,
}

/// Removes from `mismatches` those a need explains (same action, a witness inside the need's
/// resource) and returns
/// them: they are no surprise for the code in either direction (a `prod-only` one is the service's
/// own permission; a `local-only` one is a permission the role lacks, which `audit` reports).
pub fn set_aside_mismatches(
    mismatches: &mut Vec<Mismatch>,
    needs: &ServiceNeeds,
) -> Vec<ConfigurationMismatch> {
    let mut kept = Vec::new();
    let mut aside = Vec::new();
    for m in std::mem::take(mismatches) {
        // The witness must lie inside the need: a broader witness (`*` where the need names one
        // topic) is still a difference for the code.
        let need = needs.needs.iter().find(|n| {
            n.action.eq_ignore_ascii_case(&m.action) && wildcard::matches(&n.resource, &m.resource)
        });
        match need {
            Some(n) => aside.push(ConfigurationMismatch {
                sid: n.sid.clone(),
                reason: n.reason.clone(),
                citation: n.citation.clone(),
                mismatch: m,
            }),
            None => kept.push(m),
        }
    }
    *mismatches = kept;
    aside
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_names_catalog_actions_and_an_aws_page() {
        let catalog = Catalog::embedded();
        let mut ids = BTreeSet::new();
        for r in RULES {
            assert!(ids.insert(r.id), "duplicate rule id {}", r.id);
            assert!(
                r.citation.starts_with("https://docs.aws.amazon.com/lambda/latest/dg/"),
                "{}",
                r.citation
            );
            assert!(
                r.sid.starts_with("Lambda") && r.sid.chars().all(|c| c.is_ascii_alphanumeric()),
                "{}",
                r.sid
            );
            for a in r.actions {
                assert!(catalog.action(a).is_some(), "{a} of rule {} is not in the catalog", r.id);
            }
        }
    }

    #[test]
    fn a_plain_function_needs_its_logs_only() {
        // Sending Lambda function logs to CloudWatch Logs: logs:CreateLogGroup, logs:CreateLogStream,
        // logs:PutLogEvents; the default group is /aws/lambda/NAME.
        let f = Function {
            name: "plain".into(),
            arn: "arn:aws:lambda:eu-west-1:111122223333:function:plain".into(),
            role: "arn:aws:iam::111122223333:role/plain".into(),
            ..Default::default()
        };
        let n = service_needs(&f, Catalog::embedded());
        let pairs: Vec<(&str, &str)> =
            n.needs.iter().map(|x| (x.action.as_str(), x.resource.as_str())).collect();
        let group = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/plain:*";
        assert_eq!(
            pairs,
            [("logs:CreateLogGroup", group), ("logs:CreateLogStream", group), ("logs:PutLogEvents", group)]
        );
        assert!(n.needs.iter().all(|x| x.sid == "LambdaLogs"));
        assert!(n.advisories.is_empty());
    }
}
