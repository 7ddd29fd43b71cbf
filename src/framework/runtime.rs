//! The protocol-independent core of the provider server: every RPC's logic on decoded
//! values. The tfplugin5 and tfplugin6 adapters only convert messages to and from this.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use tokio_util::sync::CancellationToken;

use super::diagnostics::{Diagnostic, Diagnostics};
use super::erased::{Call, Change, DynDataSource, DynResource};
use super::resource::{ClientCapabilities, Ctx, Provider};
use super::schema::{Block, IdentitySchema, Schema};
use super::{lifecycle, plan};
use crate::value::path::AttributePath;
use crate::value::{Type, Value, json, msgpack};

/// A value as it travels on the wire (`DynamicValue`): msgpack or JSON bytes.
#[derive(Debug, Clone, Default)]
pub struct RawValue {
    pub msgpack: Vec<u8>,
    pub json: Vec<u8>,
}

/// Every schema the provider serves, computed once per process.
pub struct Schemas {
    pub provider: Schema,
    /// The `provider_meta` block modules may set.
    pub provider_meta: Schema,
    pub resources: BTreeMap<String, Schema>,
    pub data_sources: BTreeMap<String, Schema>,
    pub identities: BTreeMap<String, IdentitySchema>,
}

struct ResourceEntry {
    imp: Arc<dyn DynResource>,
    schema: Schema,
    ty: Type,
    identity_ty: Option<Type>,
}

struct DataSourceEntry {
    imp: Arc<dyn DynDataSource>,
    schema: Schema,
    ty: Type,
}

/// ReadResource: refresh one instance's state.
#[derive(Debug, Default)]
pub struct ReadResource<'a> {
    pub type_name: &'a str,
    pub current: Option<&'a RawValue>,
    pub private: Vec<u8>,
    pub provider_meta: Option<&'a RawValue>,
    pub caps: ClientCapabilities,
}

/// PlanResourceChange: plan one instance.
#[derive(Debug, Default)]
pub struct PlanResourceChange<'a> {
    pub type_name: &'a str,
    pub prior: Option<&'a RawValue>,
    pub proposed: Option<&'a RawValue>,
    pub config: Option<&'a RawValue>,
    pub prior_private: Vec<u8>,
    pub provider_meta: Option<&'a RawValue>,
    pub caps: ClientCapabilities,
}

/// ApplyResourceChange: create, update or delete one instance.
#[derive(Debug, Default)]
pub struct ApplyResourceChange<'a> {
    pub type_name: &'a str,
    pub prior: Option<&'a RawValue>,
    pub planned: Option<&'a RawValue>,
    pub config: Option<&'a RawValue>,
    pub planned_private: Vec<u8>,
    pub provider_meta: Option<&'a RawValue>,
}

/// Outcome of ReadResource.
#[derive(Debug, Default)]
pub struct ReadOutcome {
    /// msgpack of the new state; a null state when the object is gone.
    pub new_state: Option<Vec<u8>>,
    pub private: Vec<u8>,
    pub identity: Option<Vec<u8>>,
    pub diags: Diagnostics,
}

/// Outcome of PlanResourceChange.
#[derive(Debug, Default)]
pub struct PlanOutcome {
    pub planned_state: Option<Vec<u8>>,
    pub requires_replace: Vec<AttributePath>,
    pub planned_private: Vec<u8>,
    pub planned_identity: Option<Vec<u8>>,
    pub diags: Diagnostics,
}

/// Outcome of ApplyResourceChange.
#[derive(Debug, Default)]
pub struct ApplyOutcome {
    pub new_state: Option<Vec<u8>>,
    pub private: Vec<u8>,
    pub identity: Option<Vec<u8>>,
    pub diags: Diagnostics,
}

/// One imported object.
#[derive(Debug)]
pub struct Imported {
    pub type_name: String,
    pub state: Vec<u8>,
    pub private: Vec<u8>,
    pub identity: Option<Vec<u8>>,
}

