//! Entra ID stand-in: token endpoint, discovery documents, the App Service managed-identity
//! endpoint, and the bearer-token check every ARM call goes through.

use std::collections::HashMap;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::app::App;
use crate::config::{ClientSecret, Federation, JWT_BEARER_ASSERTION_TYPE};
use crate::error::ArmError;
use crate::state::{IssuedToken, Kind};
use crate::util::{new_guid, now_rfc3339, now_secs};

/// Object id of the system-assigned identity behind the managed-identity endpoint.
pub const SYSTEM_MANAGED_IDENTITY_OBJECT_ID: &str = "5b0c1a7e-0000-4000-8000-00000000a001";

/// Audiences ARM accepts.
const ARM_AUDIENCES: &[&str] = &[
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
];

/// An Entra-style error answer.
fn aad_error(status: StatusCode, error: &str, code: u32, description: &str) -> Response {
    let trace = new_guid();
    let corr = new_guid();
    let now = now_rfc3339();
    let body = json!({
        "error": error,
        "error_description": format!(
            "AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {corr} Timestamp: {now}"
        ),
        "error_codes": [code],
        "timestamp": now,
        "trace_id": trace,
        "correlation_id": corr,
    });
    (status, axum::Json(body)).into_response()
}

fn parse_form(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Decodes a JWT's header and claims without checking its signature.
fn jwt_parts(token: &str) -> Option<(Value, Value)> {
    let mut parts = token.split('.');
    let (header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let decode = |s: &str| -> Option<Value> {
        let bytes = URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()?;
        let v: Value = serde_json::from_slice(&bytes).ok()?;
        v.is_object().then_some(v)
    };
    Some((decode(header)?, decode(payload)?))
}

fn audience_matches(claim: Option<&Value>, wanted: &str) -> bool {
    match claim {
        Some(Value::String(s)) => s == wanted,
        Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(wanted)),
        _ => false,
    }
}

/// Issues and records a token; returns the token string.
fn issue_token(
    app: &App,
    audience: &str,
    object_id: &str,
    app_id: &str,
    grant: &str,
) -> Result<(String, u64), ArmError> {
    let lifetime = app.token_lifetime().as_secs();
    let now = now_secs();
    let expires_on = now + i64::try_from(lifetime).unwrap_or(i64::MAX / 2);
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"RS256","kid":"amlauth-emulator"}"#);
    let claims = json!({
        "aud": audience,
        "iss": format!("https://sts.windows.net/{}/", app.tenant_id),
        "iat": now, "nbf": now, "exp": expires_on,
        "appid": app_id, "oid": object_id, "sub": object_id,
        "tid": app.tenant_id, "idtyp": "app", "ver": "1.0",
        "uti": crate::util::random_secret(16),
    });
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let sig = crate::util::random_secret(43);
    let token = format!("{header}.{payload}.{sig}");
    let mut state = app.state()?;
    state.insert_token(
        token.clone(),
        IssuedToken {
            expires_on,
            audience: audience.to_string(),
            object_id: object_id.to_string(),
            grant: grant.to_string(),
        },
    );
    app.commit(&mut state)?;
    Ok((token, lifetime))
}

fn all_clients(app: &App) -> Result<(Vec<ClientSecret>, Vec<Federation>), ArmError> {
    let state = app.state()?;
    let mut clients = app.config_clients.clone();
    clients.extend(state.clients.iter().cloned());
    let mut feds = app.config_federations.clone();
    feds.extend(state.federations.iter().cloned());
    Ok((clients, feds))
}

/// `POST /{tenant}/oauth2/v2.0/token`.
pub fn token_endpoint(app: &App, tenant: &str, body: &[u8]) -> Response {
    match token_endpoint_inner(app, tenant, body) {
        Ok(r) | Err(r) => r,
    }
}

