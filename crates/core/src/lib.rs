//! The core of iamfit: the account model, the permission graph and the analyses, behind two ports.
//!
//! - [`account`]: users, groups, roles, managed policies, functions and caller identities, and the
//!   snapshot folder that stores them.
//! - [`graph`]: a principal's permission graph (principal, groups, policies, statements).
//! - [`analyze`]: `diff` (local-vs-prod parity), effective permissions, `audit`, `generate`.
//! - [`lint`]: the policy validator and its findings.
//! - [`source`]: the ports: where the account comes from ([`source::AccountSource`]) and where usage
//!   comes from ([`source::UsageSource`]).

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::string_slice))]

pub mod account;
pub mod analyze;
pub mod catalog_view;
pub mod explain;
pub mod graph;
pub mod lint;
pub mod local_run;
pub mod resolve;
pub mod source;
pub mod trust;
