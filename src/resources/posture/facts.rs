//! What the posture rules look at, parsed from ARM's JSON (workspace, registry, computes,
//! datastores). Pure data: the reads are in `read.rs`, the rules in `rules.rs`.

use serde_json::Value as Json;

use super::super::common::{jget, jstr};
use super::super::identity::{RemoteIdentity, has_system, has_user};

/// A managed identity principal that may need roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub id: String,
    /// e.g. `compute_system_assigned_identity` (exported as `principal_kind`).
    pub kind: &'static str,
    /// Whose identity it is, for messages ("compute cluster-a").
    pub owner: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkspaceFacts {
    /// The id as the user wrote it.
    pub id: String,
    pub subscription: String,
    pub resource_group: String,
    pub identity_type: String,
    pub system_principal: Option<String>,
    /// Attached user-assigned identities: ARM id and principal id.
    pub user_assigned: Vec<(String, Option<String>)>,
    pub primary_user_assigned: Option<String>,
    pub system_datastores_auth_mode: Option<String>,
    pub storage_account: Option<String>,
    pub key_vault: Option<String>,
    pub application_insights: Option<String>,
    pub container_registry: Option<String>,
    pub image_build_compute: Option<String>,
}

impl WorkspaceFacts {
    pub fn from_arm(id: &str, subscription: &str, resource_group: &str, ws: &Json) -> Self {
        let identity = RemoteIdentity::from_arm(ws);
        let prop = |k: &str| jstr(ws, &["properties", k]).filter(|s| !s.trim().is_empty());
        WorkspaceFacts {
            id: id.to_string(),
            subscription: subscription.to_string(),
            resource_group: resource_group.to_string(),
            system_principal: if has_system(&identity.type_) {
                identity.principal_id.clone()
            } else {
                None
            },
            user_assigned: if has_user(&identity.type_) {
                identity
                    .user_assigned
                    .iter()
                    .map(|(k, v)| (k.clone(), v.principal_id.clone()))
                    .collect()
            } else {
                Vec::new()
            },
            identity_type: identity.type_,
            primary_user_assigned: prop("primaryUserAssignedIdentity"),
            system_datastores_auth_mode: prop("systemDatastoresAuthMode"),
            storage_account: prop("storageAccount"),
            key_vault: prop("keyVault"),
            application_insights: prop("applicationInsights"),
            container_registry: prop("containerRegistry"),
            image_build_compute: prop("imageBuildCompute"),
        }
    }

    /// The primary user-assigned identity's principal, when it is attached and known.
    pub fn primary_principal(&self) -> Option<Principal> {
        let primary = self.primary_user_assigned.as_ref()?;
        let (id, principal) = self
            .user_assigned
            .iter()
            .find(|(id, _)| id.eq_ignore_ascii_case(primary))?;
        Some(Principal {
            id: principal.clone()?,
            kind: "workspace_user_assigned_identity",
            owner: format!("the workspace's primary user-assigned identity {id}"),
        })
    }

