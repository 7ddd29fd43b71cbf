//! Managed identity blocks as ARM spells them (workspaces and computes share the shape):
//! the identity type, attached user-assigned identities and their ids.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value as Json, json};

use crate::framework::{Diagnostics, FromValue, ObjectBuilder, ObjectReader, ToValue};
use crate::value::path::AttributePath;
use crate::value::{Type, Value};

use super::common::{jget, jstr, keep_id_casing};

pub const SYSTEM_ASSIGNED: &str = "SystemAssigned";
pub const USER_ASSIGNED: &str = "UserAssigned";
pub const BOTH: &str = "SystemAssigned,UserAssigned";
pub const NONE: &str = "None";

/// Canonical spelling of an identity type as ARM may return it (`systemassigned, userassigned`
/// and the like), or the input unchanged when it is not one we know.
pub fn canonical_type(raw: &str) -> String {
    let mut parts: Vec<String> = raw
        .split(',')
        .map(|p| p.trim().to_ascii_lowercase())
        .filter(|p| !p.is_empty())
        .collect();
    parts.sort();
    match parts
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["systemassigned"] => SYSTEM_ASSIGNED.into(),
        ["userassigned"] => USER_ASSIGNED.into(),
        ["systemassigned", "userassigned"] => BOTH.into(),
        ["none"] | [] => NONE.into(),
        _ => raw.to_string(),
    }
}

pub fn has_system(t: &str) -> bool {
    t == SYSTEM_ASSIGNED || t == BOTH
}

pub fn has_user(t: &str) -> bool {
    t == USER_ASSIGNED || t == BOTH
}

/// Principal and client id of one attached user-assigned identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserIdentityInfo {
    pub principal_id: Option<String>,
    pub client_id: Option<String>,
}

impl UserIdentityInfo {
    pub fn value_type() -> Type {
        Type::Object(
            [
                ("principal_id".to_string(), Type::String),
                ("client_id".to_string(), Type::String),
            ]
            .into_iter()
            .collect(),
        )
    }
}

impl FromValue for UserIdentityInfo {
    fn from_value(v: &Value, path: &AttributePath) -> Result<Self, Diagnostics> {
        let o = ObjectReader::new(v, path.clone())?;
        Ok(Self {
            principal_id: o.field::<String>("principal_id")?.into_known(),
            client_id: o.field::<String>("client_id")?.into_known(),
        })
    }
}

impl ToValue for UserIdentityInfo {
    fn to_value(&self) -> Value {
        let s = |o: &Option<String>| o.clone().map(Value::String).unwrap_or(Value::Null);
        ObjectBuilder::new()
            .value("principal_id", s(&self.principal_id))
            .value("client_id", s(&self.client_id))
            .build()
    }
}

/// The identity as read from ARM, with ids spelled as the user wrote them where equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteIdentity {
    pub type_: String,
    pub principal_id: Option<String>,
    pub tenant_id: Option<String>,
    pub user_assigned: BTreeMap<String, UserIdentityInfo>,
}

impl RemoteIdentity {
    /// Reads `identity` from a resource body; `known_ids` are the user's spellings.
    pub fn from_arm(resource: &Json, known_ids: &BTreeSet<String>) -> Self {
        let Some(identity) = jget(resource, "identity") else {
            return Self {
                type_: "None".into(),
                principal_id: None,
                tenant_id: None,
                user_assigned: BTreeMap::new(),
            };
        };
        let type_ = canonical_type(&jstr(identity, &["type"]).unwrap_or_default());
        let mut user_assigned = BTreeMap::new();
        if let Some(map) = jget(identity, "userAssignedIdentities").and_then(Json::as_object) {
            for (id, info) in map {
                user_assigned.insert(
                    keep_id_casing(known_ids, id),
                    UserIdentityInfo {
                        principal_id: jstr(info, &["principalId"]),
                        client_id: jstr(info, &["clientId"]),
                    },
                );
            }
        }
        Self {
            principal_id: has_system(&type_)
                .then(|| jstr(identity, &["principalId"]))
                .flatten(),
            tenant_id: has_system(&type_)
                .then(|| jstr(identity, &["tenantId"]))
                .flatten(),
            user_assigned,
            type_,
        }
    }

    pub fn user_ids(&self) -> BTreeSet<String> {
        self.user_assigned.keys().cloned().collect()
    }
}

/// The `identity` object to send: the full set of user-assigned identities replaces what is
/// attached (ARM drops omitted ones), and none is sent for a type without UserAssigned (ARM
/// rejects `userAssignedIdentities` with such a type).
pub fn identity_body(type_: &str, user_ids: &BTreeSet<String>) -> Json {
    if has_user(type_) {
        let map: serde_json::Map<String, Json> =
            user_ids.iter().map(|id| (id.clone(), json!({}))).collect();
        json!({ "type": type_, "userAssignedIdentities": map })
    } else {
        json!({ "type": type_ })
    }
}

/// Two id sets equal the way ARM compares ids.
pub fn same_ids(a: &BTreeSet<String>, b: &BTreeSet<String>) -> bool {
    let norm = |s: &BTreeSet<String>| -> BTreeSet<String> {
        s.iter().map(|x| x.to_ascii_lowercase()).collect()
    };
    norm(a) == norm(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonicalises_type_spellings() {
        assert_eq!(canonical_type("SystemAssigned, UserAssigned"), BOTH);
        assert_eq!(canonical_type("userassigned,systemassigned"), BOTH);
        assert_eq!(canonical_type("systemAssigned"), SYSTEM_ASSIGNED);
        assert_eq!(canonical_type("None"), "None");
        assert_eq!(canonical_type("Weird"), "Weird");
    }

    #[test]
    fn reads_recased_identity_keeping_user_spelling() {
        let user: BTreeSet<String> = ["/subscriptions/S/resourceGroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/One".to_string()].into();
        let body = json!({"identity": {"type": "SystemAssigned, UserAssigned", "principalId": "p", "tenantId": "t",
            "userAssignedIdentities": {"/subscriptions/s/resourcegroups/rg/providers/microsoft.managedidentity/userassignedidentities/one": {"principalId": "up", "clientId": "uc"}}}});
        let r = RemoteIdentity::from_arm(&body, &user);
        assert_eq!(r.type_, BOTH);
        assert_eq!(r.principal_id.as_deref(), Some("p"));
        assert_eq!(r.user_ids(), user);
        let info = r.user_assigned.values().next().unwrap();
        assert_eq!(info.client_id.as_deref(), Some("uc"));
    }

    #[test]
    fn body_omits_user_identities_without_user_assigned() {
        let ids: BTreeSet<String> = ["/x".to_string()].into();
        assert_eq!(
            identity_body(SYSTEM_ASSIGNED, &ids),
            json!({"type": "SystemAssigned"})
        );
        assert_eq!(
            identity_body(BOTH, &ids),
            json!({"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {"/x": {}}})
        );
    }
}
