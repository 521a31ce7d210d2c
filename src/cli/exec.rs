//! `iamfit exec`: run a command locally with the function role's credentials and a Lambda-like
//! environment. Also the shared part of `iamfit credentials`: resolve the function, assume its role,
//! and explain a refusal.
//!
//! Credentials in environment variables cannot change inside a running process: a run that outlives
//! them (at most `--duration-seconds`, by default one hour) starts failing with expired-token errors.
//! With `--refresh`, no static keys are set; instead the child gets `AWS_CONFIG_FILE` pointing at a
//! temporary config whose profile runs `iamfit credentials` as its `credential_process`, and
//! `AWS_PROFILE` naming that profile, so AWS SDKs fetch fresh credentials themselves.

use std::path::PathBuf;
use std::process::ExitCode;

use iamfit_aws::record::{RecordOptions, Recorder, RunIdentity};
use iamfit_aws::sts;
use iamfit_aws::sts::{AssumeError, Assumed};
use iamfit_core::local_run::{child_environment, ChildCredentials, LocalRun};
use iamfit_core::source::SourceError;
use iamfit_core::trust;

use super::source::{live_options, load_accounts, source_error};
use super::{CliError, CliResult, GlobalArgs, Style};

/// Options shared by `exec` and `credentials`.
#[derive(Debug, Clone, clap::Args)]
pub struct RoleArgs {
    /// The function whose execution role to assume (name or ARN). Required, except for
    /// `exec --as-caller`.
    #[arg(long, value_name = "F")]
    pub function: Option<String>,
    /// Limit the session with a session policy: a policy FILE, or `minimal` for the policy
    /// `iamfit generate` produces from the trail (needs --trail, or --snapshot's CloudTrail).
    #[arg(long, value_name = "minimal|FILE")]
    pub session_policy: Option<String>,
    #[command(flatten)]
    pub trail: super::trail::TrailArgs,
    /// How long the credentials last (900 up to the role's maximum session duration).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(900..=43200))]
    pub duration_seconds: Option<i32>,
}

impl RoleArgs {
    /// `--function`, which every use but `exec --as-caller` needs.
    pub fn function(&self) -> Result<&str, CliError> {
        self.function.as_deref().ok_or_else(|| {
            CliError::usage("--function F is required").with_hint("name the function whose role to use (or, for exec, run as yourself with --as-caller --record FILE)")
        })
    }
}

