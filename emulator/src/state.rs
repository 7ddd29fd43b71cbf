//! Everything the emulator remembers, and how long-running operations advance.

use std::collections::{BTreeMap, BTreeSet};

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
    /// Operations by id: read with [`State::operation`], added with
    /// [`State::insert_operation`] so that the schedule stays in step.
    operations: BTreeMap<String, Operation>,
    /// Issued access tokens: read with [`State::token`], added with [`State::insert_token`].
    tokens: BTreeMap<String, IssuedToken>,
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
    /// Derived from `operations` and `tokens`, never persisted.
    #[serde(skip)]
    schedule: Schedule,
}

/// Finished operations are forgotten this long after they end.
const OPERATION_RETENTION_MS: i64 = 3_600_000;
/// Issued tokens are forgotten this long after they expire.
const TOKEN_RETENTION_SECS: i64 = 3_600;

/// What [`State::advance`] needs so that a request with nothing due costs no scan of every
/// operation and token (every request advances the state, and finished operations are kept
/// an hour): the running operations by due time, and the earliest moment at which a finished
/// operation or a token is to be forgotten. Rebuilt from the maps after loading or replacing
/// the state (`built` is false then).
#[derive(Debug, Clone, Default)]
struct Schedule {
    built: bool,
    /// `(due_ms, id)` of every operation in progress.
    running: BTreeSet<(i64, String)>,
    /// No operation or token is forgotten before this time (epoch ms).
    purge_at: i64,
}

impl Schedule {
    fn note_operation(&mut self, op: &Operation) {
        if op.status == OpStatus::InProgress {
            self.running.insert((op.due_ms, op.id.clone()));
        }
        if let Some(at) = operation_forget_ms(op) {
            self.purge_at = self.purge_at.min(at);
        }
    }

    fn note_token(&mut self, token: &IssuedToken) {
        self.purge_at = self.purge_at.min(token_forget_ms(token));
    }
}

/// When `advance` forgets a finished operation: its retention is over (`ended + 1 h <= now`).
fn operation_forget_ms(op: &Operation) -> Option<i64> {
    op.ended_ms
        .map(|e| e.saturating_add(OPERATION_RETENTION_MS))
}

