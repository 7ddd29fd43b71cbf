//! The `identity` property shared by workspaces, computes and registries: parsing,
//! the documented rejections, and filling in the read-only ids.

use serde_json::{Map, Value, json};

use crate::config::Shapes;
use crate::error::ArmError;
use crate::state::{Kind, State};
use crate::util::new_guid;

/// Which service's rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// ML workspace: `SystemAssigned,UserAssigned` (no space) allowed.
    Workspace,
    /// ML compute: one system-assigned or user-assigned identities, never both.
    Compute,
    /// Container registry: spaced combined form.
    Registry,
}

/// A validated identity request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRequest {
    /// System-assigned identity on.
    pub system: bool,
    /// User-assigned identity ids (canonical casing from the stored identities).
    pub user: Vec<String>,
}

impl IdentityRequest {
    /// No identity at all.
    pub fn none() -> Self {
        Self {
            system: false,
            user: Vec::new(),
        }
    }

    /// The wire `type` for a flavor.
    pub fn type_name(&self, flavor: Flavor) -> &'static str {
        match (self.system, !self.user.is_empty(), flavor) {
            (true, true, Flavor::Registry) => "SystemAssigned, UserAssigned",
            (true, true, _) => "SystemAssigned,UserAssigned",
            (true, false, _) => "SystemAssigned",
            (false, true, _) => "UserAssigned",
            (false, false, _) => "None",
        }
    }
}

fn bad(message: impl Into<String>) -> ArmError {
    ArmError::bad_request("BadRequest", message)
}

/// Parses a type string; returns (system, user).
fn parse_type(raw: &str, flavor: Flavor) -> Result<(bool, bool), ArmError> {
    let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    let has_space = compact.len() != raw.len();
    let parsed = match compact.to_ascii_lowercase().as_str() {
        "none" => Some((false, false)),
        "systemassigned" => Some((true, false)),
        "userassigned" => Some((false, true)),
        "systemassigned,userassigned" => Some((true, true)),
        _ => None,
    };
    match parsed {
        // ML services accept only the unspaced combined value.
        Some((true, true)) if has_space && flavor != Flavor::Registry => Err(bad(format!(
            "The identity type '{raw}' is invalid. Allowed values are 'None', 'SystemAssigned', \
             'UserAssigned' and 'SystemAssigned,UserAssigned'."
        ))),
        Some(p) => Ok(p),
        None => Err(bad(format!("The identity type '{raw}' is invalid."))),
    }
}

/// Checks that `id` names a user-assigned identity and returns its canonical id.
fn resolve_identity(state: &State, id: &str) -> Result<String, ArmError> {
    let segs: Vec<&str> = id.split('/').filter(|s| !s.is_empty()).collect();
    let shaped = segs.len() == 8
        && segs[0].eq_ignore_ascii_case("subscriptions")
        && segs[2].eq_ignore_ascii_case("resourceGroups")
        && segs[4].eq_ignore_ascii_case("providers")
        && segs[5].eq_ignore_ascii_case("Microsoft.ManagedIdentity")
        && segs[6].eq_ignore_ascii_case("userAssignedIdentities");
    if !shaped {
        return Err(bad(format!(
            "'{id}' is not a valid user-assigned identity resource id."
        )));
    }
    match state.get(id) {
        Some(r) if r.kind == Kind::Identity => Ok(r.id.clone()),
        _ => Err(ArmError::bad_request(
            "FailedIdentityOperation",
            format!("Identity operation failed: the user-assigned identity '{id}' was not found."),
        )),
    }
}

