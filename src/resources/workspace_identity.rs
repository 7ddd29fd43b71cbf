//! `amlauth_workspace_identity`: the managed identity of an existing Azure ML workspace
//! (system-assigned, user-assigned or both, with the primary user-assigned identity) and the
//! auth mode of its system datastores.
//!
//! ARM calls (api-version [`ML_API_VERSION`]):
//! - create / update: `PATCH` workspace (202), polls of the `Azure-AsyncOperation` status URL
//!   (Azure sends it next to `Location`; the `Location` URL is polled only when it is the sole
//!   header) until done, one `GET` of the workspace: 3 calls when the operation finishes by the
//!   first poll;
//! - read: 1 `GET`; import: the read that follows it, 1 `GET`;
//! - delete: no call (the identity is left as it is).

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use serde_json::{Value as Json, json};

use crate::azure::{ResourceId, ResourceIdError};
use crate::framework::timeouts::{self, Operation, Timeouts};
use crate::framework::validators::OneOf;
use crate::framework::{
    ApplyError, Attribute, Block, Ctx, Diagnostic, Diagnostics, Field, IdentityAttribute,
    IdentitySchema, Model, ObjectBuilder, ObjectReader, PlanRequest, PlanResponse, Resource,
    Schema,
};
use crate::value::path::AttributePath;
use crate::value::{Type, Value};

use super::common::{
    ALL_OPS, DEFAULT_TIMEOUTS, ML_API_VERSION, azure_error, call_ctx, client, failed_write,
    id_validator, jstr, keep_casing, keep_id_casing, note_provisioning_state, parse_id,
    require_client,
};
use super::identity::{
    BOTH, RemoteIdentity, SYSTEM_ASSIGNED, USER_ASSIGNED, UserIdentityInfo, has_system, has_user,
    identity_body, same_ids,
};

pub const AUTH_MODES: &[&str] = &["AccessKey", "Identity", "UserDelegationSAS"];

fn ws_id(s: &str) -> Result<ResourceId, ResourceIdError> {
    ResourceId::ml_workspace(s)
}
fn uai_id(s: &str) -> Result<ResourceId, ResourceIdError> {
    ResourceId::user_assigned_identity(s)
}

/// Terraform state and configuration of the resource.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkspaceIdentityModel {
    pub id: Field<String>,
    pub workspace_id: Field<String>,
    pub type_: Field<String>,
    pub user_assigned_identity_ids: Field<BTreeSet<String>>,
    pub primary_user_assigned_identity_id: Field<String>,
    pub system_datastores_auth_mode: Field<String>,
    pub principal_id: Field<String>,
    pub tenant_id: Field<String>,
    pub user_assigned_identities: Field<BTreeMap<String, UserIdentityInfo>>,
    pub timeouts: Field<Timeouts>,
}

impl Model for WorkspaceIdentityModel {
    fn from_value(v: &Value) -> Result<Self, Diagnostics> {
        let o = ObjectReader::new(v, AttributePath::root())?;
        Ok(Self {
            id: o.field("id")?,
            workspace_id: o.field("workspace_id")?,
            type_: o.field("type")?,
            user_assigned_identity_ids: o.field("user_assigned_identity_ids")?,
            primary_user_assigned_identity_id: o.field("primary_user_assigned_identity_id")?,
            system_datastores_auth_mode: o.field("system_datastores_auth_mode")?,
            principal_id: o.field("principal_id")?,
            tenant_id: o.field("tenant_id")?,
            user_assigned_identities: o.field("user_assigned_identities")?,
            timeouts: Timeouts::read(&o, ALL_OPS)?,
        })
    }

    fn to_value(&self) -> Value {
        ObjectBuilder::new()
            .field("id", &self.id)
            .field("workspace_id", &self.workspace_id)
            .field("type", &self.type_)
            .field(
                "user_assigned_identity_ids",
                &self.user_assigned_identity_ids,
            )
            .field(
                "primary_user_assigned_identity_id",
                &self.primary_user_assigned_identity_id,
            )
            .field(
                "system_datastores_auth_mode",
                &self.system_datastores_auth_mode,
            )
            .field("principal_id", &self.principal_id)
            .field("tenant_id", &self.tenant_id)
            .field("user_assigned_identities", &self.user_assigned_identities)
            .value("timeouts", Timeouts::to_value(&self.timeouts, ALL_OPS))
            .build()
    }
}

