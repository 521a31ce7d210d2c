//! Resolving what a command is about, through the [`AccountSource`] port: the function and its role,
//! a principal ARN, the local principal of a profile. Written once; every command and front end uses
//! it.

use iamfit_policy::eval::{Principal, PrincipalKind};
use iamfit_trail::PrincipalFilter;

use crate::account::resources::{in_play, InPlay};
use crate::account::{function_name, Account, CallerIdentity, Function, Subject};
use crate::source::{AccountNeeds, AccountSource, LoadedAccount, SourceError};

/// Whom a replay or an analysis is about.
#[derive(Debug, Clone)]
pub struct Target {
    /// Which CloudTrail records belong to it.
    pub filter: PrincipalFilter,
    /// How to name it to the user.
    pub label: String,
    /// Its account (narrows S3 listings).
    pub account: Option<String>,
    /// Its current grant, when known.
    pub subject: Option<Subject>,
    /// The function, for `--function` targets.
    pub function: Option<Function>,
}

/// The principal ARN as the evaluator parses it, as an input error when it is not one.
fn parse_principal(arn: &str) -> Result<Principal, SourceError> {
    Principal::parse(arn).map_err(|e| SourceError::Input { message: format!("--principal: {e}"), help: None })
}

fn not_a_principal(arn: &str) -> SourceError {
    SourceError::Input {
        message: format!("--principal {arn}: give a role, role-session or user ARN"),
        help: Some(
            "for example arn:aws:iam::111122223333:role/app or arn:aws:iam::111122223333:user/dev".into(),
        ),
    }
}

