//! Organization policies against moto's AWS Organizations: an SCP on the production OU denies an
//! action the role's policies allow, and `diff` says so by naming the SCP and its level, live and
//! from a snapshot written with `snapshot --org`; the management account is exempt; credentials that
//! cannot read Organizations give a note that the answer covers IAM only.
//!
//! Expectations are written by hand from the AWS Organizations User Guide:
//! - https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
//!   (a Deny at any level, root, OU or account, denies the action for the account's principals);
//! - https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html
//!   (SCPs do not affect users or roles in the management account).

use crate::support;

use std::path::Path;

use serde_json::Value;
use support::*;

/// moto's default account: the one that creates the organization is its management account.
const MANAGEMENT: &str = "123456789012";

const DENY_DELETES: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoDeletes","Effect":"Deny","Action":"dynamodb:DeleteItem","Resource":"*"}]}"#;

fn allow_orders(account: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Orders","Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:us-east-1:{account}:table/orders"}}]}}"#
    )
}

fn org_client(cfg: &aws_config::SdkConfig) -> aws_sdk_organizations::Client {
    aws_sdk_organizations::Client::new(cfg)
}

/// The organization: a root with SCPs and RCPs enabled, OUs Prod and Dev, an account in each.
struct Org {
    root: String,
    prod_ou: String,
    dev_ou: String,
    prod: String,
    dev: String,
}

async fn create_org(cfg: &aws_config::SdkConfig) -> Org {
    use aws_sdk_organizations::types::{OrganizationFeatureSet, PolicyType};
    let org = org_client(cfg);
    org.create_organization().feature_set(OrganizationFeatureSet::All).send().await.unwrap();
    let roots = org.list_roots().send().await.unwrap();
    let root = roots.roots()[0].id().unwrap().to_string();
    for t in [PolicyType::ServiceControlPolicy, PolicyType::ResourceControlPolicy] {
        org.enable_policy_type().root_id(&root).policy_type(t).send().await.unwrap();
    }
    let mut ous = Vec::new();
    for name in ["Prod", "Dev"] {
        let ou = org.create_organizational_unit().parent_id(&root).name(name).send().await.unwrap();
        let ou = ou.organizational_unit().unwrap().id().unwrap().to_string();
        let acct = org
            .create_account()
            .account_name(name.to_lowercase())
            .email(format!("{}@example.com", name.to_lowercase()))
            .send()
            .await
            .unwrap();
        let acct = acct.create_account_status().unwrap().account_id().unwrap().to_string();
        org.move_account()
            .account_id(&acct)
            .source_parent_id(&root)
            .destination_parent_id(&ou)
            .send()
            .await
            .unwrap();
        ous.push((ou, acct));
    }
    let (dev_ou, dev) = ous.pop().unwrap();
    let (prod_ou, prod) = ous.pop().unwrap();
    Org { root, prod_ou, dev_ou, prod, dev }
}

/// Attaches the SCP DenyDeletes to a target.
async fn attach_deny_deletes(cfg: &aws_config::SdkConfig, target: &str) {
    let org = org_client(cfg);
    let p = org
        .create_policy()
        .name("DenyDeletes")
        .description("no deletes in production")
        .r#type(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
        .content(DENY_DELETES)
        .send()
        .await
        .unwrap();
    let id = p.policy().unwrap().policy_summary().unwrap().id().unwrap().to_string();
    org.attach_policy().policy_id(id).target_id(target).send().await.unwrap();
}

/// Role `orders-role` of function `orders`, allowed every DynamoDB action on its `orders` table,
/// and user `deployer` (no policies), in `account`; returns the deployer's key.
async fn seed_function(cfg: &aws_config::SdkConfig, account: &str) -> TestKey {
    let iam = iam_client_in(cfg, account);
    let role = create_role(&iam, "orders-role", LAMBDA_TRUST, &[("data", &allow_orders(account))], &[]).await;
    create_function(&lambda_client_in(cfg, account), "orders", &role, &[]).await;
    create_user(&iam, "deployer", &[], &[]).await;
    create_access_key(&iam, "deployer").await
}

