//! Datastores (synchronous, secrets kept aside) and container registries.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};

fn ds_path(ws: &str, d: &str) -> String {
    format!("{}/datastores/{d}", ws_path(ws))
}

async fn list_secrets(h: &Harness, ws: &str, d: &str) -> Answer {
    h.arm(
        Method::POST,
        &format!("{}/listSecrets", ds_path(ws, d)),
        ML,
        None,
    )
    .await
}

fn blob_key(key: &str) -> Value {
    json!({"properties": {"datastoreType": "AzureBlob", "accountName": "mystorage", "containerName": "data",
        "credentials": {"credentialsType": "AccountKey", "secrets": {"secretsType": "AccountKey", "key": key}}}})
}

#[tokio::test]
async fn datastore_put_is_synchronous_and_never_echoes_secrets() {
    let h = Harness::start().await;
    use_spec_shapes(&h);
    make_workspace(&h, "ws-d", json!({"location": "eastus"})).await;
    let key = "c2VjcmV0LWFjY291bnQta2V5";
    let a = h.put(&ds_path("ws-d", "blob1"), ML, blob_key(key)).await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert!(a.header("azure-asyncoperation").is_none() && a.header("location").is_none());
    assert!(!a.body.to_string().contains(key));
    assert_eq!(
        a.body["properties"]["credentials"]["secrets"],
        json!({"secretsType": "AccountKey"})
    );
    let got = h.get(&ds_path("ws-d", "blob1"), ML).await;
    assert_eq!(got.status, 200);
    assert!(!got.body.to_string().contains(key));
    let secrets = list_secrets(&h, "ws-d", "blob1").await;
    assert_eq!(secrets.status, 200);
    assert_eq!(
        secrets.body,
        json!({"secretsType": "AccountKey", "key": key})
    );

    // Update (full PUT) answers 200; switching to identity access drops the secret.
    let mut none = blob_key(key);
    none["properties"]["credentials"] = json!({"credentialsType": "None"});
    none["properties"]["serviceDataAccessAuthIdentity"] = json!("WorkspaceSystemAssignedIdentity");
    let b = h.put(&ds_path("ws-d", "blob1"), ML, none).await;
    assert_eq!(b.status, 200);
    assert_eq!(
        b.body["properties"]["credentials"],
        json!({"credentialsType": "None"})
    );
    let s = list_secrets(&h, "ws-d", "blob1").await;
    assert_eq!(s.status, 400);

    // Quirk: omit the secrets block entirely.
    let mut st = h.emu.settings();
    st.quirks.omit_datastore_secrets_block = true;
    h.emu.set_settings(st);
    h.put(&ds_path("ws-d", "blob2"), ML, blob_key(key)).await;
    let got = h.get(&ds_path("ws-d", "blob2"), ML).await;
    assert!(
        got.body["properties"]["credentials"]
            .get("secrets")
            .is_none()
    );
}

