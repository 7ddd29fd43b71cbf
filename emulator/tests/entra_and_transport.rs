//! TLS, the token endpoint, client assertions, the managed-identity endpoint and the
//! bearer check on ARM calls.

mod common;

use std::time::Duration;

use amlauth_emulator::{Emulator, EmulatorConfig, Federation};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use reqwest::Method;
use serde_json::{Value, json};

fn assertion(claims: Value) -> String {
    let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    let p = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{h}.{p}.c2ln")
}

async fn token_call(h: &Harness, form: &[(&str, &str)]) -> common::Answer {
    token_call_at(h, &h.emu.token_url(), form).await
}

async fn token_call_at(h: &Harness, url: &str, form: &[(&str, &str)]) -> common::Answer {
    let resp = h.http.post(url).form(form).send().await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body: Value = resp.json().await.unwrap();
    common::Answer {
        status,
        headers,
        body,
    }
}

#[tokio::test]
async fn https_certificate_is_valid_for_localhost_and_127_0_0_1() {
    let h = Harness::start().await;
    assert!(h.emu.base_url().starts_with("https://127.0.0.1:"));
    assert!(
        h.emu
            .ca_pem()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    let port = h.emu.local_addr().port();
    for host in ["127.0.0.1", "localhost"] {
        let r = h
            .http
            .get(format!("https://{host}:{port}/_emulator/health"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{host}");
    }
    // A client that does not trust the CA must fail the handshake.
    let untrusting = reqwest::Client::builder().build().unwrap();
    assert!(
        untrusting
            .get(h.url("/_emulator/health"))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn plain_http_mode_and_loopback_only_by_default() {
    let cfg = EmulatorConfig {
        https: false,
        ..common::config()
    };
    let emu = Emulator::start(cfg).await.unwrap();
    assert!(emu.base_url().starts_with("http://127.0.0.1:"));
    assert!(emu.ca_pem().is_none());
    let r = reqwest::get(format!("{}/_emulator/health", emu.base_url()))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let cfg = EmulatorConfig {
        listen: "0.0.0.0:0".parse().unwrap(),
        ..EmulatorConfig::default()
    };
    let err = Emulator::start(cfg)
        .await
        .err()
        .expect("non-loopback refused");
    assert!(err.to_string().contains("non-loopback"), "{err}");
}

#[tokio::test]
async fn client_secret_grant_returns_the_fields_clients_require() {
    let h = Harness::start().await;
    let a = token_call(
        &h,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("scope", "https://management.azure.com/.default"),
        ],
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["token_type"], "Bearer");
    assert_eq!(a.body["expires_in"], 3600);
    assert_eq!(a.body["ext_expires_in"], 3600);
    let tok = a.body["access_token"].as_str().unwrap();
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(tok.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["aud"], "https://management.azure.com");
    assert_eq!(claims["appid"], CLIENT_ID);
    assert_eq!(claims["tid"], h.emu.tenant_id());
}

#[tokio::test]
async fn token_endpoint_rejections_use_entra_error_codes() {
    let h = Harness::start().await;
    let scope = "https://management.azure.com/.default";
    let wrong = token_call(
        &h,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", "nope"),
            ("scope", scope),
        ],
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.body["error"], "invalid_client");
    assert_eq!(wrong.body["error_codes"][0], 7000215);
    assert!(!wrong.body.to_string().contains(CLIENT_SECRET));

    let unknown = token_call(
        &h,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "someone-else"),
            ("client_secret", "x"),
            ("scope", scope),
        ],
    )
    .await;
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.body["error"], "unauthorized_client");

    let no_default = token_call(
        &h,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("scope", "https://management.azure.com"),
        ],
    )
    .await;
    assert_eq!(no_default.body["error"], "invalid_scope");

    let grant = token_call(
        &h,
        &[
            ("grant_type", "password"),
            ("client_id", CLIENT_ID),
            ("scope", scope),
        ],
    )
    .await;
    assert_eq!(grant.body["error"], "unsupported_grant_type");

    let other_tenant = token_call_at(
        &h,
        &h.url("/not-my-tenant/oauth2/v2.0/token"),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("scope", scope),
        ],
    )
    .await;
    assert_eq!(other_tenant.status, 400);
    assert_eq!(other_tenant.body["error_codes"][0], 90002);
}

async fn assert_call(h: &Harness, claims: Value) -> common::Answer {
    let a = assertion(claims);
    token_call(
        h,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "fed-app"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", &a),
            ("scope", "https://management.azure.com/.default"),
        ],
    )
    .await
}

