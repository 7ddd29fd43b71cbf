//! cty types and values as Terraform exchanges them, with msgpack and JSON codecs.
//!
//! This file holds the shared vocabulary (the [`Type`] and [`Value`] trees); the codecs,
//! attribute paths and number handling live in the sibling modules.
//!
//! Contract used by the framework (keep these names stable):
//! - `Type`, `Value`, `Number`, `Refinements`, `AttributePath`, `PathStep`, `ValueError`;
//! - `msgpack::decode(bytes, &Type) -> Result<Value, ValueError>` and
//!   `msgpack::encode(&Value, &Type) -> Result<Vec<u8>, ValueError>`;
//! - `json::decode(bytes, &Type) -> Result<Value, ValueError>` and `json::encode(&Value, &Type)`;
//! - `Type::to_json() -> serde_json::Value` and `Type::from_json(&serde_json::Value)`.

use std::collections::BTreeMap;

/// A cty type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    Bool,
    Number,
    String,
    /// "any type": values carry their concrete type on the wire.
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    /// Attribute name to type. `optional` lists attributes that may be omitted in
    /// config-facing types (only used by function parameters; empty otherwise).
    Object(BTreeMap<String, Type>),
    Tuple(Vec<Type>),
}

/// Refinements Terraform (≥1.6) may attach to an unknown value (msgpack ext type 12).
/// We keep them so a value received as refined can be returned with the same promises.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Refinements {
    /// `Some(false)`: the value is known to be non-null once known.
    pub nullable: Option<bool>,
    pub string_prefix: Option<String>,
    /// `(bound, inclusive)`.
    pub number_lower: Option<(Number, bool)>,
    pub number_upper: Option<(Number, bool)>,
    pub length_lower: Option<u64>,
    pub length_upper: Option<u64>,
}

impl Refinements {
    pub fn is_empty(&self) -> bool {
        self == &Refinements::default()
    }
}

/// A cty value. The tree is untyped; codecs take the [`Type`] alongside.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Unknown(Refinements),
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    /// Set elements, kept in the order received; equality of sets ignores order.
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
    Tuple(Vec<Value>),
    /// A known value of a `Dynamic`-typed attribute, with the concrete type it carries.
    Dynamic(Box<Type>, Box<Value>),
}

mod number;
pub use number::Number;
