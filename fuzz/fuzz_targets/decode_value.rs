//! Feeds arbitrary bytes to both value decoders against a few schema types.
//!
//! The first input byte picks the type; the rest is the encoded value. Besides "never panics",
//! it checks that whatever decodes conforms to the type, re-encodes, and that the re-encoded
//! form is stable (encode ∘ decode is idempotent on it).

#![no_main]

use std::sync::LazyLock;

use amlauth::value::{Type, ValueErrorKind, json, msgpack};
use libfuzzer_sys::fuzz_target;

static TYPES: LazyLock<Vec<Type>> = LazyLock::new(|| {
    vec![
        // Shaped like a resource: attributes, a nested block list, a set, a map, a dynamic.
        Type::object([
            ("id", Type::String),
            ("enabled", Type::Bool),
            ("count", Type::Number),
            ("tags", Type::map(Type::String)),
            ("ids", Type::set(Type::String)),
            (
                "identity",
                Type::list(Type::object([
                    ("type", Type::String),
                    ("identity_ids", Type::set(Type::String)),
                ])),
            ),
            ("pair", Type::Tuple(vec![Type::String, Type::Number])),
            ("extra", Type::Dynamic),
        ]),
        Type::Dynamic,
        Type::list(Type::String),
        Type::map(Type::Number),
        Type::Number,
        Type::String,
    ]
});

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let ty = &TYPES[usize::from(selector) % TYPES.len()];

    if let Ok(value) = msgpack::decode(input, ty) {
        assert!(
            value.conforms_to(ty),
            "decoded value does not conform: {value:?}"
        );
        let canonical = msgpack::encode(&value, ty).expect("decoded values re-encode");
        let again = msgpack::decode(&canonical, ty).expect("canonical bytes decode");
        assert_eq!(
            msgpack::encode(&again, ty).expect("re-encodes"),
            canonical,
            "canonical form is not stable"
        );
    }

    if let Ok(value) = json::decode(input, ty) {
        assert!(
            value.conforms_to(ty),
            "decoded value does not conform: {value:?}"
        );
        match json::encode(&value, ty) {
            Ok(text) => {
                let again = json::decode(&text, ty).expect("own JSON decodes");
                assert_eq!(again, value, "JSON round trip changed the value");
            }
            // "inf" number strings are accepted (as in go-cty) but JSON cannot write infinity.
            Err(e) => assert_eq!(e.kind, ValueErrorKind::InfinityInJson),
        }
    }
});
