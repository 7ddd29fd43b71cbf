//! End-to-end: provider configuration that Terraform only knows at apply time, and provider
//! authentication errors, under real Terraform against the emulator.

#[path = "azure_support/mod.rs"]
mod azure_support;
#[macro_use]
mod common;

use std::sync::atomic::Ordering;

use common::emu;
use common::{Tf, TfWorkspace, setup};

scenario!(unknown_provider_config_at_plan, |tf| {
    let (ws, emu) = setup(tf);
    // `max_retries` of the aliased provider depends on a value only known after the first
    // resource is created, so Terraform configures that provider with an unknown at plan time.
    ws.write_resources(&format!(
        r#"
resource "amlauth_acr_admin" "first" {{
  registry_id = "{acr}"
  enabled     = false
}}

provider "amlauth" {{
  alias       = "late"
  max_retries = length(amlauth_acr_admin.first.login_server) > 0 ? 3 : 4
}}

resource "amlauth_workspace_identity" "second" {{
  provider     = amlauth.late
  workspace_id = "{ws}"
  type         = "SystemAssigned"
}}
"#,
        acr = emu::registry("acre2eone"),
        ws = emu::workspace("ws-two"),
    ));
    ws.init();
    let (code, plan) = ws.plan_code();
    assert_eq!(code, 2, "{plan}");
    assert!(plan.stdout.contains("2 to add"), "{plan}");
    ws.apply();
    ws.assert_no_changes();
    let stored = emu.resource(&emu::workspace("ws-two")).expect("workspace");
    assert_eq!(stored["identity"]["type"], "SystemAssigned");
});

/// Applies one registry setting, which needs a token, and expects the apply to fail.
fn failing_apply(ws: &TfWorkspace) -> (common::TfOutput, String) {
    ws.write_resources(&format!(
        "resource \"amlauth_acr_admin\" \"a\" {{\n  registry_id = \"{}\"\n  enabled = false\n}}\n",
        emu::registry("acre2eone")
    ));
    ws.init();
    let out = ws.run(&["apply", "-auto-approve", "-no-color"]);
    assert_ne!(out.code, 0, "{out}");
    let text = out.combined();
    (out, text)
}

// A wrong client secret fails with one clear diagnostic that never shows the secret.
scenario!(wrong_secret_is_reported_without_the_secret, |tf| {
    let (mut ws, _emu) = setup(tf);
    let wrong = "definitely-wrong-secret-4711";
    ws.set_env("ARM_CLIENT_SECRET", wrong);
    let log = ws.dir.path().join("tf.log");
    ws.set_env("TF_LOG", "TRACE");
    ws.set_env("TF_LOG_PATH", &log.display().to_string());
    let (out, text) = failing_apply(&ws);
    assert!(
        text.to_lowercase().contains("secret"),
        "{tf:?}: the error names the method: {out}"
    );
    assert!(
        !text.contains(wrong),
        "{tf:?}: the secret leaked into the output"
    );
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        !log.contains(wrong),
        "{tf:?}: the secret leaked into TF_LOG output"
    );
    assert!(!log.contains(emu::CLIENT_SECRET));
});

/// Entra ID's real answer to a wrong secret (CRLF in `error_description`, `error_codes`,
/// a space-separated timestamp); ids replaced.
const REAL_INVALID_CLIENT: &str = "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '11111111-2222-3333-4444-555555555555'. Trace ID: 0b7c2c1e-6a7d-4a2e-9a4b-3c2d1e0f0a00\\r\\nCorrelation ID: 5f6e7d8c-1b2a-4c3d-8e9f-0a1b2c3d4e5f\\r\\nTimestamp: 2025-03-04 10:11:12Z\",\"error_codes\":[7000215],\"timestamp\":\"2025-03-04 10:11:12Z\",\"trace_id\":\"0b7c2c1e-6a7d-4a2e-9a4b-3c2d1e0f0a00\",\"correlation_id\":\"5f6e7d8c-1b2a-4c3d-8e9f-0a1b2c3d4e5f\"}";

fn token_endpoint_failure(tf: Tf, cert_is_ca: Option<bool>) -> String {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let router = axum::Router::new().route(
        "/{tenant}/oauth2/v2.0/token",
        axum::routing::post(|| async {
            (
                axum::http::StatusCode::UNAUTHORIZED,
                [("content-type", "application/json; charset=utf-8")],
                REAL_INVALID_CLIENT,
            )
        }),
    );
    let sts = rt.block_on(azure_support::start_tls_with(
        router,
        cert_is_ca.unwrap_or(false),
    ));
    let (mut ws, _emu) = setup(tf);
    ws.set_env("ARM_AUTHORITY_HOST", &sts.url());
    // Trusted for Entra's answer (None) and for the CA-as-server certificate (Some(true));
    // with Some(false) only the emulator's CA is trusted: unknown issuer.
    if cert_is_ca != Some(false) {
        ws.set_env("ARM_CA_BUNDLE", &sts.ca_file.display().to_string());
    }
    let (out, text) = failing_apply(&ws);
    assert!(!text.contains(emu::CLIENT_SECRET), "{tf:?}: secret shown");
    if cert_is_ca.is_some() {
        // One handshake per token request the apply makes (the write and its read-back
        // after a failure): none is retried (the default max_retries would allow 6 each).
        let handshakes = sts.accepts.load(Ordering::SeqCst);
        assert!(
            (1..=2).contains(&handshakes),
            "{tf:?}: a TLS failure is not retried ({handshakes} handshakes): {out}"
        );
    }
    drop(sts);
    text
}

// Entra's message, code and trace id reach the user for a real-shaped error answer.
scenario!(real_entra_error_is_shown, |tf| {
    let text = token_endpoint_failure(tf, None);
    let flat = common::flat(&text);
    assert!(
        flat.contains("AADSTS7000215: Invalid client secret provided."),
        "{tf:?}: {text}"
    );
    assert!(
        flat.contains("0b7c2c1e-6a7d-4a2e-9a4b-3c2d1e0f0a00"),
        "{tf:?}: trace id: {text}"
    );
    assert!(!flat.contains("invalid type"), "{tf:?}: {text}");
});

// A token endpoint whose certificate does not verify fails at once, with the host, the
// reason and the hint.
scenario!(
    tls_failure_at_the_token_endpoint_names_the_reason_and_the_hint,
    |tf| {
        for (cert_is_ca, reason) in [
            (false, "unknown issuer"),
            (true, "CA certificate as its own"),
        ] {
            let text = token_endpoint_failure(tf, Some(cert_is_ca));
            let flat = common::flat(&text);
            assert!(
                flat.contains("TLS connection to localhost failed") && flat.contains(reason),
                "{tf:?}: {text}"
            );
            assert!(
                flat.contains("ca_bundle") && flat.contains("ARM_CA_BUNDLE"),
                "{tf:?}: {text}"
            );
            assert!(!flat.contains("retry policy expired"), "{tf:?}: {text}");
        }
    }
);
