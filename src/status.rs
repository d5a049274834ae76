//! Desired versus live, per release: which release is live, which were deployed before, which
//! were cut but never deployed, which were superseded, and which one is still to come. Read from
//! the forge (tags and deployment records), so it shows the truth even after a crash.

use crate::calver::CalVer;
use crate::config::Config;
use crate::forge::{DeploymentState, Forge, ForgeError, short};
use crate::release::Release;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseState {
    /// The newest release with a successful deploy.
    Live,
    /// Deployed once, since replaced by a newer one.
    Replaced,
    /// The newest declared release, not live yet.
    Desired,
    /// Declared, never deployed, and newer releases exist.
    Superseded,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReleaseStatus {
    pub version: CalVer,
    pub components: BTreeMap<String, String>,
    pub state: ReleaseState,
    /// The stack tag's commit, if the release was cut.
    pub tag: Option<String>,
    /// The newest deployment record's state and time.
    pub last_deploy: Option<(DeploymentState, String)>,
}

/// The status of every declared release, newest first.
pub fn status(
    config: &Config,
    releases: &[Release],
    forge: &dyn Forge,
) -> Result<Vec<ReleaseStatus>, ForgeError> {
    let repo = &config.stack.repo;
    let records = forge.deployments(repo)?;
    let live = crate::forge::live_version(&records);
    let newest = releases.last().map(|r| r.version);
    let mut rows = Vec::new();
    for release in releases.iter().rev() {
        let version = release.version.to_string();
        let last = records.iter().rev().find(|r| r.version == version);
        let deployed = records.iter().any(|r| {
            r.version == version
                && matches!(
                    r.state,
                    DeploymentState::Succeeded | DeploymentState::Verified
                )
        });
        let state = if Some(release.version) == live {
            ReleaseState::Live
        } else if deployed {
            ReleaseState::Replaced
        } else if Some(release.version) == newest {
            ReleaseState::Desired
        } else {
            ReleaseState::Superseded
        };
        rows.push(ReleaseStatus {
            version: release.version,
            components: release.components.clone(),
            state,
            tag: forge.resolve_tag(repo, &version)?,
            last_deploy: last.map(|r| (r.state, r.at.clone())),
        });
    }
    Ok(rows)
}

/// The status table a person reads.
pub fn render(rows: &[ReleaseStatus]) -> String {
    let mut out = format!(
        "{:<12} {:<11} {:<10} {:<36} {}\n",
        "RELEASE", "STATE", "TAG", "COMPONENTS", "LAST DEPLOY"
    );
    for row in rows {
        let state = match row.state {
            ReleaseState::Live => "live",
            ReleaseState::Replaced => "replaced",
            ReleaseState::Desired => "desired",
            ReleaseState::Superseded => "superseded",
        };
        let components: Vec<String> = row
            .components
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let tag = row
            .tag
            .as_deref()
            .map_or("-".to_string(), |t| short(t).to_string());
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
            "{:<12} {:<11} {:<10} {:<36} {}\n",
            row.version.to_string(),
            state,
            tag,
            components.join(" "),
            deploy
        ));
    }
    out
}
