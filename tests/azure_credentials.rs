//! Every credential type gets a token from local endpoints; the chain picks methods in
//! azurerm's order, caches per (tenant, scope), and reports failures without secrets.

mod azure_support;

use std::collections::HashMap;
use std::ffi::OsStr;
use std::net::SocketAddr;
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use amlauth::azure::config::AuthConfig;
use amlauth::azure::credential::{AuthMethod, CredentialChain, CredentialOptions, TokenProvider};
use amlauth::azure::http::build_http_client;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use azure_support::{TlsServer, env, start_http, start_tls, start_tls_with, token_reply};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const SECRET: &str = "sup3r-s3cret-value";
const SCOPE: &str = "https://management.azure.com/.default";

/// Records every token request the fake Entra ID endpoint saw.
#[derive(Clone, Default)]
struct Sts {
    requests: Arc<Mutex<Vec<HashMap<String, String>>>>,
}

async fn token_endpoint(
    State(sts): State<Sts>,
    Path(tenant): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    sts.requests.lock().unwrap().push(form.clone());
    let bad = |m: &str| {
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client", "error_description": m})),
        )
    };
    if tenant != TENANT {
        return bad("unknown tenant");
    }
    if form.get("grant_type").map(String::as_str) != Some("client_credentials")
        || form.get("client_id").map(String::as_str) != Some(CLIENT)
        || form.get("scope").map(String::as_str) != Some(SCOPE)
    {
        return bad("bad request shape");
    }
    if let Some(s) = form.get("client_secret") {
        return if s == SECRET {
            (StatusCode::OK, Json(token_reply("token-from-secret")))
        } else {
            bad("AADSTS7000215: Invalid client secret provided.")
        };
    }
    if form.get("client_assertion_type").map(String::as_str)
        == Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        && let Some(a) = form.get("client_assertion")
    {
        return (StatusCode::OK, Json(token_reply(&format!("token-for-{a}"))));
    }
    bad("no credential")
}

async fn github_endpoint(
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if auth != "Bearer gh-request-token" {
        return (StatusCode::UNAUTHORIZED, Json(json!({})));
    }
    if q.get("audience").map(String::as_str) != Some("api://AzureADTokenExchange")
        || q.get("run").map(String::as_str) != Some("42")
    {
        return (StatusCode::BAD_REQUEST, Json(json!({})));
    }
    (
        StatusCode::OK,
        Json(json!({"count": 1, "value": "github-jwt"})),
    )
}

async fn sts_server() -> (TlsServer, Sts) {
    let sts = Sts::default();
    let router = Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token_endpoint))
        .route("/gh", get(github_endpoint))
        .with_state(sts.clone());
    (start_tls(router).await, sts)
}

fn base_config(server: &TlsServer) -> AuthConfig {
    AuthConfig {
        tenant_id: Some(TENANT.into()),
        client_id: Some(CLIENT.into()),
        authority_host: Some(server.url()),
        ca_bundle: Some(server.ca_file.to_string_lossy().into_owned()),
        use_cli: Some(false),
        ..Default::default()
    }
}

/// A fake `az`: answers `az account get-access-token` and counts calls.
#[derive(Debug, Default)]
struct FakeAz {
    calls: AtomicUsize,
    fail: bool,
    /// What `az` prints on stderr when it fails (default: the "az login" hint).
    stderr: Option<&'static str>,
    slow: bool,
    seen: Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl azure_identity::Executor for FakeAz {
    async fn run(&self, program: &OsStr, args: &[&OsStr]) -> std::io::Result<Output> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let cmd: Vec<String> = std::iter::once(program)
            .chain(args.iter().copied())
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        self.seen.lock().unwrap().push(cmd.join(" "));
        if self.slow {
            // Like a real `az`, which takes a while: gives parallel callers a chance to race.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        if self.fail {
            return Ok(Output {
                status: ExitStatus::from_raw(1 << 8),
                stdout: Vec::new(),
                stderr: self
                    .stderr
                    .unwrap_or("ERROR: Please run 'az login' to setup account.")
                    .as_bytes()
                    .to_vec(),
            });
        }
        let expires = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
        let stdout = json!({
            "accessToken": "token-from-cli",
            "expiresOn": "2030-01-01 00:00:00.000000",
            "expires_on": expires,
            "subscription": "sub",
            "tenant": TENANT,
            "tokenType": "Bearer"
        });
        Ok(Output {
            status: ExitStatus::from_raw(0),
            stdout: stdout.to_string().into_bytes(),
            stderr: Vec::new(),
        })
    }
}

