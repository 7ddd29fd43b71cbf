//! List resources for `terraform query` (Terraform 1.14 and later): the existing objects each
//! managed resource can manage, found through ARM's collection reads.
//!
//! One generic lister ([`ArmList`]) does the work: it reads the collection page by page,
//! following `nextLink` as ARM gives it until the last page or Terraform's `limit`, and maps
//! each object to the managed resource's state with that resource's own import stub and
//! ARM-to-state mapping ([`Setting::import`], [`Setting::state`]). Each list is a row of
//! [`all`]: its description and where its collection is ([`ListSpec`]); the API version is the
//! setting's object's.
//!
//! ARM calls: one `GET` per page of the collection (api-version of the resource), nothing per
//! object.

mod scope;

use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;

use crate::framework::list::{DynListResource, ListRequest, ListResource, ListSink, config_attr};
use crate::framework::timeouts::Operation;
use crate::framework::{Ctx, Diagnostic, Diagnostics, Field, Schema, ToValue};

use super::acr_admin::AcrAdmin;
use super::common::{azure_error, call_ctx, jstr, require_client};
use super::compute_identity::{ComputeIdentity, can_have_identity};
use super::datastore_access::DatastoreAccess;
use super::setting::Setting;
use super::workspace_identity::WorkspaceIdentity;

pub use scope::{Collection, ListSpec, Scope, ScopeConfig, resource_group_id};

/// Every list resource of the provider.
pub fn all() -> Vec<Arc<dyn DynListResource>> {
    vec![
        list::<WorkspaceIdentity>(ListSpec {
            description: "Lists the Azure ML workspaces of a subscription or of a resource group. Set exactly one of `subscription_id` and `resource_group_id`.",
            scope: Scope::SubscriptionOrResourceGroup,
            path: "providers/Microsoft.MachineLearningServices/workspaces",
            plural: "workspaces",
            noun: "workspaces",
            includes: |_| true,
        }),
        list::<ComputeIdentity>(ListSpec {
            description: "Lists the computes of an Azure ML workspace that can have a managed identity (compute clusters, compute instances, Kubernetes computes).",
            scope: Scope::Workspace,
            path: "computes",
            plural: "computes",
            noun: "computes",
            includes: can_have_identity,
        }),
        list::<DatastoreAccess>(ListSpec {
            description: "Lists the datastores of an Azure ML workspace.",
            scope: Scope::Workspace,
            path: "datastores",
            plural: "datastores",
            noun: "datastores",
            includes: |_| true,
        }),
        list::<AcrAdmin>(ListSpec {
            description: "Lists the Azure Container Registries of a resource group.",
            scope: Scope::ResourceGroup,
            path: "providers/Microsoft.ContainerRegistry/registries",
            plural: "registries",
            noun: "container registries",
            includes: |_| true,
        }),
    ]
}

fn list<S: Setting>(spec: ListSpec) -> Arc<dyn DynListResource> {
    Arc::new(ArmList::<S> {
        spec,
        setting: PhantomData,
    })
}

/// A list resource reading an ARM collection of the objects setting `S` is on (see the
/// module documentation).
pub struct ArmList<S> {
    spec: ListSpec,
    setting: PhantomData<fn() -> S>,
}

#[async_trait]
impl<S: Setting> ListResource for ArmList<S> {
    type Config = ScopeConfig;

    fn type_name(&self) -> &'static str {
        S::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema::new(0, self.spec.config_block())
    }

    fn validate(&self, config: &ScopeConfig, diags: &mut Diagnostics) {
        self.spec.validate(config, diags);
    }

    async fn list(
        &self,
        ctx: &Ctx,
        req: ListRequest<ScopeConfig>,
        out: &mut ListSink,
    ) -> Result<(), Diagnostics> {
        let client = require_client(ctx)?;
        let col = self.spec.collection(&req.config)?;
        let at = config_attr(col.attribute);
        let api_version = S::OBJECT.api_version;
        let mut pager = client.pages(&col.path, api_version, &[]).map_err(|e| {
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
            for body in page.iter().filter(|b| (self.spec.includes)(b)) {
                let Some(id) = jstr(body, &["id"]) else {
                    tracing::warn!(what = %col.what, "a listed object has no id; skipped");
                    continue;
                };
                // The resource's own import stub, completed by its ARM-to-state mapping.
                let state = S::state(body, &S::import(&id)?).to_value();
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
}
