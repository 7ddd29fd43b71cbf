//! msgpack codec: golden byte vectors (go-cty's encoding) and rejection of bad input.

use std::collections::BTreeMap;

use amlauth::value::{
    AttributePath, MAX_DEPTH, MAX_INPUT_BYTES, Number, Refinements, Type, Value, ValueErrorKind,
    msgpack,
};

fn bytes(hex_text: &str) -> Vec<u8> {
    hex::decode(hex_text.replace(' ', "")).expect("test hex")
}

fn s(v: &str) -> Value {
    Value::string(v)
}

fn num(text: &str) -> Value {
    Value::Number(text.parse().expect("test number"))
}

/// Hex of `text` as msgpack payload bytes (for readability of the vectors below).
fn h(text: &str) -> String {
    hex::encode(text)
}

/// Decodes to `expected` and encodes back to exactly the same bytes.
#[track_caller]
fn golden(hex_text: &str, ty: &Type, expected: &Value) {
    let wire = bytes(hex_text);
    let decoded = msgpack::decode(&wire, ty).expect("golden vector decodes");
    assert_eq!(&decoded, expected, "decoding {hex_text}");
    let encoded = msgpack::encode(expected, ty).expect("golden value encodes");
    assert_eq!(
        hex::encode(&encoded),
        hex::encode(&wire),
        "encoding {expected:?}"
    );
}

/// Decodes to `expected`, which re-encodes to the canonical `canonical_hex`.
#[track_caller]
fn accepted(hex_text: &str, ty: &Type, expected: &Value, canonical_hex: &str) {
    let decoded = msgpack::decode(&bytes(hex_text), ty).expect("accepted form decodes");
    assert_eq!(&decoded, expected, "decoding {hex_text}");
    let encoded = msgpack::encode(&decoded, ty).unwrap();
    assert_eq!(hex::encode(encoded), canonical_hex.replace(' ', ""));
}

#[track_caller]
fn rejected(hex_text: &str, ty: &Type) -> amlauth::value::ValueError {
    match msgpack::decode(&bytes(hex_text), ty) {
        Ok(v) => panic!("{hex_text} should be rejected, decoded {v:?}"),
        Err(e) => e,
    }
}

#[test]
fn golden_null_and_unknown() {
    golden("c0", &Type::String, &Value::Null);
    golden("c0", &Type::list(Type::String), &Value::Null);
    golden("d4 00 00", &Type::String, &Value::unknown());
    golden(
        "d4 00 00",
        &Type::object([("a", Type::Bool)]),
        &Value::unknown(),
    );
}

#[test]
fn golden_refined_unknowns() {
    // ext8, type 12, payload {1: false, 2: "ab"}.
    golden(
        "c7 07 0c 82 01 c2 02 a2 6162",
        &Type::String,
        &Value::unknown_refined(Refinements {
            not_null: true,
            string_prefix: Some("ab".into()),
            ..Refinements::default()
        }),
    );
    // {1: false, 3: [0, true], 4: [2.5, false]}
    golden(
        "c7 13 0c 83 01 c2 03 92 00 c3 04 92 cb 4004000000000000 c2",
        &Type::Number,
        &Value::unknown_refined(Refinements {
            not_null: true,
            number_lower: Some((Number::from(0i64), true)),
            number_upper: Some((Number::from_f64(2.5).unwrap(), false)),
            ..Refinements::default()
        }),
    );
    // {5: 1, 6: 5} on a list.
    golden(
        "c7 05 0c 82 05 01 06 05",
        &Type::list(Type::String),
        &Value::unknown_refined(Refinements {
            length_lower: Some(1),
            length_upper: Some(5),
            ..Refinements::default()
        }),
    );
    // {1: false} on a bool: three payload bytes, so ext8.
    golden(
        "c7 03 0c 81 01 c2",
        &Type::Bool,
        &Value::unknown_refined(Refinements {
            not_null: true,
            ..Refinements::default()
        }),
    );
}