fn chain(cfg: &AuthConfig, vars: &[(&str, &str)], az: Option<Arc<FakeAz>>) -> CredentialChain {
    let resolved = cfg.resolve(&env(vars)).unwrap();
    let http = build_http_client(resolved.ca_bundle.as_deref()).unwrap();
    CredentialChain::new(
        &resolved,
        CredentialOptions {
            http,
            cli_executor: az.map(|a| a as Arc<dyn azure_identity::Executor>),
        },
    )
}

/// The chain's token for the ARM scope (the request must succeed).
async fn arm_token(c: &CredentialChain) -> String {
    c.token(SCOPE, false).await.unwrap().secret().to_string()
}

/// The chain's error for one token request (the request must fail).
async fn token_error(cfg: &AuthConfig, vars: &[(&str, &str)], az: Option<Arc<FakeAz>>) -> String {
    chain(cfg, vars, az)
        .token(SCOPE, false)
        .await
        .unwrap_err()
        .to_string()
}

#[tokio::test]
async fn client_secret_over_tls_and_cached() {
    let (server, sts) = sts_server().await;
    let cfg = AuthConfig {
        client_secret: Some(SECRET.into()),
        ..base_config(&server)
    };
    let c = chain(&cfg, &[], None);
    assert_eq!(c.methods(), vec![AuthMethod::ClientSecret]);
    assert_eq!(arm_token(&c).await, "token-from-secret");
    assert_eq!(arm_token(&c).await, "token-from-secret");
    assert_eq!(
        sts.requests.lock().unwrap().len(),
        1,
        "second token must come from the cache"
    );
    assert_eq!(c.chosen_method(), Some(AuthMethod::ClientSecret));
    // A forced refresh (after a 401) really goes back to the token endpoint.
    c.token(SCOPE, true).await.unwrap();
    assert_eq!(sts.requests.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn client_secret_from_environment_variables() {
    let (server, sts) = sts_server().await;
    let cfg = AuthConfig {
        authority_host: Some(server.url()),
        ca_bundle: Some(server.ca_file.to_string_lossy().into_owned()),
        ..Default::default()
    };
    let az = Arc::new(FakeAz::default());
    let c = chain(
        &cfg,
        &[
            ("ARM_TENANT_ID", TENANT),
            ("ARM_CLIENT_ID", CLIENT),
            ("ARM_CLIENT_SECRET", SECRET),
        ],
        Some(az.clone()),
    );
    assert_eq!(
        c.methods(),
        vec![AuthMethod::ClientSecret, AuthMethod::AzureCli]
    );
    assert_eq!(arm_token(&c).await, "token-from-secret");
    assert_eq!(az.calls.load(Ordering::SeqCst), 0);
    assert_eq!(sts.requests.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn wrong_secret_fails_without_falling_back_or_leaking() {
    let (server, _sts) = sts_server().await;
    let wrong = "wr0ng-s3cret-value";
    let cfg = AuthConfig {
        client_secret: Some(wrong.into()),
        use_cli: Some(true),
        ..base_config(&server)
    };
    let az = Arc::new(FakeAz::default());
    let c = chain(&cfg, &[], Some(az.clone()));
    let e = c.token(SCOPE, false).await.unwrap_err().to_string();
    assert!(e.contains("client secret: failed"), "{e}");
    assert!(e.contains("AADSTS7000215"), "{e}");
    assert!(!e.contains(wrong), "{e}");
    assert_eq!(
        az.calls.load(Ordering::SeqCst),
        0,
        "must not fall back to the CLI identity"
    );
}

#[tokio::test]
async fn oidc_static_token() {
    let (server, sts) = sts_server().await;
    let cfg = AuthConfig {
        use_oidc: Some(true),
        oidc_token: Some("static-jwt".into()),
        ..base_config(&server)
    };
    let c = chain(&cfg, &[], None);
    assert_eq!(arm_token(&c).await, "token-for-static-jwt");
    assert_eq!(c.chosen_method(), Some(AuthMethod::OidcToken));
    assert_eq!(sts.requests.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn oidc_token_file_is_reread() {
    let (server, sts) = sts_server().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, "file-jwt-1\n").unwrap();
    let cfg = base_config(&server);
    let c = chain(
        &cfg,
        &[
            ("ARM_USE_OIDC", "true"),
            ("ARM_OIDC_TOKEN_FILE_PATH", file.to_str().unwrap()),
        ],
        None,
    );
    assert_eq!(arm_token(&c).await, "token-for-file-jwt-1");
    std::fs::write(&file, "file-jwt-2").unwrap();
    assert_eq!(
        c.token(SCOPE, true).await.unwrap().secret(),
        "token-for-file-jwt-2"
    );
    assert_eq!(c.chosen_method(), Some(AuthMethod::OidcTokenFile));
    let reqs = sts.requests.lock().unwrap();
    assert_eq!(
        reqs[1].get("client_assertion").map(String::as_str),
        Some("file-jwt-2")
    );
}

#[tokio::test]
async fn oidc_github_actions_request_url() {
    let (server, sts) = sts_server().await;
    let cfg = AuthConfig {
        use_oidc: Some(true),
        ..base_config(&server)
    };
    let url = format!("{}/gh?run=42", server.url());
    let c = chain(
        &cfg,
        &[
            ("ACTIONS_ID_TOKEN_REQUEST_URL", &url),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "gh-request-token"),
        ],
        None,
    );
    assert_eq!(c.methods(), vec![AuthMethod::OidcGitHubActions]);
    assert_eq!(arm_token(&c).await, "token-for-github-jwt");
    assert_eq!(sts.requests.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn github_request_failure_is_reported_without_the_request_token() {
    let (server, _sts) = sts_server().await;
    let cfg = AuthConfig {
        use_oidc: Some(true),
        oidc_request_url: Some(format!("{}/gh?run=42", server.url())),
        oidc_request_token: Some("not-the-right-request-token".into()),
        ..base_config(&server)
    };
    let c = chain(&cfg, &[], None);
    let e = c.token(SCOPE, false).await.unwrap_err().to_string();
    assert!(
        e.contains("OIDC via GitHub Actions token request: failed") && e.contains("401"),
        "{e}"
    );
    assert!(!e.contains("not-the-right-request-token"), "{e}");
}

type MiRequest = (HashMap<String, String>, HeaderMap);

#[derive(Clone, Default)]
struct MiLog(Arc<Mutex<Vec<MiRequest>>>);

async fn mi_endpoint(
    State(log): State<MiLog>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    log.0.lock().unwrap().push((q.clone(), headers.clone()));
    if headers.get("metadata").and_then(|v| v.to_str().ok()) != Some("true") {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "metadata header"})),
        );
    }
    let expires = (time::OffsetDateTime::now_utc().unix_timestamp() + 3600).to_string();
    (
        StatusCode::OK,
        Json(json!({
            "access_token": format!("mi-token-{}", q.get("api-version").cloned().unwrap_or_default()),
            "expires_on": expires,
            "token_type": "Bearer",
            "resource": q.get("resource"),
        })),
    )
}

/// A managed identity endpoint at `route` on a local port, logging what it is sent.
async fn mi_server(route: &str) -> (MiLog, SocketAddr, JoinHandle<()>) {
    let log = MiLog::default();
    let (addr, task) = start_http(
        Router::new()
            .route(route, get(mi_endpoint))
            .with_state(log.clone()),
    )
    .await;
    (log, addr, task)
}

#[tokio::test]
async fn managed_identity_via_identity_endpoint() {
    let (log, addr, task) = mi_server("/msi/token").await;
    let endpoint = format!("http://127.0.0.1:{}/msi/token", addr.port());
    let cfg = AuthConfig {
        use_msi: Some(true),
        use_cli: Some(false),
        client_id: Some(CLIENT.into()),
        ..Default::default()
    };
    let c = chain(
        &cfg,
        &[
            ("IDENTITY_ENDPOINT", &endpoint),
            ("IDENTITY_HEADER", "id-header-value"),
        ],
        None,
    );
    assert_eq!(arm_token(&c).await, "mi-token-2019-08-01");
    assert_eq!(arm_token(&c).await, "mi-token-2019-08-01");
    let seen = log.0.lock().unwrap();
    assert_eq!(seen.len(), 1, "cached");
    let (q, h) = &seen[0];
    assert_eq!(
        q.get("resource").map(String::as_str),
        Some("https://management.azure.com")
    );
    assert_eq!(q.get("client_id").map(String::as_str), Some(CLIENT));
    assert_eq!(h.get("x-identity-header").unwrap(), "id-header-value");
    task.abort();
}

#[tokio::test]
async fn managed_identity_via_msi_endpoint() {
    let (log, addr, task) = mi_server("/imds").await;
    let cfg = AuthConfig {
        use_msi: Some(true),
        use_cli: Some(false),
        msi_endpoint: Some(format!("http://localhost:{}/imds", addr.port())),
        ..Default::default()
    };
    let c = chain(&cfg, &[], None);
    assert_eq!(arm_token(&c).await, "mi-token-2018-02-01");
    assert!(
        log.0.lock().unwrap()[0]
            .1
            .get("x-identity-header")
            .is_none()
    );
    task.abort();
}

#[tokio::test]
async fn azure_cli_through_executor_is_cached_by_us() {
    let az = Arc::new(FakeAz::default());
    let cfg = AuthConfig {
        tenant_id: Some(TENANT.into()),
        ..Default::default()
    };
    let c = chain(&cfg, &[], Some(az.clone()));
    assert_eq!(c.methods(), vec![AuthMethod::AzureCli]);
    assert_eq!(arm_token(&c).await, "token-from-cli");
    assert_eq!(arm_token(&c).await, "token-from-cli");
    assert_eq!(
        az.calls.load(Ordering::SeqCst),
        1,
        "the second token must come from our cache"
    );
    let cmd = az.seen.lock().unwrap()[0].clone();
    assert!(
        cmd.contains("az account get-access-token") && cmd.contains(&format!("--tenant {TENANT}")),
        "{cmd}"
    );
    // A different scope is a different cache entry.
    c.token("https://storage.azure.com/.default", false)
        .await
        .unwrap();
    assert_eq!(az.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn managed_identity_failure_falls_through_to_cli() {
    // Nothing listens on this port: managed identity fails, the CLI (ambient as well) works.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let az = Arc::new(FakeAz::default());
    let cfg = AuthConfig {
        use_msi: Some(true),
        msi_endpoint: Some(format!("http://127.0.0.1:{port}/imds")),
        ..Default::default()
    };
    let c = chain(&cfg, &[], Some(az.clone()));
    assert_eq!(
        c.methods(),
        vec![AuthMethod::ManagedIdentity, AuthMethod::AzureCli]
    );
    assert_eq!(arm_token(&c).await, "token-from-cli");
    assert_eq!(c.chosen_method(), Some(AuthMethod::AzureCli));
}

#[tokio::test]
async fn nothing_works_lists_every_method_without_secrets() {
    let az = Arc::new(FakeAz {
        fail: true,
        ..Default::default()
    });
    // A secret without tenant: skipped with a reason; the CLI fails; the rest are off.
    let cfg = AuthConfig {
        client_id: Some(CLIENT.into()),
        client_secret: Some(SECRET.into()),
        ..Default::default()
    };
    let c = chain(&cfg, &[], Some(az));
    let e = c.token(SCOPE, false).await.unwrap_err().to_string();
    for needle in [
        "Azure CLI: failed",
        "az login",
        "client secret: not used: client_secret is set but tenant_id is not",
        "client certificate: not used",
        "OIDC token: not used: use_oidc is false",
        "managed identity: not used: use_msi is false",
    ] {
        assert!(e.contains(needle), "missing {needle:?} in {e}");
    }
    assert!(!e.contains(SECRET), "{e}");

    let none = AuthConfig {
        use_cli: Some(false),
        ..Default::default()
    };
    let e = token_error(&none, &[], None).await;
    assert!(
        e.contains("no authentication method is configured")
            && e.contains("Azure CLI: not used: use_cli is false"),
        "{e}"
    );
}

/// An RSA client certificate with its key, written as one PEM file in `dir`.
fn rsa_client_pem(
    dir: &std::path::Path,
) -> (rcgen::KeyPair, rcgen::Certificate, std::path::PathBuf) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["amlauth-test".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let path = dir.join("client.pem");
    std::fs::write(&path, format!("{}{}", cert.pem(), key.serialize_pem())).unwrap();
    (key, cert, path)
}

/// The token endpoint checks the assertion like Entra ID would: RS256 signature by the
/// certificate's key, SHA-256 thumbprint, audience, issuer and subject.
#[tokio::test]
async fn client_certificate_signs_a_verifiable_assertion() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let (key, cert, pem_path) = rsa_client_pem(dir.path());

    let (server, sts) = sts_server().await;
    let cfg = AuthConfig {
        client_certificate_path: Some(pem_path.to_string_lossy().into_owned()),
        ..base_config(&server)
    };
    let c = chain(&cfg, &[], None);
    assert_eq!(c.methods(), vec![AuthMethod::ClientCertificate]);
    let token = c.token(SCOPE, false).await.unwrap();
    assert!(
        token.secret().starts_with("token-for-ey"),
        "{}",
        token.secret()
    );

    let form = sts.requests.lock().unwrap()[0].clone();
    let jwt = form.get("client_assertion").unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header: Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
    let claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(header["alg"], "RS256");
    let thumb = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, cert.der());
    assert_eq!(header["x5t#S256"], b64.encode(thumb.as_ref()));
    assert_eq!(
        claims["aud"],
        format!("{}/{TENANT}/oauth2/v2.0/token", server.url())
    );
    assert_eq!(claims["iss"], CLIENT);
    assert_eq!(claims["sub"], CLIENT);
    assert!(claims["exp"].as_i64().unwrap() > claims["nbf"].as_i64().unwrap());
    let signed = format!("{}.{}", parts[0], parts[1]);
    aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        key.public_key_raw(),
    )
    .verify(signed.as_bytes(), &b64.decode(parts[2]).unwrap())
    .expect("assertion signature must verify with the certificate's public key");

    // Inline base64 PEM works the same way.
    let inline =
        base64::engine::general_purpose::STANDARD.encode(std::fs::read(&pem_path).unwrap());
    let c = chain(
        &base_config(&server),
        &[("ARM_CLIENT_CERTIFICATE", &inline)],
        None,
    );
    c.token(SCOPE, false).await.unwrap();
}

#[tokio::test]
async fn pkcs12_certificate_is_refused_with_a_hint() {
    let (server, _sts) = sts_server().await;
    let dir = tempfile::tempdir().unwrap();
    let pfx = dir.path().join("client.pfx");
    std::fs::write(&pfx, [0x30u8, 0x82, 0x0a, 0x10, 0x02, 0x01, 0x03]).unwrap();
    let cfg = AuthConfig {
        client_certificate_path: Some(pfx.to_string_lossy().into_owned()),
        client_certificate_password: Some("pfx-password".into()),
        use_cli: Some(true),
        ..base_config(&server)
    };
    let az = Arc::new(FakeAz::default());
    let e = chain(&cfg, &[], Some(az.clone()))
        .token(SCOPE, false)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("client certificate: failed") && e.contains("openssl pkcs12"),
        "{e}"
    );
    assert!(!e.contains("pfx-password"), "{e}");
    assert_eq!(az.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_requests_share_one_cli_call() {
    let az = Arc::new(FakeAz {
        slow: true,
        ..Default::default()
    });
    let c = Arc::new(chain(&AuthConfig::default(), &[], Some(az.clone())));
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.token(SCOPE, false).await.map(|t| t.secret().to_string()) })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), "token-from-cli");
    }
    assert_eq!(az.calls.load(Ordering::SeqCst), 1);
}

