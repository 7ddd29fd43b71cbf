//! The ARM front door: bearer check, api-version, subscription and resource-group checks,
//! then dispatch to the resource handlers.

use std::borrow::Cow;
use std::collections::HashMap;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::api_versions::{self, ResourceType};
use crate::app::App;
use crate::auth;
use crate::error::ArmError;
use crate::faults::FaultOutcome;
use crate::lro;
use crate::resources::{
    cloud, compute, datastore, registry, resource_group, role_assignment, role_definition,
    user_assigned_identity, workspace, workspace_keys,
};
use crate::state::Kind;

/// A request on its way to a resource handler.
pub struct Req<'a> {
    /// Shared state.
    pub app: &'a App,
    /// HTTP method.
    pub method: Method,
    /// Raw path.
    pub path: String,
    /// Query parameters (keys lower-cased).
    pub query: HashMap<String, String>,
    /// Body bytes.
    pub body: Bytes,
    /// The `api-version` sent.
    pub api_version: String,
    /// Deferred fault effects.
    pub faults: FaultOutcome,
}

impl Req<'_> {
    /// The body as a JSON object (400 `InvalidRequestContent` otherwise).
    pub fn json_object(&self) -> Result<serde_json::Map<String, Value>, ArmError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err(ArmError::bad_request(
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: the body is empty.",
            ));
        }
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err(ArmError::invalid_json("the body must be a JSON object")),
            Err(e) => Err(ArmError::invalid_json(&e.to_string())),
        }
    }

    /// A boolean query parameter (`true`/`false`, case-insensitive); 400 when malformed.
    pub fn bool_query(&self, name: &str) -> Result<bool, ArmError> {
        match self.query.get(&name.to_ascii_lowercase()) {
            None => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(ArmError::bad_request(
                "InvalidQueryParameterValue",
                format!("The value '{v}' of query parameter '{name}' is not a valid boolean."),
            )),
        }
    }

    /// Poll target for an operation in this request's subscription.
    pub fn poll_target(
        &self,
        sub: &str,
        namespace: &'static str,
        location: &str,
    ) -> lro::PollTarget {
        lro::PollTarget {
            subscription: sub.to_string(),
            namespace,
            location: location.to_string(),
            api_version: self.api_version.clone(),
        }
    }
}

/// A parsed ARM path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/subscriptions`.
    SubscriptionList,
    /// `/tenants`.
    Tenants,
    /// `/subscriptions/{s}[/resourcegroups/{rg}]/resources`.
    Resources(String, Option<String>),
    /// `{scope}/providers/Microsoft.Authorization/roleDefinitions[/{id}]`; the scope may be
    /// empty (tenant-level ids) or any ARM scope.
    RoleDefinitions {
        /// Subscription of the scope, if any.
        sub: Option<String>,
        /// Role definition GUID.
        name: Option<String>,
    },
    /// `/subscriptions/{s}`.
    Subscription(String),
    /// `/subscriptions/{s}/resourcegroups`.
    ResourceGroups(String),
    /// `/subscriptions/{s}/providers[/{namespace}]`.
    Providers(String, Option<String>),
    /// `/subscriptions/{s}/resourcegroups/{rg}`.
    ResourceGroup(String, String),
    /// `/subscriptions/{s}/providers/{ns}/{type}`: a type's collection across the subscription.
    SubscriptionCollection {
        /// Subscription.
        sub: String,
        /// Namespace as sent.
        ns: String,
        /// The type segment.
        rest: Vec<String>,
    },
    /// `/subscriptions/{s}/providers/{ns}/locations/{loc}/{segment}/{id}`.
    Operation {
        /// Subscription.
        sub: String,
        /// `operationStatuses` or `operationResults`.
        segment: String,
        /// Operation id.
        id: String,
    },
    /// `{scope}/providers/Microsoft.Authorization/roleAssignments[/{name}]`.
    RoleAssignments {
        /// Subscription of the scope.
        sub: String,
        /// Resource group of the scope, if any.
        rg: Option<String>,
        /// Scope path.
        scope: String,
        /// Assignment name.
        name: Option<String>,
    },
    /// `/subscriptions/{s}/resourcegroups/{rg}/providers/{ns}/...`.
    Provider {
        /// Subscription.
        sub: String,
        /// Resource group.
        rg: String,
        /// Namespace as sent.
        ns: String,
        /// Segments after the namespace.
        rest: Vec<String>,
    },
}

