//! The generated route table (`src/data/routes.tsv`, written by `tools/gen_routes.py` from botocore's
//! service models): which services speak which protocol, their endpoint prefixes and JSON target
//! prefixes, the REST routes of REST services, and the global endpoints.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The generated table.
const ROUTES_TEXT: &str = include_str!("../data/routes.tsv");

/// One service of the table.
#[derive(Debug)]
pub struct Service {
    /// The SigV4 signing name (`s3`, `dynamodb`).
    pub signing: &'static str,
    /// The endpoint prefix: the host's first label and the CloudTrail event source.
    pub prefix: &'static str,
    /// The JSON protocol's target prefix (`DynamoDB_20120810`).
    pub target: Option<&'static str>,
    /// Its REST routes (empty for RPC protocols).
    pub routes: Vec<Route>,
}

/// One piece of a route's path template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    /// Literal text.
    Lit(&'static str),
    /// A label: one path segment (or part of one), bound to an input member.
    Label(&'static str),
    /// A greedy label (`{Key+}`): the rest of the path up to the next literal.
    Greedy(&'static str),
}

/// Where a bound value travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// The query string.
    Query,
    /// A header (lower-case name).
    Header,
}

/// One REST route.
#[derive(Debug)]
pub struct Route {
    /// The HTTP method.
    pub method: &'static str,
    /// The path template.
    pub path: Vec<Piece>,
    /// Query literals of the template (`list-type=2`, `uploads`).
    pub literals: Vec<(&'static str, Option<&'static str>)>,
    /// The operation.
    pub operation: &'static str,
    /// Query parameters and headers the operation requires.
    pub required: Vec<(Location, &'static str)>,
    /// Query parameters and headers bound to input members whose names differ.
    pub bindings: Vec<(Location, &'static str, &'static str)>,
}

/// The parsed table.
#[derive(Debug, Default)]
pub struct Table {
    /// Every service, in table order.
    pub services: Vec<Service>,
    /// Signing name -> indexes into `services`.
    pub by_signing: HashMap<&'static str, Vec<usize>>,
    /// Endpoint prefix -> global host of the `aws` partition.
    pub global: HashMap<&'static str, &'static str>,
    /// The botocore version the table was generated from.
    pub version: &'static str,
}

/// The table, parsed on first use.
pub fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| parse(ROUTES_TEXT))
}

fn parse(text: &'static str) -> Table {
    let mut t = Table::default();
    let mut lines = text.lines();
    if let Some(header) = lines.next() {
        t.version = header.split('\t').nth(2).unwrap_or("");
    }
    for line in lines {
        let f: Vec<&'static str> = line.split('\t').collect();
        match f.as_slice() {
            ["V", signing, prefix, target, _protocols] => {
                t.by_signing.entry(signing).or_default().push(t.services.len());
                t.services.push(Service {
                    signing,
                    prefix,
                    target: (*target != "-").then_some(*target),
                    routes: Vec::new(),
                });
            }
            ["R", method, template, operation, required, bindings] => {
                if let Some(service) = t.services.last_mut() {
                    service.routes.push(route(method, template, operation, required, bindings));
                }
            }
            ["G", prefix, host] => {
                t.global.insert(prefix, host);
            }
            _ => {}
        }
    }
    t
}

fn location(tag: &str) -> Option<Location> {
    match tag {
        "q" => Some(Location::Query),
        "h" => Some(Location::Header),
        _ => None,
    }
}

fn route(
    method: &'static str,
    template: &'static str,
    operation: &'static str,
    required: &'static str,
    bindings: &'static str,
) -> Route {
    let (path, query) = template.split_once('?').unwrap_or((template, ""));
    let literals = query
        .split('&')
        .filter(|q| !q.is_empty())
        .map(|q| match q.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (q, None),
        })
        .collect();
    let required = required
        .split(',')
        .filter_map(|r| r.split_once(':'))
        .filter_map(|(tag, name)| Some((location(tag)?, name)))
        .collect();
    let bindings = bindings
        .split(';')
        .filter_map(|b| {
            let (tag, rest) = b.split_once(':')?;
            let (loc, member) = rest.split_once('=')?;
            Some((location(tag)?, loc, member))
        })
        .collect();
    Route { method, path: pieces(path), literals, operation, required, bindings }
}

