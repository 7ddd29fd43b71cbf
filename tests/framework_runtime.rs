//! The framework runtime driven the way Terraform drives it (values in msgpack), with a small
//! in-memory resource, so plan / apply / read / import rules are checked without gRPC.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use amlauth::framework::DeleteRequest;
use amlauth::framework::runtime::{
    ApplyOutcome, ApplyResourceChange, PlanOutcome, PlanResourceChange, RawValue, ReadOutcome,
    ReadResource, Runtime,
};
use amlauth::framework::validators::OneOf;
use amlauth::framework::{
    ApplyError, ApplyResponse, Attribute, Block, ClientCapabilities, CreateRequest, Diagnostic,
    Diagnostics, Field, ImportRequest, Model, PlanRequest, PlanResponse, ReadRequest, ReadResponse,
    Resource, Schema, Severity, UpdateRequest, ValidateRequest, ValidateResponse,
};
use amlauth::value::path::AttributePath;
use amlauth::value::{Type, Value, msgpack};

#[path = "common/toy_provider.rs"]
mod toy_provider;
use toy_provider::ToyProvider;

/// A remote "thing" store the test resource talks to.
#[derive(Default)]
struct Remote {
    things: Mutex<BTreeMap<String, (String, BTreeSet<String>)>>,
}

impl Remote {
    /// Stores the thing `id` with its mode and tags.
    fn put(&self, id: &str, mode: &str, tags: &[&str]) {
        let tags = tags.iter().map(|t| t.to_string()).collect();
        self.things
            .lock()
            .unwrap()
            .insert(id.to_string(), (mode.to_string(), tags));
    }
}

#[derive(Debug, Clone, PartialEq, Default, Model)]
struct ThingModel {
    id: Field<String>,
    name: Field<String>,
    mode: Field<String>,
    tags: Field<BTreeSet<String>>,
    secret: Field<String>,
    secret_wo: Field<String>,
    serial: Field<String>,
}

struct Thing {
    remote: Arc<Remote>,
}

impl Thing {
    /// Writes the planned mode (Fast by default) and tags under `id`; returns the mode.
    fn store(&self, id: &str, planned: &ThingModel) -> String {
        let mode = planned
            .mode
            .known()
            .cloned()
            .unwrap_or_else(|| "Fast".into());
        let tags = planned.tags.known().cloned().unwrap_or_default();
        self.remote
            .things
            .lock()
            .unwrap()
            .insert(id.to_string(), (mode.clone(), tags));
        mode
    }
}

#[async_trait]
impl Resource for Thing {
    type Model = ThingModel;

