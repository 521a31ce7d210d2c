//! Writing a generated policy back into the template: the function's policies replaced in place, every
//! other byte of the file unchanged, and the change as a unified diff (`git apply`, `patch -p1`).
//!
//! - SAM: the function's `Policies` value becomes the generated documents (a flow sequence, valid YAML
//!   and JSON); without `Policies`, the key is added after the function's last property (YAML only).
//! - CloudFormation: the `Policies` of the function's role (`AWS::IAM::Role` in the template) become the
//!   generated documents, named `<FunctionLogicalId>MinimalPolicy<N>`; its `ManagedPolicyArns` stay.

use serde_json::{json, Value as J};

use crate::error::TemplateError;
use crate::node::{parse, Node, Pos};

/// Where to write the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The SAM function's `Policies`.
    Sam,
    /// The CloudFormation role's `Policies`.
    CloudFormation,
}

/// The edited template and the change as a unified diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    /// The whole file after the edit.
    pub text: String,
    /// The unified diff from the file to `text` (paths `a/PATH`, `b/PATH`).
    pub diff: String,
}

/// Replaces the policies of `function` (a logical id) in the template `text` with `documents`.
pub fn write_policies(
    text: &str,
    path: &str,
    function: &str,
    target: Target,
    documents: &[J],
) -> Result<Patch, TemplateError> {
    let root = parse(text, path)?;
    let resources = root
        .get("Resources")
        .ok_or_else(|| TemplateError::at(path, root.pos, "no Resources".into(), None))?;
    let resource = resources.get(function).ok_or_else(|| {
        TemplateError::at(
            path,
            resources.pos,
            format!("no resource {function} in the template"),
            Some("give the function's logical id with --function".into()),
        )
    })?;
    let (owner, value) = match target {
        Target::Sam => (resource, J::Array(documents.to_vec())),
        Target::CloudFormation => {
            let role_id = role_of(resource).ok_or_else(|| {
                TemplateError::at(
                    path,
                    resource.pos,
                    format!("{function}: its Role is not `!GetAtt ROLE.Arn` of a role in the template"),
                    None,
                )
            })?;
            let role = resources.get(&role_id).ok_or_else(|| {
                TemplateError::at(path, resource.pos, format!("no role {role_id} in the template"), None)
            })?;
            let named: Vec<J> = documents
                .iter()
                .enumerate()
                .map(|(i, d)| json!({"PolicyName": format!("{function}MinimalPolicy{i}"), "PolicyDocument": d}))
                .collect();
            (role, J::Array(named))
        }
    };
    let props = owner
        .get("Properties")
        .ok_or_else(|| TemplateError::at(path, owner.pos, "the resource has no Properties".into(), None))?;
    let flow = serde_json::to_string(&value).unwrap_or_default();
    let new_text = match props.get("Policies") {
        Some(policies) => replace(text, policies.pos, &flow),
        None => insert_key(text, path, props, &flow)?,
    };
    Ok(Patch { diff: unified_diff(text, &new_text, path), text: new_text })
}

fn role_of(function: &Node) -> Option<String> {
    let (name, arg) = function.get("Properties")?.get("Role")?.intrinsic()?;
    match name {
        "Fn::GetAtt" => match &arg.value {
            crate::node::Value::Seq(items) => items.first()?.as_str().map(str::to_string),
            crate::node::Value::String(s) => s.split('.').next().map(str::to_string),
            _ => None,
        },
        _ => None,
    }
}

/// The byte offset of a character index.
fn byte_offset(text: &str, chars: usize) -> usize {
    text.char_indices().nth(chars).map_or(text.len(), |(b, _)| b)
}

/// Replaces a node's text; the blank space a block collection's end marker takes in is kept.
fn replace(text: &str, pos: Pos, with: &str) -> String {
    let start = byte_offset(text, pos.start);
    let mut end = byte_offset(text, pos.end).max(start);
    let region = text.get(start..end).unwrap_or_default();
    let trimmed = region.trim_end_matches([' ', '\t', '\r', '\n']);
    end = start + trimmed.len();
    format!("{}{with}{}", text.get(..start).unwrap_or_default(), text.get(end..).unwrap_or_default())
}

