//! Specifies how `validate` treats hostile and broken input: a corpus of malformed configs and
//! release files (truncated TOML, binary junk, deep nesting, huge strings, odd Unicode, byte-order
//! marks, CRLF and lone CR, empty files, arrays where tables belong, dotted keys, inline tables,
//! duplicate keys, datetimes, negative and out-of-range numbers, odd file names…). Each one, put
//! into an otherwise valid tree, must
//!
//! - never panic (each case runs under `catch_unwind`, so a failure names the case),
//! - yield at least one error diagnostic,
//! - give every diagnostic a `stackrel::` code and a message, and a line and column within the
//!   file whenever it points at a span of it,
//! - render as a human report, as JSON and as a GitHub annotation without panicking, each
//!   annotation on a single line.

use stackrel::diagnostic::{Diagnostic, render_github, render_human, render_json};
use stackrel::validate::{DesiredState, InputFile, MAX_FILE_BYTES, validate};
use std::panic::{AssertUnwindSafe, catch_unwind};

const CONFIG: &str = "stackrel.toml";
const RELEASE: &str = "releases/2026.09.1.toml";

const VALID_CONFIG: &str = r#"[stack]
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

[deploy]
kind = "awx"
url = "https://awx.example.org"
template = "Production Fragalysis Stack"
variable = "stack_image_tag"

[daemon]
resync = "0 */5 * * * *"
windows = ["* * 9-16 * * Mon-Thu"]
"#;

const VALID_RELEASE: &str = "backend = \"2026.08.1\"\nfrontend = \"2026.08.2\"\n";

/// The config's first lines, for cases that build on it: `[stack]` with all its keys.
const STACK: &str = "[stack]\nrepo = \"xchem/fragalysis-stack\"\nbranch = \"master\"\nworkflow = \"build.yaml\"\ncommit_message = \"release {version}\"\n";

