//! `terraform show -json` documents (plans and states).

use crate::error::TemplateError;
use crate::node::Node;
use crate::{Expansion, Settings};

/// Whether the document is the JSON of `terraform show -json`.
pub fn is_terraform(root: &Node) -> bool {
    root.get("format_version").is_some()
        && (root.get("planned_values").is_some()
            || root.get("values").is_some()
            || root.get("terraform_version").is_some())
}

/// Expands a `terraform show -json` document.
pub fn expand(root: &Node, path: &str, settings: &Settings) -> Result<Expansion, TemplateError> {
    let _ = (root, path, settings);
    Ok(Expansion::default())
}
