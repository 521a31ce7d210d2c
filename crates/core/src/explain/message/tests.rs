//! Every message form, with the example messages of AWS's documentation. Unless a test says
//! otherwise the messages are the examples of the IAM User Guide, "Troubleshoot access denied error
//! messages", section "Access denied error message examples":
//! https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html

use super::*;

fn parse(text: &str) -> DeniedMessage {
    parse_message(text).unwrap()
}

fn stated(m: &DeniedMessage) -> (StatedDenial, StatedLayer) {
    let r = m.reason.as_ref().expect("a stated reason");
    (r.denial, r.layer)
}

/// The guide prints the examples wrapped after "perform:"; the parser must read them as AWS
/// returns them (one line) and as the guide shows them.
fn both_ways(text: &str) -> [DeniedMessage; 2] {
    [parse(text), parse(&text.replacen("perform: ", "perform:\n", 1))]
}

#[test]
fn scp_implicit_denial() {
    for m in both_ways(
        "User: arn:aws:iam::777788889999:user/John is not authorized to perform: codecommit:ListRepositories because no service control policy allows the codecommit:ListRespositories action",
    ) {
        assert_eq!(m.principal.as_deref(), Some("arn:aws:iam::777788889999:user/John"));
        assert_eq!(m.action.as_deref(), Some("codecommit:ListRepositories"));
        // No `on resource`: an action without resources.
        assert_eq!(m.resource, None);
        assert_eq!(stated(&m), (StatedDenial::Implicit, StatedLayer::Scp));
    }
}

#[test]
fn scp_explicit_denial() {
    for m in both_ways(
        "User: arn:aws:iam::777788889999:user/John is not authorized to perform: codecommit:ListRepositories with an explicit deny in a service control policy",
    ) {
        assert_eq!(m.action.as_deref(), Some("codecommit:ListRepositories"));
        assert_eq!(m.resource, None);
        assert_eq!(stated(&m), (StatedDenial::Explicit, StatedLayer::Scp));
    }
}

/// Amazon S3's enhanced messages name the denying policy ("..., with policy ARN: ARN") for
/// explicit denies of SCPs, RCPs, identity-based policies, session policies and boundaries (Amazon S3
/// User Guide, "Troubleshoot access denied (403 Forbidden) errors in Amazon S3"):
/// https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html
#[test]
fn explicit_denial_with_the_policy_arn() {
    let m = parse(
        "User: arn:aws:iam::777788889999:user/MaryMajor is not authorized to perform:\ns3:GetObject with an explicit deny in a service control policy, with policy ARN:\narn:aws:organizations::777788889999:policy/o-exampleorgid/service_control_policy/p-examplepolicyid",
    );
    assert_eq!(m.action.as_deref(), Some("s3:GetObject"));
    assert_eq!(stated(&m), (StatedDenial::Explicit, StatedLayer::Scp));
    assert_eq!(
        m.reason.unwrap().policy_arn.as_deref(),
        Some("arn:aws:organizations::777788889999:policy/o-exampleorgid/service_control_policy/p-examplepolicyid")
    );
    let m = parse(
        "User: arn:aws:iam::123456789012:user/MaryMajor is not authorized to perform:\ns3:GetObject on resource: \"arn:aws:s3:::amzn-s3-demo-bucket1/object-name\" with\nan explicit deny in an identity-based policy, with policy ARN:\narn:aws:iam::123456789012:policy/ExampleIdentityBasedPolicy",
    );
    assert_eq!(m.resource.as_deref(), Some("arn:aws:s3:::amzn-s3-demo-bucket1/object-name"));
    assert_eq!(stated(&m), (StatedDenial::Explicit, StatedLayer::Identity));
    assert_eq!(
        m.reason.unwrap().policy_arn.as_deref(),
        Some("arn:aws:iam::123456789012:policy/ExampleIdentityBasedPolicy")
    );
}

