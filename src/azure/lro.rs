//! Long-running operations: waiting for a PUT, PATCH or DELETE to finish.
//!
//! Which signal is followed, in order:
//! 1. `Azure-AsyncOperation`: GET the status URL until `status` is terminal
//!    (`Succeeded`, `Failed`, `Canceled`/`Cancelled`, compared case-insensitively). A
//!    `Failed` status — even on HTTP 200 — becomes [`AzureError::OperationFailed`] carrying
//!    ARM's `error.code` and `error.message`.
//! 2. `Location`: GET it until it stops answering 202; 200/201/204 mean done, an error
//!    status means the operation failed.
//! 3. Otherwise `properties.provisioningState` of the resource (from the initial body, then
//!    from GETs of the resource) until terminal; for a DELETE, until the GET answers 404.
//!
//! A 404 from a status URL shortly after the operation started counts as "still running"
//! (the status record may not be replicated yet). Poll URLs must be on the ARM host: the
//! token is never sent elsewhere. After a PUT/PATCH completes the caller GETs the resource
//! (bodies of 201/202 are not trusted).
//!
//! # Polling policy
//! The server sets the pace; the client only keeps it polite.
//! - The first poll comes right after the initial answer when the server sends no
//!   `Retry-After` (an operation that is already done costs no wait), otherwise after
//!   `min(Retry-After, initial_interval)` (so `Retry-After: 0` is polled at once).
//! - Following waits back off: `initial_interval` (1 s), then ×1.5 each poll, capped at
//!   `max_interval` (15 s). A `Retry-After` is a **ceiling** on that wait (the server expects
//!   news by then), never a reason to wait longer than the backoff.
//! - A `Retry-After` shorter than the backoff is honoured down to a floor that grows with the
//!   backoff (`min_interval` (250 ms) ×1.5 each poll, up to `initial_interval`), so a server
//!   that keeps answering `Retry-After: 0` to a running operation is polled at most once a
//!   second, not in a tight loop.
//!
//! Worst case (no `Retry-After`): waits run 0, 1, 1.5, 2.25, 3.4, 5.1, 7.6, 11.4 s (32 s in
//! 8 polls), then one poll every 15 s. An operation lasting `T` seconds therefore costs at most
//! `8 + ceil((T - 32) / 15)` polls for `T > 32` (e.g. 10 minutes: 46 polls), plus the initial
//! request and one final GET; each poll may additionally be retried per [`super::retry`].
//! Everything stops at the caller's deadline or on cancellation.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::time::Instant;

use super::endpoint::Endpoint;
use super::error::{ArmErrorDetails, AzureError};
use super::pipeline::{Call, Next, Outcome, Policy, RawResponse, Request, send_next};
use super::retry::retry_after;

/// How long-running operations are polled (see the module docs for the policy).
#[derive(Debug, Clone, PartialEq)]
pub struct PollPolicy {
    /// Wait before the first poll when the server sends no `Retry-After`.
    pub first_interval: Duration,
    /// Wait before the second poll; also the ceiling of the first one under a `Retry-After`.
    pub initial_interval: Duration,
    /// Growth factor between polls.
    pub multiplier: f64,
    /// Longest wait between polls.
    pub max_interval: Duration,
    /// Floor under a shorter `Retry-After` from the second poll on; grows like the backoff up
    /// to `initial_interval`.
    pub min_interval: Duration,
    /// How long a 404 from a status URL or from the final GET counts as "not visible yet".
    pub read_after_write_window: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        PollPolicy {
            first_interval: Duration::ZERO,
            initial_interval: Duration::from_secs(1),
            multiplier: 1.5,
            max_interval: Duration::from_secs(15),
            min_interval: Duration::from_millis(250),
            read_after_write_window: Duration::from_secs(60),
        }
    }
}

impl PollPolicy {
    /// Wait before poll number `n` (0-based), given the server's latest `Retry-After`.
    pub fn interval(&self, n: u32, retry_after: Option<Duration>) -> Duration {
        if n == 0 {
            return match retry_after {
                Some(ra) => ra.min(self.initial_interval),
                None => self.first_interval,
            };
        }
        let growth = self.multiplier.max(1.0).powi((n - 1).min(64) as i32);
        let backoff = self.initial_interval.mul_f64(growth).min(self.max_interval);
        match retry_after {
            Some(ra) => {
                let floor = self
                    .min_interval
                    .mul_f64(growth)
                    .min(self.initial_interval)
                    .min(backoff);
                ra.min(backoff).max(floor)
            }
            None => backoff,
        }
    }
}

/// A terminal operation state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terminal {
    /// `Succeeded`.
    Succeeded,
    /// `Failed`.
    Failed,
    /// `Canceled` or `Cancelled`.
    Canceled,
}

/// Classifies a status or provisioning state (case-insensitive); `None` while running.
pub fn terminal_state(s: &str) -> Option<Terminal> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("Succeeded") {
        Some(Terminal::Succeeded)
    } else if s.eq_ignore_ascii_case("Failed") {
        Some(Terminal::Failed)
    } else if s.eq_ignore_ascii_case("Canceled") || s.eq_ignore_ascii_case("Cancelled") {
        Some(Terminal::Canceled)
    } else {
        None
    }
}

