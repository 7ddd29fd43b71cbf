//! Resource-lifecycle rules every resource gets from the runtime, so no resource repeats them:
//!
//! - **ARM id spelling** ([`keep_spelling`]): attributes marked [`Attribute::arm_id`] hold ids
//!   that ARM compares ignoring case and re-cases in answers. Wherever Terraform compares two
//!   values (plan against prior state, apply result against plan, read result against prior
//!   state) a value equal ignoring case is given the spelling Terraform already has, so a
//!   re-cased id never shows as a change nor trips Terraform's consistency checks.
//! - **Writes Azure did not keep** ([`unkept_changes`], [`REREAD_DELAYS`]): after a successful
//!   write whose result still differs from the plan (a policy, replication lag), the runtime
//!   re-reads a few times and then reports the provider's own error on the attribute, with the
//!   state recording what Azure holds, instead of Terraform's "inconsistent result" bug report.
//! - **Objects Azure reports `Failed`** ([`FailedMark`]): a read that finds the object's last
//!   operation failed ([`super::Ctx::report_failed`]) records it in the private state; the next
//!   plan then proposes to apply the configuration again and says why.
//! - **Interrupted writes** ([`INTERRUPT_READ_BACK`], [`interrupted_error`]): when Terraform
//!   stops the provider while a write is in flight, the resource is returned with a short
//!   bounded read-back of what Azure holds (or, failing that, the planned values), with an
//!   error saying the operation was interrupted, so state never claims less than Azure holds.
//! - **The read after an import** ([`ImportedMark`]): import notes itself in the private state
//!   so the read that follows can say what import cannot recover ([`super::Ctx::just_imported`]).
//!
//! [`Attribute::arm_id`]: super::schema::Attribute::arm_id

use std::time::Duration;

use super::diagnostics::Diagnostic;
use super::plan::values_equal;
use super::schema::Block;
use crate::value::Value;
use crate::value::path::AttributePath;

fn attr<'v>(v: &'v Value, name: &str) -> &'v Value {
    v.get_attr(name).unwrap_or(&Value::Null)
}

/// Equality where strings (set elements, map keys) compare ignoring ASCII case.
pub fn equal_ignoring_case(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.eq_ignore_ascii_case(y),
        (Value::Set(x), Value::Set(y)) | (Value::List(x), Value::List(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|p| y.iter().any(|q| equal_ignoring_case(p, q)))
                && y.iter()
                    .all(|q| x.iter().any(|p| equal_ignoring_case(p, q)))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter().all(|(k, v)| {
                    y.iter()
                        .any(|(l, w)| k.eq_ignore_ascii_case(l) && values_equal(v, w))
                })
        }
        _ => values_equal(a, b),
    }
}

/// `value` with every string (set element, map key) that equals one of `reference` ignoring
/// case spelled as in `reference`. `None` when nothing would change or the result would merge
/// two distinct elements.
fn respell_parts(value: &Value, reference: &Value) -> Option<Value> {
    match (value, reference) {
        (Value::String(v), Value::String(r)) if v != r && v.eq_ignore_ascii_case(r) => {
            Some(reference.clone())
        }
        (Value::Set(items), Value::Set(refs)) | (Value::List(items), Value::List(refs)) => {
            let out: Vec<Value> = items
                .iter()
                .map(|i| match i {
                    Value::String(s) => refs
                        .iter()
                        .find(|r| r.as_str().is_some_and(|r| r.eq_ignore_ascii_case(s)))
                        .cloned()
                        .unwrap_or_else(|| i.clone()),
                    _ => i.clone(),
                })
                .collect();
            let distinct = out
                .iter()
                .enumerate()
                .all(|(n, a)| out[..n].iter().all(|b| a != b));
            let changed = distinct && out != *items;
            changed.then_some(match value {
                Value::Set(_) => Value::Set(out),
                _ => Value::List(out),
            })
        }
        (Value::Map(m), Value::Map(refs)) => {
            let mut out = std::collections::BTreeMap::new();
            for (k, v) in m {
                let key = refs
                    .keys()
                    .find(|r| r.eq_ignore_ascii_case(k))
                    .unwrap_or(k)
                    .clone();
                if out.insert(key, v.clone()).is_some() {
                    return None;
                }
            }
            (out != *m).then_some(Value::Map(out))
        }
        _ => None,
    }
}

