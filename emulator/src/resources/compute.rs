//! `.../workspaces/{w}/computes/{c}`: PUT takes the full body (201 + `Azure-AsyncOperation`),
//! PATCH takes scale settings only, DELETE needs `underlyingResourceAction`.

use std::borrow::Cow;

use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::app::App;
use crate::arm::{Req, ResourceScope, method_not_allowed};
use crate::config::Quirks;
use crate::error::ArmError;
use crate::lro;
use crate::state::{Kind, OpKind, Resource, State, set_provisioning_state};
use crate::util::{merge_patch, now_rfc3339};

use super::managed_identity::{self, Flavor, IdentityRequest};
use super::workspace::{self, NAMESPACE};
use super::{json_answer, require_location, same_location, system_data, tags};

/// Full type name.
pub const TYPE: &str = "Microsoft.MachineLearningServices/workspaces/computes";

const COMPUTE_TYPES: &[&str] = &[
    "AKS",
    "Kubernetes",
    "AmlCompute",
    "ComputeInstance",
    "DataFactory",
    "VirtualMachine",
    "HDInsight",
    "Databricks",
    "DataLakeAnalytics",
    "SynapseSpark",
];

/// Create-only fields at `properties` level and inside `properties.properties`.
const CREATE_ONLY_OUTER: &[&str] = &["computeLocation", "disableLocalAuth", "computeType"];
const CREATE_ONLY_INNER: &[&str] = &["vmSize", "vmPriority", "subnet"];

fn bad(message: impl Into<String>) -> ArmError {
    ArmError::bad_request("BadRequest", message)
}

/// Canonical id.
pub fn id(scope: &ResourceScope, workspace: &str, name: &str) -> String {
    format!("{}/computes/{name}", workspace::id(scope, workspace))
}

/// Renders a stored compute as GET returns it (secrets never included).
pub fn render(r: &Resource, q: &Quirks) -> Value {
    rendered(r, q).into_owned()
}

/// [`render`] without copying the stored body when no response quirk changes it (every read
/// and every write answer renders one).
pub fn rendered<'a>(r: &'a Resource, q: &Quirks) -> Cow<'a, Value> {
    let recases = q.recase_ids
        && r.body
            .get("identity")
            .is_some_and(managed_identity::recase_keys_changes);
    let changes = recases
        || managed_identity::render_shape_changes(&r.body, q.shapes, Flavor::Compute)
        || super::response_quirks_change(q);
    if changes {
        Cow::Owned(reshape(r.body.clone(), q))
    } else {
        Cow::Borrowed(&r.body)
    }
}

/// The response quirks' changes to a copy of a stored body.
fn reshape(mut body: Value, q: &Quirks) -> Value {
    if q.recase_ids
        && let Some(identity) = body.get_mut("identity")
    {
        managed_identity::recase_keys(identity);
    }
    managed_identity::render_shape(&mut body, q.shapes, Flavor::Compute);
    super::apply_response_quirks(&mut body, q);
    body
}

fn validate_scale(scale: &Value) -> Result<(), ArmError> {
    let Some(obj) = scale.as_object() else {
        return Err(bad("scaleSettings must be an object."));
    };
    let max = obj.get("maxNodeCount").and_then(Value::as_i64);
    let Some(max) = max else {
        return Err(bad(
            "scaleSettings.maxNodeCount is required and must be an integer.",
        ));
    };
    let min = match obj.get("minNodeCount") {
        None | Some(Value::Null) => 0,
        Some(v) => v
            .as_i64()
            .ok_or_else(|| bad("scaleSettings.minNodeCount must be an integer."))?,
    };
    if min < 0 || max < 0 || min > max {
        return Err(bad(format!(
            "scaleSettings are invalid: minNodeCount ({min}) must be between 0 and maxNodeCount ({max})."
        )));
    }
    if let Some(t) = obj.get("nodeIdleTimeBeforeScaleDown")
        && !t.is_null()
        && !t.as_str().is_some_and(|s| s.starts_with("PT"))
    {
        return Err(bad(
            "nodeIdleTimeBeforeScaleDown must be an ISO 8601 duration such as PT120S.",
        ));
    }
    Ok(())
}

