//! User-assigned identities, role assignments, resource groups and ARM conventions.

mod common;

use common::*;
use reqwest::Method;
use serde_json::json;

const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
const ACR_PULL: &str = "7f951dda-4ed3-4680-a7ca-43fe172d538d";

fn role_def(role: &str) -> String {
    format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{role}")
}

fn ra_path(scope: &str, name: &str) -> String {
    format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}")
}

#[tokio::test]
async fn identities_get_generated_ids_and_keep_them() {
    let h = Harness::start().await;
    let a = make_uai(&h, "uai-1").await;
    assert_eq!(
        a["type"],
        "Microsoft.ManagedIdentity/userAssignedIdentities"
    );
    assert_eq!(a["properties"]["tenantId"], h.emu.tenant_id());
    let again = h
        .put(
            &uai_path("uai-1"),
            MSI,
            json!({"location": "eastus", "tags": {"k": "v"}}),
        )
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(
        again.body["properties"]["principalId"],
        a["properties"]["principalId"]
    );
    assert_eq!(
        again.body["properties"]["clientId"],
        a["properties"]["clientId"]
    );
    let list = h
        .get(
            &format!(
                "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities",
                rg_path()
            ),
            MSI,
        )
        .await;
    assert_eq!(list.body["value"].as_array().unwrap().len(), 1);
    assert_eq!(
        h.arm(Method::DELETE, &uai_path("uai-1"), MSI, None)
            .await
            .status,
        200
    );
    assert_eq!(h.get(&uai_path("uai-1"), MSI).await.status, 404);
    assert_eq!(
        h.arm(Method::DELETE, &uai_path("uai-1"), MSI, None)
            .await
            .status,
        204
    );
}

#[tokio::test]
async fn role_assignments_create_get_list_and_reject_duplicates() {
    let h = Harness::start().await;
    let uai = make_uai(&h, "uai-ra").await;
    let principal = uai["properties"]["principalId"].as_str().unwrap();
    let acr = h
        .put(
            &acr_path("raacr1"),
            ACR,
            json!({"location": "eastus", "sku": {"name": "Basic"}}),
        )
        .await;
    assert_eq!(acr.status, 201);
    let scope = acr_path("raacr1");
    let name = "0b6e3c52-5f62-4f3a-9d8e-1c2b3a4d5e6f";
    let body = json!({"properties": {"roleDefinitionId": role_def(ACR_PULL), "principalId": principal, "principalType": "ServicePrincipal"}});
    let a = h.put(&ra_path(&scope, name), AUTHZ, body.clone()).await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.body["properties"]["scope"], scope);
    assert_eq!(a.body["type"], "Microsoft.Authorization/roleAssignments");
    assert_eq!(
        h.get(&ra_path(&scope, name), AUTHZ).await.body["properties"]["principalId"],
        principal
    );

    let dup = h
        .put(
            &ra_path(&scope, "9b6e3c52-5f62-4f3a-9d8e-1c2b3a4d5e6f"),
            AUTHZ,
            body.clone(),
        )
        .await;
    assert_eq!(dup.status, 409);
    assert_eq!(dup.code(), "RoleAssignmentExists");

    let rg_level = h.put(&ra_path(&rg_path(), "1b6e3c52-5f62-4f3a-9d8e-1c2b3a4d5e6f"), AUTHZ,
        json!({"properties": {"roleDefinitionId": role_def(CONTRIBUTOR), "principalId": principal}})).await;
    assert_eq!(rg_level.status, 201);

    let at_scope = h
        .get(
            &format!(
                "{}/providers/Microsoft.Authorization/roleAssignments?$filter=atScope()",
                scope
            ),
            AUTHZ,
        )
        .await;
    assert_eq!(
        at_scope.body["value"].as_array().unwrap().len(),
        2,
        "resource and inherited RG assignment"
    );
    let at_rg = h
        .get(
            &format!(
                "{}/providers/Microsoft.Authorization/roleAssignments?$filter=atScope()",
                rg_path()
            ),
            AUTHZ,
        )
        .await;
    assert_eq!(at_rg.body["value"].as_array().unwrap().len(), 1);
    let below = h
        .get(
            &format!(
                "{}/providers/Microsoft.Authorization/roleAssignments",
                rg_path()
            ),
            AUTHZ,
        )
        .await;
    assert_eq!(below.body["value"].as_array().unwrap().len(), 2);
    let by_principal = h.get(&format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments?$filter=principalId eq '{principal}'"), AUTHZ).await;
    assert_eq!(by_principal.body["value"].as_array().unwrap().len(), 2);

    let unknown = h.put(&ra_path(&scope, "2b6e3c52-5f62-4f3a-9d8e-1c2b3a4d5e6f"), AUTHZ,
        json!({"properties": {"roleDefinitionId": role_def(CONTRIBUTOR), "principalId": "3b6e3c52-5f62-4f3a-9d8e-1c2b3a4d5e6f"}})).await;
    assert_eq!(unknown.code(), "PrincipalNotFound");
    let bad_name = h
        .put(&ra_path(&scope, "not-a-guid"), AUTHZ, body.clone())
        .await;
    assert_eq!(bad_name.code(), "InvalidRoleAssignmentId");
    let bad_role = h
        .put(
            &ra_path(&scope, "4b6e3c52-5f62-4f3a-9d8e-1c2b3a4d5e6f"),
            AUTHZ,
            json!({"properties": {"roleDefinitionId": "Contributor", "principalId": principal}}),
        )
        .await;
    assert_eq!(bad_role.status, 400);

    assert_eq!(
        h.arm(Method::DELETE, &ra_path(&scope, name), AUTHZ, None)
            .await
            .status,
        200
    );
    assert_eq!(
        h.get(&ra_path(&scope, name), AUTHZ).await.code(),
        "RoleAssignmentNotFound"
    );
}

