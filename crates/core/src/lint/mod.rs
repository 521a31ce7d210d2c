//! The lint engine: policy validation findings with stable codes, severities and positions.

pub mod validate;

pub use iamfit_policy::finding::{Finding, Severity};