/// Validates the `properties` of a PUT and returns them with read-only fields filled in.
fn validate_properties(
    body: &Map<String, Value>,
    location: &str,
    provisioning: &str,
    previous: Option<&Resource>,
) -> Result<(Value, Value), ArmError> {
    let mut props = super::properties(body)?;
    let Some(raw_type) = props
        .get("computeType")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return Err(bad("properties.computeType is required."));
    };
    let Some(ctype) = COMPUTE_TYPES
        .iter()
        .find(|t| t.eq_ignore_ascii_case(&raw_type))
    else {
        return Err(bad(format!(
            "The compute type '{raw_type}' is not supported."
        )));
    };
    props.insert("computeType".into(), json!(ctype));
    let mut inner = match props.remove("properties") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(bad("properties.properties must be an object.")),
    };
    let mut private = Value::Null;
    if *ctype == "AmlCompute" {
        if !inner.get("vmSize").is_some_and(Value::is_string) {
            return Err(bad(
                "properties.properties.vmSize is required for AmlCompute.",
            ));
        }
        let scale = inner.get("scaleSettings").cloned().ok_or_else(|| {
            bad("properties.properties.scaleSettings is required for AmlCompute.")
        })?;
        validate_scale(&scale)?;
        inner.entry("vmPriority").or_insert(json!("Dedicated"));
        inner.entry("osType").or_insert(json!("Linux"));
        inner
            .entry("remoteLoginPortPublicAccess")
            .or_insert(json!("NotSpecified"));
        inner.entry("enableNodePublicIp").or_insert(json!(true));
        // Credentials are write-only: keep them aside, answer without them.
        if let Some(Value::Object(creds)) = inner.get_mut("userAccountCredentials") {
            let mut secret = Map::new();
            for k in ["adminUserPassword", "adminUserSshPublicKey"] {
                if let Some(v) = creds.remove(k) {
                    secret.insert(k.into(), v);
                }
            }
            private = json!({"userAccountCredentials": secret});
        }
        let min = scale
            .get("minNodeCount")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        inner.insert("allocationState".into(), json!("Steady"));
        inner.insert("allocationStateTransitionTime".into(), json!(now_rfc3339()));
        inner.insert("currentNodeCount".into(), json!(min));
        inner.insert("targetNodeCount".into(), json!(min));
        inner.insert(
            "nodeStateCounts".into(),
            json!({"idleNodeCount": min, "runningNodeCount": 0, "preparingNodeCount": 0,
                   "unusableNodeCount": 0, "leavingNodeCount": 0, "preemptedNodeCount": 0}),
        );
        inner.insert("errors".into(), Value::Null);
    }
    if let Some(prev) = previous {
        let old = &prev.body["properties"];
        for k in CREATE_ONLY_OUTER {
            if let (Some(o), Some(n)) = (old.get(*k), props.get(*k))
                && !n.is_null()
                && !json_eq_ci(o, n)
            {
                return Err(bad(format!(
                    "The compute property '{k}' cannot be changed after creation."
                )));
            }
        }
        for k in CREATE_ONLY_INNER {
            if let (Some(o), Some(n)) = (old["properties"].get(*k), inner.get(*k))
                && !json_eq_ci(o, n)
            {
                return Err(bad(format!(
                    "The compute property '{k}' cannot be changed after creation."
                )));
            }
        }
    }
    let now = now_rfc3339();
    let created = previous
        .and_then(|p| p.body["properties"].get("createdOn").cloned())
        .unwrap_or_else(|| json!(now));
    props.entry("computeLocation").or_insert(json!(location));
    props.entry("disableLocalAuth").or_insert(json!(false));
    props.insert("provisioningState".into(), json!(provisioning));
    props.insert("createdOn".into(), created);
    props.insert("modifiedOn".into(), json!(now));
    props.insert("isAttachedCompute".into(), json!(false));
    props.insert("provisioningErrors".into(), Value::Null);
    props.insert("properties".into(), Value::Object(inner));
    Ok((Value::Object(props), private))
}

