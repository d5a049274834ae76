//! A config may mix backends — components on GitHub, a stack mirrored locally, or the other way
//! round — so the loop talks to one `Forge` that sends each call to the backend its repository
//! lives on.

use super::github::GithubForge;
use super::local::LocalForge;
use super::{
    Changes, CiStatus, CommitId, CommitRange, DeploymentRecord, FileAtCommit, FileWrite, Forge,
    ForgeError, ForgeResult, NewPull, NewRelease, PullRequest, ReleaseInfo, TagRef,
};
use crate::config::RepoLocation;
use crate::release::TicketRef;

pub struct Router {
    pub local: LocalForge,
    pub github: Option<GithubForge>,
}

impl Router {
    fn pick(&self, repo: &RepoLocation) -> ForgeResult<&dyn Forge> {
        match repo {
            RepoLocation::Local(_) => Ok(&self.local),
            RepoLocation::GitHub { owner, name } => match &self.github {
                Some(github) => Ok(github),
                None => Err(ForgeError::Unsupported(format!(
                    "{owner}/{name} is on GitHub, but no GitHub credentials were given: set GITHUB_TOKEN (or GITHUB_TOKEN_FILE, or a GitHub App)"
                ))),
            },
        }
    }
}

impl Forge for Router {
    fn resolve_tag(&self, repo: &RepoLocation, tag: &str) -> ForgeResult<Option<CommitId>> {
        self.pick(repo)?.resolve_tag(repo, tag)
    }
    fn branch_head(&self, repo: &RepoLocation, branch: &str) -> ForgeResult<CommitId> {
        self.pick(repo)?.branch_head(repo, branch)
    }
    fn is_reachable(&self, repo: &RepoLocation, commit: &str, branch: &str) -> ForgeResult<bool> {
        self.pick(repo)?.is_reachable(repo, commit, branch)
    }
    fn ci_status(
        &self,
        repo: &RepoLocation,
        commit: &str,
        workflow: &str,
    ) -> ForgeResult<CiStatus> {
        self.pick(repo)?.ci_status(repo, commit, workflow)
    }
    fn read_file(
        &self,
        repo: &RepoLocation,
        commit: &str,
        path: &str,
    ) -> ForgeResult<Option<FileAtCommit>> {
        self.pick(repo)?.read_file(repo, commit, path)
    }
    fn write_file(&self, repo: &RepoLocation, write: &FileWrite<'_>) -> ForgeResult<CommitId> {
        self.pick(repo)?.write_file(repo, write)
    }
    fn tags(&self, repo: &RepoLocation) -> ForgeResult<Vec<TagRef>> {
        self.pick(repo)?.tags(repo)
    }
    fn commits_between(
        &self,
        repo: &RepoLocation,
        base: &str,
        head: &str,
        limit: usize,
    ) -> ForgeResult<CommitRange> {
        self.pick(repo)?.commits_between(repo, base, head, limit)
    }
    fn list_files(&self, repo: &RepoLocation, commit: &str, dir: &str) -> ForgeResult<Vec<String>> {
        self.pick(repo)?.list_files(repo, commit, dir)
    }
    fn create_release(&self, repo: &RepoLocation, release: &NewRelease<'_>) -> ForgeResult<()> {
        self.pick(repo)?.create_release(repo, release)
    }
    fn find_release(&self, repo: &RepoLocation, tag: &str) -> ForgeResult<Option<ReleaseInfo>> {
        self.pick(repo)?.find_release(repo, tag)
    }
    fn pin_overrides(&self, repo: &RepoLocation, pins: &[&str]) -> ForgeResult<Vec<String>> {
        self.pick(repo)?.pin_overrides(repo, pins)
    }
    fn report_ticket(
        &self,
        ticket: &TicketRef,
        marker: &str,
        body: &str,
        label: Option<&str>,
    ) -> ForgeResult<()> {
        // Tickets are GitHub issues whatever the repositories are.
        match &self.github {
            Some(github) => github.report_ticket(ticket, marker, body, label),
            None => self.local.report_ticket(ticket, marker, body, label),
        }
    }
    fn tickets(&self) -> Option<&dyn crate::ticket::TicketDesk> {
        self.github.as_ref().and_then(Forge::tickets)
    }
    fn record_deployment(&self, repo: &RepoLocation, record: &DeploymentRecord) -> ForgeResult<()> {
        self.pick(repo)?.record_deployment(repo, record)
    }
    fn deployments(&self, repo: &RepoLocation) -> ForgeResult<Vec<DeploymentRecord>> {
        self.pick(repo)?.deployments(repo)
    }
    // The deploy lock is a file on this machine wherever the records are kept.
    fn lock_deploys(
        &self,
        repo: &RepoLocation,
        holder: &crate::lock::Holder,
    ) -> ForgeResult<Option<crate::lock::Lock>> {
        self.local.lock_deploys(repo, holder)
    }
    fn deploy_lock_holder(&self, repo: &RepoLocation) -> ForgeResult<Option<crate::lock::Holder>> {
        self.local.deploy_lock_holder(repo)
    }
    fn changes_between(
        &self,
        repo: &RepoLocation,
        base: &str,
        head: &str,
        limit: usize,
    ) -> ForgeResult<Changes> {
        self.pick(repo)?.changes_between(repo, base, head, limit)
    }
    fn create_branch(&self, repo: &RepoLocation, branch: &str, commit: &str) -> ForgeResult<()> {
        self.pick(repo)?.create_branch(repo, branch, commit)
    }
    fn find_pull(
        &self,
        repo: &RepoLocation,
        head: &str,
        base: &str,
    ) -> ForgeResult<Option<PullRequest>> {
        self.pick(repo)?.find_pull(repo, head, base)
    }
    fn create_pull(&self, repo: &RepoLocation, pull: &NewPull<'_>) -> ForgeResult<PullRequest> {
        self.pick(repo)?.create_pull(repo, pull)
    }
}
