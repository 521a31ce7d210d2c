//! The authorizer.
