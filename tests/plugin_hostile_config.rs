//! Hostile or mistaken provider configuration, driven over gRPC against the real binary:
//! file settings that are devices, FIFOs or too large, and oversized secrets, fail with a
//! diagnostic naming the setting, and never stall the other RPCs.

mod plugin_support;

use std::time::Duration;

use amlauth::proto::tfplugin6 as pb;
use pb::provider_client::ProviderClient;
use plugin_support::*;
use serde_json::{Value, json};
use tonic::transport::Channel;

/// A generous bound that only a hang exceeds (not a performance assertion).
const HANG: Duration = Duration::from_secs(60);

fn dynamic(v: &Value) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: Vec::new(),
        json: v.to_string().into_bytes(),
    })
}

fn text(diags: &[pb::Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| format!("{} | {} | {:?}", d.summary, d.detail, d.attribute))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn start() -> (Plugin, Channel) {
    let p = Plugin::spawn(|c| {
        c.env(COOKIE_KEY, COOKIE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "6")
            .env("ARM_USE_CLI", "false");
    });
    let hs = p.handshake();
    let ch = plain_channel(&hs.addr).await.unwrap();
    (p, ch)
}

async fn configure(ch: Channel, config: Value) -> Vec<pb::Diagnostic> {
    let mut c = ProviderClient::new(ch);
    c.get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap();
    tokio::time::timeout(
        HANG,
        c.configure_provider(pb::configure_provider::Request {
            terraform_version: "1.15.0".into(),
            config: dynamic(&config),
            client_capabilities: None,
        }),
    )
    .await
    .expect("ConfigureProvider hung")
    .unwrap()
    .into_inner()
    .diagnostics
}

/// Devices, FIFOs and directories given as file settings are refused at once, naming the
/// setting; a FIFO nobody writes to does not hang ConfigureProvider, and meanwhile other RPCs
/// are answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_settings_must_be_regular_files() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let fifo = fifo.to_str().unwrap().to_string();
    let cases = [
        ("client_id_file_path", fifo.as_str()),
        ("client_secret_file_path", "/dev/zero"),
        ("client_certificate_path", "/dev/urandom"),
        ("client_secret_file_path", "/"),
    ];
    for (setting, path) in cases {
        let (mut p, ch) = start().await;
        let config = json!({
            setting: path,
            "tenant_id": "t",
            "client_id": if setting == "client_id_file_path" { Value::Null } else { json!("c") },
            "use_cli": false,
        });
        // Another client asks for the schema while ConfigureProvider runs.
        let other = {
            let ch = ch.clone();
            tokio::spawn(async move {
                tokio::time::timeout(
                    HANG,
                    ProviderClient::new(ch)
                        .get_provider_schema(pb::get_provider_schema::Request {}),
                )
                .await
            })
        };
        let diags = configure(ch.clone(), config).await;
        let t = text(&diags);
        assert!(
            t.contains(setting) && t.contains("not a regular file"),
            "{setting}={path}: {t}"
        );
        other
            .await
            .unwrap()
            .expect("GetProviderSchema stalled")
            .unwrap();
        shutdown(ch).await.unwrap();
        p.wait_exit(TERRAFORM_EXIT_DEADLINE);
    }
}

/// A file setting larger than the limit is refused with its size, without being read whole.
#[tokio::test]
async fn oversized_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(3 << 30).unwrap(); // sparse: 3 GiB
    let (mut p, ch) = start().await;
    let diags = configure(
        ch.clone(),
        json!({"client_secret_file_path": big.to_str().unwrap(), "tenant_id": "t", "client_id": "c"}),
    )
    .await;
    let t = text(&diags);
    assert!(
        t.contains("client_secret_file_path") && t.contains("at most 65536 bytes"),
        "{t}"
    );
    assert!(p.rss_kib().unwrap_or(0) < 512 * 1024, "the file was read");
    shutdown(ch).await.unwrap();
    p.wait_exit(TERRAFORM_EXIT_DEADLINE);
}

/// Secrets over 64 KiB and certificates over 1 MiB get a diagnostic on the attribute at
/// ValidateProviderConfig.
#[tokio::test]
async fn oversized_values_are_refused_on_the_attribute() {
    let (mut p, ch) = start().await;
    let mut c = ProviderClient::new(ch.clone());
    c.get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap();
    for (attr, len) in [
        ("client_secret", 64 * 1024 + 1),
        ("oidc_token", 100 * 1024),
        ("client_certificate", 2 * 1024 * 1024),
    ] {
        let diags = c
            .validate_provider_config(pb::validate_provider_config::Request {
                config: dynamic(&json!({ attr: "A".repeat(len) })),
            })
            .await
            .unwrap()
            .into_inner()
            .diagnostics;
        let on_attr = diags.iter().any(|d| {
            d.severity == pb::diagnostic::Severity::Error as i32
                && d.attribute.as_ref().is_some_and(|a| {
                    a.steps.iter().any(|s| {
                        matches!(&s.selector, Some(pb::attribute_path::step::Selector::AttributeName(n)) if n == attr)
                    })
                })
                && d.detail.contains("bytes are accepted")
        });
        assert!(on_attr, "{attr}: {}", text(&diags));
    }
    // At the limit is fine.
    let diags = c
        .validate_provider_config(pb::validate_provider_config::Request {
            config: dynamic(&json!({"client_secret": "A".repeat(64 * 1024)})),
        })
        .await
        .unwrap()
        .into_inner()
        .diagnostics;
    assert!(diags.is_empty(), "{}", text(&diags));
    shutdown(ch).await.unwrap();
    p.wait_exit(TERRAFORM_EXIT_DEADLINE);
}

/// A 64 KiB repetitive secret (the largest accepted) costs the redactor linear work: the
/// provider configures and keeps answering while logging at TRACE.
#[tokio::test]
async fn large_repetitive_secret_does_not_stall_logging() {
    let mut p = Plugin::spawn(|c| {
        c.env(COOKIE_KEY, COOKIE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "6")
            .env("TF_LOG", "TRACE")
            .env("ARM_USE_CLI", "false");
    });
    let hs = p.handshake();
    let ch = plain_channel(&hs.addr).await.unwrap();
    let secret = "A".repeat(64 * 1024);
    let diags = configure(
        ch.clone(),
        json!({"client_secret": secret, "tenant_id": "t", "client_id": "c"}),
    )
    .await;
    assert!(diags.is_empty(), "{}", text(&diags));
    tokio::time::timeout(
        HANG,
        ProviderClient::new(ch.clone()).get_provider_schema(pb::get_provider_schema::Request {}),
    )
    .await
    .expect("stalled")
    .unwrap();
    shutdown(ch).await.unwrap();
    p.wait_exit(TERRAFORM_EXIT_DEADLINE);
    assert!(
        !p.stderr_lines().iter().any(|l| l.contains(&"A".repeat(64))),
        "the secret reached the log"
    );
}