#[tokio::test]
async fn resource_group_not_found_differs_from_resource_not_found() {
    let h = Harness::start().await;
    let in_missing_rg = h.get(&format!("/subscriptions/{SUB}/resourceGroups/nope/providers/Microsoft.ContainerRegistry/registries/abcde"), ACR).await;
    assert_eq!(in_missing_rg.status, 404);
    assert_eq!(in_missing_rg.code(), "ResourceGroupNotFound");
    let missing_res = h.get(&acr_path("abcde"), ACR).await;
    assert_eq!(missing_res.status, 404);
    assert_eq!(missing_res.code(), "ResourceNotFound");
    let unknown_sub = h
        .get(
            "/subscriptions/99999999-0000-0000-0000-000000000000/resourceGroups/x",
            RES,
        )
        .await;
    assert_eq!(unknown_sub.code(), "SubscriptionNotFound");
}

#[tokio::test]
async fn resource_groups_create_check_and_delete_everything_inside() {
    let h = Harness::start().await;
    let p = format!("/subscriptions/{SUB}/resourcegroups/rg-two");
    assert_eq!(h.put(&p, RES, json!({})).await.code(), "LocationRequired");
    assert_eq!(
        h.put(&p, RES, json!({"location": "westus"})).await.status,
        201
    );
    assert_eq!(
        h.put(&p, RES, json!({"location": "westus", "tags": {"a": "1"}}))
            .await
            .status,
        200
    );
    assert_eq!(
        h.put(&p, RES, json!({"location": "eastus"})).await.code(),
        "InvalidResourceGroupLocation"
    );
    assert_eq!(h.arm(Method::HEAD, &p, RES, None).await.status, 204);
    let uai = h.put(&format!("/subscriptions/{SUB}/resourceGroups/RG-TWO/providers/Microsoft.ManagedIdentity/userAssignedIdentities/inside"), MSI, json!({"location": "westus"})).await;
    assert_eq!(uai.status, 201);
    assert!(
        uai.body["id"]
            .as_str()
            .unwrap()
            .contains("/resourcegroups/rg-two/"),
        "RG name keeps its stored casing (the segment is lower-cased, as Azure answers)"
    );
    let d = h.arm(Method::DELETE, &p, RES, None).await;
    assert_eq!(d.status, 202);
    h.poll(&d.header("location").unwrap()).await;
    assert_eq!(h.arm(Method::HEAD, &p, RES, None).await.status, 404);
    let gone = h.get(&format!("/subscriptions/{SUB}/resourceGroups/rg-two/providers/Microsoft.ManagedIdentity/userAssignedIdentities/inside"), MSI).await;
    assert_eq!(gone.code(), "ResourceGroupNotFound");
}

