//! `iamfit explain`: why an AccessDenied happened. Reads the message (or `-`: stdin), completes it
//! with `--principal`, `--action`, `--resource` and `--context`, and lets the core explain it against
//! the account (`--snapshot` or live); one renderer per format.

use std::io::Read;
use std::process::ExitCode;

use iamfit_core::explain::{explain_in, ExplainError, ExplainRequest, Explanation, Given};
use iamfit_policy::context::RequestContext;

use super::render::Table;
use super::report::{print, Report};
use super::source::{account_source, live_options, source_error};
use super::{CliError, CliResult, GlobalArgs, Style, EXIT_PARTIAL};

/// Arguments of `iamfit explain`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  iamfit explain --snapshot policy-fixtures/demo \"User: arn:aws:sts::111122223333:assumed-role/orders-fn-role/orders is not authorized to perform: dynamodb:Scan on resource: arn:aws:dynamodb:us-east-1:111122223333:table/orders with an explicit deny in an identity-based policy\"\n  pbpaste | iamfit explain -\n  aws sts decode-authorization-message --encoded-message MESSAGE | iamfit explain -\n  iamfit explain --principal arn:aws:iam::111122223333:user/dev --action s3:GetObject --resource arn:aws:s3:::bucket/key"
)]
pub struct ExplainArgs {
    /// The AccessDenied message (quoted, or as several words), or `-` to read it from stdin. A
    /// decoded authorization failure message (`aws sts decode-authorization-message` output) works too.
    #[arg(value_name = "MESSAGE")]
    pub message: Vec<String>,
    /// The principal denied (role, role-session or user ARN), instead of the message's.
    #[arg(long, value_name = "ARN")]
    pub principal: Option<String>,
    /// The action denied, e.g. s3:GetObject, instead of the message's.
    #[arg(long, value_name = "ACTION")]
    pub action: Option<String>,
    /// The resource ARN, instead of the message's (default: the message's, else `*`).
    #[arg(long, value_name = "ARN")]
    pub resource: Option<String>,
    /// A condition key of the request: key=value, or key=[a,b] for a multivalued key (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    pub context: Vec<String>,
}

/// The message: the words given, or stdin for `-`; none when no words are given.
fn read_message(words: &[String]) -> Result<Option<String>, CliError> {
    match words {
        [] => Ok(None),
        [dash] if dash == "-" => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| CliError::usage(format!("cannot read the message from stdin: {e}")))?;
            Ok(Some(text))
        }
        _ => Ok(Some(words.join(" "))),
    }
}

fn given(args: &ExplainArgs) -> Result<Given, CliError> {
    let mut context = RequestContext::new();
    for assignment in &args.context {
        let (key, value) = RequestContext::parse_assignment(assignment)
            .map_err(|e| CliError::usage(format!("--context: {e}")))?;
        context.insert(&key, value);
    }
    Ok(Given {
        principal: args.principal.clone(),
        action: args.action.clone(),
        resource: args.resource.clone(),
        context,
    })
}

fn explain_error(e: ExplainError) -> CliError {
    CliError::usage(e.to_string()).with_hint(e.help())
}

/// The request of an encoded message, decoded by STS for the caller (`--profile`).
fn decoded_request(global: &GlobalArgs, e: ExplainError, given: Given) -> Result<ExplainRequest, CliError> {
    let ExplainError::Encoded { encoded: Some(encoded), .. } = &e else { return Err(explain_error(e)) };
    match iamfit_aws::sts::decode_authorization_message(&live_options(global), encoded) {
        Ok(decoded) => ExplainRequest::new(Some(&decoded), given).map_err(explain_error),
        Err(failure) => {
            let mut err = CliError::usage(format!("{e}; decoding it failed: {failure}")).with_hint(e.help());
            if let Some(detail) = failure.detail() {
                err = err.with_detail(detail);
            }
            Err(err)
        }
    }
}

