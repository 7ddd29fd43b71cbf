//! Subscriptions and resource groups (served by ARM itself).

use std::time::Duration;

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::arm::{Req, method_not_allowed, resource_group_not_found};
use crate::error::ArmError;
use crate::lro;
use crate::state::{Kind, OpKind, Resource, State};

use super::{json_answer, list_answer, require_location, same_location, tags};

/// Canonical id of a resource group.
pub fn rg_id(sub: &str, rg: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{rg}")
}

/// Builds a stored resource group.
pub fn build(sub: &str, name: &str, location: &str, tags: Value) -> Resource {
    Resource {
        id: rg_id(sub, name),
        kind: Kind::ResourceGroup,
        body: json!({
            "id": rg_id(sub, name),
            "name": name,
            "type": "Microsoft.Resources/resourceGroups",
            "location": location,
            "tags": tags,
            "properties": {"provisioningState": "Succeeded"},
        }),
        private: Value::Null,
    }
}

/// `GET /subscriptions/{s}`.
pub fn subscription(req: &Req<'_>, sub: &str) -> Result<Response, ArmError> {
    if req.method != Method::GET {
        return Err(method_not_allowed(&req.method));
    }
    let state = req.app.state()?;
    let id = state
        .subscriptions
        .get(&sub.to_ascii_lowercase())
        .cloned()
        .unwrap_or_else(|| sub.to_string());
    Ok(axum::Json(super::cloud::subscription_body(req.app, &id)).into_response())
}

fn provider_body(sub: &str, ns: &str, types: &[crate::api_versions::ResourceType]) -> Value {
    let resource_types: Vec<Value> = types
        .iter()
        .map(|t| {
            let versions: Vec<&str> = t.supported_versions().iter().rev().copied().collect();
            json!({
                "resourceType": t.short_name(),
                "locations": crate::api_versions::LOCATIONS,
                "apiVersions": versions,
                "capabilities": "SupportsTags, SupportsLocation",
            })
        })
        .collect();
    json!({
        "id": format!("/subscriptions/{sub}/providers/{ns}"),
        "namespace": ns,
        "registrationState": "Registered",
        "registrationPolicy": "RegistrationRequired",
        "resourceTypes": resource_types,
    })
}

/// `GET /subscriptions/{s}/providers[/{namespace}]`: registration state and the api-versions
/// each emulated type serves.
pub fn providers(req: &Req<'_>, sub: &str, ns: Option<&str>) -> Result<Response, ArmError> {
    if req.method != Method::GET {
        return Err(method_not_allowed(&req.method));
    }
    let all = crate::api_versions::NAMESPACES;
    match ns {
        None => Ok(list_answer(
            all.iter().map(|(n, t)| provider_body(sub, n, t)).collect(),
        )),
        Some(wanted) => all
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(wanted))
            .map(|(n, t)| axum::Json(provider_body(sub, n, t)).into_response())
            .ok_or_else(|| {
                ArmError::not_found(
                    "InvalidResourceNamespace",
                    format!("The resource namespace '{wanted}' is invalid."),
                )
            }),
    }
}

/// `GET /subscriptions/{s}/resourcegroups`.
pub fn list(req: &Req<'_>, sub: &str) -> Result<Response, ArmError> {
    if req.method != Method::GET {
        return Err(method_not_allowed(&req.method));
    }
    let state = req.app.state()?;
    let prefix = format!(
        "/subscriptions/{}/resourcegroups/",
        sub.to_ascii_lowercase()
    );
    let items = state
        .resources
        .iter()
        .filter(|(k, r)| r.kind == Kind::ResourceGroup && k.starts_with(&prefix))
        .map(|(_, r)| r.body.clone())
        .collect();
    Ok(list_answer(items))
}

fn existing<'s>(state: &'s State, sub: &str, rg: &str) -> Option<&'s Resource> {
    state.get(&rg_id(sub, rg))
}

/// `/subscriptions/{s}/resourcegroups/{rg}`.
pub fn handle(req: &Req<'_>, sub: &str, rg: &str) -> Result<Response, ArmError> {
    let app = req.app;
    match req.method {
        Method::GET => {
            let state = app.state()?;
            existing(&state, sub, rg)
                .map(|r| axum::Json(r.body.clone()).into_response())
                .ok_or_else(|| resource_group_not_found(rg))
        }
        Method::HEAD => {
            let state = app.state()?;
            Ok(if existing(&state, sub, rg).is_some() {
                StatusCode::NO_CONTENT.into_response()
            } else {
                StatusCode::NOT_FOUND.into_response()
            })
        }
        Method::PUT => {
            let body = req.json_object()?;
            let location = require_location(&body)?;
            let tags = tags(&body)?;
            if rg.is_empty()
                || rg.len() > 90
                || rg.ends_with('.')
                || !rg
                    .chars()
                    .all(|c| c.is_alphanumeric() || "-_.()".contains(c))
            {
                return Err(ArmError::bad_request(
                    "InvalidResourceGroupName",
                    format!("The resource group name '{rg}' is invalid."),
                ));
            }
            let mut state = app.state()?;
            let (status, res) = match existing(&state, sub, rg) {
                Some(old) => {
                    let old_loc = old.body["location"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    if !same_location(&old_loc, &location) {
                        return Err(ArmError::bad_request(
                            "InvalidResourceGroupLocation",
                            format!(
                                "Invalid resource group location '{location}'. The Resource group \
                                 already exists in location '{old_loc}'."
                            ),
                        ));
                    }
                    let name = old.body["name"].as_str().unwrap_or(rg).to_string();
                    (StatusCode::OK, build(sub, &name, &old_loc, tags))
                }
                None => (StatusCode::CREATED, build(sub, rg, &location, tags)),
            };
            let body = res.body.clone();
            state.put(res);
            app.commit(&mut state)?;
            Ok(json_answer(status, body))
        }
        Method::PATCH => {
            let body = req.json_object()?;
            let mut state = app.state()?;
            let Some(r) = state.get_mut(&rg_id(sub, rg)) else {
                return Err(resource_group_not_found(rg));
            };
            if body.contains_key("tags") {
                r.body["tags"] = tags(&body)?;
            }
            let out = r.body.clone();
            app.commit(&mut state)?;
            Ok(axum::Json(out).into_response())
        }
        Method::DELETE => {
            let mut state = app.state()?;
            let Some(r) = existing(&state, sub, rg) else {
                return Err(resource_group_not_found(rg));
            };
            let key = r.id.to_ascii_lowercase();
            let location = r.body["location"].as_str().unwrap_or("global").to_string();
            if let Some(rg_res) = state.get_mut(&key) {
                rg_res.body["properties"]["provisioningState"] = json!("Deleting");
            }
            let op = lro::start(
                &mut state,
                &key,
                OpKind::Delete,
                Duration::ZERO,
                None,
                false,
            );
            app.commit(&mut state)?;
            let target = req.poll_target(sub, "Microsoft.Resources", &location);
            Ok(lro::location_answer(
                app,
                StatusCode::ACCEPTED,
                None,
                &target,
                &op.id,
            ))
        }
        ref m => Err(method_not_allowed(m)),
    }
}
