//! Organization policies: the service control policies (SCPs) and resource control policies (RCPs)
//! that apply to an account, level by level (the root, each OU, the account itself), with the
//! organization's management account, and their snapshot folder `organization/` (see
//! docs/reference.md, "Snapshot folder"):
//!
//! ```text
//! organization/organization.json         the exact output of `aws organizations describe-organization`
//! organization/accounts/ACCOUNT_ID.json  {"AccountId", "Levels": [{"Id", "Name", "Type", "PolicyTypes",
//!                                          "Policies": [`aws organizations describe-policy` outputs]}]}
//! ```
//!
//! AWS's rules (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html):
//! every level from the root to the account must allow an action for a principal of the account, and
//! SCPs do not apply to the management account; RCPs likewise for the account's resources
//! (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html).

use std::path::Path;

use serde_json::{json, Value};

use super::snapshot::{json_files, read_json, SnapshotError};
use super::PolicyDocument;
use iamfit_policy::eval::NamedPolicy;

/// The folder of the organization policies in a snapshot.
pub const FOLDER: &str = "organization";

/// The two kinds of organization policy that decide requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyType {
    /// A service control policy: limits the account's principals.
    Scp,
    /// A resource control policy: limits the account's resources.
    Rcp,
}

impl PolicyType {
    /// Both kinds.
    pub const ALL: [PolicyType; 2] = [PolicyType::Scp, PolicyType::Rcp];

    /// The Organizations API's name (`SERVICE_CONTROL_POLICY`, `RESOURCE_CONTROL_POLICY`).
    pub fn api_name(self) -> &'static str {
        match self {
            PolicyType::Scp => "SERVICE_CONTROL_POLICY",
            PolicyType::Rcp => "RESOURCE_CONTROL_POLICY",
        }
    }

    /// The short name (`SCP`, `RCP`).
    pub fn short(self) -> &'static str {
        match self {
            PolicyType::Scp => "SCP",
            PolicyType::Rcp => "RCP",
        }
    }

    /// The kind from the API's name.
    pub fn from_api(name: &str) -> Option<PolicyType> {
        PolicyType::ALL.into_iter().find(|t| t.api_name() == name)
    }
}

/// What a level of the organization is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetType {
    /// The organization's root.
    Root,
    /// An organizational unit.
    OrganizationalUnit,
    /// The account itself.
    Account,
}

impl TargetType {
    /// The API's name (`ROOT`, `ORGANIZATIONAL_UNIT`, `ACCOUNT`), as `list-parents` prints it.
    pub fn api_name(self) -> &'static str {
        match self {
            TargetType::Root => "ROOT",
            TargetType::OrganizationalUnit => "ORGANIZATIONAL_UNIT",
            TargetType::Account => "ACCOUNT",
        }
    }

    /// The kind from the API's name.
    pub fn from_api(name: &str) -> Option<TargetType> {
        [TargetType::Root, TargetType::OrganizationalUnit, TargetType::Account]
            .into_iter()
            .find(|t| t.api_name() == name)
    }

    /// How reports name it: `root`, `OU`, `account`.
    pub fn word(self) -> &'static str {
        match self {
            TargetType::Root => "root",
            TargetType::OrganizationalUnit => "OU",
            TargetType::Account => "account",
        }
    }
}

/// One organization policy, as `aws organizations describe-policy` returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgPolicy {
    /// The policy id (`p-...`).
    pub id: String,
    /// Its name.
    pub name: String,
    /// SCP or RCP.
    pub kind: PolicyType,
    /// The document (`Content`).
    pub document: PolicyDocument,
    /// The `describe-policy` output, kept to write it back exactly.
    pub output: Value,
}

/// One level of the organization above (or at) an account, with the policies attached to it.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgLevel {
    /// The target id (`r-...`, `ou-...`, the account id).
    pub id: String,
    /// Its name (the root's `Name`, the OU's name, the account's name).
    pub name: String,
    /// What it is.
    pub target: TargetType,
    /// On the root: the policy types enabled (`list-roots`' `PolicyTypes` with status `ENABLED`);
    /// `None` when not known.
    pub policy_types: Option<Vec<PolicyType>>,
    /// The SCPs and RCPs attached to it.
    pub policies: Vec<OrgPolicy>,
}