pub struct WorkspaceIdentity;

pub fn schema() -> Schema {
    let block = Block::new()
        .describe(
            "Manages the managed identity of an existing Azure Machine Learning workspace: system-assigned, \
             user-assigned or both, the primary user-assigned identity, and how the workspace's system \
             datastores authenticate. The workspace itself is never created or deleted; destroying this \
             resource leaves the identity as it is.",
        )
        .attribute(
            Attribute::string("id")
                .computed()
                .arm_id()
                .use_state_for_unknown()
                .describe("The workspace's ARM id."),
        )
        .attribute(
            Attribute::string("workspace_id")
                .required()
                .arm_id()
                .requires_replace()
                .validate(id_validator("an Azure ML workspace", ws_id))
                .describe("ARM id of the Azure ML workspace. Changing it replaces the resource."),
        )
        .attribute(
            Attribute::string("type")
                .required()
                .validate(OneOf::new(&[SYSTEM_ASSIGNED, USER_ASSIGNED, BOTH]))
                .describe("`SystemAssigned`, `UserAssigned` or `SystemAssigned,UserAssigned` (no space)."),
        )
        .attribute(
            Attribute::string_set("user_assigned_identity_ids")
                .optional()
                .arm_id()
                .validate(id_validator("a user-assigned managed identity", uai_id))
                .describe(
                    "ARM ids of the user-assigned identities to attach. Required when `type` includes \
                     `UserAssigned`; the set replaces whatever is attached.",
                ),
        )
        .attribute(
            Attribute::string("primary_user_assigned_identity_id")
                .optional()
                .arm_id()
                .computed()
                .validate(id_validator("a user-assigned managed identity", uai_id))
                .describe(
                    "The user-assigned identity the workspace uses by default. Required when `type` is \
                     `UserAssigned`; must be one of `user_assigned_identity_ids`.",
                ),
        )
        .attribute(
            Attribute::string("system_datastores_auth_mode")
                .optional()
                .computed()
                .validate(OneOf::new(AUTH_MODES))
                .describe(
                    "How the workspace's system datastores authenticate: `AccessKey`, `Identity` or \
                     `UserDelegationSAS`. Left as it is when not set.",
                ),
        )
        .attribute(
            Attribute::string("principal_id")
                .computed()
                .describe("Principal id of the system-assigned identity (null without one)."),
        )
        .attribute(
            Attribute::string("tenant_id")
                .computed()
                .describe("Tenant id of the system-assigned identity (null without one)."),
        )
        .attribute(
            Attribute::new(
                "user_assigned_identities",
                Type::Map(Box::new(UserIdentityInfo::value_type())),
            )
            .computed()
            .arm_id()
            .describe("Attached user-assigned identities: id to `principal_id` and `client_id`."),
        );
    Schema::new(0, timeouts::add_block(block, DEFAULT_TIMEOUTS))
}

/// What ARM's identity check will refuse, caught at validate with attribute paths.
pub fn validate_identity(
    type_: &Field<String>,
    ids: &Field<BTreeSet<String>>,
    primary: &Field<String>,
    diags: &mut Diagnostics,
) {
    let Some(t) = type_.known() else { return };
    let ids_path = AttributePath::root().attr("user_assigned_identity_ids");
    let primary_path = AttributePath::root().attr("primary_user_assigned_identity_id");
    if has_user(t) {
        if ids.is_null() || ids.known().is_some_and(BTreeSet::is_empty) {
            diags.attribute_error(
                ids_path.clone(),
                "Missing user-assigned identities",
                format!("`type = \"{t}\"` needs at least one id in `user_assigned_identity_ids`."),
            );
        }
    } else if !ids.is_null() && !ids.known().is_some_and(BTreeSet::is_empty) {
        diags.attribute_error(
            ids_path.clone(),
            "User-assigned identities need a UserAssigned type",
            format!(
                "`type = \"{t}\"` has no user-assigned part, and Azure rejects user-assigned identities with it. \
                 Use `type = \"{BOTH}\"` or remove `user_assigned_identity_ids`."
            ),
        );
    }
    if t == USER_ASSIGNED && primary.is_null() {
        diags.attribute_error(
            primary_path.clone(),
            "Missing primary user-assigned identity",
            "a workspace with only user-assigned identities needs `primary_user_assigned_identity_id`, one of `user_assigned_identity_ids`.",
        );
    }
    if !has_user(t) && !primary.is_null() {
        diags.attribute_error(
            primary_path.clone(),
            "Primary identity needs a UserAssigned type",
            format!("`type = \"{t}\"` has no user-assigned identities to choose a primary from."),
        );
    }
    if let (Some(p), Some(set)) = (primary.known(), ids.known())
        && has_user(t)
        && !set.iter().any(|i| i.eq_ignore_ascii_case(p))
    {
        diags.attribute_error(
            primary_path,
            "Primary identity not attached",
            format!("\"{p}\" is not one of `user_assigned_identity_ids`."),
        );
    }
}

