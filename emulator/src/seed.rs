//! Seed documents: a short-hand a module author can write by hand (see docs/emulator.md).

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::app::App;
use crate::arm::ResourceScope;
use crate::config::{CertificateClient, ClientSecret, Federation};
use crate::error::ArmError;
use crate::resources::{
    compute, datastore, registry, resource_group, role_assignment, user_assigned_identity,
    workspace,
};
use crate::state::{Kind, Resource, State};

/// A whole seed document.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Seed {
    /// Client-credential principals.
    #[serde(default)]
    pub clients: Vec<ClientSecret>,
    /// Federated credentials.
    #[serde(default)]
    pub federations: Vec<Federation>,
    /// Certificate principals.
    #[serde(default)]
    pub certificate_clients: Vec<CertificateClient>,
    /// Extra principal object ids role assignments may name.
    #[serde(default)]
    pub principals: Vec<String>,
    /// Subscriptions and what they hold.
    #[serde(default)]
    pub subscriptions: Vec<SeedSubscription>,
}

/// A subscription.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedSubscription {
    /// Subscription id.
    pub id: String,
    /// Resource groups.
    #[serde(default)]
    pub resource_groups: Vec<SeedResourceGroup>,
    /// Role assignments (any scope in this subscription).
    #[serde(default)]
    pub role_assignments: Vec<SeedRoleAssignment>,
}

/// A resource group and its resources.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedResourceGroup {
    /// Name.
    pub name: String,
    /// Location (default `eastus`).
    #[serde(default)]
    pub location: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Option<Value>,
    /// User-assigned identities.
    #[serde(default)]
    pub identities: Vec<SeedIdentity>,
    /// Container registries.
    #[serde(default)]
    pub registries: Vec<SeedRegistry>,
    /// ML workspaces.
    #[serde(default)]
    pub workspaces: Vec<SeedWorkspace>,
}

/// A user-assigned identity.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedIdentity {
    /// Name.
    pub name: String,
    /// Location (default: the group's).
    #[serde(default)]
    pub location: Option<String>,
    /// Fixed principal (object) id.
    #[serde(default)]
    pub principal_id: Option<String>,
    /// Fixed client id.
    #[serde(default)]
    pub client_id: Option<String>,
}

/// A registry.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedRegistry {
    /// Name.
    pub name: String,
    /// Location (default: the group's).
    #[serde(default)]
    pub location: Option<String>,
    /// SKU name (default `Basic`).
    #[serde(default)]
    pub sku: Option<String>,
    /// Admin user on.
    #[serde(default)]
    pub admin_user_enabled: bool,
    /// Identity short-hand.
    #[serde(default)]
    pub identity: Option<Value>,
    /// Extra properties.
    #[serde(default)]
    pub properties: Option<Map<String, Value>>,
}

/// A workspace.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedWorkspace {
    /// Name.
    pub name: String,
    /// Location (default: the group's).
    #[serde(default)]
    pub location: Option<String>,
    /// Identity short-hand: `"SystemAssigned"`, or `{"type":..,"userAssignedIdentities":[names or ids]}`.
    #[serde(default)]
    pub identity: Option<Value>,
    /// Name or id of a user-assigned identity.
    #[serde(default)]
    pub primary_user_assigned_identity: Option<String>,
    /// `AccessKey`, `Identity` or `UserDelegationSAS`.
    #[serde(default)]
    pub system_datastores_auth_mode: Option<String>,
    /// Name (same group) or id of a registry.
    #[serde(default)]
    pub container_registry: Option<String>,
    /// Storage account id.
    #[serde(default)]
    pub storage_account: Option<String>,
    /// Key vault id.
    #[serde(default)]
    pub key_vault: Option<String>,
    /// Application Insights id.
    #[serde(default)]
    pub application_insights: Option<String>,
    /// Extra properties.
    #[serde(default)]
    pub properties: Option<Map<String, Value>>,
    /// Computes.
    #[serde(default)]
    pub computes: Vec<SeedCompute>,
    /// Datastores.
    #[serde(default)]
    pub datastores: Vec<SeedDatastore>,
}

