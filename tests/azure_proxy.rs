//! Proxy settings from the environment: used for remote hosts, bypassed for `NO_PROXY`
//! hosts and always for loopback (like Go's net/http, which Terraform uses).

mod azure_support;

use std::sync::Arc;
use std::time::Duration;

use amlauth::azure::http::build_http_client_with_env;
use amlauth::azure::{
    ArmClient, ArmClientOptions, AzureError, CallContext, PollPolicy, ResourceId, RetryPolicy,
    StaticToken,
};
use azure_core::credentials::Secret;
use azure_support::env;
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

/// A "proxy" that records the first request line it receives and hangs up.
async fn recording_proxy() -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = vec![0u8; 1024];
            let n = sock.read(&mut buf).await.unwrap_or(0);
            let text = String::from_utf8_lossy(&buf[..n]).to_string();
            log.lock()
                .unwrap()
                .push(text.lines().next().unwrap_or("").to_string());
        }
    });
    (url, seen)
}

#[tokio::test]
async fn https_proxy_is_used_for_remote_hosts() {
    let (proxy, seen) = recording_proxy().await;
    let id = ResourceId::new_container_registry("s", "rg", "acr1");
    let http = build_http_client_with_env(None, &env(&[("https_proxy", &proxy)])).unwrap();
    let e = client(http, "https://management.invalid")
        .get_json(&id, "2025-11-01", &CallContext::default())
        .await
        .unwrap_err();
    assert!(matches!(e, AzureError::Transport { .. }), "{e}");
    let lines = seen.lock().unwrap().clone();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("CONNECT management.invalid:443"),
        "{lines:?}"
    );
}

#[tokio::test]
async fn no_proxy_and_loopback_bypass_the_proxy() {
    let (proxy, seen) = recording_proxy().await;
    let id = ResourceId::new_container_registry("s", "rg", "acr1");
    let ctx = CallContext::default();

    // NO_PROXY host: a direct (failing) lookup, the proxy sees nothing.
    let http = build_http_client_with_env(
        None,
        &env(&[
            ("HTTPS_PROXY", &proxy),
            ("NO_PROXY", "example.org,.invalid"),
        ]),
    )
    .unwrap();
    let e = client(http, "https://management.invalid")
        .get_json(&id, "2025-11-01", &ctx)
        .await
        .unwrap_err();
    assert!(matches!(e, AzureError::Transport { .. }), "{e}");

    // Loopback: reaches the local server directly although HTTP_PROXY is set and NO_PROXY
    // does not mention it.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(id.to_string()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"via": "direct"})))
        .mount(&server)
        .await;
    let port = server.address().port();
    let http = build_http_client_with_env(
        None,
        &env(&[("HTTP_PROXY", &proxy), ("NO_PROXY", "example.org")]),
    )
    .unwrap();
    let v = client(http, &format!("http://localhost:{port}"))
        .get_json(&id, "2025-11-01", &ctx)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v["via"], "direct");
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
}

#[test]
fn invalid_proxy_url_names_the_variable() {
    let e = build_http_client_with_env(None, &env(&[("https_proxy", "http://[::1")])).unwrap_err();
    assert!(e.to_string().contains("`https_proxy`"), "{e}");
}
