//! DynamoDB resources: the table (and index) of item calls; the tables of batch calls; for
//! transactions, the tables of the items that use the action; for PartiQL, the tables of the statements
//! of the action's kind.
//!
//! CloudTrail writes batch and transaction requests in these shapes (AWS's log examples,
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/understanding-ddb-log-entries.html>,
//! and the API's own shapes, which recordings use):
//!
//! - `TransactWriteItems`: `requestItems: [{"operation": "Put"|"Update"|"Delete"|"ConditionCheck",
//!   "tableName" | "TableName": ...}]`, or `transactItems: [{"put": {"tableName": ...}}, ...]`;
//! - `TransactGetItems`: the same with `Get`;
//! - `BatchGetItem`/`BatchWriteItem`: `requestItems: {"TABLE": ...}` (a map by table), or a list of items
//!   with `tableName`;
//! - `BatchExecuteStatement`: `requestItems: [{"statement": ...}]`; `ExecuteStatement`: `statement`;
//!   `ExecuteTransaction`: `transactStatements: [{"statement": ...}]`.
//!
//! When none of these names a table, the record's `resources[]` (which lists the tables) decides.

use serde_json::Value;

use iamfit_catalog::ActionRef;

use super::request::{nodes_at, param, param_str, values_at};
use super::resource::{known, Resolved};
use super::Ctx;

/// The resources of a DynamoDB action, or `None` to let the generic rules decide.
pub(super) fn resources(
    ctx: &Ctx,
    op: &str,
    action: ActionRef<'_>,
    has_type: &dyn Fn(&str) -> bool,
) -> Option<Resolved> {
    let p = &ctx.params;
    let name = action.name();
    if let Some(verb) = name.strip_prefix("PartiQL") {
        let arns: Vec<String> = statements(p)
            .iter()
            .filter(|s| first_word_is(s, verb))
            .filter_map(|s| statement_target(s))
            .map(|(table, index)| match index {
                Some(i) if has_type("index") => format!("{}/index/{i}", table_arn(ctx, &table)),
                _ => table_arn(ctx, &table),
            })
            .collect();
        return known(arns);
    }
    if matches!(op, "TransactWriteItems" | "TransactGetItems") {
        let mut tables = transaction_tables(p, item_kind(name));
        if tables.is_empty() && op == "TransactGetItems" {
            tables = transaction_tables(p, None);
        }
        return known(tables.iter().map(|t| table_arn(ctx, t)).collect());
    }
    if let Some(items) = param(p, "requestItems") {
        let tables: Vec<String> = match items {
            Value::Object(by_table) => by_table.keys().cloned().collect(),
            list => item_tables(list, None),
        };
        return known(tables.iter().map(|t| table_arn(ctx, t)).collect());
    }
    let table = param_str(p, "tableName")?;
    match param_str(p, "indexName") {
        Some(i) if has_type("index") => known(vec![format!("{}/index/{i}", table_arn(ctx, table))]),
        _ if has_type("table") => known(vec![table_arn(ctx, table)]),
        _ => None,
    }
}

/// A table name (or ARN) -> the table ARN.
fn table_arn(ctx: &Ctx, table: &str) -> String {
    if table.starts_with("arn:") {
        table.to_string()
    } else {
        format!("arn:{}:dynamodb:{}:{}:table/{table}", ctx.partition, ctx.region, ctx.account)
    }
}

/// The transaction item kind an item action serves (`PutItem` -> `Put`).
fn item_kind(action: &str) -> Option<&'static str> {
    Some(match action {
        "PutItem" => "Put",
        "UpdateItem" => "Update",
        "DeleteItem" => "Delete",
        "ConditionCheckItem" => "ConditionCheck",
        "GetItem" => "Get",
        _ => return None,
    })
}

/// The tables of the items of a list of the documented shape (`operation` + `tableName`), of one kind
/// or of every kind.
fn item_tables(list: &Value, kind: Option<&str>) -> Vec<String> {
    let Value::Array(items) = list else { return Vec::new() };
    items
        .iter()
        .filter(|item| {
            kind.is_none_or(|k| param_str(item, "operation").is_some_and(|o| o.eq_ignore_ascii_case(k)))
        })
        .filter_map(|item| param_str(item, "tableName").map(str::to_string))
        .collect()
}

/// The tables of a transaction's items of one kind (or of every kind), in both shapes.
fn transaction_tables(p: &Value, kind: Option<&str>) -> Vec<String> {
    let mut out = param(p, "requestItems").map(|l| item_tables(l, kind)).unwrap_or_default();
    if let Some(Value::Array(items)) = param(p, "transactItems") {
        for item in items {
            let bodies: Vec<&Value> = match kind {
                Some(k) => param(item, k).into_iter().collect(),
                None => item.as_object().map(|o| o.values().collect()).unwrap_or_default(),
            };
            out.extend(bodies.into_iter().filter_map(|b| param_str(b, "tableName")).map(str::to_string));
        }
    }
    out
}

/// Every PartiQL statement of the request.
fn statements(p: &Value) -> Vec<String> {
    let mut out = values_at(p, "statement");
    for path in ["requestItems[].statement", "statements[].statement", "transactStatements[].statement"] {
        out.extend(nodes_at(p, path).into_iter().filter_map(Value::as_str).map(str::to_string));
    }
    out
}

fn first_word_is(statement: &str, verb: &str) -> bool {
    statement.split_whitespace().next().is_some_and(|w| w.eq_ignore_ascii_case(verb))
}

/// The table (and index) a PartiQL statement reads or writes: after `FROM` (`SELECT`, `DELETE`),
/// `INTO` (`INSERT`) or `UPDATE`; names may be quoted, an index is `"table"."index"`.
fn statement_target(statement: &str) -> Option<(String, Option<String>)> {
    let words: Vec<&str> = statement.split_whitespace().collect();
    let verb = words.first()?;
    let after = if verb.eq_ignore_ascii_case("UPDATE") {
        "UPDATE"
    } else if verb.eq_ignore_ascii_case("INSERT") {
        "INTO"
    } else {
        "FROM"
    };
    let pos = words.iter().position(|w| w.eq_ignore_ascii_case(after))?;
    let target = words.get(pos + 1)?.trim_end_matches([';', ',']);
    let mut parts = target.split("\".\"").map(|s| s.trim_matches('"').to_string());
    let table = parts.next().filter(|t| !t.is_empty())?;
    Some((table, parts.next().filter(|i| !i.is_empty())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_targets() {
        let t = |s| statement_target(s);
        assert_eq!(t("SELECT * FROM Music WHERE Artist = 'x'"), Some(("Music".into(), None)));
        assert_eq!(
            t("select a from \"Music\".\"by-artist\" where a = 1"),
            Some(("Music".into(), Some("by-artist".into())))
        );
        assert_eq!(
            t("UPDATE Music SET Album = ***(Redacted) WHERE Artist = 'x'"),
            Some(("Music".into(), None))
        );
        assert_eq!(t("INSERT INTO \"Music\" VALUE {'Artist' : ***(Redacted)}"), Some(("Music".into(), None)));
        assert_eq!(t("DELETE FROM Music WHERE Artist = 'x'"), Some(("Music".into(), None)));
        assert_eq!(t("EXISTS"), None);
        assert!(first_word_is("  SELECT 1", "Select"));
    }
}