/// A compute cluster.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedCompute {
    /// Name.
    pub name: String,
    /// VM size (default `STANDARD_DS3_V2`).
    #[serde(default)]
    pub vm_size: Option<String>,
    /// Minimum nodes (default 0).
    #[serde(default)]
    pub min_nodes: Option<i64>,
    /// Maximum nodes (default 1).
    #[serde(default)]
    pub max_nodes: Option<i64>,
    /// Identity short-hand.
    #[serde(default)]
    pub identity: Option<Value>,
    /// `disableLocalAuth` (default `true`: what the ML SDK sends for a cluster without SSH
    /// settings, on create and on every `begin_update`).
    #[serde(default)]
    pub disable_local_auth: Option<bool>,
    /// `vmPriority` (`Dedicated` or `LowPriority`; unset by default).
    #[serde(default)]
    pub vm_priority: Option<String>,
}

/// A datastore.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedDatastore {
    /// Name.
    pub name: String,
    /// `datastoreType` (default `AzureBlob`).
    #[serde(default, rename = "type")]
    pub datastore_type: Option<String>,
    /// Storage account name.
    #[serde(default)]
    pub account_name: Option<String>,
    /// Blob container.
    #[serde(default)]
    pub container_name: Option<String>,
    /// ADLS Gen2 filesystem.
    #[serde(default)]
    pub filesystem: Option<String>,
    /// Azure Files share.
    #[serde(default)]
    pub file_share_name: Option<String>,
    /// `"None"`, `{"accountKey": ".."}`, `{"sasToken": ".."}` or a full `credentials` object.
    #[serde(default)]
    pub credentials: Option<Value>,
    /// Default datastore of the workspace.
    #[serde(default)]
    pub is_default: bool,
    /// `None`, `WorkspaceSystemAssignedIdentity` or `WorkspaceUserAssignedIdentity`.
    #[serde(default)]
    pub service_data_access_auth_identity: Option<String>,
}

/// A role assignment.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedRoleAssignment {
    /// Scope (default: the subscription).
    #[serde(default)]
    pub scope: Option<String>,
    /// Assignment name (GUID, generated when absent).
    #[serde(default)]
    pub name: Option<String>,
    /// Role definition id or bare role GUID.
    pub role_definition_id: String,
    /// Principal object id.
    pub principal_id: String,
    /// Principal type (default `ServicePrincipal`).
    #[serde(default)]
    pub principal_type: Option<String>,
}

fn seed_err(message: impl Into<String>) -> ArmError {
    ArmError::bad_request("InvalidSeed", message)
}

fn uai_id(scope: &ResourceScope, name_or_id: &str) -> String {
    if name_or_id.starts_with('/') {
        name_or_id.to_string()
    } else {
        user_assigned_identity::id(scope, name_or_id)
    }
}

