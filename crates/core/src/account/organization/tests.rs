//! The `organization/` folder reader, with expectations from the AWS Organizations User Guide.

use super::*;

const DENY_DELETES: &str = r#"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"NoDeletes\",\"Effect\":\"Deny\",\"Action\":\"dynamodb:DeleteItem\",\"Resource\":\"*\"}]}"#;
const FULL: &str = r#"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"#;

fn describe_policy(id: &str, name: &str, kind: &str, content: &str) -> String {
    format!(
        r#"{{"Policy": {{"PolicySummary": {{"Id": "{id}", "Arn": "arn:aws:organizations::111111111111:policy/o-abc/{id}", "Name": "{name}", "Type": "{kind}", "AwsManaged": false}}, "Content": "{content}"}}}}"#
    )
}

fn folder(account_file: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let org = dir.path().join("organization");
    std::fs::create_dir_all(org.join("accounts")).unwrap();
    std::fs::write(
        org.join("organization.json"),
        r#"{"Organization": {"Id": "o-abc", "Arn": "arn:aws:organizations::111111111111:organization/o-abc", "FeatureSet": "ALL", "MasterAccountArn": "arn:aws:organizations::111111111111:account/o-abc/111111111111", "MasterAccountId": "111111111111", "MasterAccountEmail": "admin@example.com"}}"#,
    )
    .unwrap();
    std::fs::write(org.join("accounts").join("222222222222.json"), account_file).unwrap();
    dir
}

fn prod_account() -> String {
    format!(
        r#"{{"AccountId": "222222222222", "Levels": [
            {{"Id": "r-ab12", "Name": "Root", "Type": "ROOT", "PolicyTypes": [{{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}}],
              "Policies": [{full}]}},
            {{"Id": "ou-ab12-prod0001", "Name": "Prod", "Type": "ORGANIZATIONAL_UNIT", "Policies": [{full}, {deny}]}},
            {{"Id": "222222222222", "Name": "prod", "Type": "ACCOUNT", "Policies": [{full}, {tag}]}}
        ]}}"#,
        full = describe_policy("p-FullAWSAccess", "FullAWSAccess", "SERVICE_CONTROL_POLICY", FULL),
        deny = describe_policy("p-deny0001", "DenyDeletes", "SERVICE_CONTROL_POLICY", DENY_DELETES),
        tag = describe_policy("p-tag00001", "Tags", "TAG_POLICY", "{}"),
    )
}

#[test]
fn levels_are_read_root_first_with_their_policies_named_by_level() {
    let dir = folder(&prod_account());
    let org = read(dir.path()).unwrap().unwrap();
    assert_eq!(org.management_account.as_deref(), Some("111111111111"));
    let levels = org.account("222222222222").unwrap();
    let labels: Vec<String> = levels.levels.iter().map(OrgLevel::label).collect();
    assert_eq!(labels, ["root Root (r-ab12)", "OU Prod (ou-ab12-prod0001)", "account prod (222222222222)"]);
    // Tag policies do not decide requests: only SCPs and RCPs are kept.
    assert_eq!(levels.levels[2].policies.len(), 1);
    let scp = levels.named(PolicyType::Scp);
    assert_eq!(scp.len(), 3, "one SCP level per level, root first");
    assert_eq!(&*scp[1][1].name, "SCP DenyDeletes at OU Prod (ou-ab12-prod0001)");
    // RCPs are not enabled on the root (PolicyTypes lists SCPs only): no RCP layer.
    assert!(levels.named(PolicyType::Rcp).is_empty());
}

#[test]
fn the_folder_is_written_back_as_it_was_read() {
    let dir = folder(&prod_account());
    let org = read(dir.path()).unwrap().unwrap();
    let out = tempfile::tempdir().unwrap();
    write(out.path(), &org).unwrap();
    assert_eq!(read(out.path()).unwrap().unwrap().accounts, org.accounts);
}

#[test]
fn no_folder_means_no_organization_known() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(read(dir.path()).unwrap(), None);
}

