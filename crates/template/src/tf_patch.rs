//! Writing a generated policy back into Terraform source: the `.tf` files of the configuration a
//! `terraform show -json` document came from. The role's inline policies are replaced in place,
//! every other byte unchanged, and the change is given as a unified diff (`git apply`, `patch -p1`).
//!
//! The role is the `aws_iam_role` resource (an address of the root module, `aws_iam_role.app`). Its
//! inline policies are the `policy` attributes of the `aws_iam_role_policy` resources whose `role`
//! refers to it and of its own `inline_policy` blocks, in file order. The first generated documents
//! replace those values (as `jsonencode({...})`); a slot left over is removed (its resource or block);
//! documents left over become new `aws_iam_role_policy` resources after the role's block. Attached
//! managed policies (`aws_iam_role_policy_attachment`) stay, as `ManagedPolicyArns` stay in the
//! CloudFormation patch.
//!
//! Strings are written with `${` and `%{` escaped (`$${`, `%%{`): Terraform would otherwise read IAM
//! policy variables (`${aws:username}`) as its own interpolation (Terraform language, "Strings and
//! Templates": <https://developer.hashicorp.com/terraform/language/expressions/strings>).

use std::ops::Range;

use hcl_edit::structure::{Block, Body, Structure};
use hcl_edit::Span;
use serde_json::Value as J;

use crate::error::TemplateError;
use crate::patch::{unified_diff, Patch};

/// One `.tf` file: its path (as the diff names it) and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The path, relative to where the patch is applied.
    pub path: String,
    /// The text.
    pub text: String,
}

/// Where an inline policy of the role stands.
#[derive(Debug, Clone)]
struct Slot {
    /// Which file.
    file: usize,
    /// The `policy` value's bytes.
    value: Range<usize>,
    /// The bytes to remove when the slot is not needed (the resource or the `inline_policy` block,
    /// with its line).
    whole: Range<usize>,
    /// The column the slot's attributes are indented to (for the value's own lines).
    indent: usize,
}

/// The role's block: which file, and where its block ends (new resources go after it).
struct RoleBlock {
    file: usize,
    end: usize,
}

/// Replaces the inline policies of `role` (`aws_iam_role.NAME`) in `files` with `documents`.
pub fn write_role_policies(
    files: &[SourceFile],
    role: &str,
    documents: &[J],
) -> Result<Patch, TemplateError> {
    let name = role.strip_prefix("aws_iam_role.").filter(|n| !n.contains('.')).ok_or_else(|| {
        TemplateError::Invalid {
            path: files.first().map(|f| f.path.clone()).unwrap_or_default(),
            line: 1,
            column: 1,
            message: format!("the function's role {role} is not an aws_iam_role of the root module"),
            help: Some(
                "iamfit patches roles of the root module only; paste the printed policy instead".into(),
            ),
        }
    })?;
    let bodies = files
        .iter()
        .map(|f| hcl_edit::parser::parse_body(&f.text).map_err(|e| syntax(&f.path, &e.to_string())))
        .collect::<Result<Vec<Body>, _>>()?;
    let mut slots = Vec::new();
    let mut role_block = None;
    for (i, body) in bodies.iter().enumerate() {
        let text = &files[i].text;
        for block in body.iter().filter_map(Structure::as_block).filter(|b| b.ident.as_str() == "resource") {
            match labels(block).as_slice() {
                ["aws_iam_role", n] if *n == name => {
                    role_block = block.span().map(|s| RoleBlock { file: i, end: s.end });
                    slots.extend(inline_policy_blocks(block, text, i));
                }
                ["aws_iam_role_policy", _] if refers_to(block, text, name) => {
                    slots.extend(policy_slot(block, text, i, block.span()));
                }
                _ => {}
            }
        }
    }
    let role_block = role_block.ok_or_else(|| TemplateError::Invalid {
        path: files.first().map(|f| f.path.clone()).unwrap_or_default(),
        line: 1,
        column: 1,
        message: format!("resource \"aws_iam_role\" \"{name}\" is not in the .tf files read"),
        help: Some("run iamfit where the configuration's .tf files are (next to the plan)".into()),
    })?;
    let edited = edit(files, &slots, &role_block, name, documents);
    let diff: String =
        files.iter().zip(&edited).map(|(f, new)| unified_diff(&f.text, new, &f.path)).collect();
    let text = edited.get(role_block.file).cloned().unwrap_or_default();
    Ok(Patch { text, diff })
}

