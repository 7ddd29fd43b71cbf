//! Which `api-version` values ARM serves for each emulated resource type, and how it
//! refuses the others.
//!
//! The lists are the stable and preview versions published in the public REST specs for each
//! type. The ML TypeSpec-only `2026-07-01` is left out until it is known to be deployed.

use crate::error::ArmError;

/// Resource types the emulator knows, for api-version checks and error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceType {
    /// `Microsoft.Resources/subscriptions` (served by ARM itself).
    Subscriptions,
    /// `Microsoft.Resources/resourceGroups` (served by ARM itself).
    ResourceGroups,
    /// `Microsoft.MachineLearningServices/workspaces`.
    Workspaces,
    /// `Microsoft.MachineLearningServices/workspaces/computes`.
    Computes,
    /// `Microsoft.MachineLearningServices/workspaces/datastores`.
    Datastores,
    /// `Microsoft.ContainerRegistry/registries`.
    Registries,
    /// `Microsoft.ManagedIdentity/userAssignedIdentities`.
    UserAssignedIdentities,
    /// `Microsoft.Authorization/roleAssignments`.
    RoleAssignments,
    /// `Microsoft.Authorization/roleDefinitions`.
    RoleDefinitions,
    /// `/metadata/endpoints` (cloud metadata, served by ARM without authentication).
    CloudMetadata,
}

const ML_WORKSPACE: &[&str] = &[
    "2018-03-01-preview",
    "2018-11-19",
    "2019-05-01",
    "2019-06-01",
    "2019-11-01",
    "2020-01-01",
    "2020-03-01",
    "2020-04-01",
    "2020-06-01",
    "2020-08-01",
    "2020-09-01-preview",
    "2021-01-01",
    "2021-03-01-preview",
    "2021-04-01",
    "2021-07-01",
    "2022-01-01-preview",
    "2022-02-01-preview",
    "2022-05-01",
    "2022-06-01-preview",
    "2022-10-01",
    "2022-10-01-preview",
    "2022-12-01-preview",
    "2023-02-01-preview",
    "2023-04-01",
    "2023-04-01-preview",
    "2023-06-01-preview",
    "2023-08-01-preview",
    "2023-10-01",
    "2024-01-01-preview",
    "2024-04-01",
    "2024-04-01-preview",
    "2024-07-01-preview",
    "2024-10-01",
    "2024-10-01-preview",
    "2025-01-01-preview",
    "2025-04-01",
    "2025-04-01-preview",
    "2025-06-01",
    "2025-07-01-preview",
    "2025-09-01",
    "2025-12-01",
];

/// Datastores arrived with the MFE surface (2021-03-01-preview, stable from 2022-05-01).
const ML_DATASTORE: &[&str] = &[
    "2021-03-01-preview",
    "2022-02-01-preview",
    "2022-05-01",
    "2022-06-01-preview",
    "2022-10-01",
    "2022-10-01-preview",
    "2022-12-01-preview",
    "2023-02-01-preview",
    "2023-04-01",
    "2023-04-01-preview",
    "2023-06-01-preview",
    "2023-08-01-preview",
    "2023-10-01",
    "2024-01-01-preview",
    "2024-04-01",
    "2024-04-01-preview",
    "2024-07-01-preview",
    "2024-10-01",
    "2024-10-01-preview",
    "2025-01-01-preview",
    "2025-04-01",
    "2025-04-01-preview",
    "2025-06-01",
    "2025-07-01-preview",
    "2025-09-01",
    "2025-12-01",
];

const ACR: &[&str] = &[
    "2016-06-27-preview",
    "2017-03-01",
    "2017-06-01-preview",
    "2017-10-01",
    "2019-05-01",
    "2019-12-01-preview",
    "2020-11-01-preview",
    "2021-06-01-preview",
    "2021-08-01-preview",
    "2021-09-01",
    "2021-12-01-preview",
    "2022-02-01-preview",
    "2022-12-01",
    "2023-01-01-preview",
    "2023-06-01-preview",
    "2023-07-01",
    "2023-08-01-preview",
    "2023-11-01-preview",
    "2024-11-01-preview",
    "2025-03-01-preview",
    "2025-04-01",
    "2025-05-01-preview",
    "2025-06-01-preview",
    "2025-11-01",
    // What azure-cli 2.91 sends for every `az acr` command.
    "2026-09-01-preview",
];

const MSI: &[&str] = &[
    "2015-08-31-preview",
    "2018-11-30",
    "2021-09-30-preview",
    "2022-01-31-preview",
    "2023-01-31",
    "2023-07-31-preview",
    "2024-11-30",
    "2025-01-31-preview",
    "2025-05-31-preview",
    "2026-04-30",
    "2026-05-31",
];

const ROLE_ASSIGNMENTS: &[&str] = &[
    "2015-07-01",
    "2017-10-01-preview",
    "2018-01-01-preview",
    "2018-09-01-preview",
    "2020-03-01-preview",
    "2020-04-01-preview",
    "2020-08-01-preview",
    "2020-10-01-preview",
    "2022-01-01-preview",
    "2022-04-01",
];

const ROLE_DEFINITIONS: &[&str] = &[
    "2015-07-01",
    "2018-01-01-preview",
    "2022-04-01",
    "2022-05-01-preview",
];

const CLOUD_METADATA: &[&str] = &["2015-01-01", "2018-01-01", "2019-05-01", "2022-09-01"];

