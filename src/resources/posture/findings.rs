//! The posture findings: ONE table of every code with its severity, rule and remediation.
//! The documentation's finding list is generated from [`RULES`] (a test checks the page).

use crate::framework::Model;
use crate::value::Type;

/// How bad a finding is. `secure` is false while any `High` finding exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    High,
    Medium,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
        }
    }
}

/// Stable finding codes. Renaming one is a breaking change for users' `check` blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Code {
    AcrAdminEnabled,
    DatastoreUsesStoredCredentials,
    DatastoreIdentityUnsupported,
    DatastoreServiceIdentityMissing,
    ComputeWithoutIdentity,
    SystemDatastoresUseAccessKey,
    UserAssignedIdentityWithoutPrimary,
    ImageBuildComputeMissing,
    ImageBuildComputeNotFound,
    MissingRoleAssignment,
    CannotReadRoleAssignments,
    CannotReadResource,
}

/// One row of the rule table.
pub struct Rule {
    pub code: Code,
    pub name: &'static str,
    pub severity: Severity,
    /// When the finding is raised (documentation text).
    pub rule: &'static str,
    /// What to do about it (exported on every finding and documented).
    pub remediation: &'static str,
    /// Where the rule comes from: the article, or the service's documented behaviour.
    pub source: &'static str,
}

pub static RULES: &[Rule] = &[
    Rule {
        code: Code::AcrAdminEnabled,
        name: "acr_admin_enabled",
        severity: Severity::High,
        rule: "The workspace's container registry has its admin account (`adminUserEnabled`) on. Azure ML turns it on when it creates the registry.",
        remediation: "Set `amlauth_acr_admin` `enabled = false` on the registry, then grant `AcrPull` to the compute identities (see `required_role_assignments`).",
        source: "Article: \"Azure Container Registry and identity types\", \"Scenario: Azure Container Registry without admin user\".",
    },
    Rule {
        code: Code::DatastoreUsesStoredCredentials,
        name: "datastore_uses_stored_credentials",
        severity: Severity::High,
        rule: "A datastore of a type that supports identity-based access (`AzureBlob`, `AzureDataLakeGen1`, `AzureDataLakeGen2`) authenticates with an account key, SAS token, service principal secret or certificate. The workspace's own system datastores (`workspaceblobstore`, `workspacefilestore`, `workspaceartifactstore`, `workspaceworkingdirectory`) are left to `system_datastores_use_access_key`.",
        remediation: "Set `amlauth_datastore_access` `mode = \"identity\"` and grant the identities in `required_role_assignments` a storage data role.",
        source: "Article: \"Identity-based data access to storage services on Azure\".",
    },
    Rule {
        code: Code::DatastoreIdentityUnsupported,
        name: "datastore_identity_unsupported",
        severity: Severity::High,
        rule: "A datastore has no stored credentials (`credentialsType: None`) but its type (for example `AzureFile`) does not support identity-based access, so jobs cannot read it. Not raised for the workspace's system datastores (their access follows `systemDatastoresAuthMode`).",
        remediation: "Give the datastore credentials (`amlauth_datastore_access` with `mode = \"account_key\"` or `\"sas\"`), or move the data to Blob storage or ADLS Gen2.",
        source: "Article: identity-based data access is supported for Azure Blob, ADLS Gen1 and ADLS Gen2 only.",
    },
    Rule {
        code: Code::DatastoreServiceIdentityMissing,
        name: "datastore_service_identity_missing",
        severity: Severity::High,
        rule: "A datastore's `serviceDataAccessAuthIdentity` names a workspace identity the workspace does not have (`WorkspaceSystemAssignedIdentity` without a system-assigned identity, `WorkspaceUserAssignedIdentity` without a primary user-assigned identity).",
        remediation: "Give the workspace that identity (`amlauth_workspace_identity`), or change the datastore's `service_data_access_identity`.",
        source: "Article: \"Work with virtual networks\" (the workspace identity used for data preview).",
    },
    Rule {
        code: Code::ComputeWithoutIdentity,
        name: "compute_without_identity",
        severity: Severity::Medium,
        rule: "A compute cluster (`AmlCompute`) or compute instance (`ComputeInstance`) has no managed identity, so it cannot pull images without the registry admin account nor read identity-based datastores.",
        remediation: "Set `amlauth_compute_identity` `type = \"SystemAssigned\"` (or `UserAssigned`), then grant the roles listed in `required_role_assignments`.",
        source: "Article: \"Compute cluster\" (managed identity of the compute cluster).",
    },
    Rule {
        code: Code::SystemDatastoresUseAccessKey,
        name: "system_datastores_use_access_key",
        severity: Severity::High,
        rule: "The workspace's `systemDatastoresAuthMode` is `AccessKey` or unset (which means `AccessKey`): the system datastores use the storage account key.",
        remediation: "Set `amlauth_workspace_identity` `system_datastores_auth_mode = \"Identity\"`.",
        source: "Service: workspace property `systemDatastoresAuthMode` (REST API); article: identity-based data access.",
    },
    Rule {
        code: Code::UserAssignedIdentityWithoutPrimary,
        name: "user_assigned_identity_without_primary",
        severity: Severity::High,
        rule: "The workspace has user-assigned identities but no `primaryUserAssignedIdentity`, or the primary one is not among the attached identities.",
        remediation: "Set `amlauth_workspace_identity` `primary_user_assigned_identity_id` to one of the attached identities.",
        source: "Article: \"User-assigned managed identity\" (the primary identity the workspace uses).",
    },
    Rule {
        code: Code::ImageBuildComputeMissing,
        name: "image_build_compute_missing",
        severity: Severity::High,
        rule: "The registry's admin account is off and its `publicNetworkAccess` is `Disabled`, and the workspace names no `imageBuildCompute`: Azure ML cannot build environment images on the registry.",
        remediation: "Set the workspace's image build compute to a compute cluster (`properties.imageBuildCompute`).",
        source: "Azure ML docs on a registry behind a private network: it cannot build images itself, so `imageBuildCompute` must name the compute cluster that builds them.",
    },
    Rule {
        code: Code::ImageBuildComputeNotFound,
        name: "image_build_compute_not_found",
        severity: Severity::High,
        rule: "The workspace's `imageBuildCompute` names a compute that does not exist in the workspace.",
        remediation: "Point `imageBuildCompute` at an existing compute cluster of the workspace.",
        source: "Inferred from the rule above (the named compute does the build), not from a documented error.",
    },
    Rule {
        code: Code::MissingRoleAssignment,
        name: "missing_role_assignment",
        severity: Severity::High,
        rule: "One per entry of `required_role_assignments` with `granted = false` whose scope could be read: no assignment of that role (or of a role listed as covering it) to that principal exists at the scope or any parent scope. (Without `managed_assignment_description`, `granted` and `present` are the same.)",
        remediation: "Create the role assignment, e.g. with `azurerm_role_assignment` over `required_role_assignments` (see the example).",
        source: "Article: the role tables for the workspace user-assigned identity, `AcrPull` for computes, `Storage Blob Data Reader` for identity-based data access.",
    },
    Rule {
        code: Code::CannotReadRoleAssignments,
        name: "cannot_read_role_assignments",
        severity: Severity::High,
        rule: "The role assignments at a scope could not be listed (for example `403 AuthorizationFailed`): the requirements at that scope cannot be checked. Their entries stay `granted = false` and `present = false` but raise no `missing_role_assignment`.",
        remediation: "Give the identity Terraform runs as `Microsoft.Authorization/roleAssignments/read` on the scope (the `Reader` role includes it).",
        source: "Never a silent pass: an unreadable scope is reported, not skipped.",
    },
    Rule {
        code: Code::CannotReadResource,
        name: "cannot_read_resource",
        severity: Severity::High,
        rule: "The workspace's registry, computes or datastores, or a user-assigned identity whose principal id the workspace or compute body lacks, could not be read (missing permission, or the resource the workspace names does not exist), so the rules about them were not evaluated.",
        remediation: "Give the identity Terraform runs as `Reader` on the resource, or fix the workspace's `containerRegistry`.",
        source: "Never a silent pass: an unreadable resource is reported, not skipped.",
    },
];