/// Gives the ARM-id attributes of `value` the spelling of the first of `references` that
/// holds a known value for them. With `config` (planning), an attribute the configuration sets
/// is only replaced whole (Terraform accepts a planned value equal to the configuration or
/// to the prior state, nothing in between); other attributes are re-spelled element by element.
pub fn keep_spelling(
    block: &Block,
    value: &mut Value,
    references: &[&Value],
    config: Option<&Value>,
) {
    let Value::Object(attrs) = value else { return };
    for a in block.attributes.iter().filter(|a| a.arm_id) {
        let Some(current) = attrs
            .get(&a.name)
            .filter(|v| v.is_wholly_known() && !v.is_null())
        else {
            continue;
        };
        let Some(reference) = references
            .iter()
            .map(|r| attr(r, &a.name))
            .find(|r| r.is_wholly_known() && !r.is_null())
        else {
            continue;
        };
        let whole_only = config.is_some_and(|c| !attr(c, &a.name).is_null());
        let new = if equal_ignoring_case(current, reference) {
            (current != reference).then(|| reference.clone())
        } else if whole_only {
            None
        } else {
            respell_parts(current, reference)
        };
        if let Some(n) = new {
            attrs.insert(a.name.clone(), n);
        }
    }
}

/// How long to wait before each re-read of a write Azure answered but does not yet show:
/// a short bounded window (3.5 s in all) for replication lag, after which a policy that
/// reverts the change is the likelier cause.
pub const REREAD_DELAYS: &[Duration] = &[
    Duration::from_millis(500),
    Duration::from_millis(1000),
    Duration::from_millis(2000),
];

/// One attribute whose applied value differs from the planned one.
#[derive(Debug, Clone, PartialEq)]
pub struct UnkeptChange {
    pub attribute: String,
    pub planned: Value,
    pub actual: Value,
    pub sensitive: bool,
}

/// The attributes (and nested blocks) of `new` that differ from a known planned value: what
/// Terraform would report as an inconsistent result.
pub fn unkept_changes(block: &Block, planned: &Value, new: &Value) -> Vec<UnkeptChange> {
    if planned.is_null() || new.is_null() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut check = |name: &str, sensitive: bool| {
        let p = attr(planned, name);
        let n = attr(new, name);
        if p.is_wholly_known() && !values_equal(p, n) {
            out.push(UnkeptChange {
                attribute: name.to_string(),
                planned: p.clone(),
                actual: n.clone(),
                sensitive,
            });
        }
    };
    for a in &block.attributes {
        if !a.write_only {
            check(&a.name, a.sensitive);
        }
    }
    for b in &block.blocks {
        check(&b.type_name, false);
    }
    out
}

/// The provider's error for a change Azure accepted but does not show.
pub fn unkept_change_error(c: &UnkeptChange) -> Diagnostic {
    let (planned, actual) = if c.sensitive {
        (
            "(sensitive value)".to_string(),
            "(sensitive value)".to_string(),
        )
    } else {
        (show(&c.planned), show(&c.actual))
    };
    Diagnostic::error(
        "Azure did not keep the change",
        format!(
            "Azure accepted the change of `{}` to {planned} but still reports {actual} after re-reading it for a few \
             seconds; a policy may be enforcing it, or the change has not propagated yet. The state records what Azure \
             reports, so the next plan proposes the change again.",
            c.attribute
        ),
    )
    .at(AttributePath::root().attr(&c.attribute))
}

/// A value as a user would write it, for messages.
pub fn show(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Unknown(_) => "(known after apply)".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("\"{s}\""),
        Value::List(i) | Value::Set(i) | Value::Tuple(i) => {
            format!("[{}]", i.iter().map(show).collect::<Vec<_>>().join(", "))
        }
        Value::Map(m) | Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{k} = {}", show(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Dynamic(_, inner) => show(inner),
    }
}

/// How long the read-back after an interrupted write may take.
pub const INTERRUPT_READ_BACK: Duration = Duration::from_secs(15);

