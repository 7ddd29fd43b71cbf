//! End-to-end: amlauth_workspace_identity under real Terraform (1.0.3 and 1.15) against the
//! emulator. Each scenario runs once per Terraform version, reusing one working directory
//! for its sequence of steps.

#[macro_use]
mod common;

use common::emu::{self, Emu};
use common::{
    BY_NAME, Fields, TfWorkspace, apply_through_throttling, apply_with_failed_operation,
    assert_diagnostic, assert_fields, assert_no_arm_calls, assert_no_changes_reading,
    assert_plan_imports_one_reading, calls, destroy_reading, fault_503s_on_polls_and_read_back,
    import_reading, lower_set, setup_init, setup_with, status_count, strs, with_import_block,
};
use serde_json::{Value, json};

const ADDR: &str = "amlauth_workspace_identity.this";

/// The block of resource `name` (`this` in most scenarios) on `workspace_id`; `ids` and
/// `primary` are identity names, `None` leaves the argument out.
fn block(
    name: &str,
    workspace_id: &str,
    type_: &str,
    ids: &[&str],
    primary: Option<&str>,
    mode: Option<&str>,
) -> String {
    let mut body = format!(
        "resource \"amlauth_workspace_identity\" \"{name}\" {{\n  workspace_id = \"{workspace_id}\"\n  type = \"{type_}\"\n"
    );
    if !ids.is_empty() {
        let list: Vec<String> = ids.iter().map(|i| format!("\"{}\"", emu::uai(i))).collect();
        body.push_str(&format!(
            "  user_assigned_identity_ids = [{}]\n",
            list.join(", ")
        ));
    }
    if let Some(p) = primary {
        body.push_str(&format!(
            "  primary_user_assigned_identity_id = \"{}\"\n",
            emu::uai(p)
        ));
    }
    if let Some(m) = mode {
        body.push_str(&format!("  system_datastores_auth_mode = \"{m}\"\n"));
    }
    body.push_str("}\n");
    body
}

/// Both identity kinds with uai-one and uai-two attached on `workspace`.
fn both_kinds(workspace: &str, primary: &str, mode: &str) -> String {
    block(
        "this",
        &emu::workspace(workspace),
        "SystemAssigned,UserAssigned",
        &["uai-one", "uai-two"],
        Some(primary),
        Some(mode),
    )
}

/// Both identity kinds on ws-one with only uai-one attached, and `AccessKey` datastores.
fn only_uai_one_config() -> String {
    block(
        "this",
        &emu::workspace("ws-one"),
        "SystemAssigned,UserAssigned",
        &["uai-one"],
        Some("uai-one"),
        Some("AccessKey"),
    )
}

fn both_identities_config() -> String {
    both_kinds("ws-one", "uai-one", "Identity")
}

/// The poll of a workspace write: Azure's `202` carries `Azure-AsyncOperation` (followed in
/// preference), the spec's only `Location` (`AMLAUTH_EMULATOR_SHAPES=spec`).
fn poll() -> &'static str {
    if emu::spec_shapes() {
        "GET operationResults"
    } else {
        "GET operationStatuses"
    }
}

fn stored_ws(emu: &Emu, name: &str) -> Value {
    emu.resource(&emu::workspace(name))
        .unwrap_or_else(|| panic!("workspace {name} exists in the emulator"))
}

/// State attributes and where the emulator's workspace body holds them.
const FIELDS: Fields = &[
    ("type", "/identity/type"),
    ("principal_id", "/identity/principalId"),
    ("tenant_id", "/identity/tenantId"),
    (
        "system_datastores_auth_mode",
        "/properties/systemDatastoresAuthMode",
    ),
];

/// The Terraform state of the resource says what the emulator holds.
fn assert_state_matches_emulator(ws: &TfWorkspace, emu: &Emu, name: &str) {
    let v = ws.resource_values(ADDR);
    let stored = stored_ws(emu, name);
    let ident = &stored["identity"];
    let ctx = format!("state {v}\nemulator {stored}");
    assert_fields(&v, &stored, FIELDS);
    let remote_ids = ident["userAssignedIdentities"]
        .as_object()
        .map(|m| lower_set(m.keys().map(String::as_str)))
        .unwrap_or_default();
    let state_ids = v["user_assigned_identity_ids"]
        .as_array()
        .map(|a| lower_set(a.iter().filter_map(Value::as_str)))
        .unwrap_or_default();
    assert_eq!(state_ids, remote_ids, "{ctx}");
    let remote_primary = stored["properties"]["primaryUserAssignedIdentity"]
        .as_str()
        .filter(|_| !remote_ids.is_empty())
        .map(str::to_ascii_lowercase);
    let state_primary = v["primary_user_assigned_identity_id"]
        .as_str()
        .map(str::to_ascii_lowercase);
    assert_eq!(state_primary, remote_primary, "{ctx}");
}

