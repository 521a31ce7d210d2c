//! Witness resources: the resources on which the two principals are compared for one action.
//!
//! A witness must be something a request could name: it has the form of one of the action's
//! resource types (the catalog's ARN templates, such as
//! `arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}`). A template variable stands
//! for one segment, not for any text: it cannot contain the character that follows it in the
//! template (`${TableName}/index/...`: no `/`), and a variable that ends a template cannot contain the
//! character by which another template of the same service extends it (a table name has no `/`
//! because `table/${TableName}/index/${IndexName}` exists; a log group name may contain `/` but not
//! `:`). A Resource entry of a policy becomes a witness by being shaped to such a form: the most
//! general pattern that both matches the entry and has the form ([`ResourceForm::shape`]);
//! `arn:aws:s3:::dev-*` becomes `arn:aws:s3:::dev-*/*` for an object action, and
//! `table/orders/index/*` is no witness of an item action at all.

use std::collections::HashMap;

use iamfit_catalog::ActionRef;
use iamfit_policy::context::{Layered, RequestContext};
use iamfit_policy::wildcard;

use crate::account::Subject;

/// One element of a resource type's ARN template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FormToken {
    /// A literal character.
    Lit(char),
    /// A template variable: one or more characters, none of them in the list.
    Var(Vec<char>),
}

/// The form of one resource type: its ARN template, with the variables' limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceForm {
    /// The resource type's name (`table`, `object`).
    pub type_name: &'static str,
    /// The catalog's template.
    pub template: &'static str,
    tokens: Vec<FormToken>,
}

/// One element of a resource pattern (a policy's Resource entry or a concrete ARN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PatToken {
    Lit(char),
    /// `*`: any text.
    Any,
    /// `?`: any one character.
    One,
}

fn pattern_tokens(pattern: &str) -> Vec<PatToken> {
    pattern
        .chars()
        .map(|c| match c {
            '*' => PatToken::Any,
            '?' => PatToken::One,
            c => PatToken::Lit(c),
        })
        .collect()
}

impl ResourceForm {
    /// The form of `template`, with `${Partition}` fixed to `partition` and each variable's limits
    /// read from the template and its `siblings` (the other templates of the same service).
    pub fn new(type_name: &'static str, template: &'static str, siblings: &[&str], partition: &str) -> Self {
        let mut tokens = Vec::new();
        let mut rest = template;
        while let Some((before, body)) = rest.split_once("${") {
            tokens.extend(before.chars().map(FormToken::Lit));
            let Some((name, after)) = body.split_once('}') else {
                rest = body;
                continue;
            };
            if name == "Partition" {
                tokens.extend(partition.chars().map(FormToken::Lit));
            } else {
                let excluded = match after.chars().next() {
                    Some(next) => vec![next],
                    None => {
                        // The template ends with this variable: it cannot contain what siblings add.
                        let prefix_len = template.len() - after.len();
                        let prefix = template.get(..prefix_len).unwrap_or(template);
                        let mut ex: Vec<char> = siblings
                            .iter()
                            .filter_map(|s| s.strip_prefix(prefix))
                            .filter_map(|s| s.chars().next())
                            .collect();
                        ex.sort_unstable();
                        ex.dedup();
                        ex
                    }
                };
                tokens.push(FormToken::Var(excluded));
            }
            rest = after;
        }
        tokens.extend(rest.chars().map(FormToken::Lit));
        ResourceForm { type_name, template, tokens }
    }

    /// The most general pattern that matches `pattern` and has this form, or `None` when no resource
    /// of this type matches `pattern`.
    pub fn shape(&self, pattern: &str) -> Option<String> {
        let p = pattern_tokens(pattern);
        let failed = vec![false; (p.len() + 1) * (self.tokens.len() + 1) * 2];
        let mut walk = Walk { p: &p, f: &self.tokens, out: Vec::new(), failed };
        walk.from(0, 0, false).then(|| walk.out.into_iter().collect())
    }

