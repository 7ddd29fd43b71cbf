//! `Microsoft.ContainerRegistry/registries`: PUT answers 201 + `Azure-AsyncOperation`; PATCH
//! answers synchronously (200 + the registry) as Azure does, or 201 + `Azure-AsyncOperation` with
//! the spec's shapes; DELETE 202 + `Location`; `listCredentials` needs the admin user.

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::app::App;
use crate::arm::{Req, ResourceScope, method_not_allowed};
use crate::config::Quirks;
use crate::error::ArmError;
use crate::lro;
use crate::state::{Kind, OpKind, Resource, State, set_provisioning_state};
use crate::util::{merge_patch, now_rfc3339, random_secret};

use super::managed_identity::{self, Flavor, IdentityRequest};
use super::{json_answer, require_location, same_location, system_data, tags};

/// Provider namespace.
pub const NAMESPACE: &str = "Microsoft.ContainerRegistry";
/// Full type name.
pub const TYPE: &str = "Microsoft.ContainerRegistry/registries";

const SKUS: &[&str] = &["Basic", "Standard", "Premium", "Classic"];

/// Properties in `RegistryPropertiesUpdateParameters`.
const PATCHABLE: &[&str] = &[
    "adminUserEnabled",
    "networkRuleSet",
    "policies",
    "encryption",
    "dataEndpointEnabled",
    "publicNetworkAccess",
    "networkRuleBypassOptions",
    "networkRuleBypassAllowedForTasks",
    "anonymousPullEnabled",
    "roleAssignmentMode",
];

/// Canonical id.
pub fn id(scope: &ResourceScope, name: &str) -> String {
    format!("{}/registries/{name}", scope.provider_prefix(NAMESPACE))
}

fn bad(code: &str, message: impl Into<String>) -> ArmError {
    ArmError::bad_request(code, message)
}

/// Renders a stored registry as GET returns it.
pub fn render(r: &Resource, q: &Quirks) -> Value {
    let mut body = r.body.clone();
    if q.recase_ids
        && let Some(identity) = body.get_mut("identity")
    {
        managed_identity::recase_keys(identity);
    }
    managed_identity::render_shape(&mut body, q.shapes, Flavor::Registry);
    super::apply_response_quirks(&mut body, q);
    body
}

fn sku(body: &Map<String, Value>) -> Result<Value, ArmError> {
    let raw = body
        .get("sku")
        .and_then(|s| s.get("name"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            bad(
                "InvalidRequestContent",
                "The registry 'sku.name' is required.",
            )
        })?;
    let name = SKUS
        .iter()
        .find(|s| s.eq_ignore_ascii_case(raw))
        .ok_or_else(|| {
            bad(
                "InvalidSku",
                format!("The SKU '{raw}' is invalid; use Basic, Standard or Premium."),
            )
        })?;
    Ok(json!({"name": name, "tier": name}))
}

fn check_admin(props: &Map<String, Value>) -> Result<(), ArmError> {
    match props.get("adminUserEnabled") {
        None | Some(Value::Null) | Some(Value::Bool(_)) => Ok(()),
        Some(_) => Err(bad(
            "InvalidRequestContent",
            "adminUserEnabled must be a boolean.",
        )),
    }
}

