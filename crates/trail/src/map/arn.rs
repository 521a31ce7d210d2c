//! Catalog ARN formats: filling them from request parameters, and matching ARNs against them.

use iamfit_catalog::ActionRef;

use super::request::values_at;
use super::resource::{known, Resolved};
use super::table::{key, table, Spec};
use super::Ctx;

/// Rule 4 of the resource rules: the catalog's ARN formats filled from the request.
pub(super) fn fill_from_params(
    ctx: &Ctx,
    prefix: &str,
    op: &str,
    action: ActionRef<'_>,
    formats: &[(&str, &str)],
) -> Option<Resolved> {
    let t = table();
    let full = action.full_name();
    let op_hints = t.hints.get(&key(prefix, op)).map_or(&[][..], Vec::as_slice);
    let mut hints: Vec<Spec> = op_hints
        .iter()
        .filter(|(a, _)| a.eq_ignore_ascii_case(&full))
        .flat_map(|(_, s)| s.iter().copied())
        .collect();
    if hints.is_empty() {
        // An action with no hints of its own in this call (the tagging action of a create call): the
        // variables the call's other actions name from the request (`${DbInstanceName}` of
        // `CreateDBInstance` is its `dBInstanceIdentifier`).
        hints = op_hints
            .iter()
            .flat_map(|(_, s)| s.iter().copied())
            .filter(|s| matches!(s, Spec::Var { .. }))
            .collect();
    }
    // ARN-valued hints.
    let mut arns = Vec::new();
    for spec in &hints {
        if let Spec::Arn { rtype, path } = spec {
            for v in values_at(&ctx.params, path) {
                let ok = formats.iter().any(|(rt, f)| {
                    rtype.is_none_or(|want| want.eq_ignore_ascii_case(rt)) && arn_matches(f, &v)
                });
                if ok {
                    arns.push(v);
                }
            }
        }
    }
    if let Some(r) = known(arns) {
        return Some(r);
    }
    let aliases = t.aliases.get(&prefix.to_ascii_lowercase());
    let lookup = |var: &str| -> Vec<String> {
        let specs = hints.iter().chain(aliases.into_iter().flatten());
        for spec in specs {
            if let Spec::Var { var: v, path, name_only } = spec {
                if v.eq_ignore_ascii_case(var) {
                    let vals: Vec<String> = values_at(&ctx.params, path)
                        .into_iter()
                        .map(|s| if *name_only { name_part(&s).to_string() } else { s })
                        .collect();
                    if !vals.is_empty() {
                        return vals;
                    }
                }
            }
        }
        values_at(&ctx.params, var)
    };
    let mut filled: Vec<String> = Vec::new();
    for (_, f) in formats {
        filled.extend(fill(ctx, f, &lookup));
    }
    known(drop_less_specific(filled))
}

/// Removes ARNs that are a prefix of another (a table of its index, a function of its alias).
pub(super) fn drop_less_specific(arns: Vec<String>) -> Vec<String> {
    arns.iter()
        .filter(|a| {
            !arns.iter().any(|b| {
                b.len() > a.len() && b.starts_with(a.as_str()) && matches!(b.as_bytes()[a.len()], b'/' | b':')
            })
        })
        .cloned()
        .collect()
}

/// The name part of an ARN, URL or path: after the last `/`; for `arn:...:type:name[:qualifier]`, the
/// name.
pub(super) fn name_part(v: &str) -> &str {
    if let Some((_, last)) = v.rsplit_once('/') {
        return last;
    }
    if v.starts_with("arn:") {
        return v.split(':').nth(6).unwrap_or(v);
    }
    v
}