/// Arguments of `iamfit exec`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  iamfit exec --function orders --profile dev -- python handler_test.py\n  iamfit exec --function orders --refresh -- ./long-running-job\n  iamfit exec --function orders --record calls.jsonl -- pytest tests/integration\n  iamfit exec --as-caller --record calls.jsonl -- python new_handler_test.py\n\nCredentials in environment variables cannot be refreshed inside a running process; use --refresh for runs longer than --duration-seconds."
)]
pub struct ExecArgs {
    #[command(flatten)]
    pub role: RoleArgs,
    /// Do not pass the function's own environment variables to the command.
    #[arg(long)]
    pub no_function_env: bool,
    /// Let SDKs refresh credentials: set AWS_CONFIG_FILE/AWS_PROFILE to a temporary profile whose
    /// credential_process runs `iamfit credentials` (no static keys in the environment).
    #[arg(long, conflicts_with = "record")]
    pub refresh: bool,
    /// Also record every AWS call of the command in FILE (JSON lines: action, resources, allowed or
    /// denied), through a local endpoint the command's SDKs reach via AWS_ENDPOINT_URL.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Run the command with your own credentials instead of the role's, and record its calls (with
    /// --record): what new code needs before its role exists. --function is then optional.
    #[arg(long, requires = "record", conflicts_with_all = ["session_policy", "duration_seconds"])]
    pub as_caller: bool,
    /// The command and its arguments.
    #[arg(required = true, last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// The session policy: a file, or `minimal` (generated from the trail, as `iamfit generate` does),
/// checked against STS's limit.
pub fn session_policy(
    global: &GlobalArgs,
    args: &RoleArgs,
    style: &Style,
) -> Result<Option<String>, CliError> {
    let Some(arg) = args.session_policy.as_deref() else { return Ok(None) };
    if arg == "minimal" {
        return minimal_policy(global, args, style).map(Some);
    }
    let text = std::fs::read_to_string(arg)
        .map_err(|e| CliError::usage(format!("--session-policy {arg}: cannot read the file: {e}")))?;
    trust::check_session_policy(&text)
        .map(Some)
        .map_err(|e| CliError::usage(format!("--session-policy {arg}: {e}")))
}

/// The minimal policy for the function, from its CloudTrail usage, as one session policy.
fn minimal_policy(global: &GlobalArgs, args: &RoleArgs, style: &Style) -> Result<String, CliError> {
    use iamfit_core::analyze::generate::{generate, render, Format, Options};
    // The function's role and usage are read with the caller's own credentials (or the snapshot).
    let function = args.function()?;
    let target = super::source::replay_target_of(Some(function), None, global)?;
    let Some(r) =
        super::trail::replay(&args.trail, global, &target.filter, target.account.as_deref(), style)?
    else {
        return Err(CliError::usage("--session-policy minimal needs the function's CloudTrail usage")
            .with_hint("add --trail lookup, --trail s3://BUCKET/PREFIX or --trail PATH"));
    };
    let options = Options { lambda_runtime: true, ..Options::default() };
    let g = generate(&r.usage, target.subject.as_ref(), iamfit_catalog::Catalog::get(), &options);
    if g.documents.is_empty() {
        return Err(CliError::usage("--session-policy minimal: the trail shows no permitted call of the function, so the policy would be empty"));
    }
    if g.documents.len() > 1 {
        return Err(CliError::usage(format!(
            "--session-policy minimal: the minimal policy needs {} managed policies; a session policy is one document",
            g.documents.len()
        ))
        .with_hint("narrow the window (--since) or use --session-policy FILE with a smaller policy"));
    }
    let text = render(&g, Format::Iam, function);
    if !global.quiet {
        style.note(&format!(
            "session policy: the minimal policy from {} calls of the function",
            r.usage.matched
        ));
    }
    trust::check_session_policy(&text).map_err(|e| {
        CliError::usage(format!("--session-policy minimal: {e}"))
            .with_hint("the minimal policy is larger than STS allows for a session policy: write a coarser one with `iamfit generate --granularity wildcard > p.json` and pass --session-policy p.json")
    })
}

/// Resolves the function and assumes its role. On a refusal, explains which side denies.
pub fn assume_for(global: &GlobalArgs, args: &RoleArgs, policy: Option<String>) -> Result<Assumed, CliError> {
    if global.snapshot.is_some() {
        return Err(CliError::usage("this command needs AWS: it assumes the role (drop --snapshot)"));
    }
    let function = args.function()?;
    match sts::assume_function_role(&live_options(global), function, policy, args.duration_seconds) {
        Ok(a) => Ok(a),
        Err(AssumeError::Denied(e)) => Err(explain_denied(global, function, e)),
        Err(AssumeError::Other(e)) => Err(source_error(e)),
    }
}

/// AssumeRole was refused: run the trust analysis and say which side denies and the fix.
fn explain_denied(global: &GlobalArgs, function: &str, e: SourceError) -> CliError {
    let base = CliError::other(e.to_string());
    match analyze(global, function) {
        Ok(a) => {
            let side = match a.denying {
                Some(trust::DenyingSide::Trust) => "the role's trust policy does not allow you",
                Some(trust::DenyingSide::Identity) => "your identity policies do not allow sts:AssumeRole on the role",
                Some(trust::DenyingSide::Both) => {
                    "neither the role's trust policy nor your identity policies allow it"
                }
                None => "iamfit's evaluation allows it; a condition, an SCP or a session limit may refuse it",
            };
            let mut hint = format!("{side} (see `iamfit trust --function {function}`)");
            if let Some(s) = &a.fix_statement {
                hint.push_str(&format!("; trust statement that would allow exactly you: {s}; warning: {}", trust::TRUST_WARNING));
            }
            if let Some(s) = &a.fix_identity {
                hint.push_str(&format!("; identity statement you need: {s}"));
            }
            base.with_hint(hint)
        }
        Err(_) => base.with_hint(format!(
            "either the role's trust policy does not allow you or your identity policies do not allow sts:AssumeRole; `iamfit trust --function {function}` tells which"
        )),
    }
}

/// The trust analysis for the `--profile` principal and the function's role.
pub fn analyze(global: &GlobalArgs, function: &str) -> Result<trust::TrustAnalysis, CliError> {
    let profile = global.profile.clone().unwrap_or_else(|| "default".to_string());
    let loaded = load_accounts(global, Some(&profile), Some(function), None)?;
    let account = &loaded.local_account;
    let f = account.function(function).map_err(|e| CliError::usage(e.to_string()))?;
    let role = account
        .role(&f.role)
        .ok_or_else(|| CliError::other(format!("the role {} of {function} could not be read", f.role)))?;
    let identity = account.identity(&profile).map_err(|e| CliError::usage(e.to_string()))?;
    let subject = account.identity_subject(identity).map_err(|e| CliError::usage(e.to_string()))?;
    Ok(trust::analyze_trust(&subject, role))
}

/// `iamfit credentials ...` arguments that reproduce this run (for `--refresh`).
fn credentials_command(global: &GlobalArgs, args: &RoleArgs) -> Result<Vec<String>, CliError> {
    let exe = std::env::current_exe()
        .map_err(|e| CliError::other(format!("cannot find the iamfit binary: {e}")))?;
    let mut cmd = vec!["env".to_string()];
    // The child's AWS_CONFIG_FILE / AWS_PROFILE point at the temporary profile; give iamfit the user's.
    let config = std::env::var("AWS_CONFIG_FILE")
        .ok()
        .or_else(|| dirs::home_dir().map(|h| h.join(".aws").join("config").to_string_lossy().into_owned()));
    cmd.push("-u".into());
    cmd.push("AWS_PROFILE".into());
    if let Some(c) = config {
        cmd.push(format!("AWS_CONFIG_FILE={c}"));
    }
    cmd.push(exe.to_string_lossy().into_owned());
    cmd.push("credentials".into());
    cmd.extend(["--function".to_string(), args.function()?.to_string()]);
    let profile = global.profile.clone().ok_or_else(|| {
        CliError::usage("--refresh needs a profile (--profile or AWS_PROFILE) for iamfit credentials to use")
    })?;
    cmd.extend(["--profile".to_string(), profile]);
    if let Some(r) = &global.region {
        cmd.extend(["--region".to_string(), r.clone()]);
    }
    if let Some(e) = &global.endpoint_url {
        cmd.extend(["--endpoint-url".to_string(), e.clone()]);
    }
    if let Some(p) = &args.session_policy {
        let abs =
            std::fs::canonicalize(p).map(|p| p.to_string_lossy().into_owned()).unwrap_or_else(|_| p.clone());
        cmd.extend(["--session-policy".to_string(), abs]);
    }
    if let Some(d) = args.duration_seconds {
        cmd.extend(["--duration-seconds".to_string(), d.to_string()]);
    }
    Ok(cmd)
}

fn quote(arg: &str) -> String {
    if !arg.is_empty() && arg.chars().all(|c| c.is_ascii_alphanumeric() || "/._-=:@,+".contains(c)) {
        arg.to_string()
    } else {
        format!("\"{}\"", arg.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// Writes the temporary config (mode 0600) for `--refresh`; returns its path and the profile name.
fn refresh_config(global: &GlobalArgs, args: &RoleArgs, region: &str) -> Result<(PathBuf, String), CliError> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let command = credentials_command(global, args)?;
    let dir = trust::cache_dir().ok_or_else(|| CliError::other("no cache folder: set IAMFIT_CACHE_DIR"))?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|e| CliError::other(format!("cannot create {}: {e}", dir.display())))?;
    let path = dir.join(format!("exec-{}.config", std::process::id()));
    let name: String = format!("iamfit-{}", iamfit_core::account::function_name(args.function()?))
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "-_".contains(c) { c } else { '-' })
        .collect();
    let text = format!(
        "[profile {name}]\nregion = {region}\ncredential_process = {}\n",
        command.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")
    );
    let _ = std::fs::remove_file(&path);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| CliError::other(format!("cannot write {}: {e}", path.display())))?;
    Ok((path, name))
}

