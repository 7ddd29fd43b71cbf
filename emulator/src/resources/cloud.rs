//! What ARM answers about the cloud and the signed-in principal rather than about one
//! resource: cloud metadata (`/metadata/endpoints`), the subscription and tenant lists, and
//! the generic resource list (`/subscriptions/{s}[/resourceGroups/{rg}]/resources`). The Azure
//! CLI and the ML SDK call these before anything else.

use axum::http::Method;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::app::App;
use crate::arm::{Req, method_not_allowed};
use crate::error::ArmError;
use crate::state::{Kind, Resource};

use super::list_answer;

/// Name the emulator's cloud reports in its metadata.
pub const CLOUD_NAME: &str = "AmlauthEmulator";

/// `GET /metadata/endpoints?api-version=…`: served without authentication, as ARM does.
/// `2019-05-01` and older answer the list of clouds; newer versions the one cloud.
pub fn metadata_endpoints(
    app: &App,
    method: &Method,
    api_version: Option<&str>,
) -> Result<Response, ArmError> {
    if method != Method::GET {
        return Err(method_not_allowed(method));
    }
    let version = api_version
        .filter(|v| !v.is_empty())
        .ok_or_else(crate::api_versions::missing)?;
    crate::api_versions::check(
        crate::api_versions::ResourceType::CloudMetadata,
        version,
        "global",
    )?;
    let cloud = cloud_document(app);
    let body = if version < "2022-09-01" {
        json!([cloud])
    } else {
        cloud
    };
    Ok(axum::Json(body).into_response())
}

fn cloud_document(app: &App) -> Value {
    let base = app.base_url();
    let slash = format!("{base}/");
    json!({
        "name": CLOUD_NAME,
        "portal": "https://portal.amlauth.emulator",
        "resourceManager": slash,
        "authentication": {
            "loginEndpoint": slash,
            // Tokens carry the public ARM audience, which the bearer check accepts.
            "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "graph": "https://graph.windows.net/",
        "graphAudience": "https://graph.windows.net/",
        // The emulator answers the Graph lookups the CLI makes (see `graph.rs`).
        "microsoftGraphResourceId": slash,
        "gallery": slash,
        "batch": "https://batch.core.windows.net/",
        "media": "https://rest.media.azure.net",
        "sqlManagement": "https://management.core.windows.net:8443/",
        "vmImageAliasDoc": "https://raw.githubusercontent.com/Azure/azure-rest-api-specs/main/arm-compute/quickstart-templates/aliases.json",
        "activeDirectoryDataLake": "https://datalake.azure.net/",
        "appInsightsResourceId": "https://api.applicationinsights.io",
        "appInsightsTelemetryChannelResourceId": "https://dc.applicationinsights.azure.com/v2/track",
        "attestationResourceId": "https://attest.azure.net",
        "synapseAnalyticsResourceId": "https://dev.azuresynapse.net",
        "logAnalyticsResourceId": "https://api.loganalytics.io",
        "ossrDbmsResourceId": "https://ossrdbms-aad.database.windows.net",
        "suffixes": {
            "acrLoginServer": "azurecr.io",
            "keyVaultDns": "vault.azure.net",
            "storage": "core.windows.net",
            "sqlServerHostname": "database.windows.net",
            "azureDataLakeStoreFileSystem": "azuredatalakestore.net",
            "azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
            "mhsmDns": "managedhsm.azure.net",
            "mysqlServerEndpoint": "mysql.database.azure.com",
            "postgresqlServerEndpoint": "postgres.database.azure.com",
            "mariadbServerEndpoint": "mariadb.database.azure.com",
            "synapseAnalytics": "dev.azuresynapse.net",
            "attestationEndpoint": "attest.azure.net",
        },
    })
}

/// The body of `GET /subscriptions/{s}` (and of each item of the list).
pub fn subscription_body(app: &App, id: &str) -> Value {
    json!({
        "id": format!("/subscriptions/{id}"),
        "subscriptionId": id,
        "tenantId": app.tenant_id,
        "displayName": format!("Emulated subscription {id}"),
        "state": "Enabled",
        "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "Internal_2014-09-01", "spendingLimit": "Off"},
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "tags": {},
    })
}

/// `GET /subscriptions`: every subscription of the emulated tenant.
pub fn list_subscriptions(req: &Req<'_>) -> Result<Response, ArmError> {
    if req.method != Method::GET {
        return Err(method_not_allowed(&req.method));
    }
    let state = req.app.state()?;
    let items = state
        .subscriptions
        .values()
        .map(|id| subscription_body(req.app, id))
        .collect();
    Ok(list_answer(items))
}

/// `GET /tenants`: the one emulated tenant.
pub fn list_tenants(req: &Req<'_>) -> Result<Response, ArmError> {
    if req.method != Method::GET {
        return Err(method_not_allowed(&req.method));
    }
    let t = &req.app.tenant_id;
    Ok(list_answer(vec![json!({
        "id": format!("/tenants/{t}"),
        "tenantId": t,
        "countryCode": "US",
        "displayName": "Emulated tenant",
        "domains": ["amlauth.emulator"],
        "tenantCategory": "Home",
        "defaultDomain": "amlauth.emulator",
        "tenantType": "AAD",
    })]))
}

/// One clause of a `/resources` `$filter`.
#[derive(Debug, PartialEq, Eq)]
enum Clause {
    ResourceType(String),
    Name(String),
}

/// Parses the `$filter`s the clients send: `resourceType eq '…'` and `name eq '…'`, joined
/// by `and`. Anything else is refused as ARM refuses an unsupported filter.
fn parse_filter(raw: &str) -> Result<Vec<Clause>, ArmError> {
    let bad = || {
        ArmError::bad_request(
            "InvalidFilterInQueryString",
            format!("The $filter '{raw}' is invalid or not supported."),
        )
    };
    let mut out = Vec::new();
    for part in split_and(raw) {
        let part = part.trim();
        let (field, value) = part.split_once(" eq ").ok_or_else(bad)?;
        let value = value.trim();
        let value = value
            .strip_prefix('\'')
            .and_then(|v| v.strip_suffix('\''))
            .ok_or_else(bad)?
            .replace("''", "'");
        match field.trim().to_ascii_lowercase().as_str() {
            "resourcetype" => out.push(Clause::ResourceType(value)),
            "name" => out.push(Clause::Name(value)),
            _ => return Err(bad()),
        }
    }
    Ok(out)
}

/// Splits on ` and ` case-insensitively (outside quotes is enough for the filters we accept).
fn split_and(raw: &str) -> Vec<&str> {
    let lower = raw.to_ascii_lowercase();
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_quote = false;
    let bytes = lower.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\'' {
            in_quote = !in_quote;
        } else if !in_quote && lower[i..].starts_with(" and ") {
            parts.push(&raw[start..i]);
            i += 5;
            start = i;
            continue;
        }
        i += 1;
    }
    parts.push(&raw[start..]);
    parts
}

