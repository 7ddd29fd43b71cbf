//! List resources in the framework runtime, driven the way Terraform drives them (msgpack
//! values, a stream read until `limit`): identity and state per result, `include_resource`,
//! errors after partial results, and diagnostics pointing into the `config` block.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use amlauth::framework::list::{ListEvent, ListRequest, ListResource, ListSink, config_attr};
use amlauth::framework::runtime::{RawValue, Runtime};
use amlauth::framework::validators::OneOf;
use amlauth::framework::{
    ApplyError, ApplyResponse, Attribute, Block, ClientCapabilities, CreateRequest, Ctx,
    DeleteRequest, Diagnostic, Diagnostics, Field, FromValue, IdentityAttribute, IdentitySchema,
    Model, ObjectBuilder, ObjectReader, ReadRequest, ReadResponse, Resource, Schema, ToValue,
    UpdateRequest,
};
use amlauth::value::path::AttributePath;
use amlauth::value::{Type, Value, msgpack};

#[path = "common/toy_provider.rs"]
mod toy_provider;
use toy_provider::ToyProvider;

#[derive(Debug, Clone, PartialEq, Default, Model)]
struct ItemModel {
    id: Field<String>,
    size: Field<String>,
}

struct Item;

#[async_trait]
impl Resource for Item {
    type Model = ItemModel;
    fn type_name(&self) -> &'static str {
        "test_item"
    }
    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new()
                .attribute(Attribute::string("id").required())
                .attribute(Attribute::string("size").optional()),
        )
    }
    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(IdentitySchema {
            version: 0,
            attributes: vec![IdentityAttribute {
                name: "id".into(),
                ty: Type::String,
                description: String::new(),
                required_for_import: true,
                optional_for_import: false,
            }],
        })
    }
    fn identity(&self, state: &ItemModel) -> Option<Value> {
        state
            .id
            .known()
            .map(|id| Value::Object(BTreeMap::from([("id".into(), Value::String(id.clone()))])))
    }
    async fn create(
        &self,
        req: CreateRequest<'_, ItemModel>,
    ) -> Result<ApplyResponse<ItemModel>, ApplyError<ItemModel>> {
        Ok(req.planned.into())
    }
    async fn read(
        &self,
        req: ReadRequest<'_, ItemModel>,
    ) -> Result<ReadResponse<ItemModel>, Diagnostics> {
        Ok(Some(req.state).into())
    }
    async fn update(
        &self,
        req: UpdateRequest<'_, ItemModel>,
    ) -> Result<ApplyResponse<ItemModel>, ApplyError<ItemModel>> {
        Ok(req.planned.into())
    }
    async fn delete(&self, _req: DeleteRequest<'_, ItemModel>) -> Result<(), Diagnostics> {
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct ListConfig {
    size: Field<String>,
    count: usize,
    fail_after: Option<usize>,
}

impl Model for ListConfig {}

impl FromValue for ListConfig {
    fn from_value(v: &Value, path: &AttributePath) -> Result<Self, Diagnostics> {
        let o = ObjectReader::new(v, path.clone())?;
        let num = |name: &str| -> Result<Option<usize>, Diagnostics> {
            Ok(o.field::<i64>(name)?
                .known()
                .and_then(|n| usize::try_from(*n).ok()))
        };
        Ok(Self {
            size: o.field("size")?,
            count: num("count")?.unwrap_or(0),
            fail_after: num("fail_after")?,
        })
    }
}

impl ToValue for ListConfig {
    fn to_value(&self) -> Value {
        ObjectBuilder::new().field("size", &self.size).build()
    }
}

/// Lists `count` items of `size`, failing after `fail_after` if set.
struct ItemList;

#[async_trait]
impl ListResource for ItemList {
    type Config = ListConfig;
    fn type_name(&self) -> &'static str {
        "test_item"
    }
    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new()
                .attribute(
                    Attribute::string("size")
                        .required()
                        .validate(OneOf::new(&["small", "large"])),
                )
                .attribute(Attribute::number("count").optional())
                .attribute(Attribute::number("fail_after").optional()),
        )
    }
    fn validate(&self, c: &ListConfig, diags: &mut Diagnostics) {
        if c.count > 1000 {
            diags.attribute_error(config_attr("count"), "Too many", "at most 1000");
        }
    }
    async fn list(
        &self,
        _ctx: &Ctx,
        req: ListRequest<ListConfig>,
        out: &mut ListSink,
    ) -> Result<(), Diagnostics> {
        let size = req.config.size.known().cloned().unwrap_or_default();
        for i in 0..req.config.count {
            if req.config.fail_after == Some(i) {
                return Err(Diagnostic::error("Backend failed", format!("after {i}"))
                    .at(config_attr("size"))
                    .into());
            }
            let state = ItemModel {
                id: Field::Known(format!("item-{i}")),
                size: Field::Known(size.clone()),
            };
            if !out.push(format!("Item {i}"), state.to_value()).await {
                break;
            }
        }
        Ok(())
    }
}