#[test]
fn golden_primitives() {
    golden("c3", &Type::Bool, &Value::Bool(true));
    golden("c2", &Type::Bool, &Value::Bool(false));
    golden("2a", &Type::Number, &Value::number(42));
    golden("cd 012c", &Type::Number, &Value::number(300));
    golden("fb", &Type::Number, &Value::number(-5));
    golden("d1 ff38", &Type::Number, &Value::number(-200));
    golden(
        "d3 8000000000000000",
        &Type::Number,
        &Value::number(i64::MIN),
    );
    golden(
        "cf ffffffffffffffff",
        &Type::Number,
        &Value::number(u64::MAX),
    );
    golden("cb 3ff8000000000000", &Type::Number, &num("1.5"));
    golden(
        "cb 3fb999999999999a",
        &Type::Number,
        &Value::Number(Number::from_f64(0.1).unwrap()),
    );
    golden(
        "cb 7ff0000000000000",
        &Type::Number,
        &Value::Number(Number::infinity()),
    );
    golden(
        "cb fff0000000000000",
        &Type::Number,
        &Value::Number(Number::neg_infinity()),
    );
    // 2^64 is beyond 64-bit integers and, being an integer, is written as text.
    golden(
        &format!("b4 {}", h("18446744073709551616")),
        &Type::Number,
        &num("18446744073709551616"),
    );
    // Decimal 0.1 is not a binary float, so it travels as text too.
    golden("a3 302e31", &Type::Number, &num("0.1"));
    golden(&format!("a6 {}", h("héllo")), &Type::String, &s("héllo"));
    golden("a0", &Type::String, &s(""));
}

#[test]
fn golden_collections_and_structures() {
    golden(
        "92 a161 a162",
        &Type::list(Type::String),
        &Value::List(vec![s("a"), s("b")]),
    );
    golden("90", &Type::list(Type::String), &Value::List(vec![]));
    golden(
        "92 01 02",
        &Type::set(Type::Number),
        &Value::Set(vec![Value::number(1), Value::number(2)]),
    );
    golden(
        "82 a161 01 a162 02",
        &Type::map(Type::Number),
        &Value::Map(BTreeMap::from([
            ("a".into(), Value::number(1)),
            ("b".into(), Value::number(2)),
        ])),
    );
    let object_ty = Type::object([("name", Type::String), ("enabled", Type::Bool)]);
    golden(
        &format!("82 a7 {} c3 a4 {} a1 78", h("enabled"), h("name")),
        &object_ty,
        &Value::object([("name", s("x")), ("enabled", Value::Bool(true))]),
    );
    golden(
        "92 a161 01",
        &Type::Tuple(vec![Type::String, Type::Number]),
        &Value::Tuple(vec![s("a"), Value::number(1)]),
    );
    golden("90", &Type::Tuple(vec![]), &Value::Tuple(vec![]));
    golden(
        "80",
        &Type::object::<String>([]),
        &Value::object::<String>([]),
    );
}

#[test]
fn golden_nested_object_with_null_attribute() {
    let ty = Type::object([(
        "identity",
        Type::object([("type", Type::String), ("ids", Type::list(Type::String))]),
    )]);
    let value = Value::object([(
        "identity",
        Value::object([("type", s("SystemAssigned")), ("ids", Value::Null)]),
    )]);
    golden(
        &format!(
            "81 a8 {} 82 a3 {} c0 a4 {} ae {}",
            h("identity"),
            h("ids"),
            h("type"),
            h("SystemAssigned")
        ),
        &ty,
        &value,
    );
}

