//! The traits a provider author implements: [`Provider`], [`Resource`], [`DataSource`].
//!
//! Required methods are the CRUD core; everything else (cross-attribute validation, plan
//! customisation, import, identity) has a default so a resource opts in only where it needs to.

use std::any::Any;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::diagnostics::{Diagnostic, Diagnostics};
use super::model::Model;
use super::schema::{IdentitySchema, Schema};
use crate::value::Value;
use crate::value::path::AttributePath;

/// What the Terraform CLI told us it supports (absent on old CLIs, meaning "nothing").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientCapabilities {
    pub deferral_allowed: bool,
    pub write_only_attributes_allowed: bool,
}

/// Shared state handed to every call: the configured provider data, cancellation, and a
/// place for warnings produced alongside a successful result.
#[derive(Clone)]
pub struct Ctx {
    provider_data: Option<Arc<dyn Any + Send + Sync>>,
    /// Cancelled when Terraform sends StopProvider or the call's deadline passes.
    pub cancel: CancellationToken,
    pub capabilities: ClientCapabilities,
    warnings: Arc<Mutex<Diagnostics>>,
    /// Set by a read that finds the object's last operation failed (see
    /// [`super::lifecycle::FailedMark`]).
    failed: Arc<Mutex<Option<String>>>,
    /// This read is the one right after an import (see [`super::lifecycle::ImportedMark`]).
    imported: bool,
}

impl Ctx {
    pub fn new(
        provider_data: Option<Arc<dyn Any + Send + Sync>>,
        cancel: CancellationToken,
        capabilities: ClientCapabilities,
    ) -> Self {
        Self {
            provider_data,
            cancel,
            capabilities,
            warnings: Arc::default(),
            failed: Arc::default(),
            imported: false,
        }
    }

    /// The value the provider's `configure` returned, downcast to its concrete type.
    pub fn provider_data<T: Any + Send + Sync>(&self) -> Result<Arc<T>, Diagnostics> {
        self.provider_data
            .clone()
            .and_then(|d| d.downcast::<T>().ok())
            .ok_or_else(|| {
                Diagnostic::error(
                    "Provider not configured",
                    "Terraform called this resource before configuring the provider; this is unexpected, please report it",
                )
                .into()
            })
    }

    /// Records a warning to return with the call's result.
    pub fn warn(&self, d: Diagnostic) {
        if let Ok(mut w) = self.warnings.lock() {
            w.push(d);
        }
    }

    /// Records that Azure reports the object's last operation failed (`reason` says how), so
    /// the next plan applies the configuration again even when the values already match.
    pub fn report_failed(&self, reason: impl Into<String>) {
        if let Ok(mut f) = self.failed.lock() {
            *f = Some(reason.into());
        }
    }

    /// Whether this read follows an import: the place to say what import could not recover.
    pub fn just_imported(&self) -> bool {
        self.imported
    }

    pub(crate) fn set_imported(&mut self, imported: bool) {
        self.imported = imported;
    }

    pub(crate) fn take_failed(&self) -> Option<String> {
        self.failed.lock().ok().and_then(|mut f| f.take())
    }

    pub(crate) fn take_warnings(&self) -> Diagnostics {
        self.warnings
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default()
    }

    /// A context that ignores Terraform's stop and ends after `timeout`: for the short
    /// read-back that records what an interrupted write left in Azure.
    pub(crate) fn detached(&self, timeout: Duration) -> Ctx {
        let mut fresh = self.clone();
        fresh.cancel = CancellationToken::new();
        fresh.warnings = Arc::default();
        fresh.with_timeout(Some(timeout))
    }

    /// A child context whose cancellation also fires after `timeout`.
    pub fn with_timeout(&self, timeout: Option<Duration>) -> Ctx {
        let mut child = self.clone();
        child.cancel = self.cancel.child_token();
        if let Some(t) = timeout {
            let token = child.cancel.clone();
            tokio::spawn(async move {
                tokio::select! {
                    _ = tokio::time::sleep(t) => token.cancel(),
                    _ = token.cancelled() => {}
                }
            });
        }
        child
    }
}

/// A failed create or update: the diagnostics, and what really exists now (saved to state,
/// tainted on create) so nothing is lost.
#[derive(Debug)]
pub struct ApplyError<M> {
    pub diags: Diagnostics,
    pub state: Option<M>,
}

