//! stackrel: a container stack's production release as a pull request. The library is the
//! functional core (release model, validation, planning) plus thin adapters for git, forges and
//! deployers; `main.rs` is only the command line.

pub mod calver;
pub mod component_tag;
pub mod config;
pub mod diagnostic;
pub mod release;
pub mod toml_schema;
pub mod validate;
pub mod tree;
pub mod schema;
pub mod check;
pub mod deploy;
pub mod forge;
pub mod observation;
pub mod pin;
pub mod plan;
pub mod apply;
pub mod demo;
pub mod status;
pub mod history;