#[test]
fn golden_dynamic() {
    let string_json = h("\"string\"");
    golden(
        &format!("92 c4 08 {string_json} a2 6869"),
        &Type::Dynamic,
        &Value::dynamic(Type::String, s("hi")),
    );
    // A typed null differs from an untyped one.
    golden(
        &format!("92 c4 08 {string_json} c0"),
        &Type::Dynamic,
        &Value::dynamic(Type::String, Value::Null),
    );
    golden("c0", &Type::Dynamic, &Value::Null);
    golden("d4 00 00", &Type::Dynamic, &Value::unknown());
    golden(
        &format!("92 c4 11 {} 91 a161", h(r#"["list","string"]"#)),
        &Type::Dynamic,
        &Value::dynamic(Type::list(Type::String), Value::List(vec![s("a")])),
    );
    // Inside an object.
    let ty = Type::object([("any", Type::Dynamic)]);
    golden(
        &format!(
            "81 a3 {} 92 c4 08 {} cb 3ff8000000000000",
            h("any"),
            h("\"number\"")
        ),
        &ty,
        &Value::object([("any", Value::dynamic(Type::Number, num("1.5")))]),
    );
}

#[test]
fn other_accepted_forms_decode_and_canonicalise() {
    // Integers in wider encodings than needed, floats that are integers, decimal strings.
    accepted(
        "d3 000000000000002a",
        &Type::Number,
        &Value::number(42),
        "2a",
    );
    accepted("ce 0000002a", &Type::Number, &Value::number(42), "2a");
    accepted(
        "cb 4045000000000000",
        &Type::Number,
        &Value::number(42),
        "2a",
    );
    accepted(
        "ca 3fc00000",
        &Type::Number,
        &num("1.5"),
        "cb 3ff8000000000000",
    );
    accepted(
        &format!("a2 {}", h("42")),
        &Type::Number,
        &Value::number(42),
        "2a",
    );
    accepted(
        &format!("a4 {}", h("1e21")),
        &Type::Number,
        &num("1e21"),
        &format!("b6 {}", h("1000000000000000000000")),
    );
    // Unknowns: any extension type with a 0- or 1-byte payload.
    accepted("c7 00 00", &Type::String, &Value::unknown(), "d4 00 00");
    accepted("d4 05 ff", &Type::String, &Value::unknown(), "d4 00 00");
    // Refinements of newer Terraform versions (key 9) are skipped; null-ness "true" means null.
    let not_null = Value::unknown_refined(Refinements {
        not_null: true,
        ..Refinements::default()
    });
    accepted(
        "c7 07 0c 82 09 92 01 02 01 c2",
        &Type::String,
        &not_null,
        "c7 03 0c 81 01 c2",
    );
    accepted("c7 03 0c 81 01 c3", &Type::String, &Value::Null, "c0");
    // Bytes after the refinement map are reserved and ignored.
    let non_empty = Value::unknown_refined(Refinements {
        length_lower: Some(1),
        ..Refinements::default()
    });
    accepted(
        "c7 04 0c 81 05 01 ff",
        &Type::set(Type::Bool),
        &non_empty,
        "c7 03 0c 81 05 01",
    );
    // Refinements on a dynamic unknown are dropped.
    accepted(
        "c7 03 0c 81 01 c2",
        &Type::Dynamic,
        &Value::unknown(),
        "d4 00 00",
    );
    // The dynamic type JSON may come as str instead of bin.
    accepted(
        &format!("92 a8 {} a2 6869", h("\"string\"")),
        &Type::Dynamic,
        &Value::dynamic(Type::String, s("hi")),
        &format!("92 c4 08 {} a2 6869", h("\"string\"")),
    );
    // A wrapper naming "dynamic" is transparent.
    accepted(
        &format!("92 c4 09 {} c0", h("\"dynamic\"")),
        &Type::Dynamic,
        &Value::Null,
        "c0",
    );
    // Object keys in any order.
    accepted(
        &format!("82 a1 {} c2 a1 {} c3", h("b"), h("a")),
        &Type::object([("a", Type::Bool), ("b", Type::Bool)]),
        &Value::object([("a", Value::Bool(true)), ("b", Value::Bool(false))]),
        &format!("82 a1 {} c3 a1 {} c2", h("a"), h("b")),
    );
}

#[test]
fn truncated_input_is_rejected() {
    for hex_text in [
        "",
        "92 a161",
        "a3 6161",
        "cd 01",
        "cb 3ff8",
        "c4",
        "d4 00",
        "c7 05 0c 82",
    ] {
        rejected(hex_text, &Type::list(Type::String));
    }
    let e = rejected("92 a161", &Type::list(Type::String));
    assert!(
        matches!(e.kind, ValueErrorKind::Msgpack { offset: 3, .. }),
        "{e}"
    );
    assert_eq!(e.path, AttributePath::root().index(1));
    assert!(e.to_string().contains("unexpected end of input"), "{e}");
}

#[test]
fn invalid_utf8_is_rejected() {
    // The input cargo-fuzz found turning a str into bin with rmpv's write_value.
    let e = rejected("a2 a2a2", &Type::String);
    assert_eq!(e.kind, ValueErrorKind::InvalidUtf8);
    let e = rejected("81 a2 a2a2 c3", &Type::map(Type::Bool));
    assert_eq!(e.kind, ValueErrorKind::InvalidUtf8);
    let e = rejected("a2 a2a2", &Type::Number);
    assert_eq!(e.kind, ValueErrorKind::InvalidUtf8);
}

#[test]
fn wrong_msgpack_type_is_rejected_with_path() {
    let ty = Type::object([("identity", Type::object([("type", Type::String)]))]);
    let e = rejected(
        &format!("81 a8 {} 81 a4 {} c3", h("identity"), h("type")),
        &ty,
    );
    assert_eq!(e.to_string(), "at identity.type: expected string, got bool");
    let e = rejected("a1 61", &Type::Bool);
    assert_eq!(e.to_string(), "expected bool, got string");
    let e = rejected("c3", &Type::Number);
    assert_eq!(e.to_string(), "expected number, got bool");
    let e = rejected("81 a161 01", &Type::list(Type::Number));
    assert_eq!(e.to_string(), "expected list of number, got map");
    let e = rejected("c4 01 61", &Type::String);
    assert_eq!(e.to_string(), "expected string, got binary");
    let e = rejected("81 01 01", &Type::map(Type::Number));
    assert_eq!(e.to_string(), "expected a string key, got integer");
    let e = rejected(&format!("a3 {}", h("abc")), &Type::Number);
    assert!(matches!(e.kind, ValueErrorKind::InvalidNumber(_)), "{e}");
    let e = rejected("cb 7ff8000000000000", &Type::Number);
    assert!(e.to_string().contains("NaN"), "{e}");
    let e = rejected("c1", &Type::Bool);
    assert!(e.to_string().contains("0xc1"), "{e}");
}

#[test]
fn object_keys_must_match_the_type_exactly() {
    let ty = Type::object([("a", Type::Bool), ("b", Type::Bool)]);
    let e = rejected(&format!("81 a1 {} c3", h("a")), &ty);
    assert_eq!(e.kind, ValueErrorKind::MissingAttribute("b".into()));
    assert_eq!(e.to_string(), "object is missing attribute \"b\"");
    let e = rejected(
        &format!("83 a1 {} c3 a1 {} c3 a2 {} c3", h("a"), h("b"), h("zz")),
        &ty,
    );
    assert_eq!(e.kind, ValueErrorKind::UnsupportedAttribute("zz".into()));
    let e = rejected(&format!("82 a1 {} c3 a1 {} c3", h("a"), h("a")), &ty);
    assert_eq!(e.kind, ValueErrorKind::DuplicateKey("a".into()));
    // go-cty would take an empty map as an empty object; we require the attributes.
    let e = rejected("80", &ty);
    assert_eq!(e.kind, ValueErrorKind::MissingAttribute("a".into()));
    let e = rejected(
        &format!("82 a1 {} 01 a1 {} 02", h("k"), h("k")),
        &Type::map(Type::Number),
    );
    assert_eq!(e.kind, ValueErrorKind::DuplicateKey("k".into()));
}

#[test]
fn tuple_length_must_match() {
    let ty = Type::Tuple(vec![Type::String, Type::Number]);
    let e = rejected("91 a161", &ty);
    assert_eq!(
        e.kind,
        ValueErrorKind::TupleLength {
            expected: 2,
            found: 1
        }
    );
    let e = rejected("93 a161 01 02", &ty);
    assert_eq!(
        e.kind,
        ValueErrorKind::TupleLength {
            expected: 2,
            found: 3
        }
    );
    let e = rejected("90", &ty);
    assert_eq!(
        e.kind,
        ValueErrorKind::TupleLength {
            expected: 2,
            found: 0
        }
    );
}

#[test]
fn nesting_beyond_the_limit_is_rejected() {
    let mut ty = Type::Bool;
    for _ in 0..(MAX_DEPTH + 1) {
        ty = Type::list(ty);
    }
    let mut wire = vec![0x91; MAX_DEPTH + 1];
    wire.push(0xc3);
    let e = msgpack::decode(&wire, &ty).unwrap_err();
    assert_eq!(e.kind, ValueErrorKind::TooDeep { limit: MAX_DEPTH });

    // Exactly at the limit is fine.
    let mut ty = Type::Bool;
    for _ in 0..MAX_DEPTH {
        ty = Type::list(ty);
    }
    let v = msgpack::decode(&wire[1..], &ty).unwrap();
    assert_eq!(msgpack::encode(&v, &ty).unwrap(), &wire[1..]);

    // Dynamic wrappers nest without help from the schema: [["dynamic"], [["dynamic"], ...]].
    let mut wire = Vec::new();
    for _ in 0..100_000 {
        wire.extend(bytes(&format!("92 c4 09 {}", h("\"dynamic\""))));
    }
    wire.push(0xc0);
    let e = msgpack::decode(&wire, &Type::Dynamic).unwrap_err();
    assert_eq!(e.kind, ValueErrorKind::TooDeep { limit: MAX_DEPTH });

    // A deep type description inside a dynamic wrapper.
    let mut type_json = "\"string\"".to_string();
    for _ in 0..200 {
        type_json = format!("[\"list\",{type_json}]");
    }
    let mut wire = vec![0x92, 0xc5];
    wire.extend(u16::try_from(type_json.len()).unwrap().to_be_bytes());
    wire.extend(type_json.as_bytes());
    wire.push(0xc0);
    let e = msgpack::decode(&wire, &Type::Dynamic).unwrap_err();
    assert!(matches!(e.kind, ValueErrorKind::InvalidDynamic(_)), "{e}");

    // Encoding refuses values deeper than the limit as well.
    let mut ty = Type::Bool;
    let mut v = Value::Bool(true);
    for _ in 0..(MAX_DEPTH + 1) {
        ty = Type::list(ty);
        v = Value::List(vec![v]);
    }
    let e = msgpack::encode(&v, &ty).unwrap_err();
    assert_eq!(e.kind, ValueErrorKind::TooDeep { limit: MAX_DEPTH });
}

#[test]
fn extension_payloads_are_checked() {
    // Over 1 KiB: rejected before parsing.
    let mut wire = vec![0xc8];
    wire.extend(1100u16.to_be_bytes());
    wire.push(0x0c);
    wire.push(0x81);
    wire.extend([0x09; 1099]);
    let e = msgpack::decode(&wire, &Type::String).unwrap_err();
    assert_eq!(
        e.kind,
        ValueErrorKind::RefinementTooLarge {
            size: 1100,
            limit: 1024
        }
    );
    // Longer than one byte but not type 12.
    let e = rejected("d5 05 0000", &Type::String);
    assert_eq!(
        e.kind,
        ValueErrorKind::UnsupportedExtension { code: 5, len: 2 }
    );
    // Payloads that are not a map, have a non-integer key, a badly typed value, a refinement
    // the type cannot carry, or end early.
    for (hex_text, ty) in [
        ("d5 0c 9100", Type::String),
        ("c7 03 0c 81 a0 c3", Type::String),
        ("c7 03 0c 81 01 01", Type::String),
        ("c7 03 0c 81 02 c3", Type::String),
        ("c7 04 0c 81 02 a1 61", Type::Number),
        ("c7 05 0c 81 03 92 00 c3", Type::String),
        ("c7 03 0c 81 05 01", Type::String),
        ("c7 03 0c 81 05 ff", Type::list(Type::String)),
        ("c7 04 0c 81 03 91 00", Type::Number),
        ("c7 05 0c 81 03 92 c0 c3", Type::Number),
        ("c7 05 0c 81 02 a2 a2a2", Type::String),
        ("d5 0c 81 01", Type::String),
    ] {
        let e = rejected(hex_text, &ty);
        assert!(
            matches!(
                e.kind,
                ValueErrorKind::InvalidRefinement(_) | ValueErrorKind::InvalidUtf8
            ),
            "{hex_text}: {e}"
        );
    }
}

#[test]
fn dynamic_wrappers_are_checked() {
    let e = rejected("91 c0", &Type::Dynamic);
    assert!(matches!(e.kind, ValueErrorKind::InvalidDynamic(_)), "{e}");
    let e = rejected("92 01 c0", &Type::Dynamic);
    assert!(matches!(e.kind, ValueErrorKind::InvalidDynamic(_)), "{e}");
    let e = rejected(&format!("92 c4 06 {} c0", h("\"text\"")), &Type::Dynamic);
    assert!(e.to_string().contains("bad type"), "{e}");
    let e = rejected("a1 61", &Type::Dynamic);
    assert!(matches!(e.kind, ValueErrorKind::TypeMismatch { .. }), "{e}");
    // The wrapped value must match the wrapped type.
    let e = rejected(&format!("92 c4 08 {} c3", h("\"string\"")), &Type::Dynamic);
    assert_eq!(e.to_string(), "expected string, got bool");
}

#[test]
fn trailing_bytes_are_rejected() {
    let e = rejected("c3 c3", &Type::Bool);
    assert_eq!(e.kind, ValueErrorKind::TrailingBytes { count: 1 });
    let e = rejected("c0 00 00", &Type::String);
    assert_eq!(e.kind, ValueErrorKind::TrailingBytes { count: 2 });
}

#[test]
fn oversized_input_is_rejected() {
    let wire = vec![0u8; MAX_INPUT_BYTES + 1];
    let e = msgpack::decode(&wire, &Type::Number).unwrap_err();
    assert!(
        matches!(e.kind, ValueErrorKind::InputTooLarge { .. }),
        "{e}"
    );
}

#[test]
fn huge_declared_lengths_do_not_allocate() {
    // array32 claiming 4 billion elements, then nothing.
    let e = rejected("dd ffffffff", &Type::list(Type::Bool));
    assert!(matches!(e.kind, ValueErrorKind::Msgpack { .. }), "{e}");
    let e = rejected("df ffffffff", &Type::map(Type::Bool));
    assert!(matches!(e.kind, ValueErrorKind::Msgpack { .. }), "{e}");
    let e = rejected("db ffffffff", &Type::String);
    assert!(matches!(e.kind, ValueErrorKind::Msgpack { .. }), "{e}");
}

#[test]
fn encoding_checks_conformance() {
    let ty = Type::object([("name", Type::String)]);
    let e = msgpack::encode(&Value::object([("name", Value::Bool(true))]), &ty).unwrap_err();
    assert_eq!(e.to_string(), "at name: expected string, got bool");
    let e = msgpack::encode(&Value::object::<String>([]), &ty).unwrap_err();
    assert_eq!(e.kind, ValueErrorKind::MissingAttribute("name".into()));
    let e = msgpack::encode(&s("bare"), &Type::Dynamic).unwrap_err();
    assert!(matches!(e.kind, ValueErrorKind::TypeMismatch { .. }), "{e}");
    let e =
        msgpack::encode(&Value::dynamic(Type::Dynamic, Value::Null), &Type::Dynamic).unwrap_err();
    assert!(matches!(e.kind, ValueErrorKind::InvalidDynamic(_)), "{e}");
    let prefixed_number = Value::unknown_refined(Refinements {
        string_prefix: Some("x".into()),
        ..Refinements::default()
    });
    let e = msgpack::encode(&prefixed_number, &Type::Number).unwrap_err();
    assert!(
        matches!(e.kind, ValueErrorKind::InvalidRefinement(_)),
        "{e}"
    );
}

#[test]
fn no_op_refinements_encode_as_plain_unknown() {
    let r = Refinements {
        number_lower: Some((Number::neg_infinity(), true)),
        number_upper: Some((Number::infinity(), true)),
        ..Refinements::default()
    };
    assert_eq!(
        msgpack::encode(&Value::unknown_refined(r), &Type::Number).unwrap(),
        bytes("d4 00 00")
    );
    let r = Refinements {
        length_lower: Some(0),
        ..Refinements::default()
    };
    assert_eq!(
        msgpack::encode(&Value::unknown_refined(r), &Type::map(Type::String)).unwrap(),
        bytes("d4 00 00")
    );
    // In a dynamic position refinements are never written.
    let r = Refinements {
        not_null: true,
        ..Refinements::default()
    };
    assert_eq!(
        msgpack::encode(&Value::unknown_refined(r), &Type::Dynamic).unwrap(),
        bytes("d4 00 00")
    );
}

#[test]
fn no_op_refinements_decode_as_plain_unknown() {
    // {2: ""} on a string, {5: 0} on a list, {3: [-inf, true]} on a number.
    plain_unknown("c7 03 0c 81 02 a0", &Type::String);
    plain_unknown("c7 03 0c 81 05 00", &Type::list(Type::Bool));
    plain_unknown("c7 0d 0c 81 03 92 cb fff0000000000000 c3", &Type::Number);
}

#[track_caller]
fn plain_unknown(hex_text: &str, ty: &Type) {
    accepted(hex_text, ty, &Value::unknown(), "d4 00 00");
}

#[test]
fn dynamic_value_messages_prefer_msgpack_then_json_then_null() {
    use amlauth::value::decode_dynamic_value;
    let ty = Type::String;
    assert_eq!(
        decode_dynamic_value(&bytes("a1 61"), b"\"b\"", &ty).unwrap(),
        s("a")
    );
    assert_eq!(decode_dynamic_value(&[], b"\"b\"", &ty).unwrap(), s("b"));
    assert_eq!(decode_dynamic_value(&[], &[], &ty).unwrap(), Value::Null);
    assert!(decode_dynamic_value(&bytes("c3"), &[], &ty).is_err());
}
