//! `iamfit check FILE...`: validate and lint policy documents.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;

use iamfit_catalog::Catalog;
use iamfit_core::lint::validate::validate;
use iamfit_policy::parse::Encoding;
use iamfit_policy::{Document, Finding, Severity};

use super::choices::KindArg;
use super::sarif;
use super::{CliError, CliResult, GlobalArgs, OutputFormat, Style, EXIT_FINDINGS, EXIT_USAGE};

/// Arguments of `iamfit check`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 when nothing reaches --fail-on, 1 when a finding does, 2 when a file cannot be read.\nFinding codes are listed in the README (\"Finding codes\")."
)]
pub struct CheckArgs {
    /// Policy documents or templates to check (`-` reads standard input); with --template, that template.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// What the documents are (decides size limits and whether Principal is allowed).
    #[arg(long, value_enum, default_value_t = KindArg::Auto)]
    pub kind: KindArg,
    /// Lowest severity that makes the exit status 1.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
}

/// Severity threshold for the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Errors only.
    Error,
    /// Warnings and errors.
    Warning,
    /// Any finding.
    Info,
    /// Never (always exit 0 unless a file cannot be read).
    Never,
}

struct Checked {
    path: String,
    doc: Option<Document>,
    findings: Vec<Finding>,
    io_error: Option<String>,
    /// For a document of a template: each finding's line and column in the template file.
    positions: Vec<(usize, usize)>,
}

pub fn run(args: &CheckArgs, global: &GlobalArgs, style: &Style) -> CliResult {
    super::report::check_format("check", super::report::FINDING_FORMATS, global.output)?;
    let catalog = Catalog::get();
    let mut checked = Vec::new();
    let mut files = args.files.clone();
    if let Some(t) = &global.template {
        if !files.contains(t) {
            files.push(t.clone());
        }
    }
    if files.is_empty() {
        return Err(CliError::usage(
            "check needs FILE... (policy documents or templates) or --template FILE",
        ));
    }
    for path in &files {
        let name = path.display().to_string();
        let text = if name == "-" {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).map(|_| s)
        } else {
            std::fs::read_to_string(path)
        };
        match text {
            Ok(text)
                if global.template.as_deref() == Some(path.as_path())
                    || iamfit_template::looks_like_template(&text) =>
            {
                checked.extend(check_template(&text, &name, args, global)?);
            }
            Ok(text) => {
                let doc = Document::parse(&text);
                let findings = validate(&doc, args.kind.into(), catalog);
                checked.push(Checked {
                    path: name,
                    doc: Some(doc),
                    findings,
                    io_error: None,
                    positions: Vec::new(),
                });
            }
            Err(e) => checked.push(Checked {
                path: name,
                doc: None,
                findings: Vec::new(),
                io_error: Some(e.to_string()),
                positions: Vec::new(),
            }),
        }
    }

    // The report is written to memory, then to stdout in one go (a closed pipe ends quietly).
    let mut out: Vec<u8> = Vec::new();
    let position = |c: &Checked, f: &Finding| match c.findings.iter().position(|x| std::ptr::eq(x, f)) {
        Some(i) if !c.positions.is_empty() => c.positions.get(i).copied().unwrap_or((0, 0)),
        _ => c.doc.as_ref().map_or((0, 0), |d| d.position(f.span)),
    };
    let end_position = |c: &Checked, f: &Finding| {
        if !c.positions.is_empty() {
            return position(c, f);
        }
        let end = iamfit_policy::json::Span { start: f.span.end, end: f.span.end };
        c.doc.as_ref().map_or((0, 0), |d| d.position(end))
    };
    match global.output {
        OutputFormat::Json => {
            let files: Vec<_> = checked
                .iter()
                .map(|c| {
                    let findings: Vec<_> = c
                        .findings
                        .iter()
                        .map(|f| {
                            let (line, column) = position(c, f);
                            json!({"severity": f.severity, "code": f.code, "message": f.message, "line": line, "column": column, "pointer": f.pointer})
                        })
                        .collect();
                    let mut v = json!({"path": c.path, "findings": findings});
                    if let Some(e) = &c.io_error {
                        v["error"] = json!(e);
                    }
                    v
                })
                .collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&json!({"files": files})).unwrap_or_default())
                .ok();
        }
        OutputFormat::Sarif => {
            let results: Vec<sarif::Finding> = checked
                .iter()
                .flat_map(|c| {
                    c.findings.iter().map(move |f| sarif::Finding {
                        rule: f.code,
                        level: sarif::level(&f.severity.to_string()),
                        message: f.message.clone(),
                        path: Some(&c.path),
                        region: Some((position(c, f), end_position(c, f))),
                    })
                })
                .collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&sarif::log(&results)).unwrap_or_default()).ok();
        }
        OutputFormat::Markdown => {
            writeln!(out, "| file | line | severity | code | message |\n|---|---|---|---|---|").ok();
            for c in &checked {
                for f in &c.findings {
                    let (line, column) = position(c, f);
                    writeln!(
                        out,
                        "| `{}` | {line}:{column} | {} | `{}` | {} |",
                        c.path,
                        f.severity,
                        f.code,
                        f.message.replace('|', "\\|")
                    )
                    .ok();
                }
            }
        }
        OutputFormat::Table => {
            for c in &checked {
                for f in &c.findings {
                    let (line, column) = position(c, f);
                    writeln!(
                        out,
                        "{}:{line}:{column}: {}[{}] {}",
                        style.bold(&c.path),
                        style.verdict(&f.severity.to_string()),
                        f.code,
                        f.message
                    )
                    .ok();
                }
                if let Some(doc) = &c.doc {
                    if doc.encoding != Encoding::Json && !c.findings.is_empty() {
                        style.note(&format!(
                            "{}: the document is {}; lines and columns refer to the decoded text",
                            c.path,
                            match doc.encoding {
                                Encoding::UrlEncoded => "URL-encoded",
                                _ => "a JSON string",
                            }
                        ));
                    }
                }
            }
        }
    }

    super::output::emit(&String::from_utf8_lossy(&out))?;
    let count = |s: Severity| checked.iter().flat_map(|c| &c.findings).filter(|f| f.severity == s).count();
    let (errors, warnings, infos) = (count(Severity::Error), count(Severity::Warning), count(Severity::Info));
    if !global.quiet {
        let clean = checked.iter().filter(|c| c.findings.is_empty() && c.io_error.is_none()).count();
        eprintln!(
            "{} file(s) checked: {errors} error(s), {warnings} warning(s), {infos} info; {clean} file(s) clean",
            checked.len()
        );
    }
    let unreadable: Vec<&Checked> = checked.iter().filter(|c| c.io_error.is_some()).collect();
    if let Some(first) = unreadable.first() {
        let mut err = CliError::usage(format!(
            "cannot read {}: {}",
            first.path,
            first.io_error.as_deref().unwrap_or("")
        ));
        if unreadable.len() > 1 {
            err = err.with_hint(format!("{} files could not be read", unreadable.len()));
        }
        err.code = EXIT_USAGE;
        return Err(err);
    }
    let failing = match args.fail_on {
        FailOn::Error => errors,
        FailOn::Warning => errors + warnings,
        FailOn::Info => errors + warnings + infos,
        FailOn::Never => 0,
    };
    Ok(if failing > 0 { ExitCode::from(EXIT_FINDINGS) } else { ExitCode::SUCCESS })
}

