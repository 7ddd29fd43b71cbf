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

use crate::framework::timeouts::Timeouts;
use crate::framework::{Attribute, Block, Field, Model};

use super::common::jstr;
use super::object::{ArmObject, WORKSPACE};
use super::setting::{Setting, Write, WriteError};

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
    const OBJECT: &'static ArmObject = &WORKSPACE;
    const WRITE_FAILED: &'static str = "Failed to set the image build compute";

    fn schema(block: Block) -> Block {
        block
            .describe(
                "Sets the compute cluster an existing Azure ML workspace builds environment images on (its \
                 `imageBuildCompute`), needed when the container registry's admin account is off and the registry \
                 is not reachable from Azure ML's shared build service. Destroying this resource leaves the setting \
                 as it is.",
            )
            .attribute(
                Attribute::string("compute_name")
                    .required()
                    .describe("Name of the workspace's compute cluster that builds environment images."),
            )
    }

    fn state(ws: &Json, prior: &WorkspaceImageBuildModel) -> WorkspaceImageBuildModel {
        WorkspaceImageBuildModel {
            compute_name: jstr(ws, &["properties", "imageBuildCompute"]).into(),
            ..prior.clone()
        }
    }

    async fn write(&self, w: &Write<'_, WorkspaceImageBuildModel>) -> Result<Json, WriteError> {
        let compute = w.planned.compute_name.known();
        w.patch(&json!({ "properties": { "imageBuildCompute": compute } }))
            .await
    }
}
