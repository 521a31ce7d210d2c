//! The parser of the catalog text format ([`super::format`]). Zero-copy: every string borrows from the
//! text. Lists that are looked up by binary search are checked to be sorted; indexes are checked to be
//! in range, so that the accessors never fail later.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::OnceLock;

use super::format::{self, ResourceItem};
use super::types::template_split;
use super::{
    cmp_ci, AccessLevel, ActionRec, Catalog, CatalogError, ConditionKeyDef, ConditionType, Operation, Origin,
    ResourceType, ServiceRec, Source,
};

fn err(line: usize, message: impl Into<String>) -> CatalogError {
    CatalogError::Syntax { line, message: message.into() }
}

fn check_sorted(prev: Option<&str>, name: &str, line: usize, what: &str) -> Result<(), CatalogError> {
    match prev.map(|p| cmp_ci(p, name)) {
        Some(Ordering::Less) | None => Ok(()),
        Some(_) => Err(err(line, format!("{what} `{name}` is out of order or duplicated"))),
    }
}

fn check_keys(raw: &str, n_keys: usize, line: usize) -> Result<(), CatalogError> {
    for item in format::split_list(raw, ',') {
        match item.parse::<usize>() {
            Ok(i) if i < n_keys => {}
            _ => return Err(err(line, format!("bad condition-key index `{item}`"))),
        }
    }
    Ok(())
}

/// Splits `line` at tabs into at most `N` fields (the last field keeps any further tabs). A byte loop:
/// fields are short, so this beats `str::split`'s searcher by a wide margin.
pub(super) fn fields<const N: usize>(line: &str) -> ([&str; N], usize) {
    let mut out = [""; N];
    let bytes = line.as_bytes();
    let mut start = 0;
    let mut n = 0;
    let mut i = 0;
    // Stop scanning once the last field starts: descriptions are long and never split.
    while n + 1 < N && i < bytes.len() {
        if bytes[i] == b'\t' {
            // Tabs are ASCII, so these are char boundaries and `get` always succeeds.
            out[n] = line.get(start..i).unwrap_or_default();
            n += 1;
            start = i + 1;
        }
        i += 1;
    }
    out[n] = line.get(start..).unwrap_or_default();
    (out, n + 1)
}

/// The lines of a catalog text, numbered from 1 (`\r\n` tolerated).
struct Lines {
    text: &'static str,
    pos: usize,
    line: usize,
    /// Where the line last returned starts.
    start: usize,
}

impl Lines {
    fn next_line(&mut self) -> Option<(usize, &'static str)> {
        let rest = self.text.get(self.pos..).filter(|r| !r.is_empty())?;
        self.line += 1;
        self.start = self.pos;
        let (line, used) = match rest.split_once('\n') {
            Some((line, _)) => (line, line.len() + 1),
            None => (rest, rest.len()),
        };
        self.pos += used;
        Some((self.line, line.strip_suffix('\r').unwrap_or(line)))
    }

    /// Skips to the next `S` line (or the end) and returns the text from the start of the line last
    /// returned up to there.
    fn skip_block(&mut self) -> &'static str {
        // `start` and `pos` are line starts (offset 0 or just after a `\n`), so `get` always succeeds.
        let start = self.start;
        let rest = self.text.get(self.pos..).unwrap_or_default();
        let len = if rest.starts_with("S\t") { 0 } else { rest.find("\nS\t").map_or(rest.len(), |i| i + 1) };
        self.line += rest.as_bytes()[..len].iter().filter(|&&b| b == b'\n').count();
        self.pos += len;
        self.text.get(start..self.pos).unwrap_or_default()
    }
}

/// Parses a service's block of `O` lines (lenient: malformed lines are skipped), sorted by name.
pub(super) fn parse_operations(service: &'static str, block: &'static str) -> Vec<Operation> {
    let mut ops: Vec<Operation> = block
        .lines()
        .filter_map(|line| {
            let (f, count) = fields::<4>(line);
            (f[0] == "O" && count == 4 && !f[1].is_empty()).then_some(Operation {
                service,
                name: f[1],
                authorized_raw: f[2],
                sdk_raw: f[3],
            })
        })
        .collect();
    if !ops.windows(2).all(|w| cmp_ci(w[0].name, w[1].name) == Ordering::Less) {
        ops.sort_by(|a, b| cmp_ci(a.name, b.name));
        ops.dedup_by(|a, b| cmp_ci(a.name, b.name) == Ordering::Equal);
    }
    ops
}