/// The `.tf` files of `dir` (not its subfolders), by name, with paths as `dir` joined with the name.
pub fn read_sources(dir: &std::path::Path) -> Result<Vec<SourceFile>, TemplateError> {
    let io =
        |e: std::io::Error| TemplateError::Io { path: dir.display().to_string(), message: e.to_string() };
    let mut paths: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "tf") && p.is_file())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p)
                .map_err(|e| TemplateError::Io { path: p.display().to_string(), message: e.to_string() })?;
            Ok(SourceFile { path: p.display().to_string(), text })
        })
        .collect()
}

fn syntax(path: &str, message: &str) -> TemplateError {
    TemplateError::Syntax { path: path.to_string(), line: 1, column: 1, message: message.to_string() }
}

fn labels(block: &Block) -> Vec<&str> {
    block.labels.iter().map(|l| l.as_str()).collect()
}

/// Whether an `aws_iam_role_policy`'s `role` refers to `aws_iam_role.NAME` (`.id`, `.name`).
fn refers_to(block: &Block, text: &str, name: &str) -> bool {
    let reference = format!("aws_iam_role.{name}.");
    attribute_text(block, text, "role").is_some_and(|t| t.trim().starts_with(&reference))
}

fn attribute_text<'t>(block: &Block, text: &'t str, key: &str) -> Option<&'t str> {
    let attr = block.body.get_attribute(key)?;
    text.get(attr.value.span()?)
}

/// The slot of a block's `policy` attribute; `whole` is the block (from its line's start).
fn policy_slot(block: &Block, text: &str, file: usize, whole: Option<Range<usize>>) -> Option<Slot> {
    let value = block.body.get_attribute("policy")?.value.span()?;
    let whole = whole?;
    let line_start = text.get(..whole.start).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
    let line_end = text.get(whole.end..).and_then(|t| t.find('\n')).map_or(text.len(), |i| whole.end + i + 1);
    let value_line = text.get(..value.start).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
    let indent = text.get(value_line..value.start).map_or(0, |l| l.len() - l.trim_start().len());
    Some(Slot { file, value, whole: line_start..line_end, indent })
}

/// The `inline_policy` blocks of the role.
fn inline_policy_blocks(role: &Block, text: &str, file: usize) -> Vec<Slot> {
    role.body
        .iter()
        .filter_map(Structure::as_block)
        .filter(|b| b.ident.as_str() == "inline_policy")
        .filter_map(|b| policy_slot(b, text, file, b.span()))
        .collect()
}

/// The files after the edit.
fn edit(files: &[SourceFile], slots: &[Slot], role: &RoleBlock, name: &str, documents: &[J]) -> Vec<String> {
    // Edits per file, applied from the end so that earlier offsets stay valid.
    let mut edits: Vec<Vec<(Range<usize>, String)>> = vec![Vec::new(); files.len()];
    for (i, slot) in slots.iter().enumerate() {
        let replacement = match documents.get(i) {
            Some(doc) => (slot.value.clone(), format!("jsonencode({})", hcl(doc, slot.indent))),
            None => (slot.whole.clone(), String::new()),
        };
        if let Some(list) = edits.get_mut(slot.file) {
            list.push(replacement);
        }
    }
    let extra: String = documents
        .iter()
        .enumerate()
        .skip(slots.len())
        .map(|(i, doc)| {
            format!(
                "\n\nresource \"aws_iam_role_policy\" \"{name}_minimal_{n}\" {{\n  name   = \"{name}-minimal-{n}\"\n  role   = aws_iam_role.{name}.id\n  policy = jsonencode({})\n}}",
                hcl(doc, 2),
                n = i + 1
            )
        })
        .collect();
    if !extra.is_empty() {
        if let Some(list) = edits.get_mut(role.file) {
            list.push((role.end..role.end, extra));
        }
    }
    files
        .iter()
        .zip(edits)
        .map(|(f, mut list)| {
            list.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
            let mut text = f.text.clone();
            for (range, replacement) in list {
                if text.get(range.clone()).is_some() {
                    text.replace_range(range, &replacement);
                }
            }
            text
        })
        .collect()
}