#[tokio::test]
async fn client_assertion_checks_issuer_subject_audience_and_expiry() {
    let mut cfg = common::config();
    cfg.federations.push(Federation {
        client_id: "fed-app".into(),
        issuer: "https://token.actions.githubusercontent.com".into(),
        subject: "repo:org/repo:ref:refs/heads/main".into(),
        audience: "api://AzureADTokenExchange".into(),
    });
    let h = Harness::with_config(cfg).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let good = json!({"iss": "https://token.actions.githubusercontent.com", "sub": "repo:org/repo:ref:refs/heads/main",
                      "aud": ["api://AzureADTokenExchange"], "exp": now + 600});
    let ok = assert_call(&h, good.clone()).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    // The issued token works on ARM.
    let tok = ok.body["access_token"].as_str().unwrap();
    let a = h
        .raw(
            Method::GET,
            &h.url(&format!("{}?api-version={RES}", rg_path())),
            Some(tok),
            None,
        )
        .await;
    assert_eq!(a.status, 200);

    let mut bad_iss = good.clone();
    bad_iss["iss"] = json!("https://evil.example");
    assert_eq!(
        assert_call(&h, bad_iss).await.body["error_codes"][0],
        700211
    );
    let mut bad_sub = good.clone();
    bad_sub["sub"] = json!("repo:org/other:ref:refs/heads/main");
    assert_eq!(assert_call(&h, bad_sub).await.body["error_codes"][0], 70021);
    let mut bad_aud = good.clone();
    bad_aud["aud"] = json!("something-else");
    assert_eq!(assert_call(&h, bad_aud).await.body["error_codes"][0], 70021);
    let mut expired = good.clone();
    expired["exp"] = json!(now - 5);
    assert_eq!(
        assert_call(&h, expired).await.body["error_codes"][0],
        700024
    );

    let malformed = token_call(
        &h,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "fed-app"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", "not-a-jwt"),
            ("scope", "https://management.azure.com/.default"),
        ],
    )
    .await;
    assert_eq!(malformed.status, 400);
}

#[tokio::test]
async fn managed_identity_endpoint_speaks_the_app_service_protocol() {
    let h = Harness::start().await;
    let uai = make_uai(&h, "mi-one").await;
    let endpoint = h.emu.identity_endpoint().to_string();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    let plain = reqwest::Client::new();
    let get = |query: Vec<(&'static str, String)>, header: Option<&'static str>| {
        let mut r = plain.get(&endpoint).query(&query);
        if let Some(v) = header {
            r = r.header("X-IDENTITY-HEADER", v);
        }
        r.send()
    };
    let base = vec![
        ("api-version", "2019-08-01".to_string()),
        ("resource", "https://management.azure.com".to_string()),
    ];

    let no_header = get(base.clone(), None).await.unwrap();
    assert_eq!(no_header.status(), 401);

    let sys = get(base.clone(), Some("emulator-identity-header"))
        .await
        .unwrap();
    assert_eq!(sys.status(), 200);
    let v: Value = sys.json().await.unwrap();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["resource"], "https://management.azure.com");
    let exp: i64 = v["expires_on"]
        .as_str()
        .expect("expires_on is a string")
        .parse()
        .unwrap();
    assert!(exp > 0);
    // Works as an ARM bearer token.
    let tok = v["access_token"].as_str().unwrap();
    let a = h
        .raw(
            Method::GET,
            &h.url(&format!("{}?api-version={RES}", rg_path())),
            Some(tok),
            None,
        )
        .await;
    assert_eq!(a.status, 200);

    let mut by_client = base.clone();
    by_client.push((
        "client_id",
        uai["properties"]["clientId"].as_str().unwrap().to_string(),
    ));
    let v: Value = get(by_client, Some("emulator-identity-header"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["client_id"], uai["properties"]["clientId"]);

    let mut unknown = base.clone();
    unknown.push(("client_id", "00000000-0000-0000-0000-00000000dead".into()));
    assert_eq!(
        get(unknown, Some("emulator-identity-header"))
            .await
            .unwrap()
            .status(),
        400
    );

    let wrong_version = vec![
        ("api-version", "2017-09-01".to_string()),
        ("resource", "x".to_string()),
    ];
    assert_eq!(
        get(wrong_version, Some("emulator-identity-header"))
            .await
            .unwrap()
            .status(),
        400
    );
}

#[tokio::test]
async fn arm_calls_need_a_valid_unexpired_token_for_the_arm_audience() {
    let h = Harness::start().await;
    let url = h.url(&format!("{}?api-version={RES}", rg_path()));
    let missing = h.raw(Method::GET, &url, None, None).await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.code(), "AuthenticationFailed");
    let challenge = missing.header("www-authenticate").unwrap();
    assert!(
        challenge.starts_with("Bearer authorization_uri="),
        "{challenge}"
    );

    let forged = h
        .raw(Method::GET, &url, Some("eyJ.forged.token"), None)
        .await;
    assert_eq!(forged.status, 401);
    assert_eq!(forged.code(), "InvalidAuthenticationToken");
    assert!(forged.header("www-authenticate").is_some());

    let graph = h.fetch_token("https://graph.microsoft.com/.default").await;
    let aud = h.raw(Method::GET, &url, Some(&graph), None).await;
    assert_eq!(aud.code(), "InvalidAuthenticationTokenAudience");

    let ok = h.raw(Method::GET, &url, Some(&h.token), None).await;
    assert_eq!(ok.status, 200);
    let expired = h.control(Method::POST, "/tokens/expire", None).await;
    assert_eq!(expired.status, 200);
    let after = h.raw(Method::GET, &url, Some(&h.token), None).await;
    assert_eq!(after.status, 401);
    assert_eq!(after.code(), "ExpiredAuthenticationToken");
}