/// The fields of one record line after its kind, taken in order.
struct Fields {
    parts: [&'static str; 4],
    count: usize,
    next: usize,
    line: usize,
}

impl Fields {
    fn of(line: &'static str, n: usize) -> Fields {
        let (parts, count) = fields::<4>(line);
        Fields { parts, count, next: 1, line: n }
    }

    /// The next field, or an error naming it.
    fn take(&mut self, what: &str) -> Result<&'static str, CatalogError> {
        let i = self.next;
        self.next += 1;
        if i < self.count {
            Ok(self.parts[i])
        } else {
            Err(err(self.line, format!("missing field `{what}`")))
        }
    }
}

/// Parses catalog text; `validate` also checks every index and field of every action.
pub(super) fn parse(text: &'static str, validate: bool) -> Result<Catalog, CatalogError> {
    let mut lines = Lines { text, pos: 0, line: 0, start: 0 };
    let header = lines.next_line().map(|(_, l)| l).unwrap_or("");
    let mut cat = empty_catalog(header, text.len())?;
    while let Some((n, line)) = lines.next_line() {
        if line.is_empty() {
            continue;
        }
        if line.starts_with("O\t") {
            // Operations are parsed on first use (`Catalog::operations`): skip the service's block.
            let Some(svc) = cat.services.last_mut() else {
                return Err(err(n, "record before the first service"));
            };
            svc.ops_text = lines.skip_block();
            continue;
        }
        // `A` lines (most of the text) are split in their own branch, and only up to the description.
        match line.split_once('\t').map_or(line, |(k, _)| k) {
            "C" => condition_key(&mut cat, Fields::of(line, n))?,
            "S" => service(&mut cat, Fields::of(line, n))?,
            "R" => resource_type(&mut cat, Fields::of(line, n))?,
            "A" => action(&mut cat, line, n, validate)?,
            other => return Err(err(n, format!("unknown record type `{other}`"))),
        }
    }
    Ok(cat)
}

/// The catalog the header line announces, with nothing in it yet.
fn empty_catalog(header: &'static str, size: usize) -> Result<Catalog, CatalogError> {
    let mut head = header.split('\t');
    if head.next() != Some(format::MAGIC) || head.next() != Some(format::VERSION) {
        return Err(CatalogError::BadHeader {
            expected: format::VERSION,
            found: header.chars().take(60).collect(),
        });
    }
    let id = head.next().unwrap_or("");
    let base = head.find_map(|f| f.strip_prefix("base="));
    // Rough sizes of the embedded catalog's lists, to avoid regrowing them.
    let scale = size / 4_000_000 + 1;
    Ok(Catalog {
        id,
        base,
        keys: Vec::with_capacity(1_700 * scale),
        key_index: HashMap::with_capacity(1_700 * scale),
        key_templates: Vec::new(),
        services: Vec::with_capacity(470 * scale),
        resource_types: Vec::with_capacity(2_400 * scale),
        actions: Vec::with_capacity(22_500 * scale),
        operations: OnceLock::new(),
        origin: Origin::Text,
    })
}

/// A `C` record: a condition key (all of them come before the services).
fn condition_key(cat: &mut Catalog, mut f: Fields) -> Result<(), CatalogError> {
    let n = f.line;
    if !cat.services.is_empty() {
        return Err(err(n, "condition keys must come before the services"));
    }
    let name = f.take("name")?;
    let value_type = ConditionType::parse(f.take("type")?);
    let description = f.take("description")?;
    check_sorted(cat.keys.last().map(|k| k.name), name, n, "condition key")?;
    let idx = cat.keys.len() as u32;
    cat.key_index.insert(name.to_ascii_lowercase(), idx);
    if let Some((pre, post)) = template_split(name) {
        cat.key_templates.push((pre.to_ascii_lowercase(), post.to_ascii_lowercase(), idx));
    }
    cat.keys.push(ConditionKeyDef { name, value_type, description });
    Ok(())
}

