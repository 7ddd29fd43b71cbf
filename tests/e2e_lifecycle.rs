//! End-to-end: resource-lifecycle rules every resource shares, under real Terraform (1.0.3 and
//! 1.15) against the emulator:
//! - ARM ids that differ only in case are the same id (import, plan, apply, failed writes);
//! - a write Azure accepts but does not keep ends in the provider's own error, with the state
//!   recording what Azure holds;
//! - an object whose last operation Azure reports `Failed` is applied again by the next plan.

#[macro_use]
mod common;

use common::emu;
use common::{Tf, TfWorkspace, flat, setup, setup_init, setup_with, with_import_block};
use serde_json::{Value, json};

/// The id spelled as a user might: resource group and names upper-cased.
fn shouty(id: &str) -> String {
    id.replace("rg-e2e", "RG-E2E")
        .replace("uai-", "UAI-")
        .replace("ws-one", "WS-One")
        .replace("cluster-a", "Cluster-A")
}

/// The id as Azure answers it at its worst: all lower-case.
fn lower(id: &str) -> String {
    id.to_ascii_lowercase()
}

fn assert_no_inconsistency(out: &common::TfOutput) {
    let text = flat(&out.combined());
    assert!(
        !text.contains("inconsistent result") && !text.contains("bug in the provider"),
        "Terraform's consistency check reached the user:\n{out}"
    );
}

fn apply_run(ws: &TfWorkspace) -> common::TfOutput {
    let out = ws.try_apply();
    assert_no_inconsistency(&out);
    out
}

// ---------------------------------------------------------------------------------------
// ARM ids compared ignoring case

/// The identities `ids` (names) as an HCL list's items, spelled [`shouty`].
fn shouty_uais(ids: &[&str]) -> String {
    let list: Vec<String> = ids
        .iter()
        .map(|i| format!("\"{}\"", shouty(&emu::uai(i))))
        .collect();
    list.join(", ")
}

fn workspace_config(ids: &[&str], primary: &str) -> String {
    format!(
        "resource \"amlauth_workspace_identity\" \"this\" {{\n  workspace_id = \"{}\"\n  type = \"SystemAssigned,UserAssigned\"\n  user_assigned_identity_ids = [{}]\n  primary_user_assigned_identity_id = \"{}\"\n  system_datastores_auth_mode = \"Identity\"\n}}\n",
        shouty(&emu::workspace("ws-one")),
        shouty_uais(ids),
        shouty(&emu::uai(primary)),
    )
}

const WS_ADDR: &str = "amlauth_workspace_identity.this";

/// Import (by an all-lower-case id) of a workspace whose ids the configuration spells with
/// other casing plans nothing; a real change then applies cleanly and leaves nothing to do.
fn workspace_import_any_casing(tf: Tf, import_block: bool) {
    let (ws, emu) = setup_with(tf, common::seed_workspace_with_identities());
    let import_id = lower(&emu::workspace("ws-one"));
    let config = workspace_config(&["uai-one", "uai-two"], "uai-two");
    if import_block {
        ws.write_resources(&with_import_block(WS_ADDR, &import_id, &config));
        ws.init();
        ws.assert_plan_imports_one();
        let out = apply_run(&ws);
        assert_eq!(out.code, 0, "{out}");
        ws.write_resources(&config);
    } else {
        ws.write_resources(&config);
        ws.init();
        ws.import(WS_ADDR, &import_id);
    }
    ws.assert_no_changes();

    // A real change, still spelled the user's way: applies without a consistency error.
    ws.write_resources(&workspace_config(&["uai-two", "uai-three"], "uai-three"));
    let out = apply_run(&ws);
    assert_eq!(out.code, 0, "{out}");
    ws.assert_no_changes();
    let v = ws.resource_values(WS_ADDR);
    assert_eq!(
        v["primary_user_assigned_identity_id"],
        shouty(&emu::uai("uai-three")),
        "the configuration's spelling is kept: {v}"
    );
    let stored = emu.resource(&emu::workspace("ws-one")).expect("workspace");
    let mut remote: Vec<String> = stored["identity"]["userAssignedIdentities"]
        .as_object()
        .map(|m| m.keys().map(|k| k.to_ascii_lowercase()).collect())
        .unwrap_or_default();
    remote.sort();
    assert_eq!(
        remote,
        vec![lower(&emu::uai("uai-three")), lower(&emu::uai("uai-two"))]
    );
}

scenario!(workspace_import_any_casing, |tf| {
    workspace_import_any_casing(tf, false)
});