/// Builds the stored registry from a PUT body (or seed).
fn assemble(
    app: &App,
    state: &State,
    rid: &str,
    name: &str,
    body: &Map<String, Value>,
    previous: Option<&Resource>,
    provisioning: &str,
) -> Result<Resource, ArmError> {
    let location = require_location(body)?;
    if let Some(prev) = previous {
        let old = prev.body["location"].as_str().unwrap_or_default();
        if !same_location(old, &location) {
            return Err(bad(
                "InvalidLocation",
                format!("The registry location cannot be changed from '{old}' to '{location}'."),
            ));
        }
    }
    let sku = sku(body)?;
    let mut props = super::properties(body)?;
    check_admin(&props)?;
    for ro in [
        "loginServer",
        "creationDate",
        "provisioningState",
        "status",
        "dataEndpointHostNames",
        "privateEndpointConnections",
    ] {
        props.remove(ro);
    }
    props.entry("adminUserEnabled").or_insert(json!(false));
    props.entry("zoneRedundancy").or_insert(json!("Disabled"));
    props
        .entry("publicNetworkAccess")
        .or_insert(json!("Enabled"));
    props
        .entry("networkRuleBypassOptions")
        .or_insert(json!("AzureServices"));
    props.entry("anonymousPullEnabled").or_insert(json!(false));
    props.entry("dataEndpointEnabled").or_insert(json!(false));
    props
        .entry("encryption")
        .or_insert(json!({"status": "disabled"}));
    props.entry("policies").or_insert(json!({
        "quarantinePolicy": {"status": "disabled"},
        "trustPolicy": {"type": "Notary", "status": "disabled"},
        "retentionPolicy": {"days": 7, "status": "disabled"},
        "exportPolicy": {"status": "enabled"},
    }));
    props.insert(
        "loginServer".into(),
        json!(format!("{}.azurecr.io", name.to_ascii_lowercase())),
    );
    let created = previous
        .and_then(|p| p.body["properties"].get("creationDate").cloned())
        .unwrap_or_else(|| json!(now_rfc3339()));
    props.insert("creationDate".into(), created);
    props.insert("provisioningState".into(), json!(provisioning));
    props.insert("dataEndpointHostNames".into(), json!([]));
    let identity = managed_identity::parse(state, body.get("identity"), Flavor::Registry)?
        .unwrap_or_else(IdentityRequest::none);
    let prev_identity = previous.and_then(|p| p.body.get("identity"));
    let private = previous
        .map(|p| p.private.clone())
        .filter(|p| !p.is_null())
        .unwrap_or_else(|| json!({"passwords": [random_secret(52), random_secret(52)]}));
    Ok(Resource {
        id: rid.to_string(),
        kind: Kind::Registry,
        body: json!({
            "id": rid,
            "name": name,
            "type": TYPE,
            "location": location,
            "tags": tags(body)?,
            "sku": sku,
            "identity": managed_identity::build(state, &identity, prev_identity, &app.tenant_id, Flavor::Registry),
            "properties": Value::Object(props),
            "systemData": system_data(previous.and_then(|p| p.body.get("systemData"))),
        }),
        private,
    })
}

/// Seeds a registry (state `Succeeded`).
pub fn seed(
    app: &App,
    state: &State,
    scope: &ResourceScope,
    name: &str,
    body: &Map<String, Value>,
) -> Result<Resource, ArmError> {
    check_registry_name(name)?;
    assemble(app, state, &id(scope, name), name, body, None, "Succeeded")
}

fn check_registry_name(name: &str) -> Result<(), ArmError> {
    super::check_name("registry", name, 5, 50, super::alnum, super::alnum)
}

/// `listCredentials`' answer: admin user name and both passwords.
pub fn credentials(r: &Resource) -> Value {
    let pw = |i: usize| {
        r.private
            .pointer(&format!("/passwords/{i}"))
            .cloned()
            .unwrap_or(Value::Null)
    };
    json!({
        "username": r.body["name"],
        "passwords": [{"name": "password", "value": pw(0)}, {"name": "password2", "value": pw(1)}],
    })
}

fn admin_disabled(r: &Resource) -> ArmError {
    bad(
        "UnAuthorizedForCredentialOperations",
        format!(
            "Cannot perform credential operations for {} as admin user is disabled. Kindly enable \
             admin user as per docs: https://docs.microsoft.com/azure/container-registry/container-registry-authentication#admin-account",
            r.id
        ),
    )
}

fn not_found(scope: &ResourceScope, name: &str) -> ArmError {
    ArmError::resource_not_found(TYPE, name, &scope.rg)
}

