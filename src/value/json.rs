//! The JSON form of values (`DynamicValue.json`, `RawState.json`), following go-cty's
//! `cty/json`.
//!
//! Decoding is looser than msgpack, as in go-cty: missing object attributes become null,
//! numbers may be strings, strings may be numbers or bools, bools may be `"true"`/`"false"`/
//! `"1"`/`"0"`. Unknown attributes are rejected. JSON has no unknown values, so encoding one is
//! an error. Numbers keep full precision: the input is tokenised with `struson`, which hands
//! numbers over as text instead of rounding them through `f64`.
//! Deviation from go-cty: duplicate keys are rejected instead of the last one winning.

use serde_json::Value as Json;
use struson::reader::{JsonReader, JsonStreamReader, ReaderError, ReaderSettings, ValueType};

use super::decode::{self, Source};
use super::error::Walk;
use super::path::PathStep;
use super::values::index_step;
use super::{
    MAX_DEPTH, MAX_INPUT_BYTES, Number, ParseNumberError, Type, Value, ValueError, ValueErrorKind,
};

/// Decodes JSON `bytes` as a value of type `ty`.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, ValueError> {
    decode_with(bytes, ty, false)
}

/// Like [`decode()`], but object attributes the type does not have are dropped instead of
/// rejected. Meant for `UpgradeResourceState` when the stored schema version differs from the
/// current one, where Terraform leaves attributes of the old schema in place.
pub fn decode_ignoring_unknown_attributes(bytes: &[u8], ty: &Type) -> Result<Value, ValueError> {
    decode_with(bytes, ty, true)
}

fn decode_with(bytes: &[u8], ty: &Type, ignore_unknown: bool) -> Result<Value, ValueError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(ValueError::at_root(ValueErrorKind::InputTooLarge {
            size: bytes.len(),
            limit: MAX_INPUT_BYTES,
        }));
    }
    let raw = parse(bytes).map_err(|e| ValueError::at_root(ValueErrorKind::Json(e.to_string())))?;
    Converter {
        walk: Walk::default(),
        ignore_unknown,
    }
    .value(raw, ty)
}

/// Encodes `value` as JSON for type `ty`, after checking it conforms
/// (see [`Value::check_type`]). Fails on unknown values and infinities.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, ValueError> {
    value.check_type(ty)?;
    let mut encoder = Encoder {
        out: String::new(),
        path: Vec::new(),
    };
    encoder.value(value, ty)?;
    Ok(encoder.out.into_bytes())
}

/// A parsed JSON document whose numbers are kept as their source text.
enum Raw {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Raw>),
    /// Members in input order, duplicates included (the converter rejects them).
    Object(Vec<(String, Raw)>),
}

impl Raw {
    fn describe(&self) -> &'static str {
        match self {
            Raw::Null => "null",
            Raw::Bool(_) => "bool",
            Raw::Number(_) => "number",
            Raw::String(_) => "string",
            Raw::Array(_) => "array",
            Raw::Object(_) => "object",
        }
    }

    /// The same document as a `serde_json::Value` (for type descriptions).
    fn into_json(self) -> Json {
        match self {
            Raw::Null => Json::Null,
            Raw::Bool(b) => Json::Bool(b),
            Raw::Number(text) => text
                .parse::<serde_json::Number>()
                .map_or(Json::String(text), Json::Number),
            Raw::String(s) => Json::String(s),
            Raw::Array(items) => Json::Array(items.into_iter().map(Raw::into_json).collect()),
            Raw::Object(members) => Json::Object(
                members
                    .into_iter()
                    .map(|(k, v)| (k, v.into_json()))
                    .collect(),
            ),
        }
    }
}

fn parse(bytes: &[u8]) -> Result<Raw, ReaderError> {
    let settings = ReaderSettings {
        // Dynamic wrappers add one object level per value level; the converter enforces
        // MAX_DEPTH on values precisely.
        max_nesting_depth: Some(u32::try_from(2 * MAX_DEPTH + 2).unwrap_or(u32::MAX)),
        // Number size is bounded by our own parser (it must admit exact float expansions).
        restrict_number_values: false,
        ..ReaderSettings::default()
    };
    let mut reader = JsonStreamReader::new_custom(bytes, settings);
    let raw = read_raw(&mut reader)?;
    reader.consume_trailing_whitespace()?;
    Ok(raw)
}

