//! End-to-end: the amlauth_workspace_posture data source under real Terraform against the
//! emulator. On 1.15 the example (examples/posture/main.tf) takes an insecure workspace to a
//! secure one: its amlauth fixes, then the role assignments it lists created through the
//! emulator's ARM API with the body azurerm_role_assignment sends. On both versions an
//! unreadable scope is a finding, not a failure.

#[macro_use]
mod common;

use common::emu::{self, Emu, SUB};
use common::{PROVIDER_HEADER, TfWorkspace, repo_root, setup_with};
use serde_json::{Value, json};

const ACR_PULL: &str = "7f951dda-4ed3-4680-a7ca-43fe172d538d";
const BLOB_READER: &str = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1";
const BLOB_CONTRIBUTOR: &str = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
/// The description the example's role assignment loop gives its assignments.
const LOOP_DESCRIPTION: &str = "Managed by Terraform from amlauth_workspace_posture";

fn storage(name: &str) -> String {
    format!(
        "{}/providers/Microsoft.Storage/storageAccounts/{name}",
        emu::rg()
    )
}

/// The standard fixture (ws-one: registry with the admin account on, computes without an
/// identity, an account-key blob datastore, system datastores on the account key) with the
/// workspace's linked storage account and key vault.
fn seed() -> Value {
    let mut seed = emu::standard_seed();
    let ws = &mut seed["subscriptions"][0]["resourceGroups"][0]["workspaces"][0];
    ws["storageAccount"] = json!(storage("ste2e"));
    ws["keyVault"] = json!(format!(
        "{}/providers/Microsoft.KeyVault/vaults/kv-e2e",
        emu::rg()
    ));
    seed
}

fn posture(ws: &TfWorkspace) -> Value {
    ws.resource_values("data.amlauth_workspace_posture.this")
}

