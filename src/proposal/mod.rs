//! `stackrel release` and `stackrel rollback` propose a release file instead of a person writing
//! one: the component versions (the newest releasable tags, or the ones asked for, checked the
//! same way), the next stack version, and notes saying what changed since the live release. This
//! module is the shell that observes what those decisions need; the decisions themselves are
//! pure (`versions`, `stack_version`, `notes`, `file`). Nothing here writes: `submit` does, once
//! a proposal stands.

mod file;
pub mod notes;
pub mod stack_version;
pub mod submit;
pub mod versions;

use crate::apply::{Backends, preview};
use crate::calver::CalVer;
use crate::config::{Component, Config};
use crate::diagnostic::Diagnostic;
use crate::forge::{Forge, ForgeError};
use crate::plan::{Plan, PlanOptions};
use crate::release::{ComponentRules, RELEASES_DIR, Release};
use chrono::{DateTime, Utc};
use notes::ComponentChanges;
use stack_version::VersionProblem;
use std::collections::BTreeMap;
use versions::{Candidate, Chosen, Refusal, Skipped};

/// How many of a component's newest tags are tried before giving up: each costs requests.
pub const MAX_TRIED: usize = 20;

/// What a person asked for.
#[derive(Debug, Clone)]
pub struct Request {
    /// `COMPONENT=VERSION` arguments, as given.
    pub assignments: Vec<String>,
    /// `--version`.
    pub version: Option<String>,
    pub now: DateTime<Utc>,
}

/// A release file ready to be written, and what it would cause.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub release: Release,
    /// The file's text.
    pub text: String,
    /// Per component, the tag chosen and the newer tags passed over.
    pub chosen: BTreeMap<String, Chosen>,
    /// The release the notes compare with: the live one, else the newest declared.
    pub compared_with: Option<CalVer>,
    /// The plan the file would cause once merged.
    pub plan: Plan,
}

/// Why no release file is proposed. Each says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ProposalError {
    #[error("`{name}` is not a component of stackrel.toml (components: {})", known.join(", "))]
    UnknownComponent { name: String, known: Vec<String> },
    #[error("`{0}` is not COMPONENT=VERSION")]
    Malformed(String),
    #[error("{0}")]
    Version(VersionProblem),
    #[error("{component} {tag} cannot be released: {why}")]
    Refused {
        component: String,
        tag: String,
        why: Refusal,
    },
    #[error("{component} has no releasable tag on `{branch}`{}", tried(.skipped))]
    NothingReleasable {
        component: String,
        branch: String,
        skipped: Vec<Skipped>,
    },
    #[error("nothing is known to be live, so there is no release to roll back to")]
    NothingLive,
    #[error("there is no release {0} in releases/")]
    NoSuchRelease(String),
    #[error("observing {what} failed: {source}")]
    Forge {
        what: String,
        #[source]
        source: ForgeError,
    },
    #[error("the proposed file would not validate: {}", .0.first().map(|d| d.message.as_str()).unwrap_or(""))]
    Invalid(Vec<Diagnostic>),
}

fn tried(skipped: &[Skipped]) -> String {
    if skipped.is_empty() {
        return " (it has no tag that follows its version rule)".into();
    }
    let each: Vec<String> = skipped
        .iter()
        .map(|s| format!("{}: {}", s.tag, s.why))
        .collect();
    format!(" ({})", each.join("; "))
}

