//! The one Microsoft Graph call the Azure CLI makes in the article's workflows:
//! `POST /v1.0/directoryObjects/getByIds`, which `az role assignment list` uses to show
//! principal names. The emulator's cloud metadata names the emulator itself as the Graph
//! endpoint, so the CLI sends it here. Known principals are user-assigned identities,
//! system-assigned identities of stored resources and configured clients; unknown ids are
//! left out of the answer, as Graph does.

use axum::body::Bytes;
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::app::App;
use crate::arm::method_not_allowed;
use crate::error::ArmError;
use crate::state::{Kind, State};

/// A directory object the emulator can describe.
fn lookup(app: &App, state: &State, id: &str) -> Option<Value> {
    let sp = |display: &str, app_id: &str, kind: &str| {
        json!({
            "@odata.type": "#microsoft.graph.servicePrincipal",
            "id": id,
            "appId": app_id,
            "displayName": display,
            "servicePrincipalType": kind,
            "servicePrincipalNames": [app_id],
        })
    };
    for r in state.resources.values() {
        let b = &r.body;
        let name = b["name"].as_str().unwrap_or_default();
        if r.kind == Kind::Identity
            && b.pointer("/properties/principalId")
                .and_then(Value::as_str)
                .is_some_and(|p| p.eq_ignore_ascii_case(id))
        {
            let client = b
                .pointer("/properties/clientId")
                .and_then(Value::as_str)
                .unwrap_or_default();
            return Some(sp(name, client, "ManagedIdentity"));
        }
        if b.pointer("/identity/principalId")
            .and_then(Value::as_str)
            .is_some_and(|p| p.eq_ignore_ascii_case(id))
        {
            return Some(sp(name, id, "ManagedIdentity"));
        }
    }
    let client = app
        .config_clients
        .iter()
        .chain(state.clients.iter())
        .find(|c| c.client_id.eq_ignore_ascii_case(id))?;
    Some(sp(&client.client_id, &client.client_id, "Application"))
}

/// `POST /v1.0/directoryObjects/getByIds` with `{"ids": [...]}`.
pub fn get_by_ids(
    app: &App,
    method: &Method,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, ArmError> {
    crate::auth::authenticate(app, headers)?;
    if method != Method::POST {
        return Err(method_not_allowed(method));
    }
    let doc: Value =
        serde_json::from_slice(body).map_err(|e| ArmError::invalid_json(&e.to_string()))?;
    let Some(ids) = doc.get("ids").and_then(Value::as_array) else {
        return Err(ArmError::bad_request(
            "Request_BadRequest",
            "The request body must contain an 'ids' array.",
        ));
    };
    let state = app.state()?;
    let value: Vec<Value> = ids
        .iter()
        .filter_map(Value::as_str)
        .filter_map(|id| lookup(app, &state, id))
        .collect();
    Ok(axum::Json(json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects",
        "value": value,
    }))
    .into_response())
}
