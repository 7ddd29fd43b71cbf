//! `Microsoft.Authorization/roleAssignments` at any scope: create, get, delete, list (paged
//! like ARM's, through `nextLink`).

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::arm::{Req, method_not_allowed};
use crate::error::ArmError;
use crate::state::{Kind, Resource};
use crate::util::now_rfc3339;

use super::json_answer;

/// Full type name.
pub const TYPE: &str = "Microsoft.Authorization/roleAssignments";

/// Canonical id of an assignment.
pub fn id(scope: &str, name: &str) -> String {
    format!(
        "{}/providers/Microsoft.Authorization/roleAssignments/{name}",
        scope.trim_end_matches('/')
    )
}

fn is_guid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok() && s.len() == 36
}

/// Checks a role definition id: `[/subscriptions/{s}]/providers/Microsoft.Authorization/roleDefinitions/{guid}`.
fn valid_role_definition(id: &str) -> bool {
    let segs: Vec<&str> = id.split('/').filter(|s| !s.is_empty()).collect();
    let tail = match segs.as_slice() {
        [s, _, rest @ ..] if s.eq_ignore_ascii_case("subscriptions") => rest,
        rest => rest,
    };
    matches!(tail, [p, ns, t, g] if p.eq_ignore_ascii_case("providers")
        && ns.eq_ignore_ascii_case("Microsoft.Authorization")
        && t.eq_ignore_ascii_case("roleDefinitions")
        && is_guid(g))
}