/// Validates an `identity` value (absent → `None`).
pub fn parse(
    state: &State,
    identity: Option<&Value>,
    flavor: Flavor,
) -> Result<Option<IdentityRequest>, ArmError> {
    let obj = match identity {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(o)) => o,
        Some(_) => return Err(bad("The 'identity' property must be an object.")),
    };
    let Some(raw_type) = obj.get("type").and_then(Value::as_str) else {
        return Err(bad("The identity 'type' is required."));
    };
    let (system, user) = parse_type(raw_type, flavor)?;
    let uai = obj.get("userAssignedIdentities").filter(|v| !v.is_null());
    if !user && uai.is_some() {
        return Err(bad(format!(
            "Invalid identity: a non-UserAssigned identity type should not contain: \
             userAssignedIdentities (type was '{raw_type}')."
        )));
    }
    if flavor == Flavor::Compute && system && user {
        return Err(bad(
            "A compute can have either a system-assigned identity or user-assigned identities, not both.",
        ));
    }
    let mut ids = Vec::new();
    if user {
        let Some(Value::Object(map)) = uai else {
            return Err(bad(
                "The 'userAssignedIdentities' property must be provided when the identity type includes UserAssigned.",
            ));
        };
        for (id, v) in map {
            // `null` values remove an identity in update requests.
            if v.is_null() {
                continue;
            }
            if !v.is_object() {
                return Err(bad(format!(
                    "The value for user-assigned identity '{id}' must be an object (send {{}})."
                )));
            }
            let canonical = resolve_identity(state, id)?;
            if !ids
                .iter()
                .any(|x: &String| x.eq_ignore_ascii_case(&canonical))
            {
                ids.push(canonical);
            }
        }
        if ids.is_empty() {
            return Err(bad(
                "At least one user-assigned identity is required when the identity type includes UserAssigned.",
            ));
        }
    }
    Ok(Some(IdentityRequest { system, user: ids }))
}

/// Builds the stored `identity` object, keeping the system principal when it stays on.
pub fn build(
    state: &State,
    req: &IdentityRequest,
    previous: Option<&Value>,
    tenant: &str,
    flavor: Flavor,
) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), json!(req.type_name(flavor)));
    if req.system {
        let prev_principal = previous
            .and_then(|p| p.get("principalId"))
            .and_then(Value::as_str)
            .filter(|_| {
                previous
                    .and_then(|p| p.get("type"))
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.to_ascii_lowercase().contains("systemassigned"))
            });
        out.insert(
            "principalId".into(),
            json!(prev_principal.map(str::to_string).unwrap_or_else(new_guid)),
        );
        out.insert("tenantId".into(), json!(tenant));
    }
    if !req.user.is_empty() {
        let mut map = Map::new();
        for id in &req.user {
            let props = state
                .get(id)
                .map(|r| r.body["properties"].clone())
                .unwrap_or(Value::Null);
            map.insert(
                id.clone(),
                json!({"principalId": props["principalId"], "clientId": props["clientId"]}),
            );
        }
        out.insert("userAssignedIdentities".into(), Value::Object(map));
    }
    Value::Object(out)
}

/// The request that a stored identity represents (for transition checks).
pub fn from_stored(identity: Option<&Value>) -> IdentityRequest {
    let Some(v) = identity else {
        return IdentityRequest::none();
    };
    let t = v
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("None")
        .to_ascii_lowercase();
    IdentityRequest {
        system: t.contains("systemassigned"),
        user: v
            .get("userAssignedIdentities")
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default(),
    }
}