// Both arms are complete HTTP answers; `Err` only lets `?` end early.
#[allow(clippy::result_large_err)]
fn token_endpoint_inner(app: &App, tenant: &str, body: &[u8]) -> Result<Response, Response> {
    if !tenant.eq_ignore_ascii_case(&app.tenant_id) {
        return Err(aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID."
            ),
        ));
    }
    let form = parse_form(body);
    let grant = form.get("grant_type").map(String::as_str).unwrap_or("");
    if grant != "client_credentials" {
        return Err(aad_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            &format!("The app requested an unsupported grant type '{grant}'."),
        ));
    }
    let Some(client_id) = form.get("client_id").filter(|s| !s.is_empty()) else {
        return Err(aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        ));
    };
    let scope = form.get("scope").map(String::as_str).unwrap_or("");
    let Some(resource) = scope
        .split(' ')
        .find(|s| !s.is_empty())
        .and_then(|s| s.strip_suffix("/.default"))
    else {
        return Err(aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            &format!(
                "The provided value for scope '{scope}' is not valid. Client credential flows must \
                 have a scope value with /.default suffixed to the resource identifier."
            ),
        ));
    };
    let (clients, feds) = all_clients(app).map_err(IntoResponse::into_response)?;
    let grant_name;
    if let Some(secret) = form.get("client_secret") {
        grant_name = "client_secret";
        if secret.is_empty() {
            return Err(aad_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000215,
                "Invalid client secret provided.",
            ));
        }
        if !clients.is_empty() {
            let Some(c) = clients
                .iter()
                .find(|c| c.client_id.eq_ignore_ascii_case(client_id))
            else {
                return Err(aad_error(
                    StatusCode::BAD_REQUEST,
                    "unauthorized_client",
                    700016,
                    &format!(
                        "Application with identifier '{client_id}' was not found in the directory '{tenant}'."
                    ),
                ));
            };
            if c.client_secret != *secret {
                return Err(aad_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    7000215,
                    &format!(
                        "Invalid client secret provided. Ensure the secret being sent in the request \
                         is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
                    ),
                ));
            }
        }
    } else if let Some(assertion) = form.get("client_assertion") {
        grant_name = "client_assertion";
        let atype = form
            .get("client_assertion_type")
            .map(String::as_str)
            .unwrap_or("");
        if atype != JWT_BEARER_ASSERTION_TYPE {
            return Err(aad_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                50027,
                &format!("client_assertion_type must be '{JWT_BEARER_ASSERTION_TYPE}'."),
            ));
        }
        let Some((header, claims)) = jwt_parts(assertion) else {
            return Err(aad_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                50027,
                "JWT token is invalid or malformed.",
            ));
        };
        let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
        if exp <= now_secs() {
            return Err(aad_error(
                StatusCode::BAD_REQUEST,
                "invalid_client",
                700024,
                "Client assertion is not within its valid time range.",
            ));
        }
        let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
        let sub = claims.get("sub").and_then(Value::as_str).unwrap_or("");
        // An app signing its own assertion (certificate credential): iss = sub = client id.
        if iss.eq_ignore_ascii_case(client_id) && sub.eq_ignore_ascii_case(client_id) {
            check_certificate_assertion(app, tenant, client_id, &header, &claims)?;
        } else {
            check_federated_assertion(client_id, &feds, iss, sub, &claims)?;
        }
    } else {
        return Err(aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ));
    }
    let (token, lifetime) = issue_token(app, resource, client_id, client_id, grant_name)
        .map_err(IntoResponse::into_response)?;
    tracing::info!(client_id = %client_id, grant = grant_name, "issued token");
    Ok(axum::Json(json!({
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": token,
    }))
    .into_response())
}

// Both arms are complete HTTP answers.
#[allow(clippy::result_large_err)]
fn check_certificate_assertion(
    app: &App,
    tenant: &str,
    client_id: &str,
    header: &Value,
    claims: &Value,
) -> Result<(), Response> {
    let mut certs = app.config_certificate_clients.clone();
    if let Ok(state) = app.state() {
        certs.extend(state.certificate_clients.iter().cloned());
    }
    let Some(cert) = certs
        .iter()
        .find(|c| c.client_id.eq_ignore_ascii_case(client_id))
    else {
        return Err(aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700027,
            &format!(
                "Client assertion failed signature validation: no certificate is registered for app '{client_id}'."
            ),
        ));
    };
    if let Some(want) = &cert.x5t {
        let got = header.get("x5t").and_then(Value::as_str).unwrap_or("");
        if got != want {
            return Err(aad_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                700027,
                &format!("Client assertion contains an unknown certificate thumbprint '{got}'."),
            ));
        }
    }
    let token_url = format!("{}/{tenant}/oauth2/v2.0/token", app.base_url());
    let v2_issuer = format!("{}/{tenant}/v2.0", app.base_url());
    if !audience_matches(claims.get("aud"), &token_url)
        && !audience_matches(claims.get("aud"), &v2_issuer)
    {
        return Err(aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700212,
            &format!("No matching audience in the client assertion; expected '{token_url}'."),
        ));
    }
    Ok(())
}

