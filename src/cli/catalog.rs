//! `iamfit catalog`: expand action patterns, show one action, update the catalog from AWS.
use std::process::ExitCode;

use iamfit_catalog::update::{self, Progress, UpdateOptions};
use iamfit_catalog::{ActionRef, Catalog, Lookup, Origin};
use std::io::IsTerminal;

use iamfit_core::catalog_view::{self, ActionDetail, ActionSummary, UpdateReport};

use super::output::emit;
use super::render::Table;
use super::{CliError, CliResult, GlobalArgs, OutputFormat, Style};

/// Subcommands of `iamfit catalog`.
#[derive(Debug, clap::Subcommand)]
pub enum CatalogCommand {
    /// List the catalog actions an IAM action pattern matches (`s3:Get*`, `*:Describe*`, `s3:?etObject`).
    Expand {
        /// An action pattern such as `s3:Get*`; `*` and `?` are IAM wildcards, case-insensitive.
        pattern: String,
    },
    /// Show one action: access level, description, resource types with ARN formats, condition keys,
    /// dependent actions, and the API operations that need it.
    Show {
        /// The action, e.g. `s3:GetObject` (case-insensitive).
        action: String,
    },
    /// Download AWS's Service Reference and store an updated catalog in the cache folder
    /// (IAMFIT_CACHE_DIR, else the user cache folder); later commands use it.
    Update {
        /// Base URL of the Service Reference (its root is the JSON index of services).
        #[arg(long, value_name = "URL", env = "IAMFIT_SERVICE_REFERENCE_URL", hide_env = true)]
        url: Option<String>,
    },
}

/// Runs `iamfit catalog ...`.
pub fn run(cmd: &CatalogCommand, global: &GlobalArgs, style: &Style) -> CliResult {
    super::report::check_format("catalog", super::report::TEXT_FORMATS, global.output)?;
    match cmd {
        CatalogCommand::Expand { pattern } => expand(pattern, global, style),
        CatalogCommand::Show { action } => show(action, global, style),
        CatalogCommand::Update { url } => run_update(url.as_deref(), global, style),
    }
}

/// A usage error for a name whose service is unknown, with the closest prefix as a hint.
fn unknown_service(cat: &Catalog, service: &str) -> CliError {
    let err = CliError::usage(format!("unknown service prefix `{service}`"));
    match cat.suggest_service(service) {
        Some(s) => {
            err.with_hint(format!("did you mean `{s}`? (`iamfit catalog expand '{s}:*'` lists its actions)"))
        }
        None => err.with_hint("service prefixes are the part before the colon, as in `s3:GetObject`"),
    }
}

fn resource_names(a: &ActionRef<'_>) -> String {
    let names: Vec<String> = a
        .resource_types()
        .iter()
        .map(|r| format!("{}{}", r.resource_type.name, if r.required { "*" } else { "" }))
        .collect();
    if names.is_empty() {
        "(all resources: \"*\")".into()
    } else {
        names.join(", ")
    }
}

fn expand(pattern: &str, global: &GlobalArgs, style: &Style) -> CliResult {
    let cat = Catalog::get();
    let pattern = pattern.trim();
    if pattern.is_empty() {
        return Err(
            CliError::usage("the action pattern is empty").with_hint("try `iamfit catalog expand 's3:Get*'`")
        );
    }
    if pattern != "*" && !pattern.contains(':') {
        return Err(CliError::usage(format!("`{pattern}` is not an action pattern (service:Action)"))
            .with_hint(format!("for a whole service, use `{}:*`", pattern.trim_end_matches('*'))));
    }
    if let Some((svc, _)) = pattern.split_once(':') {
        if !svc.contains(['*', '?']) && !cat.is_known_service(svc) {
            return Err(unknown_service(cat, svc));
        }
    }
    let actions = cat.expand(pattern);
    if actions.is_empty() {
        let mut err = CliError::usage(format!("`{pattern}` matches no action in the catalog"));
        if let Some((svc, act)) = pattern.split_once(':') {
            let literal = act.split(['*', '?']).next().unwrap_or("");
            let near = cat.service(svc).and_then(|s| s.suggest_action(literal));
            err = match near {
                Some(a) => err
                    .with_hint(format!("did you mean `{a}`? (`iamfit catalog expand '{svc}:*'` lists all)")),
                None => {
                    err.with_hint(format!("`iamfit catalog expand '{svc}:*'` lists the service's actions"))
                }
            };
        }
        return Err(err);
    }
    match global.output {
        OutputFormat::Json => {
            let items: Vec<ActionSummary> = actions.iter().map(catalog_view::summary).collect();
            print_json(&items)?;
        }
        OutputFormat::Table if !std::io::stdout().is_terminal() => {
            // Into a pipe (`| xargs`, `| wc -l`): one action per line, nothing else.
            let mut text = String::new();
            for a in &actions {
                text.push_str(&a.full_name());
                text.push('\n');
            }
            emit(&text)?;
        }
        format => {
            let mut table = Grid::new(["ACTION", "ACCESS LEVEL", "RESOURCE TYPES (* required)"]);
            for a in &actions {
                table.row([a.full_name(), a.access_level().to_string(), resource_names(a)]);
            }
            emit(&table.render(format))?;
        }
    }
    if !global.quiet && global.output != OutputFormat::Json {
        style.note(&format!(
            "{} action{} match `{pattern}` ({})",
            actions.len(),
            if actions.len() == 1 { "" } else { "s" },
            origin_text(cat)
        ));
    }
    Ok(ExitCode::SUCCESS)
}