/// Entra ID's answer to a wrong client secret as recorded from the real service (ids
/// replaced): CRLF inside `error_description`, an `error_codes` array, a space-separated
/// timestamp.
const REAL_INVALID_CLIENT: &str = "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '11111111-2222-3333-4444-555555555555'. Trace ID: 0b7c2c1e-6a7d-4a2e-9a4b-3c2d1e0f0a00\\r\\nCorrelation ID: 5f6e7d8c-1b2a-4c3d-8e9f-0a1b2c3d4e5f\\r\\nTimestamp: 2025-03-04 10:11:12Z\",\"error_codes\":[7000215],\"timestamp\":\"2025-03-04 10:11:12Z\",\"trace_id\":\"0b7c2c1e-6a7d-4a2e-9a4b-3c2d1e0f0a00\",\"correlation_id\":\"5f6e7d8c-1b2a-4c3d-8e9f-0a1b2c3d4e5f\",\"error_uri\":\"https://login.microsoftonline.com/error?code=7000215\"}";
const REAL_TRACE_ID: &str = "0b7c2c1e-6a7d-4a2e-9a4b-3c2d1e0f0a00";

/// A token endpoint that answers every request with `status` and `body`, counting requests.
async fn fixed_sts(status: u16, body: &'static str) -> (TlsServer, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    let reply = move || {
        let c = c.clone();
        async move {
            c.fetch_add(1, Ordering::SeqCst);
            (
                StatusCode::from_u16(status).unwrap(),
                [("content-type", "application/json; charset=utf-8")],
                body,
            )
        }
    };
    let router = Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(reply.clone()))
        .route(
            "/gh",
            get(|| async { Json(json!({"value": "github-jwt"})) }),
        );
    (start_tls(router).await, count)
}