/// The last `/`-separated part of an ARN (a role or session name).
fn last_part(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// The function, its execution role and the role's sessions named after the function.
pub fn function_target(source: &dyn AccountSource, function: &str) -> Result<Target, SourceError> {
    let loaded =
        source.load(&AccountNeeds { functions: vec![function.to_string()], ..Default::default() })?;
    function_target_in(&loaded.account, function)
}

/// [`function_target`] in an account already loaded.
pub fn function_target_in(account: &Account, function: &str) -> Result<Target, SourceError> {
    let function = account.function(function)?.clone();
    // The session is named after the function's real name (its ARN's), also when a source found it
    // under another name (a template's logical id).
    let session =
        function_name(if function.arn.is_empty() { &function.name } else { &function.arn }).to_string();
    let subject = account.role_subject(&function.role, &session).ok();
    let role = function.role.clone();
    let account_id = Principal::parse(&role).ok().and_then(|p| p.account);
    Ok(Target {
        filter: PrincipalFilter::Role {
            arn: role.clone(),
            name: last_part(&role).to_string(),
            session: Some(session.clone()),
        },
        label: format!("{role} (sessions named {session}: function {})", function.name),
        account: account_id,
        subject,
        function: Some(function),
    })
}

/// A principal ARN (role, role session or user) as a replay target, without reading the account.
pub fn principal_target(arn: &str) -> Result<Target, SourceError> {
    let p = parse_principal(arn)?;
    let filter = match p.kind {
        PrincipalKind::Role => PrincipalFilter::Role {
            arn: arn.to_string(),
            name: p.name.clone().unwrap_or_default(),
            session: None,
        },
        PrincipalKind::AssumedRole => PrincipalFilter::Role {
            arn: p.role_arn.clone().unwrap_or_default(),
            name: p.name.clone().unwrap_or_default(),
            session: Some(last_part(arn).to_string()),
        },
        PrincipalKind::User => PrincipalFilter::User { arn: arn.to_string() },
        _ => return Err(not_a_principal(arn)),
    };
    Ok(Target { filter, label: arn.to_string(), account: p.account.clone(), subject: None, function: None })
}

/// The current grant of a principal ARN (role, role session or user), read through the port.
pub fn principal_subject(source: &dyn AccountSource, arn: &str) -> Result<Subject, SourceError> {
    let p = parse_principal(arn)?;
    let account_id = p.account.clone().unwrap_or_default();
    match p.kind {
        PrincipalKind::User => {
            let loaded = source.load(&AccountNeeds { users: vec![arn.to_string()], ..Default::default() })?;
            let identity =
                CallerIdentity { account: account_id, arn: arn.to_string(), user_id: String::new() };
            Ok(loaded.account.identity_subject(&identity)?)
        }
        PrincipalKind::Role | PrincipalKind::AssumedRole => {
            let role_arn = p.role_arn.clone().unwrap_or_else(|| arn.to_string());
            let session = if p.kind == PrincipalKind::AssumedRole { last_part(arn) } else { "iamfit" };
            let loaded =
                source.load(&AccountNeeds { roles: vec![role_arn.clone()], ..Default::default() })?;
            Ok(loaded.account.role_subject(&role_arn, session)?)
        }
        _ => Err(not_a_principal(arn)),
    }
}

/// A principal ARN as a target with its current grant.
pub fn principal_target_with_subject(source: &dyn AccountSource, arn: &str) -> Result<Target, SourceError> {
    let mut target = principal_target(arn)?;
    target.subject = Some(principal_subject(source, arn)?);
    Ok(target)
}

/// The trust policy of a role (ARN, path-insensitive), read through the port: the resource-based
/// policy of `sts:AssumeRole` and its kin. `None` when the role has none or is not in the account.
pub fn role_trust_policy(
    source: &dyn AccountSource,
    role_arn: &str,
) -> Result<Option<iamfit_policy::eval::NamedPolicy>, SourceError> {
    let loaded = source.load(&AccountNeeds { roles: vec![role_arn.to_string()], ..Default::default() })?;
    Ok(loaded.account.role(role_arn).and_then(|role| {
        let trust = role.trust.as_ref()?;
        Some(iamfit_policy::eval::NamedPolicy {
            name: format!("trust policy of {}", role.name).into(),
            policy: trust.policy.clone(),
        })
    }))
}

/// The two sides of a parity question: the local principal's account and the function's.
#[derive(Debug, Clone)]
pub struct Sides {
    /// The account holding the local principal (`--profile`).
    pub local: Account,
    /// The account holding the function (the same one unless a second source was given).
    pub function: Account,
    /// What the user should know about how they were read.
    pub notes: Vec<String>,
}

/// Loads the local principal of `profile` and the function, from one source or from two (the
/// function read through `function_source`, as `--function-profile` does).
pub fn load_sides(
    local_source: &dyn AccountSource,
    function_source: Option<&dyn AccountSource>,
    profile: Option<&str>,
    function: Option<&str>,
) -> Result<Sides, SourceError> {
    let identity = profile.map(str::to_string);
    let functions: Vec<String> = function.map(str::to_string).into_iter().collect();
    match function_source {
        None => {
            let LoadedAccount { account, notes } =
                local_source.load(&AccountNeeds { identity, functions, ..Default::default() })?;
            Ok(Sides { local: account.clone(), function: account, notes })
        }
        Some(other) => {
            let local = local_source.load(&AccountNeeds { identity, ..Default::default() })?;
            let remote = other.load(&AccountNeeds { functions, ..Default::default() })?;
            let mut notes = local.notes;
            notes.extend(remote.notes);
            Ok(Sides { local: local.account, function: remote.account, notes })
        }
    }
}

/// Reads, through `source`, the resource policies of the resources `usage` shows that the
/// subjects' own policies do not name (those came with the account), and adds them to every
/// subject (an unreadable one is a note on each and makes it partial). Returns the source's notes
/// (the number of calls and their wall time, for a live source).
pub fn add_usage_resource_policies(
    source: &dyn AccountSource,
    subjects: &mut [&mut Subject],
    usage: &iamfit_trail::usage::Usage,
) -> Result<Vec<String>, SourceError> {
    let wanted: Vec<InPlay> = {
        let refs: Vec<&Subject> = subjects.iter().map(|s| &**s).collect();
        let named = in_play(&refs, None);
        in_play(&refs, Some(usage)).into_iter().filter(|r| !named.contains(r)).collect()
    };
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let read = source.resource_policies(&wanted)?;
    for s in subjects.iter_mut() {
        s.add_resource_policies(&read.policies, &read.unread);
    }
    Ok(read.notes)
}

/// The subjects of the principals `needs` names (the profile's identity, the functions' roles, the
/// roles and users), as far as the account resolves them.
pub fn needed_subjects(account: &Account, needs: &AccountNeeds) -> Vec<Subject> {
    let mut out = Vec::new();
    if let Some(id) = needs.identity.as_deref().and_then(|p| account.identity(p).ok()) {
        out.extend(account.identity_subject(id).ok());
    }
    for f in needs.functions.iter().filter_map(|f| account.function(f).ok()) {
        out.extend(account.role_subject(&f.role, function_name(&f.name)).ok());
    }
    out.extend(needs.roles.iter().filter_map(|r| account.role_subject(r, "session").ok()));
    for u in &needs.users {
        let id = CallerIdentity { arn: u.clone(), ..Default::default() };
        out.extend(account.identity_subject(&id).ok());
    }
    out
}
