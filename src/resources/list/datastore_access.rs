//! `list "amlauth_datastore_access"`: the datastores of an Azure ML workspace.

use async_trait::async_trait;
use serde_json::Value as Json;

use crate::framework::{Block, Ctx, Diagnostics, ToValue};
use crate::value::Value;

use super::compute_identity::{workspace_child, workspace_scope};
use super::{ArmListSpec, Collection, ScopeConfig};
use crate::resources::datastore_access::DatastoreAccess;
use crate::resources::setting::Setting;

pub struct DatastoreAccessList;

#[async_trait]
impl ArmListSpec for DatastoreAccessList {
    fn type_name(&self) -> &'static str {
        "amlauth_datastore_access"
    }

    fn config_block(&self) -> Block {
        workspace_scope(
            "Lists the datastores of an Azure ML workspace.",
            "datastores",
        )
    }

    fn collection(&self, c: &ScopeConfig) -> Result<Collection, Diagnostics> {
        workspace_child(c, "datastores")
    }

    async fn state(&self, _ctx: &Ctx, id: &str, body: &Json) -> Result<Value, Diagnostics> {
        let stub = DatastoreAccess::import(id)?;
        Ok(DatastoreAccess::state(body, &stub).to_value())
    }
}
