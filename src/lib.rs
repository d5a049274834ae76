//! stackrel: a container stack's production release as a pull request. The library is the
//! functional core (release model, validation, planning) plus thin adapters for git, forges and
//! deployers; `main.rs` is only the command line.

pub mod adopt;
pub mod apply;
pub mod backends;
pub mod calver;
pub mod check;
pub mod component_tag;
pub mod config;
pub mod credentials;
pub mod daemon;
pub mod demo;
pub mod deploy;
pub mod diagnostic;
pub mod escape;
pub mod forge;
pub mod history;
pub mod lock;
pub mod logging;
pub mod observation;
pub mod pin;
pub mod plan;
pub mod proposal;
pub mod registry;
pub mod release;
pub mod repo_check;
pub mod runtime;
pub mod schema;
pub mod status;
pub mod ticket;
pub mod toml_schema;
pub mod tree;
pub mod validate;
pub mod webhook;
pub mod window;
pub mod workflow;
