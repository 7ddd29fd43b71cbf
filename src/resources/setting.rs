//! "A setting on an existing ARM object": the shape of every resource here (and of
//! azapi's `azapi_update_resource`). The object (a workspace, a compute, a datastore, a
//! registry) is created and deleted elsewhere; the resource owns one part of it.
//!
//! A resource declares a [`Setting`]: its model, the kind of object it lives on (an
//! [`ArmObject`]: the id parser, the API version, the words for it), its own attributes, how
//! state is read from the object's JSON and how the setting is written. [`SettingResource`]
//! turns that into a framework [`Resource`]:
//!
//! - schema: `id`, the target attribute and `timeouts` around the resource's own attributes;
//! - read: one `GET`; a 404 removes the resource from state;
//! - create and update: the same write, then the state from the object Azure returns; a failed
//!   write records what Azure now holds (one `GET`) so nothing is lost;
//! - delete: no call, the setting stays as it is;
//! - import by id (and, through the runtime, by resource identity): a stub with the id that the
//!   following read completes;
//! - plan: `id` is the configured object id, known at plan time.
//!
//! What every resource gets from the runtime on top (ids compared ignoring case, the bounded
//! re-read after a write, Azure's `Failed` state, interrupted writes) lives in
//! [`crate::framework::lifecycle`].

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value as Json;

use crate::azure::{ArmClient, AzureError, CallContext, ResourceId};
use crate::framework::erased::DynResource;
use crate::framework::timeouts::{self, Operation, Timeouts};
use crate::framework::{
    ApplyError, ApplyResponse, Attribute, Block, CreateRequest, Ctx, DeleteRequest, Diagnostic,
    Diagnostics, Field, IdentityAttribute, IdentitySchema, ImportRequest, Model, PlanRequest,
    PlanResponse, ReadRequest, ReadResponse, Resource, Schema, UpdateRequest, ValidateRequest,
    ValidateResponse,
};
use crate::value::path::AttributePath;
use crate::value::{Type, Value};

use super::common::{
    DEFAULT_TIMEOUTS, azure_error, call_ctx, client, failed_write, parse_id, require_client,
};
use super::object::ArmObject;

/// The fields every setting model has, found by the derive's `#[model(id)]`,
/// `#[model(target)]` and `#[model(timeouts)]` markers.
pub trait SettingModel: Model + Clone + Default {
    /// The name of the target attribute (the one errors about the object point at).
    const TARGET: &'static str;
    /// `id`: the object's ARM id, as the user spelled it.
    fn id_mut(&mut self) -> &mut Field<String>;
    fn id(&self) -> &Field<String>;
    /// The attribute naming the object (`workspace_id`, `compute_id`, …).
    fn target(&self) -> &Field<String>;
    fn target_mut(&mut self) -> &mut Field<String>;
    fn timeouts(&self) -> &Field<Timeouts>;
}

/// What a write gets: the object it targets, the planned state and the configuration.
pub struct Write<'a, M> {
    pub ctx: &'a Ctx,
    pub client: &'a ArmClient,
    /// The object's id, parsed.
    pub id: &'a ResourceId,
    /// The object's id as the user wrote it (for messages).
    pub raw: &'a str,
    /// Bounded by the operation's timeout and Terraform's stop.
    pub call: &'a CallContext,
    pub api_version: &'static str,
    /// The state the plan promised (`id` and the target known).
    pub planned: &'a M,
    /// The configuration: write-only values are only here.
    pub config: &'a M,
    object: &'static ArmObject,
    not_found: Diagnostic,
}

