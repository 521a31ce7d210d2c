//! Whether CloudTrail records the use of an action.

use std::collections::HashSet;
use std::sync::OnceLock;

use iamfit_catalog::{ActionRef, Catalog};

use super::Coverage;

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
