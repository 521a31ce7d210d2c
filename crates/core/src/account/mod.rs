//! The account model: the IAM users, groups, roles and managed policies, the Lambda functions and
//! the caller identities iamfit reasons about, and the sources that fill it: a snapshot folder
//! ([`snapshot`]) or AWS itself through the SDK ([`live`]).
//!
//! Both sources produce the same [`Account`], so a live run and an offline run over the same account
//! give the same answers.

pub mod function_config;
pub mod organization;
pub mod resources;
pub mod snapshot;

pub use function_config::{
    EventInvokeConfig, EventSourceMapping, FileSystemMount, FunctionConfig, SourceAccess, VpcConfig,
};

use std::fmt;
use std::sync::Arc;

use crate::graph::{Attachment, PermissionGraph};
use iamfit_policy::eval::{NamedPolicy, PolicySet, Principal, PrincipalKind};
use iamfit_policy::Policy;
use organization::PolicyType;

/// A policy document as read: the parsed policy and its JSON (kept so snapshots can be written back
/// exactly).
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDocument {
    /// The parsed policy.
    pub policy: Arc<Policy>,
    /// The document as a JSON object.
    pub json: serde_json::Value,
}

impl PolicyDocument {
    /// Reads a document given as a JSON object, a JSON text, or a URL-encoded JSON text (as IAM's APIs
    /// return them).
    pub fn from_value(value: &serde_json::Value) -> Result<PolicyDocument, iamfit_policy::PolicyError> {
        let text = match value {
            serde_json::Value::String(s) if s.trim_start().starts_with('%') => {
                percent_encoding::percent_decode_str(s.trim())
                    .decode_utf8()
                    .map(|t| t.into_owned())
                    .unwrap_or_else(|_| s.clone())
            }
            serde_json::Value::String(s) => s.clone(),
            other => serde_json::to_string_pretty(other).unwrap_or_default(),
        };
        // Evaluated as AWS evaluates what it stored: invalid Action entries match nothing, an empty
        // Statement grants nothing (`check` still reports both as errors).
        let (policy, _warnings) = iamfit_policy::Document::parse(&text).into_stored_policy()?;
        let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        Ok(PolicyDocument { policy: Arc::new(policy), json })
    }

    /// Reads a document from the text an AWS API returned (URL-encoded or plain JSON).
    pub fn from_api_text(text: &str) -> Result<PolicyDocument, iamfit_policy::PolicyError> {
        PolicyDocument::from_value(&serde_json::Value::String(text.to_string()))
    }
}

/// An inline policy of a user, group or role.
#[derive(Debug, Clone, PartialEq)]
pub struct InlinePolicy {
    /// The policy name.
    pub name: String,
    /// The document.
    pub document: PolicyDocument,
}

/// An IAM user.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct User {
    /// User name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// Unique id (`AIDA...`).
    pub id: String,
    /// Inline policies.
    pub inline: Vec<InlinePolicy>,
    /// ARNs of attached managed policies.
    pub attached: Vec<String>,
    /// Names of the groups the user belongs to.
    pub groups: Vec<String>,
    /// ARN of the permissions boundary.
    pub boundary: Option<String>,
    /// Tags.
    pub tags: Vec<(String, String)>,
}

/// An IAM group.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Group {
    /// Group name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// Inline policies.
    pub inline: Vec<InlinePolicy>,
    /// ARNs of attached managed policies.
    pub attached: Vec<String>,
}

/// An IAM role.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Role {
    /// Role name.
    pub name: String,
    /// ARN (with path).
    pub arn: String,
    /// Unique id (`AROA...`).
    pub id: String,
    /// Inline policies.
    pub inline: Vec<InlinePolicy>,
    /// ARNs of attached managed policies.
    pub attached: Vec<String>,
    /// ARN of the permissions boundary.
    pub boundary: Option<String>,
    /// The trust policy.
    pub trust: Option<PolicyDocument>,
    /// Tags.
    pub tags: Vec<(String, String)>,
}

/// A managed policy with its default version's document.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedPolicy {
    /// Policy name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// The default version id (`v2`).
    pub version: String,
    /// The default version's document.
    pub document: PolicyDocument,
}