fn codes(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["code"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn required(v: &Value) -> Vec<Value> {
    v["required_role_assignments"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn principal_of(emu: &Emu, id: &str) -> String {
    emu.resource(id).expect("resource")["identity"]["principalId"]
        .as_str()
        .expect("system-assigned principal")
        .to_string()
}

/// `PUT {scope}/providers/Microsoft.Authorization/roleAssignments/{new guid}` with the body
/// azurerm_role_assignment sends.
fn assign(emu: &Emu, scope: &str, role_guid: &str, principal: &str, description: &str) {
    let name = uuid::Uuid::new_v4().to_string();
    assign_named(emu, scope, &name, role_guid, principal, description);
}

/// [`assign`] with the assignment's name (a GUID) chosen, which fixes where ARM lists it.
fn assign_named(
    emu: &Emu,
    scope: &str,
    name: &str,
    role_guid: &str,
    principal: &str,
    description: &str,
) {
    let path = format!(
        "{scope}/providers/Microsoft.Authorization/roleAssignments/{name}?api-version=2022-04-01"
    );
    let body = json!({"properties": {
        "roleDefinitionId": format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}"),
        "principalId": principal,
        "principalType": "ServicePrincipal",
        "description": description,
    }});
    let (status, answer) = emu.arm(reqwest::Method::PUT, &path, Some(&body));
    assert_eq!(status, 201, "{path}: {answer}");
    assert_eq!(
        answer["properties"]["description"], description,
        "ARM keeps it"
    );
}

scenario!(
    the_example_takes_an_insecure_workspace_to_secure,
    only(V1_15),
    |tf| {
        let (ws, emu) = setup_with(tf, seed());
        let example =
            std::fs::read_to_string(repo_root().join("examples/posture/main.tf")).expect("example");
        ws.write_config(&example);
        let ws_id = emu::workspace("ws-one");
        std::fs::write(
            ws.work_dir().join("terraform.tfvars.json"),
            json!({
                "workspace_id": ws_id,
                "compute_names": ["cluster-a", "cluster-b"],
                "identity_datastore_names": ["blob_data"],
            })
            .to_string(),
        )
        .expect("tfvars");
        ws.init();

        // The insecure seed: the plan warns through the check block, and the data source reads
        // exactly the documented findings.
        ws.assert_plan_changes_saying(&["Check block assertion failed", "high acr_admin_enabled"]);
        ws.apply();
        let v = posture(&ws);
        assert_eq!(
            codes(&v),
            vec![
                "acr_admin_enabled",
                "datastore_uses_stored_credentials",
                "compute_without_identity",
                "compute_without_identity",
                "system_datastores_use_access_key",
            ],
            "{v}"
        );
        let ids: Vec<&str> = v["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| f["resource_id"].as_str().unwrap_or_default())
            .collect();
        let want = [
            emu::registry("acre2eone"),
            emu::datastore("ws-one", "blob_data"),
            emu::compute("ws-one", "cluster-a"),
            emu::compute("ws-one", "cluster-b"),
            ws_id.clone(),
        ];
        for (got, want) in ids.iter().zip(&want) {
            assert!(same(got, want), "{got} != {want}: {v}");
        }
        assert_eq!(v["secure"], false);
        assert!(required(&v).is_empty(), "nothing to grant yet: {v}");

        // The fixes are in Azure now; the next read lists the roles they need, all missing.
        ws.apply();
        let v = posture(&ws);
        let cluster_a = principal_of(&emu, &emu::compute("ws-one", "cluster-a"));
        let cluster_b = principal_of(&emu, &emu::compute("ws-one", "cluster-b"));
        let ws_sai = principal_of(&emu, &ws_id);
        let mut want: Vec<(String, &str, String)> = vec![
            (emu::registry("acre2eone"), "AcrPull", cluster_a.clone()),
            (emu::registry("acre2eone"), "AcrPull", cluster_b.clone()),
            (
                storage("ste2e"),
                "Storage Blob Data Reader",
                cluster_a.clone(),
            ),
            (
                storage("ste2e"),
                "Storage Blob Data Reader",
                cluster_b.clone(),
            ),
            (storage("ste2e"), "Storage Blob Data Reader", ws_sai.clone()),
            // lake_data was identity-based from the start: the computes read it too.
            (
                storage("ste2elake"),
                "Storage Blob Data Reader",
                cluster_a.clone(),
            ),
            (
                storage("ste2elake"),
                "Storage Blob Data Reader",
                cluster_b.clone(),
            ),
        ];
        want.sort_by_key(|(s, r, p)| {
            (
                s.to_ascii_lowercase(),
                r.to_string(),
                p.to_ascii_lowercase(),
            )
        });
        let reqs = required(&v);
        let got: Vec<(String, &str, String)> = reqs
            .iter()
            .map(|r| {
                assert_eq!(r["present"], false, "{r}");
                (
                    r["scope"].as_str().unwrap_or_default().to_string(),
                    r["role_definition_name"].as_str().unwrap_or_default(),
                    r["principal_id"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        assert_eq!(got.len(), want.len(), "{v}");
        for (g, w) in got.iter().zip(&want) {
            assert!(
                same(&g.0, &w.0) && g.1 == w.1 && same(&g.2, &w.2),
                "{g:?} != {w:?}\n{v}"
            );
        }
        assert_eq!(codes(&v), vec!["missing_role_assignment"; 7], "{v}");
        assert_eq!(v["secure"], false);

        let keys_before = loop_keys(&ws);
        assert_eq!(
            keys_before.len(),
            7,
            "the loop would create each: {keys_before:?}"
        );

        // Grant them as the example's azurerm_role_assignment loop would: one PUT per for_each
        // entry, with the loop's description. Two are granted outside the loop instead, which
        // also proves that inheritance and covering roles count: cluster-b's AcrPull at the
        // resource group, the workspace's reader role as Storage Blob Data Contributor.
        assert!(example.contains(&format!("\"{LOOP_DESCRIPTION}\"")));
        let mut outside = Vec::new();
        for r in &reqs {
            let scope = r["scope"].as_str().expect("scope");
            let principal = r["principal_id"].as_str().expect("principal");
            let role_id = r["role_definition_id"].as_str().expect("role id");
            assert!(
                role_id.starts_with(&format!(
                    "/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/"
                )),
                "{r}"
            );
            let guid = role_id.rsplit('/').next().expect("guid");
            let key = format!(
                "{scope}|{}|{principal}",
                r["role_definition_name"].as_str().unwrap_or_default()
            );
            if guid == ACR_PULL && same(principal, &cluster_b) {
                assign(&emu, &emu::rg(), ACR_PULL, principal, "platform team");
                outside.push(key);
            } else if guid == BLOB_READER && same(principal, &ws_sai) {
                assign(&emu, scope, BLOB_CONTRIBUTOR, principal, "platform team");
                outside.push(key);
            } else {
                assign(&emu, scope, guid, principal, LOOP_DESCRIPTION);
            }
        }

        ws.apply();
        let v = posture(&ws);
        assert!(codes(&v).is_empty(), "{v}");
        assert_eq!(v["secure"], true);
        let reqs = required(&v);
        assert_eq!(reqs.len(), 7, "{v}");
        assert!(reqs.iter().all(|r| r["granted"] == true), "{v}");
        // The loop keeps its own five (they stay `present = false`, so a real loop would not
        // destroy them) and lets go of the two granted outside it.
        let keys_after = loop_keys(&ws);
        let mut want: Vec<String> = keys_before
            .iter()
            .filter(|k| !outside.contains(k))
            .cloned()
            .collect();
        want.sort();
        assert_eq!(outside.len(), 2);
        assert_eq!(keys_after, want, "{v}");
        // The check passes and nothing is left to change.
        let (code, out) = ws.plan_code();
        assert_eq!(code, 0, "{out}");
        assert!(
            !out.combined().contains("Check block assertion failed"),
            "{out}"
        );
    }
);

/// The example's `role_assignment_keys` output: the for_each keys of its role assignment loop.
fn loop_keys(ws: &TfWorkspace) -> Vec<String> {
    let out = ws.ok(&["output", "-json", "role_assignment_keys"]);
    let mut keys: Vec<String> = serde_json::from_str(&out.stdout).expect("keys");
    keys.sort();
    keys
}

// ws-one with the registry admin off and private, cluster-a holding a system-assigned
// identity and cluster-b a user-assigned one its body names without a principal id; the
// listing of role assignments on the lake storage account answers 403.
scenario!(an_unreadable_scope_is_a_finding, |tf| {
    let mut seed = seed();
    let rg = &mut seed["subscriptions"][0]["resourceGroups"][0];
    rg["registries"][0]["adminUserEnabled"] = json!(false);
    // A private registry: images must be built on a compute, and the workspace names none.
    rg["registries"][0]["properties"] = json!({"publicNetworkAccess": "Disabled"});
    let w = &mut rg["workspaces"][0];
    w["systemDatastoresAuthMode"] = json!("Identity");
    w["computes"][0]["identity"] = json!("SystemAssigned");
    w["computes"][1]["identity"] =
        json!({"type": "UserAssigned", "userAssignedIdentities": ["uai-one"]});
    let mut ws = common::TfWorkspace::new(tf, common::Install::Plain);
    // One item per page: the computes and datastores come through nextLink.
    let emu = Emu::start_with(seed, ws.dir.path(), |c| c.quirks.list_page_size = 1);
    ws.use_emulator(&emu);
    let cluster_a = principal_of(&emu, &emu::compute("ws-one", "cluster-a"));
    // cluster-b's body lists its user-assigned identity without a principal id: the data
    // source reads the identity for it.
    let cluster_b = emu::compute("ws-one", "cluster-b");
    let stored = emu.resource(&cluster_b).expect("cluster-b");
    let key = stored["identity"]["userAssignedIdentities"]
        .as_object()
        .and_then(|m| m.keys().next().cloned())
        .expect("uai key");
    emu.patch(
        &cluster_b,
        json!({"identity": {"userAssignedIdentities": {key: {"principalId": null}}}}),
    );
    let uai_one = emu.resource(&emu::uai("uai-one")).expect("uai-one")["properties"]["principalId"]
        .as_str()
        .expect("uai principal")
        .to_string();
    // AcrPull granted at the subscription: inherited by the registry.
    assign(
        &emu,
        &format!("/subscriptions/{SUB}"),
        ACR_PULL,
        &cluster_a,
        "e2e",
    );
    emu.fault(json!({
        "method": "GET",
        "path": "*/storageAccounts/ste2elake/providers/Microsoft.Authorization/roleAssignments",
        "action": {"kind": "status", "status": 403, "code": "AuthorizationFailed",
                   "message": "The client does not have authorization to perform action 'Microsoft.Authorization/roleAssignments/read'."},
    }));
    ws.write_config(&format!(
        "{PROVIDER_HEADER}\ndata \"amlauth_workspace_posture\" \"this\" {{\n  workspace_id = \"{}\"\n}}\n\noutput \"secure\" {{\n  value = data.amlauth_workspace_posture.this.secure\n}}\n",
        emu::workspace("ws-one")
    ));
    ws.init();
    emu.clear_journal();
    ws.apply();
    let pages = |list: &str| {
        emu.arm_calls()
            .iter()
            .filter(|c| same(c, &format!("GET {}/{list}", emu::workspace("ws-one"))))
            .count()
    };
    // One read, one page per item: all three datastores and both computes were seen.
    assert_eq!(
        (pages("datastores"), pages("computes")),
        (3, 2),
        "{:?}",
        emu.arm_calls()
    );
    assert!(
        emu.arm_calls()
            .iter()
            .any(|c| same(c, &format!("GET {}", emu::uai("uai-one")))),
        "{:?}",
        emu.arm_calls()
    );
    let v = posture(&ws);
    assert_eq!(
        codes(&v),
        vec![
            "datastore_uses_stored_credentials",
            "image_build_compute_missing",
            "missing_role_assignment",
            "cannot_read_role_assignments",
        ],
        "{v}"
    );
    let missing = &v["findings"][2];
    assert!(
        missing["message"]
            .as_str()
            .is_some_and(|m| m.contains(&uai_one) && m.contains("AcrPull")),
        "{missing}"
    );
    let cannot = &v["findings"][3];
    assert!(same(
        cannot["resource_id"].as_str().unwrap_or_default(),
        &storage("ste2elake")
    ));
    assert!(
        cannot["message"]
            .as_str()
            .is_some_and(|m| m.contains("AuthorizationFailed")),
        "{cannot}"
    );
    assert_eq!(v["secure"], false);
    let reqs = required(&v);
    let entry = |role: &str, principal: &str| {
        reqs.iter()
            .find(|r| {
                r["role_definition_name"] == role
                    && same(r["principal_id"].as_str().unwrap_or_default(), principal)
            })
            .unwrap_or_else(|| panic!("{role} {principal}: {v}"))
    };
    assert_eq!(
        entry("AcrPull", &cluster_a)["present"],
        true,
        "inherited from the subscription"
    );
    let uai_pull = entry("AcrPull", &uai_one);
    assert_eq!(uai_pull["present"], false);
    assert_eq!(uai_pull["principal_kind"], "compute_user_assigned_identity");
    for principal in [&cluster_a, &uai_one] {
        let reader = entry("Storage Blob Data Reader", principal);
        assert!(same(
            reader["scope"].as_str().unwrap_or_default(),
            &storage("ste2elake")
        ));
        assert_eq!(reader["present"], false, "unreadable is never present");
    }
    assert_eq!(reqs.len(), 4, "{v}");
});

/// Principals no rule requires: their assignments only fill the first pages of each list.
const DECOY_PRINCIPALS: [&str; 2] = [
    "dec0dec0-0000-4000-8000-000000000001",
    "dec0dec0-0000-4000-8000-000000000002",
];

/// The role assignment lists' page count per scope in the journal, by the scope's lower-cased id.
fn assignment_pages(emu: &Emu) -> std::collections::BTreeMap<String, usize> {
    let mut pages = std::collections::BTreeMap::new();
    for call in emu.arm_calls() {
        let lower = call.to_ascii_lowercase();
        if let Some(scope) = lower
            .strip_prefix("get ")
            .and_then(|p| p.strip_suffix("/providers/microsoft.authorization/roleassignments"))
        {
            *pages.entry(scope.to_string()).or_insert(0) += 1;
        }
    }
    pages
}

// ARM pages role assignment lists; with one assignment per page, the assignments that grant
// the required roles come on the 3rd page and later of each scope's list (behind two
// subscription-level and one resource-level assignment of other principals). They must count
// exactly as they do when the list comes in one page: a reader that stopped at the first page
// would report every required role missing.
scenario!(role_assignments_on_later_pages_are_seen, |tf| {
    let mut seed = seed();
    let rg = &mut seed["subscriptions"][0]["resourceGroups"][0];
    rg["registries"][0]["adminUserEnabled"] = json!(false);
    let w = &mut rg["workspaces"][0];
    w["systemDatastoresAuthMode"] = json!("Identity");
    w["computes"][0]["identity"] = json!("SystemAssigned");
    w["computes"][1]["identity"] = json!("SystemAssigned");
    let sub_scope = format!("/subscriptions/{SUB}");
    let resource_scopes = [
        emu::registry("acre2eone"),
        storage("ste2e"),
        storage("ste2elake"),
    ];
    // Names sort before the grants' (`ffffffff-…`) and ARM-style ids sort subscription-level
    // assignments before resource-group-level before resource-level ones.
    let mut decoys = vec![
        json!({"name": "00000000-0000-4000-8000-0000000000a1", "scope": sub_scope,
               "roleDefinitionId": ACR_PULL, "principalId": DECOY_PRINCIPALS[0]}),
        json!({"name": "00000000-0000-4000-8000-0000000000a2", "scope": sub_scope,
               "roleDefinitionId": BLOB_READER, "principalId": DECOY_PRINCIPALS[1]}),
    ];
    for (i, scope) in resource_scopes.iter().enumerate() {
        decoys.push(json!({"name": format!("00000000-0000-4000-8000-0000000000b{i}"),
            "scope": scope, "roleDefinitionId": BLOB_CONTRIBUTOR, "principalId": DECOY_PRINCIPALS[0]}));
    }
    seed["subscriptions"][0]["roleAssignments"] = json!(decoys);
    let mut ws = common::TfWorkspace::new(tf, common::Install::Plain);
    let emu = Emu::start_with(seed, ws.dir.path(), |c| c.quirks.list_page_size = 1);
    ws.use_emulator(&emu);
    ws.write_config(&format!(
        "{PROVIDER_HEADER}\ndata \"amlauth_workspace_posture\" \"this\" {{\n  workspace_id = \"{}\"\n}}\n",
        emu::workspace("ws-one")
    ));
    ws.init();

    // Nothing granted yet (the decoys are other principals'): every requirement is missing.
    ws.apply();
    let before = posture(&ws);
    let reqs = required(&before);
    assert!(reqs.len() >= 4, "{before}");
    assert!(reqs.iter().all(|r| r["granted"] == false), "{before}");
    let missing = codes(&before)
        .iter()
        .filter(|c| *c == "missing_role_assignment")
        .count();
    assert_eq!(missing, reqs.len(), "{before}");

    // Grant each: cluster-b's AcrPull at the resource group (inherited, listed after the
    // subscription's two), the others at their scope (listed last).
    let cluster_b = principal_of(&emu, &emu::compute("ws-one", "cluster-b"));
    let mut at_rg = 0;
    let mut at_scope: std::collections::BTreeMap<String, usize> = Default::default();
    for (i, r) in reqs.iter().enumerate() {
        let scope = r["scope"].as_str().expect("scope");
        let principal = r["principal_id"].as_str().expect("principal");
        let guid = r["role_definition_id"]
            .as_str()
            .and_then(|id| id.rsplit('/').next())
            .expect("role guid");
        let name = format!("ffffffff-ffff-4fff-8fff-{i:012x}");
        if guid == ACR_PULL && same(principal, &cluster_b) {
            assign_named(&emu, &emu::rg(), &name, guid, principal, "e2e");
            at_rg += 1;
        } else {
            assign_named(&emu, scope, &name, guid, principal, "e2e");
            *at_scope.entry(scope.to_ascii_lowercase()).or_insert(0) += 1;
        }
    }
    assert_eq!(at_rg, 1, "{before}");

    emu.clear_journal();
    ws.apply();
    let paged = posture(&ws);
    let reqs = required(&paged);
    assert!(
        reqs.iter()
            .all(|r| r["granted"] == true && r["present"] == true),
        "{paged}"
    );
    assert!(
        !codes(&paged).contains(&"missing_role_assignment".to_string()),
        "{paged}"
    );
    // Each required scope's list was read to its last page: one page per assignment that
    // applies there (2 at the subscription, 1 at the resource group, 1 decoy, the grants).
    let pages = assignment_pages(&emu);
    assert_eq!(pages.len(), at_scope.len(), "{pages:?} {at_scope:?}");
    for (scope, grants) in &at_scope {
        assert!(*grants >= 1);
        assert_eq!(
            pages.get(scope),
            Some(&(2 + at_rg + 1 + grants)),
            "{scope}: {pages:?}"
        );
    }
    let next_pages = emu.journal().iter().filter(|e| e.next_page).count();
    assert!(next_pages >= 3 * pages.len(), "{next_pages}");

    // The same answer with every list in one page.
    emu.set_list_page_size(0);
    emu.clear_journal();
    ws.apply();
    let one_page = posture(&ws);
    assert_eq!(one_page, paged);
    assert!(
        pages
            .keys()
            .all(|s| assignment_pages(&emu).get(s) == Some(&1))
    );
});
