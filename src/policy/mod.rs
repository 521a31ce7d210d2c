//! The IAM policy language: documents parsed with source positions, wildcard and ARN matching,
//! policy variables, condition operators, and validation findings.

pub mod condition;
pub mod context;
pub mod document;
pub mod finding;
pub mod json;
pub mod parse;
pub mod pattern;
pub mod validate;
pub mod wildcard;

pub use document::{Effect, Policy, Statement, Version};
pub use finding::{Finding, Severity};
pub use parse::{Document, PolicyError};
