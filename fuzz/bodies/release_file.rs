//! A release file of arbitrary bytes in an otherwise valid desired-state tree: validation never
//! panics; a file it accepts yields exactly one release, of the version its name says, and a
//! file it refuses yields at least one error; every diagnostic renders.

use stackrel::validate::{InputFile, validate};

pub const CONFIG: &str = r#"[stack]
repo = "xchem/fragalysis-stack"
branch = "master"
workflow = ".github/workflows/build-main.yaml"
commit_message = "build: Use of b/e {backend} f/e {frontend}"

[components.backend]
repo = "xchem/fragalysis-backend"
branch = "production"
pin = "BE_IMAGE_TAG"

[components.frontend]
repo = "xchem/fragalysis-frontend"
branch = "production"
pin = "FE_IMAGE_TAG"
tag_pattern = '[0-9]+\.[0-9]+\.[0-9]+(-rc\.[0-9]+)?'

[deploy]
kind = "none"
"#;

pub fn run(data: &[u8]) {
    let files = [
        InputFile {
            path: "stackrel.toml".into(),
            bytes: CONFIG.as_bytes().to_vec(),
        },
        InputFile {
            path: "releases/2026.09.1.toml".into(),
            bytes: data.to_vec(),
        },
    ];
    let state = validate(&files);
    super::check_diagnostics(&state.diagnostics);
    if state.is_valid() {
        assert_eq!(state.releases.len(), 1);
        assert_eq!(state.releases[0].version.to_string(), "2026.09.1");
    } else {
        assert!(state.errors() > 0, "refused without an error");
    }
    // The same bytes as a file name: the version a path names, or why it names none.
    if let Ok(name) = std::str::from_utf8(data) {
        let _ = stackrel::release::version_from_path(&format!("releases/{name}.toml"));
        let _ = stackrel::release::suggest_version(name);
    }
}
