//! Built-in roles the posture rules require, the roles that cover each of them, and the
//! matching of required roles against the role assignments ARM lists.

use crate::framework::Model;
use crate::value::Type;

/// A built-in role the rules may require: its well-known GUID, the built-in roles whose
/// assignment also satisfies it (a superset of its permissions) and why it is required.
pub struct RoleSpec {
    pub guid: &'static str,
    pub covered_by: &'static [&'static str],
    pub why: &'static str,
}

pub const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
pub const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
pub const ACR_PULL: &str = "7f951dda-4ed3-4680-a7ca-43fe172d538d";
pub const ACR_PUSH: &str = "8311e382-0749-4cb8-b61a-304f252e45ec";
pub const BLOB_DATA_READER: &str = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1";
pub const BLOB_DATA_CONTRIBUTOR: &str = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
pub const BLOB_DATA_OWNER: &str = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";

/// Names of the built-in roles above (used when a role definition cannot be read).
pub const BUILT_IN_NAMES: &[(&str, &str)] = &[
    (OWNER, "Owner"),
    (CONTRIBUTOR, "Contributor"),
    (ACR_PULL, "AcrPull"),
    (ACR_PUSH, "AcrPush"),
    (BLOB_DATA_READER, "Storage Blob Data Reader"),
    (BLOB_DATA_CONTRIBUTOR, "Storage Blob Data Contributor"),
    (BLOB_DATA_OWNER, "Storage Blob Data Owner"),
];

/// The built-in name of a role GUID, or the GUID itself for one this module does not name.
pub fn built_in_name(guid: &str) -> &str {
    BUILT_IN_NAMES
        .iter()
        .find(|(g, _)| g.eq_ignore_ascii_case(guid))
        .map(|(_, n)| *n)
        .unwrap_or(guid)
}

pub const ROLES: &[RoleSpec] = &[
    RoleSpec {
        guid: CONTRIBUTOR,
        covered_by: &[OWNER],
        why: "The workspace's user-assigned identity needs it on the workspace and on each linked resource (storage account, key vault, container registry, Application Insights).",
    },
    RoleSpec {
        guid: ACR_PULL,
        covered_by: &[ACR_PUSH, CONTRIBUTOR, OWNER],
        why: "Each compute identity needs it on the workspace's registry when the registry's admin account is off.",
    },
    RoleSpec {
        guid: BLOB_DATA_READER,
        covered_by: &[BLOB_DATA_CONTRIBUTOR, BLOB_DATA_OWNER],
        why: "The identity an identity-based Blob or ADLS Gen2 datastore is read with needs it on the storage account: each compute identity, and the workspace identity named by the datastore's `serviceDataAccessAuthIdentity`.",
    },
];

pub fn spec(guid: &str) -> Option<&'static RoleSpec> {
    ROLES.iter().find(|r| r.guid.eq_ignore_ascii_case(guid))
}

/// The last segment of a role definition id: the role's GUID, lower-cased.
pub fn role_guid(role_definition_id: &str) -> String {
    role_definition_id
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// One entry of `required_role_assignments`.
#[derive(Debug, Clone, PartialEq, Eq, Model)]
pub struct RequiredRole {
    pub principal_id: String,
    pub principal_kind: String,
    pub role_definition_name: String,
    pub role_definition_id: String,
    pub scope: String,
    pub reason: String,
    /// Some assignment grants it.
    pub granted: bool,
    /// An assignment other than one the configuration's own loop created grants it (see
    /// `managed_assignment_description`); without that setting, the same as `granted`.
    pub present: bool,
}

const ROLE_FIELDS: &[&str] = &[
    "principal_id",
    "principal_kind",
    "role_definition_name",
    "role_definition_id",
    "scope",
    "reason",
];

impl RequiredRole {
    pub fn value_type() -> Type {
        let mut attrs: std::collections::BTreeMap<String, Type> = ROLE_FIELDS
            .iter()
            .map(|k| (k.to_string(), Type::String))
            .collect();
        attrs.insert("granted".into(), Type::Bool);
        attrs.insert("present".into(), Type::Bool);
        Type::Object(attrs)
    }

    /// Same principal, role and scope, ignoring case (how ARM compares them).
    pub fn same_target(&self, other: &RequiredRole) -> bool {
        self.principal_id.eq_ignore_ascii_case(&other.principal_id)
            && role_guid(&self.role_definition_id) == role_guid(&other.role_definition_id)
            && scope_eq(&self.scope, &other.scope)
    }
}

/// A role assignment as listed by ARM (only what matching needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub scope: String,
    pub principal_id: String,
    pub role_guid: String,
    pub description: Option<String>,
}

impl Assignment {
    /// Reads one item of a `roleAssignments` list; `None` when it lacks a field we need.
    pub fn from_arm(v: &serde_json::Value) -> Option<Self> {
        let p = super::super::common::jget(v, "properties")?;
        let s = |k: &str| super::super::common::jstr(p, &[k]);
        Some(Assignment {
            scope: s("scope")?,
            principal_id: s("principalId")?,
            role_guid: role_guid(&s("roleDefinitionId")?),
            description: s("description"),
        })
    }
}

fn normalize_scope(s: &str) -> String {
    s.trim_end_matches('/').to_ascii_lowercase()
}

pub fn scope_eq(a: &str, b: &str) -> bool {
    normalize_scope(a) == normalize_scope(b)
}

