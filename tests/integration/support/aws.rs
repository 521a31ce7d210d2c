//! AWS SDK configuration and clients for the emulator, and helpers that seed IAM and Lambda state.
//!
//! The seeding helpers panic with the SDK's full error context on failure: they are test set-up.

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_iam::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_iam::config::{ConfigBag, Credentials, Intercept, RuntimeComponents, SharedCredentialsProvider};
use aws_sdk_iam::error::{BoxError, DisplayErrorContext};

/// The region every test uses.
pub const REGION: &str = "us-east-1";
/// moto's default account.
pub const DEFAULT_ACCOUNT: &str = "123456789012";
/// A trust policy that lets Lambda assume a role.
pub const LAMBDA_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// An access key (moto accepts any key while its authorization checks are off).
#[derive(Clone, Debug)]
pub struct TestKey {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl TestKey {
    /// The static key used when a test does not care who calls.
    pub fn fixed() -> TestKey {
        TestKey {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        }
    }

    fn credentials(&self) -> Credentials {
        Credentials::new(
            &self.access_key_id,
            &self.secret_access_key,
            self.session_token.clone(),
            None,
            "iamfit-tests",
        )
    }
}

/// SDK configuration for the emulator at `endpoint`: the given key (else [`TestKey::fixed`]),
/// region us-east-1, retries off (moto answers 500 for calls it lacks). Never reads the environment.
pub fn sdk_config(endpoint: &str, key: Option<&TestKey>) -> SdkConfig {
    let key = key.cloned().unwrap_or_else(TestKey::fixed);
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(SharedCredentialsProvider::new(key.credentials()))
        .retry_config(RetryConfig::disabled())
        .build()
}

pub fn iam_client(cfg: &SdkConfig) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(cfg)
}

pub fn sts_client(cfg: &SdkConfig) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::new(cfg)
}

pub fn lambda_client(cfg: &SdkConfig) -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::new(cfg)
}

/// Sends `x-moto-account-id: ACCOUNT` with every request: moto then serves that account's state.
/// Add it to any client: `aws_sdk_X::config::Builder::from(&cfg).interceptor(MotoAccount::new(..))`,
/// or use [`iam_client_in`], [`sts_client_in`], [`lambda_client_in`].
#[derive(Clone, Debug)]
pub struct MotoAccount(String);

impl MotoAccount {
    pub fn new(account: &str) -> MotoAccount {
        MotoAccount(account.to_string())
    }
}

impl Intercept for MotoAccount {
    fn name(&self) -> &'static str {
        "MotoAccount"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        context.request_mut().headers_mut().insert("x-moto-account-id", self.0.clone());
        Ok(())
    }
}

pub fn iam_client_in(cfg: &SdkConfig, account: &str) -> aws_sdk_iam::Client {
    let conf = aws_sdk_iam::config::Builder::from(cfg).interceptor(MotoAccount::new(account)).build();
    aws_sdk_iam::Client::from_conf(conf)
}

pub fn sts_client_in(cfg: &SdkConfig, account: &str) -> aws_sdk_sts::Client {
    let conf = aws_sdk_sts::config::Builder::from(cfg).interceptor(MotoAccount::new(account)).build();
    aws_sdk_sts::Client::from_conf(conf)
}

pub fn lambda_client_in(cfg: &SdkConfig, account: &str) -> aws_sdk_lambda::Client {
    let conf = aws_sdk_lambda::config::Builder::from(cfg).interceptor(MotoAccount::new(account)).build();
    aws_sdk_lambda::Client::from_conf(conf)
}

/// Panics with the SDK error in full: test set-up that cannot go on.
pub fn fail<E: std::error::Error>(what: &str, err: E) -> ! {
    panic!("{what}: {}", DisplayErrorContext(err))
}

/// A policy document as IAM's GetRole/Get*Policy/GetAccountAuthorizationDetails return it (URL-encoded)
/// or as JSON: the JSON text.
pub fn decode_policy_document(doc: &str) -> String {
    if doc.trim_start().starts_with('{') {
        return doc.to_string();
    }
    percent_encoding::percent_decode_str(doc)
        .decode_utf8()
        .unwrap_or_else(|e| panic!("policy document is not UTF-8 after URL decoding: {e}: {doc}"))
        .into_owned()
}

