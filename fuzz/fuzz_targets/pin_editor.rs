//! cargo-fuzz target `pin_editor`: the property is in `fuzz/bodies/pin_editor.rs`, shared with the
//! stable-Rust smoke run (`tests/it/fuzz_smoke.rs`).
#![no_main]

#[allow(dead_code)]
#[path = "../bodies/mod.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::pin_editor::run(data));