/// A JSON value as an HCL expression, objects and lists on their own lines indented from `indent`.
pub fn hcl(value: &J, indent: usize) -> String {
    let pad = " ".repeat(indent + 2);
    let close = " ".repeat(indent);
    match value {
        J::Object(map) if !map.is_empty() => {
            let items: Vec<String> =
                map.iter().map(|(k, v)| format!("{pad}{} = {}", string(k), hcl(v, indent + 2))).collect();
            format!("{{\n{}\n{close}}}", items.join("\n"))
        }
        J::Array(list) if !list.is_empty() => {
            let items: Vec<String> = list.iter().map(|v| format!("{pad}{}", hcl(v, indent + 2))).collect();
            format!("[\n{},\n{close}]", items.join(",\n"))
        }
        J::Object(_) => "{}".into(),
        J::Array(_) => "[]".into(),
        J::String(s) => string(s),
        other => other.to_string(),
    }
}

/// A quoted HCL string: JSON escapes, and Terraform's template sequences escaped.
fn string(s: &str) -> String {
    let json = J::String(s.to_string()).to_string();
    json.replace("${", "$${").replace("%{", "%%{")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    const MAIN_TF: &str = r#"# the function's role
resource "aws_iam_role" "app" {
  name               = "orders-fn-role"
  assume_role_policy = data.aws_iam_policy_document.trust.json
}

resource "aws_iam_role_policy" "wide" {
  name = "wide"
  role = aws_iam_role.app.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "dynamodb:*", Resource = "*" }]
  })
}

resource "aws_iam_role_policy" "other" {
  role   = aws_iam_role.other.id
  policy = "{}"
}
"#;

    fn doc(action: &str) -> J {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [action], "Resource": ["arn:aws:s3:::b/${aws:username}/*"]}]})
    }

    fn files() -> Vec<SourceFile> {
        vec![SourceFile { path: "main.tf".into(), text: MAIN_TF.into() }]
    }

    #[test]
    fn the_role_policy_value_is_replaced_and_nothing_else_changes() {
        let p = write_role_policies(&files(), "aws_iam_role.app", &[doc("s3:GetObject")]).unwrap();
        let start = MAIN_TF.find("policy = jsonencode(").unwrap() + "policy = ".len();
        let end = MAIN_TF.find("  })\n}").unwrap() + "  })".len();
        assert_eq!(p.text.get(..start), MAIN_TF.get(..start), "everything before is unchanged");
        assert!(p.text.ends_with(MAIN_TF.get(end..).unwrap()), "everything after is unchanged");
        assert!(p.text.contains("\"Action\" = [\n"), "{}", p.text);
        // The policy variable survives Terraform's interpolation.
        assert!(p.text.contains("\"arn:aws:s3:::b/$${aws:username}/*\""), "{}", p.text);
        assert!(p.diff.starts_with("--- a/main.tf\n+++ b/main.tf\n"), "{}", p.diff);
        // The result parses as HCL again.
        hcl_edit::parser::parse_body(&p.text).unwrap();
    }

    #[test]
    fn extra_documents_become_resources_and_extra_slots_go() {
        let two =
            write_role_policies(&files(), "aws_iam_role.app", &[doc("s3:GetObject"), doc("sqs:SendMessage")])
                .unwrap();
        assert!(two.text.contains("resource \"aws_iam_role_policy\" \"app_minimal_2\""), "{}", two.text);
        assert!(two.text.contains("role   = aws_iam_role.app.id"));
        hcl_edit::parser::parse_body(&two.text).unwrap();
        let none = write_role_policies(&files(), "aws_iam_role.app", &[]).unwrap();
        assert!(!none.text.contains("\"wide\""), "the unneeded policy is removed: {}", none.text);
        assert!(none.text.contains("resource \"aws_iam_role_policy\" \"other\""), "another role's stays");
    }

    #[test]
    fn a_role_not_in_the_files_is_a_clear_error() {
        let e = write_role_policies(&files(), "aws_iam_role.gone", &[doc("s3:GetObject")]).unwrap_err();
        assert!(e.to_string().contains("resource \"aws_iam_role\" \"gone\" is not in the .tf files"), "{e}");
        let e = write_role_policies(&files(), "module.m.aws_iam_role.app", &[]).unwrap_err();
        assert!(e.to_string().contains("root module"), "{e}");
    }
}
