//! `iamfit check`.
use super::{CliResult, GlobalArgs, Style};

/// Arguments of `iamfit check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Policy documents to check.
    #[arg(required = true)]
    pub files: Vec<std::path::PathBuf>,
}

pub fn run(_args: &CheckArgs, _global: &GlobalArgs, _style: &Style) -> CliResult {
    Err(super::CliError::other("check: not built yet"))
}
