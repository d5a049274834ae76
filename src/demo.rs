//! `stackrel demo`: a sandbox shaped like the Fragalysis stack, built from nothing on the local
//! disk — backend, frontend and stack repositories with production branches, CI notes, a tag
//! that is *not* on production, a stack workflow with `BE_IMAGE_TAG`/`FE_IMAGE_TAG` pins, and a
//! desired-state repository — so that a person can watch a whole release converge in seconds
//! without an account anywhere. Tests use the same sandbox.

use crate::deploy::command::{CommandDeployer, CommandRunner, CommandVerifier};
use crate::forge::local::CI_NOTES_REF;
use git2::{Oid, Repository, Signature};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The workflow file the demo stack starts with: the pins sit under the top-level `env:`, and
/// the same names appear in comments, a nested env and shell lines, which must not change.
pub const DEMO_WORKFLOW: &str = r#"---
name: build main

# Builds the stack image from the backend and frontend images below.
# BE_IMAGE_TAG and FE_IMAGE_TAG are the versions stackrel pins.

on:
  push:
    tags:
    - '**'

env:
  # The backend image tag (a tag on the backend's production branch)
  BE_IMAGE_TAG: 2026.07.1
  # The frontend image tag
  FE_IMAGE_TAG: 2026.08.1
  BE_NAMESPACE: xchem
  FE_NAMESPACE: xchem

jobs:
  build:
    runs-on: ubuntu-latest
    env:
      BE_IMAGE_TAG: not-this-one
    steps:
    - name: Build
      run: |
        echo "Building with BE_IMAGE_TAG=${{ env.BE_IMAGE_TAG }}"
        docker build --build-arg BE_IMAGE_TAG=${BE_IMAGE_TAG} .
"#;

const DEMO_CONFIG: &str = r#"#:schema ../schema/stackrel.schema.json
# A local sandbox shaped like the Fragalysis stack: every repository is a git repository on disk.

[stack]
repo = "../stack.git"
branch = "master"
workflow = ".github/workflows/build-main.yaml"
commit_message = "build: Use of b/e {backend} f/e {frontend}"

[components.backend]
repo = "../backend.git"
branch = "production"
pin = "BE_IMAGE_TAG"
ci = "build production"

[components.frontend]
repo = "../frontend.git"
branch = "production"
pin = "FE_IMAGE_TAG"
ci = "build production"

[deploy]
kind = "command"
command = ["./deploy.sh", "{version}", "{backend}", "{frontend}"]

[verify]
command = ["./check-live.sh", "{version}", "{backend}", "{frontend}"]
"#;

/// Stands in for AWX: "deploys" by writing what production now runs, and counts deploys.
const DEPLOY_SCRIPT: &str = r#"#!/bin/sh
# Demo deployer: records the running versions where check-live.sh (and you) can see them.
set -eu
echo "stack=$1 backend=$2 frontend=$3" > ../production.txt
echo "$1" >> ../deploys.log
echo "deployed stack $1 (backend $2, frontend $3)"
"#;

/// Stands in for the backend's /version/ endpoint.
const CHECK_SCRIPT: &str = r#"#!/bin/sh
# Demo verifier: exit 0 when production runs exactly the declared versions.
set -eu
want="stack=$1 backend=$2 frontend=$3"
have=$(cat ../production.txt 2>/dev/null || echo "nothing")
if [ "$have" = "$want" ]; then echo "live: $have"; else echo "production runs: $have"; exit 1; fi
"#;

/// A release file's text.
pub fn release_text(backend: &str, frontend: &str, notes: &str) -> String {
    format!("backend = \"{backend}\"\nfrontend = \"{frontend}\"\nnotes = \"{notes}\"\n")
}

/// Where the sandbox's parts are.
pub struct Sandbox {
    pub root: PathBuf,
    pub desired: PathBuf,
    pub stack: PathBuf,
    pub backend: PathBuf,
    pub frontend: PathBuf,
}

impl Sandbox {
    fn runner(&self, script: &str) -> CommandRunner {
        CommandRunner {
            argv: [script, "{version}", "{backend}", "{frontend}"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            dir: self.desired.clone(),
            timeout: Duration::from_secs(30),
        }
    }

    /// The deployer `stackrel.toml` names: the sandbox's `deploy.sh`.
    pub fn deployer(&self) -> CommandDeployer {
        CommandDeployer(self.runner("./deploy.sh"))
    }

    /// The verifier `stackrel.toml` names: the sandbox's `check-live.sh`.
    pub fn verifier(&self) -> CommandVerifier {
        CommandVerifier(self.runner("./check-live.sh"))
    }

    /// How many deploys the demo deployer has run.
    pub fn deploy_count(&self) -> usize {
        std::fs::read_to_string(self.root.join("deploys.log")).map_or(0, |s| s.lines().count())
    }

    /// Commits files into the desired-state repository (and its working tree).
    pub fn commit_desired(
        &self,
        files: &[(&str, &str)],
        message: &str,
    ) -> Result<Oid, git2::Error> {
        let repo = Repository::open(&self.desired)?;
        for (path, text) in files {
            let full = self.desired.join(path);
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent).map_err(io)?;
            }
            std::fs::write(&full, text).map_err(io)?;
        }
        let mut index = repo.index()?;
        index.add_all(["*"], git2::IndexAddOption::DEFAULT, None)?;
        index.write()?;
        let tree = repo.find_tree(index.write_tree()?)?;
        let sig = signature()?;
        let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
    }
}

