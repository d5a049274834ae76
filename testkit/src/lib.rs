//! What stackrel's tests and benchmarks stand on, kept out of the product: emulators of the
//! services stackrel talks to, the HTTP server they answer on, and the worlds built from them —
//! the demo sandbox as a test inspects and disturbs it, a replica of the real Fragalysis stack,
//! a release on GitHub and AWX, the daemon as a child process. A test or a benchmark imports its world from here instead of building one, so
//! each world is written once.

#[cfg(unix)]
pub mod daemon;
pub mod emulator;
pub mod fragalysis;
pub mod github_world;
pub mod graphql_schema;
pub mod http;
pub mod http_server;
pub mod openapi;
pub mod registry;
pub mod sandbox;