/// (name, path, bytes): each is placed into the valid tree, replacing the file at `path`.
const CASES: &[(&str, &str, &[u8])] = &[
    // --- configs: empty and truncated -----------------------------------------------------
    ("config: empty file", CONFIG, b""),
    ("config: whitespace only", CONFIG, b" \n\t\n   \n"),
    ("config: comments only", CONFIG, b"# stackrel\n# nothing here\n"),
    ("config: lone equals sign", CONFIG, b"="),
    ("config: truncated table header", CONFIG, b"[stack"),
    ("config: truncated after a key", CONFIG, b"[stack]\nrepo ="),
    ("config: truncated inside a string", CONFIG, b"[stack]\nrepo = \"xchem/fragal"),
    ("config: truncated inside a multi-line string", CONFIG, b"[stack]\ncommit_message = \"\"\"build:\n"),
    ("config: truncated inside an array", CONFIG, b"[daemon]\nwindows = [\"* * 9-16 * * Mon-Thu\", "),
    ("config: truncated inside an inline table", CONFIG, b"stack = { repo = \"a/b\", "),
    ("config: empty table header", CONFIG, b"[]\n"),
    ("config: doubled closing bracket", CONFIG, b"[stack]]\nrepo = \"a/b\"\n"),
    ("config: trailing garbage after a value", CONFIG, b"[stack]\nrepo = \"a/b\" garbage\n"),
    ("config: two commas in an array", CONFIG, b"[daemon]\nwindows = [\"a\",,]\n"),
    // --- configs: encodings and line endings --------------------------------------------------
    ("config: binary junk", CONFIG, b"\x00\x01\x02\xff\xfe\xfd\x80\x81"),
    ("config: NUL bytes that are valid UTF-8", CONFIG, b"\0\0\0\0"),
    ("config: UTF-16LE with its byte-order mark", CONFIG, b"\xff\xfe[\0s\0t\0a\0c\0k\0]\0\n\0"),
    ("config: overlong UTF-8 encoding", CONFIG, b"[stack]\nrepo = \"\xc0\xaf\"\n"),
    ("config: multibyte character cut at end of file", CONFIG, b"[stack]\nrepo = \"caf\xc3"),
    ("config: byte-order mark before broken TOML", CONFIG, b"\xef\xbb\xbf[stack\n"),
    ("config: byte-order mark in the middle of a line", CONFIG, b"[stack]\nrepo = \"a/b\"\xef\xbb\xbf\n"),
    ("config: lone CR line endings", CONFIG, b"[stack]\rrepo = \"a/b\"\rbranch = \"m\"\r"),
    ("config: CRLF with a wrong type", CONFIG, b"[stack]\r\nrepo = \"a/b\"\r\nbranch = 3\r\nworkflow = \"w.yaml\"\r\ncommit_message = \"x\"\r\n[components.backend]\r\nrepo = \"a/c\"\r\nbranch = \"p\"\r\npin = \"B\"\r\n"),
    ("config: raw control character in a string", CONFIG, b"[stack]\nrepo = \"a/\x07b\"\n"),
    // --- configs: escapes --------------------------------------------------------------------
    ("config: unknown escape", CONFIG, b"[stack]\nrepo = \"a\\qb\"\n"),
    ("config: surrogate unicode escape", CONFIG, b"[stack]\nrepo = \"\\uD800\"\n"),
    ("config: unicode escape beyond U+10FFFF", CONFIG, b"[stack]\nrepo = \"\\U0011FFFF\"\n"),
    // --- configs: shapes where others belong ---------------------------------------------------
    ("config: array where the stack table belongs", CONFIG, b"stack = [\"xchem/fragalysis-stack\"]\n[components.backend]\nrepo = \"a/b\"\nbranch = \"p\"\npin = \"B\"\n"),
    ("config: array of tables for stack", CONFIG, b"[[stack]]\nrepo = \"a/b\"\nbranch = \"m\"\nworkflow = \"w\"\ncommit_message = \"x\"\n"),
    ("config: string where components belong", CONFIG, b"components = \"backend\"\n[stack]\nrepo = \"a/b\"\nbranch = \"m\"\nworkflow = \"w\"\ncommit_message = \"x\"\n"),
    ("config: empty array for components", CONFIG, b"components = []\n"),
    ("config: string where the windows array belongs", CONFIG, b"[daemon]\nwindows = \"* * * * * *\"\n"),
    ("config: nested array of windows", CONFIG, b"[daemon]\nwindows = [[\"* * * * * *\"]]\n"),
    ("config: array pin", CONFIG, b"[components.backend]\nrepo = \"a/b\"\nbranch = \"p\"\npin = [\"BE_IMAGE_TAG\"]\n"),
    ("config: dotted keys only", CONFIG, b"stack.repo = \"xchem/fragalysis-stack\"\nstack.branch = \"master\"\n"),
    ("config: inline table with a wrong type", CONFIG, b"stack = { repo = \"a/b\", branch = 1 }\n"),
    ("config: inline table then the same table", CONFIG, b"stack = { repo = \"a/b\" }\n[stack]\nbranch = \"m\"\n"),
    ("config: value then the same table", CONFIG, b"stack = 1\n[stack]\nrepo = \"a/b\"\n"),
    ("config: duplicate key", CONFIG, b"[stack]\nrepo = \"a/b\"\nrepo = \"c/d\"\n"),
    ("config: duplicate table", CONFIG, b"[stack]\nrepo = \"a/b\"\n[stack]\nbranch = \"m\"\n"),
    ("config: empty quoted key", CONFIG, b"\"\" = 1\n"),
    // --- configs: scalars --------------------------------------------------------------------
    ("config: offset datetime where a string belongs", CONFIG, b"[stack]\nrepo = \"a/b\"\nbranch = 1979-05-27T07:32:00Z\nworkflow = \"w\"\ncommit_message = \"x\"\n"),
    ("config: local date where a boolean belongs", CONFIG, b"[daemon]\nsuspended = 2024-01-01\n"),
    ("config: string where a boolean belongs", CONFIG, b"[daemon]\nsuspended = \"yes\"\n"),
    ("config: negative timeout", CONFIG, b"[deploy]\ntimeout_seconds = -1\n"),
    ("config: timeout beyond u64", CONFIG, b"[deploy]\ntimeout_seconds = 99999999999999999999999\n"),
    ("config: hexadecimal timeout beyond i64", CONFIG, b"[deploy]\ntimeout_seconds = 0xFFFFFFFFFFFFFFFFFF\n"),
    ("config: signed hexadecimal", CONFIG, b"[deploy]\ntimeout_seconds = -0x1\n"),
    ("config: nan timeout", CONFIG, b"[deploy]\ntimeout_seconds = nan\n"),
    ("config: float timeout", CONFIG, b"[deploy]\ntimeout_seconds = 1.5\n"),
    ("config: leading zero integer", CONFIG, b"[deploy]\ntimeout_seconds = 0600\n"),
    ("config: integer deploy kind", CONFIG, b"[deploy]\nkind = 1\n"),
    // --- configs: odd Unicode ----------------------------------------------------------------
    ("config: right-to-left override in a key", CONFIG, "\"\u{202e}stack\" = 1\n".as_bytes()),
    ("config: non-ASCII component name", CONFIG, "[components.\"bäckend\"]\nrepo = \"a/b\"\nbranch = \"p\"\npin = \"B\"\n".as_bytes()),
    ("config: zero-width space in a table name", CONFIG, "[sta\u{200b}ck]\nrepo = \"a/b\"\n".as_bytes()),
    ("config: emoji repository", CONFIG, "[stack]\nrepo = \"🦀/🚀\"\nbranch = \"m\"\nworkflow = \"w\"\ncommit_message = \"x\"\n".as_bytes()),
    ("config: fullwidth equals sign", CONFIG, "[stack]\nrepo ＝ \"a/b\"\n".as_bytes()),
    // --- release files: empty and truncated ----------------------------------------------------
    ("release: empty file", RELEASE, b""),
    ("release: comments only", RELEASE, b"# nothing\n"),
    ("release: truncated after the equals sign", RELEASE, b"backend = "),
    ("release: truncated inside a string", RELEASE, b"backend = \"2026.0"),
    ("release: truncated key", RELEASE, b"back"),
    ("release: only a ticket", RELEASE, b"ticket = \"m2ms/fragalysis-frontend#1523\"\n"),
    // --- release files: encodings and line endings ----------------------------------------------
    ("release: binary junk", RELEASE, b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
    ("release: PNG bytes under a .toml name", RELEASE, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
    ("release: CESU-8 surrogate bytes", RELEASE, b"notes = \"\xed\xa0\x80\"\n"),
    ("release: byte-order mark before a float", RELEASE, b"\xef\xbb\xbfbackend = 2026.08\nfrontend = \"2026.08.2\"\n"),
    ("release: CRLF with a missing component", RELEASE, b"backend = \"2026.08.1\"\r\n"),
    ("release: lone CR line endings", RELEASE, b"backend = \"2026.08.1\"\rfrontend = \"2026.08.2\"\r"),
    ("release: tab before the value and a bad tag", RELEASE, b"backend =\t\"2026.08.1 \"\nfrontend = \"2026.08.2\"\n"),
    // --- release files: shapes where strings belong ------------------------------------------
    ("release: table where a version belongs", RELEASE, b"frontend = \"2026.08.2\"\n[backend]\ntag = \"2026.08.1\"\n"),
    ("release: array of tables", RELEASE, b"frontend = \"2026.08.2\"\n[[backend]]\ntag = \"2026.08.1\"\n"),
    ("release: array where a version belongs", RELEASE, b"backend = [\"2026.08.1\"]\nfrontend = \"2026.08.2\"\n"),
    ("release: inline table", RELEASE, b"backend = { tag = \"2026.08.1\" }\nfrontend = \"2026.08.2\"\n"),
    ("release: dotted key", RELEASE, b"backend.tag = \"2026.08.1\"\nfrontend = \"2026.08.2\"\n"),
    ("release: duplicate key", RELEASE, b"backend = \"2026.08.1\"\nbackend = \"2026.08.2\"\nfrontend = \"2026.08.2\"\n"),
    ("release: table for notes", RELEASE, b"backend = \"2026.08.1\"\nfrontend = \"2026.08.2\"\n[notes]\ntext = \"x\"\n"),
    // --- release files: scalars ----------------------------------------------------------------
    ("release: float version", RELEASE, b"backend = 2024.10\nfrontend = \"2026.08.2\"\n"),
    ("release: date version", RELEASE, b"backend = 2026-08-01\nfrontend = \"2026.08.2\"\n"),
    ("release: local time version", RELEASE, b"backend = 07:32:00\nfrontend = \"2026.08.2\"\n"),
    ("release: negative version", RELEASE, b"backend = -1\nfrontend = \"2026.08.2\"\n"),
    ("release: boolean version", RELEASE, b"backend = true\nfrontend = \"2026.08.2\"\n"),
    ("release: infinite version", RELEASE, b"backend = inf\nfrontend = \"2026.08.2\"\n"),
    ("release: empty version", RELEASE, b"backend = \"\"\nfrontend = \"2026.08.2\"\n"),
    ("release: escaped NUL in a version", RELEASE, b"backend = \"2026.08.1\\u0000\"\nfrontend = \"2026.08.2\"\n"),
    ("release: integer ticket", RELEASE, b"backend = \"2026.08.1\"\nfrontend = \"2026.08.2\"\nticket = 1523\n"),
    ("release: ticket number beyond u64", RELEASE, b"backend = \"2026.08.1\"\nfrontend = \"2026.08.2\"\nticket = \"a/b#99999999999999999999999\"\n"),
    ("release: ticket with spaces", RELEASE, b"backend = \"2026.08.1\"\nfrontend = \"2026.08.2\"\nticket = \"a b/c#1\"\n"),
    // --- release files: odd Unicode --------------------------------------------------------------
    ("release: emoji version", RELEASE, "backend = \"🚀\"\nfrontend = \"2026.08.2\"\n".as_bytes()),
    ("release: right-to-left override in a version", RELEASE, "backend = \"2026.08.1\u{202e}\"\nfrontend = \"2026.08.2\"\n".as_bytes()),
    ("release: Cyrillic homoglyph in a key", RELEASE, "backеnd = \"2026.08.1\"\nfrontend = \"2026.08.2\"\n".as_bytes()),
    ("release: zero-width space in a quoted key", RELEASE, "\"back\u{200b}end\" = \"2026.08.1\"\nfrontend = \"2026.08.2\"\n".as_bytes()),
    ("release: combining accents in a version", RELEASE, "backend = \"2026.08.1\u{301}\u{301}\u{301}\"\nfrontend = \"2026.08.2\"\n".as_bytes()),
    // --- release files: odd names ------------------------------------------------------------
    ("name: fullwidth digits", "releases/２０２６.０９.１.toml", VALID_RELEASE.as_bytes()),
    ("name: iteration beyond u32", "releases/2026.09.99999999999.toml", VALID_RELEASE.as_bytes()),
    ("name: year zero", "releases/0000.09.1.toml", VALID_RELEASE.as_bytes()),
    ("name: leading space", "releases/ 2026.09.1.toml", VALID_RELEASE.as_bytes()),
    ("name: upper-case extension", "releases/2026.09.1.TOML", VALID_RELEASE.as_bytes()),
    ("name: backup suffix", "releases/2026.09.1.toml.bak", VALID_RELEASE.as_bytes()),
    ("name: only the extension after a dot-less stem", "releases/toml.toml", VALID_RELEASE.as_bytes()),
    ("name: path with ..", "releases/../2026.09.1.toml", VALID_RELEASE.as_bytes()),
    ("name: hidden file in a subdirectory", "releases/old/.2026.09.1.toml", VALID_RELEASE.as_bytes()),
    ("name: directory entry without a name", "releases/", b""),
];

/// Inputs too large or too repetitive to write out.
fn generated_cases() -> Vec<(String, String, Vec<u8>)> {
    let mut cases = Vec::new();
    let mut case = |name: &str, path: &str, bytes: Vec<u8>| {
        cases.push((name.to_string(), path.to_string(), bytes))
    };

    case(
        "release: arrays nested 20000 deep",
        RELEASE,
        format!("backend = {}{}\n", "[".repeat(20_000), "]".repeat(20_000)).into_bytes(),
    );
    case(
        "release: inline tables nested 8000 deep",
        RELEASE,
        format!("backend = {}1{}\n", "{a=".repeat(8_000), "}".repeat(8_000)).into_bytes(),
    );
    case(
        "release: dotted key 10000 parts deep",
        RELEASE,
        format!("{} = 1\n", vec!["a"; 10_000].join(".")).into_bytes(),
    );
    case(
        "config: table header 10000 parts deep",
        CONFIG,
        format!("[{}]\n", vec!["a"; 10_000].join(".")).into_bytes(),
    );
    case(
        "config: arrays nested 20000 deep in windows",
        CONFIG,
        format!(
            "[daemon]\nwindows = {}{}\n",
            "[".repeat(20_000),
            "]".repeat(20_000)
        )
        .into_bytes(),
    );
    case(
        "config: unclosed arrays 30000 deep",
        CONFIG,
        format!("[daemon]\nwindows = {}", "[".repeat(30_000)).into_bytes(),
    );
    case(
        "config: 60000-character repository",
        CONFIG,
        VALID_CONFIG
            .replace("xchem/fragalysis-stack", &"x".repeat(60_000))
            .into_bytes(),
    );
    case(
        "config: 60000-character key",
        CONFIG,
        format!("{STACK}{} = 1\n", "k".repeat(60_000)).into_bytes(),
    );
    case(
        "config: 60000-character comment then an error",
        CONFIG,
        format!("#{}\n[stack\n", "c".repeat(60_000)).into_bytes(),
    );
    case(
        "config: 300 unknown keys",
        CONFIG,
        format!(
            "{STACK}{}",
            (0..300)
                .map(|i| format!("k{i} = {i}\n"))
                .collect::<String>()
        )
        .into_bytes(),
    );
    case("config: 200 components with one pin", CONFIG, {
        let components: String = (0..200)
            .map(|i| format!("[components.c{i}]\nrepo = \"a/b\"\nbranch = \"p\"\npin = \"SAME\"\n"))
            .collect();
        format!("{STACK}{components}").into_bytes()
    });
    case("config: one byte over the size limit", CONFIG, {
        let mut bytes = VALID_CONFIG.as_bytes().to_vec();
        bytes.resize(MAX_FILE_BYTES + 1, b'\n');
        bytes
    });
    case(
        "release: 60000-character version",
        RELEASE,
        format!(
            "backend = \"{}\"\nfrontend = \"2026.08.2\"\n",
            "9".repeat(60_000)
        )
        .into_bytes(),
    );
    case(
        "release: 300 lines of one unknown key each",
        RELEASE,
        (0..300)
            .map(|i| format!("k{i} = \"x\"\n"))
            .collect::<String>()
            .into_bytes(),
    );
    case(
        "release: 5000 comment lines then a float",
        RELEASE,
        format!(
            "{}backend = 2026.08\nfrontend = \"2026.08.2\"\n",
            "# x\n".repeat(5_000)
        )
        .into_bytes(),
    );
    case("release: one byte over the size limit", RELEASE, {
        let mut bytes = VALID_RELEASE.as_bytes().to_vec();
        bytes.resize(MAX_FILE_BYTES + 1, b' ');
        bytes
    });
    case("release: 4096 bytes of pseudo-random junk", RELEASE, {
        let mut state: u32 = 0x2545_f491;
        (0..4096)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state >> 24) as u8
            })
            .collect()
    });
    case(
        "release: every ASCII control character",
        RELEASE,
        (0u8..32).chain([127]).collect(),
    );
    case(
        "release: every single-byte value",
        RELEASE,
        (0u8..=255).collect(),
    );
    cases
}

