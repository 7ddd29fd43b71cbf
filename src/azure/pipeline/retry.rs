//! Retries of one request, per [`crate::azure::retry`]: transient statuses and transport
//! failures, waiting what the server asks (`Retry-After` and its ARM variants) or backing off.
//! A certificate or TLS failure is permanent: it fails at once, whatever `max_retries` says.

use std::time::SystemTime;

use async_trait::async_trait;

use super::{Call, Failure, Next, Outcome, Policy, Request, send_next};
use crate::azure::error::tls_failure;
use crate::azure::retry::{RetryPolicy, is_transient, retry_after};

#[derive(Debug)]
pub(crate) struct Retry {
    pub policy: RetryPolicy,
}

#[async_trait]
impl Policy for Retry {
    async fn send(&self, call: &mut Call<'_>, req: &mut Request, next: Next<'_>) -> Outcome {
        loop {
            let out = send_next(call, req, next).await;
            let hint = match &out {
                Ok(resp) if is_transient(resp.status.as_u16(), &resp.body, call.idempotent) => {
                    retry_after(&resp.headers, SystemTime::now())
                }
                // A certificate that does not verify will not verify on a retry either; a
                // request that is not idempotent is resent only if it never left.
                Err(Failure::Transport(e))
                    if tls_failure(e).is_none() && (call.idempotent || e.is_connect()) =>
                {
                    None
                }
                _ => return out,
            };
            if call.retries >= self.policy.max_retries {
                return out;
            }
            let d = self.policy.delay(call.retries, hint);
            call.retries += 1;
            call.ctx
                .sleep(d, &call.what, call.started, &call.last_state)
                .await?;
        }
    }
}