    /// Whether a concrete resource (or a pattern, read literally) has this form. Each variable but the
    /// last stops at the literal that follows it (which it cannot contain), so one pass decides.
    pub fn fits(&self, resource: &str) -> bool {
        let mut chars = resource.chars().peekable();
        for (k, token) in self.tokens.iter().enumerate() {
            match token {
                FormToken::Lit(c) => {
                    if chars.next() != Some(*c) {
                        return false;
                    }
                }
                FormToken::Var(excluded) => {
                    let stop = match self.tokens.get(k + 1) {
                        Some(FormToken::Lit(next)) => Some(*next),
                        _ => None,
                    };
                    let mut taken = 0;
                    while let Some(&c) = chars.peek() {
                        if Some(c) == stop {
                            break;
                        }
                        if excluded.contains(&c) {
                            return false;
                        }
                        chars.next();
                        taken += 1;
                    }
                    if taken == 0 {
                        return false;
                    }
                }
            }
        }
        chars.next().is_none()
    }
}

/// The search for a common pattern of a resource pattern and a form: a depth-first walk over both,
/// remembering the states from which no end can be reached.
struct Walk<'a> {
    p: &'a [PatToken],
    f: &'a [FormToken],
    out: Vec<char>,
    /// States known to fail: index `(i * (f.len() + 1) + j) * 2 + used`.
    failed: Vec<bool>,
}

impl Walk<'_> {
    /// Whether the rest can be matched from pattern position `i`, form position `j` (`used`: the
    /// variable at `j` has taken at least one character).
    fn from(&mut self, i: usize, j: usize, used: bool) -> bool {
        if i == self.p.len() && j == self.f.len() {
            return true;
        }
        let state = (i * (self.f.len() + 1) + j) * 2 + usize::from(used);
        if self.failed.get(state).copied().unwrap_or(true) {
            return false;
        }
        let mark = self.out.len();
        if self.step(i, j, used) {
            return true;
        }
        self.out.truncate(mark);
        if let Some(slot) = self.failed.get_mut(state) {
            *slot = true;
        }
        false
    }

    fn emit(&mut self, c: char) {
        if !(c == '*' && self.out.last() == Some(&'*')) {
            self.out.push(c);
        }
    }

    /// Tries each way on from (i, j), restoring the output between tries.
    fn attempt(&mut self, emit: Option<char>, i: usize, j: usize, used: bool) -> bool {
        let mark = self.out.len();
        if let Some(c) = emit {
            self.emit(c);
        }
        if self.from(i, j, used) {
            return true;
        }
        self.out.truncate(mark);
        false
    }

    fn step(&mut self, i: usize, j: usize, used: bool) -> bool {
        let (p, f) = (self.p.get(i).copied(), self.f.get(j).cloned());
        match (p, f) {
            // Over a variable, `*` stays `*` (ending there, or going on past the variable), or matches
            // nothing; over a literal, it matches nothing more, or takes the literal.
            (Some(PatToken::Any), Some(FormToken::Var(_))) => {
                self.attempt(Some('*'), i + 1, j, true)
                    || self.attempt(Some('*'), i, j + 1, false)
                    || self.attempt(None, i + 1, j, used)
            }
            (Some(PatToken::Any), Some(FormToken::Lit(c))) => {
                self.attempt(None, i + 1, j, used) || self.attempt(Some(c), i, j + 1, false)
            }
            (Some(PatToken::Any), None) => self.attempt(None, i + 1, j, used),
            (Some(PatToken::Lit(c)), Some(FormToken::Lit(d))) => {
                c == d && self.attempt(Some(c), i + 1, j + 1, false)
            }
            (Some(PatToken::One), Some(FormToken::Lit(d))) => self.attempt(Some(d), i + 1, j + 1, false),
            (Some(tok), Some(FormToken::Var(excluded))) => {
                if used && self.attempt(None, i, j + 1, false) {
                    return true;
                }
                match tok {
                    PatToken::Lit(c) if !excluded.contains(&c) => self.attempt(Some(c), i + 1, j, true),
                    PatToken::One => self.attempt(Some('?'), i + 1, j, true),
                    _ => false,
                }
            }
            (None, Some(FormToken::Var(_))) => used && self.attempt(None, i, j + 1, false),
            _ => false,
        }
    }
}

/// The forms of an action's resource types (none for actions that take `*` only).
pub fn action_forms(action: ActionRef<'_>, partition: &str) -> Vec<ResourceForm> {
    let siblings: Vec<&str> =
        action.service_ref().resource_types().iter().flat_map(|t| t.arn_formats.iter().copied()).collect();
    action
        .resource_types()
        .iter()
        .flat_map(|t| {
            let siblings = &siblings;
            t.resource_type
                .arn_formats
                .iter()
                .map(move |f| ResourceForm::new(t.resource_type.name, f, siblings, partition))
        })
        .collect()
}

