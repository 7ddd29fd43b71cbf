//! The request pipeline under [`ArmClient`]: one logical call goes down a chain of small
//! policies, each with one job, in this order:
//!
//! 1. [`LroPolicy`](super::lro::LroPolicy): once a write or delete is accepted, waits for the
//!    long-running operation it started (when the caller asked for that).
//! 2. [`not_found::NotFoundRetry`]: retries a 404 while the caller tolerates "not visible yet"
//!    (`CallContext::retry_404_until`; ARM is eventually consistent right after a create).
//! 3. [`retry::Retry`]: retries transient failures per [`super::retry`], honouring the server's
//!    `Retry-After`; certificate and TLS failures fail at once.
//! 4. [`auth::BearerToken`]: the bearer token, refreshed once per call on a 401.
//! 5. [`request_id::RequestIds`]: a fresh `x-ms-client-request-id` per attempt and the
//!    `x-ms-correlation-request-id` shared by every request of the call.
//! 6. [`logging::Logging`]: one debug line per attempt (method, path, api-version, status,
//!    duration, ids); bodies at trace level, redacted by [`crate::logging::redact`](mod@crate::logging::redact).
//! 7. [`transport::Transport`]: sends with reqwest, bounded by the attempt timeout, the caller's
//!    deadline and cancellation.
//!
//! The shape is azure_core's (`Policy::send(ctx, request, next)`), but the types are our own:
//! azure_core's `Pipeline::new` always inserts its own retry and logging policies (the first
//! does not know ARM's 409 `AnotherOperationInProgress`, the second does not use our redactor),
//! and its error type would box the deadline, cancellation and TLS errors the callers match on.

pub(crate) mod auth;
pub(crate) mod logging;
pub(crate) mod not_found;
pub(crate) mod request_id;
pub(crate) mod retry;
pub(crate) mod transport;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::time::Instant;
use url::Url;

use super::client::ArmClient;
use super::cloud::redact_url;
use super::context::CallContext;
use super::error::{ArmErrorDetails, AzureError, parse_error_body, tls_failure, tls_or_else};

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

/// One HTTP request as the policies see it.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    /// Serialised once; resent as is by every attempt.
    pub body: Option<Vec<u8>>,
}

impl Request {
    pub(crate) fn new(method: Method, url: Url) -> Self {
        Request {
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
        }
    }

    /// The `api-version` query parameter (empty when absent).
    pub(crate) fn api_version(&self) -> String {
        self.url
            .query_pairs()
            .find(|(k, _)| k == "api-version")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    }
}

/// Why a policy got no response.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Final: deadline, cancellation, authentication, a failed operation…
    Azure(AzureError),
    /// No response arrived. Kept whole so that the retry policy can tell a refused connection
    /// or a certificate from a timeout; turned into [`AzureError::Transport`] at the top.
    Transport(reqwest::Error),
}

impl From<AzureError> for Failure {
    fn from(e: AzureError) -> Self {
        Failure::Azure(e)
    }
}

pub(crate) type Outcome = Result<RawResponse, Failure>;

/// One logical call as it goes down the chain: what the caller allows, and what the policies
/// record on the way (attempts, retries, the last state for deadline messages).
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub ctx: &'a CallContext,
    pub resource_id: Option<&'a str>,
    pub correlation_id: &'a str,
    /// Whether resending is harmless (all verbs except POST actions not marked safe).
    pub idempotent: bool,
    /// Whether a 404 may be retried while `ctx.retry_404_until` lasts.
    pub allow_404_retry: bool,
    /// Whether to wait for the long-running operation a successful answer starts.
    pub wait: bool,
    /// The current request, for deadline and cancellation messages: `GET /subscriptions/…`.
    pub what: String,
    /// When the current request was first sent.
    pub started: Instant,
    pub last_state: String,
    pub attempts: u32,
    pub retries: u32,
    pub token_refreshed: bool,
}

impl<'a> Call<'a> {
    /// Starts counting for a new request of the same call (a long-running operation's poll).
    pub(crate) fn restart(&mut self, req: &Request) {
        self.what = format!(
            "{} {}",
            req.method,
            self.resource_id.unwrap_or(req.url.path())
        );
        self.started = Instant::now();
        self.last_state = String::from("not sent");
        self.attempts = 0;
        self.retries = 0;
        self.token_refreshed = false;
    }

    /// The outcome as the caller sees it: a transport failure becomes
    /// [`AzureError::Transport`], with the host and a hint when a certificate did not verify.
    pub(crate) fn settle(&self, req: &Request, out: Outcome) -> Result<RawResponse, AzureError> {
        match out {
            Ok(r) => Ok(r),
            Err(Failure::Azure(e)) => Err(e),
            Err(Failure::Transport(e)) => {
                let message = if tls_failure(&e).is_some() {
                    tls_or_else(req.url.host_str().unwrap_or_default(), &e, String::new)
                } else {
                    transport_message(&e)
                };
                Err(AzureError::Transport {
                    operation: req.method.to_string(),
                    url: redact_url(&req.url),
                    attempts: self.attempts,
                    message,
                })
            }
        }
    }
}

