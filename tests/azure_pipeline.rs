//! Retries, long-running operations, cancellation and deadlines, counted against wiremock.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use amlauth::azure::credential::TokenProvider;
use amlauth::azure::{
    ArmClient, ArmClientOptions, AzureError, CallContext, PollPolicy, ResourceId, RetryPolicy,
};
use azure_core::credentials::Secret;
use serde_json::json;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use wiremock::matchers::{header, header_exists, method, path, query_param};
use wiremock::{Mock, MockBuilder, MockServer, Request, Respond, ResponseTemplate};

const API: &str = "2025-06-01";
const MGMT_SCOPE: &str = "https://management.azure.com/.default";

/// Hands out "token-N", N counting forced refreshes.
#[derive(Debug, Default)]
struct CountingTokens {
    refreshes: AtomicUsize,
}

#[async_trait::async_trait]
impl TokenProvider for CountingTokens {
    async fn token(&self, _scope: &str, force_refresh: bool) -> Result<Secret, AzureError> {
        if force_refresh {
            self.refreshes.fetch_add(1, Ordering::SeqCst);
        }
        Ok(Secret::new(format!(
            "token-{}",
            self.refreshes.load(Ordering::SeqCst)
        )))
    }
}

fn fast_retry(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        initial_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
        ..Default::default()
    }
}

fn fast_poll() -> PollPolicy {
    PollPolicy {
        initial_interval: Duration::from_millis(20),
        min_interval: Duration::from_millis(10),
        max_interval: Duration::from_millis(50),
        read_after_write_window: Duration::from_secs(2),
        ..Default::default()
    }
}

/// A fresh mock ARM server and a client on it with the usual scope, polling fast, and a 10 s
/// attempt timeout.
async fn mock_arm(retry: RetryPolicy) -> (MockServer, ArmClient, Arc<CountingTokens>) {
    let server = MockServer::start().await;
    let (c, tokens) = client_at(
        &server.uri(),
        MGMT_SCOPE,
        retry,
        fast_poll(),
        Duration::from_secs(10),
    )
    .unwrap();
    (server, c, tokens)
}

/// A client on `base_url`, with fresh counting tokens.
fn client_at(
    base_url: &str,
    scope: &str,
    retry: RetryPolicy,
    poll: PollPolicy,
    attempt_timeout: Duration,
) -> Result<(ArmClient, Arc<CountingTokens>), AzureError> {
    let tokens = Arc::new(CountingTokens::default());
    let c = ArmClient::new(
        tokens.clone(),
        ArmClientOptions {
            base_url: base_url.parse().unwrap(),
            scope: scope.into(),
            retry,
            poll,
            http: reqwest::Client::new(),
            attempt_timeout,
        },
    )?;
    Ok((c, tokens))
}

/// Answers the requests `given` matches with `response`, every time.
async fn stub(server: &MockServer, given: MockBuilder, response: impl Respond + 'static) {
    given.respond_with(response).mount(server).await;
}

/// Answers the first `n` requests `given` matches with `response`.
async fn stub_first(
    server: &MockServer,
    n: u64,
    given: MockBuilder,
    response: impl Respond + 'static,
) {
    given
        .respond_with(response)
        .up_to_n_times(n)
        .mount(server)
        .await;
}

fn on(verb: &str) -> MockBuilder {
    Mock::given(method(verb))
}

fn on_path(verb: &str, p: impl Into<String>) -> MockBuilder {
    Mock::given(method(verb)).and(path(p))
}

fn ok_json(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// An ARM error response: `{"error": {"code", "message"}}`.
fn arm_error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .set_body_json(json!({"error": {"code": code, "message": message}}))
}

/// A long-running operation's first answer, pointing at `loc` through Location.
fn location_op(loc: &str) -> ResponseTemplate {
    ResponseTemplate::new(202).insert_header("location", loc)
}