fn json_eq_ci(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.eq_ignore_ascii_case(y),
        _ => a == b,
    }
}

/// Dispatches `.../workspaces/{w}/computes[/{c}]`.
pub fn route(req: &Req<'_>, scope: &ResourceScope, rest: &[String]) -> Result<Response, ArmError> {
    match rest {
        [_, w, _] => {
            if req.method != Method::GET {
                return Err(method_not_allowed(&req.method));
            }
            let state = req.app.state()?;
            let ws_id = workspace::existing(&state, scope, w)?.id.clone();
            let q = req.app.quirks();
            let items = state
                .children(&ws_id, Kind::Compute)
                .into_iter()
                .map(|r| render(r, &q))
                .collect();
            super::paging::answer(req, items, q.list_page_size)
        }
        [_, w, _, c] => match req.method {
            Method::GET => get(req, scope, w, c),
            Method::PUT => put(req, scope, w, c),
            Method::PATCH => patch(req, scope, w, c),
            Method::DELETE => delete(req, scope, w, c),
            ref m => Err(method_not_allowed(m)),
        },
        _ => Err(ArmError::not_found(
            "NotFound",
            format!("No operation matches '{}'.", req.path),
        )),
    }
}

fn not_found(scope: &ResourceScope, w: &str, c: &str) -> ArmError {
    ArmError::resource_not_found(&format!("{}/{w}/computes", workspace::TYPE), c, &scope.rg)
}

fn get(req: &Req<'_>, scope: &ResourceScope, w: &str, c: &str) -> Result<Response, ArmError> {
    let state = req.app.state()?;
    workspace::existing(&state, scope, w)?;
    let rid = id(scope, w, c);
    if req.app.take_pending_not_found(&rid.to_ascii_lowercase()) {
        return Err(not_found(scope, w, c));
    }
    let r = state.get(&rid).ok_or_else(|| not_found(scope, w, c))?;
    Ok(axum::Json(rendered(r, &req.app.quirks())).into_response())
}