#[allow(clippy::result_large_err)]
fn check_federated_assertion(
    client_id: &str,
    feds: &[Federation],
    iss: &str,
    sub: &str,
    claims: &Value,
) -> Result<(), Response> {
    let for_client: Vec<&Federation> = feds
        .iter()
        .filter(|f| f.client_id.eq_ignore_ascii_case(client_id))
        .collect();
    if !for_client.iter().any(|f| f.issuer == iss) {
        return Err(aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            700211,
            &format!(
                "No matching federated identity record found for presented assertion issuer '{iss}'."
            ),
        ));
    }
    let matched = for_client.iter().any(|f| {
        f.issuer == iss && f.subject == sub && audience_matches(claims.get("aud"), &f.audience)
    });
    if !matched {
        return Err(aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            70021,
            &format!(
                "No matching federated identity record found for presented assertion. Assertion \
                 Issuer: '{iss}'. Assertion Subject: '{sub}'."
            ),
        ));
    }
    Ok(())
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`.
pub fn openid_configuration(app: &App, tenant: &str) -> Response {
    let base = app.base_url();
    axum::Json(json!({
        "token_endpoint": format!("{base}/{tenant}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/{tenant}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{base}/{tenant}/v2.0"),
        "request_uri_parameter_supported": false,
        "authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/devicecode"),
        "end_session_endpoint": format!("{base}/{tenant}/oauth2/v2.0/logout"),
        "tenant_region_scope": null,
        "cloud_instance_name": "microsoftonline.com",
    }))
    .into_response()
}

/// `GET /common/discovery/instance` (MSAL's authority validation).
pub fn instance_discovery(app: &App) -> Response {
    let base = app.base_url();
    let host = base.split("://").nth(1).unwrap_or_default().to_string();
    axum::Json(json!({
        "tenant_discovery_endpoint": format!("{base}/{}/v2.0/.well-known/openid-configuration", app.tenant_id),
        "api-version": "1.1",
        "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
    }))
    .into_response()
}

/// `GET /msi/token`: the App Service managed-identity protocol (api-version 2019-08-01).
pub fn managed_identity(
    app: &App,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Response {
    let mi_error = |status: StatusCode, msg: &str| {
        (
            status,
            axum::Json(json!({"statusCode": status.as_u16(), "message": msg})),
        )
            .into_response()
    };
    let sent = headers
        .get("x-identity-header")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if sent.is_empty() || sent != app.identity_header {
        return mi_error(
            StatusCode::UNAUTHORIZED,
            "The X-IDENTITY-HEADER header is missing or wrong.",
        );
    }
    match query.get("api-version").map(String::as_str) {
        Some("2019-08-01") => {}
        other => {
            return mi_error(
                StatusCode::BAD_REQUEST,
                &format!("Unsupported api-version {other:?}; expected 2019-08-01."),
            );
        }
    }
    let Some(resource) = query.get("resource").filter(|r| !r.is_empty()) else {
        return mi_error(
            StatusCode::BAD_REQUEST,
            "The resource query parameter is required.",
        );
    };
    let selector = [
        ("client_id", "/properties/clientId"),
        ("object_id", "/properties/principalId"),
        ("principal_id", "/properties/principalId"),
        ("mi_res_id", ""),
        ("msi_res_id", ""),
    ]
    .into_iter()
    .find_map(|(q, ptr)| query.get(q).map(|v| (v.clone(), ptr)));
    let (object_id, client_id) = match selector {
        None => (
            SYSTEM_MANAGED_IDENTITY_OBJECT_ID.to_string(),
            SYSTEM_MANAGED_IDENTITY_OBJECT_ID.to_string(),
        ),
        Some((wanted, ptr)) => {
            let state = match app.state() {
                Ok(s) => s,
                Err(e) => return e.into_response(),
            };
            let found = state.resources.values().find(|r| {
                r.kind == Kind::Identity
                    && if ptr.is_empty() {
                        r.id.eq_ignore_ascii_case(&wanted)
                    } else {
                        r.body
                            .pointer(ptr)
                            .and_then(Value::as_str)
                            .is_some_and(|v| v.eq_ignore_ascii_case(&wanted))
                    }
            });
            match found {
                Some(r) => (
                    r.body
                        .pointer("/properties/principalId")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    r.body
                        .pointer("/properties/clientId")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                ),
                None => {
                    return mi_error(
                        StatusCode::BAD_REQUEST,
                        "No user-assigned identity matches the requested identity.",
                    );
                }
            }
        }
    };
    let audience = resource.trim_end_matches("/.default");
    match issue_token(app, audience, &object_id, &client_id, "managed_identity") {
        Ok((token, lifetime)) => {
            let expires_on = now_secs() + i64::try_from(lifetime).unwrap_or(0);
            axum::Json(json!({
                "access_token": token,
                "expires_on": expires_on.to_string(),
                "resource": resource,
                "token_type": "Bearer",
                "client_id": client_id,
            }))
            .into_response()
        }
        Err(e) => e.into_response(),
    }
}

fn unauthorized(app: &App, code: &str, message: &str) -> ArmError {
    let challenge = format!(
        "Bearer authorization_uri=\"{}/{}\", error=\"invalid_token\", error_description=\"{}\"",
        app.base_url(),
        app.tenant_id,
        message.replace('"', "'")
    );
    ArmError::new(StatusCode::UNAUTHORIZED, code, message)
        .with_header(header::WWW_AUTHENTICATE, &challenge)
}

/// Checks the bearer token of an ARM request.
pub fn authenticate(app: &App, headers: &HeaderMap) -> Result<IssuedToken, ArmError> {
    let Some(raw) = headers.get(header::AUTHORIZATION) else {
        return Err(unauthorized(
            app,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
        ));
    };
    let raw = raw.to_str().unwrap_or("");
    let token = match raw.split_once(' ') {
        Some((scheme, tok)) if scheme.eq_ignore_ascii_case("bearer") && !tok.trim().is_empty() => {
            tok.trim()
        }
        _ => {
            return Err(unauthorized(
                app,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is provided in an invalid format.",
            ));
        }
    };
    let issued = {
        let state = app.state()?;
        state.token(token).cloned()
    };
    let Some(issued) = issued else {
        return Err(unauthorized(
            app,
            "InvalidAuthenticationToken",
            "The access token is invalid.",
        ));
    };
    let now = now_secs();
    if issued.expires_on <= now {
        let fmt = |s: i64| {
            time::OffsetDateTime::from_unix_timestamp(s)
                .ok()
                .and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_default()
        };
        return Err(unauthorized(
            app,
            "ExpiredAuthenticationToken",
            &format!(
                "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
                fmt(issued.expires_on),
                fmt(now)
            ),
        ));
    }
    let base = app.base_url();
    let aud = issued.audience.as_str();
    let ok =
        ARM_AUDIENCES.contains(&aud) || aud == base || aud.strip_suffix('/') == Some(base.as_str());
    if !ok {
        return Err(unauthorized(
            app,
            "InvalidAuthenticationTokenAudience",
            &format!(
                "The access token has been obtained for wrong audience or resource '{aud}'. It should \
                 exactly match with one of the allowed audiences '{}'.",
                ARM_AUDIENCES.join("','")
            ),
        ));
    }
    Ok(issued)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt_claims(token: &str) -> Option<Value> {
        jwt_parts(token).map(|(_, claims)| claims)
    }

    #[test]
    fn jwt_claims_decodes_payload_and_rejects_garbage() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"iss":"i","sub":"s"}"#);
        let c = jwt_claims(&format!("e30.{payload}.sig")).unwrap();
        assert_eq!(c["iss"], "i");
        assert!(jwt_claims("a.b").is_none());
        assert!(jwt_claims("a.!!!.c").is_none());
        assert!(jwt_claims("a.b.c.d").is_none());
    }

    #[test]
    fn audience_may_be_string_or_list() {
        assert!(audience_matches(Some(&json!("x")), "x"));
        assert!(audience_matches(Some(&json!(["y", "x"])), "x"));
        assert!(!audience_matches(Some(&json!(1)), "x"));
        assert!(!audience_matches(None, "x"));
    }
}
