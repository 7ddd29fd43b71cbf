//! The request pipeline under [`ArmClient`]: one logical request, sent with a bearer token,
//! request ids and retries, bounded by the caller's deadline and cancellation.
//!
//! Every request carries `?api-version=`, a fresh `x-ms-client-request-id`, the
//! `x-ms-correlation-request-id` shared by all requests of one logical call, and a bearer
//! token (refreshed once on 401). Retries follow [`super::retry`]. Each request is logged at
//! debug level (method, path, api-version, status, duration, request id); bodies only at
//! trace level, redacted by [`super::redact`].

use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::time::Instant;
use url::Url;

use super::client::ArmClient;
use super::cloud::redact_url;
use super::context::CallContext;
use super::error::{ArmErrorDetails, AzureError, parse_error_body, tls_failure, tls_or_else};
use super::redact::redact_body;
use super::retry::{is_conflict_retryable, is_retryable_status, retry_after};

/// A response read to the end.
#[derive(Debug, Clone)]
pub(crate) struct RawResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub operation: String,
}

impl RawResponse {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    pub(crate) fn json(&self) -> Option<Value> {
        if self.body.is_empty() {
            return None;
        }
        serde_json::from_slice(&self.body).ok()
    }

    pub(crate) fn details(&self, resource_id: Option<&str>) -> ArmErrorDetails {
        let (code, message) = parse_error_body(&self.body);
        ArmErrorDetails {
            status: self.status.as_u16(),
            code: code.or_else(|| self.header("x-ms-error-code").map(str::to_string)),
            message: message.unwrap_or_else(|| {
                self.status
                    .canonical_reason()
                    .unwrap_or("unexpected status")
                    .to_string()
            }),
            request_id: self.header("x-ms-request-id").map(str::to_string),
            correlation_id: self
                .header("x-ms-correlation-request-id")
                .map(str::to_string),
            resource_id: resource_id.map(str::to_string),
            operation: self.operation.clone(),
        }
    }

    pub(crate) fn into_error(self, resource_id: Option<&str>) -> AzureError {
        AzureError::Arm(Box::new(self.details(resource_id)))
    }
}

/// What one request needs besides its URL.
pub(crate) struct RequestSpec<'a> {
    pub method: Method,
    pub url: Url,
    pub body: Option<&'a Value>,
    /// Whether resending is harmless (all verbs except POST actions not marked safe).
    pub idempotent: bool,
    pub resource_id: Option<&'a str>,
    pub correlation_id: &'a str,
    /// Whether a 404 may be retried while `ctx.retry_404_until` lasts.
    pub allow_404_retry: bool,
}