/// One link of the chain (see the module docs).
#[async_trait]
pub(crate) trait Policy: Send + Sync + fmt::Debug {
    /// Does this policy's job and hands the request to `next` (the rest of the chain).
    async fn send(&self, call: &mut Call<'_>, req: &mut Request, next: Next<'_>) -> Outcome;
}

/// The rest of the chain after a policy.
pub(crate) type Next<'a> = &'a [Arc<dyn Policy>];

/// Sends through the rest of the chain.
pub(crate) async fn send_next(call: &mut Call<'_>, req: &mut Request, next: Next<'_>) -> Outcome {
    match next.split_first() {
        Some((policy, rest)) => policy.send(call, req, rest).await,
        // The chain is built once in `ArmClient::new` and always ends with the transport.
        None => Err(Failure::Azure(AzureError::InvalidResponse {
            url: redact_url(&req.url),
            message: "the request pipeline has no transport".into(),
        })),
    }
}

/// The chain of policies, built once per client.
#[derive(Debug, Clone)]
pub(crate) struct Pipeline {
    policies: Vec<Arc<dyn Policy>>,
}

impl Pipeline {
    pub(crate) fn new(policies: Vec<Arc<dyn Policy>>) -> Self {
        Pipeline { policies }
    }

    pub(crate) async fn send(&self, call: &mut Call<'_>, req: &mut Request) -> Outcome {
        send_next(call, req, &self.policies).await
    }
}

/// What one logical request needs besides the client: built with [`RequestSpec::new`] and
/// the few switches below.
pub(crate) struct RequestSpec<'a> {
    method: Method,
    url: Url,
    body: Option<&'a Value>,
    idempotent: bool,
    resource_id: &'a str,
    correlation_id: &'a str,
    allow_404_retry: bool,
    wait: bool,
}

impl<'a> RequestSpec<'a> {
    /// An idempotent request about `resource_id`, without body, 404 retry or waiting.
    pub(crate) fn new(method: Method, url: Url, resource_id: &'a str, corr: &'a str) -> Self {
        RequestSpec {
            method,
            url,
            body: None,
            idempotent: true,
            resource_id,
            correlation_id: corr,
            allow_404_retry: false,
            wait: false,
        }
    }

    pub(crate) fn body(mut self, body: Option<&'a Value>) -> Self {
        self.body = body;
        self
    }

    /// Whether resending is harmless; a request that is not is retried only when the server
    /// cannot have acted on it (429, failure to connect).
    pub(crate) fn idempotent(mut self, yes: bool) -> Self {
        self.idempotent = yes;
        self
    }

    /// Retry a 404 while the caller's `retry_404_until` lasts.
    pub(crate) fn retry_404(mut self, yes: bool) -> Self {
        self.allow_404_retry = yes;
        self
    }

    /// Wait for the long-running operation a successful answer starts.
    pub(crate) fn wait_for_completion(mut self) -> Self {
        self.wait = true;
        self
    }
}

impl ArmClient {
    /// Sends one logical request down the pipeline; returns the final response whatever its
    /// status.
    pub(crate) async fn send(
        &self,
        spec: RequestSpec<'_>,
        ctx: &CallContext,
    ) -> Result<RawResponse, AzureError> {
        let mut req = Request::new(spec.method, spec.url);
        if let Some(b) = spec.body {
            let bytes = serde_json::to_vec(b).map_err(|e| AzureError::InvalidResponse {
                url: req.url.path().to_string(),
                message: format!("cannot serialise request body: {e}"),
            })?;
            req.headers
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            req.body = Some(bytes);
        }
        let mut call = Call {
            ctx,
            resource_id: Some(spec.resource_id),
            correlation_id: spec.correlation_id,
            idempotent: spec.idempotent,
            allow_404_retry: spec.allow_404_retry,
            wait: spec.wait,
            what: String::new(),
            started: Instant::now(),
            last_state: String::new(),
            attempts: 0,
            retries: 0,
            token_refreshed: false,
        };
        call.restart(&req);
        let out = self.inner.pipeline.send(&mut call, &mut req).await;
        call.settle(&req, out)
    }

    /// Like [`ArmClient::send`], but an error status is an error.
    pub(crate) async fn send_ok(
        &self,
        spec: RequestSpec<'_>,
        ctx: &CallContext,
    ) -> Result<RawResponse, AzureError> {
        let rid = spec.resource_id;
        let resp = self.send(spec, ctx).await?;
        if !resp.status.is_success() {
            return Err(resp.into_error(Some(rid)));
        }
        Ok(resp)
    }
}

/// A transport error without URLs or query strings (they could carry signatures).
pub(crate) fn transport_message(e: &reqwest::Error) -> String {
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
        msg.push_str(&crate::logging::redact::redact(&s.to_string()));
        source = s.source();
    }
    msg
}
