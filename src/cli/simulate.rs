//! `iamfit simulate`: evaluate one request from flags, or a batch of requests from a JSON Lines file.

use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::Value;

use iamfit_policy::context::RequestContext;
use iamfit_policy::eval::batch::{BatchError, BatchEvaluator, DecisionReport};
use iamfit_policy::eval::{authorize, Decision, NamedPolicy, PolicySet, Principal, Request};
use iamfit_policy::Document;

use super::render::Table;
use super::{CliError, CliResult, GlobalArgs, OutputFormat, Style};

/// Arguments of `iamfit simulate`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  iamfit simulate --policy role.json --action s3:GetObject --resource arn:aws:s3:::bucket/key\n  iamfit simulate --requests cases.jsonl > decisions.jsonl"
)]
pub struct SimulateArgs {
    /// Batch mode: one JSON request per line (see the README); one JSON result per line on stdout.
    #[arg(long, value_name = "FILE.jsonl", conflicts_with_all = ["policy", "action"])]
    pub requests: Option<PathBuf>,
    /// Identity-based policy documents (repeatable).
    #[arg(long, value_name = "FILE", required_unless_present = "requests")]
    pub policy: Vec<PathBuf>,
    /// The action to evaluate, e.g. s3:GetObject (repeatable).
    #[arg(long, value_name = "ACTION", required_unless_present = "requests")]
    pub action: Vec<String>,
    /// The resource ARN (default `*`).
    #[arg(long, value_name = "ARN", default_value = "*")]
    pub resource: String,
    /// The principal making the request (user, role or role-session ARN), or `anonymous` for an
    /// unauthenticated request (only resource policies naming everyone apply to it).
    #[arg(long, value_name = "ARN|anonymous")]
    pub principal: Option<String>,
    /// A condition key: key=value, or key=[a,b] for a multivalued key (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    /// Permissions boundary document.
    #[arg(long, value_name = "FILE")]
    pub boundary: Option<PathBuf>,
    /// Session policy document (repeatable).
    #[arg(long = "session-policy", value_name = "FILE")]
    pub session_policy: Vec<PathBuf>,
    /// Resource-based policy document of the resource.
    #[arg(long = "resource-policy", value_name = "FILE")]
    pub resource_policy: Option<PathBuf>,
    /// One SCP level, root first (repeatable); several documents of one level separated by commas.
    #[arg(long, value_name = "FILE[,FILE]")]
    pub scp: Vec<String>,
    /// One RCP level, root first (repeatable); several documents of one level separated by commas.
    #[arg(long, value_name = "FILE[,FILE]")]
    pub rcp: Vec<String>,
    /// The account that owns the resource, when its ARN does not say (S3 buckets).
    #[arg(long, value_name = "ACCOUNT")]
    pub resource_account: Option<String>,
    /// The organization's management account: SCPs do not apply to its principals, RCPs not to its
    /// resources.
    #[arg(long, value_name = "ACCOUNT")]
    pub management_account: Option<String>,
}

/// Reads and parses a policy file; errors name the file, line and column.
pub fn load_policy(path: &Path) -> Result<NamedPolicy, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("cannot read policy {}: {e}", path.display())))?;
    // Evaluated as AWS evaluates a stored policy: invalid Action entries match nothing and an empty
    // Statement grants nothing, with a warning (`iamfit check` reports them as errors).
    let (policy, warnings) = Document::parse(&text).into_stored_policy().map_err(|e| {
        CliError::usage(format!("{}:{}:{}: {}", path.display(), e.line, e.column, e.message))
            .with_hint(format!("run `iamfit check {}` to see every problem", path.display()))
    })?;
    for w in warnings {
        eprintln!("warning: {}: {} (at {}); evaluated as AWS does", path.display(), w.message, w.pointer);
    }
    Ok(NamedPolicy::new(path.display().to_string(), policy))
}

fn load_levels(levels: &[String]) -> Result<Vec<Vec<NamedPolicy>>, CliError> {
    levels
        .iter()
        .map(|level| level.split(',').filter(|s| !s.is_empty()).map(|f| load_policy(Path::new(f))).collect())
        .collect()
}