    pub fn system_principal(&self) -> Option<Principal> {
        Some(Principal {
            id: self.system_principal.clone()?,
            kind: "workspace_system_assigned_identity",
            owner: "the workspace's system-assigned identity".into(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryFacts {
    pub id: String,
    pub admin_enabled: bool,
    pub public_network_access: Option<String>,
}

impl RegistryFacts {
    pub fn from_arm(id: &str, r: &Json) -> Self {
        let admin = jget(r, "properties")
            .and_then(|p| jget(p, "adminUserEnabled"))
            .and_then(Json::as_bool)
            .unwrap_or(false);
        RegistryFacts {
            id: id.to_string(),
            admin_enabled: admin,
            public_network_access: jstr(r, &["properties", "publicNetworkAccess"]),
        }
    }

    pub fn public_access_disabled(&self) -> bool {
        self.public_network_access
            .as_deref()
            .is_some_and(|p| p.eq_ignore_ascii_case("Disabled"))
    }
}

/// Compute types that run jobs with a managed identity of their own.
pub const IDENTITY_COMPUTE_TYPES: &[&str] = &["AmlCompute", "ComputeInstance"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputeFacts {
    pub id: String,
    pub name: String,
    pub compute_type: String,
    pub identity_type: String,
    pub principals: Vec<Principal>,
    /// Attached user-assigned identities whose principal id the compute's body lacks
    /// (resolved by reading the identity, see `read.rs`).
    pub unresolved_user_assigned: Vec<String>,
}

impl ComputeFacts {
    pub fn from_arm(c: &Json) -> Self {
        let name = jstr(c, &["name"]).unwrap_or_default();
        let identity = RemoteIdentity::from_arm(c);
        let mut principals = Vec::new();
        if has_system(&identity.type_)
            && let Some(p) = &identity.principal_id
        {
            principals.push(Principal {
                id: p.clone(),
                kind: "compute_system_assigned_identity",
                owner: format!("compute {name}"),
            });
        }
        let mut unresolved_user_assigned = Vec::new();
        if has_user(&identity.type_) {
            for (uai, info) in &identity.user_assigned {
                match &info.principal_id {
                    Some(p) => principals.push(Self::user_principal(&name, uai, p)),
                    None => unresolved_user_assigned.push(uai.clone()),
                }
            }
        }
        ComputeFacts {
            unresolved_user_assigned,
            id: jstr(c, &["id"]).unwrap_or_default(),
            compute_type: jstr(c, &["properties", "computeType"]).unwrap_or_default(),
            identity_type: identity.type_,
            principals,
            name,
        }
    }

    /// The principal of user-assigned identity `uai` attached to compute `name`.
    pub fn user_principal(name: &str, uai: &str, principal_id: &str) -> Principal {
        Principal {
            id: principal_id.to_string(),
            kind: "compute_user_assigned_identity",
            owner: format!("compute {name} (user-assigned identity {uai})"),
        }
    }

    pub fn runs_with_identity(&self) -> bool {
        IDENTITY_COMPUTE_TYPES
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&self.compute_type))
    }
}

/// Datastore types that support identity-based access (the article's list).
pub const IDENTITY_DATASTORE_TYPES: &[&str] =
    &["AzureBlob", "AzureDataLakeGen1", "AzureDataLakeGen2"];
/// Of those, the ones Azure RBAC governs (ADLS Gen1 uses its own ACLs).
pub const RBAC_DATASTORE_TYPES: &[&str] = &["AzureBlob", "AzureDataLakeGen2"];
/// The datastores Azure ML creates with the workspace; `systemDatastoresAuthMode` governs them.
pub const SYSTEM_DATASTORES: &[&str] = &[
    "workspaceblobstore",
    "workspacefilestore",
    "workspaceartifactstore",
    "workspaceworkingdirectory",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatastoreFacts {
    pub id: String,
    pub name: String,
    pub datastore_type: String,
    pub credentials_type: String,
    pub account_name: Option<String>,
    pub subscription_id: Option<String>,
    pub resource_group: Option<String>,
    pub service_identity: Option<String>,
}

fn is_one_of(list: &[&str], v: &str) -> bool {
    list.iter().any(|t| t.eq_ignore_ascii_case(v))
}

impl DatastoreFacts {
    pub fn from_arm(d: &Json) -> Self {
        let p = |k: &str| jstr(d, &["properties", k]).filter(|s| !s.trim().is_empty());
        DatastoreFacts {
            id: jstr(d, &["id"]).unwrap_or_default(),
            name: jstr(d, &["name"]).unwrap_or_default(),
            datastore_type: p("datastoreType").unwrap_or_default(),
            credentials_type: jstr(d, &["properties", "credentials", "credentialsType"])
                .unwrap_or_else(|| "None".into()),
            account_name: p("accountName"),
            subscription_id: p("subscriptionId"),
            resource_group: p("resourceGroup"),
            service_identity: p("serviceDataAccessAuthIdentity"),
        }
    }

    pub fn is_system(&self) -> bool {
        is_one_of(SYSTEM_DATASTORES, &self.name)
    }
    pub fn supports_identity(&self) -> bool {
        is_one_of(IDENTITY_DATASTORE_TYPES, &self.datastore_type)
    }
    pub fn governed_by_rbac(&self) -> bool {
        is_one_of(RBAC_DATASTORE_TYPES, &self.datastore_type)
    }
    pub fn uses_identity(&self) -> bool {
        self.credentials_type.eq_ignore_ascii_case("None")
    }

    /// ARM id of the storage account: the datastore's own subscription / resource group
    /// when set; else the workspace's storage account when the name matches; else the
    /// workspace's subscription and resource group (what Azure ML assumes).
    pub fn storage_account_id(&self, ws: &WorkspaceFacts) -> Option<String> {
        let name = self.account_name.as_ref()?;
        if self.subscription_id.is_none()
            && self.resource_group.is_none()
            && let Some(sa) = &ws.storage_account
            && sa
                .rsplit('/')
                .next()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        {
            return Some(sa.clone());
        }
        Some(format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Storage/storageAccounts/{name}",
            self.subscription_id.as_deref().unwrap_or(&ws.subscription),
            self.resource_group.as_deref().unwrap_or(&ws.resource_group),
        ))
    }
}

/// Everything the rules look at. A part that could not be read holds the reason.
#[derive(Debug, Clone)]
pub struct Facts {
    pub workspace: WorkspaceFacts,
    /// `None` when the workspace names no registry.
    pub registry: Option<Result<RegistryFacts, String>>,
    pub computes: Result<Vec<ComputeFacts>, String>,
    pub datastores: Result<Vec<DatastoreFacts>, String>,
    /// Other resources that could not be read (id, reason), e.g. a user-assigned identity
    /// whose principal id was needed.
    pub unreadable: Vec<(String, String)>,
}
