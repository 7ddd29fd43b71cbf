//! `list "amlauth_compute_identity"`: the computes of an Azure ML workspace that can carry a
//! managed identity (compute clusters, compute instances, Kubernetes).

use async_trait::async_trait;
use serde_json::Value as Json;

use crate::azure::ResourceId;
use crate::framework::{Attribute, Block, Ctx, Diagnostics, ToValue};
use crate::value::Value;

use super::{ArmListSpec, Collection, ScopeConfig, required};
use crate::resources::common::{ML_API_VERSION, id_validator, jstr};
use crate::resources::compute_identity::{ComputeIdentity, IDENTITY_COMPUTE_TYPES};
use crate::resources::setting::Setting;

pub struct ComputeIdentityList;

/// The `workspace_id` argument of the lists of a workspace's children.
pub(super) fn workspace_scope(describe: &str, children: &str) -> Block {
    Block::new().describe(describe).attribute(
        Attribute::string("workspace_id")
            .required()
            .validate(id_validator(
                "an Azure ML workspace",
                ResourceId::ml_workspace,
            ))
            .describe(format!(
                "ARM id of the Azure ML workspace whose {children} to list."
            )),
    )
}

/// The collection `{workspace}/{child}`.
pub(super) fn workspace_child(c: &ScopeConfig, child: &str) -> Result<Collection, Diagnostics> {
    let ws = required(&c.workspace_id, "workspace_id")?;
    Ok(Collection {
        path: format!("{}/{child}", ws.trim_end_matches('/')),
        api_version: ML_API_VERSION,
        attribute: "workspace_id",
        what: format!("{child} of workspace {ws}"),
    })
}

#[async_trait]
impl ArmListSpec for ComputeIdentityList {
    fn type_name(&self) -> &'static str {
        "amlauth_compute_identity"
    }

    fn config_block(&self) -> Block {
        workspace_scope(
            "Lists the computes of an Azure ML workspace that can have a managed identity (compute clusters, compute instances, Kubernetes computes).",
            "computes",
        )
    }

    fn collection(&self, c: &ScopeConfig) -> Result<Collection, Diagnostics> {
        workspace_child(c, "computes")
    }

    fn includes(&self, body: &Json) -> bool {
        let t = jstr(body, &["properties", "computeType"]).unwrap_or_default();
        IDENTITY_COMPUTE_TYPES
            .iter()
            .any(|k| k.eq_ignore_ascii_case(&t))
    }

    async fn state(&self, _ctx: &Ctx, id: &str, body: &Json) -> Result<Value, Diagnostics> {
        let stub = ComputeIdentity::import(id)?;
        Ok(ComputeIdentity::state(body, &stub).to_value())
    }
}