/// A Lambda function's configuration (what iamfit needs of it).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Function {
    /// Function name.
    pub name: String,
    /// Function ARN.
    pub arn: String,
    /// The execution role's ARN.
    pub role: String,
    /// The runtime, e.g. `python3.12`.
    pub runtime: Option<String>,
    /// The handler.
    pub handler: Option<String>,
    /// Environment variables.
    pub environment: Vec<(String, String)>,
    /// What the Lambda service itself uses the role for (logs, tracing, VPC, triggers, destinations,
    /// file systems, keys): the rest of the configuration, its event source mappings and its
    /// asynchronous invocation configuration. Empty (`Default`) when unknown.
    pub config: FunctionConfig,
}

impl Function {
    /// The region from the function ARN.
    pub fn region(&self) -> Option<&str> {
        self.arn.split(':').nth(3).filter(|r| !r.is_empty())
    }
    /// The account from the function ARN.
    pub fn account(&self) -> Option<&str> {
        self.arn.split(':').nth(4).filter(|r| !r.is_empty())
    }
    /// The partition from the function ARN (`aws` when it cannot be read).
    pub fn partition(&self) -> &str {
        self.arn.split(':').nth(1).filter(|r| !r.is_empty()).unwrap_or("aws")
    }
    /// The log group Lambda writes the function's logs to: `LoggingConfig.LogGroup`, else
    /// `/aws/lambda/NAME`.
    pub fn log_group(&self) -> String {
        match self.config.log_group.as_deref().filter(|g| !g.is_empty()) {
            Some(g) => g.to_string(),
            None => format!("/aws/lambda/{}", function_name(&self.name)),
        }
    }
}

/// What `sts get-caller-identity` says about a profile's credentials.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallerIdentity {
    /// Account id.
    pub account: String,
    /// The caller's ARN (user, assumed-role session, or root).
    pub arn: String,
    /// The unique id (`AIDA...`, `AROA...:session`).
    pub user_id: String,
}

impl CallerIdentity {
    /// The account id: `Account`, else the account of the ARN.
    pub fn account_or_arn(&self) -> String {
        if !self.account.is_empty() {
            return self.account.clone();
        }
        arn_partition_account(&self.arn).1.to_string()
    }
}

/// Everything iamfit knows about one AWS account.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Account {
    /// IAM users.
    pub users: Vec<User>,
    /// IAM groups.
    pub groups: Vec<Group>,
    /// IAM roles.
    pub roles: Vec<Role>,
    /// Managed policies (customer and AWS managed).
    pub policies: Vec<ManagedPolicy>,
    /// Lambda functions.
    pub functions: Vec<Function>,
    /// Caller identities by profile name.
    pub identities: Vec<(String, CallerIdentity)>,
    /// Resource-based policies of the resources in play (key, bucket, queue, ... policies).
    pub resource_policies: Vec<resources::ResourcePolicy>,
    /// The organization's SCPs and RCPs by account and level, and its management account; `None`
    /// when unknown (no `organization/` folder in the snapshot).
    pub organization: Option<organization::Organization>,
    /// Resource policies in play that could not be read (a live read refused): the decisions on
    /// those resources are partial.
    pub unread_resource_policies: Vec<resources::Unread>,
}

/// A problem resolving a principal or function in the account.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// The function is not in the account data.
    #[error("function {name:?} not found{}", known_hint(.known))]
    UnknownFunction {
        /// The name or ARN asked for.
        name: String,
        /// Known function names.
        known: Vec<String>,
    },
    /// The role is not in the account data.
    #[error("role {0} not found in the account data")]
    UnknownRole(String),
    /// The user is not in the account data.
    #[error("user {0} not found in the account data")]
    UnknownUser(String),
    /// No caller identity for the profile.
    #[error("no identity for profile {name:?}{}", known_hint(.known))]
    UnknownProfile {
        /// The profile.
        name: String,
        /// Known profiles.
        known: Vec<String>,
    },
    /// The identity is not a kind of principal iamfit can resolve.
    #[error("{0}")]
    Unsupported(String),
}

fn known_hint(known: &[String]) -> String {
    if known.is_empty() {
        String::new()
    } else {
        format!(" (known: {})", known.join(", "))
    }
}

/// The principal whose permissions are analysed, with every policy that applies to it.
#[derive(Debug, Clone)]
pub struct Subject {
    /// The principal as the evaluator sees it (a role session for roles).
    pub principal: Principal,
    /// How it is described to the user ("role orders-fn-role", "user dev").
    pub label: String,
    /// The policies by layer, read from the graph.
    pub policies: PolicySet,
    /// The principal's permission graph.
    pub graph: PermissionGraph,
    /// Things the user should know: missing policies, unknown session policies, ...
    pub notes: Vec<String>,
    /// True when some policy could not be read: the permissions are a partial view.
    pub partial: bool,
    /// The resource-based policies known in the subject's account.
    pub resources: resources::ResourcePolicies,
}

