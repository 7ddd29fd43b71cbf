//! JSON codec (RawState.json, DynamicValue.json): go-cty's rules and our limits.

use std::collections::BTreeMap;

use amlauth::value::{MAX_DEPTH, Number, Type, Value, ValueErrorKind, json};

fn s(v: &str) -> Value {
    Value::string(v)
}

fn num(text: &str) -> Value {
    Value::Number(text.parse().expect("test number"))
}

fn decode(text: &str, ty: &Type) -> Value {
    json::decode(text.as_bytes(), ty).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn encode(v: &Value, ty: &Type) -> String {
    String::from_utf8(json::encode(v, ty).expect("encodes")).unwrap()
}

fn state_type() -> Type {
    Type::object([
        ("id", Type::String),
        ("count", Type::Number),
        ("enabled", Type::Bool),
        ("tags", Type::map(Type::String)),
        ("ids", Type::set(Type::String)),
        (
            "identity",
            Type::list(Type::object([
                ("type", Type::String),
                ("principal_id", Type::String),
            ])),
        ),
        ("pair", Type::Tuple(vec![Type::String, Type::Number])),
        ("extra", Type::Dynamic),
    ])
}

#[test]
fn state_round_trips_with_sorted_keys() {
    let ty = state_type();
    let value = Value::object([
        ("id", s("/subscriptions/x")),
        ("count", Value::number(3)),
        ("enabled", Value::Bool(true)),
        (
            "tags",
            Value::Map(BTreeMap::from([("env".into(), s("prod"))])),
        ),
        ("ids", Value::Set(vec![s("b"), s("a")])),
        (
            "identity",
            Value::List(vec![Value::object([
                ("type", s("SystemAssigned")),
                ("principal_id", Value::Null),
            ])]),
        ),
        ("pair", Value::Tuple(vec![s("p"), num("-1.25")])),
        (
            "extra",
            Value::dynamic(
                Type::list(Type::Bool),
                Value::List(vec![Value::Bool(false)]),
            ),
        ),
    ]);
    let text = encode(&value, &ty);
    assert_eq!(
        text,
        concat!(
            r#"{"count":3,"enabled":true,"extra":{"value":[false],"type":["list","bool"]},"#,
            r#""id":"/subscriptions/x","identity":[{"principal_id":null,"type":"SystemAssigned"}],"#,
            r#""ids":["b","a"],"pair":["p",-1.25],"tags":{"env":"prod"}}"#
        )
    );
    assert_eq!(decode(&text, &ty), value);
}

#[test]
fn missing_attributes_decode_as_null() {
    let ty = state_type();
    let v = decode(r#"{"id":"x"}"#, &ty);
    assert_eq!(v.get_attr("id"), Some(&s("x")));
    for name in [
        "count", "enabled", "tags", "ids", "identity", "pair", "extra",
    ] {
        assert_eq!(v.get_attr(name), Some(&Value::Null), "{name}");
    }
    assert!(v.conforms_to(&ty));
    assert_eq!(decode("null", &ty), Value::Null);
}

#[test]
fn unknown_attributes_are_rejected() {
    let e = json::decode(br#"{"id":"x","legacy":1}"#, &state_type()).unwrap_err();
    assert_eq!(
        e.kind,
        ValueErrorKind::UnsupportedAttribute("legacy".into())
    );
    let e = json::decode(br#"{"identity":[{"type":"x","oops":true}]}"#, &state_type()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "at identity[0]: unsupported attribute \"oops\""
    );
}

#[test]
fn numbers_keep_full_precision() {
    let big = "123456789012345678901234567890.000000000000000000001";
    assert_eq!(decode(big, &Type::Number), num(big));
    assert_eq!(decode(&format!("\"{big}\""), &Type::Number), num(big));
    assert_eq!(encode(&num(big), &Type::Number), big);
    assert_eq!(decode("0.1", &Type::Number), num("0.1"));
    assert_ne!(
        decode("0.1", &Type::Number),
        Value::Number(Number::from_f64(0.1).unwrap())
    );
    assert_eq!(decode("1e3", &Type::Number), Value::number(1000));
    assert_eq!(decode("-0", &Type::Number), Value::number(0));
    assert_eq!(
        encode(&num("1e21"), &Type::Number),
        "1000000000000000000000"
    );
    let e = json::decode(b"\"twelve\"", &Type::Number).unwrap_err();
    assert!(matches!(e.kind, ValueErrorKind::InvalidNumber(_)), "{e}");
    assert!(
        !e.to_string().contains("twelve"),
        "errors do not echo input: {e}"
    );
    let e = json::decode(b"1e999999", &Type::Number).unwrap_err();
    assert!(matches!(e.kind, ValueErrorKind::InvalidNumber(_)), "{e}");
}

#[test]
fn primitive_conversions_follow_go_cty() {
    assert_eq!(decode("12.50", &Type::String), s("12.50"));
    assert_eq!(decode("true", &Type::String), s("true"));
    assert_eq!(decode("\"true\"", &Type::Bool), Value::Bool(true));
    assert_eq!(decode("\"0\"", &Type::Bool), Value::Bool(false));
    let e = json::decode(b"\"yes\"", &Type::Bool).unwrap_err();
    assert!(matches!(e.kind, ValueErrorKind::TypeMismatch { .. }), "{e}");
    let e = json::decode(b"1", &Type::Bool).unwrap_err();
    assert_eq!(e.to_string(), "expected bool, got number");
    let e = json::decode(b"[]", &Type::String).unwrap_err();
    assert_eq!(e.to_string(), "expected string, got array");
}

#[test]
fn dynamic_values_carry_their_type() {
    let v = decode(r#"{"type":"string","value":"hi"}"#, &Type::Dynamic);
    assert_eq!(v, Value::dynamic(Type::String, s("hi")));
    let v = decode(r#"{"value":null,"type":"number"}"#, &Type::Dynamic);
    assert_eq!(v, Value::dynamic(Type::Number, Value::Null));
    assert_eq!(
        encode(&v, &Type::Dynamic),
        r#"{"value":null,"type":"number"}"#
    );
    assert_eq!(decode("null", &Type::Dynamic), Value::Null);
    for bad in [
        r#"{"value":"hi"}"#,
        r#"{"type":"string"}"#,
        r#"{"type":"string","value":"hi","other":1}"#,
        r#"{"type":"text","value":"hi"}"#,
        r#"{"type":"string","value":[1]}"#,
        r#""hi""#,
    ] {
        assert!(
            json::decode(bad.as_bytes(), &Type::Dynamic).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn unknowns_and_infinities_cannot_be_encoded() {
    let ty = Type::object([("a", Type::list(Type::String))]);
    let v = Value::object([("a", Value::List(vec![s("x"), Value::unknown()]))]);
    let e = json::encode(&v, &ty).unwrap_err();
    assert_eq!(
        e.to_string(),
        "at a[1]: unknown values cannot be encoded as JSON"
    );
    let e = json::encode(&Value::Number(Number::infinity()), &Type::Number).unwrap_err();
    assert_eq!(e.kind, ValueErrorKind::InfinityInJson);
    let e = json::encode(&Value::unknown(), &Type::Dynamic).unwrap_err();
    assert_eq!(e.kind, ValueErrorKind::UnknownInJson);
}

#[test]
fn malformed_json_is_rejected() {
    for bad in [
        "",
        "{",
        "[1,]",
        "{\"a\":1}x",
        "nul",
        "\"\\ud800\"",
        "01",
        "[1] [2]",
    ] {
        let e = json::decode(bad.as_bytes(), &Type::list(Type::Number));
        assert!(e.is_err(), "{bad:?} should be rejected");
    }
    let e = json::decode(b"true false", &Type::Bool).unwrap_err();
    assert!(matches!(e.kind, ValueErrorKind::Json(_)), "{e}");
    let e = json::decode(&[b'"', 0xff, b'"'], &Type::String).unwrap_err();
    assert!(matches!(e.kind, ValueErrorKind::Json(_)), "{e}");
}

#[test]
fn duplicates_tuples_and_depth_are_checked() {
    let e = json::decode(br#"{"a":1,"a":2}"#, &Type::map(Type::Number)).unwrap_err();
    assert_eq!(e.kind, ValueErrorKind::DuplicateKey("a".into()));
    let tuple = Type::Tuple(vec![Type::String, Type::Number]);
    let e = json::decode(br#"["a"]"#, &tuple).unwrap_err();
    assert_eq!(
        e.kind,
        ValueErrorKind::TupleLength {
            expected: 2,
            found: 1
        }
    );

    let mut ty = Type::Bool;
    for _ in 0..(MAX_DEPTH + 1) {
        ty = Type::list(ty);
    }
    let deep = format!(
        "{}true{}",
        "[".repeat(MAX_DEPTH + 1),
        "]".repeat(MAX_DEPTH + 1)
    );
    let e = json::decode(deep.as_bytes(), &ty).unwrap_err();
    assert_eq!(e.kind, ValueErrorKind::TooDeep { limit: MAX_DEPTH });
    // Far deeper than any limit: the tokeniser stops it without recursing.
    let abyss = "[".repeat(1_000_000);
    assert!(json::decode(abyss.as_bytes(), &Type::Dynamic).is_err());
}

#[test]
fn unknown_attributes_can_be_dropped_for_state_upgrades() {
    let ty = Type::object([
        ("name", Type::String),
        ("inner", Type::object([("a", Type::Bool)])),
    ]);
    let old_state = br#"{"name":"n","legacy":{"deep":[1,2]},"inner":{"a":true,"gone":"x"}}"#;
    assert!(json::decode(old_state, &ty).is_err());
    let v = json::decode_ignoring_unknown_attributes(old_state, &ty).unwrap();
    assert_eq!(
        v,
        Value::object([
            ("name", s("n")),
            ("inner", Value::object([("a", Value::Bool(true))])),
        ])
    );
    // Known attributes are still checked.
    let e = json::decode_ignoring_unknown_attributes(br#"{"name":[1]}"#, &ty).unwrap_err();
    assert_eq!(e.to_string(), "at name: expected string, got array");
}
