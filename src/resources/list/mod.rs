//! List resources for `terraform query` (Terraform 1.14 and later): the existing objects each
//! managed resource can manage, found through ARM's collection reads.
//!
//! One generic lister ([`ArmList`]) does the work: it reads the collection page by page,
//! following `nextLink` as ARM gives it until the last page or Terraform's `limit`, and maps
//! each object to the managed resource's state with that resource's own import stub and
//! ARM-to-state mapping. Each list type only says where its collection is
//! ([`ArmListSpec`]).
//!
//! ARM calls: one `GET` per page of the collection (api-version of the resource), nothing per
//! object.

mod acr_admin;
mod compute_identity;
mod datastore_access;
mod workspace_identity;

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value as Json;

use crate::azure::{ResourceId, ResourceIdError};
use crate::framework::list::{DynListResource, ListRequest, ListResource, ListSink, config_attr};
use crate::framework::timeouts::Operation;
use crate::framework::{Block, Ctx, Diagnostic, Diagnostics, Field, Model, Schema};
use crate::value::Value;

use super::common::{azure_error, call_ctx, jstr, require_client};

pub use acr_admin::AcrAdminList;
pub use compute_identity::ComputeIdentityList;
pub use datastore_access::DatastoreAccessList;
pub use workspace_identity::WorkspaceIdentityList;

/// Every list resource of the provider.
pub fn all() -> Vec<Arc<dyn DynListResource>> {
    vec![
        Arc::new(ArmList(WorkspaceIdentityList)),
        Arc::new(ArmList(ComputeIdentityList)),
        Arc::new(ArmList(DatastoreAccessList)),
        Arc::new(ArmList(AcrAdminList)),
    ]
}

/// The `config` block of every list here: the scope to list in. Each list declares only the
/// attributes it takes; the others read as null.
#[derive(Debug, Clone, PartialEq, Default, Model)]
pub struct ScopeConfig {
    #[model(may_be_absent)]
    pub subscription_id: Field<String>,
    #[model(may_be_absent)]
    pub resource_group_id: Field<String>,
    #[model(may_be_absent)]
    pub workspace_id: Field<String>,
}

/// An ARM collection to read, and the `config` attribute that named it (for diagnostics).
pub struct Collection {
    pub path: String,
    pub api_version: &'static str,
    pub attribute: &'static str,
    /// What the collection lists, for messages ("computes of workspace …").
    pub what: String,
}

/// Where one list resource's objects are in ARM, and how each becomes resource state.
#[async_trait]
pub trait ArmListSpec: Send + Sync + 'static {
    /// The managed resource type listed.
    fn type_name(&self) -> &'static str;
    /// The `config` block.
    fn config_block(&self) -> Block;
    /// Cross-attribute checks (values may be unknown).
    fn validate(&self, _c: &ScopeConfig, _diags: &mut Diagnostics) {}
    /// The collection the configuration names (already validated).
    fn collection(&self, c: &ScopeConfig) -> Result<Collection, Diagnostics>;
    /// Whether a listed object can be managed by the resource (others are left out).
    fn includes(&self, _body: &Json) -> bool {
        true
    }
    /// The resource's state for one listed object, through the resource's own mapping.
    async fn state(&self, _ctx: &Ctx, id: &str, body: &Json) -> Result<Value, Diagnostics>;
}

/// A list resource reading an ARM collection (see the module documentation).
pub struct ArmList<S>(pub S);

#[async_trait]
impl<S: ArmListSpec> ListResource for ArmList<S> {
    type Config = ScopeConfig;

    fn type_name(&self) -> &'static str {
        self.0.type_name()
    }

    fn schema(&self) -> Schema {
        Schema::new(0, self.0.config_block())
    }

    fn validate(&self, config: &ScopeConfig, diags: &mut Diagnostics) {
        self.0.validate(config, diags);
    }

    async fn list(
        &self,
        ctx: &Ctx,
        req: ListRequest<ScopeConfig>,
        out: &mut ListSink,
    ) -> Result<(), Diagnostics> {
        let client = require_client(ctx)?;
        let col = self.0.collection(&req.config)?;
        let at = config_attr(col.attribute);
        let mut pager = client.pages(&col.path, col.api_version, &[]).map_err(|e| {
            azure_error(&format!("Failed to list the {}", col.what), &e).at(at.clone())
        })?;
        loop {
            // Each page gets the read time limit: a long list is never cut short as a whole.
            let call = call_ctx(ctx, &Field::Null, Operation::Read);
            let page = match pager.next_page(&call).await {
                Ok(Some(page)) => page,
                Ok(None) => break,
                Err(e) => {
                    return Err(azure_error(&format!("Failed to list the {}", col.what), &e)
                        .at(at)
                        .into());
                }
            };
            for body in page.iter().filter(|b| self.0.includes(b)) {
                let Some(id) = jstr(body, &["id"]) else {
                    tracing::warn!(what = %col.what, "a listed object has no id; skipped");
                    continue;
                };
                let state = self.0.state(ctx, &id, body).await?;
                let name = jstr(body, &["name"]).unwrap_or_else(|| id.clone());
                if !out.push(name, state).await {
                    tracing::debug!(pages = pager.pages_read(), "Terraform has enough results");
                    return Ok(());
                }
            }
        }
        if pager.missing() {
            return Err(Diagnostic::error(
                "Not found",
                format!(
                    "cannot list the {}: ARM answered 404 Not Found for \"{}\" (it does not exist, or the credentials cannot see it)",
                    col.what, col.path
                ),
            )
            .at(at)
            .into());
        }
        tracing::debug!(
            pages = pager.pages_read(),
            sent = out.sent(),
            "listed every page"
        );
        Ok(())
    }
}

/// The known string of a `config` attribute, or an error at it (validation ran before, so
/// this only fails for an unknown value, which Terraform never sends to ListResource).
pub fn required(v: &Field<String>, attribute: &str) -> Result<String, Diagnostics> {
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
pub fn resource_group_scope(c: &ScopeConfig) -> Result<ResourceId, Diagnostics> {
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
    use crate::framework::schema::check_block;

    #[test]
    fn every_list_schema_passes_terraforms_consistency_rules() {
        for l in all() {
            let problems = check_block(&l.schema().block, &format!("list {}.", l.type_name()));
            assert!(problems.is_empty(), "{problems:#?}");
        }
    }

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
