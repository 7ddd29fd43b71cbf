//! Client assertions for OIDC federation: a token given directly, a token file re-read on
//! every request, and a token requested from GitHub Actions.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use azure_core::credentials::Secret;
use azure_core::http::ClientMethodOptions;
use azure_identity::ClientAssertion;
use serde::Deserialize;
use url::Url;

pub(crate) fn cred_err(msg: impl Into<String>) -> azure_core::Error {
    azure_core::Error::with_message(azure_core::error::ErrorKind::Credential, msg.into())
}

/// A token request that got no answer: the TLS failure when a certificate did not verify (with
/// the host and the `ca_bundle` hint), else `what` and the transport error, without its URL.
pub(crate) fn unreachable(
    shown: &str,
    e: reqwest::Error,
    what: impl FnOnce(&reqwest::Error) -> String,
) -> azure_core::Error {
    let e = e.without_url();
    cred_err(super::error::tls_or_else(shown, &e, || what(&e)))
}

/// A federated token given directly.
#[derive(Debug)]
pub struct StaticAssertion(pub Secret);

#[async_trait]
impl ClientAssertion for StaticAssertion {
    async fn secret(&self, _: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        Ok(self.0.secret().to_string())
    }
}

/// A federated token in a file, re-read on each request (Kubernetes rotates it).
#[derive(Debug)]
pub struct FileAssertion(pub PathBuf);

#[async_trait]
impl ClientAssertion for FileAssertion {
    async fn secret(&self, _: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        let path = self.0.clone();
        let bytes = tokio::task::spawn_blocking(move || {
            super::config::read_setting_file(
                "oidc_token_file_path",
                &path,
                super::config::MAX_SECRET_BYTES,
            )
        })
        .await
        .map_err(|e| cred_err(format!("reading the OIDC token file failed: {e}")))?
        .map_err(|e| cred_err(e.to_string()))?;
        let text = String::from_utf8_lossy(&bytes);
        let t = text.trim();
        if t.is_empty() {
            return Err(cred_err(format!(
                "OIDC token file {} is empty",
                self.0.display()
            )));
        }
        Ok(t.to_string())
    }
}

/// Requests an ID token from GitHub Actions (`ACTIONS_ID_TOKEN_REQUEST_URL`).
pub struct GitHubAssertion {
    /// Request URL.
    pub url: Url,
    /// Bearer token for the request.
    pub token: Secret,
    /// HTTP client.
    pub http: reqwest::Client,
}

impl fmt::Debug for GitHubAssertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitHubAssertion")
            .field("url", &super::cloud::redact_url(&self.url))
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl ClientAssertion for GitHubAssertion {
    async fn secret(&self, _: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        let mut url = self.url.clone();
        if !url.query_pairs().any(|(k, _)| k == "audience") {
            url.query_pairs_mut()
                .append_pair("audience", "api://AzureADTokenExchange");
        }
        let shown = super::cloud::redact_url(&url);
        let resp = self
            .http
            .get(url)
            .bearer_auth(self.token.secret())
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .map_err(|e| {
                unreachable(&shown, e, |e| {
                    format!("requesting an ID token from {shown} failed: {e}")
                })
            })?;
        let status = resp.status();
        if !status.is_success() {
            return Err(cred_err(format!(
                "requesting an ID token from {shown} returned HTTP {status}"
            )));
        }
        #[derive(Deserialize)]
        struct Reply {
            value: Option<String>,
        }
        let reply: Reply = resp.json().await.map_err(|e| {
            cred_err(format!(
                "the ID token response from {shown} is not JSON: {}",
                e.without_url()
            ))
        })?;
        reply.value.filter(|v| !v.is_empty()).ok_or_else(|| {
            cred_err(format!(
                "the ID token response from {shown} has no \"value\""
            ))
        })
    }
}