#[tokio::test]
async fn datastore_validation_rules() {
    let h = Harness::start().await;
    make_workspace(&h, "ws-v", json!({"location": "eastus"})).await;
    let file_none = json!({"properties": {"datastoreType": "AzureFile", "accountName": "acct1", "fileShareName": "s",
        "credentials": {"credentialsType": "None"}}});
    let a = h.put(&ds_path("ws-v", "f"), ML, file_none).await;
    assert_eq!(a.status, 400);
    assert_eq!(a.code(), "UserError");
    for t in ["AzureBlob", "AzureDataLakeGen2"] {
        let mut p = json!({"datastoreType": t, "accountName": "acct1", "credentials": {"credentialsType": "None"}});
        p[if t == "AzureBlob" {
            "containerName"
        } else {
            "filesystem"
        }] = json!("c");
        assert_eq!(
            h.put(
                &ds_path("ws-v", &format!("ok{}", t.len())),
                ML,
                json!({"properties": p})
            )
            .await
            .status,
            201,
            "{t}"
        );
    }
    let gen1 = json!({"properties": {"datastoreType": "AzureDataLakeGen1", "storeName": "store", "credentials": {"credentialsType": "None"}}});
    assert_eq!(h.put(&ds_path("ws-v", "gen1"), ML, gen1).await.status, 201);

    let no_creds = json!({"properties": {"datastoreType": "AzureBlob", "accountName": "acct1", "containerName": "c"}});
    assert_eq!(h.put(&ds_path("ws-v", "x"), ML, no_creds).await.status, 400);
    let mismatch = json!({"properties": {"datastoreType": "AzureBlob", "accountName": "acct1", "containerName": "c",
        "credentials": {"credentialsType": "Sas", "secrets": {"secretsType": "AccountKey", "key": "a2V5"}}}});
    assert_eq!(h.put(&ds_path("ws-v", "x"), ML, mismatch).await.status, 400);

    // Without skipValidation an unverifiable credential is refused; with it, stored.
    let sas = json!({"properties": {"datastoreType": "AzureBlob", "accountName": "acct1", "containerName": "c",
        "credentials": {"credentialsType": "Sas", "secrets": {"secretsType": "Sas", "sasToken": "garbage"}}}});
    assert_eq!(
        h.put(&ds_path("ws-v", "sas"), ML, sas.clone()).await.status,
        400
    );
    let ok = h
        .put(
            &format!("{}?skipValidation=true", ds_path("ws-v", "sas")),
            ML,
            sas,
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    let bad_bool = h
        .put(
            &format!("{}?skipValidation=maybe", ds_path("ws-v", "sas")),
            ML,
            blob_key("a2V5"),
        )
        .await;
    assert_eq!(bad_bool.status, 400);
}

#[tokio::test]
async fn datastore_list_default_and_delete() {
    let h = Harness::start().await;
    make_workspace(&h, "ws-l", json!({"location": "eastus"})).await;
    let mut d1 = blob_key("a2V5");
    d1["properties"]["isDefault"] = json!(true);
    h.put(&ds_path("ws-l", "one"), ML, d1.clone()).await;
    h.put(&ds_path("ws-l", "two"), ML, d1).await;
    let list = h.get(&format!("{}/datastores", ws_path("ws-l")), ML).await;
    let items = list.body["value"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let defaults: Vec<&str> = items
        .iter()
        .filter(|i| i["properties"]["isDefault"] == true)
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        defaults,
        vec!["two"],
        "only the newest default stays default"
    );
    assert!(!list.body.to_string().contains("a2V5"));
    assert_eq!(
        h.arm(Method::DELETE, &ds_path("ws-l", "one"), ML, None)
            .await
            .status,
        200
    );
    assert_eq!(
        h.arm(Method::DELETE, &ds_path("ws-l", "one"), ML, None)
            .await
            .status,
        204
    );
    // datastores api-versions start with the MFE surface.
    let old = h.get(&ds_path("ws-l", "two"), "2021-04-01").await;
    assert_eq!(old.code(), "NoRegisteredProviderFound");
}

#[tokio::test]
async fn registry_lifecycle_matches_arm_patterns() {
    let h = Harness::start().await;
    use_spec_shapes(&h);
    let bad_name = h
        .put(
            &acr_path("a-b"),
            ACR,
            json!({"location": "eastus", "sku": {"name": "Basic"}}),
        )
        .await;
    assert_eq!(bad_name.status, 400);
    let no_sku = h
        .put(&acr_path("myacr1"), ACR, json!({"location": "eastus"}))
        .await;
    assert_eq!(no_sku.status, 400);

    let a = h
        .put(
            &acr_path("myacr1"),
            ACR,
            json!({"location": "eastus", "sku": {"name": "premium"}}),
        )
        .await;
    assert_eq!(a.status, 201);
    assert_eq!(a.body["sku"]["name"], "Premium");
    assert!(a.header("retry-after").is_some());
    let st = h.poll(&a.header("azure-asyncoperation").unwrap()).await;
    assert_eq!(st.body["status"], "Succeeded");

    let cred = h
        .arm(
            Method::POST,
            &format!("{}/listCredentials", acr_path("myacr1")),
            ACR,
            None,
        )
        .await;
    assert_eq!(cred.status, 400);
    assert_eq!(cred.code(), "UnAuthorizedForCredentialOperations");

    let p = h
        .patch(
            &acr_path("myacr1"),
            ACR,
            json!({"properties": {"adminUserEnabled": true}}),
        )
        .await;
    assert_eq!(p.status, 201, "{}", p.body);
    let op = p.header("azure-asyncoperation").unwrap();
    h.poll(&op).await;
    let cred = h
        .arm(
            Method::POST,
            &format!("{}/listCredentials", acr_path("myacr1")),
            ACR,
            None,
        )
        .await;
    assert_eq!(cred.status, 200);
    assert_eq!(cred.body["username"], "myacr1");
    let old_pw = cred.body["passwords"][1]["value"]
        .as_str()
        .unwrap()
        .to_string();
    let regen = h
        .arm(
            Method::POST,
            &format!("{}/regenerateCredential", acr_path("myacr1")),
            ACR,
            Some(json!({"name": "password2"})),
        )
        .await;
    assert_eq!(regen.status, 200);
    assert_ne!(
        regen.body["passwords"][1]["value"].as_str().unwrap(),
        old_pw
    );
    assert_eq!(regen.body["passwords"][0], cred.body["passwords"][0]);
    let bad_regen = h
        .arm(
            Method::POST,
            &format!("{}/regenerateCredential", acr_path("myacr1")),
            ACR,
            Some(json!({"name": "password3"})),
        )
        .await;
    assert_eq!(bad_regen.status, 400);

    let bad_type = h
        .patch(
            &acr_path("myacr1"),
            ACR,
            json!({"properties": {"adminUserEnabled": "yes"}}),
        )
        .await;
    assert_eq!(bad_type.status, 400);

    // Identity on a registry uses the spaced combined spelling.
    let uai = make_uai(&h, "uai-r").await;
    let id = uai["id"].as_str().unwrap();
    let p = h.patch(&acr_path("myacr1"), ACR, json!({"identity": {"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {id: {}}}})).await;
    assert_eq!(p.status, 201, "{}", p.body);
    h.poll(&p.header("azure-asyncoperation").unwrap()).await;
    let got = h.get(&acr_path("MYACR1"), ACR).await;
    assert_eq!(got.body["identity"]["type"], "SystemAssigned, UserAssigned");
    assert_eq!(got.body["properties"]["adminUserEnabled"], true);

    let d = h.arm(Method::DELETE, &acr_path("myacr1"), ACR, None).await;
    assert_eq!(d.status, 202);
    let fin = h.poll(&d.header("location").unwrap()).await;
    assert_eq!(fin.status, 204);
    assert_eq!(
        h.get(&acr_path("myacr1"), ACR).await.code(),
        "ResourceNotFound"
    );
    assert_eq!(
        h.arm(Method::DELETE, &acr_path("myacr1"), ACR, None)
            .await
            .status,
        204
    );
}

/// Reality's shapes (the default): no `secrets` object at all, and create answers `201` with a
/// `Location` that is the datastore's own URL.
#[tokio::test]
async fn datastore_reality_shapes_carry_no_secrets_object() {
    let h = Harness::start().await;
    make_workspace(&h, "ws-r", json!({"location": "eastus"})).await;
    let a = h.put(&ds_path("ws-r", "blob1"), ML, blob_key("a2V5")).await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(
        a.body["properties"]["credentials"],
        json!({"credentialsType": "AccountKey"})
    );
    assert!(a.header("azure-asyncoperation").is_none());
    let loc = a.header("location").expect("Location on create");
    assert_eq!(
        loc,
        format!("{}?api-version={ML}", h.url(&ds_path("ws-r", "blob1")))
    );
    let at_loc = h.poll(&loc).await;
    assert_eq!(at_loc.status, 200);
    assert_eq!(at_loc.body["name"], "blob1");
    let got = h.get(&ds_path("ws-r", "blob1"), ML).await;
    assert_eq!(
        got.body["properties"]["credentials"],
        json!({"credentialsType": "AccountKey"})
    );
    // The secret is still kept: listSecrets returns it.
    let secrets = list_secrets(&h, "ws-r", "blob1").await;
    assert_eq!(secrets.body["key"], "a2V5");
    // An update answers 200 without a Location.
    let b = h.put(&ds_path("ws-r", "blob1"), ML, blob_key("a2V5")).await;
    assert_eq!(b.status, 200);
    assert!(b.header("location").is_none());
}

/// Reality's shapes: the admin PATCH answers `200` at once with the full body; a registry
/// without an identity has no `identity` key; identity types come back in lower camel case;
/// a user-assigned identity's own id says `/resourcegroups/`.
#[tokio::test]
async fn registry_reality_shapes() {
    let h = Harness::start().await;
    let a = h
        .put(
            &acr_path("realacr1"),
            ACR,
            json!({"location": "eastus", "sku": {"name": "Basic"}}),
        )
        .await;
    assert_eq!(a.status, 201);
    assert!(a.body.get("identity").is_none(), "{}", a.body);
    h.poll(&a.header("azure-asyncoperation").unwrap()).await;

    let p = h
        .patch(
            &acr_path("realacr1"),
            ACR,
            json!({"properties": {"adminUserEnabled": true}}),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.header("azure-asyncoperation").is_none() && p.header("location").is_none());
    assert_eq!(p.body["properties"]["adminUserEnabled"], true);
    assert_eq!(p.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(p.body["name"], "realacr1");
    assert!(p.body.get("identity").is_none());
    let got = h.get(&acr_path("realacr1"), ACR).await;
    assert_eq!(got.body["properties"]["adminUserEnabled"], true);
    assert!(got.body.get("identity").is_none());

    let uai = make_uai(&h, "uai-real").await;
    let uai_id = uai["id"].as_str().unwrap().to_string();
    assert!(uai_id.contains("/resourcegroups/rg-test/"), "{uai_id}");
    assert_eq!(h.get(&uai_path("uai-real"), MSI).await.body["id"], uai_id);
    let p = h
        .patch(
            &acr_path("realacr1"),
            ACR,
            json!({"identity": {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {uai_path("uai-real"): {}}}}),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    let got = h.get(&acr_path("realacr1"), ACR).await;
    assert_eq!(got.body["identity"]["type"], "systemAssigned, userAssigned");
    let keys: Vec<&String> = got.body["identity"]["userAssignedIdentities"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(keys.len(), 1);
    assert!(keys[0].contains("/resourcegroups/"), "{keys:?}");

    // A failing PATCH answered synchronously is an error, not a 200.
    let rule = json!({"method": "PATCH", "path": "*/realacr1", "times": 1,
        "action": {"kind": "failAsync", "code": "InternalServerError", "message": "boom"}});
    let f = h.control(Method::POST, "/faults", Some(rule)).await;
    assert!(f.status.is_success(), "{}", f.body);
    let p = h
        .patch(
            &acr_path("realacr1"),
            ACR,
            json!({"properties": {"adminUserEnabled": false}}),
        )
        .await;
    assert_eq!(p.status, 500, "{}", p.body);
    assert_eq!(p.code(), "InternalServerError");

    // The spec's shapes are one switch away.
    use_spec_shapes(&h);
    let got = h.get(&acr_path("realacr1"), ACR).await;
    assert_eq!(got.body["identity"]["type"], "SystemAssigned, UserAssigned");
    assert!(
        h.get(&uai_path("uai-real"), MSI).await.body["id"]
            .as_str()
            .unwrap()
            .contains("/resourceGroups/")
    );
    let p = h
        .patch(
            &acr_path("realacr1"),
            ACR,
            json!({"properties": {"adminUserEnabled": false}}),
        )
        .await;
    assert_eq!(p.status, 201, "{}", p.body);
    assert!(p.header("azure-asyncoperation").is_some());
}