/// Adds `Policies: VALUE` as the last key of a block mapping, at its keys' indentation.
fn insert_key(text: &str, path: &str, props: &Node, flow: &str) -> Result<String, TemplateError> {
    let Some((last_key, last_value)) = props.entries().last() else {
        return Err(TemplateError::at(
            path,
            props.pos,
            "empty Properties: add `Policies: []` and run again".into(),
            None,
        ));
    };
    if text.trim_start().starts_with('{') {
        return Err(TemplateError::at(
            path,
            props.pos,
            "a JSON template needs a Policies key to replace: add `\"Policies\": []`".into(),
            None,
        ));
    }
    let indent = " ".repeat(last_key.pos.column.saturating_sub(1));
    let end = byte_offset(text, last_value.pos.end);
    let line_end = text.get(end..).and_then(|rest| rest.find('\n')).map_or(text.len(), |i| end + i);
    let region = text.get(..line_end).unwrap_or_default();
    let (head, tail) =
        (region.trim_end_matches([' ', '\t', '\r', '\n']), text.get(line_end..).unwrap_or_default());
    let after = text.get(head.len()..line_end).unwrap_or_default();
    Ok(format!("{head}\n{indent}Policies: {flow}{after}{tail}"))
}

/// A unified diff of one changed region (three lines of context).
pub fn unified_diff(old: &str, new: &str, path: &str) -> String {
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
        .min(a.len() - prefix)
        .min(b.len() - prefix);
    if prefix == a.len() && a.len() == b.len() {
        return String::new();
    }
    let ctx_start = prefix.saturating_sub(3);
    let a_end = (a.len() - suffix + 3).min(a.len());
    let b_end = (b.len() - suffix + 3).min(b.len());
    let path = path.trim_start_matches("./");
    let mut out = format!(
        "--- a/{path}\n+++ b/{path}\n@@ -{},{} +{},{} @@\n",
        ctx_start + 1,
        a_end - ctx_start,
        ctx_start + 1,
        b_end - ctx_start
    );
    let line = |prefix: char, l: &str| {
        let mut s = format!("{prefix}{l}");
        if !l.ends_with('\n') {
            s.push_str("\n\\ No newline at end of file\n");
        }
        s
    };
    for l in a.get(ctx_start..prefix).unwrap_or_default() {
        out.push_str(&line(' ', l));
    }
    for l in a.get(prefix..a.len() - suffix).unwrap_or_default() {
        out.push_str(&line('-', l));
    }
    for l in b.get(prefix..b.len() - suffix).unwrap_or_default() {
        out.push_str(&line('+', l));
    }
    for l in a.get(a.len() - suffix..a_end).unwrap_or_default() {
        out.push_str(&line(' ', l));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAM: &str = "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: app.handler # the entry point\n      Policies:\n        - AmazonS3FullAccess\n        - DynamoDBCrudPolicy: {TableName: t}\n  Table:\n    Type: AWS::DynamoDB::Table\n";

    fn doc() -> J {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/*"]}]})
    }

    #[test]
    fn sam_policies_are_replaced_and_nothing_else_changes() {
        let p = write_policies(SAM, "t.yaml", "Fn", Target::Sam, &[doc()]).unwrap();
        let expected = SAM.replace(
            "- AmazonS3FullAccess\n        - DynamoDBCrudPolicy: {TableName: t}",
            r#"[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::b/*"]}]}]"#,
        );
        assert_eq!(p.text, expected);
        assert!(p.diff.starts_with("--- a/t.yaml\n+++ b/t.yaml\n@@ -5,7 +5,6 @@\n"), "{}", p.diff);
        assert!(p.diff.contains("-        - AmazonS3FullAccess\n"), "{}", p.diff);
        // The edited template still expands, with the new policy as SAM's RolePolicy0.
        let e = crate::expand(&p.text, "t.yaml", &crate::Settings::default()).unwrap();
        let role = e.account.role("FnRole").unwrap();
        assert_eq!(role.inline[0].name, "FnRolePolicy0");
        assert_eq!(role.inline[0].document.json, doc());
    }

    #[test]
    fn a_missing_policies_key_is_added_at_the_keys_indentation() {
        let text = "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: app.handler\n  Other: {Type: AWS::SQS::Queue}\n";
        let p = write_policies(text, "t.yaml", "Fn", Target::Sam, &[doc()]).unwrap();
        assert!(p.text.starts_with("Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: app.handler\n      Policies: [{"), "{}", p.text);
        assert!(p.text.ends_with("}]\n  Other: {Type: AWS::SQS::Queue}\n"), "{}", p.text);
    }

    #[test]
    fn cloudformation_replaces_the_roles_inline_policies() {
        let text = "Resources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument: {}\n      Policies:\n        - PolicyName: all\n          PolicyDocument: {Statement: [{Effect: Allow, Action: '*', Resource: '*'}]}\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      Role: !GetAtt Role.Arn\n";
        let p = write_policies(text, "t.yaml", "Fn", Target::CloudFormation, &[doc()]).unwrap();
        assert!(
            p.text.contains(
                r#"      Policies:
        [{"PolicyName":"FnMinimalPolicy0","PolicyDocument":{"#
            ),
            "{}",
            p.text
        );
        assert!(p.text.ends_with(
            "  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      Role: !GetAtt Role.Arn\n"
        ));
    }
}