impl OrgLevel {
    /// How reports name the level: `root Root (r-ab12)`, `OU Prod (ou-ab12-prod)`, `account prod
    /// (222233334444)`.
    pub fn label(&self) -> String {
        if self.name.is_empty() || self.name == self.id {
            format!("{} {}", self.target.word(), self.id)
        } else {
            format!("{} {} ({})", self.target.word(), self.name, self.id)
        }
    }
}

/// The levels of one account, root first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AccountLevels {
    /// The account id.
    pub account: String,
    /// Root, OUs, the account.
    pub levels: Vec<OrgLevel>,
}

impl AccountLevels {
    /// Whether a policy type is in effect: enabled on the root when the root says, else when some
    /// level has a policy of that type.
    pub fn enabled(&self, kind: PolicyType) -> bool {
        match self.levels.first().and_then(|l| l.policy_types.as_ref()) {
            Some(types) => types.contains(&kind),
            None => self.levels.iter().any(|l| l.policies.iter().any(|p| p.kind == kind)),
        }
    }

    /// The policies of one type by level, root first, each named with its level
    /// (`SCP DenyDeletes at OU Prod (ou-ab12-prod)`); empty when the type is not in effect.
    pub fn named(&self, kind: PolicyType) -> Vec<Vec<NamedPolicy>> {
        if !self.enabled(kind) {
            return Vec::new();
        }
        self.levels
            .iter()
            .map(|level| {
                level
                    .policies
                    .iter()
                    .filter(|p| p.kind == kind)
                    .map(|p| NamedPolicy {
                        name: format!("{} {} at {}", kind.short(), p.name, level.label()).into(),
                        policy: p.document.policy.clone(),
                    })
                    .collect()
            })
            .collect()
    }
}

/// What is known of the organization.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Organization {
    /// The `describe-organization` output (`{"Organization": {...}}`), when read.
    pub describe: Option<Value>,
    /// The management account's id (SCPs and RCPs do not apply to it).
    pub management_account: Option<String>,
    /// The levels of the accounts whose policies were read.
    pub accounts: Vec<AccountLevels>,
    /// What could not be read (for the user's notes).
    pub notes: Vec<String>,
}

impl Organization {
    /// The levels of one account, when read.
    pub fn account(&self, id: &str) -> Option<&AccountLevels> {
        self.accounts.iter().find(|a| a.account == id)
    }

    /// The organization's `describe-organization` output with the management account, built when
    /// only the id is known.
    pub fn describe_json(&self) -> Value {
        self.describe.clone().unwrap_or_else(|| {
            json!({"Organization": {"MasterAccountId": self.management_account.clone().unwrap_or_default()}})
        })
    }
}

fn shape(path: &Path, message: String) -> SnapshotError {
    SnapshotError::Shape { path: path.to_path_buf(), message }
}

/// Reads one `describe-policy` output (`{"Policy": {"PolicySummary", "Content"}}`). Policies of
/// other types (tag, backup policies) give `None`.
pub fn read_policy(value: &Value, path: &Path, at: &str) -> Result<Option<OrgPolicy>, SnapshotError> {
    let policy = value.get("Policy").unwrap_or(value);
    let summary = policy.get("PolicySummary").ok_or_else(|| {
        shape(
            path,
            format!("{at}: not the output of `aws organizations describe-policy` (no Policy.PolicySummary)"),
        )
    })?;
    let text = |key: &str| summary.get(key).and_then(Value::as_str).map(str::to_string);
    let kind_name = text("Type")
        .ok_or_else(|| shape(path, format!("{at}.Policy.PolicySummary: missing string \"Type\"")))?;
    let Some(kind) = PolicyType::from_api(&kind_name) else { return Ok(None) };
    let id =
        text("Id").ok_or_else(|| shape(path, format!("{at}.Policy.PolicySummary: missing string \"Id\"")))?;
    let content = policy
        .get("Content")
        .filter(|c| !c.is_null())
        .ok_or_else(|| shape(path, format!("{at}.Policy: missing \"Content\"")))?;
    let document = PolicyDocument::from_value(content)
        .map_err(|e| shape(path, format!("{at}.Policy.Content: the policy document is not valid: {e}")))?;
    Ok(Some(OrgPolicy {
        name: text("Name").unwrap_or_else(|| id.clone()),
        id,
        kind,
        document,
        output: json!({"Policy": policy}),
    }))
}

