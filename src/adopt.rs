//! `stackrel adopt`: a stack released by hand for years has no records of stackrel's, and when
//! nothing reads production (no verifier, no deployer history) stackrel cannot tell what is live
//! — and must not guess. A person who knows says so: the version is recorded as live (who,
//! when, "adopted"), and nothing is deployed.

use crate::calver::CalVer;
use crate::config::Config;
use crate::forge::{DeploymentRecord, DeploymentState, Forge, ForgeError};
use crate::release::Release;

/// What adopting a version would record, or why it cannot be adopted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Adoption {
    /// Record this.
    Record(DeploymentRecord),
    /// A record already says the version is live: nothing to do.
    AlreadyLive(DeploymentState),
}

#[derive(Debug, thiserror::Error)]
pub enum AdoptError {
    #[error(
        "{0} is not declared: add releases/{0}.toml first, so that the desired state names what is live"
    )]
    NotDeclared(CalVer),
    #[error(
        "{0} has no stack tag, so it was never released: adopt records a release a person cut; to release it, run `stackrel apply`"
    )]
    NotReleased(CalVer),
    #[error(
        "no declared release has a stack tag: name the version that is live, `stackrel adopt VERSION`"
    )]
    NothingReleased,
    #[error(transparent)]
    Forge(#[from] ForgeError),
}

/// Decides what `stackrel adopt [version]` records: `version`, or the newest declared release
/// that was cut. `who` is the person adopting it.
pub fn adoption(
    config: &Config,
    releases: &[Release],
    version: Option<CalVer>,
    forge: &dyn Forge,
    who: &str,
) -> Result<Adoption, AdoptError> {
    let repo = &config.stack.repo;
    let tags = forge.tags(repo)?;
    let tag_of = |v: CalVer| {
        let name = v.to_string();
        tags.iter().find(|t| t.name == name).cloned()
    };
    let (version, tag) = match version {
        Some(v) => {
            if !releases.iter().any(|r| r.version == v) {
                return Err(AdoptError::NotDeclared(v));
            }
            (v, tag_of(v).ok_or(AdoptError::NotReleased(v))?)
        }
        None => releases
            .iter()
            .rev()
            .find_map(|r| Some((r.version, tag_of(r.version)?)))
            .ok_or(AdoptError::NothingReleased)?,
    };
    let name = version.to_string();
    let records = forge.deployments(repo)?;
    if let Some(record) = records
        .iter()
        .rev()
        .find(|r| r.version == name && r.state.is_final())
    {
        return Ok(Adoption::AlreadyLive(record.state));
    }
    Ok(Adoption::Record(DeploymentRecord {
        version: name,
        commit: tag.commit,
        state: DeploymentState::Adopted,
        at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        detail: format!("adopted by {who}: recorded as live without deploying"),
        images: Default::default(),
    }))
}

/// Who a person at this terminal is, for records: `$USER`, else `$LOGNAME`, else "someone".
pub fn who() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| "someone".into())
}