/// The generic shape ARM lists resources in.
fn generic(r: &Resource) -> Value {
    let b = &r.body;
    let mut out = serde_json::Map::new();
    for key in [
        "id", "name", "type", "location", "kind", "sku", "identity", "tags",
    ] {
        if let Some(v) = b.get(key).filter(|v| !v.is_null()) {
            out.insert(key.to_string(), v.clone());
        }
    }
    out.insert("id".into(), json!(r.id));
    Value::Object(out)
}

/// `GET /subscriptions/{s}[/resourceGroups/{rg}]/resources`: top-level resources, filtered.
pub fn list_resources(req: &Req<'_>, sub: &str, rg: Option<&str>) -> Result<Response, ArmError> {
    if req.method != Method::GET {
        return Err(method_not_allowed(&req.method));
    }
    let clauses = match req.query.get("$filter") {
        Some(f) if !f.trim().is_empty() => parse_filter(f)?,
        _ => Vec::new(),
    };
    let prefix = match rg {
        Some(rg) => format!("/subscriptions/{sub}/resourcegroups/{rg}/providers/"),
        None => format!("/subscriptions/{sub}/"),
    }
    .to_ascii_lowercase();
    let state = req.app.state()?;
    let items = state
        .resources
        .iter()
        .filter(|(k, r)| {
            k.starts_with(&prefix)
                && matches!(r.kind, Kind::Workspace | Kind::Registry | Kind::Identity)
        })
        .map(|(_, r)| r)
        .filter(|r| {
            clauses.iter().all(|c| match c {
                Clause::ResourceType(t) => r.body["type"]
                    .as_str()
                    .is_some_and(|x| x.eq_ignore_ascii_case(t)),
                Clause::Name(n) => r.body["name"]
                    .as_str()
                    .is_some_and(|x| x.eq_ignore_ascii_case(n)),
            })
        })
        .map(generic)
        .collect();
    Ok(list_answer(items))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_the_cli_sends_parse() {
        assert_eq!(
            parse_filter(
                "resourceType eq 'Microsoft.ContainerRegistry/registries' and name eq 'acr01'"
            )
            .unwrap(),
            vec![
                Clause::ResourceType("Microsoft.ContainerRegistry/registries".into()),
                Clause::Name("acr01".into())
            ]
        );
        assert_eq!(
            parse_filter("name eq 'a and b'").unwrap(),
            vec![Clause::Name("a and b".into())]
        );
        assert_eq!(
            parse_filter("tagName eq 'x'").unwrap_err().code,
            "InvalidFilterInQueryString"
        );
        assert!(parse_filter("name eq unquoted").is_err());
    }
}
