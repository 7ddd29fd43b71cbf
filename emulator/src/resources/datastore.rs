//! `.../workspaces/{w}/datastores/{d}`: synchronous PUT/GET/DELETE/list; secrets are kept
//! aside and only `listSecrets` returns them.

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Map, Value, json};

use crate::arm::{Req, ResourceScope, method_not_allowed};
use crate::config::Quirks;
use crate::error::ArmError;
use crate::state::{Kind, Resource, State};

use super::workspace;
use super::{json_answer, system_data};

/// Full type name.
pub const TYPE: &str = "Microsoft.MachineLearningServices/workspaces/datastores";

const DATASTORE_TYPES: &[&str] = &[
    "AzureBlob",
    "AzureDataLakeGen1",
    "AzureDataLakeGen2",
    "AzureFile",
    "OneLake",
];
const CREDENTIAL_TYPES: &[&str] = &[
    "AccountKey",
    "Certificate",
    "None",
    "Sas",
    "ServicePrincipal",
    "NoCredentials",
];
const AUTH_IDENTITIES: &[&str] = &[
    "None",
    "WorkspaceSystemAssignedIdentity",
    "WorkspaceUserAssignedIdentity",
];

/// Errors the ML data plane front end answers with.
fn user_error(message: impl Into<String>) -> ArmError {
    ArmError::bad_request("UserError", message)
}

/// Canonical id.
pub fn id(scope: &ResourceScope, workspace_name: &str, name: &str) -> String {
    format!("{}/datastores/{name}", workspace::id(scope, workspace_name))
}

/// Renders a stored datastore; the secret values are never part of the body.
pub fn render(r: &Resource, q: &Quirks) -> Value {
    let mut body = r.body.clone();
    // Recorded answers carry only `credentialsType`, never a `secrets` object.
    if (q.omit_datastore_secrets_block || q.shapes.reality())
        && let Some(Value::Object(c)) = body.pointer_mut("/properties/credentials")
    {
        c.remove("secrets");
    }
    super::apply_response_quirks(&mut body, q);
    body
}

fn canonical<'a>(list: &'a [&'a str], raw: &str) -> Option<&'a str> {
    list.iter().find(|x| x.eq_ignore_ascii_case(raw)).copied()
}

fn require_str<'a>(
    props: &'a Map<String, Value>,
    key: &str,
    dtype: &str,
) -> Result<&'a str, ArmError> {
    props
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            user_error(format!(
                "'{key}' is required for a datastore of type {dtype}."
            ))
        })
}

