//! [`ArmClient`]: the small async API the resources call (get, put/patch and wait, sync put,
//! post actions, delete, list). Requests go down the policy chain of [`super::pipeline`];
//! long-running operations are waited for by [`super::lro`]'s policy at its head.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::time::Instant;
use url::Url;

use super::context::CallContext;
use super::credential::TokenProvider;
use super::endpoint::Endpoint;
use super::error::{ArmErrorDetails, AzureError};
use super::lro::{LroPolicy, PollPolicy};
use super::pipeline::{
    Pipeline, Policy, RequestSpec, auth::BearerToken, logging::Logging, not_found::NotFoundRetry,
    request_id::RequestIds, retry::Retry, transport::Transport,
};
use super::resource_id::ResourceId;
use super::retry::RetryPolicy;

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
    pub(super) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(super) struct Inner {
    pub(super) endpoint: Endpoint,
    pub(super) pipeline: Pipeline,
    read_after_write_window: Duration,
    requests: Arc<AtomicU64>,
}

impl ArmClient {
    /// Creates a client from a token provider and options.
    pub fn new(tokens: Arc<dyn TokenProvider>, opts: ArmClientOptions) -> Result<Self, AzureError> {
        let endpoint = Endpoint::new(opts.base_url)?;
        let requests = Arc::new(AtomicU64::new(0));
        let policies: Vec<Arc<dyn Policy>> = vec![
            Arc::new(LroPolicy {
                endpoint: endpoint.clone(),
                poll: opts.poll.clone(),
            }),
            Arc::new(NotFoundRetry(opts.retry.clone())),
            Arc::new(Retry { policy: opts.retry }),
            Arc::new(BearerToken {
                tokens,
                scope: opts.scope,
            }),
            Arc::new(RequestIds),
            Arc::new(Logging),
            Arc::new(Transport {
                http: opts.http,
                attempt_timeout: opts.attempt_timeout,
                requests: requests.clone(),
            }),
        ];
        Ok(ArmClient {
            inner: Arc::new(Inner {
                endpoint,
                pipeline: Pipeline::new(policies),
                read_after_write_window: opts.poll.read_after_write_window,
                requests,
            }),
        })
    }

    /// The Resource Manager base URL.
    pub fn base_url(&self) -> &Url {
        self.inner.endpoint.base()
    }

    /// Number of HTTP requests sent so far (all attempts, polls and final reads).
    pub fn request_count(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    fn url(
        &self,
        path: &str,
        api_version: &str,
        query: &[(&str, &str)],
    ) -> Result<Url, AzureError> {
        self.inner.endpoint.resource_url(path, api_version, query)
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
        let url = self.url(&rid, api_version, &[])?;
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
        let url = self.url(path, api_version, query)?;
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
        let mut pager = self.pages(path, api_version, query)?;
        let mut items = Vec::new();
        while let Some(page) = pager.next_page(ctx).await? {
            items.extend(page);
        }
        Ok(items)
    }

    /// A collection read one page at a time (see [`ArmPager`]), for callers that may stop early.
    pub fn pages(
        &self,
        path: &str,
        api_version: &str,
        query: &[(&str, &str)],
    ) -> Result<ArmPager<'_>, AzureError> {
        Ok(ArmPager {
            client: self,
            next: Some(self.url(path, api_version, query)?),
            what: path.to_string(),
            corr: uuid::Uuid::new_v4().to_string(),
            pages: 0,
            missing: false,
        })
    }

    async fn get_url(
        &self,
        url: Url,
        what: &str,
        ctx: &CallContext,
        corr: &str,
    ) -> Result<Option<Value>, AzureError> {
        let spec = RequestSpec::new(Method::GET, url, what, corr).retry_404(true);
        let resp = self.send(spec, ctx).await?;
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
        self.write_and_wait(Method::PUT, id, api_version, body, ctx)
            .await
    }

