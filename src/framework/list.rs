//! List resources (`terraform query`, Terraform 1.14 and later): the trait a provider
//! implements to enumerate the existing objects of one of its managed resource types, and
//! the runtime part that turns what it finds into the protocol's stream of events.
//!
//! A list resource shares its type name with the managed resource it lists. Every result
//! carries that resource's identity (the same one import-by-identity takes) and, when
//! Terraform asks for it (`include_resource`, or `-generate-config-out`), the resource's full
//! state; both are derived from the state the implementation hands to [`ListSink::push`], so
//! a list can never disagree with what an import followed by a read produces.
//!
//! Diagnostics about the list's configuration point into its `config` block
//! ([`config_attr`]): Terraform resolves them against the whole `list` block body.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::diagnostics::{Diagnostic, Diagnostics};
use super::erased::DynResource;
use super::model::Model;
use super::resource::{ClientCapabilities, Ctx, Provider};
use super::runtime::{RawValue, decode, encode, fill_missing, lookup};
use super::schema::Schema;
use super::validate::validate_block;
use crate::value::path::AttributePath;
use crate::value::{Type, Value};

/// How many events may wait for Terraform before the lister pauses (back-pressure).
const EVENT_BUFFER: usize = 16;

/// The path of attribute `name` of a list's `config` block, for diagnostics.
pub fn config_attr(name: &str) -> AttributePath {
    AttributePath::root().attr("config").attr(name)
}

/// What Terraform asked for.
pub struct ListRequest<C> {
    /// The `config` block.
    pub config: C,
    /// Whether each result should carry the full resource state.
    pub include_resource: bool,
    /// Terraform reads at most this many results (≤ 0: no limit).
    pub limit: i64,
}

/// A list resource for one managed resource type.
#[async_trait]
pub trait ListResource: Send + Sync + 'static {
    /// The `config` block's model.
    type Config: Model;

    /// The managed resource type listed, e.g. `amlauth_compute_identity`.
    fn type_name(&self) -> &'static str;
    /// Schema of the `config` block.
    fn schema(&self) -> Schema;
    /// Cross-attribute checks on the `config` block (values may be unknown during
    /// `terraform validate`). Report with [`config_attr`] paths.
    fn validate(&self, _config: &Self::Config, _diags: &mut Diagnostics) {}
    /// Finds the objects and pushes each one's resource state to `out`, stopping as soon as
    /// [`ListSink::push`] returns `false`. An error ends the list after what was pushed.
    async fn list(
        &self,
        ctx: &Ctx,
        req: ListRequest<Self::Config>,
        out: &mut ListSink,
    ) -> Result<(), Diagnostics>;
}

/// One event of the stream, encoded for the wire.
#[derive(Debug, Default)]
pub struct ListEvent {
    /// msgpack of the resource identity.
    pub identity: Option<Vec<u8>>,
    pub display_name: String,
    /// msgpack of the resource state, when requested.
    pub resource_object: Option<Vec<u8>>,
    pub diags: Diagnostics,
}

/// Where a list implementation sends what it finds: each state becomes an event with the
/// resource's identity (and the state itself when requested).
pub struct ListSink {
    tx: mpsc::Sender<ListEvent>,
    resource: Arc<dyn DynResource>,
    resource_ty: Type,
    identity_ty: Type,
    include_resource: bool,
    limit: i64,
    sent: i64,
}

impl ListSink {
    /// Sends one found object (`state` is the managed resource's state, as its read would
    /// produce it). Returns `false` when Terraform wants no more: stop listing.
    pub async fn push(&mut self, display_name: impl Into<String>, state: Value) -> bool {
        if !self.wants_more() {
            return false;
        }
        let event = self.event(display_name.into(), state);
        if self.tx.send(event).await.is_err() {
            // Terraform closed the stream (it had enough results, or was interrupted).
            return false;
        }
        self.sent += 1;
        self.wants_more()
    }

    /// Whether another result would still be read (the limit is not reached and Terraform
    /// still listens).
    pub fn wants_more(&self) -> bool {
        (self.limit <= 0 || self.sent < self.limit) && !self.tx.is_closed()
    }

    /// Results sent so far.
    pub fn sent(&self) -> i64 {
        self.sent
    }

    fn event(&self, display_name: String, state: Value) -> ListEvent {
        let state = fill_missing(state, &self.resource_ty);
        let mut diags = Diagnostics::new();
        let identity = match self.resource.identity(&state) {
            Some(i) if i.is_wholly_known() => encode(&i, &self.identity_ty)
                .map_err(|d| diags.extend(d))
                .ok(),
            _ => {
                diags.push(Diagnostic::error(
                    "Listed object without identity",
                    format!(
                        "the provider found \"{display_name}\" but could not derive its {} identity; please report this provider bug",
                        self.resource.type_name()
                    ),
                ));
                None
            }
        };
        let resource_object = if self.include_resource {
            encode(&state, &self.resource_ty)
                .map_err(|d| diags.extend(d))
                .ok()
        } else {
            None
        };
        ListEvent {
            identity,
            display_name,
            resource_object,
            diags,
        }
    }
}

/// A list resource, erased.
#[async_trait]
pub trait DynListResource: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    fn validate(&self, schema: &Schema, config: &Value) -> Diagnostics;
    /// `req.config` is the decoded `config` block, not yet through the model.
    async fn list(
        &self,
        ctx: &Ctx,
        req: ListRequest<&Value>,
        out: &mut ListSink,
    ) -> Result<(), Diagnostics>;
}