fn assert_entra_message(e: &str) {
    assert!(
        e.contains("AADSTS7000215: Invalid client secret provided."),
        "Entra's code and message: {e}"
    );
    assert!(e.contains(REAL_TRACE_ID), "Entra's trace id: {e}");
    assert!(
        !e.contains("invalid type") && !e.contains("borrowed"),
        "no decoder error: {e}"
    );
    assert!(!e.contains('\r'), "{e}");
}

/// Every service-principal path (secret, certificate, OIDC token, token file, GitHub
/// request) shows Entra's message and trace id for a real-shaped error answer.
#[tokio::test]
async fn real_entra_error_body_on_every_service_principal_path() {
    let (server, count) = fixed_sts(401, REAL_INVALID_CLIENT).await;
    let dir = tempfile::tempdir().unwrap();
    let (_, _, pem) = rsa_client_pem(dir.path());
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "file-jwt").unwrap();
    let cases: Vec<(&str, AuthConfig)> = vec![
        (
            "client secret",
            AuthConfig {
                client_secret: Some(SECRET.into()),
                ..base_config(&server)
            },
        ),
        (
            "client certificate",
            AuthConfig {
                client_certificate_path: Some(pem.to_string_lossy().into_owned()),
                ..base_config(&server)
            },
        ),
        (
            "OIDC token",
            AuthConfig {
                use_oidc: Some(true),
                oidc_token: Some("static-oidc-jwt".into()),
                ..base_config(&server)
            },
        ),
        (
            "OIDC token file",
            AuthConfig {
                use_oidc: Some(true),
                oidc_token_file_path: Some(token_file.to_string_lossy().into_owned()),
                ..base_config(&server)
            },
        ),
        (
            "OIDC via GitHub Actions",
            AuthConfig {
                use_oidc: Some(true),
                oidc_request_url: Some(format!("{}/gh", server.url())),
                oidc_request_token: Some("gh-request-token".into()),
                ..base_config(&server)
            },
        ),
    ];
    for (name, cfg) in cases {
        let e = token_error(&cfg, &[], None).await;
        assert!(e.contains(name), "{name}: {e}");
        assert_entra_message(&e);
        assert!(!e.contains(SECRET), "{e}");
    }
    assert_eq!(count.load(Ordering::SeqCst), 5, "a 401 is not retried");
}

