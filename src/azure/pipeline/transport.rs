//! The end of the chain: one HTTP attempt with reqwest, read to the end, bounded by the
//! attempt timeout, the caller's deadline and cancellation.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use reqwest::Method;
use reqwest::header::CONTENT_LENGTH;

use super::{Call, Failure, Next, Outcome, Policy, RawResponse, Request, transport_message};

#[derive(Debug)]
pub(crate) struct Transport {
    pub http: reqwest::Client,
    /// How long one attempt may take before it counts as a transport failure.
    pub attempt_timeout: Duration,
    /// Every attempt sent (see `ArmClient::request_count`).
    pub requests: Arc<AtomicU64>,
}

#[async_trait]
impl Policy for Transport {
    async fn send(&self, call: &mut Call<'_>, req: &mut Request, _next: Next<'_>) -> Outcome {
        let mut rb = self
            .http
            .request(req.method.clone(), req.url.clone())
            .headers(req.headers.clone())
            .timeout(self.attempt_timeout);
        match &req.body {
            Some(b) => rb = rb.body(b.clone()),
            // Some front ends refuse a bodiless write without a length (411).
            None if matches!(req.method, Method::POST | Method::PUT | Method::PATCH) => {
                rb = rb.header(CONTENT_LENGTH, "0");
            }
            None => {}
        }
        call.attempts += 1;
        self.requests.fetch_add(1, Ordering::Relaxed);
        let sent = call
            .ctx
            .run(
                async {
                    let resp = rb.send().await?;
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    let body = resp.bytes().await?.to_vec();
                    Ok::<_, reqwest::Error>((status, headers, body))
                },
                &call.what,
                call.started,
                &call.last_state,
            )
            .await?;
        match sent {
            Ok((status, headers, body)) => {
                call.last_state = format!("HTTP {}", status.as_u16());
                Ok(RawResponse {
                    status,
                    headers,
                    body,
                    operation: req.method.to_string(),
                })
            }
            Err(e) => {
                call.last_state = format!("transport error: {}", transport_message(&e));
                Err(Failure::Transport(e))
            }
        }
    }
}
