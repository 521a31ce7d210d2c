//! The principal making a request: what kind it is, its account, and the condition keys IAM derives
//! from it (`aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:username`, `aws:PrincipalType`, ...).

use std::fmt;

use crate::context::{ContextValue, RequestContext};

/// The kinds of principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// An IAM user (`arn:aws:iam::ACCT:user/PATH/NAME`).
    User,
    /// An IAM role, when the session is not known (`arn:aws:iam::ACCT:role/PATH/NAME`).
    Role,
    /// A role session (`arn:aws:sts::ACCT:assumed-role/ROLE/SESSION`).
    AssumedRole,
    /// A federated user session (`arn:aws:sts::ACCT:federated-user/NAME`).
    FederatedUser,
    /// The account root user (`arn:aws:iam::ACCT:root`).
    Root,
    /// An AWS service principal (`lambda.amazonaws.com`).
    Service,
    /// Anything else (kept as an opaque identifier).
    Other,
    /// An unauthenticated request: only resource-based policies naming everyone (`"Principal": "*"`
    /// or `{"AWS": "*"}`) apply to it
    /// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-anonymous>).
    Anonymous,
}

/// A principal and its implicit condition keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The identifier as given (ARN or service name).
    pub arn: String,
    /// What kind of principal.
    pub kind: PrincipalKind,
    /// The account id, where the identifier has one.
    pub account: Option<String>,
    /// The partition (`aws`, `aws-cn`, `aws-us-gov`), where known.
    pub partition: Option<String>,
    /// For sessions: the role's name; for roles and users: the name.
    pub name: Option<String>,
    /// For role sessions: the ARN of the role (without path: session ARNs do not carry it).
    pub role_arn: Option<String>,
    implicit: RequestContext,
}

/// How the anonymous principal is written on the command line and in the batch format.
pub const ANONYMOUS: &str = "anonymous";

/// An identifier that is not a principal iamfit understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalError(pub String);

impl fmt::Display for PrincipalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PrincipalError {}

