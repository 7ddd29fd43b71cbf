//! The scopes a list reads its collection in, and the `config` arguments that name them.

use serde_json::Value as Json;

use crate::azure::{ResourceId, ResourceIdError};
use crate::framework::list::config_attr;
use crate::framework::validators::Check;
use crate::framework::{Attribute, Block, Diagnostic, Diagnostics, Field, Model};
use crate::resources::common::id_validator;
use crate::resources::object::WORKSPACE;
use crate::value::Value;

/// The `config` block of every list here: the scope to list in. Each list declares only the
/// attributes its [`Scope`] takes; the others read as null.
#[derive(Debug, Clone, PartialEq, Default, Model)]
#[model(may_be_absent)]
pub struct ScopeConfig {
    pub subscription_id: Field<String>,
    pub resource_group_id: Field<String>,
    pub workspace_id: Field<String>,
}

/// Where a list's collection is, below what its `config` names.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// `{workspace_id}/{path}`: the children of an Azure ML workspace.
    Workspace,
    /// `{resource_group_id}/{path}`.
    ResourceGroup,
    /// `/subscriptions/{subscription_id}/{path}` or `{resource_group_id}/{path}`: exactly one
    /// of the two.
    SubscriptionOrResourceGroup,
}

/// One list resource as data: its description and where its objects are.
pub struct ListSpec {
    pub description: &'static str,
    pub scope: Scope,
    /// The collection's path below the scope: `computes`,
    /// `providers/Microsoft.ContainerRegistry/registries`.
    pub path: &'static str,
    /// The listed objects in the arguments' descriptions ("whose registries to list").
    pub plural: &'static str,
    /// The listed objects in messages ("container registries of resource group …").
    pub noun: &'static str,
    /// Whether a listed object can be managed by the resource (others are left out).
    pub includes: fn(&Json) -> bool,
}

/// An ARM collection to read, and the `config` attribute that named it (for diagnostics).
pub struct Collection {
    pub path: String,
    pub attribute: &'static str,
    /// What the collection lists, for messages ("computes of workspace …").
    pub what: String,
}

impl ListSpec {
    /// The `config` block: the arguments of the scope.
    pub fn config_block(&self) -> Block {
        let plural = self.plural;
        let block = Block::new().describe(self.description);
        let rg = Attribute::string("resource_group_id")
            .validate(id_validator("a resource group", resource_group_id))
            .describe(format!(
                "ARM id of the resource group whose {plural} to list."
            ));
        match self.scope {
            Scope::Workspace => block.attribute(
                Attribute::string("workspace_id")
                    .required()
                    .validate(WORKSPACE.validator())
                    .describe(format!(
                        "ARM id of the Azure ML workspace whose {plural} to list."
                    )),
            ),
            Scope::ResourceGroup => block.attribute(rg.required()),
            Scope::SubscriptionOrResourceGroup => block
                .attribute(
                    Attribute::string("subscription_id")
                        .optional()
                        .validate(Check::new("a subscription GUID", check_subscription))
                        .describe(format!("Subscription (GUID) whose {plural} to list.")),
                )
                .attribute(rg.optional()),
        }
    }

    /// Cross-attribute checks (values may be unknown).
    pub fn validate(&self, c: &ScopeConfig, diags: &mut Diagnostics) {
        if !matches!(self.scope, Scope::SubscriptionOrResourceGroup)
            || c.subscription_id.is_unknown()
            || c.resource_group_id.is_unknown()
        {
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
                format!(
                    "set exactly one of `subscription_id` (all the {noun} of the subscription) and `resource_group_id` (the {noun} of one resource group)",
                    noun = self.noun
                ),
            ),
            _ => {}
        }
    }

    /// The collection the configuration names (already validated).
    pub fn collection(&self, c: &ScopeConfig) -> Result<Collection, Diagnostics> {
        let (path, noun) = (self.path, self.noun);
        match self.scope {
            Scope::Workspace => {
                let ws = required(&c.workspace_id, "workspace_id")?;
                Ok(Collection {
                    path: format!("{}/{path}", ws.trim_end_matches('/')),
                    attribute: "workspace_id",
                    what: format!("{noun} of workspace {ws}"),
                })
            }
            Scope::SubscriptionOrResourceGroup if !c.resource_group_id.is_known() => {
                let sub = required(&c.subscription_id, "subscription_id")?;
                Ok(Collection {
                    path: format!("/subscriptions/{sub}/{path}"),
                    attribute: "subscription_id",
                    what: format!("{noun} of subscription {sub}"),
                })
            }
            Scope::ResourceGroup | Scope::SubscriptionOrResourceGroup => {
                let rg = resource_group_scope(c)?;
                Ok(Collection {
                    path: format!("{rg}/{path}"),
                    attribute: "resource_group_id",
                    what: format!("{noun} of resource group {rg}"),
                })
            }
        }
    }
}

fn check_subscription(v: &Value) -> Result<(), String> {
    match v.as_str() {
        Some(s) if uuid::Uuid::parse_str(s).is_err() => Err(format!(
            "\"{s}\" is not a subscription id: use the subscription's GUID, e.g. 00000000-0000-0000-0000-000000000000"
        )),
        _ => Ok(()),
    }
}

/// The known string of a `config` attribute, or an error at it (validation ran before, so
/// this only fails for an unknown value, which Terraform never sends to ListResource).
fn required(v: &Field<String>, attribute: &str) -> Result<String, Diagnostics> {
    v.known().cloned().ok_or_else(|| {
        Diagnostic::error(
            "Missing list scope",
            format!("`{attribute}` must be set to a known value"),
        )
        .at(config_attr(attribute))
        .into()
    })
}

/// The resource group the `resource_group_id` argument names (validated before; the error
/// still points at the argument).
fn resource_group_scope(c: &ScopeConfig) -> Result<ResourceId, Diagnostics> {
    let raw = required(&c.resource_group_id, "resource_group_id")?;
    resource_group_id(&raw).map_err(|e| {
        Diagnostic::error("Invalid resource group id", e.to_string())
            .at(config_attr("resource_group_id"))
            .into()
    })
}

/// Parses a resource group id (`/subscriptions/{s}/resourceGroups/{rg}`).
pub fn resource_group_id(s: &str) -> Result<ResourceId, ResourceIdError> {
    let id = ResourceId::parse(s)?;
    if id.resource_group().is_some() && id.provider_namespace().is_none() {
        return Ok(id);
    }
    Err(ResourceIdError {
        id: s.to_string(),
        reason: "it is not a resource group id".into(),
        expected: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}",
        example: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_group_ids_only() {
        assert!(resource_group_id("/subscriptions/s/resourceGroups/rg").is_ok());
        assert!(resource_group_id("/subscriptions/s/resourcegroups/rg/").is_ok());
        assert!(resource_group_id("/subscriptions/s").is_err());
        assert!(
            resource_group_id(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r"
            )
            .is_err()
        );
    }
}