impl ArmClient {
    /// Sends one logical request with retries; returns the final response whatever its status.
    pub(crate) async fn send(
        &self,
        spec: RequestSpec<'_>,
        ctx: &CallContext,
    ) -> Result<RawResponse, AzureError> {
        let opts = &self.inner.opts;
        let started = Instant::now();
        let path = spec.url.path().to_string();
        let api_version = spec
            .url
            .query_pairs()
            .find(|(k, _)| k == "api-version")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let what = format!("{} {}", spec.method, spec.resource_id.unwrap_or(&path));
        let mut retries = 0u32;
        let mut attempts = 0u32;
        let mut refreshed = false;
        let mut force_refresh = false;
        let mut last_state = String::from("not sent");
        loop {
            ctx.check(&what, started, &last_state)?;
            let token = ctx
                .run(
                    self.inner.tokens.token(&opts.scope, force_refresh),
                    &what,
                    started,
                    &last_state,
                )
                .await??;
            force_refresh = false;
            let client_request_id = uuid::Uuid::new_v4().to_string();
            let mut req = opts
                .http
                .request(spec.method.clone(), spec.url.clone())
                .bearer_auth(token.secret())
                .header("x-ms-client-request-id", &client_request_id)
                .header("x-ms-return-client-request-id", "true")
                .header("x-ms-correlation-request-id", spec.correlation_id)
                .header(reqwest::header::ACCEPT, "application/json")
                .timeout(opts.attempt_timeout);
            if let Some(b) = spec.body {
                let bytes = serde_json::to_vec(b).map_err(|e| AzureError::InvalidResponse {
                    url: path.clone(),
                    message: format!("cannot serialise request body: {e}"),
                })?;
                if tracing::enabled!(tracing::Level::TRACE) {
                    tracing::trace!(method = %spec.method, path = %path, body = %redact_body(&bytes), "ARM request body");
                }
                req = req
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    )
                    .body(bytes);
            } else if spec.method == Method::POST
                || spec.method == Method::PUT
                || spec.method == Method::PATCH
            {
                req = req.header(reqwest::header::CONTENT_LENGTH, "0");
            }
            attempts += 1;
            self.inner.requests.fetch_add(1, Ordering::Relaxed);
            let t0 = Instant::now();
            let sent = ctx
                .run(
                    async {
                        let resp = req.send().await?;
                        let status = resp.status();
                        let headers = resp.headers().clone();
                        let body = resp.bytes().await?.to_vec();
                        Ok::<_, reqwest::Error>((status, headers, body))
                    },
                    &what,
                    started,
                    &last_state,
                )
                .await?;
            let elapsed_ms = t0.elapsed().as_millis() as u64;
            let (status, headers, body) = match sent {
                Ok(r) => r,
                Err(e) => {
                    let connect = e.is_connect();
                    tracing::debug!(
                        method = %spec.method, path = %path, api_version = %api_version,
                        duration_ms = elapsed_ms, attempt = attempts, client_request_id = %client_request_id,
                        error = %transport_message(&e), "ARM request failed"
                    );
                    last_state = format!("transport error: {}", transport_message(&e));
                    // A certificate that does not verify will not verify on a retry either.
                    if tls_failure(&e).is_some() {
                        let host = spec.url.host_str().unwrap_or_default();
                        return Err(AzureError::Transport {
                            operation: spec.method.to_string(),
                            url: redact_url(&spec.url),
                            attempts,
                            message: tls_or_else(host, &e, String::new),
                        });
                    }
                    let may_retry = spec.idempotent || connect;
                    if may_retry && retries < opts.retry.max_retries {
                        let d = opts.retry.delay(retries, None);
                        retries += 1;
                        ctx.sleep(d, &what, started, &last_state).await?;
                        continue;
                    }
                    return Err(AzureError::Transport {
                        operation: spec.method.to_string(),
                        url: redact_url(&spec.url),
                        attempts,
                        message: transport_message(&e),
                    });
                }
            };
            let request_id = headers
                .get("x-ms-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            tracing::debug!(
                method = %spec.method, path = %path, api_version = %api_version, status = status.as_u16(),
                duration_ms = elapsed_ms, request_id = %request_id, client_request_id = %client_request_id,
                attempt = attempts, "ARM request"
            );
            if tracing::enabled!(tracing::Level::TRACE) && !body.is_empty() {
                tracing::trace!(method = %spec.method, path = %path, status = status.as_u16(), body = %redact_body(&body), "ARM response body");
            }
            let raw = RawResponse {
                status,
                headers,
                body,
                operation: spec.method.to_string(),
            };
            last_state = format!("HTTP {}", status.as_u16());
            if status == StatusCode::UNAUTHORIZED && !refreshed {
                refreshed = true;
                force_refresh = true;
                continue;
            }
            let code = parse_error_body(&raw.body).0;
            let s = status.as_u16();
            let transient = if spec.idempotent {
                is_retryable_status(s) || (s == 409 && is_conflict_retryable(code.as_deref()))
            } else {
                s == 429
            };
            let hint = retry_after(&raw.headers, SystemTime::now());
            if transient && retries < opts.retry.max_retries {
                let d = opts.retry.delay(retries, hint);
                retries += 1;
                ctx.sleep(d, &what, started, &last_state).await?;
                continue;
            }
            if s == 404
                && spec.allow_404_retry
                && let Some(until) = ctx.retry_404_until
            {
                let now = Instant::now();
                if now < until {
                    let d = opts.retry.delay(retries.min(4), hint).min(until - now);
                    retries = retries.saturating_add(1);
                    last_state = "HTTP 404 (not visible yet)".into();
                    ctx.sleep(
                        d.max(Duration::from_millis(100)),
                        &what,
                        started,
                        &last_state,
                    )
                    .await?;
                    continue;
                }
            }
            return Ok(raw);
        }
    }
}

/// A transport error without URLs or query strings (they could carry signatures).
fn transport_message(e: &reqwest::Error) -> String {
    let mut msg = String::from(if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "error reading the response body"
    } else {
        "request failed"
    });
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&super::redact::redact_text(&s.to_string()));
        source = s.source();
    }
    msg
}