    fn type_name(&self) -> &'static str {
        "test_thing"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new()
                .attribute(Attribute::string("id").computed().use_state_for_unknown())
                .attribute(Attribute::string("name").required().requires_replace())
                .attribute(
                    Attribute::string("mode")
                        .optional()
                        .computed()
                        .validate(OneOf::new(&["Fast", "Slow"])),
                )
                .attribute(Attribute::string_set("tags").optional())
                .attribute(Attribute::string("secret").optional().sensitive())
                .attribute(
                    Attribute::string("secret_wo")
                        .optional()
                        .sensitive()
                        .write_only(),
                )
                .attribute(Attribute::string("serial").computed()),
        )
    }

    fn validate(&self, req: ValidateRequest<'_, ThingModel>, resp: &mut ValidateResponse) {
        let config = req.config;
        if config.mode.known().is_some_and(|m| m == "Slow") && config.tags.is_null() {
            resp.diags.push(
                Diagnostic::error("Missing tags", "mode Slow needs tags")
                    .at(AttributePath::root().attr("tags")),
            );
        }
    }

    async fn modify_plan(
        &self,
        req: PlanRequest<'_, ThingModel>,
        planned: &mut ThingModel,
        resp: &mut PlanResponse,
    ) {
        if req.config.mode.is_null() && req.prior.is_none() {
            planned.mode = Field::Known("Fast".into());
        }
        if req.config.name.known().is_some_and(|n| n == "warn") {
            resp.diags.warning("Heads up", "name is warn");
        }
    }

    async fn create(
        &self,
        req: CreateRequest<'_, ThingModel>,
    ) -> Result<ApplyResponse<ThingModel>, ApplyError<ThingModel>> {
        let (planned, config) = (req.planned, req.config);
        let name = planned.name.known().cloned().unwrap_or_default();
        if name == "fail" {
            let mut partial = planned.clone();
            partial.id = Field::Known("partial".into());
            partial.serial = Field::Known("0".into());
            return Err(ApplyError {
                diags: Diagnostic::error("Remote refused", "name fail").into(),
                state: Some(partial),
            });
        }
        // The write-only value arrives through config only.
        assert_eq!(planned.secret_wo, Field::Null);
        let id = format!("/things/{name}");
        let mode = self.store(&id, &planned);
        Ok(ThingModel {
            id: Field::Known(id),
            mode: Field::Known(mode),
            serial: Field::Known(format!("wo={}", config.secret_wo.known().is_some())),
            ..planned
        }
        .into())
    }

    async fn read(
        &self,
        req: ReadRequest<'_, ThingModel>,
    ) -> Result<ReadResponse<ThingModel>, Diagnostics> {
        let state = req.state;
        let id = state.id.known().cloned().unwrap_or_default();
        // Private notes of its own: how many reads, and whether provider_meta came along.
        let mut private = req.private.clone();
        let reads = private
            .get("reads")
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(0);
        private.set("reads", Some(&(reads + 1).to_string()));
        private.set(
            "meta",
            Some(&amlauth::framework::lifecycle::show(req.provider_meta)),
        );
        let things = self.remote.things.lock().unwrap();
        let state = things.get(&id).map(|(mode, tags)| ThingModel {
            mode: Field::Known(mode.clone()),
            tags: if tags.is_empty() && state.tags.is_null() {
                Field::Null
            } else {
                Field::Known(tags.clone())
            },
            name: Field::Known(id.trim_start_matches("/things/").to_string()),
            serial: if state.serial.is_null() {
                Field::Known("imported".into())
            } else {
                state.serial.clone()
            },
            ..state
        });
        Ok(ReadResponse {
            state,
            private: Some(private),
        })
    }

    async fn update(
        &self,
        req: UpdateRequest<'_, ThingModel>,
    ) -> Result<ApplyResponse<ThingModel>, ApplyError<ThingModel>> {
        let planned = req.planned;
        let id = planned.id.known().cloned().unwrap_or_default();
        let mode = self.store(&id, &planned);
        Ok(ThingModel {
            mode: Field::Known(mode),
            serial: Field::Known("updated".into()),
            ..planned
        }
        .into())
    }

    async fn delete(&self, req: DeleteRequest<'_, ThingModel>) -> Result<(), Diagnostics> {
        let id = req.prior.id.known().cloned().unwrap_or_default();
        self.remote.things.lock().unwrap().remove(&id);
        Ok(())
    }

    async fn import(&self, req: ImportRequest<'_>) -> Result<ThingModel, Diagnostics> {
        if !req.id.starts_with("/things/") {
            return Err(Diagnostic::error("Bad id", "expected /things/NAME").into());
        }
        Ok(ThingModel {
            id: Field::Known(req.id.into()),
            ..Default::default()
        })
    }
}

fn setup() -> (Runtime, Arc<Remote>, Type) {
    let remote = Arc::new(Remote::default());
    let rt = Runtime::new(Arc::new(ToyProvider {
        schema: Schema::new(
            0,
            Block::new().attribute(Attribute::string("region").optional()),
        ),
        resources: vec![Arc::new(Thing {
            remote: remote.clone(),
        })],
        ..ToyProvider::new()
    }));
    let ty = rt.schemas().resources["test_thing"].implied_type();
    (rt, remote, ty)
}

fn raw(v: &Value, ty: &Type) -> RawValue {
    RawValue {
        msgpack: msgpack::encode(v, ty).unwrap(),
        json: Vec::new(),
    }
}

fn s(x: &str) -> Value {
    Value::String(x.into())
}

fn config(name: &str, mode: Option<&str>, tags: Option<&[&str]>, secret_wo: Option<&str>) -> Value {
    Value::object([
        ("id", Value::Null),
        ("name", s(name)),
        ("mode", mode.map(s).unwrap_or(Value::Null)),
        (
            "tags",
            tags.map(|t| Value::Set(t.iter().map(|x| s(x)).collect()))
                .unwrap_or(Value::Null),
        ),
        ("secret", Value::Null),
        ("secret_wo", secret_wo.map(s).unwrap_or(Value::Null)),
        ("serial", Value::Null),
    ])
}