/// Reads one value; recursion is bounded by the reader's nesting limit.
fn read_raw<R: std::io::Read>(reader: &mut JsonStreamReader<R>) -> Result<Raw, ReaderError> {
    Ok(match reader.peek()? {
        ValueType::Null => {
            reader.next_null()?;
            Raw::Null
        }
        ValueType::Boolean => Raw::Bool(reader.next_bool()?),
        ValueType::Number => Raw::Number(reader.next_number_as_string()?),
        ValueType::String => Raw::String(reader.next_string()?),
        ValueType::Array => {
            reader.begin_array()?;
            let mut items = Vec::new();
            while reader.has_next()? {
                items.push(read_raw(reader)?);
            }
            reader.end_array()?;
            Raw::Array(items)
        }
        ValueType::Object => {
            reader.begin_object()?;
            let mut members = Vec::new();
            while reader.has_next()? {
                let name = reader.next_name_owned()?;
                members.push((name, read_raw(reader)?));
            }
            reader.end_object()?;
            Raw::Object(members)
        }
    })
}

/// Number text to a number; syntax errors do not echo the text, which may be a secret that
/// landed in the wrong attribute.
fn parse_number(text: &str) -> Result<Number, ValueErrorKind> {
    text.parse::<Number>().map_err(|e| {
        ValueErrorKind::InvalidNumber(match e {
            ParseNumberError::Syntax(_) => "the text is not a decimal number".into(),
            other => other.to_string(),
        })
    })
}

struct Converter {
    walk: Walk,
    /// Drop, rather than reject, object attributes the type does not have.
    ignore_unknown: bool,
}

impl Source for Converter {
    type Item = Raw;
    type Members = std::vec::IntoIter<(String, Raw)>;

    fn walk(&mut self) -> &mut Walk {
        &mut self.walk
    }

    fn value(&mut self, raw: Raw, ty: &Type) -> Result<Value, ValueError> {
        if let Raw::Null = raw {
            return Ok(Value::Null);
        }
        if *ty == Type::Dynamic {
            return self.dynamic(raw);
        }
        match (ty, raw) {
            (Type::Bool, Raw::Bool(b)) => Ok(Value::Bool(b)),
            (Type::Bool, Raw::String(s)) => match s.as_str() {
                "true" | "1" => Ok(Value::Bool(true)),
                "false" | "0" => Ok(Value::Bool(false)),
                _ => Err(ValueError::mismatch(
                    &self.walk.path,
                    "bool",
                    "a string other than \"true\" or \"false\"",
                )),
            },
            (Type::Number, Raw::Number(text) | Raw::String(text)) => parse_number(&text)
                .map(Value::Number)
                .map_err(|kind| self.walk.fail(kind)),
            (Type::String, Raw::String(s) | Raw::Number(s)) => Ok(Value::String(s)),
            (Type::String, Raw::Bool(b)) => Ok(Value::String(b.to_string())),
            (ty, Raw::Array(items)) => decode::array(self, ty, items.into_iter()),
            (ty, Raw::Object(members)) => decode::members(self, ty, members.into_iter(), "object"),
            (ty, raw) => Err(ValueError::mismatch(
                &self.walk.path,
                ty.to_string(),
                raw.describe(),
            )),
        }
    }

    fn next_member(
        &mut self,
        members: &mut Self::Members,
    ) -> Result<Option<(String, Raw)>, ValueError> {
        Ok(members.next())
    }

    fn unknown_attribute(&mut self, name: String, _: Raw) -> Result<(), ValueError> {
        if self.ignore_unknown {
            return Ok(());
        }
        Err(self.walk.fail(ValueErrorKind::UnsupportedAttribute(name)))
    }

    /// Missing attributes are null, as in go-cty.
    fn missing_attribute(&mut self, _: &str) -> Result<Value, ValueError> {
        Ok(Value::Null)
    }
}

impl Converter {
    /// `{"value": ..., "type": ...}`, in either order.
    fn dynamic(&mut self, raw: Raw) -> Result<Value, ValueError> {
        let Raw::Object(members) = raw else {
            return Err(ValueError::mismatch(
                &self.walk.path,
                "a {\"value\", \"type\"} object for a dynamic value",
                raw.describe(),
            ));
        };
        let invalid = |c: &Self, msg: String| c.walk.fail(ValueErrorKind::InvalidDynamic(msg));
        self.walk.enter()?;
        let (mut type_json, mut value) = (None, None);
        for (key, item) in members {
            let slot = match key.as_str() {
                "type" => &mut type_json,
                "value" => &mut value,
                _ => return Err(invalid(self, format!("unexpected key {key:?}"))),
            };
            if slot.replace(item).is_some() {
                return Err(self.walk.fail(ValueErrorKind::DuplicateKey(key)));
            }
        }
        let Some(type_json) = type_json else {
            return Err(invalid(self, "missing \"type\"".into()));
        };
        let Some(value) = value else {
            return Err(invalid(self, "missing \"value\"".into()));
        };
        let ty = Type::from_json(&type_json.into_json())
            .map_err(|e| invalid(self, format!("bad type: {}", e.kind)))?;
        let inner = self.value(value, &ty)?;
        self.walk.leave();
        Ok(decode::dynamic(ty, inner))
    }
}

