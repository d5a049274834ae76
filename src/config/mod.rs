//! The configuration everything downstream of validation takes: `stackrel.toml` resolved once
//! into typed values — repository locations parsed, tag rules compiled, cron schedules parsed,
//! the deployer as an enum, durations as durations. The document as written (`file`) is kept only
//! for its spans and diagnostics; because validation has already judged it, resolving cannot
//! meet a value it has not seen, and nothing later re-parses a string.

mod awx_api;
pub mod file;
mod repo;
mod schedule;
mod template;

pub use awx_api::{AwxApi, DISCOVERY_ROOTS, resolve as resolve_awx_api};
pub use file::{ConfigFile, LaunchedBy};
pub use repo::RepoLocation;
pub use schedule::Schedule;
pub use template::{placeholders, render_template};

use crate::component_tag::TagRule;
use crate::registry::ImageRef;
use std::collections::BTreeMap;
use std::time::Duration;

/// Names a component may not take: they are release-file keys or template placeholders already.
pub const RESERVED_NAMES: &[&str] = &["ticket", "notes", "version", "waive_ci", "stack"];

/// GitHub's REST API root when `[github] api_url` is not set.
pub const GITHUB_API_URL: &str = "https://api.github.com";
/// How long a deploy may run when `[deploy] timeout_seconds` is not set: a stack deploy pulls
/// images and restarts services.
pub const DEPLOY_TIMEOUT: Duration = Duration::from_secs(1800);
/// The longest `[deploy] timeout_seconds` (and `[verify] timeout_seconds`) taken: a week.
/// More is a slip of the keyboard, and durations past what a clock can add would panic.
pub const MAX_TIMEOUT_SECONDS: u64 = 7 * 24 * 3600;
/// How long one run of a verify command may take.
pub const VERIFY_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a CI run may be missing or unfinished before its gate blocks, when `ci_timeout` is
/// not set: the Fragalysis builds take 3 to 15 minutes, so an hour means something is wrong.
pub const CI_TIMEOUT: Duration = Duration::from_secs(3600);
/// The stack tags that are production releases when `[stack] production_tags` is not set: the
/// tags the Fragalysis stack workflow deploys to production.
pub const PRODUCTION_TAGS: &str = r"^[0-9]+\.[0-9]+\.[0-9]+$";

/// `stackrel.toml`, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub stack: Stack,
    /// By component name, the key of release files and of `{name}` placeholders.
    pub components: BTreeMap<String, Component>,
    pub deploy: Deploy,
    pub verify: Option<Verify>,
    pub github: Github,
    pub ticket: Ticket,
    pub daemon: Daemon,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stack {
    pub repo: RepoLocation,
    pub branch: String,
    /// Path of the workflow file whose top-level `env:` holds the pins.
    pub workflow: String,
    pub commit_message: String,
    /// The workflow whose run on the release tag must succeed before deploying.
    pub ci: Option<String>,
    /// How long that run may be missing or unfinished before the release is blocked.
    pub ci_timeout: Duration,
    /// Which stack tags are production releases.
    pub production_tags: TagRule,
    /// The image the stack's build pushes, tagged with the stack version.
    pub image: Option<ImageRef>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    pub repo: RepoLocation,
    /// A release's tag must be reachable from this branch.
    pub branch: String,
    /// The key under the stack workflow's top-level `env:`.
    pub pin: String,
    /// The workflow whose run on the tag's commit must have succeeded.
    pub ci: Option<String>,
    /// How long that run may be missing or unfinished before the release is blocked.
    pub ci_timeout: Duration,
    /// What a version of this component must look like.
    pub tag_rule: TagRule,
    /// The image its tags name, checked in its registry at preflight.
    pub image: Option<ImageRef>,
    /// `owner/name` of the GitHub repository a bare `#N` of this component means: `tickets`,
    /// else its own repository when that is on GitHub.
    pub tickets: Option<String>,
    /// Where its `repo` and `branch` values are written in `stackrel.toml` (when resolved by
    /// validation), so that a repository or branch found missing later is reported there.
    pub places: ComponentPlaces,
}

/// Where a component's fields are written, for diagnostics about what they name.
#[derive(Debug, Clone, Default)]
pub struct ComponentPlaces {
    pub repo: Option<FieldPlace>,
    pub branch: Option<FieldPlace>,
}

