//! End-to-end: amlauth_acr_admin under real Terraform (1.0.3 and 1.15) against the emulator.
//! Each scenario runs once per Terraform version, reusing one working directory for its
//! sequence of steps.

mod common;

use common::emu::{self, Emu};
use common::{Install, Tf, TfWorkspace, flat};
use serde_json::{Value, json};

const ADDR: &str = "amlauth_acr_admin.this";

fn setup(tf: Tf) -> (TfWorkspace, Emu) {
    let mut ws = TfWorkspace::new(tf, Install::Plain);
    let emu = Emu::start(emu::standard_seed(), ws.dir.path());
    ws.use_emulator(&emu);
    (ws, emu)
}

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

/// ARM calls since the journal was last cleared, with paths shortened to what they address.
fn calls(emu: &Emu) -> Vec<String> {
    emu.arm_calls()
        .into_iter()
        .map(|line| {
            let (method, path) = line.split_once(' ').unwrap_or((&line, ""));
            let lower = path.to_ascii_lowercase();
            let what = if lower.contains("/operationresults/") {
                "operationResults".to_string()
            } else if lower.contains("/operationstatuses/") {
                "operationStatuses".to_string()
            } else if let Some((_, name)) = lower.rsplit_once("/registries/") {
                format!("registry {name}")
            } else if let Some((_, name)) = lower.rsplit_once("/workspaces/") {
                format!("workspace {name}")
            } else {
                path.to_string()
            };
            format!("{method} {what}")
        })
        .collect()
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
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
    assert_eq!(
        v["enabled"], stored["properties"]["adminUserEnabled"],
        "{ctx}"
    );
    assert_eq!(
        v["login_server"], stored["properties"]["loginServer"],
        "{ctx}"
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

fn private_strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) if s.len() >= 8 => vec![s.clone()],
        Value::Array(a) => a.iter().flat_map(private_strings).collect(),
        Value::Object(o) => o.values().flat_map(private_strings).collect(),
        _ => Vec::new(),
    }
}

fn apply_in_place(ws: &TfWorkspace) {
    let out = ws.apply();
    assert!(
        out.stdout.contains("updated in-place") && out.stdout.contains("0 added, 1 changed"),
        "expected an in-place update:\n{out}"
    );
}

// ---------------------------------------------------------------------------------------
// create through the workspace, then no changes; ARM calls for create and read

