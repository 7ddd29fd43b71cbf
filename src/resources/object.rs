//! The kinds of ARM object the settings live on. What a kind says (its id parser, API
//! version, the words messages and docs use for it) is the same for every setting on it, so it
//! is written once here rather than in each resource.

use crate::azure::{ResourceId, ResourceIdError};
use crate::framework::validators::EachString;

use super::common::{ACR_API_VERSION, ML_API_VERSION, id_validator};

/// A kind of ARM object (a workspace, a compute, …).
pub struct ArmObject {
    /// For messages: `workspace`, `compute`.
    pub name: &'static str,
    /// For validators: "an Azure ML workspace".
    pub what: &'static str,
    /// For "not found" messages: "Azure ML workspace".
    pub noun: &'static str,
    /// The azurerm resource that creates such an object, named in "not found" messages.
    pub created_by: Option<&'static str>,
    /// Parses (and checks the kind of) an id, e.g. `ResourceId::ml_workspace`.
    pub parse: fn(&str) -> Result<ResourceId, ResourceIdError>,
    /// API version of the object's `GET` and writes.
    pub api_version: &'static str,
    /// The description of a setting's identity, e.g. "ARM id of the Azure ML workspace.".
    pub identity: &'static str,
    /// The description of a setting's `id`, e.g. "The workspace's ARM id.".
    pub id_doc: &'static str,
    /// The description of the target attribute naming the object.
    pub target_doc: &'static str,
}

impl ArmObject {
    /// A validator for attributes holding ids of this kind.
    pub fn validator(
        &self,
    ) -> EachString<impl Fn(&str) -> Result<(), String> + Send + Sync + use<>> {
        id_validator(self.what, self.parse)
    }
}

pub const WORKSPACE: ArmObject = ArmObject {
    name: "workspace",
    what: "an Azure ML workspace",
    noun: "Azure ML workspace",
    created_by: Some("azurerm_machine_learning_workspace"),
    parse: ResourceId::ml_workspace,
    api_version: ML_API_VERSION,
    identity: "ARM id of the Azure ML workspace.",
    id_doc: "The workspace's ARM id.",
    target_doc: "ARM id of the Azure ML workspace. Changing it replaces the resource.",
};

pub const COMPUTE: ArmObject = ArmObject {
    name: "compute",
    what: "an Azure ML compute",
    noun: "Azure ML compute",
    created_by: Some("azurerm_machine_learning_compute_cluster"),
    parse: ResourceId::ml_compute,
    api_version: ML_API_VERSION,
    identity: "ARM id of the Azure ML compute.",
    id_doc: "The compute's ARM id.",
    target_doc: "ARM id of the compute (`…/workspaces/{ws}/computes/{name}`). Changing it replaces the resource.",
};

pub const DATASTORE: ArmObject = ArmObject {
    name: "datastore",
    what: "an Azure ML datastore",
    noun: "Azure ML datastore",
    created_by: Some("azurerm_machine_learning_datastore_blobstorage"),
    parse: ResourceId::ml_datastore,
    api_version: ML_API_VERSION,
    identity: "ARM id of the Azure ML datastore.",
    id_doc: "The datastore's ARM id.",
    target_doc: "ARM id of the datastore (`…/workspaces/{ws}/datastores/{name}`). Changing it replaces the resource.",
};

pub const CONTAINER_REGISTRY: ArmObject = ArmObject {
    name: "container registry",
    what: "a container registry",
    noun: "registry",
    created_by: None,
    parse: ResourceId::container_registry,
    api_version: ACR_API_VERSION,
    identity: "ARM id of the container registry.",
    id_doc: "The registry's ARM id.",
    target_doc: "ARM id of the registry. Exactly one of `registry_id` and `workspace_id`; when `workspace_id` \
                 is used this is the registry found through the workspace.",
};
