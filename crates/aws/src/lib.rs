//! The AWS adapter: the only crate of iamfit that talks to AWS, through the official `aws-sdk-*`
//! crates. It implements the core's ports for live accounts ([`live`]) and for CloudTrail in S3
//! ([`s3`]) and through LookupEvents ([`lookup`]), assumes roles through STS ([`sts`]), reads a deployed stack's physical ids and AWS managed policies
//! for templates ([`stack`]), and records a
//! local run's calls through a loopback endpoint ([`record`]).

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::string_slice))]

pub mod athena;
pub mod error;
pub mod live;
pub mod lookup;
pub mod organization;
pub mod process;
pub mod record;
pub mod resource_policies;
pub mod runtime;
pub mod s3;
pub mod sources;
pub mod stack;
pub mod sts;
