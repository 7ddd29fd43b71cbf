//! The one macro both protocol adapters are generated from.
//!
//! tfplugin5 and tfplugin6 share almost every message shape; prost generates distinct Rust
//! types per package, so the conversions and RPC bodies are written once here and expanded
//! per package. Each RPC decodes its request into framework terms, calls the runtime, and
//! encodes the answer: no provider logic lives in this file.

/// Turns a framework response into the protocol-5 shape where the two protocols differ.
pub(crate) trait EchoConfig: Sized {
    type Config;
    fn echo_config(self, config: Option<Self::Config>) -> Self;
}

macro_rules! provider_adapter {
    (
        pb = $pb:ident,
        server = $server:ident,
        get_schema = $get_schema:ident,
        validate_provider = ($validate_provider:ident, $validate_provider_msg:ident),
        validate_resource = ($validate_resource:ident, $validate_resource_msg:ident),
        validate_data = ($validate_data:ident, $validate_data_msg:ident),
        configure = ($configure:ident, $configure_msg:ident),
        stop = ($stop:ident, $stop_msg:ident),
    ) => {
        use std::sync::{Arc, OnceLock};

        use tonic::{Request, Response, Status};

        use crate::framework::runtime::{
            ApplyResourceChange, PlanResourceChange, RawValue, ReadResource, Runtime,
        };
        use crate::framework::schema::{Block, BlockNesting, IdentitySchema, Schema};
        use crate::framework::{ClientCapabilities, Diagnostics, Severity};
        use crate::value::path::{AttributePath, PathStep};
        use crate::server::adapter::EchoConfig;

        /// The provider service for this protocol version.
        pub struct $server {
            rt: Arc<Runtime>,
            schema_response: OnceLock<$pb::get_provider_schema::Response>,
        }

        impl $server {
            pub fn new(rt: Arc<Runtime>) -> Self {
                Self {
                    rt,
                    schema_response: OnceLock::new(),
                }
            }

            fn build_schema_response(&self) -> $pb::get_provider_schema::Response {
                let s = self.rt.schemas();
                $pb::get_provider_schema::Response {
                    provider: Some(schema(&s.provider)),
                    resource_schemas: s.resources.iter().map(|(k, v)| (k.clone(), schema(v))).collect(),
                    data_source_schemas: s
                        .data_sources
                        .iter()
                        .map(|(k, v)| (k.clone(), schema(v)))
                        .collect(),
                    provider_meta: Some(schema(&s.provider_meta)),
                    server_capabilities: Some(capabilities()),
                    // Terraform before 1.14 does not know this field and skips it.
                    list_resource_schemas: self
                        .rt
                        .lists()
                        .schemas()
                        .iter()
                        .map(|(k, v)| (k.clone(), schema(v)))
                        .collect(),
                    ..Default::default()
                }
            }
        }

        fn capabilities() -> $pb::ServerCapabilities {
            $pb::ServerCapabilities {
                plan_destroy: true,
                get_provider_schema_optional: true,
                ..Default::default()
            }
        }

        fn raw(v: &Option<$pb::DynamicValue>) -> Option<RawValue> {
            v.as_ref().map(|d| RawValue {
                msgpack: d.msgpack.clone(),
                json: d.json.clone(),
            })
        }

        fn dynamic(msgpack: Vec<u8>) -> $pb::DynamicValue {
            $pb::DynamicValue {
                msgpack,
                json: Vec::new(),
            }
        }

        fn identity_data(bytes: Option<Vec<u8>>) -> Option<$pb::ResourceIdentityData> {
            bytes.map(|b| $pb::ResourceIdentityData {
                identity_data: Some(dynamic(b)),
            })
        }

        fn client_caps(c: &Option<$pb::ClientCapabilities>) -> ClientCapabilities {
            c.as_ref()
                .map(|c| ClientCapabilities {
                    deferral_allowed: c.deferral_allowed,
                    write_only_attributes_allowed: c.write_only_attributes_allowed,
                })
                .unwrap_or_default()
        }

        fn path(p: &AttributePath) -> $pb::AttributePath {
            use $pb::attribute_path::{step::Selector, Step};
            $pb::AttributePath {
                steps: p
                    .steps()
                    .iter()
                    .map(|s| Step {
                        selector: Some(match s {
                            PathStep::Attribute(n) => Selector::AttributeName(n.clone()),
                            PathStep::ElementKeyString(k) => Selector::ElementKeyString(k.clone()),
                            PathStep::ElementKeyInt(i) => Selector::ElementKeyInt(*i),
                        }),
                    })
                    .collect(),
            }
        }

        fn diagnostics(d: Diagnostics) -> Vec<$pb::Diagnostic> {
            use $pb::diagnostic::Severity as S;
            d.into_iter()
                .map(|d| $pb::Diagnostic {
                    severity: match d.severity {
                        Severity::Error => S::Error,
                        Severity::Warning => S::Warning,
                    } as i32,
                    summary: d.summary,
                    detail: d.detail,
                    attribute: d.attribute.as_ref().map(path),
                })
                .collect()
        }

        fn schema(s: &Schema) -> $pb::Schema {
            $pb::Schema {
                version: s.version,
                block: Some(block(&s.block, s.version)),
            }
        }

        fn block(b: &Block, version: i64) -> $pb::schema::Block {
            use $pb::schema::nested_block::NestingMode;
            let markdown = $pb::StringKind::Markdown as i32;
            $pb::schema::Block {
                version,
                attributes: b
                    .attributes
                    .iter()
                    .map(|a| $pb::schema::Attribute {
                        name: a.name.clone(),
                        r#type: a.ty.to_json().to_string().into_bytes(),
                        description: a.description.clone(),
                        required: a.required,
                        optional: a.optional,
                        computed: a.computed,
                        sensitive: a.sensitive,
                        description_kind: markdown,
                        deprecated: a.deprecated.is_some(),
                        write_only: a.write_only,
                        deprecation_message: a.deprecated.clone().unwrap_or_default(),
                        ..Default::default()
                    })
                    .collect(),
                block_types: b
                    .blocks
                    .iter()
                    .map(|nb| $pb::schema::NestedBlock {
                        type_name: nb.type_name.clone(),
                        block: Some(block(&nb.block, 0)),
                        nesting: match nb.nesting {
                            BlockNesting::Single => NestingMode::Single,
                            BlockNesting::List => NestingMode::List,
                            BlockNesting::Set => NestingMode::Set,
                        } as i32,
                        min_items: nb.min_items,
                        max_items: nb.max_items,
                    })
                    .collect(),
                description: b.description.clone(),
                description_kind: markdown,
                deprecated: b.deprecated,
                ..Default::default()
            }
        }

        fn identity_schema(s: &IdentitySchema) -> $pb::ResourceIdentitySchema {
            $pb::ResourceIdentitySchema {
                version: s.version,
                identity_attributes: s
                    .attributes
                    .iter()
                    .map(|a| $pb::resource_identity_schema::IdentityAttribute {
                        name: a.name.clone(),
                        r#type: a.ty.to_json().to_string().into_bytes(),
                        required_for_import: a.required_for_import,
                        optional_for_import: a.optional_for_import,
                        description: a.description.clone(),
                    })
                    .collect(),
            }
        }

        #[tonic::async_trait]
        impl $pb::provider_server::Provider for $server {
            async fn get_metadata(
                &self,
                _req: Request<$pb::get_metadata::Request>,
            ) -> Result<Response<$pb::get_metadata::Response>, Status> {
                use $pb::get_metadata::{DataSourceMetadata, ListResourceMetadata, ResourceMetadata};
                let s = self.rt.schemas();
                Ok(Response::new($pb::get_metadata::Response {
                    server_capabilities: Some(capabilities()),
                    resources: s
                        .resources
                        .keys()
                        .map(|k| ResourceMetadata { type_name: k.clone() })
                        .collect(),
                    data_sources: s
                        .data_sources
                        .keys()
                        .map(|k| DataSourceMetadata { type_name: k.clone() })
                        .collect(),
                    list_resources: self
                        .rt
                        .lists()
                        .schemas()
                        .into_keys()
                        .map(|type_name| ListResourceMetadata { type_name })
                        .collect(),
                    ..Default::default()
                }))
            }

            async fn $get_schema(
                &self,
                _req: Request<$pb::get_provider_schema::Request>,
            ) -> Result<Response<$pb::get_provider_schema::Response>, Status> {
                tracing::trace!("GetProviderSchema");
                let resp = self.schema_response.get_or_init(|| self.build_schema_response());
                Ok(Response::new(resp.clone()))
            }

            async fn get_resource_identity_schemas(
                &self,
                _req: Request<$pb::get_resource_identity_schemas::Request>,
            ) -> Result<Response<$pb::get_resource_identity_schemas::Response>, Status> {
                let s = self.rt.schemas();
                Ok(Response::new($pb::get_resource_identity_schemas::Response {
                    identity_schemas: s
                        .identities
                        .iter()
                        .map(|(k, v)| (k.clone(), identity_schema(v)))
                        .collect(),
                    diagnostics: Vec::new(),
                }))
            }

            async fn $validate_provider(
                &self,
                req: Request<$pb::$validate_provider_msg::Request>,
            ) -> Result<Response<$pb::$validate_provider_msg::Response>, Status> {
                let r = req.into_inner();
                let diags = self.rt.validate_provider_config(raw(&r.config).as_ref());
                Ok(Response::new(
                    $pb::$validate_provider_msg::Response {
                        diagnostics: diagnostics(diags),
                        ..Default::default()
                    }
                    .echo_config(r.config),
                ))
            }

            async fn $validate_resource(
                &self,
                req: Request<$pb::$validate_resource_msg::Request>,
            ) -> Result<Response<$pb::$validate_resource_msg::Response>, Status> {
                let r = req.into_inner();
                tracing::debug!(type_name = %r.type_name, "ValidateResourceConfig");
                let diags = self.rt.validate_resource_config(
                    &r.type_name,
                    raw(&r.config).as_ref(),
                    client_caps(&r.client_capabilities),
                );
                Ok(Response::new($pb::$validate_resource_msg::Response {
                    diagnostics: diagnostics(diags),
                }))
            }

            async fn $validate_data(
                &self,
                req: Request<$pb::$validate_data_msg::Request>,
            ) -> Result<Response<$pb::$validate_data_msg::Response>, Status> {
                let r = req.into_inner();
                tracing::debug!(type_name = %r.type_name, "ValidateDataResourceConfig");
                let diags = self.rt.validate_data_source_config(&r.type_name, raw(&r.config).as_ref());
                Ok(Response::new($pb::$validate_data_msg::Response {
                    diagnostics: diagnostics(diags),
                }))
            }

            async fn $configure(
                &self,
                req: Request<$pb::$configure_msg::Request>,
            ) -> Result<Response<$pb::$configure_msg::Response>, Status> {
                let r = req.into_inner();
                tracing::debug!(terraform_version = %r.terraform_version, "ConfigureProvider");
                // ConfigureProvider reads files and decodes certificates: it runs on a
                // blocking-pool thread so the runtime's only thread keeps serving other RPCs.
                let rt = self.rt.clone();
                let config = raw(&r.config);
                let caps = client_caps(&r.client_capabilities);
                let handle = tokio::runtime::Handle::current();
                let diags = tokio::task::spawn_blocking(move || {
                    handle.block_on(async move { rt.configure(config.as_ref(), caps).await })
                })
                .await
                .unwrap_or_else(|e| {
                    Diagnostics::from(crate::framework::Diagnostic::error(
                        "Provider configuration failed",
                        format!("the configuration task ended unexpectedly: {e}"),
                    ))
                });
                Ok(Response::new($pb::$configure_msg::Response {
                    diagnostics: diagnostics(diags),
                }))
            }

            async fn upgrade_resource_state(
                &self,
                req: Request<$pb::upgrade_resource_state::Request>,
            ) -> Result<Response<$pb::upgrade_resource_state::Response>, Status> {
                let r = req.into_inner();
                let raw_state = r.raw_state.unwrap_or_default();
                let (state, diags) = self.rt.upgrade_resource_state(
                    &r.type_name,
                    r.version,
                    &raw_state.json,
                    !raw_state.flatmap.is_empty(),
                );
                Ok(Response::new($pb::upgrade_resource_state::Response {
                    upgraded_state: state.map(dynamic),
                    diagnostics: diagnostics(diags),
                }))
            }

            async fn read_resource(
                &self,
                req: Request<$pb::read_resource::Request>,
            ) -> Result<Response<$pb::read_resource::Response>, Status> {
                let r = req.into_inner();
                tracing::debug!(type_name = %r.type_name, "ReadResource");
                let out = self
                    .rt
                    .read_resource(ReadResource {
                        type_name: &r.type_name,
                        current: raw(&r.current_state).as_ref(),
                        private: r.private,
                        provider_meta: raw(&r.provider_meta).as_ref(),
                        caps: client_caps(&r.client_capabilities),
                    })
                    .await;
                Ok(Response::new($pb::read_resource::Response {
                    new_state: out.new_state.map(dynamic),
                    diagnostics: diagnostics(out.diags),
                    private: out.private,
                    deferred: None,
                    new_identity: identity_data(out.identity),
                }))
            }

            async fn plan_resource_change(
                &self,
                req: Request<$pb::plan_resource_change::Request>,
            ) -> Result<Response<$pb::plan_resource_change::Response>, Status> {
                let r = req.into_inner();
                tracing::debug!(type_name = %r.type_name, "PlanResourceChange");
                let out = self
                    .rt
                    .plan_resource_change(PlanResourceChange {
                        type_name: &r.type_name,
                        prior: raw(&r.prior_state).as_ref(),
                        proposed: raw(&r.proposed_new_state).as_ref(),
                        config: raw(&r.config).as_ref(),
                        prior_private: r.prior_private,
                        provider_meta: raw(&r.provider_meta).as_ref(),
                        caps: client_caps(&r.client_capabilities),
                    })
                    .await;
                Ok(Response::new($pb::plan_resource_change::Response {
                    planned_state: out.planned_state.map(dynamic),
                    requires_replace: out.requires_replace.iter().map(path).collect(),
                    planned_private: out.planned_private,
                    diagnostics: diagnostics(out.diags),
                    legacy_type_system: false,
                    deferred: None,
                    planned_identity: identity_data(out.planned_identity),
                }))
            }

            async fn apply_resource_change(
                &self,
                req: Request<$pb::apply_resource_change::Request>,
            ) -> Result<Response<$pb::apply_resource_change::Response>, Status> {
                let r = req.into_inner();
                tracing::debug!(type_name = %r.type_name, "ApplyResourceChange");
                let out = self
                    .rt
                    .apply_resource_change(ApplyResourceChange {
                        type_name: &r.type_name,
                        prior: raw(&r.prior_state).as_ref(),
                        planned: raw(&r.planned_state).as_ref(),
                        config: raw(&r.config).as_ref(),
                        planned_private: r.planned_private,
                        provider_meta: raw(&r.provider_meta).as_ref(),
                    })
                    .await;
                Ok(Response::new($pb::apply_resource_change::Response {
                    new_state: out.new_state.map(dynamic),
                    private: out.private,
                    diagnostics: diagnostics(out.diags),
                    legacy_type_system: false,
                    new_identity: identity_data(out.identity),
                }))
            }

            async fn import_resource_state(
                &self,
                req: Request<$pb::import_resource_state::Request>,
            ) -> Result<Response<$pb::import_resource_state::Response>, Status> {
                let r = req.into_inner();
                tracing::debug!(type_name = %r.type_name, "ImportResourceState");
                let identity = r
                    .identity
                    .as_ref()
                    .and_then(|i| raw(&i.identity_data));
                let (imported, diags) = self
                    .rt
                    .import_resource_state(
                        &r.type_name,
                        &r.id,
                        identity.as_ref(),
                        client_caps(&r.client_capabilities),
                    )
                    .await;
                Ok(Response::new($pb::import_resource_state::Response {
                    imported_resources: imported
                        .into_iter()
                        .map(|i| $pb::import_resource_state::ImportedResource {
                            type_name: i.type_name,
                            state: Some(dynamic(i.state)),
                            private: i.private,
                            identity: identity_data(i.identity),
                        })
                        .collect(),
                    diagnostics: diagnostics(diags),
                    deferred: None,
                }))
            }

            async fn read_data_source(
                &self,
                req: Request<$pb::read_data_source::Request>,
            ) -> Result<Response<$pb::read_data_source::Response>, Status> {
                let r = req.into_inner();
                tracing::debug!(type_name = %r.type_name, "ReadDataSource");
                let (state, diags) = self
                    .rt
                    .read_data_source(
                        &r.type_name,
                        raw(&r.config).as_ref(),
                        raw(&r.provider_meta).as_ref(),
                        client_caps(&r.client_capabilities),
                    )
                    .await;
                Ok(Response::new($pb::read_data_source::Response {
                    state: state.map(dynamic),
                    diagnostics: diagnostics(diags),
                    deferred: None,
                }))
            }

            async fn validate_list_resource_config(
                &self,
                req: Request<$pb::validate_list_resource_config::Request>,
            ) -> Result<Response<$pb::validate_list_resource_config::Response>, Status> {
                let r = req.into_inner();
                tracing::debug!(type_name = %r.type_name, "ValidateListResourceConfig");
                let diags = self.rt.lists().validate(&r.type_name, raw(&r.config).as_ref());
                Ok(Response::new($pb::validate_list_resource_config::Response {
                    diagnostics: diagnostics(diags),
                }))
            }

            async fn list_resource(
                &self,
                req: Request<$pb::list_resource::Request>,
            ) -> Result<Response<tonic::codegen::BoxStream<$pb::list_resource::Event>>, Status> {
                use tokio_stream::StreamExt;
                let r = req.into_inner();
                tracing::debug!(type_name = %r.type_name, limit = r.limit, "ListResource");
                let events = self.rt.lists().list(
                    self.rt.ctx(ClientCapabilities::default()),
                    &r.type_name,
                    raw(&r.config).as_ref(),
                    r.include_resource_object,
                    r.limit,
                );
                let stream = tokio_stream::wrappers::ReceiverStream::new(events).map(|e| {
                    Ok($pb::list_resource::Event {
                        identity: identity_data(e.identity),
                        display_name: e.display_name,
                        resource_object: e.resource_object.map(dynamic),
                        diagnostic: diagnostics(e.diags),
                    })
                });
                Ok(Response::new(Box::pin(stream)))
            }

            async fn get_functions(
                &self,
                _req: Request<$pb::get_functions::Request>,
            ) -> Result<Response<$pb::get_functions::Response>, Status> {
                Ok(Response::new($pb::get_functions::Response::default()))
            }

            async fn call_function(
                &self,
                req: Request<$pb::call_function::Request>,
            ) -> Result<Response<$pb::call_function::Response>, Status> {
                let name = req.into_inner().name;
                Ok(Response::new($pb::call_function::Response {
                    result: None,
                    error: Some($pb::FunctionError {
                        text: format!("this provider declares no function named \"{name}\""),
                        function_argument: None,
                    }),
                }))
            }

            async fn $stop(
                &self,
                _req: Request<$pb::$stop_msg::Request>,
            ) -> Result<Response<$pb::$stop_msg::Response>, Status> {
                self.rt.stop();
                Ok(Response::new($pb::$stop_msg::Response { error: String::new() }))
            }
        }
    };
}