/// Every policy document of a template (SAM, CloudFormation, `terraform show -json`), checked, with
/// each finding placed in the template file.
fn check_template(
    text: &str,
    path: &str,
    args: &CheckArgs,
    global: &GlobalArgs,
) -> Result<Vec<Checked>, CliError> {
    let settings = super::source::template_settings(global)?;
    let expansion = iamfit_template::expand(text, path, &settings).map_err(|e| {
        let mut err = CliError::usage(e.to_string());
        if let Some(h) = e.help() {
            err = err.with_hint(h);
        }
        err
    })?;
    let catalog = Catalog::get();
    let mut out = Vec::new();
    for located in &expansion.documents {
        let kind = match (args.kind, located.kind) {
            (KindArg::Auto, iamfit_template::DocumentKind::Trust) => KindArg::Trust,
            (KindArg::Auto, iamfit_template::DocumentKind::Identity) => KindArg::Identity,
            (k, _) => k,
        };
        let doc = Document::parse(&serde_json::to_string_pretty(&located.json).unwrap_or_default());
        let mut findings = validate(&doc, kind.into(), catalog);
        let positions = findings
            .iter()
            .map(|f| {
                let pos = located.position(&f.pointer);
                (pos.line, pos.column)
            })
            .collect();
        for f in &mut findings {
            f.message = format!("{}: {}", located.owner, f.message);
        }
        out.push(Checked { path: path.to_string(), doc: None, findings, io_error: None, positions });
    }
    Ok(out)
}