/// `max_retries` bounds azure_core's retry loop for token requests, and the cause of a
/// failure that outlived its retries is still shown (not only "retry policy expired").
#[tokio::test]
async fn token_request_retries_follow_max_retries() {
    const BUSY: &str = "{\"error\":\"temporarily_unavailable\",\"error_description\":\"AADSTS50196: The server terminated an operation because it encountered a client request loop.\\r\\nTrace ID: 11111111-0000-0000-0000-000000000001\\r\\nCorrelation ID: c\\r\\nTimestamp: 2025-03-04 10:11:12Z\",\"error_codes\":[50196],\"timestamp\":\"2025-03-04 10:11:12Z\",\"trace_id\":\"11111111-0000-0000-0000-000000000001\"}";
    for (retries, expected) in [(0, 1), (2, 3)] {
        let (server, count) = fixed_sts(503, BUSY).await;
        let cfg = AuthConfig {
            client_secret: Some(SECRET.into()),
            max_retries: Some(retries),
            ..base_config(&server)
        };
        let e = token_error(&cfg, &[], None).await;
        assert_eq!(
            count.load(Ordering::SeqCst),
            expected,
            "max_retries={retries}"
        );
        assert!(
            e.contains("AADSTS50196") && e.contains("11111111-0000-0000-0000-000000000001"),
            "{e}"
        );
    }
}

