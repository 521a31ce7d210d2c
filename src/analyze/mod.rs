//! Analyses over principals: `diff` (local-vs-prod parity).

pub mod audit;
pub mod diff;
pub mod effective;
