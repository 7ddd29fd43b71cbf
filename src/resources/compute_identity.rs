//! `amlauth_compute_identity`: the managed identity of an existing Azure ML compute cluster
//! (one system-assigned identity, or one or more user-assigned ones, never both), which the
//! cluster uses to reach Key Vault, datastores and the container registry.
//!
//! The compute API takes identity changes only through a full-body `PUT` (a `PATCH` may carry
//! scale settings only), so create and update read the whole compute, replace its `identity`
//! and put everything else back exactly as read.
//!
//! ARM calls (api-version [`ML_API_VERSION`]): create / update: `GET` compute, `PUT` compute
//! (Azure answers `201` `Creating` + `Azure-AsyncOperation` although the compute exists; the
//! spec says `200` `Updating`; both are polled, a `200` `Succeeded` without a header is not),
//! status polls until done, one `GET`: 4 calls when the first poll finds the operation done.
//! Read: 1 `GET` (no `identity` key and `{"type": "None"}` both read as no identity). Delete: no
//! call.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use serde_json::Value as Json;

use crate::azure::{ResourceId, ResourceIdError};
use crate::framework::timeouts::{self, Operation, Timeouts};
use crate::framework::validators::Check;
use crate::framework::{
    ApplyError, Attribute, Block, Ctx, Diagnostic, Diagnostics, Field, IdentitySchema, Model,
    ObjectBuilder, ObjectReader, PlanRequest, PlanResponse, Resource, Schema,
};
use crate::value::path::AttributePath;
use crate::value::{Type, Value};

use super::common::{
    ALL_OPS, DEFAULT_TIMEOUTS, ML_API_VERSION, azure_error, call_ctx, client, failed_write,
    id_validator, jstr, note_provisioning_state, parse_id, require_client,
};
use super::identity::{
    NONE, RemoteIdentity, SYSTEM_ASSIGNED, USER_ASSIGNED, UserIdentityInfo, canonical_type,
    has_user, identity_body, same_ids,
};
use super::workspace_identity::{id_identity_schema, identity_from_id};

/// Compute types that carry a managed identity.
pub const IDENTITY_COMPUTE_TYPES: &[&str] = &["AmlCompute", "ComputeInstance", "Kubernetes"];

fn compute_id(s: &str) -> Result<ResourceId, ResourceIdError> {
    ResourceId::ml_compute(s)
}
fn uai_id(s: &str) -> Result<ResourceId, ResourceIdError> {
    ResourceId::user_assigned_identity(s)
}

#[derive(Debug, Clone, PartialEq)]
pub struct ComputeIdentityModel {
    pub id: Field<String>,
    pub compute_id: Field<String>,
    pub type_: Field<String>,
    pub user_assigned_identity_ids: Field<BTreeSet<String>>,
    pub principal_id: Field<String>,
    pub tenant_id: Field<String>,
    pub user_assigned_identities: Field<BTreeMap<String, UserIdentityInfo>>,
    pub timeouts: Field<Timeouts>,
}

impl Model for ComputeIdentityModel {
    fn from_value(v: &Value) -> Result<Self, Diagnostics> {
        let o = ObjectReader::new(v, AttributePath::root())?;
        Ok(Self {
            id: o.field("id")?,
            compute_id: o.field("compute_id")?,
            type_: o.field("type")?,
            user_assigned_identity_ids: o.field("user_assigned_identity_ids")?,
            principal_id: o.field("principal_id")?,
            tenant_id: o.field("tenant_id")?,
            user_assigned_identities: o.field("user_assigned_identities")?,
            timeouts: Timeouts::read(&o, ALL_OPS)?,
        })
    }

    fn to_value(&self) -> Value {
        ObjectBuilder::new()
            .field("id", &self.id)
            .field("compute_id", &self.compute_id)
            .field("type", &self.type_)
            .field(
                "user_assigned_identity_ids",
                &self.user_assigned_identity_ids,
            )
            .field("principal_id", &self.principal_id)
            .field("tenant_id", &self.tenant_id)
            .field("user_assigned_identities", &self.user_assigned_identities)
            .value("timeouts", Timeouts::to_value(&self.timeouts, ALL_OPS))
            .build()
    }
}

pub struct ComputeIdentity;

fn check_type(v: &Value) -> Result<(), String> {
    let Some(t) = v.as_str() else { return Ok(()) };
    if t == SYSTEM_ASSIGNED || t == USER_ASSIGNED || t == NONE {
        return Ok(());
    }
    if canonical_type(t) == super::identity::BOTH {
        return Err(
            "a compute cluster has either one system-assigned identity or user-assigned identities, never both \
             (Azure ML rule for compute identities). Use \"SystemAssigned\" or \"UserAssigned\"."
                .into(),
        );
    }
    match canonical_type(t).as_str() {
        c @ (SYSTEM_ASSIGNED | USER_ASSIGNED | NONE) => {
            Err(format!("\"{t}\" is not accepted as written: use \"{c}\"."))
        }
        _ => Err(format!(
            "\"{t}\" is not an accepted value. Accepted values: \"SystemAssigned\", \"UserAssigned\", \"None\"."
        )),
    }
}