fn read_level(value: &Value, path: &Path, at: &str) -> Result<OrgLevel, SnapshotError> {
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
    let id = text("Id").ok_or_else(|| shape(path, format!("{at}: missing string \"Id\"")))?;
    let type_name = text("Type").ok_or_else(|| shape(path, format!("{at}: missing string \"Type\"")))?;
    let target = TargetType::from_api(&type_name).ok_or_else(|| {
        shape(path, format!("{at}.Type: {type_name:?} is not ROOT, ORGANIZATIONAL_UNIT or ACCOUNT"))
    })?;
    let policy_types = value.get("PolicyTypes").and_then(Value::as_array).map(|list| {
        list.iter()
            .filter(|t| t.get("Status").and_then(Value::as_str).is_none_or(|s| s == "ENABLED"))
            .filter_map(|t| t.get("Type").and_then(Value::as_str).and_then(PolicyType::from_api))
            .collect()
    });
    let mut policies = Vec::new();
    for (i, p) in
        value.get("Policies").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]).iter().enumerate()
    {
        policies.extend(read_policy(p, path, &format!("{at}.Policies[{i}]"))?);
    }
    Ok(OrgLevel { name: text("Name").unwrap_or_default(), id, target, policy_types, policies })
}

/// Reads `organization/accounts/ACCOUNT_ID.json`.
pub fn read_account(value: &Value, path: &Path) -> Result<AccountLevels, SnapshotError> {
    let levels = value.get("Levels").and_then(Value::as_array).ok_or_else(|| {
        shape(path, "not an organization accounts file (no \"Levels\" list, root first)".into())
    })?;
    let account = match value.get("AccountId").and_then(Value::as_str) {
        Some(a) => a.to_string(),
        None => path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default(),
    };
    let levels = levels
        .iter()
        .enumerate()
        .map(|(i, l)| read_level(l, path, &format!("Levels[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    if levels.first().is_some_and(|l| l.target != TargetType::Root) {
        return Err(shape(path, "Levels[0]: the first level must be the root (Type ROOT)".into()));
    }
    Ok(AccountLevels { account, levels })
}

/// Reads the `organization/` folder of a snapshot; `None` when there is none.
pub fn read(dir: &Path) -> Result<Option<Organization>, SnapshotError> {
    let folder = dir.join(FOLDER);
    if !folder.is_dir() {
        return Ok(None);
    }
    let mut org = Organization::default();
    let describe = folder.join("organization.json");
    if describe.is_file() {
        let value = read_json(&describe)?;
        let inner = value.get("Organization").ok_or_else(|| {
            shape(
                &describe,
                "not the output of `aws organizations describe-organization` (no Organization)".into(),
            )
        })?;
        org.management_account = inner.get("MasterAccountId").and_then(Value::as_str).map(str::to_string);
        org.describe = Some(value);
    }
    for path in json_files(&folder.join("accounts"))? {
        org.accounts.push(read_account(&read_json(&path)?, &path)?);
    }
    Ok(Some(org))
}

/// The JSON of `organization/accounts/ACCOUNT_ID.json`.
pub fn account_json(levels: &AccountLevels) -> Value {
    let list: Vec<Value> = levels
        .levels
        .iter()
        .map(|l| {
            let mut o = serde_json::Map::new();
            o.insert("Id".into(), json!(l.id));
            o.insert("Name".into(), json!(l.name));
            o.insert("Type".into(), json!(l.target.api_name()));
            if let Some(types) = &l.policy_types {
                let types: Vec<Value> =
                    types.iter().map(|t| json!({"Type": t.api_name(), "Status": "ENABLED"})).collect();
                o.insert("PolicyTypes".into(), json!(types));
            }
            let policies: Vec<&Value> = l.policies.iter().map(|p| &p.output).collect();
            o.insert("Policies".into(), json!(policies));
            Value::Object(o)
        })
        .collect();
    json!({"AccountId": levels.account, "Levels": list})
}

/// Writes the `organization/` folder.
pub fn write(dir: &Path, org: &Organization) -> Result<(), SnapshotError> {
    let folder = dir.join(FOLDER).join("accounts");
    std::fs::create_dir_all(&folder).map_err(|source| SnapshotError::Io { path: folder.clone(), source })?;
    let put = |path: std::path::PathBuf, value: &Value| {
        let text = serde_json::to_string_pretty(value).unwrap_or_default() + "\n";
        std::fs::write(&path, text).map_err(|source| SnapshotError::Io { path, source })
    };
    put(dir.join(FOLDER).join("organization.json"), &org.describe_json())?;
    for a in &org.accounts {
        put(folder.join(format!("{}.json", a.account)), &account_json(a))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
