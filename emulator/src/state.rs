//! Everything the emulator remembers, and how long-running operations advance.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::{CertificateClient, ClientSecret, Federation};

/// Version of the state file layout.
pub const STATE_FORMAT: u32 = 1;

/// Kinds of stored resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    /// Resource group.
    ResourceGroup,
    /// ML workspace.
    Workspace,
    /// ML compute.
    Compute,
    /// ML datastore.
    Datastore,
    /// Container registry.
    Registry,
    /// User-assigned managed identity.
    Identity,
    /// Role assignment.
    RoleAssignment,
}

/// A stored resource: its id as first written, the body ARM returns, and private data
/// (secrets, passwords) that GET never shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    /// Canonical id (original casing of names).
    pub id: String,
    /// Resource kind.
    pub kind: Kind,
    /// Body as stored (without re-casing).
    pub body: Value,
    /// Data kept out of responses.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub private: Value,
}

/// JSON pointers that handlers treat as objects when present: a stored body where one of
/// them is something else would make a later read or write index into the wrong shape.
const OBJECT_FIELDS: &[&str] = &[
    "/properties",
    "/identity",
    "/identity/userAssignedIdentities",
    "/sku",
    "/tags",
    "/systemData",
    "/properties/properties",
    "/properties/credentials",
    "/properties/credentials/secrets",
    "/properties/encryption",
];

/// Pointers that must be strings when present.
const STRING_FIELDS: &[&str] = &[
    "/id",
    "/name",
    "/type",
    "/location",
    "/identity/type",
    "/properties/provisioningState",
];

impl Resource {
    /// Checks that the body has the shape every handler relies on: an object whose
    /// well-known members are objects (or strings) where ARM has them. The reason is returned
    /// for the 400 (control API) or the start-up error (state file).
    pub fn check_shape(&self) -> Result<(), String> {
        if !self.body.is_object() {
            return Err(format!(
                "the body of '{}' must be a JSON object, not {}",
                self.id,
                json_kind(&self.body)
            ));
        }
        for ptr in OBJECT_FIELDS {
            if let Some(v) = self.body.pointer(ptr)
                && !(v.is_object() || v.is_null())
            {
                return Err(format!(
                    "'{}' of '{}' must be an object, not {}",
                    pointer_path(ptr),
                    self.id,
                    json_kind(v)
                ));
            }
        }
        for ptr in STRING_FIELDS {
            if let Some(v) = self.body.pointer(ptr)
                && !v.is_string()
            {
                return Err(format!(
                    "'{}' of '{}' must be a string, not {}",
                    pointer_path(ptr),
                    self.id,
                    json_kind(v)
                ));
            }
        }
        if !(self.private.is_object() || self.private.is_null()) {
            return Err(format!(
                "the private data of '{}' must be an object, not {}",
                self.id,
                json_kind(&self.private)
            ));
        }
        Ok(())
    }
}

fn pointer_path(ptr: &str) -> String {
    ptr.trim_start_matches('/').replace('/', ".")
}

/// "an array", "a string" …: for messages about a value of the wrong kind.
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Whether an operation is creating, updating or deleting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OpKind {
    /// PUT of a new resource.
    Create,
    /// PUT/PATCH of an existing resource.
    Update,
    /// DELETE.
    Delete,
}

/// Terminal and non-terminal operation states, spelled as ARM spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpStatus {
    /// Still running.
    InProgress,
    /// Finished well.
    Succeeded,
    /// Finished badly.
    Failed,
    /// Stopped.
    Canceled,
}

impl OpStatus {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "InProgress",
            Self::Succeeded => "Succeeded",
            Self::Failed => "Failed",
            Self::Canceled => "Canceled",
        }
    }
}

/// A long-running operation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    /// Operation id (last URL segment).
    pub id: String,
    /// Lower-cased key of the resource it acts on.
    pub resource_key: String,
    /// What it does.
    pub kind: OpKind,
    /// Current status.
    pub status: OpStatus,
    /// Start, epoch ms.
    pub started_ms: i64,
    /// When it completes, epoch ms.
    pub due_ms: i64,
    /// When it completed, epoch ms.
    #[serde(default)]
    pub ended_ms: Option<i64>,
    /// Error to finish with instead of success (`code`, `message`).
    #[serde(default)]
    pub failure: Option<(String, String)>,
    /// For workspace deletes: purge instead of soft delete.
    #[serde(default)]
    pub purge: bool,
}

