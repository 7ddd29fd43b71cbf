//! Type erasure: typed [`Resource`] / [`DataSource`] implementations behind object-safe
//! traits working on [`Value`]s, so the runtime can hold them in one map.

use async_trait::async_trait;

use super::diagnostics::{Diagnostic, Diagnostics};
use super::model::{Model, ToValue};
use super::plan;
use super::resource::{
    ApplyError, ClientCapabilities, CreateRequest, Ctx, DataSource, DeleteRequest, ImportRequest,
    PlanRequest, PlanResponse, Private, ReadDataRequest, ReadRequest, Resource, UpdateRequest,
    ValidateRequest, ValidateResponse,
};
use super::schema::{IdentitySchema, Schema};
use super::validate::validate_block;
use crate::value::Value;
use crate::value::path::AttributePath;

/// What every call on a resource carries besides its values.
#[derive(Clone, Copy)]
pub struct Call<'a> {
    pub ctx: &'a Ctx,
    /// The private state Terraform handed back (runtime and resource notes).
    pub private: &'a [u8],
    /// The module's `provider_meta` for this provider (null when absent).
    pub provider_meta: &'a Value,
}

impl Call<'_> {
    /// The private bytes after a call whose resource answered `private`.
    fn private_after(&self, private: Option<Private>) -> Vec<u8> {
        match private {
            Some(p) => p.merge_into(self.private),
            None => self.private.to_vec(),
        }
    }
}

/// The values of one change, named so the three objects cannot be swapped by position.
#[derive(Clone, Copy)]
pub struct Change<'a> {
    /// The prior state: null on create.
    pub prior: &'a Value,
    /// The proposed (at plan) or planned (at apply) new state: null on delete.
    pub new: &'a Value,
    pub config: &'a Value,
}

/// Result of planning one resource instance.
pub struct PlanOutcome {
    pub planned: Value,
    pub requires_replace: Vec<AttributePath>,
    pub private: Vec<u8>,
    pub diags: Diagnostics,
}

/// Result of applying one change: the new state is always present (null after a delete),
/// including on failure, where it describes what really exists.
pub struct ApplyOutcome {
    pub new_state: Value,
    pub private: Vec<u8>,
    pub diags: Diagnostics,
}

/// A managed resource, erased.
#[async_trait]
pub trait DynResource: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    fn identity_schema(&self) -> Option<IdentitySchema>;
    fn identity(&self, state: &Value) -> Option<Value>;
    fn validate(&self, schema: &Schema, config: &Value, caps: ClientCapabilities) -> Diagnostics;
    async fn plan(&self, call: Call<'_>, schema: &Schema, change: Change<'_>) -> PlanOutcome;
    async fn apply(&self, call: Call<'_>, change: Change<'_>) -> ApplyOutcome;
    /// The state (null when the remote object is gone) and the private state.
    async fn read(&self, call: Call<'_>, state: &Value) -> Result<(Value, Vec<u8>), Diagnostics>;
    async fn import(&self, ctx: &Ctx, id: &str) -> Result<Value, Diagnostics>;
    /// A value through the model and back: what the schema-walk test checks.
    fn model_round_trip(&self, v: &Value) -> Result<Value, Diagnostics>;
}

fn attr<'v>(v: &'v Value, name: &str) -> &'v Value {
    match v {
        Value::Object(m) => m.get(name).unwrap_or(&Value::Null),
        _ => &Value::Null,
    }
}