/// Validates a datastore body; returns (stored properties, secrets to keep aside).
fn validate(
    body: &Map<String, Value>,
    skip_validation: bool,
) -> Result<(Map<String, Value>, Value), ArmError> {
    let mut props = super::properties(body)?;
    if props.is_empty() {
        return Err(user_error("The datastore 'properties' are required."));
    }
    let raw_type = props
        .get("datastoreType")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let dtype = canonical(DATASTORE_TYPES, &raw_type)
        .ok_or_else(|| user_error(format!("'{raw_type}' is not a valid datastoreType.")))?;
    props.insert("datastoreType".into(), json!(dtype));
    match dtype {
        "AzureBlob" => {
            require_str(&props, "accountName", dtype)?;
            require_str(&props, "containerName", dtype)?;
        }
        "AzureDataLakeGen2" => {
            require_str(&props, "accountName", dtype)?;
            require_str(&props, "filesystem", dtype)?;
        }
        "AzureDataLakeGen1" => {
            require_str(&props, "storeName", dtype)?;
        }
        "AzureFile" => {
            require_str(&props, "accountName", dtype)?;
            require_str(&props, "fileShareName", dtype)?;
        }
        _ => {}
    }
    if let Some(a) = props.get("accountName").and_then(Value::as_str)
        && !(3..=24).contains(&a.len())
    {
        return Err(user_error(format!(
            "The storage account name '{a}' is invalid."
        )));
    }
    if let Some(raw) = props
        .get("serviceDataAccessAuthIdentity")
        .and_then(Value::as_str)
        .map(str::to_string)
    {
        let c = canonical(AUTH_IDENTITIES, &raw).ok_or_else(|| {
            user_error(format!(
                "'{raw}' is not a valid serviceDataAccessAuthIdentity."
            ))
        })?;
        props.insert("serviceDataAccessAuthIdentity".into(), json!(c));
    }
    let Some(Value::Object(mut creds)) = props.remove("credentials") else {
        return Err(user_error(
            "The datastore 'credentials' are required (use credentialsType None for identity-based access).",
        ));
    };
    let raw_ctype = creds
        .get("credentialsType")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let ctype = canonical(CREDENTIAL_TYPES, &raw_ctype)
        .ok_or_else(|| user_error(format!("'{raw_ctype}' is not a valid credentialsType.")))?;
    creds.insert("credentialsType".into(), json!(ctype));
    let mut private = Value::Null;
    match ctype {
        "None" | "NoCredentials" => {
            if !matches!(
                dtype,
                "AzureBlob" | "AzureDataLakeGen1" | "AzureDataLakeGen2"
            ) {
                return Err(user_error(format!(
                    "Identity-based access (credentialsType None) is supported only for AzureBlob, \
                     AzureDataLakeGen1 and AzureDataLakeGen2 datastores, not {dtype}."
                )));
            }
            creds.remove("secrets");
        }
        _ => {
            let (secret_field, wanted) = match ctype {
                "AccountKey" => ("key", "AccountKey"),
                "Sas" => ("sasToken", "Sas"),
                "ServicePrincipal" => ("clientSecret", "ServicePrincipal"),
                _ => ("certificate", "Certificate"),
            };
            let secrets = creds.remove("secrets").unwrap_or(Value::Null);
            let stype = secrets
                .get("secretsType")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !stype.eq_ignore_ascii_case(wanted) {
                return Err(user_error(format!(
                    "credentials.secrets.secretsType must be '{wanted}' for credentialsType {ctype}."
                )));
            }
            let Some(value) = secrets
                .get(secret_field)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
            else {
                return Err(user_error(format!(
                    "credentials.secrets.{secret_field} is required for credentialsType {ctype}."
                )));
            };
            if ctype == "ServicePrincipal" || ctype == "Certificate" {
                for k in ["clientId", "tenantId"] {
                    if !creds.get(k).is_some_and(Value::is_string) {
                        return Err(user_error(format!(
                            "credentials.{k} is required for credentialsType {ctype}."
                        )));
                    }
                }
            }
            // Without skipValidation the service tries the credential against storage;
            // here that means the secret must at least have the right form.
            if !skip_validation {
                let ok = match ctype {
                    "AccountKey" => base64::engine::general_purpose::STANDARD
                        .decode(value)
                        .is_ok(),
                    "Sas" => value.contains("sig="),
                    _ => true,
                };
                if !ok {
                    return Err(user_error(format!(
                        "The {ctype} credential could not be validated against the storage account. \
                         Pass skipValidation=true to store it without validation."
                    )));
                }
            }
            private = json!({"secretsType": wanted, secret_field: value});
            creds.insert("secrets".into(), json!({"secretsType": wanted}));
        }
    }
    props.insert("credentials".into(), Value::Object(creds));
    props.entry("isDefault").or_insert(json!(false));
    props.entry("description").or_insert(Value::Null);
    props.entry("tags").or_insert(json!({}));
    props.entry("properties").or_insert(json!({}));
    if matches!(dtype, "AzureBlob" | "AzureDataLakeGen2" | "AzureFile") {
        props.entry("endpoint").or_insert(json!("core.windows.net"));
        props.entry("protocol").or_insert(json!("https"));
        props
            .entry("serviceDataAccessAuthIdentity")
            .or_insert(json!("None"));
    }
    Ok((props, private))
}

fn not_found(scope: &ResourceScope, w: &str, d: &str) -> ArmError {
    ArmError::resource_not_found(&format!("{}/{w}/datastores", workspace::TYPE), d, &scope.rg)
}

