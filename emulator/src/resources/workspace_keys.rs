//! Workspace `listKeys` and `resyncKeys` (`POST …/workspaces/{w}/listKeys|resyncKeys`), which
//! the ML SDK's `workspaces.get_keys` and `begin_sync_keys` call.

use axum::http::Method;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::arm::{Req, ResourceScope, method_not_allowed};
use crate::error::ArmError;
use crate::util::random_secret;

use super::{registry, workspace};

fn new_keys() -> Value {
    json!({
        "userStorageKey": random_secret(86) + "==",
        "appInsightsInstrumentationKey": crate::util::new_guid(),
        "notebookPrimaryKey": random_secret(86) + "==",
        "notebookSecondaryKey": random_secret(86) + "==",
    })
}

/// Handles `POST {workspace}/{action}` for `listKeys` and `resyncKeys`.
pub fn handle(
    req: &Req<'_>,
    scope: &ResourceScope,
    workspace_name: &str,
    action: &str,
) -> Result<Response, ArmError> {
    if req.method != Method::POST {
        return Err(method_not_allowed(&req.method));
    }
    let app = req.app;
    let ws_id = workspace::id(scope, workspace_name);
    let key = ws_id.to_ascii_lowercase();
    let mut state = app.state()?;
    let Some(ws) = state.get(&ws_id).cloned() else {
        return Err(ArmError::not_found(
            "ResourceNotFound",
            format!(
                "The Resource 'Microsoft.MachineLearningServices/workspaces/{workspace_name}' under resource group '{}' was not found.",
                scope.rg
            ),
        ));
    };
    if action.eq_ignore_ascii_case("resyncKeys") {
        state.workspace_keys.insert(key, new_keys());
        app.commit(&mut state)?;
        return Ok(axum::http::StatusCode::OK.into_response());
    }
    let keys = match state.workspace_keys.get(&key) {
        Some(k) => k.clone(),
        None => {
            let k = new_keys();
            state.workspace_keys.insert(key, k.clone());
            app.commit(&mut state)?;
            k
        }
    };
    let props = &ws.body["properties"];
    let registry = props["containerRegistry"]
        .as_str()
        .and_then(|id| state.get(id))
        .filter(|r| r.body["properties"]["adminUserEnabled"] == json!(true))
        .map(|r| {
            let mut c = registry::credentials(r);
            c["location"] = r.body["location"].clone();
            c
        });
    Ok(axum::Json(json!({
        "userStorageKey": keys["userStorageKey"],
        "userStorageResourceId": props["storageAccount"],
        "appInsightsInstrumentationKey": props["applicationInsights"].as_str().map(|_| keys["appInsightsInstrumentationKey"].clone()),
        "containerRegistryCredentials": registry,
        "notebookAccessKeys": {
            "primaryAccessKey": keys["notebookPrimaryKey"],
            "secondaryAccessKey": keys["notebookSecondaryKey"],
        },
    }))
    .into_response())
}
