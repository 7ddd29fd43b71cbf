//! The Azure SDK for Rust (`azure_identity` 1.0), unmodified, against the emulator: the
//! client-secret credential over HTTPS with the emulator as authority, and the App Service
//! managed-identity credential over the plain-HTTP identity port.

mod common;

use std::sync::Arc;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::{ClientOptions, Transport};
use azure_identity::{
    ClientSecretCredential, ClientSecretCredentialOptions, ManagedIdentityCredential,
};
use common::*;
use reqwest::Method;

const SCOPE: &str = "https://management.azure.com/.default";

fn client_options(h: &Harness) -> ClientOptions {
    let mut custom = CustomConfiguration::default();
    custom.authority_host = h.emu.base_url().to_string();
    ClientOptions {
        cloud: Some(Arc::new(CloudConfiguration::Custom(custom))),
        transport: Some(Transport::new(Arc::new(h.http.clone()))),
        ..ClientOptions::default()
    }
}

#[tokio::test]
async fn client_secret_credential_and_managed_identity_credential_work_unmodified() {
    let h = Harness::start().await;
    h.emu.clear_journal();
    let cred = ClientSecretCredential::new(
        h.emu.tenant_id(),
        CLIENT_ID.to_string(),
        Secret::new(CLIENT_SECRET),
        Some(ClientSecretCredentialOptions {
            client_options: client_options(&h),
        }),
    )
    .unwrap();
    let token = cred.get_token(&[SCOPE], None).await.unwrap();
    let url = h.url(&format!("{}?api-version={RES}", rg_path()));
    assert_eq!(
        h.raw(Method::GET, &url, Some(token.token.secret()), None)
            .await
            .status,
        200
    );
    // Cached: one call to the token endpoint for two get_token calls.
    cred.get_token(&[SCOPE], None).await.unwrap();
    let token_calls = h
        .emu
        .journal()
        .iter()
        .filter(|e| e.path.ends_with("/oauth2/v2.0/token"))
        .count();
    assert_eq!(token_calls, 1);

    let wrong = ClientSecretCredential::new(
        h.emu.tenant_id(),
        CLIENT_ID.to_string(),
        Secret::new("wrong"),
        Some(ClientSecretCredentialOptions {
            client_options: client_options(&h),
        }),
    )
    .unwrap();
    let err = wrong.get_token(&[SCOPE], None).await.unwrap_err();
    assert!(err.to_string().contains("AADSTS7000215"), "{err}");

    // App Service managed identity: configured through the environment, as on the platform.
    // This is the only test in this binary, so changing the environment races with nothing.
    unsafe {
        std::env::set_var("IDENTITY_ENDPOINT", h.emu.identity_endpoint());
        std::env::set_var("IDENTITY_HEADER", h.emu.identity_header());
    }
    let mi = ManagedIdentityCredential::new(None).unwrap();
    let mi_token = mi.get_token(&[SCOPE], None).await.unwrap();
    assert_eq!(
        h.raw(Method::GET, &url, Some(mi_token.token.secret()), None)
            .await
            .status,
        200
    );
    assert!(mi_token.expires_on > time::OffsetDateTime::now_utc());
}