/// Stores a validated datastore; clears `isDefault` on siblings when it is the new default.
fn store(state: &mut State, workspace_id: &str, res: Resource) {
    if res
        .body
        .pointer("/properties/isDefault")
        .and_then(Value::as_bool)
        == Some(true)
    {
        let siblings: Vec<String> = state
            .children(workspace_id, Kind::Datastore)
            .into_iter()
            .map(|r| r.id.clone())
            .collect();
        for s in siblings {
            if let Some(r) = state.get_mut(&s) {
                r.body["properties"]["isDefault"] = json!(false);
            }
        }
    }
    state.put(res);
}

/// Builds a datastore resource from a body.
pub fn build(
    workspace_id: &str,
    name: &str,
    body: &Map<String, Value>,
    skip_validation: bool,
    previous: Option<&Resource>,
) -> Result<Resource, ArmError> {
    let (props, private) = validate(body, skip_validation)?;
    let rid = previous
        .map(|p| p.id.clone())
        .unwrap_or_else(|| format!("{workspace_id}/datastores/{name}"));
    Ok(Resource {
        id: rid.clone(),
        kind: Kind::Datastore,
        body: json!({
            "id": rid,
            "name": previous.and_then(|p| p.body["name"].as_str()).unwrap_or(name),
            "type": TYPE,
            "properties": Value::Object(props),
            "systemData": system_data(previous.and_then(|p| p.body.get("systemData"))),
        }),
        private,
    })
}

/// Seeds a datastore (validated like a PUT with `skipValidation=true`).
pub fn seed(
    state: &mut State,
    workspace_id: &str,
    name: &str,
    body: &Map<String, Value>,
) -> Result<(), ArmError> {
    let res = build(workspace_id, name, body, true, None)?;
    store(state, workspace_id, res);
    Ok(())
}

