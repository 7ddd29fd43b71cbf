//! [`ArmClient`]: the request pipeline on reqwest and the small public API resources call.
//!
//! Every request carries `?api-version=`, a fresh `x-ms-client-request-id`, an
//! `x-ms-correlation-request-id` shared by all requests of one logical call, and a bearer
//! token (refreshed once on 401). Retries follow [`super::retry`]; long-running operations
//! follow [`super::lro`]. Each request is logged at debug level; bodies only at trace level,
//! redacted by [`super::redact`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::time::Instant;
use url::Url;

use super::cloud::{check_endpoint_scheme, redact_url};
use super::context::CallContext;
use super::credential::TokenProvider;
use super::error::{ArmErrorDetails, AzureError, parse_error_body};
use super::lro::PollPolicy;
use super::redact::redact_body;
use super::resource_id::ResourceId;
use super::retry::{RetryPolicy, is_conflict_retryable, is_retryable_status, retry_after};

/// How long one HTTP attempt may take before it counts as a transport failure.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(120);

/// Construction options for [`ArmClient`].
#[derive(Debug, Clone)]
pub struct ArmClientOptions {
    /// Resource Manager base URL (https, or http on loopback).
    pub base_url: Url,
    /// OAuth scope for ARM tokens, e.g. `https://management.azure.com/.default`.
    pub scope: String,
    /// Retry behaviour per request.
    pub retry: RetryPolicy,
    /// Polling behaviour for long-running operations.
    pub poll: PollPolicy,
    /// The HTTP client (see [`super::http::build_http_client`] for CA bundles and proxies).
    pub http: reqwest::Client,
    /// Timeout of one attempt.
    pub attempt_timeout: Duration,
}