#[test]
fn rcp_explicit_denial() {
    for m in both_ways(
        "User: arn:aws:iam::123456789012:user/John is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:* with an explicit deny in a resource control policy",
    ) {
        assert_eq!(m.action.as_deref(), Some("secretsmanager:GetSecretValue"));
        assert_eq!(m.resource.as_deref(), Some("arn:aws:secretsmanager:us-east-1:123456789012:secret:*"));
        assert_eq!(stated(&m), (StatedDenial::Explicit, StatedLayer::Rcp));
    }
}

#[test]
fn vpc_endpoint_denials() {
    let m = parse(
        "User: arn:aws:iam::123456789012:user/John is not authorized to perform: codecommit:ListRepositories because no VPC endpoint policy allows the codecommit:ListRepositories action",
    );
    assert_eq!(stated(&m), (StatedDenial::Implicit, StatedLayer::VpcEndpoint));
    let m = parse(
        "User: arn:aws:iam::123456789012:user/John is not authorized to perform: codedeploy:ListDeployments on resource: arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* with an explicit deny in a VPC endpoint policy",
    );
    assert_eq!(m.resource.as_deref(), Some("arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:*"));
    assert_eq!(stated(&m), (StatedDenial::Explicit, StatedLayer::VpcEndpoint));
    // "Access is denied when a VPC request fails due to another policy": the VPC endpoint policy is
    // the one named, reached through an SCP.
    let m = parse(
        "User: arn:aws:sts::111122223333:assumed-role/role-name/role-session-name is not authorized to perform:\nSNS:Publish on resource: arn:aws:sns:us-east-1:444455556666:role-name-2\nwith an explicit deny in a VPC endpoint policy transitively through a service control policy",
    );
    assert_eq!(
        m.principal.as_deref(),
        Some("arn:aws:sts::111122223333:assumed-role/role-name/role-session-name")
    );
    assert_eq!(m.action.as_deref(), Some("SNS:Publish"));
    assert_eq!(m.resource.as_deref(), Some("arn:aws:sns:us-east-1:444455556666:role-name-2"));
    assert_eq!(stated(&m), (StatedDenial::Explicit, StatedLayer::VpcEndpoint));
}

#[test]
fn permissions_boundary_denials() {
    let m = parse(
        "User: arn:aws:iam::123456789012:user/John is not authorized to perform: codedeploy:ListDeployments on resource: arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* because no permissions boundary allows the codedeploy:ListDeployments action",
    );
    assert_eq!(stated(&m), (StatedDenial::Implicit, StatedLayer::Boundary));
    let m = parse(
        "User: arn:aws:iam::777788889999:user/John is not authorized to perform: sagemaker:ListModels with an explicit deny in a permissions boundary",
    );
    assert_eq!(m.action.as_deref(), Some("sagemaker:ListModels"));
    assert_eq!(stated(&m), (StatedDenial::Explicit, StatedLayer::Boundary));
}

#[test]
fn session_policy_denials() {
    let m = parse(
        "User: arn:aws:iam::123456789012:user/John is not authorized to perform: codecommit:ListRepositories because no session policy allows the codecommit:ListRepositories action",
    );
    assert_eq!(stated(&m), (StatedDenial::Implicit, StatedLayer::Session));
    // The guide's example says "sessions policy".
    let m = parse(
        "User: arn:aws:iam::123456789012:user/John is not authorized to perform: codedeploy:ListDeployments on resource: arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* with an explicit deny in a sessions policy",
    );
    assert_eq!(stated(&m), (StatedDenial::Explicit, StatedLayer::Session));
}

