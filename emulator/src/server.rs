//! Accept loops (HTTPS or HTTP) and the top-level request handler: body limit, control
//! API, Entra endpoints, faults, ARM, journal and the `x-ms-*` headers.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Method, Request, Response, StatusCode, header};
use axum::response::IntoResponse;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::error::ArmError;
use crate::faults::FaultAction;
use crate::journal::JournalEntry;
use crate::{arm, auth, control};

/// Which endpoints a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// Everything.
    Full,
    /// Only the managed-identity endpoint (the App Service-style plain HTTP port).
    ManagedIdentityOnly,
}

/// Runs an accept loop until `shutdown` fires.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Arc<App>,
    surface: Surface,
    shutdown: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            a = listener.accept() => a,
        };
        let (stream, _) = match accepted {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let app = app.clone();
        let tls = tls.clone();
        let kill = shutdown.child_token();
        let header_timeout = app.header_read_timeout;
        tokio::spawn(async move {
            let conn_kill = kill.clone();
            let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                let app = app.clone();
                let kill = conn_kill.clone();
                async move { Ok::<_, Infallible>(handle(app, kill, surface, req).await) }
            });
            match tls {
                Some(acceptor) => {
                    match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(s)) => {
                            run_connection(TokioIo::new(s), svc, kill, header_timeout).await
                        }
                        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                }
                None => run_connection(TokioIo::new(stream), svc, kill, header_timeout).await,
            }
        });
    }
}

async fn run_connection<I, S>(io: I, svc: S, kill: CancellationToken, header_timeout: Duration)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    S: hyper::service::Service<Request<Incoming>, Response = Response<Body>, Error = Infallible>,
    S::Future: Send + 'static,
{
    // A client that opens a connection and trickles (or never finishes) its headers would
    // otherwise hold a task and a socket forever; between requests on a kept-alive
    // connection the same timer applies to the next request's headers.
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(io, svc);
    // Dropping the connection future closes the socket: that is how "drop" faults work.
    tokio::select! {
        r = conn => {
            if let Err(e) = r {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        }
        _ = kill.cancelled() => {}
    }
}

fn parse_query(q: Option<&str>) -> HashMap<String, String> {
    q.map(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .map(|(k, v)| (k.to_ascii_lowercase(), v.into_owned()))
            .collect()
    })
    .unwrap_or_default()
}

fn too_large(limit: usize) -> Response<Body> {
    ArmError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "RequestEntityTooLarge",
        format!("The request body is larger than the {limit} bytes allowed."),
    )
    .into_response()
}

/// What ARM's front end refuses before routing: an HTTP/1.1 request without `Host`
/// (RFC 9112 §3.2 requires it) and an encoded `/` inside a path segment, which would
/// otherwise be decoded into a separator and address another resource.
fn refuse_malformed(parts: &axum::http::request::Parts) -> Option<Response<Body>> {
    if parts.version == axum::http::Version::HTTP_11 && !parts.headers.contains_key(header::HOST) {
        let mut resp = ArmError::bad_request(
            "BadRequest",
            "Bad Request - Invalid Hostname: an HTTP/1.1 request must carry a Host header.",
        )
        .into_response();
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return Some(resp);
    }
    let path = parts.uri.path();
    if path.len() >= 3
        && path
            .as_bytes()
            .windows(3)
            .any(|w| w[0] == b'%' && w[1] == b'2' && w[2].eq_ignore_ascii_case(&b'f'))
    {
        return Some(
            ArmError::bad_request(
                "InvalidRequestUri",
                "The request URI is invalid: a path segment contains an encoded '/' (%2F).",
            )
            .into_response(),
        );
    }
    None
}

fn set_header(resp: &mut Response<Body>, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, v);
    }
}