scenario!(workspace_import_block_any_casing, only(V1_15), |tf| {
    workspace_import_any_casing(tf, true);
});

const COMPUTE_ADDR: &str = "amlauth_compute_identity.this";

fn compute_config(ids: &[&str]) -> String {
    format!(
        "resource \"amlauth_compute_identity\" \"this\" {{\n  compute_id = \"{}\"\n  type = \"UserAssigned\"\n  user_assigned_identity_ids = [{}]\n}}\n",
        shouty(&emu::compute("ws-one", "cluster-a")),
        shouty_uais(ids)
    )
}

// A compute with a user-assigned identity: import with any casing plans nothing; after a
// failed operation the state keeps the configuration's spelling, so putting the previous
// configuration back applies cleanly.
scenario!(compute_import_and_failed_write_any_casing, |tf| {
    let (ws, emu) = setup(tf);
    let compute = emu::compute("ws-one", "cluster-a");
    // The compute gets its identity out of band (lower-case ids, as some tools send them).
    emu.patch(
        &compute,
        json!({"identity": {"type": "UserAssigned", "userAssignedIdentities": {
            lower(&emu::uai("uai-one")): {"principalId": "00000000-0000-4000-8000-0000000000a1", "clientId": "00000000-0000-4000-8000-0000000000c1"}}}}),
    );
    ws.write_resources(&compute_config(&["uai-one"]));
    ws.init();
    ws.import(COMPUTE_ADDR, &lower(&compute));
    ws.assert_no_changes();

    // The next change fails in Azure (which keeps the new identities, Failed).
    ws.write_resources(&compute_config(&["uai-one", "uai-two"]));
    emu.fault(
        json!({"method": "PUT", "path": "*/computes/cluster-a", "times": 1,
        "action": {"kind": "failAsync", "message": "the cluster update failed"}}),
    );
    let out = apply_run(&ws);
    assert_ne!(out.code, 0, "{out}");
    emu.clear_faults();
    let v = ws.resource_values(COMPUTE_ADDR);
    let ids: Vec<&str> = v["user_assigned_identity_ids"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(
        ids.contains(&shouty(&emu::uai("uai-two")).as_str()),
        "the failed write's read-back keeps the configuration's spelling: {v}"
    );

    // Back to the previous configuration: a real change, applied without a consistency error.
    ws.write_resources(&compute_config(&["uai-one"]));
    let out = apply_run(&ws);
    assert_eq!(out.code, 0, "{out}");
    ws.assert_no_changes();
});

// ---------------------------------------------------------------------------------------
// Writes Azure accepts but does not keep

/// Applies `first`, then `second` with a `keepOld` fault on `method path`: the apply fails
/// with the provider's error on `attribute`, the state says what the emulator holds, and the
/// next plan proposes the change again.
fn unkept_write(
    tf: Tf,
    addr: &str,
    first: &str,
    second: &str,
    (method, path, answer_old): (&str, &str, bool),
    attribute: &str,
    state_value: Value,
) {
    let (ws, emu) = setup_init(tf, first);
    ws.apply();
    ws.write_resources(second);
    emu.fault(json!({"method": method, "path": path, "action": {"kind": "keepOld", "answerOld": answer_old}}));
    let out = ws.assert_apply_fails_saying(&[
        "Azure did not keep the change",
        &format!("Azure accepted the change of `{attribute}`"),
        "a policy may be enforcing it",
    ]);
    assert_no_inconsistency(&out);
    let v = ws.resource_values(addr);
    assert_eq!(
        v[attribute], state_value,
        "state records what Azure holds: {v}"
    );
    let (code, out) = ws.plan_code();
    assert_eq!(code, 2, "the change is proposed again:\n{out}");
    emu.clear_faults();
    ws.apply();
    ws.assert_no_changes();
}

/// ws-one with a system-assigned identity and datastore auth `mode`.
fn system_identity_config(mode: &str) -> String {
    format!(
        "resource \"amlauth_workspace_identity\" \"this\" {{\n  workspace_id = \"{}\"\n  type = \"SystemAssigned\"\n  system_datastores_auth_mode = \"{mode}\"\n}}\n",
        emu::workspace("ws-one")
    )
}

scenario!(unkept_registry_admin, |tf| {
    let cfg = |enabled: bool| {
        format!(
            "resource \"amlauth_acr_admin\" \"this\" {{\n  registry_id = \"{}\"\n  enabled = {enabled}\n}}\n",
            emu::registry("acre2eone")
        )
    };
    unkept_write(
        tf,
        "amlauth_acr_admin.this",
        &cfg(true),
        &cfg(false),
        ("PATCH", "*/registries/acre2eone", false),
        "enabled",
        json!(true),
    );
});

scenario!(unkept_workspace_identity, |tf| {
    unkept_write(
        tf,
        WS_ADDR,
        &system_identity_config("AccessKey"),
        &system_identity_config("Identity"),
        ("PATCH", "*/workspaces/ws-one", false),
        "system_datastores_auth_mode",
        json!("AccessKey"),
    );
});

scenario!(unkept_compute_identity, |tf| {
    let system = format!(
        "resource \"amlauth_compute_identity\" \"this\" {{\n  compute_id = \"{}\"\n  type = \"SystemAssigned\"\n}}\n",
        emu::compute("ws-one", "cluster-a")
    );
    let user = format!(
        "resource \"amlauth_compute_identity\" \"this\" {{\n  compute_id = \"{}\"\n  type = \"UserAssigned\"\n  user_assigned_identity_ids = [\"{}\"]\n}}\n",
        emu::compute("ws-one", "cluster-a"),
        emu::uai("uai-one")
    );
    unkept_write(
        tf,
        COMPUTE_ADDR,
        &system,
        &user,
        ("PUT", "*/computes/cluster-a", false),
        "type",
        json!("SystemAssigned"),
    );
});

scenario!(unkept_datastore_access, |tf| {
    let cfg = |sdai: &str| {
        format!(
            "resource \"amlauth_datastore_access\" \"this\" {{\n  datastore_id = \"{}\"\n  mode = \"identity\"\n  service_data_access_identity = \"{sdai}\"\n}}\n",
            emu::datastore("ws-one", "lake_data")
        )
    };
    unkept_write(
        tf,
        "amlauth_datastore_access.this",
        &cfg("None"),
        &cfg("WorkspaceSystemAssignedIdentity"),
        // The datastore PUT answers with the stored datastore (no read-back follows it).
        ("PUT", "*/datastores/lake_data", true),
        "service_data_access_identity",
        json!("None"),
    );
});

// ---------------------------------------------------------------------------------------
// A failed long-running update is applied again

/// An update whose operation ends `Failed` while Azure keeps the new values: the next plan
/// proposes to apply again and says why; that apply clears the failure.
fn failed_update_reapplied(tf: Tf, addr: &str, id: &str, first: &str, second: &str, path: &str) {
    let (ws, emu) = setup_init(tf, first);
    ws.apply();
    ws.write_resources(second);
    emu.fault(
        json!({"path": path, "method": if path.contains("computes") { "PUT" } else { "PATCH" },
        "times": 1, "action": {"kind": "failAsync", "message": "injected update failure"}}),
    );
    let out = apply_run(&ws);
    assert_ne!(out.code, 0, "{out}");
    emu.clear_faults();
    assert_eq!(
        emu.resource(id).expect("exists")["properties"]["provisioningState"],
        "Failed"
    );
    // A failed object is applied again.
    ws.assert_plan_changes_saying(&[
        "Applying again: Azure reports the last operation failed",
        "provisioningState as Failed",
        &format!("{addr} will be updated in-place"),
    ]);
    let out = apply_run(&ws);
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(
        emu.resource(id).expect("exists")["properties"]["provisioningState"],
        "Succeeded"
    );
    ws.assert_no_changes();
}

scenario!(failed_workspace_update_reapplied, |tf| {
    failed_update_reapplied(
        tf,
        WS_ADDR,
        &emu::workspace("ws-one"),
        &system_identity_config("AccessKey"),
        &system_identity_config("Identity"),
        "*/workspaces/ws-one",
    );
});

scenario!(failed_compute_update_reapplied, |tf| {
    let compute = emu::compute("ws-one", "cluster-a");
    let system = format!(
        "resource \"amlauth_compute_identity\" \"this\" {{\n  compute_id = \"{compute}\"\n  type = \"SystemAssigned\"\n}}\n"
    );
    let user = format!(
        "resource \"amlauth_compute_identity\" \"this\" {{\n  compute_id = \"{compute}\"\n  type = \"UserAssigned\"\n  user_assigned_identity_ids = [\"{}\"]\n}}\n",
        emu::uai("uai-one")
    );
    failed_update_reapplied(
        tf,
        COMPUTE_ADDR,
        &compute,
        &system,
        &user,
        "*/computes/cluster-a",
    );
});
