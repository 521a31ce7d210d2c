//! The emulator wiring: moto starts, the AWS SDK reaches it, and it behaves as docs/testing.md says on the
//! calls iamfit depends on (IAM, STS, Lambda).

use crate::support;

use std::path::Path;

#[allow(deprecated)]
use aws_config::profile::profile_file::{ProfileFileKind, ProfileFiles};
use aws_config::profile::ProfileFileCredentialsProvider;
use serde_json::Value;
use support::*;

const S3_READ: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::orders-bucket","arn:aws:s3:::orders-bucket/*"]}]}"#;
const DDB_WRITE: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Write","Effect":"Allow","Action":"dynamodb:PutItem","Resource":"arn:aws:dynamodb:us-east-1:123456789012:table/orders","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}]}"#;
const IAM_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}"#;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The HTTP status of a failed call (moto's 403 bodies are not classified by the SDK).
fn status<E, R: std::fmt::Debug>(result: Result<R, aws_sdk_iam::error::SdkError<E>>) -> u16 {
    match result {
        Ok(r) => panic!("expected an error response, got {r:?}"),
        Err(e) => e.raw_response().map(|r| r.status().as_u16()).expect("an HTTP response"),
    }
}

/// The AWS CLI resolution of `profile` from these two files (not the environment).
// The replacement names (aws_runtime::env_config::file) are not re-exported by aws-config.
#[allow(deprecated)]
fn profile_provider(credentials: &Path, config: &Path, profile: &str) -> ProfileFileCredentialsProvider {
    let files = ProfileFiles::builder()
        .with_file(ProfileFileKind::Credentials, credentials)
        .with_file(ProfileFileKind::Config, config)
        .build();
    ProfileFileCredentialsProvider::builder().profile_files(files).profile_name(profile).build()
}

#[tokio::test]
async fn user_key_identity_and_inline_policy_encoding() {
    let moto = Moto::start();
    eprintln!("moto started in {:?}", moto.started_in());
    let cfg = sdk_config(&moto.endpoint(), None);
    let iam = iam_client(&cfg);

    let managed = create_policy(&iam, "orders-read", S3_READ).await;
    assert_eq!(managed, "arn:aws:iam::123456789012:policy/orders-read");
    let user = create_user(&iam, "alice", &[("orders-write", DDB_WRITE)], &[&managed]).await;
    assert_eq!(user, "arn:aws:iam::123456789012:user/alice");
    let key = create_access_key(&iam, "alice").await;

    // STS with the user's key reports the user.
    let sts = sts_client(&sdk_config(&moto.endpoint(), Some(&key)));
    let me = sts.get_caller_identity().send().await.expect("GetCallerIdentity");
    assert_eq!(me.arn(), Some(user.as_str()));
    assert_eq!(me.account(), Some(DEFAULT_ACCOUNT));

    // The same key through AWS CLI-style profile files written by the harness.
    let dir = tempfile::tempdir().unwrap();
    write_profile(dir.path(), "other", "AKIAOTHEROTHEROTHER1", "secret", "eu-west-1");
    let credentials =
        write_profile(dir.path(), "dev", &key.access_key_id, &key.secret_access_key, "us-east-1");
    let provider = profile_provider(&credentials, &dir.path().join("config"), "dev");
    let conf = aws_sdk_sts::config::Builder::from(&cfg).credentials_provider(provider).build();
    let me =
        aws_sdk_sts::Client::from_conf(conf).get_caller_identity().send().await.expect("GetCallerIdentity");
    assert_eq!(me.arn(), Some(user.as_str()), "profile dev resolves to alice's key");

    // GetUserPolicy returns the document URL-encoded; decoded it is what was written.
    let got = iam.get_user_policy().user_name("alice").policy_name("orders-write").send().await.unwrap();
    let raw = got.policy_document();
    assert!(!raw.starts_with('{') && raw.contains("%22"), "expected a URL-encoded document, got {raw}");
    assert_eq!(json(&decode_policy_document(raw)), json(DDB_WRITE));

    // The managed policy is attached and its default version is the document as written, plain JSON.
    let attached = iam.list_attached_user_policies().user_name("alice").send().await.unwrap();
    let arns: Vec<_> = attached.attached_policies().iter().filter_map(|p| p.policy_arn()).collect();
    assert_eq!(arns, [managed.as_str()]);
    let version = iam.get_policy_version().policy_arn(&managed).version_id("v1").send().await.unwrap();
    let doc = version.policy_version().and_then(|v| v.document()).expect("a document");
    assert!(doc.starts_with('{'), "GetPolicyVersion is plain JSON in moto: {doc}");
    assert_eq!(json(doc), json(S3_READ));
}

#[tokio::test]
async fn lambda_function_with_its_role() {
    let moto = Moto::start();
    let cfg = sdk_config(&moto.endpoint(), None);
    let iam = iam_client(&cfg);
    let lambda = lambda_client(&cfg);

    let role = create_role(&iam, "orders-fn-role", LAMBDA_TRUST, &[("ddb", DDB_WRITE)], &[]).await;
    assert_eq!(role, "arn:aws:iam::123456789012:role/orders-fn-role");
    let function = create_function(&lambda, "orders", &role, &[("TABLE", "orders")]).await;
    assert_eq!(function, "arn:aws:lambda:us-east-1:123456789012:function:orders");

    let conf = lambda.get_function_configuration().function_name("orders").send().await.unwrap();
    assert_eq!(conf.role(), Some(role.as_str()));
    assert_eq!(conf.function_arn(), Some(function.as_str()));
    let vars = conf.environment().and_then(|e| e.variables()).expect("environment variables");
    assert_eq!(vars.get("TABLE").map(String::as_str), Some("orders"));

    // By ARN too, and an unknown function is a clean 404 (not a retried 500).
    let by_arn = lambda.get_function_configuration().function_name(&function).send().await.unwrap();
    assert_eq!(by_arn.role(), Some(role.as_str()));
    let missing = lambda.get_function_configuration().function_name("nope").send().await;
    let err = missing.expect_err("unknown function");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(404));
    assert!(err.into_service_error().is_resource_not_found_exception());
}

#[tokio::test]
async fn account_authorization_details_lists_users_roles_and_policies() {
    let moto = Moto::start();
    let iam = iam_client(&sdk_config(&moto.endpoint(), None));

    let managed = create_policy(&iam, "orders-read", S3_READ).await;
    create_user(&iam, "alice", &[("orders-write", DDB_WRITE)], &[&managed]).await;
    create_group(&iam, "devs", &[("iam", IAM_ALL)], &[&managed], &["alice"]).await;
    let role = create_role(&iam, "orders-fn-role", LAMBDA_TRUST, &[("ddb", DDB_WRITE)], &[&managed]).await;

    let details = iam.get_account_authorization_details().send().await.unwrap();

    let users = details.user_detail_list();
    assert_eq!(users.len(), 1);
    let alice = &users[0];
    assert_eq!(alice.user_name(), Some("alice"));
    assert_eq!(alice.group_list(), ["devs"]);
    let inline = alice.user_policy_list();
    assert_eq!(inline.len(), 1);
    assert_eq!(inline[0].policy_name(), Some("orders-write"));
    let doc = inline[0].policy_document().unwrap();
    assert!(!doc.starts_with('{'), "inline documents are URL-encoded: {doc}");
    assert_eq!(json(&decode_policy_document(doc)), json(DDB_WRITE));
    let attached: Vec<_> = alice.attached_managed_policies().iter().filter_map(|p| p.policy_arn()).collect();
    assert_eq!(attached, [managed.as_str()]);

    let groups = details.group_detail_list();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].group_name(), Some("devs"));

    let roles = details.role_detail_list();
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0].arn(), Some(role.as_str()));
    let trust = roles[0].assume_role_policy_document().unwrap();
    assert_eq!(json(&decode_policy_document(trust)), json(LAMBDA_TRUST));
    let role_inline = roles[0].role_policy_list();
    assert_eq!(role_inline.len(), 1);
    assert_eq!(json(&decode_policy_document(role_inline[0].policy_document().unwrap())), json(DDB_WRITE));

    // Policies[] holds the customer managed policy (found by ARN: moto omits PolicyName and PolicyId)
    // with its versions.
    let policies = details.policies();
    let policy = policies.iter().find(|p| p.arn() == Some(managed.as_str())).expect("the managed policy");
    assert_eq!(policy.attachment_count(), Some(3));
    let versions = policy.policy_version_list();
    assert_eq!(versions.len(), 1);
    assert!(versions[0].is_default_version());
    assert_eq!(json(&decode_policy_document(versions[0].document().unwrap())), json(S3_READ));
}

#[tokio::test]
async fn account_id_from_the_environment() {
    let moto = Moto::start_with(&[("MOTO_ACCOUNT_ID", "444455556666")]);
    let cfg = sdk_config(&moto.endpoint(), None);

    let me = sts_client(&cfg).get_caller_identity().send().await.unwrap();
    assert_eq!(me.account(), Some("444455556666"));
    let iam = iam_client(&cfg);
    let user = create_user(&iam, "bob", &[], &[]).await;
    assert_eq!(user, "arn:aws:iam::444455556666:user/bob");
    let key = create_access_key(&iam, "bob").await;
    let me =
        sts_client(&sdk_config(&moto.endpoint(), Some(&key))).get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some(user.as_str()));

    // MOTO_ACCOUNT_ID beats the x-moto-account-id header.
    let me = sts_client_in(&cfg, "111122223333").get_caller_identity().send().await.unwrap();
    assert_eq!(me.account(), Some("444455556666"));
}

#[tokio::test]
async fn account_per_request_header() {
    let moto = Moto::start();
    let cfg = sdk_config(&moto.endpoint(), None);
    let iam = iam_client(&cfg);
    create_user(&iam, "bob", &[], &[]).await;

    // x-moto-account-id selects another account's state in the same server.
    let other = iam_client_in(&cfg, "111122223333");
    assert_eq!(create_user(&other, "carol", &[], &[]).await, "arn:aws:iam::111122223333:user/carol");
    let names = |out: aws_sdk_iam::operation::list_users::ListUsersOutput| {
        out.users().iter().map(|u| u.user_name().to_string()).collect::<Vec<_>>()
    };
    assert_eq!(names(other.list_users().send().await.unwrap()), ["carol"]);
    assert_eq!(names(iam.list_users().send().await.unwrap()), ["bob"]);
    let me = sts_client_in(&cfg, "111122223333").get_caller_identity().send().await.unwrap();
    assert_eq!(me.account(), Some("111122223333"));
}

#[tokio::test]
async fn reset_and_authorization_switch() {
    let moto = Moto::start();
    let cfg = sdk_config(&moto.endpoint(), None);
    let iam = iam_client(&cfg);

    create_user(&iam, "admin", &[("iam", IAM_ALL)], &[]).await;
    create_user(&iam, "nobody", &[], &[]).await;
    let admin = iam_client(&sdk_config(&moto.endpoint(), Some(&create_access_key(&iam, "admin").await)));
    let nobody = iam_client(&sdk_config(&moto.endpoint(), Some(&create_access_key(&iam, "nobody").await)));

    moto.set_auth(true);
    assert_eq!(admin.list_users().send().await.expect("admin may list users").users().len(), 2);
    assert_eq!(status(nobody.list_users().send().await), 403, "no policy: denied");
    assert_eq!(status(iam.list_users().send().await), 403, "a key moto never issued: denied");
    moto.set_auth(false);
    assert_eq!(iam.list_users().send().await.expect("auth off").users().len(), 2);

    moto.reset();
    assert!(iam.list_users().send().await.unwrap().users().is_empty(), "reset clears IAM");
}

#[test]
fn hand_built_zip_is_a_valid_archive() {
    let zip = zip_single_file("index.py", b"print(1)\n");
    // Local header, the content stored as is, one central directory entry, end record.
    assert_eq!(&zip[..4], b"PK\x03\x04");
    assert_eq!(&zip[30..38], b"index.py");
    assert_eq!(&zip[38..47], b"print(1)\n");
    assert_eq!(&zip[47..51], b"PK\x01\x02");
    let end = &zip[zip.len() - 22..];
    assert_eq!(&end[..4], b"PK\x05\x06");
    // CRC-32 of "print(1)\n" (zlib.crc32).
    assert_eq!(u32::from_le_bytes(zip[14..18].try_into().unwrap()), 0x3ce1_1e06);
}
