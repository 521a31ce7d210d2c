//! Where account state comes from: the command line picks a source behind the core's
//! [`AccountSource`] port: a snapshot folder (`--snapshot`) or AWS (live, through the adapter crate).

use iamfit_aws::live::LiveOptions;
use iamfit_aws::sources::LiveAccount;
use iamfit_core::account::{Account, Subject};
use iamfit_core::resolve;
use iamfit_core::source::{AccountSource, SnapshotSource, SourceError};
use iamfit_template::{Settings, TemplateOverlay, TemplateSource};

use super::{CliError, GlobalArgs};

/// The accounts of the local principal and of the function (the same account unless
/// `--function-profile` reads the function elsewhere), with notes about how they were read.
pub struct Loaded {
    /// The account holding the local principal (`--profile`).
    pub local_account: Account,
    /// The account holding the function.
    pub function_account: Account,
    /// What the user should know about the data.
    pub notes: Vec<String>,
}

/// The global options' AWS settings (`--profile`, `--region`, `--endpoint-url`).
pub fn live_options(global: &GlobalArgs) -> LiveOptions {
    LiveOptions {
        profile: global.profile.clone(),
        region: global.region.clone(),
        endpoint_url: global.endpoint_url.clone(),
    }
}

/// The account source the global options name: the snapshot folder, or the live account; with
/// `--template`, the template over it (the template's functions and roles, the rest from the other).
pub fn account_source(global: &GlobalArgs) -> Box<dyn AccountSource> {
    match template_source(global) {
        Some(Ok(t)) => Box::new(TemplateOverlay::new(t, deployed_source(global))),
        _ => deployed_source(global),
    }
}

/// The snapshot folder or the live account, without the template.
pub fn deployed_source(global: &GlobalArgs) -> Box<dyn AccountSource> {
    match &global.snapshot {
        Some(dir) => Box::new(SnapshotSource::new(dir)),
        None => Box::new(LiveAccount::new(live_options(global))),
    }
}

/// What a template is expanded for: `--parameter`, `--account`, `--region`, `--stack`.
pub fn template_settings(global: &GlobalArgs) -> Result<Settings, CliError> {
    let defaults = Settings::default();
    let mut parameters = Vec::new();
    for p in &global.parameters {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| CliError::usage(format!("--parameter {p:?}: expected KEY=VALUE")))?;
        parameters.push((k.to_string(), v.to_string()));
    }
    Ok(Settings {
        account: global.account.clone().unwrap_or(defaults.account),
        region: global.region.clone().unwrap_or(defaults.region),
        stack: global.stack.clone().unwrap_or(defaults.stack),
        parameters,
    })
}

/// The `--template` source, when given.
pub fn template_source(global: &GlobalArgs) -> Option<Result<TemplateSource, CliError>> {
    let path = global.template.as_ref()?;
    Some(template_settings(global).map(|s| TemplateSource::new(path, s)))
}

/// Turns a source failure into one clear line, its hint, and (for `-v`) the detail.
pub fn source_error(e: SourceError) -> CliError {
    let mut err = CliError::other(e.to_string());
    if let Some(h) = e.help() {
        err = err.with_hint(h);
    }
    if let Some(d) = e.detail() {
        err = err.with_detail(d);
    }
    err
}

/// Loads what `diff` needs: the profile's principal and the function with its role.
pub fn load_accounts(
    global: &GlobalArgs,
    profile: Option<&str>,
    function: Option<&str>,
    function_profile: Option<&str>,
) -> Result<Loaded, CliError> {
    if let Some(Err(e)) = template_source(global) {
        return Err(e);
    }
    if let (Some(Ok(template)), Some(profile), None, Some(function)) =
        (template_source(global), profile, &global.profile, function)
    {
        return load_drift(global, &template, profile, function);
    }
    let local = account_source(global);
    let other: Option<Box<dyn AccountSource>> = match (function_profile, &global.snapshot) {
        (Some(p), None) => Some(Box::new(LiveAccount::new(LiveOptions {
            profile: Some(p.to_string()),
            ..live_options(global)
        }))),
        _ => None,
    };
    let sides =
        resolve::load_sides(local.as_ref(), other.as_deref(), profile, function).map_err(source_error)?;
    Ok(Loaded { local_account: sides.local, function_account: sides.function, notes: sides.notes })
}

/// Adds to the subjects the resource policies of the resources the trail shows (read live; a
/// snapshot already holds every policy it has); returns the notes.
pub fn trail_resource_policies(
    global: &GlobalArgs,
    subjects: &mut [&mut Subject],
    usage: &iamfit_trail::usage::Usage,
) -> Result<Vec<String>, CliError> {
    resolve::add_usage_resource_policies(account_source(global).as_ref(), subjects, usage)
        .map_err(source_error)
}

