//! iamfit: AWS IAM parity and least privilege for teams that run AWS Lambda.
//!
//! The library follows the data flow of the tool:
//!
//! - [`policy`]: the IAM policy language: documents parsed with source positions, wildcard and ARN
//!   matching, policy variables, condition operators, validation findings.
//! - [`catalog`]: the embedded IAM action catalog: services, actions, access levels, resource types.
//! - [`eval`]: the authorizer: AWS's policy evaluation logic over every policy layer, returning a
//!   decision and the statements that decided it.

pub mod account;
pub mod analyze;
pub mod assume;
pub mod catalog;
pub mod eval;
pub mod graph;
pub mod policy;
pub mod trail;
