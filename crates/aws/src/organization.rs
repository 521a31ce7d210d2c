//! The organization policies, read live with AWS Organizations: `DescribeOrganization` (the
//! management account), `ListRoots` (the policy types enabled), then for each account `ListParents`
//! up to the root, `ListPoliciesForTarget` per level for SCPs and RCPs (the levels concurrently), and
//! `DescribePolicy` (each policy once, concurrently).
//!
//! Only the management account or a delegated administrator can make these reads; with other
//! credentials (`--org-profile`) or without them, what could not be read becomes a note: the
//! answer then covers IAM only.

use std::collections::{BTreeSet, HashMap};

use aws_config::{Region, SdkConfig};
use aws_sdk_organizations::Client;
use serde_json::{json, Value};

use iamfit_core::account::organization::{
    self, AccountLevels, OrgLevel, OrgPolicy, Organization, PolicyType, TargetType,
};
use iamfit_core::account::Account;

use crate::error::{classify, Call};
use crate::live::{self, LiveError, LiveOptions};

/// How deep OUs may nest below the root (AWS allows five levels).
const MAX_DEPTH: usize = 8;

/// Where `--org-profile` (or the source's own credentials) read AWS Organizations.
async fn client(opts: &LiveOptions) -> Result<Client, LiveError> {
    let opts = match &opts.org_profile {
        Some(p) => LiveOptions { profile: Some(p.clone()), ..opts.clone() },
        None => opts.clone(),
    };
    let config: SdkConfig = live::sdk_config(&opts).await?;
    // Organizations is a global service: any region reaches it; us-east-1 when none is configured.
    let region = config.region().cloned().unwrap_or_else(|| Region::new("us-east-1"));
    Ok(Client::from_conf(aws_sdk_organizations::config::Builder::from(&config).region(region).build()))
}

fn call<'a>(name: &'static str, target: &'a str) -> Call<'a> {
    Call { call: name, permission: name, what: "organization target", target }
}

/// The reason a read failed, in a few words.
fn reason(e: &LiveError) -> String {
    match e {
        LiveError::AccessDenied { call, .. } => format!("{call}: access denied"),
        LiveError::Other { call, detail, .. } if detail.contains("AWSOrganizationsNotInUseException") => {
            format!("{call}: the credentials' account is not in an organization (AWSOrganizationsNotInUseException)")
        }
        LiveError::Other { call, detail, .. } => format!("{call}: {detail}"),
        other => other.to_string(),
    }
}

/// The note for what could not be read.
pub fn unreadable_note(why: &str) -> String {
    format!(
        "the answer covers IAM only: SCPs/RCPs could not be read ({why}); read them with --org-profile (credentials of the management account or a delegated administrator), or from a snapshot's organization/ folder"
    )
}

/// The 12-digit accounts of the principals and functions read.
pub fn account_ids(account: &Account) -> BTreeSet<String> {
    let of_arn = |arn: &str| arn.split(':').nth(4).unwrap_or_default().to_string();
    let mut ids: BTreeSet<String> = account.identities.iter().map(|(_, id)| id.account_or_arn()).collect();
    ids.extend(account.functions.iter().map(|f| of_arn(&f.arn)));
    ids.extend(account.roles.iter().map(|r| of_arn(&r.arn)));
    ids.extend(account.users.iter().map(|u| of_arn(&u.arn)));
    ids.retain(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()));
    ids
}

/// Reads the organization policies of `accounts`. Never fails: what could not be read is in the
/// organization's `notes`, and the accounts read are in `accounts`.
pub async fn read(opts: &LiveOptions, accounts: &BTreeSet<String>) -> Organization {
    let mut org = Organization::default();
    let client = match client(opts).await {
        Ok(c) => c,
        Err(e) => {
            org.notes.push(unreadable_note(&e.to_string()));
            return org;
        }
    };
    if let Err(e) = describe(&client, &mut org).await {
        org.notes.push(unreadable_note(&reason(&e)));
        return org;
    }
    let root = match root(&client).await {
        Ok(r) => r,
        Err(e) => {
            org.notes.push(unreadable_note(&reason(&e)));
            return org;
        }
    };
    let mut reader = Reader { client: &client, policies: HashMap::new() };
    for account in accounts {
        match reader.account(&root, account).await {
            Ok(levels) => org.accounts.push(levels),
            Err(_) if org.management_account.as_deref() == Some(account.as_str()) => {}
            Err(e) => org.notes.push(unreadable_note(&format!("account {account}: {}", reason(&e)))),
        }
    }
    org
}

/// `DescribeOrganization`: the management account, and the output as the AWS CLI prints it.
async fn describe(client: &Client, org: &mut Organization) -> Result<(), LiveError> {
    let out = client
        .describe_organization()
        .send()
        .await
        .map_err(|e| classify(&e, call("organizations:DescribeOrganization", "the organization")))?;
    let Some(o) = out.organization() else { return Ok(()) };
    org.management_account = o.master_account_id().map(str::to_string);
    org.describe = Some(json!({"Organization": {
        "Id": o.id(), "Arn": o.arn(), "FeatureSet": o.feature_set().map(|f| f.as_str()),
        "MasterAccountArn": o.master_account_arn(), "MasterAccountId": o.master_account_id(),
        "MasterAccountEmail": o.master_account_email(),
    }}));
    Ok(())
}

