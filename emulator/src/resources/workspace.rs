//! `Microsoft.MachineLearningServices/workspaces`: PUT and PATCH answer 202 + `Location`,
//! DELETE is a soft delete unless `forceToPurge=true`.

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::app::App;
use crate::arm::{Req, ResourceScope, method_not_allowed};
use crate::config::Quirks;
use crate::error::ArmError;
use crate::lro;
use crate::state::{Kind, OpKind, Resource, State, set_provisioning_state};
use crate::util::{merge_patch, new_guid};

use super::managed_identity::{self, Flavor, IdentityRequest};
use super::{recase, require_location, same_location, system_data, tags};

/// Provider namespace.
pub const NAMESPACE: &str = "Microsoft.MachineLearningServices";
/// Full type name.
pub const TYPE: &str = "Microsoft.MachineLearningServices/workspaces";

/// Properties a PATCH may carry (`WorkspacePropertiesUpdateParameters`).
const PATCHABLE: &[&str] = &[
    "description",
    "friendlyName",
    "imageBuildCompute",
    "applicationInsights",
    "containerRegistry",
    "primaryUserAssignedIdentity",
    "systemDatastoresAuthMode",
    "encryption",
    "publicNetworkAccess",
    "enableDataIsolation",
    "v1LegacyMode",
    "managedNetwork",
    "serverlessComputeSettings",
    "serviceManagedResourcesSettings",
    "softDeleteRetentionInDays",
    "enableSoftwareBillOfMaterials",
    "allowRoleAssignmentOnRG",
    "ipAllowlist",
    "networkAcls",
    "featureStoreSettings",
];

/// Properties only the service sets.
const READ_ONLY: &[&str] = &[
    "provisioningState",
    "workspaceId",
    "tenantId",
    "discoveryUrl",
    "mlFlowTrackingUri",
    "notebookInfo",
    "privateLinkCount",
    "serviceProvisionedResourceGroup",
    "storageHnsEnabled",
    "privateEndpointConnections",
];

const AUTH_MODES: &[&str] = &["AccessKey", "Identity", "UserDelegationSAS"];

/// Canonical id.
pub fn id(scope: &ResourceScope, name: &str) -> String {
    format!("{}/workspaces/{name}", scope.provider_prefix(NAMESPACE))
}

fn bad(message: impl Into<String>) -> ArmError {
    ArmError::bad_request("BadRequest", message)
}

/// Renders a stored workspace as GET returns it.
pub fn render(r: &Resource, q: &Quirks) -> Value {
    let mut body = r.body.clone();
    if q.recase_ids {
        if let Some(identity) = body.get_mut("identity") {
            managed_identity::recase_keys(identity);
        }
        let props = &mut body["properties"];
        if let Some(Value::String(p)) = props.get_mut("primaryUserAssignedIdentity") {
            *p = recase::lower_rg_segment(p);
        }
        for key in ["keyVault", "applicationInsights"] {
            if let Some(Value::String(p)) = props.get_mut(key) {
                *p = recase::associated_resource(p);
            }
        }
        if let Some(Value::String(p)) =
            props.pointer_mut("/encryption/identity/userAssignedIdentity")
        {
            *p = recase::identity_id(p);
        }
    }
    super::apply_response_quirks(&mut body, q);
    body
}

/// Checks `containerRegistry` names an existing registry.
fn check_registry(state: &State, props: &Map<String, Value>) -> Result<(), ArmError> {
    match props.get("containerRegistry") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if s.is_empty() => Ok(()),
        Some(Value::String(s)) => match state.get(s) {
            Some(r) if r.kind == Kind::Registry => Ok(()),
            _ => Err(bad(format!(
                "The container registry '{s}' associated with the workspace was not found."
            ))),
        },
        Some(_) => Err(bad("'containerRegistry' must be a resource id string.")),
    }
}