/// What a call on a resource or data source carries besides its values; [`Session::call`]
/// lends it to the implementation with the private state of the moment.
struct Session {
    ctx: Ctx,
    meta: Value,
}

impl Session {
    fn call<'a>(&'a self, private: &'a [u8]) -> Call<'a> {
        Call {
            ctx: &self.ctx,
            private,
            provider_meta: &self.meta,
        }
    }
}

/// The provider server core.
pub struct Runtime {
    provider: Arc<dyn Provider>,
    schemas: Arc<Schemas>,
    provider_ty: Type,
    meta_ty: Type,
    resources: BTreeMap<String, ResourceEntry>,
    data_sources: BTreeMap<String, DataSourceEntry>,
    provider_data: RwLock<Option<Arc<dyn Any + Send + Sync>>>,
    stop: CancellationToken,
    lists: super::list::Lists,
}

impl Runtime {
    pub fn new(provider: Arc<dyn Provider>) -> Self {
        let provider_schema = provider.schema();
        let mut resources = BTreeMap::new();
        let mut identities = BTreeMap::new();
        for imp in provider.resources() {
            let schema = imp.schema();
            let identity = imp.identity_schema();
            let identity_ty = identity.as_ref().map(IdentitySchema::implied_type);
            if let Some(i) = identity {
                identities.insert(imp.type_name().to_string(), i);
            }
            resources.insert(
                imp.type_name().to_string(),
                ResourceEntry {
                    ty: schema.implied_type(),
                    schema,
                    imp,
                    identity_ty,
                },
            );
        }
        let mut data_sources = BTreeMap::new();
        for imp in provider.data_sources() {
            let schema = imp.schema();
            data_sources.insert(
                imp.type_name().to_string(),
                DataSourceEntry {
                    ty: schema.implied_type(),
                    schema,
                    imp,
                },
            );
        }
        let meta_schema = provider.meta_schema();
        let schemas = Arc::new(Schemas {
            provider: provider_schema.clone(),
            provider_meta: meta_schema.clone(),
            resources: resources
                .iter()
                .map(|(k, e)| (k.clone(), e.schema.clone()))
                .collect(),
            data_sources: data_sources
                .iter()
                .map(|(k, e)| (k.clone(), e.schema.clone()))
                .collect(),
            identities,
        });
        Self {
            provider_ty: provider_schema.implied_type(),
            meta_ty: meta_schema.implied_type(),
            lists: super::list::Lists::new(provider.as_ref()),
            provider,
            schemas,
            resources,
            data_sources,
            provider_data: RwLock::new(None),
            stop: CancellationToken::new(),
        }
    }

    pub fn schemas(&self) -> Arc<Schemas> {
        self.schemas.clone()
    }

    /// StopProvider: cancel everything in flight; later calls see a cancelled context too.
    pub fn stop(&self) {
        tracing::info!("stop requested by Terraform: cancelling in-flight operations");
        self.stop.cancel();
    }

    /// The list resources (`terraform query`).
    pub fn lists(&self) -> &super::list::Lists {
        &self.lists
    }

    pub(crate) fn ctx(&self, caps: ClientCapabilities) -> Ctx {
        let data = self.provider_data.read().ok().and_then(|d| d.clone());
        Ctx::new(data, self.stop.child_token(), caps)
    }

    /// The context and decoded `provider_meta` of one call on a resource or data source.
    fn session(
        &self,
        provider_meta: Option<&RawValue>,
        caps: ClientCapabilities,
    ) -> Result<Session, Diagnostics> {
        // Null when the request has no `provider_meta` (absent or empty).
        let meta = match provider_meta {
            Some(r) if !r.msgpack.is_empty() || !r.json.is_empty() => {
                decode(Some(r), &self.meta_ty, &self.schemas.provider_meta.block)?
            }
            _ => Value::Null,
        };
        Ok(Session {
            ctx: self.ctx(caps),
            meta,
        })
    }

