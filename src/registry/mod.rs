//! The images in their registry. The backend and frontend builds push images that the stack
//! builds `FROM`; a tag whose image never reached the registry (a failed push, a hotfix built by
//! hand) would otherwise be found only when the stack's 10–15 minute build fails. Preflight asks
//! the registry whether `IMAGE:TAG` exists, and keeps its digest for the plan, the status and the
//! deployment record.
//!
//! - `reference`: image references as the config writes them, by the distribution grammar;
//! - `challenge`: the `WWW-Authenticate` header of a `401`;
//! - `auth`: logins for private registries, from the environment;
//! - `client`: the HTTP client, behind the `Registry` trait.
//!
//! The client is ureq, which stackrel already uses for AWX and HTTP verification, not the
//! `oci-client` crate (0.18). Measured on this project's 2-core machine: a dev build of a
//! program asking one manifest digest through oci-client compiles 214 crates in 1 min 52 s; the
//! same through ureq, 102 crates in 19 s. Against stackrel's own dependency tree oci-client adds
//! 32 crates — reqwest as a third HTTP client, `aws-lc-sys` (a second TLS crypto provider, built
//! from C with cmake) and oci-spec's derive-macro stack — costing 1 min 21 s of CPU per clean
//! build, and its async API would need a runtime inside synchronous observation. What stackrel
//! needs of a registry is two requests and a token flow: a few hundred lines here, bounded in
//! time and size, and tested against the real distribution registry.

pub mod auth;
pub mod challenge;
pub mod client;
pub mod reference;

pub use auth::{Login, Logins};
pub use client::RegistryClient;
pub use reference::{ImageRef, ImageRefError};

use serde::{Deserialize, Serialize};

/// Asks a registry about image tags.
pub trait Registry {
    /// Whether `image:tag` exists now, and its manifest digest (`sha256:…`) when it does.
    fn digest(&self, image: &ImageRef, tag: &str) -> Result<Option<String>, RegistryError>;

    /// What this process already found for `image:tag`, without asking.
    fn known_digest(&self, _image: &ImageRef, _tag: &str) -> Option<String> {
        None
    }

    /// The digest of a tag that is settled (its release is cut): what this process already
    /// found, or else one question, whatever its answer; `None` when it cannot be told. Never
    /// blocks anything: a cut release's images are not gates any more.
    fn settled_digest(&self, image: &ImageRef, tag: &str) -> Option<String> {
        self.known_digest(image, tag)
            .or_else(|| self.digest(image, tag).ok().flatten())
    }
}

/// An image tag and the manifest digest it named when stackrel looked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageDigest {
    /// `docker.io/xchem/fragalysis-backend:2026.08.1`
    pub image: String,
    /// `sha256:…`
    pub digest: String,
}

/// Why a registry could not say whether an image exists. None of these quote a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("the registry {registry} cannot be reached: {why}")]
    Unreachable { registry: String, why: String },
    #[error("the registry {registry} answered HTTP {status} for {what}")]
    Failed {
        registry: String,
        status: u16,
        what: String,
    },
    #[error(
        "the registry {registry} wants credentials for {repository} (or the repository does not exist); if it is private, give a login for {registry} in STACKREL_REGISTRY_AUTH (or STACKREL_REGISTRY_AUTH_FILE, or DOCKER_CONFIG)"
    )]
    NeedsCredentials {
        registry: String,
        repository: String,
    },
    #[error(
        "the registry {registry} refused the login of {username} for {repository} from {from}; check that login"
    )]
    CredentialsRefused {
        registry: String,
        repository: String,
        username: String,
        from: String,
    },
    #[error(
        "the registry {registry} denies pulling {repository} (HTTP 403); the login needs pull access"
    )]
    Denied {
        registry: String,
        repository: String,
    },
    #[error("the registry {registry} gave an answer stackrel cannot use: {why}")]
    Invalid { registry: String, why: String },
    #[error("`{tag}` cannot be an image tag: {why}")]
    InvalidTag { tag: String, why: String },
}