/// When `advance` forgets a token: `expires_on + 1 h <= now_ms / 1000`, i.e. from that second's
/// first millisecond.
fn token_forget_ms(t: &IssuedToken) -> i64 {
    t.expires_on
        .saturating_add(TOKEN_RETENTION_SECS)
        .saturating_mul(1000)
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
        let is_it =
            |op: &&Operation| op.resource_key == resource_key && op.status == OpStatus::InProgress;
        if self.schedule.built {
            // Only running operations can match: no need to look at the finished ones.
            self.schedule
                .running
                .iter()
                .filter_map(|(_, id)| self.operations.get(id))
                .find(is_it)
        } else {
            self.operations.values().find(is_it)
        }
    }

    /// An operation by id.
    pub fn operation(&self, id: &str) -> Option<&Operation> {
        self.operations.get(id)
    }

    /// Adds (or replaces) an operation.
    pub fn insert_operation(&mut self, op: Operation) {
        self.build_schedule();
        if let Some(old) = self.operations.get(&op.id)
            && old.status == OpStatus::InProgress
        {
            self.schedule.running.remove(&(old.due_ms, old.id.clone()));
        }
        self.schedule.note_operation(&op);
        self.operations.insert(op.id.clone(), op);
    }

    /// An issued token.
    pub fn token(&self, token: &str) -> Option<&IssuedToken> {
        self.tokens.get(token)
    }

    /// Records an issued token.
    pub fn insert_token(&mut self, token: String, issued: IssuedToken) {
        self.build_schedule();
        self.schedule.note_token(&issued);
        self.tokens.insert(token, issued);
    }

    /// Makes every issued token expire at `expires_on` (epoch seconds); returns how many.
    pub fn expire_tokens(&mut self, expires_on: i64) -> usize {
        self.build_schedule();
        for t in self.tokens.values_mut() {
            t.expires_on = expires_on;
            self.schedule.note_token(t);
        }
        self.tokens.len()
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

    /// Completes every operation whose time has come, and forgets finished operations an hour
    /// after they ended and tokens an hour after they expired. Returns whether anything changed
    /// that is worth persisting (an operation finished or a token was forgotten).
    pub fn advance(&mut self, now_ms: i64) -> bool {
        self.build_schedule();
        let mut due = Vec::new();
        while self
            .schedule
            .running
            .first()
            .is_some_and(|(due_ms, _)| *due_ms <= now_ms)
        {
            if let Some((_, id)) = self.schedule.running.pop_first()
                && self
                    .operations
                    .get(&id)
                    .is_some_and(|op| op.status == OpStatus::InProgress)
            {
                due.push(id);
            }
        }
        // In id order, as when every operation was scanned.
        due.sort_unstable();
        for op_id in &due {
            self.finish_operation(op_id, now_ms);
        }
        let forgot_tokens = now_ms >= self.schedule.purge_at && self.purge(now_ms);
        !due.is_empty() || forgot_tokens
    }

    /// Forgets what [`State::advance`] forgets; returns whether a token was forgotten.
    fn purge(&mut self, now_ms: i64) -> bool {
        let mut next = i64::MAX;
        let cutoff = now_ms - OPERATION_RETENTION_MS;
        self.operations.retain(|_, op| {
            let keep = op.ended_ms.is_none_or(|e| e > cutoff);
            if keep && let Some(at) = operation_forget_ms(op) {
                next = next.min(at);
            }
            keep
        });
        let now_s = now_ms / 1000;
        let before = self.tokens.len();
        self.tokens.retain(|_, t| {
            let keep = t.expires_on + TOKEN_RETENTION_SECS > now_s;
            if keep {
                next = next.min(token_forget_ms(t));
            }
            keep
        });
        self.schedule.purge_at = next;
        before != self.tokens.len()
    }

    /// Derives the schedule from the maps once after the state was loaded or replaced.
    fn build_schedule(&mut self) {
        if self.schedule.built {
            return;
        }
        let mut schedule = Schedule {
            built: true,
            running: BTreeSet::new(),
            purge_at: i64::MAX,
        };
        self.operations
            .values()
            .for_each(|op| schedule.note_operation(op));
        self.tokens.values().for_each(|t| schedule.note_token(t));
        self.schedule = schedule;
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
            self.schedule.note_operation(op);
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
        s.insert_operation(Operation {
            id: "op1".into(),
            resource_key: "/a/w".into(),
            kind: OpKind::Create,
            status: OpStatus::InProgress,
            started_ms: 0,
            due_ms: 100,
            ended_ms: None,
            failure: None,
            purge: false,
        });
        assert!(!s.advance(50));
        assert_eq!(s.operations["op1"].status, OpStatus::InProgress);
        assert!(s.advance(100));
        assert_eq!(s.operations["op1"].status, OpStatus::Succeeded);
        assert_eq!(
            s.get("/A/w").unwrap().body["properties"]["provisioningState"],
            "Succeeded"
        );
    }

    fn running(id: &str, key: &str, due_ms: i64) -> Operation {
        Operation {
            id: id.into(),
            resource_key: key.into(),
            kind: OpKind::Update,
            status: OpStatus::InProgress,
            started_ms: 0,
            due_ms,
            ended_ms: None,
            failure: None,
            purge: false,
        }
    }

    fn token(expires_on: i64) -> IssuedToken {
        IssuedToken {
            expires_on,
            audience: "https://management.azure.com/".into(),
            object_id: "o".into(),
            grant: "client_secret".into(),
        }
    }

    #[test]
    fn advance_keeps_due_times_and_reports_changes_with_the_schedule() {
        let mut s = State::new();
        s.put(res("/r/a", Kind::Compute));
        s.put(res("/r/b", Kind::Compute));
        // The schedule is built by the first advance; later operations join it.
        assert!(!s.advance(1_000));
        s.insert_operation(running("late", "/r/a", 5_000));
        s.insert_operation(running("early", "/r/b", 2_000));
        assert_eq!(
            s.active_operation("/r/a").map(|o| o.id.as_str()),
            Some("late")
        );
        assert!(!s.advance(1_999), "nothing is due yet");
        assert!(s.advance(2_000), "a due operation is a change");
        assert_eq!(s.operation("early").unwrap().status, OpStatus::Succeeded);
        assert_eq!(s.operation("early").unwrap().ended_ms, Some(2_000));
        assert_eq!(s.operation("late").unwrap().status, OpStatus::InProgress);
        assert!(s.active_operation("/r/b").is_none());
        assert!(!s.advance(4_999), "the later one is not finished early");
        assert!(s.advance(10_000));
        assert_eq!(s.operation("late").unwrap().status, OpStatus::Succeeded);
        assert_eq!(s.operation("late").unwrap().ended_ms, Some(10_000));
        assert_eq!(
            s.get("/r/a").unwrap().body["properties"]["provisioningState"],
            "Succeeded"
        );
        assert!(
            !s.advance(10_001),
            "finished operations are not finished again"
        );
        // Replacing a running operation moves its due time.
        s.insert_operation(running("again", "/r/a", 20_000));
        s.insert_operation(running("again", "/r/a", 30_000));
        assert!(!s.advance(25_000));
        assert!(s.advance(30_000));
    }

    #[test]
    fn advance_forgets_finished_operations_and_tokens_after_an_hour() {
        let mut s = State::new();
        s.insert_operation(running("op", "/r/x", 1_000));
        assert!(s.advance(1_000));
        // Forgetting an operation is not worth a write; it happens an hour after it ended.
        assert!(!s.advance(1_000 + OPERATION_RETENTION_MS - 1));
        assert!(s.operation("op").is_some());
        assert!(!s.advance(1_000 + OPERATION_RETENTION_MS));
        assert!(s.operation("op").is_none());
        // A token is forgotten from the second its expiry plus an hour is reached.
        s.insert_token("t1".into(), token(100));
        s.insert_token("t2".into(), token(200));
        let t1_gone = (100 + TOKEN_RETENTION_SECS) * 1000;
        assert!(!s.advance(t1_gone - 1));
        assert!(s.token("t1").is_some());
        assert!(s.advance(t1_gone), "forgetting a token is a change");
        assert!(s.token("t1").is_none());
        assert!(s.token("t2").is_some());
        // Expiring tokens early brings their forgetting forward.
        assert_eq!(s.expire_tokens(150), 1);
        assert!(s.advance((150 + TOKEN_RETENTION_SECS) * 1000));
        assert!(s.token("t2").is_none());
    }

    #[test]
    fn a_loaded_state_rebuilds_its_schedule() {
        let mut s = State::new();
        s.put(res("/r/a", Kind::Compute));
        s.insert_operation(running("op", "/r/a", 500));
        s.insert_token("t".into(), token(0));
        let json = serde_json::to_value(&s).unwrap();
        assert!(
            json.get("schedule").is_none(),
            "the schedule is not persisted"
        );
        let mut loaded: State = serde_json::from_value(json).unwrap();
        assert!(loaded.active_operation("/r/a").is_some());
        assert!(!loaded.advance(499));
        assert!(loaded.advance(500));
        assert_eq!(loaded.operation("op").unwrap().status, OpStatus::Succeeded);
        assert!(loaded.advance(TOKEN_RETENTION_SECS * 1000));
        assert!(loaded.token("t").is_none());
    }

    #[test]
    fn workspace_delete_soft_deletes_and_removes_children() {
        let mut s = State::new();
        s.put(res("/ws/W", Kind::Workspace));
        s.put(res("/ws/W/computes/c", Kind::Compute));
        s.insert_operation(Operation {
            id: "d".into(),
            resource_key: "/ws/w".into(),
            kind: OpKind::Delete,
            status: OpStatus::InProgress,
            started_ms: 0,
            due_ms: 0,
            ended_ms: None,
            failure: None,
            purge: false,
        });
        s.advance(1);
        assert!(s.resources.is_empty());
        assert!(s.soft_deleted.contains_key("/ws/w"));
    }
}
