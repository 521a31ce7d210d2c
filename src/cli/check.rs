//! `iamfit check FILE...`: validate and lint policy documents. The core builds the report
//! ([`CheckReport`]); this file reads the files, renders the report and sets the exit status.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use iamfit_catalog::Catalog;
use iamfit_core::lint::report::{CheckFinding, CheckReport, CheckedFile};
use iamfit_core::lint::CheckLevel;
use iamfit_policy::parse::Encoding;

use super::choices::KindArg;
use super::report::{check_format, print, Report, FINDING_FORMATS};
use super::sarif;
use super::{CliError, CliResult, GlobalArgs, Style, EXIT_FINDINGS, EXIT_USAGE};

/// Arguments of `iamfit check`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 when nothing reaches --fail-on, 1 when a finding does, 2 when a file cannot be read.\nFinding codes are listed in docs/reference.md (\"Finding codes\")."
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

impl FailOn {
    /// The lowest level that fails, if any.
    fn level(self) -> Option<CheckLevel> {
        match self {
            FailOn::Error => Some(CheckLevel::Error),
            FailOn::Warning => Some(CheckLevel::Warning),
            FailOn::Info => Some(CheckLevel::Info),
            FailOn::Never => None,
        }
    }
}

pub fn run(args: &CheckArgs, global: &GlobalArgs, style: &Style) -> CliResult {
    check_format("check", FINDING_FORMATS, global.output)?;
    let catalog = Catalog::get();
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
    let mut checked = Vec::new();
    for path in &files {
        checked.extend(check_file(path, args, global, catalog)?);
    }
    let report = CheckReport { files: checked };
    print(&report, global.output, style)?;
    if !global.quiet {
        summarize(&report, global, style);
    }
    unreadable(&report)?;
    let failing = args.fail_on.level().is_some_and(|lowest| report.at_least(lowest) > 0);
    Ok(if failing { ExitCode::from(EXIT_FINDINGS) } else { ExitCode::SUCCESS })
}

/// Reads one file (`-`: standard input) and checks it: a policy document, or every policy document
/// of a template.
fn check_file(
    path: &PathBuf,
    args: &CheckArgs,
    global: &GlobalArgs,
    catalog: &Catalog,
) -> Result<Vec<CheckedFile>, CliError> {
    let name = path.display().to_string();
    let text = if name == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map(|_| s)
    } else {
        std::fs::read_to_string(path)
    };
    Ok(match text {
        Ok(text)
            if global.template.as_deref() == Some(path.as_path())
                || iamfit_template::looks_like_template(&text) =>
        {
            check_template(&text, &name, args, global, catalog)?
        }
        Ok(text) => vec![CheckedFile::check(&name, &text, args.kind.into(), catalog)],
        Err(e) => vec![CheckedFile::unreadable(&name, e.to_string())],
    })
}

/// Every policy document of a template (SAM, CloudFormation, `terraform show -json`), checked, with
/// each finding placed in the template file.
fn check_template(
    text: &str,
    path: &str,
    args: &CheckArgs,
    global: &GlobalArgs,
    catalog: &Catalog,
) -> Result<Vec<CheckedFile>, CliError> {
    let settings = super::source::template_settings(global)?;
    let expansion = iamfit_template::expand(text, path, &settings).map_err(|e| {
        let mut err = CliError::usage(e.to_string());
        if let Some(h) = e.help() {
            err = err.with_hint(h);
        }
        err
    })?;
    let checked = expansion.documents.iter().map(|located| {
        let kind = match (args.kind, located.kind) {
            (KindArg::Auto, iamfit_template::DocumentKind::Trust) => KindArg::Trust,
            (KindArg::Auto, iamfit_template::DocumentKind::Identity) => KindArg::Identity,
            (k, _) => k,
        };
        let document = serde_json::to_string_pretty(&located.json).unwrap_or_default();
        CheckedFile::check_embedded(path, text, &document, &located.owner, kind.into(), catalog, |pointer| {
            let pos = located.position(pointer);
            (pos.line, pos.column)
        })
    });
    Ok(checked.collect())
}

/// The summary line on stderr, and a note for each wrapped document (positions refer to its
/// decoded text).
fn summarize(report: &CheckReport, global: &GlobalArgs, style: &Style) {
    if global.output == super::OutputFormat::Table {
        for file in report.files.iter().filter(|f| !f.findings.is_empty()) {
            let wrapped = match file.encoding {
                Some(Encoding::UrlEncoded) => "URL-encoded",
                Some(Encoding::JsonString) => "a JSON string",
                _ => continue,
            };
            style.note(&format!(
                "{}: the document is {wrapped}; lines and columns refer to the decoded text",
                file.path
            ));
        }
    }
    eprintln!(
        "{} file(s) checked: {} error(s), {} warning(s), {} info; {} file(s) clean",
        report.files.len(),
        report.count(CheckLevel::Error),
        report.count(CheckLevel::Warning),
        report.count(CheckLevel::Info),
        report.clean()
    );
}

/// An input error (exit status 2) naming the first file that could not be read.
fn unreadable(report: &CheckReport) -> Result<(), CliError> {
    let files = report.unreadable();
    let Some(first) = files.first() else { return Ok(()) };
    let mut err =
        CliError::usage(format!("cannot read {}: {}", first.path, first.error.as_deref().unwrap_or("")));
    if files.len() > 1 {
        err = err.with_hint(format!("{} files could not be read", files.len()));
    }
    err.code = EXIT_USAGE;
    Err(err)
}