/// Expands the identity short-hand into ARM's shape.
fn identity_value(scope: &ResourceScope, v: &Value) -> Value {
    match v {
        Value::String(t) => json!({"type": t}),
        Value::Object(o) => {
            let mut out = o.clone();
            if let Some(Value::Array(list)) = o.get("userAssignedIdentities") {
                let map: Map<String, Value> = list
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|n| (uai_id(scope, n), json!({})))
                    .collect();
                out.insert("userAssignedIdentities".into(), Value::Object(map));
                if !out.contains_key("type") {
                    out.insert("type".into(), json!("UserAssigned"));
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

fn credentials_value(v: Option<&Value>) -> Value {
    match v {
        None => json!({"credentialsType": "None"}),
        Some(Value::String(s)) => json!({"credentialsType": s}),
        Some(Value::Object(o)) if o.contains_key("accountKey") => json!({
            "credentialsType": "AccountKey",
            "secrets": {"secretsType": "AccountKey", "key": o["accountKey"]}}),
        Some(Value::Object(o)) if o.contains_key("sasToken") => json!({
            "credentialsType": "Sas",
            "secrets": {"secretsType": "Sas", "sasToken": o["sasToken"]}}),
        Some(other) => other.clone(),
    }
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Applies a seed to the state (all-or-nothing is the caller's job: apply to a copy).
pub fn apply(app: &App, state: &mut State, seed_json: &Value) -> Result<(), ArmError> {
    let seed: Seed = serde_json::from_value(seed_json.clone())
        .map_err(|e| seed_err(format!("The seed document is invalid: {e}")))?;
    state.clients.extend(seed.clients);
    state.federations.extend(seed.federations);
    state.certificate_clients.extend(seed.certificate_clients);
    state.principals.extend(seed.principals);
    for sub in seed.subscriptions {
        if sub.id.is_empty() {
            return Err(seed_err("A subscription needs an 'id'."));
        }
        state
            .subscriptions
            .insert(sub.id.to_ascii_lowercase(), sub.id.clone());
        for rg in &sub.resource_groups {
            apply_group(app, state, &sub.id, rg)?;
        }
        for ra in &sub.role_assignments {
            let scope = ra
                .scope
                .clone()
                .unwrap_or_else(|| format!("/subscriptions/{}", sub.id));
            let role = if ra.role_definition_id.starts_with('/') {
                ra.role_definition_id.clone()
            } else {
                format!(
                    "/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{}",
                    sub.id, ra.role_definition_id
                )
            };
            let name = ra.name.clone().unwrap_or_else(crate::util::new_guid);
            let ptype = ra
                .principal_type
                .clone()
                .unwrap_or_else(|| "ServicePrincipal".into());
            state.put(role_assignment::build(
                &scope,
                &name,
                &role,
                &ra.principal_id,
                &ptype,
            ));
        }
    }
    Ok(())
}

fn apply_group(
    app: &App,
    state: &mut State,
    sub: &str,
    rg: &SeedResourceGroup,
) -> Result<(), ArmError> {
    let location = rg.location.clone().unwrap_or_else(|| "eastus".into());
    let tags = rg.tags.clone().unwrap_or_else(|| json!({}));
    state.put(resource_group::build(sub, &rg.name, &location, tags));
    let scope = ResourceScope {
        sub: sub.to_string(),
        rg: rg.name.clone(),
    };
    for i in &rg.identities {
        let rid = user_assigned_identity::id(&scope, &i.name);
        let loc = i.location.clone().unwrap_or_else(|| location.clone());
        state.put(user_assigned_identity::build(
            &rid,
            &i.name,
            &loc,
            json!({}),
            &app.tenant_id,
            i.principal_id.clone(),
            i.client_id.clone(),
            None,
        ));
    }
    for r in &rg.registries {
        let mut props = r.properties.clone().unwrap_or_default();
        props.insert("adminUserEnabled".into(), json!(r.admin_user_enabled));
        let mut body = obj(json!({
            "location": r.location.clone().unwrap_or_else(|| location.clone()),
            "sku": {"name": r.sku.clone().unwrap_or_else(|| "Basic".into())},
            "properties": props,
        }));
        if let Some(id) = &r.identity {
            body.insert("identity".into(), identity_value(&scope, id));
        }
        let res = registry::seed(app, state, &scope, &r.name, &body)?;
        state.put(res);
    }
    for w in &rg.workspaces {
        let mut props = w.properties.clone().unwrap_or_default();
        let mut set = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                props.insert(k.into(), json!(v));
            }
        };
        set("systemDatastoresAuthMode", &w.system_datastores_auth_mode);
        set("storageAccount", &w.storage_account);
        set("keyVault", &w.key_vault);
        set("applicationInsights", &w.application_insights);
        if let Some(acr) = &w.container_registry {
            let id = if acr.starts_with('/') {
                acr.clone()
            } else {
                registry::id(&scope, acr)
            };
            props.insert("containerRegistry".into(), json!(id));
        }
        if let Some(p) = &w.primary_user_assigned_identity {
            props.insert(
                "primaryUserAssignedIdentity".into(),
                json!(uai_id(&scope, p)),
            );
        }
        let mut body = obj(json!({
            "location": w.location.clone().unwrap_or_else(|| location.clone()),
            "properties": props,
        }));
        if let Some(id) = &w.identity {
            body.insert("identity".into(), identity_value(&scope, id));
        }
        let res = workspace::seed(app, state, &scope, &w.name, &body)?;
        let ws_id = res.id.clone();
        let ws_location = res.body["location"].clone();
        state.put(res);
        for c in &w.computes {
            let mut body = obj(json!({
                "location": ws_location,
                "properties": {
                    "computeType": "AmlCompute",
                    "properties": {
                        "vmSize": c.vm_size.clone().unwrap_or_else(|| "STANDARD_DS3_V2".into()),
                        "scaleSettings": {"minNodeCount": c.min_nodes.unwrap_or(0), "maxNodeCount": c.max_nodes.unwrap_or(1)},
                    },
                },
            }));
            if let Some(id) = &c.identity {
                body.insert("identity".into(), identity_value(&scope, id));
            }
            if let Some(Value::Object(props)) = body.get_mut("properties") {
                props.insert(
                    "disableLocalAuth".into(),
                    json!(c.disable_local_auth.unwrap_or(true)),
                );
                if let (Some(p), Some(Value::Object(inner))) =
                    (&c.vm_priority, props.get_mut("properties"))
                {
                    inner.insert("vmPriority".into(), json!(p));
                }
            }
            let res = compute::seed(app, state, &ws_id, &c.name, &body)?;
            state.put(res);
        }
        for d in &w.datastores {
            let dtype = d
                .datastore_type
                .clone()
                .unwrap_or_else(|| "AzureBlob".into());
            let mut props = obj(json!({
                "datastoreType": dtype,
                "credentials": credentials_value(d.credentials.as_ref()),
                "isDefault": d.is_default,
            }));
            for (k, v) in [
                ("accountName", &d.account_name),
                ("containerName", &d.container_name),
                ("filesystem", &d.filesystem),
                ("fileShareName", &d.file_share_name),
                (
                    "serviceDataAccessAuthIdentity",
                    &d.service_data_access_auth_identity,
                ),
            ] {
                if let Some(v) = v {
                    props.insert(k.into(), json!(v));
                }
            }
            datastore::seed(state, &ws_id, &d.name, &obj(json!({"properties": props})))?;
        }
    }
    Ok(())
}

/// Replaces one stored resource's body out of band (JSON merge patch); returns the new body.
pub fn patch_resource(state: &mut State, id: &str, patch: &Value) -> Result<Value, ArmError> {
    let Some(r) = state.get_mut(id) else {
        return Err(ArmError::not_found(
            "ResourceNotFound",
            format!("No stored resource has the id '{id}'."),
        ));
    };
    if !patch.is_object() {
        return Err(crate::control::shape_error(format!(
            "the patch must be a JSON object, not {}",
            crate::state::json_kind(patch)
        )));
    }
    let mut body = r.body.clone();
    crate::util::merge_patch(&mut body, patch);
    let mut private = r.private.clone();
    // Secrets given out of band go to the private side, never into the body.
    if r.kind == Kind::Datastore
        && let Some(Value::Object(secrets)) = body.pointer_mut("/properties/credentials/secrets")
    {
        let full = Value::Object(secrets.clone());
        secrets.retain(|k, _| k == "secretsType");
        if full.as_object().is_some_and(|m| m.len() > 1) {
            private = full;
        }
    }
    let candidate = Resource {
        id: r.id.clone(),
        kind: r.kind,
        body,
        private,
    };
    candidate
        .check_shape()
        .map_err(crate::control::shape_error)?;
    *r = candidate;
    Ok(r.body.clone())
}

/// Inserts a raw resource (escape hatch for shapes the short-hand does not cover).
pub fn put_raw(state: &mut State, id: &str, kind: Kind, body: Value) -> Result<(), ArmError> {
    let r = Resource {
        id: id.to_string(),
        kind,
        body,
        private: Value::Null,
    };
    r.check_shape().map_err(crate::control::shape_error)?;
    state.put(r);
    Ok(())
}
