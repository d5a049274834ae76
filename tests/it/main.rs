//! The integration tests, in one binary so that they link stackrel, git2, octocrab and hyper
//! once rather than once per file. One module per area; each says what it specifies. The
//! process-level daemon tests, which are slower and spawn long-lived children, are the other
//! binary (`tests/daemon/`).

mod apply_local;
mod awx;
mod cli_plan_apply;
mod corpus;
mod fragalysis;
mod github_e2e;
mod github_emulator;
mod history;
mod http_verify;
mod plan;
mod project_releases;
mod registry;
mod release_cmd;
mod release_github;
mod schema;
mod snapshots;
mod validate_diagnostics;
mod workflow_gates;