#[test]
fn resource_based_policy_denials() {
    let m = parse(
        "User: arn:aws:iam::123456789012:user/John is not authorized to perform: secretsmanager:GetSecretValue because no resource-based policy allows the secretsmanager:GetSecretValue action",
    );
    assert_eq!(m.resource, None);
    assert_eq!(stated(&m), (StatedDenial::Implicit, StatedLayer::Resource));
    let m = parse(
        "User: arn:aws:iam::123456789012:user/John is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:* with an explicit deny in a resource-based policy",
    );
    assert_eq!(stated(&m), (StatedDenial::Explicit, StatedLayer::Resource));
}

#[test]
fn role_trust_policy_denials() {
    let m = parse(
        "User: arn:aws:iam::123456789012:user/John is not authorized to perform: sts:AssumeRole because no role trust policy allows the sts:AssumeRole action",
    );
    assert_eq!(m.action.as_deref(), Some("sts:AssumeRole"));
    assert_eq!(stated(&m), (StatedDenial::Implicit, StatedLayer::Trust));
    let m = parse(
        "User: arn:aws:iam::777788889999:user/John is not authorized to perform: sts:AssumeRole with an explicit deny in the role trust policy",
    );
    assert_eq!(stated(&m), (StatedDenial::Explicit, StatedLayer::Trust));
}

#[test]
fn identity_based_policy_denials() {
    let m = parse(
        "User: arn:aws:iam::123456789012:role/HR is not authorized to perform: codecommit:ListRepositories because no identity-based policy allows the codecommit:ListRepositories action",
    );
    assert_eq!(m.principal.as_deref(), Some("arn:aws:iam::123456789012:role/HR"));
    assert_eq!(stated(&m), (StatedDenial::Implicit, StatedLayer::Identity));
    let m = parse(
        "User: arn:aws:iam::123456789012:role/HR is not authorized to perform: codedeploy:ListDeployments on resource: arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* with an explicit deny in an identity-based policy",
    );
    assert_eq!(stated(&m), (StatedDenial::Explicit, StatedLayer::Identity));
}

/// "I get "access denied" when I make a request to an AWS service": the message without a reason.
#[test]
fn without_a_reason() {
    let m = parse(
        "User: arn:aws:iam::123456789012:user/mateojackson is not authorized to perform: widgets:GetWidget on resource: my-example-widget",
    );
    assert_eq!(m.principal.as_deref(), Some("arn:aws:iam::123456789012:user/mateojackson"));
    assert_eq!(m.action.as_deref(), Some("widgets:GetWidget"));
    assert_eq!(m.resource.as_deref(), Some("my-example-widget"));
    assert_eq!(m.reason, None);
}

/// The STS form, as the AWS CLI prints it for a refused `aws sts assume-role` (AWS STS API
/// Reference, AssumeRole, "Errors": AccessDenied): https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
#[test]
fn assume_role_with_the_cli_around_it() {
    let m = parse(
        "An error occurred (AccessDenied) when calling the AssumeRole operation: User: arn:aws:iam::123456789012:user/ci-runner is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::999999999999:role/DeployRole",
    );
    assert_eq!(m.error_code.as_deref(), Some("AccessDenied"));
    assert_eq!(m.operation.as_deref(), Some("AssumeRole"));
    assert_eq!(m.principal.as_deref(), Some("arn:aws:iam::123456789012:user/ci-runner"));
    assert_eq!(m.action.as_deref(), Some("sts:AssumeRole"));
    assert_eq!(m.resource.as_deref(), Some("arn:aws:iam::999999999999:role/DeployRole"));
    assert_eq!(m.reason, None);
}

/// The AWS CLI's words around a DynamoDB refusal, for the demo's function session.
#[test]
fn dynamodb_scan_with_the_cli_around_it() {
    let m = parse(
        "An error occurred (AccessDeniedException) when calling the Scan operation: User: arn:aws:sts::111122223333:assumed-role/orders-fn-role/orders is not authorized to perform: dynamodb:Scan on resource: arn:aws:dynamodb:us-east-1:111122223333:table/orders because no identity-based policy allows the dynamodb:Scan action",
    );
    assert_eq!(m.error_code.as_deref(), Some("AccessDeniedException"));
    assert_eq!(m.operation.as_deref(), Some("Scan"));
    assert_eq!(m.principal.as_deref(), Some("arn:aws:sts::111122223333:assumed-role/orders-fn-role/orders"));
    assert_eq!(m.resource.as_deref(), Some("arn:aws:dynamodb:us-east-1:111122223333:table/orders"));
    assert_eq!(stated(&m), (StatedDenial::Implicit, StatedLayer::Identity));
}

