//! End-to-end: amlauth_compute_identity under real Terraform (1.0.3 and 1.15) against the
//! emulator: create, in-place updates, replacement, drift, out-of-band delete, import,
//! validation, faults during apply, the exact ARM calls per operation, and that an identity
//! update leaves every other field of the compute as it was.

#[macro_use]
mod common;

use std::collections::BTreeSet;

use common::emu::{self, Emu};
use common::{
    Name, TfWorkspace, detail, diag_for, flat, setup, snippet, status_fault, statuses, strs,
    validate_diagnostics, with_import_block,
};
use serde_json::{Value, json};

const ADDR: &str = "amlauth_compute_identity.this";

fn cluster_a() -> String {
    emu::compute("ws-one", "cluster-a")
}

fn cluster_b() -> String {
    emu::compute("ws-one", "cluster-b")
}

fn system_config(compute: &str) -> String {
    format!(
        r#"
resource "amlauth_compute_identity" "this" {{
  compute_id = "{compute}"
  type       = "SystemAssigned"
}}
"#
    )
}

fn user_config(compute: &str, ids: &[String]) -> String {
    let list = ids
        .iter()
        .map(|i| format!("\"{i}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"
resource "amlauth_compute_identity" "this" {{
  compute_id                 = "{compute}"
  type                       = "UserAssigned"
  user_assigned_identity_ids = [{list}]
}}
"#
    )
}

/// The ARM calls in the journal, with the compute's id shortened to `compute` (or
/// `other-compute`) and status polls to `status`.
fn calls(emu: &Emu, compute: &str) -> Vec<String> {
    common::calls(
        emu,
        &[
            Name::Id(compute, "compute"),
            Name::Under("/computes/", "other-compute"),
            Name::Under("/operationstatuses/", "status"),
        ],
    )
}

/// What a create or update costs: read, full PUT, one status poll (the emulator's operation
/// takes 300 ms and asks for a 1 s wait), final read.
const WRITE: &[&str] = &["GET compute", "PUT compute", "GET status", "GET compute"];

fn refresh_then_write() -> Vec<String> {
    let mut v = strs(&["GET compute"]);
    v.extend(strs(WRITE));
    v
}

fn lower_keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|m| m.keys().map(|k| k.to_ascii_lowercase()).collect())
        .unwrap_or_default()
}

/// The state records exactly the identity the emulator holds.
fn assert_state_matches(ws: &TfWorkspace, emu: &Emu, compute: &str) -> Value {
    let v = ws.resource_values(ADDR);
    let stored = emu.resource(compute).expect("compute exists");
    let identity = &stored["identity"];
    assert_eq!(v["type"], identity["type"], "state {v}\nemulator {stored}");
    match identity["type"].as_str() {
        Some("SystemAssigned") => {
            assert!(identity["principalId"].is_string(), "{identity}");
            assert_eq!(v["principal_id"], identity["principalId"]);
            assert_eq!(v["tenant_id"], identity["tenantId"]);
            assert!(v["user_assigned_identities"].is_null(), "{v}");
            assert!(v["user_assigned_identity_ids"].is_null(), "{v}");
        }
        Some("UserAssigned") => {
            assert!(v["principal_id"].is_null(), "{v}");
            let remote = &identity["userAssignedIdentities"];
            let state_ids: BTreeSet<String> = v["user_assigned_identity_ids"]
                .as_array()
                .expect("ids in state")
                .iter()
                .map(|s| s.as_str().unwrap().to_ascii_lowercase())
                .collect();
            assert_eq!(
                state_ids,
                lower_keys(remote),
                "state {v}\nemulator {stored}"
            );
            let infos = v["user_assigned_identities"].as_object().expect("map");
            for (id, info) in infos {
                let r = remote
                    .as_object()
                    .unwrap()
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(id))
                    .map(|(_, r)| r)
                    .expect("attached in emulator");
                assert_eq!(info["principal_id"], r["principalId"], "{id}");
                assert_eq!(info["client_id"], r["clientId"], "{id}");
            }
        }
        other => panic!("unexpected identity type {other:?} in {stored}"),
    }
    v
}

