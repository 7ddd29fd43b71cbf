//! Shared helpers for the emulator's integration tests: start an emulator, get a token,
//! call ARM over real HTTPS.
#![allow(dead_code)]

use std::time::Duration;

use amlauth_emulator::{Emulator, EmulatorConfig, OperationDurations, RunningEmulator};
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::{Value, json};

pub const CLIENT_ID: &str = "11111111-2222-4333-8444-555555555555";
pub const CLIENT_SECRET: &str = "test-secret-value";
pub const SUB: &str = amlauth_emulator::DEFAULT_SUBSCRIPTION_ID;
pub const RG: &str = "rg-test";
pub const ML: &str = "2025-06-01";
pub const ACR: &str = "2025-11-01";
pub const MSI: &str = "2024-11-30";
pub const RES: &str = "2021-04-01";
pub const AUTHZ: &str = "2022-04-01";

pub struct Harness {
    pub emu: RunningEmulator,
    pub http: reqwest::Client,
    pub token: String,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }
}

pub fn client_for(emu: &RunningEmulator) -> reqwest::Client {
    let mut b = reqwest::Client::builder().timeout(Duration::from_secs(20));
    if let Some(der) = emu.ca_der() {
        b = b.tls_certs_only([reqwest::Certificate::from_der(der).unwrap()]);
    }
    b.build().unwrap()
}

pub fn config() -> EmulatorConfig {
    EmulatorConfig {
        durations: OperationDurations {
            workspace: Duration::from_millis(300),
            compute: Duration::from_millis(300),
            registry: Duration::from_millis(300),
        },
        clients: vec![amlauth_emulator::ClientSecret {
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
        }],
        seed: Some(
            json!({"subscriptions": [{"id": SUB, "resourceGroups": [{"name": RG, "location": "eastus"}]}]}),
        ),
        ..EmulatorConfig::default()
    }
}

/// A token for the test client (client-credentials grant) from the token endpoint `token_url`.
pub async fn client_token(http: &reqwest::Client, token_url: &str, scope: &str) -> String {
    let resp = http
        .post(token_url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

impl Harness {
    pub async fn start() -> Self {
        Self::with_config(config()).await
    }

    pub async fn with_config(config: EmulatorConfig) -> Self {
        let emu = Emulator::start(config).await.expect("emulator starts");
        let http = client_for(&emu);
        let mut h = Harness {
            emu,
            http,
            token: String::new(),
        };
        h.token = h.fetch_token("https://management.azure.com/.default").await;
        h
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.emu.base_url(), path)
    }

    pub async fn fetch_token(&self, scope: &str) -> String {
        client_token(&self.http, &self.emu.token_url(), scope).await
    }

    pub async fn raw(
        &self,
        method: Method,
        url: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Answer {
        let mut req = self.http.request(method, url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    /// ARM call with the harness token; `path` without query; `api` appended.
    pub async fn arm(&self, method: Method, path: &str, api: &str, body: Option<Value>) -> Answer {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = format!("{}{sep}api-version={api}", self.url(path));
        self.raw(method, &url, Some(&self.token), body.as_ref())
            .await
    }

    pub async fn get(&self, path: &str, api: &str) -> Answer {
        self.arm(Method::GET, path, api, None).await
    }

    pub async fn put(&self, path: &str, api: &str, body: Value) -> Answer {
        self.arm(Method::PUT, path, api, Some(body)).await
    }

    pub async fn patch(&self, path: &str, api: &str, body: Value) -> Answer {
        self.arm(Method::PATCH, path, api, Some(body)).await
    }

    /// Polls an absolute URL until it stops answering 202 (Location) or reports a terminal status.
    pub async fn poll(&self, url: &str) -> Answer {
        for _ in 0..100 {
            let a = self.raw(Method::GET, url, Some(&self.token), None).await;
            let running = a.status == StatusCode::ACCEPTED
                || a.body.get("status").and_then(Value::as_str) == Some("InProgress");
            if !running {
                return a;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("operation at {url} did not finish");
    }

    pub async fn control(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let url = self.url(&format!("/_emulator{path}"));
        self.raw(method, &url, None, body.as_ref()).await
    }
}

pub fn rg_path() -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{RG}")
}

pub fn ws_path(name: &str) -> String {
    format!(
        "{}/providers/Microsoft.MachineLearningServices/workspaces/{name}",
        rg_path()
    )
}

pub fn acr_path(name: &str) -> String {
    format!(
        "{}/providers/Microsoft.ContainerRegistry/registries/{name}",
        rg_path()
    )
}

pub fn uai_path(name: &str) -> String {
    format!(
        "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
        rg_path()
    )
}

/// Creates a user-assigned identity; returns its body.
pub async fn make_uai(h: &Harness, name: &str) -> Value {
    let a = h
        .put(&uai_path(name), MSI, json!({"location": "eastus"}))
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    a.body
}

/// Creates a workspace and waits for it.
pub async fn make_workspace(h: &Harness, name: &str, body: Value) -> Value {
    let a = h.put(&ws_path(name), ML, body).await;
    assert_eq!(a.status, 202, "{}", a.body);
    let loc = a.header("location").expect("Location header");
    let done = h.poll(&loc).await;
    assert_eq!(done.status, 200, "{}", done.body);
    h.get(&ws_path(name), ML).await.body
}

/// Switches the running emulator to the REST spec's answer shapes (`--spec-shapes`).
pub fn use_spec_shapes(h: &Harness) {
    let mut s = h.emu.settings();
    s.quirks.shapes = amlauth_emulator::Shapes::Spec;
    h.emu.set_settings(s);
}

/// Makes every operation take two seconds, for tests that must observe one while it runs
/// (robust against a slow, loaded machine).
pub fn slow_operations(h: &Harness) {
    let mut s = h.emu.settings();
    let d = Duration::from_secs(2);
    s.durations = OperationDurations {
        workspace: d,
        compute: d,
        registry: d,
    };
    h.emu.set_settings(s);
}
