//! `amlauth_workspace_image_build`: the compute cluster Azure ML builds environment images on
//! (the workspace's `properties.imageBuildCompute`). With the registry's admin account off and
//! the registry on a private network, Azure ML cannot build images on the registry itself.
//!
//! ARM calls (api-version [`ML_API_VERSION`](super::common::ML_API_VERSION)): create / update:
//! `PATCH` workspace, polls of the operation until done, one `GET`: 3 calls when the operation
//! finishes by the first poll (as `amlauth_workspace_identity`); read: 1 `GET`; delete: no call
//! (the setting is left as it is).

use async_trait::async_trait;
use serde_json::{Value as Json, json};

use crate::azure::{ResourceId, ResourceIdError};
use crate::framework::timeouts::{self, Timeouts};
use crate::framework::{Attribute, Block, Field, Model, Schema};

use super::common::{DEFAULT_TIMEOUTS, jstr};
use super::setting::{Setting, Write, WriteError, id_attribute, target_attribute};

#[derive(Debug, Clone, PartialEq, Default, Model)]
pub struct WorkspaceImageBuildModel {
    #[model(id)]
    pub id: Field<String>,
    #[model(target)]
    pub workspace_id: Field<String>,
    pub compute_name: Field<String>,
    #[model(timeouts)]
    pub timeouts: Field<Timeouts>,
}

pub struct WorkspaceImageBuild;

#[async_trait]
impl Setting for WorkspaceImageBuild {
    type Model = WorkspaceImageBuildModel;
    const TYPE_NAME: &'static str = "amlauth_workspace_image_build";
    const OBJECT: &'static str = "workspace";
    const IDENTITY: &'static str = "ARM id of the Azure ML workspace.";
    const PARSE_ID: fn(&str) -> Result<ResourceId, ResourceIdError> = ResourceId::ml_workspace;
    const WRITE_FAILED: &'static str = "Failed to set the image build compute";

    fn schema() -> Schema {
        let block = Block::new()
            .describe(
                "Sets the compute cluster an existing Azure ML workspace builds environment images on (its \
                 `imageBuildCompute`), needed when the container registry's admin account is off and the registry \
                 is not reachable from Azure ML's shared build service. Destroying this resource leaves the setting \
                 as it is.",
            )
            .attribute(id_attribute("The workspace's ARM id."))
            .attribute(
                target_attribute("workspace_id", "an Azure ML workspace", ResourceId::ml_workspace, "ARM id of the Azure ML workspace. Changing it replaces the resource."),
            )
            .attribute(
                Attribute::string("compute_name")
                    .required()
                    .describe("Name of the workspace's compute cluster that builds environment images."),
            );
        Schema::new(0, timeouts::add_block(block, DEFAULT_TIMEOUTS))
    }

    fn state(ws: &Json, prior: &WorkspaceImageBuildModel) -> WorkspaceImageBuildModel {
        WorkspaceImageBuildModel {
            compute_name: jstr(ws, &["properties", "imageBuildCompute"]).into(),
            ..prior.clone()
        }
    }

    async fn write(
        &self,
        w: &Write<'_>,
        planned: &WorkspaceImageBuildModel,
        _config: &WorkspaceImageBuildModel,
    ) -> Result<Json, WriteError> {
        let body = json!({ "properties": { "imageBuildCompute": planned.compute_name.known() } });
        Ok(w.client
            .patch_and_wait(w.id, w.api_version, &body, w.call)
            .await?)
    }
}
