//! End-to-end: amlauth_acr_admin under real Terraform (1.0.3 and 1.15) against the emulator.
//! Each scenario runs once per Terraform version, reusing one working directory for its
//! sequence of steps.

#[macro_use]
mod common;

use common::emu::{self, Emu};
use common::{
    BY_NAME, TfWorkspace, apply_through_throttling, apply_with_failed_operation, assert_diagnostic,
    assert_fields, assert_no_arm_calls, assert_no_changes_reading, assert_plan_imports_one_reading,
    calls, destroy_reading, fault_503s_on_polls_and_read_back, import_reading, private_strings,
    setup_init, status_count, strs, with_import_block,
};
use serde_json::{Value, json};

const ADDR: &str = "amlauth_acr_admin.this";

fn by_registry(name: &str, enabled: bool) -> String {
    format!(
        "resource \"amlauth_acr_admin\" \"this\" {{\n  registry_id = \"{}\"\n  enabled = {enabled}\n}}\n",
        emu::registry(name)
    )
}

fn by_workspace(name: &str, enabled: bool) -> String {
    format!(
        "resource \"amlauth_acr_admin\" \"this\" {{\n  workspace_id = \"{}\"\n  enabled = {enabled}\n}}\n",
        emu::workspace(name)
    )
}

/// The calls that write acre2eone's admin setting: PATCH, the status poll, the read back.
const WRITE: &[&str] = &[
    "PATCH registry acre2eone",
    "GET operationStatuses",
    "GET registry acre2eone",
];

/// The calls of an update: the refresh, then [`WRITE`].
fn update_calls() -> Vec<String> {
    write_calls(&[&["GET registry acre2eone"], WRITE].concat())
}

/// The calls of a write: Azure answers the admin PATCH with `200` at once, so the status poll
/// is there only with the spec's asynchronous shape (`AMLAUTH_EMULATOR_SHAPES=spec`).
fn write_calls(v: &[&str]) -> Vec<String> {
    v.iter()
        .filter(|c| emu::spec_shapes() || **c != "GET operationStatuses")
        .map(|s| s.to_string())
        .collect()
}

fn stored_registry(emu: &Emu, name: &str) -> Value {
    emu.resource(&emu::registry(name))
        .unwrap_or_else(|| panic!("registry {name} exists in the emulator"))
}

fn admin_enabled(emu: &Emu, name: &str) -> bool {
    stored_registry(emu, name)["properties"]["adminUserEnabled"]
        .as_bool()
        .expect("adminUserEnabled is a bool")
}

/// The Terraform state of the resource says what the emulator holds.
fn assert_state_matches_emulator(ws: &TfWorkspace, emu: &Emu, name: &str) {
    let v = ws.resource_values(ADDR);
    let stored = stored_registry(emu, name);
    let ctx = format!("state {v}\nemulator {stored}");
    assert_fields(
        &v,
        &stored,
        &[
            ("enabled", "/properties/adminUserEnabled"),
            ("login_server", "/properties/loginServer"),
        ],
    );
    assert!(
        v["registry_id"]
            .as_str()
            .is_some_and(|r| r.eq_ignore_ascii_case(&emu::registry(name))),
        "{ctx}"
    );
    assert_eq!(v["id"], v["registry_id"], "{ctx}");
    // Admin passwords never reach the state.
    let text = v.to_string();
    let private = emu
        .stored(&emu::registry(name))
        .map(|r| r["private"].clone())
        .unwrap_or(Value::Null);
    for pw in private_strings(&private) {
        assert!(!text.contains(&pw), "a registry password is in the state");
    }
}

// ---------------------------------------------------------------------------------------
// create through the workspace, then no changes; ARM calls for create and read

scenario!(create_via_workspace, |tf| {
    let (ws, emu) = setup_init(tf, &by_workspace("ws-one", false));
    assert!(admin_enabled(&emu, "acre2eone"));
    emu.clear_journal();
    ws.apply();
    assert_eq!(
        calls(&emu, BY_NAME),
        write_calls(&[&["GET workspace ws-one"], WRITE].concat()),
        "create by workspace: find the registry, PATCH, one poll, one read"
    );
    assert!(!admin_enabled(&emu, "acre2eone"));
    assert!(
        admin_enabled(&emu, "acre2etwo"),
        "the other registry is untouched"
    );
    let v = ws.resource_values(ADDR);
    assert_eq!(v["workspace_id"], emu::workspace("ws-one"));
    assert_state_matches_emulator(&ws, &emu, "acre2eone");

    assert_no_changes_reading(&ws, &emu, BY_NAME, &["GET registry acre2eone"]);

    // Another workspace: replacement, not an update.
    ws.write_resources(&by_workspace("ws-two", false));
    ws.assert_plan_replaces();

    // Destroy only stops managing: the admin account stays off, and no write reaches Azure.
    destroy_reading(&ws, &emu, BY_NAME, &["GET registry acre2eone"]);
    assert!(!admin_enabled(&emu, "acre2eone"));
    assert_eq!(ws.resource_values(ADDR), Value::Null, "gone from state");
});

