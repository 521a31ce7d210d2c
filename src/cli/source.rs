//! Where account state comes from: the command line picks a source behind the core's
//! [`AccountSource`] port: a snapshot folder (`--snapshot`) or AWS (live, through the adapter crate).

use iamfit_aws::live::LiveOptions;
use iamfit_aws::sources::LiveAccount;
use iamfit_aws::stack::LiveManagedPolicies;
use iamfit_core::account::{Account, Subject};
use iamfit_core::resolve::{self, Target};
use iamfit_core::source::{AccountSource, SnapshotSource, SourceError};
use iamfit_template::{Settings, TemplateOverlay, TemplateSource};
use std::collections::BTreeMap;
use std::sync::OnceLock;

use super::trail::TrailArgs;
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
        org_profile: global.org_profile.clone(),
    }
}

/// The account source the global options name: the snapshot folder, or the live account; with
/// `--template`, the template over it (the template's functions and roles, the rest from the other).
pub fn account_source(global: &GlobalArgs) -> Result<Box<dyn AccountSource>, CliError> {
    Ok(match template_source(global) {
        Some(t) => Box::new(TemplateOverlay::new(t?, deployed_source(global))),
        None => deployed_source(global),
    })
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
        physical_ids: Default::default(),
    })
}

/// The `--template` source, when given. Without `--snapshot`, `--stack NAME` reads the deployed
/// stack's physical ids (the names CloudFormation generated), and `--stack` or `--profile` the AWS
/// managed policies the template attaches, from AWS (the embedded copy stays the fallback).
pub fn template_source(global: &GlobalArgs) -> Option<Result<TemplateSource, CliError>> {
    let path = global.template.as_ref()?;
    Some(template_settings(global).and_then(|mut settings| {
        let live = global.snapshot.is_none();
        if let (Some(stack), true) = (&global.stack, live) {
            settings.physical_ids = stack_physical_ids(global, stack)?;
        }
        let source = TemplateSource::new(path, settings);
        Ok(if live && (global.stack.is_some() || global.profile.is_some()) {
            source.with_managed_policies(std::sync::Arc::new(LiveManagedPolicies::new(live_options(global))))
        } else {
            source
        })
    }))
}

/// A stack read: the physical ids, or the message and hint of why not.
type StackRead = Result<BTreeMap<String, String>, (String, Option<String>)>;

/// The physical ids of the stack's resources, read once per run.
fn stack_physical_ids(global: &GlobalArgs, stack: &str) -> Result<BTreeMap<String, String>, CliError> {
    static READ: OnceLock<StackRead> = OnceLock::new();
    let read = READ.get_or_init(|| {
        iamfit_aws::stack::physical_ids(&live_options(global), stack).map_err(|e| {
            let err = source_error(e);
            (
                format!(
                    "--stack {stack}: the deployed stack's physical names could not be read: {}",
                    err.message
                ),
                err.hint,
            )
        })
    });
    read.clone().map_err(|(message, hint)| {
        CliError::usage(message).with_hint(hint.unwrap_or_else(|| {
            "give credentials that may call cloudformation:ListStackResources, or work offline with --snapshot DIR (logical ids then stand for generated names)".into()
        }))
    })
}

/// The `--template` source and its expansion (an error without `--template`).
fn expanded_template(global: &GlobalArgs) -> Result<(TemplateSource, iamfit_template::Expansion), CliError> {
    let template = template_source(global).ok_or_else(|| CliError::usage("--template needs a file"))??;
    let expansion = template.expand().map_err(source_error)?;
    Ok((template, expansion))
}