/// Splits and decodes a path; `None` when it is no ARM path we know.
pub fn parse_route(path: &str) -> Option<Route> {
    // Borrowed unless a segment has escapes: only the segments a route keeps are copied.
    let segs: Vec<Cow<'_, str>> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy())
        .collect();
    let own = |i: usize| segs.get(i).map(|s| s.to_string());
    let own_from = |i: usize| segs[i..].iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let eq = |i: usize, s: &str| segs.get(i).is_some_and(|x| x.eq_ignore_ascii_case(s));
    // Role definitions can be read at any scope, including none (`/providers/…`). The
    // Authorization segments are matched first so that a scope that is itself a resource
    // (`…/registries/r/providers/Microsoft.Authorization/…`) is not taken for a child type.
    if let Some(i) = (0..segs.len()).find(|&i| {
        eq(i, "providers") && eq(i + 1, "Microsoft.Authorization") && eq(i + 2, "roleDefinitions")
    }) {
        if segs.len() > i + 4 || (i > 0 && !eq(0, "subscriptions")) {
            return None;
        }
        return Some(Route::RoleDefinitions {
            sub: if i >= 2 { own(1) } else { None },
            name: own(i + 3),
        });
    }
    match segs.as_slice() {
        [s] if s.eq_ignore_ascii_case("subscriptions") => return Some(Route::SubscriptionList),
        [t] if t.eq_ignore_ascii_case("tenants") => return Some(Route::Tenants),
        _ => {}
    }
    if !eq(0, "subscriptions") || segs.len() < 2 {
        return None;
    }
    let sub = segs[1].to_string();
    if segs.len() == 3 && eq(2, "resources") {
        return Some(Route::Resources(sub, None));
    }
    if segs.len() == 5 && eq(2, "resourcegroups") && eq(4, "resources") {
        return Some(Route::Resources(sub, Some(segs[3].to_string())));
    }
    // Role assignments can sit under any scope.
    if let Some(i) = (0..segs.len()).find(|&i| {
        eq(i, "providers") && eq(i + 1, "Microsoft.Authorization") && eq(i + 2, "roleAssignments")
    }) {
        if segs.len() > i + 4 {
            return None;
        }
        let scope = format!("/{}", segs[..i].join("/"));
        let rg = if eq(2, "resourcegroups") {
            own(3)
        } else {
            None
        };
        return Some(Route::RoleAssignments {
            sub,
            rg,
            scope,
            name: own(i + 3),
        });
    }
    match segs.len() {
        2 => return Some(Route::Subscription(sub)),
        3 if eq(2, "resourcegroups") => return Some(Route::ResourceGroups(sub)),
        3 if eq(2, "providers") => return Some(Route::Providers(sub, None)),
        4 if eq(2, "providers") => return Some(Route::Providers(sub, Some(segs[3].to_string()))),
        4 if eq(2, "resourcegroups") => {
            return Some(Route::ResourceGroup(sub, segs[3].to_string()));
        }
        5 if eq(2, "providers") => {
            return Some(Route::SubscriptionCollection {
                sub,
                ns: segs[3].to_string(),
                rest: own_from(4),
            });
        }
        8 if eq(2, "providers") && eq(4, "locations") => {
            return Some(Route::Operation {
                sub,
                segment: segs[6].to_string(),
                id: segs[7].to_string(),
            });
        }
        _ => {}
    }
    if eq(2, "resourcegroups") && eq(4, "providers") && segs.len() >= 7 {
        return Some(Route::Provider {
            sub,
            rg: segs[3].to_string(),
            ns: segs[5].to_string(),
            rest: own_from(6),
        });
    }
    None
}

/// Which resource type a provider route addresses (for api-version checks).
fn provider_type(ns: &str, rest: &[String]) -> Result<ResourceType, ArmError> {
    let t = |i: usize| rest.get(i).map(|s| s.to_ascii_lowercase());
    let ns_l = ns.to_ascii_lowercase();
    let rt = match (ns_l.as_str(), t(0).as_deref()) {
        ("microsoft.machinelearningservices", Some("workspaces")) => match t(2).as_deref() {
            None | Some("listkeys" | "resynckeys") => ResourceType::Workspaces,
            Some("computes") => ResourceType::Computes,
            Some("datastores") => ResourceType::Datastores,
            Some(other) => return Err(invalid_type(ns, &format!("workspaces/{other}"))),
        },
        ("microsoft.containerregistry", Some("registries")) => ResourceType::Registries,
        ("microsoft.managedidentity", Some("userassignedidentities")) => {
            ResourceType::UserAssignedIdentities
        }
        (
            "microsoft.machinelearningservices"
            | "microsoft.containerregistry"
            | "microsoft.managedidentity",
            Some(other),
        ) => return Err(invalid_type(ns, other)),
        _ => {
            return Err(ArmError::bad_request(
                "InvalidResourceNamespace",
                format!("The resource namespace '{ns}' is invalid."),
            ));
        }
    };
    Ok(rt)
}