/// Fields of a compute that ARM (not the caller) maintains, so they may differ after any PUT.
const ARM_MAINTAINED: &[(&str, &str)] = &[
    ("/identity", "the field under test"),
    (
        "/properties/modifiedOn",
        "stamped by the service on every write",
    ),
    (
        "/properties/properties/allocationStateTransitionTime",
        "stamped by the service whenever the cluster is (re)evaluated, which every PUT does",
    ),
    (
        "/systemData/lastModifiedAt",
        "ARM's audit record of the write",
    ),
    (
        "/systemData/lastModifiedBy",
        "ARM's audit record of the write",
    ),
    (
        "/systemData/lastModifiedByType",
        "ARM's audit record of the write",
    ),
];

fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                flatten(&format!("{prefix}/{k}"), x, out);
            }
        }
        _ => out.push((prefix.to_string(), v.clone())),
    }
}

/// Compares two stored compute bodies leaf by leaf, ignoring [`ARM_MAINTAINED`].
fn assert_same_except_identity(before: &Value, after: &Value) {
    let skip = |p: &str| {
        ARM_MAINTAINED
            .iter()
            .any(|(s, _)| p == *s || p.starts_with(&format!("{s}/")))
    };
    let (mut a, mut b) = (Vec::new(), Vec::new());
    flatten("", before, &mut a);
    flatten("", after, &mut b);
    let a: Vec<_> = a.into_iter().filter(|(p, _)| !skip(p)).collect();
    let b: Vec<_> = b.into_iter().filter(|(p, _)| !skip(p)).collect();
    for (p, v) in &a {
        let other = b.iter().find(|(q, _)| q == p).map(|(_, w)| w);
        assert_eq!(Some(v), other, "field {p} changed");
    }
    for (p, _) in &b {
        assert!(a.iter().any(|(q, _)| q == p), "field {p} appeared");
    }
    assert!(a.len() > 20, "too few fields compared: {a:?}");
}

/// Gives the seeded cluster settings a real one would have, so the comparison covers them.
fn enrich(emu: &Emu, compute: &str) {
    emu.patch(
        compute,
        json!({
            "tags": {"team": "ml", "cost-center": "42"},
            "properties": {
                "description": "training cluster",
                "properties": {
                    "remoteLoginPortPublicAccess": "Disabled",
                    "enableNodePublicIp": false,
                    "scaleSettings": {"minNodeCount": 0, "maxNodeCount": 4, "nodeIdleTimeBeforeScaleDown": "PT5M"}
                }
            }
        }),
    );
}

