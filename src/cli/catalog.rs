//! `iamfit catalog`.
use super::{CliResult, GlobalArgs, Style};

/// Subcommands of `iamfit catalog`.
#[derive(Debug, clap::Subcommand)]
pub enum CatalogCommand {
    /// List the catalog actions a pattern matches.
    Expand {
        /// An action pattern such as `s3:Get*`.
        pattern: String,
    },
}

pub fn run(_cmd: &CatalogCommand, _global: &GlobalArgs, _style: &Style) -> CliResult {
    Err(super::CliError::other("catalog: not built yet"))
}
