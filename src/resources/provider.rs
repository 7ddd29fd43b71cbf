//! The `amlauth` provider block: how to reach and authenticate to Azure Resource Manager.
//! Names follow azurerm wherever the concept is the same, and every setting falls back to
//! the azurerm environment variable of the same purpose.

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;

use crate::azure::config::{MAX_CERTIFICATE_BYTES, MAX_SECRET_BYTES};
use crate::framework::erased::{DynDataSource, DynResource};
use crate::framework::validators::{Check, OneOf};
use crate::framework::{Attribute, Block, ClientCapabilities, Diagnostics, Provider, Schema};
use crate::value::Value;

/// The provider's source address on the registry.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/amlauth/amlauth";

/// Azure clouds the `environment` setting accepts.
pub const ENVIRONMENTS: &[&str] = &["public", "usgovernment", "china"];

/// Attribute name, description and whether it is sensitive, for the string settings.
const STRING_SETTINGS: &[(&str, &str, bool)] = &[
    (
        "subscription_id",
        "Subscription to manage resources in. Env: `ARM_SUBSCRIPTION_ID`.",
        false,
    ),
    (
        "tenant_id",
        "Microsoft Entra tenant to authenticate against. Env: `ARM_TENANT_ID`.",
        false,
    ),
    (
        "client_id",
        "Client (application) id of the service principal or user-assigned managed identity. Env: `ARM_CLIENT_ID`.",
        false,
    ),
    (
        "client_secret",
        "Client secret of the service principal. Env: `ARM_CLIENT_SECRET`.",
        true,
    ),
    (
        "client_certificate_path",
        "Path to a PEM file (certificate plus unencrypted RSA key) of the service principal; `.pfx` files must be converted. Env: `ARM_CLIENT_CERTIFICATE_PATH`.",
        false,
    ),
    (
        "client_certificate",
        "The same PEM, base64-encoded. Env: `ARM_CLIENT_CERTIFICATE`.",
        true,
    ),
    (
        "client_certificate_password",
        "Password of the client certificate. Env: `ARM_CLIENT_CERTIFICATE_PASSWORD`.",
        true,
    ),
    (
        "oidc_token",
        "An OIDC id token to exchange for an Azure token (workload identity federation). Env: `ARM_OIDC_TOKEN`.",
        true,
    ),
    (
        "oidc_token_file_path",
        "File holding an OIDC id token, re-read on every token request. Env: `ARM_OIDC_TOKEN_FILE_PATH`.",
        false,
    ),
    (
        "oidc_request_url",
        "GitHub Actions-style URL that issues OIDC tokens. Env: `ARM_OIDC_REQUEST_URL`, then `ACTIONS_ID_TOKEN_REQUEST_URL`.",
        false,
    ),
    (
        "oidc_request_token",
        "Bearer token for `oidc_request_url`. Env: `ARM_OIDC_REQUEST_TOKEN`, then `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.",
        true,
    ),
    (
        "msi_endpoint",
        "Managed identity endpoint to use instead of the platform's default. Env: `ARM_MSI_ENDPOINT`.",
        false,
    ),
    (
        "environment",
        "Azure cloud: `public` (default), `usgovernment` or `china`. Env: `ARM_ENVIRONMENT`.",
        false,
    ),
    (
        "resource_manager_endpoint",
        "Override of the Resource Manager endpoint (custom clouds, the amlauth emulator). Env: `ARM_RESOURCE_MANAGER_ENDPOINT`.",
        false,
    ),
    (
        "authority_host",
        "Override of the Microsoft Entra authority host (custom clouds, the amlauth emulator). Env: `ARM_AUTHORITY_HOST`.",
        false,
    ),
    (
        "resource_manager_audience",
        "Override of the token audience for Resource Manager. Env: `ARM_RESOURCE_MANAGER_AUDIENCE`.",
        false,
    ),
    (
        "ca_bundle",
        "PEM file of extra certificate authorities to trust for Azure endpoints (e.g. the emulator's CA). Env: `ARM_CA_BUNDLE`.",
        false,
    ),
    (
        "client_id_file_path",
        "File holding the client id. Env: `ARM_CLIENT_ID_FILE_PATH`.",
        false,
    ),
    (
        "client_secret_file_path",
        "File holding the client secret. Env: `ARM_CLIENT_SECRET_FILE_PATH`.",
        false,
    ),
];

const BOOL_SETTINGS: &[(&str, &str)] = &[
    (
        "use_oidc",
        "Authenticate with an OIDC token. Env: `ARM_USE_OIDC`.",
    ),
    (
        "use_msi",
        "Authenticate with a managed identity. Env: `ARM_USE_MSI`.",
    ),
    (
        "use_cli",
        "Allow authentication through the Azure CLI (default `true`). Env: `ARM_USE_CLI`.",
    ),
    (
        "use_aks_workload_identity",
        "Authenticate with AKS workload identity (the federated token file AKS mounts). Env: `ARM_USE_AKS_WORKLOAD_IDENTITY`.",
    ),
];

