//! Stateful emulators of the services stackrel talks to, served on 127.0.0.1 for tests and
//! benchmarks. They answer with the real services' status codes and error bodies so that the real
//! clients (octocrab, the AWX client) are exercised against them, and they can inject the faults a
//! network and a busy service produce.

pub mod awx;
pub mod github;