#[async_trait]
impl<L: ListResource> DynListResource for L {
    fn type_name(&self) -> &'static str {
        ListResource::type_name(self)
    }
    fn schema(&self) -> Schema {
        ListResource::schema(self)
    }
    fn validate(&self, schema: &Schema, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        validate_block(
            &schema.block,
            config,
            &AttributePath::root().attr("config"),
            ClientCapabilities::default(),
            &mut diags,
        );
        match L::Config::from_root(config) {
            Ok(c) => ListResource::validate(self, &c, &mut diags),
            Err(e) => diags.extend(in_config_block(e)),
        }
        diags
    }
    async fn list(
        &self,
        ctx: &Ctx,
        req: ListRequest<&Value>,
        out: &mut ListSink,
    ) -> Result<(), Diagnostics> {
        let req = ListRequest {
            config: L::Config::from_root(req.config).map_err(in_config_block)?,
            include_resource: req.include_resource,
            limit: req.limit,
        };
        ListResource::list(self, ctx, req, out).await
    }
}

/// Model errors carry paths relative to the `config` block; Terraform wants them from the
/// `list` block.
fn in_config_block(diags: Diagnostics) -> Diagnostics {
    let mut out = Diagnostics::new();
    for mut d in diags {
        d.attribute = d.attribute.map(|p| {
            let mut full = AttributePath::root().attr("config");
            for s in p.steps() {
                full.push(s.clone());
            }
            full
        });
        out.push(d);
    }
    out
}

struct ListEntry {
    imp: Arc<dyn DynListResource>,
    schema: Schema,
    ty: Type,
    resource: Arc<dyn DynResource>,
    resource_ty: Type,
    identity_ty: Type,
}

/// Every list resource of the provider, ready to serve `ValidateListResourceConfig` and
/// `ListResource`.
#[derive(Default)]
pub struct Lists {
    entries: BTreeMap<String, Arc<ListEntry>>,
}

impl Lists {
    /// Pairs each list resource with its managed resource. Terraform refuses a list whose
    /// resource has no identity, so such a pairing is a provider bug, caught by a test.
    pub fn new(provider: &dyn Provider) -> Self {
        let resources: BTreeMap<&'static str, Arc<dyn DynResource>> = provider
            .resources()
            .into_iter()
            .map(|r| (r.type_name(), r))
            .collect();
        let mut entries = BTreeMap::new();
        for imp in provider.list_resources() {
            let name = imp.type_name();
            let Some(resource) = resources.get(name).cloned() else {
                tracing::error!(list = name, "list resource without a managed resource");
                continue;
            };
            let Some(identity) = resource.identity_schema() else {
                tracing::error!(list = name, "list resource whose resource has no identity");
                continue;
            };
            let schema = imp.schema();
            entries.insert(
                name.to_string(),
                Arc::new(ListEntry {
                    ty: schema.implied_type(),
                    schema,
                    resource_ty: resource.schema().implied_type(),
                    identity_ty: identity.implied_type(),
                    resource,
                    imp,
                }),
            );
        }
        Self { entries }
    }

    /// The `config` block schema of each list resource, by type name.
    pub fn schemas(&self) -> BTreeMap<String, Schema> {
        self.entries
            .iter()
            .map(|(k, e)| (k.clone(), e.schema.clone()))
            .collect()
    }

    fn entry(&self, type_name: &str) -> Result<&Arc<ListEntry>, Diagnostics> {
        lookup(
            &self.entries,
            type_name,
            "Unknown list resource type",
            "list resource",
        )
    }

    /// ValidateListResourceConfig.
    pub fn validate(&self, type_name: &str, config: Option<&RawValue>) -> Diagnostics {
        let run = || -> Result<Diagnostics, Diagnostics> {
            let e = self.entry(type_name)?;
            let v = decode(config, &e.ty, &e.schema.block)?;
            Ok(e.imp.validate(&e.schema, &v))
        };
        run().unwrap_or_else(|d| d)
    }

    /// ListResource: the events, produced by a task that stops when the receiver is dropped
    /// (Terraform closed the stream) or `limit` results were sent.
    pub fn list(
        &self,
        ctx: Ctx,
        type_name: &str,
        config: Option<&RawValue>,
        include_resource: bool,
        limit: i64,
    ) -> mpsc::Receiver<ListEvent> {
        let (tx, rx) = mpsc::channel(EVENT_BUFFER);
        let prepared = self.entry(type_name).and_then(|e| {
            let v = decode(config, &e.ty, &e.schema.block)?;
            let warnings = e.imp.validate(&e.schema, &v).check()?;
            Ok((e.clone(), v, warnings))
        });
        let (entry, config, mut diags) = match prepared {
            Ok(p) => p,
            Err(diags) => {
                // The buffer is empty, so this cannot fail for lack of room.
                let _ = tx.try_send(ListEvent {
                    diags,
                    ..Default::default()
                });
                return rx;
            }
        };
        tokio::spawn(async move {
            let mut sink = ListSink {
                tx: tx.clone(),
                resource: entry.resource.clone(),
                resource_ty: entry.resource_ty.clone(),
                identity_ty: entry.identity_ty.clone(),
                include_resource,
                limit,
                sent: 0,
            };
            let req = ListRequest {
                config: &config,
                include_resource,
                limit,
            };
            let outcome = entry.imp.list(&ctx, req, &mut sink).await;
            diags.extend(ctx.take_warnings());
            if let Err(d) = outcome {
                diags.extend(d);
            }
            if !diags.is_empty() {
                let _ = tx
                    .send(ListEvent {
                        diags,
                        ..Default::default()
                    })
                    .await;
            }
            tracing::debug!(
                list = entry.imp.type_name(),
                sent = sink.sent(),
                "list done"
            );
        });
        rx
    }
}
