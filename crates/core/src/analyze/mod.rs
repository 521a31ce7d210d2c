//! Analyses over principals: `diff` (local-vs-prod parity), effective permissions, `generate`
//! (the minimal policy from usage).

pub mod audit;
pub mod diff;
pub mod effective;
pub mod generate;
pub mod usage;