/// Shapes patterns to forms, remembering each result (many actions share a service's forms).
#[derive(Default)]
pub struct Shaper {
    cache: HashMap<&'static str, HashMap<String, Option<String>>>,
}

impl Shaper {
    /// [`ResourceForm::shape`], cached.
    pub fn shape(&mut self, form: &ResourceForm, pattern: &str) -> Option<String> {
        let by_pattern = self.cache.entry(form.template).or_default();
        if let Some(hit) = by_pattern.get(pattern) {
            return hit.clone();
        }
        let shaped = form.shape(pattern);
        by_pattern.insert(pattern.to_string(), shaped.clone());
        shaped
    }
}

/// Whether witness `witness` (of form `form`) covers the concrete resource `resource`: the resource
/// has the form and the witness, read as an IAM pattern, matches it.
pub fn covers(witness: &str, form: Option<&ResourceForm>, resource: &str) -> bool {
    match form {
        None => witness == "*",
        Some(form) => form.fits(resource) && arn_matches(witness, resource),
    }
}

/// IAM's ARN matching: the first five `:`-separated fields match one by one, the resource part may
/// contain colons.
fn arn_matches(pattern: &str, resource: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let r: Vec<&str> = resource.splitn(6, ':').collect();
    if p.len() != 6 || r.len() != 6 {
        return wildcard::matches(pattern, resource);
    }
    p.iter().zip(&r).all(|(a, b)| wildcard::matches(a, b))
}

/// Which statements' Resource elements match a resource: equal signatures give equal decisions
/// for every action (conditions do not depend on the resource's name), so a concrete resource
/// with the signature of a witness that covers it adds nothing.
pub struct Signatures<'a> {
    subjects: [&'a Subject; 2],
}

impl<'a> Signatures<'a> {
    /// Signatures over the statements of both principals.
    pub fn new(local: &'a Subject, prod: &'a Subject) -> Self {
        Signatures { subjects: [local, prod] }
    }

