//! [`TemplateSource`]: a template behind the core's [`AccountSource`] port (`--template FILE`).

use std::path::{Path, PathBuf};

use std::sync::Arc;

use iamfit_core::source::{AccountNeeds, AccountSource, LoadedAccount, ManagedPolicySource, SourceError};

use crate::{expand_file, Expansion, Settings, TemplateError};

/// A SAM / CloudFormation template or a `terraform show -json` document as an account source.
#[derive(Clone)]
pub struct TemplateSource {
    path: PathBuf,
    settings: Settings,
    managed: Option<Arc<dyn ManagedPolicySource>>,
}

impl std::fmt::Debug for TemplateSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemplateSource")
            .field("path", &self.path)
            .field("settings", &self.settings)
            .field("managed_live", &self.managed.is_some())
            .finish()
    }
}

impl TemplateSource {
    /// A source reading the template at `path`, expanded for `settings`.
    pub fn new(path: impl Into<PathBuf>, settings: Settings) -> Self {
        TemplateSource { path: path.into(), settings, managed: None }
    }

    /// Reads the AWS managed policies the template attaches from `live` (the embedded copy stays
    /// the fallback when a read fails, and a note says which was used).
    pub fn with_managed_policies(mut self, live: Arc<dyn ManagedPolicySource>) -> Self {
        self.managed = Some(live);
        self
    }

    /// The template file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Expands the template.
    pub fn expand(&self) -> Result<Expansion, SourceError> {
        let mut expansion = expand_file(&self.path, &self.settings).map_err(source_error)?;
        if let Some(live) = &self.managed {
            use_live_managed_policies(&mut expansion, live.as_ref());
        }
        Ok(expansion)
    }
}

/// Replaces the embedded copies of the AWS managed policies the roles attach with their live
/// default versions; a failed read keeps the copy, and a note says what was used.
fn use_live_managed_policies(expansion: &mut Expansion, live: &dyn ManagedPolicySource) {
    let mut arns: Vec<String> = expansion
        .account
        .roles
        .iter()
        .flat_map(|r| r.attached.iter())
        .filter(|a| a.contains(":iam::aws:policy/"))
        .cloned()
        .collect();
    arns.sort();
    arns.dedup();
    if arns.is_empty() {
        return;
    }
    match live.managed_policies(&arns) {
        Ok(policies) => {
            let n = policies.len();
            for p in policies {
                expansion.account.policies.retain(|x| x.arn != p.arn);
                expansion.account.policies.push(p);
            }
            expansion.notes.retain(|n| !n.starts_with("AWS managed policies read from the embedded copy"));
            expansion.notes.push(format!("{n} AWS managed policies read live (their default versions)"));
        }
        Err(e) => expansion
            .notes
            .push(format!("AWS managed policies could not be read live ({e}): the embedded copy is used")),
    }
}

/// A template error as the port's input error (exit status 2), with its hint.
pub fn source_error(e: TemplateError) -> SourceError {
    let help = e.help();
    SourceError::Input { message: e.to_string(), help }
}

impl AccountSource for TemplateSource {
    fn load(&self, needs: &AccountNeeds) -> Result<LoadedAccount, SourceError> {
        let expansion = self.expand()?;
        let path = self.path.display().to_string();
        let mut notes = vec![format!("account state expanded from the template {path}")];
        notes.extend(expansion.all_notes(&path));
        let mut account = expansion.account;
        for wanted in &needs.functions {
            if let Some(f) = expansion.functions.iter().find(|f| f.logical_id == *wanted && f.name != *wanted)
            {
                if let Some(model) = account.functions.iter().find(|m| m.name == f.name).cloned() {
                    notes.push(format!("function {wanted} is the template's logical id of {}", f.name));
                    account.functions.push(iamfit_core::account::Function { name: wanted.clone(), ..model });
                }
            }
        }
        Ok(LoadedAccount { account, notes })
    }
}

/// A template over another source (a snapshot or the live account): the template gives the functions,
/// roles and policies it defines; the other source everything else (the `--profile` identity, users,
/// functions the template does not define). The other source is not read when the template covers
/// every need.
pub struct TemplateOverlay {
    template: TemplateSource,
    base: Box<dyn AccountSource>,
}

impl TemplateOverlay {
    /// The template `template` over `base`.
    pub fn new(template: TemplateSource, base: Box<dyn AccountSource>) -> Self {
        TemplateOverlay { template, base }
    }
}

/// Reads through the deployed source the resource policies in play for the template's principals
/// that the base did not deliver (it read its own principals' only); returns its notes.
fn template_resource_policies(
    base: &dyn AccountSource,
    account: &mut iamfit_core::account::Account,
    needs: &AccountNeeds,
) -> Result<Vec<String>, SourceError> {
    use iamfit_core::account::resources::in_play;
    let subjects = iamfit_core::resolve::needed_subjects(account, needs);
    let known = iamfit_core::account::resources::ResourcePolicies::new(&account.resource_policies);
    let wanted: Vec<_> = in_play(&subjects.iter().collect::<Vec<_>>(), None)
        .into_iter()
        .filter(|r| {
            known.for_resource(&r.arn).is_none()
                && !account.unread_resource_policies.iter().any(|u| u.resource == *r)
        })
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let read = base.resource_policies(&wanted)?;
    account.resource_policies.extend(read.policies);
    account.unread_resource_policies.extend(read.unread);
    Ok(read.notes)
}

impl AccountSource for TemplateOverlay {
    fn load(&self, needs: &AccountNeeds) -> Result<LoadedAccount, SourceError> {
        let from_template = self.template.load(needs)?;
        let t = &from_template.account;
        let rest = AccountNeeds {
            identity: needs.identity.clone(),
            functions: needs.functions.iter().filter(|f| t.function(f).is_err()).cloned().collect(),
            roles: needs.roles.iter().filter(|r| t.role(r).is_none()).cloned().collect(),
            users: needs.users.clone(),
        };
        if rest == AccountNeeds::default() {
            return Ok(from_template);
        }
        let base = self.base.load(&rest)?;
        let mut account = base.account;
        let template = from_template.account;
        account.roles.retain(|r| !template.roles.iter().any(|x| x.name == r.name));
        account.roles.extend(template.roles);
        account.policies.retain(|p| !template.policies.iter().any(|x| x.arn == p.arn));
        account.policies.extend(template.policies);
        account.functions.retain(|f| !template.functions.iter().any(|x| x.name == f.name));
        account.functions.extend(template.functions);
        let mut notes = base.notes;
        notes.extend(from_template.notes);
        notes.extend(template_resource_policies(self.base.as_ref(), &mut account, needs)?);
        Ok(LoadedAccount { account, notes })
    }

    /// The deployed source reads them: a template holds no resource policies.
    fn resource_policies(
        &self,
        resources: &[iamfit_core::account::resources::InPlay],
    ) -> Result<iamfit_core::source::ResourceRead, SourceError> {
        self.base.resource_policies(resources)
    }
}
