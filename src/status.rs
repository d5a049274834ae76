//! Desired versus live, per release, with where each fact comes from: which release is live and
//! what says so (the verifier, AWX's job history, a record, an adoption), which were cut and
//! replaced, which were cut with nothing to say whether they went live, which were superseded
//! without being cut, and which one is still to come; and the digests of their images. Read
//! from the world by one observation, so it shows the truth even after a crash, and on a stack
//! released by hand.

use crate::apply::Backends;
use crate::calver::CalVer;
use crate::config::Config;
use crate::forge::{DeploymentRecord, DeploymentState, ForgeError, TagRef, short};
use crate::observation::{Evidence, Live, observe};
use crate::registry::ImageDigest;
use crate::release::Release;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "evidence", rename_all = "snake_case")]
pub enum ReleaseState {
    /// What production runs, and what says so.
    Live(String),
    /// The newest release that was reported done without verification.
    DeployedNotVerified,
    /// Deployed once, since replaced by a newer one.
    Replaced,
    /// Cut (its tag exists), and nothing says whether it went live.
    ReleasedDeployUnknown,
    /// The newest declared release, not live yet.
    Desired,
    /// Declared, never cut, and newer releases exist.
    Superseded,
}

impl std::fmt::Display for ReleaseState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReleaseState::Live(evidence) => write!(f, "live ({evidence})"),
            ReleaseState::DeployedNotVerified => f.write_str("deployed (not verified)"),
            ReleaseState::Replaced => f.write_str("replaced"),
            ReleaseState::ReleasedDeployUnknown => f.write_str("released, deploy unknown"),
            ReleaseState::Desired => f.write_str("desired"),
            ReleaseState::Superseded => f.write_str("superseded"),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ReleaseStatus {
    pub version: CalVer,
    pub components: BTreeMap<String, String>,
    pub state: ReleaseState,
    /// The stack tag and its commit, if the release was cut.
    pub tag: Option<TagRef>,
    /// The newest deployment record's state and time.
    pub last_deploy: Option<(DeploymentState, String)>,
    /// The digest of each configured image, by component name (`stack` for the stack's own):
    /// as the registry shows them for the newest release, as recorded when deployed for others.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub images: BTreeMap<String, ImageDigest>,
}

/// The status of every declared release, newest first.
pub fn status(
    config: &Config,
    releases: &[Release],
    backends: &Backends<'_>,
) -> Result<Vec<ReleaseStatus>, ForgeError> {
    let Some(newest) = releases.last() else {
        return Ok(Vec::new());
    };
    let observed = observe(config, newest, releases, backends)?;
    let records = backends.forge.deployments(&config.stack.repo)?;
    let tags = &observed.stack.released.tags;
    let facts = Facts {
        live: observed.deploy.live.as_ref(),
        newest: newest.version,
        records: &records,
    };
    Ok(releases
        .iter()
        .rev()
        .map(|release| {
            let version = release.version.to_string();
            let tag = tags.iter().find(|t| t.name == version).cloned();
            ReleaseStatus {
                version: release.version,
                components: release.components.clone(),
                state: facts.state_of(release.version, tag.is_some()),
                last_deploy: records
                    .iter()
                    .rev()
                    .find(|r| r.version == version)
                    .map(|r| (r.state, r.at.clone())),
                images: if release.version == newest.version {
                    observed.image_digests()
                } else {
                    recorded_images(&records, &version)
                },
                tag,
            }
        })
        .collect())
}

/// The images the newest record of a version that has any holds.
fn recorded_images(records: &[DeploymentRecord], version: &str) -> BTreeMap<String, ImageDigest> {
    records
        .iter()
        .rev()
        .find(|r| r.version == version && !r.images.is_empty())
        .map(|r| r.images.clone())
        .unwrap_or_default()
}

struct Facts<'a> {
    live: Option<&'a Live>,
    newest: CalVer,
    records: &'a [DeploymentRecord],
}

impl Facts<'_> {
    fn state_of(&self, version: CalVer, cut: bool) -> ReleaseState {
        let name = version.to_string();
        let deployed = self
            .records
            .iter()
            .any(|r| r.version == name && r.state.is_live());
        match self.live {
            Some(live) if live.version == version => live_state(&live.evidence),
            Some(live) if cut && version < live.version => ReleaseState::Replaced,
            _ if deployed && self.live.is_some() => ReleaseState::Replaced,
            _ if cut => ReleaseState::ReleasedDeployUnknown,
            _ if version == self.newest => ReleaseState::Desired,
            _ => ReleaseState::Superseded,
        }
    }
}

fn live_state(evidence: &Evidence) -> ReleaseState {
    match evidence {
        Evidence::Record(DeploymentState::Reported) => ReleaseState::DeployedNotVerified,
        other => ReleaseState::Live(other.to_string()),
    }
}

/// The status table a person reads.
pub fn render(rows: &[ReleaseStatus]) -> String {
    let state_width = rows
        .iter()
        .map(|r| r.state.to_string().chars().count())
        .max()
        .unwrap_or(0)
        .max(5);
    let mut out = format!(
        "{:<12} {:<state_width$} {:<20} {:<36} {}\n",
        "RELEASE", "STATE", "TAG", "COMPONENTS", "LAST DEPLOY"
    );
    for row in rows {
        let components: Vec<String> = row
            .components
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let tag = row.tag.as_ref().map_or("-".to_string(), |t| {
            format!("{}@{}", t.name, short(&t.commit))
        });
        let deploy = row
            .last_deploy
            .as_ref()
            .map_or("-".to_string(), |(state, at)| {
                format!(
                    "{} {}",
                    format!("{state:?}").to_lowercase(),
                    at.get(..19).unwrap_or(at)
                )
            });
        out.push_str(&format!(
            "{:<12} {:<state_width$} {:<20} {:<36} {}\n",
            row.version.to_string(),
            row.state.to_string(),
            tag,
            components.join(" "),
            deploy
        ));
    }
    out
}
