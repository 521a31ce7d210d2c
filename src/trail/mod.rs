//! CloudTrail replay: reading log files (local, S3, LookupEvents), mapping each event to the IAM
//! actions and resources it needed, and aggregating what a principal used and was denied.

pub mod event;
pub mod lookup;
pub mod map;
pub mod read;
pub mod s3;
pub mod split;
pub mod usage;

pub use event::{Event, PrincipalFilter, TimeWindow};
pub use read::{find_log_files, read_bytes, read_files, Collector, LogFile, ReadOptions, ReadStats};
