//! The ARM reads behind the posture data source. Reads that fail because of the caller's
//! permissions (or a missing linked resource) become findings, not errors: only the
//! workspace itself must be readable.

use std::collections::BTreeMap;

use futures::future::join_all;

use crate::azure::{ArmClient, AzureError, CallContext, ResourceId};

use super::super::common::{ACR_API_VERSION, ML_API_VERSION, jstr};
use super::facts::{ComputeFacts, DatastoreFacts, Facts, RegistryFacts, WorkspaceFacts};
use super::roles::{Assignment, role_guid};
use super::rules::{Evaluation, ScopeAssignments, evaluate, settle_assignments};

/// Microsoft.Authorization API version for role assignments and definitions.
pub const AUTHORIZATION_API_VERSION: &str = "2022-04-01";

fn why(e: &AzureError) -> String {
    e.to_string()
}

/// Every child of the workspace in collection `kind` (`computes`, `datastores`), as facts.
async fn children<T>(
    client: &ArmClient,
    ws_path: &str,
    kind: &str,
    facts: fn(&serde_json::Value) -> T,
    call: &CallContext,
) -> Result<Vec<T>, String> {
    client
        .list_all(&format!("{ws_path}/{kind}"), ML_API_VERSION, &[], call)
        .await
        .map(|items| items.iter().map(facts).collect())
        .map_err(|e| why(&e))
}

/// Reads the workspace's registry, computes, datastores and the role assignments the rules
/// ask about, and runs the rules. `ws` is the workspace's body, already read.
pub async fn assess(
    client: &ArmClient,
    raw_id: &str,
    id: &ResourceId,
    ws: &serde_json::Value,
    managed_description: Option<&str>,
    call: &CallContext,
) -> Evaluation {
    let workspace = WorkspaceFacts::from_arm(
        raw_id,
        id.subscription(),
        id.resource_group().unwrap_or_default(),
        ws,
    );
    let ws_path = id.to_string();
    let registry = async {
        let raw = workspace.container_registry.as_ref()?;
        let result = match ResourceId::container_registry(raw) {
            Err(e) => Err(format!(
                "the workspace's containerRegistry is not a registry id: {e}"
            )),
            Ok(rid) => match client.get_json(&rid, ACR_API_VERSION, call).await {
                Ok(Some(body)) => Ok(RegistryFacts::from_arm(raw, &body)),
                Ok(None) => Err("the registry does not exist".to_string()),
                Err(e) => Err(why(&e)),
            },
        };
        Some(result)
    };
    let computes = children(client, &ws_path, "computes", ComputeFacts::from_arm, call);
    let datastores = children(
        client,
        &ws_path,
        "datastores",
        DatastoreFacts::from_arm,
        call,
    );
    let (registry, computes, datastores) = tokio::join!(registry, computes, datastores);
    let mut facts = Facts {
        workspace,
        registry,
        computes,
        datastores,
        unreadable: Vec::new(),
    };
    resolve_principals(client, &mut facts, call).await;
    let mut eval = evaluate(&facts);

    let scopes = eval.scopes();
    let mut guids: Vec<String> = eval
        .required
        .iter()
        .map(|r| role_guid(&r.role_definition_id))
        .collect();
    guids.sort();
    guids.dedup();
    let listings = join_all(scopes.iter().map(|s| list_assignments(client, s, call)));
    let names = join_all(
        guids
            .iter()
            .map(|g| role_name(client, id.subscription(), g, call)),
    );
    let (listings, names) = tokio::join!(listings, names);
    // Names as ARM spells them (the table's names stand in when a definition is unreadable).
    for (guid, name) in guids.iter().zip(names) {
        if let Some(name) = name {
            for r in eval
                .required
                .iter_mut()
                .filter(|r| role_guid(&r.role_definition_id) == *guid)
            {
                r.role_definition_name = name.clone();
            }
        }
    }
    let listed: BTreeMap<String, ScopeAssignments> = scopes.into_iter().zip(listings).collect();
    settle_assignments(&mut eval, &listed, managed_description);
    eval
}

