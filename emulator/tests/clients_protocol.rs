//! What the Azure CLI and the Azure ML SDK v2 call besides the resources themselves (issue
//! 10.1): cloud metadata, subscription and tenant lists, the generic resource list with its
//! `$filter`s, built-in role definitions and role assignments at a resource scope, the Graph
//! lookup behind `az role assignment list`, workspace keys and the api-versions they send.
//! `emulator/tests/clients/run.sh` runs the real clients; these pin the protocol.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};

const ACR_PULL: &str = "7f951dda-4ed3-4680-a7ca-43fe172d538d";

async fn seeded() -> Harness {
    let h = Harness::start().await;
    let seed = json!({"subscriptions": [{"id": SUB, "resourceGroups": [{
        "name": RG, "location": "eastus",
        "identities": [{"name": "uai-c"}],
        "registries": [{"name": "acrc01", "adminUserEnabled": true}],
        "workspaces": [{"name": "ws-c", "identity": {"type": "SystemAssigned"},
                        "containerRegistry": "acrc01",
                        "computes": [{"name": "cpu"}]}]
    }]}]});
    let a = h.control(Method::POST, "/seed", Some(seed)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    h
}

#[tokio::test]
async fn cloud_metadata_is_served_without_a_token() {
    let h = Harness::start().await;
    let base = h.emu.base_url().to_string();
    let one = h
        .raw(
            Method::GET,
            &h.url("/metadata/endpoints?api-version=2022-09-01"),
            None,
            None,
        )
        .await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.body["resourceManager"], format!("{base}/"));
    assert_eq!(
        one.body["authentication"]["loginEndpoint"],
        format!("{base}/")
    );
    assert_eq!(one.body["name"], "AmlauthEmulator");
    assert!(one.body["suffixes"]["storage"].is_string());
    // 2019-05-01 answers the list of clouds (what the ML SDK reads).
    let list = h
        .raw(
            Method::GET,
            &h.url("/metadata/endpoints?api-version=2019-05-01"),
            None,
            None,
        )
        .await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body[0]["resourceManager"], format!("{base}/"));
    let missing = h
        .raw(Method::GET, &h.url("/metadata/endpoints"), None, None)
        .await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.code(), "MissingApiVersionParameter");
    let bad = h
        .raw(
            Method::GET,
            &h.url("/metadata/endpoints?api-version=2099-01-01"),
            None,
            None,
        )
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.code(), "InvalidApiVersionParameter");
}

#[tokio::test]
async fn subscriptions_and_tenants_are_listed() {
    let h = Harness::start().await;
    let subs = h.get("/subscriptions", "2022-12-01").await;
    assert_eq!(subs.status, 200, "{}", subs.body);
    let ids: Vec<&str> = subs.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["subscriptionId"].as_str())
        .collect();
    assert_eq!(ids, vec![SUB]);
    assert_eq!(subs.body["value"][0]["state"], "Enabled");
    let tenants = h.get("/tenants", "2022-12-01").await;
    assert_eq!(tenants.status, 200);
    assert_eq!(
        tenants.body["value"][0]["tenantId"],
        amlauth_emulator::DEFAULT_TENANT_ID
    );
    // A token is still required.
    let anon = h
        .raw(
            Method::GET,
            &h.url("/subscriptions?api-version=2022-12-01"),
            None,
            None,
        )
        .await;
    assert_eq!(anon.status, 401);
}

#[tokio::test]
async fn resources_are_listed_with_the_filters_the_cli_sends() {
    let h = seeded().await;
    let filter = "resourceType eq 'Microsoft.ContainerRegistry/registries' and name eq 'ACRC01'";
    let url = format!(
        "{}?api-version=2024-11-01&$filter={}",
        h.url(&format!("/subscriptions/{SUB}/resources")),
        url::form_urlencoded::byte_serialize(filter.as_bytes()).collect::<String>()
    );
    let a = h.raw(Method::GET, &url, Some(&h.token), None).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let items = a.body["value"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", a.body);
    assert_eq!(items[0]["id"], Value::String(acr_path("acrc01")));
    assert_eq!(items[0]["type"], "Microsoft.ContainerRegistry/registries");
    // Unfiltered, in a resource group: the workspace, the registry and the identity.
    let all = h
        .get(&format!("{}/resources", rg_path()), "2024-11-01")
        .await;
    assert_eq!(
        all.body["value"].as_array().unwrap().len(),
        3,
        "{}",
        all.body
    );
    let bad = h
        .raw(
            Method::GET,
            &format!(
                "{}?api-version=2024-11-01&$filter=tagName%20eq%20'x'",
                h.url(&format!("/subscriptions/{SUB}/resources"))
            ),
            Some(&h.token),
            None,
        )
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.code(), "InvalidFilterInQueryString");
}

