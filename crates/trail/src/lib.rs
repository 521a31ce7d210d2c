//! CloudTrail replay: reading log files, mapping each event to the IAM
//! actions and resources it needed, and aggregating what a principal used and was denied; and the same
//! mapping for live API requests (`call`) and the recordings of `iamfit exec --record` (`recording`).

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::string_slice))]

pub mod athena;
pub mod call;
pub mod event;
pub mod map;
pub mod read;
pub mod recording;
pub mod split;
pub mod usage;
pub mod window;

pub use event::{Event, PrincipalFilter, TimeWindow};
pub use read::{find_log_files, read_bytes, read_files, Collector, LogFile, ReadOptions, ReadStats};