fn check_auth_mode(props: &mut Map<String, Value>) -> Result<(), ArmError> {
    match props.get("systemDatastoresAuthMode") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) => match AUTH_MODES.iter().find(|m| m.eq_ignore_ascii_case(s)) {
            Some(m) => {
                props.insert("systemDatastoresAuthMode".into(), json!(m));
                Ok(())
            }
            None => Err(bad(format!(
                "The value '{s}' of systemDatastoresAuthMode is invalid; use AccessKey, Identity or UserDelegationSAS."
            ))),
        },
        Some(_) => Err(bad("systemDatastoresAuthMode must be a string.")),
    }
}

/// The workspace rules that involve identity and `primaryUserAssignedIdentity`.
fn check_identity_rules(
    identity: &IdentityRequest,
    previous: Option<&IdentityRequest>,
    props: &mut Map<String, Value>,
    quirks: &Quirks,
) -> Result<(), ArmError> {
    let primary = props
        .get("primaryUserAssignedIdentity")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    if identity.user.is_empty() {
        if primary.is_some() {
            return Err(bad(
                "primaryUserAssignedIdentity can only be set when the identity type includes UserAssigned.",
            ));
        }
    } else {
        match &primary {
            Some(p) => match identity.user.iter().find(|u| u.eq_ignore_ascii_case(p)) {
                Some(canonical) => {
                    props.insert("primaryUserAssignedIdentity".into(), json!(canonical));
                }
                None => {
                    return Err(bad(format!(
                        "primaryUserAssignedIdentity '{p}' must be one of the user-assigned identities attached to the workspace."
                    )));
                }
            },
            None if !identity.system => {
                return Err(bad(
                    "primaryUserAssignedIdentity is required when the workspace identity type is UserAssigned.",
                ));
            }
            None => {}
        }
    }
    if let Some(prev) = previous
        && prev.system
        && !prev.user.is_empty()
        && identity.system
        && identity.user.is_empty()
        && !quirks.allow_workspace_identity_downgrade
    {
        return Err(bad(
            "Changing the workspace identity type from 'SystemAssigned,UserAssigned' to 'SystemAssigned' is not supported.",
        ));
    }
    Ok(())
}

/// The validated pieces a stored workspace body is built from.
struct Parts<'a> {
    rid: &'a str,
    name: &'a str,
    location: &'a str,
    tags: Value,
    sku: Option<Value>,
    kind: Option<Value>,
    identity: &'a IdentityRequest,
    props: Map<String, Value>,
    previous: Option<&'a Resource>,
    provisioning: &'a str,
}

/// Builds the stored body from validated parts.
fn assemble(app: &App, state: &State, parts: Parts<'_>) -> Value {
    let Parts {
        rid,
        name,
        location,
        tags,
        sku,
        kind,
        identity,
        mut props,
        previous,
        provisioning,
    } = parts;
    for k in READ_ONLY {
        props.remove(*k);
    }
    let prev_props = previous.map(|p| &p.body["properties"]);
    let workspace_id = prev_props
        .and_then(|p| p.get("workspaceId"))
        .cloned()
        .unwrap_or_else(|| json!(new_guid()));
    props.insert("workspaceId".into(), workspace_id.clone());
    props.insert("tenantId".into(), json!(app.tenant_id));
    props.insert(
        "discoveryUrl".into(),
        json!(format!(
            "https://{}.api.azureml.ms/discovery",
            location.to_ascii_lowercase().replace(' ', "")
        )),
    );
    props
        .entry("systemDatastoresAuthMode")
        .or_insert(json!("AccessKey"));
    props
        .entry("publicNetworkAccess")
        .or_insert(json!("Enabled"));
    props.entry("enableDataIsolation").or_insert(json!(false));
    props.insert("provisioningState".into(), json!(provisioning));
    let mut body = json!({
        "id": rid,
        "name": name,
        "type": TYPE,
        "location": location,
        "tags": tags,
        "etag": null,
        "kind": kind.unwrap_or_else(|| json!("Default")),
        "sku": sku.unwrap_or_else(|| json!({"name": "Basic", "tier": "Basic"})),
        "properties": Value::Object(props),
        "systemData": system_data(previous.and_then(|p| p.body.get("systemData"))),
    });
    let prev_identity = previous.and_then(|p| p.body.get("identity"));
    body["identity"] = managed_identity::build(
        state,
        identity,
        prev_identity,
        &app.tenant_id,
        Flavor::Workspace,
    );
    body
}