/// A token the emulator issued.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuedToken {
    /// Expiry, epoch seconds.
    pub expires_on: i64,
    /// Audience (resource) it was issued for.
    pub audience: String,
    /// Object id of the principal.
    pub object_id: String,
    /// How it was obtained (`client_secret`, `client_assertion`, `managed_identity`).
    pub grant: String,
}

/// The whole persisted state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct State {
    /// Layout version.
    pub format: u32,
    /// Monotonic change counter (bumped on every acknowledged change).
    pub revision: u64,
    /// Known subscriptions: lower-cased id → id.
    pub subscriptions: BTreeMap<String, String>,
    /// Live resources by lower-cased id.
    pub resources: BTreeMap<String, Resource>,
    /// Soft-deleted workspaces by lower-cased id.
    pub soft_deleted: BTreeMap<String, Resource>,
    /// Operations by id.
    pub operations: BTreeMap<String, Operation>,
    /// Issued access tokens.
    pub tokens: BTreeMap<String, IssuedToken>,
    /// Extra client-credential principals added by seeds.
    pub clients: Vec<ClientSecret>,
    /// Extra federated credentials added by seeds.
    pub federations: Vec<Federation>,
    /// Extra certificate principals added by seeds.
    pub certificate_clients: Vec<CertificateClient>,
    /// Extra principal object ids role assignments may name.
    pub principals: Vec<String>,
    /// Workspace keys (`listKeys`) by lower-cased workspace id, generated on first use and
    /// replaced by `resyncKeys`; kept apart from the body so that updates do not rotate them.
    pub workspace_keys: BTreeMap<String, Value>,
}

impl State {
    /// A new empty state.
    pub fn new() -> Self {
        Self {
            format: STATE_FORMAT,
            ..Self::default()
        }
    }

    /// The stored resource for an id (case-insensitive).
    pub fn get(&self, id: &str) -> Option<&Resource> {
        self.resources.get(&id.to_ascii_lowercase())
    }

    /// Mutable access to a stored resource.
    pub fn get_mut(&mut self, id: &str) -> Option<&mut Resource> {
        self.resources.get_mut(&id.to_ascii_lowercase())
    }

    /// Stores (or replaces) a resource.
    pub fn put(&mut self, res: Resource) {
        self.resources.insert(res.id.to_ascii_lowercase(), res);
    }

    /// Removes a resource and every resource nested under it.
    pub fn remove_tree(&mut self, id: &str) -> Option<Resource> {
        let key = id.to_ascii_lowercase();
        let prefix = format!("{key}/");
        self.resources.retain(|k, _| !k.starts_with(&prefix));
        self.resources.remove(&key)
    }

    /// Children of `parent` of the given kind.
    pub fn children(&self, parent: &str, kind: Kind) -> Vec<&Resource> {
        let prefix = format!("{}/", parent.to_ascii_lowercase());
        self.resources
            .iter()
            .filter(|(k, r)| k.starts_with(&prefix) && r.kind == kind)
            .map(|(_, r)| r)
            .filter(|r| {
                // direct children only: one `type/name` pair below the parent
                r.id[prefix.len()..].matches('/').count() == 1
            })
            .collect()
    }

    /// The running operation on a resource, if any.
    pub fn active_operation(&self, resource_key: &str) -> Option<&Operation> {
        self.operations
            .values()
            .find(|op| op.resource_key == resource_key && op.status == OpStatus::InProgress)
    }

    /// Whether a subscription exists.
    pub fn has_subscription(&self, sub: &str) -> bool {
        self.subscriptions.contains_key(&sub.to_ascii_lowercase())
    }

    /// Every principal id role assignments may name.
    pub fn known_principal(&self, principal: &str) -> bool {
        let p = principal.to_ascii_lowercase();
        if self.principals.iter().any(|x| x.eq_ignore_ascii_case(&p)) {
            return true;
        }
        self.resources.values().any(|r| {
            let b = &r.body;
            let ids = [
                b.pointer("/properties/principalId"),
                b.pointer("/identity/principalId"),
            ];
            ids.iter()
                .flatten()
                .any(|v| v.as_str().is_some_and(|s| s.eq_ignore_ascii_case(&p)))
        })
    }

    /// Checks every stored resource's shape (see [`Resource::check_shape`]).
    pub fn check_shape(&self) -> Result<(), String> {
        self.resources
            .values()
            .chain(self.soft_deleted.values())
            .try_for_each(Resource::check_shape)
    }

