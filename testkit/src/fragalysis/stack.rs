//! The replica of xchem/fragalysis-stack: on `master`, one commit per declared release carrying
//! the real workflow with that release's pins, lightweight-tagged with its version at its real
//! date — 2024.09.2 and 2024.09.3 on one commit, as in reality. The newest release has the real
//! shape of 2026.08.3: its pin commit (005a791) on a side branch, merged by a merge commit that
//! carries the tag (067becd), then a later commit that changes only the Dockerfile (428de6b).
//! Around them, tags that are not production releases: `2.4`, a release candidate, and semver
//! tags from before CalVer.

use super::git::{Entry, branch, ci_notes, commit, tag};
use super::project::{Fixtures, Project};
use super::{NOT_PRODUCTION_TAGS, ReplicaError, SEMVER_TAG};
use git2::{Oid, Repository, Time};
use stackrel::config::render_template;
use stackrel::release::Release;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

/// The release after which the real release candidate was tagged, and its tag and subject.
const RC_AFTER: &str = "2022.11.1";
const RC_SUBJECT: &str = "feat: Should now deploy to staging";
/// When master's tip (428de6b) was committed.
const TIP_TIME: &str = "2026-08-20T16:05:17+01:00";
const TIP_SUBJECT: &str = "build: Stack image from the frontend and backend images";
/// How long before the merge (and its tag) the newest release's pin commit was made.
const PIN_BEFORE_MERGE_SECONDS: i64 = 26 * 60;

/// The commits of the real shape.
pub(super) struct Landmarks {
    pub pin_commit: Oid,
    pub merge: Oid,
    pub tip: Oid,
}

struct Stack<'a> {
    repo: Repository,
    project: &'a Project,
    fixtures: &'a Fixtures,
    master: Oid,
    /// The replica's commit for each real commit that carries a release tag.
    by_real_commit: BTreeMap<String, Oid>,
    /// Every release's commit, for CI results.
    released: Vec<Oid>,
}

pub(super) fn build(
    path: &Path,
    project: &Project,
    fixtures: &Fixtures,
    stack_ci: bool,
) -> Result<Landmarks, ReplicaError> {
    let repo = Repository::init_bare(path)?;
    let workflows = pinned_workflows(project, fixtures)?;
    let mut stack = Stack::start(repo, project, fixtures)?;
    let (Some((newest, older)), Some(newest_workflow)) =
        (project.releases.split_last(), workflows.last())
    else {
        return Err(ReplicaError::Data("the project declares no release".into()));
    };
    for (release, workflow) in older.iter().zip(workflows) {
        stack.release(release, workflow)?;
    }
    let (pin_commit, merge) = stack.merged_release(newest, newest_workflow)?;
    let tip = stack.dockerfile_change()?;
    branch(&stack.repo, &project.config.stack.branch, tip)?;
    stack
        .repo
        .set_head(&format!("refs/heads/{}", project.config.stack.branch))?;
    if stack_ci {
        let when = stack.time(TIP_TIME)?;
        let built: Vec<(Oid, &str)> = stack.released.iter().map(|c| (*c, "success")).collect();
        ci_notes(&stack.repo, &built, when)?;
    }
    Ok(Landmarks {
        pin_commit,
        merge,
        tip,
    })
}

impl<'a> Stack<'a> {
    /// The history before the first release file: the first commit (tags `2.4`, `2.4.0`), and
    /// the workflow's arrival with floating pins (semver tags `2.7.0`, `2.7.1`).
    fn start(
        repo: Repository,
        project: &'a Project,
        fixtures: &'a Fixtures,
    ) -> Result<Self, ReplicaError> {
        let dockerfile = Entry::file("Dockerfile", fixtures.old_dockerfile.as_bytes());
        let first = fixtures.tag("2.4.0")?.at;
        let root = commit(&repo, &[], &[dockerfile], "Initial stack", first)?;
        for name in [NOT_PRODUCTION_TAGS[1], "2.4.0"] {
            tag(&repo, name, root)?;
        }
        let mut stack = Stack {
            repo,
            project,
            fixtures,
            master: root,
            by_real_commit: BTreeMap::new(),
            released: Vec::new(),
        };
        let floating: Vec<(&str, &str)> = (project.config.components.values())
            .map(|c| (c.pin.as_str(), "latest"))
            .collect();
        let workflow = stackrel::pin::set_pins(&fixtures.workflow, &floating)
            .map_err(|e| ReplicaError::Data(format!("pinning the workflow: {e}")))?;
        let at = fixtures.tag(SEMVER_TAG)?.at;
        let semver = stack.on_master(&workflow, "ci: Build and deploy on tags", at)?;
        for name in ["2.7.0", SEMVER_TAG] {
            tag(&stack.repo, name, semver)?;
        }
        Ok(stack)
    }

