//! `iamfit athena ddl`: the `CREATE EXTERNAL TABLE` AWS documents for CloudTrail logs with partition
//! projection, for a team that has no table yet (then `--trail athena://WORKGROUP/DATABASE.TABLE`).

use std::process::ExitCode;

use super::output::emit;
use super::{CliError, CliResult, GlobalArgs, Style};

/// `iamfit athena ...`.
#[derive(Debug, clap::Subcommand)]
pub enum AthenaCommand {
    /// Print the CREATE EXTERNAL TABLE statement (partition projection) for a trail's logs.
    #[command(
        after_help = "Example:\n  iamfit athena ddl --location s3://my-trail-bucket/AWSLogs/111122223333/CloudTrail/us-east-1 --table cloudtrail_logs\n\nRun the statement in Athena, then read usage with --trail athena://primary/DATABASE.cloudtrail_logs"
    )]
    Ddl {
        /// The logs of one account and region: s3://BUCKET/[PREFIX/]AWSLogs/[ORG-ID/]ACCOUNT/CloudTrail/REGION.
        #[arg(long, value_name = "S3_URL")]
        location: String,
        /// The table's name.
        #[arg(long, default_value = "cloudtrail_logs", value_name = "NAME")]
        table: String,
        /// The first day the projection covers (YYYY/MM/DD).
        #[arg(long, default_value = "2024/01/01", value_name = "DAY")]
        start: String,
    },
}

/// Runs `iamfit athena ...`.
pub fn run(cmd: &AthenaCommand, _global: &GlobalArgs, _style: &Style) -> CliResult {
    match cmd {
        AthenaCommand::Ddl { location, table, start } => {
            if !location.starts_with("s3://") || !location.contains("/CloudTrail/") {
                return Err(CliError::usage(format!("--location {location}: not a CloudTrail log location"))
                    .with_hint("give s3://BUCKET/[PREFIX/]AWSLogs/ACCOUNT/CloudTrail/REGION (one account and region, as CloudTrail delivers them)"));
            }
            let valid_table =
                !table.is_empty() && table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid_table {
                return Err(CliError::usage(format!(
                    "--table {table:?}: use letters, digits and underscores"
                )));
            }
            let day_ok = start.len() == 10
                && start.chars().enumerate().all(|(i, c)| {
                    if i == 4 || i == 7 {
                        c == '/'
                    } else {
                        c.is_ascii_digit()
                    }
                });
            if !day_ok {
                return Err(CliError::usage(format!("--start {start:?}: use YYYY/MM/DD")));
            }
            emit(&iamfit_trail::athena::ddl(table, location, start))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