/// Answers a write with `Azure-AsyncOperation`, or synchronously (`200` + the final body)
/// under the quirk or when `sync` (reality's admin PATCH).
#[allow(clippy::too_many_arguments)]
fn async_write(
    req: &Req<'_>,
    state: &mut State,
    scope: &ResourceScope,
    key: &str,
    kind: OpKind,
    status: StatusCode,
    location: &str,
    sync: bool,
) -> Result<Response, ArmError> {
    let app = req.app;
    let settings = app.settings();
    let op = lro::start(
        state,
        key,
        kind,
        settings.durations.registry,
        req.faults.fail_async.clone(),
        false,
    );
    if settings.quirks.sync_long_running || sync {
        state.advance(op.due_ms.max(crate::util::now_ms()));
        app.commit(state)?;
        if let Some(e) = lro::sync_failure(state, &op.id) {
            return Err(e);
        }
        return Ok(match state.resources.get(key) {
            Some(r) => json_answer(StatusCode::OK, render(r, &settings.quirks)),
            None => StatusCode::OK.into_response(),
        });
    }
    app.commit(state)?;
    let target = req.poll_target(&scope.sub, NAMESPACE, location);
    if kind == OpKind::Delete {
        return Ok(lro::location_answer(app, status, None, &target, &op.id));
    }
    let body = state
        .resources
        .get(key)
        .map(|r| render(r, &settings.quirks));
    Ok(lro::async_answer(app, status, body, &target, &op.id))
}