fn async_write(
    req: &Req<'_>,
    state: &mut State,
    scope: &ResourceScope,
    key: &str,
    kind: OpKind,
    status: StatusCode,
    location: &str,
) -> Result<Response, ArmError> {
    let app = req.app;
    let settings = app.settings();
    let op = lro::start(
        state,
        key,
        kind,
        settings.durations.compute,
        req.faults.fail_async.clone(),
        false,
    );
    if settings.quirks.sync_long_running {
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
    let body = (kind != OpKind::Delete)
        .then(|| {
            state
                .resources
                .get(key)
                .map(|r| rendered(r, &settings.quirks))
        })
        .flatten();
    let mut resp = lro::async_answer(app, status, body, &target, &op.id);
    if kind == OpKind::Delete {
        lro::add_header(
            &mut resp,
            header::LOCATION,
            &lro::location_url(app, &target, &op.id),
        );
    }
    Ok(resp)
}

/// Validates and assembles a compute body; shared by PUT and seeding.
fn assemble(
    app: &App,
    state: &State,
    rid: &str,
    name: &str,
    body: &Map<String, Value>,
    previous: Option<&Resource>,
    provisioning: &str,
) -> Result<(Value, Value), ArmError> {
    let location = require_location(body)?;
    if let Some(prev) = previous {
        let old = prev.body["location"].as_str().unwrap_or_default();
        if !same_location(old, &location) {
            return Err(bad(format!(
                "The compute location cannot be changed from '{old}' to '{location}'."
            )));
        }
    }
    let identity = managed_identity::parse(state, body.get("identity"), Flavor::Compute)?
        .unwrap_or_else(IdentityRequest::none);
    let (props, private) = validate_properties(body, &location, provisioning, previous)?;
    let prev_identity = previous.and_then(|p| p.body.get("identity"));
    // Members moved in: `json!` would copy each one through `to_value`.
    let out: Map<String, Value> = [
        ("id", Value::from(rid)),
        ("name", Value::from(name)),
        ("type", Value::from(TYPE)),
        ("location", Value::from(location)),
        ("tags", tags(body)?),
        ("sku", body.get("sku").cloned().unwrap_or(Value::Null)),
        (
            "identity",
            managed_identity::build(
                state,
                &identity,
                prev_identity,
                &app.tenant_id,
                Flavor::Compute,
            ),
        ),
        ("properties", props),
        (
            "systemData",
            system_data(previous.and_then(|p| p.body.get("systemData"))),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Ok((Value::Object(out), private))
}

fn put(req: &Req<'_>, scope: &ResourceScope, w: &str, c: &str) -> Result<Response, ArmError> {
    super::check_name(
        "compute",
        c,
        2,
        24,
        |ch| ch.is_ascii_alphabetic(),
        |ch| ch.is_ascii_alphanumeric() || ch == '-',
    )?;
    let app = req.app;
    let body = req.json_object()?;
    let mut state = app.state()?;
    let ws_id = workspace::existing(&state, scope, w)?.id.clone();
    workspace::check_parent_idle(req.app, &state, scope, w)?;
    let rid = id(scope, w, c);
    let key = rid.to_ascii_lowercase();
    lro::refuse_if_running(&state, &key, "compute", c)?;
    let previous = state.get(&rid);
    let (kind, status, provisioning) = if previous.is_some() {
        if app.quirks().shapes.reality() {
            // Recorded: a full PUT of an existing compute (identity update) answers like a
            // create, `201` with `provisioningState: "Creating"` and `Azure-AsyncOperation`.
            (OpKind::Update, StatusCode::CREATED, "Creating")
        } else {
            (OpKind::Update, StatusCode::OK, "Updating")
        }
    } else {
        (OpKind::Create, StatusCode::CREATED, "Creating")
    };
    let canonical = previous
        .map(|p| p.id.clone())
        .unwrap_or_else(|| format!("{ws_id}/computes/{c}"));
    let name = previous
        .and_then(|p| p.body["name"].as_str().map(str::to_string))
        .unwrap_or_else(|| c.to_string());
    let (new_body, private) = assemble(
        app,
        &state,
        &canonical,
        &name,
        &body,
        previous,
        provisioning,
    )?;
    let location = new_body["location"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    state.put(Resource {
        id: canonical,
        kind: Kind::Compute,
        body: new_body,
        private,
    });
    let resp = async_write(req, &mut state, scope, &key, kind, status, &location)?;
    if kind == OpKind::Create
        && let Some(n) = req.faults.not_found_reads
    {
        app.arm_pending_not_found(&key, n);
    }
    Ok(resp)
}

fn patch(req: &Req<'_>, scope: &ResourceScope, w: &str, c: &str) -> Result<Response, ArmError> {
    let app = req.app;
    let body = req.json_object()?;
    if body.contains_key("identity") {
        return Err(bad(
            "The compute identity cannot be changed with PATCH; only scale settings can be updated. Use PUT with the full compute body.",
        ));
    }
    if let Some(k) = body.keys().find(|k| k.as_str() != "properties") {
        return Err(bad(format!(
            "The property '{k}' cannot be updated with PATCH; only properties.properties.scaleSettings can."
        )));
    }
    let outer = super::properties(&body)?;
    if let Some(k) = outer.keys().find(|k| k.as_str() != "properties") {
        return Err(bad(format!(
            "The property 'properties.{k}' cannot be updated with PATCH; only properties.properties.scaleSettings can."
        )));
    }
    let inner = outer
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(k) = inner.keys().find(|k| k.as_str() != "scaleSettings") {
        return Err(bad(format!(
            "The property 'properties.properties.{k}' cannot be updated with PATCH; only scaleSettings can."
        )));
    }
    let Some(scale_patch) = inner.get("scaleSettings") else {
        return Err(bad(
            "The PATCH body must contain properties.properties.scaleSettings.",
        ));
    };
    let mut state = app.state()?;
    workspace::existing(&state, scope, w)?;
    workspace::check_parent_idle(req.app, &state, scope, w)?;
    let rid = id(scope, w, c);
    let key = rid.to_ascii_lowercase();
    let Some(mut res) = state.get(&rid).cloned() else {
        return Err(not_found(scope, w, c));
    };
    lro::refuse_if_running(&state, &key, "compute", c)?;
    let mut scale = res.body["properties"]["properties"]["scaleSettings"].clone();
    merge_patch(&mut scale, scale_patch);
    validate_scale(&scale)?;
    res.body["properties"]["properties"]["scaleSettings"] = scale;
    res.body["properties"]["modifiedOn"] = json!(now_rfc3339());
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
        StatusCode::OK,
        &location,
    )
}

fn delete(req: &Req<'_>, scope: &ResourceScope, w: &str, c: &str) -> Result<Response, ArmError> {
    let app = req.app;
    match req
        .query
        .get("underlyingresourceaction")
        .map(|s| s.to_ascii_lowercase())
    {
        Some(a) if a == "delete" || a == "detach" => {}
        Some(a) => {
            return Err(bad(format!(
                "underlyingResourceAction '{a}' is invalid; use Delete or Detach."
            )));
        }
        None => {
            return Err(bad(
                "The query parameter underlyingResourceAction (Delete or Detach) is required.",
            ));
        }
    }
    let mut state = app.state()?;
    workspace::existing(&state, scope, w)?;
    workspace::check_parent_idle(req.app, &state, scope, w)?;
    let rid = id(scope, w, c);
    let key = rid.to_ascii_lowercase();
    let Some(res) = state.get(&rid).cloned() else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    lro::refuse_if_running(&state, &key, "compute", c)?;
    if let Some(r) = state.get_mut(&rid) {
        set_provisioning_state(&mut r.body, "Deleting");
    }
    let location = res.body["location"]
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
    )
}

/// Builds a seeded compute (validated like a PUT, state `Succeeded`).
pub fn seed(
    app: &App,
    state: &State,
    workspace_id: &str,
    name: &str,
    body: &Map<String, Value>,
) -> Result<Resource, ArmError> {
    let rid = format!("{workspace_id}/computes/{name}");
    let (b, private) = assemble(app, state, &rid, name, body, None, "Succeeded")?;
    Ok(Resource {
        id: rid,
        kind: Kind::Compute,
        body: b,
        private,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Shapes;

    #[test]
    fn rendering_borrows_the_stored_body_only_when_no_quirk_changes_it() {
        let uai = "/subscriptions/S/resourceGroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/U";
        let bodies = [
            json!({"name": "c", "identity": {"type": "SystemAssigned", "principalId": "p"}}),
            json!({"name": "c", "identity": {"type": "None"}}),
            json!({"name": "c", "identity": null}),
            json!({"name": "c", "identity": {"type": "UserAssigned",
                   "userAssignedIdentities": {uai: {"principalId": "p"}}}}),
            json!({"name": "c", "properties": {"createdOn": "2024-01-02T03:04:05Z"}}),
        ];
        let mut borrowed = 0;
        for body in bodies {
            let r = Resource {
                id: "c".into(),
                kind: Kind::Compute,
                body: body.clone(),
                private: Value::Null,
            };
            for shapes in [Shapes::Reality, Shapes::Spec] {
                for (recase_ids, recase_enums, alternate_timestamps) in [
                    (true, false, false),
                    (false, false, false),
                    (true, true, true),
                ] {
                    let q = Quirks {
                        shapes,
                        recase_ids,
                        recase_enums,
                        alternate_timestamps,
                        ..Quirks::default()
                    };
                    let out = rendered(&r, &q);
                    assert_eq!(*out, reshape(body.clone(), &q), "{body} {q:?}");
                    borrowed += usize::from(matches!(out, Cow::Borrowed(_)));
                }
            }
        }
        assert!(borrowed > 0);
    }
}