/// Whether `ancestor` is `scope` or a parent of it (a subscription covers its resource
/// groups, a resource group its resources): assignments are inherited downwards.
pub fn covers_scope(ancestor: &str, scope: &str) -> bool {
    let a = normalize_scope(ancestor);
    let s = normalize_scope(scope);
    a.is_empty() || s == a || s.starts_with(&format!("{a}/"))
}

/// Whether one of `assignments` grants `required` (same principal, the role or one covering
/// it, at the scope or a parent scope), and whether one that does is not described as
/// `managed` (an assignment the configuration's own loop created): `(granted, present)`.
pub fn grant_state(
    required: &RequiredRole,
    assignments: &[Assignment],
    managed: Option<&str>,
) -> (bool, bool) {
    let guid = role_guid(&required.role_definition_id);
    let covering: Vec<&str> = spec(&guid)
        .map(|s| s.covered_by.to_vec())
        .unwrap_or_default();
    let mut granting = assignments.iter().filter(|a| {
        a.principal_id.eq_ignore_ascii_case(&required.principal_id)
            && (a.role_guid == guid
                || covering
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case(&a.role_guid)))
            && covers_scope(&a.scope, &required.scope)
    });
    let mut granted = false;
    let present = granting.any(|a| {
        granted = true;
        managed.is_none_or(|m| a.description.as_deref() != Some(m))
    });
    (granted, present)
}

/// The documentation's role table, generated from [`ROLES`].
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| Role | Role definition GUID | Also satisfied by | Required for |\n|---|---|---|---|\n",
    );
    for r in ROLES {
        let covering: Vec<String> = r
            .covered_by
            .iter()
            .map(|g| format!("`{}`", built_in_name(g)))
            .collect();
        out.push_str(&format!(
            "| `{}` | `{}` | {} | {} |\n",
            built_in_name(r.guid),
            r.guid,
            covering.join(", "),
            r.why
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(principal: &str, role: &str, scope: &str) -> RequiredRole {
        RequiredRole {
            principal_id: principal.into(),
            principal_kind: "compute_system_assigned_identity".into(),
            role_definition_name: String::new(),
            role_definition_id: format!(
                "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/{role}"
            ),
            scope: scope.into(),
            reason: String::new(),
            granted: false,
            present: false,
        }
    }

    fn assignment(principal: &str, role: &str, scope: &str) -> Assignment {
        Assignment {
            scope: scope.into(),
            principal_id: principal.into(),
            role_guid: role.into(),
            description: None,
        }
    }

    const REG: &str =
        "/subscriptions/S/resourceGroups/RG/providers/Microsoft.ContainerRegistry/registries/acr";

    fn is_granted(r: &RequiredRole, a: &[Assignment]) -> bool {
        grant_state(r, a, None).0
    }

    #[test]
    fn an_assignment_described_as_managed_grants_but_is_not_present() {
        let r = req("abc", ACR_PULL, REG);
        let mut loop_made = assignment("abc", ACR_PULL, REG);
        loop_made.description = Some("managed".into());
        assert_eq!(grant_state(&r, &[loop_made.clone()], None), (true, true));
        assert_eq!(
            grant_state(&r, &[loop_made.clone()], Some("managed")),
            (true, false)
        );
        // Also granted by someone else: present, so the loop lets go of its own.
        let other = assignment("abc", ACR_PULL, "/subscriptions/s");
        assert_eq!(
            grant_state(&r, &[loop_made, other], Some("managed")),
            (true, true)
        );
        assert_eq!(grant_state(&r, &[], Some("managed")), (false, false));
    }

    #[test]
    fn parent_scopes_and_covering_roles_grant_case_insensitively() {
        let r = req("ABC", ACR_PULL, REG);
        // Same scope, other case everywhere.
        assert!(is_granted(
            &r,
            &[assignment("abc", ACR_PULL, &REG.to_ascii_lowercase())]
        ));
        // Resource group and subscription cover the registry.
        assert!(is_granted(
            &r,
            &[assignment(
                "abc",
                ACR_PULL,
                "/subscriptions/s/resourcegroups/rg"
            )]
        ));
        assert!(is_granted(
            &r,
            &[assignment("abc", ACR_PULL, "/subscriptions/s")]
        ));
        // A covering role.
        assert!(is_granted(&r, &[assignment("abc", CONTRIBUTOR, REG)]));
        // Not: other principal, other role, sibling or child scope, prefix that is no parent.
        assert!(!is_granted(&r, &[assignment("abd", ACR_PULL, REG)]));
        assert!(!is_granted(&r, &[assignment("abc", BLOB_DATA_READER, REG)]));
        assert!(!is_granted(
            &r,
            &[assignment(
                "abc",
                ACR_PULL,
                "/subscriptions/s/resourceGroups/rg2"
            )]
        ));
        assert!(!is_granted(
            &r,
            &[assignment(
                "abc",
                ACR_PULL,
                &format!("{REG}/repositories/x")
            )]
        ));
        assert!(!is_granted(
            &r,
            &[assignment(
                "abc",
                ACR_PULL,
                "/subscriptions/s/resourceGroups/r"
            )]
        ));
    }

    #[test]
    fn assignments_parse_from_arm_items() {
        let v = serde_json::json!({"properties": {
            "scope": "/subscriptions/s", "principalId": "P",
            "roleDefinitionId": "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/7F951DDA-4ED3-4680-A7CA-43FE172D538D"}});
        assert_eq!(
            Assignment::from_arm(&v),
            Some(assignment("P", ACR_PULL, "/subscriptions/s"))
        );
        assert_eq!(Assignment::from_arm(&serde_json::json!({})), None);
    }
}