/// Dispatches `.../registries[/{name}[/{action}]]`.
pub fn route(req: &Req<'_>, scope: &ResourceScope, rest: &[String]) -> Result<Response, ArmError> {
    let app = req.app;
    match rest {
        [_] => {
            if req.method != Method::GET {
                return Err(method_not_allowed(&req.method));
            }
            let prefix = format!(
                "{}/registries/",
                scope.provider_prefix(NAMESPACE).to_ascii_lowercase()
            );
            super::paging::answer_stored(req, Kind::Registry, &prefix, render)
        }
        [_, name] => match req.method {
            Method::GET => {
                let rid = id(scope, name);
                let state = app.state()?;
                if app.take_pending_not_found(&rid.to_ascii_lowercase()) {
                    return Err(not_found(scope, name));
                }
                let r = state.get(&rid).ok_or_else(|| not_found(scope, name))?;
                Ok(axum::Json(render(r, &app.quirks())).into_response())
            }
            Method::PUT => put(req, scope, name),
            Method::PATCH => patch(req, scope, name),
            Method::DELETE => {
                let rid = id(scope, name);
                let key = rid.to_ascii_lowercase();
                let mut state = app.state()?;
                let Some(existing) = state.get(&rid).cloned() else {
                    return Ok(StatusCode::NO_CONTENT.into_response());
                };
                lro::refuse_if_running(&state, &key, "registry", name)?;
                if let Some(r) = state.get_mut(&rid) {
                    set_provisioning_state(&mut r.body, "Deleting");
                }
                let location = existing.body["location"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                async_write(
                    req,
                    &mut state,
                    scope,
                    &key,
                    OpKind::Delete,
                    StatusCode::ACCEPTED,
                    &location,
                    false,
                )
            }
            ref m => Err(method_not_allowed(m)),
        },
        [_, name, action] => {
            if req.method != Method::POST {
                return Err(method_not_allowed(&req.method));
            }
            let rid = id(scope, name);
            let action = action.to_ascii_lowercase();
            if action != "listcredentials" && action != "regeneratecredential" {
                return Err(ArmError::not_found(
                    "NotFound",
                    format!("No operation matches '{}'.", req.path),
                ));
            }
            let mut state = app.state()?;
            let r = state
                .get(&rid)
                .cloned()
                .ok_or_else(|| not_found(scope, name))?;
            if r.body
                .pointer("/properties/adminUserEnabled")
                .and_then(Value::as_bool)
                != Some(true)
            {
                return Err(admin_disabled(&r));
            }
            if action == "listcredentials" {
                return Ok(axum::Json(credentials(&r)).into_response());
            }
            let body = req.json_object()?;
            let index = match body.get("name").and_then(Value::as_str) {
                Some(n) if n.eq_ignore_ascii_case("password") => 0,
                Some(n) if n.eq_ignore_ascii_case("password2") => 1,
                other => {
                    return Err(bad(
                        "InvalidRequestContent",
                        format!(
                            "The password name {other:?} is invalid; use 'password' or 'password2'."
                        ),
                    ));
                }
            };
            let Some(stored) = state.get_mut(&rid) else {
                return Err(not_found(scope, name));
            };
            stored.private["passwords"][index] = json!(random_secret(52));
            let out = credentials(stored);
            app.commit(&mut state)?;
            Ok(axum::Json(out).into_response())
        }
        _ => Err(ArmError::not_found(
            "NotFound",
            format!("No operation matches '{}'.", req.path),
        )),
    }
}

fn put(req: &Req<'_>, scope: &ResourceScope, name: &str) -> Result<Response, ArmError> {
    check_registry_name(name)?;
    let app = req.app;
    let body = req.json_object()?;
    let rid = id(scope, name);
    let key = rid.to_ascii_lowercase();
    let mut state = app.state()?;
    lro::refuse_if_running(&state, &key, "registry", name)?;
    let previous = state.get(&rid).cloned();
    let (kind, status, provisioning) = match previous {
        Some(_) => (OpKind::Update, StatusCode::OK, "Updating"),
        None => (OpKind::Create, StatusCode::CREATED, "Creating"),
    };
    let canonical = previous.as_ref().map(|p| p.id.clone()).unwrap_or(rid);
    let cname = previous
        .as_ref()
        .and_then(|p| p.body["name"].as_str().map(str::to_string))
        .unwrap_or_else(|| name.to_string());
    let res = assemble(
        app,
        &state,
        &canonical,
        &cname,
        &body,
        previous.as_ref(),
        provisioning,
    )?;
    let location = res.body["location"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    state.put(res);
    let resp = async_write(req, &mut state, scope, &key, kind, status, &location, false)?;
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
    let mut res = state
        .get(&rid)
        .cloned()
        .ok_or_else(|| not_found(scope, name))?;
    lro::refuse_if_running(&state, &key, "registry", name)?;
    let patch_props = super::properties(&body)?;
    check_admin(&patch_props)?;
    for (k, v) in &patch_props {
        if PATCHABLE.contains(&k.as_str()) {
            let target = &mut res.body["properties"][k];
            if v.is_object() && target.is_object() {
                merge_patch(target, v);
            } else {
                *target = v.clone();
            }
        }
    }
    if body.contains_key("sku") {
        res.body["sku"] = sku(&body)?;
    }
    if body.contains_key("tags") {
        res.body["tags"] = tags(&body)?;
    }
    if let Some(identity) = body.get("identity").filter(|v| !v.is_null()) {
        let parsed = managed_identity::parse(&state, Some(identity), Flavor::Registry)?
            .unwrap_or_else(IdentityRequest::none);
        let prev = res.body.get("identity").cloned();
        res.body["identity"] = managed_identity::build(
            &state,
            &parsed,
            prev.as_ref(),
            &app.tenant_id,
            Flavor::Registry,
        );
    }
    res.body["systemData"] = system_data(res.body.get("systemData"));
    set_provisioning_state(&mut res.body, "Updating");
    let location = res.body["location"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    state.put(res);
    async_write(
        req,
        &mut state,
        scope,
        &key,
        OpKind::Update,
        StatusCode::CREATED,
        &location,
        // Recorded: the admin PATCH answers `200` with the full body, no async header.
        app.quirks().shapes.reality(),
    )
}