fn invalid_type(ns: &str, t: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidResourceType",
        format!("The resource type '{t}' could not be found in the namespace '{ns}'."),
    )
}

/// The subscription's 404.
pub fn subscription_not_found(sub: &str) -> ArmError {
    ArmError::not_found(
        "SubscriptionNotFound",
        format!("The subscription '{sub}' could not be found."),
    )
}

/// The resource group's 404.
pub fn resource_group_not_found(rg: &str) -> ArmError {
    ArmError::not_found(
        "ResourceGroupNotFound",
        format!("Resource group '{rg}' could not be found."),
    )
}

/// Handles one ARM request (after faults were applied).
pub fn handle(
    app: &App,
    method: Method,
    path: &str,
    query: HashMap<String, String>,
    headers: &HeaderMap,
    body: Bytes,
    faults: FaultOutcome,
) -> Response {
    // `keepOld`: remember the resource and put it back once the write is answered.
    let keep_old = faults.keep_old;
    let kept = keep_old.and_then(|_| app.state().ok()?.get(path).cloned());
    let answer_query = keep_old.filter(|a| *a).map(|_| query.clone());
    let resp = match handle_inner(app, method, path, query, headers, body, faults) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    if let Some(old) = kept
        && let Ok(mut state) = app.state()
    {
        state.put(old);
        if let Err(e) = app.commit(&mut state) {
            return e.into_response();
        }
        drop(state);
        if let Some(q) = answer_query {
            let get = handle_inner(
                app,
                Method::GET,
                path,
                q,
                headers,
                Bytes::new(),
                FaultOutcome::default(),
            );
            return get.unwrap_or_else(|e| e.into_response());
        }
    }
    resp
}

