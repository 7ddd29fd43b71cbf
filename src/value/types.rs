//! Type JSON (the compact type description Terraform uses in schemas and dynamic values) and
//! small conveniences on [`Type`].

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value as Json;

use super::values::attribute_map;
use super::{MAX_DEPTH, Type, ValueError, ValueErrorKind};

impl Type {
    /// A list of `element`.
    pub fn list(element: Type) -> Self {
        Self::List(Box::new(element))
    }

    /// A set of `element`.
    pub fn set(element: Type) -> Self {
        Self::Set(Box::new(element))
    }

    /// A map of `element`.
    pub fn map(element: Type) -> Self {
        Self::Map(Box::new(element))
    }

    /// An object with the given attributes.
    pub fn object<K: Into<String>>(attributes: impl IntoIterator<Item = (K, Type)>) -> Self {
        Self::Object(attribute_map(attributes))
    }

    /// Whether this is `bool`, `number` or `string`.
    pub fn is_primitive(&self) -> bool {
        matches!(self, Self::Bool | Self::Number | Self::String)
    }

    /// Whether this is a list, set or map (the types with an element type and a length).
    pub fn is_collection(&self) -> bool {
        matches!(self, Self::List(_) | Self::Set(_) | Self::Map(_))
    }

    /// The element type of a list, set or map.
    pub fn element_type(&self) -> Option<&Type> {
        match self {
            Self::List(e) | Self::Set(e) | Self::Map(e) => Some(e),
            _ => None,
        }
    }

    /// The type JSON, e.g. `["object",{"name":"string"}]`.
    pub fn to_json(&self) -> Json {
        match self {
            Self::Bool => Json::from("bool"),
            Self::Number => Json::from("number"),
            Self::String => Json::from("string"),
            Self::Dynamic => Json::from("dynamic"),
            Self::List(e) => Json::Array(vec!["list".into(), e.to_json()]),
            Self::Set(e) => Json::Array(vec!["set".into(), e.to_json()]),
            Self::Map(e) => Json::Array(vec!["map".into(), e.to_json()]),
            // BTreeMap order is byte order, the same order Go writes map keys in.
            Self::Object(attrs) => Json::Array(vec![
                "object".into(),
                Json::Object(
                    attrs
                        .iter()
                        .map(|(k, t)| (k.clone(), t.to_json()))
                        .collect(),
                ),
            ]),
            Self::Tuple(elems) => Json::Array(vec![
                "tuple".into(),
                Json::Array(elems.iter().map(Type::to_json).collect()),
            ]),
        }
    }

    /// The type JSON as compact bytes, the form schemas and dynamic values carry.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        // Serialising a `serde_json::Value` into a Vec cannot fail.
        serde_json::to_vec(&self.to_json()).unwrap_or_default()
    }

    /// Parses type JSON. Accepts (and drops) the optional-attributes list of object types.
    pub fn from_json(json: &Json) -> Result<Self, ValueError> {
        parse_type(json, 0).map_err(|msg| ValueError::at_root(ValueErrorKind::InvalidType(msg)))
    }

    /// Parses type JSON from bytes.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self, ValueError> {
        let json: Json = serde_json::from_slice(bytes)
            .map_err(|e| ValueError::at_root(ValueErrorKind::InvalidType(e.to_string())))?;
        Self::from_json(&json)
    }
}

fn parse_type(json: &Json, depth: usize) -> Result<Type, String> {
    if depth > MAX_DEPTH {
        return Err(format!("nested more than {MAX_DEPTH} levels deep"));
    }
    let items = match json {
        Json::String(name) => {
            return match name.as_str() {
                "bool" => Ok(Type::Bool),
                "number" => Ok(Type::Number),
                "string" => Ok(Type::String),
                "dynamic" => Ok(Type::Dynamic),
                other => Err(format!("unknown primitive type {other:?}")),
            };
        }
        Json::Array(items) => items,
        other => return Err(format!("expected a string or an array, got {other}")),
    };
    let Some((Json::String(kind), args)) = items.split_first() else {
        return Err("a complex type must start with its kind name".into());
    };
    let arity_error = || format!("wrong number of elements in a {kind:?} type");
    match (kind.as_str(), args) {
        ("list", [e]) => Ok(Type::List(Box::new(parse_type(e, depth + 1)?))),
        ("set", [e]) => Ok(Type::Set(Box::new(parse_type(e, depth + 1)?))),
        ("map", [e]) => Ok(Type::Map(Box::new(parse_type(e, depth + 1)?))),
        ("tuple", [Json::Array(elems)]) => elems
            .iter()
            .map(|e| parse_type(e, depth + 1))
            .collect::<Result<_, _>>()
            .map(Type::Tuple),
        ("object", [Json::Object(attrs)]) => parse_attributes(attrs, depth),
        ("object", [Json::Object(attrs), Json::Array(optional)]) => {
            let ty = parse_attributes(attrs, depth)?;
            for name in optional {
                match name {
                    Json::String(n) if attrs.contains_key(n) => {}
                    Json::String(n) => {
                        return Err(format!("optional attribute {n:?} is not an attribute"));
                    }
                    other => {
                        return Err(format!("optional attribute name {other} is not a string"));
                    }
                }
            }
            Ok(ty)
        }
        ("list" | "set" | "map" | "tuple" | "object", _) => Err(arity_error()),
        (other, _) => Err(format!("unknown type kind {other:?}")),
    }
}