/// Amazon S3 quotes the resource and wraps the message (Amazon S3 User Guide, "Troubleshoot access
/// denied (403 Forbidden) errors in Amazon S3", "Access denied due to a resource control policy –
/// explicit denial"): https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html
#[test]
fn s3_quoted_resource() {
    let m = parse(
        "An error occurred (AccessDenied) when calling the GetObject operation:\nUser: arn:aws:iam::777788889999:user/MaryMajor is not authorized to perform:\ns3:GetObject on resource: \"arn:aws:s3:::amzn-s3-demo-bucket1/object-name\"\nwith an explicit deny in a resource control policy",
    );
    assert_eq!(m.operation.as_deref(), Some("GetObject"));
    assert_eq!(m.principal.as_deref(), Some("arn:aws:iam::777788889999:user/MaryMajor"));
    assert_eq!(m.resource.as_deref(), Some("arn:aws:s3:::amzn-s3-demo-bucket1/object-name"));
    assert_eq!(stated(&m), (StatedDenial::Explicit, StatedLayer::Rcp));
    // A reason that names no policy type (S3's blocked encryption type, same page).
    let m = parse(
        "An error occurred (AccessDenied) when calling the PutObject operation:\nUser: arn:aws:iam::123456789012:user/MaryMajor  is not\nauthorized to perform: s3:PutObject on resource:\n\"arn:aws:s3:::amzn-s3-demo-bucket1/object-name\" because this\nbucket has blocked upload requests that specify\nServer Side Encryption with Customer provided keys (SSE-C).\nPlease specify a different server-side encryption type",
    );
    assert_eq!(m.action.as_deref(), Some("s3:PutObject"));
    assert_eq!(m.resource.as_deref(), Some("arn:aws:s3:::amzn-s3-demo-bucket1/object-name"));
    assert_eq!(stated(&m), (StatedDenial::Implicit, StatedLayer::Other));
    // "on this resource": no resource named.
    let m = parse(
        "User: arn:aws:sts::112233445566:assumed-role/AWSReservedSSO_PermSetName_0123456789abcdef/abcde is not authorized to perform: kms:GenerateDataKey on this resource because no identity-based policy allows the kms:GenerateDataKey action",
    );
    assert_eq!(m.action.as_deref(), Some("kms:GenerateDataKey"));
    assert_eq!(m.resource, None);
    assert_eq!(stated(&m), (StatedDenial::Implicit, StatedLayer::Identity));
}

/// An SDK's JSON error body (the JSON 1.0 protocol's `__type` and `message`).
#[test]
fn sdk_json_error_body() {
    let m = parse(
        r#"{"__type":"com.amazon.coral.service#AccessDeniedException","message":"User: arn:aws:sts::111122223333:assumed-role/orders-fn-role/orders is not authorized to perform: dynamodb:Scan on resource: arn:aws:dynamodb:us-east-1:111122223333:table/orders with an explicit deny in an identity-based policy"}"#,
    );
    assert_eq!(m.error_code.as_deref(), Some("AccessDeniedException"));
    assert_eq!(m.action.as_deref(), Some("dynamodb:Scan"));
    assert_eq!(stated(&m), (StatedDenial::Explicit, StatedLayer::Identity));
}

