//! The shared reqwest client: rustls, proxies from the environment, extra CAs.

use std::path::Path;
use std::time::Duration;

use reqwest::{NoProxy, Proxy};

use super::config::{EnvLookup, process_env};
use super::error::AzureError;

/// Hosts that never go through a proxy, as in Go's `net/http` (which Terraform and azurerm
/// use): a local emulator must stay reachable when a corporate proxy is configured.
const LOOPBACK_HOSTS: &str = "localhost,127.0.0.1,::1";

/// Builds the HTTP client used for ARM and for token requests, reading proxy settings from
/// the process environment. See [`build_http_client_with_env`].
pub fn build_http_client(ca_bundle: Option<&Path>) -> Result<reqwest::Client, AzureError> {
    build_http_client_with_env(ca_bundle, &process_env)
}

/// Builds the HTTP client.
///
/// Proxies come from `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` (either case), minus the
/// hosts in `NO_PROXY` and loopback hosts. `ca_bundle` is a PEM file whose certificates are
/// trusted in addition to the system roots (e.g. the emulator's CA). Redirects are not
/// followed: ARM does not redirect, and a redirect must never carry our token elsewhere.
pub fn build_http_client_with_env(
    ca_bundle: Option<&Path>,
    env: EnvLookup<'_>,
) -> Result<reqwest::Client, AzureError> {
    let mut b = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!(
            "terraform-provider-amlauth/",
            env!("CARGO_PKG_VERSION")
        ))
        // Replace reqwest's own environment lookup with the one below.
        .no_proxy();
    let var = |names: &[&'static str]| -> Option<(&'static str, String)> {
        names
            .iter()
            .find_map(|n| env(n).filter(|v| !v.trim().is_empty()).map(|v| (*n, v)))
    };
    let no_proxy = match var(&["NO_PROXY", "no_proxy"]) {
        Some((_, list)) => format!("{list},{LOOPBACK_HOSTS}"),
        None => LOOPBACK_HOSTS.to_string(),
    };
    let proxy_err = |name: &str, e: reqwest::Error| {
        AzureError::config(
            name,
            format!(
                "the proxy URL is invalid ({}); expected e.g. http://proxy.example:3128",
                e.without_url()
            ),
        )
    };
    if let Some((name, url)) = var(&["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]) {
        let p = Proxy::https(url.trim()).map_err(|e| proxy_err(name, e))?;
        b = b.proxy(p.no_proxy(NoProxy::from_string(&no_proxy)));
    }
    if let Some((name, url)) = var(&["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]) {
        let p = Proxy::http(url.trim()).map_err(|e| proxy_err(name, e))?;
        b = b.proxy(p.no_proxy(NoProxy::from_string(&no_proxy)));
    }
    if let Some(path) = ca_bundle {
        let pem = super::config::read_setting_file(
            "ca_bundle",
            path,
            super::config::MAX_CA_BUNDLE_BYTES,
        )?;
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
