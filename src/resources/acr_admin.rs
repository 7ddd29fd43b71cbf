//! `amlauth_acr_admin`: the admin account of an Azure Container Registry, on or off. The
//! secure Azure ML setup turns it off and pulls images with managed identities.
//!
//! ARM calls: `PATCH` registry (api-version [`ACR_API_VERSION`]), then one `GET` of the
//! registry: 2 calls, as Azure answers the `PATCH` with a synchronous `200` (nothing polled). An
//! asynchronous answer (`201`/`202` with `Azure-AsyncOperation` or `Location`, the REST spec's
//! shape) is polled until done: 3 calls when the first poll finds it done. A create with
//! `workspace_id` first reads the workspace (+1); later updates use the registry kept in state.
//! Read: 1 `GET` (2 right after an import by workspace id). Delete: no call.
//! Admin passwords are never read or stored.

use async_trait::async_trait;
use serde_json::json;

use crate::azure::{ResourceId, ResourceIdError};
use crate::framework::timeouts::{self, Operation, Timeouts};
use crate::framework::{
    ApplyError, Attribute, Block, Ctx, Diagnostic, Diagnostics, Field, IdentitySchema, Model,
    ObjectBuilder, ObjectReader, Resource, Schema,
};
use crate::value::Value;
use crate::value::path::AttributePath;

use super::common::{
    ACR_API_VERSION, ALL_OPS, DEFAULT_TIMEOUTS, ML_API_VERSION, azure_error, call_ctx, client,
    failed_write, id_validator, jget, jstr, keep_id_casing, parse_id, require_client,
};
use super::workspace_identity::{id_identity_schema, identity_from_id};

fn acr_id(s: &str) -> Result<ResourceId, ResourceIdError> {
    ResourceId::container_registry(s)
}
fn ws_id(s: &str) -> Result<ResourceId, ResourceIdError> {
    ResourceId::ml_workspace(s)
}

#[derive(Debug, Clone, PartialEq)]
pub struct AcrAdminModel {
    pub id: Field<String>,
    pub registry_id: Field<String>,
    pub workspace_id: Field<String>,
    pub enabled: Field<bool>,
    pub login_server: Field<String>,
    pub timeouts: Field<Timeouts>,
}

impl Model for AcrAdminModel {
    fn from_value(v: &Value) -> Result<Self, Diagnostics> {
        let o = ObjectReader::new(v, AttributePath::root())?;
        Ok(Self {
            id: o.field("id")?,
            registry_id: o.field("registry_id")?,
            workspace_id: o.field("workspace_id")?,
            enabled: o.field("enabled")?,
            login_server: o.field("login_server")?,
            timeouts: Timeouts::read(&o, ALL_OPS)?,
        })
    }

    fn to_value(&self) -> Value {
        ObjectBuilder::new()
            .field("id", &self.id)
            .field("registry_id", &self.registry_id)
            .field("workspace_id", &self.workspace_id)
            .field("enabled", &self.enabled)
            .field("login_server", &self.login_server)
            .value("timeouts", Timeouts::to_value(&self.timeouts, ALL_OPS))
            .build()
    }
}

pub struct AcrAdmin;

pub fn schema() -> Schema {
    let block = Block::new()
        .describe(
            "Turns the admin account of an existing Azure Container Registry on or off. Azure ML enables it on \
             the registry it creates; the secure setup disables it and pulls images with managed identities. \
             Destroying this resource leaves the setting as it is.",
        )
        .attribute(Attribute::string("id").computed().arm_id().use_state_for_unknown().describe("The registry's ARM id."))
        .attribute(
            Attribute::string("registry_id")
                .optional()
                .arm_id()
                .computed()
                .requires_replace()
                .use_state_for_unknown()
                .validate(id_validator("a container registry", acr_id))
                .describe(
                    "ARM id of the registry. Exactly one of `registry_id` and `workspace_id`; when `workspace_id` \
                     is used this is the registry found through the workspace.",
                ),
        )
        .attribute(
            Attribute::string("workspace_id")
                .optional()
                .arm_id()
                .requires_replace()
                .validate(id_validator("an Azure ML workspace", ws_id))
                .describe("ARM id of an Azure ML workspace whose container registry to manage."),
        )
        .attribute(Attribute::bool("enabled").required().describe("Whether the admin account is enabled."))
        .attribute(
            Attribute::string("login_server")
                .computed()
                .use_state_for_unknown()
                .describe("The registry's login server, e.g. `myacr.azurecr.io`."),
        );
    Schema::new(0, timeouts::add_block(block, DEFAULT_TIMEOUTS))
}