impl ProposalError {
    /// How to fix it.
    pub fn help(&self) -> String {
        match self {
            ProposalError::UnknownComponent { .. } | ProposalError::Malformed(_) => {
                "write COMPONENT=VERSION with a component of stackrel.toml, e.g. backend=2026.08.1"
                    .into()
            }
            ProposalError::Version(VersionProblem::Shape { .. }) => {
                "give --version as YYYY.MM.N, e.g. 2026.08.3".into()
            }
            ProposalError::Version(VersionProblem::NotNewer { newest, .. }) => format!(
                "choose a version above {newest}, or leave --version out to take the next one"
            ),
            ProposalError::Refused { component, .. } => format!(
                "name another {component} tag, or leave {component}= out to take the newest releasable one"
            ),
            ProposalError::NothingReleasable { component, .. } => format!(
                "tag a {component} commit on its branch whose CI succeeded, or name a version with {component}=VERSION"
            ),
            ProposalError::NothingLive => {
                "name the release to return to: stackrel rollback --to VERSION".into()
            }
            ProposalError::NoSuchRelease(_) => {
                "name a release that has a file in releases/ (`stackrel history` lists them)".into()
            }
            ProposalError::Forge { .. } => {
                "check the repositories in stackrel.toml and the credentials".into()
            }
            ProposalError::Invalid(_) => "this is a bug in stackrel; please report it".into(),
        }
    }
}

fn observing(what: impl Into<String>) -> impl FnOnce(ForgeError) -> ProposalError {
    let what = what.into();
    move |source| ProposalError::Forge { what, source }
}

/// `COMPONENT=VERSION` arguments, read against the configured components.
pub fn parse_assignments(
    config: &Config,
    assignments: &[String],
) -> Result<BTreeMap<String, String>, ProposalError> {
    let mut out = BTreeMap::new();
    for arg in assignments {
        let Some((name, version)) = arg.split_once('=') else {
            return Err(ProposalError::Malformed(arg.clone()));
        };
        let (name, version) = (name.trim(), version.trim());
        if name.is_empty() || version.is_empty() || out.contains_key(name) {
            return Err(ProposalError::Malformed(arg.clone()));
        }
        if !config.components.contains_key(name) {
            return Err(ProposalError::UnknownComponent {
                name: name.to_string(),
                known: config.components.keys().cloned().collect(),
            });
        }
        out.insert(name.to_string(), version.to_string());
    }
    Ok(out)
}

/// One tag as the forge shows it: where it points, whether its branch holds it, its CI.
fn observe_candidate(
    forge: &dyn Forge,
    component: &Component,
    tag: &str,
    commit: Option<String>,
) -> Result<Candidate, ForgeError> {
    let commit = match commit {
        Some(commit) => Some(commit),
        None => forge.resolve_tag(&component.repo, tag)?,
    };
    let Some(at) = commit.as_deref() else {
        return Ok(Candidate {
            tag: tag.to_string(),
            commit: None,
            reachable: false,
            ci: None,
        });
    };
    let reachable = forge.is_reachable(&component.repo, at, &component.branch)?;
    // CI is asked about only for a tag its branch holds: the branch alone refuses the others.
    let ci = match (&component.ci, reachable) {
        (Some(workflow), true) => Some((
            workflow.clone(),
            forge.ci_status(&component.repo, at, workflow)?,
        )),
        _ => None,
    };
    Ok(Candidate {
        tag: tag.to_string(),
        commit,
        reachable,
        ci,
    })
}

/// An explicit version, refused with its reason if it cannot be released.
fn check_explicit(
    forge: &dyn Forge,
    name: &str,
    component: &Component,
    tag: &str,
) -> Result<(Chosen, String), ProposalError> {
    let candidate = observe_candidate(forge, component, tag, None)
        .map_err(observing(format!("{name} {tag}")))?;
    match versions::judge(&component.tag_rule, &component.branch, &candidate) {
        Ok(()) => Ok((
            Chosen {
                tag: tag.to_string(),
                skipped: Vec::new(),
            },
            candidate.commit.unwrap_or_default(),
        )),
        Err(why) => Err(ProposalError::Refused {
            component: name.to_string(),
            tag: tag.to_string(),
            why,
        }),
    }
}