    /// The signature of a resource (read literally) as the local account names it and as production
    /// names it: one bit per statement, and the account field.
    pub fn of(&self, local_name: &str, prod_name: &str) -> (Vec<bool>, String) {
        let empty = RequestContext::new();
        let mut bits = Vec::new();
        for (subject, resource) in self.subjects.iter().zip([local_name, prod_name]) {
            let scope = Layered { first: &empty, second: subject.principal.implicit_context() };
            let set = &subject.policies;
            for named in set.identity.iter().chain(set.boundary.iter()).chain(set.session.iter()) {
                for st in &named.policy.statements {
                    bits.push(st.resource.as_ref().is_none_or(|r| r.matches(resource, &scope)));
                }
            }
        }
        let account = prod_name.split(':').nth(4).unwrap_or("").to_string();
        (bits, account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}";
    const INDEX: &str =
        "arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}/index/${IndexName}";
    const BUCKET: &str = "arn:${Partition}:s3:::${BucketName}";
    const OBJECT: &str = "arn:${Partition}:s3:::${BucketName}/${ObjectName}";
    const LOG_GROUP: &str = "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}";
    const LOG_STREAM: &str =
        "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}:log-stream:${LogStreamName}";
    const SECRET: &str = "arn:${Partition}:secretsmanager:${Region}:${Account}:secret:${SecretId}";

    fn form(template: &'static str, siblings: &[&str]) -> ResourceForm {
        ResourceForm::new("t", template, siblings, "aws")
    }

    #[test]
    fn a_table_name_is_one_segment() {
        // Service Authorization Reference, "Actions, resources, and condition keys for Amazon
        // DynamoDB": DeleteItem acts on `table` only; `index` is table/NAME/index/NAME.
        let table = form(TABLE, &[TABLE, INDEX]);
        let t = "arn:aws:dynamodb:us-east-1:111122223333:table/orders";
        assert_eq!(table.shape(t).as_deref(), Some(t));
        assert_eq!(table.shape(&format!("{t}/index/*")), None, "an index is not a table");
        assert_eq!(table.shape(&format!("{t}*")).as_deref(), Some(format!("{t}*").as_str()));
        assert_eq!(table.shape("*").as_deref(), Some("arn:aws:dynamodb:*:*:table/*"));
        assert!(table.fits(t));
        assert!(!table.fits(&format!("{t}/index/by-customer")));
        let index = form(INDEX, &[TABLE, INDEX]);
        assert_eq!(
            index.shape("arn:aws:dynamodb:us-east-1:111122223333:table/orders*").as_deref(),
            Some("arn:aws:dynamodb:us-east-1:111122223333:table/orders*/index/*")
        );
        assert_eq!(index.shape(t), None);
    }

    #[test]
    fn an_object_needs_a_key_part() {
        // Amazon S3 object ARNs are arn:aws:s3:::BUCKET/KEY ("Amazon S3 resources", S3 User Guide).
        let object = form(OBJECT, &[BUCKET, OBJECT]);
        assert_eq!(
            object.shape("arn:aws:s3:::dev-sandbox-*").as_deref(),
            Some("arn:aws:s3:::dev-sandbox-*/*")
        );
        assert_eq!(object.shape("arn:aws:s3:::bucket/*").as_deref(), Some("arn:aws:s3:::bucket/*"));
        assert_eq!(object.shape("arn:aws:s3:::bucket"), None, "a bucket is not an object");
        assert!(object.fits("arn:aws:s3:::bucket/invoices/2026/a.json"), "keys may contain /");
        let bucket = form(BUCKET, &[BUCKET, OBJECT]);
        assert_eq!(bucket.shape("arn:aws:s3:::bucket/*"), None, "bucket names have no /");
        assert_eq!(bucket.shape("*").as_deref(), Some("arn:aws:s3:::*"));
    }

    #[test]
    fn names_that_may_hold_slashes_keep_them() {
        // Log group names may contain `/` (/aws/lambda/NAME); secret names too (orders/db).
        let group = form(LOG_GROUP, &[LOG_GROUP, LOG_STREAM]);
        let g = "arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/orders";
        assert_eq!(group.shape(g).as_deref(), Some(g));
        assert_eq!(group.shape(&format!("{g}:log-stream:x")), None);
        let stream = form(LOG_STREAM, &[LOG_GROUP, LOG_STREAM]);
        assert_eq!(stream.shape(&format!("{g}:*")).as_deref(), Some(format!("{g}:log-stream:*").as_str()));
        let secret = form(SECRET, &[SECRET]);
        let s = "arn:aws:secretsmanager:us-east-1:111122223333:secret:orders/db-*";
        assert_eq!(secret.shape(s).as_deref(), Some(s));
        let queue = form("arn:${Partition}:sqs:${Region}:${Account}:${QueueName}", &[]);
        let q = "arn:aws:sqs:us-east-1:111122223333:dev-*";
        assert_eq!(queue.shape(q).as_deref(), Some(q), "a trailing * is kept");
    }

    #[test]
    fn fields_before_the_resource_part_are_fixed_or_one_segment() {
        let table = form(TABLE, &[TABLE, INDEX]);
        assert_eq!(table.shape("arn:aws:s3:::bucket"), None);
        assert_eq!(table.shape("arn:aws:dynamodb:us-east-1::table/x"), None, "the account is not empty");
        assert_eq!(
            table.shape("arn:aws:dynamodb:*:111122223333:table/x").as_deref(),
            Some("arn:aws:dynamodb:*:111122223333:table/x")
        );
        assert_eq!(form(TABLE, &[]).shape("arn:aws-cn:dynamodb:r:1:table/x"), None, "another partition");
    }

    #[test]
    fn witnesses_cover_resources_of_their_form() {
        let table = form(TABLE, &[TABLE, INDEX]);
        let w = "arn:aws:dynamodb:*:*:table/*";
        assert!(covers(w, Some(&table), "arn:aws:dynamodb:us-east-1:111122223333:table/orders"));
        assert!(!covers(w, Some(&table), "arn:aws:dynamodb:us-east-1:111122223333:table/orders/index/x"));
        assert!(!covers(
            "arn:aws:dynamodb:us-east-1:111122223333:table/payments",
            Some(&table),
            "arn:aws:dynamodb:us-east-1:111122223333:table/orders"
        ));
        assert!(covers("*", None, "*"));
    }
}