#[tokio::test]
async fn built_in_role_definitions_are_served_at_any_scope() {
    let h = seeded().await;
    for (name, guid) in [
        ("Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"),
        ("Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c"),
        ("Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7"),
        (
            "User Access Administrator",
            "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        ),
        ("AcrPull", ACR_PULL),
        ("AcrPush", "8311e382-0749-4cb8-b61a-304f252e45ec"),
        (
            "Storage Blob Data Reader",
            "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
        ),
        (
            "Storage Blob Data Contributor",
            "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
        ),
        (
            "Storage File Data Privileged Reader",
            "b8eda974-7b85-4f76-af95-65846b26df6d",
        ),
        (
            "Key Vault Administrator",
            "00482a5a-887f-4fb3-b363-3b7fe8e74483",
        ),
        (
            "Key Vault Secrets User",
            "4633458b-17de-408a-b874-0445c86b69e6",
        ),
        (
            "Managed Identity Operator",
            "f1a07417-d97a-45cb-824c-7a7467783830",
        ),
        (
            "AzureML Data Scientist",
            "f6c7c914-8db3-469d-8ca1-694a8f32e121",
        ),
        (
            "AzureML Compute Operator",
            "e503ece1-11d0-4e8e-8e2c-7a6c3bf38815",
        ),
    ] {
        let by_id = h
            .get(
                &format!(
                    "/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
                ),
                "2022-04-01",
            )
            .await;
        assert_eq!(by_id.status, 200, "{name}: {}", by_id.body);
        assert_eq!(by_id.body["properties"]["roleName"], name);
        assert_eq!(by_id.body["properties"]["type"], "BuiltInRole");
        assert_eq!(
            by_id.body["id"],
            format!(
                "/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
            )
        );
        // By name at a resource scope, as `az role assignment create --scope <registry>` asks.
        let filter: String =
            url::form_urlencoded::byte_serialize(format!("roleName eq '{name}'").as_bytes())
                .collect();
        let url = format!(
            "{}?api-version=2022-05-01-preview&$filter={filter}",
            h.url(&format!(
                "{}/providers/Microsoft.Authorization/roleDefinitions",
                acr_path("acrc01")
            ))
        );
        let listed = h.raw(Method::GET, &url, Some(&h.token), None).await;
        assert_eq!(listed.status, 200, "{name}: {}", listed.body);
        assert_eq!(listed.body["value"].as_array().unwrap().len(), 1, "{name}");
        assert_eq!(listed.body["value"][0]["name"], guid);
    }
    let unknown = h
        .get(
            "/providers/Microsoft.Authorization/roleDefinitions/00000000-0000-0000-0000-000000000000",
            "2022-04-01",
        )
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.code(), "RoleDefinitionDoesNotExist");
}