struct Encoder {
    out: String,
    path: Vec<PathStep>,
}

impl Encoder {
    fn fail(&self, kind: ValueErrorKind) -> ValueError {
        ValueError::at(&self.path, kind)
    }

    fn string(&mut self, s: &str) -> Result<(), ValueError> {
        let quoted =
            serde_json::to_string(s).map_err(|e| self.fail(ValueErrorKind::Json(e.to_string())))?;
        self.out.push_str(&quoted);
        Ok(())
    }

    fn child(&mut self, step: PathStep, v: &Value, ty: &Type) -> Result<(), ValueError> {
        self.path.push(step);
        let result = self.value(v, ty);
        self.path.pop();
        result
    }

    /// Writes a list, set or tuple: each item with its type.
    fn array<'v>(
        &mut self,
        items: impl Iterator<Item = (&'v Value, &'v Type)>,
    ) -> Result<(), ValueError> {
        self.out.push('[');
        for (i, (item, ty)) in items.enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.child(index_step(i), item, ty)?;
        }
        self.out.push(']');
        Ok(())
    }

    /// Writes a map or object: each member's name and value with its type; `step` makes the
    /// member's path step from its name.
    fn members<'v>(
        &mut self,
        step: fn(String) -> PathStep,
        members: impl Iterator<Item = (&'v String, &'v Value, &'v Type)>,
    ) -> Result<(), ValueError> {
        self.out.push('{');
        for (i, (name, item, ty)) in members.enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.string(name)?;
            self.out.push(':');
            self.child(step(name.clone()), item, ty)?;
        }
        self.out.push('}');
        Ok(())
    }

    fn value(&mut self, v: &Value, ty: &Type) -> Result<(), ValueError> {
        match (ty, v) {
            (_, Value::Unknown(_)) => return Err(self.fail(ValueErrorKind::UnknownInJson)),
            (_, Value::Null) => self.out.push_str("null"),
            (Type::Dynamic, Value::Dynamic(inner_ty, inner)) => {
                self.out.push_str("{\"value\":");
                self.value(inner, inner_ty)?;
                self.out.push_str(",\"type\":");
                let type_json = inner_ty.to_json().to_string();
                self.out.push_str(&type_json);
                self.out.push('}');
            }
            (Type::Bool, Value::Bool(b)) => self.out.push_str(if *b { "true" } else { "false" }),
            (Type::Number, Value::Number(n)) => {
                if n.is_infinite() {
                    return Err(self.fail(ValueErrorKind::InfinityInJson));
                }
                self.out.push_str(&n.to_string());
            }
            (Type::String, Value::String(s)) => self.string(s)?,
            (Type::List(ety), Value::List(items)) | (Type::Set(ety), Value::Set(items)) => {
                self.array(items.iter().map(|item| (item, &**ety)))?;
            }
            (Type::Tuple(etys), Value::Tuple(items)) if etys.len() == items.len() => {
                self.array(items.iter().zip(etys))?;
            }
            (Type::Map(ety), Value::Map(entries)) => {
                let members = entries.iter().map(|(key, item)| (key, item, &**ety));
                self.members(PathStep::ElementKeyString, members)?;
            }
            (Type::Object(attrs), Value::Object(values)) => {
                if let Some(missing) = attrs.keys().find(|name| !values.contains_key(*name)) {
                    return Err(self.fail(ValueErrorKind::MissingAttribute(missing.clone())));
                }
                let members = attrs
                    .iter()
                    .filter_map(|(name, aty)| Some((name, values.get(name)?, aty)));
                self.members(PathStep::Attribute, members)?;
            }
            (ty, other) => {
                return Err(ValueError::mismatch(
                    &self.path,
                    ty.to_string(),
                    other.kind_name(),
                ));
            }
        }
        Ok(())
    }
}
