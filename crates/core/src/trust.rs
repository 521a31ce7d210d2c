//! Temporary credentials of an assumed role, session names and session policies, the credential
//! cache, and the trust analysis (`iamfit trust`): may a principal assume a role? The STS call itself
//! is in the AWS adapter crate.
//!
//! Secrets (secret access key, session token) never reach a log line, an error message or `Debug`
//! output of this module.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::account::{Role, Subject};
use iamfit_policy::context::RequestContext;
use iamfit_policy::eval::{
    authorize, Decision, Layer, NamedPolicy, PolicySet, Principal, PrincipalKind, Request, Verdict,
};

/// The largest session policy STS accepts, in characters of minified JSON. STS also applies a packed
/// (compressed) size limit that it reports as `PackedPolicyTooLarge`; that one is checked by STS.
pub const SESSION_POLICY_MAX: usize = 2048;

/// Temporary credentials of an assumed role.
#[derive(Clone, PartialEq, Eq)]
pub struct TempCredentials {
    /// The access key id (`ASIA...`).
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
    /// The session token.
    pub session_token: String,
    /// When they expire, RFC 3339 in UTC.
    pub expiration: String,
}

impl fmt::Debug for TempCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TempCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &"<redacted>")
            .field("expiration", &self.expiration)
            .finish()
    }
}

impl TempCredentials {
    /// The `credential_process` JSON (`Version` 1).
    pub fn to_process_json(&self) -> Value {
        json!({
            "Version": 1,
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key,
            "SessionToken": self.session_token,
            "Expiration": self.expiration,
        })
    }

    /// Reads `credential_process` JSON.
    pub fn from_process_json(value: &Value) -> Option<TempCredentials> {
        let s = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_string);
        Some(TempCredentials {
            access_key_id: s("AccessKeyId")?,
            secret_access_key: s("SecretAccessKey")?,
            session_token: s("SessionToken")?,
            expiration: s("Expiration")?,
        })
    }

    /// Seconds until expiry (negative when expired); `None` when the expiration cannot be read.
    pub fn seconds_left(&self) -> Option<i64> {
        let exp =
            time::OffsetDateTime::parse(&self.expiration, &time::format_description::well_known::Rfc3339)
                .ok()?;
        Some((exp - time::OffsetDateTime::now_utc()).whole_seconds())
    }
}

/// The role session name for a caller: `iamfit-<caller name>`, limited to `[\w+=,.@-]` and 64 characters.
pub fn session_name(caller_arn: &str) -> String {
    let name = caller_arn.rsplit(['/', ':']).next().unwrap_or("");
    let clean: String = format!("iamfit-{name}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) { c } else { '-' })
        .collect();
    clean.chars().take(64).collect()
}

/// Checks a session policy text: valid JSON, and within STS's size limit. Returns it minified.
pub fn check_session_policy(text: &str) -> Result<String, String> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("the session policy is not valid JSON: {e}"))?;
    iamfit_policy::document::Policy::parse(text)
        .map_err(|e| format!("the session policy is not a valid policy: {e}"))?;
    let minified = serde_json::to_string(&value).unwrap_or_default();
    let size = minified.chars().count();
    if size > SESSION_POLICY_MAX {
        return Err(format!(
            "the session policy is too large for STS: {size} characters minified, the limit is {SESSION_POLICY_MAX}; \
             shorten it (merge statements, use wildcards) or attach the permissions to the role instead"
        ));
    }
    Ok(minified)
}

/// The credential cache folder: `$IAMFIT_CACHE_DIR`, else the user's cache folder `/iamfit`, then `credentials/`.
pub fn cache_dir() -> Option<PathBuf> {
    let base = match std::env::var_os("IAMFIT_CACHE_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => dirs::cache_dir()?.join("iamfit"),
    };
    Some(base.join("credentials"))
}

/// The cache file name for a function, profile, endpoint and session policy (FNV-1a 64, stable).
pub fn cache_key(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0u8)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}.json")
}

/// Seconds before expiry when cached credentials are no longer reused.
pub const CACHE_MARGIN_SECONDS: i64 = 300;

/// Reads cached credentials that are still good for more than five minutes.
pub fn cache_read(path: &Path) -> Option<TempCredentials> {
    let text = std::fs::read_to_string(path).ok()?;
    let creds = TempCredentials::from_process_json(&serde_json::from_str(&text).ok()?)?;
    (creds.seconds_left()? > CACHE_MARGIN_SECONDS).then_some(creds)
}

/// Writes credentials to the cache: folder 0700, file 0600, atomically (temporary file, then rename).
pub fn cache_write(path: &Path, creds: &TempCredentials) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    let dir = path.parent().ok_or_else(|| std::io::Error::other("the cache path has no folder"))?;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("c"),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&tmp);
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
    file.write_all(creds.to_process_json().to_string().as_bytes())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)
}

