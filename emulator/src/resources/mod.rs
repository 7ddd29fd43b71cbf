//! One module per emulated resource type, plus the identity rules they share.

pub mod cloud;
pub mod compute;
pub mod datastore;
pub mod graph;
pub mod managed_identity;
pub mod paging;
pub mod recase;
pub mod registry;
pub mod resource_group;
pub mod role_assignment;
pub mod role_definition;
pub mod user_assigned_identity;
pub mod workspace;
pub mod workspace_keys;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::ArmError;

/// `systemData` for a resource created or modified now.
pub fn system_data(previous: Option<&Value>) -> Value {
    let now = crate::util::now_rfc3339();
    let created = previous
        .and_then(|p| p.get("createdAt"))
        .cloned()
        .unwrap_or_else(|| json!(now));
    json!({
        "createdBy": "emulator-client",
        "createdByType": "Application",
        "createdAt": created,
        "lastModifiedBy": "emulator-client",
        "lastModifiedByType": "Application",
        "lastModifiedAt": now,
    })
}

/// A JSON answer with a status.
pub fn json_answer(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// `{"value": [...]}`.
pub fn list_answer(items: Vec<Value>) -> Response {
    axum::Json(json!({ "value": items })).into_response()
}

/// Requires `location` in a PUT body.
pub fn require_location(body: &serde_json::Map<String, Value>) -> Result<String, ArmError> {
    match body.get("location") {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        _ => Err(ArmError::bad_request(
            "LocationRequired",
            "The location property is required for this definition.",
        )),
    }
}

/// Compares locations the way ARM does (case and spaces ignored).
pub fn same_location(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.to_ascii_lowercase().replace(' ', "");
    norm(a) == norm(b)
}

/// `tags` from a body: an object of strings (400 otherwise); absent → `{}`.
pub fn tags(body: &serde_json::Map<String, Value>) -> Result<Value, ArmError> {
    match body.get("tags") {
        None | Some(Value::Null) => Ok(json!({})),
        Some(Value::Object(m)) if m.values().all(Value::is_string) => Ok(Value::Object(m.clone())),
        Some(_) => Err(ArmError::bad_request(
            "InvalidRequestContent",
            "The 'tags' property must be an object whose values are strings.",
        )),
    }
}

/// Checks a name against a character rule and length range.
pub fn check_name(
    kind: &str,
    name: &str,
    min: usize,
    max: usize,
    first: fn(char) -> bool,
    rest: fn(char) -> bool,
) -> Result<(), ArmError> {
    let len = name.chars().count();
    let mut chars = name.chars();
    let ok = (min..=max).contains(&len) && chars.next().is_some_and(first) && chars.all(rest);
    if ok {
        Ok(())
    } else {
        Err(ArmError::bad_request(
            "InvalidResourceName",
            format!(
                "The {kind} name '{name}' is invalid. It must be {min} to {max} characters long and \
                 use only the allowed characters."
            ),
        ))
    }
}

/// Letters and digits.
pub fn alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

/// Letters, digits, `-` and `_`.
pub fn alnum_dash_underscore(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// A `properties` object from a body (absent → empty; not an object → 400).
pub fn properties(
    body: &serde_json::Map<String, Value>,
) -> Result<serde_json::Map<String, Value>, ArmError> {
    match body.get("properties") {
        None | Some(Value::Null) => Ok(serde_json::Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(ArmError::bad_request(
            "InvalidRequestContent",
            "The 'properties' property must be an object.",
        )),
    }
}

/// Whether [`apply_response_quirks`] may change a body under these quirks.
pub fn response_quirks_change(q: &crate::config::Quirks) -> bool {
    q.recase_enums || q.alternate_timestamps
}

/// Applies the response-shape quirks shared by every provider resource.
pub fn apply_response_quirks(body: &mut Value, q: &crate::config::Quirks) {
    if q.recase_enums {
        if let Some(Value::String(t)) = body.pointer_mut("/identity/type") {
            *t = t
                .split(',')
                .map(|p| lower_first(p.trim_start()))
                .collect::<Vec<_>>()
                .join(",");
        }
        if let Some(Value::String(m)) = body.pointer_mut("/properties/systemDatastoresAuthMode") {
            *m = lower_first(m);
        }
    }
    if q.alternate_timestamps {
        rewrite_timestamps(body);
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

fn rewrite_timestamps(v: &mut Value) {
    use time::format_description::well_known::Rfc3339;
    match v {
        Value::String(s) => {
            if s.len() >= 20
                && s.as_bytes().get(10) == Some(&b'T')
                && let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339)
            {
                let fmt = time::macros::format_description!(
                    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]+00:00"
                );
                if let Ok(out) = t.format(&fmt) {
                    *s = out;
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(rewrite_timestamps),
        Value::Object(m) => m.values_mut().for_each(rewrite_timestamps),
        _ => {}
    }
}