impl<M> Write<'_, M> {
    /// The object as Azure holds it now (one `GET`), for read-modify-write APIs.
    pub async fn current(&self) -> Result<Json, WriteError> {
        self.client
            .get_json(self.id, self.api_version, self.call)
            .await
            .map_err(|e| {
                let action = format!("Failed to read the {}", self.object.name);
                WriteError::Refused(azure_error(&action, &e).into())
            })?
            .ok_or_else(|| WriteError::Refused(self.not_found.clone().into()))
    }

    /// `PATCH`es `body` onto the object and waits for the operation; the object after it.
    pub async fn patch(&self, body: &Json) -> Result<Json, WriteError> {
        Ok(self
            .client
            .patch_and_wait(self.id, self.api_version, body, self.call)
            .await?)
    }
}

/// Why a write did not happen.
#[derive(Debug)]
pub enum WriteError {
    /// Stopped before (or without) changing anything Azure would report: the diagnostics
    /// only, the state stays as planned-or-prior.
    Refused(Diagnostics),
    /// Azure failed the write: a 404 says the object is gone, anything else is reported
    /// after one `GET` records what Azure holds now.
    Azure(AzureError),
}

impl From<Diagnostics> for WriteError {
    fn from(d: Diagnostics) -> Self {
        WriteError::Refused(d)
    }
}

impl From<Diagnostic> for WriteError {
    fn from(d: Diagnostic) -> Self {
        WriteError::Refused(d.into())
    }
}

impl From<AzureError> for WriteError {
    fn from(e: AzureError) -> Self {
        WriteError::Azure(e)
    }
}

/// A setting on an existing ARM object: what a resource declares. Everything else of the
/// resource lifecycle comes from [`SettingResource`].
#[async_trait]
pub trait Setting: Send + Sync + 'static {
    type Model: SettingModel;

    /// Full type name, e.g. `amlauth_workspace_identity`.
    const TYPE_NAME: &'static str;
    /// The kind of object the setting is on: its id parser, API version and names.
    const OBJECT: &'static ArmObject;
    /// What a failed write says, e.g. "Failed to update the workspace identity".
    const WRITE_FAILED: &'static str;

    /// The schema's description and the resource's own attributes, added to a block that
    /// holds `id` and the target attribute already (the adapter adds `timeouts` after them).
    fn schema(block: Block) -> Block;

    /// The target attribute: by default the required id of an [`ArmObject`] of the setting's
    /// kind, whose change replaces the resource.
    fn target_attribute() -> Attribute {
        target_attribute(Self::Model::TARGET, Self::OBJECT)
    }

    /// The state from the object's JSON (as read, or as returned by the write); `prior` is the
    /// state, plan or import stub it refreshes (for what Azure never returns, such as secrets).
    fn state(body: &Json, prior: &Self::Model) -> Self::Model;

    /// Writes the setting (`PATCH`, or `GET` + `PUT` for APIs without `PATCH`) and returns
    /// the object as Azure holds it after the write. `w.config` carries write-only values.
    async fn write(&self, w: &Write<'_, Self::Model>) -> Result<Json, WriteError>;

    /// Cross-attribute checks on the configuration.
    fn validate(&self, _config: &Self::Model, _diags: &mut Diagnostics) {}

    /// Refines the plan after `id` was set from the target.
    async fn modify_plan(
        &self,
        _req: PlanRequest<'_, Self::Model>,
        _planned: &mut Self::Model,
        _resp: &mut PlanResponse,
    ) {
    }

    /// After a successful read: e.g. [`super::common::note_provisioning_state`], or a warning
    /// after an import ([`Ctx::just_imported`]).
    fn after_read(_ctx: &Ctx, _body: &Json, _read: &Self::Model) {}

    /// The attribute a "not found" error points at: the target attribute by default.
    fn not_found_at(_m: &Self::Model) -> &'static str {
        Self::Model::TARGET
    }

    /// The object's id when neither the target attribute nor `id` is known (a resource that
    /// can find its object through another one). The default has none.
    async fn find_target(
        &self,
        _ctx: &Ctx,
        _m: &Self::Model,
        _op: Operation,
    ) -> Result<Option<String>, Diagnostics> {
        Ok(None)
    }

    /// The stub `import` returns for `id`. The default accepts the object's id.
    fn import(id: &str) -> Result<Self::Model, Diagnostics> {
        (Self::OBJECT.parse)(id).map_err(|e| {
            Diagnostics::from(Diagnostic::error("Invalid import id", e.to_string()))
        })?;
        let mut m = Self::Model::default();
        *m.id_mut() = Field::Known(id.into());
        *m.target_mut() = Field::Known(id.into());
        Ok(m)
    }
}