pub fn schema() -> Schema {
    let block = Block::new()
        .describe(
            "Manages the managed identity of an existing Azure ML compute cluster: one system-assigned identity \
             or one or more user-assigned identities. The compute is updated with a full read-modify-write; \
             every other setting is kept. Destroying this resource leaves the compute as it is.",
        )
        .attribute(Attribute::string("id").computed().arm_id().use_state_for_unknown().describe("The compute's ARM id."))
        .attribute(
            Attribute::string("compute_id")
                .required()
                .arm_id()
                .requires_replace()
                .validate(id_validator("an Azure ML compute", compute_id))
                .describe("ARM id of the compute (`…/workspaces/{ws}/computes/{name}`). Changing it replaces the resource."),
        )
        .attribute(
            Attribute::string("type")
                .required()
                .validate(Check::new("`SystemAssigned`, `UserAssigned` or `None`", check_type))
                .describe(
                    "`SystemAssigned`, `UserAssigned` or `None` (removes the identity); a cluster never has both kinds.",
                ),
        )
        .attribute(
            Attribute::string_set("user_assigned_identity_ids")
                .optional()
                .arm_id()
                .validate(id_validator("a user-assigned managed identity", uai_id))
                .describe("ARM ids of the user-assigned identities. Required with `UserAssigned`, not allowed otherwise."),
        )
        .attribute(Attribute::string("principal_id").computed().describe("Principal id of the system-assigned identity."))
        .attribute(Attribute::string("tenant_id").computed().describe("Tenant id of the system-assigned identity."))
        .attribute(
            Attribute::new("user_assigned_identities", Type::Map(Box::new(UserIdentityInfo::value_type())))
                .computed()
                .arm_id()
                .describe("Attached user-assigned identities: id to `principal_id` and `client_id`."),
        );
    Schema::new(0, timeouts::add_block(block, DEFAULT_TIMEOUTS))
}

/// A user-assigned identity id the user did not write (after import, or attached out of
/// band), with ARM's fixed segments in their documented casing. ARM answers the keys of
/// `userAssignedIdentities` fully lower-cased; resource ids in configurations (and azurerm's
/// `azurerm_user_assigned_identity.id`) spell `resourceGroups`, `Microsoft.ManagedIdentity`
/// and `userAssignedIdentities` so. Names keep the casing Azure returned.
fn canonical_uai_id(id: &str) -> String {
    match uai_id(id) {
        Ok(r) => ResourceId::new_user_assigned_identity(
            r.subscription(),
            r.resource_group().unwrap_or_default(),
            r.name(),
        )
        .to_string(),
        Err(_) => id.to_string(),
    }
}

/// State from a compute body, keeping the user's spelling of ids.
pub fn state_from_arm(body: &Json, user: &ComputeIdentityModel) -> ComputeIdentityModel {
    let known = user
        .user_assigned_identity_ids
        .known()
        .cloned()
        .unwrap_or_default();
    let mut remote = RemoteIdentity::from_arm(body, &known);
    remote.user_assigned = std::mem::take(&mut remote.user_assigned)
        .into_iter()
        .map(|(id, info)| {
            let id = if known.contains(&id) {
                id
            } else {
                canonical_uai_id(&id)
            };
            (id, info)
        })
        .collect();
    ComputeIdentityModel {
        id: user.id.clone(),
        compute_id: user.compute_id.clone(),
        user_assigned_identity_ids: if remote.user_assigned.is_empty() {
            Field::Null
        } else {
            Field::Known(remote.user_ids())
        },
        user_assigned_identities: if remote.user_assigned.is_empty() {
            Field::Null
        } else {
            Field::Known(remote.user_assigned.clone())
        },
        principal_id: remote.principal_id.clone().into(),
        tenant_id: remote.tenant_id.clone().into(),
        type_: Field::Known(remote.type_),
        timeouts: user.timeouts.clone(),
    }
}

/// The PUT body: the compute exactly as read, with only `identity` replaced.
pub fn put_body(current: &Json, type_: &str, ids: &BTreeSet<String>) -> Json {
    let mut body = current.clone();
    if let Some(obj) = body.as_object_mut() {
        obj.retain(|k, _| !k.eq_ignore_ascii_case("identity"));
        obj.insert("identity".into(), identity_body(type_, ids));
    }
    body
}