/// Shapes the `identity` of a rendered compute or registry body. With reality's shapes a
/// resource without an identity has no `identity` key at all (not `{"type": "None"}`), and a
/// registry reports its `type` in lower camel case (`systemAssigned, userAssigned`).
pub fn render_shape(body: &mut Value, shapes: Shapes, flavor: Flavor) {
    if !shapes.reality() {
        return;
    }
    let Some(map) = body.as_object_mut() else {
        return;
    };
    let Some(identity) = map.get("identity") else {
        return;
    };
    if is_none_identity(identity) {
        map.remove("identity");
        return;
    }
    if flavor == Flavor::Registry
        && let Some(Value::String(t)) = map.get_mut("identity").and_then(|i| i.get_mut("type"))
    {
        *t = t
            .split(',')
            .map(|part| {
                let part = part.trim();
                let mut c = part.chars();
                c.next()
                    .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(", ");
    }
}

/// Whether [`render_shape`] may change `body` (when it may not, the stored body can be
/// answered as it is).
pub fn render_shape_changes(body: &Value, shapes: Shapes, flavor: Flavor) -> bool {
    shapes.reality()
        && body
            .get("identity")
            .is_some_and(|i| flavor == Flavor::Registry || is_none_identity(i))
}

/// An `identity` that says there is none (`null`, no `type`, or `type: "None"`).
fn is_none_identity(identity: &Value) -> bool {
    identity
        .get("type")
        .and_then(Value::as_str)
        .is_none_or(|t| t.trim().eq_ignore_ascii_case("none"))
}

/// Whether [`recase_keys`] may change `identity`.
pub fn recase_keys_changes(identity: &Value) -> bool {
    identity
        .get("userAssignedIdentities")
        .and_then(Value::as_object)
        .is_some_and(|m| !m.is_empty())
}

/// Lower-cases the user-assigned identity keys (ARM's response re-casing).
pub fn recase_keys(identity: &mut Value) {
    if let Some(Value::Object(map)) = identity.get_mut("userAssignedIdentities") {
        let entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
        for (k, v) in entries {
            map.insert(super::recase::identity_id(&k), v);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reality_drops_a_none_identity_and_recases_registry_types() {
        let mut c = json!({"identity": {"type": "None"}, "name": "c"});
        render_shape(&mut c, Shapes::Reality, Flavor::Compute);
        assert_eq!(c, json!({"name": "c"}));
        let mut spec = json!({"identity": {"type": "None"}});
        render_shape(&mut spec, Shapes::Spec, Flavor::Compute);
        assert_eq!(spec, json!({"identity": {"type": "None"}}));
        let mut r = json!({"identity": {"type": "SystemAssigned, UserAssigned"}});
        render_shape(&mut r, Shapes::Reality, Flavor::Registry);
        assert_eq!(r["identity"]["type"], "systemAssigned, userAssigned");
        let mut w = json!({"identity": {"type": "SystemAssigned"}});
        render_shape(&mut w, Shapes::Reality, Flavor::Compute);
        assert_eq!(w["identity"]["type"], "SystemAssigned");
    }

    use super::*;

    #[test]
    fn ml_rejects_spaced_combined_type_but_registry_accepts_it() {
        assert!(parse_type("SystemAssigned, UserAssigned", Flavor::Workspace).is_err());
        assert_eq!(
            parse_type("SystemAssigned, UserAssigned", Flavor::Registry).unwrap(),
            (true, true)
        );
        assert_eq!(
            parse_type("systemassigned,userassigned", Flavor::Workspace).unwrap(),
            (true, true)
        );
        assert!(parse_type("Both", Flavor::Compute).is_err());
    }

    #[test]
    fn user_assigned_map_with_system_type_is_rejected() {
        let s = State::new();
        let v = json!({"type": "SystemAssigned", "userAssignedIdentities": {"/x": {}}});
        let e = parse(&s, Some(&v), Flavor::Workspace).unwrap_err();
        assert!(e.message.contains("non-UserAssigned"), "{}", e.message);
    }

    #[test]
    fn compute_rejects_both_kinds() {
        let s = State::new();
        let v =
            json!({"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {"/x": {}}});
        assert!(
            parse(&s, Some(&v), Flavor::Compute)
                .unwrap_err()
                .message
                .contains("not both")
        );
    }

    #[test]
    fn missing_identity_resource_is_rejected() {
        let s = State::new();
        let id = "/subscriptions/s/resourceGroups/r/providers/Microsoft.ManagedIdentity/userAssignedIdentities/u";
        let v = json!({"type": "UserAssigned", "userAssignedIdentities": {id: {}}});
        assert_eq!(
            parse(&s, Some(&v), Flavor::Workspace).unwrap_err().code,
            "FailedIdentityOperation"
        );
    }
}
