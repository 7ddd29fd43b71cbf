//! ML workspaces and computes: LRO patterns, identity rules, soft delete, conflicts.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};

fn compute_path(ws: &str, c: &str) -> String {
    format!("{}/computes/{c}", ws_path(ws))
}

fn aml_body(identity: Value) -> Value {
    json!({
        "location": "eastus",
        "identity": identity,
        "properties": {"computeType": "AmlCompute", "properties": {
            "vmSize": "STANDARD_DS3_V2",
            "scaleSettings": {"minNodeCount": 0, "maxNodeCount": 2, "nodeIdleTimeBeforeScaleDown": "PT120S"},
            "userAccountCredentials": {"adminUserName": "azureuser", "adminUserPassword": "S3cret-Pass!"}
        }}
    })
}

#[tokio::test]
async fn workspace_put_is_202_with_location_then_final_body() {
    let h = Harness::start().await;
    slow_operations(&h);
    let a = h
        .put(
            &ws_path("ws-one"),
            ML,
            json!({"location": "eastus", "identity": {"type": "SystemAssigned"}}),
        )
        .await;
    assert_eq!(a.status, 202);
    assert!(a.header("retry-after").is_some());
    let loc = a.header("location").unwrap();
    let during = h.get(&ws_path("ws-one"), ML).await;
    assert_eq!(during.body["properties"]["provisioningState"], "Creating");
    let first = h.raw(Method::GET, &loc, Some(&h.token), None).await;
    assert_eq!(first.status, 202, "Location URL answers 202 while running");
    let done = h.poll(&loc).await;
    assert_eq!(done.status, 200);
    assert_eq!(done.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(done.body["identity"]["type"], "SystemAssigned");
    assert!(uuid::Uuid::parse_str(done.body["identity"]["principalId"].as_str().unwrap()).is_ok());
}

#[tokio::test]
async fn workspace_patch_is_202_with_location_and_keeps_principal() {
    let h = Harness::start().await;
    let ws = make_workspace(
        &h,
        "ws-patch",
        json!({"location": "eastus", "identity": {"type": "SystemAssigned"}}),
    )
    .await;
    slow_operations(&h);
    let a = h
        .patch(
            &ws_path("ws-patch"),
            ML,
            json!({"properties": {"systemDatastoresAuthMode": "identity"}, "tags": {"a": "b"}}),
        )
        .await;
    assert_eq!(a.status, 202, "{}", a.body);
    assert!(a.header("location").is_some() && a.header("retry-after").is_some());
    // Reality's shapes: `Azure-AsyncOperation` next to `Location`, on the status path.
    let status_url = a
        .header("azure-asyncoperation")
        .expect("Azure-AsyncOperation");
    assert!(status_url.contains("/operationStatuses/"), "{status_url}");
    assert_eq!(
        h.raw(Method::GET, &status_url, Some(&h.token), None)
            .await
            .body["status"],
        "InProgress"
    );
    assert_eq!(
        h.get(&ws_path("ws-patch"), ML).await.body["properties"]["provisioningState"],
        "Updating"
    );
    let done = h.poll(&a.header("location").unwrap()).await;
    assert_eq!(
        done.body["properties"]["systemDatastoresAuthMode"],
        "Identity"
    );
    assert_eq!(done.body["tags"], json!({"a": "b"}));
    assert_eq!(
        done.body["identity"]["principalId"],
        ws["identity"]["principalId"]
    );

    let bad = h
        .patch(
            &ws_path("ws-patch"),
            ML,
            json!({"properties": {"systemDatastoresAuthMode": "Keys"}}),
        )
        .await;
    assert_eq!(bad.status, 400);

    // The spec's shapes: `Location` only.
    use_spec_shapes(&h);
    let b = h
        .patch(&ws_path("ws-patch"), ML, json!({"tags": {"a": "c"}}))
        .await;
    assert_eq!(b.status, 202, "{}", b.body);
    assert!(b.header("location").is_some());
    assert!(b.header("azure-asyncoperation").is_none());
}

#[tokio::test]
async fn workspace_identity_rules() {
    let h = Harness::start().await;
    let uai = make_uai(&h, "uai-a").await;
    let uai_id = uai["id"].as_str().unwrap().to_string();
    let base = |identity: Value, props: Value| json!({"location": "eastus", "identity": identity, "properties": props});

    let spaced = h.put(&ws_path("ws-x"), ML, base(json!({"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {&uai_id: {}}}), json!({}))).await;
    assert_eq!(spaced.status, 400, "spaced combined type is refused by ML");

    let sa_with_map = h
        .put(
            &ws_path("ws-x"),
            ML,
            base(
                json!({"type": "SystemAssigned", "userAssignedIdentities": {&uai_id: {}}}),
                json!({}),
            ),
        )
        .await;
    assert_eq!(sa_with_map.status, 400);
    assert!(
        sa_with_map.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("non-UserAssigned")
    );

    let ua_no_primary = h
        .put(
            &ws_path("ws-x"),
            ML,
            base(
                json!({"type": "UserAssigned", "userAssignedIdentities": {&uai_id: {}}}),
                json!({}),
            ),
        )
        .await;
    assert_eq!(ua_no_primary.status, 400);
    assert!(
        ua_no_primary.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("primaryUserAssignedIdentity")
    );

    let other = format!(
        "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/not-there",
        rg_path()
    );
    let missing = h
        .put(
            &ws_path("ws-x"),
            ML,
            base(
                json!({"type": "UserAssigned", "userAssignedIdentities": {&other: {}}}),
                json!({"primaryUserAssignedIdentity": other}),
            ),
        )
        .await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.code(), "FailedIdentityOperation");

    let wrong_primary = h
        .put(
            &ws_path("ws-x"),
            ML,
            base(
                json!({"type": "UserAssigned", "userAssignedIdentities": {&uai_id: {}}}),
                json!({"primaryUserAssignedIdentity": other}),
            ),
        )
        .await;
    assert_eq!(wrong_primary.status, 400);

    // UAI given in a different casing: accepted; response keys re-cased to lower case.
    let upper = uai_id.replace("resourceGroups", "RESOURCEGROUPS");
    let ws = make_workspace(
        &h,
        "ws-ua",
        base(
            json!({"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {&upper: {}}}),
            json!({"primaryUserAssignedIdentity": upper}),
        ),
    )
    .await;
    let keys: Vec<&String> = ws["identity"]["userAssignedIdentities"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(keys, vec![&uai_id.to_ascii_lowercase()]);
    let entry = &ws["identity"]["userAssignedIdentities"][uai_id.to_ascii_lowercase()];
    assert_eq!(entry["principalId"], uai["properties"]["principalId"]);
    assert_eq!(entry["clientId"], uai["properties"]["clientId"]);
    assert!(
        ws["properties"]["primaryUserAssignedIdentity"]
            .as_str()
            .unwrap()
            .contains("/resourcegroups/")
    );

    // SA+UA -> SA is refused by default.
    let down = h
        .put(
            &ws_path("ws-ua"),
            ML,
            base(json!({"type": "SystemAssigned"}), json!({})),
        )
        .await;
    assert_eq!(down.status, 400, "{}", down.body);
    let down_patch = h
        .patch(
            &ws_path("ws-ua"),
            ML,
            json!({"identity": {"type": "SystemAssigned"}}),
        )
        .await;
    assert_eq!(down_patch.status, 400);
    // ... and allowed when configured.
    let mut s = h.emu.settings();
    s.quirks.allow_workspace_identity_downgrade = true;
    h.emu.set_settings(s);
    let ok = h
        .patch(
            &ws_path("ws-ua"),
            ML,
            json!({"identity": {"type": "SystemAssigned"}}),
        )
        .await;
    assert_eq!(ok.status, 202, "{}", ok.body);
    let done = h.poll(&ok.header("location").unwrap()).await;
    assert_eq!(done.body["identity"]["type"], "SystemAssigned");
    assert_eq!(
        done.body["identity"]["principalId"], ws["identity"]["principalId"],
        "system principal kept"
    );
    assert!(
        done.body["properties"]
            .get("primaryUserAssignedIdentity")
            .is_none()
    );
}

#[tokio::test]
async fn workspace_links_registry_and_recases_associated_ids() {
    let h = Harness::start().await;
    let missing = h.put(&ws_path("ws-acr"), ML, json!({"location": "eastus", "properties": {"containerRegistry": acr_path("nosuchacr")}})).await;
    assert_eq!(missing.status, 400);
    let acr = h
        .put(
            &acr_path("linkedacr"),
            ACR,
            json!({"location": "eastus", "sku": {"name": "Basic"}}),
        )
        .await;
    assert_eq!(acr.status, 201);
    let kv = format!("{}/providers/Microsoft.KeyVault/vaults/kv1", rg_path());
    let ai = format!("{}/providers/Microsoft.Insights/components/ai1", rg_path());
    let ws = make_workspace(&h, "ws-acr", json!({"location": "eastus", "identity": {"type": "SystemAssigned"},
        "properties": {"containerRegistry": acr_path("linkedacr"), "keyVault": kv, "applicationInsights": ai}})).await;
    assert_eq!(ws["properties"]["containerRegistry"], acr_path("linkedacr"));
    assert!(
        ws["properties"]["keyVault"]
            .as_str()
            .unwrap()
            .contains("/Microsoft.Keyvault/")
    );
    assert!(
        ws["properties"]["applicationInsights"]
            .as_str()
            .unwrap()
            .contains("/microsoft.insights/")
    );
    // keyVault cannot change after creation.
    let kv2 = format!("{}/providers/Microsoft.KeyVault/vaults/kv2", rg_path());
    let a = h
        .put(
            &ws_path("ws-acr"),
            ML,
            json!({"location": "eastus", "properties": {"keyVault": kv2}}),
        )
        .await;
    assert_eq!(a.status, 400);
}

#[tokio::test]
async fn workspace_delete_is_soft_until_purged() {
    let h = Harness::start().await;
    make_workspace(&h, "ws-del", json!({"location": "eastus"})).await;
    let d = h.arm(Method::DELETE, &ws_path("ws-del"), ML, None).await;
    assert_eq!(d.status, 202);
    let fin = h.poll(&d.header("location").unwrap()).await;
    assert_eq!(fin.status, 204);
    assert_eq!(
        h.get(&ws_path("ws-del"), ML).await.code(),
        "ResourceNotFound"
    );
    let again = h
        .put(&ws_path("ws-del"), ML, json!({"location": "eastus"}))
        .await;
    assert_eq!(again.status, 400);
    assert!(
        again.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Soft-deleted workspace exists")
    );
    let purge = h
        .arm(
            Method::DELETE,
            &format!("{}?forceToPurge=true", ws_path("ws-del")),
            ML,
            None,
        )
        .await;
    assert_eq!(purge.status, 200);
    make_workspace(&h, "ws-del", json!({"location": "eastus"})).await;

    // forceToPurge on a live workspace purges directly.
    let d = h
        .arm(
            Method::DELETE,
            &format!("{}?forceToPurge=true", ws_path("ws-del")),
            ML,
            None,
        )
        .await;
    h.poll(&d.header("location").unwrap()).await;
    make_workspace(&h, "ws-del", json!({"location": "eastus"})).await;
    let missing = h.arm(Method::DELETE, &ws_path("never-was"), ML, None).await;
    assert_eq!(missing.status, 204);
}

#[tokio::test]
async fn concurrent_write_during_an_operation_is_409() {
    let h = Harness::start().await;
    slow_operations(&h);
    let a = h
        .put(&ws_path("ws-busy"), ML, json!({"location": "eastus"}))
        .await;
    assert_eq!(a.status, 202);
    let b = h
        .patch(&ws_path("ws-busy"), ML, json!({"tags": {"x": "y"}}))
        .await;
    assert_eq!(b.status, 409);
    assert_eq!(b.code(), "AnotherOperationInProgress");
    h.poll(&a.header("location").unwrap()).await;
    assert_eq!(
        h.patch(&ws_path("ws-busy"), ML, json!({"tags": {"x": "y"}}))
            .await
            .status,
        202
    );
}

#[tokio::test]
async fn compute_put_is_201_with_async_operation_and_hides_secrets() {
    let h = Harness::start().await;
    make_workspace(&h, "ws-c", json!({"location": "eastus"})).await;
    slow_operations(&h);
    let a = h
        .put(
            &compute_path("ws-c", "cpu"),
            ML,
            aml_body(json!({"type": "SystemAssigned"})),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.body["properties"]["provisioningState"], "Creating");
    let op = a
        .header("azure-asyncoperation")
        .expect("Azure-AsyncOperation");
    let first = h.raw(Method::GET, &op, Some(&h.token), None).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.body["status"], "InProgress");
    let done = h.poll(&op).await;
    assert_eq!(done.body["status"], "Succeeded");
    assert!(done.body["startTime"].is_string() && done.body["endTime"].is_string());
    let got = h.get(&compute_path("ws-c", "cpu"), ML).await;
    assert_eq!(got.body["properties"]["provisioningState"], "Succeeded");
    assert!(
        !got.body.to_string().contains("S3cret-Pass!"),
        "password must never be returned"
    );
    assert_eq!(
        got.body["properties"]["properties"]["scaleSettings"]["maxNodeCount"],
        2
    );
    let list = h.get(&format!("{}/computes", ws_path("ws-c")), ML).await;
    assert_eq!(list.body["value"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn compute_identity_rules_and_full_put_switch() {
    let h = Harness::start().await;
    use_spec_shapes(&h);
    make_workspace(&h, "ws-ci", json!({"location": "eastus"})).await;
    let uai = make_uai(&h, "uai-c").await;
    let id = uai["id"].as_str().unwrap();
    let both = h
        .put(
            &compute_path("ws-ci", "c1"),
            ML,
            aml_body(
                json!({"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {id: {}}}),
            ),
        )
        .await;
    assert_eq!(both.status, 400);
    let a = h
        .put(
            &compute_path("ws-ci", "c1"),
            ML,
            aml_body(json!({"type": "SystemAssigned"})),
        )
        .await;
    h.poll(&a.header("azure-asyncoperation").unwrap()).await;
    // Switch SA -> UA with a full PUT (200 + Azure-AsyncOperation for an update).
    let b = h
        .put(
            &compute_path("ws-ci", "c1"),
            ML,
            aml_body(json!({"type": "UserAssigned", "userAssignedIdentities": {id: {}}})),
        )
        .await;
    assert_eq!(b.status, 200, "{}", b.body);
    h.poll(&b.header("azure-asyncoperation").unwrap()).await;
    let got = h.get(&compute_path("ws-ci", "c1"), ML).await;
    assert_eq!(got.body["identity"]["type"], "UserAssigned");
    assert!(
        got.body["identity"]["userAssignedIdentities"]
            .get(id.to_ascii_lowercase())
            .is_some()
    );
    // vmSize is create-only.
    let mut changed = aml_body(json!({"type": "UserAssigned", "userAssignedIdentities": {id: {}}}));
    changed["properties"]["properties"]["vmSize"] = json!("STANDARD_NC6");
    assert_eq!(
        h.put(&compute_path("ws-ci", "c1"), ML, changed)
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn compute_patch_takes_scale_settings_only() {
    let h = Harness::start().await;
    make_workspace(&h, "ws-cp", json!({"location": "eastus"})).await;
    let a = h
        .put(
            &compute_path("ws-cp", "c1"),
            ML,
            aml_body(json!({"type": "SystemAssigned"})),
        )
        .await;
    h.poll(&a.header("azure-asyncoperation").unwrap()).await;
    let with_identity = h
        .patch(
            &compute_path("ws-cp", "c1"),
            ML,
            json!({"identity": {"type": "None"}}),
        )
        .await;
    assert_eq!(with_identity.status, 400);
    let other = h
        .patch(
            &compute_path("ws-cp", "c1"),
            ML,
            json!({"properties": {"description": "x"}}),
        )
        .await;
    assert_eq!(other.status, 400);
    let bad_scale = h
        .patch(
            &compute_path("ws-cp", "c1"),
            ML,
            json!({"properties": {"properties": {"scaleSettings": {"minNodeCount": 5}}}}),
        )
        .await;
    assert_eq!(bad_scale.status, 400, "min above max");
    let ok = h
        .patch(
            &compute_path("ws-cp", "c1"),
            ML,
            json!({"properties": {"properties": {"scaleSettings": {"maxNodeCount": 8}}}}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let op = ok.header("azure-asyncoperation").unwrap();
    h.poll(&op).await;
    let got = h.get(&compute_path("ws-cp", "c1"), ML).await;
    assert_eq!(
        got.body["properties"]["properties"]["scaleSettings"]["maxNodeCount"],
        8
    );
    assert_eq!(
        got.body["properties"]["properties"]["scaleSettings"]["nodeIdleTimeBeforeScaleDown"],
        "PT120S"
    );
}

#[tokio::test]
async fn compute_delete_requires_underlying_resource_action() {
    let h = Harness::start().await;
    make_workspace(&h, "ws-cd", json!({"location": "eastus"})).await;
    let a = h
        .put(
            &compute_path("ws-cd", "c1"),
            ML,
            aml_body(json!({"type": "SystemAssigned"})),
        )
        .await;
    h.poll(&a.header("azure-asyncoperation").unwrap()).await;
    let no_action = h
        .arm(Method::DELETE, &compute_path("ws-cd", "c1"), ML, None)
        .await;
    assert_eq!(no_action.status, 400);
    let d = h
        .arm(
            Method::DELETE,
            &format!(
                "{}?underlyingResourceAction=Delete",
                compute_path("ws-cd", "c1")
            ),
            ML,
            None,
        )
        .await;
    assert_eq!(d.status, 202);
    assert!(d.header("location").is_some());
    h.poll(&d.header("azure-asyncoperation").unwrap()).await;
    assert_eq!(h.get(&compute_path("ws-cd", "c1"), ML).await.status, 404);
    let parent_missing = h.get(&compute_path("no-ws", "c1"), ML).await;
    assert_eq!(parent_missing.status, 404);
    assert!(
        parent_missing.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("workspaces/no-ws")
    );
}

#[tokio::test]
async fn sync_quirk_answers_long_running_operations_with_200() {
    let h = Harness::start().await;
    let mut s = h.emu.settings();
    s.quirks.sync_long_running = true;
    h.emu.set_settings(s);
    let a = h
        .put(&ws_path("ws-sync"), ML, json!({"location": "eastus"}))
        .await;
    assert_eq!(a.status, 200);
    assert!(a.header("location").is_none());
    assert_eq!(a.body["properties"]["provisioningState"], "Succeeded");
    let _: Value = a.body;
}

#[tokio::test]
async fn enum_and_timestamp_quirks_change_only_the_response_shape() {
    let h = Harness::start().await;
    let mut s = h.emu.settings();
    s.quirks.recase_enums = true;
    s.quirks.alternate_timestamps = true;
    h.emu.set_settings(s);
    let ws = make_workspace(
        &h,
        "ws-quirk",
        json!({"location": "eastus", "identity": {"type": "SystemAssigned"},
        "properties": {"systemDatastoresAuthMode": "Identity"}}),
    )
    .await;
    assert_eq!(ws["identity"]["type"], "systemAssigned");
    assert_eq!(ws["properties"]["systemDatastoresAuthMode"], "identity");
    let created = ws["systemData"]["createdAt"].as_str().unwrap();
    assert!(created.ends_with("+00:00"), "{created}");
    assert_eq!(
        created.split('.').nth(1).unwrap().len(),
        "0000000+00:00".len(),
        "{created}"
    );
    // Stored state is unchanged: turning the quirks off restores the canonical shape.
    h.emu.set_settings(amlauth_emulator::Settings {
        quirks: Default::default(),
        ..h.emu.settings()
    });
    let plain = h.get(&ws_path("ws-quirk"), ML).await.body;
    assert_eq!(plain["identity"]["type"], "SystemAssigned");
    assert!(
        plain["systemData"]["createdAt"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
}

#[tokio::test]
async fn child_writes_conflict_with_a_running_workspace_operation_when_enabled() {
    let h = Harness::start().await;
    make_workspace(&h, "ws-busy2", json!({"location": "eastus"})).await;
    slow_operations(&h);
    let p = h
        .patch(&ws_path("ws-busy2"), ML, json!({"tags": {"a": "1"}}))
        .await;
    assert_eq!(p.status, 202);
    // Off by default: the compute write goes through.
    let a = h
        .put(
            &compute_path("ws-busy2", "c1"),
            ML,
            aml_body(json!({"type": "SystemAssigned"})),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    h.poll(&p.header("location").unwrap()).await;
    h.poll(&a.header("azure-asyncoperation").unwrap()).await;

    let mut s = h.emu.settings();
    s.quirks.workspace_child_conflicts = true;
    h.emu.set_settings(s);
    let p = h
        .patch(&ws_path("ws-busy2"), ML, json!({"tags": {"a": "2"}}))
        .await;
    let c = h
        .put(
            &compute_path("ws-busy2", "c2"),
            ML,
            aml_body(json!({"type": "SystemAssigned"})),
        )
        .await;
    assert_eq!(c.status, 409);
    assert_eq!(c.code(), "Conflict");
    let d = h.put(&format!("{}/datastores/d1", ws_path("ws-busy2")), ML, json!({"properties": {
        "datastoreType": "AzureBlob", "accountName": "acct1", "containerName": "c", "credentials": {"credentialsType": "None"}}})).await;
    assert_eq!(d.status, 409);
    h.poll(&p.header("location").unwrap()).await;
    let c = h
        .put(
            &compute_path("ws-busy2", "c2"),
            ML,
            aml_body(json!({"type": "SystemAssigned"})),
        )
        .await;
    assert_eq!(c.status, 201);
}

/// Reality's shapes (the default): a compute without an identity has no `identity` key, and a
/// full PUT of an existing compute (identity update) answers `201` `Creating` with
/// `Azure-AsyncOperation`; the spec's shapes answer `{"type": "None"}` and `200` `Updating`.
#[tokio::test]
async fn compute_identity_update_shapes() {
    let h = Harness::start().await;
    make_workspace(&h, "ws-cr", json!({"location": "eastus"})).await;
    let a = h
        .put(
            &compute_path("ws-cr", "c1"),
            ML,
            aml_body(json!({"type": "None"})),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert!(a.body.get("identity").is_none(), "{}", a.body);
    h.poll(&a.header("azure-asyncoperation").unwrap()).await;
    let got = h.get(&compute_path("ws-cr", "c1"), ML).await;
    assert!(got.body.get("identity").is_none(), "{}", got.body);
    let list = h.get(&format!("{}/computes", ws_path("ws-cr")), ML).await;
    assert!(list.body["value"][0].get("identity").is_none());

    let b = h
        .put(
            &compute_path("ws-cr", "c1"),
            ML,
            aml_body(json!({"type": "SystemAssigned"})),
        )
        .await;
    assert_eq!(b.status, 201, "{}", b.body);
    assert_eq!(b.body["properties"]["provisioningState"], "Creating");
    let done = h.poll(&b.header("azure-asyncoperation").unwrap()).await;
    assert_eq!(done.body["status"], "Succeeded");
    let got = h.get(&compute_path("ws-cr", "c1"), ML).await;
    assert_eq!(got.body["identity"]["type"], "SystemAssigned");
    assert_eq!(got.body["properties"]["provisioningState"], "Succeeded");

    use_spec_shapes(&h);
    let c = h
        .put(
            &compute_path("ws-cr", "c1"),
            ML,
            aml_body(json!({"type": "None"})),
        )
        .await;
    assert_eq!(c.status, 200, "{}", c.body);
    assert_eq!(c.body["properties"]["provisioningState"], "Updating");
    h.poll(&c.header("azure-asyncoperation").unwrap()).await;
    let got = h.get(&compute_path("ws-cr", "c1"), ML).await;
    assert_eq!(got.body["identity"], json!({"type": "None"}));
}