/// The error when the object a setting is on does not exist: its kind, the id, and where the
/// kind is created by another resource, that it must exist first.
fn not_found<S: Setting>(raw: &str, m: &S::Model) -> Diagnostic {
    let object = S::OBJECT;
    let mut title = object.name.to_string();
    if let Some(first) = title.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    let mut detail = format!(
        "the {} \"{raw}\" does not exist (or the credentials cannot see it).",
        object.noun
    );
    if let Some(by) = object.created_by {
        detail.push_str(&format!(
            " {} manages a setting of an existing {}: create the {} first (for example with {by}) \
             and pass its id.",
            S::TYPE_NAME,
            object.noun,
            object.name
        ));
    }
    Diagnostic::error(format!("{title} not found"), detail)
        .at(AttributePath::root().attr(S::not_found_at(m)))
}

/// The framework resource of a [`Setting`].
pub struct SettingResource<S>(pub S);

/// Registers a setting with the provider.
pub fn resource<S: Setting>(s: S) -> Arc<dyn DynResource> {
    Arc::new(SettingResource(s))
}

impl<S: Setting> SettingResource<S> {
    /// The object's id as the user wrote it: the target attribute, `id`, or what
    /// [`Setting::find_target`] finds.
    async fn target(&self, ctx: &Ctx, m: &S::Model, op: Operation) -> Result<String, Diagnostics> {
        if let Some(t) = m.target().known().or(m.id().known()) {
            return Ok(t.clone());
        }
        Ok(self.0.find_target(ctx, m, op).await?.unwrap_or_default())
    }

    async fn apply(
        &self,
        ctx: &Ctx,
        mut planned: S::Model,
        config: S::Model,
        op: Operation,
    ) -> Result<ApplyResponse<S::Model>, ApplyError<S::Model>> {
        let client = require_client(ctx)?;
        let raw = self.target(ctx, &planned, op).await?;
        let id = parse_id(&raw, S::Model::TARGET, S::OBJECT.parse)?;
        let not_found = not_found::<S>(&raw, &planned);
        *planned.id_mut() = Field::Known(raw.clone());
        if !planned.target().is_known() {
            *planned.target_mut() = Field::Known(raw.clone());
        }
        let call = call_ctx(ctx, planned.timeouts(), op);
        let w = Write {
            ctx,
            client: &client,
            id: &id,
            raw: &raw,
            call: &call,
            api_version: S::OBJECT.api_version,
            planned: &planned,
            config: &config,
            object: S::OBJECT,
            not_found,
        };
        tracing::info!(object = %id, resource = S::TYPE_NAME, "writing the setting");
        match self.0.write(&w).await {
            Ok(body) => Ok(S::state(&body, &planned).into()),
            Err(WriteError::Refused(diags)) => Err(diags.into()),
            Err(WriteError::Azure(e)) if e.is_not_found() => Err(w.not_found.into()),
            Err(WriteError::Azure(e)) => Err(failed_write(
                ctx,
                &client,
                &id,
                S::OBJECT.api_version,
                planned.timeouts(),
                azure_error(S::WRITE_FAILED, &e).into(),
                |b| S::state(b, &planned),
            )
            .await),
        }
    }
}

/// The `id` attribute of every setting: the object's ARM id (set from the target at plan time).
pub fn id_attribute(description: &str) -> Attribute {
    Attribute::string("id")
        .computed()
        .arm_id()
        .use_state_for_unknown()
        .describe(description)
}