/// A body carrying only `properties.provisioningState`.
fn provisioning(status: u16, state: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"properties": {"provisioningState": state}}))
}

/// GET the workspace.
async fn get_ws(c: &ArmClient) -> Result<Option<serde_json::Value>, AzureError> {
    c.get_json(&ws_id(), API, &CallContext::default()).await
}

/// PUT `{}` on the workspace and wait for the operation.
async fn put_empty(c: &ArmClient) -> Result<serde_json::Value, AzureError> {
    c.put_and_wait(&ws_id(), API, &json!({}), &CallContext::default())
        .await
}

/// PATCH `{}` on the workspace and wait for the operation.
async fn patch_empty(c: &ArmClient) -> Result<serde_json::Value, AzureError> {
    c.patch_and_wait(&ws_id(), API, &json!({}), &CallContext::default())
        .await
}

/// A long-running operation's first answer, pointing at `op` through Azure-AsyncOperation.
fn async_op(status: u16, op: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).insert_header("azure-asyncoperation", op)
}

fn ws_id() -> ResourceId {
    ResourceId::new_ml_workspace("00000000-0000-0000-0000-000000000001", "rg", "ws")
}

fn ws_path() -> String {
    ws_id().to_string()
}

/// How many requests the server has seen.
async fn received(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

async fn requests_to(server: &MockServer, p: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == p)
        .collect()
}

#[tokio::test]
async fn throttled_then_ok_waits_for_retry_after() {
    let (server, c, _) = mock_arm(fast_retry(3)).await;
    stub_first(
        &server,
        1,
        on_path("GET", ws_path()),
        ResponseTemplate::new(429).insert_header("retry-after", "1"),
    )
    .await;
    stub(
        &server,
        on_path("GET", ws_path())
            .and(query_param("api-version", API))
            .and(header("authorization", "Bearer token-0"))
            .and(header_exists("x-ms-client-request-id"))
            .and(header_exists("x-ms-correlation-request-id")),
        ok_json(json!({"name": "ws"})),
    )
    .await;
    let t = std::time::Instant::now();
    let v = get_ws(&c).await.unwrap();
    assert_eq!(v.unwrap()["name"], "ws");
    assert!(
        t.elapsed() >= Duration::from_secs(1),
        "waited only {:?}",
        t.elapsed()
    );
    assert_eq!(c.request_count(), 2);
    assert_eq!(received(&server).await, 2);
}

#[tokio::test]
async fn retry_after_ms_headers_take_precedence() {
    let (server, c, _) = mock_arm(fast_retry(3)).await;
    stub_first(
        &server,
        1,
        on("GET"),
        ResponseTemplate::new(503)
            .insert_header("x-ms-retry-after-ms", "50")
            .insert_header("retry-after", "30"),
    )
    .await;
    stub(&server, on("GET"), ok_json(json!({}))).await;
    let t = std::time::Instant::now();
    get_ws(&c).await.unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "Retry-After: 30 was used instead of 50 ms"
    );
    assert_eq!(c.request_count(), 2);
}

#[tokio::test]
async fn persistent_503_fails_after_max_retries_with_request_id() {
    let (server, c, _) = mock_arm(fast_retry(3)).await;
    stub(
        &server,
        on("GET"),
        arm_error(503, "ServiceUnavailable", "try later")
            .insert_header("x-ms-request-id", "req-503-abc"),
    )
    .await;
    let e = get_ws(&c).await.unwrap_err();
    assert_eq!(received(&server).await, 4, "1 attempt + 3 retries");
    assert_eq!(e.request_id(), Some("req-503-abc"));
    assert_eq!(e.code(), Some("ServiceUnavailable"));
    assert_eq!(e.status(), Some(503));
    let s = e.to_string();
    assert!(
        s.contains("req-503-abc") && s.contains("try later") && s.contains(&ws_path()),
        "{s}"
    );
}