fn all_cases() -> Vec<(String, String, Vec<u8>)> {
    CASES
        .iter()
        .map(|(name, path, bytes)| (name.to_string(), path.to_string(), bytes.to_vec()))
        .chain(generated_cases())
        .collect()
}

/// The valid tree with the case's file put in (replacing the file at its path).
fn tree_with(path: &str, bytes: &[u8]) -> Vec<InputFile> {
    let mut files = vec![
        InputFile {
            path: CONFIG.into(),
            bytes: VALID_CONFIG.as_bytes().to_vec(),
        },
        InputFile {
            path: "releases/2026.08.3.toml".into(),
            bytes: VALID_RELEASE.as_bytes().to_vec(),
        },
    ];
    files.retain(|f| f.path != path);
    files.push(InputFile {
        path: path.into(),
        bytes: bytes.to_vec(),
    });
    files
}

/// Everything wrong with one diagnostic, as sentences.
fn problems_with(d: &Diagnostic, path: &str, bytes: &[u8]) -> Vec<String> {
    let mut problems = Vec::new();
    if !d.code.starts_with("stackrel::") {
        problems.push(format!("code {:?} is not a stackrel:: code", d.code));
    }
    if d.message.trim().is_empty() {
        problems.push(format!("{} has no message", d.code));
    }
    if let Some(span) = &d.span {
        match (d.line, d.column) {
            (Some(line), Some(column)) if line >= 1 && column >= 1 => {}
            other => problems.push(format!(
                "{} names span {span:?} but its line and column are {other:?}",
                d.code
            )),
        }
        if d.file.is_none() {
            problems.push(format!("{} names span {span:?} but no file", d.code));
        }
        if d.file.as_deref() == Some(path) && (span.start > span.end || span.end > bytes.len()) {
            problems.push(format!(
                "{} span {span:?} lies outside the file's {} bytes",
                d.code,
                bytes.len()
            ));
        }
    }
    problems
}

