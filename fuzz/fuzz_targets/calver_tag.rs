//! cargo-fuzz target `calver_tag`: the property is in `fuzz/bodies/calver_tag.rs`, shared with the
//! stable-Rust smoke run (`tests/it/fuzz_smoke.rs`).
#![no_main]

#[allow(dead_code)]
#[path = "../bodies/mod.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::calver_tag::run(data));