    fn resource(&self, type_name: &str) -> Result<&ResourceEntry, Diagnostics> {
        lookup(
            &self.resources,
            type_name,
            "Unknown resource type",
            "resource type",
        )
    }

    fn data_source(&self, type_name: &str) -> Result<&DataSourceEntry, Diagnostics> {
        lookup(
            &self.data_sources,
            type_name,
            "Unknown data source",
            "data source",
        )
    }

    pub fn validate_provider_config(&self, config: Option<&RawValue>) -> Diagnostics {
        let mut diags = Diagnostics::new();
        match decode(config, &self.provider_ty, &self.schemas.provider.block) {
            Ok(v) => {
                super::validate::validate_block(
                    &self.schemas.provider.block,
                    &v,
                    &AttributePath::root(),
                    ClientCapabilities::default(),
                    &mut diags,
                );
                self.provider.validate(&v, &mut diags);
            }
            Err(d) => diags.extend(d),
        }
        diags
    }

    pub async fn configure(
        &self,
        config: Option<&RawValue>,
        caps: ClientCapabilities,
    ) -> Diagnostics {
        let config = match decode(config, &self.provider_ty, &self.schemas.provider.block) {
            Ok(v) => v,
            Err(d) => return d,
        };
        match self.provider.configure(&config, caps).await {
            Ok((data, diags)) => {
                if let Ok(mut slot) = self.provider_data.write() {
                    *slot = Some(data);
                }
                diags
            }
            Err(d) => d,
        }
    }

    pub fn validate_resource_config(
        &self,
        type_name: &str,
        config: Option<&RawValue>,
        caps: ClientCapabilities,
    ) -> Diagnostics {
        let run = || -> Result<Diagnostics, Diagnostics> {
            let e = self.resource(type_name)?;
            let v = decode(config, &e.ty, &e.schema.block)?;
            Ok(e.imp.validate(&e.schema, &v, caps))
        };
        run().unwrap_or_else(|d| d)
    }

    pub fn validate_data_source_config(
        &self,
        type_name: &str,
        config: Option<&RawValue>,
    ) -> Diagnostics {
        let run = || -> Result<Diagnostics, Diagnostics> {
            let e = self.data_source(type_name)?;
            let v = decode(config, &e.ty, &e.schema.block)?;
            Ok(e.imp.validate(&e.schema, &v, ClientCapabilities::default()))
        };
        run().unwrap_or_else(|d| d)
    }

    /// UpgradeResourceState: we have one schema version, so this re-reads the stored JSON
    /// under the current schema, dropping attributes the schema no longer has.
    pub fn upgrade_resource_state(
        &self,
        type_name: &str,
        version: i64,
        json_state: &[u8],
        flatmap_present: bool,
    ) -> (Option<Vec<u8>>, Diagnostics) {
        let run = || -> Result<Vec<u8>, Diagnostics> {
            let e = self.resource(type_name)?;
            if version > e.schema.version {
                return Err(Diagnostic::error(
                    "State written by a newer provider",
                    format!(
                        "the state of this {type_name} has schema version {version}, but this provider only knows up to {}; upgrade the provider",
                        e.schema.version
                    ),
                )
                .into());
            }
            if json_state.is_empty() {
                if flatmap_present {
                    return Err(Diagnostic::error(
                        "Unsupported legacy state",
                        "this state was written in the pre-0.12 flatmap format, which this provider never produced; remove it from state and import the resource again",
                    )
                    .into());
                }
                return encode(&Value::Null, &e.ty);
            }
            let v = json::decode_ignoring_unknown_attributes(json_state, &e.ty)
                .map_err(invalid_state)?;
            encode(&v, &e.ty)
        };
        match run() {
            Ok(b) => (Some(b), Diagnostics::new()),
            Err(d) => (None, d),
        }
    }

