//! The integration tests, in one binary so that they link stackrel, git2, octocrab and hyper
//! once rather than once per file. One module per area; each says what it specifies. The
//! process-level daemon tests, which are slower and spawn long-lived children, are the other
//! binary (`tests/daemon/`).

mod action;
mod apply_local;
mod awx;
mod awx_emulator;
mod awxkit;
mod cli_plan_apply;
mod concurrency;
mod corpus;
mod credentials;
mod fragalysis;
mod fuzz_smoke;
mod github_e2e;
mod github_emulator;
mod github_real_answers;
mod history;
mod http_verify;
mod plan;
mod project_releases;
mod registry;
mod release_cmd;
mod release_github;
mod schema;
mod snapshots;
mod terminal;
mod ticket;
mod validate_diagnostics;
mod workflow_gates;