/// The error of a write Terraform interrupted; `read_back` says where the state came from.
pub fn interrupted_error(read_back: bool) -> Diagnostic {
    Diagnostic::error(
        "Operation interrupted",
        if read_back {
            "Terraform stopped the provider while the change was in progress in Azure. The state records what \
             Azure reported when read again right after the interruption; Azure may still be completing the \
             operation. Run `terraform plan` to see what remains."
        } else {
            "Terraform stopped the provider while the change was in progress in Azure, and Azure could not be \
             read again in time: the state records the planned values. Run `terraform plan` (which reads Azure \
             first) to see what remains."
        },
    )
}

/// `planned` with unknown values replaced by `prior`'s (or null): what to record when an
/// interrupted write cannot be read back.
pub fn planned_as_known(planned: &Value, prior: &Value) -> Value {
    match (planned, prior) {
        (Value::Object(p), _) => Value::Object(
            p.iter()
                .map(|(k, v)| (k.clone(), planned_as_known(v, attr(prior, k))))
                .collect(),
        ),
        (v, prior) if !v.is_wholly_known() => {
            if prior.is_wholly_known() {
                prior.clone()
            } else {
                Value::Null
            }
        }
        (v, _) => v.clone(),
    }
}

/// The notes of a private state, which is ours alone (Terraform stores it opaquely and hands
/// it back): a small JSON object of strings. The runtime's marks below and a resource's
/// [`super::resource::Private`] notes share it under distinct keys.
pub(crate) fn decode_notes(private: &[u8]) -> serde_json::Map<String, serde_json::Value> {
    serde_json::from_slice::<serde_json::Value>(private)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default()
}

pub(crate) fn encode_notes(m: serde_json::Map<String, serde_json::Value>) -> Vec<u8> {
    if m.is_empty() {
        Vec::new()
    } else {
        serde_json::Value::Object(m).to_string().into_bytes()
    }
}

struct Notes;

impl Notes {
    fn decode(private: &[u8]) -> serde_json::Map<String, serde_json::Value> {
        decode_notes(private)
    }

    fn encode(m: serde_json::Map<String, serde_json::Value>) -> Vec<u8> {
        encode_notes(m)
    }

    fn set(private: &[u8], key: &str, value: Option<&str>) -> Vec<u8> {
        let mut m = Self::decode(private);
        match value {
            Some(r) => m.insert(key.into(), r.into()),
            None => m.remove(key),
        };
        Self::encode(m)
    }

    fn get(private: &[u8], key: &str) -> Option<String> {
        Self::decode(private)
            .get(key)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    }
}

/// The private-state note that the object was just imported (cleared by the next read).
pub struct ImportedMark;

impl ImportedMark {
    const KEY: &str = "imported";

    pub fn set(private: &[u8], imported: bool) -> Vec<u8> {
        Notes::set(private, Self::KEY, imported.then_some("true"))
    }

    pub fn get(private: &[u8]) -> bool {
        Notes::get(private, Self::KEY).is_some()
    }
}

/// The private-state note that Azure reported the object's last operation failed.
pub struct FailedMark;

impl FailedMark {
    const KEY: &str = "failed";

    /// `private` with the note set (`Some`) or cleared (`None`).
    pub fn set(private: &[u8], reason: Option<&str>) -> Vec<u8> {
        Notes::set(private, Self::KEY, reason)
    }

    /// The reason noted in `private`, if any.
    pub fn get(private: &[u8]) -> Option<String> {
        Notes::get(private, Self::KEY)
    }