impl Principal {
    /// Reads a principal from an ARN or a service principal name.
    pub fn parse(id: &str) -> Result<Principal, PrincipalError> {
        let id = id.trim();
        if id.is_empty() {
            return Err(PrincipalError("empty principal".into()));
        }
        if id.eq_ignore_ascii_case(ANONYMOUS) {
            return Ok(Principal::anonymous());
        }
        if !id.starts_with("arn:") {
            if id.ends_with(".amazonaws.com") || id.ends_with(".amazonaws.com.cn") {
                let mut p = Principal::bare(id, PrincipalKind::Service);
                p.implicit.set("aws:PrincipalServiceName", id);
                return Ok(p);
            }
            if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
                return Principal::parse(&format!("arn:aws:iam::{id}:root"));
            }
            return Err(PrincipalError(format!(
                "{id:?} is not a principal: give an IAM user, role or role-session ARN, an account root ARN, a service principal, or anonymous"
            )));
        }
        let parts: Vec<&str> = id.splitn(6, ':').collect();
        let [_, partition, service, _region, account, resource] = parts[..] else {
            return Err(PrincipalError(format!(
                "{id:?} is not a valid ARN (expected arn:partition:service:region:account:resource)"
            )));
        };
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PrincipalError(format!("{id:?}: the account id must be 12 digits")));
        }
        let (kind, name, role_arn) = match (service, resource.split_once('/')) {
            ("iam", None) if resource == "root" => (PrincipalKind::Root, None, None),
            ("iam", Some(("user", rest))) => {
                (PrincipalKind::User, rest.rsplit('/').next().map(str::to_string), None)
            }
            ("iam", Some(("role", rest))) => {
                (PrincipalKind::Role, rest.rsplit('/').next().map(str::to_string), Some(id.to_string()))
            }
            ("sts", Some(("assumed-role", rest))) => {
                let (role, _session) = rest.split_once('/').ok_or_else(|| {
                    PrincipalError(format!("{id:?}: an assumed-role ARN ends with ROLE/SESSION"))
                })?;
                (
                    PrincipalKind::AssumedRole,
                    Some(role.to_string()),
                    Some(format!("arn:{partition}:iam::{account}:role/{role}")),
                )
            }
            ("sts", Some(("federated-user", rest))) => {
                (PrincipalKind::FederatedUser, Some(rest.to_string()), None)
            }
            _ => (PrincipalKind::Other, None, None),
        };
        let mut p = Principal::bare(id, kind);
        p.account = Some(account.to_string());
        p.partition = Some(partition.to_string());
        p.name = name;
        p.role_arn = role_arn;
        p.implicit.set("aws:PrincipalAccount", account);
        let principal_arn = match kind {
            PrincipalKind::AssumedRole | PrincipalKind::Role => {
                p.role_arn.clone().unwrap_or_else(|| id.to_string())
            }
            _ => id.to_string(),
        };
        p.implicit.set("aws:PrincipalArn", principal_arn);
        let principal_type = match kind {
            PrincipalKind::User => "User",
            PrincipalKind::Role | PrincipalKind::AssumedRole => "AssumedRole",
            PrincipalKind::FederatedUser => "FederatedUser",
            PrincipalKind::Root => "Account",
            _ => "",
        };
        if !principal_type.is_empty() {
            p.implicit.set("aws:PrincipalType", principal_type);
        }
        match kind {
            PrincipalKind::User => {
                if let Some(n) = &p.name {
                    p.implicit.set("aws:username", n.clone());
                }
            }
            PrincipalKind::Root => p.implicit.set("aws:userid", account),
            _ => {}
        }
        Ok(p)
    }

    /// The anonymous (unauthenticated) caller.
    pub fn anonymous() -> Principal {
        Principal::bare(ANONYMOUS, PrincipalKind::Anonymous)
    }

    fn bare(id: &str, kind: PrincipalKind) -> Principal {
        Principal {
            arn: id.to_string(),
            kind,
            account: None,
            partition: None,
            name: None,
            role_arn: None,
            implicit: RequestContext::new(),
        }
    }

    /// Adds a principal tag (`aws:PrincipalTag/KEY`).
    pub fn add_tag(&mut self, key: &str, value: &str) {
        self.implicit.set(&format!("aws:PrincipalTag/{key}"), value);
    }

    /// Sets an implicit key (for example `aws:userid`, known only from the account).
    pub fn set_key(&mut self, key: &str, value: ContextValue) {
        self.implicit.insert(key, value);
    }

    /// The condition keys derived from the principal.
    pub fn implicit_context(&self) -> &RequestContext {
        &self.implicit
    }

    /// Whether the principal is a role or a role session.
    pub fn is_role(&self) -> bool {
        matches!(self.kind, PrincipalKind::Role | PrincipalKind::AssumedRole)
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.arn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Lookup;

    #[test]
    fn user_keys() {
        let p = Principal::parse("arn:aws:iam::111122223333:user/division/alice").unwrap();
        assert_eq!(p.kind, PrincipalKind::User);
        let ctx = p.implicit_context();
        assert_eq!(ctx.get("aws:username").and_then(|v| v.single()), Some("alice"));
        assert_eq!(ctx.get("aws:principalaccount").and_then(|v| v.single()), Some("111122223333"));
    }

    #[test]
    fn session_principal_arn_is_the_role() {
        let p = Principal::parse("arn:aws:sts::111122223333:assumed-role/orders-fn/orders").unwrap();
        assert_eq!(p.kind, PrincipalKind::AssumedRole);
        assert_eq!(p.role_arn.as_deref(), Some("arn:aws:iam::111122223333:role/orders-fn"));
        assert_eq!(
            p.implicit_context().get("aws:principalarn").and_then(|v| v.single()),
            Some("arn:aws:iam::111122223333:role/orders-fn")
        );
        assert!(p.implicit_context().get("aws:username").is_none());
    }

    #[test]
    fn services_accounts_and_errors() {
        assert_eq!(Principal::parse("lambda.amazonaws.com").unwrap().kind, PrincipalKind::Service);
        assert_eq!(Principal::parse("111122223333").unwrap().kind, PrincipalKind::Root);
        assert!(Principal::parse("arn:aws:iam::12:user/x").is_err());
        assert!(Principal::parse("bob").is_err());
        assert!(Principal::parse("arn:aws:sts::111122223333:assumed-role/x").is_err());
    }
}
