//! Captures every log line (all crates, trace level) of a run that authenticates with a
//! client secret, sends an account key in a request body, reads it back from a response and
//! uses a bearer token, and checks that none of those secrets appear.

mod azure_support;

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use amlauth::azure::{ArmClient, AuthConfig, CallContext, ResourceId};
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{post, put};
use axum::{Form, Json, Router};
use azure_support::{env, start_tls, token_reply};
use serde_json::{Value, json};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const CLIENT_SECRET: &str = "Cl13nt-S3cret~Value.0123456789";
const ACCESS_TOKEN: &str = "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJhcm0ifQ.AccessTokenSignaturePart";
const ACCOUNT_KEY: &str = "U3RvcmFnZUFjY291bnRLZXlWYWx1ZQ==";
const SAS: &str = "sv=2022-11-02&ss=b&sig=SasSignatureValue123";

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn authorised(h: &HeaderMap) -> bool {
    h.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {ACCESS_TOKEN}"))
}

#[tokio::test]
async fn no_secret_reaches_the_logs() {
    let buf = Buf::default();
    let writer = buf.clone();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish(),
    )
    .unwrap();

    let seen_key = Arc::new(Mutex::new(false));
    let seen_key2 = seen_key.clone();
    let router = Router::new()
        .route(
            "/{tenant}/oauth2/v2.0/token",
            post(|Form(f): Form<HashMap<String, String>>| async move {
                if f.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET) {
                    (StatusCode::OK, Json(token_reply(ACCESS_TOKEN)))
                } else {
                    (StatusCode::UNAUTHORIZED, Json(json!({"error": "invalid_client"})))
                }
            }),
        )
        .route(
            "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}/datastores/{ds}",
            put(move |h: HeaderMap, Json(body): Json<Value>| async move {
                if !authorised(&h) {
                    return (StatusCode::UNAUTHORIZED, Json(json!({})));
                }
                let key = &body["properties"]["credentials"]["secrets"]["key"];
                *seen_key2.lock().unwrap() = key == ACCOUNT_KEY;
                (
                    StatusCode::OK,
                    Json(json!({"name": "blob", "properties": {"credentials": {"credentialsType": "AccountKey", "secrets": {"secretsType": "AccountKey"}}}})),
                )
            }),
        )
        .route(
            "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}/datastores/{ds}/listSecrets",
            post(|h: HeaderMap, Path(_p): Path<HashMap<String, String>>| async move {
                if !authorised(&h) {
                    return (StatusCode::UNAUTHORIZED, Json(json!({})));
                }
                (StatusCode::OK, Json(json!({"secretsType": "AccountKey", "key": ACCOUNT_KEY, "note": format!("https://stg.blob.core.windows.net/c?{SAS}")})))
            }),
        );
    let server = start_tls(router).await;

    let cfg = AuthConfig {
        tenant_id: Some(TENANT.into()),
        client_id: Some(CLIENT.into()),
        client_secret: Some(CLIENT_SECRET.into()),
        use_cli: Some(false),
        resource_manager_endpoint: Some(server.url()),
        authority_host: Some(server.url()),
        ca_bundle: Some(server.ca_file.to_string_lossy().into_owned()),
        ..Default::default()
    }
    .resolve(&env(&[]))
    .unwrap();
    let client = ArmClient::from_config(&cfg).unwrap();
    let id =
        ResourceId::new_ml_datastore("00000000-0000-0000-0000-000000000001", "rg", "ws", "blob");
    let ctx = CallContext::default();
    let body = json!({"properties": {
        "datastoreType": "AzureBlob", "accountName": "stg", "containerName": "c",
        "credentials": {"credentialsType": "AccountKey", "secrets": {"secretsType": "AccountKey", "key": ACCOUNT_KEY}},
        "description": format!("sas {SAS}")
    }});
    let put = client
        .put_sync(
            &id,
            "2025-06-01",
            &[("skipValidation", "true")],
            &body,
            &ctx,
        )
        .await
        .unwrap();
    assert_eq!(put["name"], "blob");
    assert!(
        *seen_key.lock().unwrap(),
        "the account key must really have been sent"
    );
    let secrets = client
        .post_json(&id, "listSecrets", "2025-06-01", None, true, &ctx)
        .await
        .unwrap();
    assert_eq!(secrets["key"], ACCOUNT_KEY);

    let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    if std::env::var_os("SHOW_LOGS").is_some() {
        eprintln!("{logs}");
    }
    // The capture works and saw the traffic, bodies included...
    assert!(
        logs.contains("ARM request"),
        "no request log captured:\n{logs}"
    );
    assert!(
        logs.contains("ARM request body") && logs.contains("ARM response body"),
        "bodies not logged at trace:\n{logs}"
    );
    assert!(
        logs.contains("api_version=2025-06-01") && logs.contains("status=200"),
        "{logs}"
    );
    assert!(logs.contains("[REDACTED]"), "{logs}");
    // ...and none of the secrets.
    for (name, secret) in [
        ("client secret", CLIENT_SECRET),
        ("access token", ACCESS_TOKEN),
        ("access token signature", "AccessTokenSignaturePart"),
        ("account key", ACCOUNT_KEY),
        ("SAS signature", "SasSignatureValue123"),
    ] {
        assert!(
            !logs.contains(secret),
            "{name} leaked into the logs:\n{logs}"
        );
    }
}