#[tokio::test]
async fn unauthorized_refreshes_the_token_once() {
    let (server, c, tokens) = mock_arm(fast_retry(3)).await;
    stub(
        &server,
        on("GET").and(header("authorization", "Bearer token-0")),
        ResponseTemplate::new(401),
    )
    .await;
    stub(
        &server,
        on("GET").and(header("authorization", "Bearer token-1")),
        ok_json(json!({"ok": true})),
    )
    .await;
    assert!(get_ws(&c).await.unwrap().is_some());
    assert_eq!(tokens.refreshes.load(Ordering::SeqCst), 1);

    // A second 401 is final (no refresh loop).
    let (server, c, tokens) = mock_arm(fast_retry(3)).await;
    stub(
        &server,
        on("GET"),
        arm_error(401, "InvalidAuthenticationToken", "bad"),
    )
    .await;
    let e = get_ws(&c).await.unwrap_err();
    assert_eq!(e.code(), Some("InvalidAuthenticationToken"));
    assert_eq!(tokens.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(received(&server).await, 2);
}

#[tokio::test]
async fn conflict_another_operation_in_progress_is_retried_other_conflicts_are_not() {
    let (server, c, _) = mock_arm(fast_retry(3)).await;
    stub_first(
        &server,
        2,
        on("PUT"),
        arm_error(409, "AnotherOperationInProgress", "busy")
            .insert_header("x-ms-error-code", "Conflict"),
    )
    .await;
    stub(&server, on("PUT"), provisioning(200, "Succeeded")).await;
    stub(&server, on("GET"), ok_json(json!({"name": "final"}))).await;
    let v = put_empty(&c).await.unwrap();
    assert_eq!(v["name"], "final");
    assert_eq!(
        requests_to(&server, &ws_path()).await.len(),
        4,
        "3 PUTs + final GET"
    );

    let (server, c, _) = mock_arm(fast_retry(3)).await;
    stub(&server, on("PUT"), arm_error(409, "Conflict", "name taken")).await;
    let e = put_empty(&c).await.unwrap_err();
    assert_eq!(e.code(), Some("Conflict"));
    assert_eq!(received(&server).await, 1);
}

#[tokio::test]
async fn post_retries_only_when_safe() {
    let action = format!("{}/listKeys", ws_path());
    let (server, c, _) = mock_arm(fast_retry(3)).await;
    stub(
        &server,
        on_path("POST", action.clone()),
        ResponseTemplate::new(500),
    )
    .await;
    let ctx = CallContext::default();
    c.post_json(&ws_id(), "listKeys", API, None, false, &ctx)
        .await
        .unwrap_err();
    assert_eq!(
        received(&server).await,
        1,
        "unsafe POST must not be resent after a 500"
    );
    c.post_json(&ws_id(), "listKeys", API, None, true, &ctx)
        .await
        .unwrap_err();
    assert_eq!(received(&server).await, 5, "safe POST: 1 + 3 retries");

    // 429 means the request was not processed, so even an unsafe POST is resent.
    let (server, c, _) = mock_arm(fast_retry(3)).await;
    stub_first(
        &server,
        1,
        on("POST"),
        ResponseTemplate::new(429).insert_header("retry-after-ms", "10"),
    )
    .await;
    stub(&server, on("POST"), ok_json(json!({"userStorageKey": "k"}))).await;
    let v = c
        .post_json(&ws_id(), "listKeys", API, Some(&json!({})), false, &ctx)
        .await
        .unwrap();
    assert_eq!(v["userStorageKey"], "k");
    assert_eq!(received(&server).await, 2);
}

#[tokio::test]
async fn not_found_is_none_and_read_after_create_404_is_tolerated_when_asked() {
    let (server, c, _) = mock_arm(fast_retry(2)).await;
    stub_first(
        &server,
        3,
        on("GET"),
        arm_error(404, "ResourceNotFound", "no"),
    )
    .await;
    stub(&server, on("GET"), ok_json(json!({"name": "ws"}))).await;
    assert!(get_ws(&c).await.unwrap().is_none());
    assert_eq!(received(&server).await, 1);
    let ctx = CallContext::default().tolerate_404_for(Duration::from_secs(5));
    assert!(c.get_json(&ws_id(), API, &ctx).await.unwrap().is_some());
    assert_eq!(received(&server).await, 4, "two more 404s, then 200");
}

#[tokio::test]
async fn lro_azure_async_operation_in_progress_then_succeeded() {
    let (server, c, _) = mock_arm(fast_retry(2)).await;
    let op = format!("{}/operations/op1", server.uri());
    stub(
        &server,
        on_path("PUT", ws_path()),
        ResponseTemplate::new(201)
            .insert_header("azure-asyncoperation", op.as_str())
            .insert_header("retry-after", "10")
            .set_body_json(json!({"name": "from-201-body-not-trusted"})),
    )
    .await;
    stub_first(
        &server,
        2,
        on_path("GET", "/operations/op1"),
        ok_json(json!({"status": "InProgress"})),
    )
    .await;
    stub(
        &server,
        on_path("GET", "/operations/op1"),
        ok_json(json!({"status": "succeeded"})),
    )
    .await;
    stub(
        &server,
        on_path("GET", ws_path()),
        ok_json(json!({"name": "ws"})),
    )
    .await;
    let v = c
        .put_and_wait(
            &ws_id(),
            API,
            &json!({"location": "x"}),
            &CallContext::default(),
        )
        .await
        .unwrap();
    assert_eq!(v["name"], "ws", "the final GET's body, not the 201 body");
    assert_eq!(requests_to(&server, "/operations/op1").await.len(), 3);
    let all = server.received_requests().await.unwrap();
    assert_eq!(all.len(), 5);
    let corr: Vec<_> = all
        .iter()
        .map(|r| {
            r.headers
                .get("x-ms-correlation-request-id")
                .unwrap()
                .clone()
        })
        .collect();
    assert!(
        corr.iter().all(|c| *c == corr[0]),
        "one correlation id per logical call"
    );
    let ids: std::collections::HashSet<_> = all
        .iter()
        .map(|r| r.headers.get("x-ms-client-request-id").unwrap().clone())
        .collect();
    assert_eq!(ids.len(), 5, "a fresh client request id per request");
}

#[tokio::test]
async fn lro_failed_operation_carries_arm_code_and_message() {
    let (server, c, _) = mock_arm(fast_retry(2)).await;
    let op = format!("{}/operations/op2", server.uri());
    stub(
        &server,
        on("PATCH"),
        ResponseTemplate::new(201).insert_header("Azure-AsyncOperation", op.as_str()),
    )
    .await;
    stub(&server, on_path("GET", "/operations/op2"), ResponseTemplate::new(200)
                .insert_header("x-ms-request-id", "req-failed-op")
                .set_body_json(json!({"status": "Failed", "error": {"code": "InternalServerError", "message": "identity update rejected"}})),).await;
    let e = patch_empty(&c).await.unwrap_err();
    assert!(matches!(e, AzureError::OperationFailed { .. }), "{e}");
    assert_eq!(e.code(), Some("InternalServerError"));
    assert_eq!(e.request_id(), Some("req-failed-op"));
    let s = e.to_string();
    assert!(
        s.contains("Failed") && s.contains("identity update rejected") && s.contains(&ws_path()),
        "{s}"
    );

    // Canceled (either spelling) is terminal too.
    let (server, c, _) = mock_arm(fast_retry(2)).await;
    let op = format!("{}/operations/op3", server.uri());
    stub(&server, on("PATCH"), async_op(202, &op)).await;
    stub(&server, on("GET"), ok_json(json!({"status": "Cancelled"}))).await;
    let e = patch_empty(&c).await.unwrap_err();
    assert!(
        matches!(&e, AzureError::OperationFailed { state, .. } if state == "Cancelled"),
        "{e}"
    );
}

#[tokio::test]
async fn lro_location_header() {
    let (server, c, _) = mock_arm(fast_retry(2)).await;
    let status = "/subscriptions/s/providers/Microsoft.MachineLearningServices/locations/eastus/workspaceOperationsStatus/abc";
    let loc = format!("{}{status}", server.uri());
    stub(
        &server,
        on("PATCH"),
        location_op(&loc).insert_header("retry-after", "30"),
    )
    .await;
    stub_first(
        &server,
        2,
        on_path("GET", status),
        ResponseTemplate::new(202),
    )
    .await;
    stub(&server, on_path("GET", status), ResponseTemplate::new(200)).await;
    stub(
        &server,
        on_path("GET", ws_path()),
        ok_json(json!({"name": "patched"})),
    )
    .await;
    let v = c
        .patch_and_wait(&ws_id(), API, &json!({"tags": {}}), &CallContext::default())
        .await
        .unwrap();
    assert_eq!(v["name"], "patched");
    assert_eq!(received(&server).await, 5, "PATCH + 3 polls + final GET");

    // A failing Location poll is an error with ARM's code.
    let (server, c, _) = mock_arm(fast_retry(2)).await;
    let loc = format!("{}/op", server.uri());
    stub(&server, on("PATCH"), location_op(&loc)).await;
    stub(
        &server,
        on_path("GET", "/op"),
        arm_error(400, "BadRequest", "nope"),
    )
    .await;
    let e = patch_empty(&c).await.unwrap_err();
    assert_eq!(e.code(), Some("BadRequest"));
}

#[tokio::test]
async fn lro_provisioning_state_without_headers() {
    let (server, c, _) = mock_arm(fast_retry(2)).await;
    stub(&server, on("PUT"), provisioning(201, "Creating")).await;
    stub_first(&server, 2, on("GET"), provisioning(200, "Updating")).await;
    stub(
        &server,
        on("GET"),
        ok_json(json!({"name": "ws", "properties": {"provisioningState": "SUCCEEDED"}})),
    )
    .await;
    let v = put_empty(&c).await.unwrap();
    assert_eq!(v["name"], "ws");
    assert_eq!(
        received(&server).await,
        5,
        "PUT + 3 state polls + final GET"
    );

    let (server, c, _) = mock_arm(fast_retry(2)).await;
    stub(&server, on("PUT"), provisioning(201, "Creating")).await;
    stub(&server, on("GET"), ok_json(json!({"properties": {"provisioningState": "Failed", "error": {"code": "QuotaExceeded", "message": "no cores"}}}))).await;
    let e = put_empty(&c).await.unwrap_err();
    assert_eq!(e.code(), Some("QuotaExceeded"));
}

#[tokio::test]
async fn delete_waits_for_location_and_tolerates_absence() {
    let (server, c, _) = mock_arm(fast_retry(2)).await;
    let loc = format!("{}/op-del", server.uri());
    stub(
        &server,
        on("DELETE").and(query_param("forceToPurge", "true")),
        location_op(&loc),
    )
    .await;
    stub_first(
        &server,
        1,
        on_path("GET", "/op-del"),
        ResponseTemplate::new(202),
    )
    .await;
    stub(
        &server,
        on_path("GET", "/op-del"),
        ResponseTemplate::new(204),
    )
    .await;
    c.delete(
        &ws_id(),
        API,
        &[("forceToPurge", "true")],
        &CallContext::default(),
    )
    .await
    .unwrap();
    assert_eq!(received(&server).await, 3);

    let (server, c, _) = mock_arm(fast_retry(2)).await;
    stub(&server, on("DELETE"), ResponseTemplate::new(404)).await;
    c.delete(&ws_id(), API, &[], &CallContext::default())
        .await
        .unwrap();
}

/// With the real polling policy, an operation that is done within a second costs one poll.
#[tokio::test]
async fn fast_operation_completes_in_at_most_two_polls() {
    let server = MockServer::start().await;
    let op = format!("{}/operations/fast", server.uri());
    // The operation takes 1.2 s: with Retry-After: 10 taken as a floor this would take 10 s.
    let started = Arc::new(std::sync::Mutex::new(None::<std::time::Instant>));
    let s1 = started.clone();
    let op_put = op.clone();
    stub(&server, on("PUT"), move |_: &Request| {
        *s1.lock().unwrap() = Some(std::time::Instant::now());
        ResponseTemplate::new(201)
            .insert_header("azure-asyncoperation", op_put.as_str())
            .insert_header("retry-after", "10")
    })
    .await;
    let s2 = started.clone();
    stub(
        &server,
        on_path("GET", "/operations/fast"),
        move |_: &Request| {
            let done = s2
                .lock()
                .unwrap()
                .is_some_and(|t| t.elapsed() >= Duration::from_millis(1200));
            let status = if done { "Succeeded" } else { "InProgress" };
            ResponseTemplate::new(200)
                .insert_header("retry-after", "10")
                .set_body_json(json!({"status": status}))
        },
    )
    .await;
    stub(
        &server,
        on_path("GET", ws_path()),
        ok_json(json!({"name": "ws"})),
    )
    .await;
    let (c, _) = client_at(
        &server.uri(),
        "s",
        RetryPolicy::default(),
        PollPolicy::default(),
        Duration::from_secs(10),
    )
    .unwrap();
    let t = std::time::Instant::now();
    put_empty(&c).await.unwrap();
    let polls = requests_to(&server, "/operations/fast").await.len();
    // Normally two polls (InProgress at ~1 s, Succeeded at ~2.5 s); one if the machine is slow.
    assert!((1..=2).contains(&polls), "{polls} polls");
    assert!(
        t.elapsed() < Duration::from_secs(8),
        "took {:?} despite Retry-After: 10",
        t.elapsed()
    );
}

#[tokio::test]
async fn cancellation_mid_poll_returns_within_a_second() {
    let server = MockServer::start().await;
    let op = format!("{}/operations/slow", server.uri());
    stub(&server, on("PUT"), async_op(201, &op)).await;
    stub(
        &server,
        on_path("GET", "/operations/slow"),
        ResponseTemplate::new(200)
            .insert_header("retry-after", "60")
            .set_body_json(json!({"status": "InProgress"})),
    )
    .await;
    let poll = PollPolicy {
        initial_interval: Duration::from_secs(30),
        max_interval: Duration::from_secs(60),
        ..Default::default()
    };
    let (c, _) = client_at(
        &server.uri(),
        "s",
        RetryPolicy::default(),
        poll,
        Duration::from_secs(10),
    )
    .unwrap();
    let cancel = CancellationToken::new();
    let ctx = CallContext {
        cancel: cancel.clone(),
        ..Default::default()
    };
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let at = Instant::now();
        cancel.cancel();
        at
    });
    let e = c
        .put_and_wait(&ws_id(), API, &json!({}), &ctx)
        .await
        .unwrap_err();
    let returned = Instant::now();
    let cancelled_at = canceller.await.unwrap();
    assert!(e.is_cancelled(), "{e}");
    assert!(e.to_string().contains("cancelled"), "{e}");
    assert!(returned - cancelled_at < Duration::from_secs(1));
}