/// The PATCH body: only what this resource owns.
pub fn patch_body(m: &WorkspaceIdentityModel) -> Json {
    let t = m.type_.known().cloned().unwrap_or_default();
    let ids = m
        .user_assigned_identity_ids
        .known()
        .cloned()
        .unwrap_or_default();
    let mut props = serde_json::Map::new();
    if has_user(&t)
        && let Some(p) = m.primary_user_assigned_identity_id.known()
    {
        props.insert("primaryUserAssignedIdentity".into(), json!(p));
    }
    if let Some(mode) = m.system_datastores_auth_mode.known() {
        props.insert("systemDatastoresAuthMode".into(), json!(mode));
    }
    let mut body = json!({ "identity": identity_body(&t, &ids) });
    if !props.is_empty() {
        body["properties"] = Json::Object(props);
    }
    body
}

/// State from a workspace body, keeping the user's spelling where Azure only re-cased.
pub fn state_from_arm(ws: &Json, user: &WorkspaceIdentityModel) -> WorkspaceIdentityModel {
    let user_ids = user
        .user_assigned_identity_ids
        .known()
        .cloned()
        .unwrap_or_default();
    let mut known = user_ids.clone();
    if let Some(p) = user.primary_user_assigned_identity_id.known() {
        known.insert(p.clone());
    }
    let mut remote = RemoteIdentity::from_arm(ws, &known);
    remote.user_assigned = std::mem::take(&mut remote.user_assigned)
        .into_iter()
        .map(|(id, info)| (canonical_unless_known(&known, id), info))
        .collect();
    let has_ua = has_user(&remote.type_);
    let primary = jstr(ws, &["properties", "primaryUserAssignedIdentity"])
        .filter(|_| has_ua)
        .map(|p| canonical_unless_known(&known, keep_id_casing(&known, &p)));
    let mode = jstr(ws, &["properties", "systemDatastoresAuthMode"]).map(|m| {
        keep_casing(
            user.system_datastores_auth_mode.known().map(String::as_str),
            &m,
        )
    });
    WorkspaceIdentityModel {
        id: user.id.clone(),
        workspace_id: user.workspace_id.clone(),
        user_assigned_identity_ids: if has_ua || !remote.user_assigned.is_empty() {
            Field::Known(remote.user_ids())
        } else {
            Field::Null
        },
        user_assigned_identities: if remote.user_assigned.is_empty() {
            Field::Null
        } else {
            Field::Known(remote.user_assigned.clone())
        },
        type_: Field::Known(remote.type_),
        primary_user_assigned_identity_id: primary.into(),
        system_datastores_auth_mode: mode.into(),
        principal_id: remote.principal_id.into(),
        tenant_id: remote.tenant_id.into(),
        timeouts: user.timeouts.clone(),
    }
}