scenario!(lifecycle, |tf| {
    let (ws, emu) = setup(tf);
    let a = cluster_a();
    enrich(&emu, &a);
    let before = emu.resource(&a).expect("cluster-a");
    ws.write_resources(&system_config(&a));
    ws.init();

    // Create.
    emu.clear_journal();
    ws.apply();
    assert_eq!(calls(&emu, &a), strs(WRITE), "create");
    let first = assert_state_matches(&ws, &emu, &a);
    assert_eq!(
        emu.resource(&a).unwrap()["identity"]["type"],
        "SystemAssigned"
    );
    emu.clear_journal();
    ws.assert_no_changes();
    assert_eq!(calls(&emu, &a), strs(&["GET compute"]), "plan");
    assert_same_except_identity(&before, &emu.resource(&a).unwrap());

    // SystemAssigned -> UserAssigned.
    ws.write_resources(&user_config(&a, &[emu::uai("uai-one")]));
    emu.clear_journal();
    ws.apply();
    assert_eq!(calls(&emu, &a), refresh_then_write(), "update");
    let stored = emu.resource(&a).unwrap();
    assert_eq!(stored["identity"]["type"], "UserAssigned");
    assert_eq!(
        lower_keys(&stored["identity"]["userAssignedIdentities"]),
        BTreeSet::from([emu::uai("uai-one").to_ascii_lowercase()])
    );
    assert_state_matches(&ws, &emu, &a);
    ws.assert_no_changes();

    // Other user-assigned ids.
    ws.write_resources(&user_config(
        &a,
        &[emu::uai("uai-two"), emu::uai("uai-three")],
    ));
    ws.apply();
    assert_eq!(
        lower_keys(&emu.resource(&a).unwrap()["identity"]["userAssignedIdentities"]),
        BTreeSet::from([
            emu::uai("uai-two").to_ascii_lowercase(),
            emu::uai("uai-three").to_ascii_lowercase()
        ])
    );
    assert_state_matches(&ws, &emu, &a);
    ws.assert_no_changes();

    // Back to SystemAssigned.
    ws.write_resources(&system_config(&a));
    ws.apply();
    let last = assert_state_matches(&ws, &emu, &a);
    assert!(last["principal_id"].is_string());
    assert_eq!(first["tenant_id"], last["tenant_id"]);
    ws.assert_no_changes();
    let after = emu.resource(&a).unwrap();
    assert_same_except_identity(&before, &after);

    // A changed compute_id replaces: the old compute is left as it is (no call), the new
    // one gets the identity.
    let b = cluster_b();
    ws.write_resources(&system_config(&b));
    emu.clear_journal();
    let out = ws.apply();
    assert!(
        out.stdout.contains("must be replaced") && out.stdout.contains("forces replacement"),
        "{out}"
    );
    assert!(
        out.stdout.contains("1 added, 0 changed, 1 destroyed"),
        "{out}"
    );
    assert_eq!(
        calls(&emu, &b),
        strs(&[
            "GET other-compute",
            "GET compute",
            "PUT compute",
            "GET status",
            "GET compute"
        ]),
        "replace"
    );
    assert_eq!(
        emu.resource(&a).unwrap(),
        after,
        "destroy left cluster-a alone"
    );
    assert_state_matches(&ws, &emu, &b);
    assert_eq!(ws.resource_values(ADDR)["id"], json!(b));
});

scenario!(drift_and_out_of_band_delete, |tf| {
    let (ws, emu) = setup(tf);
    let a = cluster_a();
    ws.write_resources(&system_config(&a));
    ws.init();
    ws.apply();

    // Someone removes the identity in the portal.
    emu.patch(&a, json!({"identity": null}));
    ws.assert_plan_changes(&[
        "will be updated in-place",
        "\"SystemAssigned\"",
        "0 to add, 1 to change, 0 to destroy",
    ]);
    ws.apply();
    assert_eq!(
        emu.resource(&a).unwrap()["identity"]["type"],
        "SystemAssigned"
    );
    assert_state_matches(&ws, &emu, &a);
    ws.assert_no_changes();

    // The compute is deleted out of band: the plan proposes to create the resource again,
    // and applying it fails clearly until the compute exists.
    emu.delete(&a);
    ws.assert_plan_creates();
    ws.assert_apply_fails(&["Compute not found", "compute_id"]);
});

// `terraform import` of a compute whose identity another tool set: Terraform forgets the
// resource, imports it from the id alone and then plans nothing.
scenario!(import_command, |tf| {
    let (ws, emu) = setup(tf);
    let a = cluster_a();
    ws.write_resources(&user_config(
        &a,
        &[emu::uai("uai-one"), emu::uai("uai-two")],
    ));
    ws.init();
    ws.apply();
    ws.ok(&["state", "rm", ADDR]);

    emu.clear_journal();
    let out = ws.import(ADDR, &a);
    assert!(out.stdout.contains("Import successful"), "{out}");
    assert_eq!(calls(&emu, &a), strs(&["GET compute"]), "import");
    assert_state_matches(&ws, &emu, &a);
    ws.assert_no_changes();
});

scenario!(import_block, only(V1_15), |tf| {
    let (ws, emu) = setup(tf);
    let a = cluster_a();
    // Give the compute an identity out of band (as the studio would).
    ws.write_resources(&system_config(&a));
    ws.init();
    ws.apply();
    ws.ok(&["state", "rm", ADDR]);

    ws.write_resources(&with_import_block(ADDR, &a, &system_config(&a)));
    emu.clear_journal();
    let out = ws.apply();
    assert!(
        out.stdout
            .contains("1 imported, 0 added, 0 changed, 0 destroyed"),
        "{out}"
    );
    assert_eq!(calls(&emu, &a), strs(&["GET compute"]), "import block");
    assert_state_matches(&ws, &emu, &a);
    ws.assert_no_changes();
});