    pub async fn read_resource(&self, req: ReadResource<'_>) -> ReadOutcome {
        let run = async || -> Result<ReadOutcome, Diagnostics> {
            let e = self.resource(req.type_name)?;
            let state = decode(req.current, &e.ty, &e.schema.block)?;
            if state.is_null() {
                return Ok(ReadOutcome {
                    new_state: Some(encode(&Value::Null, &e.ty)?),
                    private: req.private,
                    ..Default::default()
                });
            }
            let mut session = self.session(req.provider_meta, req.caps)?;
            session
                .ctx
                .set_imported(lifecycle::ImportedMark::get(&req.private));
            let private = lifecycle::ImportedMark::set(&req.private, false);
            let ctx = &session.ctx;
            let (mut new, private) = match e.imp.read(session.call(&private), &state).await {
                Ok(v) => v,
                Err(mut d) => {
                    // Keep the prior state so nothing is lost when a read fails.
                    let mut warnings = ctx.take_warnings();
                    warnings.extend(std::mem::take(&mut d));
                    return Ok(ReadOutcome {
                        new_state: Some(encode(&state, &e.ty)?),
                        private,
                        identity: None,
                        diags: warnings,
                    });
                }
            };
            lifecycle::keep_spelling(&e.schema.block, &mut new, &[&state], None);
            let identity = self.identity_bytes(e, &new);
            let private = lifecycle::FailedMark::set(&private, ctx.take_failed().as_deref());
            Ok(ReadOutcome {
                new_state: Some(encode(&new, &e.ty)?),
                private,
                identity,
                diags: ctx.take_warnings(),
            })
        };
        run().await.unwrap_or_else(|diags| ReadOutcome {
            diags,
            ..Default::default()
        })
    }

    pub async fn plan_resource_change(&self, req: PlanResourceChange<'_>) -> PlanOutcome {
        let run = async || -> Result<PlanOutcome, Diagnostics> {
            let e = self.resource(req.type_name)?;
            let prior = decode(req.prior, &e.ty, &e.schema.block)?;
            let mut proposed = decode(req.proposed, &e.ty, &e.schema.block)?;
            let config = decode(req.config, &e.ty, &e.schema.block)?;
            // An id the configuration spells differently from the state is no change: plan
            // the state's spelling (Terraform accepts the prior value in place of the config).
            let block = &e.schema.block;
            let mut same_config = config.clone();
            lifecycle::keep_spelling(block, &mut proposed, &[&prior], Some(&config));
            lifecycle::keep_spelling(block, &mut same_config, &[&prior], Some(&config));
            let session = self.session(req.provider_meta, req.caps)?;
            let change = Change {
                prior: &prior,
                new: &proposed,
                config: &same_config,
            };
            let call = session.call(&req.prior_private);
            let mut out = e.imp.plan(call, &e.schema, change).await;
            lifecycle::keep_spelling(block, &mut out.planned, &[&prior], Some(&config));
            let mut diags = out.diags;
            if let Some(reason) = lifecycle::FailedMark::get(&req.prior_private)
                && !prior.is_null()
                && !out.planned.is_null()
                && plan::values_equal(&out.planned, &prior)
            {
                diags.push(lifecycle::FailedMark::replan(&mut out.planned, &reason));
            }
            let planned_identity = if out.planned.is_wholly_known() {
                self.identity_bytes(e, &out.planned)
            } else {
                None
            };
            Ok(PlanOutcome {
                planned_state: Some(encode(&out.planned, &e.ty)?),
                requires_replace: out.requires_replace,
                planned_private: out.private,
                planned_identity,
                diags,
            })
        };
        run().await.unwrap_or_else(|diags| PlanOutcome {
            diags,
            ..Default::default()
        })
    }

