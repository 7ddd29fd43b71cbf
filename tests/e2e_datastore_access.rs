//! End-to-end: amlauth_datastore_access under real Terraform (1.0.3 and 1.15) against the
//! emulator: mode switches with the stored credentials checked, replacement, drift,
//! out-of-band delete, import, validation, faults, exact ARM calls, and that secrets never
//! show (sensitive on 1.0.3, write-only on 1.15, where they never reach the state file).

#[macro_use]
mod common;

use common::emu::{self, Emu};
use common::{
    Name, Tf, TfWorkspace, assert_diag_at, assert_fields, assert_no_changes_reading, assert_says,
    assert_secret_hidden, detail, diag_for, import_reading, setup_init, snippet, status_fault,
    statuses, strs, validate_error_diagnostics,
};
use serde_json::{Value, json};

const KIND: &str = "amlauth_datastore_access";
const ADDR: &str = "amlauth_datastore_access.this";

fn blob() -> String {
    emu::datastore("ws-one", "blob_data")
}
fn lake() -> String {
    emu::datastore("ws-one", "lake_data")
}
fn files() -> String {
    emu::datastore("ws-one", "files_data")
}

fn resource(name: &str, datastore: &str, body: &str) -> String {
    format!(
        "resource \"amlauth_datastore_access\" \"{name}\" {{\n  datastore_id = \"{datastore}\"\n{body}\n}}\n"
    )
}

/// The `this` resource with `mode_lines`, and `service_data_access_identity` when given.
fn mode_config(datastore: &str, mode_lines: &str, sdai: Option<&str>) -> String {
    let extra = sdai
        .map(|s| format!("  service_data_access_identity = \"{s}\""))
        .unwrap_or_default();
    resource("this", datastore, &format!("{mode_lines}\n{extra}"))
}

fn identity_config(datastore: &str, sdai: Option<&str>) -> String {
    mode_config(datastore, "  mode = \"identity\"", sdai)
}

fn account_key_config(datastore: &str, key: &str, sdai: Option<&str>) -> String {
    mode_config(
        datastore,
        &format!("  mode        = \"account_key\"\n  account_key = \"{key}\""),
        sdai,
    )
}

/// How ARM calls are named: the datastore's id `datastore` (another one: `other-datastore`).
fn names(datastore: &str) -> [Name<'_>; 2] {
    [
        Name::Id(datastore, "datastore"),
        Name::Under("/datastores/", "other-datastore"),
    ]
}

/// `this` on the lake datastore in identity mode, and `keyed` on the blob datastore with
/// `key_lines` (its mode and secret).
fn lake_and_keyed_blob(key_lines: &str) -> String {
    format!(
        "{}\n{}",
        identity_config(&lake(), None),
        resource("keyed", &blob(), key_lines)
    )
}

/// ARM calls named by [`names`].
fn calls(emu: &Emu, datastore: &str) -> Vec<String> {
    common::calls(emu, &names(datastore))
}