/// The usual target attribute: the required ARM id of an `object`; another object replaces
/// the resource.
pub fn target_attribute(name: &str, object: &ArmObject) -> Attribute {
    Attribute::string(name)
        .required()
        .arm_id()
        .requires_replace()
        .validate(object.validator())
        .describe(object.target_doc)
}

/// The identity schema of every setting: the object's ARM id.
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

/// The identity object of a state whose `id` is known.
pub fn identity_from_id(id: &Field<String>) -> Option<Value> {
    id.known().map(|i| {
        Value::Object(BTreeMap::from([(
            "id".to_string(),
            Value::String(i.clone()),
        )]))
    })
}

#[async_trait]
impl<S: Setting> Resource for SettingResource<S> {
    type Model = S::Model;

    fn type_name(&self) -> &'static str {
        S::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        let block = Block::new()
            .attribute(id_attribute(S::OBJECT.id_doc))
            .attribute(S::target_attribute());
        Schema::new(0, timeouts::add_block(S::schema(block), DEFAULT_TIMEOUTS))
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(id_identity_schema(S::OBJECT.identity))
    }

    fn identity(&self, state: &Self::Model) -> Option<Value> {
        identity_from_id(state.id())
    }

    fn validate(&self, req: ValidateRequest<'_, Self::Model>, resp: &mut ValidateResponse) {
        self.0.validate(req.config, &mut resp.diags);
    }

    async fn modify_plan(
        &self,
        req: PlanRequest<'_, Self::Model>,
        planned: &mut Self::Model,
        resp: &mut PlanResponse,
    ) {
        // The object id is known at plan time when configured: `id` is that id.
        if let Field::Known(t) = req.config.target() {
            *planned.id_mut() = Field::Known(t.clone());
        }
        self.0.modify_plan(req, planned, resp).await;
    }

    async fn create(
        &self,
        req: CreateRequest<'_, Self::Model>,
    ) -> Result<ApplyResponse<Self::Model>, ApplyError<Self::Model>> {
        self.apply(req.ctx, req.planned, req.config, Operation::Create)
            .await
    }

    async fn read(
        &self,
        req: ReadRequest<'_, Self::Model>,
    ) -> Result<ReadResponse<Self::Model>, Diagnostics> {
        let (ctx, mut state) = (req.ctx, req.state);
        let Some(client) = client(ctx)? else {
            return Ok(Some(state).into());
        };
        let raw = self.target(ctx, &state, Operation::Read).await?;
        let id = parse_id(&raw, S::Model::TARGET, S::OBJECT.parse)?;
        if !state.target().is_known() {
            *state.target_mut() = Field::Known(raw.clone());
        }
        let call = call_ctx(ctx, state.timeouts(), Operation::Read);
        match client.get_json(&id, S::OBJECT.api_version, &call).await {
            Ok(Some(body)) => {
                let read = S::state(&body, &state);
                S::after_read(ctx, &body, &read);
                Ok(Some(read).into())
            }
            Ok(None) => {
                tracing::info!(object = %id, resource = S::TYPE_NAME, "the object is gone; removing it from state");
                Ok(None.into())
            }
            Err(e) => {
                Err(azure_error(&format!("Failed to read the {}", S::OBJECT.name), &e).into())
            }
        }
    }

    async fn update(
        &self,
        req: UpdateRequest<'_, Self::Model>,
    ) -> Result<ApplyResponse<Self::Model>, ApplyError<Self::Model>> {
        self.apply(req.ctx, req.planned, req.config, Operation::Update)
            .await
    }

    async fn delete(&self, req: DeleteRequest<'_, Self::Model>) -> Result<(), Diagnostics> {
        tracing::info!(
            object = req.prior.target().known().map(String::as_str).unwrap_or(""),
            resource = S::TYPE_NAME,
            "no longer managing the setting; Azure keeps it as it is"
        );
        Ok(())
    }

    async fn import(&self, req: ImportRequest<'_>) -> Result<Self::Model, Diagnostics> {
        S::import(req.id)
    }
}
