//! ConfigureProvider: turns the provider block (and the ARM_* environment) into an ARM client.

use std::any::Any;
use std::sync::Arc;

use crate::azure::{ArmClient, AuthConfig, process_env};
use crate::framework::{ClientCapabilities, Diagnostic, Diagnostics};
use crate::value::Value;
use crate::value::path::AttributePath;

/// What resources receive from a configured provider.
pub enum ProviderData {
    /// Ready to call Azure.
    Ready(Arc<ArmClient>),
    /// Some provider setting was unknown at plan time: Terraform configures again with known
    /// values before it applies, so until then reads keep the prior state and plans make no
    /// calls (the way Terraform expects providers to treat unknown configuration).
    Unknown,
}

fn string(config: &Value, name: &str) -> Option<String> {
    config
        .get_attr(name)
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn boolean(config: &Value, name: &str) -> Option<bool> {
    config.get_attr(name).and_then(Value::as_bool)
}

/// The provider block as the ARM layer's settings (unset values fall back to ARM_* later).
pub fn auth_config(config: &Value) -> Result<AuthConfig, Diagnostics> {
    let max_retries = match config.get_attr("max_retries").and_then(Value::as_number) {
        None => None,
        Some(n) => Some(n.as_i64().filter(|v| *v >= 0).ok_or_else(|| {
            Diagnostics::from(
                Diagnostic::error(
                    "Invalid max_retries",
                    format!("{n} is not a whole number of at least 0"),
                )
                .at(AttributePath::root().attr("max_retries")),
            )
        })?),
    };
    Ok(AuthConfig {
        subscription_id: string(config, "subscription_id"),
        tenant_id: string(config, "tenant_id"),
        client_id: string(config, "client_id"),
        client_id_file_path: string(config, "client_id_file_path"),
        client_secret: string(config, "client_secret"),
        client_secret_file_path: string(config, "client_secret_file_path"),
        client_certificate_path: string(config, "client_certificate_path"),
        client_certificate: string(config, "client_certificate"),
        client_certificate_password: string(config, "client_certificate_password"),
        use_oidc: boolean(config, "use_oidc"),
        oidc_token: string(config, "oidc_token"),
        oidc_token_file_path: string(config, "oidc_token_file_path"),
        oidc_request_url: string(config, "oidc_request_url"),
        oidc_request_token: string(config, "oidc_request_token"),
        use_aks_workload_identity: boolean(config, "use_aks_workload_identity"),
        use_msi: boolean(config, "use_msi"),
        msi_endpoint: string(config, "msi_endpoint"),
        use_cli: boolean(config, "use_cli"),
        environment: string(config, "environment"),
        resource_manager_endpoint: string(config, "resource_manager_endpoint"),
        resource_manager_audience: string(config, "resource_manager_audience"),
        authority_host: string(config, "authority_host"),
        ca_bundle: string(config, "ca_bundle"),
        max_retries,
    })
}

pub async fn configure(
    config: &Value,
    _caps: ClientCapabilities,
) -> Result<(Arc<dyn Any + Send + Sync>, Diagnostics), Diagnostics> {
    if !config.is_wholly_known() {
        tracing::info!(
            "provider configuration has unknown values; deferring Azure calls until apply"
        );
        return Ok((Arc::new(ProviderData::Unknown), Diagnostics::new()));
    }
    let settings = auth_config(config)?;
    let resolved = settings.resolve(&process_env).map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            "Invalid provider configuration",
            e.to_string(),
        ))
    })?;
    for secret in resolved.secret_values() {
        crate::logging::redact::register_secret(&secret);
    }
    let client = ArmClient::from_config(&resolved).map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            "Could not set up the Azure client",
            e.to_string(),
        ))
    })?;
    tracing::debug!(endpoint = %client.base_url(), "provider configured");
    Ok((
        Arc::new(ProviderData::Ready(Arc::new(client))),
        Diagnostics::new(),
    ))
}
