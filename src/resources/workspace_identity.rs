//! `amlauth_workspace_identity`: the managed identity of an existing Azure ML workspace
//! (system-assigned, user-assigned or both, with the primary user-assigned identity) and the
//! auth mode of its system datastores.
//!
//! ARM calls (api-version [`ML_API_VERSION`](super::common::ML_API_VERSION)):
//! - create / update: `PATCH` workspace (202), polls of the `Azure-AsyncOperation` status URL
//!   (Azure sends it next to `Location`; the `Location` URL is polled only when it is the sole
//!   header) until done, one `GET` of the workspace: 3 calls when the operation finishes by the
//!   first poll;
//! - read: 1 `GET`; import: the read that follows it, 1 `GET`;
//! - delete: no call (the identity is left as it is).

use std::collections::BTreeSet;

use async_trait::async_trait;
use serde_json::{Value as Json, json};

use crate::azure::ResourceId;
use crate::framework::timeouts::Timeouts;
use crate::framework::validators::OneOf;
use crate::framework::{
    Attribute, Block, Ctx, Diagnostic, Diagnostics, Field, Model, PlanRequest, PlanResponse,
};
use crate::value::Type;
use crate::value::path::AttributePath;

use super::common::{id_validator, jstr, keep_casing, note_provisioning_state};
use super::identity::{
    BOTH, IdentityFields, SYSTEM_ASSIGNED, USER_ASSIGNED, UserIdentityInfo, has_system, has_user,
    identity_body, spell_uai_id,
};
use super::object::{ArmObject, WORKSPACE};
use super::setting::{Setting, Write, WriteError};

pub const AUTH_MODES: &[&str] = &["AccessKey", "Identity", "UserDelegationSAS"];

/// Terraform state and configuration of the resource.
#[derive(Debug, Clone, PartialEq, Default, Model)]
pub struct WorkspaceIdentityModel {
    #[model(id)]
    pub id: Field<String>,
    #[model(target)]
    pub workspace_id: Field<String>,
    /// `type`, `user_assigned_identity_ids` and the computed identity attributes.
    #[model(flatten)]
    pub identity: IdentityFields,
    pub primary_user_assigned_identity_id: Field<String>,
    pub system_datastores_auth_mode: Field<String>,
    #[model(timeouts)]
    pub timeouts: Field<Timeouts>,
}

pub struct WorkspaceIdentity;

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
    let t = m.identity.type_.known().cloned().unwrap_or_default();
    let ids = m.identity.ids();
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

#[async_trait]
impl Setting for WorkspaceIdentity {
    type Model = WorkspaceIdentityModel;
    const TYPE_NAME: &'static str = "amlauth_workspace_identity";
    const OBJECT: &'static ArmObject = &WORKSPACE;
    const WRITE_FAILED: &'static str = "Failed to update the workspace identity";

    fn schema(block: Block) -> Block {
        block
            .describe(
                "Manages the managed identity of an existing Azure Machine Learning workspace: system-assigned, \
                 user-assigned or both, the primary user-assigned identity, and how the workspace's system \
                 datastores authenticate. The workspace itself is never created or deleted; destroying this \
                 resource leaves the identity as it is.",
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
                    .validate(id_validator("a user-assigned managed identity", ResourceId::user_assigned_identity))
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
                    .validate(id_validator("a user-assigned managed identity", ResourceId::user_assigned_identity))
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
            )
    }

    /// State from a workspace body, ids spelled as the user wrote them ([`spell_uai_id`]).
    fn state(ws: &Json, user: &WorkspaceIdentityModel) -> WorkspaceIdentityModel {
        let mut known = user.identity.ids();
        if let Some(p) = user.primary_user_assigned_identity_id.known() {
            known.insert(p.clone());
        }
        let identity = IdentityFields::from_arm(ws, &known, true);
        let has_ua = identity.type_.known().is_some_and(|t| has_user(t));
        let primary = jstr(ws, &["properties", "primaryUserAssignedIdentity"])
            .filter(|_| has_ua)
            .map(|p| spell_uai_id(&known, &p));
        let mode = jstr(ws, &["properties", "systemDatastoresAuthMode"]).map(|m| {
            keep_casing(
                user.system_datastores_auth_mode.known().map(String::as_str),
                &m,
            )
        });
        WorkspaceIdentityModel {
            identity,
            primary_user_assigned_identity_id: primary.into(),
            system_datastores_auth_mode: mode.into(),
            ..user.clone()
        }
    }