/// An identity id the user has not written (after an import, or attached out of band) in
/// ARM's canonical spelling: ARM answers these keys lower-cased, while users copy ids in the
/// documented form (`resourceGroups/…/Microsoft.ManagedIdentity/userAssignedIdentities/…`),
/// so an import followed by a plan would otherwise propose a casing-only change. Names keep
/// the casing ARM returned.
fn canonical_unless_known(known: &BTreeSet<String>, id: String) -> String {
    if known.contains(&id) {
        return id;
    }
    match uai_id(&id) {
        Ok(p) => ResourceId::new_user_assigned_identity(
            p.subscription(),
            p.resource_group().unwrap_or_default(),
            p.name(),
        )
        .to_string(),
        Err(_) => id,
    }
}

fn not_found(id: &str) -> Diagnostic {
    Diagnostic::error(
        "Workspace not found",
        format!(
            "the Azure ML workspace \"{id}\" does not exist (or the credentials cannot see it). \
             amlauth_workspace_identity manages the identity of an existing workspace: create the workspace first \
             (for example with azurerm_machine_learning_workspace) and pass its id."
        ),
    )
    .at(AttributePath::root().attr("workspace_id"))
}

impl WorkspaceIdentity {
    async fn apply(
        &self,
        ctx: &Ctx,
        planned: WorkspaceIdentityModel,
        op: Operation,
    ) -> Result<WorkspaceIdentityModel, ApplyError<WorkspaceIdentityModel>> {
        let client = require_client(ctx)?;
        let raw_id = planned.workspace_id.known().cloned().unwrap_or_default();
        let id = parse_id(&raw_id, "workspace_id", ws_id)?;
        let call = call_ctx(ctx, &planned.timeouts, op);
        let mut planned = planned;
        planned.id = Field::Known(raw_id.clone());
        tracing::info!(workspace = %id, "updating workspace identity");
        match client
            .patch_and_wait(&id, ML_API_VERSION, &patch_body(&planned), &call)
            .await
        {
            Ok(ws) => Ok(state_from_arm(&ws, &planned)),
            Err(e) if e.is_not_found() => Err(not_found(&raw_id).into()),
            Err(e) => Err(failed_write(
                ctx,
                &client,
                &id,
                ML_API_VERSION,
                &planned.timeouts,
                azure_error("Failed to update the workspace identity", &e).into(),
                |ws| state_from_arm(ws, &planned),
            )
            .await),
        }
    }
}

#[async_trait]
impl Resource for WorkspaceIdentity {
    type Model = WorkspaceIdentityModel;

