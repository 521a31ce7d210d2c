//! The catalog text format (written by `tools/gen_catalog.py` and by `iamfit catalog update`).
//!
//! UTF-8, one record per line, fields separated by tabs, no escaping (descriptions are flattened to one
//! line). The first line is the header:
//!
//! ```text
//! iamfit-catalog<TAB>1<TAB>ID[<TAB>base=ID]
//! ```
//!
//! `ID` identifies the data (the generator uses the first 16 hex digits of a SHA-256 of the body); an
//! updated catalog names the embedded catalog it was built from with `base=`. Then:
//!
//! ```text
//! C  name  type  description                    condition-key table; a key's index is its rank among C lines
//! S  prefix  display-name  source               a service; R, A and O lines up to the next S belong to it
//! R  name  arn-format[ arn-format...]  keys     a resource type; its index is its rank within the service
//! A  Name  level  source  resources  keys  dependent-actions  description
//! O  Name  authorized-actions  sdk-services     a Service Reference operation
//! ```
//!
//! - `level`: `L` List, `R` Read, `W` Write, `P` Permissions management, `T` Tagging.
//! - `source`: `c` (the primary catalog, from the Service Authorization Reference), `r` (only in AWS's
//!   Service Reference at generation time), `u` (added by `iamfit catalog update`).
//! - `keys`: comma-separated indexes into the C table.
//! - `resources`: `;`-separated items `INDEX[!][/keys][>dependent,actions]` where `INDEX` is the
//!   resource type's index in the service and `!` marks a required resource type.
//! - `dependent-actions`, `sdk-services`: comma-separated.
//! - `authorized-actions`: `;`-separated `service:Action[@key=v1|v2&key=v]` (the `@` part is the
//!   Service Reference context, e.g. `iam:PassedToService`).
//!
//! Every list is sorted case-insensitively (ASCII): C lines by name, S lines by prefix, R, A and O
//! lines by name within their service. Lookups binary-search these lists, so the parser rejects
//! unsorted input.

/// The format version this build reads and writes.
pub const VERSION: &str = "1";

/// The first field of the header line.
pub const MAGIC: &str = "iamfit-catalog";

/// Splits a separated list, skipping empty items.
pub(crate) fn split_list(raw: &str, sep: char) -> impl Iterator<Item = &str> {
    raw.split(sep).filter(|s| !s.is_empty())
}

/// One item of an action's `resources` field.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResourceItem<'t> {
    pub index: usize,
    pub required: bool,
    pub keys: &'t str,
    pub deps: &'t str,
}

impl<'t> ResourceItem<'t> {
    /// Parses `INDEX[!][/keys][>deps]`.
    pub fn parse(item: &'t str) -> Option<Self> {
        let (head, deps) = item.split_once('>').unwrap_or((item, ""));
        let (head, keys) = head.split_once('/').unwrap_or((head, ""));
        let (num, required) = match head.strip_suffix('!') {
            Some(n) => (n, true),
            None => (head, false),
        };
        Some(ResourceItem { index: num.parse().ok()?, required, keys, deps })
    }
}
