//! State file: restart restores everything; `kill -9` during a stream of writes leaves an
//! intact file holding every acknowledged write.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use amlauth_emulator::{Emulator, EmulatorConfig, State};
use common::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn restart_restores_resources_operations_and_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let state_path = dir.path().join("state.json");
    let cfg = || EmulatorConfig {
        state_file: Some(state_path.clone()),
        ..common::config()
    };
    let h = Harness::with_config(cfg()).await;
    let uai = make_uai(&h, "uai-keep").await;
    make_workspace(
        &h,
        "ws-keep",
        json!({"location": "eastus", "identity": {"type": "SystemAssigned"}}),
    )
    .await;
    let acr = h.put(&acr_path("keepacr1"), ACR, json!({"location": "eastus", "sku": {"name": "Basic"}, "properties": {"adminUserEnabled": true}})).await;
    h.poll(&acr.header("azure-asyncoperation").unwrap()).await;
    let creds = h
        .arm(
            Method::POST,
            &format!("{}/listCredentials", acr_path("keepacr1")),
            ACR,
            None,
        )
        .await;
    // Leave an operation running across the restart.
    let mut s = h.emu.settings();
    s.durations.registry = Duration::from_millis(1500);
    // The spec's shapes: an asynchronous PATCH (Azure answers it at once).
    s.quirks.shapes = amlauth_emulator::Shapes::Spec;
    h.emu.set_settings(s);
    let running = h
        .patch(&acr_path("keepacr1"), ACR, json!({"tags": {"t": "1"}}))
        .await;
    let op_url = running.header("azure-asyncoperation").unwrap();
    let old_token = h.token.clone();
    h.emu.shutdown().await;

    let emu2 = Emulator::start(cfg()).await.unwrap();
    let http = client_for(&emu2);
    let fix = |path: &str| format!("{}{}", emu2.base_url(), path);
    let get = |url: String| {
        let http = http.clone();
        let tok = old_token.clone();
        async move { http.get(url).bearer_auth(tok).send().await.unwrap() }
    };
    // The token issued before the restart is still honoured.
    let r = get(fix(&format!("{}?api-version={MSI}", uai_path("uai-keep")))).await;
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        v["properties"]["principalId"],
        uai["properties"]["principalId"]
    );
    let ws: serde_json::Value = get(fix(&format!("{}?api-version={ML}", ws_path("ws-keep"))))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ws["properties"]["provisioningState"], "Succeeded");
    let c: serde_json::Value = http
        .post(fix(&format!(
            "{}/listCredentials?api-version={ACR}",
            acr_path("keepacr1")
        )))
        .bearer_auth(&old_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(c, creds.body, "registry passwords survive a restart");
    // The operation started before the restart still completes.
    let port_old = op_url.split('/').nth(2).unwrap().to_string();
    let new_op = op_url.replace(&port_old, emu2.base_url().trim_start_matches("https://"));
    let mut status = String::new();
    for _ in 0..50 {
        let st: serde_json::Value = get(new_op.clone()).await.json().await.unwrap();
        status = st["status"].as_str().unwrap().to_string();
        if status != "InProgress" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "Succeeded");
}

struct Proc {
    child: Child,
    url: String,
}

fn spawn_binary(dir: &Path) -> Proc {
    let mut child = Command::new(env!("CARGO_BIN_EXE_amlauth-emulator"))
        .arg("--state")
        .arg(dir.join("state.json"))
        .arg("--seed")
        .arg(dir.join("seed.json"))
        .arg("--ca-out")
        .arg(dir.join("ca.pem"))
        .arg("--operation-ms")
        .arg("0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    assert!(line.starts_with("READY "), "unexpected first line {line:?}");
    let url = line.split_whitespace().nth(1).unwrap().to_string();
    Proc { child, url }
}

async fn token(http: &reqwest::Client, url: &str) -> String {
    let token_url = format!(
        "{url}/{}/oauth2/v2.0/token",
        amlauth_emulator::DEFAULT_TENANT_ID
    );
    client_token(http, &token_url, "https://management.azure.com/.default").await
}

fn https_client(dir: &Path) -> reqwest::Client {
    let pem = std::fs::read(dir.join("ca.pem")).unwrap();
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()])
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_writes_never_loses_an_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("seed.json"),
        json!({"clients": [{"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET}],
               "subscriptions": [{"id": SUB, "resourceGroups": [{"name": RG, "location": "eastus"}]}]})
        .to_string(),
    )
    .unwrap();
    let acknowledged: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    for round in 0..3u32 {
        let mut p = spawn_binary(dir.path());
        let http = https_client(dir.path());
        let tok = token(&http, &p.url).await;
        let writers: Vec<_> = (0..2)
            .map(|w| {
                let http = http.clone();
                let url = p.url.clone();
                let tok = tok.clone();
                let acked = acknowledged.clone();
                tokio::spawn(async move {
                    for i in 0.. {
                        let name = format!("uai-r{round}-w{w}-{i}");
                        let r = http
                            .put(format!("{url}{}?api-version={MSI}", uai_path(&name)))
                            .bearer_auth(&tok)
                            .json(&json!({"location": "eastus", "tags": {"i": i.to_string()}}))
                            .send()
                            .await;
                        match r {
                            Ok(resp) if resp.status() == 201 => acked.lock().unwrap().push(name),
                            Ok(resp) => panic!("unexpected status {}", resp.status()),
                            Err(_) => break,
                        }
                    }
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(400 + 250 * u64::from(round))).await;
        p.child.kill().unwrap(); // SIGKILL
        p.child.wait().unwrap();
        for w in writers {
            w.await.unwrap();
        }

        let bytes = std::fs::read(dir.path().join("state.json")).expect("state file exists");
        let state: State = serde_json::from_slice(&bytes).expect("state file is intact JSON");
        let acked = acknowledged.lock().unwrap().clone();
        assert!(
            acked.len() > 5,
            "round {round}: too few writes ({}) to mean anything",
            acked.len()
        );
        for name in &acked {
            assert!(
                state.get(&uai_path(name)).is_some(),
                "round {round}: acknowledged {name} missing from the state file"
            );
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp-"))
            .collect();
        assert!(
            leftovers.len() <= 1,
            "at most the in-flight temp file remains: {leftovers:?}"
        );

        // Restart: every acknowledged write is served again.
        let mut p2 = spawn_binary(dir.path());
        let http2 = https_client(dir.path());
        let tok2 = token(&http2, &p2.url).await;
        let list: serde_json::Value = http2
            .get(format!(
                "{}{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version={MSI}",
                p2.url,
                rg_path()
            ))
            .bearer_auth(&tok2)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let served: Vec<&str> = list["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap())
            .collect();
        for name in &acked {
            assert!(
                served.contains(&name.as_str()),
                "round {round}: {name} not served after restart"
            );
        }
        p2.child.kill().unwrap();
        p2.child.wait().unwrap();
    }
}
