//! The generated event table `src/data/events.tsv` (written by `tools/gen_event_map.py`, whose module
//! documentation describes every line kind), parsed once on first use.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

/// The generated table.
const TABLE_TEXT: &str = include_str!("../data/events.tsv");

/// How a request parameter fills an ARN (`H` and `A` lines).
#[derive(Debug, Clone, Copy)]
pub(super) enum Spec {
    /// `${var}` is the parameter at `path`; `name_only` keeps the name part of an ARN or URL.
    Var { var: &'static str, path: &'static str, name_only: bool },
    /// The parameter at `path` is an ARN of resource type `rtype` (any of the action's types when None).
    Arn { rtype: Option<&'static str>, path: &'static str },
}

/// What a value at a path must be for an alternative of a condition to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Test {
    /// Present and not empty.
    Present,
    /// Equal (ASCII case-insensitive).
    Equals(&'static str),
    /// Starts with (ASCII case-insensitive).
    StartsWith(&'static str),
    /// Contains (ASCII case-insensitive).
    Contains(&'static str),
}

/// One alternative of a `has:`/`no:` condition: a parameter path and a test on its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Alt {
    pub(super) path: &'static str,
    pub(super) test: Test,
}

/// When an action of an operation is needed (`R` lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum When {
    /// Always.
    Always,
    /// The request carries tags.
    Tags,
    /// The request passes a role.
    Role,
    /// One of the alternatives holds.
    Has(Vec<Alt>),
    /// None of the alternatives holds.
    No(Vec<Alt>),
}

/// One action of an operation and when it is needed.
#[derive(Debug, Clone)]
pub(super) struct Rule {
    pub(super) action: &'static str,
    pub(super) when: When,
}

#[derive(Debug, Default)]
pub(super) struct Table {
    pub(super) sources: HashMap<&'static str, &'static str>,
    pub(super) permissionless: HashSet<String>,
    /// `prefix\toperation` (lower case) -> why no IAM action authorizes it.
    pub(super) no_action: HashMap<String, &'static str>,
    pub(super) aliases: HashMap<String, Vec<Spec>>,
    /// `prefix\toperation` (lower case) -> the operation's actions and their conditions.
    pub(super) rules: HashMap<String, Vec<Rule>>,
    /// `prefix\toperation` (lower case) -> (action, specs).
    pub(super) hints: HashMap<String, Vec<(&'static str, Vec<Spec>)>>,
}

pub(super) fn parse_specs(raw: &'static str) -> Vec<Spec> {
    raw.split(';')
        .filter(|s| !s.is_empty())
        .filter_map(|s| {
            let (lhs, rhs) = s.split_once('=')?;
            if let Some(rtype) = lhs.strip_prefix('@') {
                Some(Spec::Arn { rtype: (!rtype.is_empty()).then_some(rtype), path: rhs })
            } else {
                let (path, name_only) = match rhs.strip_suffix('~') {
                    Some(p) => (p, true),
                    None => (rhs, false),
                };
                Some(Spec::Var { var: lhs, path, name_only })
            }
        })
        .collect()
}

/// `path`, `path=value`, `path^=text`, `path*=text`.
fn parse_alt(raw: &'static str) -> Option<Alt> {
    let Some((lhs, value)) = raw.split_once('=') else {
        return (!raw.is_empty()).then_some(Alt { path: raw, test: Test::Present });
    };
    let (path, test) = if let Some(p) = lhs.strip_suffix('^') {
        (p, Test::StartsWith(value))
    } else if let Some(p) = lhs.strip_suffix('*') {
        (p, Test::Contains(value))
    } else {
        (lhs, Test::Equals(value))
    };
    (!path.is_empty()).then_some(Alt { path, test })
}

/// A `when` field; `None` for `x` (never) and for text this version does not know.
pub(super) fn parse_when(raw: &'static str) -> Option<When> {
    let alts = |list: &'static str| -> Option<Vec<Alt>> { list.split('|').map(parse_alt).collect() };
    match raw {
        "-" => Some(When::Always),
        "tags" => Some(When::Tags),
        "role" => Some(When::Role),
        _ => {
            if let Some(list) = raw.strip_prefix("has:") {
                alts(list).map(When::Has)
            } else if let Some(list) = raw.strip_prefix("no:") {
                alts(list).map(When::No)
            } else {
                None
            }
        }
    }
}

/// The table key of an operation: `prefix\toperation`, lower case.
pub(super) fn key(prefix: &str, op: &str) -> String {
    let mut k = String::with_capacity(prefix.len() + op.len() + 1);
    k.push_str(prefix);
    k.push('\t');
    k.push_str(op);
    k.make_ascii_lowercase();
    k
}

pub(super) fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| parse_table(TABLE_TEXT))
}

fn parse_table(text: &'static str) -> Table {
    let mut t = Table::default();
    for line in text.lines().skip(1) {
        let f: Vec<&'static str> = line.split('\t').collect();
        match f.as_slice() {
            ["S", source, prefix, ..] => {
                t.sources.insert(source, prefix);
            }
            ["N", prefix, op, ..] => {
                t.permissionless.insert(key(prefix, op));
            }
            ["U", prefix, op, reason, ..] => {
                t.no_action.insert(key(prefix, op), reason);
            }
            ["A", prefix, spec] => {
                t.aliases.entry(prefix.to_ascii_lowercase()).or_default().extend(parse_specs(spec));
            }
            ["R", prefix, op, action, when, ..] => {
                if let Some(when) = parse_when(when) {
                    t.rules.entry(key(prefix, op)).or_default().push(Rule { action, when });
                }
            }
            ["H", prefix, op, action, specs] => {
                t.hints.entry(key(prefix, op)).or_default().push((action, parse_specs(specs)));
            }
            _ => {}
        }
    }
    // The actions always needed first (stable: the table's order otherwise).
    for rules in t.rules.values_mut() {
        rules.sort_by_key(|r| r.when != When::Always);
    }
    t
}

/// The number of entries of each kind of the embedded table: for tests and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableCounts {
    /// Event sources that are not an IAM prefix (`S`).
    pub sources: usize,
    /// Permissionless operations (`N`).
    pub permissionless: usize,
    /// Reviewed operations no IAM action authorizes (`U`).
    pub no_action: usize,
    /// Service-wide parameter aliases (`A`).
    pub aliases: usize,
    /// Operations with action rules (`R`).
    pub rule_operations: usize,
    /// Action rules (`R`).
    pub rules: usize,
    /// Resource hints (`H`).
    pub hints: usize,
}

/// The counts of the embedded table.
pub fn table_counts() -> TableCounts {
    let t = table();
    TableCounts {
        sources: t.sources.len(),
        permissionless: t.permissionless.len(),
        no_action: t.no_action.len(),
        aliases: t.aliases.values().map(Vec::len).sum(),
        rule_operations: t.rules.len(),
        rules: t.rules.values().map(Vec::len).sum(),
        hints: t.hints.values().map(Vec::len).sum(),
    }
}