/// PlanResourceChange of `config` over `prior` (none: a create), with Terraform's proposed state.
async fn plan_of(rt: &Runtime, ty: &Type, prior: Option<&Value>, config: &Value) -> PlanOutcome {
    let proposed = prior.map_or_else(|| config.clone(), |p| proposed(p, config));
    let prior = prior.map(|p| raw(p, ty));
    rt.plan_resource_change(PlanResourceChange {
        type_name: "test_thing",
        prior: prior.as_ref(),
        proposed: Some(&raw(&proposed, ty)),
        config: Some(&raw(config, ty)),
        caps: WO,
        ..Default::default()
    })
    .await
}

/// ApplyResourceChange to `planned` from `prior` (none: a create).
async fn apply_of(
    rt: &Runtime,
    ty: &Type,
    prior: Option<&Value>,
    planned: &Value,
    config: &Value,
) -> ApplyOutcome {
    let prior = prior.map(|p| raw(p, ty));
    rt.apply_resource_change(ApplyResourceChange {
        type_name: "test_thing",
        prior: prior.as_ref(),
        planned: Some(&raw(planned, ty)),
        config: Some(&raw(config, ty)),
        ..Default::default()
    })
    .await
}

/// ReadResource of `current`, without private state or provider_meta.
async fn read_of(rt: &Runtime, ty: &Type, current: &Value) -> ReadOutcome {
    rt.read_resource(ReadResource {
        type_name: "test_thing",
        current: Some(&raw(current, ty)),
        caps: WO,
        ..Default::default()
    })
    .await
}

fn decode(bytes: &[u8], ty: &Type) -> Value {
    msgpack::decode(bytes, ty).unwrap()
}

/// A stored thing without tags or secrets.
fn thing_state(id: &str, name: &str, mode: &str, serial: &str) -> Value {
    Value::object([
        ("id", s(id)),
        ("name", s(name)),
        ("mode", s(mode)),
        ("tags", Value::Null),
        ("secret", Value::Null),
        ("secret_wo", Value::Null),
        ("serial", s(serial)),
    ])
}

/// Terraform's proposed new state: config where set, prior elsewhere.
fn proposed(prior: &Value, config: &Value) -> Value {
    let (Value::Object(p), Value::Object(c)) = (prior, config) else {
        return config.clone();
    };
    Value::Object(
        c.iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    if v.is_null() {
                        p.get(k).cloned().unwrap_or(Value::Null)
                    } else {
                        v.clone()
                    },
                )
            })
            .collect(),
    )
}

fn errors(d: &Diagnostics) -> Vec<String> {
    d.iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.to_string())
        .collect()
}

const WO: ClientCapabilities = ClientCapabilities {
    deferral_allowed: false,
    write_only_attributes_allowed: true,
};

#[tokio::test]
async fn create_plan_apply_read_cycle() {
    let (rt, remote, ty) = setup();
    let cfg = config("a", None, Some(&["x", "y"]), Some("s3cr3t"));

    let diags = rt.validate_resource_config("test_thing", Some(&raw(&cfg, &ty)), WO);
    assert!(errors(&diags).is_empty(), "{diags}");

    let plan = plan_of(&rt, &ty, None, &cfg).await;
    assert!(errors(&plan.diags).is_empty(), "{}", plan.diags);
    let planned = decode(&plan.planned_state.unwrap(), &ty);
    assert_eq!(
        planned.get_attr("mode"),
        Some(&s("Fast")),
        "modify_plan sets a default"
    );
    assert!(
        !planned.get_attr("id").unwrap().is_known(),
        "id is known after apply"
    );
    assert!(!planned.get_attr("serial").unwrap().is_known());
    assert_eq!(
        planned.get_attr("secret_wo"),
        Some(&Value::Null),
        "write-only planned null"
    );

    let applied = apply_of(&rt, &ty, None, &planned, &cfg).await;
    assert!(errors(&applied.diags).is_empty(), "{}", applied.diags);
    let state = decode(&applied.new_state.unwrap(), &ty);
    assert_eq!(state.get_attr("id"), Some(&s("/things/a")));
    assert_eq!(
        state.get_attr("serial"),
        Some(&s("wo=true")),
        "create saw the write-only value"
    );
    assert_eq!(state.get_attr("secret_wo"), Some(&Value::Null));
    assert!(remote.things.lock().unwrap().contains_key("/things/a"));

    // A refresh then a plan with the same config changes nothing.
    let read = read_of(&rt, &ty, &state).await;
    let refreshed = decode(&read.new_state.unwrap(), &ty);
    assert_eq!(refreshed, state);
    let replan = plan_of(&rt, &ty, Some(&refreshed), &cfg).await;
    let replanned = decode(&replan.planned_state.unwrap(), &ty);
    let mut expected = refreshed.clone();
    if let Value::Object(m) = &mut expected {
        m.insert("secret_wo".into(), Value::Null);
    }
    assert_eq!(replanned, expected, "no-change plan");
    assert!(replan.requires_replace.is_empty());
}

