//! AWS's own rules that no policy states: which resources require their resource-based policy (KMS
//! keys, role trust), the action that is always allowed, what AWS owns, and which principals the
//! organization's policies do not reach.
//!
//! Each rule cites the AWS page that states it.

use std::fmt;

use super::principal::{Principal, PrincipalKind};

/// Tells write actions (the catalog's access levels Write, Permissions management and Tagging) from
/// the others. The evaluator knows no catalog: the caller supplies it (iamfit's catalog in the
/// command line and the analyses).
#[derive(Clone, Copy)]
pub struct WriteActions(pub fn(&str) -> bool);

impl WriteActions {
    /// Whether the action (any case) writes.
    pub fn is_write(&self, action: &str) -> bool {
        (self.0)(action)
    }
}

impl fmt::Debug for WriteActions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WriteActions(..)")
    }
}

impl PartialEq for WriteActions {
    /// Classifiers are not part of what a policy set means: any two compare equal.
    fn eq(&self, _: &WriteActions) -> bool {
        true
    }
}

/// A resource whose own policy must allow, whatever the identity side says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Required {
    /// A KMS key: its key policy. "AWS KMS key policies ... Unless the key policy explicitly allows
    /// it, you cannot use IAM policies to allow access to a KMS key"
    /// (<https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html>).
    KeyPolicy,
    /// A role assumed with `sts:AssumeRole*`, tagged or given a source identity: its trust policy
    /// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>:
    /// "IAM role trust policies and KMS key policies are exceptions to this logic, because they must
    /// explicitly allow access for principals").
    Trust,
}

/// The STS actions a role's trust policy governs
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_update-role-trust-policy.html>).
const TRUST_ACTIONS: &[&str] = &[
    "sts:assumerole",
    "sts:assumerolewithwebidentity",
    "sts:assumerolewithsaml",
    "sts:tagsession",
    "sts:setsourceidentity",
];

/// The ARN's parts: (service, account, resource). `None` for text that is not an ARN.
fn arn_parts(arn: &str) -> Option<(&str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    if parts.next() != Some("arn") {
        return None;
    }
    let _partition = parts.next()?;
    let service = parts.next()?;
    let _region = parts.next()?;
    let account = parts.next()?;
    let resource = parts.next()?;
    Some((service, account, resource))
}

/// Which resource-based policy the request requires, if any.
pub(crate) fn required(action_lc: &str, resource: &str) -> Option<Required> {
    if TRUST_ACTIONS.contains(&action_lc) {
        return Some(Required::Trust);
    }
    match arn_parts(resource) {
        Some(("kms", _, res)) if action_lc.starts_with("kms:") && res.starts_with("key/") => {
            Some(Required::KeyPolicy)
        }
        _ => None,
    }
}

/// `sts:GetCallerIdentity` works for every authenticated caller: "No permissions are required to
/// perform this operation. If an administrator attaches a policy to your identity that explicitly
/// denies access to the sts:GetCallerIdentity action, you can still perform this operation"
/// (<https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html>).
pub(crate) fn always_allowed(action_lc: &str) -> bool {
    action_lc == "sts:getcalleridentity"
}

/// Whether AWS owns the resource by its ARN (or, for a pattern, whether everything it can match is
/// owned by AWS: the owned prefix stands before any wildcard): AWS managed policies (`arn:aws:iam::aws:policy/...`,
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html#aws-managed-policies>:
/// "You cannot change the permissions defined in AWS managed policies"), service-linked roles
/// (`/aws-service-role/`, <https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html>)
/// and IAM Identity Center's reserved roles (`/aws-reserved/`,
/// <https://docs.aws.amazon.com/singlesignon/latest/userguide/referencingpermissionsets.html>), and
/// the aliases of AWS managed keys (`alias/aws/...`,
/// <https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key>: "You cannot
/// manage these KMS keys, rotate them, change their key policies").
pub fn owned_by_aws(resource: &str) -> bool {
    match arn_parts(resource) {
        Some(("iam", "aws", res)) => res.starts_with("policy/"),
        Some(("iam", _, res)) => {
            res.starts_with("role/aws-service-role/") || res.starts_with("role/aws-reserved/")
        }
        Some(("kms", _, res)) => res.starts_with("alias/aws/"),
        _ => false,
    }
}

