//! End-to-end: amlauth_workspace_image_build under real Terraform (1.0.3 and 1.15) against the
//! emulator: apply, no-change plan, drift, import, destroy leaving the setting.

#[macro_use]
mod common;

use common::emu::{self, Emu};
use common::{
    Name, assert_diagnostic, assert_no_changes_reading, calls, destroy_reading, flat,
    import_reading, setup, setup_init, strs, with_import_block,
};
use serde_json::{Value, json};

const ADDR: &str = "amlauth_workspace_image_build.this";

fn config(workspace_id: &str, compute: &str) -> String {
    format!(
        "resource \"amlauth_workspace_image_build\" \"this\" {{\n  workspace_id = \"{workspace_id}\"\n  compute_name = \"{compute}\"\n}}\n"
    )
}

/// Workspace calls, with either poll of the operation (Azure's `Azure-AsyncOperation`, or the
/// spec shape's `Location`) named `poll`.
const NAMES: &[Name<'static>] = &[
    Name::Under("/operationresults/", "poll"),
    Name::Under("/operationstatuses/", "poll"),
    Name::Named("/workspaces/", "workspace"),
];

fn image_build_compute(emu: &Emu) -> Value {
    emu.resource(&emu::workspace("ws-one"))
        .expect("workspace ws-one exists in the emulator")["properties"]["imageBuildCompute"]
        .clone()
}

scenario!(apply_drift_destroy, |tf| {
    let (ws, emu) = setup_init(tf, &config(&emu::workspace("ws-one"), "cluster-a"));
    emu.clear_journal();
    ws.apply();
    assert_eq!(
        calls(&emu, NAMES),
        strs(&["PATCH workspace ws-one", "GET poll", "GET workspace ws-one"]),
        "create: PATCH, one poll, one read"
    );
    assert_eq!(image_build_compute(&emu), "cluster-a");
    let v = ws.resource_values(ADDR);
    assert_eq!(v["id"], emu::workspace("ws-one"));
    assert_eq!(v["compute_name"], "cluster-a");

    assert_no_changes_reading(&ws, &emu, NAMES, &["GET workspace ws-one"]);

    // Drift: changed out of band, the plan shows it and apply repairs it.
    emu.patch(
        &emu::workspace("ws-one"),
        json!({"properties": {"imageBuildCompute": "cluster-b"}}),
    );
    ws.assert_plan_changes(&["\"cluster-b\" -> \"cluster-a\""]);
    emu.clear_journal();
    ws.apply_in_place();
    assert_eq!(
        calls(&emu, NAMES),
        strs(&[
            "GET workspace ws-one",
            "PATCH workspace ws-one",
            "GET poll",
            "GET workspace ws-one"
        ]),
        "update: refresh, PATCH, one poll, one read"
    );
    assert_eq!(image_build_compute(&emu), "cluster-a");
    ws.assert_no_changes();

    // The workspace id spelled in other case is the same workspace: no change.
    ws.write_resources(&config(
        &emu::workspace("ws-one").to_ascii_lowercase(),
        "cluster-a",
    ));
    ws.assert_no_changes();

    // Destroy only stops managing: the setting stays, and no write reaches Azure.
    destroy_reading(&ws, &emu, NAMES, &["GET workspace ws-one"]);
    assert_eq!(image_build_compute(&emu), "cluster-a");
    assert_eq!(ws.resource_values(ADDR), Value::Null);
});

scenario!(terraform_import, |tf| {
    let (ws, emu) = setup(tf);
    emu.patch(
        &emu::workspace("ws-one"),
        json!({"properties": {"imageBuildCompute": "cluster-b"}}),
    );
    ws.write_resources(&config(&emu::workspace("ws-one"), "cluster-b"));
    ws.init();
    import_reading(
        &ws,
        &emu,
        (ADDR, &emu::workspace("ws-one")),
        NAMES,
        &["GET workspace ws-one"],
    );
    assert_eq!(ws.resource_values(ADDR)["compute_name"], "cluster-b");
    ws.assert_no_changes();

    // The workspace deleted out of band: the plan proposes to create the resource again.
    emu.delete(&emu::workspace("ws-one"));
    ws.assert_plan_creates();
});

scenario!(import_blocks, only(V1_15), |tf| {
    let body = config(&emu::workspace("ws-one"), "cluster-a");
    // By id: Azure holds no image build compute yet, so the apply after the import sets it.
    let (ws, emu) = setup_init(
        tf,
        &with_import_block(ADDR, &emu::workspace("ws-one"), &body),
    );
    let out = ws.apply();
    assert!(
        out.stdout.contains("1 imported, 0 added, 1 changed"),
        "{out}"
    );
    assert_eq!(image_build_compute(&emu), "cluster-a");
    ws.assert_no_changes();
    // By resource identity (Terraform 1.12+).
    ws.ok(&["state", "rm", ADDR]);
    ws.write_resources(&format!(
        "import {{\n  to = {ADDR}\n  identity = {{\n    id = \"{}\"\n  }}\n}}\n{body}",
        emu::workspace("ws-one")
    ));
    ws.apply_imports_one();
    ws.assert_no_changes();
});

scenario!(missing_workspace, |tf| {
    let (ws, _emu) = setup_init(tf, &config(&emu::workspace("nope"), "cluster-a"));
    let out = ws.try_apply();
    assert_ne!(out.code, 0, "{out}");
    assert_diagnostic(
        &flat(&out.combined()),
        ADDR,
        "workspace_id",
        &["Workspace not found"],
    );
});
