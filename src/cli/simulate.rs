//! `iamfit simulate`.
use super::{CliResult, GlobalArgs, Style};

/// Arguments of `iamfit simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Policy documents to simulate.
    #[arg(required = true)]
    pub files: Vec<std::path::PathBuf>,
}

pub fn run(_args: &SimulateArgs, _global: &GlobalArgs, _style: &Style) -> CliResult {
    Err(super::CliError::other("simulate: not built yet"))
}
