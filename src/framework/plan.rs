//! The generic planning rules every resource gets before its own `modify_plan`.
//!
//! Terraform hands us a proposed new state (config where set, prior state elsewhere). We:
//! - plan write-only attributes as null (they are never stored);
//! - fill attribute defaults where the config is null;
//! - on create, or when anything changed, mark computed attributes the config leaves null
//!   as unknown, unless they ask to keep their prior value (use-state-for-unknown);
//! - report requires-replace attributes whose value changes.

use crate::value::Value;
use crate::value::path::AttributePath;

use super::schema::{Block, PlanModifier};

/// The outcome of the generic rules.
pub struct GenericPlan {
    pub planned: Value,
    pub requires_replace: Vec<AttributePath>,
}

fn attr<'v>(v: &'v Value, name: &str) -> &'v Value {
    match v {
        Value::Object(m) => m.get(name).unwrap_or(&Value::Null),
        _ => &Value::Null,
    }
}

/// Applies the rules to one resource's top-level block.
pub fn plan(block: &Block, prior: &Value, proposed: &Value, config: &Value) -> GenericPlan {
    let Value::Object(proposed_attrs) = proposed else {
        // Destroy (or a malformed proposal, which Terraform never sends): plan exactly it.
        return GenericPlan {
            planned: proposed.clone(),
            requires_replace: Vec::new(),
        };
    };
    let creating = prior.is_null();
    let mut planned = proposed_attrs.clone();

    for a in &block.attributes {
        let configured = attr(config, &a.name);
        if a.write_only {
            planned.insert(a.name.clone(), Value::Null);
        } else if configured.is_null()
            && let Some(default) = &a.default
        {
            planned.insert(a.name.clone(), default.clone());
        }
    }

    // Anything differing from the prior state means the apply may change computed values.
    let changed = creating || !values_equal(&Value::Object(planned.clone()), prior);
    if changed {
        for a in &block.attributes {
            if !a.computed || !attr(config, &a.name).is_null() || a.default.is_some() {
                continue;
            }
            let keep = !creating && a.has_modifier(PlanModifier::UseStateForUnknown);
            let v = if keep {
                attr(prior, &a.name).clone()
            } else {
                Value::Unknown(Default::default())
            };
            planned.insert(a.name.clone(), v);
        }
    }

    let mut requires_replace = Vec::new();
    if !creating {
        for a in &block.attributes {
            if a.has_modifier(PlanModifier::RequiresReplace) {
                let new = planned.get(&a.name).unwrap_or(&Value::Null);
                if !values_equal(new, attr(prior, &a.name)) {
                    requires_replace.push(AttributePath::root().attr(&a.name));
                }
            }
        }
    }

    GenericPlan {
        planned: Value::Object(planned),
        requires_replace,
    }
}

/// Equality where sets compare without regard to element order.
pub fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Set(x), Value::Set(y)) => {
            x.len() == y.len()
                && x.iter().all(|xe| y.iter().any(|ye| values_equal(xe, ye)))
                && y.iter().all(|ye| x.iter().any(|xe| values_equal(xe, ye)))
        }
        (Value::List(x), Value::List(y)) | (Value::Tuple(x), Value::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q))
        }
        (Value::Map(x), Value::Map(y)) | (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::schema::Attribute;
    use std::collections::BTreeMap;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<BTreeMap<_, _>>(),
        )
    }
    fn s(x: &str) -> Value {
        Value::String(x.into())
    }
    fn unknown() -> Value {
        Value::Unknown(Default::default())
    }

    fn block() -> Block {
        Block::new()
            .attribute(Attribute::string("id").computed().use_state_for_unknown())
            .attribute(Attribute::string("target").required().requires_replace())
            .attribute(Attribute::string("mode").optional().computed())
            .attribute(
                Attribute::string("level")
                    .optional()
                    .computed()
                    .default_value(s("None")),
            )
            .attribute(
                Attribute::string("secret")
                    .optional()
                    .sensitive()
                    .write_only(),
            )
            .attribute(Attribute::string("principal").computed())
    }

    /// A state after a create of target `a`.
    fn prior() -> Value {
        obj(&[
            ("id", s("x")),
            ("target", s("a")),
            ("mode", s("m")),
            ("level", s("None")),
            ("secret", Value::Null),
            ("principal", s("p")),
        ])
    }

    /// A configuration that sets only the target.
    fn config_for(target: &str) -> Value {
        obj(&[
            ("id", Value::Null),
            ("target", s(target)),
            ("mode", Value::Null),
            ("level", Value::Null),
            ("secret", Value::Null),
            ("principal", Value::Null),
        ])
    }

    #[test]
    fn create_marks_unset_computed_unknown_and_applies_defaults() {
        let config = obj(&[
            ("id", Value::Null),
            ("target", s("a")),
            ("mode", Value::Null),
            ("level", Value::Null),
            ("secret", s("hunter2")),
            ("principal", Value::Null),
        ]);
        let p = plan(&block(), &Value::Null, &config, &config);
        assert_eq!(attr(&p.planned, "id"), &unknown());
        assert_eq!(attr(&p.planned, "mode"), &unknown());
        assert_eq!(attr(&p.planned, "principal"), &unknown());
        assert_eq!(attr(&p.planned, "level"), &s("None"));
        assert_eq!(attr(&p.planned, "secret"), &Value::Null);
        assert!(p.requires_replace.is_empty());
    }

    #[test]
    fn unchanged_update_keeps_everything_known() {
        let prior = prior();
        let config = config_for("a");
        let p = plan(&block(), &prior, &prior, &config);
        assert_eq!(p.planned, prior);
        assert!(p.requires_replace.is_empty());
    }

    #[test]
    fn changed_target_requires_replace_and_unknowns_computed() {
        let prior = prior();
        let mut proposed = prior.clone();
        if let Value::Object(m) = &mut proposed {
            m.insert("target".into(), s("b"));
        }
        let config = config_for("b");
        let p = plan(&block(), &prior, &proposed, &config);
        assert_eq!(
            p.requires_replace,
            vec![AttributePath::root().attr("target")]
        );
        assert_eq!(
            attr(&p.planned, "id"),
            &s("x"),
            "use_state_for_unknown keeps id"
        );
        assert_eq!(attr(&p.planned, "principal"), &unknown());
        assert_eq!(attr(&p.planned, "mode"), &unknown());
    }

    #[test]
    fn set_equality_ignores_order() {
        let a = Value::Set(vec![s("1"), s("2")]);
        let b = Value::Set(vec![s("2"), s("1")]);
        assert!(values_equal(&a, &b));
        assert!(!values_equal(&a, &Value::Set(vec![s("1")])));
    }
}