/// Managed Identity API version for reading user-assigned identities.
pub const MSI_API_VERSION: &str = "2023-01-31";

/// Fills in the principal ids of user-assigned identities a workspace or compute body
/// lists without one, by reading each identity once; an unreadable one becomes a finding
/// (never a silently skipped requirement).
async fn resolve_principals(client: &ArmClient, facts: &mut Facts, call: &CallContext) {
    let ws = &facts.workspace;
    let mut wanted: Vec<String> = ws
        .user_assigned
        .iter()
        .filter(|(id, p)| {
            p.is_none()
                && ws
                    .primary_user_assigned
                    .as_ref()
                    .is_some_and(|primary| primary.eq_ignore_ascii_case(id))
        })
        .map(|(id, _)| id.clone())
        .collect();
    if let Ok(computes) = &facts.computes {
        wanted.extend(
            computes
                .iter()
                .flat_map(|c| c.unresolved_user_assigned.clone()),
        );
    }
    wanted.sort_by_key(|id| id.to_ascii_lowercase());
    wanted.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    if wanted.is_empty() {
        return;
    }
    let reads = join_all(wanted.iter().map(|uai| async move {
        let id = ResourceId::user_assigned_identity(uai).map_err(|e| e.to_string())?;
        match client.get_json(&id, MSI_API_VERSION, call).await {
            Ok(Some(body)) => jstr(&body, &["properties", "principalId"])
                .ok_or_else(|| "it has no principalId".to_string()),
            Ok(None) => Err("the identity does not exist".to_string()),
            Err(e) => Err(why(&e)),
        }
    }))
    .await;
    let principal = |uai: &str| -> Option<String> {
        wanted
            .iter()
            .zip(&reads)
            .find(|(w, _)| w.eq_ignore_ascii_case(uai))
            .and_then(|(_, r)| r.as_ref().ok().cloned())
    };
    for entry in &mut facts.workspace.user_assigned {
        if entry.1.is_none() {
            entry.1 = principal(&entry.0);
        }
    }
    if let Ok(computes) = &mut facts.computes {
        for c in computes {
            for uai in std::mem::take(&mut c.unresolved_user_assigned) {
                if let Some(p) = principal(&uai) {
                    c.principals
                        .push(ComputeFacts::user_principal(&c.name, &uai, &p));
                }
            }
        }
    }
    for (uai, result) in wanted.iter().zip(reads) {
        if let Err(why) = result {
            facts.unreadable.push((
                uai.clone(),
                format!("the principal id of this user-assigned identity is needed: {why}"),
            ));
        }
    }
}

/// Role assignments that apply at `scope`: `$filter=atScope()` returns those at the scope
/// and at every parent scope (resource group, subscription, management group).
async fn list_assignments(client: &ArmClient, scope: &str, call: &CallContext) -> ScopeAssignments {
    client
        .list_all(
            &format!(
                "{}/providers/Microsoft.Authorization/roleAssignments",
                scope.trim_end_matches('/')
            ),
            AUTHORIZATION_API_VERSION,
            &[("$filter", "atScope()")],
            call,
        )
        .await
        .map(|items| items.iter().filter_map(Assignment::from_arm).collect())
        .map_err(|e| why(&e))
}

/// The role's name from its definition, `None` when it cannot be read.
async fn role_name(
    client: &ArmClient,
    subscription: &str,
    guid: &str,
    call: &CallContext,
) -> Option<String> {
    let path = format!(
        "/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
    );
    match client
        .get_path_json(&path, AUTHORIZATION_API_VERSION, &[], call)
        .await
    {
        Ok(Some(def)) => jstr(&def, &["properties", "roleName"]),
        _ => None,
    }
}