#[tokio::test]
async fn changing_name_requires_replace_and_other_changes_do_not() {
    let (rt, _remote, ty) = setup();
    let prior = thing_state("/things/a", "a", "Fast", "1");
    let cfg = config("b", Some("Fast"), None, None);
    let plan = plan_of(&rt, &ty, Some(&prior), &cfg).await;
    assert_eq!(
        plan.requires_replace,
        vec![AttributePath::root().attr("name")]
    );
    let planned = decode(&plan.planned_state.unwrap(), &ty);
    assert_eq!(
        planned.get_attr("id"),
        Some(&s("/things/a")),
        "use_state_for_unknown"
    );
    assert!(!planned.get_attr("serial").unwrap().is_known());

    let cfg = config("a", Some("Fast"), Some(&["t"]), None);
    let plan = plan_of(&rt, &ty, Some(&prior), &cfg).await;
    assert!(plan.requires_replace.is_empty());
}

#[tokio::test]
async fn validation_errors_carry_attribute_paths() {
    let (rt, _remote, ty) = setup();
    let cfg = config("a", Some("fast"), None, None);
    let diags = rt.validate_resource_config("test_thing", Some(&raw(&cfg, &ty)), WO);
    let e: Vec<_> = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert_eq!(e.len(), 1, "{diags}");
    assert_eq!(e[0].attribute, Some(AttributePath::root().attr("mode")));
    assert!(e[0].detail.contains("use \"Fast\""), "{}", e[0].detail);

    let cfg = config("a", Some("Slow"), None, None);
    let diags = rt.validate_resource_config("test_thing", Some(&raw(&cfg, &ty)), WO);
    assert_eq!(
        diags.iter().next().and_then(|d| d.attribute.clone()),
        Some(AttributePath::root().attr("tags"))
    );

    // Unknown values are not validated yet.
    let mut cfg = config("a", None, None, None);
    if let Value::Object(m) = &mut cfg {
        m.insert("mode".into(), Value::unknown());
    }
    assert!(
        errors(&rt.validate_resource_config("test_thing", Some(&raw(&cfg, &ty)), WO)).is_empty()
    );

    // A write-only value on a Terraform without write-only support is refused.
    let cfg = config("a", None, None, Some("x"));
    let diags = rt.validate_resource_config(
        "test_thing",
        Some(&raw(&cfg, &ty)),
        ClientCapabilities::default(),
    );
    assert_eq!(errors(&diags).len(), 1, "{diags}");
    assert!(
        diags
            .iter()
            .any(|d| d.attribute == Some(AttributePath::root().attr("secret_wo")))
    );
}

#[tokio::test]
async fn partially_unknown_sets_are_planned_as_configured() {
    let (rt, _remote, ty) = setup();
    let mut cfg = config("a", None, None, None);
    if let Value::Object(m) = &mut cfg {
        m.insert("tags".into(), Value::Set(vec![s("x"), Value::unknown()]));
    }
    let plan = plan_of(&rt, &ty, None, &cfg).await;
    assert!(errors(&plan.diags).is_empty(), "{}", plan.diags);
    let planned = decode(&plan.planned_state.unwrap(), &ty);
    assert_eq!(planned.get_attr("tags"), cfg.get_attr("tags"));
}

#[tokio::test]
async fn failed_create_returns_partial_state_and_failed_read_keeps_prior() {
    let (rt, _remote, ty) = setup();
    let cfg = config("fail", Some("Fast"), None, None);
    let plan = plan_of(&rt, &ty, None, &cfg).await;
    let planned = decode(&plan.planned_state.unwrap(), &ty);
    let applied = apply_of(&rt, &ty, None, &planned, &cfg).await;
    assert_eq!(errors(&applied.diags).len(), 1);
    let state = decode(&applied.new_state.unwrap(), &ty);
    assert_eq!(state.get_attr("id"), Some(&s("partial")));
}