const RESOURCES: &[&str] = &[
    "2014-04-01",
    "2015-01-01",
    "2015-11-01",
    "2016-02-01",
    "2016-06-01",
    "2016-07-01",
    "2016-09-01",
    "2017-05-10",
    "2017-06-01",
    "2018-02-01",
    "2018-05-01",
    "2019-03-01",
    "2019-05-01",
    "2019-05-10",
    "2019-06-01",
    "2019-07-01",
    "2019-08-01",
    "2019-10-01",
    "2019-11-01",
    "2020-01-01",
    "2020-06-01",
    "2020-08-01",
    "2020-10-01",
    "2021-01-01",
    "2021-04-01",
    "2022-01-01",
    "2022-09-01",
    "2022-12-01",
    "2023-07-01",
    "2024-03-01",
    "2024-07-01",
    "2024-11-01",
    "2025-03-01",
    "2025-04-01",
];

/// Regions the emulated providers report (any location string is accepted on PUT).
pub const LOCATIONS: &[&str] = &[
    "eastus",
    "eastus2",
    "westus",
    "westus2",
    "westus3",
    "centralus",
    "northcentralus",
    "southcentralus",
    "westcentralus",
    "canadacentral",
    "brazilsouth",
    "northeurope",
    "westeurope",
    "uksouth",
    "francecentral",
    "germanywestcentral",
    "switzerlandnorth",
    "norwayeast",
    "swedencentral",
    "eastasia",
    "southeastasia",
    "japaneast",
    "koreacentral",
    "centralindia",
    "australiaeast",
    "southafricanorth",
    "uaenorth",
];

/// Provider namespaces and the resource types each serves, for `GET /subscriptions/{s}/providers`.
pub const NAMESPACES: &[(&str, &[ResourceType])] = &[
    (
        "Microsoft.MachineLearningServices",
        &[
            ResourceType::Workspaces,
            ResourceType::Computes,
            ResourceType::Datastores,
        ],
    ),
    ("Microsoft.ContainerRegistry", &[ResourceType::Registries]),
    (
        "Microsoft.ManagedIdentity",
        &[ResourceType::UserAssignedIdentities],
    ),
    (
        "Microsoft.Authorization",
        &[ResourceType::RoleAssignments, ResourceType::RoleDefinitions],
    ),
];

impl ResourceType {
    /// The api-versions ARM serves for this type.
    pub fn supported_versions(self) -> &'static [&'static str] {
        match self {
            Self::Subscriptions | Self::ResourceGroups => RESOURCES,
            Self::Workspaces | Self::Computes => ML_WORKSPACE,
            Self::Datastores => ML_DATASTORE,
            Self::Registries => ACR,
            Self::UserAssignedIdentities => MSI,
            Self::RoleAssignments => ROLE_ASSIGNMENTS,
            Self::RoleDefinitions => ROLE_DEFINITIONS,
            Self::CloudMetadata => CLOUD_METADATA,
        }
    }

    /// The short type name used in ARM messages (`workspaces`, `registries`, ...).
    pub fn short_name(self) -> &'static str {
        match self {
            Self::Subscriptions => "subscriptions",
            Self::ResourceGroups => "resourceGroups",
            Self::Workspaces => "workspaces",
            Self::Computes => "workspaces/computes",
            Self::Datastores => "workspaces/datastores",
            Self::Registries => "registries",
            Self::UserAssignedIdentities => "userAssignedIdentities",
            Self::RoleAssignments => "roleAssignments",
            Self::RoleDefinitions => "roleDefinitions",
            Self::CloudMetadata => "metadata",
        }
    }

    /// Whether ARM itself (not a resource provider) serves this type.
    fn served_by_arm(self) -> bool {
        matches!(
            self,
            Self::Subscriptions
                | Self::ResourceGroups
                | Self::RoleAssignments
                | Self::RoleDefinitions
                | Self::CloudMetadata
        )
    }
}

/// The error for a request without `api-version`.
pub fn missing() -> ArmError {
    ArmError::bad_request(
        "MissingApiVersionParameter",
        "The api-version query parameter (?api-version=) is required for all requests.",
    )
}

/// Checks `version` for `rt`; `location` is used in the provider-style message.
pub fn check(rt: ResourceType, version: &str, location: &str) -> Result<(), ArmError> {
    let supported = rt.supported_versions();
    if supported.iter().any(|v| v.eq_ignore_ascii_case(version)) {
        return Ok(());
    }
    // ARM's own types answer InvalidApiVersionParameter (newest first, comma separated);
    // provider types answer NoRegisteredProviderFound, naming the location.
    let newest_first: Vec<&str> = supported.iter().rev().copied().collect();
    if rt.served_by_arm() {
        Err(ArmError::bad_request(
            "InvalidApiVersionParameter",
            format!(
                "The api-version '{version}' is invalid. The supported versions are '{}'.",
                newest_first.join(",")
            ),
        ))
    } else {
        Err(ArmError::bad_request(
            "NoRegisteredProviderFound",
            format!(
                "No registered resource provider found for location '{location}' and API version \
                 '{version}' for type '{}'. The supported api-versions are '{}'. The supported \
                 locations are '{}'.",
                rt.short_name(),
                newest_first.join(", "),
                LOCATIONS.join(", ")
            ),
        ))
    }
}