pub fn run(args: &ExecArgs, global: &GlobalArgs, style: &Style) -> CliResult {
    if args.as_caller {
        return run_as_caller(args, global, style);
    }
    let policy = session_policy(global, &args.role, style)?;
    let assumed = assume_for(global, &args.role, policy)?;
    let f = &assumed.function;
    let refresh =
        if args.refresh { Some(refresh_config(global, &args.role, &assumed.region)?) } else { None };
    let credentials = match &refresh {
        Some((path, profile)) => {
            ChildCredentials::Profile { config_file: path.to_str().unwrap_or_default(), profile }
        }
        None => ChildCredentials::Environment(&assumed.credentials),
    };
    let env = child_environment(&LocalRun {
        function: f,
        region: &assumed.region,
        memory_size: assumed.memory_size,
        credentials,
        // Recording points the child at the recorder instead (see run_recorded).
        endpoint_url: if args.record.is_some() { None } else { global.endpoint_url.as_deref() },
        function_variables: !args.no_function_env,
    });
    let mut cmd = std::process::Command::new(&args.command[0]);
    cmd.args(&args.command[1..]);
    for var in &env.remove {
        cmd.env_remove(var);
    }
    cmd.envs(env.set.iter().map(|(k, v)| (k, v)));
    let temp_config = refresh.map(|(path, _)| path);
    if !global.quiet && !args.refresh {
        style.note(&format!(
            "running as {} until {} (environment credentials are not refreshed; use --refresh for longer runs)",
            f.role, assumed.credentials.expiration
        ));
    }
    let status = match &args.record {
        Some(out) => {
            let identity = RunIdentity::assumed(&assumed.session_arn, &assumed.credentials);
            let function = iamfit_core::account::function_name(&f.name).to_string();
            run_recorded(cmd, args, global, style, out, identity, Some(function))
        }
        None => run_child(cmd, &args.command[0]),
    };
    if let Some(p) = temp_config {
        let _ = std::fs::remove_file(p);
    }
    status
}

