//! Long-running operations: starting them, and the two polling styles ARM uses
//! (`Azure-AsyncOperation` status documents and `Location` result URLs).

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::app::App;
use crate::error::ArmError;
use crate::state::{OpKind, OpStatus, Operation, State};
use crate::util::{new_guid, now_ms, rfc3339_ms};

/// Where a poll URL points.
#[derive(Debug, Clone)]
pub struct PollTarget {
    /// Subscription id.
    pub subscription: String,
    /// Provider namespace, e.g. `Microsoft.ContainerRegistry`.
    pub namespace: &'static str,
    /// Resource location (region).
    pub location: String,
    /// api-version to put in the URL.
    pub api_version: String,
}

/// Path segment of status documents.
pub const STATUS_SEGMENT: &str = "operationStatuses";
/// Path segment of `Location` results.
pub const RESULT_SEGMENT: &str = "operationResults";

/// Starts an operation on `resource_key`.
pub fn start(
    state: &mut State,
    resource_key: &str,
    kind: OpKind,
    duration: Duration,
    failure: Option<(String, String)>,
    purge: bool,
) -> Operation {
    let now = now_ms();
    let op = Operation {
        id: new_guid(),
        resource_key: resource_key.to_string(),
        kind,
        status: OpStatus::InProgress,
        started_ms: now,
        due_ms: now + i64::try_from(duration.as_millis()).unwrap_or(i64::MAX / 4),
        ended_ms: None,
        failure,
        purge,
    };
    state.insert_operation(op.clone());
    op
}

fn poll_url(app: &App, t: &PollTarget, segment: &str, op_id: &str) -> String {
    format!(
        "{}/subscriptions/{}/providers/{}/locations/{}/{segment}/{op_id}?api-version={}",
        app.base_url(),
        t.subscription,
        t.namespace,
        t.location.to_ascii_lowercase().replace(' ', ""),
        t.api_version
    )
}

/// URL of the status document for `op_id`.
pub fn async_operation_url(app: &App, t: &PollTarget, op_id: &str) -> String {
    poll_url(app, t, STATUS_SEGMENT, op_id)
}

/// URL of the `Location` result for `op_id`.
pub fn location_url(app: &App, t: &PollTarget, op_id: &str) -> String {
    poll_url(app, t, RESULT_SEGMENT, op_id)
}

/// Adds a header built by us (always valid ASCII).
pub fn add_header(resp: &mut Response, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, v);
    }
}

/// An answer carrying `Azure-AsyncOperation` (+ `Retry-After`).
pub fn async_answer<B: serde::Serialize>(
    app: &App,
    status: StatusCode,
    body: Option<B>,
    t: &PollTarget,
    op_id: &str,
) -> Response {
    let mut resp = match body {
        Some(b) => (status, axum::Json(b)).into_response(),
        None => status.into_response(),
    };
    add_header(
        &mut resp,
        header::HeaderName::from_static("azure-asyncoperation"),
        &async_operation_url(app, t, op_id),
    );
    add_header(&mut resp, header::RETRY_AFTER, &app.retry_after());
    resp
}

/// An answer carrying `Location` (+ `Retry-After`).
pub fn location_answer(
    app: &App,
    status: StatusCode,
    body: Option<Value>,
    t: &PollTarget,
    op_id: &str,
) -> Response {
    let mut resp = match body {
        Some(b) => (status, axum::Json(b)).into_response(),
        None => status.into_response(),
    };
    add_header(&mut resp, header::LOCATION, &location_url(app, t, op_id));
    add_header(&mut resp, header::RETRY_AFTER, &app.retry_after());
    resp
}

fn failure_status(code: &str) -> StatusCode {
    if code.eq_ignore_ascii_case("InternalServerError") {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::BAD_REQUEST
    }
}

/// `GET .../operationStatuses/{id}`: always 200 with the status document.
pub fn status_document(app: &App, path: &str, op: &Operation) -> Response {
    let percent = match op.status {
        OpStatus::InProgress => {
            let total = (op.due_ms - op.started_ms).max(1);
            ((now_ms() - op.started_ms).clamp(0, total) * 100 / total).min(99)
        }
        _ => 100,
    };
    let mut doc = json!({
        "id": path,
        "name": op.id,
        "status": op.status.as_str(),
        "startTime": rfc3339_ms(op.started_ms),
        "percentComplete": percent,
    });
    if let Some(end) = op.ended_ms {
        doc["endTime"] = json!(rfc3339_ms(end));
    }
    if op.status == OpStatus::Failed
        && let Some((code, message)) = &op.failure
    {
        doc["error"] = json!({"code": code, "message": message});
    }
    let mut resp = axum::Json(doc).into_response();
    if op.status == OpStatus::InProgress {
        add_header(&mut resp, header::RETRY_AFTER, &app.retry_after());
    }
    resp
}

/// `GET .../operationResults/{id}`: 202 while running, then the final answer
/// (`final_body` is the finished resource as GET renders it).
pub fn location_result(
    app: &App,
    url: &str,
    op: &Operation,
    final_body: Option<Value>,
) -> Response {
    match op.status {
        OpStatus::InProgress => {
            let mut resp = StatusCode::ACCEPTED.into_response();
            add_header(&mut resp, header::LOCATION, url);
            add_header(&mut resp, header::RETRY_AFTER, &app.retry_after());
            resp
        }
        OpStatus::Succeeded => match (op.kind, final_body) {
            (OpKind::Delete, _) | (_, None) => StatusCode::NO_CONTENT.into_response(),
            (_, Some(body)) => axum::Json(body).into_response(),
        },
        OpStatus::Failed | OpStatus::Canceled => {
            let (code, message) = op
                .failure
                .clone()
                .unwrap_or_else(|| ("Canceled".into(), "The operation was canceled.".into()));
            ArmError::new(failure_status(&code), code, message).into_response()
        }
    }
}

/// The error a synchronously answered operation ends with, if it failed (a fault armed with
/// `failAsync` makes a synchronous answer fail the same way the status document would).
pub fn sync_failure(state: &State, op_id: &str) -> Option<ArmError> {
    let op = state.operation(op_id)?;
    match op.status {
        OpStatus::Failed | OpStatus::Canceled => {
            let (code, message) = op
                .failure
                .clone()
                .unwrap_or_else(|| ("Canceled".into(), "The operation was canceled.".into()));
            Some(ArmError::new(failure_status(&code), code, message))
        }
        _ => None,
    }
}

/// Refuses a write (409) while another operation on the same resource (`key`) runs.
pub fn refuse_if_running(
    state: &State,
    key: &str,
    type_label: &str,
    name: &str,
) -> Result<(), ArmError> {
    match state.active_operation(key) {
        Some(_) => Err(ArmError::conflict(
            "AnotherOperationInProgress",
            format!(
                "Another operation on {type_label} '{name}' is in progress. Retry after it completes."
            ),
        )),
        None => Ok(()),
    }
}
