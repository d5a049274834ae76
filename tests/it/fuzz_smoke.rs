//! The fuzz targets (`fuzz/`) as a bounded stable-Rust run, since cargo-fuzz needs nightly: each
//! target's property (`fuzz/bodies/`) over a seed corpus — the real Fragalysis workflows, this
//! repository's release files and config, hand-made hostile inputs — and then random mutations
//! of it (bit flips, replaced, inserted and deleted bytes, YAML/TOML/JSON tokens, splices of
//! two seeds). The run is deterministic for a seed, so a failure reproduces.
//!
//! `STACKREL_FUZZ_ITERATIONS` (default 200) sets the mutated inputs per target;
//! `STACKREL_FUZZ_SECONDS` instead runs each target for that long. With `--nocapture` each
//! target prints how many inputs it ran.

#[path = "../../fuzz/bodies/mod.rs"]
mod bodies;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::{Duration, Instant};
use testkit::fragalysis::{fixture_dir, project_root};

/// Bytes that change how YAML, TOML and JSON read what follows.
const TOKENS: &[&str] = &[
    "\n",
    "\r",
    "\r\n",
    "\t",
    " ",
    "---\n",
    "...\n",
    ": ",
    " #",
    "#",
    "\"",
    "'",
    "\\",
    "[",
    "]",
    "{",
    "}",
    ",",
    "=",
    "&a ",
    "*a",
    "!!str ",
    "|\n",
    ">-\n",
    "? ",
    "- ",
    "${{ ",
    "0x1F",
    "1.10",
    "1e3",
    "yes",
    "null",
    "~",
    "\u{2028}",
    "\u{2029}",
    "\u{85}",
    "\u{feff}",
    "é",
    "\u{0}",
    "env:\n",
    "  BE_IMAGE_TAG: ",
    "  FE_IMAGE_TAG: ",
    "[stack]\n",
    "[components.x]\n",
    "[deploy]\n",
    "kind = \"awx\"\n",
    "backend = ",
    "\"2026.08.1\"",
    "2026.08.3",
    "-1",
    "99999999999999999999",
    "sha256=",
    "push\n",
    "{\"ref\":",
    "on:\n",
    "tags:\n",
    "'**'",
    "!",
    "(",
    ")",
    "*",
    "+",
    "?",
];

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(seeds: &[Vec<u8>], rng: &mut Rng) -> Vec<u8> {
    let mut data = seeds[rng.below(seeds.len())].clone();
    for _ in 0..=rng.below(4) {
        let at = rng.below(data.len() + 1);
        match rng.below(7) {
            0 if !data.is_empty() => {
                let i = at.min(data.len() - 1);
                data[i] ^= 1 << rng.below(8);
            }
            1 if !data.is_empty() => {
                let i = at.min(data.len() - 1);
                data[i] = rng.next() as u8;
            }
            2 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                data.splice(at..at, token.iter().copied());
            }
            3 => {
                let end = (at + rng.below(16)).min(data.len());
                data.drain(at..end);
            }
            4 => {
                let end = (at + rng.below(64)).min(data.len());
                let copy = data[at..end].to_vec();
                data.splice(at..at, copy);
            }
            5 => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len() + 1);
                data.truncate(at);
                data.extend_from_slice(&other[from..]);
            }
            _ => data.truncate(at),
        }
    }
    data
}

/// How much of each target to run: a count of mutated inputs, or a time.
enum Budget {
    Inputs(usize),
    Time(Duration),
}

fn budget() -> Budget {
    let number = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    match (
        number("STACKREL_FUZZ_SECONDS"),
        number("STACKREL_FUZZ_ITERATIONS"),
    ) {
        (Some(seconds), _) => Budget::Time(Duration::from_secs(seconds)),
        (None, Some(n)) => Budget::Inputs(n as usize),
        (None, None) => Budget::Inputs(200),
    }
}

/// Runs `target` over the seeds and then mutations; returns how many inputs ran, or the first
/// input that panicked.
fn smoke(name: &str, seeds: Vec<Vec<u8>>) {
    let target = bodies::TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| *f)
        .expect("a target of that name");
    let seeds: Vec<Vec<u8>> = std::iter::once(Vec::new()).chain(seeds).collect();
    let run = |input: &[u8]| {
        if catch_unwind(AssertUnwindSafe(|| target(input))).is_err() {
            panic!("{name} panicked on {:?}", String::from_utf8_lossy(input));
        }
    };
    for seed in &seeds {
        run(seed);
    }
    let mut rng = Rng(0x5eed ^ name.len() as u64 ^ (name.as_bytes()[0] as u64) << 32);
    let started = Instant::now();
    let mut inputs = seeds.len();
    loop {
        let more = match budget() {
            Budget::Inputs(n) => inputs < seeds.len() + n,
            Budget::Time(t) => started.elapsed() < t,
        };
        if !more {
            break;
        }
        run(&mutate(&seeds, &mut rng));
        inputs += 1;
    }
    println!(
        "{name}: {inputs} inputs ({} seeds) in {:.1}s, no panic",
        seeds.len(),
        started.elapsed().as_secs_f64()
    );
}