/// Creates a customer managed policy; returns its ARN.
pub async fn create_policy(iam: &aws_sdk_iam::Client, name: &str, document: &str) -> String {
    let out = iam
        .create_policy()
        .policy_name(name)
        .policy_document(document)
        .send()
        .await
        .unwrap_or_else(|e| fail(&format!("CreatePolicy {name}"), e));
    out.policy().and_then(|p| p.arn()).expect("CreatePolicy returns the ARN").to_string()
}

/// Creates a role with a trust policy, inline policies `(name, document)` and attached managed policy
/// ARNs; returns the role ARN.
pub async fn create_role(
    iam: &aws_sdk_iam::Client,
    name: &str,
    trust_document: &str,
    inline: &[(&str, &str)],
    managed_arns: &[&str],
) -> String {
    let out = iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust_document)
        .send()
        .await
        .unwrap_or_else(|e| fail(&format!("CreateRole {name}"), e));
    for (policy, doc) in inline {
        iam.put_role_policy()
            .role_name(name)
            .policy_name(*policy)
            .policy_document(*doc)
            .send()
            .await
            .unwrap_or_else(|e| fail(&format!("PutRolePolicy {name}/{policy}"), e));
    }
    for arn in managed_arns {
        iam.attach_role_policy()
            .role_name(name)
            .policy_arn(*arn)
            .send()
            .await
            .unwrap_or_else(|e| fail(&format!("AttachRolePolicy {name} {arn}"), e));
    }
    out.role().expect("CreateRole returns the role").arn().to_string()
}

/// Creates a user with inline policies `(name, document)` and attached managed policy ARNs; returns
/// the user ARN.
pub async fn create_user(
    iam: &aws_sdk_iam::Client,
    name: &str,
    inline: &[(&str, &str)],
    managed_arns: &[&str],
) -> String {
    let out = iam
        .create_user()
        .user_name(name)
        .send()
        .await
        .unwrap_or_else(|e| fail(&format!("CreateUser {name}"), e));
    for (policy, doc) in inline {
        iam.put_user_policy()
            .user_name(name)
            .policy_name(*policy)
            .policy_document(*doc)
            .send()
            .await
            .unwrap_or_else(|e| fail(&format!("PutUserPolicy {name}/{policy}"), e));
    }
    for arn in managed_arns {
        iam.attach_user_policy()
            .user_name(name)
            .policy_arn(*arn)
            .send()
            .await
            .unwrap_or_else(|e| fail(&format!("AttachUserPolicy {name} {arn}"), e));
    }
    out.user().expect("CreateUser returns the user").arn().to_string()
}

/// Creates a group with inline policies, attached managed policy ARNs and member users; returns the
/// group ARN.
pub async fn create_group(
    iam: &aws_sdk_iam::Client,
    name: &str,
    inline: &[(&str, &str)],
    managed_arns: &[&str],
    members: &[&str],
) -> String {
    let out = iam
        .create_group()
        .group_name(name)
        .send()
        .await
        .unwrap_or_else(|e| fail(&format!("CreateGroup {name}"), e));
    for (policy, doc) in inline {
        iam.put_group_policy()
            .group_name(name)
            .policy_name(*policy)
            .policy_document(*doc)
            .send()
            .await
            .unwrap_or_else(|e| fail(&format!("PutGroupPolicy {name}/{policy}"), e));
    }
    for arn in managed_arns {
        iam.attach_group_policy()
            .group_name(name)
            .policy_arn(*arn)
            .send()
            .await
            .unwrap_or_else(|e| fail(&format!("AttachGroupPolicy {name} {arn}"), e));
    }
    for user in members {
        iam.add_user_to_group()
            .group_name(name)
            .user_name(*user)
            .send()
            .await
            .unwrap_or_else(|e| fail(&format!("AddUserToGroup {name} {user}"), e));
    }
    out.group().expect("CreateGroup returns the group").arn().to_string()
}

