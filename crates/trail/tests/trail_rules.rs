//! One CloudTrail record per mapping rule (crates/trail/src/map.rs, the action rules of
//! `src/data/events.tsv` written by `tools/gen_event_map.py` from the Service Reference and
//! `tools/event_rules.tsv`), in the shape real logs have, each with the actions (and resources) the AWS
//! page it cites says the call needed. Expectations are written by hand from those pages.
//!
//! `share_of_event_kinds_that_map_exactly` also counts, over these records and the demo trail
//! (`policy-fixtures/demo/cloudtrail`), the distinct event kinds (event source and name) whose every
//! record maps exactly; it uses only `map_event` and the `Mapping` variants of every version, so the
//! same file measures an older mapping.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::string_slice, missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use iamfit_catalog::Catalog;
use iamfit_trail::map::{map_event, Mapping};
use iamfit_trail::Event;
use serde_json::{json, Value};

const ACCT: &str = "111122223333";

/// What a record must map to.
#[derive(Debug, Clone)]
enum Want {
    /// Exactly these actions; with `Some`, exactly these resources (an empty list: none known).
    Actions(Vec<(&'static str, Option<Vec<&'static str>>)>),
    Permissionless,
    /// Not an API call: counted apart, never an action nor unmapped.
    NonApi,
    Unmapped,
}

struct Case {
    /// The AWS page that states the needed actions (and the record's shape, where it is another page).
    cite: &'static str,
    record: Value,
    want: Want,
}

fn acts(list: &[(&'static str, Option<&[&'static str]>)]) -> Want {
    Want::Actions(list.iter().map(|(a, r)| (*a, r.map(<[&str]>::to_vec))).collect())
}

/// A call as CloudTrail records it, by a deployment role's session.
fn call(source: &str, name: &str, params: Value) -> Value {
    json!({
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLEDEPLOY:ci",
            "arn": format!("arn:aws:sts::{ACCT}:assumed-role/deploy/ci"),
            "accountId": ACCT,
            "accessKeyId": "ASIAEXAMPLE",
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEDEPLOY", "arn": format!("arn:aws:iam::{ACCT}:role/deploy"), "accountId": ACCT, "userName": "deploy"},
                "attributes": {"creationDate": "2026-11-01T09:00:00Z", "mfaAuthenticated": "false"}
            }
        },
        "eventTime": "2026-11-01T10:00:00Z",
        "eventSource": format!("{source}.amazonaws.com"),
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "192.0.2.10",
        "userAgent": "aws-cli/2.18.4",
        "requestParameters": params,
        "responseElements": null,
        "requestID": "4KBNVRGD25RG1KEO9UT4V3FQDJVV4KQNSO5AEMVJF66Q9ASUAAJG",
        "eventID": "a954451c-c2fc-4561-8aea-7a30ba1fdf52",
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": ACCT,
        "eventCategory": "Management"
    })
}

fn with(mut rec: Value, key: &str, value: Value) -> Value {
    rec[key] = value;
    rec
}

/// An S3 data event on `bucket` (S3 records carry `Host` and the subresource as an empty parameter).
fn s3(name: &str, mut params: Value) -> Value {
    let bucket = params["bucketName"].as_str().unwrap_or("orders").to_string();
    params["Host"] = json!(format!("{bucket}.s3.us-east-1.amazonaws.com"));
    let rec = call("s3", name, params);
    let rec = with(rec, "eventCategory", json!("Data"));
    with(rec, "managementEvent", json!(false))
}

const ROLE: &str = "arn:aws:iam::111122223333:role/deploy";
const BUCKET: &str = "arn:aws:s3:::orders";
const OBJECT: &str = "arn:aws:s3:::orders/2026/a.json";
const MUSIC: &str = "arn:aws:dynamodb:us-west-1:111122223333:table/Music";

// ---------------------------------------------------------------------------------------------------
// The rules