/// `ListRoots`: the root level, with the policy types enabled on it (and no policies yet).
async fn root(client: &Client) -> Result<OrgLevel, LiveError> {
    let out = client
        .list_roots()
        .send()
        .await
        .map_err(|e| classify(&e, call("organizations:ListRoots", "the organization")))?;
    let root = out.roots().first().ok_or_else(|| LiveError::Other {
        call: "organizations:ListRoots",
        target: "the organization".into(),
        detail: "no root".into(),
    })?;
    let types = root
        .policy_types()
        .iter()
        .filter(|t| t.status().is_some_and(|s| s.as_str() == "ENABLED"))
        .filter_map(|t| t.r#type().and_then(|t| PolicyType::from_api(t.as_str())))
        .collect();
    Ok(OrgLevel {
        id: root.id().unwrap_or_default().to_string(),
        name: root.name().unwrap_or("Root").to_string(),
        target: TargetType::Root,
        policy_types: Some(types),
        policies: Vec::new(),
    })
}

/// Reads levels, caching each policy's `DescribePolicy`.
struct Reader<'c> {
    client: &'c Client,
    policies: HashMap<String, Option<OrgPolicy>>,
}

/// One level's name and the ids of the policies attached to it.
type Attached = (usize, String, Vec<String>);

impl Reader<'_> {
    /// The levels of one account, root first: `ListParents` up to the root, then every level's
    /// `ListPoliciesForTarget` (and name) concurrently, then each new policy's `DescribePolicy`
    /// concurrently.
    async fn account(&mut self, root: &OrgLevel, account: &str) -> Result<AccountLevels, LiveError> {
        let mut chain = vec![(account.to_string(), TargetType::Account)];
        while chain.len() <= MAX_DEPTH {
            let child = chain.last().map(|(id, _)| id.clone()).unwrap_or_default();
            let (id, kind) = parent(self.client, &child).await?;
            if kind == TargetType::Root {
                break;
            }
            chain.push((id, kind));
        }
        let mut targets = vec![(root.id.clone(), TargetType::Root)];
        targets.extend(chain.into_iter().rev());
        let kinds = root.policy_types.clone().unwrap_or_default();
        let mut tasks = tokio::task::JoinSet::new();
        for (i, (id, target)) in targets.iter().cloned().enumerate() {
            let (client, kinds) = (self.client.clone(), kinds.clone());
            tasks.spawn(async move {
                let ids = attached_ids(&client, &id, &kinds).await?;
                Ok::<Attached, LiveError>((i, name(&client, &id, target).await, ids))
            });
        }
        let mut found: Vec<Attached> = Vec::new();
        while let Some(done) = tasks.join_next().await {
            found.push(done.map_err(|e| LiveError::Other {
                call: "organizations:ListPoliciesForTarget",
                target: account.to_string(),
                detail: e.to_string(),
            })??);
        }
        found.sort_by_key(|(i, _, _)| *i);
        self.describe_all(found.iter().flat_map(|(_, _, ids)| ids.iter().cloned()).collect()).await?;
        let levels = found
            .into_iter()
            .zip(targets)
            .map(|((_, name, ids), (id, target))| OrgLevel {
                name: if target == TargetType::Root { root.name.clone() } else { name },
                policy_types: if target == TargetType::Root { root.policy_types.clone() } else { None },
                policies: ids.iter().filter_map(|p| self.policies.get(p).cloned().flatten()).collect(),
                id,
                target,
            })
            .collect();
        Ok(AccountLevels { account: account.to_string(), levels })
    }

    /// `DescribePolicy` of every policy not read yet, concurrently, into the cache.
    async fn describe_all(&mut self, ids: BTreeSet<String>) -> Result<(), LiveError> {
        let mut tasks = tokio::task::JoinSet::new();
        for id in ids.into_iter().filter(|id| !self.policies.contains_key(id)) {
            let client = self.client.clone();
            tasks.spawn(async move { describe_policy(&client, &id).await.map(|p| (id, p)) });
        }
        while let Some(done) = tasks.join_next().await {
            let (id, policy) = done.map_err(|e| LiveError::Other {
                call: "organizations:DescribePolicy",
                target: "policies".into(),
                detail: e.to_string(),
            })??;
            self.policies.insert(id, policy);
        }
        Ok(())
    }
}

/// `ListParents`: the parent of an account or OU.
async fn parent(client: &Client, child: &str) -> Result<(String, TargetType), LiveError> {
    let out = client
        .list_parents()
        .child_id(child)
        .send()
        .await
        .map_err(|e| classify(&e, call("organizations:ListParents", child)))?;
    let parent = out.parents().first().ok_or_else(|| LiveError::Other {
        call: "organizations:ListParents",
        target: child.to_string(),
        detail: "no parent".into(),
    })?;
    let kind = parent
        .r#type()
        .and_then(|t| TargetType::from_api(t.as_str()))
        .unwrap_or(TargetType::OrganizationalUnit);
    Ok((parent.id().unwrap_or_default().to_string(), kind))
}