/// Issues an access key for a user (moto then knows who calls with it).
pub async fn create_access_key(iam: &aws_sdk_iam::Client, user: &str) -> TestKey {
    let out = iam
        .create_access_key()
        .user_name(user)
        .send()
        .await
        .unwrap_or_else(|e| fail(&format!("CreateAccessKey {user}"), e));
    let key = out.access_key().expect("CreateAccessKey returns the key");
    TestKey {
        access_key_id: key.access_key_id().to_string(),
        secret_access_key: key.secret_access_key().to_string(),
        session_token: None,
    }
}

/// Creates a Python Lambda function with the given execution role (which must exist in moto's IAM) and
/// environment; returns the function ARN. moto does not run it (no docker needed).
pub async fn create_function(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    role_arn: &str,
    env: &[(&str, &str)],
) -> String {
    use aws_sdk_lambda::primitives::Blob;
    use aws_sdk_lambda::types::{Environment, FunctionCode, Runtime};

    let zip = super::zip_single_file("index.py", b"def handler(event, context):\n    return event\n");
    let mut environment = Environment::builder();
    for (k, v) in env {
        environment = environment.variables(*k, *v);
    }
    let out = lambda
        .create_function()
        .function_name(name)
        .runtime(Runtime::Python312)
        .role(role_arn)
        .handler("index.handler")
        .code(FunctionCode::builder().zip_file(Blob::new(zip)).build())
        .environment(environment.build())
        .send()
        .await
        .unwrap_or_else(|e| fail(&format!("CreateFunction {name}"), e));
    out.function_arn().expect("CreateFunction returns the ARN").to_string()
}

/// Creates an SQS queue in the emulator and returns its ARN. The tests have no SQS SDK: the queue is
/// made with boto3, which the moto install brings along, from the Python next to `moto_server`.
pub fn create_sqs_queue(endpoint: &str, name: &str) -> String {
    let python = super::moto_server_path().with_file_name("python");
    let script = "import sys, boto3\n\
                  c = boto3.client('sqs', endpoint_url=sys.argv[1], region_name='us-east-1', \
                  aws_access_key_id='AKIAIOSFODNN7EXAMPLE', aws_secret_access_key='secret')\n\
                  url = c.create_queue(QueueName=sys.argv[2])['QueueUrl']\n\
                  print(c.get_queue_attributes(QueueUrl=url, AttributeNames=['QueueArn'])['Attributes']['QueueArn'])";
    let out = std::process::Command::new(&python)
        .args(["-c", script, endpoint, name])
        .env_clear()
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", python.display()));
    assert!(out.status.success(), "CreateQueue {name}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A policy document of the given statements (JSON text, comma-separated).
pub fn doc(statements: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#)
}

/// Seeds the emulator with the scene the exec and record tests share: user `dev`, who may
/// `sts:AssumeRole` anywhere, with a profile `dev` in `dir`; role `orders-role` with `role_policy`
/// (statements), trusted by `dev` (and by the Lambda service when `trust_lambda`); function
/// `orders` with `env`. Returns the role's ARN.
pub async fn seed_developer_and_function(
    endpoint: &str,
    dir: &std::path::Path,
    role_policy: &str,
    trust_lambda: bool,
    env: &[(&str, &str)],
) -> String {
    let cfg = sdk_config(endpoint, None);
    let iam = iam_client(&cfg);
    let assume = doc(r#"{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}"#);
    let user_arn = create_user(&iam, "dev", &[("assume", &assume)], &[]).await;
    let lambda =
        r#"{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"},"#;
    let trust = doc(&format!(
        r#"{}{{"Effect":"Allow","Principal":{{"AWS":"{user_arn}"}},"Action":"sts:AssumeRole"}}"#,
        if trust_lambda { lambda } else { "" }
    ));
    let role = create_role(&iam, "orders-role", &trust, &[("app", &doc(role_policy))], &[]).await;
    create_function(&lambda_client(&cfg), "orders", &role, env).await;
    let key = create_access_key(&iam, "dev").await;
    super::write_profile(dir, "dev", &key.access_key_id, &key.secret_access_key, "us-east-1");
    role
}