fn role_guid(id: &str) -> String {
    id.rsplit('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// Builds a stored assignment.
pub fn build(
    scope: &str,
    name: &str,
    role_definition_id: &str,
    principal_id: &str,
    principal_type: &str,
) -> Resource {
    let now = now_rfc3339();
    let id = id(scope, name);
    Resource {
        id: id.clone(),
        kind: Kind::RoleAssignment,
        body: json!({
            "id": id,
            "name": name,
            "type": TYPE,
            "properties": {
                "roleDefinitionId": role_definition_id,
                "principalId": principal_id,
                "principalType": principal_type,
                "scope": scope,
                "condition": null,
                "conditionVersion": null,
                "createdOn": now,
                "updatedOn": now,
                "createdBy": null,
                "updatedBy": null,
                "delegatedManagedIdentityResourceId": null,
                "description": null,
            },
        }),
        private: Value::Null,
    }
}

fn not_found(name: &str) -> ArmError {
    ArmError::not_found(
        "RoleAssignmentNotFound",
        format!("The role assignment '{name}' is not found."),
    )
}

/// Parsed `$filter`.
#[derive(Debug, Default, PartialEq, Eq)]
struct Filter {
    at_scope: bool,
    principal: Option<String>,
}

fn parse_filter(raw: Option<&String>) -> Result<Filter, ArmError> {
    let mut f = Filter::default();
    let Some(raw) = raw else { return Ok(f) };
    for part in raw.split(" and ") {
        let p = part.trim();
        if p.eq_ignore_ascii_case("atScope()") {
            f.at_scope = true;
        } else if let Some(rest) = p
            .strip_prefix("principalId eq ")
            .or_else(|| p.strip_prefix("assignedTo("))
        {
            f.principal = Some(rest.trim_matches(|c| c == '\'' || c == ')').to_string());
        } else {
            return Err(ArmError::bad_request(
                "InvalidFilterInQueryString",
                format!("The filter '{raw}' is not supported."),
            ));
        }
    }
    Ok(f)
}

fn is_prefix_scope(ancestor: &str, scope: &str) -> bool {
    let a = ancestor.trim_end_matches('/').to_ascii_lowercase();
    let s = scope.trim_end_matches('/').to_ascii_lowercase();
    s == a || s.starts_with(&format!("{a}/"))
}

/// Dispatches `{scope}/providers/Microsoft.Authorization/roleAssignments[/{name}]`.
pub fn handle(
    req: &Req<'_>,
    sub: &str,
    scope: &str,
    name: Option<&str>,
) -> Result<Response, ArmError> {
    let app = req.app;
    let Some(name) = name else {
        if req.method != Method::GET {
            return Err(method_not_allowed(&req.method));
        }
        let filter = parse_filter(req.query.get("$filter"))?;
        let state = app.state()?;
        let items = state
            .resources
            .values()
            .filter(|r| r.kind == Kind::RoleAssignment)
            .filter(|r| {
                let s = r.body["properties"]["scope"].as_str().unwrap_or_default();
                // Assignments that apply at the scope (it or an ancestor); without
                // atScope() also those below it.
                is_prefix_scope(s, scope) || (!filter.at_scope && is_prefix_scope(scope, s))
            })
            .filter(|r| {
                filter.principal.as_deref().is_none_or(|p| {
                    r.body["properties"]["principalId"]
                        .as_str()
                        .is_some_and(|x| x.eq_ignore_ascii_case(p))
                })
            })
            .map(|r| r.body.clone())
            .collect();
        drop(state);
        // Filtered first, then paged: each page holds only matching assignments.
        return super::paging::answer(req, items, app.quirks().list_page_size);
    };
    let _ = sub;
    let rid = id(scope, name);
    match req.method {
        Method::GET => {
            let state = app.state()?;
            if app.take_pending_not_found(&rid.to_ascii_lowercase()) {
                return Err(not_found(name));
            }
            state
                .get(&rid)
                .map(|r| axum::Json(r.body.clone()).into_response())
                .ok_or_else(|| not_found(name))
        }
        Method::PUT => {
            if !is_guid(name) {
                return Err(ArmError::bad_request(
                    "InvalidRoleAssignmentId",
                    format!(
                        "The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID."
                    ),
                ));
            }
            let body = req.json_object()?;
            let props = super::properties(&body)?;
            let role = props
                .get("roleDefinitionId")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !valid_role_definition(role) {
                return Err(ArmError::bad_request(
                    "InvalidRoleDefinitionId",
                    format!("The role definition ID '{role}' is not valid."),
                ));
            }
            let principal = props
                .get("principalId")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !is_guid(principal) {
                return Err(ArmError::bad_request(
                    "InvalidPrincipalId",
                    format!("The principal ID '{principal}' is not valid. It must be a GUID."),
                ));
            }
            let principal_type = props
                .get("principalType")
                .and_then(Value::as_str)
                .unwrap_or("ServicePrincipal")
                .to_string();
            let mut state = app.state()?;
            let known = state.known_principal(principal)
                || app
                    .config_clients
                    .iter()
                    .any(|c| c.client_id.eq_ignore_ascii_case(principal))
                || state
                    .clients
                    .iter()
                    .any(|c| c.client_id.eq_ignore_ascii_case(principal))
                || principal.eq_ignore_ascii_case(crate::auth::SYSTEM_MANAGED_IDENTITY_OBJECT_ID);
            if !known {
                return Err(ArmError::bad_request(
                    "PrincipalNotFound",
                    format!(
                        "Principal {} does not exist in the directory {}.",
                        principal.replace('-', ""),
                        app.tenant_id
                    ),
                ));
            }
            if let Some(existing) = state.get(&rid) {
                let p = &existing.body["properties"];
                let same = p["principalId"]
                    .as_str()
                    .is_some_and(|x| x.eq_ignore_ascii_case(principal))
                    && p["roleDefinitionId"]
                        .as_str()
                        .is_some_and(|x| role_guid(x) == role_guid(role));
                if !same {
                    return Err(ArmError::conflict(
                        "RoleAssignmentUpdateNotPermitted",
                        "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
                    ));
                }
                return Ok(json_answer(StatusCode::CREATED, existing.body.clone()));
            }
            let duplicate = state.resources.values().any(|r| {
                r.kind == Kind::RoleAssignment && {
                    let p = &r.body["properties"];
                    p["scope"].as_str().is_some_and(|s| {
                        s.trim_end_matches('/')
                            .eq_ignore_ascii_case(scope.trim_end_matches('/'))
                    }) && p["principalId"]
                        .as_str()
                        .is_some_and(|x| x.eq_ignore_ascii_case(principal))
                        && p["roleDefinitionId"]
                            .as_str()
                            .is_some_and(|x| role_guid(x) == role_guid(role))
                }
            });
            if duplicate {
                return Err(ArmError::conflict(
                    "RoleAssignmentExists",
                    "The role assignment already exists.",
                ));
            }
            let mut res = build(scope, name, role, principal, &principal_type);
            // ARM keeps the caller's description (azurerm_role_assignment sends one).
            if let Some(d) = props.get("description").filter(|d| d.is_string()) {
                res.body["properties"]["description"] = d.clone();
            }
            let out = res.body.clone();
            state.put(res);
            app.commit(&mut state)?;
            if let Some(n) = req.faults.not_found_reads {
                app.arm_pending_not_found(&rid.to_ascii_lowercase(), n);
            }
            Ok(json_answer(StatusCode::CREATED, out))
        }
        Method::DELETE => {
            let mut state = app.state()?;
            match state.remove_tree(&rid) {
                Some(r) => {
                    app.commit(&mut state)?;
                    Ok(axum::Json(r.body).into_response())
                }
                None => Ok(StatusCode::NO_CONTENT.into_response()),
            }
        }
        ref m => Err(method_not_allowed(m)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_definition_ids_are_checked() {
        assert!(valid_role_definition(
            "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"
        ));
        assert!(valid_role_definition(
            "/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"
        ));
        assert!(!valid_role_definition(
            "/providers/Microsoft.Authorization/roleDefinitions/contributor"
        ));
    }

    #[test]
    fn filters_parse() {
        let f = parse_filter(Some(&"atScope() and principalId eq 'abc'".to_string())).unwrap();
        assert_eq!(
            f,
            Filter {
                at_scope: true,
                principal: Some("abc".into())
            }
        );
        assert!(parse_filter(Some(&"name eq 'x'".to_string())).is_err());
    }

    #[test]
    fn scope_prefixes() {
        assert!(is_prefix_scope(
            "/subscriptions/s",
            "/subscriptions/S/resourceGroups/r"
        ));
        assert!(!is_prefix_scope(
            "/subscriptions/s/resourceGroups/r",
            "/subscriptions/s/resourceGroups/r2"
        ));
    }
}