/// The name of an OU or account (empty when it cannot be read).
async fn name(client: &Client, id: &str, target: TargetType) -> String {
    let name = match target {
        TargetType::OrganizationalUnit => client
            .describe_organizational_unit()
            .organizational_unit_id(id)
            .send()
            .await
            .ok()
            .and_then(|o| o.organizational_unit().and_then(|u| u.name()).map(str::to_string)),
        TargetType::Account => client
            .describe_account()
            .account_id(id)
            .send()
            .await
            .ok()
            .and_then(|o| o.account().and_then(|a| a.name()).map(str::to_string)),
        TargetType::Root => None,
    };
    name.unwrap_or_default()
}

/// `ListPoliciesForTarget` for each enabled type (every page): the ids of the policies attached.
async fn attached_ids(client: &Client, target: &str, kinds: &[PolicyType]) -> Result<Vec<String>, LiveError> {
    let mut out = Vec::new();
    for kind in kinds {
        let filter = aws_sdk_organizations::types::PolicyType::from(kind.api_name());
        let mut token: Option<String> = None;
        loop {
            let page = client
                .list_policies_for_target()
                .target_id(target)
                .filter(filter.clone())
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| classify(&e, call("organizations:ListPoliciesForTarget", target)))?;
            out.extend(page.policies().iter().filter_map(|p| p.id().map(str::to_string)));
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
    }
    Ok(out)
}

/// `DescribePolicy`, as the AWS CLI prints it, read by the snapshot reader (`None` for policy types
/// that do not decide requests).
async fn describe_policy(client: &Client, id: &str) -> Result<Option<OrgPolicy>, LiveError> {
    let out = client
        .describe_policy()
        .policy_id(id)
        .send()
        .await
        .map_err(|e| classify(&e, call("organizations:DescribePolicy", id)))?;
    let value = out.policy().map(policy_json).unwrap_or(Value::Null);
    organization::read_policy(&value, std::path::Path::new("DescribePolicy"), id)
        .map_err(|e| LiveError::Document(e.to_string()))
}

/// A policy as `aws organizations describe-policy` prints it.
fn policy_json(p: &aws_sdk_organizations::types::Policy) -> Value {
    let s = p.policy_summary();
    json!({"Policy": {
        "PolicySummary": {
            "Id": s.and_then(|s| s.id()), "Arn": s.and_then(|s| s.arn()), "Name": s.and_then(|s| s.name()),
            "Description": s.and_then(|s| s.description()), "Type": s.and_then(|s| s.r#type()).map(|t| t.as_str()),
            "AwsManaged": s.is_some_and(|s| s.aws_managed()),
        },
        "Content": p.content(),
    }})
}

/// Reads the organization policies of the accounts of `account` into it.
pub async fn attach(opts: &LiveOptions, account: &mut Account) {
    let ids = account_ids(account);
    account.organization = Some(read(opts, &ids).await);
}

/// The note saying which accounts' SCPs and RCPs were read, when some were.
pub fn read_note(opts: &LiveOptions, account: &Account) -> Option<String> {
    let org = account.organization.as_ref()?;
    if org.accounts.is_empty() {
        return None;
    }
    let ids: Vec<&str> = org.accounts.iter().map(|a| a.account.as_str()).collect();
    let with = opts.org_profile.as_ref().map(|p| format!(" with --org-profile {p}")).unwrap_or_default();
    Some(format!("live: the SCPs and RCPs of account {} read from AWS Organizations{with}", ids.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_short_and_name_the_call() {
        let denied = LiveError::AccessDenied {
            call: "organizations:ListParents",
            target: "222233334444".into(),
            permission: "organizations:ListParents",
            detail: "You don't have permissions to access this resource.".into(),
        };
        assert_eq!(reason(&denied), "organizations:ListParents: access denied");
        let standalone = LiveError::Other {
            call: "organizations:DescribeOrganization",
            target: "the organization".into(),
            detail: "AWSOrganizationsNotInUseException: Your account is not a member of an organization."
                .into(),
        };
        assert!(reason(&standalone).contains("not in an organization (AWSOrganizationsNotInUseException)"));
        assert!(
            unreadable_note("x").starts_with("the answer covers IAM only: SCPs/RCPs could not be read (x)")
        );
    }

    #[test]
    fn the_accounts_in_play_come_from_principals_and_functions() {
        let mut account = Account::default();
        account.identities.push((
            "dev".into(),
            iamfit_core::account::CallerIdentity { account: "111122223333".into(), ..Default::default() },
        ));
        account.functions.push(iamfit_core::account::Function {
            arn: "arn:aws:lambda:us-east-1:444455556666:function:orders".into(),
            ..Default::default()
        });
        account
            .roles
            .push(iamfit_core::account::Role { arn: "arn:aws:iam::aws:role/x".into(), ..Default::default() });
        let ids: Vec<String> = account_ids(&account).into_iter().collect();
        assert_eq!(ids, ["111122223333", "444455556666"]);
    }
}