/// One piece of an ARN format.
enum Piece<'f> {
    Lit(&'f str),
    Var(&'f str),
}

fn pieces(format: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = format;
    while let Some((lit, var)) = rest.find("${").and_then(|start| rest.split_at_checked(start)) {
        if !lit.is_empty() {
            out.push(Piece::Lit(lit));
        }
        let Some((name, after)) = var.strip_prefix("${").and_then(|v| v.split_once('}')) else {
            out.push(Piece::Lit(var));
            return out;
        };
        out.push(Piece::Var(name));
        rest = after;
    }
    if !rest.is_empty() {
        out.push(Piece::Lit(rest));
    }
    out
}

/// Variables whose values may hold `/` and `:` (paths and object keys) when last in the format.
fn is_path_var(var: &str) -> bool {
    let v = var.to_ascii_lowercase();
    v.contains("path")
        || matches!(
            v.as_str(),
            "objectname" | "parameternamewithoutleadingslash" | "key" | "logstreamname" | "loggroupname"
        )
}

fn value_ok(var: &str, value: &str, next: Option<char>) -> bool {
    if value.is_empty() || value.contains('*') {
        return false;
    }
    match next {
        // Inside the ARN: the value must not hold the delimiter that ends it.
        Some(d) => !value.contains(d),
        None => is_path_var(var) || !value.contains(['/', ':']),
    }
}

/// The first character of the literal after piece `i`, if any.
fn next_delim(ps: &[Piece<'_>], i: usize) -> Option<char> {
    match ps.get(i + 1) {
        Some(Piece::Lit(l)) => l.chars().next(),
        _ => None,
    }
}

/// Fills an ARN format; every variable must be known. Multi-valued variables multiply (capped).
fn fill(ctx: &Ctx, format: &str, lookup: &dyn Fn(&str) -> Vec<String>) -> Vec<String> {
    let ps = pieces(format);
    let mut out = vec![String::new()];
    let mut used_request_var = false;
    for (i, p) in ps.iter().enumerate() {
        match p {
            Piece::Lit(l) => out.iter_mut().for_each(|s| s.push_str(l)),
            Piece::Var(v) => {
                let vals: Vec<String> = match *v {
                    "Partition" => vec![ctx.partition.to_string()],
                    "Region" => vec![ctx.region.clone()],
                    "Account" => vec![ctx.account.clone()],
                    _ => {
                        used_request_var = true;
                        let next = next_delim(&ps, i);
                        lookup(v).into_iter().filter(|x| value_ok(v, x, next)).collect()
                    }
                };
                if vals.is_empty() || (matches!(*v, "Region" | "Account") && vals[0].is_empty()) {
                    return Vec::new();
                }
                let mut next = Vec::with_capacity(out.len() * vals.len());
                for s in &out {
                    for x in &vals {
                        if next.len() >= 1000 {
                            break;
                        }
                        next.push(format!("{s}{x}"));
                    }
                }
                out = next;
            }
        }
    }
    if used_request_var {
        out
    } else {
        Vec::new()
    }
}

/// Whether an ARN fits a catalog ARN format (variables match one segment; a path variable at the end
/// matches the rest).
pub(super) fn arn_matches(format: &str, arn: &str) -> bool {
    let ps = pieces(format);
    fn go(ps: &[Piece<'_>], s: &str) -> bool {
        match ps.split_first() {
            None => s.is_empty(),
            Some((Piece::Lit(l), rest)) => s
                .split_at_checked(l.len())
                .is_some_and(|(head, tail)| head.eq_ignore_ascii_case(l) && go(rest, tail)),
            Some((Piece::Var(v), rest)) => {
                let global = matches!(*v, "Region" | "Account");
                match rest.first() {
                    None => !s.is_empty() && !s.contains('*') && (is_path_var(v) || !s.contains([':', '/'])),
                    Some(Piece::Lit(l)) => {
                        let d = l.chars().next().unwrap_or(':');
                        match s.find(d) {
                            Some(i) if global || i > 0 => s.get(i..).is_some_and(|tail| go(rest, tail)),
                            _ => false,
                        }
                    }
                    // Two variables in a row: not in AWS's formats.
                    Some(Piece::Var(_)) => false,
                }
            }
        }
    }
    go(&ps, arn)
}
