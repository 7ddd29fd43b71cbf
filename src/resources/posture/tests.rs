//! Unit tests of the posture rules (pure: facts in, findings and requirements out). The docs
//! page's tables are generated from the same tables by `amlauth-docs` (tests/docs_generated.rs).

use std::collections::BTreeMap;

use serde_json::json;

use super::facts::{ComputeFacts, DatastoreFacts, Facts, RegistryFacts, WorkspaceFacts};
use super::findings::{self, Finding};
use super::roles::{ACR_PULL, Assignment, BLOB_DATA_READER, CONTRIBUTOR, role_guid};
use super::rules::{Evaluation, ScopeAssignments, evaluate, settle_assignments};

const SUB: &str = "00000000-0000-0000-0000-000000000001";
const RG: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg";
const WS_SAI: &str = "aaaaaaaa-0000-0000-0000-000000000001";
const UAI_P: &str = "aaaaaaaa-0000-0000-0000-000000000002";
const COMPUTE_SAI: &str = "aaaaaaaa-0000-0000-0000-000000000003";

fn ws_id() -> String {
    format!("{RG}/providers/Microsoft.MachineLearningServices/workspaces/ws")
}
fn acr_id() -> String {
    format!("{RG}/providers/Microsoft.ContainerRegistry/registries/acr")
}
fn sa_id() -> String {
    format!("{RG}/providers/Microsoft.Storage/storageAccounts/st")
}
fn uai_id() -> String {
    format!("{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai")
}

fn workspace(props: serde_json::Value, identity: serde_json::Value) -> WorkspaceFacts {
    let mut p = json!({
        "storageAccount": sa_id(),
        "keyVault": format!("{RG}/providers/Microsoft.KeyVault/vaults/kv"),
        "containerRegistry": acr_id(),
    });
    crate::azure::ResourceId::parse(&ws_id()).expect("id");
    if let (Some(base), Some(extra)) = (p.as_object_mut(), props.as_object()) {
        for (k, v) in extra {
            base.insert(k.clone(), v.clone());
        }
    }
    WorkspaceFacts::from_arm(
        &ws_id(),
        SUB,
        "rg",
        &json!({"identity": identity, "properties": p}),
    )
}

fn compute(name: &str, identity: serde_json::Value) -> ComputeFacts {
    ComputeFacts::from_arm(&json!({
        "id": format!("{}/computes/{name}", ws_id()),
        "name": name,
        "identity": identity,
        "properties": {"computeType": "AmlCompute"},
    }))
}

fn datastore(name: &str, kind: &str, creds: &str, extra: serde_json::Value) -> DatastoreFacts {
    let mut props = json!({
        "datastoreType": kind, "accountName": "st",
        "credentials": {"credentialsType": creds},
    });
    if let (Some(base), Some(extra)) = (props.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            base.insert(k.clone(), v.clone());
        }
    }
    DatastoreFacts::from_arm(&json!({
        "id": format!("{}/datastores/{name}", ws_id()),
        "name": name,
        "properties": props,
    }))
}

/// The identity-based (no credentials) blob datastore `blob`, whose data access by the Azure ML
/// service uses the workspace identity `service`.
fn identity_blob(service: &str) -> DatastoreFacts {
    datastore(
        "blob",
        "AzureBlob",
        "None",
        json!({ "serviceDataAccessAuthIdentity": service }),
    )
}

fn registry(admin: bool, public: &str) -> RegistryFacts {
    RegistryFacts::from_arm(
        &acr_id(),
        &json!({"properties": {"adminUserEnabled": admin, "publicNetworkAccess": public}}),
    )
}

fn codes(e: &Evaluation) -> Vec<&str> {
    e.findings.iter().map(|f| f.code.as_str()).collect()
}

/// Every scope listed with `assignments`.
fn listed_with(e: &Evaluation, assignments: Vec<Assignment>) -> BTreeMap<String, ScopeAssignments> {
    e.scopes()
        .into_iter()
        .map(|s| (s, Ok(assignments.clone())))
        .collect()
}

fn grant_all(e: &Evaluation) -> Vec<Assignment> {
    e.required
        .iter()
        .map(|r| Assignment {
            scope: r.scope.to_ascii_uppercase(),
            principal_id: r.principal_id.to_ascii_uppercase(),
            role_guid: role_guid(&r.role_definition_id),
            description: None,
        })
        .collect()
}