/// Whether the emulator's workspace `name` has `uai` as its primary identity.
fn primary_is(emu: &Emu, name: &str, uai: &str) -> bool {
    stored_ws(emu, name)["properties"]["primaryUserAssignedIdentity"]
        .as_str()
        .is_some_and(|p| p.eq_ignore_ascii_case(&emu::uai(uai)))
}

fn uai_principal(emu: &Emu, name: &str) -> (Value, Value) {
    let r = emu.resource(&emu::uai(name)).expect("identity exists");
    (
        r["properties"]["principalId"].clone(),
        r["properties"]["clientId"].clone(),
    )
}

// ---------------------------------------------------------------------------------------
// create, then no changes; ARM calls for create and read

scenario!(create_then_no_changes, |tf| {
    let (ws, emu) = setup_init(tf, &both_identities_config());
    emu.clear_journal();
    ws.apply();
    assert_eq!(
        calls(&emu, BY_NAME),
        strs(&["PATCH workspace ws-one", poll(), "GET workspace ws-one"]),
        "create: PATCH, one poll, one read"
    );

    assert_no_changes_reading(&ws, &emu, BY_NAME, &["GET workspace ws-one"]);

    let stored = stored_ws(&emu, "ws-one");
    assert_eq!(stored["identity"]["type"], "SystemAssigned,UserAssigned");
    assert_eq!(stored["properties"]["systemDatastoresAuthMode"], "Identity");
    assert_eq!(
        lower_set(
            stored["identity"]["userAssignedIdentities"]
                .as_object()
                .expect("map")
                .keys()
                .map(String::as_str)
        ),
        lower_set([emu::uai("uai-one").as_str(), emu::uai("uai-two").as_str()])
    );

    let v = ws.resource_values(ADDR);
    assert_eq!(v["id"], emu::workspace("ws-one"));
    assert_eq!(v["principal_id"], stored["identity"]["principalId"]);
    assert!(v["principal_id"].is_string(), "{v}");
    // What the user wrote is kept although ARM answers the ids re-cased.
    let mut ids: Vec<&str> = v["user_assigned_identity_ids"]
        .as_array()
        .expect("ids")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    ids.sort();
    assert_eq!(ids, vec![emu::uai("uai-one"), emu::uai("uai-two")]);
    assert_eq!(v["primary_user_assigned_identity_id"], emu::uai("uai-one"));
    // The computed map carries each identity's principal and client ids.
    let map = v["user_assigned_identities"].as_object().expect("map");
    assert_eq!(map.len(), 2, "{v}");
    for name in ["uai-one", "uai-two"] {
        let (principal, client) = uai_principal(&emu, name);
        let entry = map
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&emu::uai(name)))
            .map(|(_, e)| e)
            .unwrap_or_else(|| panic!("{name} in {v}"));
        assert_eq!(entry["principal_id"], principal);
        assert_eq!(entry["client_id"], client);
    }
    assert_state_matches_emulator(&ws, &emu, "ws-one");

    // Destroy only stops managing: the identity stays as it is, and no write reaches Azure.
    let before = stored_ws(&emu, "ws-one");
    destroy_reading(&ws, &emu, BY_NAME, &["GET workspace ws-one"]);
    let after = stored_ws(&emu, "ws-one");
    assert_eq!(after["identity"], before["identity"]);
    assert_eq!(after["properties"], before["properties"]);
    assert_eq!(ws.resource_values(ADDR), Value::Null, "gone from state");
});

// ---------------------------------------------------------------------------------------
// every attribute updated in place; a new workspace_id replaces

