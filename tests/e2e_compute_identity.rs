//! End-to-end: amlauth_compute_identity under real Terraform (1.0.3 and 1.15) against the
//! emulator: create, in-place updates, replacement, drift, out-of-band delete, import,
//! validation, faults during apply, the exact ARM calls per operation, and that an identity
//! update leaves every other field of the compute as it was.

#[macro_use]
mod common;

use std::collections::BTreeSet;

use common::emu::{self, Emu};
use common::{
    Name, TfWorkspace, assert_diag_at, assert_no_changes_reading, detail, diag_for, import_reading,
    setup_init, status_fault, statuses, strs, validate_error_diagnostics, with_import_block,
};
use serde_json::{Value, json};

const KIND: &str = "amlauth_compute_identity";
const ADDR: &str = "amlauth_compute_identity.this";

fn cluster_a() -> String {
    emu::compute("ws-one", "cluster-a")
}

fn cluster_b() -> String {
    emu::compute("ws-one", "cluster-b")
}

/// A resource block `name`; `ids` empty leaves `user_assigned_identity_ids` out.
fn resource(name: &str, compute: &str, type_: &str, ids: &[String]) -> String {
    let mut body = format!(
        "resource \"amlauth_compute_identity\" \"{name}\" {{\n  compute_id = \"{compute}\"\n  type       = \"{type_}\"\n"
    );
    if !ids.is_empty() {
        let list: Vec<String> = ids.iter().map(|i| format!("\"{i}\"")).collect();
        body.push_str(&format!(
            "  user_assigned_identity_ids = [{}]\n",
            list.join(", ")
        ));
    }
    body.push_str("}\n");
    body
}

fn system_config(compute: &str) -> String {
    resource("this", compute, "SystemAssigned", &[])
}

fn user_config(compute: &str, ids: &[String]) -> String {
    resource("this", compute, "UserAssigned", ids)
}

/// How ARM calls are named: the compute's id `compute` (another one `other-compute`), status
/// polls `status`.
fn names(compute: &str) -> [Name<'_>; 3] {
    [
        Name::Id(compute, "compute"),
        Name::Under("/computes/", "other-compute"),
        Name::Under("/operationstatuses/", "status"),
    ]
}

/// The ARM calls in the journal, named by [`names`].
fn calls(emu: &Emu, compute: &str) -> Vec<String> {
    common::calls(emu, &names(compute))
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

/// Applies, then asserts the emulator's compute holds identity `type_`, the state records it
/// and the next plan is empty.
fn apply_converges(ws: &TfWorkspace, emu: &Emu, compute: &str, type_: &str) {
    ws.apply();
    assert_eq!(
        emu.resource(compute).expect("compute exists")["identity"]["type"],
        type_
    );
    assert_state_matches(ws, emu, compute);
    ws.assert_no_changes();
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
    let a = cluster_a();
    let (ws, emu) = setup_init(tf, &system_config(&a));
    enrich(&emu, &a);
    let before = emu.resource(&a).expect("cluster-a");

    // Create.
    emu.clear_journal();
    ws.apply();
    assert_eq!(calls(&emu, &a), strs(WRITE), "create");
    let first = assert_state_matches(&ws, &emu, &a);
    assert_eq!(
        emu.resource(&a).unwrap()["identity"]["type"],
        "SystemAssigned"
    );
    assert_no_changes_reading(&ws, &emu, &names(&a), &["GET compute"]);
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
    ws.apply_replaces();
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
    let a = cluster_a();
    let (ws, emu) = setup_init(tf, &system_config(&a));
    ws.apply();

    // Someone removes the identity in the portal.
    emu.patch(&a, json!({"identity": null}));
    ws.assert_plan_changes(&[
        "will be updated in-place",
        "\"SystemAssigned\"",
        "0 to add, 1 to change, 0 to destroy",
    ]);
    apply_converges(&ws, &emu, &a, "SystemAssigned");

    // The compute is deleted out of band: the plan proposes to create the resource again,
    // and applying it fails clearly until the compute exists.
    emu.delete(&a);
    ws.assert_plan_creates();
    ws.assert_apply_fails(&["Compute not found", "compute_id"]);
});

// `terraform import` of a compute whose identity another tool set: Terraform forgets the
// resource, imports it from the id alone and then plans nothing.
scenario!(import_command, |tf| {
    let a = cluster_a();
    let (ws, emu) = setup_init(
        tf,
        &user_config(&a, &[emu::uai("uai-one"), emu::uai("uai-two")]),
    );
    ws.apply();
    ws.ok(&["state", "rm", ADDR]);

    import_reading(&ws, &emu, (ADDR, &a), &names(&a), &["GET compute"]);
    assert_state_matches(&ws, &emu, &a);
    ws.assert_no_changes();
});