#[tokio::test]
async fn delete_and_gone_objects() {
    let (rt, remote, ty) = setup();
    remote.put("/things/z", "Slow", &[]);
    let state = thing_state("/things/z", "z", "Slow", "1");
    // Destroy plan (plan_destroy): proposed and config null.
    let plan = plan_of(&rt, &ty, Some(&state), &Value::Null).await;
    assert_eq!(decode(&plan.planned_state.unwrap(), &ty), Value::Null);
    let applied = apply_of(&rt, &ty, Some(&state), &Value::Null, &Value::Null).await;
    assert!(errors(&applied.diags).is_empty());
    assert_eq!(decode(&applied.new_state.unwrap(), &ty), Value::Null);
    assert!(remote.things.lock().unwrap().is_empty());

    // Reading it now reports it gone.
    let read = read_of(&rt, &ty, &state).await;
    assert_eq!(decode(&read.new_state.unwrap(), &ty), Value::Null);
}

#[tokio::test]
async fn import_builds_a_stub_that_read_completes() {
    let (rt, remote, ty) = setup();
    remote.put("/things/q", "Slow", &["k"]);
    let (imported, diags) = rt
        .import_resource_state("test_thing", "/things/q", None, WO)
        .await;
    assert!(errors(&diags).is_empty(), "{diags}");
    assert_eq!(imported.len(), 1);
    let stub = decode(&imported[0].state, &ty);
    let read = read_of(&rt, &ty, &stub).await;
    let state = decode(&read.new_state.unwrap(), &ty);
    assert_eq!(state.get_attr("name"), Some(&s("q")));
    assert_eq!(state.get_attr("mode"), Some(&s("Slow")));

    let (imported, diags) = rt
        .import_resource_state("test_thing", "nope", None, WO)
        .await;
    assert!(imported.is_empty());
    assert_eq!(errors(&diags).len(), 1);
}

#[tokio::test]
async fn private_state_and_provider_meta_reach_the_resource() {
    let (rt, remote, ty) = setup();
    remote.put("/things/p", "Fast", &[]);
    let (imported, _) = rt
        .import_resource_state("test_thing", "/things/p", None, WO)
        .await;
    let stub = decode(&imported[0].state, &ty);
    let meta_ty = Type::Object(BTreeMap::new());
    let meta = raw(&Value::Object(BTreeMap::new()), &meta_ty);
    let first = rt
        .read_resource(ReadResource {
            type_name: "test_thing",
            current: Some(&raw(&stub, &ty)),
            private: imported[0].private.clone(),
            provider_meta: Some(&meta),
            caps: WO,
        })
        .await;
    let notes: serde_json::Value = serde_json::from_slice(&first.private).unwrap();
    assert_eq!(notes["resource.reads"], "1", "{notes}");
    assert_eq!(
        notes["resource.meta"], "{}",
        "the provider_meta object arrives"
    );
    assert!(
        notes.get("imported").is_none(),
        "the runtime's import note is cleared"
    );
    let second = rt
        .read_resource(ReadResource {
            type_name: "test_thing",
            current: first
                .new_state
                .as_ref()
                .map(|b| RawValue {
                    msgpack: b.clone(),
                    json: Vec::new(),
                })
                .as_ref(),
            private: first.private.clone(),
            provider_meta: None,
            caps: WO,
        })
        .await;
    let notes: serde_json::Value = serde_json::from_slice(&second.private).unwrap();
    assert_eq!(
        notes["resource.reads"], "2",
        "the resource's note came back: {notes}"
    );
    assert_eq!(notes["resource.meta"], "null", "no provider_meta: null");
}

#[tokio::test]
async fn hostile_bytes_and_unknown_types_give_diagnostics() {
    let (rt, _remote, _ty) = setup();
    let junk = RawValue {
        msgpack: vec![0x87, 0xa1],
        json: Vec::new(),
    };
    let diags = rt.validate_resource_config("test_thing", Some(&junk), WO);
    assert!(diags.has_errors());
    let diags = rt.validate_resource_config("nope_thing", None, WO);
    assert!(errors(&diags)[0].contains("nope_thing"));
    let (state, diags) = rt.upgrade_resource_state(
        "test_thing",
        0,
        b"{\"id\":\"/things/a\",\"name\":\"a\",\"removed_attr\":1}",
        false,
    );
    assert!(errors(&diags).is_empty(), "{diags}");
    assert!(state.is_some());
    let (_, diags) = rt.upgrade_resource_state("test_thing", 7, b"{}", false);
    assert!(errors(&diags)[0].contains("newer provider"));
    let (_, diags) = rt.upgrade_resource_state("test_thing", 0, b"", true);
    assert!(diags.has_errors());
}
