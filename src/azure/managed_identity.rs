//! Managed identity over the App Service (`IDENTITY_ENDPOINT`) or IMDS protocol.
//!
//! Ours rather than azure_identity's `ManagedIdentityCredential`, because that one reads
//! `IDENTITY_ENDPOINT` only from the process environment and has no custom endpoint
//! (azurerm's `msi_endpoint`).

use std::time::Duration;

use async_trait::async_trait;
use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use serde::Deserialize;
use time::OffsetDateTime;
use url::Url;

use super::assertion::cred_err;
use super::config::AppServiceIdentity;

/// Azure's instance metadata service token endpoint.
pub(crate) fn default_imds() -> Url {
    Url::parse("http://169.254.169.254/metadata/identity/oauth2/token")
        .unwrap_or_else(|_| unreachable!("static IMDS URL is valid"))
}

/// Where managed identity tokens come from.
#[derive(Debug, Clone)]
pub(crate) enum MiSource {
    /// App Service / Functions: `IDENTITY_ENDPOINT` with `X-IDENTITY-HEADER`.
    AppService(AppServiceIdentity),
    /// IMDS or an IMDS-compatible `msi_endpoint`.
    Imds(Url),
}

/// Managed identity over the App Service or IMDS protocol.
#[derive(Debug)]
pub(crate) struct ManagedIdentity {
    pub(crate) http: reqwest::Client,
    pub(crate) source: MiSource,
    pub(crate) client_id: Option<String>,
}

#[derive(Deserialize)]
struct MiReply {
    access_token: Option<String>,
    expires_on: Option<serde_json::Value>,
    expires_in: Option<serde_json::Value>,
}

fn as_i64(v: &serde_json::Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

#[async_trait]
impl TokenCredential for ManagedIdentity {
    async fn get_token(
        &self,
        scopes: &[&str],
        _: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let [scope] = scopes else {
            return Err(cred_err("managed identity needs exactly one scope"));
        };
        let resource = scope.trim_end_matches("/.default");
        let (mut url, api_version) = match &self.source {
            MiSource::AppService(a) => (a.endpoint.clone(), "2019-08-01"),
            MiSource::Imds(u) => (u.clone(), "2018-02-01"),
        };
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("api-version", api_version)
                .append_pair("resource", resource);
            if let Some(c) = &self.client_id {
                q.append_pair("client_id", c);
            }
        }
        let shown = super::cloud::redact_url(&url);
        let mut req = self
            .http
            .get(url)
            .header("Metadata", "true")
            .timeout(Duration::from_secs(15));
        if let MiSource::AppService(a) = &self.source {
            req = req.header("X-IDENTITY-HEADER", a.header.secret());
        }
        let resp = req.send().await.map_err(|e| {
            super::assertion::unreachable(&shown, e, |e| {
                format!("managed identity endpoint {shown} unreachable: {e}")
            })
        })?;
        let status = resp.status();
        if !status.is_success() {
            // IMDS answers in Entra's shape, App Service with {statusCode, message}.
            let body = resp.bytes().await.unwrap_or_default();
            let err = super::entra::EntraError::parse(status.as_u16(), &body);
            return Err(cred_err(format!(
                "managed identity endpoint {shown} refused the request: {err}"
            )));
        }
        let reply: MiReply = resp.json().await.map_err(|e| {
            cred_err(format!(
                "managed identity reply from {shown} is not JSON: {}",
                e.without_url()
            ))
        })?;
        let token = reply
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                cred_err(format!(
                    "managed identity reply from {shown} has no access_token"
                ))
            })?;
        let now = OffsetDateTime::now_utc();
        let expires_on = match (
            reply.expires_on.as_ref().and_then(as_i64),
            reply.expires_in.as_ref().and_then(as_i64),
        ) {
            (Some(ts), _) => {
                OffsetDateTime::from_unix_timestamp(ts).unwrap_or(now + time::Duration::minutes(10))
            }
            (None, Some(secs)) => now + time::Duration::seconds(secs),
            (None, None) => now + time::Duration::minutes(10),
        };
        Ok(AccessToken::new(Secret::new(token), expires_on))
    }
}
