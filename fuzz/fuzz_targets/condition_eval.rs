//! Condition operators and patterns on structured input: an operator name (every family, with the
//! `ForAllValues:`/`ForAnyValue:` qualifiers and the `IfExists` suffix, or free text), a key, policy
//! values and request context values (single or multivalued), then `Condition::new` and `evaluate`.
//! Also `Pattern` / `ResourcePattern` with policy variables and ARN matching, checked against a
//! simple reference wildcard matcher.
#![no_main]

use arbitrary::Arbitrary;
use iamfit_policy::condition::{parse_date, Condition, Network, Operator};
use iamfit_policy::context::{ContextValue, RequestContext};
use iamfit_policy::pattern::{variable_problems, Pattern, ResourcePattern, Syntax};
use iamfit_policy::wildcard;
use libfuzzer_sys::fuzz_target;

const OPERATORS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
];

const KEYS: &[&str] = &[
    "aws:SourceIp",
    "aws:username",
    "aws:userid",
    "aws:PrincipalTag/team",
    "aws:TagKeys",
    "aws:CurrentTime",
    "aws:EpochTime",
    "aws:SecureTransport",
    "aws:SourceArn",
    "s3:max-keys",
    "kms:EncryptionContext:x",
    "AWS:SOURCEIP",
];

/// Values that get past each operator's parser, and variable forms.
const VALUES: &[&str] = &[
    "",
    "*",
    "?",
    "alice",
    "ALICE",
    "a*e",
    "a?ice",
    "true",
    "false",
    "TRUE",
    "10",
    "-1.5",
    "1e3",
    "1e400",
    "0x10",
    "2024-06-30T00:00:00Z",
    "2024-06-30",
    "2024-06-30T12:00:00+02:00",
    "1719748800",
    "99999999999999999999",
    "203.0.113.0/24",
    "203.0.113.7",
    "0.0.0.0/0",
    "2001:db8::/32",
    "2001:db8::1",
    "::/0",
    "10.0.0.1/33",
    "aGVsbG8=",
    "hello",
    "arn:aws:s3:::bucket/*",
    "arn:aws:s3:::bucket/key",
    "arn:aws:lambda:us-east-1:123456789012:function:f",
    "arn:aws:iam::123456789012:user/${aws:username}",
    "arn:${aws:partition}:s3:::${aws:username}/*",
    "arn:aws:*:*:*:*",
    "arn:aws",
    "${aws:username}",
    "${aws:PrincipalTag/team, 'none'}",
    "${aws:missing, 'dflt'}",
    "${aws:missing,'x'}",
    "${*}",
    "${?}",
    "${$}",
    "${",
    "${}",
    "${a b}",
    "home/${aws:username}/*",
    "pre${*}post",
];

#[derive(Arbitrary, Debug)]
enum Text {
    Pick(u8),
    Raw(String),
}

impl Text {
    fn get(&self, table: &[&str]) -> String {
        match self {
            Text::Pick(i) => table[usize::from(*i) % table.len()].to_string(),
            Text::Raw(s) => s.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum OpName {
    Built { base: u8, qualifier: u8, if_exists: bool },
    Raw(String),
}

impl OpName {
    fn name(&self) -> String {
        match self {
            OpName::Built { base, qualifier, if_exists } => {
                let prefix = ["", "ForAllValues:", "ForAnyValue:"][usize::from(*qualifier) % 3];
                let suffix = if *if_exists { "IfExists" } else { "" };
                format!("{prefix}{}{suffix}", OPERATORS[usize::from(*base) % OPERATORS.len()])
            }
            OpName::Raw(s) => s.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum CtxValue {
    Single(Text),
    Multi(Vec<Text>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    operator: OpName,
    key: Text,
    values: Vec<Text>,
    variables: bool,
    context: Vec<(Text, CtxValue)>,
    /// Free-form pattern/text pairs for the matchers.
    patterns: Vec<(Text, Text)>,
}

/// Reference wildcard matcher over characters: dynamic programming, obviously correct.
fn reference_match(pattern: &[char], text: &[char]) -> bool {
    let mut row = vec![false; text.len() + 1];
    row[0] = true;
    for &p in pattern {
        let mut next = vec![false; text.len() + 1];
        for j in 0..=text.len() {
            next[j] = match p {
                '*' => row[j] || (j > 0 && next[j - 1]),
                '?' => j > 0 && row[j - 1],
                c => j > 0 && row[j - 1] && text[j - 1] == c,
            };
        }
        row = next;
    }
    row[text.len()]
}

fuzz_target!(|input: Input| {
    let mut ctx = RequestContext::new();
    for (key, value) in &input.context {
        let key = key.get(KEYS);
        match value {
            CtxValue::Single(v) => ctx.set(&key, v.get(VALUES)),
            CtxValue::Multi(vs) => {
                ctx.insert(&key, ContextValue::Multi(vs.iter().map(|v| v.get(VALUES)).collect()))
            }
        }
    }

    let name = input.operator.name();
    let key = input.key.get(KEYS);
    let values: Vec<String> = input.values.iter().map(|v| v.get(VALUES)).collect();
    for v in &values {
        let _ = (parse_date(v), Network::parse(v), variable_problems(v));
    }
    if let Ok(op) = name.parse::<Operator>() {
        assert_eq!(op.to_string(), name, "operator name does not round-trip");
        if let Ok(cond) = Condition::new(op, &key, values, input.variables) {
            let result = cond.evaluate(&ctx);
            // Evaluation is a pure function of the context.
            assert_eq!(result, cond.evaluate(&ctx.clone()));
            let _ = (cond.key_lowercase(), cond.string_values());
        }
    }

    for (pattern, text) in input.patterns.iter().take(8) {
        let pattern = pattern.get(VALUES);
        let text = text.get(VALUES);
        let plain = wildcard::matches(&pattern, &text);
        let _ = wildcard::matches_ignore_ascii_case(&pattern, &text);
        if pattern.len() <= 64 && text.len() <= 64 {
            let p: Vec<char> = pattern.chars().collect();
            let t: Vec<char> = text.chars().collect();
            assert_eq!(plain, reference_match(&p, &t), "wildcard::matches({pattern:?}, {text:?})");
        }
        for wildcards in [false, true] {
            for variables in [false, true] {
                let syntax = Syntax { wildcards, variables };
                let p = Pattern::new(&pattern, syntax);
                let m = p.matches(&text, &ctx);
                let _ =
                    (p.as_str(), p.is_match_all(), p.has_wildcards(), p.resolve(&ctx), p.variables().count());
                if !variables {
                    let expected = if wildcards { plain } else { pattern == text };
                    assert_eq!(m, expected, "Pattern::new({pattern:?}, {syntax:?}).matches({text:?})");
                }
                let r = ResourcePattern::new(&pattern, syntax);
                let _ = (r.matches(&text, &ctx), r.is_any());
            }
        }
    }
});
