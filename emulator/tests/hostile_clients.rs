//! The control API and the HTTP layer against hostile or broken clients (issue 14.5): bodies of
//! the wrong shape are refused before they are stored, a state file holding one is refused at
//! start, stalled headers are cut off, and requests ARM's front end rejects are rejected.

mod common;

use std::time::Duration;

use amlauth_emulator::{Emulator, EmulatorConfig};
use common::*;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Out-of-band shapes that used to be stored as sent; the next ordinary read then indexed into
/// the wrong JSON type.
fn bad_patches() -> Vec<Value> {
    vec![
        json!([1, 2, 3]),
        json!("text"),
        json!(42),
        json!(true),
        json!({"properties": "a string"}),
        json!({"properties": 7}),
        json!({"properties": [1, 2]}),
        json!({"identity": [1]}),
        json!({"identity": {"type": 5}}),
        json!({"identity": {"userAssignedIdentities": "x"}}),
        json!({"tags": ["a"]}),
        json!({"sku": "Basic"}),
        json!({"properties": {"provisioningState": {"x": 1}}}),
        json!({"name": 1}),
    ]
}

#[tokio::test]
async fn control_patch_refuses_shapes_that_would_break_reads() {
    let h = Harness::start().await;
    let ws = ws_path("ws-shape");
    make_workspace(&h, "ws-shape", json!({"location": "eastus"})).await;
    for patch in bad_patches() {
        let url = format!("/resource?id={}", urlencode(&ws));
        let a = h.control(Method::PATCH, &url, Some(patch.clone())).await;
        assert_eq!(a.status, 400, "{patch}: {}", a.body);
        assert_eq!(a.code(), "InvalidResourceShape", "{patch}: {}", a.body);
        assert!(
            a.body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("must be")),
            "the reason is given: {}",
            a.body
        );
        // Nothing was stored: ordinary reads still answer.
        let g = h.get(&ws, ML).await;
        assert_eq!(g.status, 200, "after {patch}: {}", g.body);
        assert!(g.body["properties"].is_object());
        let list = h
            .get(
                &format!(
                    "{}/providers/Microsoft.MachineLearningServices/workspaces",
                    rg_path()
                ),
                ML,
            )
            .await;
        assert_eq!(list.status, 200, "{}", list.body);
    }
    // A well-formed patch is still applied.
    let url = format!("/resource?id={}", urlencode(&ws));
    let ok = h
        .control(Method::PATCH, &url, Some(json!({"tags": {"drift": "yes"}})))
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(h.get(&ws, ML).await.body["tags"]["drift"], "yes");
}

#[tokio::test]
async fn control_put_refuses_a_body_that_is_not_an_object() {
    let h = Harness::start().await;
    let id = format!(
        "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/raw",
        rg_path()
    );
    for body in [
        json!([1, 2, 3]),
        json!({"properties": "s"}),
        json!({"identity": 1}),
    ] {
        let url = format!("/resource?id={}&kind=identity", urlencode(&id));
        let a = h.control(Method::PUT, &url, Some(body.clone())).await;
        assert_eq!(a.status, 400, "{body}: {}", a.body);
        assert_eq!(a.code(), "InvalidResourceShape");
    }
    let g = h.get(&id, MSI).await;
    assert_eq!(g.status, 404, "nothing was stored: {}", g.body);
}

#[tokio::test]
async fn a_state_file_with_a_malformed_resource_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    {
        let mut cfg = config();
        cfg.state_file = Some(path.clone());
        let h = Harness::with_config(cfg).await;
        make_uai(&h, "uai-ok").await;
        h.emu.shutdown().await;
    }
    // Hand-edit the file the way an older emulator could have written it.
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let resources = doc["resources"].as_object_mut().unwrap();
    let key = resources
        .keys()
        .find(|k| k.ends_with("/uai-ok"))
        .unwrap()
        .clone();
    resources[&key]["body"] = json!([1, 2, 3]);
    std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();

    let mut cfg = config();
    cfg.state_file = Some(path.clone());
    let err = match Emulator::start(cfg).await {
        Ok(_) => panic!("a malformed state file must be refused"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("state file"), "{err}");
    assert!(err.contains("must be a JSON object"), "{err}");
    assert!(err.contains("uai-ok"), "names the resource: {err}");
}

fn http_config() -> EmulatorConfig {
    EmulatorConfig {
        https: false,
        header_read_timeout: Duration::from_secs(1),
        ..config()
    }
}

fn host_port(emu: &amlauth_emulator::RunningEmulator) -> String {
    emu.base_url().trim_start_matches("http://").to_string()
}

/// Reads until the peer closes (or 10 s pass, which fails the test).
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    match tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf)).await {
        Ok(_) => String::from_utf8_lossy(&buf).into_owned(),
        Err(_) => panic!(
            "the emulator kept the connection open: {:?}",
            String::from_utf8_lossy(&buf)
        ),
    }
}

#[tokio::test]
async fn partial_headers_are_cut_off() {
    let h = Harness::with_config(http_config()).await;
    let mut s = TcpStream::connect(host_port(&h.emu)).await.unwrap();
    s.write_all(b"GET /_emulator/health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .await
        .unwrap();
    let answer = read_to_close(&mut s).await;
    // hyper answers 408 or just closes; either way the connection is released.
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    // The server still serves everyone else.
    let ok = h.control(Method::GET, "/health", None).await;
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn http11_without_host_is_a_bad_request() {
    let h = Harness::with_config(http_config()).await;
    let mut s = TcpStream::connect(host_port(&h.emu)).await.unwrap();
    let req = format!(
        "GET /subscriptions/{SUB}?api-version={RES} HTTP/1.1\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        h.token
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let answer = read_to_close(&mut s).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("Invalid Hostname"), "{answer}");

    // The same request with Host is answered.
    let mut s = TcpStream::connect(host_port(&h.emu)).await.unwrap();
    let req = format!(
        "GET /subscriptions/{SUB}?api-version={RES} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        h.token
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let answer = read_to_close(&mut s).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn an_encoded_slash_in_a_name_is_a_bad_request() {
    let h = Harness::start().await;
    make_uai(&h, "abc").await;
    // `a%2Fb` must not be read as `a/b` (another path), nor find `a`.
    for path in [
        format!(
            "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/abc%2Fdef",
            rg_path()
        ),
        format!(
            "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/abc%2f",
            rg_path()
        ),
    ] {
        let a = h.get(&path, MSI).await;
        assert_eq!(a.status, 400, "{path}: {}", a.body);
        assert_eq!(a.code(), "InvalidRequestUri", "{}", a.body);
    }
    let put = h
        .put(
            &format!(
                "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x%2Fy",
                rg_path()
            ),
            MSI,
            json!({"location": "eastus"}),
        )
        .await;
    assert_eq!(put.status, 400, "{}", put.body);
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