    pub async fn apply_resource_change(&self, req: ApplyResourceChange<'_>) -> ApplyOutcome {
        let run = async || -> Result<ApplyOutcome, Diagnostics> {
            let e = self.resource(req.type_name)?;
            let prior = decode(req.prior, &e.ty, &e.schema.block)?;
            let planned = decode(req.planned, &e.ty, &e.schema.block)?;
            let config = decode(req.config, &e.ty, &e.schema.block)?;
            let session = self.session(req.provider_meta, ClientCapabilities::default())?;
            let change = Change {
                prior: &prior,
                new: &planned,
                config: &config,
            };
            let out = e
                .imp
                .apply(session.call(&req.planned_private), change)
                .await;
            let mut diags = out.diags;
            let mut new_state = out.new_state;
            let call = session.call(&out.private);
            if session.ctx.cancel.is_cancelled() && !planned.is_null() && diags.has_errors() {
                new_state = self
                    .after_interrupt(e, call, &prior, &planned, &mut diags)
                    .await;
            }
            let mut new_state = fill_missing(new_state, &e.ty);
            null_write_only(&e.schema.block, &mut new_state);
            // Azure's re-spelling of an id is no change: keep the plan's (or the state's).
            lifecycle::keep_spelling(&e.schema.block, &mut new_state, &[&planned, &prior], None);
            if !diags.has_errors() {
                new_state = self
                    .confirm_applied(e, call, &planned, &prior, new_state, &mut diags)
                    .await;
            }
            if !new_state.is_wholly_known() {
                diags.error(
                    "Provider left values unknown after apply",
                    "some computed attributes were not set; they are stored as null. Please report this provider bug",
                );
                new_state = nullify_unknowns(new_state);
            }
            let identity = self.identity_bytes(e, &new_state);
            Ok(ApplyOutcome {
                new_state: Some(encode(&new_state, &e.ty)?),
                // The next read says whether Azure still reports the object failed.
                private: lifecycle::FailedMark::set(&out.private, None),
                identity,
                diags,
            })
        };
        run().await.unwrap_or_else(|diags| ApplyOutcome {
            diags,
            ..Default::default()
        })
    }

    /// ImportResourceState, by id or (Terraform ≥1.12) by identity.
    pub async fn import_resource_state(
        &self,
        type_name: &str,
        id: &str,
        identity: Option<&RawValue>,
        caps: ClientCapabilities,
    ) -> (Vec<Imported>, Diagnostics) {
        let run = async || -> Result<(Vec<Imported>, Diagnostics), Diagnostics> {
            let e = self.resource(type_name)?;
            let id = if id.is_empty() {
                let ity = e.identity_ty.as_ref().ok_or_else(|| {
                    Diagnostics::from(Diagnostic::error(
                        "Import needs an id",
                        format!("{type_name} is imported by its Azure resource id"),
                    ))
                })?;
                let iv = decode(identity, ity, &Block::default())?;
                match iv.get_attr("id") {
                    Some(Value::String(s)) => s.clone(),
                    _ => {
                        return Err(Diagnostic::error(
                            "Import identity without id",
                            "the import identity must set `id` to the Azure resource id",
                        )
                        .into());
                    }
                }
            } else {
                id.to_string()
            };
            let ctx = self.ctx(caps);
            let state = fill_missing(e.imp.import(&ctx, &id).await?, &e.ty);
            let identity = self.identity_bytes(e, &state);
            Ok((
                vec![Imported {
                    type_name: type_name.to_string(),
                    state: encode(&state, &e.ty)?,
                    private: lifecycle::ImportedMark::set(&[], true),
                    identity,
                }],
                ctx.take_warnings(),
            ))
        };
        run().await.unwrap_or_else(|d| (Vec::new(), d))
    }