pub fn run(args: &ExplainArgs, global: &GlobalArgs, style: &Style) -> CliResult {
    super::report::check_format("explain", super::report::TEXT_FORMATS, global.output)?;
    let message = read_message(&args.message)?;
    let given = given(args)?;
    let request = match ExplainRequest::new(message.as_deref(), given.clone()) {
        // Live, an encoded message is decoded with sts:DecodeAuthorizationMessage first.
        Err(e @ ExplainError::Encoded { encoded: Some(_), .. }) if global.snapshot.is_none() => {
            decoded_request(global, e, given)?
        }
        other => other.map_err(explain_error)?,
    };
    let source = account_source(global)?;
    let explanation = explain_in(source.as_ref(), &request).map_err(source_error)?;
    print(&explanation, global.output, style)?;
    Ok(if explanation.is_partial() { ExitCode::from(EXIT_PARTIAL) } else { ExitCode::SUCCESS })
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn layer_word(e: &Explanation) -> String {
    e.layer.map_or_else(|| "-".to_string(), |l| l.as_str().to_string())
}

fn fix_title(e: &Explanation) -> String {
    let proven = !e.fix.is_empty() && e.fix.iter().all(|s| s.verified);
    let layers: Vec<&str> = e.fix.iter().map(|s| s.layer.as_str()).collect();
    let how = if proven { "proven: the request is allowed with it" } else { "not proven" };
    format!("Least fix ({}), {how}", layers.join(", "))
}

impl Report for Explanation {
    fn table(&self, style: &Style) -> String {
        let mut t = Table::new(["", ""]);
        t.row(["principal".to_string(), format!("{} ({})", self.principal, self.subject)]);
        t.row(["action".to_string(), self.action.clone()]);
        t.row(["resource".to_string(), self.resource.clone()]);
        t.row(["decision".to_string(), style.verdict(self.decision.as_str())]);
        t.row(["layer".to_string(), layer_word(self)]);
        if let Some(r) = &self.reason {
            t.row(["because".to_string(), r.clone()]);
        }
        if let Some(c) = &self.comparison {
            t.row(["message".to_string(), c.clone()]);
        }
        let mut text = t.render();
        if !self.statements.is_empty() {
            let mut s = Table::new(["layer", "policy", "statement", "effect"]);
            for st in &self.statements {
                s.row([st.layer.as_str().to_string(), st.policy.clone(), st.sid.clone(), st.effect.clone()]);
            }
            text.push_str(&format!("\n{}\n", style.bold("Deciding statements:")));
            text.push_str(&indent(&s.render()));
        }
        if !self.fix.is_empty() {
            text.push_str(&format!("\n{}:\n", style.bold(&fix_title(self))));
            for (n, step) in self.fix.iter().enumerate() {
                let policy = step.policy.as_deref().map(|p| format!(" {p}")).unwrap_or_default();
                text.push_str(&format!("  {}. {}: {}{policy}\n", n + 1, step.layer, step.change));
                if !step.note.is_empty() {
                    text.push_str(&format!("     {}\n", style.dim(&step.note)));
                }
                if let Some(st) = &step.statement {
                    text.push_str(&indent_by(&pretty(st), 5));
                }
            }
        }
        text.push_str(&list(style, "What iamfit could not see", &self.unseen));
        text.push_str(&list(style, "Notes", &self.notes));
        text
    }

    fn markdown(&self) -> String {
        let mut text = format!(
            "### `{}` on `{}`: **{}**\n\n| principal | layer | message |\n|---|---|---|\n| `{}` ({}) | {} | {} |\n",
            self.action,
            self.resource,
            self.decision,
            self.principal,
            self.subject,
            layer_word(self),
            self.comparison.clone().unwrap_or_default().replace('|', "\\|"),
        );
        if !self.statements.is_empty() {
            text.push_str("\n| layer | policy | statement | effect |\n|---|---|---|---|\n");
            for st in &self.statements {
                text.push_str(&format!(
                    "| {} | `{}` | `{}` | {} |\n",
                    st.layer.as_str(),
                    st.policy,
                    st.sid,
                    st.effect
                ));
            }
        }
        if !self.fix.is_empty() {
            text.push_str(&format!("\n{}:\n", fix_title(self)));
            for (n, step) in self.fix.iter().enumerate() {
                let policy = step.policy.as_deref().map(|p| format!(" `{p}`")).unwrap_or_default();
                text.push_str(&format!(
                    "\n{}. {}: {}{policy}: {}\n",
                    n + 1,
                    step.layer,
                    step.change,
                    step.note
                ));
                if let Some(st) = &step.statement {
                    text.push_str(&format!("\n```json\n{}\n```\n", pretty(st)));
                }
            }
        }
        for (title, items) in [("What iamfit could not see", &self.unseen), ("Notes", &self.notes)] {
            if !items.is_empty() {
                text.push_str(&format!("\n{title}:\n\n"));
                for item in items {
                    text.push_str(&format!("- {item}\n"));
                }
            }
        }
        text
    }
}

fn indent(text: &str) -> String {
    indent_by(text, 2)
}

fn indent_by(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines().map(|l| format!("{pad}{l}\n")).collect()
}

fn list(style: &Style, title: &str, items: &[String]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let mut text = format!("\n{}\n", style.bold(&format!("{title}:")));
    for item in items {
        text.push_str(&format!("  - {item}\n"));
    }
    text
}