/// The subject for a principal ARN (role, role session, or user), from the snapshot or AWS.
pub fn load_principal(global: &GlobalArgs, arn: &str) -> Result<Subject, CliError> {
    resolve::principal_subject(account_source(global).as_ref(), arn).map_err(source_error)
}

/// Drift (`diff --template T --function F` without `--profile`): the template's role of F stands as the
/// local side (a session of it, under the profile name `profile`), the deployed function (snapshot or
/// live) as the function side.
fn load_drift(
    global: &GlobalArgs,
    template: &TemplateSource,
    profile: &str,
    function: &str,
) -> Result<Loaded, CliError> {
    use iamfit_core::source::AccountNeeds;
    let expansion = template.expand().map_err(source_error)?;
    let path = template.path().display().to_string();
    let tf = expansion.function(function).ok_or_else(|| {
        let known: Vec<&str> = expansion.functions.iter().map(|f| f.logical_id.as_str()).collect();
        CliError::usage(format!(
            "function {function} is not in the template {path} (it has: {})",
            known.join(", ")
        ))
    })?;
    let model = expansion.account.function(&tf.name).map_err(|e| CliError::usage(e.to_string()))?;
    let role = expansion.account.role(&model.role).ok_or_else(|| {
        CliError::usage(format!("the role {} of {function} is not in the template", model.role))
    })?;
    let (partition, account_id) = {
        let parts: Vec<&str> = role.arn.split(':').collect();
        (
            parts.get(1).copied().unwrap_or("aws").to_string(),
            parts.get(4).copied().unwrap_or_default().to_string(),
        )
    };
    let mut local_account = expansion.account.clone();
    local_account.identities.push((
        profile.to_string(),
        iamfit_core::account::CallerIdentity {
            account: account_id.clone(),
            arn: format!("arn:{partition}:sts::{account_id}:assumed-role/{}/{}", role.name, tf.name),
            user_id: String::new(),
        },
    ));
    let deployed = deployed_source(global);
    let loaded = deployed
        .load(&AccountNeeds { functions: vec![function.to_string()], ..Default::default() })
        .or_else(|_| deployed.load(&AccountNeeds { functions: vec![tf.name.clone()], ..Default::default() }))
        .map_err(source_error)?;
    let mut function_account = loaded.account;
    let stack_prefix = global.stack.as_ref().map(|s| format!("{s}-{}-", tf.logical_id));
    if function_account.function(function).is_err() {
        let found = function_account
            .functions
            .iter()
            .find(|f| {
                f.name == tf.name
                    || stack_prefix.as_ref().is_some_and(|p| f.name.starts_with(p.as_str()))
                    || f.name.contains(&format!("-{}-", tf.logical_id))
            })
            .cloned();
        if let Some(f) = found {
            function_account
                .functions
                .push(iamfit_core::account::Function { name: function.to_string(), ..f });
        }
    }
    let mut notes = loaded.notes;
    notes.push(format!(
        "drift: the local side is the role {} that {path} gives {function}; the function side is the deployed function (no --profile given)",
        role.name
    ));
    notes.extend(expansion.all_notes(&path));
    Ok(Loaded { local_account, function_account, notes })
}

/// `generate --template T --function F --format sam|cloudformation`: the template with F's policies
/// replaced by `documents`, as a unified diff (every other byte unchanged).
pub fn template_patch(
    global: &GlobalArgs,
    function: &str,
    sam: bool,
    documents: &[serde_json::Value],
    style: &super::Style,
) -> Result<String, CliError> {
    let Some(Ok(template)) = template_source(global) else {
        return Err(CliError::usage("--template needs a file"));
    };
    let expansion = template.expand().map_err(source_error)?;
    let path = template.path().display().to_string();
    let logical_id =
        expansion.function(function).map(|f| f.logical_id.clone()).unwrap_or_else(|| function.to_string());
    let text = std::fs::read_to_string(template.path())
        .map_err(|e| CliError::usage(format!("cannot read {path}: {e}")))?;
    let target = if sam {
        iamfit_template::patch::Target::Sam
    } else {
        iamfit_template::patch::Target::CloudFormation
    };
    let patch = iamfit_template::patch::write_policies(&text, &path, &logical_id, target, documents)
        .map_err(|e| source_error(iamfit_template::source::source_error(e)))?;
    if !global.quiet {
        style.note(&format!(
            "a patch to {path}: apply it with `git apply` or `patch -p1` (every other byte of the template is unchanged)"
        ));
    }
    Ok(patch.diff)
}