#[tokio::test]
async fn api_version_is_required_and_checked_like_arm() {
    let h = Harness::start().await;
    let none = h
        .raw(
            Method::GET,
            &h.url(&acr_path("abcde")),
            Some(&h.token),
            None,
        )
        .await;
    assert_eq!(none.status, 400);
    assert_eq!(none.code(), "MissingApiVersionParameter");
    let rp = h.get(&acr_path("abcde"), "2030-01-01").await;
    assert_eq!(rp.status, 400);
    assert_eq!(rp.code(), "NoRegisteredProviderFound");
    let msg = rp.body["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("location 'eastus'") && msg.contains("2025-11-01"),
        "{msg}"
    );
    let arm = h.get(&rg_path(), "2030-01-01").await;
    assert_eq!(arm.code(), "InvalidApiVersionParameter");
    assert_eq!(
        h.get(&uai_path("x"), "2023-01-31").await.status,
        404,
        "a served version passes"
    );
    assert_eq!(h.get(&ws_path("xyz"), "2025-12-01").await.status, 404);
}

#[tokio::test]
async fn request_ids_bad_json_oversized_bodies_and_case_insensitive_ids() {
    let h = Harness::start().await;
    let resp = h
        .http
        .get(h.url(&format!("{}?api-version={RES}", rg_path())))
        .bearer_auth(&h.token)
        .header("x-ms-correlation-request-id", "corr-123")
        .header("x-ms-client-request-id", "client-456")
        .send()
        .await
        .unwrap();
    assert!(uuid::Uuid::parse_str(resp.headers()["x-ms-request-id"].to_str().unwrap()).is_ok());
    assert_eq!(resp.headers()["x-ms-correlation-request-id"], "corr-123");
    assert_eq!(resp.headers()["x-ms-client-request-id"], "client-456");

    let bad = h
        .http
        .put(h.url(&format!("{}?api-version={MSI}", uai_path("uai1"))))
        .bearer_auth(&h.token)
        .header("content-type", "application/json")
        .body("{\"location\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let v: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(v["error"]["code"], "InvalidRequestContent");

    let huge = "x".repeat(5 * 1024 * 1024);
    let big = h
        .http
        .put(h.url(&format!("{}?api-version={MSI}", uai_path("uai1"))))
        .bearer_auth(&h.token)
        .body(format!("{{\"location\":\"{huge}\"}}"))
        .send()
        .await;
    match big {
        Ok(r) => assert_eq!(r.status(), 413),
        Err(e) => panic!("expected a 413 answer, got {e}"),
    }

    make_uai(&h, "CaseMix").await;
    let lower = h.get(&format!("/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/rg-TEST/providers/microsoft.managedidentity/USERASSIGNEDIDENTITIES/casemix"), MSI).await;
    assert_eq!(lower.status, 200);
    assert_eq!(lower.body["name"], "CaseMix");
}

#[tokio::test]
async fn provider_registrations_list_the_served_api_versions() {
    let h = Harness::start().await;
    let ml = h
        .get(
            &format!("/subscriptions/{SUB}/providers/microsoft.machinelearningservices"),
            RES,
        )
        .await;
    assert_eq!(ml.status, 200);
    assert_eq!(ml.body["namespace"], "Microsoft.MachineLearningServices");
    assert_eq!(ml.body["registrationState"], "Registered");
    let ws = ml.body["resourceTypes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["resourceType"] == "workspaces")
        .unwrap();
    let versions: Vec<&str> = ws["apiVersions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(versions[0], "2025-12-01", "newest first");
    assert!(versions.contains(&ML));
    // Every listed version is accepted, an unlisted one is not.
    for v in &versions[..3] {
        assert_eq!(
            h.get(&ws_path("nope"), v).await.code(),
            "ResourceNotFound",
            "{v}"
        );
    }
    let all = h.get(&format!("/subscriptions/{SUB}/providers"), RES).await;
    assert_eq!(all.body["value"].as_array().unwrap().len(), 4);
    let bad = h
        .get(
            &format!("/subscriptions/{SUB}/providers/Microsoft.Nope"),
            RES,
        )
        .await;
    assert_eq!(bad.code(), "InvalidResourceNamespace");
}

#[tokio::test]
async fn head_checks_existence_of_any_resource() {
    let h = Harness::start().await;
    make_uai(&h, "uai-head").await;
    let yes = h.arm(Method::HEAD, &uai_path("uai-head"), MSI, None).await;
    assert_eq!(yes.status, 204);
    assert_eq!(yes.body, serde_json::Value::Null);
    assert_eq!(
        h.arm(Method::HEAD, &uai_path("uai-none"), MSI, None)
            .await
            .status,
        404
    );
    assert_eq!(
        h.arm(Method::HEAD, &ws_path("ws-none"), ML, None)
            .await
            .status,
        404
    );
}