scenario!(import_block, only(V1_15), |tf| {
    let a = cluster_a();
    // Give the compute an identity out of band (as the studio would).
    let (ws, emu) = setup_init(tf, &system_config(&a));
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
    let a = cluster_a();
    let one = [emu::uai("uai-one")];
    let (ws, emu) = setup_init(
        tf,
        &[
            resource("both", &a, "SystemAssigned,UserAssigned", &one),
            resource("user_without_ids", &a, "UserAssigned", &[]),
            resource("ids_with_system", &a, "SystemAssigned", &one),
            resource(
                "malformed_id",
                &emu::workspace("ws-one"),
                "SystemAssigned",
                &[],
            ),
            resource(
                "malformed_identity",
                &a,
                "UserAssigned",
                &["not-an-arm-id".to_string()],
            ),
        ]
        .join("\n"),
    );
    let diags = validate_error_diagnostics(&ws);
    assert_eq!(diags.len(), 5, "{diags:#?}");
    let at = |name| (KIND, name);

    assert_diag_at(&diags, at("both"), "type", &["never both", "Azure ML rule"]);

    // The attribute is absent: the error points at the block and names it.
    let d = diag_for(&diags, KIND, "user_without_ids");
    assert_eq!(d["summary"], "Missing user-assigned identities", "{d}");
    assert!(detail(d).contains("user_assigned_identity_ids"), "{d}");

    assert_diag_at(
        &diags,
        at("ids_with_system"),
        "user_assigned_identity_ids",
        &["UserAssigned"],
    );
    assert_diag_at(
        &diags,
        at("malformed_id"),
        "compute_id",
        &["computes/{compute}"],
    );
    assert_diag_at(
        &diags,
        at("malformed_identity"),
        "user_assigned_identity_ids",
        &["userAssignedIdentities/{name}"],
    );

    // A compute type without managed identities (an attached VM): refused at apply, on
    // `compute_id`, before anything is written.
    let b = cluster_b();
    emu.patch(&b, json!({"properties": {"computeType": "VirtualMachine"}}));
    let before = emu.resource(&b).unwrap();
    ws.write_resources(&system_config(&b));
    emu.clear_journal();
    ws.assert_apply_fails(&[
        "Compute type has no managed identity",
        "VirtualMachine",
        &format!("compute_id = \"{b}\""),
    ]);
    assert_eq!(calls(&emu, &b), strs(&["GET compute"]), "no write");
    assert_eq!(emu.resource(&b).unwrap(), before);
});

scenario!(faults_during_apply, |tf| {
    let a = cluster_a();
    let (ws, emu) = setup_init(tf, &system_config(&a));

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
    ws.assert_apply_fails(&[
        "Failed to update the compute identity",
        "the cluster update failed",
    ]);
    assert_state_matches(&ws, &emu, &a);
    emu.clear_faults();

    // Without faults the next apply converges to the configuration.
    apply_converges(&ws, &emu, &a, "SystemAssigned");
});

// `type = "None"`: a compute without an identity imports and plans no change; setting it
// removes the identity with a warning about role assignments; ids with it are refused.
scenario!(no_identity, |tf| {
    let a = cluster_a();
    let none = resource("this", &a, "None", &[]);
    let (ws, emu) = setup_init(tf, &none);
    ws.import(ADDR, &a);
    assert_eq!(ws.resource_values(ADDR)["type"], "None");
    ws.assert_no_changes();

    // Give it an identity, then take it away again.
    ws.write_resources(&system_config(&a));
    ws.apply();
    ws.write_resources(&none);
    ws.assert_plan_changes_saying(&[
        "The compute will have no managed identity",
        "role assignments to its principal stop working",
    ]);
    ws.apply();
    let stored = emu.resource(&a).expect("compute");
    let remote_type = stored["identity"]["type"].as_str().unwrap_or("None");
    assert!(remote_type.eq_ignore_ascii_case("None"), "{stored}");
    let v = ws.resource_values(ADDR);
    assert_eq!(v["type"], "None");
    assert!(v["principal_id"].is_null(), "{v}");
    ws.assert_no_changes();

    ws.write_resources(&resource("this", &a, "None", &[emu::uai("uai-one")]));
    let out = ws.run(&["validate", "-no-color"]);
    assert_ne!(out.code, 0, "{out}");
    assert!(out.stderr.contains("removes every identity"), "{out}");
});