fn no_registry(ws: &str) -> Diagnostic {
    Diagnostic::error(
        "Workspace has no container registry yet",
        format!(
            "the workspace \"{ws}\" has no linked Azure Container Registry. Azure ML creates one on the first image \
             build. Either create a registry yourself and link it to the workspace (its `containerRegistry` \
             property, e.g. `container_registry_id` in azurerm), or run an image build first, then apply again. \
             You can also pass the registry directly with `registry_id`."
        ),
    )
    .at(AttributePath::root().attr("workspace_id"))
}

impl AcrAdmin {
    /// The registry id: configured, or found through the workspace (1 GET).
    async fn resolve_registry(
        &self,
        ctx: &Ctx,
        m: &AcrAdminModel,
        op: Operation,
    ) -> Result<String, Diagnostics> {
        if let Some(r) = m.registry_id.known() {
            return Ok(r.clone());
        }
        let raw_ws = m.workspace_id.known().cloned().unwrap_or_default();
        let ws = parse_id(&raw_ws, "workspace_id", ws_id)?;
        let client = require_client(ctx)?;
        let found = client
            .get_json(&ws, ML_API_VERSION, &call_ctx(ctx, &m.timeouts, op))
            .await
            .map_err(|e| Diagnostics::from(azure_error("Failed to read the workspace", &e)))?;
        let Some(body) = found else {
            return Err(Diagnostic::error(
                "Workspace not found",
                format!("the Azure ML workspace \"{raw_ws}\" does not exist"),
            )
            .at(AttributePath::root().attr("workspace_id"))
            .into());
        };
        jstr(&body, &["properties", "containerRegistry"]).ok_or_else(|| no_registry(&raw_ws).into())
    }

    pub fn state(m: &AcrAdminModel, registry: &str, body: &serde_json::Value) -> AcrAdminModel {
        let user = m.registry_id.known().into_iter();
        let registry_id = keep_id_casing(user, registry);
        AcrAdminModel {
            id: Field::Known(registry_id.clone()),
            registry_id: Field::Known(registry_id),
            workspace_id: m.workspace_id.clone(),
            enabled: jget(body, "properties")
                .and_then(|p| jget(p, "adminUserEnabled"))
                .and_then(serde_json::Value::as_bool)
                .into(),
            login_server: jstr(body, &["properties", "loginServer"]).into(),
            timeouts: m.timeouts.clone(),
        }
    }

    async fn apply(
        &self,
        ctx: &Ctx,
        planned: AcrAdminModel,
        op: Operation,
    ) -> Result<AcrAdminModel, ApplyError<AcrAdminModel>> {
        let client = require_client(ctx)?;
        let registry = self.resolve_registry(ctx, &planned, op).await?;
        let id = parse_id(&registry, "registry_id", acr_id)?;
        let enabled = planned.enabled.known().copied().unwrap_or(false);
        tracing::info!(registry = %id, enabled, "setting the container registry admin account");
        let call = call_ctx(ctx, &planned.timeouts, op);
        let body = json!({ "properties": { "adminUserEnabled": enabled } });
        match client
            .patch_and_wait(&id, ACR_API_VERSION, &body, &call)
            .await
        {
            Ok(reg) => Ok(Self::state(&planned, &registry, &reg)),
            Err(e) if e.is_not_found() => Err(Diagnostic::error(
                "Container registry not found",
                format!(
                    "the registry \"{registry}\" does not exist (or the credentials cannot see it)"
                ),
            )
            .at(
                AttributePath::root().attr(if planned.registry_id.is_known() {
                    "registry_id"
                } else {
                    "workspace_id"
                }),
            )
            .into()),
            Err(e) => Err(failed_write(
                ctx,
                &client,
                &id,
                ACR_API_VERSION,
                &planned.timeouts,
                azure_error("Failed to change the registry admin account", &e).into(),
                |reg| Self::state(&planned, &registry, reg),
            )
            .await),
        }
    }
}

