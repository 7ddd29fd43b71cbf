//! `amlauth_compute_identity`: the managed identity of an existing Azure ML compute cluster
//! (one system-assigned identity, or one or more user-assigned ones, never both), which the
//! cluster uses to reach Key Vault, datastores and the container registry.
//!
//! The compute API takes identity changes only through a full-body `PUT` (a `PATCH` may carry
//! scale settings only), so create and update read the whole compute, replace its `identity`
//! and put everything else back exactly as read.
//!
//! ARM calls (api-version [`ML_API_VERSION`](super::common::ML_API_VERSION)): create / update: `GET` compute, `PUT` compute
//! (Azure answers `201` `Creating` + `Azure-AsyncOperation` although the compute exists; the
//! spec says `200` `Updating`; both are polled, a `200` `Succeeded` without a header is not),
//! status polls until done, one `GET`: 4 calls when the first poll finds the operation done.
//! Read: 1 `GET` (no `identity` key and `{"type": "None"}` both read as no identity). Delete: no
//! call.

use std::collections::BTreeSet;

use async_trait::async_trait;
use serde_json::Value as Json;

use crate::azure::ResourceId;
use crate::framework::timeouts::Timeouts;
use crate::framework::validators::Check;
use crate::framework::{
    Attribute, Block, Ctx, Diagnostic, Diagnostics, Field, Model, PlanRequest, PlanResponse,
};
use crate::value::path::AttributePath;
use crate::value::{Type, Value};

use super::common::{id_validator, jstr, note_provisioning_state};
use super::identity::{
    IdentityFields, NONE, SYSTEM_ASSIGNED, USER_ASSIGNED, UserIdentityInfo, canonical_type,
    has_user, identity_body,
};
use super::object::{ArmObject, COMPUTE};
use super::setting::{Setting, Write, WriteError};

/// Compute types that carry a managed identity.
pub const IDENTITY_COMPUTE_TYPES: &[&str] = &["AmlCompute", "ComputeInstance", "Kubernetes"];