/// The provider schema.
pub fn provider_schema() -> Schema {
    let mut block = Block::new().describe(
        "Manages the authentication settings between Azure Machine Learning and the services it relies on.",
    );
    for (name, doc, sensitive) in STRING_SETTINGS {
        let mut a = Attribute::string(*name).optional().describe(*doc);
        if *sensitive {
            a = a.sensitive();
        }
        if *name == "environment" {
            a = a.validate(OneOf::new(ENVIRONMENTS));
        }
        // Oversized values are refused here, with the attribute, before anything uses them.
        let max = match *name {
            "client_certificate" => Some(MAX_CERTIFICATE_BYTES / 3 * 4 + 4),
            _ if *sensitive => Some(MAX_SECRET_BYTES),
            _ => None,
        };
        if let Some(max) = max {
            a = a.validate(Check::new(
                format!("at most {max} bytes"),
                move |v: &Value| match v.as_str() {
                    Some(s) if s.len() > max => Err(format!(
                        "the value is {} bytes; at most {max} bytes are accepted",
                        s.len()
                    )),
                    _ => Ok(()),
                },
            ));
        }
        block = block.attribute(a);
    }
    for (name, doc) in BOOL_SETTINGS {
        block = block.attribute(Attribute::bool(*name).optional().describe(*doc));
    }
    block = block.attribute(
        Attribute::number("max_retries")
            .optional()
            .describe("How many times a failed, retryable request is retried (default 6, at most 30). Env: `ARM_MAX_RETRIES`."),
    );
    Schema::new(0, block)
}

/// The amlauth provider.
#[derive(Default)]
pub struct AmlAuthProvider;

#[async_trait]
impl Provider for AmlAuthProvider {
    fn schema(&self) -> Schema {
        provider_schema()
    }

    async fn configure(
        &self,
        config: &Value,
        caps: ClientCapabilities,
    ) -> Result<(Arc<dyn Any + Send + Sync>, Diagnostics), Diagnostics> {
        super::configure::configure(config, caps).await
    }

    fn resources(&self) -> Vec<Arc<dyn DynResource>> {
        use super::setting::resource;
        vec![
            resource(super::workspace_identity::WorkspaceIdentity),
            resource(super::acr_admin::AcrAdmin),
            resource(super::compute_identity::ComputeIdentity),
            resource(super::datastore_access::DatastoreAccess),
            resource(super::workspace_image_build::WorkspaceImageBuild),
        ]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DynDataSource>> {
        vec![
            Arc::new(super::workspace_data::WorkspaceData),
            Arc::new(super::posture::WorkspacePosture),
        ]
    }

    fn list_resources(&self) -> Vec<Arc<dyn crate::framework::list::DynListResource>> {
        super::list::all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::schema::check_block;
    use crate::value::Type;

    /// A value of `ty` with every attribute set (no nulls), so a round trip through a model
    /// shows every attribute the model drops or renames.
    fn full_value(ty: &Type, seed: &mut i64) -> Value {
        *seed += 1;
        match ty {
            Type::Bool => Value::Bool(true),
            Type::Number => Value::Number((*seed).into()),
            Type::String | Type::Dynamic => Value::String(format!("v{seed}")),
            Type::List(t) => Value::List(vec![full_value(t, seed)]),
            Type::Set(t) => Value::Set(vec![full_value(t, seed)]),
            Type::Map(t) => Value::Map([(format!("k{seed}"), full_value(t, seed))].into()),
            Type::Object(attrs) => Value::Object(
                attrs
                    .iter()
                    .map(|(k, t)| (k.clone(), full_value(t, seed)))
                    .collect(),
            ),
            Type::Tuple(ts) => Value::Tuple(ts.iter().map(|t| full_value(t, seed)).collect()),
        }
    }

    /// Every schema attribute (nested blocks included) maps to a model field and back, and
    /// every model field to an attribute: a renamed or missing field fails here by name.
    #[test]
    fn every_schema_attribute_maps_to_its_model_field_and_back() {
        let p = AmlAuthProvider;
        let mut checked = Vec::new();
        let mut check =
            |name: &str,
             schema: Schema,
             round_trip: &dyn Fn(&Value) -> Result<Value, Diagnostics>| {
                let v = full_value(&schema.implied_type(), &mut 0);
                let back = round_trip(&v).unwrap_or_else(|d| panic!("{name}: {d}"));
                let (Value::Object(sent), Value::Object(got)) = (&v, &back) else {
                    panic!("{name}: not an object");
                };
                let differing: Vec<&String> = sent
                    .keys()
                    .chain(got.keys())
                    .filter(|k| sent.get(*k) != got.get(*k))
                    .collect();
                assert!(
                    differing.is_empty(),
                    "{name}: attributes the model does not map: {differing:?}"
                );
                checked.push(name.to_string());
            };
        for r in p.resources() {
            check(r.type_name(), r.schema(), &|v| r.model_round_trip(v));
        }
        for d in p.data_sources() {
            check(d.type_name(), d.schema(), &|v| d.model_round_trip(v));
        }
        assert!(checked.len() >= 5, "{checked:?}");
    }

    /// Terraform 1.15 refuses to load a provider whose schemas break its rules; check ours
    /// here so a mistake fails fast with a readable message.
    #[test]
    fn every_schema_passes_terraforms_consistency_rules() {
        let p = AmlAuthProvider;
        let mut problems = check_block(&p.schema().block, "provider.");
        for r in p.resources() {
            problems.extend(check_block(
                &r.schema().block,
                &format!("{}.", r.type_name()),
            ));
        }
        for d in p.data_sources() {
            problems.extend(check_block(
                &d.schema().block,
                &format!("{}.", d.type_name()),
            ));
        }
        assert!(problems.is_empty(), "{problems:#?}");
    }
}
