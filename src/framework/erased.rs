//! Type erasure: typed [`Resource`] / [`DataSource`] implementations behind object-safe
//! traits working on [`Value`]s, so the runtime can hold them in one map.

use async_trait::async_trait;

use super::diagnostics::{Diagnostic, Diagnostics};
use super::model::Model;
use super::plan;
use super::resource::{
    ApplyError, ClientCapabilities, Ctx, DataSource, PlanRequest, PlanResponse, Resource,
};
use super::schema::{IdentitySchema, Schema};
use super::validate::validate_block;
use crate::value::Value;
use crate::value::path::AttributePath;

/// Result of planning one resource instance.
pub struct PlanOutcome {
    pub planned: Value,
    pub requires_replace: Vec<AttributePath>,
    pub diags: Diagnostics,
}

/// Result of applying one change: the new state is always present (null after a delete),
/// including on failure, where it describes what really exists.
pub struct ApplyOutcome {
    pub new_state: Value,
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
    async fn plan(
        &self,
        ctx: &Ctx,
        schema: &Schema,
        prior: &Value,
        proposed: &Value,
        config: &Value,
    ) -> PlanOutcome;
    async fn apply(
        &self,
        ctx: &Ctx,
        prior: &Value,
        planned: &Value,
        config: &Value,
    ) -> ApplyOutcome;
    /// Null when the remote object is gone.
    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Value, Diagnostics>;
    async fn import(&self, ctx: &Ctx, id: &str) -> Result<Value, Diagnostics>;
}

fn attr<'v>(v: &'v Value, name: &str) -> &'v Value {
    match v {
        Value::Object(m) => m.get(name).unwrap_or(&Value::Null),
        _ => &Value::Null,
    }
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
        let m = R::Model::from_value(state).ok()?;
        Resource::identity(self, &m)
    }

    fn validate(&self, schema: &Schema, config: &Value, caps: ClientCapabilities) -> Diagnostics {
        let mut diags = Diagnostics::new();
        validate_block(
            &schema.block,
            config,
            &AttributePath::root(),
            caps,
            &mut diags,
        );
        match R::Model::from_value(config) {
            Ok(m) => Resource::validate(self, &m, &mut diags),
            Err(e) => diags.extend(e),
        }
        diags
    }

    async fn plan(
        &self,
        ctx: &Ctx,
        schema: &Schema,
        prior: &Value,
        proposed: &Value,
        config: &Value,
    ) -> PlanOutcome {
        let generic = plan::plan(&schema.block, prior, proposed, config);
        if generic.planned.is_null() {
            return PlanOutcome {
                planned: Value::Null,
                requires_replace: Vec::new(),
                diags: Diagnostics::new(),
            };
        }
        let mut resp = PlanResponse::default();
        let typed = (|| -> Result<_, Diagnostics> {
            let prior_m = if prior.is_null() {
                None
            } else {
                Some(R::Model::from_value(prior)?)
            };
            let config_m = R::Model::from_value(config)?;
            let planned_m = R::Model::from_value(&generic.planned)?;
            Ok((prior_m, config_m, planned_m))
        })();
        let (prior_m, config_m, mut planned_m) = match typed {
            Ok(t) => t,
            Err(diags) => {
                return PlanOutcome {
                    planned: generic.planned,
                    requires_replace: generic.requires_replace,
                    diags,
                };
            }
        };
        let req = PlanRequest {
            ctx,
            prior: prior_m.as_ref(),
            config: &config_m,
        };
        self.modify_plan(req, &mut planned_m, &mut resp).await;

        // Attributes the user set must be planned exactly as configured (Terraform's rule),
        // and the model cannot express partially-unknown collections: take them from config.
        let mut planned = planned_m.to_value();
        if let (Value::Object(p), Value::Object(g)) = (&mut planned, &generic.planned) {
            for a in &schema.block.attributes {
                let c = attr(config, &a.name);
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
        let mut diags = ctx.take_warnings();
        diags.extend(resp.diags);
        PlanOutcome {
            planned,
            requires_replace,
            diags,
        }
    }

    async fn apply(
        &self,
        ctx: &Ctx,
        prior: &Value,
        planned: &Value,
        config: &Value,
    ) -> ApplyOutcome {
        let result: Result<Value, (Value, Diagnostics)> = async {
            if planned.is_null() {
                let prior_m = R::Model::from_value(prior).map_err(|d| (prior.clone(), d))?;
                return match self.delete(ctx, prior_m).await {
                    Ok(()) => Ok(Value::Null),
                    Err(d) => Err((prior.clone(), d)),
                };
            }
            let fallback = if prior.is_null() {
                Value::Null
            } else {
                prior.clone()
            };
            let planned_m = R::Model::from_value(planned).map_err(|d| (fallback.clone(), d))?;
            let config_m = R::Model::from_value(config).map_err(|d| (fallback.clone(), d))?;
            let res = if prior.is_null() {
                self.create(ctx, planned_m, config_m).await
            } else {
                let prior_m = R::Model::from_value(prior).map_err(|d| (fallback.clone(), d))?;
                self.update(ctx, prior_m, planned_m, config_m).await
            };
            match res {
                Ok(m) => Ok(m.to_value()),
                Err(ApplyError { diags, state }) => {
                    Err((state.map(|m| m.to_value()).unwrap_or(fallback), diags))
                }
            }
        }
        .await;
        let mut diags = ctx.take_warnings();
        let new_state = match result {
            Ok(v) => v,
            Err((v, d)) => {
                diags.extend(d);
                v
            }
        };
        ApplyOutcome { new_state, diags }
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Value, Diagnostics> {
        let m = R::Model::from_value(state)?;
        Ok(Resource::read(self, ctx, m)
            .await?
            .map(|m| m.to_value())
            .unwrap_or(Value::Null))
    }

    async fn import(&self, ctx: &Ctx, id: &str) -> Result<Value, Diagnostics> {
        Ok(Resource::import(self, ctx, id).await?.to_value())
    }
}

/// A data source, erased.
#[async_trait]
pub trait DynDataSource: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    fn validate(&self, schema: &Schema, config: &Value, caps: ClientCapabilities) -> Diagnostics;
    async fn read(&self, ctx: &Ctx, config: &Value) -> Result<Value, Diagnostics>;
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
        let mut diags = Diagnostics::new();
        validate_block(
            &schema.block,
            config,
            &AttributePath::root(),
            caps,
            &mut diags,
        );
        match D::Model::from_value(config) {
            Ok(m) => DataSource::validate(self, &m, &mut diags),
            Err(e) => diags.extend(e),
        }
        diags
    }
    async fn read(&self, ctx: &Ctx, config: &Value) -> Result<Value, Diagnostics> {
        let m = D::Model::from_value(config)?;
        let out = DataSource::read(self, ctx, m).await?.to_value();
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
