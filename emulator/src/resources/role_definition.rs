//! Built-in `Microsoft.Authorization/roleDefinitions`, read-only, at any scope: by id, and
//! listed (paged like ARM's, through `nextLink`) with `$filter=roleName eq '…'` (how
//! `az role assignment create --role AcrPull` resolves a role name). Custom role definitions
//! are not modelled.

use axum::http::Method;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::arm::{Req, method_not_allowed};
use crate::error::ArmError;

/// A built-in role: the real, well-known GUID, name, description and the gist of its
/// permissions (enough for clients that display or compare them).
struct BuiltIn {
    guid: &'static str,
    name: &'static str,
    description: &'static str,
    actions: &'static [&'static str],
    not_actions: &'static [&'static str],
    data_actions: &'static [&'static str],
}

const BUILT_IN: &[BuiltIn] = &[
    BuiltIn {
        guid: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        name: "Owner",
        description: "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
        actions: &["*"],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltIn {
        guid: "b24988ac-6180-42a0-ab88-20f7382dd24c",
        name: "Contributor",
        description: "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC.",
        actions: &["*"],
        not_actions: &[
            "Microsoft.Authorization/*/Delete",
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/elevateAccess/Action",
        ],
        data_actions: &[],
    },
    BuiltIn {
        guid: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
        name: "Reader",
        description: "View all resources, but does not allow you to make any changes.",
        actions: &["*/read"],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltIn {
        guid: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        name: "User Access Administrator",
        description: "Lets you manage user access to Azure resources.",
        actions: &["*/read", "Microsoft.Authorization/*"],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltIn {
        guid: "7f951dda-4ed3-4680-a7ca-43fe172d538d",
        name: "AcrPull",
        description: "acr pull",
        actions: &["Microsoft.ContainerRegistry/registries/pull/read"],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltIn {
        guid: "8311e382-0749-4cb8-b61a-304f252e45ec",
        name: "AcrPush",
        description: "acr push",
        actions: &[
            "Microsoft.ContainerRegistry/registries/pull/read",
            "Microsoft.ContainerRegistry/registries/push/write",
        ],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltIn {
        guid: "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
        name: "Storage Blob Data Reader",
        description: "Allows for read access to Azure Storage blob containers and data",
        actions: &["Microsoft.Storage/storageAccounts/blobServices/containers/read"],
        not_actions: &[],
        data_actions: &["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"],
    },
    BuiltIn {
        guid: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
        name: "Storage Blob Data Contributor",
        description: "Allows for read, write and delete access to Azure Storage blob containers and data",
        actions: &["Microsoft.Storage/storageAccounts/blobServices/containers/*"],
        not_actions: &[],
        data_actions: &["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*"],
    },
    BuiltIn {
        guid: "b8eda974-7b85-4f76-af95-65846b26df6d",
        name: "Storage File Data Privileged Reader",
        description: "Allows for read access on files/directories in Azure file shares by overriding existing ACLs/NTFS permissions.",
        actions: &[],
        not_actions: &[],
        data_actions: &[
            "Microsoft.Storage/storageAccounts/fileServices/fileshares/files/read",
            "Microsoft.Storage/storageAccounts/fileServices/readFileBackupSemantics/action",
        ],
    },
    BuiltIn {
        guid: "00482a5a-887f-4fb3-b363-3b7fe8e74483",
        name: "Key Vault Administrator",
        description: "Perform all data plane operations on a key vault and all objects in it, including certificates, keys, and secrets.",
        actions: &[
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/operations/read",
        ],
        not_actions: &[],
        data_actions: &["Microsoft.KeyVault/vaults/*"],
    },
    BuiltIn {
        guid: "4633458b-17de-408a-b874-0445c86b69e6",
        name: "Key Vault Secrets User",
        description: "Read secret contents.",
        actions: &[],
        not_actions: &[],
        data_actions: &[
            "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
        ],
    },
    BuiltIn {
        guid: "f1a07417-d97a-45cb-824c-7a7467783830",
        name: "Managed Identity Operator",
        description: "Read and Assign User Assigned Identity",
        actions: &[
            "Microsoft.ManagedIdentity/userAssignedIdentities/*/read",
            "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
        ],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltIn {
        guid: "f6c7c914-8db3-469d-8ca1-694a8f32e121",
        name: "AzureML Data Scientist",
        description: "Can perform all actions within an Azure Machine Learning workspace, except for creating or deleting compute resources and modifying the workspace itself.",
        actions: &["Microsoft.MachineLearningServices/workspaces/*/read"],
        not_actions: &[
            "Microsoft.MachineLearningServices/workspaces/computes/*/write",
            "Microsoft.MachineLearningServices/workspaces/computes/*/delete",
        ],
        data_actions: &[],
    },
    BuiltIn {
        guid: "e503ece1-11d0-4e8e-8e2c-7a6c3bf38815",
        name: "AzureML Compute Operator",
        description: "Can access and perform CRUD operations on Machine Learning Services managed compute resources (including Notebook VMs).",
        actions: &[
            "Microsoft.MachineLearningServices/workspaces/computes/*",
            "Microsoft.MachineLearningServices/workspaces/read",
        ],
        not_actions: &[],
        data_actions: &[],
    },
];

/// The GUID of a built-in role by name (case-insensitive), e.g. for seeds and tests.
pub fn built_in_guid(role_name: &str) -> Option<&'static str> {
    BUILT_IN
        .iter()
        .find(|r| r.name.eq_ignore_ascii_case(role_name))
        .map(|r| r.guid)
}

fn render(role: &BuiltIn, sub: Option<&str>) -> Value {
    let prefix = sub
        .map(|s| format!("/subscriptions/{s}"))
        .unwrap_or_default();
    json!({
        "id": format!("{prefix}/providers/Microsoft.Authorization/roleDefinitions/{}", role.guid),
        "name": role.guid,
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": role.name,
            "type": "BuiltInRole",
            "description": role.description,
            "assignableScopes": ["/"],
            "permissions": [{
                "actions": role.actions,
                "notActions": role.not_actions,
                "dataActions": role.data_actions,
                "notDataActions": [],
            }],
            "createdOn": "2015-02-02T21:55:09.8806423Z",
            "updatedOn": "2024-01-01T00:00:00.0000000Z",
            "createdBy": null,
            "updatedBy": null,
        },
    })
}

/// Parsed `$filter`: `roleName eq '…'` and/or `type eq 'BuiltInRole'|'CustomRole'`.
fn matches_filter(role: &BuiltIn, raw: Option<&String>) -> Result<bool, ArmError> {
    let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
        return Ok(true);
    };
    let bad = || {
        ArmError::bad_request(
            "InvalidFilterInQueryString",
            format!("The $filter '{raw}' is invalid or not supported."),
        )
    };
    let mut keep = true;
    for part in raw.split(" and ") {
        let (field, value) = part.trim().split_once(" eq ").ok_or_else(bad)?;
        let value = value
            .trim()
            .strip_prefix('\'')
            .and_then(|v| v.strip_suffix('\''))
            .ok_or_else(bad)?;
        match field.trim().to_ascii_lowercase().as_str() {
            "rolename" => keep &= role.name.eq_ignore_ascii_case(value),
            "type" => keep &= value.eq_ignore_ascii_case("BuiltInRole"),
            _ => return Err(bad()),
        }
    }
    Ok(keep)
}

/// Dispatches `{scope}/providers/Microsoft.Authorization/roleDefinitions[/{id}]`.
pub fn handle(req: &Req<'_>, sub: Option<&str>, name: Option<&str>) -> Result<Response, ArmError> {
    if req.method != Method::GET {
        return Err(method_not_allowed(&req.method));
    }
    let Some(name) = name else {
        let filter = req.query.get("$filter");
        let mut items = Vec::new();
        for role in BUILT_IN {
            if matches_filter(role, filter)? {
                items.push(render(role, sub));
            }
        }
        return super::paging::answer(req, items, req.app.quirks().list_page_size);
    };
    BUILT_IN
        .iter()
        .find(|r| r.guid.eq_ignore_ascii_case(name))
        .map(|r| axum::Json(render(r, sub)).into_response())
        .ok_or_else(|| {
            ArmError::not_found(
                "RoleDefinitionDoesNotExist",
                format!("The specified role definition with ID '{name}' does not exist."),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_ins_are_unique_and_guids() {
        for (i, a) in BUILT_IN.iter().enumerate() {
            assert!(uuid::Uuid::parse_str(a.guid).is_ok(), "{}", a.name);
            for b in &BUILT_IN[i + 1..] {
                assert_ne!(a.guid, b.guid);
                assert_ne!(a.name, b.name);
            }
        }
        assert_eq!(
            built_in_guid("acrpull"),
            Some("7f951dda-4ed3-4680-a7ca-43fe172d538d")
        );
    }
}