fn create_via_workspace(tf: Tf) {
    let (ws, emu) = setup(tf);
    assert!(admin_enabled(&emu, "acre2eone"));
    ws.write_resources(&by_workspace("ws-one", false));
    ws.init();
    emu.clear_journal();
    ws.apply();
    assert_eq!(
        calls(&emu),
        write_calls(&[
            "GET workspace ws-one",
            "PATCH registry acre2eone",
            "GET operationStatuses",
            "GET registry acre2eone"
        ]),
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

    emu.clear_journal();
    ws.assert_no_changes();
    assert_eq!(
        calls(&emu),
        strs(&["GET registry acre2eone"]),
        "plan: one GET"
    );

    // Another workspace: replacement, not an update.
    ws.write_resources(&by_workspace("ws-two", false));
    let (code, out) = ws.plan_code();
    assert_eq!(code, 2, "{out}");
    assert!(
        out.stdout.contains("must be replaced")
            && out.stdout.contains("forces replacement")
            && out.stdout.contains("1 to add, 0 to change, 1 to destroy"),
        "{out}"
    );

    // Destroy only stops managing: the admin account stays off, and no write reaches Azure.
    emu.clear_journal();
    ws.ok(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    assert_eq!(
        calls(&emu),
        strs(&["GET registry acre2eone"]),
        "destroy: refresh only"
    );
    assert!(!admin_enabled(&emu, "acre2eone"));
    assert_eq!(ws.resource_values(ADDR), Value::Null, "gone from state");
}

#[test]
fn create_via_workspace_tf_1_0_3() {
    create_via_workspace(Tf::V1_0_3);
}

#[test]
fn create_via_workspace_tf_1_15() {
    create_via_workspace(Tf::V1_15);
}

// ---------------------------------------------------------------------------------------
// enabled true -> false -> true in place; a new registry_id replaces

fn updates_in_place(tf: Tf) {
    let (ws, emu) = setup(tf);
    ws.write_resources(&by_registry("acre2eone", true));
    ws.init();
    emu.clear_journal();
    ws.apply();
    assert_eq!(
        calls(&emu),
        write_calls(&[
            "PATCH registry acre2eone",
            "GET operationStatuses",
            "GET registry acre2eone"
        ]),
        "create by registry id: PATCH, one poll, one read"
    );
    assert!(admin_enabled(&emu, "acre2eone"));
    assert_state_matches_emulator(&ws, &emu, "acre2eone");
    ws.assert_no_changes();

    ws.write_resources(&by_registry("acre2eone", false));
    emu.clear_journal();
    apply_in_place(&ws);
    assert_eq!(
        calls(&emu),
        write_calls(&[
            "GET registry acre2eone",
            "PATCH registry acre2eone",
            "GET operationStatuses",
            "GET registry acre2eone"
        ]),
        "update: refresh, PATCH, one poll, one read"
    );
    assert!(!admin_enabled(&emu, "acre2eone"));
    assert_state_matches_emulator(&ws, &emu, "acre2eone");

    ws.write_resources(&by_registry("acre2eone", true));
    apply_in_place(&ws);
    assert!(admin_enabled(&emu, "acre2eone"));
    assert_state_matches_emulator(&ws, &emu, "acre2eone");

    ws.write_resources(&by_registry("acre2etwo", true));
    let (code, out) = ws.plan_code();
    assert_eq!(code, 2, "{out}");
    assert!(
        out.stdout.contains("must be replaced")
            && out.stdout.contains("forces replacement")
            && out.stdout.contains("1 to add, 0 to change, 1 to destroy"),
        "{out}"
    );
}

#[test]
fn updates_in_place_tf_1_0_3() {
    updates_in_place(Tf::V1_0_3);
}

#[test]
fn updates_in_place_tf_1_15() {
    updates_in_place(Tf::V1_15);
}

// ---------------------------------------------------------------------------------------
// out-of-band change and out-of-band delete

fn drift_and_out_of_band_delete(tf: Tf) {
    let (ws, emu) = setup(tf);
    ws.write_resources(&by_workspace("ws-one", false));
    ws.init();
    ws.apply();

    emu.patch(
        &emu::registry("acre2eone"),
        json!({"properties": {"adminUserEnabled": true}}),
    );
    let (code, out) = ws.plan_code();
    assert_eq!(code, 2, "drift must show in the plan:\n{out}");
    assert!(
        out.stdout.contains("enabled") && out.stdout.contains("true -> false"),
        "{out}"
    );
    emu.clear_journal();
    apply_in_place(&ws);
    assert_eq!(
        calls(&emu),
        write_calls(&[
            "GET registry acre2eone",
            "PATCH registry acre2eone",
            "GET operationStatuses",
            "GET registry acre2eone"
        ]),
        "update by workspace_id: the registry kept in state, no workspace read"
    );
    assert!(
        !admin_enabled(&emu, "acre2eone"),
        "apply repaired the drift"
    );
    ws.assert_no_changes();
    assert_state_matches_emulator(&ws, &emu, "acre2eone");

    emu.delete(&emu::registry("acre2eone"));
    let (code, out) = ws.plan_code();
    assert_eq!(code, 2, "{out}");
    assert!(
        out.stdout.contains("will be created") && out.stdout.contains("1 to add, 0 to change"),
        "a registry deleted out of band makes the plan propose a create:\n{out}"
    );
}

#[test]
fn drift_and_out_of_band_delete_tf_1_0_3() {
    drift_and_out_of_band_delete(Tf::V1_0_3);
}

#[test]
fn drift_and_out_of_band_delete_tf_1_15() {
    drift_and_out_of_band_delete(Tf::V1_15);
}

// ---------------------------------------------------------------------------------------
// import by registry id and by workspace id

fn terraform_import(tf: Tf) {
    let (ws, emu) = setup(tf);
    ws.write_resources(&by_registry("acre2eone", true));
    ws.init();
    emu.clear_journal();
    let out = ws.ok(&[
        "import",
        "-input=false",
        "-no-color",
        ADDR,
        &emu::registry("acre2eone"),
    ]);
    assert!(out.stdout.contains("Import successful"), "{out}");
    assert_eq!(
        calls(&emu),
        strs(&["GET registry acre2eone"]),
        "import: one GET"
    );
    assert_state_matches_emulator(&ws, &emu, "acre2eone");
    ws.assert_no_changes();

    // By workspace id: the registry is found through the workspace.
    ws.ok(&["state", "rm", ADDR]);
    ws.write_resources(&by_workspace("ws-one", true));
    emu.clear_journal();
    ws.ok(&[
        "import",
        "-input=false",
        "-no-color",
        ADDR,
        &emu::workspace("ws-one"),
    ]);
    assert_eq!(
        calls(&emu),
        strs(&["GET workspace ws-one", "GET registry acre2eone"]),
        "import by workspace: two GETs"
    );
    assert_state_matches_emulator(&ws, &emu, "acre2eone");
    assert_eq!(
        ws.resource_values(ADDR)["workspace_id"],
        emu::workspace("ws-one")
    );
    ws.assert_no_changes();
}

#[test]
fn terraform_import_tf_1_0_3() {
    terraform_import(Tf::V1_0_3);
}

#[test]
fn terraform_import_tf_1_15() {
    terraform_import(Tf::V1_15);
}

/// `import` blocks exist from Terraform 1.5.
#[test]
fn import_block_tf_1_15() {
    let (ws, emu) = setup(Tf::V1_15);
    ws.write_resources(&format!(
        "import {{\n  to = {ADDR}\n  id = \"{}\"\n}}\n{}",
        emu::registry("acre2eone"),
        by_registry("acre2eone", true)
    ));
    ws.init();
    emu.clear_journal();
    let (code, out) = ws.plan_code();
    assert!(
        out.stdout
            .contains("1 to import, 0 to add, 0 to change, 0 to destroy"),
        "exit {code}:\n{out}"
    );
    assert_eq!(calls(&emu), strs(&["GET registry acre2eone"]));
    let out = ws.apply();
    assert!(
        out.stdout.contains("1 imported, 0 added, 0 changed"),
        "{out}"
    );
    assert_state_matches_emulator(&ws, &emu, "acre2eone");
    ws.assert_no_changes();
}

// ---------------------------------------------------------------------------------------
// invalid configurations

fn diagnostics_for(output: &str, address: &str) -> Vec<String> {
    output
        .split("Error: ")
        .skip(1)
        .filter(|d| d.contains(&format!("with {address},")))
        .map(str::to_string)
        .collect()
}

fn invalid_configurations(tf: Tf) {
    let (ws, emu) = setup(tf);
    ws.write_resources(&format!(
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
    ));
    ws.init();
    emu.clear_journal();
    let out = ws.run(&["validate", "-no-color"]);
    assert_ne!(out.code, 0, "{out}");
    let text = flat(&out.combined());
    let expect = |name: &str, attribute: &str, words: &[&str]| {
        let diags = diagnostics_for(&text, &format!("amlauth_acr_admin.{name}"));
        assert!(
            diags
                .iter()
                .any(|d| d.contains(attribute) && words.iter().all(|w| d.contains(w))),
            "{name}: expected an error at {attribute} mentioning {words:?}:\n{text}"
        );
    };
    expect("both", "workspace_id", &["exactly one of"]);
    expect(
        "malformed",
        "registry_id",
        &["Microsoft.ContainerRegistry/registries"],
    );
    expect(
        "workspace_as_registry",
        "registry_id",
        &["Microsoft.ContainerRegistry/registries"],
    );
    expect("neither", "registry_id", &["exactly one of"]);

    let out = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_ne!(out.code, 0, "{out}");
    assert!(flat(&out.combined()).contains("exactly one of"), "{out}");
    assert!(calls(&emu).is_empty(), "no ARM call: {:?}", calls(&emu));
}

#[test]
fn invalid_configurations_tf_1_0_3() {
    invalid_configurations(Tf::V1_0_3);
}

#[test]
fn invalid_configurations_tf_1_15() {
    invalid_configurations(Tf::V1_15);
}

// ---------------------------------------------------------------------------------------
// faults during apply

fn status_count(emu: &Emu, status: u16) -> usize {
    emu.journal().iter().filter(|e| e.status == status).count()
}

fn faults_during_apply(tf: Tf) {
    let (ws, emu) = setup(tf);
    ws.write_resources(&by_workspace("ws-one", false));
    ws.init();

    // A 429 storm on the PATCH, each answer asking to come back in a second.
    emu.clear_journal();
    emu.fault(
        json!({"method": "PATCH", "path": "*/registries/acre2eone", "times": 3,
                     "action": {"kind": "status", "status": 429, "retryAfter": 1}}),
    );
    ws.apply();
    assert_eq!(status_count(&emu, 429), 3, "{:?}", calls(&emu));
    assert_eq!(
        calls(&emu)
            .iter()
            .filter(|c| c.starts_with("PATCH"))
            .count(),
        4
    );
    assert!(!admin_enabled(&emu, "acre2eone"));
    assert_state_matches_emulator(&ws, &emu, "acre2eone");
    emu.clear_faults();

    // 503s on the status poll and on the read back: retried, the apply converges.
    ws.write_resources(&by_workspace("ws-one", true));
    emu.clear_journal();
    emu.fault(
        json!({"method": "GET", "path": "*/operationStatuses/*", "times": 2,
                     "action": {"kind": "status", "status": 503}}),
    );
    emu.fault(
        json!({"method": "GET", "path": "*/registries/acre2eone", "skip": 1, "times": 1,
                     "action": {"kind": "status", "status": 503}}),
    );
    apply_in_place(&ws);
    // Without a status poll (Azure's synchronous PATCH) only the read-back 503 happens.
    let expected_503 = if emu::spec_shapes() { 3 } else { 1 };
    assert_eq!(status_count(&emu, 503), expected_503, "{:?}", calls(&emu));
    assert!(admin_enabled(&emu, "acre2eone"));
    assert_state_matches_emulator(&ws, &emu, "acre2eone");
    ws.assert_no_changes();
    emu.clear_faults();

    // The operation is accepted but ends Failed.
    ws.write_resources(&by_workspace("ws-one", false));
    emu.fault(
        json!({"method": "PATCH", "path": "*/registries/acre2eone", "times": 1,
                     "action": {"kind": "failAsync", "code": "RegistryOperationFailed",
                                "message": "injected registry failure"}}),
    );
    let out = ws.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert_ne!(out.code, 0, "{out}");
    assert!(
        flat(&out.combined()).contains("injected registry failure"),
        "Azure's message reaches the user:\n{out}"
    );
    emu.clear_faults();
    assert_state_matches_emulator(&ws, &emu, "acre2eone");
    ws.apply();
    assert!(!admin_enabled(&emu, "acre2eone"));
    assert_state_matches_emulator(&ws, &emu, "acre2eone");
}

#[test]
fn faults_during_apply_tf_1_0_3() {
    faults_during_apply(Tf::V1_0_3);
}

#[test]
fn faults_during_apply_tf_1_15() {
    faults_during_apply(Tf::V1_15);
}

// ---------------------------------------------------------------------------------------
// a workspace without a registry

fn workspace_without_registry(tf: Tf) {
    let (ws, emu) = setup(tf);
    ws.write_resources(&by_workspace("ws-two", false));
    ws.init();
    let out = ws.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert_ne!(out.code, 0, "{out}");
    let text = flat(&out.combined());
    assert!(
        text.contains("Workspace has no container registry yet")
            && text.contains("first image")
            && text.contains("registry_id"),
        "the error explains what to do:\n{out}"
    );
    assert!(
        !calls(&emu).iter().any(|c| c.starts_with("PATCH")),
        "{:?}",
        calls(&emu)
    );
    assert_eq!(ws.resource_values(ADDR), Value::Null, "nothing in state");
}

#[test]
fn workspace_without_registry_tf_1_0_3() {
    workspace_without_registry(Tf::V1_0_3);
}

#[test]
fn workspace_without_registry_tf_1_15() {
    workspace_without_registry(Tf::V1_15);
}
