//! Managed identity blocks as ARM spells them (workspaces and computes share the shape):
//! the identity type, attached user-assigned identities and their ids.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value as Json, json};

use crate::framework::{Field, Model};
use crate::value::Type;

use crate::azure::ResourceId;

use super::common::{jget, jstr};

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
#[derive(Debug, Clone, PartialEq, Eq, Model)]
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

/// A user-assigned identity id as state records it: as the user wrote it (`known`) when equal
/// ignoring case, else in ARM's documented spelling. ARM answers the keys of
/// `userAssignedIdentities` (and `primaryUserAssignedIdentity`) fully lower-cased, while
/// configurations (and azurerm's `azurerm_user_assigned_identity.id`) spell `resourceGroups`,
/// `Microsoft.ManagedIdentity` and `userAssignedIdentities` so: an id the user never wrote (after
/// an import, or attached out of band) would otherwise plan a casing-only change. Names keep
/// the casing Azure returned. (The runtime re-spells attributes against the prior state and
/// plan; this also covers the keys of the computed `user_assigned_identities` map, which have
/// no prior value on create.)
pub fn spell_uai_id(known: &BTreeSet<String>, id: &str) -> String {
    if let Some(k) = known.iter().find(|k| k.eq_ignore_ascii_case(id)) {
        return k.clone();
    }
    match ResourceId::user_assigned_identity(id) {
        Ok(r) => ResourceId::new_user_assigned_identity(
            r.subscription(),
            r.resource_group().unwrap_or_default(),
            r.name(),
        )
        .to_string(),
        Err(_) => id.to_string(),
    }
}

/// The managed identity attributes workspaces and computes share, flattened into their models
/// (`#[model(flatten)]`).
#[derive(Debug, Clone, PartialEq, Default, Model)]
pub struct IdentityFields {
    #[model(name = "type")]
    pub type_: Field<String>,
    pub user_assigned_identity_ids: Field<BTreeSet<String>>,
    pub principal_id: Field<String>,
    pub tenant_id: Field<String>,
    pub user_assigned_identities: Field<BTreeMap<String, UserIdentityInfo>>,
}

impl IdentityFields {
    /// The configured user-assigned identity ids (none when null or unknown).
    pub fn ids(&self) -> BTreeSet<String> {
        self.user_assigned_identity_ids
            .known()
            .cloned()
            .unwrap_or_default()
    }

    /// The identity of a resource body; `known` are the ids the user wrote ([`spell_uai_id`]).
    /// `user_assigned_identity_ids` is an empty set rather than null when the type includes
    /// `UserAssigned` and `ids_with_user_type` is set.
    pub fn from_arm(body: &Json, known: &BTreeSet<String>, ids_with_user_type: bool) -> Self {
        let remote = RemoteIdentity::from_arm(body).spelled(known);
        let user_type = ids_with_user_type && has_user(&remote.type_);
        IdentityFields {
            user_assigned_identity_ids: if user_type || !remote.user_assigned.is_empty() {
                Field::Known(remote.user_ids())
            } else {
                Field::Null
            },
            user_assigned_identities: if remote.user_assigned.is_empty() {
                Field::Null
            } else {
                Field::Known(remote.user_assigned)
            },
            principal_id: remote.principal_id.into(),
            tenant_id: remote.tenant_id.into(),
            type_: Field::Known(remote.type_),
        }
    }

    /// The same type and identity ids (compared as ARM compares ids) as `other`.
    pub fn same_identities(&self, other: &IdentityFields) -> bool {
        self.type_.is_known() && self.type_ == other.type_ && same_ids(&self.ids(), &other.ids())
    }
}

/// The identity as read from ARM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteIdentity {
    pub type_: String,
    pub principal_id: Option<String>,
    pub tenant_id: Option<String>,
    pub user_assigned: BTreeMap<String, UserIdentityInfo>,
}

impl RemoteIdentity {
    /// Reads `identity` from a resource body, ids as Azure spells them.
    pub fn from_arm(resource: &Json) -> Self {
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
                    id.clone(),
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

    /// The same identity with user-assigned ids spelled as state records them
    /// ([`spell_uai_id`]).
    pub fn spelled(mut self, known: &BTreeSet<String>) -> Self {
        self.user_assigned = std::mem::take(&mut self.user_assigned)
            .into_iter()
            .map(|(id, info)| (spell_uai_id(known, &id), info))
            .collect();
        self
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
    fn reads_recased_identity_in_arms_documented_spelling() {
        let canonical: BTreeSet<String> = ["/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/one".to_string()].into();
        let body = json!({"identity": {"type": "SystemAssigned, UserAssigned", "principalId": "p", "tenantId": "t",
            "userAssignedIdentities": {"/subscriptions/s/resourcegroups/rg/providers/microsoft.managedidentity/userassignedidentities/one": {"principalId": "up", "clientId": "uc"}}}});
        let r = RemoteIdentity::from_arm(&body).spelled(&BTreeSet::new());
        assert_eq!(r.type_, BOTH);
        assert_eq!(r.principal_id.as_deref(), Some("p"));
        assert_eq!(r.user_ids(), canonical);
        let user: BTreeSet<String> = ["/subscriptions/S/resourceGroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/One".to_string()].into();
        let r = RemoteIdentity::from_arm(&body).spelled(&user);
        assert_eq!(r.user_ids(), user, "the user's spelling wins");
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