#[async_trait]
impl Resource for AcrAdmin {
    type Model = AcrAdminModel;

    fn type_name(&self) -> &'static str {
        "amlauth_acr_admin"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(id_identity_schema("ARM id of the container registry."))
    }

    fn identity(&self, state: &Self::Model) -> Option<Value> {
        identity_from_id(&state.id)
    }

    fn validate(&self, c: &Self::Model, diags: &mut Diagnostics) {
        if c.registry_id.is_unknown() || c.workspace_id.is_unknown() {
            return;
        }
        match (c.registry_id.is_known(), c.workspace_id.is_known()) {
            (true, true) => diags.attribute_error(
                AttributePath::root().attr("workspace_id"),
                "Conflicting arguments",
                "set exactly one of `registry_id` and `workspace_id`, not both",
            ),
            (false, false) => diags.attribute_error(
                AttributePath::root().attr("registry_id"),
                "Missing registry",
                "set exactly one of `registry_id` (the registry's ARM id) or `workspace_id` (to use the workspace's registry)",
            ),
            _ => {}
        }
    }

    async fn create(
        &self,
        ctx: &Ctx,
        planned: Self::Model,
        _config: Self::Model,
    ) -> Result<Self::Model, ApplyError<Self::Model>> {
        self.apply(ctx, planned, Operation::Create).await
    }

    async fn read(
        &self,
        ctx: &Ctx,
        state: Self::Model,
    ) -> Result<Option<Self::Model>, Diagnostics> {
        let Some(client) = client(ctx)? else {
            return Ok(Some(state));
        };
        let registry = match state.registry_id.known().or(state.id.known()) {
            Some(r) => r.clone(),
            None => self.resolve_registry(ctx, &state, Operation::Read).await?,
        };
        let id = parse_id(&registry, "registry_id", acr_id)?;
        match client
            .get_json(
                &id,
                ACR_API_VERSION,
                &call_ctx(ctx, &state.timeouts, Operation::Read),
            )
            .await
        {
            Ok(Some(reg)) => Ok(Some(Self::state(&state, &registry, &reg))),
            Ok(None) => Ok(None),
            Err(e) => Err(azure_error("Failed to read the container registry", &e).into()),
        }
    }

    async fn update(
        &self,
        ctx: &Ctx,
        _prior: Self::Model,
        planned: Self::Model,
        _config: Self::Model,
    ) -> Result<Self::Model, ApplyError<Self::Model>> {
        self.apply(ctx, planned, Operation::Update).await
    }

    async fn delete(&self, _ctx: &Ctx, _prior: Self::Model) -> Result<(), Diagnostics> {
        tracing::info!(
            "no longer managing the registry admin account; Azure keeps the setting as it is"
        );
        Ok(())
    }

    /// Import by registry id, or by workspace id to manage the workspace's registry.
    async fn import(&self, _ctx: &Ctx, id: &str) -> Result<Self::Model, Diagnostics> {
        let empty = AcrAdminModel {
            id: Field::Null,
            registry_id: Field::Null,
            workspace_id: Field::Null,
            enabled: Field::Null,
            login_server: Field::Null,
            timeouts: Field::Null,
        };
        if acr_id(id).is_ok() {
            return Ok(AcrAdminModel {
                id: Field::Known(id.into()),
                registry_id: Field::Known(id.into()),
                ..empty
            });
        }
        if ws_id(id).is_ok() {
            return Ok(AcrAdminModel {
                workspace_id: Field::Known(id.into()),
                ..empty
            });
        }
        Err(Diagnostic::error(
            "Invalid import id",
            format!("\"{id}\" is neither a container registry id (/subscriptions/…/providers/Microsoft.ContainerRegistry/registries/NAME) nor an Azure ML workspace id"),
        )
        .into())
    }
}