#[tokio::test]
async fn role_assignments_at_a_resource_scope_and_the_graph_lookup() {
    let h = seeded().await;
    let uai = h.get(&uai_path("uai-c"), MSI).await.body;
    let principal = uai["properties"]["principalId"]
        .as_str()
        .unwrap()
        .to_string();
    let scope = acr_path("acrc01");
    let name = "0b6b7f0e-0000-4000-8000-0000000000a1";
    let path = format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}");
    let role = format!(
        "/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{ACR_PULL}"
    );
    let body = json!({"properties": {"roleDefinitionId": role, "principalId": principal,
                                     "principalType": "ServicePrincipal"}});
    let put = h.put(&path, AUTHZ, body).await;
    assert_eq!(put.status, 201, "{}", put.body);
    assert_eq!(
        put.body["properties"]["scope"],
        Value::String(scope.clone())
    );
    let dup = h
        .put(
            &format!("{scope}/providers/Microsoft.Authorization/roleAssignments/0b6b7f0e-0000-4000-8000-0000000000a2"),
            AUTHZ,
            json!({"properties": {"roleDefinitionId": role, "principalId": principal}}),
        )
        .await;
    assert_eq!(dup.status, 409);
    assert_eq!(dup.code(), "RoleAssignmentExists");
    let list = h
        .get(
            &format!("{scope}/providers/Microsoft.Authorization/roleAssignments?$filter=atScope()"),
            AUTHZ,
        )
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.body["value"].as_array().unwrap().len(), 1);
    assert_eq!(
        list.body["value"][0]["properties"]["principalId"],
        Value::String(principal.clone())
    );

    let graph = h
        .raw(
            Method::POST,
            &h.url("/v1.0/directoryObjects/getByIds"),
            Some(&h.token),
            Some(&json!({"ids": [principal, "99999999-0000-4000-8000-000000000000"]})),
        )
        .await;
    assert_eq!(graph.status, 200, "{}", graph.body);
    let v = graph.body["value"].as_array().unwrap();
    assert_eq!(v.len(), 1, "unknown ids are left out: {}", graph.body);
    assert_eq!(v[0]["displayName"], "uai-c");
    assert_eq!(v[0]["@odata.type"], "#microsoft.graph.servicePrincipal");
    let anon = h
        .raw(
            Method::POST,
            &h.url("/v1.0/directoryObjects/getByIds"),
            None,
            Some(&json!({"ids": []})),
        )
        .await;
    assert_eq!(anon.status, 401);
}

#[tokio::test]
async fn workspace_keys_are_listed_and_resynced() {
    let h = seeded().await;
    let ws = ws_path("ws-c");
    let first = h
        .arm(Method::POST, &format!("{ws}/listKeys"), ML, None)
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    let key = first.body["userStorageKey"].as_str().unwrap().to_string();
    assert!(!key.is_empty());
    assert_eq!(
        first.body["containerRegistryCredentials"]["username"],
        "acrc01"
    );
    assert!(first.body["notebookAccessKeys"]["primaryAccessKey"].is_string());
    let again = h
        .arm(Method::POST, &format!("{ws}/listKeys"), ML, None)
        .await;
    assert_eq!(
        again.body["userStorageKey"], first.body["userStorageKey"],
        "stable"
    );
    let sync = h
        .arm(Method::POST, &format!("{ws}/resyncKeys"), ML, None)
        .await;
    assert_eq!(sync.status, 200, "{}", sync.body);
    let after = h
        .arm(Method::POST, &format!("{ws}/listKeys"), ML, None)
        .await;
    assert_ne!(after.body["userStorageKey"], first.body["userStorageKey"]);
    let missing = h
        .arm(
            Method::POST,
            &format!("{}/listKeys", ws_path("nope")),
            ML,
            None,
        )
        .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn seeded_clusters_take_the_sdk_update_body() {
    let h = seeded().await;
    let path = format!("{}/computes/cpu", ws_path("ws-c"));
    let c = h.get(&path, ML).await;
    assert_eq!(c.body["properties"]["disableLocalAuth"], true, "{}", c.body);
    // What `ml_client.compute.begin_update` sends for a cluster without SSH settings.
    let mut body = c.body.clone();
    body["properties"]["disableLocalAuth"] = json!(true);
    body["properties"]["properties"]["vmPriority"] = json!("Dedicated");
    body["identity"] = json!({"type": "SystemAssigned"});
    let put = h.put(&path, ML, body).await;
    assert!(put.status.is_success(), "{}", put.body);
}

#[tokio::test]
async fn the_api_versions_current_clients_send_are_accepted() {
    let h = seeded().await;
    let acr = h.get(&acr_path("acrc01"), "2026-09-01-preview").await;
    assert_eq!(acr.status, 200, "az acr (azure-cli 2.91): {}", acr.body);
    let ws = h.get(&ws_path("ws-c"), "2024-10-01-preview").await;
    assert_eq!(ws.status, 200, "azure-ai-ml 1.35 workspaces: {}", ws.body);
    let c = h
        .get(
            &format!("{}/computes/cpu", ws_path("ws-c")),
            "2023-08-01-preview",
        )
        .await;
    assert_eq!(c.status, 200, "azure-ai-ml 1.35 computes: {}", c.body);
    let bad = h.get(&acr_path("acrc01"), "2030-01-01").await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.code(), "NoRegisteredProviderFound");
}