impl ComputeIdentity {
    async fn apply(
        &self,
        ctx: &Ctx,
        planned: ComputeIdentityModel,
        op: Operation,
    ) -> Result<ComputeIdentityModel, ApplyError<ComputeIdentityModel>> {
        let client = require_client(ctx)?;
        let raw = planned.compute_id.known().cloned().unwrap_or_default();
        let id = parse_id(&raw, "compute_id", compute_id)?;
        let call = call_ctx(ctx, &planned.timeouts, op);
        let mut planned = planned;
        planned.id = Field::Known(raw.clone());
        let current = client
            .get_json(&id, ML_API_VERSION, &call)
            .await
            .map_err(|e| Diagnostics::from(azure_error("Failed to read the compute", &e)))?
            .ok_or_else(|| {
                Diagnostics::from(
                    Diagnostic::error(
                        "Compute not found",
                        format!("the Azure ML compute \"{raw}\" does not exist; create it first (for example with azurerm_machine_learning_compute_cluster)"),
                    )
                    .at(AttributePath::root().attr("compute_id")),
                )
            })?;
        let compute_type = jstr(&current, &["properties", "computeType"]).unwrap_or_default();
        if !IDENTITY_COMPUTE_TYPES
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&compute_type))
        {
            return Err(Diagnostic::error(
                "Compute type has no managed identity",
                format!(
                    "\"{raw}\" is a {compute_type} compute, which has no managed identity in Azure ML; identities can be set on {}",
                    IDENTITY_COMPUTE_TYPES.join(", ")
                ),
            )
            .at(AttributePath::root().attr("compute_id"))
            .into());
        }
        let t = planned.type_.known().cloned().unwrap_or_default();
        let ids = planned
            .user_assigned_identity_ids
            .known()
            .cloned()
            .unwrap_or_default();
        tracing::info!(compute = %id, identity_type = %t, "replacing the compute identity with a full PUT");
        match client
            .put_and_wait(&id, ML_API_VERSION, &put_body(&current, &t, &ids), &call)
            .await
        {
            Ok(body) => Ok(state_from_arm(&body, &planned)),
            Err(e) => Err(failed_write(
                ctx,
                &client,
                &id,
                ML_API_VERSION,
                &planned.timeouts,
                azure_error("Failed to update the compute identity", &e).into(),
                |b| state_from_arm(b, &planned),
            )
            .await),
        }
    }
}

#[async_trait]
impl Resource for ComputeIdentity {
    type Model = ComputeIdentityModel;