impl Subject {
    /// Adds resource policies (those of the resources a trail shows, read after the subject was
    /// built); each policy in play that could not be read is a note and makes the view partial.
    pub fn add_resource_policies(
        &mut self,
        more: &[resources::ResourcePolicy],
        unread: &[resources::Unread],
    ) {
        if !more.is_empty() {
            self.resources = self.resources.with(more);
        }
        for u in unread {
            let note = u.note();
            if !self.notes.contains(&note) {
                self.notes.push(note);
            }
        }
        self.partial |= !unread.is_empty();
    }

    /// The policy set for a request on `resource`: the subject's policies plus the resource's own
    /// policy when it is known.
    pub fn policies_for(&self, resource: &str) -> std::borrow::Cow<'_, PolicySet> {
        if !self.policies.rcp.is_empty() && self.in_other_account(resource) {
            // The subject's RCPs govern its own account's resources; another account's are unknown.
            let mut set = self.policies.clone();
            set.rcp.clear();
            if set.resource.is_none() {
                set.resource = self.resources.for_resource(resource).cloned();
            }
            return std::borrow::Cow::Owned(set);
        }
        match self.resources.for_resource(resource) {
            Some(named) if self.policies.resource.is_none() => {
                let mut set = self.policies.clone();
                set.resource = Some(named.clone());
                std::borrow::Cow::Owned(set)
            }
            _ => std::borrow::Cow::Borrowed(&self.policies),
        }
    }
}

impl Subject {
    /// Whether a resource ARN names a concrete account other than the principal's.
    fn in_other_account(&self, resource: &str) -> bool {
        let account = resource.split(':').nth(4).unwrap_or("");
        account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && self.principal.account.as_deref().is_some_and(|own| own != account)
    }
}

impl Account {
    /// Finds a function by name or ARN (qualified ARNs and `:$LATEST` are accepted).
    pub fn function(&self, name_or_arn: &str) -> Result<&Function, AccountError> {
        let wanted = function_name(name_or_arn);
        self.functions.iter().find(|f| f.name == wanted || f.arn == name_or_arn).ok_or_else(|| {
            AccountError::UnknownFunction {
                name: name_or_arn.to_string(),
                known: self.functions.iter().map(|f| f.name.clone()).collect(),
            }
        })
    }

    /// The caller identity recorded for a profile.
    pub fn identity(&self, profile: &str) -> Result<&CallerIdentity, AccountError> {
        self.identities.iter().find(|(p, _)| p == profile).map(|(_, id)| id).ok_or_else(|| {
            AccountError::UnknownProfile {
                name: profile.to_string(),
                known: self.identities.iter().map(|(p, _)| p.clone()).collect(),
            }
        })
    }

    /// A role by ARN (path-insensitive: session ARNs carry no path) or name.
    pub fn role(&self, arn_or_name: &str) -> Option<&Role> {
        let name = arn_or_name.rsplit('/').next().unwrap_or(arn_or_name);
        self.roles
            .iter()
            .find(|r| r.arn == arn_or_name)
            .or_else(|| self.roles.iter().find(|r| r.name == name))
    }

    /// A user by ARN or name.
    pub fn user(&self, arn_or_name: &str) -> Option<&User> {
        let name = arn_or_name.rsplit('/').next().unwrap_or(arn_or_name);
        self.users
            .iter()
            .find(|u| u.arn == arn_or_name)
            .or_else(|| self.users.iter().find(|u| u.name == name))
    }

    /// A group by name.
    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// A managed policy by ARN.
    pub fn managed_policy(&self, arn: &str) -> Option<&ManagedPolicy> {
        self.policies.iter().find(|p| p.arn == arn)
    }

