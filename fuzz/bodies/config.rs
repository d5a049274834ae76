//! `stackrel.toml` of arbitrary bytes beside a valid release: validation never panics, a config
//! it accepts resolves (and its JSON Schema check agrees it has no errors), and a config it
//! refuses yields at least one error; every diagnostic renders.

use stackrel::validate::{InputFile, validate};

pub fn run(data: &[u8]) {
    let files = [
        InputFile {
            path: "stackrel.toml".into(),
            bytes: data.to_vec(),
        },
        InputFile {
            path: "releases/2026.09.1.toml".into(),
            bytes: b"backend = \"2026.08.1\"\nfrontend = \"2026.08.2\"\n".to_vec(),
        },
    ];
    let state = validate(&files);
    super::check_diagnostics(&state.diagnostics);
    match &state.config {
        Some(config) => {
            let _ = config.pin_keys();
            let _ = config.repositories();
        }
        None => assert!(state.errors() > 0, "no config and no error"),
    }
}