async fn handle(
    app: Arc<App>,
    kill: CancellationToken,
    surface: Surface,
    req: Request<Incoming>,
) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let method = parts.method.clone();
    let path = parts.uri.path().to_string();
    let query = parse_query(parts.uri.query());
    let limit = app.max_body_bytes;
    if let Some(refusal) = refuse_malformed(&parts) {
        return refusal;
    }

    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let body: Bytes = if declared.is_some_and(|n| n > limit) {
        // Answer without reading the body; the connection is closed afterwards.
        let mut resp = too_large(limit);
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return resp;
    } else {
        match axum::body::to_bytes(Body::new(body), limit).await {
            Ok(b) => b,
            Err(_) => return too_large(limit),
        }
    };

    if surface == Surface::Full
        && (path == control::PREFIX || path.starts_with(&format!("{}/", control::PREFIX)))
    {
        let sub = &path[control::PREFIX.len()..];
        let app2 = app.clone();
        return control::handle(&app2, &method, sub, &query, &body);
    }

    let request_id = crate::util::new_guid();
    let correlation = parts
        .headers
        .get("x-ms-correlation-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| request_id.clone());
    let time = crate::util::now_rfc3339();
    let outcome = app.faults().evaluate(method.as_str(), &path);
    if outcome.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(outcome.delay_ms)).await;
    }
    let record = |status: u16| JournalEntry {
        seq: 0,
        method: method.to_string(),
        path: path.clone(),
        api_version: query.get("api-version").cloned(),
        status,
        time: time.clone(),
        request_id: request_id.clone(),
        next_page: query.contains_key(crate::resources::paging::SKIP_TOKEN),
    };

    let mut resp = match outcome.immediate.clone() {
        Some(FaultAction::Drop) => {
            app.journal().record(record(0));
            kill.cancel();
            // Never answer: the connection task drops the socket.
            std::future::pending::<()>().await;
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        Some(FaultAction::Status { status, retry_after, code, message }) => {
            let st = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let default_code = match status {
                429 => "TooManyRequests",
                503 => "ServiceUnavailable",
                504 => "GatewayTimeout",
                500 => "InternalServerError",
                _ => "InjectedFault",
            };
            let mut e = ArmError::new(
                st,
                code.unwrap_or_else(|| default_code.to_string()),
                message.unwrap_or_else(|| format!("Injected fault: HTTP {status}.")),
            );
            if let Some(s) = retry_after {
                e = e.with_header(header::RETRY_AFTER, &s.to_string());
            }
            e.into_response()
        }
        Some(FaultAction::Conflict) => ArmError::conflict(
            "AnotherOperationInProgress",
            "Another operation on this or a dependent resource is in progress. Retry after it completes.",
        )
        .into_response(),
        _ => route(
            &app,
            surface,
            Inbound {
                method: method.clone(),
                path: &path,
                query: query.clone(),
                headers: &parts.headers,
                body,
                faults: outcome,
            },
        ),
    };

    set_header(&mut resp, "x-ms-request-id", &request_id);
    set_header(&mut resp, "x-ms-correlation-request-id", &correlation);
    if let Some(client_id) = parts
        .headers
        .get("x-ms-client-request-id")
        .and_then(|v| v.to_str().ok())
    {
        set_header(&mut resp, "x-ms-client-request-id", client_id);
    }
    if path.starts_with("/subscriptions/") {
        let name = if method == Method::GET || method == Method::HEAD {
            "x-ms-ratelimit-remaining-subscription-reads"
        } else {
            "x-ms-ratelimit-remaining-subscription-writes"
        };
        set_header(&mut resp, name, "11999");
    }
    app.journal().record(record(resp.status().as_u16()));
    resp
}

/// A request on its way to the Entra or ARM handlers.
struct Inbound<'a> {
    method: Method,
    path: &'a str,
    query: HashMap<String, String>,
    headers: &'a axum::http::HeaderMap,
    body: Bytes,
    faults: crate::faults::FaultOutcome,
}

fn route(app: &Arc<App>, surface: Surface, inbound: Inbound<'_>) -> Response<Body> {
    let Inbound {
        method,
        path,
        query,
        headers,
        body,
        faults,
    } = inbound;
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segs.as_slice() == ["msi", "token"] {
        if method != Method::GET {
            return arm::method_not_allowed(&method).into_response();
        }
        return auth::managed_identity(app, headers, &query);
    }
    if surface == Surface::ManagedIdentityOnly {
        return ArmError::not_found("NotFound", "This port serves only /msi/token.")
            .into_response();
    }
    match segs.as_slice() {
        [tenant, "oauth2", "v2.0", "token"] => {
            if method != Method::POST {
                return arm::method_not_allowed(&method).into_response();
            }
            auth::token_endpoint(app, tenant, &body)
        }
        [tenant, "v2.0", ".well-known", "openid-configuration"] => {
            auth::openid_configuration(app, tenant)
        }
        ["common" | "organizations", "discovery", "instance"] => auth::instance_discovery(app),
        ["v1.0", "directoryObjects", "getByIds"] => {
            crate::resources::graph::get_by_ids(app, &method, headers, &body)
                .unwrap_or_else(IntoResponse::into_response)
        }
        ["metadata", "endpoints"] => crate::resources::cloud::metadata_endpoints(
            app,
            &method,
            query.get("api-version").map(String::as_str),
        )
        .unwrap_or_else(IntoResponse::into_response),
        _ => arm::handle(app, method, path, query, headers, body, faults),
    }
}
