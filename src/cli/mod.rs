//! The command line: argument definitions (clap derive), one module per command, and rendering.
//!
//! This layer stays thin: it parses arguments, calls the library, and renders the result. Library
//! errors are typed; here they gain the context a user needs ("what went wrong, what to do").

mod athena;
mod audit;
mod catalog;
mod check;
mod choices;
mod credentials;
mod diff;
mod exec;
mod explain;
mod generate;
mod graph;
mod output;
mod render;
mod report;
mod sarif;
mod simulate;
mod snapshot;
mod source;
mod trail;
mod trust;
mod usage;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use render::Style;

/// Exit status for usage and input errors (the contract: usage and input errors exit 2).
pub const EXIT_USAGE: u8 = 2;
/// Exit status when `--fail-on` finds something.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit status when the result is partial (unreadable log files, malformed records).
pub const EXIT_PARTIAL: u8 = 3;

/// AWS IAM parity and least privilege for Lambda functions.
#[derive(Debug, Parser)]
#[command(name = "iamfit", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options accepted by every command (see docs/reference.md, "Global options").
#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// AWS CLI profile whose credentials iamfit uses (as the AWS CLI resolves it).
    #[arg(long, global = true, value_name = "NAME", env = "AWS_PROFILE", hide_env = true)]
    pub profile: Option<String>,
    /// AWS region (default: AWS_REGION, then the profile's region).
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// Send every AWS call to this endpoint (also AWS_ENDPOINT_URL); for local emulators.
    #[arg(long, global = true, value_name = "URL", env = "AWS_ENDPOINT_URL", hide_env = true)]
    pub endpoint_url: Option<String>,
    /// Read AWS Organizations (SCPs, RCPs) with this profile's credentials (the management account or
    /// a delegated administrator).
    #[arg(long, global = true, value_name = "P")]
    pub org_profile: Option<String>,
    /// Work offline: read account state (and CloudTrail) from a snapshot folder.
    #[arg(long, global = true, value_name = "DIR")]
    pub snapshot: Option<std::path::PathBuf>,
    /// The function side from a SAM / CloudFormation template or a `terraform show -json` document.
    #[arg(long, global = true, value_name = "FILE")]
    pub template: Option<std::path::PathBuf>,
    /// A template parameter's value (repeatable); the template's defaults fill the rest.
    #[arg(long = "parameter", global = true, value_name = "KEY=VALUE")]
    pub parameters: Vec<String>,
    /// The account id a template is expanded for (AWS::AccountId; default 123456789012).
    #[arg(long, global = true, value_name = "ID")]
    pub account: Option<String>,
    /// The stack name a template is expanded for (AWS::StackName; default `stack`).
    #[arg(long, global = true, value_name = "NAME")]
    pub stack: Option<String>,
    /// Report format on stdout.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// Never use colour (also NO_COLOR).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Print only the report, no notes on stderr.
    #[arg(long, short = 'q', global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more detail on stderr.
    #[arg(long, short = 'v', global = true)]
    pub verbose: bool,
}

/// Report formats of `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable tables (default).
    Table,
    /// Machine-readable JSON with the keys of the contract.
    Json,
    /// Markdown, for pull-request comments.
    Markdown,
    /// SARIF 2.1.0, for code scanning (commands that report findings).
    Sarif,
}

impl OutputFormat {
    /// The name as `--output` takes it.
    pub fn name(self) -> &'static str {
        match self {
            OutputFormat::Table => "table",
            OutputFormat::Json => "json",
            OutputFormat::Markdown => "markdown",
            OutputFormat::Sarif => "sarif",
        }
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Local-vs-prod parity: the local principal (--profile) against the function's execution role.
    Diff(Box<diff::DiffArgs>),
    /// Wildcard, risky, unknown and (with a trail) unused grants.
    Audit(Box<audit::AuditArgs>),
    /// What a principal actually did, from CloudTrail.
    Usage(Box<usage::UsageArgs>),
    /// The minimal policy from CloudTrail usage, proven against the current grant.
    Generate(Box<generate::GenerateArgs>),
    /// Print a principal's permission graph (Graphviz DOT).
    Graph(graph::GraphArgs),
    /// Collect account state once for offline use (--snapshot).
    Snapshot(snapshot::SnapshotArgs),
    /// Validate and lint IAM policy documents.
    Check(check::CheckArgs),
    /// Evaluate requests against policies (one from flags, or a batch file).
    Simulate(Box<simulate::SimulateArgs>),
    /// The IAM action catalog: expand patterns, show actions, update from AWS.
    #[command(subcommand)]
    Catalog(catalog::CatalogCommand),
    /// Run a command locally with the function role's credentials and a Lambda-like environment.
    Exec(Box<exec::ExecArgs>),
    /// The function role's credentials as credential_process JSON (cached).
    Credentials(Box<credentials::CredentialsArgs>),
    /// Can the --profile principal assume the function's role; the least trust statement that would allow it.
    Trust(trust::TrustArgs),
    /// Why an AccessDenied happened: the deciding layer, its statements and the least fix, proven.
    Explain(Box<explain::ExplainArgs>),
    /// CloudTrail in Amazon Athena: the table DDL (read usage with --trail athena://...).
    #[command(subcommand)]
    Athena(athena::AthenaCommand),
    /// Print shell completions for iamfit.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) for iamfit.
    Man,
}