fn provisioning_state(v: &Value) -> Option<&str> {
    v.get("properties")?.get("provisioningState")?.as_str()
}

enum Signal {
    AsyncOperation(url::Url),
    Location(url::Url),
    ProvisioningState,
    Done,
}

/// The head of the pipeline: sends the request on, and when the call asked to wait
/// (`Call::wait`) and the answer is a success that starts an operation, polls it to the end
/// through the rest of the chain (each poll retried and logged like any request). Returns the
/// initial answer.
#[derive(Debug)]
pub(crate) struct LroPolicy {
    pub endpoint: Endpoint,
    pub poll: PollPolicy,
}

#[async_trait]
impl Policy for LroPolicy {
    async fn send(&self, call: &mut Call<'_>, req: &mut Request, next: Next<'_>) -> Outcome {
        let initial = send_next(call, req, next).await?;
        let nothing_to_wait = !initial.status.is_success()
            || (req.method == Method::DELETE && initial.status == StatusCode::NO_CONTENT);
        if !call.wait || nothing_to_wait {
            return Ok(initial);
        }
        self.wait(call, req, &initial, next).await?;
        Ok(initial)
    }
}

impl LroPolicy {
    /// Waits for the operation started by `initial` to finish.
    async fn wait(
        &self,
        call: &mut Call<'_>,
        req: &Request,
        initial: &RawResponse,
        next: Next<'_>,
    ) -> Result<(), AzureError> {
        let method = req.method.clone();
        let rid = call.resource_id.unwrap_or(req.url.path()).to_string();
        let is_delete = method == Method::DELETE;
        let signal = if let Some(h) = initial.header("azure-asyncoperation") {
            Signal::AsyncOperation(
                self.endpoint
                    .follow(h, "the long-running operation's Azure-AsyncOperation URL")?,
            )
        } else if let Some(h) = initial.header("location") {
            Signal::Location(
                self.endpoint
                    .follow(h, "the long-running operation's Location URL")?,
            )
        } else if is_delete {
            if initial.status == StatusCode::ACCEPTED {
                Signal::ProvisioningState
            } else {
                Signal::Done
            }
        } else {
            match initial
                .json()
                .as_ref()
                .and_then(provisioning_state)
                .map(terminal_state)
            {
                Some(None) => Signal::ProvisioningState,
                Some(Some(Terminal::Succeeded)) => Signal::Done,
                Some(Some(t)) => {
                    let body = initial.json().unwrap_or(Value::Null);
                    return Err(failed(t, &body, initial, &rid, "provisioning"));
                }
                None if initial.status == StatusCode::ACCEPTED => Signal::ProvisioningState,
                None => Signal::Done,
            }
        };
        let ctx = call.ctx;
        let started = Instant::now();
        let mut retry_hint = retry_after(&initial.headers, SystemTime::now());
        let mut last_state = format!("HTTP {}", initial.status.as_u16());
        let what = format!("waiting for {method} {rid}");
        let policy = &self.poll;
        // Polls are plain reads: never a 404 retry (a 404 means something here).
        call.allow_404_retry = false;
        let mut n = 0u32;
        loop {
            let url = match &signal {
                Signal::Done => return Ok(()),
                Signal::AsyncOperation(u) | Signal::Location(u) => u.clone(),
                Signal::ProvisioningState => {
                    self.endpoint.resource_url(&rid, &req.api_version(), &[])?
                }
            };
            ctx.sleep(policy.interval(n, retry_hint), &what, started, &last_state)
                .await?;
            n += 1;
            let mut poll = Request::new(Method::GET, url);
            call.restart(&poll);
            let out = send_next(call, &mut poll, next).await;
            let resp = call.settle(&poll, out)?;
            retry_hint = retry_after(&resp.headers, SystemTime::now());
            let early = started.elapsed() < policy.read_after_write_window;
            let body = resp.json().unwrap_or(Value::Null);
            tracing::debug!(resource_id = %rid, poll = n, status = resp.status.as_u16(), "polled long-running operation");
            match &signal {
                Signal::AsyncOperation(_) => {
                    if resp.status == StatusCode::NOT_FOUND && early {
                        last_state = "status not available yet (404)".into();
                        continue;
                    }
                    if !resp.status.is_success() {
                        return Err(poll_error(resp, &rid));
                    }
                    let Some(status) = body.get("status").and_then(Value::as_str) else {
                        return Err(AzureError::InvalidResponse {
                            url: rid,
                            message: "operation status has no \"status\" field".into(),
                        });
                    };
                    last_state = status.to_string();
                    match terminal_state(status) {
                        None => continue,
                        Some(Terminal::Succeeded) => return Ok(()),
                        Some(t) => return Err(failed(t, &body, &resp, &rid, status)),
                    }
                }
                Signal::Location(_) => match resp.status {
                    StatusCode::ACCEPTED => {
                        last_state = "HTTP 202 (in progress)".into();
                        continue;
                    }
                    StatusCode::NOT_FOUND if is_delete => return Ok(()),
                    StatusCode::NOT_FOUND if early => {
                        last_state = "status not available yet (404)".into();
                        continue;
                    }
                    s if s.is_success() => {
                        // Some services answer the Location URL with an operation status body.
                        if let Some(status) = body.get("status").and_then(Value::as_str)
                            && let Some(t) = terminal_state(status)
                            && t != Terminal::Succeeded
                        {
                            return Err(failed(t, &body, &resp, &rid, status));
                        }
                        return Ok(());
                    }
                    _ => return Err(poll_error(resp, &rid)),
                },
                Signal::ProvisioningState => {
                    if resp.status == StatusCode::NOT_FOUND {
                        if is_delete {
                            return Ok(());
                        }
                        if early {
                            last_state = "resource not visible yet (404)".into();
                            continue;
                        }
                    }
                    if !resp.status.is_success() {
                        return Err(resp.into_error(Some(&rid)));
                    }
                    if is_delete {
                        last_state = provisioning_state(&body).unwrap_or("Deleting").to_string();
                        continue;
                    }
                    let Some(state) = provisioning_state(&body) else {
                        return Ok(());
                    };
                    last_state = state.to_string();
                    match terminal_state(state) {
                        None => continue,
                        Some(Terminal::Succeeded) => return Ok(()),
                        Some(t) => return Err(failed(t, &body, &resp, &rid, state)),
                    }
                }
                Signal::Done => return Ok(()),
            }
        }
    }
}

