//! `list "amlauth_workspace_identity"`: the Azure ML workspaces of a subscription or of a
//! resource group.

use async_trait::async_trait;
use serde_json::Value as Json;

use crate::framework::list::config_attr;
use crate::framework::validators::Check;
use crate::framework::{Attribute, Block, Ctx, Diagnostics, ToValue};
use crate::value::Value;

use super::{
    ArmListSpec, Collection, ScopeConfig, required, resource_group_id, resource_group_scope,
};
use crate::resources::common::{ML_API_VERSION, id_validator};
use crate::resources::setting::Setting;
use crate::resources::workspace_identity::WorkspaceIdentity;

pub struct WorkspaceIdentityList;

fn check_subscription(v: &Value) -> Result<(), String> {
    match v.as_str() {
        Some(s) if uuid::Uuid::parse_str(s).is_err() => Err(format!(
            "\"{s}\" is not a subscription id: use the subscription's GUID, e.g. 00000000-0000-0000-0000-000000000000"
        )),
        _ => Ok(()),
    }
}

#[async_trait]
impl ArmListSpec for WorkspaceIdentityList {
    fn type_name(&self) -> &'static str {
        "amlauth_workspace_identity"
    }

    fn config_block(&self) -> Block {
        Block::new()
            .describe("Lists the Azure ML workspaces of a subscription or of a resource group. Set exactly one of `subscription_id` and `resource_group_id`.")
            .attribute(
                Attribute::string("subscription_id")
                    .optional()
                    .validate(Check::new("a subscription GUID", check_subscription))
                    .describe("Subscription (GUID) whose workspaces to list."),
            )
            .attribute(
                Attribute::string("resource_group_id")
                    .optional()
                    .validate(id_validator("a resource group", resource_group_id))
                    .describe("ARM id of the resource group whose workspaces to list."),
            )
    }

    fn validate(&self, c: &ScopeConfig, diags: &mut Diagnostics) {
        if c.subscription_id.is_unknown() || c.resource_group_id.is_unknown() {
            return;
        }
        match (c.subscription_id.is_known(), c.resource_group_id.is_known()) {
            (true, true) => diags.attribute_error(
                config_attr("resource_group_id"),
                "Conflicting arguments",
                "set exactly one of `subscription_id` and `resource_group_id`, not both",
            ),
            (false, false) => diags.attribute_error(
                config_attr("subscription_id"),
                "Missing list scope",
                "set exactly one of `subscription_id` (every workspace of the subscription) and `resource_group_id` (the workspaces of one resource group)",
            ),
            _ => {}
        }
    }

    fn collection(&self, c: &ScopeConfig) -> Result<Collection, Diagnostics> {
        const TYPE: &str = "providers/Microsoft.MachineLearningServices/workspaces";
        if c.resource_group_id.is_known() {
            let rg = resource_group_scope(c)?;
            return Ok(Collection {
                path: format!("{rg}/{TYPE}"),
                api_version: ML_API_VERSION,
                attribute: "resource_group_id",
                what: format!("workspaces of resource group {rg}"),
            });
        }
        let sub = required(&c.subscription_id, "subscription_id")?;
        Ok(Collection {
            path: format!("/subscriptions/{sub}/{TYPE}"),
            api_version: ML_API_VERSION,
            attribute: "subscription_id",
            what: format!("workspaces of subscription {sub}"),
        })
    }

    async fn state(&self, _ctx: &Ctx, id: &str, body: &Json) -> Result<Value, Diagnostics> {
        let stub = WorkspaceIdentity::import(id)?;
        Ok(WorkspaceIdentity::state(body, &stub).to_value())
    }
}