/// Managed identity endpoints' error answers (IMDS: Entra's shape; App Service: its own).
#[tokio::test]
async fn managed_identity_error_bodies_are_shown() {
    let router = Router::new()
        .route(
            "/imds",
            get(|| async {
                (
                    StatusCode::BAD_REQUEST,
                    "{\"error\":\"invalid_request\",\"error_description\":\"Identity not found\\r\\n\"}",
                )
            }),
        )
        .route(
            "/appsvc",
            get(|| async {
                (
                    StatusCode::BAD_REQUEST,
                    "{\"statusCode\":400,\"message\":\"Unable to load the proper Managed Identity.\",\"correlationId\":\"7c2e0d1a-0000-4000-8000-000000000abc\"}",
                )
            }),
        );
    let (addr, task) = start_http(router).await;
    let imds = AuthConfig {
        use_msi: Some(true),
        use_cli: Some(false),
        msi_endpoint: Some(format!("http://127.0.0.1:{}/imds", addr.port())),
        ..Default::default()
    };
    let e = token_error(&imds, &[], None).await;
    assert!(
        e.contains("Identity not found") && e.contains("invalid_request"),
        "{e}"
    );
    let appsvc = AuthConfig {
        use_msi: Some(true),
        use_cli: Some(false),
        ..Default::default()
    };
    let endpoint = format!("http://127.0.0.1:{}/appsvc", addr.port());
    let e = token_error(
        &appsvc,
        &[
            ("IDENTITY_ENDPOINT", &endpoint),
            ("IDENTITY_HEADER", "id-header-secret"),
        ],
        None,
    )
    .await;
    assert!(
        e.contains("Unable to load the proper Managed Identity.")
            && e.contains("7c2e0d1a-0000-4000-8000-000000000abc"),
        "{e}"
    );
    assert!(!e.contains("id-header-secret"), "{e}");
    task.abort();
}