    /// Completes every operation whose time has come. Returns whether anything changed.
    pub fn advance(&mut self, now_ms: i64) -> bool {
        let due: Vec<String> = self
            .operations
            .values()
            .filter(|op| op.status == OpStatus::InProgress && op.due_ms <= now_ms)
            .map(|op| op.id.clone())
            .collect();
        for op_id in &due {
            self.finish_operation(op_id, now_ms);
        }
        // Forget finished operations after an hour and tokens after they expire.
        let cutoff = now_ms - 3_600_000;
        self.operations
            .retain(|_, op| op.ended_ms.is_none_or(|e| e > cutoff));
        let now_s = now_ms / 1000;
        let before = self.tokens.len();
        self.tokens.retain(|_, t| t.expires_on + 3600 > now_s);
        !due.is_empty() || before != self.tokens.len()
    }

    fn finish_operation(&mut self, op_id: &str, now_ms: i64) {
        let Some(op) = self.operations.get(op_id).cloned() else {
            return;
        };
        let status = if op.failure.is_some() {
            OpStatus::Failed
        } else {
            OpStatus::Succeeded
        };
        match (op.kind, status) {
            (OpKind::Delete, OpStatus::Succeeded) => {
                if let Some(res) = self.remove_tree(&op.resource_key)
                    && res.kind == Kind::Workspace
                    && !op.purge
                {
                    let mut res = res;
                    set_provisioning_state(&mut res.body, "Deleting");
                    self.soft_deleted.insert(op.resource_key.clone(), res);
                }
            }
            (OpKind::Delete, _) => {
                if let Some(res) = self.resources.get_mut(&op.resource_key) {
                    set_provisioning_state(&mut res.body, "Failed");
                }
            }
            (_, OpStatus::Succeeded) => {
                if let Some(res) = self.resources.get_mut(&op.resource_key) {
                    set_provisioning_state(&mut res.body, "Succeeded");
                }
            }
            _ => {
                if let Some(res) = self.resources.get_mut(&op.resource_key) {
                    set_provisioning_state(&mut res.body, "Failed");
                }
            }
        }
        if let Some(op) = self.operations.get_mut(op_id) {
            op.status = status;
            op.ended_ms = Some(now_ms);
        }
    }
}

/// Sets `properties.provisioningState`.
pub fn set_provisioning_state(body: &mut Value, state: &str) {
    if !body.get("properties").is_some_and(Value::is_object) {
        body["properties"] = json!({});
    }
    body["properties"]["provisioningState"] = json!(state);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(id: &str, kind: Kind) -> Resource {
        Resource {
            id: id.into(),
            kind,
            body: json!({"properties": {"provisioningState": "Creating"}}),
            private: Value::Null,
        }
    }

    #[test]
    fn advance_finishes_due_operations_only() {
        let mut s = State::new();
        s.put(res("/a/W", Kind::Workspace));
        s.operations.insert(
            "op1".into(),
            Operation {
                id: "op1".into(),
                resource_key: "/a/w".into(),
                kind: OpKind::Create,
                status: OpStatus::InProgress,
                started_ms: 0,
                due_ms: 100,
                ended_ms: None,
                failure: None,
                purge: false,
            },
        );
        assert!(!s.advance(50));
        assert_eq!(s.operations["op1"].status, OpStatus::InProgress);
        assert!(s.advance(100));
        assert_eq!(s.operations["op1"].status, OpStatus::Succeeded);
        assert_eq!(
            s.get("/A/w").unwrap().body["properties"]["provisioningState"],
            "Succeeded"
        );
    }

    #[test]
    fn workspace_delete_soft_deletes_and_removes_children() {
        let mut s = State::new();
        s.put(res("/ws/W", Kind::Workspace));
        s.put(res("/ws/W/computes/c", Kind::Compute));
        s.operations.insert(
            "d".into(),
            Operation {
                id: "d".into(),
                resource_key: "/ws/w".into(),
                kind: OpKind::Delete,
                status: OpStatus::InProgress,
                started_ms: 0,
                due_ms: 0,
                ended_ms: None,
                failure: None,
                purge: false,
            },
        );
        s.advance(1);
        assert!(s.resources.is_empty());
        assert!(s.soft_deleted.contains_key("/ws/w"));
    }
}