    /// Makes the plan of an object Azure reports failed an update: `id` (computed, the same
    /// after the apply) becomes "known after apply", so Terraform sends the configuration
    /// again; the warning says why.
    pub fn replan(planned: &mut Value, reason: &str) -> Diagnostic {
        if let Value::Object(m) = planned
            && m.get("id").is_some_and(|v| !v.is_null())
        {
            m.insert("id".into(), Value::Unknown(Default::default()));
        }
        Diagnostic::warning(
            "Applying again: Azure reports the last operation failed",
            format!(
                "{reason}. Azure may hold the configured values while the object stays failed, so this plan \
                 applies the configuration again (`id` shows as known after apply)."
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::schema::Attribute;
    use std::collections::BTreeMap;

    fn s(x: &str) -> Value {
        Value::String(x.into())
    }
    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }
    fn block() -> Block {
        Block::new()
            .attribute(Attribute::string("target").required().arm_id())
            .attribute(Attribute::string_set("ids").optional().arm_id())
            .attribute(Attribute::string_map("by_id").computed().arm_id())
            .attribute(Attribute::string("mode").optional())
    }

    #[test]
    fn whole_values_equal_ignoring_case_take_the_reference_spelling() {
        let prior = obj(&[
            ("target", s("/A/b")),
            ("ids", Value::Set(vec![s("/X/one"), s("/X/two")])),
            (
                "by_id",
                Value::Map(BTreeMap::from([("/X/one".into(), s("p"))])),
            ),
            ("mode", s("On")),
        ]);
        let mut planned = obj(&[
            ("target", s("/a/B")),
            ("ids", Value::Set(vec![s("/x/TWO"), s("/x/one")])),
            (
                "by_id",
                Value::Map(BTreeMap::from([("/x/ONE".into(), s("p"))])),
            ),
            ("mode", s("on")),
        ]);
        let config = planned.clone();
        keep_spelling(&block(), &mut planned, &[&prior], Some(&config));
        assert_eq!(attr(&planned, "target"), &s("/A/b"));
        assert!(values_equal(attr(&planned, "ids"), attr(&prior, "ids")));
        assert_eq!(attr(&planned, "by_id"), attr(&prior, "by_id"));
        assert_eq!(attr(&planned, "mode"), &s("on"), "only ARM ids ignore case");
    }

    #[test]
    fn configured_sets_are_replaced_whole_or_not_at_all() {
        let prior = obj(&[("ids", Value::Set(vec![s("/X/one")]))]);
        let config = obj(&[("ids", Value::Set(vec![s("/x/ONE"), s("/x/new")]))]);
        let mut planned = config.clone();
        keep_spelling(&block(), &mut planned, &[&prior], Some(&config));
        assert_eq!(planned, config, "a partial re-spelling is no valid plan");
        // An apply result is re-spelled element by element.
        let mut result = obj(&[("ids", Value::Set(vec![s("/X/ONE"), s("/X/NEW")]))]);
        keep_spelling(&block(), &mut result, &[&config], None);
        assert!(values_equal(attr(&result, "ids"), attr(&config, "ids")));
    }

    #[test]
    fn unknown_references_fall_through_to_the_next() {
        let planned = obj(&[("target", Value::Unknown(Default::default()))]);
        let prior = obj(&[("target", s("/A/b"))]);
        let mut result = obj(&[("target", s("/a/b"))]);
        keep_spelling(&block(), &mut result, &[&planned, &prior], None);
        assert_eq!(attr(&result, "target"), &s("/A/b"));
    }

    #[test]
    fn failed_mark_round_trips_in_private_state() {
        let p = FailedMark::set(b"", Some("provisioningState is Failed"));
        assert_eq!(
            FailedMark::get(&p).as_deref(),
            Some("provisioningState is Failed")
        );
        assert!(FailedMark::set(&p, None).is_empty());
        assert_eq!(FailedMark::get(b"not json"), None);
        let mut planned = obj(&[("id", s("/x")), ("mode", s("a"))]);
        let w = FailedMark::replan(&mut planned, "it failed");
        assert!(!attr(&planned, "id").is_known());
        assert!(w.to_string().contains("it failed"), "{w}");
    }

    #[test]
    fn unkept_changes_name_the_attribute_and_hide_secrets() {
        let b = Block::new()
            .attribute(Attribute::bool("enabled").required())
            .attribute(Attribute::string("key").optional().sensitive())
            .attribute(Attribute::string("id").computed());
        let planned = obj(&[
            ("enabled", Value::Bool(false)),
            ("key", s("hunter2")),
            ("id", Value::Unknown(Default::default())),
        ]);
        let new = obj(&[
            ("enabled", Value::Bool(true)),
            ("key", s("other")),
            ("id", s("/x")),
        ]);
        let c = unkept_changes(&b, &planned, &new);
        assert_eq!(
            c.iter().map(|c| c.attribute.as_str()).collect::<Vec<_>>(),
            ["enabled", "key"]
        );
        let e = unkept_change_error(&c[0]).to_string();
        assert!(e.contains("still reports true"), "{e}");
        let e = unkept_change_error(&c[1]).to_string();
        assert!(!e.contains("hunter2") && !e.contains("other"), "{e}");
    }
}
