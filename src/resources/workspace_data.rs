//! `amlauth_workspace` data source: a workspace's identity and linked resources, by id.
//! ARM calls: 1 `GET` of the workspace.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::azure::{ArmClient, CallContext, ResourceId};
use crate::framework::{
    Attribute, Block, Ctx, DataSource, Diagnostic, Diagnostics, Field, Model, ReadDataRequest,
    Schema,
};
use crate::value::Type;
use crate::value::path::AttributePath;

use super::common::{azure_error, jstr, parse_id, require_client};
use super::identity::{RemoteIdentity, UserIdentityInfo, has_user};
use super::object::WORKSPACE;

#[derive(Debug, Clone, PartialEq, Default, Model)]
pub struct WorkspaceDataModel {
    pub id: Field<String>,
    pub identity_type: Field<String>,
    pub principal_id: Field<String>,
    pub tenant_id: Field<String>,
    pub user_assigned_identities: Field<BTreeMap<String, UserIdentityInfo>>,
    pub primary_user_assigned_identity_id: Field<String>,
    pub system_datastores_auth_mode: Field<String>,
    pub storage_account_id: Field<String>,
    pub key_vault_id: Field<String>,
    pub container_registry_id: Field<String>,
    pub application_insights_id: Field<String>,
}

const OUTPUTS: &[(&str, &str)] = &[
    (
        "identity_type",
        "`SystemAssigned`, `UserAssigned`, `SystemAssigned,UserAssigned` or `None`.",
    ),
    (
        "principal_id",
        "Principal id of the system-assigned identity (null without one).",
    ),
    (
        "tenant_id",
        "Tenant id of the system-assigned identity (null without one).",
    ),
    (
        "primary_user_assigned_identity_id",
        "The primary user-assigned identity, if any.",
    ),
    (
        "system_datastores_auth_mode",
        "How the system datastores authenticate (`AccessKey`, `Identity`, `UserDelegationSAS`).",
    ),
    (
        "storage_account_id",
        "ARM id of the linked storage account.",
    ),
    ("key_vault_id", "ARM id of the linked key vault."),
    (
        "container_registry_id",
        "ARM id of the linked container registry (null until Azure ML creates one).",
    ),
    (
        "application_insights_id",
        "ARM id of the linked Application Insights component.",
    ),
];

/// A workspace read by a data source: the id as the user wrote it, the client and call context
/// for further reads, the parsed id and the workspace's ARM body.
pub struct WorkspaceRead {
    pub raw: String,
    pub client: Arc<ArmClient>,
    pub id: ResourceId,
    pub call: CallContext,
    pub body: serde_json::Value,
}

/// Reads the workspace whose id is the data source's attribute `attr` (`field`, required, so
/// known by read time); a missing workspace is an error on that attribute.
pub async fn read_workspace(
    ctx: &Ctx,
    field: &Field<String>,
    attr: &str,
) -> Result<WorkspaceRead, Diagnostics> {
    let raw = field.known().cloned().unwrap_or_default();
    let client = require_client(ctx)?;
    let id = parse_id(&raw, attr, WORKSPACE.parse)?;
    let call = CallContext::with_timeout(READ_TIMEOUT, ctx.cancel.clone());
    let body = client
        .get_json(&id, WORKSPACE.api_version, &call)
        .await
        .map_err(|e| Diagnostics::from(azure_error("Failed to read the workspace", &e)))?
        .ok_or_else(|| {
            Diagnostics::from(
                Diagnostic::error(
                    "Workspace not found",
                    format!("the Azure ML workspace \"{raw}\" does not exist"),
                )
                .at(AttributePath::root().attr(attr)),
            )
        })?;
    Ok(WorkspaceRead {
        raw,
        client,
        id,
        call,
        body,
    })
}

/// How long a data source read may take in all.
const READ_TIMEOUT: Duration = Duration::from_secs(300);

pub struct WorkspaceData;

pub fn schema() -> Schema {
    let mut block = Block::new()
        .describe("Reads an Azure ML workspace's identity and the ids of its linked resources.")
        .attribute(
            Attribute::string("id")
                .required()
                .validate(WORKSPACE.validator())
                .describe("ARM id of the workspace."),
        )
        .attribute(
            Attribute::new(
                "user_assigned_identities",
                Type::Map(Box::new(UserIdentityInfo::value_type())),
            )
            .computed()
            .describe("Attached user-assigned identities: id to `principal_id` and `client_id`."),
        );
    for (name, doc) in OUTPUTS {
        block = block.attribute(Attribute::string(*name).computed().describe(*doc));
    }
    Schema::new(0, block)
}

#[async_trait]
impl DataSource for WorkspaceData {
    type Model = WorkspaceDataModel;

    fn type_name(&self) -> &'static str {
        "amlauth_workspace"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn read(
        &self,
        req: ReadDataRequest<'_, Self::Model>,
    ) -> Result<Self::Model, Diagnostics> {
        let WorkspaceRead { raw, body: ws, .. } =
            read_workspace(req.ctx, &req.config.id, "id").await?;
        let identity = RemoteIdentity::from_arm(&ws);
        let prop = |k: &str| Field::from(jstr(&ws, &["properties", k]));
        Ok(WorkspaceDataModel {
            id: Field::Known(raw),
            primary_user_assigned_identity_id: if has_user(&identity.type_) {
                prop("primaryUserAssignedIdentity")
            } else {
                Field::Null
            },
            identity_type: Field::Known(identity.type_.clone()),
            principal_id: identity.principal_id.clone().into(),
            tenant_id: identity.tenant_id.clone().into(),
            user_assigned_identities: Field::Known(identity.user_assigned),
            system_datastores_auth_mode: prop("systemDatastoresAuthMode"),
            storage_account_id: prop("storageAccount"),
            key_vault_id: prop("keyVault"),
            container_registry_id: prop("containerRegistry"),
            application_insights_id: prop("applicationInsights"),
        })
    }
}