/// Actions that do not change the resource they name although the catalog files them as writes:
/// assuming or passing a role, and the cryptographic operations and grants AWS managed keys serve
/// through their services (their own key policies decide those). Service-linked roles can still be
/// created, deleted and described (<https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html>:
/// "you can edit the description of a service-linked role").
const NOT_CHANGES: &[&str] = &[
    "iam:passrole",
    "iam:createservicelinkedrole",
    "iam:deleteservicelinkedrole",
    "iam:updateroledescription",
    "kms:encrypt",
    "kms:decrypt",
    "kms:reencryptfrom",
    "kms:reencryptto",
    "kms:generatedatakey",
    "kms:generatedatakeywithoutplaintext",
    "kms:generatedatakeypair",
    "kms:generatedatakeypairwithoutplaintext",
    "kms:creategrant",
    "kms:retiregrant",
];

/// Whether a write action changes the resource it names (so that AWS refuses it on what it owns).
/// Takes the lower-cased action name.
pub fn changes_resource(action_lc: &str) -> bool {
    !action_lc.starts_with("sts:") && !NOT_CHANGES.contains(&action_lc)
}

/// Whether the principal is a service-linked role or one of its sessions. Session ARNs carry no
/// path, so a session is recognised by the name AWS gives every service-linked role
/// (`AWSServiceRoleFor...`, <https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html>).
pub(crate) fn service_linked(principal: &Principal) -> bool {
    principal.arn.contains(":role/aws-service-role/")
        || (principal.kind == PrincipalKind::AssumedRole
            && principal.name.as_deref().is_some_and(|n| n.starts_with("AWSServiceRoleFor")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_aws_owns() {
        assert!(owned_by_aws("arn:aws:iam::aws:policy/AdministratorAccess"));
        assert!(owned_by_aws("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"));
        assert!(owned_by_aws(
            "arn:aws:iam::111122223333:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"
        ));
        assert!(owned_by_aws(
            "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_1"
        ));
        assert!(owned_by_aws("arn:aws:kms:us-east-1:111122223333:alias/aws/s3"));
        assert!(!owned_by_aws("arn:aws:kms:us-east-1:111122223333:alias/orders"));
        assert!(!owned_by_aws("arn:aws:iam::111122223333:policy/orders"));
        assert!(!owned_by_aws("arn:aws:iam::111122223333:role/service-role/orders"));
        assert!(!owned_by_aws("*"));
    }

    #[test]
    fn required_layers() {
        assert_eq!(required("sts:assumerole", "*"), Some(Required::Trust));
        assert_eq!(required("sts:tagsession", "arn:aws:iam::111122223333:role/r"), Some(Required::Trust));
        assert_eq!(
            required(
                "kms:decrypt",
                "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
            ),
            Some(Required::KeyPolicy)
        );
        assert_eq!(required("kms:listkeys", "*"), None);
        assert_eq!(required("kms:createalias", "arn:aws:kms:us-east-1:111122223333:alias/a"), None);
        assert_eq!(required("s3:getobject", "arn:aws:s3:::b/k"), None);
    }

    #[test]
    fn service_linked_roles_and_sessions() {
        let role = Principal::parse(
            "arn:aws:iam::111122223333:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS",
        )
        .unwrap();
        assert!(service_linked(&role));
        let session =
            Principal::parse("arn:aws:sts::111122223333:assumed-role/AWSServiceRoleForECS/ecs").unwrap();
        assert!(service_linked(&session));
        let other = Principal::parse("arn:aws:sts::111122223333:assumed-role/orders-fn/orders").unwrap();
        assert!(!service_linked(&other));
    }
}