scenario!(updates_in_place, |tf| {
    let (ws, emu) = setup_init(
        tf,
        &block(
            "this",
            &emu::workspace("ws-one"),
            "SystemAssigned",
            &[],
            None,
            Some("AccessKey"),
        ),
    );
    ws.apply();
    let principal = stored_ws(&emu, "ws-one")["identity"]["principalId"].clone();
    assert_state_matches_emulator(&ws, &emu, "ws-one");

    // type SA -> SA+UA (and the ids set appears).
    ws.write_resources(&only_uai_one_config());
    emu.clear_journal();
    ws.apply_in_place();
    assert_eq!(
        calls(&emu, BY_NAME),
        strs(&[
            "GET workspace ws-one",
            "PATCH workspace ws-one",
            poll(),
            "GET workspace ws-one"
        ]),
        "update: refresh, PATCH, one poll, one read"
    );
    let stored = stored_ws(&emu, "ws-one");
    assert_eq!(stored["identity"]["type"], "SystemAssigned,UserAssigned");
    assert_eq!(
        stored["identity"]["principalId"], principal,
        "the system-assigned principal survives"
    );
    assert_state_matches_emulator(&ws, &emu, "ws-one");

    // the ids set changes (one -> one, two).
    ws.write_resources(&both_kinds("ws-one", "uai-one", "AccessKey"));
    ws.apply_in_place();
    let stored = stored_ws(&emu, "ws-one");
    assert_eq!(
        stored["identity"]["userAssignedIdentities"]
            .as_object()
            .map(|m| m.len()),
        Some(2),
        "{stored}"
    );
    assert_state_matches_emulator(&ws, &emu, "ws-one");

    // the primary changes.
    ws.write_resources(&both_kinds("ws-one", "uai-two", "AccessKey"));
    ws.apply_in_place();
    assert!(
        primary_is(&emu, "ws-one", "uai-two"),
        "{}",
        stored_ws(&emu, "ws-one")
    );
    assert_state_matches_emulator(&ws, &emu, "ws-one");

    // the datastore auth mode changes.
    ws.write_resources(&both_kinds("ws-one", "uai-two", "UserDelegationSAS"));
    ws.apply_in_place();
    assert_eq!(
        stored_ws(&emu, "ws-one")["properties"]["systemDatastoresAuthMode"],
        "UserDelegationSAS"
    );
    assert_state_matches_emulator(&ws, &emu, "ws-one");

    // another workspace: replacement, not an update.
    ws.write_resources(&both_kinds("ws-two", "uai-two", "UserDelegationSAS"));
    ws.assert_plan_replaces();
});

// ---------------------------------------------------------------------------------------
// out-of-band change and out-of-band delete

scenario!(drift_and_out_of_band_delete, |tf| {
    let (ws, emu) = setup_init(tf, &both_identities_config());
    ws.apply();

    emu.patch(
        &emu::workspace("ws-one"),
        json!({"properties": {"systemDatastoresAuthMode": "AccessKey"}}),
    );
    let (code, out) = ws.plan_code();
    assert_eq!(code, 2, "drift must show in the plan:\n{out}");
    assert!(
        out.stdout.contains("\"AccessKey\" -> \"Identity\""),
        "plan shows the auth mode going back:\n{out}"
    );
    ws.apply();
    assert_eq!(
        stored_ws(&emu, "ws-one")["properties"]["systemDatastoresAuthMode"],
        "Identity",
        "apply repaired the drift"
    );
    ws.assert_no_changes();
    assert_state_matches_emulator(&ws, &emu, "ws-one");

    emu.delete(&emu::workspace("ws-one"));
    ws.assert_plan_creates();
});

// ---------------------------------------------------------------------------------------
// import

fn import_config() -> String {
    both_kinds("ws-one", "uai-two", "Identity")
}

scenario!(terraform_import, |tf| {
    let (ws, emu) = setup_with(tf, common::seed_workspace_with_identities());
    ws.write_resources(&import_config());
    ws.init();
    import_reading(
        &ws,
        &emu,
        (ADDR, &emu::workspace("ws-one")),
        BY_NAME,
        &["GET workspace ws-one"],
    );
    assert_state_matches_emulator(&ws, &emu, "ws-one");
    ws.assert_no_changes();
});

// `import` blocks exist from Terraform 1.5.
scenario!(import_block, only(V1_15), |tf| {
    let (ws, emu) = setup_with(tf, common::seed_workspace_with_identities());
    ws.write_resources(&with_import_block(
        ADDR,
        &emu::workspace("ws-one"),
        &import_config(),
    ));
    ws.init();
    assert_plan_imports_one_reading(&ws, &emu, BY_NAME, &["GET workspace ws-one"]);
    ws.apply_imports_one();
    assert_state_matches_emulator(&ws, &emu, "ws-one");
    ws.assert_no_changes();
});

// Resource identity (Terraform 1.12+): an `import` block by identity instead of id, and the
// identity recorded in state.
scenario!(import_block_by_identity, only(V1_15), |tf| {
    let (ws, emu) = setup_with(tf, common::seed_workspace_with_identities());
    ws.write_resources(&format!(
        "import {{\n  to = {ADDR}\n  identity = {{\n    id = \"{}\"\n  }}\n}}\n{}",
        emu::workspace("ws-one"),
        import_config()
    ));
    ws.init();
    ws.assert_plan_imports_one();
    ws.apply();
    assert_state_matches_emulator(&ws, &emu, "ws-one");
    ws.assert_no_changes();
    let state = std::fs::read_to_string(ws.work_dir().join("terraform.tfstate")).expect("state");
    let state: Value = serde_json::from_str(&state).expect("state JSON");
    let instance = &state["resources"][0]["instances"][0];
    assert_eq!(
        instance["identity"]["id"],
        emu::workspace("ws-one"),
        "{instance}"
    );
});