#[test]
fn malformed_files_name_the_file_and_the_place() {
    let dir = folder(
        r#"{"AccountId": "222222222222", "Levels": [{"Id": "r-ab12", "Type": "ROOT", "Policies": [{"Policy": {"PolicySummary": {"Id": "p-1", "Type": "SERVICE_CONTROL_POLICY"}}}]}]}"#,
    );
    let err = read(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("222222222222.json")
            && err.contains("Levels[0].Policies[0].Policy: missing \"Content\""),
        "{err}"
    );

    let dir = folder("{not json");
    let err = read(dir.path()).unwrap_err().to_string();
    assert!(err.contains("222222222222.json:1:2"), "{err}");

    let dir = folder(r#"{"Levels": [{"Id": "ou-1", "Name": "Prod", "Type": "ORGANIZATIONAL_UNIT"}]}"#);
    let err = read(dir.path()).unwrap_err().to_string();
    assert!(err.contains("the first level must be the root"), "{err}");

    let dir = folder(r#"{"Levels": [{"Id": "r-1", "Type": "FOLDER"}]}"#);
    let err = read(dir.path()).unwrap_err().to_string();
    assert!(err.contains("Levels[0].Type") && err.contains("FOLDER"), "{err}");

    let dir = folder(&prod_account());
    std::fs::write(dir.path().join("organization").join("organization.json"), r#"{"Roots": []}"#).unwrap();
    let err = read(dir.path()).unwrap_err().to_string();
    assert!(err.contains("organization.json") && err.contains("describe-organization"), "{err}");
}

#[test]
fn without_policy_types_a_type_is_in_effect_when_some_level_has_one() {
    let account = prod_account()
        .replace(r#""PolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}],"#, "");
    let dir = folder(&account);
    let org = read(dir.path()).unwrap().unwrap();
    let levels = org.account("222222222222").unwrap();
    assert!(levels.enabled(PolicyType::Scp));
    assert!(!levels.enabled(PolicyType::Rcp));
}

/// An account with user `dev` in 333333333333 and role `fn` in 222222222222, both allowed every
/// DynamoDB action on their `orders` table, and the organization folder above.
fn two_accounts(dir: &Path) -> crate::account::Account {
    let full = describe_policy("p-FullAWSAccess", "FullAWSAccess", "SERVICE_CONTROL_POLICY", FULL);
    let dev = format!(
        r#"{{"AccountId": "333333333333", "Levels": [
            {{"Id": "r-ab12", "Name": "Root", "Type": "ROOT", "PolicyTypes": [{{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}}], "Policies": [{full}]}},
            {{"Id": "ou-ab12-dev00001", "Name": "Dev", "Type": "ORGANIZATIONAL_UNIT", "Policies": [{full}]}},
            {{"Id": "333333333333", "Name": "dev", "Type": "ACCOUNT", "Policies": [{full}]}}]}}"#
    );
    std::fs::write(dir.join("organization/accounts/333333333333.json"), dev).unwrap();
    let mut account = crate::account::Account { organization: read(dir).unwrap(), ..Default::default() };
    let allow = |acct: &str| {
        let doc = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Orders","Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:us-east-1:{acct}:table/orders"}}]}}"#
        );
        vec![crate::account::InlinePolicy {
            name: "data".into(),
            document: PolicyDocument::from_value(&Value::String(doc)).unwrap(),
        }]
    };
    account.roles.push(crate::account::Role {
        name: "fn".into(),
        arn: "arn:aws:iam::222222222222:role/fn".into(),
        inline: allow("222222222222"),
        ..Default::default()
    });
    account.users.push(crate::account::User {
        name: "dev".into(),
        arn: "arn:aws:iam::333333333333:user/dev".into(),
        inline: allow("333333333333"),
        ..Default::default()
    });
    account
}

fn delete_item(
    local: &crate::account::Subject,
    prod: &crate::account::Subject,
) -> Option<crate::analyze::diff::Mismatch> {
    let norm = crate::analyze::diff::Normalization {
        accounts: Some(("222222222222".into(), "333333333333".into())),
        names: vec![],
    };
    let c = crate::analyze::diff::diff(local, prod, iamfit_catalog::Catalog::embedded(), &norm);
    c.mismatches.into_iter().find(|m| m.action == "dynamodb:DeleteItem")
}

