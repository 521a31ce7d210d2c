//! The embedded IAM action catalog.