// ---------------------------------------------------------------------------------------
// invalid configurations

scenario!(invalid_configurations, |tf| {
    let ws_one = emu::workspace("ws-one");
    let storage_account = format!(
        "{}/providers/Microsoft.Storage/storageAccounts/st",
        emu::rg()
    );
    let one = &["uai-one"];
    let (ws, emu) = setup_init(
        tf,
        &[
            block(
                "ua_without_primary",
                &ws_one,
                "UserAssigned",
                one,
                None,
                None,
            ),
            block(
                "ids_with_system",
                &ws_one,
                "SystemAssigned",
                one,
                None,
                None,
            ),
            block(
                "malformed_id",
                &storage_account,
                "SystemAssigned",
                &[],
                None,
                None,
            ),
            block(
                "spaced_type",
                &ws_one,
                "SystemAssigned, UserAssigned",
                one,
                None,
                None,
            ),
        ]
        .join("\n"),
    );
    emu.clear_journal();
    let text = ws.validate_errors();
    assert_diagnostic(
        &text,
        "amlauth_workspace_identity.ua_without_primary",
        "primary_user_assigned_identity_id",
        &["Missing primary"],
    );
    assert_diagnostic(
        &text,
        "amlauth_workspace_identity.ids_with_system",
        "user_assigned_identity_ids",
        &["need a UserAssigned type"],
    );
    assert_diagnostic(
        &text,
        "amlauth_workspace_identity.malformed_id",
        "workspace_id",
        &["Microsoft.MachineLearningServices/workspaces"],
    );
    assert_diagnostic(
        &text,
        "amlauth_workspace_identity.spaced_type",
        "type",
        &["\"SystemAssigned,UserAssigned\"", "not accepted as written"],
    );

    // Plan refuses the same configuration before calling Azure.
    ws.assert_plan_fails(&["Missing primary"]);
    assert_no_arm_calls(&emu);
});

// ---------------------------------------------------------------------------------------
// faults during apply

scenario!(faults_during_apply, |tf| {
    let (ws, emu) = setup_init(tf, &both_identities_config());

    // A 429 storm on the PATCH, each answer asking to come back in a second.
    apply_through_throttling(&ws, &emu, "PATCH", "*/workspaces/ws-one");
    assert_state_matches_emulator(&ws, &emu, "ws-one");
    emu.clear_faults();

    // 503s while polling and reading back: retried, the apply converges.
    ws.write_resources(&both_kinds("ws-one", "uai-two", "Identity"));
    emu.clear_journal();
    fault_503s_on_polls_and_read_back(&emu, "*/operation*/*", "*/workspaces/ws-one");
    ws.apply_in_place();
    assert_eq!(status_count(&emu, 503), 3, "{:?}", calls(&emu, BY_NAME));
    assert!(primary_is(&emu, "ws-one", "uai-two"));
    assert_state_matches_emulator(&ws, &emu, "ws-one");
    ws.assert_no_changes();
    emu.clear_faults();

    // The operation is accepted but ends Failed: the apply fails with Azure's message and the
    // state records what the workspace holds.
    ws.write_resources(&only_uai_one_config());
    apply_with_failed_operation(
        &ws,
        &emu,
        ("PATCH", "*/workspaces/ws-one"),
        "InternalServerError",
        "injected identity failure",
    );
    assert_state_matches_emulator(&ws, &emu, "ws-one");
    // A later apply converges.
    ws.apply();
    assert_eq!(
        stored_ws(&emu, "ws-one")["properties"]["systemDatastoresAuthMode"],
        "AccessKey"
    );
    assert_state_matches_emulator(&ws, &emu, "ws-one");
});

// ---------------------------------------------------------------------------------------
// SA+UA -> SA: warned at plan, refused by Azure at apply

scenario!(refused_downgrade, |tf| {
    let (ws, emu) = setup_init(tf, &both_identities_config());
    ws.apply();

    ws.write_resources(&block(
        "this",
        &emu::workspace("ws-one"),
        "SystemAssigned",
        &[],
        None,
        Some("Identity"),
    ));
    // The plan warns; the apply fails with Azure's message.
    ws.assert_plan_changes_saying(&["Warning: Azure may refuse this identity change"]);
    ws.assert_apply_fails_saying(&[
        "from 'SystemAssigned,UserAssigned' to 'SystemAssigned' is not supported",
    ]);
    assert_eq!(
        stored_ws(&emu, "ws-one")["identity"]["type"],
        "SystemAssigned,UserAssigned"
    );
    assert_state_matches_emulator(&ws, &emu, "ws-one");
});
