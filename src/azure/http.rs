//! The shared reqwest client: rustls, proxies from `HTTPS_PROXY`/`NO_PROXY`, extra CAs.

use std::path::Path;
use std::time::Duration;

use super::error::AzureError;

/// Builds the HTTP client used for ARM and for token requests.
///
/// Proxies come from the standard environment variables (`HTTPS_PROXY`, `HTTP_PROXY`,
/// `NO_PROXY`), which reqwest reads by default. `ca_bundle` is a PEM file whose certificates
/// are trusted in addition to the system roots (e.g. the emulator's CA). Redirects are not
/// followed: ARM does not redirect, and a redirect must never carry our token elsewhere.
pub fn build_http_client(ca_bundle: Option<&Path>) -> Result<reqwest::Client, AzureError> {
    let mut b = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!(
            "terraform-provider-amlauth/",
            env!("CARGO_PKG_VERSION")
        ));
    if let Some(path) = ca_bundle {
        let pem = std::fs::read(path).map_err(|e| {
            AzureError::config("ca_bundle", format!("cannot read {}: {e}", path.display()))
        })?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
            AzureError::config(
                "ca_bundle",
                format!("{} is not a PEM certificate bundle: {e}", path.display()),
            )
        })?;
        if certs.is_empty() {
            return Err(AzureError::config(
                "ca_bundle",
                format!("{} holds no PEM certificates", path.display()),
            ));
        }
        b = b.tls_certs_merge(certs);
    }
    b.build()
        .map_err(|e| AzureError::config("ca_bundle", format!("cannot build the HTTP client: {e}")))
}