fn io(e: std::io::Error) -> git2::Error {
    git2::Error::from_str(&e.to_string())
}

fn signature() -> Result<Signature<'static>, git2::Error> {
    Signature::now("Demo Maintainer", "maintainer@example.org")
}

/// Commits a tree of files onto `branch` of a bare repository; returns the commit.
fn commit_files(
    repo: &Repository,
    branch: &str,
    files: &[(&str, &str)],
    message: &str,
) -> Result<Oid, git2::Error> {
    let refname = format!("refs/heads/{branch}");
    let parent = repo
        .find_reference(&refname)
        .ok()
        .and_then(|r| r.peel_to_commit().ok());
    let base = match &parent {
        Some(p) => p.tree()?,
        None => repo.find_tree(repo.treebuilder(None)?.write()?)?,
    };
    let mut update = git2::build::TreeUpdateBuilder::new();
    for (path, text) in files {
        update.upsert(*path, repo.blob(text.as_bytes())?, git2::FileMode::Blob);
    }
    let tree = repo.find_tree(update.create_updated(repo, &base)?)?;
    let sig = signature()?;
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    repo.commit(Some(&refname), &sig, &sig, message, &tree, &parents)
}

fn tag_with_ci(repo: &Repository, tag: &str, commit: Oid, ci: &str) -> Result<(), git2::Error> {
    repo.reference(&format!("refs/tags/{tag}"), commit, false, "demo tag")?;
    let sig = signature()?;
    repo.note(&sig, &sig, Some(CI_NOTES_REF), commit, ci, true)?;
    Ok(())
}

/// A component repository: `staging` and `production` branches, production tags with green CI,
/// and `bad_tag` on staging only — a tag that must never be released.
fn component_repo(
    path: &Path,
    name: &str,
    production_tags: &[&str],
    bad_tag: &str,
) -> Result<(), git2::Error> {
    let repo = Repository::init_bare(path)?;
    let mut last = None;
    for tag in production_tags {
        let commit = commit_files(
            &repo,
            "production",
            &[("VERSION", tag)],
            &format!("{name} {tag}"),
        )?;
        tag_with_ci(&repo, tag, commit, "success")?;
        last = Some(commit);
    }
    if let Some(last) = last {
        repo.reference(
            "refs/heads/staging",
            last,
            true,
            "staging starts at production",
        )?;
    }
    let staging = commit_files(
        &repo,
        "staging",
        &[("VERSION", bad_tag)],
        &format!("{name} {bad_tag} (staging only)"),
    )?;
    tag_with_ci(&repo, bad_tag, staging, "success")?;
    repo.set_head("refs/heads/production")?;
    Ok(())
}

/// Builds the sandbox under `root` (which must not exist or be empty).
pub fn build_sandbox(root: &Path) -> Result<Sandbox, git2::Error> {
    std::fs::create_dir_all(root).map_err(io)?;
    let root = root.canonicalize().map_err(io)?;
    let sandbox = Sandbox {
        desired: root.join("desired"),
        stack: root.join("stack.git"),
        backend: root.join("backend.git"),
        frontend: root.join("frontend.git"),
        root,
    };
    component_repo(
        &sandbox.backend,
        "backend",
        &["2026.07.1", "2026.08.1"],
        "2026.08.9",
    )?;
    component_repo(
        &sandbox.frontend,
        "frontend",
        &["2026.08.1", "2026.08.2"],
        "2026.09.1",
    )?;

    let stack = Repository::init_bare(&sandbox.stack)?;
    commit_files(
        &stack,
        "master",
        &[("Dockerfile", "FROM scratch\n")],
        "Initial stack",
    )?;
    commit_files(
        &stack,
        "master",
        &[(".github/workflows/build-main.yaml", DEMO_WORKFLOW)],
        "build: Use of b/e 2026.07.1 f/e 2026.08.1",
    )?;
    stack.set_head("refs/heads/master")?;

    Repository::init(&sandbox.desired)?;
    for (name, text) in [
        ("deploy.sh", DEPLOY_SCRIPT),
        ("check-live.sh", CHECK_SCRIPT),
    ] {
        let path = sandbox.desired.join(name);
        std::fs::write(&path, text).map_err(io)?;
        make_executable(&path)?;
    }
    let schema_dir = sandbox.root.join("schema");
    std::fs::create_dir_all(&schema_dir).map_err(io)?;
    for kind in [
        crate::schema::SchemaKind::Config,
        crate::schema::SchemaKind::Release,
    ] {
        std::fs::write(
            schema_dir.join(kind.file_name()),
            crate::schema::schema_json(kind),
        )
        .map_err(io)?;
    }
    sandbox.commit_desired(
        &[
            ("stackrel.toml", DEMO_CONFIG),
            (
                "releases/2026.08.1.toml",
                &release_text("2026.07.1", "2026.08.2", "Frontend fixes"),
            ),
            (
                "releases/2026.08.2.toml",
                &release_text("2026.08.1", "2026.08.2", "New backend"),
            ),
        ],
        "Declare the stack and its first releases",
    )?;
    Ok(sandbox)
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<(), git2::Error> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).map_err(io)
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> Result<(), git2::Error> {
    Ok(())
}
