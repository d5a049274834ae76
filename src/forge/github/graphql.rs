//! GitHub's GraphQL API: where it is and how a document is sent. It is not under the REST root
//! on GitHub Enterprise Server (REST `https://HOST/api/v3`, GraphQL `https://HOST/api/graphql`),
//! so it is derived from `[github] api_url` and has its own client: octocrab joins every path
//! to its base's path, so the REST client would send even an absolute `…/api/graphql` to
//! `…/api/v3/api/graphql`, and an App's installation token lives in the REST client (a second
//! installation client would mint a second token). So this client is unauthenticated and each
//! request carries the forge's authorization header: the token, or the installation's current
//! token for an App (octocrab renews it when it nears expiry).

use super::{Answer, Api, Credential, GithubForge, read_answer};
use crate::forge::{ForgeError, ForgeResult, HttpError};
use octocrab::secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Value, json};

/// The path of the GraphQL endpoint under [`root`].
pub const PATH: &str = "/graphql";

/// The base the GraphQL endpoint hangs from: the REST root, except on GitHub Enterprise
/// Server, whose REST root `…/api/v3` has GraphQL beside it at `…/api/graphql`.
pub fn root(api_url: &str) -> &str {
    let api = api_url.trim_end_matches('/');
    api.strip_suffix("/v3")
        .filter(|base| base.ends_with("/api"))
        .unwrap_or(api)
}

/// The GraphQL endpoint of the API at `api_url`.
pub fn endpoint(api_url: &str) -> String {
    format!("{}{PATH}", root(api_url))
}

/// A GraphQL answer: HTTP 200 with `data` and perhaps `errors` (GitHub answers most failures so).
#[derive(Debug, Deserialize)]
pub(super) struct GraphqlAnswer {
    #[serde(default)]
    pub data: Value,
    #[serde(default)]
    errors: Vec<GraphqlError>,
}

#[derive(Debug, Deserialize)]
struct GraphqlError {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    message: String,
}

impl GraphqlAnswer {
    pub fn not_found(&self) -> bool {
        self.errors
            .iter()
            .any(|e| e.kind.as_deref() == Some("NOT_FOUND"))
    }

    /// Errors other than NOT_FOUND, as one error naming what was asked.
    pub fn failure(&self, what: &str) -> Option<ForgeError> {
        let messages: Vec<&str> = self
            .errors
            .iter()
            .filter(|e| e.kind.as_deref() != Some("NOT_FOUND"))
            .map(|e| e.message.as_str())
            .collect();
        (!messages.is_empty()).then(|| {
            ForgeError::Other(format!(
                "GitHub's GraphQL API refused {what}: {}; the project board needs the token's `project` scope (or the App's organisation Projects read and write permission)",
                messages.join("; ")
            ))
        })
    }
}

impl GithubForge {
    /// One GraphQL request; an unclear outcome (a mutation whose answer was lost) is `Unclear`.
    pub(super) fn graphql(
        &self,
        what: &str,
        document: &str,
        variables: Value,
    ) -> ForgeResult<GraphqlAnswer> {
        let body = json!({ "query": document, "variables": variables });
        let answer = self.write_via(Api::Graphql, "POST", PATH, &body)?;
        self.expect_ok("POST", PATH, answer).map_err(|e| match e {
            ForgeError::Other(message) => ForgeError::Other(format!("{what}: {message}")),
            other => other,
        })
    }

    /// `POST` to the GraphQL endpoint with the forge's credentials, read whole.
    pub(super) async fn send_graphql(&self, uri: &str, body: &Value) -> Result<Answer, HttpError> {
        let send = |e| HttpError::Send(Box::new(e));
        let bearer = match &self.credential {
            Credential::Token { token, .. } => format!("Bearer {}", token.expose()),
            Credential::App { .. } => {
                let token = self.octo.installation_token().await.map_err(send)?;
                format!("Bearer {}", token.expose_secret())
            }
        };
        let request = http::Request::builder().method(http::Method::POST).uri(uri);
        // A token is one line of visible ASCII (checked when read), so this is a valid value;
        // were it not, building the request says so without the value.
        let request = match http::HeaderValue::from_str(&bearer) {
            Ok(mut value) => {
                value.set_sensitive(true);
                request.header(http::header::AUTHORIZATION, value)
            }
            Err(_) => request.header(http::header::AUTHORIZATION, bearer),
        };
        let request = self
            .graphql
            .build_request(request, Some(body))
            .map_err(send)?;
        let response = self.graphql.execute(request).await.map_err(send)?;
        read_answer(uri, response).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_com_has_graphql_under_its_api_root() {
        assert_eq!(
            endpoint("https://api.github.com"),
            "https://api.github.com/graphql"
        );
        assert_eq!(
            endpoint("https://api.github.com/"),
            "https://api.github.com/graphql"
        );
    }

    #[test]
    fn github_enterprise_server_has_graphql_beside_its_rest_root() {
        assert_eq!(
            endpoint("https://github.example.org/api/v3"),
            "https://github.example.org/api/graphql"
        );
        assert_eq!(
            endpoint("https://github.example.org/api/v3/"),
            "https://github.example.org/api/graphql"
        );
        assert_eq!(
            root("https://github.example.org/api/v3"),
            "https://github.example.org/api"
        );
    }

    #[test]
    fn other_roots_keep_graphql_under_them() {
        assert_eq!(
            endpoint("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080/graphql"
        );
        // Only `/api/v3` is the Enterprise layout: a `v3` elsewhere is just a path.
        assert_eq!(
            endpoint("https://proxy.example.org/v3"),
            "https://proxy.example.org/v3/graphql"
        );
    }
}