/// An `S` record: a service, whose resource types and actions follow.
fn service(cat: &mut Catalog, mut f: Fields) -> Result<(), CatalogError> {
    let n = f.line;
    let prefix = f.take("prefix")?;
    let name = f.take("name")?;
    let source = Source::from_code(f.take("source")?).ok_or_else(|| err(n, "bad source"))?;
    if prefix.is_empty() || prefix.contains(':') {
        return Err(err(n, format!("bad service prefix `{prefix}`")));
    }
    check_sorted(cat.services.last().map(|s| s.prefix), prefix, n, "service")?;
    let r = cat.resource_types.len() as u32;
    let a = cat.actions.len() as u32;
    cat.services.push(ServiceRec { prefix, name, source, rts: (r, r), actions: (a, a), ops_text: "" });
    Ok(())
}

/// An `R` record: a resource type of the last service (before its actions).
fn resource_type(cat: &mut Catalog, mut f: Fields) -> Result<(), CatalogError> {
    let n = f.line;
    let n_keys = cat.keys.len();
    let Some(svc) = cat.services.last_mut() else {
        return Err(err(n, "record before the first service"));
    };
    if svc.actions.0 != svc.actions.1 {
        return Err(err(n, "resource types must come before actions"));
    }
    let name = f.take("name")?;
    let arns = f.take("arn formats")?;
    let keys = f.take("condition keys")?;
    check_keys(keys, n_keys, n)?;
    let prev = (svc.rts.1 > svc.rts.0).then(|| cat.resource_types[svc.rts.1 as usize - 1].name);
    check_sorted(prev, name, n, "resource type")?;
    svc.rts.1 += 1;
    cat.resource_types.push(ResourceType {
        service: svc.prefix,
        name,
        arn_formats: format::split_list(arns, ' ').collect(),
        condition_keys: format::split_list(keys, ',')
            .filter_map(|i| i.parse::<usize>().ok())
            .filter_map(|i| cat.keys.get(i).map(|k| k.name))
            .collect(),
    });
    Ok(())
}

/// An `A` record: an action of the last service; `validate` checks its resource items and keys too.
fn action(cat: &mut Catalog, line: &'static str, n: usize, validate: bool) -> Result<(), CatalogError> {
    let n_keys = cat.keys.len();
    let svc_idx = cat.services.len().saturating_sub(1) as u32;
    let Some(svc) = cat.services.last_mut() else {
        return Err(err(n, "record before the first service"));
    };
    // `A`, name, level, source, then the rest (split on access).
    let ([_, name, level, source, rest], count) = fields::<5>(line);
    if count < 5 {
        return Err(err(n, "missing fields"));
    }
    let level = AccessLevel::from_code(level).ok_or_else(|| err(n, "bad access level"))?;
    let source = Source::from_code(source).ok_or_else(|| err(n, "bad source"))?;
    if validate {
        validate_action(name, rest, n_keys, (svc.rts.1 - svc.rts.0) as usize, n)?;
    }
    let prev = (svc.actions.1 > svc.actions.0).then(|| cat.actions[svc.actions.1 as usize - 1].name);
    check_sorted(prev, name, n, "action")?;
    svc.actions.1 += 1;
    cat.actions.push(ActionRec { service: svc_idx, name, level, source, rest });
    Ok(())
}

/// The checks of an action's name, resource items and condition-key indexes.
fn validate_action(
    name: &str,
    rest: &str,
    n_keys: usize,
    n_rts: usize,
    n: usize,
) -> Result<(), CatalogError> {
    let ([resources, keys, _deps, _desc], count) = fields::<4>(rest);
    if count < 4 {
        return Err(err(n, "missing fields"));
    }
    if name.is_empty() || name.contains([':', '*', '?']) {
        return Err(err(n, format!("bad action name `{name}`")));
    }
    check_keys(keys, n_keys, n)?;
    for item in format::split_list(resources, ';') {
        match ResourceItem::parse(item) {
            Some(r) if r.index < n_rts => check_keys(r.keys, n_keys, n)?,
            _ => return Err(err(n, format!("bad resource item `{item}`"))),
        }
    }
    Ok(())
}