    /// A release's commit on master, and its tag: a release whose real tag shares a commit
    /// with the previous one's shares it here too.
    fn release(&mut self, release: &Release, workflow: &str) -> Result<(), ReplicaError> {
        let version = release.version.to_string();
        let real = self.fixtures.tag(&version)?;
        let tagged = match self.by_real_commit.get(&real.commit) {
            Some(shared) => *shared,
            None => {
                let made = self.on_master(workflow, &self.subject(release), real.at)?;
                self.by_real_commit.insert(real.commit.clone(), made);
                made
            }
        };
        self.cut(&version, tagged)?;
        if version == RC_AFTER {
            let rc = NOT_PRODUCTION_TAGS[0];
            let at = self.fixtures.tag(rc)?.at;
            // Its real commit changed only other workflows: here, no file at all.
            let candidate = commit(&self.repo, &[self.master], &[], RC_SUBJECT, at)?;
            self.master = candidate;
            tag(&self.repo, rc, candidate)?;
        }
        Ok(())
    }

    /// The newest release as 2026.08.3 was made: the pin commit on a side branch, merged into
    /// master by a merge commit that carries the tag. Returns (pin commit, merge).
    fn merged_release(
        &mut self,
        release: &Release,
        workflow: &str,
    ) -> Result<(Oid, Oid), ReplicaError> {
        let version = release.version.to_string();
        let at = self.fixtures.tag(&version)?.at;
        let file = [Entry::file(self.workflow_path(), workflow.as_bytes())];
        let pinned_at = Time::new(at.seconds() - PIN_BEFORE_MERGE_SECONDS, at.offset_minutes());
        let subject = self.subject(release);
        let pin = commit(&self.repo, &[self.master], &file, &subject, pinned_at)?;
        let message = format!("Merge pull request #134 from xchem/release-{version}\n\n{subject}");
        let merge = commit(&self.repo, &[self.master, pin], &file, &message, at)?;
        self.master = merge;
        self.cut(&version, merge)?;
        Ok((pin, merge))
    }

    /// Master's tip: work on the stack itself since the newest release, no pin changed.
    fn dockerfile_change(&mut self) -> Result<Oid, ReplicaError> {
        let file = [Entry::file(
            "Dockerfile",
            self.fixtures.dockerfile.as_bytes(),
        )];
        let at = self.time(TIP_TIME)?;
        let tip = commit(&self.repo, &[self.master], &file, TIP_SUBJECT, at)?;
        self.master = tip;
        Ok(tip)
    }

    fn on_master(&mut self, workflow: &str, subject: &str, at: Time) -> Result<Oid, ReplicaError> {
        let file = [Entry::file(self.workflow_path(), workflow.as_bytes())];
        self.master = commit(&self.repo, &[self.master], &file, subject, at)?;
        Ok(self.master)
    }

    fn cut(&mut self, version: &str, commit: Oid) -> Result<(), ReplicaError> {
        tag(&self.repo, version, commit)?;
        self.released.push(commit);
        Ok(())
    }

    /// The pin commit's subject, from the project's `commit_message`.
    fn subject(&self, release: &Release) -> String {
        let template = &self.project.config.stack.commit_message;
        render_template(template, &release.version.to_string(), &release.components)
    }

    fn workflow_path(&self) -> &'a str {
        &self.project.config.stack.workflow
    }

    fn time(&self, rfc3339: &str) -> Result<Time, ReplicaError> {
        super::git::time(rfc3339).ok_or_else(|| ReplicaError::Data(format!("a time: {rfc3339}")))
    }
}

/// The real workflow with each release's pins, oldest first. The pin editor confirms every edit
/// with a YAML parser, which makes this the slowest part of the replica in a debug build, and
/// the texts are the same for every replica (the release files and the fixture do not change
/// while tests run): made once per process.
fn pinned_workflows(
    project: &Project,
    fixtures: &Fixtures,
) -> Result<&'static [String], ReplicaError> {
    static WORKFLOWS: OnceLock<Result<Vec<String>, String>> = OnceLock::new();
    let made = WORKFLOWS.get_or_init(|| {
        (project.releases.iter())
            .map(|release| {
                stackrel::pin::set_pins(&fixtures.workflow, &project.pins(release))
                    .map_err(|e| format!("pinning the workflow for {}: {e}", release.version))
            })
            .collect()
    });
    match made {
        Ok(workflows) if workflows.len() == project.releases.len() => Ok(workflows),
        Ok(_) => Err(ReplicaError::Data(
            "the release files changed while running".into(),
        )),
        Err(why) => Err(ReplicaError::Data(why.clone())),
    }
}