scenario!(invalid_configurations, |tf| {
    let (ws, emu) = setup(tf);
    let a = cluster_a();
    let one = emu::uai("uai-one");
    ws.write_resources(&format!(
        r#"
resource "amlauth_compute_identity" "both" {{
  compute_id = "{a}"
  type       = "SystemAssigned,UserAssigned"
  user_assigned_identity_ids = ["{one}"]
}}

resource "amlauth_compute_identity" "user_without_ids" {{
  compute_id = "{a}"
  type       = "UserAssigned"
}}

resource "amlauth_compute_identity" "ids_with_system" {{
  compute_id = "{a}"
  type       = "SystemAssigned"
  user_assigned_identity_ids = ["{one}"]
}}

resource "amlauth_compute_identity" "malformed_id" {{
  compute_id = "/subscriptions/{sub}/resourceGroups/rg-e2e/providers/Microsoft.MachineLearningServices/workspaces/ws-one"
  type       = "SystemAssigned"
}}

resource "amlauth_compute_identity" "malformed_identity" {{
  compute_id = "{a}"
  type       = "UserAssigned"
  user_assigned_identity_ids = ["not-an-arm-id"]
}}
"#,
        sub = emu::SUB
    ));
    ws.init();
    let diags = validate_diagnostics(&ws);
    assert_eq!(diags.len(), 5, "{diags:#?}");
    for d in &diags {
        assert_eq!(d["severity"], "error", "{d}");
    }

    let d = diag_for(&diags, "amlauth_compute_identity", "both");
    assert!(snippet(d).contains("type"), "{d}");
    assert!(detail(d).contains("never both"), "{d}");
    assert!(detail(d).contains("Azure ML rule"), "{d}");

    // The attribute is absent: the error points at the block and names it.
    let d = diag_for(&diags, "amlauth_compute_identity", "user_without_ids");
    assert_eq!(d["summary"], "Missing user-assigned identities", "{d}");
    assert!(detail(d).contains("user_assigned_identity_ids"), "{d}");

    let d = diag_for(&diags, "amlauth_compute_identity", "ids_with_system");
    assert!(snippet(d).contains("user_assigned_identity_ids"), "{d}");
    assert!(detail(d).contains("UserAssigned"), "{d}");

    let d = diag_for(&diags, "amlauth_compute_identity", "malformed_id");
    assert!(snippet(d).contains("compute_id"), "{d}");
    assert!(detail(d).contains("computes/{compute}"), "{d}");

    let d = diag_for(&diags, "amlauth_compute_identity", "malformed_identity");
    assert!(snippet(d).contains("user_assigned_identity_ids"), "{d}");
    assert!(detail(d).contains("userAssignedIdentities/{name}"), "{d}");

    // A compute type without managed identities (an attached VM): refused at apply, on
    // `compute_id`, before anything is written.
    let b = cluster_b();
    emu.patch(&b, json!({"properties": {"computeType": "VirtualMachine"}}));
    let before = emu.resource(&b).unwrap();
    ws.write_resources(&system_config(&b));
    emu.clear_journal();
    let out = ws.try_apply();
    assert_ne!(out.code, 0, "{out}");
    assert!(
        out.stderr.contains("Compute type has no managed identity")
            && out.stderr.contains("VirtualMachine")
            && out.stderr.contains(&format!("compute_id = \"{b}\"")),
        "{out}"
    );
    assert_eq!(calls(&emu, &b), strs(&["GET compute"]), "no write");
    assert_eq!(emu.resource(&b).unwrap(), before);
});