fn origin_text(cat: &Catalog) -> String {
    match cat.origin() {
        Origin::Cache(path) => format!("updated catalog {}", path.display()),
        _ => "embedded catalog".into(),
    }
}

fn show(name: &str, global: &GlobalArgs, style: &Style) -> CliResult {
    let cat = Catalog::get();
    let name = name.trim();
    if name.contains(['*', '?']) {
        return Err(CliError::usage(format!("`{name}` is a pattern, not one action"))
            .with_hint(format!("use `iamfit catalog expand '{name}'`")));
    }
    let action = match cat.lookup(name) {
        Lookup::Found(a) => a,
        Lookup::Malformed => {
            return Err(CliError::usage(format!("`{name}` is not an action name"))
                .with_hint("actions are written service:Action, as in `s3:GetObject`"))
        }
        Lookup::UnknownService { .. } => {
            let svc = name.split_once(':').map_or(name, |(s, _)| s);
            return Err(unknown_service(cat, svc));
        }
        Lookup::UnknownAction { service, suggestion } => {
            let err = CliError::usage(format!(
                "unknown action `{name}`: service `{}` has no such action",
                service.prefix()
            ));
            return Err(match suggestion {
                Some(s) => err.with_hint(format!("did you mean `{s}`?")),
                None => err
                    .with_hint(format!("`iamfit catalog expand '{}:*'` lists its actions", service.prefix())),
            });
        }
    };
    let detail = catalog_view::detail(&action, cat);
    match global.output {
        OutputFormat::Json => print_json(&detail)?,
        format => emit(&show_text(&detail, format, style))?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `catalog show` as a table or Markdown.
fn show_text(d: &ActionDetail, format: OutputFormat, style: &Style) -> String {
    let md = format == OutputFormat::Markdown;
    let mut out = if md { format!("## `{}`\n\n", d.action) } else { format!("{}\n", style.bold(&d.action)) };
    out.push_str(&facts(d, md));
    out.push_str(&resource_types_section(d, format));
    out.push_str(&condition_keys_section(d, format));
    out.push_str(&dependent_actions_section(d, md));
    out.push_str(&operations_section(d, format));
    out
}

fn facts(d: &ActionDetail, md: bool) -> String {
    let mut facts = vec![
        ("Service", format!("{} ({})", d.service_name, d.service)),
        ("Access level", d.access_level.to_string()),
    ];
    if !d.description.is_empty() {
        facts.push(("Description", d.description.clone()));
    }
    facts.push((
        "Resources",
        if d.resource_level_permissions {
            "resource-level permissions supported".into()
        } else {
            "no resource-level permissions: policies must use \"Resource\": \"*\"".into()
        },
    ));
    facts.push(("Source", d.source.to_string()));
    facts
        .into_iter()
        .map(
            |(k, v)| if md { format!("- **{k}:** {v}\n") } else { format!("  {:<14}{v}\n", format!("{k}:")) },
        )
        .collect()
}

fn resource_types_section(d: &ActionDetail, format: OutputFormat) -> String {
    if d.resource_types.is_empty() {
        return String::new();
    }
    let mut t = Grid::new(["RESOURCE TYPE", "REQUIRED", "ARN FORMAT", "CONDITION KEYS"]);
    for r in &d.resource_types {
        let dash = vec!["-".to_string()];
        let arns = if r.arn_formats.is_empty() { &dash } else { &r.arn_formats };
        for (i, arn) in arns.iter().enumerate() {
            if i == 0 {
                let required = if r.required { "yes" } else { "no" };
                t.row([r.name.clone(), required.to_string(), arn.clone(), r.condition_keys.join(", ")]);
            } else {
                t.row([String::new(), String::new(), arn.clone(), String::new()]);
            }
        }
    }
    section("Resource types", format == OutputFormat::Markdown) + &t.render(format)
}

fn condition_keys_section(d: &ActionDetail, format: OutputFormat) -> String {
    if d.condition_keys.is_empty() {
        return String::new();
    }
    let mut t = Grid::new(["CONDITION KEY", "TYPE", "DESCRIPTION"]);
    for k in &d.condition_keys {
        t.row([k.name.clone(), k.value_type.clone(), k.description.clone()]);
    }
    section("Condition keys", format == OutputFormat::Markdown) + &t.render(format)
}

fn dependent_actions_section(d: &ActionDetail, md: bool) -> String {
    let mut deps = d.dependent_actions.clone();
    for r in &d.resource_types {
        deps.extend(r.dependent_actions.iter().cloned());
    }
    deps.dedup();
    if deps.is_empty() {
        return String::new();
    }
    let mut out = section("Dependent actions", md);
    for dep in deps {
        out.push_str(&format!("  - {dep}\n"));
    }
    out
}

fn operations_section(d: &ActionDetail, format: OutputFormat) -> String {
    if d.operations.is_empty() {
        return String::new();
    }
    let mut t = Grid::new(["OPERATION", "SDK", "ALL AUTHORIZED ACTIONS"]);
    for o in &d.operations {
        let auth: Vec<String> = o
            .authorized_actions
            .iter()
            .map(|a| {
                let ctx: Vec<String> =
                    a.context.iter().map(|(k, v)| format!("{k}={}", v.join("|"))).collect();
                if ctx.is_empty() {
                    a.action.clone()
                } else {
                    format!("{} (when {})", a.action, ctx.join(", "))
                }
            })
            .collect();
        t.row([format!("{}:{}", o.service, o.name), o.sdk_services.join(", "), auth.join(", ")]);
    }
    section("API operations that need it (AWS Service Reference)", format == OutputFormat::Markdown)
        + &t.render(format)
}

fn section(title: &str, md: bool) -> String {
    if md {
        format!("\n### {title}\n\n")
    } else {
        format!("\n{title}:\n")
    }
}

fn run_update(url: Option<&str>, global: &GlobalArgs, style: &Style) -> CliResult {
    let mut opts = UpdateOptions::from_env().map_err(|e| {
        CliError::other(format!("catalog update: {e}")).with_hint("set IAMFIT_CACHE_DIR to a writable folder")
    })?;
    if let Some(url) = url {
        opts.url = url.to_string();
    }
    let quiet = global.quiet;
    if !quiet {
        style.note(&format!("downloading the AWS Service Reference from {}", opts.url));
    }
    let progress = |p: Progress<'_>| {
        if quiet {
            return;
        }
        match p {
            Progress::Index(n) => eprintln!("  {n} services listed"),
            Progress::Service(done, total, _) => {
                if done % 50 == 0 || done == total {
                    eprintln!("  downloaded {done}/{total}");
                }
            }
            Progress::Retry(url, why) => eprintln!("  retrying {url}: {why}"),
        }
    };
    let summary = update::update(&opts, &progress).map_err(|e| {
        CliError::other(format!("catalog update failed: {e}")).with_hint(
            "nothing was changed; check the network (or --url / IAMFIT_SERVICE_REFERENCE_URL) and try again",
        )
    })?;
    let added = &summary.added;
    match global.output {
        OutputFormat::Json => print_json(&UpdateReport::from(&summary))?,
        _ => {
            let mut out = String::new();
            let mut println = |line: String| {
                out.push_str(&line);
                out.push('\n');
            };
            println(format!(
                "Updated the IAM action catalog: {} services, {} actions ({} service documents downloaded).",
                summary.service_count, summary.action_count, summary.services_downloaded
            ));
            println(format!(
                "Added beyond the embedded catalog: {} services, {} actions, {} resource types, {} condition keys.",
                added.services_added.len(),
                added.actions_added.len(),
                added.resource_types_added,
                added.condition_keys_added
            ));
            for s in &added.services_added {
                println(format!("  + service {s}"));
            }
            for a in added.actions_added.iter().take(50) {
                println(format!("  + {a}"));
            }
            if added.actions_added.len() > 50 {
                println(format!("  ... and {} more (see `--output json`)", added.actions_added.len() - 50));
            }
            println(format!("Saved to {}", summary.path.display()));
            emit(&out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<(), CliError> {
    super::output::emit_json(value)
}

/// Rows for a report table: rendered with [`Table`], or as a Markdown table for `--output markdown`.
struct Grid {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Grid {
    fn new<const N: usize>(header: [&str; N]) -> Self {
        Grid { header: header.iter().map(|h| h.to_string()).collect(), rows: Vec::new() }
    }

    fn row<const N: usize>(&mut self, cells: [String; N]) {
        self.rows.push(cells.to_vec());
    }

    fn render(&self, format: OutputFormat) -> String {
        if format == OutputFormat::Markdown {
            let cell = |c: &str| c.replace('|', "\\|");
            let mut out =
                format!("| {} |\n", self.header.iter().map(|h| cell(h)).collect::<Vec<_>>().join(" | "));
            out.push_str(&format!("|{}\n", " --- |".repeat(self.header.len())));
            for r in &self.rows {
                out.push_str(&format!("| {} |\n", r.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")));
            }
            out
        } else {
            let mut t = Table::new(self.header.iter().cloned());
            for r in &self.rows {
                t.row(r.iter().cloned());
            }
            t.render()
        }
    }
}