/// The emulator's record of a datastore: its credentials type, its
/// `serviceDataAccessAuthIdentity` and the secret it keeps privately (if any).
fn stored(emu: &Emu, id: &str) -> (String, String, Value) {
    let r = emu.stored(id).expect("datastore exists");
    let props = &r["body"]["properties"];
    (
        props["credentials"]["credentialsType"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        props["serviceDataAccessAuthIdentity"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        r["private"].clone(),
    )
}

/// The state's mode and identity setting are what the emulator holds; so are the computed
/// datastore fields.
fn assert_state_matches(ws: &TfWorkspace, emu: &Emu, id: &str) -> Value {
    let v = ws.resource_values(ADDR);
    let r = emu.resource(id).expect("datastore exists");
    let props = &r["properties"];
    let mode = match props["credentials"]["credentialsType"].as_str() {
        Some("None") => "identity",
        Some("AccountKey") => "account_key",
        Some("Sas") => "sas",
        Some("ServicePrincipal") => "service_principal",
        other => panic!("unexpected credentials type {other:?}"),
    };
    assert_eq!(v["mode"], mode, "state {v}\nemulator {r}");
    assert_fields(
        &v,
        &r,
        &[
            (
                "service_data_access_identity",
                "/properties/serviceDataAccessAuthIdentity",
            ),
            ("datastore_type", "/properties/datastoreType"),
            ("account_name", "/properties/accountName"),
        ],
    );
    v
}

/// Plans a change (its output holds every one of `words`, never `secret`), then applies it
/// (the output again without `secret`).
fn plan_and_apply_hiding(ws: &TfWorkspace, secret: &str, words: &[&str]) {
    let out = ws.assert_plan_changes(words);
    assert_secret_hidden(&out, secret);
    let out = ws.apply();
    assert_secret_hidden(&out, secret);
}

scenario!(lifecycle, |tf| {
    let b = blob();
    const K1: &str = "a2V5LW9uZS1mb3ItdGhlLWUyZS10ZXN0";
    const K2: &str = "a2V5LXR3by1mb3ItdGhlLWUyZS10ZXN0";
    let (ws, emu) = setup_init(tf, &account_key_config(&b, K1, None));

    // Create with the sensitive account key: shown as sensitive, never in clear.
    emu.clear_journal();
    let out = ws.apply();
    assert!(out.stdout.contains("(sensitive value)"), "{out}");
    assert_secret_hidden(&out, K1);
    assert_eq!(
        calls(&emu, &b),
        strs(&["GET datastore", "PUT datastore"]),
        "create"
    );
    let (ctype, sdai, private) = stored(&emu, &b);
    assert_eq!((ctype.as_str(), sdai.as_str()), ("AccountKey", "None"));
    assert_eq!(private["key"], K1, "{private}");
    assert_state_matches(&ws, &emu, &b);
    assert_no_changes_reading(&ws, &emu, &names(&b), &["GET datastore"]);

    // account_key -> identity, with the workspace identity for service data access.
    ws.write_resources(&identity_config(
        &b,
        Some("WorkspaceSystemAssignedIdentity"),
    ));
    let (code, out) = ws.plan_code();
    assert_eq!(code, 2, "{out}");
    assert!(
        out.stdout.contains("\"account_key\" -> \"identity\""),
        "{out}"
    );
    assert_secret_hidden(&out, K1);
    emu.clear_journal();
    let out = ws.apply();
    assert_secret_hidden(&out, K1);
    assert_eq!(
        calls(&emu, &b),
        strs(&["GET datastore", "GET datastore", "PUT datastore"]),
        "update"
    );
    let (ctype, sdai, private) = stored(&emu, &b);
    assert_eq!(
        (ctype.as_str(), sdai.as_str()),
        ("None", "WorkspaceSystemAssignedIdentity")
    );
    assert!(
        private.is_null(),
        "no secret kept for identity access: {private}"
    );
    let v = assert_state_matches(&ws, &emu, &b);
    assert!(v["account_key"].is_null(), "{v}");
    ws.assert_no_changes();

    // identity -> account_key (a new key), identity setting back to its default.
    ws.write_resources(&account_key_config(&b, K2, None));
    plan_and_apply_hiding(&ws, K2, &["(sensitive value)"]);
    let (ctype, sdai, private) = stored(&emu, &b);
    assert_eq!((ctype.as_str(), sdai.as_str()), ("AccountKey", "None"));
    assert_eq!(private["key"], K2, "{private}");
    assert_state_matches(&ws, &emu, &b);
    ws.assert_no_changes();

    // Only the service data access identity changes; the key stays.
    ws.write_resources(&account_key_config(
        &b,
        K2,
        Some("WorkspaceSystemAssignedIdentity"),
    ));
    ws.apply();
    let (ctype, sdai, private) = stored(&emu, &b);
    assert_eq!(
        (ctype.as_str(), sdai.as_str()),
        ("AccountKey", "WorkspaceSystemAssignedIdentity")
    );
    assert_eq!(private["key"], K2, "{private}");
    assert_state_matches(&ws, &emu, &b);
    ws.assert_no_changes();
    let blob_after = emu.stored(&b).unwrap();

    // A changed datastore_id replaces; the old datastore keeps its credentials.
    let l = lake();
    ws.write_resources(&identity_config(
        &l,
        Some("WorkspaceSystemAssignedIdentity"),
    ));
    emu.clear_journal();
    ws.apply_replaces();
    assert_eq!(
        calls(&emu, &l),
        strs(&["GET other-datastore", "GET datastore", "PUT datastore"]),
        "replace"
    );
    assert_eq!(
        emu.stored(&b).unwrap(),
        blob_after,
        "destroy left blob_data alone"
    );
    let (ctype, sdai, _) = stored(&emu, &l);
    assert_eq!(
        (ctype.as_str(), sdai.as_str()),
        ("None", "WorkspaceSystemAssignedIdentity")
    );
    assert_state_matches(&ws, &emu, &l);
});

scenario!(drift_and_out_of_band_delete, |tf| {
    let b = blob();
    let (ws, emu) = setup_init(
        tf,
        &identity_config(&b, Some("WorkspaceSystemAssignedIdentity")),
    );
    ws.apply();

    // Someone stores an account key again and turns the service identity off.
    emu.patch(
        &b,
        json!({"properties": {
            "credentials": {"credentialsType": "AccountKey", "secrets": {"secretsType": "AccountKey"}},
            "serviceDataAccessAuthIdentity": "None"
        }}),
    );
    let (code, out) = ws.plan_code();
    assert_eq!(code, 2, "{out}");
    assert!(
        out.stdout.contains("\"account_key\" -> \"identity\"")
            && out
                .stdout
                .contains("\"None\" -> \"WorkspaceSystemAssignedIdentity\"")
            && out.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{out}"
    );
    ws.apply();
    let (ctype, sdai, _) = stored(&emu, &b);
    assert_eq!(
        (ctype.as_str(), sdai.as_str()),
        ("None", "WorkspaceSystemAssignedIdentity")
    );
    assert_state_matches(&ws, &emu, &b);
    ws.assert_no_changes();

    // Deleted out of band: the plan proposes to create it; the apply says what is missing.
    emu.delete(&b);
    ws.assert_plan_creates();
    ws.assert_apply_fails(&["Datastore not found", "datastore_id"]);
});

// A service principal without `authority_url` / `resource_url`: Azure answers with its
// defaults, which must not show as a diff against the unset attributes.
scenario!(service_principal_defaults_from_azure, |tf| {
    let b = blob();
    const SECRET: &str = "sp-secret-value-for-e2e";
    let (ws, emu) = setup_init(
        tf,
        &resource(
            "this",
            &b,
            &format!(
                "  mode          = \"service_principal\"\n  client_secret = \"{SECRET}\"\n  service_principal {{\n    tenant_id = \"{}\"\n    client_id = \"{}\"\n  }}",
                emu::TENANT,
                emu::CLIENT_ID
            ),
        ),
    );
    let out = ws.apply();
    assert_secret_hidden(&out, SECRET);
    let (ctype, _, private) = stored(&emu, &b);
    assert_eq!(ctype, "ServicePrincipal");
    assert_eq!(private["clientSecret"], SECRET);
    let creds = &emu.resource(&b).unwrap()["properties"]["credentials"];
    assert_eq!(creds["tenantId"], emu::TENANT);
    assert_eq!(creds["clientId"], emu::CLIENT_ID);

    // What Azure fills in when they are left out.
    emu.patch(
        &b,
        json!({"properties": {"credentials": {
            "authorityUrl": "https://login.microsoftonline.com",
            "resourceUrl": "https://storage.azure.com/"
        }}}),
    );
    ws.assert_no_changes();
    let v = assert_state_matches(&ws, &emu, &b);
    // A single nested block: an object in `show -json` (a one-element list on some versions).
    let sp = match &v["service_principal"] {
        Value::Array(items) => items[0].clone(),
        other => other.clone(),
    };
    assert_eq!(sp["client_id"], emu::CLIENT_ID, "{v}");
    assert!(sp["authority_url"].is_null(), "{v}");
    assert!(sp["resource_url"].is_null(), "{v}");
});

// `terraform import`: an identity-mode datastore imports to a no-change plan; a credential
// mode imports without its secret (Azure never returns it), so the next plan adds the
// configured sensitive secret, shown only as sensitive.
scenario!(import_command, |tf| {
    let (l, b) = (lake(), blob());
    const KEY: &str = "a2V5LWZyb20tY29uZmlnLWFmdGVyLWltcG9ydA";
    let (ws, emu) = setup_init(
        tf,
        &lake_and_keyed_blob(&format!(
            "  mode        = \"account_key\"\n  account_key = \"{KEY}\""
        )),
    );

    let out = import_reading(&ws, &emu, (ADDR, &l), &names(&l), &["GET datastore"]);
    let v = assert_state_matches(&ws, &emu, &l);
    assert_eq!(v["mode"], "identity");
    assert_eq!(v["container_name"], "lake");

    assert!(
        !out.combined().contains("unknown after import"),
        "identity mode has no secret to warn about:\n{out}"
    );

    let keyed = "amlauth_datastore_access.keyed";
    let out = ws.import(keyed, &b);
    assert_says(
        &out,
        &[
            "Datastore secret unknown after import",
            "Set `account_key_wo`",
            "or `account_key`",
        ],
    );
    let (code, out) = ws.plan_code();
    assert_eq!(code, 2, "{out}");
    assert!(
        out.stdout
            .contains("amlauth_datastore_access.keyed will be updated in-place")
            && out.stdout.contains("+ account_key")
            && out.stdout.contains("(sensitive value)")
            && out.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{out}"
    );
    assert!(
        !out.stdout.contains("amlauth_datastore_access.this will"),
        "{out}"
    );
    assert_secret_hidden(&out, KEY);
    let v = ws.resource_values(keyed);
    assert_eq!(v["mode"], "account_key", "import recovers the mode: {v}");
    assert!(v["account_key"].is_null(), "no secret after import: {v}");
    assert_eq!(
        stored(&emu, &b).2["key"],
        "seeded-account-key",
        "import and plan leave the stored key alone"
    );
});

// Import blocks: identity mode, and a write-only account key without `secret_wo_version`,
// both plan no changes afterwards, and the stored key is left alone.
scenario!(import_block, only(V1_15), |tf| {
    let (l, b) = (lake(), blob());
    let keyed = "amlauth_datastore_access.keyed";
    let (ws, emu) = setup_init(
        tf,
        &format!(
            "import {{\n  to = {ADDR}\n  id = \"{l}\"\n}}\nimport {{\n  to = {keyed}\n  id = \"{b}\"\n}}\n{}",
            lake_and_keyed_blob(
                "  mode           = \"account_key\"\n  account_key_wo = \"a2V5LXdyaXRlLW9ubHk\""
            )
        ),
    );
    emu.clear_journal();
    let out = ws.apply();
    assert!(
        out.stdout
            .contains("2 imported, 0 added, 0 changed, 0 destroyed"),
        "{out}"
    );
    let mut journal = emu.arm_calls();
    journal.sort();
    let mut expected = vec![format!("GET {b}"), format!("GET {l}")];
    expected.sort();
    assert_eq!(journal, expected, "one read per imported datastore");
    assert_state_matches(&ws, &emu, &l);
    ws.assert_no_changes();
    assert_eq!(stored(&emu, &b).2["key"], "seeded-account-key");
});

scenario!(invalid_configurations, |tf| {
    let b = blob();
    let mut hcl = [
        resource("no_secret", &b, "  mode = \"account_key\""),
        resource(
            "other_mode_secret",
            &b,
            "  mode      = \"account_key\"\n  account_key = \"a2V5\"\n  sas_token = \"sv=1&sig=x\"",
        ),
        resource(
            "identity_with_key",
            &b,
            "  mode        = \"identity\"\n  account_key = \"a2V5\"",
        ),
        resource("bad_mode", &b, "  mode = \"AccountKey\""),
        resource(
            "malformed_id",
            &emu::workspace("ws-one"),
            "  mode = \"identity\"",
        ),
    ]
    .join("\n");
    if tf == Tf::V1_0_3 {
        // Write-only attributes need Terraform 1.11.
        hcl.push_str(&resource(
            "write_only_on_old_terraform",
            &b,
            "  mode           = \"account_key\"\n  account_key_wo = \"a2V5\"",
        ));
    }
    let (ws, emu) = setup_init(tf, &hcl);
    let diags = validate_error_diagnostics(&ws);
    let at = |name| (KIND, name);

    // The secret is absent: the error points at the block and names the attribute.
    let d = diag_for(&diags, KIND, "no_secret");
    assert_eq!(d["summary"], "Missing secret", "{d}");
    assert!(detail(d).contains("`account_key`"), "{d}");

    let d = diag_for(&diags, KIND, "other_mode_secret");
    assert_eq!(d["summary"], "Secret for another mode", "{d}");
    assert!(snippet(d).contains("sas_token"), "{d}");

    assert_diag_at(
        &diags,
        at("identity_with_key"),
        "account_key",
        &["mode = \"account_key\""],
    );
    assert_diag_at(&diags, at("bad_mode"), "mode", &["account_key"]);
    assert_diag_at(
        &diags,
        at("malformed_id"),
        "datastore_id",
        &["datastores/{datastore}"],
    );

    let mut expected = 5;
    if tf == Tf::V1_0_3 {
        assert_diag_at(
            &diags,
            at("write_only_on_old_terraform"),
            "account_key_wo",
            &["Terraform 1.11"],
        );
        expected += 1;
    }
    assert_eq!(diags.len(), expected, "{diags:#?}");

    // Identity access on an Azure Files datastore: refused before anything changes, with an
    // error on `mode` naming the datastore type.
    let f = files();
    let before = emu.stored(&f).unwrap();
    ws.write_resources(&identity_config(&f, None));
    ws.assert_apply_fails(&[
        "Identity-based access not supported for this datastore",
        "AzureFile",
        "mode = \"identity\"",
    ]);
    assert_eq!(
        emu.stored(&f).unwrap(),
        before,
        "the datastore is untouched"
    );
    assert!(
        !emu.arm_calls().iter().any(|c| c.starts_with("PUT")),
        "no write was sent"
    );
});

scenario!(faults_during_apply, |tf| {
    let b = blob();
    let (mut ws, emu) = setup_init(tf, &identity_config(&b, None));

    // A 429 storm on the read, each answer asking for a 1 s wait, then 503s on the PUT:
    // both retried, the apply converges.
    emu.fault(status_fault(
        "GET",
        "*/datastores/blob_data",
        3,
        429,
        Some(1),
    ));
    emu.fault(status_fault("PUT", "*/datastores/blob_data", 2, 503, None));
    emu.clear_journal();
    ws.apply();
    assert_eq!(statuses(&emu, "GET", &b), vec![429, 429, 429, 200]);
    assert_eq!(statuses(&emu, "PUT", &b), vec![503, 503, 200]);
    assert_eq!(stored(&emu, &b).0, "None");
    assert_state_matches(&ws, &emu, &b);
    emu.clear_faults();

    // The PUT keeps failing and retries are exhausted: the apply fails and the state still
    // records what the datastore holds (identity), so the next plan retries the change.
    ws.set_env("ARM_MAX_RETRIES", "1");
    emu.fault(json!({"method": "PUT", "path": "*/datastores/blob_data",
        "action": {"kind": "status", "status": 503, "message": "storage front end unavailable"}}));
    ws.write_resources(&account_key_config(&b, "a2V5LWFmdGVyLWZhdWx0cw", None));
    let out = ws.assert_apply_fails(&["Failed to update the datastore credentials"]);
    assert_secret_hidden(&out, "a2V5LWFmdGVyLWZhdWx0cw");
    assert_eq!(stored(&emu, &b).0, "None");
    assert_state_matches(&ws, &emu, &b);
    emu.clear_faults();

    let (code, out) = ws.plan_code();
    assert_eq!(code, 2, "{out}");
    ws.apply();
    let (ctype, _, private) = stored(&emu, &b);
    assert_eq!(ctype, "AccountKey");
    assert_eq!(private["key"], "a2V5LWFmdGVyLWZhdWx0cw");
    assert_state_matches(&ws, &emu, &b);
});

// Terraform 1.15, write-only account key: the value reaches the datastore but never the
// state file, the plan or the apply output; bumping `secret_wo_version` sends a new one.
scenario!(write_only_secret_never_stored, only(V1_15), |tf| {
    let b = blob();
    const S1: &str = "d3JpdGUtb25seS1zZWNyZXQtb25l";
    const S2: &str = "d3JpdGUtb25seS1zZWNyZXQtdHdv";
    let config = |secret: &str, version: i64| {
        resource(
            "this",
            &b,
            &format!(
                "  mode              = \"account_key\"\n  account_key_wo    = \"{secret}\"\n  secret_wo_version = {version}"
            ),
        )
    };
    let (ws, emu) = setup_init(tf, &config(S1, 1));
    let state_file = ws.work_dir().join("terraform.tfstate");
    let assert_state_clean = |secret: &str| {
        let raw = std::fs::read_to_string(&state_file).expect("state file");
        assert!(!raw.contains(secret), "the secret is in terraform.tfstate");
        assert!(raw.contains("\"account_key_wo\": null"), "{raw}");
    };

    plan_and_apply_hiding(&ws, S1, &["(write-only attribute)"]);
    assert_eq!(stored(&emu, &b).2["key"], S1);
    assert_state_clean(S1);
    let out = ws.ok(&["show", "-no-color"]);
    assert_secret_hidden(&out, S1);

    // Same version: nothing to do, whatever the write-only value says.
    ws.write_resources(&config(S2, 1));
    ws.assert_no_changes();
    assert_eq!(stored(&emu, &b).2["key"], S1);

    // New version: the new secret is sent.
    ws.write_resources(&config(S2, 2));
    let (code, out) = ws.plan_code();
    assert_eq!(code, 2, "{out}");
    assert!(
        out.stdout
            .lines()
            .any(|l| l.contains("~ secret_wo_version") && l.ends_with("= 1 -> 2")),
        "{out}"
    );
    assert_secret_hidden(&out, S2);
    let out = ws.apply();
    assert_secret_hidden(&out, S2);
    assert_eq!(stored(&emu, &b).2["key"], S2);
    assert_state_clean(S1);
    assert_state_clean(S2);
    ws.assert_no_changes();
});

// Terraform 1.0.3 has no write-only attributes: the sensitive `account_key` is used, and
// plans and applies show it only as `(sensitive value)`.
scenario!(sensitive_secret_never_shown, only(V1_0_3), |tf| {
    let b = blob();
    const S1: &str = "c2Vuc2l0aXZlLXNlY3JldC1vbmU";
    const S2: &str = "c2Vuc2l0aXZlLXNlY3JldC10d28";
    let (ws, emu) = setup_init(tf, &account_key_config(&b, S1, None));
    plan_and_apply_hiding(&ws, S1, &["+ account_key ", "(sensitive value)"]);
    assert_eq!(stored(&emu, &b).2["key"], S1);

    // Rotating the key is a visible change of a sensitive value.
    ws.write_resources(&account_key_config(&b, S2, None));
    let (code, out) = ws.plan_code();
    assert_eq!(code, 2, "{out}");
    assert!(
        out.stdout.contains("~ account_key ") && out.stdout.contains("(sensitive value)"),
        "{out}"
    );
    assert_secret_hidden(&out, S1);
    assert_secret_hidden(&out, S2);
    let out = ws.apply();
    assert_secret_hidden(&out, S2);
    assert_eq!(stored(&emu, &b).2["key"], S2);
    let out = ws.ok(&["show", "-no-color"]);
    assert_secret_hidden(&out, S2);
});

// Import of a key-based datastore configured with a write-only key from a sensitive,
// ephemeral variable plans `1 to import` and nothing else; the plan JSON's sensitivity is
// consistent before and after; the import warns that the secret is unknown.
scenario!(
    import_write_only_from_sensitive_variable,
    only(V1_15),
    |tf| {
        let b = blob();
        let keyed = "amlauth_datastore_access.keyed";
        let (ws, emu) = setup_init(
            tf,
            &format!(
                "variable \"key\" {{\n  type      = string\n  sensitive = true\n  ephemeral = true\n  default   = \"a2V5LWZyb20tdmFyaWFibGU\"\n}}\nimport {{\n  to = {keyed}\n  id = \"{b}\"\n}}\n{}",
                resource(
                    "keyed",
                    &b,
                    "  mode           = \"account_key\"\n  account_key_wo = var.key"
                )
            ),
        );
        let out = ws.ok(&["plan", "-input=false", "-no-color", "-out=tfplan"]);
        assert!(
            out.stdout
                .contains("1 to import, 0 to add, 0 to change, 0 to destroy"),
            "{out}"
        );
        // The import says which attribute carries the secret.
        assert_says(&out, &["secret is unknown after import", "account_key_wo"]);
        let shown = ws.ok(&["show", "-json", "tfplan"]);
        let plan: Value = serde_json::from_str(&shown.stdout).expect("plan JSON");
        let change = &plan["resource_changes"][0]["change"];
        assert_eq!(change["actions"], json!(["no-op"]), "{change}");
        assert_eq!(
            change["before_sensitive"], change["after_sensitive"],
            "{change}"
        );
        let out = ws.ok(&["apply", "-input=false", "-no-color", "tfplan"]);
        assert!(
            out.stdout.contains("1 imported, 0 added, 0 changed"),
            "{out}"
        );
        ws.assert_no_changes();
        assert_eq!(stored(&emu, &b).2["key"], "seeded-account-key");
    }
);