/// Which side of an AssumeRole decision refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenyingSide {
    /// The role's trust policy does not allow the principal (or denies it).
    Trust,
    /// The principal's identity-based policies do not allow `sts:AssumeRole` on the role (or deny it).
    Identity,
    /// Both.
    Both,
}

impl DenyingSide {
    /// The contract's word.
    pub fn as_str(self) -> &'static str {
        match self {
            DenyingSide::Trust => "trust-policy",
            DenyingSide::Identity => "identity-policy",
            DenyingSide::Both => "both",
        }
    }
}

/// The outcome of the trust analysis.
#[derive(Debug, Clone)]
pub struct TrustAnalysis {
    /// The principal ARN (the caller).
    pub principal: String,
    /// The role ARN.
    pub role: String,
    /// Whether the principal may assume the role.
    pub allowed: bool,
    /// Whether the trust policy allows the principal (it names it, its role, its account or `*`) with no deny.
    pub trust_allows: bool,
    /// Whether the trust policy alone suffices (same account, names the principal directly).
    pub trust_direct: bool,
    /// Whether the identity side allows `sts:AssumeRole` on the role.
    pub identity_allows: bool,
    /// Which side refuses, when refused.
    pub denying: Option<DenyingSide>,
    /// The least trust statement that would allow exactly this principal (when the trust side refuses).
    pub fix_statement: Option<Value>,
    /// The identity statement the principal would need (when the identity side refuses).
    pub fix_identity: Option<Value>,
    /// Statements that decided it.
    pub decision: Decision,
}

/// The ARN a trust policy must name for `principal_arn`: the role ARN for a role session.
pub fn trust_principal_arn(principal: &Principal) -> String {
    match (&principal.kind, &principal.role_arn) {
        (PrincipalKind::AssumedRole, Some(role)) => role.clone(),
        _ => principal.arn.clone(),
    }
}

/// May `subject` assume `role`? AWS's documented logic for roles (IAM User Guide, "Policy evaluation
/// logic", section on role trust policies:
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html> and
/// "Cross-account policy evaluation logic":
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html>):
/// unlike other resource-based policies, the trust policy must *always* allow the principal, also in
/// the same account. In the same account, a trust policy that names the principal (user or role
/// session) directly suffices without an identity-based Allow; one that names the account (or the
/// role ARN) delegates, so the identity side must allow `sts:AssumeRole` on the role as well. Across
/// accounts both sides must allow. An explicit deny on either side decides.
pub fn analyze_trust(subject: &Subject, role: &Role) -> TrustAnalysis {
    let principal = &subject.principal;
    let ctx = RequestContext::new();
    let request = Request {
        principal: Some(principal),
        action: "sts:AssumeRole",
        resource: &role.arn,
        context: &ctx,
        resource_account: None,
    };
    let trust = role.trust.as_ref().map(|d| NamedPolicy {
        name: format!("trust policy of {}", role.name).into(),
        policy: d.policy.clone(),
    });
    // The full decision: identity side, boundary and the trust policy as the resource-based policy.
    let mut set = subject.policies.clone();
    set.session.clear();
    set.resource = trust.clone();
    let full = authorize(&set, &request);
    // The trust side alone: does any trust statement allow this principal at all (named directly,
    // through its role or its account)? Evaluate as if across accounts with an allow-all identity side,
    // so that any naming counts and only the trust policy decides.
    let allow_all = NamedPolicy::new("allow-all", allow_all_policy());
    let trust_only_set =
        PolicySet { identity: vec![allow_all], resource: trust.clone(), ..Default::default() };
    let other_account =
        if principal.account.as_deref() == Some("000000000000") { "000000000001" } else { "000000000000" };
    let trust_request = Request { resource_account: Some(other_account), ..request };
    let trust_allows =
        trust.is_some() && authorize(&trust_only_set, &trust_request).verdict == Verdict::Allow;
    let direct_set = PolicySet { resource: trust.clone(), ..Default::default() };
    let trust_direct = trust.is_some() && authorize(&direct_set, &request).verdict == Verdict::Allow;
    // The identity side alone: against a trust policy that delegates to the principal's account, so
    // that only the identity-based policies (and the boundary) decide.
    let mut identity_set = subject.policies.clone();
    identity_set.session.clear();
    identity_set.resource = principal.account.as_deref().and_then(delegating_trust);
    let identity_decision = authorize(&identity_set, &request);
    let identity_allows = identity_decision.verdict == Verdict::Allow;

    let allowed = full.verdict == Verdict::Allow && trust_allows;
    let denying = if allowed {
        None
    } else if full.verdict == Verdict::ExplicitDeny {
        let trust_deny = full.matched.iter().any(|m| m.layer == Layer::Resource);
        let identity_deny = full.matched.iter().any(|m| m.layer != Layer::Resource);
        Some(match (trust_deny, identity_deny) {
            (true, true) => DenyingSide::Both,
            (true, false) => DenyingSide::Trust,
            _ => DenyingSide::Identity,
        })
    } else if !trust_allows && !identity_allows {
        Some(DenyingSide::Both)
    } else if !trust_allows {
        Some(DenyingSide::Trust)
    } else {
        Some(DenyingSide::Identity)
    };
    let who = trust_principal_arn(principal);
    let fix_statement = matches!(denying, Some(DenyingSide::Trust | DenyingSide::Both))
        .then(|| json!({"Effect": "Allow", "Principal": {"AWS": who}, "Action": "sts:AssumeRole"}));
    let fix_identity = matches!(denying, Some(DenyingSide::Identity | DenyingSide::Both))
        .then(|| json!({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role.arn}));
    TrustAnalysis {
        principal: principal.arn.clone(),
        role: role.arn.clone(),
        allowed,
        trust_allows,
        trust_direct,
        identity_allows,
        denying,
        fix_statement,
        fix_identity,
        decision: full,
    }
}

