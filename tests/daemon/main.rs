//! `stackrel run` as a process an operator runs, in a binary of its own: these tests spawn the
//! built daemon and hold it to bounded waits measured in seconds. Cargo runs one test binary at a
//! time, so kept apart from `it` they never share the machine's cores with its CPU-heavy fault
//! matrices, which would make those waits flaky.

mod github;
mod hardening;
mod local;
mod secrets;
mod status_page;