/// Renders every diagnostic in every format; returns what went wrong.
fn render_all(state: &DesiredState) -> Vec<String> {
    let mut problems = Vec::new();
    for d in &state.diagnostics {
        for color in [false, true] {
            let report = render_human(d, color);
            if !report.contains(d.code) {
                problems.push(format!(
                    "human report (color {color}) does not show {}: {report}",
                    d.code
                ));
            }
        }
        let annotation = render_github(d, "repo/");
        if annotation.contains('\n') || annotation.contains('\r') {
            problems.push(format!(
                "GitHub annotation for {} spans several lines: {annotation:?}",
                d.code
            ));
        }
        if !(annotation.starts_with("::error ") || annotation.starts_with("::warning ")) {
            problems.push(format!(
                "GitHub annotation for {} is not a workflow command: {annotation:?}",
                d.code
            ));
        }
    }
    let json = render_json(&state.diagnostics);
    match serde_json::from_str::<serde_json::Value>(&json) {
        Ok(doc) => {
            if doc["errors"].as_u64() != Some(state.errors() as u64) {
                problems.push(format!(
                    "JSON error count {} is not {}",
                    doc["errors"],
                    state.errors()
                ));
            }
            if doc["diagnostics"].as_array().map(Vec::len) != Some(state.diagnostics.len()) {
                problems.push("JSON does not list every diagnostic".to_string());
            }
        }
        Err(e) => problems.push(format!("JSON output does not parse: {e}")),
    }
    problems
}