/// Dispatches `.../workspaces[/{name}]`.
pub fn route(req: &Req<'_>, scope: &ResourceScope, rest: &[String]) -> Result<Response, ArmError> {
    match rest {
        [_] => {
            if req.method != Method::GET {
                return Err(method_not_allowed(&req.method));
            }
            let prefix = format!(
                "{}/workspaces/",
                scope.provider_prefix(NAMESPACE).to_ascii_lowercase()
            );
            super::paging::answer_stored(req, Kind::Workspace, &prefix, render)
        }
        [_, name] => match req.method {
            Method::GET => get(req, scope, name),
            Method::PUT => put(req, scope, name),
            Method::PATCH => patch(req, scope, name),
            Method::DELETE => delete(req, scope, name),
            ref m => Err(method_not_allowed(m)),
        },
        _ => Err(ArmError::not_found(
            "NotFound",
            format!("No operation matches '{}'.", req.path),
        )),
    }
}

/// `GET /subscriptions/{s}/providers/Microsoft.MachineLearningServices/workspaces`: every
/// workspace of the subscription, in pages.
pub fn list_in_subscription(req: &Req<'_>, sub: &str) -> Result<Response, ArmError> {
    let prefix = format!("/subscriptions/{}/", sub.to_ascii_lowercase());
    super::paging::answer_stored(req, Kind::Workspace, &prefix, render)
}

/// With the `workspaceChildConflicts` quirk, a write under a workspace whose own operation is
/// still running gets 409, as the ML service answers concurrent operations on one workspace.
pub fn check_parent_idle(
    app: &App,
    state: &State,
    scope: &ResourceScope,
    w: &str,
) -> Result<(), ArmError> {
    if app.quirks().workspace_child_conflicts
        && state
            .active_operation(&id(scope, w).to_ascii_lowercase())
            .is_some()
    {
        return Err(ArmError::conflict(
            "Conflict",
            format!(
                "Conflict of operation: another operation on workspace '{w}' is already running."
            ),
        ));
    }
    Ok(())
}

/// The stored workspace a child resource's path names, or the workspace's 404.
pub fn existing<'a>(
    state: &'a State,
    scope: &ResourceScope,
    w: &str,
) -> Result<&'a Resource, ArmError> {
    state
        .get(&id(scope, w))
        .filter(|r| r.kind == Kind::Workspace)
        .ok_or_else(|| not_found(scope, w))
}

/// The 404 for a workspace (used by child resources too).
pub fn not_found(scope: &ResourceScope, name: &str) -> ArmError {
    ArmError::resource_not_found(TYPE, name, &scope.rg)
}

fn get(req: &Req<'_>, scope: &ResourceScope, name: &str) -> Result<Response, ArmError> {
    let rid = id(scope, name);
    let state = req.app.state()?;
    if req.app.take_pending_not_found(&rid.to_ascii_lowercase()) {
        return Err(not_found(scope, name));
    }
    let r = state.get(&rid).ok_or_else(|| not_found(scope, name))?;
    Ok(axum::Json(render(r, &req.app.quirks())).into_response())
}

/// Answers a workspace write: 202 + `Location` (+ `Azure-AsyncOperation` with reality's
/// shapes), or 200 + body under the sync quirk.
fn answer(
    req: &Req<'_>,
    state: &mut State,
    scope: &ResourceScope,
    key: &str,
    kind: OpKind,
    location: &str,
    purge: bool,
) -> Result<Response, ArmError> {
    let app = req.app;
    let settings = app.settings();
    let op = lro::start(
        state,
        key,
        kind,
        settings.durations.workspace,
        req.faults.fail_async.clone(),
        purge,
    );
    if settings.quirks.sync_long_running {
        state.advance(op.due_ms.max(crate::util::now_ms()));
        app.commit(state)?;
        if let Some(r) = state.resources.get(key) {
            return Ok(axum::Json(render(r, &settings.quirks)).into_response());
        }
        return Ok(StatusCode::OK.into_response());
    }
    app.commit(state)?;
    let target = req.poll_target(&scope.sub, NAMESPACE, location);
    let mut resp = lro::location_answer(app, StatusCode::ACCEPTED, None, &target, &op.id);
    if settings.quirks.shapes.reality() {
        // Recorded: the 202 carries `Azure-AsyncOperation` next to `Location`.
        lro::add_header(
            &mut resp,
            axum::http::header::HeaderName::from_static("azure-asyncoperation"),
            &lro::async_operation_url(app, &target, &op.id),
        );
    }
    Ok(resp)
}

