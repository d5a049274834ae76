//! The configured images as their registry shows them. Before the release is cut, each
//! component's `IMAGE:TAG` is asked about on every observation, once its tag is otherwise fine
//! (there is no image to expect before its tag exists and its CI has pushed it). Once the stack
//! tag exists the images are settled: their digests come from the deployment record, or from
//! what this process already found, or from one last question — never a gate again. The stack's
//! own image is asked about after its build, until it is found or the release is deployed.

use super::{ComponentObservation, DeployObservation, StackObservation};
use crate::config::Config;
use crate::deploy::DeployerView;
use crate::forge::CiStatus;
use crate::registry::{ImageDigest, ImageRef, Registry};
use crate::release::{Release, STACK};
use serde::Serialize;
use std::collections::BTreeMap;

/// One configured image at the tag the release gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageObservation {
    /// `docker.io/xchem/fragalysis-backend:2026.08.1`
    pub image: String,
    #[serde(flatten)]
    pub state: ImageState,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ImageState {
    Found {
        digest: String,
    },
    /// The registry answered that there is no such tag.
    Missing,
    /// The registry could not say (down, refusing, or an answer that cannot be used).
    Unreachable {
        registry: String,
        why: String,
    },
    /// Settled, and its digest cannot be told (not recorded, and the registry did not say).
    Unknown,
}

impl ImageObservation {
    pub fn digest(&self) -> Option<&str> {
        match &self.state {
            ImageState::Found { digest } => Some(digest),
            _ => None,
        }
    }
}

/// What the images need to know of the rest of the observation.
pub(super) struct Seen<'a> {
    pub components: &'a BTreeMap<String, ComponentObservation>,
    pub stack: &'a StackObservation,
    pub deploy: &'a DeployObservation,
}

/// Every configured image the release's state lets be asked about, by component name (`stack`
/// for the stack's own).
pub(super) fn observe_images(
    config: &Config,
    release: &Release,
    seen: &Seen<'_>,
    registry: Option<&dyn Registry>,
) -> BTreeMap<String, ImageObservation> {
    let mut images = BTreeMap::new();
    let cut = seen.stack.tag.is_some();
    for (name, component) in &config.components {
        let (Some(image), Some(observed)) = (&component.image, seen.components.get(name)) else {
            continue;
        };
        let tag = &observed.tag;
        let state = if cut {
            settled(name, image, tag, seen.deploy, registry)
        } else if otherwise_fine(release, name, observed) {
            ask(image, tag, registry)
        } else {
            continue;
        };
        images.insert(name.clone(), observation(image, tag, state));
    }
    if let (Some(image), true) = (&config.stack.image, cut) {
        let tag = release.version.to_string();
        let state = if deployed(release, seen.deploy) {
            settled(STACK, image, &tag, seen.deploy, registry)
        } else if stack_built(config, release, seen.stack) {
            match settled_in_process(image, &tag, registry) {
                Some(digest) => ImageState::Found { digest },
                None => ask(image, &tag, registry),
            }
        } else {
            return images;
        };
        images.insert(STACK.to_string(), observation(image, &tag, state));
    }
    images
}

/// The found digests, by name: what the plan, the status and the records show.
pub fn digests(images: &BTreeMap<String, ImageObservation>) -> BTreeMap<String, ImageDigest> {
    images
        .iter()
        .filter_map(|(name, observed)| {
            Some((
                name.clone(),
                ImageDigest {
                    image: observed.image.clone(),
                    digest: observed.digest()?.to_string(),
                },
            ))
        })
        .collect()
}

fn observation(image: &ImageRef, tag: &str, state: ImageState) -> ImageObservation {
    ImageObservation {
        image: image.with_tag(tag),
        state,
    }
}

/// The tag exists, is on its branch, and its CI (if gated, not waived) succeeded: the image
/// should be there.
fn otherwise_fine(release: &Release, name: &str, observed: &ComponentObservation) -> bool {
    let ci_fine = match &observed.ci {
        None => true,
        Some((_, status)) => *status == CiStatus::Success || release.waives_ci(name),
    };
    observed.commit.is_some() && observed.reachable && ci_fine
}

/// The stack's build is done, as far as can be told: its CI succeeded, is waived, or is not
/// gated (then the image is waited for, within the stack's `ci_timeout`).
fn stack_built(config: &Config, release: &Release, stack: &StackObservation) -> bool {
    config.stack.ci.is_none()
        || release.waives_ci(STACK)
        || matches!(&stack.ci, Some((_, CiStatus::Success)))
}

/// A deploy of the release started, or the release is live: its images are history.
fn deployed(release: &Release, deploy: &DeployObservation) -> bool {
    deploy.latest_for_version.is_some()
        || deploy.live_version() == Some(release.version)
        || deploy
            .deployer
            .as_ref()
            .is_some_and(|v| *v != DeployerView::NotLaunched)
}

fn ask(image: &ImageRef, tag: &str, registry: Option<&dyn Registry>) -> ImageState {
    let Some(registry) = registry else {
        return ImageState::Unreachable {
            registry: image.registry().to_string(),
            why: "no registry client is set up for this backend".into(),
        };
    };
    match registry.digest(image, tag) {
        Ok(Some(digest)) => ImageState::Found { digest },
        Ok(None) => ImageState::Missing,
        Err(e) => ImageState::Unreachable {
            registry: image.registry().to_string(),
            why: e.to_string(),
        },
    }
}

/// What this process found for the tag already, without asking.
fn settled_in_process(
    image: &ImageRef,
    tag: &str,
    registry: Option<&dyn Registry>,
) -> Option<String> {
    registry?.known_digest(image, tag)
}

/// A settled image: the record's digest, or the registry's settled answer.
fn settled(
    name: &str,
    image: &ImageRef,
    tag: &str,
    deploy: &DeployObservation,
    registry: Option<&dyn Registry>,
) -> ImageState {
    let written = image.with_tag(tag);
    let recorded = deploy
        .latest_for_version
        .as_ref()
        .and_then(|r| r.images.get(name))
        .filter(|d| d.image == written);
    match recorded {
        Some(d) => ImageState::Found {
            digest: d.digest.clone(),
        },
        None => match registry.and_then(|r| r.settled_digest(image, tag)) {
            Some(digest) => ImageState::Found { digest },
            None => ImageState::Unknown,
        },
    }
}