/// The child's command, without the caller's profile and stale credential variables.
fn child_command(args: &ExecArgs) -> std::process::Command {
    let mut cmd = std::process::Command::new(&args.command[0]);
    cmd.args(&args.command[1..]);
    for var in ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN", "AWS_CREDENTIAL_EXPIRATION"] {
        cmd.env_remove(var);
    }
    cmd
}

/// `--as-caller --record`: the child runs with the caller's own credentials (resolved as the AWS CLI
/// resolves them) and its calls are recorded.
fn run_as_caller(args: &ExecArgs, global: &GlobalArgs, style: &Style) -> CliResult {
    if global.snapshot.is_some() {
        return Err(CliError::usage("exec needs AWS (drop --snapshot)"));
    }
    let Some(out) = &args.record else {
        return Err(CliError::usage("--as-caller needs --record FILE"));
    };
    let (identity, region) =
        iamfit_aws::record::caller_identity(&live_options(global)).map_err(source_error)?;
    let mut cmd = child_command(args);
    cmd.env("AWS_ACCESS_KEY_ID", &identity.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &identity.secret_access_key);
    match &identity.session_token {
        Some(t) => cmd.env("AWS_SESSION_TOKEN", t),
        None => cmd.env_remove("AWS_SESSION_TOKEN"),
    };
    if let Some(e) = &identity.expiration {
        cmd.env("AWS_CREDENTIAL_EXPIRATION", e);
    }
    if let Some(r) = global.region.clone().or(region) {
        cmd.env("AWS_REGION", &r).env("AWS_DEFAULT_REGION", &r);
    }
    let function = args.role.function.as_deref().map(|f| iamfit_core::account::function_name(f).to_string());
    if let Some(f) = &function {
        cmd.env("AWS_LAMBDA_FUNCTION_NAME", f);
    }
    if !global.quiet {
        style.note(&format!("running as yourself ({}), recording the calls", identity.principal));
    }
    run_recorded(cmd, args, global, style, out, identity, function)
}

/// Runs the child through the recorder, then prints the summary.
fn run_recorded(
    mut cmd: std::process::Command,
    args: &ExecArgs,
    global: &GlobalArgs,
    style: &Style,
    out: &std::path::Path,
    identity: RunIdentity,
    function: Option<String>,
) -> CliResult {
    let opts = RecordOptions {
        out: out.to_path_buf(),
        identity,
        function,
        endpoint_url: global.endpoint_url.clone(),
    };
    let recorder = Recorder::start(&opts).map_err(|e| CliError::other(e.to_string()))?;
    // The recorder is the one endpoint; service-specific endpoints would go around it.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("AWS_ENDPOINT_URL_") || key == "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS" {
            cmd.env_remove(key.as_ref());
        }
    }
    cmd.env("AWS_ENDPOINT_URL", recorder.endpoint_url());
    let status = run_child(cmd, &args.command[0]);
    let summary = recorder.finish(std::time::Duration::from_secs(2));
    if !global.quiet {
        for line in summary.describe(&out.display().to_string()) {
            style.note(&line);
        }
    }
    if summary.write_failures > 0 {
        style.warn(&format!("{} call(s) could not be written to {}", summary.write_failures, out.display()));
    }
    status
}

/// Runs the child, forwarding SIGINT/SIGTERM/SIGHUP to it, and returns its exit status
/// (128 + signal when a signal ended it).
fn run_child(cmd: std::process::Command, name: &str) -> CliResult {
    let code = iamfit_aws::process::run_forwarding_signals(cmd, name).map_err(CliError::other)?;
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}
