//! Property tests: conforming (type, value) pairs round-trip through both codecs, and no input
//! makes a decoder panic.

use proptest::prelude::*;

use amlauth::value::{Number, Refinements, Type, Value, ValueErrorKind, json, msgpack};

/// Which codec the generated values must suit: JSON has no unknowns and no infinities.
#[derive(Debug, Clone, Copy)]
struct Mode {
    msgpack: bool,
}

fn attr_name() -> impl Strategy<Value = String> {
    "[a-z_][a-z0-9_]{0,7}"
}

fn type_strategy(allow_dynamic: bool) -> BoxedStrategy<Type> {
    let leaf = if allow_dynamic {
        prop_oneof![
            Just(Type::Bool),
            Just(Type::Number),
            Just(Type::String),
            Just(Type::Dynamic),
        ]
        .boxed()
    } else {
        prop_oneof![Just(Type::Bool), Just(Type::Number), Just(Type::String)].boxed()
    };
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::set),
            inner.clone().prop_map(Type::map),
            prop::collection::btree_map(attr_name(), inner.clone(), 0..4).prop_map(Type::Object),
            prop::collection::vec(inner, 0..4).prop_map(Type::Tuple),
        ]
    })
    .boxed()
}

fn finite_number() -> BoxedStrategy<Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from),
        any::<u64>().prop_map(Number::from),
        any::<f64>().prop_filter_map("finite floats", |f| {
            f.is_finite().then(|| Number::from_f64(f)).flatten()
        }),
        "-?[0-9]{1,30}\\.[0-9]{1,30}".prop_map(|t| t.parse::<Number>().expect("decimal")),
        "[1-9][0-9]{19,60}".prop_map(|t| t.parse::<Number>().expect("big integer")),
        ("-?[1-9]", -400i32..400).prop_map(|(m, e)| format!("{m}e{e}").parse().expect("exp")),
    ]
    .boxed()
}

fn number(mode: Mode) -> BoxedStrategy<Number> {
    if mode.msgpack {
        prop_oneof![
            8 => finite_number(),
            1 => Just(Number::infinity()),
            1 => Just(Number::neg_infinity()),
        ]
        .boxed()
    } else {
        finite_number()
    }
}

/// Refinements that survive a round trip: no no-op bounds, no empty prefix.
fn refinements_for(ty: &Type) -> BoxedStrategy<Refinements> {
    let base = any::<bool>().prop_map(|not_null| Refinements {
        not_null,
        ..Refinements::default()
    });
    match ty {
        Type::Dynamic => Just(Refinements::default()).boxed(),
        Type::String => (base, proptest::option::of("\\PC{1,20}"))
            .prop_map(|(r, string_prefix)| Refinements { string_prefix, ..r })
            .boxed(),
        Type::Number => (
            base,
            proptest::option::of((finite_number(), any::<bool>())),
            proptest::option::of((finite_number(), any::<bool>())),
        )
            .prop_map(|(r, number_lower, number_upper)| Refinements {
                number_lower,
                number_upper,
                ..r
            })
            .boxed(),
        ty if ty.is_collection() => (
            base,
            proptest::option::of(1u64..1000),
            proptest::option::of(0u64..1000),
        )
            .prop_map(|(r, length_lower, length_upper)| Refinements {
                length_lower,
                length_upper,
                ..r
            })
            .boxed(),
        _ => base.boxed(),
    }
}