    async fn write(&self, w: &Write<'_, WorkspaceIdentityModel>) -> Result<Json, WriteError> {
        tracing::info!(workspace = %w.id, "updating workspace identity");
        w.patch(&patch_body(w.planned)).await
    }

    fn after_read(ctx: &Ctx, body: &Json, _read: &WorkspaceIdentityModel) {
        note_provisioning_state(ctx, body, "workspace");
    }

    fn validate(&self, c: &WorkspaceIdentityModel, diags: &mut Diagnostics) {
        validate_identity(
            &c.identity.type_,
            &c.identity.user_assigned_identity_ids,
            &c.primary_user_assigned_identity_id,
            diags,
        );
    }

    async fn modify_plan(
        &self,
        req: PlanRequest<'_, WorkspaceIdentityModel>,
        planned: &mut WorkspaceIdentityModel,
        resp: &mut PlanResponse,
    ) {
        let c = req.config;
        let Some(t) = c.identity.type_.known().cloned() else {
            return;
        };
        let prior = req.prior.filter(|p| p.workspace_id == c.workspace_id);
        let unchanged = prior.is_some_and(|p| c.identity.same_identities(&p.identity));

        if let Some(p) = prior
            && p.identity.type_.known().map(String::as_str) == Some(BOTH)
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
            planned.identity.principal_id = Field::Null;
            planned.identity.tenant_id = Field::Null;
        } else if let Some(p) =
            prior.filter(|p| has_system(p.identity.type_.known().map_or("", |s| s)))
        {
            planned.identity.principal_id = p.identity.principal_id.clone();
            planned.identity.tenant_id = p.identity.tenant_id.clone();
        }
        if !has_user(&t) {
            planned.identity.user_assigned_identities = Field::Null;
            planned.primary_user_assigned_identity_id = Field::Null;
        } else if unchanged && let Some(p) = prior {
            planned.identity.user_assigned_identities = p.identity.user_assigned_identities.clone();
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(t: &str, ids: &[&str], primary: Option<&str>) -> WorkspaceIdentityModel {
        WorkspaceIdentityModel {
            id: Field::Null,
            workspace_id: Field::Known("/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w".into()),
            identity: IdentityFields {
                type_: Field::Known(t.into()),
                user_assigned_identity_ids: if ids.is_empty() { Field::Null } else { Field::Known(ids.iter().map(|s| s.to_string()).collect()) },
                principal_id: Field::Unknown,
                tenant_id: Field::Unknown,
                user_assigned_identities: Field::Unknown,
            },
            primary_user_assigned_identity_id: primary.map(str::to_string).into(),
            system_datastores_auth_mode: Field::Known("Identity".into()),
            timeouts: Field::Null,
        }
    }

    fn errors_at(m: &WorkspaceIdentityModel) -> Vec<String> {
        let mut d = Diagnostics::new();
        validate_identity(
            &m.identity.type_,
            &m.identity.user_assigned_identity_ids,
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
        let s = WorkspaceIdentity::state(&ws, &user);
        assert_eq!(
            s.identity.user_assigned_identity_ids,
            user.identity.user_assigned_identity_ids
        );
        assert_eq!(
            s.primary_user_assigned_identity_id,
            user.primary_user_assigned_identity_id
        );
        assert_eq!(
            s.system_datastores_auth_mode,
            Field::Known("Identity".into())
        );
        assert_eq!(s.identity.principal_id, Field::Known("p".into()));
    }

    #[test]
    fn ids_the_user_never_wrote_get_the_canonical_spelling() {
        let mut user = model(BOTH, &[], None);
        user.identity.user_assigned_identity_ids = Field::Null;
        let lower = "/subscriptions/s/resourcegroups/rg/providers/microsoft.managedidentity/userassignedidentities/one";
        let canonical = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/one";
        let ws = json!({"identity": {"type": "SystemAssigned,UserAssigned", "principalId": "p",
                          "userAssignedIdentities": {lower: {"principalId": "up", "clientId": "uc"}}},
                        "properties": {"primaryUserAssignedIdentity": lower}});
        let s = WorkspaceIdentity::state(&ws, &user);
        assert_eq!(
            s.identity.user_assigned_identity_ids,
            Field::Known([canonical.to_string()].into())
        );
        assert_eq!(
            s.primary_user_assigned_identity_id,
            Field::Known(canonical.into())
        );
        let map = s.identity.user_assigned_identities.known().expect("map");
        assert!(map.contains_key(canonical), "{map:?}");
    }
}