fn insecure() -> Facts {
    Facts {
        workspace: workspace(
            json!({}),
            json!({"type": "SystemAssigned", "principalId": WS_SAI}),
        ),
        registry: Some(Ok(registry(true, "Enabled"))),
        computes: Ok(vec![compute("cluster", json!({"type": "None"}))]),
        datastores: Ok(vec![
            datastore("blob", "AzureBlob", "AccountKey", json!({})),
            // Azure Files cannot use identity: stored keys there are no finding.
            datastore("files", "AzureFile", "AccountKey", json!({})),
            // The system datastores are the workspace setting's business.
            datastore("workspaceblobstore", "AzureBlob", "AccountKey", json!({})),
        ]),
        unreadable: vec![],
    }
}

fn fixed() -> Facts {
    Facts {
        workspace: workspace(
            json!({"systemDatastoresAuthMode": "identity"}),
            json!({"type": "SystemAssigned", "principalId": WS_SAI}),
        ),
        registry: Some(Ok(registry(false, "Enabled"))),
        computes: Ok(vec![compute(
            "cluster",
            json!({"type": "SystemAssigned", "principalId": COMPUTE_SAI}),
        )]),
        datastores: Ok(vec![
            identity_blob("WorkspaceSystemAssignedIdentity"),
            datastore("files", "AzureFile", "AccountKey", json!({})),
        ]),
        unreadable: vec![],
    }
}

#[test]
fn insecure_setup_yields_the_documented_findings_and_no_requirements() {
    let mut e = evaluate(&insecure());
    settle_assignments(&mut e, &BTreeMap::new(), None);
    assert_eq!(
        codes(&e),
        vec![
            "acr_admin_enabled",
            "datastore_uses_stored_credentials",
            "compute_without_identity",
            "system_datastores_use_access_key",
        ]
    );
    assert!(e.findings[1].resource_id.ends_with("/datastores/blob"));
    assert!(e.findings.iter().all(|f| !f.remediation.is_empty()));
    // Admin on and no identity anywhere: nothing to grant yet.
    assert!(e.required.is_empty(), "{:?}", e.required);
}

#[test]
fn fixed_setup_requires_acrpull_and_blob_reader_then_is_clean_once_granted() {
    let mut e = evaluate(&fixed());
    assert!(codes(&e).is_empty(), "{:?}", e.findings);
    let got: Vec<(String, &str, &str)> = e
        .required
        .iter()
        .map(|r| {
            (
                role_guid(&r.role_definition_id),
                r.principal_id.as_str(),
                r.scope.as_str(),
            )
        })
        .collect();
    let sa = sa_id();
    let acr = acr_id();
    assert_eq!(
        got,
        vec![
            (ACR_PULL.to_string(), COMPUTE_SAI, acr.as_str()),
            (BLOB_DATA_READER.to_string(), WS_SAI, sa.as_str()),
            (BLOB_DATA_READER.to_string(), COMPUTE_SAI, sa.as_str()),
        ]
    );
    assert!(e.required[0].role_definition_id.starts_with(&format!(
        "/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/"
    )));

    // Nothing assigned: one missing_role_assignment per requirement.
    let mut none = evaluate(&fixed());
    let listed = listed_with(&none, vec![]);
    settle_assignments(&mut none, &listed, None);
    assert_eq!(codes(&none), vec!["missing_role_assignment"; 3]);
    assert!(none.required.iter().all(|r| !r.present));

    // All granted (spelled in another case): clean.
    let listed = listed_with(&e, grant_all(&e));
    settle_assignments(&mut e, &listed, None);
    assert!(e.findings.is_empty(), "{:?}", e.findings);
    assert!(e.required.iter().all(|r| r.present && r.granted));
}

#[test]
fn an_unreadable_scope_is_a_finding_not_a_pass() {
    let mut e = evaluate(&fixed());
    let mut listed = listed_with(&e, grant_all(&e));
    listed.insert(acr_id(), Err("403 AuthorizationFailed".into()));
    settle_assignments(&mut e, &listed, None);
    assert_eq!(codes(&e), vec!["cannot_read_role_assignments"]);
    assert_eq!(e.findings[0].resource_id, acr_id());
    assert!(e.findings[0].message.contains("403"));
    let acr = e
        .required
        .iter()
        .find(|r| r.scope == acr_id())
        .expect("acr");
    assert!(!acr.present, "an unreadable scope never counts as present");
}

#[test]
fn private_registry_without_admin_needs_an_existing_image_build_compute() {
    let mut f = fixed();
    f.registry = Some(Ok(registry(false, "Disabled")));
    assert_eq!(codes(&evaluate(&f)), vec!["image_build_compute_missing"]);
    f.workspace.image_build_compute = Some("CLUSTER".into());
    assert!(codes(&evaluate(&f)).is_empty());
    f.workspace.image_build_compute = Some("gone".into());
    assert_eq!(codes(&evaluate(&f)), vec!["image_build_compute_not_found"]);
    // Public registry: no image build compute needed.
    f.registry = Some(Ok(registry(false, "Enabled")));
    f.workspace.image_build_compute = None;
    assert!(codes(&evaluate(&f)).is_empty());
}

