//! `list "amlauth_acr_admin"`: the container registries of a resource group.

use async_trait::async_trait;
use serde_json::Value as Json;

use crate::framework::{Attribute, Block, Ctx, Diagnostics, ToValue};
use crate::value::Value;

use super::{ArmListSpec, Collection, ScopeConfig, resource_group_id, resource_group_scope};
use crate::resources::acr_admin::AcrAdmin;
use crate::resources::common::{ACR_API_VERSION, id_validator};
use crate::resources::setting::Setting;

pub struct AcrAdminList;

#[async_trait]
impl ArmListSpec for AcrAdminList {
    fn type_name(&self) -> &'static str {
        "amlauth_acr_admin"
    }

    fn config_block(&self) -> Block {
        Block::new()
            .describe("Lists the Azure Container Registries of a resource group.")
            .attribute(
                Attribute::string("resource_group_id")
                    .required()
                    .validate(id_validator("a resource group", resource_group_id))
                    .describe("ARM id of the resource group whose registries to list."),
            )
    }

    fn collection(&self, c: &ScopeConfig) -> Result<Collection, Diagnostics> {
        let rg = resource_group_scope(c)?;
        Ok(Collection {
            path: format!("{rg}/providers/Microsoft.ContainerRegistry/registries"),
            api_version: ACR_API_VERSION,
            attribute: "resource_group_id",
            what: format!("container registries of resource group {rg}"),
        })
    }

    async fn state(&self, _ctx: &Ctx, id: &str, body: &Json) -> Result<Value, Diagnostics> {
        let stub = AcrAdmin::import(id)?;
        Ok(AcrAdmin::state(body, &stub).to_value())
    }
}
