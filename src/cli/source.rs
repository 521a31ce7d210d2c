//! Where account state comes from: a snapshot folder (`--snapshot`) or AWS (live, through the SDK).

use iamfit::account::live::{self, LiveError, LiveOptions};
use iamfit::account::{snapshot, Account};

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

/// A runtime for the SDK's async calls.
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .map_err(|e| CliError::other(format!("cannot start the async runtime: {e}")))
}

/// Turns an AWS read failure into one clear line and a hint.
pub fn live_error(e: LiveError) -> CliError {
    let hint = match &e {
        LiveError::AccessDenied { .. } => Some(
            "iamfit reads with iam:Get*/iam:List* (role, user, group and policy reads), lambda:GetFunctionConfiguration and sts:GetCallerIdentity; the AWS managed policy IAMReadOnlyAccess covers the IAM part",
        ),
        LiveError::NotFound { what: "function", .. } => Some("check the function name and the region (--region)"),
        LiveError::Setup(_) => Some("check --profile, --region and your AWS configuration (`aws sts get-caller-identity --profile NAME`)"),
        _ => None,
    };
    let err = CliError::other(e.to_string());
    match hint {
        Some(h) => err.with_hint(h),
        None => err,
    }
}

fn region_of(function: &str) -> Option<String> {
    function
        .strip_prefix("arn:")
        .and_then(|_| function.split(':').nth(3))
        .filter(|r| !r.is_empty())
        .map(str::to_string)
}

/// Loads what `diff` needs: the profile's principal and the function with its role.
pub fn load_accounts(
    global: &GlobalArgs,
    profile: Option<&str>,
    function: Option<&str>,
    function_profile: Option<&str>,
) -> Result<Loaded, CliError> {
    if let Some(dir) = &global.snapshot {
        let account = snapshot::load(dir).map_err(|e| {
            CliError::usage(e.to_string()).with_hint("a snapshot holds account.json, functions/NAME.json and identities/PROFILE.json (see the README)")
        })?;
        return Ok(Loaded {
            local_account: account.clone(),
            function_account: account,
            notes: vec![format!("offline: account state read from the snapshot {}", dir.display())],
        });
    }
    let rt = runtime()?;
    rt.block_on(async {
        let mut local_opts = live_options(global);
        local_opts.region = local_opts.region.or_else(|| function.and_then(region_of));
        let local_config = live::sdk_config(&local_opts).await.map_err(live_error)?;
        let identity = live::caller_identity(&local_config).await.map_err(live_error)?;
        let mut notes = vec![format!("live: read from AWS as {}", identity.arn)];
        let mut local_account = Account::default();
        let mut function_account = Account::default();
        let (fn_config, separate) = match function_profile {
            Some(p) => {
                let opts = LiveOptions { profile: Some(p.to_string()), ..local_opts.clone() };
                (live::sdk_config(&opts).await.map_err(live_error)?, true)
            }
            None => (local_config.clone(), false),
        };
        let targeted = async {
            if let Some(profile) = profile {
                live::add_identity(&local_config, &mut local_account, profile, identity.clone()).await?;
            }
            if let Some(function) = function {
                let target = if separate { &mut function_account } else { &mut local_account };
                live::add_function(&fn_config, target, function).await?;
            }
            Ok(())
        };
        if let Err(e) = targeted.await {
            // Targeted reads refused: GetAccountAuthorizationDetails may still be allowed.
            let LiveError::AccessDenied { .. } = e else { return Err(live_error(e)) };
            let details = live::authorization_details(&fn_config).await.map_err(|_| live_error(e.clone()))?;
            notes.push(format!("targeted IAM reads were refused ({e}); read the account with GetAccountAuthorizationDetails instead"));
            local_account = details;
            if let Some(profile) = profile {
                local_account.identities.push((profile.to_string(), identity));
            }
            if let Some(function) = function {
                local_account.functions.push(live::function(&fn_config, function).await.map_err(live_error)?);
            }
            function_account = local_account.clone();
            return Ok(Loaded { local_account, function_account, notes });
        }
        if !separate {
            function_account = local_account.clone();
        }
        Ok(Loaded { local_account, function_account, notes })
    })
}

/// The subject for a principal ARN (role, role session, or user), from the snapshot or AWS.
pub fn load_principal(global: &GlobalArgs, arn: &str) -> Result<iamfit::account::Subject, CliError> {
    use iamfit::eval::{Principal, PrincipalKind};
    let p = Principal::parse(arn).map_err(|e| CliError::usage(format!("--principal: {e}")))?;
    let account = match &global.snapshot {
        Some(dir) => snapshot::load(dir).map_err(|e| CliError::usage(e.to_string()))?,
        None => {
            let rt = runtime()?;
            rt.block_on(async {
                let config = live::sdk_config(&live_options(global)).await?;
                let mut account = Account::default();
                match p.kind {
                    PrincipalKind::User => {
                        let id =
                            iamfit::account::CallerIdentity { arn: arn.to_string(), ..Default::default() };
                        live::add_identity(&config, &mut account, "principal", id).await?;
                    }
                    _ => live::add_role(&config, &mut account, p.role_arn.as_deref().unwrap_or(arn)).await?,
                }
                Ok::<_, LiveError>(account)
            })
            .map_err(live_error)?
        }
    };
    let subject = match p.kind {
        PrincipalKind::User => account.identity_subject(&iamfit::account::CallerIdentity {
            arn: arn.to_string(),
            ..Default::default()
        }),
        PrincipalKind::Role | PrincipalKind::AssumedRole => {
            let session = if p.kind == PrincipalKind::AssumedRole {
                arn.rsplit('/').next().unwrap_or("session")
            } else {
                "session"
            };
            account.role_subject(p.role_arn.as_deref().unwrap_or(arn), session)
        }
        _ => {
            return Err(CliError::usage(format!("--principal {arn}: give a role, role-session or user ARN")))
        }
    };
    subject.map_err(|e| CliError::usage(e.to_string()))
}