    fn type_name(&self) -> &'static str {
        "amlauth_workspace_identity"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(id_identity_schema("ARM id of the Azure ML workspace."))
    }

    fn identity(&self, state: &Self::Model) -> Option<Value> {
        identity_from_id(&state.id)
    }

    fn validate(&self, c: &Self::Model, diags: &mut Diagnostics) {
        validate_identity(
            &c.type_,
            &c.user_assigned_identity_ids,
            &c.primary_user_assigned_identity_id,
            diags,
        );
    }

    async fn modify_plan(
        &self,
        req: PlanRequest<'_, Self::Model>,
        planned: &mut Self::Model,
        resp: &mut PlanResponse,
    ) {
        let c = req.config;
        if let Field::Known(w) = &c.workspace_id {
            planned.id = Field::Known(w.clone());
        }
        let Some(t) = c.type_.known().cloned() else {
            return;
        };
        let ids = c
            .user_assigned_identity_ids
            .known()
            .cloned()
            .unwrap_or_default();
        let prior = req.prior.filter(|p| p.workspace_id == c.workspace_id);
        let unchanged = prior.is_some_and(|p| {
            p.type_.known() == Some(&t)
                && same_ids(
                    &p.user_assigned_identity_ids
                        .known()
                        .cloned()
                        .unwrap_or_default(),
                    &ids,
                )
        });

        if let Some(p) = prior
            && p.type_.known().map(String::as_str) == Some(BOTH)
            && t == SYSTEM_ASSIGNED
        {
            resp.diags.push(
                Diagnostic::warning(
                    "Azure may refuse this identity change",
                    "Azure ML documents that a workspace with system- and user-assigned identities cannot go back \
                     to system-assigned only. If Azure refuses, the apply fails with its message and the \
                     workspace keeps its identities.",
                )
                .at(AttributePath::root().attr("type")),
            );
        }

        // Values this plan already determines; the rest stays "known after apply" unless
        // the identity is unchanged.
        if !has_system(&t) {
            planned.principal_id = Field::Null;
            planned.tenant_id = Field::Null;
        } else if let Some(p) = prior.filter(|p| has_system(p.type_.known().map_or("", |s| s))) {
            planned.principal_id = p.principal_id.clone();
            planned.tenant_id = p.tenant_id.clone();
        }
        if !has_user(&t) {
            planned.user_assigned_identities = Field::Null;
            planned.primary_user_assigned_identity_id = Field::Null;
        } else if unchanged && let Some(p) = prior {
            planned.user_assigned_identities = p.user_assigned_identities.clone();
            if c.primary_user_assigned_identity_id.is_null() {
                planned.primary_user_assigned_identity_id =
                    p.primary_user_assigned_identity_id.clone();
            }
        }
        if c.system_datastores_auth_mode.is_null()
            && let Some(p) = prior
        {
            planned.system_datastores_auth_mode = p.system_datastores_auth_mode.clone();
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
        let raw_id = state
            .workspace_id
            .known()
            .or(state.id.known())
            .cloned()
            .unwrap_or_default();
        let id = parse_id(&raw_id, "workspace_id", ws_id)?;
        let call = call_ctx(ctx, &state.timeouts, Operation::Read);
        match client.get_json(&id, ML_API_VERSION, &call).await {
            Ok(Some(ws)) => {
                note_provisioning_state(ctx, &ws, "workspace");
                Ok(Some(state_from_arm(&ws, &state)))
            }
            Ok(None) => {
                tracing::info!(workspace = %id, "workspace is gone; removing it from state");
                Ok(None)
            }
            Err(e) => Err(azure_error("Failed to read the workspace", &e).into()),
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

    async fn delete(&self, _ctx: &Ctx, prior: Self::Model) -> Result<(), Diagnostics> {
        tracing::info!(
            workspace = prior.workspace_id.known().map(String::as_str).unwrap_or(""),
            "no longer managing the workspace identity; Azure keeps it as it is"
        );
        Ok(())
    }

    async fn import(&self, _ctx: &Ctx, id: &str) -> Result<Self::Model, Diagnostics> {
        ws_id(id).map_err(|e| {
            Diagnostics::from(Diagnostic::error("Invalid import id", e.to_string()))
        })?;
        Ok(WorkspaceIdentityModel {
            id: Field::Known(id.to_string()),
            workspace_id: Field::Known(id.to_string()),
            type_: Field::Null,
            user_assigned_identity_ids: Field::Null,
            primary_user_assigned_identity_id: Field::Null,
            system_datastores_auth_mode: Field::Null,
            principal_id: Field::Null,
            tenant_id: Field::Null,
            user_assigned_identities: Field::Null,
            timeouts: Field::Null,
        })
    }
}

/// The identity schema every resource here uses: the ARM id.
pub fn id_identity_schema(description: &str) -> IdentitySchema {
    IdentitySchema {
        version: 0,
        attributes: vec![IdentityAttribute {
            name: "id".into(),
            ty: Type::String,
            description: description.into(),
            required_for_import: true,
            optional_for_import: false,
        }],
    }
}

pub fn identity_from_id(id: &Field<String>) -> Option<Value> {
    id.known().map(|i| {
        Value::Object(BTreeMap::from([(
            "id".to_string(),
            Value::String(i.clone()),
        )]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(t: &str, ids: &[&str], primary: Option<&str>) -> WorkspaceIdentityModel {
        WorkspaceIdentityModel {
            id: Field::Null,
            workspace_id: Field::Known("/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w".into()),
            type_: Field::Known(t.into()),
            user_assigned_identity_ids: if ids.is_empty() { Field::Null } else { Field::Known(ids.iter().map(|s| s.to_string()).collect()) },
            primary_user_assigned_identity_id: primary.map(str::to_string).into(),
            system_datastores_auth_mode: Field::Known("Identity".into()),
            principal_id: Field::Unknown,
            tenant_id: Field::Unknown,
            user_assigned_identities: Field::Unknown,
            timeouts: Field::Null,
        }
    }

    fn errors_at(m: &WorkspaceIdentityModel) -> Vec<String> {
        let mut d = Diagnostics::new();
        validate_identity(
            &m.type_,
            &m.user_assigned_identity_ids,
            &m.primary_user_assigned_identity_id,
            &mut d,
        );
        d.iter()
            .filter_map(|d| d.attribute.as_ref().map(|p| p.to_string()))
            .collect()
    }

    #[test]
    fn validation_rules() {
        assert!(errors_at(&model(BOTH, &["/a"], Some("/a"))).is_empty());
        assert!(errors_at(&model(BOTH, &["/a"], None)).is_empty());
        assert_eq!(
            errors_at(&model(USER_ASSIGNED, &["/a"], None)),
            vec!["primary_user_assigned_identity_id"]
        );
        assert_eq!(
            errors_at(&model(SYSTEM_ASSIGNED, &["/a"], None)),
            vec!["user_assigned_identity_ids"]
        );
        assert_eq!(
            errors_at(&model(BOTH, &[], None)),
            vec!["user_assigned_identity_ids"]
        );
        assert_eq!(
            errors_at(&model(USER_ASSIGNED, &["/a"], Some("/b"))),
            vec!["primary_user_assigned_identity_id"]
        );
        assert!(
            errors_at(&model(USER_ASSIGNED, &["/A"], Some("/a"))).is_empty(),
            "ids compare ignoring case"
        );
    }

    #[test]
    fn patch_sends_only_owned_fields() {
        let body = patch_body(&model(BOTH, &["/a"], Some("/a")));
        assert_eq!(
            body,
            json!({"identity": {"type": BOTH, "userAssignedIdentities": {"/a": {}}},
                   "properties": {"primaryUserAssignedIdentity": "/a", "systemDatastoresAuthMode": "Identity"}})
        );
        let body = patch_body(&model(SYSTEM_ASSIGNED, &[], None));
        assert_eq!(
            body,
            json!({"identity": {"type": SYSTEM_ASSIGNED}, "properties": {"systemDatastoresAuthMode": "Identity"}})
        );
    }

    #[test]
    fn state_keeps_user_casing() {
        let user = model(
            BOTH,
            &[
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/A",
            ],
            Some(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/A",
            ),
        );
        let lower = "/subscriptions/s/resourcegroups/rg/providers/microsoft.managedidentity/userassignedidentities/a";
        let ws = json!({"identity": {"type": "SystemAssigned,UserAssigned", "principalId": "p", "tenantId": "t",
                          "userAssignedIdentities": {lower: {"principalId": "up", "clientId": "uc"}}},
                        "properties": {"primaryUserAssignedIdentity": lower, "systemDatastoresAuthMode": "identity"}});
        let s = state_from_arm(&ws, &user);
        assert_eq!(
            s.user_assigned_identity_ids,
            user.user_assigned_identity_ids
        );
        assert_eq!(
            s.primary_user_assigned_identity_id,
            user.primary_user_assigned_identity_id
        );
        assert_eq!(
            s.system_datastores_auth_mode,
            Field::Known("Identity".into())
        );
        assert_eq!(s.principal_id, Field::Known("p".into()));
    }

    #[test]
    fn ids_the_user_never_wrote_get_the_canonical_spelling() {
        let mut user = model(BOTH, &[], None);
        user.user_assigned_identity_ids = Field::Null;
        let lower = "/subscriptions/s/resourcegroups/rg/providers/microsoft.managedidentity/userassignedidentities/one";
        let canonical = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/one";
        let ws = json!({"identity": {"type": "SystemAssigned,UserAssigned", "principalId": "p",
                          "userAssignedIdentities": {lower: {"principalId": "up", "clientId": "uc"}}},
                        "properties": {"primaryUserAssignedIdentity": lower}});
        let s = state_from_arm(&ws, &user);
        assert_eq!(
            s.user_assigned_identity_ids,
            Field::Known([canonical.to_string()].into())
        );
        assert_eq!(
            s.primary_user_assigned_identity_id,
            Field::Known(canonical.into())
        );
        let map = s.user_assigned_identities.known().expect("map");
        assert!(map.contains_key(canonical), "{map:?}");
    }
}