// ---------------------------------------------------------------------------------------
// enabled true -> false -> true in place; a new registry_id replaces

scenario!(updates_in_place, |tf| {
    let (ws, emu) = setup_init(tf, &by_registry("acre2eone", true));
    emu.clear_journal();
    ws.apply();
    assert_eq!(
        calls(&emu, BY_NAME),
        write_calls(WRITE),
        "create by registry id: PATCH, one poll, one read"
    );
    assert!(admin_enabled(&emu, "acre2eone"));
    assert_state_matches_emulator(&ws, &emu, "acre2eone");
    ws.assert_no_changes();

    ws.write_resources(&by_registry("acre2eone", false));
    emu.clear_journal();
    ws.apply_in_place();
    assert_eq!(
        calls(&emu, BY_NAME),
        update_calls(),
        "update: refresh, PATCH, one poll, one read"
    );
    assert!(!admin_enabled(&emu, "acre2eone"));
    assert_state_matches_emulator(&ws, &emu, "acre2eone");

    ws.write_resources(&by_registry("acre2eone", true));
    ws.apply_in_place();
    assert!(admin_enabled(&emu, "acre2eone"));
    assert_state_matches_emulator(&ws, &emu, "acre2eone");

    ws.write_resources(&by_registry("acre2etwo", true));
    ws.assert_plan_replaces();
});

// ---------------------------------------------------------------------------------------
// out-of-band change and out-of-band delete

scenario!(drift_and_out_of_band_delete, |tf| {
    let (ws, emu) = setup_init(tf, &by_workspace("ws-one", false));
    ws.apply();

    emu.patch(
        &emu::registry("acre2eone"),
        json!({"properties": {"adminUserEnabled": true}}),
    );
    ws.assert_plan_changes(&["enabled", "true -> false"]);
    emu.clear_journal();
    ws.apply_in_place();
    assert_eq!(
        calls(&emu, BY_NAME),
        update_calls(),
        "update by workspace_id: the registry kept in state, no workspace read"
    );
    assert!(
        !admin_enabled(&emu, "acre2eone"),
        "apply repaired the drift"
    );
    ws.assert_no_changes();
    assert_state_matches_emulator(&ws, &emu, "acre2eone");

    emu.delete(&emu::registry("acre2eone"));
    ws.assert_plan_creates();
});

// ---------------------------------------------------------------------------------------
// import by registry id and by workspace id

scenario!(terraform_import, |tf| {
    let (ws, emu) = setup_init(tf, &by_registry("acre2eone", true));
    import_reading(
        &ws,
        &emu,
        (ADDR, &emu::registry("acre2eone")),
        BY_NAME,
        &["GET registry acre2eone"],
    );
    assert_state_matches_emulator(&ws, &emu, "acre2eone");
    ws.assert_no_changes();

    // By workspace id: the registry is found through the workspace.
    ws.ok(&["state", "rm", ADDR]);
    ws.write_resources(&by_workspace("ws-one", true));
    emu.clear_journal();
    ws.import(ADDR, &emu::workspace("ws-one"));
    assert_eq!(
        calls(&emu, BY_NAME),
        strs(&["GET workspace ws-one", "GET registry acre2eone"]),
        "import by workspace: two GETs"
    );
    assert_state_matches_emulator(&ws, &emu, "acre2eone");
    assert_eq!(
        ws.resource_values(ADDR)["workspace_id"],
        emu::workspace("ws-one")
    );
    ws.assert_no_changes();
});

// `import` blocks exist from Terraform 1.5.
scenario!(import_block, only(V1_15), |tf| {
    let (ws, emu) = setup_init(
        tf,
        &with_import_block(
            ADDR,
            &emu::registry("acre2eone"),
            &by_registry("acre2eone", true),
        ),
    );
    assert_plan_imports_one_reading(&ws, &emu, BY_NAME, &["GET registry acre2eone"]);
    ws.apply_imports_one();
    assert_state_matches_emulator(&ws, &emu, "acre2eone");
    ws.assert_no_changes();
});