impl<M> From<Diagnostics> for ApplyError<M> {
    fn from(diags: Diagnostics) -> Self {
        Self { diags, state: None }
    }
}

impl<M> From<Diagnostic> for ApplyError<M> {
    fn from(d: Diagnostic) -> Self {
        Self {
            diags: d.into(),
            state: None,
        }
    }
}

/// Private state: notes a resource keeps with its state, which Terraform stores opaquely and
/// hands back with the next call. The runtime keeps its own notes (see
/// [`super::lifecycle`]) in the same bytes under other keys, so neither can clobber the other.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Private {
    notes: serde_json::Map<String, serde_json::Value>,
}

impl Private {
    /// Prefix of the keys resources use, apart from the runtime's.
    const RESOURCE_KEY: &str = "resource.";

    /// The resource's notes of a private-state blob (the runtime's are left out).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let notes = super::lifecycle::decode_notes(bytes)
            .into_iter()
            .filter(|(k, _)| k.starts_with(Self::RESOURCE_KEY))
            .collect();
        Self { notes }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.notes
            .get(&format!("{}{key}", Self::RESOURCE_KEY))
            .and_then(|v| v.as_str())
    }

    /// Sets (`Some`) or removes (`None`) a note.
    pub fn set(&mut self, key: &str, value: Option<&str>) {
        let key = format!("{}{key}", Self::RESOURCE_KEY);
        match value {
            Some(v) => self.notes.insert(key, v.into()),
            None => self.notes.remove(&key),
        };
    }

    /// `bytes` (which also hold the runtime's notes) with the resource's notes replaced by these.
    pub(crate) fn merge_into(&self, bytes: &[u8]) -> Vec<u8> {
        let mut all = super::lifecycle::decode_notes(bytes);
        all.retain(|k, _| !k.starts_with(Self::RESOURCE_KEY));
        all.extend(self.notes.clone());
        super::lifecycle::encode_notes(all)
    }
}

/// Inputs of [`Resource::validate`].
pub struct ValidateRequest<'a, M> {
    /// Values may still be unknown.
    pub config: &'a M,
    pub capabilities: ClientCapabilities,
}

/// What [`Resource::validate`] reports.
#[derive(Default)]
pub struct ValidateResponse {
    pub diags: Diagnostics,
}

/// Inputs of [`Resource::modify_plan`].
pub struct PlanRequest<'a, M> {
    pub ctx: &'a Ctx,
    /// `None` on create.
    pub prior: Option<&'a M>,
    pub config: &'a M,
    pub private: &'a Private,
    /// The module's `provider_meta` block for this provider (null when absent).
    pub provider_meta: &'a Value,
}

/// What [`Resource::modify_plan`] may change besides the planned model.
#[derive(Default)]
pub struct PlanResponse {
    pub diags: Diagnostics,
    pub requires_replace: Vec<AttributePath>,
    /// Private state to plan (`None`: keep the prior one).
    pub private: Option<Private>,
}

/// Inputs of [`Resource::create`].
pub struct CreateRequest<'a, M> {
    pub ctx: &'a Ctx,
    pub planned: M,
    /// Carries write-only values, which are null in `planned`.
    pub config: M,
    pub private: &'a Private,
    pub provider_meta: &'a Value,
}

/// Inputs of [`Resource::update`].
pub struct UpdateRequest<'a, M> {
    pub ctx: &'a Ctx,
    pub prior: M,
    pub planned: M,
    /// Carries write-only values, which are null in `planned`.
    pub config: M,
    pub private: &'a Private,
    pub provider_meta: &'a Value,
}

/// A successful create, update or read: the state, and the private state to keep with it.
/// Built from the state alone (`.into()`) when the private state stays as it was.
pub struct StateResponse<S> {
    pub state: S,
    /// New private state (`None`: keep the one Terraform sent, planned or current).
    pub private: Option<Private>,
}

impl<S> From<S> for StateResponse<S> {
    fn from(state: S) -> Self {
        Self {
            state,
            private: None,
        }
    }
}

/// A successful create or update.
pub type ApplyResponse<M> = StateResponse<M>;

/// A successful read: the state is `None` when the remote object is gone (Terraform drops it
/// from state).
pub type ReadResponse<M> = StateResponse<Option<M>>;

