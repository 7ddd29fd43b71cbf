//! End-to-end: the amlauth_workspace data source under real Terraform (1.0.3 and 1.15)
//! against the emulator: what it reads matches what the emulator holds.

#[macro_use]
mod common;

use common::emu;
use common::{TfWorkspace, assert_fields, setup_with};
use serde_json::{Value, json};

fn linked(kind: &str, name: &str) -> String {
    format!("{}/providers/{kind}/{name}", emu::rg())
}

/// The standard fixture with ws-one holding both identity kinds and linked resources.
fn seed() -> Value {
    let mut seed = emu::standard_seed();
    let ws = &mut seed["subscriptions"][0]["resourceGroups"][0]["workspaces"][0];
    ws["identity"] = json!({"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": ["uai-one", "uai-two"]});
    ws["primaryUserAssignedIdentity"] = json!("uai-two");
    ws["systemDatastoresAuthMode"] = json!("Identity");
    ws["storageAccount"] = json!(linked("Microsoft.Storage/storageAccounts", "ste2e"));
    ws["keyVault"] = json!(linked("Microsoft.KeyVault/vaults", "kv-e2e"));
    ws["applicationInsights"] = json!(linked("Microsoft.Insights/components", "ai-e2e"));
    seed
}

fn data_values(ws: &TfWorkspace, name: &str) -> Value {
    ws.resource_values(&format!("data.amlauth_workspace.{name}"))
}

fn same_id(a: &Value, b: &Value) -> bool {
    match (a.as_str(), b.as_str()) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    }
}

scenario!(reads_match_emulator, |tf| {
    let (ws, emu) = setup_with(tf, seed());
    ws.write_resources(&format!(
        r#"
data "amlauth_workspace" "one" {{
  id = "{one}"
}}

data "amlauth_workspace" "two" {{
  id = "{two}"
}}
"#,
        one = emu::workspace("ws-one"),
        two = emu::workspace("ws-two"),
    ));
    ws.init();
    emu.clear_journal();
    let (code, out) = ws.plan_code();
    assert_eq!(code, 0, "data sources alone change nothing:\n{out}");
    let mut reads: Vec<String> = emu.arm_calls();
    reads.sort();
    assert_eq!(
        reads,
        vec![
            format!("GET {}", emu::workspace("ws-one")),
            format!("GET {}", emu::workspace("ws-two")),
        ],
        "one GET per data source read"
    );
    ws.apply();

    let v = data_values(&ws, "one");
    let stored = emu.resource(&emu::workspace("ws-one")).expect("ws-one");
    let ctx = format!("data {v}\nemulator {stored}");
    let props = &stored["properties"];
    assert_eq!(v["id"], emu::workspace("ws-one"), "{ctx}");
    assert_eq!(v["identity_type"], "SystemAssigned,UserAssigned", "{ctx}");
    assert!(v["principal_id"].is_string(), "{ctx}");
    assert_fields(
        &v,
        &stored,
        &[
            ("identity_type", "/identity/type"),
            ("principal_id", "/identity/principalId"),
            ("tenant_id", "/identity/tenantId"),
        ],
    );
    assert_eq!(v["system_datastores_auth_mode"], "Identity", "{ctx}");
    assert!(
        same_id(
            &v["primary_user_assigned_identity_id"],
            &json!(emu::uai("uai-two"))
        ),
        "{ctx}"
    );
    for (attr, prop) in [
        ("storage_account_id", "storageAccount"),
        ("key_vault_id", "keyVault"),
        ("container_registry_id", "containerRegistry"),
        ("application_insights_id", "applicationInsights"),
    ] {
        assert!(props[prop].is_string(), "{prop} seeded: {ctx}");
        assert!(same_id(&v[attr], &props[prop]), "{attr}: {ctx}");
    }
    assert!(
        same_id(
            &v["container_registry_id"],
            &json!(emu::registry("acre2eone"))
        ),
        "{ctx}"
    );
    let map = v["user_assigned_identities"].as_object().expect("map");
    assert_eq!(map.len(), 2, "{ctx}");
    for name in ["uai-one", "uai-two"] {
        let uai = emu.resource(&emu::uai(name)).expect("identity");
        let entry = map
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&emu::uai(name)))
            .map(|(_, e)| e)
            .unwrap_or_else(|| panic!("{name}: {ctx}"));
        assert_eq!(entry["principal_id"], uai["properties"]["principalId"]);
        assert_eq!(entry["client_id"], uai["properties"]["clientId"]);
    }

    // A workspace with only a system-assigned identity and no registry yet.
    let v = data_values(&ws, "two");
    let stored = emu.resource(&emu::workspace("ws-two")).expect("ws-two");
    assert_eq!(v["identity_type"], "SystemAssigned", "{v}");
    assert_eq!(v["principal_id"], stored["identity"]["principalId"]);
    assert_eq!(v["primary_user_assigned_identity_id"], Value::Null, "{v}");
    assert_eq!(v["container_registry_id"], Value::Null, "{v}");
    assert!(
        v["user_assigned_identities"]
            .as_object()
            .is_none_or(|m| m.is_empty()),
        "{v}"
    );

    // An out-of-band change shows at the next read.
    emu.patch(
        &emu::workspace("ws-one"),
        json!({"properties": {"systemDatastoresAuthMode": "AccessKey"}}),
    );
    ws.apply();
    assert_eq!(
        data_values(&ws, "one")["system_datastores_auth_mode"],
        "AccessKey"
    );
});

scenario!(missing_and_malformed, |tf| {
    let (ws, emu) = setup_with(tf, seed());
    ws.write_resources(&format!(
        "data \"amlauth_workspace\" \"gone\" {{\n  id = \"{}\"\n}}\n",
        emu::workspace("ws-missing")
    ));
    ws.init();
    ws.assert_plan_fails(&["Workspace not found", "ws-missing"]);

    ws.write_resources(&format!(
        "data \"amlauth_workspace\" \"bad\" {{\n  id = \"{}\"\n}}\n",
        emu::registry("acre2eone")
    ));
    emu.clear_journal();
    let text = ws.validate_errors();
    assert!(
        text.contains("with data.amlauth_workspace.bad,")
            && text.contains("id =")
            && text.contains("Microsoft.MachineLearningServices/workspaces"),
        "the error names the attribute and what was expected:\n{text}"
    );
    assert!(emu.arm_calls().is_empty());
});