    fn type_name(&self) -> &'static str {
        "amlauth_compute_identity"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(id_identity_schema("ARM id of the Azure ML compute."))
    }

    fn identity(&self, state: &Self::Model) -> Option<Value> {
        identity_from_id(&state.id)
    }

    fn validate(&self, c: &Self::Model, diags: &mut Diagnostics) {
        let Some(t) = c.type_.known() else { return };
        let path = AttributePath::root().attr("user_assigned_identity_ids");
        let ids = &c.user_assigned_identity_ids;
        if t == USER_ASSIGNED && (ids.is_null() || ids.known().is_some_and(BTreeSet::is_empty)) {
            diags.attribute_error(
                path,
                "Missing user-assigned identities",
                "`type = \"UserAssigned\"` needs at least one id in `user_assigned_identity_ids`.",
            );
        } else if t == NONE && ids.known().is_some_and(|s| !s.is_empty()) {
            diags.attribute_error(
                path,
                "User-assigned identities need type UserAssigned",
                "`type = \"None\"` removes every identity from the compute: remove `user_assigned_identity_ids` or use `type = \"UserAssigned\"`.",
            );
        } else if t == SYSTEM_ASSIGNED && ids.known().is_some_and(|s| !s.is_empty()) {
            diags.attribute_error(
                path,
                "User-assigned identities need type UserAssigned",
                "a compute cluster has either a system-assigned identity or user-assigned identities, never both: use `type = \"UserAssigned\"` or remove `user_assigned_identity_ids`.",
            );
        }
    }

    async fn modify_plan(
        &self,
        req: PlanRequest<'_, Self::Model>,
        planned: &mut Self::Model,
        resp: &mut PlanResponse,
    ) {
        let c = req.config;
        if let Field::Known(w) = &c.compute_id {
            planned.id = Field::Known(w.clone());
        }
        let Some(t) = c.type_.known() else { return };
        let ids = c
            .user_assigned_identity_ids
            .known()
            .cloned()
            .unwrap_or_default();
        let prior = req.prior.filter(|p| p.compute_id == c.compute_id);
        let unchanged = prior.is_some_and(|p| {
            p.type_.known() == Some(t)
                && same_ids(
                    &p.user_assigned_identity_ids
                        .known()
                        .cloned()
                        .unwrap_or_default(),
                    &ids,
                )
        });
        if has_user(t) || t == NONE {
            planned.principal_id = Field::Null;
            planned.tenant_id = Field::Null;
        }
        if !has_user(t) {
            planned.user_assigned_identities = Field::Null;
        }
        if t == NONE && prior.is_none_or(|p| p.type_.known().map(String::as_str) != Some(NONE)) {
            resp.diags.push(
                Diagnostic::warning(
                    "The compute will have no managed identity",
                    "`type = \"None\"` removes the compute's managed identity: role assignments to its principal \
                     stop working, and jobs on the compute can no longer reach Key Vault, datastores or the \
                     container registry with it.",
                )
                .at(AttributePath::root().attr("type")),
            );
        }
        if unchanged && let Some(p) = prior {
            planned.principal_id = p.principal_id.clone();
            planned.tenant_id = p.tenant_id.clone();
            planned.user_assigned_identities = p.user_assigned_identities.clone();
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
        let raw = state
            .compute_id
            .known()
            .or(state.id.known())
            .cloned()
            .unwrap_or_default();
        let id = parse_id(&raw, "compute_id", compute_id)?;
        match client
            .get_json(
                &id,
                ML_API_VERSION,
                &call_ctx(ctx, &state.timeouts, Operation::Read),
            )
            .await
        {
            Ok(Some(b)) => {
                note_provisioning_state(ctx, &b, "compute");
                Ok(Some(state_from_arm(&b, &state)))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(azure_error("Failed to read the compute", &e).into()),
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
        tracing::info!("no longer managing the compute identity; Azure keeps it as it is");
        Ok(())
    }

    async fn import(&self, _ctx: &Ctx, id: &str) -> Result<Self::Model, Diagnostics> {
        compute_id(id).map_err(|e| {
            Diagnostics::from(Diagnostic::error("Invalid import id", e.to_string()))
        })?;
        Ok(ComputeIdentityModel {
            id: Field::Known(id.into()),
            compute_id: Field::Known(id.into()),
            type_: Field::Null,
            user_assigned_identity_ids: Field::Null,
            principal_id: Field::Null,
            tenant_id: Field::Null,
            user_assigned_identities: Field::Null,
            timeouts: Field::Null,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn put_body_changes_only_identity() {
        let current = json!({"id": "/x", "location": "eastus", "sku": {"name": "Basic"}, "tags": {"a": "b"},
            "identity": {"type": "SystemAssigned", "principalId": "p"},
            "properties": {"computeType": "AmlCompute", "properties": {"vmSize": "STANDARD_DS3_V2", "scaleSettings": {"maxNodeCount": 4}}}});
        let ids: BTreeSet<String> = ["/u".to_string()].into();
        let body = put_body(&current, USER_ASSIGNED, &ids);
        let mut expected = current.clone();
        expected["identity"] =
            json!({"type": "UserAssigned", "userAssignedIdentities": {"/u": {}}});
        assert_eq!(body, expected);
    }

    #[test]
    fn ids_not_written_by_the_user_get_arm_segment_casing() {
        let lower = "/subscriptions/s/resourcegroups/rg/providers/microsoft.managedidentity/userassignedidentities/uai-one";
        let body = json!({"identity": {"type": "UserAssigned", "userAssignedIdentities": {
            lower: {"principalId": "p", "clientId": "c"}}}});
        let mut user = ComputeIdentityModel {
            id: Field::Null,
            compute_id: Field::Null,
            type_: Field::Null,
            user_assigned_identity_ids: Field::Null,
            principal_id: Field::Null,
            tenant_id: Field::Null,
            user_assigned_identities: Field::Null,
            timeouts: Field::Null,
        };
        let s = state_from_arm(&body, &user);
        let canonical = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai-one";
        assert_eq!(
            s.user_assigned_identity_ids,
            Field::Known(BTreeSet::from([canonical.to_string()]))
        );
        let written = "/subscriptions/s/resourceGroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/UAI-One";
        user.user_assigned_identity_ids = Field::Known(BTreeSet::from([written.to_string()]));
        let s = state_from_arm(&body, &user);
        assert_eq!(
            s.user_assigned_identity_ids,
            Field::Known(BTreeSet::from([written.to_string()])),
            "the user's spelling wins"
        );
        assert!(
            s.user_assigned_identities
                .known()
                .unwrap()
                .contains_key(written)
        );
    }

    #[test]
    fn both_identity_kinds_are_rejected_citing_the_rule() {
        let e = check_type(&Value::String("SystemAssigned,UserAssigned".into())).unwrap_err();
        assert!(e.contains("never both"), "{e}");
        assert!(
            check_type(&Value::String("systemassigned".into()))
                .unwrap_err()
                .contains("use \"SystemAssigned\"")
        );
        assert!(check_type(&Value::String("UserAssigned".into())).is_ok());
        assert!(check_type(&Value::String("None".into())).is_ok());
        assert!(
            check_type(&Value::String("none".into()))
                .unwrap_err()
                .contains("use \"None\"")
        );
    }
}