/// Schema validation, then the model's own checks: what resources and data sources share.
fn validate_model<M: Model>(
    schema: &Schema,
    config: &Value,
    caps: ClientCapabilities,
    check: impl FnOnce(ValidateRequest<'_, M>, &mut ValidateResponse),
) -> Diagnostics {
    let mut diags = Diagnostics::new();
    validate_block(
        &schema.block,
        config,
        &AttributePath::root(),
        caps,
        &mut diags,
    );
    match M::from_root(config) {
        Ok(m) => {
            let mut resp = ValidateResponse::default();
            let req = ValidateRequest {
                config: &m,
                capabilities: caps,
            };
            check(req, &mut resp);
            diags.extend(resp.diags);
        }
        Err(e) => diags.extend(e),
    }
    diags
}

#[async_trait]
impl<R: Resource> DynResource for R {
    fn type_name(&self) -> &'static str {
        Resource::type_name(self)
    }
    fn schema(&self) -> Schema {
        Resource::schema(self)
    }
    fn identity_schema(&self) -> Option<IdentitySchema> {
        Resource::identity_schema(self)
    }
    fn identity(&self, state: &Value) -> Option<Value> {
        let m = R::Model::from_root(state).ok()?;
        Resource::identity(self, &m)
    }

    fn validate(&self, schema: &Schema, config: &Value, caps: ClientCapabilities) -> Diagnostics {
        validate_model::<R::Model>(schema, config, caps, |req, resp| {
            Resource::validate(self, req, resp)
        })
    }

    async fn plan(&self, call: Call<'_>, schema: &Schema, change: Change<'_>) -> PlanOutcome {
        let generic = plan::plan(&schema.block, change.prior, change.new, change.config);
        if generic.planned.is_null() {
            return PlanOutcome {
                planned: Value::Null,
                requires_replace: Vec::new(),
                private: call.private.to_vec(),
                diags: Diagnostics::new(),
            };
        }
        let mut resp = PlanResponse::default();
        let typed = (|| -> Result<_, Diagnostics> {
            let prior_m = if change.prior.is_null() {
                None
            } else {
                Some(R::Model::from_root(change.prior)?)
            };
            let config_m = R::Model::from_root(change.config)?;
            let planned_m = R::Model::from_root(&generic.planned)?;
            Ok((prior_m, config_m, planned_m))
        })();
        let (prior_m, config_m, mut planned_m) = match typed {
            Ok(t) => t,
            Err(diags) => {
                return PlanOutcome {
                    planned: generic.planned,
                    requires_replace: generic.requires_replace,
                    private: call.private.to_vec(),
                    diags,
                };
            }
        };
        let private = Private::from_bytes(call.private);
        let req = PlanRequest {
            ctx: call.ctx,
            prior: prior_m.as_ref(),
            config: &config_m,
            private: &private,
            provider_meta: call.provider_meta,
        };
        self.modify_plan(req, &mut planned_m, &mut resp).await;

        // Attributes the user set must be planned exactly as configured (Terraform's rule),
        // and the model cannot express partially-unknown collections: take them from config.
        let mut planned = planned_m.to_value();
        if let (Value::Object(p), Value::Object(g)) = (&mut planned, &generic.planned) {
            for a in &schema.block.attributes {
                let c = attr(change.config, &a.name);
                if a.write_only {
                    p.insert(a.name.clone(), Value::Null);
                } else if !c.is_null() || !a.computed {
                    let v = g.get(&a.name).cloned().unwrap_or(Value::Null);
                    p.insert(a.name.clone(), v);
                }
            }
            for b in &schema.block.blocks {
                p.insert(
                    b.type_name.clone(),
                    attr(&generic.planned, &b.type_name).clone(),
                );
            }
        }
        let mut requires_replace = generic.requires_replace;
        for path in resp.requires_replace {
            if !requires_replace.contains(&path) {
                requires_replace.push(path);
            }
        }
        let mut diags = call.ctx.take_warnings();
        diags.extend(resp.diags);
        PlanOutcome {
            planned,
            requires_replace,
            private: call.private_after(resp.private),
            diags,
        }
    }

    async fn apply(&self, call: Call<'_>, change: Change<'_>) -> ApplyOutcome {
        let ctx = call.ctx;
        let private = Private::from_bytes(call.private);
        let result: Result<(Value, Option<Private>), (Value, Diagnostics)> = async {
            if change.new.is_null() {
                let prior_m =
                    R::Model::from_root(change.prior).map_err(|d| (change.prior.clone(), d))?;
                let req = DeleteRequest {
                    ctx,
                    prior: prior_m,
                    private: &private,
                    provider_meta: call.provider_meta,
                };
                return match self.delete(req).await {
                    Ok(()) => Ok((Value::Null, None)),
                    Err(d) => Err((change.prior.clone(), d)),
                };
            }
            let fallback = if change.prior.is_null() {
                Value::Null
            } else {
                change.prior.clone()
            };
            let planned_m = R::Model::from_root(change.new).map_err(|d| (fallback.clone(), d))?;
            let config_m = R::Model::from_root(change.config).map_err(|d| (fallback.clone(), d))?;
            let res = if change.prior.is_null() {
                self.create(CreateRequest {
                    ctx,
                    planned: planned_m,
                    config: config_m,
                    private: &private,
                    provider_meta: call.provider_meta,
                })
                .await
            } else {
                let prior_m =
                    R::Model::from_root(change.prior).map_err(|d| (fallback.clone(), d))?;
                self.update(UpdateRequest {
                    ctx,
                    prior: prior_m,
                    planned: planned_m,
                    config: config_m,
                    private: &private,
                    provider_meta: call.provider_meta,
                })
                .await
            };
            match res {
                Ok(r) => Ok((r.state.to_value(), r.private)),
                Err(ApplyError { diags, state }) => {
                    Err((state.map(|m| m.to_value()).unwrap_or(fallback), diags))
                }
            }
        }
        .await;
        let mut diags = ctx.take_warnings();
        let (new_state, new_private) = match result {
            Ok((v, p)) => (v, p),
            Err((v, d)) => {
                diags.extend(d);
                (v, None)
            }
        };
        ApplyOutcome {
            new_state,
            private: call.private_after(new_private),
            diags,
        }
    }

    async fn read(&self, call: Call<'_>, state: &Value) -> Result<(Value, Vec<u8>), Diagnostics> {
        let m = R::Model::from_root(state)?;
        let private = Private::from_bytes(call.private);
        let resp = Resource::read(
            self,
            ReadRequest {
                ctx: call.ctx,
                state: m,
                private: &private,
                provider_meta: call.provider_meta,
            },
        )
        .await?;
        let state = resp.state.map(|m| m.to_value()).unwrap_or(Value::Null);
        Ok((state, call.private_after(resp.private)))
    }

    async fn import(&self, ctx: &Ctx, id: &str) -> Result<Value, Diagnostics> {
        Ok(Resource::import(self, ImportRequest { ctx, id })
            .await?
            .to_value())
    }

    fn model_round_trip(&self, v: &Value) -> Result<Value, Diagnostics> {
        Ok(R::Model::from_root(v)?.to_value())
    }
}

