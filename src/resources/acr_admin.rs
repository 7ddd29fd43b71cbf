//! `amlauth_acr_admin`: the admin account of an Azure Container Registry, on or off. The
//! secure Azure ML setup turns it off and pulls images with managed identities.
//!
//! ARM calls: `PATCH` registry (api-version [`ACR_API_VERSION`](super::common::ACR_API_VERSION)), then one `GET` of the
//! registry: 2 calls, as Azure answers the `PATCH` with a synchronous `200` (nothing polled). An
//! asynchronous answer (`201`/`202` with `Azure-AsyncOperation` or `Location`, the REST spec's
//! shape) is polled until done: 3 calls when the first poll finds it done. A create with
//! `workspace_id` first reads the workspace (+1); later updates use the registry kept in state.
//! Read: 1 `GET` (2 right after an import by workspace id). Delete: no call.
//! Admin passwords are never read or stored.

use async_trait::async_trait;
use serde_json::{Value as Json, json};

use crate::azure::ResourceId;
use crate::framework::timeouts::{Operation, Timeouts};
use crate::framework::{Attribute, Block, Ctx, Diagnostic, Diagnostics, Field, Model};
use crate::value::path::AttributePath;

use super::common::{azure_error, call_ctx, jget, jstr, parse_id, require_client};
use super::object::{ArmObject, CONTAINER_REGISTRY, WORKSPACE};
use super::setting::{Setting, Write, WriteError};

#[derive(Debug, Clone, PartialEq, Default, Model)]
pub struct AcrAdminModel {
    #[model(id)]
    pub id: Field<String>,
    #[model(target)]
    pub registry_id: Field<String>,
    pub workspace_id: Field<String>,
    pub enabled: Field<bool>,
    pub login_server: Field<String>,
    #[model(timeouts)]
    pub timeouts: Field<Timeouts>,
}

pub struct AcrAdmin;

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

#[async_trait]
impl Setting for AcrAdmin {
    type Model = AcrAdminModel;
    const TYPE_NAME: &'static str = "amlauth_acr_admin";
    const OBJECT: &'static ArmObject = &CONTAINER_REGISTRY;
    const WRITE_FAILED: &'static str = "Failed to change the registry admin account";

    /// `registry_id`, or the registry found through `workspace_id`.
    fn target_attribute() -> Attribute {
        Attribute::string("registry_id")
            .optional()
            .arm_id()
            .computed()
            .requires_replace()
            .use_state_for_unknown()
            .validate(CONTAINER_REGISTRY.validator())
            .describe(CONTAINER_REGISTRY.target_doc)
    }

    fn schema(block: Block) -> Block {
        block
            .describe(
                "Turns the admin account of an existing Azure Container Registry on or off. Azure ML enables it on \
                 the registry it creates; the secure setup disables it and pulls images with managed identities. \
                 Destroying this resource leaves the setting as it is.",
            )
            .attribute(
                Attribute::string("workspace_id")
                    .optional()
                    .arm_id()
                    .requires_replace()
                    .validate(WORKSPACE.validator())
                    .describe("ARM id of an Azure ML workspace whose container registry to manage."),
            )
            .attribute(Attribute::bool("enabled").required().describe("Whether the admin account is enabled."))
            .attribute(
                Attribute::string("login_server")
                    .computed()
                    .use_state_for_unknown()
                    .describe("The registry's login server, e.g. `myacr.azurecr.io`."),
            )
    }

    /// `id` and `registry_id` are the registry the write or read targeted.
    fn state(body: &Json, m: &AcrAdminModel) -> AcrAdminModel {
        AcrAdminModel {
            id: m.registry_id.clone(),
            enabled: jget(body, "properties")
                .and_then(|p| jget(p, "adminUserEnabled"))
                .and_then(Json::as_bool)
                .into(),
            login_server: jstr(body, &["properties", "loginServer"]).into(),
            ..m.clone()
        }
    }

    async fn write(&self, w: &Write<'_, AcrAdminModel>) -> Result<Json, WriteError> {
        let enabled = w.planned.enabled.known().copied().unwrap_or(false);
        tracing::info!(registry = %w.id, enabled, "setting the container registry admin account");
        w.patch(&json!({ "properties": { "adminUserEnabled": enabled } }))
            .await
    }

    fn validate(&self, c: &AcrAdminModel, diags: &mut Diagnostics) {
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

    fn not_found_at(m: &AcrAdminModel) -> &'static str {
        if m.workspace_id.is_known() {
            "workspace_id"
        } else {
            "registry_id"
        }
    }

    /// The registry found through the workspace (1 GET).
    async fn find_target(
        &self,
        ctx: &Ctx,
        m: &AcrAdminModel,
        op: Operation,
    ) -> Result<Option<String>, Diagnostics> {
        let raw_ws = m.workspace_id.known().cloned().unwrap_or_default();
        let ws = parse_id(&raw_ws, "workspace_id", WORKSPACE.parse)?;
        let client = require_client(ctx)?;
        let found = client
            .get_json(&ws, WORKSPACE.api_version, &call_ctx(ctx, &m.timeouts, op))
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
        jstr(&body, &["properties", "containerRegistry"])
            .map(Some)
            .ok_or_else(|| no_registry(&raw_ws).into())
    }

    /// Import by registry id, or by workspace id to manage the workspace's registry.
    fn import(id: &str) -> Result<AcrAdminModel, Diagnostics> {
        if ResourceId::container_registry(id).is_ok() {
            return Ok(AcrAdminModel {
                id: Field::Known(id.into()),
                registry_id: Field::Known(id.into()),
                ..Default::default()
            });
        }
        if ResourceId::ml_workspace(id).is_ok() {
            return Ok(AcrAdminModel {
                workspace_id: Field::Known(id.into()),
                ..Default::default()
            });
        }
        Err(Diagnostic::error(
            "Invalid import id",
            format!("\"{id}\" is neither a container registry id (/subscriptions/…/providers/Microsoft.ContainerRegistry/registries/NAME) nor an Azure ML workspace id"),
        )
        .into())
    }
}