    pub async fn read_data_source(
        &self,
        type_name: &str,
        config: Option<&RawValue>,
        provider_meta: Option<&RawValue>,
        caps: ClientCapabilities,
    ) -> (Option<Vec<u8>>, Diagnostics) {
        let run = async || -> Result<(Vec<u8>, Diagnostics), Diagnostics> {
            let e = self.data_source(type_name)?;
            let config = decode(config, &e.ty, &e.schema.block)?;
            let session = self.session(provider_meta, caps)?;
            // Data sources have no private state.
            let state = fill_missing(e.imp.read(session.call(&[]), &config).await?, &e.ty);
            Ok((encode(&state, &e.ty)?, session.ctx.take_warnings()))
        };
        match run().await {
            Ok((b, d)) => (Some(b), d),
            Err(d) => (None, d),
        }
    }

    /// Terraform stopped the provider mid-write: record what Azure holds (a short bounded
    /// read-back, outside the stop), or the planned values, and say it was interrupted.
    async fn after_interrupt(
        &self,
        e: &ResourceEntry,
        call: Call<'_>,
        prior: &Value,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Value {
        tracing::warn!("apply interrupted by Terraform; reading the object back");
        let fresh = call.ctx.detached(lifecycle::INTERRUPT_READ_BACK);
        let probe = lifecycle::planned_as_known(planned, prior);
        let call = Call {
            ctx: &fresh,
            ..call
        };
        let read =
            tokio::time::timeout(lifecycle::INTERRUPT_READ_BACK, e.imp.read(call, &probe)).await;
        let (state, read_back) = match read {
            // Null when the object is gone (or was never created): nothing to record.
            Ok(Ok((v, _))) => (v, true),
            _ => (probe, false),
        };
        diags.push(lifecycle::interrupted_error(read_back));
        state
    }

    /// A write Azure answered whose result still differs from the plan: re-read over a short
    /// bounded window; if Azure still differs, return what it holds with the provider's error
    /// on each attribute (never Terraform's "inconsistent result" bug report).
    async fn confirm_applied(
        &self,
        e: &ResourceEntry,
        call: Call<'_>,
        planned: &Value,
        prior: &Value,
        mut state: Value,
        diags: &mut Diagnostics,
    ) -> Value {
        let ctx = call.ctx;
        let block = &e.schema.block;
        let mut unkept = lifecycle::unkept_changes(block, planned, &state);
        for delay in lifecycle::REREAD_DELAYS {
            if unkept.is_empty() {
                break;
            }
            tracing::info!(
                attributes = ?unkept.iter().map(|c| c.attribute.as_str()).collect::<Vec<_>>(),
                "Azure accepted the write but reports other values; reading again"
            );
            tokio::select! {
                _ = tokio::time::sleep(*delay) => {}
                _ = ctx.cancel.cancelled() => break,
            }
            match e.imp.read(call, &state).await {
                Ok((v, _)) if !v.is_null() => {
                    let mut v = fill_missing(v, &e.ty);
                    null_write_only(block, &mut v);
                    lifecycle::keep_spelling(block, &mut v, &[planned, prior], None);
                    state = v;
                    unkept = lifecycle::unkept_changes(block, planned, &state);
                }
                Ok(_) => break,
                Err(d) => {
                    tracing::warn!(error = %d, "re-reading after the write failed");
                    break;
                }
            }
        }
        // Warnings of the re-reads repeat the apply's; the result below says what matters.
        let _ = ctx.take_warnings();
        for c in &unkept {
            diags.push(lifecycle::unkept_change_error(c));
        }
        state
    }

    fn identity_bytes(&self, e: &ResourceEntry, state: &Value) -> Option<Vec<u8>> {
        let ty = e.identity_ty.as_ref()?;
        if state.is_null() {
            return None;
        }
        let identity = e.imp.identity(state)?;
        if !identity.is_wholly_known() {
            return None;
        }
        encode(&identity, ty).ok()
    }
}

/// The entry of `type_name`, or the error saying this provider has no such `kind`.
pub(crate) fn lookup<'m, T>(
    entries: &'m BTreeMap<String, T>,
    type_name: &str,
    summary: &str,
    kind: &str,
) -> Result<&'m T, Diagnostics> {
    entries.get(type_name).ok_or_else(|| {
        Diagnostic::error(
            summary,
            format!("this provider has no {kind} \"{type_name}\""),
        )
        .into()
    })
}

