//! [`TemplateSource`]: a template behind the core's [`AccountSource`] port (`--template FILE`).

use std::path::{Path, PathBuf};

use iamfit_core::source::{AccountNeeds, AccountSource, LoadedAccount, SourceError};

use crate::{expand_file, Expansion, Settings, TemplateError};

/// A SAM / CloudFormation template or a `terraform show -json` document as an account source.
#[derive(Debug, Clone)]
pub struct TemplateSource {
    path: PathBuf,
    settings: Settings,
}

impl TemplateSource {
    /// A source reading the template at `path`, expanded for `settings`.
    pub fn new(path: impl Into<PathBuf>, settings: Settings) -> Self {
        TemplateSource { path: path.into(), settings }
    }

    /// The template file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Expands the template.
    pub fn expand(&self) -> Result<Expansion, SourceError> {
        expand_file(&self.path, &self.settings).map_err(source_error)
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