pub fn rule(code: Code) -> &'static Rule {
    // Every code has a row (checked by a test), so the fallback is never used.
    RULES.iter().find(|r| r.code == code).unwrap_or(&RULES[0])
}

/// One finding as exported in `findings`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Model)]
pub struct Finding {
    pub code: String,
    pub severity: String,
    pub resource_id: String,
    pub message: String,
    pub remediation: String,
}

impl Finding {
    pub fn new(code: Code, resource_id: impl Into<String>, message: impl Into<String>) -> Self {
        let r = rule(code);
        Finding {
            code: r.name.to_string(),
            severity: r.severity.as_str().to_string(),
            resource_id: resource_id.into(),
            message: message.into(),
            remediation: r.remediation.to_string(),
        }
    }

    pub fn is_high(&self) -> bool {
        self.severity == Severity::High.as_str()
    }

    pub fn value_type() -> Type {
        Type::Object(
            ["code", "severity", "resource_id", "message", "remediation"]
                .into_iter()
                .map(|k| (k.to_string(), Type::String))
                .collect(),
        )
    }
}

/// The documentation's finding table, generated from [`RULES`].
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| Code | Severity | Raised when | Remediation | Source |\n|---|---|---|---|---|\n",
    );
    for r in RULES {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            r.name,
            r.severity.as_str(),
            r.rule,
            r.remediation,
            r.source
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_each_has_a_row() {
        for (i, a) in RULES.iter().enumerate() {
            assert!(
                a.name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{}",
                a.name
            );
            for b in &RULES[i + 1..] {
                assert_ne!(a.name, b.name);
                assert_ne!(a.code, b.code);
            }
            assert!(std::ptr::eq(rule(a.code), a), "{}", a.name);
        }
        assert_eq!(RULES.len(), 12);
    }
}