// An SCP on the production OU that denies an action the role allows: the role is denied, the
// developer of the dev OU is not. "If a statement denies an action at any level (root, OU or
// account), the action is denied for the account's principals":
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
#[test]
fn an_scp_on_the_prod_ou_decides_the_diff_and_is_named_by_its_level() {
    let dir = folder(&prod_account());
    let account = two_accounts(dir.path());
    let prod = account.role_subject("arn:aws:iam::222222222222:role/fn", "orders").unwrap();
    let dev = crate::account::CallerIdentity {
        account: "333333333333".into(),
        arn: "arn:aws:iam::333333333333:user/dev".into(),
        user_id: String::new(),
    };
    let local = account.identity_subject(&dev).unwrap();
    assert_eq!(prod.policies.scp.len(), 3);
    assert_eq!(local.policies.scp.len(), 3);
    let m = delete_item(&local, &prod).expect("a DeleteItem mismatch");
    assert_eq!(m.local.decision.verdict, iamfit_policy::eval::Verdict::Allow);
    assert_eq!(m.prod.decision.verdict, iamfit_policy::eval::Verdict::ExplicitDeny);
    let by = &m.prod.decision.matched[0];
    assert_eq!(by.policy_name(), "SCP DenyDeletes at OU Prod (ou-ab12-prod0001)");
    assert_eq!(by.layer.to_string(), "scp[1]");
    assert_eq!(by.label(), "NoDeletes");
    // The graph draws the levels above the role.
    let dot = prod.graph.to_dot();
    assert!(dot.contains("organization OU Prod (ou-ab12-prod0001)") && dot.contains("(SCP)"), "{dot}");
}

// "SCPs don't affect users or roles in the management account":
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html
#[test]
fn the_management_account_is_exempt() {
    let dir = folder(&prod_account());
    std::fs::write(
        dir.path().join("organization/organization.json"),
        r#"{"Organization": {"Id": "o-abc", "MasterAccountId": "222222222222"}}"#,
    )
    .unwrap();
    let account = two_accounts(dir.path());
    let prod = account.role_subject("arn:aws:iam::222222222222:role/fn", "orders").unwrap();
    assert!(prod.notes.iter().any(|n| n.contains("management account")), "{:?}", prod.notes);
    let dev = crate::account::CallerIdentity {
        account: "333333333333".into(),
        arn: "arn:aws:iam::333333333333:user/dev".into(),
        user_id: String::new(),
    };
    let local = account.identity_subject(&dev).unwrap();
    assert!(delete_item(&local, &prod).is_none(), "the SCP does not apply to the management account");
}

#[test]
fn an_account_missing_from_the_folder_is_said_to_be_unknown() {
    let dir = folder(&prod_account());
    let mut account = two_accounts(dir.path());
    account.roles[0].arn = "arn:aws:iam::444444444444:role/fn".into();
    let other = account.role_subject("arn:aws:iam::444444444444:role/fn", "orders").unwrap();
    assert!(other.policies.scp.is_empty());
    assert!(
        other.notes.iter().any(|n| n.contains("covers IAM only") && n.contains("444444444444")),
        "{:?}",
        other.notes
    );
}

// RCPs limit the resources of the account they are attached for: a Deny in an RCP of the role's
// account denies requests on that account's resources, and is not applied to another account's
// resources (whose RCPs are not known here).
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html
#[test]
fn rcps_apply_to_the_accounts_own_resources_only() {
    let rcp = r#"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"NoForeignReads\",\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}]}"#;
    let account = format!(
        r#"{{"AccountId": "222222222222", "Levels": [
            {{"Id": "r-ab12", "Name": "Root", "Type": "ROOT", "PolicyTypes": [{{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}}, {{"Type": "RESOURCE_CONTROL_POLICY", "Status": "ENABLED"}}],
              "Policies": [{full}, {rcpfull}]}},
            {{"Id": "222222222222", "Name": "prod", "Type": "ACCOUNT", "Policies": [{full}, {rcpfull}, {deny}]}}]}}"#,
        full = describe_policy("p-FullAWSAccess", "FullAWSAccess", "SERVICE_CONTROL_POLICY", FULL),
        rcpfull = describe_policy("p-RCPFullAWSAccess", "RCPFullAWSAccess", "RESOURCE_CONTROL_POLICY", FULL),
        deny = describe_policy("p-rcp00001", "NoReads", "RESOURCE_CONTROL_POLICY", rcp),
    );
    let dir = folder(&account);
    let mut acct = crate::account::Account { organization: read(dir.path()).unwrap(), ..Default::default() };
    let doc =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
    acct.roles.push(crate::account::Role {
        name: "fn".into(),
        arn: "arn:aws:iam::222222222222:role/fn".into(),
        inline: vec![crate::account::InlinePolicy {
            name: "read".into(),
            document: PolicyDocument::from_value(&Value::String(doc.into())).unwrap(),
        }],
        ..Default::default()
    });
    let subject = acct.role_subject("arn:aws:iam::222222222222:role/fn", "orders").unwrap();
    assert_eq!(subject.policies.rcp.len(), 2);
    let decide = |resource: &str, account: Option<&str>| {
        let set = subject.policies_for(resource);
        let context = iamfit_policy::context::RequestContext::new();
        let request = iamfit_policy::eval::Request {
            principal: Some(&subject.principal),
            action: "s3:GetObject",
            resource,
            context: &context,
            resource_account: account,
        };
        iamfit_policy::eval::authorize(&set, &request)
    };
    let own = decide("arn:aws:s3:::prod-bucket/key", Some("222222222222"));
    assert_eq!(own.verdict, iamfit_policy::eval::Verdict::ExplicitDeny);
    assert_eq!(own.matched[0].policy_name(), "RCP NoReads at account prod (222222222222)");
    // Another account's resource: its RCPs, not these, would apply.
    assert!(subject.policies_for("arn:aws:dynamodb:us-east-1:999999999999:table/t").rcp.is_empty());
    assert_eq!(subject.policies_for("arn:aws:dynamodb:us-east-1:222222222222:table/t").rcp.len(), 2);
}