fn put(req: &Req<'_>, scope: &ResourceScope, name: &str) -> Result<Response, ArmError> {
    super::check_name(
        "workspace",
        name,
        3,
        33,
        super::alnum,
        super::alnum_dash_underscore,
    )?;
    let app = req.app;
    let body = req.json_object()?;
    let location = require_location(&body)?;
    let tags = tags(&body)?;
    let mut props = super::properties(&body)?;
    let rid = id(scope, name);
    let key = rid.to_ascii_lowercase();
    let mut state = app.state()?;
    lro::refuse_if_running(&state, &key, "workspace", name)?;
    let previous = state.get(&rid).cloned();
    if previous.is_none() && state.soft_deleted.contains_key(&key) {
        return Err(bad(
            "Soft-deleted workspace exists. Please purge or recover it.",
        ));
    }
    if let Some(prev) = &previous {
        let old_loc = prev.body["location"].as_str().unwrap_or_default();
        if !same_location(old_loc, &location) {
            return Err(bad(format!(
                "The workspace location cannot be changed from '{old_loc}' to '{location}'."
            )));
        }
        for immutable in ["storageAccount", "keyVault"] {
            let old = prev.body["properties"]
                .get(immutable)
                .and_then(Value::as_str)
                .unwrap_or_default();
            let new = props
                .get(immutable)
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !new.is_empty() && !old.eq_ignore_ascii_case(new) {
                return Err(bad(format!(
                    "The workspace property '{immutable}' cannot be updated after creation."
                )));
            }
        }
    }
    check_auth_mode(&mut props)?;
    check_registry(&state, &props)?;
    let identity = managed_identity::parse(&state, body.get("identity"), Flavor::Workspace)?
        .unwrap_or_else(IdentityRequest::none);
    let prev_identity = previous
        .as_ref()
        .map(|p| managed_identity::from_stored(p.body.get("identity")));
    check_identity_rules(&identity, prev_identity.as_ref(), &mut props, &app.quirks())?;
    let (canonical_id, canonical_name, kind, provisioning) = match &previous {
        Some(p) => (
            p.id.clone(),
            p.body["name"].as_str().unwrap_or(name).to_string(),
            OpKind::Update,
            "Updating",
        ),
        None => (rid.clone(), name.to_string(), OpKind::Create, "Creating"),
    };
    let new_body = assemble(
        app,
        &state,
        Parts {
            rid: &canonical_id,
            name: &canonical_name,
            location: &location,
            tags,
            sku: body.get("sku").cloned(),
            kind: body.get("kind").cloned(),
            identity: &identity,
            props,
            previous: previous.as_ref(),
            provisioning,
        },
    );
    state.put(Resource {
        id: canonical_id,
        kind: Kind::Workspace,
        body: new_body,
        private: Value::Null,
    });
    let resp = answer(req, &mut state, scope, &key, kind, &location, false)?;
    if kind == OpKind::Create
        && let Some(n) = req.faults.not_found_reads
    {
        app.arm_pending_not_found(&key, n);
    }
    Ok(resp)
}