pub fn run(args: &SimulateArgs, global: &GlobalArgs, style: &Style) -> CliResult {
    super::report::check_format("simulate", super::report::TEXT_FORMATS, global.output)?;
    if let Some(path) = &args.requests {
        return run_batch(path);
    }
    let set = PolicySet {
        identity: args.policy.iter().map(|p| load_policy(p)).collect::<Result<_, _>>()?,
        boundary: args.boundary.as_deref().map(load_policy).transpose()?,
        session: args.session_policy.iter().map(|p| load_policy(p)).collect::<Result<_, _>>()?,
        resource: args.resource_policy.as_deref().map(load_policy).transpose()?,
        scp: load_levels(&args.scp)?,
        rcp: load_levels(&args.rcp)?,
        management_account: args.management_account.clone(),
        write_actions: Some(iamfit_catalog::WRITE_ACTIONS),
        resource_owned_by_aws: false,
    };
    let principal = args
        .principal
        .as_deref()
        .map(Principal::parse)
        .transpose()
        .map_err(|e| CliError::usage(format!("--principal: {e}")))?;
    let mut context = RequestContext::new();
    for assignment in &args.context {
        let (key, value) = RequestContext::parse_assignment(assignment)
            .map_err(|e| CliError::usage(format!("--context: {e}")))?;
        context.insert(&key, value);
    }
    let mut results = Vec::new();
    for action in &args.action {
        if !action.contains(':') || action.contains(['*', '?']) {
            return Err(CliError::usage(format!(
                "--action {action:?}: give one concrete action such as s3:GetObject"
            ))
            .with_hint("`iamfit catalog expand PATTERN` lists the actions a pattern covers"));
        }
        let request = Request {
            principal: principal.as_ref(),
            action,
            resource: &args.resource,
            context: &context,
            resource_account: args.resource_account.as_deref(),
        };
        results.push((action.clone(), authorize(&set, &request)));
    }
    let mut out: Vec<u8> = Vec::new();
    match global.output {
        OutputFormat::Json => {
            let mut items: Vec<DecisionReport> = results
                .iter()
                .map(|(action, d)| DecisionReport {
                    action: Some(action.clone()),
                    resource: Some(args.resource.clone()),
                    ..DecisionReport::new(d)
                })
                .collect();
            let text = match items.len() {
                1 => serde_json::to_string_pretty(&items.remove(0)),
                _ => serde_json::to_string_pretty(&items),
            }
            .map_err(|e| CliError::other(format!("cannot write the JSON report: {e}")))?;
            writeln!(out, "{text}").ok();
        }
        OutputFormat::Markdown => {
            writeln!(out, "| action | resource | decision | deciding statements |\n|---|---|---|---|").ok();
            for (action, d) in &results {
                let why = explain(d).replace('|', "\\|");
                writeln!(out, "| `{action}` | `{}` | **{}** | {why} |", args.resource, d.verdict).ok();
            }
        }
        OutputFormat::Table | OutputFormat::Sarif => {
            for (action, d) in &results {
                writeln!(
                    out,
                    "{} {}  {} on {}",
                    style.bold("decision:"),
                    style.verdict(d.verdict.as_str()),
                    action,
                    args.resource
                )
                .ok();
                if let Some(reason) = d.reason {
                    writeln!(out, "  {}", style.dim(&format!("because {reason}"))).ok();
                }
                for note in &d.notes {
                    writeln!(out, "  {}", style.dim(&format!("note: {note}"))).ok();
                }
                if !d.matched.is_empty() {
                    let mut t = Table::new(["layer", "policy", "statement", "effect"]);
                    for m in &d.matched {
                        t.row([
                            m.layer.to_string(),
                            m.policy_name().to_string(),
                            m.label(),
                            m.effect().to_string(),
                        ]);
                    }
                    for line in t.render().lines() {
                        writeln!(out, "  {line}").ok();
                    }
                }
            }
        }
    }
    super::output::emit(&String::from_utf8_lossy(&out))?;
    Ok(ExitCode::SUCCESS)
}

fn explain(d: &Decision) -> String {
    let mut parts: Vec<String> = d
        .matched
        .iter()
        .map(|m| format!("{} {} {} ({})", m.effect(), m.policy_name(), m.label(), m.layer))
        .collect();
    if let Some(r) = d.reason {
        parts.push(format!("because {r}"));
    }
    parts.extend(d.notes.iter().map(|n| format!("note: {n}")));
    parts.join("; ")
}

fn run_batch(path: &Path) -> CliResult {
    let file = std::fs::File::open(path)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
    let reader = std::io::BufReader::new(file);
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut cache = BatchEvaluator::with_write_actions(iamfit_catalog::WRITE_ACTIONS);
    let mut errors = 0usize;
    for (n, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| CliError::usage(format!("{}: line {}: {e}", path.display(), n + 1)))?;
        if line.trim().is_empty() {
            continue;
        }
        let (id, result) = match serde_json::from_str::<Value>(&line) {
            Ok(v) => (v.get("id").cloned().unwrap_or(Value::Null), cache.evaluate(&v)),
            Err(e) => (Value::Null, Err(format!("line {}: invalid JSON: {e}", n + 1))),
        };
        let result = match result {
            Ok(d) => serde_json::to_string(&DecisionReport { id: Some(id), ..DecisionReport::new(&d) }),
            Err(error) => {
                errors += 1;
                serde_json::to_string(&BatchError { id, error })
            }
        }
        .map_err(|e| CliError::other(format!("cannot write the JSON report: {e}")))?;
        writeln!(out, "{result}").map_err(CliError::write)?;
        for w in cache.take_warnings() {
            eprintln!("warning: line {}: {w}; evaluated as AWS does", n + 1);
        }
    }
    out.flush().ok();
    if errors > 0 {
        eprintln!("note: {errors} request(s) could not be evaluated (see their \"error\")");
    }
    Ok(ExitCode::SUCCESS)
}
