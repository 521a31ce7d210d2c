//! The integration tests of the `iamfit` binary, one crate (ripgrep's layout): each module is one
//! area of the command line, and [`support`] holds the shared harness (the moto emulator, the
//! binary runner, protocol-faithful test servers).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::string_slice, missing_docs)]

mod support;

mod athena;
mod bad_input;
mod catalog_cli;
mod catalog_update;
mod cli_audit;
mod cli_check;
mod cli_diff;
mod cli_explain;
mod cli_generate;
mod cli_simulate;
mod cli_template;
mod cli_usage;
mod emulator_smoke;
mod exec_emulator;
mod explain_emulator;
mod live_diff;
mod live_resource_policies;
mod live_service_needs;
mod organization_policies;
mod record_emulator;
mod record_trail;
mod resource_policies;
mod snapshots;
mod template_live;
mod trail_sources;