/// A query-protocol XML error body (IAM, STS, SNS answer `<ErrorResponse><Error><Code>...`; AWS
/// STS API Reference, "Common Errors": https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html),
/// here as the moto emulator writes it for a refused `iam:ListRoles`.
#[test]
fn xml_error_body() {
    let m = parse(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/dev is not authorized to perform: iam:ListRoles</Message><Type>Sender</Type></Error></Errors></ErrorResponse>",
    );
    assert_eq!(m.error_code.as_deref(), Some("AccessDenied"));
    assert_eq!(m.principal.as_deref(), Some("arn:aws:iam::123456789012:user/dev"));
    assert_eq!(m.action.as_deref(), Some("iam:ListRoles"));
    assert_eq!((m.resource, m.reason), (None, None));
}

/// The words other SDKs put around the message: the AWS SDK for Go v2 (`operation error SERVICE: OP,
/// https response error StatusCode: N, RequestID: ID, api error CODE: MESSAGE`) and the AWS SDK for
/// Java (`MESSAGE (Service: S, Status Code: N, Request ID: ID)`).
#[test]
fn go_and_java_sdk_errors() {
    let message = "User: arn:aws:sts::111122223333:assumed-role/orders-fn-role/orders is not authorized to perform: dynamodb:Scan on resource: arn:aws:dynamodb:us-east-1:111122223333:table/orders with an explicit deny in an identity-based policy";
    let m = parse(&format!(
        "operation error DynamoDB: Scan, https response error StatusCode: 400, RequestID: 4KBNVRGD25RG4KOM6UIN9NFN3RVV4KQNSO5AEMVJF66Q9ASUAAJG, api error AccessDeniedException: {message}"
    ));
    assert_eq!(
        (m.error_code.as_deref(), m.operation.as_deref()),
        (Some("AccessDeniedException"), Some("Scan"))
    );
    assert_eq!(m.action.as_deref(), Some("dynamodb:Scan"));
    assert_eq!(stated(&m), (StatedDenial::Explicit, StatedLayer::Identity));
    let m = parse(&format!(
        "{message} (Service: DynamoDb, Status Code: 400, Request ID: 4KBNVRGD25RG4KOM6UIN9NFN3RVV4KQNSO5AEMVJF66Q9ASUAAJG)"
    ));
    assert_eq!(m.error_code, None);
    assert_eq!(m.reason.unwrap().text, "with an explicit deny in an identity-based policy");
}

/// EC2's encoded message (AWS STS API Reference, DecodeAuthorizationMessage): nothing but the code
/// can be read until it is decoded.
/// https://docs.aws.amazon.com/STS/latest/APIReference/API_DecodeAuthorizationMessage.html
#[test]
fn encoded_authorization_failure_message() {
    let m = parse(
        "An error occurred (UnauthorizedOperation) when calling the RunInstances operation: You are not authorized to perform this operation. Encoded authorization failure message: 4GIOHlTkIaWHQD0Q0m6XSnuUMCm-abcdef",
    );
    assert_eq!(m.form, MessageForm::Encoded);
    assert_eq!(m.error_code.as_deref(), Some("UnauthorizedOperation"));
    assert_eq!(m.operation.as_deref(), Some("RunInstances"));
    assert_eq!((m.principal, m.action), (None, None));
    assert_eq!(m.encoded.as_deref(), Some("4GIOHlTkIaWHQD0Q0m6XSnuUMCm-abcdef"));
    let m = parse("Client.UnauthorizedOperation: You are not authorized to perform this operation. Encoded authorization failure message: abc");
    assert_eq!(m.form, MessageForm::Encoded);
    assert_eq!(m.error_code.as_deref(), Some("Client.UnauthorizedOperation"));
}