#[test]
fn user_assigned_workspace_identity_needs_a_primary_and_the_article_roles() {
    let ident = |primary: bool| {
        let mut props = json!({"systemDatastoresAuthMode": "Identity"});
        if primary {
            props["primaryUserAssignedIdentity"] = json!(uai_id().to_ascii_lowercase());
        }
        workspace(
            props,
            json!({"type": "UserAssigned", "userAssignedIdentities": {uai_id(): {"principalId": UAI_P}}}),
        )
    };
    let mut f = fixed();
    f.datastores = Ok(vec![]);
    f.workspace = ident(false);
    assert_eq!(
        codes(&evaluate(&f)),
        vec!["user_assigned_identity_without_primary"]
    );
    f.workspace = ident(true);
    let e = evaluate(&f);
    assert!(codes(&e).is_empty(), "{:?}", e.findings);
    let contributor: Vec<&str> = e
        .required
        .iter()
        .filter(|r| role_guid(&r.role_definition_id) == CONTRIBUTOR)
        .map(|r| {
            assert_eq!(r.principal_id, UAI_P);
            assert_eq!(r.principal_kind, "workspace_user_assigned_identity");
            r.scope.rsplit('/').next().unwrap_or_default()
        })
        .collect();
    // Ordered by scope.
    assert_eq!(contributor, vec!["acr", "kv", "ws", "st"]);
}

#[test]
fn datastore_identity_rules() {
    let mut f = fixed();
    // The datastore names the workspace's user-assigned identity, which it lacks; an Azure
    // Files datastore cannot use identity at all.
    f.datastores = Ok(vec![
        identity_blob("WorkspaceUserAssignedIdentity"),
        datastore("files", "AzureFile", "None", json!({})),
        // A system file datastore without credentials is the workspace setting's business.
        datastore("workspacefilestore", "AzureFile", "None", json!({})),
        datastore("lake", "AzureDataLakeGen2", "Sas", json!({})),
        // Another account, in another resource group.
        datastore(
            "other",
            "AzureBlob",
            "None",
            json!({"resourceGroup": "rg-data"}),
        ),
    ]);
    let e = evaluate(&f);
    assert_eq!(
        codes(&e),
        vec![
            "datastore_uses_stored_credentials",
            "datastore_identity_unsupported",
            "datastore_service_identity_missing",
        ]
    );
    assert!(e.required.iter().any(|r| r.scope
        == format!("/subscriptions/{SUB}/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/st")));
}

#[test]
fn unreadable_parts_are_findings() {
    let mut f = fixed();
    f.registry = Some(Err("403".into()));
    f.computes = Err("403".into());
    f.datastores = Err("403".into());
    f.unreadable = vec![(uai_id(), "403".into())];
    let e = evaluate(&f);
    assert_eq!(codes(&e), vec!["cannot_read_resource"; 4]);
}

#[test]
fn requirements_for_the_same_target_merge_their_reasons() {
    let mut f = fixed();
    f.datastores = Ok(vec![
        datastore("a", "AzureBlob", "None", json!({})),
        datastore("b", "AzureBlob", "None", json!({})),
    ]);
    let e = evaluate(&f);
    let readers: Vec<_> = e
        .required
        .iter()
        .filter(|r| role_guid(&r.role_definition_id) == BLOB_DATA_READER)
        .collect();
    assert_eq!(readers.len(), 1);
    assert!(readers[0].reason.contains("datastore a") && readers[0].reason.contains("datastore b"));
}

#[test]
fn secure_means_no_high_finding() {
    let medium = Finding::new(findings::Code::ComputeWithoutIdentity, "x", "m");
    assert!(!medium.is_high());
    assert!(Finding::new(findings::Code::AcrAdminEnabled, "x", "m").is_high());
}

#[test]
fn a_user_assigned_compute_identity_without_principal_is_resolved_not_dropped() {
    let c = compute(
        "gpu",
        json!({"type": "UserAssigned", "userAssignedIdentities": {uai_id(): {}}}),
    );
    assert!(c.principals.is_empty());
    assert_eq!(c.unresolved_user_assigned, vec![uai_id()]);
    let mut f = fixed();
    f.computes = Ok(vec![c]);
    // Not "without identity": it has one, only its principal id is still to be read.
    assert!(!codes(&evaluate(&f)).contains(&"compute_without_identity"));
}
