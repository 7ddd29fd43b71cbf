//! The control API under `/_emulator/`: seed, state dump, out-of-band changes, faults,
//! journal, settings. It needs no bearer token (it is a local test tool).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::app::{App, Settings};
use crate::error::ArmError;
use crate::faults::FaultRule;
use crate::seed;
use crate::state::{Kind, State};

/// Reserved path prefix.
pub const PREFIX: &str = "/_emulator";

fn parse_json<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ArmError> {
    serde_json::from_slice(body).map_err(|e| ArmError::invalid_json(&e.to_string()))
}

fn parse_kind(raw: &str) -> Result<Kind, ArmError> {
    serde_json::from_value(json!(raw)).map_err(|_| {
        ArmError::bad_request(
            "InvalidKind",
            format!("Unknown kind '{raw}'; use resourceGroup, workspace, compute, datastore, registry, identity or roleAssignment."),
        )
    })
}

/// 400 for a body the control API refuses to store.
pub fn shape_error(reason: String) -> ArmError {
    ArmError::bad_request("InvalidResourceShape", format!("Not stored: {reason}."))
}

/// Handles a control request; `sub_path` is the path after the prefix.
pub fn handle(
    app: &App,
    method: &Method,
    sub_path: &str,
    query: &HashMap<String, String>,
    body: &Bytes,
) -> Response {
    match handle_inner(app, method, sub_path, query, body) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn handle_inner(
    app: &App,
    method: &Method,
    sub_path: &str,
    query: &HashMap<String, String>,
    body: &Bytes,
) -> Result<Response, ArmError> {
    let path = sub_path.trim_end_matches('/');
    let ok = |v: Value| Ok(axum::Json(v).into_response());
    match (method.as_str(), path) {
        ("GET", "/health") => ok(json!({"status": "ok"})),
        ("GET", "/info") => ok(json!({
            "baseUrl": app.base_url(),
            "tenantId": app.tenant_id,
            "identityHeader": app.identity_header,
            "subscriptions": app.state()?.subscriptions.values().cloned().collect::<Vec<_>>(),
        })),
        ("POST", "/seed") => {
            let doc: Value = parse_json(body)?;
            let mut state = app.state()?;
            // Apply to a copy so a bad seed changes nothing.
            let mut next = state.clone();
            seed::apply(app, &mut next, &doc)?;
            *state = next;
            app.commit(&mut state)?;
            ok(json!({"revision": state.revision, "resources": state.resources.len()}))
        }
        ("GET", "/state") => {
            let state = app.state()?;
            ok(serde_json::to_value(&*state).unwrap_or(Value::Null))
        }
        ("POST", "/reset") => {
            let mut state = app.state()?;
            let subs = state.subscriptions.clone();
            let revision = state.revision;
            *state = State::new();
            state.revision = revision;
            if query.get("keepsubscriptions").is_none_or(|v| v != "false") {
                state.subscriptions = subs;
            }
            app.commit(&mut state)?;
            app.faults().clear();
            app.journal().clear();
            ok(json!({"revision": state.revision}))
        }
        (_, "/resource") => {
            let id = query.get("id").ok_or_else(|| {
                ArmError::bad_request("MissingId", "The 'id' query parameter is required.")
            })?;
            let mut state = app.state()?;
            match method.as_str() {
                "GET" => {
                    let r = state.get(id).ok_or_else(|| {
                        ArmError::not_found(
                            "ResourceNotFound",
                            format!("No stored resource has the id '{id}'."),
                        )
                    })?;
                    ok(serde_json::to_value(r).unwrap_or(Value::Null))
                }
                "PATCH" => {
                    let patch: Value = parse_json(body)?;
                    let out = seed::patch_resource(&mut state, id, &patch)?;
                    app.commit(&mut state)?;
                    ok(out)
                }
                "PUT" => {
                    let kind = parse_kind(query.get("kind").map(String::as_str).unwrap_or(""))?;
                    let raw: Value = parse_json(body)?;
                    seed::put_raw(&mut state, id, kind, raw)?;
                    app.commit(&mut state)?;
                    Ok(StatusCode::CREATED.into_response())
                }
                "DELETE" => {
                    let removed = state.remove_tree(id).is_some();
                    app.commit(&mut state)?;
                    Ok(if removed {
                        StatusCode::OK
                    } else {
                        StatusCode::NO_CONTENT
                    }
                    .into_response())
                }
                _ => Err(crate::arm::method_not_allowed(method)),
            }
        }
        ("GET", "/faults") => ok(serde_json::to_value(app.faults().list()).unwrap_or(Value::Null)),
        ("POST", "/faults") => {
            let rule: FaultRule = parse_json(body)?;
            if let crate::faults::FaultAction::Status { status, .. } = &rule.action
                && StatusCode::from_u16(*status).is_err()
            {
                return Err(ArmError::bad_request(
                    "InvalidFault",
                    format!("{status} is not an HTTP status."),
                ));
            }
            let id = app.faults().add(rule);
            Ok((StatusCode::CREATED, axum::Json(json!({"id": id}))).into_response())
        }
        ("DELETE", "/faults") => {
            app.faults().clear();
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        ("DELETE", p) if p.starts_with("/faults/") => {
            let id = &p["/faults/".len()..];
            if app.faults().remove(id) {
                Ok(StatusCode::NO_CONTENT.into_response())
            } else {
                Err(ArmError::not_found(
                    "FaultNotFound",
                    format!("No fault rule has the id '{id}'."),
                ))
            }
        }
        ("GET", "/journal") => {
            ok(serde_json::to_value(app.journal().entries()).unwrap_or(Value::Null))
        }
        ("DELETE", "/journal") => {
            app.journal().clear();
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        ("GET", "/settings") => ok(serde_json::to_value(app.settings()).unwrap_or(Value::Null)),
        ("PATCH", "/settings") => {
            let patch: Value = parse_json(body)?;
            let mut current = serde_json::to_value(app.settings()).unwrap_or(Value::Null);
            crate::util::merge_patch(&mut current, &patch);
            let next: Settings = serde_json::from_value(current).map_err(|e| {
                ArmError::bad_request("InvalidSettings", format!("The settings are invalid: {e}"))
            })?;
            app.set_settings(next.clone());
            ok(serde_json::to_value(next).unwrap_or(Value::Null))
        }
        ("POST", "/tokens/expire") => {
            let mut state = app.state()?;
            let past = crate::util::now_secs() - 1;
            let n = state.expire_tokens(past);
            app.commit(&mut state)?;
            ok(json!({"expired": n}))
        }
        _ => Err(ArmError::not_found(
            "NotFound",
            format!("No control endpoint {} {PREFIX}{path}.", method.as_str()),
        )),
    }
}
