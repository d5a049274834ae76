//! What a GitHub Actions workflow file says about when it runs.
//!
//! The filter patterns of `on.push.tags`, which decide whether a pushed tag starts a run, are
//! in [`pattern`].

pub mod pattern;

pub use pattern::{FilterPattern, PatternError};
