//! `HTTP(S)_PROXY` and `NO_PROXY` are honoured by the client `build_http_client` makes.
//! This binary holds a single test because it sets process environment variables.

use std::sync::Arc;
use std::time::Duration;

use amlauth::azure::http::build_http_client;
use amlauth::azure::{
    ArmClient, ArmClientOptions, AzureError, CallContext, PollPolicy, ResourceId, RetryPolicy,
    StaticToken,
};
use azure_core::credentials::Secret;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(http: reqwest::Client, base: &str) -> ArmClient {
    ArmClient::new(
        Arc::new(StaticToken(Secret::new("t"))),
        ArmClientOptions {
            base_url: base.parse().unwrap(),
            scope: "s".into(),
            retry: RetryPolicy {
                max_retries: 0,
                ..Default::default()
            },
            poll: PollPolicy::default(),
            http,
            attempt_timeout: Duration::from_secs(5),
        },
    )
    .unwrap()
}

#[tokio::test]
async fn proxy_variables_are_honoured() {
    let proxy = MockServer::start().await;
    let id = ResourceId::new_container_registry("s", "rg", "acr1");
    Mock::given(method("GET"))
        .and(path(id.to_string()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"via": "proxy"})))
        .mount(&proxy)
        .await;
    // Nothing listens on this port: only the proxy can answer.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let base = format!("http://localhost:{port}");

    // SAFETY: this test binary has a single test, so nothing reads the environment concurrently.
    unsafe {
        std::env::set_var("HTTP_PROXY", proxy.uri());
        std::env::remove_var("NO_PROXY");
        std::env::remove_var("no_proxy");
    }
    let c = client(build_http_client(None).unwrap(), &base);
    let v = c
        .get_json(&id, "2025-11-01", &CallContext::default())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v["via"], "proxy");
    assert_eq!(proxy.received_requests().await.unwrap().len(), 1);

    unsafe {
        std::env::set_var("NO_PROXY", "localhost");
    }
    let c = client(build_http_client(None).unwrap(), &base);
    let e = c
        .get_json(&id, "2025-11-01", &CallContext::default())
        .await
        .unwrap_err();
    assert!(matches!(e, AzureError::Transport { .. }), "{e}");
    assert_eq!(
        proxy.received_requests().await.unwrap().len(),
        1,
        "NO_PROXY must bypass the proxy"
    );
}
