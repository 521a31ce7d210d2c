//! `--template` with `--stack NAME` against moto: the deployed stack's physical ids stand for the
//! names CloudFormation generated, and the AWS managed policies the template attaches are read live.
//!
//! Expectations by hand: a role without `RoleName` gets a name CloudFormation generates, and `Ref`
//! of the role returns that name (CloudFormation User Guide, AWS::IAM::Role, "Return values":
//! https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-iam-role.html); the
//! physical id moto gave it is read from moto itself (boto3), not from iamfit.

use serde_json::Value;

use crate::support::{run_iamfit, write_profile, Moto};

const TEMPLATE: &str = r#"{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Resources": {
    "WorkerRole": {
      "Type": "AWS::IAM::Role",
      "Properties": {
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
          {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
        "ManagedPolicyArns": ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
        "Policies": [{"PolicyName": "jobs", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
          {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]}}]
      }
    }
  }
}"#;

/// Creates the stack in moto with boto3 (next to `moto_server`) and returns the role's physical id.
fn create_stack(endpoint: &str, stack: &str, template: &str) -> String {
    let python = crate::support::moto_server_path().with_file_name("python");
    let script = "import sys, boto3\n\
                  c = boto3.client('cloudformation', endpoint_url=sys.argv[1], region_name='us-east-1', \
                  aws_access_key_id='AKIAIOSFODNN7EXAMPLE', aws_secret_access_key='secret')\n\
                  c.create_stack(StackName=sys.argv[2], TemplateBody=sys.argv[3], Capabilities=['CAPABILITY_IAM'])\n\
                  r = c.describe_stack_resource(StackName=sys.argv[2], LogicalResourceId='WorkerRole')\n\
                  print(r['StackResourceDetail']['PhysicalResourceId'])";
    let out = std::process::Command::new(&python)
        .args(["-c", script, endpoint, stack, template])
        .env_clear()
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", python.display()));
    assert!(out.status.success(), "CreateStack: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn the_deployed_stack_names_the_roles_and_managed_policies_are_read_live() {
    let moto = Moto::start_with(&[("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")]);
    let endpoint = moto.endpoint();
    let physical = create_stack(&endpoint, "orders", TEMPLATE);
    assert!(physical.contains("WorkerRole"), "moto names it after the logical id: {physical}");
    assert_ne!(physical, "WorkerRole");

    let dir = tempfile::tempdir().unwrap();
    write_profile(dir.path(), "default", "AKIAIOSFODNN7EXAMPLE", "secret", "us-east-1");
    std::fs::write(dir.path().join("stack.json"), TEMPLATE).unwrap();
    let out_dir = dir.path().join("snap");
    let out = run_iamfit(
        dir.path(),
        &endpoint,
        &[
            "snapshot",
            "--template",
            "stack.json",
            "--stack",
            "orders",
            "--account",
            "123456789012",
            "--out",
            out_dir.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let account: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("account.json")).unwrap()).unwrap();
    let role = &account["RoleDetailList"][0];
    assert_eq!(role["RoleName"], physical.as_str(), "the stack's physical name, not the logical id");
    assert_eq!(role["Arn"], format!("arn:aws:iam::123456789012:role/{physical}"));
    assert!(!stderr.contains("logical ids stand for"), "no logical id stands for a name: {stderr}");
    assert!(stderr.contains("1 AWS managed policies read live"), "{stderr}");
    let managed: Vec<&str> =
        account["Policies"].as_array().unwrap().iter().filter_map(|p| p["Arn"].as_str()).collect();
    assert!(
        managed.contains(&"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"),
        "{managed:?}"
    );

    // A stack that does not exist is a clear error, not a silent fallback to logical ids.
    let out = run_iamfit(
        dir.path(),
        &endpoint,
        &["snapshot", "--template", "stack.json", "--stack", "nope", "--out", out_dir.to_str().unwrap()],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--stack nope: the deployed stack's physical names could not be read"),
        "{stderr}"
    );
}