/// An Azure Resource Manager client. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ArmClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    opts: ArmClientOptions,
    tokens: Arc<dyn TokenProvider>,
    requests: AtomicU64,
}

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
    /// Creates a client from a token provider and options.
    pub fn new(tokens: Arc<dyn TokenProvider>, opts: ArmClientOptions) -> Result<Self, AzureError> {
        check_endpoint_scheme(&opts.base_url).map_err(|reason| AzureError::InsecureEndpoint {
            url: redact_url(&opts.base_url),
            reason,
        })?;
        Ok(ArmClient {
            inner: Arc::new(Inner {
                opts,
                tokens,
                requests: AtomicU64::new(0),
            }),
        })
    }

    /// The Resource Manager base URL.
    pub fn base_url(&self) -> &Url {
        &self.inner.opts.base_url
    }

    /// Number of HTTP requests sent so far (all attempts, polls and final reads).
    pub fn request_count(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    pub(crate) fn poll_policy(&self) -> &PollPolicy {
        &self.inner.opts.poll
    }

    /// `{base}{id}?api-version=..&extra..`
    pub(crate) fn resource_url(
        &self,
        path: &str,
        api_version: &str,
        query: &[(&str, &str)],
    ) -> Result<Url, AzureError> {
        // Segments are pushed one by one so that a name holding '?', '#' or '%' is
        // percent-encoded instead of changing the URL's meaning.
        let mut url = self.inner.opts.base_url.clone();
        url.set_query(None);
        url.set_fragment(None);
        {
            let mut segs = url
                .path_segments_mut()
                .map_err(|()| AzureError::InvalidResponse {
                    url: path.to_string(),
                    message: "the Resource Manager base URL cannot carry a path".into(),
                })?;
            segs.pop_if_empty();
            segs.extend(path.split('/').filter(|s| !s.is_empty()));
        }
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("api-version", api_version);
            for (k, v) in query {
                q.append_pair(k, v);
            }
        }
        Ok(url)
    }

    /// Resolves a polling URL from a header and refuses to send our token anywhere but ARM.
    pub(crate) fn poll_url(&self, header: &str) -> Result<Url, AzureError> {
        let base = &self.inner.opts.base_url;
        let url = base.join(header).map_err(|e| AzureError::InvalidResponse {
            url: redact_url(base),
            message: format!("polling URL is not a URL: {e}"),
        })?;
        check_endpoint_scheme(&url).map_err(|reason| AzureError::InsecureEndpoint {
            url: redact_url(&url),
            reason,
        })?;
        let same_host = url.host_str().map(str::to_ascii_lowercase)
            == base.host_str().map(str::to_ascii_lowercase)
            && url.port_or_known_default() == base.port_or_known_default();
        if !same_host {
            return Err(AzureError::InsecureEndpoint {
                url: redact_url(&url),
                reason: format!(
                    "a long-running operation pointed at a host other than {}; the ARM token is only sent to ARM",
                    redact_url(base)
                ),
            });
        }
        Ok(url)
    }

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

    /// GET a resource; `None` when it does not exist.
    pub async fn get_json(
        &self,
        id: &ResourceId,
        api_version: &str,
        ctx: &CallContext,
    ) -> Result<Option<Value>, AzureError> {
        let corr = uuid::Uuid::new_v4().to_string();
        self.get_inner(id, api_version, ctx, &corr).await
    }

    pub(crate) async fn get_inner(
        &self,
        id: &ResourceId,
        api_version: &str,
        ctx: &CallContext,
        corr: &str,
    ) -> Result<Option<Value>, AzureError> {
        let rid = id.to_string();
        let url = self.resource_url(&rid, api_version, &[])?;
        self.get_url(url, &rid, ctx, corr).await
    }

    /// GET any ARM path (e.g. a collection or a provider-level read); `None` on 404.
    pub async fn get_path_json(
        &self,
        path: &str,
        api_version: &str,
        query: &[(&str, &str)],
        ctx: &CallContext,
    ) -> Result<Option<Value>, AzureError> {
        let corr = uuid::Uuid::new_v4().to_string();
        let url = self.resource_url(path, api_version, query)?;
        self.get_url(url, path, ctx, &corr).await
    }

    /// GET a collection and follow `nextLink` until the last page; returns every `value` item.
    /// `nextLink` must stay on the ARM host (the token is never sent elsewhere).
    pub async fn list_all(
        &self,
        path: &str,
        api_version: &str,
        query: &[(&str, &str)],
        ctx: &CallContext,
    ) -> Result<Vec<Value>, AzureError> {
        const MAX_PAGES: usize = 1000;
        let corr = uuid::Uuid::new_v4().to_string();
        let mut url = self.resource_url(path, api_version, query)?;
        let mut items = Vec::new();
        for _ in 0..MAX_PAGES {
            let Some(page) = self.get_url(url, path, ctx, &corr).await? else {
                return Ok(items);
            };
            if let Some(values) = page.get("value").and_then(Value::as_array) {
                items.extend(values.iter().cloned());
            }
            match page
                .get("nextLink")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
            {
                Some(next) => url = self.poll_url(next)?,
                None => return Ok(items),
            }
        }
        Err(AzureError::InvalidResponse {
            url: path.to_string(),
            message: format!("more than {MAX_PAGES} pages; giving up"),
        })
    }

    async fn get_url(
        &self,
        url: Url,
        what: &str,
        ctx: &CallContext,
        corr: &str,
    ) -> Result<Option<Value>, AzureError> {
        let resp = self
            .send(
                RequestSpec {
                    method: Method::GET,
                    url,
                    body: None,
                    idempotent: true,
                    resource_id: Some(what),
                    correlation_id: corr,
                    allow_404_retry: true,
                },
                ctx,
            )
            .await?;
        if resp.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !resp.status.is_success() {
            return Err(resp.into_error(Some(what)));
        }
        match resp.json() {
            Some(v) => Ok(Some(v)),
            None => Err(AzureError::InvalidResponse {
                url: what.to_string(),
                message: "GET returned a body that is not JSON".into(),
            }),
        }
    }

    /// PUT a resource, wait for any long-running operation, then GET and return it.
    pub async fn put_and_wait(
        &self,
        id: &ResourceId,
        api_version: &str,
        body: &Value,
        ctx: &CallContext,
    ) -> Result<Value, AzureError> {
        self.write_and_wait(Method::PUT, id, api_version, &[], body, ctx)
            .await
    }

    /// PATCH a resource, wait for any long-running operation, then GET and return it.
    pub async fn patch_and_wait(
        &self,
        id: &ResourceId,
        api_version: &str,
        body: &Value,
        ctx: &CallContext,
    ) -> Result<Value, AzureError> {
        self.write_and_wait(Method::PATCH, id, api_version, &[], body, ctx)
            .await
    }

    /// PUT to a synchronous API (e.g. ML datastores) and return the response body; extra
    /// query parameters such as `skipValidation=true` may be given.
    pub async fn put_sync(
        &self,
        id: &ResourceId,
        api_version: &str,
        query: &[(&str, &str)],
        body: &Value,
        ctx: &CallContext,
    ) -> Result<Value, AzureError> {
        let corr = uuid::Uuid::new_v4().to_string();
        let rid = id.to_string();
        let url = self.resource_url(&rid, api_version, query)?;
        let resp = self
            .send(
                RequestSpec {
                    method: Method::PUT,
                    url,
                    body: Some(body),
                    idempotent: true,
                    resource_id: Some(&rid),
                    correlation_id: &corr,
                    allow_404_retry: false,
                },
                ctx,
            )
            .await?;
        if !resp.status.is_success() {
            return Err(resp.into_error(Some(&rid)));
        }
        Ok(resp.json().unwrap_or(Value::Null))
    }

    /// POST an action below a resource (e.g. `listKeys`). Retried on transient failures only
    /// when `retry_safe` (the action has no side effects); otherwise only 429 and connection
    /// failures are retried.
    pub async fn post_json(
        &self,
        id: &ResourceId,
        action: &str,
        api_version: &str,
        body: Option<&Value>,
        retry_safe: bool,
        ctx: &CallContext,
    ) -> Result<Value, AzureError> {
        let corr = uuid::Uuid::new_v4().to_string();
        let rid = id.to_string();
        let url = self.resource_url(
            &format!("{rid}/{}", action.trim_start_matches('/')),
            api_version,
            &[],
        )?;
        let resp = self
            .send(
                RequestSpec {
                    method: Method::POST,
                    url,
                    body,
                    idempotent: retry_safe,
                    resource_id: Some(&rid),
                    correlation_id: &corr,
                    allow_404_retry: retry_safe,
                },
                ctx,
            )
            .await?;
        if !resp.status.is_success() {
            return Err(resp.into_error(Some(&rid)));
        }
        Ok(resp.json().unwrap_or(Value::Null))
    }

    /// DELETE a resource and wait until it is gone. A resource that is already absent is
    /// not an error. Extra query parameters (e.g. `forceToPurge=true`) may be given.
    pub async fn delete(
        &self,
        id: &ResourceId,
        api_version: &str,
        query: &[(&str, &str)],
        ctx: &CallContext,
    ) -> Result<(), AzureError> {
        let corr = uuid::Uuid::new_v4().to_string();
        let rid = id.to_string();
        let url = self.resource_url(&rid, api_version, query)?;
        let resp = self
            .send(
                RequestSpec {
                    method: Method::DELETE,
                    url,
                    body: None,
                    idempotent: true,
                    resource_id: Some(&rid),
                    correlation_id: &corr,
                    allow_404_retry: false,
                },
                ctx,
            )
            .await?;
        if resp.status == StatusCode::NOT_FOUND || resp.status == StatusCode::NO_CONTENT {
            return Ok(());
        }
        if !resp.status.is_success() {
            return Err(resp.into_error(Some(&rid)));
        }
        self.wait_for_completion(resp, Method::DELETE, id, api_version, ctx, &corr)
            .await
    }

    async fn write_and_wait(
        &self,
        method: Method,
        id: &ResourceId,
        api_version: &str,
        query: &[(&str, &str)],
        body: &Value,
        ctx: &CallContext,
    ) -> Result<Value, AzureError> {
        let corr = uuid::Uuid::new_v4().to_string();
        let rid = id.to_string();
        let url = self.resource_url(&rid, api_version, query)?;
        let resp = self
            .send(
                RequestSpec {
                    method: method.clone(),
                    url,
                    body: Some(body),
                    idempotent: true,
                    resource_id: Some(&rid),
                    correlation_id: &corr,
                    allow_404_retry: false,
                },
                ctx,
            )
            .await?;
        if !resp.status.is_success() {
            return Err(resp.into_error(Some(&rid)));
        }
        self.wait_for_completion(resp, method.clone(), id, api_version, ctx, &corr)
            .await?;
        // Never trust a 200/201/202 body: read the resource as ARM now has it. It may take a
        // moment to become visible right after creation.
        let window = self.poll_policy().read_after_write_window;
        let mut read_ctx = ctx.clone();
        if read_ctx.retry_404_until.is_none() {
            read_ctx.retry_404_until = Some(Instant::now() + window);
        }
        match self.get_inner(id, api_version, &read_ctx, &corr).await? {
            Some(v) => Ok(v),
            None => Err(AzureError::Arm(Box::new(ArmErrorDetails {
                status: 404,
                code: Some("ResourceNotFound".into()),
                message: format!(
                    "the resource was not found after {method} reported success (waited {window:?})"
                ),
                resource_id: Some(rid),
                operation: "GET".into(),
                ..Default::default()
            }))),
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