/// User `dev` with the same grant on its account's `orders` table; returns its key.
async fn seed_developer(cfg: &aws_config::SdkConfig, account: &str) -> TestKey {
    let iam = iam_client_in(cfg, account);
    create_user(&iam, "dev", &[("data", &allow_orders(account))], &[]).await;
    create_access_key(&iam, "dev").await
}

/// A user of the management account that reads Organizations (`--org-profile`).
async fn seed_org_reader(cfg: &aws_config::SdkConfig) -> TestKey {
    let iam = iam_client_in(cfg, MANAGEMENT);
    create_user(&iam, "org-reader", &[], &[]).await;
    create_access_key(&iam, "org-reader").await
}

fn profile(dir: &Path, name: &str, key: &TestKey) {
    write_profile(dir, name, &key.access_key_id, &key.secret_access_key, REGION);
}

fn run(dir: &Path, endpoint: &str, args: &[&str]) -> (Value, String) {
    let out = run_iamfit(dir, endpoint, args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "iamfit {args:?} failed: {stderr}");
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (json, stderr)
}

/// The mismatches of one action: (witness, direction, local, prod, the denying side's first deciding
/// policy and its layer).
fn mismatch_of(json: &Value, action: &str) -> Vec<(String, String, String, String, String, String)> {
    json["mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["action"] == action)
        .map(|m| {
            let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
            let side = if m["prod"] == "allow" { "local" } else { "prod" };
            let by = &m["details"][side]["statements"][0];
            (
                s(&m["resource"]),
                s(&m["direction"]),
                s(&m["local"]),
                s(&m["prod"]),
                s(&by["policy"]),
                s(&by["layer"]),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_scp_on_the_prod_ou_denies_the_role_live_and_from_the_snapshot() {
    let moto = Moto::start();
    let endpoint = moto.endpoint();
    let cfg = sdk_config(&endpoint, None);
    let org = create_org(&cfg).await;
    attach_deny_deletes(&cfg, &org.prod_ou).await;
    let dir = tempfile::tempdir().unwrap();
    profile(dir.path(), "prod", &seed_function(&cfg, &org.prod).await);
    profile(dir.path(), "dev", &seed_developer(&cfg, &org.dev).await);
    profile(dir.path(), "mgmt", &seed_org_reader(&cfg).await);

    let diff = ["diff", "--function", "orders", "--profile", "dev", "--function-profile", "prod"];
    let started = std::time::Instant::now();
    let (live, stderr) =
        run(dir.path(), &endpoint, &[&diff[..], &["--org-profile", "mgmt", "-o", "json"]].concat());
    let with_org = started.elapsed();
    let level = format!("SCP DenyDeletes at OU Prod ({})", org.prod_ou);
    // One witness per side's own table (the two are the same resource across the accounts).
    let expected = |account: &str| {
        (
            format!("arn:aws:dynamodb:us-east-1:{account}:table/orders"),
            "local-only".to_string(),
            "allow".to_string(),
            "explicit-deny".to_string(),
            level.clone(),
            "scp[1]".to_string(),
        )
    };
    let mut want = vec![expected(&org.prod), expected(&org.dev)];
    want.sort();
    let mut got = mismatch_of(&live, "dynamodb:DeleteItem");
    got.sort();
    assert_eq!(got, want, "{stderr}");
    assert!(stderr.contains(&format!("SCPs and RCPs of account {}", org.dev)), "{stderr}");
    assert!(!stderr.contains("covers IAM only"), "{stderr}");
    // Every other DynamoDB action is allowed on both sides: the SCP is the only difference.
    assert_eq!(live["mismatches"].as_array().unwrap().len(), 2, "{live}");

    // The table names the SCP and its level.
    let out = run_iamfit(dir.path(), &endpoint, &[&diff[..], &["--org-profile", "mgmt", "--all"]].concat());
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains(&format!("explicit-deny by {level}:NoDeletes")), "{table}");

    // Without credentials that can read Organizations: IAM only, and said so.
    let started = std::time::Instant::now();
    let (iam_only, stderr) = run(dir.path(), &endpoint, &[&diff[..], &["-o", "json"]].concat());
    eprintln!("measure: live diff with --org-profile {with_org:?}, without {:?}", started.elapsed());
    assert!(mismatch_of(&iam_only, "dynamodb:DeleteItem").is_empty());
    assert!(stderr.contains("the answer covers IAM only: SCPs/RCPs could not be read ("), "{stderr}");

    // snapshot --org, then the same answers offline (one account: the function and the deployer).
    let snap = dir.path().join("snap");
    let snap_s = snap.to_str().unwrap();
    let out = run_iamfit(
        dir.path(),
        &endpoint,
        &[
            "snapshot",
            "--out",
            snap_s,
            "--function",
            "orders",
            "--profile",
            "prod",
            "--org-profile",
            "mgmt",
            "--org",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(snap.join("organization/organization.json").is_file());
    let written: Value = serde_json::from_slice(
        &std::fs::read(snap.join(format!("organization/accounts/{}.json", org.prod))).unwrap(),
    )
    .unwrap();
    let ids: Vec<&str> =
        written["Levels"].as_array().unwrap().iter().map(|l| l["Id"].as_str().unwrap()).collect();
    assert_eq!(ids, [org.root.as_str(), org.prod_ou.as_str(), org.prod.as_str()]);

    for args in [
        vec!["graph", "--effective", "--function", "orders", "--profile", "prod", "-o", "json"],
        vec!["diff", "--function", "orders", "--profile", "prod", "-o", "json"],
    ] {
        let (live, _) = run(dir.path(), &endpoint, &[&args[..], &["--org-profile", "mgmt"]].concat());
        let (offline, _) = run(dir.path(), &endpoint, &[&args[..], &["--snapshot", snap_s]].concat());
        if args[0] == "graph" {
            let delete =
                live["actions"].as_array().unwrap().iter().find(|a| a["action"] == "dynamodb:DeleteItem");
            assert_eq!(delete.unwrap()["denied"][0], "*", "{live}");
            assert_eq!(live["organization"][1]["level"], format!("OU Prod ({})", org.prod_ou));
            assert_eq!(live, offline, "live and snapshot effective permissions agree");
        } else {
            // The deployer has no policies: the role's DynamoDB grants are prod-only, except
            // DeleteItem, which the SCP denies to the role as well.
            assert!(mismatch_of(&live, "dynamodb:GetItem").len() == 1, "{live}");
            assert!(mismatch_of(&live, "dynamodb:DeleteItem").is_empty(), "{live}");
            assert_eq!(live["mismatches"], offline["mismatches"], "live and snapshot diffs agree");
        }
    }

    // graph (DOT) draws the levels above the role.
    let out = run_iamfit(dir.path(), &endpoint, &["graph", "--function", "orders", "--snapshot", snap_s]);
    let dot = String::from_utf8_lossy(&out.stdout);
    assert!(
        dot.contains(&format!("organization OU Prod ({})", org.prod_ou)) && dot.contains(&level),
        "{dot}"
    );
    let _ = &org.dev_ou;
}

#[tokio::test]
async fn the_management_account_is_exempt_and_the_local_side_gets_its_own_account_scps() {
    let moto = Moto::start();
    let endpoint = moto.endpoint();
    let cfg = sdk_config(&endpoint, None);
    let org = create_org(&cfg).await;
    // On the root: every member account is denied, the management account is not.
    attach_deny_deletes(&cfg, &org.root).await;
    let dir = tempfile::tempdir().unwrap();
    profile(dir.path(), "mgmt", &seed_function(&cfg, MANAGEMENT).await);
    profile(dir.path(), "dev", &seed_developer(&cfg, &org.dev).await);

    let (json, stderr) = run(
        dir.path(),
        &endpoint,
        &[
            "diff",
            "--function",
            "orders",
            "--profile",
            "dev",
            "--function-profile",
            "mgmt",
            "--org-profile",
            "mgmt",
            "-o",
            "json",
        ],
    );
    let level = format!("SCP DenyDeletes at root Root ({})", org.root);
    let expected = |account: &str| {
        (
            format!("arn:aws:dynamodb:us-east-1:{account}:table/orders"),
            "prod-only".to_string(),
            "explicit-deny".to_string(),
            "allow".to_string(),
            level.clone(),
            "scp[0]".to_string(),
        )
    };
    let mut want = vec![expected(MANAGEMENT), expected(&org.dev)];
    want.sort();
    let mut got = mismatch_of(&json, "dynamodb:DeleteItem");
    got.sort();
    assert_eq!(got, want, "{stderr}");
    assert!(
        stderr.contains(&format!("account {MANAGEMENT} is the organization's management account")),
        "{stderr}"
    );
}

#[tokio::test]
async fn an_account_outside_any_organization_says_the_answer_covers_iam_only() {
    let moto = Moto::start();
    let endpoint = moto.endpoint();
    let cfg = sdk_config(&endpoint, None);
    let dir = tempfile::tempdir().unwrap();
    profile(dir.path(), "prod", &seed_function(&cfg, MANAGEMENT).await);
    let (_, stderr) =
        run(dir.path(), &endpoint, &["diff", "--function", "orders", "--profile", "prod", "-o", "json"]);
    assert!(
        stderr.contains("the answer covers IAM only: SCPs/RCPs could not be read (organizations:DescribeOrganization: the credentials' account is not in an organization (AWSOrganizationsNotInUseException))"),
        "{stderr}"
    );
    // snapshot --org refuses plainly.
    let snap = dir.path().join("snap");
    let out = run_iamfit(
        dir.path(),
        &endpoint,
        &["snapshot", "--out", snap.to_str().unwrap(), "--profile", "prod", "--org"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot write organization/") && stderr.contains("--org-profile"), "{stderr}");
}

/// Copies the demo snapshot (without its CloudTrail) into a temp folder.
fn demo_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("policy-fixtures/demo");
    for sub in ["", "functions", "identities"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        for entry in std::fs::read_dir(demo.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                std::fs::copy(&path, dir.path().join(sub).join(path.file_name().unwrap())).unwrap();
            }
        }
    }
    std::fs::create_dir_all(dir.path().join("organization/accounts")).unwrap();
    dir
}

#[test]
fn a_hand_written_organization_folder_is_read_and_a_malformed_one_is_a_clear_error() {
    let dir = demo_copy();
    let snap = dir.path().to_str().unwrap();
    let account = dir.path().join("organization/accounts/111122223333.json");
    std::fs::write(
        &account,
        r#"{"AccountId": "111122223333", "Levels": [
            {"Id": "r-ab12", "Name": "Root", "Type": "ROOT", "PolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}],
             "Policies": [{"Policy": {"PolicySummary": {"Id": "p-FullAWSAccess", "Name": "FullAWSAccess", "Type": "SERVICE_CONTROL_POLICY", "AwsManaged": true},
                           "Content": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"}}]},
            {"Id": "111122223333", "Name": "demo", "Type": "ACCOUNT",
             "Policies": [{"Policy": {"PolicySummary": {"Id": "p-FullAWSAccess", "Name": "FullAWSAccess", "Type": "SERVICE_CONTROL_POLICY", "AwsManaged": true},
                           "Content": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"}},
                          {"Policy": {"PolicySummary": {"Id": "p-nodel001", "Name": "DenyDeletes", "Type": "SERVICE_CONTROL_POLICY", "AwsManaged": false},
                           "Content": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"NoDeletes\",\"Effect\":\"Deny\",\"Action\":\"dynamodb:DeleteItem\",\"Resource\":\"*\"}]}"}}]}]}"#,
    )
    .unwrap();
    let (code, out, err) =
        iamfit(&["graph", "--effective", "--function", "orders", "--snapshot", snap, "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["organization"][1]["scp"][1], "SCP DenyDeletes at account demo (111122223333)");
    let delete = json["actions"].as_array().unwrap().iter().find(|a| a["action"] == "dynamodb:DeleteItem");
    assert_eq!(delete.unwrap()["denied"][0], "*", "{json}");
    // No organization.json: the management account is unknown, and no note claims otherwise.
    assert!(!err.contains("management account"), "{err}");

    std::fs::write(&account, r#"{"AccountId": "111122223333", "Levels": [{"Id": "r-ab12", "Type": "ROOT", "Policies": [{"Policy": {}}]}]}"#)
        .unwrap();
    let (code, _, err) = iamfit(&["diff", "--function", "orders", "--profile", "dev", "--snapshot", snap]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("111122223333.json") && err.contains("Levels[0].Policies[0]"), "{err}");
}
