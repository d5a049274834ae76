//! What production runs, from the evidence there is, strongest first: the verifier (which reads
//! production itself), the deployer's own history (AWX jobs), then deployment records —
//! stackrel's own, or a person's `stackrel adopt`. A stack released by hand for years has no
//! records of stackrel's, so the first two are what let stackrel take it over without
//! redeploying what is already live.

use super::{DeployObservation, Evidence, Live, StackObservation};
use crate::apply::Backends;
use crate::calver::CalVer;
use crate::config::{Config, Deploy};
use crate::deploy::{DeployerView, ReleaseContext, VerifyOutcome};
use crate::forge::{DeploymentRecord, ForgeError};
use crate::release::Release;

/// The deployment records, the deployer's view of the release, one verification, and what
/// production runs.
pub(super) fn observe_deploy(
    config: &Config,
    release: &Release,
    declared: &[Release],
    stack: &StackObservation,
    backends: &Backends<'_>,
) -> Result<DeployObservation, ForgeError> {
    let version = release.version.to_string();
    let records = backends.forge.deployments(&config.stack.repo)?;
    let mut deploy = DeployObservation {
        latest_for_version: records.iter().rev().find(|r| r.version == version).cloned(),
        in_progress: backends.forge.deploy_lock_holder(&config.stack.repo)?,
        ..DeployObservation::default()
    };
    // Before the tag exists the commit only names what the branch holds (verify commands get
    // it as STACKREL_COMMIT); the deployer has nothing to say about an uncut release.
    let commit = stack.tag.as_ref().map_or(&stack.branch_head, |t| &t.commit);
    let context = context_of(release, commit);
    if let (Some(deployer), Some(_)) = (backends.deployer, &stack.tag) {
        deploy.deployer = deployer
            .observe(&context)
            .map_err(|e| ForgeError::Other(format!("asking the deployer about {version}: {e}")))?;
    }
    let started = deploy_started(config, &deploy);
    let mut live = None;
    if let Some(verifier) = backends.verifier {
        let outcome = verifier.verify(&context);
        // Before a deploy has started a "no" is only to be expected; a "yes" is production
        // running the release all the same (a person released it), and verifies it.
        let seen_live = outcome.as_ref().is_ok_and(|o| o.live);
        if started || seen_live {
            match &outcome {
                Ok(o) => {
                    deploy.verified = Some(Ok(o.live));
                    deploy.verify_detail = o.detail.clone();
                }
                Err(e) => deploy.verified = Some(Err(e.to_string())),
            }
        }
        if let Ok(outcome) = &outcome {
            live = verified_live(release, declared, stack, outcome, backends);
        }
    }
    if live.is_none()
        && let Some(deployer) = backends.deployer
    {
        live = deployer
            .last_deployed()
            .map_err(|e| ForgeError::Other(format!("asking the deployer what is deployed: {e}")))?
            .and_then(|d| {
                Some(Live {
                    version: d.version.parse().ok()?,
                    evidence: Evidence::Deployer(d.source),
                })
            });
    }
    deploy.live = live.or_else(|| recorded_live(&records));
    Ok(deploy)
}

fn context_of(release: &Release, commit: &str) -> ReleaseContext {
    ReleaseContext {
        version: release.version.to_string(),
        components: release.components.clone(),
        commit: commit.to_string(),
    }
}

/// Whether a deploy of the release has at least started (or there is no deploy to wait for).
fn deploy_started(config: &Config, deploy: &DeployObservation) -> bool {
    config.deploy == Deploy::None
        || deploy.latest_for_version.is_some()
        || deploy
            .deployer
            .as_ref()
            .is_some_and(|v| *v != DeployerView::NotLaunched)
}

/// What the verifier says is live: the release, the version production reports, or — for a
/// verifier that can only answer yes or no — the newest release that was cut, if it says yes.
fn verified_live(
    release: &Release,
    declared: &[Release],
    stack: &StackObservation,
    outcome: &VerifyOutcome,
    backends: &Backends<'_>,
) -> Option<Live> {
    let verified = |version: CalVer| Live {
        version,
        evidence: Evidence::Verified,
    };
    if outcome.live {
        return Some(verified(release.version));
    }
    if let Some(reported) = &outcome.reported {
        return reported.parse().ok().map(verified);
    }
    let (previous, tag) = declared
        .iter()
        .rev()
        .filter(|r| r.version < release.version)
        .find_map(|r| {
            let name = r.version.to_string();
            let tag = stack.released.tags.iter().find(|t| t.name == name)?;
            Some((r, tag))
        })?;
    let asked = backends
        .verifier?
        .verify(&context_of(previous, &tag.commit));
    asked
        .ok()
        .filter(|o| o.live)
        .map(|_| verified(previous.version))
}

/// The newest version a deployment record says went live, and what kind of record it is.
fn recorded_live(records: &[DeploymentRecord]) -> Option<Live> {
    records
        .iter()
        .filter(|r| r.state.is_live())
        .filter_map(|r| Some((r.version.parse::<CalVer>().ok()?, r.state)))
        .max_by_key(|(version, _)| *version)
        .map(|(version, state)| Live {
            version,
            evidence: Evidence::Record(state),
        })
}