/// The provider with `Item` and its lister.
fn provider() -> Arc<ToyProvider> {
    Arc::new(ToyProvider {
        resources: vec![Arc::new(Item)],
        list_resources: vec![Arc::new(ItemList)],
        ..ToyProvider::new()
    })
}

fn config_type() -> Type {
    ListResource::schema(&ItemList).implied_type()
}

fn config(size: &str, count: i64, fail_after: Option<i64>) -> RawValue {
    let v = Value::Object(BTreeMap::from([
        ("size".into(), Value::String(size.into())),
        ("count".into(), Value::number(count)),
        (
            "fail_after".into(),
            fail_after.map(Value::number).unwrap_or(Value::Null),
        ),
    ]));
    RawValue {
        msgpack: msgpack::encode(&v, &config_type()).expect("encode"),
        json: Vec::new(),
    }
}

async fn run(rt: &Runtime, cfg: &RawValue, include: bool, limit: i64) -> Vec<ListEvent> {
    let ctx = Ctx::new(None, Default::default(), ClientCapabilities::default());
    let mut rx = rt.lists().list(ctx, "test_item", Some(cfg), include, limit);
    let mut events = Vec::new();
    while let Some(e) = rx.recv().await {
        events.push(e);
    }
    events
}

fn decode(bytes: &[u8], ty: &Type) -> Value {
    msgpack::decode(bytes, ty).expect("decode")
}

fn paths(d: &Diagnostics) -> Vec<String> {
    d.iter()
        .map(|d| {
            d.attribute
                .as_ref()
                .map(|p| p.to_string())
                .unwrap_or_default()
        })
        .collect()
}

#[tokio::test]
async fn results_carry_identity_and_state_on_request() {
    let rt = Runtime::new(provider());
    let schemas = rt.lists().schemas();
    assert_eq!(schemas.keys().collect::<Vec<_>>(), ["test_item"]);

    let events = run(&rt, &config("small", 3, None), true, 100).await;
    assert_eq!(events.len(), 3);
    let identity_ty = Resource::identity_schema(&Item).unwrap().implied_type();
    let state_ty = Resource::schema(&Item).implied_type();
    for (i, e) in events.iter().enumerate() {
        assert!(e.diags.is_empty(), "{}", e.diags);
        assert_eq!(e.display_name, format!("Item {i}"));
        let identity = decode(e.identity.as_deref().unwrap(), &identity_ty);
        assert_eq!(
            identity.get_attr("id"),
            Some(&Value::String(format!("item-{i}")))
        );
        let state = decode(e.resource_object.as_deref().unwrap(), &state_ty);
        assert_eq!(state.get_attr("size"), Some(&Value::String("small".into())));
    }

    let events = run(&rt, &config("small", 3, None), false, 100).await;
    assert!(
        events
            .iter()
            .all(|e| e.resource_object.is_none() && e.identity.is_some())
    );
}

#[tokio::test]
async fn limit_stops_the_lister() {
    let rt = Runtime::new(provider());
    assert_eq!(
        run(&rt, &config("large", 50, None), false, 7).await.len(),
        7
    );
    assert_eq!(
        run(&rt, &config("large", 5, None), false, 0).await.len(),
        5,
        "0: no limit"
    );
}

#[tokio::test]
async fn an_error_ends_the_stream_after_the_results_so_far() {
    let rt = Runtime::new(provider());
    let events = run(&rt, &config("large", 10, Some(4)), false, 100).await;
    assert_eq!(events.len(), 5);
    let last = events.last().unwrap();
    assert!(last.identity.is_none() && last.diags.has_errors());
    assert_eq!(paths(&last.diags), ["config.size"]);
}

#[tokio::test]
async fn validation_points_into_the_config_block() {
    let rt = Runtime::new(provider());
    let d = rt
        .lists()
        .validate("test_item", Some(&config("medium", 2000, None)));
    let mut p = paths(&d);
    p.sort();
    assert_eq!(p, ["config.count", "config.size"], "{d}");
    // ListResource validates too, and lists nothing when the configuration is invalid.
    let events = run(&rt, &config("medium", 1, None), false, 100).await;
    assert_eq!(events.len(), 1);
    assert_eq!(paths(&events[0].diags), ["config.size"]);

    let d = rt.lists().validate("nope", Some(&config("small", 1, None)));
    assert!(d.has_errors());
    let ctx = Ctx::new(None, Default::default(), ClientCapabilities::default());
    let mut rx = rt.lists().list(ctx, "nope", None, false, 10);
    let e = rx.recv().await.expect("one event");
    assert!(e.diags.has_errors() && rx.recv().await.is_none());
}
