//! End-to-end: real Terraform 1.0.3 and 1.15 install the provider from a filesystem mirror
//! and run `init`, `validate` and `providers schema -json` through the plugin protocol, with
//! AutoMTLS on and off, over protocol 6 and protocol 5.

mod common;

use std::path::PathBuf;

use common::{Install, PROVIDER_SOURCE, Tf, TfWorkspace};

const CONFIG: &str = r#"
terraform {
  required_providers {
    amlauth = {
      source  = "amlauth/amlauth"
      version = "0.1.0"
    }
  }
}

provider "amlauth" {
  environment = "public"
  use_cli     = false
}

# A resource makes Terraform start and validate the provider (unused providers are skipped).
resource "amlauth_acr_admin" "example" {
  registry_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/acr1"
  enabled     = false
}
"#;

/// A workspace with `CONFIG`, initialised, with Terraform's DEBUG log going to the returned
/// file; plugin TLS (AutoMTLS) off unless `tls`.
fn logged_workspace(tf: Tf, install: Install, tls: bool) -> (TfWorkspace, PathBuf) {
    let mut ws = TfWorkspace::new(tf, install);
    if !tls {
        ws.set_env("TF_DISABLE_PLUGIN_TLS", "1");
    }
    let log = ws.dir.path().join("tf.log");
    ws.set_env("TF_LOG", "DEBUG");
    ws.set_env("TF_LOG_PATH", &log.display().to_string());
    ws.write_config(CONFIG);
    ws.init();
    (ws, log)
}

fn schema_roundtrip(tf: Tf, tls: bool, install: Install) {
    let (ws, log) = logged_workspace(tf, install, tls);
    let v = ws.ok(&["validate", "-no-color"]);
    assert!(v.stdout.contains("The configuration is valid"), "{v}");

    let out = ws.ok(&["providers", "schema", "-json"]);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("schema JSON");
    let provider = &json["provider_schemas"][PROVIDER_SOURCE]["provider"]["block"];
    let attrs = &provider["attributes"];
    assert_eq!(attrs["client_secret"]["sensitive"], true, "{out}");
    assert_eq!(attrs["client_secret"]["type"], "string");
    assert_eq!(attrs["use_cli"]["type"], "bool");
    assert_eq!(attrs["max_retries"]["type"], "number");
    assert_eq!(attrs["subscription_id"]["optional"], true);
    assert_eq!(attrs["environment"]["description_kind"], "markdown");

    let log = std::fs::read_to_string(&log).expect("terraform log");
    assert!(
        !log.contains("plugin failed to exit gracefully"),
        "a provider process was killed instead of shutting down"
    );
    let expected_proto = match install {
        Install::Plain => "6",
        Install::OnlyProtocol5 => "5",
    };
    assert!(
        log.contains(&format!("protocol={expected_proto}"))
            || log.contains(&format!("version={expected_proto}")),
        "expected protocol {expected_proto} in the plugin log"
    );
}

/// One `schema_roundtrip` test per Terraform version, AutoMTLS on / off and protocol.
macro_rules! schema_roundtrip_tests {
    ($($name:ident: $tf:expr, $tls:expr, $install:expr;)*) => {
        $(
            #[test]
            fn $name() {
                schema_roundtrip($tf, $tls, $install);
            }
        )*
    };
}

schema_roundtrip_tests! {
    tf_1_0_3_mtls_protocol6: Tf::V1_0_3, true, Install::Plain;
    tf_1_0_3_plaintext_protocol6: Tf::V1_0_3, false, Install::Plain;
    tf_1_0_3_mtls_protocol5: Tf::V1_0_3, true, Install::OnlyProtocol5;
    tf_1_0_3_plaintext_protocol5: Tf::V1_0_3, false, Install::OnlyProtocol5;
    tf_1_15_mtls_protocol6: Tf::V1_15, true, Install::Plain;
    tf_1_15_plaintext_protocol6: Tf::V1_15, false, Install::Plain;
    tf_1_15_mtls_protocol5: Tf::V1_15, true, Install::OnlyProtocol5;
    tf_1_15_plaintext_protocol5: Tf::V1_15, false, Install::OnlyProtocol5;
}

/// Provider log lines reach Terraform's log as structured hclog entries at their level.
#[test]
fn provider_logs_are_structured_in_tf_log() {
    for tf in Tf::ALL {
        let (ws, log) = logged_workspace(tf, Install::Plain, true);
        ws.ok(&["validate", "-no-color"]);
        let log = std::fs::read_to_string(&log).expect("log");
        let provider_lines: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("provider.terraform-provider-amlauth"))
            .collect();
        assert!(
            !provider_lines.is_empty(),
            "{tf:?}: no provider lines in the log"
        );
        assert!(
            provider_lines
                .iter()
                .any(|l| l.contains("[DEBUG]") && l.contains("@module=")),
            "{tf:?}: no structured DEBUG entry from the provider:\n{}",
            provider_lines.join("\n")
        );
        assert!(
            !provider_lines.iter().any(|l| l.contains("{\"@level\"")),
            "{tf:?}: a provider line was logged as raw JSON, not parsed"
        );
    }
}

/// A bad provider setting fails `validate` with the attribute named.
#[test]
fn invalid_provider_setting_is_reported_at_its_attribute() {
    for tf in Tf::ALL {
        let ws = TfWorkspace::new(tf, Install::Plain);
        ws.write_config(&CONFIG.replace("\"public\"", "\"Public \""));
        ws.init();
        let out = ws.run(&["validate", "-no-color"]);
        assert_ne!(out.code, 0, "{out}");
        let text = out.combined();
        assert!(text.contains("Invalid value"), "{tf:?}: {out}");
        assert!(text.contains("use \"public\""), "{tf:?}: {out}");
        assert!(text.contains("environment"), "{tf:?}: {out}");
    }
}