impl Report for CheckReport {
    /// One block per finding, as ruff prints them: `file:line:column: level[code] message`, then the
    /// source line with carets under the finding.
    fn table(&self, style: &Style) -> String {
        let mut out = String::new();
        for file in &self.files {
            for f in &file.findings {
                out += &format!(
                    "{}:{}:{}: {}[{}] {}\n",
                    style.bold(&file.path),
                    f.region.line,
                    f.region.column,
                    style.verdict(&f.level().to_string()),
                    f.code,
                    f.message
                );
                out += &excerpt(file, f, style);
            }
        }
        out
    }

    fn markdown(&self) -> String {
        let mut out = String::from("| file | line | severity | code | message |\n|---|---|---|---|---|\n");
        for file in &self.files {
            for f in &file.findings {
                out += &format!(
                    "| `{}` | {}:{} | {} | `{}` | {} |\n",
                    file.path,
                    f.region.line,
                    f.region.column,
                    f.level(),
                    f.code,
                    f.message.replace('|', "\\|")
                );
            }
        }
        out
    }

    fn sarif(&self) -> Option<sarif::Log> {
        let results: Vec<sarif::Finding<'_>> = self
            .files
            .iter()
            .flat_map(|file| {
                file.findings.iter().map(move |f| sarif::Finding {
                    rule: f.code.name(),
                    level: sarif::level(f.severity.as_str()),
                    message: f.message.clone(),
                    path: Some(file.path.as_str()),
                    region: Some((
                        (f.region.line, f.region.column),
                        (f.region.end_line, f.region.end_column),
                    )),
                })
            })
            .collect();
        Some(sarif::log_documented(&results, sarif::registry_doc))
    }
}

/// The widest source excerpt shown; longer lines are cut around the finding.
const EXCERPT_WIDTH: usize = 100;

/// The finding's source line with a gutter and carets under its span (to the end of the line when
/// the span goes on), then a blank line. Empty when the file has no such line.
fn excerpt(file: &CheckedFile, f: &CheckFinding, style: &Style) -> String {
    let Some(line) = file.source_line(f.region.line) else { return String::new() };
    let chars: Vec<char> = line.chars().map(|c| if c == '\t' { ' ' } else { c }).collect();
    let start = f.region.column.saturating_sub(1).min(chars.len());
    let end =
        if f.region.end_line == f.region.line { f.region.end_column.saturating_sub(1) } else { chars.len() };
    let end = end.clamp(start + 1, chars.len().max(start + 1));
    // A window of the line around the finding, marked with … where it is cut.
    let from = if chars.len() > EXCERPT_WIDTH { start.saturating_sub(EXCERPT_WIDTH / 3) } else { 0 };
    let to = chars.len().min(from + EXCERPT_WIDTH);
    let mut shown: String = chars.iter().skip(from).take(to - from).collect();
    let mut offset = start - from;
    if from > 0 {
        shown.insert(0, '…');
        offset += 1;
    }
    if to < chars.len() {
        shown.push('…');
    }
    let carets = end.min(to).saturating_sub(start).max(1);
    let number = f.region.line.to_string();
    let gutter = " ".repeat(number.len());
    format!(
        "{gutter} {bar}\n{} {bar} {}\n{gutter} {bar} {}{}\n\n",
        style.dim(&number),
        shown.trim_end(),
        " ".repeat(offset),
        style.bold(&"^".repeat(carets)),
        bar = style.dim("|"),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a test fails on a missing value")]
mod tests {
    use super::*;
    use iamfit_core::lint::validate::PolicyKind;
    use iamfit_core::lint::Code;

    fn plain() -> Style {
        Style::detect(true)
    }

    #[test]
    fn the_table_shows_the_source_line_with_carets() {
        let text = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:GetObjects\", \"Resource\": \"arn:aws:s3:::b/*\"}]\n}\n";
        let file = CheckedFile::check("p.json", text, PolicyKind::Identity, Catalog::embedded());
        let table = CheckReport { files: vec![file] }.table(&plain());
        let lines: Vec<&str> = table.lines().collect();
        // "s3:GetObjects" (with its quotes) starts at column 47 of line 3.
        assert_eq!(
            lines[0],
            "p.json:3:47: error[unknown-action] \"s3:GetObjects\" is not an action of s3 (did you mean s3:GetObject?)"
        );
        assert_eq!(lines[1], "  |");
        assert!(lines[2].starts_with("3 |   \"Statement\": [{\"Effect\""), "{table}");
        assert_eq!(lines[3], format!("  | {}{}", " ".repeat(46), "^".repeat(15)));
    }

    #[test]
    fn long_lines_are_cut_around_the_finding() {
        let padding = "x".repeat(300);
        let text = format!("{{\"Version\": \"2012-10-17\", \"Id\": \"{padding}\", \"Statement\": [{{\"Effect\": \"Allow\", \"Action\": \"s3:GetObjects\", \"Resource\": \"*\"}}, {{\"Sid\": \"{padding}\", \"Effect\": \"Deny\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\"}}]}}");
        let file = CheckedFile::check("p.json", &text, PolicyKind::Identity, Catalog::embedded());
        let f = file.findings.iter().find(|f| f.code == Code::UnknownAction).unwrap();
        let block = excerpt(&file, f, &plain());
        let lines: Vec<&str> = block.lines().collect();
        assert!(lines[1].chars().count() <= EXCERPT_WIDTH + 6, "{}", lines[1]);
        assert!(lines[1].starts_with("1 | …") && lines[1].ends_with('…'), "{}", lines[1]);
        let caret_at = lines[2].find('^').unwrap();
        assert_eq!(lines[1].chars().skip(caret_at).take(15).collect::<String>(), "\"s3:GetObjects\"");
    }
}
