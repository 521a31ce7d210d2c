//! The IAM policy language and AWS's policy evaluation logic.
//!
//! - Documents parsed with source positions ([`parse`], [`json`]) into a model ([`document`]).
//! - IAM wildcards ([`wildcard`]), ARN and pattern matching ([`pattern`]), condition operators
//!   ([`condition`]) and the request context with policy variables ([`context`]).
//! - The authorizer ([`eval`]): every policy layer (identity, boundary, session, resource, SCP, RCP),
//!   returning a [`eval::Decision`] with the statements that decided it.
//!
//! ```
//! use iamfit_policy::eval::{authorize, NamedPolicy, PolicySet, Request, Verdict};
//! use iamfit_policy::context::RequestContext;
//! use iamfit_policy::Policy;
//!
//! let policy = Policy::parse(r#"{"Version":"2012-10-17","Statement":[
//!     {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::orders/*"}]}"#)?;
//! let set = PolicySet { identity: vec![NamedPolicy::new("inline", policy)], ..Default::default() };
//! let context = RequestContext::default();
//! let request = Request {
//!     principal: None,
//!     action: "s3:GetObject",
//!     resource: "arn:aws:s3:::orders/2024/a.json",
//!     context: &context,
//!     resource_account: None,
//! };
//! assert_eq!(authorize(&set, &request).verdict, Verdict::Allow);
//! # Ok::<(), iamfit_policy::PolicyError>(())
//! ```

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::string_slice))]

pub mod condition;
pub mod context;
pub mod document;
pub mod eval;
pub mod finding;
pub mod json;
pub mod parse;
pub mod pattern;
pub mod wildcard;

pub use document::{Effect, Policy, Statement, Version};
pub use finding::{Finding, Severity};
pub use parse::{Document, PolicyError};
