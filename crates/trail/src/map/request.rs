//! What a record's `requestParameters` show: values at a path, the conditions of the action rules
//! (`when` of the generated table), the tags and the roles a request passes.

use serde_json::Value;

use super::table::{Alt, Test, When};

/// The parameter `name` of an object (exact key first, then ASCII case-insensitive).
pub(super) fn param<'v>(params: &'v Value, name: &str) -> Option<&'v Value> {
    let obj = params.as_object()?;
    obj.get(name).or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

/// The parameter `name` when it is a non-empty string.
pub(super) fn param_str<'v>(params: &'v Value, name: &str) -> Option<&'v str> {
    param(params, name).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// The values at a path such as `entries[].eventBusName` (case-insensitive keys; lists are walked).
pub(super) fn nodes_at<'v>(v: &'v Value, path: &str) -> Vec<&'v Value> {
    let mut cur: Vec<&Value> = vec![v];
    for seg in path.split('.') {
        let seg = seg.trim_end_matches("[]");
        let mut next = Vec::new();
        for c in cur {
            match c {
                Value::Array(items) => next.extend(items.iter().filter_map(|i| param(i, seg))),
                other => next.extend(param(other, seg)),
            }
        }
        cur = next;
    }
    cur
}

/// The non-empty strings at a path (a list of strings at the end gives each).
pub(super) fn values_at(v: &Value, path: &str) -> Vec<String> {
    let mut out = Vec::new();
    for node in nodes_at(v, path) {
        match node {
            Value::String(s) if !s.is_empty() => out.push(s.clone()),
            Value::Array(a) => {
                out.extend(a.iter().filter_map(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string))
            }
            _ => {}
        }
    }
    out
}

/// Whether a value says something: a non-empty string, list or object, `true`, or a number.
fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(_) => true,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.as_bytes().get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

fn contains_ci(s: &str, needle: &str) -> bool {
    needle.is_empty() || s.as_bytes().windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

fn alt_holds(params: &Value, alt: &Alt) -> bool {
    let nodes = nodes_at(params, alt.path);
    let text_test = |s: &str| match alt.test {
        Test::Present => !s.is_empty(),
        Test::Equals(v) => s.eq_ignore_ascii_case(v),
        // Statements may start with blanks.
        Test::StartsWith(v) => starts_with_ci(s.trim_start(), v),
        Test::Contains(v) => contains_ci(s, v),
    };
    nodes.into_iter().any(|node| match (alt.test, node) {
        (Test::Present, v) => is_present(v),
        (_, Value::String(s)) => text_test(s),
        (_, Value::Bool(b)) => text_test(if *b { "true" } else { "false" }),
        (_, Value::Array(items)) => items.iter().filter_map(Value::as_str).any(text_test),
        _ => false,
    })
}

/// Whether a rule's condition holds for the request.
pub(super) fn holds(when: &When, params: &Value) -> bool {
    match when {
        When::Always => true,
        When::Tags => has_tags(params),
        When::Role => !passed_roles(params, "aws", "").is_empty(),
        When::Has(alts) => alts.iter().any(|a| alt_holds(params, a)),
        When::No(alts) => !alts.iter().any(|a| alt_holds(params, a)),
    }
}

/// The request parameters that carry the tags a create call sets (CloudTrail records them under the
/// API's member name: `tags` in most services, `tagSpecificationSet` in EC2, the `x-amz-tagging`
/// header in S3).
const TAG_KEYS: &[&str] = &[
    "tags",
    "tagList",
    "tagSet",
    "tagSpecifications",
    "tagSpecificationSet",
    "tagSpecification",
    "resourceTags",
    "x-amz-tagging",
];

fn is_tag_key(k: &str) -> bool {
    TAG_KEYS.iter().any(|t| t.eq_ignore_ascii_case(k))
}

/// Whether the request carries tags: a non-empty tag parameter at the top level or inside the
/// `...Request` object newer EC2 records wrap their parameters in (`CreateFlowLogsRequest`).
pub(super) fn has_tags(params: &Value) -> bool {
    let Some(obj) = params.as_object() else { return false };
    obj.iter().any(|(k, v)| {
        (is_tag_key(k) && is_present(v))
            || (k.ends_with("Request")
                && v.as_object().is_some_and(|o| o.iter().any(|(k, v)| is_tag_key(k) && is_present(v))))
    })
}

/// The roles a request passes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct PassedRoles {
    /// Role ARNs (sorted, distinct): role ARNs anywhere in the request, and `roleName` values (a role
    /// named without its ARN is assumed to have no path).
    pub(super) arns: Vec<String>,
    /// The request names an instance profile: the role it holds is passed, but the record does not
    /// say which.
    pub(super) instance_profile: bool,
}