fn files_in(dir: &Path, ending: &str) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        println!("({} is absent: its seeds are skipped)", dir.display());
        return Vec::new();
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(ending))
        .collect();
    paths.sort();
    paths.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

fn texts(items: &[&str]) -> Vec<Vec<u8>> {
    items.iter().map(|s| s.as_bytes().to_vec()).collect()
}

fn workflows() -> Vec<Vec<u8>> {
    let mut seeds = files_in(&fixture_dir(), ".yaml");
    seeds.push(stackrel::demo::DEMO_WORKFLOW.as_bytes().to_vec());
    seeds.extend(texts(&[
        "on:\n  push:\n    tags: ['*.*.*', '!*-rc*']\nenv:\n  BE_IMAGE_TAG: 1.10\n",
        "env: {BE_IMAGE_TAG: x}\n",
        "env:\n  BE_IMAGE_TAG: &a x\n  FE_IMAGE_TAG: *a\n---\nenv: {}\n",
        "jobs:\n  d:\n    steps:\n    - uses: ansible/awx-action@v1\n      with:\n        template: T\n",
    ]));
    seeds
}

#[test]
fn fuzz_smoke_pin_editor() {
    // The first byte picks the new values.
    let seeds = workflows()
        .into_iter()
        .enumerate()
        .map(|(i, w)| {
            std::iter::once((i as u8).wrapping_mul(37))
                .chain(w)
                .collect()
        })
        .collect();
    smoke("pin_editor", seeds);
}

#[test]
fn fuzz_smoke_release_file() {
    let mut seeds = files_in(&project_root().join("releases"), ".toml");
    seeds.extend(texts(&[
        "backend = \"2026.08.1\"\nfrontend = \"1.0.5-rc.1\"\nticket = \"m2ms/fragalysis-frontend#1523\"\n",
        "backend = \"2026.08.1\"\nfrontend = \"2026.08.2\"\nwaive_ci = [\"backend\"]\nnotes = \"\"\"\nx\"\"\"\n",
        "backend = 2026.08\nfrontend = [1]\n[ticket]\nx = 1\n",
        "\u{feff}backend = \"a\"\r\nfrontend = \"b\"\r\n",
    ]));
    smoke("release_file", seeds);
}

#[test]
fn fuzz_smoke_config() {
    let mut seeds = files_in(&project_root(), "stackrel.toml");
    seeds.push(bodies::release_file::CONFIG.as_bytes().to_vec());
    seeds.extend(texts(&[
        "[stack]\nrepo = \"./stack\"\nbranch = \"master\"\nworkflow = \"w.yaml\"\ncommit_message = \"{backend}\"\n[components.backend]\nrepo = \"../b\"\nbranch = \"p\"\npin = \"B\"\nimage = \"docker.io/x/y\"\n[deploy]\nkind = \"command\"\ncommand = [\"./d.sh\", \"{version}\"]\n[verify]\nurl = \"https://x/version/\"\nexpect = { \"version.stack\" = \"x:{version}\" }\n[daemon]\nresync = \"0 */5 * * * *\"\nwindows = [\"* * 9-16 * * Mon-Thu\"]\ntimezone = \"Europe/London\"\n",
        "[deploy]\nkind = \"awx\"\nurl = \"http://awx\"\ntemplate = \"T\"\nvariable = \"v\"\nlaunched_by = \"ci\"\n",
    ]));
    smoke("config", seeds);
}

#[test]
fn fuzz_smoke_workflow() {
    smoke("workflow", workflows());
}

#[test]
fn fuzz_smoke_webhook() {
    let body = br#"{"ref":"refs/heads/master","after":"0000000000000000000000000000000000000000"}"#;
    let signed = stackrel::webhook::sign(b"fuzz secret", body);
    let mut seeds = vec![[signed.as_bytes(), b"\npush\n", body].concat()];
    seeds.extend(texts(&[
        "sha256=00\nworkflow_run\n{\"action\":\"completed\",\"workflow_run\":{\"name\":\"build main\"}}",
        "sha256=zz\nping\n{}",
        "sha1=abc\nissues\n[1,2,{\"a\":null}]",
        "\n\n",
    ]));
    smoke("webhook", seeds);
}

#[test]
fn fuzz_smoke_calver_tag() {
    let mut seeds = files_in(&fixture_dir(), ".txt")
        .into_iter()
        .flat_map(|file| {
            String::from_utf8_lossy(&file)
                .lines()
                .take(200)
                .map(|l| l.trim().as_bytes().to_vec())
                .collect::<Vec<_>>()
        })
        .collect::<Vec<_>>();
    seeds.extend(texts(&[
        "2026.08.3",
        "2024.11.1-1",
        "2023.06.02",
        "9999.12.999999999",
        "v2023.6.2",
        "[0-9]+\\.[0-9]+",
        "a)|(b",
        "(?i)x{1000}",
    ]));
    smoke("calver_tag", seeds);
}
