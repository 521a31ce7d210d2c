//! Analyses over principals: `diff` (local-vs-prod parity), effective permissions, `generate`
//! (the minimal policy from usage), and what the Lambda service itself needs from a function's role
//! (`service_needs`).

pub mod audit;
pub mod diff;
pub mod effective;
pub mod generate;
pub mod service_needs;
pub mod usage;