    /// PATCH a resource with `patch` (the properties to change), wait for any long-running
    /// operation, then GET and return it.
    pub async fn patch_and_wait(
        &self,
        id: &ResourceId,
        api_version: &str,
        patch: &Value,
        ctx: &CallContext,
    ) -> Result<Value, AzureError> {
        let method = Method::PATCH;
        self.write_and_wait(method, id, api_version, patch, ctx)
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
        let url = self.url(&rid, api_version, query)?;
        let spec = RequestSpec::new(Method::PUT, url, &rid, &corr).body(Some(body));
        Ok(self.send_ok(spec, ctx).await?.json().unwrap_or(Value::Null))
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
        let path = format!("{rid}/{}", action.trim_start_matches('/'));
        let url = self.url(&path, api_version, &[])?;
        let spec = RequestSpec::new(Method::POST, url, &rid, &corr)
            .body(body)
            .idempotent(retry_safe)
            .retry_404(retry_safe);
        Ok(self.send_ok(spec, ctx).await?.json().unwrap_or(Value::Null))
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
        let url = self.url(&rid, api_version, query)?;
        let spec = RequestSpec::new(Method::DELETE, url, &rid, &corr).wait_for_completion();
        let resp = self.send(spec, ctx).await?;
        if resp.status.is_success() || resp.status == StatusCode::NOT_FOUND {
            return Ok(());
        }
        Err(resp.into_error(Some(&rid)))
    }

    async fn write_and_wait(
        &self,
        method: Method,
        id: &ResourceId,
        api_version: &str,
        body: &Value,
        ctx: &CallContext,
    ) -> Result<Value, AzureError> {
        let corr = uuid::Uuid::new_v4().to_string();
        let rid = id.to_string();
        let url = self.url(&rid, api_version, &[])?;
        let spec = RequestSpec::new(method.clone(), url, &rid, &corr)
            .body(Some(body))
            .wait_for_completion();
        self.send_ok(spec, ctx).await?;
        // Never trust a 200/201/202 body: read the resource as ARM now has it. It may take a
        // moment to become visible right after creation.
        let window = self.inner.read_after_write_window;
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

/// A collection ARM answers in pages: each page's `nextLink` is followed exactly as given
/// (absolute, and possibly signed with a `$skiptoken`), with the same credentials, and only
/// on the ARM host.
pub struct ArmPager<'c> {
    client: &'c ArmClient,
    next: Option<Url>,
    what: String,
    corr: String,
    pages: usize,
    missing: bool,
}

impl ArmPager<'_> {
    /// More pages than any real collection has: a `nextLink` loop is a service bug.
    pub const MAX_PAGES: usize = 1000;

    /// The next page's `value` items; `None` once the last page was read. A collection whose
    /// parent does not exist (404 on the first page) ends at once (see [`Self::missing`]).
    pub async fn next_page(&mut self, ctx: &CallContext) -> Result<Option<Vec<Value>>, AzureError> {
        let Some(url) = self.next.take() else {
            return Ok(None);
        };
        if self.pages >= Self::MAX_PAGES {
            return Err(AzureError::InvalidResponse {
                url: self.what.clone(),
                message: format!("more than {} pages; giving up", Self::MAX_PAGES),
            });
        }
        let Some(page) = self
            .client
            .get_url(url, &self.what, ctx, &self.corr)
            .await?
        else {
            self.missing = self.pages == 0;
            return Ok(None);
        };
        self.pages += 1;
        if let Some(next) = page
            .get("nextLink")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            self.next = Some(
                self.client
                    .inner
                    .endpoint
                    .follow(next, "the collection's nextLink")?,
            );
        }
        Ok(Some(
            page.get("value")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        ))
    }

    /// Pages read so far.
    pub fn pages_read(&self) -> usize {
        self.pages
    }

    /// Whether ARM answered 404 for the collection itself (its parent does not exist).
    pub fn missing(&self) -> bool {
        self.missing
    }
}
