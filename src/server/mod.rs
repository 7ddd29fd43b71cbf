//! Protocol servers: tfplugin6 and tfplugin5 as thin adapters over
//! [`crate::framework::runtime::Runtime`]. Both are generated from one macro
//! (`adapter`) so they cannot drift apart; only the RPC names differ.
//!
//! RPCs this provider does not use answer the way Terraform tolerates:
//! - `GetFunctions` returns an empty list (core reads functions from the schema anyway);
//!   `CallFunction` returns a `FunctionError` (we declare no functions, so Terraform never calls it);
//! - `MoveResourceState`, `GenerateResourceConfig`, `UpgradeResourceIdentity`, ephemeral
//!   resources, actions and state stores answer `Unimplemented`; Terraform only calls them
//!   for features we do not declare (the server capabilities say so).
//!
//! List resources (`terraform query`) are served from [`crate::framework::list`]; their
//! schemas go out in `GetProviderSchema.list_resource_schemas`, a field Terraform before 1.14
//! does not know and skips.

#[macro_use]
mod adapter;

use std::sync::Arc;

use tonic::service::Routes;

use crate::framework::runtime::Runtime;
use crate::plugin::{MAX_MESSAGE_SIZE, ProtocolVersion};

// What differs between the protocols, protocol 6 then protocol 5: the generated types, the
// service, and the RPCs protocol 6 renamed. Everything else is shared (see `adapter`).
provider_adapters! {
    module: v6, v5;
    pb: tfplugin6, tfplugin5;
    server: ProviderV6, ProviderV5;
    get_schema: get_provider_schema, get_schema;
    validate_provider: validate_provider_config, prepare_provider_config;
    validate_resource: validate_resource_config, validate_resource_type_config;
    validate_data: validate_data_resource_config, validate_data_source_config;
    configure: configure_provider, configure;
    stop: stop_provider, stop;
}

// Protocol 6 has no prepared config: Terraform uses its own copy.
impl adapter::EchoConfig for crate::proto::tfplugin6::validate_provider_config::Response {
    type Config = crate::proto::tfplugin6::DynamicValue;

    fn echo_config(self, _config: Option<Self::Config>) -> Self {
        self
    }
}

// Protocol 5 lets a provider rewrite its configuration here; we never do, so the
// configuration goes back unchanged.
impl adapter::EchoConfig for crate::proto::tfplugin5::prepare_provider_config::Response {
    type Config = crate::proto::tfplugin5::DynamicValue;

    fn echo_config(mut self, config: Option<Self::Config>) -> Self {
        self.prepared_config = config;
        self
    }
}

/// The provider service for the negotiated protocol, ready for the plugin host.
pub fn routes(version: ProtocolVersion, runtime: Arc<Runtime>) -> Routes {
    match version {
        ProtocolVersion::V6 => Routes::new(
            crate::proto::tfplugin6::provider_server::ProviderServer::new(v6::ProviderV6::new(
                runtime,
            ))
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE),
        ),
        ProtocolVersion::V5 => Routes::new(
            crate::proto::tfplugin5::provider_server::ProviderServer::new(v5::ProviderV5::new(
                runtime,
            ))
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE),
        ),
    }
}
