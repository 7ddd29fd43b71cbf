//! Random request bodies thrown at every write handler: the emulator answers each with a
//! 2xx or an ARM-shaped 4xx, never a 5xx, never a dropped connection, and keeps serving.

mod common;

use std::sync::OnceLock;

use common::*;
use proptest::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};

struct Shared {
    rt: tokio::runtime::Runtime,
    h: Harness,
}

fn shared() -> &'static Shared {
    static S: OnceLock<Shared> = OnceLock::new();
    S.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let h = rt.block_on(async {
            let h = Harness::start().await;
            let mut s = h.emu.settings();
            s.durations = amlauth_emulator::OperationDurations::zero();
            h.emu.set_settings(s);
            make_uai(&h, "fuzz-uai").await;
            make_workspace(&h, "fuzz-ws", json!({"location": "eastus"})).await;
            let a = h
                .put(
                    &acr_path("fuzzacr1"),
                    ACR,
                    json!({"location": "eastus", "sku": {"name": "Basic"}}),
                )
                .await;
            assert_eq!(a.status, 201);
            h
        });
        Shared { rt, h }
    })
}

fn targets() -> Vec<(Method, String, &'static str)> {
    let ws = ws_path("fuzz-ws");
    vec![
        (Method::PUT, ws_path("fuzz-ws2"), ML),
        (Method::PATCH, ws.clone(), ML),
        (Method::PUT, format!("{ws}/computes/fuzzc"), ML),
        (Method::PATCH, format!("{ws}/computes/fuzzc"), ML),
        (Method::PUT, format!("{ws}/datastores/fuzzd"), ML),
        (
            Method::POST,
            format!("{ws}/datastores/fuzzd/listSecrets"),
            ML,
        ),
        (Method::PUT, acr_path("fuzzacr2"), ACR),
        (Method::PATCH, acr_path("fuzzacr1"), ACR),
        (
            Method::POST,
            format!("{}/regenerateCredential", acr_path("fuzzacr1")),
            ACR,
        ),
        (Method::PUT, uai_path("fuzz-uai2"), MSI),
        (Method::PATCH, uai_path("fuzz-uai"), MSI),
        (
            Method::PUT,
            format!(
                "{}/providers/Microsoft.Authorization/roleAssignments/0b6e3c52-5f62-4f3a-9d8e-1c2b3a4d5e6f",
                rg_path()
            ),
            AUTHZ,
        ),
        (
            Method::PUT,
            format!("/subscriptions/{SUB}/resourcegroups/fuzz-rg"),
            RES,
        ),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-zA-Z0-9 ,/._-]{0,20}".prop_map(Value::from),
        prop_oneof![
            Just("SystemAssigned"),
            Just("UserAssigned"),
            Just("SystemAssigned,UserAssigned"),
            Just("None"),
            Just("AccountKey"),
            Just("Sas"),
            Just("AzureBlob"),
            Just("AmlCompute"),
            Just("eastus"),
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let keys = prop_oneof![
            Just("location".to_string()),
            Just("identity".to_string()),
            Just("type".to_string()),
            Just("userAssignedIdentities".to_string()),
            Just("properties".to_string()),
            Just("sku".to_string()),
            Just("name".to_string()),
            Just("tags".to_string()),
            Just("credentials".to_string()),
            Just("secrets".to_string()),
            Just("scaleSettings".to_string()),
            Just("adminUserEnabled".to_string()),
            Just("computeType".to_string()),
            Just("datastoreType".to_string()),
            Just("principalId".to_string()),
            Just("roleDefinitionId".to_string()),
            "[a-z]{1,8}".prop_map(String::from),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(keys, inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn body_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        json_value().prop_map(|v| v.to_string().into_bytes()),
        prop::collection::vec(any::<u8>(), 0..256),
        "[{}\\[\\]\":,a-z0-9 ]{0,64}".prop_map(String::into_bytes),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, .. ProptestConfig::default() })]

    #[test]
    fn random_bodies_get_arm_shaped_answers(idx in 0usize..13, body in body_bytes()) {
        let s = shared();
        let (method, path, api) = targets()[idx].clone();
        let answer = s.rt.block_on(async {
            let url = format!("{}?api-version={api}", s.h.url(&path));
            let resp = s.h.http.request(method.clone(), url).bearer_auth(&s.h.token)
                .header("content-type", "application/json").body(body.clone()).send().await;
            let resp = resp.map_err(|e| format!("transport error: {e}"))?;
            let status = resp.status();
            let text = resp.text().await.map_err(|e| e.to_string())?;
            Ok::<_, String>((status, text))
        });
        let (status, text) = answer.map_err(TestCaseError::fail)?;
        prop_assert!(status.as_u16() < 500, "{method} {path} -> {status}: {text}");
        if status.is_client_error() {
            let v: Value = serde_json::from_str(&text).map_err(|e| TestCaseError::fail(format!("non-JSON error body {text:?}: {e}")))?;
            prop_assert!(v["error"]["code"].is_string(), "error body without code: {text}");
        }
        // Still alive.
        let health = s.rt.block_on(async { s.h.http.get(s.h.url("/_emulator/health")).send().await.map(|r| r.status()) });
        prop_assert_eq!(health.map_err(|e| TestCaseError::fail(e.to_string()))?, reqwest::StatusCode::OK);
    }
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("subscriptions".to_string()),
        Just(SUB.to_string()),
        Just("resourceGroups".to_string()),
        Just(RG.to_string()),
        Just("providers".to_string()),
        Just("Microsoft.MachineLearningServices".to_string()),
        Just("Microsoft.ContainerRegistry".to_string()),
        Just("Microsoft.ManagedIdentity".to_string()),
        Just("Microsoft.Authorization".to_string()),
        Just("workspaces".to_string()),
        Just("fuzz-ws".to_string()),
        Just("computes".to_string()),
        Just("datastores".to_string()),
        Just("registries".to_string()),
        Just("fuzzacr1".to_string()),
        Just("userAssignedIdentities".to_string()),
        Just("roleAssignments".to_string()),
        Just("locations".to_string()),
        Just("operationStatuses".to_string()),
        Just("operationResults".to_string()),
        Just("listCredentials".to_string()),
        Just("listSecrets".to_string()),
        Just("oauth2".to_string()),
        Just("msi".to_string()),
        Just("token".to_string()),
        "[a-zA-Z0-9%._~-]{0,12}",
    ]
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::GET),
        Just(Method::PUT),
        Just(Method::PATCH),
        Just(Method::POST),
        Just(Method::DELETE),
        Just(Method::HEAD),
        Just(Method::OPTIONS),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn random_paths_methods_and_queries_never_break_the_server(
        m in method(),
        segs in prop::collection::vec(segment(), 0..12),
        api in prop_oneof![Just(ML.to_string()), Just(ACR.to_string()), Just(MSI.to_string()), Just(RES.to_string()), "[0-9a-z-]{0,12}"],
        extra in "[a-zA-Z$=&%0-9]{0,16}",
        body in body_bytes(),
    ) {
        let s = shared();
        let path = format!("/{}", segs.join("/"));
        let answer = s.rt.block_on(async {
            let url = format!("{}?api-version={api}&{extra}", s.h.url(&path));
            let resp = s.h.http.request(m.clone(), url).bearer_auth(&s.h.token).body(body.clone()).send().await
                .map_err(|e| format!("transport error: {e}"))?;
            let status = resp.status();
            let text = resp.text().await.map_err(|e| e.to_string())?;
            Ok::<_, String>((status, text))
        });
        let (status, text) = answer.map_err(TestCaseError::fail)?;
        prop_assert!(status.as_u16() < 500, "{m} {path} -> {status}: {text}");
        if status.is_client_error() && m != Method::HEAD {
            let v: Value = serde_json::from_str(&text).map_err(|e| TestCaseError::fail(format!("non-JSON error {text:?}: {e}")))?;
            let shaped = v["error"]["code"].is_string() || v["error"].is_string() || v["message"].is_string();
            prop_assert!(shaped, "unshaped error body: {text}");
        }
    }
}