/// Where one field's value is written in `stackrel.toml`: its byte range, and the 1-based line
/// and column (in characters) where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPlace {
    pub span: std::ops::Range<usize>,
    pub line: usize,
    pub column: usize,
}

/// Where a value is written is not what the config means: a config whose lines moved (a
/// comment added above) is the same config, and keeps the backends built for it.
impl PartialEq for ComponentPlaces {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// How a cut release reaches production.
#[derive(Debug, Clone, PartialEq)]
pub enum Deploy {
    /// The release is done once it is cut (and verified, if configured).
    None,
    Command(CommandDeploy),
    Awx(AwxDeploy),
}

#[derive(Debug, Clone, PartialEq)]
pub struct CommandDeploy {
    /// argv with placeholders; never run through a shell.
    pub argv: Vec<String>,
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AwxDeploy {
    /// The controller's origin (`https://host[:port]`), without a path or a trailing `/`.
    pub url: String,
    /// Where its API is under that origin: written, or discovered from `/api/`.
    pub api: AwxApi,
    pub template: String,
    /// Template names are unique per organization only.
    pub organization: Option<String>,
    /// The extra variable that carries the stack version.
    pub variable: String,
    pub timeout: Duration,
    /// Who launches the template: stackrel, or the stack's CI (stackrel then only follows).
    pub launched_by: LaunchedBy,
}

/// How stackrel confirms what is live.
#[derive(Debug, Clone, PartialEq)]
pub enum Verify {
    /// An endpoint that reports the live versions as JSON.
    Http {
        url: String,
        /// Dotted JSON path → the value it must show, with placeholders.
        expect: BTreeMap<String, String>,
        timeout: Option<Duration>,
    },
    /// A command that exits 0 when the declared versions are live.
    Command {
        argv: Vec<String>,
        timeout: Option<Duration>,
    },
}

impl Verify {
    /// How long to keep checking before the release counts as not live; `None`: the run's own
    /// gate timeout.
    pub fn timeout(&self) -> Option<Duration> {
        match self {
            Verify::Http { timeout, .. } | Verify::Command { timeout, .. } => *timeout,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Github {
    /// REST API root, without a trailing `/`.
    pub api_url: String,
}

impl Github {
    /// Where people see what the API serves: `https://github.com` for `api.github.com`, the
    /// host for GitHub Enterprise's `https://HOST/api/v3`, the API root otherwise (a test server).
    pub fn web_url(&self) -> String {
        let api = self.api_url.trim_end_matches('/');
        if api == GITHUB_API_URL.trim_end_matches('/') {
            return "https://github.com".into();
        }
        api.trim_end_matches("/api/v3").to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Ticket {
    /// Added to a release's ticket once the release is cut.
    pub label: Option<String>,
    /// Where `Release <version>` tickets live, for releases whose file names none.
    pub repo: Option<GithubRepo>,
    /// Create the `Release <version>` issue when none is open in `repo`.
    pub create: bool,
    /// Logins the ticket is assigned to.
    pub assignees: Vec<String>,
    /// The board the ticket is put on, and in which column.
    pub project: Option<ProjectBoard>,
}

/// A repository on GitHub, by owner and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GithubRepo {
    pub owner: String,
    pub name: String,
}

impl std::fmt::Display for GithubRepo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// The field a board's columns are when `[ticket] project.field` is not set: GitHub's default
/// single-select field of a new project.
pub const BOARD_FIELD: &str = "Status";

/// A GitHub project, and the option of its single-select field that is the ticket's column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectBoard {
    /// The organisation or user that owns it.
    pub owner: String,
    pub number: u64,
    pub field: String,
    pub column: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Daemon {
    /// When to re-check for drift; `None`: the daemon's default interval.
    pub resync: Option<Schedule>,
    /// When a release may change anything; empty means any time.
    pub windows: Vec<Schedule>,
    /// Where `windows` and `resync` are read, and times are shown.
    pub timezone: chrono_tz::Tz,
    pub suspended: bool,
}

impl Config {
    /// Resolves a document that validation has accepted. An error here means validation let
    /// something through; it is reported, never unwrapped.
    pub fn resolve(file: &ConfigFile) -> Result<Config, String> {
        let components = file
            .components
            .iter()
            .map(|(name, c)| Ok((name.clone(), resolve_component(name, c)?)))
            .collect::<Result<_, String>>()?;
        Ok(Config {
            stack: Stack {
                repo: repo_field("stack.repo", &file.stack.repo)?,
                branch: file.stack.branch.clone(),
                workflow: file.stack.workflow.clone(),
                commit_message: file.stack.commit_message.clone(),
                ci: file.stack.ci.clone(),
                ci_timeout: ci_timeout("stack.ci_timeout", file.stack.ci_timeout.as_deref())?,
                production_tags: TagRule::from_pattern(Some(
                    file.stack
                        .production_tags
                        .as_deref()
                        .unwrap_or(PRODUCTION_TAGS),
                ))
                .map_err(|e| format!("`stack.production_tags`: {e}"))?,
                image: image_field("stack.image", file.stack.image.as_deref())?,
            },
            components,
            deploy: resolve_deploy(&file.deploy)?,
            verify: file.verify.as_ref().map(resolve_verify).transpose()?,
            github: Github {
                api_url: file
                    .github
                    .as_ref()
                    .and_then(|g| g.api_url.as_deref())
                    .unwrap_or(GITHUB_API_URL)
                    .trim_end_matches('/')
                    .to_string(),
            },
            ticket: file
                .ticket
                .as_ref()
                .map(resolve_ticket)
                .transpose()?
                .unwrap_or_default(),
            daemon: resolve_daemon(&file.daemon)?,
        })
    }

    /// Every component's pin key, in component-name order.
    pub fn pin_keys(&self) -> Vec<&str> {
        self.components.values().map(|c| c.pin.as_str()).collect()
    }

    /// The stack and component repositories, each once, stack first.
    pub fn repositories(&self) -> Vec<&RepoLocation> {
        let mut repos = vec![&self.stack.repo];
        for component in self.components.values() {
            if !repos.contains(&&component.repo) {
                repos.push(&component.repo);
            }
        }
        repos
    }
}

fn repo_field(field: &str, repo: &str) -> Result<RepoLocation, String> {
    RepoLocation::parse(repo).map_err(|why| format!("`{field}` = \"{repo}\": {why}"))
}

fn resolve_component(name: &str, c: &file::ComponentConfig) -> Result<Component, String> {
    Ok(Component {
        repo: repo_field(&format!("components.{name}.repo"), &c.repo)?,
        branch: c.branch.clone(),
        pin: c.pin.clone(),
        ci: c.ci.clone(),
        ci_timeout: ci_timeout(
            &format!("components.{name}.ci_timeout"),
            c.ci_timeout.as_deref(),
        )?,
        tag_rule: TagRule::from_pattern(c.tag_pattern.as_deref())
            .map_err(|e| format!("`components.{name}.tag_pattern`: {e}"))?,
        image: image_field(&format!("components.{name}.image"), c.image.as_deref())?,
        tickets: match &c.tickets {
            Some(tickets) => Some(tickets.clone()),
            None => match RepoLocation::parse(&c.repo) {
                Ok(own @ RepoLocation::GitHub { .. }) => Some(own.to_string()),
                _ => None,
            },
        },
        places: ComponentPlaces::default(),
    })
}

fn image_field(field: &str, written: Option<&str>) -> Result<Option<ImageRef>, String> {
    written
        .map(|image| {
            ImageRef::parse(image).map_err(|why| format!("`{field}` = \"{image}\": {why}"))
        })
        .transpose()
}

impl Config {
    /// Every configured image, by component name (`stack` for the stack's own).
    pub fn images(&self) -> impl Iterator<Item = (&str, &ImageRef)> {
        let components = self
            .components
            .iter()
            .filter_map(|(name, c)| Some((name.as_str(), c.image.as_ref()?)));
        let stack = self
            .stack
            .image
            .as_ref()
            .map(|i| (crate::release::STACK, i));
        components.chain(stack)
    }
}

/// A duration as people write it: "45m", "1h 30m", "90s".
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|e| e.to_string())
}

fn ci_timeout(field: &str, written: Option<&str>) -> Result<Duration, String> {
    written.map_or(Ok(CI_TIMEOUT), |t| {
        parse_duration(t).map_err(|e| format!("`{field}` = \"{t}\": {e}"))
    })
}

fn required<'a>(value: &'a Option<String>, field: &str) -> Result<&'a str, String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("`{field}` is required"))
}

/// A `timeout_seconds` as written, refused past `MAX_TIMEOUT_SECONDS`.
fn timeout_seconds(field: &str, written: Option<u64>) -> Result<Option<Duration>, String> {
    match written {
        Some(seconds) if seconds > MAX_TIMEOUT_SECONDS => Err(format!(
            "`{field}` = {seconds} is more than a week ({MAX_TIMEOUT_SECONDS} seconds); write how many seconds it may really take, e.g. 1800 for half an hour"
        )),
        written => Ok(written.map(Duration::from_secs)),
    }
}

fn resolve_deploy(deploy: &file::DeployConfig) -> Result<Deploy, String> {
    let timeout = timeout_seconds("deploy.timeout_seconds", deploy.timeout_seconds)?
        .unwrap_or(DEPLOY_TIMEOUT);
    Ok(match deploy.kind {
        file::DeployKind::None => Deploy::None,
        file::DeployKind::Command => Deploy::Command(CommandDeploy {
            argv: deploy
                .command
                .clone()
                .filter(|c| !c.is_empty())
                .ok_or("`deploy.command` is required when kind = \"command\"".to_string())?,
            timeout,
        }),
        file::DeployKind::Awx => {
            let (url, api) = awx_api::resolve(
                required(&deploy.url, "deploy.url")?,
                deploy.api_prefix.as_deref(),
            );
            Deploy::Awx(AwxDeploy {
                url,
                api,
                template: required(&deploy.template, "deploy.template")?.to_string(),
                organization: deploy.organization.clone().filter(|o| !o.is_empty()),
                variable: required(&deploy.variable, "deploy.variable")?.to_string(),
                timeout,
                launched_by: deploy.launched_by.unwrap_or_default(),
            })
        }
    })
}

fn resolve_verify(verify: &file::VerifyConfig) -> Result<Verify, String> {
    let timeout = timeout_seconds("verify.timeout_seconds", verify.timeout_seconds)?;
    match (&verify.url, &verify.command) {
        (Some(url), None) => Ok(Verify::Http {
            url: url.trim().to_string(),
            expect: verify.expect.clone(),
            timeout,
        }),
        (None, Some(argv)) if !argv.is_empty() => Ok(Verify::Command {
            argv: argv.clone(),
            timeout,
        }),
        _ => Err("[verify] needs exactly one of `url` (with `expect`) or `command`".into()),
    }
}

fn resolve_ticket(ticket: &file::TicketConfig) -> Result<Ticket, String> {
    let repo = match ticket.repo.as_deref() {
        None => None,
        Some(written) => match repo_field("ticket.repo", written)? {
            RepoLocation::GitHub { owner, name } => Some(GithubRepo { owner, name }),
            RepoLocation::Local(_) => {
                return Err(format!(
                    "`ticket.repo` = \"{written}\": tickets are GitHub issues"
                ));
            }
        },
    };
    if ticket.create && repo.is_none() {
        return Err("`ticket.create` needs `ticket.repo`".into());
    }
    Ok(Ticket {
        label: ticket.label.clone(),
        repo,
        create: ticket.create,
        assignees: ticket.assignees.clone(),
        project: ticket.project.as_ref().map(|p| ProjectBoard {
            owner: p.owner.clone(),
            number: p.number,
            field: p.field.clone().unwrap_or_else(|| BOARD_FIELD.to_string()),
            column: p.column.clone(),
        }),
    })
}

fn resolve_daemon(daemon: &file::DaemonConfig) -> Result<Daemon, String> {
    let schedule = |field: &str, expression: &str| {
        Schedule::parse(expression).map_err(|e| format!("`{field}` = \"{expression}\": {e}"))
    };
    Ok(Daemon {
        resync: daemon
            .resync
            .as_deref()
            .map(|r| schedule("daemon.resync", r))
            .transpose()?,
        windows: daemon
            .windows
            .iter()
            .map(|w| schedule("daemon.windows", w))
            .collect::<Result<_, _>>()?,
        timezone: match &daemon.timezone {
            Some(name) => name
                .parse()
                .map_err(|_| format!("`daemon.timezone` = \"{name}\" is not an IANA time zone"))?,
            None => chrono_tz::UTC,
        },
        suspended: daemon.suspended,
    })
}
