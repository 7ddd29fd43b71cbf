//! A provider for framework tests: no configuration to speak of, and only the resources it
//! is built with.

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;

use amlauth::framework::erased::{DynDataSource, DynResource};
use amlauth::framework::list::DynListResource;
use amlauth::framework::{Block, ClientCapabilities, Diagnostics, Provider, Schema};
use amlauth::value::Value;

pub struct ToyProvider {
    pub schema: Schema,
    pub resources: Vec<Arc<dyn DynResource>>,
    pub list_resources: Vec<Arc<dyn DynListResource>>,
}

impl ToyProvider {
    /// An empty provider schema and no resources yet.
    pub fn new() -> Self {
        Self {
            schema: Schema::new(0, Block::new()),
            resources: Vec::new(),
            list_resources: Vec::new(),
        }
    }
}

#[async_trait]
impl Provider for ToyProvider {
    fn schema(&self) -> Schema {
        self.schema.clone()
    }
    async fn configure(
        &self,
        _config: &Value,
        _caps: ClientCapabilities,
    ) -> Result<(Arc<dyn Any + Send + Sync>, Diagnostics), Diagnostics> {
        Ok((Arc::new(()), Diagnostics::new()))
    }
    fn resources(&self) -> Vec<Arc<dyn DynResource>> {
        self.resources.clone()
    }
    fn data_sources(&self) -> Vec<Arc<dyn DynDataSource>> {
        Vec::new()
    }
    fn list_resources(&self) -> Vec<Arc<dyn DynListResource>> {
        self.list_resources.clone()
    }
}