/// Runs the parsed command line and returns the process exit status.
pub fn run(cli: Cli) -> ExitCode {
    let style = Style::detect(cli.global.no_color);
    render::set_width(cli.global.verbose);
    if let Some(bad) = cli.global.parameters.iter().find(|p| !p.contains('=')) {
        style.error(&format!("--parameter {bad:?}: expected KEY=VALUE"));
        return ExitCode::from(EXIT_USAGE);
    }
    let result = match &cli.command {
        Command::Diff(args) => diff::run(args, &cli.global, &style),
        Command::Graph(args) => graph::run(args, &cli.global, &style),
        Command::Usage(args) => usage::run(args, &cli.global, &style),
        Command::Audit(args) => audit::run(args, &cli.global, &style),
        Command::Generate(args) => generate::run(args, &cli.global, &style),
        Command::Snapshot(args) => snapshot::run(args, &cli.global, &style),
        Command::Check(args) => check::run(args, &cli.global, &style),
        Command::Simulate(args) => simulate::run(args, &cli.global, &style),
        Command::Catalog(cmd) => catalog::run(cmd, &cli.global, &style),
        Command::Exec(args) => exec::run(args, &cli.global, &style),
        Command::Credentials(args) => credentials::run(args, &cli.global, &style),
        Command::Trust(args) => trust::run(args, &cli.global, &style),
        Command::Explain(args) => explain::run(args, &cli.global, &style),
        Command::Athena(cmd) => athena::run(cmd, &cli.global, &style),
        Command::Completions { shell } => completions(*shell),
        Command::Man => man_page(),
    };
    match result {
        Ok(code) => code,
        Err(err) if err.quiet => ExitCode::SUCCESS,
        Err(err) => {
            style.error(&err.message);
            if let Some(hint) = &err.hint {
                style.hint(hint);
            }
            match &err.detail {
                Some(detail) if cli.global.verbose => style.hint(&format!("detail: {detail}")),
                Some(_) => style.hint("run with -v for the details"),
                None => {}
            }
            ExitCode::from(err.code)
        }
    }
}

/// `iamfit completions SHELL`.
fn completions(shell: clap_complete::Shell) -> CliResult {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    let mut text = Vec::new();
    clap_complete::generate(shell, &mut cmd, "iamfit", &mut text);
    output::emit(&String::from_utf8_lossy(&text)).map(|()| ExitCode::SUCCESS)
}

/// `iamfit man`.
fn man_page() -> CliResult {
    let mut text = Vec::new();
    clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
        .render(&mut text)
        .map_err(|e| CliError::other(format!("cannot render the man page: {e}")))?;
    output::emit(&String::from_utf8_lossy(&text)).map(|()| ExitCode::SUCCESS)
}

/// A failure to report to the user: one clear line, an optional hint, and the exit status.
#[derive(Debug)]
pub struct CliError {
    /// What went wrong.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
    /// The underlying detail (AWS's words), printed with `-v`.
    pub detail: Option<String>,
    /// The process exit status.
    pub code: u8,
    /// Stdout was closed by the reader: end quietly with status 0.
    pub quiet: bool,
}

impl CliError {
    /// A usage or input error (exit status 2).
    pub fn usage(message: impl Into<String>) -> Self {
        CliError { message: message.into(), hint: None, detail: None, code: EXIT_USAGE, quiet: false }
    }
    /// Any other failure (exit status 2 as well: iamfit reserves 1 for `--fail-on`).
    pub fn other(message: impl Into<String>) -> Self {
        CliError { message: message.into(), hint: None, detail: None, code: EXIT_USAGE, quiet: false }
    }
    /// Stdout was closed (a pipe whose reader is gone): not a failure.
    pub fn closed_pipe() -> Self {
        CliError { quiet: true, code: 0, ..CliError::other("") }
    }
    /// The command has done all it was asked to (`--print-sql`): end quietly with status 0.
    pub fn done() -> Self {
        CliError::closed_pipe()
    }
    /// A failed write to stdout: quiet for a closed pipe, an error otherwise.
    pub fn write(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            CliError::closed_pipe()
        } else {
            CliError::other(format!("cannot write the report: {e}"))
        }
    }
    /// Adds the detail shown with `-v`.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
    /// Adds a hint saying what to do.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// The exit status of a command that found `failing` findings (`--fail-on`) and whose result may be
/// `partial`: 1 for findings, else 3 for a partial result, else 0.
pub fn exit_status(failing: bool, partial: bool) -> ExitCode {
    if failing {
        ExitCode::from(EXIT_FINDINGS)
    } else if partial {
        ExitCode::from(EXIT_PARTIAL)
    } else {
        ExitCode::SUCCESS
    }
}

/// The result of a command: an exit status, or an error to print.
pub type CliResult = Result<ExitCode, CliError>;
