//! What stackrel's tests and benchmarks stand on, kept out of the product: emulators of the
//! services stackrel talks to and the HTTP server they answer on. A test or a benchmark imports
//! this instead of building its own world, so a world is written once.

pub mod emulator;
pub mod http_server;