#[tokio::test]
async fn deadline_bounds_polling() {
    let (server, c, _) = mock_arm(fast_retry(2)).await;
    let op = format!("{}/operations/never", server.uri());
    stub(&server, on("PUT"), async_op(201, &op)).await;
    stub(&server, on("GET"), ok_json(json!({"status": "Running"}))).await;
    let ctx = CallContext::with_timeout(Duration::from_millis(400), CancellationToken::new());
    let t = std::time::Instant::now();
    let e = c
        .put_and_wait(&ws_id(), API, &json!({}), &ctx)
        .await
        .unwrap_err();
    assert!(matches!(e, AzureError::DeadlineExceeded { .. }), "{e}");
    assert!(e.to_string().contains("Running"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn poll_urls_on_other_hosts_are_refused() {
    let (server, c, _) = mock_arm(fast_retry(2)).await;
    stub(
        &server,
        on("PUT"),
        ResponseTemplate::new(201).insert_header("azure-asyncoperation", "https://evil.example/op"),
    )
    .await;
    let e = put_empty(&c).await.unwrap_err();
    assert!(matches!(e, AzureError::InsecureEndpoint { .. }), "{e}");
    assert!(e.to_string().contains("Azure-AsyncOperation URL"), "{e}");
    assert_eq!(received(&server).await, 1);
}

#[tokio::test]
async fn connection_errors_are_retried_then_reported() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let (c, _) = client_at(
        &format!("http://127.0.0.1:{port}"),
        "s",
        fast_retry(2),
        fast_poll(),
        Duration::from_secs(5),
    )
    .unwrap();
    let e = get_ws(&c).await.unwrap_err();
    assert!(
        matches!(e, AzureError::Transport { attempts: 3, .. }),
        "{e}"
    );
    assert_eq!(c.request_count(), 3);
}

#[test]
fn plain_http_is_refused_off_loopback() {
    let e = client_at(
        "http://management.example.com",
        "s",
        RetryPolicy::default(),
        PollPolicy::default(),
        Duration::from_secs(5),
    )
    .unwrap_err();
    assert!(matches!(e, AzureError::InsecureEndpoint { .. }), "{e}");
}

#[tokio::test]
async fn list_all_follows_next_link_on_the_arm_host_only() {
    let (server, c, _) = mock_arm(fast_retry(1)).await;
    let coll = format!("{}/datastores", ws_path());
    let next = format!("{}{}?api-version={API}&$skip=abc", server.uri(), coll);
    stub(
        &server,
        on_path("GET", coll.clone()).and(query_param("$skip", "abc")),
        ok_json(json!({"value": [{"name": "c"}]})),
    )
    .await;
    stub(
        &server,
        on_path("GET", coll.clone()).and(query_param("count", "2")),
        ok_json(json!({"value": [{"name": "a"}, {"name": "b"}], "nextLink": next})),
    )
    .await;
    let items = c
        .list_all(&coll, API, &[("count", "2")], &CallContext::default())
        .await
        .unwrap();
    let names: Vec<_> = items.iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["a", "b", "c"]);

    let (server, c, _) = mock_arm(fast_retry(1)).await;
    stub(
        &server,
        on("GET"),
        ok_json(json!({"value": [], "nextLink": "https://elsewhere.example/page2"})),
    )
    .await;
    let e = c
        .list_all(&coll, API, &[], &CallContext::default())
        .await
        .unwrap_err();
    assert!(matches!(e, AzureError::InsecureEndpoint { .. }), "{e}");
    // Named as what it is: a page link, not a long-running operation.
    assert!(e.to_string().contains("nextLink"), "{e}");
    assert!(!e.to_string().contains("long-running"), "{e}");
}

/// The pager reads one page per call, follows a signed absolute `nextLink` exactly as given
/// (same token, query untouched), stops when the caller stops, and tells a missing
/// collection (404) from an empty one.
#[tokio::test]
async fn pager_follows_signed_next_links_page_by_page() {
    let (server, c, _) = mock_arm(fast_retry(1)).await;
    let coll = format!("{}/computes", ws_path());
    let next = format!(
        "{}{}?api-version={API}&$skiptoken=eyJvIjoyfQ&sig=0a1b2c",
        server.uri(),
        coll
    );
    stub(
        &server,
        on_path("GET", coll.clone())
            .and(query_param("$skiptoken", "eyJvIjoyfQ"))
            .and(query_param("sig", "0a1b2c"))
            .and(header_exists("authorization")),
        ok_json(json!({"value": [{"name": "c"}]})),
    )
    .await;
    stub(
        &server,
        on_path("GET", coll.clone()),
        ok_json(json!({"value": [{"name": "a"}, {"name": "b"}], "nextLink": next})),
    )
    .await;
    let ctx = CallContext::default();

    let mut pager = c.pages(&coll, API, &[]).unwrap();
    let first = pager.next_page(&ctx).await.unwrap().unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(pager.pages_read(), 1);
    // A caller that has enough stops here: the second page is never requested.
    drop(pager);
    assert_eq!(requests_to(&server, &coll).await.len(), 1);

    let mut pager = c.pages(&coll, API, &[]).unwrap();
    let mut names = Vec::new();
    while let Some(page) = pager.next_page(&ctx).await.unwrap() {
        names.extend(page.iter().map(|v| v["name"].as_str().unwrap().to_string()));
    }
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(pager.pages_read(), 2);
    assert!(!pager.missing());
    let reqs = requests_to(&server, &coll).await;
    let last = reqs
        .last()
        .unwrap()
        .url
        .query()
        .unwrap_or_default()
        .to_string();
    assert!(
        last.contains("$skiptoken=eyJvIjoyfQ") && last.contains("sig=0a1b2c"),
        "the nextLink is used as given: {last}"
    );

    let (server, c, _) = mock_arm(fast_retry(1)).await;
    stub(
        &server,
        on("GET"),
        arm_error(404, "ResourceNotFound", "gone"),
    )
    .await;
    let mut pager = c.pages(&coll, API, &[]).unwrap();
    assert!(pager.next_page(&ctx).await.unwrap().is_none());
    assert!(pager.missing(), "404 on the collection itself");
}

#[tokio::test]
async fn names_with_url_metacharacters_are_encoded_and_base_paths_kept() {
    let server = MockServer::start().await;
    stub(&server, on_path("GET", 
            "/arm/subscriptions/s/resourceGroups/rg%3Fx/providers/Microsoft.ContainerRegistry/registries/a%23b",
        ).and(query_param("api-version", API)), ok_json(json!({"ok": 1}))).await;
    let (c, _) = client_at(
        &format!("{}/arm/", server.uri()),
        "s",
        fast_retry(0),
        fast_poll(),
        Duration::from_secs(5),
    )
    .unwrap();
    let id = ResourceId::new_container_registry("s", "rg?x", "a#b");
    let v = c.get_json(&id, API, &CallContext::default()).await.unwrap();
    assert_eq!(v.unwrap()["ok"], 1);
}

/// An ARM endpoint whose certificate is not trusted fails after one attempt with the host,
/// the reason and the `ca_bundle` hint, whatever `max_retries` says.
#[tokio::test]
async fn tls_failures_are_not_retried() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert = rustls::pki_types::CertificateDer::from(ck.cert.der().to_vec());
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        ck.signing_key.serialize_der(),
    ));
    let cfg = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepts = Arc::new(AtomicUsize::new(0));
    let seen = accepts.clone();
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            let _ = acceptor.accept(tcp).await;
        }
    });
    let (c, _) = client_at(
        &format!("https://localhost:{port}/"),
        MGMT_SCOPE,
        fast_retry(5),
        fast_poll(),
        Duration::from_secs(10),
    )
    .unwrap();
    let e = get_ws(&c).await.unwrap_err().to_string();
    assert_eq!(accepts.load(Ordering::SeqCst), 1, "{e}");
    assert!(
        e.contains("TLS connection to localhost failed")
            && e.contains("unknown issuer")
            && e.contains("ca_bundle"),
        "{e}"
    );
    task.abort();
}
