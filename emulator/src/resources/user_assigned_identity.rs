//! `Microsoft.ManagedIdentity/userAssignedIdentities`.

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::arm::{Req, ResourceScope, method_not_allowed};
use crate::error::ArmError;
use crate::state::{Kind, Resource};
use crate::util::new_guid;

use super::{check_name, json_answer, list_answer, require_location, system_data, tags};

/// Provider namespace.
pub const NAMESPACE: &str = "Microsoft.ManagedIdentity";
/// Full type name.
pub const TYPE: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";

/// Canonical id.
pub fn id(scope: &ResourceScope, name: &str) -> String {
    format!(
        "{}/userAssignedIdentities/{name}",
        scope.provider_prefix(NAMESPACE)
    )
}

/// Renders a stored identity: with reality's shapes its own `id` says `/resourcegroups/`.
fn render(body: &Value, q: &crate::config::Quirks) -> Value {
    let mut out = body.clone();
    if q.shapes.reality()
        && let Some(Value::String(id)) = out.get_mut("id")
    {
        *id = super::recase::lower_rg_segment(id);
    }
    out
}

/// Builds a stored identity; ids are generated unless given.
#[allow(clippy::too_many_arguments)]
pub fn build(
    id: &str,
    name: &str,
    location: &str,
    tags: Value,
    tenant: &str,
    principal_id: Option<String>,
    client_id: Option<String>,
    previous_system_data: Option<&Value>,
) -> Resource {
    Resource {
        id: id.to_string(),
        kind: Kind::Identity,
        body: json!({
            "id": id,
            "name": name,
            "type": TYPE,
            "location": location,
            "tags": tags,
            "properties": {
                "tenantId": tenant,
                "principalId": principal_id.unwrap_or_else(new_guid),
                "clientId": client_id.unwrap_or_else(new_guid),
            },
            "systemData": system_data(previous_system_data),
        }),
        private: Value::Null,
    }
}

/// Dispatches `.../userAssignedIdentities[/{name}]`.
pub fn route(req: &Req<'_>, scope: &ResourceScope, rest: &[String]) -> Result<Response, ArmError> {
    let app = req.app;
    match rest {
        [_] => {
            if req.method != Method::GET {
                return Err(method_not_allowed(&req.method));
            }
            let state = app.state()?;
            let prefix = format!(
                "{}/userassignedidentities/",
                scope.provider_prefix(NAMESPACE).to_ascii_lowercase()
            );
            let items = state
                .resources
                .iter()
                .filter(|(k, r)| r.kind == Kind::Identity && k.starts_with(&prefix))
                .map(|(_, r)| render(&r.body, &app.quirks()))
                .collect();
            Ok(list_answer(items))
        }
        [_, name] => {
            let requested = id(scope, name);
            match req.method {
                Method::GET => {
                    let state = app.state()?;
                    if app.take_pending_not_found(&requested.to_ascii_lowercase()) {
                        return Err(ArmError::resource_not_found(TYPE, name, &scope.rg));
                    }
                    state
                        .get(&requested)
                        .map(|r| axum::Json(render(&r.body, &app.quirks())).into_response())
                        .ok_or_else(|| ArmError::resource_not_found(TYPE, name, &scope.rg))
                }
                Method::PUT => {
                    check_name(
                        "identity",
                        name,
                        3,
                        128,
                        super::alnum,
                        super::alnum_dash_underscore,
                    )?;
                    let body = req.json_object()?;
                    let location = require_location(&body)?;
                    let tags = tags(&body)?;
                    let mut state = app.state()?;
                    let (status, res) = match state.get(&requested) {
                        Some(old) => {
                            let p = &old.body["properties"];
                            (
                                StatusCode::OK,
                                build(
                                    &old.id,
                                    old.body["name"].as_str().unwrap_or(name),
                                    old.body["location"].as_str().unwrap_or(&location),
                                    tags,
                                    &app.tenant_id,
                                    p["principalId"].as_str().map(str::to_string),
                                    p["clientId"].as_str().map(str::to_string),
                                    old.body.get("systemData"),
                                ),
                            )
                        }
                        None => (
                            StatusCode::CREATED,
                            build(
                                &requested,
                                name,
                                &location,
                                tags,
                                &app.tenant_id,
                                None,
                                None,
                                None,
                            ),
                        ),
                    };
                    let out = render(&res.body, &app.quirks());
                    let key = res.id.to_ascii_lowercase();
                    state.put(res);
                    app.commit(&mut state)?;
                    if status == StatusCode::CREATED
                        && let Some(n) = req.faults.not_found_reads
                    {
                        app.arm_pending_not_found(&key, n);
                    }
                    Ok(json_answer(status, out))
                }
                Method::PATCH => {
                    let body = req.json_object()?;
                    let mut state = app.state()?;
                    let Some(r) = state.get_mut(&requested) else {
                        return Err(ArmError::resource_not_found(TYPE, name, &scope.rg));
                    };
                    if body.contains_key("tags") {
                        r.body["tags"] = tags(&body)?;
                    }
                    let out = render(&r.body, &app.quirks());
                    app.commit(&mut state)?;
                    Ok(axum::Json(out).into_response())
                }
                Method::DELETE => {
                    let mut state = app.state()?;
                    if state.remove_tree(&requested).is_none() {
                        return Ok(StatusCode::NO_CONTENT.into_response());
                    }
                    app.commit(&mut state)?;
                    Ok(StatusCode::OK.into_response())
                }
                ref m => Err(method_not_allowed(m)),
            }
        }
        _ => Err(ArmError::not_found(
            "NotFound",
            format!("No operation matches '{}'.", req.path),
        )),
    }
}
