//! End-to-end: amlauth_workspace_identity under real Terraform against the emulator.

mod common;

use common::emu::{self, Emu};
use common::{Install, Tf, TfWorkspace};

fn setup(tf: Tf) -> (TfWorkspace, Emu) {
    let mut ws = TfWorkspace::new(tf, Install::Plain);
    let emu = Emu::start(emu::standard_seed(), ws.dir.path());
    ws.use_emulator(&emu);
    (ws, emu)
}

fn both_identities_config() -> String {
    format!(
        r#"
resource "amlauth_workspace_identity" "this" {{
  workspace_id                      = "{ws}"
  type                              = "SystemAssigned,UserAssigned"
  user_assigned_identity_ids        = ["{one}", "{two}"]
  primary_user_assigned_identity_id = "{one}"
  system_datastores_auth_mode       = "Identity"
}}
"#,
        ws = emu::workspace("ws-one"),
        one = emu::uai("uai-one"),
        two = emu::uai("uai-two"),
    )
}

fn create_then_no_changes(tf: Tf) {
    let (ws, emu) = setup(tf);
    ws.write_resources(&both_identities_config());
    ws.init();
    ws.apply();
    ws.assert_no_changes();

    let stored = emu
        .resource(&emu::workspace("ws-one"))
        .expect("workspace exists");
    assert_eq!(stored["identity"]["type"], "SystemAssigned,UserAssigned");
    assert_eq!(stored["properties"]["systemDatastoresAuthMode"], "Identity");
    let attached = stored["identity"]["userAssignedIdentities"]
        .as_object()
        .expect("map");
    assert_eq!(attached.len(), 2, "{stored}");

    let v = ws.resource_values("amlauth_workspace_identity.this");
    assert_eq!(v["principal_id"], stored["identity"]["principalId"]);
    assert_eq!(
        v["user_assigned_identity_ids"].as_array().map(Vec::len),
        Some(2)
    );
}

#[test]
fn create_then_no_changes_tf_1_0_3() {
    create_then_no_changes(Tf::V1_0_3);
}

#[test]
fn create_then_no_changes_tf_1_15() {
    create_then_no_changes(Tf::V1_15);
}
