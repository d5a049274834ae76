//! Where an AWX controller's REST API lives. Plain AWX serves it at `/api/v2/`; Ansible
//! Automation Platform 2.5+ serves it behind its gateway at `/api/controller/v2/`. The root is
//! either written (`[deploy] api_prefix`, or a `[deploy] url` that ends in the API's path) or
//! discovered from a versions root (`GET /api/`, whose `current_version` names it).

/// How the deployer finds the API root under `[deploy] url`'s origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AwxApi {
    /// The API root itself, without a trailing `/`: `/api/v2`, `/api/controller/v2`.
    Root(String),
    /// A versions root to read `current_version` from, with a trailing `/`: `/api/controller/`.
    Versions(String),
    /// Nothing written: ask `/api/`, and behind the AAP gateway (whose `/api/` is its own, not
    /// the controller's) `/api/controller/`.
    Discover,
}

/// The versions roots tried, in order, when nothing says where the API is.
pub const DISCOVERY_ROOTS: &[&str] = &["/api/", "/api/controller/"];

/// Splits `[deploy] url` into its origin (`https://host:port`) and what its path and
/// `api_prefix` say about the API root.
pub fn resolve(url: &str, api_prefix: Option<&str>) -> (String, AwxApi) {
    let url = url.trim().trim_end_matches('/');
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let (origin, path) = match url[after_scheme..].find('/') {
        Some(slash) => url.split_at(after_scheme + slash),
        None => (url, ""),
    };
    let prefix = api_prefix
        .map(|p| p.trim().trim_matches('/'))
        .filter(|p| !p.is_empty());
    let api = match prefix {
        Some(prefix) => AwxApi::Root(format!("{path}/{prefix}")),
        None if path.is_empty() => AwxApi::Discover,
        None if names_a_version(path) => AwxApi::Root(path.to_string()),
        None => AwxApi::Versions(format!("{path}/")),
    };
    (origin.to_string(), api)
}

/// `…/v2`: the last segment is an API version.
fn names_a_version(path: &str) -> bool {
    path.rsplit('/').next().is_some_and(|last| {
        last.len() > 1 && last.starts_with('v') && last[1..].bytes().all(|b| b.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_url_discovers_the_api() {
        assert_eq!(
            resolve("https://awx.example.org/", None),
            ("https://awx.example.org".into(), AwxApi::Discover)
        );
    }

    #[test]
    fn a_url_that_ends_in_a_version_is_the_api_root() {
        assert_eq!(
            resolve("https://aap.example.org/api/controller/v2/", None),
            (
                "https://aap.example.org".into(),
                AwxApi::Root("/api/controller/v2".into())
            )
        );
    }

    #[test]
    fn a_url_with_another_path_is_a_versions_root() {
        assert_eq!(
            resolve("http://127.0.0.1:8080/api/controller", None),
            (
                "http://127.0.0.1:8080".into(),
                AwxApi::Versions("/api/controller/".into())
            )
        );
    }

    #[test]
    fn api_prefix_is_the_root_under_the_urls_path() {
        assert_eq!(
            resolve("https://example.org", Some("api/controller/v2/")).1,
            AwxApi::Root("/api/controller/v2".into())
        );
        assert_eq!(
            resolve("https://example.org/awx", Some("/api/v2")).1,
            AwxApi::Root("/awx/api/v2".into())
        );
        assert_eq!(
            resolve("https://example.org", Some("  ")).1,
            AwxApi::Discover
        );
    }
}