fn invalid_state(e: impl std::fmt::Display) -> Diagnostics {
    Diagnostic::error(
        "Invalid stored state",
        format!("the stored state could not be read: {e}"),
    )
    .into()
}

/// Decodes a wire value. Sensitive strings are registered with the log redactor on the way in.
pub(crate) fn decode(
    raw: Option<&RawValue>,
    ty: &Type,
    block: &Block,
) -> Result<Value, Diagnostics> {
    let v = match raw {
        Some(r) => crate::value::decode_dynamic_value(&r.msgpack, &r.json, ty),
        None => Ok(Value::Null),
    }
    .map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            "Invalid value from Terraform",
            format!("the provider could not decode a value Terraform sent: {e}"),
        ))
    })?;
    register_secrets(block, &v);
    Ok(v)
}

pub(crate) fn encode(v: &Value, ty: &Type) -> Result<Vec<u8>, Diagnostics> {
    msgpack::encode(v, ty).map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            "Provider produced an invalid value",
            format!("{e}; please report this provider bug"),
        ))
    })
}

/// Registers every sensitive or write-only string in `v` with the log redactor.
fn register_secrets(block: &Block, v: &Value) {
    let Value::Object(attrs) = v else { return };
    for a in &block.attributes {
        if (a.sensitive || a.write_only)
            && let Some(Value::String(s)) = attrs.get(&a.name)
        {
            crate::logging::redact::register_secret(s);
        }
    }
    for b in &block.blocks {
        match attrs.get(&b.type_name) {
            Some(inner @ Value::Object(_)) => register_secrets(&b.block, inner),
            Some(Value::List(items) | Value::Set(items)) => {
                for item in items {
                    register_secrets(&b.block, item);
                }
            }
            _ => {}
        }
    }
}

/// Gives every object the attributes its type lists (null where absent), so resource models
/// need not spell out nested blocks they never set.
pub(crate) fn fill_missing(v: Value, ty: &Type) -> Value {
    match (v, ty) {
        (Value::Object(mut m), Type::Object(attrs)) => {
            for (name, aty) in attrs {
                let inner = m.remove(name).unwrap_or(Value::Null);
                m.insert(name.clone(), fill_missing(inner, aty));
            }
            Value::Object(m)
        }
        (Value::List(items), Type::List(t)) => {
            Value::List(items.into_iter().map(|i| fill_missing(i, t)).collect())
        }
        (Value::Set(items), Type::Set(t)) => {
            Value::Set(items.into_iter().map(|i| fill_missing(i, t)).collect())
        }
        (Value::Map(m), Type::Map(t)) => Value::Map(
            m.into_iter()
                .map(|(k, i)| (k, fill_missing(i, t)))
                .collect(),
        ),
        (v, _) => v,
    }
}

fn null_write_only(block: &Block, v: &mut Value) {
    if let Value::Object(m) = v {
        for a in &block.attributes {
            if a.write_only {
                m.insert(a.name.clone(), Value::Null);
            }
        }
    }
}

fn nullify_unknowns(v: Value) -> Value {
    match v {
        Value::Unknown(_) => Value::Null,
        Value::List(i) => Value::List(i.into_iter().map(nullify_unknowns).collect()),
        Value::Set(i) => Value::Set(i.into_iter().map(nullify_unknowns).collect()),
        Value::Tuple(i) => Value::Tuple(i.into_iter().map(nullify_unknowns).collect()),
        Value::Map(m) => Value::Map(
            m.into_iter()
                .map(|(k, x)| (k, nullify_unknowns(x)))
                .collect(),
        ),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, x)| (k, nullify_unknowns(x)))
                .collect(),
        ),
        other => other,
    }
}
