//! The control API: seed, dump, drift, fault rules and the journal.

mod common;

use std::time::{Duration, Instant};

use common::*;
use reqwest::Method;
use serde_json::{Value, json};

async fn add_fault(h: &Harness, rule: Value) -> String {
    let a = h.control(Method::POST, "/faults", Some(rule)).await;
    assert_eq!(a.status, 201, "{}", a.body);
    a.body["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn seed_short_hand_builds_a_consistent_world() {
    let h = Harness::start().await;
    let seed = json!({
        "clients": [{"clientId": "seeded-app", "clientSecret": "seeded-secret"}],
        "subscriptions": [{
            "id": "22222222-0000-4000-8000-000000000002",
            "resourceGroups": [{
                "name": "rg-seed", "location": "westeurope",
                "identities": [{"name": "uai-seed", "principalId": "5e5e5e5e-0000-4000-8000-000000000001"}],
                "registries": [{"name": "seedacr01", "adminUserEnabled": true}],
                "workspaces": [{
                    "name": "ws-seed",
                    "identity": {"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": ["uai-seed"]},
                    "primaryUserAssignedIdentity": "uai-seed",
                    "containerRegistry": "seedacr01",
                    "systemDatastoresAuthMode": "Identity",
                    "computes": [{"name": "cpu", "maxNodes": 3, "identity": {"userAssignedIdentities": ["uai-seed"]}}],
                    "datastores": [{"name": "blob", "accountName": "seedstore", "containerName": "c", "credentials": {"accountKey": "a2V5"}, "isDefault": true},
                                   {"name": "lake", "type": "AzureDataLakeGen2", "accountName": "seedstore", "filesystem": "fs"}]
                }]
            }],
            "roleAssignments": [{"scope": "/subscriptions/22222222-0000-4000-8000-000000000002/resourceGroups/rg-seed",
                                 "roleDefinitionId": "acdd72a7-3385-48ef-bd42-f606fba81ae7", "principalId": "5e5e5e5e-0000-4000-8000-000000000001"}]
        }]
    });
    let a = h.control(Method::POST, "/seed", Some(seed)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let base =
        "/subscriptions/22222222-0000-4000-8000-000000000002/resourceGroups/rg-seed/providers";
    let ws = h
        .get(
            &format!("{base}/Microsoft.MachineLearningServices/workspaces/ws-seed"),
            ML,
        )
        .await;
    assert_eq!(ws.status, 200, "{}", ws.body);
    assert_eq!(ws.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(ws.body["identity"]["type"], "SystemAssigned,UserAssigned");
    assert_eq!(
        ws.body["properties"]["systemDatastoresAuthMode"],
        "Identity"
    );
    let c = h
        .get(
            &format!("{base}/Microsoft.MachineLearningServices/workspaces/ws-seed/computes/cpu"),
            ML,
        )
        .await;
    assert_eq!(c.body["identity"]["type"], "UserAssigned");
    let d = h.arm(Method::POST, &format!("{base}/Microsoft.MachineLearningServices/workspaces/ws-seed/datastores/blob/listSecrets"), ML, None).await;
    assert_eq!(d.body["key"], "a2V5");
    let creds = h
        .arm(
            Method::POST,
            &format!("{base}/Microsoft.ContainerRegistry/registries/seedacr01/listCredentials"),
            ACR,
            None,
        )
        .await;
    assert_eq!(creds.status, 200);
    let ras = h.get("/subscriptions/22222222-0000-4000-8000-000000000002/providers/Microsoft.Authorization/roleAssignments", AUTHZ).await;
    assert_eq!(ras.body["value"].as_array().unwrap().len(), 1);
    // The seeded client can log in.
    let r = h
        .http
        .post(h.emu.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "seeded-app"),
            ("client_secret", "seeded-secret"),
            ("scope", "https://management.azure.com/.default"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // A bad seed changes nothing.
    let bad = h.control(Method::POST, "/seed", Some(json!({"subscriptions": [{"id": "x", "resourceGroups": [{"name": "r", "workspaces": [{"name": "w", "identity": "SystemAssigned, UserAssigned"}]}]}]}))).await;
    assert_eq!(bad.status, 400);
    let unknown_field = h
        .control(Method::POST, "/seed", Some(json!({"subscription": []})))
        .await;
    assert_eq!(unknown_field.status, 400);
    let state = h.control(Method::GET, "/state", None).await;
    assert!(state.body["subscriptions"].get("x").is_none());
}

#[tokio::test]
async fn out_of_band_changes_create_drift() {
    let h = Harness::start().await;
    let acr = h
        .put(
            &acr_path("driftacr1"),
            ACR,
            json!({"location": "eastus", "sku": {"name": "Basic"}}),
        )
        .await;
    h.poll(&acr.header("azure-asyncoperation").unwrap()).await;
    let id = acr.body["id"].as_str().unwrap();
    let url = format!("/resource?id={}", id);
    let a = h
        .control(
            Method::PATCH,
            &url,
            Some(json!({"properties": {"adminUserEnabled": true}, "tags": {"changed": "outside"}})),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let got = h.get(&acr_path("driftacr1"), ACR).await;
    assert_eq!(got.body["properties"]["adminUserEnabled"], true);
    assert_eq!(got.body["tags"]["changed"], "outside");
    let raw = h.control(Method::GET, &url, None).await;
    assert!(raw.body["private"]["passwords"].is_array());
    assert_eq!(h.control(Method::DELETE, &url, None).await.status, 200);
    assert_eq!(h.get(&acr_path("driftacr1"), ACR).await.status, 404);
    assert_eq!(
        h.control(Method::PATCH, &url, Some(json!({}))).await.status,
        404
    );
}

#[tokio::test]
async fn status_faults_with_retry_after_counts_and_skip() {
    let h = Harness::start().await;
    add_fault(
        &h,
        json!({"method": "GET", "path": "*/userAssignedIdentities/*", "times": 2,
        "action": {"kind": "status", "status": 429, "retryAfter": 7}}),
    )
    .await;
    make_uai(&h, "uai-f").await;
    let first = h.get(&uai_path("uai-f"), MSI).await;
    assert_eq!(first.status, 429);
    assert_eq!(first.header("retry-after").as_deref(), Some("7"));
    assert_eq!(first.code(), "TooManyRequests");
    assert!(first.header("x-ms-request-id").is_some());
    assert_eq!(h.get(&uai_path("uai-f"), MSI).await.status, 429);
    assert_eq!(
        h.get(&uai_path("uai-f"), MSI).await.status,
        200,
        "rule exhausted after 2"
    );

    add_fault(&h, json!({"path": "*/uai-f", "skip": 1, "times": 1, "action": {"kind": "status", "status": 503}})).await;
    assert_eq!(h.get(&uai_path("uai-f"), MSI).await.status, 200);
    let unavailable = h.get(&uai_path("uai-f"), MSI).await;
    assert_eq!(unavailable.status, 503);
    assert_eq!(unavailable.code(), "ServiceUnavailable");

    add_fault(
        &h,
        json!({"path": "*/uai-f", "times": 1, "action": {"kind": "status", "status": 500}}),
    )
    .await;
    assert_eq!(h.get(&uai_path("uai-f"), MSI).await.status, 500);
    add_fault(
        &h,
        json!({"method": "PUT", "path": "*/uai-f", "times": 1, "action": {"kind": "conflict"}}),
    )
    .await;
    let c = h
        .put(&uai_path("uai-f"), MSI, json!({"location": "eastus"}))
        .await;
    assert_eq!(c.status, 409);
    assert_eq!(c.code(), "AnotherOperationInProgress");

    let list = h.control(Method::GET, "/faults", None).await;
    let fired: Vec<u64> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["fired"].as_u64().unwrap())
        .collect();
    assert_eq!(fired, vec![2, 1, 1, 1]);
    assert_eq!(h.control(Method::DELETE, "/faults", None).await.status, 204);
    assert!(
        h.control(Method::GET, "/faults", None)
            .await
            .body
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn dropped_connections_and_delays() {
    let h = Harness::start().await;
    make_uai(&h, "uai-drop").await;
    let id = add_fault(
        &h,
        json!({"path": "*/uai-drop", "times": 1, "action": {"kind": "drop"}}),
    )
    .await;
    let url = h.url(&format!("{}?api-version={MSI}", uai_path("uai-drop")));
    let err = h.http.get(&url).bearer_auth(&h.token).send().await;
    assert!(err.is_err(), "connection must be dropped without an answer");
    assert_eq!(h.get(&uai_path("uai-drop"), MSI).await.status, 200);
    assert_eq!(
        h.control(Method::DELETE, &format!("/faults/{id}"), None)
            .await
            .status,
        204
    );
    assert_eq!(
        h.control(Method::DELETE, &format!("/faults/{id}"), None)
            .await
            .status,
        404
    );

    add_fault(
        &h,
        json!({"path": "*/uai-drop", "times": 1, "action": {"kind": "delay", "ms": 400}}),
    )
    .await;
    let start = Instant::now();
    assert_eq!(h.get(&uai_path("uai-drop"), MSI).await.status, 200);
    assert!(start.elapsed() >= Duration::from_millis(400));
    let journal = h.control(Method::GET, "/journal", None).await;
    assert!(
        journal
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["status"] == 0),
        "dropped request journaled with status 0"
    );
}

#[tokio::test]
async fn failed_async_operations_report_failed_status() {
    let h = Harness::start().await;
    add_fault(
        &h,
        json!({"method": "PUT", "path": "*/registries/failacr1", "times": 1,
        "action": {"kind": "failAsync", "code": "InternalServerError", "message": "disk on fire"}}),
    )
    .await;
    let a = h
        .put(
            &acr_path("failacr1"),
            ACR,
            json!({"location": "eastus", "sku": {"name": "Basic"}}),
        )
        .await;
    assert_eq!(a.status, 201);
    let st = h.poll(&a.header("azure-asyncoperation").unwrap()).await;
    assert_eq!(st.status, 200, "status URL answers 200 even for failures");
    assert_eq!(st.body["status"], "Failed");
    assert_eq!(st.body["error"]["code"], "InternalServerError");
    assert_eq!(
        h.get(&acr_path("failacr1"), ACR).await.body["properties"]["provisioningState"],
        "Failed"
    );

    add_fault(&h, json!({"method": "PATCH", "path": "*/workspaces/*", "times": 1, "action": {"kind": "failAsync", "code": "BadRequest"}})).await;
    make_workspace(&h, "ws-fail", json!({"location": "eastus"})).await;
    let p = h.patch(&ws_path("ws-fail"), ML, json!({"tags": {}})).await;
    let fin = h.poll(&p.header("location").unwrap()).await;
    assert_eq!(fin.status, 400);
    assert_eq!(fin.code(), "BadRequest");
}

#[tokio::test]
async fn not_found_for_first_reads_after_create() {
    let h = Harness::start().await;
    add_fault(
        &h,
        json!({"method": "PUT", "path": "*/userAssignedIdentities/eventual", "times": 1,
        "action": {"kind": "notFoundAfterCreate", "reads": 2}}),
    )
    .await;
    make_uai(&h, "eventual").await;
    assert_eq!(h.get(&uai_path("eventual"), MSI).await.status, 404);
    assert_eq!(h.get(&uai_path("eventual"), MSI).await.status, 404);
    assert_eq!(h.get(&uai_path("eventual"), MSI).await.status, 200);
}

#[tokio::test]
async fn journal_records_and_resets() {
    let h = Harness::start().await;
    assert_eq!(
        h.control(Method::DELETE, "/journal", None).await.status,
        204
    );
    make_uai(&h, "uai-j").await;
    h.get(&uai_path("uai-j"), MSI).await;
    h.get(&uai_path("missing"), "1999-01-01").await;
    let j = h.control(Method::GET, "/journal", None).await;
    let entries = j.body.as_array().unwrap();
    assert_eq!(
        entries.len(),
        3,
        "control calls are not journaled: {entries:?}"
    );
    assert_eq!(entries[0]["method"], "PUT");
    assert_eq!(entries[0]["status"], 201);
    assert_eq!(entries[0]["apiVersion"], MSI);
    assert_eq!(entries[1]["status"], 200);
    assert_eq!(entries[2]["status"], 400);
    assert!(entries[0]["time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(entries[0]["path"], uai_path("uai-j"));
    assert_eq!(h.emu.journal().len(), 3);
    h.control(Method::DELETE, "/journal", None).await;
    assert!(
        h.control(Method::GET, "/journal", None)
            .await
            .body
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn settings_can_change_durations_at_runtime() {
    let h = Harness::start().await;
    let s = h
        .control(
            Method::PATCH,
            "/settings",
            Some(json!({"durations": {"registry": 0}, "retryAfterSecs": 3})),
        )
        .await;
    assert_eq!(s.status, 200, "{}", s.body);
    let a = h
        .put(
            &acr_path("fastacr1"),
            ACR,
            json!({"location": "eastus", "sku": {"name": "Basic"}}),
        )
        .await;
    assert_eq!(a.header("retry-after").as_deref(), Some("3"));
    let st = h
        .raw(
            Method::GET,
            &a.header("azure-asyncoperation").unwrap(),
            Some(&h.token),
            None,
        )
        .await;
    assert_eq!(st.body["status"], "Succeeded");
    let bad = h
        .control(
            Method::PATCH,
            "/settings",
            Some(json!({"durations": {"registry": "slow"}})),
        )
        .await;
    assert_eq!(bad.status, 400);
}