#[tokio::test]
async fn token_lifetime_is_configurable_so_refresh_can_be_tested() {
    let cfg = EmulatorConfig {
        token_lifetime: Duration::from_secs(1),
        ..common::config()
    };
    let h = Harness::with_config(cfg).await;
    let url = h.url(&format!("{}?api-version={RES}", rg_path()));
    assert_eq!(
        h.raw(Method::GET, &url, Some(&h.token), None).await.status,
        200
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let a = h.raw(Method::GET, &url, Some(&h.token), None).await;
    assert_eq!(a.status, 401);
    assert_eq!(a.code(), "ExpiredAuthenticationToken");
    let fresh = h.fetch_token("https://management.azure.com/.default").await;
    assert_eq!(
        h.raw(Method::GET, &url, Some(&fresh), None).await.status,
        200
    );
}

#[tokio::test]
async fn discovery_documents_point_back_at_the_emulator() {
    let h = Harness::start().await;
    let v: Value = h
        .http
        .get(h.url(&format!(
            "/{}/v2.0/.well-known/openid-configuration",
            h.emu.tenant_id()
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["token_endpoint"], h.emu.token_url());
}

#[tokio::test]
async fn certificate_assertions_need_a_registered_certificate_client() {
    let mut cfg = common::config();
    cfg.certificate_clients
        .push(amlauth_emulator::CertificateClient {
            client_id: "cert-app".into(),
            x5t: Some("dGh1bWJwcmludA".into()),
        });
    let h = Harness::with_config(cfg).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let signed = |x5t: &str, aud: &str, client: &str| {
        let header =
            URL_SAFE_NO_PAD.encode(json!({"alg": "RS256", "typ": "JWT", "x5t": x5t}).to_string());
        let claims = URL_SAFE_NO_PAD.encode(
            json!({"iss": client, "sub": client, "aud": aud, "exp": now + 300, "jti": "1"})
                .to_string(),
        );
        format!("{header}.{claims}.c2ln")
    };
    let call = |assertion: String, client: &'static str| {
        let h = &h;
        async move {
            token_call(
                h,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", client),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", &assertion),
                    ("scope", "https://management.azure.com/.default"),
                ],
            )
            .await
        }
    };
    let aud = h.emu.token_url();
    let ok = call(signed("dGh1bWJwcmludA", &aud, "cert-app"), "cert-app").await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let wrong_thumb = call(signed("b3RoZXI", &aud, "cert-app"), "cert-app").await;
    assert_eq!(wrong_thumb.body["error_codes"][0], 700027);
    let wrong_aud = call(
        signed("dGh1bWJwcmludA", "https://elsewhere/token", "cert-app"),
        "cert-app",
    )
    .await;
    assert_eq!(wrong_aud.body["error_codes"][0], 700212);
    let unregistered = call(signed("dGh1bWJwcmludA", &aud, "other-app"), "other-app").await;
    assert_eq!(unregistered.status, 401);
}