/// A data source, erased.
#[async_trait]
pub trait DynDataSource: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    fn validate(&self, schema: &Schema, config: &Value, caps: ClientCapabilities) -> Diagnostics;
    /// `call.private` is unused: data sources have no private state.
    async fn read(&self, call: Call<'_>, config: &Value) -> Result<Value, Diagnostics>;
    /// A value through the model and back: what the schema-walk test checks.
    fn model_round_trip(&self, v: &Value) -> Result<Value, Diagnostics>;
}

#[async_trait]
impl<D: DataSource> DynDataSource for D {
    fn type_name(&self) -> &'static str {
        DataSource::type_name(self)
    }
    fn schema(&self) -> Schema {
        DataSource::schema(self)
    }
    fn validate(&self, schema: &Schema, config: &Value, caps: ClientCapabilities) -> Diagnostics {
        validate_model::<D::Model>(schema, config, caps, |req, resp| {
            DataSource::validate(self, req, resp)
        })
    }
    fn model_round_trip(&self, v: &Value) -> Result<Value, Diagnostics> {
        Ok(D::Model::from_root(v)?.to_value())
    }

    async fn read(&self, call: Call<'_>, config: &Value) -> Result<Value, Diagnostics> {
        let req = ReadDataRequest {
            ctx: call.ctx,
            config: D::Model::from_root(config)?,
            provider_meta: call.provider_meta,
        };
        let out = DataSource::read(self, req).await?.to_value();
        if !out.is_wholly_known() {
            return Err(Diagnostic::error(
                "Provider returned an incomplete data source result",
                "some attributes were left unknown; please report this provider bug",
            )
            .into());
        }
        Ok(out)
    }
}