/// Dispatches `.../workspaces/{w}/datastores[/{d}[/listSecrets]]`.
pub fn route(req: &Req<'_>, scope: &ResourceScope, rest: &[String]) -> Result<Response, ArmError> {
    let app = req.app;
    let q = app.quirks();
    match rest {
        [_, w, _] => {
            if req.method != Method::GET {
                return Err(method_not_allowed(&req.method));
            }
            let state = app.state()?;
            let ws_id = workspace::existing(&state, scope, w)?.id.clone();
            let only_default = req
                .query
                .get("isdefault")
                .map(|v| v.eq_ignore_ascii_case("true"));
            let skip: usize = req
                .query
                .get("$skip")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            // `count` is the page size Azure ML takes for this list (default 30).
            let count: usize = req
                .query
                .get("count")
                .and_then(|v| v.parse().ok())
                .unwrap_or(q.list_page_size);
            let items = state
                .children(&ws_id, Kind::Datastore)
                .into_iter()
                .filter(|r| {
                    only_default.is_none_or(|d| {
                        r.body
                            .pointer("/properties/isDefault")
                            .and_then(Value::as_bool)
                            == Some(d)
                    })
                })
                .skip(skip)
                .map(|r| render(r, &q))
                .collect();
            super::paging::answer(req, items, count)
        }
        [_, w, _, d] => {
            let rid = id(scope, w, d);
            match req.method {
                Method::GET => {
                    let state = app.state()?;
                    workspace::existing(&state, scope, w)?;
                    if app.take_pending_not_found(&rid.to_ascii_lowercase()) {
                        return Err(not_found(scope, w, d));
                    }
                    let r = state.get(&rid).ok_or_else(|| not_found(scope, w, d))?;
                    Ok(axum::Json(render(r, &q)).into_response())
                }
                Method::PUT => {
                    super::check_name(
                        "datastore",
                        d,
                        1,
                        255,
                        super::alnum,
                        super::alnum_dash_underscore,
                    )?;
                    let skip = req.bool_query("skipValidation")?;
                    let body = req.json_object()?;
                    let mut state = app.state()?;
                    let ws_id = workspace::existing(&state, scope, w)?.id.clone();
                    workspace::check_parent_idle(req.app, &state, scope, w)?;
                    let previous = state.get(&rid).cloned();
                    if let Some(prev) = &previous {
                        let old_type = prev
                            .body
                            .pointer("/properties/datastoreType")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        let new_type = body
                            .get("properties")
                            .and_then(|p| p.get("datastoreType"))
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        if !old_type.eq_ignore_ascii_case(new_type) {
                            return Err(user_error(format!(
                                "The datastoreType of an existing datastore cannot change from {old_type} to {new_type}."
                            )));
                        }
                    }
                    let res = build(&ws_id, d, &body, skip, previous.as_ref())?;
                    let out = render(&res, &q);
                    let key = res.id.to_ascii_lowercase();
                    let res_id = res.id.clone();
                    store(&mut state, &ws_id, res);
                    app.commit(&mut state)?;
                    let status = if previous.is_some() {
                        StatusCode::OK
                    } else {
                        StatusCode::CREATED
                    };
                    if previous.is_none()
                        && let Some(n) = req.faults.not_found_reads
                    {
                        app.arm_pending_not_found(&key, n);
                    }
                    let mut resp = json_answer(status, out);
                    if status == StatusCode::CREATED && q.shapes.reality() {
                        // Recorded: create answers `201` with a `Location` that is the
                        // datastore's own URL (nothing to poll).
                        crate::lro::add_header(
                            &mut resp,
                            axum::http::header::LOCATION,
                            &format!(
                                "{}{}?api-version={}",
                                app.base_url(),
                                res_id,
                                req.api_version
                            ),
                        );
                    }
                    Ok(resp)
                }
                Method::DELETE => {
                    let mut state = app.state()?;
                    workspace::existing(&state, scope, w)?;
                    workspace::check_parent_idle(req.app, &state, scope, w)?;
                    if state.remove_tree(&rid).is_none() {
                        return Ok(StatusCode::NO_CONTENT.into_response());
                    }
                    app.commit(&mut state)?;
                    Ok(StatusCode::OK.into_response())
                }
                ref m => Err(method_not_allowed(m)),
            }
        }
        [_, w, _, d, action] if action.eq_ignore_ascii_case("listSecrets") => {
            if req.method != Method::POST {
                return Err(method_not_allowed(&req.method));
            }
            let state = app.state()?;
            workspace::existing(&state, scope, w)?;
            let r = state
                .get(&id(scope, w, d))
                .ok_or_else(|| not_found(scope, w, d))?;
            if r.private.is_null() {
                return Err(user_error(format!(
                    "The datastore '{d}' has no secrets (credentialsType None)."
                )));
            }
            Ok(axum::Json(r.private.clone()).into_response())
        }
        _ => Err(ArmError::not_found(
            "NotFound",
            format!("No operation matches '{}'.", req.path),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn secrets_are_split_from_the_body() {
        let (props, private) = validate(
            &body(json!({"properties": {"datastoreType": "AzureBlob", "accountName": "acct", "containerName": "c",
                "credentials": {"credentialsType": "AccountKey", "secrets": {"secretsType": "AccountKey", "key": "a2V5"}}}})),
            false,
        )
        .unwrap();
        assert_eq!(
            props["credentials"]["secrets"],
            json!({"secretsType": "AccountKey"})
        );
        assert_eq!(private["key"], "a2V5");
    }

    #[test]
    fn identity_access_only_for_blob_and_lake() {
        let e = validate(
            &body(json!({"properties": {"datastoreType": "AzureFile", "accountName": "acct", "fileShareName": "s",
                "credentials": {"credentialsType": "None"}}})),
            true,
        )
        .unwrap_err();
        assert!(e.message.contains("AzureFile"), "{}", e.message);
    }

    #[test]
    fn skip_validation_lets_unverifiable_secrets_through() {
        let b = body(
            json!({"properties": {"datastoreType": "AzureBlob", "accountName": "acct", "containerName": "c",
            "credentials": {"credentialsType": "Sas", "secrets": {"secretsType": "Sas", "sasToken": "not-a-sas"}}}}),
        );
        assert!(validate(&b, false).is_err());
        assert!(validate(&b, true).is_ok());
    }
}