#[test]
fn the_corpus_has_at_least_forty_malformed_inputs() {
    assert!(all_cases().len() >= 40, "{} cases", all_cases().len());
    let mut names: Vec<String> = all_cases().into_iter().map(|(name, _, _)| name).collect();
    names.sort();
    let before = names.len();
    names.dedup();
    assert_eq!(
        names.len(),
        before,
        "case names are unique, so a failure names one case"
    );
}

#[test]
fn only_the_oversized_cases_exceed_the_size_limit() {
    // The others must reach the parser rather than stop at the size gate.
    for (name, _, bytes) in all_cases() {
        let oversized = name.contains("over the size limit");
        assert_eq!(
            bytes.len() > MAX_FILE_BYTES,
            oversized,
            "{name}: {} bytes",
            bytes.len()
        );
    }
}

#[test]
fn the_tree_the_cases_are_put_into_is_valid() {
    let state = validate(&tree_with(
        "releases/2026.08.2.toml",
        VALID_RELEASE.as_bytes(),
    ));
    assert!(state.diagnostics.is_empty(), "{:?}", state.diagnostics);
}

#[test]
fn every_malformed_input_is_an_error_with_well_formed_diagnostics_and_never_a_panic() {
    let mut failures = Vec::new();
    for (name, path, bytes) in all_cases() {
        let files = tree_with(&path, &bytes);
        let state = match catch_unwind(AssertUnwindSafe(|| validate(&files))) {
            Ok(state) => state,
            Err(_) => {
                failures.push(format!("{name}: validate panicked"));
                continue;
            }
        };
        if state.errors() == 0 {
            failures.push(format!(
                "{name}: no error reported (diagnostics: {:?})",
                state.diagnostics
            ));
        }
        if state.is_valid() {
            failures.push(format!("{name}: the tree counts as valid"));
        }
        for d in &state.diagnostics {
            for problem in problems_with(d, &path, &bytes) {
                failures.push(format!("{name}: {problem}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_diagnostic_of_the_corpus_renders_in_every_format_without_panicking() {
    let mut failures = Vec::new();
    for (name, path, bytes) in all_cases() {
        let files = tree_with(&path, &bytes);
        let Ok(state) = catch_unwind(AssertUnwindSafe(|| validate(&files))) else {
            continue; // reported by the test above
        };
        match catch_unwind(AssertUnwindSafe(|| render_all(&state))) {
            Ok(problems) => failures.extend(problems.into_iter().map(|p| format!("{name}: {p}"))),
            Err(_) => failures.push(format!("{name}: rendering panicked")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
