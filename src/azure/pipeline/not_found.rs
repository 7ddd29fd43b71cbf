//! Right after a create, ARM may answer 404 for a moment (eventual consistency). While the
//! caller's `retry_404_until` lasts, a 404 to a request that allows it is retried, with the
//! same backoff as other retries (capped at the fifth step) and never past the window.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use reqwest::StatusCode;
use tokio::time::Instant;

use super::{Call, Next, Outcome, Policy, Request, send_next};
use crate::azure::retry::{RetryPolicy, retry_after};

/// Shortest wait between two reads of a resource that is not visible yet.
const MIN_WAIT: Duration = Duration::from_millis(100);

/// Holds the waits of the other retries (capped at their fifth step).
#[derive(Debug)]
pub(crate) struct NotFoundRetry(pub RetryPolicy);

#[async_trait]
impl Policy for NotFoundRetry {
    async fn send(&self, call: &mut Call<'_>, req: &mut Request, next: Next<'_>) -> Outcome {
        loop {
            let resp = send_next(call, req, next).await?;
            let until = call.ctx.retry_404_until.filter(|_| call.allow_404_retry);
            let now = Instant::now();
            let Some(until) = until.filter(|u| resp.status == StatusCode::NOT_FOUND && now < *u)
            else {
                return Ok(resp);
            };
            let hint = retry_after(&resp.headers, SystemTime::now());
            let d = self.0.delay(call.retries.min(4), hint).min(until - now);
            // Shared with the retry policy: time spent here counts against its budget too.
            call.retries = call.retries.saturating_add(1);
            call.last_state = "HTTP 404 (not visible yet)".into();
            call.ctx
                .sleep(d.max(MIN_WAIT), &call.what, call.started, &call.last_state)
                .await?;
        }
    }
}