fn poll_error(resp: RawResponse, rid: &str) -> AzureError {
    let mut d = resp.details(Some(rid));
    d.operation = "polling the long-running operation".into();
    AzureError::Arm(Box::new(d))
}

fn failed(t: Terminal, body: &Value, resp: &RawResponse, rid: &str, state: &str) -> AzureError {
    let err = body
        .get("error")
        .or_else(|| body.get("properties").and_then(|p| p.get("error")))
        .filter(|e| e.is_object());
    let s = |k: &str| {
        err.and_then(|e| e.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let code = s("code");
    let message = s("message").unwrap_or_else(|| match t {
        Terminal::Canceled => "the operation was canceled".to_string(),
        _ => "the operation failed without an error message".to_string(),
    });
    AzureError::OperationFailed {
        state: state.to_string(),
        details: Box::new(ArmErrorDetails {
            status: resp.status.as_u16(),
            code,
            message,
            request_id: resp.header("x-ms-request-id").map(str::to_string),
            correlation_id: resp
                .header("x-ms-correlation-request-id")
                .map(str::to_string),
            resource_id: Some(rid.to_string()),
            operation: "long-running operation".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_states_case_insensitive() {
        assert_eq!(terminal_state("succeeded"), Some(Terminal::Succeeded));
        assert_eq!(terminal_state("FAILED"), Some(Terminal::Failed));
        assert_eq!(terminal_state("Cancelled"), Some(Terminal::Canceled));
        assert_eq!(terminal_state("canceled"), Some(Terminal::Canceled));
        assert_eq!(terminal_state("InProgress"), None);
        assert_eq!(terminal_state("Updating"), None);
    }

    #[test]
    fn waits_follow_the_server_within_the_backoff() {
        let p = PollPolicy::default();
        let (ms, s) = (Duration::from_millis, Duration::from_secs);
        let cases = [
            // First poll, no hint: right after the initial answer; `Retry-After: 0` too.
            (0, None, Duration::ZERO),
            (0, Some(Duration::ZERO), Duration::ZERO),
            // A short first hint is taken as is; a long one is capped at the initial interval.
            (0, Some(ms(300)), ms(300)),
            (0, Some(s(10)), s(1)),
            // Later polls back off.
            (1, None, s(1)),
            (2, None, ms(1500)),
            (30, None, s(15)),
            // Retry-After longer than the backoff: the backoff wins (the server expects news
            // by then); shorter: honoured.
            (1, Some(s(10)), s(1)),
            (30, Some(s(4)), s(4)),
        ];
        for (n, hint, want) in cases {
            assert_eq!(p.interval(n, hint), want, "poll {n}, hint {hint:?}");
        }
    }

    #[test]
    fn retry_after_zero_still_backs_off() {
        let p = PollPolicy::default();
        let zero = Some(Duration::ZERO);
        assert_eq!(p.interval(1, zero), Duration::from_millis(250));
        assert_eq!(p.interval(2, zero), Duration::from_millis(375));
        let waits: Vec<Duration> = (1..40).map(|n| p.interval(n, zero)).collect();
        assert!(waits.windows(2).all(|w| w[0] <= w[1]), "{waits:?}");
        // The floor stops at the initial interval: at most one poll a second.
        assert_eq!(p.interval(60, zero), Duration::from_secs(1));
    }

    #[test]
    fn worst_case_matches_the_docs() {
        let p = PollPolicy::default();
        // 8 polls cover the first ~32 s.
        let total: Duration = (0..8).map(|n| p.interval(n, None)).sum();
        assert!(
            total > Duration::from_secs(31) && total < Duration::from_secs(33),
            "{total:?}"
        );
        assert_eq!(p.interval(8, None), Duration::from_secs(15));
    }
}