// ---------------------------------------------------------------------------------------
// invalid configurations

scenario!(invalid_configurations, |tf| {
    let (ws, emu) = setup_init(
        tf,
        &format!(
            r#"
resource "amlauth_acr_admin" "both" {{
  registry_id  = "{reg}"
  workspace_id = "{ws}"
  enabled      = false
}}

resource "amlauth_acr_admin" "malformed" {{
  registry_id = "/subscriptions/{sub}/resourceGroups/rg-e2e/providers/Microsoft.ContainerRegistry/registries"
  enabled     = false
}}

resource "amlauth_acr_admin" "workspace_as_registry" {{
  registry_id = "{ws}"
  enabled     = false
}}

resource "amlauth_acr_admin" "neither" {{
  enabled = false
}}
"#,
            reg = emu::registry("acre2eone"),
            ws = emu::workspace("ws-one"),
            sub = emu::SUB,
        ),
    );
    emu.clear_journal();
    let text = ws.validate_errors();
    let registry_kind = ["Microsoft.ContainerRegistry/registries"];
    assert_diagnostic(
        &text,
        "amlauth_acr_admin.both",
        "workspace_id",
        &["exactly one of"],
    );
    assert_diagnostic(
        &text,
        "amlauth_acr_admin.malformed",
        "registry_id",
        &registry_kind,
    );
    assert_diagnostic(
        &text,
        "amlauth_acr_admin.workspace_as_registry",
        "registry_id",
        &registry_kind,
    );
    assert_diagnostic(
        &text,
        "amlauth_acr_admin.neither",
        "registry_id",
        &["exactly one of"],
    );

    ws.assert_plan_fails(&["exactly one of"]);
    assert_no_arm_calls(&emu);
});

// ---------------------------------------------------------------------------------------
// faults during apply

scenario!(faults_during_apply, |tf| {
    let (ws, emu) = setup_init(tf, &by_workspace("ws-one", false));

    // A 429 storm on the PATCH, each answer asking to come back in a second.
    apply_through_throttling(&ws, &emu, "PATCH", "*/registries/acre2eone");
    assert!(!admin_enabled(&emu, "acre2eone"));
    assert_state_matches_emulator(&ws, &emu, "acre2eone");
    emu.clear_faults();

    // 503s on the status poll and on the read back: retried, the apply converges.
    ws.write_resources(&by_workspace("ws-one", true));
    emu.clear_journal();
    fault_503s_on_polls_and_read_back(&emu, "*/operationStatuses/*", "*/registries/acre2eone");
    ws.apply_in_place();
    // Without a status poll (Azure's synchronous PATCH) only the read-back 503 happens.
    let expected_503 = if emu::spec_shapes() { 3 } else { 1 };
    assert_eq!(
        status_count(&emu, 503),
        expected_503,
        "{:?}",
        calls(&emu, BY_NAME)
    );
    assert!(admin_enabled(&emu, "acre2eone"));
    assert_state_matches_emulator(&ws, &emu, "acre2eone");
    ws.assert_no_changes();
    emu.clear_faults();

    // The operation is accepted but ends Failed.
    ws.write_resources(&by_workspace("ws-one", false));
    apply_with_failed_operation(
        &ws,
        &emu,
        ("PATCH", "*/registries/acre2eone"),
        "RegistryOperationFailed",
        "injected registry failure",
    );
    assert_state_matches_emulator(&ws, &emu, "acre2eone");
    ws.apply();
    assert!(!admin_enabled(&emu, "acre2eone"));
    assert_state_matches_emulator(&ws, &emu, "acre2eone");
});

// ---------------------------------------------------------------------------------------
// a workspace without a registry

scenario!(workspace_without_registry, |tf| {
    let (ws, emu) = setup_init(tf, &by_workspace("ws-two", false));
    // The error explains what to do.
    ws.assert_apply_fails_saying(&[
        "Workspace has no container registry yet",
        "first image",
        "registry_id",
    ]);
    assert!(
        !calls(&emu, BY_NAME).iter().any(|c| c.starts_with("PATCH")),
        "{:?}",
        calls(&emu, BY_NAME)
    );
    assert_eq!(ws.resource_values(ADDR), Value::Null, "nothing in state");
});