/// Inputs of [`Resource::read`].
pub struct ReadRequest<'a, M> {
    pub ctx: &'a Ctx,
    pub state: M,
    pub private: &'a Private,
    pub provider_meta: &'a Value,
}

/// Inputs of [`Resource::delete`].
pub struct DeleteRequest<'a, M> {
    pub ctx: &'a Ctx,
    pub prior: M,
    pub private: &'a Private,
    pub provider_meta: &'a Value,
}

/// Inputs of [`Resource::import`].
pub struct ImportRequest<'a> {
    pub ctx: &'a Ctx,
    /// The id given to `terraform import`, or the `id` of the import identity.
    pub id: &'a str,
}

/// Inputs of [`DataSource::read`].
pub struct ReadDataRequest<'a, M> {
    pub ctx: &'a Ctx,
    pub config: M,
    /// The module's `provider_meta` block for this provider (null when absent).
    pub provider_meta: &'a Value,
}

/// A managed resource. Every method takes a request struct (and create, read, update return
/// a response struct), so what Terraform sends can grow without touching resources.
#[async_trait]
pub trait Resource: Send + Sync + 'static {
    type Model: Model;

    /// Full type name, e.g. `amlauth_workspace_identity`.
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;

    /// Identity schema for Terraform ≥1.12 (`None`: the resource has no identity).
    fn identity_schema(&self) -> Option<IdentitySchema> {
        None
    }
    /// The identity object of a state (matching [`Resource::identity_schema`]).
    fn identity(&self, _state: &Self::Model) -> Option<Value> {
        None
    }

    /// Cross-attribute checks on the configuration; values may still be unknown.
    fn validate(&self, _req: ValidateRequest<'_, Self::Model>, _resp: &mut ValidateResponse) {}

    /// Refines the plan after the generic rules (defaults, unknown computed values,
    /// requires-replace) were applied. Runs at plan and again at apply: keep it deterministic.
    async fn modify_plan(
        &self,
        _req: PlanRequest<'_, Self::Model>,
        _planned: &mut Self::Model,
        _resp: &mut PlanResponse,
    ) {
    }

    async fn create(
        &self,
        req: CreateRequest<'_, Self::Model>,
    ) -> Result<ApplyResponse<Self::Model>, ApplyError<Self::Model>>;
    async fn read(
        &self,
        req: ReadRequest<'_, Self::Model>,
    ) -> Result<ReadResponse<Self::Model>, Diagnostics>;
    async fn update(
        &self,
        req: UpdateRequest<'_, Self::Model>,
    ) -> Result<ApplyResponse<Self::Model>, ApplyError<Self::Model>>;
    async fn delete(&self, req: DeleteRequest<'_, Self::Model>) -> Result<(), Diagnostics>;

    /// Builds the state stub Terraform will then `read`. The default refuses import.
    async fn import(&self, _req: ImportRequest<'_>) -> Result<Self::Model, Diagnostics> {
        Err(Diagnostic::error(
            "Import not supported",
            format!("{} cannot be imported", self.type_name()),
        )
        .into())
    }
}

/// A data source.
#[async_trait]
pub trait DataSource: Send + Sync + 'static {
    type Model: Model;

    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    fn validate(&self, _req: ValidateRequest<'_, Self::Model>, _resp: &mut ValidateResponse) {}
    async fn read(&self, req: ReadDataRequest<'_, Self::Model>)
    -> Result<Self::Model, Diagnostics>;
}

/// The provider itself: its configuration and what it offers.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    fn schema(&self) -> Schema;
    /// Schema of the `provider_meta` block modules may set for this provider (none by default).
    fn meta_schema(&self) -> Schema {
        Schema::default()
    }
    /// Checks the provider configuration (values may be unknown).
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    /// Builds what resources get from [`Ctx::provider_data`].
    async fn configure(
        &self,
        config: &Value,
        capabilities: ClientCapabilities,
    ) -> Result<(Arc<dyn Any + Send + Sync>, Diagnostics), Diagnostics>;
    fn resources(&self) -> Vec<Arc<dyn super::erased::DynResource>>;
    fn data_sources(&self) -> Vec<Arc<dyn super::erased::DynDataSource>>;
    /// List resources for `terraform query` (none by default).
    fn list_resources(&self) -> Vec<Arc<dyn super::list::DynListResource>> {
        Vec::new()
    }
}