fn value_for(ty: &Type, mode: Mode) -> BoxedStrategy<Value> {
    let known: BoxedStrategy<Value> = match ty {
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::Number => number(mode).prop_map(Value::Number).boxed(),
        Type::String => any::<String>().prop_map(Value::String).boxed(),
        Type::List(e) => prop::collection::vec(value_for(e, mode), 0..4)
            .prop_map(Value::List)
            .boxed(),
        Type::Set(e) => prop::collection::vec(value_for(e, mode), 0..4)
            .prop_map(Value::Set)
            .boxed(),
        Type::Map(e) => prop::collection::btree_map(any::<String>(), value_for(e, mode), 0..4)
            .prop_map(Value::Map)
            .boxed(),
        Type::Object(attrs) => {
            let names: Vec<String> = attrs.keys().cloned().collect();
            let values: Vec<BoxedStrategy<Value>> =
                attrs.values().map(|t| value_for(t, mode)).collect();
            values
                .prop_map(move |vals| Value::object(names.iter().cloned().zip(vals)))
                .boxed()
        }
        Type::Tuple(etys) => etys
            .iter()
            .map(|t| value_for(t, mode))
            .collect::<Vec<_>>()
            .prop_map(Value::Tuple)
            .boxed(),
        Type::Dynamic => type_strategy(false)
            .prop_flat_map(move |concrete| {
                value_for(&concrete, mode).prop_map(move |v| Value::dynamic(concrete.clone(), v))
            })
            .boxed(),
    };
    if mode.msgpack {
        let unknown = refinements_for(ty).prop_map(Value::unknown_refined);
        prop_oneof![1 => Just(Value::Null), 1 => unknown, 6 => known].boxed()
    } else {
        prop_oneof![1 => Just(Value::Null), 6 => known].boxed()
    }
}

fn typed_value(mode: Mode) -> impl Strategy<Value = (Type, Value)> {
    type_strategy(true).prop_flat_map(move |ty| {
        let values = value_for(&ty, mode);
        (Just(ty), values)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn msgpack_round_trips((ty, value) in typed_value(Mode { msgpack: true })) {
        prop_assert!(value.conforms_to(&ty));
        let bytes = msgpack::encode(&value, &ty).expect("conforming values encode");
        let decoded = msgpack::decode(&bytes, &ty).expect("own output decodes");
        prop_assert_eq!(&decoded, &value);
        prop_assert_eq!(msgpack::encode(&decoded, &ty).unwrap(), bytes);
    }

    #[test]
    fn json_round_trips((ty, value) in typed_value(Mode { msgpack: false })) {
        let bytes = json::encode(&value, &ty).expect("known values encode");
        let decoded = json::decode(&bytes, &ty).expect("own output decodes");
        prop_assert_eq!(&decoded, &value);
        // And the same value survives msgpack, so the two forms agree.
        let packed = msgpack::encode(&decoded, &ty).unwrap();
        prop_assert_eq!(msgpack::decode(&packed, &ty).unwrap(), value);
    }

    #[test]
    fn type_json_round_trips(ty in type_strategy(true)) {
        prop_assert_eq!(Type::from_json(&ty.to_json()).unwrap(), ty.clone());
        prop_assert_eq!(Type::from_json_bytes(&ty.to_json_bytes()).unwrap(), ty);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        ty in type_strategy(true),
        bytes in prop::collection::vec(any::<u8>(), 0..256),
    ) {
        if let Ok(v) = msgpack::decode(&bytes, &ty) {
            // Whatever decodes conforms and can be written back.
            prop_assert!(v.conforms_to(&ty));
            prop_assert!(msgpack::encode(&v, &ty).is_ok());
        }
        if let Ok(v) = json::decode(&bytes, &ty) {
            prop_assert!(v.conforms_to(&ty));
            // JSON accepts "inf" number strings (as go-cty does) but cannot write infinity.
            match json::encode(&v, &ty) {
                Ok(_) => {}
                Err(e) => prop_assert_eq!(e.kind, ValueErrorKind::InfinityInJson),
            }
        }
    }

    #[test]
    fn corrupted_encodings_never_panic(
        (ty, value) in typed_value(Mode { msgpack: true }),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = msgpack::encode(&value, &ty).unwrap();
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        if let Ok(v) = msgpack::decode(&bytes, &ty) {
            prop_assert!(v.conforms_to(&ty));
            prop_assert!(msgpack::encode(&v, &ty).is_ok());
        }
        // Every strict prefix of a valid encoding is truncated, hence an error.
        let original = msgpack::encode(&value, &ty).unwrap();
        let short = &original[..cut.index(original.len())];
        prop_assert!(msgpack::decode(short, &ty).is_err());
    }
}
