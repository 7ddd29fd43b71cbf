//! End-to-end: amlauth_workspace_image_build under real Terraform (1.0.3 and 1.15) against the
//! emulator: apply, no-change plan, drift, import, destroy leaving the setting.

mod common;

use common::emu::{self, Emu};
use common::{Install, Tf, TfWorkspace};
use serde_json::json;

const ADDR: &str = "amlauth_workspace_image_build.this";

fn setup(tf: Tf) -> (TfWorkspace, Emu) {
    let mut ws = TfWorkspace::new(tf, Install::Plain);
    let emu = Emu::start(emu::standard_seed(), ws.dir.path());
    ws.use_emulator(&emu);
    (ws, emu)
}

fn config(workspace_id: &str, compute: &str) -> String {
    format!(
        "resource \"amlauth_workspace_image_build\" \"this\" {{\n  workspace_id = \"{workspace_id}\"\n  compute_name = \"{compute}\"\n}}\n"
    )
}

/// ARM calls since the journal was last cleared: method and the workspace or poll addressed.
fn calls(emu: &Emu) -> Vec<String> {
    emu.arm_calls()
        .into_iter()
        .map(|line| {
            let (method, path) = line.split_once(' ').unwrap_or((&line, ""));
            let lower = path.to_ascii_lowercase();
            let what =
                if lower.contains("/operationresults/") || lower.contains("/operationstatuses/") {
                    "poll".to_string()
                } else if let Some((_, name)) = lower.rsplit_once("/workspaces/") {
                    format!("workspace {name}")
                } else {
                    path.to_string()
                };
            format!("{method} {what}")
        })
        .collect()
}

fn image_build_compute(emu: &Emu, ws: &str) -> serde_json::Value {
    emu.resource(&emu::workspace(ws))
        .unwrap_or_else(|| panic!("workspace {ws} exists in the emulator"))["properties"]["imageBuildCompute"]
        .clone()
}

fn lifecycle(tf: Tf) {
    let (ws, emu) = setup(tf);
    ws.write_resources(&config(&emu::workspace("ws-one"), "cluster-a"));
    ws.init();
    emu.clear_journal();
    ws.apply();
    assert_eq!(
        calls(&emu),
        ["PATCH workspace ws-one", "GET poll", "GET workspace ws-one"],
        "create: PATCH, one poll, one read"
    );
    assert_eq!(image_build_compute(&emu, "ws-one"), "cluster-a");
    let v = ws.resource_values(ADDR);
    assert_eq!(v["id"], emu::workspace("ws-one"));
    assert_eq!(v["compute_name"], "cluster-a");

    emu.clear_journal();
    ws.assert_no_changes();
    assert_eq!(calls(&emu), ["GET workspace ws-one"], "plan: one GET");

    // Drift: changed out of band, the plan shows it and apply repairs it.
    emu.patch(
        &emu::workspace("ws-one"),
        json!({"properties": {"imageBuildCompute": "cluster-b"}}),
    );
    let (code, out) = ws.plan_code();
    assert_eq!(code, 2, "drift must show in the plan:\n{out}");
    assert!(
        out.stdout.contains("\"cluster-b\" -> \"cluster-a\""),
        "{out}"
    );
    emu.clear_journal();
    ws.apply();
    assert_eq!(
        calls(&emu),
        [
            "GET workspace ws-one",
            "PATCH workspace ws-one",
            "GET poll",
            "GET workspace ws-one"
        ],
        "update: refresh, PATCH, one poll, one read"
    );
    assert_eq!(image_build_compute(&emu, "ws-one"), "cluster-a");
    ws.assert_no_changes();

    // An id spelled in other case is the same workspace: no change.
    ws.write_resources(&config(
        &emu::workspace("ws-one").to_ascii_lowercase(),
        "cluster-a",
    ));
    ws.assert_no_changes();

    // Destroy only stops managing: the setting stays, and no write reaches Azure.
    emu.clear_journal();
    ws.ok(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    assert_eq!(
        calls(&emu),
        ["GET workspace ws-one"],
        "destroy: refresh only"
    );
    assert_eq!(image_build_compute(&emu, "ws-one"), "cluster-a");
    assert_eq!(ws.resource_values(ADDR), serde_json::Value::Null);
}

#[test]
fn lifecycle_tf_1_0_3() {
    lifecycle(Tf::V1_0_3);
}

#[test]
fn lifecycle_tf_1_15() {
    lifecycle(Tf::V1_15);
}

fn terraform_import(tf: Tf) {
    let (ws, emu) = setup(tf);
    emu.patch(
        &emu::workspace("ws-one"),
        json!({"properties": {"imageBuildCompute": "cluster-b"}}),
    );
    ws.write_resources(&config(&emu::workspace("ws-one"), "cluster-b"));
    ws.init();
    emu.clear_journal();
    let out = ws.ok(&[
        "import",
        "-input=false",
        "-no-color",
        ADDR,
        &emu::workspace("ws-one"),
    ]);
    assert!(out.stdout.contains("Import successful"), "{out}");
    assert_eq!(calls(&emu), ["GET workspace ws-one"], "import: one GET");
    assert_eq!(ws.resource_values(ADDR)["compute_name"], "cluster-b");
    ws.assert_no_changes();

    // Deleted out of band: the plan proposes to set it again.
    emu.delete(&emu::workspace("ws-one"));
    let (code, out) = ws.plan_code();
    assert_eq!(code, 2, "{out}");
    assert!(out.stdout.contains("will be created"), "{out}");
}

#[test]
fn terraform_import_tf_1_0_3() {
    terraform_import(Tf::V1_0_3);
}

#[test]
fn terraform_import_tf_1_15() {
    terraform_import(Tf::V1_15);
}

/// `import` blocks by id, and by resource identity (Terraform ≥1.12).
#[test]
fn import_blocks_tf_1_15() {
    let (ws, emu) = setup(Tf::V1_15);
    for (import, expected) in [
        (
            format!("id = \"{}\"", emu::workspace("ws-one")),
            // Azure holds no image build compute yet: the apply after the import sets it.
            "1 imported, 0 added, 1 changed",
        ),
        (
            format!(
                "identity = {{\n    id = \"{}\"\n  }}",
                emu::workspace("ws-one")
            ),
            "1 imported, 0 added, 0 changed",
        ),
    ] {
        ws.write_resources(&format!(
            "import {{\n  to = {ADDR}\n  {import}\n}}\n{}",
            config(&emu::workspace("ws-one"), "cluster-a")
        ));
        ws.init();
        let out = ws.apply();
        assert!(out.stdout.contains(expected), "{out}");
        assert_eq!(image_build_compute(&emu, "ws-one"), "cluster-a");
        ws.assert_no_changes();
        ws.ok(&["state", "rm", ADDR]);
    }
}

#[test]
fn missing_workspace_is_a_clear_error_on_workspace_id() {
    let (ws, _emu) = setup(Tf::V1_15);
    let missing = emu::workspace("nope");
    ws.write_resources(&config(&missing, "cluster-a"));
    ws.init();
    let out = ws.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert_ne!(out.code, 0, "{out}");
    let text = common::flat(&out.combined());
    assert!(
        text.contains("Workspace not found") && text.contains("workspace_id"),
        "{out}"
    );
}
