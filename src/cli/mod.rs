//! One module per command, plus the output helpers they share.

pub mod check;
// HISTORY-PENDING pub mod history;
pub mod output;
pub mod schema;
pub mod validate;