    /// The subject for a role: a session of the role, with its inline, attached and boundary policies.
    pub fn role_subject(&self, role_arn: &str, session: &str) -> Result<Subject, AccountError> {
        let role = self.role(role_arn).ok_or_else(|| AccountError::UnknownRole(role_arn.to_string()))?;
        let (partition, account) = arn_partition_account(&role.arn);
        let mut principal =
            Principal::parse(&format!("arn:{partition}:sts::{account}:assumed-role/{}/{session}", role.name))
                .map_err(|e| AccountError::Unsupported(e.to_string()))?;
        principal.set_key("aws:PrincipalArn", iamfit_policy::context::ContextValue::Single(role.arn.clone()));
        if !role.id.is_empty() {
            principal.set_key(
                "aws:userid",
                iamfit_policy::context::ContextValue::Single(format!("{}:{session}", role.id)),
            );
        }
        for (k, v) in &role.tags {
            principal.add_tag(k, v);
        }
        let label = format!("role {}", role.name);
        let mut subject = Subject {
            graph: PermissionGraph::new(&label, &role.arn),
            principal,
            label,
            policies: PolicySet::default(),
            notes: Vec::new(),
            partial: false,
            resources: resources::ResourcePolicies::new(&self.resource_policies),
        };
        let root = subject.graph.root();
        self.add_policies(&mut subject, root, &role.inline, &role.attached, &format!("role {}", role.name));
        self.add_boundary(&mut subject, role.boundary.as_deref());
        self.add_organization(&mut subject, account);
        subject.policies = subject.graph.policy_set();
        subject.add_resource_policies(&[], &self.unread_resource_policies);
        Ok(subject)
    }

    /// The subject for a caller identity: an IAM user, an assumed-role session, or the root user.
    pub fn identity_subject(&self, identity: &CallerIdentity) -> Result<Subject, AccountError> {
        let principal =
            Principal::parse(&identity.arn).map_err(|e| AccountError::Unsupported(e.to_string()))?;
        match principal.kind {
            PrincipalKind::User => {
                let user = self.user(&identity.arn).ok_or_else(|| AccountError::UnknownUser(identity.arn.clone()))?;
                let mut principal = principal;
                if !user.id.is_empty() {
                    principal.set_key("aws:userid", iamfit_policy::context::ContextValue::Single(user.id.clone()));
                }
                for (k, v) in &user.tags {
                    principal.add_tag(k, v);
                }
                let label = format!("user {}", user.name);
                let mut subject = Subject {
                    graph: PermissionGraph::new(&label, &user.arn),
                    principal,
                    label,
                    policies: PolicySet::default(),
                    notes: Vec::new(),
                    partial: false,
                    resources: resources::ResourcePolicies::new(&self.resource_policies),
                };
                let root = subject.graph.root();
                self.add_policies(&mut subject, root, &user.inline, &user.attached, &format!("user {}", user.name));
                for group_name in &user.groups {
                    match self.group(group_name) {
                        Some(g) => {
                            let node = subject.graph.add_group(&g.name);
                            self.add_policies(&mut subject, node, &g.inline, &g.attached, &format!("group {}", g.name))
                        }
                        None => {
                            subject.partial = true;
                            subject.notes.push(format!("group {group_name} of user {} is not in the account data: its policies are unknown", user.name));
                        }
                    }
                }
                self.add_boundary(&mut subject, user.boundary.as_deref());
                self.add_organization(&mut subject, &identity.account_or_arn());
                subject.policies = subject.graph.policy_set();
                subject.add_resource_policies(&[], &self.unread_resource_policies);
                Ok(subject)
            }
            PrincipalKind::AssumedRole => {
                let role_arn = principal.role_arn.clone().unwrap_or_default();
                let session = identity.arn.rsplit('/').next().unwrap_or("session").to_string();
                let mut subject = self.role_subject(&role_arn, &session)?;
                subject.notes.push(format!(
                    "the profile's credentials are a session of role {}: a session policy passed at AssumeRole (unknown to iamfit) may narrow them further",
                    subject.label.trim_start_matches("role ")
                ));
                Ok(subject)
            }
            PrincipalKind::Root => {
                let mut subject = Subject {
                    graph: PermissionGraph::new("the account root user", &identity.arn),
                    label: "the account root user".into(),
                    notes: vec!["the profile uses the account root user: it may do everything that SCPs allow; AWS recommends not using root credentials".into()],
                    principal,
                    policies: PolicySet::default(),
                    partial: false,
                    resources: resources::ResourcePolicies::new(&self.resource_policies),
                };
                self.add_organization(&mut subject, &identity.account_or_arn());
                subject.policies = subject.graph.policy_set();
                Ok(subject)
            }
            _ => Err(AccountError::Unsupported(format!(
                "{} is neither an IAM user, a role session nor the root user: iamfit cannot resolve its policies",
                identity.arn
            ))),
        }
    }