fn parse_attributes(attrs: &serde_json::Map<String, Json>, depth: usize) -> Result<Type, String> {
    attrs
        .iter()
        .map(|(name, t)| Ok((name.clone(), parse_type(t, depth + 1)?)))
        .collect::<Result<BTreeMap<_, _>, String>>()
        .map(Type::Object)
}

/// A short human name: `string`, `list of string`, `object`, `tuple`.
impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bool => f.write_str("bool"),
            Self::Number => f.write_str("number"),
            Self::String => f.write_str("string"),
            Self::Dynamic => f.write_str("dynamic"),
            Self::List(e) => write!(f, "list of {e}"),
            Self::Set(e) => write!(f, "set of {e}"),
            Self::Map(e) => write!(f, "map of {e}"),
            Self::Object(_) => f.write_str("object"),
            Self::Tuple(_) => f.write_str("tuple"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn type_json_round_trips() {
        let ty = Type::object([
            ("name", Type::String),
            ("tags", Type::map(Type::String)),
            ("ids", Type::set(Type::Number)),
            ("rules", Type::list(Type::object([("on", Type::Bool)]))),
            ("pair", Type::Tuple(vec![Type::String, Type::Dynamic])),
        ]);
        let json = ty.to_json();
        assert_eq!(
            json,
            json!(["object", {
                "ids": ["set", "number"],
                "name": "string",
                "pair": ["tuple", ["string", "dynamic"]],
                "rules": ["list", ["object", {"on": "bool"}]],
                "tags": ["map", "string"],
            }])
        );
        assert_eq!(Type::from_json(&json).unwrap(), ty);
        assert_eq!(Type::from_json_bytes(&ty.to_json_bytes()).unwrap(), ty);
    }

    #[test]
    fn object_keys_are_written_sorted() {
        let ty = Type::object([("b", Type::String), ("a", Type::Number)]);
        assert_eq!(
            String::from_utf8(ty.to_json_bytes()).unwrap(),
            r#"["object",{"a":"number","b":"string"}]"#
        );
    }

    #[test]
    fn optional_attribute_list_is_accepted() {
        let ty =
            Type::from_json(&json!(["object", {"a": "string", "b": "number"}, ["b"]])).unwrap();
        assert_eq!(ty, Type::object([("a", Type::String), ("b", Type::Number)]));
        let err = Type::from_json(&json!(["object", {"a": "string"}, ["zz"]])).unwrap_err();
        assert!(err.to_string().contains("\"zz\""), "{err}");
    }

    #[test]
    fn invalid_type_json_is_rejected() {
        for bad in [
            json!("text"),
            json!(1),
            json!([]),
            json!(["list"]),
            json!(["list", "string", "string"]),
            json!(["tuple", "string"]),
            json!(["object", ["a"]]),
            json!(["object", {"a": "string"}, "b"]),
            json!(["queue", "string"]),
            json!([1, "string"]),
            json!(null),
        ] {
            let err = Type::from_json(&bad).expect_err(&bad.to_string());
            assert!(matches!(err.kind, ValueErrorKind::InvalidType(_)), "{err}");
        }
        assert!(Type::from_json_bytes(b"[\"list\",").is_err());
    }

    #[test]
    fn deep_type_json_is_rejected_without_overflow() {
        let mut json = json!("string");
        for _ in 0..(MAX_DEPTH + 5) {
            json = json!(["list", json]);
        }
        let err = Type::from_json(&json).unwrap_err();
        assert!(err.to_string().contains("nested"), "{err}");
    }

    #[test]
    fn display_names() {
        assert_eq!(
            Type::list(Type::map(Type::String)).to_string(),
            "list of map of string"
        );
        assert_eq!(Type::object([("a", Type::Bool)]).to_string(), "object");
    }
}
