//! End-to-end: provider configuration that Terraform only knows at apply time, and provider
//! authentication errors, under real Terraform against the emulator.

mod common;

use common::emu::{self, Emu};
use common::{Install, Tf, TfWorkspace};

fn unknown_provider_config_at_plan(tf: Tf) {
    let mut ws = TfWorkspace::new(tf, Install::Plain);
    let emu = Emu::start(emu::standard_seed(), ws.dir.path());
    ws.use_emulator(&emu);
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
}

#[test]
fn unknown_provider_config_at_plan_tf_1_0_3() {
    unknown_provider_config_at_plan(Tf::V1_0_3);
}

#[test]
fn unknown_provider_config_at_plan_tf_1_15() {
    unknown_provider_config_at_plan(Tf::V1_15);
}

/// A wrong client secret fails with one clear diagnostic that never shows the secret.
#[test]
fn wrong_secret_is_reported_without_the_secret() {
    for tf in Tf::ALL {
        let mut ws = TfWorkspace::new(tf, Install::Plain);
        let emu = Emu::start(emu::standard_seed(), ws.dir.path());
        ws.use_emulator(&emu);
        let wrong = "definitely-wrong-secret-4711";
        ws.set_env("ARM_CLIENT_SECRET", wrong);
        let log = ws.dir.path().join("tf.log");
        ws.set_env("TF_LOG", "TRACE");
        ws.set_env("TF_LOG_PATH", &log.display().to_string());
        ws.write_resources(&format!(
            "resource \"amlauth_acr_admin\" \"a\" {{\n  registry_id = \"{}\"\n  enabled = false\n}}\n",
            emu::registry("acre2eone")
        ));
        ws.init();
        let out = ws.run(&["apply", "-auto-approve", "-no-color"]);
        assert_ne!(out.code, 0, "{out}");
        let text = out.combined();
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
    }
}
