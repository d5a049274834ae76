//! One module per command, plus the output helpers they share.

pub mod adopt;
pub mod apply;
pub mod check;
pub mod demo;
pub mod history;
pub mod output;
pub mod plan;
pub mod release;
pub mod rollback;
pub mod run;
pub mod schema;
pub mod setup;
pub mod status;
pub mod validate;