// A call the SCP denies: the proposal names the SCP and its level, on the `scp` layer, and changes
// nothing (a change in AWS Organizations is the organization administrators' to make).
#[test]
fn a_proposal_for_a_call_an_scp_denies_names_the_scp_and_changes_nothing() {
    let dir = folder(&prod_account());
    let account = two_accounts(dir.path());
    let prod = account.role_subject("arn:aws:iam::222222222222:role/fn", "orders").unwrap();
    let ctx = iamfit_policy::context::RequestContext::new();
    let steps = crate::analyze::diff::proposals::least_change(
        &prod,
        crate::analyze::diff::proposals::Target {
            action: "dynamodb:DeleteItem",
            resource: "arn:aws:dynamodb:us-east-1:222222222222:table/orders",
            context: &ctx,
        },
    );
    assert_eq!(steps.len(), 1, "{steps:?}");
    assert_eq!(steps[0].layer, "scp");
    assert_eq!(steps[0].blocked_by, "explicit-deny");
    assert_eq!(steps[0].change, "outside");
    assert_eq!(steps[0].policy.as_deref(), Some("SCP DenyDeletes at OU Prod (ou-ab12-prod0001):NoDeletes"));
    assert!(!steps[0].verified);
}

// Every level must allow: an OU whose only SCP allows S3 denies every DynamoDB action implicitly,
// and the report names the level ("no SCP at OU Prod (...) allows it").
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
#[test]
fn a_level_without_an_allow_is_named_in_the_report() {
    let s3_only = r#"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}]}"#;
    let prod = prod_account().replacen(
        &describe_policy("p-FullAWSAccess", "FullAWSAccess", "SERVICE_CONTROL_POLICY", FULL),
        &describe_policy("p-s3only01", "S3Only", "SERVICE_CONTROL_POLICY", s3_only),
        2,
    );
    let dir = folder(&prod);
    let account = two_accounts(dir.path());
    let prod = account.role_subject("arn:aws:iam::222222222222:role/fn", "orders").unwrap();
    let dev = crate::account::CallerIdentity {
        account: "333333333333".into(),
        arn: "arn:aws:iam::333333333333:user/dev".into(),
        user_id: String::new(),
    };
    let local = account.identity_subject(&dev).unwrap();
    let norm = crate::analyze::diff::Normalization {
        accounts: Some(("222222222222".into(), "333333333333".into())),
        names: vec![],
    };
    let input = crate::analyze::diff::DiffInput {
        local: &local,
        prod: &prod,
        norm: &norm,
        usage: None,
        function: crate::analyze::diff::report::FunctionRef {
            name: "orders".into(),
            arn: None,
            role_arn: None,
        },
        profile: "dev".into(),
        role: None,
        needs: None,
        notes: Vec::new(),
        partial: false,
    };
    let report = crate::analyze::diff::diff_report(input, iamfit_catalog::Catalog::embedded());
    let get = report.mismatches.iter().find(|m| m.action == "dynamodb:GetItem").expect("GetItem differs");
    // The first level without an allow is the root's (S3Only replaced FullAWSAccess there too).
    assert_eq!(get.details.prod.reason.as_deref(), Some("no SCP at root Root (r-ab12) allows it"));
    assert_eq!(get.details.prod.why(), "implicit-deny: no SCP at root Root (r-ab12) allows it");
}