scenario!(faults_during_apply, |tf| {
    let (ws, emu) = setup(tf);
    let a = cluster_a();
    ws.write_resources(&system_config(&a));
    ws.init();

    // A 429 storm on the PUT, each answer asking for a 1 s wait: the apply converges.
    emu.fault(status_fault("PUT", "*/computes/cluster-a", 3, 429, Some(1)));
    emu.clear_journal();
    ws.apply();
    // Azure answers the identity PUT of an existing compute with 201 `Creating`; the spec, 200.
    let accepted = if emu::spec_shapes() { 200 } else { 201 };
    assert_eq!(statuses(&emu, "PUT", &a), vec![429, 429, 429, accepted]);
    assert_state_matches(&ws, &emu, &a);
    emu.clear_faults();

    // 503s on the reads (before and after the PUT): retried, the apply converges.
    emu.fault(status_fault("GET", "*/computes/cluster-a", 2, 503, None));
    ws.write_resources(&user_config(&a, &[emu::uai("uai-one")]));
    emu.clear_journal();
    ws.apply();
    let gets = statuses(&emu, "GET", &a);
    assert_eq!(&gets[..2], &[503, 503], "{gets:?}");
    assert!(gets[2..].iter().all(|s| *s == 200), "{gets:?}");
    assert_state_matches(&ws, &emu, &a);
    emu.clear_faults();

    // The long-running operation of the PUT fails: the apply fails with Azure's error and the
    // state records what the emulator holds.
    emu.fault(json!({"method": "PUT", "path": "*/computes/cluster-a", "times": 1,
        "action": {"kind": "failAsync", "code": "InternalServerError", "message": "the cluster update failed"}}));
    ws.write_resources(&system_config(&a));
    let out = ws.try_apply();
    assert_ne!(out.code, 0, "{out}");
    assert!(
        out.stderr.contains("Failed to update the compute identity")
            && out.stderr.contains("the cluster update failed"),
        "{out}"
    );
    assert_state_matches(&ws, &emu, &a);
    emu.clear_faults();

    // Without faults the next apply converges to the configuration.
    ws.apply();
    assert_eq!(
        emu.resource(&a).unwrap()["identity"]["type"],
        "SystemAssigned"
    );
    assert_state_matches(&ws, &emu, &a);
    ws.assert_no_changes();
});

// `type = "None"`: a compute without an identity imports and plans no change; setting it
// removes the identity with a warning about role assignments; ids with it are refused.
scenario!(no_identity, |tf| {
    let (ws, emu) = setup(tf);
    let a = cluster_a();
    let none = format!(
        "resource \"amlauth_compute_identity\" \"this\" {{\n  compute_id = \"{a}\"\n  type       = \"None\"\n}}\n"
    );
    ws.write_resources(&none);
    ws.init();
    ws.import(ADDR, &a);
    assert_eq!(ws.resource_values(ADDR)["type"], "None");
    ws.assert_no_changes();

    // Give it an identity, then take it away again.
    ws.write_resources(&system_config(&a));
    ws.apply();
    ws.write_resources(&none);
    let (code, out) = ws.plan_code();
    assert_eq!(code, 2, "{out}");
    let text = flat(&out.combined());
    assert!(
        text.contains("The compute will have no managed identity")
            && text.contains("role assignments to its principal stop working"),
        "{out}"
    );
    ws.apply();
    let stored = emu.resource(&a).expect("compute");
    let remote_type = stored["identity"]["type"].as_str().unwrap_or("None");
    assert!(remote_type.eq_ignore_ascii_case("None"), "{stored}");
    let v = ws.resource_values(ADDR);
    assert_eq!(v["type"], "None");
    assert!(v["principal_id"].is_null(), "{v}");
    ws.assert_no_changes();

    ws.write_resources(&format!(
        "resource \"amlauth_compute_identity\" \"this\" {{\n  compute_id = \"{a}\"\n  type = \"None\"\n  user_assigned_identity_ids = [\"{}\"]\n}}\n",
        emu::uai("uai-one")
    ));
    let out = ws.run(&["validate", "-no-color"]);
    assert_ne!(out.code, 0, "{out}");
    assert!(out.stderr.contains("removes every identity"), "{out}");
});