/// `/{Bucket}/{Key+}` -> literal `/`, label `Bucket`, literal `/`, greedy `Key`.
fn pieces(path: &'static str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let Some((lit, var)) = rest.split_at_checked(start) else { break };
        if !lit.is_empty() {
            out.push(Piece::Lit(lit));
        }
        let Some((name, after)) = var.strip_prefix('{').and_then(|v| v.split_once('}')) else {
            out.push(Piece::Lit(var));
            return out;
        };
        out.push(match name.strip_suffix('+') {
            Some(n) => Piece::Greedy(n),
            None => Piece::Label(name),
        });
        rest = after;
    }
    if !rest.is_empty() {
        out.push(Piece::Lit(rest));
    }
    out
}

/// Matches a raw (percent-encoded) request path against a template; the labels' raw values on success.
pub fn match_path(pieces: &[Piece], path: &str) -> Option<Vec<(&'static str, String)>> {
    let mut out = Vec::new();
    go(pieces, path, &mut out).then_some(out)
}

fn go(pieces: &[Piece], s: &str, out: &mut Vec<(&'static str, String)>) -> bool {
    let Some((first, rest)) = pieces.split_first() else {
        // A trailing `/` after the last label is tolerated (`GET /bucket/`).
        return s.is_empty() || s == "/";
    };
    match first {
        Piece::Lit(l) => s.strip_prefix(l).is_some_and(|tail| go(rest, tail, out)),
        Piece::Label(name) | Piece::Greedy(name) => {
            let greedy = matches!(first, Piece::Greedy(_));
            // The label's value ends before the next literal (or at the end, or at a `/` for labels).
            let limit = if greedy { s.len() } else { s.find('/').unwrap_or(s.len()) };
            let candidates: Vec<usize> = match rest.first() {
                None => vec![limit],
                Some(Piece::Lit(l)) => s
                    .match_indices(l)
                    .map(|(i, _)| i)
                    .filter(|i| *i <= limit)
                    .chain(std::iter::once(limit).filter(|_| l.starts_with('/') && !greedy))
                    .collect(),
                Some(_) => Vec::new(),
            };
            for end in candidates.into_iter().rev() {
                let Some((value, tail)) = s.split_at_checked(end) else { continue };
                if value.is_empty() {
                    continue;
                }
                let mark = out.len();
                out.push((name, value.to_string()));
                if go(rest, tail, out) {
                    return true;
                }
                out.truncate(mark);
            }
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_the_services_and_routes_of_the_models() {
        let t = table();
        assert!(t.version.starts_with("botocore "), "{}", t.version);
        let s3 = &t.services
            [t.by_signing["s3"][0..].iter().copied().find(|i| t.services[*i].prefix == "s3").unwrap()];
        assert!(s3
            .routes
            .iter()
            .any(|r| r.operation == "ListObjectsV2" && r.literals == [("list-type", Some("2"))]));
        let dynamodb = &t.services[t.by_signing["dynamodb"][0]];
        assert_eq!(dynamodb.target, Some("DynamoDB_20120810"));
        assert_eq!(t.global.get("iam"), Some(&"iam.amazonaws.com"));
    }

    #[test]
    fn paths_match_templates() {
        let p = pieces("/{Bucket}/{Key+}");
        assert_eq!(
            match_path(&p, "/b/a/b%20c.txt"),
            Some(vec![("Bucket", "b".to_string()), ("Key", "a/b%20c.txt".to_string())])
        );
        assert_eq!(match_path(&p, "/b"), None);
        assert_eq!(match_path(&pieces("/{Bucket}"), "/b/"), Some(vec![("Bucket", "b".to_string())]));
        assert_eq!(match_path(&pieces("/{Bucket}"), "/b/k"), None);
        let lambda = pieces("/2015-03-31/functions/{FunctionName}/invocations");
        assert_eq!(
            match_path(&lambda, "/2015-03-31/functions/orders/invocations"),
            Some(vec![("FunctionName", "orders".to_string())])
        );
        assert_eq!(match_path(&lambda, "/2015-03-31/functions/orders/configuration"), None);
        assert_eq!(match_path(&pieces("/"), "/"), Some(vec![]));
    }
}