/// The newest releasable tag of a component.
fn choose_newest(
    forge: &dyn Forge,
    name: &str,
    component: &Component,
) -> Result<(Chosen, String), ProposalError> {
    let tags = forge
        .tags(&component.repo)
        .map_err(observing(format!("the tags of {name}")))?;
    let mut skipped = Vec::new();
    for tag in versions::candidates(&component.tag_rule, &tags)
        .into_iter()
        .take(MAX_TRIED)
    {
        let candidate = observe_candidate(forge, component, &tag.name, Some(tag.commit))
            .map_err(observing(format!("{name} {}", tag.name)))?;
        match versions::judge(&component.tag_rule, &component.branch, &candidate) {
            Ok(()) => {
                let chosen = Chosen {
                    tag: tag.name,
                    skipped,
                };
                return Ok((chosen, candidate.commit.unwrap_or_default()));
            }
            Err(why) => skipped.push(Skipped { tag: tag.name, why }),
        }
    }
    Err(ProposalError::NothingReleasable {
        component: name.to_string(),
        branch: component.branch.clone(),
        skipped,
    })
}

/// Every component's version: the ones asked for, checked; the newest releasable for the rest.
/// With the commit each tag points at.
pub fn choose_versions(
    config: &Config,
    forge: &dyn Forge,
    explicit: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, (Chosen, String)>, ProposalError> {
    let mut chosen = BTreeMap::new();
    for (name, component) in &config.components {
        let found = match explicit.get(name) {
            Some(tag) => check_explicit(forge, name, component, tag)?,
            None => choose_newest(forge, name, component)?,
        };
        chosen.insert(name.clone(), found);
    }
    Ok(chosen)
}

/// Every version a new release must be above: the release files' and the stack's production
/// tags that are stack versions.
fn taken_versions(
    config: &Config,
    forge: &dyn Forge,
    declared: &[Release],
) -> Result<Vec<CalVer>, ProposalError> {
    let tags = forge
        .tags(&config.stack.repo)
        .map_err(observing("the stack's tags"))?;
    Ok(declared
        .iter()
        .map(|r| r.version)
        .chain(
            tags.iter()
                .filter(|t| config.stack.production_tags.matches(&t.name))
                .filter_map(|t| t.name.parse().ok()),
        )
        .collect())
}

/// The stack version: `--version` checked, or the next one.
fn stack_version(
    config: &Config,
    forge: &dyn Forge,
    declared: &[Release],
    request: &Request,
) -> Result<CalVer, ProposalError> {
    let taken = taken_versions(config, forge, declared)?;
    match &request.version {
        Some(given) => stack_version::check_chosen(given, &taken).map_err(ProposalError::Version),
        None => Ok(stack_version::next_version(
            request.now,
            config.daemon.timezone,
            &taken,
        )),
    }
}

/// The rules release files are read with.
pub fn component_rules(config: &Config) -> ComponentRules {
    ComponentRules {
        rules: config
            .components
            .iter()
            .map(|(name, c)| (name.clone(), c.tag_rule.clone()))
            .collect(),
    }
}

fn new_release(version: CalVer, components: BTreeMap<String, String>) -> Release {
    Release {
        version,
        path: format!("{RELEASES_DIR}/{version}.toml"),
        components,
        ticket: None,
        notes: None,
        waive_ci: Vec::new(),
    }
}

/// The plan `release` would cause, as `stackrel plan` would show it once the file is merged.
fn plan_for(
    config: &Config,
    release: &Release,
    declared: &[Release],
    backends: &Backends<'_>,
) -> Result<Plan, ProposalError> {
    let mut all = declared.to_vec();
    all.push(release.clone());
    preview(
        config,
        release,
        &all,
        backends,
        PlanOptions {
            window: crate::window::current(&config.daemon),
            ..PlanOptions::default()
        },
    )
    .map_err(observing("live state"))
}

/// What changed in each component between two sets of versions (`from` may lack a component,
/// or be absent altogether). `heads` are the commits of the `to` tags, when known.
fn changes(
    config: &Config,
    forge: &dyn Forge,
    from: Option<&BTreeMap<String, String>>,
    to: &BTreeMap<String, String>,
    heads: &BTreeMap<String, String>,
) -> Result<Vec<ComponentChanges>, ProposalError> {
    let mut out = Vec::new();
    for (name, component) in &config.components {
        let to_tag = to.get(name).cloned().unwrap_or_default();
        let mut from_tag = from.and_then(|f| f.get(name)).cloned();
        let mut backwards = false;
        let changes = match &from_tag {
            Some(base) if *base != to_tag => {
                let head = match heads.get(name) {
                    Some(head) => head.clone(),
                    None => forge
                        .resolve_tag(&component.repo, &to_tag)
                        .map_err(observing(format!("{name} {to_tag}")))?
                        .unwrap_or(to_tag.clone()),
                };
                let range = |base: &str, head: &str| {
                    forge.changes_between(&component.repo, base, head, notes::LISTED)
                };
                match range(base, &head) {
                    // Nothing ahead: the new version is older, and going back undoes the rest.
                    Ok(changes) if changes.total == 0 => {
                        let undone = range(&head, base)
                            .map_err(observing(format!("{name} {to_tag}...{base}")))?;
                        backwards = undone.total > 0;
                        undone
                    }
                    Ok(changes) => changes,
                    // The earlier tag is gone (deleted, or never pushed): nothing to compare with.
                    Err(ForgeError::NotFound { .. }) => {
                        from_tag = None;
                        Default::default()
                    }
                    Err(e) => return Err(observing(format!("{name} {base}...{to_tag}"))(e)),
                }
            }
            _ => Default::default(),
        };
        out.push(ComponentChanges {
            name: name.clone(),
            repo: component
                .repo
                .is_github()
                .then(|| component.repo.to_string()),
            tickets: component.tickets.clone(),
            from: from_tag,
            to: to_tag,
            changes,
            backwards,
        });
    }
    Ok(out)
}

/// Proposes the next release: versions, stack version, plan, notes, file.
pub fn propose(
    config: &Config,
    declared: &[Release],
    backends: &Backends<'_>,
    request: &Request,
) -> Result<Proposal, ProposalError> {
    let forge = backends.forge;
    let explicit = parse_assignments(config, &request.assignments)?;
    let chosen = choose_versions(config, forge, &explicit)?;
    let version = stack_version(config, forge, declared, request)?;
    let components = chosen
        .iter()
        .map(|(name, (c, _))| (name.clone(), c.tag.clone()))
        .collect();
    let mut release = new_release(version, components);
    let plan = plan_for(config, &release, declared, backends)?;
    // The live release when evidence shows one, else the newest declared.
    let base = plan
        .live
        .and_then(|live| declared.iter().find(|r| r.version == live))
        .or(declared.last());
    let heads = chosen
        .iter()
        .map(|(name, (_, commit))| (name.clone(), commit.clone()))
        .collect();
    let changed = changes(
        config,
        forge,
        base.map(|b| &b.components),
        &release.components,
        &heads,
    )?;
    release.notes = Some(notes::render(&changed));
    let text =
        file::render_checked(&release, &component_rules(config)).map_err(ProposalError::Invalid)?;
    Ok(Proposal {
        text,
        chosen: chosen.into_iter().map(|(n, (c, _))| (n, c)).collect(),
        compared_with: base.map(|b| b.version),
        release,
        plan,
    })
}

/// Proposes a release that re-declares the components of `to` (default: the release live
/// before the current one), with notes saying what it undoes.
pub fn rollback(
    config: &Config,
    declared: &[Release],
    backends: &Backends<'_>,
    to: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Proposal, ProposalError> {
    let forge = backends.forge;
    let newest = declared.last().ok_or(ProposalError::NothingLive)?;
    let live_version = plan_for(config, newest, &declared[..declared.len() - 1], backends)?.live;
    // What is undone: the live release; when nothing shows one, a person who names the release
    // to return to is undoing the newest declared.
    let live = match (live_version, to) {
        (Some(version), _) => declared
            .iter()
            .find(|r| r.version == version)
            .ok_or(ProposalError::NothingLive)?,
        (None, Some(_)) => newest,
        (None, None) => return Err(ProposalError::NothingLive),
    };
    let target = match to {
        Some(given) => {
            let version: CalVer = given.parse().map_err(|why| {
                ProposalError::Version(VersionProblem::Shape {
                    given: given.to_string(),
                    why,
                })
            })?;
            declared
                .iter()
                .find(|r| r.version == version)
                .ok_or_else(|| ProposalError::NoSuchRelease(given.to_string()))?
        }
        None => declared
            .iter()
            .rev()
            .find(|r| r.version < live.version)
            .ok_or_else(|| ProposalError::NoSuchRelease(format!("before {}", live.version)))?,
    };
    let chosen = choose_versions(config, forge, &target.components)?;
    let request = Request {
        assignments: Vec::new(),
        version: None,
        now,
    };
    let version = stack_version(config, forge, declared, &request)?;
    let mut release = new_release(version, target.components.clone());
    let plan = plan_for(config, &release, declared, backends)?;
    let undone = changes(
        config,
        forge,
        Some(&target.components),
        &live.components,
        &BTreeMap::new(),
    )?;
    release.notes = Some(notes::render_rollback(&target.version.to_string(), &undone));
    let text =
        file::render_checked(&release, &component_rules(config)).map_err(ProposalError::Invalid)?;
    Ok(Proposal {
        text,
        chosen: chosen.into_iter().map(|(n, (c, _))| (n, c)).collect(),
        compared_with: Some(live.version),
        release,
        plan,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        crate::validate::config_from_str(
            r#"[stack]
repo = "./stack"
branch = "master"
workflow = ".github/workflows/build.yaml"
commit_message = "pin"

[components.backend]
repo = "./backend"
branch = "production"
pin = "BE_IMAGE_TAG"
"#,
        )
        .unwrap()
    }

    #[test]
    fn a_tickets_repository_must_be_owner_name_and_defaults_to_a_github_repo() {
        let text = |extra: &str| {
            format!(
                "[stack]\nrepo = \"./stack\"\nbranch = \"master\"\nworkflow = \"w.yaml\"\ncommit_message = \"pin\"\n\n[components.frontend]\nrepo = \"xchem/fragalysis-frontend\"\nbranch = \"production\"\npin = \"FE_IMAGE_TAG\"\n{extra}"
            )
        };
        let own = crate::validate::config_from_str(&text("")).unwrap();
        assert_eq!(
            own.components["frontend"].tickets.as_deref(),
            Some("xchem/fragalysis-frontend")
        );
        let set =
            crate::validate::config_from_str(&text("tickets = \"m2ms/fragalysis-frontend\"\n"))
                .unwrap();
        assert_eq!(
            set.components["frontend"].tickets.as_deref(),
            Some("m2ms/fragalysis-frontend")
        );
        let errors =
            crate::validate::config_from_str(&text("tickets = \"./issues\"\n")).unwrap_err();
        assert!(
            errors.iter().any(|d| d.message.contains(
                "`components.frontend.tickets` = \"./issues\" is not a GitHub repository"
            )),
            "{errors:?}"
        );
        assert_eq!(config().components["backend"].tickets, None);
    }

    #[test]
    fn assignments_name_configured_components() {
        let config = config();
        let parsed = parse_assignments(&config, &["backend=2026.08.1".into()]).unwrap();
        assert_eq!(parsed["backend"], "2026.08.1");
        assert!(matches!(
            parse_assignments(&config, &["frontend=1".into()]),
            Err(ProposalError::UnknownComponent { .. })
        ));
        for bad in ["backend", "backend=", "=1", "backend=1,backend=2"] {
            let args: Vec<String> = bad.split(',').map(String::from).collect();
            assert!(
                matches!(
                    parse_assignments(&config, &args),
                    Err(ProposalError::Malformed(_))
                ),
                "{bad}"
            );
        }
    }
}