fn handle_inner(
    app: &App,
    method: Method,
    path: &str,
    query: HashMap<String, String>,
    headers: &HeaderMap,
    body: Bytes,
    faults: FaultOutcome,
) -> Result<Response, ArmError> {
    auth::authenticate(app, headers)?;
    let api_version = query
        .get("api-version")
        .filter(|v| !v.is_empty())
        .cloned()
        .ok_or_else(api_versions::missing)?;
    let route = parse_route(path).ok_or_else(|| {
        ArmError::not_found(
            "NotFound",
            format!("No ARM route matches the path '{path}'."),
        )
    })?;
    let req = Req {
        app,
        method,
        path: path.to_string(),
        query,
        body,
        api_version,
        faults,
    };
    // Routes above any one subscription.
    match &route {
        Route::SubscriptionList => {
            api_versions::check(ResourceType::Subscriptions, &req.api_version, "global")?;
            return cloud::list_subscriptions(&req);
        }
        Route::Tenants => {
            api_versions::check(ResourceType::Subscriptions, &req.api_version, "global")?;
            return cloud::list_tenants(&req);
        }
        Route::RoleDefinitions { sub, name } => {
            api_versions::check(ResourceType::RoleDefinitions, &req.api_version, "global")?;
            if let Some(s) = sub
                && !app.state()?.has_subscription(s)
            {
                return Err(subscription_not_found(s));
            }
            return role_definition::handle(&req, sub.as_deref(), name.as_deref());
        }
        _ => {}
    }
    let sub = match &route {
        Route::SubscriptionList | Route::Tenants | Route::RoleDefinitions { .. } => String::new(),
        Route::Resources(s, _) => s.clone(),
        Route::Subscription(s)
        | Route::ResourceGroups(s)
        | Route::Providers(s, _)
        | Route::ResourceGroup(s, _)
        | Route::Operation { sub: s, .. }
        | Route::RoleAssignments { sub: s, .. }
        | Route::SubscriptionCollection { sub: s, .. }
        | Route::Provider { sub: s, .. } => s.clone(),
    };
    let rg_location = |rg: &str| -> Result<Option<String>, ArmError> {
        let state = app.state()?;
        Ok(state
            .get(&resource_group::rg_id(&sub, rg))
            .map(|r| r.body["location"].as_str().unwrap_or("global").to_string()))
    };
    if !app.state()?.has_subscription(&sub) {
        return Err(subscription_not_found(&sub));
    }
    match route {
        Route::SubscriptionList | Route::Tenants | Route::RoleDefinitions { .. } => {
            Err(ArmError::not_found("NotFound", "No route."))
        }
        Route::Resources(_, rg) => {
            api_versions::check(ResourceType::Subscriptions, &req.api_version, "global")?;
            if let Some(rg) = &rg
                && rg_location(rg)?.is_none()
            {
                return Err(resource_group_not_found(rg));
            }
            cloud::list_resources(&req, &sub, rg.as_deref())
        }
        Route::Subscription(_) => {
            api_versions::check(ResourceType::Subscriptions, &req.api_version, "global")?;
            resource_group::subscription(&req, &sub)
        }
        Route::ResourceGroups(_) => {
            api_versions::check(ResourceType::ResourceGroups, &req.api_version, "global")?;
            resource_group::list(&req, &sub)
        }
        Route::Providers(_, ns) => {
            api_versions::check(ResourceType::Subscriptions, &req.api_version, "global")?;
            resource_group::providers(&req, &sub, ns.as_deref())
        }
        Route::ResourceGroup(_, rg) => {
            api_versions::check(ResourceType::ResourceGroups, &req.api_version, "global")?;
            resource_group::handle(&req, &sub, &rg)
        }
        Route::Operation { segment, id, .. } => operation(&req, &segment, &id),
        Route::SubscriptionCollection { ns, rest, .. } => {
            let rt = provider_type(&ns, &rest)?;
            api_versions::check(rt, &req.api_version, "global")?;
            if req.method != Method::GET {
                return Err(method_not_allowed(&req.method));
            }
            match rt {
                ResourceType::Workspaces => workspace::list_in_subscription(&req, &sub),
                _ => Err(invalid_type(&ns, &rest.join("/"))),
            }
        }
        Route::RoleAssignments {
            rg, scope, name, ..
        } => {
            api_versions::check(ResourceType::RoleAssignments, &req.api_version, "global")?;
            if let Some(rg) = &rg
                && rg_location(rg)?.is_none()
            {
                return Err(resource_group_not_found(rg));
            }
            role_assignment::handle(&req, &sub, &scope, name.as_deref())
        }
        Route::Provider { rg, ns, rest, .. } => {
            let rt = provider_type(&ns, &rest)?;
            let location = rg_location(&rg)?;
            api_versions::check(
                rt,
                &req.api_version,
                location.as_deref().unwrap_or("global"),
            )?;
            let Some(_) = location else {
                return Err(resource_group_not_found(&rg));
            };
            let rg_name = {
                let state = app.state()?;
                state
                    .get(&resource_group::rg_id(&sub, &rg))
                    .and_then(|r| r.body["name"].as_str().map(str::to_string))
                    .unwrap_or(rg)
            };
            let scope = ResourceScope {
                sub: sub.clone(),
                rg: rg_name,
            };
            // HEAD is ARM's existence check: the GET's outcome as 204 or 404, without a body.
            let head = req.method == Method::HEAD;
            let req = if head {
                Req {
                    method: Method::GET,
                    ..req
                }
            } else {
                req
            };
            let answer = match rt {
                ResourceType::Workspaces if rest.len() == 3 => {
                    workspace_keys::handle(&req, &scope, &rest[1], &rest[2])
                }
                ResourceType::Workspaces => workspace::route(&req, &scope, &rest),
                ResourceType::Computes => compute::route(&req, &scope, &rest),
                ResourceType::Datastores => datastore::route(&req, &scope, &rest),
                ResourceType::Registries => registry::route(&req, &scope, &rest),
                ResourceType::UserAssignedIdentities => {
                    user_assigned_identity::route(&req, &scope, &rest)
                }
                _ => Err(invalid_type(&ns, &rest.join("/"))),
            };
            if !head {
                return answer;
            }
            Ok(match answer {
                Ok(r) if r.status().is_success() => StatusCode::NO_CONTENT.into_response(),
                Ok(r) => r.status().into_response(),
                Err(e) => e.status.into_response(),
            })
        }
    }
}

/// Subscription and resource group a provider request is scoped to.
#[derive(Debug, Clone)]
pub struct ResourceScope {
    /// Subscription id as sent.
    pub sub: String,
    /// Resource group name as stored.
    pub rg: String,
}