    fn add_policies(
        &self,
        subject: &mut Subject,
        owner_node: petgraph::graph::NodeIndex,
        inline: &[InlinePolicy],
        attached: &[String],
        owner: &str,
    ) {
        for p in inline {
            let name = format!("{owner} inline {}", p.name);
            let named = NamedPolicy { name: name.clone().into(), policy: p.document.policy.clone() };
            note_invalid_actions(subject, &named);
            subject.graph.add_policy(owner_node, Attachment::Inline, &name, Some(named));
        }
        for arn in attached {
            match self.managed_policy(arn) {
                Some(m) => {
                    let named =
                        NamedPolicy { name: m.name.clone().into(), policy: m.document.policy.clone() };
                    note_invalid_actions(subject, &named);
                    subject.graph.add_policy(owner_node, Attachment::Managed, &m.name, Some(named));
                }
                None => {
                    subject.graph.add_policy(owner_node, Attachment::Missing, arn, None);
                    subject.partial = true;
                    subject.notes.push(format!("managed policy {arn} attached to {owner} is not in the account data: its permissions are unknown"));
                }
            }
        }
    }

    /// Adds the organization levels of the subject's account with their SCPs and RCPs, and the
    /// management account, when the organization is known.
    fn add_organization(&self, subject: &mut Subject, account: &str) {
        let Some(org) = &self.organization else { return };
        subject.graph.set_management_account(org.management_account.clone());
        let management = org.management_account.as_deref() == Some(account);
        if management {
            subject.notes.push(format!(
                "account {account} is the organization's management account: SCPs and RCPs do not apply to it"
            ));
        }
        match org.account(account) {
            Some(levels) => {
                let (scp, rcp) = (levels.named(PolicyType::Scp), levels.named(PolicyType::Rcp));
                let rows: Vec<(String, Vec<NamedPolicy>, Vec<NamedPolicy>)> = levels
                    .levels
                    .iter()
                    .enumerate()
                    .map(|(i, l)| {
                        let pick = |v: &[Vec<NamedPolicy>]| v.get(i).cloned().unwrap_or_default();
                        (l.label(), pick(&scp), pick(&rcp))
                    })
                    .collect();
                subject.graph.add_org_levels(&rows, !scp.is_empty(), !rcp.is_empty());
            }
            None if management => {}
            None if !org.notes.is_empty() => subject.notes.extend(org.notes.iter().cloned()),
            None => subject.notes.push(format!(
                "the answer covers IAM only: the SCPs/RCPs of account {account} are not known (no organization/accounts/{account}.json)"
            )),
        }
    }

    fn add_boundary(&self, subject: &mut Subject, boundary: Option<&str>) {
        let Some(arn) = boundary else { return };
        let root = subject.graph.root();
        match self.managed_policy(arn) {
            Some(m) => {
                let named = NamedPolicy { name: m.name.clone().into(), policy: m.document.policy.clone() };
                note_invalid_actions(subject, &named);
                subject.graph.add_policy(root, Attachment::Boundary, &m.name, Some(named));
            }
            None => {
                subject.partial = true;
                subject.notes.push(format!(
                    "the permissions boundary {arn} is not in the account data: the boundary is ignored"
                ));
            }
        }
    }
}

/// Says which Action entries of a stored policy are not action names: AWS evaluates them as matching
/// nothing, and so does iamfit.
fn note_invalid_actions(subject: &mut Subject, named: &NamedPolicy) {
    for p in named.policy.invalid_actions() {
        subject.notes.push(format!(
            "policy {}: {:?} is not an action name, so it matches nothing (as AWS evaluates it)",
            named.name, p.raw
        ));
    }
}

/// The function name from a name or ARN (`arn:aws:lambda:r:a:function:NAME[:QUALIFIER]`).
pub fn function_name(name_or_arn: &str) -> &str {
    match name_or_arn.strip_prefix("arn:") {
        Some(_) => name_or_arn.split(':').nth(6).unwrap_or(name_or_arn),
        None => name_or_arn.split(':').next().unwrap_or(name_or_arn),
    }
}

fn arn_partition_account(arn: &str) -> (&str, &str) {
    let mut parts = arn.split(':');
    let partition = parts.nth(1).unwrap_or("aws");
    let account = parts.nth(2).unwrap_or("");
    (partition, account)
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.label, self.principal.arn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_from_arns() {
        assert_eq!(function_name("orders"), "orders");
        assert_eq!(function_name("arn:aws:lambda:us-east-1:111122223333:function:orders"), "orders");
        assert_eq!(function_name("arn:aws:lambda:us-east-1:111122223333:function:orders:$LATEST"), "orders");
    }
}
