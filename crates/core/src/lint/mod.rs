//! The lint engine of `check` and `audit`: one findings model.
//!
//! - [`codes`]: the registry of every finding code (name, default severity per command, help text,
//!   documentation anchor) and the one severity scale with its mappings to the JSON surfaces.
//! - [`finding`]: a finding ([`Finding`]) and where it stands in its file ([`Region`]).
//! - [`rules`]: the statement rules `check` and `audit` share, each written once.
//! - [`validate`]: every rule of `check`, the parser's grammar findings included.
//! - [`report`]: `check`'s report, whose `Serialize` form is its JSON.

pub mod codes;
pub mod finding;
pub mod report;
pub mod rules;
pub mod validate;

pub use codes::{CheckLevel, Code, CodeInfo, Command, Severity};
pub use finding::{Finding, Region};