#[derive(Debug, Clone, PartialEq, Default, Model)]
pub struct ComputeIdentityModel {
    #[model(id)]
    pub id: Field<String>,
    #[model(target)]
    pub compute_id: Field<String>,
    /// `type`, `user_assigned_identity_ids` and the computed identity attributes.
    #[model(flatten)]
    pub identity: IdentityFields,
    #[model(timeouts)]
    pub timeouts: Field<Timeouts>,
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

/// Whether a compute (its ARM body) is of a type that carries a managed identity.
pub fn can_have_identity(compute: &Json) -> bool {
    let t = jstr(compute, &["properties", "computeType"]).unwrap_or_default();
    IDENTITY_COMPUTE_TYPES
        .iter()
        .any(|k| k.eq_ignore_ascii_case(&t))
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

#[async_trait]
impl Setting for ComputeIdentity {
    type Model = ComputeIdentityModel;
    const TYPE_NAME: &'static str = "amlauth_compute_identity";
    const OBJECT: &'static ArmObject = &COMPUTE;
    const WRITE_FAILED: &'static str = "Failed to update the compute identity";

    fn schema(block: Block) -> Block {
        block
            .describe(
                "Manages the managed identity of an existing Azure ML compute cluster: one system-assigned identity \
                 or one or more user-assigned identities. The compute is updated with a full read-modify-write; \
                 every other setting is kept. Destroying this resource leaves the compute as it is.",
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
                    .validate(id_validator("a user-assigned managed identity", ResourceId::user_assigned_identity))
                    .describe("ARM ids of the user-assigned identities. Required with `UserAssigned`, not allowed otherwise."),
            )
            .attribute(Attribute::string("principal_id").computed().describe("Principal id of the system-assigned identity."))
            .attribute(Attribute::string("tenant_id").computed().describe("Tenant id of the system-assigned identity."))
            .attribute(
                Attribute::new("user_assigned_identities", Type::Map(Box::new(UserIdentityInfo::value_type())))
                    .computed()
                    .arm_id()
                    .describe("Attached user-assigned identities: id to `principal_id` and `client_id`."),
            )
    }

    /// State from a compute body, ids spelled as the user wrote them ([`super::identity::spell_uai_id`]).
    fn state(body: &Json, user: &ComputeIdentityModel) -> ComputeIdentityModel {
        ComputeIdentityModel {
            identity: IdentityFields::from_arm(body, &user.identity.ids(), false),
            ..user.clone()
        }
    }

    /// Read-modify-write: the compute API takes identity changes only in a full `PUT`.
    async fn write(&self, w: &Write<'_, ComputeIdentityModel>) -> Result<Json, WriteError> {
        let current = w.current().await?;
        if !can_have_identity(&current) {
            let compute_type = jstr(&current, &["properties", "computeType"]).unwrap_or_default();
            return Err(Diagnostic::error(
                "Compute type has no managed identity",
                format!(
                    "\"{}\" is a {compute_type} compute, which has no managed identity in Azure ML; identities can be set on {}",
                    w.raw,
                    IDENTITY_COMPUTE_TYPES.join(", ")
                ),
            )
            .at(AttributePath::root().attr("compute_id"))
            .into());
        }
        let t = w
            .planned
            .identity
            .type_
            .known()
            .cloned()
            .unwrap_or_default();
        let ids = w.planned.identity.ids();
        tracing::info!(compute = %w.id, identity_type = %t, "replacing the compute identity with a full PUT");
        Ok(w.client
            .put_and_wait(w.id, w.api_version, &put_body(&current, &t, &ids), w.call)
            .await?)
    }

    fn after_read(ctx: &Ctx, body: &Json, _read: &ComputeIdentityModel) {
        note_provisioning_state(ctx, body, "compute");
    }

    fn validate(&self, c: &ComputeIdentityModel, diags: &mut Diagnostics) {
        let Some(t) = c.identity.type_.known() else {
            return;
        };
        let path = AttributePath::root().attr("user_assigned_identity_ids");
        let ids = &c.identity.user_assigned_identity_ids;
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
        req: PlanRequest<'_, ComputeIdentityModel>,
        planned: &mut ComputeIdentityModel,
        resp: &mut PlanResponse,
    ) {
        let c = req.config;
        let Some(t) = c.identity.type_.known() else {
            return;
        };
        let prior = req.prior.filter(|p| p.compute_id == c.compute_id);
        let unchanged = prior.is_some_and(|p| c.identity.same_identities(&p.identity));
        if has_user(t) || t == NONE {
            planned.identity.principal_id = Field::Null;
            planned.identity.tenant_id = Field::Null;
        }
        if !has_user(t) {
            planned.identity.user_assigned_identities = Field::Null;
        }
        if t == NONE
            && prior.is_none_or(|p| p.identity.type_.known().map(String::as_str) != Some(NONE))
        {
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
            planned.identity.principal_id = p.identity.principal_id.clone();
            planned.identity.tenant_id = p.identity.tenant_id.clone();
            planned.identity.user_assigned_identities = p.identity.user_assigned_identities.clone();
        }
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
        let mut user = ComputeIdentityModel::default();
        let s = ComputeIdentity::state(&body, &user);
        let canonical = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai-one";
        assert_eq!(
            s.identity.user_assigned_identity_ids,
            Field::Known(BTreeSet::from([canonical.to_string()]))
        );
        let written = "/subscriptions/s/resourceGroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/UAI-One";
        user.identity.user_assigned_identity_ids =
            Field::Known(BTreeSet::from([written.to_string()]));
        let s = ComputeIdentity::state(&body, &user);
        assert_eq!(
            s.identity.user_assigned_identity_ids,
            Field::Known(BTreeSet::from([written.to_string()])),
            "the user's spelling wins"
        );
        assert!(
            s.identity
                .user_assigned_identities
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
