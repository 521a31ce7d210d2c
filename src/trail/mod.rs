//! CloudTrail replay: reading log files (local, S3, LookupEvents), mapping each event to the IAM
//! actions and resources it needed, and aggregating what a principal used and was denied.

pub mod event;
pub mod map;

pub use event::{Event, PrincipalFilter, TimeWindow};