impl ResourceScope {
    /// `/subscriptions/{s}/resourceGroups/{rg}/providers/{ns}`.
    pub fn provider_prefix(&self, ns: &str) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/{ns}",
            self.sub, self.rg
        )
    }
}

/// `GET` on an operation status or result URL.
fn operation(req: &Req<'_>, segment: &str, id: &str) -> Result<Response, ArmError> {
    if req.method != Method::GET {
        return Err(method_not_allowed(&req.method));
    }
    let state = req.app.state()?;
    let Some(op) = state.operation(id) else {
        return Err(ArmError::not_found(
            "OperationNotFound",
            format!("The operation '{id}' could not be found."),
        ));
    };
    if segment.eq_ignore_ascii_case(lro::STATUS_SEGMENT) {
        return Ok(lro::status_document(req.app, &req.path, op));
    }
    if segment.eq_ignore_ascii_case(lro::RESULT_SEGMENT) {
        let final_body = state
            .resources
            .get(&op.resource_key)
            .map(|r| render(req.app, r));
        let url = format!(
            "{}{}?api-version={}",
            req.app.base_url(),
            req.path,
            req.api_version
        );
        return Ok(lro::location_result(req.app, &url, op, final_body));
    }
    Err(ArmError::not_found(
        "NotFound",
        format!("Unknown operation segment '{segment}'."),
    ))
}

/// Renders any stored resource the way its GET would.
pub fn render(app: &App, r: &crate::state::Resource) -> Value {
    let q = app.quirks();
    match r.kind {
        Kind::Workspace => workspace::render(r, &q),
        Kind::Compute => compute::render(r, &q),
        Kind::Datastore => datastore::render(r, &q),
        Kind::Registry => registry::render(r, &q),
        Kind::Identity | Kind::ResourceGroup | Kind::RoleAssignment => r.body.clone(),
    }
}

/// 405 in ARM's shape.
pub fn method_not_allowed(method: &Method) -> ArmError {
    ArmError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!("The HTTP method '{method}' is not supported for this resource."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_parse_case_insensitively() {
        assert_eq!(
            parse_route("/subscriptions/S/resourcegroups/RG"),
            Some(Route::ResourceGroup("S".into(), "RG".into()))
        );
        let r = parse_route(
            "/subscriptions/S/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w/computes/c",
        );
        assert!(matches!(r, Some(Route::Provider { ref rest, .. }) if rest.len() == 4));
        let ra = parse_route(
            "/subscriptions/S/resourceGroups/rg/providers/microsoft.authorization/roleassignments/abc",
        );
        assert_eq!(
            ra,
            Some(Route::RoleAssignments {
                sub: "S".into(),
                rg: Some("rg".into()),
                scope: "/subscriptions/S/resourceGroups/rg".into(),
                name: Some("abc".into())
            })
        );
        assert_eq!(parse_route("/nope"), None);
        assert_eq!(parse_route("/subscriptions"), Some(Route::SubscriptionList));
        assert_eq!(parse_route("/Tenants"), Some(Route::Tenants));
        assert_eq!(
            parse_route("/subscriptions/S/resourceGroups/rg/Resources"),
            Some(Route::Resources("S".into(), Some("rg".into())))
        );
        // A role definition under a resource scope is not taken for a child resource type.
        assert_eq!(
            parse_route(
                "/subscriptions/S/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r/providers/Microsoft.Authorization/roleDefinitions/g"
            ),
            Some(Route::RoleDefinitions {
                sub: Some("S".into()),
                name: Some("g".into())
            })
        );
        assert_eq!(
            parse_route("/providers/Microsoft.Authorization/roleDefinitions"),
            Some(Route::RoleDefinitions {
                sub: None,
                name: None
            })
        );
    }

    #[test]
    fn provider_types_map_to_api_version_sets() {
        let rest = |s: &str| s.split('/').map(str::to_string).collect::<Vec<_>>();
        assert_eq!(
            provider_type(
                "Microsoft.MachineLearningServices",
                &rest("workspaces/w/datastores/d")
            )
            .unwrap(),
            ResourceType::Datastores
        );
        assert_eq!(
            provider_type(
                "microsoft.containerregistry",
                &rest("registries/r/listCredentials")
            )
            .unwrap(),
            ResourceType::Registries
        );
        assert_eq!(
            provider_type("Microsoft.Foo", &rest("bars/b"))
                .unwrap_err()
                .code,
            "InvalidResourceNamespace"
        );
    }
}