/// The output of `aws sts decode-authorization-message` (AWS CLI Command Reference,
/// decode-authorization-message, example output):
/// https://docs.aws.amazon.com/cli/latest/reference/sts/decode-authorization-message.html
const DECODED: &str = r#"{
    "DecodedMessage": "{\"allowed\":false,\"explicitDeny\":false,\"matchedStatements\":{\"items\":[]},\"failures\":{\"items\":[]},\"context\":{\"principal\":{\"id\":\"AIDAEXAMPLEKXD6SH2EXE\",\"name\":\"Bob\",\"arn\":\"arn:aws:iam::111122223333:user/Bob\"},\"action\":\"ec2:RunInstances\",\"resource\":\"arn:aws:ec2:us-east-1:111122223333:key-pair/keypairid\",\"conditions\":{\"items\":[{\"key\":\"ec2:Region\",\"values\":{\"items\":[{\"value\":\"us-east-1\"}]}}]}}}"
}"#;

#[test]
fn decoded_authorization_message() {
    for text in [DECODED.to_string(), format!("some words before\n{DECODED}")] {
        let m = parse(&text);
        assert_eq!(m.form, MessageForm::Decoded);
        assert_eq!(m.principal.as_deref(), Some("arn:aws:iam::111122223333:user/Bob"));
        assert_eq!(m.action.as_deref(), Some("ec2:RunInstances"));
        assert_eq!(m.resource.as_deref(), Some("arn:aws:ec2:us-east-1:111122223333:key-pair/keypairid"));
        assert_eq!(m.explicit_deny, Some(false));
        assert_eq!(stated(&m), (StatedDenial::Implicit, StatedLayer::Other));
        use iamfit_policy::context::Lookup;
        assert_eq!(m.context.get("ec2:region"), Some(&ContextValue::Single("us-east-1".into())));
    }
    // The decoded JSON itself (the DecodedMessage string, unwrapped).
    let inner: Value = serde_json::from_str(DECODED).unwrap();
    let m = parse(inner["DecodedMessage"].as_str().unwrap());
    assert_eq!(m.action.as_deref(), Some("ec2:RunInstances"));
}

#[test]
fn broken_decoded_message_is_an_error() {
    let err = parse_message(r#"{"DecodedMessage": "{not json"}"#).unwrap_err();
    assert!(matches!(err, MessageError::Decoded(_)), "{err:?}");
}

#[test]
fn what_cannot_be_read_stays_unknown() {
    assert_eq!(parse_message("  \n").unwrap_err(), MessageError::Empty);
    let m = parse("the build failed");
    assert_eq!((m.principal, m.action, m.resource, m.reason), (None, None, None, None));
    // A principal but no action.
    let m = parse("User: arn:aws:iam::123456789012:user/John is not authorized to perform this operation");
    assert_eq!(m.principal.as_deref(), Some("arn:aws:iam::123456789012:user/John"));
    assert_eq!(m.action, None);
    // Never a panic on odd input.
    for text in [
        "is not authorized to perform",
        "User: is not authorized to perform: : on resource:",
        "{",
        "é is not authorized to perform: ü",
    ] {
        let _ = parse_message(text);
    }
}

proptest::proptest! {
    /// Never a panic on input: any text, and any mix of the grammar's own words (multi-byte
    /// characters included, which string slicing would trip over).
    #[test]
    fn any_text_is_read_without_a_panic(text in "\\PC{0,200}") {
        let _ = parse_message(&text);
    }

    #[test]
    fn any_mix_of_message_words_is_read_without_a_panic(words in proptest::collection::vec(proptest::sample::select(vec![
        "User:", "arn:aws:iam::1:user/é", "is not authorized to perform", ":", "s3:GetObject", "on resource:",
        "\"", "because", "no", "with an explicit deny in a", "service control policy", "{", "}",
        "\"DecodedMessage\"", "\"allowed\"", "<Message>", "</Message>", "Encoded authorization failure message:",
        "ü", "An error occurred (", ")", "when calling the", "operation", "api error", "(Service: ",
    ]), 0..24)) {
        let text = words.join(" ");
        let _ = parse_message(&text);
        let _ = parse_message(&words.concat());
    }
}