/// `generate --format terraform --template PLAN.json`: the role's inline policies replaced in the
/// `.tf` files next to the `terraform show -json` document, as a unified diff.
pub fn terraform_patch(
    global: &GlobalArgs,
    function: &str,
    documents: &[serde_json::Value],
    style: &super::Style,
) -> Result<String, CliError> {
    let (template, expansion) = expanded_template(global)?;
    let role = expansion.function(function).and_then(|f| f.role_logical_id.clone()).ok_or_else(|| {
        CliError::usage(format!("function {function}: its role is not an aws_iam_role of the Terraform document"))
            .with_hint("iamfit patches roles defined in the configuration; paste the printed policy instead (without --template)")
    })?;
    let dir =
        template.path().parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let files = iamfit_template::tf_patch::read_sources(dir)
        .map_err(|e| source_error(iamfit_template::source::source_error(e)))?;
    if files.is_empty() {
        return Err(CliError::usage(format!(
            "no .tf files in {}: the patch needs the configuration's source",
            dir.display()
        ))
        .with_hint("put the `terraform show -json` output next to the .tf files it came from"));
    }
    let patch = iamfit_template::tf_patch::write_role_policies(&files, &role, documents)
        .map_err(|e| source_error(iamfit_template::source::source_error(e)))?;
    if !global.quiet {
        style.note(&format!(
            "a patch to the .tf files in {} ({role}'s inline policies replaced; its attachments stay): apply it with `git apply` or `patch -p1`, then `terraform plan`",
            dir.display()
        ));
    }
    Ok(patch.diff)
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
    let template = template_source(global).transpose()?;
    if let (Some(template), Some(profile), None, Some(function)) =
        (&template, profile, &global.profile, function)
    {
        return load_drift(global, template, profile, function);
    }
    let local = account_source(global)?;
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
    let source = account_source(global)?;
    resolve::add_usage_resource_policies(source.as_ref(), subjects, usage).map_err(source_error)
}

/// The subject for a principal ARN (role, role session, or user), from the snapshot or AWS.
pub fn load_principal(global: &GlobalArgs, arn: &str) -> Result<Subject, CliError> {
    resolve::principal_subject(account_source(global)?.as_ref(), arn).map_err(source_error)
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
    let (template, expansion) = expanded_template(global)?;
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

/// `--function F` or `--principal ARN`: whose CloudTrail usage a command replays (usage, generate).
#[derive(Debug, Clone, clap::Args)]
pub struct PrincipalArgs {
    /// The Lambda function (its execution role's sessions named after the function). Without
    /// --function and --principal, every call of the --trail recordings (`exec --record`) is read.
    #[arg(long, value_name = "F", conflicts_with = "principal")]
    pub function: Option<String>,
    /// A role ARN (any session), an assumed-role session ARN, or an IAM user ARN.
    #[arg(long, value_name = "ARN")]
    pub principal: Option<String>,
}

/// The replay target for `--function` (with its role's current grant) or `--principal` (the ARN
/// alone; the grant is read only where a command needs it).
pub fn replay_target_of(
    function: Option<&str>,
    principal: Option<&str>,
    global: &GlobalArgs,
) -> Result<Target, CliError> {
    match function {
        Some(f) => resolve::function_target(account_source(global)?.as_ref(), f).map_err(source_error),
        None => resolve::principal_target(principal.unwrap_or_default()).map_err(source_error),
    }
}

/// The replay target of `usage` and `generate`: `--function`, `--principal`, or, when every `--trail`
/// is a recording of `exec --record`, every recorded call.
pub fn replay_target(
    who: &PrincipalArgs,
    trail: &TrailArgs,
    global: &GlobalArgs,
) -> Result<Target, CliError> {
    if who.function.is_some() || who.principal.is_some() {
        return replay_target_of(who.function.as_deref(), who.principal.as_deref(), global);
    }
    if trail.trails.is_empty() || !trail.trails.iter().all(|t| super::trail::is_recording(t)) {
        return Err(CliError::usage("give --function F or --principal ARN").with_hint(
            "only recordings of `iamfit exec --record` (--trail calls.jsonl) can be read without one",
        ));
    }
    Ok(Target {
        filter: iamfit_trail::PrincipalFilter::Any,
        label: format!("the calls recorded in {}", trail.trails.join(", ")),
        account: None,
        subject: None,
        function: None,
    })
}
