//! CloudTrail replay: reading log files (local, S3, LookupEvents), mapping each event to the IAM
//! actions and resources it needed, and aggregating what a principal used and was denied.

pub mod event;

pub use event::{Event, PrincipalFilter, TimeWindow};
pub mod lookup;
pub mod s3;
pub mod usage;