/// The Azure CLI reports Entra's errors on stderr; they reach the user whole.
#[tokio::test]
async fn azure_cli_entra_error_is_shown() {
    let az = Arc::new(FakeAz {
        fail: true,
        stderr: Some(
            "ERROR: AADSTS700082: The refresh token has expired due to inactivity. Trace ID: 22222222-0000-0000-0000-000000000002\r\nCorrelation ID: 3\r\nTimestamp: 2025-03-04 10:11:12Z\r\nInteractive authentication is needed. Please run:\r\naz login --scope https://management.core.windows.net//.default\r\n",
        ),
        ..Default::default()
    });
    let e = token_error(&AuthConfig::default(), &[], Some(az)).await;
    assert!(
        e.contains("AADSTS700082: The refresh token has expired")
            && e.contains("22222222-0000-0000-0000-000000000002")
            && e.contains("az login"),
        "{e}"
    );
}

/// A token endpoint whose certificate does not verify fails at once (one handshake, even
/// with the default retries), naming the host, the reason and the `ca_bundle` hint.
#[tokio::test]
async fn tls_failures_at_the_token_endpoint_are_not_retried() {
    for cert_is_ca in [false, true] {
        let sts_router = Router::new().route(
            "/{tenant}/oauth2/v2.0/token",
            post(|| async { Json(token_reply("never")) }),
        );
        let server = start_tls_with(sts_router, cert_is_ca).await;
        let mut cfg = AuthConfig {
            client_secret: Some(SECRET.into()),
            ..base_config(&server)
        };
        if !cert_is_ca {
            // Unknown issuer: the server's certificate is not trusted at all.
            cfg.ca_bundle = None;
        }
        let e = token_error(&cfg, &[], None).await;
        assert_eq!(
            server.accepts.load(Ordering::SeqCst),
            1,
            "cert_is_ca={cert_is_ca}: one handshake, no retries: {e}"
        );
        assert!(e.contains("TLS connection to localhost failed"), "{e}");
        assert!(
            e.contains("ca_bundle") && e.contains("ARM_CA_BUNDLE"),
            "{e}"
        );
        assert!(!e.contains("retry policy expired"), "{e}");
        let reason = if cert_is_ca {
            "CA certificate as its own"
        } else {
            "unknown issuer"
        };
        assert!(e.contains(reason), "{e}");
    }
}
