//! cty types and values as Terraform exchanges them, with msgpack and JSON codecs.
//!
//! This file holds the shared vocabulary (the [`Type`] and [`Value`] trees and the limits);
//! the codecs, attribute paths, numbers and value helpers live in the sibling modules.
//!
//! Contract used by the framework (keep these names stable):
//! - `Type`, `Value`, `Number`, `Refinements`, `AttributePath`, `PathStep`, `ValueError`;
//! - `msgpack::decode(bytes, &Type) -> Result<Value, ValueError>` and
//!   `msgpack::encode(&Value, &Type) -> Result<Vec<u8>, ValueError>`;
//! - `json::decode(bytes, &Type) -> Result<Value, ValueError>` and `json::encode(&Value, &Type)`;
//! - `Type::to_json() -> serde_json::Value` and `Type::from_json(&serde_json::Value)`.
//!
//! The value tree is untyped: a [`Value`] is only meaningful next to the [`Type`] it was decoded
//! with. Every codec walks both together, so decoding and encoding double as type checks.

use std::collections::BTreeMap;

mod decode;
mod error;
pub mod json;
pub mod msgpack;
mod number;
pub mod path;
mod types;
mod values;

pub use error::{ValueError, ValueErrorKind};
pub use number::{MAX_NUMBER_EXPONENT, MAX_NUMBER_TEXT, Number, ParseNumberError};
pub use path::{AttributePath, PathStep};

/// Deepest nesting of collections, structures and dynamic wrappers the codecs accept.
///
/// Terraform schemas nest two levels per nested block (a list of objects), so real values stay far
/// below this; the limit exists so hostile input cannot exhaust the stack.
pub const MAX_DEPTH: usize = 64;

/// Largest encoded value (msgpack or JSON) the decoders accept, in bytes.
pub const MAX_INPUT_BYTES: usize = 64 * 1024 * 1024;

/// Largest refinement payload of an unknown value, in bytes (the limit go-cty enforces).
pub const MAX_REFINEMENT_BYTES: usize = 1024;

/// Decodes a protocol `DynamicValue` the way Terraform reads one: msgpack when present, else
/// JSON when present, else null (an absent or empty message means null).
pub fn decode_dynamic_value(
    msgpack_bytes: &[u8],
    json_bytes: &[u8],
    ty: &Type,
) -> Result<Value, ValueError> {
    if !msgpack_bytes.is_empty() {
        msgpack::decode(msgpack_bytes, ty)
    } else if !json_bytes.is_empty() {
        json::decode(json_bytes, ty)
    } else {
        Ok(Value::Null)
    }
}

/// A cty type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    Bool,
    Number,
    String,
    /// "any type": values carry their concrete type on the wire.
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    /// Attribute name to type. Optional-attribute markers (the third element of the type JSON,
    /// used only for function parameters) are accepted on input and not kept.
    Object(BTreeMap<String, Type>),
    Tuple(Vec<Type>),
}

/// Promises Terraform (≥1.6) may attach to an unknown value (msgpack extension type 12).
///
/// We keep them so a value received as refined can be returned with the same promises; a
/// refinement returned in a plan binds the apply result. Which fields apply depends on the type:
/// `string_prefix` for strings, the number bounds for numbers, the length bounds for lists, sets
/// and maps; `not_null` for every type except dynamic.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Refinements {
    /// The value will not be null once known.
    pub not_null: bool,
    /// The known value will start with this prefix.
    pub string_prefix: Option<String>,
    /// Lower bound of the number, with whether it is inclusive.
    pub number_lower: Option<(Number, bool)>,
    /// Upper bound of the number, with whether it is inclusive.
    pub number_upper: Option<(Number, bool)>,
    /// Inclusive lower bound of the collection length.
    pub length_lower: Option<u64>,
    /// Inclusive upper bound of the collection length.
    pub length_upper: Option<u64>,
}

impl Refinements {
    /// True when no refinement is present (the value is wholly unknown).
    pub fn is_empty(&self) -> bool {
        self == &Refinements::default()
    }
}

/// A cty value. The tree is untyped; codecs take the [`Type`] alongside.
///
/// Equality and ordering are semantic: set elements compare regardless of order, numbers
/// regardless of trailing zeros.
#[derive(Debug, Clone)]
pub enum Value {
    /// Null of whatever type the position has.
    Null,
    /// Not known until apply. Boxed so unrefined unknowns (the common case) stay small.
    Unknown(Box<Refinements>),
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    /// Set elements, kept in the order received; equality of sets ignores order.
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
    Tuple(Vec<Value>),
    /// A value of a `Dynamic`-typed position, with the concrete type it carries. The inner value
    /// may itself be null or unknown (a null string is not the same as an untyped null).
    Dynamic(Box<Type>, Box<Value>),
}
