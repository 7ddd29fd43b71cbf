//! End-to-end: Ctrl-C (SIGINT to Terraform's process group) while writes are in flight leaves
//! a state that matches Azure, attribute by attribute, on Terraform 1.0.3 and 1.15.

#[macro_use]
mod common;

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::emu::{self, Emu};
use common::{Fields, TfWorkspace, assert_fields, setup};
use serde_json::{Value, json};

const WS_ADDR: &str = "amlauth_workspace_identity.this";
const COMPUTE_ADDR: &str = "amlauth_compute_identity.this";

fn config(mode: &str, compute_type: &str) -> String {
    let mut compute = format!(
        "resource \"amlauth_compute_identity\" \"this\" {{\n  compute_id = \"{}\"\n  type = \"{compute_type}\"\n",
        emu::compute("ws-one", "cluster-a")
    );
    if compute_type == "UserAssigned" {
        compute.push_str(&format!(
            "  user_assigned_identity_ids = [\"{}\"]\n",
            emu::uai("uai-two")
        ));
    }
    compute.push_str("}\n");
    format!(
        "resource \"amlauth_workspace_identity\" \"this\" {{\n  workspace_id = \"{}\"\n  type = \"SystemAssigned,UserAssigned\"\n  user_assigned_identity_ids = [\"{}\"]\n  system_datastores_auth_mode = \"{mode}\"\n}}\n{compute}",
        emu::workspace("ws-one"),
        emu::uai("uai-one"),
    )
}

/// Runs `terraform apply` in its own process group, holds the long-running operations with a
/// delay fault, and sends SIGINT to the group once both writes reached the emulator. Returns
/// Terraform's output, asserting it failed.
fn interrupted_apply(ws: &TfWorkspace, emu: &Emu) -> String {
    emu.clear_journal();
    emu.fault(
        json!({"method": "GET", "path": "*/operation*", "action": {"kind": "delay", "ms": 30000}}),
    );
    let mut cmd = Command::new(ws.tf.binary());
    cmd.args(["apply", "-auto-approve", "-input=false", "-no-color"])
        .current_dir(ws.work_dir())
        .env_remove("TF_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    for (k, v) in &ws.env {
        if v.is_empty() {
            cmd.env_remove(k);
        } else {
            cmd.env(k, v);
        }
    }
    let child = cmd.spawn().expect("terraform starts");
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let writes = emu
            .arm_calls()
            .iter()
            .filter(|c| c.starts_with("PATCH") || c.starts_with("PUT"))
            .count();
        if writes >= 2 {
            break;
        }
        assert!(Instant::now() < deadline, "the writes never reached Azure");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Let both providers' polls start waiting on the held operations.
    std::thread::sleep(Duration::from_millis(700));
    let status = Command::new("kill")
        .args(["-INT", "--", &format!("-{pid}")])
        .status()
        .expect("kill");
    assert!(status.success());
    let out = child.wait_with_output().expect("terraform exits");
    emu.clear_faults();
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    text
}

/// Attached user-assigned identity ids in an ARM body, lower-cased.
fn remote_ids(body: &Value) -> Vec<String> {
    body["identity"]["userAssignedIdentities"]
        .as_object()
        .map(|m| m.keys().map(|k| k.to_ascii_lowercase()).collect())
        .unwrap_or_default()
}

/// `user_assigned_identity_ids` of a state, lower-cased.
fn state_ids(values: &Value) -> Vec<String> {
    values["user_assigned_identity_ids"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_ascii_lowercase)
                .collect()
        })
        .unwrap_or_default()
}

/// Identity fields both resources record as the emulator holds them.
const FIELDS: Fields = &[
    ("type", "/identity/type"),
    ("principal_id", "/identity/principalId"),
];

/// The state of both resources says what the emulator holds.
fn assert_state_matches(ws: &TfWorkspace, emu: &Emu) {
    let w = ws.resource_values(WS_ADDR);
    let stored = emu.resource(&emu::workspace("ws-one")).expect("workspace");
    let ctx = format!("state {w}\nemulator {stored}");
    assert_fields(&w, &stored, FIELDS);
    assert_fields(
        &w,
        &stored,
        &[(
            "system_datastores_auth_mode",
            "/properties/systemDatastoresAuthMode",
        )],
    );
    assert_eq!(state_ids(&w), remote_ids(&stored), "{ctx}");

    let c = ws.resource_values(COMPUTE_ADDR);
    let stored = emu
        .resource(&emu::compute("ws-one", "cluster-a"))
        .expect("compute");
    let ctx = format!("state {c}\nemulator {stored}");
    assert_fields(&c, &stored, FIELDS);
    assert_eq!(state_ids(&c), remote_ids(&stored), "{ctx}");
}

scenario!(interrupted_apply, |tf| {
    let (ws, emu) = setup(tf);
    ws.write_resources(&config("AccessKey", "SystemAssigned"));
    ws.init();

    // Creates interrupted after Azure accepted the writes: both are in state (tainted).
    let text = interrupted_apply(&ws, &emu);
    assert!(
        text.contains("Operation interrupted"),
        "the provider says what happened:\n{text}"
    );
    assert_state_matches(&ws, &emu);

    // Updates interrupted the same way: the state has the new values Azure holds.
    ws.ok(&["untaint", WS_ADDR]);
    ws.ok(&["untaint", COMPUTE_ADDR]);
    ws.write_resources(&config("Identity", "UserAssigned"));
    let text = interrupted_apply(&ws, &emu);
    let w = ws.resource_values(WS_ADDR);
    assert_eq!(w["system_datastores_auth_mode"], "Identity", "{w}\n{text}");
    assert_state_matches(&ws, &emu);

    // Once Azure finishes, an apply converges.
    ws.apply();
    assert_state_matches(&ws, &emu);
    ws.assert_no_changes();
});