impl PassedRoles {
    pub(super) fn is_empty(&self) -> bool {
        self.arns.is_empty() && !self.instance_profile
    }
}

fn is_role_arn(s: &str) -> bool {
    s.starts_with("arn:") && s.contains(":iam::") && s.contains(":role/")
}

/// The roles the request passes (`iam:PassRole`): role ARNs in any parameter (`role`, `roleArn`,
/// `executionRoleArn`, EC2's `DeliverLogsPermissionArn`, S3 replication's `Role`, ...), `roleName`
/// (`AddRoleToInstanceProfile`) and `iamInstanceProfile` (`RunInstances`, `AssociateIamInstanceProfile`).
pub(super) fn passed_roles(params: &Value, partition: &str, account: &str) -> PassedRoles {
    let mut out = PassedRoles::default();
    collect_roles(params, None, partition, account, &mut out);
    out.arns.sort();
    out.arns.dedup();
    out
}

fn collect_roles(v: &Value, key: Option<&str>, partition: &str, account: &str, out: &mut PassedRoles) {
    match v {
        Value::String(s) if is_role_arn(s) => out.arns.push(s.clone()),
        Value::String(s)
            if !s.is_empty()
                && !s.contains([':', '/'])
                && key.is_some_and(|k| k.eq_ignore_ascii_case("roleName")) =>
        {
            out.arns.push(format!("arn:{partition}:iam::{account}:role/{s}"));
        }
        Value::Array(items) => items.iter().for_each(|i| collect_roles(i, key, partition, account, out)),
        Value::Object(m) => {
            for (k, v) in m {
                if k.eq_ignore_ascii_case("iamInstanceProfile") {
                    out.instance_profile |= is_present(v);
                } else {
                    collect_roles(v, Some(k), partition, account, out);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::table::parse_when;
    use super::*;
    use serde_json::json;

    fn when(raw: &'static str) -> When {
        parse_when(raw).unwrap()
    }

    #[test]
    fn conditions() {
        let p = json!({"versionId": "v1", "statement": "  select * FROM t", "requestItems": [{"operation": "Put"}, {"operation": "Update"}], "flag": false, "n": 0});
        assert!(holds(&when("has:versionId"), &p));
        assert!(!holds(&when("no:versionId"), &p));
        assert!(holds(&when("no:other|flag"), &p), "false is not present");
        assert!(holds(&when("has:n"), &p));
        assert!(holds(&when("has:statement^=SELECT"), &p));
        assert!(!holds(&when("has:statement^=INSERT"), &p));
        assert!(holds(&when("has:requestItems[].operation=update"), &p));
        assert!(!holds(&when("has:requestItems[].operation=Delete|transactItems[].delete"), &p));
        assert!(holds(&when("has:statement*=from T"), &p));
        assert!(holds(&when("has:flag=false"), &p));
        assert_eq!(parse_when("x"), None);
        assert_eq!(parse_when("has:"), None);
    }

    #[test]
    fn tags_and_roles() {
        assert!(has_tags(&json!({"tags": {"a": "b"}})));
        assert!(!has_tags(&json!({"tags": []})));
        assert!(has_tags(&json!({"tagSpecificationSet": {"items": [{"resourceType": "instance"}]}})));
        assert!(has_tags(&json!({"CreateFlowLogsRequest": {"TagSpecification": {"tag": 1}}})));
        assert!(!has_tags(&json!({"tagging": ""})));
        let r = passed_roles(
            &json!({"roleName": "web", "x": {"serviceRole": "arn:aws:iam::1:role/a/b"}, "role": "arn:aws:iam::1:role/a/b"}),
            "aws",
            "1",
        );
        assert_eq!(r.arns, vec!["arn:aws:iam::1:role/a/b", "arn:aws:iam::1:role/web"]);
        assert!(!r.instance_profile);
        let r = passed_roles(&json!({"iamInstanceProfile": {"name": "web"}}), "aws", "1");
        assert!(r.instance_profile && r.arns.is_empty());
        assert!(passed_roles(&json!({"roleArn": "arn:aws:sts::1:assumed-role/r/s"}), "aws", "1").is_empty());
    }
}