fn patch(req: &Req<'_>, scope: &ResourceScope, name: &str) -> Result<Response, ArmError> {
    let app = req.app;
    let body = req.json_object()?;
    let rid = id(scope, name);
    let key = rid.to_ascii_lowercase();
    let mut state = app.state()?;
    let previous = state
        .get(&rid)
        .cloned()
        .ok_or_else(|| not_found(scope, name))?;
    lro::refuse_if_running(&state, &key, "workspace", name)?;
    let patch_props = super::properties(&body)?;
    let mut props = previous.body["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for (k, v) in &patch_props {
        if PATCHABLE.contains(&k.as_str()) {
            let mut target = props.remove(k).unwrap_or(Value::Null);
            if v.is_object() && target.is_object() {
                merge_patch(&mut target, v);
            } else {
                target = v.clone();
            }
            if !target.is_null() {
                props.insert(k.clone(), target);
            }
        }
    }
    check_auth_mode(&mut props)?;
    check_registry(&state, &props)?;
    let prev_identity = managed_identity::from_stored(previous.body.get("identity"));
    let identity = match body.get("identity") {
        // Identity in a PATCH replaces the whole set (send every identity to keep).
        Some(v) if !v.is_null() => managed_identity::parse(&state, Some(v), Flavor::Workspace)?
            .unwrap_or_else(IdentityRequest::none),
        _ => prev_identity.clone(),
    };
    if identity.user.is_empty() && patch_props.get("primaryUserAssignedIdentity").is_none() {
        props.remove("primaryUserAssignedIdentity");
    }
    check_identity_rules(&identity, Some(&prev_identity), &mut props, &app.quirks())?;
    let tags = if body.contains_key("tags") {
        tags(&body)?
    } else {
        previous.body["tags"].clone()
    };
    let mut sku = previous.body.get("sku").cloned();
    if let Some(s) = body.get("sku").filter(|s| s.is_object()) {
        let mut base = sku.unwrap_or_else(|| json!({}));
        merge_patch(&mut base, s);
        sku = Some(base);
    }
    let location = previous.body["location"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let new_body = assemble(
        app,
        &state,
        Parts {
            rid: &previous.id,
            name: previous.body["name"].as_str().unwrap_or(name),
            location: &location,
            tags,
            sku,
            kind: previous.body.get("kind").cloned(),
            identity: &identity,
            props,
            previous: Some(&previous),
            provisioning: "Updating",
        },
    );
    state.put(Resource {
        id: previous.id.clone(),
        kind: Kind::Workspace,
        body: new_body,
        private: Value::Null,
    });
    answer(
        req,
        &mut state,
        scope,
        &key,
        OpKind::Update,
        &location,
        false,
    )
}

fn delete(req: &Req<'_>, scope: &ResourceScope, name: &str) -> Result<Response, ArmError> {
    let app = req.app;
    let purge = req.bool_query("forceToPurge")?;
    let rid = id(scope, name);
    let key = rid.to_ascii_lowercase();
    let mut state = app.state()?;
    let Some(existing) = state.get(&rid).cloned() else {
        if purge && state.soft_deleted.remove(&key).is_some() {
            app.commit(&mut state)?;
            return Ok(StatusCode::OK.into_response());
        }
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    lro::refuse_if_running(&state, &key, "workspace", name)?;
    if let Some(r) = state.get_mut(&rid) {
        set_provisioning_state(&mut r.body, "Deleting");
    }
    let location = existing.body["location"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    answer(
        req,
        &mut state,
        scope,
        &key,
        OpKind::Delete,
        &location,
        purge,
    )
}

/// Builds a seeded workspace (validation as for PUT, state `Succeeded`).
pub fn seed(
    app: &App,
    state: &State,
    scope: &ResourceScope,
    name: &str,
    body: &Map<String, Value>,
) -> Result<Resource, ArmError> {
    let rid = id(scope, name);
    let location = require_location(body)?;
    let mut props = super::properties(body)?;
    check_auth_mode(&mut props)?;
    check_registry(state, &props)?;
    let identity = managed_identity::parse(state, body.get("identity"), Flavor::Workspace)?
        .unwrap_or_else(IdentityRequest::none);
    check_identity_rules(&identity, None, &mut props, &app.quirks())?;
    let b = assemble(
        app,
        state,
        Parts {
            rid: &rid,
            name,
            location: &location,
            tags: tags(body)?,
            sku: body.get("sku").cloned(),
            kind: body.get("kind").cloned(),
            identity: &identity,
            props,
            previous: None,
            provisioning: "Succeeded",
        },
    );
    Ok(Resource {
        id: rid,
        kind: Kind::Workspace,
        body: b,
        private: Value::Null,
    })
}
