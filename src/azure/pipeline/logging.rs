//! One debug line per attempt (method, path, api-version, status, duration, request ids);
//! request and response bodies at trace level only, redacted.

use async_trait::async_trait;
use tokio::time::Instant;

use super::request_id::CLIENT_REQUEST_ID;
use super::{Call, Failure, Next, Outcome, Policy, Request, send_next, transport_message};
use crate::logging::redact::redact_body;

#[derive(Debug)]
pub(crate) struct Logging;

#[async_trait]
impl Policy for Logging {
    async fn send(&self, call: &mut Call<'_>, req: &mut Request, next: Next<'_>) -> Outcome {
        let trace = tracing::enabled!(tracing::Level::TRACE);
        let path = req.url.path().to_string();
        if trace && let Some(b) = &req.body {
            tracing::trace!(method = %req.method, path = %path, body = %redact_body(b), "ARM request body");
        }
        let t0 = Instant::now();
        let out = send_next(call, req, next).await;
        if !tracing::enabled!(tracing::Level::DEBUG) {
            return out;
        }
        let elapsed_ms = t0.elapsed().as_millis() as u64;
        let api_version = req.api_version();
        let client_request_id = req
            .headers
            .get(CLIENT_REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        match &out {
            Ok(resp) => {
                tracing::debug!(
                    method = %req.method, path = %path, api_version = %api_version, status = resp.status.as_u16(),
                    duration_ms = elapsed_ms, request_id = %resp.header("x-ms-request-id").unwrap_or(""),
                    client_request_id = %client_request_id, attempt = call.attempts, "ARM request"
                );
                if trace && !resp.body.is_empty() {
                    tracing::trace!(method = %req.method, path = %path, status = resp.status.as_u16(), body = %redact_body(&resp.body), "ARM response body");
                }
            }
            Err(Failure::Transport(e)) => tracing::debug!(
                method = %req.method, path = %path, api_version = %api_version,
                duration_ms = elapsed_ms, attempt = call.attempts, client_request_id = %client_request_id,
                error = %transport_message(e), "ARM request failed"
            ),
            Err(Failure::Azure(_)) => {}
        }
        out
    }
}