/// A trust policy that delegates `sts:AssumeRole` to the account's IAM policies.
fn delegating_trust(account: &str) -> Option<NamedPolicy> {
    let text = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{account}:root")}, "Action": "sts:AssumeRole"}]
    })
    .to_string();
    let policy = iamfit_policy::document::Policy::parse(&text).ok()?;
    Some(NamedPolicy::new("trust delegating to the account", policy))
}

/// The warning printed with a trust fix.
pub const TRUST_WARNING: &str = "adding a developer principal to a production role's trust policy lets that developer act as production; \
prefer a copy of the role in a development account (same permissions policies, trust naming the developers) and run the function's code against it";

/// `Allow * on *`.
#[expect(clippy::expect_used, reason = "a constant, valid policy document: parsing it cannot fail")]
fn allow_all_policy() -> iamfit_policy::document::Policy {
    iamfit_policy::document::Policy::parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    )
    .expect("static policy")
}

/// `iamfit trust`'s report (its JSON).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrustReport {
    /// The principal ARN.
    pub principal: String,
    /// The role ARN.
    pub role: String,
    /// Whether the principal may assume the role.
    pub allowed: bool,
    /// Whether the trust policy allows the principal.
    pub trust_policy_allows: bool,
    /// Whether the trust policy names the principal directly (and so suffices alone).
    pub trust_policy_names_principal: bool,
    /// Whether the identity side allows `sts:AssumeRole` on the role.
    pub identity_policy_allows: bool,
    /// `trust`, `identity` or `both`, when refused.
    pub denied_by: Option<&'static str>,
    /// The least statements that would allow it.
    pub fix: TrustFix,
    /// The warning that goes with a trust fix.
    pub warning: Option<&'static str>,
    /// The statements that decided.
    pub matched: Vec<iamfit_policy::eval::Matched>,
}

/// The least statements that would allow the assumption.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrustFix {
    /// The trust statement that would allow exactly this principal.
    pub trust_statement: Option<Value>,
    /// The identity statement the principal would need.
    pub identity_statement: Option<Value>,
}

impl From<&TrustAnalysis> for TrustReport {
    fn from(a: &TrustAnalysis) -> Self {
        TrustReport {
            principal: a.principal.clone(),
            role: a.role.clone(),
            allowed: a.allowed,
            trust_policy_allows: a.trust_allows,
            trust_policy_names_principal: a.trust_direct,
            identity_policy_allows: a.identity_allows,
            denied_by: a.denying.map(DenyingSide::as_str),
            fix: TrustFix {
                trust_statement: a.fix_statement.clone(),
                identity_statement: a.fix_identity.clone(),
            },
            warning: a.fix_statement.as_ref().map(|_| TRUST_WARNING),
            matched: a.decision.matched.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_are_sanitised_and_short() {
        assert_eq!(session_name("arn:aws:iam::123456789012:user/dev"), "iamfit-dev");
        assert_eq!(session_name("arn:aws:sts::1:assumed-role/R/alice smith#1"), "iamfit-alice-smith-1");
        assert_eq!(session_name(&format!("arn:aws:iam::1:user/{}", "a".repeat(100))).len(), 64);
    }

    #[test]
    fn session_policy_limit() {
        let small = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}"#;
        assert!(check_session_policy(small).is_ok());
        let actions: Vec<String> = (0..200).map(|i| format!("s3:GetObject{i}")).collect();
        let big =
            json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":actions,"Resource":"*"}]})
                .to_string();
        let err = check_session_policy(&big).unwrap_err();
        assert!(err.contains("2048") && err.contains("characters"), "{err}");
    }

    #[test]
    fn cache_key_is_stable() {
        assert_eq!(cache_key(&["a", "b"]), cache_key(&["a", "b"]));
        assert_ne!(cache_key(&["ab", ""]), cache_key(&["a", "b"]));
    }
}