fn fallback_and_renamed_cases() -> Vec<Case> {
    vec![
        Case {
            cite: "Service Reference s3 PutBucketNotification lists no authorized actions; the Service Authorization \
                   Reference's s3:PutBucketNotification is its action: https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketNotificationConfiguration.html",
            record: s3(
                "PutBucketNotification",
                json!({"bucketName": "orders", "notification": "", "NotificationConfiguration": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/", "QueueConfiguration": {"Queue": "arn:aws:sqs:us-east-1:111122223333:orders-events", "Event": "s3:ObjectCreated:*", "Id": "new-orders"}}}),
            ),
            want: acts(&[("s3:PutBucketNotification", Some(&[BUCKET]))]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html (ses:SendEmail); the \
                   Service Reference lists SendEmail without authorized actions",
            record: call(
                "ses",
                "SendEmail",
                json!({"fromEmailAddress": "orders@example.com", "destination": {"toAddresses": ["HIDDEN_DUE_TO_SECURITY_REASONS"]}, "content": {"simple": {"subject": {"data": "HIDDEN_DUE_TO_SECURITY_REASONS"}}}}),
            ),
            want: acts(&[("ses:SendEmail", None)]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_GrantPermissions.html \
                   (lakeformation:GrantPermissions); the Service Reference lists it without authorized actions",
            record: call(
                "lakeformation",
                "GrantPermissions",
                json!({"principal": {"dataLakePrincipalIdentifier": "arn:aws:iam::111122223333:role/analyst"}, "resource": {"table": {"databaseName": "sales", "name": "orders"}}, "permissions": ["SELECT"]}),
            ),
            want: acts(&[("lakeformation:GrantPermissions", None)]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLifecycleConfiguration.html \
                   (s3:PutLifecycleConfiguration); CloudTrail names the call PutBucketLifecycle",
            record: s3(
                "PutBucketLifecycle",
                json!({"bucketName": "orders", "lifecycle": "", "LifecycleConfiguration": {"Rule": {"ID": "expire", "Status": "Enabled", "Expiration": {"Days": 30}}}}),
            ),
            want: acts(&[("s3:PutLifecycleConfiguration", Some(&[BUCKET]))]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeletePublicAccessBlock.html (Permissions: \
                   s3:PutBucketPublicAccessBlock); CloudTrail's event name is DeleteBucketPublicAccessBlock",
            record: s3("DeleteBucketPublicAccessBlock", json!({"bucketName": "orders", "publicAccessBlock": ""})),
            want: acts(&[("s3:PutBucketPublicAccessBlock", Some(&[BUCKET]))]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_DeletePublicAccessBlock.html \
                   (Permissions: s3:PutAccountPublicAccessBlock); CloudTrail's event name is DeleteAccountPublicAccessBlock",
            record: call(
                "s3",
                "DeleteAccountPublicAccessBlock",
                json!({"publicAccessBlock": "", "Host": "111122223333.s3-control.us-east-1.amazonaws.com"}),
            ),
            want: acts(&[("s3:PutAccountPublicAccessBlock", Some(&[]))]),
        },
    ]
}

fn tag_cases() -> Vec<Case> {
    let run = json!({"instancesSet": {"items": [{"imageId": "ami-0abcdef1234567890", "minCount": 1, "maxCount": 1}]}, "instanceType": "t3.micro", "blockDeviceMapping": {}, "monitoring": {"enabled": false}, "disableApiTermination": false, "clientToken": "c2b4e5f6-1111-2222-3333-444455556666"});
    let mut run_tagged = run.clone();
    run_tagged["tagSpecificationSet"] =
        json!({"items": [{"resourceType": "instance", "tags": [{"key": "Name", "value": "web-1"}]}]});
    run_tagged["iamInstanceProfile"] = json!({"name": "web-server"});
    let role = "arn:aws:iam::111122223333:role/app";
    let db = "arn:aws:rds:us-east-1:111122223333:db:orders-db";
    let group = "arn:aws:logs:us-east-1:111122223333:log-group:/orders/app";
    vec![
        Case {
            cite: "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html (tagging on \
                   creation needs ec2:CreateTags); https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2.html \
                   (launching with an instance profile needs iam:PassRole on its role, which the record does not name)",
            record: call("ec2", "RunInstances", run_tagged),
            want: acts(&[("ec2:RunInstances", None), ("ec2:CreateTags", None), ("iam:PassRole", Some(&[]))]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RunInstances.html: without tags or an \
                   instance profile, only ec2:RunInstances",
            record: call("ec2", "RunInstances", run),
            want: acts(&[("ec2:RunInstances", None)]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags_roles.html (tagging a role when creating \
                   it needs iam:TagRole); Service Reference iam CreateRole: iam:CreateRole, iam:TagRole",
            record: call(
                "iam",
                "CreateRole",
                json!({"roleName": "app", "assumeRolePolicyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"ec2.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}", "tags": [{"key": "team", "value": "orders"}]}),
            ),
            want: acts(&[("iam:CreateRole", Some(&[role])), ("iam:TagRole", Some(&[role]))]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html: without tags, only iam:CreateRole",
            record: call("iam", "CreateRole", json!({"roleName": "app", "assumeRolePolicyDocument": "{}"})),
            want: acts(&[("iam:CreateRole", Some(&[role]))]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Tagging.html (tags given at creation \
                   need rds:AddTagsToResource); Service Reference rds CreateDBInstance",
            record: call(
                "rds",
                "CreateDBInstance",
                json!({"dBInstanceIdentifier": "orders-db", "dBInstanceClass": "db.t3.micro", "engine": "postgres", "masterUsername": "admin", "allocatedStorage": 20, "tags": [{"key": "team", "value": "orders"}]}),
            ),
            want: acts(&[("rds:CreateDBInstance", Some(&[db])), ("rds:AddTagsToResource", Some(&[db]))]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html (to \
                   assign tags when you create a log group: logs:TagResource)",
            record: call("logs", "CreateLogGroup", json!({"logGroupName": "/orders/app", "tags": {"team": "orders"}})),
            want: acts(&[("logs:CreateLogGroup", Some(&[group])), ("logs:TagResource", Some(&[group]))]),
        },
    ]
}

fn pass_role_cases() -> Vec<Case> {
    vec![
        Case {
            cite: "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html (adding a role to an \
                   instance profile passes it: iam:PassRole); Service Reference iam AddRoleToInstanceProfile",
            record: call("iam", "AddRoleToInstanceProfile", json!({"instanceProfileName": "web", "roleName": "web-role"})),
            want: acts(&[
                ("iam:AddRoleToInstanceProfile", Some(&["arn:aws:iam::111122223333:instance-profile/web"])),
                ("iam:PassRole", Some(&["arn:aws:iam::111122223333:role/web-role"])),
            ]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/attach-iam-role.html (associating an instance \
                   profile needs iam:PassRole); Service Reference ec2 AssociateIamInstanceProfile",
            record: call(
                "ec2",
                "AssociateIamInstanceProfile",
                json!({"AssociateIamInstanceProfileRequest": {"InstanceId": "i-0123456789abcdef0", "IamInstanceProfile": {"Name": "web"}}}),
            ),
            want: acts(&[("ec2:AssociateIamInstanceProfile", None), ("iam:PassRole", Some(&[]))]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html (the user who creates the \
                   flow log needs iam:PassRole for DeliverLogsPermissionArn)",
            record: call(
                "ec2",
                "CreateFlowLogs",
                json!({"CreateFlowLogsRequest": {"ResourceId": {"tag": 1, "content": "vpc-0123456789abcdef0"}, "ResourceType": "VPC", "TrafficType": "ALL", "LogGroupName": "vpc-flow", "DeliverLogsPermissionArn": "arn:aws:iam::111122223333:role/flow-logs", "ClientToken": "b1e2"}}),
            ),
            want: acts(&[
                ("ec2:CreateFlowLogs", None),
                ("iam:PassRole", Some(&["arn:aws:iam::111122223333:role/flow-logs"])),
            ]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketReplication.html (s3:PutReplicationConfiguration \
                   on the source bucket; iam:PassRole for the replication role); the destination bucket is not the resource",
            record: s3(
                "PutBucketReplication",
                json!({"bucketName": "orders", "replication": "", "ReplicationConfiguration": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/", "Role": "arn:aws:iam::111122223333:role/replication", "Rule": {"ID": "all", "Status": "Enabled", "Priority": 1, "Filter": {"Prefix": ""}, "DeleteMarkerReplication": {"Status": "Disabled"}, "Destination": {"Bucket": "arn:aws:s3:::orders-replica"}}}}),
            ),
            want: acts(&[
                ("s3:PutReplicationConfiguration", Some(&[BUCKET])),
                ("iam:PassRole", Some(&["arn:aws:iam::111122223333:role/replication"])),
            ]),
        },
    ]
}

fn sts_rds_secrets_waf_cases() -> Vec<Case> {
    let assume = |extra: Value| {
        let mut p = json!({"roleArn": ROLE, "roleSessionName": "ci"});
        for (k, v) in extra.as_object().unwrap() {
            p[k] = v.clone();
        }
        with(
            call("sts", "AssumeRole", p),
            "resources",
            json!([{"accountId": ACCT, "type": "AWS::IAM::Role", "ARN": ROLE}]),
        )
    };
    let secret = |n: &str| format!("arn:aws:secretsmanager:us-east-1:111122223333:secret:{n}-??????");
    let (a, b) = (secret("orders/db"), secret("orders/api-key"));
    let (a, b): (&'static str, &'static str) = (Box::leak(a.into_boxed_str()), Box::leak(b.into_boxed_str()));
    let db = "arn:aws:rds:us-east-1:111122223333:db:orders-db";
    let cluster = "arn:aws:rds:us-east-1:111122223333:cluster:orders-cluster";
    vec![
        Case {
            cite: "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html (passing session tags needs \
                   sts:TagSession); shape: https://docs.aws.amazon.com/IAM/latest/UserGuide/cloudtrail-integration.html",
            record: assume(json!({"tags": [{"key": "Project", "value": "orders"}], "transitiveTagKeys": ["Project"]})),
            want: acts(&[("sts:AssumeRole", Some(&[ROLE])), ("sts:TagSession", Some(&[ROLE]))]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_monitor.html \
                   (setting a source identity needs sts:SetSourceIdentity)",
            record: assume(json!({"sourceIdentity": "alice"})),
            want: acts(&[("sts:AssumeRole", Some(&[ROLE])), ("sts:SetSourceIdentity", Some(&[ROLE]))]),
        },
        Case {
            cite: "Service Reference rds DeleteDBInstance (rds:CreateDBSnapshot for the final snapshot); \
                   https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBInstance.html (FinalDBSnapshotIdentifier)",
            record: call(
                "rds",
                "DeleteDBInstance",
                json!({"dBInstanceIdentifier": "orders-db", "skipFinalSnapshot": false, "finalDBSnapshotIdentifier": "orders-db-final", "deleteAutomatedBackups": true}),
            ),
            want: acts(&[
                ("rds:DeleteDBInstance", Some(&[db])),
                ("rds:CreateDBSnapshot", Some(&[db, "arn:aws:rds:us-east-1:111122223333:snapshot:orders-db-final"])),
            ]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBInstance.html: with \
                   SkipFinalSnapshot no snapshot is taken, only rds:DeleteDBInstance",
            record: call("rds", "DeleteDBInstance", json!({"dBInstanceIdentifier": "orders-db", "skipFinalSnapshot": true})),
            want: acts(&[("rds:DeleteDBInstance", Some(&[db]))]),
        },
        Case {
            cite: "Service Reference rds DeleteDBCluster (rds:CreateDBClusterSnapshot for the final snapshot); \
                   https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonrds.html \
                   (DeleteDBCluster: resource types cluster*, cluster-snapshot*)",
            record: call(
                "rds",
                "DeleteDBCluster",
                json!({"dBClusterIdentifier": "orders-cluster", "skipFinalSnapshot": false, "finalDBSnapshotIdentifier": "orders-cluster-final"}),
            ),
            want: acts(&[
                // The Service Authorization Reference lists cluster* and cluster-snapshot* (the final
                // snapshot) as DeleteDBCluster's resource types.
                ("rds:DeleteDBCluster", Some(&[cluster, "arn:aws:rds:us-east-1:111122223333:cluster-snapshot:orders-cluster-final"])),
                (
                    "rds:CreateDBClusterSnapshot",
                    Some(&[cluster, "arn:aws:rds:us-east-1:111122223333:cluster-snapshot:orders-cluster-final"]),
                ),
            ]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_BatchGetSecretValue.html \
                   (secretsmanager:BatchGetSecretValue, and secretsmanager:GetSecretValue for each secret)",
            record: call("secretsmanager", "BatchGetSecretValue", json!({"secretIdList": ["orders/db", "orders/api-key"]})),
            want: acts(&[("secretsmanager:BatchGetSecretValue", Some(&[])), ("secretsmanager:GetSecretValue", Some(&[b, a]))]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_BatchGetSecretValue.html (with \
                   filters, also secretsmanager:ListSecrets; the secrets are not in the request)",
            record: call(
                "secretsmanager",
                "BatchGetSecretValue",
                json!({"filters": [{"key": "name", "values": ["orders/"]}], "maxResults": 20}),
            ),
            want: acts(&[
                ("secretsmanager:BatchGetSecretValue", Some(&[])),
                ("secretsmanager:GetSecretValue", Some(&[])),
                ("secretsmanager:ListSecrets", Some(&[])),
            ]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/waf/latest/developerguide/security_iam_service-with-iam.html (Permissions \
                   for AssociateWebACL: an Application Load Balancer needs elasticloadbalancing:SetWebAcl)",
            record: call(
                "wafv2",
                "AssociateWebACL",
                json!({"webACLArn": "arn:aws:wafv2:us-east-1:111122223333:regional/webacl/orders/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111", "resourceArn": "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/orders/50dc6c495c0c9188"}),
            ),
            want: acts(&[("wafv2:AssociateWebACL", None), ("elasticloadbalancing:SetWebAcl", Some(&[]))]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/waf/latest/developerguide/security_iam_service-with-iam.html (an API \
                   Gateway stage needs apigateway:SetWebACL)",
            record: call(
                "wafv2",
                "AssociateWebACL",
                json!({"webACLArn": "arn:aws:wafv2:us-east-1:111122223333:regional/webacl/orders/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111", "resourceArn": "arn:aws:apigateway:us-east-1::/restapis/a1b2c3/stages/prod"}),
            ),
            want: acts(&[("wafv2:AssociateWebACL", None), ("apigateway:SetWebACL", None)]),
        },
    ]
}

fn s3_version_and_resource_cases() -> Vec<Case> {
    let inventory = "arn:aws:s3:::orders-reports";
    vec![
        Case {
            cite: "https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectTagging.html (a version's tags need \
                   s3:PutObjectVersionTagging)",
            record: s3(
                "PutObjectTagging",
                json!({"bucketName": "orders", "key": "2026/a.json", "versionId": "3HL4kqtJlcpXroDTDmJ", "tagging": "", "Tagging": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/", "TagSet": {"Tag": {"Key": "class", "Value": "a"}}}}),
            ),
            want: acts(&[("s3:PutObjectVersionTagging", Some(&[OBJECT]))]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAcl.html (a version's ACL needs \
                   s3:GetObjectVersionAcl)",
            record: s3("GetObjectAcl", json!({"bucketName": "orders", "key": "2026/a.json", "versionId": "3HL4kqtJlcpXroDTDmJ", "acl": ""})),
            want: acts(&[("s3:GetObjectVersionAcl", Some(&[OBJECT]))]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAcl.html (the current version: s3:GetObjectAcl)",
            record: s3("GetObjectAcl", json!({"bucketName": "orders", "key": "2026/a.json", "acl": ""})),
            want: acts(&[("s3:GetObjectAcl", Some(&[OBJECT]))]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html (without a version ID: \
                   s3:GetObject and s3:GetObjectAttributes)",
            record: s3(
                "GetObjectAttributes",
                json!({"bucketName": "orders", "key": "2026/a.json", "attributes": "", "x-amz-object-attributes": "ETag,ObjectSize"}),
            ),
            want: acts(&[("s3:GetObject", Some(&[OBJECT])), ("s3:GetObjectAttributes", Some(&[OBJECT]))]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html (a version needs s3:GetObjectVersion)",
            record: s3("GetObject", json!({"bucketName": "orders", "key": "2026/a.json", "versionId": "3HL4kqtJlcpXroDTDmJ"})),
            want: acts(&[("s3:GetObjectVersion", Some(&[OBJECT]))]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketInventoryConfiguration.html \
                   (s3:PutInventoryConfiguration on the bucket the inventory is of, not the destination)",
            record: s3(
                "PutBucketInventoryConfiguration",
                json!({"bucketName": "orders", "id": "weekly", "inventory": "", "InventoryConfiguration": {"Id": "weekly", "IsEnabled": true, "Destination": {"S3BucketDestination": {"Bucket": inventory, "Format": "CSV"}}, "Schedule": {"Frequency": "Weekly"}, "IncludedObjectVersions": "Current"}}),
            ),
            want: acts(&[("s3:PutInventoryConfiguration", Some(&[BUCKET]))]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketAnalyticsConfiguration.html \
                   (s3:PutAnalyticsConfiguration on the analysed bucket, not the export destination)",
            record: s3(
                "PutBucketAnalyticsConfiguration",
                json!({"bucketName": "orders", "id": "all", "analytics": "", "AnalyticsConfiguration": {"Id": "all", "StorageClassAnalysis": {"DataExport": {"OutputSchemaVersion": "V_1", "Destination": {"S3BucketDestination": {"Format": "CSV", "Bucket": inventory}}}}}}),
            ),
            want: acts(&[("s3:PutAnalyticsConfiguration", Some(&[BUCKET]))]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html (the ACL headers also need s3:PutObjectAcl)",
            record: s3("PutObject", json!({"bucketName": "orders", "key": "2026/a.json", "x-amz-acl": "bucket-owner-full-control"})),
            want: acts(&[("s3:PutObject", Some(&[OBJECT])), ("s3:PutObjectAcl", Some(&[OBJECT]))]),
        },
    ]
}

fn extra_action_cases() -> Vec<Case> {
    vec![
        Case {
            cite: "https://docs.aws.amazon.com/apigateway/latest/developerguide/permissions.html (creating an API is \
                   apigateway:POST); the resource policy action is needed only with a policy",
            record: call("apigateway", "CreateRestApi", json!({"name": "orders-api", "endpointConfiguration": {"types": ["REGIONAL"]}})),
            want: acts(&[("apigateway:POST", None)]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-resource-policies-create-attach.html \
                   (attaching a resource policy, also when creating the API, needs apigateway:UpdateRestApiPolicy)",
            record: call(
                "apigateway",
                "CreateRestApi",
                json!({"name": "orders-api", "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"execute-api:Invoke\",\"Resource\":\"*\"}]}"}),
            ),
            want: acts(&[("apigateway:POST", None), ("apigateway:UpdateRestApiPolicy", None)]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-iam.html (a SELECT needs \
                   dynamodb:PartiQLSelect); record: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/understanding-ddb-log-entries.html (ExecuteStatement)",
            record: ddb_doc_record(
                "ExecuteStatement",
                json!({"statement": "SELECT * FROM Music WHERE Artist = 'No One You Know' AND SongTitle = 'Call Me Today' AND nonKeyAttr = ***(Redacted)"}),
            ),
            want: acts(&[("dynamodb:PartiQLSelect", Some(&[MUSIC]))]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-iam.html (UPDATE: PartiQLUpdate, \
                   INSERT: PartiQLInsert); record: understanding-ddb-log-entries.html (BatchExecuteStatement)",
            record: ddb_doc_record(
                "BatchExecuteStatement",
                json!({"requestItems": [{"statement": "UPDATE Music SET Album = ***(Redacted) WHERE Artist = 'No One You Know' AND SongTitle = 'Call Me Today'"}, {"statement": "INSERT INTO Music VALUE {'Artist' : ***(Redacted), 'SongTitle' : ***(Redacted), 'Album' : ***(Redacted)}"}]}),
            ),
            want: acts(&[("dynamodb:PartiQLUpdate", Some(&[MUSIC])), ("dynamodb:PartiQLInsert", Some(&[MUSIC]))]),
        },
    ]
}

/// A DynamoDB data event in the shape of AWS's log examples (region us-west-1, `resources[]` naming the
/// table in another account, as the examples do).
fn ddb_doc_record(name: &str, params: Value) -> Value {
    let rec = call("dynamodb", name, params);
    let rec = with(rec, "awsRegion", json!("us-west-1"));
    let rec = with(rec, "eventCategory", json!("Data"));
    let rec = with(rec, "managementEvent", json!(false));
    with(
        rec,
        "resources",
        json!([{"accountId": ACCT, "type": "AWS::DynamoDB::Table", "ARN": "arn:aws:dynamodb:us-west-2:123456789012:table/Music"}]),
    )
}

fn non_api_cases() -> Vec<Case> {
    let sign_in = |name: &str, extra: Value| {
        json!({
            "eventVersion": "1.08",
            "userIdentity": {"type": "IAMUser", "principalId": "AIDACKCEVSQ6C2EXAMPLE", "arn": "arn:aws:iam::111122223333:user/alice", "accountId": ACCT, "userName": "alice"},
            "eventTime": "2026-11-01T10:00:00Z",
            "eventSource": "signin.amazonaws.com",
            "eventName": name,
            "awsRegion": "us-east-1",
            "sourceIPAddress": "192.0.2.110",
            "userAgent": "Mozilla/5.0",
            "requestParameters": null,
            "responseElements": extra,
            "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": "Yes"},
            "eventID": "3fcfb182-98f8-4744-bd45-10a395ab61cb",
            "readOnly": false,
            "eventType": "AwsConsoleSignIn",
            "managementEvent": true,
            "recipientAccountId": ACCT,
            "eventCategory": "Management"
        })
    };
    let rotate = json!({
        "eventVersion": "1.08",
        "userIdentity": {"accountId": ACCT, "invokedBy": "kms.amazonaws.com"},
        "eventTime": "2026-11-13T02:28:31Z",
        "eventSource": "kms.amazonaws.com",
        "eventName": "RotateKey",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "kms.amazonaws.com",
        "userAgent": "kms.amazonaws.com",
        "requestParameters": null,
        "responseElements": null,
        "additionalEventData": {"keyId": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "rotationType": "AUTOMATIC"},
        "resources": [{"accountId": ACCT, "type": "AWS::KMS::Key", "ARN": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}],
        "eventType": "AwsServiceEvent",
        "managementEvent": true,
        "recipientAccountId": ACCT,
        "eventCategory": "Management"
    });
    let mut untyped = sign_in("CheckMfa", json!({"CheckMfa": "Success"}));
    untyped.as_object_mut().unwrap().remove("eventType");
    vec![
        Case {
            cite: "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html \
                   (ConsoleLogin: a sign-in event, eventType AwsConsoleSignIn)",
            record: sign_in("ConsoleLogin", json!({"ConsoleLogin": "Success"})),
            want: Want::NonApi,
        },
        Case {
            cite: "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html \
                   (CheckMfa), here without its eventType",
            record: untyped,
            want: Want::NonApi,
        },
        Case {
            cite: "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html \
                   (SwitchRole)",
            record: sign_in("SwitchRole", json!({"SwitchRole": "Success"})),
            want: Want::NonApi,
        },
        Case {
            cite: "https://docs.aws.amazon.com/kms/latest/developerguide/ct-rotatekey.html (automatic rotation: \
                   eventType AwsServiceEvent, the service acting on its own)",
            record: rotate,
            want: Want::NonApi,
        },
    ]
}

fn dynamodb_shape_cases() -> Vec<Case> {
    let t = |n: &str| -> &'static str {
        Box::leak(format!("arn:aws:dynamodb:us-east-1:111122223333:table/{n}").into_boxed_str())
    };
    let ddb =
        |name: &str, params: Value| with(call("dynamodb", name, params), "eventCategory", json!("Data"));
    vec![
        Case {
            cite: "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/understanding-ddb-log-entries.html \
                   (TransactWriteItems, requestItems[].operation); https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html \
                   (each item needs its action)",
            record: ddb_doc_record(
                "TransactWriteItems",
                json!({"requestItems": [
                    {"operation": "Put", "tableName": "Music", "key": {"Artist": "No One You Know", "SongTitle": "Call Me Today"}, "items": ["Artist", "SongTitle", "AlbumTitle"], "conditionExpression": "#AT = :A", "expressionAttributeNames": {"#AT": "AlbumTitle"}, "returnValuesOnConditionCheckFailure": "ALL_OLD"},
                    {"operation": "Update", "tableName": "Music", "key": {"Artist": "No One You Know", "SongTitle": "Call Me Tomorrow"}, "updateExpression": "SET #AT = :newval", "ConditionExpression": "attribute_not_exists(Rating)", "ExpressionAttributeNames": {"#AT": "AlbumTitle"}, "returnValuesOnConditionCheckFailure": "ALL_OLD"},
                    {"operation": "Delete", "TableName": "Music", "key": {"Artist": "No One You Know", "SongTitle": "Call Me Yesterday"}, "conditionExpression": "#P between :lo and :hi", "expressionAttributeNames": {"#P": "Price"}, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"},
                    {"operation": "ConditionCheck", "TableName": "Music", "Key": {"Artist": "No One You Know", "SongTitle": "Call Me Now"}, "ConditionExpression": "#P between :lo and :hi", "ExpressionAttributeNames": {"#P": "Price"}, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
                ], "returnConsumedCapacity": "TOTAL", "returnItemCollectionMetrics": "SIZE"}),
            ),
            want: acts(&[
                ("dynamodb:PutItem", Some(&[MUSIC])),
                ("dynamodb:UpdateItem", Some(&[MUSIC])),
                ("dynamodb:DeleteItem", Some(&[MUSIC])),
                ("dynamodb:ConditionCheckItem", Some(&[MUSIC])),
            ]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html \
                   (the API's TransactItems shape, as recorded requests give it); transaction-apis-iam.html",
            record: ddb(
                "TransactWriteItems",
                json!({"transactItems": [{"put": {"tableName": "orders", "item": {}}}, {"update": {"tableName": "stock", "key": {}}}]}),
            ),
            want: acts(&[("dynamodb:PutItem", Some(&[t("orders")])), ("dynamodb:UpdateItem", Some(&[t("stock")]))]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactGetItems.html \
                   (dynamodb:GetItem on each table); transaction-apis-iam.html",
            record: ddb(
                "TransactGetItems",
                json!({"transactItems": [{"get": {"tableName": "orders", "key": {}}}, {"get": {"tableName": "customers", "key": {}}}]}),
            ),
            want: acts(&[("dynamodb:GetItem", Some(&[t("customers"), t("orders")]))]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html \
                   (dynamodb:BatchWriteItem on every table of RequestItems)",
            record: ddb(
                "BatchWriteItem",
                json!({"requestItems": {"orders": [{"putRequest": {"item": {}}}], "audit": [{"deleteRequest": {"key": {}}}]}}),
            ),
            want: acts(&[("dynamodb:BatchWriteItem", Some(&[t("audit"), t("orders")]))]),
        },
        Case {
            cite: "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html \
                   (dynamodb:BatchGetItem on every table of RequestItems)",
            record: ddb("BatchGetItem", json!({"requestItems": {"orders": {"keys": []}, "customers": {"keys": []}}})),
            want: acts(&[("dynamodb:BatchGetItem", Some(&[t("customers"), t("orders")]))]),
        },
    ]
}

/// Records of the kinds crates/trail/tests/trail_map.rs and trail_read.rs use, with the expectations
/// those tests assert (there from the same AWS pages): they count in the figure.
fn existing_kind_cases() -> Vec<Case> {
    let f = |n: &str| -> &'static str {
        Box::leak(format!("arn:aws:lambda:us-east-1:111122223333:function:{n}").into_boxed_str())
    };
    let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let other_key = "arn:aws:kms:us-east-1:111122223333:key/other";
    let lambda_sr = "Service Reference lambda (Invoke: lambda:InvokeFunction; versioned event names: https://docs.aws.amazon.com/lambda/latest/dg/logging-using-cloudtrail.html)";
    vec![
        Case { cite: lambda_sr, record: call("lambda", "Invoke", json!({"functionName": "billing", "invocationType": "RequestResponse"})), want: acts(&[("lambda:InvokeFunction", Some(&[f("billing")]))]) },
        Case { cite: lambda_sr, record: call("lambda", "GetFunction20150331v2", json!({"functionName": "billing"})), want: acts(&[("lambda:GetFunction", Some(&[f("billing")]))]) },
        Case { cite: lambda_sr, record: call("lambda", "GetFunctionConfiguration20150331v2", json!({"functionName": "billing"})), want: acts(&[("lambda:GetFunctionConfiguration", Some(&[f("billing")]))]) },
        Case { cite: lambda_sr, record: call("lambda", "UpdateFunctionCode20150331v2", json!({"functionName": "billing", "s3Bucket": "artifacts", "s3Key": "billing.zip"})), want: acts(&[("lambda:UpdateFunctionCode", Some(&[f("billing")]))]) },
        Case { cite: lambda_sr, record: call("lambda", "ListFunctions20150331", json!(null)), want: acts(&[("lambda:ListFunctions", Some(&[]))]) },
        Case {
            cite: "https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html (creating a function passes its role: iam:PassRole)",
            record: call("lambda", "CreateFunction20150331", json!({"functionName": "f", "role": "arn:aws:iam::111122223333:role/f-role", "runtime": "python3.12"})),
            want: acts(&[("lambda:CreateFunction", Some(&[f("f")])), ("iam:PassRole", Some(&["arn:aws:iam::111122223333:role/f-role"]))]),
        },
        Case { cite: "Service Reference rds RestoreDBInstanceFromS3", record: call("rds", "RestoreDBInstanceFromS3", json!({"dBInstanceIdentifier": "db1", "s3BucketName": "dumps"})), want: acts(&[("rds:RestoreDBInstanceFromS3", None)]) },
        Case { cite: "Service Reference eks ListClusters", record: call("eks", "ListClusters", json!({})), want: acts(&[("eks:ListClusters", None)]) },
        Case { cite: "Service Reference kafka ListClustersV2", record: call("kafka", "ListClustersV2", json!({})), want: acts(&[("kafka:ListClustersV2", None)]) },
        Case { cite: "EKS has no ListClustersV2 operation (Service Reference eks)", record: call("eks", "ListClustersV2", json!({})), want: Want::Unmapped },
        Case { cite: "https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html (s3:GetObject)", record: s3("GetObject", json!({"bucketName": "orders", "key": "2026/a.json"})), want: acts(&[("s3:GetObject", Some(&[OBJECT]))]) },
        Case { cite: "https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html (s3:ListBucket)", record: s3("ListObjectsV2", json!({"bucketName": "orders", "list-type": "2", "prefix": "2026/"})), want: acts(&[("s3:ListBucket", Some(&[BUCKET]))]) },
        Case { cite: "https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjects.html (s3:ListBucket)", record: s3("ListObjects", json!({"bucketName": "orders", "prefix": "2026/"})), want: acts(&[("s3:ListBucket", Some(&[BUCKET]))]) },
        Case { cite: "https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html (s3:ListBucket)", record: s3("HeadBucket", json!({"bucketName": "orders"})), want: acts(&[("s3:ListBucket", Some(&[BUCKET]))]) },
        Case { cite: "https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html (s3:GetObject)", record: s3("HeadObject", json!({"bucketName": "orders", "key": "2026/a.json"})), want: acts(&[("s3:GetObject", Some(&[OBJECT]))]) },
        Case { cite: "https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html (s3:PutObject)", record: s3("CompleteMultipartUpload", json!({"bucketName": "orders", "key": "2026/a.json", "uploadId": "x"})), want: acts(&[("s3:PutObject", Some(&[OBJECT]))]) },
        Case {
            cite: "https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html (s3:GetObject on the source, s3:PutObject on the destination)",
            record: s3("CopyObject", json!({"bucketName": "orders", "key": "2026/a.json", "x-amz-copy-source": "incoming/in/a.json"})),
            want: acts(&[("s3:PutObject", Some(&[OBJECT])), ("s3:GetObject", Some(&["arn:aws:s3:::incoming/in/a.json"]))]),
        },
        Case { cite: "https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html (s3:PutObject)", record: s3("PutObject", json!({"bucketName": "orders", "key": "2026/a.json"})), want: acts(&[("s3:PutObject", Some(&[OBJECT]))]) },
        Case { cite: "https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html (s3:ListAllMyBuckets)", record: call("s3", "ListBuckets", json!({"Host": "s3.amazonaws.com"})), want: acts(&[("s3:ListAllMyBuckets", Some(&[]))]) },
        Case { cite: "Service Reference cloudfront GetDistribution (dated event name)", record: call("cloudfront", "GetDistribution2020_05_31", json!({"id": "E2QWRUHEXAMPLE"})), want: acts(&[("cloudfront:GetDistribution", None)]) },
        Case { cite: "Service Reference cloudfront CreateDistribution (dated event name)", record: call("cloudfront", "CreateDistribution2020_05_31", json!({"distributionConfig": {"callerReference": "x", "comment": ""}})), want: acts(&[("cloudfront:CreateDistribution", None)]) },
        Case { cite: "Service Reference sqs SendMessage", record: call("sqs", "SendMessage", json!({"queueUrl": "https://sqs.us-east-1.amazonaws.com/111122223333/orders-queue", "messageBody": "HIDDEN_DUE_TO_SECURITY_REASONS"})), want: acts(&[("sqs:SendMessage", Some(&["arn:aws:sqs:us-east-1:111122223333:orders-queue"]))]) },
        Case { cite: "Service Reference sqs SendMessageBatch (sqs:SendMessage)", record: call("sqs", "SendMessageBatch", json!({"queueUrl": "https://sqs.us-east-1.amazonaws.com/111122223333/orders-queue"})), want: acts(&[("sqs:SendMessage", Some(&["arn:aws:sqs:us-east-1:111122223333:orders-queue"]))]) },
        Case { cite: "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html (Query on an index: the index ARN)", record: call("dynamodb", "Query", json!({"tableName": "orders", "indexName": "by-customer", "keyConditionExpression": "c = :c"})), want: acts(&[("dynamodb:Query", Some(&["arn:aws:dynamodb:us-east-1:111122223333:table/orders/index/by-customer"]))]) },
        Case { cite: "Service Reference dynamodb GetItem", record: call("dynamodb", "GetItem", json!({"tableName": "orders", "key": {}})), want: acts(&[("dynamodb:GetItem", Some(&["arn:aws:dynamodb:us-east-1:111122223333:table/orders"]))]) },
        Case { cite: "Service Reference dynamodb PutItem", record: call("dynamodb", "PutItem", json!({"tableName": "orders", "key": {}})), want: acts(&[("dynamodb:PutItem", Some(&["arn:aws:dynamodb:us-east-1:111122223333:table/orders"]))]) },
        Case { cite: "Service Reference dynamodb Scan", record: call("dynamodb", "Scan", json!({"tableName": "orders"})), want: acts(&[("dynamodb:Scan", Some(&["arn:aws:dynamodb:us-east-1:111122223333:table/orders"]))]) },
        Case {
            cite: "https://docs.aws.amazon.com/kms/latest/developerguide/ct-decrypt.html (the key in resources[])",
            record: with(call("kms", "Decrypt", json!({"keyId": "alias/orders", "encryptionAlgorithm": "SYMMETRIC_DEFAULT"})), "resources", json!([{"accountId": ACCT, "type": "AWS::KMS::Key", "ARN": key}])),
            want: acts(&[("kms:Decrypt", Some(&[key]))]),
        },
        Case { cite: "Service Reference kms GenerateDataKey", record: call("kms", "GenerateDataKey", json!({"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "keySpec": "AES_256"})), want: acts(&[("kms:GenerateDataKey", Some(&[key]))]) },
        Case { cite: "Service Reference kms GenerateDataKeyWithoutPlaintext", record: call("kms", "GenerateDataKeyWithoutPlaintext", json!({"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab"})), want: acts(&[("kms:GenerateDataKeyWithoutPlaintext", Some(&[key]))]) },
        Case { cite: "https://docs.aws.amazon.com/kms/latest/APIReference/API_ReEncrypt.html (kms:ReEncryptFrom on the source key, kms:ReEncryptTo on the destination)", record: call("kms", "ReEncrypt", json!({"sourceKeyId": key, "destinationKeyId": other_key})), want: acts(&[("kms:ReEncryptFrom", Some(&[key])), ("kms:ReEncryptTo", Some(&[other_key]))]) },
        Case { cite: "https://docs.aws.amazon.com/kms/latest/APIReference/API_DeleteAlias.html (kms:DeleteAlias on the alias and the key)", record: call("kms", "DeleteAlias", json!({"aliasName": "alias/orders"})), want: acts(&[("kms:DeleteAlias", Some(&["arn:aws:kms:us-east-1:111122223333:alias/orders"]))]) },
        Case { cite: "Service Reference secretsmanager GetSecretValue", record: call("secretsmanager", "GetSecretValue", json!({"secretId": "prod/orders/db"})), want: acts(&[("secretsmanager:GetSecretValue", Some(&["arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/orders/db-??????"]))]) },
        Case { cite: "Service Reference ssm GetParameters", record: call("ssm", "GetParameters", json!({"names": ["/orders/db-host", "orders-flag"], "withDecryption": true})), want: acts(&[("ssm:GetParameters", Some(&["arn:aws:ssm:us-east-1:111122223333:parameter/orders-flag", "arn:aws:ssm:us-east-1:111122223333:parameter/orders/db-host"]))]) },
        Case { cite: "Service Reference logs CreateLogStream", record: call("logs", "CreateLogStream", json!({"logGroupName": "/aws/lambda/orders", "logStreamName": "2026/11/01/[$LATEST]abc"})), want: acts(&[("logs:CreateLogStream", None)]) },
        Case { cite: "Service Reference sns Publish", record: call("sns", "Publish", json!({"topicArn": "arn:aws:sns:us-east-1:111122223333:orders", "message": "HIDDEN"})), want: acts(&[("sns:Publish", Some(&["arn:aws:sns:us-east-1:111122223333:orders"]))]) },
        Case { cite: "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-identity-based.html (events:PutEvents on the bus)", record: call("events", "PutEvents", json!({"entries": [{"source": "orders", "eventBusName": "orders-bus"}]})), want: acts(&[("events:PutEvents", Some(&["arn:aws:events:us-east-1:111122223333:event-bus/orders-bus"]))]) },
        Case { cite: "Service Reference iam GetRole", record: call("iam", "GetRole", json!({"roleName": "orders-fn-role"})), want: acts(&[("iam:GetRole", Some(&["arn:aws:iam::111122223333:role/orders-fn-role"]))]) },
        Case { cite: "Service Reference iam AttachRolePolicy", record: call("iam", "AttachRolePolicy", json!({"roleName": "r", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"})), want: acts(&[("iam:AttachRolePolicy", None)]) },
        Case { cite: "https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html (sts:AssumeRole on the role)", record: with(call("sts", "AssumeRole", json!({"roleArn": "arn:aws:iam::444455556666:role/deploy", "roleSessionName": "s"})), "resources", json!([{"ARN": "arn:aws:iam::444455556666:role/deploy", "type": "AWS::IAM::Role"}])), want: acts(&[("sts:AssumeRole", Some(&["arn:aws:iam::444455556666:role/deploy"]))]) },
        Case { cite: "https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html (no permissions are required)", record: call("sts", "GetCallerIdentity", json!(null)), want: Want::Permissionless },
        Case { cite: "no such service", record: call("nosuchservice", "DoThing", json!({})), want: Want::Unmapped },
        Case { cite: "no such S3 operation", record: call("s3", "NoSuchOperationAtAll", json!({})), want: Want::Unmapped },
        Case { cite: "CloudWatch's event source is monitoring.amazonaws.com; Service Reference cloudwatch PutMetricData", record: call("monitoring", "PutMetricData", json!({"namespace": "orders"})), want: acts(&[("cloudwatch:PutMetricData", Some(&[]))]) },
        Case { cite: "Service Reference states StartExecution", record: call("states", "StartExecution", json!({"stateMachineArn": "arn:aws:states:us-east-1:111122223333:stateMachine:flow"})), want: acts(&[("states:StartExecution", Some(&["arn:aws:states:us-east-1:111122223333:stateMachine:flow"]))]) },
    ]
}

fn cases() -> Vec<Case> {
    let mut all = Vec::new();
    all.extend(fallback_and_renamed_cases());
    all.extend(tag_cases());
    all.extend(pass_role_cases());
    all.extend(sts_rds_secrets_waf_cases());
    all.extend(s3_version_and_resource_cases());
    all.extend(extra_action_cases());
    all.extend(non_api_cases());
    all.extend(dynamodb_shape_cases());
    all.extend(existing_kind_cases());
    all
}

// ---------------------------------------------------------------------------------------------------
// Checking

/// What a mapping gave, in terms every version of `Mapping` has.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Got {
    Actions(BTreeMap<String, Vec<String>>),
    Permissionless,
    NonApi,
    Unmapped,
}

fn got(record: &Value) -> Got {
    let text = record.to_string();
    let e: Event = serde_json::from_str(&text).unwrap();
    match map_event(&e, Catalog::get()) {
        Mapping::Actions(a) => Got::Actions(a.into_iter().map(|n| (n.action, n.resources)).collect()),
        Mapping::Permissionless => Got::Permissionless,
        // `NonApi` in this version; a version without it reports these records as unmapped.
        other if format!("{other:?}").starts_with("NonApi") => Got::NonApi,
        _ => Got::Unmapped,
    }
}

/// The same expectation without the resources.
fn actions_only(want: &Want) -> Want {
    match want {
        Want::Actions(list) => Want::Actions(list.iter().map(|(a, _)| (*a, None)).collect()),
        other => other.clone(),
    }
}

/// `Ok` when the record maps exactly as wanted; the difference otherwise.
fn check(record: &Value, want: &Want) -> Result<(), String> {
    let g = got(record);
    let ok = match (want, &g) {
        (Want::Actions(list), Got::Actions(have)) => {
            let names: BTreeSet<&str> = list.iter().map(|(a, _)| *a).collect();
            names == have.keys().map(String::as_str).collect()
                && list.iter().all(|(a, res)| {
                    res.as_ref().is_none_or(|want| {
                        let mut want: Vec<&str> = want.clone();
                        want.sort_unstable();
                        have.get(*a).is_some_and(|h| h.iter().map(String::as_str).collect::<Vec<_>>() == want)
                    })
                })
        }
        (Want::Permissionless, Got::Permissionless)
        | (Want::NonApi, Got::NonApi)
        | (Want::Unmapped, Got::Unmapped) => true,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("want {want:?}, got {g:?}"))
    }
}

#[test]
fn every_rule_maps_its_record_exactly() {
    let failures: Vec<String> = cases()
        .iter()
        .filter_map(|c| {
            check(&c.record, &c.want).err().map(|e| {
                format!("{} {}: {e}\n  ({})", c.record["eventSource"], c.record["eventName"], c.cite)
            })
        })
        .collect();
    assert!(failures.is_empty(), "{} of {} records:\n{}", failures.len(), cases().len(), failures.join("\n"));
}

/// What the demo trail's records need, by event kind: written from the trail's ground truth
/// (`policy-fixtures/README.md`: the calls it generated and how each counts) and the AWS pages cited above.
fn demo_want(record: &Value) -> Want {
    if record["userIdentity"]["type"] == "AWSService" {
        // Lambda's AssumeRole for the function: a service principal's own call.
        return Want::Unmapped;
    }
    let one = |a: &'static str| acts(&[(a, None)]);
    match (record["eventSource"].as_str().unwrap_or(""), record["eventName"].as_str().unwrap_or("")) {
        ("signin.amazonaws.com", "ConsoleLogin") | ("kms.amazonaws.com", "RotateKey") => Want::NonApi,
        ("sts.amazonaws.com", "GetCallerIdentity") => Want::Permissionless,
        ("quantumledger.amazonaws.com", _) => Want::Unmapped,
        ("s3.amazonaws.com", "HeadObject") => one("s3:GetObject"),
        ("s3.amazonaws.com", "ListObjects") => one("s3:ListBucket"),
        ("lambda.amazonaws.com", "Invoke") => one("lambda:InvokeFunction"),
        ("lambda.amazonaws.com", "GetFunction20150331v2") => one("lambda:GetFunction"),
        ("lambda.amazonaws.com", "ListFunctions20150331") => one("lambda:ListFunctions"),
        ("lambda.amazonaws.com", "UpdateFunctionCode20150331v2") => one("lambda:UpdateFunctionCode"),
        (source, name) => {
            let prefix = source.trim_end_matches(".amazonaws.com");
            Want::Actions(vec![(Box::leak(format!("{prefix}:{name}").into_boxed_str()), None)])
        }
    }
}

fn demo_records() -> Vec<Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy-fixtures/demo/cloudtrail");
    let mut files = Vec::new();
    let mut dirs = vec![root];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.to_string_lossy().ends_with(".json.gz") && !p.to_string_lossy().contains("Digest") {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(std::fs::File::open(&f).unwrap()),
            &mut text,
        )
        .unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        out.extend(v["Records"].as_array().unwrap().iter().cloned());
    }
    out
}

/// The figure of issue 16: the share of distinct event kinds (event source + event name) in the test
/// data whose every record maps exactly, over this file's records (one per rule, and one per kind that
/// trail_map.rs and trail_read.rs use) and every record of the demo trail. "Exactly": the same set of
/// actions, the same resources where the case names them, and non-API, permissionless and unmapped
/// records classified as such. Also printed: the share with the actions alone right.
#[test]
fn share_of_event_kinds_that_map_exactly() {
    let mut kinds: BTreeMap<(String, String), (bool, bool)> = BTreeMap::new();
    let mut note = |rec: &Value, want: &Want| {
        let k = (
            rec["eventSource"].as_str().unwrap_or("").to_string(),
            rec["eventName"].as_str().unwrap_or("").to_string(),
        );
        let (exact, actions) = (check(rec, want).is_ok(), check(rec, &actions_only(want)).is_ok());
        let e = kinds.entry(k).or_insert((true, true));
        e.0 &= exact;
        e.1 &= actions;
    };
    for c in cases() {
        note(&c.record, &c.want);
    }
    let demo = demo_records();
    assert_eq!(demo.len(), 1383, "the demo trail's records");
    for rec in &demo {
        note(rec, &demo_want(rec));
    }
    let share = |n: usize| n as f64 * 100.0 / kinds.len() as f64;
    let exact = kinds.values().filter(|(e, _)| *e).count();
    let actions = kinds.values().filter(|(_, a)| *a).count();
    let wrong: Vec<String> =
        kinds.iter().filter(|(_, (e, _))| !*e).map(|((s, n), _)| format!("{s} {n}")).collect();
    eprintln!(
        "event kinds that map exactly: {exact} of {} ({:.1}%); with the right actions: {actions} ({:.1}%); not exact: {wrong:?}",
        kinds.len(),
        share(exact),
        share(actions)
    );
    assert_eq!(exact, kinds.len(), "{wrong:?}");
}
