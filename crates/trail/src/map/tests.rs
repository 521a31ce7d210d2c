use super::*;

#[test]
fn normalizes_dated_names_only() {
    for (src, name, want) in [
        ("lambda", "GetFunction20150331v2", "GetFunction"),
        ("lambda", "ListFunctions20150331", "ListFunctions"),
        ("lambda", "UpdateFunctionCode20150331v2", "UpdateFunctionCode"),
        ("lambda", "PublishLayerVersion20181031", "PublishLayerVersion"),
        ("lambda", "Invoke", "Invoke"),
        ("cloudfront", "CreateDistribution2020_05_31", "CreateDistribution"),
        ("cloudfront", "GetDistributionConfig2019_03_26", "GetDistributionConfig"),
        ("s3", "ListObjectsV2", "ListObjectsV2"),
        ("eks", "ListClustersV2", "ListClustersV2"),
        ("rds", "RestoreDBInstanceFromS3", "RestoreDBInstanceFromS3"),
        ("ec2", "DescribeInstances", "DescribeInstances"),
        ("sts", "AssumeRoleWithSAML", "AssumeRoleWithSAML"),
        ("ec2", "CreateVpnConnectionRoute", "CreateVpnConnectionRoute"),
        ("x", "Op12345678", "Op12345678"),
    ] {
        assert_eq!(normalize_event_name(src, name), want, "{src} {name}");
    }
}

#[test]
fn sqs_urls() {
    let arn = |u| sqs_queue_arn(u, "aws", "eu-west-1");
    assert_eq!(
        arn("https://sqs.us-east-1.amazonaws.com/111122223333/orders-queue").as_deref(),
        Some("arn:aws:sqs:us-east-1:111122223333:orders-queue")
    );
    assert_eq!(
        arn("https://queue.amazonaws.com/111122223333/q.fifo").as_deref(),
        Some("arn:aws:sqs:eu-west-1:111122223333:q.fifo")
    );
    assert_eq!(
        arn("https://us-west-2.queue.amazonaws.com/111122223333/q").as_deref(),
        Some("arn:aws:sqs:us-west-2:111122223333:q")
    );
    assert_eq!(
        sqs_queue_arn("https://sqs.cn-north-1.amazonaws.com.cn/111122223333/q", "aws-cn", "").as_deref(),
        Some("arn:aws-cn:sqs:cn-north-1:111122223333:q")
    );
    assert_eq!(arn("https://sqs.us-east-1.amazonaws.com/"), None);
}

#[test]
fn lambda_names() {
    let f = |n, q| lambda_function_arn(n, q, "aws", "us-east-1", "111122223333");
    let base = "arn:aws:lambda:us-east-1:111122223333:function:orders";
    assert_eq!(f("orders", None).as_deref(), Some(base));
    assert_eq!(f("orders", Some("live")).as_deref(), Some(&*format!("{base}:live")));
    assert_eq!(f("orders:3", None).as_deref(), Some(&*format!("{base}:3")));
    assert_eq!(f("111122223333:function:orders", None).as_deref(), Some(base));
    assert_eq!(
        f("arn:aws:lambda:eu-west-1:444455556666:function:other:prod", None).as_deref(),
        Some("arn:aws:lambda:eu-west-1:444455556666:function:other:prod")
    );
    assert_eq!(f("arn:aws:lambda:eu-west-1:444455556666:layer:l", None), None);
}

#[test]
fn arn_format_matching() {
    let obj = "arn:${Partition}:s3:::${BucketName}/${ObjectName}";
    let bucket = "arn:${Partition}:s3:::${BucketName}";
    assert!(arn_matches(obj, "arn:aws:s3:::b/a/b/c.json"));
    assert!(!arn_matches(obj, "arn:aws:s3:::b"));
    assert!(arn_matches(bucket, "arn:aws:s3:::b"));
    assert!(!arn_matches(bucket, "arn:aws:s3:::b/k"));
    let func = "arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}";
    assert!(arn_matches(func, "arn:aws:lambda:us-east-1:111122223333:function:f"));
    assert!(!arn_matches(func, "arn:aws:lambda:us-east-1:111122223333:function:f:live"));
    let role = "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}";
    assert!(arn_matches(role, "arn:aws:iam::111122223333:role/service-role/x"));
    assert!(!arn_matches(role, "arn:aws:iam::111122223333:user/x"));
}

#[test]
fn copy_sources() {
    assert_eq!(parse_copy_source("src/a/b.json"), Some(("src/a/b.json".into(), false)));
    assert_eq!(parse_copy_source("/src/a%20b.json?versionId=3"), Some(("src/a b.json".into(), true)));
    assert_eq!(parse_copy_source("src"), None);
}

#[test]
fn table_has_content() {
    let c = table_counts();
    assert!(c.sources > 50 && c.permissionless >= 1 && c.aliases >= 5 && c.hints > 2000, "{c:?}");
    assert!(c.rules > 2000 && c.rule_operations > 1000 && c.no_action > 100, "{c:?}");
    assert_eq!(service_prefix("monitoring.amazonaws.com"), Some("cloudwatch"));
    assert_eq!(service_prefix("email.amazonaws.com"), Some("ses"));
    assert_eq!(service_prefix("s3.amazonaws.com"), Some("s3"));
    assert_eq!(service_prefix("nope.amazonaws.com"), None);
}

#[test]
fn less_specific_arns_are_dropped() {
    let v = drop_less_specific(vec!["arn:t/T".into(), "arn:t/T/index/I".into(), "arn:t/TT".into()]);
    assert_eq!(v, vec!["arn:t/T/index/I".to_string(), "arn:t/TT".to_string()]);
}
